/* Every physical CPU the host's ACPI MADT lists, started and parked (Intel SDM vol 3, 9.4
 * "Multiple-Processor (MP) Initialization"): each AP runs keel with its own tables and stacks
 * (arch/x86/percpu.h) and virtualization enabled, then waits in HLT for a job in its mailbox. */
#ifndef KEEL_ARCH_X86_SMP_H
#define KEEL_ARCH_X86_SMP_H

#include "arch/x86/percpu.h"
#include "lib/types.h"

struct boot_info;

/* Starts the APs one after the other with INIT-SIPI-SIPI; a CPU that does not report within
 * SMP_START_TIMEOUT_US is logged and left out. On the boot CPU, after hv_init and
 * host_apic_init. Logs each CPU and the number online. */
void smp_init(const struct boot_info *bi);

/* Posts fn(arg) to CPU cpu's mailbox and wakes it; fn runs there with interrupts off. -1 when
 * cpu is not an online AP or its mailbox is still full. */
int smp_post(unsigned cpu, percpu_job_fn fn, void *arg);
/* Waits until cpu has run the job posted to it: 0, or -1 after timeout_us. */
int smp_wait(unsigned cpu, uint64_t timeout_us);

/* The boot self-test of the mailboxes: every AP reads its APIC ID through CPUID and stores it
 * in its struct percpu; the boot CPU checks each against the MADT's and logs one line. */
void smp_selftest(void);

#endif
