#include "arch/x86/smp.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_features.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "core/boot_info.h"
#include "core/cpu_list.h"
#include "core/virt.h"
#include "drivers/acpi_host_hw.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"

/* How long an AP has to report after its second start-up IPI. A real CPU needs microseconds;
 * emulated CPUs on a loaded host (QEMU's vCPU threads, Bochs' interleaving) need more. */
#define SMP_START_TIMEOUT_US 500000
#define TRAMP_PAGES 3 /* code, parameters, PML4 copy (arch/x86/smp_trampoline.S) */

extern const char smp_tramp_start[], smp_tramp_end[], smp_tramp32[], smp_tramp64[];
NORETURN void smp_ap_main(struct percpu *pc);

/* The trampoline's parameter page (offsets P_* in smp_trampoline.S). */
struct tramp_params {
	uint16_t gdt_limit; /* 0x00: lgdtl's 6-byte operand */
	uint32_t gdt_base;
	uint8_t pad0[10];
	uint32_t jmp32_off; /* 0x10: far pointers, offset then selector */
	uint16_t jmp32_sel;
	uint8_t pad1[2];
	uint32_t jmp64_off; /* 0x18 */
	uint16_t jmp64_sel;
	uint8_t pad2[2];
	uint64_t cr3_low; /* 0x20 */
	uint64_t cr3;	  /* 0x28 */
	uint64_t stack;	  /* 0x30 */
	uint64_t arg;	  /* 0x38 */
	uint64_t entry;	  /* 0x40 */
	uint8_t pad3[0x38];
	uint64_t gdt[4]; /* 0x80 */
} PACKED;
_Static_assert(offsetof(struct tramp_params, jmp32_off) == 0x10, "P_JMP32");
_Static_assert(offsetof(struct tramp_params, jmp64_off) == 0x18, "P_JMP64");
_Static_assert(offsetof(struct tramp_params, cr3_low) == 0x20, "P_CR3_LOW");
_Static_assert(offsetof(struct tramp_params, entry) == 0x40, "P_ENTRY");
_Static_assert(offsetof(struct tramp_params, gdt) == 0x80, "P_GDT");

static bool cas_state(struct percpu *pc, uint32_t from, uint32_t to)
{
	return __atomic_compare_exchange_n(&pc->state, &from, to, false, __ATOMIC_SEQ_CST,
					   __ATOMIC_SEQ_CST);
}

/* ---- on the AP ------------------------------------------------------------------------------ */

/* Entered from the trampoline on pc's stack, in long mode on keel's page tables, interrupts off. */
NORETURN void smp_ap_main(struct percpu *pc)
{
	percpu_load(pc);
	write_cr4(read_cr4() | CR4_OSFXSR | CR4_OSXMMEXCPT);
	cpu_features_enable(); /* the scheduler loads each vCPU's own FPU state before it runs */
	host_apic_init_ap();
	if (virt->cpu_enable(pc->fail_msg, sizeof(pc->fail_msg))) {
		cas_state(pc, CPU_STARTING, CPU_FAILED);
		cpu_halt_forever();
	}
	/* too late (the boot CPU gave up on this one): stay out of everything */
	if (!cas_state(pc, CPU_STARTING, CPU_ONLINE))
		cpu_halt_forever();

	/* parked: interrupts are off but for the HLT itself, which a wake-up IPI ends */
	for (;;) {
		percpu_job_fn fn = __atomic_load_n(&pc->job, __ATOMIC_ACQUIRE);
		if (!fn) {
			__asm__ volatile("sti; hlt; cli" ::: "memory");
			continue;
		}
		fn(pc->job_arg);
		__atomic_store_n(&pc->job, NULL, __ATOMIC_RELEASE);
	}
}

/* ---- on the boot CPU ------------------------------------------------------------------------ */

int smp_post(unsigned cpu, percpu_job_fn fn, void *arg)
{
	struct percpu *pc = percpu_get(cpu);
	if (!pc || cpu == this_cpu()->index || pc->state != CPU_ONLINE ||
	    __atomic_load_n(&pc->job, __ATOMIC_ACQUIRE))
		return -1;
	pc->job_arg = arg;
	__atomic_store_n(&pc->job, fn, __ATOMIC_RELEASE);
	return host_apic_send_wake(pc->apic_id);
}

