/* AMD-Vi formats (amdvi.h). Section numbers are those of the AMD I/O Virtualization Technology
 * (IOMMU) Specification, pub 48882, rev 3.x. Bit positions were checked against Linux's
 * drivers/iommu/amd/amd_iommu_types.h and QEMU's hw/i386/amd_iommu.h. */
#include "drivers/amdvi.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

#define PAGE_4K 4096ull
#define ADDR_51_12 0x000ffffffffff000ull

static bool pa_ok(uint64_t pa, uint64_t align, uint64_t len)
{
	return IS_ALIGNED(pa, align) && pa < AMDVI_PA_LIMIT && len <= AMDVI_PA_LIMIT - pa;
}

/* ---- 3.4 registers ---- */

/* 3.4 Device Table Base: Size (8:0) counts 4 KiB pages minus one. */
#define DEVTAB_SIZE_MASK 0x1ffull

int amdvi_devtab_base(uint64_t pa, uint32_t nr_entries, uint64_t *reg)
{
	if (!nr_entries || nr_entries > AMDVI_DEVTAB_MAX_ENTRIES)
		return AMDVI_ERANGE;
	uint64_t bytes = ALIGN_UP((uint64_t)nr_entries * AMDVI_DTE_SIZE, PAGE_4K);
	if (!IS_ALIGNED(pa, PAGE_4K))
		return AMDVI_EALIGN;
	if (!pa_ok(pa, PAGE_4K, bytes))
		return AMDVI_ERANGE;
	*reg = pa | (bytes / PAGE_4K - 1);
	return AMDVI_OK;
}

uint64_t amdvi_devtab_bytes(uint64_t reg)
{
	return ((reg & DEVTAB_SIZE_MASK) + 1) * PAGE_4K;
}

/* 3.4 Command Buffer and Event Log Base: ComLen and EventLen share bits 59:56. */
#define RING_LEN_SHIFT 56

int amdvi_ring_base(uint64_t pa, unsigned log2_entries, uint64_t *reg)
{
	if (log2_entries < AMDVI_RING_MIN_LOG2 || log2_entries > AMDVI_RING_MAX_LOG2)
		return AMDVI_ERANGE;
	if (!IS_ALIGNED(pa, PAGE_4K))
		return AMDVI_EALIGN;
	if (!pa_ok(pa, PAGE_4K, (uint64_t)AMDVI_RING_ENTRY_SIZE << log2_entries))
		return AMDVI_ERANGE;
	*reg = pa | (uint64_t)log2_entries << RING_LEN_SHIFT;
	return AMDVI_OK;
}

/* 3.4 head and tail pointers: the pointer is bits 18:4, enough for 32768 16-byte entries. */
#define RING_PTR_MASK 0x7fff0ull

uint64_t amdvi_ring_ptr(unsigned index)
{
	return ((uint64_t)index << 4) & RING_PTR_MASK;
}

bool amdvi_ring_index(uint64_t reg, unsigned log2_entries, unsigned *index)
{
	if (log2_entries < AMDVI_RING_MIN_LOG2 || log2_entries > AMDVI_RING_MAX_LOG2)
		return false;
	if (reg & ~RING_PTR_MASK)
		return false;
	unsigned i = (unsigned)(reg >> 4);
	if (i >= 1u << log2_entries)
		return false;
	*index = i;
	return true;
}

/* ---- 3.4 Extended Feature Register ---- */

static bool bit(uint64_t v, unsigned n)
{
	return (v >> n) & 1;
}

static uint8_t field(uint64_t v, unsigned lo, unsigned width)
{
	return (uint8_t)((v >> lo) & ((1u << width) - 1));
}

void amdvi_decode_efr(uint64_t efr, struct amdvi_efr *out)
{
	memset(out, 0, sizeof(*out));
	out->pref_sup = bit(efr, 0);
	out->ppr_sup = bit(efr, 1);
	out->xt_sup = bit(efr, 2);
	out->nx_sup = bit(efr, 3);
	out->gt_sup = bit(efr, 4);
	out->ia_sup = bit(efr, 6);
	out->ga_sup = bit(efr, 7);
	out->he_sup = bit(efr, 8);
	out->pc_sup = bit(efr, 9);
	out->hats = field(efr, 10, 2);
	out->gats = field(efr, 12, 2);
	out->glx_sup = field(efr, 14, 2);
	out->pas_max = field(efr, 32, 5);
	out->msi_cap_mmio_sup = bit(efr, 46);
	out->gio_sup = bit(efr, 48);
	out->ha_sup = bit(efr, 49);
	out->hd_sup = bit(efr, 52);
	out->snp_sup = bit(efr, 63);
	/* HATS: 00b 4 levels, 01b 5, 10b 6, 11b reserved (Linux: hpt_level = HATS + 4, and
	 * refuses 11b). */
	out->host_levels = out->hats == 3 ? 0 : out->hats + 4u;
}

