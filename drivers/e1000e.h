/* keel's host NIC driver core for the Intel 82574L (QEMU's `-device e1000e` on q35);
 * drivers/e1000e_regs.h has the registers and descriptor layouts.
 *
 * The core reaches the NIC only through struct e1000e_ops (32-bit MMIO of BAR 0 and a monotonic
 * clock) and memory keel owns: E1000E_DMA_PAGES pages of 4 KiB with their physical addresses,
 * handed over at e1000e_init. So the same code runs in keel and on the host, where
 * tests/unit/test_e1000e.c drives it against a fake 82574L and tests/fuzz/fuzz_e1000e.c lets the
 * fuzzer play the NIC.
 *
 * Everything the NIC hands back is hostile: register values, and the length, status and errors
 * it writes back into descriptors are checked before use; no device value is ever used as an
 * index (progress is seen only through descriptor DD bits, never through RDH/TDH). A frame the
 * NIC got wrong is dropped and counted; a NIC that stops answering (STATUS reads all ones, reset
 * not completing, transmit not progressing) is reset, and after E1000E_MAX_RESETS in a row
 * without doing any work it is declared failed. No function here waits: bring-up and resets
 * advance in e1000e_poll, called with the current time.
 *
 * There so far: global reset (CTRL.RST), interrupts masked, the MAC address from RAL0/RAH0 (or
 * from the EEPROM through EERD when RAH0 has no valid address), link up forced (CTRL.SLU) and
 * followed from STATUS.LU, one legacy RX ring and one legacy TX ring of 32 descriptors with
 * 2 KiB buffers, promiscuous receive (unicast and multicast: the VMs behind keel's switch keep
 * their own MACs), the CRC stripped on receive and inserted on transmit, polling.
 *
 * Not there yet: interrupts (MSI-X), checksum and segmentation offloads, jumbo frames, flow
 * control settings beyond the defaults, GIO master disable before a reset, and the glue in keel
 * (PCI lookup, BAR 0 mapping, bus mastering, the DMA pages, calling e1000e_poll and e1000e_rx,
 * the switch uplink, logging link changes once). */
#ifndef KEEL_DRIVERS_E1000E_H
#define KEEL_DRIVERS_E1000E_H

#include "drivers/e1000e_regs.h"
#include "lib/types.h"

/* Access to BAR 0 (offsets within it, 4-byte aligned). */
struct e1000e_ops {
	void *ctx;
	uint32_t (*read32)(void *ctx, uint32_t off);
	void (*write32)(void *ctx, uint32_t off, uint32_t v);
	/* monotonic nanoseconds: stamps when a frame was queued (transmit progress counts from
	 * there) */
	uint64_t (*now_ns)(void *ctx);
};

/* One page of memory keel owns, for the NIC to DMA to and from. */
struct e1000e_dma_page {
	void *va;    /* keel's mapping, 4 KiB aligned, write-back cacheable (coherent DMA) */
	uint64_t pa; /* the address the NIC uses, 4 KiB aligned */
};

/* Sizes the driver chooses. */
#define E1000E_PAGE_SIZE 4096u
#define E1000E_RX_DESC 32 /* RDLEN 512 bytes: a multiple of 128 */
#define E1000E_TX_DESC 32
#define E1000E_BUF_SIZE 2048u /* RCTL.BSIZE 2048; a TX slice is as large */
#define E1000E_BUFS_PER_PAGE (E1000E_PAGE_SIZE / E1000E_BUF_SIZE)
#define E1000E_MAX_RESETS 3 /* resets in a row without any frame moving before giving up */
/* CTRL.RST is first read back after 1 ms and must clear within 100 ms: keel's margins, not the
 * datasheet's figures (not verified); QEMU's model clears it at once. Waiting for EECD.AUTO_RD
 * (the EEPROM auto-read after a reset) is not done yet: RAH0.AV stands for it. */
#define E1000E_RST_SETTLE_NS 1000000ull
#define E1000E_RST_TIMEOUT_NS 100000000ull
#define E1000E_EERD_TIMEOUT_NS 10000000ull /* one EEPROM word within 10 ms */
#define E1000E_TX_TIMEOUT_NS 2000000000ull /* transmit must progress within 2 s with link up */

_Static_assert(E1000E_RX_DESC *E1000E_DESC_SIZE % E1000E_RING_ALIGN == 0, "RDLEN");
_Static_assert(E1000E_TX_DESC *E1000E_DESC_SIZE % E1000E_RING_ALIGN == 0, "TDLEN");
_Static_assert(E1000E_RX_DESC *E1000E_DESC_SIZE <= E1000E_PAGE_SIZE, "RX ring in one page");
_Static_assert(E1000E_TX_DESC *E1000E_DESC_SIZE <= E1000E_PAGE_SIZE, "TX ring in one page");

/* The DMA pages: the RX ring, the TX ring, then the RX buffers and the TX buffers, two 2 KiB
 * buffers per page (descriptor i uses page i / 2, half i % 2). */
