#include "core/console_input.h"

#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/time.h"
#include "core/console.h"
#include "core/console_mux.h"
#include "core/host_disks_hw.h"
#include "core/hv_api.h"
#include "core/kmem.h"
#include "core/shell.h"
#include "core/vm_pci.h"
#include "core/vm_run.h"
#include "drivers/iommu_hw.h"
#include "drivers/nic_hw.h"
#include "drivers/nvme_hw.h"
#include "drivers/pci_host_hw.h"
#include "drivers/uart16550.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "mm/phys.h"
#include "vdev/platform.h"
#include "vdev/virtio/net.h"

static struct vm **vms;
static unsigned nr_vms;
/* One CPU at a time reads the serial port and runs the shell; the others go on at once. */
static struct spinlock reader;
static struct console_mux mux;
static struct shell shell;
/* How long typed bytes wait for a VM whose input ring is full before keel drops them. */
#define FULL_GRACE_NS 2000000000ull
static uint64_t full_since_ns;
static bool dropping;
/* VMs that stopped, for the reader to take the focus off (a bit per VM index). */
static uint32_t stopped_mask;

/* ---- the shell's view of the machine ------------------------------------------------------ */

static unsigned host_nr_vms(void *ctx)
{
	(void)ctx;
	return nr_vms;
}

static const char *state_name(const struct vm *vm)
{
	switch (__atomic_load_n(&vm->state, __ATOMIC_ACQUIRE)) {
	case VM_RUNNING:
		return "running";
	case VM_STOPPING:
		return "stopping";
	case VM_STOPPED:
		return vm->stop_reason == VM_STOP_CRASH ? "crashed" : "stopped";
	default:
		return "created";
	}
}

static void host_vm_view(void *ctx, unsigned i, struct shell_vm_view *out)
{
	(void)ctx;
	const struct vm *vm = vms[i];
	bool running = __atomic_load_n(&vm->state, __ATOMIC_ACQUIRE) == VM_RUNNING;
	*out = (struct shell_vm_view){
		.name = vm->name,
		.state = state_name(vm),
		.nr_vcpus = vm->nr_vcpus,
		.memory = vm->memory,
		.uptime_ns = running ? vm_clock_ns(&vm->clock, rdtsc()) : 0,
		.restarts = vm->restarts,
		.pmu_msr_accesses = __atomic_load_n(&vm->pmu_msr_accesses, __ATOMIC_RELAXED),
		.mitig = {
			.ibpb = __atomic_load_n(&vm->mitig.ibpb, __ATOMIC_RELAXED),
			.rsb_fill = __atomic_load_n(&vm->mitig.rsb_fill, __ATOMIC_RELAXED),
			.l1d_flush = __atomic_load_n(&vm->mitig.l1d_flush, __ATOMIC_RELAXED),
			.verw = __atomic_load_n(&vm->mitig.verw, __ATOMIC_RELAXED),
		},
		.nr_nets = vm->nr_nets,
		.nr_disks = vm->nr_disks,
		.nr_pcis = vm->nr_pcis,
		.pci_interrupts = vm_pci_interrupts(vm),
		.pci_on_target = vm_pci_interrupts_on_target(vm),
		.pci_faults = vm_pci_faults(vm),
	};
}

static void host_vm_exits(void *ctx, unsigned i, unsigned vcpu, uint64_t counts[NR_EXIT_REASONS])
{
	(void)ctx;
	/* counters another CPU is adding to: each read is whole, the set a moment's snapshot */
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		counts[r] = __atomic_load_n(&vms[i]->vcpus[vcpu]->exits[r], __ATOMIC_RELAXED);
}

