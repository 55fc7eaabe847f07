/* Ethernet frame checks and keel's MAC addresses (io/net_eth.h). */
#include "io/net_eth.h"

bool net_frame_valid(const uint8_t *frame, size_t len)
{
	if (len < NET_ETH_HDR_LEN)
		return false;
	if (len <= NET_FRAME_MAX_UNTAGGED)
		return true;
	uint16_t type =
		(uint16_t)(frame[NET_ETH_TYPE_OFFSET] << 8 | frame[NET_ETH_TYPE_OFFSET + 1]);
	return type == NET_ETH_TYPE_VLAN && len <= NET_FRAME_MAX;
}

/* FNV-1a, 64-bit (offset basis and prime from the FNV reference, draft-eastlake-fnv). */
#define FNV64_OFFSET 0xcbf29ce484222325ull
#define FNV64_PRIME 0x100000001b3ull

static uint64_t fnv1a_byte(uint64_t h, uint8_t b)
{
	return (h ^ b) * FNV64_PRIME;
}

/* splitmix64's finaliser: FNV-1a alone leaves its last input byte in the low bits nearly
 * unmixed. */
static uint64_t mix64(uint64_t x)
{
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

void net_mac_for(const char *vm_name, unsigned index, uint8_t out[NET_MAC_LEN])
{
	uint64_t h = FNV64_OFFSET;
	for (const char *c = vm_name; *c; c++)
		h = fnv1a_byte(h, (uint8_t)*c);
	/* a 0 byte between name and index: "a" index 0x31.. never hashes as "a1" index .. */
	h = fnv1a_byte(h, 0);
	for (unsigned i = 0; i < 4; i++)
		h = fnv1a_byte(h, (uint8_t)(index >> (8 * i)));
	h = mix64(h);
	out[0] = 0x02;
	for (unsigned i = 1; i < NET_MAC_LEN; i++)
		out[i] = (uint8_t)(h >> (8 * (i - 1)));
}
