/* keel's 82574L driver core (drivers/e1000e.h): reset and bring-up as a polled step function,
 * one legacy RX and one legacy TX ring, descriptor checks, link following and resets. Section
 * numbers are those of the Intel 82574 GbE Controller Family datasheet; drivers/e1000e_regs.h
 * says which were verified. */
#include "drivers/e1000e.h"
#include "lib/kstring.h"

/* ---- register and DMA memory access ---------------------------------------------------------- */

static uint32_t rd32(const struct e1000e_dev *d, uint32_t off)
{
	return d->ops->read32(d->ops->ctx, off);
}

static void wr32(const struct e1000e_dev *d, uint32_t off, uint32_t v)
{
	d->ops->write32(d->ops->ctx, off, v);
}

/* now + ns, saturating: a clock near its end must not make a deadline that has passed already */
static uint64_t after(uint64_t t, uint64_t ns)
{
	return t > UINT64_MAX - ns ? UINT64_MAX : t + ns;
}

/* The NIC may write the rings at any time: each written-back field is read once, through a
 * volatile pointer, and the value read is the one checked and used. */
static volatile struct e1000e_rx_desc *rx_desc(const struct e1000e_dev *d, unsigned i)
{
	return (volatile struct e1000e_rx_desc *)d->dma[E1000E_PG_RX_RING].va + i;
}

static volatile struct e1000e_tx_desc *tx_desc(const struct e1000e_dev *d, unsigned i)
{
	return (volatile struct e1000e_tx_desc *)d->dma[E1000E_PG_TX_RING].va + i;
}

/* Buffer i of the RX (first = E1000E_PG_RX_BUF0) or TX buffers: page i / 2, half i % 2. */
static uint8_t *buf_va(const struct e1000e_dev *d, unsigned first, unsigned i)
{
	return (uint8_t *)d->dma[first + i / E1000E_BUFS_PER_PAGE].va +
	       (size_t)(i % E1000E_BUFS_PER_PAGE) * E1000E_BUF_SIZE;
}

static uint64_t buf_pa(const struct e1000e_dev *d, unsigned first, unsigned i)
{
	return d->dma[first + i / E1000E_BUFS_PER_PAGE].pa +
	       (uint64_t)(i % E1000E_BUFS_PER_PAGE) * E1000E_BUF_SIZE;
}

const char *e1000e_state_name(enum e1000e_state s)
{
	switch (s) {
	case E1000E_S_OFF:
		return "off";
	case E1000E_S_RESETTING:
		return "resetting";
	case E1000E_S_EEPROM:
		return "reading EEPROM";
	case E1000E_S_RUNNING:
		return "running";
	case E1000E_S_FAILED:
		return "failed";
	}
	return "?";
}

/* ---- resets ---------------------------------------------------------------------------------- */

/* Frames queued but not reclaimed are lost: counted once, as dropped. */
static void drop_tx_in_flight(struct e1000e_dev *d)
{
	d->st.tx_dropped += d->tx_busy;
	d->tx_busy = 0;
	d->tx_tail = d->tx_clean = 0;
}

static void link_gone(struct e1000e_dev *d)
{
	if (d->link_up)
		d->st.link_changes++;
	d->link_up = false;
}

/* Receive and transmit off, every interrupt masked. */
static void quiesce(struct e1000e_dev *d)
{
	wr32(d, E1000E_REG_IMC, E1000E_IMC_ALL);
	wr32(d, E1000E_REG_RCTL, 0);
	wr32(d, E1000E_REG_TCTL, 0);
}

/* Gives up on the NIC: receive and transmit stay off. */
static void dev_fail(struct e1000e_dev *d, const char *why)
{
	quiesce(d);
	drop_tx_in_flight(d);
	link_gone(d);
	d->state = E1000E_S_FAILED;
	d->why = why;
}

/* A global reset (CTRL.RST, 10.2.2.1, not verified): DMA stopped first, then RST with what CTRL
 * holds (a CTRL of all ones, a NIC that is gone, is not written back). counted: any reset but
 * bring-up's own; more than E1000E_MAX_RESETS of them in a row without a frame moving fail the
 * NIC. */
