/* ACPI PM1a event/control, the PM timer's rate and width, S5 power-off and the 0xCF9 reset. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "vdev/acpi_pm.h"

static struct fake_vm vm;
static struct vacpi_pm pm;
static struct io_bus bus;

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v;
	assert_int_equal(io_bus_read(&bus, port, size, &v), 0);
	return v;
}

static void out(uint16_t port, unsigned size, uint32_t v)
{
	assert_int_equal(io_bus_write(&bus, port, size, v), 0);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&bus, &vm.env);
	vacpi_pm_init(&pm, &vm.env, NULL);
	assert_int_equal(vacpi_pm_register(&pm, &bus), 0);
	host_log_clear();
	return 0;
}

static void pm_timer_rate(void **state)
{
	(void)state;
	assert_int_equal(in(0x608, 4), 0);
	vm.now = VDEV_NS_PER_SEC;
	assert_int_equal(in(0x608, 4), 3579545);
	vm.now = 1000; /* 3.58 ticks */
	assert_int_equal(in(0x608, 4), 3);
	/* 24 bits wide: wraps after 2^24 ticks (4.69 s) */
	vm.now = 5ull * VDEV_NS_PER_SEC;
	assert_int_equal(in(0x608, 4), (5ull * 3579545) & 0xFFFFFF);
	/* a day in, no overflow in the conversion */
	vm.now = 86400ull * VDEV_NS_PER_SEC + 7;
	assert_int_equal(in(0x608, 4), (86400ull * 3579545) & 0xFFFFFF);
	vm.now = 100ull * 365 * 86400 * VDEV_NS_PER_SEC; /* a century */
	assert_int_equal(in(0x608, 4), (100ull * 365 * 86400 * 3579545) & 0xFFFFFF);
	/* byte reads see the same register */
	vm.now = VDEV_NS_PER_SEC;
	assert_int_equal(in(0x609, 1), (3579545 >> 8) & 0xFF);
	assert_int_equal(in(0x60A, 2), 3579545 >> 16);
	out(0x608, 4, 0); /* read-only */
	assert_int_equal(in(0x608, 4), 3579545);
}

static void pm_timer_32bit_and_tmr_sts(void **state)
{
	(void)state;
	struct vacpi_pm_config cfg = { .pm1a_evt = 0xB000,
				       .pm1a_cnt = 0xB004,
				       .pm_tmr = 0xB008,
				       .slp_typ_s5 = 0,
				       .timer_32bit = true,
				       .sci_gsi = 9 };
	vacpi_pm_init(&pm, &vm.env, &cfg);
	io_bus_init(&bus, &vm.env);
	assert_int_equal(vacpi_pm_register(&pm, &bus), 0);
	vm.now = 10ull * VDEV_NS_PER_SEC;
	assert_int_equal(in(0xB008, 4), 35795450);
	assert_int_equal(in(0xB000, 2) & VACPI_PM1_TMR_STS, 0);
	vm.now = 1200ull * VDEV_NS_PER_SEC; /* past 2^31 ticks: the top bit changed */
	assert_int_equal(in(0xB000, 2) & VACPI_PM1_TMR_STS, VACPI_PM1_TMR_STS);
	out(0xB000, 2, VACPI_PM1_TMR_STS);
	assert_int_equal(in(0xB000, 2) & VACPI_PM1_TMR_STS, 0);
	/* S5 is SLP_TYP 0 here */
	out(0xB004, 2, VACPI_PM1_SLP_EN);
	assert_int_equal(vm.stop, VM_STOP_POWER_OFF);
}

static void s5_powers_off(void **state)
{
	(void)state;
	assert_int_equal(in(0x604, 2), VACPI_PM1_SCI_EN);
	/* SLP_TYP alone does nothing */
	out(0x604, 2, 5 << 10);
	assert_int_equal(vm.stops, 0);
	assert_int_equal(in(0x604, 2), (5 << 10) | VACPI_PM1_SCI_EN);
	/* another sleep state is refused with a log line */
	out(0x604, 2, (3 << 10) | VACPI_PM1_SLP_EN);
	assert_int_equal(vm.stops, 0);
	assert_true(host_log_contains("vm t: sleep type 3 requested; only S5 (5) is supported"));
	/* Linux's acpi_hw_legacy_sleep: SLP_TYP, then SLP_TYP | SLP_EN */
	out(0x604, 2, (5 << 10) | VACPI_PM1_SCI_EN);
	out(0x604, 2, (5 << 10) | VACPI_PM1_SCI_EN | VACPI_PM1_SLP_EN);
	assert_int_equal(vm.stops, 1);
	assert_int_equal(vm.stop, VM_STOP_POWER_OFF);
	assert_int_equal(in(0x604, 2) & VACPI_PM1_SLP_EN, 0); /* write-only */
	/* the high byte alone, as a byte write */
	out(0x605, 1, 0x34);
	assert_int_equal(vm.stops, 2);
}

static void pm1_status_enable_and_sci(void **state)
{
	(void)state;
	out(0x602, 2, 0xFFFF);
	assert_int_equal(in(0x602, 2), 0x0721);
	assert_false(vm.irq[9]);
	vacpi_pm_power_button(&pm);
	assert_true(vm.irq[9]);
	assert_int_equal(in(0x600, 4) & 0xFFFF, VACPI_PM1_PWRBTN_STS);
	out(0x600, 2, 0x00FF); /* other bits: not cleared */
	assert_true(vm.irq[9]);
	out(0x601, 1, 0x01); /* bit 8 through its byte */
	assert_false(vm.irq[9]);
	assert_int_equal(in(0x600, 2), 0);
	out(0x600, 4, 0); /* EN cleared by the dword write */
	vacpi_pm_power_button(&pm);
	assert_false(vm.irq[9]);
	assert_int_equal(in(0x600, 4), VACPI_PM1_PWRBTN_STS);
}

static void cf9_reset(void **state)
{
	(void)state;
	out(VACPI_RESET_PORT, 1, 0x02);
	assert_int_equal(vm.stops, 0);
	assert_int_equal(in(VACPI_RESET_PORT, 1), 0x02);
	out(VACPI_RESET_PORT, 1, 0x06);
	assert_int_equal(vm.stop, VM_STOP_RESET);
	assert_int_equal(vm.stops, 1);
	out(VACPI_RESET_PORT, 1, 0x0E);
	assert_int_equal(vm.stops, 2);
	/* a dword to PCI CONFIG_ADDRESS never reaches 0xCF9 */
	out(0xCF8, 4, 0x80000400);
	assert_int_equal(vm.stops, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(pm_timer_rate, setup),
		cmocka_unit_test_setup(pm_timer_32bit_and_tmr_sts, setup),
		cmocka_unit_test_setup(s5_powers_off, setup),
		cmocka_unit_test_setup(pm1_status_enable_and_sci, setup),
		cmocka_unit_test_setup(cf9_reset, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
