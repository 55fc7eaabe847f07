/* The host's disks as VMs may take them: every usable NVMe namespace (disk = nvme:N) and every
 * GPT partition on one (disk = part:LABEL), with which VM disk holds each. Filled at boot from the
 * NVMe driver and the GPT reader (core/host_disks_hw.c); the lookup and the claims are plain
 * logic, tested on the host.
 *
 * Claims: a partition or namespace belongs to one disk of one VM, read-only or not; a namespace
 * cannot be claimed whole while one of its partitions is, nor the other way round. Every refusal
 * says what was expected, for the keel.cfg:LINE: message. */
#ifndef KEEL_CORE_HOST_DISKS_H
#define KEEL_CORE_HOST_DISKS_H

#include "core/config.h"
#include "lib/types.h"

#define HOST_DISKS_MAX 64
#define HOST_DISK_NAME_MAX 23 /* "nvme3n4294967295p128" */

struct host_disk {
	char name[HOST_DISK_NAME_MAX + 1]; /* as Linux would name it: nvme0n1, nvme0n1p2 */
	unsigned ctrl;			   /* keel's controller number */
	uint32_t nsid;			   /* the namespace on it */
	unsigned number;		   /* N of disk = nvme:N (a namespace; 0 on partitions) */
	unsigned part;			   /* GPT entry number (from 1); 0: the whole namespace */
	unsigned parent;		   /* a partition's namespace (its index in the table) */
	uint64_t first, sectors;	   /* 512-byte sectors on the namespace */
	char label[CFG_LABEL_MAX + 1];	   /* a partition's name, when it is printable ASCII */
	bool has_label;
	/* the claim: the VM and its disk's line, or none */
	const char *vm;
	unsigned vm_disk; /* 0 for vda ... */
	unsigned line;
};

struct host_disks {
	unsigned nr;
	struct host_disk d[HOST_DISKS_MAX];
	unsigned nr_dropped; /* namespaces or partitions past HOST_DISKS_MAX */
};

/* Appends a namespace (number is nr of namespaces so far + 1); its index, or -1 when full. */
int host_disks_add_ns(struct host_disks *t, unsigned ctrl, uint32_t nsid, uint64_t sectors);
/* Appends partition part of namespace ns [first, first + sectors), label NULL when its name is not
 * printable ASCII; its index, or -1 when full or outside the namespace. */
int host_disks_add_part(struct host_disks *t, unsigned ns, unsigned part, uint64_t first,
			uint64_t sectors, const char *label);

/* Claims what d names (part: or nvme:) for disk vm_disk (0 = vda) of VM vm, which must outlive
 * the claim. Returns its index, or -1 with err set ("no GPT partition named x on keel's disks",
 * "... is vdb of [vm a] (line 4)" ...). */
int host_disks_claim(struct host_disks *t, const struct disk_config *d, const char *vm,
		     unsigned vm_disk, char *err, size_t err_size);
void host_disks_release(struct host_disks *t, unsigned idx);

#endif
