/* keel's shell: a line-oriented command shell on the serial console (the target after the VMs in
 * core/console_mux.h). It knows nothing of struct vm: it reaches the VMs and host memory only
 * through struct shell_host, so the whole of it runs on the host under unit tests and fuzzing.
 *
 * Commands (words separated by blanks; a wrong number of arguments prints the usage line):
 *   help           one line per command
 *   vms            NAME STATE VCPUS MEMORY UPTIME RESTARTS, one VM a line
 *   stats NAME     NAME's exits since its current run started, by reason, per vCPU and in all;
 *                  then its accesses to the performance-counter MSRs, answered without a PMU,
 *                  how often each transient-execution mitigation ran for it, and per virtio-net
 *                  device its switch, MAC and frames, bytes and drops each way; per
 *                  virtio-blk device its size and requests, bytes and errors; with passed
 *                  PCI functions, their remapped interrupts and DMA faults
 *   stop NAME      asks the host to stop NAME
 *   restart NAME   asks the host to rebuild NAME from its images and start it again
 *   mem            host memory free and used, and keel's own
 *   balloon NAME SIZE  asks NAME's guest to leave itself SIZE of its memory (a size as keel.cfg
 *                  writes it, e.g. 128M): its virtio-balloon gives the rest back to keel; `stats
 *                  NAME` then shows the target, what the guest gave and its memory statistics
 *   pci            the host's PCI functions as keel found them at boot, one a line, with their
 *                  owner (none, keel, or the VM it is passed to) and, behind an IOMMU, the
 *                  domain their DMA goes through (or "DMA blocked")
 *   nics           keel's host NICs: where, MAC, link, the switch each is the uplink of, and
 *                  frames, bytes and drops each way
 *   disks          keel's NVMe controllers (state, commands, failures), and each namespace and
 *                  GPT partition on them: its keel.cfg name, size, and the VM disk that has it
 * Every output line ends with "\r\n" (a serial terminal). */
#ifndef KEEL_CORE_SHELL_H
#define KEEL_CORE_SHELL_H

#include "core/host_disks.h"
#include "core/mitigations.h"
#include "core/vm_exit.h"
#include "drivers/pci_host.h"
#include "lib/types.h"

/* One VM as the shell sees it; the host fills it in for each command. */
struct shell_vm_view {
	const char *name;
	const char *state; /* "running", "stopped", "crashed" ... as the host gives it */
	unsigned nr_vcpus;
	uint64_t memory;    /* bytes */
	uint64_t uptime_ns; /* since the VM's current run started; 0 when not running */
	unsigned restarts;
	/* reads and writes of the performance-counter MSRs keel answers without a PMU (read 0,
	 * writes ignored) since the VM's current run started */
	uint64_t pmu_msr_accesses;
	/* transient-execution mitigations keel ran for the VM since its current run started */
	struct mitig_counts mitig;
	unsigned nr_nets;  /* its virtio-net devices: shell_host.vm_net describes each */
	unsigned nr_disks; /* its virtio-blk devices: shell_host.vm_disk describes each */
	/* host PCI functions passed to it (keel.cfg pci =), the interrupts of theirs keel took
	 * through remapping entries and sent on, and the DMA faults the IOMMU logged for them */
	unsigned nr_pcis;
	uint64_t pci_interrupts, pci_on_target, pci_faults;
};

/* One virtio-blk device of a VM, counted since the VM's current run started. */
struct shell_disk_view {
	uint64_t sectors; /* capacity, 512-byte sectors */
	bool read_only;
	uint64_t reads, writes, flushes, errors; /* requests (errors: completed with another status
						  * than OK) */
	uint64_t read_bytes, written_bytes;	 /* of the reads and writes that succeeded */
};

/* One of keel's host NICs as `nics` shows it: frames and bytes each way since boot. */
struct shell_nic_view {
	const char *where, *model, *state;
	const char *sw; /* the switch it is the uplink of, or NULL */
	uint8_t mac[6];
	bool link_up;
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes;
	uint64_t rx_dropped; /* frame errors and bad lengths, and frames the switch did not take */
	uint64_t tx_dropped; /* refused by the NIC (ring full, link down) or lost in a reset */
	unsigned resets;
};

