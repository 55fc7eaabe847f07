/* keel's NVMe driver core (drivers/nvme.h): bring-up as a polled step function, one polled I/O
 * queue pair, PRP construction, completion checks, timeouts and resets. Section numbers are
 * those of the NVM Express Base Specification 1.4. */
#include "drivers/nvme.h"
#include "lib/kstring.h"

/* ---- register and DMA memory access ---------------------------------------------------------- */

static uint32_t rd32(const struct nvme_ctrl *c, uint32_t off)
{
	return c->ops->read32(c->ops->ctx, off);
}

static void wr32(const struct nvme_ctrl *c, uint32_t off, uint32_t v)
{
	c->ops->write32(c->ops->ctx, off, v);
}

static void wr64(const struct nvme_ctrl *c, uint32_t off, uint64_t v)
{
	c->ops->write64(c->ops->ctx, off, v);
}

uint32_t nvme_dma_rd(const void *page, unsigned off, unsigned len)
{
	const volatile uint8_t *p = (const volatile uint8_t *)page + off;
	uint32_t v = 0;

	for (unsigned i = 0; i < len; i++)
		v |= (uint32_t)p[i] << (8 * i);
	return v;
}

static uint64_t dma_rd64(const void *page, unsigned off)
{
	return nvme_dma_rd(page, off, 4) | (uint64_t)nvme_dma_rd(page, off + 4, 4) << 32;
}

/* now + ns, saturating: a clock near its end must not make a deadline that has passed already */
static uint64_t deadline_after(uint64_t now, uint64_t ns)
{
	return now > UINT64_MAX - ns ? UINT64_MAX : now + ns;
}

static void *pg(const struct nvme_ctrl *c, unsigned i)
{
	return c->dma[i].va;
}

/* ---- state changes --------------------------------------------------------------------------- */

const char *nvme_state_name(enum nvme_state s)
{
	switch (s) {
	case NVME_S_OFF:
		return "off";
	case NVME_S_DISABLING:
		return "disabling";
	case NVME_S_ENABLING:
		return "enabling";
	case NVME_S_ADMIN:
		return "identifying";
	case NVME_S_READY:
		return "ready";
	case NVME_S_FAILED:
		return "failed";
	}
	return "?";
}

/* Gives every command marked failed back to its caller. Called only once the controller can no
 * longer touch their memory (disabled), or has been given up on. */
static void fail_slots(struct nvme_ctrl *c)
{
	if (c->areq.busy) {
		nvme_admin_done_fn done = c->areq.done;
		int st = c->areq.fail_status ? c->areq.fail_status : NVME_E_RESET;

		c->areq.busy = false;
		c->areq.done = NULL;
		if (done)
			done(c->areq.arg, st, 0, NULL);
	}
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
		struct nvme_slot *s = &c->slot[i];
		nvme_done_fn done = s->done;
		int st = s->fail_status ? s->fail_status : NVME_E_RESET;

		if (!s->busy)
			continue;
		s->busy = false;
		s->done = NULL;
		c->nr_busy--;
		if (done)
			done(s->arg, st);
	}
}

/* Gives up on the controller: it is disabled (CC.EN = 0, 3.1.5) and stays so. */
static void ctrl_fail(struct nvme_ctrl *c, const char *why)
{
	if (c->state != NVME_S_OFF)
		wr32(c, NVME_REG_CC, 0);
	c->state = NVME_S_FAILED;
	c->why = why;
	c->admin_busy = false;
	fail_slots(c);
}

/* A controller level reset by clearing CC.EN (3.1.5); outstanding commands fail once
 * CSTS.RDY reads 0, when the controller no longer touches their memory. */
static void ctrl_reset(struct nvme_ctrl *c, uint64_t now, const char *why)
{
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++)
		if (c->slot[i].busy && !c->slot[i].fail_status)
			c->slot[i].fail_status = NVME_E_RESET;
	if (c->areq.busy && !c->areq.fail_status)
		c->areq.fail_status = NVME_E_RESET;
	c->nr_resets++;
	c->resets_in_row++;
	c->why = why;
	c->admin_busy = false;
	c->nr_ns = 0;
	c->csts_next = 0; /* the first poll once ready again looks at CSTS */
	wr32(c, NVME_REG_CC, 0);
	c->state = NVME_S_DISABLING;
	c->deadline = deadline_after(now, c->ready_timeout_ns);
}

