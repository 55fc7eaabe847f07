/* SR-IOV physical functions (sriov.h). Register layouts are from the PCI Express Base
 * Specification 4.0: 7.6.3 (extended capability header), 9.3.3 (the SR-IOV capability) and 9.3.4
 * (what a VF's own header holds). */
#include "drivers/sriov.h"

#include "lib/kstring.h"

/* Extended capabilities live from 0x100 to the end of the 4 KiB config space; each header is ID
 * 15:0, version 19:16, next pointer 31:20, and a next pointer of 0 ends the list (7.6.3). */
#define EXT_CAP_FIRST 0x100
#define EXT_CFG_SIZE 0x1000
#define EXT_CAP_MAX ((EXT_CFG_SIZE - EXT_CAP_FIRST) / 4) /* dword slots: a longer walk loops */

#define BAR_LO_FLAGS 0xFu /* memory BAR type and prefetchable bits, read-only (PCI 3.0 6.2.5.1) */

static uint32_t rd(const struct pci_cfg_ops *o, const struct pci_func *f, uint16_t reg)
{
	return o->read32(o->ctx, f->bus, f->dev, f->fn, reg);
}

static void wr(const struct pci_cfg_ops *o, const struct pci_func *f, uint16_t reg, uint32_t v)
{
	o->write32(o->ctx, f->bus, f->dev, f->fn, reg, v);
}

static bool cap_in_range(uint16_t cap)
{
	return cap >= EXT_CAP_FIRST && cap % 4 == 0 && cap + SRIOV_CAP_LEN <= EXT_CFG_SIZE;
}

int sriov_find(const struct pci_cfg_ops *o, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t *cap)
{
	unsigned ptr = EXT_CAP_FIRST;

	for (unsigned n = 0; n < EXT_CAP_MAX; n++) {
		uint32_t hdr;

		/* a pointer into the conventional space, unaligned or past the end is no list */
		if (ptr < EXT_CAP_FIRST || ptr % 4 || ptr >= EXT_CFG_SIZE)
			return SRIOV_E_NO_CAP;
		hdr = o->read32(o->ctx, bus, dev, fn, (uint16_t)ptr);
		/* all ones: no extended space (conventional PCI, or the legacy ports) */
		if (hdr == 0xFFFFFFFFu)
			return SRIOV_E_NO_CAP;
		if ((hdr & 0xFFFF) == PCI_EXT_CAP_ID_SRIOV) {
			if (!cap_in_range((uint16_t)ptr))
				return SRIOV_E_BAD_CAP;
			*cap = (uint16_t)ptr;
			return SRIOV_OK;
		}
		ptr = hdr >> 20;
		if (!ptr)
			return SRIOV_E_NO_CAP;
	}
	return SRIOV_E_NO_CAP;
}

int sriov_read(const struct pci_cfg_ops *o, const struct pci_func *pf, uint16_t cap,
	       struct sriov *s)
{
	uint32_t hdr, v;

