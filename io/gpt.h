/* The GUID Partition Table of a host disk (UEFI 2.9 chapter 5: §5.2.3 the protective MBR, §5.3.2
 * the GPT header, §5.3.3 the partition entry array; the section numbers are the same from 2.6 to
 * 2.11). keel reads it on every NVMe namespace so that `disk = part:LABEL` in keel.cfg can back a
 * VM's virtio-blk by the partition named LABEL (io/blk_part.h makes that backend).
 *
 * Everything on the disk is hostile: a guest may have written the table (it owns the partition
 * or had the whole disk before), a device may hand back garbage. Every field is checked before it
 * is used as a position or a size, and a table that breaks a rule is refused rather than
 * repaired. If the primary copy (header at LBA 1 and its array) fails any check, the backup copy
 * (header at the last LBA, or where the primary's AlternateLBA points) is used and the result
 * says so; nothing is ever written to the disk (the spec's "restore the primary" is left to the
 * disk's owner). Both bad: the disk has no GPT for keel.
 *
 * Decisions beyond the spec's letter, each because a wrong table must never hand one VM blocks
 * another VM or the table itself uses:
 * - LBA 0 must hold an MBR (0xAA55) with a 0xEE record (protective or hybrid, §5.2.3): a disk
 *   reformatted with a legacy MBR may still hold a stale GPT (§5.3.2), which must not be honoured.
 * - Overlapping in-use partitions make the copy invalid (§5.3.3: "must not overlap"); there is no
 *   way to tell which of two overlapping entries is the intended one.
 * - At most GPT_MAX_PARTS in-use entries are kept; a table with more is refused, not truncated,
 *   so that no partition silently disappears. The array may be at most GPT_MAX_ARRAY_BYTES.
 * - The header's Revision must have major version 1 (the only one there is); its minor is not
 *   checked, so a compatible 1.x header is read.
 *
 * Nothing here allocates: the result is one fixed-size struct and the reads go through a scratch
 * buffer of one logical block that the caller provides. */
#ifndef KEEL_IO_GPT_H
#define KEEL_IO_GPT_H

#include "io/blk.h"

#define GPT_MAX_PARTS 128
/* The largest entry array accepted (16 KiB is the spec's minimum and what every tool writes). */
#define GPT_MAX_ARRAY_BYTES (1024ull * 1024ull)
/* PartitionName is 36 UTF-16 code units (§5.3.3) */
#define GPT_NAME_UNITS 36
/* scratch gpt_read needs: one block of the largest block size */
#define GPT_SCRATCH_BYTES 4096u

enum gpt_status {
	GPT_OK = 0,
	GPT_E_IO = -1,		/* a read from the disk failed */
	GPT_E_GEOMETRY = -2,	/* block size not 512 or 4096, or the disk too small for a GPT */
	GPT_E_NO_PMBR = -3,	/* LBA 0 holds no MBR with a 0xEE record */
	GPT_E_SIGNATURE = -4,	/* no "EFI PART" */
	GPT_E_REVISION = -5,	/* not a 1.x header */
	GPT_E_HEADER_SIZE = -6, /* HeaderSize outside 92 .. block size */
	GPT_E_HEADER_CRC = -7,	/* HeaderCRC32 wrong */
	GPT_E_MY_LBA = -8,	/* MyLBA is not where the header was read */
	GPT_E_ALTERNATE = -9,	/* AlternateLBA outside the disk or equal to MyLBA */
	GPT_E_USABLE = -10, /* First/LastUsableLBA outside the disk, unordered or over a header */
	GPT_E_ENTRY_SIZE = -11,	 /* SizeOfPartitionEntry not 128 * 2^n */
	GPT_E_ARRAY_SIZE = -12,	 /* the entry array larger than GPT_MAX_ARRAY_BYTES */
	GPT_E_ARRAY_PLACE = -13, /* the array outside the disk or over a header or usable space */
	GPT_E_ARRAY_CRC = -14,	 /* PartitionEntryArrayCRC32 wrong */
	GPT_E_PART_RANGE = -15,	 /* an in-use entry with Starting > Ending or outside usable */
	GPT_E_OVERLAP = -16,	 /* two in-use entries overlap */
	GPT_E_TOO_MANY = -17,	 /* more than GPT_MAX_PARTS in-use entries */
	GPT_E_NOT_FOUND = -18,	 /* gpt_find_label: no partition has that label */
	GPT_E_AMBIGUOUS = -19,	 /* gpt_find_label: more than one has it */
};

struct gpt_part {
	uint32_t index;	       /* its entry's position in the array, from 1 (Linux's sdX<index>) */
	uint64_t first_lba;    /* StartingLBA, in logical blocks */
	uint64_t last_lba;     /* EndingLBA, inclusive */
	uint64_t first_sector; /* the same range in 512-byte sectors, what io/blk_part.h takes */
	uint64_t sectors;
	uint8_t type_guid[16]; /* as stored on disk (gpt_guid_str prints them) */
	uint8_t unique_guid[16];
	uint64_t attributes;
	/* PartitionName up to its first NUL, each printable ASCII unit as itself and any other unit
	 * as '?'; always NUL-terminated */
	char label[GPT_NAME_UNITS + 1];
	/* the name is non-empty printable ASCII (0x20..0x7e) and so can be asked for by label */
	bool label_ok;
};

/* About 15 KiB: keep it static or allocated, not on a keel stack. */
struct gpt_table {
	uint32_t block_size; /* logical block size the table was read with */
	uint64_t blocks;     /* disk size in logical blocks */
	uint64_t first_usable, last_usable;
	uint8_t disk_guid[16];
	/* The primary copy failed (primary_err says why) and the backup is what is described here:
	 * worth a line in the log, since the owner of the disk should repair it. */
	bool used_backup;
	int primary_err;
	/* The copy that is not used failed its checks (GPT_OK when it is fine): backup_err when the
	 * primary is used, primary_err when the backup is. */
	int backup_err;
	unsigned nr_parts;
	struct gpt_part part[GPT_MAX_PARTS]; /* in entry order */
};

/* Reads the GPT of disk with logical blocks of block_size bytes (512 or 4096: LBA n is at byte
 * n * block_size). scratch holds at least block_size bytes and is overwritten. Returns GPT_OK with
 * *out filled, or a gpt_status (the primary copy's reason when both copies fail; *out then holds
 * no partitions). */
int gpt_read(struct blk_backend *disk, uint32_t block_size, void *scratch, struct gpt_table *out);

/* The partition whose label is exactly label (case-sensitive, as Linux's PARTLABEL) among those
 * with label_ok: GPT_OK and *found set, GPT_E_NOT_FOUND or GPT_E_AMBIGUOUS. */
int gpt_find_label(const struct gpt_table *t, const char *label, const struct gpt_part **found);

/* A GUID as text, "C12A7328-F81F-11D2-BA4B-00A0C93EC93B": the first three fields are stored
 * little-endian, the last two as bytes (UEFI 2.9 appendix A). out holds 37 bytes. */
void gpt_guid_str(const uint8_t guid[16], char out[37]);

/* "ok", "header CRC mismatch" ... for logs and tests */
const char *gpt_strerror(int status);

#endif
