#include "core/cr_policy.h"

#include "arch/x86/cpu.h"

#define CR4_PCIDE (1ull << 17)
#define CR4_LA57 (1ull << 12)
#define CR4_CET (1ull << 23)
#define EFER_FFXSR (1ull << 14)
#define EFER_TCE (1ull << 15)

enum cpuid_reg { L1_ECX, L1_EDX, L7_EBX, L7_ECX, L7_EDX, X1_ECX, X1_EDX, ALWAYS };

static bool has(const struct cr_features *f, enum cpuid_reg r, unsigned bit)
{
	const uint32_t regs[] = { f->l1_ecx, f->l1_edx, f->l7_ebx, f->l7_ecx,
				  f->l7_edx, f->x1_ecx, f->x1_edx };
	return r == ALWAYS || (regs[r] >> bit) & 1;
}

/* Each CR4 bit and the CPUID flag that makes it exist (Intel SDM vol 3, 2.5 "Control Registers";
 * AMD APM vol 2, 3.1.3; CPUID bits: SDM vol 2 "CPUID", APM vol 3 appendix E). PCE has no flag:
 * every CPU with a time-stamp counter has it. CET is enabled by either of CET_SS and IBT. */
static const struct {
	uint8_t cr4_bit, reg, cpuid_bit;
} cr4_feature[] = {
	{ 0, L1_EDX, 1 },   /* VME: VME */
	{ 1, L1_EDX, 1 },   /* PVI: VME */
	{ 2, L1_EDX, 4 },   /* TSD: TSC */
	{ 3, L1_EDX, 2 },   /* DE: DE */
	{ 4, L1_EDX, 3 },   /* PSE: PSE */
	{ 5, L1_EDX, 6 },   /* PAE: PAE */
	{ 6, L1_EDX, 7 },   /* MCE: MCE */
	{ 7, L1_EDX, 13 },  /* PGE: PGE */
	{ 8, ALWAYS, 0 },   /* PCE */
	{ 9, L1_EDX, 24 },  /* OSFXSR: FXSR */
	{ 10, L1_EDX, 25 }, /* OSXMMEXCPT: SSE */
	{ 11, L7_ECX, 2 },  /* UMIP: UMIP */
	{ 12, L7_ECX, 16 }, /* LA57: LA57 */
	{ 13, L1_ECX, 5 },  /* VMXE: VMX */
	{ 14, L1_ECX, 6 },  /* SMXE: SMX */
	{ 16, L7_EBX, 0 },  /* FSGSBASE: FSGSBASE */
	{ 17, L1_ECX, 17 }, /* PCIDE: PCID */
	{ 18, L1_ECX, 26 }, /* OSXSAVE: XSAVE */
	{ 19, L7_ECX, 23 }, /* KL: Key Locker */
	{ 20, L7_EBX, 7 },  /* SMEP: SMEP */
	{ 21, L7_EBX, 20 }, /* SMAP: SMAP */
	{ 22, L7_ECX, 3 },  /* PKE: PKU */
	{ 23, L7_ECX, 7 },  /* CET: CET_SS */
	{ 23, L7_EDX, 20 }, /* CET: IBT */
	{ 24, L7_ECX, 31 }, /* PKS: PKS */
	{ 25, L7_EDX, 5 },  /* UINTR: UINTR */
};

void cr_features_of_guest(const struct cpuid_env *env, struct cr_features *f)
{
	struct cpuid_result r;
	cpuid_policy(1, 0, env, &r);
	f->l1_ecx = r.ecx;
	f->l1_edx = r.edx;
	cpuid_policy(7, 0, env, &r);
	f->l7_ebx = r.ebx;
	f->l7_ecx = r.ecx;
	f->l7_edx = r.edx;
	cpuid_policy(0x80000001u, 0, env, &r);
	f->x1_ecx = r.ecx;
	f->x1_edx = r.edx;
}

uint64_t cr4_valid_bits(const struct cr_features *f)
{
	uint64_t v = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cr4_feature); i++)
		if (has(f, cr4_feature[i].reg, cr4_feature[i].cpuid_bit))
			v |= 1ull << cr4_feature[i].cr4_bit;
	return v;
}

/* CPUID 8000_0001 EDX: SYSCALL 11, NX 20, FFXSR 25, LM 29; ECX: SVM 2, TCE 17 (APM vol 3, E.4.2).
 * Intel reports SYSCALL only to 64-bit code, so LM implies SCE too. */
