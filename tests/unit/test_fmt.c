/* lib/fmt.c against the host C library's snprintf. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "lib/fmt.h"
#include "lib/kstring.h"

#define CHECK(...)                                                                                 \
	do {                                                                                       \
		char a[128], b[128];                                                               \
		int na = ksnprintf(a, sizeof(a), __VA_ARGS__);                                     \
		int nb = snprintf(b, sizeof(b), __VA_ARGS__);                                      \
		assert_string_equal(a, b);                                                         \
		assert_int_equal(na, nb);                                                          \
	} while (0)

static void matches_libc(void **state)
{
	(void)state;
	CHECK("plain");
	CHECK("%d %d %d", 0, -1, 2147483647);
	CHECK("%d", (int)-2147483647 - 1);
	CHECK("%lld %llu", (long long)INT64_MIN, (unsigned long long)UINT64_MAX);
	CHECK("%ld %lu %zu", -5L, 7UL, (size_t)12345);
	CHECK("%x %X %08x %-6x|", 0xdeadbeefu, 0xabcu, 0x12u, 0x3u);
	CHECK("%016llx", 0x1234ull);
	CHECK("%5d|%-5d|%05d", 42, 42, 42);
	CHECK("%s|%10s|%-10s|%.3s|%.*s", "abc", "abc", "abc", "abcdef", 2, "xyz");
	CHECK("%c%c", 'a', 'b');
	CHECK("100%%");
	CHECK("[%04llu.%06llu]", 12ull, 345ull);
	CHECK("%u", 4000000000u);
	/* cppcheck-suppress invalidPrintfArgType_uint ; %hhu/%hu wrap 300 and 70000 on purpose */
	CHECK("%hhu %hu", 300, 70000);
	CHECK("%#x %#llx %#X %#x|%10x|", 0x1bu, 0xc0000103ull, 0xabu, 0u, 0x12u);
}

static void truncates_and_terminates(void **state)
{
	(void)state;
	char buf[8];
	memset(buf, 'z', sizeof(buf));
	assert_int_equal(ksnprintf(buf, sizeof(buf), "%s", "0123456789"), 10);
	assert_string_equal(buf, "0123456");
	assert_int_equal(ksnprintf(buf, 0, "%d", 5), 1);
	assert_int_equal(buf[0], '0');
	assert_int_equal(ksnprintf(buf, 1, "abc"), 3);
	assert_string_equal(buf, "");
}

/* Formats the compiler would reject at compile time, passed the way a runtime string would be. */
static int fmt_runtime(char *buf, size_t n, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int r = kvsnprintf(buf, n, fmt, ap);
	va_end(ap);
	return r;
}

static void odd_formats(void **state)
{
	(void)state;
	char buf[32];
	const char *null_str = NULL;
	fmt_runtime(buf, sizeof(buf), "%s", null_str);
	assert_string_equal(buf, "(null)");
	fmt_runtime(buf, sizeof(buf), "a%");
	assert_string_equal(buf, "a");
	fmt_runtime(buf, sizeof(buf), "%q");
	assert_string_equal(buf, "%q");
	ksnprintf(buf, sizeof(buf), "%p", (void *)0x1000);
	assert_string_equal(buf, "0x1000");
}

static void strings(void **state)
{
	(void)state;
	char buf[4];
	assert_int_equal(kstrlcpy(buf, "abcdef", sizeof(buf)), 6);
	assert_string_equal(buf, "abc");
	assert_int_equal(kstrlcpy(buf, "ab", sizeof(buf)), 2);
	assert_string_equal(buf, "ab");
	assert_int_equal(kstrnlen("abcdef", 3), 3);
	assert_int_equal(kstrnlen("ab", 3), 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(matches_libc),
		cmocka_unit_test(truncates_and_terminates),
		cmocka_unit_test(odd_formats),
		cmocka_unit_test(strings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
