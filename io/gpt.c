/* GPT reading (io/gpt.h). Layouts from UEFI 2.9: the protective MBR §5.2.3, the header §5.3.2,
 * the entry §5.3.3. All on-disk integers are little-endian and read byte by byte, so nothing
 * depends on the scratch buffer's alignment. */
#include "io/gpt.h"

#include "lib/crc32.h"
#include "lib/kstring.h"
#include "lib/le.h"

/* GPT header fields (§5.3.2), byte offsets */
#define H_SIGNATURE 0
#define H_REVISION 8
#define H_HEADER_SIZE 12
#define H_HEADER_CRC 16
#define H_MY_LBA 24
#define H_ALTERNATE_LBA 32
#define H_FIRST_USABLE 40
#define H_LAST_USABLE 48
#define H_DISK_GUID 56
#define H_ENTRY_LBA 72
#define H_NUM_ENTRIES 80
#define H_ENTRY_SIZE 84
#define H_ARRAY_CRC 88
#define H_MIN_SIZE 92

/* GPT partition entry fields (§5.3.3), byte offsets */
#define E_TYPE_GUID 0
#define E_UNIQUE_GUID 16
#define E_STARTING_LBA 32
#define E_ENDING_LBA 40
#define E_ATTRIBUTES 48
#define E_NAME 56
#define E_MIN_SIZE 128

/* Legacy MBR (§5.2.1): four 16-byte partition records from byte 446, OSType at +4 of each, and
 * the signature 0xAA55 at byte 510. 0xEE is the GPT protective type (§5.2.3). */
#define MBR_RECORDS 446
#define MBR_RECORD_SIZE 16
#define MBR_OS_TYPE 4
#define MBR_SIGNATURE 510
#define MBR_OS_TYPE_GPT 0xee

/* What a header says, once its own checks pass. */
struct header {
	uint64_t my_lba, alternate_lba, first_usable, last_usable, entry_lba;
	uint32_t num_entries, entry_size, array_crc;
	uint8_t disk_guid[16];
};

struct reader {
	struct blk_backend *disk;
	uint32_t bs;
	uint64_t blocks;
	uint8_t *buf; /* one block */
};

static int read_block(struct reader *r, uint64_t lba)
{
	uint32_t per = r->bs >> BLK_SECTOR_SHIFT;
	/* lba < blocks, and blocks * per <= disk->sectors: no overflow */
	if (lba >= r->blocks)
		return GPT_E_IO;
	return blk_read(r->disk, lba * per, r->buf, per) == BLK_OK ? GPT_OK : GPT_E_IO;
}

static bool pmbr_ok(const uint8_t *b)
{
	if (b[MBR_SIGNATURE] != 0x55 || b[MBR_SIGNATURE + 1] != 0xaa)
		return false;
	for (unsigned i = 0; i < 4; i++)
		if (b[MBR_RECORDS + i * MBR_RECORD_SIZE + MBR_OS_TYPE] == MBR_OS_TYPE_GPT)
			return true;
	return false;
}

/* [a, a + an) and [b, b + bn) share a block (both lengths > 0, neither wraps) */
static bool overlaps(uint64_t a, uint64_t an, uint64_t b, uint64_t bn)
{
	return a < b + bn && b < a + an;
}

