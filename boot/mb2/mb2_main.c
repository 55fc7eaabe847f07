/* The Multiboot2 entry of keel.elf, in C: entry.S hands over in 64-bit mode on keel's boot stack
 * with the first 4 GiB identity-mapped and EBX's boot information address. This file turns that
 * information into struct boot_info as boot/efi/efi_main.c does from UEFI: keel.cfg and the files
 * it names come from GRUB's modules (matched by their strings, ../shared/CONVENTIONS.md), the
 * memory map from the Multiboot2 one, the ACPI RSDP from GRUB's copy of it. What UEFI's services
 * did is done by hand (mb2_platform.c): TSC calibration, wall-clock time, power-off. */
#include "arch/x86/cpu.h"
#include "arch/x86/time.h"
#include "boot/mb2/mb2_parse.h"
#include "boot/mb2/mb2_platform.h"
#include "core/boot_info.h"
#include "core/console.h"
#include "core/panic.h"
#include "drivers/acpi_host.h"
#include "lib/kstring.h"
#include "lib/rt/stack_protector.h"

#define BOOT_MAP_LIMIT (4 * GiB) /* what entry.S's page tables map */

static struct boot_info boot;
static struct keel_config config;
/* static, inside keel's image: its RSDP copy stays where boot.acpi_rsdp points */
static struct mb2_info mi;

/* from entry.S: keel's boot stack, its lowest page the guard page */
extern char mb2_stack_guard[], mb2_stack_top[];
/* from boot/mb2/keel-mb2.lds */
extern char ImageBase[], __keel_image_end[];

/* No power-off is possible before ACPI is known; after it, the firmware-neutral one. */
static NORETURN void boot_fail(void)
{
	klog("keel: stopping; no VM started");
	mb2_poweroff();
	cpu_halt_forever();
}

static void add_module(const struct mb2_module *m, const char *path)
{
	struct boot_module *b = &boot.modules[boot.nr_modules++];

	kstrlcpy(b->path, path, sizeof(b->path));
	b->addr = m->start;
	b->size = m->end - m->start;
	klog("module %s (%llu KiB) at %llx", path, (unsigned long long)(b->size / KiB),
	     (unsigned long long)b->addr);
}

static void use_module(const char *path, unsigned line, const char *key)
{
	if (boot_find_module(&boot, path))
		return;
	const struct mb2_module *m = mb2_find_module(&mi, path);
	if (!m) {
		klog("keel.cfg:%u: cannot read %s '%s': not found; expected a module2 line "
		     "with the string '%s'",
		     line, key, path, path);
		boot_fail();
		return; /* not reached: boot_fail powers off */
	}
	add_module(m, path);
}

/* A disk image is a module like a kernel; its size is checked here, where keel.cfg's line is
 * known, so a bad image stops keel before anything started. */
static void use_disk(const struct disk_config *d)
{
	struct config_error err;

	use_module(d->path, d->line, "disk");
	const struct boot_module *m = boot_find_module(&boot, d->path);
	if (m && config_check_disk_size(d, m->size, &err)) {
		klog("keel.cfg:%u: %s", err.line, err.msg);
		boot_fail();
	}
}

static void read_config(void)
{
	const struct mb2_module *cfg = mb2_find_module(&mi, "keel.cfg");

	if (!cfg) {
		klog("keel.cfg:0: cannot read keel.cfg: not found; expected a module2 line "
		     "with the string 'keel.cfg'");
		boot_fail();
		return; /* not reached: boot_fail powers off */
	}
	boot.config_text = (const char *)(uintptr_t)cfg->start;
	boot.config_len = cfg->end - cfg->start;

	struct config_error err;
	struct config_limits limits = { .max_cpus = CFG_MAX_VCPUS };
	if (config_parse(boot.config_text, boot.config_len, &limits, &config, &err)) {
		klog("keel.cfg:%u: %s", err.line, err.msg);
		boot_fail();
	}
	boot.config = &config;
	for (unsigned i = 0; i < config.nr_vms; i++) {
		const struct vm_config *vm = &config.vms[i];
		use_module(vm->kernel, vm->kernel_line, "kernel");
		if (vm->initrd[0])
			use_module(vm->initrd, vm->initrd_line, "initrd");
		for (unsigned j = 0; j < vm->nr_disks; j++)
			if (vm->disks[j].kind == CFG_DISK_FILE) /* the others are host disks */
				use_disk(&vm->disks[j]);
	}
}

/* The BIOS areas acpi_host_find_rsdp scans: the first MiB. */
static const void *map_low(void *ctx, uint64_t phys, size_t len)
{
	(void)ctx;
	return range_within(phys, len, 1 * MiB) ? (const void *)(uintptr_t)phys : NULL;
}

/* ACPI: GRUB's tags hold a copy of the RSDP, not its address. keel points boot.acpi_rsdp at that
 * copy, kept in keel's own image (mi.rsdp), which works wherever GRUB found the RSDP (BIOS low
 * memory or a UEFI configuration table); only without either tag does it scan low memory. */