int smp_wait(unsigned cpu, uint64_t timeout_us)
{
	struct percpu *pc = percpu_get(cpu);
	uint64_t end = time_now_us() + timeout_us;
	if (!pc)
		return -1;
	while (__atomic_load_n(&pc->job, __ATOMIC_ACQUIRE)) {
		if (time_now_us() > end)
			return -1;
		cpu_relax();
	}
	return 0;
}

/* The host's CPUs: its MADT, or NULL (with a log line) when there is none to trust. */
static const struct acpi_host_madt *host_madt(const struct boot_info *bi)
{
	static struct acpi_host h;
	static struct acpi_host_madt madt;
	int err;

	err = acpi_host_hw_init(&h, bi);
	if (!err)
		err = acpi_host_parse_madt(&h, &madt);
	if (err == ACPI_HOST_EMALFORMED && madt.nr_cpus) {
		klog("keel: the ACPI MADT is malformed after %u CPUs; using those", madt.nr_cpus);
		return &madt;
	}
	if (err) {
		klog("keel: no usable ACPI MADT (%s); the boot CPU alone", acpi_host_strerror(err));
		return NULL;
	}
	return &madt;
}

/* Copies the trampoline to base and fills the parameters every AP shares. */
static struct tramp_params *tramp_setup(uint64_t base)
{
	uint8_t *code = (uint8_t *)(uintptr_t)base;
	struct tramp_params *p = (struct tramp_params *)(uintptr_t)(base + PAGE_SIZE);
	uint64_t *pml4_copy = (uint64_t *)(uintptr_t)(base + 2 * PAGE_SIZE);
	uint64_t start = (uint64_t)(uintptr_t)smp_tramp_start;
	size_t len = (size_t)((uintptr_t)smp_tramp_end - start);

	memset(code, 0xcc, PAGE_SIZE); /* int3 */
	memcpy(code, smp_tramp_start, len);
	paging_map_code(base, PAGE_SIZE);

	memset(p, 0, sizeof(*p));
	p->gdt[1] = 0x00cf9b000000ffffull; /* 32-bit code */
	p->gdt[2] = 0x00cf93000000ffffull; /* 32-bit data */
	p->gdt[3] = 0x00af9b000000ffffull; /* 64-bit code */
	p->gdt_limit = sizeof(p->gdt) - 1;
	p->gdt_base = (uint32_t)(base + PAGE_SIZE + offsetof(struct tramp_params, gdt));
	p->jmp32_off = (uint32_t)(base + (uintptr_t)smp_tramp32 - start);
	p->jmp32_sel = 0x08;
	p->jmp64_off = (uint32_t)(base + (uintptr_t)smp_tramp64 - start);
	p->jmp64_sel = 0x18;
	/* after every change to keel's tables (guard pages, the code page): the copy must map
	 * the trampoline as keel's tables do */
	p->cr3 = read_cr3();
	memcpy(pml4_copy, (const void *)(uintptr_t)(p->cr3 & PTE_ADDR_MASK), PAGE_SIZE);
	p->cr3_low = (uint64_t)(uintptr_t)pml4_copy;
	p->entry = (uint64_t)(uintptr_t)smp_ap_main;
	return p;
}

/* INIT, 10 ms, SIPI, 200 us, SIPI, 200 us (Intel SDM vol 3, 9.4.4.1), then up to
 * SMP_START_TIMEOUT_US for the AP to report. */
static void start_ap(struct percpu *pc, struct tramp_params *p, uint8_t page)
{
	p->stack = pc->stack_top;
	p->arg = (uint64_t)(uintptr_t)pc;
	pc->fail_msg[0] = '\0';
	__atomic_store_n(&pc->state, CPU_STARTING, __ATOMIC_SEQ_CST);

	bool sent = !host_apic_send_init(pc->apic_id);
	time_delay_us(10000);
	for (int i = 0; i < 2 && sent; i++) {
		sent = !host_apic_send_startup(pc->apic_id, page);
		time_delay_us(200);
	}
	uint64_t end = time_now_us() + SMP_START_TIMEOUT_US;
	while (sent && __atomic_load_n(&pc->state, __ATOMIC_ACQUIRE) == CPU_STARTING &&
	       time_now_us() < end)
		cpu_relax();

	/* fail_msg is the AP's until it reports CPU_FAILED */
	bool abandoned = cas_state(pc, CPU_STARTING, CPU_ABANDONED);
	if (abandoned || pc->state == CPU_FAILED) {
		/* back to waiting for a start-up IPI, which none will send it */
		host_apic_send_init(pc->apic_id);
		klog("keel: cpu %u (APIC ID %u) did not start; left out%s%s", pc->index,
		     pc->apic_id, abandoned ? "" : ": ", abandoned ? "" : pc->fail_msg);
		return;
	}
	klog("keel: cpu %u: APIC ID %u online", pc->index, pc->apic_id);
}

