/* GPT reading (io/gpt.c) and CRC-32 (lib/crc32.c).
 *
 * The tables come from util-linux, not from a writer of our own: sfdisk makes the 512-byte-block
 * images and fdisk -b 4096 the 4 KiB ones (sfdisk 2.38 has no --sector-size), each in a temporary
 * file; the same tools then dump what they wrote (sfdisk --dump, fdisk's O command), and the
 * parser must find exactly that: every partition's number, range, type and unique GUIDs,
 * attributes and name, and the usable range. Hostile tables are those images changed in memory,
 * with the CRCs recomputed by zlib where a test wants a field checked rather than the CRC: a
 * corrupt primary (backup used, and said so), a corrupt backup (said so), both corrupt, and one
 * field at a time out of the rules in both copies. CRC-32 itself is checked against zlib's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "io/blk_mem.h"
#include "io/gpt.h"
#include "lib/crc32.h"

#define MAX_REF 16

struct ref_part {
	unsigned index;
	uint64_t start, size;
	char type[37], uuid[37], name[128];
	uint64_t attrs;
};

/* what the tool says it wrote */
struct ref {
	uint64_t first_lba, last_lba;
	unsigned n;
	struct ref_part p[MAX_REF];
};

static uint8_t scratch[GPT_SCRATCH_BYTES];
static struct gpt_table tab;
static uint8_t *img;
static size_t img_bytes;
static unsigned img_bs;
static struct blk_mem mem;
static struct ref ref;

/* The 512-byte image: a skipped slot (3), a non-ASCII name, two partitions of the same name, a
 * name of all 36 units (no NUL), attributes. */
static const char script512[] =
	"label: gpt\n"
	"x1 : start=40, size=8, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name=\"boot\", "
	"attrs=\"RequiredPartition\"\n"
	"x2 : start=48, size=16, name=\"root fs\"\n"
	"x4 : start=64, size=8, name=\"r\xc3\xa9seau\"\n"
	"x5 : start=72, size=8, name=\"twin\"\n"
	"x6 : start=80, size=8, name=\"twin\"\n"
	"x7 : start=88, size=8, name=\"abcdefghijklmnopqrstuvwxyz0123456789\", attrs=\"GUID:60\"\n";
#define BLOCKS512 256

static const char script4k[] =
	"label: gpt\n"
	"x1 : start=8, size=4, name=\"data\"\n"
	"x3 : start=12, size=100, name=\"swap\", attrs=\"GUID:63 GUID:48\"\n";
#define BLOCKS4K 128

static void run(const char *cmd)
{
	int rc = system(cmd);
	if (rc != 0)
		fail_msg(
			"`%s` failed (%d): are util-linux's sfdisk/fdisk installed (tools/install-deps)?",
			cmd, rc);
}

static char *field(char *line, const char *key)
{
	char *p = strstr(line, key);
	return p ? p + strlen(key) : NULL;
}

/* one "NAMEn : start=..., size=..., type=..., uuid=..., name=\"...\", attrs=\"...\"" line */
static void parse_dump_line(char *line)
{
	char *colon = strstr(line, " : ");
	if (!colon)
		return;
	assert_true(ref.n < MAX_REF);
	struct ref_part *r = &ref.p[ref.n++];
	memset(r, 0, sizeof(*r));
	char *d = colon;
	while (d > line && d[-1] >= '0' && d[-1] <= '9')
		d--;
	r->index = (unsigned)strtoul(d, NULL, 10);
	r->start = strtoull(field(colon, "start="), NULL, 10);
	r->size = strtoull(field(colon, "size="), NULL, 10);
	memcpy(r->type, field(colon, "type="), 36);
	memcpy(r->uuid, field(colon, "uuid="), 36);
	char *name = field(colon, "name=\"");
	if (name) {
		char *end = strchr(name, '"');
		memcpy(r->name, name, (size_t)(end - name));
	}
	char *attrs = field(colon, "attrs=\"");
	if (attrs) {
		char *end = strchr(attrs, '"');
		*end = '\0';
		if (strstr(attrs, "RequiredPartition"))
			r->attrs |= 1;
		/* "GUID:48,63": bit numbers after GUID:, comma-separated */
		char *g = strstr(attrs, "GUID:");
		for (char *n = g ? g + 5 : NULL; n; n = *n == ',' ? n + 1 : NULL)
			r->attrs |= 1ull << strtoul(n, &n, 10);
	}
}

