/* The NVMe driver core (drivers/nvme.c) against a controller the fuzzer plays.
 *
 * Input: a byte stream read as needed (zeros once it runs out). The first byte picks how CAP is
 * made (raw from the input, or with the fields keel needs forced sane) and BAR 0's size; then
 * come CAP and VS. After that the stream drives both sides in turn: a step byte advances the
 * clock by one of eight amounts, may submit a command whose operation, namespace, LBA, block
 * count and scatter list come from the input, and polls. Between steps the controller executes
 * what was queued: Identify pages are good templates with input bytes written over them, and each
 * command's completion is chosen by a byte: posted, posted with an error status, delayed, never
 * posted, posted twice, or preceded by an entry of input garbage. CSTS reads follow CC.EN unless
 * a byte says otherwise (random bits, all ones). When the input ends, the clock runs on in 10 s
 * steps until every command is finished. A step byte may also start an admin request (the
 * SR-IOV sequence, the primary giving up its flexible resources, a Namespace Attachment, an
 * Identify of the primary's capabilities or of the secondary list, or a request with an input
 * opcode); the Identify pages of CNS 14h/15h are good templates with input bytes over them, like
 * the others.
 *
 * Checked: no crash or sanitizer report (the driver's DMA pages are separate allocations); every
 * register access inside BAR 0 and every doorbell value inside its queue; every address handed to
 * the controller (queues, Identify buffer, PRP entries, PRP lists, DSM ranges) inside a page the
 * driver owns or a page of that command's scatter list, a PRP list or DSM range in the command's
 * own slot page, and the PRP entries exactly those 4.3 makes of the scatter list; every submitted
 * command completed exactly once (success, error or timeout) and none while it was not
 * outstanding; the same for admin requests, whose data page is what the parsers then check (every
 * entry they keep within the bounds they promise); every Virtualization Management command names
 * the secondary of the VF the sequence is at, with the action and amount of its step; the SR-IOV
 * sequence always ends. */
#include "drivers/nvme.h"
#include "lib/kstring.h"
#include "tests/support/fuzz_input.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DRV_BASE 0x1000000000ull
#define DATA_BASE 0x2000000000ull
#define DATA_PAGES 16
#define MAX_RECS 256
#define MAX_PENDING 16

struct rec {
	bool in_flight;
	unsigned calls;
	uint16_t cid;
	uint8_t opc;
	uint32_t nsid;
	uint64_t bytes;
	struct nvme_sg sg[4];
	unsigned nr_sg;
};

struct q {
	uint64_t base;
	unsigned size;
	uint16_t head, tail, cq_tail, phase;
	bool live;
};

struct arec {
	bool in_flight;
	unsigned calls;
	uint8_t kind; /* 0 list, 1 caps, 2 attach, 3 raw */
	uint16_t max_vfn;
};

static struct {
	struct arec recs[MAX_RECS];
	unsigned nr_recs;
	bool sriov_started;
	bool attach_in_flight; /* the request in flight is nvme_attach_ns's (raw ones may be any) */
} fa;

static struct {
	uint64_t cap, bar;
	uint32_t cc, aqa;
	uint64_t asq, acq;
	struct q sq[2], cq[2];
	struct {
		unsigned qid;
		uint16_t cid, sqhd;
	} pending[MAX_PENDING];
	unsigned nr_pending;
	uint64_t now;
	struct rec recs[MAX_RECS];
	unsigned nr_recs;
} fz;

static uint8_t *drv_pages[NVME_DMA_PAGES];
static uint8_t id_ctrl[NVME_PAGE_SIZE], id_ns[NVME_PAGE_SIZE];
static uint8_t id_pcc[NVME_PAGE_SIZE], id_sec[NVME_PAGE_SIZE];
static struct nvme_ctrl ctrl;

/* A driver page by its physical address, or abort: the driver handed the controller an address
 * of memory it does not own. */
static uint8_t *drv_page(uint64_t pa)
{
	uint64_t i = (pa - DRV_BASE) / NVME_PAGE_SIZE;

	if (pa < DRV_BASE || i >= NVME_DMA_PAGES || pa % NVME_PAGE_SIZE)
		abort();
	return drv_pages[i];
}