static void queue_reset(struct nvme_ctrl *c, struct nvme_queue *q, unsigned sq_pg, unsigned cq_pg,
			unsigned depth, uint16_t qid)
{
	q->depth = depth;
	q->sq_tail = q->sq_head = q->cq_head = 0;
	q->phase = 1; /* a new CQ's first pass has phase tag 1 (4.6) */
	q->qid = qid;
	q->sq = pg(c, sq_pg);
	q->cq = pg(c, cq_pg);
	q->sq_pa = c->dma[sq_pg].pa;
	q->cq_pa = c->dma[cq_pg].pa;
	/* old entries must not look new: all phase tags 0 */
	memset(pg(c, sq_pg), 0, NVME_PAGE_SIZE);
	memset(pg(c, cq_pg), 0, NVME_PAGE_SIZE);
}

/* Admin queues, then CC with EN (7.6.1 steps 3-5): CSS NVM, 4 KiB pages, round robin, 64-byte SQ
 * and 16-byte CQ entries. */
static void ctrl_enable(struct nvme_ctrl *c, uint64_t now)
{
	queue_reset(c, &c->admin, NVME_PG_ASQ, NVME_PG_ACQ, NVME_ADMIN_DEPTH, 0);
	queue_reset(c, &c->io, NVME_PG_IOSQ, NVME_PG_IOCQ, c->io_depth, 1);
	wr32(c, NVME_REG_AQA, NVME_AQA(NVME_ADMIN_DEPTH, NVME_ADMIN_DEPTH));
	wr64(c, NVME_REG_ASQ, c->admin.sq_pa);
	wr64(c, NVME_REG_ACQ, c->admin.cq_pa);
	wr32(c, NVME_REG_CC,
	     NVME_CC_CSS_NVM | NVME_CC_MPS(NVME_PAGE_SHIFT) | NVME_CC_AMS_RR |
		     NVME_CC_IOSQES(NVME_SQE_SHIFT) | NVME_CC_IOCQES(NVME_CQE_SHIFT) | NVME_CC_EN);
	c->state = NVME_S_ENABLING;
	c->deadline = deadline_after(now, c->ready_timeout_ns);
}

/* ---- CAP and Identify ------------------------------------------------------------------------ */

/* CAP (3.1.1): what keel needs, or why the controller is refused. */
static const char *check_cap(struct nvme_ctrl *c, uint64_t cap)
{
	uint32_t dstrd = NVME_CAP_DSTRD(cap);
	uint32_t to = NVME_CAP_TO(cap);

	if (NVME_CAP_MQES(cap) < 1)
		return "CAP.MQES below 1 (queues of 2 entries at least)";
	if (!(NVME_CAP_CSS(cap) & NVME_CAP_CSS_NVM))
		return "CAP.CSS without the NVM command set";
	if (NVME_CAP_MPSMIN(cap) != 0 || NVME_CAP_MPSMAX(cap) < NVME_CAP_MPSMIN(cap))
		return "CAP.MPSMIN/MPSMAX exclude 4 KiB pages";
	if (c->bar_size < (uint64_t)NVME_DB_CQ(1, dstrd) + 4)
		return "BAR 0 too small for the doorbells of CAP.DSTRD";
	c->cap = cap;
	c->dstrd = dstrd;
	/* TO is the worst case in 500 ms units; 0 would leave no time at all */
	c->ready_timeout_ns = (uint64_t)(to ? to : 1) * NVME_CAP_TO_UNIT_NS;
	c->io_depth = MIN((unsigned)NVME_IO_DEPTH, NVME_CAP_MQES(cap) + 1u);
	return NULL;
}

/* ASCII field of the Identify data, made printable: anything outside 0x20-0x7E becomes '?', a
 * NUL a blank; trailing blanks cut. */
static void id_string(char *dst, const void *page, unsigned off, unsigned len)
{
	unsigned n = 0;

	for (unsigned i = 0; i < len; i++) {
		uint8_t ch = (uint8_t)nvme_dma_rd(page, off + i, 1);

		if (ch == 0)
			ch = ' ';
		else if (ch < 0x20 || ch > 0x7E)
			ch = '?';
		dst[i] = (char)ch;
		if (ch != ' ')
			n = i + 1;
	}
	dst[n] = '\0';
}

