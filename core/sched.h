/* keel's scheduler: which physical CPU runs which vCPU, and when.
 *
 * Placement is static (like Jailhouse): a pinned vCPU runs on the CPU keel.cfg names; every other
 * vCPU goes to the online CPU with the fewest vCPUs so far, so while CPUs last each vCPU has one
 * of its own. A CPU with several vCPUs time-slices them round-robin: a vCPU runs until its slice
 * ends (the host APIC timer takes the CPU back from a guest that never exits) and another is
 * ready, or until it halts or waits for a SIPI, which gives the CPU away at once. Each CPU keeps
 * the FPU and the guest registers the CPU holds of the vCPU it last ran, and swaps them only when
 * it switches. A vCPU never moves, so its VMCB or VMCS stays on its CPU. */
#ifndef KEEL_CORE_SCHED_H
#define KEEL_CORE_SCHED_H

#include "core/config.h"
#include "core/vm.h"

/* How long a vCPU runs before another one ready on its CPU gets it. */
#define SCHED_SLICE_US 5000
/* The longest a CPU runs or sleeps without looking at the console and its vCPUs. */
#define SCHED_POLL_US 10000
/* The longest an idle CPU sleeps while a host device has commands out (it is polled). */
#define SCHED_IO_POLL_US 50

/* Places every vCPU of vms[0..nr) (a pinned one where hv_vcpu_pin said) and logs where each
 * runs. */
void sched_place(struct vm **vms, unsigned nr);
/* Starts the VMs and runs them on every CPU that has vCPUs until all have stopped. */
void sched_run(struct vm **vms, unsigned nr);
/* Something changed for v (an interrupt, a SIPI, a stop): make its CPU look at it soon, out of
 * HLT or out of guest mode. Any CPU, any time. */
void sched_kick(struct vcpu *v);
/* The registers this CPU holds may be v's from an earlier life: load v's saved state before it
 * runs again instead of saving over it. */
void sched_forget_loaded(struct vcpu *v);
/* VMs in a life (running or stopping); the CPUs stop scheduling when it reaches 0. */
void sched_vm_started(void);
void sched_vm_stopped(void);

#endif
