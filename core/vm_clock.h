/* One clock per VM. Every vCPU's kvm-clock page, the guest TSC and keel's virtual timers (local
 * APIC, PIT, PM timer, RTC) derive from one pair, (host TSC at guest time 0, scale), the design
 * KVM calls the master clock: two vCPUs reading at the same instant compute the same time, and
 * a later read on any vCPU is never earlier. keel's own nanoseconds for the VM (vm_clock_ns) use
 * the very arithmetic the guest applies to its kvm-clock page (pvclock_scale_apply), so the
 * devices' time and the guest's agree to the nanosecond.
 *
 * The guest TSC is one clock per VM too: one offset for every vCPU, unchanged by time-slicing and
 * by keel's pauses. A guest write of IA32_TSC sets it for the whole VM, except a write within one
 * second of where the VM's TSC already is, which is an OS synchronising its CPUs' TSCs (as older
 * Windows does at boot) and changes nothing, so no vCPU's TSC steps back (KVM matches such writes
 * the same way). Pure logic, no locking: the caller holds the VM's lock. */
#ifndef KEEL_CORE_VM_CLOCK_H
#define KEEL_CORE_VM_CLOCK_H

#include "core/kvmclock.h"
#include "lib/types.h"

struct vm_clock {
	uint64_t host_tsc0;	    /* the host TSC at guest time 0 (the VM's start) */
	uint64_t tsc_hz;	    /* the host (and guest) TSC rate */
	struct pvclock_scale scale; /* host TSC ticks to nanoseconds */
	bool stable;		    /* the host TSC is invariant and in step on every CPU */
	uint64_t tsc_offset;	    /* guest TSC = host TSC + tsc_offset, on every vCPU */
	uint32_t tsc_gen;	    /* counts the changes of tsc_offset */
	uint64_t write_value;	    /* the last IA32_TSC write that set the TSC (0 at the start) */
	uint64_t write_host_tsc;    /* the host TSC then */
};

/* Guest time 0 and guest TSC 0 at host TSC host_tsc. tsc_hz must be >= 1000. */
void vm_clock_start(struct vm_clock *c, uint64_t host_tsc, uint64_t tsc_hz, bool stable);

/* Guest nanoseconds at host TSC host_tsc (0 before the start). */
uint64_t vm_clock_ns(const struct vm_clock *c, uint64_t host_tsc);

/* Guest nanoseconds when the guest TSC reads guest_tsc (0 for a value before guest time 0). */
uint64_t vm_clock_tsc_ns(const struct vm_clock *c, uint64_t guest_tsc);

/* The guest TSC at guest time 0: a kvm-clock page of (this, 0) gives every vCPU the same time. */
uint64_t vm_clock_tsc_at_zero(const struct vm_clock *c);

/* A guest writes value to IA32_TSC at host TSC host_tsc: true when the VM's TSC offset changed
 * (every vCPU must take it), false for a synchronising write. */
bool vm_clock_write_tsc(struct vm_clock *c, uint64_t value, uint64_t host_tsc);

#endif
