/* Page-table walker on hostile guest memory and control registers: no host access outside the
 * guest RAM buffer (ASan), and every answer is self-consistent: a translation keeps the page
 * offset, a fault's error code has only defined bits and reports the access kind, a fetch
 * returns what guest RAM holds.
 *
 * Input layout (missing bytes read as zero):
 *   [0..7] cr0  [8..15] cr3  [16..23] cr4  [24..31] efer  (little endian)
 *   [32]   MAXPHYADDR (phys_bits)
 *   [33..40] gva
 *   [41]   access: bit 0 write, bit 1 user, bit 2 exec, bit 3 RFLAGS.AC
 *   [42]   bit 0: cr3 is taken modulo the RAM size (walks reach the tables more often)
 *   [43..] guest RAM contents from gpa 0 (the RAM is 64 KiB, the rest zero)
 * The RAM is four extents in separate allocations, as keel backs it with scattered host blocks
 * (core/gmem.h): a table or an instruction read across their boundaries must not run past one. */
#include "arch/x86/emul/pagewalk.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define RAM (64 * 1024)

static uint64_t le64(const uint8_t *data, size_t size, size_t off)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < 8; i++)
		if (off + i < size)
			v |= (uint64_t)data[off + i] << (8 * i);
	return v;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct paging_state ps;
	static const uint64_t cut[] = { 0, 0x1000, 0x3000, 0x8000, RAM };
	struct gmem_extent ext[4];
	struct guest_mem m = { .ext = ext, .nr = 4 };
	uint64_t gva, gpa = 0;
	uint32_t ec = 0;
	unsigned acc = 0, len = 0;
	uint8_t a, buf[15];
	int rc;

	for (unsigned i = 0; i < 4; i++)
		ext[i] = (struct gmem_extent){ cut[i], cut[i + 1] - cut[i],
					       calloc(1, cut[i + 1] - cut[i]), 0 };
	if (size > 43)
		gmem_write(&m, 0, data + 43, MIN(size - 43, (size_t)RAM));
	ps.cr0 = le64(data, size, 0);
	ps.cr3 = le64(data, size, 8);
	ps.cr4 = le64(data, size, 16);
	ps.efer = le64(data, size, 24);
	ps.phys_bits = size > 32 ? data[32] : 0;
	gva = le64(data, size, 33);
	a = size > 41 ? data[41] : 0;
	if (size > 42 && (data[42] & 1))
		ps.cr3 %= RAM;
	acc = ((a & 1) ? GW_WRITE : 0) | ((a & 2) ? GW_USER : 0) | ((a & 4) ? GW_EXEC : 0) |
	      ((a & 8) ? GW_AC : 0);

	rc = guest_walk(&m, &ps, gva, acc, &gpa, &ec);
	if (rc == 0) {
		if ((gpa & 0xfff) != (gva & 0xfff) || ec)
			abort();
		uint64_t flat = (ps.efer & X86_EFER_LMA) ? gva : gva & 0xffffffffull;
		if (!(ps.cr0 & X86_CR0_PG) && gpa != flat)
			abort();
	} else if (rc == -GW_EFAULT) {
		if (ec & ~0x1fu)
			abort();
		if (!!(ec & PF_ERR_W) != !!(acc & GW_WRITE) ||
		    !!(ec & PF_ERR_U) != !!(acc & GW_USER))
			abort();
		if ((ec & PF_ERR_RSVD) && !(ec & PF_ERR_P))
			abort();
		if ((ec & PF_ERR_I) && !(acc & GW_EXEC))
			abort();
	} else if (rc != -GW_ENONCANONICAL && rc != -GW_ENOTRAM) {
		abort();
	}

	rc = guest_fetch_insn(&m, &ps, gva, acc & (GW_USER | GW_AC), buf, 15, &len, &ec);
	if (rc == 0) {
		uint32_t ec2;
		if (len < 1 || len > 15)
			abort();
		/* the first byte is what guest RAM holds at the translation */
		if (guest_walk(&m, &ps, gva, (acc & (GW_USER | GW_AC)) | GW_EXEC, &gpa, &ec2) ||
		    !gmem_ptr(&m, gpa, 1) || *(uint8_t *)gmem_ptr(&m, gpa, 1) != buf[0])
			abort();
	} else if (len != 0) {
		abort();
	}
	for (unsigned i = 0; i < 4; i++)
		free(ext[i].hva);
	return 0;
}
