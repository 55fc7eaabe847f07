/* Intel VT-d remapping units (Intel Virtualization Technology for Directed I/O, Architecture
 * Specification rev 4.x; section numbers below are that document's): the register offsets and bits,
 * the capability decode, the legacy-mode (not scalable-mode) root and context entries, the 128-bit
 * queued-invalidation descriptors, the fault recording registers and the interrupt-remapping table
 * entries and remappable MSI format.
 *
 * Everything here encodes or decodes values and touches no hardware: the caller maps the register
 * set and does the MMIO, this file says what to write and what a read means, so it runs unchanged
 * on the host (tests/unit/test_vtd.c, tests/fuzz/fuzz_vtd.c).
 *
 * CAP, ECAP and fault records come from the hardware and are treated as untrusted: every decoded
 * field is bounded, and vtd_caps_usable refuses a unit whose values would make keel read or write
 * outside its register set or rely on a feature it does not have. */
#ifndef KEEL_DRIVERS_VTD_H
#define KEEL_DRIVERS_VTD_H

#include "lib/types.h"

/* ---- 11.4: register offsets from the unit's base ---- */
#define VTD_REG_VER 0x00     /* 32-bit, version */
#define VTD_REG_CAP 0x08     /* 64-bit, capabilities */
#define VTD_REG_ECAP 0x10    /* 64-bit, extended capabilities */
#define VTD_REG_GCMD 0x18    /* 32-bit, global command */
#define VTD_REG_GSTS 0x1c    /* 32-bit, global status */
#define VTD_REG_RTADDR 0x20  /* 64-bit, root table address */
#define VTD_REG_CCMD 0x28    /* 64-bit, context command (register-based invalidation) */
#define VTD_REG_FSTS 0x34    /* 32-bit, fault status */
#define VTD_REG_FECTL 0x38   /* 32-bit, fault event control */
#define VTD_REG_FEDATA 0x3c  /* 32-bit, fault event interrupt data */
#define VTD_REG_FEADDR 0x40  /* 32-bit, fault event interrupt address */
#define VTD_REG_FEUADDR 0x44 /* 32-bit, fault event upper address (x2APIC destinations) */
#define VTD_REG_AFLOG 0x58   /* 64-bit, advanced fault log */
#define VTD_REG_PMEN 0x64    /* 32-bit, protected memory enable */
#define VTD_REG_IQH 0x80     /* 64-bit, invalidation queue head */
#define VTD_REG_IQT 0x88     /* 64-bit, invalidation queue tail */
#define VTD_REG_IQA 0x90     /* 64-bit, invalidation queue address */
#define VTD_REG_ICS 0x9c     /* 32-bit, invalidation completion status */
#define VTD_REG_IECTL 0xa0   /* 32-bit, invalidation event control */
#define VTD_REG_IEDATA 0xa4  /* 32-bit, invalidation event data */
#define VTD_REG_IEADDR 0xa8  /* 32-bit, invalidation event address */
#define VTD_REG_IEUADDR 0xac /* 32-bit, invalidation event upper address */
#define VTD_REG_IQERCD 0xb0  /* 64-bit, invalidation queue error record */
#define VTD_REG_IRTA 0xb8    /* 64-bit, interrupt remapping table address */
/* The architectural block ends with the page-request registers (PEUADDR at 0xec); the IOTLB and
 * fault recording registers sit wherever ECAP.IRO and CAP.FRO say, at or above this. */
#define VTD_REG_ARCH_END 0xf0
/* 11.4.8: the IOTLB registers at ECAP.IRO * 16: IVA (address), then IOTLB (command) 8 above. */
#define VTD_REG_IVA_OFF 0x0
#define VTD_REG_IOTLB_OFF 0x8
#define VTD_FAULT_REG_SIZE 16 /* 11.4.14: one fault recording register is 128 bits */

/* 11.4.4.1 GCMD and 11.4.4.2 GSTS: a command bit and its status bit share a position. GCMD must be
 * written as GSTS's current enable bits (TE, QIE, IRE, CFI) plus the one bit that changes; the
 * one-shot bits (SRTP, SFL, WBF, SIRTP) read back as status in GSTS. */
