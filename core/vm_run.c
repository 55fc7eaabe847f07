/* Running a VM: its lives (start, stop, restart), the vCPU loop the scheduler (core/sched.c)
 * calls for one time slice, and the exit handlers, dispatched through exit_handlers[reason].
 * A vCPU's loop runs on the vCPU's own CPU; everything a VM's vCPUs share (the virtual platform,
 * the console buffers) is touched under vm->lock. */
#include "core/vm_run.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/cpu_features.h"
#include "arch/x86/entropy.h"
#include "arch/x86/fpu.h"
#include "arch/x86/mitigations.h"
#include "arch/x86/time.h"
#include "arch/x86/tsc_sync.h"
#include "core/console_buf.h"
#include "core/console_input.h"
#include "core/exit.h"
#include "core/guest_layout.h"
#include "core/guest_console.h"
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/sched.h"
#include "core/vcpu_clock.h"
#include "core/vcpu_reset.h"
#include "core/virt.h"
#include "core/vm_balloon.h"
#include "drivers/nic_hw.h"
#include "drivers/nvme_hw.h"
#include "drivers/uart16550.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vdev/acpi_tables.h"
#include "vdev/platform.h"

uint64_t vm_now_ns(void *ctx)
{
	struct vm *vm = ctx;
	return vm_clock_ns(&vm->clock, rdtsc());
}

static uint64_t vm_tsc_to_ns(void *ctx, uint64_t tsc)
{
	struct vm *vm = ctx;
	return vm_clock_tsc_ns(&vm->clock, tsc);
}

/* With vm->lock held: the first reason wins; every vCPU is told, wherever it runs. */
static void stop_locked(struct vm *vm, enum vm_stop_reason reason, uint32_t code)
{
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->stop_reason = reason;
		vm->exit_code = code;
	}
	if (vm->state == VM_RUNNING)
		__atomic_store_n(&vm->state, VM_STOPPING, __ATOMIC_RELEASE);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		sched_kick(vm->vcpus[i]);
}

/* devices call it from inside platform_*, with the lock held */
static void vm_request_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	stop_locked(ctx, reason, code);
}

_Static_assert(VM_MAX_DISKS <= PLATFORM_MAX_DISKS, "every disk keel.cfg allows has a slot");
_Static_assert(VM_MAX_NETS <= PLATFORM_MAX_NETS, "every net keel.cfg allows has a slot");

static void vm_random(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	entropy_fill(buf, n);
}

static void vm_kick(void *ctx, unsigned cpu)
{
	struct vm *vm = ctx;
	if (cpu < vm->nr_vcpus)
		sched_kick(vm->vcpus[cpu]);
}

/* The guest's UART output (lock held) is only queued: the host's serial port takes ~87 us a byte,
 * which a vCPU must not wait for (core/guest_console.h). It is gathered into whole lines, so
 * neither keel's lines nor another VM's land inside one; a partial line (a shell prompt) is
 * queued when the vCPU idles, when it has waited GUEST_CONSOLE_PARTIAL_MS, or when the VM stops. */
static void vm_uart_tx(void *ctx, const uint8_t *buf, size_t n)
{
	struct vm *vm = ctx;
	conbuf_put(vm->con, buf, n, time_now_ns());
}

/* What keel's own walk of the guest's page tables makes of an address the crash involves: tells
 * a guest that lost its mappings from a CPU (or emulator) that lost its way through good ones. */
static void crash_walk(struct vcpu *v, const struct vcpu_sregs *s, const char *what, uint64_t la,
		       unsigned access)
{
	struct paging_state ps = paging_of(s);
	uint64_t gpa = 0;
	uint32_t pf = 0;
	int r = guest_walk(&v->vm->mem, &ps, la, access, &gpa, &pf);

	if (!r)
		klog("  %s %016llx: guest page tables map it at %llx", what, (unsigned long long)la,
		     (unsigned long long)gpa);
	else if (r == -GW_EFAULT)
		klog("  %s %016llx: guest page tables do not map it (#PF error %x)", what,
		     (unsigned long long)la, pf);
	else
		klog("  %s %016llx: guest page tables unusable (%s)", what, (unsigned long long)la,
		     r == -GW_ENOTRAM ? "outside RAM" : "not canonical");
}

