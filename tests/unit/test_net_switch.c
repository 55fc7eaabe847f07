/* keel's Ethernet switch (io/net_switch.h): learning, flooding, filtering, isolation between
 * switches, bounded receive rings that drop and count, detaching, and the derived MACs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/net_switch.h"

#define MAX_TEST_PORTS 20

static const uint8_t broadcast[NET_MAC_LEN] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
/* an IPv4 multicast group's MAC (RFC 1112, 6.4) */
static const uint8_t mcast[NET_MAC_LEN] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0xfb };

struct world {
	struct net_registry reg;
	struct net_port *port[MAX_TEST_PORTS];
	unsigned notified[MAX_TEST_PORTS];
};

/* The locally administered unicast MAC of test host n. */
static void mac_of(unsigned n, uint8_t out[NET_MAC_LEN])
{
	const uint8_t mac[NET_MAC_LEN] = { 0x02, 0, 0, 0, (uint8_t)(n >> 8), (uint8_t)n };
	memcpy(out, mac, NET_MAC_LEN);
}

/* A frame of len bytes to dst from src, its payload bytes all `fill`. */
static size_t frame(uint8_t *buf, const uint8_t dst[NET_MAC_LEN], const uint8_t src[NET_MAC_LEN],
		    size_t len, uint8_t fill)
{
	memset(buf, fill, len);
	memcpy(buf, dst, NET_MAC_LEN);
	memcpy(buf + NET_ETH_SRC_OFFSET, src, NET_MAC_LEN);
	buf[NET_ETH_TYPE_OFFSET] = 0x08; /* IPv4 */
	buf[NET_ETH_TYPE_OFFSET + 1] = 0x00;
	return len;
}

static void count_notify(void *ctx)
{
	unsigned *n = ctx;
	(*n)++;
}

static struct world *new_world(void)
{
	struct world *w = calloc(1, sizeof(*w));
	assert_non_null(w);
	net_registry_init(&w->reg);
	return w;
}

/* Port i of the world, attached to the switch `name`. */
static struct net_port *plug(struct world *w, unsigned i, const char *name)
{
	struct net_switch *sw = net_switch_find_or_create(&w->reg, name);
	assert_non_null(sw);
	if (!w->port[i]) {
		w->port[i] = malloc(sizeof(struct net_port));
		assert_non_null(w->port[i]);
	}
	net_port_init(w->port[i], count_notify, &w->notified[i]);
	assert_int_equal(net_switch_attach(sw, w->port[i]), 0);
	return w->port[i];
}

static void free_world(struct world *w)
{
	for (unsigned i = 0; i < MAX_TEST_PORTS; i++) {
		if (w->port[i])
			net_switch_detach(w->port[i]);
		free(w->port[i]);
	}
	free(w);
}

/* Host `from` (port from) sends len bytes to dst; returns what net_switch_send did. */
static int send_to(struct world *w, unsigned from, const uint8_t dst[NET_MAC_LEN], size_t len,
		   uint8_t fill)
{
	uint8_t buf[NET_FRAME_MAX], src[NET_MAC_LEN];
	mac_of(from, src);
	return net_switch_send(w->port[from], buf, frame(buf, dst, src, len, fill));
}

static int send_host(struct world *w, unsigned from, unsigned to, uint8_t fill)
{
	uint8_t dst[NET_MAC_LEN];
	mac_of(to, dst);
	return send_to(w, from, dst, 64, fill);
}

/* Port i's next frame must be from host `from` with payload `fill`. */
static void takes(struct world *w, unsigned i, unsigned from, uint8_t fill)
{
	uint8_t buf[NET_FRAME_MAX], src[NET_MAC_LEN];
	size_t n = net_port_recv(w->port[i], buf, sizeof(buf));
	assert_true(n >= NET_ETH_HDR_LEN);
	mac_of(from, src);
	assert_memory_equal(buf + NET_ETH_SRC_OFFSET, src, NET_MAC_LEN);
	assert_int_equal(buf[n - 1], fill);
}

