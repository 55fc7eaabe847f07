/* The 8254: Linux's PIT calibration through channel 2 and port 0x61, periodic IRQ0 in modes 2
 * and 3, one-shot mode 0, latch and read-back, BCD, and the next-event time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/pit8254.h"

static struct fake_vm vm;
static struct vpit8254 pit;
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

/* guest time at which `ticks` PIT clocks have passed since t0 */
static uint64_t at_ticks(uint64_t t0, uint64_t ticks)
{
	return t0 + vdev_muldiv(ticks, VDEV_NS_PER_SEC, VPIT_HZ) + 1;
}

/* Within one PIT clock: the counter's phase is whole ticks of guest time, not of the load. */
#define assert_near(a, b) assert_true((a) + 840 >= (b) && (b) + 840 >= (a))

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	vm.now = 12345678; /* not zero: counts are relative to the load */
	io_bus_init(&bus, &vm.env);
	vpit_init(&pit, &vm.env);
	assert_int_equal(vpit_register(&pit, &bus), 0);
	return 0;
}

/* arch/x86/kernel/tsc.c vpit_calibrate_tsc(): gate high, speaker off, channel 2 mode 0 with a
 * 50 ms count, then poll port 0x61 bit 5 until OUT2 rises. */
static void linux_pit_calibrate(void **state)
{
	(void)state;
	out(0x61, (uint8_t)((in(0x61) & ~0x02) | 0x01));
	out(0x43, 0xB0);
	uint16_t latch = (uint16_t)(VPIT_HZ / 20);
	out(0x42, latch & 0xFF);
	assert_int_equal(in(0x61) & 0x20, 0); /* OUT low while counting */
	out(0x42, latch >> 8);
	uint64_t t0 = vm.now;
	vm.now = at_ticks(t0, latch - 1);
	assert_int_equal(in(0x61) & 0x20, 0);
	vm.now = at_ticks(t0, latch);
	assert_int_equal(in(0x61) & 0x20, 0x20);
	/* about 50 ms */
	assert_true(vm.now - t0 > 49990000 && vm.now - t0 < 50010000);
	/* nothing on IRQ0: channel 2 has no interrupt */
	assert_int_equal(vm.raises[0], 0);
}

/* quick_pit_calibrate(): mode 0 from 0xFFFF, reading LSB then MSB and watching the MSB step. */
static void linux_quick_pit_calibrate(void **state)
{
	(void)state;
	out(0x61, (uint8_t)((in(0x61) & ~0x02) | 0x01));
	out(0x43, 0xB0);
	out(0x42, 0xFF);
	out(0x42, 0xFF);
	uint64_t t0 = vm.now;
	for (unsigned i = 0; i < 200; i++) {
		vm.now = at_ticks(t0, 256 * i + 10);
		in(0x42);
		uint8_t msb = in(0x42);
		assert_int_equal(msb, 0xFF - i);
	}
}

static void gate_pauses_mode0(void **state)
{
	(void)state;
	out(0x43, 0xB0);
	out(0x42, 100);
	out(0x42, 0);
	uint64_t t0 = vm.now;
	vm.now = at_ticks(t0, 50); /* gate is low: nothing counted */
	out(0x43, 0x80);
	assert_int_equal(in(0x42), 100);
	assert_int_equal(in(0x42), 0);
	out(0x61, 1);
	vm.now = at_ticks(vm.now, 30);
	out(0x43, 0x80);
	assert_int_equal(in(0x42), 70);
	in(0x42);
	out(0x61, 0);
	vm.now = at_ticks(vm.now, 1000);
	out(0x43, 0x80);
	assert_int_equal(in(0x42), 70);
	in(0x42);
	assert_int_equal(in(0x61) & 0x21, 0);
	out(0x61, 1);
	vm.now = at_ticks(vm.now, 70);
	assert_int_equal(in(0x61) & 0x20, 0x20);
}

static void mode2_periodic_irq0(void **state)
{
	(void)state;
	/* Linux's PIT clockevent, periodic: mode 2, LATCH = 1193182 / 250 Hz */
	uint16_t latch = (uint16_t)((VPIT_HZ + 125) / 250);
	out(0x43, 0x34);
	out(0x40, latch & 0xFF);
	out(0x40, latch >> 8);
	uint64_t t0 = vm.now;
	uint64_t next = vpit_next_event_ns(&pit);
	assert_near(next, at_ticks(t0, latch));
	assert_true(next - t0 > 3990000 && next - t0 < 4010000);
	vm.now = next - 1;
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 0);
	vm.now = next;
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	assert_false(vm.irq[0]); /* a pulse */
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	/* ten periods late: one pulse, and the next edge is the following period boundary */
	vm.now = at_ticks(t0, 11ull * latch + 5);
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 2);
	assert_near(vpit_next_event_ns(&pit), at_ticks(t0, 12ull * latch));
	/* counter runs latch .. 1 */
	vm.now = at_ticks(t0, 3ull * latch + 7);
	out(0x43, 0x00);
	uint16_t v = in(0x40);
	v |= (uint16_t)(in(0x40) << 8);
	assert_int_equal(v, latch - 7);
}

