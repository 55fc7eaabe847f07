/* Guest page-table walker (pagewalk.h). Entry layouts and reserved bits: Intel SDM vol 3, 4.3
 * (32-bit paging, Tables 4-4 to 4-6), 4.4 (PAE, Tables 4-7 to 4-11), 4.5 (4- and 5-level,
 * Tables 4-14 to 4-20); access rights 4.6; error code 4.7. */
#include "arch/x86/emul/pagewalk.h"

#define PTE_P (1ull << 0)
#define PTE_RW (1ull << 1)
#define PTE_US (1ull << 2)
#define PTE_PS (1ull << 7)
#define PTE_NX (1ull << 63)
#define ADDR_4K 0x000ffffffffff000ull /* bits 51:12 */

/* Bits m..51: above MAXPHYADDR, reserved in every 64-bit entry. */
static uint64_t above_maxphy(unsigned m)
{
	return m >= 52 ? 0 : ((1ull << 52) - 1) & ~((1ull << m) - 1);
}

/* The guest's MAXPHYADDR, kept within what the architecture allows (32..52). */
static unsigned maxphy_of(const struct paging_state *ps)
{
	return ps->phys_bits ? MAX(MIN(ps->phys_bits, 52u), 32u) : 52;
}

/* Rights gathered over the levels of one walk (SDM vol 3, 4.6.1: the most restrictive wins). */
struct rights {
	bool rw, us, nx;
};

static uint32_t fault_bits(const struct paging_state *ps, unsigned access)
{
	uint32_t ec = access & (PF_ERR_W | PF_ERR_U);
	bool pae_nx = (ps->cr4 & X86_CR4_PAE) && (ps->efer & X86_EFER_NXE);

	/* I/D is reported only when NX or SMEP could have caused a fetch fault (SDM vol 3, 4.7) */
	if ((access & GW_EXEC) && (pae_nx || (ps->cr4 & X86_CR4_SMEP)))
		ec |= PF_ERR_I;
	return ec;
}

/* Access-rights check of a translation (SDM vol 3, 4.6.1); 0 or the error-code bit P. */
static bool rights_allow(const struct paging_state *ps, unsigned access, struct rights r)
{
	bool write = access & GW_WRITE, exec = access & GW_EXEC;

	if (access & GW_USER) {
		if (!r.us || (write && !r.rw))
			return false;
	} else {
		if (write && !r.rw && (ps->cr0 & X86_CR0_WP))
			return false;
		if (r.us && exec && (ps->cr4 & X86_CR4_SMEP))
			return false;
		if (r.us && !exec && (ps->cr4 & X86_CR4_SMAP) && !(access & GW_AC))
			return false;
	}
	return !(exec && r.nx);
}

/* Reads the 4- or 8-byte entry at gpa; false when it is not in guest RAM. */
static bool read_entry(const struct guest_mem *m, uint64_t gpa, unsigned size, uint64_t *e)
{
	*e = 0;
	return gmem_read(m, gpa, e, size) == 0;
}

static int walk32(const struct guest_mem *m, const struct paging_state *ps, uint32_t va,
		  struct rights *r, uint64_t *gpa, uint32_t *rsvd)
{
	unsigned maxphy = maxphy_of(ps);
	uint64_t pde, pte;

	if (!read_entry(m, (ps->cr3 & 0xfffff000ull) + (va >> 22) * 4ull, 4, &pde))
		return -GW_ENOTRAM;
	if (!(pde & PTE_P))
		return -GW_EFAULT;
	r->rw = pde & PTE_RW;
	r->us = pde & PTE_US;
	if ((pde & PTE_PS) && (ps->cr4 & X86_CR4_PSE)) {
		/* 4 MiB page, PSE-36: bits 20:13 are PA bits 39:32 up to min(MAXPHYADDR, 40);
		 * bit 21 and the PA bits beyond that are reserved (SDM vol 3, Table 4-4) */
		unsigned hi = MIN(maxphy, 40u) - 32;
		uint64_t resv = (1ull << 21) | (0xffull << 13 & ~(((1ull << hi) - 1) << 13));
		if (pde & resv) {
			*rsvd = PF_ERR_RSVD;
			return -GW_EFAULT;
		}
		*gpa = (pde & 0xffc00000ull) | ((pde >> 13) & 0xff) << 32 | (va & 0x3fffff);
		return 0;
	}
	if (!read_entry(m, (pde & 0xfffff000ull) + ((va >> 12) & 0x3ff) * 4ull, 4, &pte))
		return -GW_ENOTRAM;
	if (!(pte & PTE_P))
		return -GW_EFAULT;
	r->rw &= !!(pte & PTE_RW);
	r->us &= !!(pte & PTE_US);
	*gpa = (pte & 0xfffff000ull) | (va & 0xfff);
	return 0;
}

/* PAE, 4-level and 5-level: 8-byte entries, 9 address bits per level. */
static int walk64(const struct guest_mem *m, const struct paging_state *ps, uint64_t va,
		  struct rights *r, uint64_t *gpa, uint32_t *rsvd)
{
	unsigned maxphy = maxphy_of(ps);
	bool nxe = ps->efer & X86_EFER_NXE;
	uint64_t common = above_maxphy(maxphy) | (nxe ? 0 : PTE_NX);
	uint64_t table, e;
	int level; /* 4 = PML5, 3 = PML4, 2 = PDPT, 1 = PD, 0 = PT */

