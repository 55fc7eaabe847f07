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

/* IST 1-3: #DF, NMI and #MC run on stacks of their own, so a blown keel stack still gets a report
 * (Intel SDM vol 3, 6.14.5). */
#define CPU_NR_IST 3

struct tss64 {
	uint32_t reserved0;
	uint64_t rsp[3];
	uint64_t reserved1;
	uint64_t ist[7];
	uint64_t reserved2;
	uint16_t reserved3;
	uint16_t iomap_base;
} PACKED;

/* One CPU's GDT and TSS (every CPU has its own: a TSS holds that CPU's IST stacks, and the CPU
 * marks its TSS descriptor busy on LTR). */
struct cpu_tables {
	uint64_t gdt[5] __attribute__((aligned(16)));
	struct tss64 tss __attribute__((aligned(16)));
};

/* Fills the IDT every CPU shares (exception gates); once, on the boot CPU, before any
 * cpu_tables_load. idt_set_handler adds interrupt gates later, before the APs start. */
void idt_init(void);
/* Fills t (GDT with a TSS whose IST 1-3 tops are ist_top) and loads it, the TR and the shared
 * IDT on this CPU; reloads CS, DS, ES, SS and zeroes FS and GS (not their bases). */
void cpu_tables_load(struct cpu_tables *t, const uint64_t ist_top[CPU_NR_IST]);
void exception_handler(struct trap_frame *f);
/* Points IDT vector vec at handler (an interrupt gate on keel's stack). */
void idt_set_handler(unsigned vec, uint64_t handler);

#endif
