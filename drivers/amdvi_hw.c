/* AMD-Vi IOMMUs on the real machine (AMD IOMMU spec pub 48882 rev 3.x; the values written come
 * from drivers/amdvi.c, which the host tests check against the spec).
 *
 * All units of a machine share one device table of 65536 entries (2 MiB), indexed by the
 * requester ID the unit sees (the IVRS's alias where it names one). Every entry starts valid
 * and blocking: translation valid, Mode 0 (no page table) with read and write permission clear,
 * so every DMA is aborted (2.2.2, "Mode 000b: translation disabled, access controlled by IR and
 * IW"); interrupts are not remapped yet (IV clear). An attached device's entry names its
 * domain's 4-level I/O page tables. Commands go through each unit's 256-entry buffer and end
 * with a COMPLETION_WAIT storing a sequence number; faults come from its event log, read by
 * amdvi_take_faults.
 *
 * Locking: everything but amdvi_take_faults runs under drivers/iommu_hw.c's lock; the event logs
 * are read under its fault lock. */
#include "arch/x86/cpu.h"
#include "arch/x86/paging.h"
#include "arch/x86/time.h"
#include "core/kmem.h"
#include "drivers/amdvi.h"
#include "drivers/iommu_unit.h"
#include "drivers/ivrs.h"
#include "lib/fmt.h"
#include "lib/log.h"
#include "mm/phys.h"

#define AMDVI_TIMEOUT_NS (1000ull * 1000 * 1000)
#define RING_LOG2 8 /* 256 entries of 16 bytes: one page */
#define RING_ENTRIES (1u << RING_LOG2)
#define DEVTAB_BYTES ((uint64_t)AMDVI_DEVTAB_MAX_ENTRIES * AMDVI_DTE_SIZE)
#define DOMAIN_BLOCKED 0 /* the domain ID of blocking entries: they cache no translation */

struct amdvi_unit {
	const struct ivrs_unit *info;
	volatile uint8_t *regs;
	struct amdvi_efr efr;
	uint64_t *cmds;	  /* the command buffer */
	uint64_t *events; /* the event log */
	volatile uint64_t *done;
	uint64_t seq;
	unsigned tail; /* the next command's index */
	bool broken;
};

/* Interrupt remapping (2.2.5): a table per requester that keel gives messages to, of 32-bit
 * entries (GAEn stays clear), whose index an MSI's data bits 10:0 select; entry i is message i of
 * the device. Every other requester's entry has IV set and IntCtl "abort": its fixed and
 * arbitrated interrupts go nowhere. */
#define IRT_LOG2 8
#define IRT_ENTRIES (1u << IRT_LOG2)
#define MAX_IRTS 64
static struct {
	uint16_t devid;
	uint32_t *table;
} irts[MAX_IRTS];
static unsigned nr_irts;
static bool remapping;

static struct amdvi_unit units[IVRS_MAX_UNITS];
static unsigned nr_units;
static const struct ivrs_info *ivrs;
static uint64_t (*devtab)[4];
static struct stage2_format fmt;
static struct iommu_vendor ops;

static uint64_t r64(const struct amdvi_unit *u, uint32_t off)
{
	return *(volatile uint64_t *)(u->regs + off);
}

static void w64(struct amdvi_unit *u, uint32_t off, uint64_t v)
{
	*(volatile uint64_t *)(u->regs + off) = v;
}

