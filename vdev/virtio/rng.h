/* virtio-rng (virtio 1.2, 5.4): one request queue; every buffer the driver makes available is
 * filled with entropy from the VM's source (vdev_env.random: RDSEED/RDRAND where the CPU has
 * them, else keel's DRBG, lib/drbg.h) and handed back. No features, no configuration. */
#ifndef KEEL_VDEV_VIRTIO_RNG_H
#define KEEL_VDEV_VIRTIO_RNG_H

#include "vdev/virtio/virtio_pci.h"

#define VIRTIO_RNG_QUEUE_SIZE 64
/* The most one request is given: a guest asking for more gets this much, which the driver
 * accepts (it reads the length the device used). */
#define VIRTIO_RNG_MAX_REQUEST 4096

struct virtio_rng {
	struct virtio_pci vpci;
	uint64_t bytes; /* handed out, for `stats` */
};

int virtio_rng_init(struct virtio_rng *r, const struct vdev_env *env);

#endif
