/* Intel VT-d remapping units on the real machine (Intel VT-d spec rev 4.x; the values written come
 * from drivers/vtd.c, which the host tests check against the spec).
 *
 * Each unit runs in legacy mode: a root table (one entry per bus) points at context tables (one
 * entry per device and function) whose present entries name a domain's second-level tables and
 * its domain ID. An absent entry blocks the requester and records a fault (reason 0x1 or 0x2).
 * Invalidations go through the queue (6.5.2): the driver appends descriptors and an invalidation
 * wait that writes a sequence number to memory, and spins until it appears.
 *
 * Locking: everything but vtd_take_faults runs under drivers/iommu_hw.c's lock, so each unit's
 * queue and tables have one writer at a time; fault records are read under its fault lock. */
#include "arch/x86/apic.h"
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "core/kmem.h"
#include "drivers/dmar.h"
#include "drivers/iommu_unit.h"
#include "drivers/pci_host_hw.h"
#include "drivers/vtd.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "mm/phys.h"

#define VTD_TIMEOUT_NS (1000ull * 1000 * 1000)

struct vtd_unit {
	const struct dmar_unit *info;
	volatile uint8_t *regs;
	struct vtd_caps caps;
	unsigned levels;	 /* of the second-level tables it walks: 3 or 4 */
	uint64_t *root;		 /* 256 root entries */
	uint64_t *ctx[256];	 /* each bus's context table, made when a device there is set */
	uint64_t *queue;	 /* 256 invalidation descriptors */
	unsigned tail;		 /* the next descriptor's index */
	volatile uint32_t *done; /* where the invalidation wait writes seq */
	uint32_t seq;
	bool broken; /* the queue stopped answering: logged once */
};

/* Interrupt remapping (9.10): one table all units share (each names it in its IRTA), so an
 * entry's index is the same everywhere. Entry i belongs to requester irte_sid[i] (source-id
 * verification in the entry makes the unit refuse it to any other) and to that requester's
 * message irte_msg[i]. An absent entry blocks; so does every compatibility-format message (GCMD
 * CFI stays clear), which is how a device that was given no entry is kept from interrupting. */
#define IRTE_ENTRIES 256
static uint64_t (*irt)[2];
static bool irte_used[IRTE_ENTRIES];
static uint16_t irte_sid[IRTE_ENTRIES], irte_msg[IRTE_ENTRIES];
static bool remapping;

static struct vtd_unit units[DMAR_MAX_UNITS];
static unsigned nr_units;
static const struct dmar_info *dmar;
static struct stage2_format fmt;
static struct iommu_vendor ops;

static uint32_t r32(const struct vtd_unit *u, uint32_t off)
{
	return *(volatile uint32_t *)(u->regs + off);
}

static uint64_t r64(const struct vtd_unit *u, uint32_t off)
{
	return *(volatile uint64_t *)(u->regs + off);
}

static void w32(struct vtd_unit *u, uint32_t off, uint32_t v)
{
	*(volatile uint32_t *)(u->regs + off) = v;
}

static void w64(struct vtd_unit *u, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + off) = v;
}

/* Turns GCMD bit on or off, repeating the enables GSTS reports (11.4.4.1), and waits for GSTS to
 * agree. One-shot bits (SRTP) are given with on = true and are done when their status bit sets. */
static bool gcmd(struct vtd_unit *u, uint32_t bit, bool on)
{
	uint32_t sts = r32(u, VTD_REG_GSTS) & VTD_GSTS_ENABLES;
	uint64_t until = time_now_ns() + VTD_TIMEOUT_NS;

	w32(u, VTD_REG_GCMD, on ? sts | bit : sts & ~bit);
	while (((r32(u, VTD_REG_GSTS) & bit) != 0) != on) {
		if (time_now_ns() > until)
			return false;
		cpu_relax();
	}
	return true;
}

/* Tables the unit reads must be in memory, not only in this CPU's caches, when it does not snoop
 * (ECAP.C clear), and past its write buffer when CAP.RWBF (6.8). */
