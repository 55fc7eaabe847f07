/* arch/x86/vmx/guest_state.c: the states keel's loaders produce pass; each broken field is named. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "arch/x86/vmx/guest_state.h"

/* Bochs corei7_skylake_x's fixed bits: CR0 PE, NE, PG must be 1; CR4 VMXE must be 1 */
static struct vmx_guest_state pvh_entry(void)
{
	struct vmx_guest_state g;
	memset(&g, 0, sizeof(g));
	g.cr0 = 0x31; /* PE, ET, NE: flat 32-bit protected mode, paging off */
	g.cr4 = 0x2000;
	g.rflags = 2;
	g.dr7 = 0x400;
	g.rip = 0x1000850;
	g.cr0_fixed0 = 0x80000021;
	g.cr0_fixed1 = 0xffffffff;
	g.cr4_fixed0 = 0x2000;
	g.cr4_fixed1 = 0x3727ff;
	g.unrestricted = true;
	g.load_efer = true;
	for (unsigned n = 0; n < VGS_NR_SEGS; n++)
		g.seg[n].limit = 0xffffffff;
	g.seg[VGS_CS].sel = 0x08;
	g.seg[VGS_CS].ar = 0xc09b;
	for (unsigned n = 0; n < VGS_NR_SEGS; n++)
		if (n != VGS_CS && n != VGS_LDTR && n != VGS_TR) {
			g.seg[n].sel = 0x18;
			g.seg[n].ar = 0xc093;
		}
	g.seg[VGS_LDTR].ar = 0x10000;
	g.seg[VGS_LDTR].limit = 0;
	g.seg[VGS_TR].sel = 0x20;
	g.seg[VGS_TR].ar = 0x8b;
	g.seg[VGS_TR].limit = 0x67;
	g.gdtr_base = 0x1000;
	g.gdtr_limit = 47;
	g.link_pointer = ~0ull;
	return g;
}

static char buf[160];

static void expect(const struct vmx_guest_state *g, const char *want)
{
	const char *r = vmx_check_guest_state(g, buf, sizeof(buf));
	if (!want) {
		if (r)
			fail_msg("unexpected: %s", r);
		return;
	}
	if (!r || !strstr(r, want))
		fail_msg("got '%s', wanted '%s'", r ? r : "(passes)", want);
}

static void loader_states_pass(void **state)
{
	(void)state;
	struct vmx_guest_state g = pvh_entry();
	expect(&g, NULL);
	/* the bzImage 64-bit entry: paging, PAE, long mode, CS 0x10 with L */
	g.cr0 = 0x80000031;
	g.cr3 = 0x2000;
	g.cr4 = 0x2020;
	g.efer = 0x500;
	g.ia32e = true;
	g.seg[VGS_CS].sel = 0x10;
	g.seg[VGS_CS].ar = 0xa09b;
	g.rip = 0x1000200;
	expect(&g, NULL);
	/* real mode under unrestricted guest: CS type 3, DPL 0, 64 KiB limits, no granularity */
	g = pvh_entry();
	g.cr0 = 0x30;
	for (unsigned n = 0; n < VGS_NR_SEGS; n++)
		if (n != VGS_LDTR && n != VGS_TR) {
			g.seg[n].ar = 0x93;
			g.seg[n].limit = 0xffff;
			g.seg[n].base = 0x70000;
		}
	expect(&g, NULL);
}

static void broken_fields_are_named(void **state)
{
	(void)state;
	struct vmx_guest_state g;

	g = pvh_entry(), g.cr0 = 0x11; /* NE cleared */
	expect(&g, "CR0 0x11 breaks the fixed bits");
	g = pvh_entry(), g.cr0 = 0x80000020;
	expect(&g, "PG without PE");
	g = pvh_entry(), g.cr4 = 0;
	expect(&g, "CR4 0 breaks");
	g = pvh_entry(), g.ia32e = true;
	expect(&g, "IA-32e mode guest without CR0.PG");
	g = pvh_entry(), g.efer = 0x500;
	expect(&g, "EFER 0x500 does not match");
	g = pvh_entry(), g.efer = 1ull << 12;
	expect(&g, "EFER 0x1000");
	g = pvh_entry(), g.dr7 = 1ull << 40;
	expect(&g, "DR7");
	g = pvh_entry(), g.seg[VGS_CS].ar = 0xc091; /* read-only data: only type 3 may stand in */
	expect(&g, "CS must be an accessed code segment");
	g = pvh_entry(), g.seg[VGS_CS].ar = 0x1c09b;
	expect(&g, "CS is unusable");
	g = pvh_entry(), g.seg[VGS_CS].ar = 0xc0bb; /* DPL 1 against SS DPL 0 */
	expect(&g, "CS DPL 1 does not fit");
	g = pvh_entry(), g.seg[VGS_SS].ar = 0xc09b;
	expect(&g, "SS must be a writable data segment");
	g = pvh_entry(), g.seg[VGS_DS].ar = 0xc092; /* not accessed */
	expect(&g, "DS must be an accessed data");
	g = pvh_entry(), g.seg[VGS_ES].ar = 0xc013; /* not present */
	expect(&g, "ES is not present");
	g = pvh_entry(), g.seg[VGS_FS].limit = 0xfffff; /* G set, low bits not all ones? */
	g.seg[VGS_FS].limit = 0xffff0;
	expect(&g, "FS limit 0xffff0 does not match its granularity");
	g = pvh_entry(), g.seg[VGS_TR].ar = 0x89; /* available, not busy */
	expect(&g, "TR must be a busy TSS");
	g = pvh_entry(), g.seg[VGS_TR].ar = 0x1008b;
	expect(&g, "TR is unusable");
	g = pvh_entry(), g.seg[VGS_LDTR].ar = 0x82;
	g.seg[VGS_LDTR].sel = 4;
	expect(&g, "LDTR must be an LDT descriptor");
	g = pvh_entry(), g.seg[VGS_DS].ar |= 0x100;
	expect(&g, "reserved bits");
	g = pvh_entry(), g.seg[VGS_GS].base = 0x800000000000ull;
	expect(&g, "GS base 0x800000000000 is out of range");
	g = pvh_entry(), g.gdtr_limit = 0x10000;
	expect(&g, "GDTR/IDTR");
	g = pvh_entry(), g.rip = 1ull << 32;
	expect(&g, "RIP 0x100000000");
	g = pvh_entry(), g.rflags = 0;
	expect(&g, "RFLAGS 0: reserved");
	g = pvh_entry(), g.rflags = 2 | (1ull << 17), g.cr0 = 0x30;
	expect(&g, "RFLAGS.VM");
	g = pvh_entry(), g.activity = 4;
	expect(&g, "activity state 4");
	g = pvh_entry(), g.interruptibility = 1; /* STI blocking with IF = 0 */
	expect(&g, "interruptibility state 0x1");
	g = pvh_entry(), g.link_pointer = 0;
	expect(&g, "VMCS link pointer");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(loader_states_pass),
		cmocka_unit_test(broken_fields_are_named),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
