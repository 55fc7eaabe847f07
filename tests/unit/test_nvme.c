/* The NVMe driver core (drivers/nvme.c) against a fake controller: registers, admin and I/O
 * queues in fake DMA memory, Identify data and a backing array of blocks.
 *
 * The fake executes a command when its SQ tail doorbell is written and posts the completion at
 * once, unless a test holds the I/O queue (then the test posts completions itself). It checks
 * what a controller may rely on: doorbell values inside the queue, PRP entries that obey 4.3
 * (only PRP1 with an offset, list entries page aligned), every DMA address inside the fake
 * memory; each violation is counted in fake.bad and every test ends with it 0. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "drivers/nvme.h"
#include "lib/kstring.h"

#define MEM_PAGES 128
#define MEM_BASE 0x80000000ull
#define DATA_PG 64 /* fake memory pages from here are the tests' buffers */
#define BAR_SIZE 0x4000
#define NR_BLOCKS 256 /* of 512 bytes; namespace 2 sees them as 32 blocks of 4 KiB */
#define FAKE_NS 4
#define CAP_GOOD                                                                                   \
	((uint64_t)63 /* MQES */ | NVME_CAP_CQR | (uint64_t)4 << 24 /* TO: 2 s */ |                \
	 (uint64_t)NVME_CAP_CSS_NVM << 37 | (uint64_t)4 << 52 /* MPSMAX 64 KiB */)
#define MS 1000000ull
#define FAKE_CNTLID 1 /* the primary's; its secondaries are 2.. (VF 1..) */
#define FAKE_SECS 3
#define SCT1(sc) (0x100 | (sc)) /* a command specific status */

static uint8_t mem[MEM_PAGES][NVME_PAGE_SIZE] __attribute__((aligned(4096)));

struct fake_sq {
	uint64_t base;
	unsigned size;
	uint16_t head, tail;
	bool live;
};

struct fake_cq {
	uint64_t base;
	unsigned size;
	uint16_t tail, head;
	uint16_t phase;
	bool live;
};

static struct {
	uint64_t cap, bar_size;
	uint32_t vs, cc, csts, aqa;
	uint64_t asq, acq;
	bool never_ready, stuck_ready, hold_io;
	uint16_t admin_fail_opc_status; /* status for the admin opcode admin_fail_opc */
	int admin_fail_opc;
	int drop_admin_opc; /* never completed */
	int fail_cns;	    /* Identify of that CNS fails */
	uint8_t id_ctrl[NVME_PAGE_SIZE];
	uint8_t id_ns[FAKE_NS + 1][NVME_PAGE_SIZE];
	uint32_t ns_list[8];
	uint8_t disk[NR_BLOCKS * 512];
	struct fake_sq sq[2];
	struct fake_cq cq[2];
	uint64_t now;
	unsigned bad, cc_writes, flushes, dsms, io_cmds, ns_list_cmds;
	struct nvme_sqe last_io;
	uint64_t last_prps[600]; /* the PRP entries of the last read or write, in order */
	unsigned nr_last_prps;
	bool last_list; /* whether PRP2 was a list pointer */
	bool msix;	/* MSI-X is on: a CQ may have interrupts on vector 0 (the only one) */
	unsigned create_cqs;
	uint32_t create_cq_cdw11; /* of the last Create I/O CQ */

	/* SR-IOV, kept as QEMU 7.2 keeps it: secondary i has SCID 2 + i and VFN i + 1 */
	struct {
		uint16_t scid, vfn, nvq, nvi;
		bool online;
	} sec[FAKE_SECS];
	unsigned vfs_enabled;		   /* a secondary of a VF not enabled cannot go online */
	uint16_t vqfrsm, vifrsm;	   /* most a secondary may be assigned */
	uint16_t vqfrt, vifrt;		   /* flexible resources in all */
	uint16_t vqrfap, virfap;	   /* those allocated to the primary */
	uint16_t next_vqrfap, next_virfap; /* what a reset makes them */
	int vm_dw0;			   /* >= 0: the DW0 of every assignment, instead of NR */
	bool sec_raw;			   /* CNS 15h returns sec_page as it is */
	uint8_t sec_page[NVME_PAGE_SIZE];
	uint8_t pcc_page[NVME_PAGE_SIZE];
	uint32_t vm_cdw10[64], vm_cdw11[64]; /* each Virtualization Management, in order */
	unsigned nr_vm, nr_sec_list;
	uint16_t attached[FAKE_NS + 1]; /* the controller a namespace is attached to, or 0 */
} fake;

/* bring_up sets ctrl.io_irq to this between nvme_init and the first poll, as the glue does */
static bool want_io_irq;

static struct nvme_ctrl ctrl;

