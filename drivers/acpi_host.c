/* The host's ACPI tables (acpi_host.h). Offsets are from ACPI 6.4, chapter 5 (tables) and chapter
 * 20 (AML). Every multi-byte field is read with the le*() helpers: firmware tables are packed and
 * carry no alignment promise. */
#include "drivers/acpi_host.h"

#include "lib/acpi_aml.h"
#include "lib/kstring.h"
#include "lib/le.h"

#define SDT_HEADER_LEN 36 /* 5.2.6 */

/* 5.2.5.3 RSDP */
#define RSDP_V1_LEN 20
#define RSDP_REVISION 15
#define RSDP_RSDT 16
#define RSDP_LENGTH 20
#define RSDP_XSDT 24
#define RSDP_V2_LEN 36
#define RSDP_MAX_LEN 4096 /* generous for future growth; no RSDP is anywhere near */

/* 5.2.12 MADT */
#define MADT_LAPIC_ADDR 36
#define MADT_FLAGS 40
#define MADT_ENTRIES 44
#define MADT_LAPIC 0
#define MADT_IOAPIC 1
#define MADT_ISO 2
#define MADT_LAPIC_ADDR_OVERRIDE 5
#define MADT_X2APIC 9
#define MADT_CPU_ENABLED (1u << 0)
#define MADT_CPU_ONLINE_CAPABLE (1u << 1) /* MADT revision 5 (ACPI 6.3) and later */

/* 5.2.9 FADT */
#define FADT_FIRMWARE_CTRL 36
#define FADT_DSDT 40
#define FADT_SCI_INT 46
#define FADT_SMI_CMD 48
#define FADT_ACPI_ENABLE 52
#define FADT_PM1A_EVT_BLK 56
#define FADT_PM1B_EVT_BLK 60
#define FADT_PM1A_CNT_BLK 64
#define FADT_PM1B_CNT_BLK 68
#define FADT_PM_TMR_BLK 76
#define FADT_PM1_EVT_LEN 88
#define FADT_PM1_CNT_LEN 89
#define FADT_PM_TMR_LEN 91
#define FADT_IAPC_BOOT_ARCH 109
#define FADT_FLAGS 112
#define FADT_RESET_REG 116
#define FADT_RESET_VALUE 128
#define FADT_X_FIRMWARE_CTRL 132
#define FADT_X_DSDT 140
#define FADT_X_PM1A_EVT_BLK 148
#define FADT_X_PM1B_EVT_BLK 160
#define FADT_X_PM1A_CNT_BLK 172
#define FADT_X_PM1B_CNT_BLK 184
#define FADT_X_PM_TMR_BLK 208
#define FADT_SLEEP_CONTROL_REG 244
#define FADT_SLEEP_STATUS_REG 256
#define GAS_LEN 12

/* PCI Firmware Specification 3.0, 4.1.2 MCFG: 8 reserved bytes after the header, then 16-byte
 * allocation structures (base address 8, segment group 2, start bus 1, end bus 1, reserved 4). */
#define MCFG_ENTRIES 44
#define MCFG_ENTRY_LEN 16
#define MCFG_MAX_PHYS (1ull << 52) /* the architectural limit on physical addresses */

static uint8_t sum8(const uint8_t *p, size_t len)
{
	uint8_t s = 0;

	for (size_t i = 0; i < len; i++)
		s = (uint8_t)(s + p[i]);
	return s;
}

const char *acpi_host_strerror(int err)
{
	switch (err) {
	case ACPI_HOST_OK:
		return "ok";
	case ACPI_HOST_ENOMAP:
		return "table not readable";
	case ACPI_HOST_EBADSIG:
		return "bad signature";
	case ACPI_HOST_EBADSUM:
		return "bad checksum";
	case ACPI_HOST_EBADLEN:
		return "bad length";
	case ACPI_HOST_ENOTFOUND:
		return "not found";
	case ACPI_HOST_EMALFORMED:
		return "malformed contents";
	}
	return "unknown error";
}

