/* The host disks on the real machine: the NVMe namespaces keel drives and their GPT partitions
 * (core/host_disks_hw.h). */
#include "core/host_disks_hw.h"

#include "core/kmem.h"
#include "drivers/nvme_hw.h"
#include "io/blk_part.h"
#include "io/gpt.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"

static struct host_disks table;

const struct host_disks *host_disks_table(void)
{
	return &table;
}

/* The GPT partitions of namespace ns (table index), read through a read-only backend */
static void add_partitions(unsigned ns)
{
	static struct gpt_table gpt;
	static uint8_t scratch[GPT_SCRATCH_BYTES] __attribute__((aligned(4096)));
	const struct host_disk *h = &table.d[ns];
	const char *why = NULL;
	struct blk_backend *b = nvme_hw_disk(h->ctrl, h->nsid, true, &why);
	int rc;

	if (!b) {
		klog("keel: disk %s: cannot read its GPT: %s", h->name, why);
		return;
	}
	rc = gpt_read(b, BLK_SECTOR_SIZE, scratch, &gpt);
	blk_release(b);
	if (rc) {
		klog("keel: disk %s: no partitions (%s)", table.d[ns].name, gpt_strerror(rc));
		return;
	}
	if (gpt.used_backup)
		klog("keel: disk %s: primary GPT refused (%s); the backup copy is used (repair the "
		     "disk's table)",
		     table.d[ns].name, gpt_strerror(gpt.primary_err));
	for (unsigned i = 0; i < gpt.nr_parts && i < GPT_MAX_PARTS; i++) {
		const struct gpt_part *p = &gpt.part[i];
		int idx = host_disks_add_part(&table, ns, p->index, p->first_sector, p->sectors,
					      p->label_ok ? p->label : NULL);
		char label[CFG_LABEL_MAX + 8];

		if (idx < 0)
			continue;
		if (p->label_ok)
			ksnprintf(label, sizeof(label), "part:%s", p->label);
		else
			kstrlcpy(label, "no usable label", sizeof(label));
		klog("keel: disk %s: %s, %llu MiB", table.d[idx].name, label,
		     (unsigned long long)(p->sectors * BLK_SECTOR_SIZE / MiB));
	}
}

void host_disks_init(void)
{
	for (unsigned c = 0; c < nvme_hw_count(); c++) {
		const struct nvme_ctrl *ctrl = nvme_hw_ctrl(c);

		if (ctrl->state != NVME_S_READY)
			continue;
		for (unsigned i = 0; i < ctrl->nr_ns && i < NVME_MAX_NS; i++) {
			const struct nvme_ns *ns = &ctrl->ns[i];
			int idx;

			if (!ns->usable)
				continue;
			if (ns->lba_shift != BLK_SECTOR_SHIFT) {
				klog("keel: disk nvme%un%u: %u-byte blocks; not offered to VMs (keel "
				     "serves 512-byte namespaces only so far)",
				     c, ns->nsid, 1u << ns->lba_shift);
				continue;
			}
			idx = host_disks_add_ns(&table, c, ns->nsid, ns->nsze);
			if (idx < 0)
				continue;
			klog("keel: disk %s: nvme:%u, %llu MiB", table.d[idx].name,
			     table.d[idx].number,
			     (unsigned long long)(ns->nsze * BLK_SECTOR_SIZE / MiB));
			add_partitions((unsigned)idx);
		}
	}
	if (table.nr_dropped)
		klog("keel: disks: %u namespaces or partitions past the %d keel lists",
		     table.nr_dropped, HOST_DISKS_MAX);
}

/* A partition: a slice of its namespace, which it holds open */
struct part_disk {
	struct blk_part part; /* first: &d->part.blk is what device models get */
	struct blk_backend *ns;
};

static void release_part(struct blk_backend *b)
{
	struct part_disk *d = (struct part_disk *)b;

	blk_release(d->ns);
	kmem_free_pages(d, sizeof(*d));
}

static struct blk_backend *open_part(const struct host_disk *h, bool read_only, const char **why)
{
	struct blk_backend *ns = nvme_hw_disk(h->ctrl, h->nsid, read_only, why);
	struct part_disk *d;

	if (!ns)
		return NULL;
	d = kmem_alloc_pages(sizeof(*d), PAGE_SIZE);
	if (!d || blk_part_init(&d->part, ns, h->first, h->sectors, read_only)) {
		*why = d ? "the partition is not inside its namespace" : "out of memory";
		if (d)
			kmem_free_pages(d, sizeof(*d));
		blk_release(ns);
		return NULL;
	}
	d->ns = ns;
	d->part.blk.release = release_part;
	return &d->part.blk;
}

/* Which claim each open backend holds, to drop it when the VM gives the backend back */
struct opened {
	struct blk_backend *b;
	void (*inner_release)(struct blk_backend *b);
	unsigned idx;
};
static struct opened opened[HOST_DISKS_MAX];

static void release_claimed(struct blk_backend *b)
{
	for (unsigned i = 0; i < HOST_DISKS_MAX; i++) {
		struct opened *o = &opened[i];

		if (o->b != b)
			continue;
		host_disks_release(&table, o->idx);
		o->b = NULL;
		b->release = o->inner_release;
		blk_release(b);
		return;
	}
}

struct blk_backend *host_disk_open(const struct disk_config *d, const char *vm, unsigned vm_disk,
				   char *err, size_t err_size)
{
	int idx = host_disks_claim(&table, d, vm, vm_disk, err, err_size);
	const struct host_disk *h;
	struct blk_backend *b = NULL;
	const char *why = NULL;
	struct opened *slot = NULL;

	if (idx < 0)
		return NULL;
	h = &table.d[idx];
	for (unsigned i = 0; i < HOST_DISKS_MAX && !slot; i++)
		if (!opened[i].b)
			slot = &opened[i];
	if (h->part)
		b = open_part(h, d->read_only, &why);
	else
		b = nvme_hw_disk(h->ctrl, h->nsid, d->read_only, &why);
	if (!b || !slot) {
		ksnprintf(err, err_size, "%s: %s", h->name, b ? "too many open host disks" : why);
		if (b)
			blk_release(b);
		host_disks_release(&table, (unsigned)idx);
		return NULL;
	}
	*slot = (struct opened){ b, b->release, (unsigned)idx };
	b->release = release_claimed;
	return b;
}
