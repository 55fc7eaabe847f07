/* Polled driver for the host's 16550 UART (register map: TI PC16550D data sheet, table 3). */
#include "drivers/uart16550.h"

#include "arch/x86/cpu.h"

#define UART_THR 0 /* transmit holding (write), receive buffer (read) */
#define UART_IER 1
#define UART_FCR 2
#define UART_LCR 3
#define UART_MCR 4
#define UART_LSR 5
#define UART_DLL 0 /* divisor latch, when LCR.DLAB = 1 */
#define UART_DLM 1
#define LCR_8N1 0x03
#define LCR_DLAB 0x80
#define LSR_DATA_READY 0x01
#define LSR_THR_EMPTY 0x20

static uint16_t uart_base;

void host_uart_init(uint16_t base)
{
	uart_base = base;
	outb(base + UART_IER, 0); /* polled: no interrupts */
	outb(base + UART_LCR, LCR_DLAB);
	outb(base + UART_DLL, 1); /* 115200 baud */
	outb(base + UART_DLM, 0);
	outb(base + UART_LCR, LCR_8N1);
	outb(base + UART_FCR, 0x07); /* FIFOs on and cleared */
	outb(base + UART_MCR, 0x03); /* DTR, RTS */
}

static void put_byte(uint8_t c)
{
	/* bounded wait: a missing UART must not hang keel */
	for (unsigned spins = 0; spins < 100000; spins++)
		if (inb(uart_base + UART_LSR) & LSR_THR_EMPTY)
			break;
	outb(uart_base + UART_THR, c);
}

void host_uart_write(const char *s, size_t n)
{
	if (!uart_base)
		return;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '\n')
			put_byte('\r');
		put_byte((uint8_t)s[i]);
	}
}

int host_uart_read(void)
{
	if (!uart_base || !(inb(uart_base + UART_LSR) & LSR_DATA_READY))
		return -1;
	return inb(uart_base + UART_THR);
}
