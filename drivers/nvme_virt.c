/* NVMe virtualization enhancements on a primary controller (NVM Express Base 1.4, 8.5): the
 * admin commands that give SR-IOV virtual functions their secondary controllers' resources and
 * namespaces, the checks of what the controller reports about them, and the bring-up sequence
 * of nvme_sriov_bring_online, advanced by nvme_poll through the core's admin requests
 * (drivers/nvme.h). */
#include "drivers/nvme.h"
#include "lib/kstring.h"

/* ---- command builders ------------------------------------------------------------------------ */

static void identify(struct nvme_admin_req *r, uint32_t cdw10)
{
	memset(r, 0, sizeof(*r));
	r->cmd.opc = NVME_ADM_IDENTIFY;
	r->cmd.cdw10 = cdw10;
	r->has_data = true;
}

void nvme_cmd_identify_primary(struct nvme_admin_req *r)
{
	identify(r, NVME_CNS_PRIMARY_CAPS);
}

/* CNTID is the lowest controller id listed (5.15.1, CNS 15h) */
void nvme_cmd_identify_secondary_list(struct nvme_admin_req *r, uint16_t first_cntid)
{
	identify(r, NVME_CNS_SECONDARY_LIST | NVME_ID_CNTID(first_cntid));
}

void nvme_cmd_virt_mgmt(struct nvme_admin_req *r, uint8_t act, uint8_t rt, uint16_t cntlid,
			uint16_t nr)
{
	memset(r, 0, sizeof(*r));
	r->cmd.opc = NVME_ADM_VIRT_MGMT;
	r->cmd.cdw10 = NVME_VM_CDW10(act, rt, cntlid);
	r->cmd.cdw11 = nr;
}

/* The data is a Controller List of one identifier: NUMID = 1, then the id (little-endian). */
void nvme_cmd_ns_attach(struct nvme_admin_req *r, uint8_t sel, uint32_t nsid, uint16_t cntlid)
{
	memset(r, 0, sizeof(*r));
	r->cmd.opc = NVME_ADM_NS_ATTACH;
	r->cmd.nsid = nsid;
	r->cmd.cdw10 = sel & 0xFu;
	r->has_data = true;
	r->out[0] = 1;
	r->out[2] = (uint8_t)cntlid;
	r->out[3] = (uint8_t)(cntlid >> 8);
	r->out_len = 4;
}

/* ---- parsers --------------------------------------------------------------------------------- */

/* Primary Controller Capabilities (CNS 14h). The counts are the controller's own bookkeeping of
 * 8.5.1/8.5.2: what it says is assigned or allocated cannot exceed what it says it has. */
int nvme_parse_primary_caps(const void *page, uint16_t expect_cntlid, struct nvme_primary_caps *out)
{
	struct nvme_primary_caps p;

	p.cntlid = (uint16_t)nvme_dma_rd(page, NVME_PCC_CNTLID, 2);
	p.portid = (uint16_t)nvme_dma_rd(page, NVME_PCC_PORTID, 2);
	p.crt = (uint8_t)nvme_dma_rd(page, NVME_PCC_CRT, 1);
	p.vqfrt = nvme_dma_rd(page, NVME_PCC_VQFRT, 4);
	p.vqrfa = nvme_dma_rd(page, NVME_PCC_VQRFA, 4);
	p.vqrfap = (uint16_t)nvme_dma_rd(page, NVME_PCC_VQRFAP, 2);
	p.vqprt = (uint16_t)nvme_dma_rd(page, NVME_PCC_VQPRT, 2);
	p.vqfrsm = (uint16_t)nvme_dma_rd(page, NVME_PCC_VQFRSM, 2);
	p.vqgran = (uint16_t)nvme_dma_rd(page, NVME_PCC_VQGRAN, 2);
	p.vifrt = nvme_dma_rd(page, NVME_PCC_VIFRT, 4);
	p.virfa = nvme_dma_rd(page, NVME_PCC_VIRFA, 4);
	p.virfap = (uint16_t)nvme_dma_rd(page, NVME_PCC_VIRFAP, 2);
	p.viprt = (uint16_t)nvme_dma_rd(page, NVME_PCC_VIPRT, 2);
	p.vifrsm = (uint16_t)nvme_dma_rd(page, NVME_PCC_VIFRSM, 2);
	p.vigran = (uint16_t)nvme_dma_rd(page, NVME_PCC_VIGRAN, 2);

	if (p.cntlid != expect_cntlid || (p.crt & ~(NVME_CRT_VQ | NVME_CRT_VI)))
		return NVME_E_BAD_DATA;
	/* 64-bit sums: VQRFA + VQRFAP must not wrap past the check */
	if ((uint64_t)p.vqrfa + p.vqrfap > p.vqfrt || p.vqfrsm > p.vqfrt)
		return NVME_E_BAD_DATA;
	if ((uint64_t)p.virfa + p.virfap > p.vifrt || p.vifrsm > p.vifrt)
		return NVME_E_BAD_DATA;
	*out = p;
	return NVME_OK;
}

