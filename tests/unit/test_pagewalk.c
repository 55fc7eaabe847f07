/* Guest page-table walker (arch/x86/emul/pagewalk.h): page tables built in a malloc'ed guest RAM
 * for every paging mode, translations of every page size, permission faults with their error
 * codes, reserved bits, tables outside RAM, non-canonical addresses, page-crossing fetches. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdlib.h>

#include "arch/x86/emul/pagewalk.h"
#include "lib/kstring.h"

#define RAM_SIZE (4 * MiB)
#define P 1ull
#define RW 2ull
#define US 4ull
#define PS 0x80ull
#define NX (1ull << 63)

static struct gmem_extent gm_ext[2];
static struct guest_mem gm = { .ext = gm_ext, .nr = 0 };
static uint64_t next_table; /* bump allocator for page-table pages in guest RAM */

static int setup(void **state)
{
	(void)state;
	gm.nr = 1;
	gm.ext[0] = (struct gmem_extent){ 0, RAM_SIZE, calloc(1, RAM_SIZE), 0 };
	next_table = 0x100000;
	return gm.ext[0].hva ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	free(gm.ext[0].hva);
	return 0;
}

static uint64_t new_table(void)
{
	uint64_t t = next_table;
	next_table += 4096;
	assert_true(next_table <= RAM_SIZE);
	gmem_fill(&gm, t, 0, 4096);
	return t;
}

static uint64_t get64(uint64_t gpa)
{
	uint64_t v;
	assert_int_equal(gmem_read(&gm, gpa, &v, 8), 0);
	return v;
}

static void put64(uint64_t gpa, uint64_t v)
{
	assert_int_equal(gmem_write(&gm, gpa, &v, 8), 0);
}

static void put32(uint64_t gpa, uint32_t v)
{
	assert_int_equal(gmem_write(&gm, gpa, &v, 4), 0);
}

/* Maps va -> pa in 8-byte-entry tables rooted at `root` (top level `top`: 4 = PML5 .. 1 = PD)
 * with a leaf at `leaf_level` (0 = 4 KiB PTE, 1 = 2 MiB, 2 = 1 GiB). Intermediate entries get
 * `upper` flags (ORed into existing ones), the leaf `leaf`. Returns the leaf entry's address. */
static uint64_t map64(uint64_t root, int top, uint64_t va, uint64_t pa, int leaf_level,
		      uint64_t upper, uint64_t leaf)
{
	uint64_t table = root;
	for (int level = top; level > leaf_level; level--) {
		uint64_t slot = table + ((va >> (12 + 9 * level)) & 511) * 8, e = get64(slot);
		if (!(e & P))
			e = new_table() | P;
		e |= upper;
		put64(slot, e);
		table = e & 0x000ffffffffff000ull;
	}
	{
		uint64_t slot = table + ((va >> (12 + 9 * leaf_level)) & 511) * 8;
		put64(slot, pa | leaf | (leaf_level ? PS : 0));
		return slot;
	}
}

static int walk(const struct paging_state *ps, uint64_t va, unsigned acc, uint64_t *gpa,
		uint32_t *ec)
{
	return guest_walk(&gm, ps, va, acc, gpa, ec);
}

/* Expects a #PF with error code want. */
static void expect_pf(const struct paging_state *ps, uint64_t va, unsigned acc, uint32_t want)
{
	uint64_t gpa;
	uint32_t ec;
	int rc = walk(ps, va, acc, &gpa, &ec);
	if (rc != -GW_EFAULT || ec != want)
		fail_msg("va %#llx access %#x: rc %d ec %#x, wanted #PF %#x",
			 (unsigned long long)va, acc, rc, ec, want);
}

static void expect_gpa(const struct paging_state *ps, uint64_t va, unsigned acc, uint64_t want)
{
	uint64_t gpa = 0;
	uint32_t ec = 0;
	int rc = walk(ps, va, acc, &gpa, &ec);
	if (rc || gpa != want)
		fail_msg("va %#llx access %#x: rc %d ec %#x gpa %#llx, wanted %#llx",
			 (unsigned long long)va, acc, rc, ec, (unsigned long long)gpa,
			 (unsigned long long)want);
}