static void publish(struct vtd_unit *u)
{
	if (!u->caps.coherent)
		wbinvd();
	if (u->caps.rwbf) {
		/* 11.4.4.1: WBF with the enables; done when its status bit clears */
		uint64_t until = time_now_ns() + VTD_TIMEOUT_NS;
		w32(u, VTD_REG_GCMD, (r32(u, VTD_REG_GSTS) & VTD_GSTS_ENABLES) | VTD_GCMD_WBF);
		while ((r32(u, VTD_REG_GSTS) & VTD_GSTS_WBFS) && time_now_ns() < until)
			cpu_relax();
	}
}

/* Queues descriptors d[0..n) and a wait, and spins until the unit has done them all. */
static bool qi_run(struct vtd_unit *u, uint64_t (*d)[2], unsigned n)
{
	uint64_t wait[2];

	if (u->broken)
		return false;
	publish(u);
	u->seq++;
	if (vtd_qi_wait(u->seq, (uint64_t)(uintptr_t)u->done, false, true, wait))
		return false;
	for (unsigned i = 0; i <= n; i++) {
		uint64_t *slot = &u->queue[(size_t)u->tail * 2];
		slot[0] = i < n ? d[i][0] : wait[0];
		slot[1] = i < n ? d[i][1] : wait[1];
		u->tail = (u->tail + 1) % vtd_iq_entries(0);
	}
	if (!u->caps.coherent)
		wbinvd();
	w64(u, VTD_REG_IQT, vtd_iq_reg(u->tail));
	uint64_t until = time_now_ns() + VTD_TIMEOUT_NS;
	while (__atomic_load_n(u->done, __ATOMIC_ACQUIRE) != u->seq) {
		if ((r32(u, VTD_REG_FSTS) & VTD_FSTS_IQE) || time_now_ns() > until) {
			u->broken = true;
			klog("keel: iommu: VT-d unit at 0x%llx: the invalidation queue %s (FSTS %x): "
			     "its translations may be stale",
			     (unsigned long long)u->info->base,
			     time_now_ns() > until ? "stopped answering" : "refused a descriptor",
			     r32(u, VTD_REG_FSTS));
			return false;
		}
		cpu_relax();
	}
	return true;
}

/* Every context-cache and IOTLB entry of the unit */
static bool invalidate_all(struct vtd_unit *u)
{
	uint64_t d[2][2];

	vtd_qi_cc_global(d[0]);
	vtd_qi_iotlb_global(&u->caps, d[1]);
	return qi_run(u, d, 2);
}

/* The bus range behind the bridge a sub-hierarchy scope names (8.3.1), from the PCI walk. */
static bool bridge_buses(uint16_t segment, uint16_t bdf, uint8_t *sec, uint8_t *sub)
{
	const struct pci_host *ph = pci_host_table();

	for (unsigned i = 0; i < ph->nr; i++) {
		const struct pci_func *f = &ph->funcs[i];
		if (f->segment == segment && (f->bus << 8 | f->dev << 3 | f->fn) == bdf &&
		    f->header_type == 1 && f->bridge_walked) {
			*sec = f->sec_bus;
			*sub = f->sub_bus;
			return true;
		}
	}
	return false;
}

static bool scope_covers(const struct dmar_scope *s, uint16_t segment, uint16_t bdf)
{
	uint16_t at;
	uint8_t sec, sub;

	if (dmar_scope_bdf(s, &at) != DMAR_BDF_DIRECT)
		return false; /* behind bridges only the walk knows: not matched, so never trusted */
	if (s->type == DMAR_SCOPE_PCI_ENDPOINT)
		return at == bdf;
	if (s->type != DMAR_SCOPE_PCI_SUBHIERARCHY)
		return false;
	if (at == bdf)
		return true;
	return bridge_buses(segment, at, &sec, &sub) && (bdf >> 8) >= sec && (bdf >> 8) <= sub;
}

/* The unit that translates requester bdf (8.3: a unit's scopes first, then its segment's
 * INCLUDE_PCI_ALL unit), or NULL. */
static struct vtd_unit *unit_for(uint16_t segment, uint16_t bdf)
{
	struct vtd_unit *all = NULL;
	uint16_t scope_bdf = iommu_scope_bdf(segment, bdf); /* a VF's is its PF's */

