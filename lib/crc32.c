/* CRC-32 (lib/crc32.h), four bits at a time: a 16-entry table is 64 bytes of .rodata against
 * 1 KiB for the byte-wise table, and GPT checksums at most one partition entry array per disk
 * at boot, where the difference in speed does not show. Entry n of the table is the CRC
 * register after shifting the 4-bit value n through the reflected polynomial 0xEDB88320. */
#include "lib/crc32.h"

static const uint32_t nibble[16] = {
	0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4,
	0x4db26158, 0x5005713c, 0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c,
	0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

uint32_t crc32_ieee_update(uint32_t crc, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	/* the register holds the complement between calls, so a CRC can be continued */
	crc = ~crc;
	for (size_t i = 0; i < len; i++) {
		crc ^= p[i];
		crc = (crc >> 4) ^ nibble[crc & 0xf];
		crc = (crc >> 4) ^ nibble[crc & 0xf];
	}
	return ~crc;
}

uint32_t crc32_ieee(const void *buf, size_t len)
{
	return crc32_ieee_update(0, buf, len);
}