/* The map callback, refusing ranges that wrap around the address space before it sees them. */
static const uint8_t *map(acpi_map_fn fn, void *ctx, uint64_t phys, size_t len)
{
	if (len == 0 || phys > UINT64_MAX - (len - 1))
		return NULL;
	return fn(ctx, phys, len);
}

const uint8_t *acpi_host_map_table(const struct acpi_host *h, uint64_t phys, const char *sig,
				   uint32_t *len, int *err)
{
	const uint8_t *t = map(h->map, h->ctx, phys, SDT_HEADER_LEN);
	uint32_t n;
	int e;

	if (!t) {
		e = ACPI_HOST_ENOMAP;
		goto fail;
	}
	n = le32(t + 4);
	if (sig && memcmp(t, sig, 4) != 0) {
		e = ACPI_HOST_EBADSIG;
		goto fail;
	}
	if (n < SDT_HEADER_LEN || n > ACPI_HOST_MAX_TABLE_LEN) {
		e = ACPI_HOST_EBADLEN;
		goto fail;
	}
	/* From here on only the full mapping is read, and only within the n bytes checked. */
	t = map(h->map, h->ctx, phys, n);
	if (!t) {
		e = ACPI_HOST_ENOMAP;
		goto fail;
	}
	if (sum8(t, n) != 0) {
		e = ACPI_HOST_EBADSUM;
		goto fail;
	}
	if (len)
		*len = n;
	if (err)
		*err = ACPI_HOST_OK;
	return t;
fail:
	if (err)
		*err = e;
	return NULL;
}

/* Records the entries of the RSDT (4-byte) or XSDT (8-byte) at phys. */
static int root_init(struct acpi_host *h, uint64_t phys, bool xsdt)
{
	unsigned entsize = xsdt ? 8 : 4;
	uint32_t len, n;
	const uint8_t *t;
	int err;

	t = acpi_host_map_table(h, phys, xsdt ? "XSDT" : "RSDT", &len, &err);
	if (!t)
		return err;
	h->xsdt = xsdt;
	h->root_phys = phys;
	h->nr_tables = 0;
	h->nr_dropped = 0;
	/* trailing bytes that do not make a whole entry are ignored */
	n = (len - SDT_HEADER_LEN) / entsize;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + SDT_HEADER_LEN + (size_t)i * entsize;
		uint64_t addr = xsdt ? le64(e) : le32(e);
		bool dup = false;

		if (h->nr_tables == ACPI_HOST_MAX_TABLES) {
			h->nr_dropped += n - i;
			break;
		}
		for (unsigned j = 0; j < h->nr_tables && !dup; j++)
			dup = h->tables[j] == addr;
		if (addr == 0)
			h->nr_dropped++;
		else if (!dup)
			h->tables[h->nr_tables++] = addr;
	}
	return ACPI_HOST_OK;
}

/* r holds avail bytes of the RSDP. Picks the XSDT when the revision 2 part is valid and the XSDT
 * itself is, else falls back to the RSDT (firmware with a broken XSDT exists). */
static int rsdp_parse(struct acpi_host *h, const uint8_t *r, size_t avail)
{
	uint32_t rsdt;
	int err = ACPI_HOST_ENOTFOUND;

	if (avail < RSDP_V1_LEN)
		return ACPI_HOST_EBADLEN;
	if (memcmp(r, "RSD PTR ", 8) != 0)
		return ACPI_HOST_EBADSIG;
	if (sum8(r, RSDP_V1_LEN) != 0)
		return ACPI_HOST_EBADSUM;
	h->rsdp_revision = r[RSDP_REVISION];
	memcpy(h->oem_id, r + 9, 6);
	h->oem_id[6] = 0;
	rsdt = le32(r + RSDP_RSDT);

	if (h->rsdp_revision >= 2 && avail >= RSDP_V2_LEN) {
		uint32_t len = le32(r + RSDP_LENGTH);
		uint64_t xsdt = le64(r + RSDP_XSDT);

		if (len < RSDP_V2_LEN || len > avail)
			err = ACPI_HOST_EBADLEN;
		else if (sum8(r, len) != 0)
			err = ACPI_HOST_EBADSUM;
		else if (xsdt != 0 && (err = root_init(h, xsdt, true)) == ACPI_HOST_OK)
			return ACPI_HOST_OK;
	}
	if (rsdt != 0)
		return root_init(h, rsdt, false);
	return err;
}

