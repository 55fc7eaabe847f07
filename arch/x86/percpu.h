/* Per-CPU data: one struct percpu for each physical CPU keel runs on, found through the GS base,
 * which points at it (its first field points at itself, so `mov %gs:0` is the whole lookup).
 * keel numbers the CPUs 0..n-1 as it prints them at boot: 0 is the boot CPU, the others follow
 * in the order of the host's ACPI MADT. Each CPU has its own GDT and TSS, its own kernel stack
 * and IST stacks (each above an unmapped guard page); the IDT is shared (arch/x86/cpu_tables.c). */
#ifndef KEEL_ARCH_X86_PERCPU_H
#define KEEL_ARCH_X86_PERCPU_H

#include "arch/x86/cpu_tables.h"
#include "lib/types.h"

#define KEEL_MAX_CPUS 64
#define PERCPU_STACK_SIZE (64 * KiB) /* keel's stack on each CPU, as the boot CPU's */
#define PERCPU_IST_SIZE (16 * KiB)

enum percpu_state {
	CPU_ABSENT,    /* not started (or keel has no such CPU) */
	CPU_STARTING,  /* INIT-SIPI-SIPI sent, not reported yet */
	CPU_ONLINE,    /* running keel, parked or on a job */
	CPU_FAILED,    /* came up, but could not enable virtualization (why in fail_msg) */
	CPU_ABANDONED, /* did not report in time: left out for good, even if it starts late */
};

/* A job for a parked CPU: fn(arg) runs there with interrupts off. */
typedef void (*percpu_job_fn)(void *arg);

/* This CPU's transient-execution mitigations (arch/x86/mitigations.c). The VM entry and exit
 * paths read flags and add to the counts at fixed offsets from %gs (arch/x86/mitig_entry.inc). */
struct percpu_mitig {
	uint64_t flags;				/* MITIG_* done around each entry, exit */
	uint64_t rsb_fills, l1d_flushes, verws; /* not yet added to a VM's counts */
	const void *last_vm;			/* the VM whose vCPU ran here last */
};

struct percpu {
	struct percpu *self;	   /* %gs:0 */
	struct percpu_mitig mitig; /* %gs:8 */
	unsigned index;
	uint32_t apic_id;
	volatile uint32_t state; /* enum percpu_state; changed by compare-and-swap */
	uint64_t stack_top;
	uint64_t ist_top[CPU_NR_IST];
	/* the mailbox (arch/x86/smp.c): posted by another CPU, cleared by this one when done */
	percpu_job_fn volatile job;
	void *volatile job_arg;
	/* the backend's per-CPU state (the SVM host save area, the VMXON region ...) */
	void *virt;
	/* what the boot self-test job found here: CPUID's APIC ID */
	volatile uint32_t selftest_apic_id;
	char fail_msg[96];
	struct cpu_tables tables;
};

static inline struct percpu *this_cpu(void)
{
	struct percpu *p;
	__asm__ volatile("movq %%gs:0, %0" : "=r"(p));
	return p;
}

/* The struct of CPU i (NULL when keel has no such CPU); percpu_count() CPUs are numbered, of
 * which those in CPU_ONLINE run keel. */
struct percpu *percpu_get(unsigned i);
unsigned percpu_count(void);
unsigned percpu_online_count(void);

/* The boot CPU's own tables and IST stacks (static: no allocator yet) and its GS base. */
void percpu_init_boot_cpu(void);
/* Unmaps the guard pages below the boot CPU's IST stacks (once keel's page tables run). */
void percpu_guard_boot_cpu(void);
/* Allocates CPU index's struct, stack and IST stacks (guard pages unmapped); NULL when out of
 * memory. Index 0 is the boot CPU's. */
struct percpu *percpu_alloc(unsigned index, uint32_t apic_id);
/* Loads pc's GDT, TSS and the IDT on this CPU and points the GS base at pc. */
void percpu_load(struct percpu *pc);

#endif
