/* The status bar's text (core/status_bar.c): sizes in the largest unit, rounded down, rates over
 * the time between two samples, and "-" where there is no rate to give. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <string.h>

#include "core/status_bar.h"

static char buf[200];

static void first_sample(void **state)
{
	(void)state;
	struct status_sample s = { 5000000000ull, 2, 1, 2, 1288 * MiB, 21000 * MiB, 123, 456 };
	status_bar_format(buf, sizeof(buf), NULL, &s);
	assert_string_equal(buf, "keel | vms 2 running, 1 stopped | cpus 2 | mem 1.2G used, 20.5G "
				 "free | disk - | net -");
}

static void rates(void **state)
{
	(void)state;
	struct status_sample a = { 1000000000ull, 1, 0, 8, 512, 1023, 10 * MiB, 0 };
	struct status_sample b = a;
	b.now_ns += 2000000000ull; /* two seconds */
	b.disk_bytes += 25 * MiB;  /* 12.5 MiB/s */
	b.net_bytes += 3000;	   /* 1500 B/s: 1.4K */
	status_bar_format(buf, sizeof(buf), &a, &b);
	assert_string_equal(buf, "keel | vms 1 running, 0 stopped | cpus 8 | mem 512B used, 1023B "
				 "free | disk 12.5M/s | net 1.4K/s");
	/* no time between them, or a counter that went back: no rate */
	status_bar_format(buf, sizeof(buf), &a, &a);
	assert_non_null(strstr(buf, "disk - | net -"));
	b.disk_bytes = 0;
	status_bar_format(buf, sizeof(buf), &a, &b);
	assert_non_null(strstr(buf, "disk - | net 1.4K/s"));
}

static void extremes(void **state)
{
	(void)state;
	struct status_sample a = { 0, 0, 0, 1, UINT64_MAX, 1024, 0, 0 };
	struct status_sample b = a;
	b.now_ns = 1;
	b.disk_bytes = UINT64_MAX; /* in one nanosecond: no overflow, the largest unit */
	b.net_bytes = 1;
	status_bar_format(buf, sizeof(buf), &a, &b);
	assert_non_null(strstr(buf, "mem 16777215.0T used, 1.0K free"));
	assert_non_null(strstr(buf, "net 953.6M/s"));	    /* 10^9 B/s */
	assert_non_null(strstr(buf, "disk 16777215.0T/s")); /* saturated, not wrapped */
	/* a buffer too small is cut, and terminated */
	char tiny[8];
	status_bar_format(tiny, sizeof(tiny), NULL, &a);
	assert_string_equal(tiny, "keel | ");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(first_sample),
		cmocka_unit_test(rates),
		cmocka_unit_test(extremes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