static void host_init(struct acpi_host *h, acpi_map_fn fn, void *ctx)
{
	memset(h, 0, sizeof(*h));
	h->map = fn;
	h->ctx = ctx;
}

int acpi_host_init(struct acpi_host *h, acpi_map_fn fn, void *ctx, uint64_t rsdp_phys)
{
	const uint8_t *r;
	size_t avail = RSDP_V1_LEN;

	host_init(h, fn, ctx);
	h->rsdp_phys = rsdp_phys;
	r = map(fn, ctx, rsdp_phys, RSDP_V1_LEN);
	if (!r)
		return ACPI_HOST_ENOMAP;
	/* map as much as the revision 2 structure says it has, when it is sane and readable */
	if (r[RSDP_REVISION] >= 2) {
		const uint8_t *r2 = map(fn, ctx, rsdp_phys, RSDP_V2_LEN);
		uint32_t len = r2 ? le32(r2 + RSDP_LENGTH) : 0;

		if (len >= RSDP_V2_LEN && len <= RSDP_MAX_LEN) {
			const uint8_t *full = map(fn, ctx, rsdp_phys, len);
			if (full) {
				r = full;
				avail = len;
			}
		}
	}
	return rsdp_parse(h, r, avail);
}

int acpi_host_init_copy(struct acpi_host *h, acpi_map_fn fn, void *ctx, const void *rsdp,
			size_t len)
{
	host_init(h, fn, ctx);
	return rsdp_parse(h, rsdp, len);
}

static bool rsdp_at(acpi_map_fn fn, void *ctx, uint64_t phys)
{
	const uint8_t *r = map(fn, ctx, phys, RSDP_V1_LEN);

	return r && memcmp(r, "RSD PTR ", 8) == 0 && sum8(r, RSDP_V1_LEN) == 0;
}

int acpi_host_find_rsdp(acpi_map_fn fn, void *ctx, uint64_t *rsdp_phys)
{
	const uint8_t *bda = map(fn, ctx, 0x40E, 2);
	uint64_t ebda = bda ? (uint64_t)le16(bda) << 4 : 0;

	/* 5.2.5.1: the first KiB of the EBDA, then the BIOS read-only area 0xE0000-0xFFFFF */
	if (ebda >= 0x400 && ebda < 0xA0000)
		for (uint64_t a = ebda; a < ebda + 1024; a += 16)
			if (rsdp_at(fn, ctx, a)) {
				*rsdp_phys = a;
				return ACPI_HOST_OK;
			}
	for (uint64_t a = 0xE0000; a < 0x100000; a += 16)
		if (rsdp_at(fn, ctx, a)) {
			*rsdp_phys = a;
			return ACPI_HOST_OK;
		}
	return ACPI_HOST_ENOTFOUND;
}

uint64_t acpi_host_find_table(const struct acpi_host *h, const char *sig, unsigned index)
{
	for (unsigned i = 0; i < h->nr_tables && i < ACPI_HOST_MAX_TABLES; i++) {
		if (!acpi_host_map_table(h, h->tables[i], sig, NULL, NULL))
			continue;
		if (index-- == 0)
			return h->tables[i];
	}
	return 0;
}

/* Maps the first valid root-table entry with signature sig. */
static const uint8_t *find_and_map(const struct acpi_host *h, const char *sig, uint32_t *len)
{
	uint64_t phys = acpi_host_find_table(h, sig, 0);

	return phys ? acpi_host_map_table(h, phys, sig, len, NULL) : NULL;
}

/* ---- MADT ---- */

