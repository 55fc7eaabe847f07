/* io/net_offload.c: the checks and the segmenter a guest reaches through virtio-net's HOST_TSO and
 * CSUM (its gso_type, gso_size, csum_start, csum_offset and every header byte are the guest's).
 * Each input is a frame and its offload fields; ASan sees any read past the frame, which lives
 * in an allocation of exactly its length. When net_offload_valid accepts a frame:
 *   - a checksum left open (no gso_type) is filled by net_csum_fill in a copy, changing only
 *     the field, and the sum from csum_start with the sender's seed verifies (RFC 1071);
 *   - a frame to cut gives ceil(payload / gso_size) segments, each a frame the switch carries,
 *     whose headers are the frame's but for the fields segmentation sets, whose payloads put
 *     together are the frame's payload, with IPv4's total length and header checksum right,
 *     IPv6's payload length right, TCP's sequence numbers advancing and its checksum right,
 *     FIN and PSH on the last segment only, CWR on the first only (every other segment with
 *     its checksum left open: the field holds the pseudo-header's sum); a buffer one byte short
 *     takes nothing.
 *
 * Input: byte 0: bits 0-1 the shape (0 raw: the frame is the input's bytes; 1 TCP over IPv4;
 * 2 TCP over IPv6; 3 IPv6 with an 8-byte extension header), bit 2 an 802.1Q tag, bit 3
 * NEEDS_CSUM, bits 4-7 the gso_type (0 none, 1 TCPV4, 4 TCPV6, else as given); bytes 1-2 le16
 * gso_size; 3-4 le16 payload length (shaped frames, % 65536); 5-6 le16 csum_start and 7-8 le16
 * csum_offset, each added to the right value for the shape (so 0 0 is right); then bytes
 * XORed over the frame from its start (the shaped frames' headers mutated), or the raw frame. */
#include "io/net_offload.h"
#include "tests/support/net_pkt.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

/* The ones'-complement sum of p[0..n) as big-endian words, folded, plus sum (not complemented). */
static uint32_t sum16(uint32_t sum, const uint8_t *p, size_t n)
{
	return pkt_fold(pkt_sum(pkt_fold(sum), p, n));
}

static void check_fill(const uint8_t *frame, size_t len, struct net_offload o)
{
	uint8_t *copy = malloc(len);
	if (!copy)
		abort();
	memcpy(copy, frame, len);
	if (!net_csum_fill(copy, len, &o) || o.flags)
		abort();
	size_t at = (size_t)o.csum_start + o.csum_offset;
	for (size_t i = 0; i < len; i++)
		if (copy[i] != frame[i] && i != at && i != at + 1)
			abort();
	if (o.csum_offset % 2 == 0) {
		/* the field's old value (the seed) and the bytes from csum_start sum to all ones */
		uint32_t s = pkt_get16(frame + at);
		s = sum16(s, copy + o.csum_start, len - o.csum_start);
		if (s != 0xffff)
			abort();
	}
	free(copy);
}

