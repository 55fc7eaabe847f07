/* The vCPU loop: inject what the virtual platform has pending, enter the guest, dispatch the exit
 * through exit_handlers[reason]. One vCPU per VM for now; keel idles in HLT whenever the guest
 * does. */
#include "core/vm_run.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/emul/decode.h"
#include "arch/x86/emul/emulate.h"
#include "arch/x86/emul/pagewalk.h"
#include "arch/x86/fpu.h"
#include "arch/x86/time.h"
#include "core/console.h"
#include "core/cpuid_policy.h"
#include "core/guest_layout.h"
#include "core/hv_api.h"
#include "core/kvmclock.h"
#include "core/kmem.h"
#include "core/msr_policy.h"
#include "core/virt.h"
#include "drivers/uart16550.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vdev/acpi_tables.h"
#include "vdev/platform.h"

/* The longest keel lets a vCPU run or sleep without looking at the console and the devices. */
#define POLL_US 10000

static uint64_t vm_now_ns(void *ctx)
{
	struct vm *vm = ctx;
	return time_now_ns() - vm->start_ns;
}

/* The guest TSC counts from 0 at the VM's start at the host TSC's rate (its offset is set so). */
static uint64_t vm_tsc_to_ns(void *ctx, uint64_t tsc)
{
	(void)ctx;
	uint64_t hz = time_tsc_hz();
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

static void vm_request_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	struct vm *vm = ctx;
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->stop_reason = reason;
		vm->exit_code = code;
	}
}

static void vm_uart_tx(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	console_write((const char *)buf, n);
}

enum exit_result vm_crash(struct vcpu *v, const struct vm_exit *e, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	struct vm *vm = v->vm;

	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	klog("vm %s: crashed: %s", vm->name, why);
	klog("  vcpu %u rip %016llx rflags %016llx exit %s (hw %llx info %llx %llx)", v->id,
	     (unsigned long long)v->regs.rip, (unsigned long long)v->regs.rflags,
	     exit_reason_name(e->reason), (unsigned long long)e->hw_code,
	     (unsigned long long)e->hw_info1, (unsigned long long)e->hw_info2);
	static const char *const names[NR_GPRS] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						    "rsi", "rdi", "r8",	 "r9",	"r10", "r11",
						    "r12", "r13", "r14", "r15" };
	for (int i = 0; i < NR_GPRS; i += 4)
		klog("  %-3s %016llx %-3s %016llx %-3s %016llx %-3s %016llx", names[i],
		     (unsigned long long)v->regs.gpr[i], names[i + 1],
		     (unsigned long long)v->regs.gpr[i + 1], names[i + 2],
		     (unsigned long long)v->regs.gpr[i + 2], names[i + 3],
		     (unsigned long long)v->regs.gpr[i + 3]);
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	klog("  cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx", (unsigned long long)s.cr0,
	     (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	     (unsigned long long)s.efer);
	klog("  cs %04x base %llx attr %03x ss %04x attr %03x", s.cs.selector,
	     (unsigned long long)s.cs.base, s.cs.attr, s.ss.selector, s.ss.attr);
	virt->dump(v);
	vm->stop_reason = VM_STOP_CRASH;
	return EXIT_STOP;
}

static void skip_insn(struct vcpu *v, const struct vm_exit *e)
{
	v->regs.rip += e->insn_len;
}

static enum exit_result inject_exception(struct vcpu *v, uint8_t vector, bool has_error,
					 uint32_t error_code)
{
	virt->inject_event(v, EVENT_EXCEPTION, vector, has_error, error_code);
	return EXIT_RESUME;
}

static enum exit_result inject_page_fault(struct vcpu *v, uint64_t address, uint32_t error_code)
{
	virt->set_cr2(v, address);
	return inject_exception(v, 14, true, error_code);
}

#define EXC_UD 6
#define EXC_GP 13

/* ---- guest mode and memory helpers --------------------------------------------------------- */

