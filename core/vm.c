/* The VM life cycle behind core/hv_api.h: RAM and stage-2 tables, vCPUs, kernel loading. */
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/percpu.h"
#include "arch/x86/time.h"
#include "core/guest_layout.h"
#include "core/hv_api.h"
#include "core/console_buf.h"
#include "core/console_input.h"
#include "core/guest_console.h"
#include "core/kmem.h"
#include "core/sched.h"
#include "core/status_bar_hw.h"
#include "core/virt.h"
#include "core/vm_balloon.h"
#include "core/vm_io.h"
#include "core/vm_run.h"
#include "guest/loader.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vdev/platform.h"

const struct virt_ops *virt;

int hv_init(char *err, size_t err_size)
{
	virt = virt_select();
	if (!virt)
		return kfail(err, err_size, "no virtualization backend for this CPU vendor");
	return virt->cpu_enable(err, err_size);
}

static uint64_t s2_alloc_page(void *ctx)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
}

static uint64_t *s2_table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(uintptr_t)pa;
}

static void s2_free_page(void *ctx, uint64_t pa)
{
	(void)ctx;
	kmem_free_pages((void *)(uintptr_t)pa, PAGE_SIZE);
}

struct vm *hv_vm_create(const char *name, char *err, size_t err_size)
{
	struct vm *vm = kmem_alloc_pages(sizeof(*vm), PAGE_SIZE);
	if (!vm) {
		kfail(err, err_size, "out of memory for the VM structure");
		return NULL;
	}
	kstrlcpy(vm->name, name, sizeof(vm->name));
	vm->exit_port = true;
	vm->restart_on_reboot = true; /* a guest reboot restarts it, as on a PC (and Xen) */
	vm->start_time = (struct vrtc_time){ 0, 0, 0, 1, 1, 2000 };
	struct stage2_alloc a = { s2_alloc_page, s2_table_ptr, s2_free_page, NULL };
	vm->platform = kmem_alloc_pages(sizeof(struct platform), PAGE_SIZE);
	vm->con = kmem_alloc_pages(sizeof(struct conbuf), PAGE_SIZE);
	if (!vm->platform || !vm->con || stage2_init(&vm->stage2, virt->stage2_format(), &a)) {
		kfail(err, err_size, "out of memory for the VM's devices and stage-2 tables");
		if (vm->platform)
			kmem_free_pages(vm->platform, sizeof(struct platform));
		if (vm->con)
			kmem_free_pages(vm->con, sizeof(struct conbuf));
		kmem_free_pages(vm, sizeof(*vm));
		return NULL;
	}
	conbuf_init(vm->con);
	return vm;
}

struct vcpu *hv_vcpu_create(struct vm *vm, char *err, size_t err_size)
{
	if (vm->nr_vcpus == VM_MAX_VCPUS) {
		kfail(err, err_size, "more than %d vCPUs", VM_MAX_VCPUS);
		return NULL;
	}
	struct vcpu *v = kmem_alloc_pages(sizeof(*v), PAGE_SIZE);
	if (!v) {
		kfail(err, err_size, "out of memory for a vCPU");
		return NULL;
	}
	v->vm = vm;
	v->id = vm->nr_vcpus;
	v->pin = -1;
	v->fpu = kmem_alloc_pages(fpu_area_size(), PAGE_SIZE);
	if (!v->fpu) {
		kmem_free_pages(v, sizeof(*v));
		kfail(err, err_size, "out of memory for a vCPU's FPU state");
		return NULL;
	}
	if (virt->vcpu_create(v)) {
		virt->vcpu_destroy(v);
		kmem_free_pages(v->fpu, fpu_area_size());
		kmem_free_pages(v, sizeof(*v));
		kfail(err, err_size, "out of memory for the vCPU's %s state", virt->name);
		return NULL;
	}
	vm->vcpus[vm->nr_vcpus++] = v;
	return v;
}

/* Every stage-2 leaf must map the VM's own RAM, gpa to its own host block: checked once the
 * tables are built, so a bug in them can never hand a guest keel's or another VM's memory. */
static int leaf_is_own_ram(void *ctx, uint64_t gpa, uint64_t hpa, uint64_t size)
{
	const struct vm *vm = ctx;
	const struct gmem_extent *e = gmem_find(&vm->mem, gpa);

	if (e && range_within(gpa - e->gpa, size, e->size) && hpa == e->hpa + (gpa - e->gpa))
		return 0;
	klog("vm %s: stage-2 leaf %llx -> %llx (+%llx) is not the VM's RAM", vm->name,
	     (unsigned long long)gpa, (unsigned long long)hpa, (unsigned long long)size);
	return -1;
}

/* Host blocks one VM's RAM may take: far more than a fragmented host needs (each block but the
 * last of a region takes a free range's whole tail, and the allocator tracks PHYS_MAX_RANGES) */
#define VM_MAX_EXTENTS 2048