/* Makes an image of blocks blocks of bs bytes with util-linux from script, reads it into img and
 * what the tool dumps of it into ref. */
static void make_image(unsigned bs, uint64_t blocks, const char *script)
{
	char path[] = "/tmp/test_gpt_img.XXXXXX", spath[] = "/tmp/test_gpt_in.XXXXXX",
	     dpath[] = "/tmp/test_gpt_dump.XXXXXX", cmd[512];
	int fd = mkstemp(path), sfd = mkstemp(spath), dfd = mkstemp(dpath);
	assert_true(fd >= 0 && sfd >= 0 && dfd >= 0);
	assert_int_equal(ftruncate(fd, (off_t)(blocks * bs)), 0);
	assert_int_equal(write(sfd, script, strlen(script)), (ssize_t)strlen(script));
	close(sfd);
	close(dfd);
	if (bs == 512) {
		snprintf(cmd, sizeof(cmd), "sfdisk -q %s < %s >/dev/null && sfdisk --dump %s > %s",
			 path, spath, path, dpath);
	} else {
		snprintf(cmd, sizeof(cmd),
			 "printf 'I\\n%s\\nw\\n' | fdisk -b %u %s >/dev/null && "
			 "printf 'O\\n%s\\nq\\n' | fdisk -b %u %s >/dev/null",
			 spath, bs, path, dpath, bs, path);
	}
	run(cmd);

	free(img);
	img_bytes = (size_t)(blocks * bs);
	img_bs = bs;
	img = malloc(img_bytes);
	assert_non_null(img);
	assert_int_equal(pread(fd, img, img_bytes, 0), (ssize_t)img_bytes);
	close(fd);

	memset(&ref, 0, sizeof(ref));
	FILE *f = fopen(dpath, "r");
	assert_non_null(f);
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		if (strncmp(line, "first-lba:", 10) == 0)
			ref.first_lba = strtoull(line + 10, NULL, 10);
		else if (strncmp(line, "last-lba:", 9) == 0)
			ref.last_lba = strtoull(line + 9, NULL, 10);
		else
			parse_dump_line(line);
	}
	fclose(f);
	unlink(path);
	unlink(spath);
	unlink(dpath);
	blk_mem_init(&mem, img, img_bytes, false);
}

static int read_gpt(void)
{
	return gpt_read(&mem.blk, img_bs, scratch, &tab);
}

static bool ascii_name(const char *s)
{
	for (; *s; s++)
		if (*s < 0x20 || *s > 0x7e || *s == '\\') /* the dump writes other bytes as \xNN */
			return false;
	return true;
}

/* tab describes exactly what ref says */
static void matches_ref(void)
{
	uint32_t per = img_bs / 512;
	assert_int_equal(tab.block_size, img_bs);
	assert_int_equal(tab.blocks, img_bytes / img_bs);
	assert_int_equal(tab.first_usable, ref.first_lba);
	assert_int_equal(tab.last_usable, ref.last_lba);
	assert_int_equal(tab.nr_parts, ref.n);
	for (unsigned i = 0; i < ref.n; i++) {
		const struct gpt_part *p = &tab.part[i];
		const struct ref_part *r = &ref.p[i];
		char guid[37];
		assert_int_equal(p->index, r->index);
		assert_int_equal(p->first_lba, r->start);
		assert_int_equal(p->last_lba, r->start + r->size - 1);
		assert_int_equal(p->first_sector, r->start * per);
		assert_int_equal(p->sectors, r->size * per);
		gpt_guid_str(p->type_guid, guid);
		assert_string_equal(guid, r->type);
		gpt_guid_str(p->unique_guid, guid);
		assert_string_equal(guid, r->uuid);
		assert_int_equal(p->attributes, r->attrs);
		assert_int_equal(p->label_ok, ascii_name(r->name));
		if (p->label_ok)
			assert_string_equal(p->label, r->name);
	}
}

