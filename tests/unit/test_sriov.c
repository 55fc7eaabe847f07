/* SR-IOV against a fake physical function: the extended capability walk (and the lists that
 * loop, point into the header or run off the end), VF BAR sizing with every register restored,
 * NumVFs changing First VF Offset and VF Stride, routing IDs with and without ARI, across a bus
 * and past 16 bits, hostile counts, VF BAR placement and its overflow, the enable and disable
 * register writes, and the struct pci_func entries of the VFs.
 *
 * The fake PF models what the code may rely on (PCIe 4.0, 9.3.3): Control's low half holds what
 * is written, Status is RW1C, NumVFs sets offset and stride from a table, System Page Size holds
 * what is written, a VF BAR keeps only its writable bits. Any other write is counted as bad, and
 * so is a VF BAR written while VF MSE is on. VFs answer only while VF Enable is on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "drivers/sriov.h"
#include "lib/kstring.h"

#define CAP 0x160
#define R(off) ((CAP + (off)) / 4)

struct fake_vf {
	uint16_t rid;
	uint32_t class_rev, hdr;
};

static struct {
	uint16_t pf_rid;
	uint32_t cfg[1024];
	uint32_t bar_mask[6];
	uint16_t offset_for[SRIOV_MAX_VFS + 1], stride_for[SRIOV_MAX_VFS + 1];
	struct fake_vf vf[8];
	unsigned nr_vf;
	unsigned bad_writes, sized_decoding, writes;
} fk;

static struct pci_host ph;
static struct pci_func *pf;

static uint16_t rid(uint8_t bus, uint8_t dev, uint8_t fn)
{
	return (uint16_t)(bus << 8 | dev << 3 | fn);
}

static uint32_t fake_read(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	uint16_t r = rid(bus, dev, fn);

	assert_ptr_equal(ctx, &fk);
	assert_true(dev < 32 && fn < 8 && reg % 4 == 0 && reg <= 0xFFC);
	if (r == fk.pf_rid)
		return fk.cfg[reg / 4];
	if (!(fk.cfg[R(SRIOV_CTRL)] & SRIOV_CTRL_VF_ENABLE))
		return 0xFFFFFFFFu;
	for (unsigned i = 0; i < fk.nr_vf; i++)
		if (fk.vf[i].rid == r)
			return reg == PCIH_VENDOR_DEVICE  ? 0xFFFFFFFFu
			       : reg == PCIH_CLASS_REV	  ? fk.vf[i].class_rev
			       : reg == PCIH_HEADER_DWORD ? fk.vf[i].hdr
							  : 0;
	return 0xFFFFFFFFu;
}

static void fake_write(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	uint32_t *c = fk.cfg;

	assert_ptr_equal(ctx, &fk);
	fk.writes++;
	if (rid(bus, dev, fn) != fk.pf_rid) {
		fk.bad_writes++;
		return;
	}
	if (reg == CAP + SRIOV_CTRL) {
		if ((v >> 16) & (c[R(SRIOV_CTRL)] >> 16))
			fk.bad_writes++; /* would clear VF Migration Status */
		c[R(SRIOV_CTRL)] = (c[R(SRIOV_CTRL)] & 0xFFFF0000u) | (v & 0x3F);
	} else if (reg == CAP + SRIOV_NUM_VFS) {
		uint16_t n = (uint16_t)v;

		if ((v ^ c[R(SRIOV_NUM_VFS)]) & 0xFFFF0000u)
			fk.bad_writes++; /* Function Dependency Link is read-only */
		if (c[R(SRIOV_CTRL)] & SRIOV_CTRL_VF_ENABLE)
			fk.bad_writes++;
		c[R(SRIOV_NUM_VFS)] = (c[R(SRIOV_NUM_VFS)] & 0xFFFF0000u) | n;
		if (n <= SRIOV_MAX_VFS)
			c[R(SRIOV_OFFSET_STRIDE)] = fk.offset_for[n] | (uint32_t)fk.stride_for[n]
									       << 16;
	} else if (reg == CAP + SRIOV_PAGE_SIZE) {
		if (c[R(SRIOV_CTRL)] & SRIOV_CTRL_VF_ENABLE)
			fk.bad_writes++;
		c[R(SRIOV_PAGE_SIZE)] = v;
	} else if (reg >= CAP + SRIOV_VF_BAR0 && reg < CAP + SRIOV_VF_BAR0 + 24) {
		unsigned i = (reg - CAP - SRIOV_VF_BAR0) / 4;

		if (c[R(SRIOV_CTRL)] & (SRIOV_CTRL_VF_ENABLE | SRIOV_CTRL_VF_MSE))
			fk.sized_decoding++;
		c[reg / 4] = (v & fk.bar_mask[i]) | (c[reg / 4] & ~fk.bar_mask[i]);
	} else {
		fk.bad_writes++;
	}
}

