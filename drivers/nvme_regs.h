/* NVMe controller registers and queue entry layouts, as the NVM Express Base Specification 1.4
 * defines them (section numbers below are that revision's). Only what keel's driver
 * (drivers/nvme.c) uses or checks is named here. Registers and queue entries are little-endian. */
#ifndef KEEL_DRIVERS_NVME_REGS_H
#define KEEL_DRIVERS_NVME_REGS_H

#include "lib/types.h"

/* ---- Controller registers in BAR 0 (3.1) ----------------------------------------------------- */
#define NVME_REG_CAP 0x00   /* 64-bit Controller Capabilities (3.1.1) */
#define NVME_REG_VS 0x08    /* Version (3.1.2) */
#define NVME_REG_INTMS 0x0C /* Interrupt Mask Set (3.1.3) */
#define NVME_REG_INTMC 0x10 /* Interrupt Mask Clear (3.1.4) */
#define NVME_REG_CC 0x14    /* Controller Configuration (3.1.5) */
#define NVME_REG_CSTS 0x1C  /* Controller Status (3.1.6) */
#define NVME_REG_AQA 0x24   /* Admin Queue Attributes (3.1.8) */
#define NVME_REG_ASQ 0x28   /* 64-bit Admin Submission Queue Base Address (3.1.9) */
#define NVME_REG_ACQ 0x30   /* 64-bit Admin Completion Queue Base Address (3.1.10) */
#define NVME_REG_DBS 0x1000 /* first doorbell */

/* CAP (3.1.1) */
#define NVME_CAP_MQES(cap) ((uint32_t)((cap)&0xFFFF)) /* largest I/O queue, 0's based */
#define NVME_CAP_CQR (1ull << 16)		      /* queues must be physically contiguous */
#define NVME_CAP_TO(cap) ((uint32_t)(((cap) >> 24) & 0xFF))    /* ready timeout, 500 ms units */
#define NVME_CAP_DSTRD(cap) ((uint32_t)(((cap) >> 32) & 0xF))  /* doorbell stride 2^(2+DSTRD) */
#define NVME_CAP_CSS(cap) ((uint32_t)(((cap) >> 37) & 0xFF))   /* command sets supported */
#define NVME_CAP_CSS_NVM 0x01u				       /* bit 0: the NVM command set */
#define NVME_CAP_MPSMIN(cap) ((uint32_t)(((cap) >> 48) & 0xF)) /* page size 2^(12+MPSMIN) */
#define NVME_CAP_MPSMAX(cap) ((uint32_t)(((cap) >> 52) & 0xF))
#define NVME_CAP_TO_UNIT_NS 500000000ull

/* VS (3.1.2): major 31:16, minor 15:8, tertiary 7:0 */
#define NVME_VS(major, minor) ((uint32_t)(major) << 16 | (uint32_t)(minor) << 8)

/* CC (3.1.5) */
#define NVME_CC_EN (1u << 0)
#define NVME_CC_CSS_NVM (0u << 4)			 /* I/O command set: NVM */
#define NVME_CC_MPS(shift) (((uint32_t)(shift)-12) << 7) /* memory page size 2^(12+MPS) */
#define NVME_CC_AMS_RR (0u << 11)			 /* arbitration: round robin */
#define NVME_CC_SHN_MASK (3u << 14)			 /* shutdown notification */
#define NVME_CC_IOSQES(n) ((uint32_t)(n) << 16)		 /* I/O SQ entry size 2^n */
#define NVME_CC_IOCQES(n) ((uint32_t)(n) << 20)		 /* I/O CQ entry size 2^n */

/* CSTS (3.1.6) */
#define NVME_CSTS_RDY (1u << 0)
#define NVME_CSTS_CFS (1u << 1) /* controller fatal status */
#define NVME_CSTS_SHST_MASK (3u << 2)

/* AQA (3.1.8): admin SQ size 11:0, admin CQ size 27:16, both 0's based */
#define NVME_AQA(sq, cq) ((uint32_t)((sq)-1) | (uint32_t)((cq)-1) << 16)

/* Doorbells (3.1, Submission Queue y Tail and Completion Queue y Head Doorbell): SQ y tail at
 * 1000h + (2y) * stride, CQ y head at 1000h + (2y + 1) * stride, stride = 4 << CAP.DSTRD. */
#define NVME_DB_SQ(qid, dstrd) (NVME_REG_DBS + (2u * (qid)) * (4u << (dstrd)))
#define NVME_DB_CQ(qid, dstrd) (NVME_REG_DBS + (2u * (qid) + 1u) * (4u << (dstrd)))

