/* Running a VM: the vCPU loop and the exit handlers, dispatched through one table indexed by
 * exit reason (DESIGN.md). */
#ifndef KEEL_CORE_VM_RUN_H
#define KEEL_CORE_VM_RUN_H

#include "core/vm.h"

enum exit_result {
	EXIT_RESUME, /* back into the guest */
	EXIT_STOP,   /* the VM stops (the handler set vm->stop_reason) */
};

typedef enum exit_result (*exit_handler_fn)(struct vcpu *v, const struct vm_exit *e);

/* Stops the VM because of something the guest did that keel cannot or will not continue from:
 * logs "vm NAME: crashed: WHY" and a state dump. */
enum exit_result vm_crash(struct vcpu *v, const struct vm_exit *e, const char *fmt, ...)
	PRINTF_LIKE(3, 4);

/* What the scheduler (core/sched.c) asks of the VMs, on the CPU the vCPU runs on. */
/* The VM's first life: devices built, vCPUs told to join. */
void vm_start(struct vm *vm);
/* Joins or leaves the VM's life as it began or ends, takes INIT/SIPI and pending interrupts,
 * and says whether v can run now (not halted, not waiting for a SIPI, its VM running). */
bool vcpu_ready(struct vcpu *v);
/* keel's clock (ns) when v's next timer event is due, as vcpu_ready last found it, or UINT64_MAX
 * (only a kick wakes it). */
uint64_t vcpu_wake_ns(struct vcpu *v);
/* Runs v until it halts, its VM stops or keel's clock passes end_ns. */
void vcpu_run_slice(struct vcpu *v, uint64_t end_ns);

/* What keel's shell asks (any CPU): stop the VM, or stop it and start it again from its images
 * (a stopped VM starts at once). -1 with why in err when it cannot. */
void vm_stop(struct vm *vm, enum vm_stop_reason reason);
int vm_restart(struct vm *vm, char *err, size_t err_size);

/* The longest a vCPU polls a host device for its VM's disk requests after an exit. */
#define VCPU_IO_POLL_US 200

#endif
