/* One VM's virtual platform: every device of vdev/, wired together and registered on the VM's
 * I/O and MMIO buses. The vCPU loop (core/) calls in here for port I/O, MMIO, the APIC MSRs,
 * interrupt injection and "when must I wake up". A VM embeds or allocates one struct platform;
 * it must not move after platform_init (devices keep pointers into it).
 *
 *   ports   0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1  8259 pair, ELCR
 *           0x40-0x43, 0x61                    8254 PIT, NMI status/control
 *           0x60, 0x64, 0x92                   8042 (reset), System Control Port A
 *           0x70-0x71                          RTC/CMOS (IRQ 8, century at 0x32)
 *           0xF4                               exit port (unless disabled)
 *           0x3F8-0x3FF                        COM1 (IRQ 4)
 *           0x600-0x603, 0x604-0x605, 0x608    ACPI PM1a event, PM1a control, PM timer (SCI 9)
 *           0xCF8 (dword), 0xCFC-0xCFF         PCI configuration mechanism #1
 *           0xCF9 (byte)                       reset control
 *           0x1000-0xFFFF                      PCI I/O BARs, where the guest puts them
 *   MMIO    0xC0000000-0xDFFFFFFF              PCI memory BARs, where the guest puts them
 *           above RAM (pci_mmio64_base/end)    PCI 64-bit memory BARs, where the guest puts them
 *           0xE0000000-0xE00FFFFF              PCI ECAM, bus 0
 *           0xFEC00000                         IOAPIC (24 pins; 16-23 PCI INTx)
 *           IA32_APIC_BASE (0xFEE00000)        local APIC of the accessing vCPU, xAPIC mode
 *   MSRs    0x1B, 0x6E0, 0x800-0x8FF           APIC base, TSC deadline, x2APIC
 *   PCI     00:00.0 host bridge, 00:01.0 virtio-rng, 00:02.0 on the disks (vda, vdb ...), then
 *           the nets (net 0, net 1 ...) in the slots right after the last disk; fixed slots
 *           from the top, so adding one never moves the others: 00:1e.0 virtio-balloon (every VM
 *           whose config gives a balloon backend), 00:1f.0 virtio-console (only with keel.cfg
 *           `console = virtio`) */
#ifndef KEEL_VDEV_PLATFORM_H
#define KEEL_VDEV_PLATFORM_H

#include "lib/types.h"
#include "vdev/acpi_pm.h"
#include "vdev/exit_port.h"
#include "vdev/i8042.h"
#include "vdev/io_bus.h"
#include "vdev/ioapic.h"
#include "vdev/irq_router.h"
#include "vdev/lapic.h"
#include "vdev/mmio_bus.h"
#include "vdev/pci/pci_bus.h"
#include "vdev/virtio/blk.h"
#include "vdev/virtio/console.h"
#include "vdev/virtio/net.h"
#include "vdev/virtio/balloon.h"
#include "vdev/virtio/rng.h"
#include "vdev/pic8259.h"
#include "vdev/pit8254.h"
#include "vdev/rtc_cmos.h"
#include "vdev/uart16550.h"
#include "vdev/vdev.h"

#define PLATFORM_MAX_CPUS 8
#define PLATFORM_IOAPIC_BASE 0xFEC00000ull
/* PCI slots of bus 0: the host bridge at 0, then the devices every VM has */
#define PLATFORM_SLOT_RNG 1
#define PLATFORM_SLOT_DISK0 2 /* vda, vdb, ... in slots 2, 3, ... */
#define PLATFORM_MAX_DISKS 8
/* the nets follow the disks: net i in slot PLATFORM_SLOT_DISK0 + nr_disks + i */
#define PLATFORM_MAX_NETS 4
#define PLATFORM_SLOT_BALLOON 0x1e /* fixed, whatever the disks and nets */
#define PLATFORM_SLOT_CONSOLE 0x1f /* the last slot */

/* A virtio-net device the platform plugs in (keel.cfg's `net`). Its storage is the caller's: a
 * struct virtio_net holds its port's 1 MiB receive ring and 64 KiB frame buffers, which the
 * platform does not carry for every VM, and it outlives the platform's lives (the shell reads
 * its counters). */
