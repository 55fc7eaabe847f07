/* The DMAR table (dmar.h). Offsets are from the Intel VT-d spec rev 4.x, chapter 8. Multi-byte
 * fields are read with the le*() helpers: ACPI tables are packed and promise no alignment. */
#include "drivers/dmar.h"

#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/le.h"

/* 8.1 DMA Remapping Reporting Structure: the 36-byte ACPI header, host address width (N: N + 1
 * bits), flags, 10 reserved bytes, then the remapping structures. */
#define DMAR_WIDTH 36
#define DMAR_FLAGS 37
#define DMAR_STRUCTS 48
/* A width under 32 bits could not reach the registers below 4 GiB firmware puts units at; over 64
 * is no x86 address. Real tables say 39, 46, 48, 52 or 57. */
#define DMAR_MIN_WIDTH 32
#define DMAR_MAX_WIDTH 64

/* 8.2: every remapping structure starts with a 2-byte type and a 2-byte length. */
#define RS_TYPE 0
#define RS_LEN 2
#define RS_HDR 4
#define RS_DRHD 0
#define RS_RMRR 1
#define RS_ATSR 2
#define RS_RHSA 3
#define RS_ANDD 4
#define RS_SATC 5

/* 8.3 DRHD: flags 4, size 5 (bits 3:0, VT-d 3.x and later; reserved before, so 0: one page),
 * segment 6, register base 8, device scopes from 16. */
#define DRHD_FLAGS 4
#define DRHD_SIZE 5
#define DRHD_SEGMENT 6
#define DRHD_BASE 8
#define DRHD_SCOPES 16
#define DRHD_SIZE_MASK 0x0f

/* 8.4 RMRR: reserved 4, segment 6, base 8, limit 16, device scopes from 24. */
#define RMRR_SEGMENT 6
#define RMRR_BASE 8
#define RMRR_LIMIT 16
#define RMRR_SCOPES 24

/* 8.5 ATSR and 8.8 SATC share a shape: flags 4, reserved 5, segment 6, device scopes from 8. */
#define ATSR_SCOPES 8
#define SATC_SCOPES 8

/* 8.6 RHSA: reserved 4, register base 8, proximity domain 16; 20 bytes. */
#define RHSA_BASE 8
#define RHSA_DOMAIN 16
#define RHSA_LEN 20

/* 8.7 ANDD: reserved 4..6, ACPI device number 7, then the object name (at least its NUL). */
#define ANDD_MIN_LEN 9

/* 8.3.1 device scope: type 0, length 1, flags 2, reserved 3, enumeration ID 4, start bus 5, then
 * (device, function) byte pairs. The spec gives every scope at least one hop. */
#define SCOPE_TYPE 0
#define SCOPE_LEN 1
#define SCOPE_ENUM_ID 4
#define SCOPE_BUS 5
#define SCOPE_PATH 6
#define SCOPE_MIN_LEN (SCOPE_PATH + 2)
#define PCI_MAX_DEVICE 31
#define PCI_MAX_FUNCTION 7

#define PAGE_4K 4096u

const char *dmar_strerror(int err)
{
	switch (err) {
	case DMAR_OK:
		return "ok";
	case DMAR_ETRUNCATED:
		return "table truncated";
	case DMAR_EBADSIG:
		return "not a DMAR table";
	case DMAR_EBADWIDTH:
		return "bad host address width";
	case DMAR_EBADLEN:
		return "bad remapping structure length";
	case DMAR_EBADSCOPE:
		return "bad device scope";
	case DMAR_EBADADDR:
		return "bad register base address";
	case DMAR_EBADRANGE:
		return "bad reserved memory range";
	case DMAR_EDUPLICATE:
		return "units overlap or claim the same devices";
	}
	return "unknown error";
}

/* The highest address a width of DMAR_MIN_WIDTH..DMAR_MAX_WIDTH bits reaches. */
static uint64_t width_top(unsigned width)
{
	return width >= 64 ? UINT64_MAX : (1ull << width) - 1;
}

/* Where a structure's device scopes go: an array of max entries and its counts. A structure keel
 * only checks (ATSR, SATC, a unit past DMAR_MAX_UNITS) passes max 0: its scopes are still walked
 * and checked, since a bad one means the table cannot be trusted, but nothing is kept. */
struct scope_sink {
	struct dmar_scope *scopes;
	unsigned max;
	unsigned *nr;
	unsigned *dropped;
};

