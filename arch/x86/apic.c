#include "arch/x86/apic.h"

#include "arch/x86/cpu.h"
#include "arch/x86/cpu_tables.h"
#include "arch/x86/percpu.h"
#include "arch/x86/time.h"
#include "lib/log.h"

/* xAPIC register offsets (Intel SDM vol 3, table 11-1); in x2APIC mode register r is MSR
 * 0x800 + r / 16 (11.12.1.2) */
#define APIC_ID 0x020
#define APIC_TPR 0x080
#define APIC_EOI 0x0b0
#define APIC_SVR 0x0f0
#define APIC_ICR_LO 0x300
#define APIC_ICR_HI 0x310
#define ICR_PENDING (1u << 12) /* delivery status: send pending (xAPIC only) */
#define ICR_ASSERT (1u << 14)
#define ICR_INIT (5u << 8)
#define ICR_STARTUP (6u << 8)
#define MSR_X2APIC_BASE 0x800
#define APIC_LVT_TIMER 0x320
#define APIC_TIMER_INIT 0x380
#define APIC_TIMER_CUR 0x390
#define APIC_TIMER_DIV 0x3e0
#define SVR_ENABLE (1u << 8)
#define LVT_MASKED (1u << 16)
#define APIC_BASE_ENABLE (1ull << 11)
#define APIC_BASE_EXTD (1ull << 10) /* x2APIC mode */

void host_timer_entry(void);
void host_spurious_entry(void);
void host_wake_entry(void);
void host_device_entry(void);
void host_timer_interrupt(void);
void host_spurious_interrupt(void);
void host_wake_interrupt(void);
void host_device_interrupt(void);

/* The same on every CPU: each sees its own local APIC at the xAPIC address. */
static volatile uint32_t *apic;
static bool x2apic;
static uint64_t ticks_per_ms;
/* HOST_DEVICE_VECTOR interrupts: one counter for all CPUs, bumped atomically (a statistic for the
 * shell and the tests; nothing waits on it) */
static uint64_t device_interrupts;

static uint32_t apic_read(unsigned reg)
{
	return x2apic ? (uint32_t)rdmsr(MSR_X2APIC_BASE + reg / 16) : apic[reg / 4];
}

static void apic_write(unsigned reg, uint32_t v)
{
	if (x2apic)
		wrmsr(MSR_X2APIC_BASE + reg / 16, v);
	else
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

void host_wake_interrupt(void)
{
	apic_write(APIC_EOI, 0);
}

/* A device's MSI: its only job was to end HLT or force a VM exit, which has happened by now; the
 * loop that resumes polls the devices. Edge triggered, so the EOI is all the APIC needs. */
void host_device_interrupt(void)
{
	__atomic_add_fetch(&device_interrupts, 1, __ATOMIC_RELAXED);
	apic_write(APIC_EOI, 0);
}

/* A passed-through function's message: noted for vm_pci_poll, which any CPU's loop runs; the
 * interrupt itself ended HLT or the guest's run on this CPU, which is noted too (the shell's
 * stats count the messages that arrived where their vCPU runs). */
static uint32_t passthru_pending;
static unsigned passthru_cpu[HOST_PASSTHRU_VECTORS];

#define PASSTHRU_HANDLER(n)                                                                        \
	void host_passthru_entry_##n(void);                                                        \
	void host_passthru_interrupt_##n(void);                                                    \
	void host_passthru_interrupt_##n(void)                                                     \
	{                                                                                          \
		__atomic_store_n(&passthru_cpu[n], this_cpu()->index, __ATOMIC_RELAXED);           \
		__atomic_or_fetch(&passthru_pending, 1u << (n), __ATOMIC_RELEASE);                 \
		apic_write(APIC_EOI, 0);                                                           \
	}
PASSTHRU_HANDLER(0)
PASSTHRU_HANDLER(1)
PASSTHRU_HANDLER(2)
PASSTHRU_HANDLER(3)
PASSTHRU_HANDLER(4)
PASSTHRU_HANDLER(5)
PASSTHRU_HANDLER(6)
PASSTHRU_HANDLER(7)
PASSTHRU_HANDLER(8)
PASSTHRU_HANDLER(9)
PASSTHRU_HANDLER(10)
PASSTHRU_HANDLER(11)
PASSTHRU_HANDLER(12)
PASSTHRU_HANDLER(13)
PASSTHRU_HANDLER(14)
PASSTHRU_HANDLER(15)

static void (*const passthru_entries[HOST_PASSTHRU_VECTORS])(void) = {
	host_passthru_entry_0,	host_passthru_entry_1,	host_passthru_entry_2,
	host_passthru_entry_3,	host_passthru_entry_4,	host_passthru_entry_5,
	host_passthru_entry_6,	host_passthru_entry_7,	host_passthru_entry_8,
	host_passthru_entry_9,	host_passthru_entry_10, host_passthru_entry_11,
	host_passthru_entry_12, host_passthru_entry_13, host_passthru_entry_14,
	host_passthru_entry_15,
};

uint32_t host_passthru_take(void)
{
	if (!__atomic_load_n(&passthru_pending, __ATOMIC_RELAXED))
		return 0;
	return __atomic_exchange_n(&passthru_pending, 0, __ATOMIC_ACQUIRE);
}

unsigned host_passthru_cpu(unsigned n)
{
	return n < HOST_PASSTHRU_VECTORS ? __atomic_load_n(&passthru_cpu[n], __ATOMIC_RELAXED) : 0;
}

uint64_t host_device_interrupts(void)
{
	return __atomic_load_n(&device_interrupts, __ATOMIC_RELAXED);
}

/* This CPU's APIC on and in the boot CPU's mode, keel's vectors, the timer masked. */
static void apic_enable_here(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	/* Never clear the global enable bit: QEMU 7.2 would not let it be set again. */
	if (!(base & APIC_BASE_ENABLE)) {
		base |= APIC_BASE_ENABLE;
		wrmsr(MSR_APIC_BASE, base);
	}
	/* an AP comes out of INIT in xAPIC mode; x2APIC is entered from there (SDM 11.12.5) */
	if (x2apic && !(base & APIC_BASE_EXTD))
		wrmsr(MSR_APIC_BASE, base | APIC_BASE_EXTD);
	apic_write(APIC_SVR, SVR_ENABLE | HOST_SPURIOUS_VECTOR);
	apic_write(APIC_TPR, 0);
	apic_write(APIC_TIMER_DIV, 0xb); /* divide by 1 */
	apic_write(APIC_LVT_TIMER, LVT_MASKED | HOST_TIMER_VECTOR);
}

void host_apic_init(void)
{
	uint64_t base = rdmsr(MSR_APIC_BASE);

	x2apic = (base & APIC_BASE_ENABLE) && (base & APIC_BASE_EXTD);
	apic = (volatile uint32_t *)(uintptr_t)(base & 0xffffff000ull);
	idt_set_handler(HOST_TIMER_VECTOR, (uint64_t)(uintptr_t)host_timer_entry);
	idt_set_handler(HOST_SPURIOUS_VECTOR, (uint64_t)(uintptr_t)host_spurious_entry);
	idt_set_handler(HOST_WAKE_VECTOR, (uint64_t)(uintptr_t)host_wake_entry);
	idt_set_handler(HOST_DEVICE_VECTOR, (uint64_t)(uintptr_t)host_device_entry);
	for (unsigned i = 0; i < HOST_PASSTHRU_VECTORS; i++)
		idt_set_handler(HOST_PASSTHRU_VECTOR + i, (uint64_t)(uintptr_t)passthru_entries[i]);
	apic_enable_here();

	/* count for 10 ms of TSC time */
	apic_write(APIC_TIMER_INIT, 0xffffffffu);
	time_delay_us(10000);
	uint32_t left = apic_read(APIC_TIMER_CUR);
	apic_write(APIC_TIMER_INIT, 0);
	ticks_per_ms = (0xffffffffull - left) / 10;
	if (!ticks_per_ms)
		ticks_per_ms = 1;
	apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR); /* one-shot, unmasked */
	klog("keel: host APIC at %llx%s, timer %llu kHz", (unsigned long long)(uintptr_t)apic,
	     x2apic ? " (x2APIC mode)" : "", (unsigned long long)ticks_per_ms);
}

