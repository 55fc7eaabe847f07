/* The 82574L driver core (drivers/e1000e.c) against a NIC the fuzzer plays.
 *
 * Input: a byte stream read as needed (zeros once it runs out). The first byte picks BAR 0's size
 * and whether RAL0/RAH0 come from the input or hold a good address with AV. Then step bytes drive
 * both sides in turn: the clock advances by one of eight amounts, the driver may be handed a
 * frame to transmit (length and bytes from the input, 0 and over 1514 included), the NIC may
 * write back RX descriptors (lengths, status and error bits good or raw, frame bytes from the
 * input), transmit what TDT gave it (DD set or not, per descriptor), or scribble input bytes
 * anywhere in either ring page (DD bits, lengths, buffer addresses); then e1000e_rx and
 * e1000e_poll run. Register reads come from the input where they matter: CTRL (RST cleared, stuck,
 * all ones), STATUS (link up or down, all ones), EERD (done with data or not), RAL0/RAH0, ICR and
 * RFCTL raw.
 *
 * Checked: no crash or sanitizer report (the driver's DMA pages are separate allocations); every
 * register access inside BAR 0 and aligned; RDT and TDT inside their rings; ring bases and lengths
 * inside a page the driver owns; every buffer address the NIC reads from a descriptor (RX 2 KiB
 * buffers, TX address plus length) inside the driver's pages; every frame handed up 1..1518 bytes,
 * at the start of one of the driver's RX buffers; every frame e1000e_tx accepted accounted for
 * exactly once at every step: reclaimed (tx_frames), lost to a reset (in tx_dropped beyond the
 * refusals) or still in flight, never more than the ring minus one in flight; no TX descriptor
 * reused before the NIC wrote DD on it (or a reset took it back). */
#include "drivers/e1000e.h"
#include "lib/kstring.h"
#include "tests/support/fuzz_input.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRV_BASE 0x1000000000ull

static struct {
	uint64_t bar;
	bool raw_ral;
	uint32_t reg[E1000E_BAR0_MIN / 4];
	uint32_t rdh, tdh;
	bool tainted[E1000E_RX_DESC];  /* RX descriptor scribbled over since keel last gave it */
	bool tx_owned[E1000E_TX_DESC]; /* TX descriptor given by TDT, no DD written on it yet */
	uint64_t now;
	uint64_t tx_ok, tx_refused;
} fz;

static uint8_t *drv_pages[E1000E_DMA_PAGES];
static struct e1000e_dev dev;

/* The driver's memory at pa for len bytes, inside one of its pages, or abort: the driver handed
 * the NIC an address of memory it does not own. */
static uint8_t *drv_mem(uint64_t pa, uint64_t len)
{
	uint64_t i = (pa - DRV_BASE) / E1000E_PAGE_SIZE, in = pa % E1000E_PAGE_SIZE;

	if (pa < DRV_BASE || i >= E1000E_DMA_PAGES || len > E1000E_PAGE_SIZE - in)
		abort();
	return drv_pages[i] + in;
}

static uint32_t reg(uint32_t off)
{
	return fz.reg[off / 4];
}

/* A ring as the registers give it, checked: inside one driver page, a whole number of 128 bytes. */
static uint8_t *ring(uint32_t bal, uint32_t len_reg, unsigned *n)
{
	uint64_t base = (uint64_t)reg(bal + 4) << 32 | reg(bal);
	uint32_t len = reg(len_reg);

	if (len == 0 || len % E1000E_RING_ALIGN || base % 16)
		abort();
	*n = len / E1000E_DESC_SIZE;
	return drv_mem(base, len);
}

