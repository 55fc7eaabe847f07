/* Guest kernel loader: puts a user-supplied kernel (and initrd and command line) into a VM's RAM
 * and describes the boot vCPU's first state. The format is found from the content:
 *   - a Linux bzImage ("HdrS" setup header), entered in 64-bit mode (Linux boot.rst, "64-bit
 *     BOOT PROTOCOL");
 *   - an ELF with a XEN_ELFNOTE_PHYS32_ENTRY note, entered through the PVH boot ABI (Xen's
 *     docs/misc/pvh.pandoc, public/arch-x86/hvm/start_info.h);
 *   - an ELF (or an a.out-kludge image) with a Multiboot v1 header (Multiboot 0.6.96).
 * The kernel file is hostile: every offset and size in it is range-checked before use, and all
 * guest memory is written through core/gmem.h. Nothing here touches privileged state, so the same
 * code runs in keel and in the host unit tests and fuzzers. */
#ifndef KEEL_GUEST_LOADER_H
#define KEEL_GUEST_LOADER_H

#include "core/gmem.h"
#include "lib/types.h"

enum guest_entry_mode {
	GUEST_ENTRY_LONG64, /* long mode, paging on (identity map), CS a 64-bit code segment */
	GUEST_ENTRY_PROT32, /* flat 32-bit protected mode, paging off */
};

/* A segment register as both backends hold it: the hidden part already expanded.
 * ar is bits 40..55 of the descriptor: type (0-3), S (4), DPL (5-6), P (7), AVL (12), L (13),
 * D/B (14), G (15) -- the VMCS access-rights layout (Intel SDM vol 3C, "Guest Register State",
 * table "Format of Access Rights"; the VMX backend sets bit 16 "unusable" when ar is 0). The
 * VMCB's 12-bit attrib (AMD APM vol 2, appendix B, "VMCB Layout, State Save Area") is
 * guest_seg_svm_attrib(). limit is in bytes (granularity already applied). */
struct guest_seg {
	uint16_t sel;
	uint16_t ar; /* 0: unusable (a null selector) */
	uint32_t limit;
	uint64_t base;
};

static inline uint16_t guest_seg_svm_attrib(const struct guest_seg *s)
{
	return (uint16_t)((s->ar & 0xff) | ((s->ar >> 4) & 0xf00));
}

/* The boot vCPU's state at the kernel's entry point, and where the loader put things. Registers
 * not named here are zero; IDTR is base 0, limit 0 (no ABI gives the guest an IDT). */
struct guest_boot {
	enum guest_entry_mode mode;
	char format[32]; /* "bzImage 2.15", "PVH ELF", "Multiboot ELF", for the log */

	uint64_t rip, rsp, rflags;
	uint64_t rax, rbx, rsi;
	uint64_t cr0, cr3, cr4, efer;
	uint64_t gdt_base;
	uint16_t gdt_limit;
	struct guest_seg cs, ds, es, fs, gs, ss, tr, ldtr;

	/* Guest-physical placement, for the log and the tests: the range the kernel may use before
	 * it reads the memory map; the initrd (0, 0 without one); boot_params, hvm_start_info or
	 * multiboot_info; the command line. */
	uint64_t kernel_start, kernel_end;
	uint64_t initrd_addr, initrd_size;
	uint64_t boot_info;
	uint64_t cmdline_addr;
};

/* Loads kernel (kernel_size bytes) and the optional initrd (NULL or initrd_size 0: none) into m,
 * the RAM of a VM with `memory` bytes laid out as core/guest_layout.h says; cmdline may be NULL.
 * Returns 0 with *out filled, or -1 with a one-line reason in err (err_size bytes, always
 * terminated). On failure guest memory may have been partly written; the VM must not start. */
int guest_load(const struct guest_mem *m, uint64_t memory, const void *kernel, size_t kernel_size,
	       const void *initrd, size_t initrd_size, const char *cmdline, struct guest_boot *out,
	       char *err, size_t err_size);

#endif
