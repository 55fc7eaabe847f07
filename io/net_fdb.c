/* The switch's MAC learning table (io/net_fdb.h). */
#include "io/net_fdb.h"
#include "lib/kstring.h"

void net_fdb_init(struct net_fdb *fdb)
{
	memset(fdb, 0, sizeof(*fdb));
	for (unsigned i = 0; i < NET_FDB_SIZE; i++)
		fdb->entry[i].port = NET_FDB_NO_PORT;
}

static bool entry_is(const struct net_fdb_entry *e, const uint8_t mac[NET_MAC_LEN])
{
	return e->port != NET_FDB_NO_PORT && memcmp(e->mac, mac, NET_MAC_LEN) == 0;
}

static bool entry_free(const struct net_fdb_entry *e)
{
	return e->port == NET_FDB_NO_PORT;
}

void net_fdb_learn(struct net_fdb *fdb, const uint8_t mac[NET_MAC_LEN], uint8_t port)
{
	if (net_mac_is_group(mac) || port == NET_FDB_NO_PORT)
		return;
	fdb->clock++;
	/* where a new entry goes: a free one, else the one seen least recently */
	struct net_fdb_entry *victim = &fdb->entry[0];
	for (unsigned i = 0; i < NET_FDB_SIZE; i++) {
		struct net_fdb_entry *e = &fdb->entry[i];
		if (entry_is(e, mac)) {
			if (e->port != port)
				fdb->moved++;
			e->port = port;
			e->last_seen = fdb->clock;
			return;
		}
		if (!entry_free(victim) && (entry_free(e) || e->last_seen < victim->last_seen))
			victim = e;
	}
	if (entry_free(victim))
		fdb->used++;
	else
		fdb->replaced++;
	fdb->learned++;
	memcpy(victim->mac, mac, NET_MAC_LEN);
	victim->port = port;
	victim->last_seen = fdb->clock;
}

uint8_t net_fdb_lookup(const struct net_fdb *fdb, const uint8_t mac[NET_MAC_LEN])
{
	for (unsigned i = 0; i < NET_FDB_SIZE; i++)
		if (entry_is(&fdb->entry[i], mac))
			return fdb->entry[i].port;
	return NET_FDB_NO_PORT;
}

void net_fdb_forget_port(struct net_fdb *fdb, uint8_t port)
{
	for (unsigned i = 0; i < NET_FDB_SIZE; i++) {
		if (fdb->entry[i].port == port && port != NET_FDB_NO_PORT) {
			fdb->entry[i].port = NET_FDB_NO_PORT;
			fdb->used--;
		}
	}
}
