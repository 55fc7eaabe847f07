/* Freestanding memory and string routines for keel itself (the compiler also emits calls to the
 * mem* ones). Host builds use the C library's instead (lib/kstring.h). */
#include "lib/kstring.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	void *ret = dst;
	if (n >= 64) {
		size_t q = n / 8;
		__asm__ volatile("rep movsq" : "+D"(dst), "+S"(src), "+c"(q) : : "memory");
		n &= 7;
	}
	__asm__ volatile("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
	return ret;
}

void *memmove(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	if (d <= s || d >= s + n)
		return memcpy(dst, src, n);
	while (n--)
		d[n] = s[n];
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	void *ret = dst;
	/* whole quadwords first: under emulation (QEMU TCG) each iteration costs the same, so
	 * eight bytes at a time zero a guest's RAM eight times faster */
	if (n >= 64 && IS_ALIGNED((uintptr_t)dst, 8)) {
		size_t q = n / 8;
		uint64_t v = 0x0101010101010101ull * (uint8_t)c;
		__asm__ volatile("rep stosq" : "+D"(dst), "+c"(q) : "a"(v) : "memory");
		n &= 7;
	}
	__asm__ volatile("rep stosb" : "+D"(dst), "+c"(n) : "a"(c) : "memory");
	return ret;
}

int memcmp(const void *a, const void *b, size_t n)
{
	const unsigned char *x = a, *y = b;
	for (size_t i = 0; i < n; i++)
		if (x[i] != y[i])
			return x[i] - y[i];
	return 0;
}

void *memchr(const void *s, int c, size_t n)
{
	const unsigned char *p = s;
	for (size_t i = 0; i < n; i++)
		if (p[i] == (unsigned char)c)
			return (void *)(p + i);
	return NULL;
}

size_t strlen(const char *s)
{
	size_t n = 0;
	while (s[n])
		n++;
	return n;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, size_t n)
{
	for (; n; n--, a++, b++) {
		if (*a != *b || !*a)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}