static void post(unsigned qid, uint16_t cid, uint16_t sqhd, uint16_t sqid, uint16_t sc,
		 uint32_t dw0)
{
	struct q *q = &fz.cq[qid];
	struct nvme_cqe *e;

	if (!q->live)
		return;
	e = (struct nvme_cqe *)(drv_page(q->base) + 16u * q->cq_tail);
	e->dw0 = dw0;
	e->dw1 = 0;
	e->sqhd = sqhd;
	e->sqid = sqid;
	e->cid = cid;
	e->status = (uint16_t)((sc & 0x7FFF) << 1 | q->phase);
	if (++q->cq_tail == q->size) {
		q->cq_tail = 0;
		q->phase ^= 1;
	}
}

/* Identify data: a good page with up to 7 input bytes written over it. */
static void identify(const struct nvme_sqe *c)
{
	uint8_t *p = drv_page(c->prp1);
	unsigned cns = c->cdw10 & 0xFF;

	if (c->prp1 != DRV_BASE + NVME_PG_IDENT * NVME_PAGE_SIZE)
		abort();
	if (cns == NVME_CNS_CTRL) {
		memcpy(p, id_ctrl, NVME_PAGE_SIZE);
	} else if (cns == NVME_CNS_NS) {
		memcpy(p, id_ns, NVME_PAGE_SIZE);
	} else if (cns == NVME_CNS_ACTIVE_NSIDS) {
		memset(p, 0, NVME_PAGE_SIZE);
		p[0] = 1;
		p[4] = 2;
	} else if (cns == NVME_CNS_PRIMARY_CAPS) {
		memcpy(p, id_pcc, NVME_PAGE_SIZE);
	} else if (cns == NVME_CNS_SECONDARY_LIST) {
		memcpy(p, id_sec, NVME_PAGE_SIZE);
	} else if (ctrl.state != NVME_S_READY) {
		abort(); /* bring-up asks for nothing else */
	} else {
		memset(p, 0, NVME_PAGE_SIZE); /* an admin request's own CNS */
	}
	for (unsigned n = u8() % 8; n; n--) {
		unsigned off = (unsigned)un(2) % NVME_PAGE_SIZE;

		p[off] = u8();
	}
}

static struct rec *find_rec(uint16_t cid)
{
	for (unsigned i = 0; i < fz.nr_recs; i++)
		if (fz.recs[i].in_flight && fz.recs[i].cid == cid)
			return &fz.recs[i];
	return NULL;
}

/* The page of the driver's slot that a CID names (its low 5 bits): each command's PRP list or DSM
 * range has a page of its own, which no other outstanding command uses. */
static uint64_t slot_pa(uint16_t cid)
{
	return DRV_BASE + (NVME_PG_SLOT0 + (cid & 0x1Fu)) * (uint64_t)NVME_PAGE_SIZE;
}

/* The PRP entries of a read or write, exactly as 4.3 makes them of the record's scatter list. */
static void check_prps(const struct nvme_sqe *c, const struct rec *r)
{
	uint64_t want[600], got[600];
	unsigned n = 0, m = 0;

	for (unsigned i = 0; i < r->nr_sg; i++) {
		uint64_t pa = r->sg[i].pa, end = pa + r->sg[i].len;

		for (uint64_t a = pa; a < end; a = (a & ~0xFFFull) + NVME_PAGE_SIZE) {
			if (n == 600)
				abort();
			want[n++] = a;
		}
	}
	got[m++] = c->prp1;
	if (n == 2) {
		got[m++] = c->prp2;
	} else if (n > 2) {
		const uint64_t *list = (const uint64_t *)drv_page(c->prp2);

		if (c->prp2 != slot_pa(c->cid) || n - 1 > 512)
			abort(); /* not the command's own list page */
		for (unsigned i = 0; i + 1 < n; i++)
			got[m++] = list[i];
	} else if (c->prp2 != 0) {
		abort();
	}
	if (m != n || memcmp(got, want, n * sizeof(want[0])) != 0)
		abort();
}

static void check_io(const struct nvme_sqe *c)
{
	struct rec *r = find_rec(c->cid);

	if (!r || r->opc != c->opc || r->nsid != c->nsid)
		abort(); /* a command nobody submitted, or not as submitted */
	if (c->opc == NVME_CMD_READ || c->opc == NVME_CMD_WRITE) {
		check_prps(c, r);
	} else if (c->opc == NVME_CMD_DSM) {
		const struct nvme_dsm_range *d = (const struct nvme_dsm_range *)drv_page(c->prp1);

		if (c->prp1 != slot_pa(c->cid) || d->nlb == 0)
			abort();
	}
}

