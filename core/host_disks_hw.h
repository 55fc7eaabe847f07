/* The host disks on the real machine (core/host_disks.h): found at boot, opened for VMs. */
#ifndef KEEL_CORE_HOST_DISKS_HW_H
#define KEEL_CORE_HOST_DISKS_HW_H

#include "core/host_disks.h"
#include "io/blk.h"

/* Lists every usable namespace of keel's NVMe controllers (drivers/nvme_hw.h) and the GPT
 * partitions on each, with one log line each. After nvme_hw_init, on the boot CPU. */
void host_disks_init(void);
const struct host_disks *host_disks_table(void);

/* Claims and opens what d names for disk vm_disk of VM vm (host_disks_claim's rules): a block
 * backend whose release also drops the claim; NULL with why in err. */
struct blk_backend *host_disk_open(const struct disk_config *d, const char *vm, unsigned vm_disk,
				   char *err, size_t err_size);

#endif