static uint64_t pa_of(unsigned page)
{
	return MEM_BASE + (uint64_t)page * NVME_PAGE_SIZE;
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

static void post(unsigned qid, uint16_t cid, uint16_t sc, uint32_t dw0)
{
	struct fake_cq *q = &fake.cq[qid];
	struct nvme_cqe *e = (struct nvme_cqe *)dma(q->base + 16ull * q->tail, 16);

	assert_non_null(e);
	e->dw0 = dw0;
	e->dw1 = 0;
	e->sqhd = fake.sq[qid].head;
	e->sqid = (uint16_t)qid;
	e->cid = cid;
	e->status = (uint16_t)(sc << 1 | q->phase);
	if (++q->tail == q->size) {
		q->tail = 0;
		q->phase ^= 1;
	}
}

/* A CQ entry written by a test, fields as given; wrong_phase writes it without making it new. */
static void post_raw(uint16_t sqid, uint16_t sqhd, uint16_t cid, bool wrong_phase)
{
	struct fake_cq *q = &fake.cq[1];
	struct nvme_cqe *e = (struct nvme_cqe *)dma(q->base + 16ull * q->tail, 16);

	assert_non_null(e);
	e->dw0 = 0;
	e->sqhd = sqhd;
	e->sqid = sqid;
	e->cid = cid;
	e->status = (uint16_t)(wrong_phase ? q->phase ^ 1 : q->phase);
	if (wrong_phase)
		return;
	if (++q->tail == q->size) {
		q->tail = 0;
		q->phase ^= 1;
	}
}

/* PRPs of a transfer (4.3), checked as a controller may; calls fn on each piece. */
static bool walk_prps(const struct nvme_sqe *c, uint64_t bytes, uint8_t *disk, bool to_mem)
{
	uint64_t prp1 = c->prp1, off = 0;
	uint64_t entries[600];
	unsigned n = 0;
	uint64_t first = MIN(bytes, NVME_PAGE_SIZE - (prp1 % NVME_PAGE_SIZE));

	entries[n++] = prp1;
	fake.last_list = false;
	if (bytes > first) {
		uint64_t rest = bytes - first;
		unsigned more = (unsigned)((rest + NVME_PAGE_SIZE - 1) / NVME_PAGE_SIZE);

		if (more == 1) {
			entries[n++] = c->prp2;
		} else {
			const uint64_t *list;

			if (c->prp2 % 8 || more > 512) {
				fake.bad++;
				return false;
			}
			list = (const uint64_t *)dma(c->prp2, 8ull * more);
			if (!list)
				return false;
			fake.last_list = true;
			for (unsigned i = 0; i < more; i++)
				entries[n++] = list[i];
		}
	}
	memcpy(fake.last_prps, entries, n * sizeof(entries[0]));
	fake.nr_last_prps = n;
	for (unsigned i = 0; i < n; i++) {
		uint64_t len = i == 0 ? first : MIN(bytes - off, NVME_PAGE_SIZE);
		uint8_t *p;

		if (i > 0 && entries[i] % NVME_PAGE_SIZE) {
			fake.bad++;
			return false;
		}
		p = dma(entries[i], len);
		if (!p)
			return false;
		if (to_mem)
			memcpy(p, disk + off, len);
		else
			memcpy(disk + off, p, len);
		off += len;
	}
	return true;
}

static void put16(uint8_t *p, unsigned off, uint16_t v);
static void put32(uint8_t *p, unsigned off, uint32_t v);

/* Secondary Controller List from CNTID on (CNS 15h), as QEMU 7.2 builds it. */
static void fake_sec_list(uint8_t *p, uint16_t cntid)
{
	unsigned n = 0;

	fake.nr_sec_list++;
	memset(p, 0, NVME_PAGE_SIZE);
	if (fake.sec_raw) {
		memcpy(p, fake.sec_page, NVME_PAGE_SIZE);
		return;
	}
	for (unsigned i = 0; i < FAKE_SECS; i++) {
		uint8_t *e = p + NVME_SCL_ENTRY0 + n * NVME_SCL_ENTRY_SIZE;

		if (fake.sec[i].scid < cntid)
			continue;
		put16(e, NVME_SCE_SCID, fake.sec[i].scid);
		put16(e, NVME_SCE_PCID, FAKE_CNTLID);
		e[NVME_SCE_SCS] = fake.sec[i].online;
		put16(e, NVME_SCE_VFN, fake.sec[i].vfn);
		put16(e, NVME_SCE_NVQ, fake.sec[i].nvq);
		put16(e, NVME_SCE_NVI, fake.sec[i].nvi);
		n++;
	}
	p[NVME_SCL_NUMID] = (uint8_t)n;
}

/* Virtualization Management (5.22) with QEMU 7.2's rules: resources only while offline, within
 * VQFRSM/VIFRSM; offline takes them back; online needs 2 VQ, 1 VI and the VF enabled. */
static uint16_t fake_virt_mgmt(const struct nvme_sqe *c, uint32_t *dw0)
{
	unsigned act = c->cdw10 & 0xF, rt = (c->cdw10 >> 8) & 7, id = c->cdw10 >> 16;
	uint16_t nr = (uint16_t)c->cdw11;

	if (fake.nr_vm < 64) {
		fake.vm_cdw10[fake.nr_vm] = c->cdw10;
		fake.vm_cdw11[fake.nr_vm] = c->cdw11;
	}
	fake.nr_vm++;
	if (c->prp1 != pa_of(NVME_PG_IDENT))
		fake.bad++; /* every keel admin request has the driver's page, data or not */
	unsigned total = rt ? fake.vifrt : fake.vqfrt, prim = rt ? fake.virfap : fake.vqrfap,
		 sec = 0;

	for (unsigned i = 0; i < FAKE_SECS; i++)
		sec += rt ? fake.sec[i].nvi : fake.sec[i].nvq;
	if (act == NVME_VM_ACT_PRIMARY_FLEX) {
		/* QEMU 7.2: applied at the primary's next reset */
		if (id != FAKE_CNTLID || rt > 1)
			return SCT1(NVME_SC_INVALID_CTRL_ID);
		if (nr > total)
			return SCT1(NVME_SC_INVALID_NR_RESOURCES);
		if (nr > total - sec)
			return SCT1(NVME_SC_INVALID_RESOURCE_ID);
		if (rt)
			fake.next_virfap = nr;
		else
			fake.next_vqrfap = nr;
		*dw0 = fake.vm_dw0 >= 0 ? (uint32_t)fake.vm_dw0 : nr;
		return 0;
	}
	if (id < 2 || id >= 2 + FAKE_SECS || rt > 1)
		return SCT1(NVME_SC_INVALID_CTRL_ID);
	typeof(&fake.sec[0]) s = &fake.sec[id - 2];
	switch (act) {
	case NVME_VM_ACT_SEC_OFFLINE:
		s->online = false;
		s->nvq = s->nvi = 0;
		return 0;
	case NVME_VM_ACT_SEC_ASSIGN:
		if (s->online)
			return SCT1(NVME_SC_INVALID_SEC_CTRL_STATE);
		if (nr > (rt ? fake.vifrsm : fake.vqfrsm))
			return SCT1(NVME_SC_INVALID_NR_RESOURCES);
		if ((int)nr - (rt ? s->nvi : s->nvq) > (int)(total - prim - sec))
			return SCT1(NVME_SC_INVALID_RESOURCE_ID); /* the pool is empty */
		if (rt)
			s->nvi = nr;
		else
			s->nvq = nr;
		*dw0 = fake.vm_dw0 >= 0 ? (uint32_t)fake.vm_dw0 : nr;
		return 0;
	case NVME_VM_ACT_SEC_ONLINE:
		if (s->nvi < 1 || s->nvq < 2 || s->vfn > fake.vfs_enabled)
			return SCT1(NVME_SC_INVALID_SEC_CTRL_STATE);
		s->online = true;
		return 0;
	default:
		return NVME_SC_INVALID_FIELD;
	}
}

/* Namespace Attachment (5.19): one controller list in PRP1's page. */
static uint16_t fake_ns_attach(const struct nvme_sqe *c)
{
	const uint8_t *p = dma(c->prp1, NVME_PAGE_SIZE);
	uint16_t numid, id;

	if (!p || c->prp1 % NVME_PAGE_SIZE)
		return NVME_SC_DATA_XFER_ERROR;
	if (c->nsid == 0 || c->nsid > FAKE_NS)
		return NVME_SC_INVALID_NS;
	if ((c->cdw10 & 0xF) != NVME_NSA_ATTACH)
		return NVME_SC_INVALID_FIELD;
	memcpy(&numid, p, 2);
	memcpy(&id, p + 2, 2);
	if (numid != 1 || id < 2 || id >= 2 + FAKE_SECS || fake.sec[id - 2].vfn > fake.vfs_enabled)
		return SCT1(NVME_SC_CTRL_LIST_INVALID);
	for (unsigned i = 4; i < NVME_PAGE_SIZE; i++)
		if (p[i])
			fake.bad++; /* the rest of the list page is 0 */
	if (fake.attached[c->nsid])
		return SCT1(NVME_SC_NS_ALREADY_ATTACHED);
	fake.attached[c->nsid] = id;
	return 0;
}

static uint16_t do_admin(const struct nvme_sqe *c, uint32_t *dw0)
{
	uint8_t *p;

	if (fake.admin_fail_opc == c->opc)
		return fake.admin_fail_opc_status;
	if (c->opc == NVME_ADM_IDENTIFY && (int)(c->cdw10 & 0xFF) == fake.fail_cns)
		return NVME_SC_INVALID_FIELD;
	switch (c->opc) {
	case NVME_ADM_IDENTIFY:
		p = dma(c->prp1, NVME_PAGE_SIZE);
		if (!p || c->prp1 % NVME_PAGE_SIZE)
			return NVME_SC_DATA_XFER_ERROR;
		if ((c->cdw10 & 0xFF) == NVME_CNS_CTRL) {
			memcpy(p, fake.id_ctrl, NVME_PAGE_SIZE);
		} else if ((c->cdw10 & 0xFF) == NVME_CNS_NS) {
			if (c->nsid == 0 || c->nsid > FAKE_NS)
				return NVME_SC_INVALID_NS;
			memcpy(p, fake.id_ns[c->nsid], NVME_PAGE_SIZE);
		} else if ((c->cdw10 & 0xFF) == NVME_CNS_ACTIVE_NSIDS) {
			fake.ns_list_cmds++;
			memset(p, 0, NVME_PAGE_SIZE);
			memcpy(p, fake.ns_list, sizeof(fake.ns_list));
		} else if ((c->cdw10 & 0xFF) == NVME_CNS_PRIMARY_CAPS) {
			memcpy(p, fake.pcc_page, NVME_PAGE_SIZE);
		} else if ((c->cdw10 & 0xFF) == NVME_CNS_SECONDARY_LIST) {
			fake_sec_list(p, (uint16_t)(c->cdw10 >> 16));
		} else {
			return NVME_SC_INVALID_FIELD;
		}
		return 0;
	case NVME_ADM_SET_FEATURES:
		if ((c->cdw10 & 0xFF) != NVME_FEAT_NUM_QUEUES || c->cdw11 != 0)
			fake.bad++;
		*dw0 = 0x00030003; /* 4 and 4 */
		return 0;
	case NVME_ADM_CREATE_CQ: {
		unsigned qid = c->cdw10 & 0xFFFF, size = (c->cdw10 >> 16) + 1;
		bool ien = c->cdw11 & NVME_CQ_IEN;

		fake.create_cqs++;
		fake.create_cq_cdw11 = c->cdw11;
		/* the IV of a CQ without interrupts is ignored; with them it must name a vector */
		if (qid != 1 || size > 64 || size < 2 || (ien && (!fake.msix || c->cdw11 >> 16)) ||
		    (c->cdw11 & ~(NVME_CQ_PC | NVME_CQ_IEN | 0xFFFF0000u)) ||
		    !(c->cdw11 & NVME_CQ_PC) || c->prp1 % NVME_PAGE_SIZE)
			return 0x100 | 0x01; /* invalid queue identifier */
		fake.cq[1] = (struct fake_cq){ c->prp1, size, 0, 0, 1, true };
		return 0;
	}
	case NVME_ADM_CREATE_SQ: {
		unsigned qid = c->cdw10 & 0xFFFF, size = (c->cdw10 >> 16) + 1;

		if (qid != 1 || size > 64 || size < 2 || (c->cdw11 >> 16) != 1 || !fake.cq[1].live)
			return 0x100 | 0x01;
		fake.sq[1] = (struct fake_sq){ c->prp1, size, 0, 0, true };
		return 0;
	}
	case NVME_ADM_VIRT_MGMT:
		return fake_virt_mgmt(c, dw0);
	case NVME_ADM_NS_ATTACH:
		return fake_ns_attach(c);
	default:
		return NVME_SC_INVALID_OPCODE;
	}
}

static uint16_t do_io(const struct nvme_sqe *c)
{
	unsigned shift, nsid = c->nsid;
	uint64_t slba = c->cdw10 | (uint64_t)c->cdw11 << 32, nsze;

	if (nsid < 1 || nsid > 2)
		return NVME_SC_INVALID_NS;
	shift = nsid == 1 ? 9 : 12;
	nsze = sizeof(fake.disk) >> shift;
	fake.last_io = *c;
	fake.io_cmds++;
	switch (c->opc) {
	case NVME_CMD_READ:
	case NVME_CMD_WRITE: {
		uint64_t n = (c->cdw12 & 0xFFFF) + 1ull;

		if (!range_within(slba, n, nsze))
			return NVME_SC_LBA_RANGE;
		if (!walk_prps(c, n << shift, fake.disk + (slba << shift), c->opc == NVME_CMD_READ))
			return NVME_SC_DATA_XFER_ERROR;
		return 0;
	}
	case NVME_CMD_FLUSH:
		fake.flushes++;
		return 0;
	case NVME_CMD_DSM: {
		const struct nvme_dsm_range *r = (const struct nvme_dsm_range *)dma(c->prp1, 16);

		if (!r || (c->cdw10 & 0xFF) != 0 || !(c->cdw11 & NVME_DSM_AD))
			return NVME_SC_INVALID_FIELD;
		if (!range_within(r->slba, r->nlb, nsze))
			return NVME_SC_LBA_RANGE;
		memset(fake.disk + (r->slba << shift), 0, (size_t)r->nlb << shift);
		fake.dsms++;
		return 0;
	}
	default:
		return NVME_SC_INVALID_OPCODE;
	}
}

static void run_sq(unsigned qid)
{
	struct fake_sq *q = &fake.sq[qid];

	while (q->head != q->tail) {
		const struct nvme_sqe *c =
			(const struct nvme_sqe *)dma(q->base + 64ull * q->head, sizeof(*c));
		uint32_t dw0 = 0;
		uint16_t sc;

		assert_non_null(c);
		q->head = (uint16_t)((q->head + 1) % q->size);
		if (qid == 0 && c->opc == fake.drop_admin_opc)
			continue;
		sc = qid == 0 ? do_admin(c, &dw0) : do_io(c);
		post(qid, c->cid, sc, dw0);
	}
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	assert_ptr_equal(ctx, &fake);
	switch (off) {
	case NVME_REG_VS:
		return fake.vs;
	case NVME_REG_CC:
		return fake.cc;
	case NVME_REG_CSTS:
		return fake.csts;
	case NVME_REG_AQA:
		return fake.aqa;
	default:
		fake.bad++;
		return 0;
	}
}

static uint64_t rd64(void *ctx, uint32_t off)
{
	assert_ptr_equal(ctx, &fake);
	if (off == NVME_REG_CAP)
		return fake.cap;
	fake.bad++;
	return 0;
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	unsigned stride = 4u << NVME_CAP_DSTRD(fake.cap);

	assert_ptr_equal(ctx, &fake);
	if (off + 4 > fake.bar_size || off % 4) {
		fake.bad++;
		return;
	}
	if (off == NVME_REG_CC) {
		fake.cc_writes++;
		if ((v & NVME_CC_EN) && !(fake.cc & NVME_CC_EN)) {
			fake.sq[0] =
				(struct fake_sq){ fake.asq, (fake.aqa & 0xFFF) + 1, 0, 0, true };
			fake.cq[0] =
				(struct fake_cq){ fake.acq, ((fake.aqa >> 16) & 0xFFF) + 1, 0, 0, 1,
						  true };
			if (!fake.never_ready)
				fake.csts |= NVME_CSTS_RDY;
		} else if (!(v & NVME_CC_EN)) {
			fake.vqrfap = fake.next_vqrfap;
			fake.virfap = fake.next_virfap;
			fake.csts = fake.stuck_ready ? NVME_CSTS_RDY : 0; /* RDY and CFS cleared */
			memset(fake.sq, 0, sizeof(fake.sq));
			memset(fake.cq, 0, sizeof(fake.cq));
		}
		fake.cc = v;
		return;
	}
	if (off == NVME_REG_AQA) {
		fake.aqa = v;
		return;
	}
	if (off >= NVME_REG_DBS && (off - NVME_REG_DBS) % stride == 0) {
		unsigned idx = (off - NVME_REG_DBS) / stride, qid = idx / 2;

		if (qid > 1) {
			fake.bad++;
			return;
		}
		if (idx % 2 == 0) {
			if (!fake.sq[qid].live || v >= fake.sq[qid].size) {
				fake.bad++;
				return;
			}
			fake.sq[qid].tail = (uint16_t)v;
			if (qid == 0 || !fake.hold_io)
				run_sq(qid);
		} else {
			if (!fake.cq[qid].live || v >= fake.cq[qid].size)
				fake.bad++;
			else
				fake.cq[qid].head = (uint16_t)v;
		}
		return;
	}
	fake.bad++;
}

static void wr64(void *ctx, uint32_t off, uint64_t v)
{
	assert_ptr_equal(ctx, &fake);
	if (off == NVME_REG_ASQ)
		fake.asq = v;
	else if (off == NVME_REG_ACQ)
		fake.acq = v;
	else
		fake.bad++;
}

static uint64_t now_ns(void *ctx)
{
	assert_ptr_equal(ctx, &fake);
	return fake.now;
}

static const struct nvme_ops ops = { &fake, rd32, rd64, wr32, wr64, now_ns };

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	memcpy(p + off, &v, 2);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	memcpy(p + off, &v, 4);
}

