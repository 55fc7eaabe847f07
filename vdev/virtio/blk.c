#include "vdev/virtio/blk.h"

#include "lib/kstring.h"

/* Feature bits (5.2.3). */
#define F_SIZE_MAX 1
#define F_SEG_MAX 2
#define F_RO 5
#define F_BLK_SIZE 6
#define F_FLUSH 9
#define F_CONFIG_WCE 11
#define F_DISCARD 13
#define F_WRITE_ZEROES 14

/* Request types and status values (5.2.6). */
#define T_IN 0
#define T_OUT 1
#define T_FLUSH 4
#define T_GET_ID 8
#define T_DISCARD 11
#define T_WRITE_ZEROES 13
#define S_OK 0
#define S_IOERR 1
#define S_UNSUPP 2

#define HDR_BYTES 16 /* le32 type, le32 reserved, le64 sector */
#define SEG_BYTES 16 /* discard/write-zeroes: le64 sector, le32 num_sectors, le32 flags */
#define WZ_UNMAP 1u

/* struct virtio_blk_config (5.2.4), up to write_zeroes_may_unmap and its padding. */
#define CFG_CAPACITY 0
#define CFG_SIZE_MAX 8
#define CFG_SEG_MAX 12
#define CFG_BLK_SIZE 20
#define CFG_WRITEBACK 32 /* u8: 1 writeback, 0 writethrough (with F_CONFIG_WCE) */
#define CFG_MAX_DISCARD_SECTORS 36
#define CFG_MAX_DISCARD_SEG 40
#define CFG_DISCARD_ALIGN 44
#define CFG_MAX_WZ_SECTORS 48
#define CFG_MAX_WZ_SEG 52
#define CFG_WZ_MAY_UNMAP 56
#define CFG_LEN 60

#define SEG_MAX (VIRTQ_MAX_SEGS - 2) /* a chain's buffers less the header and the status */
#define SIZE_MAX_BYTES (1u << 20)
#define MAX_RANGE_SECTORS 0x400000u /* 2 GiB per discard or write-zeroes segment */

static int to_status(int rc)
{
	return rc == BLK_OK ? S_OK : rc == BLK_E_UNSUPP ? S_UNSUPP : S_IOERR;
}

/* The chain's bytes [off, off + n) of its readable (or writable) part as host pointers into the
 * guest's RAM, one segment per buffer piece (split where the guest's RAM is): their number, or 0
 * when they do not fit BLK_MAX_SEGS (the caller copies through the bounce buffer instead). The
 * pointers stay valid while this vCPU serves the request (core/vm_balloon.c's quiet points). */
static unsigned map_chain(const struct guest_mem *m, const struct virtq_chain *c, bool writable,
			  uint64_t off, uint64_t n, struct blk_seg *segs)
{
	unsigned first = writable ? c->nr_out : 0, count = writable ? c->nr_in : c->nr_out, nr = 0;

	for (unsigned i = first; i < first + count && n; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t gpa = s->gpa + off, left = MIN(n, s->len - off);
		off = 0;
		while (left) {
			const struct gmem_extent *e = gmem_find(m, gpa);
			if (!e || nr == BLK_MAX_SEGS)
				return 0;
			uint64_t k = MIN(left, e->gpa + e->size - gpa);
			segs[nr++] = (struct blk_seg){ gmem_ptr(m, gpa, k), (uint32_t)k };
			if (!segs[nr - 1].va)
				return 0;
			gpa += k;
			left -= k;
			n -= k;
		}
	}
	return n ? 0 : nr;
}

/* IN: sectors from the disk into the writable buffers (all but the status byte). */
static int read_data(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		     uint64_t sector, uint64_t bytes, uint32_t *done)
{
	if (!blk_range_ok(b->disk, sector, bytes >> BLK_SECTOR_SHIFT))
		return S_IOERR;
	/* straight into the guest's buffers when the backend's device can */
	unsigned nr =
		bytes && blk_can_vector(b->disk) ? map_chain(m, c, true, 0, bytes, b->segs) : 0;
	if (nr) {
		int rc = blk_readv(b->disk, sector, b->segs, nr, bytes >> BLK_SECTOR_SHIFT);
		if (rc != BLK_E_UNSUPP) {
			if (rc == BLK_OK)
				*done += (uint32_t)bytes;
			return to_status(rc);
		}
	}
	for (uint64_t off = 0; off < bytes; off += VIRTIO_BLK_BOUNCE) {
		uint64_t n = MIN(bytes - off, (uint64_t)VIRTIO_BLK_BOUNCE);
		int rc = blk_read(b->disk, sector + (off >> BLK_SECTOR_SHIFT), b->bounce,
				  n >> BLK_SECTOR_SHIFT);
		if (rc)
			return to_status(rc);
		if (virtq_chain_write(m, c, off, b->bounce, n) != n)
			return S_IOERR;
		*done += (uint32_t)n;
	}
	return S_OK;
}

