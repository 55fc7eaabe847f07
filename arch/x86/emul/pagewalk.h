/* Guest page-table walker: translates a guest-virtual (linear) address through the guest's own
 * paging structures, as the CPU would, reading them only through the bounds-checked guest_mem
 * accessor (core/gmem.h). Used to fetch the instruction bytes behind an MMIO exit and to reach
 * the memory operands the instruction names.
 *
 * Paging modes (Intel SDM vol 3, chapter 4; AMD APM vol 2, chapter 5): off, 32-bit (4 KiB and,
 * with CR4.PSE, 4 MiB pages with PSE-36), PAE (2 MiB pages), 4-level (2 MiB, 1 GiB) and 5-level
 * (CR4.LA57). Checks present, R/W, U/S, NX (EFER.NXE), CR0.WP, SMEP, SMAP, reserved bits and
 * canonical form. Not modelled: protection keys, accessed/dirty updates (the hardware already set
 * them on the access that exited), the PDPTE cache of PAE mode (re-read from memory, as AMD's
 * nested paging does). */
#ifndef KEEL_ARCH_X86_EMUL_PAGEWALK_H
#define KEEL_ARCH_X86_EMUL_PAGEWALK_H

#include "core/gmem.h"
#include "lib/types.h"

struct paging_state {
	uint64_t cr0, cr3, cr4, efer;
	/* The guest's MAXPHYADDR (CPUID 0x80000008 EAX[7:0]): entry bits at and above it are
	 * reserved. 0 means 52, the architectural maximum. */
	uint8_t phys_bits;
};

#define X86_CR0_WP (1ull << 16)
#define X86_CR0_PG (1ull << 31)
#define X86_CR4_PSE (1ull << 4)
#define X86_CR4_PAE (1ull << 5)
#define X86_CR4_LA57 (1ull << 12)
#define X86_CR4_SMEP (1ull << 20)
#define X86_CR4_SMAP (1ull << 21)
#define X86_EFER_LMA (1ull << 10)
#define X86_EFER_NXE (1ull << 11)

/* Page-fault error code bits (Intel SDM vol 3, 4.7). */
#define PF_ERR_P (1u << 0)    /* 0: not present; 1: protection or reserved bit */
#define PF_ERR_W (1u << 1)    /* the access was a write */
#define PF_ERR_U (1u << 2)    /* the access was in user mode (CPL 3) */
#define PF_ERR_RSVD (1u << 3) /* a reserved bit was set in a paging entry */
#define PF_ERR_I (1u << 4)    /* the access was an instruction fetch */

/* guest_walk access flags: the first three are the error-code bits they stand for. */
#define GW_WRITE PF_ERR_W
#define GW_USER PF_ERR_U
#define GW_EXEC PF_ERR_I
#define GW_AC (1u << 31) /* RFLAGS.AC = 1: SMAP lets supervisor data accesses to user pages pass */

/* Errors (returned negated). */
enum guest_walk_err {
	GW_EFAULT = 1,	  /* #PF with *pf_error_code (CR2 = the address) */
	GW_ENONCANONICAL, /* non-canonical address: #GP, or #SS for a stack access */
	GW_ENOTRAM,	  /* a paging structure (for a fetch: the code) is outside guest RAM */
};

/* Translates gva for an access of kind `access` (GW_* flags; 0 = supervisor read) into *gpa.
 * Returns 0, or -enum guest_walk_err; *pf_error_code is set for GW_EFAULT. Outside long mode the
 * address is taken modulo 4 GiB. The page itself need not be RAM (it may be a device). */
int guest_walk(const struct guest_mem *m, const struct paging_state *ps, uint64_t gva,
	       unsigned access, uint64_t *gpa, uint32_t *pf_error_code);

/* Fetches up to `max` (<= 15) instruction bytes at linear address la (CS base + RIP), walking
 * each page the bytes lie on (an instruction can cross one page boundary). Returns 0 with
 * *len >= 1 bytes in buf: fewer than max when the next page does not translate or is not RAM;
 * the caller needs them only if the decoder says the instruction goes on (X86_ETRUNC), and then
 * gets the exact fault from guest_walk(la + *len). Fails (-enum guest_walk_err, *pf_error_code
 * for GW_EFAULT) only when not even the first byte can be fetched. */
int guest_fetch_insn(const struct guest_mem *m, const struct paging_state *ps, uint64_t la,
		     unsigned access, uint8_t *buf, unsigned max, unsigned *len,
		     uint32_t *pf_error_code);

#endif