static void put64(uint8_t *p, unsigned off, uint64_t v)
{
	memcpy(p + off, &v, 8);
}

/* A namespace of nsze blocks of 2^lbads bytes, LBA format 1 of 2 in use (format 0 is another). */
static void make_ns(unsigned nsid, uint64_t nsze, unsigned lbads, unsigned ms)
{
	uint8_t *p = fake.id_ns[nsid];

	memset(p, 0, NVME_PAGE_SIZE);
	put64(p, NVME_IDN_NSZE, nsze);
	put64(p, NVME_IDN_NCAP, nsze);
	p[NVME_IDN_NLBAF] = 1;
	p[NVME_IDN_FLBAS] = 1;
	put32(p, NVME_IDN_LBAF, 9u << 16 | 8); /* 512 + 8: not in use */
	put32(p, NVME_IDN_LBAF + 4, lbads << 16 | ms);
}

static int setup(void **state)
{
	(void)state;
	memset(&fake, 0, sizeof(fake));
	memset(&ctrl, 0, sizeof(ctrl));
	memset(mem, 0xA5, sizeof(mem));
	want_io_irq = false;
	fake.cap = CAP_GOOD;
	fake.bar_size = BAR_SIZE;
	fake.vs = NVME_VS(1, 4);
	fake.admin_fail_opc = -1;
	fake.drop_admin_opc = -1;
	fake.fail_cns = -1;
	memset(fake.id_ctrl + NVME_IDC_SN, ' ', NVME_IDC_SN_LEN);
	memcpy(fake.id_ctrl + NVME_IDC_SN, "keel-fake-01", 12);
	memset(fake.id_ctrl + NVME_IDC_MN, ' ', NVME_IDC_MN_LEN);
	memcpy(fake.id_ctrl + NVME_IDC_MN,
	       "Fake NVMe\x01"
	       "Controller",
	       20);
	memcpy(fake.id_ctrl + NVME_IDC_FR, "1.0", 3); /* NUL padded */
	fake.id_ctrl[NVME_IDC_MDTS] = 5;	      /* 128 KiB */
	fake.id_ctrl[NVME_IDC_SQES] = 0x66;
	fake.id_ctrl[NVME_IDC_CQES] = 0x44;
	put32(fake.id_ctrl, NVME_IDC_NN, 3);
	put16(fake.id_ctrl, NVME_IDC_ONCS, NVME_ONCS_DSM);
	fake.id_ctrl[NVME_IDC_VWC] = 1;
	make_ns(1, NR_BLOCKS, 9, 0);
	make_ns(2, NR_BLOCKS / 8, 12, 0);
	make_ns(3, NR_BLOCKS, 9, 8); /* metadata: refused */
	fake.ns_list[0] = 1;
	fake.ns_list[1] = 2;
	fake.ns_list[2] = 3;
	put16(fake.id_ctrl, NVME_IDC_CNTLID, FAKE_CNTLID);
	/* QEMU 7.2 with sriov_max_vfs=3, sriov_vq_flexible=12, sriov_vi_flexible=6: 4 VQ and 2 VI
	 * at most per secondary */
	for (unsigned i = 0; i < FAKE_SECS; i++) {
		fake.sec[i].scid = (uint16_t)(2 + i);
		fake.sec[i].vfn = (uint16_t)(1 + i);
	}
	fake.vfs_enabled = FAKE_SECS;
	fake.vqfrsm = 4;
	fake.vifrsm = 2;
	fake.vqfrt = 12;
	fake.vifrt = 6; /* the primary's flexible allocation released already (0) */
	fake.vm_dw0 = -1;
	put16(fake.pcc_page, NVME_PCC_CNTLID, FAKE_CNTLID);
	fake.pcc_page[NVME_PCC_CRT] = NVME_CRT_VQ | NVME_CRT_VI;
	put32(fake.pcc_page, NVME_PCC_VQFRT, 12);
	put16(fake.pcc_page, NVME_PCC_VQPRT, 7);
	put16(fake.pcc_page, NVME_PCC_VQFRSM, 4);
	put16(fake.pcc_page, NVME_PCC_VQGRAN, 1);
	put32(fake.pcc_page, NVME_PCC_VIFRT, 6);
	put16(fake.pcc_page, NVME_PCC_VIPRT, 1);
	put16(fake.pcc_page, NVME_PCC_VIFRSM, 2);
	put16(fake.pcc_page, NVME_PCC_VIGRAN, 1);
	for (unsigned i = 0; i < sizeof(fake.disk); i++)
		fake.disk[i] = (uint8_t)(i * 7 + i / 512);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	assert_int_equal(fake.bad, 0);
	return 0;
}

static int start(void)
{
	struct nvme_dma_page pages[NVME_DMA_PAGES];

	for (unsigned i = 0; i < NVME_DMA_PAGES; i++)
		pages[i] = (struct nvme_dma_page){ mem[i], pa_of(i) };
	return nvme_init(&ctrl, &ops, fake.bar_size, pages);
}

/* Polls every ms until the state is no longer a bring-up one (or a second passed). */
static enum nvme_state bring_up(void)
{
	assert_int_equal(start(), NVME_OK);
	ctrl.io_irq = want_io_irq;
	for (unsigned i = 0; i < 1000; i++) {
		enum nvme_state s = nvme_poll(&ctrl, fake.now);

		if (s == NVME_S_READY || s == NVME_S_FAILED)
			return s;
		fake.now += MS;
	}
	return ctrl.state;
}

struct done_rec {
	unsigned calls;
	int status;
};

static void done_cb(void *arg, int status)
{
	struct done_rec *r = arg;

	r->calls++;
	r->status = status;
}