#define VTD_GCMD_TE (1u << 31)	  /* translation enable */
#define VTD_GCMD_SRTP (1u << 30)  /* set root table pointer */
#define VTD_GCMD_SFL (1u << 29)	  /* set fault log */
#define VTD_GCMD_EAFL (1u << 28)  /* enable advanced fault logging */
#define VTD_GCMD_WBF (1u << 27)	  /* write buffer flush (only when CAP.RWBF) */
#define VTD_GCMD_QIE (1u << 26)	  /* queued invalidation enable */
#define VTD_GCMD_IRE (1u << 25)	  /* interrupt remapping enable */
#define VTD_GCMD_SIRTP (1u << 24) /* set interrupt remap table pointer */
#define VTD_GCMD_CFI (1u << 23)	  /* compatibility format interrupts (leave clear: blocks them) */
#define VTD_GSTS_TES VTD_GCMD_TE
#define VTD_GSTS_RTPS VTD_GCMD_SRTP
#define VTD_GSTS_FLS VTD_GCMD_SFL
#define VTD_GSTS_AFLS VTD_GCMD_EAFL
#define VTD_GSTS_WBFS VTD_GCMD_WBF
#define VTD_GSTS_QIES VTD_GCMD_QIE
#define VTD_GSTS_IRES VTD_GCMD_IRE
#define VTD_GSTS_IRTPS VTD_GCMD_SIRTP
#define VTD_GSTS_CFIS VTD_GCMD_CFI
/* The GSTS bits that are states, not one-shot acknowledgements: what a GCMD write must repeat. */
#define VTD_GSTS_ENABLES (VTD_GSTS_TES | VTD_GSTS_QIES | VTD_GSTS_IRES | VTD_GSTS_CFIS)

/* 11.4.3 RTADDR: root table base bits 63:12; bits 11:10 TTM, 00 = legacy mode (what keel uses). */
/* 11.4.7.1 FSTS (the status bits are RW1C; FRI is read-only) */
#define VTD_FSTS_PFO (1u << 0) /* primary fault overflow */
#define VTD_FSTS_PPF (1u << 1) /* primary pending fault: some fault recording register has F set */
#define VTD_FSTS_IQE (1u << 4) /* invalidation queue error (IQH points at the bad descriptor) */
#define VTD_FSTS_ICE (1u << 5) /* invalidation completion error (device-TLB) */
#define VTD_FSTS_ITE (1u << 6) /* invalidation time-out error (device-TLB) */
#define VTD_FSTS_FRI_SHIFT 8   /* fault record index, bits 15:8: the first register to look at */
#define VTD_FSTS_FRI_MASK (0xffu << VTD_FSTS_FRI_SHIFT)
#define VTD_FSTS_FRI(fsts) (((fsts)&VTD_FSTS_FRI_MASK) >> VTD_FSTS_FRI_SHIFT)
#define VTD_FSTS_ERRORS (VTD_FSTS_PFO | VTD_FSTS_IQE | VTD_FSTS_ICE | VTD_FSTS_ITE)
/* 11.4.7.2 FECTL and 11.4.9.5 IECTL: interrupt mask, interrupt pending */
#define VTD_FECTL_IM (1u << 31)
#define VTD_FECTL_IP (1u << 30)
#define VTD_IECTL_IM (1u << 31)
#define VTD_IECTL_IP (1u << 30)
/* 11.4.9.4 ICS: invalidation wait descriptor complete (RW1C) */
#define VTD_ICS_IWC (1u << 0)

