/* The 82574L driver core (drivers/e1000e.c) against a fake 82574L: a register file of BAR 0 with
 * the behaviours the driver relies on (CTRL.RST reloading RAL0/RAH0, EERD, STATUS.LU following
 * CTRL.SLU and the fake's cable, ICR read-to-clear), and the two legacy rings in fake DMA memory.
 *
 * The fake transmits when TDT is written (unless a test holds it): it reads each descriptor, keeps
 * the frame, sets DD and moves TDH. Tests hand it frames to receive, good or with the descriptor
 * fields written as they say. It checks what a NIC may rely on: registers inside BAR 0 and
 * aligned, RDLEN/TDLEN multiples of 128, RDT/TDT inside their rings, every DMA address inside the
 * fake memory, the TX command bits; each violation is counted in fake.bad and every test ends with
 * it 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "drivers/e1000e.h"
#include "lib/kstring.h"

#define MEM_PAGES E1000E_DMA_PAGES
#define MEM_BASE 0x80000000ull
#define BAR_SIZE 0x20000u
#define MS 1000000ull
#define MAX_SENT 256

static uint8_t mem[MEM_PAGES][E1000E_PAGE_SIZE] __attribute__((aligned(4096)));

static struct {
	uint32_t reg[BAR_SIZE / 4];
	uint8_t mac[6]; /* what the EEPROM holds */
	uint16_t eeprom[64];
	bool cable;	   /* link partner there: STATUS.LU = cable && CTRL.SLU */
	bool gone;	   /* every read all ones, writes lost */
	bool rst_stuck;	   /* CTRL.RST never clears */
	bool no_ral;	   /* a reset leaves RAL0/RAH0 empty */
	bool eerd_stuck;   /* EERD never sets DONE */
	bool tx_hold;	   /* TDT writes are not acted on */
	uint32_t rdh, tdh; /* the heads, also in reg[] */
	uint64_t now;
	unsigned bad, resets, ctrl_reads, rx_missed;
	struct {
		uint8_t data[E1000E_BUF_SIZE];
		unsigned len;
		uint8_t cmd;
	} sent[MAX_SENT];
	unsigned nr_sent;
} fake;

static struct e1000e_dev dev;

/* what the driver's callback got */
static struct {
	uint8_t data[E1000E_BUF_SIZE];
	unsigned len, calls;
	const void *buf;
} got;

static uint64_t pa_of(unsigned page)
{
	return MEM_BASE + (uint64_t)page * E1000E_PAGE_SIZE;
}

/* The fake's DMA: only inside the fake memory, else counted. */
static uint8_t *dma(uint64_t pa, uint64_t len)
{
	if (pa < MEM_BASE || !range_within(pa - MEM_BASE, len, sizeof(mem))) {
		fake.bad++;
		return NULL;
	}
	return &mem[0][0] + (pa - MEM_BASE);
}

static uint32_t reg(uint32_t off)
{
	return fake.reg[off / 4];
}

static uint64_t ring_pa(uint32_t bal)
{
	return (uint64_t)reg(bal + 4) << 32 | reg(bal);
}

static unsigned ring_size(uint32_t len_reg)
{
	return reg(len_reg) / E1000E_DESC_SIZE;
}

/* A reset: registers back to defaults, RAL0/RAH0 from the EEPROM (unless no_ral). RFCTL starts
 * with EXSTEN set so the driver must clear it. */
static void fake_reset(void)
{
	memset(fake.reg, 0, sizeof(fake.reg));
	fake.rdh = fake.tdh = 0;
	fake.reg[E1000E_REG_RFCTL / 4] = E1000E_RFCTL_EXSTEN;
	fake.reg[E1000E_REG_TIPG / 4] = E1000E_TIPG_COPPER;
	if (!fake.no_ral) {
		fake.reg[E1000E_REG_RAL0 / 4] = (uint32_t)fake.mac[0] | (uint32_t)fake.mac[1] << 8 |
						(uint32_t)fake.mac[2] << 16 |
						(uint32_t)fake.mac[3] << 24;
		fake.reg[E1000E_REG_RAH0 / 4] =
			(uint32_t)fake.mac[4] | (uint32_t)fake.mac[5] << 8 | E1000E_RAH_AV;
	}
	if (fake.rst_stuck)
		fake.reg[E1000E_REG_CTRL / 4] = E1000E_CTRL_RST;
	fake.resets++;
}