/* Identify Controller data (5.15, CNS 01h). */
static const char *check_id_ctrl(struct nvme_ctrl *c)
{
	const void *p = pg(c, NVME_PG_IDENT);
	uint32_t sqes = nvme_dma_rd(p, NVME_IDC_SQES, 1), cqes = nvme_dma_rd(p, NVME_IDC_CQES, 1);
	uint32_t mdts = nvme_dma_rd(p, NVME_IDC_MDTS, 1);

	/* required size 3:0 at most, maximum size 7:4 at least what CC.IOSQES/IOCQES set */
	if ((sqes & 0xF) > NVME_SQE_SHIFT || (sqes >> 4) < NVME_SQE_SHIFT)
		return "Identify SQES excludes 64-byte entries";
	if ((cqes & 0xF) > NVME_CQE_SHIFT || (cqes >> 4) < NVME_CQE_SHIFT)
		return "Identify CQES excludes 16-byte entries";
	/* MDTS: 2^MDTS pages of CAP.MPSMIN (4 KiB, checked); 0 means no limit */
	c->max_xfer = NVME_MAX_XFER;
	if (mdts != 0 && mdts < 10)
		c->max_xfer = MIN(NVME_MAX_XFER, NVME_PAGE_SIZE << mdts);
	c->cntlid = (uint16_t)nvme_dma_rd(p, NVME_IDC_CNTLID, 2);
	c->nn = nvme_dma_rd(p, NVME_IDC_NN, 4);
	c->oncs = (uint16_t)nvme_dma_rd(p, NVME_IDC_ONCS, 2);
	c->vwc = (uint8_t)nvme_dma_rd(p, NVME_IDC_VWC, 1);
	id_string(c->serial, p, NVME_IDC_SN, NVME_IDC_SN_LEN);
	id_string(c->model, p, NVME_IDC_MN, NVME_IDC_MN_LEN);
	id_string(c->firmware, p, NVME_IDC_FR, NVME_IDC_FR_LEN);
	return NULL;
}

/* Identify Namespace data (5.15, CNS 00h): fills ns, or says why it is refused. */
static const char *check_id_ns(struct nvme_ns *ns, const void *p)
{
	uint64_t nsze = dma_rd64(p, NVME_IDN_NSZE);
	uint32_t nlbaf = nvme_dma_rd(p, NVME_IDN_NLBAF, 1);
	uint32_t fmt = NVME_FLBAS_INDEX(nvme_dma_rd(p, NVME_IDN_FLBAS, 1));
	uint32_t dps = nvme_dma_rd(p, NVME_IDN_DPS, 1);
	uint32_t lbaf, lbads;

	if (nsze == 0)
		return "NSZE 0 (inactive)";
	if (fmt > nlbaf) /* fmt < NVME_IDN_NR_LBAF: a 4-bit field */
		return "FLBAS names an LBA format past NLBAF";
	lbaf = nvme_dma_rd(p, NVME_IDN_LBAF + 4 * fmt, 4);
	lbads = NVME_LBAF_LBADS(lbaf);
	if (NVME_LBAF_MS(lbaf) != 0)
		return "metadata per block (not supported)";
	if (dps & 7)
		return "protection information (not supported)";
	if (lbads < 9 || lbads > 12)
		return "block size outside 512 B-4 KiB";
	if (nsze > UINT64_MAX >> lbads)
		return "NSZE overflows a byte count";
	ns->lba_shift = (uint8_t)lbads;
	ns->nsze = nsze;
	return NULL;
}

/* The active NSID list (CNS 02h): increasing, ending at the first 0. A list that goes backwards,
 * repeats, or names an NSID above NN or the broadcast one is cut there (and counted). */
static void take_ns_list(struct nvme_ctrl *c)
{
	const void *p = pg(c, NVME_PG_IDENT);
	uint32_t prev = 0;

	c->nr_nsids = 0;
	for (unsigned i = 0; i < NVME_PAGE_SIZE / 4 && c->nr_nsids < NVME_MAX_NS; i++) {
		uint32_t id = nvme_dma_rd(p, 4 * i, 4);

		if (id == 0)
			break;
		if (id <= prev || id > c->nn || id == NVME_NSID_ALL) {
			c->nr_bad_nsid++;
			break;
		}
		c->nsids[c->nr_nsids++] = id;
		prev = id;
	}
}

/* Before 1.1 there is no NSID list: namespaces 1..NN. */
static void take_ns_range(struct nvme_ctrl *c)
{
	c->nr_nsids = MIN(c->nn, (uint32_t)NVME_MAX_NS);
	for (unsigned i = 0; i < c->nr_nsids; i++)
		c->nsids[i] = i + 1;
}

/* ---- queues ---------------------------------------------------------------------------------- */

static void sq_push(struct nvme_ctrl *c, struct nvme_queue *q, const struct nvme_sqe *e)
{
	memcpy(&q->sq[q->sq_tail], e, sizeof(*e));
	q->sq_tail = (uint16_t)((q->sq_tail + 1) % q->depth);
	/* the entry is in memory before the doorbell tells the controller (4.1) */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	wr32(c, NVME_DB_SQ(q->qid, c->dstrd), q->sq_tail);
}

