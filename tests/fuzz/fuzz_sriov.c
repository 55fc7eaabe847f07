/* SR-IOV over a physical function the fuzzer makes up: hardware is untrusted input too.
 *
 * Input (PRE_LEN bytes of preamble, then config space):
 *   0, 1     the bus range (swapped when reversed)
 *   2, 3     the PF's bus and device/function (device 7:3, function 2:0)
 *   4        the NumVFs to ask for
 *   5        functions already in the table (low 3 bits), flags: bit 3 NumVFs writes also scramble
 *            First VF Offset and VF Stride, bit 4 the PF ignores NumVFs writes
 *   6, 7     unused
 *   8..71    what VFs answer: class/revision dword and header dword for 8 VFs (VF by RID % 8)
 *   72..103  8 table functions: RID (2 bytes LE) and a 64 KiB BAR's base >> 16 (2 bytes LE)
 *   104..127 the writable bits of each VF BAR dword
 *   128..    the PF's config space from 0x100 on (the rest reads 0)
 *
 * Driven: find, read, set NumVFs, VF BARs given window addresses when unassigned, plan, enable,
 * add the VFs, disable. Checked: only the capability's Control, NumVFs, System Page Size and VF
 * BAR registers are written, never a Status bit's 1 (RW1C), VF BARs only while VF Enable and VF
 * MSE are off, and sizing leaves them as they were; a plan's RIDs are inside the range, none the
 * PF's or a table function's, distinct, at most SRIOV_MAX_VFS; every VF BAR slice fits its
 * kind's limit without overflow; each added entry is a VF of the PF, on a planned RID, with the
 * planned BARs; after disable VF Enable, VF MSE and NumVFs are 0. */
#include "drivers/sriov.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define PRE_LEN 128
#define CFG_DWORDS 1024

static struct {
	uint16_t pf_rid;
	uint32_t cfg[CFG_DWORDS];
	uint32_t bar_mask[6];
	uint32_t vf_class[8], vf_hdr[8];
	bool scramble, sticky_num;
	uint16_t cap; /* where the capability was found; 0 before */
} fs;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t ctrl(void)
{
	return fs.cap ? fs.cfg[(fs.cap + SRIOV_CTRL) / 4] : 0;
}

static uint32_t rd(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	uint16_t rid = (uint16_t)(bus << 8 | dev << 3 | fn);

	(void)ctx;
	if (dev > 31 || fn > 7 || reg % 4 || reg > 0xFFC)
		abort();
	if (rid == fs.pf_rid)
		return fs.cfg[reg / 4];
	if (!(ctrl() & SRIOV_CTRL_VF_ENABLE))
		return 0xFFFFFFFFu;
	if (reg == PCIH_CLASS_REV)
		return fs.vf_class[rid % 8];
	if (reg == PCIH_HEADER_DWORD)
		return fs.vf_hdr[rid % 8];
	return reg == PCIH_VENDOR_DEVICE ? 0xFFFFFFFFu : 0;
}

static void wr(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	uint16_t cap = fs.cap;
	uint32_t *c = fs.cfg;

	(void)ctx;
	if ((uint16_t)(bus << 8 | dev << 3 | fn) != fs.pf_rid || !cap || reg % 4)
		abort(); /* a VF, or before the capability was found */
	if (reg == cap + SRIOV_CTRL) {
		if ((v >> 16) & (c[reg / 4] >> 16))
			abort(); /* would clear a Status bit */
		c[reg / 4] = (c[reg / 4] & 0xFFFF0000u) | (v & 0xFFFF);
	} else if (reg == cap + SRIOV_NUM_VFS) {
		if (ctrl() & SRIOV_CTRL_VF_ENABLE)
			abort();
		if (!fs.sticky_num)
			c[reg / 4] = (c[reg / 4] & 0xFFFF0000u) | (v & 0xFFFF);
		if (fs.scramble)
			c[(cap + SRIOV_OFFSET_STRIDE) / 4] ^= (v & 0xFFFF) * 0x9E3779B9u;
	} else if (reg == cap + SRIOV_PAGE_SIZE) {
		if (ctrl() & SRIOV_CTRL_VF_ENABLE)
			abort();
		c[reg / 4] = v;
	} else if (reg >= cap + SRIOV_VF_BAR0 && reg < cap + SRIOV_VF_BAR0 + 24) {
		unsigned i = (reg - cap - SRIOV_VF_BAR0) / 4;

		if (ctrl() & (SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE))
			abort(); /* a VF BAR moved while the VFs decode */
		c[reg / 4] = (v & fs.bar_mask[i]) | (c[reg / 4] & ~fs.bar_mask[i]);
	} else {
		abort();
	}
}