static void paging_off(void **state)
{
	struct paging_state ps = { .cr0 = 1 };
	(void)state;
	expect_gpa(&ps, 0x12345678, GW_WRITE | GW_USER | GW_EXEC, 0x12345678);
	expect_gpa(&ps, 0xffffffff00001000ull, 0, 0x1000); /* 32-bit linear space */
}

static void paging_32bit(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG };
	uint64_t pd = new_table(), pt = new_table();
	(void)state;

	ps.cr3 = pd;
	/* 0x00400000-0x007fffff via a page table; 0x00403000 -> 0x2345000, user, read-only */
	put32(pd + 1 * 4, (uint32_t)(pt | P | RW | US));
	put32(pt + 3 * 4, 0x2345000 | P | US);
	expect_gpa(&ps, 0x00403abc, GW_USER, 0x2345abc);
	expect_gpa(&ps, 0x00403abc, GW_WRITE, 0x2345abc); /* CR0.WP = 0: supervisor may write */
	expect_pf(&ps, 0x00403abc, GW_WRITE | GW_USER, PF_ERR_P | PF_ERR_W | PF_ERR_U);
	ps.cr0 |= X86_CR0_WP;
	expect_pf(&ps, 0x00403abc, GW_WRITE, PF_ERR_P | PF_ERR_W);
	expect_pf(&ps, 0x00404000, GW_USER, PF_ERR_U);	/* PTE not present */
	expect_pf(&ps, 0x00800000, GW_WRITE, PF_ERR_W); /* PDE not present */
	/* no NX in 32-bit paging: fetches pass and I/D is not reported without SMEP */
	expect_gpa(&ps, 0x00403000, GW_EXEC | GW_USER, 0x2345000);
	expect_pf(&ps, 0x00404000, GW_EXEC, 0);
	ps.cr4 |= X86_CR4_SMEP;
	expect_pf(&ps, 0x00403000, GW_EXEC, PF_ERR_P | PF_ERR_I);
	ps.cr4 &= ~X86_CR4_SMEP;

	/* 4 MiB page with PSE-36: PDE bits 20:13 are PA bits 39:32 */
	put32(pd + 3 * 4, 0x00c00000 | (0x12u << 13) | P | RW | PS);
	ps.cr4 |= X86_CR4_PSE;
	expect_gpa(&ps, 0x00d23456, GW_WRITE, 0x1200d23456ull);
	expect_pf(&ps, 0x00d23456, GW_USER, PF_ERR_P | PF_ERR_U);
	/* with MAXPHYADDR 36 PA bits 39:36 are reserved, and bit 21 always is */
	ps.phys_bits = 36;
	expect_pf(&ps, 0x00d23456, 0, PF_ERR_P | PF_ERR_RSVD);
	ps.phys_bits = 0;
	put32(pd + 3 * 4, 0x00c00000 | (1u << 21) | P | PS);
	expect_pf(&ps, 0x00c00000, GW_WRITE, PF_ERR_P | PF_ERR_W | PF_ERR_RSVD);
	/* without CR4.PSE the PS bit is ignored and the entry points to a page table */
	ps.cr4 &= ~X86_CR4_PSE;
	put32(pd + 3 * 4, (uint32_t)(pt | P | RW | PS));
	expect_gpa(&ps, 0x00c03001, 0, 0x2345001);
	/* a page directory outside guest RAM */
	ps.cr3 = 0x80000000;
	{
		uint64_t gpa;
		uint32_t ec;
		assert_int_equal(walk(&ps, 0x1000, 0, &gpa, &ec), -GW_ENOTRAM);
	}
	/* a page table outside guest RAM */
	ps.cr3 = pd;
	put32(pd + 5 * 4, 0xfee00000 | P | RW);
	{
		uint64_t gpa;
		uint32_t ec;
		assert_int_equal(walk(&ps, 0x01400000, 0, &gpa, &ec), -GW_ENOTRAM);
	}
}