	memset(s, 0, sizeof(*s));
	if (!cap_in_range(cap))
		return SRIOV_E_INVAL;
	hdr = rd(o, pf, cap);
	if ((hdr & 0xFFFF) != PCI_EXT_CAP_ID_SRIOV)
		return SRIOV_E_NO_CAP;
	s->cap = cap;
	/* "must be 1h" for this version of the spec (9.3.3.1); later ones keep the layout */
	s->version = (uint8_t)((hdr >> 16) & 0xF);
	if (!s->version)
		return SRIOV_E_BAD_CAP;
	s->caps = rd(o, pf, (uint16_t)(cap + SRIOV_CAPS));
	v = rd(o, pf, (uint16_t)(cap + SRIOV_CTRL));
	s->control = (uint16_t)v;
	s->status = (uint16_t)(v >> 16);
	v = rd(o, pf, (uint16_t)(cap + SRIOV_VFS));
	s->initial_vfs = (uint16_t)v;
	s->total_vfs = (uint16_t)(v >> 16);
	s->num_vfs = (uint16_t)rd(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS));
	v = rd(o, pf, (uint16_t)(cap + SRIOV_OFFSET_STRIDE));
	s->first_vf_offset = (uint16_t)v;
	s->vf_stride = (uint16_t)(v >> 16);
	s->vf_device = (uint16_t)(rd(o, pf, (uint16_t)(cap + SRIOV_VF_DEVICE)) >> 16);
	s->page_sizes = rd(o, pf, (uint16_t)(cap + SRIOV_PAGE_SIZES));
	s->page_size = rd(o, pf, (uint16_t)(cap + SRIOV_PAGE_SIZE));
	/* all ones written to a VF BAR while the VFs decode would move every VF's BAR onto
	 * addresses nobody gave them (9.3.3.3.4: VF MSE gates VF memory decoding) */
	if (s->control & (SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE))
		return SRIOV_E_ENABLED;
	for (unsigned i = 0; i < PCI_HOST_MAX_BARS;) {
		struct pci_host_bar *b = &s->bar[i];

		i += pci_bar_size(o, pf->bus, pf->dev, pf->fn,
				  (uint16_t)(cap + SRIOV_VF_BAR0 + 4 * i), PCI_HOST_MAX_BARS - i,
				  b);
		/* VF BARs are memory only: bit 0 is hardwired 0 (9.3.3.14) */
		if (b->kind == PCI_HBAR_IO) {
			b->kind = PCI_HBAR_BAD;
			b->base = b->size = 0;
		}
	}
	return SRIOV_OK;
}

static bool vfs_off(const struct pci_cfg_ops *o, const struct pci_func *pf, const struct sriov *s)
{
	uint32_t ctrl = rd(o, pf, (uint16_t)(s->cap + SRIOV_CTRL));

	return !(ctrl & (SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE));
}

int sriov_set_num_vfs(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		      uint16_t n)
{
	uint16_t cap = s->cap;
	uint32_t v;
	int r;

	if (!cap_in_range(cap))
		return SRIOV_E_INVAL;
	if (!s->total_vfs || !n || n > s->total_vfs || n > SRIOV_MAX_VFS)
		return SRIOV_E_BAD_COUNT;
	/* NumVFs and System Page Size may change only while VF Enable is off (9.3.3.7,
	 * 9.3.3.13) */
	if (!vfs_off(o, pf, s))
		return SRIOV_E_ENABLED;
	/* keel maps 4 KiB pages; a PF that cannot do 4 KiB keeps what firmware chose and plan
	 * checks it */
	if (s->page_sizes & 1)
		wr(o, pf, (uint16_t)(cap + SRIOV_PAGE_SIZE), 1);
	/* Function Dependency Link above NumVFs is read-only: written back as read */
	v = rd(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS));
	wr(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS), (v & 0xFFFF0000u) | n);
	r = sriov_read(o, pf, cap, s);
	if (r != SRIOV_OK)
		return r;
	return s->num_vfs == n ? SRIOV_OK : SRIOV_E_BAD_COUNT;
}

/* VF BAR b's range for count VFs: a power-of-two size, a naturally aligned base, no overflow,
 * and below 4 GiB for a 32-bit BAR. */
static bool vf_range_ok(const struct pci_host_bar *b, uint64_t base, unsigned count)
{
	uint64_t span;

	if (!b->size || (b->size & (b->size - 1)) || base % b->size || !count)
		return false;
	if (b->size > UINT64_MAX / count)
		return false;
	span = b->size * count;
	if (base > UINT64_MAX - span)
		return false;
	return b->kind != PCI_HBAR_MEM32 || base + span <= 4 * GiB;
}

