#include "vdev/virtio/virtio_pci.h"

#include "lib/kstring.h"
#include "lib/log.h"

/* Vendor capability types (4.1.4) and their layout: cap_vndr, cap_next, cap_len, cfg_type,
 * bar, id, padding[2], le32 offset, le32 length; the notify capability adds le32
 * notify_off_multiplier, the PCI configuration access one u8 pci_cfg_data[4]. */
#define CAP_COMMON 1
#define CAP_NOTIFY 2
#define CAP_ISR 3
#define CAP_DEVICE 4
#define CAP_PCI_CFG 5
#define CAP_LEN 16
#define CAP_BAR 4
#define CAP_OFFSET 8
#define CAP_LENGTH 12
#define CAP_EXTRA 16

#define ISR_OFF 0x1000
#define COMMON_LEN 60
#define NOTIFY_MULT 4
#define ISR_QUEUE 1
#define ISR_CONFIG 2

/* Common configuration fields (4.1.4.3): offset and width. */
enum {
	CC_DFSELECT = 0,
	CC_DF = 4,
	CC_GFSELECT = 8,
	CC_GF = 12,
	CC_MSIX = 16,
	CC_NUMQ = 18,
	CC_STATUS = 20,
	CC_CFGGEN = 21,
	CC_Q_SELECT = 22,
	CC_Q_SIZE = 24,
	CC_Q_MSIX = 26,
	CC_Q_ENABLE = 28,
	CC_Q_NOFF = 30,
	CC_Q_DESC = 32,
	CC_Q_DRIVER = 40,
	CC_Q_DEVICE = 48,
	CC_Q_NDATA = 56,
	CC_Q_RESET = 58,
};

static const char *type_name(uint16_t type)
{
	switch (type) {
	case VIRTIO_ID_NET:
		return "virtio-net";
	case VIRTIO_ID_BLOCK:
		return "virtio-blk";
	case VIRTIO_ID_CONSOLE:
		return "virtio-console";
	case VIRTIO_ID_RNG:
		return "virtio-rng";
	case VIRTIO_ID_BALLOON:
		return "virtio-balloon";
	default:
		return "virtio";
	}
}

static uint64_t offered(const struct virtio_pci *v)
{
	return v->device_features | 1ull << VIRTIO_F_VERSION_1 | 1ull << VIRTIO_F_INDIRECT_DESC |
	       1ull << VIRTIO_F_EVENT_IDX;
}

static bool msix_on(const struct virtio_pci *v)
{
	return pci_dev_msi_on(&v->pci);
}

/* An interrupt for a vector, or the INTx line with an ISR reason. */
static void interrupt(struct virtio_pci *v, uint16_t vector, uint8_t isr_bit)
{
	if (msix_on(v)) {
		if (vector == VIRTQ_NO_VECTOR)
			return; /* the driver asked for none (4.1.5.1.2) */
		pci_dev_notify(&v->pci, vector);
	} else {
		v->isr |= isr_bit;
		pci_dev_notify(&v->pci, 0);
	}
	v->interrupts++;
}

void virtio_pci_config_changed(struct virtio_pci *v)
{
	v->config_generation++;
	interrupt(v, v->config_vector, ISR_CONFIG);
}

void virtio_pci_queue_broken(struct virtio_pci *v, unsigned q, const char *why)
{
	unsigned suppressed;
	v->broken++;
	if (v->status & VIRTIO_STATUS_NEEDS_RESET)
		return;
	v->status |= VIRTIO_STATUS_NEEDS_RESET;
	/* each breakage is news (the driver reset the device in between): the bucket bounds them */
	if (unclaimed_log_should_print(&v->log, v->env, v->broken << 8 | q, &suppressed))
		klog("vm %s: %s 00:%02x.0 queue %u: %s; the device needs a reset%s",
		     v->env->vm_name, type_name(v->type), v->pci.devfn >> 3, q, why,
		     suppressed ? " (and earlier lines left out)" : "");
	virtio_pci_config_changed(v);
}

/* The driver finished setting the device up and nothing broke since: a driver that went on to
 * DRIVER_OK after its features were refused gets nothing. */
static bool live(const struct virtio_pci *v)
{
	uint8_t need = VIRTIO_STATUS_DRIVER_OK | VIRTIO_STATUS_FEATURES_OK;
	return (v->status & need) == need && !(v->status & VIRTIO_STATUS_NEEDS_RESET) &&
	       !v->reset_pending;
}

