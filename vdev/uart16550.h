/* The guest's COM1: a 16550A UART (TI PC16550D data sheet) at 0x3F8, IRQ 4. Transmission is
 * instant (THR is always empty again at once); received bytes wait in a 16-byte FIFO. */
#ifndef KEEL_VDEV_UART16550_H
#define KEEL_VDEV_UART16550_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/vdev.h"

#define UART_COM1_BASE 0x3F8
#define UART_COM1_GSI 4
#define UART_FIFO_SIZE 16
#define UART_TX_LINE 128 /* bytes kept until a line end before they are handed out anyway */

struct uart16550 {
	const struct vdev_env *env;
	uint16_t base;
	unsigned gsi;
	bool irq_level;
	uint8_t ier, fcr, lcr, mcr, lsr_err, msr, scr, dll, dlm;
	bool thre_pending; /* the THRE interrupt: THR emptied, not yet acknowledged */
	uint8_t rx[UART_FIFO_SIZE];
	uint8_t rx_head, rx_count;
	uint8_t tx[UART_TX_LINE];
	uint8_t tx_len;
};

void uart_init(struct uart16550 *u, const struct vdev_env *env, uint16_t base, unsigned gsi);
void uart_reset(struct uart16550 *u);
int uart_register(struct uart16550 *u, struct io_bus *bus);
/* A byte from the console for the guest. False when the FIFO is full (the byte is lost and the
 * guest sees an overrun); feed at the guest's pace with uart_can_receive(). */
bool uart_receive(struct uart16550 *u, uint8_t byte);
bool uart_can_receive(const struct uart16550 *u);
/* Hands out what the guest wrote that is still waiting for its line end. */
void uart_flush(struct uart16550 *u);

/* Register access for tests and the bus: offset 0-7 from the base. */
uint8_t uart_read(struct uart16550 *u, unsigned offset);
void uart_write(struct uart16550 *u, unsigned offset, uint8_t val);

#endif
