/* CPUID, MSR and XSETBV exits: core/cpuid_policy.c and core/msr_policy.c decide, this file acts. */
#include "core/exit.h"

#include "arch/x86/cpu.h"
#include "arch/x86/time.h"
#include "core/cpuid_policy.h"
#include "core/cr_policy.h"
#include "core/kvmclock.h"
#include "core/vcpu_clock.h"
#include "core/msr_policy.h"
#include "core/virt.h"
#include "lib/log.h"
#include "vdev/platform.h"

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
		.apic_off = !vlapic_enabled(&v->vm->platform->lapic[v->id]),
		.tsc_khz = (uint32_t)(time_tsc_hz() / 1000),
		.tsc_stable = v->vm->clock.stable,
		.apic_khz = VLAPIC_TIMER_KHZ,
	};
	cpuid_policy(leaf, subleaf, &env, r);
}

void guest_cr_features(struct vcpu *v, struct cr_features *f)
{
	/* leaves 1, 7 and 0x8000_0001 do not depend on the vCPU's own state beyond OSXSAVE and
	 * the APIC flag, which no CR4 or EFER bit needs */
	struct cpuid_env env = { .host = host_cpuid,
				 .vcpu_id = v->id,
				 .nr_vcpus = v->vm->nr_vcpus };
	cr_features_of_guest(&env, f);
}

enum exit_result handle_cpuid(struct vcpu *v, const struct vm_exit *e)
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

enum exit_result handle_msr(struct vcpu *v, const struct vm_exit *e)
{
	bool write = e->reason == EXIT_MSR_WRITE;
	uint32_t msr = e->msr.index;
	uint64_t val = (v->regs.gpr[GPR_RDX] << 32) | (uint32_t)v->regs.gpr[GPR_RAX];
	bool ok = true;

	switch (msr_policy_lookup(msr)) {
	case MSR_ACT_EFER: {
		if (!write) {
			val = virt->get_efer(v);
			break;
		}
		/* bits of features the guest's CPUID hides #GP, and so does LME changed while
		 * paging; LMA is the CPU's to set (core/cr_policy.h) */
		struct cr_features f;
		struct cr_state s = { .cr0 = virt->get_cr(v, 0), .efer = virt->get_efer(v) };
		uint64_t load;
		guest_cr_features(v, &f);
		ok = efer_write_check(&f, &s, val, &load) == NULL;
		if (ok)
			virt->set_efer(v, load);
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
			vcpu_write_tsc(v, val);
		break;
	case MSR_ACT_APIC:
		ok = vm_platform_msr(v, msr, write, &val) != PLATFORM_GP;
		break;
	case MSR_ACT_MISC_ENABLE:
		if (!write)
			val = MISC_ENABLE_VALUE;
		else
			ok = val == MISC_ENABLE_VALUE;
		break;
	case MSR_ACT_TSC_AUX:
		/* the guest's value lives in the real MSR, which keel does not use, while the
		 * vCPU has the CPU (core/sched.c switches it) */
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
		if (!write)
			val = v->kvm_system_time;
		else
			ok = vcpu_set_kvmclock(v, val);
		break;
	case MSR_ACT_ZERO:
		val = 0;
		break;
	case MSR_ACT_ZERO_RO:
		val = 0;
		ok = !write;
		break;
	case MSR_ACT_ZERO_W0:
		ok = !write || val == 0;
		val = 0;
		break;
	case MSR_ACT_PMU:
		/* Linux on AMD writes PerfEvtSel0-3 with plain WRMSR (its counters are architectural
		 * there): a #GP would kill it, so they read 0 and take anything, as on KVM without a
		 * PMU. The shell's `stats NAME` shows how often. */
		val = 0;
		__atomic_add_fetch(&v->vm->pmu_msr_accesses, 1, __ATOMIC_RELAXED);
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

static bool host_is_amd(void)
{
	/* the guest sees the host's vendor (core/cpuid_policy.c leaf 0): "AuthenticAMD" or
	 * "HygonGenuine", by their first four letters in EBX */
	uint32_t ebx = cpuid(0, 0).ebx;
	return ebx == 0x68747541u || ebx == 0x6f677948u;
}

/* RDPMC (AMD APM vol 3 and Intel SDM vol 2, "RDPMC"): at CPL > 0 only with CR4.PCE, else #GP
 * (the CPU checks that before the intercept, keel again in case it did not); then the counters
 * of rdpmc_counter_offered read 0 and any other ECX #GPs. */
enum exit_result handle_rdpmc(struct vcpu *v, const struct vm_exit *e)
{
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	if (cpl_of(&s) && !(s.cr4 & CR4_PCE))
		return inject_exception(v, EXC_GP, true, 0);
	if (!rdpmc_counter_offered((uint32_t)v->regs.gpr[GPR_RCX], host_is_amd()))
		return inject_exception(v, EXC_GP, true, 0);
	v->regs.gpr[GPR_RAX] = 0;
	v->regs.gpr[GPR_RDX] = 0;
	skip_insn(v, e);
	return EXIT_RESUME;
}

enum exit_result handle_xsetbv(struct vcpu *v, const struct vm_exit *e)
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