static bool sq_full(const struct nvme_queue *q)
{
	return (q->sq_tail + 1u) % q->depth == q->sq_head;
}

/* The next new completion entry of q, if any: its phase tag is the one this pass expects
 * (4.6). The status word is read first; the rest after it. */
static bool cq_pop(struct nvme_queue *q, struct nvme_cqe *out)
{
	const volatile struct nvme_cqe *e = &q->cq[q->cq_head];
	uint16_t status = e->status;

	if ((status & NVME_CQE_PHASE) != q->phase)
		return false;
	__atomic_thread_fence(__ATOMIC_ACQUIRE);
	out->dw0 = e->dw0;
	out->sqhd = e->sqhd;
	out->sqid = e->sqid;
	out->cid = e->cid;
	out->status = status;
	if (++q->cq_head == q->depth) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	return true;
}

/* An entry's SQ id and SQ head: the head may only move forward, no further than the tail. */
static bool cqe_sq_ok(const struct nvme_queue *q, const struct nvme_cqe *e)
{
	unsigned ahead, used;

	if (e->sqid != q->qid || e->sqhd >= q->depth)
		return false;
	ahead = (e->sqhd + q->depth - q->sq_head) % q->depth;
	used = (q->sq_tail + q->depth - q->sq_head) % q->depth;
	return ahead <= used;
}

static void cq_doorbell(struct nvme_ctrl *c, const struct nvme_queue *q)
{
	wr32(c, NVME_DB_CQ(q->qid, c->dstrd), q->cq_head);
}

/* ---- bring-up -------------------------------------------------------------------------------- */

static void admin_submit(struct nvme_ctrl *c, uint64_t now, struct nvme_sqe *e, enum nvme_step step)
{
	c->admin_cid = (uint16_t)(c->admin_cid + 1);
	e->cid = c->admin_cid;
	c->admin_busy = true;
	c->step = step;
	c->state = NVME_S_ADMIN;
	c->deadline = deadline_after(now, NVME_ADMIN_TIMEOUT_NS);
	sq_push(c, &c->admin, e);
}

static void identify(struct nvme_ctrl *c, uint64_t now, uint32_t cns, uint32_t nsid,
		     enum nvme_step step)
{
	struct nvme_sqe e = { .opc = NVME_ADM_IDENTIFY, .nsid = nsid };

	e.prp1 = c->dma[NVME_PG_IDENT].pa; /* 4 KiB, page aligned: PRP1 alone covers it */
	e.cdw10 = cns;
	admin_submit(c, now, &e, step);
}

static void next_ns(struct nvme_ctrl *c, uint64_t now)
{
	if (c->ns_next < c->nr_nsids) {
		identify(c, now, NVME_CNS_NS, c->nsids[c->ns_next], NVME_STEP_ID_NS);
		return;
	}
	c->state = NVME_S_READY;
	c->resets_in_row = 0;
}

