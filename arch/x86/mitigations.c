#include "arch/x86/mitigations.h"

#include "arch/x86/cpu.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/mitig_entry.inc"
#include "arch/x86/percpu.h"
#include "lib/log.h"

#define MSR_IA32_PRED_CMD 0x49 /* bit 0: IBPB (Intel SDM vol 4, table 2-2) */
#define MSR_IA32_ARCH_CAPABILITIES 0x10a

/* the assembler macros' view of struct percpu and of the policy bits */
_Static_assert(offsetof(struct percpu, mitig.flags) == PERCPU_MITIG_FLAGS, "mitig_entry.inc");
_Static_assert(offsetof(struct percpu, mitig.rsb_fills) == PERCPU_MITIG_RSB_FILLS,
	       "mitig_entry.inc");
_Static_assert(offsetof(struct percpu, mitig.l1d_flushes) == PERCPU_MITIG_L1D_FLUSHES,
	       "mitig_entry.inc");
_Static_assert(offsetof(struct percpu, mitig.verws) == PERCPU_MITIG_VERWS, "mitig_entry.inc");
_Static_assert(MITIG_ASM_RSB_FILL == MITIG_RSB_FILL && MITIG_ASM_L1D_FLUSH == MITIG_L1D_FLUSH &&
		       MITIG_ASM_VERW == MITIG_VERW,
	       "mitig_entry.inc");
_Static_assert(MITIG_ASM_DS == KEEL_DS, "mitig_entry.inc");

static struct mitig_policy policy;

static enum mitig_vendor vendor_of(const struct cpuid_regs *r)
{
	/* "GenuineIntel", "AuthenticAMD" and "HygonGenuine" (an AMD design) in EBX, EDX, ECX */
	if (r->ebx == 0x756e6547 && r->edx == 0x49656e69 && r->ecx == 0x6c65746e)
		return MITIG_VENDOR_INTEL;
	if ((r->ebx == 0x68747541 && r->edx == 0x69746e65 && r->ecx == 0x444d4163) ||
	    (r->ebx == 0x6f677948 && r->edx == 0x6e65476e && r->ecx == 0x656e6975))
		return MITIG_VENDOR_AMD;
	return MITIG_VENDOR_OTHER;
}

void mitig_init(void)
{
	struct cpuid_regs r0 = cpuid(0, 0);
	struct mitig_cpu c = { .vendor = vendor_of(&r0) };

	if (r0.eax >= 7) {
		struct cpuid_regs r7 = cpuid(7, 0);
		c.cpuid7_ebx = r7.ebx;
		c.cpuid7_edx = r7.edx;
	}
	if (cpuid(0x80000000, 0).eax >= 0x80000008)
		c.ext8_ebx = cpuid(0x80000008, 0).ebx;
	/* the MSR exists only where CPUID.7.0:EDX[29] says so (Intel SDM vol 4, table 2-2) */
	if (c.cpuid7_edx & CPUID7_EDX_ARCH_CAPS)
		c.arch_caps = rdmsr(MSR_IA32_ARCH_CAPABILITIES);
	policy = mitig_choose(&c);

	char what[160];
	mitig_describe(&policy, what, sizeof(what));
	klog("keel: mitigations: %s (cpuid 7 edx %08x, 80000008 ebx %08x, arch caps %llx)", what,
	     c.cpuid7_edx, c.ext8_ebx, (unsigned long long)c.arch_caps);
}

void mitig_switch_vm(const void *vm, struct mitig_counts *counts)
{
	struct percpu_mitig *m = &this_cpu()->mitig;

	m->flags = policy.apply & (MITIG_RSB_FILL | MITIG_L1D_FLUSH | MITIG_VERW);
	if (mitig_on_switch(&policy, m->last_vm, vm) & MITIG_IBPB_ON_SWITCH) {
		wrmsr(MSR_IA32_PRED_CMD, 1);
		__atomic_add_fetch(&counts->ibpb, 1, __ATOMIC_RELAXED);
	}
	m->last_vm = vm;
}

void mitig_collect(struct mitig_counts *counts)
{
	struct percpu_mitig *m = &this_cpu()->mitig;

	/* only this CPU's entry and exit paths add to m; several CPUs add to one VM's counts */
	if (m->rsb_fills)
		__atomic_add_fetch(&counts->rsb_fill, m->rsb_fills, __ATOMIC_RELAXED);
	if (m->l1d_flushes)
		__atomic_add_fetch(&counts->l1d_flush, m->l1d_flushes, __ATOMIC_RELAXED);
	if (m->verws)
		__atomic_add_fetch(&counts->verw, m->verws, __ATOMIC_RELAXED);
	m->rsb_fills = m->l1d_flushes = m->verws = 0;
}