	for (unsigned i = 0; i < nr_units; i++) {
		const struct dmar_unit *info = units[i].info;
		if (info->segment != segment)
			continue;
		if (info->flags & DMAR_UNIT_INCLUDE_PCI_ALL) {
			all = &units[i];
			continue;
		}
		for (unsigned k = 0; k < info->nr_scopes; k++)
			if (scope_covers(&info->scopes[k], segment, scope_bdf))
				return &units[i];
	}
	return all;
}

static int vtd_attach(uint16_t segment, uint16_t bdf, struct iommu_domain *d)
{
	struct vtd_unit *u = unit_for(segment, bdf);
	uint8_t bus = (uint8_t)(bdf >> 8);
	uint64_t e[2] = { 0, 0 };

	if (!u)
		return -1;
	if (d) {
		uint64_t root = u->levels == 3 ? stage2_low_root(&d->tables) : d->tables.root;
		if (!root || vtd_context_entry(root, u->levels, d->id, u->caps.nd_bits, e))
			return -1;
	}
	if (!u->ctx[bus]) {
		if (!d)
			return 0; /* no table: blocked already */
		u->ctx[bus] = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
		if (!u->ctx[bus])
			return -1;
		uint64_t r[2];
		vtd_root_entry((uint64_t)(uintptr_t)u->ctx[bus], r);
		u->root[(size_t)bus * 2 + 1] = r[1];
		__atomic_store_n(&u->root[(size_t)bus * 2], r[0], __ATOMIC_RELEASE);
	}
	uint64_t *slot = &u->ctx[bus][(size_t)(bdf & 0xff) * 2];
	/* a present entry is taken away before it changes (6.5.3.3): the unit never sees half */
	__atomic_store_n(&slot[0], 0, __ATOMIC_RELEASE);
	invalidate_all(u);
	if (d) {
		slot[1] = e[1];
		__atomic_store_n(&slot[0], e[0], __ATOMIC_RELEASE);
		invalidate_all(u); /* a unit in caching mode may hold the absent entry */
	}
	return 0;
}

static void vtd_flush(struct iommu_domain *d)
{
	for (unsigned i = 0; i < nr_units; i++) {
		uint64_t desc[1][2];
		vtd_qi_iotlb_domain(&units[i].caps, d->id, desc[0]);
		qi_run(&units[i], desc, 1);
	}
}

static bool vtd_msi(uint16_t segment, uint16_t bdf, unsigned index, uint32_t apic_id,
		    uint8_t vector, uint64_t *addr, uint32_t *data)
{
	struct vtd_unit *u = unit_for(segment, bdf);
	unsigned i, free = IRTE_ENTRIES;
	uint64_t e[2], d[1][2];
	uint32_t a;

	if (!u)
		return false;
	for (i = 0; i < IRTE_ENTRIES; i++) {
		if (irte_used[i] && irte_sid[i] == bdf && irte_msg[i] == index)
			break;
		if (!irte_used[i] && free == IRTE_ENTRIES)
			free = i;
	}
	if (i == IRTE_ENTRIES)
		i = free;
	if (i == IRTE_ENTRIES || vtd_irte_remapped(vector, apic_id, false, false, false, bdf, e))
		return false;
	irte_used[i] = true;
	irte_sid[i] = bdf;
	irte_msg[i] = (uint16_t)index;
	/* the high half (source validation) first: P is in the low one */
	irt[i][1] = e[1];
	__atomic_store_n(&irt[i][0], e[0], __ATOMIC_RELEASE);
	if (vtd_qi_iec_index((uint16_t)i, 0, d[0]) == 0)
		qi_run(u, d, 1);
	vtd_msi_remappable((uint16_t)i, false, 0, &a, data);
	*addr = a;
	return true;
}

/* 7.2.1: the fault recording registers from FSTS.FRI on, each cleared (F is RW1C, in the last
 * dword) once read, until one holds no fault; then the overflow bit. */
