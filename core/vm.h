/* VMs and vCPUs, and the public C API keel's own config launcher uses (core/hv_api.h). */
#ifndef KEEL_CORE_VM_H
#define KEEL_CORE_VM_H

#include "core/balloon_mem.h"
#include "core/config.h"
#include "core/gmem.h"
#include "core/mitigations.h"
#include "core/vcpu_state.h"
#include "core/vm_clock.h"
#include "core/vm_exit.h"
#include "core/vm_pci.h"
#include "guest/loader.h"
#include "io/blk.h"
#include "lib/spinlock.h"
#include "mm/stage2.h"
#include "vdev/rtc_cmos.h"
#include "vdev/vdev.h"

#define VM_MAX_VCPUS CFG_MAX_VCPUS
#define VM_MAX_DISKS CFG_MAX_DISKS
#define VM_MAX_NETS CFG_MAX_NETS

/* The guest's console device (keel.cfg `console`) */
enum vm_console {
	VM_CONSOLE_UART,   /* the emulated 16550 at COM1 */
	VM_CONSOLE_VIRTIO, /* a virtio console besides it, which takes the console input */
};

struct net_switch;
struct virtio_net;
struct iommu_domain;
struct vm_pci;

/* A virtio-net device the VM asked for (core/vm_io.c): the platform plugs dev in at each life's
 * start and attaches its port to sw, and detaches it when the life ends (core/vm_run.c). */
struct vm_net {
	char switch_name[CFG_NAME_MAX + 1];
	/* in keel's registry (core/vm_io.c): a switch lives as long as keel */
	struct net_switch *sw;
	struct virtio_net *dev; /* kmem pages of the VM's own (1.2 MiB, its port's ring most) */
	bool has_mac;		/* false: mac is keel's, net_mac_for(VM name, index) */
	uint8_t mac[6];
};

enum vm_state {
	VM_CREATED,
	VM_RUNNING,  /* in a life: its vCPUs run */
	VM_STOPPING, /* a stop was asked for: its vCPUs are leaving */
	VM_STOPPED,
};

struct vm;
struct conbuf;

struct vcpu {
	struct vm *vm;
	unsigned id;
	struct vcpu_regs regs;
	void *arch; /* the backend's per-vCPU state (VMCB, VMCS ...) */
	uint64_t exits[NR_EXIT_REASONS];
	/* the scheduler's (core/sched.c): the physical CPU it runs on, and the VM life it is in */
	unsigned pcpu;
	struct vcpu *sched_next; /* the next vCPU on the same CPU (a ring) */
	bool cpu_shared;	 /* other vCPUs run on its CPU too (time-sliced) */
	bool yield;		 /* it spun on PAUSE: end its slice */
	uint64_t slice_end_ns;	 /* keel's clock when its current slice ends */
	int pin; /* the physical CPU keel.cfg pinned it to, or -1: the scheduler picks */
	unsigned life;
	bool in_life;
	bool halted;
	bool wait_for_sipi;  /* an AP, or a vCPU after INIT: runs only once a SIPI arrives */
	uint64_t wake_ns;    /* keel's clock at its next timer event (core/vm_run.c vcpu_ready) */
	void *fpu;	     /* its FPU/SSE/AVX registers while another vCPU has the CPU */
	uint64_t tsc_offset; /* guest TSC = host TSC + tsc_offset: the VM's (clock.tsc_offset) */
	uint32_t tsc_gen;    /* the clock.tsc_gen that offset came from */
	/* odd while it runs guest code (around virt->vcpu_run); quiet_seq counts the tops of its
	 * run loop, where it holds no pointer into guest RAM, and in_slice is set while it is inside
	 * that loop: a balloon frees a page's frame only once every vCPU passed a top or left the
	 * loop (core/vm_balloon.c) */
	uint32_t guest_seq;
	uint64_t xcr0;
	uint8_t cr8; /* the CR8 core last gave the backend (virt_ops get_cr8/set_cr8) */
	bool in_slice;
	uint32_t quiet_seq;
	uint64_t blk_sent_seen; /* platform_blk_sent when it last polled the VM's disks */
	uint64_t tsc_aux;
	uint64_t kvm_system_time; /* the MSR's value: structure address | enable */
};

