/* Fixed-width types and the few helpers every keel file uses. Freestanding: the compiler's own
 * <stdint.h>, <stddef.h>, <stdbool.h> and <stdarg.h> are allowed; nothing from a libc. */
#ifndef KEEL_LIB_TYPES_H
#define KEEL_LIB_TYPES_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define ALIGN_DOWN(x, a) ((x) & ~((__typeof__(x))(a)-1))
#define ALIGN_UP(x, a) ALIGN_DOWN((x) + (__typeof__(x))(a)-1, (a))
#define IS_ALIGNED(x, a) (((x) & ((__typeof__(x))(a)-1)) == 0)
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

#define KiB (1024ull)
#define MiB (1024ull * KiB)
#define GiB (1024ull * MiB)

#define PRINTF_LIKE(f, a) __attribute__((format(printf, f, a)))
#define NORETURN __attribute__((noreturn))
#define PACKED __attribute__((packed))

/* True when [base, base + len) fits inside [0, limit) without wrapping: the one range check used
 * for every guest- or file-supplied offset. */
static inline bool range_within(uint64_t base, uint64_t len, uint64_t limit)
{
	return base <= limit && len <= limit - base;
}

#endif