/* Reads and checks the header at lba: everything but the entry array's content. */
static int read_header(struct reader *r, uint64_t lba, struct header *h)
{
	int err = read_block(r, lba);
	if (err)
		return err;
	const uint8_t *b = r->buf;
	if (memcmp(b + H_SIGNATURE, "EFI PART", 8) != 0)
		return GPT_E_SIGNATURE;
	if (le32(b + H_REVISION) >> 16 != 1)
		return GPT_E_REVISION;
	uint32_t hs = le32(b + H_HEADER_SIZE);
	if (hs < H_MIN_SIZE || hs > r->bs)
		return GPT_E_HEADER_SIZE;
	/* the CRC covers HeaderSize bytes with its own field taken as zero */
	static const uint8_t zero[4];
	uint32_t crc = crc32_ieee(b, H_HEADER_CRC);
	crc = crc32_ieee_update(crc, zero, sizeof(zero));
	crc = crc32_ieee_update(crc, b + H_HEADER_CRC + 4, hs - H_HEADER_CRC - 4);
	if (crc != le32(b + H_HEADER_CRC))
		return GPT_E_HEADER_CRC;

	h->my_lba = le64(b + H_MY_LBA);
	h->alternate_lba = le64(b + H_ALTERNATE_LBA);
	h->first_usable = le64(b + H_FIRST_USABLE);
	h->last_usable = le64(b + H_LAST_USABLE);
	h->entry_lba = le64(b + H_ENTRY_LBA);
	h->num_entries = le32(b + H_NUM_ENTRIES);
	h->entry_size = le32(b + H_ENTRY_SIZE);
	h->array_crc = le32(b + H_ARRAY_CRC);
	memcpy(h->disk_guid, b + H_DISK_GUID, 16);

	if (h->my_lba != lba)
		return GPT_E_MY_LBA;
	if (h->alternate_lba >= r->blocks || h->alternate_lba == 0 || h->alternate_lba == lba)
		return GPT_E_ALTERNATE;
	/* Partitions live in [first, last]: inside the disk, past LBA 0 (the MBR) and LBA 1 (where
	 * the primary header always is, whichever copy this is), and never over either header. */
	if (h->first_usable > h->last_usable || h->last_usable >= r->blocks || h->first_usable < 2)
		return GPT_E_USABLE;
	uint64_t usable = h->last_usable - h->first_usable + 1;
	if (overlaps(h->first_usable, usable, h->my_lba, 1) ||
	    overlaps(h->first_usable, usable, h->alternate_lba, 1))
		return GPT_E_USABLE;
	/* 128 * 2^n (§5.3.2: earlier revisions allowed any multiple of 8; such tables are refused) */
	if (h->entry_size < E_MIN_SIZE || h->entry_size % E_MIN_SIZE != 0 ||
	    ((h->entry_size / E_MIN_SIZE) & (h->entry_size / E_MIN_SIZE - 1)) != 0)
		return GPT_E_ENTRY_SIZE;
	uint64_t bytes = (uint64_t)h->num_entries * h->entry_size;
	if (bytes > GPT_MAX_ARRAY_BYTES)
		return GPT_E_ARRAY_SIZE;
	/* The array is outside usable space (§5.3.3: the primary's ends before FirstUsableLBA, the
	 * backup's starts after LastUsableLBA) and over neither header nor the MBR. */
	uint64_t nblocks = (bytes + r->bs - 1) / r->bs;
	if (nblocks) {
		if (!range_within(h->entry_lba, nblocks, r->blocks) ||
		    overlaps(h->entry_lba, nblocks, 0, 1) ||
		    overlaps(h->entry_lba, nblocks, h->my_lba, 1) ||
		    overlaps(h->entry_lba, nblocks, h->alternate_lba, 1) ||
		    overlaps(h->entry_lba, nblocks, h->first_usable, usable))
			return GPT_E_ARRAY_PLACE;
	}
	return GPT_OK;
}

static bool guid_zero(const uint8_t *g)
{
	for (unsigned i = 0; i < 16; i++)
		if (g[i])
			return false;
	return true;
}

/* PartitionName (§5.3.3): 36 UTF-16LE units, NUL-terminated unless all 36 are used. */
static void take_name(struct gpt_part *p, const uint8_t *name)
{
	unsigned n = 0;
	p->label_ok = true;
	for (; n < GPT_NAME_UNITS; n++) {
		uint16_t u = (uint16_t)(name[2 * (size_t)n] | name[2 * (size_t)n + 1] << 8);
		if (u == 0)
			break;
		if (u < 0x20 || u > 0x7e) {
			p->label[n] = '?';
			p->label_ok = false;
		} else {
			p->label[n] = (char)u;
		}
	}
	p->label[n] = '\0';
	if (n == 0)
		p->label_ok = false;
}

