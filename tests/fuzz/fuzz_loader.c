/* Guest kernel loader: any bytes as the kernel file (the last byte * 16 of them, from the end, are
 * also passed as the initrd) into a 32 MiB VM. It must load or fail with a message, never crash
 * or touch memory outside the VM's RAM, and what it reports must hold: the entry point and
 * the initrd inside RAM, the initrd bytes where it says, keel's boot area (boot info, GDT,
 * stack, command line) 4 KiB-aligned in low RAM, clear of the kernel and below the initrd. Seeds: tests/fuzz/corpus/loader/, made
 * by KEEL_LOADER_SEEDS=DIR build/unit/test_loader. The RAM is extents of odd sizes in separate
 * allocations, as keel backs it with scattered host blocks (core/gmem.h): a write that runs past
 * one is caught by ASan. */
#include "core/guest_layout.h"
#include "guest/loader.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define VM_MEMORY (32 * MiB)

static const uint64_t piece[] = { 4 * KiB, 8 * KiB, 60 * KiB, MiB + 4 * KiB, 3 * MiB - 12 * KiB };
static struct gmem_extent ext[VM_MEMORY / (4 * KiB)];
static struct guest_mem m = { .ext = ext, .nr = 0 };

static void ram_init(void)
{
	for (uint64_t off = 0, k = 0; off < VM_MEMORY; k++) {
		uint64_t n = MIN(piece[k % ARRAY_SIZE(piece)], VM_MEMORY - off);
		ext[m.nr++] = (struct gmem_extent){ off, n, calloc(1, n), 0 };
		off += n;
	}
}

/* The NUL-terminated string at gpa is want */
static bool string_is(uint64_t gpa, const char *want)
{
	char got[64];
	size_t n = strlen(want) + 1;
	return n <= sizeof(got) && gmem_read(&m, gpa, got, n) == 0 && memcmp(got, want, n) == 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *copy;
	struct guest_boot boot;
	char err[160];
	size_t isize = size ? MIN((size_t)data[size - 1] * 16, size) : 0;
	/* exact-size copies so ASan catches any read past the end */
	uint8_t *kernel = malloc(size ? size : 1);
	uint8_t *initrd = malloc(isize ? isize : 1);

	if (!copy) {
		ram_init();
		copy = malloc(VM_MEMORY); /* the initrd read back, contiguous */
	}
	memcpy(kernel, data, size);
	memcpy(initrd, data + size - isize, isize);

	if (guest_load(&m, VM_MEMORY, kernel, size, isize ? initrd : NULL, isize, "console=ttyS0",
		       &boot, err, sizeof(err)) == 0) {
		/* the boot area's base, from where the boot information is */
		uint64_t area = boot.boot_info - GUEST_BOOT_INFO;

		if (!boot.format[0] || boot.boot_info < GUEST_BOOT_INFO || area % 4096 ||
		    area + GUEST_BOOT_AREA_SIZE > VM_MEMORY ||
		    (area < GUEST_LOW_RAM_END && area + GUEST_BOOT_AREA_SIZE > GUEST_LOW_RAM_END) ||
		    (area >= GUEST_LOW_RAM_END && area < GUEST_HIGH_RAM_BASE) ||
		    boot.gdt_base != area + GUEST_GDT || boot.rsp != area + GUEST_GDT ||
		    boot.cmdline_addr != area + GUEST_CMDLINE || boot.rflags != 2)
			abort();
		if (boot.mode == GUEST_ENTRY_PROT32) {
			if (boot.rip >= VM_MEMORY || boot.cr0 != 0x11 || boot.rbx != boot.boot_info)
				abort();
		} else if (boot.mode == GUEST_ENTRY_LONG64) {
			/* only the bzImage path enters in long mode; it keeps the area at 0 */
			if (boot.rip >= VM_MEMORY || area != 0 || boot.rsi != boot.boot_info ||
			    boot.cr3 != GUEST_PAGE_TABLES)
				abort();
		} else {
			abort();
		}
		if (boot.kernel_end > VM_MEMORY || boot.kernel_start >= boot.kernel_end ||
		    (boot.kernel_start < area + GUEST_BOOT_AREA_SIZE && area < boot.kernel_end))
			abort();
		if (boot.initrd_size) {
			if (boot.initrd_size != isize || boot.initrd_addr % 4096 ||
			    boot.initrd_addr < boot.kernel_end ||
			    boot.initrd_addr < area + GUEST_BOOT_AREA_SIZE ||
			    boot.initrd_addr + boot.initrd_size > VM_MEMORY ||
			    gmem_read(&m, boot.initrd_addr, copy, isize) != 0 ||
			    memcmp(copy, initrd, isize) != 0)
				abort();
		}
		if (!string_is(boot.cmdline_addr, "console=ttyS0"))
			abort();
	} else if (!err[0] || strlen(err) >= sizeof(err)) {
		abort();
	}
	free(kernel);
	free(initrd);
	return 0;
}
