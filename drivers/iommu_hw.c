/* The host's IOMMUs as ACPI describes them (drivers/iommu_hw.h). */
#include "drivers/iommu_hw.h"

#include "arch/x86/apic.h"
#include "arch/x86/time.h"
#include "core/kmem.h"
#include "drivers/acpi_host_hw.h"
#include "drivers/iommu_unit.h"
#include "drivers/pci_host_hw.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "lib/spinlock.h"
#include "mm/phys.h"

static struct dmar_info dmar; /* ~11 KiB each: not on a stack */
static struct ivrs_info ivrs;
static bool have_dmar, have_ivrs;

/* The vendor driver driving the units; NULL while DMA is not restricted. */
static const struct iommu_vendor *vendor;
/* What keel's own drivers may DMA into (identity: DMA address = host-physical): their queues and
 * bounce pages, and guest RAM (zero-copy disk I/O). Nothing else of keel's memory. */
static struct iommu_domain keel_domain;
/* The ranges firmware keeps DMA-ing into (RMRR, IVMD), identity, for the devices it names. */
static struct iommu_domain firmware_domain;
/* Domain tables and the units' entries change under this; innermost of keel's locks (a VM's
 * lock or a controller's may be held when it is taken). */
static struct spinlock lock;
static bool limit_logged;

/* Faults: each (requester, page) logged once, up to FAULTS_LISTED pairs; a requester logged
 * FAULTS_STOP times has its bus mastering turned off. */
#define FAULTS_LISTED 256
#define FAULTS_STOP 64
static struct {
	uint16_t bdf;
	uint64_t page;
} listed[FAULTS_LISTED];
static unsigned nr_listed;
static struct iommu_counts counts;
static struct spinlock fault_lock;
static uint64_t next_fault_poll_ns, device_irqs_seen;
#define FAULT_POLL_NS (10ull * 1000 * 1000)

/* The table of signature sig, mapped and checksummed, or NULL (logged when it was refused). */
static const uint8_t *table(const struct acpi_host *acpi, const char *sig, uint32_t *len)
{
	uint64_t phys = acpi_host_find_table(acpi, sig, 0);
	int err = 0;

	if (!phys)
		return NULL;
	const uint8_t *t = acpi_host_map_table(acpi, phys, sig, len, &err);
	if (!t)
		klog("keel: iommu: the %s table at %llx is refused: %s", sig,
		     (unsigned long long)phys, acpi_host_strerror(err));
	return t;
}

static uint64_t table_page(void *ctx)
{
	(void)ctx;
	return (uint64_t)(uintptr_t)kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
}

static uint64_t *table_ptr(void *ctx, uint64_t pa)
{
	(void)ctx;
	return (uint64_t *)(uintptr_t)pa;
}

static void table_free(void *ctx, uint64_t pa)
{
	(void)ctx;
	kmem_free_pages((void *)(uintptr_t)pa, PAGE_SIZE);
}

static const struct stage2_alloc table_alloc = { table_page, table_ptr, table_free, NULL };

/* The two domains keel keeps, empty; their format is set once the vendor driver is up (a
 * stage2 reads it only when it maps). */
static bool domains_init(void)
{
	static const struct stage2_format none;

	keel_domain.id = IOMMU_DOMAIN_KEEL;
	firmware_domain.id = IOMMU_DOMAIN_FIRMWARE;
	if (stage2_init(&keel_domain.tables, &none, &table_alloc) ||
	    stage2_init(&firmware_domain.tables, &none, &table_alloc)) {
		klog("keel: iommu: out of memory for its tables: devices' DMA is not restricted");
		return false;
	}
	return true;
}

/* Identity-maps [base, base + size) in d; false when the units cannot reach it or a table page
 * was missing. Lock held. */
static bool map_identity(struct iommu_domain *d, uint64_t base, uint64_t size)
{
	if (!range_within(base, size, vendor->dma_limit)) {
		if (!limit_logged)
			klog("keel: iommu: memory at %llx is past the %s units' %llu GiB of DMA "
			     "addresses: no device can reach it",
			     (unsigned long long)base, vendor->name,
			     (unsigned long long)(vendor->dma_limit / GiB));
		limit_logged = true;
		return false;
	}
	return stage2_map(&d->tables, base, base, size) == 0;
}