/* OUT: sectors from the readable buffers after the header onto the disk. */
static int write_data(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		      uint64_t sector, uint64_t bytes)
{
	if (b->disk->read_only)
		return S_IOERR;
	if (!blk_range_ok(b->disk, sector, bytes >> BLK_SECTOR_SHIFT))
		return S_IOERR;
	unsigned nr = bytes && blk_can_vector(b->disk)
			      ? map_chain(m, c, false, HDR_BYTES, bytes, b->segs)
			      : 0;
	if (nr) {
		int rc = blk_writev(b->disk, sector, b->segs, nr, bytes >> BLK_SECTOR_SHIFT);
		if (rc != BLK_E_UNSUPP)
			return to_status(rc);
	}
	for (uint64_t off = 0; off < bytes; off += VIRTIO_BLK_BOUNCE) {
		uint64_t n = MIN(bytes - off, (uint64_t)VIRTIO_BLK_BOUNCE);
		if (virtq_chain_read(m, c, HDR_BYTES + off, b->bounce, n) != n)
			return S_IOERR;
		int rc = blk_write(b->disk, sector + (off >> BLK_SECTOR_SHIFT), b->bounce,
				   n >> BLK_SECTOR_SHIFT);
		if (rc)
			return to_status(rc);
	}
	return S_OK;
}

/* DISCARD and WRITE_ZEROES: one segment (max_*_seg is 1), its flags as 5.2.6.2 allows. */
static int range_op(struct virtio_blk *b, const struct guest_mem *m, const struct virtq_chain *c,
		    uint32_t type)
{
	uint8_t seg[SEG_BYTES];
	uint64_t sector;
	uint32_t count, flags;
	if (c->out_bytes != HDR_BYTES + SEG_BYTES ||
	    virtq_chain_read(m, c, HDR_BYTES, seg, SEG_BYTES) != SEG_BYTES)
		return S_IOERR; /* none, or more segments than the device said it takes */
	memcpy(&sector, seg, 8);
	memcpy(&count, seg + 8, 4);
	memcpy(&flags, seg + 12, 4);
	if (count > MAX_RANGE_SECTORS)
		return S_IOERR;
	if (type == T_DISCARD) {
		/* the unmap flag means nothing for a discard: the device must refuse it */
		if (flags)
			return S_UNSUPP;
		return to_status(blk_discard(b->disk, sector, count));
	}
	if (flags & ~WZ_UNMAP)
		return S_UNSUPP;
	return to_status(blk_write_zeroes(b->disk, sector, count));
}

static uint32_t serve(struct virtio_pci *v, const struct guest_mem *m, const struct virtq_chain *c)
{
	struct virtio_blk *b = v->ctx;
	uint8_t hdr[HDR_BYTES];
	uint32_t type, written = 0;
	uint64_t sector;
	int status;

	/* the header leads the readable part, the status byte ends the writable part (5.2.6) */
	if (c->in_bytes < 1) {
		b->errors++;
		return 0; /* no room for a status: nothing the driver can read */
	}
	uint64_t in_data = c->in_bytes - 1;
	if (virtq_chain_read(m, c, 0, hdr, HDR_BYTES) != HDR_BYTES) {
		status = S_IOERR; /* no whole header: no request, but the driver must hear so */
		goto done;
	}
	memcpy(&type, hdr, 4);
	memcpy(&sector, hdr + 8, 8);
	uint64_t out_data = c->out_bytes - HDR_BYTES;
	switch (type) {
	case T_IN:
		b->reads++;
		status = in_data % BLK_SECTOR_SIZE || out_data
				 ? S_IOERR
				 : read_data(b, m, c, sector, in_data, &written);
		if (status == S_OK)
			b->read_bytes += in_data;
		break;
	case T_OUT:
		b->writes++;
		status = out_data % BLK_SECTOR_SIZE || in_data
				 ? S_IOERR
				 : write_data(b, m, c, sector, out_data);
		/* writethrough: the write completes once it is on the medium (5.2.6.4) */
		if (status == S_OK && !b->writeback)
			status = to_status(blk_flush(b->disk));
		if (status == S_OK)
			b->written_bytes += out_data;
		break;
	case T_FLUSH:
		b->flushes++;
		status = to_status(blk_flush(b->disk));
		break;
	case T_GET_ID: {
		char id[VIRTIO_BLK_ID_BYTES] = { 0 };
		memcpy(id, b->serial, kstrnlen(b->serial, sizeof(id)));
		written = (uint32_t)virtq_chain_write(m, c, 0, id, MIN(in_data, sizeof(id)));
		status = S_OK;
		break;
	}
	case T_DISCARD:
	case T_WRITE_ZEROES:
		status = b->disk->read_only ? S_IOERR : range_op(b, m, c, type);
		break;
	default:
		status = S_UNSUPP;
		break;
	}
done:
	if (status != S_OK)
		b->errors++;
	uint8_t s = (uint8_t)status;
	written += (uint32_t)virtq_chain_write(m, c, in_data, &s, 1);
	return written;
}

