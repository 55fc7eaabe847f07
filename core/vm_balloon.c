#include "core/vm_balloon.h"

#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/sched.h"
#include "core/virt.h"
#include "core/vm_dma.h"
#include "drivers/nvme_hw.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vdev/platform.h"

static int dma_unmapped(void *ctx, uint64_t gpa)
{
	return vm_dma_page_unmapped(ctx, gpa);
}

static int dma_mapped(void *ctx, uint64_t gpa, uint64_t hpa)
{
	return vm_dma_page_mapped(ctx, gpa, hpa);
}

static uint64_t alloc_frame(void *ctx)
{
	(void)ctx;
	return kmem_alloc_frame();
}

void vm_stage2_flush(struct vm *vm, uint32_t *quiet_seq)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		virt->flush_guest_tlb(vm->vcpus[i]);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		if (quiet_seq)
			quiet_seq[i] = __atomic_load_n(&v->quiet_seq, __ATOMIC_SEQ_CST);
		if (__atomic_load_n(&v->guest_seq, __ATOMIC_SEQ_CST) & 1)
			sched_kick(v);
	}
}

/* The balloon's flush: vm_stage2_flush, the passed devices' IOMMU translations dropped first.
 * The frames unmapped before this call are not keel's yet: free_frame retires them, and
 * vm_balloon_reap hands them to keel once every vCPU has passed the top of its run loop since
 * (it then left the guest, will flush before entering it again, and holds no pointer into guest
 * RAM from before: the MMIO and string-I/O walks run without the VM's lock) or is outside the
 * loop. */
static void flush(void *ctx)
{
	struct vm *vm = ctx;
	/* the passed devices' translations first: they never wait for a quiet point */
	vm_dma_flush(vm);
	vm_stage2_flush(vm, vm->retired_seq);
}

/* True when every vCPU passed a quiet point since the last flush, or is outside its loop. */
static bool all_quiet(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		if (__atomic_load_n(&v->in_slice, __ATOMIC_SEQ_CST) &&
		    __atomic_load_n(&v->quiet_seq, __ATOMIC_SEQ_CST) == vm->retired_seq[i])
			return false;
	}
	return true;
}

static void give_retired(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_retired; i++)
		kmem_give_frame(vm->balloon_retired[i]);
	vm->nr_retired = 0;
}

/* Retired frames wait for vm_balloon_reap. The list holds two exits' worth (a notification
 * drains at most a queue's chains); should it fill all the same, this waits here for the vCPUs
 * in the guest to leave it (kicked by flush), and for the DMA of the disks' requests on host
 * devices (no new one starts while the lock is held), and gives the frames at once: the guest
 * can no longer reach them, though a lockless walk of another vCPU might still read one. */
static void free_frame(void *ctx, uint64_t hpa)
{
	struct vm *vm = ctx;
	if (vm->nr_retired < VM_BALLOON_RETIRED) {
		vm->balloon_retired[vm->nr_retired++] = hpa;
		return;
	}
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		uint32_t seq = __atomic_load_n(&vm->vcpus[i]->guest_seq, __ATOMIC_SEQ_CST);
		while ((seq & 1) &&
		       __atomic_load_n(&vm->vcpus[i]->guest_seq, __ATOMIC_SEQ_CST) == seq)
			__builtin_ia32_pause();
	}
	while (platform_blk_dma_busy(vm->platform)) {
		nvme_hw_poll();
		__builtin_ia32_pause();
	}
	give_retired(vm);
	kmem_give_frame(hpa);
}

void vm_balloon_reap(struct vm *vm)
{
	if (!__atomic_load_n(&vm->nr_retired, __ATOMIC_RELAXED))
		return;
	vm_lock(vm);
	/* a disk's request on a host device may still DMA into a frame it mapped before */
	if (all_quiet(vm) && !platform_blk_dma_busy(vm->platform))
		give_retired(vm);
	vm_unlock(vm);
}

static uint64_t ram_pages(const struct vm *vm)
{
	const struct gmem_extent *last = &vm->mem.ext[vm->mem.nr - 1];
	return (last->gpa + last->size) / PAGE_SIZE;
}

