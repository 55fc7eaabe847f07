/* The I/O bus: dispatch, byte splitting, unclaimed ports (all ones, dropped writes, a rate-limited
 * first-access log line) and the exit port. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "vdev/exit_port.h"
#include "vdev/io_bus.h"

static struct fake_vm vm;
static struct io_bus bus;

struct rec_dev {
	uint16_t port;
	unsigned size;
	uint32_t val;
	unsigned reads, writes;
};

static int rec_read(void *dev, uint16_t port, unsigned size, uint32_t *val)
{
	struct rec_dev *d = dev;
	d->port = port, d->size = size, d->reads++;
	*val = 0xA0u + (port & 0xF) + 0x12345600u;
	return 0;
}

static int rec_write(void *dev, uint16_t port, unsigned size, uint32_t val)
{
	struct rec_dev *d = dev;
	d->port = port, d->size = size, d->val = val, d->writes++;
	return 0;
}

static const struct io_ops rec_ops = { .read = rec_read, .write = rec_write };

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	io_bus_init(&bus, &vm.env);
	host_log_clear();
	return 0;
}

static void register_rejects_overlap_and_bad_ranges(void **state)
{
	(void)state;
	static struct rec_dev a;
	assert_int_equal(io_bus_register(&bus, 0x100, 8, IO_SIZE_1, &rec_ops, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x107, 1, IO_SIZE_1, &rec_ops, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0xFF, 2, IO_SIZE_1, &rec_ops, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0x108, 0, IO_SIZE_1, &rec_ops, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0xFFFF, 2, IO_SIZE_1, &rec_ops, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0x200, 4, IO_SIZE_4, &rec_ops, &a), -1);
	assert_int_equal(io_bus_register(&bus, 0xFFFF, 1, IO_SIZE_1, &rec_ops, &a), 0);
	assert_int_equal(io_bus_register(&bus, 0x108, 1, IO_SIZE_1, &rec_ops, &a), 0);
	for (unsigned i = bus.nr; i < IO_BUS_MAX_RANGES; i++)
		assert_int_equal(io_bus_register(&bus, (uint16_t)(0x1000 + i), 1, IO_SIZE_1,
						 &rec_ops, &a),
				 0);
	assert_int_equal(io_bus_register(&bus, 0x3000, 1, IO_SIZE_1, &rec_ops, &a), -1);
}

static void dispatch_and_split(void **state)
{
	(void)state;
	static struct rec_dev bytes, wide;
	uint32_t v;
	assert_int_equal(io_bus_register(&bus, 0x100, 8, IO_SIZE_1, &rec_ops, &bytes), 0);
	assert_int_equal(io_bus_register(&bus, 0x600, 4, IO_SIZE_ANY, &rec_ops, &wide), 0);

	assert_int_equal(io_bus_read(&bus, 0x600, 4, &v), 0);
	assert_int_equal(v, 0x123456A0);
	assert_int_equal(wide.size, 4);
	assert_int_equal(io_bus_read(&bus, 0x601, 2, &v), 0);
	assert_int_equal(v, 0x56A1); /* masked to the access size */

	/* a word access to a byte-wide device becomes two byte accesses */
	assert_int_equal(io_bus_read(&bus, 0x102, 2, &v), 0);
	assert_int_equal(v, 0xA3A2);
	assert_int_equal(bytes.reads, 2);
	assert_int_equal(io_bus_write(&bus, 0x106, 4, 0xDDCCBBAA), 0);
	/* 0x106, 0x107 reach the device; 0x108, 0x109 are past its range: dropped */
	assert_int_equal(bytes.writes, 2);
	assert_int_equal(bytes.port, 0x107);
	assert_int_equal(bytes.val, 0xBB);
	assert_int_equal(io_bus_read(&bus, 0x107, 2, &v), 0);
	assert_int_equal(v, 0xFFA7);

	/* an access starting on an unclaimed port never reaches the next device */
	bytes.writes = 0;
	assert_int_equal(io_bus_write(&bus, 0xFE, 4, 0x04040404), 0);
	assert_int_equal(bytes.writes, 0);
	assert_int_equal(io_bus_read(&bus, 0xFF, 2, &v), 0);
	assert_int_equal(v, 0xFFFF);

	assert_int_equal(io_bus_write(&bus, 0x600, 2, 0xABCDEF), 0);
	assert_int_equal(wide.val, 0xCDEF);
	assert_int_equal(io_bus_read(&bus, 0x100, 3, &v), -1);
	assert_int_equal(v, 0xFFFFFFFF);
	assert_int_equal(io_bus_write(&bus, 0x100, 0, 1), -1);
}

