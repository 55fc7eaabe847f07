/* VT-d register values and in-memory formats (vtd.h). Bit positions are from the Intel VT-d
 * specification rev 4.x; each block cites its section. */
#include "drivers/vtd.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

static inline uint64_t field(uint64_t v, unsigned lo, unsigned width)
{
	return (v >> lo) & ((1ull << width) - 1);
}

static inline bool bit(uint64_t v, unsigned n)
{
	return (v >> n) & 1;
}

/* 11.4.2 Capability Register */
#define CAP_ND 0 /* 2:0 */
#define CAP_AFL 3
#define CAP_RWBF 4
#define CAP_CM 7
#define CAP_SAGAW 8 /* 12:8 */
#define CAP_MGAW 16 /* 21:16, width - 1 */
#define CAP_ZLR 22
#define CAP_FRO 24   /* 33:24, in 16-byte units */
#define CAP_SLLPS 34 /* 37:34: bit 0 2 MiB, bit 1 1 GiB */
#define CAP_PSI 39
#define CAP_NFR 40  /* 47:40, count - 1 */
#define CAP_MAMV 48 /* 53:48 */
#define CAP_DWD 54
#define CAP_DRD 55
#define CAP_FL1GP 56
#define CAP_PI 59
#define CAP_FL5LP 60

/* 11.4.3 Extended Capability Register */
#define ECAP_C 0
#define ECAP_QI 1
#define ECAP_DT 2
#define ECAP_IR 3
#define ECAP_EIM 4
#define ECAP_PT 6
#define ECAP_SC 7
#define ECAP_IRO 8   /* 17:8, in 16-byte units */
#define ECAP_MHMV 20 /* 23:20 */
#define ECAP_NEST 26
#define ECAP_PRS 29
#define ECAP_SRS 31
#define ECAP_PSS 35 /* 39:35 */
#define ECAP_SMTS 43
#define ECAP_SLTS 46

/* SAGAW bits (11.4.2) and the context entry's AW values (9.3) that name the same widths */
#define SAGAW_39 (1u << 1) /* 3-level */
#define SAGAW_48 (1u << 2) /* 4-level */
#define AW_39 1
#define AW_48 2

#define ND_RESERVED 7
#define PAGE_4K 4096ull

void vtd_decode_caps(uint64_t cap, uint64_t ecap, struct vtd_caps *out)
{
	unsigned nd = (unsigned)field(cap, CAP_ND, 3);

	memset(out, 0, sizeof(*out));
	/* 11.4.2: ND n means 2^(4 + 2n) domain ids; 7 is reserved, left as 0 bits so that no id fits
	 * and vtd_caps_usable refuses the unit. */
	out->nd_bits = nd == ND_RESERVED ? 0 : (uint8_t)(4 + 2 * nd);
	out->afl = bit(cap, CAP_AFL);
	out->rwbf = bit(cap, CAP_RWBF);
	out->cm = bit(cap, CAP_CM);
	out->sagaw = (uint8_t)field(cap, CAP_SAGAW, 5);
	out->mgaw = (uint8_t)(field(cap, CAP_MGAW, 6) + 1);
	out->zlr = bit(cap, CAP_ZLR);
	out->fault_reg_offset = (uint32_t)field(cap, CAP_FRO, 10) * 16;
	out->sllps_2m = bit(cap, CAP_SLLPS);
	out->sllps_1g = bit(cap, CAP_SLLPS + 1);
	out->psi = bit(cap, CAP_PSI);
	out->nr_fault_regs = (uint16_t)(field(cap, CAP_NFR, 8) + 1);
	out->mamv = (uint8_t)field(cap, CAP_MAMV, 6);
	out->dwd = bit(cap, CAP_DWD);
	out->drd = bit(cap, CAP_DRD);
	out->fl1gp = bit(cap, CAP_FL1GP);
	out->pi = bit(cap, CAP_PI);
	out->fl5lp = bit(cap, CAP_FL5LP);

	out->coherent = bit(ecap, ECAP_C);
	out->qi = bit(ecap, ECAP_QI);
	out->dt = bit(ecap, ECAP_DT);
	out->ir = bit(ecap, ECAP_IR);
	out->eim = bit(ecap, ECAP_EIM);
	out->pt = bit(ecap, ECAP_PT);
	out->sc = bit(ecap, ECAP_SC);
	out->iotlb_reg_offset = (uint32_t)field(ecap, ECAP_IRO, 10) * 16;
	out->mhmv = (uint8_t)field(ecap, ECAP_MHMV, 4);
	out->nest = bit(ecap, ECAP_NEST);
	out->prs = bit(ecap, ECAP_PRS);
	out->srs = bit(ecap, ECAP_SRS);
	out->pss = (uint8_t)field(ecap, ECAP_PSS, 5);
	out->smts = bit(ecap, ECAP_SMTS);
	out->slts = bit(ecap, ECAP_SLTS);
}