/* Walks the device scopes in table[off, end), end within the table (8.3.1). */
static int parse_scopes(const uint8_t *t, uint32_t off, uint32_t end, struct scope_sink sink,
			struct dmar_info *out)
{
	while (off < end) {
		const uint8_t *s = t + off;
		uint32_t len;
		unsigned hops;

		out->error_offset = off;
		/* the length byte itself must be inside the structure */
		if (end - off < 2)
			return DMAR_EBADSCOPE;
		len = s[SCOPE_LEN];
		/* A reserved type may have another layout later: it is skipped by its length, which
		 * must still move the walk forward and stay inside the structure. */
		if (s[SCOPE_TYPE] < DMAR_SCOPE_PCI_ENDPOINT ||
		    s[SCOPE_TYPE] > DMAR_SCOPE_ACPI_NAMESPACE) {
			if (len < 2 || len > end - off)
				return DMAR_EBADSCOPE;
			out->nr_scopes_skipped++;
			off += len;
			continue;
		}
		if (len < SCOPE_MIN_LEN || len > end - off || (len - SCOPE_PATH) % 2 != 0)
			return DMAR_EBADSCOPE;
		hops = (len - SCOPE_PATH) / 2;
		for (unsigned i = 0; i < hops; i++)
			if (s[SCOPE_PATH + 2 * i] > PCI_MAX_DEVICE ||
			    s[SCOPE_PATH + 2 * i + 1] > PCI_MAX_FUNCTION)
				return DMAR_EBADSCOPE;
		if (sink.max == 0) {
			/* checked only */
		} else if (hops > DMAR_MAX_PATH || *sink.nr == sink.max) {
			(*sink.dropped)++;
		} else {
			struct dmar_scope *d = &sink.scopes[(*sink.nr)++];

			d->type = s[SCOPE_TYPE];
			d->enum_id = s[SCOPE_ENUM_ID];
			d->start_bus = s[SCOPE_BUS];
			d->path_len = (uint8_t)hops;
			for (unsigned i = 0; i < hops; i++) {
				d->path[i].device = s[SCOPE_PATH + 2 * i];
				d->path[i].function = s[SCOPE_PATH + 2 * i + 1];
			}
		}
		off += len;
	}
	return DMAR_OK;
}

/* 8.3: one remapping unit at table[off, off + len), len >= DRHD_SCOPES. */
static int parse_drhd(const uint8_t *t, uint32_t off, uint32_t len, struct dmar_info *out)
{
	const uint8_t *s = t + off;
	uint64_t base = le64(s + DRHD_BASE);
	uint8_t size_log2 = s[DRHD_SIZE] & DRHD_SIZE_MASK;
	uint64_t bytes = (uint64_t)PAGE_4K << size_log2;
	uint64_t top = width_top(out->host_addr_width), last;
	uint16_t segment = le16(s + DRHD_SEGMENT);
	uint8_t flags = s[DRHD_FLAGS];
	struct dmar_unit *u;
	unsigned ignored_nr = 0, ignored_dropped = 0;
	struct scope_sink sink = { NULL, 0, &ignored_nr, &ignored_dropped };
	int err;

	/* the whole register set below the width, so that last cannot wrap */
	if (base == 0 || !IS_ALIGNED(base, PAGE_4K) || base > top || bytes - 1 > top - base)
		return DMAR_EBADADDR;
	last = base + (bytes - 1);
	/* Two units answering at the same registers, or two claiming every PCI device of a segment
	 * (8.3: at most one INCLUDE_PCI_ALL unit per segment, listed last), leave it ambiguous
	 * which unit a device is behind; keel would rather drive none. Only stored units are
	 * compared: with more than DMAR_MAX_UNITS the table is incomplete anyway. */
	for (unsigned i = 0; i < out->nr_units; i++) {
		const struct dmar_unit *o = &out->units[i];
		uint64_t olast = o->base + (((uint64_t)PAGE_4K << o->size_log2) - 1);

		if (base <= olast && o->base <= last)
			return DMAR_EDUPLICATE;
		if ((flags & DMAR_UNIT_INCLUDE_PCI_ALL) && (o->flags & DMAR_UNIT_INCLUDE_PCI_ALL) &&
		    o->segment == segment)
			return DMAR_EDUPLICATE;
	}
	if (out->nr_units == DMAR_MAX_UNITS) {
		out->nr_units_dropped++;
		return parse_scopes(t, off + DRHD_SCOPES, off + len, sink, out);
	}
	u = &out->units[out->nr_units];
	memset(u, 0, sizeof(*u));
	u->base = base;
	u->size_log2 = size_log2;
	u->flags = flags;
	u->segment = segment;
	sink = (struct scope_sink){ u->scopes, DMAR_MAX_SCOPES, &u->nr_scopes, &u->nr_dropped };
	/* the unit counts only once its scopes are good: on an error *out holds whole units only */
	err = parse_scopes(t, off + DRHD_SCOPES, off + len, sink, out);
	if (err == DMAR_OK)
		out->nr_units++;
	return err;
}