/* Submits and polls until the callback ran; returns the submit error or the status. */
static int io(enum nvme_op op, uint32_t nsid, uint64_t lba, uint32_t n, const struct nvme_sg *sg,
	      unsigned nr)
{
	struct done_rec r = { 0 };
	int rc = nvme_submit(&ctrl, nsid, op, lba, n, sg, nr, done_cb, &r);

	if (rc)
		return rc;
	for (unsigned i = 0; i < 10 && !r.calls; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(r.calls, 1);
	return r.status;
}

static void bring_up_ok(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_string_equal(nvme_state_name(ctrl.state), "ready");
	assert_string_equal(ctrl.serial, "keel-fake-01");
	assert_string_equal(ctrl.model, "Fake NVMe?Controller");
	assert_string_equal(ctrl.firmware, "1.0");
	assert_int_equal(ctrl.max_xfer, 128 * 1024);
	assert_int_equal(ctrl.io_depth, NVME_IO_DEPTH);
	assert_int_equal(ctrl.ready_timeout_ns, 2000 * MS);
	/* CC: EN, NVM, 4 KiB pages, 64/16-byte entries; admin queues as set */
	assert_int_equal(fake.cc, 0x00460001);
	assert_int_equal(fake.aqa, NVME_AQA(NVME_ADMIN_DEPTH, NVME_ADMIN_DEPTH));
	assert_int_equal(fake.asq, pa_of(NVME_PG_ASQ));
	assert_int_equal(fake.acq, pa_of(NVME_PG_ACQ));
	assert_true(fake.cq[1].live && fake.sq[1].live);
	assert_int_equal(fake.cq[1].base, pa_of(NVME_PG_IOCQ));
	assert_int_equal(fake.sq[1].size, NVME_IO_DEPTH);
	assert_int_equal(fake.ns_list_cmds, 1);
	assert_int_equal(ctrl.nr_ns, 3);
	const struct nvme_ns *ns = nvme_ns_get(&ctrl, 1);
	assert_non_null(ns);
	assert_int_equal(ns->lba_shift, 9);
	assert_int_equal(ns->nsze, NR_BLOCKS);
	ns = nvme_ns_get(&ctrl, 2);
	assert_non_null(ns);
	assert_int_equal(ns->lba_shift, 12);
	assert_null(nvme_ns_get(&ctrl, 3));
	assert_string_equal(ctrl.ns[2].why, "metadata per block (not supported)");
	assert_int_equal(ctrl.nr_resets, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 0);
}

/* Before 1.1 there is no active NSID list: NSIDs 1..NN. */
static void bring_up_v10(void **state)
{
	(void)state;
	fake.vs = NVME_VS(1, 0);
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(fake.ns_list_cmds, 0);
	assert_int_equal(ctrl.nr_ns, 3);
	assert_non_null(nvme_ns_get(&ctrl, 2));
}

static void fill(unsigned page, unsigned off, unsigned len, uint8_t seed)
{
	uint8_t *p = &mem[0][0] + (size_t)page * NVME_PAGE_SIZE + off;

	for (unsigned i = 0; i < len; i++)
		p[i] = (uint8_t)(seed + i * 13 + i / 4096);
}

/* One block from inside a page: PRP1 with an offset, PRP2 0. */
static void rw_prp1(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	fill(DATA_PG, 0x200, 512, 1);
	struct nvme_sg w = { pa_of(DATA_PG) + 0x200, 512 };
	assert_int_equal(io(NVME_OP_WRITE, 1, 10, 1, &w, 1), 0);
	assert_int_equal(fake.last_io.opc, NVME_CMD_WRITE);
	assert_int_equal(fake.last_io.prp1, pa_of(DATA_PG) + 0x200);
	assert_int_equal(fake.last_io.prp2, 0);
	assert_int_equal(fake.last_io.cdw10, 10);
	assert_int_equal(fake.last_io.cdw12, 0);
	assert_memory_equal(fake.disk + 10 * 512, &mem[DATA_PG][0x200], 512);

	struct nvme_sg r = { pa_of(DATA_PG + 1) + 0xE00, 512 };
	assert_int_equal(io(NVME_OP_READ, 1, 10, 1, &r, 1), 0);
	assert_int_equal(fake.last_io.opc, NVME_CMD_READ);
	assert_memory_equal(&mem[DATA_PG + 1][0xE00], &mem[DATA_PG][0x200], 512);
}

/* Two pages: PRP2 is the second page, from one segment or from two. */
static void rw_prp2(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	/* 4 KiB from offset 0x800: the pages DATA_PG and DATA_PG + 1 */
	fill(DATA_PG, 0x800, 0x800, 2);
	fill(DATA_PG + 1, 0, 0x800, 3);
	struct nvme_sg w = { pa_of(DATA_PG) + 0x800, 0x1000 };
	assert_int_equal(io(NVME_OP_WRITE, 1, 0, 8, &w, 1), 0);
	assert_int_equal(fake.last_io.prp1, pa_of(DATA_PG) + 0x800);
	assert_int_equal(fake.last_io.prp2, pa_of(DATA_PG + 1));
	assert_false(fake.last_list);
	assert_memory_equal(fake.disk, &mem[DATA_PG][0x800], 0x800);
	assert_memory_equal(fake.disk + 0x800, &mem[DATA_PG + 1][0], 0x800);

	/* namespace 2 (4 KiB blocks), 2 blocks into two pages far apart */
	struct nvme_sg r[2] = { { pa_of(DATA_PG + 10), 0x1000 }, { pa_of(DATA_PG + 20), 0x1000 } };
	assert_int_equal(io(NVME_OP_READ, 2, 0, 2, r, 2), 0);
	assert_int_equal(fake.last_io.prp1, pa_of(DATA_PG + 10));
	assert_int_equal(fake.last_io.prp2, pa_of(DATA_PG + 20));
	assert_int_equal(fake.last_io.cdw12, 1);
	assert_memory_equal(&mem[DATA_PG + 10][0], fake.disk, 0x1000);
	assert_memory_equal(&mem[DATA_PG + 20][0], fake.disk + 0x1000, 0x1000);
}

/* Three segments over five pages: PRP2 points at a list in the driver's slot page. */
static void rw_prp_list(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	struct nvme_sg w[3] = {
		{ pa_of(DATA_PG) + 0x400, 0xC00 },
		{ pa_of(DATA_PG + 4), 0x2000 },
		{ pa_of(DATA_PG + 8), 0x1400 },
	};
	fill(DATA_PG, 0x400, 0xC00, 4);
	fill(DATA_PG + 4, 0, 0x2000, 5);
	fill(DATA_PG + 8, 0, 0x1400, 6);
	assert_int_equal(io(NVME_OP_WRITE, 1, 100, 0x4000 / 512, w, 3), 0);
	assert_true(fake.last_list);
	assert_int_equal(fake.nr_last_prps, 5);
	const uint64_t want[5] = { pa_of(DATA_PG) + 0x400, pa_of(DATA_PG + 4), pa_of(DATA_PG + 5),
				   pa_of(DATA_PG + 8), pa_of(DATA_PG + 9) };
	assert_memory_equal(fake.last_prps, want, sizeof(want));
	assert_int_equal(fake.last_io.prp1, want[0]);
	/* the list is in one of the slot pages, page aligned */
	assert_true(fake.last_io.prp2 >= pa_of(NVME_PG_SLOT0) &&
		    fake.last_io.prp2 < pa_of(NVME_DMA_PAGES) &&
		    fake.last_io.prp2 % NVME_PAGE_SIZE == 0);
	assert_memory_equal(fake.disk + 100 * 512, &mem[DATA_PG][0x400], 0xC00);
	assert_memory_equal(fake.disk + 100 * 512 + 0xC00, &mem[DATA_PG + 4][0], 0x2000);
	assert_memory_equal(fake.disk + 100 * 512 + 0x2C00, &mem[DATA_PG + 8][0], 0x1400);

	/* read it back as 32 pieces of one page each: 32 entries, 31 in the list */
	struct nvme_sg r[32];
	for (unsigned i = 0; i < 32; i++)
		r[i] = (struct nvme_sg){ pa_of(DATA_PG + 32 + i), 512 };
	for (unsigned i = 0; i + 1 < 32; i++)
		r[i].len = NVME_PAGE_SIZE; /* all but the last end at a page boundary */
	assert_int_equal(io(NVME_OP_READ, 1, 0, 31 * 8 + 1, r, 32), 0);
	assert_int_equal(fake.nr_last_prps, 32);
	for (unsigned i = 0; i < 32; i++)
		assert_int_equal(fake.last_prps[i], pa_of(DATA_PG + 32 + i));
	for (unsigned i = 0; i < 31; i++)
		assert_memory_equal(&mem[DATA_PG + 32 + i][0], fake.disk + i * 0x1000, 0x1000);
	assert_memory_equal(&mem[DATA_PG + 63][0], fake.disk + 31 * 0x1000, 512);
}

/* Requests refused before anything reaches the controller. */
static void refused_requests(void **state)
{
	(void)state;
	const uint64_t a = pa_of(DATA_PG), b = pa_of(DATA_PG + 2);
	static const struct {
		const char *what;
		uint64_t lba;
		struct nvme_sg sg[3];
		uint32_t nsid, n;
		unsigned nr;
		int rc;
	} cases[] = {
		{ "second segment not page aligned",
		  0,
		  { { 0, 0x1000 }, { 0x200, 0x1000 } },
		  1,
		  16,
		  2,
		  NVME_E_INVAL },
		{ "first segment not ending at a page",
		  0,
		  { { 0, 0x800 }, { 0x2000, 0x800 } },
		  1,
		  8,
		  2,
		  NVME_E_INVAL },
		{ "not dword aligned", 0, { { 0x102, 512 } }, 1, 1, 1, NVME_E_INVAL },
		{ "empty segment", 0, { { 0, 512 }, { 0x2000, 0 } }, 1, 1, 2, NVME_E_INVAL },
		{ "segments shorter than the blocks", 0, { { 0, 512 } }, 1, 2, 1, NVME_E_INVAL },
		{ "segments longer than the blocks", 0, { { 0, 0x1000 } }, 1, 1, 1, NVME_E_INVAL },
		{ "no segments", 0, { { 0, 512 } }, 1, 1, 0, NVME_E_INVAL },
		{ "no blocks", 0, { { 0, 512 } }, 1, 0, 1, NVME_E_INVAL },
		{ "past the end", NR_BLOCKS - 1, { { 0, 1024 } }, 1, 2, 1, NVME_E_RANGE },
		{ "lba + n wraps", UINT64_MAX, { { 0, 1024 } }, 1, 2, 1, NVME_E_RANGE },
		{ "over MDTS", 0, { { 0, 17 * 512 } }, 1, 17, 1, NVME_E_TOO_BIG },
		{ "refused namespace", 0, { { 0, 512 } }, 3, 1, 1, NVME_E_NO_NS },
		{ "no such namespace", 0, { { 0, 512 } }, 99, 1, 1, NVME_E_NO_NS },
	};

	fake.id_ctrl[NVME_IDC_MDTS] = 1; /* 8 KiB */
	assert_int_equal(bring_up(), NVME_S_READY);
	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		struct nvme_sg sg[3];
		struct done_rec r = { 0 };

		for (unsigned j = 0; j < 3; j++)
			sg[j] = (struct nvme_sg){ cases[i].sg[j].pa + (j ? b : a),
						  cases[i].sg[j].len };
		print_message("%s\n", cases[i].what);
		assert_int_equal(nvme_submit(&ctrl, cases[i].nsid, NVME_OP_READ, cases[i].lba,
					     cases[i].n, sg, cases[i].nr, done_cb, &r),
				 cases[i].rc);
	}
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(fake.io_cmds, 0);
	assert_int_equal(ctrl.nr_busy, 0);
}

/* CAP values that exclude the controller: refused before any register is written. */
static void cap_garbage(void **state)
{
	static const struct {
		const char *what;
		uint64_t cap, bar;
	} cases[] = {
		{ "MQES 0", CAP_GOOD & ~0xFFFFull, BAR_SIZE },
		{ "no NVM command set", (CAP_GOOD & ~(0xFFull << 37)) | 0x80ull << 37, BAR_SIZE },
		{ "MPSMIN 8 KiB", CAP_GOOD | 1ull << 48, BAR_SIZE },
		{ "MPSMAX below MPSMIN", (CAP_GOOD & ~(0xFull << 52)) | 2ull << 48, BAR_SIZE },
		{ "DSTRD past the BAR", CAP_GOOD | 15ull << 32, BAR_SIZE },
		{ "BAR without doorbells", CAP_GOOD, 0x1000 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		setup(state);
		fake.cap = cases[i].cap;
		fake.bar_size = cases[i].bar;
		print_message("%s\n", cases[i].what);
		assert_int_equal(bring_up(), NVME_S_FAILED);
		assert_non_null(ctrl.why);
		assert_int_equal(fake.cc_writes, 0);
		assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_FLUSH, 0, 0, NULL, 0, done_cb, NULL),
				 NVME_E_NOT_READY);
	}
	/* CAP values that are odd but usable */
	setup(state);
	fake.cap = (CAP_GOOD & ~0xFFFFull & ~(0xFFull << 24)) | 3; /* MQES 3, TO 0 */
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(ctrl.io_depth, 4);
	assert_int_equal(ctrl.ready_timeout_ns, 500 * MS);
	setup(state);
	fake.cap = CAP_GOOD | 2ull << 32; /* DSTRD 2: 16-byte doorbell stride */
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(io(NVME_OP_FLUSH, 1, 0, 0, NULL, 0), 0);
}