int vtd_pick_levels(const struct vtd_caps *caps)
{
	if (caps->sagaw & SAGAW_48)
		return 4;
	if (caps->sagaw & SAGAW_39)
		return 3;
	return 0;
}

static bool refuse(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return false;
}

/* [a, a + alen) and [b, b + blen) intersect */
static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

bool vtd_caps_usable(const struct vtd_caps *caps, uint64_t reg_size, const char **why)
{
	/* The offsets are at most 1023 * 16 and the fault registers 256 * 16 bytes, so no sum below
	 * can wrap. */
	uint64_t fro = caps->fault_reg_offset;
	uint64_t fro_len = (uint64_t)caps->nr_fault_regs * VTD_FAULT_REG_SIZE;
	uint64_t iro = caps->iotlb_reg_offset;
	uint64_t iro_len = 16; /* IVA and IOTLB */

	if (why)
		*why = "ok";
	if (reg_size < PAGE_4K)
		return refuse(why, "register set under 4 KiB");
	if (!caps->qi)
		return refuse(why, "no queued invalidation");
	if (vtd_pick_levels(caps) == 0)
		return refuse(why, "no 3- or 4-level second-level tables");
	if (caps->nd_bits == 0)
		return refuse(why, "reserved number of domains");
	if (caps->nr_fault_regs == 0)
		return refuse(why, "no fault recording registers");
	/* Under VTD_REG_ARCH_END they would alias GCMD, RTADDR or IQT: clearing a fault or issuing an
	 * IOTLB command would write one of those. */
	if (fro < VTD_REG_ARCH_END || fro + fro_len > reg_size)
		return refuse(why, "fault recording registers outside the register set");
	if (iro < VTD_REG_ARCH_END || iro + iro_len > reg_size)
		return refuse(why, "IOTLB registers outside the register set");
	if (overlaps(fro, fro_len, iro, iro_len))
		return refuse(why, "fault recording and IOTLB registers overlap");
	return true;
}

/* ---- 9.1 root entry, 9.3 context entry ---- */
#define ROOT_P (1ull << 0)
#define CTX_P (1ull << 0)
#define CTX_FPD (1ull << 1)
#define CTX_TT_SHIFT 2	/* 3:2; 00: untranslated requests through the second-level table */
#define CTX_AW_SHIFT 0	/* hi 2:0 (entry bits 66:64) */
#define CTX_DID_SHIFT 8 /* hi 23:8 (entry bits 87:72) */
#define ADDR_4K_MASK (~(PAGE_4K - 1))

void vtd_root_entry(uint64_t ctx_table_pa, uint64_t out[2])
{
	/* 9.1: CTP is bits 63:12; the upper 64 bits are reserved in legacy mode. */
	out[0] = (ctx_table_pa & ADDR_4K_MASK) | ROOT_P;
	out[1] = 0;
}

int vtd_context_entry(uint64_t slpt_root_pa, unsigned levels, uint16_t did, unsigned nd_bits,
		      uint64_t out[2])
{
	unsigned aw;

	out[0] = out[1] = 0;
	if (levels == 3)
		aw = AW_39;
	else if (levels == 4)
		aw = AW_48;
	else
		return VTD_EINVAL;
	if (slpt_root_pa & (PAGE_4K - 1))
		return VTD_EALIGN;
	if (did == 0 || nd_bits == 0 || (nd_bits < 16 && did >> nd_bits))
		return VTD_EDOMAIN;
	out[0] = slpt_root_pa | (0ull << CTX_TT_SHIFT) | CTX_P;
	out[1] = (uint64_t)did << CTX_DID_SHIFT | (uint64_t)aw << CTX_AW_SHIFT;
	return 0;
}

