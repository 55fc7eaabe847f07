/* A switch's MAC learning table: the filtering database of a learning bridge (IEEE 802.1D-2004,
 * 7.8 and 7.9). The source address of every frame a port sends is learned for that port; a
 * destination found here goes to its port only. Bounded: when full, the entry seen least recently
 * makes room, which stands in for 802.1D's ageing (7.9.2) without a clock.
 *
 * A linear scan: NET_FDB_SIZE entries of 16 bytes are 4 KiB, a few cache lines per look-up at the
 * sizes keel's switches have (a handful of VMs each); a hash would pay off only far beyond that.
 * No locks: the switch calls it under its own lock. */
#ifndef KEEL_IO_NET_FDB_H
#define KEEL_IO_NET_FDB_H

#include "io/net_eth.h"

#define NET_FDB_SIZE 256
#define NET_FDB_NO_PORT 0xffu

struct net_fdb_entry {
	uint8_t mac[NET_MAC_LEN];
	uint8_t port; /* the port's slot in its switch; NET_FDB_NO_PORT when the entry is free */
	uint8_t pad;
	uint64_t last_seen; /* the table's clock when this MAC last sent */
};

struct net_fdb {
	uint64_t clock; /* one tick per learn: the order entries were last seen in */
	unsigned used;
	uint64_t learned, moved, replaced; /* new entries, MACs seen on another port, evictions */
	struct net_fdb_entry entry[NET_FDB_SIZE];
};

void net_fdb_init(struct net_fdb *fdb);
/* Records that `mac` sent from `port`: a new entry (replacing the least recently seen one when
 * the table is full), or the existing one refreshed, and moved when the MAC now sends from
 * another port (a VM restarted elsewhere, a guest changing its MAC). Group addresses are never
 * learned: no frame is ever sent from one (802.1D, 7.8). */
void net_fdb_learn(struct net_fdb *fdb, const uint8_t mac[NET_MAC_LEN], uint8_t port);
/* The port `mac` was learned on, or NET_FDB_NO_PORT. */
uint8_t net_fdb_lookup(const struct net_fdb *fdb, const uint8_t mac[NET_MAC_LEN]);
/* Forgets every MAC learned on `port` (the port detached). */
void net_fdb_forget_port(struct net_fdb *fdb, uint8_t port);

#endif