static void dev_reset(struct e1000e_dev *d, uint64_t now, const char *why, bool counted)
{
	uint32_t ctrl;

	drop_tx_in_flight(d);
	link_gone(d);
	d->why = why;
	if (counted) {
		d->st.resets++;
		if (++d->resets_in_row > E1000E_MAX_RESETS) {
			dev_fail(d, "too many resets");
			return;
		}
	}
	quiesce(d);
	ctrl = rd32(d, E1000E_REG_CTRL);
	if (ctrl == 0xFFFFFFFFu)
		ctrl = 0;
	wr32(d, E1000E_REG_CTRL, ctrl | E1000E_CTRL_RST);
	d->state = E1000E_S_RESETTING;
	d->since = now;
}

/* ---- bring-up -------------------------------------------------------------------------------- */

/* A station address keel can use: not multicast (bit 0 of the first byte), not all zeros. */
static bool mac_ok(const uint8_t m[6])
{
	static const uint8_t zero[6];

	return (m[0] & 1) == 0 && memcmp(m, zero, 6) != 0;
}

/* The RX ring: every descriptor gets its buffer; RDT one behind RDH so one stays keel's
 * (7.1.8: head equal to tail is an empty ring). */
static void setup_rx(struct e1000e_dev *d)
{
	uint64_t pa = d->dma[E1000E_PG_RX_RING].pa;

	memset(d->dma[E1000E_PG_RX_RING].va, 0, E1000E_PAGE_SIZE);
	for (unsigned i = 0; i < E1000E_RX_DESC; i++)
		rx_desc(d, i)->addr = buf_pa(d, E1000E_PG_RX_BUF0, i);
	d->rx_next = 0;
	d->rx_discarding = false;
	/* the legacy format: RFCTL.EXSTEN 0 (with RCTL.DTYP 00b below) */
	wr32(d, E1000E_REG_RFCTL, rd32(d, E1000E_REG_RFCTL) & ~E1000E_RFCTL_EXSTEN);
	wr32(d, E1000E_REG_RDBAL, (uint32_t)pa);
	wr32(d, E1000E_REG_RDBAH, (uint32_t)(pa >> 32));
	wr32(d, E1000E_REG_RDLEN, E1000E_RX_DESC * E1000E_DESC_SIZE);
	wr32(d, E1000E_REG_RDH, 0);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr32(d, E1000E_REG_RDT, E1000E_RX_DESC - 1);
}

static void setup_tx(struct e1000e_dev *d, uint64_t now)
{
	uint64_t pa = d->dma[E1000E_PG_TX_RING].pa;

	memset(d->dma[E1000E_PG_TX_RING].va, 0, E1000E_PAGE_SIZE);
	d->tx_tail = d->tx_clean = d->tx_busy = 0;
	d->tx_progress = now;
	wr32(d, E1000E_REG_TDBAL, (uint32_t)pa);
	wr32(d, E1000E_REG_TDBAH, (uint32_t)(pa >> 32));
	wr32(d, E1000E_REG_TDLEN, E1000E_TX_DESC * E1000E_DESC_SIZE);
	wr32(d, E1000E_REG_TDH, 0);
	wr32(d, E1000E_REG_TDT, 0);
}

/* With the MAC address known: link up forced, filters, rings, then transmit and receive on
 * (the initialization order of the datasheet's chapter 4, not verified). */
