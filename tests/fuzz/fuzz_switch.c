/* keel's Ethernet switches (io/net_switch.h) against a reference model: random sends from random
 * ports of two switches, receives with random buffer sizes, attaches and detaches. The model
 * keeps its own learning table and, per port, the exact frames it expects queued, so every frame
 * taken must be the one the model predicts, byte for byte. That holds only if every frame sent is
 * delivered, dropped and counted, or still queued; no frame crosses to the other switch or comes
 * back to its sender (checked on each frame too); and each ring stays within
 * NET_PORT_RING_BYTES (4 KiB in fuzz builds, so inputs fill it). Counters and notify calls are
 * compared with the model's after every step.
 *
 * Input: a sequence of steps, each a byte c and its arguments (missing bytes read as 0):
 *   c % 4 = 0 or 1: port (c >> 2) % 8 sends: dst host, src host (each % 12: hosts 0-9,
 *           10 broadcast, 11 a multicast group), a 16-bit length % 1600 (short, full-size,
 *           802.1Q and oversize frames), then a byte: bit 0 an 802.1Q tag, bit 1 NEEDS_CSUM,
 *           bits 2-4 csum_start and bits 5-7 csum_offset from short lists (inside the frame,
 *           at its end, one past it, 0xffff): the offload fields travel with the frame when
 *           they fit it, else it is malformed;
 *   c % 4 = 2: port (c >> 2) % 8 takes a frame into a buffer of NET_FRAME_MAX bytes when the
 *           argument is 0, else 8 times the argument;
 *   c % 4 = 3: port (c >> 2) % 8 detaches, or attaches to switch (argument & 1) when detached. */
#include "io/net_switch.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PORTS 8
#define HOSTS 12 /* 10 unicast, broadcast, a multicast group */
#define MAX_FRAMES 8192
#define MODEL_RING 512 /* > NET_PORT_RING_BYTES / (NET_PORT_REC_HDR + NET_ETH_HDR_LEN) */

struct sent {
	uint32_t n;	  /* the frame's number, which its payload bytes derive from */
	uint8_t dst, src; /* host numbers */
	bool vlan;
	uint16_t len;
	struct net_offload off;
	uint8_t sw, from; /* where it came from */
};

struct model_port {
	int sw;				       /* -1 detached, else 0 or 1 */
	uint32_t fifo[MODEL_RING], head, tail; /* indexes into frames[] */
	uint32_t bytes;
	struct net_port_stats want;
	uint64_t notifies;
};

static struct net_registry reg;
static struct net_switch *sws[2];
static struct net_port ports[PORTS];
static struct model_port model[PORTS];
static uint64_t notified[PORTS];
static int learned[2][HOSTS]; /* the model's table: a host's port, or -1 */
static struct sent frames[MAX_FRAMES];
static uint32_t nr_frames;

static void on_notify(void *ctx)
{
	notified[(uintptr_t)ctx]++;
}

static void host_mac(uint8_t h, uint8_t out[NET_MAC_LEN])
{
	static const uint8_t group[NET_MAC_LEN] = { 0x33, 0x33, 0, 0, 0, 1 }; /* IPv6 all-nodes */
	if (h == 10)
		memset(out, 0xff, NET_MAC_LEN);
	else if (h == 11)
		memcpy(out, group, NET_MAC_LEN);
	else
		memcpy(out, (const uint8_t[NET_MAC_LEN]){ 0x02, 0, 0, 0, 0, h }, NET_MAC_LEN);
}

static size_t build(const struct sent *f, uint8_t *buf)
{
	for (size_t i = 0; i < f->len; i++)
		buf[i] = (uint8_t)(f->n * 131 + i * 7 + (f->n >> 8));
	if (f->len >= NET_ETH_HDR_LEN) {
		host_mac(f->dst, buf);
		host_mac(f->src, buf + NET_ETH_SRC_OFFSET);
		buf[NET_ETH_TYPE_OFFSET] = f->vlan ? 0x81 : 0x08;
		buf[NET_ETH_TYPE_OFFSET + 1] = 0;
	}
	return f->len;
}