static enum x86_cpu_mode cpu_mode(const struct vcpu_sregs *s)
{
	if (!(s->cr0 & CR0_PE))
		return X86_MODE_REAL;
	if ((s->efer & EFER_LMA) && (s->cs.attr & SEG_ATTR_L))
		return X86_MODE_LONG64;
	return (s->cs.attr & SEG_ATTR_DB) ? X86_MODE_PROT32 : X86_MODE_PROT16;
}

static struct paging_state paging_of(const struct vcpu_sregs *s)
{
	return (struct paging_state){ s->cr0, s->cr3, s->cr4, s->efer, 0 };
}

static uint64_t seg_base(const struct vcpu_sregs *s, enum x86_seg seg, enum x86_cpu_mode mode)
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

static unsigned cpl_of(const struct vcpu_sregs *s)
{
	return (s->ss.attr >> 5) & 3;
}

/* ---- MMIO ---------------------------------------------------------------------------------- */

struct mmio_ctx {
	struct vcpu *v;
	const struct vcpu_sregs *s;
	enum x86_cpu_mode mode;
};

/* A stop request (PLATFORM_STOP) is not an error here: the loop sees vm->stop_reason. */
static int mmio_read(void *ctx, uint64_t gpa, unsigned size, uint64_t *val)
{
	struct mmio_ctx *c = ctx;
	return platform_mmio(c->v->vm->platform, c->v->id, gpa, size, false, val) < 0 ? -1 : 0;
}

static int mmio_write(void *ctx, uint64_t gpa, unsigned size, uint64_t val)
{
	struct mmio_ctx *c = ctx;
	return platform_mmio(c->v->vm->platform, c->v->id, gpa, size, true, &val) < 0 ? -1 : 0;
}

static enum exit_result handle_npf(struct vcpu *v, const struct vm_exit *e)
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