static struct pci_func *func_of(uint16_t segment, uint16_t bdf);

/* Points (segment, bdf)'s DMA at d (NULL: blocked) and records it in its pci_func for the
 * shell's `pci`; under lock. 0, or -1 when no unit covers it. */
static int attach_locked(uint16_t segment, uint16_t bdf, struct iommu_domain *d)
{
	int rc = vendor->attach(segment, bdf, d);
	struct pci_func *f = rc ? NULL : func_of(segment, bdf);

	if (f)
		f->dma_domain = d ? d->id : 0;
	return rc;
}

static void attach_firmware_device(uint16_t segment, uint16_t bdf)
{
	if (attach_locked(segment, bdf, &firmware_domain) == 0)
		counts.firmware_devices++;
}

/* RMRRs (VT-d 8.4) and IVMD unity ranges (AMD IOMMU spec 5.2.2.3): firmware's own DMA, which must
 * keep working for the devices named. Ranges may overlap one another: a page mapped already is
 * mapped page by page around. */
static void map_firmware_range(uint64_t base, uint64_t size)
{
	if (map_identity(&firmware_domain, base, size))
		return;
	for (uint64_t off = 0; off < size; off += PAGE_SIZE)
		if (stage2_translate(&firmware_domain.tables, base + off) == UINT64_MAX)
			map_identity(&firmware_domain, base + off, PAGE_SIZE);
}

static void map_firmware_ranges(void)
{
	spin_lock(&lock);
	for (unsigned i = 0; have_dmar && i < dmar.nr_rmrrs; i++) {
		const struct dmar_rmrr *r = &dmar.rmrrs[i];
		map_firmware_range(r->base, r->limit + 1 - r->base);
		for (unsigned k = 0; k < r->nr_scopes; k++) {
			uint16_t bdf;
			if (dmar_scope_bdf(&r->scopes[k], &bdf) == DMAR_BDF_DIRECT)
				attach_firmware_device(r->segment, bdf);
		}
	}
	for (unsigned i = 0; !have_dmar && have_ivrs && i < ivrs.nr_ivmd; i++) {
		const struct ivrs_ivmd *m = &ivrs.ivmd[i];
		if (!(m->flags & (IVRS_IVMD_UNITY | IVRS_IVMD_EXCLUSION)))
			continue;
		map_firmware_range(m->start, m->len);
		for (uint32_t bdf = m->first; bdf <= m->last; bdf++)
			if (ivrs_device_covered(&ivrs, 0, (uint16_t)bdf, NULL, NULL))
				attach_firmware_device(0, (uint16_t)bdf);
	}
	spin_unlock(&lock);
}

