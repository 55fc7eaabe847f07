/* CPUID, MSR and control-register policy: any leaf, subleaf, vCPU numbering, MSR index and value. Input: 4-byte
 * leaf, 4-byte subleaf, 4-byte MSR, 8-byte value, 1 byte of flags, then host CPUID answers
 * (16 bytes each, cycled) so the policy sees arbitrary host CPUs too. */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "arch/x86/cpu.h"
#include "core/cpuid_policy.h"
#include "core/cr_policy.h"
#include "core/kvmclock.h"
#include "core/msr_policy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t *host_data;
static size_t host_size;

static void fake_host(uint32_t leaf, uint32_t subleaf, struct cpuid_result *r)
{
	memset(r, 0, sizeof(*r));
	if (host_size >= sizeof(*r)) {
		size_t slots = host_size / sizeof(*r);
		memcpy(r, host_data + ((leaf ^ subleaf) % slots) * sizeof(*r), sizeof(*r));
	}
}

/* CR0, CR4 and EFER writes of value val from a state made of leaf and subleaf, against the guest
 * view of the fuzzed host: what is accepted never holds a bit the CPU would refuse at VM entry
 * (VMRUN or VMLAUNCH) or a feature the guest's CPUID hides. */
static void cr_checks(const struct cpuid_env *env, uint64_t val, uint32_t leaf, uint32_t subleaf)
{
	struct cr_features f;
	cr_features_of_guest(env, &f);
	struct cr_state s = { .cr0 = leaf & 0xe005003f,
			      .cr4 = subleaf,
			      .efer = (uint64_t)(leaf >> 16) << 8 & 0xd01,
			      .cr3 = subleaf >> 12,
			      .cs_l = leaf & 0x8 };
	uint64_t load, hidden = (1ull << 6) | (1ull << 12) | (1ull << 13) | (1ull << 14) |
				(1ull << 17) | (1ull << 22) | (1ull << 23) | ~0x3ff7fffull;
	if (!cr0_write_check(&f, &s, val, &load) &&
	    ((load >> 32) || ((load & CR0_PG) && !(load & CR0_PE)) ||
	     ((load & CR0_NW) && !(load & CR0_CD)) ||
	     ((load & CR0_PG) && (s.efer & EFER_LME) && !(s.cr0 & CR0_PG) && !(s.cr4 & CR4_PAE))))
		abort();
	if (!cr4_write_check(&f, &s, val, &load) &&
	    ((load & hidden) || (load & ~cr4_valid_bits(&f)) ||
	     ((s.efer & EFER_LMA) && !(load & CR4_PAE))))
		abort();
	if (!efer_write_check(&f, &s, val, &load) &&
	    ((load & ~0x4d01ull) || ((load ^ s.efer) & EFER_LMA) ||
	     ((s.cr0 & CR0_PG) && ((load ^ s.efer) & EFER_LME))))
		abort();
	(void)efer_after_cr0(s.efer, val);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint32_t leaf, subleaf, msr;
	uint64_t val;
	if (size < 21)
		return 0;
	memcpy(&leaf, data, 4);
	memcpy(&subleaf, data + 4, 4);
	memcpy(&msr, data + 8, 4);
	memcpy(&val, data + 12, 8);
	uint8_t flags = data[20];
	host_data = data + 21;
	host_size = size - 21;

	/* the APIC's enable bit from the MSR value's top bit (IA32_APIC_BASE.EN is guest state) */
	struct cpuid_env env = { .host = fake_host,
				 .vcpu_id = flags & 7,
				 .nr_vcpus = 1 + (flags >> 3),
				 .guest_osxsave = (flags & 0x80) != 0,
				 .tsc_khz = 2000000,
				 .tsc_stable = (val & 1) != 0,
				 .apic_khz = 1000000,
				 .apic_off = (val >> 63) != 0 };
	struct cpuid_result r;
	cpuid_policy(leaf, subleaf, &env, &r);
	/* invariants whatever the host says: SVM and VMX hidden, hypervisor bit set (leaf 1 is
	 * all zeros only when the host claims no leaf 1 at all) */
	bool leaf1_present = r.eax | r.ebx | r.ecx | r.edx;
	if (leaf == 1 && leaf1_present && (!(r.ecx & (1u << 31)) || (r.ecx & (1u << 5))))
		abort();
	if (leaf == 0x80000001u && (r.ecx & (1u << 2)))
		abort();
	if (leaf == 0x8000000au && (r.eax | r.ebx | r.ecx | r.edx))
		abort();

	enum msr_action a = msr_policy_lookup(msr);
	if (a > MSR_ACT_KVM_SYSTEM_TIME)
		abort();
	/* the counters keel answers without a PMU: exactly the legacy ones */
	bool pmu = (msr >= 0xc0010000 && msr <= 0xc0010007) || msr == 0xc1 || msr == 0xc2 ||
		   msr == 0x186 || msr == 0x187;
	if ((a == MSR_ACT_PMU) != pmu)
		abort();
	if (rdpmc_counter_offered(msr, flags & 1) != (msr < ((flags & 1) ? 4u : 2u)))
		abort();
	if ((msr >= 0x480 && msr <= 0x491) || msr == 0xc0010117) /* VMX caps, VM_HSAVE_PA */
		if (a != MSR_ACT_GP)
			abort();
	cr_checks(&env, val, leaf, subleaf);
	(void)pat_write_ok(val);

	/* kvm-clock MSR writes: a guest-chosen address into a small guest RAM in two host blocks
	 * (a structure may cross them), any TSC rate */
	static uint8_t ram[2048], ram2[2048];
	struct gmem_extent ext[2] = { { 0x1000, sizeof(ram), ram, 0 },
				      { 0x1800, sizeof(ram2), ram2, 0 } };
	struct guest_mem m = { .ext = ext, .nr = 2 };
	uint64_t hz = 1000 + (val >> 20);
	if (kvmclock_write_time(&m, val & 0x3fff, msr, leaf, pvclock_scale_for(hz), flags & 1) ==
		    0 &&
	    ((val & 0x3fff) < 0x1000 || (val & 0x3fff) + 32 > 0x2000))
		abort();
	(void)kvmclock_write_wall(&m, (subleaf & 0x3fff), leaf);
	(void)epoch_seconds(leaf % 10000, flags % 14, subleaf % 33, msr % 25, flags % 61,
			    leaf % 62);
	return 0;
}