static void configure(struct e1000e_dev *d, uint64_t now)
{
	uint32_t ctrl = rd32(d, E1000E_REG_CTRL);

	/* the address in RAL0/RAH0 with AV, whichever way it was found */
	wr32(d, E1000E_REG_RAL0,
	     (uint32_t)d->mac[0] | (uint32_t)d->mac[1] << 8 | (uint32_t)d->mac[2] << 16 |
		     (uint32_t)d->mac[3] << 24);
	wr32(d, E1000E_REG_RAH0, (uint32_t)d->mac[4] | (uint32_t)d->mac[5] << 8 | E1000E_RAH_AV);
	/* SLU: the MAC takes the link the PHY negotiated; nothing forced */
	if (ctrl == 0xFFFFFFFFu)
		ctrl = 0;
	ctrl &= ~(E1000E_CTRL_RST | E1000E_CTRL_PHY_RST | E1000E_CTRL_FRCSPD | E1000E_CTRL_FRCDPX);
	wr32(d, E1000E_REG_CTRL, ctrl | E1000E_CTRL_SLU);
	for (unsigned i = 0; i < E1000E_MTA_DWORDS; i++)
		wr32(d, E1000E_REG_MTA + 4 * i, 0);
	setup_rx(d);
	setup_tx(d, now);
	wr32(d, E1000E_REG_TIPG, E1000E_TIPG_COPPER);
	wr32(d, E1000E_REG_TCTL,
	     E1000E_TCTL_EN | E1000E_TCTL_PSP | E1000E_TCTL_CT(E1000E_TCTL_CT_DEFAULT) |
		     E1000E_TCTL_COLD(E1000E_TCTL_COLD_FULL_DUPLEX) | E1000E_TCTL_RTLC);
	/* promiscuous for unicast and multicast (the VMs' own MACs), broadcasts, CRC stripped,
	 * 2 KiB buffers, no long packets, legacy descriptors */
	wr32(d, E1000E_REG_RCTL,
	     E1000E_RCTL_EN | E1000E_RCTL_UPE | E1000E_RCTL_MPE | E1000E_RCTL_BAM |
		     E1000E_RCTL_SECRC | E1000E_RCTL_BSIZE_2048 | E1000E_RCTL_DTYP_LEGACY |
		     E1000E_RCTL_RDMTS_HALF);
	d->state = E1000E_S_RUNNING;
	d->why = NULL;
}

static void eeprom_read(struct e1000e_dev *d, uint64_t now)
{
	wr32(d, E1000E_REG_EERD,
	     E1000E_EERD_ADDR(E1000E_EEPROM_MAC_WORD0 + d->eeprom_word) | E1000E_EERD_START);
	d->since = now;
}

/* CTRL.RST has cleared: interrupts masked (and any pending cause read away), then the MAC
 * address from RAL0/RAH0 when AV says it is valid (the NIC loads it from its EEPROM after a
 * reset, as QEMU's model does), else from the EEPROM itself through EERD. */
static void after_reset(struct e1000e_dev *d, uint64_t now)
{
	uint32_t ral, rah;

	wr32(d, E1000E_REG_IMC, E1000E_IMC_ALL);
	(void)rd32(d, E1000E_REG_ICR);
	ral = rd32(d, E1000E_REG_RAL0);
	rah = rd32(d, E1000E_REG_RAH0);
	for (unsigned i = 0; i < 4; i++)
		d->mac[i] = (uint8_t)(ral >> (8 * i));
	d->mac[4] = (uint8_t)rah;
	d->mac[5] = (uint8_t)(rah >> 8);
	if (rah != 0xFFFFFFFFu && (rah & E1000E_RAH_AV) && mac_ok(d->mac)) {
		d->mac_from_eeprom = false;
		configure(d, now);
		return;
	}
	d->eeprom_word = 0;
	d->state = E1000E_S_EEPROM;
	eeprom_read(d, now);
}

static void poll_eeprom(struct e1000e_dev *d, uint64_t now)
{
	uint32_t v = rd32(d, E1000E_REG_EERD);

	if (v == 0xFFFFFFFFu || !(v & E1000E_EERD_DONE)) {
		if (now >= after(d->since, E1000E_EERD_TIMEOUT_NS))
			dev_reset(d, now, "EERD did not complete", true);
		return;
	}
	d->eeprom[d->eeprom_word++] = E1000E_EERD_DATA(v);
	if (d->eeprom_word < ARRAY_SIZE(d->eeprom)) {
		eeprom_read(d, now);
		return;
	}
	for (size_t i = 0; i < 3; i++) {
		d->mac[2 * i] = (uint8_t)d->eeprom[i];
		d->mac[2 * i + 1] = (uint8_t)(d->eeprom[i] >> 8);
	}
	if (!mac_ok(d->mac)) {
		dev_fail(d, "no valid MAC address in RAL0/RAH0 or the EEPROM");
		return;
	}
	d->mac_from_eeprom = true;
	configure(d, now);
}