enum exit_result vm_crash(struct vcpu *v, const struct vm_exit *e, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	struct vm *vm = v->vm;

	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	guest_console_flush(vm); /* what the guest said before it crashed comes first */
	klog("vm %s: crashed: %s", vm->name, why);
	klog("  vcpu %u rip %016llx rflags %016llx exit %s (hw %llx info %llx %llx)", v->id,
	     (unsigned long long)v->regs.rip, (unsigned long long)v->regs.rflags,
	     exit_reason_name(e->reason), (unsigned long long)e->hw_code,
	     (unsigned long long)e->hw_info1, (unsigned long long)e->hw_info2);
	static const char *const names[NR_GPRS] = { "rax", "rcx", "rdx", "rbx", "rsp", "rbp",
						    "rsi", "rdi", "r8",	 "r9",	"r10", "r11",
						    "r12", "r13", "r14", "r15" };
	for (int i = 0; i < NR_GPRS; i += 4)
		klog("  %-3s %016llx %-3s %016llx %-3s %016llx %-3s %016llx", names[i],
		     (unsigned long long)v->regs.gpr[i], names[i + 1],
		     (unsigned long long)v->regs.gpr[i + 1], names[i + 2],
		     (unsigned long long)v->regs.gpr[i + 2], names[i + 3],
		     (unsigned long long)v->regs.gpr[i + 3]);
	struct vcpu_sregs s;
	virt->vcpu_get_sregs(v, &s);
	klog("  cr0 %llx cr2 %llx cr3 %llx cr4 %llx efer %llx", (unsigned long long)s.cr0,
	     (unsigned long long)s.cr2, (unsigned long long)s.cr3, (unsigned long long)s.cr4,
	     (unsigned long long)s.efer);
	klog("  cs %04x base %llx attr %03x ss %04x attr %03x", s.cs.selector,
	     (unsigned long long)s.cs.base, s.cs.attr, s.ss.selector, s.ss.attr);
	if (s.cr0 & X86_CR0_PG) {
		crash_walk(v, &s, "rip", s.cs.base + v->regs.rip, GW_EXEC);
		crash_walk(v, &s, "idt", s.idtr.base, 0);
	}
	virt->dump(v);
	vm_lock(vm);
	stop_locked(vm, VM_STOP_CRASH, 0);
	vm_unlock(vm);
	return EXIT_STOP;
}

/* ---- the rest ------------------------------------------------------------------------------ */

static enum exit_result handle_hlt(struct vcpu *v, const struct vm_exit *e)
{
	skip_insn(v, e);
	v->halted = true;
	return EXIT_RESUME;
}

static enum exit_result handle_ext_intr(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	host_take_pending_interrupts();
	return EXIT_RESUME;
}

static enum exit_result handle_irq_window(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	virt->request_irq_window(v, false);
	return EXIT_RESUME;
}

/* Nothing to do here: vcpu_ready delivers the NMI before the next entry. */
static enum exit_result handle_nmi_window(struct vcpu *v, const struct vm_exit *e)
{
	(void)v;
	(void)e;
	return EXIT_RESUME;
}

static enum exit_result handle_shutdown(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "triple fault");
}

static enum exit_result handle_vmcall(struct vcpu *v, const struct vm_exit *e)
{
	/* no hypercalls are offered: KVM's "no such hypercall" answer (-KVM_ENOSYS) */
	v->regs.gpr[GPR_RAX] = (uint64_t)-1000;
	skip_insn(v, e);
	return EXIT_RESUME;
}