static void madt_add_cpu(struct acpi_host_madt *out, uint32_t apic_id, uint32_t uid, uint32_t flags,
			 bool x2apic)
{
	for (unsigned i = 0; i < out->nr_cpus; i++)
		if (out->cpus[i].apic_id == apic_id) {
			out->nr_dropped++;
			return;
		}
	if (out->nr_cpus == ACPI_HOST_MAX_CPUS) {
		out->nr_dropped++;
		return;
	}
	out->cpus[out->nr_cpus++] = (struct acpi_host_cpu){
		.apic_id = apic_id,
		.uid = uid,
		.enabled = flags & MADT_CPU_ENABLED,
		.online_capable = out->revision >= 5 && (flags & MADT_CPU_ONLINE_CAPABLE),
		.x2apic = x2apic,
	};
}

/* One interrupt controller structure (5.2.12); e points at len >= 2 bytes. */
static void madt_entry(struct acpi_host_madt *out, const uint8_t *e, uint8_t len)
{
	static const uint8_t min_len[] = {
		[MADT_LAPIC] = 8,   [MADT_IOAPIC] = 12,
		[MADT_ISO] = 10,    [MADT_LAPIC_ADDR_OVERRIDE] = 12,
		[MADT_X2APIC] = 16,
	};
	uint8_t type = e[0];

	if (type >= ARRAY_SIZE(min_len) || min_len[type] == 0)
		return; /* a structure keel has no use for */
	if (len < min_len[type]) {
		out->nr_short++;
		return;
	}
	switch (type) {
	case MADT_LAPIC: /* 5.2.12.2: UID, APIC ID, flags; ID 0xFF is no processor */
		if (e[3] == 0xFF)
			out->nr_dropped++;
		else
			madt_add_cpu(out, e[3], e[2], le32(e + 4), false);
		break;
	case MADT_X2APIC: /* 5.2.12.12: reserved, x2APIC ID, flags, UID */
		if (le32(e + 4) == 0xFFFFFFFF)
			out->nr_dropped++;
		else
			madt_add_cpu(out, le32(e + 4), le32(e + 12), le32(e + 8), true);
		break;
	case MADT_IOAPIC: /* 5.2.12.3: ID, reserved, address, GSI base */
		if (out->nr_ioapics == ACPI_HOST_MAX_IOAPICS) {
			out->nr_dropped++;
			break;
		}
		out->ioapics[out->nr_ioapics++] = (struct acpi_host_ioapic){
			.id = e[2], .addr = le32(e + 4), .gsi_base = le32(e + 8)
		};
		break;
	case MADT_ISO: /* 5.2.12.5: bus, source, GSI, MPS INTI flags */
		if (out->nr_overrides == ACPI_HOST_MAX_OVERRIDES) {
			out->nr_dropped++;
			break;
		}
		out->overrides[out->nr_overrides++] = (struct acpi_host_override){
			.bus = e[2], .source = e[3], .gsi = le32(e + 4), .flags = le16(e + 8)
		};
		break;
	case MADT_LAPIC_ADDR_OVERRIDE: /* 5.2.12.8: reserved, 64-bit address */
		out->lapic_addr = le64(e + 4);
		break;
	}
}

int acpi_host_parse_madt(const struct acpi_host *h, struct acpi_host_madt *out)
{
	uint32_t len, off;
	const uint8_t *t;

	memset(out, 0, sizeof(*out));
	t = find_and_map(h, "APIC", &len);
	if (!t)
		return ACPI_HOST_ENOTFOUND;
	if (len < MADT_ENTRIES)
		return ACPI_HOST_EBADLEN;
	out->revision = t[8];
	out->lapic_addr = le32(t + MADT_LAPIC_ADDR);
	out->flags = le32(t + MADT_FLAGS);
	for (off = MADT_ENTRIES; off < len;) {
		/* an entry shorter than its own header or longer than what is left ends the walk:
		 * there is no next entry to trust (and length 0 would never advance) */
		if (len - off < 2 || t[off + 1] < 2 || t[off + 1] > len - off)
			return ACPI_HOST_EMALFORMED;
		madt_entry(out, t + off, t[off + 1]);
		off += t[off + 1];
	}
	return ACPI_HOST_OK;
}

