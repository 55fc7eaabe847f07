/* x86_decode_string_io: the address size and source segment of INS/OUTS from their prefixes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "arch/x86/emul/decode.h"

static void check(const char *bytes, size_t n, enum x86_cpu_mode mode, unsigned want_asz,
		  enum x86_seg want_seg)
{
	unsigned asz = 0;
	enum x86_seg seg = X86_SEG_ES;
	assert_int_equal(x86_decode_string_io((const uint8_t *)bytes, n, mode, &asz, &seg), 0);
	assert_int_equal(asz, want_asz);
	assert_int_equal(seg, want_seg);
}

static void sizes_and_segments(void **state)
{
	(void)state;
	check("\xf3\x6c", 2, X86_MODE_PROT32, 4, X86_SEG_DS);	  /* rep insb */
	check("\x67\xf3\x6c", 3, X86_MODE_PROT32, 2, X86_SEG_DS); /* addr16 rep insb */
	check("\xf3\x67\x6d", 3, X86_MODE_PROT16, 4, X86_SEG_DS); /* addr32 rep insw, 16-bit */
	check("\x6e", 1, X86_MODE_REAL, 2, X86_SEG_DS);		  /* outsb */
	check("\x2e\xf3\x6e", 3, X86_MODE_REAL, 2, X86_SEG_CS);	  /* cs rep outsb */
	check("\x64\x66\x6f", 3, X86_MODE_PROT32, 4, X86_SEG_FS); /* fs outsw */
	check("\xf3\x48\x6f", 3, X86_MODE_LONG64, 8, X86_SEG_DS); /* REX.W rep outsd */
	check("\x67\xf3\x65\x6f", 4, X86_MODE_LONG64, 4, X86_SEG_GS);
	check("\x26\x36\x6e", 3, X86_MODE_PROT32, 4, X86_SEG_SS); /* the last override wins */
}

static void not_string_io(void **state)
{
	(void)state;
	unsigned asz;
	enum x86_seg seg;
	assert_int_equal(x86_decode_string_io((const uint8_t *)"\xe6\x80", 2, X86_MODE_PROT32, &asz,
					      &seg),
			 -X86_EUNSUPPORTED); /* out imm8, al */
	assert_int_equal(x86_decode_string_io((const uint8_t *)"\x48\x6c", 2, X86_MODE_PROT32, &asz,
					      &seg),
			 -X86_EUNSUPPORTED); /* 0x48 is DEC outside 64-bit mode */
	assert_int_equal(x86_decode_string_io((const uint8_t *)"\xf3\x67", 2, X86_MODE_PROT32, &asz,
					      &seg),
			 -X86_ETRUNC);
	const uint8_t many[16] = { 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66,
				   0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x6c };
	assert_int_equal(x86_decode_string_io(many, sizeof(many), X86_MODE_PROT32, &asz, &seg),
			 -X86_ETOOLONG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sizes_and_segments),
		cmocka_unit_test(not_string_io),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