static void takes_nothing(struct world *w, unsigned i)
{
	uint8_t buf[NET_FRAME_MAX];
	assert_int_equal(net_port_recv(w->port[i], buf, sizeof(buf)), 0);
}

static void drain(struct world *w, unsigned i)
{
	uint8_t buf[NET_FRAME_MAX];
	while (net_port_recv(w->port[i], buf, sizeof(buf)))
		;
}

static struct net_port_stats stats_of(struct world *w, unsigned i)
{
	struct net_port_stats s;
	net_port_get_stats(w->port[i], &s);
	return s;
}

static void unknown_unicast_floods_then_learned_goes_to_one(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 4; i++)
		plug(w, i, "lan");
	/* 1 is unknown: every other port gets it, the sender does not */
	assert_int_equal(send_host(w, 0, 1, 0xa1), 3);
	takes(w, 1, 0, 0xa1);
	takes(w, 2, 0, 0xa1);
	takes(w, 3, 0, 0xa1);
	takes_nothing(w, 0);
	/* 0 was learned from that frame: the reply goes to port 0 only */
	assert_int_equal(send_host(w, 1, 0, 0xb2), 1);
	takes(w, 0, 1, 0xb2);
	for (unsigned i = 1; i < 4; i++)
		takes_nothing(w, i);
	/* and now 1 is known too */
	assert_int_equal(send_host(w, 0, 1, 0xc3), 1);
	takes(w, 1, 0, 0xc3);
	takes_nothing(w, 2);
	takes_nothing(w, 3);
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.ports, 4);
	assert_int_equal(s.macs, 2);
	assert_int_equal(s.flooded, 1);
	assert_int_equal(s.unicast, 2);
	assert_int_equal(w->notified[1], 2);
	assert_int_equal(w->notified[0], 1);
	free_world(w);
}

static void broadcast_and_multicast_flood_even_when_learned(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 3; i++)
		plug(w, i, "lan");
	for (unsigned i = 0; i < 3; i++) /* everyone's MAC learned */
		send_to(w, i, broadcast, 60, (uint8_t)i);
	for (unsigned i = 0; i < 3; i++) {
		for (unsigned from = 0; from < 3; from++)
			if (from != i)
				takes(w, i, from, (uint8_t)from);
		takes_nothing(w, i);
	}
	assert_int_equal(send_to(w, 2, mcast, 100, 0x77), 2);
	takes(w, 0, 2, 0x77);
	takes(w, 1, 2, 0x77);
	takes_nothing(w, 2);
	assert_int_equal(stats_of(w, 2).tx_frames, 2);
	assert_int_equal(stats_of(w, 2).tx_bytes, 160);
	free_world(w);
}

static void group_source_is_never_learned(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 3; i++)
		plug(w, i, "lan");
	uint8_t buf[64];
	/* a frame claiming the multicast MAC as its source, from port 1 */
	assert_int_equal(net_switch_send(w->port[1], buf, frame(buf, broadcast, mcast, 64, 1)), 2);
	/* a frame to that MAC still floods: it was not learned for port 1 */
	assert_int_equal(send_to(w, 0, mcast, 64, 2), 2);
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.macs, 1); /* host 0 only */
	free_world(w);
}

static void to_a_mac_on_its_own_port_is_filtered(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	uint8_t buf[64], self[NET_MAC_LEN], other[NET_MAC_LEN];
	mac_of(0, self);
	mac_of(9, other);
	/* host 9 sits behind port 0 too (a bridge inside the guest) */
	net_switch_send(w->port[0], buf, frame(buf, broadcast, other, 64, 0));
	takes(w, 1, 9, 0);
	assert_int_equal(net_switch_send(w->port[0], buf, frame(buf, other, self, 64, 0)), 0);
	takes_nothing(w, 1);
	takes_nothing(w, 0);
	assert_int_equal(stats_of(w, 0).tx_filtered, 1);
	assert_int_equal(stats_of(w, 0).tx_frames, 1);
	free_world(w);
}