static void notify(struct virtio_pci *v, unsigned q)
{
	virtio_pci_drain(v, q, serve);
}

static uint64_t cfg_read(struct virtio_pci *v, unsigned off, unsigned size)
{
	const struct virtio_blk *b = v->ctx;
	uint8_t cfg[CFG_LEN] = { 0 };
	uint32_t w;
	memcpy(cfg + CFG_CAPACITY, &b->disk->sectors, 8);
	w = SIZE_MAX_BYTES;
	memcpy(cfg + CFG_SIZE_MAX, &w, 4);
	w = SEG_MAX;
	memcpy(cfg + CFG_SEG_MAX, &w, 4);
	w = BLK_SECTOR_SIZE;
	memcpy(cfg + CFG_BLK_SIZE, &w, 4);
	w = MAX_RANGE_SECTORS;
	memcpy(cfg + CFG_MAX_DISCARD_SECTORS, &w, 4);
	memcpy(cfg + CFG_MAX_WZ_SECTORS, &w, 4);
	w = 1;
	memcpy(cfg + CFG_MAX_DISCARD_SEG, &w, 4);
	memcpy(cfg + CFG_DISCARD_ALIGN, &w, 4);
	memcpy(cfg + CFG_MAX_WZ_SEG, &w, 4);
	cfg[CFG_WZ_MAY_UNMAP] = 0;
	cfg[CFG_WRITEBACK] = b->writeback;
	uint64_t val = 0;
	memcpy(&val, cfg + off, size); /* the transport keeps off + size inside CFG_LEN */
	return val;
}

/* Only writeback is the driver's to write, and only once it took F_CONFIG_WCE (5.2.5): 0 turns
 * the cache to writethrough, anything else back to writeback. */
static void cfg_write(struct virtio_pci *v, unsigned off, unsigned size, uint64_t val)
{
	struct virtio_blk *b = v->ctx;

	if (off == CFG_WRITEBACK && size == 1 && (v->driver_features & 1ull << F_CONFIG_WCE))
		b->writeback = val != 0;
}

/* A reset brings back the cache mode the device starts with */
static void reset(struct virtio_pci *v)
{
	struct virtio_blk *b = v->ctx;

	b->writeback = true;
}

static const struct virtio_dev_ops blk_ops = {
	.notify = notify, .cfg_read = cfg_read, .cfg_write = cfg_write, .reset = reset
};

int virtio_blk_init(struct virtio_blk *b, const struct vdev_env *env, struct blk_backend *disk,
		    const char *serial)
{
	memset(b, 0, offsetof(struct virtio_blk, bounce));
	b->disk = disk;
	kstrlcpy(b->serial, serial, sizeof(b->serial));
	/* a writeback cache with FLUSH, which the driver may turn writethrough (CONFIG_WCE) */
	b->writeback = true;
	uint64_t f = 1ull << F_SIZE_MAX | 1ull << F_SEG_MAX | 1ull << F_BLK_SIZE | 1ull << F_FLUSH |
		     1ull << F_CONFIG_WCE;
	if (disk->read_only)
		f |= 1ull << F_RO;
	else {
		if (blk_can_discard(disk))
			f |= 1ull << F_DISCARD;
		if (blk_can_write_zeroes(disk))
			f |= 1ull << F_WRITE_ZEROES;
	}
	/* mass storage, other (PCI Code and ID Assignment, 1.2) */
	return virtio_pci_init(&b->vpci, env, VIRTIO_ID_BLOCK, 0x018000, 1, VIRTIO_BLK_QUEUE_SIZE,
			       f, CFG_LEN, &blk_ops, b);
}
