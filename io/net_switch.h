/* keel's Ethernet switches: `net = SWITCH` in keel.cfg makes a VM's virtio-net device a port of
 * the switch named SWITCH, created on first mention. Each is a learning L2 bridge (IEEE
 * 802.1D-2004, 7.7-7.9): a frame's source MAC is learned for the port that sent it; a unicast
 * frame to a learned MAC goes to that port only; broadcast, multicast and unknown unicast go to
 * every other port of the same switch. A frame never goes back to its sender, never to another
 * switch, and a sender never waits: a receiver whose ring is full loses that frame, counted.
 *
 * Locks (lib/spinlock.h; keel runs VMs on several CPUs at once), taken in this order: the
 * registry's, a switch's (its ports and learning table), a port's (its ring and counters). A
 * port's `notify` runs after every lock is released. A VM's lock may be held around any of these
 * calls; none of them takes one. */
#ifndef KEEL_IO_NET_SWITCH_H
#define KEEL_IO_NET_SWITCH_H

#include "io/net_fdb.h"
#include "io/net_port.h"

#define NET_SWITCH_MAX_PORTS 16
#define NET_SWITCH_NAME_MAX 32 /* 1-31 letters, digits, '-' or '_' (keel.cfg names) and a NUL */
#define NET_MAX_SWITCHES 8

_Static_assert(NET_SWITCH_MAX_PORTS < NET_FDB_NO_PORT, "a slot fits the table's port field");

struct net_switch {
	struct spinlock lock; /* ports, nr_ports, the counters and the table */
	char name[NET_SWITCH_NAME_MAX];
	struct net_port *ports[NET_SWITCH_MAX_PORTS]; /* by slot; NULL where none is attached */
	unsigned nr_ports;
	uint64_t unicast, flooded; /* frames sent to one learned port, and to every other port */
	struct net_fdb fdb;
};

/* Every switch keel has: a fixed array (about 4.3 KiB each, the table most of it), as switches
 * live as long as keel does. */
struct net_registry {
	struct spinlock lock;
	unsigned nr; /* switches in use: sw[0 .. nr) */
	struct net_switch sw[NET_MAX_SWITCHES];
};

struct net_switch_stats {
	unsigned ports, macs;
	uint64_t unicast, flooded;
	uint64_t learned, moved, replaced; /* as in struct net_fdb */
};

/* What net_switch_send returns besides the number of ports a frame was queued for. */
/* shorter than a header, longer than NET_FRAME_MAX (NET_GSO_FRAME_MAX for a frame to cut), or
 * offload fields that do not fit it: counted */
#define NET_SEND_MALFORMED (-1)
#define NET_SEND_DETACHED (-2) /* the port is on no switch; not counted */

void net_registry_init(struct net_registry *reg);
/* 1-31 letters, digits, '-' or '_', as keel.cfg's names. */
bool net_switch_name_valid(const char *name);
/* The switch named `name`, created when there is none yet; NULL when the name is not valid or
 * every one of the NET_MAX_SWITCHES is taken. */
struct net_switch *net_switch_find_or_create(struct net_registry *reg, const char *name);
/* The switch named `name`, or NULL. */
struct net_switch *net_switch_find(struct net_registry *reg, const char *name);
/* Switches so far (for the shell's listing): net_registry_at(reg, 0 .. count - 1). A switch once
 * created stays, so the pointers stay valid. */
unsigned net_registry_count(struct net_registry *reg);
struct net_switch *net_registry_at(struct net_registry *reg, unsigned i);

/* Attaches an initialised, detached port (net_port_init) to the switch's first free slot: 0, or
 * -1 when the switch has NET_SWITCH_MAX_PORTS ports already or the port is attached. */
int net_switch_attach(struct net_switch *sw, struct net_port *p);
/* Detaches the port (nothing when it is detached): its learned MACs are forgotten and its queued
 * frames dropped (counted as rx_flushed). Returns once no sender still holds the port to notify
 * it, so the caller may then free the port and whatever notify_ctx points to. */
void net_switch_detach(struct net_port *p);
/* Sends a frame from port `from`: checked (net_frame_valid), its source MAC learned, then queued
 * for the ports its destination names. `frame` must be in keel's memory, copied out of the guest
 * first, so a guest cannot change it between check and copy. Returns the number of ports it was
 * queued for (0 when it was filtered, or every port it was meant for had a full ring), or
 * NET_SEND_MALFORMED or NET_SEND_DETACHED. Never waits for a receiver. */
int net_switch_send(struct net_port *from, const uint8_t *frame, size_t len);
/* The same for a frame with offload fields (off may be NULL: none), which must fit the frame
 * (net_offload_valid, else NET_SEND_MALFORMED) and travel with it to every receiver: a frame
 * with a gso_type may be up to NET_GSO_FRAME_MAX bytes long. */
int net_switch_send_offload(struct net_port *from, const uint8_t *frame, size_t len,
			    const struct net_offload *off);
void net_switch_get_stats(struct net_switch *sw, struct net_switch_stats *out);

#endif
