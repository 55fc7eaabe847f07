/* The DMAR parser (drivers/dmar.c) over a table the fuzzer writes.
 *
 * Input: a 1-byte preamble, then the table. Preamble bit 0 clear: the harness writes "DMAR" and
 * the input's own length over the table's signature and length field (when the table has them),
 * so that mutations spend themselves on the structures; set: both are left as the input has them.
 * Bit 1 set: the parser is told the buffer holds one byte less than it does, so a length field
 * that covers the whole input points one byte past what may be read. The table lies in an
 * allocation of exactly its length, so ASan sees any read past it.
 *
 * Checked: no crash or sanitizer report; on success a width of 32..64 bits, counts within the
 * arrays, units' register sets 4 KiB aligned, non-zero, below the width and not overlapping, at
 * most one INCLUDE_PCI_ALL unit per segment, RMRRs page aligned at both ends and below the width,
 * every stored scope of a known type with a 1..DMAR_MAX_PATH hop path of valid devices and
 * functions, dmar_scope_bdf agreeing with the path, dmar_complete agreeing with the counts; on
 * an error a known error string and an error offset inside the table; in both cases the
 * description lines NUL-terminated, printable and as long as their return values say. */
#include "drivers/dmar.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_TABLE (64u * 1024u)

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_line(const char *buf, size_t size, int n)
{
	size_t len = kstrnlen(buf, size);

	check(len < size);
	check(n >= 0 && (size_t)n >= len && ((size_t)n < size) == ((size_t)n == len));
	for (size_t i = 0; i < len; i++)
		check(buf[i] >= 0x20 && buf[i] <= 0x7e);
}

static void check_scopes(const struct dmar_scope *s, unsigned nr)
{
	for (unsigned i = 0; i < nr; i++) {
		uint16_t bdf = 0xffff;
		int r;

		check(s[i].type >= DMAR_SCOPE_PCI_ENDPOINT &&
		      s[i].type <= DMAR_SCOPE_ACPI_NAMESPACE);
		check(s[i].path_len >= 1 && s[i].path_len <= DMAR_MAX_PATH);
		for (unsigned h = 0; h < s[i].path_len; h++)
			check(s[i].path[h].device < 32 && s[i].path[h].function < 8);
		r = dmar_scope_bdf(&s[i], &bdf);
		if (s[i].path_len == 1)
			check(r == DMAR_BDF_DIRECT &&
			      bdf == (uint16_t)(s[i].start_bus << 8 | s[i].path[0].device << 3 |
						s[i].path[0].function));
		else
			check(r == DMAR_BDF_NEEDS_WALK && bdf == 0xffff);
	}
}

static void check_info(const struct dmar_info *info)
{
	uint64_t top =
		info->host_addr_width == 64 ? UINT64_MAX : (1ull << info->host_addr_width) - 1;
	bool dropped = info->nr_units_dropped || info->nr_rmrrs_dropped;

	check(info->host_addr_width >= 32 && info->host_addr_width <= 64);
	check(info->nr_units <= DMAR_MAX_UNITS && info->nr_rmrrs <= DMAR_MAX_RMRR);
	check(info->nr_units_dropped == 0 || info->nr_units == DMAR_MAX_UNITS);
	check(info->nr_rmrrs_dropped == 0 || info->nr_rmrrs == DMAR_MAX_RMRR);
	check(info->nr_rhsa_unmatched <= info->nr_rhsa);
	for (unsigned i = 0; i < info->nr_units; i++) {
		const struct dmar_unit *u = &info->units[i];
		uint64_t last = u->base + ((4096ull << u->size_log2) - 1);

		check(u->base != 0 && (u->base & 0xfff) == 0 && u->size_log2 <= 15);
		check(last > u->base && last <= top);
		check(u->nr_scopes <= DMAR_MAX_SCOPES);
		dropped |= u->nr_dropped != 0;
		check_scopes(u->scopes, u->nr_scopes);
		for (unsigned j = 0; j < i; j++) {
			const struct dmar_unit *o = &info->units[j];
			uint64_t olast = o->base + ((4096ull << o->size_log2) - 1);

			check(last < o->base || olast < u->base);
			check(!(u->flags & o->flags & DMAR_UNIT_INCLUDE_PCI_ALL) ||
			      u->segment != o->segment);
		}
	}
	for (unsigned i = 0; i < info->nr_rmrrs; i++) {
		const struct dmar_rmrr *r = &info->rmrrs[i];

		check((r->base & 0xfff) == 0 && (r->limit & 0xfff) == 0xfff);
		check(r->base <= r->limit && r->limit <= top);
		check(r->nr_scopes <= DMAR_MAX_RMRR_SCOPES);
		dropped |= r->nr_dropped != 0;
		check_scopes(r->scopes, r->nr_scopes);
	}
	check(dmar_complete(info) == !dropped);
}

static void check_lines(const struct dmar_info *info)
{
	char buf[160];
	char tiny[12];

	check_line(buf, sizeof(buf), dmar_describe_header(info, buf, sizeof(buf)));
	for (unsigned i = 0; i < info->nr_units; i++) {
		check_line(buf, sizeof(buf), dmar_describe_unit(&info->units[i], buf, sizeof(buf)));
		check_line(tiny, sizeof(tiny),
			   dmar_describe_unit(&info->units[i], tiny, sizeof(tiny)));
	}
	for (unsigned i = 0; i < info->nr_rmrrs; i++)
		check_line(buf, sizeof(buf), dmar_describe_rmrr(&info->rmrrs[i], buf, sizeof(buf)));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct dmar_info info;
	uint32_t len;
	uint8_t *t;
	int r;

	if (size < 1 || size - 1 > MAX_TABLE)
		return 0;
	len = (uint32_t)(size - 1);
	t = malloc(len ? len : 1);
	if (len)
		memcpy(t, data + 1, len);
	if (!(data[0] & 1) && len >= 8) {
		memcpy(t, "DMAR", 4);
		for (unsigned i = 0; i < 4; i++)
			t[4 + i] = (uint8_t)(len >> (8 * i));
	}
	if ((data[0] & 2) && len > 0)
		len--;

	r = dmar_parse(t, len, &info);
	if (r == DMAR_OK) {
		check_info(&info);
		check(info.error_offset == 0);
	} else {
		const char *s = dmar_strerror(r);

		check(r < 0 && s[0] != '\0' && strcmp(s, "unknown error") != 0);
		check(info.error_offset < len || info.error_offset == 0);
		check(info.nr_units <= DMAR_MAX_UNITS && info.nr_rmrrs <= DMAR_MAX_RMRR);
		/* what was kept before the error is as sound as on success */
		if (info.host_addr_width != 0)
			check_info(&info);
	}
	check_lines(&info);
	free(t);
	return 0;
}