struct platform_net {
	struct virtio_net *dev;
	struct net_switch *sw; /* its port joins this switch in platform_init */
	uint8_t mac[NET_MAC_LEN];
};

struct platform_config {
	unsigned cpus;		   /* 1..PLATFORM_MAX_CPUS; APIC IDs 0..cpus-1 */
	bool exit_port;		   /* CONVENTIONS.md: on unless the config says no */
	struct vrtc_time time;	   /* wall-clock time at guest time "now" */
	struct vacpi_pm_config pm; /* ports, timer width, S5 value, SCI: as the ACPI tables say */
	uint32_t phys_bits;	   /* guest MAXPHYADDR (IA32_APIC_BASE reserved bits); 0: 48 */
	/* the PCI 64-bit memory window (core/guest_layout.h); none when end == base */
	uint64_t pci_mmio64_base, pci_mmio64_end;
	/* virtio-blk disks vda, vdb, ... over these backends (they outlive the platform) */
	struct blk_backend *const *disks;
	unsigned nr_disks;
	/* virtio-net devices after the disks, each a port of its switch while the platform lives */
	const struct platform_net *nets;
	unsigned nr_nets;
	/* a virtio console in PLATFORM_SLOT_CONSOLE takes the VM's console input (the UART stays,
	 * and its output still reaches the console) */
	bool virtio_console;
	/* virtio-balloon at PLATFORM_SLOT_BALLOON over this backend (it outlives the platform), its
	 * target balloon_target pages from the start; NULL: no balloon */
	const struct balloon_backend *balloon;
	uint32_t balloon_target;
	/* host functions passed through (vdev/pci/passthru.h), set up and sealed by the caller,
	 * in the slots after the nets */
	struct pci_dev *const *passthru;
	unsigned nr_passthru;
};

/* The defaults: 1 CPU, exit port on, ACPI PM at 0x600/0x604/0x608 with a 24-bit timer,
 * S5 = 5, SCI on IRQ 9. */
void platform_default_config(struct platform_config *cfg);

enum platform_result {
	PLATFORM_GP = -1, /* MSR: inject #GP; I/O or MMIO: a malformed request (bad size) */
	PLATFORM_OK = 0,
	PLATFORM_STOP = 1, /* the access asked the VM to stop: platform_stop_reason() says why */
};

/* Where each kind of interrupt comes from, for the vCPU loop's statistics and tracing. */
enum platform_irq_source { PLATFORM_IRQ_NONE, PLATFORM_IRQ_LAPIC, PLATFORM_IRQ_PIC };

struct platform {
	struct vdev_env env;	 /* the VM's, as given */
	struct vdev_env dev_env; /* the devices': ctx = this platform, set_irq = the router */
	unsigned nr_cpus;
	struct io_bus io;
	struct mmio_bus mmio;
	struct irq_router router;
	struct exit_port exit;
	bool has_exit_port;
	struct vuart16550 uart;
	struct vpic8259 pic;
	struct vpit8254 pit;
	struct vrtc_cmos rtc;
	struct vacpi_pm pm;
	struct vi8042 kbc;
	struct vioapic ioapic;
	struct vlapic_bus vlapic_bus;
	struct vlapic lapic[PLATFORM_MAX_CPUS];
	struct pci_bus pci;
	struct pci_dev host_bridge;
	struct virtio_rng rng;
	struct virtio_balloon balloon;
	bool has_balloon;
	struct virtio_blk blk[PLATFORM_MAX_DISKS];
	unsigned nr_disks; /* initialised (platform_blk_* look at these) */
	struct virtio_net
		*net[PLATFORM_MAX_NETS]; /* platform_config's, attached to their switches */
	unsigned nr_nets;
	bool has_console;
	struct virtio_console console; /* with platform_config.virtio_console */
	enum platform_irq_source offered[PLATFORM_MAX_CPUS];
	enum vm_stop_reason stop;
	uint32_t stop_code;
};

/* env: the VM's time, stop, console and kick callbacks (its set_irq is not used). -1 when cfg is
 * out of range, or a net's port cannot join its switch (then no port of p is attached). The BSP's
 * local APIC starts in virtual-wire mode, as a BIOS leaves it. Each net's port is attached to its
 * switch last: from then on frames may arrive, and the device's kick calls env->kick(ctx, 0) on
 * the sending CPU, with no lock of p's VM held (vCPU 0 then runs platform_net_rx). */
