/* Helpers of the exit handlers: event injection and the guest mode as decoding needs it. */
#include "core/exit.h"

#include "arch/x86/cpu.h"
#include "core/virt.h"
#include "vdev/platform.h"

void skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
}

enum exit_result inject_exception(struct vcpu *v, uint8_t vector, bool has_error,
				  uint32_t error_code)
{
	/* A real-mode exception pushes no error code (SDM vol 3, "Interrupt and Exception Handling"
	 * of real-address mode, 20.1.4), and VT-x refuses an entry that asks to deliver one with
	 * CR0.PE clear (SDM vol 3, "Checks on VM-Entry Control Fields", 26.2.1.3): a #GP from RDMSR
	 * or XSETBV in real mode must reach the guest, not end its VM. */
	if (has_error && !(virt->get_cr(v, 0) & CR0_PE))
		has_error = false;
	virt->inject_event(v, EVENT_EXCEPTION, vector, has_error, error_code);
	return EXIT_RESUME;
}

int fetch_insn_at_rip(struct vcpu *v, const struct vcpu_sregs *s, uint8_t *bytes, unsigned *n,
		      uint64_t *la, enum exit_result *res)
{
	enum x86_cpu_mode mode = cpu_mode(s);
	struct paging_state ps = paging_of(s);
	uint64_t rip = mode == X86_MODE_LONG64 ? v->regs.rip : (uint32_t)v->regs.rip;
	uint32_t pfec = 0;
	*la = seg_base(s, X86_SEG_CS, mode) + rip;
	*n = 0;
	int r = guest_fetch_insn(&v->vm->mem, &ps, *la, GW_EXEC | (cpl_of(s) == 3 ? GW_USER : 0),
				 bytes, X86_MAX_INSN_LEN, n, &pfec);
	if (r == -GW_EFAULT) {
		*res = inject_page_fault(v, *la, pfec);
		return -1;
	}
	return r ? 1 : 0;
}

enum exit_result inject_page_fault(struct vcpu *v, uint64_t address, uint32_t error_code)
{
	virt->set_cr2(v, address);
	return inject_exception(v, EXC_PF, true, error_code);
}

enum x86_cpu_mode cpu_mode(const struct vcpu_sregs *s)
{
	if (!(s->cr0 & CR0_PE))
		return X86_MODE_REAL;
	if ((s->efer & EFER_LMA) && (s->cs.attr & SEG_ATTR_L))
		return X86_MODE_LONG64;
	return (s->cs.attr & SEG_ATTR_DB) ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

struct paging_state paging_of(const struct vcpu_sregs *s)
{
	return (struct paging_state){ s->cr0, s->cr3, s->cr4, s->efer, 0 };
}

uint64_t seg_base(const struct vcpu_sregs *s, enum x86_seg seg, enum x86_cpu_mode mode)
{
	/* in 64-bit mode only FS and GS have bases (Intel SDM vol 1, 3.4.2.1) */
	switch (seg) {
	case X86_SEG_FS:
		return s->fs.base;
	case X86_SEG_GS:
		return s->gs.base;
	default:
		break;
	}
	if (mode == X86_MODE_LONG64)
		return 0;
	switch (seg) {
	case X86_SEG_ES:
		return s->es.base;
	case X86_SEG_CS:
		return s->cs.base;
	case X86_SEG_SS:
		return s->ss.base;
	default:
		return s->ds.base;
	}
}

unsigned cpl_of(const struct vcpu_sregs *s)
{
	return (s->ss.attr >> 5) & 3;
}

/* The VM's vCPUs share its platform: every access holds the VM's lock. */
int vm_platform_io(struct vm *vm, uint16_t port, unsigned size, bool write, uint32_t *val)
{
	vm_lock(vm);
	int rc = platform_io(vm->platform, port, size, write, val);
	vm_unlock(vm);
	return rc;
}

int vm_platform_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val)
{
	vm_lock(v->vm);
	int rc = platform_mmio(v->vm->platform, v->id, gpa, size, write, val);
	vm_unlock(v->vm);
	return rc;
}

int vm_platform_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *val)
{
	vm_lock(v->vm);
	int rc = write ? platform_msr_write(v->vm->platform, v->id, msr, *val)
		       : platform_msr_read(v->vm->platform, v->id, msr, val);
	vm_unlock(v->vm);
	return rc;
}
