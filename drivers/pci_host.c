/* Host PCI enumeration (pci_host.h). Register layouts are from the PCI Local Bus Specification
 * 3.0 (6.1 header, 6.2.5.1 BARs), the PCI-to-PCI Bridge Architecture Specification 1.2 (3.2) and
 * the PCI Express Base Specification 4.0 (7.5.1, the same headers over ECAM). */
#include "drivers/pci_host.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

#define BAR_IO (1u << 0)
#define BAR_MEM_TYPE(v) (((v) >> 1) & 3) /* 0: 32-bit, 2: 64-bit, 1 and 3 reserved */
#define BAR_MEM_PREFETCH (1u << 3)
#define BAR_IO_ADDR_MASK 0xFFFFFFFCu
#define BAR_MEM_ADDR_MASK 0xFFFFFFF0u

static uint32_t rd(const struct pci_cfg_ops *o, uint8_t b, uint8_t d, uint8_t f, uint16_t reg)
{
	return o->read32(o->ctx, b, d, f, reg);
}

static void wr(const struct pci_cfg_ops *o, uint8_t b, uint8_t d, uint8_t f, uint16_t reg,
	       uint32_t v)
{
	o->write32(o->ctx, b, d, f, reg, v);
}

/* The lowest set bit of the writable address bits: the size the BAR decodes (6.2.5.1: "the
 * least significant bit that returns a one determines the size"). 0 when none is writable. */
static uint64_t low_bit(uint64_t mask)
{
	return mask & (~mask + 1);
}

unsigned pci_bar_size(const struct pci_cfg_ops *o, uint8_t b, uint8_t d, uint8_t fn, uint16_t reg,
		      unsigned slots, struct pci_host_bar *bar)
{
	uint32_t orig = rd(o, b, d, fn, reg), back;
	unsigned used = 1;

	memset(bar, 0, sizeof(*bar));
	if (orig & BAR_IO) {
		wr(o, b, d, fn, reg, 0xFFFFFFFFu);
		back = rd(o, b, d, fn, reg);
		wr(o, b, d, fn, reg, orig);
		/* I/O space is 64 KiB on x86; upper bits may read back 0 (6.2.5.1) */
		bar->size = low_bit(back & BAR_IO_ADDR_MASK & 0xFFFF);
		bar->kind = bar->size ? PCI_HBAR_IO : PCI_HBAR_NONE;
		bar->base = orig & BAR_IO_ADDR_MASK;
	} else if (BAR_MEM_TYPE(orig) == 2) {
		uint16_t hreg = (uint16_t)(reg + 4);
		uint32_t horig, hback;

		bar->prefetchable = orig & BAR_MEM_PREFETCH;
		/* its upper half would be past the block of BARs */
		if (slots < 2) {
			bar->kind = PCI_HBAR_BAD;
		} else {
			horig = rd(o, b, d, fn, hreg);
			wr(o, b, d, fn, reg, 0xFFFFFFFFu);
			wr(o, b, d, fn, hreg, 0xFFFFFFFFu);
			back = rd(o, b, d, fn, reg);
			hback = rd(o, b, d, fn, hreg);
			wr(o, b, d, fn, reg, orig);
			wr(o, b, d, fn, hreg, horig);
			bar->size = low_bit((uint64_t)hback << 32 | (back & BAR_MEM_ADDR_MASK));
			bar->kind = bar->size ? PCI_HBAR_MEM64 : PCI_HBAR_NONE;
			bar->base = (uint64_t)horig << 32 | (orig & BAR_MEM_ADDR_MASK);
			used = 2; /* the upper half is this BAR's, not one of its own */
		}
	} else if (BAR_MEM_TYPE(orig) != 0) {
		/* type 1 (below 1 MiB, PCI 2.x) and 3 are reserved in PCI 3.0: not sized */
		bar->prefetchable = orig & BAR_MEM_PREFETCH;
		bar->kind = PCI_HBAR_BAD;
	} else {
		bar->prefetchable = orig & BAR_MEM_PREFETCH;
		wr(o, b, d, fn, reg, 0xFFFFFFFFu);
		back = rd(o, b, d, fn, reg);
		wr(o, b, d, fn, reg, orig);
		bar->size = low_bit(back & BAR_MEM_ADDR_MASK);
		bar->kind = bar->size ? PCI_HBAR_MEM32 : PCI_HBAR_NONE;
		bar->base = orig & BAR_MEM_ADDR_MASK;
	}
	/* a BAR that does not decode has no base to speak of */
	if (bar->kind == PCI_HBAR_NONE || bar->kind == PCI_HBAR_BAD)
		bar->base = bar->size = 0;
	return used;
}

