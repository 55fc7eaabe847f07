/* virtio 1.2 (OASIS, cs01) as keel's virtio-net host driver (drivers/virtio_net_host.c) sees it:
 * the PCI vendor capabilities, the common configuration structure, split virtqueue layouts and
 * the network device's feature bits, configuration and header. Little-endian throughout (x86).
 * 4.1.4.3 was checked against a public copy of the layout; the other section numbers are from
 * memory of the document and NOT verified. Facts from the specification, no code copied. */
#ifndef KEEL_DRIVERS_VIRTIO_NET_HOST_REGS_H
#define KEEL_DRIVERS_VIRTIO_NET_HOST_REGS_H

#include "lib/types.h"

/* ---- PCI configuration space (PCI Local Bus 3.0, 6.7) ---------------------------------------- */
#define VNH_PCI_STATUS 0x04	     /* the dword holding command (low) and status (high) */
#define VNH_PCI_STATUS_CAP_LIST 0x10 /* status bit 4: a capability list exists */
#define VNH_PCI_CAP_PTR 0x34	     /* low 2 bits reserved */
#define VNH_PCI_CAP_ID_VNDR 0x09     /* vendor-specific capability */
#define VNH_PCI_MAX_CAPS 48	     /* (256 - 64) / 4: a longer walk is a loop */

/* ---- virtio PCI capabilities (4.1.4) ---------------------------------------------------------
 * struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type (bytes 0..3), bar, id, padding
 * (4..7), le32 offset (8), le32 length (12); the notify capability adds le32
 * notify_off_multiplier (16). */
#define VNH_CAP_LEN 16
#define VNH_NOTIFY_CAP_LEN 20
#define VNH_CAP_COMMON_CFG 1
#define VNH_CAP_NOTIFY_CFG 2
#define VNH_CAP_ISR_CFG 3
#define VNH_CAP_DEVICE_CFG 4
#define VNH_NR_BARS 6 /* bar values 0..5; others are reserved and ignored (4.1.4) */

/* ---- common configuration (4.1.4.3) ---------------------------------------------------------- */
#define VNH_CC_DEVICE_FEATURE_SELECT 0x00 /* le32 */
#define VNH_CC_DEVICE_FEATURE 0x04	  /* le32, read only */
#define VNH_CC_DRIVER_FEATURE_SELECT 0x08 /* le32 */
#define VNH_CC_DRIVER_FEATURE 0x0C	  /* le32 */
#define VNH_CC_MSIX_CONFIG 0x10		  /* le16 */
#define VNH_CC_NUM_QUEUES 0x12		  /* le16, read only */
#define VNH_CC_DEVICE_STATUS 0x14	  /* u8 */
#define VNH_CC_CONFIG_GENERATION 0x15	  /* u8, read only */
#define VNH_CC_QUEUE_SELECT 0x16	  /* le16 */
#define VNH_CC_QUEUE_SIZE 0x18		  /* le16 */
#define VNH_CC_QUEUE_MSIX_VECTOR 0x1A	  /* le16 */
#define VNH_CC_QUEUE_ENABLE 0x1C	  /* le16 */
#define VNH_CC_QUEUE_NOTIFY_OFF 0x1E	  /* le16, read only */
#define VNH_CC_QUEUE_DESC 0x20		  /* le64, written as two le32 halves (4.1.3.1) */
#define VNH_CC_QUEUE_DRIVER 0x28	  /* le64 */
#define VNH_CC_QUEUE_DEVICE 0x30	  /* le64 */
#define VNH_CC_SIZE 0x38		  /* the virtio 1.0 structure; 1.2 adds two le16 */

/* Device status bits (2.1). */
#define VNH_STATUS_ACKNOWLEDGE 1
#define VNH_STATUS_DRIVER 2
#define VNH_STATUS_DRIVER_OK 4
#define VNH_STATUS_FEATURES_OK 8
#define VNH_STATUS_NEEDS_RESET 64
#define VNH_STATUS_FAILED 128

#define VNH_NO_VECTOR 0xFFFF /* VIRTIO_MSI_NO_VECTOR */

/* ---- split virtqueues (2.7) ------------------------------------------------------------------ */
#define VIRTQ_DESC_SIZE 16u	   /* le64 addr, le32 len, le16 flags, le16 next (2.7.5) */
#define VNH_DESC_F_WRITE 2	   /* device-writable buffer */
#define VNH_AVAIL_F_NO_INTERRUPT 1 /* 2.7.7: the driver polls */
#define VNH_USED_F_NO_NOTIFY 1	   /* 2.7.10: the device does not want notifications */
#define VNH_MAX_QUEUE_SIZE 32768u  /* 2.7: a power of two, at most 32768 */

struct vnh_desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags;
	uint16_t next;
};
_Static_assert(sizeof(struct vnh_desc) == VIRTQ_DESC_SIZE, "descriptor");

/* available ring: le16 flags, le16 idx, le16 ring[size] (2.7.6); used ring: le16 flags,
 * le16 idx, {le32 id, le32 len} ring[size] (2.7.8) */
struct vnh_used_elem {
	uint32_t id;
	uint32_t len;
};

/* ---- feature bits (6, 5.1.3) ----------------------------------------------------------------- */
#define VNH_F_NET_MAC 5	    /* the device has a MAC address in its configuration */
#define VNH_F_NET_STATUS 16 /* the configuration's status field is valid */
#define VNH_F_VERSION_1 32  /* virtio 1 (non-legacy) device */
#define VNH_FEATURES_WANTED                                                                        \
	((1ull << VNH_F_VERSION_1) | (1ull << VNH_F_NET_MAC) | (1ull << VNH_F_NET_STATUS))

/* ---- network device configuration (5.1.4) ---------------------------------------------------- */
#define VNH_NET_CFG_MAC 0    /* u8 mac[6] */
#define VNH_NET_CFG_STATUS 6 /* le16 */
#define VNH_NET_CFG_SIZE 8   /* what the driver reads */
#define VNH_NET_S_LINK_UP 1

/* struct virtio_net_hdr (5.1.6): flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
 * num_buffers; with VERSION_1 num_buffers is always there: 12 bytes before every frame. */
#define VIRTIO_NET_HDR_SIZE 12u

#define VNH_QUEUE_RX 0 /* receiveq1 (5.1.2) */
#define VNH_QUEUE_TX 1 /* transmitq1 */

#define VNH_ETH_MAX 1514    /* what keel transmits: no jumbo frames */
#define VNH_ETH_MAX_RX 1518 /* what keel accepts: 1514 plus an 802.1Q tag */

#endif
