#include "core/sched.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/mitigations.h"
#include "arch/x86/percpu.h"
#include "arch/x86/smp.h"
#include "arch/x86/time.h"
#include "core/console_input.h"
#include "core/guest_console.h"
#include "core/placement.h"
#include "core/status_bar_hw.h"
#include "drivers/iommu_hw.h"
#include "core/virt.h"
#include "core/vm_pci.h"
#include "core/vm_run.h"
#include "drivers/nic_hw.h"
#include "drivers/nvme_hw.h"
#include "lib/log.h"

#define SCHED_MAX_VCPUS (CFG_MAX_VMS * VM_MAX_VCPUS)

struct sched_cpu {
	struct vcpu *vcpus;  /* a ring through vcpu->sched_next */
	struct vcpu *next;   /* round-robin: where the next search starts */
	struct vcpu *loaded; /* whose FPU and CPU-held guest state the registers hold */
	unsigned nr;
	bool posted; /* an AP running its loop (the boot CPU waits for it) */
};

#define CPUID_EXT1_RDTSCP (1u << 27) /* CPUID 0x80000001 EDX: RDTSCP and IA32_TSC_AUX */

static struct sched_cpu cpus[KEEL_MAX_CPUS];
static unsigned live_vms;
static bool has_tsc_aux;

void sched_vm_started(void)
{
	__atomic_add_fetch(&live_vms, 1, __ATOMIC_ACQ_REL);
}

void sched_vm_stopped(void)
{
	if (__atomic_sub_fetch(&live_vms, 1, __ATOMIC_ACQ_REL) == 0)
		for (unsigned c = 1; c < percpu_count(); c++)
			if (cpus[c].posted)
				host_apic_send_wake(percpu_get(c)->apic_id);
}

static void place(struct vcpu *v, unsigned cpu)
{
	struct sched_cpu *sc = &cpus[cpu];
	v->pcpu = cpu;
	if (sc->vcpus) { /* at the end of the ring: after the one that points back to the first */
		struct vcpu *last = sc->vcpus;
		while (last->sched_next != sc->vcpus)
			last = last->sched_next;
		last->sched_next = v;
		v->sched_next = sc->vcpus;
	} else {
		sc->vcpus = sc->next = v;
		v->sched_next = v;
	}
	sc->nr++;
}

static bool cpu_usable(unsigned c)
{
	struct percpu *pc = percpu_get(c);
	return pc && pc->state == CPU_ONLINE;
}

void sched_place(struct vm **vms, unsigned nr)
{
	unsigned ncpu = percpu_count();

	has_tsc_aux = cpuid(0x80000000, 0).eax >= 0x80000001 &&
		      (cpuid(0x80000001, 0).edx & CPUID_EXT1_RDTSCP);
	static int pins[SCHED_MAX_VCPUS];
	static unsigned cpu_of[SCHED_MAX_VCPUS];
	static bool usable[KEEL_MAX_CPUS];
	unsigned load[KEEL_MAX_CPUS], n = 0;
	for (unsigned c = 0; c < ncpu; c++)
		usable[c] = c == 0 || cpu_usable(c);
	for (unsigned i = 0; i < nr; i++)
		for (unsigned j = 0; j < vms[i]->nr_vcpus; j++)
			pins[n++] = vms[i]->vcpus[j]->pin;
	placement_assign(pins, n, usable, ncpu, cpu_of, load);
	n = 0;
	for (unsigned i = 0; i < nr; i++) {
		struct vm *vm = vms[i];
		for (unsigned j = 0; j < vm->nr_vcpus; j++)
			place(vm->vcpus[j], cpu_of[n++]);
		for (unsigned j = 0; j < vm->nr_vcpus; j++) {
			struct vcpu *v = vm->vcpus[j];
			const char *how = v->pin >= 0 ? " (pinned)" : "";
			if (vm->nr_vcpus > 1)
				klog("vm %s: vcpu %u runs on cpu %u%s", vm->name, j, v->pcpu, how);
			else if (v->pcpu)
				klog("vm %s: runs on cpu %u%s", vm->name, v->pcpu, how);
		}
	}
	for (unsigned i = 0; i < nr; i++)
		for (unsigned j = 0; j < vms[i]->nr_vcpus; j++)
			vms[i]->vcpus[j]->cpu_shared = cpus[vms[i]->vcpus[j]->pcpu].nr > 1;
	for (unsigned c = 0; c < ncpu; c++)
		if (cpus[c].nr > 1)
			klog("keel: cpu %u time-slices %u vCPUs (%u ms slices)", c, cpus[c].nr,
			     SCHED_SLICE_US / 1000);
}

void sched_kick(struct vcpu *v)
{
	struct percpu *pc = percpu_get(v->pcpu);
	/* on its own CPU, the scheduler looks at v before it next enters a guest or sleeps */
	if (pc && v->pcpu != this_cpu()->index)
		host_apic_send_wake(pc->apic_id);
}

void sched_forget_loaded(struct vcpu *v)
{
	struct sched_cpu *sc = &cpus[this_cpu()->index];
	if (sc->loaded == v)
		sc->loaded = NULL;
}

/* The registers the CPU holds for a guest beyond the VMCB/VMCS: FPU/SSE/AVX and XCR0, TSC_AUX,
 * and whatever the backend keeps in the CPU (DR0-DR3; VT-x: DR6, CR2 and the SYSCALL MSRs). */
