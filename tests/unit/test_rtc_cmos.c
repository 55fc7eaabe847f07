/* The RTC: BCD and binary, 12- and 24-hour, the UIP window, time advancing with guest time
 * across day/month/year/century ends, writes with SET, register C and IRQ 8, CMOS RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/rtc_cmos.h"

static struct fake_vm vm;
static struct vrtc_cmos rtc;
static struct io_bus bus;

static uint8_t rd(uint8_t idx)
{
	uint32_t v;
	assert_int_equal(io_bus_write(&bus, 0x70, 1, idx), 0);
	assert_int_equal(io_bus_read(&bus, 0x71, 1, &v), 0);
	return (uint8_t)v;
}

static void wr(uint8_t idx, uint8_t v)
{
	assert_int_equal(io_bus_write(&bus, 0x70, 1, idx), 0);
	assert_int_equal(io_bus_write(&bus, 0x71, 1, v), 0);
}

static void start(struct vrtc_time t)
{
	vrtc_init(&rtc, &vm.env, &t);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	vm.now = 5 * VDEV_NS_PER_SEC + 123;
	io_bus_init(&bus, &vm.env);
	start((struct vrtc_time){
		.sec = 56, .min = 34, .hour = 13, .day = 26, .mon = 11, .year = 2026 });
	assert_int_equal(vrtc_register(&rtc, &bus), 0);
	return 0;
}

static void bcd_and_binary(void **state)
{
	(void)state;
	assert_int_equal(rd(0x0B), 0x02); /* 24 h, BCD */
	assert_int_equal(rd(0x00), 0x56);
	assert_int_equal(rd(0x02), 0x34);
	assert_int_equal(rd(0x04), 0x13);
	assert_int_equal(rd(0x07), 0x26);
	assert_int_equal(rd(0x08), 0x11);
	assert_int_equal(rd(0x09), 0x26);
	assert_int_equal(rd(0x32), 0x20);
	assert_int_equal(rd(0x06), 0x05); /* 2026-11-26 is a Thursday */
	assert_int_equal(rd(0x0D), 0x80);
	wr(0x0B, 0x06); /* binary */
	assert_int_equal(rd(0x00), 56);
	assert_int_equal(rd(0x09), 26);
	assert_int_equal(rd(0x32), 20);
	/* 12-hour: 13:xx is 1 PM */
	wr(0x0B, 0x04);
	assert_int_equal(rd(0x04), 0x81);
	wr(0x0B, 0x00);
	assert_int_equal(rd(0x04), 0x81);
	wr(0x0B, 0x02);
}

static void time_advances(void **state)
{
	(void)state;
	vm.now += 4 * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x00), 0x00);
	assert_int_equal(rd(0x02), 0x35);
	/* to the end of the year and the century */
	struct vrtc_time t = {
		.sec = 59, .min = 59, .hour = 23, .day = 31, .mon = 12, .year = 2099
	};
	start(t);
	assert_int_equal(rd(0x32), 0x20);
	vm.now += VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x09), 0x00);
	assert_int_equal(rd(0x32), 0x21);
	assert_int_equal(rd(0x08), 0x01);
	assert_int_equal(rd(0x07), 0x01);
	assert_int_equal(rd(0x04), 0x00);
	/* a leap day */
	start((struct vrtc_time){
		.sec = 0, .min = 0, .hour = 0, .day = 28, .mon = 2, .year = 2028 });
	vm.now += 86400ull * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x07), 0x29);
	vm.now += 86400ull * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x07), 0x01);
	assert_int_equal(rd(0x08), 0x03);
	/* a year of guest time */
	vm.now += 365ull * 86400 * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x09), 0x29);
	struct vrtc_time now;
	vrtc_now(&rtc, &now);
	assert_int_equal(now.year, 2029);
	assert_int_equal(now.mon, 3);
	assert_int_equal(now.day, 1);
}

static void uip_window(void **state)
{
	(void)state;
	uint64_t t0 = vm.now;
	assert_int_equal(rd(0x0A), 0x26);
	vm.now = t0 + VDEV_NS_PER_SEC - 244000 - 1;
	assert_int_equal(rd(0x0A) & 0x80, 0);
	vm.now = t0 + VDEV_NS_PER_SEC - 244000;
	assert_int_equal(rd(0x0A) & 0x80, 0x80);
	assert_int_equal(rd(0x00), 0x56); /* not updated yet */
	vm.now = t0 + VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x0A) & 0x80, 0x80);
	assert_int_equal(rd(0x00), 0x57);
	vm.now = t0 + VDEV_NS_PER_SEC + 1984000;
	assert_int_equal(rd(0x0A) & 0x80, 0);
	/* SET stops updates and UIP */
	vm.now = t0 + 2 * VDEV_NS_PER_SEC - 1000;
	wr(0x0B, 0x82);
	assert_int_equal(rd(0x0A) & 0x80, 0);
	vm.now += 10ull * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x00), 0x57);
	/* UIP is read-only */
	wr(0x0A, 0xA6);
	assert_int_equal(rd(0x0A), 0x26);
}