static enum exit_result handle_undefined(struct vcpu *v, const struct vm_exit *e)
{
	(void)e;
	/* SVM/VMX instructions, MONITOR/MWAIT, RDPRU, INVPCID: hidden in CPUID, so #UD as on a CPU
	 * without them */
	return inject_exception(v, EXC_UD, false, 0);
}

static enum exit_result handle_skip(struct vcpu *v, const struct vm_exit *e)
{
	/* WBINVD/INVD: keel's caches are coherent with the guest's memory; nothing to do */
	skip_insn(v, e);
	return EXIT_RESUME;
}

/* Only a vCPU that shares its CPU exits on PAUSE: it spins for something another vCPU must do,
 * so its slice ends here. */
static enum exit_result handle_pause(struct vcpu *v, const struct vm_exit *e)
{
	skip_insn(v, e);
	v->yield = true;
	return EXIT_RESUME;
}

static enum exit_result handle_entry_failed(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "the CPU refused the guest state (VM entry failed)");
}

static enum exit_result handle_unexpected(struct vcpu *v, const struct vm_exit *e)
{
	return vm_crash(v, e, "unexpected exit %s", exit_reason_name(e->reason));
}

static const exit_handler_fn exit_handlers[NR_EXIT_REASONS] = {
	[EXIT_IO] = handle_io,
	[EXIT_NPF] = handle_npf,
	[EXIT_CPUID] = handle_cpuid,
	[EXIT_MSR_READ] = handle_msr,
	[EXIT_MSR_WRITE] = handle_msr,
	[EXIT_HLT] = handle_hlt,
	[EXIT_EXT_INTR] = handle_ext_intr,
	[EXIT_NMI] = handle_ext_intr,
	[EXIT_IRQ_WINDOW] = handle_irq_window,
	[EXIT_NMI_WINDOW] = handle_nmi_window,
	[EXIT_SHUTDOWN] = handle_shutdown,
	[EXIT_VMCALL] = handle_vmcall,
	[EXIT_VIRT_INSN] = handle_undefined,
	[EXIT_MONITOR] = handle_undefined,
	[EXIT_MWAIT] = handle_undefined,
	[EXIT_RDPMC] = handle_rdpmc,
	[EXIT_RDPRU] = handle_undefined,
	[EXIT_INVPCID] = handle_undefined,
	[EXIT_CR8_WRITE] = handle_cr8_write,
	[EXIT_CR_WRITE] = handle_cr_write,
	[EXIT_DR7_WRITE] = handle_dr7_write,
	[EXIT_XSETBV] = handle_xsetbv,
	[EXIT_WBINVD] = handle_skip,
	[EXIT_PAUSE] = handle_pause,
	[EXIT_ENTRY_FAILED] = handle_entry_failed,
	[EXIT_RDTSC] = handle_unexpected,
	[EXIT_RDTSCP] = handle_unexpected,
	[EXIT_INVLPG] = handle_unexpected,
	[EXIT_EXCEPTION] = handle_unexpected,
	[EXIT_UNKNOWN] = handle_unexpected,
};

/* ---- a life of the VM ----------------------------------------------------------------------- */

/* "vm NAME: WHAT T: REASON=N ..." with the non-zero counts (CONVENTIONS.md) */
static void log_exits(const struct vm *vm, const char *what, const uint64_t *counts)
{
	char line[512];
	uint64_t total = 0;
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		total += counts[r];
	size_t n = (size_t)ksnprintf(line, sizeof(line), "vm %s: %s %llu:", vm->name, what,
				     (unsigned long long)total);
	for (unsigned r = 0; r < NR_EXIT_REASONS && n < sizeof(line); r++)
		if (counts[r])
			n += (size_t)ksnprintf(line + n, sizeof(line) - n, " %s=%llu",
					       exit_reason_name(r), (unsigned long long)counts[r]);
	klog("%s", line);
}