static void crc32_matches_zlib(void **state)
{
	(void)state;
	static uint8_t buf[5000];
	srand(7);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)rand();
	/* the check value every CRC-32 catalogue gives for "123456789" */
	assert_int_equal(crc32_ieee("123456789", 9), 0xcbf43926);
	assert_int_equal(crc32_ieee(buf, 0), 0);
	static const size_t lens[] = { 1, 2, 3, 7, 92, 128, 511, 512, 4096, 5000 };
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint32_t z = (uint32_t)crc32(0, buf, (uInt)lens[i]);
		assert_int_equal(crc32_ieee(buf, lens[i]), z);
		/* continued in two pieces */
		size_t half = lens[i] / 3;
		assert_int_equal(
			crc32_ieee_update(crc32_ieee(buf, half), buf + half, lens[i] - half), z);
	}
}

static void sfdisk_512(void **state)
{
	(void)state;
	make_image(512, BLOCKS512, script512);
	assert_int_equal(ref.n, 6);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.primary_err, GPT_OK);
	assert_int_equal(tab.backup_err, GPT_OK);
	matches_ref();
	/* the 36-unit name has no NUL and is whole */
	assert_int_equal(strlen(tab.part[5].label), 36);
	assert_true(tab.part[5].label_ok);
	/* the non-ASCII one is kept, but cannot be asked for */
	assert_int_equal(tab.part[2].index, 4);
	assert_false(tab.part[2].label_ok);
	assert_string_equal(tab.part[2].label, "r?seau");
}

static void fdisk_4096(void **state)
{
	(void)state;
	make_image(4096, BLOCKS4K, script4k);
	assert_int_equal(ref.n, 2);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.backup_err, GPT_OK);
	matches_ref();
	/* partition 3 starts at LBA 12 = byte 48 KiB = sector 96 */
	assert_int_equal(tab.part[1].first_sector, 96);
	assert_int_equal(tab.part[1].sectors, 800);
	/* the same disk read with the wrong block size finds no header at byte 512 */
	assert_int_equal(gpt_read(&mem.blk, 512, scratch, &tab), GPT_E_SIGNATURE);
	assert_int_equal(tab.nr_parts, 0);
}

static void labels(void **state)
{
	(void)state;
	make_image(512, BLOCKS512, script512);
	assert_int_equal(read_gpt(), GPT_OK);
	const struct gpt_part *p = NULL;
	assert_int_equal(gpt_find_label(&tab, "boot", &p), GPT_OK);
	assert_int_equal(p->index, 1);
	assert_int_equal(gpt_find_label(&tab, "root fs", &p), GPT_OK);
	assert_int_equal(p->index, 2);
	assert_int_equal(gpt_find_label(&tab, "abcdefghijklmnopqrstuvwxyz0123456789", &p), GPT_OK);
	assert_int_equal(p->index, 7);
	p = NULL;
	assert_int_equal(gpt_find_label(&tab, "twin", &p), GPT_E_AMBIGUOUS);
	assert_int_equal(gpt_find_label(&tab, "Boot", &p), GPT_E_NOT_FOUND);
	assert_int_equal(gpt_find_label(&tab, "", &p), GPT_E_NOT_FOUND);
	assert_int_equal(gpt_find_label(&tab, "r?seau", &p), GPT_E_NOT_FOUND);
	assert_int_equal(gpt_find_label(&tab, "abcdefghijklmnopqrstuvwxyz0123456789X", &p),
			 GPT_E_NOT_FOUND);
	assert_null(p);
	assert_string_not_equal(gpt_strerror(GPT_E_AMBIGUOUS), gpt_strerror(GPT_E_NOT_FOUND));
}

/* ---- changing the sfdisk image ---------------------------------------------------------- */

static uint8_t *block(uint64_t lba)
{
	return img + lba * img_bs;
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;
	memcpy(&v, p, 8);
	return v;
}

