/* The FPU/SSE/AVX register state, which keel itself never uses (-mgeneral-regs-only): while a
 * vCPU owns a CPU its state simply stays in the registers across exits. When a CPU switches
 * between vCPUs (time-slicing, core/sched.c) it saves one vCPU's state in its area and loads
 * the next one's, so no vCPU ever sees another's registers (Intel SDM vol 1, chapter 13
 * "Managing State Using the XSAVE Feature Set"; without XSAVE, FXSAVE's 512 bytes). */
#ifndef KEEL_ARCH_X86_FPU_H
#define KEEL_ARCH_X86_FPU_H

#include "lib/types.h"

/* Finds the XSAVE area size and the components the CPU supports. */
void fpu_init(void);
/* Bytes of one save area (64-byte aligned, which page-aligned allocations are). */
size_t fpu_area_size(void);
/* An area in the power-on state: XRSTOR (or FXRSTOR) of it gives zeroed registers and the
 * default control words, as after RESET or INIT. */
void fpu_area_init(void *area);
/* The registers into area, every component; returns the XCR0 the guest had (read back, not
 * remembered: QEMU's SVM lets XSETBV through without the exit keel asks for) and leaves XCR0
 * with every component enabled. */
uint64_t fpu_save(void *area);
/* The registers from area, then XCR0 = xcr0 (the vCPU's own, which it set with XSETBV). */
void fpu_restore(const void *area, uint64_t xcr0);

#endif
