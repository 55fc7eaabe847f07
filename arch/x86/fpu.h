/* The FPU/SSE/AVX register state, which keel itself never uses (-mgeneral-regs-only): while a
 * vCPU owns a CPU its state simply stays in the registers across exits. keel resets it before
 * and after each VM, so no VM ever sees what another left there (Intel SDM vol 1, chapter 13
 * "Managing State Using the XSAVE Feature Set"). Saving a vCPU's state for another to run on the
 * same CPU comes with time-slicing (issue 5). */
#ifndef KEEL_ARCH_X86_FPU_H
#define KEEL_ARCH_X86_FPU_H

#include "lib/types.h"

/* Finds the XSAVE area size and the components the CPU supports. */
void fpu_init(void);
/* Puts every component in its initial state (zeroed registers, default control words) and sets
 * XCR0 to a vCPU's reset value (x87 only, SDM 13.3). */
void fpu_reset(void);

#endif