/* Queues commands c[0..n) and a completion wait, and spins until the unit has done them all. */
static bool run(struct amdvi_unit *u, uint64_t (*c)[2], unsigned n)
{
	uint64_t wait[2];

	if (u->broken)
		return false;
	u->seq++;
	if (amdvi_cmd_completion_wait(wait, (uint64_t)(uintptr_t)u->done, u->seq, false))
		return false;
	for (unsigned i = 0; i <= n; i++) {
		uint64_t *slot = &u->cmds[(size_t)u->tail * 2];
		slot[0] = i < n ? c[i][0] : wait[0];
		slot[1] = i < n ? c[i][1] : wait[1];
		u->tail = (u->tail + 1) % RING_ENTRIES;
	}
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	w64(u, AMDVI_MMIO_CMDBUF_TAIL, amdvi_ring_ptr(u->tail));
	uint64_t until = time_now_ns() + AMDVI_TIMEOUT_NS;
	while (__atomic_load_n(u->done, __ATOMIC_ACQUIRE) != u->seq) {
		if (time_now_ns() > until) {
			u->broken = true;
			klog("keel: iommu: AMD-Vi unit at 0x%llx: its command buffer stopped (status "
			     "%llx): its translations may be stale",
			     (unsigned long long)u->info->base,
			     (unsigned long long)r64(u, AMDVI_MMIO_STATUS));
			return false;
		}
		cpu_relax();
	}
	return true;
}

/* The unit behind requester bdf and the device table index it uses, or NULL. */
static struct amdvi_unit *unit_for(uint16_t segment, uint16_t bdf, uint16_t *devid)
{
	unsigned index;
	uint16_t scope = iommu_scope_bdf(segment, bdf);

	if (!ivrs_device_covered(ivrs, segment, scope, &index, devid) || index >= nr_units)
		return NULL;
	/* a VF is covered as its PF is, under its own requester ID; behind an alias its own ID is
	 * not what the unit sees, and keel cannot tell what is: not covered */
	if (scope != bdf) {
		if (*devid != scope)
			return NULL;
		*devid = bdf;
	}
	return &units[index];
}

static int amdvi_attach(uint16_t segment, uint16_t bdf, struct iommu_domain *d)
{
	uint16_t devid;
	struct amdvi_unit *u = unit_for(segment, bdf, &devid);
	uint64_t e[4], c[2][2];

	if (!u)
		return -1;
	if (d) {
		if (amdvi_dte_translate(e, d->tables.root, 4, d->id, true, true))
			return -1;
	} else {
		amdvi_dte_block(e, DOMAIN_BLOCKED);
	}
	/* the word with V, TV, Mode and the root last: the unit reads the old entry or the new;
	 * the interrupt word stays (the device's table, or its interrupts blocked) */
	devtab[devid][3] = e[3];
	devtab[devid][1] = e[1];
	__atomic_store_n(&devtab[devid][0], e[0], __ATOMIC_RELEASE);
	amdvi_cmd_inv_devtab_entry(c[0], devid);
	amdvi_cmd_inv_all_pages(c[1], d ? d->id : DOMAIN_BLOCKED, true);
	run(u, c, 2);
	return 0;
}

/* The interrupt table of devid, made and named in its entry when it has none; NULL when full. */
static uint32_t *irt_of(struct amdvi_unit *u, uint16_t devid)
{
	uint64_t c[2][2];

	for (unsigned i = 0; i < nr_irts; i++)
		if (irts[i].devid == devid)
			return irts[i].table;
	if (nr_irts == MAX_IRTS)
		return NULL;
	uint32_t *t = kmem_alloc_pages(IRT_ENTRIES * sizeof(uint32_t), PAGE_SIZE);
	if (!t)
		return NULL;
	uint64_t e[4] = { devtab[devid][0], devtab[devid][1], devtab[devid][2], devtab[devid][3] };
	if (amdvi_dte_set_intremap(e, (uint64_t)(uintptr_t)t, IRT_LOG2)) {
		kmem_free_pages(t, IRT_ENTRIES * sizeof(uint32_t));
		return NULL;
	}
	irts[nr_irts].devid = devid;
	irts[nr_irts++].table = t;
	__atomic_store_n(&devtab[devid][2], e[2], __ATOMIC_RELEASE);
	amdvi_cmd_inv_devtab_entry(c[0], devid);
	amdvi_cmd_inv_interrupt_table(c[1], devid);
	run(u, c, 2);
	return t;
}