/* Identify Controller values that exclude the controller, and a failing admin command. */
static void id_ctrl_garbage(void **state)
{
	static const struct {
		const char *what;
		unsigned off;
		uint8_t v;
	} cases[] = {
		{ "SQES max 32 B", NVME_IDC_SQES, 0x55 }, { "SQES min 128 B", NVME_IDC_SQES, 0x77 },
		{ "SQES 0", NVME_IDC_SQES, 0x00 },	  { "CQES max 8 B", NVME_IDC_CQES, 0x33 },
		{ "CQES min 32 B", NVME_IDC_CQES, 0x55 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		setup(state);
		fake.id_ctrl[cases[i].off] = cases[i].v;
		print_message("%s\n", cases[i].what);
		assert_int_equal(bring_up(), NVME_S_FAILED);
		assert_non_null(ctrl.why);
		assert_int_equal(fake.cc & NVME_CC_EN, 0); /* left disabled */
	}
	static const int opcs[] = { NVME_ADM_IDENTIFY, NVME_ADM_SET_FEATURES, NVME_ADM_CREATE_CQ,
				    NVME_ADM_CREATE_SQ };
	for (unsigned i = 0; i < ARRAY_SIZE(opcs); i++) {
		setup(state);
		fake.admin_fail_opc = opcs[i];
		fake.admin_fail_opc_status = NVME_SC_INVALID_FIELD;
		assert_int_equal(bring_up(), NVME_S_FAILED);
		assert_string_equal(ctrl.why, "a bring-up admin command failed");
	}
	/* MDTS: 0 and anything past 2 MiB mean the driver's own limit */
	static const struct {
		uint8_t mdts;
		uint32_t max;
	} mdts[] = {
		{ 0, NVME_MAX_XFER }, { 1, 8192 }, { 9, NVME_MAX_XFER }, { 200, NVME_MAX_XFER }
	};
	for (unsigned i = 0; i < ARRAY_SIZE(mdts); i++) {
		setup(state);
		fake.id_ctrl[NVME_IDC_MDTS] = mdts[i].mdts;
		assert_int_equal(bring_up(), NVME_S_READY);
		assert_int_equal(ctrl.max_xfer, mdts[i].max);
	}
	/* strings: every byte unprintable, or none there */
	setup(state);
	memset(fake.id_ctrl + NVME_IDC_SN, 0xFF, NVME_IDC_SN_LEN);
	memset(fake.id_ctrl + NVME_IDC_MN, 0, NVME_IDC_MN_LEN);
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_string_equal(ctrl.serial, "????????????????????");
	assert_string_equal(ctrl.model, "");
}

/* Identify Namespace values that make a namespace unusable; the controller stays up. */
static void id_ns_garbage(void **state)
{
	static const struct {
		const char *what;
		uint64_t nsze;
		unsigned lbads, ms, flbas, nlbaf, dps;
	} cases[] = {
		{ "512 B blocks with metadata", NR_BLOCKS, 9, 8, 1, 1, 0 },
		{ "256 B blocks", NR_BLOCKS, 8, 0, 1, 1, 0 },
		{ "8 KiB blocks", NR_BLOCKS, 13, 0, 1, 1, 0 },
		{ "LBADS 255", NR_BLOCKS, 255, 0, 1, 1, 0 },
		{ "FLBAS past NLBAF", NR_BLOCKS, 9, 0, 3, 1, 0 },
		{ "FLBAS 15 of NLBAF 0", NR_BLOCKS, 9, 0, 15, 0, 0 },
		{ "protection type 1", NR_BLOCKS, 9, 0, 1, 1, 1 },
		{ "NSZE 0", 0, 9, 0, 1, 1, 0 },
		{ "NSZE overflowing bytes", 1ull << 60, 12, 0, 1, 1, 0 },
	};

	for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
		uint8_t *p;

		setup(state);
		make_ns(2, cases[i].nsze, cases[i].lbads, cases[i].ms);
		p = fake.id_ns[2];
		p[NVME_IDN_FLBAS] = (uint8_t)cases[i].flbas;
		p[NVME_IDN_NLBAF] = (uint8_t)cases[i].nlbaf;
		p[NVME_IDN_DPS] = (uint8_t)cases[i].dps;
		print_message("%s\n", cases[i].what);
		assert_int_equal(bring_up(), NVME_S_READY);
		assert_null(nvme_ns_get(&ctrl, 2));
		assert_non_null(ctrl.ns[1].why);
		assert_non_null(nvme_ns_get(&ctrl, 1));
		struct nvme_sg sg = { pa_of(DATA_PG), 512 };
		assert_int_equal(nvme_submit(&ctrl, 2, NVME_OP_READ, 0, 1, &sg, 1, done_cb, NULL),
				 NVME_E_NO_NS);
	}
	/* NSID lists that go backwards, repeat, or name an NSID above NN: cut there */
	static const struct {
		uint32_t list[4];
		unsigned nr_ns;
	} lists[] = {
		{ { 2, 1, 3, 0 }, 1 },
		{ { 1, 1, 2, 0 }, 1 },
		{ { 1, 4, 0, 0 }, 1 },
		{ { 0xFFFFFFFFu, 0, 0, 0 }, 0 },
	};
	for (unsigned i = 0; i < ARRAY_SIZE(lists); i++) {
		setup(state);
		memcpy(fake.ns_list, lists[i].list, sizeof(lists[i].list));
		assert_int_equal(bring_up(), NVME_S_READY);
		assert_int_equal(ctrl.nr_ns, lists[i].nr_ns);
		assert_int_equal(ctrl.nr_bad_nsid, 1);
	}
	/* an inactive namespace and a failing Identify Namespace: those refused, the rest not */
	setup(state);
	fake.ns_list[1] = 4; /* Identify data all zero */
	fake.ns_list[2] = 5; /* the fake fails it */
	put32(fake.id_ctrl, NVME_IDC_NN, 5);
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(ctrl.nr_ns, 3);
	assert_non_null(nvme_ns_get(&ctrl, 1));
	assert_string_equal(ctrl.ns[1].why, "NSZE 0 (inactive)");
	assert_string_equal(ctrl.ns[2].why, "Identify Namespace failed");
}

/* Completion entries that break the rules are ignored and counted; the right one completes the
 * command exactly once. */
static void bad_completions(void **state)
{
	struct done_rec r = { 0 };
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	uint16_t cid, tail;
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	fake.hold_io = true;
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, 0, 1, &sg, 1, done_cb, &r), 0);
	cid = ctrl.slot[0].cid;
	tail = ctrl.io.sq_tail;
	assert_int_equal(tail, 1);

	post_raw(1, tail, cid, true); /* old phase: not a new entry */
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(r.calls, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 0);

	post_raw(1, tail, (uint16_t)(cid + 0x20), false); /* another generation */
	post_raw(1, tail, (uint16_t)(cid + 1), false);	  /* a slot not in use */
	post_raw(1, tail, 0x1F, false);			  /* slot 31: past the table */
	post_raw(1, 2, cid, false);			  /* SQ head past the tail */
	post_raw(1, 40, cid, false);			  /* SQ head past the queue */
	post_raw(0, tail, cid, false);			  /* the admin SQ */
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(r.calls, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 6);
	assert_int_equal(fake.cq[1].head, 6); /* consumed all the same */

	post_raw(1, tail, cid, false);
	post_raw(1, tail, cid, false); /* a duplicate */
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 7);
	assert_int_equal(ctrl.nr_busy, 0);

	/* a whole pass of the CQ and the phase flips: still in step */
	fake.hold_io = false;
	fake.sq[1].head = fake.sq[1].tail = ctrl.io.sq_tail;
	for (unsigned i = 0; i < 3 * NVME_IO_DEPTH; i++)
		assert_int_equal(io(NVME_OP_READ, 1, i % NR_BLOCKS, 1, &sg, 1), 0);
	assert_int_equal(ctrl.nr_bad_cqe, 7);
	assert_int_equal(ctrl.nr_resets, 0);
}

/* Bring-up going wrong in the middle: a lost admin command, a bogus admin completion, CSTS.CFS
 * while enabling and while identifying, a failing NSID list; and CSTS.RDY dropping once up. */
static void bring_up_faults(void **state)
{
	assert_int_equal(start(), NVME_OK);
	assert_string_equal(nvme_state_name(ctrl.state), "off");
	fake.drop_admin_opc = NVME_ADM_SET_FEATURES;
	for (unsigned i = 0; i < 4; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.state, NVME_S_ADMIN);
	assert_string_equal(nvme_state_name(ctrl.state), "identifying");
	/* an entry for a command that is not outstanding */
	fake.cq[0].tail = ctrl.admin.cq_head;
	post(0, (uint16_t)(ctrl.admin_cid + 1), 0, 0);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_bad_cqe, 1);
	assert_int_equal(ctrl.state, NVME_S_ADMIN);
	fake.now += NVME_ADMIN_TIMEOUT_NS;
	fake.drop_admin_opc = -1;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_string_equal(nvme_state_name(ctrl.state), "disabling");
	assert_string_equal(ctrl.why, "bring-up admin command timed out");
	for (unsigned i = 0; i < 20 && ctrl.state != NVME_S_READY; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(ctrl.nr_resets, 1);

	/* CSTS.RDY cleared under a ready driver */
	fake.csts = 0;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_string_equal(ctrl.why, "CSTS.RDY cleared by the controller");

	/* CSTS.CFS while enabling, then while identifying */
	setup(state);
	fake.never_ready = true;
	assert_int_equal(start(), NVME_OK);
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_ENABLING);
	assert_string_equal(nvme_state_name(ctrl.state), "enabling");
	fake.csts |= NVME_CSTS_CFS;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_int_equal(ctrl.nr_fatal, 1);
	fake.never_ready = false;
	fake.drop_admin_opc = NVME_ADM_IDENTIFY;
	for (unsigned i = 0; i < 3; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.state, NVME_S_ADMIN);
	fake.csts |= NVME_CSTS_CFS;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_int_equal(ctrl.nr_fatal, 2);
	assert_string_equal(ctrl.why, "CSTS.CFS during bring-up");
	fake.drop_admin_opc = -1;
	for (unsigned i = 0; i < 20 && ctrl.state != NVME_S_READY; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.state, NVME_S_READY);

	/* no NSID list: namespaces 1..NN */
	setup(state);
	fake.fail_cns = NVME_CNS_ACTIVE_NSIDS;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(ctrl.nr_ns, 3);
	assert_non_null(nvme_ns_get(&ctrl, 1));
	assert_string_equal(nvme_state_name(NVME_S_FAILED), "failed");
	assert_string_equal(nvme_state_name((enum nvme_state)99), "?");
}