static void nic_reset(void)
{
	memset(fz.reg, 0, sizeof(fz.reg));
	memset(fz.tx_owned, 0, sizeof(fz.tx_owned));
	fz.rdh = fz.tdh = 0;
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	uint8_t b;

	(void)ctx;
	if (off + 4 > fz.bar || off % 4)
		abort();
	switch (off) {
	case E1000E_REG_CTRL:
		b = u8();
		if (b == 0xFF)
			return 0xFFFFFFFFu;
		return (reg(off) & ~E1000E_CTRL_RST) | (b >= 0xF0 ? E1000E_CTRL_RST : 0);
	case E1000E_REG_STATUS:
		b = u8();
		if (b == 0xFF)
			return 0xFFFFFFFFu;
		return (b & 0xC0) == 0xC0 ? 0 : E1000E_STATUS_LU | E1000E_STATUS_FD;
	case E1000E_REG_EERD:
		b = u8();
		if (b == 0xFF)
			return 0xFFFFFFFFu;
		return (b & 1) ? E1000E_EERD_DONE | (uint32_t)un(2) << 16 : 0;
	case E1000E_REG_RAL0:
		return fz.raw_ral ? (uint32_t)un(4) : 0x00545202u;
	case E1000E_REG_RAH0:
		return fz.raw_ral ? (uint32_t)un(4) : 0x5634u | E1000E_RAH_AV;
	default:
		return (uint32_t)un(4);
	}
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	(void)ctx;
	if (off + 4 > fz.bar || off % 4)
		abort();
	if (off == E1000E_REG_CTRL && (v & E1000E_CTRL_RST)) {
		nic_reset();
		return;
	}
	if (off == E1000E_REG_RDT || off == E1000E_REG_TDT) {
		unsigned n;

		ring(off == E1000E_REG_RDT ? E1000E_REG_RDBAL : E1000E_REG_TDBAL,
		     off == E1000E_REG_RDT ? E1000E_REG_RDLEN : E1000E_REG_TDLEN, &n);
		if (v >= n || n > E1000E_RX_DESC)
			abort();
		/* the descriptors after the old tail up to the new one were made new by keel */
		for (unsigned i = reg(off) % n; off == E1000E_REG_RDT && i != v;) {
			i = (i + 1) % n;
			fz.tainted[i] = false;
		}
		/* the descriptors from the old tail to the new one are the NIC's until DD */
		for (unsigned i = reg(off) % n; off == E1000E_REG_TDT && i != v; i = (i + 1) % n)
			fz.tx_owned[i] = true;
	}
	if (off == E1000E_REG_RDLEN)
		memset(fz.tainted, 0, sizeof(fz.tainted));
	if (off == E1000E_REG_RDH)
		fz.rdh = v;
	if (off == E1000E_REG_TDH)
		fz.tdh = v;
	fz.reg[off / 4] = v;
}

static uint64_t now_ns(void *ctx)
{
	(void)ctx;
	return fz.now;
}

static const struct e1000e_ops ops = { NULL, rd32, wr32, now_ns };

/* The NIC receives up to 4 frames into the descriptors the driver gave it. */
static void nic_rx(void)
{
	unsigned n, count = 1 + u8() % 4;
	uint8_t *r;

	if (!(reg(E1000E_REG_RCTL) & E1000E_RCTL_EN))
		return;
	r = ring(E1000E_REG_RDBAL, E1000E_REG_RDLEN, &n);
	for (; count && fz.rdh % n != reg(E1000E_REG_RDT); count--) {
		struct e1000e_rx_desc *d = (struct e1000e_rx_desc *)(r + 16 * (fz.rdh % n));
		uint8_t kind = u8();
		unsigned len = 60 + (unsigned)un(2) % (E1000E_ETH_MAX_RX - 59);

		/* an address keel gave (not one scribbled over) is a whole buffer of keel's */
		if (!fz.tainted[fz.rdh % n]) {
			uint8_t *buf = drv_mem(d->addr, E1000E_BUF_SIZE);

			for (unsigned i = 0, m = u8() % 32; i < m; i++)
				buf[i] = u8();
		}
		d->length = (uint16_t)((kind & 1) ? un(2) : len);
		d->status = (kind & 2) ? u8() : E1000E_RXD_STA_DD | E1000E_RXD_STA_EOP;
		d->errors = (kind & 4) ? u8() : 0;
		d->csum = (uint16_t)un(2);
		fz.rdh = (fz.rdh + 1) % n;
	}
}

/* The NIC transmits from TDH to TDT: each descriptor's buffer read, DD set unless a byte holds
 * the queue there. */
static void nic_tx(void)
{
	unsigned n;
	uint8_t *r;

	if (!(reg(E1000E_REG_TCTL) & E1000E_TCTL_EN))
		return;
	r = ring(E1000E_REG_TDBAL, E1000E_REG_TDLEN, &n);
	while (fz.tdh % n != reg(E1000E_REG_TDT)) {
		struct e1000e_tx_desc *d = (struct e1000e_tx_desc *)(r + 16 * (fz.tdh % n));
		const uint8_t *buf;

		if (u8() & 0x80)
			break;
		if (d->length < E1000E_ETH_MIN || d->length > E1000E_ETH_MAX ||
		    !(d->cmd & E1000E_TXD_CMD_EOP) || (d->cmd & E1000E_TXD_CMD_DEXT))
			abort();
		buf = drv_mem(d->addr, d->length);
		(void)buf;
		d->status = (uint8_t)(E1000E_TXD_STA_DD | (u8() & 0xF0));
		fz.tx_owned[fz.tdh % n] = false;
		fz.tdh = (fz.tdh + 1) % n;
	}
}

/* Input bytes written anywhere in the RX ring page (buffer addresses too), or over TX status
 * bytes (DD where nothing was sent): the only TX field keel reads back. */
