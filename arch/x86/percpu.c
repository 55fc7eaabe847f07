#include "arch/x86/percpu.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "core/kmem.h"
#include "lib/kstring.h"
#include "mm/phys.h"

/* The boot CPU's struct and IST stacks are static: it needs them before the allocator exists.
 * Each IST stack sits above a page of its own that percpu_guard_boot_cpu unmaps. */
static struct percpu boot_cpu;
static uint8_t boot_ist[CPU_NR_IST][PAGE_SIZE + PERCPU_IST_SIZE] __attribute__((aligned(4096)));

static struct percpu *cpus[KEEL_MAX_CPUS];
static unsigned nr_cpus;

struct percpu *percpu_get(unsigned i)
{
	return i < nr_cpus ? cpus[i] : NULL;
}

unsigned percpu_count(void)
{
	return nr_cpus;
}

unsigned percpu_online_count(void)
{
	unsigned n = 0;
	for (unsigned i = 0; i < nr_cpus; i++)
		n += cpus[i]->state == CPU_ONLINE;
	return n;
}

void percpu_load(struct percpu *pc)
{
	cpu_tables_load(&pc->tables, pc->ist_top);
	/* after the segment loads: a null selector load may clear the GS base (on Intel) */
	wrmsr(MSR_GS_BASE, (uint64_t)(uintptr_t)pc);
}

void percpu_init_boot_cpu(void)
{
	idt_init();
	boot_cpu.self = &boot_cpu;
	boot_cpu.index = 0;
	boot_cpu.state = CPU_ONLINE;
	for (int i = 0; i < CPU_NR_IST; i++)
		boot_cpu.ist_top[i] = (uint64_t)(uintptr_t)(boot_ist[i] + sizeof(boot_ist[i]));
	cpus[0] = &boot_cpu;
	nr_cpus = 1;
	percpu_load(&boot_cpu);
}

void percpu_guard_boot_cpu(void)
{
	for (int i = 0; i < CPU_NR_IST; i++)
		paging_unmap((uint64_t)(uintptr_t)boot_ist[i], PAGE_SIZE);
}

/* One allocation per AP: [guard][IST 1][guard][IST 2][guard][IST 3][guard][stack]. */
#define AP_STACKS_SIZE (CPU_NR_IST * (PAGE_SIZE + PERCPU_IST_SIZE) + PAGE_SIZE + PERCPU_STACK_SIZE)

struct percpu *percpu_alloc(unsigned index, uint32_t apic_id)
{
	if (index >= KEEL_MAX_CPUS)
		return NULL;
	if (index == 0) {
		boot_cpu.apic_id = apic_id;
		return &boot_cpu;
	}
	struct percpu *pc = kmem_alloc_pages(sizeof(*pc), PAGE_SIZE);
	uint8_t *mem = kmem_alloc_pages(AP_STACKS_SIZE, PAGE_SIZE);
	if (!pc || !mem) {
		if (pc)
			kmem_free_pages(pc, sizeof(*pc));
		return NULL;
	}
	pc->self = pc;
	pc->index = index;
	pc->apic_id = apic_id;
	pc->state = CPU_ABSENT;
	for (int i = 0; i < CPU_NR_IST; i++) {
		uint8_t *guard = mem + (size_t)i * (PAGE_SIZE + PERCPU_IST_SIZE);
		paging_unmap((uint64_t)(uintptr_t)guard, PAGE_SIZE);
		pc->ist_top[i] = (uint64_t)(uintptr_t)(guard + PAGE_SIZE + PERCPU_IST_SIZE);
	}
	uint8_t *guard = mem + CPU_NR_IST * (PAGE_SIZE + PERCPU_IST_SIZE);
	paging_unmap((uint64_t)(uintptr_t)guard, PAGE_SIZE);
	pc->stack_top = (uint64_t)(uintptr_t)(guard + PAGE_SIZE + PERCPU_STACK_SIZE);
	cpus[index] = pc;
	if (index >= nr_cpus)
		nr_cpus = index + 1;
	return pc;
}