static void model_queue(unsigned p, uint32_t idx)
{
	struct model_port *m = &model[p];
	uint32_t need = NET_PORT_REC_HDR + frames[idx].len;
	if (need > NET_PORT_RING_BYTES - m->bytes) {
		m->want.rx_dropped_full++;
		return;
	}
	if (m->head - m->tail >= MODEL_RING)
		abort();
	m->fifo[m->head++ % MODEL_RING] = idx;
	m->bytes += need;
	m->want.rx_queued++;
	m->want.rx_queued_bytes = m->bytes;
	m->notifies++;
}

/* What the switch must do with frame idx from port p (IEEE 802.1D-2004, 7.7-7.8), in the model. */
static int model_send(unsigned p, uint32_t idx)
{
	const struct sent *f = &frames[idx];
	struct model_port *m = &model[p];
	if (m->sw < 0)
		return NET_SEND_DETACHED;
	size_t max = f->vlan ? NET_FRAME_MAX : NET_FRAME_MAX_UNTAGGED;
	bool off_ok = !(f->off.flags & NET_OFF_NEEDS_CSUM) ||
		      (uint32_t)f->off.csum_start + f->off.csum_offset + 2 <= f->len;
	if (f->len < NET_ETH_HDR_LEN || f->len > max || !off_ok) {
		m->want.tx_malformed++;
		return NET_SEND_MALFORMED;
	}
	int *table = learned[m->sw];
	if (f->src < 10)
		table[f->src] = (int)p;
	int to = f->dst < 10 ? table[f->dst] : -1;
	if (to == (int)p) {
		m->want.tx_filtered++;
		return 0;
	}
	m->want.tx_frames++;
	m->want.tx_bytes += f->len;
	unsigned queued_for = 0;
	for (unsigned q = 0; q < PORTS; q++) {
		if (model[q].sw != m->sw || q == p || (to >= 0 && (int)q != to))
			continue;
		uint32_t queued = model[q].want.rx_queued;
		model_queue(q, idx);
		queued_for += model[q].want.rx_queued - queued;
	}
	return (int)queued_for;
}

static void check_port(unsigned p)
{
	struct net_port_stats got;
	net_port_get_stats(&ports[p], &got);
	if (memcmp(&got, &model[p].want, sizeof(got)) != 0 || notified[p] != model[p].notifies)
		abort();
	if (got.rx_queued_bytes > NET_PORT_RING_BYTES)
		abort();
	if ((model[p].sw < 0) != (ports[p].sw == NULL) ||
	    (model[p].sw >= 0 && ports[p].sw != sws[model[p].sw]))
		abort();
}

static void do_send(unsigned p, const uint8_t *arg)
{
	if (nr_frames >= MAX_FRAMES)
		return;
	uint32_t idx = nr_frames++;
	struct sent *f = &frames[idx];
	static uint8_t buf[1600];
	*f = (struct sent){ .n = idx,
			    .dst = arg[0] % HOSTS,
			    .src = arg[1] % HOSTS,
			    .len = (uint16_t)((arg[2] | arg[3] << 8) % 1600),
			    .vlan = arg[4] & 1,
			    .sw = (uint8_t)model[p].sw,
			    .from = (uint8_t)p };
	const uint16_t len = f->len;
	const uint16_t starts[8] = { 0,	  14,	 34, 54, (uint16_t)(len - 2), (uint16_t)(len - 1),
				     len, 0xffff };
	const uint16_t offsets[8] = { 0, 6, 16, 1, 2, (uint16_t)(len - 2), 0x7fff, 0xffff };
	f->off = (struct net_offload){ .flags = arg[4] & 2 ? NET_OFF_NEEDS_CSUM : 0,
				       .csum_start = starts[arg[4] >> 2 & 7],
				       .csum_offset = offsets[arg[4] >> 5] };
	int want = model_send(p, idx);
	if (net_switch_send_offload(&ports[p], buf, build(f, buf), &f->off) != want)
		abort();
}

