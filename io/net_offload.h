/* Checksum offload as keel's switch carries it: a frame may travel with its transport checksum
 * not filled in yet, together with where that checksum goes. The layout is virtio-net's (virtio
 * 1.2, 5.1.6.2), which is Linux's CHECKSUM_PARTIAL: the Internet checksum (RFC 1071) of the
 * bytes from csum_start to the frame's end, stored big-endian at csum_start + csum_offset, gives
 * a fully checksummed frame; the field itself already holds the sum of the pseudo-header (RFC
 * 793, 3.1; RFC 8200, 8.1), so that sum covers it too. A receiver that can take such a frame
 * (a driver that negotiated VIRTIO_NET_F_GUEST_CSUM) gets it as it is; any other one (a driver
 * without it, a host NIC uplink) has keel fill the checksum in first, with net_csum_fill.
 *
 * Every offset here came from a guest: net_offload_valid bounds them against the frame before
 * anything is read or written through them. Host-testable. */
#ifndef KEEL_IO_NET_OFFLOAD_H
#define KEEL_IO_NET_OFFLOAD_H

#include "lib/types.h"

/* flags */
#define NET_OFF_NEEDS_CSUM 1 /* the checksum at csum_start + csum_offset is still to be filled */
/* gso_type: what a frame longer than the MTU is to be cut into (none yet: always NONE) */
#define NET_GSO_NONE 0

/* What travels with a frame through the switch (0 everywhere: a plain, whole frame). */
struct net_offload {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t gso_size;
	uint16_t csum_start, csum_offset;
};

/* The offload fields fit a frame of len bytes: without NEEDS_CSUM and GSO always; with
 * NEEDS_CSUM the 2-byte field at csum_start + csum_offset lies inside the frame. */
bool net_offload_valid(const struct net_offload *o, size_t len);

/* The ones'-complement sum of n bytes as big-endian 16-bit words (a last odd byte padded with
 * a zero, RFC 1071, 4.1), added to sum; not folded. n up to 64 KiB leaves room for many calls. */
uint64_t net_csum_add(uint64_t sum, const uint8_t *p, size_t n);
/* sum folded to 16 bits and complemented: the value a checksum field holds (RFC 1071, 1). */
uint16_t net_csum_fold(uint64_t sum);
/* Fills in the checksum that NEEDS_CSUM left open and clears the flag: false (the frame
 * untouched) when the fields do not fit the frame. Nothing to do without NEEDS_CSUM: true. */
bool net_csum_fill(uint8_t *frame, size_t len, struct net_offload *o);

#endif
