/* Stage-2 faults: an access to the MMIO hole or beyond RAM is fetched, decoded, checked against
 * the faulting page and emulated against the platform's MMIO bus. */
#include "core/exit.h"

#include "arch/x86/emul/emulate.h"
#include "core/virt.h"
#include "core/vm_balloon.h"
#include "lib/kstring.h"
#include "mm/phys.h"
#include "vdev/platform.h"

/* An operand that crosses from one linear page into the next reaches two guest-physical pages
 * that need not be neighbours, one of them RAM and the other not: the first `first` bytes go to
 * gpa[0], the rest to gpa[1] (split is 0 for an operand within one page). */
struct mmio_ctx {
	struct vcpu *v;
	unsigned split;
	uint64_t gpa[2];
};

/* len bytes at gpa, all in one page: RAM through the bounds-checked accessor, anything else to
 * the platform one byte at a time (a device register cut by a page boundary has no meaning; an
 * unclaimed page reads all ones and drops writes, CONVENTIONS.md). */
static int access_piece(struct vcpu *v, uint64_t gpa, unsigned len, bool write, uint8_t *buf)
{
	if (gmem_is_ram(&v->vm->mem, gpa))
		return write ? gmem_write(&v->vm->mem, gpa, buf, len)
			     : gmem_read(&v->vm->mem, gpa, buf, len);
	for (unsigned i = 0; i < len; i++) {
		uint64_t b = buf[i];
		if (vm_platform_mmio(v, gpa + i, 1, write, &b) < 0)
			return -1;
		buf[i] = (uint8_t)b;
	}
	return 0;
}

static int access_split(struct mmio_ctx *c, unsigned size, bool write, uint64_t *val)
{
	uint8_t buf[8];
	memcpy(buf, val, sizeof(buf));
	if (access_piece(c->v, c->gpa[0], c->split, write, buf) ||
	    access_piece(c->v, c->gpa[1], size - c->split, write, buf + c->split))
		return -1;
	if (!write) {
		*val = 0;
		memcpy(val, buf, size);
	}
	return 0;
}

/* A stop request (PLATFORM_STOP) is not an error here: the loop sees vm->stop_reason. */
static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct mmio_ctx *c = ctx;
	if (c->split && size > c->split)
		return access_split(c, size, false, val);
	return vm_platform_mmio(c->v, gpa, size, false, val) < 0 ? -1 : 0;
}

static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct mmio_ctx *c = ctx;
	if (c->split && size > c->split)
		return access_split(c, size, true, &val);
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

	/* a page of the VM's RAM in its balloon: a fresh zeroed page (core/balloon_mem.h) */
	if (gmem_find(&vm->mem, e->npf.gpa) && !gmem_is_ram(&vm->mem, e->npf.gpa)) {
		enum balloon_rc rc = vm_balloon_refault(vm, e->npf.gpa);
		if (rc == BALLOON_OK || rc == BALLOON_SAME)
			return EXIT_RESUME;
		if (rc == BALLOON_FAIL)
			return vm_crash(v, e,
					"keel has no free memory for the page at %llx it took back "
					"from its balloon",
					(unsigned long long)e->npf.gpa);
	}
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
	struct mmio_ctx c = { v, 0, { e->npf.gpa, 0 } };
	if (insn.op != X86_OP_MOVS && insn.has_mem) {
		uint64_t mla = x86_mem_linear(&insn, &insn.mem, &v->regs,
					      seg_base(&s, (enum x86_seg)insn.mem.seg, mode));
		uint64_t gpa;
		uint32_t pf2;
		int w = guest_walk(&vm->mem, &ps, mla, 0, &gpa, &pf2);
		/* Re-running this would fault the same way forever: the CPU's own walk read a
		 * paging structure outside RAM (keel has no page-table entries to give it from a
		 * device). It stops the VM. */
		if (w == -GW_ENOTRAM)
			return vm_crash(v, e,
					"page table outside RAM on the way to %llx (fault at %llx)",
					(unsigned long long)mla, (unsigned long long)e->npf.gpa);
		if (w)
			return EXIT_RESUME;
		unsigned first = PAGE_SIZE - (unsigned)(mla & (PAGE_SIZE - 1));
		if (first < insn.mem_size) {
			/* the operand's second page: both must be mapped, one of them the faulting
			 * page; each part then goes where its page is (RAM or not) */
			uint64_t gpa2;
			if (guest_walk(&vm->mem, &ps, mla + first, 0, &gpa2, &pf2))
				return EXIT_RESUME;
			if ((gpa >> 12) != (e->npf.gpa >> 12) && (gpa2 >> 12) != (e->npf.gpa >> 12))
				return EXIT_RESUME;
			c.split = first;
			c.gpa[1] = gpa2;
		} else if ((gpa >> 12) != (e->npf.gpa >> 12)) {
			return EXIT_RESUME;
		}
		c.gpa[0] = gpa;
	}
	static const struct emul_mem_ops ops = { mmio_read, mmio_write, NULL, NULL };
	r = x86_emulate_mmio(&insn, &v->regs, c.gpa[0], &ops, &c);
	if (r)
		return vm_crash(v, e, "MMIO emulation at %llx failed (%d)",
				(unsigned long long)e->npf.gpa, r);
	return EXIT_RESUME;
}