int vm_balloon_setup(struct vm *vm, char *err, size_t err_size)
{
	uint64_t n = ram_pages(vm);
	vm->balloon_frames = kmem_alloc_pages(n * sizeof(uint64_t), PAGE_SIZE);
	vm->balloon_retired = kmem_alloc_pages(VM_BALLOON_RETIRED * sizeof(uint64_t), PAGE_SIZE);
	if (!vm->balloon_frames || !vm->balloon_retired) {
		if (vm->balloon_frames)
			kmem_free_pages(vm->balloon_frames, n * sizeof(uint64_t));
		if (vm->balloon_retired)
			kmem_free_pages(vm->balloon_retired, VM_BALLOON_RETIRED * sizeof(uint64_t));
		vm->balloon_frames = NULL;
		vm->balloon_retired = NULL;
		ksnprintf(err, err_size, "out of memory for the balloon's page table");
		return -1;
	}
	vm->balloon_ops = (struct balloon_mem_ops){ alloc_frame, free_frame,   flush,
						    vm,		 dma_unmapped, dma_mapped };
	balloon_mem_init(&vm->balloon, &vm->mem, &vm->stage2, &vm->balloon_ops, vm->balloon_frames,
			 n);
	return 0;
}

enum balloon_rc vm_balloon_refault(struct vm *vm, uint64_t gpa)
{
	if (!vm->balloon_frames)
		return BALLOON_BAD;
	vm_lock(vm);
	enum balloon_rc rc = balloon_mem_refault(&vm->balloon, gpa);
	vm_unlock(vm);
	return rc;
}

int vm_balloon_fill(struct vm *vm)
{
	if (!vm->balloon_frames)
		return 0;
	vm_lock(vm);
	int r = balloon_mem_fill_all(&vm->balloon);
	vm_unlock(vm);
	return r;
}

/* A run of pages still in their extent goes back as one range. */
static void free_run(const struct gmem_extent *e, uint64_t from, uint64_t to)
{
	if (to > from) {
		struct gmem_extent run = { e->gpa + from, to - from, e->hva + from, e->hpa + from };
		kmem_free_guest_ram(&run, 1);
	}
}

bool vm_balloon_release(struct vm *vm)
{
	bool ram_done = false;
	if (!vm->balloon_frames)
		return false;
	balloon_mem_commit(&vm->balloon);
	give_retired(vm); /* no vCPU runs */
	kmem_free_pages(vm->balloon_retired, VM_BALLOON_RETIRED * sizeof(uint64_t));
	vm->balloon_retired = NULL;
	if (vm->mem.frame) {
		/* pages in their extents go back by runs; moved pages' frames to the frame pool;
		 * holes' frames are there already */
		for (unsigned i = 0; i < vm->mem.nr; i++) {
			const struct gmem_extent *e = &vm->mem.ext[i];
			uint64_t run = 0;
			for (uint64_t off = 0; off < e->size; off += PAGE_SIZE) {
				uint64_t f = vm->balloon_frames[(e->gpa + off) / PAGE_SIZE];
				if (f == GMEM_FRAME_OWN)
					continue;
				free_run(e, run, off);
				run = off + PAGE_SIZE;
				if (f != GMEM_FRAME_HOLE)
					kmem_give_frame(f);
			}
			free_run(e, run, e->size);
		}
		ram_done = true;
	}
	kmem_free_pages(vm->balloon_frames, vm->balloon.nr_frames * sizeof(uint64_t));
	vm->balloon_frames = NULL;
	vm->mem.frame = NULL;
	return ram_done;
}

int hv_vm_set_balloon_target(struct vm *vm, uint64_t bytes, char *err, size_t err_size)
{
	uint64_t min = MIN(vm->memory, (uint64_t)VM_BALLOON_MIN_SIZE);
	if (!vm->balloon_frames) {
		ksnprintf(err, err_size, "vm %s has no balloon (set up its memory first)",
			  vm->name);
		return -1;
	}
	if (bytes > vm->memory || bytes < min || bytes % PAGE_SIZE) {
		ksnprintf(err, err_size,
			  "vm %s: %llu KiB is not a size for it; expected whole 4 KiB pages from "
			  "%llu MiB to its %llu MiB",
			  vm->name, (unsigned long long)(bytes / KiB),
			  (unsigned long long)(min / MiB), (unsigned long long)(vm->memory / MiB));
		return -1;
	}
	vm_lock(vm);
	vm->balloon_target = (uint32_t)((vm->memory - bytes) / PAGE_SIZE);
	if (vm->state == VM_RUNNING && vm->platform->has_balloon)
		virtio_balloon_set_target(&vm->platform->balloon, vm->balloon_target);
	vm_unlock(vm);
	return 0;
}