/* Transmits everything from TDH to TDT. */
static void run_tx(void)
{
	unsigned size = ring_size(E1000E_REG_TDLEN);

	if (!(reg(E1000E_REG_TCTL) & E1000E_TCTL_EN) || fake.tx_hold)
		return;
	while (fake.tdh != reg(E1000E_REG_TDT)) {
		struct e1000e_tx_desc *t = (struct e1000e_tx_desc *)dma(
			ring_pa(E1000E_REG_TDBAL) + 16ull * fake.tdh, 16);
		uint8_t *p;

		assert_non_null(t);
		p = dma(t->addr, t->length);
		if (!p || t->length == 0 || t->length > E1000E_BUF_SIZE)
			fake.bad++;
		if ((t->cmd & (E1000E_TXD_CMD_EOP | E1000E_TXD_CMD_RS | E1000E_TXD_CMD_IFCS)) !=
			    (E1000E_TXD_CMD_EOP | E1000E_TXD_CMD_RS | E1000E_TXD_CMD_IFCS) ||
		    (t->cmd & E1000E_TXD_CMD_DEXT))
			fake.bad++;
		if (p && fake.nr_sent < MAX_SENT && t->length <= E1000E_BUF_SIZE) {
			memcpy(fake.sent[fake.nr_sent].data, p, t->length);
			fake.sent[fake.nr_sent].len = t->length;
			fake.sent[fake.nr_sent].cmd = t->cmd;
			fake.nr_sent++;
		}
		t->status |= E1000E_TXD_STA_DD;
		fake.tdh = (fake.tdh + 1) % size;
		fake.reg[E1000E_REG_TDH / 4] = fake.tdh;
	}
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	assert_ptr_equal(ctx, &fake);
	if (off + 4 > BAR_SIZE || off % 4) {
		fake.bad++;
		return 0;
	}
	if (fake.gone)
		return 0xFFFFFFFFu;
	switch (off) {
	case E1000E_REG_STATUS:
		return E1000E_STATUS_FD |
		       (fake.cable && (reg(E1000E_REG_CTRL) & E1000E_CTRL_SLU) ? E1000E_STATUS_LU
									       : 0);
	case E1000E_REG_CTRL:
		fake.ctrl_reads++;
		return reg(off);
	case E1000E_REG_ICR: {
		uint32_t v = reg(off);

		fake.reg[off / 4] = 0;
		return v;
	}
	default:
		return reg(off);
	}
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	assert_ptr_equal(ctx, &fake);
	if (off + 4 > BAR_SIZE || off % 4) {
		fake.bad++;
		return;
	}
	if (fake.gone)
		return;
	switch (off) {
	case E1000E_REG_CTRL:
		if (v & E1000E_CTRL_RST) {
			fake_reset();
			return;
		}
		break;
	case E1000E_REG_EERD:
		if ((v & E1000E_EERD_START) && !fake.eerd_stuck) {
			unsigned w = (v >> 2) & 0x3F;

			v = (v & 0xFFFC) | E1000E_EERD_DONE | (uint32_t)fake.eeprom[w] << 16;
		} else {
			v &= 0xFFFC;
		}
		break;
	case E1000E_REG_RDLEN:
	case E1000E_REG_TDLEN:
		if (v % 128 || v == 0 || v > E1000E_PAGE_SIZE)
			fake.bad++;
		break;
	case E1000E_REG_RDBAL:
	case E1000E_REG_TDBAL:
		if (v % 16)
			fake.bad++;
		break;
	case E1000E_REG_RDH:
		fake.rdh = v;
		break;
	case E1000E_REG_TDH:
		fake.tdh = v;
		break;
	case E1000E_REG_RDT:
		if (v >= ring_size(E1000E_REG_RDLEN))
			fake.bad++;
		break;
	case E1000E_REG_TDT:
		if (v >= ring_size(E1000E_REG_TDLEN))
			fake.bad++;
		fake.reg[off / 4] = v;
		run_tx();
		return;
	default:
		break;
	}
	fake.reg[off / 4] = v;
}

static uint64_t now_ns(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake.now;
}

static const struct e1000e_ops ops = { &fake, rd32, wr32, now_ns };

/* The next RX descriptor the fake would fill, or NULL when the ring is full (RDH == RDT) or
 * receive is off. */