/* ---- 2.2.2 device table entries ---- */

int amdvi_dte_translate(uint64_t out[4], uint64_t pt_root_pa, unsigned levels, uint16_t domain_id,
			bool read, bool write)
{
	if (levels < 1 || levels > AMDVI_MAX_LEVELS)
		return AMDVI_ERANGE;
	if (!IS_ALIGNED(pt_root_pa, PAGE_4K))
		return AMDVI_EALIGN;
	if (!pa_ok(pt_root_pa, PAGE_4K, PAGE_4K))
		return AMDVI_ERANGE;
	out[0] = AMDVI_DTE_V | AMDVI_DTE_TV | (uint64_t)levels << AMDVI_DTE_MODE_SHIFT |
		 pt_root_pa | (read ? AMDVI_DTE_IR : 0) | (write ? AMDVI_DTE_IW : 0);
	out[1] = domain_id;
	out[2] = 0;
	out[3] = 0;
	return AMDVI_OK;
}

/* 2.2.2.1, the Mode field (bits 11:9): Mode 000b means translation disabled, access controlled
 * by IR and IW alone. With V=1 and TV=1 the IOMMU does not pass the request untranslated (that
 * is V=0); it checks IR/IW and, both clear, target-aborts every read and write. Linux blocks a
 * device the same way (V|TV, Mode 0, no IR/IW). DomainID is still set so that invalidations
 * addressed to the domain cover the device. */
void amdvi_dte_block(uint64_t out[4], uint16_t domain_id)
{
	out[0] = AMDVI_DTE_V | AMDVI_DTE_TV;
	out[1] = domain_id;
	out[2] = 0;
	out[3] = 0;
}

/* 2.2.2.1 interrupt fields of dte[2]: IV, IntTabLen (log2 of the entries), IntTableRootPtr
 * 51:6 (so 64-byte aligned; Linux aligns its tables to 128 bytes, which satisfies this), the
 * pass bits and IntCtl. Pass bits are left clear: INIT, ExtInt, NMI, LINT0/1 from a device are
 * aborted, never delivered to the host. */
int amdvi_dte_set_intremap(uint64_t dte[4], uint64_t irt_pa, unsigned log2_entries)
{
	if (log2_entries > AMDVI_IRT_MAX_LOG2)
		return AMDVI_ERANGE;
	if (!IS_ALIGNED(irt_pa, AMDVI_IRT_ALIGN))
		return AMDVI_EALIGN;
	/* The larger of the two entry sizes (2.2.5, 16 bytes) bounds the table. */
	if (!pa_ok(irt_pa, AMDVI_IRT_ALIGN, 16ull << log2_entries))
		return AMDVI_ERANGE;
	dte[2] = AMDVI_DTE_IV | (uint64_t)log2_entries << AMDVI_DTE_INT_TAB_LEN_SHIFT | irt_pa |
		 (uint64_t)AMDVI_INT_CTL_REMAP << AMDVI_DTE_INT_CTL_SHIFT;
	return AMDVI_OK;
}

/* IV=1 makes the IOMMU use these fields (IV=0 would pass interrupts through untouched);
 * IntCtl=00b target-aborts fixed and arbitrated interrupts, clear pass bits the others. */
void amdvi_dte_block_interrupts(uint64_t dte[4])
{
	dte[2] = AMDVI_DTE_IV | (uint64_t)AMDVI_INT_CTL_ABORT << AMDVI_DTE_INT_CTL_SHIFT;
}

