/* The host's IVRS table (ivrs.h). Section numbers are those of the AMD I/O Virtualization
 * Technology (IOMMU) Specification, rev 3.x, section 5. Multi-byte fields are read with le*():
 * ACPI tables are packed and promise no alignment. */
#include "drivers/ivrs.h"

#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/le.h"

/* 5.2 IVRS header: the 36-byte ACPI header, IVinfo, 8 reserved bytes, then the blocks. */
#define IVRS_LENGTH 4
#define IVRS_REVISION 8
#define IVRS_IVINFO 36
#define IVRS_BLOCKS 48

/* 5.2 IVinfo fields */
#define IVINFO_EFRSUP (1u << 0)
#define IVINFO_DMA_REMAP (1u << 1)
#define IVINFO_GVA_SHIFT 5 /* 3 bits */
#define IVINFO_PA_SHIFT 8  /* 7 bits */
#define IVINFO_VA_SHIFT 15 /* 7 bits */
#define IVINFO_HT_ATS_RESV (1u << 22)

/* Every block (IVHD 5.2.2, IVMD 5.2.3) starts with type (1), flags (1) and its length (2), which
 * counts the header: that is what lets unknown block types be stepped over. */
#define BLOCK_HDR_LEN 4

/* 5.2.2 IVHD types and their fixed headers. 10h: 24 bytes, ending with the IOMMU feature
 * reporting field at 20. 11h and 40h: 40 bytes, with the IOMMU attributes at 20, the EFR register
 * image at 24 and the EFR register image 2 at 32. 40h differs from 11h in allowing ACPI HID
 * device entries (type F0h). */
#define IVHD_10 0x10
#define IVHD_11 0x11
#define IVHD_40 0x40
#define IVHD_10_LEN 24
#define IVHD_11_LEN 40
#define IVHD_DEVID 4
#define IVHD_CAP 6
#define IVHD_BASE 8
#define IVHD_SEGMENT 16
#define IVHD_INFO 18
#define IVHD_FEATURES 20
#define IVHD_EFR 24
#define IVHD_EFR2 32

/* The IOMMU's MMIO base register holds bits 51:14 (so 16 KiB aligned); the control registers take
 * 16 KiB, 512 KiB when the performance counter banks are there (EFR bit 9, PCSup). Type 10h blocks
 * have no EFR image: keel assumes 16 KiB, enough for everything it programs. */
#define IOMMU_MMIO_ALIGN (16ull * 1024)
#define IOMMU_MMIO_LEN (16u * 1024)
#define IOMMU_MMIO_LEN_PC (512u * 1024)
#define EFR_PCSUP (1ull << 9)
#define MAX_PHYS (1ull << 52) /* the architectural limit on physical addresses */

/* 5.2.2.2 device entries. Type bits 7:6 give the entry's size class: 00b 4 bytes, 01b 8 bytes,
 * 10b 16 bytes, 11b variable length. */
#define DEV_PAD4 0
#define DEV_ALL 1
#define DEV_SELECT 2
#define DEV_START 3
#define DEV_END 4
#define DEV_PAD8 64
#define DEV_ALIAS_SELECT 66
#define DEV_ALIAS_START 67
#define DEV_EXT_SELECT 70
#define DEV_EXT_START 71
#define DEV_SPECIAL 72
#define DEV_HID 240
/* 4- and 8-byte entries: type 0, device ID 1-2, DTE setting 3. Alias entries: the source (alias)
 * device ID at 5-6. Extended entries: the extended DTE setting at 4-7. Special entries: handle 4,
 * source device ID 5-6, variety 7. */
#define DEV_ID 1
#define DEV_DTE 3
#define DEV_ALIAS_ID 5
#define DEV_EXT_DTE 4
#define DEV_SPECIAL_HANDLE 4
#define DEV_SPECIAL_ID 5
#define DEV_SPECIAL_VARIETY 7
/* The ACPI HID entry: HID 4-11, CID 12-19, UID format 20, UID length 21, UID from 22. */
#define DEV_HID_HID 4
#define DEV_HID_CID 12
#define DEV_HID_UID_LEN 21
#define DEV_HID_FIXED 22

/* 5.2.3 IVMD: device ID 4-5, auxiliary data (the range's last device ID for 22h) 6-7, 8 reserved
 * bytes, start address 16-23, memory block length 24-31. */