void smp_init(const struct boot_info *bi)
{
	static struct cpu_list list;
	uint32_t boot_id = host_apic_id();
	const struct acpi_host_madt *madt = host_madt(bi);

	percpu_guard_boot_cpu();
	cpu_list_from_madt(madt, boot_id, host_apic_x2apic(), KEEL_MAX_CPUS, &list);
	if (madt && !list.boot_cpu_listed)
		klog("keel: the MADT does not list the boot CPU (APIC ID %u)", boot_id);
	if (list.nr_disabled)
		klog("keel: %u disabled CPUs in the MADT skipped", list.nr_disabled);
	if (list.nr_x2apic_id)
		klog("keel: %u CPUs with x2APIC IDs skipped (the APIC runs in xAPIC mode)",
		     list.nr_x2apic_id);
	if (list.nr_too_many)
		klog("keel: %u CPUs past keel's limit of %u skipped", list.nr_too_many,
		     KEEL_MAX_CPUS);
	percpu_alloc(0, boot_id)->stack_top = bi->stack_top;
	klog("keel: cpu 0: APIC ID %u online (boot CPU)", boot_id);

	uint64_t base = list.nr > 1 ? cpu_list_trampoline_base(bi, TRAMP_PAGES) : 0;
	if (list.nr > 1 && !base)
		klog("keel: no free RAM below 640 KiB for the APs' start-up code; %u CPUs left out",
		     list.nr - 1);
	unsigned nr = base ? list.nr : 1;
	/* every AP's memory first: its guard pages must be unmapped before any AP runs */
	for (unsigned i = 1; i < nr; i++) {
		if (!percpu_alloc(i, list.apic_id[i])) {
			klog("keel: out of memory for cpu %u and later; left out", i);
			nr = i;
		}
	}
	if (nr > 1) {
		struct tramp_params *p = tramp_setup(base);
		for (unsigned i = 1; i < nr; i++)
			start_ap(percpu_get(i), p, (uint8_t)(base >> 12));
	}
	klog("keel: %u CPUs online", percpu_online_count());
}

/* CPUID's view of this CPU's APIC ID: leaf 0Bh's x2APIC ID where the leaf exists, else the
 * initial APIC ID of leaf 1 (Intel SDM vol 2, CPUID). */
static uint32_t cpuid_apic_id(void)
{
	if (cpuid(0, 0).eax >= 0xb) {
		struct cpuid_regs r = cpuid(0xb, 0);
		if (r.ebx & 0xffff)
			return r.edx;
	}
	return cpuid(1, 0).ebx >> 24;
}

static void selftest_job(void *arg)
{
	(void)arg;
	this_cpu()->selftest_apic_id = cpuid_apic_id();
}

void smp_selftest(void)
{
	unsigned asked = 0, right = 0;

	for (unsigned i = 1; i < percpu_count(); i++) {
		struct percpu *pc = percpu_get(i);
		if (pc->state != CPU_ONLINE)
			continue;
		pc->selftest_apic_id = UINT32_MAX;
		if (smp_post(i, selftest_job, NULL))
			klog("keel: cpu %u: cannot post a job", i);
		asked++;
	}
	for (unsigned i = 1; i < percpu_count(); i++) {
		struct percpu *pc = percpu_get(i);
		if (pc->state != CPU_ONLINE)
			continue;
		if (smp_wait(i, SMP_START_TIMEOUT_US))
			klog("keel: cpu %u: no answer to its test job", i);
		else if (pc->selftest_apic_id != pc->apic_id)
			klog("keel: cpu %u: test job answered APIC ID %u, expected %u", i,
			     pc->selftest_apic_id, pc->apic_id);
		else
			right++;
	}
	if (asked)
		klog("keel: job mailbox: %u of %u APs ran a test job and found their own APIC ID",
		     right, asked);
}
