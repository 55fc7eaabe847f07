/* hv_main: from a firmware-neutral boot_info to running VMs. */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/entropy.h"
#include "arch/x86/cpu_features.h"
#include "arch/x86/fpu.h"
#include "arch/x86/mitigations.h"
#include "arch/x86/paging.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/tsc_sync.h"
#include "core/boot_info.h"
#include "core/console.h"
#include "core/host_memory.h"
#include "core/host_disks_hw.h"
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/launch.h"
#include "core/virt.h"
#include "core/panic.h"
#include "drivers/nic_hw.h"
#include "drivers/iommu_hw.h"
#include "drivers/nvme_hw.h"
#include "drivers/pci_host_hw.h"
#include "lib/kstring.h"
#include "mm/phys.h"

/* RAM kept back from VMs for keel's own tables, stacks and per-VM structures. */
#define KEEL_RESERVED_RAM (32 * MiB)

static struct phys_pool phys_pool;
static struct vm *vms[CFG_MAX_VMS];

extern char ImageBase[], __keel_text_start[], __keel_text_end[], __keel_rodata_start[],
	__keel_rodata_end[], __keel_data_start[], __keel_image_end[];

/* keel's own footprint: its image and the structures it allocated (guest RAM excluded). */
static void log_footprint(void)
{
	uint64_t text = (uintptr_t)__keel_text_end - (uintptr_t)__keel_text_start;
	uint64_t ro = (uintptr_t)__keel_rodata_end - (uintptr_t)__keel_rodata_start;
	uint64_t data = (uintptr_t)__keel_image_end - (uintptr_t)__keel_data_start;
	uint64_t dyn = kmem_used_bytes();
	klog("keel: footprint %llu KiB: code %llu KiB, rodata %llu KiB, data %llu KiB, "
	     "allocated %llu KiB (page tables, VM and vCPU structures)",
	     (unsigned long long)((text + ro + data + dyn) / KiB), (unsigned long long)(text / KiB),
	     (unsigned long long)(ro / KiB), (unsigned long long)(data / KiB),
	     (unsigned long long)(dyn / KiB));
}

/* The machine powers off next, but the VMs are destroyed first, so that each boot shows that a
 * VM gives back all it took: keel's own memory is then what it was before any VM was built. */
static void destroy_vms(unsigned nr, uint64_t keel_before)
{
	for (unsigned i = 0; i < nr; i++)
		if (vms[i])
			hv_vm_destroy(vms[i]);
	klog("keel: every VM destroyed: keel's own memory %llu bytes, %llu before they were built",
	     (unsigned long long)kmem_used_bytes(), (unsigned long long)keel_before);
}

static const char *mem_type_name(enum mem_type t)
{
	static const char *const names[] = {
		[MEM_FREE] = "free",
		[MEM_FREE_LATER] = "boot-services",
		[MEM_RESERVED] = "reserved",
		[MEM_ACPI] = "acpi",
		[MEM_FIRMWARE_RUNTIME] = "fw-runtime",
		[MEM_RUNTIME_CODE] = "fw-runtime-code",
		[MEM_KEEL] = "keel",
		[MEM_MMIO] = "mmio",
	};
	return t < ARRAY_SIZE(names) ? names[t] : "?";
}

static NORETURN void machine_poweroff(const struct boot_info *bi)
{
	klog("keel: powering off");
	if (bi->firmware_poweroff)
		bi->firmware_poweroff();
	panic("power-off did not happen");
}

static void log_memory_map(const struct boot_info *bi)
{
	for (unsigned i = 0; i < bi->nr_memmap; i++) {
		const struct mem_range *r = &bi->memmap[i];
		if (r->type != MEM_FREE && r->type != MEM_FREE_LATER && r->type != MEM_RESERVED)
			klog("  %016llx-%016llx %s", (unsigned long long)r->base,
			     (unsigned long long)(r->base + r->size - 1), mem_type_name(r->type));
	}
}

NORETURN void hv_main(struct boot_info *bi)
{
	console_init_framebuffer(&bi->fb);
	klog("keel: took the machine from %s", bi->firmware);
	if (bi->fb.base)
		klog("keel: framebuffer %ux%u at %llx", bi->fb.width, bi->fb.height,
		     (unsigned long long)bi->fb.base);
	percpu_init_boot_cpu();
	log_memory_map(bi);

	phys_pool_init(&phys_pool);
	host_memory_add(&phys_pool, bi, MEM_FREE);
	kmem_init(&phys_pool);
	paging_init(bi);
	host_memory_add(&phys_pool, bi, MEM_FREE_LATER);
	cpu_features_init();
	mitig_init();
	entropy_init();
	fpu_init();
	klog("keel: %llu MiB of RAM free", (unsigned long long)(phys_pool.free_bytes / MiB));

	struct config_error err;
	uint64_t free_bytes = phys_pool.free_bytes;
	uint64_t for_vms = free_bytes > KEEL_RESERVED_RAM ? free_bytes - KEEL_RESERVED_RAM : 0;
	if (config_check_memory(bi->config, for_vms, &err)) {
		klog("keel.cfg:%u: %s", err.line, err.msg);
		klog("keel: stopping; no VM started");
		machine_poweroff(bi);
	}

	char why[160];
	if (hv_init(why, sizeof(why))) {
		klog("keel: cannot run VMs: %s", why);
		klog("keel: stopping; no VM started");
		machine_poweroff(bi);
	}
	host_apic_init();
	pci_host_init(bi); /* before the APs: it remaps pages and flushes this CPU's TLB only */
	iommu_hw_init(bi);
	launch_set_aside_pci(bi);
	nvme_hw_init();
	nic_hw_init();
	if (launch_sriov(bi)) {
		klog("keel: stopping; no VM started");
		machine_poweroff(bi);
	}
	launch_set_aside_pci(bi); /* the VFs keel.cfg gives to VMs, now they are listed */
	host_disks_init();
	smp_init(bi);
	smp_selftest();
	tsc_sync_check();
	uint64_t keel_before = kmem_used_bytes();
	if (launch_vms(bi, vms)) {
		klog("keel: stopping; no VM started");
		destroy_vms(bi->config->nr_vms, keel_before);
		machine_poweroff(bi);
	}
	log_footprint();
	hv_run(vms, bi->config->nr_vms);
	klog("keel: every VM has stopped");
	nvme_hw_log_counts();
	iommu_hw_log_counts();
	destroy_vms(bi->config->nr_vms, keel_before);
	machine_poweroff(bi);
}