/* ---- Queue entries --------------------------------------------------------------------------- */
#define NVME_SQE_SHIFT 6 /* 64-byte submission queue entries (4.2) */
#define NVME_CQE_SHIFT 4 /* 16-byte completion queue entries (4.6) */
#define NVME_PAGE_SHIFT 12
#define NVME_PAGE_SIZE (1u << NVME_PAGE_SHIFT) /* the memory page size keel sets (CC.MPS = 0) */

/* Submission queue entry, common command format (4.2). */
struct nvme_sqe {
	uint8_t opc;   /* opcode */
	uint8_t flags; /* FUSE 1:0, PSDT 7:6 (0: PRPs are used) */
	uint16_t cid;  /* command identifier */
	uint32_t nsid;
	uint32_t cdw2, cdw3;
	uint64_t mptr; /* metadata pointer */
	uint64_t prp1, prp2;
	uint32_t cdw10, cdw11, cdw12, cdw13, cdw14, cdw15;
};

/* Completion queue entry (4.6). */
struct nvme_cqe {
	uint32_t dw0;  /* command specific */
	uint32_t dw1;  /* reserved */
	uint16_t sqhd; /* SQ head pointer */
	uint16_t sqid; /* SQ the command came from */
	uint16_t cid;
	uint16_t status; /* phase tag bit 0, status field 15:1 */
};

_Static_assert(sizeof(struct nvme_sqe) == 1u << NVME_SQE_SHIFT, "SQ entry is 64 bytes");
_Static_assert(sizeof(struct nvme_cqe) == 1u << NVME_CQE_SHIFT, "CQ entry is 16 bytes");

/* The status word of a CQ entry (4.6.1): phase tag, then the status field. */
#define NVME_CQE_PHASE 0x0001u
#define NVME_CQE_SC(st) (((st) >> 1) & 0xFFu)  /* status code */
#define NVME_CQE_SCT(st) (((st) >> 9) & 0x7u)  /* status code type */
#define NVME_CQE_CRD(st) (((st) >> 12) & 0x3u) /* command retry delay */
#define NVME_CQE_MORE (1u << 14)
#define NVME_CQE_DNR (1u << 15) /* do not retry */
/* SCT and SC in one 11-bit value, as the driver reports a device's failure: SCT << 8 | SC */
#define NVME_CQE_STATUS(st) (((st) >> 1) & 0x7FFu)

/* Status code types (4.6.1.1) and a few generic codes (4.6.1.2.1). */
#define NVME_SCT_GENERIC 0
#define NVME_SCT_CMD_SPECIFIC 1
#define NVME_SCT_MEDIA 2
#define NVME_SC_SUCCESS 0x00
#define NVME_SC_INVALID_OPCODE 0x01
#define NVME_SC_INVALID_FIELD 0x02
#define NVME_SC_DATA_XFER_ERROR 0x04
#define NVME_SC_ABORTED_BY_REQUEST 0x07
#define NVME_SC_INVALID_NS 0x0B
#define NVME_SC_LBA_RANGE 0x80
/* Command specific status codes (SCT 1) of Namespace Attachment and Virtualization Management
 * (4.6.1.2.2) */
#define NVME_SC_NS_ALREADY_ATTACHED 0x18
#define NVME_SC_NS_IS_PRIVATE 0x19
#define NVME_SC_NS_NOT_ATTACHED 0x1A
#define NVME_SC_CTRL_LIST_INVALID 0x1C
#define NVME_SC_INVALID_CTRL_ID 0x1F
#define NVME_SC_INVALID_SEC_CTRL_STATE 0x20
#define NVME_SC_INVALID_NR_RESOURCES 0x21
#define NVME_SC_INVALID_RESOURCE_ID 0x22

/* ---- Admin commands (5) ---------------------------------------------------------- */
#define NVME_ADM_DELETE_SQ 0x00	   /* 5.6 */
#define NVME_ADM_CREATE_SQ 0x01	   /* 5.4 */
#define NVME_ADM_DELETE_CQ 0x04	   /* 5.5 */
#define NVME_ADM_CREATE_CQ 0x05	   /* 5.3 */
#define NVME_ADM_IDENTIFY 0x06	   /* 5.15 */
#define NVME_ADM_ABORT 0x08	   /* 5.1: CDW10 CID 31:16, SQID 15:0 */
#define NVME_ADM_SET_FEATURES 0x09 /* 5.21 */
#define NVME_ADM_GET_FEATURES 0x0A
#define NVME_ADM_NS_ATTACH 0x15 /* 5.19: Namespace Attachment */
#define NVME_ADM_VIRT_MGMT 0x1C /* 5.22: Virtualization Management */

