/* MOV to CR0/CR4, CLTS and LMSW on backends whose CPU would take them without keel's checks
 * (AMD-V: QEMU's SVM stores bits real hardware refuses, and no CPU knows which features the
 * guest's CPUID hides): the write is checked by core/cr_policy.c and gets #GP where a CPU that
 * offers what the guest's CPUID offers would raise it, or is carried out by the backend
 * (virt->set_cr). VT-x makes the same checks in its own CR exit (arch/x86/vmx/vmx.c). */
#include "core/exit.h"

#include "arch/x86/cpu.h"
#include "arch/x86/emul/emulate.h"
#include "core/gmem.h"
#include "core/cr_policy.h"
#include "core/virt.h"

/* The instruction at CS:RIP, when the exit did not name its register. <0: the exit is over
 * (an exception was injected or the VM stopped), with *res set. */
static int fetch_cr_insn(struct vcpu *v, const struct vm_exit *e, const struct vcpu_sregs *s,
			 struct x86_insn *in, enum x86_cr_write *kind, unsigned *cr,
			 enum exit_result *res)
{
	enum x86_cpu_mode mode = cpu_mode(s);
	uint8_t bytes[X86_MAX_INSN_LEN];
	unsigned n;
	uint64_t la;
	int r = fetch_insn_at_rip(v, s, bytes, &n, &la, res);
	if (r < 0)
		return -1;
	if (!r)
		r = x86_decode_cr_write(bytes, n, mode, in, kind, cr);
	if (r == -X86_EINVALID) {
		*res = inject_exception(v, EXC_UD, false, 0);
		return -1;
	}
	if (r || (*kind == X86_CRW_MOV && *cr != e->cr_write.cr) ||
	    (*kind != X86_CRW_MOV && e->cr_write.cr != 0)) {
		*res = vm_crash(v, e, "CR%u-write exit at %llx without a write of CR%u there",
				e->cr_write.cr, (unsigned long long)la, e->cr_write.cr);
		return -1;
	}
	return 0;
}

/* LMSW's 16-bit memory operand (a data read at the guest's CPL). */
static int read_lmsw_operand(struct vcpu *v, const struct vm_exit *e, const struct vcpu_sregs *s,
			     const struct x86_insn *in, uint16_t *val, enum exit_result *res)
{
	enum x86_cpu_mode mode = cpu_mode(s);
	struct paging_state ps = paging_of(s);
	uint64_t la = x86_mem_linear(in, &in->mem, &v->regs, seg_base(s, in->mem.seg, mode));
	uint8_t b[2];
	for (unsigned i = 0; i < 2; i++) {
		uint64_t gpa, at = la + i;
		uint32_t pfec = 0;
		int r = guest_walk(&v->vm->mem, &ps, at, cpl_of(s) == 3 ? GW_USER : 0, &gpa, &pfec);
		if (r == -GW_EFAULT) {
			*res = inject_page_fault(v, at, pfec);
			return -1;
		}
		if (r == -GW_ENONCANONICAL) {
			*res = inject_exception(v, EXC_GP, true, 0);
			return -1;
		}
		if (r || gmem_read(&v->vm->mem, gpa, &b[i], 1)) {
			*res = vm_crash(v, e, "LMSW operand at %llx is not in guest RAM",
					(unsigned long long)at);
			return -1;
		}
	}
	*val = (uint16_t)(b[0] | b[1] << 8);
	return 0;
}

enum exit_result handle_cr_write(struct vcpu *v, const struct vm_exit *e)
{
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	enum x86_cpu_mode mode = cpu_mode(&s);
	enum x86_cr_write kind = X86_CRW_MOV;
	unsigned cr = e->cr_write.cr, len = e->insn_len;
	uint64_t src = 0;
	enum exit_result res;

	if (e->cr_write.gpr >= 0 && len) {
		src = v->regs.gpr[e->cr_write.gpr];
	} else {
		struct x86_insn in;
		if (fetch_cr_insn(v, e, &s, &in, &kind, &cr, &res))
			return res;
		len = in.len;
		if (kind == X86_CRW_MOV || (kind == X86_CRW_LMSW && !in.has_mem)) {
			src = v->regs.gpr[in.rm_reg];
		} else if (kind == X86_CRW_LMSW) {
			uint16_t w;
			if (read_lmsw_operand(v, e, &s, &in, &w, &res))
				return res;
			src = w;
		}
	}
	/* privilege comes before the intercept on a real CPU (AMD APM vol 2, 15.7.1); checked
	 * again here, as for RDPMC */
	if ((s.cr0 & CR0_PE) && cpl_of(&s)) /* real mode is CPL 0 whatever SS says */
		return inject_exception(v, EXC_GP, true, 0);

	uint64_t cur = cr == 0 ? s.cr0 : s.cr4, val;
	switch (kind) {
	case X86_CRW_CLTS:
		val = cur & ~CR0_TS;
		break;
	case X86_CRW_LMSW:
		/* PE, MP, EM, TS from the operand; PE can be set but not cleared (SDM vol 2, LMSW) */
		val = (cur & ~0xfull) | (src & 0xf) | (cur & CR0_PE);
		break;
	default:
		/* outside 64-bit mode the source is 32 bits (SDM vol 2, MOV CRn) */
		val = mode == X86_MODE_LONG64 ? src : (uint32_t)src;
		break;
	}

	struct cr_features f;
	struct cr_state st = { .cr0 = s.cr0,
			       .cr3 = s.cr3,
			       .cr4 = s.cr4,
			       .efer = s.efer,
			       .cs_l = (s.cs.attr & SEG_ATTR_L) != 0 };
	uint64_t load;
	guest_cr_features(v, &f);
	const char *why = cr == 0   ? cr0_write_check(&f, &st, val, &load)
			  : cr == 4 ? cr4_write_check(&f, &st, val, &load)
				    : "not CR0 or CR4";
	if (why)
		return inject_exception(v, EXC_GP, true, 0);
	virt->set_cr(v, cr, load);
	v->regs.rip += len;
	return EXIT_RESUME;
}