/* ---- FADT ---- */

static struct acpi_host_gas gas_read(const uint8_t *p)
{
	return (struct acpi_host_gas){ .space_id = p[0],
				       .bit_width = p[1],
				       .bit_offset = p[2],
				       .access_size = p[3],
				       .address = le64(p + 4) };
}

/* One fixed register block: the X_ GAS when the FADT is long enough to hold it and it names an
 * I/O port or memory address, else the 32-bit port with its length (5.2.9: "X_PM1a_CNT_BLK ...
 * If this field contains a nonzero value, the PM1a_CNT_BLK field must be ignored"). */
static struct acpi_host_gas fixed_reg(const uint8_t *t, uint32_t len, uint32_t port_off,
				      uint32_t x_off, uint8_t block_len)
{
	if (x_off + GAS_LEN <= len) {
		struct acpi_host_gas g = gas_read(t + x_off);
		bool usable = (g.space_id == ACPI_GAS_IO && g.address <= 0xFFFF) ||
			      g.space_id == ACPI_GAS_MEMORY;

		if (g.address != 0 && usable) {
			if (g.bit_width == 0)
				g.bit_width = (uint8_t)(block_len * 8);
			return g;
		}
	}
	uint32_t port = le32(t + port_off);
	if (port == 0 || port > 0xFFFF)
		return (struct acpi_host_gas){ 0 };
	return (struct acpi_host_gas){ .space_id = ACPI_GAS_IO,
				       .bit_width = (uint8_t)(block_len * 8),
				       .address = port };
}

int acpi_host_parse_fadt(const struct acpi_host *h, struct acpi_host_fadt *out)
{
	uint32_t len;
	const uint8_t *t;

	memset(out, 0, sizeof(*out));
	t = find_and_map(h, "FACP", &len);
	if (!t)
		return ACPI_HOST_ENOTFOUND;
	/* the ACPI 1.0 FADT ends after Flags; everything later is read only when present */
	if (len < FADT_FLAGS + 4)
		return ACPI_HOST_EBADLEN;
	out->revision = t[8];
	out->length = len;
	out->flags = le32(t + FADT_FLAGS);
	out->hw_reduced = out->flags & ACPI_FADT_HW_REDUCED;
	out->iapc_boot_arch = le16(t + FADT_IAPC_BOOT_ARCH);
	out->sci_int = le16(t + FADT_SCI_INT);
	out->smi_cmd = le32(t + FADT_SMI_CMD);
	out->acpi_enable = t[FADT_ACPI_ENABLE];
	out->facs = len >= FADT_X_FIRMWARE_CTRL + 8 ? le64(t + FADT_X_FIRMWARE_CTRL) : 0;
	if (!out->facs)
		out->facs = le32(t + FADT_FIRMWARE_CTRL);
	out->dsdt = len >= FADT_X_DSDT + 8 ? le64(t + FADT_X_DSDT) : 0;
	if (!out->dsdt)
		out->dsdt = le32(t + FADT_DSDT);

	out->pm1_evt_len = t[FADT_PM1_EVT_LEN];
	out->pm1_cnt_len = t[FADT_PM1_CNT_LEN];
	out->pm_tmr_len = t[FADT_PM_TMR_LEN];
	/* PM1 event blocks hold status then enable, each half the block (4.8.3.1) */
	out->pm1a_evt = fixed_reg(t, len, FADT_PM1A_EVT_BLK, FADT_X_PM1A_EVT_BLK, out->pm1_evt_len);
	out->pm1b_evt = fixed_reg(t, len, FADT_PM1B_EVT_BLK, FADT_X_PM1B_EVT_BLK, out->pm1_evt_len);
	out->pm1a_cnt = fixed_reg(t, len, FADT_PM1A_CNT_BLK, FADT_X_PM1A_CNT_BLK, out->pm1_cnt_len);
	out->pm1b_cnt = fixed_reg(t, len, FADT_PM1B_CNT_BLK, FADT_X_PM1B_CNT_BLK, out->pm1_cnt_len);
	out->pm_tmr = fixed_reg(t, len, FADT_PM_TMR_BLK, FADT_X_PM_TMR_BLK, out->pm_tmr_len);

	if (len >= FADT_RESET_VALUE + 1) {
		out->reset_reg = gas_read(t + FADT_RESET_REG);
		out->reset_value = t[FADT_RESET_VALUE];
		out->reset_supported =
			(out->flags & ACPI_FADT_RESET_REG_SUP) && out->reset_reg.address != 0;
	}
	if (len >= FADT_SLEEP_STATUS_REG + GAS_LEN) {
		out->sleep_control = gas_read(t + FADT_SLEEP_CONTROL_REG);
		out->sleep_status = gas_read(t + FADT_SLEEP_STATUS_REG);
	}
	return ACPI_HOST_OK;
}