/* A controller that never sets CSTS.RDY: reset after CAP.TO, again, then given up. */
static void never_ready(void **state)
{
	(void)state;
	fake.never_ready = true;
	assert_int_equal(start(), NVME_OK);
	for (unsigned i = 0; i < 100 && ctrl.state != NVME_S_FAILED; i++) {
		nvme_poll(&ctrl, fake.now);
		if (i == 0)
			assert_int_equal(ctrl.state, NVME_S_ENABLING);
		fake.now += 100 * MS;
		if (i == 19) /* 2 s: CAP.TO not over yet */
			assert_int_equal(ctrl.nr_resets, 0);
	}
	assert_int_equal(ctrl.state, NVME_S_FAILED);
	assert_int_equal(ctrl.nr_resets, NVME_MAX_RESETS + 1);
	assert_string_equal(ctrl.why, "too many resets");
	assert_int_equal(fake.cc & NVME_CC_EN, 0);
}

/* A controller that stays ready with CC.EN 0: given up after CAP.TO. */
static void never_disables(void **state)
{
	(void)state;
	fake.cc = NVME_CC_EN;
	fake.csts = NVME_CSTS_RDY;
	fake.stuck_ready = true;
	assert_int_equal(start(), NVME_OK);
	for (unsigned i = 0; i < 50; i++) {
		nvme_poll(&ctrl, fake.now);
		fake.now += 100 * MS;
	}
	assert_int_equal(ctrl.state, NVME_S_FAILED);
	assert_string_equal(ctrl.why, "CSTS.RDY stayed 1 with CC.EN 0 past CAP.TO");
}

/* A command past its deadline fails as timed out, another outstanding one as reset, once the
 * controller is disabled; then it comes back up and works. */
static void command_timeout(void **state)
{
	struct done_rec r1 = { 0 }, r2 = { 0 };
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	ctrl.io_timeout_ns = 1000 * MS;
	fake.hold_io = true;
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, 0, 1, &sg, 1, done_cb, &r1), 0);
	fake.now += 500 * MS;
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, 1, 1, &sg, 1, done_cb, &r2), 0);
	fake.now += 499 * MS;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_READY);
	fake.now += 1 * MS;
	/* failed only once the controller is seen disabled, at the next poll */
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_int_equal(r1.calls + r2.calls, 0);
	fake.hold_io = false;
	assert_int_equal(ctrl.nr_timeouts, 1);
	assert_int_equal(ctrl.nr_resets, 1);
	assert_string_equal(ctrl.why, "I/O command timed out");
	for (unsigned i = 0; i < 20 && ctrl.state != NVME_S_READY; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(r1.calls, 1);
	assert_int_equal(r1.status, NVME_E_TIMEOUT);
	assert_int_equal(r2.calls, 1);
	assert_int_equal(r2.status, NVME_E_RESET);
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
	assert_int_equal(ctrl.resets_in_row, 0);
}

/* CSTS.CFS while commands are outstanding: reset, they fail, the controller comes back. */
static void fatal_status(void **state)
{
	struct done_rec r = { 0 };
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	fake.hold_io = true;
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_WRITE, 0, 1, &sg, 1, done_cb, &r), 0);
	nvme_poll(&ctrl, fake.now); /* CSTS read: fine */
	fake.csts |= NVME_CSTS_CFS;
	/* CSTS is read once per NVME_CSTS_PERIOD_NS, not on every poll */
	nvme_poll(&ctrl, fake.now + NVME_CSTS_PERIOD_NS - 1);
	assert_int_equal(ctrl.nr_fatal, 0);
	fake.now += NVME_CSTS_PERIOD_NS;
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_fatal, 1);
	fake.hold_io = false;
	for (unsigned i = 0; i < 20 && ctrl.state != NVME_S_READY; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.status, NVME_E_RESET);
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(ctrl.nr_resets, 1);
	/* a device that vanished reads all ones */
	fake.csts = 0xFFFFFFFFu;
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_fatal, 2);
}

/* By default the I/O CQ is polled: CDW11 has PC alone (NVMe 1.4, 5.3), as before MSI-X. */
static void io_cq_polled(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_false(ctrl.io_irq);
	assert_int_equal(fake.create_cqs, 1);
	assert_int_equal(fake.create_cq_cdw11, NVME_CQ_PC);
}

/* With io_irq the I/O CQ signals MSI-X vector 0: CDW11 IEN bit 1 and IV 31:16 = 0, again after a
 * reset; completions still come from nvme_poll, and Set Features Number of Queues is unchanged
 * (the fake counts any other CDW11 as bad). */
static void io_cq_interrupts(void **state)
{
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	fake.msix = true;
	want_io_irq = true;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_true(ctrl.io_irq);
	assert_int_equal(fake.create_cqs, 1);
	assert_int_equal(fake.create_cq_cdw11, NVME_CQ_PC | NVME_CQ_IEN | NVME_CQ_IV(0));
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
	/* a reset creates the queue again, still with its interrupt */
	fake.csts |= NVME_CSTS_CFS;
	fake.now += NVME_CSTS_PERIOD_NS;
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_fatal, 1);
	for (unsigned i = 0; i < 20 && ctrl.state != NVME_S_READY; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(fake.create_cqs, 2);
	assert_int_equal(fake.create_cq_cdw11, NVME_CQ_PC | NVME_CQ_IEN | NVME_CQ_IV(0));
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
}

/* A full queue refuses at once; a completion frees room. */
static void queue_full(void **state)
{
	struct done_rec r[4] = { { 0 } };
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	fake.cap = (CAP_GOOD & ~0xFFFFull) | 3; /* queues of 4 entries: 3 commands */
	assert_int_equal(bring_up(), NVME_S_READY);
	fake.hold_io = true;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, i, 1, &sg, 1, done_cb, &r[i]),
				 NVME_OK);
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, 3, 1, &sg, 1, done_cb, &r[3]),
			 NVME_E_BUSY);
	fake.hold_io = false;
	run_sq(1);
	nvme_poll(&ctrl, fake.now);
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(r[i].calls, 1);
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_READ, 3, 1, &sg, 1, done_cb, &r[3]),
			 NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(r[3].calls, 1);

	/* the slot table is the limit with deep queues */
	setup(state);
	assert_int_equal(bring_up(), NVME_S_READY);
	fake.hold_io = true;
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
		assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_FLUSH, 0, 0, NULL, 0, NULL, NULL),
				 NVME_OK);
	assert_int_equal(nvme_submit(&ctrl, 1, NVME_OP_FLUSH, 0, 0, NULL, 0, NULL, NULL),
			 NVME_E_BUSY);
	run_sq(1);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_busy, 0);
	assert_int_equal(fake.flushes, NVME_IO_SLOTS);
}

/* Flush always; deallocate only when ONCS has Dataset Management. */
static void flush_and_deallocate(void **state)
{
	(void)state;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(io(NVME_OP_FLUSH, 1, 0, 0, NULL, 0), 0);
	assert_int_equal(fake.flushes, 1);
	assert_int_equal(fake.last_io.nsid, 1);
	assert_int_equal(io(NVME_OP_DEALLOCATE, 1, 8, 4, NULL, 0), 0);
	assert_int_equal(fake.dsms, 1);
	for (unsigned i = 8 * 512; i < 12 * 512; i++)
		assert_int_equal(fake.disk[i], 0);
	assert_int_not_equal(fake.disk[12 * 512 + 1], 0);
	assert_int_equal(io(NVME_OP_DEALLOCATE, 2, 31, 2, NULL, 0), NVME_E_RANGE);
	assert_int_equal(io(NVME_OP_DEALLOCATE, 2, 0, 0, NULL, 0), NVME_E_INVAL);

	setup(state);
	put16(fake.id_ctrl, NVME_IDC_ONCS, 0);
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(io(NVME_OP_DEALLOCATE, 1, 8, 4, NULL, 0), NVME_E_UNSUPP);
	assert_int_equal(fake.dsms, 0);
}

/* A device error is the caller's status: SCT << 8 | SC. */
static void device_error(void **state)
{
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	/* namespace 2 at the fake is 32 blocks; the driver believes the Identify data, so shrink
	 * the fake's idea behind the driver's back */
	ctrl.ns[1].nsze = 1000;
	struct nvme_sg big = { pa_of(DATA_PG), 0x1000 };
	assert_int_equal(io(NVME_OP_READ, 2, 500, 1, &big, 1), NVME_SC_LBA_RANGE);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
	assert_int_equal(ctrl.nr_resets, 0);
}

/* Bad DMA pages are refused by nvme_init. */
static void init_checks(void **state)
{
	struct nvme_dma_page pages[NVME_DMA_PAGES];
	(void)state;

	for (unsigned i = 0; i < NVME_DMA_PAGES; i++)
		pages[i] = (struct nvme_dma_page){ mem[i], pa_of(i) };
	pages[3].pa += 8;
	assert_int_equal(nvme_init(&ctrl, &ops, BAR_SIZE, pages), NVME_E_INVAL);
	pages[3].pa -= 8;
	pages[4].va = NULL;
	assert_int_equal(nvme_init(&ctrl, &ops, BAR_SIZE, pages), NVME_E_INVAL);
	pages[4].va = mem[4];
	assert_int_equal(nvme_init(&ctrl, &ops, BAR_SIZE, pages), NVME_OK);
	assert_int_equal(ctrl.state, NVME_S_OFF);
	assert_int_equal(fake.cc_writes, 0);
}

/* ---- admin requests and SR-IOV virtualization ------------------------------------------------ */

struct areq_rec {
	unsigned calls;
	int status;
	uint32_t dw0;
	bool data;
	uint8_t page[NVME_PAGE_SIZE];
};

static void areq_cb(void *arg, int status, uint32_t dw0, const void *data)
{
	struct areq_rec *r = arg;

	r->calls++;
	r->status = status;
	r->dw0 = dw0;
	r->data = data != NULL;
	if (data)
		memcpy(r->page, data, NVME_PAGE_SIZE);
}

/* Polls every ms until the SR-IOV sequence is done (or 10 s passed); returns the state. */
static enum nvme_state sriov_run(void)
{
	for (unsigned i = 0; i < 10000 && ctrl.sriov.step != NVME_SRIOV_DONE; i++) {
		nvme_poll(&ctrl, fake.now);
		fake.now += MS;
	}
	return ctrl.state;
}

/* The VM command fake.vm_cdw10[i] is act on cntlid (rt and nr as given) */
static void assert_vm(unsigned i, unsigned act, unsigned rt, unsigned cntlid, unsigned nr)
{
	assert_int_equal(fake.vm_cdw10[i], NVME_VM_CDW10(act, rt, cntlid));
	assert_int_equal(fake.vm_cdw11[i], nr);
}

/* Both VFs come up: list, then per secondary offline, VQ, VI, online; then a namespace created
 * detached is attached to VF 1's controller; I/O goes on meanwhile. */