const struct guest_mem *virtio_pci_dma(struct virtio_pci *v)
{
	return live(v) && pci_dev_bus_master(&v->pci) ? v->env->mem : NULL;
}

void virtio_pci_used(struct virtio_pci *v, unsigned q, uint16_t used_before)
{
	const struct guest_mem *m = v->env->mem;
	if (q < v->nr_queues && m && virtq_wants_interrupt(&v->vq[q], m, used_before))
		interrupt(v, v->vq[q].msix_vector, ISR_QUEUE);
}

void virtio_pci_drain(struct virtio_pci *v, unsigned q,
		      uint32_t (*fn)(struct virtio_pci *v, const struct guest_mem *m,
				     const struct virtq_chain *c))
{
	struct virtq_chain *chain = &v->chain; /* the device's own: VMs drain on several CPUs */
	struct virtq *vq = &v->vq[q];
	const struct guest_mem *m = virtio_pci_dma(v);
	if (!m || !vq->enabled)
		return;
	uint16_t before = vq->used_idx;
	for (unsigned n = 0; n < vq->size; n++) {
		const char *why = NULL;
		enum virtq_pop r = virtq_pop(vq, m, chain, &why);
		if (r == VIRTQ_EMPTY)
			break;
		if (r == VIRTQ_BROKEN || virtq_push(vq, m, chain->head, fn(v, m, chain))) {
			virtio_pci_queue_broken(v, q,
						why ? why : "a used ring outside the VM's RAM");
			break;
		}
	}
	virtio_pci_used(v, q, before);
}

/* ---- reset and status --------------------------------------------------------------------- */

static void device_reset(struct virtio_pci *v)
{
	v->driver_features = 0;
	v->device_feature_select = v->driver_feature_select = 0;
	v->status = 0;
	v->isr = 0;
	v->queue_select = 0;
	v->config_vector = VIRTQ_NO_VECTOR;
	for (unsigned q = 0; q < v->nr_queues; q++)
		virtq_reset(&v->vq[q], v->vq[q].max_size);
	pci_dev_lower_intx(&v->pci);
	if (v->ops->reset)
		v->ops->reset(v);
}

/* A reset waits for the requests the device still has on a host device (ops->busy): until
 * then status keeps reading non-zero, which a driver waits out (4.1.4.3.2), and the device takes
 * no new work; virtio_pci_reset_done finishes it. */
static void reset_or_defer(struct virtio_pci *v)
{
	if (v->ops->busy && v->ops->busy(v)) {
		v->reset_pending = true;
		return;
	}
	device_reset(v);
}

void virtio_pci_reset_done(struct virtio_pci *v)
{
	if (v->reset_pending) {
		v->reset_pending = false;
		device_reset(v);
	}
}

/* A reset of the PCI function (the VM's) resets the virtio device too. */
static void pci_function_reset(struct pci_dev *d)
{
	reset_or_defer(d->hook_ctx);
}

static void write_status(struct virtio_pci *v, uint8_t val)
{
	if (v->reset_pending)
		return; /* the driver reads status until it is 0 before it writes it again */
	if (!val) {
		reset_or_defer(v);
		return;
	}
	uint8_t now = (uint8_t)(val | (v->status & VIRTIO_STATUS_NEEDS_RESET));
	if ((now & VIRTIO_STATUS_FEATURES_OK) && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
		/* 3.1.1: the device accepts only what it offered, and only a modern driver */
		uint64_t f = v->driver_features;
		if ((f & ~offered(v)) || !(f >> VIRTIO_F_VERSION_1 & 1))
			now &= (uint8_t)~VIRTIO_STATUS_FEATURES_OK;
		else
			for (unsigned q = 0; q < v->nr_queues; q++) {
				v->vq[q].indirect = f >> VIRTIO_F_INDIRECT_DESC & 1;
				v->vq[q].event_idx = f >> VIRTIO_F_EVENT_IDX & 1;
			}
	}
	v->status = now;
}

/* ---- the common configuration ------------------------------------------------------------- */

static struct virtq *selected(struct virtio_pci *v)
{
	return v->queue_select < v->nr_queues ? &v->vq[v->queue_select] : NULL;
}