static void log_stop(struct vm *vm)
{
	switch (vm->stop_reason) {
	case VM_STOP_EXIT_PORT:
		klog("vm %s: exit code %u", vm->name, vm->exit_code);
		break;
	case VM_STOP_POWER_OFF:
		klog("vm %s: powered off", vm->name);
		break;
	case VM_STOP_RESET:
		klog("vm %s: reset", vm->name);
		break;
	case VM_STOP_SHELL:
		klog("vm %s: stopped from the shell", vm->name);
		break;
	default:
		break; /* a crash logged itself */
	}
	uint64_t all[NR_EXIT_REASONS] = { 0 };
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
			all[r] += vm->vcpus[i]->exits[r];
	log_exits(vm, "exits total", all);
	klog("vm %s: mitigations: ibpb=%llu rsb-fill=%llu l1d-flush=%llu verw=%llu", vm->name,
	     (unsigned long long)vm->mitig.ibpb, (unsigned long long)vm->mitig.rsb_fill,
	     (unsigned long long)vm->mitig.l1d_flush, (unsigned long long)vm->mitig.verw);
	for (unsigned i = 0; vm->nr_vcpus > 1 && i < vm->nr_vcpus; i++) {
		char what[24];
		ksnprintf(what, sizeof(what), "vcpu %u exits", i);
		log_exits(vm, what, vm->vcpus[i]->exits);
	}
}

/* A new life: devices and ACPI tables afresh, guest time from 0; the vCPUs join it on their
 * CPUs. -1 (logged, the VM stopped) when the devices cannot be built. */
static int begin_life(struct vm *vm)
{
	struct vdev_env env = {
		.ctx = vm,
		.vm_name = vm->name,
		.now_ns = vm_now_ns,
		.request_stop = vm_request_stop,
		.uart_tx = vm_uart_tx,
		.tsc_to_ns = vm_tsc_to_ns,
		.kick = vm_kick,
		.mem = &vm->mem,
		.random = vm_random,
	};
	struct platform_config pcfg;
	platform_default_config(&pcfg);
	pcfg.cpus = vm->nr_vcpus;
	pcfg.exit_port = vm->exit_port;
	pcfg.time = vm->start_time;
	pcfg.disks = vm->disks;
	pcfg.nr_disks = vm->nr_disks;
	struct platform_net nets[VM_MAX_NETS];
	for (unsigned i = 0; i < vm->nr_nets; i++) {
		nets[i] = (struct platform_net){ .dev = vm->nets[i].dev, .sw = vm->nets[i].sw };
		memcpy(nets[i].mac, vm->nets[i].mac, NET_MAC_LEN);
	}
	pcfg.nets = nets;
	pcfg.nr_nets = vm->nr_nets;
	pcfg.virtio_console = vm->console == VM_CONSOLE_VIRTIO;
	pcfg.balloon = vm->balloon_frames ? &vm->balloon.backend : NULL;
	pcfg.balloon_target = vm->balloon_target;
	struct pci_dev *passthru[VM_MAX_PCI];
	vm_pci_life_start(vm);
	for (unsigned i = 0; i < vm->nr_pcis; i++)
		passthru[i] = vm_pci_dev(vm, i);
	pcfg.passthru = passthru;
	pcfg.nr_passthru = vm->nr_pcis;
	struct acpi_guest_config acfg;
	acpi_guest_config_default(&acfg, vm->nr_vcpus);
	/* the guest's MAXPHYADDR is the CPU's (core/cpuid_policy.c) */
	pcfg.phys_bits = cpu_phys_addr_bits();
	guest_pci_mmio64(vm->memory, pcfg.phys_bits, &pcfg.pci_mmio64_base, &pcfg.pci_mmio64_end);
	acfg.pci_mmio64_base = pcfg.pci_mmio64_base;
	acfg.pci_mmio64_end = pcfg.pci_mmio64_end;
	vm_lock(vm);
	if (platform_init(vm->platform, &env, &pcfg) ||
	    acpi_build_guest_tables(&vm->mem, &acfg) < 0) {
		vm_unlock(vm);
		klog("vm %s: crashed: cannot build its devices and ACPI tables", vm->name);
		vm->stop_reason = VM_STOP_CRASH;
		__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
		return -1;
	}
	vm->start_ns = time_now_ns();
	vm_clock_start(&vm->clock, rdtsc(), time_tsc_hz(), tsc_stable());
	vm->life++;
	vm->vcpus_in = 0;
	__atomic_store_n(&vm->pmu_msr_accesses, 0, __ATOMIC_RELAXED); /* the shell's stats */
	memset(&vm->mitig, 0, sizeof(vm->mitig)); /* no vCPU runs between lives */
	klog("vm %s: starting", vm->name);
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	vm_unlock(vm);
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		sched_kick(vm->vcpus[i]);
	return 0;
}