static void scribble(void)
{
	bool tx = u8() & 1;

	for (unsigned i = 0, m = 1 + u8() % 8; i < m; i++) {
		unsigned off = (unsigned)un(2) % E1000E_PAGE_SIZE;

		if (tx) {
			uint8_t v = u8();

			drv_pages[E1000E_PG_TX_RING][off / 16 * 16 + 12] = v;
			if ((v & E1000E_TXD_STA_DD) && off / 16 < E1000E_TX_DESC)
				fz.tx_owned[off / 16] = false;
		} else {
			drv_pages[E1000E_PG_RX_RING][off] = u8();
			if (off / 16 < E1000E_RX_DESC)
				fz.tainted[off / 16] = true;
		}
	}
}

static void on_rx(void *arg, const void *buf, unsigned len)
{
	const uint8_t *b = buf;
	bool ours = false;
	volatile uint8_t sum = 0;

	(void)arg;
	if (len < 1 || len > E1000E_ETH_MAX_RX)
		abort();
	for (unsigned i = 0; i < E1000E_RX_DESC / E1000E_BUFS_PER_PAGE; i++)
		for (unsigned h = 0; h < E1000E_BUFS_PER_PAGE; h++)
			if (b == drv_pages[E1000E_PG_RX_BUF0 + i] + h * E1000E_BUF_SIZE)
				ours = true;
	if (!ours)
		abort();
	/* read it all, as the switch would */
	for (unsigned i = 0; i < len; i++)
		sum = (uint8_t)(sum + b[i]);
}

static void driver_tx(void)
{
	uint8_t frame[1600];
	unsigned len = (unsigned)un(2) % sizeof(frame);
	bool owned = fz.tx_owned[dev.tx_tail]; /* before the call: its TDT write marks it */
	int rc;

	memset(frame, u8(), len);
	rc = e1000e_tx(&dev, frame, len);
	if (rc == E1000E_OK && owned)
		abort(); /* a descriptor (and buffer) the NIC has not finished with, reused */
	if (rc == E1000E_OK)
		fz.tx_ok++;
	else if (rc < 0)
		fz.tx_refused++;
	else
		abort();
}

/* Every accepted frame counted exactly once: reclaimed, lost to a reset, or in flight. */
static void check_accounting(void)
{
	const struct e1000e_stats *s = &dev.st;

	if (s->tx_dropped < fz.tx_refused || dev.tx_busy >= E1000E_TX_DESC)
		abort();
	if (fz.tx_ok != s->tx_frames + (s->tx_dropped - fz.tx_refused) + dev.tx_busy)
		abort();
	if (dev.state > E1000E_S_FAILED || dev.rx_next >= E1000E_RX_DESC ||
	    dev.tx_tail >= E1000E_TX_DESC || dev.tx_clean >= E1000E_TX_DESC)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t dt[8] = { 0,	   1000,       1000000,	   10000000,
					100000000, 1000000000, 2100000000, 0 };
	struct e1000e_dma_page pages[E1000E_DMA_PAGES];
	uint8_t mode;

	if (!drv_pages[0])
		for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
			drv_pages[i] = aligned_alloc(E1000E_PAGE_SIZE, E1000E_PAGE_SIZE);
	memset(&fz, 0, sizeof(fz));
	fuzz_input_start(data, size);
	mode = u8();
	fz.bar = (mode & 0x0E) == 0x0E ? 0x10000 : E1000E_BAR0_MIN;
	fz.raw_ral = mode & 1;
	for (unsigned i = 0; i < E1000E_DMA_PAGES; i++) {
		memset(drv_pages[i], 0xEE, E1000E_PAGE_SIZE);
		pages[i] =
			(struct e1000e_dma_page){ drv_pages[i], DRV_BASE + i * E1000E_PAGE_SIZE };
	}
	if (e1000e_init(&dev, &ops, fz.bar, pages) != E1000E_OK) {
		if (fz.bar >= E1000E_BAR0_MIN)
			abort();
		return 0;
	}

	for (unsigned steps = 0; fuzz_input_left() && steps < 4000; steps++) {
		uint8_t s = u8();

		fz.now += (s & 7) == 7 ? un(4) : dt[s & 7];
		if (s & 0x08)
			driver_tx();
		if (s & 0x10)
			nic_rx();
		if (s & 0x20)
			nic_tx();
		if (s & 0x40)
			scribble();
		if (s & 0x80)
			e1000e_rx(&dev, on_rx, NULL);
		e1000e_poll(&dev, fz.now);
		check_accounting();
	}
	/* the input is over: the NIC transmits everything, time runs on */
	for (unsigned i = 0; i < 50; i++) {
		fz.now += 100000000ull;
		nic_tx();
		e1000e_rx(&dev, on_rx, NULL);
		e1000e_poll(&dev, fz.now);
		check_accounting();
	}
	if (dev.state == E1000E_S_RUNNING && dev.link_up && dev.tx_busy != 0)
		abort(); /* a NIC that transmitted everything leaves nothing in flight */
	return 0;
}