void vtd_context_entry_blocked(uint64_t out[2])
{
	/* P 0 and FPD 0: requests are blocked and the fault is recorded (9.3, 7.1.3). */
	out[0] = out[1] = 0;
}

/* ---- 6.5.2 invalidation descriptors: type in bits 3:0 (bits 11:9, the type's high bits, are 0
 * for these legacy types) ---- */
#define QI_TYPE_CC 0x1
#define QI_TYPE_IOTLB 0x2
#define QI_TYPE_IEC 0x4
#define QI_TYPE_WAIT 0x5
#define QI_G_SHIFT 4 /* 5:4 granularity: 1 global, 2 domain, 3 device/page */
#define QI_G_GLOBAL 1ull
#define QI_G_DOMAIN 2ull
#define QI_G_DEVICE 3ull
#define QI_DID_SHIFT 16 /* 31:16 */
/* 6.5.2.1 context-cache */
#define QI_CC_SID_SHIFT 32 /* 47:32 */
#define QI_CC_FM_SHIFT 48  /* 49:48 */
/* 6.5.2.3 IOTLB */
#define QI_IOTLB_DW (1ull << 6)
#define QI_IOTLB_DR (1ull << 7)
#define QI_IOTLB_IH (1ull << 6) /* hi */
#define QI_IOTLB_AM_MAX 63	/* hi 5:0 */
/* 6.5.2.7 interrupt entry cache: G is the single bit 4, 0 global, 1 index-selective */
#define QI_IEC_INDEXED (1ull << 4)
#define QI_IEC_IM_SHIFT 27   /* 31:27 */
#define QI_IEC_IIDX_SHIFT 32 /* 47:32 */
#define QI_IEC_IM_MAX 16
/* 6.5.2.8 invalidation wait */
#define QI_WAIT_IF (1ull << 4)
#define QI_WAIT_SW (1ull << 5)
#define QI_WAIT_FN (1ull << 6)
#define QI_WAIT_DATA_SHIFT 32 /* 63:32 */

void vtd_qi_cc_global(uint64_t out[2])
{
	out[0] = QI_G_GLOBAL << QI_G_SHIFT | QI_TYPE_CC;
	out[1] = 0;
}

void vtd_qi_cc_domain(uint16_t did, uint64_t out[2])
{
	out[0] = (uint64_t)did << QI_DID_SHIFT | QI_G_DOMAIN << QI_G_SHIFT | QI_TYPE_CC;
	out[1] = 0;
}

int vtd_qi_cc_device(uint16_t did, uint16_t sid, unsigned fm, uint64_t out[2])
{
	out[0] = out[1] = 0;
	if (fm > 3)
		return VTD_EINVAL;
	out[0] = (uint64_t)fm << QI_CC_FM_SHIFT | (uint64_t)sid << QI_CC_SID_SHIFT |
		 (uint64_t)did << QI_DID_SHIFT | QI_G_DEVICE << QI_G_SHIFT | QI_TYPE_CC;
	return 0;
}

static uint64_t iotlb_drain(const struct vtd_caps *caps)
{
	return (caps->drd ? QI_IOTLB_DR : 0) | (caps->dwd ? QI_IOTLB_DW : 0);
}

void vtd_qi_iotlb_global(const struct vtd_caps *caps, uint64_t out[2])
{
	out[0] = iotlb_drain(caps) | QI_G_GLOBAL << QI_G_SHIFT | QI_TYPE_IOTLB;
	out[1] = 0;
}

void vtd_qi_iotlb_domain(const struct vtd_caps *caps, uint16_t did, uint64_t out[2])
{
	out[0] = (uint64_t)did << QI_DID_SHIFT | iotlb_drain(caps) | QI_G_DOMAIN << QI_G_SHIFT |
		 QI_TYPE_IOTLB;
	out[1] = 0;
}