static void vtd_take_faults(void (*report)(const struct iommu_fault *f))
{
	for (unsigned i = 0; i < nr_units; i++) {
		struct vtd_unit *u = &units[i];
		uint32_t fsts = r32(u, VTD_REG_FSTS);
		if (!(fsts & (VTD_FSTS_PPF | VTD_FSTS_PFO)))
			continue;
		unsigned at = VTD_FSTS_FRI(fsts) % u->caps.nr_fault_regs;
		for (unsigned n = 0; n < u->caps.nr_fault_regs; n++) {
			uint32_t reg = vtd_fault_reg(&u->caps, at);
			uint64_t hi = r64(u, reg + 8);
			struct vtd_fault vf;
			if (!vtd_decode_fault(r64(u, reg), hi, &vf))
				break;
			w32(u, reg + 12, (uint32_t)(VTD_FAULT_HI_F >> 32));
			struct iommu_fault f = {
				u->info->segment, vf.sid,  vf.intr ? vf.index : vf.addr,
				vf.write,	  vf.intr, ""
			};
			ksnprintf(f.why, sizeof(f.why), "reason 0x%02x: %s", vf.reason,
				  vtd_fault_reason(vf.reason));
			report(&f);
			at = (at + 1) % u->caps.nr_fault_regs;
		}
		w32(u, VTD_REG_FSTS, VTD_FSTS_PFO);
	}
}

/* The unit stopped as firmware may have left it, with its tables, queue and fault event set,
 * translation still off. */
static bool unit_setup(struct vtd_unit *u, const struct dmar_unit *info, volatile uint32_t *done)
{
	uint64_t size = PAGE_SIZE << info->size_log2;
	const char *why = NULL;
	uint64_t iqa, addr;
	uint32_t data;

	u->info = info;
	u->done = done;
	paging_map_mmio(info->base, size);
	u->regs = (volatile uint8_t *)(uintptr_t)info->base;
	vtd_decode_caps(r64(u, VTD_REG_CAP), r64(u, VTD_REG_ECAP), &u->caps);
	u->levels = (unsigned)vtd_pick_levels(&u->caps);
	if (!vtd_caps_usable(&u->caps, size, &why))
		goto refused;
	/* firmware's translation, queue and interrupt remapping off before the tables change */
	why = "it does not turn firmware's settings off";
	if (!gcmd(u, VTD_GCMD_IRE, false) || !gcmd(u, VTD_GCMD_TE, false) ||
	    !gcmd(u, VTD_GCMD_QIE, false))
		goto refused;
	why = "out of memory";
	u->root = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	u->queue = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!u->root || !u->queue)
		goto refused;
	if (!u->caps.coherent)
		wbinvd();
	why = "it does not take the root table";
	w64(u, VTD_REG_RTADDR, (uint64_t)(uintptr_t)u->root);
	if (!gcmd(u, VTD_GCMD_SRTP, true))
		goto refused;
	why = "it does not start its invalidation queue";
	w64(u, VTD_REG_IQT, 0);
	if (vtd_iqa((uint64_t)(uintptr_t)u->queue, 0, &iqa))
		goto refused;
	w64(u, VTD_REG_IQA, iqa);
	if (!gcmd(u, VTD_GCMD_QIE, true) || !invalidate_all(u))
		goto refused;
	/* a fault wakes the boot CPU, whose loop reads the records (iommu_hw_poll) */
	if (host_msi_message(host_apic_id(), HOST_DEVICE_VECTOR, &addr, &data)) {
		w32(u, VTD_REG_FEDATA, data);
		w32(u, VTD_REG_FEADDR, (uint32_t)addr);
		w32(u, VTD_REG_FEUADDR, 0);
		w32(u, VTD_REG_FECTL, 0);
	}
	return true;
refused:
	klog("keel: iommu: VT-d unit at 0x%llx refused: %s", (unsigned long long)info->base, why);
	return false;
}