#define IVMD_ALL 0x20
#define IVMD_ONE 0x21
#define IVMD_RANGE 0x22
#define IVMD_LEN 32
#define IVMD_DEVID 4
#define IVMD_AUX 6
#define IVMD_START 16
#define IVMD_BLOCK_LEN 24
#define IVMD_ALIGN 4096u

const char *ivrs_strerror(int err)
{
	switch (err) {
	case IVRS_OK:
		return "ok";
	case IVRS_EBADSIG:
		return "not an IVRS table";
	case IVRS_EBADLEN:
		return "bad length";
	case IVRS_EMALFORMED:
		return "malformed device entries";
	case IVRS_EBADBASE:
		return "bad IOMMU base address";
	case IVRS_EBADIVMD:
		return "bad IVMD range";
	case IVRS_ENOUNITS:
		return "no IOMMU described";
	}
	return "unknown error";
}

static bool ivhd_type(uint8_t type)
{
	return type == IVHD_10 || type == IVHD_11 || type == IVHD_40;
}

static uint32_t ivhd_hdr_len(uint8_t type)
{
	return type == IVHD_10 ? IVHD_10_LEN : IVHD_11_LEN;
}

/* The minimum length of a block of this type: its fixed part, or the common header for types
 * that are only skipped. */
static uint32_t block_min_len(uint8_t type)
{
	if (ivhd_type(type))
		return ivhd_hdr_len(type);
	if (type == IVMD_ALL || type == IVMD_ONE || type == IVMD_RANGE)
		return IVMD_LEN;
	return BLOCK_HDR_LEN;
}

static struct ivrs_unit *find_unit(struct ivrs_info *out, uint16_t segment, uint16_t devid)
{
	for (unsigned i = 0; i < out->nr_units; i++)
		if (out->units[i].segment == segment && out->units[i].devid == devid)
			return &out->units[i];
	return NULL;
}

/* Where each unit's description comes from: the IVHD offset chosen for it, kept in parallel with
 * out->units during the parse. */
struct choice {
	uint32_t off[IVRS_MAX_UNITS];
};

/* First pass: every block's framing, and for each IOMMU (segment, IOMMU device ID) the block to
 * read it from. 5.2.2: when several IVHD types describe one IOMMU, software uses the highest type
 * it supports. keel reads all three, so the highest wins: 40h (which alone may list ACPI HID
 * devices) over 11h (the EFR image) over 10h. A second block of the same type and unit changes
 * nothing (the first is kept) and is counted with the superseded ones. */
static int choose_blocks(const uint8_t *t, uint32_t len, struct ivrs_info *out, struct choice *ch)
{
	for (uint32_t off = IVRS_BLOCKS; off < len;) {
		if (len - off < BLOCK_HDR_LEN)
			return IVRS_EBADLEN;
		uint8_t type = t[off];
		uint32_t blen = le16(t + off + 2);
		if (blen < block_min_len(type) || blen > len - off)
			return IVRS_EBADLEN;
		if (ivhd_type(type)) {
			uint16_t devid = le16(t + off + IVHD_DEVID);
			uint16_t seg = le16(t + off + IVHD_SEGMENT);
			struct ivrs_unit *u = find_unit(out, seg, devid);
			if (u && type > u->type) {
				u->type = type;
				ch->off[u - out->units] = off;
				out->nr_superseded++;
			} else if (u) {
				out->nr_superseded++;
			} else if (out->nr_units < IVRS_MAX_UNITS) {
				u = &out->units[out->nr_units];
				u->type = type;
				u->segment = seg;
				u->devid = devid;
				ch->off[out->nr_units++] = off;
			} else {
				out->nr_units_dropped++;
			}
		} else if (block_min_len(type) == BLOCK_HDR_LEN) {
			out->nr_unknown_blocks++;
		}
		off += blen;
	}
	return IVRS_OK;
}

static void ascii8(char *dst, const uint8_t *src)
{
	for (unsigned i = 0; i < 8; i++) {
		if (src[i] >= 0x20 && src[i] < 0x7F)
			dst[i] = (char)src[i];
		else
			dst[i] = '?';
	}
	dst[8] = '\0';
}

static void add_range(struct ivrs_unit *u, uint16_t first, uint16_t last, uint8_t dte, bool all,
		      bool ext, uint32_t ext_dte)
{
	if (u->nr_ranges == IVRS_MAX_RANGES) {
		u->nr_ranges_dropped++;
		return;
	}
	u->ranges[u->nr_ranges++] = (struct ivrs_range){
		.first = first, .last = last, .dte = dte, .all = all, .ext = ext, .ext_dte = ext_dte
	};
}

