/* keel's own memory is never mapped into a guest: from an OVMF-like boot memory map, build the
 * allocator as hv_main does, give several VMs their RAM as hv_vm_setup_memory does, build their
 * stage-2 tables, then walk every leaf of every VM: each maps only that VM's own RAM, which lies
 * in memory the firmware reported free, never in keel's image, loaded files, stack, firmware,
 * ACPI or MMIO ranges, never in the first MiB, and never in another VM's RAM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>

#include "core/guest_layout.h"
#include "core/guest_ram.h"
#include "core/host_memory.h"
#include "mm/stage2.h"

#define ARENA_PAGES 8192
static uint8_t *arena;
static unsigned arena_used;
#define FAKE_BASE 0x7000000000ull /* table pages are not host RAM of the map below */

static uint64_t alloc_page(void *ctx)
{
	(void)ctx;
	if (arena_used == ARENA_PAGES)
		return 0;
	memset(arena + (size_t)arena_used * 4096, 0, 4096);
	return FAKE_BASE + (uint64_t)arena_used++ * 4096;
}

static uint64_t *table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(arena + (pa - FAKE_BASE));
}

static const struct stage2_format npt = {
	.table_bits = 0x7,
	.leaf_rwx = 0x67,
	.large_bit = 0x80,
	.present_mask = 0x1,
	.gib_leaves = true,
	.mib_leaves = true,
};

static struct boot_info bi;

static void add(uint64_t base, uint64_t size, enum mem_type t)
{
	bi.memmap[bi.nr_memmap++] = (struct mem_range){ base, size, t };
}

/* A map shaped like what OVMF gives QEMU q35 with 1.5 GiB: holes, runtime and ACPI ranges in the
 * middle of RAM, keel's image and files as loader data, RAM above 4 GiB. */
static void ovmf_like_map(void)
{
	memset(&bi, 0, sizeof(bi));
	add(0x0, 0xa0000, MEM_FREE);
	add(0x100000, 0x700000, MEM_FREE);
	add(0x800000, 0x8000, MEM_ACPI);
	add(0x808000, 0x3000, MEM_FREE_LATER);
	add(0x900000, 0x3d400000, MEM_FREE);
	add(0x3dd00000, 0x1a00000, MEM_KEEL);	   /* keel.efi, kernel, initrd, stack */
	add(0x3f700000, 0x100000, MEM_FREE_LATER); /* boot services data: old page tables */
	add(0x3f800000, 0x200000, MEM_FIRMWARE_RUNTIME);
	add(0x3fa00000, 0x100000, MEM_RUNTIME_CODE);
	add(0x3fb00000, 0x400000, MEM_FREE);
	add(0x3ff00000, 0x100000, MEM_RESERVED);
	add(0xb0000000, 0x10000000, MEM_MMIO);
	add(0xffc00000, 0x400000, MEM_MMIO);
	add(0x100000000ull, 0x20000000ull, MEM_FREE);
}

static bool inside_type(uint64_t base, uint64_t size, enum mem_type t)
{
	for (unsigned i = 0; i < bi.nr_memmap; i++) {
		const struct mem_range *r = &bi.memmap[i];
		if (r->type == t && base >= r->base && base + size <= r->base + r->size)
			return true;
	}
	return false;
}

static bool overlaps_non_free(uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < bi.nr_memmap; i++) {
		const struct mem_range *r = &bi.memmap[i];
		if (r->type != MEM_FREE && r->type != MEM_FREE_LATER && base < r->base + r->size &&
		    r->base < base + size)
			return true;
	}
	return false;
}

struct vm_ram {
	struct gmem_extent ext[256];
	unsigned n;
	struct stage2 s2;
};

