/* core/placement.c: which physical CPU each vCPU runs on (static partitioning while CPUs last,
 * then an even spread for time-slicing; pins honoured and kept clear of). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/placement.h"

#define NCPU 8

static bool usable[NCPU];
static unsigned cpu_of[32], load[NCPU];

static void all_usable(unsigned n)
{
	for (unsigned c = 0; c < NCPU; c++)
		usable[c] = c < n;
}

static void own_cpu_each_while_they_last(void **state)
{
	(void)state;
	/* the side-by-side scenario: a (2 vCPUs), b, c on four CPUs */
	int pins[4] = { -1, -1, -1, -1 };
	all_usable(4);
	placement_assign(pins, 4, usable, 4, cpu_of, load);
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(cpu_of[i], i);
		assert_int_equal(load[i], 1);
	}
}

static void outnumbered_spread_evenly(void **state)
{
	(void)state;
	/* four vCPUs on two CPUs: two each, in turn from the lowest number */
	int pins[5] = { -1, -1, -1, -1, -1 };
	all_usable(2);
	placement_assign(pins, 4, usable, 2, cpu_of, load);
	assert_int_equal(cpu_of[0], 0);
	assert_int_equal(cpu_of[1], 1);
	assert_int_equal(cpu_of[2], 0);
	assert_int_equal(cpu_of[3], 1);
	assert_int_equal(load[0], 2);
	assert_int_equal(load[1], 2);
	/* five on two: no CPU has more than one vCPU over another */
	placement_assign(pins, 5, usable, 2, cpu_of, load);
	assert_int_equal(load[0], 3);
	assert_int_equal(load[1], 2);
	/* everything on one CPU */
	placement_assign(pins, 5, usable, 1, cpu_of, load);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(cpu_of[i], 0);
	assert_int_equal(load[0], 5);
}

static void pins_honoured_and_kept_clear_of(void **state)
{
	(void)state;
	/* a later VM pinned to CPU 1 and 2: the unpinned vCPUs before it avoid those CPUs */
	int pins[5] = { -1, -1, 1, 2, -1 };
	all_usable(4);
	placement_assign(pins, 5, usable, 4, cpu_of, load);
	assert_int_equal(cpu_of[2], 1);
	assert_int_equal(cpu_of[3], 2);
	assert_int_equal(cpu_of[0], 0);
	assert_int_equal(cpu_of[1], 3);
	assert_int_equal(cpu_of[4], 0); /* then the lowest of the equally loaded */
	/* two vCPUs pinned to one CPU share it, whatever else is free */
	int same[2] = { 3, 3 };
	placement_assign(same, 2, usable, 4, cpu_of, load);
	assert_int_equal(cpu_of[0], 3);
	assert_int_equal(cpu_of[1], 3);
	assert_int_equal(load[3], 2);
	assert_int_equal(load[0], 0);
}

static void unusable_cpus_skipped(void **state)
{
	(void)state;
	/* CPU 1 did not come up, CPU 3 could not enable virtualization: never chosen */
	int pins[4] = { -1, -1, -1, -1 };
	all_usable(4);
	usable[1] = false;
	usable[3] = false;
	placement_assign(pins, 4, usable, 4, cpu_of, load);
	for (unsigned i = 0; i < 4; i++)
		assert_true(cpu_of[i] == 0 || cpu_of[i] == 2);
	assert_int_equal(load[0], 2);
	assert_int_equal(load[2], 2);
	assert_int_equal(load[1], 0);
	assert_int_equal(load[3], 0);
}

static void out_of_range_pin_treated_as_unpinned(void **state)
{
	(void)state;
	/* hv_vcpu_pin refuses such a pin; should one get here anyway it places nothing out of
	 * bounds */
	int pins[2] = { 7, 1000 };
	all_usable(2);
	placement_assign(pins, 2, usable, 2, cpu_of, load);
	assert_true(cpu_of[0] < 2);
	assert_true(cpu_of[1] < 2);
	assert_int_equal(load[0] + load[1], 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(own_cpu_each_while_they_last),
		cmocka_unit_test(outnumbered_spread_evenly),
		cmocka_unit_test(pins_honoured_and_kept_clear_of),
		cmocka_unit_test(unusable_cpus_skipped),
		cmocka_unit_test(out_of_range_pin_treated_as_unpinned),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
