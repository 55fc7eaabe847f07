#include "arch/x86/vmx/guest_state.h"

#include "lib/fmt.h"

#define CR0_PE (1ull << 0)
#define CR0_PG (1ull << 31)
#define CR4_PAE (1ull << 5)
#define CR4_PCIDE (1ull << 17)
#define EFER_LME (1ull << 8)
#define EFER_LMA (1ull << 10)
#define RFLAGS_IF (1ull << 9)
#define RFLAGS_VM (1ull << 17)

#define AR_TYPE(ar) ((ar)&0xf)
#define AR_S(ar) (((ar) >> 4) & 1)
#define AR_DPL(ar) (((ar) >> 5) & 3)
#define AR_P(ar) (((ar) >> 7) & 1)
#define AR_L(ar) (((ar) >> 13) & 1)
#define AR_DB(ar) (((ar) >> 14) & 1)
#define AR_G(ar) (((ar) >> 15) & 1)
#define AR_UNUSABLE(ar) (((ar) >> 16) & 1)
#define AR_RESERVED 0xfffe0f00u /* bits 11:8 and 31:17 */

static const char *const seg_names[VGS_NR_SEGS] = {
	"ES", "CS", "SS", "DS", "FS", "GS", "LDTR", "TR"
};

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* 27.3.1.2: limit bits 11:0 not all ones → G = 0; any of bits 31:20 set → G = 1 */
static bool granularity_ok(uint32_t ar, uint32_t limit)
{
	if ((limit & 0xfff) != 0xfff && AR_G(ar))
		return false;
	if ((limit & 0xfff00000u) && !AR_G(ar))
		return false;
	return true;
}

static const char *seg_check(const struct vmx_guest_state *g, unsigned n, char *buf, size_t size)
{
	uint32_t ar = g->seg[n].ar;
	const char *name = seg_names[n];

	if (AR_UNUSABLE(ar)) {
		if (n == VGS_CS || n == VGS_TR) {
			ksnprintf(buf, size, "%s is unusable (access rights %#x)", name, ar);
			return buf;
		}
		return NULL;
	}
	if (ar & AR_RESERVED) {
		ksnprintf(buf, size, "%s access rights %#x have reserved bits set", name, ar);
		return buf;
	}
	if (!AR_P(ar)) {
		ksnprintf(buf, size, "%s is not present (access rights %#x)", name, ar);
		return buf;
	}
	if (!granularity_ok(ar, g->seg[n].limit)) {
		ksnprintf(buf, size, "%s limit %#x does not match its granularity bit", name,
			  g->seg[n].limit);
		return buf;
	}
	unsigned type = AR_TYPE(ar);
	switch (n) {
	case VGS_TR:
		if (g->seg[n].sel & 4 || AR_S(ar) || (type != 11 && (g->ia32e || type != 3))) {
			ksnprintf(
				buf, size,
				"TR must be a busy TSS (type 11, or 3 outside IA-32e mode), not type "
				"%u, S %u, selector %#x",
				type, AR_S(ar), g->seg[n].sel);
			return buf;
		}
		if (!canonical(g->seg[n].base)) {
			ksnprintf(buf, size, "TR base %#llx is not canonical",
				  (unsigned long long)g->seg[n].base);
			return buf;
		}
		return NULL;
	case VGS_LDTR:
		if (g->seg[n].sel & 4 || AR_S(ar) || type != 2) {
			ksnprintf(buf, size, "LDTR must be an LDT descriptor (type 2), not type %u",
				  type);
			return buf;
		}
		return NULL;
	case VGS_CS: {
		bool code = type == 9 || type == 11 || type == 13 || type == 15;
		if (!AR_S(ar) || !(code || (g->unrestricted && type == 3))) {
			ksnprintf(buf, size,
				  "CS must be an accessed code segment%s, not type %u (S %u)",
				  g->unrestricted ? " (or type 3 with unrestricted guest)" : "",
				  type, AR_S(ar));
			return buf;
		}
		unsigned ss_dpl = AR_DPL(g->seg[VGS_SS].ar);
		if ((type == 3 && AR_DPL(ar) != 0) ||
		    ((type == 9 || type == 11) && AR_DPL(ar) != ss_dpl) ||
		    ((type == 13 || type == 15) && AR_DPL(ar) > ss_dpl)) {
			ksnprintf(buf, size, "CS DPL %u does not fit type %u and SS DPL %u",
				  AR_DPL(ar), type, ss_dpl);
			return buf;
		}
		if (g->ia32e && AR_L(ar) && AR_DB(ar)) {
			ksnprintf(buf, size, "CS has both L and D/B set in IA-32e mode");
			return buf;
		}
		if (g->seg[n].base >> 32) {
			ksnprintf(buf, size, "CS base %#llx above 4 GiB",
				  (unsigned long long)g->seg[n].base);
			return buf;
		}
		return NULL;
	}
	case VGS_SS:
		if (!AR_S(ar) || (type != 3 && type != 7)) {
			ksnprintf(buf, size, "SS must be a writable data segment, not type %u",
				  type);
			return buf;
		}
		if ((!(g->cr0 & CR0_PE) || AR_TYPE(g->seg[VGS_CS].ar) == 3) && AR_DPL(ar) != 0) {
			ksnprintf(buf, size, "SS DPL must be 0 in real mode, not %u", AR_DPL(ar));
			return buf;
		}
		if (!g->unrestricted && AR_DPL(ar) != (g->seg[n].sel & 3u)) {
			ksnprintf(buf, size, "SS DPL %u differs from its selector's RPL %u",
				  AR_DPL(ar), g->seg[n].sel & 3u);
			return buf;
		}
		break;
	default: /* DS, ES, FS, GS */
		if (!AR_S(ar) || !(type & 1) || ((type & 8) && !(type & 2))) {
			ksnprintf(
				buf, size,
				"%s must be an accessed data or readable code segment, not type %u",
				name, type);
			return buf;
		}
		break;
	}
	uint64_t base = g->seg[n].base;
	if ((n == VGS_FS || n == VGS_GS) ? !canonical(base) : (base >> 32) != 0) {
		ksnprintf(buf, size, "%s base %#llx is out of range", name,
			  (unsigned long long)base);
		return buf;
	}
	return NULL;
}

