/* Transient-execution hygiene between VMs: which mitigations keel applies on this CPU, decided
 * from what the CPU enumerates, and what a physical CPU does when it moves from one VM's vCPU to
 * another's. Pure logic, host-tested (tests/unit/test_mitigations.c); the privileged half (MSR
 * writes, VERW, return-stack filling) is arch/x86/mitigations.c and arch/x86/mitig_entry.inc.
 * docs/security.md "Mitigations" says per mitigation when and why. */
#ifndef KEEL_CORE_MITIGATIONS_H
#define KEEL_CORE_MITIGATIONS_H

#include "lib/types.h"

/* CPUID.(EAX=7,ECX=0):EBX and EDX bits (Intel SDM vol 2A, CPUID; Intel "Speculative Execution
 * Side Channel Mitigations", table 2-1) */
#define CPUID7_EBX_RTM (1u << 11)
#define CPUID7_EDX_MD_CLEAR (1u << 10)
#define CPUID7_EDX_IBRS_IBPB (1u << 26)
#define CPUID7_EDX_STIBP (1u << 27)
#define CPUID7_EDX_L1D_FLUSH (1u << 28)
#define CPUID7_EDX_ARCH_CAPS (1u << 29)
/* CPUID 0x80000008 EBX bit 12: IBPB (AMD "Software Techniques for Managing Speculation",
 * "Indirect Branch Control Extension") */
#define CPUID_EXT8_EBX_IBPB (1u << 12)

/* IA32_ARCH_CAPABILITIES (MSR 0x10A) bits (Intel SDM vol 4, table 2-2) */
#define ARCH_CAP_RDCL_NO (1ull << 0)
#define ARCH_CAP_IBRS_ALL (1ull << 1)
#define ARCH_CAP_RSBA (1ull << 2)
#define ARCH_CAP_SKIP_L1DFL_VMENTRY (1ull << 3)
#define ARCH_CAP_SSB_NO (1ull << 4)
#define ARCH_CAP_MDS_NO (1ull << 5)
#define ARCH_CAP_TAA_NO (1ull << 8)

enum mitig_vendor { MITIG_VENDOR_OTHER, MITIG_VENDOR_INTEL, MITIG_VENDOR_AMD };

/* What a CPU enumerates; a leaf or MSR the CPU lacks reads as 0 here. */
struct mitig_cpu {
	enum mitig_vendor vendor;
	uint32_t cpuid7_ebx, cpuid7_edx; /* CPUID.(EAX=7,ECX=0) */
	uint32_t ext8_ebx;		 /* CPUID 0x80000008 EBX */
	uint64_t arch_caps;		 /* IA32_ARCH_CAPABILITIES, when CPUID7_EDX_ARCH_CAPS */
};

/* The mitigations, as bits of a set */
#define MITIG_IBPB_ON_SWITCH (1u << 0) /* IA32_PRED_CMD.IBPB when a CPU changes VM */
#define MITIG_RSB_FILL (1u << 1)       /* 32 benign calls after each VM exit, before any RET */
#define MITIG_L1D_FLUSH (1u << 2)      /* IA32_FLUSH_CMD.L1D_FLUSH before each VM entry */
#define MITIG_VERW (1u << 3)	       /* VERW (MD_CLEAR) before each VM entry */
#define MITIG_ALL (MITIG_IBPB_ON_SWITCH | MITIG_RSB_FILL | MITIG_L1D_FLUSH | MITIG_VERW)

struct mitig_policy {
	unsigned apply;	  /* MITIG_* keel applies */
	unsigned missing; /* MITIG_* the CPU would need but does not enumerate (old microcode) */
};

/* The mitigations the CPU needs and offers. */
struct mitig_policy mitig_choose(const struct mitig_cpu *cpu);

/* What a CPU does before it runs a vCPU of VM next, having last run one of VM last (NULL: none
 * since keel started): MITIG_IBPB_ON_SWITCH or 0. VMs are compared by identity only. */
unsigned mitig_on_switch(const struct mitig_policy *p, const void *last, const void *next);

/* The boot line's text after "keel: mitigations: ": what is applied ("IBPB on VM switch, RSB
 * fill on exit, ..." or "none needed"), then "; needed but not enumerated: ..." when something
 * is missing. Returns the length written (truncated to size - 1). */
size_t mitig_describe(const struct mitig_policy *p, char *buf, size_t size);

/* How often each mitigation ran for one VM (its current life); the shell's `stats NAME` and the
 * VM's stop line show them. */
struct mitig_counts {
	uint64_t ibpb, rsb_fill, l1d_flush, verw;
};

#endif