static void switches_never_see_each_others_frames(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "red");
	plug(w, 1, "red");
	plug(w, 2, "blue");
	plug(w, 3, "blue");
	assert_int_equal(send_to(w, 0, broadcast, 64, 0x10), 1);
	assert_int_equal(send_host(w, 2, 1, 0x20), 1); /* unknown unicast, floods blue only */
	assert_int_equal(send_host(w, 1, 0, 0x30), 1);
	takes(w, 1, 0, 0x10);
	takes(w, 3, 2, 0x20);
	takes(w, 0, 1, 0x30);
	for (unsigned i = 0; i < 4; i++)
		takes_nothing(w, i);
	/* the same MAC on both switches is two different hosts */
	struct net_switch_stats red, blue;
	net_switch_get_stats(net_switch_find(&w->reg, "red"), &red);
	net_switch_get_stats(net_switch_find(&w->reg, "blue"), &blue);
	assert_int_equal(red.macs, 2);
	assert_int_equal(blue.macs, 1);
	free_world(w);
}

static void a_mac_that_moves_is_learned_again(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 3; i++)
		plug(w, i, "lan");
	uint8_t buf[64], mover[NET_MAC_LEN];
	mac_of(42, mover);
	net_switch_send(w->port[0], buf, frame(buf, broadcast, mover, 64, 1));
	assert_int_equal(send_to(w, 2, mover, 64, 2), 1);
	takes(w, 0, 2, 2);
	/* the guest moved to port 1 */
	net_switch_send(w->port[1], buf, frame(buf, broadcast, mover, 64, 3));
	drain(w, 0);
	drain(w, 1);
	assert_int_equal(send_to(w, 2, mover, 64, 4), 1);
	takes(w, 1, 2, 4);
	takes_nothing(w, 0);
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.moved, 1);
	assert_int_equal(s.macs, 2);
	free_world(w);
}

static void a_full_table_replaces_the_least_recently_seen(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	uint8_t buf[64], mac[NET_MAC_LEN];
	for (unsigned n = 0; n < NET_FDB_SIZE; n++) {
		mac_of(1000 + n, mac);
		net_switch_send(w->port[0], buf, frame(buf, broadcast, mac, 64, 0));
		net_port_recv(w->port[1], buf, sizeof(buf));
	}
	mac_of(1000, mac); /* the first one sends again: now host 1001 is the oldest */
	net_switch_send(w->port[0], buf, frame(buf, broadcast, mac, 64, 0));
	net_port_recv(w->port[1], buf, sizeof(buf));
	mac_of(5000, mac); /* a new host behind port 1 */
	net_switch_send(w->port[1], buf, frame(buf, broadcast, mac, 64, 0));
	net_port_recv(w->port[0], buf, sizeof(buf));
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.macs, NET_FDB_SIZE);
	assert_int_equal(s.replaced, 1);
	const struct net_fdb *fdb = &net_switch_find(&w->reg, "lan")->fdb;
	mac_of(1000, mac);
	assert_int_equal(net_fdb_lookup(fdb, mac), 0);
	mac_of(1001, mac);
	assert_int_equal(net_fdb_lookup(fdb, mac), NET_FDB_NO_PORT);
	mac_of(1002, mac);
	assert_int_equal(net_fdb_lookup(fdb, mac), 0);
	mac_of(5000, mac);
	assert_int_equal(net_fdb_lookup(fdb, mac), 1);
	free_world(w);
}

