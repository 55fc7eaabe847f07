/* A virtio PCI vendor capability (virtio 1.2, 4.1.4) written into a 256-byte configuration space
 * image: for the test and the fuzz target that play a modern virtio-pci device against
 * drivers/virtio_net_host.c. */
#ifndef KEEL_TESTS_SUPPORT_VIRTIO_PCI_CAPS_H
#define KEEL_TESTS_SUPPORT_VIRTIO_PCI_CAPS_H

#include "drivers/virtio_net_host_regs.h"
#include "lib/kstring.h"

static inline void vcap_put32(uint8_t *cfg, unsigned off, uint32_t v)
{
	memcpy(&cfg[off], &v, 4);
}

/* The capability at ptr (next: the following one, 0 ends the list); a notify capability gets
 * mult as its notify_off_multiplier. */
static inline void vcap_put(uint8_t *cfg, unsigned ptr, unsigned next, unsigned type, unsigned bar,
			    uint32_t off, uint32_t len, uint32_t mult)
{
	unsigned clen = type == VNH_CAP_NOTIFY_CFG ? VNH_NOTIFY_CAP_LEN : VNH_CAP_LEN;

	vcap_put32(cfg, ptr, VNH_PCI_CAP_ID_VNDR | next << 8 | clen << 16 | type << 24);
	vcap_put32(cfg, ptr + 4, bar);
	vcap_put32(cfg, ptr + 8, off);
	vcap_put32(cfg, ptr + 12, len);
	if (type == VNH_CAP_NOTIFY_CFG)
		vcap_put32(cfg, ptr + 16, mult);
}

#endif
