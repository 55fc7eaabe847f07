/* keel's host NICs on the real machine: the glue between the NIC driver cores (drivers/e1000e.h:
 * the Intel 82574L, QEMU's `-device e1000e`; drivers/virtio_net_host.h: virtio-net, what a cloud
 * VM or QEMU's `-device virtio-net-pci` gives), host PCI (drivers/pci_host_hw.h) and keel's Ethernet
 * switches (io/net_switch.h), which a NIC joins as the uplink of one switch ([switch NAME]
 * uplink = nicN in keel.cfg).
 *
 * At boot every supported NIC is claimed (memory decoding and bus mastering on, INTx off: keel
 * polls), given DMA pages from keel's memory and brought up; keel numbers them nic0, nic1 ... in
 * PCI order. Frames move without interrupts:
 * - to the wire: a frame queued for the uplink port is sent at once by the CPU that queued it
 *   (the port's notify), or at the next poll when another CPU holds the NIC;
 * - from the wire: nic_hw_poll, called by every CPU between guest slices and on each guest exit,
 *   hands received frames to the switch (copied out of the NIC's buffer first: a device can
 *   change its DMA buffers at any time).
 * Each NIC has a lock held for one driver call at a time, never while waiting for the device.
 * A link change is logged once per change; a NIC the core gives up on is logged once and loses its
 * bus mastering, and its switch carries on without the wire. */
#ifndef KEEL_DRIVERS_NIC_HW_H
#define KEEL_DRIVERS_NIC_HW_H

#include "drivers/e1000e.h"
#include "drivers/virtio_net_host.h"
#include "lib/types.h"

#define NIC_HW_MAX 4 /* NICs keel drives; more are logged and left alone */

struct net_switch;

/* Finds, claims and brings up every supported NIC; one log line each. After pci_host_init, on
 * the boot CPU. */
void nic_hw_init(void);
unsigned nic_hw_count(void);
/* The NIC whose MAC is mac, or -1. */
int nic_hw_find_mac(const uint8_t mac[6]);
/* Makes NIC i the uplink of sw (each NIC uplinks one switch, for as long as keel runs): 0, or -1
 * with why in err. */
int nic_hw_attach(unsigned i, struct net_switch *sw, char *err, size_t err_size);
/* Moves frames: received ones to the switch, queued ones to the wire; follows link and faults.
 * Any CPU, any time: cheap when it is not its turn (at most one poll per NIC_POLL_NS in all);
 * a NIC another CPU is polling is skipped. */
void nic_hw_poll(void);

/* A NIC's counters, whichever core drives it: frames and bytes handed up or reclaimed after
 * transmission, drops the core counted, resets after bring-up. */
struct nic_hw_stats {
	uint64_t rx_frames, rx_bytes, tx_frames, tx_bytes, rx_dropped, tx_dropped;
	unsigned resets;
};

/* One NIC as the shell's `nics` shows it. */
struct nic_hw_view {
	const char *where, *model, *state, *sw; /* sw: its switch, or NULL */
	uint8_t mac[6];
	bool link_up;
	struct nic_hw_stats st;
	uint64_t to_switch, to_switch_dropped; /* received frames given to the switch, or refused */
	/* frames of the switch keel could not hand to the core: offloads it could not finish, or
	 * longer than the NIC sends (the core counts what it refuses in st.tx_dropped) */
	uint64_t from_switch_dropped;
};
void nic_hw_view(unsigned i, struct nic_hw_view *out);

#endif
