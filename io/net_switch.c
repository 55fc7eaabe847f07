/* keel's Ethernet switches (io/net_switch.h). */
#include "io/net_switch.h"
#include "lib/kstring.h"

void net_registry_init(struct net_registry *reg)
{
	memset(reg, 0, sizeof(*reg));
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

bool net_switch_name_valid(const char *name)
{
	size_t n = kstrnlen(name, NET_SWITCH_NAME_MAX);
	if (n == 0 || n >= NET_SWITCH_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(name[i]))
			return false;
	return true;
}

static struct net_switch *find_locked(struct net_registry *reg, const char *name)
{
	for (unsigned i = 0; i < reg->nr; i++)
		if (!strcmp(reg->sw[i].name, name))
			return &reg->sw[i];
	return NULL;
}

struct net_switch *net_switch_find(struct net_registry *reg, const char *name)
{
	spin_lock(&reg->lock);
	struct net_switch *sw = net_switch_name_valid(name) ? find_locked(reg, name) : NULL;
	spin_unlock(&reg->lock);
	return sw;
}

struct net_switch *net_switch_find_or_create(struct net_registry *reg, const char *name)
{
	if (!net_switch_name_valid(name))
		return NULL;
	spin_lock(&reg->lock);
	struct net_switch *sw = find_locked(reg, name);
	if (!sw && reg->nr < NET_MAX_SWITCHES) {
		sw = &reg->sw[reg->nr];
		memset(sw, 0, sizeof(*sw));
		kstrlcpy(sw->name, name, sizeof(sw->name));
		net_fdb_init(&sw->fdb);
		/* published last: net_registry_count readers see only whole switches */
		__atomic_store_n(&reg->nr, reg->nr + 1, __ATOMIC_RELEASE);
	}
	spin_unlock(&reg->lock);
	return sw;
}

unsigned net_registry_count(struct net_registry *reg)
{
	return __atomic_load_n(&reg->nr, __ATOMIC_ACQUIRE);
}

struct net_switch *net_registry_at(struct net_registry *reg, unsigned i)
{
	return i < net_registry_count(reg) ? &reg->sw[i] : NULL;
}

int net_switch_attach(struct net_switch *sw, struct net_port *p)
{
	int rc = -1;
	if (p->sw)
		return -1;
	spin_lock(&sw->lock);
	for (unsigned slot = 0; slot < NET_SWITCH_MAX_PORTS; slot++) {
		if (!sw->ports[slot]) {
			sw->ports[slot] = p;
			sw->nr_ports++;
			p->slot = (uint8_t)slot;
			p->sw = sw;
			rc = 0;
			break;
		}
	}
	spin_unlock(&sw->lock);
	return rc;
}

void net_switch_detach(struct net_port *p)
{
	struct net_switch *sw = p->sw;
	if (!sw)
		return;
	spin_lock(&sw->lock);
	sw->ports[p->slot] = NULL;
	sw->nr_ports--;
	net_fdb_forget_port(&sw->fdb, p->slot);
	net_port_flush(p);
	p->sw = NULL;
	spin_unlock(&sw->lock);
	/* A sender that queued a frame here before we took the lock may still be about to call
	 * notify: the port and its notify_ctx must live until it has. */
	while (__atomic_load_n(&p->notify_refs, __ATOMIC_ACQUIRE))
		__builtin_ia32_pause();
}

/* Frames a send queued, and the ports to notify once every lock is released. */
struct delivery {
	int queued;
	unsigned nr_notify;
	struct net_port *notify[NET_SWITCH_MAX_PORTS];
};

static void deliver(struct delivery *d, struct net_port *to, const uint8_t *frame, size_t len,
		    const struct net_offload *off)
{
	if (!net_port_enqueue(to, frame, len, off))
		return;
	d->queued++;
	if (to->notify) {
		__atomic_add_fetch(&to->notify_refs, 1, __ATOMIC_ACQUIRE);
		d->notify[d->nr_notify++] = to;
	}
}

/* With the switch's lock held: learn, then queue (IEEE 802.1D-2004, 7.7.1 forwarding, 7.8
 * learning). */
static enum net_tx_result forward(struct net_switch *sw, struct net_port *from,
				  const uint8_t *frame, size_t len, const struct net_offload *off,
				  struct delivery *d)
{
	net_fdb_learn(&sw->fdb, frame + NET_ETH_SRC_OFFSET, from->slot);
	uint8_t to = net_mac_is_group(frame) ? NET_FDB_NO_PORT : net_fdb_lookup(&sw->fdb, frame);
	if (to == from->slot)
		return NET_TX_FILTERED;
	if (to != NET_FDB_NO_PORT && sw->ports[to]) {
		sw->unicast++;
		deliver(d, sw->ports[to], frame, len, off);
		return NET_TX_FORWARDED;
	}
	sw->flooded++;
	for (unsigned slot = 0; slot < NET_SWITCH_MAX_PORTS; slot++)
		if (sw->ports[slot] && slot != from->slot)
			deliver(d, sw->ports[slot], frame, len, off);
	return NET_TX_FORWARDED;
}

int net_switch_send(struct net_port *from, const uint8_t *frame, size_t len)
{
	return net_switch_send_offload(from, frame, len, NULL);
}

int net_switch_send_offload(struct net_port *from, const uint8_t *frame, size_t len,
			    const struct net_offload *off)
{
	/* only the port's owner attaches and detaches it, and it is the one sending */
	struct net_switch *sw = from->sw;
	if (!sw)
		return NET_SEND_DETACHED;
	if (off ? !net_offload_valid(off, frame, len) : !net_frame_valid(frame, len)) {
		net_port_count_tx(from, NET_TX_MALFORMED, len);
		return NET_SEND_MALFORMED;
	}
	struct delivery d = { 0 };
	spin_lock(&sw->lock);
	enum net_tx_result r = forward(sw, from, frame, len, off, &d);
	net_port_count_tx(from, r, len);
	spin_unlock(&sw->lock);
	for (unsigned i = 0; i < d.nr_notify; i++) {
		struct net_port *p = d.notify[i];
		p->notify(p->notify_ctx);
		__atomic_sub_fetch(&p->notify_refs, 1, __ATOMIC_RELEASE);
	}
	return d.queued;
}

void net_switch_get_stats(struct net_switch *sw, struct net_switch_stats *out)
{
	spin_lock(&sw->lock);
	*out = (struct net_switch_stats){
		.ports = sw->nr_ports,
		.macs = sw->fdb.used,
		.unicast = sw->unicast,
		.flooded = sw->flooded,
		.learned = sw->fdb.learned,
		.moved = sw->fdb.moved,
		.replaced = sw->fdb.replaced,
	};
	spin_unlock(&sw->lock);
}