/* One completed bring-up command: check it, take its data, send the next one. */
static void admin_done(struct nvme_ctrl *c, uint64_t now, uint32_t status, uint32_t dw0)
{
	struct nvme_sqe e = { 0 };
	const char *why;

	(void)dw0; /* Number of Queues: NSQA/NCQA are 0's based, so at least one pair */
	if (status && c->step != NVME_STEP_ID_NS && c->step != NVME_STEP_NS_LIST) {
		ctrl_fail(c, "a bring-up admin command failed");
		return;
	}
	switch (c->step) {
	case NVME_STEP_ID_CTRL:
		why = check_id_ctrl(c);
		if (why) {
			ctrl_fail(c, why);
			return;
		}
		/* Set Features, Number of Queues (5.21.1.7): one SQ and one CQ, 0's based */
		e.opc = NVME_ADM_SET_FEATURES;
		e.cdw10 = NVME_FEAT_NUM_QUEUES;
		e.cdw11 = 0;
		admin_submit(c, now, &e, NVME_STEP_NUM_QUEUES);
		return;
	case NVME_STEP_NUM_QUEUES:
		/* Create I/O Completion Queue (5.3): contiguous; interrupts off (polled) unless the
		 * glue asked for them, then on MSI-X entry 0, whose message only wakes a CPU */
		e.opc = NVME_ADM_CREATE_CQ;
		e.prp1 = c->io.cq_pa;
		e.cdw10 = NVME_QSIZE_QID(c->io.depth, c->io.qid);
		e.cdw11 = NVME_CQ_PC | (c->io_irq ? NVME_CQ_IEN | NVME_CQ_IV(0) : 0);
		admin_submit(c, now, &e, NVME_STEP_CREATE_CQ);
		return;
	case NVME_STEP_CREATE_CQ:
		/* Create I/O Submission Queue (5.4) on that CQ */
		e.opc = NVME_ADM_CREATE_SQ;
		e.prp1 = c->io.sq_pa;
		e.cdw10 = NVME_QSIZE_QID(c->io.depth, c->io.qid);
		e.cdw11 = NVME_SQ_CQID(c->io.qid) | NVME_SQ_PC;
		admin_submit(c, now, &e, NVME_STEP_CREATE_SQ);
		return;
	case NVME_STEP_CREATE_SQ:
		c->nr_ns = c->ns_next = 0;
		if (c->vs >= NVME_VS(1, 1)) {
			identify(c, now, NVME_CNS_ACTIVE_NSIDS, 0, NVME_STEP_NS_LIST);
			return;
		}
		take_ns_range(c);
		next_ns(c, now);
		return;
	case NVME_STEP_NS_LIST:
		if (status)
			take_ns_range(c);
		else
			take_ns_list(c);
		next_ns(c, now);
		return;
	case NVME_STEP_ID_NS: {
		struct nvme_ns *ns = &c->ns[c->nr_ns++];

		memset(ns, 0, sizeof(*ns));
		ns->nsid = c->nsids[c->ns_next++];
		ns->why = status ? "Identify Namespace failed"
				 : check_id_ns(ns, pg(c, NVME_PG_IDENT));
		ns->usable = ns->why == NULL;
		next_ns(c, now);
		return;
	}
	}
}

/* The admin CQ during bring-up: at most one command outstanding. At most one pass over the queue
 * per poll, so a device that keeps writing entries cannot hold keel here. */
static void poll_admin(struct nvme_ctrl *c, uint64_t now)
{
	struct nvme_cqe e;

	for (unsigned n = 0; n < NVME_ADMIN_DEPTH && c->state == NVME_S_ADMIN; n++) {
		if (!cq_pop(&c->admin, &e))
			break;
		cq_doorbell(c, &c->admin);
		if (!cqe_sq_ok(&c->admin, &e) || !c->admin_busy || e.cid != c->admin_cid) {
			c->nr_bad_cqe++;
			continue;
		}
		c->admin.sq_head = e.sqhd;
		c->admin_busy = false;
		admin_done(c, now, NVME_CQE_STATUS(e.status), e.dw0);
	}
}

enum nvme_state nvme_poll_init(struct nvme_ctrl *c, uint64_t now)
{
	uint32_t csts;
	const char *why;

	switch (c->state) {
	case NVME_S_OFF:
		why = check_cap(c, c->ops->read64(c->ops->ctx, NVME_REG_CAP));
		if (why) {
			ctrl_fail(c, why);
			break;
		}
		c->vs = rd32(c, NVME_REG_VS);
		/* 7.6.1: disable first, whatever firmware left running */
		wr32(c, NVME_REG_CC, 0);
		c->state = NVME_S_DISABLING;
		c->deadline = deadline_after(now, c->ready_timeout_ns);
		/* fall through */
	case NVME_S_DISABLING:
		csts = rd32(c, NVME_REG_CSTS);
		if (csts != 0xFFFFFFFFu && !(csts & NVME_CSTS_RDY)) {
			fail_slots(c);
			if (c->resets_in_row > NVME_MAX_RESETS) {
				ctrl_fail(c, "too many resets");
				break;
			}
			ctrl_enable(c, now);
		} else if (now >= c->deadline) {
			ctrl_fail(c, "CSTS.RDY stayed 1 with CC.EN 0 past CAP.TO");
		}
		break;
	case NVME_S_ENABLING:
		csts = rd32(c, NVME_REG_CSTS);
		if (csts & NVME_CSTS_CFS) {
			c->nr_fatal++;
			ctrl_reset(c, now, "CSTS.CFS during bring-up");
		} else if (csts & NVME_CSTS_RDY) {
			identify(c, now, NVME_CNS_CTRL, 0, NVME_STEP_ID_CTRL);
		} else if (now >= c->deadline) {
			ctrl_reset(c, now, "CSTS.RDY not 1 within CAP.TO");
		}
		break;
	case NVME_S_ADMIN:
		csts = rd32(c, NVME_REG_CSTS);
		if (csts & NVME_CSTS_CFS) {
			c->nr_fatal++;
			ctrl_reset(c, now, "CSTS.CFS during bring-up");
			break;
		}
		poll_admin(c, now);
		if (c->state == NVME_S_ADMIN && now >= c->deadline)
			ctrl_reset(c, now, "bring-up admin command timed out");
		break;
	case NVME_S_READY:
	case NVME_S_FAILED:
		break;
	}
	return c->state;
}

