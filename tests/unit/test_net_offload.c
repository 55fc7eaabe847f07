/* io/net_offload.c: the Internet checksum (RFC 1071's worked example, odd lengths, carries),
 * offload fields bounded against the frame, and a checksum left open by a sender (NEEDS_CSUM)
 * filled in for TCP over IPv4 and IPv6 and for UDP's all-ones rule, checked by the independent
 * sum of tests/support/net_pkt.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "io/net_offload.h"
#include "tests/support/net_pkt.h"

static const uint8_t mac_a[6] = { 0x02, 0, 0, 0, 0, 1 };
static const uint8_t mac_b[6] = { 0x02, 0, 0, 0, 0, 2 };

static void rfc1071_example(void **state)
{
	(void)state;
	/* RFC 1071, 3: 00 01 f2 03 f4 f5 f6 f7 sums to 2ddf0, folded ddf2 */
	static const uint8_t b[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	assert_int_equal(net_csum_add(0, b, sizeof(b)), 0x2ddf0);
	assert_int_equal(net_csum_fold(net_csum_add(0, b, sizeof(b))), (uint16_t)~0xddf2);
	/* an odd byte is the high half of a last word */
	static const uint8_t odd[] = { 0x12, 0x34, 0x56 };
	assert_int_equal(net_csum_add(0, odd, 3), 0x1234 + 0x5600);
	assert_int_equal(net_csum_add(5, odd, 0), 5);
	/* carries fold more than once: 0xffff + 0xffff + 1 */
	assert_int_equal(net_csum_fold(0x1fffful), (uint16_t)~0x0001);
	assert_int_equal(net_csum_fold(0xffffffffffull),
			 (uint16_t)~0x00ff); /* 2^40 - 1 mod 0xffff */
	/* a long run of ones: 32 KiB of 0xff bytes never overflows and folds to 0xffff */
	uint8_t *big = malloc(65536);
	assert_non_null(big);
	memset(big, 0xff, 65536);
	assert_int_equal(net_csum_fold(net_csum_add(0, big, 65536)), 0);
	free(big);
}

static void valid_bounds(void **state)
{
	(void)state;
	struct net_offload o = { 0 };
	assert_true(net_offload_valid(&o, 0));
	/* without NEEDS_CSUM the offsets mean nothing */
	o.csum_start = 0xffff;
	assert_true(net_offload_valid(&o, 14));
	o.flags = NET_OFF_NEEDS_CSUM;
	o.csum_start = 34;
	o.csum_offset = 16;
	assert_true(net_offload_valid(&o, 52));
	assert_false(net_offload_valid(&o, 51));
	assert_false(net_offload_valid(&o, 0));
	o.csum_start = 0xffff;
	o.csum_offset = 0xffff;
	assert_false(net_offload_valid(&o, 0x1fffe));
	assert_true(net_offload_valid(&o, 0x20000));
	/* no segmentation yet */
	o = (struct net_offload){ .gso_type = 1 };
	assert_false(net_offload_valid(&o, 1514));
	/* a frame nobody may checksum is left as it was */
	uint8_t f[40];
	memset(f, 0xab, sizeof(f));
	o = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 30, .csum_offset = 9 };
	assert_false(net_csum_fill(f, sizeof(f), &o));
	for (unsigned i = 0; i < sizeof(f); i++)
		assert_int_equal(f[i], 0xab);
	assert_int_equal(o.flags, NET_OFF_NEEDS_CSUM);
	/* nothing to fill: true, untouched */
	o.flags = 0;
	assert_true(net_csum_fill(f, sizeof(f), &o));
	assert_int_equal(f[39], 0xab);
}

/* A TCP segment sent with its checksum open comes out as the fully checksummed one. */
static void fill_tcp(void **state)
{
	(void)state;
	static uint8_t want[2048], got[2048];
	static const size_t payloads[] = { 0, 1, 2, 3, 100, 1459, 1460 };
	for (unsigned v = 0; v < 4; v++) {
		for (unsigned i = 0; i < ARRAY_SIZE(payloads); i++) {
			struct pkt_spec s = { .v6 = v & 1,
					      .vlan = v & 2,
					      .dst = mac_a,
					      .src = mac_b,
					      .payload = payloads[i],
					      .seq = 0x01020304u * i,
					      .tcp_flags = PKT_TCP_ACK | PKT_TCP_PSH,
					      .seed = i };
			size_t len = pkt_tcp(want, &s, false);
			assert_int_equal(pkt_tcp(got, &s, true), len);
			assert_true(pkt_tcp_ok(want, len, pkt_l3(&s), s.v6));
			struct net_offload o = { .flags = NET_OFF_NEEDS_CSUM,
						 .csum_start = (uint16_t)pkt_l4(&s),
						 .csum_offset = 16 };
			assert_true(net_offload_valid(&o, len));
			assert_true(net_csum_fill(got, len, &o));
			assert_int_equal(o.flags, 0);
			assert_memory_equal(got, want, len);
		}
	}
}

/* UDP (RFC 768): a sum that comes out 0 is sent as 0xffff, 0 meaning "no checksum". Here the
 * field sits at the frame's start and the bytes after it sum to 0xffff. */
static void fill_zero_is_ones(void **state)
{
	(void)state;
	uint8_t f[6] = { 0, 0, 0x12, 0x34, 0xed, 0xcb };
	struct net_offload o = { .flags = NET_OFF_NEEDS_CSUM, .csum_start = 0, .csum_offset = 0 };
	assert_true(net_csum_fill(f, sizeof(f), &o));
	assert_int_equal(f[0], 0xff);
	assert_int_equal(f[1], 0xff);
	/* the field at the very end of the frame, its start in the middle */
	uint8_t g[7] = { 1, 2, 3, 0x10, 0x20, 0, 0 };
	o = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 3, .csum_offset = 2 };
	assert_true(net_csum_fill(g, sizeof(g), &o));
	assert_int_equal(pkt_get16(g + 5), (uint16_t)~0x1020);
	assert_int_equal(g[0] + g[1] + g[2], 6);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example),
		cmocka_unit_test(valid_bounds),
		cmocka_unit_test(fill_tcp),
		cmocka_unit_test(fill_zero_is_ones),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
