/* AMD-Vi register and in-memory formats (AMD I/O Virtualization Technology (IOMMU)
 * Specification, pub 48882, rev 3.x): MMIO register offsets and bits, the Extended Feature
 * Register, device table entries, I/O page table entries, commands, event log entries and
 * interrupt remapping table entries.
 *
 * Everything here encodes or decodes values and touches no hardware, so it builds for the host
 * (tests/unit/test_amdvi.c, tests/fuzz/fuzz_amdvi.c); the caller does the MMIO and owns the
 * memory. What comes from the IOMMU (EFR, head/tail pointers, event log entries) is untrusted:
 * decoders bound every field and never index anything with it. Encoders refuse what the
 * hardware would misread (an unaligned address, a field out of range) with a negative value or
 * false rather than truncating it. Section numbers below are those of the specification. */
#ifndef KEEL_DRIVERS_AMDVI_H
#define KEEL_DRIVERS_AMDVI_H

#include "lib/types.h"

enum amdvi_error {
	AMDVI_OK = 0,
	AMDVI_EALIGN = -1, /* an address not aligned as its field requires */
	AMDVI_ERANGE = -2, /* an address past 2^52, or a count or level out of range */
	AMDVI_ENOTSUP = -3 /* the EFR says this IOMMU lacks the feature */
};

/* Physical addresses in every AMD-Vi structure are at most 52 bits (3.4: bits 51:12). */
#define AMDVI_PA_LIMIT (1ull << 52)

/* ---- 3.4 MMIO registers ---------------------------------------------------------------- */

#define AMDVI_MMIO_DEVTAB_BASE 0x0000
#define AMDVI_MMIO_CMDBUF_BASE 0x0008
#define AMDVI_MMIO_EVTLOG_BASE 0x0010
#define AMDVI_MMIO_CONTROL 0x0018
#define AMDVI_MMIO_EXCL_BASE 0x0020
#define AMDVI_MMIO_EXCL_LIMIT 0x0028
#define AMDVI_MMIO_EFR 0x0030
#define AMDVI_MMIO_CMDBUF_HEAD 0x2000
#define AMDVI_MMIO_CMDBUF_TAIL 0x2008
#define AMDVI_MMIO_EVTLOG_HEAD 0x2010
#define AMDVI_MMIO_EVTLOG_TAIL 0x2018
#define AMDVI_MMIO_STATUS 0x2020

/* 3.4 IOMMU Control Register (MMIO offset 0018h) */
#define AMDVI_CTRL_IOMMU_EN (1ull << 0)
#define AMDVI_CTRL_HT_TUN_EN (1ull << 1)
#define AMDVI_CTRL_EVENT_LOG_EN (1ull << 2)
#define AMDVI_CTRL_EVENT_INT_EN (1ull << 3)
#define AMDVI_CTRL_COM_WAIT_INT_EN (1ull << 4)
#define AMDVI_CTRL_INV_TIMEOUT_SHIFT 5 /* 3 bits, AMDVI_INV_TIMEOUT_* */
#define AMDVI_CTRL_INV_TIMEOUT_MASK (7ull << AMDVI_CTRL_INV_TIMEOUT_SHIFT)
#define AMDVI_CTRL_PASS_PW (1ull << 8)
#define AMDVI_CTRL_RES_PASS_PW (1ull << 9)
#define AMDVI_CTRL_COHERENT (1ull << 10)
#define AMDVI_CTRL_ISOC (1ull << 11)
#define AMDVI_CTRL_CMD_BUF_EN (1ull << 12)
#define AMDVI_CTRL_PPR_LOG_EN (1ull << 13)
#define AMDVI_CTRL_PPR_INT_EN (1ull << 14)
#define AMDVI_CTRL_PPR_EN (1ull << 15)
#define AMDVI_CTRL_GT_EN (1ull << 16)
#define AMDVI_CTRL_GA_EN (1ull << 17)
#define AMDVI_CTRL_XT_EN (1ull << 50)
#define AMDVI_CTRL_INT_CAP_XT_EN (1ull << 51)
/* InvTimeOut encodings: how long the IOMMU waits for a device's IOTLB invalidation. */
#define AMDVI_INV_TIMEOUT_NONE 0
#define AMDVI_INV_TIMEOUT_1MS 1
#define AMDVI_INV_TIMEOUT_10MS 2
#define AMDVI_INV_TIMEOUT_100MS 3
#define AMDVI_INV_TIMEOUT_1S 4
#define AMDVI_INV_TIMEOUT_10S 5
#define AMDVI_INV_TIMEOUT_100S 6
#define AMDVI_CTRL_INV_TIMEOUT(code) (((uint64_t)(code)&7) << AMDVI_CTRL_INV_TIMEOUT_SHIFT)