int nvme_init(struct nvme_ctrl *c, const struct nvme_ops *ops, uint64_t bar_size,
	      const struct nvme_dma_page pages[NVME_DMA_PAGES])
{
	memset(c, 0, sizeof(*c));
	for (unsigned i = 0; i < NVME_DMA_PAGES; i++)
		if (!pages[i].va || !IS_ALIGNED((uintptr_t)pages[i].va, NVME_PAGE_SIZE) ||
		    !IS_ALIGNED(pages[i].pa, NVME_PAGE_SIZE))
			return NVME_E_INVAL;
	c->ops = ops;
	c->bar_size = bar_size;
	memcpy(c->dma, pages, sizeof(c->dma));
	c->io_timeout_ns = NVME_IO_TIMEOUT_NS;
	c->state = NVME_S_OFF;
	return NVME_OK;
}

/* ---- I/O ------------------------------------------------------------------------------------- */

const struct nvme_ns *nvme_ns_get(const struct nvme_ctrl *c, uint32_t nsid)
{
	for (unsigned i = 0; i < c->nr_ns && i < NVME_MAX_NS; i++)
		if (c->ns[i].nsid == nsid && c->ns[i].usable)
			return &c->ns[i];
	return NULL;
}

/* PRP1/PRP2 of a transfer of bytes over sg (4.3): PRP2 is the second page when there are two,
 * else the PRP list in the slot's page (entries 2..n; one page is enough as bytes <= max_xfer
 * <= 512 pages, i.e. 513 entries at most with an offset in the first). */
static int build_prps(const struct nvme_sg *sg, unsigned nr_sg, uint64_t bytes, uint64_t *list,
		      uint64_t list_pa, uint64_t *prp1, uint64_t *prp2)
{
	uint64_t total = 0, second = 0;
	unsigned n = 0;

	if (nr_sg == 0 || nr_sg > NVME_MAX_SG)
		return NVME_E_INVAL;
	for (unsigned i = 0; i < nr_sg; i++) {
		uint64_t pa = sg[i].pa, len = sg[i].len, end = pa + len;

		if (len == 0 || end < pa || !IS_ALIGNED(pa, 4) || len > bytes - total)
			return NVME_E_INVAL;
		if (i > 0 && !IS_ALIGNED(pa, NVME_PAGE_SIZE))
			return NVME_E_INVAL;
		if (i + 1 < nr_sg && !IS_ALIGNED(end, NVME_PAGE_SIZE))
			return NVME_E_INVAL;
		total += len;
		for (uint64_t a = pa; a < end; a = ALIGN_DOWN(a, NVME_PAGE_SIZE) + NVME_PAGE_SIZE) {
			if (n == 0) {
				*prp1 = a;
			} else {
				if (n - 1 >= NVME_PAGE_SIZE / 8)
					return NVME_E_TOO_BIG;
				if (n == 1)
					second = a;
				list[n - 1] = a;
			}
			n++;
			if (ALIGN_DOWN(a, NVME_PAGE_SIZE) + NVME_PAGE_SIZE < a)
				break; /* the last page of the address space */
		}
	}
	if (total != bytes)
		return NVME_E_INVAL;
	*prp2 = n == 1 ? 0 : n == 2 ? second : list_pa;
	return NVME_OK;
}

