/* Guest console output from the VMs' rings (core/console_buf.h) to the host console. Whoever
 * drains holds one lock of its own, never a VM's lock while it writes: a vCPU queues its output
 * under its VM's lock and goes on at once, and the host serial port's pace is the drainer's
 * business. Draining happens between a vCPU's exits (its own VM's output, within its slice),
 * between slices and in the idle loop (every VM's, round-robin, a line at a time). */
#ifndef KEEL_CORE_GUEST_CONSOLE_H
#define KEEL_CORE_GUEST_CONSOLE_H

#include "core/vm.h"

/* How long a CPU spends on every VM's output between two slices, at least one line. */
#define GUEST_CONSOLE_DRAIN_US 1000
/* How long a vCPU spends on its own VM's output between two of its exits, at least one line:
 * enough for what a guest writing byte by byte (Linux's 8250 console) says between them, so it
 * loses nothing; far less than a REP OUTS flood queues in one exit, so the flood overflows its
 * ring and loses its own output rather than anyone's time. */
#define GUEST_CONSOLE_OWN_US 200
/* A partial line shows at the latest this long after its first byte while the guest runs on (at
 * once when it waits): short enough that a progress line keeps moving, long enough that a line
 * written byte by byte is whole before it goes. */
#define GUEST_CONSOLE_PARTIAL_MS 50

void guest_console_attach(struct vm **vms, unsigned nr);
/* Writes queued lines (of vm only, or of every VM when vm is NULL) until none is left or keel's
 * clock reaches until_ns; one line at least. Returns at once when another CPU drains. */
void guest_console_drain(struct vm *vm, uint64_t until_ns);
/* True when vm's output (any VM's when NULL) waits: a hint, read without the VMs' locks. */
bool guest_console_pending(const struct vm *vm);
/* Everything vm queued, its partial line included, goes out now, before keel logs why it
 * stopped: a guest's last words come before keel's line about its end. Waits for a CPU that
 * drains meanwhile. */
void guest_console_flush(struct vm *vm);

#endif