const char *vmx_check_guest_state(const struct vmx_guest_state *g, char *buf, size_t size)
{
	/* 27.3.1.1 control registers, debug register, MSRs */
	uint64_t need0 = g->cr0_fixed0;
	if (g->unrestricted)
		need0 &= ~(CR0_PE | CR0_PG);
	if ((g->cr0 & need0) != need0 || (g->cr0 & ~g->cr0_fixed1)) {
		ksnprintf(buf, size,
			  "CR0 %#llx breaks the fixed bits (must be 1: %#llx, may be 1: %#llx)",
			  (unsigned long long)g->cr0, (unsigned long long)need0,
			  (unsigned long long)g->cr0_fixed1);
		return buf;
	}
	if ((g->cr0 & CR0_PG) && !(g->cr0 & CR0_PE)) {
		ksnprintf(buf, size, "CR0 %#llx has PG without PE", (unsigned long long)g->cr0);
		return buf;
	}
	if ((g->cr4 & g->cr4_fixed0) != g->cr4_fixed0 || (g->cr4 & ~g->cr4_fixed1)) {
		ksnprintf(buf, size,
			  "CR4 %#llx breaks the fixed bits (must be 1: %#llx, may be 1: %#llx)",
			  (unsigned long long)g->cr4, (unsigned long long)g->cr4_fixed0,
			  (unsigned long long)g->cr4_fixed1);
		return buf;
	}
	if (g->ia32e && (!(g->cr0 & CR0_PG) || !(g->cr4 & CR4_PAE))) {
		ksnprintf(buf, size,
			  "IA-32e mode guest without CR0.PG and CR4.PAE (CR0 %#llx CR4 %#llx)",
			  (unsigned long long)g->cr0, (unsigned long long)g->cr4);
		return buf;
	}
	if (!g->ia32e && (g->cr4 & CR4_PCIDE)) {
		ksnprintf(buf, size, "CR4.PCIDE outside IA-32e mode");
		return buf;
	}
	if (g->cr3 >> 52) {
		ksnprintf(buf, size, "CR3 %#llx beyond the physical-address width",
			  (unsigned long long)g->cr3);
		return buf;
	}
	if (g->dr7 >> 32) {
		ksnprintf(buf, size, "DR7 %#llx has bits above 31 set", (unsigned long long)g->dr7);
		return buf;
	}
	if (g->load_efer) {
		bool lma = g->efer & EFER_LMA, lme = g->efer & EFER_LME;
		if ((g->efer & ~0xd01ull) || lma != g->ia32e || ((g->cr0 & CR0_PG) && lma != lme)) {
			ksnprintf(
				buf, size,
				"EFER %#llx does not match the IA-32e mode control (%u) and CR0.PG",
				(unsigned long long)g->efer, g->ia32e);
			return buf;
		}
	}
	/* 27.3.1.2 segment registers */
	for (unsigned n = 0; n < VGS_NR_SEGS; n++) {
		const char *why = seg_check(g, n, buf, size);
		if (why)
			return why;
	}
	/* 27.3.1.3 descriptor-table registers */
	if (!canonical(g->gdtr_base) || !canonical(g->idtr_base) || (g->gdtr_limit >> 16) ||
	    (g->idtr_limit >> 16)) {
		ksnprintf(buf, size, "GDTR/IDTR base not canonical or limit above 0xffff");
		return buf;
	}
	/* 27.3.1.4 RIP and RFLAGS */
	bool long64 = g->ia32e && AR_L(g->seg[VGS_CS].ar);
	if ((!long64 && (g->rip >> 32)) || (long64 && !canonical(g->rip))) {
		ksnprintf(buf, size, "RIP %#llx does not fit the CS mode",
			  (unsigned long long)g->rip);
		return buf;
	}
	if ((g->rflags & 0xffffffffffc08028ull) || !(g->rflags & 2)) {
		ksnprintf(buf, size, "RFLAGS %#llx: reserved bits wrong",
			  (unsigned long long)g->rflags);
		return buf;
	}
	if ((g->rflags & RFLAGS_VM) && (g->ia32e || !(g->cr0 & CR0_PE))) {
		ksnprintf(buf, size, "RFLAGS.VM in IA-32e or real mode");
		return buf;
	}
	/* 27.3.1.5 non-register state */
	if (g->activity > 3) {
		ksnprintf(buf, size, "activity state %u is not defined", g->activity);
		return buf;
	}
	if ((g->interruptibility & ~0x1fu) || (g->interruptibility & 3) == 3 ||
	    (!(g->rflags & RFLAGS_IF) && (g->interruptibility & 1))) {
		ksnprintf(buf, size, "interruptibility state %#x is inconsistent with RFLAGS.IF",
			  g->interruptibility);
		return buf;
	}
	if (g->link_pointer != ~0ull) {
		ksnprintf(buf, size, "VMCS link pointer %#llx is not all ones",
			  (unsigned long long)g->link_pointer);
		return buf;
	}
	return NULL;
}