static struct e1000e_rx_desc *rx_slot(void)
{
	if (!(reg(E1000E_REG_RCTL) & E1000E_RCTL_EN) || fake.rdh == reg(E1000E_REG_RDT))
		return NULL;
	return (struct e1000e_rx_desc *)dma(ring_pa(E1000E_REG_RDBAL) + 16ull * fake.rdh, 16);
}

static void rx_advance(void)
{
	fake.rdh = (fake.rdh + 1) % ring_size(E1000E_REG_RDLEN);
	fake.reg[E1000E_REG_RDH / 4] = fake.rdh;
}

/* A frame arriving on the wire; false when the fake had no descriptor for it. */
static bool fake_rx(const uint8_t *frame, unsigned len)
{
	struct e1000e_rx_desc *r = rx_slot();
	uint8_t *p;

	if (!r || !fake.cable) {
		fake.rx_missed++;
		return false;
	}
	p = dma(r->addr, len);
	assert_non_null(p);
	memcpy(p, frame, len);
	r->length = (uint16_t)len;
	r->errors = 0;
	r->status = E1000E_RXD_STA_DD | E1000E_RXD_STA_EOP;
	rx_advance();
	return true;
}

/* A descriptor written back as a test says, without touching the buffer. */
static void fake_rx_raw(uint16_t len, uint8_t status, uint8_t errors)
{
	struct e1000e_rx_desc *r = rx_slot();

	assert_non_null(r);
	r->length = len;
	r->errors = errors;
	r->status = status;
	if (status & E1000E_RXD_STA_DD)
		rx_advance();
}

static void on_rx(void *arg, const void *buf, unsigned len)
{
	assert_ptr_equal(arg, &got);
	assert_true(len >= 1 && len <= E1000E_BUF_SIZE);
	/* the buffer is one of the driver's RX buffers */
	assert_true((const uint8_t *)buf >= mem[E1000E_PG_RX_BUF0] &&
		    (const uint8_t *)buf + len <= mem[E1000E_PG_TX_BUF0]);
	memcpy(got.data, buf, len);
	got.len = len;
	got.buf = buf;
	got.calls++;
}

static int setup(void **state)
{
	struct e1000e_dma_page pages[E1000E_DMA_PAGES];
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	(void)state;

	memset(&fake, 0, sizeof(fake));
	memset(&got, 0, sizeof(got));
	memset(mem, 0xEE, sizeof(mem));
	memcpy(fake.mac, mac, 6);
	for (unsigned i = 0; i < 3; i++)
		fake.eeprom[i] = (uint16_t)(mac[2 * i] | mac[2 * i + 1] << 8);
	fake.cable = true;
	/* power-on state: RAL0/RAH0 loaded, as after a reset */
	fake_reset();
	fake.resets = 0;
	for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
		pages[i] = (struct e1000e_dma_page){ mem[i], pa_of(i) };
	assert_int_equal(e1000e_init(&dev, &ops, BAR_SIZE, pages), E1000E_OK);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fake.bad, 0);
	return 0;
}

/* Polls at now (the fake's clock too). */
static enum e1000e_state poll_at(uint64_t now)
{
	fake.now = now;
	return e1000e_poll(&dev, now);
}

/* Reset, bring-up and the first link poll: running with link up at 1 ms. */
static void bring_up(void)
{
	assert_int_equal(poll_at(fake.now), E1000E_S_RESETTING);
	assert_int_equal(poll_at(fake.now + MS), E1000E_S_RUNNING);
	assert_int_equal(poll_at(fake.now), E1000E_S_RUNNING);
	assert_true(dev.link_up);
}

static int tx(unsigned len, uint8_t fill)
{
	uint8_t f[E1000E_BUF_SIZE];

	memset(f, fill, sizeof(f));
	return e1000e_tx(&dev, f, len);
}

/* ---- tests ----------------------------------------------------------------------------------- */

