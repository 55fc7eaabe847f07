/* What the exit handlers share (core/exit_*.c, dispatched from core/vm_run.c): the handlers
 * themselves, event injection, and the guest's mode as the emulation paths need it. */
#ifndef KEEL_CORE_EXIT_H
#define KEEL_CORE_EXIT_H

#include "arch/x86/emul/decode.h"
#include "arch/x86/emul/pagewalk.h"
#include "core/vm_run.h"

#define EXC_UD 6
#define EXC_GP 13
#define EXC_PF 14

/* Guest time in nanoseconds since the VM started (the vdev_env clock; ctx is the struct vm). */
uint64_t vm_now_ns(void *ctx);

/* exit handlers (exit_handler_fn) */
enum exit_result handle_io(struct vcpu *v, const struct vm_exit *e);	    /* exit_io.c */
enum exit_result handle_npf(struct vcpu *v, const struct vm_exit *e);	    /* exit_mmio.c */
enum exit_result handle_cpuid(struct vcpu *v, const struct vm_exit *e);	    /* exit_msr.c */
enum exit_result handle_msr(struct vcpu *v, const struct vm_exit *e);	    /* exit_msr.c */
enum exit_result handle_xsetbv(struct vcpu *v, const struct vm_exit *e);    /* exit_msr.c */
enum exit_result handle_rdpmc(struct vcpu *v, const struct vm_exit *e);	    /* exit_msr.c */
enum exit_result handle_cr8_write(struct vcpu *v, const struct vm_exit *e); /* exit_cr8.c */
enum exit_result handle_cr_write(struct vcpu *v, const struct vm_exit *e);  /* exit_cr.c */
enum exit_result handle_dr7_write(struct vcpu *v, const struct vm_exit *e); /* exit_dr7.c */

/* exit_helpers.c */
void skip_insn(struct vcpu *v, const struct vm_exit *e);
enum exit_result inject_exception(struct vcpu *v, uint8_t vector, bool has_error,
				  uint32_t error_code);
/* #PF for address: sets the guest's CR2 first */
enum exit_result inject_page_fault(struct vcpu *v, uint64_t address, uint32_t error_code);
enum x86_cpu_mode cpu_mode(const struct vcpu_sregs *s);
/* The bytes of the instruction at CS:RIP, as the guest fetches it (exits whose hardware named
 * neither register nor length): 0 with *n bytes read and its linear address in *la; <0 when a
 * #PF was injected instead (*res says how the exit ends); >0 when the bytes are not in guest
 * RAM (the caller ends the VM with its own words). */
int fetch_insn_at_rip(struct vcpu *v, const struct vcpu_sregs *s, uint8_t *bytes, unsigned *n,
		      uint64_t *la, enum exit_result *res);
struct paging_state paging_of(const struct vcpu_sregs *s);
/* The base of segment seg as the CPU uses it in mode (0 for ES/CS/SS/DS in 64-bit mode). */
uint64_t seg_base(const struct vcpu_sregs *s, enum x86_seg seg, enum x86_cpu_mode mode);
unsigned cpl_of(const struct vcpu_sregs *s);
/* platform_io, platform_mmio and the APIC MSRs of the VM's platform, under the VM's lock */
int vm_platform_io(struct vm *vm, uint16_t port, unsigned size, bool write, uint32_t *val);
int vm_platform_mmio(struct vcpu *v, uint64_t gpa, unsigned size, bool write, uint64_t *val);
int vm_platform_msr(struct vcpu *v, uint32_t msr, bool write, uint64_t *val);

#endif
