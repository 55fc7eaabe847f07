/* Host stand-ins for keel's console and panic, for unit tests and fuzzers: log lines are kept in
 * a buffer that tests can search, and a panic aborts the test (which the runner reports). */
#include "tests/support/host_log.h"

#include <stdio.h>
#include <stdlib.h>

#include "core/panic.h"
#include "lib/fmt.h"

static char log_buf[64 * 1024];
static size_t log_len;

void klog(const char *fmt, ...)
{
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	size_t n = strlen(line);
	if (log_len + n + 2 < sizeof(log_buf)) {
		memcpy(log_buf + log_len, line, n);
		log_len += n;
		log_buf[log_len++] = '\n';
		log_buf[log_len] = '\0';
	}
	if (getenv("KEEL_TEST_VERBOSE"))
		fprintf(stderr, "klog: %s\n", line);
}

const char *host_log_text(void)
{
	return log_buf;
}

void host_log_clear(void)
{
	log_len = 0;
	log_buf[0] = '\0';
}

bool host_log_contains(const char *s)
{
	return strstr(log_buf, s) != NULL;
}

void panic(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fprintf(stderr, "PANIC: %s\n", msg);
	abort();
}

void backtrace_from(uint64_t rbp)
{
	(void)rbp;
}