/* ---- 11.4.2 and 11.4.3: capabilities ---- */
struct vtd_caps {
	/* CAP */
	uint8_t nd_bits;	   /* domain-id width: 4 + 2 * ND (ND 7 is reserved: 0 here) */
	bool afl;		   /* advanced fault logging */
	bool rwbf;		   /* required write-buffer flushing after table updates */
	bool cm;		   /* caching mode: not-present entries are cached too (emulated) */
	uint8_t sagaw;		   /* supported AGAWs, bits 4:0: bit 1 39-bit, 2 48-bit, 3 57-bit */
	uint8_t mgaw;		   /* maximum guest address width in bits, 1..64 */
	bool zlr;		   /* zero-length reads */
	uint32_t fault_reg_offset; /* FRO * 16: the first fault recording register */
	bool sllps_2m, sllps_1g;   /* second-level large pages */
	bool psi;		   /* page-selective IOTLB invalidation */
	uint16_t nr_fault_regs;	   /* NFR + 1: 1..256 */
	uint8_t mamv;  /* the largest address mask a page-selective invalidation takes */
	bool dwd, drd; /* write / read draining of IOTLB invalidations */
	bool fl1gp;    /* first-level 1 GiB pages */
	bool pi;       /* posted interrupts */
	bool fl5lp;    /* first-level 5-level paging */
	/* ECAP */
	bool coherent; /* C: page walks snoop the caches (else flush table lines) */
	bool qi;       /* queued invalidation */
	bool dt;       /* device-TLB */
	bool ir;       /* interrupt remapping */
	bool eim;      /* extended interrupt mode: 32-bit x2APIC destinations */
	bool pt;       /* pass-through translation type */
	bool sc;       /* snoop control: the SNP bit of second-level entries is honoured */
	uint32_t iotlb_reg_offset; /* IRO * 16: the IVA register, IOTLB register 8 above */
	uint8_t mhmv;		   /* handle mask value for interrupt-entry-cache invalidation */
	bool nest, prs, srs, smts; /* nesting, page requests, supervisor requests, scalable mode */
	bool slts;		   /* second-level translation (scalable mode) */
	uint8_t pss;		   /* PASID size supported minus one */
};

/* CAP/ECAP bits that other code tests on a raw register value (11.4.2, 11.4.3) */
#define VTD_CAP_RWBF (1ull << 4)
#define VTD_CAP_CM (1ull << 7)
#define VTD_ECAP_C (1ull << 0)
#define VTD_ECAP_QI (1ull << 1)
#define VTD_ECAP_IR (1ull << 3)
#define VTD_ECAP_EIM (1ull << 4)

void vtd_decode_caps(uint64_t cap, uint64_t ecap, struct vtd_caps *out);

/* The second-level paging depth keel programs: 4 when a 4-level (48-bit AGAW) table is supported,
 * else 3 (39-bit AGAW), else 0 (no level keel builds; 5-level alone is refused). */
int vtd_pick_levels(const struct vtd_caps *caps);

/* Whether keel can drive the unit whose register set is reg_size bytes (4 KiB << DRHD size). False
 * with a short reason in *why (why may be NULL) when: no queued invalidation, no 3- or 4-level
 * second-level tables, a reserved ND, the fault recording or IOTLB registers overlapping the
 * architectural block, each other, or running past reg_size. */
bool vtd_caps_usable(const struct vtd_caps *caps, uint64_t reg_size, const char **why);

/* Address of fault recording register i (0 <= i < nr_fault_regs) from the unit's base. */
static inline uint32_t vtd_fault_reg(const struct vtd_caps *caps, unsigned i)
{
	return caps->fault_reg_offset + i * VTD_FAULT_REG_SIZE;
}

/* ---- 9.1, 9.3: legacy-mode root and context entries, two 64-bit words each (lo, hi) ---- */
enum vtd_error {
	VTD_EINVAL = -1,  /* an argument out of its field's range */
	VTD_EALIGN = -2,  /* an address not aligned as its field requires */
	VTD_ENOTSUP = -3, /* the unit lacks what the request needs (PSI, a mask above MAMV) */
	VTD_EDOMAIN = -4, /* a domain id of 0 or wider than CAP.ND allows */
};

/* One of the root table's 256 entries (one per bus): P and the context table's 4 KiB address. */
void vtd_root_entry(uint64_t ctx_table_pa, uint64_t out[2]);
/* A context entry (one per device/function of a bus) that translates untranslated requests (TT 00)
 * through a second-level table of `levels` (3 or 4) rooted at slpt_root_pa, tagged with domain id
 * did, faults recorded (FPD 0). did must be non-zero (with CAP.CM set, 0 is the id hardware caches
 * not-present entries under, 6.2.2.1; keel never uses it) and fit in nd_bits. 0, or a vtd_error. */
