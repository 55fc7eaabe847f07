/* The string and memory routines keel uses. In keel they come from lib/rt/string.c; on the host
 * (unit tests, fuzzers) from the C library, so the sanitizers see every access. */
#ifndef KEEL_LIB_KSTRING_H
#define KEEL_LIB_KSTRING_H

#include "lib/types.h"

#ifdef KEEL_HOST
#include <string.h>
#else
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
void *memchr(const void *s, int c, size_t n);
size_t strlen(const char *s);
int strcmp(const char *a, const char *b);
int strncmp(const char *a, const char *b, size_t n);
#endif

/* Copies at most size - 1 bytes and always terminates; returns strlen(src) so truncation shows. */
size_t kstrlcpy(char *dst, const char *src, size_t size);
/* Bytes of s before the first NUL, looking at most at max bytes. */
size_t kstrnlen(const char *s, size_t max);

#endif