static void add_alias(struct ivrs_unit *u, uint16_t first, uint16_t last, uint16_t alias,
		      uint8_t dte)
{
	if (u->nr_aliases == IVRS_MAX_ALIASES) {
		u->nr_aliases_dropped++;
		return;
	}
	u->aliases[u->nr_aliases++] =
		(struct ivrs_alias){ .first = first, .last = last, .alias = alias, .dte = dte };
}

/* The size of the device entry at e (avail bytes left in its IVHD), 0 when it cannot be known
 * (an unknown variable-length type: only F0h's layout is defined). */
static uint32_t entry_len(const uint8_t *e, uint32_t avail)
{
	switch (e[0] >> 6) {
	case 0:
		return 4;
	case 1:
		return 8;
	case 2:
		return 16;
	}
	if (e[0] != DEV_HID)
		return 0;
	/* F0h's length is its fixed part plus its UID length byte; a header too short to hold
	 * that byte is reported as such by the caller's bound check. */
	if (avail <= DEV_HID_UID_LEN)
		return DEV_HID_FIXED;
	return DEV_HID_FIXED + e[DEV_HID_UID_LEN];
}

/* 5.2.2.2: walks the device entries of the IVHD at b (blen bytes, header hlen), recording them
 * into u, or only checking them when u is NULL (a superseded block is held to the same rules, so
 * whether a table is accepted does not depend on its block order). A range start (3, 67, 71) must
 * be followed directly by a range end (4), which must not come before it; an end with no start
 * before it, or a start left open at the end of the block, makes the table malformed. */
static int walk_entries(const uint8_t *b, uint32_t blen, uint32_t hlen, struct ivrs_unit *u)
{
	bool open = false;
	uint8_t open_type = 0, open_dte = 0;
	uint16_t open_first = 0, open_alias = 0;
	uint32_t open_ext = 0;

	for (uint32_t off = hlen; off < blen;) {
		const uint8_t *e = b + off;
		uint32_t elen = entry_len(e, blen - off);
		if (elen == 0) {
			/* Cannot be stepped over: what follows is unread, its devices not covered. */
			if (u) {
				u->nr_unknown_entries++;
				u->truncated = true;
			}
			return open ? IVRS_EMALFORMED : IVRS_OK;
		}
		if (elen > blen - off)
			return IVRS_EBADLEN;
		uint8_t type = e[0];
		uint16_t id = le16(e + DEV_ID);
		uint8_t dte = e[DEV_DTE];
		if (open && type != DEV_END)
			return IVRS_EMALFORMED;
		off += elen;
		switch (type) {
		case DEV_PAD4:
		case DEV_PAD8:
			break;
		case DEV_ALL:
			if (u)
				add_range(u, 0, 0xFFFF, dte, true, false, 0);
			break;
		case DEV_SELECT:
			if (u)
				add_range(u, id, id, dte, false, false, 0);
			break;
		case DEV_EXT_SELECT:
			if (u)
				add_range(u, id, id, dte, false, true, le32(e + DEV_EXT_DTE));
			break;
		case DEV_ALIAS_SELECT:
			if (u)
				add_alias(u, id, id, le16(e + DEV_ALIAS_ID), dte);
			break;
		case DEV_START:
		case DEV_ALIAS_START:
		case DEV_EXT_START:
			open = true;
			open_type = type;
			open_first = id;
			open_dte = dte;
			open_alias = type == DEV_ALIAS_START ? le16(e + DEV_ALIAS_ID) : 0;
			open_ext = type == DEV_EXT_START ? le32(e + DEV_EXT_DTE) : 0;
			break;
		case DEV_END:
			if (!open || id < open_first)
				return IVRS_EMALFORMED;
			open = false;
			if (!u)
				break;
			if (open_type == DEV_ALIAS_START)
				add_alias(u, open_first, id, open_alias, open_dte);
			else
				add_range(u, open_first, id, open_dte, false,
					  open_type == DEV_EXT_START, open_ext);
			break;
		case DEV_SPECIAL:
			if (!u)
				break;
			if (u->nr_special == IVRS_MAX_SPECIAL) {
				u->nr_special_dropped++;
				break;
			}
			u->special[u->nr_special++] = (struct ivrs_special){
				.variety = e[DEV_SPECIAL_VARIETY],
				.handle = e[DEV_SPECIAL_HANDLE],
				.bdf = le16(e + DEV_SPECIAL_ID),
				.dte = dte,
			};
			break;
		case DEV_HID: {
			if (!u)
				break;
			if (u->nr_hid == IVRS_MAX_HID) {
				u->nr_hid_dropped++;
				break;
			}
			struct ivrs_hid *h = &u->hid[u->nr_hid++];
			h->bdf = id;
			h->dte = dte;
			ascii8(h->hid, e + DEV_HID_HID);
			ascii8(h->cid, e + DEV_HID_CID);
			h->uid_len = e[DEV_HID_UID_LEN];
			break;
		}
		default:
			if (u)
				u->nr_unknown_entries++;
			break;
		}
	}
	return open ? IVRS_EMALFORMED : IVRS_OK;
}