int vtd_context_entry(uint64_t slpt_root_pa, unsigned levels, uint16_t did, unsigned nd_bits,
		      uint64_t out[2]);
/* A context entry with P clear: the unit blocks every DMA request from that requester ID and
 * records a fault (reason 0x2), which is what a device not assigned to anyone gets. A root entry
 * with P clear blocks a whole bus the same way (reason 0x1); all-zero tables block everything. */
void vtd_context_entry_blocked(uint64_t out[2]);

/* 9.8: second-level paging-entry bits, for a generic page-table builder */
#define VTD_SL_R (1ull << 0)
#define VTD_SL_W (1ull << 1)
#define VTD_SL_X (1ull << 2)	/* only honoured when execute requests are supported */
#define VTD_SL_PS (1ull << 7)	/* in a PDPE (1 GiB) or PDE (2 MiB): maps a page */
#define VTD_SL_SNP (1ull << 11) /* force snooping; only when ECAP.SC, else reserved */
#define VTD_SL_ADDR_MASK 0x000ffffffffff000ull

/* ---- 6.5.2: 128-bit queued invalidation descriptors (lo, hi) ---- */
/* 6.5.2.1 context-cache invalidation */
void vtd_qi_cc_global(uint64_t out[2]);
void vtd_qi_cc_domain(uint16_t did, uint64_t out[2]);
/* fm: function mask, 0 none, 1 masks function bit 2, 2 bits 2:1, 3 bits 2:0. 0 or VTD_EINVAL. */
int vtd_qi_cc_device(uint16_t did, uint16_t sid, unsigned fm, uint64_t out[2]);
/* 6.5.2.3 IOTLB invalidation; DR/DW are set when CAP.DRD/DWD say the unit drains. */
void vtd_qi_iotlb_global(const struct vtd_caps *caps, uint64_t out[2]);
void vtd_qi_iotlb_domain(const struct vtd_caps *caps, uint16_t did, uint64_t out[2]);
/* 2^am pages from addr (aligned to 2^am pages); ih: only leaf entries changed. Needs CAP.PSI and am
 * <= MAMV (VTD_ENOTSUP), addr aligned (VTD_EALIGN). */
int vtd_qi_iotlb_page(const struct vtd_caps *caps, uint16_t did, uint64_t addr, unsigned am,
		      bool ih, uint64_t out[2]);
/* 6.5.2.7 interrupt entry cache invalidation: all, or 2^im entries from iidx (aligned, im <= 16) */
void vtd_qi_iec_global(uint64_t out[2]);
int vtd_qi_iec_index(uint16_t iidx, unsigned im, uint64_t out[2]);
/* 6.5.2.8 invalidation wait: with status write, the unit writes status_data to the 4-byte aligned
 * status_pa once every earlier descriptor has completed; intr asks for the completion interrupt
 * (IF), fence (FN) holds back later descriptors until this one is done. */
int vtd_qi_wait(uint32_t status_data, uint64_t status_pa, bool intr, bool fence, uint64_t out[2]);

/* 11.4.9.3 IQA: queue base (4 KiB aligned) | DW 0 (128-bit descriptors) | QS, the queue is
 * 4 KiB << qs (256 << qs descriptors), qs <= 7. 0 or a vtd_error. */
int vtd_iqa(uint64_t queue_pa, unsigned qs, uint64_t *out);
#define VTD_QI_DESC_SIZE 16
static inline unsigned vtd_iq_entries(unsigned qs)
{
	return 256u << qs;
}
/* 11.4.9.1/2 IQH, IQT: the descriptor index in bits 18:4 (128-bit descriptors). */
static inline uint64_t vtd_iq_reg(unsigned index)
{
	return ((uint64_t)index & 0x7fff) << 4;
}
static inline unsigned vtd_iq_index(uint64_t reg)
{
	return (unsigned)(reg >> 4) & 0x7fff;
}