static void poll_resetting(struct e1000e_dev *d, uint64_t now)
{
	uint32_t ctrl;

	if (now < after(d->since, E1000E_RST_SETTLE_NS))
		return;
	ctrl = rd32(d, E1000E_REG_CTRL);
	if (ctrl != 0xFFFFFFFFu && !(ctrl & E1000E_CTRL_RST))
		after_reset(d, now);
	else if (now >= after(d->since, E1000E_RST_TIMEOUT_NS))
		dev_reset(d, now, "CTRL.RST did not clear", true);
}

int e1000e_init(struct e1000e_dev *d, const struct e1000e_ops *ops, uint64_t bar_size,
		const struct e1000e_dma_page pages[E1000E_DMA_PAGES])
{
	memset(d, 0, sizeof(*d));
	if (bar_size < E1000E_BAR0_MIN)
		return E1000E_E_INVAL;
	for (unsigned i = 0; i < E1000E_DMA_PAGES; i++)
		if (!pages[i].va || !IS_ALIGNED((uintptr_t)pages[i].va, E1000E_PAGE_SIZE) ||
		    !IS_ALIGNED(pages[i].pa, E1000E_PAGE_SIZE))
			return E1000E_E_INVAL;
	d->ops = ops;
	d->bar_size = bar_size;
	memcpy(d->dma, pages, sizeof(d->dma));
	d->state = E1000E_S_OFF;
	return E1000E_OK;
}

/* ---- running --------------------------------------------------------------------------------- */

/* Transmitted frames: descriptors from the oldest on whose DD the NIC has set (RS asked for it),
 * in order; the first without DD ends the walk. */
static void reclaim_tx(struct e1000e_dev *d, uint64_t now)
{
	while (d->tx_busy) {
		volatile struct e1000e_tx_desc *t = tx_desc(d, d->tx_clean);

		if (!(t->status & E1000E_TXD_STA_DD))
			break;
		t->status = 0;
		d->st.tx_frames++;
		d->st.tx_bytes += d->tx_len[d->tx_clean];
		d->tx_clean = (d->tx_clean + 1) % E1000E_TX_DESC;
		d->tx_busy--;
		d->tx_progress = now;
		d->resets_in_row = 0;
	}
}

static void poll_running(struct e1000e_dev *d, uint64_t now)
{
	uint32_t status = rd32(d, E1000E_REG_STATUS);
	bool lu;

	if (status == 0xFFFFFFFFu) { /* a read nobody answers: the device is gone or wedged */
		d->st.gone++;
		dev_reset(d, now, "STATUS reads all ones", true);
		return;
	}
	lu = (status & E1000E_STATUS_LU) != 0;
	if (lu != d->link_up) {
		d->link_up = lu;
		d->st.link_changes++;
	}
	reclaim_tx(d, now);
	if (!d->link_up || d->tx_busy == 0) {
		d->tx_progress = now; /* nothing is expected to move */
	} else if (now >= after(d->tx_progress, E1000E_TX_TIMEOUT_NS)) {
		d->st.tx_timeouts++;
		dev_reset(d, now, "transmit stopped", true);
	}
}

enum e1000e_state e1000e_poll(struct e1000e_dev *d, uint64_t now)
{
	switch (d->state) {
	case E1000E_S_OFF:
		dev_reset(d, now, "bring-up", false);
		break;
	case E1000E_S_RESETTING:
		poll_resetting(d, now);
		break;
	case E1000E_S_EEPROM:
		poll_eeprom(d, now);
		break;
	case E1000E_S_RUNNING:
		poll_running(d, now);
		break;
	case E1000E_S_FAILED:
		break;
	}
	return d->state;
}

static int tx_refuse(struct e1000e_dev *d, int err)
{
	d->st.tx_dropped++;
	return err;
}