static void a_full_ring_drops_for_that_receiver_only(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 3; i++)
		plug(w, i, "lan");
	/* each full-size frame takes NET_PORT_REC_HDR + NET_FRAME_MAX_UNTAGGED bytes of a ring */
	unsigned fit = NET_PORT_RING_BYTES / (NET_PORT_REC_HDR + NET_FRAME_MAX_UNTAGGED);
	for (unsigned n = 0; n < fit; n++) {
		assert_int_equal(send_to(w, 0, broadcast, NET_FRAME_MAX_UNTAGGED, (uint8_t)n), 2);
		takes(w, 2, 0, (uint8_t)n); /* port 2 keeps up, port 1 does not */
	}
	assert_int_equal(send_to(w, 0, broadcast, NET_FRAME_MAX_UNTAGGED, 0xee), 1);
	assert_int_equal(send_to(w, 0, broadcast, NET_FRAME_MAX_UNTAGGED, 0xef), 1);
	takes(w, 2, 0, 0xee);
	takes(w, 2, 0, 0xef);
	struct net_port_stats slow = stats_of(w, 1), sender = stats_of(w, 0);
	assert_int_equal(slow.rx_dropped_full, 2);
	assert_int_equal(slow.rx_queued, fit);
	assert_true(slow.rx_queued_bytes <= NET_PORT_RING_BYTES);
	assert_int_equal(sender.tx_frames, fit + 2);
	assert_int_equal(sender.tx_malformed + sender.tx_filtered, 0);
	assert_int_equal(stats_of(w, 2).rx_dropped_full, 0);
	/* the slow port gets what was queued, in order, and nothing of the dropped frames */
	for (unsigned n = 0; n < fit; n++)
		takes(w, 1, 0, (uint8_t)n);
	takes_nothing(w, 1);
	/* room again */
	assert_int_equal(send_to(w, 0, broadcast, 60, 0x55), 2);
	takes(w, 1, 0, 0x55);
	/* notified once per queued frame, never for a drop */
	assert_int_equal(w->notified[1], fit + 1);
	free_world(w);
}

static void short_and_oversize_frames_are_dropped_and_counted(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	static const struct {
		size_t len;
		bool tagged;
		int want;
	} cases[] = {
		{ 0, false, NET_SEND_MALFORMED },
		{ NET_ETH_HDR_LEN - 1, false, NET_SEND_MALFORMED },
		{ NET_ETH_HDR_LEN, false, 1 },
		{ NET_FRAME_MAX_UNTAGGED, false, 1 },
		{ NET_FRAME_MAX_UNTAGGED + 1, false, NET_SEND_MALFORMED },
		{ NET_FRAME_MAX, false, NET_SEND_MALFORMED },
		{ NET_FRAME_MAX, true, 1 }, /* 802.1Q: 4 bytes more */
		{ NET_FRAME_MAX + 1, true, NET_SEND_MALFORMED },
		{ 65536, true, NET_SEND_MALFORMED },
	};
	static uint8_t buf[65536];
	uint8_t src[NET_MAC_LEN];
	mac_of(0, src);
	unsigned malformed = 0, sent = 0;
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		frame(buf, broadcast, src, NET_ETH_HDR_LEN, 0);
		if (cases[i].tagged) {
			buf[NET_ETH_TYPE_OFFSET] = 0x81;
			buf[NET_ETH_TYPE_OFFSET + 1] = 0x00;
		}
		assert_int_equal(net_switch_send(w->port[0], buf, cases[i].len), cases[i].want);
		if (cases[i].want < 0) {
			malformed++;
		} else {
			sent++;
			assert_int_equal(net_port_recv(w->port[1], buf, sizeof(buf)), cases[i].len);
		}
	}
	takes_nothing(w, 1);
	assert_int_equal(stats_of(w, 0).tx_malformed, malformed);
	assert_int_equal(stats_of(w, 0).tx_frames, sent);
	assert_int_equal(stats_of(w, 1).rx_frames, sent);
	/* a malformed frame teaches the switch nothing */
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.macs, 1);
	free_world(w);
}

/* Offload fields travel with the frame to every receiver, unchanged, in order with plain frames;
 * fields that do not fit the frame make it malformed (counted, delivered nowhere, nothing
 * learned). */