static uint32_t get32(const uint8_t *p)
{
	uint32_t v;
	memcpy(&v, p, 4);
	return v;
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

/* recomputes, with zlib, the array CRC (if the array is inside the image) and the header CRC */
static void fix_crcs(uint64_t lba)
{
	uint8_t *h = block(lba);
	uint64_t entry_lba = get64(h + 72);
	uint64_t bytes = (uint64_t)get32(h + 80) * get32(h + 84);
	if (entry_lba < img_bytes / img_bs && bytes <= img_bytes - entry_lba * img_bs)
		put32(h + 88, (uint32_t)crc32(0, block(entry_lba), (uInt)bytes));
	uint32_t hs = get32(h + 12);
	if (hs > img_bs)
		hs = 92;
	put32(h + 16, 0);
	put32(h + 16, (uint32_t)crc32(0, h, hs));
}

static uint64_t last_lba(void)
{
	return img_bytes / img_bs - 1;
}

/* header field at off set to v in both copies (size 4 or 8), CRCs fixed */
static void set_both(unsigned off, unsigned size, uint64_t v)
{
	uint64_t lbas[2] = { 1, last_lba() };
	for (unsigned i = 0; i < 2; i++) {
		if (size == 8)
			put64(block(lbas[i]) + off, v);
		else
			put32(block(lbas[i]) + off, (uint32_t)v);
		fix_crcs(lbas[i]);
	}
}

/* entry idx (0-based) field at off set to v in both arrays, CRCs fixed */
static void set_entry_both(unsigned idx, unsigned off, uint64_t v)
{
	uint64_t lbas[2] = { 1, last_lba() };
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *h = block(lbas[i]);
		uint8_t *e = block(get64(h + 72)) + idx * get32(h + 84);
		put64(e + off, v);
		fix_crcs(lbas[i]);
	}
}

static void fresh(void)
{
	make_image(512, BLOCKS512, script512);
}

static void expect_both_bad(int err)
{
	assert_int_equal(read_gpt(), err);
	assert_int_equal(tab.primary_err, err);
	assert_int_not_equal(tab.backup_err, GPT_OK);
	assert_int_equal(tab.nr_parts, 0);
}

static void primary_corrupt_uses_backup(void **state)
{
	(void)state;
	/* a header byte: header CRC */
	fresh();
	block(1)[60] ^= 1;
	assert_int_equal(read_gpt(), GPT_OK);
	assert_true(tab.used_backup);
	assert_int_equal(tab.primary_err, GPT_E_HEADER_CRC);
	assert_int_equal(tab.backup_err, GPT_OK);
	matches_ref();
	/* a name in the primary array: array CRC */
	fresh();
	block(2)[56] ^= 1;
	assert_int_equal(read_gpt(), GPT_OK);
	assert_true(tab.used_backup);
	assert_int_equal(tab.primary_err, GPT_E_ARRAY_CRC);
	matches_ref();
	/* the primary header wiped */
	fresh();
	memset(block(1), 0, img_bs);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_true(tab.used_backup);
	assert_int_equal(tab.primary_err, GPT_E_SIGNATURE);
	matches_ref();
}

static void backup_corrupt_reported(void **state)
{
	(void)state;
	fresh();
	block(last_lba())[60] ^= 1;
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.backup_err, GPT_E_HEADER_CRC);
	matches_ref();
	/* the backup's array (just below the backup header) */
	fresh();
	block(last_lba() - 1)[0] ^= 1;
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.backup_err, GPT_E_ARRAY_CRC);
}

static void both_corrupt(void **state)
{
	(void)state;
	fresh();
	block(1)[60] ^= 1;
	block(last_lba())[60] ^= 1;
	expect_both_bad(GPT_E_HEADER_CRC);
	/* primary array and backup header */
	fresh();
	block(2)[0] ^= 0x80;
	block(last_lba())[0] = 'X';
	assert_int_equal(read_gpt(), GPT_E_ARRAY_CRC);
	assert_int_equal(tab.backup_err, GPT_E_SIGNATURE);
	assert_int_equal(tab.nr_parts, 0);
}

