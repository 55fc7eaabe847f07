/* The guest UART: Linux's 8250 autoconfig probe, THRE interrupt semantics, the RX FIFO, output
 * line buffering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/uart16550.h"

static struct fake_vm vm;
static struct vuart16550 u;
static struct io_bus bus;

enum { RBR = 0, IER = 1, IIR = 2, FCR = 2, LCR = 3, MCR = 4, LSR = 5, MSR = 6, SCR = 7 };

static uint8_t in(unsigned reg)
{
	uint32_t v;
	assert_int_equal(io_bus_read(&bus, (uint16_t)(VUART_COM1_BASE + reg), 1, &v), 0);
	return (uint8_t)v;
}

static void out(unsigned reg, uint8_t v)
{
	assert_int_equal(io_bus_write(&bus, (uint16_t)(VUART_COM1_BASE + reg), 1, v), 0);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&bus, &vm.env);
	vuart_init(&u, &vm.env, VUART_COM1_BASE, VUART_COM1_GSI);
	assert_int_equal(vuart_register(&u, &bus), 0);
	return 0;
}

/* drivers/tty/serial/8250/8250_port.c autoconfig() and autoconfig_16550a(), in order. */
static void linux_autoconfig_finds_16550a(void **state)
{
	(void)state;
	/* IER test: only bits 0-3 exist */
	uint8_t save_ier = in(IER);
	out(IER, 0);
	assert_int_equal(in(IER)&0x0F, 0);
	out(IER, 0x0F);
	assert_int_equal(in(IER)&0x0F, 0x0F);
	out(IER, 0xFF);
	assert_int_equal(in(IER), 0x0F);
	out(IER, save_ier);
	/* scratch register */
	out(SCR, 0x55);
	assert_int_equal(in(SCR), 0x55);
	out(SCR, 0xAA);
	assert_int_equal(in(SCR), 0xAA);
	/* loopback: MCR = LOOP | OUT2 | RTS must read MSR status 0x90 (DCD, CTS) */
	uint8_t save_mcr = in(MCR), save_lcr = in(LCR);
	out(MCR, 0x1A);
	assert_int_equal(in(MSR)&0xF0, 0x90);
	out(MCR, save_mcr);
	/* EFR probe with LCR 0xBF then FIFO detection through IIR bits 6-7 */
	out(LCR, 0xBF);
	out(2, 0);
	out(LCR, 0);
	out(FCR, 0x01);
	assert_int_equal(in(IIR) >> 6, 3);
	/* 16550A variants: IIR (as EFR) with LCR 0x80 and 0xBF must not read 0 */
	out(LCR, 0x80);
	assert_int_not_equal(in(2), 0);
	out(LCR, 0xBF);
	assert_int_not_equal(in(2), 0);
	/* NS SuperIO: IIR bit 4 never follows MCR.LOOP */
	out(LCR, 0);
	uint8_t s1 = in(MCR);
	out(LCR, 0xE0);
	uint8_t s2 = in(2);
	assert_int_equal((s1 ^ s2) & 0x10, 0);
	out(LCR, 0);
	out(MCR, s1 ^ 0x10);
	out(LCR, 0xE0);
	s2 = in(2);
	out(LCR, 0);
	out(MCR, s1);
	assert_int_equal((s1 ^ s2) & 0x10, 0); /* not an NS chip */
	/* TI16750: IIR bit 5 stays clear with and without DLAB */
	out(FCR, 0x21);
	assert_int_equal(in(IIR) >> 5, 6);
	out(LCR, 0x80);
	out(FCR, 0x21);
	assert_int_equal(in(IIR) >> 5, 6);
	out(FCR, 0x01);
	out(LCR, 0);
	/* XScale: IER bit 6 does not stick */
	out(IER, 0x40);
	assert_int_equal(in(IER)&0x40, 0);
	out(LCR, save_lcr);
	/* serial8250_do_startup: LSR must not read 0xFF */
	assert_int_not_equal(in(LSR), 0xFF);
}

static void divisor_latch(void **state)
{
	(void)state;
	out(LCR, 0x83);
	out(0, 0x01);
	out(1, 0x00);
	assert_int_equal(in(0), 1);
	assert_int_equal(in(1), 0);
	out(LCR, 0x03);
	assert_int_equal(vm.out_len, 0); /* DLL writes are not output */
	assert_int_equal(in(IER), 0);
}

