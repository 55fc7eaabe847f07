/* Which CR0, CR4 and EFER values a guest may load, and what the load does (DESIGN.md: every guest
 * value is checked). A bit whose feature the guest's CPUID hides is reserved for it, as on a CPU
 * without that feature: the write #GPs on both backends, whatever the physical CPU (or QEMU's SVM,
 * which stores bits real hardware refuses) would do. Pure logic: host-tested and fuzzed; the
 * backends and core/exit_cr.c act on the answers. Rules: Intel SDM vol 3, 2.5 "Control
 * Registers" and 10.8.5 (IA-32e mode), vol 2 "MOV—Move to/from Control Registers" and "WRMSR";
 * AMD APM vol 2, 3.1 "System-Control Registers" and 14.6 (long mode). */
#ifndef KEEL_CORE_CR_POLICY_H
#define KEEL_CORE_CR_POLICY_H

#include "core/cpuid_policy.h"
#include "lib/types.h"

/* The CPUID bits the rules depend on: leaf 1, leaf 7 subleaf 0 and leaf 0x8000_0001, as the guest
 * sees them (cpuid_policy) or, for the VMRUN checks, as the CPU reports them. */
struct cr_features {
	uint32_t l1_ecx, l1_edx;
	uint32_t l7_ebx, l7_ecx, l7_edx;
	uint32_t x1_ecx, x1_edx;
};

/* The guest's view: cpuid_policy's answers for the three leaves. */
void cr_features_of_guest(const struct cpuid_env *env, struct cr_features *f);

/* The same for a vCPU of keel (core/exit_msr.c, next to the CPUID exit): what the backends'
 * CR exits and the EFER MSR check against. */
struct vcpu;
void guest_cr_features(struct vcpu *v, struct cr_features *f);

/* CR4 bits a MOV may set: each of them needs its CPUID feature (the table in cr_policy.c); the
 * rest, bits 63:32 included, #GP. */
uint64_t cr4_valid_bits(const struct cr_features *f);
/* EFER bits a WRMSR may set: SCE, LME, LMA (ignored), NXE, SVME, FFXSR, TCE, each with its CPUID
 * feature; LMSLE never (no CPUID bit offers it, and recent AMD CPUs lack it). */
uint64_t efer_valid_bits(const struct cr_features *f);

/* CR0 bits 31:0 that exist; the others are reserved and ignored on a write (SDM vol 2, MOV CR:
 * "attempts to set them have no impact"), reading 0. */
#define CR0_DEFINED 0xe005003full

/* The state a write is judged against. */
struct cr_state {
	uint64_t cr0, cr3, cr4, efer;
	bool cs_l; /* the current CS has its L bit set (64-bit code while EFER.LMA) */
};

/* Each returns NULL when the write is legal and puts the value the register takes in *load; else
 * the rule it breaks (the guest gets #GP(0), the register keeps its value). `val` is what the
 * instruction wrote: outside 64-bit mode the caller passes the 32-bit source zero-extended. */
const char *cr0_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			    uint64_t *load);
const char *cr4_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			    uint64_t *load);
/* WRMSR to EFER; LMA is the CPU's: a written LMA is ignored, the current one kept (AMD APM vol 2,
 * 3.1.7; KVM does the same on Intel). */
const char *efer_write_check(const struct cr_features *f, const struct cr_state *s, uint64_t val,
			     uint64_t *load);

/* EFER after CR0 took new_cr0: a MOV that sets CR0.PG with EFER.LME set activates long mode
 * (LMA = 1), one that clears CR0.PG leaves it (SDM vol 3, 10.8.5; APM vol 2, 14.6.1). */
uint64_t efer_after_cr0(uint64_t efer, uint64_t new_cr0);

#endif
