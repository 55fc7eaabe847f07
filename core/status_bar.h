/* The framebuffer's status bar (a machine's own screen; the serial console has none): one line,
 * redrawn about once a second, of what keel is running and how busy its disks and network are.
 * Made from two samples of keel's counters a moment apart; the text is plain logic, tested on the
 * host (the sampling is core/status_bar_hw.c). */
#ifndef KEEL_CORE_STATUS_BAR_H
#define KEEL_CORE_STATUS_BAR_H

#include "lib/types.h"

#define STATUS_BAR_PERIOD_NS 1000000000ull

struct status_sample {
	uint64_t now_ns;
	unsigned vms_running, vms_stopped; /* stopped: stopped or crashed for good */
	unsigned cpus;
	uint64_t mem_used, mem_free; /* bytes of host RAM */
	/* since boot: bytes the VMs' disks read and wrote, and bytes the VMs' nets and keel's
	 * NICs carried (each counter only grows; a VM's restart is handled by the sampler) */
	uint64_t disk_bytes, net_bytes;
};

/* "keel | vms 2 running, 1 stopped | cpus 2 | mem 1.2G used, 20.5G free | disk 12.3M/s |
 * net 1.1M/s" into buf (always terminated). Rates are over now - prev; without a previous sample
 * (prev NULL, or no time between them, or a counter that went back) they read "-". */
void status_bar_format(char *buf, size_t size, const struct status_sample *prev,
		       const struct status_sample *now);

#endif