static void check_bar(const struct pci_host_bar *b)
{
	if (b->kind == PCI_HBAR_NONE)
		return;
	if ((b->kind != PCI_HBAR_MEM32 && b->kind != PCI_HBAR_MEM64) || !b->size ||
	    (b->size & (b->size - 1)) || b->base % b->size || b->mapped)
		abort();
}

static void check_plan(const struct sriov_plan *p, const struct pci_host *ph, uint8_t lo,
		       uint8_t hi)
{
	if (!p->nr_vfs || p->nr_vfs > SRIOV_MAX_VFS)
		abort();
	for (unsigned i = 0; i < p->nr_vfs; i++) {
		if (p->rid[i] >> 8 < lo || p->rid[i] >> 8 > hi || p->rid[i] == fs.pf_rid)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (p->rid[j] == p->rid[i])
				abort();
		for (unsigned j = 0; j < ph->nr; j++)
			if ((ph->funcs[j].bus << 8 | ph->funcs[j].dev << 3 | ph->funcs[j].fn) ==
			    p->rid[i])
				abort();
	}
	for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++) {
		const struct pci_host_bar *b = &p->bar[j];
		uint64_t limit = b->kind == PCI_HBAR_MEM32 ? 4 * GiB : UINT64_MAX;

		check_bar(b);
		if (b->kind != PCI_HBAR_NONE &&
		    (!b->base || b->size > (limit - b->base) / p->nr_vfs))
			abort(); /* the last VF's slice would pass its limit */
		/* no VF's slice on a table function's BAR (each may go to another VM) */
		for (unsigned i = 0; b->kind != PCI_HBAR_NONE && i < ph->nr; i++) {
			const struct pci_host_bar *t = &ph->funcs[i].bar[0];

			if (t->size && t->base < b->base + b->size * p->nr_vfs &&
			    b->base < t->base + t->size)
				abort();
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pci_host ph;
	const struct pci_cfg_ops ops = { NULL, rd, wr };
	struct sriov s;
	struct sriov_plan p;
	struct pci_func *pf;
	uint32_t before[6];
	uint64_t win32 = 0xC0000000u, win64 = 0x4000000000ull;
	uint16_t cap;
	uint8_t lo, hi;
	unsigned absent, nr_before;
	int r;

	if (size < PRE_LEN)
		return 0;
	memset(&fs, 0, sizeof(fs));
	memset(&ph, 0, sizeof(ph));
	lo = MIN(data[0], data[1]);
	hi = MAX(data[0], data[1]);
	fs.pf_rid = (uint16_t)(data[2] << 8 | data[3]);
	fs.scramble = data[5] & 8;
	fs.sticky_num = data[5] & 16;
	for (unsigned i = 0; i < 8; i++) {
		fs.vf_class[i] = le32(data + 8 + 8 * i);
		fs.vf_hdr[i] = le32(data + 12 + 8 * i);
	}
	for (unsigned i = 0; i < 6; i++)
		fs.bar_mask[i] = le32(data + 104 + 4 * i);
	for (size_t i = 0; PRE_LEN + 4 * i + 4 <= size && 0x40 + i < CFG_DWORDS; i++)
		fs.cfg[0x40 + i] = le32(data + PRE_LEN + 4 * i);

	pf = &ph.funcs[ph.nr++];
	pf->bus = data[2];
	pf->dev = data[3] >> 3;
	pf->fn = data[3] & 7;
	pf->vendor = 0x1B36;
	pf->nr_bars = 6;
	for (unsigned i = 0; i < (data[5] & 7u); i++) {
		struct pci_func *f = &ph.funcs[ph.nr++];
		uint16_t rid = le16(data + 72 + 4 * i);

		f->bus = (uint8_t)(rid >> 8);
		f->dev = (rid >> 3) & 31;
		f->fn = rid & 7;
		f->bar[0] = (struct pci_host_bar){ PCI_HBAR_MEM32, false,
						   (uint64_t)le16(data + 74 + 4 * i) << 16,
						   64 * KiB, false };
	}

	if (sriov_find(&ops, pf->bus, pf->dev, pf->fn, &cap) != SRIOV_OK)
		return 0;
	if (cap < 0x100 || cap % 4 || cap + SRIOV_CAP_LEN > 0x1000)
		abort();
	fs.cap = cap;
	memcpy(before, &fs.cfg[(cap + SRIOV_VF_BAR0) / 4], sizeof(before));
	r = sriov_read(&ops, pf, cap, &s);
	if (memcmp(before, &fs.cfg[(cap + SRIOV_VF_BAR0) / 4], sizeof(before)) != 0)
		abort(); /* sizing did not restore */
	if (r != SRIOV_OK)
		return 0;
	for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++)
		if (s.bar[j].kind > PCI_HBAR_BAD || s.bar[j].kind == PCI_HBAR_IO ||
		    (s.bar[j].size & (s.bar[j].size - 1)))
			abort();
	if (sriov_set_num_vfs(&ops, pf, &s, data[4]) != SRIOV_OK)
		return 0;
	for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++) {
		struct pci_host_bar *b = &s.bar[j];
		uint64_t *w = b->kind == PCI_HBAR_MEM32 ? &win32 : &win64;

		if ((b->kind != PCI_HBAR_MEM32 && b->kind != PCI_HBAR_MEM64) || b->base ||
		    b->size > 16 * GiB)
			continue;
		*w = ALIGN_UP(*w, b->size);
		if (sriov_set_vf_bar(&ops, pf, &s, j, *w) == SRIOV_OK)
			*w += b->size * s.num_vfs;
	}
	r = sriov_plan(&s, pf, &ph, lo, hi, &p);
	if (r != SRIOV_OK) {
		if (p.nr_vfs)
			abort();
		return 0;
	}
	check_plan(&p, &ph, lo, hi);
	if (sriov_enable(&ops, pf, &s, &p) == SRIOV_OK) {
		nr_before = ph.nr;
		r = sriov_add_vfs(&ph, &ops, 0, &s, &p, &absent);
		if (r < 0 || (unsigned)r + absent != p.nr_vfs || ph.nr != nr_before + (unsigned)r)
			abort();
		for (unsigned i = nr_before; i < ph.nr; i++) {
			const struct pci_func *f = &ph.funcs[i];
			uint16_t rid = (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn);
			unsigned k = 0;

			while (k < p.nr_vfs && p.rid[k] != rid)
				k++;
			if (k == p.nr_vfs || !f->is_vf || f->pf_index != 0 || f->header_type ||
			    f->vendor != pf->vendor || f->device != s.vf_device)
				abort();
			for (unsigned j = 0; j < PCI_HOST_MAX_BARS; j++)
				if (f->bar[j].kind != p.bar[j].kind || f->bar[j].mapped ||
				    f->bar[j].base != p.bar[j].base + k * p.bar[j].size)
					abort();
		}
	}
	sriov_disable(&ops, pf, &s);
	if ((ctrl() & (SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE)) ||
	    (!fs.sticky_num && (uint16_t)fs.cfg[(cap + SRIOV_NUM_VFS) / 4]))
		abort();
	return 0;
}
