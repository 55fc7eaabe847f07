/* The 8259A pair: Linux's init_8259A sequence, masking, cascade, EOI flavours, auto-EOI,
 * spurious IR7/IR15, ELCR level mode, rotation, poll, special mask. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/pic8259.h"

static struct fake_vm vm;
static struct vpic8259 pic;
static struct io_bus bus;

static uint8_t in(uint16_t port)
{
	uint32_t v;
	assert_int_equal(io_bus_read(&bus, port, 1, &v), 0);
	return (uint8_t)v;
}

static void out(uint16_t port, uint8_t v)
{
	assert_int_equal(io_bus_write(&bus, port, 1, v), 0);
}

static void pulse(unsigned irq)
{
	vpic_set_irq(&pic, irq, true);
	vpic_set_irq(&pic, irq, false);
}

/* arch/x86/kernel/i8259.c init_8259A(auto_eoi) */
static void linux_init(bool auto_eoi)
{
	out(0x21, 0xFF);
	out(0xA1, 0xFF);
	out(0x20, 0x11);
	out(0x21, 0x30);
	out(0x21, 0x04);
	out(0x21, auto_eoi ? 0x03 : 0x01);
	out(0xA0, 0x11);
	out(0xA1, 0x38);
	out(0xA1, 0x02);
	out(0xA1, 0x01);
	out(0x21, 0xFB); /* cached masks: all but the cascade */
	out(0xA1, 0xFF);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&bus, &vm.env);
	vpic_init(&pic, &vm.env);
	assert_int_equal(vpic_register(&pic, &bus), 0);
	return 0;
}

static void linux_probe_and_init(void **state)
{
	(void)state;
	/* probe_8259A: IMR reads back */
	out(0xA1, 0xFF);
	out(0x21, 0xFB);
	assert_int_equal(in(0x21), 0xFB);
	linux_init(false);
	assert_int_equal(in(0x21), 0xFB);
	assert_int_equal(in(0xA1), 0xFF);
	pulse(0);
	assert_false(vpic_has_interrupt(&pic)); /* masked */
	assert_true(vpic_irq_masked(&pic, 0));
	/* unmask IRQ0, as the timer setup does */
	out(0x21, 0xFA);
	assert_true(vpic_has_interrupt(&pic)); /* the edge was latched while masked */
	assert_int_equal(vpic_get_interrupt(&pic), 0x30);
	assert_false(vpic_has_interrupt(&pic));
	/* i8259A_irq_real: ISR through OCW3 0x0B, back to IRR with 0x0A */
	out(0x20, 0x0B);
	assert_int_equal(in(0x20), 0x01);
	out(0x20, 0x0A);
	assert_int_equal(in(0x20), 0x00);
	pulse(0);
	assert_false(vpic_has_interrupt(&pic)); /* IR0 in service blocks itself */
	out(0x20, 0x60);			/* specific EOI for IR0 */
	assert_true(vpic_has_interrupt(&pic));
	assert_int_equal(vpic_get_interrupt(&pic), 0x30);
	out(0x20, 0x20); /* non-specific EOI */
	assert_false(vpic_has_interrupt(&pic));
}

static void priorities_and_nesting(void **state)
{
	(void)state;
	linux_init(false);
	out(0x21, 0x00);
	out(0xA1, 0x00);
	pulse(4);
	pulse(1);
	assert_int_equal(vpic_get_interrupt(&pic), 0x31); /* IR1 before IR4 */
	assert_false(vpic_has_interrupt(&pic));		  /* IR4 is lower than IR1 in service */
	pulse(0);
	assert_int_equal(vpic_get_interrupt(&pic), 0x30); /* higher nests */
	out(0x20, 0x20);				  /* EOI for IR0 (highest in service) */
	out(0x20, 0x20);				  /* EOI for IR1 */
	assert_int_equal(vpic_get_interrupt(&pic), 0x34);
	out(0x20, 0x20);
	assert_int_equal(in(0x20), 0);
}

