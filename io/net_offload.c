/* Checksums for frames that travel with their checksum still open (io/net_offload.h). */
#include "io/net_offload.h"

bool net_offload_valid(const struct net_offload *o, size_t len)
{
	if (o->gso_type != NET_GSO_NONE)
		return false;
	if (!(o->flags & NET_OFF_NEEDS_CSUM))
		return true;
	/* both fields are 16-bit: their sum plus 2 cannot overflow a size_t */
	return (size_t)o->csum_start + o->csum_offset + 2 <= len;
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
	if (!net_offload_valid(o, len))
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
