/* Checksum and segmentation offload as keel's switch carries them: a frame may travel with its
 * transport checksum not filled in yet, and a TCP frame may be up to 64 KiB long, to be cut into
 * MTU-sized segments only where a receiver cannot take it whole.
 *
 * Checksum: the layout is virtio-net's (virtio 1.2, 5.1.6.2), which is Linux's
 * CHECKSUM_PARTIAL: the Internet checksum (RFC 1071) of the bytes from csum_start to the frame's
 * end, stored big-endian at csum_start + csum_offset, gives a fully checksummed frame; the field
 * already holds the sum of the pseudo-header (RFC 793, 3.1; RFC 8200, 8.1), so that sum covers
 * it too. A receiver that can take such a frame (a driver that negotiated GUEST_CSUM) gets it as
 * it is; any other one (a driver without it, a host NIC uplink) has keel fill it in first
 * (net_csum_fill).
 *
 * Segmentation (TCP only, as virtio's TSO4/TSO6): a frame of Ethernet (an 802.1Q tag allowed),
 * IPv4 or IPv6, TCP, and a payload of up to 64 KiB, with NEEDS_CSUM at the TCP checksum, and
 * gso_size the payload bytes per segment (the MSS). A receiver that negotiated GUEST_TSO4/6 gets
 * it whole; for any other one keel cuts it (net_gso_next) the way the sender's stack would have:
 * the headers copied into each segment, then IPv4's total length, identification (+1 per
 * segment) and header checksum (RFC 791, 3.1), or IPv6's payload length (RFC 8200, 3); TCP's
 * sequence number advanced by the payload before it, FIN and PSH kept for the last segment only
 * and CWR for the first only (RFC 793, 3.1; RFC 3168, 6.1.2), and the checksum computed whole.
 *
 * Every offset here came from a guest: net_offload_valid bounds them against the frame before
 * anything is read or written through them, and the segmenter reads only what it checked.
 * Host-testable. */
#ifndef KEEL_IO_NET_OFFLOAD_H
#define KEEL_IO_NET_OFFLOAD_H

#include "io/net_eth.h"

/* flags */
#define NET_OFF_NEEDS_CSUM 1 /* the checksum at csum_start + csum_offset is still to be filled */
/* gso_type: what a frame longer than the MTU is to be cut into (virtio's values, 5.1.6) */
#define NET_GSO_NONE 0
#define NET_GSO_TCPV4 1
#define NET_GSO_TCPV6 4
/* The longest frame with a gso_type: virtio's 65562-byte receive buffer less its 12-byte header
 * (5.1.6.3.1), an Ethernet header and a 64 KiB packet. */
#define NET_GSO_FRAME_MAX 65550

/* What travels with a frame through the switch (0 everywhere: a plain, whole frame). */
struct net_offload {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t csum_start, csum_offset;
};

/* The frame may travel with these offload fields: without a gso_type, a frame the switch carries
 * (net_frame_valid) and, with NEEDS_CSUM, the 2-byte field at csum_start + csum_offset inside
 * it; with one, a TCP frame keel can cut (as net_gso_start checks). */
bool net_offload_valid(const struct net_offload *o, const uint8_t *frame, size_t len);

/* The ones'-complement sum of n bytes as big-endian 16-bit words (a last odd byte padded with
 * a zero, RFC 1071, 4.1), added to sum; not folded. n up to 64 KiB leaves room for many calls. */
uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t n);
/* sum folded to 16 bits and complemented: the value a checksum field holds (RFC 1071, 1). */
uint16_t net_csum_fold(uint64_t sum);
/* Fills in the checksum that NEEDS_CSUM left open and clears the flag: false (the frame
 * untouched) when the fields do not fit the frame. Nothing to do without NEEDS_CSUM: true. */
bool net_csum_fill(uint8_t *frame, size_t len, struct net_offload *o);

/* A frame being cut into segments: where its headers are, and how far it is cut. */
struct net_gso {
	const uint8_t *frame;
	size_t len;
	size_t l3, l4, hdr; /* offsets of the IP header, the TCP header and the payload */
	bool v6;
	uint16_t mss;
	size_t done;	/* payload bytes already in segments */
	unsigned index; /* segments made */
	/* the caller's choice, after net_gso_start: leave each segment's TCP checksum open
	 * (NEEDS_CSUM at csum_start l4, offset 16: the field holds the pseudo-header's sum) for a
	 * receiver that takes it so, rather than summing every payload byte */
	bool open_csum;
};

/* Checks a frame with a gso_type (NEEDS_CSUM at TCP's checksum, headers whole and of the type
 * given, a payload, every segment no longer than the switch carries: NET_FRAME_MAX with an
 * 802.1Q tag, NET_FRAME_MAX_UNTAGGED without) and starts cutting it. false: not a frame keel can
 * cut. frame must stay unchanged until the last segment is made. */
bool net_gso_start(struct net_gso *g, const uint8_t *frame, size_t len,
		   const struct net_offload *o);
/* The headers' length (what virtio's hdr_len describes, 5.1.6.4.1). */
static inline size_t net_gso_hdr_len(const struct net_gso *g)
{
	return g->hdr;
}
/* Writes the next segment into out (cap bytes; NET_FRAME_MAX takes any): its length, fully
 * checksummed (or with its TCP checksum open, as open_csum asks), or 0 when the whole payload is
 * in segments (or cap is too small). */
size_t net_gso_next(struct net_gso *g, uint8_t *out, size_t cap);
/* Segments still to make. */
static inline bool net_gso_more(const struct net_gso *g)
{
	return g->frame && g->done < g->len - g->hdr;
}

#endif
