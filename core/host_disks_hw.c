/* The host disks on the real machine: the NVMe namespaces keel drives and their GPT partitions
 * (core/host_disks_hw.h). */
#include "core/host_disks_hw.h"

#include "drivers/nvme_hw.h"
#include "lib/fmt.h"
#include "lib/log.h"

static struct host_disks table;

const struct host_disks *host_disks_table(void)
{
	return &table;
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

			if (!ns->usable || ns->lba_shift != BLK_SECTOR_SHIFT)
				continue;
			idx = host_disks_add_ns(&table, c, ns->nsid, ns->nsze);
			if (idx < 0)
				continue;
			klog("keel: disk %s: nvme:%u, %llu MiB", table.d[idx].name,
			     table.d[idx].number,
			     (unsigned long long)(ns->nsze * BLK_SECTOR_SIZE / MiB));
		}
	}
	if (table.nr_dropped)
		klog("keel: disks: %u namespaces or partitions past the %d keel lists",
		     table.nr_dropped, HOST_DISKS_MAX);
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
		why = "partitions cannot be opened yet";
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