static void offload_fields_travel_with_the_frame(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	plug(w, 2, "lan");
	static uint8_t buf[NET_FRAME_MAX];
	uint8_t src[NET_MAC_LEN];
	mac_of(0, src);
	struct net_offload off = { .flags = NET_OFF_NEEDS_CSUM,
				   .csum_start = 34,
				   .csum_offset = 16 };
	/* the checksum field's last byte is the frame's last: still inside */
	assert_int_equal(net_switch_send_offload(w->port[0], buf, frame(buf, broadcast, src, 52, 5),
						 &off),
			 2);
	assert_int_equal(send_to(w, 0, broadcast, 60, 6), 2);
	struct net_offload no = { .csum_start = 99 }; /* without NEEDS_CSUM: nothing */
	assert_int_equal(net_switch_send_offload(w->port[0], buf, frame(buf, broadcast, src, 64, 7),
						 &no),
			 2);
	/* one byte short, offsets at the 16-bit limit, a segmentation nobody offered */
	static const struct net_offload bad[] = {
		{ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 34, .csum_offset = 17 },
		{ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 0xffff, .csum_offset = 0xffff },
		{ .flags = NET_OFF_NEEDS_CSUM, .csum_start = 52, .csum_offset = 0 },
		{ .gso_type = 1, .gso_size = 1448 },
	};
	uint8_t other[NET_MAC_LEN];
	mac_of(9, other);
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(net_switch_send_offload(w->port[0], buf,
							 frame(buf, broadcast, other, 52, 8),
							 &bad[i]),
				 NET_SEND_MALFORMED);
	assert_int_equal(stats_of(w, 0).tx_malformed, ARRAY_SIZE(bad));
	for (unsigned p = 1; p <= 2; p++) {
		struct net_offload got;
		assert_int_equal(net_port_recv_offload(w->port[p], buf, sizeof(buf), &got), 52);
		assert_int_equal(got.flags, NET_OFF_NEEDS_CSUM);
		assert_int_equal(got.gso_type, 0);
		assert_int_equal(got.csum_start, 34);
		assert_int_equal(got.csum_offset, 16);
		assert_int_equal(buf[51], 5);
		assert_int_equal(net_port_recv_offload(w->port[p], buf, sizeof(buf), &got), 60);
		assert_int_equal(got.flags, 0);
		assert_int_equal(got.csum_start, 0);
		assert_int_equal(net_port_recv_offload(w->port[p], buf, sizeof(buf), &got), 64);
		assert_int_equal(got.flags, 0);
		assert_int_equal(got.csum_start, 99);
		assert_int_equal(net_port_recv_offload(w->port[p], buf, sizeof(buf), &got), 0);
		assert_int_equal(got.flags, 0);
	}
	/* the malformed ones taught the switch nothing */
	struct net_switch_stats s;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &s);
	assert_int_equal(s.macs, 1);
	free_world(w);
}

static void a_frame_too_big_for_the_buffer_is_dropped_not_cut(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	send_to(w, 0, broadcast, 200, 1);
	send_to(w, 0, broadcast, 60, 2);
	uint8_t buf[100];
	assert_int_equal(net_port_recv(w->port[1], buf, sizeof(buf)), 60);
	assert_int_equal(buf[59], 2);
	assert_int_equal(net_port_recv(w->port[1], buf, sizeof(buf)), 0);
	assert_int_equal(stats_of(w, 1).rx_dropped_too_big, 1);
	assert_int_equal(stats_of(w, 1).rx_frames, 1);
	assert_int_equal(stats_of(w, 1).rx_bytes, 60);
	free_world(w);
}

/* Frame number seq of the wrap test: its number after the header, then bytes that depend on both
 * the number and their place. */
#define SEQ_AT NET_ETH_HDR_LEN
static uint8_t wrap_byte(uint32_t seq, size_t i)
{
	return (uint8_t)(seq * 31 + i * 7);
}

