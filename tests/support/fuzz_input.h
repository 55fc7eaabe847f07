/* A fuzz target's input read as a byte stream: bytes as the target needs them, zeros once the
 * input runs out (so every input, however short, runs to its end). One per fuzz target (each
 * target is one translation unit); fuzz_input_start at the top of LLVMFuzzerTestOneInput. */
#ifndef KEEL_TESTS_SUPPORT_FUZZ_INPUT_H
#define KEEL_TESTS_SUPPORT_FUZZ_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

static struct {
	const uint8_t *p;
	size_t n, off;
} fuzz_in;

static inline void fuzz_input_start(const uint8_t *data, size_t size)
{
	fuzz_in.p = data;
	fuzz_in.n = size;
	fuzz_in.off = 0;
}

/* Whether input bytes are left. */
static inline bool fuzz_input_left(void)
{
	return fuzz_in.off < fuzz_in.n;
}

static inline uint8_t u8(void)
{
	return fuzz_in.off < fuzz_in.n ? fuzz_in.p[fuzz_in.off++] : 0;
}

/* bytes (at most 8) little-endian */
static inline uint64_t un(unsigned bytes)
{
	uint64_t v = 0;

	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)u8() << (8 * i);
	return v;
}

#endif
