/* A passed-through function: an untrusted host config space and host BARs, then any sequence of
 * guest config accesses, BAR accesses and resets must keep passthru's promises: no guest traffic
 * writes the host's config space; a forwarded BAR access is of size 1, 2, 4 or 8, naturally
 * aligned, inside the host BAR, and never touches the host's MSI-X table or PBA (found here by
 * an independent walk of the host's list) but for an aligned dword or qword read of the PBA's
 * first qword covering a vector the guest has masked (6.8.2.10); the host's bus mastering and memory decoding follow
 * the guest's bits; a page passthru_page_direct allows is inside the host BAR and away from the
 * table and PBA; the BAR decode reports alternate off/on per BAR, never two BARs on one place.
 *
 * Input: 256 bytes of host config space, 6 bytes of host BARs (bits 0-1 kind: none, I/O, mem32,
 * mem64; bit 2 prefetchable; bits 3-7 log2 of the size), then 8-byte records:
 *   byte 0   bits 0-2  operation: 0 ECAM read, 1 ECAM write, 2 BAR read, 3 BAR write (straight to
 *                      the BAR's handler, any offset), 4 memory read in the window, 5 memory
 *                      write there, 6 passthru_reset, 7 pci_bus_reset
 *            bits 3-4  access size: 1, 2, 4, 8
 *            bits 5-7  BAR
 *   bytes 1-3          offset, little-endian
 *   bytes 4-7          value */
#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "vdev/pci/passthru.h"
#include "vdev/pci/pci_bus.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SLOT 2

static uint8_t host_cfg[256];
static struct passthru_bar_info host_bars[PCI_NR_BARS];
/* the host's MSI-X table and PBA by this file's own walk: BAR msix_bar, [off, end) */
static bool have_msix;
static unsigned msix_bar;
static uint64_t trap_off[2], trap_end[2];

static struct passthru p;
static bool memory, master;
static bool on[PCI_NR_BARS];
static uint64_t on_gpa[PCI_NR_BARS], on_size[PCI_NR_BARS];

static uint32_t rd32(unsigned off)
{
	return host_cfg[off] | host_cfg[off + 1] << 8 | host_cfg[off + 2] << 16 |
	       (uint32_t)host_cfg[off + 3] << 24;
}

static uint32_t h_cfg_read32(void *ctx, uint16_t reg)
{
	(void)ctx;
	if (reg & 3 || reg > 0xFC)
		abort();
	return rd32(reg);
}

static void h_cfg_write32(void *ctx, uint16_t reg, uint32_t v)
{
	(void)ctx, (void)reg, (void)v;
	abort(); /* only the glue writes the host's config space */
}

static bool overlaps(uint64_t a, uint64_t alen, uint64_t b, uint64_t bend)
{
	return a < bend && b < a + alen;
}

static void check_forward(unsigned bar, uint64_t off, unsigned size)
{
	if (bar >= PCI_NR_BARS || (size != 1 && size != 2 && size != 4 && size != 8) ||
	    off & (size - 1) || off + size > host_bars[bar].size ||
	    (host_bars[bar].kind != PCI_BAR_MEM32 && host_bars[bar].kind != PCI_BAR_MEM64))
		abort();
	if (have_msix && bar == msix_bar &&
	    (overlaps(off, size, trap_off[0], trap_end[0]) ||
	     overlaps(off, size, trap_off[1], trap_end[1])))
		abort();
}

/* A read of the host's pending bits: of the PBA's first qword, aligned, 4 or 8 bytes, and
 * covering at least one vector the guest sees and has masked (the rest is not the guest's). */
static bool pba_read(unsigned bar, uint64_t off, unsigned size)
{
	if (!have_msix || bar != msix_bar || off < trap_off[1] || off - trap_off[1] >= 8)
		return false;
	if ((size != 4 && size != 8) || off & (size - 1))
		abort();
	unsigned first = (unsigned)(off - trap_off[1]) * 8;
	struct passthru_msix_vector v;
	for (unsigned n = first; n < first + size * 8; n++)
		if (passthru_msix_vector(&p, n, &v) && (v.masked || v.function_masked))
			return true;
	abort();
}

