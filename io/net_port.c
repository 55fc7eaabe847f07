/* A switch port's receive ring and counters (io/net_port.h). */
#include "io/net_port.h"
#include "lib/kstring.h"

_Static_assert((NET_PORT_RING_BYTES & (NET_PORT_RING_BYTES - 1)) == 0,
	       "the ring positions wrap by masking");
_Static_assert(NET_PORT_RING_BYTES >= NET_PORT_REC_HDR + NET_FRAME_MAX,
	       "the ring holds at least one full-size frame");
#ifndef KEEL_FUZZ
_Static_assert(NET_PORT_RING_BYTES >= 256 * (NET_PORT_REC_HDR + NET_FRAME_MAX) &&
		       NET_PORT_RING_BYTES >= 15 * (NET_PORT_REC_HDR + NET_GSO_FRAME_MAX),
	       "the ring holds a transmit queue of full-size frames and 15 of the largest frames "
	       "to cut (io/net_port.h)");
#endif

/* A record's header: le32 length, then the frame's struct net_offload as u8 flags, u8 gso_type,
 * le16 gso_size, le16 csum_start, le16 csum_offset. */
_Static_assert(NET_PORT_REC_HDR == 12, "the record header's layout");

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

#define RING_MASK (NET_PORT_RING_BYTES - 1)

void net_port_init(struct net_port *p, void (*notify)(void *ctx), void *notify_ctx)
{
	/* the ring's bytes need no clearing: only what was written is ever read */
	memset(p, 0, offsetof(struct net_port, ring));
	p->notify = notify;
	p->notify_ctx = notify_ctx;
}

static void ring_write(struct net_port *p, const uint8_t *src, uint32_t n)
{
	uint32_t at = p->head & RING_MASK, first = MIN(n, NET_PORT_RING_BYTES - at);
	memcpy(&p->ring[at], src, first);
	memcpy(p->ring, src + first, n - first);
	p->head += n;
}

static void ring_read(struct net_port *p, uint8_t *dst, uint32_t n)
{
	uint32_t at = p->tail & RING_MASK, first = MIN(n, NET_PORT_RING_BYTES - at);
	memcpy(dst, &p->ring[at], first);
	memcpy(dst + first, p->ring, n - first);
	p->tail += n;
}

bool net_port_enqueue(struct net_port *p, const uint8_t *frame, size_t len,
		      const struct net_offload *off)
{
	uint32_t need = NET_PORT_REC_HDR + (uint32_t)len;
	bool fits;
	spin_lock(&p->lock);
	size_t max = off && off->gso_type != NET_GSO_NONE ? NET_GSO_FRAME_MAX : NET_FRAME_MAX;
	fits = len <= max && need <= NET_PORT_RING_BYTES - (p->head - p->tail);
	if (fits) {
		uint8_t hdr[NET_PORT_REC_HDR];
		put16(hdr, (uint16_t)len);
		put16(hdr + 2, (uint16_t)(len >> 16));
		hdr[4] = off ? off->flags : 0;
		hdr[5] = off ? off->gso_type : NET_GSO_NONE;
		put16(hdr + 6, off ? off->gso_size : 0);
		put16(hdr + 8, off ? off->csum_start : 0);
		put16(hdr + 10, off ? off->csum_offset : 0);
		ring_write(p, hdr, sizeof(hdr));
		ring_write(p, frame, (uint32_t)len);
		p->stats.rx_queued++;
		p->stats.rx_queued_bytes = p->head - p->tail;
	} else {
		p->stats.rx_dropped_full++;
	}
	spin_unlock(&p->lock);
	return fits;
}

size_t net_port_recv(struct net_port *p, uint8_t *buf, size_t cap)
{
	struct net_offload off;
	return net_port_recv_offload(p, buf, cap, &off);
}

size_t net_port_recv_offload(struct net_port *p, uint8_t *buf, size_t cap, struct net_offload *off)
{
	size_t got = 0;
	*off = (struct net_offload){ 0 };
	spin_lock(&p->lock);
	while (p->stats.rx_queued) {
		uint8_t hdr[NET_PORT_REC_HDR];
		ring_read(p, hdr, sizeof(hdr));
		uint32_t len = get16(hdr) | (uint32_t)get16(hdr + 2) << 16;
		p->stats.rx_queued--;
		if (len <= cap) {
			ring_read(p, buf, len);
			*off = (struct net_offload){ .flags = hdr[4],
						     .gso_type = hdr[5],
						     .gso_size = get16(hdr + 6),
						     .csum_start = get16(hdr + 8),
						     .csum_offset = get16(hdr + 10) };
			p->stats.rx_frames++;
			p->stats.rx_bytes += len;
			got = len;
			break;
		}
		p->tail += len;
		p->stats.rx_dropped_too_big++;
	}
	p->stats.rx_queued_bytes = p->head - p->tail;
	spin_unlock(&p->lock);
	return got;
}

void net_port_flush(struct net_port *p)
{
	spin_lock(&p->lock);
	p->stats.rx_flushed += p->stats.rx_queued;
	p->stats.rx_queued = 0;
	p->stats.rx_queued_bytes = 0;
	p->tail = p->head;
	spin_unlock(&p->lock);
}

void net_port_count_tx(struct net_port *p, enum net_tx_result r, size_t len)
{
	spin_lock(&p->lock);
	switch (r) {
	case NET_TX_FORWARDED:
		p->stats.tx_frames++;
		p->stats.tx_bytes += len;
		break;
	case NET_TX_FILTERED:
		p->stats.tx_filtered++;
		break;
	case NET_TX_MALFORMED:
		p->stats.tx_malformed++;
		break;
	}
	spin_unlock(&p->lock);
}

void net_port_get_stats(struct net_port *p, struct net_port_stats *out)
{
	spin_lock(&p->lock);
	*out = p->stats;
	spin_unlock(&p->lock);
}