static void mode3_square_wave(void **state)
{
	(void)state;
	out(0x43, 0xB6); /* channel 2, lohi, mode 3 */
	out(0x42, 100);
	out(0x42, 0);
	out(0x61, 0x03);
	uint64_t t0 = vm.now;
	vm.now = at_ticks(t0, 10);
	assert_int_equal(in(0x61) & 0x20, 0x20);
	out(0x43, 0x80);
	assert_int_equal(in(0x42), 80); /* decrements by two */
	in(0x42);
	vm.now = at_ticks(t0, 60);
	assert_int_equal(in(0x61) & 0x20, 0);
	vm.now = at_ticks(t0, 110);
	assert_int_equal(in(0x61) & 0x20, 0x20);
	/* channel 0 in mode 3 pulses IRQ0 once per period */
	out(0x43, 0x36);
	out(0x40, 0);
	out(0x40, 0); /* 65536: 18.2 Hz */
	uint64_t t1 = vm.now;
	vm.now = at_ticks(t1, 65536);
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	assert_near(vpit_next_event_ns(&pit), at_ticks(t1, 2 * 65536));
}

static void mode0_oneshot_and_reprogram(void **state)
{
	(void)state;
	/* Linux's PIT shutdown: mode 0 with count 0; the one-shot fires once */
	out(0x43, 0x30);
	out(0x40, 0x10);
	out(0x40, 0x00);
	uint64_t t0 = vm.now;
	assert_near(vpit_next_event_ns(&pit), at_ticks(t0, 16));
	vm.now = at_ticks(t0, 100);
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	assert_int_equal(vpit_next_event_ns(&pit), UINT64_MAX);
	vm.now = at_ticks(t0, 1000);
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	/* counter wraps after 0 in mode 0 */
	out(0x43, 0x00);
	uint16_t v = in(0x40);
	v |= (uint16_t)(in(0x40) << 8);
	assert_int_equal(v, (uint16_t)(16 - 1000));
	/* a control word alone stops the channel */
	out(0x43, 0x34);
	assert_int_equal(vpit_next_event_ns(&pit), UINT64_MAX);
	vm.now += VDEV_NS_PER_SEC;
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 1);
	/* mode 4 strobe: one pulse after n + 1 clocks */
	out(0x43, 0x38);
	out(0x40, 5);
	out(0x40, 0);
	t0 = vm.now;
	assert_near(vpit_next_event_ns(&pit), at_ticks(t0, 6));
	vm.now = at_ticks(t0, 6);
	vpit_update(&pit);
	assert_int_equal(vm.raises[0], 2);
}

static void latch_readback_and_access_modes(void **state)
{
	(void)state;
	out(0x43, 0x34);
	out(0x40, 0x34);
	out(0x40, 0x12);
	uint64_t t0 = vm.now;
	vm.now = at_ticks(t0, 0x10);
	out(0x43, 0x00); /* latch */
	vm.now = at_ticks(t0, 0x200);
	out(0x43, 0x00); /* ignored: still latched */
	assert_int_equal(in(0x40), 0x24);
	assert_int_equal(in(0x40), 0x12);
	/* read-back: status and count of channel 0 */
	out(0x43, 0xC2);
	assert_int_equal(in(0x40), 0x80 | 0x34); /* OUT high, lohi, mode 2, binary */
	assert_int_equal(in(0x40), (0x1234 - 0x200) & 0xFF);
	assert_int_equal(in(0x40), (0x1234 - 0x200) >> 8);
	/* status only: null count right after a control word */
	out(0x43, 0x14); /* channel 0, LSB only, mode 2 */
	out(0x43, 0xE2);
	assert_int_equal(in(0x40), 0xC0 | 0x14); /* mode 2: OUT high from the control word */
	out(0x40, 0x80);
	t0 = vm.now;
	vm.now = at_ticks(t0, 0x10);
	assert_int_equal(in(0x40), 0x70);
	assert_int_equal(in(0x40), 0x70); /* LSB every time */
	out(0x43, 0x24);		  /* MSB only */
	out(0x40, 0x02);
	t0 = vm.now;
	vm.now = at_ticks(t0, 0x100);
	assert_int_equal(in(0x40), 0x01);
	/* BCD, mode 2, count 1000 */
	out(0x43, 0x35);
	out(0x40, 0x00);
	out(0x40, 0x10);
	t0 = vm.now;
	vm.now = at_ticks(t0, 1);
	assert_int_equal(in(0x40), 0x99);
	assert_int_equal(in(0x40), 0x09);
	assert_near(vpit_next_event_ns(&pit), at_ticks(t0, 1000));
	/* read of the control port, modes 6/7 alias 2/3 */
	assert_int_equal(in(0x43), 0xFF);
	out(0x43, 0x3E);
	out(0x43, 0xE2);
	assert_int_equal(in(0x40) & 0x0E, 0x06);
	/* hostile BCD digits still make a bounded count */
	out(0x43, 0x35);
	out(0x40, 0xFF);
	out(0x40, 0xFF);
	assert_true(vpit_next_event_ns(&pit) < vm.now + 20000000);
	/* count 1 in mode 2 is raised to 2: no storm */
	out(0x43, 0x14);
	out(0x40, 1);
	t0 = vm.now;
	assert_near(vpit_next_event_ns(&pit), at_ticks(t0, 2));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(linux_pit_calibrate, setup),
		cmocka_unit_test_setup(linux_quick_pit_calibrate, setup),
		cmocka_unit_test_setup(gate_pauses_mode0, setup),
		cmocka_unit_test_setup(mode2_periodic_irq0, setup),
		cmocka_unit_test_setup(mode3_square_wave, setup),
		cmocka_unit_test_setup(mode0_oneshot_and_reprogram, setup),
		cmocka_unit_test_setup(latch_readback_and_access_modes, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