int vtd_qi_iotlb_page(const struct vtd_caps *caps, uint16_t did, uint64_t addr, unsigned am,
		      bool ih, uint64_t out[2])
{
	out[0] = out[1] = 0;
	if (!caps->psi || am > caps->mamv || am > QI_IOTLB_AM_MAX)
		return VTD_ENOTSUP;
	/* 6.5.2.3: the address is aligned to the 2^am pages it names. am <= 63, so a shift of 12 + am
	 * may reach 64 or more: treat that as "no address but 0 is aligned". */
	if (am >= 52 ? addr != 0 : (addr & ((PAGE_4K << am) - 1)) != 0)
		return VTD_EALIGN;
	out[0] = (uint64_t)did << QI_DID_SHIFT | iotlb_drain(caps) | QI_G_DEVICE << QI_G_SHIFT |
		 QI_TYPE_IOTLB;
	out[1] = addr | (ih ? QI_IOTLB_IH : 0) | am;
	return 0;
}

void vtd_qi_iec_global(uint64_t out[2])
{
	out[0] = QI_TYPE_IEC;
	out[1] = 0;
}

int vtd_qi_iec_index(uint16_t iidx, unsigned im, uint64_t out[2])
{
	out[0] = out[1] = 0;
	if (im > QI_IEC_IM_MAX)
		return VTD_EINVAL;
	if (im < QI_IEC_IM_MAX ? (iidx & ((1u << im) - 1)) != 0 : iidx != 0)
		return VTD_EALIGN;
	out[0] = (uint64_t)iidx << QI_IEC_IIDX_SHIFT | (uint64_t)im << QI_IEC_IM_SHIFT |
		 QI_IEC_INDEXED | QI_TYPE_IEC;
	return 0;
}

int vtd_qi_wait(uint32_t status_data, uint64_t status_pa, bool intr, bool fence, uint64_t out[2])
{
	out[0] = out[1] = 0;
	/* 6.5.2.8: the status address is bits 127:66 (hi 63:2), so it is dword aligned. */
	if (status_pa & 3)
		return VTD_EALIGN;
	out[0] = (uint64_t)status_data << QI_WAIT_DATA_SHIFT | (fence ? QI_WAIT_FN : 0) |
		 QI_WAIT_SW | (intr ? QI_WAIT_IF : 0) | QI_TYPE_WAIT;
	out[1] = status_pa;
	return 0;
}

/* 11.4.9.3 IQA: base 63:12, DW bit 11 (0: 128-bit descriptors), QS 2:0 */
#define IQA_QS_MAX 7

int vtd_iqa(uint64_t queue_pa, unsigned qs, uint64_t *out)
{
	*out = 0;
	if (qs > IQA_QS_MAX)
		return VTD_EINVAL;
	if (queue_pa & (PAGE_4K - 1))
		return VTD_EALIGN;
	*out = queue_pa | qs;
	return 0;
}

/* ---- 11.4.14 fault recording register: lo = bits 63:0, hi = bits 127:64 ---- */
#define FR_FI_MASK ADDR_4K_MASK /* lo 63:12 */
#define FR_IR_INDEX_SHIFT 48	/* lo 63:48 for interrupt-remapping faults */
#define FRH_SID 0		/* 79:64 */
#define FRH_T2 28		/* 92 */
#define FRH_PRIV 29		/* 93 */
#define FRH_EXE 30		/* 94 */
#define FRH_PP 31		/* 95 */
#define FRH_FR 32		/* 103:96 */
#define FRH_PV 40		/* 123:104 */
#define FRH_AT 60		/* 125:124 */
#define FRH_T1 62		/* 126: 0 write, 1 read */
#define FRH_F 63		/* 127 */
#define REASON_IR_FIRST 0x20
#define REASON_IR_LAST 0x2f