static void check_segments(const uint8_t *frame, size_t len, const struct net_offload *o)
{
	struct net_gso g;
	if (!net_gso_start(&g, frame, len, o))
		abort(); /* net_offload_valid said yes */
	size_t payload = len - g.hdr, nr = (payload + o->gso_size - 1) / o->gso_size, done = 0;
	size_t l3 = g.l3, l4 = g.l4, hdr = g.hdr;
	if (l4 + 20 > hdr || hdr >= len || g.mss != o->gso_size)
		abort();
	static uint8_t seg[NET_FRAME_MAX + 1];
	for (size_t k = 0; k < nr; k++) {
		size_t n = payload - done < g.mss ? payload - done : g.mss;
		g.open_csum = k % 2; /* every other segment with its checksum left open */
		if (!net_gso_more(&g) || net_gso_next(&g, seg, hdr + n - 1) != 0)
			abort();
		size_t got = net_gso_next(&g, seg, sizeof(seg));
		if (got != hdr + n || !net_frame_valid(seg, got))
			abort();
		if (memcmp(seg + hdr, frame + hdr + done, n) != 0 || memcmp(seg, frame, l3) != 0)
			abort();
		const uint8_t *ip = seg + l3, *tcp = seg + l4;
		uint32_t pseudo;
		if (g.v6) {
			if (pkt_get16(ip + 4) != got - l3 - 40 || memcmp(ip, frame + l3, 4) != 0 ||
			    memcmp(ip + 6, frame + l3 + 6, l4 - l3 - 6) != 0)
				abort();
			pseudo = pkt_sum(0, ip + 8, 32);
		} else {
			if (pkt_get16(ip + 2) != got - l3 ||
			    pkt_get16(ip + 4) != (uint16_t)(pkt_get16(frame + l3 + 4) + k) ||
			    sum16(0, ip, l4 - l3) != 0xffff ||
			    memcmp(ip + 6, frame + l3 + 6, 4) != 0 ||
			    memcmp(ip + 12, frame + l3 + 12, l4 - l3 - 12) != 0 ||
			    ip[0] != frame[l3])
				abort();
			pseudo = pkt_sum(0, ip + 12, 8);
		}
		pseudo += 6 + (uint32_t)(got - l4);
		if (g.open_csum ? pkt_get16(tcp + 16) != pkt_fold(pseudo)
				: sum16(pseudo, tcp, got - l4) != 0xffff)
			abort();
		if (pkt_get32(tcp + 4) != pkt_get32(frame + l4 + 4) + (uint32_t)done)
			abort();
		uint8_t flags = frame[l4 + 13];
		if (k + 1 < nr)
			flags &= (uint8_t) ~(PKT_TCP_FIN | PKT_TCP_PSH);
		if (k)
			flags &= (uint8_t)~PKT_TCP_CWR;
		if (tcp[13] != flags || memcmp(tcp, frame + l4, 4) != 0 ||
		    memcmp(tcp + 8, frame + l4 + 8, 5) != 0 ||
		    memcmp(tcp + 14, frame + l4 + 14, 2) != 0 ||
		    memcmp(tcp + 18, frame + l4 + 18, hdr - l4 - 18) != 0)
			abort();
		done += n;
	}
	if (net_gso_more(&g) || net_gso_next(&g, seg, sizeof(seg)) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t a[6] = { 0x02, 0, 0, 0, 0, 1 }, b[6] = { 0x02, 0, 0, 0, 0, 2 };
	static uint8_t build[NET_GSO_FRAME_MAX + 128];
	if (size < 9)
		return 0;
	uint8_t sel = data[0];
	unsigned shape = sel & 3;
	struct net_offload o = { .flags = sel & 8 ? NET_OFF_NEEDS_CSUM : 0,
				 .gso_type = (uint8_t)(sel >> 4),
				 .gso_size = le16(data + 1) };
	size_t len, l4 = 0;
	const uint8_t *rest = data + 9;
	size_t nrest = size - 9;
	if (shape == 0) {
		len = nrest;
		memcpy(build, rest, len < sizeof(build) ? len : sizeof(build));
		if (len > sizeof(build))
			len = sizeof(build);
	} else {
		struct pkt_spec s = { .v6 = shape != 1,
				      .vlan = sel & 4,
				      .dst = a,
				      .src = b,
				      .payload = le16(data + 3),
				      .seq = 0xfffffff0u,
				      .tcp_flags = 0xff,
				      .ip_id = 0xffff,
				      .seed = 1 };
		if (pkt_l4(&s) + 28 + s.payload > sizeof(build))
			return 0;
		len = pkt_tcp(build, &s, true);
		l4 = pkt_l4(&s);
		if (shape == 3) {
			/* a destination options header (RFC 8200, 4.6) between IPv6 and TCP */
			memmove(build + l4 + 8, build + l4, len - l4);
			memset(build + l4, 0, 8);
			build[l4] = 6;
			build[pkt_l3(&s) + 6] = 60;
			l4 += 8;
			len += 8;
		}
		for (size_t i = 0; i < nrest && i < len; i++)
			build[i] ^= rest[i];
	}
	o.csum_start = (uint16_t)(l4 + le16(data + 5));
	o.csum_offset = (uint16_t)(16 + le16(data + 7));
	/* the frame in an allocation of its own length: ASan catches a read one past it */
	uint8_t *frame = malloc(len ? len : 1);
	if (!frame)
		abort();
	memcpy(frame, build, len);
	if (net_offload_valid(&o, frame, len)) {
		if (o.gso_type != NET_GSO_NONE)
			check_segments(frame, len, &o);
		else if (o.flags & NET_OFF_NEEDS_CSUM)
			check_fill(frame, len, o);
		else if (!net_frame_valid(frame, len))
			abort();
	} else if (o.gso_type == NET_GSO_NONE && net_frame_valid(frame, len) &&
		   (!(o.flags & NET_OFF_NEEDS_CSUM) ||
		    (size_t)o.csum_start + o.csum_offset + 2 <= len)) {
		abort(); /* refused what fits */
	} else {
		struct net_gso g;
		if (net_gso_start(&g, frame, len, &o))
			abort(); /* the two checks disagree */
	}
	free(frame);
	return 0;
}