int nvme_submit(struct nvme_ctrl *c, uint32_t nsid, enum nvme_op op, uint64_t lba, uint32_t nblocks,
		const struct nvme_sg *sg, unsigned nr_sg, nvme_done_fn done, void *arg)
{
	const struct nvme_ns *ns;
	struct nvme_sqe e = { .nsid = nsid };
	struct nvme_slot *s = NULL;
	unsigned idx = 0;
	int rc;

	if (c->state != NVME_S_READY)
		return NVME_E_NOT_READY;
	ns = nvme_ns_get(c, nsid);
	if (!ns)
		return NVME_E_NO_NS;
	if (op != NVME_OP_FLUSH) {
		if (nblocks == 0)
			return NVME_E_INVAL;
		if (!range_within(lba, nblocks, ns->nsze))
			return NVME_E_RANGE;
	}
	if (op == NVME_OP_DEALLOCATE && !(c->oncs & NVME_ONCS_DSM))
		return NVME_E_UNSUPP;
	if (c->nr_busy >= NVME_IO_SLOTS || sq_full(&c->io))
		return NVME_E_BUSY;
	while (c->slot[idx].busy)
		idx++; /* nr_busy < NVME_IO_SLOTS: a free one exists */
	s = &c->slot[idx];

	switch (op) {
	case NVME_OP_READ:
	case NVME_OP_WRITE: {
		uint64_t bytes = (uint64_t)nblocks << ns->lba_shift;

		if (bytes > c->max_xfer)
			return NVME_E_TOO_BIG;
		rc = build_prps(sg, nr_sg, bytes, pg(c, NVME_PG_SLOT0 + idx),
				c->dma[NVME_PG_SLOT0 + idx].pa, &e.prp1, &e.prp2);
		if (rc)
			return rc;
		/* Read (6.9), Write (6.15): SLBA in CDW10-11, NLB 0's based in CDW12 */
		e.opc = op == NVME_OP_READ ? NVME_CMD_READ : NVME_CMD_WRITE;
		e.cdw10 = (uint32_t)lba;
		e.cdw11 = (uint32_t)(lba >> 32);
		e.cdw12 = nblocks - 1; /* bytes <= 2 MiB: nblocks <= 4096, fits NLB's 16 bits */
		break;
	}
	case NVME_OP_FLUSH: /* 6.8: mandatory; the data is the namespace's volatile cache */
		e.opc = NVME_CMD_FLUSH;
		break;
	case NVME_OP_DEALLOCATE: {
		/* Dataset Management (6.7): one range, in the slot's page */
		struct nvme_dsm_range r = { .cattr = 0, .nlb = nblocks, .slba = lba };

		memcpy(pg(c, NVME_PG_SLOT0 + idx), &r, sizeof(r));
		e.opc = NVME_CMD_DSM;
		e.prp1 = c->dma[NVME_PG_SLOT0 + idx].pa;
		e.cdw10 = 0; /* NR: one range */
		e.cdw11 = NVME_DSM_AD;
		break;
	}
	default:
		return NVME_E_INVAL;
	}

	c->gen = (uint16_t)((c->gen + 1) & 0x7FF);
	s->cid = (uint16_t)(c->gen << 5 | idx);
	s->busy = true;
	s->fail_status = 0;
	s->done = done;
	s->arg = arg;
	s->deadline = deadline_after(c->ops->now_ns(c->ops->ctx), c->io_timeout_ns);
	c->nr_busy++;
	e.cid = s->cid;
	sq_push(c, &c->io, &e);
	return NVME_OK;
}

/* The I/O CQ: each entry checked (SQ id, SQ head, a CID of an outstanding command), else ignored
 * and counted. At most one pass over the queue per poll. */
static void poll_io(struct nvme_ctrl *c)
{
	struct nvme_cqe e;
	unsigned n = 0;

	while (n < c->io.depth && cq_pop(&c->io, &e)) {
		unsigned idx = e.cid & 0x1F;
		struct nvme_slot *s;
		nvme_done_fn done;

		n++;
		if (!cqe_sq_ok(&c->io, &e) || idx >= NVME_IO_SLOTS) {
			c->nr_bad_cqe++;
			continue;
		}
		s = &c->slot[idx];
		if (!s->busy || s->cid != e.cid || s->fail_status) {
			c->nr_bad_cqe++;
			continue;
		}
		c->io.sq_head = e.sqhd;
		done = s->done;
		s->busy = false;
		s->done = NULL;
		c->nr_busy--;
		if (done)
			done(s->arg, (int)NVME_CQE_STATUS(e.status));
	}
	if (n)
		cq_doorbell(c, &c->io);
}

int nvme_reset(struct nvme_ctrl *c, const char *why)
{
	if (c->state != NVME_S_READY)
		return NVME_E_NOT_READY;
	ctrl_reset(c, c->ops->now_ns(c->ops->ctx), why);
	return NVME_OK;
}

/* ---- admin requests once READY --------------------------------------------------------------- */

/* Opcodes a keel admin request may carry: none creates, deletes or reconfigures the queues and
 * features the core relies on. */
static bool areq_opcode_ok(uint8_t opc)
{
	return opc == NVME_ADM_IDENTIFY || opc == NVME_ADM_GET_FEATURES ||
	       opc == NVME_ADM_NS_ATTACH || opc == NVME_ADM_VIRT_MGMT;
}