enum {
	E1000E_PG_RX_RING,
	E1000E_PG_TX_RING,
	E1000E_PG_RX_BUF0,
	E1000E_PG_TX_BUF0 = E1000E_PG_RX_BUF0 + E1000E_RX_DESC / E1000E_BUFS_PER_PAGE,
	E1000E_DMA_PAGES = E1000E_PG_TX_BUF0 + E1000E_TX_DESC / E1000E_BUFS_PER_PAGE,
};

/* Return values of e1000e_init and e1000e_tx. */
enum e1000e_err {
	E1000E_OK = 0,
	E1000E_E_BUSY = -1,	 /* the TX ring is full: frame dropped (counted) */
	E1000E_E_INVAL = -2,	 /* bad pages (init), or a frame of 0 or over 1514 bytes */
	E1000E_E_NOT_READY = -3, /* bring-up or a reset under way, or failed: frame dropped */
	E1000E_E_LINK_DOWN = -4, /* no link: frame dropped */
};

enum e1000e_state {
	E1000E_S_OFF,	    /* after e1000e_init: the next poll starts the reset */
	E1000E_S_RESETTING, /* CTRL.RST written, waiting for it to clear */
	E1000E_S_EEPROM,    /* reading the MAC address through EERD */
	E1000E_S_RUNNING,   /* rings live: frames move while STATUS.LU is 1 */
	E1000E_S_FAILED,    /* given up (why says why) */
};

/* Counters: frames and bytes as handed up or reclaimed after transmission. */
struct e1000e_stats {
	uint64_t rx_frames, rx_bytes;
	uint64_t tx_frames, tx_bytes;
	uint64_t rx_dropped;   /* frame errors, bad lengths, frames over several descriptors */
	uint64_t tx_dropped;   /* refused by e1000e_tx (ring full, link down, not running, bad
				   * length) or lost in flight by a reset */
	uint64_t bad_desc;     /* write-backs a well-behaved NIC never makes (bad length, no EOP) */
	uint64_t link_changes; /* STATUS.LU changes seen: the glue logs each once */
	unsigned resets;       /* resets after bring-up's own */
	unsigned tx_timeouts;  /* transmit not progressing */
	unsigned gone;	       /* STATUS read all ones (surprise removal) */
};

/* A received frame: len 1..E1000E_ETH_MAX_RX bytes at buf, in one of the driver's RX buffers,
 * valid only during the call. The frame's bytes are the NIC's: hostile, like a guest's. */
typedef void (*e1000e_rx_fn)(void *arg, const void *buf, unsigned len);

struct e1000e_dev {
	const struct e1000e_ops *ops;
	uint64_t bar_size;
	struct e1000e_dma_page dma[E1000E_DMA_PAGES];
	enum e1000e_state state;
	const char *why; /* why it failed or was last reset */
	uint64_t since;	 /* when the current reset or EEPROM word started */
	bool counted;	 /* the current reset counts (bring-up's first one does not) */
	unsigned resets_in_row;

	uint8_t mac[6];
	bool mac_from_eeprom;
	unsigned eeprom_word;
	uint16_t eeprom[3];

	bool link_up;

	unsigned rx_next;     /* next RX descriptor to look at */
	bool rx_discarding;   /* inside a frame over several descriptors: drop up to its EOP */
	unsigned tx_tail;     /* next TX descriptor keel fills */
	unsigned tx_clean;    /* oldest TX descriptor not reclaimed */
	unsigned tx_busy;     /* descriptors between them */
	uint64_t tx_progress; /* last time the TX ring was empty or a descriptor completed */
	uint16_t tx_len[E1000E_TX_DESC];

	struct e1000e_stats st;
};

/* Takes the ops, BAR 0's size and the DMA pages (copied; the pages stay the driver's until the
 * device is failed and its bus mastering turned off). Touches no register: the first
 * e1000e_poll starts the reset. Returns E1000E_E_INVAL if a page is NULL or not 4 KiB aligned,
 * or BAR 0 is smaller than 128 KiB. */
int e1000e_init(struct e1000e_dev *d, const struct e1000e_ops *ops, uint64_t bar_size,
		const struct e1000e_dma_page pages[E1000E_DMA_PAGES]);

/* Advances bring-up or a reset, follows the link, reclaims transmitted frames and watches for
 * a NIC that stopped answering. Returns the state. */
enum e1000e_state e1000e_poll(struct e1000e_dev *d, uint64_t now);

/* Copies one frame (1..1514 bytes without the CRC; shorter than 60 is padded with zeros) into a
 * TX buffer and hands it to the NIC. Returns E1000E_OK or a negative enum e1000e_err; a refused
 * frame is counted in tx_dropped. */
int e1000e_tx(struct e1000e_dev *d, const void *frame, unsigned len);

/* Hands each good frame received since the last call to cb (at most one ring's worth), then
 * gives the descriptors back to the NIC. Returns the number of frames handed up. cb may call
 * e1000e_tx, not e1000e_rx or e1000e_poll. */
unsigned e1000e_rx(struct e1000e_dev *d, e1000e_rx_fn cb, void *arg);

const char *e1000e_state_name(enum e1000e_state s);

#endif