struct vm {
	char name[CFG_NAME_MAX + 1];
	enum vm_state state;
	/* The virtual platform and the console buffers are shared by the VM's vCPUs, which run on
	 * several CPUs: every call into vm->platform holds this lock. */
	struct spinlock lock;
	/* Lives: a restart begins a new one. Each vCPU joins it on its own CPU (its VMCS/VMCB is
	 * only touched there), and the last vCPU to leave a life ends it. */
	unsigned life;
	unsigned vcpus_in;	/* vCPUs still in the current life */
	bool restart_asked;	/* the shell's restart: start again without counting a crash */
	bool dma_stale;		/* core/vm_dma.h */
	struct guest_boot boot; /* vCPU 0's entry state, as the loader gave it */
	uint64_t memory;
	struct guest_mem mem; /* its RAM's host blocks (kmem pages of its own) */
	struct stage2 stage2;
	struct vcpu *vcpus[VM_MAX_VCPUS];
	unsigned nr_vcpus;
	bool exit_port;
	struct platform *platform;
	/* what hv_vm_load_kernel / _initrd were given (kept to reload, and to restart the VM) */
	const void *kernel;
	size_t kernel_size;
	const void *initrd;
	size_t initrd_size;
	const char *cmdline;
	char kernel_format[32];
	struct vrtc_time start_time; /* wall-clock time for the guest's RTC */
	uint64_t start_ns;	     /* keel's clock when the VM started: guest time 0 */
	struct vm_clock clock;	     /* guest time and the guest TSC (vm_lock for changes) */
	enum vm_stop_reason stop_reason;
	uint32_t exit_code;	 /* the exit port's value */
	uint64_t kvm_wall_clock; /* the MSR's last value */
	bool restart_on_crash;	 /* keel.cfg on_crash = restart */
	bool restart_on_reboot;	 /* keel.cfg on_reboot = restart */
	unsigned restart_limit, restarts;
	/* console: with several VMs running, output lines carry "NAME| " and only the VM with the
	 * input focus reads the host's serial port */
	bool prefix_output;
	/* its output on the way to the host console (core/guest_console.h), under vm->lock */
	struct conbuf *con;
	/* console input on its way to the guest's UART (a paste outruns its FIFO): one writer,
	 * keel's console input (core/console_input.c), and one reader, a vCPU holding the lock */
	uint8_t input[512];
	unsigned input_head, input_tail; /* free-running; head - tail bytes are waiting */
	uint32_t msr_logged[32];	 /* MSRs already reported as refused */
	unsigned nr_msr_logged;
	/* reads and writes of the performance-counter MSRs keel answers without a PMU (read 0,
	 * writes ignored) in this life; several vCPUs add to it at once, the shell reads it */
	uint64_t pmu_msr_accesses;
	/* transient-execution mitigations run for this VM in this life (core/mitigations.h) */
	struct mitig_counts mitig;
	/* guest I/O (core/vm_io.c): what the device models build on. disks[i] is vd('a' + i); its
	 * backend lives until hv_vm_destroy, so a restarted guest finds what it wrote. */
	struct blk_backend *disks[VM_MAX_DISKS];
	unsigned nr_disks;
	struct vm_net nets[VM_MAX_NETS];
	unsigned nr_nets;
	enum vm_console console;
	/* its balloon (core/vm_balloon.c): the page bookkeeping the device calls, the per-page
	 * table behind it (kmem pages), and keel's target in 4 KiB pages (kept across lives) */
	struct balloon_mem balloon;
	struct balloon_mem_ops balloon_ops; /* its callbacks, ctx this VM */
	uint64_t *balloon_frames;
	/* frames out of stage 2 whose flush was asked for, not yet keel's (kmem pages), and each
	 * vCPU's quiet_seq when the last of them joined */
	uint64_t *balloon_retired;
	uint32_t retired_seq[VM_MAX_VCPUS];
	unsigned nr_retired;
	uint32_t balloon_target;
	/* its IOMMU domain (core/vm_dma.h), while PCI functions are passed to it (dma_stale, above:
	 * pages left it since the units last dropped their cached translations) */
	struct iommu_domain *dma;
	/* host PCI functions passed to it (core/vm_pci.h), and its number in their claims */
	struct vm_pci *pcis[VM_MAX_PCI];
	unsigned nr_pcis;
	unsigned id;
};

static inline void vm_lock(struct vm *vm)
{
	spin_lock(&vm->lock);
}

static inline void vm_unlock(struct vm *vm)
{
	spin_unlock(&vm->lock);
}

#endif