/* A keel admin request as the controller sees it: data in the Identify page; a Virtualization
 * Management of the SR-IOV sequence names the secondary its current VF was found to have. */
static void check_admin(const struct nvme_sqe *c)
{
	static const uint8_t act_of[] = {
		[NVME_SRIOV_OFFLINE] = NVME_VM_ACT_SEC_OFFLINE,
		[NVME_SRIOV_ASSIGN_VQ] = NVME_VM_ACT_SEC_ASSIGN,
		[NVME_SRIOV_ASSIGN_VI] = NVME_VM_ACT_SEC_ASSIGN,
		[NVME_SRIOV_ONLINE] = NVME_VM_ACT_SEC_ONLINE,
	};
	const struct nvme_sriov *s = &ctrl.sriov;

	if (c->opc == NVME_ADM_NS_ATTACH && fa.attach_in_flight) {
		const uint8_t *p = drv_page(c->prp1);

		if (c->prp1 != DRV_BASE + NVME_PG_IDENT * NVME_PAGE_SIZE || p[0] != 1 ||
		    p[1] != 0 || c->nsid == 0 || c->nsid == NVME_NSID_ALL)
			abort();
	} else if (c->opc == NVME_ADM_VIRT_MGMT &&
		   (s->step == NVME_SRIOV_PRI_VQ || s->step == NVME_SRIOV_PRI_VI)) {
		/* the primary's flexible allocation: 0 of the step's type, for itself */
		if (c->cdw10 != NVME_VM_CDW10(NVME_VM_ACT_PRIMARY_FLEX,
					      s->step == NVME_SRIOV_PRI_VI ? NVME_VM_RT_VI
									   : NVME_VM_RT_VQ,
					      ctrl.cntlid) ||
		    (c->cdw11 & 0xFFFF) != 0)
			abort();
	} else if (c->opc == NVME_ADM_VIRT_MGMT && s->step >= NVME_SRIOV_OFFLINE &&
		   s->step <= NVME_SRIOV_ONLINE) {
		/* the sequence's: no other request can be in flight while it runs */
		unsigned act = c->cdw10 & 0xF, rt = (c->cdw10 >> 8) & 7, id = c->cdw10 >> 16;
		unsigned nr = c->cdw11 & 0xFFFF;

		if (s->cur >= s->nr_vfs || id == 0 || id != s->vf[s->cur].scid ||
		    act != act_of[s->step])
			abort();
		if (s->step == NVME_SRIOV_ASSIGN_VQ && (rt != NVME_VM_RT_VQ || nr != s->vq))
			abort();
		if (s->step == NVME_SRIOV_ASSIGN_VI && (rt != NVME_VM_RT_VI || nr != s->vi))
			abort();
	} else if (c->opc == NVME_ADM_CREATE_SQ || c->opc == NVME_ADM_CREATE_CQ ||
		   c->opc == NVME_ADM_IDENTIFY || c->opc == NVME_ADM_SET_FEATURES) {
		return;
	} else if (c->opc != NVME_ADM_GET_FEATURES && c->opc != NVME_ADM_VIRT_MGMT &&
		   c->opc != NVME_ADM_NS_ATTACH) {
		abort(); /* off the allow-list */
	}
}