/* hwclock --systohc: SET, write the fields, clear SET. */
static void set_the_time(void **state)
{
	(void)state;
	wr(0x0B, 0x82);
	wr(0x00, 0x00);
	wr(0x02, 0x30);
	wr(0x04, 0x08);
	wr(0x07, 0x15);
	wr(0x08, 0x06);
	wr(0x09, 0x24);
	wr(0x32, 0x20);
	vm.now += 3 * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x00), 0x00);
	wr(0x0B, 0x02);
	vm.now += 3 * VDEV_NS_PER_SEC;
	struct vrtc_time t;
	vrtc_now(&rtc, &t);
	assert_int_equal(t.year, 2024);
	assert_int_equal(t.mon, 6);
	assert_int_equal(t.day, 15);
	assert_int_equal(t.hour, 8);
	assert_int_equal(t.min, 30);
	assert_int_equal(t.sec, 3);
	/* hostile values are clamped into a date */
	wr(0x08, 0xFF);
	wr(0x07, 0x99);
	wr(0x04, 0xFF);
	wr(0x32, 0x00);
	vrtc_now(&rtc, &t);
	assert_int_equal(t.mon, 12);
	assert_int_equal(t.day, 31);
	assert_int_equal(t.hour, 23);
	assert_int_equal(t.year, 1924);
	/* 12-hour writes: 12 AM is 0 h, 12 PM is 12 h */
	wr(0x0B, 0x00);
	wr(0x04, 0x12);
	vrtc_now(&rtc, &t);
	assert_int_equal(t.hour, 0);
	wr(0x04, 0x92);
	vrtc_now(&rtc, &t);
	assert_int_equal(t.hour, 12);
}

static void register_c_and_irq8(void **state)
{
	(void)state;
	assert_int_equal(rd(0x0C), 0x00);
	vm.now += 2 * VDEV_NS_PER_SEC;
	assert_int_equal(rd(0x0C), 0x50); /* update and periodic flags, no IRQF: not enabled */
	assert_int_equal(rd(0x0C), 0x00);
	assert_int_equal(vrtc_next_event_ns(&rtc), UINT64_MAX);
	/* update-ended interrupts */
	wr(0x0B, 0x12);
	uint64_t next = vrtc_next_event_ns(&rtc);
	assert_true(next > vm.now && next <= vm.now + VDEV_NS_PER_SEC);
	vm.now = next - 1;
	vrtc_update(&rtc);
	assert_false(vm.irq[8]);
	vm.now = next;
	vrtc_update(&rtc);
	assert_true(vm.irq[8]);
	assert_int_equal(vrtc_next_event_ns(&rtc), UINT64_MAX);
	assert_int_equal(rd(0x0C) & 0x90, 0x90);
	assert_false(vm.irq[8]);
	/* periodic at 1024 Hz */
	wr(0x0B, 0x42);
	next = vrtc_next_event_ns(&rtc);
	assert_true(next > vm.now && next <= vm.now + 976563);
	vm.now = next;
	vrtc_update(&rtc);
	assert_true(vm.irq[8]);
	assert_int_equal(rd(0x0C) & 0xC0, 0xC0);
	/* alarm: don't-care seconds and minutes, this hour */
	wr(0x0B, 0x22);
	wr(0x01, 0xFF);
	wr(0x03, 0xC0);
	wr(0x05, 0x13);
	rd(0x0C);
	vm.now += VDEV_NS_PER_SEC;
	vrtc_update(&rtc);
	assert_true(vm.irq[8]);
	assert_int_equal(rd(0x0C) & 0xA0, 0xA0);
	wr(0x05, 0x14);
	vm.now += VDEV_NS_PER_SEC;
	vrtc_update(&rtc);
	assert_false(vm.irq[8]);
}

static void cmos_ram_and_nmi(void **state)
{
	(void)state;
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != 0x32)
			wr((uint8_t)i, (uint8_t)(i ^ 0x5A));
	for (unsigned i = 0x0E; i < 0x80; i++)
		if (i != 0x32)
			assert_int_equal(rd((uint8_t)i), i ^ 0x5A);
	wr(0x0C, 0xFF); /* read-only */
	wr(0x0D, 0x00);
	assert_int_equal(rd(0x0D), 0x80);
	assert_false(vrtc_nmi_disabled(&rtc));
	assert_int_equal(io_bus_write(&bus, 0x70, 1, 0x8F), 0);
	assert_true(vrtc_nmi_disabled(&rtc));
	uint32_t v;
	io_bus_read(&bus, 0x71, 1, &v);
	assert_int_equal(v, 0x0F ^ 0x5A);
	io_bus_read(&bus, 0x70, 1, &v);
	assert_int_equal(v, 0xFF);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(bcd_and_binary, setup),
		cmocka_unit_test_setup(time_advances, setup),
		cmocka_unit_test_setup(uip_window, setup),
		cmocka_unit_test_setup(set_the_time, setup),
		cmocka_unit_test_setup(register_c_and_irq8, setup),
		cmocka_unit_test_setup(cmos_ram_and_nmi, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