static const struct pci_cfg_ops ops = { &fk, fake_read, fake_write };

static void vf_bar32(unsigned i, uint32_t base, uint32_t size, bool pf_)
{
	fk.cfg[R(SRIOV_VF_BAR0) + i] = base | (pf_ ? 8u : 0u);
	fk.bar_mask[i] = ~(size - 1) & 0xFFFFFFF0u;
}

static void vf_bar64(unsigned i, uint64_t base, uint64_t size, bool pf_)
{
	uint64_t mask = ~(size - 1) & ~0xFull;

	fk.cfg[R(SRIOV_VF_BAR0) + i] = (uint32_t)base | 4u | (pf_ ? 8u : 0u);
	fk.cfg[R(SRIOV_VF_BAR0) + i + 1] = (uint32_t)(base >> 32);
	fk.bar_mask[i] = (uint32_t)mask;
	fk.bar_mask[i + 1] = (uint32_t)(mask >> 32);
}

/* A PF at 01:00.0 like QEMU's NVMe with sriov_max_vfs: an AER capability at 0x100, SR-IOV at
 * 0x160 with TotalVFs 4, VF 0 at offset 1 stride 1 (offset 2 once NumVFs > 2), VF BAR0 a
 * 64-bit 16 KiB BAR, VF BAR2 a 32-bit 8 KiB one, both unassigned. */
static int setup(void **state)
{
	(void)state;
	memset(&fk, 0, sizeof(fk));
	memset(&ph, 0, sizeof(ph));
	fk.pf_rid = rid(1, 0, 0);
	fk.cfg[0] = 0x58451B36u;
	fk.cfg[2] = 0x01080202u;
	fk.cfg[0x100 / 4] = 0x00010001u | (uint32_t)CAP << 20; /* AER v1 -> CAP */
	fk.cfg[R(0)] = 0x00010000u | PCI_EXT_CAP_ID_SRIOV;
	fk.cfg[R(SRIOV_CTRL)] = 0x00010000u; /* VF Migration Status set: must survive */
	fk.cfg[R(SRIOV_VFS)] = 4u << 16 | 4u;
	fk.cfg[R(SRIOV_NUM_VFS)] = 0x00070000u; /* a Function Dependency Link */
	fk.cfg[R(SRIOV_VF_DEVICE)] = 0x5846u << 16;
	fk.cfg[R(SRIOV_PAGE_SIZES)] = 0x553; /* 4K, 8K, 64K, 256K, 1M, 4M */
	fk.cfg[R(SRIOV_PAGE_SIZE)] = 0x2;    /* firmware chose 8K */
	for (unsigned n = 0; n <= SRIOV_MAX_VFS; n++) {
		fk.offset_for[n] = n > 2 ? 2 : 1;
		fk.stride_for[n] = 1;
	}
	vf_bar64(0, 0, 16 * KiB, false);
	vf_bar32(2, 0, 8 * KiB, false);
	for (unsigned i = 0; i < 4; i++)
		fk.vf[fk.nr_vf++] = (struct fake_vf){ rid(1, 0, (uint8_t)(1 + i)), 0x01080202u, 0 };

	pf = &ph.funcs[ph.nr++];
	pf->bus = 1;
	pf->vendor = 0x1B36;
	pf->device = 0x5845;
	pf->class_code = 0x010802;
	pf->nr_bars = 6;
	pf->bar[0] = (struct pci_host_bar){ PCI_HBAR_MEM64, false, 0xFE000000u, 16 * KiB, true };
	return 0;
}