/* 8.4: one reserved memory region at table[off, off + len), len >= RMRR_SCOPES. */
static int parse_rmrr(const uint8_t *t, uint32_t off, uint32_t len, struct dmar_info *out)
{
	const uint8_t *s = t + off;
	uint64_t base = le64(s + RMRR_BASE), limit = le64(s + RMRR_LIMIT);
	uint16_t segment = le16(s + RMRR_SEGMENT);
	struct dmar_rmrr *r;
	unsigned ignored_nr = 0, ignored_dropped = 0;
	struct scope_sink sink = { NULL, 0, &ignored_nr, &ignored_dropped };
	int err;

	/* limit is the last byte: the range ends on a page boundary when its low 12 bits are all
	 * ones, which also keeps limit + 1 from being needed (it wraps for limit 2^64 - 1). */
	if (!IS_ALIGNED(base, PAGE_4K) || (limit & (PAGE_4K - 1)) != PAGE_4K - 1 || limit < base ||
	    limit > width_top(out->host_addr_width))
		return DMAR_EBADRANGE;
	if (out->nr_rmrrs == DMAR_MAX_RMRR) {
		out->nr_rmrrs_dropped++;
		return parse_scopes(t, off + RMRR_SCOPES, off + len, sink, out);
	}
	r = &out->rmrrs[out->nr_rmrrs];
	memset(r, 0, sizeof(*r));
	r->base = base;
	r->limit = limit;
	r->segment = segment;
	sink = (struct scope_sink){ r->scopes, DMAR_MAX_RMRR_SCOPES, &r->nr_scopes,
				    &r->nr_dropped };
	err = parse_scopes(t, off + RMRR_SCOPES, off + len, sink, out);
	if (err != DMAR_OK)
		return err;
	/* Overlapping RMRRs are legal (two devices' regions may share pages, and firmware splits one
	 * region per device); the identity maps a later step builds must simply agree. Counted so
	 * the boot log can say so. */
	for (unsigned i = 0; i < out->nr_rmrrs; i++) {
		const struct dmar_rmrr *o = &out->rmrrs[i];

		if (o->segment == segment && base <= o->limit && o->base <= limit)
			out->nr_rmrr_overlaps++;
	}
	out->nr_rmrrs++;
	return DMAR_OK;
}

/* 8.6: ties a unit (by register base) to a NUMA proximity domain; len >= RHSA_LEN. */
static void parse_rhsa(const uint8_t *s, struct dmar_info *out)
{
	uint64_t base = le64(s + RHSA_BASE);

	out->nr_rhsa++;
	for (unsigned i = 0; i < out->nr_units; i++)
		if (out->units[i].base == base) {
			out->units[i].has_proximity = true;
			out->units[i].proximity = le32(s + RHSA_DOMAIN);
			return;
		}
	out->nr_rhsa_unmatched++;
}

/* The smallest length a structure of each known type can have; others need only their header. */
static uint32_t min_len(uint16_t type)
{
	switch (type) {
	case RS_DRHD:
		return DRHD_SCOPES;
	case RS_RMRR:
		return RMRR_SCOPES;
	case RS_ATSR:
		return ATSR_SCOPES;
	case RS_RHSA:
		return RHSA_LEN;
	case RS_ANDD:
		return ANDD_MIN_LEN;
	case RS_SATC:
		return SATC_SCOPES;
	}
	return RS_HDR;
}

static int parse_struct(const uint8_t *t, uint32_t off, uint16_t type, uint32_t len,
			struct dmar_info *out)
{
	unsigned ignored_nr = 0, ignored_dropped = 0;
	struct scope_sink check_only = { NULL, 0, &ignored_nr, &ignored_dropped };

	switch (type) {
	case RS_DRHD:
		return parse_drhd(t, off, len, out);
	case RS_RMRR:
		return parse_rmrr(t, off, len, out);
	case RS_ATSR:
		out->nr_atsr++;
		return parse_scopes(t, off + ATSR_SCOPES, off + len, check_only, out);
	case RS_SATC:
		out->nr_satc++;
		return parse_scopes(t, off + SATC_SCOPES, off + len, check_only, out);
	case RS_RHSA:
		parse_rhsa(t + off, out);
		return DMAR_OK;
	case RS_ANDD:
		out->nr_andd++;
		return DMAR_OK;
	}
	/* 8.2: software skips remapping structure types it does not know, by their length */
	out->nr_unknown++;
	return DMAR_OK;
}