static void no_protective_mbr(void **state)
{
	(void)state;
	fresh();
	img[510] = 0;
	assert_int_equal(read_gpt(), GPT_E_NO_PMBR);
	fresh();
	/* an MBR without a 0xEE record: a legacy MBR over a stale GPT */
	for (unsigned i = 0; i < 4; i++)
		img[446 + i * 16 + 4] = 0x83;
	assert_int_equal(read_gpt(), GPT_E_NO_PMBR);
}

static void bad_geometry(void **state)
{
	(void)state;
	fresh();
	assert_int_equal(gpt_read(&mem.blk, 1024, scratch, &tab), GPT_E_GEOMETRY);
	assert_int_equal(gpt_read(&mem.blk, 0, scratch, &tab), GPT_E_GEOMETRY);
	blk_mem_init(&mem, img, 3 * 512, false);
	assert_int_equal(read_gpt(), GPT_E_GEOMETRY);
	/* the disk cut short: the backup header is gone and AlternateLBA points past the end */
	blk_mem_init(&mem, img, 200 * 512, false);
	assert_int_equal(read_gpt(), GPT_E_ALTERNATE);
}

static void header_fields(void **state)
{
	(void)state;
	fresh();
	set_both(8, 4, 0x00020000);
	expect_both_bad(GPT_E_REVISION);
	/* a 1.x minor revision is read */
	fresh();
	set_both(8, 4, 0x00010001);
	assert_int_equal(read_gpt(), GPT_OK);

	fresh();
	set_both(12, 4, 91);
	expect_both_bad(GPT_E_HEADER_SIZE);
	fresh();
	set_both(12, 4, 513);
	expect_both_bad(GPT_E_HEADER_SIZE);
	/* a header of a whole block is fine (the rest is zero, covered by the CRC) */
	fresh();
	set_both(12, 4, 512);
	assert_int_equal(read_gpt(), GPT_OK);

	fresh();
	put64(block(1) + 24, 2); /* MyLBA */
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_true(tab.used_backup);
	assert_int_equal(tab.primary_err, GPT_E_MY_LBA);

	fresh();
	set_both(32, 8, 1ull << 40); /* AlternateLBA past the end */
	expect_both_bad(GPT_E_ALTERNATE);
	fresh();
	put64(block(1) + 32, 1); /* AlternateLBA = MyLBA */
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.primary_err, GPT_E_ALTERNATE);
}

static void usable_range(void **state)
{
	(void)state;
	fresh();
	set_both(48, 8, BLOCKS512); /* LastUsable past the end */
	expect_both_bad(GPT_E_USABLE);
	fresh();
	set_both(40, 8, 100); /* partitions start before FirstUsable */
	expect_both_bad(GPT_E_PART_RANGE);
	fresh();
	set_both(40, 8, 223); /* FirstUsable > LastUsable */
	expect_both_bad(GPT_E_USABLE);
	fresh();
	set_both(40, 8, 1); /* usable space over the primary header */
	expect_both_bad(GPT_E_USABLE);
	/* ... even in a backup whose AlternateLBA is not 1 */
	fresh();
	put64(block(last_lba()) + 32, 223); /* outside usable space */
	put64(block(last_lba()) + 40, 1);
	fix_crcs(last_lba());
	block(1)[0] = 'X';
	assert_int_equal(read_gpt(), GPT_E_SIGNATURE);
	assert_int_equal(tab.backup_err, GPT_E_USABLE);
	fresh();
	set_both(48, 8, BLOCKS512 - 1); /* over the backup header */
	expect_both_bad(GPT_E_USABLE);
}