static uint64_t h_bar_read(void *ctx, unsigned bar, uint64_t off, unsigned size)
{
	(void)ctx;
	if (!pba_read(bar, off, size))
		check_forward(bar, off, size);
	return ~0ull; /* every bit pending, in the PBA too */
}

static void h_bar_write(void *ctx, unsigned bar, uint64_t off, unsigned size, uint64_t v)
{
	(void)ctx, (void)v;
	check_forward(bar, off, size);
}

static void h_set_command(void *ctx, bool mem, bool bm)
{
	(void)ctx;
	memory = mem;
	master = bm;
}

static void h_msi_changed(void *ctx)
{
	(void)ctx;
}

static void h_bar_decoded(void *ctx, unsigned bar, bool now_on, uint64_t gpa, uint64_t size)
{
	(void)ctx;
	if (bar >= PCI_NR_BARS || on[bar] == now_on || (!now_on && gpa != on_gpa[bar]))
		abort();
	if (now_on)
		for (unsigned n = 0; n < PCI_NR_BARS; n++)
			if (on[n] && overlaps(gpa, size, on_gpa[n], on_gpa[n] + on_size[n]))
				abort();
	on[bar] = now_on;
	on_gpa[bar] = gpa;
	on_size[bar] = size;
}

static void h_deliver(void *ctx, const struct pci_msg *m)
{
	(void)ctx, (void)m;
	abort(); /* a passed-through function's messages are the host's */
}

static const struct passthru_host_ops ops = {
	.cfg_read32 = h_cfg_read32,
	.cfg_write32 = h_cfg_write32,
	.bar_read = h_bar_read,
	.bar_write = h_bar_write,
	.set_command = h_set_command,
	.msi_changed = h_msi_changed,
	.bar_decoded = h_bar_decoded,
};

/* The first MSI-X capability of the host's list, walked the plain way: at most 48 steps. */
static void find_msix(void)
{
	have_msix = false;
	if (!((rd32(PCI_COMMAND) >> 16) & PCI_STS_CAP_LIST))
		return;
	unsigned at = host_cfg[PCI_CAP_PTR] & 0xFC;
	for (unsigned steps = 0; steps < 48 && at >= 0x40; steps++) {
		if (host_cfg[at] == PCI_CAP_MSIX && at + 12 <= 256) {
			unsigned vectors = (rd32(at) >> 16 & 0x7FF) + 1;
			have_msix = true;
			msix_bar = rd32(at + 4) & 7;
			trap_off[0] = rd32(at + 4) & ~7u;
			trap_end[0] = trap_off[0] + 16ull * vectors;
			trap_off[1] = rd32(at + 8) & ~7u;
			trap_end[1] = trap_off[1] + 8ull * ((vectors + 63) / 64);
			return;
		}
		at = host_cfg[at + 1] & 0xFC;
	}
}

static const struct pci_bus_config windows = { .ecam_base = GUEST_PCI_ECAM_BASE,
					       .mmio_base = GUEST_PCI_MMIO32_BASE,
					       .mmio_end = GUEST_PCI_MMIO32_END,
					       .mmio64_base = 0x1000000000ull,
					       .mmio64_end = 0x1400000000ull,
					       .io_base = GUEST_PCI_IO_BASE,
					       .io_end = GUEST_PCI_IO_END };

static struct io_bus io;
static struct mmio_bus mmio;
static struct pci_bus bus;