bool vtd_decode_fault(uint64_t lo, uint64_t hi, struct vtd_fault *out)
{
	memset(out, 0, sizeof(*out));
	if (!bit(hi, FRH_F))
		return false;
	out->sid = (uint16_t)field(hi, FRH_SID, 16);
	out->reason = (uint8_t)field(hi, FRH_FR, 8);
	out->type = (uint8_t)(bit(hi, FRH_T2) << 1 | bit(hi, FRH_T1));
	out->write = out->type == VTD_FAULT_WRITE;
	out->pasid_present = bit(hi, FRH_PP);
	out->pasid = out->pasid_present ? (uint32_t)field(hi, FRH_PV, 20) : 0;
	out->priv = bit(hi, FRH_PRIV);
	out->exe = bit(hi, FRH_EXE);
	out->at = (uint8_t)field(hi, FRH_AT, 2);
	out->intr = out->reason >= REASON_IR_FIRST && out->reason <= REASON_IR_LAST;
	if (out->intr)
		out->index = (uint16_t)(lo >> FR_IR_INDEX_SHIFT);
	else
		out->addr = lo & FR_FI_MASK;
	return true;
}

/* Appendix A, non-recoverable fault conditions: DMA remapping 0x1..0xd, interrupt remapping
 * 0x20..0x27. */
static const char *const dma_reasons[] = {
	[0x1] = "root entry not present",
	[0x2] = "context entry not present",
	[0x3] = "invalid context entry",
	[0x4] = "address beyond the guest address width",
	[0x5] = "write to a read-only or absent page",
	[0x6] = "read from an unreadable or absent page",
	[0x7] = "paging entry unreadable",
	[0x8] = "root table unreadable",
	[0x9] = "context table unreadable",
	[0xa] = "reserved bits set in a root entry",
	[0xb] = "reserved bits set in a context entry",
	[0xc] = "reserved bits set in a paging entry",
	[0xd] = "request blocked by the context entry's translation type",
};

static const char *const ir_reasons[] = {
	[0x0] = "reserved bits set in an interrupt request",
	[0x1] = "interrupt index beyond the table",
	[0x2] = "interrupt entry not present",
	[0x3] = "interrupt table unreadable",
	[0x4] = "reserved bits set in an interrupt entry",
	[0x5] = "compatibility-format interrupt blocked",
	[0x6] = "interrupt source id check failed",
	[0x7] = "posted-interrupt descriptor unreadable",
};

const char *vtd_fault_reason(uint8_t reason)
{
	const char *s = NULL;

	if (reason < ARRAY_SIZE(dma_reasons))
		s = dma_reasons[reason];
	else if (reason >= REASON_IR_FIRST &&
		 reason - REASON_IR_FIRST < (int)ARRAY_SIZE(ir_reasons))
		s = ir_reasons[reason - REASON_IR_FIRST];
	return s ? s : "unknown";
}

static const char *const fault_kinds[] = {
	[VTD_FAULT_WRITE] = "write",
	[VTD_FAULT_READ] = "read",
	[VTD_FAULT_TRANSLATION] = "translation request",
	[VTD_FAULT_ATOMIC] = "atomic",
};

int vtd_describe_fault(const struct vtd_fault *f, char *buf, size_t size)
{
	unsigned bus = f->sid >> 8, dev = (f->sid >> 3) & 0x1f, fn = f->sid & 7;
	const char *why = vtd_fault_reason(f->reason);

	if (f->intr)
		return ksnprintf(buf, size,
				 "fault from %02x:%02x.%u interrupt index %u (reason 0x%02x: %s)",
				 bus, dev, fn, f->index, f->reason, why);
	return ksnprintf(buf, size, "fault from %02x:%02x.%u %s at 0x%llx (reason 0x%02x: %s)", bus,
			 dev, fn, fault_kinds[f->type & 3], (unsigned long long)f->addr, f->reason,
			 why);
}

/* ---- 9.10 interrupt remapping table entry, remapped format ---- */
#define IRTE_P (1ull << 0)
#define IRTE_FPD (1ull << 1)
#define IRTE_DM_LOGICAL (1ull << 2) /* left clear: physical */
#define IRTE_RH (1ull << 3)
#define IRTE_TM_LEVEL (1ull << 4)
#define IRTE_DLM_SHIFT 5 /* 7:5: 000 fixed, 001 lowest priority */
#define IRTE_DLM_FIXED 0ull
#define IRTE_DLM_LOWEST 1ull
#define IRTE_V_SHIFT 16	       /* 23:16 */
#define IRTE_DST_SHIFT 32      /* 63:32 */
#define IRTE_DST_XAPIC_SHIFT 8 /* xAPIC id in DST 15:8 */
#define IRTE_SQ_SHIFT 16       /* hi 17:16 (entry 81:80): 00 compare all 16 bits of SID */
#define IRTE_SVT_SHIFT 18      /* hi 19:18 (entry 83:82): 01 verify against SID/SQ */
#define IRTE_SVT_SID 1ull
#define VECTOR_MIN 16 /* 0..15 are reserved for exceptions; the APIC refuses them */
#define XAPIC_ID_MAX 0xff