static uint16_t checked_vector(const struct virtio_pci *v, uint64_t val)
{
	/* a vector the table does not have is refused: it reads back as NO_VECTOR (4.1.5.1.2) */
	return val < v->pci.msix_vectors ? (uint16_t)val : VIRTQ_NO_VECTOR;
}

/* A 64-bit field accessed whole or as either 32-bit half. */
static uint64_t *half_or_whole(uint64_t *field, unsigned rel, unsigned size, unsigned *shift)
{
	if (size == 8 && rel == 0)
		*shift = 0;
	else if (size == 4 && (rel == 0 || rel == 4))
		*shift = rel * 8;
	else
		return NULL;
	return field;
}

static uint64_t common_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	struct virtq *q = selected(v);
	unsigned shift;
	uint64_t *f;

	if (off >= CC_Q_DESC && off < CC_Q_NDATA) {
		uint64_t zero = 0;
		uint64_t *field = !q		      ? &zero
				  : off < CC_Q_DRIVER ? &q->desc
				  : off < CC_Q_DEVICE ? &q->avail
						      : &q->used;
		f = half_or_whole(field, (off - CC_Q_DESC) % 8, size, &shift);
		if (!f)
			return 0;
		return size == 8 ? *f : (uint32_t)(*f >> shift);
	}
	switch (off | size << 8) {
	case CC_DFSELECT | 4 << 8:
		return v->device_feature_select;
	case CC_DF | 4 << 8:
		return v->device_feature_select < 2
			       ? (uint32_t)(offered(v) >> (32 * v->device_feature_select))
			       : 0;
	case CC_GFSELECT | 4 << 8:
		return v->driver_feature_select;
	case CC_GF | 4 << 8:
		return v->driver_feature_select < 2
			       ? (uint32_t)(v->driver_features >> (32 * v->driver_feature_select))
			       : 0;
	case CC_MSIX | 2 << 8:
		return v->config_vector;
	case CC_NUMQ | 2 << 8:
		return v->nr_queues;
	case CC_STATUS | 1 << 8:
		return v->status;
	case CC_CFGGEN | 1 << 8:
		return v->config_generation;
	case CC_Q_SELECT | 2 << 8:
		return v->queue_select;
	case CC_Q_SIZE | 2 << 8:
		return q ? q->size : 0; /* 0: no such queue (4.1.4.3) */
	case CC_Q_MSIX | 2 << 8:
		return q ? q->msix_vector : VIRTQ_NO_VECTOR;
	case CC_Q_ENABLE | 2 << 8:
		return q && q->enabled;
	case CC_Q_NOFF | 2 << 8:
	case CC_Q_NDATA | 2 << 8:
		return v->queue_select;
	default:
		return 0; /* a size that does not fit the field, or queue_reset (not offered) */
	}
}

static void enable_queue(struct virtio_pci *v, unsigned qi)
{
	struct virtq *q = &v->vq[qi];
	if (q->enabled)
		return;
	if (!v->env->mem || !virtq_rings_valid(q, v->env->mem)) {
		virtio_pci_queue_broken(v, qi, "rings misaligned, of a bad size or outside RAM");
		return;
	}
	q->last_avail = q->used_idx = 0;
	q->enabled = true;
}

static void common_write(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val)
{
	struct virtq *q = selected(v);
	unsigned shift;

	if (off >= CC_Q_DESC && off < CC_Q_NDATA) {
		if (!q || q->enabled)
			return; /* addresses are set before the queue is enabled (4.1.4.3.2) */
		uint64_t *field = off < CC_Q_DRIVER   ? &q->desc
				  : off < CC_Q_DEVICE ? &q->avail
						      : &q->used;
		uint64_t *f = half_or_whole(field, (off - CC_Q_DESC) % 8, size, &shift);
		if (f) {
			uint64_t mask = size == 8 ? ~0ull : 0xFFFFFFFFull << shift;
			*f = (*f & ~mask) | ((val << shift) & mask);
		}
		return;
	}
	switch (off | size << 8) {
	case CC_DFSELECT | 4 << 8:
		v->device_feature_select = (uint32_t)val;
		break;
	case CC_GFSELECT | 4 << 8:
		v->driver_feature_select = (uint32_t)val;
		break;
	case CC_GF | 4 << 8:
		/* features are fixed once FEATURES_OK is set (3.1.1) */
		if (v->driver_feature_select < 2 && !(v->status & VIRTIO_STATUS_FEATURES_OK)) {
			unsigned sh = 32 * v->driver_feature_select;
			v->driver_features = (v->driver_features & ~(0xFFFFFFFFull << sh)) |
					     (uint64_t)(uint32_t)val << sh;
		}
		break;
	case CC_MSIX | 2 << 8:
		v->config_vector = checked_vector(v, val);
		break;
	case CC_STATUS | 1 << 8:
		write_status(v, (uint8_t)val);
		break;
	case CC_Q_SELECT | 2 << 8:
		v->queue_select = (uint16_t)val;
		break;
	case CC_Q_SIZE | 2 << 8:
		if (q && !q->enabled)
			q->size = (uint16_t)val; /* checked when enabled */
		break;
	case CC_Q_MSIX | 2 << 8:
		if (q)
			q->msix_vector = checked_vector(v, val);
		break;
	case CC_Q_ENABLE | 2 << 8:
		if (q && val == 1) /* 0 does nothing: disabling takes a reset (4.1.4.3.2) */
			enable_queue(v, v->queue_select);
		break;
	default:
		break; /* read-only fields, sizes that do not fit */
	}
}