int sriov_set_vf_bar(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		     unsigned n, uint64_t base)
{
	struct pci_host_bar *b;
	uint16_t reg;
	uint32_t lo;

	if (n >= PCI_HOST_MAX_BARS || !cap_in_range(s->cap))
		return SRIOV_E_INVAL;
	b = &s->bar[n];
	if (b->kind != PCI_HBAR_MEM32 && b->kind != PCI_HBAR_MEM64)
		return SRIOV_E_INVAL;
	if (!base || !vf_range_ok(b, base, MAX(s->num_vfs, 1u)))
		return SRIOV_E_BAR_RANGE;
	if (!vfs_off(o, pf, s))
		return SRIOV_E_ENABLED;
	reg = (uint16_t)(s->cap + SRIOV_VF_BAR0 + 4 * n);
	lo = rd(o, pf, reg);
	wr(o, pf, reg, ((uint32_t)base & ~BAR_LO_FLAGS) | (lo & BAR_LO_FLAGS));
	if (b->kind == PCI_HBAR_MEM64)
		wr(o, pf, (uint16_t)(reg + 4), (uint32_t)(base >> 32));
	b->base = rd(o, pf, reg) & ~BAR_LO_FLAGS;
	if (b->kind == PCI_HBAR_MEM64)
		b->base |= (uint64_t)rd(o, pf, (uint16_t)(reg + 4)) << 32;
	return b->base == base ? SRIOV_OK : SRIOV_E_BAR_RANGE;
}

static uint16_t rid_of(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (uint16_t)(bus << 8 | (dev & 31) << 3 | (fn & 7));
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t blen)
{
	return a < b + blen && b < a + alen;
}

/* Whether [base, base + len) meets a memory BAR of a function in ph's segment, the PF's
 * included (VF BARs are left out: they are this plan's own or already checked). */
static bool bar_taken(const struct pci_host *ph, const struct pci_func *pf, uint64_t base,
		      uint64_t len)
{
	for (unsigned i = 0; i <= ph->nr; i++) {
		const struct pci_func *f = i < ph->nr ? &ph->funcs[i] : pf;

		if (f->segment != pf->segment)
			continue;
		for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++) {
			const struct pci_host_bar *b = &f->bar[j];

			if ((b->kind == PCI_HBAR_MEM32 || b->kind == PCI_HBAR_MEM64) && b->size &&
			    b->base <= UINT64_MAX - b->size &&
			    overlaps(base, len, b->base, b->size))
				return true;
		}
	}
	return false;
}

static int plan_rids(const struct sriov *s, const struct pci_func *pf, const struct pci_host *ph,
		     uint8_t bus_start, uint8_t bus_end, struct sriov_plan *p)
{
	uint16_t pf_rid = rid_of(pf->bus, pf->dev, pf->fn);

	/* offset 0 would make VF 0 the PF; stride 0 would make every VF the same one */
	if (!s->first_vf_offset || (!s->vf_stride && p->nr_vfs > 1))
		return SRIOV_E_BAD_RID;
	for (unsigned i = 0; i < p->nr_vfs; i++) {
		/* 9.3.3.10: "VF Stride ... RID of one VF to the next"; plain 16-bit sums, ARI or not */
		uint32_t rid = (uint32_t)pf_rid + s->first_vf_offset + i * (uint32_t)s->vf_stride;

		if (rid > 0xFFFF || (rid >> 8) < bus_start || (rid >> 8) > bus_end)
			return SRIOV_E_BAD_RID;
		if (rid == pf_rid)
			return SRIOV_E_RID_TAKEN;
		for (unsigned j = 0; j < ph->nr; j++) {
			const struct pci_func *f = &ph->funcs[j];

			if (f->segment == pf->segment && rid_of(f->bus, f->dev, f->fn) == rid)
				return SRIOV_E_RID_TAKEN;
		}
		p->rid[i] = (uint16_t)rid;
	}
	return SRIOV_OK;
}

static int plan_bars(const struct sriov *s, const struct pci_func *pf, const struct pci_host *ph,
		     struct sriov_plan *p)
{
	uint64_t page;
	unsigned shift = 0;

