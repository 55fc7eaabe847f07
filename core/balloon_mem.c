#include "core/balloon_mem.h"

#define PAGE 4096ull

static enum balloon_rc inflate_cb(void *ctx, uint64_t gfn)
{
	return balloon_mem_inflate(ctx, gfn);
}

static enum balloon_rc deflate_cb(void *ctx, uint64_t gfn)
{
	return balloon_mem_deflate(ctx, gfn);
}

static void commit_cb(void *ctx)
{
	balloon_mem_commit(ctx);
}

void balloon_mem_init(struct balloon_mem *bm, struct guest_mem *gm, struct stage2 *s2,
		      const struct balloon_mem_ops *ops, uint64_t *frame, uint64_t nr_frames)
{
	*bm = (struct balloon_mem){
		.gm = gm, .s2 = s2, .ops = ops, .frame = frame, .nr_frames = nr_frames
	};
	bm->backend = (struct balloon_backend){ inflate_cb, deflate_cb, commit_cb, bm };
}

/* The extent holding page gfn when it is a page of the VM's RAM the table covers, else NULL. */
static const struct gmem_extent *ram_page(const struct balloon_mem *bm, uint64_t gfn)
{
	if (gfn >= bm->nr_frames)
		return NULL;
	return gmem_find(bm->gm, gfn * PAGE);
}

enum balloon_rc balloon_mem_inflate(struct balloon_mem *bm, uint64_t gfn)
{
	const struct gmem_extent *e = ram_page(bm, gfn);
	if (!e)
		return BALLOON_BAD;
	uint64_t f = bm->frame[gfn];
	if (f == GMEM_FRAME_HOLE)
		return BALLOON_SAME;
	if (bm->nr_pending == BALLOON_MEM_PENDING)
		balloon_mem_commit(bm);
	uint64_t gpa = gfn * PAGE, mapped = 0;
	uint64_t own = f == GMEM_FRAME_OWN ? e->hpa + (gpa - e->gpa) : f;
	if (stage2_unmap_page(bm->s2, gpa, &mapped) != 0)
		return BALLOON_FAIL; /* no page for a split table: the page stays the guest's */
	if (bm->ops->unmapped && bm->ops->unmapped(bm->ops->ctx, gpa)) {
		/* the split above made the 4 KiB table: mapping the page back needs no memory */
		stage2_map(bm->s2, gpa, mapped, PAGE);
		return BALLOON_FAIL;
	}
	bm->gm->frame = bm->frame;
	bm->gm->nr_frames = bm->nr_frames;
	bm->frame[gfn] = GMEM_FRAME_HOLE;
	bm->inflated++;
	/* stage 2 and the bookkeeping always agree; if they ever did not, losing the frame is the
	 * safe side (handing out one a guest may still reach is not) */
	if (mapped == own)
		bm->pending[bm->nr_pending++] = own;
	return BALLOON_OK;
}

void balloon_mem_commit(struct balloon_mem *bm)
{
	if (!bm->nr_pending)
		return;
	bm->ops->flush(bm->ops->ctx);
	for (unsigned i = 0; i < bm->nr_pending; i++)
		bm->ops->free_frame(bm->ops->ctx, bm->pending[i]);
	bm->nr_pending = 0;
}

/* A zeroed frame behind hole gfn. */
static enum balloon_rc fill(struct balloon_mem *bm, uint64_t gfn)
{
	uint64_t hpa = bm->ops->alloc_frame(bm->ops->ctx);
	if (!hpa)
		return BALLOON_FAIL;
	if (stage2_map(bm->s2, gfn * PAGE, hpa, PAGE)) {
		bm->ops->free_frame(bm->ops->ctx, hpa);
		return BALLOON_FAIL;
	}
	if (bm->ops->mapped && bm->ops->mapped(bm->ops->ctx, gfn * PAGE, hpa)) {
		uint64_t back;
		/* the guest cannot have used it yet, and no vCPU cached it: straight back */
		stage2_unmap_page(bm->s2, gfn * PAGE, &back);
		bm->ops->flush(bm->ops->ctx);
		bm->ops->free_frame(bm->ops->ctx, hpa);
		return BALLOON_FAIL;
	}
	bm->frame[gfn] = hpa;
	bm->inflated--;
	return BALLOON_OK;
}

enum balloon_rc balloon_mem_deflate(struct balloon_mem *bm, uint64_t gfn)
{
	if (!ram_page(bm, gfn))
		return BALLOON_BAD;
	if (bm->frame[gfn] != GMEM_FRAME_HOLE)
		return BALLOON_SAME;
	return fill(bm, gfn);
}

enum balloon_rc balloon_mem_refault(struct balloon_mem *bm, uint64_t gpa)
{
	uint64_t gfn = gpa / PAGE;
	if (!ram_page(bm, gfn))
		return BALLOON_BAD;
	if (bm->frame[gfn] != GMEM_FRAME_HOLE)
		return BALLOON_SAME;
	enum balloon_rc rc = fill(bm, gfn);
	if (rc == BALLOON_OK)
		bm->refaults++;
	return rc;
}

int balloon_mem_fill_all(struct balloon_mem *bm)
{
	balloon_mem_commit(bm);
	for (uint64_t gfn = 0; gfn < bm->nr_frames && bm->inflated; gfn++)
		if (bm->frame[gfn] == GMEM_FRAME_HOLE && fill(bm, gfn) != BALLOON_OK)
			return -1;
	return 0;
}