/* ---- BAR 0 -------------------------------------------------------------------------------- */

static int bar_read(void *ctx, uint64_t off, unsigned size, uint64_t *val)
{
	struct virtio_pci *v = ctx;
	*val = 0;
	if (off < COMMON_LEN) {
		*val = common_read(v, (unsigned)off, size);
	} else if (off == ISR_OFF) {
		/* reading the ISR acknowledges it and lowers INTx (4.1.4.5) */
		*val = v->isr;
		v->isr = 0;
		pci_dev_lower_intx(&v->pci);
	} else if (off >= VIRTIO_DEVCFG_OFF && off - VIRTIO_DEVCFG_OFF < v->cfg_len) {
		unsigned rel = (unsigned)(off - VIRTIO_DEVCFG_OFF);
		if (rel + size <= v->cfg_len && v->ops->cfg_read)
			*val = v->ops->cfg_read(v, rel, size);
	} else if (pci_msix_mmio_claims(&v->pci, 0, off)) {
		pci_msix_mmio_read(&v->pci, off, size, val);
	}
	return 0;
}

static int bar_write(void *ctx, uint64_t off, unsigned size, uint64_t val)
{
	struct virtio_pci *v = ctx;
	if (off < COMMON_LEN) {
		common_write(v, (unsigned)off, size, val);
	} else if (off >= VIRTIO_DEVCFG_OFF && off - VIRTIO_DEVCFG_OFF < v->cfg_len) {
		unsigned rel = (unsigned)(off - VIRTIO_DEVCFG_OFF);
		if (rel + size <= v->cfg_len && v->ops->cfg_write)
			v->ops->cfg_write(v, rel, size, val);
	} else if (off >= VIRTIO_NOTIFY_OFF &&
		   off - VIRTIO_NOTIFY_OFF < (uint64_t)NOTIFY_MULT * v->nr_queues) {
		/* the queue is the address's; the value written is not trusted (4.1.5.2) */
		unsigned q = (unsigned)(off - VIRTIO_NOTIFY_OFF) / NOTIFY_MULT;
		if (live(v) && v->vq[q].enabled) {
			v->notifies++;
			v->ops->notify(v, q);
		}
	} else if (pci_msix_mmio_claims(&v->pci, 0, off)) {
		pci_msix_mmio_write(&v->pci, off, size, val);
	}
	return 0;
}

static const struct mmio_ops bar_ops = { .read = bar_read, .write = bar_write };

/* VIRTIO_PCI_CAP_PCI_CFG (4.1.4.9): the driver names a BAR offset and length in the capability,
 * then reads or writes pci_cfg_data to reach it through config space. */
static void pci_cfg_window(struct pci_dev *d, unsigned off, unsigned size, bool write)
{
	struct virtio_pci *v = d->hook_ctx;
	uint8_t *cap = d->cfg + v->pci_cfg_cap;
	uint32_t at, len;
	(void)off, (void)size;
	memcpy(&at, cap + CAP_OFFSET, 4);
	memcpy(&len, cap + CAP_LENGTH, 4);
	if (cap[CAP_BAR] != 0 || (len != 1 && len != 2 && len != 4) || (at & (len - 1)) ||
	    at >= VIRTIO_BAR_SIZE)
		return;
	uint64_t val = 0;
	if (write) {
		memcpy(&val, cap + CAP_EXTRA, len);
		bar_write(v, at, len, val);
	} else {
		bar_read(v, at, len, &val);
		memcpy(cap + CAP_EXTRA, &val, len);
	}
}

