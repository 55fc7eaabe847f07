/* MOV to DR7 on a backend that intercepts it: AMD-V under QEMU's TCG, whose breakpoints follow
 * DR7 only when a MOV writes it (arch/x86/svm/tcg_dr7.h says why and what keel does about it).
 * The CPU has raised #UD and the CPL's #GP before the intercept (AMD APM vol 2, 15.7.1
 * "Instruction Intercepts"); keel checks the value as MOV DR does and loads it (virt->set_dr7). */
#include "core/exit.h"

#include "arch/x86/debugreg.h"
#include "core/virt.h"

enum exit_result handle_dr7_write(struct vcpu *v, const struct vm_exit *e)
{
	unsigned dr = 7, gpr, len = e->insn_len;
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	enum x86_cpu_mode mode = cpu_mode(&s);

	if (!virt->set_dr7)
		return vm_crash(v, e, "DR7-write exit on a backend that cannot load DR7");
	if (e->dr7.gpr >= 0) {
		gpr = (unsigned)e->dr7.gpr;
	} else {
		/* AMD-V without DecodeAssists names no register: read the instruction */
		uint8_t bytes[X86_MAX_INSN_LEN];
		unsigned n;
		uint64_t la;
		enum exit_result res;
		int r = fetch_insn_at_rip(v, &s, bytes, &n, &la, &res);
		if (r < 0)
			return res;
		if (r || x86_decode_mov_to_dr(bytes, n, mode, &dr, &gpr, &len) || dr != 7)
			return vm_crash(v, e, "DR7-write exit at %llx without a MOV to DR7 there",
					(unsigned long long)la);
	}
	/* outside 64-bit mode the operand is 32 bits (SDM vol 2, MOV DRn) */
	uint64_t val = mode == X86_MODE_LONG64 ? v->regs.gpr[gpr] : (uint32_t)v->regs.gpr[gpr];
	uint64_t dr7;
	if (!dr7_from_write(val, &dr7))
		return inject_exception(v, EXC_GP, true, 0);
	virt->set_dr7(v, dr7);
	v->regs.rip += len;
	return EXIT_RESUME;
}