static void array_fields(void **state)
{
	(void)state;
	fresh();
	set_both(84, 4, 192); /* not 128 * 2^n */
	expect_both_bad(GPT_E_ENTRY_SIZE);
	fresh();
	set_both(84, 4, 64);
	expect_both_bad(GPT_E_ENTRY_SIZE);
	fresh();
	set_both(84, 4, 0);
	expect_both_bad(GPT_E_ENTRY_SIZE);
	fresh();
	set_both(80, 4, 0x100000); /* 128 MiB of entries */
	expect_both_bad(GPT_E_ARRAY_SIZE);
	fresh();
	set_both(80, 4, 0xffffffff);
	expect_both_bad(GPT_E_ARRAY_SIZE);
	fresh();
	set_both(72, 8, 1ull << 62); /* the array past the end */
	expect_both_bad(GPT_E_ARRAY_PLACE);
	fresh();
	set_both(72, 8, UINT64_MAX); /* ... and wrapping */
	expect_both_bad(GPT_E_ARRAY_PLACE);
	/* the primary's array over usable space, the backup's over its own header */
	fresh();
	put64(block(1) + 72, 34);
	fix_crcs(1);
	put64(block(last_lba()) + 72, last_lba() - 31);
	fix_crcs(last_lba());
	expect_both_bad(GPT_E_ARRAY_PLACE);
	/* over the MBR */
	fresh();
	put64(block(1) + 72, 0);
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.primary_err, GPT_E_ARRAY_PLACE);
	/* no entries at all: an empty table is a table */
	fresh();
	set_both(80, 4, 0);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.nr_parts, 0);
}

static void entries(void **state)
{
	(void)state;
	fresh();
	set_entry_both(0, 40, BLOCKS512 + 5); /* EndingLBA past the disk */
	expect_both_bad(GPT_E_PART_RANGE);
	fresh();
	set_entry_both(0, 40, 223); /* past LastUsable: over the backup array */
	expect_both_bad(GPT_E_PART_RANGE);
	fresh();
	set_entry_both(0, 32, 48); /* Starting > Ending */
	expect_both_bad(GPT_E_PART_RANGE);
	fresh();
	set_entry_both(0, 32, 33); /* before FirstUsable: over the primary array */
	expect_both_bad(GPT_E_PART_RANGE);
	fresh();
	set_entry_both(1, 32, 47); /* partition 2 starts inside partition 1 */
	expect_both_bad(GPT_E_OVERLAP);
	fresh();
	set_entry_both(6, 40, UINT64_MAX); /* Ending at 2^64 - 1 */
	expect_both_bad(GPT_E_PART_RANGE);
	/* a one-block partition at the very end of usable space is fine */
	fresh();
	set_entry_both(6, 32, 222);
	set_entry_both(6, 40, 222);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.part[5].first_sector, 222);
	assert_int_equal(tab.part[5].sectors, 1);
	/* an entry with a zero type GUID is unused, whatever else it holds */
	fresh();
	set_entry_both(0, 0, 0);
	set_entry_both(0, 8, 0);
	set_entry_both(0, 40, UINT64_MAX);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.nr_parts, 5);
	assert_int_equal(tab.part[0].index, 2);
}

/* Entries larger than 128 bytes: the array rewritten with 256-byte entries (and 8 KiB ones on
 * 4 KiB blocks, where one entry spans two blocks) reads the same partitions. */
static void rewrite_entry_size(uint32_t size, uint32_t num)
{
	uint64_t lbas[2] = { 1, last_lba() };
	uint8_t *copy = malloc(128 * 128);
	memcpy(copy, block(get64(block(1) + 72)), 128 * 128);
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *h = block(lbas[i]);
		uint64_t bytes = (uint64_t)size * num;
		uint64_t nblocks = (bytes + img_bs - 1) / img_bs;
		/* primary right after its header, backup right before its header */
		uint64_t at = i == 0 ? 2 : lbas[i] - nblocks;
		memset(block(at), 0, nblocks * img_bs);
		for (unsigned e = 0; e < num && e < 128; e++)
			memcpy(block(at) + (uint64_t)e * size, copy + e * 128, 128);
		put64(h + 72, at);
		put32(h + 80, num);
		put32(h + 84, size);
		fix_crcs(lbas[i]);
	}
	free(copy);
}

static void large_entries(void **state)
{
	(void)state;
	fresh();
	rewrite_entry_size(256, 16);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.backup_err, GPT_OK);
	matches_ref();

	make_image(4096, BLOCKS4K, script4k);
	rewrite_entry_size(8192, 3);
	/* the arrays (6 blocks each, LBA 2..7 and 121..126) stay outside usable space */
	set_both(40, 8, 8);
	set_both(48, 8, 120);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.backup_err, GPT_OK);
	assert_int_equal(tab.nr_parts, 2);
	assert_int_equal(tab.part[0].index, 1);
	assert_int_equal(tab.part[1].index, 3);
	/* garbage in the second block of an entry is its reserved tail, not an entry */
	block(3)[0] = 0xff;
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.used_backup);
	assert_int_equal(tab.nr_parts, 2);
}

