/* Host PCI on the real machine: config space through ECAM (the MCFG's ranges, mapped uncached)
 * or, without an MCFG, configuration mechanism #1 at ports 0xCF8/0xCFC; then the walk of
 * pci_host.c, uncached mappings for the memory BARs found, and one log line per function. */
#include "drivers/pci_host_hw.h"

#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "core/boot_info.h"
#include "drivers/acpi_host_hw.h"
#include "drivers/sriov.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/log.h"
#include "mm/phys.h"

static struct pci_host host_pci;
/* How each range of buses was reached (pci_host_cfg_*): an MCFG entry's ECAM, or the ports. */
struct cfg_range {
	uint16_t segment;
	uint8_t bus_start, bus_end;
	const struct pci_cfg_ops *ops;
};
static struct cfg_range cfg_ranges[ACPI_HOST_MAX_MCFG];
static unsigned nr_cfg_ranges;

const struct pci_host *pci_host_table(void)
{
	return &host_pci;
}

struct ecam {
	uint64_t base; /* bus 0's address, as the MCFG gives it */
	uint8_t bus_start, bus_end;
};

/* PCIe Base 4.0, 7.2.2.1: bus 27:20, device 19:15, function 14:12, register 11:0. Buses outside
 * the allocation are not mapped: they read as absent. */
static uint32_t ecam_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	const struct ecam *e = ctx;

	if (bus < e->bus_start || bus > e->bus_end || dev > 31 || fn > 7 || reg > 0xFFC)
		return 0xFFFFFFFFu;
	return *(volatile uint32_t *)(uintptr_t)(e->base + ((uint64_t)bus << 20 | dev << 15 |
							    fn << 12 | (reg & 0xFFC)));
}

static void ecam_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	const struct ecam *e = ctx;

	if (bus < e->bus_start || bus > e->bus_end || dev > 31 || fn > 7 || reg > 0xFFC)
		return;
	*(volatile uint32_t *)(uintptr_t)(e->base + ((uint64_t)bus << 20 | dev << 15 | fn << 12 |
						     (reg & 0xFFC))) = v;
}

/* PCI Local Bus 3.0, 3.2.2.3.2: enable bit 31, bus 23:16, device 15:11, function 10:8,
 * register 7:2 in CONFIG_ADDRESS; the data at CONFIG_DATA. Only the first 256 bytes. */
#define CF8_ADDRESS 0xCF8
#define CFC_DATA 0xCFC

static uint32_t cf8_addr(uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	return 0x80000000u | (uint32_t)bus << 16 | (uint32_t)(dev & 31) << 11 |
	       (uint32_t)(fn & 7) << 8 | (reg & 0xFC);
}

static uint32_t cf8_read32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg)
{
	(void)ctx;
	if (reg > 0xFC)
		return 0xFFFFFFFFu;
	outl(CF8_ADDRESS, cf8_addr(bus, dev, fn, reg));
	return inl(CFC_DATA);
}

static void cf8_write32(void *ctx, uint8_t bus, uint8_t dev, uint8_t fn, uint16_t reg, uint32_t v)
{
	(void)ctx;
	if (reg > 0xFC)
		return;
	outl(CF8_ADDRESS, cf8_addr(bus, dev, fn, reg));
	outl(CFC_DATA, v);
}

/* Mechanism #1 is there when CONFIG_ADDRESS keeps the value written to it (the check PCI BIOSes
 * and OSes have long used); the old value is put back. */
static bool cf8_present(void)
{
	uint32_t old = inl(CF8_ADDRESS);
	bool ok;

	outl(CF8_ADDRESS, 0x80000000u);
	ok = inl(CF8_ADDRESS) == 0x80000000u;
	outl(CF8_ADDRESS, old);
	return ok;
}

/* Whether [base, base + size) touches memory the memory map gives as anything but reserved or
 * MMIO: a BAR or ECAM range there is a firmware bug or a lie, and an uncached alias of RAM
 * would break keel's own memory. */
static bool overlaps_memory(const struct boot_info *bi, uint64_t base, uint64_t size)
{
	for (unsigned i = 0; i < bi->nr_memmap; i++) {
		const struct mem_range *r = &bi->memmap[i];

		if (r->type == MEM_RESERVED || r->type == MEM_MMIO)
			continue;
		if (base < r->base + r->size && r->base < base + size)
			return true;
	}
	return false;
}

/* keel identity-maps what it touches, with 4-level paging: only addresses below 2^47 are
 * canonical (Intel SDM vol 1, 3.3.7.1); a BAR above that stays unmapped. */
#define MAX_MAPPABLE (1ull << 47)

/* Maps [base, base + size) uncached when it is a sane device range. */
static const struct boot_info *boot; /* pci_host_init's, for the VFs' BARs */