static void find_walks_the_list(void **state)
{
	uint16_t cap = 0;

	(void)state;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_OK);
	assert_int_equal(cap, CAP);
	/* no extended space: all ones */
	assert_int_equal(sriov_find(&ops, 9, 0, 0, &cap), SRIOV_E_NO_CAP);
	/* a loop ends */
	fk.cfg[0x100 / 4] = 0x00010001u | 0x100u << 20;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_E_NO_CAP);
	/* a pointer into the conventional space, or unaligned */
	fk.cfg[0x100 / 4] = 0x00010001u | 0x40u << 20;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_E_NO_CAP);
	fk.cfg[0x100 / 4] = 0x00010001u | 0x162u << 20;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_E_NO_CAP);
	/* a list with nothing at 0x100 (ID 0, next 0) */
	fk.cfg[0x100 / 4] = 0;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_E_NO_CAP);
	/* the capability too close to the end for its 64 bytes */
	fk.cfg[0x100 / 4] = 0x00010001u | 0xFE0u << 20;
	fk.cfg[0xFE0 / 4] = 0x00010000u | PCI_EXT_CAP_ID_SRIOV;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_E_BAD_CAP);
	/* the ID at 0x100 itself */
	fk.cfg[0x100 / 4] = 0x00010000u | PCI_EXT_CAP_ID_SRIOV;
	assert_int_equal(sriov_find(&ops, 1, 0, 0, &cap), SRIOV_OK);
	assert_int_equal(cap, 0x100);
	assert_int_equal(fk.writes, 0);
}

static void read_sizes_and_restores(void **state)
{
	struct sriov s;
	uint32_t before[1024];

	(void)state;
	vf_bar32(4, 0xC0000000u, 4 * KiB, true);
	fk.cfg[R(SRIOV_VF_BAR0) + 5] = 0x0000E001u; /* I/O: not allowed for a VF BAR */
	fk.bar_mask[5] = 0xFFFFFFF0u;
	memcpy(before, fk.cfg, sizeof(before));
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_memory_equal(before, fk.cfg, sizeof(before));
	assert_int_equal(fk.bad_writes + fk.sized_decoding, 0);
	assert_int_equal(s.version, 1);
	assert_int_equal(s.total_vfs, 4);
	assert_int_equal(s.initial_vfs, 4);
	assert_int_equal(s.num_vfs, 0);
	assert_int_equal(s.vf_device, 0x5846);
	assert_int_equal(s.status, 1);
	assert_int_equal(s.page_size, 2);
	assert_int_equal(s.bar[0].kind, PCI_HBAR_MEM64);
	assert_int_equal(s.bar[0].size, 16 * KiB);
	assert_int_equal(s.bar[0].base, 0);
	assert_int_equal(s.bar[1].kind, PCI_HBAR_NONE);
	assert_int_equal(s.bar[2].kind, PCI_HBAR_MEM32);
	assert_int_equal(s.bar[2].size, 8 * KiB);
	assert_int_equal(s.bar[3].kind, PCI_HBAR_NONE);
	assert_int_equal(s.bar[4].kind, PCI_HBAR_MEM32);
	assert_true(s.bar[4].prefetchable);
	assert_int_equal(s.bar[4].base, 0xC0000000u);
	assert_int_equal(s.bar[5].kind, PCI_HBAR_BAD);
	assert_int_equal(s.bar[5].size, 0);

	/* with VF MSE on nothing is sized and nothing written */
	fk.cfg[R(SRIOV_CTRL)] |= SRIOV_CTRL_VF_MSE;
	fk.writes = 0;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_E_ENABLED);
	assert_int_equal(fk.writes, 0);
	/* not the capability, or version 0 */
	assert_int_equal(sriov_read(&ops, pf, 0x100, &s), SRIOV_E_NO_CAP);
	assert_int_equal(sriov_read(&ops, pf, 0x40, &s), SRIOV_E_INVAL);
	fk.cfg[R(0)] = PCI_EXT_CAP_ID_SRIOV;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_E_BAD_CAP);
}