static void thre_interrupt(void **state)
{
	(void)state;
	out(MCR, 0x0B); /* DTR RTS OUT2: the IRQ line is connected */
	assert_int_equal(in(IIR)&0x0F, 0x01);
	out(IER, 0x02);
	assert_true(vm.irq[4]);
	assert_int_equal(in(IIR), 0x02);
	/* reading IIR acknowledged it */
	assert_false(vm.irq[4]);
	assert_int_equal(in(IIR), 0x01);
	/* Linux's THRE test: IER 0 then THRI again raises it again */
	out(IER, 0);
	out(IER, 0x02);
	assert_int_equal(in(IIR)&0x0F, 0x02);
	/* each byte written empties THR at once and raises THRE */
	out(RBR, 'x');
	assert_true(vm.irq[4]);
	assert_int_equal(in(LSR)&0x60, 0x60);
	out(IER, 0);
	assert_false(vm.irq[4]);
	/* without OUT2 the line stays low even with an interrupt pending */
	out(MCR, 0x03);
	out(IER, 0x02);
	assert_false(vm.irq[4]);
	assert_int_equal(in(IIR)&0x0F, 0x02);
}

static void rx_fifo(void **state)
{
	(void)state;
	out(MCR, 0x08);
	out(FCR, 0x87); /* FIFO on, cleared, trigger 8 */
	out(IER, 0x01);
	assert_false(vm.irq[4]);
	assert_true(vuart_receive(&u, 'a'));
	/* below the trigger: character timeout */
	assert_int_equal(in(IIR), 0xCC);
	assert_true(vm.irq[4]);
	for (int i = 1; i < 8; i++)
		assert_true(vuart_receive(&u, (uint8_t)('a' + i)));
	assert_int_equal(in(IIR), 0xC4);
	for (int i = 8; i < VUART_FIFO_SIZE; i++)
		assert_true(vuart_receive(&u, (uint8_t)('a' + i)));
	assert_false(vuart_can_receive(&u));
	assert_false(vuart_receive(&u, '!'));
	assert_int_equal(in(LSR)&0x03, 0x03); /* DR, OE */
	assert_int_equal(in(LSR)&0x03, 0x01); /* OE cleared by the read */
	for (int i = 0; i < VUART_FIFO_SIZE; i++)
		assert_int_equal(in(RBR), 'a' + i);
	assert_int_equal(in(LSR)&0x01, 0);
	assert_false(vm.irq[4]);
	assert_int_equal(in(IIR), 0xC1);
	/* line status interrupt on overrun, highest priority */
	out(IER, 0x05);
	out(FCR, 0); /* FIFO off: one byte holds */
	assert_true(vuart_receive(&u, '1'));
	assert_false(vuart_receive(&u, '2'));
	assert_int_equal(in(IIR), 0x06);
	in(LSR);
	assert_int_equal(in(IIR), 0x04);
	assert_int_equal(in(RBR), '1');
	assert_int_equal(in(RBR), 0); /* empty */
}

static void loopback_data_and_msr_deltas(void **state)
{
	(void)state;
	out(MCR, 0x10);
	assert_int_equal(in(MSR)&0xF0, 0x00);
	out(RBR, 'Q');
	assert_int_equal(vm.out_len, 0);
	assert_int_equal(in(LSR)&1, 1);
	assert_int_equal(in(RBR), 'Q');
	assert_false(vuart_receive(&u, 'z')); /* outside input is cut off */
	out(MCR, 0x1F);
	assert_int_equal(in(MSR), 0xFB); /* all four lines up, deltas DCTS DDSR DDCD */
	assert_int_equal(in(MSR), 0xF0);
	out(MCR, 0x1B); /* OUT1 off: RI trailing edge */
	assert_int_equal(in(MSR), 0xB4);
	out(MCR, 0x0B);
	assert_int_equal(in(MSR)&0xF0, 0xB0);
}

static void output_is_line_buffered(void **state)
{
	(void)state;
	const char *msg = "hello\nworld";
	for (const char *p = msg; *p; p++)
		out(RBR, (uint8_t)*p);
	assert_string_equal(vm.out, "hello\n");
	vuart_flush(&u);
	assert_string_equal(vm.out, "hello\nworld");
	for (int i = 0; i < 300; i++)
		out(RBR, 'x');
	assert_int_equal(vm.out_len, 11 + 2 * VUART_TX_LINE);
	vuart_flush(&u);
	assert_int_equal(vm.out_len, 311);
	assert_int_equal(vm.tx_calls, 5);
}

static void reset_clears_state(void **state)
{
	(void)state;
	out(MCR, 0x08);
	out(IER, 0x0F);
	vuart_receive(&u, 1);
	assert_true(vm.irq[4]);
	out(RBR, 'p');
	vuart_reset(&u);
	assert_false(vm.irq[4]);
	assert_string_equal(vm.out, "p");
	assert_int_equal(in(IER), 0);
	assert_int_equal(in(LSR), 0x60);
	assert_int_equal(in(IIR), 0x01);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(linux_autoconfig_finds_16550a, setup),
		cmocka_unit_test_setup(divisor_latch, setup),
		cmocka_unit_test_setup(thre_interrupt, setup),
		cmocka_unit_test_setup(rx_fifo, setup),
		cmocka_unit_test_setup(loopback_data_and_msr_deltas, setup),
		cmocka_unit_test_setup(output_is_line_buffered, setup),
		cmocka_unit_test_setup(reset_clears_state, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