static void bring_up_ok(void **state)
{
	uint32_t rctl, tctl;
	(void)state;

	assert_int_equal(dev.state, E1000E_S_OFF);
	assert_int_equal(poll_at(0), E1000E_S_RESETTING);
	assert_int_equal(fake.resets, 1);
	/* CTRL is not read back before 1 ms */
	fake.ctrl_reads = 0;
	assert_int_equal(poll_at(MS / 2), E1000E_S_RESETTING);
	assert_int_equal(fake.ctrl_reads, 0);
	assert_int_equal(poll_at(MS), E1000E_S_RUNNING);
	assert_memory_equal(dev.mac, fake.mac, 6);
	assert_false(dev.mac_from_eeprom);
	assert_int_equal(reg(E1000E_REG_IMC), E1000E_IMC_ALL);
	assert_true(reg(E1000E_REG_CTRL) & E1000E_CTRL_SLU);
	assert_int_equal(reg(E1000E_REG_RFCTL) & E1000E_RFCTL_EXSTEN, 0);
	rctl = reg(E1000E_REG_RCTL);
	assert_int_equal(rctl, E1000E_RCTL_EN | E1000E_RCTL_UPE | E1000E_RCTL_MPE |
				       E1000E_RCTL_BAM | E1000E_RCTL_SECRC);
	tctl = reg(E1000E_REG_TCTL);
	assert_true(tctl & E1000E_TCTL_EN);
	assert_true(tctl & E1000E_TCTL_PSP);
	assert_int_equal((tctl >> 4) & 0xFF, 0x0F);
	assert_int_equal((tctl >> 12) & 0x3FF, 0x3F);
	assert_int_equal(reg(E1000E_REG_TIPG), 0x00602008);
	assert_int_equal(ring_pa(E1000E_REG_RDBAL), pa_of(E1000E_PG_RX_RING));
	assert_int_equal(ring_pa(E1000E_REG_TDBAL), pa_of(E1000E_PG_TX_RING));
	assert_int_equal(reg(E1000E_REG_RDLEN), 512);
	assert_int_equal(reg(E1000E_REG_TDLEN), 512);
	assert_int_equal(reg(E1000E_REG_RDT), E1000E_RX_DESC - 1);
	assert_int_equal(reg(E1000E_REG_TDT), 0);
	for (unsigned i = 0; i < E1000E_RX_DESC; i++) {
		struct e1000e_rx_desc *r = (struct e1000e_rx_desc *)mem[E1000E_PG_RX_RING] + i;

		assert_int_equal(r->addr, pa_of(E1000E_PG_RX_BUF0 + i / 2) + (i % 2) * 2048);
		assert_int_equal(r->status, 0);
	}
	assert_int_equal(reg(E1000E_REG_RAH0), fake.mac[4] | fake.mac[5] << 8 | E1000E_RAH_AV);
	/* the link shows on the next poll, as one change */
	assert_false(dev.link_up);
	assert_int_equal(poll_at(2 * MS), E1000E_S_RUNNING);
	assert_true(dev.link_up);
	assert_int_equal(dev.st.link_changes, 1);
	assert_int_equal(dev.st.resets, 0);
	assert_string_equal(e1000e_state_name(dev.state), "running");
}

