/* CRC-32 as IEEE 802.3 defines it and GPT uses it (UEFI 2.9 §5.3.2 names the header's and the
 * partition entry array's checksums "CRC32"; firmware computes them with the same algorithm as
 * EFI_BOOT_SERVICES.CalculateCrc32): polynomial 0x04C11DB7 processed bit-reflected (0xEDB88320),
 * initial value and final XOR all ones. The same value zlib's crc32() and Ethernet's FCS give.
 *
 * Named crc32_ieee so that a host test can link zlib beside keel and compare the two. */
#ifndef KEEL_LIB_CRC32_H
#define KEEL_LIB_CRC32_H

#include "lib/types.h"

/* The CRC of len bytes at buf. */
uint32_t crc32_ieee(const void *buf, size_t len);
/* Continues a CRC over more bytes: crc32_ieee_update(crc32_ieee(a, n), b, m) is the CRC of a
 * followed by b, and crc32_ieee_update(0, buf, len) == crc32_ieee(buf, len). */
uint32_t crc32_ieee_update(uint32_t crc, const void *buf, size_t len);

#endif