/* ---- MCFG ---- */

static bool mcfg_overlaps(const struct acpi_host_mcfg *m, const struct acpi_host_mcfg_alloc *a)
{
	for (unsigned i = 0; i < m->nr; i++) {
		const struct acpi_host_mcfg_alloc *b = &m->alloc[i];

		if (b->segment == a->segment && a->bus_start <= b->bus_end &&
		    b->bus_start <= a->bus_end)
			return true;
	}
	return false;
}

int acpi_host_parse_mcfg(const struct acpi_host *h, struct acpi_host_mcfg *out)
{
	uint32_t len, n;
	const uint8_t *t;

	memset(out, 0, sizeof(*out));
	t = find_and_map(h, "MCFG", &len);
	if (!t)
		return ACPI_HOST_ENOTFOUND;
	if (len < MCFG_ENTRIES)
		return ACPI_HOST_EBADLEN;
	n = (len - MCFG_ENTRIES) / MCFG_ENTRY_LEN;
	for (uint32_t i = 0; i < n; i++) {
		const uint8_t *e = t + MCFG_ENTRIES + (size_t)i * MCFG_ENTRY_LEN;
		struct acpi_host_mcfg_alloc a = { .base = le64(e),
						  .segment = le16(e + 8),
						  .bus_start = e[10],
						  .bus_end = e[11] };
		/* the range holds 1 MiB per bus up to bus_end, counted from bus 0 at base; base is
		 * below 2^52 here, so the sum cannot wrap */
		bool sane = a.bus_start <= a.bus_end && a.base != 0 && IS_ALIGNED(a.base, MiB) &&
			    a.base < MCFG_MAX_PHYS &&
			    a.base + ((uint64_t)a.bus_end + 1) * MiB <= MCFG_MAX_PHYS;

		if (!sane || out->nr == ACPI_HOST_MAX_MCFG || mcfg_overlaps(out, &a))
			out->nr_dropped++;
		else
			out->alloc[out->nr++] = a;
	}
	return ACPI_HOST_OK;
}

/* ---- \_S5 ---- */

unsigned acpi_aml_pkglen_decode(const uint8_t *p, size_t len, uint32_t *value)
{
	unsigned follow;
	uint32_t v;

	if (len < 1)
		return 0;
	follow = p[0] >> 6;
	if (follow == 0) {
		*value = p[0] & 0x3F;
		return 1;
	}
	/* 20.2.4: with following bytes, bits 5:4 of the lead byte are reserved and zero */
	if ((p[0] & 0x30) || len < follow + 1)
		return 0;
	v = p[0] & 0x0F;
	for (unsigned i = 1; i <= follow; i++)
		v |= (uint32_t)p[i] << (4 + 8 * (i - 1));
	*value = v;
	return follow + 1;
}

