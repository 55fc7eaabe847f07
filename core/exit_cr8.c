/* MOV to CR8, the guest's task priority (SDM vol 3A, 11.8.6; AMD APM vol 2, 16.6.4): CR8 is a
 * view of the virtual local APIC's TPR[7:4]. VT-x exits on every such write; AMD-V only while an
 * interrupt waits behind the TPR or for an interrupt window (a lowered TPR must let it in at once;
 * other writes only change V_TPR, which core reads back after each exit). */
#include "core/exit.h"

#include "core/virt.h"
#include "vdev/platform.h"

enum exit_result handle_cr8_write(struct vcpu *v, const struct vm_exit *e)
{
	unsigned gpr, len = e->insn_len;
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	enum x86_cpu_mode mode = cpu_mode(&s);

	if (e->cr8.gpr >= 0) {
		gpr = (unsigned)e->cr8.gpr;
	} else {
		/* AMD-V without DecodeAssists names no register: read the instruction */
		uint8_t bytes[X86_MAX_INSN_LEN];
		unsigned n;
		uint64_t la;
		enum exit_result res;
		int r = fetch_insn_at_rip(v, &s, bytes, &n, &la, &res);
		if (r < 0)
			return res;
		if (r || x86_decode_mov_to_cr8(bytes, n, mode, &gpr, &len))
			return vm_crash(v, e, "CR8-write exit at %llx without a MOV to CR8 there",
					(unsigned long long)la);
	}
	uint64_t val = v->regs.gpr[gpr];
	if (mode != X86_MODE_LONG64)
		val = (uint32_t)val; /* AMD's LOCK MOV CR0 form outside 64-bit mode */
	/* bits 63:4 are reserved: #GP(0), CR8 unchanged (SDM vol 2, MOV to CR8) */
	if (val >> 4)
		return inject_exception(v, EXC_GP, true, 0);
	vm_lock(v->vm);
	vlapic_set_cr8(&v->vm->platform->lapic[v->id], (uint8_t)val);
	vm_unlock(v->vm);
	v->cr8 = (uint8_t)val;
	virt->set_cr8(v, v->cr8);
	v->regs.rip += len;
	/* vcpu_ready delivers what the lower priority now lets in */
	return EXIT_RESUME;
}