/* 3.4 Exclusion Base and Exclusion Range Limit Registers (0020h, 0028h): addresses 51:12;
 * ExclEnable and Allow (all devices excluded) in the base register. keel leaves ExclEnable clear:
 * no range bypasses. */
#define AMDVI_EXCL_EN (1ull << 0)
#define AMDVI_EXCL_ALLOW (1ull << 1)

/* 3.4 IOMMU Status Register (MMIO offset 2020h); the first three are write-1-to-clear. */
#define AMDVI_STATUS_EVENT_OVERFLOW (1ull << 0)
#define AMDVI_STATUS_EVENT_LOG_INT (1ull << 1)
#define AMDVI_STATUS_COM_WAIT_INT (1ull << 2)
#define AMDVI_STATUS_EVENT_LOG_RUN (1ull << 3)
#define AMDVI_STATUS_CMD_BUF_RUN (1ull << 4)

/* 3.4 Device Table Base Address Register (0000h): base 51:12, Size 8:0 = 4 KiB pages - 1. A device
 * table entry is 32 bytes, so 65536 requester IDs take 2 MiB = 512 pages (Size 1FFh). Writes
 * *reg for nr_entries (1..65536) device IDs at pa (4 KiB aligned, table below 2^52). */
#define AMDVI_DTE_SIZE 32
#define AMDVI_DEVTAB_MAX_ENTRIES 65536u
int amdvi_devtab_base(uint64_t pa, uint32_t nr_entries, uint64_t *reg);
/* The table size in bytes that a Device Table Base value describes. */
uint64_t amdvi_devtab_bytes(uint64_t reg);

/* 3.4 Command Buffer and Event Log Base Address Registers (0008h, 0010h): base 51:12,
 * ComLen/EventLen 59:56 = log2(entries), 1000b (256) to 1111b (32768); lower values are reserved.
 * Both rings hold 16-byte entries. Writes *reg for a ring of 2^log2_entries entries at pa (4 KiB
 * aligned, ring below 2^52). */
#define AMDVI_RING_ENTRY_SIZE 16
#define AMDVI_RING_MIN_LOG2 8
#define AMDVI_RING_MAX_LOG2 15
int amdvi_ring_base(uint64_t pa, unsigned log2_entries, uint64_t *reg);

/* 3.4 Command Buffer and Event Log Head and Tail Pointer Registers (2000h-2018h): a byte offset
 * into the ring in bits 18:4, so an entry index shifted by 4. amdvi_ring_ptr gives the register
 * value for index; amdvi_ring_index reads one back (from hardware: untrusted), false when it
 * points past a ring of 2^log2_entries entries or has bits set outside 18:4. */
uint64_t amdvi_ring_ptr(unsigned index);
bool amdvi_ring_index(uint64_t reg, unsigned log2_entries, unsigned *index);

/* ---- 3.4 Extended Feature Register (MMIO offset 0030h) ---------------------------------- */