void host_apic_init_ap(void)
{
	apic_enable_here();
	apic_write(APIC_TIMER_INIT, 0);
	apic_write(APIC_LVT_TIMER, HOST_TIMER_VECTOR); /* one-shot, unmasked; the boot CPU's rate */
}

bool host_apic_x2apic(void)
{
	return x2apic;
}

uint32_t host_apic_id(void)
{
	return x2apic ? apic_read(APIC_ID) : apic_read(APIC_ID) >> 24;
}

/* Writes the ICR (SDM 11.6.1; x2APIC: one 64-bit MSR, 11.12.9) and waits until the xAPIC has
 * sent the IPI. -1 when it stays pending for 10 ms. */
static int send_ipi(uint32_t apic_id, uint32_t icr_lo)
{
	if (x2apic) {
		wrmsr(MSR_X2APIC_BASE + APIC_ICR_LO / 16, (uint64_t)apic_id << 32 | icr_lo);
		return 0;
	}
	apic_write(APIC_ICR_HI, apic_id << 24);
	apic_write(APIC_ICR_LO, icr_lo);
	uint64_t end = time_now_us() + 10000;
	while (apic_read(APIC_ICR_LO) & ICR_PENDING)
		if (time_now_us() > end)
			return -1;
	return 0;
}

int host_apic_send_init(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_INIT | ICR_ASSERT);
}

int host_apic_send_startup(uint32_t apic_id, uint8_t page)
{
	return send_ipi(apic_id, ICR_STARTUP | ICR_ASSERT | page);
}

int host_apic_send_wake(uint32_t apic_id)
{
	return send_ipi(apic_id, ICR_ASSERT | HOST_WAKE_VECTOR); /* fixed, physical destination */
}

void host_timer_arm_us(uint64_t us)
{
	uint64_t ticks = us ? us * ticks_per_ms / 1000 : 0;
	if (us && !ticks)
		ticks = 1;
	apic_write(APIC_TIMER_INIT, ticks > 0xffffffffu ? 0xffffffffu : (uint32_t)ticks);
}

void host_tpr_open(void)
{
	uint64_t cr8;
	__asm__ volatile("mov %%cr8, %0" : "=r"(cr8));
	if (cr8)
		__asm__ volatile("mov %0, %%cr8" ::"r"(0ull) : "memory");
}

void host_idle_us(uint64_t us)
{
	host_tpr_open();
	host_timer_arm_us(us);
	/* sti's one-instruction shadow makes "sti; hlt" race-free */
	__asm__ volatile("sti; hlt; cli" ::: "memory");
}

void host_take_pending_interrupts(void)
{
	__asm__ volatile("sti; nop; cli" ::: "memory");
}
