#include "arch/x86/apic.h"

#include "arch/x86/cpu.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/time.h"
#include "lib/log.h"

/* xAPIC register offsets (Intel SDM vol 3, table 11-1) */
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define APIC_BASE_ENABLE (1ull << 11)

void host_timer_entry(void);
void host_spurious_entry(void);
void host_timer_interrupt(void);
void host_spurious_interrupt(void);

static volatile uint32_t *apic;
static uint64_t ticks_per_ms;

static uint32_t apic_read(unsigned reg)
{
	return apic[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	apic[reg / 4] = v;
}

void host_timer_interrupt(void)
{
	apic_write(APIC_EOI, 0);
}

void host_spurious_interrupt(void)
{
	/* a spurious interrupt needs no EOI (Intel SDM vol 3, 11.9) */
}

void host_apic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Never clear the global enable bit: QEMU 7.2 would not let it be set again. */
	if (!(base & APIC_BASE_ENABLE))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_ENABLE);
	apic = (volatile uint32_t *)(uintptr_t)(base & 0xffffff000ull);
	idt_set_handler(HOST_TIMER_VECTOR, (uint64_t)(uintptr_t)host_timer_entry);
	idt_set_handler(HOST_SPURIOUS_VECTOR, (uint64_t)(uintptr_t)host_spurious_entry);
	apic_write(APIC_SVR, SVR_ENABLE | HOST_SPURIOUS_VECTOR);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_TIMER_DIV, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, LVT_MASKED | HOST_TIMER_VECTOR);

	/* count for 10 ms of TSC time */
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	time_delay_us(10000);
	uint32_t left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	ticks_per_ms = (0xffffffffull - left) / 10;
	if (!ticks_per_ms)
		ticks_per_ms = 1;
	apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR); /* one-shot, unmasked */
	klog("keel: host APIC at %llx, timer %llu kHz", (unsigned long long)(uintptr_t)apic,
	     (unsigned long long)ticks_per_ms);
}

void host_timer_arm_us(uint64_t us)
{
	uint64_t ticks = us ? us * ticks_per_ms / 1000 : 0;
	if (us && !ticks)
		ticks = 1;
	apic_write(APIC_TIMER_INIT, ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks);
}

void host_idle_us(uint64_t us)
{
	host_timer_arm_us(us);
	/* sti's one-instruction shadow makes "sti; hlt" race-free */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void host_take_pending_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}