/* ComputationalData that is an integer constant (20.2.3) at p[*pos], not past end. */
static bool aml_int(const uint8_t *p, size_t *pos, size_t end, uint64_t *v)
{
	unsigned n;

	if (*pos >= end)
		return false;
	switch (p[*pos]) {
	case AML_ZERO_OP:
		*v = 0;
		*pos += 1;
		return true;
	case AML_ONE_OP:
		*v = 1;
		*pos += 1;
		return true;
	case AML_ONES_OP:
		*v = ~0ull;
		*pos += 1;
		return true;
	case AML_BYTE_PREFIX:
		n = 1;
		break;
	case AML_WORD_PREFIX:
		n = 2;
		break;
	case AML_DWORD_PREFIX:
		n = 4;
		break;
	case AML_QWORD_PREFIX:
		n = 8;
		break;
	default:
		return false;
	}
	if (end - *pos < 1 + n)
		return false;
	*v = 0;
	for (unsigned i = 0; i < n; i++)
		*v |= (uint64_t)p[*pos + 1 + i] << (8 * i);
	*pos += 1 + n;
	return true;
}

/* DefPackage := PackageOp PkgLength NumElements PackageElementList (20.2.5.4), at p[0..len). */
static bool s5_package(const uint8_t *p, size_t len, uint8_t *a, uint8_t *b)
{
	uint32_t pkglen;
	unsigned k;
	size_t pos, end;
	uint64_t v0, v1;
	uint8_t count;

	if (len < 1 || p[0] != AML_PACKAGE_OP)
		return false;
	k = acpi_aml_pkglen_decode(p + 1, len - 1, &pkglen);
	/* the package runs from its PkgLength for pkglen bytes, which include the PkgLength */
	if (k == 0 || pkglen < k + 1 || pkglen > len - 1)
		return false;
	end = 1 + (size_t)pkglen;
	pos = 1 + k;
	count = p[pos++];
	if (count == 0 || !aml_int(p, &pos, end, &v0))
		return false;
	if (count == 1) {
		*a = (uint8_t)v0;
		*b = (uint8_t)(v0 >> 8);
		return true;
	}
	if (!aml_int(p, &pos, end, &v1))
		return false;
	*a = (uint8_t)v0;
	*b = (uint8_t)v1;
	return true;
}

int acpi_host_find_s5_aml(const uint8_t *aml, size_t len, uint8_t *slp_typa, uint8_t *slp_typb)
{
	for (size_t i = 1; i + 4 <= len; i++) {
		size_t j = i;

		if (memcmp(aml + i, "_S5_", 4) != 0)
			continue;
		/* DefName := NameOp NameString, the NameString "_S5_", "\_S5_" or "^..._S5_" */
		if (aml[j - 1] == '\\')
			j--;
		else
			while (j > 0 && aml[j - 1] == '^')
				j--;
		if (j == 0 || aml[j - 1] != AML_NAME_OP)
			continue;
		if (s5_package(aml + i + 4, len - i - 4, slp_typa, slp_typb))
			return ACPI_HOST_OK;
	}
	return ACPI_HOST_ENOTFOUND;
}

/* \_S5 in the definition block (DSDT or SSDT) at phys. */
static int s5_in_table(const struct acpi_host *h, uint64_t phys, const char *sig, uint8_t *a,
		       uint8_t *b)
{
	uint32_t len;
	int err;
	const uint8_t *t = acpi_host_map_table(h, phys, sig, &len, &err);

	if (!t)
		return err;
	return acpi_host_find_s5_aml(t + SDT_HEADER_LEN, len - SDT_HEADER_LEN, a, b);
}

int acpi_host_get_s5(const struct acpi_host *h, const struct acpi_host_fadt *fadt,
		     uint8_t *slp_typa, uint8_t *slp_typb)
{
	int err = ACPI_HOST_ENOTFOUND;

	if (fadt->dsdt) {
		err = s5_in_table(h, fadt->dsdt, "DSDT", slp_typa, slp_typb);
		if (err == ACPI_HOST_OK)
			return err;
	}
	for (unsigned i = 0; i < h->nr_tables && i < ACPI_HOST_MAX_TABLES; i++)
		if (s5_in_table(h, h->tables[i], "SSDT", slp_typa, slp_typb) == ACPI_HOST_OK)
			return ACPI_HOST_OK;
	return err;
}