/* ---- 11.4.14, 7.1: fault recording registers ---- */
struct vtd_fault {
	uint16_t sid;	    /* requester id: bus << 8 | device << 3 | function */
	uint64_t addr;	    /* page address of a DMA fault; 0 for interrupt faults */
	uint8_t reason;	    /* Appendix A fault reason */
	bool write;	    /* a write request (T2:T1 = 00) */
	uint8_t type;	    /* T2 << 1 | T1: enum vtd_fault_type */
	bool pasid_present; /* with pasid (20 bits) */
	uint32_t pasid;
	bool priv, exe; /* supervisor / execute requested (with a PASID) */
	uint8_t at;	/* the request's PCIe address type */
	bool intr;	/* an interrupt-remapping fault (reason 0x20..0x2f): see index */
	uint16_t index; /* the interrupt_index of an interrupt-remapping fault */
};
/* 11.4.14: the request type is T1 (bit 126) with T2 (bit 92) added in rev 3.0; before, T2 was
 * reserved (0) and T1 alone said read (1) or write (0). */
enum vtd_fault_type {
	VTD_FAULT_WRITE = 0,	   /* T2 0, T1 0 */
	VTD_FAULT_READ = 1,	   /* T2 0, T1 1 */
	VTD_FAULT_TRANSLATION = 2, /* T2 1, T1 0: an ATS translation (page) request */
	VTD_FAULT_ATOMIC = 3,	   /* T2 1, T1 1: an AtomicOp */
};
/* lo: the register's bits 63:0, hi: 127:64. False, *out zeroed, when F is clear. */
bool vtd_decode_fault(uint64_t lo, uint64_t hi, struct vtd_fault *out);
/* The value to write to the upper 64 bits of a fault recording register to clear its F (RW1C). */
#define VTD_FAULT_HI_F (1ull << 63)
/* "root entry not present" etc; "unknown" for a reason the spec does not define here. */
const char *vtd_fault_reason(uint8_t reason);
/* One log line, no newline, e.g. "fault from 00:04.0 write at 0x7f000 (reason 0x05: write to a
 * read-only or absent page)"; returns what ksnprintf returns. */
int vtd_describe_fault(const struct vtd_fault *f, char *buf, size_t size);

/* ---- 9.10, 5.1.5: interrupt remapping ---- */
/* A remapped-format IRTE (lo, hi): present, faults recorded, physical destination mode, fixed or
 * lowest-priority delivery, edge or level, vector, destination (xAPIC id in DST bits 15:8, i.e.
 * IRTE bits 47:40, must fit 8 bits; x2APIC id in bits 63:32) and source validation of the full
 * requester id sid (SVT 01, SQ 00). 0 or VTD_EINVAL (a vector under 16, an xAPIC id over 0xff). */
int vtd_irte_remapped(uint8_t vector, uint32_t dest_apic_id, bool x2apic, bool level,
		      bool lowest_prio, uint16_t sid, uint64_t out[2]);
/* A not-present IRTE: an interrupt through it is blocked and recorded (reason 0x22). */
void vtd_irte_blocked(uint64_t out[2]);
/* 11.4.10 IRTA: table base (4 KiB aligned) | EIME (x2APIC destinations) | S, with entries =
 * 2^(S + 1): entries must be a power of two from 2 to 65536. 0 or a vtd_error. */
int vtd_irta(uint64_t table_pa, uint32_t entries, bool eime, uint64_t *out);
#define VTD_IRTE_SIZE 16

/* 5.1.5.2: remappable-format MSI. Address 0xfee00000 | handle[14:0] << 5 | 1 << 4 (remappable) |
 * SHV << 3 | handle[15] << 2; data is the subhandle when SHV, else 0. The IRTE index the unit uses
 * is handle, or handle + subhandle when SHV. */
struct vtd_msi_remap {
	uint16_t handle;
	bool shv;
	uint16_t subhandle; /* data[15:0], when shv */
	uint32_t index;	    /* handle (+ subhandle): may exceed the table, the unit faults (0x21) */
};
void vtd_msi_remappable(uint16_t handle, bool shv, uint16_t subhandle, uint32_t *addr,
			uint32_t *data);
/* Decodes a 32-bit MSI address (and data) as written to a device: false when it is not in the
 * 0xfeexxxxx interrupt range or not in remappable format (bit 4 clear: compatibility format). */
bool vtd_msi_decode(uint32_t addr, uint32_t data, struct vtd_msi_remap *out);

#endif