static void unclaimed_reads_ones_and_logs_once(void **state)
{
	(void)state;
	uint32_t v = 0;
	assert_int_equal(io_bus_read(&bus, 0x2F8, 1, &v), 0);
	assert_int_equal(v, 0xFF);
	assert_int_equal(io_bus_read(&bus, 0xCFC, 4, &v), 0);
	assert_int_equal(v, 0xFFFFFFFF);
	assert_int_equal(io_bus_read(&bus, 0xCFC, 2, &v), 0);
	assert_int_equal(v, 0xFFFF);
	assert_int_equal(io_bus_write(&bus, 0x80, 1, 0x42), 0);
	assert_true(host_log_contains("vm t: unclaimed I/O port 0x2f8: 1-byte read, all ones"));
	assert_true(host_log_contains("vm t: unclaimed I/O port 0xcfc: 4-byte read"));
	assert_true(host_log_contains("vm t: unclaimed I/O port 0x80: 1-byte write of 0x42 "
				      "dropped"));
	host_log_clear();
	for (int i = 0; i < 100; i++) {
		io_bus_write(&bus, 0x80, 1, (uint32_t)i);
		io_bus_read(&bus, 0x2F8, 1, &v);
	}
	assert_string_equal(host_log_text(), "");
}

static unsigned count_lines(void)
{
	unsigned n = 0;
	for (const char *s = host_log_text(); *s; s++)
		n += *s == '\n';
	return n;
}

static void unclaimed_log_is_rate_limited(void **state)
{
	(void)state;
	uint32_t v;
	/* a sweep of 1000 ports prints a burst, not 1000 lines */
	for (uint16_t p = 0x4000; p < 0x4000 + 1000; p++)
		io_bus_read(&bus, p, 1, &v);
	assert_int_equal(count_lines(), UNCLAIMED_BURST);
	/* one more line per second of guest time, saying that some were left out */
	host_log_clear();
	vm.now += 2ull * VDEV_NS_PER_SEC;
	for (uint16_t p = 0x5000; p < 0x5000 + 10; p++)
		io_bus_read(&bus, p, 1, &v);
	assert_int_equal(count_lines(), 2);
	assert_true(host_log_contains("(earlier ports not logged)"));
}

static void exit_port_stops_the_vm(void **state)
{
	(void)state;
	static struct exit_port ep;
	uint32_t v;
	exit_port_init(&ep, &vm.env);
	assert_int_equal(exit_port_register(&ep, &bus), 0);
	assert_int_equal(io_bus_read(&bus, EXIT_PORT, 1, &v), 0);
	assert_int_equal(v, 0xFF);
	assert_int_equal(vm.stops, 0);
	assert_int_equal(io_bus_write(&bus, EXIT_PORT, 4, 0x12345678), 0);
	assert_int_equal(vm.stops, 1);
	assert_int_equal(vm.stop, VM_STOP_EXIT_PORT);
	assert_int_equal(vm.code, 0x12345678);
	io_bus_write(&bus, EXIT_PORT, 1, 3); /* already stopping: ignored */
	assert_int_equal(vm.stops, 1);
	exit_port_reset(&ep);
	io_bus_write(&bus, EXIT_PORT, 2, 0x1FF03);
	assert_int_equal(vm.stops, 2);
	assert_int_equal(vm.code, 0xFF03);
	exit_port_reset(&ep);
	io_bus_write(&bus, EXIT_PORT, 1, 0);
	assert_int_equal(vm.code, 0);
	assert_int_equal(vm.stops, 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(register_rejects_overlap_and_bad_ranges, setup),
		cmocka_unit_test_setup(dispatch_and_split, setup),
		cmocka_unit_test_setup(unclaimed_reads_ones_and_logs_once, setup),
		cmocka_unit_test_setup(unclaimed_log_is_rate_limited, setup),
		cmocka_unit_test_setup(exit_port_stops_the_vm, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