/* ---- set-up ------------------------------------------------------------------------------- */

static int add_vendor_cap(struct virtio_pci *v, uint8_t type, uint32_t off, uint32_t len,
			  unsigned cap_len)
{
	unsigned at = pci_dev_add_cap(&v->pci, PCI_CAP_VENDOR, cap_len);
	if (!at)
		return -1;
	uint8_t *c = v->pci.cfg + at;
	c[2] = (uint8_t)cap_len;
	c[3] = type;
	c[CAP_BAR] = 0;
	memcpy(c + CAP_OFFSET, &off, 4);
	memcpy(c + CAP_LENGTH, &len, 4);
	return (int)at;
}

int virtio_pci_init(struct virtio_pci *v, const struct vdev_env *env, uint16_t type,
		    uint32_t class_code, unsigned nr_queues, uint16_t queue_max, uint64_t features,
		    unsigned cfg_len, const struct virtio_dev_ops *ops, void *ctx)
{
	memset(v, 0, sizeof(*v));
	if (!nr_queues || nr_queues > VIRTIO_MAX_QUEUES || !queue_max ||
	    queue_max > VIRTQ_MAX_SIZE || (queue_max & (queue_max - 1)) ||
	    cfg_len > VIRTIO_DEVCFG_MAX || !ops || !ops->notify)
		return -1;
	v->env = env;
	v->ops = ops;
	v->ctx = ctx;
	v->type = type;
	v->cfg_len = cfg_len;
	v->nr_queues = nr_queues;
	v->device_features = features;
	v->config_vector = VIRTQ_NO_VECTOR;
	for (unsigned q = 0; q < nr_queues; q++)
		virtq_reset(&v->vq[q], queue_max);
	unclaimed_log_init(&v->log);

	/* 4.1.2.1: ID 0x1040 + type, revision 1 or more for a device without the legacy
	 * interface, subsystem ID 0x40 or more */
	pci_dev_init(&v->pci, VIRTIO_PCI_VENDOR, (uint16_t)(VIRTIO_PCI_DEVICE_BASE + type),
		     class_code, 1, 1);
	pci_dev_set_subsystem(&v->pci, VIRTIO_PCI_VENDOR, 0x40);
	int notify, pci_cfg;
	if (pci_dev_add_bar(&v->pci, 0, PCI_BAR_MEM64, true, VIRTIO_BAR_SIZE, &bar_ops, v) ||
	    add_vendor_cap(v, CAP_COMMON, 0, COMMON_LEN, CAP_LEN) < 0 ||
	    (notify = add_vendor_cap(v, CAP_NOTIFY, VIRTIO_NOTIFY_OFF, NOTIFY_MULT * nr_queues,
				     CAP_LEN + 4)) < 0 ||
	    add_vendor_cap(v, CAP_ISR, ISR_OFF, 1, CAP_LEN) < 0 ||
	    (cfg_len && add_vendor_cap(v, CAP_DEVICE, VIRTIO_DEVCFG_OFF, cfg_len, CAP_LEN) < 0) ||
	    (pci_cfg = add_vendor_cap(v, CAP_PCI_CFG, 0, 0, CAP_LEN + 4)) < 0 ||
	    pci_dev_add_msix(&v->pci, nr_queues + 1, 0, VIRTIO_MSIX_TABLE_OFF, VIRTIO_MSIX_PBA_OFF))
		return -1;
	uint32_t mult = NOTIFY_MULT;
	memcpy(v->pci.cfg + notify + CAP_EXTRA, &mult, 4);
	/* the PCI_CFG window: bar, offset, length and data are the driver's to write */
	v->pci_cfg_cap = (uint8_t)pci_cfg;
	v->pci.wmask[pci_cfg + CAP_BAR] = 0xFF;
	memset(v->pci.wmask + pci_cfg + CAP_OFFSET, 0xFF, 12);
	v->pci.hook_off = (uint16_t)(pci_cfg + CAP_EXTRA);
	v->pci.hook_len = 4;
	v->pci.hook = pci_cfg_window;
	v->pci.hook_ctx = v;
	v->pci.model_reset = pci_function_reset;
	pci_dev_seal(&v->pci);
	return 0;
}
