/* Ethernet frames as keel's switch sees them: the layout of IEEE 802.3 clause 3.1.1 without the
 * preamble, start delimiter and FCS (virtio-net carries none of them, virtio 1.2, 5.1.6), and the
 * MAC addresses keel gives its guests' NICs. */
#ifndef KEEL_IO_NET_ETH_H
#define KEEL_IO_NET_ETH_H

#include "lib/types.h"

#define NET_MAC_LEN 6
/* destination MAC, source MAC, length/type (IEEE 802.3 clause 3.2.3-3.2.6) */
#define NET_ETH_HDR_LEN 14
#define NET_ETH_SRC_OFFSET 6
#define NET_ETH_TYPE_OFFSET 12
#define NET_MTU 1500
/* An untagged frame at a 1500-byte MTU: 1518 bytes on the wire less its 4-byte FCS. */
#define NET_FRAME_MAX_UNTAGGED (NET_ETH_HDR_LEN + NET_MTU)
/* An IEEE 802.1Q tag (TPID 0x8100 where the type would be, then a 2-byte TCI) adds 4 bytes
 * (802.3 clause 3.5 allows 1522 with FCS for tagged frames). The switch is VLAN-unaware, as a
 * plain 802.1D bridge is: a tagged frame is an opaque frame to it, and allowing the tag keeps a
 * guest's VLAN interface at the same 1500-byte MTU as its untagged one. */
#define NET_ETH_TYPE_VLAN 0x8100
#define NET_VLAN_TAG_LEN 4
#define NET_FRAME_MAX (NET_FRAME_MAX_UNTAGGED + NET_VLAN_TAG_LEN)

/* Bit 0 of the first octet is the individual/group bit (IEEE 802-2014, 8.2): set for multicast
 * and for the broadcast address ff:ff:ff:ff:ff:ff. */
static inline bool net_mac_is_group(const uint8_t mac[NET_MAC_LEN])
{
	return mac[0] & 1;
}

/* A frame the switch may carry: the header is whole, and it is no longer than the MTU allows
 * (NET_FRAME_MAX with an 802.1Q tag, NET_FRAME_MAX_UNTAGGED without). */
bool net_frame_valid(const uint8_t *frame, size_t len);

/* The MAC keel gives NIC `index` of VM `vm_name` when keel.cfg names none: the same for the same
 * VM and index on every boot (a guest's DHCP lease and its udev names survive a restart), and
 * different across names and indexes. out[0] is 0x02: locally administered (bit 1, IEEE 802-2014,
 * 8.4) and individual (bit 0 clear), so it never collides with a vendor's universally
 * administered address and is never all zero; out[1..5] are 40 bits of a 64-bit FNV-1a hash of
 * the name and the index, finished with the splitmix64 mixer so that names differing in one
 * byte differ in about half the bits. */
void net_mac_for(const char *vm_name, unsigned index, uint8_t out[NET_MAC_LEN]);

#endif