/* RAL0/RAH0 without AV: the address comes from EEPROM words 0-2 through EERD. */
static void mac_from_eeprom(void **state)
{
	static const uint8_t other[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	(void)state;

	fake.no_ral = true;
	for (unsigned i = 0; i < 3; i++)
		fake.eeprom[i] = (uint16_t)(other[2 * i] | other[2 * i + 1] << 8);
	assert_int_equal(poll_at(0), E1000E_S_RESETTING);
	assert_int_equal(poll_at(MS), E1000E_S_EEPROM);
	for (unsigned i = 0; i < 3 && dev.state == E1000E_S_EEPROM; i++)
		poll_at(MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	assert_true(dev.mac_from_eeprom);
	assert_memory_equal(dev.mac, other, 6);
	/* and written to RAL0/RAH0 with AV */
	assert_int_equal(reg(E1000E_REG_RAL0), 0x33221102u);
	assert_int_equal(reg(E1000E_REG_RAH0), 0x5544u | E1000E_RAH_AV);
}

/* Neither RAL0/RAH0 nor the EEPROM has a station address: failed, nothing enabled. */
static void mac_invalid(void **state)
{
	(void)state;

	fake.no_ral = true;
	fake.eeprom[0] = 0x0001; /* multicast */
	poll_at(0);
	for (unsigned i = 0; i < 5; i++)
		poll_at(MS);
	assert_int_equal(dev.state, E1000E_S_FAILED);
	assert_int_equal(reg(E1000E_REG_RCTL), 0);
	assert_int_equal(reg(E1000E_REG_TCTL), 0);
	assert_int_equal(tx(100, 1), E1000E_E_NOT_READY);
	assert_int_equal(dev.st.tx_dropped, 1);

	/* all zeros is no address either */
	setup(NULL);
	fake.no_ral = true;
	memset(fake.eeprom, 0, sizeof(fake.eeprom));
	poll_at(0);
	for (unsigned i = 0; i < 5; i++)
		poll_at(MS);
	assert_int_equal(dev.state, E1000E_S_FAILED);
}

/* An EEPROM that never answers: reset after 10 ms each time, then failed. */
static void eeprom_stuck(void **state)
{
	uint64_t t = 0;
	(void)state;

	fake.no_ral = true;
	fake.eerd_stuck = true;
	for (unsigned i = 0; i < 40 && dev.state != E1000E_S_FAILED; i++, t += 5 * MS)
		poll_at(t);
	assert_int_equal(dev.state, E1000E_S_FAILED);
	assert_int_equal(dev.st.resets, E1000E_MAX_RESETS + 1);
	assert_string_equal(dev.why, "too many resets");
}

static void link_up_down(void **state)
{
	(void)state;

	bring_up();
	assert_int_equal(dev.st.link_changes, 1);
	fake.cable = false;
	poll_at(fake.now + MS);
	assert_false(dev.link_up);
	assert_int_equal(dev.st.link_changes, 2);
	poll_at(fake.now + MS); /* no change, no count */
	assert_int_equal(dev.st.link_changes, 2);
	assert_int_equal(tx(100, 1), E1000E_E_LINK_DOWN);
	assert_int_equal(dev.st.tx_dropped, 1);
	assert_int_equal(fake.nr_sent, 0);
	/* a long link-down is not a transmit hang */
	poll_at(fake.now + 10000 * MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	fake.cable = true;
	poll_at(fake.now + MS);
	assert_true(dev.link_up);
	assert_int_equal(dev.st.link_changes, 3);
	assert_int_equal(tx(100, 1), E1000E_OK);
	assert_int_equal(fake.nr_sent, 1);
}

static void tx_rx_round_trip(void **state)
{
	uint8_t frame[1600];
	(void)state;

	bring_up();
	/* transmit: the bytes as given, CRC inserted by the NIC, reclaimed by DD */
	assert_int_equal(tx(100, 0xA5), E1000E_OK);
	assert_int_equal(fake.nr_sent, 1);
	assert_int_equal(fake.sent[0].len, 100);
	for (unsigned i = 0; i < 100; i++)
		assert_int_equal(fake.sent[0].data[i], 0xA5);
	assert_int_equal(dev.tx_busy, 1);
	poll_at(fake.now + MS);
	assert_int_equal(dev.tx_busy, 0);
	assert_int_equal(dev.st.tx_frames, 1);
	assert_int_equal(dev.st.tx_bytes, 100);
	/* short frames are padded with zeros to 60 */
	assert_int_equal(tx(20, 0x5A), E1000E_OK);
	assert_int_equal(fake.sent[1].len, 60);
	for (unsigned i = 0; i < 60; i++)
		assert_int_equal(fake.sent[1].data[i], i < 20 ? 0x5A : 0);
	/* 1514 is the largest; 0 and 1515 are refused */
	assert_int_equal(tx(1514, 1), E1000E_OK);
	assert_int_equal(fake.sent[2].len, 1514);
	assert_int_equal(tx(1515, 1), E1000E_E_INVAL);
	assert_int_equal(tx(0, 1), E1000E_E_INVAL);
	assert_int_equal(dev.st.tx_dropped, 2);
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, 3);
	assert_int_equal(dev.st.tx_bytes, 100 + 60 + 1514);

	/* receive: handed up as written, then the descriptor back to the NIC */
	for (unsigned i = 0; i < sizeof(frame); i++)
		frame[i] = (uint8_t)i;
	assert_true(fake_rx(frame, 64));
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.len, 64);
	assert_memory_equal(got.data, frame, 64);
	assert_ptr_equal(got.buf, mem[E1000E_PG_RX_BUF0]);
	assert_int_equal(reg(E1000E_REG_RDT), 0);
	assert_int_equal(dev.st.rx_frames, 1);
	assert_int_equal(dev.st.rx_bytes, 64);
	/* nothing new: nothing handed up, RDT not written */
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
	/* 1518 (with a VLAN tag) is accepted, into the second half of the page */
	assert_true(fake_rx(frame, 1518));
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	assert_int_equal(got.len, 1518);
	assert_memory_equal(got.data, frame, 1518);
	assert_ptr_equal(got.buf, mem[E1000E_PG_RX_BUF0] + 2048);
	assert_int_equal(reg(E1000E_REG_RDT), 1);
}

/* 31 frames in flight at most (one descriptor stays empty); the 32nd is refused and counted. */
static void tx_ring_full(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	for (unsigned i = 0; i < E1000E_TX_DESC - 1; i++)
		assert_int_equal(tx(60, (uint8_t)i), E1000E_OK);
	assert_int_equal(tx(60, 0xFF), E1000E_E_BUSY);
	assert_int_equal(dev.st.tx_dropped, 1);
	assert_int_equal(reg(E1000E_REG_TDT), E1000E_TX_DESC - 1);
	/* the NIC catches up: a full ring reclaims before refusing */
	fake.tx_hold = false;
	run_tx();
	assert_int_equal(fake.nr_sent, E1000E_TX_DESC - 1);
	for (unsigned i = 0; i < E1000E_TX_DESC - 1; i++)
		assert_int_equal(fake.sent[i].data[0], i);
	assert_int_equal(tx(60, 0xFF), E1000E_OK);
	assert_int_equal(dev.st.tx_frames, E1000E_TX_DESC - 1);
	assert_int_equal(reg(E1000E_REG_TDT), 0); /* wrapped */
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, E1000E_TX_DESC);
	assert_int_equal(dev.tx_busy, 0);
}