int platform_init(struct platform *p, const struct vdev_env *env,
		  const struct platform_config *cfg);
/* Detaches every net's port from its switch (frames queued for it are dropped, counted as
 * flushed): before platform_init runs on p again, and before p or a device is freed. Returns
 * once no other CPU can still call into p through a port. Does nothing for a platform whose
 * ports are detached already, or one that is all zeros (never initialised). */
void platform_fini(struct platform *p);
/* Every device back to its power-on state (after a guest reset). */
void platform_reset(struct platform *p);

/* Port I/O: size 1, 2 or 4; *val in for a write, out for a read. */
int platform_io(struct platform *p, uint16_t port, unsigned size, bool write, uint32_t *val);
/* MMIO from vCPU cpu (its local APIC page first): size 1, 2, 4 or 8. */
int platform_mmio(struct platform *p, unsigned cpu, uint64_t gpa, unsigned size, bool write,
		  uint64_t *val);
/* True for the MSRs platform_msr_read/write handle (IA32_APIC_BASE, TSC deadline, x2APIC). */
bool platform_msr_is_apic(uint32_t msr);
int platform_msr_read(struct platform *p, unsigned cpu, uint32_t msr, uint64_t *val);
int platform_msr_write(struct platform *p, unsigned cpu, uint32_t msr, uint64_t val);

/* Brings timers up to date (raising their interrupts), hands out buffered console output, and
 * returns when vCPU cpu must next wake for a device event (guest ns), or UINT64_MAX. Call it
 * before a vCPU sleeps in HLT. */
uint64_t platform_next_event_ns(struct platform *p, unsigned cpu);
/* The vector vCPU cpu should take next (local APIC above its PPR, or the 8259 through LINT0),
 * or -1. No side effects beyond bringing timers up to date. */
int platform_pending_interrupt(struct platform *p, unsigned cpu);
/* The vCPU injected vector, which platform_pending_interrupt offered: acknowledge it at its
 * source (IRR to ISR, or the 8259's INTA). */
void platform_ack_interrupt(struct platform *p, unsigned cpu, int vector);
/* The vCPU an MSI with this address and data would reach first (for lowest priority, the first
 * that matches: the choice by priority is made at delivery), or -1 when none matches or the
 * message is not one keel sends on. Where keel aims the host interrupt behind a passed-through
 * function's message, so that it arrives on the CPU that runs that vCPU. */
int platform_msi_target(const struct platform *p, uint64_t addr, uint32_t data);
/* NMI for vCPU cpu, once per NMI. */
bool platform_take_nmi(struct platform *p, unsigned cpu);
/* Moves frames the switches queued into the guest's receive queues: virtio_net_rx for every net
 * whose port was notified since (virtio_net_rx_pending). Under the VM's lock, before a vCPU looks
 * for its interrupts, so the interrupt it raises is taken in the same pass. */
void platform_net_rx(struct platform *p);
/* Finishes the disks' requests their host devices completed (virtio_blk_complete), under the VM's
 * lock, like platform_net_rx. */
void platform_blk_complete(struct platform *p);
/* Whether a disk has requests on a host device: DMA into the guest's RAM may still come. */
bool platform_blk_busy(const struct platform *p);
/* Whether a host device may still be moving a disk request's data (set back by the device's
 * poll, with no lock of the VM: what the balloon waits for before it gives frames away). */
bool platform_blk_dma_busy(const struct platform *p);
/* Parts of requests the disks sent to host devices, ever (a vCPU sees it sent some). */
uint64_t platform_blk_sent(const struct platform *p);
/* A byte typed at the VM's console; false when the UART's FIFO is full (retry later). */
bool platform_uart_input(struct platform *p, uint8_t byte);
/* Bytes typed at the VM's console, for its console device: the virtio console when the VM has
 * one (it buffers, and drops and counts what its buffer cannot hold: all n are taken), else the
 * UART (as many as its FIFO takes). Returns the bytes taken. */
size_t platform_console_input(struct platform *p, const uint8_t *buf, size_t n);
/* The host asks the guest to shut down (ACPI power button). */
void platform_power_button(struct platform *p);

enum vm_stop_reason platform_stop_reason(const struct platform *p, uint32_t *code);

#endif
