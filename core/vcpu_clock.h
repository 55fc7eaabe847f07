/* The VM's clock (core/vm_clock.h) on each of its vCPUs: the TSC offset the backend applies and
 * the vCPU's kvm-clock structure follow vm->clock, whichever vCPU changed it. */
#ifndef KEEL_CORE_VCPU_CLOCK_H
#define KEEL_CORE_VCPU_CLOCK_H

#include "core/vm.h"

/* Before each entry (and as the vCPU joins a life): takes a TSC offset the VM changed since,
 * rewriting the vCPU's kvm-clock structure to match. Cheap when nothing changed. */
void vcpu_take_clock(struct vcpu *v);

/* The guest writes IA32_TSC: the whole VM's TSC moves, unless the write only synchronises
 * (core/vm_clock.h); the other vCPUs are kicked to take it. */
void vcpu_write_tsc(struct vcpu *v, uint64_t value);

/* The guest's MSR_KVM_SYSTEM_TIME_NEW write: the structure at (value & ~1), enabled by bit 0.
 * false (a #GP) when an enabled structure is not in the guest's RAM. */
bool vcpu_set_kvmclock(struct vcpu *v, uint64_t value);

#endif