/* Many frames both ways: the rings wrap several times; a full RX ring loses frames at the NIC
 * (its own count), not in the driver. */
static void wrap_around(void **state)
{
	uint8_t frame[200];
	unsigned expect = 0;
	(void)state;

	bring_up();
	for (unsigned n = 0; n < 200; n++) {
		assert_int_equal(tx(60 + n, (uint8_t)n), E1000E_OK);
		if (n % 7 == 0)
			poll_at(fake.now + MS);
		memset(frame, (uint8_t)n, sizeof(frame));
		assert_true(fake_rx(frame, 60 + n % 100));
		if (n % 5 == 4) {
			got.calls = 0;
			assert_int_equal(e1000e_rx(&dev, on_rx, &got), 5);
			assert_int_equal(got.data[0], (uint8_t)n);
		}
	}
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, 200);
	assert_int_equal(dev.st.rx_frames, 200);
	assert_int_equal(fake.nr_sent, 200);
	for (unsigned n = 0; n < 200; n++) {
		assert_int_equal(fake.sent[n].len, 60 + n);
		assert_int_equal(fake.sent[n].data[59 + n], (uint8_t)n);
	}
	/* 31 descriptors are the NIC's: the 32nd frame is missed */
	memset(frame, 0x77, sizeof(frame));
	for (unsigned n = 0; n < E1000E_RX_DESC; n++)
		expect += fake_rx(frame, 60);
	assert_int_equal(expect, E1000E_RX_DESC - 1);
	assert_int_equal(fake.rx_missed, 1);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), E1000E_RX_DESC - 1);
	assert_true(fake_rx(frame, 60));
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	assert_int_equal(dev.st.rx_dropped, 0);
}