static void cascade_and_spurious(void **state)
{
	(void)state;
	linux_init(false);
	out(0xA1, 0x00);
	pulse(12);
	pulse(9);
	assert_true(vpic_has_interrupt(&pic));
	assert_int_equal(vpic_get_interrupt(&pic), 0x39);
	/* the slave request behind it waits for the slave's and master's EOI */
	assert_false(vpic_has_interrupt(&pic));
	out(0xA0, 0x61); /* Linux: specific EOI to the slave, then the cascade on the master */
	out(0x20, 0x62);
	assert_int_equal(vpic_get_interrupt(&pic), 0x3C);
	out(0xA0, 0x20);
	out(0x20, 0x20);
	assert_false(vpic_has_interrupt(&pic));
	/* nothing pending at INTA: spurious IR7 */
	assert_int_equal(vpic_get_interrupt(&pic), 0x37);
	out(0x20, 0x0B);
	assert_int_equal(in(0x20), 0); /* no ISR bit for a spurious one */
	/* a slave request that is masked after the master saw the cascade: spurious IR15 */
	pulse(10);
	out(0x20, 0x0A);
	assert_int_equal(in(0x20) & 0x04, 0x04);
	/* the slave's mask makes the cascade line drop at once here; force the race: */
	pic.chip[1].imr = 0xFF;
	assert_int_equal(vpic_get_interrupt(&pic), 0x3F);
	out(0x20, 0x20);
	/* the slave lines are masked by the cascade mask too */
	out(0xA1, 0x00);
	out(0x21, 0xFF);
	assert_true(vpic_irq_masked(&pic, 10));
	assert_false(vpic_has_interrupt(&pic));
}

static void auto_eoi_and_rotation(void **state)
{
	(void)state;
	linux_init(true);
	out(0x21, 0x00);
	pulse(3);
	assert_int_equal(vpic_get_interrupt(&pic), 0x33);
	out(0x20, 0x0B);
	assert_int_equal(in(0x20), 0); /* auto-EOI: nothing in service */
	pulse(3);
	assert_int_equal(vpic_get_interrupt(&pic), 0x33);
	/* rotate in auto-EOI: IR3 becomes lowest, so IR4 now beats IR1 */
	out(0x20, 0x80);
	pulse(3);
	assert_int_equal(vpic_get_interrupt(&pic), 0x33);
	pulse(1);
	pulse(4);
	assert_int_equal(vpic_get_interrupt(&pic), 0x34);
	assert_int_equal(vpic_get_interrupt(&pic), 0x31);
	/* set priority: IR7 lowest again */
	out(0x20, 0xC7);
	out(0x20, 0x00);
	pulse(1);
	pulse(4);
	assert_int_equal(vpic_get_interrupt(&pic), 0x31);
	assert_int_equal(vpic_get_interrupt(&pic), 0x34);
}

static void level_mode_via_elcr(void **state)
{
	(void)state;
	linux_init(false);
	out(0xA1, 0x00);
	out(0x4D1, 0xFF);
	assert_int_equal(in(0x4D1), 0xDE); /* IRQ 8 and 13 stay edge */
	out(0x4D0, 0xFF);
	assert_int_equal(in(0x4D0), 0xF8);
	vpic_set_irq(&pic, 11, true);
	assert_int_equal(vpic_get_interrupt(&pic), 0x3B);
	out(0xA0, 0x20);
	out(0x20, 0x20);
	/* still high: requests again */
	assert_true(vpic_has_interrupt(&pic));
	vpic_set_irq(&pic, 11, false);
	assert_false(vpic_has_interrupt(&pic));
	/* level dropped before INTA: the slave answers spurious IR15 (the cascade went too) */
	vpic_set_irq(&pic, 11, true);
	vpic_set_irq(&pic, 11, false);
	assert_false(vpic_has_interrupt(&pic));
}

static void poll_and_special_mask(void **state)
{
	(void)state;
	linux_init(false);
	out(0x21, 0x00);
	out(0x20, 0x0C); /* poll */
	assert_int_equal(in(0x20), 0x00);
	pulse(5);
	out(0x20, 0x0C);
	assert_int_equal(in(0x20), 0x85);
	out(0x20, 0x0B);
	assert_int_equal(in(0x20), 0x20); /* the poll acknowledged IR5 */
	/* special mask mode: masking IR5 in service lets IR6 through */
	pulse(6);
	assert_false(vpic_has_interrupt(&pic));
	out(0x20, 0x68); /* ESMM | SMM */
	out(0x21, 0x20);
	assert_int_equal(vpic_get_interrupt(&pic), 0x36);
	out(0x20, 0x48); /* leave special mask mode */
	out(0x20, 0x66);
	out(0x20, 0x65);
	/* ICW1 single mode, no ICW4, then hostile ICW data */
	out(0x20, 0x12);
	out(0x21, 0xFF);
	assert_int_equal(pic.chip[0].vector_base, 0xF8);
	assert_int_equal(pic.chip[0].init_step, 0);
	out(0x21, 0x00);
	pulse(2); /* IR2 of the master is the cascade, never a device */
	pulse(7);
	assert_int_equal(vpic_get_interrupt(&pic), 0xFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(linux_probe_and_init, setup),
		cmocka_unit_test_setup(priorities_and_nesting, setup),
		cmocka_unit_test_setup(cascade_and_spurious, setup),
		cmocka_unit_test_setup(auto_eoi_and_rotation, setup),
		cmocka_unit_test_setup(level_mode_via_elcr, setup),
		cmocka_unit_test_setup(poll_and_special_mask, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
