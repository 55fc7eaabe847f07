/* The keyboard controller's status, commands and reset line, and port 0x92. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/i8042.h"

static struct fake_vm vm;
static struct vi8042 k;
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

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&bus, &vm.env);
	vi8042_init(&k, &vm.env);
	assert_int_equal(vi8042_register(&k, &bus), 0);
	return 0;
}

static void status_and_commands(void **state)
{
	(void)state;
	/* input buffer empty (bit 1 clear), system flag, not inhibited */
	assert_int_equal(in(0x64), 0x14);
	out(0x64, 0xAA);
	assert_int_equal(in(0x64), 0x1D);
	assert_int_equal(in(0x60), 0x55);
	assert_int_equal(in(0x64) & 1, 0);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x45);
	out(0x64, 0x60);
	out(0x60, 0x47);
	assert_int_equal(in(0x64), 0x14);
	out(0x64, 0x20);
	assert_int_equal(in(0x60), 0x47);
	out(0x64, 0xAB);
	assert_int_equal(in(0x60), 0x00);
	out(0x60, 0xF4); /* to the (absent) keyboard: no answer */
	assert_int_equal(in(0x64) & 1, 0);
	assert_int_equal(vm.stops, 0);
}

static void reset_paths(void **state)
{
	(void)state;
	/* Linux's reboot=kbd: wait for input empty, then pulse the reset line */
	assert_int_equal(in(0x64) & 2, 0);
	out(0x64, 0xFE);
	assert_int_equal(vm.stops, 1);
	assert_int_equal(vm.stop, VM_STOP_RESET);
	out(0x64, 0xFF); /* pulses nothing */
	assert_int_equal(vm.stops, 1);
	out(0x64, 0xD1);
	out(0x60, 0x02); /* output port with reset low */
	assert_int_equal(vm.stops, 2);
	/* port 0x92: A20 on without reset, then the fast reset bit */
	assert_int_equal(in(0x92), 0x02);
	out(0x92, 0x02);
	assert_int_equal(vm.stops, 2);
	out(0x92, 0x03);
	assert_int_equal(vm.stops, 3);
	assert_int_equal(in(0x92), 0x02);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(status_and_commands, setup),
		cmocka_unit_test_setup(reset_paths, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