void amdvi_dte_read(const uint64_t dte[4], struct amdvi_dte_fields *out)
{
	memset(out, 0, sizeof(*out));
	out->v = dte[0] & AMDVI_DTE_V;
	out->tv = dte[0] & AMDVI_DTE_TV;
	out->mode = (unsigned)((dte[0] & AMDVI_DTE_MODE_MASK) >> AMDVI_DTE_MODE_SHIFT);
	out->pt_root = dte[0] & AMDVI_DTE_PT_ROOT_MASK;
	out->ir = dte[0] & AMDVI_DTE_IR;
	out->iw = dte[0] & AMDVI_DTE_IW;
	out->domain_id = (uint16_t)(dte[1] & AMDVI_DTE_DOMAIN_MASK);
	out->iv = dte[2] & AMDVI_DTE_IV;
	out->int_tab_len =
		(unsigned)((dte[2] & AMDVI_DTE_INT_TAB_LEN_MASK) >> AMDVI_DTE_INT_TAB_LEN_SHIFT);
	out->irt_root = dte[2] & AMDVI_DTE_IRT_ROOT_MASK;
	out->init_pass = dte[2] & AMDVI_DTE_INIT_PASS;
	out->eint_pass = dte[2] & AMDVI_DTE_EINT_PASS;
	out->nmi_pass = dte[2] & AMDVI_DTE_NMI_PASS;
	out->int_ctl = (unsigned)((dte[2] & AMDVI_DTE_INT_CTL_MASK) >> AMDVI_DTE_INT_CTL_SHIFT);
	out->lint0_pass = dte[2] & AMDVI_DTE_LINT0_PASS;
	out->lint1_pass = dte[2] & AMDVI_DTE_LINT1_PASS;
}

/* ---- 2.2.3 I/O page table entries ---- */

/* Access rights are the AND of IR/IW over every level of the walk (2.2.3), so directory entries
 * grant both and the leaf decides. */
uint64_t amdvi_pde(uint64_t table_pa, unsigned next_level)
{
	if (next_level < 1 || next_level > AMDVI_MAX_LEVELS || !pa_ok(table_pa, PAGE_4K, PAGE_4K))
		return 0;
	return table_pa | (uint64_t)next_level << AMDVI_PTE_NEXT_LEVEL_SHIFT | AMDVI_PTE_PR |
	       AMDVI_PTE_IR | AMDVI_PTE_IW;
}

/* NextLevel 0 ends the walk at whatever level the entry sits (2.2.3): a level 1 entry maps
 * 4 KiB, a level 2 entry 2 MiB, a level 3 entry 1 GiB. (NextLevel 7 is the other large-page
 * form, whose size is encoded in the address bits; keel does not write it.) FC forces the
 * device's accesses coherent, so a no-snoop DMA cannot read stale memory behind the caches
 * (Linux sets it on its leaves too). */
uint64_t amdvi_pte(uint64_t page_pa, bool r, bool w)
{
	if (!pa_ok(page_pa, PAGE_4K, PAGE_4K))
		return 0;
	return page_pa | AMDVI_PTE_PR | AMDVI_PTE_FC | (r ? AMDVI_PTE_IR : 0) |
	       (w ? AMDVI_PTE_IW : 0);
}

/* ---- 2.4 commands ---- */

static uint64_t opcode(unsigned op)
{
	return (uint64_t)op << AMDVI_CMD_OPCODE_SHIFT;
}

/* 2.4 COMPLETION_WAIT: S (bit 0) store, I (bit 1) interrupt, store address 51:3 in place in
 * the first quadword, the data in the second. */
#define CW_S (1ull << 0)
#define CW_I (1ull << 1)

int amdvi_cmd_completion_wait(uint64_t cmd[2], uint64_t store_pa, uint64_t data, bool interrupt)
{
	if (!IS_ALIGNED(store_pa, 8))
		return AMDVI_EALIGN;
	if (!pa_ok(store_pa, 8, 8))
		return AMDVI_ERANGE;
	cmd[0] = store_pa | CW_S | (interrupt ? CW_I : 0) | opcode(AMDVI_CMD_COMPLETION_WAIT);
	cmd[1] = data;
	return AMDVI_OK;
}

/* 2.4 INVALIDATE_DEVTAB_ENTRY: DeviceID in bits 15:0. */
void amdvi_cmd_inv_devtab_entry(uint64_t cmd[2], uint16_t devid)
{
	cmd[0] = devid | opcode(AMDVI_CMD_INVALIDATE_DEVTAB_ENTRY);
	cmd[1] = 0;
}

/* 2.4 INVALIDATE_IOMMU_PAGES: DomainID in bits 47:32; second quadword: S (bit 0, a range
 * whose size is encoded by the lowest clear address bit), PDE (bit 1), GN (bit 2, left 0:
 * no PASID), address 63:12. S=1 with address 7FFF_FFFF_FFFF_F000h means every page. */
#define INV_S (1ull << 0)
#define INV_PDE (1ull << 1)
#define INV_ALL_ADDR 0x7ffffffffffff000ull

