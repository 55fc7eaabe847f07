#include "arch/x86/cpu_tables.h"

#include "arch/x86/cpu.h"
#include "core/panic.h"
#include "lib/kstring.h"
#include "lib/log.h"

struct idt_gate {
	uint16_t offset_lo;
	uint16_t selector;
	uint8_t ist;
	uint8_t type_attr;
	uint16_t offset_mid;
	uint32_t offset_hi;
	uint32_t reserved;
} PACKED;

struct table_ptr {
	uint16_t limit;
	uint64_t base;
} PACKED;

/* One IDT for every CPU: written once by the boot CPU, read-only once the APs run. */
static struct idt_gate idt[256] __attribute__((aligned(16)));

extern const uint64_t exception_stubs[32];

static const char *const exception_names[32] = {
	"#DE divide error",
	"#DB debug",
	"NMI",
	"#BP breakpoint",
	"#OF overflow",
	"#BR bound range",
	"#UD invalid opcode",
	"#NM device not available",
	"#DF double fault",
	"coprocessor overrun",
	"#TS invalid TSS",
	"#NP segment not present",
	"#SS stack fault",
	"#GP general protection",
	"#PF page fault",
	"reserved 15",
	"#MF x87 error",
	"#AC alignment check",
	"#MC machine check",
	"#XM SIMD error",
	"#VE virtualization",
	"#CP control protection",
};

static void set_gate(unsigned vec, uint64_t handler, unsigned ist)
{
	idt[vec] = (struct idt_gate){
		.offset_lo = (uint16_t)handler,
		.selector = KEEL_CS,
		.ist = (uint8_t)ist,
		.type_attr = 0x8e, /* present, DPL 0, 64-bit interrupt gate */
		.offset_mid = (uint16_t)(handler >> 16),
		.offset_hi = (uint32_t)(handler >> 32),
	};
}

void idt_set_handler(unsigned vec, uint64_t handler)
{
	set_gate(vec & 0xff, handler, 0);
}

void idt_init(void)
{
	for (unsigned v = 0; v < 32; v++) {
		unsigned ist = v == 8 ? 1 : v == 2 ? 2 : v == 18 ? 3 : 0;
		set_gate(v, exception_stubs[v], ist);
	}
}

void cpu_tables_load(struct cpu_tables *t, const uint64_t ist_top[CPU_NR_IST])
{
	uint64_t tss_base = (uint64_t)(uintptr_t)&t->tss;
	uint64_t tss_limit = sizeof(t->tss) - 1;

	t->gdt[0] = 0;
	t->gdt[1] = 0x00af9b000000ffffull; /* code: present, DPL 0, L=1 */
	t->gdt[2] = 0x00cf93000000ffffull; /* data: present, writable */
	/* 64-bit available TSS (type 9), a 16-byte descriptor */
	t->gdt[3] = (tss_limit & 0xffff) | ((tss_base & 0xffffff) << 16) | (0x89ull << 40) |
		    ((tss_limit >> 16 & 0xf) << 48) | ((tss_base >> 24 & 0xff) << 56);
	t->gdt[4] = tss_base >> 32;

	memset(&t->tss, 0, sizeof(t->tss));
	for (int i = 0; i < CPU_NR_IST; i++)
		t->tss.ist[i] = ist_top[i];
	t->tss.iomap_base = sizeof(t->tss); /* no I/O bitmap */

	struct table_ptr gp = { sizeof(t->gdt) - 1, (uint64_t)(uintptr_t)t->gdt };
	struct table_ptr ip = { sizeof(idt) - 1, (uint64_t)(uintptr_t)idt };
	__asm__ volatile("lgdt %0\n\t"
			 "pushq %1\n\t"
			 "leaq 1f(%%rip), %%rax\n\t"
			 "pushq %%rax\n\t"
			 "lretq\n"
			 "1:\n\t"
			 "movl %2, %%eax\n\t"
			 "movl %%eax, %%ds\n\t"
			 "movl %%eax, %%es\n\t"
			 "movl %%eax, %%ss\n\t"
			 "xorl %%eax, %%eax\n\t"
			 "movl %%eax, %%fs\n\t"
			 "movl %%eax, %%gs\n\t"
			 "ltr %w3\n\t"
			 "lidt %4"
			 :
			 : "m"(gp), "i"(KEEL_CS), "i"(KEEL_DS), "r"((uint16_t)KEEL_TSS), "m"(ip)
			 : "rax", "memory");
}

void exception_handler(struct trap_frame *f)
{
	const char *name = f->vector < 32 && exception_names[f->vector] ? exception_names[f->vector]
									: "exception";
	klog("keel: EXCEPTION %llu %s, error code %#llx", (unsigned long long)f->vector, name,
	     (unsigned long long)f->error_code);
	klog("  rip %016llx cs %04llx rflags %016llx rsp %016llx ss %04llx",
	     (unsigned long long)f->rip, (unsigned long long)f->cs, (unsigned long long)f->rflags,
	     (unsigned long long)f->rsp, (unsigned long long)f->ss);
	klog("  rax %016llx rbx %016llx rcx %016llx rdx %016llx", (unsigned long long)f->rax,
	     (unsigned long long)f->rbx, (unsigned long long)f->rcx, (unsigned long long)f->rdx);
	klog("  rsi %016llx rdi %016llx rbp %016llx r8  %016llx", (unsigned long long)f->rsi,
	     (unsigned long long)f->rdi, (unsigned long long)f->rbp, (unsigned long long)f->r8);
	klog("  r9  %016llx r10 %016llx r11 %016llx r12 %016llx", (unsigned long long)f->r9,
	     (unsigned long long)f->r10, (unsigned long long)f->r11, (unsigned long long)f->r12);
	klog("  r13 %016llx r14 %016llx r15 %016llx", (unsigned long long)f->r13,
	     (unsigned long long)f->r14, (unsigned long long)f->r15);
	klog("  cr0 %016llx cr2 %016llx cr3 %016llx cr4 %016llx", (unsigned long long)read_cr0(),
	     (unsigned long long)read_cr2(), (unsigned long long)read_cr3(),
	     (unsigned long long)read_cr4());
	klog("  faulting rip %016llx", (unsigned long long)f->rip);
	backtrace_from(f->rbp);
	panic("unhandled exception in keel");
}