/* ---- port I/O ------------------------------------------------------------------------------ */

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
	unsigned asz = mode == X86_MODE_LONG64 ? 8 : mode == X86_MODE_PROT32 ? 4 : 2;
	uint64_t amask = size_mask(asz);
	int step = (v->regs.rflags & (1ull << 10)) ? -(int)e->io.size : (int)e->io.size;
	uint64_t count = e->io.rep ? v->regs.gpr[GPR_RCX] & amask : 1;
	/* INS writes ES:rDI; OUTS reads DS:rSI (segment overrides are not honoured) */
	unsigned idx = e->io.in ? GPR_RDI : GPR_RSI;
	uint64_t base = seg_base(&s, e->io.in ? X86_SEG_ES : X86_SEG_DS, mode);
	unsigned access = (e->io.in ? GW_WRITE : 0) | (cpl_of(&s) == 3 ? GW_USER : 0);

	/* at most a page of iterations per exit: the guest re-executes the rest */
	for (unsigned i = 0; count && i < 4096; i++, count--) {
		uint64_t off = v->regs.gpr[idx] & amask;
		uint64_t la = base + off, gpa, gpa2 = 0;
		uint32_t pfec;
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
		uint8_t *p = r ? NULL : gmem_ptr(&vm->mem, gpa, n1);
		uint8_t *p2 = r || !n2 ? NULL : gmem_ptr(&vm->mem, gpa2, n2);
		if (!p || (n2 && !p2))
			return vm_crash(v, e, "string I/O on port %x with a buffer outside RAM",
					e->io.port);
		uint8_t val[4] = { 0, 0, 0, 0 };
		if (e->io.in) {
			uint32_t in = 0;
			platform_io(vm->platform, e->io.port, e->io.size, false, &in);
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
			platform_io(vm->platform, e->io.port, e->io.size, true, &out);
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

static enum exit_result handle_io(struct vcpu *v, const struct vm_exit *e)
{
	struct vm *vm = v->vm;

	if (!e->insn_len)
		return vm_crash(v, e, "I/O exit without an instruction length");
	if (e->io.string)
		return io_string(v, e);
	if (e->io.in) {
		uint32_t val = 0xffffffffu;
		platform_io(vm->platform, e->io.port, e->io.size, false, &val);
		uint64_t m = size_mask(e->io.size);
		/* a 32-bit IN zero-extends into RAX; 8/16-bit ones keep the upper bits */
		if (e->io.size == 4)
			v->regs.gpr[GPR_RAX] = val;
		else
			v->regs.gpr[GPR_RAX] = (v->regs.gpr[GPR_RAX] & ~m) | (val & m);
	} else {
		uint32_t val = (uint32_t)(v->regs.gpr[GPR_RAX] & size_mask(e->io.size));
		platform_io(vm->platform, e->io.port, e->io.size, true, &val);
	}
	skip_insn(v, e);
	return vm->stop_reason != VM_STOP_NONE ? EXIT_STOP : EXIT_RESUME;
}

/* ---- CPUID, MSRs, XSETBV ------------------------------------------------------------------- */

static void host_cpuid(uint32_t leaf, uint32_t subleaf, struct cpuid_result *r)
{
	struct cpuid_regs c = cpuid(leaf, subleaf);
	*r = (struct cpuid_result){ c.eax, c.ebx, c.ecx, c.edx };
}

static void guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_result *r)
{
	struct cpuid_env env = {
		.host = host_cpuid,
		.vcpu_id = v->id,
		.nr_vcpus = v->vm->nr_vcpus,
		.guest_osxsave = (virt->get_cr(v, 4) & CR4_OSXSAVE) != 0,
		.tsc_khz = (uint32_t)(time_tsc_hz() / 1000),
		.apic_khz = VLAPIC_TIMER_KHZ,
	};
	cpuid_policy(leaf, subleaf, &env, r);
}

static enum exit_result handle_cpuid(struct vcpu *v, const struct vm_exit *e)
{
	struct cpuid_result r;
	guest_cpuid(v, (uint32_t)v->regs.gpr[GPR_RAX], (uint32_t)v->regs.gpr[GPR_RCX], &r);
	v->regs.gpr[GPR_RAX] = r.eax;
	v->regs.gpr[GPR_RBX] = r.ebx;
	v->regs.gpr[GPR_RCX] = r.ecx;
	v->regs.gpr[GPR_RDX] = r.edx;
	skip_insn(v, e);
	return EXIT_RESUME;
}

static void log_msr_once(struct vcpu *v, uint32_t msr, bool write, uint64_t val)
{
	struct vm *vm = v->vm;
	for (unsigned i = 0; i < vm->nr_msr_logged; i++)
		if (vm->msr_logged[i] == msr)
			return;
	if (vm->nr_msr_logged < ARRAY_SIZE(vm->msr_logged))
		vm->msr_logged[vm->nr_msr_logged++] = msr;
	else
		return;
	if (write)
		klog("vm %s: wrmsr %#x = %#llx: not offered, #GP", vm->name, msr,
		     (unsigned long long)val);
	else
		klog("vm %s: rdmsr %#x: not offered, #GP", vm->name, msr);
}

static enum exit_result handle_msr(struct vcpu *v, const struct vm_exit *e)
{
	bool write = e->reason == EXIT_MSR_WRITE;
	uint32_t msr = e->msr.index;
	uint64_t val = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
	bool ok = true;

	switch (msr_policy_lookup(msr)) {
	case MSR_ACT_EFER: {
		struct cpuid_regs x = cpuid(0x80000001, 0);
		if (!write) {
			val = virt->get_efer(v);
		} else if (!efer_write_ok(val, x.edx & (1u << 20), x.edx & (1u << 25))) {
			ok = false;
		} else {
			/* LMA is the CPU's to set; keep the current value (AMD APM vol 2, 14.6) */
			uint64_t cur = virt->get_efer(v);
			virt->set_efer(v, (val & ~EFER_LMA) | (cur & EFER_LMA));
		}
		break;
	}
	case MSR_ACT_PAT:
		if (!write)
			val = virt->get_pat(v);
		else if (pat_write_ok(val))
			virt->set_pat(v, val);
		else
			ok = false;
		break;
	case MSR_ACT_TSC:
		if (!write)
			val = rdtsc() + v->tsc_offset;
		else
			v->tsc_offset = val - rdtsc(), virt->set_tsc_offset(v, v->tsc_offset);
		break;
	case MSR_ACT_APIC:
		if (write)
			ok = platform_msr_write(v->vm->platform, v->id, msr, val) != PLATFORM_GP;
		else
			ok = platform_msr_read(v->vm->platform, v->id, msr, &val) != PLATFORM_GP;
		break;
	case MSR_ACT_MISC_ENABLE:
		if (!write)
			val = 1; /* fast strings */
		else
			ok = val == 1;
		break;
	case MSR_ACT_TSC_AUX:
		/* one vCPU per CPU: the guest's value can live in the real MSR, which keel does
		 * not use */
		if (!write) {
			val = v->tsc_aux;
		} else if (val >> 32) {
			ok = false;
		} else {
			v->tsc_aux = val;
			wrmsr(MSR_TSC_AUX, val);
		}
		break;
	case MSR_ACT_KVM_WALL_CLOCK:
		if (!write) {
			val = v->vm->kvm_wall_clock;
		} else {
			const struct vrtc_time *t = &v->vm->start_time;
			uint64_t epoch =
				epoch_seconds(t->year, t->mon, t->day, t->hour, t->min, t->sec);
			ok = kvmclock_write_wall(&v->vm->mem, val, epoch) == 0;
			if (ok)
				v->vm->kvm_wall_clock = val;
		}
		break;
	case MSR_ACT_KVM_SYSTEM_TIME:
		if (!write) {
			val = v->kvm_system_time;
		} else {
			/* bit 0 enables; the structure is 4-byte aligned in RAM */
			if (val & 1)
				ok = kvmclock_write_time(&v->vm->mem, val & ~1ull,
							 rdtsc() + v->tsc_offset, vm_now_ns(v->vm),
							 time_tsc_hz()) == 0;
			if (ok)
				v->kvm_system_time = val;
		}
		break;
	case MSR_ACT_ZERO:
		val = 0;
		break;
	case MSR_ACT_ZERO_RO:
		val = 0;
		ok = !write;
		break;
	case MSR_ACT_GP:
		ok = false;
		log_msr_once(v, msr, write, val);
		break;
	}
	if (!ok)
		return inject_exception(v, EXC_GP, true, 0);
	if (!write) {
		v->regs.gpr[GPR_RAX] = (uint32_t)val;
		v->regs.gpr[GPR_RDX] = val >> 32;
	}
	skip_insn(v, e);
	return v->vm->stop_reason != VM_STOP_NONE ? EXIT_STOP : EXIT_RESUME;
}

static enum exit_result handle_xsetbv(struct vcpu *v, const struct vm_exit *e)
{
	struct cpuid_result allowed;
	uint64_t val = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];

	if (!(virt->get_cr(v, 4) & CR4_OSXSAVE))
		return inject_exception(v, EXC_UD, false, 0);
	guest_cpuid(v, 0xd, 0, &allowed);
	uint64_t mask = ((uint64_t)allowed.edx << 32) | allowed.eax;
	/* Intel SDM vol 1, 13.3: x87 always on, AVX needs SSE, AVX-512 states together with AVX */
	bool valid = (uint32_t)v->regs.gpr[GPR_RCX] == 0 && (val & 1) && !(val & ~mask) &&
		     (!(val & 4) || (val & 2)) &&
		     ((val & 0xe0) == 0 || ((val & 0xe0) == 0xe0 && (val & 4)));
	if (!valid)
		return inject_exception(v, EXC_GP, true, 0);
	v->xcr0 = val;
	__asm__ volatile("xsetbv" : : "c"(0), "a"((uint32_t)val), "d"((uint32_t)(val >> 32)));
	skip_insn(v, e);
	return EXIT_RESUME;
}