/* Executes what the driver queued on qid and answers as the input says. */
static void run_sq(unsigned qid)
{
	struct q *q = &fz.sq[qid];

	while (q->live && q->head != q->tail) {
		const struct nvme_sqe *c =
			(const struct nvme_sqe *)(drv_page(q->base) + 64u * q->head);
		uint8_t a;
		uint32_t dw0 = 0;
		uint16_t sc = 0;

		q->head = (uint16_t)((q->head + 1) % q->size);
		if (qid == 0) {
			check_admin(c);
			if (c->opc == NVME_ADM_IDENTIFY) {
				identify(c);
			} else if (c->opc == NVME_ADM_CREATE_CQ || c->opc == NVME_ADM_CREATE_SQ) {
				unsigned size = (c->cdw10 >> 16) + 1;
				struct q *nq = c->opc == NVME_ADM_CREATE_CQ ? &fz.cq[1] : &fz.sq[1];

				drv_page(c->prp1);
				if ((c->cdw10 & 0xFFFF) != 1 || size < 2 ||
				    size * (c->opc == NVME_ADM_CREATE_CQ ? 16u : 64u) >
					    NVME_PAGE_SIZE)
					abort();
				*nq = (struct q){
					.base = c->prp1, .size = size, .phase = 1, .live = true
				};
			}
		} else {
			check_io(c);
		}
		if (qid == 0 && c->opc == NVME_ADM_VIRT_MGMT)
			dw0 = c->cdw11 & 0xFFFF; /* allocated as asked, unless the input says */
		a = u8();
		if (a & 0x80)
			sc = (uint16_t)un(2);
		if (a & 0x40)
			dw0 = (uint32_t)un(4);
		switch (a & 7) {
		case 4: /* later */
			if (fz.nr_pending < MAX_PENDING) {
				fz.pending[fz.nr_pending].qid = qid;
				fz.pending[fz.nr_pending].cid = c->cid;
				fz.pending[fz.nr_pending].sqhd = q->head;
				fz.nr_pending++;
			}
			break;
		case 5: /* garbage first */
			post(qid, (uint16_t)un(2), (uint16_t)un(2), (uint16_t)un(2),
			     (uint16_t)un(2), (uint32_t)un(4));
			post(qid, c->cid, q->head, (uint16_t)qid, sc, dw0);
			break;
		case 6: /* twice */
			post(qid, c->cid, q->head, (uint16_t)qid, sc, dw0);
			post(qid, c->cid, q->head, (uint16_t)qid, sc, dw0);
			break;
		case 7: /* never */
			break;
		default:
			post(qid, c->cid, q->head, (uint16_t)qid, sc, dw0);
			break;
		}
	}
}

static void controller_step(void)
{
	if ((fz.cc & NVME_CC_EN) == 0)
		return;
	run_sq(0);
	run_sq(1);
	if (fz.nr_pending && (u8() & 1)) {
		for (unsigned i = 0; i < fz.nr_pending; i++)
			post(fz.pending[i].qid, fz.pending[i].cid, fz.pending[i].sqhd,
			     (uint16_t)fz.pending[i].qid, 0, 0);
		fz.nr_pending = 0;
	}
}

static uint32_t rd32(void *ctx, uint32_t off)
{
	(void)ctx;
	if (off + 4 > fz.bar || off % 4)
		abort();
	if (off == NVME_REG_CSTS) {
		uint8_t b = u8();

		if (b == 0xFF)
			return 0xFFFFFFFFu;
		if (b >= 0xE0)
			return b & 0x1F;
		return (fz.cc & NVME_CC_EN) ? NVME_CSTS_RDY : 0;
	}
	return (uint32_t)un(4);
}

static uint64_t rd64(void *ctx, uint32_t off)
{
	(void)ctx;
	if (off != NVME_REG_CAP)
		abort();
	return fz.cap;
}

static void wr32(void *ctx, uint32_t off, uint32_t v)
{
	uint32_t stride = 4u << NVME_CAP_DSTRD(fz.cap);

	(void)ctx;
	if (off + 4 > fz.bar || off % 4)
		abort();
	if (off == NVME_REG_CC) {
		if ((v & NVME_CC_EN) && !(fz.cc & NVME_CC_EN)) {
			unsigned sqs = (fz.aqa & 0xFFF) + 1, cqs = ((fz.aqa >> 16) & 0xFFF) + 1;

			drv_page(fz.asq);
			drv_page(fz.acq);
			if (sqs < 2 || cqs < 2 || sqs * 64 > NVME_PAGE_SIZE ||
			    cqs * 16 > NVME_PAGE_SIZE)
				abort();
			fz.sq[0] = (struct q){ .base = fz.asq, .size = sqs, .live = true };
			fz.cq[0] =
				(struct q){ .base = fz.acq, .size = cqs, .phase = 1, .live = true };
		} else if (!(v & NVME_CC_EN)) {
			memset(fz.sq, 0, sizeof(fz.sq));
			memset(fz.cq, 0, sizeof(fz.cq));
			fz.nr_pending = 0;
		}
		fz.cc = v;
	} else if (off == NVME_REG_AQA) {
		fz.aqa = v;
	} else if (off >= NVME_REG_DBS && (off - NVME_REG_DBS) % stride == 0) {
		unsigned idx = (off - NVME_REG_DBS) / stride, qid = idx / 2;

		if (qid > 1)
			abort();
		if (idx % 2 == 0) {
			if (!fz.sq[qid].live || v >= fz.sq[qid].size)
				abort();
			fz.sq[qid].tail = (uint16_t)v;
		} else if (fz.cq[qid].live && v >= fz.cq[qid].size) {
			abort();
		}
	} else {
		abort();
	}
}