static void paging_pae(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG | X86_CR0_WP, .cr4 = X86_CR4_PAE };
	uint64_t pdpt = new_table() + 0x20; /* CR3 needs only 32-byte alignment in PAE mode */
	uint64_t pd = new_table();
	(void)state;

	ps.cr3 = pdpt;
	put64(pdpt + 3 * 8, pd | P);
	map64(pd, 1, 0xc0201000, 0x345000, 0, P | RW | US, P | RW);
	map64(pd, 1, 0xc0400000, 0x1800000, 1, 0, P | RW | US | NX);
	expect_gpa(&ps, 0xc0201123, GW_WRITE, 0x345123);
	expect_pf(&ps, 0xc0201123, GW_USER, PF_ERR_P | PF_ERR_U);
	/* NX without EFER.NXE is a reserved bit; with it, a fetch fault with I/D */
	expect_pf(&ps, 0xc0400000, 0, PF_ERR_P | PF_ERR_RSVD);
	ps.efer = X86_EFER_NXE;
	expect_gpa(&ps, 0xc05fffff, GW_USER, 0x19fffff);
	expect_pf(&ps, 0xc0400000, GW_EXEC | GW_USER, PF_ERR_P | PF_ERR_U | PF_ERR_I);
	expect_pf(&ps, 0xc0600000, GW_EXEC, PF_ERR_I); /* not present, I/D since NXE */
	/* PDPTE not present; PDPTE with a reserved bit (bit 1, R/W has no meaning there) */
	expect_pf(&ps, 0x00001000, GW_WRITE, PF_ERR_W);
	put64(pdpt, pd | P | RW);
	expect_pf(&ps, 0x00001000, 0, PF_ERR_P | PF_ERR_RSVD);
	/* 2 MiB page with bit 13 set: reserved */
	map64(pd, 1, 0xc0800000, 0x1802000, 1, 0, P | RW);
	expect_pf(&ps, 0xc0800000, 0, PF_ERR_P | PF_ERR_RSVD);
}

/* The layout of the hostile memory guest (tests/guests/memory.S): PAE, 2 MiB pages, EFER.NXE
 * clear, an instruction fetch from an identity-mapped page and a data access through a 2 MiB
 * window on a page outside RAM, after QEMU TCG set bit 5 (accessed) in the PDPTEs it walked:
 * keel must translate what the CPU translated, or the guest's MMIO access becomes a #PF. */
static void paging_pae_2m_fetch(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG | 0x11, .cr4 = X86_CR4_PAE, .cr3 = 0x203000 };
	(void)state;
	gmem_fill(&gm, 0x201000, 0, 0x3000);
	for (uint64_t i = 0; i < 512; i++)
		put64(0x201000 + i * 8, (i << 21) | 0x83);
	put64(0x202000, 0xc0000083);
	put64(0x203000, 0x201021);
	put64(0x203000 + 24, 0x202021);
	expect_gpa(&ps, 0x2001c0, GW_EXEC, 0x2001c0);
	expect_gpa(&ps, 0xc0000030, 0, 0xc0000030);
}