int amdvi_cmd_inv_page(uint64_t cmd[2], uint16_t domid, uint64_t iova, bool pde)
{
	if (!IS_ALIGNED(iova, PAGE_4K))
		return AMDVI_EALIGN;
	cmd[0] = (uint64_t)domid << 32 | opcode(AMDVI_CMD_INVALIDATE_IOMMU_PAGES);
	cmd[1] = iova | (pde ? INV_PDE : 0);
	return AMDVI_OK;
}

void amdvi_cmd_inv_all_pages(uint64_t cmd[2], uint16_t domid, bool pde)
{
	cmd[0] = (uint64_t)domid << 32 | opcode(AMDVI_CMD_INVALIDATE_IOMMU_PAGES);
	cmd[1] = INV_ALL_ADDR | INV_S | (pde ? INV_PDE : 0);
}

/* 2.4 INVALIDATE_INTERRUPT_TABLE: DeviceID in bits 15:0. */
void amdvi_cmd_inv_interrupt_table(uint64_t cmd[2], uint16_t devid)
{
	cmd[0] = devid | opcode(AMDVI_CMD_INVALIDATE_INTERRUPT_TABLE);
	cmd[1] = 0;
}

/* 2.4 INVALIDATE_IOMMU_ALL: no operands; an IOMMU without EFR IASup treats the opcode as an
 * illegal command (and stops the command buffer). */
int amdvi_cmd_inv_all(uint64_t cmd[2], const struct amdvi_efr *efr)
{
	cmd[0] = 0;
	cmd[1] = 0;
	if (!efr->ia_sup)
		return AMDVI_ENOTSUP;
	cmd[0] = opcode(AMDVI_CMD_INVALIDATE_IOMMU_ALL);
	return AMDVI_OK;
}

/* ---- 2.5 event log ---- */

/* 2.5: the first quadword holds DeviceID 15:0, PASID 19:16 in bits 19:16, DomainID (or PASID
 * 15:0 when GN=1) in 47:32, the flags in 59:48 and the code in 63:60; the second the address. */
#define EV_FLAGS_SHIFT 48
#define EV_FLAG_GN (1u << 0)
#define EV_FLAG_NX (1u << 1)
#define EV_FLAG_US (1u << 2)
#define EV_FLAG_I (1u << 3)
#define EV_FLAG_PR (1u << 4)
#define EV_FLAG_RW (1u << 5)
#define EV_FLAG_PE (1u << 6)
#define EV_FLAG_RZ (1u << 7)
#define EV_FLAG_TR (1u << 8)
#define EV_TYPE_SHIFT 9 /* 2 bits */

static const char *const event_names[] = {
	[AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY] = "ILLEGAL_DEV_TABLE_ENTRY",
	[AMDVI_EV_IO_PAGE_FAULT] = "IO_PAGE_FAULT",
	[AMDVI_EV_DEV_TAB_HARDWARE_ERROR] = "DEV_TAB_HARDWARE_ERROR",
	[AMDVI_EV_PAGE_TAB_HARDWARE_ERROR] = "PAGE_TAB_HARDWARE_ERROR",
	[AMDVI_EV_ILLEGAL_COMMAND_ERROR] = "ILLEGAL_COMMAND_ERROR",
	[AMDVI_EV_COMMAND_HARDWARE_ERROR] = "COMMAND_HARDWARE_ERROR",
	[AMDVI_EV_IOTLB_INV_TIMEOUT] = "IOTLB_INV_TIMEOUT",
	[AMDVI_EV_INVALID_DEVICE_REQUEST] = "INVALID_DEVICE_REQUEST",
};

const char *amdvi_event_name(uint8_t code)
{
	if (code < ARRAY_SIZE(event_names) && event_names[code])
		return event_names[code];
	return "UNKNOWN";
}

