/* The UEFI entry of keel.efi (UEFI spec 2.10): read keel.cfg and the files it names from keel.efi's
 * own folder, collect the memory map, ACPI RSDP and GOP framebuffer, exit boot services (retrying
 * while the map key changes), then hand the machine to hv_main on keel's own stack. */
#include <efi.h>

#include "arch/x86/cpu.h"
#include "arch/x86/entry.h"
#include "arch/x86/time.h"
#include "core/boot_info.h"
#include "core/console.h"
#include "core/panic.h"
#include "lib/kstring.h"
#include "lib/rt/stack_protector.h"

#define KEEL_STACK_SIZE (64 * KiB)
#define MEMMAP_BUF_SIZE (96 * KiB)

static EFI_SYSTEM_TABLE *efi_st;
static EFI_RUNTIME_SERVICES *efi_rt;
static struct boot_info boot;
static struct keel_config config;
static uint8_t memmap_buf[MEMMAP_BUF_SIZE] __attribute__((aligned(16)));

static EFI_GUID loaded_image_guid = LOADED_IMAGE_PROTOCOL;
static EFI_GUID simple_fs_guid = SIMPLE_FILE_SYSTEM_PROTOCOL;
static EFI_GUID file_info_guid = EFI_FILE_INFO_ID;
static EFI_GUID gop_guid = EFI_GRAPHICS_OUTPUT_PROTOCOL_GUID;
static EFI_GUID acpi20_guid = ACPI_20_TABLE_GUID;
static EFI_GUID acpi10_guid = ACPI_TABLE_GUID;

static void efi_poweroff(void)
{
	efi_rt->ResetSystem(EfiResetShutdown, EFI_SUCCESS, 0, NULL);
}

static void efi_reset(void)
{
	efi_rt->ResetSystem(EfiResetCold, EFI_SUCCESS, 0, NULL);
}

static int efi_get_time(struct wall_time *t)
{
	EFI_TIME et;
	if (EFI_ERROR(efi_rt->GetTime(&et, NULL)))
		return -1;
	*t = (struct wall_time){ et.Year, et.Month, et.Day, et.Hour, et.Minute, et.Second };
	return 0;
}

/* Before ExitBootServices a fatal error powers off through the firmware. */
static NORETURN void boot_fail(void)
{
	klog("keel: stopping; no VM started");
	efi_poweroff();
	cpu_halt_forever();
}

static bool guid_eq(const EFI_GUID *a, const EFI_GUID *b)
{
	return !memcmp(a, b, sizeof(*a));
}

static const char *efi_status_str(EFI_STATUS s)
{
	switch (s) {
	case EFI_NOT_FOUND:
		return "not found";
	case EFI_OUT_OF_RESOURCES:
		return "out of memory";
	case EFI_ACCESS_DENIED:
		return "access denied";
	case EFI_DEVICE_ERROR:
		return "device error";
	case EFI_VOLUME_CORRUPTED:
		return "volume corrupted";
	case EFI_INVALID_PARAMETER:
		return "invalid parameter";
	default:
		return "firmware error";
	}
}

/* Folder of keel.efi on its volume, as CHAR16 with a trailing '\', from the loaded image's
 * file-path device-path nodes (UEFI spec 10.3.5.4: type 4, subtype 4). */
static void image_folder(EFI_LOADED_IMAGE *li, CHAR16 *out, size_t cap)
{
	size_t n = 0;
	EFI_DEVICE_PATH *dp = li->FilePath;

	out[0] = 0;
	while (dp && !(dp->Type == END_DEVICE_PATH_TYPE &&
		       dp->SubType == END_ENTIRE_DEVICE_PATH_SUBTYPE)) {
		size_t len = (size_t)dp->Length[0] | ((size_t)dp->Length[1] << 8);
		if (len < 4)
			break;
		if (dp->Type == MEDIA_DEVICE_PATH && dp->SubType == MEDIA_FILEPATH_DP) {
			const CHAR16 *s = (const CHAR16 *)((const uint8_t *)dp + 4);
			size_t chars = (len - 4) / 2;
			for (size_t i = 0; i < chars && s[i] && n + 2 < cap; i++) {
				if (n && out[n - 1] == L'\\' && s[i] == L'\\')
					continue;
				out[n++] = s[i];
			}
			if (n && out[n - 1] != L'\\' && n + 2 < cap)
				out[n++] = L'\\';
			out[n] = 0;
		}
		dp = (EFI_DEVICE_PATH *)((uint8_t *)dp + len);
	}
	/* drop the file name: keep up to the last '\' */
	while (n && out[n - 1] == L'\\')
		out[--n] = 0;
	while (n && out[n - 1] != L'\\')
		out[--n] = 0;
	if (n == 0) {
		out[0] = L'\\';
		out[1] = 0;
	}
}