static void paging_4level(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG | X86_CR0_WP,
				   .cr4 = X86_CR4_PAE,
				   .efer = X86_EFER_LMA | X86_EFER_NXE };
	uint64_t pml4 = new_table(), slot;
	(void)state;

	ps.cr3 = pml4 | 0x5; /* PCID bits are not part of the address */
	map64(pml4, 3, 0xffffffff81000000ull, 0x1000000, 1, P | RW, P | RW);	   /* 2 MiB */
	map64(pml4, 3, 0xffff888000000000ull, 0x40000000, 2, P | RW, P | RW | NX); /* 1 GiB */
	map64(pml4, 3, 0x00007fffffffe000ull, 0x2000, 0, P | RW | US, P | US);	   /* 4 KiB */
	expect_gpa(&ps, 0xffffffff81034567ull, GW_EXEC, 0x1034567);
	expect_gpa(&ps, 0xffff888012345678ull, GW_WRITE, 0x52345678);
	expect_pf(&ps, 0xffff888012345678ull, GW_EXEC, PF_ERR_P | PF_ERR_I);
	expect_gpa(&ps, 0x00007fffffffeff0ull, GW_USER, 0x2ff0);
	expect_pf(&ps, 0x00007fffffffeff0ull, GW_USER | GW_WRITE, PF_ERR_P | PF_ERR_U | PF_ERR_W);
	expect_pf(&ps, 0x00007fffffffe000ull, GW_WRITE, PF_ERR_P | PF_ERR_W); /* WP */
	expect_pf(&ps, 0xffffffff81000000ull, GW_USER, PF_ERR_P | PF_ERR_U);
	expect_pf(&ps, 0x00007ffffffff000ull, GW_USER, PF_ERR_U);
	/* SMEP: no supervisor fetch from a user page; SMAP: no supervisor data access unless AC */
	expect_gpa(&ps, 0x00007fffffffe000ull, GW_EXEC, 0x2000);
	ps.cr4 |= X86_CR4_SMEP | X86_CR4_SMAP;
	expect_pf(&ps, 0x00007fffffffe000ull, GW_EXEC, PF_ERR_P | PF_ERR_I);
	expect_pf(&ps, 0x00007fffffffe000ull, 0, PF_ERR_P);
	expect_gpa(&ps, 0x00007fffffffe000ull, GW_AC, 0x2000);
	expect_gpa(&ps, 0x00007fffffffe000ull, GW_USER | GW_EXEC, 0x2000);
	ps.cr4 &= ~(X86_CR4_SMEP | X86_CR4_SMAP);
	/* non-canonical */
	{
		uint64_t gpa;
		uint32_t ec;
		assert_int_equal(walk(&ps, 0x0000800000000000ull, 0, &gpa, &ec), -GW_ENONCANONICAL);
		assert_int_equal(walk(&ps, 0xfff0000000000000ull, 0, &gpa, &ec), -GW_ENONCANONICAL);
	}
	/* reserved: an address bit above MAXPHYADDR, PS in a PML4E, bits 29:13 of a 1 GiB page */
	slot = map64(pml4, 3, 0x0000100000000000ull, 0x10000000000ull, 0, P | RW, P | RW);
	expect_gpa(&ps, 0x0000100000000008ull, 0, 0x10000000008ull);
	ps.phys_bits = 40;
	expect_pf(&ps, 0x0000100000000008ull, GW_USER, PF_ERR_P | PF_ERR_U | PF_ERR_RSVD);
	ps.phys_bits = 0;
	put64(slot, 0);
	put64(pml4 + 511 * 8, get64(pml4 + 511 * 8) | PS);
	expect_pf(&ps, 0xffffffff81000000ull, 0, PF_ERR_P | PF_ERR_RSVD);
	put64(pml4 + 511 * 8, get64(pml4 + 511 * 8) & ~PS);
	map64(pml4, 3, 0x0000004000000000ull, 0x40002000, 2, P | RW, P | RW);
	expect_pf(&ps, 0x0000004000000000ull, 0, PF_ERR_P | PF_ERR_RSVD);
	/* NX set but EFER.NXE clear: reserved */
	ps.efer &= ~X86_EFER_NXE;
	expect_pf(&ps, 0xffff888000000000ull, 0, PF_ERR_P | PF_ERR_RSVD);
	/* a table pointer outside RAM */
	ps.efer |= X86_EFER_NXE;
	put64(pml4 + 8, 0x7fff0000000ull | P | RW);
	{
		uint64_t gpa;
		uint32_t ec;
		assert_int_equal(walk(&ps, 0x0000008000000000ull, 0, &gpa, &ec), -GW_ENOTRAM);
	}
}