	/* System Page Size: one bit n, a page of 2^(n+12) bytes, one the PF supports (9.3.3.13) */
	if (!s->page_size || (s->page_size & (s->page_size - 1)) || !(s->page_size & s->page_sizes))
		return SRIOV_E_BAD_CAP;
	while (!(s->page_size & (1u << shift)))
		shift++;
	page = 1ull << (shift + 12);
	for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++) {
		const struct pci_host_bar *b = &s->bar[j];

		if (b->kind == PCI_HBAR_NONE)
			continue;
		/* each VF's BAR is aligned to the system page, so no page holds two VFs
		 * (9.3.3.13): that is what lets each go to a different VM */
		if (b->kind == PCI_HBAR_BAD || b->size < page)
			return SRIOV_E_BAD_BAR;
		if (!b->base)
			return SRIOV_E_BAR_UNASSIGNED;
		if (!vf_range_ok(b, b->base, p->nr_vfs))
			return SRIOV_E_BAR_RANGE;
		if (bar_taken(ph, pf, b->base, b->size * p->nr_vfs))
			return SRIOV_E_BAR_RANGE;
		for (unsigned k = 0; k < j; k++)
			if (p->bar[k].size && overlaps(b->base, b->size * p->nr_vfs, p->bar[k].base,
						       p->bar[k].size * p->nr_vfs))
				return SRIOV_E_BAR_RANGE;
		p->bar[j] = *b;
		p->bar[j].mapped = false;
	}
	return SRIOV_OK;
}

int sriov_plan(const struct sriov *s, const struct pci_func *pf, const struct pci_host *ph,
	       uint8_t bus_start, uint8_t bus_end, struct sriov_plan *p)
{
	int r;

	memset(p, 0, sizeof(*p));
	if (!s->total_vfs || !s->num_vfs || s->num_vfs > s->total_vfs || s->num_vfs > SRIOV_MAX_VFS)
		return SRIOV_E_BAD_COUNT;
	p->nr_vfs = s->num_vfs;
	r = plan_rids(s, pf, ph, bus_start, bus_end, p);
	if (r == SRIOV_OK)
		r = plan_bars(s, pf, ph, p);
	if (r != SRIOV_OK)
		memset(p, 0, sizeof(*p));
	return r;
}

int sriov_enable(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s,
		 const struct sriov_plan *p)
{
	uint16_t cap = s->cap;
	uint32_t ctrl;

	if (!cap_in_range(cap) || !p->nr_vfs || p->nr_vfs > SRIOV_MAX_VFS)
		return SRIOV_E_INVAL;
	/* the plan holds for the NumVFs it was made with, and only that */
	if ((uint16_t)rd(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS)) != p->nr_vfs ||
	    s->num_vfs != p->nr_vfs)
		return SRIOV_E_BAD_COUNT;
	/* the Status half is RW1C (VF Migration Status, 9.3.3.4): zeros leave it alone */
	ctrl = rd(o, pf, (uint16_t)(cap + SRIOV_CTRL)) & 0xFFFF;
	wr(o, pf, (uint16_t)(cap + SRIOV_CTRL), ctrl | SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE);
	s->control = (uint16_t)rd(o, pf, (uint16_t)(cap + SRIOV_CTRL));
	return (s->control & SRIOV_CTRL_VF_ENABLE) ? SRIOV_OK : SRIOV_E_ENABLED;
}

void sriov_disable(const struct pci_cfg_ops *o, const struct pci_func *pf, struct sriov *s)
{
	uint16_t cap = s->cap;
	uint32_t v;

	if (!cap_in_range(cap))
		return;
	v = rd(o, pf, (uint16_t)(cap + SRIOV_CTRL)) & 0xFFFF;
	wr(o, pf, (uint16_t)(cap + SRIOV_CTRL), v & ~(SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE));
	/* NumVFs last: it may change only once VF Enable is clear (9.3.3.7) */
	v = rd(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS));
	wr(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS), v & 0xFFFF0000u);
	s->control = (uint16_t)rd(o, pf, (uint16_t)(cap + SRIOV_CTRL));
	s->num_vfs = (uint16_t)rd(o, pf, (uint16_t)(cap + SRIOV_NUM_VFS));
}