static void num_vfs_then_offset(void **state)
{
	struct sriov s;

	(void)state;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	fk.writes = 0;
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 0), SRIOV_E_BAD_COUNT);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 5), SRIOV_E_BAD_COUNT);
	assert_int_equal(fk.writes, 0);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 3), SRIOV_OK);
	assert_int_equal(fk.cfg[R(SRIOV_NUM_VFS)], 0x00070003u);
	assert_int_equal(fk.cfg[R(SRIOV_PAGE_SIZE)], 1); /* 4 KiB */
	assert_int_equal(s.page_size, 1);
	assert_int_equal(s.num_vfs, 3);
	assert_int_equal(s.first_vf_offset, 2); /* what NumVFs = 3 gives, not what 0 gave */
	assert_int_equal(s.vf_stride, 1);
	assert_int_equal(s.bar[0].size, 16 * KiB);
	assert_int_equal(fk.bad_writes + fk.sized_decoding, 0);

	/* a PF that lets NumVFs slip */
	fk.cfg[R(SRIOV_VFS)] = 20u << 16;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, SRIOV_MAX_VFS + 1), SRIOV_E_BAD_COUNT);
	fk.cfg[R(SRIOV_VFS)] = 0;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 1), SRIOV_E_BAD_COUNT);
	/* VFs already on */
	fk.cfg[R(SRIOV_VFS)] = 4u << 16;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	fk.cfg[R(SRIOV_CTRL)] |= SRIOV_CTRL_VF_ENABLE;
	fk.writes = 0;
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 1), SRIOV_E_ENABLED);
	assert_int_equal(fk.writes, 0);
}

/* A made-up capability for the routing ID arithmetic alone (BARs none). */
static struct sriov caps(uint16_t total, uint16_t n, uint16_t offset, uint16_t stride)
{
	struct sriov s;

	memset(&s, 0, sizeof(s));
	s.cap = CAP;
	s.total_vfs = total;
	s.num_vfs = n;
	s.first_vf_offset = offset;
	s.vf_stride = stride;
	s.page_sizes = s.page_size = 1;
	return s;
}

static void routing_ids(void **state)
{
	struct sriov s = caps(8, 2, 1, 1);
	struct sriov_plan p;

	(void)state;
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_OK);
	assert_int_equal(p.nr_vfs, 2);
	assert_int_equal(p.rid[0], rid(1, 0, 1));
	assert_int_equal(p.rid[1], rid(1, 0, 2));
	/* ARI: offset 0x80, stride 2 from 01:00.0 gives functions 0x80 and 0x82 (16.0, 16.2) */
	s = caps(8, 2, 0x80, 2);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_OK);
	assert_int_equal(p.rid[0], 0x0180);
	assert_int_equal(p.rid[1], 0x0182);
	/* across a bus: 01:1f.7 then 02:00.0, only when bus 2 is in range */
	s = caps(8, 2, 0xFF, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAD_RID);
	assert_int_equal(p.nr_vfs, 0); /* a refused plan is empty */
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 2, &p), SRIOV_OK);
	assert_int_equal(p.rid[1], 0x0200);
	/* below the range */
	assert_int_equal(sriov_plan(&s, pf, &ph, 2, 3, &p), SRIOV_E_BAD_RID);
	/* stride 0 is fine for one VF */
	s = caps(8, 1, 4, 0);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_OK);
	assert_int_equal(p.rid[0], rid(1, 0, 4));
}

static void hostile_values_refused(void **state)
{
	struct sriov s;
	struct sriov_plan p;

	(void)state;
	s = caps(0, 1, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_COUNT);
	s = caps(2, 3, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_COUNT);
	s = caps(2, 0, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_COUNT);
	s = caps(0xFFFF, SRIOV_MAX_VFS + 1, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_COUNT);
	s = caps(2, 1, 0, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_RID);
	s = caps(2, 2, 1, 0);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_RID);
	/* past 16 bits: ff:1f.7 + 1 */
	pf->bus = 0xFF;
	pf->dev = 31;
	pf->fn = 7;
	s = caps(2, 1, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_RID);
	s = caps(16, 16, 0xFFFF, 0xFFFF);
	pf->bus = pf->dev = pf->fn = 0;
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_RID);
	/* a VF onto a function the table has (the PF itself at 01:00.0, another at 01:00.2) */
	pf->bus = 1;
	ph.funcs[ph.nr++] = (struct pci_func){ .bus = 1, .dev = 0, .fn = 2, .vendor = 0x8086 };
	s = caps(4, 2, 1, 1);
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_RID_TAKEN);
	/* another segment's function is no clash */
	ph.funcs[1].segment = 1;
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_OK);
	/* a bad System Page Size */
	s.page_size = 3;
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_CAP);
	s.page_size = 4;
	assert_int_equal(sriov_plan(&s, pf, &ph, 0, 255, &p), SRIOV_E_BAD_CAP);
}