static void paging_5level(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG,
				   .cr4 = X86_CR4_PAE | X86_CR4_LA57,
				   .efer = X86_EFER_LMA };
	uint64_t pml5 = new_table();
	uint64_t gpa;
	uint32_t ec;
	(void)state;

	ps.cr3 = pml5;
	map64(pml5, 4, 0xff11000000003000ull, 0x5000, 0, P | RW, P | RW);
	map64(pml5, 4, 0x0000800000001000ull, 0x6000, 0, P | RW | US, P | US);
	expect_gpa(&ps, 0xff11000000003fffull, 0, 0x5fff);
	expect_gpa(&ps, 0x0000800000001010ull, GW_USER, 0x6010); /* canonical only with LA57 */
	assert_int_equal(walk(&ps, 0x0100000000000000ull, 0, &gpa, &ec), -GW_ENONCANONICAL);
	expect_pf(&ps, 0xff11000000004000ull, 0, 0);
}

static void fetch_across_pages(void **state)
{
	struct paging_state ps = { .cr0 = X86_CR0_PG,
				   .cr4 = X86_CR4_PAE,
				   .efer = X86_EFER_LMA | X86_EFER_NXE };
	uint64_t pml4 = new_table(), second;
	uint8_t buf[16], want[15];
	unsigned len;
	uint32_t ec;
	(void)state;

	ps.cr3 = pml4;
	/* two virtually adjacent pages backed by distant guest frames */
	map64(pml4, 3, 0x400000, 0x3000, 0, P | RW | US, P | US);
	second = map64(pml4, 3, 0x401000, 0x9000, 0, P | RW | US, P | US);
	for (unsigned i = 0; i < 15; i++)
		want[i] = (uint8_t)(0xa0 + i);
	gmem_write(&gm, 0x3ff9, want, 7);
	gmem_write(&gm, 0x9000, want + 7, 8);
	assert_int_equal(guest_fetch_insn(&gm, &ps, 0x400ff9, GW_USER, buf, 15, &len, &ec), 0);
	assert_int_equal(len, 15);
	assert_memory_equal(buf, want, 15);
	/* second page not present: the first page's bytes; walking the rest gives the #PF */
	put64(second, 0);
	assert_int_equal(guest_fetch_insn(&gm, &ps, 0x400ff9, GW_USER, buf, 15, &len, &ec), 0);
	assert_int_equal(len, 7);
	assert_memory_equal(buf, want, 7);
	expect_pf(&ps, 0x400ff9 + len, GW_USER | GW_EXEC, PF_ERR_U | PF_ERR_I);
	/* the first page not executable: the fetch itself faults */
	map64(pml4, 3, 0x400000, 0x3000, 0, P | RW | US, P | US | NX);
	assert_int_equal(guest_fetch_insn(&gm, &ps, 0x400ff9, GW_USER, buf, 15, &len, &ec),
			 -GW_EFAULT);
	assert_int_equal(ec, PF_ERR_P | PF_ERR_U | PF_ERR_I);
	/* code in a page that is not RAM (a device) */
	map64(pml4, 3, 0x400000, 0xfee00000, 0, P | RW | US, P | US);
	assert_int_equal(guest_fetch_insn(&gm, &ps, 0x400ff9, GW_USER, buf, 15, &len, &ec),
			 -GW_ENOTRAM);
	/* paging off, 32-bit: the linear address wraps at 4 GiB */
	{
		struct paging_state off = { 0 };
		uint8_t b0 = 0x5a, bff = 0xa5;
		gmem_write(&gm, 0, &b0, 1);
		gm.ext[1] = (struct gmem_extent){ 0xfffff000, 4096, calloc(1, 4096), 0 };
		gm.nr = 2;
		gmem_write(&gm, 0xffffffff, &bff, 1);
		assert_int_equal(guest_fetch_insn(&gm, &off, 0xffffffff, 0, buf, 2, &len, &ec), 0);
		assert_int_equal(len, 2);
		assert_int_equal(buf[0], 0xa5);
		assert_int_equal(buf[1], 0x5a);
		free(gm.ext[1].hva);
		gm.nr = 1;
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(paging_off),	      cmocka_unit_test(paging_32bit),
		cmocka_unit_test(paging_pae),	      cmocka_unit_test(paging_pae_2m_fetch),
		cmocka_unit_test(paging_4level),      cmocka_unit_test(paging_5level),
		cmocka_unit_test(fetch_across_pages),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