bool amdvi_decode_event(const uint64_t raw[2], struct amdvi_event *ev)
{
	memset(ev, 0, sizeof(*ev));
	ev->raw[0] = raw[0];
	ev->raw[1] = raw[1];
	ev->code = (uint8_t)(raw[0] >> 60);
	if (ev->code >= ARRAY_SIZE(event_names) || !event_names[ev->code])
		return false;
	ev->known = true;
	ev->flags = (uint16_t)((raw[0] >> EV_FLAGS_SHIFT) & 0xfff);
	ev->gn = ev->flags & EV_FLAG_GN;
	ev->nx = ev->flags & EV_FLAG_NX;
	ev->user = ev->flags & EV_FLAG_US;
	ev->interrupt = ev->flags & EV_FLAG_I;
	ev->present = ev->flags & EV_FLAG_PR;
	ev->write = ev->flags & EV_FLAG_RW;
	ev->perm = ev->flags & EV_FLAG_PE;
	ev->rsvd = ev->flags & EV_FLAG_RZ;
	ev->translation = ev->flags & EV_FLAG_TR;
	ev->type = (uint8_t)((ev->flags >> EV_TYPE_SHIFT) & 3);
	ev->addr = raw[1];
	/* Which events name a requester, and which a domain (2.5, per event type): the
	 * command events carry only the address of the command. */
	ev->has_devid = ev->code != AMDVI_EV_ILLEGAL_COMMAND_ERROR &&
			ev->code != AMDVI_EV_COMMAND_HARDWARE_ERROR;
	if (ev->has_devid)
		ev->devid = (uint16_t)raw[0];
	if (ev->code == AMDVI_EV_IO_PAGE_FAULT || ev->code == AMDVI_EV_PAGE_TAB_HARDWARE_ERROR) {
		uint16_t lo = (uint16_t)(raw[0] >> 32);
		if (ev->gn) {
			ev->has_pasid = true;
			ev->pasid = (uint32_t)((raw[0] >> 16) & 0xf) << 16 | lo;
		} else {
			ev->has_domid = true;
			ev->domid = lo;
		}
	}
	return true;
}

int amdvi_describe_event(const struct amdvi_event *ev, char *buf, size_t size)
{
	const char *name = amdvi_event_name(ev->code);
	const char *what = ev->interrupt ? "interrupt" : ev->write ? "write" : "read";
	unsigned bus = ev->devid >> 8, dev = (ev->devid >> 3) & 0x1f, fn = ev->devid & 7;
	unsigned long long addr = ev->addr;
	char ctx[32] = "";

	if (!ev->known)
		return ksnprintf(buf, size, "unknown event code 0x%x: %016llx %016llx", ev->code,
				 (unsigned long long)ev->raw[0], (unsigned long long)ev->raw[1]);
	if (ev->has_domid)
		ksnprintf(ctx, sizeof(ctx), ", domain %u", ev->domid);
	else if (ev->has_pasid)
		ksnprintf(ctx, sizeof(ctx), ", pasid 0x%x", ev->pasid);

	switch (ev->code) {
	case AMDVI_EV_IO_PAGE_FAULT:
		return ksnprintf(buf, size, "fault from %02x:%02x.%x %s at 0x%llx (%s%s%s)", bus,
				 dev, fn, what, addr, name, ctx, ev->present ? ", present" : "");
	case AMDVI_EV_ILLEGAL_DEV_TABLE_ENTRY:
		return ksnprintf(buf, size,
				 "bad device table entry for %02x:%02x.%x %s at 0x%llx (%s)", bus,
				 dev, fn, what, addr, name);
	case AMDVI_EV_DEV_TAB_HARDWARE_ERROR:
		return ksnprintf(
			buf, size,
			"hardware error reading device table entry of %02x:%02x.%x at 0x%llx (%s)",
			bus, dev, fn, addr, name);
	case AMDVI_EV_PAGE_TAB_HARDWARE_ERROR:
		return ksnprintf(
			buf, size,
			"hardware error reading page table for %02x:%02x.%x at 0x%llx (%s%s)", bus,
			dev, fn, addr, name, ctx);
	case AMDVI_EV_ILLEGAL_COMMAND_ERROR:
		return ksnprintf(buf, size, "illegal command at 0x%llx (%s)", addr, name);
	case AMDVI_EV_COMMAND_HARDWARE_ERROR:
		return ksnprintf(buf, size, "hardware error reading command at 0x%llx (%s)", addr,
				 name);
	case AMDVI_EV_IOTLB_INV_TIMEOUT:
		return ksnprintf(
			buf, size,
			"IOTLB invalidation timed out at %02x:%02x.%x, command at 0x%llx (%s)", bus,
			dev, fn, addr, name);
	default: /* AMDVI_EV_INVALID_DEVICE_REQUEST */
		return ksnprintf(buf, size, "invalid request from %02x:%02x.%x %s at 0x%llx (%s)",
				 bus, dev, fn, what, addr, name);
	}
}

/* ---- 2.2.5 interrupt remapping ---- */

/* 2.2.5 32-bit IRTE (GAEn=0): RemapEn 0, SupIOPF 1, IntType 4:2, RqEoi 5, DM 6, GuestMode 7,
 * Destination 15:8, Vector 23:16. */