/* 129 in-use entries: refused rather than cut */
static void too_many(void **state)
{
	(void)state;
	fresh();
	rewrite_entry_size(128, 160);
	uint64_t lbas[2] = { 1, last_lba() };
	for (unsigned i = 0; i < 2; i++) {
		uint8_t *a = block(get64(block(lbas[i]) + 72));
		memset(a, 0, 160 * 128);
		for (unsigned e = 0; e < 129; e++) {
			a[e * 128] = 1; /* type GUID */
			put64(a + e * 128 + 32, 34 + e);
			put64(a + e * 128 + 40, 34 + e);
		}
		put64(block(lbas[i]) + 40, 34);
		put64(block(lbas[i]) + 48, 34 + 140);
		fix_crcs(lbas[i]);
	}
	/* the primary's array (LBA 2..41) now runs into usable space from 34: move usable up */
	for (unsigned i = 0; i < 2; i++) {
		put64(block(lbas[i]) + 40, 42);
		put64(block(lbas[i]) + 48, 42 + 140);
		uint8_t *a = block(get64(block(lbas[i]) + 72));
		for (unsigned e = 0; e < 129; e++) {
			put64(a + e * 128 + 32, 42 + e);
			put64(a + e * 128 + 40, 42 + e);
		}
		fix_crcs(lbas[i]);
	}
	expect_both_bad(GPT_E_TOO_MANY);
	/* 128 are kept */
	for (unsigned i = 0; i < 2; i++) {
		memset(block(get64(block(lbas[i]) + 72)) + 128 * 128, 0, 128);
		fix_crcs(lbas[i]);
	}
	assert_int_equal(read_gpt(), GPT_OK);
	assert_int_equal(tab.nr_parts, GPT_MAX_PARTS);
	assert_int_equal(tab.part[127].index, 128);
}

static void names(void **state)
{
	(void)state;
	fresh();
	/* a control character, then a unit above 0x7e */
	uint8_t *a = block(2);
	a[56 + 2] = 0x07;
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.part[0].label_ok);
	assert_string_equal(tab.part[0].label, "b?ot");
	a[56 + 2] = 'o';
	a[56 + 3] = 0x01; /* U+016F */
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.part[0].label_ok);
	/* an empty name cannot be asked for */
	memset(a + 56, 0, 72);
	fix_crcs(1);
	assert_int_equal(read_gpt(), GPT_OK);
	assert_false(tab.part[0].label_ok);
	assert_string_equal(tab.part[0].label, "");
	const struct gpt_part *p;
	assert_int_equal(gpt_find_label(&tab, "", &p), GPT_E_NOT_FOUND);
}

static void strerror_all(void **state)
{
	(void)state;
	for (int e = GPT_OK; e >= GPT_E_AMBIGUOUS; e--)
		assert_string_not_equal(gpt_strerror(e), "unknown GPT error");
	assert_string_equal(gpt_strerror(5), "unknown GPT error");
}

static int teardown(void **state)
{
	(void)state;
	free(img);
	img = NULL;
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(crc32_matches_zlib),
		cmocka_unit_test(sfdisk_512),
		cmocka_unit_test(fdisk_4096),
		cmocka_unit_test(labels),
		cmocka_unit_test(primary_corrupt_uses_backup),
		cmocka_unit_test(backup_corrupt_reported),
		cmocka_unit_test(both_corrupt),
		cmocka_unit_test(no_protective_mbr),
		cmocka_unit_test(bad_geometry),
		cmocka_unit_test(header_fields),
		cmocka_unit_test(usable_range),
		cmocka_unit_test(array_fields),
		cmocka_unit_test(entries),
		cmocka_unit_test(large_entries),
		cmocka_unit_test(too_many),
		cmocka_unit_test(names),
		cmocka_unit_test(strerror_all),
	};
	return cmocka_run_group_tests(tests, NULL, teardown);
}
