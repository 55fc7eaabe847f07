/* virtio 1.2 over PCI, modern interface only (virtio 1.2, 4.1; no legacy I/O BAR): the
 * transport every keel virtio device sits on. One 64-bit memory BAR (BAR 0) holds the common
 * configuration, the ISR byte, the device's own configuration, the notification addresses and
 * the MSI-X table and PBA; vendor capabilities point the driver at each, and the
 * VIRTIO_PCI_CAP_PCI_CFG window reaches the BAR through config space (4.1.4.9).
 *
 *   BAR 0 + 0x0000  common configuration (4.1.4.3)
 *         + 0x1000  ISR status (4.1.4.5)
 *         + 0x2000  device configuration (4.1.4.6), the model's
 *         + 0x3000  notifications: queue n at 0x3000 + 4 n (notify_off_multiplier 4)
 *         + 0x4000  MSI-X table (a vector per queue and one for configuration changes)
 *         + 0x6000  MSI-X PBA
 *
 * The device model (blk, net, rng, ...) gives its feature bits, its queues, its configuration
 * space and what a notification means; the transport negotiates features, runs the status
 * machine and reset, checks the queues the driver sets up, and turns "buffers used" into one
 * interrupt. A notification is one exit; a completion is at most one interrupt. A device that
 * meets a broken queue sets DEVICE_NEEDS_RESET and tells the driver (2.1.2). Host-testable. */
#ifndef KEEL_VDEV_VIRTIO_VIRTIO_PCI_H
#define KEEL_VDEV_VIRTIO_VIRTIO_PCI_H

#include "lib/types.h"
#include "vdev/io_bus.h"
#include "vdev/pci/pci_dev.h"
#include "vdev/vdev.h"
#include "vdev/virtio/virtqueue.h"

#define VIRTIO_PCI_VENDOR 0x1AF4
#define VIRTIO_PCI_DEVICE_BASE 0x1040 /* + device type (4.1.2.1) */
#define VIRTIO_MAX_QUEUES 8

/* Device types (5). */
#define VIRTIO_ID_NET 1
#define VIRTIO_ID_BLOCK 2
#define VIRTIO_ID_CONSOLE 3
#define VIRTIO_ID_RNG 4
#define VIRTIO_ID_BALLOON 5

/* Transport feature bits (6). */
#define VIRTIO_F_INDIRECT_DESC 28
#define VIRTIO_F_EVENT_IDX 29
#define VIRTIO_F_VERSION_1 32

/* Device status bits (2.1). */
#define VIRTIO_STATUS_ACKNOWLEDGE 1
#define VIRTIO_STATUS_DRIVER 2
#define VIRTIO_STATUS_DRIVER_OK 4
#define VIRTIO_STATUS_FEATURES_OK 8
#define VIRTIO_STATUS_NEEDS_RESET 64
#define VIRTIO_STATUS_FAILED 128

#define VIRTIO_BAR_SIZE 0x8000
#define VIRTIO_DEVCFG_OFF 0x2000
#define VIRTIO_DEVCFG_MAX 0x1000
#define VIRTIO_NOTIFY_OFF 0x3000
#define VIRTIO_MSIX_TABLE_OFF 0x4000
#define VIRTIO_MSIX_PBA_OFF 0x6000

struct virtio_pci;

struct virtio_dev_ops {
	/* The driver notified queue q (it is enabled and the device is DRIVER_OK). */
	void (*notify)(struct virtio_pci *v, unsigned q);
	/* Device configuration space: off inside [0, cfg_len), size 1, 2, 4 or 8. */
	uint64_t (*cfg_read)(struct virtio_pci *v, unsigned off, unsigned size);
	void (*cfg_write)(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val);
	/* The driver reset the device (status 0), or the VM reset: forget in-flight state. */
	void (*reset)(struct virtio_pci *v);
	/* Optional: whether the device has requests a host device still works on. A reset then
	 * waits (status reads non-zero meanwhile) until the device calls virtio_pci_reset_done. */
	bool (*busy)(struct virtio_pci *v);
};

struct virtio_pci {
	struct pci_dev pci;
	const struct vdev_env *env; /* guest memory, time, the VM's name for log lines */
	const struct virtio_dev_ops *ops;
	void *ctx; /* the device model */
	uint16_t type;
	unsigned cfg_len; /* bytes of device configuration */
	uint64_t device_features, driver_features;
	uint32_t device_feature_select, driver_feature_select;
	uint8_t status;
	bool reset_pending; /* asked for while busy: done by virtio_pci_reset_done */
	uint8_t config_generation;
	uint8_t isr;
	uint16_t queue_select;
	uint16_t config_vector;
	unsigned nr_queues;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	uint8_t pci_cfg_cap; /* offset of the VIRTIO_PCI_CAP_PCI_CFG capability */
	/* counted for `stats`: notifications, interrupts, chains refused as broken */
	uint64_t notifies, interrupts, broken;
	struct unclaimed_log log; /* rate-limits the device's complaint lines */
	struct virtq_chain chain; /* the chain being served (2 KiB: kept off keel's stack) */
};

/* A device of `type` with nr_queues queues of at most queue_max entries each, offering
 * `features` (device bits; VERSION_1, INDIRECT_DESC and EVENT_IDX are the transport's) and
 * cfg_len bytes of configuration. class_code as in PCI (base << 16 | sub << 8 | prog-if). -1
 * when the parameters are out of range. */
int virtio_pci_init(struct virtio_pci *v, const struct vdev_env *env, uint16_t type,
		    uint32_t class_code, unsigned nr_queues, uint16_t queue_max, uint64_t features,
		    unsigned cfg_len, const struct virtio_dev_ops *ops, void *ctx);

/* Guest memory for the device's work, or NULL when it may not touch it: bus mastering off, or
 * the device not DRIVER_OK, or it needs a reset. */
const struct guest_mem *virtio_pci_dma(struct virtio_pci *v);
/* Buffers were used on queue q since used_before: interrupts the driver if it wants one. */
void virtio_pci_used(struct virtio_pci *v, unsigned q, uint16_t used_before);
/* The device's configuration changed: a new generation and a configuration interrupt. */
void virtio_pci_config_changed(struct virtio_pci *v);
/* The driver broke queue q (why: a short phrase): DEVICE_NEEDS_RESET, a configuration
 * interrupt, a rate-limited log line; nothing more is done until the driver resets. */
void virtio_pci_queue_broken(struct virtio_pci *v, unsigned q, const char *why);
/* A reset the device put off (ops->busy) happens now, if one is pending. */
void virtio_pci_reset_done(struct virtio_pci *v);
/* Drains queue q: pops every available chain (at most the queue's size per call, so one exit
 * is bounded), hands each to fn, pushes it used with the length fn returns, then interrupts
 * once if the driver wants it. A broken chain breaks the queue. */
void virtio_pci_drain(struct virtio_pci *v, unsigned q,
		      uint32_t (*fn)(struct virtio_pci *v, const struct guest_mem *m,
				     const struct virtq_chain *c));

#endif