static void host_vm_net(void *ctx, unsigned i, unsigned j, struct shell_net_view *out)
{
	(void)ctx;
	struct vm *vm = vms[i];
	if (j >= vm->nr_nets)
		return;
	const struct vm_net *n = &vm->nets[j];
	struct virtio_net_stats d;
	struct net_port_stats p;
	/* the device's counters change under its VM's lock (a vCPU's exit, platform_net_rx), and
	 * a new life initialises device and port under it; the port's counters, which senders on
	 * other CPUs add to, under the port's lock too (a VM's lock, then a port's) */
	vm_lock(vm);
	d = n->dev->stats;
	bool attached = n->dev->port.sw != NULL;
	net_port_get_stats(&n->dev->port, &p);
	vm_unlock(vm);
	*out = (struct shell_net_view){
		.sw = n->switch_name,
		.attached = attached,
		.tx_frames = d.tx_frames,
		.tx_bytes = d.tx_bytes,
		.tx_bad_chain = d.tx_bad_chain,
		.tx_bad_header = d.tx_bad_header,
		.tx_bad_length = d.tx_bad_length,
		.tx_no_link = d.tx_no_link,
		.tx_spoofed = d.tx_spoofed,
		.rx_frames = d.rx_frames,
		.rx_bytes = d.rx_bytes,
		/* the device takes every frame into a NET_GSO_FRAME_MAX buffer: none is too big there */
		.rx_ring_full = p.rx_dropped_full + p.rx_dropped_too_big,
		.rx_too_small = d.rx_too_small,
		.rx_lost = d.rx_lost,
		.rx_flushed = p.rx_flushed,
		.rx_bad_chain = d.rx_bad_chain,
		.rx_queued = p.rx_queued,
	};
	memcpy(out->mac, n->mac, sizeof(out->mac));
}

static bool host_vm_console(void *ctx, unsigned i, struct shell_console_view *out)
{
	(void)ctx;
	struct vm *vm = vms[i];
	bool has;
	/* the device's counters change under its VM's lock (a vCPU's exit, its console input),
	 * and a new life initialises the platform under it */
	vm_lock(vm);
	const struct virtio_console *c = &vm->platform->console;
	has = vm->platform->has_console;
	if (has)
		*out = (struct shell_console_view){
			.tx_bytes = c->stats.tx_bytes,
			.emerg_bytes = c->stats.emerg_bytes,
			.tx_bad_chain = c->stats.tx_bad_chain,
			.tx_cut = c->stats.tx_cut,
			.rx_bytes = c->stats.rx_bytes,
			.rx_dropped = c->stats.rx_dropped,
			.rx_bad_chain = c->stats.rx_bad_chain,
			.rx_waiting = virtio_console_waiting(c),
		};
	vm_unlock(vm);
	return has;
}

static int host_vm_stop(void *ctx, unsigned i, char *err, size_t err_size)
{
	(void)ctx;
	if (__atomic_load_n(&vms[i]->state, __ATOMIC_ACQUIRE) != VM_RUNNING) {
		ksnprintf(err, err_size, "vm %s is not running", vms[i]->name);
		return -1;
	}
	vm_stop(vms[i], VM_STOP_SHELL);
	return 0;
}

static int host_vm_restart(void *ctx, unsigned i, char *err, size_t err_size)
{
	(void)ctx;
	return vm_restart(vms[i], err, err_size);
}

static void host_mem(void *ctx, struct shell_mem *out)
{
	(void)ctx;
	out->free_bytes = kmem_free_bytes();
	out->largest_free = kmem_largest_free();
	out->keel_bytes = kmem_used_bytes();
	out->used_bytes = out->keel_bytes;
	for (unsigned i = 0; i < nr_vms; i++)
		if (__atomic_load_n(&vms[i]->state, __ATOMIC_ACQUIRE) != VM_CREATED)
			/* less what its balloon gave back: that is free now */
			out->used_bytes +=
				vms[i]->memory -
				__atomic_load_n(&vms[i]->balloon.inflated, __ATOMIC_RELAXED) *
					PAGE_SIZE;
}

/* The balloon's view, and a request for the guest's next statistics report (it arrives on the
 * stats queue a moment later: the next `stats` shows it). */
static void host_vm_balloon(void *ctx, unsigned i, struct shell_balloon_view *out)
{
	(void)ctx;
	struct vm *vm = vms[i];
	vm_lock(vm);
	if (vm->balloon_frames) {
		const struct virtio_balloon *d = &vm->platform->balloon;
		bool dev = vm->platform->has_balloon;
		out->present = true;
		out->target_bytes = (uint64_t)vm->balloon_target * PAGE_SIZE;
		out->actual_bytes = dev ? (uint64_t)d->actual * PAGE_SIZE : 0;
		out->held_bytes = vm->balloon.inflated * PAGE_SIZE;
		out->refaults = vm->balloon.refaults;
		out->refused = dev ? d->bad + d->repeated + d->failed : 0;
		if (dev) {
			out->stat_valid = d->stats.valid & 0x3FF;
			for (unsigned t = 0; t < 10; t++)
				out->stat[t] = d->stats.val[t];
			out->reports = d->stats.reports;
			if (vm->state == VM_RUNNING)
				virtio_balloon_request_stats(&vm->platform->balloon);
		}
	}
	vm_unlock(vm);
}