/* ---- the rest ------------------------------------------------------------------------------ */

static enum exit_result handle_hlt(struct vcpu *v, const struct vm_exit *e)
{
	skip_insn(v, e);
	v->halted = true;
	return EXIT_RESUME;
}

static enum exit_result handle_ext_intr(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	host_take_pending_interrupts();
	return EXIT_RESUME;
}

static enum exit_result handle_irq_window(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	virt->request_irq_window(v, false);
	return EXIT_RESUME;
}

static enum exit_result handle_shutdown(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "triple fault");
}

static enum exit_result handle_vmcall(struct vcpu *v, const struct vm_exit *e)
{
	/* no hypercalls are offered: KVM's "no such hypercall" answer (-KVM_ENOSYS) */
	v->regs.gpr[GPR_RAX] = (uint64_t)-1000;
	skip_insn(v, e);
	return EXIT_RESUME;
}

static enum exit_result handle_undefined(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	/* SVM/VMX instructions, MONITOR/MWAIT: hidden in CPUID, so #UD as on a CPU without them */
	return inject_exception(v, EXC_UD, false, 0);
}

static enum exit_result handle_skip(struct vcpu *v, const struct vm_exit *e)
{
	/* WBINVD/INVD: keel's caches are coherent with the guest's memory; nothing to do */
	skip_insn(v, e);
	return EXIT_RESUME;
}