/* Sizes the BARs of f with memory and I/O decoding off: all ones written to a BAR would
 * otherwise make the function claim addresses it was never given while the BAR holds them.
 * Every BAR and the command register are restored to what they held. */
static void size_bars(const struct pci_cfg_ops *o, struct pci_func *f)
{
	uint8_t b = f->bus, d = f->dev, fn = f->fn;
	/* written back as a dword with the status half 0: status bits are RW1C or read-only, so
	 * zeros change nothing there (6.2.3) */
	uint32_t cmd = rd(o, b, d, fn, PCIH_COMMAND) & 0xFFFF;

	if (cmd & (PCIH_CMD_IO | PCIH_CMD_MEM))
		wr(o, b, d, fn, PCIH_COMMAND, cmd & ~(PCIH_CMD_IO | PCIH_CMD_MEM));
	for (unsigned i = 0; i < f->nr_bars;)
		i += pci_bar_size(o, b, d, fn, (uint16_t)(PCIH_BAR0 + 4 * i), f->nr_bars - i,
				  &f->bar[i]);
	if (cmd & (PCIH_CMD_IO | PCIH_CMD_MEM))
		wr(o, b, d, fn, PCIH_COMMAND, cmd);
}

struct walk {
	struct pci_host *ph;
	const struct pci_cfg_ops *o;
	uint8_t bus_start, bus_end;
	uint8_t queue[256];
	unsigned head, tail;
	uint8_t seen[256 / 8];
};

static bool bus_seen(const struct walk *w, uint8_t bus)
{
	return w->seen[bus / 8] & (1u << (bus % 8));
}

/* Queues bus unless it was queued before or is outside the range: at most 256 buses ever, so
 * the walk ends whatever the bridges claim. */
static bool bus_queue(struct walk *w, uint8_t bus)
{
	if (bus < w->bus_start || bus > w->bus_end || bus_seen(w, bus))
		return false;
	w->seen[bus / 8] |= (uint8_t)(1u << (bus % 8));
	w->queue[w->tail++] = bus;
	return true;
}

/* Records function bus:dev.fn, whose first dword is id (not all ones); false when it is not
 * there after all or the table is full. */