/* The fixed header of the IVHD at b into u (5.2.2). */
static int read_ivhd(const uint8_t *b, struct ivrs_unit *u)
{
	u->flags = b[1];
	u->cap_offset = le16(b + IVHD_CAP);
	u->base = le64(b + IVHD_BASE);
	uint16_t info = le16(b + IVHD_INFO);
	u->msi_num = (uint8_t)(info & 0x1F);
	u->unit_id = (uint8_t)((info >> 8) & 0x1F);
	u->features = le32(b + IVHD_FEATURES);
	u->mmio_len = IOMMU_MMIO_LEN;
	if (u->type != IVHD_10) {
		u->efr = le64(b + IVHD_EFR);
		u->efr2 = le64(b + IVHD_EFR2);
		if (u->efr & EFR_PCSUP)
			u->mmio_len = IOMMU_MMIO_LEN_PC;
	}
	if (u->base == 0 || u->base % IOMMU_MMIO_ALIGN != 0 ||
	    !range_within(u->base, u->mmio_len, MAX_PHYS))
		return IVRS_EBADBASE;
	return IVRS_OK;
}

/* 5.2.3: one IVMD block. */
static int read_ivmd(const uint8_t *b, struct ivrs_info *out)
{
	struct ivrs_ivmd m = {
		.type = b[0],
		.flags = b[1],
		.start = le64(b + IVMD_START),
		.len = le64(b + IVMD_BLOCK_LEN),
	};
	switch (m.type) {
	case IVMD_ALL:
		m.first = 0;
		m.last = 0xFFFF;
		break;
	case IVMD_ONE:
		m.first = m.last = le16(b + IVMD_DEVID);
		break;
	default:
		m.first = le16(b + IVMD_DEVID);
		m.last = le16(b + IVMD_AUX);
		break;
	}
	if (m.last < m.first || m.len == 0 || m.start % IVMD_ALIGN != 0 ||
	    m.len % IVMD_ALIGN != 0 || !range_within(m.start, m.len, MAX_PHYS))
		return IVRS_EBADIVMD;
	if (out->nr_ivmd == IVRS_MAX_IVMD)
		out->nr_ivmd_dropped++;
	else
		out->ivmd[out->nr_ivmd++] = m;
	return IVRS_OK;
}

int ivrs_parse(const uint8_t *table, uint32_t len, struct ivrs_info *out)
{
	struct choice ch = { { 0 } };

	memset(out, 0, sizeof(*out));
	if (len < IVRS_BLOCKS)
		return IVRS_EBADLEN;
	if (memcmp(table, "IVRS", 4) != 0)
		return IVRS_EBADSIG;
	uint32_t tlen = le32(table + IVRS_LENGTH);
	if (tlen < IVRS_BLOCKS || tlen > len)
		return IVRS_EBADLEN;
	out->revision = table[IVRS_REVISION];
	uint32_t ivinfo = le32(table + IVRS_IVINFO);
	out->efr_sup = (ivinfo & IVINFO_EFRSUP) != 0;
	out->dma_remap = (ivinfo & IVINFO_DMA_REMAP) != 0;
	out->gva_size = (uint8_t)((ivinfo >> IVINFO_GVA_SHIFT) & 0x7);
	out->pa_size = (uint8_t)((ivinfo >> IVINFO_PA_SHIFT) & 0x7F);
	out->va_size = (uint8_t)((ivinfo >> IVINFO_VA_SHIFT) & 0x7F);
	out->ht_ats_resv = (ivinfo & IVINFO_HT_ATS_RESV) != 0;

	int err = choose_blocks(table, tlen, out, &ch);
	if (err)
		return err;

	/* Second pass: the framing is known good; read the chosen IVHDs, check the others' entries
	 * all the same, and read the IVMDs. */
	for (uint32_t off = IVRS_BLOCKS; off < tlen; off += le16(table + off + 2)) {
		const uint8_t *b = table + off;
		uint32_t blen = le16(b + 2);
		if (ivhd_type(b[0])) {
			struct ivrs_unit *u =
				find_unit(out, le16(b + IVHD_SEGMENT), le16(b + IVHD_DEVID));
			if (u && ch.off[u - out->units] != off)
				u = NULL;
			if (u && (err = read_ivhd(b, u)) != IVRS_OK)
				return err;
			err = walk_entries(b, blen, ivhd_hdr_len(b[0]), u);
		} else if (block_min_len(b[0]) == IVMD_LEN) {
			err = read_ivmd(b, out);
		}
		if (err)
			return err;
	}
	return out->nr_units ? IVRS_OK : IVRS_ENOUNITS;
}