#define IRTE_REMAP_EN (1u << 0)
#define IRTE_SUP_IOPF (1u << 1)
#define IRTE_INT_TYPE_SHIFT 2
#define IRTE_RQ_EOI (1u << 5)
#define IRTE_DM (1u << 6)
#define IRTE_GUEST_MODE (1u << 7)
#define IRTE32_DEST_SHIFT 8
#define IRTE32_VECTOR_SHIFT 16

static bool irte_type_ok(const struct amdvi_irte *e)
{
	return e->int_type == AMDVI_IRTE_INT_TYPE_FIXED ||
	       e->int_type == AMDVI_IRTE_INT_TYPE_ARBITRATED;
}

/* The low byte is the same in both forms. */
static uint32_t irte_low_bits(const struct amdvi_irte *e)
{
	return (e->remap_en ? IRTE_REMAP_EN : 0) | (e->sup_iopf ? IRTE_SUP_IOPF : 0) |
	       (uint32_t)e->int_type << IRTE_INT_TYPE_SHIFT | (e->rq_eoi ? IRTE_RQ_EOI : 0) |
	       (e->dm ? IRTE_DM : 0);
}

static void irte_low_decode(uint32_t raw, struct amdvi_irte *out)
{
	out->remap_en = raw & IRTE_REMAP_EN;
	out->sup_iopf = raw & IRTE_SUP_IOPF;
	out->int_type = (uint8_t)((raw >> IRTE_INT_TYPE_SHIFT) & 7);
	out->rq_eoi = raw & IRTE_RQ_EOI;
	out->dm = raw & IRTE_DM;
	out->guest_mode = raw & IRTE_GUEST_MODE;
}

bool amdvi_irte32_encode(const struct amdvi_irte *e, uint32_t *out)
{
	if (!irte_type_ok(e) || e->dest > 0xff)
		return false;
	*out = irte_low_bits(e) | e->dest << IRTE32_DEST_SHIFT |
	       (uint32_t)e->vector << IRTE32_VECTOR_SHIFT;
	return true;
}

void amdvi_irte32_decode(uint32_t raw, struct amdvi_irte *out)
{
	memset(out, 0, sizeof(*out));
	irte_low_decode(raw, out);
	out->dest = (raw >> IRTE32_DEST_SHIFT) & 0xff;
	out->vector = (uint8_t)(raw >> IRTE32_VECTOR_SHIFT);
}

/* 2.2.5 128-bit IRTE (GAEn=1) with GuestMode=0: the low byte as above, Destination 23:0 in bits
 * 31:8, Vector in bits 71:64 (raw[1] 7:0), Destination 31:24 in bits 127:120 (raw[1] 63:56). */
#define IRTE128_DEST_LO_SHIFT 8
#define IRTE128_DEST_HI_SHIFT 56

bool amdvi_irte128_encode(const struct amdvi_irte *e, uint64_t out[2])
{
	if (!irte_type_ok(e))
		return false;
	out[0] = irte_low_bits(e) | (uint64_t)(e->dest & 0xffffff) << IRTE128_DEST_LO_SHIFT;
	out[1] = e->vector | (uint64_t)(e->dest >> 24) << IRTE128_DEST_HI_SHIFT;
	return true;
}

void amdvi_irte128_decode(const uint64_t raw[2], struct amdvi_irte *out)
{
	memset(out, 0, sizeof(*out));
	irte_low_decode((uint32_t)raw[0], out);
	out->dest = (uint32_t)((raw[0] >> IRTE128_DEST_LO_SHIFT) & 0xffffff) |
		    (uint32_t)(raw[1] >> IRTE128_DEST_HI_SHIFT) << 24;
	out->vector = (uint8_t)raw[1];
}

/* 2.2.5.1 (figure "IOMMU interrupt remapping"): MSI data 10:8 is the message type, as in the
 * IOAPIC's delivery mode; only fixed (000b) and arbitrated (001b) go through the table, at
 * offset data 10:0, so such an index is below 512 whatever the table's size. */
bool amdvi_msi_index(uint32_t msi_data, unsigned log2_entries, unsigned *index)
{
	unsigned mt = (msi_data >> 8) & 7, i = msi_data & 0x7ff;

	if (mt > AMDVI_IRTE_INT_TYPE_ARBITRATED || log2_entries > AMDVI_IRT_MAX_LOG2)
		return false;
	if (i >= 1u << log2_entries)
		return false;
	*index = i;
	return true;
}