static void do_recv(unsigned p, uint8_t arg)
{
	static uint8_t got[NET_FRAME_MAX + 8], want[1600];
	size_t cap = arg ? arg * 8u : NET_FRAME_MAX;
	struct model_port *m = &model[p];
	size_t want_len = 0;
	struct net_offload want_off = { 0 };
	while (m->tail != m->head) {
		const struct sent *f = &frames[m->fifo[m->tail++ % MODEL_RING]];
		/* the invariants the model's rules imply, checked on each frame as it leaves */
		if (f->from == p || (int)f->sw != m->sw)
			abort();
		m->bytes -= NET_PORT_REC_HDR + f->len;
		m->want.rx_queued--;
		m->want.rx_queued_bytes = m->bytes;
		if (f->len > cap) {
			m->want.rx_dropped_too_big++;
			continue;
		}
		want_len = build(f, want);
		want_off = f->off;
		m->want.rx_frames++;
		m->want.rx_bytes += want_len;
		break;
	}
	struct net_offload off;
	size_t n = net_port_recv_offload(&ports[p], got, cap, &off);
	if (n != want_len || memcmp(got, want, n) != 0 || memcmp(&off, &want_off, sizeof(off)) != 0)
		abort();
}

static void do_toggle(unsigned p, uint8_t arg)
{
	struct model_port *m = &model[p];
	if (m->sw >= 0) {
		for (unsigned h = 0; h < HOSTS; h++)
			if (learned[m->sw][h] == (int)p)
				learned[m->sw][h] = -1;
		m->want.rx_flushed += m->head - m->tail;
		m->want.rx_queued = 0;
		m->want.rx_queued_bytes = 0;
		m->tail = m->head;
		m->bytes = 0;
		m->sw = -1;
		net_switch_detach(&ports[p]);
		return;
	}
	m->sw = arg & 1;
	if (net_switch_attach(sws[m->sw], &ports[p]))
		abort();
}

static void reset(void)
{
	net_registry_init(&reg);
	sws[0] = net_switch_find_or_create(&reg, "a");
	sws[1] = net_switch_find_or_create(&reg, "b");
	if (!sws[0] || !sws[1])
		abort();
	memset(model, 0, sizeof(model));
	memset(notified, 0, sizeof(notified));
	memset(learned, 0xff, sizeof(learned)); /* every entry -1 */
	nr_frames = 0;
	for (unsigned p = 0; p < PORTS; p++) {
		net_port_init(&ports[p], on_notify, (void *)(uintptr_t)p);
		/* ports 0-3 start on switch a, 4-5 on b, 6-7 detached */
		model[p].sw = p < 4 ? 0 : p < 6 ? 1 : -1;
		if (model[p].sw >= 0 && net_switch_attach(sws[model[p].sw], &ports[p]))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	reset();
	size_t i = 0;
	while (i < size) {
		uint8_t c = data[i++], arg[5] = { 0 };
		unsigned p = (c >> 2) % PORTS, nargs = c % 4 < 2 ? 5 : 1;
		for (unsigned k = 0; k < nargs && i < size; k++)
			arg[k] = data[i++];
		switch (c % 4) {
		case 0:
		case 1:
			do_send(p, arg);
			break;
		case 2:
			do_recv(p, arg[0]);
			break;
		default:
			do_toggle(p, arg[0]);
			break;
		}
		for (unsigned q = 0; q < PORTS; q++)
			check_port(q);
	}
	/* drain: every queued frame comes out as the model says, then nothing is left anywhere */
	for (unsigned p = 0; p < PORTS; p++) {
		while (model[p].tail != model[p].head)
			do_recv(p, 0);
		do_recv(p, 0);
		check_port(p);
		net_switch_detach(&ports[p]);
	}
	return 0;
}
