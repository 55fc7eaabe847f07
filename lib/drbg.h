/* keel's deterministic random bit generator, for CPUs without RDRAND/RDSEED: the ChaCha20 block
 * function (RFC 8439, 2.3) run in counter mode under a 256-bit key that is replaced after every
 * request by keystream the caller never saw ("fast key erasure"), so output already handed out
 * cannot be recomputed from a later state. Its strength is its seed's: arch/x86/entropy.c says
 * what it is seeded with. Pure logic; the caller serialises calls. */
#ifndef KEEL_LIB_DRBG_H
#define KEEL_LIB_DRBG_H

#include "lib/types.h"

struct drbg {
	uint32_t key[8];
	uint64_t blocks; /* generated so far: the block counter and nonce */
};

/* The ChaCha20 block for key, 32-bit block counter and 96-bit nonce (RFC 8439, 2.3.2). */
void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
		    uint8_t out[64]);
/* Mixes seed into the key (any length; call again to add more). */
void drbg_seed(struct drbg *d, const void *seed, size_t n);
void drbg_generate(struct drbg *d, void *out, size_t n);

#endif