static bool map_device_range(const struct boot_info *bi, uint64_t base, uint64_t size)
{
	uint64_t start = ALIGN_DOWN(base, PAGE_SIZE);
	uint64_t end;

	if (!base || !size || base >= MAX_MAPPABLE || size > MAX_MAPPABLE - base)
		return false;
	end = ALIGN_UP(base + size, PAGE_SIZE);
	if (overlaps_memory(bi, start, end - start))
		return false;
	paging_map_mmio(start, end - start);
	return true;
}

/* The framebuffer keel's console draws on keeps its mapping (and its speed). */
static bool is_framebuffer(const struct boot_info *bi, const struct pci_host_bar *b)
{
	return bi->fb.base && bi->fb.base >= b->base && bi->fb.base - b->base < b->size;
}

static void map_bars(const struct boot_info *bi)
{
	for (unsigned i = 0; i < host_pci.nr; i++) {
		struct pci_func *f = &host_pci.funcs[i];

		for (unsigned j = 0; j < f->nr_bars && j < PCI_HOST_MAX_BARS; j++) {
			struct pci_host_bar *b = &f->bar[j];

			if ((b->kind != PCI_HBAR_MEM32 && b->kind != PCI_HBAR_MEM64) || !b->base ||
			    is_framebuffer(bi, b))
				continue;
			b->mapped = map_device_range(bi, b->base, b->size);
			if (!b->mapped)
				klog("keel: pci %02x:%02x.%x bar%u %llx+%llx overlaps memory or is "
				     "out of reach; not mapped",
				     f->bus, f->dev, f->fn, j, (unsigned long long)b->base,
				     (unsigned long long)b->size);
		}
	}
}

static void remember_range(uint16_t segment, uint8_t bus_start, uint8_t bus_end,
			   const struct pci_cfg_ops *ops)
{
	if (nr_cfg_ranges < ACPI_HOST_MAX_MCFG)
		cfg_ranges[nr_cfg_ranges++] =
			(struct cfg_range){ segment, bus_start, bus_end, ops };
}

static void enumerate_ecam(const struct boot_info *bi, const struct acpi_host_mcfg *m)
{
	static struct ecam ecams[ACPI_HOST_MAX_MCFG];
	static struct pci_cfg_ops ops_of[ACPI_HOST_MAX_MCFG];

	for (unsigned i = 0; i < m->nr; i++) {
		const struct acpi_host_mcfg_alloc *a = &m->alloc[i];
		struct ecam *e = &ecams[i];
		struct pci_cfg_ops ops = { e, ecam_read32, ecam_write32 };
		uint64_t first = a->base + ((uint64_t)a->bus_start << 20);
		uint64_t size = ((uint64_t)a->bus_end - a->bus_start + 1) << 20;

		*e = (struct ecam){ a->base, a->bus_start, a->bus_end };
		if (!map_device_range(bi, first, size)) {
			klog("keel: pci: ECAM %llx for buses %02x-%02x overlaps memory or is out of "
			     "reach; skipped",
			     (unsigned long long)first, a->bus_start, a->bus_end);
			continue;
		}
		klog("keel: pci: ECAM segment %u buses %02x-%02x at %llx", a->segment, a->bus_start,
		     a->bus_end, (unsigned long long)first);
		ops_of[i] = ops;
		remember_range(a->segment, a->bus_start, a->bus_end, &ops_of[i]);
		pci_host_enumerate(&host_pci, &ops, a->segment, a->bus_start, a->bus_end);
	}
}

void pci_host_init(const struct boot_info *bi)
{
	static struct acpi_host acpi;
	static struct acpi_host_mcfg mcfg;
	int err;
	char line[200];

	err = acpi_host_hw_init(&acpi, bi);
	if (!err)
		err = acpi_host_parse_mcfg(&acpi, &mcfg);

	memset(&host_pci, 0, sizeof(host_pci));
	boot = bi;
	if (!err && mcfg.nr_dropped)
		klog("keel: pci: %u MCFG entries refused", mcfg.nr_dropped);
	if (!err && mcfg.nr) {
		host_pci.mechanism = "ECAM";
		enumerate_ecam(bi, &mcfg);
	} else if (cf8_present()) {
		static const struct pci_cfg_ops ports = { NULL, cf8_read32, cf8_write32 };

		klog("keel: pci: no usable MCFG (%s); config space through ports 0xCF8/0xCFC",
		     err ? acpi_host_strerror(err) : "no entries");
		host_pci.mechanism = "ports 0xCF8";
		remember_range(0, 0, 255, &ports);
		pci_host_enumerate(&host_pci, &ports, 0, 0, 255);
	} else {
		klog("keel: pci: no MCFG and no configuration mechanism #1; no PCI");
		return;
	}
	map_bars(bi);
	for (unsigned i = 0; i < host_pci.nr; i++) {
		pci_func_describe(&host_pci.funcs[i], line, sizeof(line));
		klog("keel: pci %s", line);
	}
	klog("keel: pci: %u functions on %u buses through %s%s", host_pci.nr, host_pci.nr_buses,
	     host_pci.mechanism, host_pci.nr_dropped ? " (table full: some not listed)" : "");
	if (host_pci.nr_bad_bridges)
		klog("keel: pci: %u bridges name buses that were not walked",
		     host_pci.nr_bad_bridges);
}