void vm_start(struct vm *vm)
{
	sched_vm_started();
	if (begin_life(vm)) {
		console_input_vm_stopped(vm);
		sched_vm_stopped();
	}
}

/* The last vCPU left the life: log why it ended, then start the next one or stop for good. */
static void end_life(struct vm *vm)
{
	char why[160];

	/* a disk's requests still on a host device finish first: their DMA lands in the VM's RAM,
	 * and the next life's devices start from nothing (no lock held while the device works) */
	for (;;) {
		vm_lock(vm);
		platform_blk_complete(vm->platform);
		bool busy = platform_blk_busy(vm->platform);
		vm_unlock(vm);
		if (!busy)
			break;
		nvme_hw_poll();
		__builtin_ia32_pause();
	}
	/* no frame reaches a VM between lives: its ports leave their switches (queued frames are
	 * dropped) and join again when the next life builds its devices */
	vm_lock(vm);
	platform_fini(vm->platform);
	vm_unlock(vm);
	guest_console_flush(vm);
	log_stop(vm);
	bool crashed = vm->stop_reason == VM_STOP_CRASH;
	bool restart = vm->restart_asked;
	if (!restart && vm->stop_reason == VM_STOP_RESET && vm->restart_on_reboot) {
		/* a reboot the guest asked for: not a crash, so not counted against the limit */
		klog("vm %s: rebooting, as the guest asked", vm->name);
		restart = true;
	} else if (!restart && crashed && vm->restart_on_crash) {
		if (vm->restarts == vm->restart_limit) {
			klog("vm %s: restart limit %u reached; the VM stays stopped", vm->name,
			     vm->restart_limit);
		} else {
			vm->restarts++;
			klog("vm %s: restarting (%u of %u)", vm->name, vm->restarts,
			     vm->restart_limit);
			restart = true;
		}
	} else if (restart) {
		klog("vm %s: restarting, as the shell asked", vm->name);
	}
	if (restart) {
		if (hv_vm_rebuild(vm, why, sizeof(why)) == 0) {
			if (begin_life(vm) == 0)
				return;
		} else {
			klog("vm %s: cannot restart: %s", vm->name, why);
		}
	}
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
	console_input_vm_stopped(vm);
	sched_vm_stopped();
}

/* v starts the VM's current life on its own CPU: vCPU 0 at the kernel's entry, the others
 * waiting for a SIPI, as a PC's application processors after reset. */
static void join_life(struct vcpu *v)
{
	struct vm *vm = v->vm;

	v->life = vm->life;
	v->in_life = true;
	memset(v->exits, 0, sizeof(v->exits)); /* the shell's stats and the stop line: this life */
	v->halted = false;
	v->xcr0 = 1;
	v->tsc_aux = 0;
	v->kvm_system_time = 0;
	fpu_area_init(v->fpu);
	sched_forget_loaded(v);
	virt->request_irq_window(v, false);
	virt->set_pause_exit(v, v->cpu_shared);
	if (v->id == 0) {
		vcpu_reset_to_boot(v, &vm->boot);
		v->wait_for_sipi = false;
	} else {
		vcpu_reset_to_init(v);
		v->wait_for_sipi = true;
	}
	virt->flush_guest_tlb(v);	    /* nothing the guest cached in its last life survives */
	v->tsc_gen = vm->clock.tsc_gen - 1; /* vcpu_take_clock sets the VM's TSC offset */
	vcpu_take_clock(v);
}