int dmar_parse(const uint8_t *t, uint32_t len, struct dmar_info *out)
{
	uint32_t table_len, off;
	unsigned width;

	memset(out, 0, sizeof(*out));
	if (len < DMAR_STRUCTS)
		return DMAR_ETRUNCATED;
	if (memcmp(t, "DMAR", 4) != 0)
		return DMAR_EBADSIG;
	table_len = le32(t + 4);
	if (table_len < DMAR_STRUCTS || table_len > len)
		return DMAR_ETRUNCATED;
	width = (unsigned)t[DMAR_WIDTH] + 1;
	if (width < DMAR_MIN_WIDTH || width > DMAR_MAX_WIDTH)
		return DMAR_EBADWIDTH;
	out->host_addr_width = (uint8_t)width;
	out->flags = t[DMAR_FLAGS];

	/* The spec wants the structures in type order (8.2); keel does not depend on it, except
	 * that an RHSA can only name a unit listed before it, which that order gives. */
	for (off = DMAR_STRUCTS; off < table_len;) {
		uint16_t type;
		uint32_t slen;
		int err;

		out->error_offset = off;
		/* a header cut short by the table's end, a length under the type's minimum (0
		 * included: the walk always moves forward) or one past the end are all fatal: what
		 * follows cannot be found */
		if (table_len - off < RS_HDR)
			return DMAR_EBADLEN;
		type = le16(t + off + RS_TYPE);
		slen = le16(t + off + RS_LEN);
		if (slen < min_len(type) || slen > table_len - off)
			return DMAR_EBADLEN;
		err = parse_struct(t, off, type, slen, out);
		if (err != DMAR_OK)
			return err;
		off += slen;
	}
	out->error_offset = 0;
	return DMAR_OK;
}

bool dmar_complete(const struct dmar_info *info)
{
	if (info->nr_units_dropped || info->nr_rmrrs_dropped)
		return false;
	for (unsigned i = 0; i < info->nr_units; i++)
		if (info->units[i].nr_dropped)
			return false;
	for (unsigned i = 0; i < info->nr_rmrrs; i++)
		if (info->rmrrs[i].nr_dropped)
			return false;
	return true;
}

int dmar_scope_bdf(const struct dmar_scope *scope, uint16_t *bdf)
{
	if (scope->path_len != 1)
		return DMAR_BDF_NEEDS_WALK;
	/* PCIe Base 4.0, 2.2.6.2: a requester ID is bus 15:8, device 7:3, function 2:0 */
	*bdf = (uint16_t)(scope->start_bus << 8 | (scope->path[0].device & 0x1f) << 3 |
			  (scope->path[0].function & 0x7));
	return DMAR_BDF_DIRECT;
}

int dmar_describe_header(const struct dmar_info *info, char *buf, size_t size)
{
	unsigned units = info->nr_units + info->nr_units_dropped;
	unsigned rmrrs = info->nr_rmrrs + info->nr_rmrrs_dropped;

	return ksnprintf(
		buf, size, "VT-d: %u-bit DMA addresses, %u unit%s, %u reserved range%s%s%s%s",
		info->host_addr_width, units, units == 1 ? "" : "s", rmrrs, rmrrs == 1 ? "" : "s",
		(info->flags & DMAR_FLAG_INTR_REMAP) ? ", interrupt remapping" : "",
		(info->flags & DMAR_FLAG_X2APIC_OPT_OUT) ? ", x2APIC opt-out" : "",
		(info->flags & DMAR_FLAG_DMA_CTRL_PLATFORM_OPT_IN) ? ", DMA protection opt-in"
								   : "");
}

/* ", N device scope(s)" and ", N not recorded" when some were dropped. */
static int describe_scopes(char *buf, size_t size, unsigned nr, unsigned dropped)
{
	if (dropped)
		return ksnprintf(buf, size, "%u device scope%s, %u not recorded", nr + dropped,
				 nr + dropped == 1 ? "" : "s", dropped);
	return ksnprintf(buf, size, "%u device scope%s", nr, nr == 1 ? "" : "s");
}

int dmar_describe_unit(const struct dmar_unit *u, char *buf, size_t size)
{
	char scopes[48];

	/* An INCLUDE_PCI_ALL unit's scopes only name its IOAPICs and HPETs (8.3); the line says
	 * what matters for passthrough: every PCI device of the segment is behind it. */
	if (u->flags & DMAR_UNIT_INCLUDE_PCI_ALL)
		return ksnprintf(buf, size, "VT-d unit at 0x%llx, segment %u, all PCI devices",
				 (unsigned long long)u->base, (unsigned)u->segment);
	describe_scopes(scopes, sizeof(scopes), u->nr_scopes, u->nr_dropped);
	return ksnprintf(buf, size, "VT-d unit at 0x%llx, segment %u, %s",
			 (unsigned long long)u->base, (unsigned)u->segment, scopes);
}

int dmar_describe_rmrr(const struct dmar_rmrr *r, char *buf, size_t size)
{
	char scopes[48];

	describe_scopes(scopes, sizeof(scopes), r->nr_scopes, r->nr_dropped);
	return ksnprintf(buf, size, "VT-d reserved memory 0x%llx-0x%llx, segment %u, %s",
			 (unsigned long long)r->base, (unsigned long long)r->limit,
			 (unsigned)r->segment, scopes);
}