static void sriov_ok(void **state)
{
	struct areq_rec a = { 0 };
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(ctrl.cntlid, FAKE_CNTLID);
	fake.sec[0].online = true; /* left online by an earlier owner: offline first */
	fake.sec[0].nvq = 3;
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_E_BUSY);
	assert_int_equal(nvme_attach_ns(&ctrl, 4, 2, areq_cb, &a), NVME_E_BUSY);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_int_equal(fake.nr_sec_list, 1);
	assert_int_equal(ctrl.sriov.list_status, 0);
	assert_int_equal(ctrl.sec.nr, 2); /* VF 3 is not asked for: dropped */
	assert_int_equal(fake.nr_vm, 8);
	for (unsigned v = 0; v < 2; v++) {
		assert_vm(4 * v + 0, NVME_VM_ACT_SEC_OFFLINE, 0, 2 + v, 0);
		assert_vm(4 * v + 1, NVME_VM_ACT_SEC_ASSIGN, NVME_VM_RT_VQ, 2 + v, 2);
		assert_vm(4 * v + 2, NVME_VM_ACT_SEC_ASSIGN, NVME_VM_RT_VI, 2 + v, 1);
		assert_vm(4 * v + 3, NVME_VM_ACT_SEC_ONLINE, 0, 2 + v, 0);
		assert_true(ctrl.sriov.vf[v].online);
		assert_int_equal(ctrl.sriov.vf[v].status, 0);
		assert_int_equal(ctrl.sriov.vf[v].scid, 2 + v);
		assert_true(fake.sec[v].online);
		assert_int_equal(fake.sec[v].nvq, 2);
		assert_int_equal(fake.sec[v].nvi, 1);
	}
	assert_false(fake.sec[2].online);

	assert_int_equal(nvme_attach_ns(&ctrl, 4, 2, areq_cb, &a), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_true(a.data); /* the controller list as sent: NUMID 1, controller 2 */
	assert_int_equal(a.page[0] | a.page[1] << 8, 1);
	assert_int_equal(a.page[2] | a.page[3] << 8, 2);
	assert_int_equal(fake.attached[4], 2);
	/* the controller's refusal is the caller's status; nothing is reset for it */
	assert_int_equal(nvme_attach_ns(&ctrl, 4, 3, areq_cb, &a), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.status, SCT1(NVME_SC_NS_ALREADY_ATTACHED));
	assert_int_equal(nvme_attach_ns(&ctrl, 0, 2, areq_cb, &a), NVME_E_INVAL);
	assert_int_equal(nvme_attach_ns(&ctrl, NVME_NSID_ALL, 2, areq_cb, &a), NVME_E_INVAL);
	assert_int_equal(ctrl.nr_resets, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 0);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);
}

/* QEMU 7.2's refusals, per VF: online without the VF enabled, more resources than VQFRSM, an
 * allocation other than asked; each VF's status kept, the others still brought up. */
static void sriov_refusals(void **state)
{
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	fake.vfs_enabled = 1;
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 3, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_true(ctrl.sriov.vf[0].online);
	for (unsigned v = 1; v < 3; v++) {
		assert_false(ctrl.sriov.vf[v].online);
		assert_int_equal(ctrl.sriov.vf[v].status, SCT1(NVME_SC_INVALID_SEC_CTRL_STATE));
		assert_int_equal(ctrl.sriov.vf[v].failed_act, NVME_VM_ACT_SEC_ONLINE);
	}

	fake.vfs_enabled = 3;
	fake.nr_vm = 0;
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 5, 1), NVME_OK); /* VQFRSM is 4 */
	assert_int_equal(sriov_run(), NVME_S_READY);
	for (unsigned v = 0; v < 2; v++) {
		assert_int_equal(ctrl.sriov.vf[v].status, SCT1(NVME_SC_INVALID_NR_RESOURCES));
		assert_int_equal(ctrl.sriov.vf[v].failed_act, NVME_VM_ACT_SEC_ASSIGN);
		assert_false(fake.sec[v].online); /* offline went through, then it stopped */
	}
	assert_int_equal(fake.nr_vm, 4);

	fake.vm_dw0 = 1; /* says it allocated 1 of 2 */
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 1, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_int_equal(ctrl.sriov.vf[0].status, NVME_E_SHORT);
	assert_false(fake.sec[0].online);

	/* the list itself refused by the controller: no VF touched */
	fake.vm_dw0 = -1;
	fake.fail_cns = NVME_CNS_SECONDARY_LIST;
	fake.nr_vm = 0;
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_int_equal(ctrl.sriov.list_status, NVME_SC_INVALID_FIELD);
	assert_int_equal(ctrl.sriov.vf[0].status, NVME_SC_INVALID_FIELD);
	assert_int_equal(fake.nr_vm, 0);

	assert_int_equal(nvme_sriov_bring_online(&ctrl, 0, 2, 1), NVME_E_INVAL);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, NVME_MAX_VFS + 1, 2, 1), NVME_E_INVAL);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 1, 1, 1), NVME_E_INVAL);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 1, 2, 0), NVME_E_INVAL);
	assert_int_equal(ctrl.nr_resets, 0);
}

static void sec_entry(uint8_t *p, unsigned i, uint16_t scid, uint16_t pcid, uint16_t vfn)
{
	uint8_t *e = p + NVME_SCL_ENTRY0 + i * NVME_SCL_ENTRY_SIZE;

	put16(e, NVME_SCE_SCID, scid);
	put16(e, NVME_SCE_PCID, pcid);
	put16(e, NVME_SCE_VFN, vfn);
	put16(e, NVME_SCE_NVQ, 2);
	put16(e, NVME_SCE_NVI, 1);
	e[NVME_SCE_SCS] = 0xFF; /* reserved bits set: only bit 0 is read */
}

/* Hostile Secondary Controller Lists, parsed directly and through the sequence. */
static void secondary_list_garbage(void **state)
{
	static uint8_t p[NVME_PAGE_SIZE];
	static struct nvme_sec_list l;
	(void)state;

	/* NUMID 255: only the 127 entries the page holds are read */
	memset(p, 0, sizeof(p));
	p[NVME_SCL_NUMID] = 255;
	for (unsigned i = 0; i < NVME_SCL_MAX; i++)
		sec_entry(p, i, (uint16_t)(10 + i), 1, (uint16_t)(i + 1));
	assert_int_equal(nvme_parse_secondary_list(p, 1, 200, &l), NVME_OK);
	assert_int_equal(l.nr, NVME_SCL_MAX);
	assert_int_equal(l.nr_dropped, 255 - NVME_SCL_MAX);
	assert_true(l.more);
	assert_true(l.e[5].online);
	assert_int_equal(l.e[126].scid, 136);

	/* entries refused one by one */
	memset(p, 0, sizeof(p));
	p[NVME_SCL_NUMID] = 7;
	sec_entry(p, 0, 0, 1, 1);      /* SCID 0 */
	sec_entry(p, 1, 1, 1, 1);      /* the primary itself */
	sec_entry(p, 2, 0xFFFF, 1, 1); /* reserved id */
	sec_entry(p, 3, 5, 9, 1);      /* another primary's */
	sec_entry(p, 4, 6, 1, 0);      /* not a VF */
	sec_entry(p, 5, 7, 1, 3);      /* VFN past max_vfn */
	sec_entry(p, 6, 8, 1, 2);      /* good */
	assert_int_equal(nvme_parse_secondary_list(p, 1, 2, &l), NVME_OK);
	assert_int_equal(l.nr, 1);
	assert_int_equal(l.nr_dropped, 6);
	assert_false(l.more);
	assert_int_equal(l.e[0].scid, 8);
	assert_int_equal(l.e[0].vfn, 2);
	assert_int_equal(l.e[0].nvq, 2);

	/* a SCID twice, a VFN twice: the list is refused */
	memset(p, 0, sizeof(p));
	p[NVME_SCL_NUMID] = 2;
	sec_entry(p, 0, 2, 1, 1);
	sec_entry(p, 1, 2, 1, 2);
	assert_int_equal(nvme_parse_secondary_list(p, 1, 2, &l), NVME_E_BAD_DATA);
	sec_entry(p, 1, 3, 1, 1);
	assert_int_equal(nvme_parse_secondary_list(p, 1, 2, &l), NVME_E_BAD_DATA);

	/* through the sequence: a refused list touches no secondary */
	assert_int_equal(bring_up(), NVME_S_READY);
	fake.sec_raw = true;
	memcpy(fake.sec_page, p, sizeof(p));
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_int_equal(ctrl.sriov.list_status, NVME_E_BAD_DATA);
	assert_int_equal(ctrl.sriov.vf[0].status, NVME_E_BAD_DATA);
	assert_int_equal(ctrl.sriov.vf[1].status, NVME_E_BAD_DATA);
	assert_int_equal(fake.nr_vm, 0);

	/* a list lacking VF 2: VF 1 comes up, VF 2 has no controller */
	memset(fake.sec_page, 0, sizeof(fake.sec_page));
	fake.sec_page[NVME_SCL_NUMID] = 200;
	sec_entry(fake.sec_page, 0, 2, FAKE_CNTLID, 1);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_true(ctrl.sriov.vf[0].online);
	assert_int_equal(ctrl.sriov.vf[1].status, NVME_E_NO_CTRL);
	assert_int_equal(ctrl.sriov.vf[1].scid, 0);
	assert_int_equal(fake.nr_vm, 4);
}

/* Primary Controller Capabilities: read through an admin request, then parsed; hostile ones
 * refused. */
