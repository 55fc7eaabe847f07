/* A VM's balloon in keel (core/balloon_mem.h is the logic, vdev/virtio/balloon.h the device):
 * the frame table, keel's frames and the cross-CPU stage-2 flush. Needs the real machine. */
#ifndef KEEL_CORE_VM_BALLOON_H
#define KEEL_CORE_VM_BALLOON_H

#include "core/vm.h"

/* The smallest target `balloon NAME SIZE` and hv_vm_set_balloon_target accept. */
#define VM_BALLOON_MIN_SIZE (64 * MiB)

/* Frames a VM's balloon may have retired at once: two notifications' worth. */
#define VM_BALLOON_RETIRED (2ull * VIRTIO_BALLOON_QUEUE_SIZE * VIRTIO_BALLOON_PFNS_PER_CHAIN)

/* At the top of a vCPU's run loop (a quiet point): retired frames become keel's once every vCPU
 * of the VM passed one since they were unmapped. Takes the VM's lock when there are some. */
void vm_balloon_reap(struct vm *vm);

/* Every vCPU of vm flushes its stage-2 translations before it next enters the guest (the
 * backends' flush flag: TLB_CONTROL on AMD-V, INVEPT on VT-x); one in the guest now is kicked
 * out, so it takes the flush soon. With quiet_seq (one per vCPU), each vCPU's quiet_seq read after
 * its flag was set: a vCPU about to enter then sees the flag, or is seen in the guest and kicked.
 * Under the VM's lock. */
void vm_stage2_flush(struct vm *vm, uint32_t *quiet_seq);
/* After the VM's RAM is mapped: its balloon's table. 0, or -1 with why in err. */
int vm_balloon_setup(struct vm *vm, char *err, size_t err_size);
/* A stage-2 fault at gpa on the balloon's account (balloon_mem_refault), under the VM's lock. */
enum balloon_rc vm_balloon_refault(struct vm *vm, uint64_t gpa);
/* Before a new life reloads RAM: every hole mapped again (zeroed frames). -1 when keel has no
 * frames for them. No vCPU runs. */
int vm_balloon_fill(struct vm *vm);
/* hv_vm_destroy: the table freed and, once the VM has ballooned, its RAM given back here (runs of
 * pages still in their blocks to the allocator, moved pages' frames to the frame pool; holes'
 * frames are there already): true then, and the caller frees only the extent array. No vCPU
 * runs. */
bool vm_balloon_release(struct vm *vm);

#endif