static enum exit_result handle_entry_failed(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "the CPU refused the guest state (VM entry failed)");
}

static enum exit_result handle_unexpected(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "unexpected exit %s", exit_reason_name(e->reason));
}

static const exit_handler_fn exit_handlers[NR_EXIT_REASONS] = {
	[EXIT_IO] = handle_io,
	[EXIT_NPF] = handle_npf,
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_MSR_READ] = handle_msr,
	[EXIT_MSR_WRITE] = handle_msr,
	[EXIT_HLT] = handle_hlt,
	[EXIT_EXT_INTR] = handle_ext_intr,
	[EXIT_NMI] = handle_ext_intr,
	[EXIT_IRQ_WINDOW] = handle_irq_window,
	[EXIT_SHUTDOWN] = handle_shutdown,
	[EXIT_VMCALL] = handle_vmcall,
	[EXIT_VIRT_INSN] = handle_undefined,
	[EXIT_MONITOR] = handle_undefined,
	[EXIT_MWAIT] = handle_undefined,
	[EXIT_XSETBV] = handle_xsetbv,
	[EXIT_WBINVD] = handle_skip,
	[EXIT_PAUSE] = handle_skip,
	[EXIT_ENTRY_FAILED] = handle_entry_failed,
	[EXIT_RDTSC] = handle_unexpected,
	[EXIT_RDTSCP] = handle_unexpected,
	[EXIT_INVLPG] = handle_unexpected,
	[EXIT_EXCEPTION] = handle_unexpected,
	[EXIT_UNKNOWN] = handle_unexpected,
};

/* ---- the loop ------------------------------------------------------------------------------ */

static void deliver_interrupts(struct vcpu *v)
{
	struct platform *p = v->vm->platform;
	int vec = platform_pending_interrupt(p, v->id);

	if (vec < 0)
		return;
	v->halted = v->halted && !(v->regs.rflags & RFLAGS_IF);
	if (virt->interrupt_allowed(v)) {
		platform_ack_interrupt(p, v->id, vec);
		virt->inject_event(v, EVENT_EXTINT, (uint8_t)vec, false, 0);
	} else {
		virt->request_irq_window(v, true);
	}
}

/* Moves typed bytes from the host's serial port to the guest's UART, keeping what its FIFO has
 * no room for: nothing typed is dropped unless keel's own buffer overflows. */