static void add_func(struct walk *w, uint16_t segment, uint8_t bus, uint8_t dev, uint8_t fn,
		     uint32_t id, uint32_t hdr)
{
	struct pci_host *ph = w->ph;
	struct pci_func *f;
	uint32_t cr;

	if (ph->nr == PCI_HOST_MAX_FUNCS) {
		ph->nr_dropped++;
		return;
	}
	f = &ph->funcs[ph->nr++];
	memset(f, 0, sizeof(*f));
	f->segment = segment;
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	f->vendor = (uint16_t)id;
	f->device = (uint16_t)(id >> 16);
	cr = rd(w->o, bus, dev, fn, PCIH_CLASS_REV);
	f->class_code = cr >> 8;
	f->revision = (uint8_t)cr;
	f->header_type = (hdr >> 16) & PCIH_HEADER_TYPE_MASK;
	f->multi_fn = (hdr >> 16) & PCIH_HEADER_MULTI_FN;
	f->owner = PCI_OWNER_NONE;
	/* type 2 (CardBus) has no BARs keel would use; other types are not defined */
	f->nr_bars = f->header_type == 0 ? 6 : f->header_type == 1 ? 2 : 0;
	size_bars(w->o, f);
	if (f->header_type == 1) {
		uint32_t buses = rd(w->o, bus, dev, fn, PCIH_BRIDGE_BUSES);

		f->sec_bus = (uint8_t)(buses >> 8);
		f->sub_bus = (uint8_t)(buses >> 16);
		/* a secondary bus must lie below its bridge (a larger number) and inside the
		 * subordinate range; anything else is a lie or an unconfigured bridge */
		f->bridge_walked =
			f->sec_bus > bus && f->sub_bus >= f->sec_bus && bus_queue(w, f->sec_bus);
		if (!f->bridge_walked)
			ph->nr_bad_bridges++;
	}
}

/* An absent function reads all ones (PCI Local Bus 3.0, 6.1: "returns 0FFFFh ... Vendor ID");
 * vendor 0 is no valid ID either and some broken bridges return it. */
static bool vendor_present(uint32_t id)
{
	uint16_t v = (uint16_t)id;

	return v != 0xFFFF && v != 0;
}

static void walk_bus(struct walk *w, uint16_t segment, uint8_t bus)
{
	const struct pci_cfg_ops *ops = w->o;

	w->ph->nr_buses++;
	for (uint8_t dev = 0; dev < 32; dev++) {
		uint32_t id = rd(ops, bus, dev, 0, PCIH_VENDOR_DEVICE), hdr;
		uint8_t nr_fn;

		if (!vendor_present(id))
			continue;
		hdr = rd(ops, bus, dev, 0, PCIH_HEADER_DWORD);
		/* functions 1-7 exist only when function 0 says so (6.2.1, header type) */
		nr_fn = (uint8_t)((hdr >> 16) & PCIH_HEADER_MULTI_FN ? 8 : 1);
		add_func(w, segment, bus, dev, 0, id, hdr);
		for (uint8_t fn = 1; fn < nr_fn; fn++) {
			id = rd(ops, bus, dev, fn, PCIH_VENDOR_DEVICE);
			if (vendor_present(id))
				add_func(w, segment, bus, dev, fn, id,
					 rd(ops, bus, dev, fn, PCIH_HEADER_DWORD));
		}
	}
}

/* A bus no bridge leads to but with a device on it: another root bus (a second host bridge, as
 * multi-socket machines have, which only ACPI's _CRS would name). */
static bool other_root_bus(struct walk *w, uint8_t bus)
{
	for (uint8_t dev = 0; dev < 32; dev++)
		if (vendor_present(rd(w->o, bus, dev, 0, PCIH_VENDOR_DEVICE)))
			return true;
	return false;
}

unsigned pci_host_enumerate(struct pci_host *ph, const struct pci_cfg_ops *ops, uint16_t segment,
			    uint8_t bus_start, uint8_t bus_end)
{
	static struct walk w; /* 300 bytes off the caller's stack; enumeration is single-threaded */
	unsigned before = ph->nr;

	memset(&w, 0, sizeof(w));
	w.ph = ph;
	w.o = ops;
	w.bus_start = bus_start;
	w.bus_end = bus_end;
	bus_queue(&w, bus_start);
	/* breadth first from the root bus; then each bus of the range nothing led to is probed
	 * once and walked as a root bus when it has devices. Every bus is queued at most once. */
	for (unsigned next = bus_start;;) {
		while (w.head < w.tail)
			walk_bus(&w, segment, w.queue[w.head++]);
		while (next <= bus_end &&
		       (bus_seen(&w, (uint8_t)next) || !other_root_bus(&w, (uint8_t)next)))
			next++;
		if (next > bus_end)
			break;
		bus_queue(&w, (uint8_t)next);
		ph->nr_root_buses++;
	}
	return ph->nr - before;
}