int sriov_add_vfs(struct pci_host *ph, const struct pci_cfg_ops *o, unsigned pf_index,
		  const struct sriov *s, const struct sriov_plan *p, unsigned *nr_absent)
{
	const struct pci_func *pf;
	unsigned added = 0;

	*nr_absent = 0;
	if (pf_index >= ph->nr || p->nr_vfs > SRIOV_MAX_VFS || ph->funcs[pf_index].is_vf)
		return SRIOV_E_INVAL;
	if (ph->nr + p->nr_vfs > PCI_HOST_MAX_FUNCS)
		return SRIOV_E_TABLE_FULL;
	pf = &ph->funcs[pf_index];
	ph->funcs[pf_index].sriov_cap = s->cap;
	for (unsigned i = 0; i < p->nr_vfs; i++) {
		uint8_t bus = (uint8_t)(p->rid[i] >> 8), dev = (p->rid[i] >> 3) & 31,
			fn = p->rid[i] & 7;
		uint32_t cr = o->read32(o->ctx, bus, dev, fn, PCIH_CLASS_REV), hdr;
		struct pci_func *f;

		/* all ones: the VF does not answer (not enabled after all, or not there) */
		if (cr == 0xFFFFFFFFu) {
			(*nr_absent)++;
			continue;
		}
		/* a VF has a type 0 header (9.3.4.1.5); anything else is not a VF we can pass */
		hdr = o->read32(o->ctx, bus, dev, fn, PCIH_HEADER_DWORD);
		if (hdr == 0xFFFFFFFFu || ((hdr >> 16) & PCIH_HEADER_TYPE_MASK) != 0) {
			(*nr_absent)++;
			continue;
		}
		f = &ph->funcs[ph->nr++];
		memset(f, 0, sizeof(*f));
		f->segment = pf->segment;
		f->bus = bus;
		f->dev = dev;
		f->fn = fn;
		/* a VF's Vendor and Device ID registers read 0xFFFF (9.3.4.1.1, 9.3.4.1.2) */
		f->vendor = pf->vendor;
		f->device = s->vf_device;
		f->class_code = cr >> 8;
		f->revision = (uint8_t)cr;
		f->header_type = 0;
		f->nr_bars = PCI_HOST_MAX_BARS;
		/* its own BAR registers read 0 (9.3.4.1.11): its BARs are VF i's slice of each */
		for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++) {
			f->bar[j] = p->bar[j];
			f->bar[j].base += (uint64_t)i * p->bar[j].size;
			f->bar[j].mapped = false;
		}
		f->owner = PCI_OWNER_NONE;
		f->is_vf = true;
		f->pf_index = (uint16_t)pf_index;
		added++;
	}
	return (int)added;
}

const char *sriov_strerror(int err)
{
	switch (err) {
	case SRIOV_OK:
		return "no error";
	case SRIOV_E_NO_CAP:
		return "it has no SR-IOV capability";
	case SRIOV_E_BAD_CAP:
		return "its SR-IOV capability is malformed";
	case SRIOV_E_ENABLED:
		return "its VFs are enabled already";
	case SRIOV_E_BAD_COUNT:
		return "it does not take that number of VFs";
	case SRIOV_E_BAD_RID:
		return "its VFs' routing IDs are out of reach (offset, stride or bus)";
	case SRIOV_E_RID_TAKEN:
		return "a VF would have the address of another function";
	case SRIOV_E_BAD_BAR:
		return "a VF BAR is not a memory BAR of a page or more";
	case SRIOV_E_BAR_UNASSIGNED:
		return "its VF BARs were not placed by the firmware";
	case SRIOV_E_BAR_RANGE:
		return "its VF BARs do not fit where the firmware placed them";
	case SRIOV_E_TABLE_FULL:
		return "keel's table of PCI functions is full";
	default:
		return "an argument is out of range";
	}
}