static void wr64(void *ctx, uint32_t off, uint64_t v)
{
	(void)ctx;
	if (off == NVME_REG_ASQ)
		fz.asq = v;
	else if (off == NVME_REG_ACQ)
		fz.acq = v;
	else
		abort();
}

static uint64_t now_ns(void *ctx)
{
	(void)ctx;
	return fz.now;
}

static const struct nvme_ops ops = { NULL, rd32, rd64, wr32, wr64, now_ns };

static void done(void *arg, int status)
{
	struct rec *r = arg;

	(void)status;
	if (!r->in_flight || r->calls)
		abort();
	r->calls++;
	r->in_flight = false;
}

/* An admin request's end: once, and the data page kept within what the parsers promise. */
static void admin_done(void *arg, int status, uint32_t dw0, const void *data)
{
	static struct nvme_sec_list l;
	struct arec *r = arg;
	struct nvme_primary_caps pc;

	(void)dw0;
	if (!r->in_flight || r->calls || (data && status))
		abort();
	r->calls++;
	r->in_flight = false;
	fa.attach_in_flight = false;
	if (!data)
		return;
	if (r->kind == 1 && nvme_parse_primary_caps(data, ctrl.cntlid, &pc) == NVME_OK) {
		if ((uint64_t)pc.vqrfa + pc.vqrfap > pc.vqfrt || pc.vifrsm > pc.vifrt ||
		    pc.cntlid != ctrl.cntlid)
			abort();
	} else if (r->kind == 0 &&
		   nvme_parse_secondary_list(data, ctrl.cntlid, r->max_vfn, &l) == NVME_OK) {
		if (l.nr > NVME_SCL_MAX)
			abort();
		for (unsigned i = 0; i < l.nr; i++) {
			if (l.e[i].scid == 0 || l.e[i].scid > NVME_CNTLID_MAX ||
			    l.e[i].scid == ctrl.cntlid || l.e[i].pcid != ctrl.cntlid ||
			    l.e[i].vfn == 0 || l.e[i].vfn > r->max_vfn)
				abort();
			for (unsigned j = 0; j < i; j++)
				if (l.e[j].scid == l.e[i].scid || l.e[j].vfn == l.e[i].vfn)
					abort();
		}
	}
}

/* An admin request from the input. */
static void admin_submit(void)
{
	unsigned k = u8();
	struct nvme_admin_req q;
	struct arec *r;
	int rc;

	if (k % 6 == 0) {
		unsigned nr = u8() % (NVME_MAX_VFS + 2);
		uint16_t vq = (uint16_t)(u8() % 6), vi = (uint16_t)(u8() % 3);

		rc = nvme_sriov_bring_online(&ctrl, nr, vq, vi);
		if (rc == NVME_OK)
			fa.sriov_started = true;
		else if (rc >= 0)
			abort();
		return;
	}
	if (k % 6 == 1) {
		rc = nvme_sriov_release_primary(&ctrl);
		if (rc == NVME_OK)
			fa.sriov_started = true;
		else if (rc >= 0)
			abort();
		return;
	}
	if (fa.nr_recs == MAX_RECS)
		return;
	r = &fa.recs[fa.nr_recs];
	memset(r, 0, sizeof(*r));
	r->kind = (uint8_t)(k % 6 - 2);
	r->in_flight = true;
	if (r->kind == 2) {
		rc = nvme_attach_ns(&ctrl, (uint32_t)un(4) % 4, (uint16_t)un(2), admin_done, r);
	} else {
		if (r->kind == 0) {
			r->max_vfn = (uint16_t)un(2);
			nvme_cmd_identify_secondary_list(&q, (uint16_t)un(2));
		} else if (r->kind == 1) {
			nvme_cmd_identify_primary(&q);
		} else {
			nvme_cmd_virt_mgmt(&q, u8(), u8(), (uint16_t)un(2), (uint16_t)un(2));
			q.cmd.opc = u8(); /* mostly off the allow-list */
			q.out_len = u8();
		}
		q.done = admin_done;
		q.arg = r;
		rc = nvme_admin_submit(&ctrl, &q);
	}
	if (rc != NVME_OK) {
		if (rc >= 0 || r->calls)
			abort();
		return;
	}
	fa.attach_in_flight = r->kind == 2;
	fa.nr_recs++;
}