static int host_vm_set_balloon(void *ctx, unsigned i, uint64_t bytes, char *err, size_t err_size)
{
	(void)ctx;
	return hv_vm_set_balloon_target(vms[i], bytes, err, err_size);
}

/* The shell's output goes out a line at a time (a guest's line cannot land inside one of
 * them); a partial line (the prompt, an echoed key) when the shell has taken a byte. Only the
 * CPU holding the reader lock runs the shell. */
static char shell_out[256];
static size_t shell_out_len;

static void shell_flush(void)
{
	console_write(&shell, shell_out, shell_out_len);
	shell_out_len = 0;
}

static void host_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		shell_out[shell_out_len++] = s[i];
		if (s[i] == '\n' || shell_out_len == sizeof(shell_out))
			shell_flush();
	}
}

static void host_vm_disk(void *ctx, unsigned i, unsigned j, struct shell_disk_view *out)
{
	(void)ctx;
	struct vm *vm = vms[i];
	if (j >= vm->nr_disks || j >= PLATFORM_MAX_DISKS)
		return;
	/* the device's counters change under its VM's lock (a vCPU's exit) */
	vm_lock(vm);
	const struct virtio_blk *b = &vm->platform->blk[j];
	*out = (struct shell_disk_view){
		.sectors = vm->disks[j]->sectors,
		.read_only = vm->disks[j]->read_only,
		.reads = b->reads,
		.writes = b->writes,
		.flushes = b->flushes,
		.errors = b->errors,
		.read_bytes = b->read_bytes,
		.written_bytes = b->written_bytes,
	};
	vm_unlock(vm);
}

static unsigned host_nr_nvme(void *ctx)
{
	(void)ctx;
	return nvme_hw_count();
}

static void host_nvme(void *ctx, unsigned i, struct shell_nvme_view *out)
{
	(void)ctx;
	const struct nvme_ctrl *c = nvme_hw_ctrl(i);
	if (!c)
		return;
	/* strings set at bring-up; counters read as they are (a racy snapshot is fine here) */
	out->where = nvme_hw_where(i);
	out->model = c->model;
	out->serial = c->serial;
	out->state = nvme_state_name(c->state);
	out->timeouts = c->nr_timeouts;
	out->resets = c->nr_resets;
	struct nvme_hw_counts n = { 0 };
	nvme_hw_counts(i, &n);
	out->done = n.done;
	out->failed = n.failed;
	out->lock_takes = n.lock_takes;
	out->lock_waits = n.lock_waits;
	out->msix = c->io_irq;
	out->interrupts = host_device_interrupts();
}

static unsigned host_nr_nics(void *ctx)
{
	(void)ctx;
	return nic_hw_count();
}

static void host_nic(void *ctx, unsigned i, struct shell_nic_view *out)
{
	(void)ctx;
	struct nic_hw_view v;
	memset(&v, 0, sizeof(v));
	nic_hw_view(i, &v);
	*out = (struct shell_nic_view){
		.where = v.where,
		.model = v.model,
		.state = v.state,
		.sw = v.sw,
		.link_up = v.link_up,
		.rx_frames = v.st.rx_frames,
		.rx_bytes = v.st.rx_bytes,
		.tx_frames = v.st.tx_frames,
		.tx_bytes = v.st.tx_bytes,
		.rx_dropped = v.st.rx_dropped + v.to_switch_dropped,
		.tx_dropped = v.st.tx_dropped + v.from_switch_dropped,
		.resets = v.st.resets,
	};
	memcpy(out->mac, v.mac, sizeof(out->mac));
}

static const struct host_disks *host_disks(void *ctx)
{
	(void)ctx;
	return host_disks_table();
}

static const struct pci_host *host_pci(void *ctx)
{
	(void)ctx;
	return pci_host_table();
}

static const char *host_iommu(void *ctx)
{
	(void)ctx;
	return iommu_hw_vendor();
}

static const struct shell_host shell_host = {
	.nr_vms = host_nr_vms,
	.vm_view = host_vm_view,
	.vm_exits = host_vm_exits,
	.vm_net = host_vm_net,
	.vm_console = host_vm_console,
	.vm_stop = host_vm_stop,
	.vm_restart = host_vm_restart,
	.mem = host_mem,
	.vm_balloon = host_vm_balloon,
	.vm_set_balloon = host_vm_set_balloon,
	.vm_disk = host_vm_disk,
	.nr_nvme = host_nr_nvme,
	.nvme = host_nvme,
	.disks = host_disks,
	.nr_nics = host_nr_nics,
	.nic = host_nic,
	.pci = host_pci,
	.iommu = host_iommu,
	.write = host_write,
};