/* Every unit walks the shared table, empty, and remaps (11.4.4.1: SIRTP, then IRE). */
static bool remap_setup(void)
{
	uint64_t irta;

	irt = kmem_alloc_pages((uint64_t)IRTE_ENTRIES * VTD_IRTE_SIZE, PAGE_SIZE);
	if (!irt || vtd_irta((uint64_t)(uintptr_t)irt, IRTE_ENTRIES, false, &irta))
		return false;
	for (unsigned i = 0; i < nr_units; i++) {
		struct vtd_unit *u = &units[i];
		uint64_t d[1][2];
		w64(u, VTD_REG_IRTA, irta);
		vtd_qi_iec_global(d[0]);
		if (!gcmd(u, VTD_GCMD_SIRTP, true) || !qi_run(u, d, 1) ||
		    !gcmd(u, VTD_GCMD_IRE, true)) {
			klog("keel: iommu: VT-d unit at 0x%llx does not take its interrupt "
			     "remapping table",
			     (unsigned long long)u->info->base);
			return false;
		}
	}
	return true;
}

const struct iommu_vendor *vtd_hw_init(const struct dmar_info *info)
{
	volatile uint32_t *done = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	uint64_t limit = 1ull << 48;
	bool mib = true, gib = true;

	if (!done || !dmar_complete(info)) {
		/* a unit or scope keel did not keep could let a device bypass what it sets */
		klog("keel: iommu: VT-d %s",
		     done ? "DMAR not kept whole: units left off" : "out of memory");
		return NULL;
	}
	dmar = info;
	for (unsigned i = 0; i < info->nr_units; i++) {
		struct vtd_unit *u = &units[i];
		if (!unit_setup(u, &info->units[i], done + i))
			return NULL;
		nr_units++;
		mib = mib && u->caps.sllps_2m;
		gib = gib && u->caps.sllps_1g;
		limit = MIN(limit, 1ull << (u->levels == 3 ? 39 : 48));
		if (u->caps.mgaw < 64)
			limit = MIN(limit, 1ull << u->caps.mgaw);
		ops.flush_after_map = ops.flush_after_map || u->caps.cm;
	}
	fmt = (struct stage2_format){
		.table_bits = VTD_SL_R | VTD_SL_W,
		.leaf_rwx = VTD_SL_R | VTD_SL_W,
		.large_bit = VTD_SL_PS,
		.present_mask = VTD_SL_R | VTD_SL_W,
		.gib_leaves = gib,
		.mib_leaves = mib,
	};
	/* interrupts next: every entry absent, so only the messages keel gives a device an entry
	 * for get through (keel's host does not use the IOAPIC: nothing of it is remapped) */
	remapping = (info->flags & DMAR_FLAG_INTR_REMAP) != 0;
	for (unsigned i = 0; i < nr_units; i++)
		remapping = remapping && units[i].caps.ir;
	if (remapping && !remap_setup()) {
		for (unsigned i = 0; i < nr_units; i++)
			gcmd(&units[i], VTD_GCMD_IRE, false);
		return NULL;
	}
	/* every table empty: all DMA blocked from here on */
	for (unsigned i = 0; i < nr_units; i++) {
		struct vtd_unit *u = &units[i];
		if (!gcmd(u, VTD_GCMD_TE, true)) {
			klog("keel: iommu: VT-d unit at 0x%llx does not turn translation on",
			     (unsigned long long)u->info->base);
			/* all or none: keel's drivers attach only when every unit translates */
			while (i--)
				gcmd(&units[i], VTD_GCMD_TE, false);
			for (unsigned k = 0; k < nr_units; k++)
				gcmd(&units[k], VTD_GCMD_IRE, false);
			return NULL;
		}
		/* protected memory regions, if firmware set them, are redundant now (11.4.13) */
		if (r32(u, VTD_REG_PMEN) & (1u << 31))
			w32(u, VTD_REG_PMEN, 0);
		klog("keel: iommu: VT-d unit at 0x%llx translating: %u-level tables, %u fault "
		     "records%s%s%s",
		     (unsigned long long)u->info->base, u->levels, u->caps.nr_fault_regs,
		     remapping ? ", interrupts remapped" : "", u->caps.cm ? ", caching mode" : "",
		     u->caps.coherent ? "" : ", not coherent");
	}
	ops = (struct iommu_vendor){
		.name = "VT-d",
		.fmt = &fmt,
		.dma_limit = limit,
		.flush_after_map = ops.flush_after_map,
		.attach = vtd_attach,
		.flush = vtd_flush,
		.take_faults = vtd_take_faults,
		.msi = remapping ? vtd_msi : NULL,
	};
	return &ops;
}