static void primary_caps(void **state)
{
	static struct areq_rec a;
	struct nvme_admin_req r;
	struct nvme_primary_caps pc;
	(void)state;

	memset(&a, 0, sizeof(a));
	assert_int_equal(bring_up(), NVME_S_READY);
	nvme_cmd_identify_primary(&r);
	r.done = areq_cb;
	r.arg = &a;
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_OK);
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_BUSY);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_true(a.data);
	assert_int_equal(nvme_parse_primary_caps(a.page, ctrl.cntlid, &pc), NVME_OK);
	assert_int_equal(pc.cntlid, FAKE_CNTLID);
	assert_int_equal(pc.crt, NVME_CRT_VQ | NVME_CRT_VI);
	assert_int_equal(pc.vqfrt, 12);
	assert_int_equal(pc.vqprt, 7);
	assert_int_equal(pc.vqfrsm, 4);
	assert_int_equal(pc.vqgran, 1);
	assert_int_equal(pc.vifrt, 6);
	assert_int_equal(pc.viprt, 1);
	assert_int_equal(pc.vifrsm, 2);
	assert_int_equal(pc.vigran, 1);

	assert_int_equal(nvme_parse_primary_caps(a.page, 7, &pc), NVME_E_BAD_DATA);
	a.page[NVME_PCC_CRT] = 0x7;
	assert_int_equal(nvme_parse_primary_caps(a.page, 1, &pc), NVME_E_BAD_DATA);
	a.page[NVME_PCC_CRT] = 0x3;
	put32(a.page, NVME_PCC_VQRFA, 0xFFFFFFFFu); /* with VQRFAP: wraps 32 bits */
	put16(a.page, NVME_PCC_VQRFAP, 1);
	assert_int_equal(nvme_parse_primary_caps(a.page, 1, &pc), NVME_E_BAD_DATA);
	put32(a.page, NVME_PCC_VQRFA, 8);
	put16(a.page, NVME_PCC_VQRFAP, 4);
	assert_int_equal(nvme_parse_primary_caps(a.page, 1, &pc), NVME_OK);
	put16(a.page, NVME_PCC_VIFRSM, 7); /* above VIFRT */
	assert_int_equal(nvme_parse_primary_caps(a.page, 1, &pc), NVME_E_BAD_DATA);
	put16(a.page, NVME_PCC_VIFRSM, 2);
	put16(a.page, NVME_PCC_VIRFAP, 7);
	assert_int_equal(nvme_parse_primary_caps(a.page, 1, &pc), NVME_E_BAD_DATA);
}

/* nvme_admin_submit's refusals, and stray admin completions once READY. */
static void admin_req_refused(void **state)
{
	struct areq_rec a = { 0 };
	struct nvme_admin_req r;
	(void)state;

	nvme_cmd_virt_mgmt(&r, NVME_VM_ACT_SEC_OFFLINE, 0, 2, 0);
	r.done = areq_cb;
	r.arg = &a;
	assert_int_equal(start(), NVME_OK);
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_NOT_READY);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 1, 2, 1), NVME_E_NOT_READY);
	assert_int_equal(bring_up(), NVME_S_READY);
	r.cmd.opc = NVME_ADM_CREATE_SQ; /* would break the core's own queues */
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_INVAL);
	r.cmd.opc = NVME_ADM_SET_FEATURES;
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_INVAL);
	r.cmd.opc = NVME_ADM_VIRT_MGMT;
	r.out_len = sizeof(r.out) + 1;
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_INVAL);
	r.out_len = 0;
	r.done = NULL;
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_E_INVAL);
	r.done = areq_cb;
	assert_int_equal(fake.nr_vm, 0);

	/* an admin completion nobody waits for: ignored, counted */
	post(0, 0x1234, 0, 0);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.nr_bad_cqe, 1);
	assert_int_equal(nvme_admin_submit(&ctrl, &r), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, 0);
	assert_int_equal(ctrl.nr_bad_cqe, 1);
	assert_int_equal(ctrl.nr_resets, 0);
}

/* A Virtualization Management that never completes: after NVME_ADMIN_TIMEOUT_NS the controller
 * is reset, the sequence ends with the VFs failed (timeout, then reset), bring-up runs again and
 * I/O works; a late completion of the lost command is ignored. */
static void sriov_timeout(void **state)
{
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	fake.drop_admin_opc = NVME_ADM_VIRT_MGMT;
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	for (unsigned i = 0; i < 10 && ctrl.sriov.step != NVME_SRIOV_OFFLINE; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.sriov.step, NVME_SRIOV_OFFLINE);
	fake.now += NVME_ADMIN_TIMEOUT_NS - 1;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_READY);
	fake.now += 1;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_string_equal(ctrl.why, "admin command timed out");
	assert_int_equal(ctrl.sriov.step, NVME_SRIOV_OFFLINE); /* failed once disabled */
	fake.drop_admin_opc = -1;
	for (unsigned i = 0; i < 50 && ctrl.state != NVME_S_READY; i++) {
		nvme_poll(&ctrl, fake.now);
		fake.now += MS;
	}
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(ctrl.sriov.step, NVME_SRIOV_DONE);
	assert_int_equal(ctrl.sriov.vf[0].status, NVME_E_TIMEOUT);
	assert_int_equal(ctrl.sriov.vf[0].failed_act, NVME_VM_ACT_SEC_OFFLINE);
	assert_int_equal(ctrl.sriov.vf[1].status, NVME_E_TIMEOUT);
	assert_int_equal(ctrl.nr_timeouts, 1);
	assert_int_equal(ctrl.nr_resets, 1);
	assert_false(ctrl.areq.busy);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);

	/* and the sequence runs whole afterwards */
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_true(ctrl.sriov.vf[0].online && ctrl.sriov.vf[1].online);
}

/* CSTS.CFS under an admin request: it fails as reset, the controller comes back. */
static void admin_req_reset(void **state)
{
	struct areq_rec a = { 0 };
	(void)state;

	assert_int_equal(bring_up(), NVME_S_READY);
	fake.drop_admin_opc = NVME_ADM_NS_ATTACH;
	assert_int_equal(nvme_attach_ns(&ctrl, 4, 2, areq_cb, &a), NVME_OK);
	fake.csts |= NVME_CSTS_CFS;
	fake.now += NVME_CSTS_PERIOD_NS;
	assert_int_equal(nvme_poll(&ctrl, fake.now), NVME_S_DISABLING);
	assert_int_equal(a.calls, 0);
	fake.drop_admin_opc = -1;
	for (unsigned i = 0; i < 50 && ctrl.state != NVME_S_READY; i++) {
		nvme_poll(&ctrl, fake.now);
		fake.now += MS;
	}
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, NVME_E_RESET);
	assert_false(a.data);
	assert_int_equal(ctrl.nr_timeouts, 0);
	assert_int_equal(nvme_attach_ns(&ctrl, 4, 2, areq_cb, &a), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(a.calls, 2);
	assert_int_equal(a.status, 0);
}

/* QEMU 7.2 as it starts: every flexible resource allocated to the primary, so assigning fails
 * (Invalid Resource Identifier) until nvme_sriov_release_primary has allocated the primary 0 VQ
 * and 0 VI and reset the controller; then both VFs come up. */
static void sriov_release_primary(void **state)
{
	struct nvme_sg sg = { pa_of(DATA_PG), 512 };
	(void)state;

	fake.vqrfap = fake.next_vqrfap = 12;
	fake.virfap = fake.next_virfap = 6;
	assert_int_equal(bring_up(), NVME_S_READY);
	assert_int_equal(nvme_sriov_bring_online(&ctrl, 1, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_int_equal(ctrl.sriov.vf[0].status, SCT1(NVME_SC_INVALID_RESOURCE_ID));
	assert_int_equal(ctrl.sriov.vf[0].failed_act, NVME_VM_ACT_SEC_ASSIGN);

	fake.nr_vm = 0;
	assert_int_equal(nvme_sriov_release_primary(&ctrl), NVME_OK);
	assert_int_equal(nvme_sriov_release_primary(&ctrl), NVME_E_BUSY);
	for (unsigned i = 0; i < 5 && ctrl.sriov.step != NVME_SRIOV_DONE; i++)
		nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.sriov.primary_status, 0);
	assert_int_equal(fake.nr_vm, 2);
	assert_vm(0, NVME_VM_ACT_PRIMARY_FLEX, NVME_VM_RT_VQ, FAKE_CNTLID, 0);
	assert_vm(1, NVME_VM_ACT_PRIMARY_FLEX, NVME_VM_RT_VI, FAKE_CNTLID, 0);
	assert_int_equal(ctrl.state, NVME_S_DISABLING); /* the reset that applies it */
	for (unsigned i = 0; i < 50 && ctrl.state != NVME_S_READY; i++) {
		nvme_poll(&ctrl, fake.now);
		fake.now += MS;
	}
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(fake.vqrfap, 0);
	assert_int_equal(fake.virfap, 0);
	assert_int_equal(ctrl.resets_in_row, 0);
	assert_int_equal(io(NVME_OP_READ, 1, 0, 1, &sg, 1), 0);

	assert_int_equal(nvme_sriov_bring_online(&ctrl, 2, 2, 1), NVME_OK);
	assert_int_equal(sriov_run(), NVME_S_READY);
	assert_true(ctrl.sriov.vf[0].online && ctrl.sriov.vf[1].online);

	/* the controller's refusal: no reset */
	fake.admin_fail_opc = NVME_ADM_VIRT_MGMT;
	fake.admin_fail_opc_status = SCT1(NVME_SC_INVALID_CTRL_ID);
	assert_int_equal(nvme_sriov_release_primary(&ctrl), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.sriov.step, NVME_SRIOV_DONE);
	assert_int_equal(ctrl.sriov.primary_status, SCT1(NVME_SC_INVALID_CTRL_ID));
	assert_int_equal(ctrl.state, NVME_S_READY);
	/* a DW0 other than the 0 asked: refused, no reset */
	fake.admin_fail_opc = -1;
	fake.vm_dw0 = 3;
	assert_int_equal(nvme_sriov_release_primary(&ctrl), NVME_OK);
	nvme_poll(&ctrl, fake.now);
	assert_int_equal(ctrl.sriov.primary_status, NVME_E_SHORT);
	assert_int_equal(ctrl.state, NVME_S_READY);
	assert_int_equal(nvme_reset(&ctrl, "test"), NVME_OK);
	assert_int_equal(nvme_reset(&ctrl, "test"), NVME_E_NOT_READY);
	assert_string_equal(ctrl.why, "test");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(bring_up_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(bring_up_v10, setup, teardown),
		cmocka_unit_test_setup_teardown(rw_prp1, setup, teardown),
		cmocka_unit_test_setup_teardown(rw_prp2, setup, teardown),
		cmocka_unit_test_setup_teardown(rw_prp_list, setup, teardown),
		cmocka_unit_test_setup_teardown(refused_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(cap_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(id_ctrl_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(id_ns_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_completions, setup, teardown),
		cmocka_unit_test_setup_teardown(bring_up_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(never_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(never_disables, setup, teardown),
		cmocka_unit_test_setup_teardown(command_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(fatal_status, setup, teardown),
		cmocka_unit_test_setup_teardown(io_cq_polled, setup, teardown),
		cmocka_unit_test_setup_teardown(io_cq_interrupts, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(flush_and_deallocate, setup, teardown),
		cmocka_unit_test_setup_teardown(device_error, setup, teardown),
		cmocka_unit_test_setup_teardown(init_checks, setup, teardown),
		cmocka_unit_test_setup_teardown(sriov_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(sriov_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(secondary_list_garbage, setup, teardown),
		cmocka_unit_test_setup_teardown(primary_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(admin_req_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(sriov_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(admin_req_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(sriov_release_primary, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