int nvme_parse_secondary_list(const void *page, uint16_t pcid, uint16_t max_vfn,
			      struct nvme_sec_list *out)
{
	unsigned numid = nvme_dma_rd(page, NVME_SCL_NUMID, 1);

	out->nr = out->nr_dropped = 0;
	out->more = numid >= NVME_SCL_MAX;
	if (numid > NVME_SCL_MAX) { /* more than the page holds: the rest is not there */
		out->nr_dropped += numid - NVME_SCL_MAX;
		numid = NVME_SCL_MAX;
	}
	for (unsigned i = 0; i < numid; i++) {
		unsigned off = NVME_SCL_ENTRY0 + i * NVME_SCL_ENTRY_SIZE;
		struct nvme_sec_ctrl s = {
			.scid = (uint16_t)nvme_dma_rd(page, off + NVME_SCE_SCID, 2),
			.pcid = (uint16_t)nvme_dma_rd(page, off + NVME_SCE_PCID, 2),
			.online = nvme_dma_rd(page, off + NVME_SCE_SCS, 1) & NVME_SCS_ONLINE,
			.vfn = (uint16_t)nvme_dma_rd(page, off + NVME_SCE_VFN, 2),
			.nvq = (uint16_t)nvme_dma_rd(page, off + NVME_SCE_NVQ, 2),
			.nvi = (uint16_t)nvme_dma_rd(page, off + NVME_SCE_NVI, 2),
		};

		if (s.scid == 0 || s.scid > NVME_CNTLID_MAX || s.scid == pcid || s.pcid != pcid ||
		    s.vfn == 0 || s.vfn > max_vfn) {
			out->nr_dropped++;
			continue;
		}
		/* the same controller or VF twice: which entry is true is unknowable */
		for (unsigned j = 0; j < out->nr; j++)
			if (out->e[j].scid == s.scid || out->e[j].vfn == s.vfn)
				return NVME_E_BAD_DATA;
		out->e[out->nr++] = s;
	}
	return NVME_OK;
}

/* ---- the SR-IOV bring-up sequence ------------------------------------------------------------ */

static void sriov_done(void *arg, int status, uint32_t dw0, const void *data);

/* Each step's Virtualization Management action (5.22). */
static const uint8_t step_act[] = {
	[NVME_SRIOV_OFFLINE] = NVME_VM_ACT_SEC_OFFLINE,
	[NVME_SRIOV_ASSIGN_VQ] = NVME_VM_ACT_SEC_ASSIGN,
	[NVME_SRIOV_ASSIGN_VI] = NVME_VM_ACT_SEC_ASSIGN,
	[NVME_SRIOV_ONLINE] = NVME_VM_ACT_SEC_ONLINE,
};

/* Sends the current step's command, or ends the sequence when no VF is left. A submit that
 * fails (the controller is no longer READY) ends it with that status for the VFs left. */