struct amdvi_efr {
	bool pref_sup;	       /* 0: PREFETCH_IOMMU_PAGES */
	bool ppr_sup;	       /* 1: peripheral page requests */
	bool xt_sup;	       /* 2: x2APIC interrupt destinations (needs the 128-bit IRTE) */
	bool nx_sup;	       /* 3: no-execute */
	bool gt_sup;	       /* 4: guest (nested) translation */
	bool ia_sup;	       /* 6: INVALIDATE_IOMMU_ALL */
	bool ga_sup;	       /* 7: guest virtual APIC, 128-bit IRTE */
	bool he_sup;	       /* 8: hardware error registers */
	bool pc_sup;	       /* 9: performance counters */
	uint8_t hats;	       /* 11:10 raw: host address translation size */
	uint8_t gats;	       /* 13:12 raw: guest address translation size */
	uint8_t glx_sup;       /* 15:14 */
	uint8_t pas_max;       /* 36:32: PASID bits - 1 */
	bool msi_cap_mmio_sup; /* 46 */
	bool gio_sup;	       /* 48: guest I/O protection */
	bool ha_sup;	       /* 49: host access/dirty bits */
	bool hd_sup;	       /* 52: host dirty */
	bool snp_sup;	       /* 63: SEV-SNP */
	/* From hats: the deepest host page table (Mode) the IOMMU walks, 4, 5 or 6; 0 when
	 * HATS holds the reserved 11b (trust no level then). */
	unsigned host_levels;
};
void amdvi_decode_efr(uint64_t efr, struct amdvi_efr *out);

/* ---- 2.2.2 Device table entry: 256 bits, dte[0] is bits 63:0 ---------------------------- */

#define AMDVI_DTE_V (1ull << 0)	 /* dte[0] */
#define AMDVI_DTE_TV (1ull << 1) /* dte[0]: the translation fields are valid */
#define AMDVI_DTE_MODE_SHIFT 9	 /* dte[0] 11:9 */
#define AMDVI_DTE_MODE_MASK (7ull << AMDVI_DTE_MODE_SHIFT)
#define AMDVI_DTE_PT_ROOT_MASK 0x000ffffffffff000ull /* dte[0] 51:12 */
#define AMDVI_DTE_IR (1ull << 61)		     /* dte[0] */
#define AMDVI_DTE_IW (1ull << 62)		     /* dte[0] */
#define AMDVI_DTE_DOMAIN_MASK 0xffffull		     /* dte[1] 15:0 (bits 79:64) */
#define AMDVI_DTE_IV (1ull << 0)		     /* dte[2] bit 128 */
#define AMDVI_DTE_INT_TAB_LEN_SHIFT 1		     /* dte[2] 4:1 (bits 132:129) */
#define AMDVI_DTE_INT_TAB_LEN_MASK (0xfull << AMDVI_DTE_INT_TAB_LEN_SHIFT)
#define AMDVI_DTE_IRT_ROOT_MASK 0x000fffffffffffc0ull /* dte[2] 51:6 (bits 179:134) */
#define AMDVI_DTE_INIT_PASS (1ull << 56)	      /* dte[2] bit 184 */
#define AMDVI_DTE_EINT_PASS (1ull << 57)	      /* bit 185 */
#define AMDVI_DTE_NMI_PASS (1ull << 58)		      /* bit 186 */
#define AMDVI_DTE_INT_CTL_SHIFT 60		      /* dte[2] 61:60 (bits 189:188) */
#define AMDVI_DTE_INT_CTL_MASK (3ull << AMDVI_DTE_INT_CTL_SHIFT)
#define AMDVI_DTE_LINT0_PASS (1ull << 62) /* bit 190 */
#define AMDVI_DTE_LINT1_PASS (1ull << 63) /* bit 191 */
#define AMDVI_INT_CTL_ABORT 0		  /* fixed/arbitrated interrupts target aborted */
#define AMDVI_INT_CTL_FORWARD 1		  /* passed through unmapped */
#define AMDVI_INT_CTL_REMAP 2		  /* remapped through the IRT */

#define AMDVI_MAX_LEVELS 6
#define AMDVI_IRT_ALIGN 64
#define AMDVI_IRT_MAX_LOG2 11 /* IntTabLen 1011b: 2048 entries; 1100b-1111b reserved */

/* Translated DMA: V=1, TV=1, Mode=levels (1..6) with its root table at pt_root_pa (4 KiB
 * aligned), IR/IW as given, DomainID. Writes all of out[] (interrupt fields zero: IV=0, so
 * interrupts are not remapped until amdvi_dte_set_intremap or amdvi_dte_block_interrupts). */
int amdvi_dte_translate(uint64_t out[4], uint64_t pt_root_pa, unsigned levels, uint16_t domain_id,
			bool read, bool write);