/* The host blocks behind every guest RAM region, in vm->mem: 0, or -1 with nothing taken. */
static int back_ram(struct vm *vm, uint64_t bytes, char *err, size_t err_size)
{
	uint64_t gpa[2], size[2];
	unsigned n = guest_ram_regions(bytes, gpa, size), nr = 0;
	uint64_t scratch_size = VM_MAX_EXTENTS * sizeof(struct gmem_extent);
	struct gmem_extent *scratch = kmem_alloc_pages(scratch_size, PAGE_SIZE), *ext = NULL;

	if (!scratch)
		return kfail(err, err_size, "out of memory for the VM's memory map");
	for (unsigned i = 0; i < n; i++) {
		if (kmem_alloc_guest_ram(gpa[i], size[i], scratch, VM_MAX_EXTENTS, &nr)) {
			kmem_free_guest_ram(scratch, nr);
			kmem_free_pages(scratch, scratch_size);
			uint64_t free = kmem_free_bytes();
			if (free < bytes)
				return kfail(err, err_size,
					     "not enough host RAM: %llu MiB needed, %llu MiB free",
					     (unsigned long long)(bytes / MiB),
					     (unsigned long long)(free / MiB));
			return kfail(
				err, err_size,
				"host RAM too fragmented: %llu MiB needed, %llu MiB free in more "
				"than %u blocks",
				(unsigned long long)(bytes / MiB), (unsigned long long)(free / MiB),
				VM_MAX_EXTENTS);
		}
	}
	/* keep only what is used: the VM holds its map as long as it lives */
	ext = kmem_alloc_pages(nr * sizeof(*ext), PAGE_SIZE);
	if (ext)
		memcpy(ext, scratch, nr * sizeof(*ext));
	else
		kmem_free_guest_ram(scratch, nr);
	kmem_free_pages(scratch, scratch_size);
	if (!ext)
		return kfail(err, err_size, "out of memory for the VM's memory map");
	vm->mem = (struct guest_mem){ .ext = ext, .nr = nr };
	return 0;
}

/* Where a VM in several host blocks got them (the first few): what a fragmented host gave it. */
static void log_blocks(const struct vm *vm)
{
	char line[256] = "";

	for (unsigned i = 0; i < vm->mem.nr && i < 4; i++) {
		const struct gmem_extent *e = &vm->mem.ext[i];
		size_t n = kstrnlen(line, sizeof(line));
		ksnprintf(line + n, sizeof(line) - n, "%s%llx+%llx at %llx", i ? ", " : "",
			  (unsigned long long)e->gpa, (unsigned long long)e->size,
			  (unsigned long long)e->hpa);
	}
	klog("vm %s: RAM blocks (guest address+size at host address): %s%s", vm->name, line,
	     vm->mem.nr > 4 ? ", ..." : "");
}

int hv_vm_setup_memory(struct vm *vm, uint64_t bytes, char *err, size_t err_size)
{
	if (vm->mem.nr)
		return kfail(err, err_size, "memory is already set up");
	if (back_ram(vm, bytes, err, err_size))
		return -1;
	for (unsigned i = 0; i < vm->mem.nr; i++) {
		const struct gmem_extent *e = &vm->mem.ext[i];
		/* nothing of a previous owner of this RAM may reach the guest */
		memset(e->hva, 0, e->size);
		/* per block: the builder picks the largest leaves each block's alignment allows */
		if (stage2_map(&vm->stage2, e->gpa, e->hpa, e->size))
			return kfail(err, err_size, "out of memory for stage-2 tables");
	}
	if (stage2_for_each_leaf(&vm->stage2, leaf_is_own_ram, vm))
		return kfail(err, err_size, "stage-2 tables map memory that is not the VM's");
	klog("vm %s: stage 2 maps only its own %llu MiB: %llu 1 GiB, %llu 2 MiB, %llu 4 KiB leaves, "
	     "in %u host block%s",
	     vm->name, (unsigned long long)(bytes / MiB), (unsigned long long)vm->stage2.pages_1g,
	     (unsigned long long)vm->stage2.pages_2m, (unsigned long long)vm->stage2.pages_4k,
	     vm->mem.nr, vm->mem.nr == 1 ? "" : "s");
	/* where its RAM is on the host: what a DMA fault's address is compared with */
	log_blocks(vm);
	vm->memory = bytes;
	if (vm_balloon_setup(vm, err, err_size))
		return -1;
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		virt->flush_guest_tlb(vm->vcpus[i]);
	return 0;
}

static int load(struct vm *vm, char *err, size_t err_size)
{
	struct guest_boot boot;
	char why[160];

	if (!vm->mem.nr)
		return kfail(err, err_size, "load the kernel after setting up memory");
	if (!vm->nr_vcpus)
		return kfail(err, err_size, "create the boot vCPU before loading the kernel");
	if (guest_load(&vm->mem, vm->memory, vm->kernel, vm->kernel_size, vm->initrd,
		       vm->initrd_size, vm->cmdline, &boot, why, sizeof(why)))
		return kfail(err, err_size, "%s", why);
	/* vCPU 0 takes it when it joins the VM's next life, on its own CPU (core/vm_run.c) */
	vm->boot = boot;
	kstrlcpy(vm->kernel_format, boot.format, sizeof(vm->kernel_format));
	return 0;
}