static void frames_survive_the_ring_wrapping(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	plug(w, 1, "lan");
	uint8_t in[NET_FRAME_MAX], out[NET_FRAME_MAX], src[NET_MAC_LEN];
	mac_of(0, src);
	srand(7);
	uint32_t sent = 0, queued = 0, taken = 0, last_seq = 0;
	/* random sizes, taken in random bursts: the positions wrap the ring many times */
	for (unsigned round = 0; round < 20000; round++) {
		if (rand() % 3) {
			size_t len =
				SEQ_AT + 4 + (size_t)rand() % (NET_FRAME_MAX_UNTAGGED - SEQ_AT - 3);
			frame(in, broadcast, src, len, 0);
			memcpy(in + SEQ_AT, &sent, 4);
			for (size_t i = SEQ_AT + 4; i < len; i++)
				in[i] = wrap_byte(sent, i);
			int r = net_switch_send(w->port[0], in, len);
			assert_true(r == 0 || r == 1);
			queued += (uint32_t)r;
			sent++;
			continue;
		}
		size_t n = net_port_recv(w->port[1], out, sizeof(out));
		if (!n)
			continue;
		uint32_t seq;
		memcpy(&seq, out + SEQ_AT, 4);
		assert_true(taken == 0 || seq > last_seq); /* in order, none twice */
		last_seq = seq;
		taken++;
		for (size_t i = SEQ_AT + 4; i < n; i++)
			assert_int_equal(out[i], wrap_byte(seq, i));
	}
	struct net_port_stats s = stats_of(w, 1);
	assert_int_equal(s.rx_frames, taken);
	assert_int_equal(s.rx_frames + s.rx_queued, queued);
	assert_int_equal(s.rx_frames + s.rx_queued + s.rx_dropped_full, sent);
	assert_true(s.rx_dropped_full > 0);
	assert_true(s.rx_queued_bytes <= NET_PORT_RING_BYTES);
	free_world(w);
}

static void detach_forgets_macs_and_queued_frames(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < 3; i++)
		plug(w, i, "lan");
	send_to(w, 1, broadcast, 64, 1); /* host 1 learned on port 1 */
	send_to(w, 0, broadcast, 64, 2); /* two frames queued for port 1 */
	send_to(w, 2, broadcast, 64, 3);
	takes(w, 0, 1, 1);
	takes(w, 0, 2, 3);
	takes(w, 2, 1, 1);
	takes(w, 2, 0, 2);
	net_switch_detach(w->port[1]);
	net_switch_detach(w->port[1]); /* twice is harmless */
	struct net_port_stats s = stats_of(w, 1);
	assert_int_equal(s.rx_flushed, 2);
	assert_int_equal(s.rx_queued, 0);
	assert_int_equal(s.rx_queued_bytes, 0);
	assert_null(w->port[1]->sw);
	uint8_t buf[64];
	assert_int_equal(net_switch_send(w->port[1], buf, frame(buf, broadcast, broadcast, 64, 0)),
			 NET_SEND_DETACHED);
	/* host 1 is unknown again: a frame to it floods the ports left */
	assert_int_equal(send_host(w, 0, 1, 4), 1);
	takes(w, 2, 0, 4);
	struct net_switch_stats ss;
	net_switch_get_stats(net_switch_find(&w->reg, "lan"), &ss);
	assert_int_equal(ss.ports, 2);
	assert_int_equal(ss.macs, 2);
	/* the VM restarts: the same storage attaches again, to the free slot */
	plug(w, 1, "lan");
	takes_nothing(w, 1);
	assert_int_equal(send_host(w, 0, 1, 5), 2);
	takes(w, 1, 0, 5);
	free_world(w);
}

static void attach_is_bounded(void **state)
{
	(void)state;
	struct world *w = new_world();
	for (unsigned i = 0; i < NET_SWITCH_MAX_PORTS; i++)
		plug(w, i, "lan");
	struct net_switch *sw = net_switch_find(&w->reg, "lan");
	w->port[NET_SWITCH_MAX_PORTS] = malloc(sizeof(struct net_port));
	assert_non_null(w->port[NET_SWITCH_MAX_PORTS]);
	net_port_init(w->port[NET_SWITCH_MAX_PORTS], NULL, NULL);
	assert_int_equal(net_switch_attach(sw, w->port[NET_SWITCH_MAX_PORTS]), -1);
	/* a port on one switch cannot join another too */
	assert_int_equal(net_switch_attach(net_switch_find_or_create(&w->reg, "other"), w->port[0]),
			 -1);
	/* broadcast from the last port reaches the 15 others */
	assert_int_equal(send_to(w, NET_SWITCH_MAX_PORTS - 1, broadcast, 64, 0),
			 NET_SWITCH_MAX_PORTS - 1);
	free_world(w);
}