int vtd_irte_remapped(uint8_t vector, uint32_t dest_apic_id, bool x2apic, bool level,
		      bool lowest_prio, uint16_t sid, uint64_t out[2])
{
	uint64_t dst;

	out[0] = out[1] = 0;
	if (vector < VECTOR_MIN || (!x2apic && dest_apic_id > XAPIC_ID_MAX))
		return VTD_EINVAL;
	dst = x2apic ? dest_apic_id : dest_apic_id << IRTE_DST_XAPIC_SHIFT;
	/* RH follows lowest priority (5.1.5.2: the hint allows redirection among the destinations);
	 * with one physical destination it changes nothing. */
	out[0] = dst << IRTE_DST_SHIFT | (uint64_t)vector << IRTE_V_SHIFT |
		 (lowest_prio ? IRTE_DLM_LOWEST : IRTE_DLM_FIXED) << IRTE_DLM_SHIFT |
		 (level ? IRTE_TM_LEVEL : 0) | (lowest_prio ? IRTE_RH : 0) | IRTE_P;
	out[1] = IRTE_SVT_SID << IRTE_SVT_SHIFT | 0ull << IRTE_SQ_SHIFT | sid;
	return 0;
}

void vtd_irte_blocked(uint64_t out[2])
{
	out[0] = out[1] = 0;
}

/* 11.4.10 IRTA: base 63:12, EIME bit 11, S 3:0 */
#define IRTA_EIME (1ull << 11)
#define IRTA_S_MAX 15

int vtd_irta(uint64_t table_pa, uint32_t entries, bool eime, uint64_t *out)
{
	unsigned s = 0;

	*out = 0;
	if (entries < 2 || (entries & (entries - 1)) || entries > (2u << IRTA_S_MAX))
		return VTD_EINVAL;
	if (table_pa & (PAGE_4K - 1))
		return VTD_EALIGN;
	while ((2u << s) < entries)
		s++;
	*out = table_pa | (eime ? IRTA_EIME : 0) | s;
	return 0;
}

/* ---- 5.1.5.2 remappable MSI address and data ---- */
#define MSI_BASE 0xfee00000u
#define MSI_BASE_MASK 0xfff00000u
#define MSI_REMAPPABLE (1u << 4)
#define MSI_SHV (1u << 3)
#define MSI_HANDLE15 (1u << 2)
#define MSI_HANDLE_SHIFT 5 /* handle[14:0] in 19:5 */
#define MSI_HANDLE_LOW 0x7fffu

void vtd_msi_remappable(uint16_t handle, bool shv, uint16_t subhandle, uint32_t *addr,
			uint32_t *data)
{
	*addr = MSI_BASE | (uint32_t)(handle & MSI_HANDLE_LOW) << MSI_HANDLE_SHIFT |
		MSI_REMAPPABLE | (shv ? MSI_SHV : 0) | (handle >> 15 ? MSI_HANDLE15 : 0);
	*data = shv ? subhandle : 0;
}

bool vtd_msi_decode(uint32_t addr, uint32_t data, struct vtd_msi_remap *out)
{
	memset(out, 0, sizeof(*out));
	if ((addr & MSI_BASE_MASK) != MSI_BASE || !(addr & MSI_REMAPPABLE))
		return false;
	out->handle = (uint16_t)((addr >> MSI_HANDLE_SHIFT & MSI_HANDLE_LOW) |
				 (addr & MSI_HANDLE15 ? 0x8000u : 0));
	out->shv = addr & MSI_SHV;
	out->subhandle = out->shv ? (uint16_t)data : 0;
	out->index = (uint32_t)out->handle + out->subhandle;
	return true;
}