static void vf_bar_placement(void **state)
{
	struct sriov s;
	struct sriov_plan p;

	(void)state;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 2), SRIOV_OK);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAR_UNASSIGNED);
	/* misaligned, zero, a 32-bit one whose two VFs would cross 4 GiB, an I/O or absent BAR */
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0x80001000u), SRIOV_E_BAR_RANGE);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0), SRIOV_E_BAR_RANGE);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xFFFFE000u), SRIOV_E_BAR_RANGE);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 1, 0x80000000u), SRIOV_E_INVAL);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 6, 0x80000000u), SRIOV_E_INVAL);
	/* a 64-bit one near the top of the address space */
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0xFFFFFFFFFFFFC000ull),
			 SRIOV_E_BAR_RANGE);
	/* the last two VFs' worth below 4 GiB fits */
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xFFFFC000u), SRIOV_OK);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0x800000000ull), SRIOV_OK);
	assert_int_equal(fk.cfg[R(SRIOV_VF_BAR0)], 0x00000004u);
	assert_int_equal(fk.cfg[R(SRIOV_VF_BAR0) + 1], 0x8u);
	assert_int_equal(fk.bad_writes + fk.sized_decoding, 0);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_OK);
	assert_int_equal(p.bar[0].base, 0x800000000ull);
	assert_int_equal(p.bar[0].size, 16 * KiB);
	assert_int_equal(p.bar[2].base, 0xFFFFC000u);
	assert_false(p.bar[0].mapped);

	/* VF BAR ranges onto the PF's own BAR, or onto each other */
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xFE000000u), SRIOV_OK);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAR_RANGE);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xF0000000u), SRIOV_OK);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0xF0002000u), SRIOV_E_BAR_RANGE);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0xF0000000u), SRIOV_OK);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAR_RANGE);

	/* a VF BAR smaller than the system page */
	s.bar[2].size = 2 * KiB;
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAD_BAR);
	s.bar[2].kind = PCI_HBAR_BAD;
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAD_BAR);
	/* a size that would overflow 64 bits times the VFs */
	s.bar[2].kind = PCI_HBAR_NONE;
	s.bar[0].base = 1ull << 63;
	s.bar[0].size = 1ull << 63;
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAR_RANGE);
}

