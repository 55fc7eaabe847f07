/* Intel 82574L Gigabit Ethernet controller (what QEMU's `-device e1000e` models): the registers,
 * bits and descriptor layouts keel's driver (drivers/e1000e.c) uses or checks. Registers are
 * 32-bit, little-endian, in memory BAR 0 (128 KiB).
 *
 * Source: the Intel 82574 GbE Controller Family datasheet (doc. 317694), chapter 10 (register
 * descriptions) and chapter 7 (inline functions: descriptors and rings). Section 7.1.7.2 (null
 * descriptor padding) and 7.1.8 (receive descriptor queue structure) were checked against the
 * datasheet's text; the other section numbers below are from memory of that document's layout
 * and NOT verified. Offsets and bits were cross-checked against what the public e1000-family
 * documentation and QEMU's model (hw/net/e1000e_core.c) name, facts only. */
#ifndef KEEL_DRIVERS_E1000E_REGS_H
#define KEEL_DRIVERS_E1000E_REGS_H

#include "lib/types.h"

/* ---- General registers (10.2.2, not verified) ------------------------------------------------ */
#define E1000E_REG_CTRL 0x0000	 /* Device Control */
#define E1000E_REG_STATUS 0x0008 /* Device Status, read only */
#define E1000E_REG_EERD 0x0014	 /* EEPROM Read */
#define E1000E_REG_ICR 0x00C0	 /* Interrupt Cause Read (read clears) */
#define E1000E_REG_IMC 0x00D8	 /* Interrupt Mask Clear: a 1 masks that cause */
#define E1000E_REG_RCTL 0x0100	 /* Receive Control */
#define E1000E_REG_TCTL 0x0400	 /* Transmit Control */
#define E1000E_REG_TIPG 0x0410	 /* Transmit Inter Packet Gap */
#define E1000E_REG_RDBAL 0x2800	 /* Receive Descriptor Base Low (queue 0) */
#define E1000E_REG_RDBAH 0x2804	 /* Receive Descriptor Base High */
#define E1000E_REG_RDLEN 0x2808	 /* Receive Descriptor ring Length, bytes, multiple of 128 */
#define E1000E_REG_RDH 0x2810	 /* Receive Descriptor Head */
#define E1000E_REG_RDT 0x2818	 /* Receive Descriptor Tail */
#define E1000E_REG_TDBAL 0x3800	 /* Transmit Descriptor Base Low (queue 0) */
#define E1000E_REG_TDBAH 0x3804
#define E1000E_REG_TDLEN 0x3808 /* bytes, multiple of 128 */
#define E1000E_REG_TDH 0x3810
#define E1000E_REG_TDT 0x3818
#define E1000E_REG_RFCTL 0x5008 /* Receive Filter Control */
#define E1000E_REG_MTA 0x5200	/* Multicast Table Array: 128 dwords */
#define E1000E_MTA_DWORDS 128
#define E1000E_REG_RAL0 0x5400	/* Receive Address Low, entry 0: MAC bytes 0-3 */
#define E1000E_REG_RAH0 0x5404	/* Receive Address High, entry 0: MAC bytes 4-5, AV */
#define E1000E_BAR0_MIN 0x20000 /* BAR 0 is 128 KiB */

/* CTRL (10.2.2.1, not verified) */
#define E1000E_CTRL_FD (1u << 0)      /* full duplex */
#define E1000E_CTRL_SLU (1u << 6)     /* set link up */
#define E1000E_CTRL_FRCSPD (1u << 11) /* force speed */
#define E1000E_CTRL_FRCDPX (1u << 12) /* force duplex */
#define E1000E_CTRL_RST (1u << 26)    /* device reset, self-clearing */
#define E1000E_CTRL_PHY_RST (1u << 31)

/* STATUS (10.2.2.2, not verified) */
#define E1000E_STATUS_FD (1u << 0)
#define E1000E_STATUS_LU (1u << 1) /* link up */

/* EERD (10.2.2.4, not verified): on the 82571 family and the 82574 START is bit 0, DONE bit 1,
 * the word address bits 15:2 and the data read bits 31:16 (the older 8254x put DONE at bit 4);
 * QEMU's model uses the same layout and resets EERD with DONE set. */
#define E1000E_EERD_START (1u << 0)
#define E1000E_EERD_DONE (1u << 1)
#define E1000E_EERD_ADDR(w) ((uint32_t)(w) << 2)
#define E1000E_EERD_DATA(v) ((uint16_t)((v) >> 16))
#define E1000E_EEPROM_MAC_WORD0 0 /* words 0-2 hold the Ethernet address, low byte first */

/* IMC: all causes */
#define E1000E_IMC_ALL 0xFFFFFFFFu

/* RCTL (10.2.5.1, not verified) */
#define E1000E_RCTL_EN (1u << 1)
#define E1000E_RCTL_SBP (1u << 2) /* store bad packets */
#define E1000E_RCTL_UPE (1u << 3) /* unicast promiscuous */
#define E1000E_RCTL_MPE (1u << 4) /* multicast promiscuous */
#define E1000E_RCTL_LPE (1u << 5) /* long packets (over 1522 bytes) */
#define E1000E_RCTL_RDMTS_HALF (0u << 8)
#define E1000E_RCTL_DTYP_LEGACY (0u << 10) /* 01b would be packet split */
#define E1000E_RCTL_BAM (1u << 15)	   /* accept broadcasts */
#define E1000E_RCTL_BSIZE_2048 (0u << 16)  /* with BSEX 0 */
#define E1000E_RCTL_BSEX (1u << 25)
#define E1000E_RCTL_SECRC (1u << 26) /* strip the Ethernet CRC */