static bool amdvi_msi(uint16_t segment, uint16_t bdf, unsigned index, uint32_t apic_id,
		      uint8_t vector, uint64_t *addr, uint32_t *data)
{
	uint16_t devid;
	struct amdvi_unit *u = unit_for(segment, bdf, &devid);
	const struct amdvi_irte irte = { .remap_en = true,
					 .int_type = AMDVI_IRTE_INT_TYPE_FIXED,
					 .dest = apic_id,
					 .vector = vector };
	uint64_t c[1][2];
	uint32_t raw, *t;

	if (!u || index >= IRT_ENTRIES || !amdvi_irte32_encode(&irte, &raw))
		return false;
	t = irt_of(u, devid);
	if (!t)
		return false;
	__atomic_store_n(&t[index], raw, __ATOMIC_RELEASE);
	amdvi_cmd_inv_interrupt_table(c[0], devid);
	run(u, c, 1);
	/* the address still has to be one the IOMMU takes for an interrupt (0xFEExxxxx); the
	 * destination there is ignored, the entry's counts */
	*addr = 0xFEE00000u;
	*data = index;
	return true;
}

static void amdvi_flush(struct iommu_domain *d)
{
	for (unsigned i = 0; i < nr_units; i++) {
		uint64_t c[1][2];
		amdvi_cmd_inv_all_pages(c[0], d->id, true);
		run(&units[i], c, 1);
	}
}

/* 2.5: entries from head to tail, each cleared once read (hardware writes only empty ones), the
 * head moved past them; an overflow stops the log, which is then restarted empty (3.4.12). */
static void amdvi_take_faults(void (*report)(const struct iommu_fault *f))
{
	for (unsigned i = 0; i < nr_units; i++) {
		struct amdvi_unit *u = &units[i];
		unsigned head, tail;
		if (!amdvi_ring_index(r64(u, AMDVI_MMIO_EVTLOG_HEAD), RING_LOG2, &head) ||
		    !amdvi_ring_index(r64(u, AMDVI_MMIO_EVTLOG_TAIL), RING_LOG2, &tail))
			continue;
		while (head != tail) {
			uint64_t *slot = &u->events[(size_t)head * 2];
			uint64_t raw[2] = { __atomic_load_n(&slot[0], __ATOMIC_ACQUIRE), slot[1] };
			struct amdvi_event ev;
			slot[0] = slot[1] = 0;
			head = (head + 1) % RING_ENTRIES;
			if (!amdvi_decode_event(raw, &ev) || !ev.has_devid) {
				char line[160];
				amdvi_describe_event(&ev, line, sizeof(line));
				klog("keel: iommu: AMD-Vi unit at 0x%llx: %s",
				     (unsigned long long)u->info->base, line);
				continue;
			}
			struct iommu_fault f = { u->info->segment, ev.devid,	 ev.addr,
						 ev.write,	   ev.interrupt, "" };
			if (ev.has_domid)
				ksnprintf(f.why, sizeof(f.why), "%s, domain %u",
					  amdvi_event_name(ev.code), ev.domid);
			else
				ksnprintf(f.why, sizeof(f.why), "%s", amdvi_event_name(ev.code));
			report(&f);
		}
		w64(u, AMDVI_MMIO_EVTLOG_HEAD, amdvi_ring_ptr(head));
		uint64_t status = r64(u, AMDVI_MMIO_STATUS);
		if (status & AMDVI_STATUS_EVENT_OVERFLOW) {
			uint64_t ctl = r64(u, AMDVI_MMIO_CONTROL);
			klog("keel: iommu: AMD-Vi unit at 0x%llx: event log overflowed; faults lost",
			     (unsigned long long)u->info->base);
			w64(u, AMDVI_MMIO_CONTROL, ctl & ~AMDVI_CTRL_EVENT_LOG_EN);
			w64(u, AMDVI_MMIO_STATUS, AMDVI_STATUS_EVENT_OVERFLOW);
			w64(u, AMDVI_MMIO_EVTLOG_HEAD, 0);
			w64(u, AMDVI_MMIO_EVTLOG_TAIL, 0);
			w64(u, AMDVI_MMIO_CONTROL, ctl | AMDVI_CTRL_EVENT_LOG_EN);
		}
	}
}