uint64_t efer_valid_bits(const struct cr_features *f)
{
	uint64_t v = 0;
	if (has(f, X1_EDX, 11) || has(f, X1_EDX, 29))
		v |= EFER_SCE;
	if (has(f, X1_EDX, 29))
		v |= EFER_LME | EFER_LMA;
	if (has(f, X1_EDX, 20))
		v |= EFER_NXE;
	if (has(f, X1_ECX, 2))
		v |= EFER_SVME;
	if (has(f, X1_EDX, 25))
		v |= EFER_FFXSR;
	if (has(f, X1_ECX, 17))
		v |= EFER_TCE;
	return v;
}

const char *cr0_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			    uint64_t *load)
{
	(void)f;
	bool pg_on = (val & CR0_PG) && !(s->cr0 & CR0_PG);
	bool pg_off = !(val & CR0_PG) && (s->cr0 & CR0_PG);

	if (val >> 32)
		return "CR0 bits 63:32 are reserved";
	if ((val & CR0_PG) && !(val & CR0_PE))
		return "CR0.PG set without CR0.PE";
	if ((val & CR0_NW) && !(val & CR0_CD))
		return "CR0.NW set without CR0.CD";
	/* SDM vol 3, 10.8.5 and table 4-1: long mode needs PAE, and 32-bit code to start in */
	if (pg_on && (s->efer & EFER_LME) && !(s->cr4 & CR4_PAE))
		return "CR0.PG set with EFER.LME but without CR4.PAE";
	if (pg_on && (s->efer & EFER_LME) && s->cs_l)
		return "CR0.PG set with EFER.LME while CS.L is set";
	/* SDM vol 2, MOV CR, 64-bit mode exceptions: long mode is left from compatibility mode */
	if (pg_off && (s->efer & EFER_LMA) && s->cs_l)
		return "CR0.PG cleared in 64-bit mode";
	/* SDM vol 3, 4.10.1: paging cannot be turned off while PCIDs are enabled */
	if (pg_off && (s->cr4 & CR4_PCIDE))
		return "CR0.PG cleared with CR4.PCIDE set";
	/* SDM vol 1, 17.2 (CET): shadow stacks rely on write protection */
	if (!(val & CR0_WP) && (s->cr4 & CR4_CET))
		return "CR0.WP cleared with CR4.CET set";
	/* reserved bits 31:0 are ignored; ET is hardwired to 1 since the P6 and on every AMD64 CPU
	 * (SDM vol 3, 2.5; APM vol 2, 3.1.1) */
	*load = (val & CR0_DEFINED) | CR0_ET;
	return NULL;
}

const char *cr4_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			    uint64_t *load)
{
	if (val & ~cr4_valid_bits(f))
		return "CR4 reserved bit, or a feature CPUID does not offer";
	if ((s->efer & EFER_LMA) && !(val & CR4_PAE))
		return "CR4.PAE cleared in long mode";
	/* LA57 selects the paging structures: fixed while long mode is active (SDM vol 3, 4.1.1) */
	if ((s->efer & EFER_LMA) && ((val ^ s->cr4) & CR4_LA57))
		return "CR4.LA57 changed in long mode";
	/* PCIDs exist only in IA-32e mode and start from PCID 0 (SDM vol 2, MOV CR; vol 3, 4.10.1) */
	if ((val & CR4_PCIDE) && !(s->efer & EFER_LMA))
		return "CR4.PCIDE set outside long mode";
	if ((val & CR4_PCIDE) && !(s->cr4 & CR4_PCIDE) && (s->cr3 & 0xfff))
		return "CR4.PCIDE set while CR3[11:0] is not 0";
	if ((val & CR4_CET) && !(s->cr0 & CR0_WP))
		return "CR4.CET set without CR0.WP";
	*load = val;
	return NULL;
}

const char *efer_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			     uint64_t *load)
{
	if (val & ~efer_valid_bits(f))
		return "EFER reserved bit, or a feature CPUID does not offer";
	/* SDM vol 3, 4.1.2 and APM vol 2, 14.6: LME changes only while paging is off */
	if (((val ^ s->efer) & EFER_LME) && (s->cr0 & CR0_PG))
		return "EFER.LME changed while CR0.PG is set";
	*load = (val & ~EFER_LMA) | (s->efer & EFER_LMA);
	return NULL;
}

uint64_t efer_after_cr0(uint64_t efer, uint64_t new_cr0)
{
	if (!(new_cr0 & CR0_PG))
		return efer & ~EFER_LMA;
	return (efer & EFER_LME) ? efer | EFER_LMA : efer;
}