struct loaded_file {
	uint64_t addr;
	uint64_t size;
};

/* Opens folder\path (path uses '/') and reads it whole into fresh pages (EfiLoaderData: keel's
 * memory from then on). A file over max_size is not read: EFI_BAD_BUFFER_SIZE, out->size set. */
static EFI_STATUS read_file(EFI_FILE_HANDLE root, const CHAR16 *folder, const char *path,
			    uint64_t max_size, struct loaded_file *out)
{
	CHAR16 name[512];
	size_t n = 0;
	EFI_FILE_HANDLE f;
	EFI_STATUS s;

	for (const CHAR16 *c = folder; *c && n < ARRAY_SIZE(name) - 1; c++)
		name[n++] = *c;
	for (const char *c = path; *c && n < ARRAY_SIZE(name) - 1; c++)
		name[n++] = *c == '/' ? L'\\' : (CHAR16)(unsigned char)*c;
	name[n] = 0;

	s = root->Open(root, &f, name, EFI_FILE_MODE_READ, 0);
	if (EFI_ERROR(s))
		return s;
	uint8_t info_buf[512] __attribute__((aligned(8)));
	UINTN info_size = sizeof(info_buf);
	s = f->GetInfo(f, &file_info_guid, &info_size, info_buf);
	if (EFI_ERROR(s))
		goto out;
	EFI_FILE_INFO *info = (EFI_FILE_INFO *)info_buf;
	if (info->Attribute & EFI_FILE_DIRECTORY) {
		s = EFI_NOT_FOUND;
		goto out;
	}
	out->size = info->FileSize;
	if (out->size > max_size) {
		s = EFI_BAD_BUFFER_SIZE;
		goto out;
	}
	EFI_PHYSICAL_ADDRESS addr = 0;
	UINTN pages = (UINTN)(ALIGN_UP(out->size, 4096) / 4096) + 1; /* +1: room for a terminator */
	s = efi_st->BootServices->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &addr);
	if (EFI_ERROR(s))
		goto out;
	UINTN got = out->size;
	s = f->Read(f, &got, (void *)(uintptr_t)addr);
	if (!EFI_ERROR(s) && got != out->size)
		s = EFI_DEVICE_ERROR;
	((uint8_t *)(uintptr_t)addr)[out->size] = 0;
	out->addr = addr;
out:
	f->Close(f);
	return s;
}

static void load_module(EFI_FILE_HANDLE root, const CHAR16 *folder, const char *path, unsigned line,
			const char *key)
{
	if (boot_find_module(&boot, path))
		return;
	struct loaded_file lf = { 0 }; /* a gcc -fanalyzer false positive without it */
	EFI_STATUS s = read_file(root, folder, path, UINT64_MAX, &lf);
	if (EFI_ERROR(s)) {
		klog("keel.cfg:%u: cannot read %s '%s': %s; expected a file beside keel.cfg", line,
		     key, path, efi_status_str(s));
		boot_fail();
	}
	struct boot_module *m = &boot.modules[boot.nr_modules++];
	kstrlcpy(m->path, path, sizeof(m->path));
	m->addr = lf.addr;
	m->size = lf.size;
	klog("loaded %s (%llu KiB)", path, (unsigned long long)(lf.size / KiB));
}

/* A disk image: loaded as a kernel is, unless its size is wrong, which keel.cfg's line reports
 * (a too large one before any memory is taken for it). */
static void load_disk(EFI_FILE_HANDLE root, const CHAR16 *folder, const struct disk_config *d)
{
	struct config_error err;
	/* the same file as an earlier disk, kernel or initrd: keel.cfg allows that read-only */
	const struct boot_module *m = boot_find_module(&boot, d->path);
	struct loaded_file lf = { 0 };

	if (m) {
		lf.size = m->size;
	} else {
		EFI_STATUS s = read_file(root, folder, d->path, CFG_DISK_IMAGE_MAX, &lf);
		if (s == EFI_OUT_OF_RESOURCES) {
			klog("keel.cfg:%u: disk %s (%llu MiB) does not fit in free RAM; expected a "
			     "smaller image (keel holds disk images in RAM)",
			     d->line, d->path, (unsigned long long)(lf.size / MiB));
			boot_fail();
		}
		if (EFI_ERROR(s) && s != EFI_BAD_BUFFER_SIZE) {
			klog("keel.cfg:%u: cannot read disk '%s': %s; expected a file beside keel.cfg",
			     d->line, d->path, efi_status_str(s));
			boot_fail();
		}
	}
	if (config_check_disk_size(d, lf.size, &err)) {
		klog("keel.cfg:%u: %s", err.line, err.msg);
		boot_fail();
	}
	if (m)
		return;
	struct boot_module *b = &boot.modules[boot.nr_modules++];
	kstrlcpy(b->path, d->path, sizeof(b->path));
	b->addr = lf.addr;
	b->size = lf.size;
	klog("loaded %s (%llu KiB)", d->path, (unsigned long long)(lf.size / KiB));
}

