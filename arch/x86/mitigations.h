/* The privileged half of keel's transient-execution mitigations (the choice is
 * core/mitigations.c; the entry/exit instructions are arch/x86/mitig_entry.inc). */
#ifndef KEEL_ARCH_X86_MITIGATIONS_H
#define KEEL_ARCH_X86_MITIGATIONS_H

#include "core/mitigations.h"

/* Reads what the boot CPU enumerates, picks the mitigations and logs them (one line). Every CPU
 * keel runs VMs on is taken to be the same model. */
void mitig_init(void);
/* This CPU is about to run a vCPU of VM vm (any pointer naming the VM): an IBPB when the CPU last
 * ran another VM's vCPU, counted in counts; arms the entry and exit paths on this CPU. */
void mitig_switch_vm(const void *vm, struct mitig_counts *counts);
/* After a VM exit on this CPU: adds what the entry and exit paths did since the last call to
 * counts (the running VM's). */
void mitig_collect(struct mitig_counts *counts);

#endif
