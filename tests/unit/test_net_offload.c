/* io/net_offload.c: the Internet checksum (RFC 1071's worked example, odd lengths, carries),
 * offload fields bounded against the frame, a checksum left open by a sender (NEEDS_CSUM) filled
 * in for TCP over IPv4 and IPv6 and for UDP's all-ones rule, and TCP frames of up to 64 KiB cut
 * into segments (IPv4 and IPv6, tagged or not, sequence numbers across 2^32, flags, IPv4 ids,
 * an IPv6 extension header, the largest frame) with every malformed header refused and every
 * truncation too; checked by the independent sums of tests/support/net_pkt.h. */
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
	static uint8_t z[NET_FRAME_MAX]; /* type 0: untagged */
	struct net_offload o = { 0 };
	assert_true(net_offload_valid(&o, z, 14));
	assert_true(net_offload_valid(&o, z, NET_FRAME_MAX_UNTAGGED));
	/* the frame must be one the switch carries at all */
	assert_false(net_offload_valid(&o, z, 13));
	assert_false(net_offload_valid(&o, z, NET_FRAME_MAX_UNTAGGED + 1));
	/* without NEEDS_CSUM the offsets mean nothing */
	o.csum_start = 0xffff;
	assert_true(net_offload_valid(&o, z, 14));
	o.flags = NET_OFF_NEEDS_CSUM;
	o.csum_start = 34;
	o.csum_offset = 16;
	assert_true(net_offload_valid(&o, z, 52));
	assert_false(net_offload_valid(&o, z, 51));
	o.csum_start = 0xffff;
	o.csum_offset = 0xffff;
	assert_false(net_offload_valid(&o, z, NET_FRAME_MAX_UNTAGGED));
	o.csum_start = 0;
	o.csum_offset = NET_FRAME_MAX_UNTAGGED - 2;
	assert_true(net_offload_valid(&o, z, NET_FRAME_MAX_UNTAGGED));
	/* a gso_type on what is no TCP frame, and types never offered */
	o = (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM,
				  .csum_start = 34,
				  .csum_offset = 16 };
	for (unsigned t = 1; t < 256; t++) {
		o.gso_type = (uint8_t)t;
		o.gso_size = 1448;
		assert_false(net_offload_valid(&o, z, 1514));
	}
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
	static const size_t payloads[] = { 0, 1, 2, 3, 100, 1399, 1400 };
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
			assert_true(net_offload_valid(&o, got, len));
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

/* ---- segmentation ---- */

static uint8_t big[NET_GSO_FRAME_MAX + 64];

static struct net_offload gso_off(const struct pkt_spec *s, uint16_t mss)
{
	return (struct net_offload){ .flags = NET_OFF_NEEDS_CSUM,
				     .gso_type = s->v6 ? NET_GSO_TCPV6 : NET_GSO_TCPV4,
				     .gso_size = mss,
				     .csum_start = (uint16_t)pkt_l4(s),
				     .csum_offset = 16 };
}

