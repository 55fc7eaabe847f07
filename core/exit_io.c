/* Port I/O exits, single and string (INS/OUTS element by element through the guest's page
 * tables), to the platform's I/O bus. */
#include "core/exit.h"

#include "arch/x86/time.h"
#include "core/virt.h"
#include "lib/kstring.h"
#include "vdev/platform.h"

/* The most elements of one REP INS/OUTS moved in one exit: the rest waits for the CPU to
 * re-execute the instruction (RIP stays on it), after whatever the scheduler does meanwhile. */
#define STRING_IO_MAX_ELEMS 4096
/* How many elements between two looks at the clock. */
#define STRING_IO_CLOCK_EVERY 32

static uint64_t size_mask(unsigned size)
{
	return size >= 8 ? ~0ull : (1ull << (8 * size)) - 1;
}

static enum exit_result io_string(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	enum x86_cpu_mode mode = cpu_mode(&s);
	struct paging_state ps = paging_of(&s);

	/* The address size and OUTS' segment come from the prefixes: neither exit reports them
	 * reliably (SVM's EXITINFO1 size bits read 0 under QEMU TCG), so keel reads them itself. */
	uint8_t bytes[X86_MAX_INSN_LEN];
	unsigned n = 0, asz = 0;
	uint32_t pfec = 0;
	enum x86_seg src_seg;
	uint64_t rip = mode == X86_MODE_LONG64 ? v->regs.rip : (uint32_t)v->regs.rip;
	uint64_t cs_la = seg_base(&s, X86_SEG_CS, mode) + rip;
	int fr = guest_fetch_insn(&vm->mem, &ps, cs_la, GW_EXEC | (cpl_of(&s) == 3 ? GW_USER : 0),
				  bytes, sizeof(bytes), &n, &pfec);
	if (fr == -GW_EFAULT)
		return inject_page_fault(v, cs_la, pfec);
	if (fr || x86_decode_string_io(bytes, n, mode, &asz, &src_seg))
		return vm_crash(v, e, "string I/O exit on port %x at %llx without INS/OUTS there",
				e->io.port, (unsigned long long)cs_la);
	uint64_t amask = size_mask(asz);
	int step = (v->regs.rflags & (1ull << 10)) ? -(int)e->io.size : (int)e->io.size;
	uint64_t count = e->io.rep ? v->regs.gpr[GPR_RCX] & amask : 1;
	/* INS writes ES:rDI (no override); OUTS reads seg:rSI */
	unsigned idx = e->io.in ? GPR_RDI : GPR_RSI;
	uint64_t base = seg_base(&s, e->io.in ? X86_SEG_ES : src_seg, mode);
	unsigned access = (e->io.in ? GW_WRITE : 0) | (cpl_of(&s) == 3 ? GW_USER : 0);

	/* A bounded part per exit, and none past the vCPU's slice: one string instruction must not
	 * keep the CPU from its other vCPUs. The first element always moves, so it progresses. */
	for (unsigned i = 0; count && i < STRING_IO_MAX_ELEMS; i++, count--) {
		if (i && i % STRING_IO_CLOCK_EVERY == 0 && time_now_ns() >= v->slice_end_ns)
			break;
		uint64_t off = v->regs.gpr[idx] & amask;
		uint64_t la = base + off, gpa, gpa2 = 0;
		if (mode != X86_MODE_LONG64)
			la &= 0xffffffffull;
		/* An element across a page boundary lives in two pages, which need not be
		 * neighbours in guest-physical memory or present at all: both are walked before a
		 * byte moves, so a fault on the second leaves the first untouched, as on the CPU. */
		unsigned n1 = MIN(e->io.size, 0x1000u - (unsigned)(la & 0xfff));
		unsigned n2 = e->io.size - n1;
		uint64_t fault_la = la;
		int r = guest_walk(&vm->mem, &ps, la, access, &gpa, &pfec);
		if (!r && n2) {
			fault_la = la + n1;
			if (mode != X86_MODE_LONG64)
				fault_la &= 0xffffffffull;
			r = guest_walk(&vm->mem, &ps, fault_la, access, &gpa2, &pfec);
		}
		if (r == -GW_EFAULT) {
			if (e->io.rep)
				v->regs.gpr[GPR_RCX] = (v->regs.gpr[GPR_RCX] & ~amask) | count;
			return inject_page_fault(v, fault_la, pfec);
		}
		/* n1 and n2 bytes each stay inside one guest page, so inside one host block
		 * (core/gmem.h) */
		uint8_t *p = r ? NULL : gmem_ptr(&vm->mem, gpa, n1);
		uint8_t *p2 = r || !n2 ? NULL : gmem_ptr(&vm->mem, gpa2, n2);
		if (!p || (n2 && !p2))
			return vm_crash(v, e, "string I/O on port %x with a buffer outside RAM",
					e->io.port);
		uint8_t val[4] = { 0, 0, 0, 0 };
		if (e->io.in) {
			uint32_t in = 0;
			vm_platform_io(vm, e->io.port, e->io.size, false, &in);
			memcpy(val, &in, sizeof(val));
			memcpy(p, val, n1);
			if (n2)
				memcpy(p2, val + n1, n2);
		} else {
			uint32_t out = 0;
			memcpy(val, p, n1);
			if (n2)
				memcpy(val + n1, p2, n2);
			memcpy(&out, val, sizeof(out));
			vm_platform_io(vm, e->io.port, e->io.size, true, &out);
		}
		v->regs.gpr[idx] = (v->regs.gpr[idx] & ~amask) | ((off + (uint64_t)step) & amask);
		if (vm->stop_reason != VM_STOP_NONE)
			break;
	}
	if (e->io.rep) {
		v->regs.gpr[GPR_RCX] = (v->regs.gpr[GPR_RCX] & ~amask) | count;
		if (count)
			return EXIT_RESUME; /* RIP stays: the CPU resumes the REP */
	}
	skip_insn(v, e);
	return vm->stop_reason != VM_STOP_NONE ? EXIT_STOP : EXIT_RESUME;
}

enum exit_result handle_io(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;

	if (!e->insn_len)
		return vm_crash(v, e, "I/O exit without an instruction length");
	if (e->io.string)
		return io_string(v, e);
	if (e->io.in) {
		uint32_t val = 0xffffffffu;
		vm_platform_io(vm, e->io.port, e->io.size, false, &val);
		uint64_t m = size_mask(e->io.size);
		/* a 32-bit IN zero-extends into RAX; 8/16-bit ones keep the upper bits */
		if (e->io.size == 4)
			v->regs.gpr[GPR_RAX] = val;
		else
			v->regs.gpr[GPR_RAX] = (v->regs.gpr[GPR_RAX] & ~m) | (val & m);
	} else {
		uint32_t val = (uint32_t)(v->regs.gpr[GPR_RAX] & size_mask(e->io.size));
		vm_platform_io(vm, e->io.port, e->io.size, true, &val);
	}
	skip_insn(v, e);
	return vm->stop_reason != VM_STOP_NONE ? EXIT_STOP : EXIT_RESUME;
}