static void sriov_send(struct nvme_ctrl *c)
{
	struct nvme_sriov *s = &c->sriov;
	struct nvme_admin_req r;
	int rc;

	for (;;) {
		if (s->cur >= s->nr_vfs) {
			s->step = NVME_SRIOV_DONE;
			return;
		}
		if (s->vf[s->cur].scid != 0)
			break;
		s->cur++; /* no secondary for that VF: status set when the list was read */
	}
	if (s->step == NVME_SRIOV_OFFLINE || s->step == NVME_SRIOV_ONLINE)
		nvme_cmd_virt_mgmt(&r, step_act[s->step], 0, s->vf[s->cur].scid, 0);
	else if (s->step == NVME_SRIOV_ASSIGN_VQ)
		nvme_cmd_virt_mgmt(&r, NVME_VM_ACT_SEC_ASSIGN, NVME_VM_RT_VQ, s->vf[s->cur].scid,
				   s->vq);
	else
		nvme_cmd_virt_mgmt(&r, NVME_VM_ACT_SEC_ASSIGN, NVME_VM_RT_VI, s->vf[s->cur].scid,
				   s->vi);
	r.done = sriov_done;
	r.arg = c;
	rc = nvme_admin_submit(c, &r);
	if (rc) {
		for (unsigned i = s->cur; i < s->nr_vfs; i++)
			if (!s->vf[i].status)
				s->vf[i].status = rc;
		s->step = NVME_SRIOV_DONE;
	}
}

/* The list read: each VF 1..nr_vfs gets its secondary's id, or NVME_E_NO_CTRL. */
static void sriov_take_list(struct nvme_ctrl *c, int status, const void *data)
{
	struct nvme_sriov *s = &c->sriov;

	if (!status)
		status = nvme_parse_secondary_list(data, c->cntlid, (uint16_t)s->nr_vfs, &c->sec);
	s->list_status = status;
	for (unsigned i = 0; i < s->nr_vfs; i++) {
		s->vf[i].status = status ? status : NVME_E_NO_CTRL;
		for (unsigned j = 0; !status && j < c->sec.nr; j++) {
			if (c->sec.e[j].vfn == i + 1) {
				s->vf[i].scid = c->sec.e[j].scid;
				s->vf[i].status = 0;
			}
		}
	}
	s->cur = 0;
	s->step = NVME_SRIOV_OFFLINE;
}

static void sriov_done(void *arg, int status, uint32_t dw0, const void *data)
{
	struct nvme_ctrl *c = arg;
	struct nvme_sriov *s = &c->sriov;
	struct nvme_vf_result *vf;

	if (s->step == NVME_SRIOV_LIST) {
		sriov_take_list(c, status, data);
		if (status < 0) { /* timeout or reset: the controller is not READY */
			s->step = NVME_SRIOV_DONE;
			return;
		}
		sriov_send(c);
		return;
	}
	if (s->step < NVME_SRIOV_OFFLINE || s->step > NVME_SRIOV_ONLINE || s->cur >= s->nr_vfs)
		return; /* not ours to advance (cannot happen: one request at a time) */
	vf = &s->vf[s->cur];
	/* an assignment reports what it allocated (5.22 DW0): anything but the asked amount
	 * leaves the secondary without what keel will tell the VF's driver it has */
	if (!status && s->step == NVME_SRIOV_ASSIGN_VQ && dw0 != s->vq)
		status = NVME_E_SHORT;
	if (!status && s->step == NVME_SRIOV_ASSIGN_VI && dw0 != s->vi)
		status = NVME_E_SHORT;
	if (status) {
		vf->status = status;
		vf->failed_act = step_act[s->step];
		if (status < 0) { /* timeout or reset: every VF left fails the same way */
			for (unsigned i = s->cur + 1; i < s->nr_vfs; i++)
				if (!s->vf[i].status)
					s->vf[i].status = status;
			s->step = NVME_SRIOV_DONE;
			return;
		}
		s->cur++;
		s->step = NVME_SRIOV_OFFLINE;
	} else if (s->step == NVME_SRIOV_ONLINE) {
		vf->online = true;
		s->cur++;
		s->step = NVME_SRIOV_OFFLINE;
	} else {
		s->step++;
	}
	sriov_send(c);
}

