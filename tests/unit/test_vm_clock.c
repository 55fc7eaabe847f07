/* core/vm_clock.c: one clock per VM. The pvclock arithmetic against 128-bit reference arithmetic
 * over the whole TSC range; every vCPU's kvm-clock structure giving the VM's time whatever its
 * TSC offset; IA32_TSC writes that synchronise and writes that move the VM's TSC; the TSC-deadline
 * conversion; and readings interleaved across vCPUs never stepping back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "core/vm_clock.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t next_random(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* What a guest computes from its kvm-clock structure (the KVM documentation's formula, as Linux's
 * pvclock_scale_delta does it): a 64-bit shift, then a 64 x 32 bit product shifted right by 32,
 * here in 128 bits. */
static uint64_t reference_scale(struct pvclock_scale s, uint64_t delta)
{
	delta = s.shift < 0 ? delta >> -s.shift : delta << s.shift;
	return (uint64_t)(((unsigned __int128)delta * s.mul) >> 32);
}

static uint64_t guest_reads_kvmclock(uint64_t tsc_timestamp, uint64_t system_time,
				     struct pvclock_scale s, uint64_t guest_tsc)
{
	return system_time + reference_scale(s, guest_tsc - tsc_timestamp);
}

static const uint64_t rates[] = {
	1000,	    3579545,	50000000,   100000000,	   999999999,
	1000000000, 1021422000, 2000000000, 3700000000ull, 5000000000ull
};
#define NR_RATES (sizeof(rates) / sizeof(rates[0]))

static void scale_equals_reference_over_whole_range(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_RATES; i++) {
		struct pvclock_scale s = pvclock_scale_for(rates[i]);
		/* deltas whose shifted value fits 64 bits: all of them for a negative shift */
		uint64_t limit = s.shift > 0 ? UINT64_MAX >> s.shift : UINT64_MAX;
		for (unsigned n = 0; n < 200000; n++) {
			uint64_t d = next_random() >> (next_random() % 64);
			if (d > limit)
				d = limit;
			assert_true(pvclock_scale_apply(s, d) == reference_scale(s, d));
		}
		assert_true(pvclock_scale_apply(s, limit) == reference_scale(s, limit));
		assert_true(pvclock_scale_apply(s, 0) == 0);
	}
}

static void scale_never_steps_back(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_RATES; i++) {
		struct pvclock_scale s = pvclock_scale_for(rates[i]);
		for (unsigned n = 0; n < 100000; n++) {
			uint64_t a = next_random() >> 8,
				 b = a + (next_random() >> (next_random() % 64));
			if (b < a || (s.shift > 0 && b > UINT64_MAX >> s.shift))
				continue;
			assert_true(pvclock_scale_apply(s, a) <= pvclock_scale_apply(s, b));
		}
	}
}

/* Every vCPU's structure is (guest TSC at time 0, 0): whatever the TSC offset, the guest computes
 * exactly keel's time for the VM at that host TSC. */
static void every_vcpu_reads_the_vms_time(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_RATES; i++) {
		struct vm_clock c;
		uint64_t t0 = next_random();
		vm_clock_start(&c, t0, rates[i], true);
		for (unsigned n = 0; n < 20000; n++) {
			if (n % 1000 == 999) /* the VM's TSC set far away, as a guest may */
				assert_true(vm_clock_write_tsc(&c, next_random(), t0 + n * 977u));
			uint64_t host = t0 + (next_random() >> (24 + next_random() % 40));
			uint64_t guest_tsc = host + c.tsc_offset;
			uint64_t got = guest_reads_kvmclock(vm_clock_tsc_at_zero(&c), 0, c.scale,
							    guest_tsc);
			assert_true(got == vm_clock_ns(&c, host));
			assert_true(vm_clock_tsc_ns(&c, guest_tsc) == vm_clock_ns(&c, host));
		}
	}
}

