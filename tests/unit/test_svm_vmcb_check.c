/* arch/x86/svm/vmcb_check.c: each VMRUN consistency check of AMD APM vol 2, 15.5.1 is named when
 * broken alone, from a state VMRUN takes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/svm/vmcb_check.h"

/* a 64-bit guest as keel runs one: CR0 PE|PG|ET|NE, CR4.PAE, EFER SVME|LMA|LME|NXE|SCE */
static struct svm_vmcb_state good(void)
{
	return (struct svm_vmcb_state){
		.cr0 = 0x80000031,
		.cr3 = 0x1000,
		.cr4 = 0x20,
		.efer = 0x1d01,
		.dr6 = 0xffff0ff0,
		.dr7 = 0x400,
		.cs_attr = 0x29b, /* L, present, code */
		.intercept_misc2 = 1,
		.asid = 1,
		.cr4_valid = 0x003f07ff,
		.efer_valid = 0xdd01,
		.maxphyaddr = 40,
	};
}

static void expect(const struct svm_vmcb_state *g, const char *needle)
{
	char buf[160];
	const char *r = svm_check_vmcb(g, buf, sizeof(buf));
	if (!needle) {
		if (r)
			fail_msg("unexpected: %s", r);
		return;
	}
	if (!r) {
		fail_msg("no rule broken, wanted '%s'", needle);
		return;
	}
	if (!strstr(r, needle))
		fail_msg("'%s' does not name '%s'", r, needle);
}

static void each_rule(void **state)
{
	(void)state;
	struct svm_vmcb_state g = good();
	expect(&g, NULL);
	g.efer &= ~(1ull << 12);
	expect(&g, "SVME is clear");
	g = good();
	g.cr0 |= 1ull << 29;
	expect(&g, "NW set with CD clear");
	g.cr0 |= 1ull << 30; /* CD and NW: allowed */
	expect(&g, NULL);
	g = good();
	g.cr0 |= 1ull << 32;
	expect(&g, "CR0");
	g = good();
	g.cr3 = 1ull << 40;
	expect(&g, "physical address width");
	g.cr3 = 1ull << 39;
	expect(&g, NULL);
	g = good();
	g.cr0 = 0x11;
	g.efer = 0x1000;
	g.cs_attr = 0x49b;
	g.cr3 = 1ull << 32;
	expect(&g, "outside long mode");
	g = good();
	g.cr4 |= 1ull << 22; /* PKE on a CPU without PKU */
	expect(&g, "CR4 0x400020: must-be-zero bits 0x400000");
	g = good();
	g.dr6 |= 1ull << 32;
	expect(&g, "DR6");
	g = good();
	g.dr7 |= 1ull << 40;
	expect(&g, "DR7");
	g = good();
	g.efer |= 1ull << 9;
	expect(&g, "EFER 0x1f01: must-be-zero bits 0x200");
	g = good();
	g.cr4 = 0;
	expect(&g, "CR4.PAE clear");
	g = good();
	g.cr0 &= ~1ull;
	expect(&g, "CR0.PE clear");
	g = good();
	g.cs_attr |= 1u << 10; /* the outside suite's crash: long mode entered with CS.L and D */
	expect(&g, "CS.L and CS.D all set");
	g.efer &= ~(1ull << 8); /* not in long mode: L and D mean nothing */
	g.efer &= ~(1ull << 10);
	expect(&g, NULL);
	g = good();
	g.intercept_misc2 = 0;
	expect(&g, "VMRUN intercept");
	g = good();
	g.asid = 0;
	expect(&g, "ASID");
	g = good();
	g.eventinj = (1ull << 31) | (3u << 8) | 2; /* an exception with vector 2 */
	expect(&g, "EVENTINJ");
	g.eventinj = (1ull << 31) | (2u << 8) | 2; /* an NMI */
	expect(&g, NULL);
	for (unsigned t = 0; t < 8; t++) {
		g.eventinj = (1ull << 31) | ((uint64_t)t << 8) | 14;
		expect(&g, t == 1 || t >= 5 ? "reserved type" : NULL);
	}
	g.eventinj = (5u << 8); /* not valid: ignored */
	expect(&g, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = { cmocka_unit_test(each_rule) };
	return cmocka_run_group_tests(tests, NULL, NULL);
}