/* Drops every cached translation and device table entry of the unit. */
static bool invalidate_all(struct amdvi_unit *u)
{
	uint64_t c[64][2];

	if (amdvi_cmd_inv_all(c[0], &u->efr) == 0)
		return run(u, c, 1);
	/* no INVALIDATE_IOMMU_ALL: every entry, a batch at a time, then the blocked domain */
	for (uint32_t devid = 0; devid < AMDVI_DEVTAB_MAX_ENTRIES;) {
		unsigned n = 0;
		while (n < 64 && devid < AMDVI_DEVTAB_MAX_ENTRIES)
			amdvi_cmd_inv_devtab_entry(c[n++], (uint16_t)devid++);
		if (!run(u, c, n))
			return false;
	}
	amdvi_cmd_inv_all_pages(c[0], DOMAIN_BLOCKED, true);
	return run(u, c, 1);
}

static bool unit_setup(struct amdvi_unit *u, const struct ivrs_unit *info, volatile uint64_t *done)
{
	uint64_t reg, ctl;
	const char *why = "out of memory";

	u->info = info;
	u->done = done;
	paging_map_mmio(info->base, info->mmio_len);
	u->regs = (volatile uint8_t *)(uintptr_t)info->base;
	amdvi_decode_efr(r64(u, AMDVI_MMIO_EFR), &u->efr);
	/* firmware's settings off before the tables change (3.4.3) */
	ctl = r64(u, AMDVI_MMIO_CONTROL);
	w64(u, AMDVI_MMIO_CONTROL,
	    ctl & ~(AMDVI_CTRL_IOMMU_EN | AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVENT_LOG_EN |
		    AMDVI_CTRL_EVENT_INT_EN | AMDVI_CTRL_COM_WAIT_INT_EN | AMDVI_CTRL_PPR_EN |
		    AMDVI_CTRL_PPR_LOG_EN | AMDVI_CTRL_GT_EN | AMDVI_CTRL_GA_EN));
	u->cmds = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	u->events = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);
	if (!u->cmds || !u->events)
		goto refused;
	why = "a table address it cannot take";
	if (amdvi_devtab_base((uint64_t)(uintptr_t)devtab, AMDVI_DEVTAB_MAX_ENTRIES, &reg))
		goto refused;
	w64(u, AMDVI_MMIO_DEVTAB_BASE, reg);
	if (amdvi_ring_base((uint64_t)(uintptr_t)u->cmds, RING_LOG2, &reg))
		goto refused;
	w64(u, AMDVI_MMIO_CMDBUF_BASE, reg);
	w64(u, AMDVI_MMIO_CMDBUF_HEAD, 0);
	w64(u, AMDVI_MMIO_CMDBUF_TAIL, 0);
	if (amdvi_ring_base((uint64_t)(uintptr_t)u->events, RING_LOG2, &reg))
		goto refused;
	w64(u, AMDVI_MMIO_EVTLOG_BASE, reg);
	w64(u, AMDVI_MMIO_EVTLOG_HEAD, 0);
	w64(u, AMDVI_MMIO_EVTLOG_TAIL, 0);
	w64(u, AMDVI_MMIO_STATUS,
	    AMDVI_STATUS_EVENT_OVERFLOW | AMDVI_STATUS_EVENT_LOG_INT | AMDVI_STATUS_COM_WAIT_INT);
	ctl = (r64(u, AMDVI_MMIO_CONTROL) & ~AMDVI_CTRL_INV_TIMEOUT_MASK) |
	      AMDVI_CTRL_INV_TIMEOUT(AMDVI_INV_TIMEOUT_1S) | AMDVI_CTRL_COHERENT |
	      AMDVI_CTRL_CMD_BUF_EN | AMDVI_CTRL_EVENT_LOG_EN;
	w64(u, AMDVI_MMIO_CONTROL, ctl);
	return true;
