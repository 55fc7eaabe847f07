/* Stage-2 faults: an access to the MMIO hole or beyond RAM is fetched, decoded, checked against
 * the faulting page and emulated against the platform's MMIO bus. */
#include "core/exit.h"

#include "arch/x86/emul/emulate.h"
#include "core/virt.h"
#include "lib/kstring.h"
#include "vdev/platform.h"

struct mmio_ctx {
	struct vcpu *v;
	const struct vcpu_sregs *s;
	enum x86_cpu_mode mode;
};

/* A stop request (PLATFORM_STOP) is not an error here: the loop sees vm->stop_reason. */
static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct mmio_ctx *c = ctx;
	return vm_platform_mmio(c->v, gpa, size, false, val) < 0 ? -1 : 0;
}

static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct mmio_ctx *c = ctx;
	return vm_platform_mmio(c->v, gpa, size, true, &val) < 0 ? -1 : 0;
}

enum exit_result handle_npf(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;
	struct vcpu_sregs s;
	uint8_t bytes[X86_MAX_INSN_LEN];
	unsigned n = 0;
	uint32_t pfec = 0;
	struct x86_insn insn;

	if (gmem_is_ram(&vm->mem, e->npf.gpa))
		return vm_crash(v, e, "stage-2 fault on guest RAM at %llx",
				(unsigned long long)e->npf.gpa);
	if (e->npf.fetch)
		return vm_crash(v, e, "instruction fetch from MMIO at %llx",
				(unsigned long long)e->npf.gpa);
	virt->vcpu_get_sregs(v, &s);
	enum x86_cpu_mode mode = cpu_mode(&s);
	struct paging_state ps = paging_of(&s);
	uint64_t rip = mode == X86_MODE_LONG64 ? v->regs.rip : (uint32_t)v->regs.rip;
	uint64_t la = seg_base(&s, X86_SEG_CS, mode) + rip;
	unsigned access = GW_EXEC | (cpl_of(&s) == 3 ? GW_USER : 0);
	/* the bytes the CPU fetched (DecodeAssists), when they hold the whole instruction */
	int r = -1;
	if (e->nr_insn_bytes && x86_decode(e->insn_bytes, e->nr_insn_bytes, mode, &insn) == 0) {
		n = e->nr_insn_bytes;
		memcpy(bytes, e->insn_bytes, n);
		r = 0;
	}
	if (r)
		r = guest_fetch_insn(&vm->mem, &ps, la, access, bytes, sizeof(bytes), &n, &pfec);
	if (r == -GW_EFAULT)
		/* the code page went away under us: let the guest take the fault */
		return inject_page_fault(v, la, pfec);
	if (r)
		return vm_crash(v, e, "cannot fetch the instruction at %llx touching MMIO %llx",
				(unsigned long long)la, (unsigned long long)e->npf.gpa);
	r = x86_decode(bytes, n, mode, &insn);
	if (r == -X86_ETRUNC && n < sizeof(bytes)) {
		/* the instruction runs onto a page the guest cannot fetch: that page faults */
		uint64_t gpa;
		if (guest_walk(&vm->mem, &ps, la + n, access, &gpa, &pfec) == -GW_EFAULT)
			return inject_page_fault(v, la + n, pfec);
	}
	if (r)
		return vm_crash(v, e,
				"MMIO access at %llx by an instruction keel does not emulate "
				"(%02x %02x %02x %02x, decode error %d)",
				(unsigned long long)e->npf.gpa, bytes[0], n > 1 ? bytes[1] : 0,
				n > 2 ? bytes[2] : 0, n > 3 ? bytes[3] : 0, -r);
	/* The instruction must really touch the faulting page: a guest that rewrote its code
	 * between the fault and our fetch gets its instruction re-executed, not mis-emulated. */
	if (insn.op != X86_OP_MOVS && insn.has_mem) {
		uint64_t mla = x86_mem_linear(&insn, &insn.mem, &v->regs,
					      seg_base(&s, (enum x86_seg)insn.mem.seg, mode));
		uint64_t gpa;
		uint32_t pf2;
		int w = guest_walk(&vm->mem, &ps, mla, 0, &gpa, &pf2);
		/* Re-running these would fault the same way forever: the CPU's own walk read a
		 * paging structure outside RAM (keel has no page-table entries to give it from a
		 * device), or the operand runs from RAM into the faulting page (keel emulates
		 * one page at a time). Both stop the VM. */
		if (w == -GW_ENOTRAM)
			return vm_crash(v, e,
					"page table outside RAM on the way to %llx (fault at %llx)",
					(unsigned long long)mla, (unsigned long long)e->npf.gpa);
		if (!w && (gpa >> 12) != (e->npf.gpa >> 12) &&
		    ((mla + insn.mem_size - 1) >> 12) != (mla >> 12))
			return vm_crash(v, e,
					"MMIO access at %llx crossing a page boundary into %llx",
					(unsigned long long)mla, (unsigned long long)e->npf.gpa);
		if (w || (gpa >> 12) != (e->npf.gpa >> 12))
			return EXIT_RESUME;
	}
	struct mmio_ctx c = { v, &s, mode };
	static const struct emul_mem_ops ops = { mmio_read, mmio_write, NULL, NULL };
	r = x86_emulate_mmio(&insn, &v->regs, e->npf.gpa, &ops, &c);
	if (r)
		return vm_crash(v, e, "MMIO emulation at %llx failed (%d)",
				(unsigned long long)e->npf.gpa, r);
	return EXIT_RESUME;
}
