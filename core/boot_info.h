/* What a boot entry (boot/efi, later boot/mb2) hands to hv_main: everything keel needs to know
 * about the machine and the files it was given, in one firmware-neutral structure. */
#ifndef KEEL_CORE_BOOT_INFO_H
#define KEEL_CORE_BOOT_INFO_H

#include "core/config.h"
#include "lib/types.h"

/* per VM: a kernel, an initrd and its disk images */
#define BOOT_MAX_MODULES ((2 + CFG_MAX_DISKS) * CFG_MAX_VMS)
#define BOOT_MAX_MEMMAP 512

/* A file named by keel.cfg, already in memory. */
struct boot_module {
	char path[CFG_PATH_MAX + 1]; /* as keel.cfg spells it, '/' separated */
	uint64_t addr;		     /* physical, page aligned */
	uint64_t size;
};

enum mem_type {
	MEM_FREE,	/* RAM keel may hand out */
	MEM_FREE_LATER, /* firmware boot-time RAM: free once keel runs on its own page tables */
	MEM_RESERVED,	/* never touch */
	MEM_ACPI,	/* ACPI tables (reclaimable only after keel has read them) */
	MEM_FIRMWARE_RUNTIME, /* UEFI runtime code and data: keep mapped, keep out of guests */
	MEM_RUNTIME_CODE,     /* the executable part of the above */
	MEM_KEEL,	      /* keel's image and the modules it loaded */
	MEM_MMIO,
};

struct mem_range {
	uint64_t base;
	uint64_t size;
	enum mem_type type;
};

struct boot_framebuffer {
	uint64_t base; /* 0: none */
	uint32_t width, height, pitch_pixels;
	bool bgr; /* pixel byte order: true for B,G,R,x */
};

struct wall_time {
	uint16_t year;
	uint8_t month, day, hour, minute, second;
};

struct boot_info {
	const char *config_text;
	size_t config_len;
	struct keel_config *config;
	struct boot_module modules[BOOT_MAX_MODULES];
	unsigned nr_modules;
	struct mem_range memmap[BOOT_MAX_MEMMAP];
	unsigned nr_memmap;
	uint64_t acpi_rsdp;
	struct boot_framebuffer fb;
	uint64_t image_base, image_end;	 /* keel's own image, physical */
	uint64_t stack_guard, stack_top; /* keel's boot stack: guard page, then the stack */
	const char *firmware;		 /* "UEFI" or "Multiboot2", for the log */
	const char *cmdline; /* keel's own command line from the boot loader; "" when none */
	/* Firmware services that outlive boot; NULL where the entry has none. */
	void (*firmware_poweroff)(void);
	void (*firmware_reset)(void);
	/* The wall-clock time (UTC as the firmware keeps it); 0 on success. */
	int (*firmware_get_time)(struct wall_time *t);
};

const struct boot_module *boot_find_module(const struct boot_info *bi, const char *path);

/* hv_main: everything after the firmware. Never returns. */
NORETURN void hv_main(struct boot_info *bi);

#endif
