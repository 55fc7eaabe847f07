/* One exit model for both backends (DESIGN.md): each backend turns its VMCB or VMCS exit into a
 * struct vm_exit, and core dispatches it through a table indexed by reason. */
#ifndef KEEL_CORE_VM_EXIT_H
#define KEEL_CORE_VM_EXIT_H

#include "lib/types.h"

enum exit_reason {
	EXIT_IO,  /* IN/OUT/INS/OUTS to an intercepted port */
	EXIT_NPF, /* stage-2 fault: MMIO or a bad address */
	EXIT_CPUID,
	EXIT_MSR_READ,
	EXIT_MSR_WRITE,
	EXIT_HLT,
	EXIT_EXT_INTR, /* a host interrupt arrived while the guest ran */
	EXIT_NMI,
	EXIT_IRQ_WINDOW, /* the guest can take an interrupt now */
	EXIT_NMI_WINDOW, /* the guest can take an NMI now, or soon: look again */
	EXIT_SHUTDOWN,	 /* triple fault */
	EXIT_VMCALL,	 /* VMMCALL / VMCALL */
	EXIT_VIRT_INSN,	 /* the guest used SVM/VMX instructions */
	EXIT_RDTSC,
	EXIT_RDTSCP,
	EXIT_XSETBV,
	EXIT_WBINVD,
	EXIT_PAUSE,
	EXIT_INVLPG,
	EXIT_MONITOR,
	EXIT_MWAIT,
	EXIT_RDPMC,	/* read a performance counter: core/msr_policy.h rdpmc_counter_offered */
	EXIT_RDPRU,	/* AMD's read of APERF/MPERF at any CPL: hidden in CPUID */
	EXIT_INVPCID,	/* hidden in CPUID (no PCID for guests) */
	EXIT_CR8_WRITE, /* MOV to CR8 (the TPR): core checks and performs it */
	EXIT_CR_WRITE,	/* MOV to CR0/CR4, CLTS, LMSW (AMD-V): core checks, virt->set_cr loads */
	EXIT_DR7_WRITE, /* MOV to DR7 (AMD-V under QEMU's TCG): core checks, virt->set_dr7 loads */
	EXIT_EXCEPTION,
	EXIT_ENTRY_FAILED, /* VMRUN / VMLAUNCH refused the state */
	EXIT_UNKNOWN,	   /* anything else: fatal for the VM, with a state dump */
	NR_EXIT_REASONS
};

struct vm_exit {
	enum exit_reason reason;
	uint64_t hw_code; /* the backend's own exit code, for dumps */
	uint64_t hw_info1, hw_info2;
	uint8_t insn_len; /* 0 when the hardware did not say (SVM without NRIPS) */
	/* The faulting instruction's first bytes when the hardware fetched them for keel (SVM
	 * DecodeAssists on a nested page fault); 0 bytes: keel fetches them itself. */
	uint8_t nr_insn_bytes;
	uint8_t insn_bytes[15];
	union {
		struct {
			uint16_t port;
			uint8_t size; /* 1, 2 or 4 */
			bool in, string, rep;
		} io;
		struct {
			uint64_t gpa;
			bool write, fetch, present;
		} npf;
		struct {
			uint32_t index;
		} msr;
		struct {
			int8_t gpr; /* the source register, or -1: decode the instruction */
		} cr8;
		struct {
			int8_t gpr; /* the source register of a MOV, or -1: decode the instruction */
			uint8_t cr; /* 0 or 4 */
		} cr_write;
		struct {
			int8_t gpr; /* the source register, or -1: decode the instruction */
		} dr7;
		struct {
			uint8_t vector;
			bool has_error;
			uint32_t error_code;
		} exc;
	};
};

const char *exit_reason_name(enum exit_reason r);

#endif