/* Joins a life that began, leaves one that is ending; the last to leave ends it. */
static void follow_life(struct vcpu *v)
{
	struct vm *vm = v->vm;
	bool last = false;

	/* the common case on every exit: in the life that runs; no lock needed to see it, as only
	 * this vCPU changes its own fields and a stop or restart changes state before life */
	if (v->in_life && __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING &&
	    v->life == __atomic_load_n(&vm->life, __ATOMIC_RELAXED))
		return;
	vm_lock(vm);
	enum vm_state st = vm->state;
	if (v->in_life && (st != VM_RUNNING || v->life != vm->life)) {
		v->in_life = false;
		last = --vm->vcpus_in == 0 && st == VM_STOPPING;
	}
	bool join = !v->in_life && st == VM_RUNNING && v->life != vm->life;
	if (join)
		vm->vcpus_in++;
	vm_unlock(vm);
	if (last)
		end_life(vm);
	if (join)
		join_life(v);
}

/* ---- the vCPU loop ---------------------------------------------------------------------------- */

/* INIT and SIPI from the vCPU's local APIC (lock held): INIT parks it until a SIPI starts it. */
static void take_init_sipi(struct vcpu *v, struct vlapic *a)
{
	if (vlapic_take_init(a)) {
		vcpu_reset_to_init(v);
		v->wait_for_sipi = true;
		v->halted = false;
	}
	int vec = vlapic_take_sipi(a);
	/* a SIPI reaching a running vCPU (the second of every start) is ignored, as a CPU does */
	if (vec >= 0 && v->wait_for_sipi) {
		vcpu_reset_to_sipi(v, (uint8_t)vec);
		v->wait_for_sipi = false;
	}
}

/* NMIs, then external interrupts (lock held). The devices' timers are brought up to date first
 * (platform_pending_interrupt), so an NMI one of them raises now is seen now. An NMI is not
 * masked by IF (SDM vol 3A, 6.8.1 "Masking Maskable Hardware Interrupts"): it ends a HLT
 * whatever IF says, and waits only while the guest's NMI handler runs (until its IRET) or for
 * a shadow. One NMI stays latched meanwhile (the vLAPIC's nmi_pending); more are lost, as on a
 * CPU (SDM vol 3A, "Handling Multiple NMIs"). A halted vCPU whose NMIs are blocked stays
 * halted: on a CPU the latched NMI waits for the handler's IRET too. */
static void deliver_interrupts(struct vcpu *v)
{
	struct platform *p = v->vm->platform;
	int vec = platform_pending_interrupt(p, v->id);

	if (p->lapic[v->id].nmi_pending) {
		if (virt->nmi_allowed(v) && platform_take_nmi(p, v->id)) {
			v->halted = false;
			virt->inject_event(v, EVENT_NMI, 2, false, 0);
			/* an interrupt waiting meanwhile goes in once the guest can take it */
			if (vec >= 0)
				virt->request_irq_window(v, true);
			return;
		}
		if (!v->halted)
			virt->request_nmi_window(v);
	}
	if (vec < 0)
		return;
	v->halted = v->halted && !(v->regs.rflags & RFLAGS_IF);
	if (virt->interrupt_allowed(v)) {
		platform_ack_interrupt(p, v->id, vec);
		virt->inject_event(v, EVENT_EXTINT, (uint8_t)vec, false, 0);
	} else {
		virt->request_irq_window(v, true);
	}
}

/* Typed bytes waiting for the guest's console device (lock held): as many as its UART's FIFO
 * takes, or all of them for a virtio console (which buffers them for its receive queue). */
