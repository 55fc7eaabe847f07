/* Checksums and segments for frames that travel with their offloads (io/net_offload.h). */
#include "io/net_offload.h"
#include "lib/kstring.h"

#define ETH_TYPE_IPV4 0x0800
#define ETH_TYPE_IPV6 0x86dd
#define IP_PROTO_TCP 6
#define IPV4_HDR_MIN 20
#define IPV6_HDR_LEN 40
#define TCP_HDR_MIN 20
#define TCP_CSUM_OFFSET 16 /* RFC 793, 3.1 */
/* TCP flags byte (RFC 793, 3.1; CWR from RFC 3168, 6.1) */
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static void put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static bool csum_fits(const struct net_offload *o, size_t len)
{
	/* both fields are 16-bit: their sum plus 2 cannot overflow a size_t */
	return (size_t)o->csum_start + o->csum_offset + 2 <= len;
}

bool net_offload_valid(const struct net_offload *o, const uint8_t *frame, size_t len)
{
	if (o->gso_type != NET_GSO_NONE) {
		struct net_gso g;
		return net_gso_start(&g, frame, len, o);
	}
	if (!net_frame_valid(frame, len))
		return false;
	return !(o->flags & NET_OFF_NEEDS_CSUM) || csum_fits(o, len);
}

uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t n)
{
	size_t i = 0;
	for (; i + 1 < n; i += 2)
		sum += (uint32_t)p[i] << 8 | p[i + 1];
	if (i < n)
		sum += (uint32_t)p[i]
		       << 8; /* the odd byte as the high half of a word (RFC 1071, 4.1) */
	return sum;
}