static void time_starts_at_zero_and_runs_at_the_tsc_rate(void **state)
{
	(void)state;
	struct vm_clock c;
	vm_clock_start(&c, 1000000, 2000000000, false);
	assert_true(vm_clock_ns(&c, 1000000) == 0);
	assert_true(vm_clock_ns(&c, 999000) == 0); /* a read a little behind the start */
	assert_true(vm_clock_ns(&c, 1000000 + 2000000000) == 1000000000);
	assert_true(c.tsc_offset + 1000000 == 0); /* the guest TSC starts at 0 */
	assert_false(c.stable);
	/* a TSC deadline before guest time 0 is due at once */
	assert_true(vm_clock_tsc_ns(&c, 0) == 0);
	assert_true(vm_clock_write_tsc(&c, 1ull << 40, 1000000 + 4000000000ull));
	assert_true(vm_clock_tsc_ns(&c, 5) == 0);
}

static void tsc_writes_synchronise_or_move_the_vm(void **state)
{
	(void)state;
	struct vm_clock c;
	const uint64_t hz = 1000000000, t0 = 5000;
	vm_clock_start(&c, t0, hz, true);
	/* 0 written on each vCPU at boot, within a second of the start: nothing moves */
	assert_false(vm_clock_write_tsc(&c, 0, t0 + hz / 2));
	assert_false(vm_clock_write_tsc(&c, 0, t0 + hz - 1));
	assert_int_equal(c.tsc_gen, 0);
	/* a value far from where the TSC is sets the VM's TSC */
	assert_true(vm_clock_write_tsc(&c, 100 * hz, t0 + 3 * hz));
	assert_int_equal(c.tsc_gen, 1);
	assert_true(t0 + 3 * hz + c.tsc_offset == 100 * hz);
	/* the other vCPUs write the same value a moment later: synchronising, no step back */
	uint64_t offset = c.tsc_offset;
	assert_false(vm_clock_write_tsc(&c, 100 * hz, t0 + 3 * hz + 5000));
	assert_false(vm_clock_write_tsc(&c, 100 * hz + hz / 2, t0 + 3 * hz + 9000));
	assert_true(c.tsc_offset == offset);
	/* backwards by more than a second moves it back: the guest asked */
	assert_true(vm_clock_write_tsc(&c, 10, t0 + 4 * hz));
	assert_int_equal(c.tsc_gen, 2);
	/* near the wrap: distances are modular */
	assert_true(vm_clock_write_tsc(&c, UINT64_MAX - 10, t0 + 8 * hz));
	assert_false(vm_clock_write_tsc(&c, 5, t0 + 8 * hz + 100));
}

/* vCPUs read in some interleaving, each through its own structure after TSC writes that move the
 * VM: a read that comes later in host time is never earlier in guest time, on any vCPU. */
static void interleaved_reads_never_step_back(void **state)
{
	(void)state;
	for (size_t i = 0; i < NR_RATES; i++) {
		struct vm_clock c;
		uint64_t host = next_random() >> 1;
		vm_clock_start(&c, host, rates[i], true);
		uint64_t tsc_at_zero[4], last = 0;
		for (unsigned v = 0; v < 4; v++)
			tsc_at_zero[v] = vm_clock_tsc_at_zero(&c);
		for (unsigned n = 0; n < 50000; n++) {
			host += next_random() % 3000;
			unsigned v = (unsigned)(next_random() % 4);
			if (next_random() % 5000 == 0) {
				vm_clock_write_tsc(&c, next_random(), host);
				for (unsigned w = 0; w < 4;
				     w++) /* each takes it (vcpu_take_clock) */
					tsc_at_zero[w] = vm_clock_tsc_at_zero(&c);
			}
			uint64_t now = guest_reads_kvmclock(tsc_at_zero[v], 0, c.scale,
							    host + c.tsc_offset);
			assert_true(now >= last);
			last = now;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scale_equals_reference_over_whole_range),
		cmocka_unit_test(scale_never_steps_back),
		cmocka_unit_test(every_vcpu_reads_the_vms_time),
		cmocka_unit_test(time_starts_at_zero_and_runs_at_the_tsc_rate),
		cmocka_unit_test(tsc_writes_synchronise_or_move_the_vm),
		cmocka_unit_test(interleaved_reads_never_step_back),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