/* Create I/O CQ (5.3): CDW10 QSIZE 31:16 (0's based) | QID 15:0; CDW11 IV 31:16, IEN bit 1, PC
 * bit 0. Create I/O SQ (5.4): CDW10 likewise; CDW11 CQID 31:16, QPRIO 2:1, PC bit 0. */
#define NVME_QSIZE_QID(size, qid) ((uint32_t)((size)-1) << 16 | (uint32_t)(qid))
#define NVME_CQ_PC (1u << 0)
#define NVME_CQ_IEN (1u << 1)
#define NVME_CQ_IV(v) ((uint32_t)(v) << 16) /* MSI-X table entry of the CQ's interrupt */
#define NVME_SQ_PC (1u << 0)
#define NVME_SQ_CQID(cqid) ((uint32_t)(cqid) << 16)

/* Identify (5.15): CDW10 CNS 7:0 */
#define NVME_CNS_NS 0x00	     /* Identify Namespace of NSID */
#define NVME_CNS_CTRL 0x01	     /* Identify Controller */
#define NVME_CNS_ACTIVE_NSIDS 0x02   /* active NSIDs above NSID, increasing, 1024 at most (1.1+) */
#define NVME_CNS_PRIMARY_CAPS 0x14   /* Primary Controller Capabilities (5.15.2, 8.5) */
#define NVME_CNS_SECONDARY_LIST 0x15 /* Secondary Controller List from CNTID on (5.15.2, 8.5) */
#define NVME_ID_CNTID(id) ((uint32_t)(id) << 16) /* CDW10 CNTID 31:16 */
#define NVME_NSID_ALL 0xFFFFFFFFu
/* Controller identifiers FFF0h-FFFFh are reserved (FFFFh: "any" in Connect), 0 is valid for a
 * primary only in practice; a secondary listed with one of them is refused by keel. */
#define NVME_CNTLID_MAX 0xFFEFu

/* Set Features (5.21): CDW10 FID 7:0; Number of Queues (5.21.1.7): CDW11 NCQR 31:16 | NSQR 15:0,
 * both 0's based; completion DW0 holds NCQA 31:16 | NSQA 15:0 the same way. */
#define NVME_FEAT_NUM_QUEUES 0x07

/* Identify Controller data structure (5.15, CNS 01h): byte offsets */
#define NVME_IDC_VID 0
#define NVME_IDC_SN 4 /* 20 ASCII bytes */
#define NVME_IDC_SN_LEN 20
#define NVME_IDC_MN 24 /* 40 ASCII bytes */
#define NVME_IDC_MN_LEN 40
#define NVME_IDC_FR 64 /* 8 ASCII bytes */
#define NVME_IDC_FR_LEN 8
#define NVME_IDC_MDTS 77   /* max data transfer 2^MDTS min pages; 0: no limit */
#define NVME_IDC_CNTLID 78 /* 16 bits */
#define NVME_IDC_VER 80	   /* 32 bits, as VS */
#define NVME_IDC_SQES 512  /* required 3:0, maximum 7:4, each log2 of the entry size */
#define NVME_IDC_CQES 513
#define NVME_IDC_NN 516		/* 32 bits: number of namespaces */
#define NVME_IDC_ONCS 520	/* 16 bits: optional NVM commands */
#define NVME_IDC_VWC 525	/* bit 0: a volatile write cache is present */
#define NVME_ONCS_DSM (1u << 2) /* Dataset Management */
#define NVME_ONCS_WRITE_ZEROES (1u << 3)

/* Identify Namespace data structure (5.15, CNS 00h): byte offsets */
#define NVME_IDN_NSZE 0	  /* 64 bits: size in logical blocks */
#define NVME_IDN_NCAP 8	  /* 64 bits */
#define NVME_IDN_NLBAF 25 /* number of LBA formats, 0's based */
#define NVME_IDN_FLBAS 26 /* format in use 3:0; bit 4 metadata at the end of each block */
#define NVME_IDN_DPS 29	  /* end-to-end protection type 2:0 */
#define NVME_IDN_LBAF 128 /* 16 LBA format dwords: MS 15:0, LBADS 23:16, RP 25:24 */
#define NVME_IDN_NR_LBAF 16
#define NVME_FLBAS_INDEX(f) ((f)&0xFu)
#define NVME_LBAF_MS(d) ((d)&0xFFFFu)
#define NVME_LBAF_LBADS(d) (((d) >> 16) & 0xFFu)

