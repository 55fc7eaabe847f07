/* TCP segments in Ethernet frames for the network tests and fuzzers, and an independent check of
 * their checksums: IPv4 (RFC 791, a 20-byte header) or IPv6 (RFC 8200, a 40-byte header), either
 * optionally behind an 802.1Q tag, a 20-byte TCP header (RFC 793) and a payload pattern. The
 * checksum here is a plain word-by-word RFC 1071 sum, written apart from io/net_offload.c so the
 * one checks the other. Header-only. */
#ifndef KEEL_TESTS_SUPPORT_NET_PKT_H
#define KEEL_TESTS_SUPPORT_NET_PKT_H

#include <string.h>

#include "lib/types.h"

#define PKT_TCP_FIN 0x01
#define PKT_TCP_SYN 0x02
#define PKT_TCP_PSH 0x08
#define PKT_TCP_ACK 0x10
#define PKT_TCP_CWR 0x80

struct pkt_spec {
	bool v6, vlan;
	const uint8_t *dst, *src; /* MACs */
	size_t payload;		  /* TCP payload bytes */
	uint32_t seq;
	uint8_t tcp_flags;
	uint16_t ip_id;
	unsigned seed;		/* the payload pattern */
	uint16_t sport, window; /* 0: 40000 and 512 */
};

static inline size_t pkt_l3(const struct pkt_spec *s)
{
	return s->vlan ? 18 : 14;
}

/* Where the TCP header starts: csum_start for NEEDS_CSUM; the checksum is 16 bytes into it. */
static inline size_t pkt_l4(const struct pkt_spec *s)
{
	return pkt_l3(s) + (s->v6 ? 40 : 20);
}

static inline uint8_t pkt_payload_byte(unsigned seed, size_t i)
{
	return (uint8_t)(seed * 31 + i * 13 + (i >> 9));
}

static inline uint32_t pkt_sum(uint32_t sum, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sum += i % 2 ? p[i] : (uint32_t)p[i] << 8;
	return sum;
}

static inline uint16_t pkt_fold(uint32_t sum)
{
	while (sum > 0xffff)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)sum;
}

static inline void pkt_put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline uint16_t pkt_get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t pkt_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The pseudo-header's sum for a TCP segment of tcp_len bytes (RFC 793, 3.1; RFC 8200, 8.1). */
static inline uint32_t pkt_pseudo(const uint8_t *f, size_t l3, bool v6, size_t tcp_len)
{
	uint32_t sum = 6 + (uint32_t)tcp_len;
	if (v6)
		return pkt_sum(sum, f + l3 + 8, 32);
	return pkt_sum(sum, f + l3 + 12, 8);
}

/* Writes the frame; returns its length. partial: the TCP checksum field holds the folded
 * pseudo-header sum, as a driver sending with NEEDS_CSUM leaves it; else the full checksum. */
static inline size_t pkt_tcp(uint8_t *f, const struct pkt_spec *s, bool partial)
{
	size_t l3 = pkt_l3(s), l4 = pkt_l4(s), len = l4 + 20 + s->payload;
	memcpy(f, s->dst, 6);
	memcpy(f + 6, s->src, 6);
	if (s->vlan) {
		pkt_put16(f + 12, 0x8100);
		pkt_put16(f + 14, 7); /* VLAN 7 */
	}
	pkt_put16(f + l3 - 2, s->v6 ? 0x86dd : 0x0800);
	uint8_t *ip = f + l3;
	if (s->v6) {
		memset(ip, 0, 40);
		ip[0] = 0x60;
		pkt_put16(ip + 4, (uint16_t)(len - l3 - 40));
		ip[6] = 6;
		ip[7] = 64;
		for (unsigned i = 0; i < 16; i++) {
			ip[8 + i] = (uint8_t)(0xfd + i * 3);
			ip[24 + i] = (uint8_t)(0xfd + i * 5);
		}
	} else {
		memset(ip, 0, 20);
		ip[0] = 0x45;
		pkt_put16(ip + 2, (uint16_t)(len - l3));
		pkt_put16(ip + 4, s->ip_id);
		ip[6] = 0x40; /* DF */
		ip[8] = 64;
		ip[9] = 6;
		const uint8_t addrs[8] = { 10, 0, 0, 1, 10, 0, 0, 2 };
		memcpy(ip + 12, addrs, 8);
		pkt_put16(ip + 10, (uint16_t)~pkt_fold(pkt_sum(0, ip, 20)));
	}
	uint8_t *tcp = f + l4;
	memset(tcp, 0, 20);
	pkt_put16(tcp, s->sport ? s->sport : 40000);
	pkt_put16(tcp + 2, 80);
	tcp[4] = (uint8_t)(s->seq >> 24), tcp[5] = (uint8_t)(s->seq >> 16);
	tcp[6] = (uint8_t)(s->seq >> 8), tcp[7] = (uint8_t)s->seq;
	tcp[12] = 5 << 4;
	tcp[13] = s->tcp_flags;
	pkt_put16(tcp + 14, s->window ? s->window : 512);
	for (size_t i = 0; i < s->payload; i++)
		tcp[20 + i] = pkt_payload_byte(s->seed, i);
	uint32_t pseudo = pkt_pseudo(f, l3, s->v6, len - l4);
	if (partial)
		pkt_put16(tcp + 16, pkt_fold(pseudo));
	else
		pkt_put16(tcp + 16, (uint16_t)~pkt_fold(pkt_sum(pseudo, tcp, len - l4)));
	return len;
}

/* The frame's IPv4 header checksum (when IPv4) and its TCP checksum are right, and the IP
 * length fields match the frame's length. l3 as pkt_l3 gives. */
static inline bool pkt_tcp_ok(const uint8_t *f, size_t len, size_t l3, bool v6)
{
	size_t l4 = l3 + (v6 ? 40 : 20);
	if (len < l4 + 20)
		return false;
	if (v6) {
		if (pkt_get16(f + l3 + 4) != len - l3 - 40)
			return false;
	} else {
		if (pkt_get16(f + l3 + 2) != len - l3 || pkt_fold(pkt_sum(0, f + l3, 20)) != 0xffff)
			return false;
	}
	uint32_t sum = pkt_pseudo(f, l3, v6, len - l4);
	return pkt_fold(pkt_sum(sum, f + l4, len - l4)) == 0xffff;
}

/* As pkt_tcp_ok for a frame whose TCP checksum was left open: the field holds the folded
 * pseudo-header sum, and the frame with the checksum computed there is right. */
static inline bool pkt_tcp_open_ok(const uint8_t *f, size_t len, size_t l3, bool v6)
{
	size_t l4 = l3 + (v6 ? 40 : 20);
	static uint8_t copy[65600];
	if (len < l4 + 20 || len > sizeof(copy))
		return false;
	uint32_t pseudo = pkt_pseudo(f, l3, v6, len - l4);
	if (pkt_get16(f + l4 + 16) != pkt_fold(pseudo))
		return false;
	memcpy(copy, f, len);
	pkt_put16(copy + l4 + 16, 0);
	pkt_put16(copy + l4 + 16, (uint16_t)~pkt_fold(pkt_sum(pseudo, copy + l4, len - l4)));
	return pkt_tcp_ok(copy, len, l3, v6);
}

#endif