/* RFCTL (10.2.5.?, not verified): EXSTEN 1 selects the extended receive descriptor; the legacy
 * format (7.1.4, not verified) is used while it is 0 and RCTL.DTYP is 00b. QEMU's model decides
 * the same way (legacy unless RFCTL.EXSTEN). */
#define E1000E_RFCTL_EXSTEN (1u << 15)

/* TCTL (10.2.6.1, not verified) */
#define E1000E_TCTL_EN (1u << 1)
#define E1000E_TCTL_PSP (1u << 3)		  /* pad short packets */
#define E1000E_TCTL_CT(n) ((uint32_t)(n) << 4)	  /* collision threshold, 11:4 */
#define E1000E_TCTL_COLD(n) ((uint32_t)(n) << 12) /* collision distance, 21:12 */
#define E1000E_TCTL_RTLC (1u << 24)		  /* retransmit on late collision */
#define E1000E_TCTL_CT_DEFAULT 0x0F		  /* the recommended 15 */
#define E1000E_TCTL_COLD_FULL_DUPLEX 0x3F	  /* 64-byte times, full duplex */

/* TIPG (10.2.6.?, not verified): IPGT 9:0, IPGR1 19:10, IPGR2 29:20; the values recommended for
 * copper are 8, 8 and 6 (the register's default, 0x00602008, which QEMU's model resets it to). */
#define E1000E_TIPG(ipgt, ipgr1, ipgr2)                                                            \
	((uint32_t)(ipgt) | (uint32_t)(ipgr1) << 10 | (uint32_t)(ipgr2) << 20)
#define E1000E_TIPG_COPPER E1000E_TIPG(8, 8, 6)

/* RAH (10.2.5.?, not verified): bytes 4-5 of the address in 15:0, Address Valid at bit 31 */
#define E1000E_RAH_AV (1u << 31)

/* ---- Descriptors ---------------------------------------------------------------------------- */
#define E1000E_DESC_SIZE 16
#define E1000E_RING_ALIGN 128 /* RDLEN/TDLEN: multiples of 128 bytes; bases 16-byte aligned */

/* Legacy receive descriptor (7.1.4, not verified). The device writes length, checksum, status,
 * errors and special back; addr is keel's. */
struct e1000e_rx_desc {
	uint64_t addr;
	uint16_t length; /* bytes written to the buffer (without the CRC: RCTL.SECRC) */
	uint16_t csum;
	uint8_t status;
	uint8_t errors;
	uint16_t special;
};

#define E1000E_RXD_STA_DD (1u << 0)  /* descriptor done */
#define E1000E_RXD_STA_EOP (1u << 1) /* end of packet: the frame's last descriptor */
/* RX errors (7.1.4.3, not verified): CE CRC/alignment, SE symbol, SEQ sequence, CXE carrier
 * extension, RXE data error; bits 5 and 6 (TCP/UDP and IP checksum) only judge the payload. */
#define E1000E_RXD_ERR_CE (1u << 0)
#define E1000E_RXD_ERR_SE (1u << 1)
#define E1000E_RXD_ERR_SEQ (1u << 2)
#define E1000E_RXD_ERR_CXE (1u << 4)
#define E1000E_RXD_ERR_RXE (1u << 7)
#define E1000E_RXD_ERR_FRAME                                                                       \
	(E1000E_RXD_ERR_CE | E1000E_RXD_ERR_SE | E1000E_RXD_ERR_SEQ | E1000E_RXD_ERR_CXE |         \
	 E1000E_RXD_ERR_RXE)

/* Legacy transmit descriptor (7.2.10.1, not verified), DEXT = 0. */
struct e1000e_tx_desc {
	uint64_t addr;
	uint16_t length;
	uint8_t cso; /* checksum offset (unused: 0) */
	uint8_t cmd;
	uint8_t status; /* DD 0; the upper nibble reserved */
	uint8_t css;
	uint16_t special;
};

#define E1000E_TXD_CMD_EOP (1u << 0)  /* end of packet */
#define E1000E_TXD_CMD_IFCS (1u << 1) /* insert the CRC */
#define E1000E_TXD_CMD_RS (1u << 3)   /* report status: write DD back */
#define E1000E_TXD_CMD_DEXT (1u << 5) /* 0: legacy */
#define E1000E_TXD_STA_DD (1u << 0)

_Static_assert(sizeof(struct e1000e_rx_desc) == E1000E_DESC_SIZE, "RX descriptor is 16 bytes");
_Static_assert(sizeof(struct e1000e_tx_desc) == E1000E_DESC_SIZE, "TX descriptor is 16 bytes");

/* Ethernet frame sizes without the CRC (RCTL.SECRC strips it; TX inserts it, CMD.IFCS). */
#define E1000E_ETH_MIN 60      /* shorter frames are padded (TCTL.PSP, and keel pads too) */
#define E1000E_ETH_MAX 1514    /* what keel transmits: no jumbo frames */
#define E1000E_ETH_MAX_RX 1518 /* what keel accepts: 1514 plus an 802.1Q tag */

#endif
