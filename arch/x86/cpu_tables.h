/* keel's own GDT, TSS and IDT (Intel SDM vol 3, 3.4.5 segment descriptors, 6.14.1 64-bit IDT
 * gates, 7.7 64-bit TSS). */
#ifndef KEEL_ARCH_X86_CPU_TABLES_H
#define KEEL_ARCH_X86_CPU_TABLES_H

#include "lib/types.h"

#define KEEL_CS 0x08
#define KEEL_DS 0x10
#define KEEL_TSS 0x18

/* Register state pushed by the exception entry stubs (arch/x86/exceptions.S). */
struct trap_frame {
	uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
	uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
	uint64_t vector, error_code;
	uint64_t rip, cs, rflags, rsp, ss; /* pushed by the CPU */
};

/* Loads this CPU's GDT, TSS and IDT. */
void cpu_tables_init(void);
void exception_handler(struct trap_frame *f);
/* Points IDT vector vec at handler (an interrupt gate on keel's stack). */
void idt_set_handler(unsigned vec, uint64_t handler);

#endif
