/* lib/clock_warp.c: a clock in step on two host threads never steps back; a clock one CPU sees
 * behind the other's is caught, with the size of its step back; a partner that never comes is
 * given up on. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "lib/clock_warp.h"

static uint64_t ticks;
static __thread uint64_t behind; /* how far this thread's view of the clock lags */

static uint64_t shared_clock(void)
{
	return __atomic_add_fetch(&ticks, 1, __ATOMIC_SEQ_CST) - behind;
}

struct runner {
	struct clock_warp *w;
	unsigned cpu;
	uint64_t behind;
	bool ran;
};

static void *run(void *arg)
{
	struct runner *r = arg;
	behind = r->behind;
	r->ran = clock_warp_run(r->w, r->cpu, 2, 20000, 1ul << 34);
	return NULL;
}

static void two_threads(struct clock_warp *w)
{
	pthread_t t;
	struct runner r0 = { w, 0, 0, false }, r1 = { w, 1, 0, false };
	ticks = 1ull << 32;
	clock_warp_init(w, shared_clock);
	assert_int_equal(pthread_create(&t, NULL, run, &r1), 0);
	run(&r0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(r0.ran && r1.ran);
}

static void in_step_passes(void **state)
{
	(void)state;
	struct clock_warp w;
	two_threads(&w);
	assert_int_equal(w.warps, 0);
	assert_true(w.max_back == 0);
}

/* Reads alternating between two CPUs, CPU 1's clock 5000 ticks behind: every read CPU 1 makes
 * after one of CPU 0's steps back, by 5000 less the ticks between them. */
static void a_clock_behind_is_caught(void **state)
{
	(void)state;
	struct clock_warp w;
	clock_warp_init(&w, shared_clock);
	ticks = 1ull << 32;
	for (unsigned i = 0; i < 100; i++) {
		behind = 0;
		clock_warp_read(&w, 0);
		behind = i % 2 ? 5000 : 0; /* CPU 1 lags on every other turn */
		clock_warp_read(&w, 1);
	}
	behind = 0;
	assert_int_equal(w.handoffs, 199);
	assert_int_equal(w.warps, 50);
	assert_true(w.max_back == 4999);
}

static void an_absent_partner_is_given_up_on(void **state)
{
	(void)state;
	struct clock_warp w;
	clock_warp_init(&w, shared_clock);
	assert_false(clock_warp_run(&w, 0, 2, 10, 1000));
	assert_int_equal(w.handoffs, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(in_step_passes),
		cmocka_unit_test(a_clock_behind_is_caught),
		cmocka_unit_test(an_absent_partner_is_given_up_on),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
