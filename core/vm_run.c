/* The vCPU loop: inject what the virtual platform has pending, enter the guest, dispatch the exit
 * through exit_handlers[reason]. One vCPU per VM for now; keel idles in HLT whenever the guest
 * does. */
#include "core/vm_run.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/fpu.h"
#include "arch/x86/time.h"
#include "core/console.h"
#include "core/exit.h"
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/virt.h"
#include "drivers/uart16550.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"
#include "vdev/acpi_tables.h"
#include "vdev/platform.h"

/* The longest keel lets a vCPU run or sleep without looking at the console and the devices. */
#define POLL_US 10000

uint64_t vm_now_ns(void *ctx)
{
	struct vm *vm = ctx;
	return time_now_ns() - vm->start_ns;
}

/* The guest TSC counts from 0 at the VM's start at the host TSC's rate (its offset is set so). */
static uint64_t vm_tsc_to_ns(void *ctx, uint64_t tsc)
{
	(void)ctx;
	uint64_t hz = time_tsc_hz();
	return tsc / hz * 1000000000ull + tsc % hz * 1000000000ull / hz;
}

static void vm_request_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	struct vm *vm = ctx;
	if (vm->stop_reason == VM_STOP_NONE) {
		vm->stop_reason = reason;
		vm->exit_code = code;
	}
}

/* With several VMs, output is gathered per VM into whole lines, so one VM's line is never cut
 * by another's; a partial line (a shell prompt) goes out when the vCPU idles or the VM stops. */
static void flush_output(struct vm *vm)
{
	if (vm->out_len)
		console_write_prefixed(vm->name, &vm->at_line_start, vm->out_line, vm->out_len);
	vm->out_len = 0;
}

static void vm_uart_tx(void *ctx, const uint8_t *buf, size_t n)
{
	struct vm *vm = ctx;
	if (!vm->prefix_output) {
		console_write((const char *)buf, n);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		vm->out_line[vm->out_len++] = (char)buf[i];
		if (buf[i] == '\n' || vm->out_len == sizeof(vm->out_line))
			flush_output(vm);
	}
}

enum exit_result vm_crash(struct vcpu *v, const struct vm_exit *e, const char *fmt, ...)
{
	char why[160];
	va_list ap;
	struct vm *vm = v->vm;

	va_start(ap, fmt);
	kvsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
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
	virt->dump(v);
	vm->stop_reason = VM_STOP_CRASH;
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
	/* SVM/VMX instructions, MONITOR/MWAIT: hidden in CPUID, so #UD as on a CPU without them */
	return inject_exception(v, EXC_UD, false, 0);
}

static enum exit_result handle_skip(struct vcpu *v, const struct vm_exit *e)
{
	/* WBINVD/INVD: keel's caches are coherent with the guest's memory; nothing to do */
	skip_insn(v, e);
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
	[EXIT_SHUTDOWN] = handle_shutdown,
	[EXIT_VMCALL] = handle_vmcall,
	[EXIT_VIRT_INSN] = handle_undefined,
	[EXIT_MONITOR] = handle_undefined,
	[EXIT_MWAIT] = handle_undefined,
	[EXIT_XSETBV] = handle_xsetbv,
	[EXIT_WBINVD] = handle_skip,
	[EXIT_PAUSE] = handle_skip,
	[EXIT_ENTRY_FAILED] = handle_entry_failed,
	[EXIT_RDTSC] = handle_unexpected,
	[EXIT_RDTSCP] = handle_unexpected,
	[EXIT_INVLPG] = handle_unexpected,
	[EXIT_EXCEPTION] = handle_unexpected,
	[EXIT_UNKNOWN] = handle_unexpected,
};

/* ---- the loop ------------------------------------------------------------------------------ */