/* Every DMA from the device aborted: V=1, TV=1, Mode=0, IR=IW=0 (see amdvi.c for the spec's
 * words). Writes all of out[]. */
void amdvi_dte_block(uint64_t out[4], uint16_t domain_id);
/* Interrupt remapping through the table at irt_pa (64-byte aligned) of 2^log2_entries (0..11)
 * entries: IV=1, IntCtl=10b, no pass bits. Changes only dte[2]. */
int amdvi_dte_set_intremap(uint64_t dte[4], uint64_t irt_pa, unsigned log2_entries);
/* All interrupts from the device aborted: IV=1, IntCtl=00b, no pass bits, no table. Changes
 * only dte[2]. */
void amdvi_dte_block_interrupts(uint64_t dte[4]);

/* The fields read back from an entry (one written here, or anything). */
struct amdvi_dte_fields {
	bool v, tv, ir, iw;
	unsigned mode;
	uint64_t pt_root;
	uint16_t domain_id;
	bool iv;
	unsigned int_ctl;
	unsigned int_tab_len; /* log2 of the entries, raw */
	uint64_t irt_root;
	bool init_pass, eint_pass, nmi_pass, lint0_pass, lint1_pass;
};
void amdvi_dte_read(const uint64_t dte[4], struct amdvi_dte_fields *out);

/* ---- 2.2.3 I/O page table entries ------------------------------------------------------ */

#define AMDVI_PTE_PR (1ull << 0)
#define AMDVI_PTE_NEXT_LEVEL_SHIFT 9 /* 11:9 */
#define AMDVI_PTE_NEXT_LEVEL_MASK (7ull << AMDVI_PTE_NEXT_LEVEL_SHIFT)
#define AMDVI_PTE_ADDR_MASK 0x000ffffffffff000ull /* 51:12 */
#define AMDVI_PTE_U (1ull << 59)
#define AMDVI_PTE_FC (1ull << 60)
#define AMDVI_PTE_IR (1ull << 61)
#define AMDVI_PTE_IW (1ull << 62)

/* A directory entry pointing at the table at table_pa (4 KiB aligned) of level next_level
 * (1..6), IR and IW set (the leaf decides). 0 (not present) if either is out of range. */
uint64_t amdvi_pde(uint64_t table_pa, unsigned next_level);
/* A leaf (NextLevel 0) for page_pa (4 KiB aligned), FC set, IR/IW as given. Put in a level 1
 * table it maps 4 KiB; in a level 2 or 3 table, 2 MiB or 1 GiB (page_pa then aligned so by the
 * caller). 0 (not present) if page_pa is unaligned or past 2^52. */
uint64_t amdvi_pte(uint64_t page_pa, bool r, bool w);

/* ---- 2.4 Commands: 128 bits, cmd[0] is bits 63:0, opcode in cmd[0] 63:60 ----------------- */

#define AMDVI_CMD_COMPLETION_WAIT 0x1
#define AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY 0x2
#define AMDVI_CMD_INVALIDATE_IOMMU_PAGES 0x3
#define AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE 0x5
#define AMDVI_CMD_INVALIDATE_IOMMU_ALL 0x8
#define AMDVI_CMD_OPCODE_SHIFT 60

/* Store data (64 bits) at store_pa (8-byte aligned, below 2^52) once every earlier command is
 * done, and raise the completion-wait interrupt too if interrupt. */
int amdvi_cmd_completion_wait(uint64_t cmd[2], uint64_t store_pa, uint64_t data, bool interrupt);
void amdvi_cmd_inv_devtab_entry(uint64_t cmd[2], uint16_t devid);
/* One 4 KiB page iova (4 KiB aligned) of domain domid; pde: cached directory entries too. */
int amdvi_cmd_inv_page(uint64_t cmd[2], uint16_t domid, uint64_t iova, bool pde);
/* Every page of domain domid. */
void amdvi_cmd_inv_all_pages(uint64_t cmd[2], uint16_t domid, bool pde);
void amdvi_cmd_inv_interrupt_table(uint64_t cmd[2], uint16_t devid);
/* AMDVI_ENOTSUP (cmd[] zeroed) when efr->ia_sup is clear. */
int amdvi_cmd_inv_all(uint64_t cmd[2], const struct amdvi_efr *efr);