/* A command from the input; the scatter list is either made up or good for the block count. */
static void submit(void)
{
	static const enum nvme_op op_of[4] = { NVME_OP_READ, NVME_OP_WRITE, NVME_OP_FLUSH,
					       NVME_OP_DEALLOCATE };
	static const uint8_t opc_of[4] = { NVME_CMD_READ, NVME_CMD_WRITE, NVME_CMD_FLUSH,
					   NVME_CMD_DSM };
	struct rec *r;
	unsigned k = u8(), opi = k % 4, nsid = (k >> 2) % 4;
	uint64_t lba = (k & 0x10) ? un(8) : u8();
	uint32_t nblocks = (k & 0x20) ? (uint32_t)un(4) : u8();
	const struct nvme_ns *ns = nvme_ns_get(&ctrl, nsid);
	int rc;

	if (fz.nr_recs == MAX_RECS)
		return;
	r = &fz.recs[fz.nr_recs];
	memset(r, 0, sizeof(*r));
	r->nr_sg = 1 + u8() % 4;
	if ((k & 0x40) || !ns) {
		for (unsigned i = 0; i < r->nr_sg; i++) {
			r->sg[i].pa =
				DATA_BASE + (u8() % DATA_PAGES) * NVME_PAGE_SIZE + un(2) % 8192;
			r->sg[i].len = (uint32_t)un(2);
		}
	} else {
		/* nblocks of the namespace over nr_sg pieces: page-aligned middles */
		uint64_t bytes = (uint64_t)(nblocks % 64) << ns->lba_shift, left;
		unsigned first = (unsigned)(u8() % 16) * 256;

		left = bytes;
		nblocks %= 64;
		for (unsigned i = 0; i < r->nr_sg && left; i++) {
			uint64_t pa = DATA_BASE + (u8() % 4) * 4 * NVME_PAGE_SIZE + (i ? 0 : first);
			uint64_t room = NVME_PAGE_SIZE * (1 + u8() % 3) - (i ? 0 : first);

			if (i + 1 == r->nr_sg || room >= left)
				room = left;
			r->sg[i] = (struct nvme_sg){ pa, (uint32_t)room };
			left -= room;
			r->nr_sg = i + 1;
		}
	}
	r->opc = opc_of[opi];
	r->nsid = nsid;
	r->in_flight = true;
	rc = nvme_submit(&ctrl, nsid, op_of[opi], lba, nblocks, r->sg, r->nr_sg, done, r);
	if (rc != NVME_OK) {
		if (rc >= 0 || r->calls)
			abort();
		return;
	}
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
		if (ctrl.slot[i].busy && ctrl.slot[i].arg == r)
			r->cid = ctrl.slot[i].cid;
	fz.nr_recs++;
}