/* Walks every leaf; fails on any mapping outside the VM's own RAM. Returns bytes mapped. */
static uint64_t check_leaves(const struct vm_ram *vm, const struct vm_ram *all, unsigned nr_vms,
			     uint64_t table, int level, uint64_t gpa_base)
{
	uint64_t mapped = 0, *t = table_ptr(NULL, table);
	if (level < 1 || level > 4) { /* 4-level tables only; keeps the shifts below defined */
		fail_msg("bad paging level %d", level);
		return 0;
	}
	for (unsigned i = 0; i < 512; i++) {
		if (!(t[i] & 1))
			continue;
		uint64_t gpa = gpa_base + ((uint64_t)i << (12 + 9 * (level - 1)));
		bool leaf = level == 1 || (level <= 3 && (t[i] & 0x80));
		if (!leaf) {
			mapped += check_leaves(vm, all, nr_vms, t[i] & 0xffffffffff000ull,
					       level - 1, gpa);
			continue;
		}
		uint64_t span = 1ull << (12 + 9 * (level - 1));
		uint64_t hpa = t[i] & 0xffffffffff000ull & ~(span - 1);
		bool own = false;
		for (const struct gmem_extent *e = vm->ext; e < vm->ext + vm->n; e++)
			own |= gpa >= e->gpa && gpa + span <= e->gpa + e->size &&
			       hpa == e->hpa + (gpa - e->gpa);
		if (!own)
			fail_msg("gpa %llx -> hpa %llx is not this VM's RAM",
				 (unsigned long long)gpa, (unsigned long long)hpa);
		if (overlaps_non_free(hpa, span) || hpa < 0x100000)
			fail_msg("hpa %llx+%llx is keel's, firmware or device memory",
				 (unsigned long long)hpa, (unsigned long long)span);
		if (!inside_type(hpa, span, MEM_FREE) && !inside_type(hpa, span, MEM_FREE_LATER))
			fail_msg("hpa %llx is not in one free range", (unsigned long long)hpa);
		for (const struct vm_ram *o = all; o < all + nr_vms; o++)
			for (unsigned r = 0; o != vm && r < o->n; r++)
				if (hpa < o->ext[r].hpa + o->ext[r].size &&
				    o->ext[r].hpa < hpa + span)
					fail_msg("hpa %llx belongs to another VM",
						 (unsigned long long)hpa);
		mapped += span;
	}
	return mapped;
}

static void no_keel_memory_in_any_guest(void **state)
{
	(void)state;
	static struct phys_pool pool;
	/* 1.2 GiB of VMs in 1.5 GiB of free RAM: they fill the ranges around keel's own; then a last
	 * VM takes every whole MiB left, in whatever pieces remain (core/guest_ram.c) */
	uint64_t sizes[] = { 512 * MiB, 16 * MiB, 300 * MiB, 34 * MiB, 256 * MiB, 128 * MiB, 0 };
	enum { NR = sizeof(sizes) / sizeof(sizes[0]) };
	struct vm_ram vms[NR];
	/* never freed here: no free_page */
	struct stage2_alloc a = { .alloc_page = alloc_page, .table_ptr = table_ptr };

	arena = aligned_alloc(4096, (size_t)ARENA_PAGES * 4096);
	arena_used = 0;
	ovmf_like_map();
	phys_pool_init(&pool);
	host_memory_add(&pool, &bi, MEM_FREE);
	host_memory_add(&pool, &bi, MEM_FREE_LATER);
	for (unsigned v = 0; v < NR; v++) {
		struct vm_ram *vm = &vms[v];
		uint64_t gpa[2], size[2];
		if (!sizes[v])
			sizes[v] = pool.free_bytes / MiB * MiB;
		unsigned nr = guest_ram_regions(sizes[v], gpa, size);
		assert_int_equal(stage2_init(&vm->s2, &npt, &a), 0);
		vm->n = 0;
		for (unsigned r = 0; r < nr; r++)
			assert_int_equal(guest_ram_alloc(&pool, gpa[r], size[r], vm->ext,
							 ARRAY_SIZE(vm->ext), &vm->n),
					 0);
		/* as hv_vm_setup_memory does: each host block mapped on its own */
		for (const struct gmem_extent *e = vm->ext; e < vm->ext + vm->n; e++)
			assert_int_equal(stage2_map(&vm->s2, e->gpa, e->hpa, e->size), 0);
	}
	uint64_t lowest = UINT64_MAX;
	for (unsigned v = 0; v < NR; v++) {
		assert_int_equal(check_leaves(&vms[v], vms, NR, vms[v].s2.root, 4, 0), sizes[v]);
		for (unsigned r = 0; r < vms[v].n; r++)
			lowest = vms[v].ext[r].hpa < lowest ? vms[v].ext[r].hpa : lowest;
	}
	/* the RAM below keel's image was used too, so the check above saw its neighbourhood */
	assert_true(lowest < 0x3dd00000);
	assert_true(sizes[NR - 1] > 200 * MiB && vms[NR - 1].n > 2);
	assert_true(pool.free_bytes < MiB);
	free(arena);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(no_keel_memory_in_any_guest),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