int hv_vm_load_kernel(struct vm *vm, const void *image, size_t size, const char *cmdline, char *err,
		      size_t err_size)
{
	vm->kernel = image;
	vm->kernel_size = size;
	vm->cmdline = cmdline ? cmdline : "";
	vm->initrd = NULL;
	vm->initrd_size = 0;
	return load(vm, err, err_size);
}

int hv_vm_load_initrd(struct vm *vm, const void *image, size_t size, char *err, size_t err_size)
{
	if (!vm->kernel)
		return kfail(err, err_size, "load the kernel before the initrd");
	vm->initrd = image;
	vm->initrd_size = size;
	return load(vm, err, err_size);
}

void hv_vm_set_crash_policy(struct vm *vm, bool restart, unsigned limit)
{
	vm->restart_on_crash = restart;
	vm->restart_limit = limit;
}

void hv_vm_set_reboot_policy(struct vm *vm, bool restart)
{
	vm->restart_on_reboot = restart;
}

int hv_vm_rebuild(struct vm *vm, char *err, size_t err_size)
{
	/* RAM back to zeros, the images loaded again: nothing of the last life survives. Pages
	 * the balloon took come back first (the loaders expect all of RAM); pages it moved are
	 * zeroed where they are now, through gmem. */
	if (vm_balloon_fill(vm))
		return kfail(err, err_size, "no free host memory for the pages its balloon held");
	for (unsigned i = 0; i < vm->mem.nr; i++)
		if (vm->mem.frame)
			gmem_fill(&vm->mem, vm->mem.ext[i].gpa, 0, vm->mem.ext[i].size);
		else
			memset(vm->mem.ext[i].hva, 0, vm->mem.ext[i].size);
	/* each vCPU resets its own state when it joins the next life, on the CPU its VMCB or
	 * VMCS belongs to */
	vm->stop_reason = VM_STOP_NONE;
	vm->exit_code = 0;
	vm->restart_asked = false;
	vm->input_tail = __atomic_load_n(&vm->input_head, __ATOMIC_ACQUIRE);
	/* the last life's output went out when it ended (end_life) */
	vm_lock(vm);
	conbuf_init(vm->con);
	vm_unlock(vm);
	return load(vm, err, err_size);
}

int hv_vcpu_pin(struct vcpu *v, unsigned cpu, char *err, size_t err_size)
{
	struct percpu *pc = percpu_get(cpu);
	if (!pc || pc->state != CPU_ONLINE)
		return kfail(err, err_size, "cpu %u is not online (%u CPUs online)", cpu,
			     percpu_online_count());
	v->pin = (int)cpu;
	return 0;
}

void hv_run(struct vm **vms, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++)
		vms[i]->prefix_output = nr > 1;
	console_input_attach(vms, nr);
	guest_console_attach(vms, nr);
	status_bar_attach(vms, nr);
	sched_place(vms, nr);
	sched_run(vms, nr);
}

int hv_vm_run(struct vm *vm)
{
	hv_run(&vm, 1);
	return vm->stop_reason;
}

void hv_vm_set_exit_port(struct vm *vm, bool enabled)
{
	vm->exit_port = enabled;
}

void hv_vm_set_wall_clock(struct vm *vm, const struct wall_time *t)
{
	vm->start_time =
		(struct vrtc_time){ t->second, t->minute, t->hour, t->day, t->month, t->year };
}

void hv_vm_destroy(struct vm *vm)
{
	/* Everything hv_vm_create, hv_vcpu_create and hv_vm_setup_memory took goes back, so keel's
	 * own memory is where it was before the VM (a restart takes nothing: hv_vm_rebuild reuses
	 * it all). No vCPU runs any more: each CPU cleared its vCPUs' VMCSs when it stopped
	 * scheduling (core/sched.c); one built but never run is active here, where it was built.
	 * First off the switches, so no other VM's frame kicks a vCPU or reaches a device that is
	 * going (a VM that stopped left them in end_life; one never started never joined). */
	platform_fini(vm->platform);
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		virt->vcpu_destroy(v);
		kmem_free_pages(v->fpu, fpu_area_size());
		kmem_free_pages(v, sizeof(*v));
		vm->vcpus[i] = NULL;
	}
	vm->nr_vcpus = 0;
	/* its passed functions quiet and blocked before the RAM their DMA reached goes */
	vm_pci_destroy(vm);
	/* the vCPUs that walked the tables are gone; a new vCPU on a CPU flushes what that CPU
	 * cached of its tables before it first runs (its ASID or VPID is fresh, and flush_tlb set) */
	stage2_free(&vm->stage2);
	bool ram_done = vm_balloon_release(vm);
	if (vm->mem.ext) {
		if (!ram_done)
			kmem_free_guest_ram(vm->mem.ext, vm->mem.nr);
		kmem_free_pages(vm->mem.ext, vm->mem.nr * sizeof(*vm->mem.ext));
	}
	vm->mem = (struct guest_mem){ .ext = NULL, .nr = 0 };
	vm_io_destroy(vm);
	kmem_free_pages(vm->platform, sizeof(struct platform));
	kmem_free_pages(vm->con, sizeof(struct conbuf));
	kmem_free_pages(vm, sizeof(*vm));
}