/* The primary flexible allocations: VQ 0, then VI 0, then the reset that applies them. */
static void primary_done(void *arg, int status, uint32_t dw0, const void *data)
{
	struct nvme_ctrl *c = arg;
	struct nvme_sriov *s = &c->sriov;
	struct nvme_admin_req r;

	(void)data;
	/* DW0 is what was allocated: anything but the 0 asked keeps resources from the pool */
	if (!status && dw0 != 0)
		status = NVME_E_SHORT;
	s->primary_status = status;
	if (status || s->step == NVME_SRIOV_PRI_VI) {
		s->step = NVME_SRIOV_DONE;
		if (!status)
			nvme_reset(c, "primary flexible resources released (applied at reset)");
		return;
	}
	s->step = NVME_SRIOV_PRI_VI;
	nvme_cmd_virt_mgmt(&r, NVME_VM_ACT_PRIMARY_FLEX, NVME_VM_RT_VI, c->cntlid, 0);
	r.done = primary_done;
	r.arg = c;
	status = nvme_admin_submit(c, &r);
	if (status) {
		s->primary_status = status;
		s->step = NVME_SRIOV_DONE;
	}
}

int nvme_sriov_release_primary(struct nvme_ctrl *c)
{
	struct nvme_admin_req r;
	int rc;

	if (c->state != NVME_S_READY)
		return NVME_E_NOT_READY;
	if (c->areq.busy)
		return NVME_E_BUSY;
	memset(&c->sriov, 0, sizeof(c->sriov));
	c->sriov.step = NVME_SRIOV_PRI_VQ;
	nvme_cmd_virt_mgmt(&r, NVME_VM_ACT_PRIMARY_FLEX, NVME_VM_RT_VQ, c->cntlid, 0);
	r.done = primary_done;
	r.arg = c;
	rc = nvme_admin_submit(c, &r);
	if (rc)
		c->sriov.step = NVME_SRIOV_IDLE;
	return rc;
}

int nvme_sriov_bring_online(struct nvme_ctrl *c, unsigned nr_vfs, uint16_t vq, uint16_t vi)
{
	struct nvme_admin_req r;
	int rc;

	if (nr_vfs == 0 || nr_vfs > NVME_MAX_VFS || vq < 2 || vi < 1)
		return NVME_E_INVAL;
	if (c->state != NVME_S_READY)
		return NVME_E_NOT_READY;
	if (c->areq.busy)
		return NVME_E_BUSY;
	memset(&c->sriov, 0, sizeof(c->sriov));
	c->sriov.nr_vfs = nr_vfs;
	c->sriov.vq = vq;
	c->sriov.vi = vi;
	c->sriov.step = NVME_SRIOV_LIST;
	/* from CNTID 0: every secondary of this primary, up to 127 */
	nvme_cmd_identify_secondary_list(&r, 0);
	r.done = sriov_done;
	r.arg = c;
	rc = nvme_admin_submit(c, &r);
	if (rc)
		c->sriov.step = NVME_SRIOV_IDLE;
	return rc;
}

int nvme_attach_ns(struct nvme_ctrl *c, uint32_t nsid, uint16_t cntlid, nvme_admin_done_fn done,
		   void *arg)
{
	struct nvme_admin_req r;

	if (nsid == 0 || nsid == NVME_NSID_ALL)
		return NVME_E_INVAL;
	nvme_cmd_ns_attach(&r, NVME_NSA_ATTACH, nsid, cntlid);
	r.done = done;
	r.arg = arg;
	return nvme_admin_submit(c, &r);
}
