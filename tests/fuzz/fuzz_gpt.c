/* GPT reading (io/gpt.c) and the partition backend (io/blk_part.c) over a disk the fuzzer writes.
 *
 * Input: a 4-byte preamble, then the disk's contents. Byte 0: bit 0 picks 4 KiB logical blocks
 * (else 512 bytes); bits 2 and 3 recompute the primary's (LBA 1) and the backup's (last LBA)
 * entry array CRC and header CRC once the disk is built, so that mutated fields get past the CRCs
 * to the checks behind them; bit 1 then flips a bit of the primary header's CRC (so the backup
 * path runs even when the mutations leave LBA 1 alone). Bytes 1-2: the disk's size in
 * blocks (little-endian, at most 1 MiB of disk). Byte 3: how many 512-byte chunks of the rest go
 * at the start of the disk; the remaining bytes go at its end, so a small input describes both
 * GPT copies of a larger disk. Each block takes 512 input bytes (a 4 KiB block: its first 512,
 * the rest zero), which keeps a 4 KiB-block disk inside the 4 KiB max_len of the regression run;
 * what lies between the two parts is zero. The disk is a blk_mem backend, the scratch buffer a
 * separate allocation of exactly one block.
 *
 * Checked: no crash or sanitizer report; a failed read leaves no partitions and reports the
 * primary's reason; a successful one has a usable range inside the disk, at most GPT_MAX_PARTS
 * partitions, each inside the usable range with consistent 512-byte-sector figures and a 1-based
 * entry index increasing along the table, no two overlapping, labels NUL-terminated and made of
 * printable ASCII, an addressable (label_ok) label non-empty and a refused non-empty one holding
 * a '?' (what a unit outside ASCII becomes), used_backup exactly when the primary failed;
 * gpt_find_label finds each
 * addressable label or calls it ambiguous exactly when another partition shares it; a blk_part
 * over each partition reads its last sector and refuses a write one past it with the disk
 * unchanged. */
#include "io/blk_mem.h"
#include "io/blk_part.h"
#include "io/gpt.h"
#include "lib/crc32.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHUNK 512u
#define MAX_DISK (1024u * 1024u)
#define PREAMBLE 4

static uint32_t rd32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

/* Makes the CRCs of the header at block lba right: the array's where the header says it is (when
 * that is inside the disk), then the header's over HeaderSize (92 when that is out of range). */
static void fix_crcs(uint8_t *image, size_t bytes, uint32_t bs, uint64_t lba)
{
	if (!range_within(lba * bs, bs, bytes))
		return;
	uint8_t *h = image + lba * bs;
	uint64_t entry_lba = (uint64_t)rd32(h + 72) | (uint64_t)rd32(h + 76) << 32;
	uint64_t len = (uint64_t)rd32(h + 80) * rd32(h + 84);
	if (entry_lba < bytes / bs && range_within(entry_lba * bs, len, bytes))
		wr32(h + 88, crc32_ieee(image + entry_lba * bs, (size_t)len));
	uint32_t hs = rd32(h + 12);
	if (hs < 92 || hs > bs)
		hs = 92;
	wr32(h + 16, 0);
	wr32(h + 16, crc32_ieee(h, hs));
}

static void check(bool ok)
{
	if (!ok)
		abort();
}

static void check_table(const struct gpt_table *t, uint64_t disk_sectors)
{
	uint32_t per = t->block_size / 512;
	check(t->nr_parts <= GPT_MAX_PARTS);
	check(t->first_usable <= t->last_usable && t->last_usable < t->blocks);
	check(t->used_backup == (t->primary_err != GPT_OK));
	uint32_t prev_index = 0;
	for (unsigned i = 0; i < t->nr_parts; i++) {
		const struct gpt_part *p = &t->part[i];
		check(p->index > prev_index);
		prev_index = p->index;
		check(t->first_usable <= p->first_lba && p->first_lba <= p->last_lba &&
		      p->last_lba <= t->last_usable);
		check(p->first_sector == p->first_lba * per);
		check(p->sectors == (p->last_lba - p->first_lba + 1) * per);
		check(p->first_sector + p->sectors <= disk_sectors);
		size_t len = kstrnlen(p->label, sizeof(p->label));
		check(len < sizeof(p->label));
		bool question = false;
		for (size_t c = 0; c < len; c++) {
			check(p->label[c] >= 0x20 && p->label[c] <= 0x7e);
			question |= p->label[c] == '?';
		}
		/* addressable names are non-empty; a refused non-empty one had a unit made '?' */
		check(!p->label_ok || len > 0);
		check(p->label_ok || len == 0 || question);
		for (unsigned j = 0; j < i; j++)
			check(p->last_lba < t->part[j].first_lba ||
			      t->part[j].last_lba < p->first_lba);
	}
	for (unsigned i = 0; i < t->nr_parts; i++) {
		const struct gpt_part *p = &t->part[i], *found = NULL;
		if (!p->label_ok)
			continue;
		unsigned same = 0;
		for (unsigned j = 0; j < t->nr_parts; j++)
			same += t->part[j].label_ok && strcmp(t->part[j].label, p->label) == 0;
		int r = gpt_find_label(t, p->label, &found);
		check(same >= 1);
		check(r == (same == 1 ? GPT_OK : GPT_E_AMBIGUOUS));
		check(r != GPT_OK || found == p);
	}
}