static const struct pci_cfg_ops *ops_for(const struct pci_func *f)
{
	for (unsigned i = 0; i < nr_cfg_ranges; i++) {
		const struct cfg_range *r = &cfg_ranges[i];

		if (r->segment == f->segment && f->bus >= r->bus_start && f->bus <= r->bus_end)
			return r->ops;
	}
	return NULL;
}

uint32_t pci_host_cfg_read32(const struct pci_func *f, uint16_t reg)
{
	const struct pci_cfg_ops *ops = ops_for(f);

	/* an SR-IOV VF's ID registers read 0xFFFF (PCIe 4.0, 9.3.4.1.1-2): its IDs are the PF's
	 * vendor and the VF Device ID, as the VF was listed */
	if ((reg & 0xFFC) == PCIH_VENDOR_DEVICE && f->is_vf)
		return (uint32_t)f->device << 16 | f->vendor;
	return ops ? ops->read32(ops->ctx, f->bus, f->dev, f->fn, reg & 0xFFC) : 0xFFFFFFFFu;
}

void pci_host_cfg_write32(const struct pci_func *f, uint16_t reg, uint32_t v)
{
	const struct pci_cfg_ops *ops = ops_for(f);

	if (ops)
		ops->write32(ops->ctx, f->bus, f->dev, f->fn, reg & 0xFFC, v);
}

struct pci_host *pci_host_table_mut(void)
{
	return &host_pci;
}

struct pci_func *pci_host_func_mut(unsigned i)
{
	return i < host_pci.nr ? &host_pci.funcs[i] : NULL;
}

/* PCIe Base 4.0, 9.3.3.3.1: 100 ms after VF Enable before a VF's config space is read */
#define VF_ENABLE_WAIT_NS (100ull * 1000 * 1000)

int pci_host_enable_vfs(unsigned pf_index, unsigned nr, char *why, size_t why_size)
{
	struct pci_func *pf = pci_host_func_mut(pf_index);
	const struct pci_cfg_ops *ops = pf ? ops_for(pf) : NULL;
	struct sriov s;
	struct sriov_plan p;
	unsigned absent = 0, first = host_pci.nr;
	uint16_t cap;
	char line[200];
	int rc;

	if (!ops)
		return kfail(why, why_size, "it is not on this machine");
	rc = sriov_find(ops, pf->bus, pf->dev, pf->fn, &cap);
	if (!rc)
		rc = sriov_read(ops, pf, cap, &s);
	if (!rc && nr > s.total_vfs)
		return kfail(why, why_size, "it has %u VFs at most (TotalVFs)", s.total_vfs);
	if (!rc)
		rc = sriov_set_num_vfs(ops, pf, &s, (uint16_t)nr);
	/* VFs on the PF's own bus only: another bus needs the bridges above routing it */
	if (!rc)
		rc = sriov_plan(&s, pf, &host_pci, pf->bus, pf->bus, &p);
	if (!rc)
		rc = sriov_enable(ops, pf, &s, &p);
	if (rc) {
		if (rc != SRIOV_E_NO_CAP && rc != SRIOV_E_ENABLED)
			sriov_disable(ops, pf, &s);
		return kfail(why, why_size, "%s", sriov_strerror(rc));
	}
	uint64_t until = time_now_ns() + VF_ENABLE_WAIT_NS;
	while (time_now_ns() < until)
		__builtin_ia32_pause();
	rc = sriov_add_vfs(&host_pci, ops, pf_index, &s, &p, &absent);
	if (rc < 0) {
		sriov_disable(ops, pf, &s);
		return kfail(why, why_size, "%s", sriov_strerror(rc));
	}
	for (unsigned i = first; i < host_pci.nr; i++) {
		struct pci_func *vf = &host_pci.funcs[i];
		for (unsigned j = 0; j < vf->nr_bars && j < PCI_HOST_MAX_BARS; j++) {
			struct pci_host_bar *b = &vf->bar[j];
			if (b->kind == PCI_HBAR_MEM32 || b->kind == PCI_HBAR_MEM64)
				b->mapped = map_device_range(boot, b->base, b->size);
		}
		pci_func_describe(vf, line, sizeof(line));
		klog("keel: pci %s (VF %u of %02x:%02x.%x)", line, i - first + 1, pf->bus, pf->dev,
		     pf->fn);
	}
	if (absent)
		klog("keel: pci %02x:%02x.%x: %u of its %u VFs do not answer; left out", pf->bus,
		     pf->dev, pf->fn, absent, nr);
	return rc;
}