/* One entry of the array: kept in t if in use and sane. */
static int take_entry(const struct header *h, uint32_t index, const uint8_t *e, struct gpt_table *t)
{
	if (guid_zero(e + E_TYPE_GUID))
		return GPT_OK;
	uint64_t first = le64(e + E_STARTING_LBA), last = le64(e + E_ENDING_LBA);
	if (first > last || first < h->first_usable || last > h->last_usable)
		return GPT_E_PART_RANGE;
	for (unsigned i = 0; i < t->nr_parts; i++)
		if (first <= t->part[i].last_lba && t->part[i].first_lba <= last)
			return GPT_E_OVERLAP;
	if (t->nr_parts == GPT_MAX_PARTS)
		return GPT_E_TOO_MANY;
	struct gpt_part *p = &t->part[t->nr_parts++];
	uint32_t per = t->block_size >> BLK_SECTOR_SHIFT;
	p->index = index;
	p->first_lba = first;
	p->last_lba = last;
	/* last < blocks, and blocks * per fits the disk's sector count */
	p->first_sector = first * per;
	p->sectors = (last - first + 1) * per;
	memcpy(p->type_guid, e + E_TYPE_GUID, 16);
	memcpy(p->unique_guid, e + E_UNIQUE_GUID, 16);
	p->attributes = le64(e + E_ATTRIBUTES);
	take_name(p, e + E_NAME);
	return GPT_OK;
}

/* Reads the array h describes block by block, checks its CRC and, when parse, its entries into
 * t. An entry never straddles two blocks: both sizes are powers of two (entry size 128 * 2^n,
 * blocks 512 or 4096), so either entries tile a block or each entry starts one. */
static int read_array(struct reader *r, const struct header *h, struct gpt_table *t, bool parse)
{
	uint64_t bytes = (uint64_t)h->num_entries * h->entry_size;
	uint32_t crc = 0;
	int bad = GPT_OK; /* an entry's error, reported only if the CRC is right */
	for (uint64_t off = 0; off < bytes; off += r->bs) {
		int err = read_block(r, h->entry_lba + off / r->bs);
		if (err)
			return err;
		uint32_t len = (uint32_t)MIN((uint64_t)r->bs, bytes - off);
		crc = crc32_ieee_update(crc, r->buf, len);
		if (!parse || bad)
			continue;
		for (uint32_t at = 0; at < len && !bad; at += h->entry_size) {
			/* a block inside an entry larger than a block holds only its reserved tail */
			if ((off + at) % h->entry_size != 0)
				break;
			/* off + at is an entry's start, at least 128 bytes below bytes */
			uint32_t index = (uint32_t)((off + at) / h->entry_size) + 1;
			bad = take_entry(h, index, r->buf + at, t);
		}
	}
	if (crc != h->array_crc)
		return GPT_E_ARRAY_CRC;
	return bad;
}

/* The copy whose header is at lba, complete: into t when parse. */
static int read_copy(struct reader *r, uint64_t lba, struct header *h, struct gpt_table *t,
		     bool parse)
{
	int err = read_header(r, lba, h);
	if (err)
		return err;
	if (parse) {
		t->nr_parts = 0;
		t->first_usable = h->first_usable;
		t->last_usable = h->last_usable;
		memcpy(t->disk_guid, h->disk_guid, 16);
	}
	err = read_array(r, h, t, parse);
	if (err && parse)
		t->nr_parts = 0;
	return err;
}