static void make_templates(void)
{
	memset(id_ctrl, 0, sizeof(id_ctrl));
	memcpy(id_ctrl + NVME_IDC_SN, "fuzz", 4);
	memcpy(id_ctrl + NVME_IDC_MN, "fuzzed controller", 17);
	id_ctrl[NVME_IDC_MDTS] = 5;
	id_ctrl[NVME_IDC_SQES] = 0x66;
	id_ctrl[NVME_IDC_CQES] = 0x44;
	id_ctrl[NVME_IDC_NN] = 2;
	id_ctrl[NVME_IDC_ONCS] = NVME_ONCS_DSM;
	memset(id_ns, 0, sizeof(id_ns));
	id_ns[NVME_IDN_NSZE + 1] = 4; /* 1024 blocks */
	id_ns[NVME_IDN_NLBAF] = 1;
	id_ns[NVME_IDN_FLBAS] = 0;
	id_ns[NVME_IDN_LBAF + 2] = 9;
	id_ns[NVME_IDN_LBAF + 6] = 12;
	id_ctrl[NVME_IDC_CNTLID] = 1;
	/* the primary (CNTLID 1) of four VFs with secondaries 2-5: 4 VQ, 2 VI each at most */
	memset(id_pcc, 0, sizeof(id_pcc));
	id_pcc[NVME_PCC_CNTLID] = 1;
	id_pcc[NVME_PCC_CRT] = NVME_CRT_VQ | NVME_CRT_VI;
	id_pcc[NVME_PCC_VQFRT] = 16;
	id_pcc[NVME_PCC_VQFRSM] = 4;
	id_pcc[NVME_PCC_VIFRT] = 8;
	id_pcc[NVME_PCC_VIFRSM] = 2;
	memset(id_sec, 0, sizeof(id_sec));
	id_sec[NVME_SCL_NUMID] = 4;
	for (unsigned i = 0; i < 4; i++) {
		uint8_t *e = id_sec + NVME_SCL_ENTRY0 + i * NVME_SCL_ENTRY_SIZE;

		e[NVME_SCE_SCID] = (uint8_t)(2 + i);
		e[NVME_SCE_PCID] = 1;
		e[NVME_SCE_VFN] = (uint8_t)(1 + i);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint64_t dt[8] = { 0,	    1000,	1000000,     100000000,
					1000000000, 5000000000, 31000000000, 0 };
	struct nvme_dma_page pages[NVME_DMA_PAGES];
	uint8_t mode;

	if (!drv_pages[0]) {
		for (unsigned i = 0; i < NVME_DMA_PAGES; i++)
			drv_pages[i] = aligned_alloc(NVME_PAGE_SIZE, NVME_PAGE_SIZE);
		make_templates();
	}
	memset(&fz, 0, sizeof(fz));
	memset(&fa, 0, sizeof(fa));
	fuzz_input_start(data, size);
	mode = u8();
	fz.bar = 0x2000ull << ((mode >> 1) & 3);
	fz.cap = un(8);
	if (!(mode & 1)) {
		fz.cap |= (uint64_t)NVME_CAP_CSS_NVM << 37 | 1;
		fz.cap &= ~(0xFull << 48) & ~(0xCull << 32);
	}
	for (unsigned i = 0; i < NVME_DMA_PAGES; i++) {
		memset(drv_pages[i], 0xEE, NVME_PAGE_SIZE);
		pages[i] = (struct nvme_dma_page){ drv_pages[i], DRV_BASE + i * NVME_PAGE_SIZE };
	}
	if (nvme_init(&ctrl, &ops, fz.bar, pages) != NVME_OK)
		abort();

	for (unsigned steps = 0; fuzz_input_left() && steps < 4000; steps++) {
		uint8_t s = u8();

		fz.now += (s & 7) == 7 ? un(4) : dt[s & 7];
		if (s & 0x08)
			submit();
		if ((s & 0x30) == 0x30)
			admin_submit();
		controller_step();
		nvme_poll(&ctrl, fz.now);
	}
	/* the input is over: time runs on until every command is done */
	for (unsigned i = 0; i < 200; i++) {
		fz.now += 10000000000ull;
		controller_step();
		nvme_poll(&ctrl, fz.now);
	}
	for (unsigned i = 0; i < fz.nr_recs; i++)
		if (fz.recs[i].calls != 1)
			abort();
	if (ctrl.nr_busy != 0 || ctrl.nr_ns > NVME_MAX_NS)
		abort();
	for (unsigned i = 0; i < fa.nr_recs; i++)
		if (fa.recs[i].calls != 1)
			abort();
	if (ctrl.areq.busy ||
	    (fa.sriov_started && ctrl.sriov.step != NVME_SRIOV_DONE && ctrl.state != NVME_S_FAILED))
		abort();
	if (strlen(ctrl.serial) > NVME_IDC_SN_LEN || strlen(ctrl.model) > NVME_IDC_MN_LEN)
		abort();
	for (const char *p = ctrl.model; *p; p++)
		if (*p < 0x20 || *p > 0x7E)
			abort();
	return 0;
}