uint16_t net_csum_fold(uint64_t sum)
{
	/* end-around carries until nothing is left above 16 bits (RFC 1071, 2 (1)) */
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

bool net_csum_fill(uint8_t *frame, size_t len, struct net_offload *o)
{
	if (!(o->flags & NET_OFF_NEEDS_CSUM))
		return true;
	if (!csum_fits(o, len))
		return false;
	size_t at = (size_t)o->csum_start + o->csum_offset;
	/* the field holds the pseudo-header's sum and is summed with the rest (5.1.6.2) */
	uint16_t c = net_csum_fold(net_csum_add(0, frame + o->csum_start, len - o->csum_start));
	/* 0 and 0xffff are the same number in ones' complement; UDP reserves 0 for "no checksum"
	 * and sends 0xffff instead (RFC 768), which is as right for TCP */
	if (!c)
		c = 0xffff;
	frame[at] = (uint8_t)(c >> 8);
	frame[at + 1] = (uint8_t)c;
	o->flags &= (uint8_t)~NET_OFF_NEEDS_CSUM;
	return true;
}

bool net_gso_start(struct net_gso *g, const uint8_t *frame, size_t len, const struct net_offload *o)
{
	*g = (struct net_gso){ 0 };
	if (len < NET_ETH_HDR_LEN || len > NET_GSO_FRAME_MAX || !o->gso_size ||
	    !(o->flags & NET_OFF_NEEDS_CSUM) || o->csum_offset != TCP_CSUM_OFFSET)
		return false;
	size_t l3 = NET_ETH_HDR_LEN, max_seg = NET_FRAME_MAX_UNTAGGED;
	uint16_t type = be16(frame + NET_ETH_TYPE_OFFSET);
	if (type == NET_ETH_TYPE_VLAN) {
		/* the tag's TCI, then the real type (IEEE 802.1Q, 9.3) */
		if (len < NET_ETH_HDR_LEN + NET_VLAN_TAG_LEN)
			return false;
		type = be16(frame + NET_ETH_TYPE_OFFSET + NET_VLAN_TAG_LEN);
		l3 += NET_VLAN_TAG_LEN;
		max_seg = NET_FRAME_MAX;
	}
	/* TCP starts where the checksum's coverage does (csum_start, 5.1.6.2) */
	size_t l4 = o->csum_start;
	if (o->gso_type == NET_GSO_TCPV4) {
		/* RFC 791, 3.1: version 4, IHL in 32-bit words, protocol TCP, not a fragment (the
		 * flags' MF bit and the fragment offset 0: segments of a fragment make no sense) */
		if (type != ETH_TYPE_IPV4 || len < l3 + IPV4_HDR_MIN)
			return false;
		const uint8_t *ip = frame + l3;
		if (ip[0] >> 4 != 4 || l4 != l3 + (size_t)(ip[0] & 15) * 4 ||
		    (ip[0] & 15) * 4 < IPV4_HDR_MIN || ip[9] != IP_PROTO_TCP ||
		    (be16(ip + 6) & 0x3fff) != 0 || len - l3 > 0xffff)
			return false;
	} else if (o->gso_type == NET_GSO_TCPV6) {
		/* RFC 8200, 3: version 6, then extension headers (copied into every segment as
		 * they are) up to TCP, where csum_start says; with none, the next header is TCP */
		if (type != ETH_TYPE_IPV6 || len < l3 + IPV6_HDR_LEN)
			return false;
		const uint8_t *ip = frame + l3;
		if (ip[0] >> 4 != 6 || l4 < l3 + IPV6_HDR_LEN ||
		    (l4 == l3 + IPV6_HDR_LEN && ip[6] != IP_PROTO_TCP))
			return false;
		g->v6 = true;
	} else {
		return false; /* ECN, UDP or anything else: never offered */
	}
	if (len < l4 + TCP_HDR_MIN)
		return false;
	size_t hdr = l4 + (size_t)(frame[l4 + 12] >> 4) * 4; /* data offset, RFC 793, 3.1 */
	if (hdr < l4 + TCP_HDR_MIN || hdr >= len || hdr + o->gso_size > max_seg)
		return false;
	g->frame = frame;
	g->len = len;
	g->l3 = l3;
	g->l4 = l4;
	g->hdr = hdr;
	g->mss = o->gso_size;
	return true;
}

size_t net_gso_next(struct net_gso *g, uint8_t *out, size_t cap)
{
	if (!net_gso_more(g))
		return 0;
	size_t payload = g->len - g->hdr, n = MIN((size_t)g->mss, payload - g->done);
	size_t seg = g->hdr + n;
	if (seg > cap)
		return 0;
	bool last = g->done + n == payload;
	memcpy(out, g->frame, g->hdr);
	memcpy(out + g->hdr, g->frame + g->hdr + g->done, n);
	uint8_t *ip = out + g->l3, *tcp = out + g->l4;
	uint64_t pseudo;
	if (g->v6) {
		put_be16(ip + 4, (uint16_t)(seg - g->l3 - IPV6_HDR_LEN));
		/* source and destination, then the upper-layer length and next header (8.1) */
		pseudo = net_csum_add(0, ip + 8, 32);
	} else {
		put_be16(ip + 2, (uint16_t)(seg - g->l3));
		put_be16(ip + 4, (uint16_t)(be16(ip + 4) + g->index));
		put_be16(ip + 10, 0);
		put_be16(ip + 10, net_csum_fold(net_csum_add(0, ip, g->l4 - g->l3)));
		/* source and destination, then zero, protocol and TCP length (RFC 793, 3.1) */
		pseudo = net_csum_add(0, ip + 12, 8);
	}
	pseudo += IP_PROTO_TCP + (seg - g->l4);
	uint32_t seq =
		(uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 | (uint32_t)tcp[6] << 8 | tcp[7];
	seq += (uint32_t)g->done; /* modulo 2^32, as sequence numbers are */
	tcp[4] = (uint8_t)(seq >> 24), tcp[5] = (uint8_t)(seq >> 16);
	tcp[6] = (uint8_t)(seq >> 8), tcp[7] = (uint8_t)seq;
	if (!last)
		tcp[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
	if (g->index)
		tcp[13] &= (uint8_t)~TCP_CWR;
	if (g->open_csum) {
		/* the pseudo-header's sum, folded and not complemented: what a sender's stack
		 * leaves there for NEEDS_CSUM (net_csum_fill then finishes it) */
		put_be16(tcp + TCP_CSUM_OFFSET, (uint16_t)~net_csum_fold(pseudo));
	} else {
		put_be16(tcp + TCP_CSUM_OFFSET, 0);
		put_be16(tcp + TCP_CSUM_OFFSET,
			 net_csum_fold(net_csum_add(pseudo, tcp, seg - g->l4)));
	}
	g->done += n;
	g->index++;
	return seg;
}