bool ivrs_device_covered(const struct ivrs_info *info, uint16_t segment, uint16_t bdf,
			 unsigned *unit, uint16_t *alias)
{
	/* An alias entry first (the requester ID the IOMMU sees is the alias), then select and
	 * range entries, and only then a unit's "all devices" entry, so that a unit naming the
	 * device wins over one that claims everything on the segment. */
	for (int pass = 0; pass < 3; pass++) {
		for (unsigned i = 0; i < info->nr_units && i < IVRS_MAX_UNITS; i++) {
			const struct ivrs_unit *u = &info->units[i];
			uint16_t as = bdf;
			bool hit = false;
			if (u->segment != segment)
				continue;
			if (pass == 0) {
				for (unsigned j = 0; j < u->nr_aliases && !hit; j++)
					if (bdf >= u->aliases[j].first &&
					    bdf <= u->aliases[j].last) {
						hit = true;
						as = u->aliases[j].alias;
					}
			} else {
				for (unsigned j = 0; j < u->nr_ranges && !hit; j++)
					hit = u->ranges[j].all == (pass == 2) &&
					      bdf >= u->ranges[j].first && bdf <= u->ranges[j].last;
			}
			if (!hit)
				continue;
			if (unit)
				*unit = i;
			if (alias)
				*alias = as;
			return true;
		}
	}
	return false;
}

int ivrs_format_unit(const struct ivrs_info *info, unsigned index, char *buf, size_t size)
{
	if (index >= info->nr_units || index >= IVRS_MAX_UNITS)
		return ksnprintf(buf, size, "AMD-Vi unit %u: none", index);
	const struct ivrs_unit *u = &info->units[index];
	unsigned dropped = u->nr_ranges_dropped + u->nr_aliases_dropped + u->nr_special_dropped +
			   u->nr_hid_dropped;
	return ksnprintf(buf, size,
			 "AMD-Vi unit %02x:%02x.%u at 0x%llx, segment %u, type %02xh, %u device "
			 "range%s, %u alias%s, %u special, %u acpi%s%s",
			 u->devid >> 8, (u->devid >> 3) & 0x1F, u->devid & 7,
			 (unsigned long long)u->base, u->segment, u->type, u->nr_ranges,
			 u->nr_ranges == 1 ? "" : "s", u->nr_aliases,
			 u->nr_aliases == 1 ? "" : "es", u->nr_special, u->nr_hid,
			 dropped ? ", entries dropped" : "",
			 u->truncated ? ", unknown entry ended the list" : "");
}

int ivrs_format_ivmd(const struct ivrs_info *info, unsigned index, char *buf, size_t size)
{
	if (index >= info->nr_ivmd || index >= IVRS_MAX_IVMD)
		return ksnprintf(buf, size, "AMD-Vi IVMD %u: none", index);
	const struct ivrs_ivmd *m = &info->ivmd[index];
	return ksnprintf(
		buf, size,
		"AMD-Vi IVMD type %02xh devices %02x:%02x.%u-%02x:%02x.%u 0x%llx-0x%llx%s%s%s%s",
		m->type, m->first >> 8, (m->first >> 3) & 0x1F, m->first & 7, m->last >> 8,
		(m->last >> 3) & 0x1F, m->last & 7, (unsigned long long)m->start,
		(unsigned long long)(m->start + m->len - 1),
		m->flags & IVRS_IVMD_UNITY ? " unity" : "", m->flags & IVRS_IVMD_READ ? " r" : "",
		m->flags & IVRS_IVMD_WRITE ? " w" : "",
		m->flags & IVRS_IVMD_EXCLUSION ? " exclusion" : "");
}
