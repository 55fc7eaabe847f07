/* What is typed on keel's serial console, and who gets it: the VM with the input focus (its
 * UART), or keel's shell (core/shell.h). Ctrl-T three times moves the focus on
 * (core/console_mux.h): the VMs in keel.cfg order, then the shell. */
#ifndef KEEL_CORE_CONSOLE_INPUT_H
#define KEEL_CORE_CONSOLE_INPUT_H

#include "core/vm.h"

/* The VMs that share the console, in keel.cfg order; the first has the focus. */
void console_input_attach(struct vm **vms, unsigned nr);
/* Reads what the host's serial port has and hands it on. Any CPU, often: one at a time reads,
 * the others return at once. */
void console_input_poll(void);
/* vm stopped for good: if it had the focus, the next running VM gets it (else the shell). */
void console_input_vm_stopped(struct vm *vm);

#endif
