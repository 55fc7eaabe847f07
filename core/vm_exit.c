#include "core/vm_exit.h"

static const char *const names[NR_EXIT_REASONS] = {
	[EXIT_IO] = "io",
	[EXIT_NPF] = "npf",
	[EXIT_CPUID] = "cpuid",
	[EXIT_MSR_READ] = "rdmsr",
	[EXIT_MSR_WRITE] = "wrmsr",
	[EXIT_HLT] = "hlt",
	[EXIT_EXT_INTR] = "intr",
	[EXIT_NMI] = "nmi",
	[EXIT_IRQ_WINDOW] = "irq-window",
	[EXIT_NMI_WINDOW] = "nmi-window",
	[EXIT_SHUTDOWN] = "shutdown",
	[EXIT_VMCALL] = "vmcall",
	[EXIT_VIRT_INSN] = "virt-insn",
	[EXIT_RDTSC] = "rdtsc",
	[EXIT_RDTSCP] = "rdtscp",
	[EXIT_XSETBV] = "xsetbv",
	[EXIT_WBINVD] = "wbinvd",
	[EXIT_PAUSE] = "pause",
	[EXIT_INVLPG] = "invlpg",
	[EXIT_MONITOR] = "monitor",
	[EXIT_MWAIT] = "mwait",
	[EXIT_RDPMC] = "rdpmc",
	[EXIT_RDPRU] = "rdpru",
	[EXIT_INVPCID] = "invpcid",
	[EXIT_CR8_WRITE] = "cr8-write",
	[EXIT_CR_WRITE] = "cr-write",
	[EXIT_DR7_WRITE] = "dr7-write",
	[EXIT_EXCEPTION] = "exception",
	[EXIT_ENTRY_FAILED] = "entry-failed",
	[EXIT_UNKNOWN] = "unknown",
};

const char *exit_reason_name(enum exit_reason r)
{
	return r < NR_EXIT_REASONS && names[r] ? names[r] : "?";
}
