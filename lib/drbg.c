#include "lib/drbg.h"

#include "lib/kstring.h"

static uint32_t rotl(uint32_t v, unsigned n)
{
	return v << n | v >> (32 - n);
}

/* RFC 8439, 2.1 */
static void quarter(uint32_t *x, unsigned a, unsigned b, unsigned c, unsigned d)
{
	x[a] += x[b];
	x[d] = rotl(x[d] ^ x[a], 16);
	x[c] += x[d];
	x[b] = rotl(x[b] ^ x[c], 12);
	x[a] += x[b];
	x[d] = rotl(x[d] ^ x[a], 8);
	x[c] += x[d];
	x[b] = rotl(x[b] ^ x[c], 7);
}

void chacha20_block(const uint32_t key[8], uint32_t counter, const uint32_t nonce[3],
		    uint8_t out[64])
{
	/* "expand 32-byte k", the key, the counter, the nonce (2.3) */
	uint32_t s[16] = { 0x61707865, 0x3320646e, 0x79622d32, 0x6b206574 }, x[16];
	memcpy(s + 4, key, 32);
	s[12] = counter;
	memcpy(s + 13, nonce, 12);
	memcpy(x, s, sizeof(x));
	for (unsigned i = 0; i < 10; i++) {
		quarter(x, 0, 4, 8, 12);
		quarter(x, 1, 5, 9, 13);
		quarter(x, 2, 6, 10, 14);
		quarter(x, 3, 7, 11, 15);
		quarter(x, 0, 5, 10, 15);
		quarter(x, 1, 6, 11, 12);
		quarter(x, 2, 7, 8, 13);
		quarter(x, 3, 4, 9, 14);
	}
	/* serialised little-endian, as x86 stores words (2.3) */
	for (unsigned i = 0; i < 16; i++)
		x[i] += s[i];
	memcpy(out, x, 64);
}

static void next_block(struct drbg *d, uint8_t out[64])
{
	uint32_t nonce[3] = { (uint32_t)(d->blocks >> 32), 0x6b65656c /* "keel" */, 0 };
	chacha20_block(d->key, (uint32_t)d->blocks, nonce, out);
	d->blocks++;
}

/* The key becomes keystream nobody saw. */
static void rekey(struct drbg *d)
{
	uint8_t b[64];
	next_block(d, b);
	memcpy(d->key, b, 32);
	memset(b, 0, sizeof(b));
}

void drbg_seed(struct drbg *d, const void *seed, size_t n)
{
	const uint8_t *p = seed;
	while (n) {
		uint32_t chunk[8] = { 0 };
		size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
		memcpy(chunk, p, k);
		for (unsigned i = 0; i < 8; i++)
			d->key[i] ^= chunk[i];
		rekey(d);
		p += k;
		n -= k;
	}
}

void drbg_generate(struct drbg *d, void *out, size_t n)
{
	uint8_t b[64], *o = out;
	while (n) {
		size_t k = n < sizeof(b) ? n : sizeof(b);
		next_block(d, b);
		memcpy(o, b, k);
		o += k;
		n -= k;
	}
	memset(b, 0, sizeof(b));
	rekey(d);
}