static void load_config_and_files(EFI_HANDLE image)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	EFI_LOADED_IMAGE *li;
	EFI_FILE_IO_INTERFACE *fs;
	EFI_FILE_HANDLE root;
	CHAR16 folder[256];

	if (EFI_ERROR(bs->HandleProtocol(image, &loaded_image_guid, (void **)&li)) ||
	    EFI_ERROR(bs->HandleProtocol(li->DeviceHandle, &simple_fs_guid, (void **)&fs)) ||
	    EFI_ERROR(fs->OpenVolume(fs, &root))) {
		klog("keel: cannot open the volume keel.efi was loaded from");
		boot_fail();
	}
	boot.image_base = (uint64_t)(uintptr_t)li->ImageBase;
	boot.image_end = boot.image_base + li->ImageSize;
	image_folder(li, folder, ARRAY_SIZE(folder));

	struct loaded_file cfg = { 0 }; /* (as lf in load_module) */
	EFI_STATUS s = read_file(root, folder, "keel.cfg", UINT64_MAX, &cfg);
	if (EFI_ERROR(s)) {
		klog("keel.cfg:0: cannot read keel.cfg: %s; expected it beside keel.efi",
		     efi_status_str(s));
		boot_fail();
	}
	boot.config_text = (const char *)(uintptr_t)cfg.addr;
	boot.config_len = cfg.size;

	struct config_error err;
	struct config_limits limits = { .max_cpus = CFG_MAX_VCPUS };
	if (config_parse(boot.config_text, boot.config_len, &limits, &config, &err)) {
		klog("keel.cfg:%u: %s", err.line, err.msg);
		boot_fail();
	}
	boot.config = &config;
	for (unsigned i = 0; i < config.nr_vms; i++) {
		const struct vm_config *vm = &config.vms[i];
		load_module(root, folder, vm->kernel, vm->kernel_line, "kernel");
		if (vm->initrd[0])
			load_module(root, folder, vm->initrd, vm->initrd_line, "initrd");
		for (unsigned j = 0; j < vm->nr_disks; j++)
			if (vm->disks[j].kind == CFG_DISK_FILE) /* the others are host disks */
				load_disk(root, folder, &vm->disks[j]);
	}
	root->Close(root);
}

static void find_acpi_and_gop(void)
{
	for (UINTN i = 0; i < efi_st->NumberOfTableEntries; i++) {
		EFI_CONFIGURATION_TABLE *t = &efi_st->ConfigurationTable[i];
		/* ACPI 2.0+ wins; a 1.0 RSDP only when none came before */
		if (guid_eq(&t->VendorGuid, &acpi20_guid) ||
		    (guid_eq(&t->VendorGuid, &acpi10_guid) && !boot.acpi_rsdp))
			boot.acpi_rsdp = (uint64_t)(uintptr_t)t->VendorTable;
	}
	EFI_GRAPHICS_OUTPUT_PROTOCOL *gop;
	if (!EFI_ERROR(efi_st->BootServices->LocateProtocol(&gop_guid, NULL, (void **)&gop)) &&
	    gop->Mode && gop->Mode->Info &&
	    (gop->Mode->Info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor ||
	     gop->Mode->Info->PixelFormat == PixelRedGreenBlueReserved8BitPerColor)) {
		boot.fb.base = gop->Mode->FrameBufferBase;
		boot.fb.width = gop->Mode->Info->HorizontalResolution;
		boot.fb.height = gop->Mode->Info->VerticalResolution;
		boot.fb.pitch_pixels = gop->Mode->Info->PixelsPerScanLine;
		boot.fb.bgr = gop->Mode->Info->PixelFormat == PixelBlueGreenRedReserved8BitPerColor;
	}
}