/* The whole sequence: enable, the VFs appear, their entries, disable. */
static void enable_add_disable(void **state)
{
	struct sriov s;
	struct sriov_plan p;
	unsigned absent = 99;

	(void)state;
	fk.vf[1].class_rev = 0xFFFFFFFFu; /* VF 1 does not answer */
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 2), SRIOV_OK);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0x800000000ull), SRIOV_OK);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xC0000000u), SRIOV_OK);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_OK);

	/* NumVFs changed behind the plan's back */
	fk.cfg[R(SRIOV_NUM_VFS)] = (fk.cfg[R(SRIOV_NUM_VFS)] & 0xFFFF0000u) | 3;
	assert_int_equal(sriov_enable(&ops, pf, &s, &p), SRIOV_E_BAD_COUNT);
	fk.cfg[R(SRIOV_NUM_VFS)] = (fk.cfg[R(SRIOV_NUM_VFS)] & 0xFFFF0000u) | 2;

	assert_int_equal(sriov_enable(&ops, pf, &s, &p), SRIOV_OK);
	assert_int_equal(fk.cfg[R(SRIOV_CTRL)], 0x00010009u); /* Status untouched */
	assert_int_equal(fk.bad_writes + fk.sized_decoding, 0);

	assert_int_equal(sriov_add_vfs(&ph, &ops, 0, &s, &p, &absent), 1);
	assert_int_equal(absent, 1);
	assert_int_equal(ph.nr, 2);
	assert_int_equal(pf->sriov_cap, CAP);
	const struct pci_func *v = &ph.funcs[1];
	assert_true(v->is_vf);
	assert_int_equal(v->pf_index, 0);
	assert_int_equal(v->bus, 1);
	assert_int_equal(v->dev, 0);
	assert_int_equal(v->fn, 1);
	assert_int_equal(v->vendor, 0x1B36);
	assert_int_equal(v->device, 0x5846);
	assert_int_equal(v->class_code, 0x010802);
	assert_int_equal(v->revision, 2);
	assert_int_equal(v->nr_bars, 6);
	assert_int_equal(v->bar[0].kind, PCI_HBAR_MEM64);
	assert_int_equal(v->bar[0].base, 0x800000000ull);
	assert_int_equal(v->bar[2].base, 0xC0000000u);
	assert_int_equal(v->bar[1].kind, PCI_HBAR_NONE);
	assert_false(v->bar[0].mapped);
	assert_int_equal(v->owner, PCI_OWNER_NONE);

	/* VF 1 answers now: placed at the second slice of each VF BAR */
	fk.vf[1].class_rev = 0x01080203u;
	ph.nr = 1;
	assert_int_equal(sriov_add_vfs(&ph, &ops, 0, &s, &p, &absent), 2);
	assert_int_equal(absent, 0);
	assert_int_equal(ph.funcs[2].fn, 2);
	assert_int_equal(ph.funcs[2].bar[0].base, 0x800000000ull + 16 * KiB);
	assert_int_equal(ph.funcs[2].bar[2].base, 0xC0000000u + 8 * KiB);
	assert_int_equal(ph.funcs[2].revision, 3);
	/* a VF cannot be a PF; a header other than type 0 is refused */
	assert_int_equal(sriov_add_vfs(&ph, &ops, 1, &s, &p, &absent), SRIOV_E_INVAL);
	assert_int_equal(sriov_add_vfs(&ph, &ops, 7, &s, &p, &absent), SRIOV_E_INVAL);
	ph.nr = 1;
	fk.vf[0].hdr = 0x00010000u;
	assert_int_equal(sriov_add_vfs(&ph, &ops, 0, &s, &p, &absent), 1);
	assert_int_equal(absent, 1);
	/* no room: nothing added */
	ph.nr = PCI_HOST_MAX_FUNCS - 1;
	assert_int_equal(sriov_add_vfs(&ph, &ops, 0, &s, &p, &absent), SRIOV_E_TABLE_FULL);
	assert_int_equal(ph.nr, PCI_HOST_MAX_FUNCS - 1);
	ph.nr = 1;

	/* while enabled: no resizing, no NumVFs change */
	fk.writes = 0;
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0x900000000ull), SRIOV_E_ENABLED);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 1), SRIOV_E_ENABLED);
	assert_int_equal(fk.writes, 0);

	sriov_disable(&ops, pf, &s);
	assert_int_equal(fk.cfg[R(SRIOV_CTRL)], 0x00010000u);
	assert_int_equal(fk.cfg[R(SRIOV_NUM_VFS)], 0x00070000u);
	assert_int_equal(s.num_vfs, 0);
	assert_int_equal(s.control, 0);
	assert_int_equal(fk.bad_writes + fk.sized_decoding, 0);
	/* and the VFs are gone */
	assert_int_equal(fake_read(&fk, 1, 0, 1, PCIH_CLASS_REV), 0xFFFFFFFFu);
}

/* A PF without 4 KiB pages keeps firmware's page size, and VF BARs below it are refused. */
static void page_size_kept(void **state)
{
	struct sriov s;
	struct sriov_plan p;

	(void)state;
	fk.cfg[R(SRIOV_PAGE_SIZES)] = 0x10; /* 64 KiB only */
	fk.cfg[R(SRIOV_PAGE_SIZE)] = 0x10;
	assert_int_equal(sriov_read(&ops, pf, CAP, &s), SRIOV_OK);
	assert_int_equal(sriov_set_num_vfs(&ops, pf, &s, 1), SRIOV_OK);
	assert_int_equal(fk.cfg[R(SRIOV_PAGE_SIZE)], 0x10);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 0, 0x800000000ull), SRIOV_OK);
	assert_int_equal(sriov_set_vf_bar(&ops, pf, &s, 2, 0xC0000000u), SRIOV_OK);
	assert_int_equal(sriov_plan(&s, pf, &ph, 1, 1, &p), SRIOV_E_BAD_BAR);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(find_walks_the_list, setup),
		cmocka_unit_test_setup(read_sizes_and_restores, setup),
		cmocka_unit_test_setup(num_vfs_then_offset, setup),
		cmocka_unit_test_setup(routing_ids, setup),
		cmocka_unit_test_setup(hostile_values_refused, setup),
		cmocka_unit_test_setup(vf_bar_placement, setup),
		cmocka_unit_test_setup(enable_add_disable, setup),
		cmocka_unit_test_setup(page_size_kept, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