static void poll_console_input(struct vm *vm)
{
	int c;
	while (vm->input_len < sizeof(vm->input) && (c = host_uart_read()) >= 0) {
		vm->input[(vm->input_head + vm->input_len) % sizeof(vm->input)] = (uint8_t)c;
		vm->input_len++;
	}
	while (vm->input_len && platform_uart_input(vm->platform, vm->input[vm->input_head])) {
		vm->input_head = (vm->input_head + 1) % sizeof(vm->input);
		vm->input_len--;
	}
}

/* Microseconds until the platform's next timer event, capped at POLL_US. */
static uint64_t us_until_next_event(struct vm *vm, struct vcpu *v)
{
	uint64_t next = platform_next_event_ns(vm->platform, v->id), now = vm_now_ns(vm);
	if (next <= now)
		return 0;
	return MIN((next - now) / 1000 + 1, (uint64_t)POLL_US);
}

static void log_stop(struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_EXIT_PORT:
		klog("vm %s: exit code %u", vm->name, vm->exit_code);
		break;
	case VM_STOP_POWER_OFF:
		klog("vm %s: powered off", vm->name);
		break;
	case VM_STOP_RESET:
		klog("vm %s: reset", vm->name);
		break;
	default:
		break; /* a crash logged itself */
	}
	char line[512];
	uint64_t total = 0;
	size_t n = 0;
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			total += vm->vcpus[i]->exits[r];
	n += (size_t)ksnprintf(line, sizeof(line), "vm %s: exits total %llu:", vm->name,
			       (unsigned long long)total);
	for (unsigned r = 0; r < NR_EXIT_REASONS && n < sizeof(line); r++) {
		uint64_t c = 0;
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			c += vm->vcpus[i]->exits[r];
		if (c)
			n += (size_t)ksnprintf(line + n, sizeof(line) - n, " %s=%llu",
					       exit_reason_name(r), (unsigned long long)c);
	}
	klog("%s", line);
}

int hv_vm_run(struct vm *vm)
{
	struct vcpu *v = vm->vcpus[0];
	struct vm_exit exit;

	struct vdev_env env = {
		.ctx = vm,
		.vm_name = vm->name,
		.now_ns = vm_now_ns,
		.request_stop = vm_request_stop,
		.uart_tx = vm_uart_tx,
		.tsc_to_ns = vm_tsc_to_ns,
	};
	struct platform_config pcfg;
	platform_default_config(&pcfg);
	pcfg.cpus = vm->nr_vcpus;
	pcfg.exit_port = vm->exit_port;
	pcfg.time = vm->start_time;
	struct acpi_guest_config acfg;
	acpi_guest_config_default(&acfg, vm->nr_vcpus);
	if (platform_init(vm->platform, &env, &pcfg) ||
	    acpi_build_guest_tables(&vm->mem, &acfg) < 0) {
		klog("vm %s: crashed: cannot build its devices and ACPI tables", vm->name);
		return VM_STOP_CRASH;
	}
	vm->start_ns = time_now_ns();
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		virt->set_tsc_offset(vm->vcpus[i],
				     vm->vcpus[i]->tsc_offset = (uint64_t)0 - rdtsc());
	vm->state = VM_RUNNING;
	fpu_reset(); /* nothing of an earlier VM's registers reaches this one */
	klog("vm %s: starting", vm->name);
	while (vm->stop_reason == VM_STOP_NONE) {
		poll_console_input(vm);
		deliver_interrupts(v);
		if (v->halted) {
			host_idle_us(MAX(us_until_next_event(vm, v), 1));
			continue;
		}
		host_timer_arm_us(MAX(us_until_next_event(vm, v), 1));
		virt->vcpu_run(v, &exit);
		v->exits[exit.reason]++;
		if (exit_handlers[exit.reason](v, &exit) == EXIT_STOP)
			break;
	}
	host_timer_arm_us(0);
	fpu_reset();
	vm->state = VM_STOPPED;
	log_stop(vm);
	return vm->stop_reason;
}