static enum mem_type efi_mem_type(UINT32 t)
{
	switch (t) {
	case EfiConventionalMemory:
		return MEM_FREE;
	case EfiBootServicesCode:
	case EfiBootServicesData:
		/* may still hold the page tables the CPU is using until keel loads its own */
		return MEM_FREE_LATER;
	case EfiLoaderCode:
	case EfiLoaderData:
		return MEM_KEEL;
	case EfiACPIReclaimMemory:
		return MEM_ACPI;
	case EfiRuntimeServicesCode:
		return MEM_RUNTIME_CODE;
	case EfiRuntimeServicesData:
		return MEM_FIRMWARE_RUNTIME;
	case EfiMemoryMappedIO:
	case EfiMemoryMappedIOPortSpace:
		return MEM_MMIO;
	default:
		return MEM_RESERVED;
	}
}

static void add_range(uint64_t base, uint64_t size, enum mem_type type)
{
	struct mem_range *last = boot.nr_memmap ? &boot.memmap[boot.nr_memmap - 1] : NULL;

	if (last && last->type == type && last->base + last->size == base) {
		last->size += size;
		return;
	}
	if (boot.nr_memmap == BOOT_MAX_MEMMAP) {
		/* keep going: losing a free range only costs memory, never safety */
		if (type != MEM_FREE)
			panic("memory map has more than %d ranges", BOOT_MAX_MEMMAP);
		return;
	}
	boot.memmap[boot.nr_memmap++] = (struct mem_range){ base, size, type };
}

static void exit_boot_services(EFI_HANDLE image)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;
	UINTN size, key, desc_size;
	UINT32 desc_ver;
	EFI_STATUS s = EFI_SUCCESS;

	/* The map key changes whenever the firmware allocates, even between our two calls: retry. */
	for (unsigned tries = 0; tries < 16; tries++) {
		size = sizeof(memmap_buf);
		s = bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)memmap_buf, &key, &desc_size,
				     &desc_ver);
		if (EFI_ERROR(s))
			break;
		s = bs->ExitBootServices(image, key);
		if (!EFI_ERROR(s))
			break;
	}
	if (EFI_ERROR(s)) {
		klog("keel: ExitBootServices failed: %s", efi_status_str(s));
		boot_fail();
	}
	/* From here on keel owns the machine; only runtime services remain. */
	irq_disable();
	for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
		EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)(memmap_buf + off);
		add_range(d->PhysicalStart, d->NumberOfPages * 4096, efi_mem_type(d->Type));
	}
}

static uint64_t calibrate_tsc(void)
{
	uint64_t t0 = rdtsc();
	efi_st->BootServices->Stall(50000); /* 50 ms */
	return (rdtsc() - t0) * 20;
}

static NORETURN void enter_hv_main(void *arg)
{
	hv_main(arg);
}

static NORETURN __attribute__((noinline)) void efi_boot(EFI_HANDLE image)
{
	EFI_BOOT_SERVICES *bs = efi_st->BootServices;

	efi_rt = efi_st->RuntimeServices;
	boot.firmware = "UEFI";
	boot.cmdline = ""; /* keel.efi takes no load options yet */
	boot.firmware_poweroff = efi_poweroff;
	boot.firmware_reset = efi_reset;
	boot.firmware_get_time = efi_get_time;
	bs->SetWatchdogTimer(0, 0, 0, NULL);
	console_init_serial();
	time_init(calibrate_tsc());
	klog("keel: booting from UEFI (firmware revision %u.%u)", efi_st->Hdr.Revision >> 16,
	     efi_st->Hdr.Revision & 0xffff);

	load_config_and_files(image);
	find_acpi_and_gop();

	EFI_PHYSICAL_ADDRESS stack = 0;
	if (EFI_ERROR(bs->AllocatePages(AllocateAnyPages, EfiLoaderData, KEEL_STACK_SIZE / 4096 + 1,
					&stack))) {
		klog("keel: no memory for keel's stack");
		boot_fail();
	}
	exit_boot_services(image);
	/* the lowest page of the stack allocation becomes its guard page (arch/x86/paging.c) */
	boot.stack_guard = stack;
	boot.stack_top = stack + 4096 + KEEL_STACK_SIZE;
	switch_stack_and_call(stack + 4096 + KEEL_STACK_SIZE, enter_hv_main, &boot);
}

EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st);

/* No stack protector here: this frame is live while the guard value changes. */
__attribute__((no_stack_protector)) EFI_STATUS efi_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st)
{
	efi_st = st;
	stack_protector_init();
	efi_boot(image);
}
