/* kvm-clock, the paravirtual clock keel offers under its KVM-compatible CPUID signature
 * (EMULATION.md): the guest learns its TSC's exact rate from it instead of calibrating against
 * emulated timers, which fails when every timer read is a VM exit. Layouts from the KVM
 * documentation (Documentation/virt/kvm/x86/msr.rst: MSR_KVM_SYSTEM_TIME_NEW and
 * MSR_KVM_WALL_CLOCK_NEW, struct pvclock_vcpu_time_info and pvclock_wall_clock). */
#ifndef KEEL_CORE_KVMCLOCK_H
#define KEEL_CORE_KVMCLOCK_H

#include "core/gmem.h"
#include "lib/types.h"

#define MSR_KVM_WALL_CLOCK_NEW 0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW 0x4b564d01
/* CPUID 0x40000001 EAX */
#define KVM_FEATURE_CLOCKSOURCE2 (1u << 3)
#define KVM_FEATURE_CLOCKSOURCE_STABLE_BIT (1u << 24)
#define PVCLOCK_TSC_STABLE_BIT (1u << 0)

/* ns = ((tsc_delta << shift, or >> -shift) * mul) >> 32 */
struct pvclock_scale {
	uint32_t mul;
	int8_t shift;
};

/* The scale that turns ticks of a tsc_hz clock into nanoseconds. tsc_hz must be >= 1000. */
struct pvclock_scale pvclock_scale_for(uint64_t tsc_hz);
uint64_t pvclock_scale_apply(struct pvclock_scale s, uint64_t tsc_delta);

/* Writes the vCPU time structure at gpa (32 bytes, 4-aligned): at guest TSC tsc the guest time is
 * system_ns, and it advances by scale; stable sets PVCLOCK_TSC_STABLE_BIT, which tells the guest
 * that every vCPU's structure gives the same time (core/vm_clock.h). -1 when gpa is not a whole
 * structure in guest RAM. */
int kvmclock_write_time(const struct guest_mem *m, uint64_t gpa, uint64_t tsc, uint64_t system_ns,
			struct pvclock_scale scale, bool stable);
/* Writes the wall clock (12 bytes) at gpa: the time of guest time 0, seconds since 1970. */
int kvmclock_write_wall(const struct guest_mem *m, uint64_t gpa, uint64_t epoch_sec);

/* Seconds since 1970-01-01 of a UTC calendar time (proleptic Gregorian), or 0 when invalid. */
uint64_t epoch_seconds(unsigned year, unsigned month, unsigned day, unsigned hour, unsigned minute,
		       unsigned second);

#endif