	r->rw = r->us = true;
	r->nx = false;
	if (ps->efer & X86_EFER_LMA) {
		level = (ps->cr4 & X86_CR4_LA57) ? 4 : 3;
		table = ps->cr3 & ADDR_4K & ~above_maxphy(maxphy);
	} else {
		/* PAE: the 4 PDPTEs sit at CR3[31:5]; they carry no access rights, and besides
		 * the address only P is defined: bits 2:1, 8:5 and 63 are reserved (Table 4-8).
		 * Bit 5 excepted: QEMU TCG sets it (as an accessed bit) when it walks a PDPTE, and
		 * keel only walks what the CPU has just translated; refusing it would turn a
		 * PAE guest's MMIO access into a #PF the CPU never raised. */
		if (!read_entry(m, (ps->cr3 & 0xffffffe0ull) + ((va >> 30) & 3) * 8, 8, &e))
			return -GW_ENOTRAM;
		if (!(e & PTE_P))
			return -GW_EFAULT;
		if (e & (above_maxphy(maxphy) | 0x1c6ull | PTE_NX)) {
			*rsvd = PF_ERR_RSVD;
			return -GW_EFAULT;
		}
		table = e & ADDR_4K;
		level = 1;
	}
	for (; level >= 0; level--) {
		unsigned shift = 12 + 9 * level;
		uint64_t resv = common, size = 1ull << shift;

		if (!read_entry(m, table + ((va >> shift) & 511) * 8, 8, &e))
			return -GW_ENOTRAM;
		if (!(e & PTE_P))
			return -GW_EFAULT;
		r->rw &= !!(e & PTE_RW);
		r->us &= !!(e & PTE_US);
		r->nx |= nxe && (e & PTE_NX);
		/* PS must be 0 in PML5Es and PML4Es; a 1 GiB or 2 MiB page has its address bits
		 * below the page size (except PAT, bit 12) reserved (Tables 4-15 to 4-18) */
		if (level >= 3)
			resv |= PTE_PS;
		else if (level >= 1 && (e & PTE_PS))
			resv |= (size - 1) & ~0x1fffull;
		if (e & resv) {
			*rsvd = PF_ERR_RSVD;
			return -GW_EFAULT;
		}
		if (level == 0 || (e & PTE_PS)) {
			*gpa = (e & ADDR_4K & ~(size - 1)) | (va & (size - 1));
			return 0;
		}
		table = e & ADDR_4K;
	}
	return -GW_EFAULT; /* not reached */
}

int guest_walk(const struct guest_mem *m, const struct paging_state *ps, uint64_t gva,
	       unsigned access, uint64_t *gpa, uint32_t *pf_error_code)
{
	bool lma = ps->efer & X86_EFER_LMA;
	struct rights r = { .rw = true, .us = true };
	uint64_t pa = 0;
	uint32_t rsvd = 0;
	int rc;

	*pf_error_code = 0;
	if (lma) {
		/* canonical: bits 63:47 (63:56 with LA57) all equal (SDM vol 1, 3.3.7.1) */
		unsigned bits = (ps->cr4 & X86_CR4_LA57) ? 57 : 48;
		if ((uint64_t)((int64_t)(gva << (64 - bits)) >> (64 - bits)) != gva)
			return -GW_ENONCANONICAL;
	} else {
		gva &= 0xffffffffull;
	}
	if (!(ps->cr0 & X86_CR0_PG)) {
		*gpa = gva;
		return 0;
	}
	if (lma || (ps->cr4 & X86_CR4_PAE))
		rc = walk64(m, ps, gva, &r, &pa, &rsvd);
	else
		rc = walk32(m, ps, (uint32_t)gva, &r, &pa, &rsvd);
	if (rc == -GW_EFAULT) {
		/* a reserved bit is a fault on a present entry: P = 1 with RSVD */
		*pf_error_code = fault_bits(ps, access) | (rsvd ? PF_ERR_P | rsvd : 0);
		return rc;
	}
	if (rc)
		return rc;
	if (!rights_allow(ps, access, r)) {
		*pf_error_code = fault_bits(ps, access) | PF_ERR_P;
		return -GW_EFAULT;
	}
	*gpa = pa;
	return 0;
}

int guest_fetch_insn(const struct guest_mem *m, const struct paging_state *ps, uint64_t la,
		     unsigned access, uint8_t *buf, unsigned max, unsigned *len,
		     uint32_t *pf_error_code)
{
	bool lma = ps->efer & X86_EFER_LMA;

	*len = 0;
	*pf_error_code = 0;
	max = MIN(max, 15u);
	while (*len < max) {
		uint64_t cur = la + *len, gpa;
		unsigned n;
		uint32_t ec;
		int rc;

		if (!lma)
			cur &= 0xffffffffull;
		rc = guest_walk(m, ps, cur, (access & ~GW_WRITE) | GW_EXEC, &gpa, &ec);
		n = MIN(max - *len, (unsigned)(4096 - (cur & 0xfff)));
		if (!rc && gmem_read(m, gpa, buf + *len, n))
			rc = -GW_ENOTRAM;
		if (rc) {
			if (*len)
				return 0;
			*pf_error_code = ec;
			return rc;
		}
		*len += n;
	}
	return 0;
}
