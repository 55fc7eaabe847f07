#include "arch/x86/paging.h"

#include "arch/x86/cpu.h"
#include "core/boot_info.h"
#include "core/panic.h"
#include "lib/kstring.h"
#include "core/kmem.h"
#include "lib/log.h"
#include "mm/phys.h"

/* from boot/efi/keel-efi.lds */
extern char __keel_text_start[], __keel_text_end[], __keel_rodata_start[], __keel_rodata_end[];
extern char ImageBase[], __keel_image_end[];

#define LEAF_DATA (PTE_P | PTE_W | PTE_NX)
#define LEAF_CODE (PTE_P)
#define LEAF_RODATA (PTE_P | PTE_NX)
#define LEAF_NONE 0ull

static uint64_t *pml4;

static uint64_t *new_table(void)
{
	uint64_t *t = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!t)
		panic("out of memory for keel's page tables");
	return t;
}

static uint64_t *next_level(uint64_t *table, unsigned idx)
{
	if (!(table[idx] & PTE_P))
		table[idx] = (uint64_t)(uintptr_t)new_table() | PTE_P | PTE_W;
	return (uint64_t *)(uintptr_t)(table[idx] & PTE_ADDR_MASK);
}

/* Replaces a large leaf at table[idx] (level 2 = 2 MiB, 3 = 1 GiB) by a table of the next
 * smaller leaves with the same flags. */
static void split(uint64_t *table, unsigned idx, int level)
{
	uint64_t e = table[idx];
	uint64_t flags = e & ~PTE_ADDR_MASK & ~PTE_PS;
	uint64_t base = e & PTE_ADDR_MASK & ~((1ull << (12 + 9 * (level - 1))) - 1);
	uint64_t step = 1ull << (12 + 9 * (level - 2));
	uint64_t *t = new_table();

	for (unsigned i = 0; i < 512; i++)
		t[i] = (base + i * step) | flags | (level - 1 > 1 ? PTE_PS : 0);
	table[idx] = (uint64_t)(uintptr_t)t | PTE_P | PTE_W;
}

/* Sets the leaf flags of [base, base + size) (page aligned), splitting large leaves at the
 * edges and mapping what is not mapped yet. */
static void set_flags(uint64_t base, uint64_t size, uint64_t flags)
{
	for (uint64_t va = base; va < base + size;) {
		uint64_t *t = pml4;
		for (int level = 4;; level--) {
			unsigned idx = (va >> (12 + 9 * (level - 1))) & 511;
			uint64_t span = 1ull << (12 + 9 * (level - 1));
			/* not mapped yet (MMIO above the memory map's top): a 2 MiB leaf when it
			 * fits (every CPU has those; 1 GiB ones need CPUID), else a table */
			bool absent = level > 1 && !(t[idx] & PTE_P);
			bool leaf = level == 1 || (t[idx] & PTE_PS) || (absent && level == 2);
			if (leaf && IS_ALIGNED(va, span) && va + span <= base + size) {
				t[idx] = flags ? (va | flags | (level > 1 ? PTE_PS : 0)) : 0;
				va += span;
				break;
			}
			if (absent)
				t[idx] = (uint64_t)(uintptr_t)new_table() | PTE_P | PTE_W;
			else if (leaf)
				split(t, idx, level);
			t = (uint64_t *)(uintptr_t)(t[idx] & PTE_ADDR_MASK);
		}
	}
}

void paging_init(const struct boot_info *bi)
{
	uint64_t top = 4 * GiB;
	bool gib_pages =
		cpuid(0x80000001, 0).edx & (1u << 26); /* AMD APM vol 3, CPUID Fn8000_0001 */

	for (unsigned i = 0; i < bi->nr_memmap; i++)
		top = MAX(top, bi->memmap[i].base + bi->memmap[i].size);
	top = ALIGN_UP(top, GiB);

	pml4 = new_table();
	for (uint64_t va = 0; va < top; va += GiB) {
		uint64_t *pdpt = next_level(pml4, (va >> 39) & 511);
		unsigned i3 = (va >> 30) & 511;
		if (gib_pages && va >= 4 * GiB) {
			pdpt[i3] = va | LEAF_DATA | PTE_PS;
			continue;
		}
		uint64_t *pd = next_level(pdpt, i3);
		for (unsigned i2 = 0; i2 < 512; i2++)
			pd[i2] = (va + i2 * (2 * MiB)) | LEAF_DATA | PTE_PS;
	}
	/* Firmware runtime code must stay executable for ResetSystem and GetTime. */
	for (unsigned i = 0; i < bi->nr_memmap; i++)
		if (bi->memmap[i].type == MEM_RUNTIME_CODE)
			set_flags(bi->memmap[i].base, bi->memmap[i].size, PTE_P | PTE_W);
	/* keel's image: code RX, read-only data R, the rest RW (all NX but code). */
	uint64_t text = (uint64_t)(uintptr_t)__keel_text_start;
	uint64_t text_end = (uint64_t)(uintptr_t)__keel_text_end;
	uint64_t ro = (uint64_t)(uintptr_t)__keel_rodata_start;
	uint64_t ro_end = (uint64_t)(uintptr_t)__keel_rodata_end;
	set_flags(ALIGN_DOWN(text, PAGE_SIZE),
		  ALIGN_UP(text_end, PAGE_SIZE) - ALIGN_DOWN(text, PAGE_SIZE), LEAF_CODE);
	set_flags(ro, ALIGN_UP(ro_end, PAGE_SIZE) - ro, LEAF_RODATA);
	/* the page below keel's stack: an overflow faults (on the #DF IST stack) */
	set_flags(bi->stack_guard, PAGE_SIZE, LEAF_NONE);

	wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_NXE); /* before any NX bit is live */
	write_cr3((uint64_t)(uintptr_t)pml4);
	write_cr0(read_cr0() | CR0_WP);
	klog("keel: own page tables: %llu GiB identity mapped (%s pages), text %llx-%llx RX, "
	     "rodata R, data NX, stack guard at %llx",
	     (unsigned long long)(top / GiB), gib_pages ? "1 GiB/2 MiB" : "2 MiB",
	     (unsigned long long)text, (unsigned long long)text_end,
	     (unsigned long long)bi->stack_guard);
}

void paging_unmap(uint64_t base, uint64_t size)
{
	set_flags(base, size, LEAF_NONE);
	write_cr3(read_cr3());
}

void paging_map_code(uint64_t base, uint64_t size)
{
	set_flags(base, size, LEAF_CODE);
	write_cr3(read_cr3());
}

void paging_map_mmio(uint64_t base, uint64_t size)
{
	/* PCD and PWT with keel's PAT left at its reset value select entry 3, UC: device registers
	 * must see every access, in order, none cached or combined (Intel SDM vol 3, 11.12.3) */
	set_flags(base, size, LEAF_DATA | PTE_PCD | PTE_PWT);
	write_cr3(read_cr3());
}
