#ifndef KEEL_ARCH_X86_ENTRY_H
#define KEEL_ARCH_X86_ENTRY_H

#include "lib/types.h"

/* Moves to a new stack and calls fn(arg) there; fn must not return. */
NORETURN void switch_stack_and_call(uint64_t stack_top, NORETURN void (*fn)(void *), void *arg);

#endif
