#include "vdev/virtio/rng.h"

#define PCI_CLASS_OTHER 0xFF0000

static uint32_t fill(struct virtio_pci *v, const struct guest_mem *m, const struct virtq_chain *c)
{
	struct virtio_rng *r = v->ctx;
	uint8_t buf[256];
	uint64_t want = c->in_bytes < VIRTIO_RNG_MAX_REQUEST ? c->in_bytes : VIRTIO_RNG_MAX_REQUEST;
	uint32_t done = 0;
	while (done < want) {
		size_t n = want - done < sizeof(buf) ? (size_t)(want - done) : sizeof(buf);
		v->env->random(v->env->ctx, buf, n);
		size_t k = virtq_chain_write(m, c, done, buf, n);
		done += (uint32_t)k;
		if (k < n)
			break;
	}
	r->bytes += done;
	return done;
}

static void notify(struct virtio_pci *v, unsigned q)
{
	virtio_pci_drain(v, q, fill);
}

static const struct virtio_dev_ops rng_ops = { .notify = notify };

int virtio_rng_init(struct virtio_rng *r, const struct vdev_env *env)
{
	r->bytes = 0;
	if (!env->random)
		return -1;
	return virtio_pci_init(&r->vpci, env, VIRTIO_ID_RNG, PCI_CLASS_OTHER, 1,
			       VIRTIO_RNG_QUEUE_SIZE, 0, 0, &rng_ops, r);
}
