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

/* A VM that had the console's input stops: the input goes to another VM still to run. */
void vm_pass_input_focus(struct vm *from);

#endif
