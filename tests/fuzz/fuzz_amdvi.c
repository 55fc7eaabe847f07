/* The AMD-Vi format logic (drivers/amdvi.c) on what the IOMMU hands back and on the values keel
 * encodes. The input is read as 32-byte records (a short tail is zero-padded): the first 8
 * bytes are an EFR value, the next 16 an event log entry, the last 8 arguments for the
 * encoders.
 *
 * Checked: no crash or sanitizer report; amdvi_describe_event's output is NUL-terminated,
 * printable ASCII, and as long as it returned (or its buffer minus one when truncated); an EFR
 * gives host_levels of 0, 4, 5 or 6; an unknown event code decodes with nothing but raw and code;
 * every DTE, PDE/PTE, IRTE, command and ring pointer the encoders accept reads back as written,
 * and what they refuse is left untouched. */
#include "drivers/amdvi.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static void check_line(const char *buf, size_t size, int n)
{
	size_t len = strlen(buf);

	if (n < 0 || len >= size)
		abort();
	if ((size_t)n < size ? len != (size_t)n : len != size - 1)
		abort();
	for (size_t i = 0; i < len; i++)
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			abort();
}

static void check_event(const uint64_t raw[2])
{
	struct amdvi_event ev;
	char buf[160], small[24];

	bool known = amdvi_decode_event(raw, &ev);
	if (known != ev.known || ev.code != raw[0] >> 60 || ev.raw[0] != raw[0] ||
	    ev.raw[1] != raw[1])
		abort();
	if (!known && (ev.has_devid || ev.has_domid || ev.has_pasid || ev.flags || ev.addr))
		abort();
	if (ev.has_domid && ev.has_pasid)
		abort();
	if (ev.pasid > 0xfffff || ev.flags > 0xfff || ev.type > 3)
		abort();
	check_line(buf, sizeof(buf), amdvi_describe_event(&ev, buf, sizeof(buf)));
	check_line(small, sizeof(small), amdvi_describe_event(&ev, small, sizeof(small)));
}

static void check_efr(uint64_t v)
{
	struct amdvi_efr efr;
	uint64_t cmd[2];

	amdvi_decode_efr(v, &efr);
	if (efr.host_levels && (efr.host_levels < 4 || efr.host_levels > AMDVI_MAX_LEVELS))
		abort();
	if (efr.hats > 3 || efr.gats > 3 || efr.pas_max > 31)
		abort();
	int r = amdvi_cmd_inv_all(cmd, &efr);
	if ((r == AMDVI_OK) != efr.ia_sup || (r == AMDVI_OK && cmd[0] >> 60 != 8))
		abort();
}

static bool irte_eq(const struct amdvi_irte *a, const struct amdvi_irte *b)
{
	return a->remap_en == b->remap_en && a->sup_iopf == b->sup_iopf &&
	       a->int_type == b->int_type && a->rq_eoi == b->rq_eoi && a->dm == b->dm &&
	       a->guest_mode == b->guest_mode && a->dest == b->dest && a->vector == b->vector;
}

static void check_encoders(uint64_t a, uint64_t b)
{
	uint64_t dte[4] = { 0 }, cmd[2];
	struct amdvi_dte_fields f;
	unsigned levels = b & 7, log2 = (b >> 3) & 15;
	uint16_t dom = (uint16_t)(b >> 8);
	bool r = b & (1ull << 24), w = b & (1ull << 25);

	if (amdvi_dte_translate(dte, a, levels, dom, r, w) == AMDVI_OK) {
		amdvi_dte_read(dte, &f);
		if (!f.v || !f.tv || f.mode != levels || f.pt_root != a || f.ir != r || f.iw != w ||
		    f.domain_id != dom || f.iv)
			abort();
		uint64_t irt = a >> (b >> 58);
		if (amdvi_dte_set_intremap(dte, irt, log2) == AMDVI_OK) {
			amdvi_dte_read(dte, &f);
			if (!f.iv || f.int_ctl != AMDVI_INT_CTL_REMAP || f.irt_root != irt ||
			    f.int_tab_len != log2 || f.mode != levels || f.pt_root != a)
				abort();
		}
	} else if (levels >= 1 && levels <= 6 && !(a & 0xfff) && a < (1ull << 52)) {
		abort();
	}
	amdvi_dte_block(dte, dom);
	amdvi_dte_block_interrupts(dte);
	amdvi_dte_read(dte, &f);
	if (!f.v || !f.tv || f.mode || f.ir || f.iw || !f.iv || f.int_ctl != AMDVI_INT_CTL_ABORT)
		abort();

	uint64_t pde = amdvi_pde(a, levels), pte = amdvi_pte(a, r, w);
	if (pde && ((pde & AMDVI_PTE_ADDR_MASK) != a ||
		    ((pde & AMDVI_PTE_NEXT_LEVEL_MASK) >> AMDVI_PTE_NEXT_LEVEL_SHIFT) != levels))
		abort();
	if (pte &&
	    ((pte & AMDVI_PTE_ADDR_MASK) != a || (pte & AMDVI_PTE_NEXT_LEVEL_MASK) ||
	     !(pte & AMDVI_PTE_PR) || !!(pte & AMDVI_PTE_IR) != r || !!(pte & AMDVI_PTE_IW) != w))
		abort();

	if (amdvi_cmd_completion_wait(cmd, a, b, r) == AMDVI_OK &&
	    ((cmd[0] & 0x000ffffffffffff8ull) != a || cmd[1] != b || cmd[0] >> 60 != 1))
		abort();
	if (amdvi_cmd_inv_page(cmd, dom, a, w) == AMDVI_OK && (cmd[1] & ~3ull) != a)
		abort();

	struct amdvi_irte e = { .remap_en = r,
				.sup_iopf = w,
				.int_type = (uint8_t)(b >> 26 & 7),
				.rq_eoi = b & (1ull << 29),
				.dm = b & (1ull << 30),
				.dest = (uint32_t)a,
				.vector = (uint8_t)(a >> 32) };
	struct amdvi_irte d;
	uint32_t raw32;
	uint64_t raw128[2];
	if (amdvi_irte32_encode(&e, &raw32)) {
		amdvi_irte32_decode(raw32, &d);
		if (!irte_eq(&d, &e))
			abort();
	}
	if (amdvi_irte128_encode(&e, raw128)) {
		amdvi_irte128_decode(raw128, &d);
		if (!irte_eq(&d, &e))
			abort();
	}

	unsigned idx, ring;
	if (amdvi_msi_index((uint32_t)a, log2, &idx) && (idx >= 1u << log2 || idx != (a & 0x7ff)))
		abort();
	if (amdvi_ring_index(a, log2, &ring) && amdvi_ring_ptr(ring) != a)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t off = 0; off < size; off += 32) {
		uint8_t rec[32] = { 0 };
		memcpy(rec, data + off, size - off < 32 ? size - off : 32);
		uint64_t raw[2] = { get64(rec + 8), get64(rec + 16) };
		check_efr(get64(rec));
		check_event(raw);
		check_encoders(get64(rec + 24) ^ get64(rec), get64(rec + 16));
	}
	return 0;
}
