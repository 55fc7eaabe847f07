/* printf-style formatting into a buffer: %d %i %u %x %X %p %s %c %%, with l/ll/z/h length
 * modifiers, '-', '0' flags, a width and a precision for %s. Always NUL-terminates; returns the
 * length the full output would have had. */
#ifndef KEEL_LIB_FMT_H
#define KEEL_LIB_FMT_H

#include "lib/types.h"

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap);
int ksnprintf(char *buf, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);
/* ksnprintf into err, then -1: the why of a failing call, in one statement. */
int kfail(char *err, size_t size, const char *fmt, ...) PRINTF_LIKE(3, 4);

#endif