/* Cuts the frame s describes (built in big) at mss and checks every segment against it. */
static void cut_and_check(const struct pkt_spec *s, uint16_t mss)
{
	size_t len = pkt_tcp(big, s, true), l3 = pkt_l3(s), l4 = pkt_l4(s), hdr = l4 + 20;
	struct net_offload o = gso_off(s, mss);
	assert_true(net_offload_valid(&o, big, len));
	struct net_gso g;
	assert_true(net_gso_start(&g, big, len, &o));
	assert_int_equal(net_gso_hdr_len(&g), hdr);
	size_t want = (s->payload + mss - 1) / mss, done = 0;
	static uint8_t seg[NET_FRAME_MAX];
	for (size_t k = 0; k < want; k++) {
		assert_true(net_gso_more(&g));
		size_t n = s->payload - done < mss ? s->payload - done : mss;
		/* a buffer one byte short takes nothing and loses nothing */
		assert_int_equal(net_gso_next(&g, seg, hdr + n - 1), 0);
		g.open_csum = k % 3 == 1; /* some with the checksum left open */
		assert_int_equal(net_gso_next(&g, seg, sizeof(seg)), hdr + n);
		if (g.open_csum)
			assert_true(pkt_tcp_open_ok(seg, hdr + n, l3, s->v6));
		else
			assert_true(pkt_tcp_ok(seg, hdr + n, l3, s->v6));
		/* the Ethernet header (and tag) as sent */
		assert_memory_equal(seg, big, l3);
		assert_memory_equal(seg + hdr, big + hdr + done, n);
		assert_int_equal(pkt_get32(seg + l4 + 4), (uint32_t)(s->seq + done));
		uint8_t flags = s->tcp_flags;
		if (k + 1 < want)
			flags &= (uint8_t) ~(PKT_TCP_FIN | PKT_TCP_PSH);
		if (k)
			flags &= (uint8_t)~PKT_TCP_CWR;
		assert_int_equal(seg[l4 + 13], flags);
		/* ports, ack, window as sent */
		assert_memory_equal(seg + l4, big + l4, 4);
		assert_memory_equal(seg + l4 + 8, big + l4 + 8, 5);
		assert_memory_equal(seg + l4 + 14, big + l4 + 14, 2);
		if (s->v6) {
			assert_memory_equal(seg + l3, big + l3, 4);
			assert_memory_equal(seg + l3 + 6, big + l3 + 6, 34);
		} else {
			assert_int_equal(pkt_get16(seg + l3 + 4), (uint16_t)(s->ip_id + k));
			assert_memory_equal(seg + l3 + 6, big + l3 + 6, 4);
			assert_memory_equal(seg + l3 + 12, big + l3 + 12, 8);
		}
		done += n;
	}
	assert_false(net_gso_more(&g));
	assert_int_equal(net_gso_next(&g, seg, sizeof(seg)), 0);
}

static void gso_cuts(void **state)
{
	(void)state;
	static const uint8_t a[6] = { 0x02, 0, 0, 0, 0, 1 }, b[6] = { 0x02, 0, 0, 0, 0, 2 };
	for (unsigned v = 0; v < 4; v++) {
		struct pkt_spec s = { .v6 = v & 1,
				      .vlan = v & 2,
				      .dst = a,
				      .src = b,
				      .seq = 0xfffff000u, /* wraps past 2^32 */
				      .tcp_flags =
					      PKT_TCP_ACK | PKT_TCP_PSH | PKT_TCP_FIN | PKT_TCP_CWR,
				      .ip_id = 0xfffe, /* and so does the identification */
				      .seed = v };
		size_t l4 = pkt_l4(&s);
		uint16_t mss_max =
			(uint16_t)((s.vlan ? NET_FRAME_MAX : NET_FRAME_MAX_UNTAGGED) - l4 - 20);
		static const size_t payloads[] = { 1, 1000, 1448, 1449, 10000, 65000 };
		for (unsigned i = 0; i < ARRAY_SIZE(payloads); i++) {
			s.payload = payloads[i];
			cut_and_check(&s, (uint16_t)(mss_max - 12)); /* with timestamps, say */
			cut_and_check(&s, mss_max);
			cut_and_check(&s, 536);
		}
		/* the largest frame, and an MSS of one byte */
		s.payload = NET_GSO_FRAME_MAX - l4 - 20;
		if (!s.v6 && !s.vlan)
			s.payload--; /* IPv4's total length stops at 65535 */
		cut_and_check(&s, mss_max);
		s.payload = 300;
		cut_and_check(&s, 1);
	}
}