/* ---- 2.5 Event log entries: 128 bits, code in bits 63:60 -------------------------------- */

#define AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY 0x1
#define AMDVI_EV_IO_PAGE_FAULT 0x2
#define AMDVI_EV_DEV_TAB_HARDWARE_ERROR 0x3
#define AMDVI_EV_PAGE_TAB_HARDWARE_ERROR 0x4
#define AMDVI_EV_ILLEGAL_COMMAND_ERROR 0x5
#define AMDVI_EV_COMMAND_HARDWARE_ERROR 0x6
#define AMDVI_EV_IOTLB_INV_TIMEOUT 0x7
#define AMDVI_EV_INVALID_DEVICE_REQUEST 0x8

struct amdvi_event {
	uint64_t raw[2];
	uint8_t code;	/* 4 bits */
	bool known;	/* one of the AMDVI_EV_* above; otherwise only raw and code are set */
	bool has_devid; /* devid is the requester (bus << 8 | dev << 3 | fn) */
	bool has_domid; /* domid is meaningful (GN=0 in an event that carries it) */
	bool has_pasid; /* GN=1: pasid instead of domid */
	uint16_t devid;
	uint16_t domid;
	uint32_t pasid; /* 20 bits */
	uint64_t addr;	/* by code: the DMA, DTE, PTE or command address */
	uint16_t flags; /* the raw 12-bit flags field, bits 59:48 */
	bool gn, nx, user, interrupt, present, write, perm, rsvd, translation;
	uint8_t type; /* flags 10:9, for the hardware error events */
};
/* Decodes raw[] (as read from the log: untrusted). True for a known code. */
bool amdvi_decode_event(const uint64_t raw[2], struct amdvi_event *ev);
/* One boot-log line (no newline), e.g.
 * "fault from 00:04.0 write at 0x7f000 (IO_PAGE_FAULT, domain 3)"; returns what ksnprintf
 * returns. */
int amdvi_describe_event(const struct amdvi_event *ev, char *buf, size_t size);
const char *amdvi_event_name(uint8_t code); /* "UNKNOWN" for others */

/* ---- 2.2.5 Interrupt remapping table entries ------------------------------------------- */

#define AMDVI_IRTE_INT_TYPE_FIXED 0
#define AMDVI_IRTE_INT_TYPE_ARBITRATED 1

struct amdvi_irte {
	bool remap_en;	  /* RemapEn: the entry is valid */
	bool sup_iopf;	  /* SupIOPF: no event logged when the entry is invalid */
	uint8_t int_type; /* 3 bits: AMDVI_IRTE_INT_TYPE_* */
	bool rq_eoi;
	bool dm;	 /* destination mode: 1 logical */
	bool guest_mode; /* read back only; the encoders always write 0 */
	uint32_t dest;	 /* APIC ID: 8 bits (32-bit IRTE), 32 bits (128-bit IRTE) */
	uint8_t vector;
};
/* 2.2.5 the 32-bit entry (GAEn=0). False (nothing written) for a destination above 255 or an
 * IntType other than fixed or arbitrated. */
bool amdvi_irte32_encode(const struct amdvi_irte *e, uint32_t *out);
void amdvi_irte32_decode(uint32_t raw, struct amdvi_irte *out);
/* 2.2.5 the 128-bit entry (GAEn=1, required for x2APIC destinations), GuestMode=0. False
 * (nothing written) for an IntType other than fixed or arbitrated. */
bool amdvi_irte128_encode(const struct amdvi_irte *e, uint64_t out[2]);
void amdvi_irte128_decode(const uint64_t raw[2], struct amdvi_irte *out);

/* 2.2.5.1 which IRTE an MSI with data msi_data selects: data 10:0 for the fixed (MT 000b) and
 * arbitrated (001b) message types. False for other message types (they go by the DTE's pass
 * bits, not the table) and for an index past a table of 2^log2_entries entries (the IOMMU
 * aborts those). */
bool amdvi_msi_index(uint32_t msi_data, unsigned log2_entries, unsigned *index);

#endif