refused:
	klog("keel: iommu: AMD-Vi unit at 0x%llx refused: %s", (unsigned long long)info->base, why);
	return false;
}

const struct iommu_vendor *amdvi_hw_init(const struct ivrs_info *info)
{
	volatile uint64_t *done = kmem_alloc_pages(PAGE_SIZE, PAGE_SIZE);

	devtab = kmem_alloc_pages(DEVTAB_BYTES, PAGE_SIZE);
	if (!done || !devtab) {
		klog("keel: iommu: AMD-Vi: out of memory for the device table");
		return NULL;
	}
	if (info->nr_units_dropped) {
		/* a unit keel did not keep would let its devices' DMA through */
		klog("keel: iommu: AMD-Vi: IVRS not kept whole: units left off");
		return NULL;
	}
	ivrs = info;
	/* IVinfo has no interrupt remapping flag: the units remap when the device table says so */
	remapping = true;
	for (uint32_t i = 0; i < AMDVI_DEVTAB_MAX_ENTRIES; i++) {
		amdvi_dte_block(devtab[i], DOMAIN_BLOCKED);
		amdvi_dte_block_interrupts(devtab[i]);
	}
	for (unsigned i = 0; i < info->nr_units; i++) {
		if (!unit_setup(&units[i], &info->units[i], done + i))
			return NULL;
		nr_units++;
	}
	/* 2.2.3: a table entry names the level below it, a leaf of any size has NextLevel 0 */
	fmt = (struct stage2_format){
		.table_bits = AMDVI_PTE_PR | AMDVI_PTE_IR | AMDVI_PTE_IW,
		.leaf_rwx = AMDVI_PTE_PR | AMDVI_PTE_FC | AMDVI_PTE_IR | AMDVI_PTE_IW,
		.present_mask = AMDVI_PTE_PR,
		.gib_leaves = true,
		.mib_leaves = true,
		.next_level_shift = AMDVI_PTE_NEXT_LEVEL_SHIFT,
	};
	/* every entry blocking: all DMA aborted from here on. A unit runs its commands only once
	 * enabled (QEMU's model too), so what firmware left cached goes after that. */
	for (unsigned i = 0; i < nr_units; i++) {
		struct amdvi_unit *u = &units[i];
		w64(u, AMDVI_MMIO_CONTROL, r64(u, AMDVI_MMIO_CONTROL) | AMDVI_CTRL_IOMMU_EN);
		if (!invalidate_all(u)) {
			klog("keel: iommu: AMD-Vi unit at 0x%llx refused: its command buffer does "
			     "not run",
			     (unsigned long long)u->info->base);
			/* all or none: keel's drivers attach only when every unit translates */
			for (unsigned k = 0; k <= i; k++)
				w64(&units[k], AMDVI_MMIO_CONTROL,
				    r64(&units[k], AMDVI_MMIO_CONTROL) & ~AMDVI_CTRL_IOMMU_EN);
			return NULL;
		}
		klog("keel: iommu: AMD-Vi unit at 0x%llx translating: 4-level tables, event log of "
		     "%u entries, interrupts remapped",
		     (unsigned long long)u->info->base, RING_ENTRIES);
	}
	ops = (struct iommu_vendor){
		.name = "AMD-Vi",
		.fmt = &fmt,
		.dma_limit = 1ull << 48,
		.attach = amdvi_attach,
		.flush = amdvi_flush,
		.take_faults = amdvi_take_faults,
		.msi = remapping ? amdvi_msi : NULL,
	};
	return &ops;
}