static void deliver_interrupts(struct vcpu *v)
{
	struct platform *p = v->vm->platform;
	int vec = platform_pending_interrupt(p, v->id);

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

/* Moves typed bytes from the host's serial port to the guest's UART, keeping what its FIFO has
 * no room for: nothing typed is dropped unless keel's own buffer overflows. */
static void poll_console_input(struct vm *vm)
{
	int c;
	if (!__atomic_load_n(&vm->has_input_focus, __ATOMIC_ACQUIRE))
		return;
	while (vm->input_len < sizeof(vm->input) && (c = host_uart_read()) >= 0) {
		vm->input[(vm->input_head + vm->input_len) % sizeof(vm->input)] = (uint8_t)c;
		vm->input_len++;
	}
	while (vm->input_len && platform_uart_input(vm->platform, vm->input[vm->input_head])) {
		vm->input_head = (vm->input_head + 1) % sizeof(vm->input);
		vm->input_len--;
	}
}

/* Microseconds until the platform's next timer event, capped at POLL_US. */
static uint64_t us_until_next_event(struct vm *vm, struct vcpu *v)
{
	uint64_t next = platform_next_event_ns(vm->platform, v->id), now = vm_now_ns(vm);
	if (next <= now)
		return 0;
	return MIN((next - now) / 1000 + 1, (uint64_t)POLL_US);
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
	default:
		break; /* a crash logged itself */
	}
	char line[512];
	uint64_t total = 0;
	size_t n = 0;
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			total += vm->vcpus[i]->exits[r];
	n += (size_t)ksnprintf(line, sizeof(line), "vm %s: exits total %llu:", vm->name,
			       (unsigned long long)total);
	for (unsigned r = 0; r < NR_EXIT_REASONS && n < sizeof(line); r++) {
		uint64_t c = 0;
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			c += vm->vcpus[i]->exits[r];
		if (c)
			n += (size_t)ksnprintf(line + n, sizeof(line) - n, " %s=%llu",
					       exit_reason_name(r), (unsigned long long)c);
	}
	klog("%s", line);
}

/* One life of the VM: devices and ACPI tables afresh, then the vCPU loop until it stops. */
static void run_once(struct vm *vm)
{
	struct vcpu *v = vm->vcpus[0];
	struct vm_exit exit;

	struct vdev_env env = {
		.ctx = vm,
		.vm_name = vm->name,
		.now_ns = vm_now_ns,
		.request_stop = vm_request_stop,
		.uart_tx = vm_uart_tx,
		.tsc_to_ns = vm_tsc_to_ns,
	};
	struct platform_config pcfg;
	platform_default_config(&pcfg);
	pcfg.cpus = vm->nr_vcpus;
	pcfg.exit_port = vm->exit_port;
	pcfg.time = vm->start_time;
	struct acpi_guest_config acfg;
	acpi_guest_config_default(&acfg, vm->nr_vcpus);
	if (platform_init(vm->platform, &env, &pcfg) ||
	    acpi_build_guest_tables(&vm->mem, &acfg) < 0) {
		klog("vm %s: crashed: cannot build its devices and ACPI tables", vm->name);
		vm->stop_reason = VM_STOP_CRASH;
		return;
	}
	vm->start_ns = time_now_ns();
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		virt->set_tsc_offset(vm->vcpus[i],
				     vm->vcpus[i]->tsc_offset = (uint64_t)0 - rdtsc());
	__atomic_store_n(&vm->state, VM_RUNNING, __ATOMIC_RELEASE);
	fpu_reset(); /* nothing of an earlier VM's registers reaches this one */
	klog("vm %s: starting", vm->name);
	while (vm->stop_reason == VM_STOP_NONE) {
		poll_console_input(vm);
		deliver_interrupts(v);
		if (v->halted) {
			flush_output(vm);
			host_idle_us(MAX(us_until_next_event(vm, v), 1));
			continue;
		}
		host_timer_arm_us(MAX(us_until_next_event(vm, v), 1));
		virt->vcpu_run(v, &exit);
		v->exits[exit.reason]++;
		if (exit_handlers[exit.reason](v, &exit) == EXIT_STOP)
			break;
	}
	host_timer_arm_us(0);
	flush_output(vm);
	fpu_reset();
	log_stop(vm);
}

int hv_vm_run(struct vm *vm)
{
	char why[160];

	for (;;) {
		run_once(vm);
		bool crashed = vm->stop_reason == VM_STOP_CRASH || vm->stop_reason == VM_STOP_RESET;
		if (!crashed || !vm->restart_on_crash)
			break;
		if (vm->restarts == vm->restart_limit) {
			klog("vm %s: restart limit %u reached; the VM stays stopped", vm->name,
			     vm->restart_limit);
			break;
		}
		vm->restarts++;
		klog("vm %s: restarting (%u of %u)", vm->name, vm->restarts, vm->restart_limit);
		if (hv_vm_rebuild(vm, why, sizeof(why))) {
			klog("vm %s: cannot restart: %s", vm->name, why);
			break;
		}
	}
	__atomic_store_n(&vm->state, VM_STOPPED, __ATOMIC_RELEASE);
	vm_pass_input_focus(vm);
	return vm->stop_reason;
}
