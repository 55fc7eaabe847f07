/* lib/drbg.c: the ChaCha20 block function against RFC 8439's test vector (2.3.2) and against
 * openssl's ChaCha20 for another key, counter and nonce; then the DRBG built on it: the same
 * seed gives the same bytes, different seeds differ, no output repeats, and every request ends
 * with the key replaced by keystream the caller never saw (fast key erasure). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "lib/drbg.h"

/* RFC 8439 2.3.2: the serialized block for key 00..1f, counter 1, nonce 00:00:00:09:00:00:00:4a:
 * 00:00:00:00 (also what `openssl enc -chacha20` gives for that key and IV) */
static const uint8_t rfc_block[64] = {
	0x10, 0xf1, 0xe7, 0xe4, 0xd1, 0x3b, 0x59, 0x15, 0x50, 0x0f, 0xdd, 0x1f, 0xa3,
	0x20, 0x71, 0xc4, 0xc7, 0xd1, 0xf4, 0xc7, 0x33, 0xc0, 0x68, 0x03, 0x04, 0x22,
	0xaa, 0x9a, 0xc3, 0xd4, 0x6c, 0x4e, 0xd2, 0x82, 0x64, 0x46, 0x07, 0x9f, 0xaa,
	0x09, 0x14, 0xc2, 0xd7, 0x05, 0xd9, 0x8b, 0x02, 0xa2, 0xb5, 0x12, 0x9c, 0xd1,
	0xde, 0x16, 0x4e, 0xb9, 0xcb, 0xd0, 0x83, 0xe8, 0xa2, 0x50, 0x3c, 0x4e,
};

/* The RFC's key and nonce are byte strings; the words are their little-endian reading. */
static void words(uint32_t *w, const uint8_t *bytes, size_t n)
{
	memcpy(w, bytes, n);
}

static void rfc_8439_vector(void **state)
{
	(void)state;
	uint8_t kb[32], out[64];
	static const uint8_t nb[12] = { 0, 0, 0, 9, 0, 0, 0, 0x4a, 0, 0, 0, 0 };
	uint32_t key[8], nonce[3];
	for (unsigned i = 0; i < 32; i++)
		kb[i] = (uint8_t)i;
	words(key, kb, 32);
	words(nonce, nb, 12);
	chacha20_block(key, 1, nonce, out);
	assert_memory_equal(out, rfc_block, 64);
	/* RFC 8439 2.3.2 also gives the state words after the rounds and the addition */
	uint32_t w0, w15;
	memcpy(&w0, out, 4);
	memcpy(&w15, out + 60, 4);
	assert_int_equal(w0, 0xe4e7f110);
	assert_int_equal(w15, 0x4e3c50a2);
}

static void hex(char *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(o + 2 * i, "%02x", b[i]);
}

/* Another key, counter and nonce through openssl: its IV is the 32-bit counter (little-endian)
 * then the 96-bit nonce, and it counts blocks up from there, so three blocks check the counter
 * too. */
static void matches_openssl(void **state)
{
	(void)state;
	if (system("command -v openssl >/dev/null 2>&1") != 0)
		fail_msg("openssl not found: install it (tools/install-deps lists it)");
	uint8_t kb[32], nb[12], iv[16], want[192], got[192];
	const uint32_t counter = 0x7ffffffe;
	for (unsigned i = 0; i < 32; i++)
		kb[i] = (uint8_t)(0xa5 ^ (i * 37 + 11));
	for (unsigned i = 0; i < 12; i++)
		nb[i] = (uint8_t)(0xc3 + i * 29);
	memcpy(iv, &counter, 4);
	memcpy(iv + 4, nb, 12);

	char khex[65], ivhex[33], cmd[256];
	hex(khex, kb, 32);
	hex(ivhex, iv, 16);
	snprintf(cmd, sizeof(cmd),
		 "head -c 192 /dev/zero | openssl enc -chacha20 -K %s -iv %s 2>/dev/null", khex,
		 ivhex);
	FILE *p = popen(cmd, "r");
	assert_non_null(p);
	size_t n = fread(want, 1, sizeof(want), p);
	int rc = pclose(p);
	if (rc != 0 || n != sizeof(want))
		fail_msg("openssl enc -chacha20 gave %zu bytes, status %d (%s)", n, rc, cmd);

	uint32_t key[8], nonce[3];
	words(key, kb, 32);
	words(nonce, nb, 12);
	for (unsigned b = 0; b < 3; b++)
		chacha20_block(key, counter + b, nonce, got + 64 * b);
	assert_memory_equal(got, want, sizeof(want));
}

/* ---- the DRBG ---- */

static void seeded(struct drbg *d, const char *seed)
{
	memset(d, 0, sizeof(*d));
	drbg_seed(d, seed, strlen(seed));
}