int nvme_admin_submit(struct nvme_ctrl *c, const struct nvme_admin_req *r)
{
	struct nvme_sqe e;
	void *page = pg(c, NVME_PG_IDENT);

	if (c->state != NVME_S_READY)
		return NVME_E_NOT_READY;
	if (c->areq.busy || c->admin_busy || sq_full(&c->admin))
		return NVME_E_BUSY;
	if (!r->done || !areq_opcode_ok(r->cmd.opc) || r->out_len > sizeof(r->out))
		return NVME_E_INVAL;
	e = r->cmd;
	e.flags = 0; /* not fused, PRPs */
	e.mptr = 0;
	e.prp1 = e.prp2 = 0;
	/* Every request gets the Identify page as PRP1 (bring-up is over, and a reset fails the
	 * request before bring-up's Identify uses the page again): a command that moves data
	 * (Identify, or Get Features of some FIDs) must never see PRP1 = 0 and DMA there. */
	memset(page, 0, NVME_PAGE_SIZE);
	memcpy(page, r->out, r->out_len);
	e.prp1 = c->dma[NVME_PG_IDENT].pa;
	c->admin_cid = (uint16_t)(c->admin_cid + 1);
	e.cid = c->admin_cid;
	c->admin_busy = true;
	c->areq.busy = true;
	c->areq.fail_status = 0;
	c->areq.done = r->done;
	c->areq.arg = r->arg;
	c->areq.deadline = deadline_after(c->ops->now_ns(c->ops->ctx), NVME_ADMIN_TIMEOUT_NS);
	c->areq_data = r->has_data;
	sq_push(c, &c->admin, &e);
	return NVME_OK;
}

/* The admin CQ once READY: only the request in flight may complete; anything else is ignored
 * and counted. At most one pass over the queue per poll. done runs with the request already
 * off the books, so it may submit the next one. */
static void poll_areq(struct nvme_ctrl *c)
{
	struct nvme_cqe e;

	for (unsigned n = 0; n < c->admin.depth && cq_pop(&c->admin, &e); n++) {
		nvme_admin_done_fn done = c->areq.done;
		uint32_t st = NVME_CQE_STATUS(e.status);

		cq_doorbell(c, &c->admin);
		if (!cqe_sq_ok(&c->admin, &e) || !c->admin_busy || !c->areq.busy ||
		    c->areq.fail_status || e.cid != c->admin_cid) {
			c->nr_bad_cqe++;
			continue;
		}
		c->admin.sq_head = e.sqhd;
		c->admin_busy = false;
		c->areq.busy = false;
		c->areq.done = NULL;
		done(c->areq.arg, (int)st, st ? 0 : e.dw0,
		     st || !c->areq_data ? NULL : pg(c, NVME_PG_IDENT));
		return; /* done may have submitted the next: its completion waits for a poll */
	}
}

enum nvme_state nvme_poll(struct nvme_ctrl *c, uint64_t now)
{
	uint32_t csts;

	if (c->state != NVME_S_READY)
		return nvme_poll_init(c, now);
	/* Completions first: they are in keel's memory. CSTS is a register read, which costs a
	 * trip to the device (an exit to the emulator under QEMU) on every poll of a waiting
	 * command, so it is read once per NVME_CSTS_PERIOD_NS: a fatal status waits that long. */
	poll_io(c);
	poll_areq(c);
	if (c->state != NVME_S_READY)
		return c->state;
	if (now >= c->csts_next) {
		c->csts_next = now + NVME_CSTS_PERIOD_NS;
		csts = rd32(c, NVME_REG_CSTS);
		if (csts & NVME_CSTS_CFS) { /* all ones too: the device is gone */
			c->nr_fatal++;
			ctrl_reset(c, now, "CSTS.CFS");
			return c->state;
		}
		if (!(csts & NVME_CSTS_RDY)) {
			ctrl_reset(c, now, "CSTS.RDY cleared by the controller");
			return c->state;
		}
	}
	/* every command past its deadline fails as timed out; the others as reset */
	bool expired = false;
	for (unsigned i = 0; i < NVME_IO_SLOTS; i++) {
		if (c->slot[i].busy && now >= c->slot[i].deadline) {
			c->slot[i].fail_status = NVME_E_TIMEOUT;
			c->nr_timeouts++;
			expired = true;
		}
	}
	if (expired) {
		ctrl_reset(c, now, "I/O command timed out");
		return c->state;
	}
	if (c->areq.busy && !c->areq.fail_status && now >= c->areq.deadline) {
		c->areq.fail_status = NVME_E_TIMEOUT;
		c->nr_timeouts++;
		ctrl_reset(c, now, "admin command timed out");
	}
	return c->state;
}