/* One of keel's NVMe controllers as `disks` shows it. */
struct shell_nvme_view {
	const char *where, *model, *serial, *state;
	uint64_t done, failed; /* commands since boot */
	unsigned timeouts, resets;
	/* its lock (one queue pair for every CPU): taken, and found taken by another CPU */
	uint64_t lock_takes, lock_waits;
	bool msix; /* its completions interrupt (else it is only polled) */
	/* device interrupts keel took since boot, every controller's (they share a vector) */
	uint64_t interrupts;
};

/* One virtio-net device of a VM, counted since the VM's current run started (frame bytes
 * only, without the virtio header). Every frame the switch queued for it is in rx_frames, one of
 * the rx drops, or still queued. */
struct shell_net_view {
	const char *sw; /* the switch's name */
	uint8_t mac[6];
	bool attached;		      /* its port is on the switch now (while the VM runs) */
	uint64_t tx_frames, tx_bytes; /* given to the switch */
	/* transmit chains dropped: a device-writable buffer, a bad virtio header (offloads not
	 * offered), a frame the switch may not carry, no switch to send to, a source MAC not the
	 * device's own */
	uint64_t tx_bad_chain, tx_bad_header, tx_bad_length, tx_no_link, tx_spoofed;
	uint64_t rx_frames, rx_bytes; /* put into the guest's receive buffers */
	/* frames dropped: the port's ring was full, the guest's buffer too small for the frame,
	 * the receive queue broke under it, queued when the port left the switch */
	uint64_t rx_ring_full, rx_too_small, rx_lost, rx_flushed;
	uint64_t rx_bad_chain; /* receive chains with a device-readable buffer, returned empty */
	uint64_t rx_queued;    /* frames waiting in the port's ring for receive buffers */
};

/* A VM's virtio console (keel.cfg `console = virtio`), counted since its current run started.
 * Every byte typed for it is in rx_bytes, rx_dropped or rx_waiting. */
struct shell_console_view {
	uint64_t tx_bytes, emerg_bytes; /* output: transmit chains, emerg_wr */
	uint64_t tx_bad_chain;		/* transmit chains with a device-writable buffer, unread */
	uint64_t tx_cut;		/* bytes of overlong transmit chains not output */
	uint64_t rx_bytes;		/* typed bytes put into the guest's receive buffers */
	uint64_t rx_dropped;		/* typed while its input buffer was full */
	uint64_t rx_bad_chain; /* receive chains with a device-readable buffer, returned empty */
	unsigned rx_waiting;   /* typed bytes waiting for receive buffers */
};

/* A VM's virtio-balloon as `stats` shows it. Statistics in stat[] are the guest's last report
 * (virtio 1.2, 5.5.6.3: tags 0-9, bit t of stat_valid set when it reported tag t). */
struct shell_balloon_view {
	bool present;
	uint64_t target_bytes; /* what keel asked the guest to give */
	uint64_t actual_bytes; /* what the guest's driver says it gave */
	uint64_t held_bytes;   /* what keel holds of the VM's RAM now (pages out of stage 2) */
	uint64_t refaults;     /* pages it touched while in the balloon (given back zeroed) */
	uint64_t refused;      /* frame numbers refused: not RAM, repeated, or keel could not */
	uint32_t stat_valid;
	uint64_t stat[10];
	uint64_t reports; /* statistics reports received */
};

/* Host memory as `mem` shows it. */
struct shell_mem {
	uint64_t free_bytes;
	uint64_t largest_free; /* the largest free block: how fragmented the free part is */
	uint64_t used_bytes;   /* by VMs and keel */
	uint64_t keel_bytes;   /* keel's own structures */
};

/* What the shell may do to the machine. Every op is called only from shell_input or
 * shell_run_line, on the caller's CPU. */
