/* The IVRS parser (drivers/ivrs.c). The input is a table as it is (the seeds test_ivrs writes with
 * IVRS_WRITE_SEEDS=DIR). It is parsed twice from exact-size copies, so ASan sees any read past its
 * end: once untouched, and once with the signature and length field set to "IVRS" and the input's
 * size, so that mutations reach the blocks instead of dying at the header checks.
 *
 * Checked: no crash or sanitizer report, and on success every count within its maximum, every unit
 * with a distinct (segment, device ID), a nonzero 16 KiB aligned base whose region ends below
 * 2^52 and a type of 10h, 11h or 40h, every range and alias with first <= last, every IVMD 4 KiB
 * aligned, nonempty and below 2^52; ivrs_device_covered answers with a unit of the segment asked
 * and an alias that the unit's entries give; the log lines are NUL-terminated in their buffer. */
#include "drivers/ivrs.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct ivrs_info info;

static void check_covered(uint16_t seg, uint16_t bdf)
{
	unsigned unit = ~0u;
	uint16_t alias = 0;

	if (!ivrs_device_covered(&info, seg, bdf, &unit, &alias))
		return;
	if (unit >= info.nr_units || info.units[unit].segment != seg)
		abort();
	const struct ivrs_unit *u = &info.units[unit];
	bool found = alias == bdf;
	for (unsigned j = 0; j < u->nr_aliases && !found; j++)
		found = u->aliases[j].alias == alias && bdf >= u->aliases[j].first &&
			bdf <= u->aliases[j].last;
	if (!found)
		abort();
}

static void check(void)
{
	char line[48]; /* shorter than most lines: the truncation path runs too */

	if (info.nr_units > IVRS_MAX_UNITS || info.nr_ivmd > IVRS_MAX_IVMD || info.nr_units == 0)
		abort();
	for (unsigned i = 0; i < info.nr_units; i++) {
		const struct ivrs_unit *u = &info.units[i];
		if (u->type != 0x10 && u->type != 0x11 && u->type != 0x40)
			abort();
		if (!u->base || u->base % (16 * 1024) || u->base + u->mmio_len > 1ull << 52)
			abort();
		if (u->nr_ranges > IVRS_MAX_RANGES || u->nr_aliases > IVRS_MAX_ALIASES ||
		    u->nr_special > IVRS_MAX_SPECIAL || u->nr_hid > IVRS_MAX_HID)
			abort();
		for (unsigned j = 0; j < i; j++)
			if (info.units[j].segment == u->segment && info.units[j].devid == u->devid)
				abort();
		for (unsigned j = 0; j < u->nr_ranges; j++) {
			if (u->ranges[j].first > u->ranges[j].last)
				abort();
			check_covered(u->segment, u->ranges[j].first);
			check_covered(u->segment, u->ranges[j].last);
		}
		for (unsigned j = 0; j < u->nr_aliases; j++) {
			if (u->aliases[j].first > u->aliases[j].last)
				abort();
			check_covered(u->segment, u->aliases[j].last);
		}
		for (unsigned j = 0; j < u->nr_hid; j++)
			if (strlen(u->hid[j].hid) != 8 || strlen(u->hid[j].cid) != 8)
				abort();
		ivrs_format_unit(&info, i, line, sizeof(line));
		if (strlen(line) >= sizeof(line))
			abort();
	}
	for (unsigned i = 0; i < info.nr_ivmd; i++) {
		const struct ivrs_ivmd *m = &info.ivmd[i];
		if (m->first > m->last || !m->len || m->start % 4096 || m->len % 4096 ||
		    m->start > (1ull << 52) || m->len > (1ull << 52) - m->start)
			abort();
		ivrs_format_ivmd(&info, i, line, sizeof(line));
		if (strlen(line) >= sizeof(line))
			abort();
	}
	check_covered(0, 0);
	check_covered(0, 0xFFFF);
	check_covered(1, 0x100);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *copy = malloc(size ? size : 1);

	memcpy(copy, data, size);
	if (ivrs_parse(copy, (uint32_t)size, &info) == IVRS_OK)
		check();
	if (size >= 8 && size <= UINT32_MAX) {
		memcpy(copy, "IVRS", 4);
		for (unsigned i = 0; i < 4; i++)
			copy[4 + i] = (uint8_t)(size >> (8 * i));
		if (ivrs_parse(copy, (uint32_t)size, &info) == IVRS_OK)
			check();
	}
	ivrs_strerror(ivrs_parse(copy, (uint32_t)(size / 2), &info));
	free(copy);
	return 0;
}