static void same_seed_same_bytes(void **state)
{
	(void)state;
	struct drbg a, b;
	uint8_t x[300], y[300];
	seeded(&a, "a seed of more than thirty-two bytes, so two chunks");
	seeded(&b, "a seed of more than thirty-two bytes, so two chunks");
	drbg_generate(&a, x, sizeof(x));
	drbg_generate(&b, y, sizeof(y));
	assert_memory_equal(x, y, sizeof(x));
	/* a request cut in two is not the same stream (each request rekeys), but still the same
	 * for the same seed */
	drbg_generate(&a, x, 10);
	drbg_generate(&b, y, 10);
	assert_memory_equal(x, y, 10);
	assert_memory_equal(&a, &b, sizeof(a));
}

static void different_seeds_differ(void **state)
{
	(void)state;
	static const char *const seeds[] = { "",
					     "a",
					     "b",
					     "ab",
					     "ba",
					     "0123456789abcdef0123456789abcdef",
					     "0123456789abcdef0123456789abcdeg",
					     "0123456789abcdef0123456789abcdef!" };
	uint8_t out[ARRAY_SIZE(seeds)][64];
	for (unsigned i = 0; i < ARRAY_SIZE(seeds); i++) {
		struct drbg d;
		seeded(&d, seeds[i]);
		drbg_generate(&d, out[i], 64);
	}
	for (unsigned i = 0; i < ARRAY_SIZE(seeds); i++)
		for (unsigned j = 0; j < i; j++)
			if (!memcmp(out[i], out[j], 64))
				fail_msg("seeds '%s' and '%s' gave the same bytes", seeds[i],
					 seeds[j]);
	/* seeding again adds to the key: it never goes back to what one seed gave */
	struct drbg d;
	uint8_t more[64];
	seeded(&d, "a");
	drbg_seed(&d, "b", 1);
	drbg_generate(&d, more, 64);
	assert_memory_not_equal(more, out[2], 64);
	assert_memory_not_equal(more, out[3], 64);
}

static void output_never_repeats(void **state)
{
	(void)state;
	enum { REQS = 64, LEN = 256 };
	static uint8_t out[REQS][LEN];
	struct drbg d;
	seeded(&d, "keel");
	for (unsigned i = 0; i < REQS; i++)
		drbg_generate(&d, out[i], LEN);
	/* no 16-byte piece appears twice in all 16 KiB */
	for (unsigned i = 0; i < REQS * LEN / 16; i++)
		for (unsigned j = 0; j < i; j++)
			if (!memcmp(&out[0][0] + 16 * i, &out[0][0] + 16 * j, 16))
				fail_msg("16 bytes at %u repeat those at %u", 16 * i, 16 * j);
	/* odd lengths, 0 included, write exactly what was asked */
	uint8_t buf[100];
	memset(buf, 0xEE, sizeof(buf));
	drbg_generate(&d, buf, 0);
	assert_int_equal(buf[0], 0xEE);
	drbg_generate(&d, buf, 65);
	assert_int_equal(buf[65], 0xEE);
}

/* Every request ends with a new key: the first half of the keystream block after the output,
 * under the old key, which the caller never saw. */
static void rekeys_after_each_request(void **state)
{
	(void)state;
	struct drbg d, before;
	uint8_t out[130], block[64];
	seeded(&d, "rekey");
	before = d;
	drbg_generate(&d, out, sizeof(out));
	assert_memory_not_equal(d.key, before.key, sizeof(d.key));
	/* the output was blocks before.blocks .. +2 under the old key (nonce: the counter's high
	 * half, "keel", 0), the new key the block after */
	assert_int_equal(d.blocks, before.blocks + 4);
	uint32_t nonce[3] = { (uint32_t)(before.blocks >> 32), 0x6b65656c, 0 };
	for (unsigned b = 0; b < 3; b++) {
		chacha20_block(before.key, (uint32_t)before.blocks + b, nonce, block);
		size_t n = b == 2 ? sizeof(out) - 128 : 64;
		assert_memory_equal(out + 64 * b, block, n);
	}
	chacha20_block(before.key, (uint32_t)before.blocks + 3, nonce, block);
	assert_memory_equal(d.key, block, 32);
	/* and the new key does not show in the output */
	for (unsigned i = 0; i + 32 <= sizeof(out); i++)
		assert_memory_not_equal(out + i, d.key, 32);
	/* the counter's high half goes into the nonce: no block repeats when the low half wraps */
	struct drbg w = d;
	w.blocks = 0xFFFFFFFFull;
	uint8_t x[64], y[64];
	drbg_generate(&w, x, 64);
	memcpy(w.key, d.key, sizeof(w.key));
	w.blocks = 0x1FFFFFFFFull;
	drbg_generate(&w, y, 64);
	assert_memory_not_equal(x, y, 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc_8439_vector),	cmocka_unit_test(matches_openssl),
		cmocka_unit_test(same_seed_same_bytes), cmocka_unit_test(different_seeds_differ),
		cmocka_unit_test(output_never_repeats), cmocka_unit_test(rekeys_after_each_request),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
