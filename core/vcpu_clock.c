#include "core/vcpu_clock.h"

#include "arch/x86/cpu.h"
#include "core/kvmclock.h"
#include "core/sched.h"
#include "core/virt.h"

/* The vCPU's structure from its current TSC offset: guest time 0 is its TSC's value at the
 * VM's start, so every vCPU computes one time from one host TSC (core/vm_clock.h). */
static bool write_kvmclock(struct vcpu *v)
{
	const struct vm_clock *c = &v->vm->clock;
	return kvmclock_write_time(&v->vm->mem, v->kvm_system_time & ~1ull,
				   c->host_tsc0 + v->tsc_offset, 0, c->scale, c->stable) == 0;
}

void vcpu_take_clock(struct vcpu *v)
{
	struct vm *vm = v->vm;

	if (__atomic_load_n(&vm->clock.tsc_gen, __ATOMIC_ACQUIRE) == v->tsc_gen)
		return;
	vm_lock(vm);
	v->tsc_offset = vm->clock.tsc_offset;
	v->tsc_gen = vm->clock.tsc_gen;
	vm_unlock(vm);
	virt->set_tsc_offset(v, v->tsc_offset);
	if (v->kvm_system_time & 1)
		(void)write_kvmclock(v); /* it was in RAM when enabled; RAM does not move */
}

void vcpu_write_tsc(struct vcpu *v, uint64_t value)
{
	struct vm *vm = v->vm;

	vm_lock(vm);
	bool moved = vm_clock_write_tsc(&vm->clock, value, rdtsc());
	vm_unlock(vm);
	if (!moved)
		return;
	vcpu_take_clock(v);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i] != v)
			sched_kick(vm->vcpus[i]);
}

bool vcpu_set_kvmclock(struct vcpu *v, uint64_t value)
{
	uint64_t old = v->kvm_system_time;

	v->kvm_system_time = value;
	if ((value & 1) && !write_kvmclock(v)) {
		v->kvm_system_time = old;
		return false;
	}
	return true;
}
