/* keel's log: one call, one console line stamped with the time since keel started
 * (CONVENTIONS.md, "Console lines the checks read"). keel implements it in core/console.c; host
 * tests link tests/support/host_log.c, which records the lines so tests can assert on them. */
#ifndef KEEL_LIB_LOG_H
#define KEEL_LIB_LOG_H

#include "lib/types.h"

void klog(const char *fmt, ...) PRINTF_LIKE(1, 2);

#endif