static void feed_console_input(struct vm *vm)
{
	unsigned head = __atomic_load_n(&vm->input_head, __ATOMIC_ACQUIRE);
	while (vm->input_tail != head) {
		/* the waiting bytes up to the ring's end, then from its start */
		unsigned at = vm->input_tail % sizeof(vm->input);
		size_t n = MIN((size_t)(head - vm->input_tail), sizeof(vm->input) - at);
		size_t k = platform_console_input(vm->platform, vm->input + at, n);
		__atomic_store_n(&vm->input_tail, vm->input_tail + (unsigned)k, __ATOMIC_RELEASE);
		if (k < n)
			break;
	}
}

static void vcpu_take_cr8(struct vcpu *v)
{
	/* CR8 is the TPR: a write the hardware let through (AMD-V, V_TPR) goes to the virtual local
	 * APIC before any exit handler reads the TPR. Rare: the lock only then. */
	uint8_t cr8 = virt->get_cr8(v);
	if (cr8 == v->cr8)
		return;
	vm_lock(v->vm);
	vlapic_set_cr8(&v->vm->platform->lapic[v->id], cr8);
	vm_unlock(v->vm);
	v->cr8 = cr8;
}

/* Every vCPU of the VM's current life waits for a SIPI (lock held): nothing is left to send one,
 * so the guest has ended itself (an OS's INIT to all including self). A vCPU not yet in this
 * life does not count: it checks for itself when it joins. */
static bool every_vcpu_waits_for_sipi(const struct vm *vm)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *o = vm->vcpus[i];
		if (!__atomic_load_n(&o->in_life, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&o->life, __ATOMIC_RELAXED) != vm->life ||
		    !__atomic_load_n(&o->wait_for_sipi, __ATOMIC_RELAXED))
			return false;
	}
	return true;
}

bool vcpu_ready(struct vcpu *v)
{
	struct vm *vm = v->vm;

	follow_life(v);
	if (!v->in_life)
		return false;
	vm_lock(vm);
	struct vlapic *apic = &vm->platform->lapic[v->id];
	if (v->id == 0)
		feed_console_input(vm);
	/* frames the switches queued for the VM's nets (their kick woke vCPU 0; any vCPU takes
	 * them), before the interrupts, so a halted vCPU wakes to the receive interrupt now */
	platform_net_rx(vm->platform);
	/* and the disks' requests their host devices finished (the poll's kick woke vCPU 0) */
	platform_blk_complete(vm->platform);
	take_init_sipi(v, apic);
	if (v->wait_for_sipi && vm->state == VM_RUNNING && every_vcpu_waits_for_sipi(vm)) {
		klog("vm %s: every vCPU waits for a start-up IPI", vm->name);
		stop_locked(vm, VM_STOP_POWER_OFF, 0);
	}
	if (!v->wait_for_sipi)
		deliver_interrupts(v);
	/* and the APIC's TPR (xAPIC page, x2APIC MSR, INIT) is what CR8 reads in the guest */
	v->cr8 = vlapic_cr8(apic);
	virt->set_cr8(v, v->cr8);
	virt->set_tpr_threshold(v, vlapic_tpr_blocked_class(apic));
	if (v->halted)
		conbuf_end_line(vm->con); /* a prompt without a newline shows while it waits */
	else if (vm->con->line_len)	  /* the clock is read only when there is a line to age */
		conbuf_end_line_older(vm->con, time_now_ns(),
				      GUEST_CONSOLE_PARTIAL_MS * 1000000ull);
	uint64_t next = platform_next_event_ns(vm->platform, v->id);
	v->wake_ns = next == UINT64_MAX ? next : vm->start_ns + next;
	vm_unlock(vm);
	return !v->wait_for_sipi && !v->halted;
}

uint64_t vcpu_wake_ns(struct vcpu *v)
{
	/* as the last vcpu_ready found it; a vCPU waiting for its SIPI wakes on a kick only */
	return v->in_life && !v->wait_for_sipi ? v->wake_ns : UINT64_MAX;
}