static void check(void)
{
	uint16_t cmd = pci_dev_command(&p.dev);
	if (master != !!(cmd & PCI_CMD_MASTER) || memory != !!(cmd & PCI_CMD_MEM))
		abort();
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		const struct pci_bar *b = &p.dev.bars[n];
		if (on[n] != b->decoded || (on[n] && on_gpa[n] != b->addr))
			abort();
		if (b->kind == PCI_BAR_IO || (b->kind != PCI_BAR_NONE && b->size < 4096))
			abort();
	}
	if (passthru_msix_vectors(&p) > PCI_MSIX_MAX_VECTORS)
		abort();
	struct passthru_msix_vector v;
	if (passthru_msix_vector(&p, passthru_msix_vectors(&p), &v))
		abort();
}

static void check_pages(void)
{
	for (unsigned n = 0; n < PCI_NR_BARS; n++)
		for (uint64_t off = 0; off < p.dev.bars[n].size && off < 64 * 4096; off += 4096)
			if (passthru_page_direct(&p, n, off) &&
			    (off + 4096 > host_bars[n].size ||
			     (have_msix && n == msix_bar &&
			      (overlaps(off, 4096, trap_off[0], trap_end[0]) ||
			       overlaps(off, 4096, trap_off[1], trap_end[1])))))
				abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct vdev_env env = { .vm_name = "fuzz" };
	if (size < 262)
		return 0;
	memcpy(host_cfg, data, 256);
	for (unsigned n = 0; n < PCI_NR_BARS; n++) {
		uint8_t b = data[256 + n];
		host_bars[n] = (struct passthru_bar_info){ .kind = (enum pci_bar_kind)(b & 3),
							   .prefetchable = b & 4,
							   .size = 1ull << (b >> 3) };
		if (host_bars[n].kind == PCI_BAR_NONE)
			host_bars[n].size = 0;
	}
	find_msix();
	memory = master = false;
	memset(on, 0, sizeof(on));
	host_log_clear();

	char why[128];
	if (passthru_init(&p, &ops, NULL, host_bars, why, sizeof(why)))
		return 0;
	io_bus_init(&io, &env);
	mmio_bus_init(&mmio, &env);
	if (pci_bus_init(&bus, &env, &io, &mmio, &windows, h_deliver, NULL) ||
	    pci_bus_plug(&bus, SLOT, &p.dev))
		abort();
	pci_bus_assign(&bus); /* may not fit: a BAR larger than the window stays undecoded */
	check();
	check_pages();
	for (size_t at = 262; at + 8 <= size; at += 8) {
		const uint8_t *r = data + at;
		unsigned op = r[0] & 7, sz = 1u << ((r[0] >> 3) & 3), n = (r[0] >> 5) % PCI_NR_BARS;
		uint32_t off = (uint32_t)r[1] | (uint32_t)r[2] << 8 | (uint32_t)r[3] << 16;
		uint32_t val = (uint32_t)r[4] | (uint32_t)r[5] << 8 | (uint32_t)r[6] << 16 |
			       (uint32_t)r[7] << 24;
		uint64_t v64 = 0;
		const struct pci_bar *b = &p.dev.bars[n];

		switch (op) {
		case 0:
			mmio_bus_read(&mmio,
				      GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | (off & 0xFFF)),
				      sz, &v64);
			break;
		case 1:
			mmio_bus_write(&mmio,
				       GUEST_PCI_ECAM_BASE + ((uint64_t)SLOT << 15 | (off & 0xFFF)),
				       sz, val);
			break;
		case 2:
			if (b->mmio)
				b->mmio->read(b->ctx, off, sz, &v64);
			break;
		case 3:
			if (b->mmio)
				b->mmio->write(b->ctx, off, sz, (uint64_t)val << 32 | val);
			break;
		case 4:
			mmio_bus_read(&mmio, GUEST_PCI_MMIO32_BASE + (uint64_t)off * 16, sz, &v64);
			break;
		case 5:
			mmio_bus_write(&mmio, GUEST_PCI_MMIO32_BASE + (uint64_t)off * 16, sz, val);
			break;
		case 6:
			passthru_reset(&p);
			break;
		default:
			pci_bus_reset(&bus);
			break;
		}
		check();
	}
	return 0;
}