/* ---- routing ------------------------------------------------------------------------------ */

static bool vm_alive(void *ctx, unsigned i)
{
	(void)ctx;
	return __atomic_load_n(&vms[i]->state, __ATOMIC_ACQUIRE) != VM_STOPPED;
}

void console_input_attach(struct vm **list, unsigned nr)
{
	vms = list;
	nr_vms = nr;
	console_mux_init(&mux, nr, vm_alive, NULL);
	shell_init(&shell, &shell_host);
	klog("keel: console input goes to %s%s; Ctrl-T three times moves it on%s",
	     console_mux_is_shell(&mux) ? "keel's shell" : "vm ",
	     console_mux_is_shell(&mux) ? "" : vms[mux.focus]->name,
	     nr > 1 ? " (VMs in order, then keel's shell)" : " (to keel's shell and back)");
}

/* The klog line starts a line of its own even after the shell's prompt (console_line.h). */
static void announce_focus(void)
{
	if (console_mux_is_shell(&mux)) {
		klog("keel: console input goes to keel's shell (help lists its commands)");
		shell_prompt(&shell);
		shell_flush();
	} else {
		klog("keel: console input goes to vm %s", vms[mux.focus]->name);
	}
}

/* Room in the VM's input ring, which its vCPU 0 empties into the guest's UART. */
static unsigned ring_room(const struct vm *vm)
{
	return (unsigned)sizeof(vm->input) -
	       (vm->input_head - __atomic_load_n(&vm->input_tail, __ATOMIC_ACQUIRE));
}

static void to_vm(struct vm *vm, const uint8_t *b, unsigned n)
{
	unsigned head = vm->input_head;
	for (unsigned i = 0; i < n; i++)
		vm->input[(head + i) % sizeof(vm->input)] = b[i];
	__atomic_store_n(&vm->input_head, head + n, __ATOMIC_RELEASE);
}

/* Stopped VMs lose the focus (the reader does it, so the mux has one writer). */
static void take_stopped(void)
{
	uint32_t mask = __atomic_exchange_n(&stopped_mask, 0, __ATOMIC_ACQ_REL);
	for (unsigned i = 0; mask && i < nr_vms; i++)
		if ((mask & (1u << i)) && console_mux_target_stopped(&mux, i))
			announce_focus();
}

void console_input_poll(void)
{
	if (!nr_vms || !spin_trylock(&reader))
		return;
	take_stopped();
	for (;;) {
		struct vm *vm = console_mux_is_shell(&mux) ? NULL : vms[mux.focus];
		bool full = vm && ring_room(vm) < CONSOLE_HOTKEY_COUNT;
		if (!full) {
			full_since_ns = 0;
		} else if (!full_since_ns) {
			full_since_ns = time_now_ns();
		}
		/* A full ring leaves the bytes in the host UART while the guest reads on; a guest that
		 * stopped reading must not keep the hotkey from the console, so after a while keel
		 * reads on and drops what is typed for it. */
		if (full && time_now_ns() - full_since_ns < FULL_GRACE_NS)
			break;
		int c = host_uart_read();
		if (c < 0)
			break;
		uint8_t out[CONSOLE_HOTKEY_COUNT];
		bool switched;
		unsigned n = console_mux_feed(&mux, (uint8_t)c, out, &switched);
		if (switched) {
			announce_focus();
			continue;
		}
		if (full && n) {
			if (!dropping)
				klog("keel: vm %s reads no console input; what is typed for it is "
				     "dropped until it does",
				     vm->name);
			dropping = true;
		} else if (vm) {
			dropping = false;
			to_vm(vm, out, n);
		} else {
			for (unsigned i = 0; i < n; i++)
				shell_input(&shell, out[i]);
			shell_flush();
		}
	}
	spin_unlock(&reader);
}

void console_input_vm_stopped(struct vm *vm)
{
	for (unsigned i = 0; i < nr_vms; i++)
		if (vms[i] == vm)
			__atomic_or_fetch(&stopped_mask, 1u << i, __ATOMIC_ACQ_REL);
}