/* Primary Controller Capabilities structure (5.15.2, CNS 14h; 8.5): byte offsets. VQ = flexible
 * queue resources, VI = flexible interrupt resources (8.5.1, 8.5.2). */
#define NVME_PCC_CNTLID 0  /* 16 bits: this primary controller's id */
#define NVME_PCC_PORTID 2  /* 16 bits */
#define NVME_PCC_CRT 4	   /* controller resource types: bit 0 VQ, bit 1 VI */
#define NVME_PCC_VQFRT 32  /* 32 bits: VQ flexible resources total */
#define NVME_PCC_VQRFA 36  /* 32 bits: VQ resources assigned to secondaries */
#define NVME_PCC_VQRFAP 40 /* 16 bits: VQ flexible resources allocated to the primary */
#define NVME_PCC_VQPRT 42  /* 16 bits: VQ private resources of the primary */
#define NVME_PCC_VQFRSM 44 /* 16 bits: VQ flexible resources a secondary may have at most */
#define NVME_PCC_VQGRAN 46 /* 16 bits: VQ granularity */
#define NVME_PCC_VIFRT 64  /* then the same seven fields for VI */
#define NVME_PCC_VIRFA 68
#define NVME_PCC_VIRFAP 72
#define NVME_PCC_VIPRT 74
#define NVME_PCC_VIFRSM 76
#define NVME_PCC_VIGRAN 78
#define NVME_CRT_VQ (1u << 0)
#define NVME_CRT_VI (1u << 1)

/* Secondary Controller List (5.15.2, CNS 15h): byte 0 the number of entries, then 127 entries of
 * 32 bytes from byte 32 (Secondary Controller Entry: SCID 1:0, PCID 3:2, SCS 4 (bit 0: online),
 * VFN 9:8 (1-based; 0: not a VF), NVQ 11:10, NVI 13:12). */
#define NVME_SCL_NUMID 0
#define NVME_SCL_ENTRY0 32
#define NVME_SCL_ENTRY_SIZE 32
#define NVME_SCL_MAX 127 /* (4096 - 32) / 32 */
#define NVME_SCE_SCID 0
#define NVME_SCE_PCID 2
#define NVME_SCE_SCS 4
#define NVME_SCE_VFN 8
#define NVME_SCE_NVQ 10
#define NVME_SCE_NVI 12
#define NVME_SCS_ONLINE 0x1u

/* Virtualization Management (5.22): CDW10 ACT 3:0, RT 10:8, CNTLID 31:16; CDW11 NR 15:0.
 * Completion DW0: the number of resources allocated. */
#define NVME_VM_ACT_PRIMARY_FLEX 0x1 /* primary flexible allocation (at the next reset) */
#define NVME_VM_ACT_SEC_OFFLINE 0x7
#define NVME_VM_ACT_SEC_ASSIGN 0x8
#define NVME_VM_ACT_SEC_ONLINE 0x9
#define NVME_VM_RT_VQ 0
#define NVME_VM_RT_VI 1
#define NVME_VM_CDW10(act, rt, cntlid)                                                             \
	(((uint32_t)(act)&0xFu) | ((uint32_t)(rt)&0x7u) << 8 | (uint32_t)(cntlid) << 16)

/* Namespace Attachment (5.19): CDW10 SEL 3:0; the data is a Controller List (figure "Controller
 * List Format"): a 16-bit
 * number of identifiers, then up to 2047 16-bit controller identifiers, in one 4 KiB page. */
#define NVME_NSA_ATTACH 0x0
#define NVME_NSA_DETACH 0x1
#define NVME_CTRL_LIST_MAX 2047

/* ---- NVM command set (6) --------------------------------------------------------- */
#define NVME_CMD_FLUSH 0x00 /* 6.8 */
#define NVME_CMD_WRITE 0x01 /* 6.15: CDW10-11 SLBA, CDW12 NLB 15:0 (0's based) */
#define NVME_CMD_READ 0x02  /* 6.9: as Write */
#define NVME_CMD_DSM 0x09   /* 6.7: CDW10 NR 7:0 (0's based), CDW11 AD bit 2 */
#define NVME_DSM_AD (1u << 2)

/* A Dataset Management range (6.7). */
struct nvme_dsm_range {
	uint32_t cattr; /* context attributes */
	uint32_t nlb;	/* length in logical blocks (not 0's based) */
	uint64_t slba;
};
_Static_assert(sizeof(struct nvme_dsm_range) == 16, "DSM range is 16 bytes");

#endif
