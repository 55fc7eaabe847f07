/* Host PCI enumeration over a config space the fuzzer makes up: hardware is untrusted input too.
 *
 * Input: byte 0 and 1 the bus range's first and last bus (swapped when reversed), then records of
 * 90 bytes: bus, device/function (device 7:3, function 2:0), the first 64 bytes of the function's
 * config space and six little-endian dwords, the writable bits of each BAR. The first record for
 * an address wins; addresses without one read all ones, registers past 64 read 0.
 *
 * Checked: the walk ends; it reads no bus outside the range; it writes nothing but BARs and the
 * command register, never sets a status bit's 1 (RW1C), writes a BAR only while the function's
 * decoding is off; afterwards every function's registers hold exactly what they held before; the
 * table lists each function once, within the range, with power-of-two BAR sizes. */
#include "drivers/pci_host.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define REC_LEN 90
#define MAX_REC (4096 / REC_LEN + 1)

struct rec {
	uint8_t bus, devfn;
	uint32_t cfg[16], orig[16];
	uint32_t mask[6];
};

static struct {
	struct rec r[MAX_REC];
	unsigned nr;
	uint8_t on_bus[256]; /* records per bus: most reads are of empty buses */
	uint8_t lo, hi;
} fs;

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static struct rec *find(uint8_t bus, uint8_t dev, uint8_t fn)
{
	uint8_t devfn = (uint8_t)(dev << 3 | fn);

	if (!fs.on_bus[bus])
		return NULL;
	for (unsigned i = 0; i < fs.nr; i++)
		if (fs.r[i].bus == bus && fs.r[i].devfn == devfn)
			return &fs.r[i];
	return NULL;
}

static uint32_t rd(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	struct rec *r;

	(void)ctx;
	if (bus < fs.lo || bus > fs.hi || dev > 31 || fn > 7 || reg % 4 || reg > 0xFFC)
		abort();
	r = find(bus, dev, fn);
	if (!r)
		return 0xFFFFFFFFu;
	return reg < 64 ? r->cfg[reg / 4] : 0;
}

static void wr(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	struct rec *r = find(bus, dev, fn);

	(void)ctx;
	if (!r || bus < fs.lo || bus > fs.hi)
		abort();
	if (reg == 0x04) {
		if ((v >> 16) & (r->cfg[1] >> 16))
			abort(); /* would clear a status bit */
		r->cfg[1] = (r->cfg[1] & 0xFFFF0000u) | (v & 0xFFFF);
		return;
	}
	if (reg < 0x10 || reg > 0x24 || reg % 4)
		abort();
	if (r->cfg[1] & 3)
		abort(); /* sizing while the function decodes */
	unsigned i = (reg - 0x10) / 4;
	r->cfg[reg / 4] = (v & r->mask[i]) | (r->cfg[reg / 4] & ~r->mask[i]);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct pci_host ph;
	const struct pci_cfg_ops ops = { NULL, rd, wr };

	if (size < 2)
		return 0;
	memset(&fs, 0, sizeof(fs));
	memset(&ph, 0, sizeof(ph));
	fs.lo = MIN(data[0], data[1]);
	fs.hi = MAX(data[0], data[1]);
	for (size_t off = 2; off + REC_LEN <= size && fs.nr < MAX_REC; off += REC_LEN) {
		struct rec *r = &fs.r[fs.nr++];
		const uint8_t *p = data + off;

		r->bus = p[0];
		r->devfn = p[1];
		for (unsigned i = 0; i < 16; i++)
			r->cfg[i] = r->orig[i] = le32(p + 2 + 4 * i);
		for (unsigned i = 0; i < 6; i++)
			r->mask[i] = le32(p + 66 + 4 * i);
		fs.on_bus[r->bus]++;
	}

	unsigned n = pci_host_enumerate(&ph, &ops, 0, fs.lo, fs.hi);

	if (n != ph.nr || ph.nr > PCI_HOST_MAX_FUNCS || ph.nr_buses > 256u ||
	    ph.nr_buses > (unsigned)(fs.hi - fs.lo + 1))
		abort();
	for (unsigned i = 0; i < fs.nr; i++)
		if (memcmp(fs.r[i].cfg, fs.r[i].orig, sizeof(fs.r[i].cfg)) != 0)
			abort(); /* not restored */
	for (unsigned i = 0; i < ph.nr; i++) {
		const struct pci_func *f = &ph.funcs[i];
		char line[200];

		if (f->bus < fs.lo || f->bus > fs.hi || f->dev > 31 || f->fn > 7 ||
		    !find(f->bus, f->dev, f->fn) || f->nr_bars > PCI_HOST_MAX_BARS ||
		    f->vendor == 0xFFFF)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (ph.funcs[j].bus == f->bus && ph.funcs[j].dev == f->dev &&
			    ph.funcs[j].fn == f->fn)
				abort(); /* listed twice */
		for (unsigned b = 0; b < PCI_HOST_MAX_BARS; b++) {
			const struct pci_host_bar *bar = &f->bar[b];

			if (bar->kind > PCI_HBAR_BAD || (bar->size & (bar->size - 1)) ||
			    ((bar->kind == PCI_HBAR_NONE || bar->kind == PCI_HBAR_BAD) &&
			     bar->size))
				abort();
			if (b >= f->nr_bars && bar->kind != PCI_HBAR_NONE)
				abort();
		}
		if (pci_func_describe(f, line, sizeof(line)) >= (int)sizeof(line) ||
		    strlen(line) >= sizeof(line))
			abort();
	}
	return 0;
}