int gpt_read(struct blk_backend *disk, uint32_t block_size, void *scratch, struct gpt_table *out)
{
	memset(out, 0, sizeof(*out));
	out->block_size = block_size;
	if (block_size != 512 && block_size != 4096)
		return GPT_E_GEOMETRY;
	struct reader r = { .disk = disk,
			    .bs = block_size,
			    .blocks = disk->sectors / (block_size >> BLK_SECTOR_SHIFT),
			    .buf = scratch };
	out->blocks = r.blocks;
	/* MBR, header, at least one usable block, backup header */
	if (r.blocks < 4)
		return GPT_E_GEOMETRY;
	int err = read_block(&r, 0);
	if (err)
		return err;
	if (!pmbr_ok(r.buf))
		return GPT_E_NO_PMBR;

	struct header h, other;
	out->primary_err = read_copy(&r, 1, &h, out, true);
	if (out->primary_err == GPT_OK) {
		/* §5.3.2: the primary's AlternateLBA should hold a valid backup; report if not */
		out->backup_err = read_copy(&r, h.alternate_lba, &other, out, false);
		return GPT_OK;
	}
	/* The backup is at the last LBA (§5.3.2). A primary whose header was sound but whose array
	 * was not may point elsewhere (a disk that grew): that place is tried too. */
	uint64_t last = r.blocks - 1;
	int backup = read_copy(&r, last, &other, out, true);
	if (backup != GPT_OK && read_header(&r, 1, &h) == GPT_OK && h.alternate_lba != last)
		backup = read_copy(&r, h.alternate_lba, &other, out, true);
	if (backup != GPT_OK) {
		out->backup_err = backup;
		out->nr_parts = 0;
		return out->primary_err;
	}
	out->used_backup = true;
	return GPT_OK;
}

int gpt_find_label(const struct gpt_table *t, const char *label, const struct gpt_part **found)
{
	const struct gpt_part *hit = NULL;
	for (unsigned i = 0; i < t->nr_parts; i++) {
		const struct gpt_part *p = &t->part[i];
		if (!p->label_ok || strcmp(p->label, label) != 0)
			continue;
		if (hit)
			return GPT_E_AMBIGUOUS;
		hit = p;
	}
	if (!hit)
		return GPT_E_NOT_FOUND;
	*found = hit;
	return GPT_OK;
}

void gpt_guid_str(const uint8_t g[16], char out[37])
{
	/* byte order of the text: Data1 (4 bytes LE), Data2 (2 LE), Data3 (2 LE), then 8 bytes */
	static const uint8_t order[16] = { 3, 2, 1, 0, 5, 4, 7, 6, 8, 9, 10, 11, 12, 13, 14, 15 };
	static const char hex[] = "0123456789ABCDEF";
	unsigned o = 0;
	for (unsigned i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			out[o++] = '-';
		out[o++] = hex[g[order[i]] >> 4];
		out[o++] = hex[g[order[i]] & 0xf];
	}
	out[o] = '\0';
}

const char *gpt_strerror(int status)
{
	switch (status) {
	case GPT_OK:
		return "ok";
	case GPT_E_IO:
		return "read error";
	case GPT_E_GEOMETRY:
		return "bad block size or disk too small";
	case GPT_E_NO_PMBR:
		return "no protective MBR";
	case GPT_E_SIGNATURE:
		return "no GPT signature";
	case GPT_E_REVISION:
		return "unknown GPT revision";
	case GPT_E_HEADER_SIZE:
		return "bad header size";
	case GPT_E_HEADER_CRC:
		return "header CRC mismatch";
	case GPT_E_MY_LBA:
		return "header not at its own LBA";
	case GPT_E_ALTERNATE:
		return "bad alternate header LBA";
	case GPT_E_USABLE:
		return "bad usable LBA range";
	case GPT_E_ENTRY_SIZE:
		return "bad partition entry size";
	case GPT_E_ARRAY_SIZE:
		return "partition entry array too large";
	case GPT_E_ARRAY_PLACE:
		return "partition entry array misplaced";
	case GPT_E_ARRAY_CRC:
		return "partition entry array CRC mismatch";
	case GPT_E_PART_RANGE:
		return "partition outside usable range";
	case GPT_E_OVERLAP:
		return "overlapping partitions";
	case GPT_E_TOO_MANY:
		return "too many partitions";
	case GPT_E_NOT_FOUND:
		return "no partition with that label";
	case GPT_E_AMBIGUOUS:
		return "several partitions with that label";
	default:
		return "unknown GPT error";
	}
}