static const char *find_acpi(void)
{
	const char *why = NULL;

	if (mi.rsdp_len) {
		boot.acpi_rsdp = (uint64_t)(uintptr_t)mi.rsdp;
	} else {
		uint64_t phys;
		if (acpi_host_find_rsdp(map_low, NULL, &phys) == ACPI_HOST_OK)
			boot.acpi_rsdp = phys;
	}
	if (!boot.acpi_rsdp)
		why = "no RSDP";
	else
		mb2_acpi_init(boot.acpi_rsdp, &why);
	return why;
}

static void build_memmap(uint64_t info_phys)
{
	static struct mem_range keep[2 + MB2_MAX_MODULES]; /* static: ~4 KiB off the boot stack */
	unsigned nr_keep = 0, dropped = 0;

	keep[nr_keep++] =
		(struct mem_range){ (uint64_t)(uintptr_t)ImageBase,
				    (uint64_t)((uintptr_t)__keel_image_end - (uintptr_t)ImageBase),
				    MEM_KEEL };
	keep[nr_keep++] = (struct mem_range){ info_phys, mi.total_size, MEM_KEEL };
	/* every module, used or not: the allocator must not hand out what GRUB placed there */
	for (unsigned i = 0; i < mi.nr_modules; i++)
		keep[nr_keep++] =
			(struct mem_range){ mi.modules[i].start,
					    mi.modules[i].end - mi.modules[i].start, MEM_KEEL };
	int n = mb2_build_memmap(&mi, keep, nr_keep, BOOT_MAP_LIMIT, boot.memmap, BOOT_MAX_MEMMAP,
				 &dropped);
	if (n < 0) {
		klog("keel: the memory map has more than %d ranges", BOOT_MAX_MEMMAP);
		boot_fail();
	}
	boot.nr_memmap = (unsigned)n;
	if (dropped || mi.nr_mmap_dropped)
		klog("keel: %u free memory ranges left unused (the map is too long)",
		     dropped + mi.nr_mmap_dropped);
}

static NORETURN __attribute__((noinline)) void mb2_boot(uint64_t info_phys)
{
	char err[160];
	const char *how, *no_acpi = NULL;
	uint32_t ppm = 0;

	boot.firmware = "Multiboot2";
	panic_image_name = "keel.elf";
	boot.firmware_poweroff = mb2_poweroff;
	boot.firmware_reset = mb2_reset;
	boot.firmware_get_time = mb2_rtc_get_time;
	console_init_serial();
	mb2_pic_mask();

	/* the structure's size is its first word; entry.S mapped the first 4 GiB */
	int bad = -1;
	kstrlcpy(err, "it is not below 4 GiB", sizeof(err));
	if (info_phys <= BOOT_MAP_LIMIT - 16) {
		uint32_t total = *(const volatile uint32_t *)(uintptr_t)info_phys;
		uint64_t avail = MIN((uint64_t)MB2_INFO_MAX, BOOT_MAP_LIMIT - info_phys);
		bad = mb2_parse((const void *)(uintptr_t)info_phys, MIN((uint64_t)total, avail),
				&mi, err, sizeof(err));
	}
	if (!bad && !mi.nr_mmap) {
		kstrlcpy(err, "no memory map (tag 6)", sizeof(err));
		bad = -1;
	}
	if (!bad)
		no_acpi = find_acpi();
	uint64_t hz = mb2_calibrate_tsc(&how, &ppm);
	time_init(hz);
	if (bad) {
		klog("keel: bad Multiboot2 boot information at %llx: %s",
		     (unsigned long long)info_phys, err);
		boot_fail();
	}
	klog("keel: booting from Multiboot2 (%s)", mi.loader_name ? mi.loader_name : "loader?");
	if (hz)
		klog("keel: TSC %llu.%03llu MHz (measured against the %s, within %u ppm)",
		     (unsigned long long)(hz / 1000000), (unsigned long long)(hz / 1000 % 1000),
		     how, ppm);
	else
		klog("keel: cannot measure the TSC (no PIT, no PM timer); assuming 1 GHz");
	if (no_acpi)
		klog("keel: host ACPI tables unusable (%s): no power-off", no_acpi);
	uint16_t pm1a;
	uint8_t typa, typb;
	if (mb2_acpi_s5(&pm1a, &typa, &typb))
		klog("keel: power-off through ACPI S5 (PM1a_CNT %#x, SLP_TYP %u/%u)", pm1a, typa,
		     typb);

	boot.cmdline = mi.cmdline ? mi.cmdline : "";
	if (boot.cmdline[0])
		klog("keel: command line '%s'", boot.cmdline);
	boot.image_base = (uint64_t)(uintptr_t)ImageBase;
	boot.image_end = (uint64_t)(uintptr_t)__keel_image_end;
	read_config();
	mb2_framebuffer(&mi, BOOT_MAP_LIMIT, &boot.fb);
	build_memmap(info_phys);
	boot.stack_guard = (uint64_t)(uintptr_t)mb2_stack_guard;
	boot.stack_top = (uint64_t)(uintptr_t)mb2_stack_top;
	/* already on keel's stack (entry.S): nothing below this frame to return to */
	hv_main(&boot);
}

NORETURN void mb2_main(uint64_t info_phys);

/* No stack protector here: this frame is live while the guard value changes. */
__attribute__((no_stack_protector)) NORETURN void mb2_main(uint64_t info_phys)
{
	stack_protector_init();
	mb2_boot(info_phys);
}