static void switch_to(struct sched_cpu *sc, struct vcpu *v)
{
	struct vcpu *old = sc->loaded;
	if (old == v)
		return;
	if (old) {
		old->xcr0 = fpu_save(old->fpu);
		if (virt->vcpu_save_cpu)
			virt->vcpu_save_cpu(old);
	}
	fpu_restore(v->fpu, v->xcr0);
	if (virt->vcpu_load_cpu)
		virt->vcpu_load_cpu(v);
	if (has_tsc_aux)
		wrmsr(MSR_TSC_AUX, v->tsc_aux);
	sc->loaded = v;
	mitig_switch_vm(v->vm, &v->vm->mitig); /* IBPB when this CPU ran another VM last */
}

/* The next vCPU that can run, round-robin from sc->next; NULL when none can. */
static struct vcpu *pick(struct sched_cpu *sc)
{
	struct vcpu *v = sc->next;
	for (unsigned k = 0; k < sc->nr; k++, v = v->sched_next)
		if (vcpu_ready(v)) {
			sc->next = v->sched_next;
			return v;
		}
	return NULL;
}

/* Nothing to run: sleep until the earliest timer event of this CPU's vCPUs, a kick, or the
 * poll interval. While a host device has commands out, a short one: polled, or asleep when the
 * device's interrupt wakes a CPU (which polls and kicks the VM). */
static void idle(struct sched_cpu *sc, bool io_busy)
{
	uint64_t now = time_now_ns();
	uint64_t wake = now + (io_busy ? SCHED_IO_POLL_US : SCHED_POLL_US) * 1000ull;
	struct vcpu *v = sc->vcpus;
	for (unsigned k = 0; k < sc->nr; k++, v = v->sched_next)
		wake = MIN(wake, vcpu_wake_ns(v));
	if (wake <= now)
		return;
	/* nothing to run: time for the console */
	if (guest_console_pending(NULL)) {
		guest_console_drain(NULL, wake);
		now = time_now_ns();
		if (wake <= now)
			return;
	}
	if (io_busy && !nvme_hw_interrupts()) {
		/* a host device has commands out: poll it until one completes (its request's VM is
		 * then kicked, maybe here) or the wait is over, rather than sleep past it */
		uint64_t done = nvme_hw_completions();
		while (time_now_ns() < wake && nvme_hw_poll() && nvme_hw_completions() == done)
			__builtin_ia32_pause();
		return;
	}
	host_idle_us((wake - now) / 1000 + 1);
}

static void cpu_loop(void *arg)
{
	struct sched_cpu *sc = arg;
	while (__atomic_load_n(&live_vms, __ATOMIC_ACQUIRE)) {
		host_tpr_open();
		console_input_poll();
		nic_hw_poll();
		iommu_hw_poll();
		vm_pci_poll();
		bool io_busy = nvme_hw_poll();
		status_bar_tick();
		/* between slices: every VM's output gets a turn, whoever ran */
		if (guest_console_pending(NULL))
			guest_console_drain(NULL, time_now_ns() + GUEST_CONSOLE_DRAIN_US * 1000ull);
		struct vcpu *v = pick(sc);
		if (!v) {
			idle(sc, io_busy);
			continue;
		}
		switch_to(sc, v);
		/* alone on the CPU: the slice only bounds how long it goes without a look round */
		uint64_t slice = sc->nr > 1 ? SCHED_SLICE_US : SCHED_POLL_US;
		vcpu_run_slice(v, time_now_ns() + slice * 1000ull);
	}
	/* every VM has stopped: leave the registers empty behind them */
	if (sc->loaded) {
		fpu_area_init(sc->loaded->fpu);
		fpu_restore(sc->loaded->fpu, 1);
		sc->loaded = NULL;
	}
	/* and no vCPU's state in this CPU either: a VMCS is cleared only on the CPU it is active
	 * on, and hv_vm_destroy, on another CPU, frees it (core/virt.h vcpu_destroy). The ring
	 * goes too, as its vCPUs may be freed now. */
	struct vcpu *v = sc->vcpus;
	for (unsigned k = 0; k < sc->nr; k++, v = v->sched_next)
		virt->vcpu_release(v);
	sc->vcpus = sc->next = NULL;
	sc->nr = 0;
}

void sched_run(struct vm **vms, unsigned nr)
{
	unsigned ncpu = percpu_count();

	for (unsigned i = 0; i < nr; i++)
		vm_start(vms[i]);
	for (unsigned c = 1; c < ncpu; c++) {
		struct sched_cpu *sc = &cpus[c];
		struct vcpu *v = sc->vcpus;
		for (unsigned k = 0; k < sc->nr; k++, v = v->sched_next)
			virt->vcpu_release(v); /* built here, run there */
		if (sc->nr && smp_post(c, cpu_loop, sc)) {
			klog("keel: cpu %u refused its vCPUs; they run on cpu 0", c);
			for (unsigned k = 0, n = sc->nr; k < n; k++) {
				struct vcpu *next = v->sched_next;
				place(v, 0);
				v = next;
			}
			sc->vcpus = sc->next = NULL;
			sc->nr = 0;
			continue;
		}
		if (!sc->nr)
			continue;
		cpus[c].posted = true;
	}
	cpu_loop(&cpus[0]);
	/* the boot CPU sleeps until the other CPUs are out of their loops */
	for (unsigned c = 1; c < ncpu; c++)
		while (cpus[c].posted && smp_wait(c, 0))
			host_idle_us(1000);
}