int e1000e_tx(struct e1000e_dev *d, const void *frame, unsigned len)
{
	volatile struct e1000e_tx_desc *t;
	unsigned i = d->tx_tail, plen = MAX(len, (unsigned)E1000E_ETH_MIN);
	uint8_t *buf;

	if (d->state != E1000E_S_RUNNING)
		return tx_refuse(d, E1000E_E_NOT_READY);
	if (len == 0 || len > E1000E_ETH_MAX)
		return tx_refuse(d, E1000E_E_INVAL);
	if (!d->link_up)
		return tx_refuse(d, E1000E_E_LINK_DOWN);
	if (d->tx_busy + 1 >= E1000E_TX_DESC)
		reclaim_tx(d, d->ops->now_ns(d->ops->ctx));
	if (d->tx_busy + 1 >= E1000E_TX_DESC) /* one descriptor stays empty: TDT never meets TDH */
		return tx_refuse(d, E1000E_E_BUSY);
	buf = buf_va(d, E1000E_PG_TX_BUF0, i);
	memcpy(buf, frame, len);
	if (len < plen)
		memset(buf + len, 0, plen - len);
	/* legacy descriptor (7.2.10.1, not verified): one buffer, EOP, CRC inserted, DD asked for */
	t = tx_desc(d, i);
	t->addr = buf_pa(d, E1000E_PG_TX_BUF0, i);
	t->length = (uint16_t)plen;
	t->cso = 0;
	t->cmd = E1000E_TXD_CMD_EOP | E1000E_TXD_CMD_IFCS | E1000E_TXD_CMD_RS;
	t->status = 0;
	t->css = 0;
	t->special = 0;
	d->tx_len[i] = (uint16_t)plen;
	if (d->tx_busy == 0)
		d->tx_progress = d->ops->now_ns(d->ops->ctx);
	d->tx_busy++;
	d->tx_tail = (i + 1) % E1000E_TX_DESC;
	/* the descriptor and buffer are in memory before the tail tells the NIC */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr32(d, E1000E_REG_TDT, d->tx_tail);
	return E1000E_OK;
}

/* One written-back RX descriptor: whether its frame is good, else counted. A frame that does not
 * end in its descriptor (no EOP: with 2 KiB buffers and long packets off a frame always fits) is
 * dropped whole, through the descriptor with its EOP. */
static bool rx_good(struct e1000e_dev *d, uint8_t status, uint8_t errors, unsigned len)
{
	if (!(status & E1000E_RXD_STA_EOP)) {
		if (!d->rx_discarding) {
			d->st.bad_desc++;
			d->st.rx_dropped++;
		}
		d->rx_discarding = true;
		return false;
	}
	if (d->rx_discarding) { /* the last piece of a frame already dropped */
		d->rx_discarding = false;
		return false;
	}
	if (errors & E1000E_RXD_ERR_FRAME) {
		d->st.rx_dropped++;
		return false;
	}
	if (len == 0 || len > E1000E_BUF_SIZE || len > E1000E_ETH_MAX_RX) {
		d->st.bad_desc++;
		d->st.rx_dropped++;
		return false;
	}
	return true;
}

unsigned e1000e_rx(struct e1000e_dev *d, e1000e_rx_fn cb, void *arg)
{
	unsigned seen = 0, handed = 0;

	if (d->state != E1000E_S_RUNNING)
		return 0;
	/* at most one ring's worth, so a NIC that keeps writing cannot hold keel here */
	while (seen < E1000E_RX_DESC) {
		unsigned i = d->rx_next;
		volatile struct e1000e_rx_desc *r = rx_desc(d, i);
		uint8_t status = r->status, errors;
		unsigned len;

		if (!(status & E1000E_RXD_STA_DD))
			break;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		errors = r->errors;
		len = r->length;
		if (rx_good(d, status, errors, len)) {
			cb(arg, buf_va(d, E1000E_PG_RX_BUF0, i), len);
			d->st.rx_frames++;
			d->st.rx_bytes += len;
			d->resets_in_row = 0;
			handed++;
		}
		/* back to the NIC as new: its own buffer address (whatever was written over it) */
		r->addr = buf_pa(d, E1000E_PG_RX_BUF0, i);
		r->length = 0;
		r->csum = 0;
		r->errors = 0;
		r->special = 0;
		r->status = 0;
		d->rx_next = (i + 1) % E1000E_RX_DESC;
		seen++;
	}
	if (seen) {
		/* the descriptor just taken becomes the one keel keeps; the others are the NIC's */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		wr32(d, E1000E_REG_RDT, (d->rx_next + E1000E_RX_DESC - 1) % E1000E_RX_DESC);
	}
	return handed;
}
