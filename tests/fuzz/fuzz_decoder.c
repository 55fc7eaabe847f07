/* Decoder differential fuzzing against Zydis 4 (tests/support/zydis_compare.h): any instruction
 * keel accepts must match Zydis in length, sizes, operands and memory operand, and keel must
 * accept every listed opcode Zydis decodes. A disagreement aborts.
 *
 * Input layout: byte 0 selects the mode (index into zc_modes, modulo its size: real, prot16,
 * prot32, compat16, compat32, long64); the rest (at most 16 bytes used) are the instruction. */
#include "tests/support/zydis_compare.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct zc_state zc;
	static bool ready;
	size_t len;
	uint8_t *bytes;

	if (!ready) {
		zc_init(&zc);
		ready = true;
	}
	if (size < 1)
		return 0;
	len = MIN(size - 1, (size_t)16);
	/* exact-size copy so ASan catches any read past the end */
	bytes = malloc(len ? len : 1);
	memcpy(bytes, data + 1, len);
	if (!zc_check(&zc, data[0] % ZC_NR_MODES, bytes, len)) {
		fprintf(stderr, "decoder disagrees with zydis: %s\n", zc.msg);
		abort();
	}
	/* the string I/O prefix reader (core/exit_io.c) on the same bytes */
	unsigned asz = 0;
	enum x86_seg seg = X86_SEG_DS;
	if (x86_decode_string_io(bytes, len, (enum x86_cpu_mode)(data[0] % 4), &asz, &seg) == 0 &&
	    ((asz != 2 && asz != 4 && asz != 8) || seg > X86_SEG_GS))
		abort();
	/* the CR8- and DR7-write exits' decoders (core/exit_cr8.c, core/exit_dr7.c): in bounds */
	enum x86_cpu_mode mode = zc_modes[data[0] % ZC_NR_MODES].mode;
	unsigned gpr = 0, dr = 0, n = 0;
	if (x86_decode_mov_to_cr8(bytes, len, mode, &gpr, &n) == 0 && (gpr > 15 || n > len))
		abort();
	if (x86_decode_mov_to_dr(bytes, len, mode, &dr, &gpr, &n) == 0 &&
	    (dr > 7 || gpr > 15 || n > len))
		abort();
	free(bytes);
	return 0;
}
