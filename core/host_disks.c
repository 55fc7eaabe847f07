/* The host disks' table and claims (core/host_disks.h). */
#include "core/host_disks.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

int host_disks_add_ns(struct host_disks *t, unsigned ctrl, uint32_t nsid, uint64_t sectors)
{
	unsigned number = 1;
	struct host_disk *h;

	if (t->nr == HOST_DISKS_MAX) {
		t->nr_dropped++;
		return -1;
	}
	for (unsigned i = 0; i < t->nr; i++)
		if (!t->d[i].part)
			number++;
	h = &t->d[t->nr];
	memset(h, 0, sizeof(*h));
	ksnprintf(h->name, sizeof(h->name), "nvme%un%u", ctrl, nsid);
	h->ctrl = ctrl;
	h->nsid = nsid;
	h->number = number;
	h->sectors = sectors;
	return (int)t->nr++;
}

int host_disks_add_part(struct host_disks *t, unsigned ns, unsigned part, uint64_t first,
			uint64_t sectors, const char *label)
{
	const struct host_disk *p;
	struct host_disk *h;

	if (ns >= t->nr || t->d[ns].part || !part || !sectors || first >= t->d[ns].sectors ||
	    sectors > t->d[ns].sectors - first)
		return -1;
	if (t->nr == HOST_DISKS_MAX) {
		t->nr_dropped++;
		return -1;
	}
	p = &t->d[ns];
	h = &t->d[t->nr];
	memset(h, 0, sizeof(*h));
	ksnprintf(h->name, sizeof(h->name), "%sp%u", p->name, part);
	h->ctrl = p->ctrl;
	h->nsid = p->nsid;
	h->part = part;
	h->parent = ns;
	h->first = first;
	h->sectors = sectors;
	if (label && strlen(label) <= CFG_LABEL_MAX) {
		kstrlcpy(h->label, label, sizeof(h->label));
		h->has_label = true;
	}
	return (int)t->nr++;
}

/* The entry d names; -1 with err set when there is none, or more than one label matches. */
static int find(const struct host_disks *t, const struct disk_config *d, char *err, size_t n)
{
	int found = -1;

	for (unsigned i = 0; i < t->nr; i++) {
		const struct host_disk *h = &t->d[i];

		if (d->kind == CFG_DISK_NVME && !h->part && h->number == d->nsid)
			return (int)i;
		if (d->kind != CFG_DISK_PART || !h->part || !h->has_label ||
		    strcmp(h->label, d->path) != 0)
			continue;
		if (found >= 0)
			return kfail(
				err, n,
				"partitions %s and %s are both named %s; expected one partition "
				"of that name on keel's disks",
				t->d[found].name, h->name, d->path);
		found = (int)i;
	}
	if (found >= 0)
		return found;
	if (d->kind == CFG_DISK_NVME) {
		unsigned nr_ns = 0;

		for (unsigned i = 0; i < t->nr; i++)
			nr_ns += !t->d[i].part;
		return kfail(err, n, "no NVMe namespace %u; expected 1 to %u (keel found %u)",
			     d->nsid, nr_ns, nr_ns);
	}
	return kfail(err, n, "no GPT partition named %s on keel's disks; expected the name of one",
		     d->path);
}

static int refuse_held(const struct host_disk *h, const struct host_disk *by, char *err, size_t n)
{
	if (h == by)
		return kfail(err, n,
			     "%s is vd%c of [vm %s] (line %u) already; expected it in one "
			     "disk of one VM",
			     h->name, 'a' + by->vm_disk, by->vm, by->line);
	return kfail(err, n,
		     "%s overlaps %s, vd%c of [vm %s] (line %u); expected a namespace and its "
		     "partitions in different VMs' disks never both",
		     h->name, by->name, 'a' + by->vm_disk, by->vm, by->line);
}

int host_disks_claim(struct host_disks *t, const struct disk_config *d, const char *vm,
		     unsigned vm_disk, char *err, size_t err_size)
{
	int idx;
	struct host_disk *h;

	if (d->kind != CFG_DISK_PART && d->kind != CFG_DISK_NVME)
		return kfail(err, err_size, "not a host disk; expected part:LABEL or nvme:N");
	idx = find(t, d, err, err_size);
	if (idx < 0)
		return -1;
	h = &t->d[idx];
	if (h->vm)
		return refuse_held(h, h, err, err_size);
	/* a partition and its namespace: neither while the other is held */
	for (unsigned i = 0; i < t->nr; i++) {
		const struct host_disk *o = &t->d[i];

		if (!o->vm)
			continue;
		if ((h->part && !o->part && i == h->parent) ||
		    (!h->part && o->part && o->parent == (unsigned)idx))
			return refuse_held(h, o, err, err_size);
	}
	h->vm = vm;
	h->vm_disk = vm_disk;
	h->line = d->line;
	return idx;
}

void host_disks_release(struct host_disks *t, unsigned idx)
{
	if (idx < t->nr)
		t->d[idx].vm = NULL;
}