/* Microseconds until the vCPU must be looked at: its next timer event or the slice's end. */
static uint64_t us_until(struct vcpu *v, uint64_t end_ns)
{
	uint64_t now = time_now_ns(), wake = MIN(vcpu_wake_ns(v), end_ns);
	return wake <= now ? 1 : (wake - now) / 1000 + 1;
}

/* The exit just handled sent requests of the VM's disks to a host device: poll the device, with
 * no lock held, until their data is in or VCPU_IO_POLL_US have passed, so a fast device's
 * completion reaches the guest on this entry rather than after a halt and a wake (KVM polls a
 * halted vCPU for the same reason). Other exits do not wait: a guest busy with other work while
 * its requests run keeps its CPU. */
static void poll_disks(struct vcpu *v)
{
	struct vm *vm = v->vm;
	uint64_t sent = platform_blk_sent(vm->platform);

	if (sent == v->blk_sent_seen)
		return;
	v->blk_sent_seen = sent;
	uint64_t until = time_now_ns() + VCPU_IO_POLL_US * 1000ull;
	while (platform_blk_dma_busy(vm->platform) && time_now_ns() < until && nvme_hw_poll())
		__builtin_ia32_pause();
}

void vcpu_run_slice(struct vcpu *v, uint64_t end_ns)
{
	struct vm_exit exit;

	v->slice_end_ns = end_ns;
	__atomic_store_n(&v->in_slice, true, __ATOMIC_SEQ_CST);
	for (;;) {
		/* a quiet point: no pointer into guest RAM is held here (core/vm_balloon.c) */
		__atomic_add_fetch(&v->quiet_seq, 1, __ATOMIC_SEQ_CST);
		vm_balloon_reap(v->vm);
		console_input_poll();
		nic_hw_poll();
		nvme_hw_poll();
		vm_pci_poll();
		/* its own VM's output, in its own time: a chatty guest pays for its lines */
		if (guest_console_pending(v->vm))
			guest_console_drain(
				v->vm, MIN(end_ns, time_now_ns() + GUEST_CONSOLE_OWN_US * 1000ull));
		if (!vcpu_ready(v))
			break;
		if (time_now_ns() >= end_ns)
			break;
		host_timer_arm_us(us_until(v, end_ns));
		vcpu_take_clock(v);
		/* odd in the guest: a balloon's stage-2 flush waits for that (core/vm_balloon.c) */
		__atomic_add_fetch(&v->guest_seq, 1, __ATOMIC_SEQ_CST);
		virt->vcpu_run(v, &exit);
		__atomic_add_fetch(&v->guest_seq, 1, __ATOMIC_SEQ_CST);
		mitig_collect(&v->vm->mitig);
		v->exits[exit.reason]++;
		vcpu_take_cr8(v);
		if (exit_handlers[exit.reason](v, &exit) == EXIT_STOP)
			break;
		poll_disks(v);
		if (v->yield) {
			v->yield = false;
			break;
		}
	}
	__atomic_store_n(&v->in_slice, false, __ATOMIC_SEQ_CST);
	host_timer_arm_us(0);
}

void vm_stop(struct vm *vm, enum vm_stop_reason reason)
{
	vm_lock(vm);
	stop_locked(vm, reason, 0);
	vm_unlock(vm);
}

int vm_restart(struct vm *vm, char *err, size_t err_size)
{
	vm_lock(vm);
	enum vm_state st = vm->state;
	if (st == VM_RUNNING) {
		vm->restart_asked = true;
		stop_locked(vm, VM_STOP_SHELL, 0);
	}
	vm_unlock(vm);
	if (st == VM_RUNNING)
		return 0;
	if (st != VM_STOPPED) {
		ksnprintf(err, err_size, "vm %s is stopping; try again", vm->name);
		return -1;
	}
	if (hv_vm_rebuild(vm, err, err_size))
		return -1;
	klog("vm %s: restarting, as the shell asked", vm->name);
	vm_start(vm);
	return 0;
}
