#include "core/vcpu_reset.h"

#include "core/virt.h"
#include "lib/kstring.h"

/* real-mode segment attributes in the VMCB layout (core/vcpu_state.h) */
#define ATTR_DATA (SEG_ATTR_TYPE(3) | SEG_ATTR_S | SEG_ATTR_P)	/* read/write, accessed */
#define ATTR_CODE (SEG_ATTR_TYPE(11) | SEG_ATTR_S | SEG_ATTR_P) /* execute/read, accessed */
#define ATTR_TSS (SEG_ATTR_TYPE(11) | SEG_ATTR_P)		/* busy 32-bit TSS */
#define ATTR_LDT (SEG_ATTR_TYPE(2) | SEG_ATTR_P)
#define CR0_RESET 0x60000010ull /* CD, NW, ET */
#define PAT_RESET 0x0007040600070406ull
#define EDX_RESET 0x600 /* a family 6 signature, as a PC's INIT leaves in EDX */

/* The loader describes segments with VMCS-style access rights; core keeps the VMCB layout. */
static struct segment seg_from_loader(const struct guest_seg *g)
{
	return (struct segment){ g->sel, guest_seg_svm_attrib(g), g->limit, g->base };
}

void vcpu_reset_to_boot(struct vcpu *v, const struct guest_boot *b)
{
	struct vcpu_sregs s;

	memset(&s, 0, sizeof(s));
	s.cs = seg_from_loader(&b->cs);
	s.ds = seg_from_loader(&b->ds);
	s.es = seg_from_loader(&b->es);
	s.fs = seg_from_loader(&b->fs);
	s.gs = seg_from_loader(&b->gs);
	s.ss = seg_from_loader(&b->ss);
	s.tr = seg_from_loader(&b->tr);
	s.ldtr = seg_from_loader(&b->ldtr);
	s.gdtr = (struct table_reg){ b->gdt_base, b->gdt_limit };
	s.idtr = (struct table_reg){ 0, 0 };
	s.cr0 = b->cr0;
	s.cr3 = b->cr3;
	s.cr4 = b->cr4;
	s.efer = b->efer;
	virt->vcpu_load_state(v, &s);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.gpr[GPR_RAX] = b->rax;
	v->regs.gpr[GPR_RBX] = b->rbx;
	v->regs.gpr[GPR_RSI] = b->rsi;
	v->regs.gpr[GPR_RSP] = b->rsp;
	v->regs.rip = b->rip;
	v->regs.rflags = b->rflags | RFLAGS_FIXED;
}

/* Real mode with every segment at base 0 (CS as the vector's or the reset vector's) */
static void load_real_mode(struct vcpu *v, uint16_t cs_sel, uint64_t cs_base, uint64_t rip)
{
	struct vcpu_sregs s;
	struct segment data = { 0, ATTR_DATA, 0xffff, 0 };

	memset(&s, 0, sizeof(s));
	s.cs = (struct segment){ cs_sel, ATTR_CODE, 0xffff, cs_base };
	s.ds = s.es = s.fs = s.gs = s.ss = data;
	s.tr = (struct segment){ 0, ATTR_TSS, 0xffff, 0 };
	s.ldtr = (struct segment){ 0, ATTR_LDT, 0xffff, 0 };
	s.gdtr = s.idtr = (struct table_reg){ 0, 0xffff };
	s.cr0 = CR0_RESET;
	s.pat = PAT_RESET;
	virt->vcpu_load_state(v, &s);
	memset(&v->regs, 0, sizeof(v->regs));
	v->regs.gpr[GPR_RDX] = EDX_RESET;
	v->regs.rip = rip;
	v->regs.rflags = RFLAGS_FIXED;
}

void vcpu_reset_to_init(struct vcpu *v)
{
	/* the reset vector: F000:FFF0 with CS base FFFF0000; the vCPU waits for a SIPI first */
	load_real_mode(v, 0xf000, 0xffff0000ull, 0xfff0);
}

void vcpu_reset_to_sipi(struct vcpu *v, uint8_t vector)
{
	load_real_mode(v, (uint16_t)(vector << 8), (uint64_t)vector << 12, 0);
}
