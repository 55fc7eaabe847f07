#ifndef KEEL_CORE_PANIC_H
#define KEEL_CORE_PANIC_H

#include "lib/types.h"

/* keel itself is broken: log why with a backtrace, then halt this CPU. Never silent. */
NORETURN void panic(const char *fmt, ...) PRINTF_LIKE(1, 2);

/* The image file backtraces name ("keel.so" or "keel.elf"), set by the boot entry. */
extern const char *panic_image_name;

/* Logs the return addresses of the frame-pointer chain that starts at rbp. */
void backtrace_from(uint64_t rbp);

#endif
