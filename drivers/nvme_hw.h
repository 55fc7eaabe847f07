/* keel's NVMe controllers on the real machine: the glue between the driver core
 * (drivers/nvme.h), host PCI (drivers/pci_host_hw.h) and the block layer (io/blk.h).
 *
 * At boot, every function of class 01:08:02 (NVM Express, NVMe 1.4 section 1.6 gives the code)
 * whose BAR 0 keel could map is claimed by keel: memory decoding and bus mastering on, legacy
 * interrupts off, MSI-X vector 0 on when the function has it (it sends HOST_DEVICE_VECTOR to the
 * boot CPU, which only wakes that CPU: completions are still found by polling), DMA pages from
 * keel's memory, and bring-up run to its end (ready or failed: the core's timeouts bound it). Each usable namespace becomes a block backend
 * that VMs' disks can be made of (disk = nvme:N, and its GPT partitions for disk = part:LABEL).
 *
 * The controller is shared by the CPUs of every VM whose disk is on it: submission and polling
 * hold its lock for the length of one call, never while waiting for the device. A VM's request
 * is asynchronous (blk_submit): it is queued, cut into commands as slots free up (straight to
 * and from the guest's buffers when PRP rules allow, else through a bounce page per command),
 * and completed from nvme_hw_poll, which keel's loops call on every CPU; its done callback then
 * wakes the VM. Only the synchronous ops (the GPT read at boot) wait, polling, with no lock. */
#ifndef KEEL_DRIVERS_NVME_HW_H
#define KEEL_DRIVERS_NVME_HW_H

#include "drivers/nvme.h"
#include "io/blk.h"

struct pci_func;

#define NVME_HW_MAX 4 /* controllers keel drives; more are logged and left alone */

/* Finds, claims and brings up every NVMe controller; logs one line per controller and per
 * namespace. After pci_host_init, on the boot CPU. */
void nvme_hw_init(void);

/* Controllers brought up (ready or failed) */
unsigned nvme_hw_count(void);
/* Controller i's core state (read-only: for the shell), or NULL. */
const struct nvme_ctrl *nvme_hw_ctrl(unsigned i);
/* Its PCI address as "BB:DD.F" */
const char *nvme_hw_where(unsigned i);
/* Its counters since boot: commands completed and failed, and its lock taken and found taken by
 * another CPU (every CPU shares its one I/O queue pair: what a queue pair per CPU would save) */
struct nvme_hw_counts {
	uint64_t done, failed, lock_takes, lock_waits;
};
void nvme_hw_counts(unsigned i, struct nvme_hw_counts *out);
/* One line per controller with those counters (once every VM has stopped). */
void nvme_hw_log_counts(void);

/* Polls every controller with commands outstanding or requests queued: completions run their
 * requests' done callbacks, freed slots take queued commands. With no lock held, on any CPU.
 * True when some controller had work (the caller should not sleep long). */
bool nvme_hw_poll(void);
/* Whether every working controller interrupts (MSI-X) when it completes a command: a CPU may
 * then sleep while commands are out, as the completion wakes one. */
bool nvme_hw_interrupts(void);
/* Commands completed or failed on every controller since boot: a poller sees one came back. */
uint64_t nvme_hw_completions(void);

/* A block backend over namespace nsid of controller ctrl (512-byte blocks only for now), made
 * with its own page of keel's memory; NULL with why set when it cannot be. Its release gives it
 * back. */
struct blk_backend *nvme_hw_disk(unsigned ctrl, uint32_t nsid, bool read_only, const char **why);

/* SR-IOV of controller i (a physical function keel drives), at boot before any VM, each
 * waiting until its admin commands are done (the core's timeouts bound it). 0, or -1 with why.
 *   nvme_hw_index_of: the controller keel drives at f, or -1;
 *   nvme_hw_sriov_release: the primary's flexible resources back to the pool, then a reset (I/O
 *     in flight fails as reset: call it before any disk is used);
 *   nvme_hw_sriov_online: once the VFs are enabled in SR-IOV, the secondary controllers of VFs
 *     1..nr_vfs online with 2 queue and 1 interrupt resources each, their IDs in scid[];
 *   nvme_hw_attach_ns: namespace nsid attached to controller cntlid, or detached from it (one
 *     that was not attached is no error). */
int nvme_hw_index_of(const struct pci_func *f);
int nvme_hw_sriov_release(unsigned i, char *why, size_t why_size);
int nvme_hw_sriov_online(unsigned i, unsigned nr_vfs, uint16_t scid[], char *why, size_t why_size);
int nvme_hw_attach_ns(unsigned i, uint32_t nsid, uint16_t cntlid, bool attach, char *why,
		      size_t why_size);

#endif