struct shell_host {
	void *ctx;
	unsigned (*nr_vms)(void *ctx);
	void (*vm_view)(void *ctx, unsigned i, struct shell_vm_view *out);
	/* VM i's exits of vCPU vcpu (< its nr_vcpus) since its current run started, by reason
	 * (index: enum exit_reason; the shell zeroes counts first) */
	void (*vm_exits)(void *ctx, unsigned i, unsigned vcpu, uint64_t counts[NR_EXIT_REASONS]);
	/* VM i's virtio-net device net (< its nr_nets); the shell zeroes out first. Optional. */
	void (*vm_net)(void *ctx, unsigned i, unsigned net, struct shell_net_view *out);
	/* VM i's virtio console into out (zeroed first); false when it has none. Optional. */
	bool (*vm_console)(void *ctx, unsigned i, struct shell_console_view *out);
	/* 0 once the request is taken, or -1 with why in err (the shell terminates it) */
	int (*vm_stop)(void *ctx, unsigned i, char *err, size_t err_size);
	int (*vm_restart)(void *ctx, unsigned i, char *err, size_t err_size);
	void (*mem)(void *ctx, struct shell_mem *out);
	/* VM i's balloon (the shell zeroes out first), and a new target: the guest should keep
	 * bytes of its memory (0, or -1 with why in err). Optional. */
	void (*vm_balloon)(void *ctx, unsigned i, struct shell_balloon_view *out);
	int (*vm_set_balloon)(void *ctx, unsigned i, uint64_t bytes, char *err, size_t err_size);
	/* VM i's virtio-blk device disk (< its nr_disks); the shell zeroes out first. Optional. */
	void (*vm_disk)(void *ctx, unsigned i, unsigned disk, struct shell_disk_view *out);
	/* keel's NVMe controllers and the disks on them (core/host_disks.h); optional */
	unsigned (*nr_nvme)(void *ctx);
	void (*nvme)(void *ctx, unsigned i, struct shell_nvme_view *out);
	const struct host_disks *(*disks)(void *ctx);
	/* keel's host NICs (drivers/nic_hw.h); optional */
	unsigned (*nr_nics)(void *ctx);
	void (*nic)(void *ctx, unsigned i, struct shell_nic_view *out);
	/* the host's PCI functions (drivers/pci_host.h); optional */
	const struct pci_host *(*pci)(void *ctx);
	/* the IOMMU translating DMA ("VT-d", "AMD-Vi"), NULL without one. Optional. */
	const char *(*iommu)(void *ctx);
	void (*write)(void *ctx, const char *s, size_t n); /* raw console output */
};

#define SHELL_LINE_SIZE 128 /* a command line holds SHELL_LINE_SIZE - 1 characters */

struct shell {
	const struct shell_host *host;
	char line[SHELL_LINE_SIZE];
	unsigned len;	/* characters in line (and on the terminal after the prompt) */
	unsigned typed; /* characters typed into this line, counting those past its end */
	uint8_t esc;	/* where we are in an escape sequence being swallowed (shell.c) */
	bool after_cr;	/* the last byte was CR: an LF now is its other half */
};

void shell_init(struct shell *sh, const struct shell_host *host);
/* Writes "keel> ". */
void shell_prompt(struct shell *sh);
/* One typed byte: printable ASCII is echoed and added to the line; backspace (0x08 or 0x7f)
 * erases one character, Ctrl-U the whole line, Ctrl-C abandons it; CR or LF runs it (CR LF
 * counts once) and writes a new prompt. Escape sequences (arrow keys ...) and every other byte
 * are ignored. Characters past the line's room are dropped with a bell, and the line is then
 * refused with a message when run (unless erased back within its room): a cut command might be
 * a different one. */
void shell_input(struct shell *sh, uint8_t c);
/* Runs one command line and writes its output; 0 on success, -1 for an error (which is written
 * too). A line longer than SHELL_LINE_SIZE - 1 characters is refused. */
int shell_run_line(struct shell *sh, const char *line);

#endif