/* Headers keel will not cut: each refused, and no truncation of a good frame read past. */
static void gso_refuses(void **state)
{
	(void)state;
	static const uint8_t a[6] = { 0x02, 0, 0, 0, 0, 1 }, b[6] = { 0x02, 0, 0, 0, 0, 2 };
	struct pkt_spec s = { .dst = a, .src = b, .payload = 4000, .tcp_flags = PKT_TCP_ACK };
	size_t len = pkt_tcp(big, &s, true);
	struct net_offload good = gso_off(&s, 1460), o;
	struct net_gso g;
	assert_true(net_gso_start(&g, big, len, &good));
	/* the MSS: 1460 fills a 1514-byte frame, 1461 would not fit one; 0 is nothing */
	o = good, o.gso_size = 1461;
	assert_false(net_gso_start(&g, big, len, &o));
	o = good, o.gso_size = 0;
	assert_false(net_gso_start(&g, big, len, &o));
	/* NEEDS_CSUM, TCP's checksum offset, TCP's start, the type */
	o = good, o.flags = 0;
	assert_false(net_gso_start(&g, big, len, &o));
	o = good, o.csum_offset = 6; /* UDP's */
	assert_false(net_gso_start(&g, big, len, &o));
	o = good, o.csum_start = 38;
	assert_false(net_gso_start(&g, big, len, &o));
	o = good, o.gso_type = NET_GSO_TCPV6;
	assert_false(net_gso_start(&g, big, len, &o));
	static const uint8_t types[] = { 0, 3, 5, 0x81, 0x84 }; /* UDP, UDP_L4, ECN */
	for (unsigned i = 0; i < ARRAY_SIZE(types); i++) {
		o = good, o.gso_type = types[i];
		assert_false(net_gso_start(&g, big, len, &o));
	}
	/* one header byte at a time: version, IHL, protocol, fragments, TCP's data offset */
	struct {
		size_t at;
		uint8_t val;
	} bad[] = {
		{ 14, 0x65 }, { 14, 0x44 }, { 14, 0x46 }, { 23, 17 },	{ 20, 0x60 },
		{ 21, 0x01 }, { 20, 0x20 }, { 46, 0x40 }, { 12, 0x86 }, /* the Ethernet type: 0x8600 */
	};
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		uint8_t keep = big[bad[i].at];
		big[bad[i].at] = bad[i].val;
		assert_false(net_gso_start(&g, big, len, &good));
		big[bad[i].at] = keep;
	}
	assert_true(net_gso_start(&g, big, len, &good));
	/* a data offset pointing past the frame's end, or to it (no payload) */
	uint8_t keep = big[46];
	big[46] = 0xf0;
	o = good, o.gso_size = 1400;
	assert_false(net_gso_start(&g, big, 54 + 40, &o));
	assert_true(net_gso_start(&g, big, 54 + 41, &o));
	big[46] = keep;
	/* every shorter length of it: refused up to the first payload byte, never read past */
	for (size_t l = 0; l <= 54; l++) {
		uint8_t *copy = malloc(l ? l : 1);
		assert_non_null(copy);
		memcpy(copy, big, l);
		assert_false(net_gso_start(&g, copy, l, &good));
		free(copy);
	}
	/* longer than any frame to cut */
	assert_false(net_gso_start(&g, big, NET_GSO_FRAME_MAX + 1, &good));

	/* IPv6: the next header must be TCP where TCP follows the fixed header; with an extension
	 * header (8 bytes, here a destination options header) TCP starts where csum_start says */
	struct pkt_spec s6 = { .v6 = true, .dst = a, .src = b, .payload = 3000, .seq = 5 };
	len = pkt_tcp(big, &s6, true);
	good = gso_off(&s6, 1440);
	assert_true(net_gso_start(&g, big, len, &good));
	big[14 + 6] = 17;
	assert_false(net_gso_start(&g, big, len, &good));
	big[14 + 6] = 6;
	big[14] = 0x40;
	assert_false(net_gso_start(&g, big, len, &good));
	big[14] = 0x60;
	o = good, o.csum_start = 14 + 39;
	assert_false(net_gso_start(&g, big, len, &o));
	memmove(big + 62, big + 54, len - 54);
	memset(big + 54, 0, 8);
	big[54] = 6; /* the option header's next header: TCP */
	big[14 + 6] = 60;
	len += 8;
	o = good, o.csum_start = 62, o.gso_size = 1432;
	assert_true(net_gso_start(&g, big, len, &o));
	static uint8_t seg[NET_FRAME_MAX];
	size_t n = net_gso_next(&g, seg, sizeof(seg));
	assert_int_equal(n, 62 + 20 + 1432);
	assert_int_equal(pkt_get16(seg + 14 + 4), n - 54); /* the extension header counts */
	assert_memory_equal(seg + 54, big + 54, 8);
	/* one byte more of MSS and the segment would not fit 1514 bytes */
	o.gso_size = 1433;
	assert_false(net_gso_start(&g, big, len, &o));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(rfc1071_example), cmocka_unit_test(valid_bounds),
		cmocka_unit_test(fill_tcp),	   cmocka_unit_test(fill_zero_is_ones),
		cmocka_unit_test(gso_cuts),	   cmocka_unit_test(gso_refuses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