static void read_dmar(const struct acpi_host *acpi)
{
	char line[160];
	uint32_t len;
	const uint8_t *t = table(acpi, "DMAR", &len);

	if (!t)
		return;
	int rc = dmar_parse(t, len, &dmar);
	if (rc) {
		klog("keel: iommu: the DMAR is refused: %s at offset %u", dmar_strerror(rc),
		     dmar.error_offset);
		return;
	}
	have_dmar = true;
	dmar_describe_header(&dmar, line, sizeof(line));
	klog("keel: iommu: %s", line);
	for (unsigned i = 0; i < dmar.nr_units; i++) {
		dmar_describe_unit(&dmar.units[i], line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	for (unsigned i = 0; i < dmar.nr_rmrrs; i++) {
		dmar_describe_rmrr(&dmar.rmrrs[i], line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	if (!dmar_complete(&dmar))
		klog("keel: iommu: the DMAR has more than keel keeps; the rest is not listed");
}

static void read_ivrs(const struct acpi_host *acpi)
{
	char line[160];
	uint32_t len;
	const uint8_t *t = table(acpi, "IVRS", &len);

	if (!t)
		return;
	int rc = ivrs_parse(t, len, &ivrs);
	if (rc) {
		klog("keel: iommu: the IVRS is refused: %s", ivrs_strerror(rc));
		return;
	}
	have_ivrs = true;
	for (unsigned i = 0; i < ivrs.nr_units; i++) {
		ivrs_format_unit(&ivrs, i, line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	for (unsigned i = 0; i < ivrs.nr_ivmd; i++) {
		ivrs_format_ivmd(&ivrs, i, line, sizeof(line));
		klog("keel: iommu: %s", line);
	}
	if (ivrs.nr_units_dropped || ivrs.nr_ivmd_dropped)
		klog("keel: iommu: the IVRS has more than keel keeps; the rest is not listed");
}

void iommu_hw_init(const struct boot_info *bi)
{
	static struct acpi_host acpi;
	int err = acpi_host_hw_init(&acpi, bi);

	if (err) {
		klog("keel: iommu: no ACPI tables (%s): no IOMMU found", acpi_host_strerror(err));
		return;
	}
	read_dmar(&acpi);
	read_ivrs(&acpi);
	if (!have_dmar && !have_ivrs) {
		klog("keel: iommu: none found (no usable DMAR or IVRS): devices' DMA is not "
		     "restricted");
		return;
	}
	if (!domains_init())
		return;
	/* both tables on one machine would be a firmware bug: the DMAR names Intel's units */
	const struct iommu_vendor *v = have_dmar ? vtd_hw_init(&dmar) : amdvi_hw_init(&ivrs);
	if (!v) {
		klog("keel: iommu: not programmed: devices' DMA is not restricted");
		return;
	}
	keel_domain.tables.fmt = firmware_domain.tables.fmt = v->fmt;
	vendor = v;
	map_firmware_ranges();
	klog("keel: iommu: %s translating: every device's DMA blocked but keel's own drivers' "
	     "(to their buffers and guest RAM)%s",
	     v->name, counts.firmware_devices ? " and firmware's reserved ranges" : "");
}

const struct dmar_info *iommu_hw_dmar(void)
{
	return have_dmar ? &dmar : NULL;
}

const struct ivrs_info *iommu_hw_ivrs(void)
{
	return have_ivrs ? &ivrs : NULL;
}

bool iommu_hw_active(void)
{
	return vendor != NULL;
}

void iommu_dma_allow(uint64_t hpa, uint64_t size)
{
	if (!vendor || !size)
		return;
	spin_lock(&lock);
	if (!map_identity(&keel_domain, hpa, size)) {
		counts.map_failures++;
		klog("keel: iommu: cannot map %llx..%llx for keel's devices' DMA",
		     (unsigned long long)hpa, (unsigned long long)(hpa + size - 1));
	} else if (vendor->flush_after_map) {
		vendor->flush(&keel_domain);
	}
	spin_unlock(&lock);
}

void iommu_dma_revoke(uint64_t hpa, uint64_t size)
{
	if (!vendor || !size)
		return;
	spin_lock(&lock);
	if (stage2_unmap_range(&keel_domain.tables, hpa, size)) {
		/* no page to split a large leaf at an end: the rest stays reachable, so say so */
		counts.map_failures++;
		klog("keel: iommu: out of memory unmapping %llx..%llx: keel's devices may still "
		     "reach part of it",
		     (unsigned long long)hpa, (unsigned long long)(hpa + size - 1));
	}
	vendor->flush(&keel_domain);
	spin_unlock(&lock);
}

int iommu_attach_keel(const struct pci_func *f)
{
	if (!vendor)
		return 0;
	spin_lock(&lock);
	int rc = attach_locked(f->segment, (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn),
			       &keel_domain);
	spin_unlock(&lock);
	if (rc)
		klog("keel: iommu: no %s unit covers %02x:%02x.%x: keel does not drive it",
		     vendor->name, f->bus, f->dev, f->fn);
	return rc;
}

/* The function a fault or an attach names, when there is one */
static struct pci_func *func_of(uint16_t segment, uint16_t bdf)
{
	for (unsigned i = 0;; i++) {
		struct pci_func *f = pci_host_func_mut(i);
		if (!f)
			return NULL;
		if (f->segment == segment && (f->bus << 8 | f->dev << 3 | f->fn) == bdf)
			return f;
	}
}

/* Whether (bdf, page) was logged before; remembered when there is room. */
static bool listed_before(uint16_t bdf, uint64_t page)
{
	for (unsigned i = 0; i < nr_listed; i++)
		if (listed[i].bdf == bdf && listed[i].page == page)
			return true;
	if (nr_listed == FAULTS_LISTED) {
		counts.faults_unlisted++;
		return true;
	}
	listed[nr_listed].bdf = bdf;
	listed[nr_listed++].page = page;
	return false;
}

static void report(const struct iommu_fault *fault)
{
	struct pci_func *f = func_of(fault->segment, fault->bdf);
	char owner[48];

	counts.faults++;
	if (!f)
		ksnprintf(owner, sizeof(owner), "no such function");
	else if (f->owner == PCI_OWNER_VM)
		ksnprintf(owner, sizeof(owner), "vm %s", f->owner_name ? f->owner_name : "?");
	else
		ksnprintf(owner, sizeof(owner), "%s",
			  f->owner == PCI_OWNER_KEEL ? "keel" : "no owner");
	if (fault->interrupt)
		counts.interrupts_blocked++;
	if (fault->interrupt && !listed_before(fault->bdf, UINT64_MAX - fault->addr))
		klog("keel: iommu: interrupt from %02x:%02x.%x blocked, entry %llu (%s): %s",
		     fault->bdf >> 8, (fault->bdf >> 3) & 31, fault->bdf & 7,
		     (unsigned long long)fault->addr, owner, fault->why);
	else if (!fault->interrupt && !listed_before(fault->bdf, fault->addr & ~(PAGE_SIZE - 1)))
		klog("keel: iommu: fault from %02x:%02x.%x %s at 0x%llx (%s): %s", fault->bdf >> 8,
		     (fault->bdf >> 3) & 31, fault->bdf & 7, fault->write ? "write" : "read",
		     (unsigned long long)fault->addr, owner, fault->why);
	if (!f || f->dma_stopped || ++f->iommu_faults < FAULTS_STOP)
		return;
	uint32_t cmd = pci_host_cfg_read32(f, PCIH_COMMAND);
	pci_host_cfg_write32(f, PCIH_COMMAND, (cmd & 0xFFFFu) & ~PCIH_CMD_BUS_MASTER);
	f->dma_stopped = true;
	counts.devices_stopped++;
	klog("keel: iommu: %02x:%02x.%x keeps faulting (%u faults): bus mastering off", f->bus,
	     f->dev, f->fn, f->iommu_faults);
}

void iommu_hw_poll(void)
{
	if (!vendor)
		return;
	uint64_t now = time_now_ns();
	uint64_t irqs = host_device_interrupts();
	/* a unit's fault event (HOST_DEVICE_VECTOR) or the period: cheap otherwise */
	if (now < __atomic_load_n(&next_fault_poll_ns, __ATOMIC_RELAXED) &&
	    irqs == __atomic_load_n(&device_irqs_seen, __ATOMIC_RELAXED))
		return;
	if (!spin_trylock(&fault_lock))
		return;
	__atomic_store_n(&next_fault_poll_ns, now + FAULT_POLL_NS, __ATOMIC_RELAXED);
	__atomic_store_n(&device_irqs_seen, irqs, __ATOMIC_RELAXED);
	vendor->take_faults(report);
	spin_unlock(&fault_lock);
}

/* ---- VMs' domains ---- */

#define DOMAIN_IDS 256 /* the fewest any unit has (VT-d ND 2; AMD-Vi takes 16 bits) */
static uint8_t domain_used[DOMAIN_IDS / 8];

struct iommu_domain *iommu_domain_new(void)
{
	struct iommu_domain *d;
	unsigned id;

	if (!vendor)
		return NULL;
	d = kmem_alloc_pages(sizeof(*d), PAGE_SIZE);
	if (!d)
		return NULL;
	spin_lock(&lock);
	for (id = IOMMU_DOMAIN_FIRMWARE + 1; id < DOMAIN_IDS; id++)
		if (!(domain_used[id / 8] & (1u << (id % 8))))
			break;
	if (id == DOMAIN_IDS || stage2_init(&d->tables, vendor->fmt, &table_alloc)) {
		spin_unlock(&lock);
		kmem_free_pages(d, sizeof(*d));
		return NULL;
	}
	domain_used[id / 8] |= (uint8_t)(1u << (id % 8));
	d->id = (uint16_t)id;
	spin_unlock(&lock);
	return d;
}

int iommu_domain_map(struct iommu_domain *d, uint64_t iova, uint64_t hpa, uint64_t size)
{
	spin_lock(&lock);
	int rc = range_within(iova, size, vendor->dma_limit) &&
				 stage2_map(&d->tables, iova, hpa, size) == 0
			 ? 0
			 : -1;
	if (rc == 0 && vendor->flush_after_map)
		vendor->flush(d);
	spin_unlock(&lock);
	return rc;
}

int iommu_domain_unmap(struct iommu_domain *d, uint64_t iova, uint64_t size, bool flush)
{
	spin_lock(&lock);
	int rc = stage2_unmap_range(&d->tables, iova, size);
	if (flush)
		vendor->flush(d);
	spin_unlock(&lock);
	return rc;
}

void iommu_domain_flush(struct iommu_domain *d)
{
	spin_lock(&lock);
	vendor->flush(d);
	spin_unlock(&lock);
}

int iommu_domain_attach(struct iommu_domain *d, const struct pci_func *f)
{
	spin_lock(&lock);
	int rc = attach_locked(f->segment, (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn), d);
	spin_unlock(&lock);
	return rc;
}

void iommu_domain_detach(const struct pci_func *f)
{
	if (!vendor)
		return;
	spin_lock(&lock);
	attach_locked(f->segment, (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn), NULL);
	spin_unlock(&lock);
}

void iommu_domain_free(struct iommu_domain *d)
{
	spin_lock(&lock);
	vendor->flush(d);
	stage2_free(&d->tables);
	domain_used[d->id / 8] &= (uint8_t) ~(1u << (d->id % 8));
	spin_unlock(&lock);
	kmem_free_pages(d, sizeof(*d));
}

uint16_t iommu_domain_id(const struct iommu_domain *d)
{
	return d->id;
}

bool iommu_hw_msi(const struct pci_func *f, unsigned index, uint32_t apic_id, uint8_t vector,
		  uint64_t *addr, uint32_t *data)
{
	if (!vendor || !vendor->msi)
		return host_msi_message(apic_id, vector, addr, data);
	spin_lock(&lock);
	bool ok = vendor->msi(f->segment, (uint16_t)(f->bus << 8 | f->dev << 3 | f->fn), index,
			      apic_id, vector, addr, data);
	spin_unlock(&lock);
	return ok;
}

bool iommu_hw_remaps(void)
{
	return vendor && vendor->msi;
}

void iommu_hw_log_counts(void)
{
	if (!vendor)
		return;
	klog("keel: iommu: %llu DMA faults, %llu interrupts blocked, %u devices stopped; host "
	     "devices' interrupts taken: %llu%s",
	     (unsigned long long)(counts.faults - counts.interrupts_blocked),
	     (unsigned long long)counts.interrupts_blocked, counts.devices_stopped,
	     (unsigned long long)host_device_interrupts(),
	     vendor->msi ? ", each through a remapping entry" : "");
}

void iommu_hw_counts(struct iommu_counts *out)
{
	*out = counts;
}

const char *iommu_hw_vendor(void)
{
	return vendor ? vendor->name : NULL;
}

uint16_t iommu_scope_bdf(uint16_t segment, uint16_t bdf)
{
	const struct pci_func *f = func_of(segment, bdf);
	const struct pci_func *pf = f && f->is_vf ? pci_host_func_mut(f->pf_index) : NULL;

	return pf ? (uint16_t)(pf->bus << 8 | pf->dev << 3 | pf->fn) : bdf;
}