/* Write-backs a NIC should not make: dropped and counted, descriptors still given back. */
static void bad_descriptors(void **state)
{
	static const uint8_t frame[64] = { 1, 2, 3 };
	struct e1000e_rx_desc *r0 = (struct e1000e_rx_desc *)mem[E1000E_PG_RX_RING];
	const uint8_t dd_eop = E1000E_RXD_STA_DD | E1000E_RXD_STA_EOP;
	(void)state;

	bring_up();
	fake_rx_raw(0, dd_eop, 0);    /* length 0 */
	fake_rx_raw(1519, dd_eop, 0); /* longer than 1518 */
	fake_rx_raw(4000, dd_eop, 0); /* longer than the buffer */
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.bad_desc, 3);
	assert_int_equal(dev.st.rx_dropped, 3);
	assert_int_equal(reg(E1000E_REG_RDT), 2);
	/* frame errors drop the frame, but are not bad descriptors */
	fake_rx_raw(64, dd_eop, E1000E_RXD_ERR_CE);
	fake_rx_raw(64, dd_eop, E1000E_RXD_ERR_RXE);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.st.rx_dropped, 5);
	assert_int_equal(dev.st.bad_desc, 3);
	/* checksum error bits only judge the payload: the frame goes up */
	fake_rx_raw(64, dd_eop, 0x60);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	/* a frame over three descriptors: dropped whole, counted once */
	fake_rx_raw(2048, E1000E_RXD_STA_DD, 0);
	fake_rx_raw(2048, E1000E_RXD_STA_DD, 0);
	fake_rx_raw(100, dd_eop, 0);
	assert_true(fake_rx(frame, 64));
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	assert_int_equal(got.len, 64);
	assert_int_equal(dev.st.rx_dropped, 6);
	assert_int_equal(dev.st.bad_desc, 4);
	assert_int_equal(dev.rx_next, 10);
	/* a descriptor without DD is not consumed, whatever else it says */
	fake_rx_raw(64, E1000E_RXD_STA_EOP, 0);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
	assert_int_equal(dev.rx_next, 10);
	/* the NIC writing over a buffer address: keel's own put back when it is given back */
	r0[10].addr = 0xDEAD0000;
	r0[10].status = dd_eop;
	r0[10].length = 60;
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 1);
	assert_int_equal(r0[10].addr, pa_of(E1000E_PG_RX_BUF0 + 5));
	/* DD on transmit descriptors nobody queued: nothing reclaimed */
	for (unsigned i = 0; i < E1000E_TX_DESC; i++)
		((struct e1000e_tx_desc *)mem[E1000E_PG_TX_RING])[i].status = E1000E_TXD_STA_DD;
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, 0);
	assert_int_equal(dev.tx_busy, 0);
	assert_int_equal(dev.st.rx_frames, 3);
}

/* Transmit that stops progressing with link up: reset after 2 s, the frame lost and counted,
 * then running again. */