static void registry_finds_creates_and_bounds(void **state)
{
	(void)state;
	struct world *w = new_world();
	struct net_switch *lan = net_switch_find_or_create(&w->reg, "lan");
	assert_non_null(lan);
	assert_ptr_equal(net_switch_find_or_create(&w->reg, "lan"), lan);
	assert_ptr_equal(net_switch_find(&w->reg, "lan"), lan);
	assert_null(net_switch_find(&w->reg, "LAN"));
	assert_string_equal(lan->name, "lan");
	static const char *const bad[] = { "",	  "a b", "a.b",
					   "x/y", "ü",	 "a23456789012345678901234567890123" };
	for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_null(net_switch_find_or_create(&w->reg, bad[i]));
		assert_false(net_switch_name_valid(bad[i]));
	}
	assert_true(net_switch_name_valid("a234567890123456789012345678901")); /* 31 */
	assert_false(net_switch_name_valid("a2345678901234567890123456789012"));
	char name[8];
	for (unsigned i = 1; i < NET_MAX_SWITCHES; i++) {
		snprintf(name, sizeof(name), "sw-%u_", i);
		assert_non_null(net_switch_find_or_create(&w->reg, name));
	}
	assert_null(net_switch_find_or_create(&w->reg, "one-too-many"));
	assert_int_equal(net_registry_count(&w->reg), NET_MAX_SWITCHES);
	assert_ptr_equal(net_registry_at(&w->reg, 0), lan);
	assert_null(net_registry_at(&w->reg, NET_MAX_SWITCHES));
	assert_non_null(net_switch_find_or_create(&w->reg, "sw-3_"));
	free_world(w);
}

/* notify runs with no lock held: it may look at the switch and the port it was called for. */
struct lock_check {
	struct net_port *port;
	unsigned calls;
};

static void notify_checks_locks(void *ctx)
{
	struct lock_check *c = ctx;
	assert_false(c->port->lock.locked);
	assert_false(c->port->sw->lock.locked);
	c->calls++;
}

static void notify_runs_with_no_lock_held(void **state)
{
	(void)state;
	struct world *w = new_world();
	plug(w, 0, "lan");
	struct net_port *p = malloc(sizeof(*p));
	assert_non_null(p);
	struct lock_check c = { p, 0 };
	net_port_init(p, notify_checks_locks, &c);
	assert_int_equal(net_switch_attach(net_switch_find(&w->reg, "lan"), p), 0);
	send_to(w, 0, broadcast, 64, 0);
	send_to(w, 0, mcast, 64, 0);
	assert_int_equal(c.calls, 2);
	assert_int_equal(p->notify_refs, 0);
	net_switch_detach(p);
	free(p);
	free_world(w);
}

/* Several CPUs at once: each thread's port floods frames and drains its own ring. */
#define THREADS 4
#define THREAD_FRAMES 3000

struct thread_arg {
	struct world *w;
	unsigned i;
};

static void *thread_main(void *arg)
{
	const struct thread_arg *a = arg;
	uint8_t buf[NET_FRAME_MAX], src[NET_MAC_LEN];
	mac_of(a->i, src);
	for (unsigned n = 0; n < THREAD_FRAMES; n++) {
		size_t len =
			frame(buf, n % 2 ? broadcast : mcast, src, 60 + n % 700, (uint8_t)a->i);
		if (net_switch_send(a->w->port[a->i], buf, len) < 0)
			return "send failed";
		while (net_port_recv(a->w->port[a->i], buf, sizeof(buf)))
			if (buf[NET_ETH_SRC_OFFSET + 5] == a->i ||
			    buf[59] != buf[NET_ETH_SRC_OFFSET + 5])
				return "own or corrupt frame";
	}
	return NULL;
}