static const struct {
	uint16_t cls; /* base class and subclass */
	const char *name;
} class_names[] = {
	{ 0x0100, "SCSI" },
	{ 0x0101, "IDE" },
	{ 0x0106, "SATA" },
	{ 0x0107, "SAS" },
	{ 0x0108, "NVMe" },
	{ 0x0200, "Ethernet" },
	{ 0x0280, "network" },
	{ 0x0300, "VGA" },
	{ 0x0380, "display" },
	{ 0x0403, "audio" },
	{ 0x0500, "RAM" },
	{ 0x0600, "host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0680, "bridge" },
	{ 0x0700, "serial" },
	{ 0x0780, "communication" },
	{ 0x0806, "IOMMU" },
	{ 0x0880, "system" },
	{ 0x0C03, "USB" },
	{ 0x0C05, "SMBus" },
	{ 0x0C80, "serial bus" },
	{ 0x1101, "performance counters" },
};

const char *pci_class_name(uint32_t class_code)
{
	for (unsigned i = 0; i < ARRAY_SIZE(class_names); i++)
		if (class_names[i].cls == class_code >> 8)
			return class_names[i].name;
	return NULL;
}

const char *pci_owner_name(uint8_t owner)
{
	return owner == PCI_OWNER_KEEL ? "keel" : owner == PCI_OWNER_VM ? "vm" : "none";
}

/* A size as a short number: 4K, 16M, 256 ... */
static int put_size(char *buf, size_t size, uint64_t n)
{
	static const char suffix[] = { 0, 'K', 'M', 'G', 'T' };
	unsigned s = 0;

	while (s + 1 < sizeof(suffix) && n >= 1024 && n % 1024 == 0) {
		n /= 1024;
		s++;
	}
	if (suffix[s])
		return ksnprintf(buf, size, "%llu%c", (unsigned long long)n, suffix[s]);
	return ksnprintf(buf, size, "%llu", (unsigned long long)n);
}

int pci_func_describe(const struct pci_func *f, char *buf, size_t size)
{
	static const char *const kind[] = { "", "io", "mem32", "mem64", "bad" };
	const char *name = pci_class_name(f->class_code);
	size_t n = 0;
	int r;

	/* appends, stopping once the buffer is full (ksnprintf returns what it would write) */
#define PUT(...)                                                                                   \
	do {                                                                                       \
		r = ksnprintf(buf + n, size - n, __VA_ARGS__);                                     \
		if (r < 0 || (size_t)r >= size - n)                                                \
			return (int)(size ? size - 1 : 0);                                         \
		n += (size_t)r;                                                                    \
	} while (0)

	if (size == 0)
		return 0;
	if (f->segment)
		PUT("%04x:", f->segment);
	PUT("%02x:%02x.%x %04x:%04x class %06x", f->bus, f->dev, f->fn, f->vendor, f->device,
	    f->class_code & 0xFFFFFF);
	if (name)
		PUT(" %s", name);
	if (f->header_type == 1)
		PUT(" bus %02x-%02x%s", f->sec_bus, f->sub_bus,
		    f->bridge_walked ? "" : " (ignored)");
	for (unsigned i = 0; i < f->nr_bars && i < PCI_HOST_MAX_BARS; i++) {
		const struct pci_host_bar *b = &f->bar[i];
		char sz[16];

		if (b->kind == PCI_HBAR_NONE)
			continue;
		put_size(sz, sizeof(sz), b->size);
		if (b->kind == PCI_HBAR_BAD)
			PUT("; bar%u bad", i);
		else
			PUT("; bar%u %s%s %llx+%s", i, kind[b->kind], b->prefetchable ? " pf" : "",
			    (unsigned long long)b->base, sz);
	}
#undef PUT
	return (int)n;
}