static void reset_on_hang(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	assert_int_equal(tx(100, 1), E1000E_OK);
	poll_at(fake.now + 1000 * MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	poll_at(fake.now + 1001 * MS);
	assert_int_equal(dev.state, E1000E_S_RESETTING);
	assert_int_equal(dev.st.tx_timeouts, 1);
	assert_int_equal(dev.st.resets, 1);
	assert_int_equal(dev.st.tx_dropped, 1);
	assert_string_equal(dev.why, "transmit stopped");
	assert_false(dev.link_up);
	assert_int_equal(dev.st.link_changes, 2);
	assert_int_equal(fake.resets, 2);
	fake.tx_hold = false;
	poll_at(fake.now + MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	poll_at(fake.now + MS);
	assert_true(dev.link_up);
	assert_int_equal(tx(100, 2), E1000E_OK);
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, 1);
	assert_int_equal(dev.resets_in_row, 0);
	assert_int_equal(dev.rx_next, 0);
	assert_int_equal(dev.tx_tail, 1);
}

/* A NIC that never transmits: E1000E_MAX_RESETS resets, then failed. */
static void failed_after_resets(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	for (unsigned i = 0; i < 60 && dev.state != E1000E_S_FAILED; i++) {
		if (dev.state == E1000E_S_RUNNING && dev.link_up && dev.tx_busy == 0)
			assert_int_equal(tx(100, 1), E1000E_OK);
		poll_at(fake.now + 1000 * MS);
	}
	assert_int_equal(dev.state, E1000E_S_FAILED);
	assert_int_equal(dev.st.resets, E1000E_MAX_RESETS + 1);
	assert_int_equal(dev.st.tx_timeouts, E1000E_MAX_RESETS + 1);
	assert_string_equal(dev.why, "too many resets");
	assert_int_equal(dev.st.tx_dropped, E1000E_MAX_RESETS + 1);
	assert_int_equal(reg(E1000E_REG_RCTL), 0);
	assert_int_equal(reg(E1000E_REG_TCTL), 0);
	/* failed stays failed */
	assert_int_equal(poll_at(fake.now + 1000 * MS), E1000E_S_FAILED);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
}

/* CTRL.RST that never clears: a reset per 100 ms, then failed. */
static void reset_stuck(void **state)
{
	uint64_t t = 0;
	(void)state;

	fake.rst_stuck = true;
	fake_reset();
	for (unsigned i = 0; i < 100 && dev.state != E1000E_S_FAILED; i++, t += 20 * MS)
		poll_at(t);
	assert_int_equal(dev.state, E1000E_S_FAILED);
	assert_int_equal(dev.st.resets, E1000E_MAX_RESETS + 1);
	assert_string_equal(e1000e_state_name(dev.state), "failed");
}

/* Surprise removal: every read all ones. Reset, resets time out, failed; nothing sent. */
static void surprise_removal(void **state)
{
	uint64_t t;
	(void)state;

	bring_up();
	assert_int_equal(tx(100, 1), E1000E_OK);
	fake.gone = true;
	fake.tx_hold = true;
	t = fake.now + MS;
	assert_int_equal(poll_at(t), E1000E_S_RESETTING);
	assert_int_equal(dev.st.gone, 1);
	assert_string_equal(dev.why, "STATUS reads all ones");
	assert_int_equal(tx(100, 1), E1000E_E_NOT_READY);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
	for (unsigned i = 0; i < 100 && dev.state != E1000E_S_FAILED; i++)
		poll_at(t += 20 * MS);
	assert_int_equal(dev.state, E1000E_S_FAILED);
	assert_int_equal(dev.st.resets, E1000E_MAX_RESETS + 1);
	assert_false(dev.link_up);
}

/* Link loss with frames queued: no hang reset while the link is down; they go once it is up. */
static void link_down_queued(void **state)
{
	(void)state;

	bring_up();
	fake.tx_hold = true;
	assert_int_equal(tx(100, 1), E1000E_OK);
	fake.cable = false;
	poll_at(fake.now + MS);
	poll_at(fake.now + 5000 * MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	fake.cable = true;
	poll_at(fake.now + MS);
	poll_at(fake.now + 1500 * MS);
	assert_int_equal(dev.state, E1000E_S_RUNNING);
	fake.tx_hold = false;
	run_tx();
	poll_at(fake.now + MS);
	assert_int_equal(dev.st.tx_frames, 1);
	assert_int_equal(dev.st.resets, 0);
}

/* The callback may transmit (a bridge forwarding straight back). */
static void echo(void *arg, const void *buf, unsigned len)
{
	(void)arg;
	assert_int_equal(e1000e_tx(&dev, buf, len), E1000E_OK);
}

static void rx_callback_transmits(void **state)
{
	uint8_t frame[80];
	(void)state;

	bring_up();
	memset(frame, 0x42, sizeof(frame));
	assert_true(fake_rx(frame, sizeof(frame)));
	assert_int_equal(e1000e_rx(&dev, echo, NULL), 1);
	assert_int_equal(fake.nr_sent, 1);
	assert_memory_equal(fake.sent[0].data, frame, sizeof(frame));
}

/* Bad DMA pages or a small BAR are refused by e1000e_init, before any register is touched. */
static void init_checks(void **state)
{
	struct e1000e_dma_page pages[E1000E_DMA_PAGES];
	(void)state;

	for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
		pages[i] = (struct e1000e_dma_page){ mem[i], pa_of(i) };
	pages[3].pa += 8;
	assert_int_equal(e1000e_init(&dev, &ops, BAR_SIZE, pages), E1000E_E_INVAL);
	pages[3].pa -= 8;
	pages[4].va = NULL;
	assert_int_equal(e1000e_init(&dev, &ops, BAR_SIZE, pages), E1000E_E_INVAL);
	pages[4].va = mem[4] + 16;
	assert_int_equal(e1000e_init(&dev, &ops, BAR_SIZE, pages), E1000E_E_INVAL);
	pages[4].va = mem[4];
	assert_int_equal(e1000e_init(&dev, &ops, 0x10000, pages), E1000E_E_INVAL);
	assert_int_equal(e1000e_init(&dev, &ops, BAR_SIZE, pages), E1000E_OK);
	assert_int_equal(dev.state, E1000E_S_OFF);
	assert_int_equal(fake.resets, 0);
	assert_int_equal(tx(100, 1), E1000E_E_NOT_READY);
	assert_int_equal(e1000e_rx(&dev, on_rx, &got), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bring_up_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(mac_from_eeprom, setup, teardown),
		cmocka_unit_test_setup_teardown(mac_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(eeprom_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(link_up_down, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_rx_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(tx_ring_full, setup, teardown),
		cmocka_unit_test_setup_teardown(wrap_around, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_descriptors, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_on_hang, setup, teardown),
		cmocka_unit_test_setup_teardown(failed_after_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(reset_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(surprise_removal, setup, teardown),
		cmocka_unit_test_setup_teardown(link_down_queued, setup, teardown),
		cmocka_unit_test_setup_teardown(rx_callback_transmits, setup, teardown),
		cmocka_unit_test_setup_teardown(init_checks, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