/* each partition as a backend: its last sector reads, one past it is refused, nothing changes */
static void check_slices(const struct gpt_table *t, struct blk_mem *disk, const uint8_t *image,
			 size_t bytes)
{
	static uint8_t buf[2 * 512];
	static uint8_t *copy;
	static size_t copy_len;
	if (copy_len < bytes) {
		free(copy);
		copy = malloc(bytes);
		copy_len = bytes;
	}
	memcpy(copy, image, bytes);
	for (unsigned i = 0; i < t->nr_parts; i++) {
		struct blk_part part;
		const struct gpt_part *p = &t->part[i];
		check(blk_part_init(&part, &disk->blk, p->first_sector, p->sectors, false) ==
		      BLK_OK);
		check(blk_read(&part.blk, p->sectors - 1, buf, 1) == BLK_OK);
		check(memcmp(buf, image + (p->first_sector + p->sectors - 1) * 512, 512) == 0);
		memset(buf, 0xa5, sizeof(buf));
		check(blk_write(&part.blk, p->sectors - 1, buf, 2) == BLK_E_RANGE);
		check(blk_write(&part.blk, p->sectors, buf, 1) == BLK_E_RANGE);
		check(part.ops.write(&part.blk, p->sectors, buf, 1) == BLK_E_RANGE);
	}
	check(memcmp(copy, image, bytes) == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < PREAMBLE)
		return 0;
	uint32_t bs = (data[0] & 1) ? 4096 : 512;
	uint64_t blocks = (uint64_t)(data[1] | data[2] << 8);
	blocks = MIN(blocks, (uint64_t)(MAX_DISK / bs));
	size_t head = MIN((size_t)data[3] * CHUNK, size - PREAMBLE);
	const uint8_t *in = data + PREAMBLE;
	size_t n = size - PREAMBLE;
	size_t bytes = (size_t)(blocks * bs);
	uint8_t *image = calloc(1, bytes ? bytes : 1);
	uint8_t *scratch = malloc(bs);

	/* chunk offset c of the input's space is disk byte (c / 512) * bs + c % 512 */
	uint64_t span = blocks * CHUNK;
	size_t tail = n - head;
	for (size_t i = 0; i < tail; i++) {
		/* the tail ends at the disk's end; what falls before its start is dropped */
		if (tail - i <= span) {
			uint64_t c = span - (tail - i);
			image[(c / CHUNK) * bs + c % CHUNK] = in[head + i];
		}
	}
	for (size_t c = 0; c < head && c < span; c++)
		image[(c / CHUNK) * bs + c % CHUNK] = in[c];
	if (data[0] & 4)
		fix_crcs(image, bytes, bs, 1);
	if ((data[0] & 8) && blocks > 0)
		fix_crcs(image, bytes, bs, blocks - 1);
	if ((data[0] & 2) && blocks > 1)
		image[bs + 16] ^= 1;

	struct blk_mem disk;
	blk_mem_init(&disk, image, bytes, false);
	static struct gpt_table t;
	int r = gpt_read(&disk.blk, bs, scratch, &t);
	if (r == GPT_OK) {
		check_table(&t, disk.blk.sectors);
		check_slices(&t, &disk, image, bytes);
	} else {
		check(t.nr_parts == 0);
		check(t.primary_err == GPT_OK || r == t.primary_err);
		check(gpt_strerror(r)[0] != '\0');
	}
	free(scratch);
	free(image);
	return 0;
}