static void senders_on_several_cpus(void **state)
{
	(void)state;
	struct world *w = new_world();
	pthread_t t[THREADS];
	struct thread_arg args[THREADS];
	for (unsigned i = 0; i < THREADS; i++)
		plug(w, i, "lan");
	for (unsigned i = 0; i < THREADS; i++) {
		args[i] = (struct thread_arg){ w, i };
		assert_int_equal(pthread_create(&t[i], NULL, thread_main, &args[i]), 0);
	}
	for (unsigned i = 0; i < THREADS; i++) {
		void *err;
		assert_int_equal(pthread_join(t[i], &err), 0);
		assert_null(err);
	}
	/* every frame of the other three reached each port: taken, dropped or queued */
	for (unsigned i = 0; i < THREADS; i++) {
		struct net_port_stats s = stats_of(w, i);
		assert_int_equal(s.tx_frames, THREAD_FRAMES);
		assert_int_equal(s.rx_frames + s.rx_dropped_full + s.rx_queued,
				 (THREADS - 1) * THREAD_FRAMES);
	}
	free_world(w);
}

static void derived_macs_are_stable_local_unicast_and_distinct(void **state)
{
	(void)state;
	enum { NAMES = 64, INDEXES = 16 };
	static uint8_t seen[NAMES * INDEXES][NET_MAC_LEN];
	char name[40];
	for (unsigned n = 0; n < NAMES; n++) {
		/* names alike on purpose: one character apart, prefixes of each other */
		if (n < 32)
			snprintf(name, sizeof(name), "vm%u", n);
		else
			snprintf(name, sizeof(name), "%.*s", (int)(n - 31),
				 "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
		for (unsigned i = 0; i < INDEXES; i++) {
			uint8_t *mac = seen[n * INDEXES + i], again[NET_MAC_LEN];
			net_mac_for(name, i, mac);
			net_mac_for(name, i, again);
			assert_memory_equal(mac, again, NET_MAC_LEN);
			assert_int_equal(mac[0], 0x02); /* locally administered, individual */
			assert_false(net_mac_is_group(mac));
			for (unsigned k = 0; k < n * INDEXES + i; k++)
				assert_memory_not_equal(seen[k], mac, NET_MAC_LEN);
		}
	}
	/* known values (computed apart from keel, in Python, from the header's description), so a
	 * change of the hash, which would change every guest's MAC, shows */
	static const uint8_t web0[NET_MAC_LEN] = { 0x02, 0xac, 0xf1, 0xee, 0x2e, 0xc7 };
	static const uint8_t web1[NET_MAC_LEN] = { 0x02, 0x31, 0x68, 0xc7, 0xe5, 0xdc };
	uint8_t mac[NET_MAC_LEN], again[NET_MAC_LEN];
	net_mac_for("web", 0, mac);
	assert_memory_equal(mac, web0, NET_MAC_LEN);
	net_mac_for("web", 1, mac);
	assert_memory_equal(mac, web1, NET_MAC_LEN);
	/* the name ends before the index: "a" and "a1" with one index differ */
	net_mac_for("a", 0x31, mac);
	net_mac_for("a1", 0x31, again);
	assert_memory_not_equal(mac, again, NET_MAC_LEN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(unknown_unicast_floods_then_learned_goes_to_one),
		cmocka_unit_test(broadcast_and_multicast_flood_even_when_learned),
		cmocka_unit_test(group_source_is_never_learned),
		cmocka_unit_test(to_a_mac_on_its_own_port_is_filtered),
		cmocka_unit_test(switches_never_see_each_others_frames),
		cmocka_unit_test(a_mac_that_moves_is_learned_again),
		cmocka_unit_test(a_full_table_replaces_the_least_recently_seen),
		cmocka_unit_test(a_full_ring_drops_for_that_receiver_only),
		cmocka_unit_test(short_and_oversize_frames_are_dropped_and_counted),
		cmocka_unit_test(a_frame_too_big_for_the_buffer_is_dropped_not_cut),
		cmocka_unit_test(frames_survive_the_ring_wrapping),
		cmocka_unit_test(detach_forgets_macs_and_queued_frames),
		cmocka_unit_test(attach_is_bounded),
		cmocka_unit_test(registry_finds_creates_and_bounds),
		cmocka_unit_test(notify_runs_with_no_lock_held),
		cmocka_unit_test(senders_on_several_cpus),
		cmocka_unit_test(derived_macs_are_stable_local_unicast_and_distinct),
		cmocka_unit_test(offload_fields_travel_with_the_frame),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
