/* core/kvmclock.c: the pvclock scale against exact arithmetic, the structures, the calendar. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/kvmclock.h"

static void scale_matches_exact_division(void **state)
{
	(void)state;
	static const uint64_t rates[] = { 1000,		 999999,	 1000000000, 1000000001,
					  1999999999,	 2000000000,	 2100000000, 3700000000,
					  4294967296ull, 100000000000ull };
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		struct pvclock_scale s = pvclock_scale_for(rates[i]);
		assert_true(s.mul >= 0x80000000u);
		for (uint64_t d = 1; d < (1ull << 40); d = d * 3 + 7) {
			unsigned __int128 exact = (unsigned __int128)d * 1000000000u / rates[i];
			uint64_t got = pvclock_scale_apply(s, d);
			/* off by at most a few parts in 2^31, plus the bits a negative shift drops */
			uint64_t tol =
				(uint64_t)(exact >> 29) + 2 +
				(s.shift < 0 ? (1ull << -s.shift) * 1000000000u / rates[i] : 0);
			uint64_t diff = got > exact ? got - (uint64_t)exact : (uint64_t)exact - got;
			if (diff > tol)
				fail_msg("rate %llu delta %llu: got %llu want %llu",
					 (unsigned long long)rates[i], (unsigned long long)d,
					 (unsigned long long)got, (unsigned long long)exact);
		}
	}
}

static void writes_structures_in_ram_only(void **state)
{
	(void)state;
	/* two pages, each its own allocation, as two host blocks of guest RAM */
	uint8_t *ram = calloc(1, 4096), *ram2 = calloc(1, 4096);
	struct gmem_extent ext[2] = { { 0x10000, 4096, ram, 0 }, { 0x11000, 4096, ram2, 0 } };
	struct guest_mem m = { .ext = ext, .nr = 2 };
	assert_int_equal(kvmclock_write_time(&m, 0x10000 + 64, 5000, 123,
					     pvclock_scale_for(2000000000), true),
			 0);
	uint32_t version, mul;
	uint64_t tsc, sys;
	memcpy(&version, ram + 64, 4);
	memcpy(&tsc, ram + 64 + 8, 8);
	memcpy(&sys, ram + 64 + 16, 8);
	memcpy(&mul, ram + 64 + 24, 4);
	assert_int_equal(version % 2, 0);
	assert_int_equal(tsc, 5000);
	assert_int_equal(sys, 123);
	assert_int_equal(mul, 0x80000000u);
	assert_int_equal((int8_t)ram[64 + 28], 0);
	assert_int_equal(ram[64 + 29], 1); /* TSC stable */
	assert_int_equal(kvmclock_write_time(&m, 0x10000 + 8192 - 16, 1, 1,
					     pvclock_scale_for(1000000), true),
			 -1);
	assert_int_equal(
		kvmclock_write_time(&m, 0x10000 + 2, 1, 1, pvclock_scale_for(1000000), true), -1);
	assert_int_equal(kvmclock_write_time(&m, UINT64_MAX - 8, 1, 1, pvclock_scale_for(1000000),
					     true),
			 -1);
	assert_int_equal(kvmclock_write_wall(&m, 0x10000, 1700000000), 0);
	uint32_t sec;
	memcpy(&sec, ram + 4, 4);
	assert_int_equal(sec, 1700000000);
	assert_int_equal(kvmclock_write_wall(&m, 0x12000, 1), -1);
	/* across the two blocks: the fields that fall in the second page land there */
	assert_int_equal(kvmclock_write_time(&m, 0x11000 - 12, 7, 9, pvclock_scale_for(2000000000),
					     false),
			 0);
	memcpy(&version, ram + 4096 - 12, 4);
	assert_int_equal(version, 2);
	assert_int_equal(gmem_read(&m, 0x11000 - 12 + 8, &tsc, 8), 0);
	assert_int_equal(gmem_read(&m, 0x11000 - 12 + 16, &sys, 8), 0);
	assert_int_equal(tsc, 7);
	assert_int_equal(sys, 9);
	assert_int_equal(ram2[28 - 12 + 1], 0); /* flags, in the second page: not stable */
	free(ram);
	free(ram2);
}

static void calendar_against_libc(void **state)
{
	(void)state;
	for (time_t t = 0; t < (time_t)4102444800; t += 86400 * 7 + 3607) {
		struct tm tm;
		gmtime_r(&t, &tm);
		assert_int_equal(epoch_seconds((unsigned)tm.tm_year + 1900, (unsigned)tm.tm_mon + 1,
					       (unsigned)tm.tm_mday, (unsigned)tm.tm_hour,
					       (unsigned)tm.tm_min, (unsigned)tm.tm_sec),
				 (uint64_t)t);
	}
	assert_int_equal(epoch_seconds(2000, 2, 29, 0, 0, 0), 951782400);
	assert_int_equal(epoch_seconds(1969, 12, 31, 0, 0, 0), 0);
	assert_int_equal(epoch_seconds(2026, 13, 1, 0, 0, 0), 0);
	assert_int_equal(epoch_seconds(2026, 1, 0, 0, 0, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(scale_matches_exact_division),
		cmocka_unit_test(writes_structures_in_ram_only),
		cmocka_unit_test(calendar_against_libc),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
