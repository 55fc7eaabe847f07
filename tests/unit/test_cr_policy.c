/* core/cr_policy.c: which CR0/CR4/EFER writes #GP, against the guest's CPUID view. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/cpu.h"
#include "core/cr_policy.h"

#define CR4_PSE (1ull << 4)
#define CR4_MCE (1ull << 6)
#define CR4_UMIP (1ull << 11)
#define CR4_LA57 (1ull << 12)
#define CR4_VMXE (1ull << 13)
#define CR4_SMXE (1ull << 14)
#define CR4_FSGSBASE (1ull << 16)
#define CR4_PCIDE (1ull << 17)
#define CR4_PKE (1ull << 22)
#define CR4_CET (1ull << 23)

static const struct cr_features all = { ~0u, ~0u, ~0u, ~0u, ~0u, ~0u, ~0u };
static const struct cr_features none;

/* a host CPU that claims every feature, with leaves up to 0xd and 0x8000_0008 */
static void every_feature(uint32_t leaf, uint32_t subleaf, struct cpuid_result *r)
{
	(void)subleaf;
	memset(r, 0xff, sizeof(*r));
	if (leaf == 0)
		r->eax = 0xd;
	if (leaf == 0x80000000u)
		r->eax = 0x80000008u;
}

/* Each CR4 bit against its CPUID flag: set alone, the bit is valid only with the flag. */
static void cr4_bits_follow_cpuid(void **state)
{
	(void)state;
	static const struct {
		size_t reg_off;
		unsigned bit;
		unsigned cpuid_bit;
	} map[] = {
		{ offsetof(struct cr_features, l1_edx), 0, 1 },
		{ offsetof(struct cr_features, l1_edx), 1, 1 },
		{ offsetof(struct cr_features, l1_edx), 2, 4 },
		{ offsetof(struct cr_features, l1_edx), 3, 2 },
		{ offsetof(struct cr_features, l1_edx), 4, 3 },
		{ offsetof(struct cr_features, l1_edx), 5, 6 },
		{ offsetof(struct cr_features, l1_edx), 6, 7 },
		{ offsetof(struct cr_features, l1_edx), 7, 13 },
		{ offsetof(struct cr_features, l1_edx), 9, 24 },
		{ offsetof(struct cr_features, l1_edx), 10, 25 },
		{ offsetof(struct cr_features, l7_ecx), 11, 2 },
		{ offsetof(struct cr_features, l7_ecx), 12, 16 },
		{ offsetof(struct cr_features, l1_ecx), 13, 5 },
		{ offsetof(struct cr_features, l1_ecx), 14, 6 },
		{ offsetof(struct cr_features, l7_ebx), 16, 0 },
		{ offsetof(struct cr_features, l1_ecx), 17, 17 },
		{ offsetof(struct cr_features, l1_ecx), 18, 26 },
		{ offsetof(struct cr_features, l7_ecx), 19, 23 },
		{ offsetof(struct cr_features, l7_ebx), 20, 7 },
		{ offsetof(struct cr_features, l7_ebx), 21, 20 },
		{ offsetof(struct cr_features, l7_ecx), 22, 3 },
		{ offsetof(struct cr_features, l7_ecx), 23, 7 },
		{ offsetof(struct cr_features, l7_edx), 23, 20 },
		{ offsetof(struct cr_features, l7_ecx), 24, 31 },
		{ offsetof(struct cr_features, l7_edx), 25, 5 },
	};
	/* PCE needs no flag; bits 15, 26-63 exist nowhere */
	assert_int_equal(cr4_valid_bits(&none), CR4_PCE);
	uint64_t all_valid = cr4_valid_bits(&all);
	assert_int_equal(all_valid, 0x03ff7fffull);
	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		struct cr_features f = none;
		*(uint32_t *)((char *)&f + map[i].reg_off) = 1u << map[i].cpuid_bit;
		uint64_t want = CR4_PCE; /* VME's flag enables PVI too */
		for (size_t j = 0; j < sizeof(map) / sizeof(map[0]); j++)
			if (map[j].reg_off == map[i].reg_off &&
			    map[j].cpuid_bit == map[i].cpuid_bit)
				want |= 1ull << map[j].bit;
		assert_int_equal(cr4_valid_bits(&f), want);
		/* every flag but this one: the bit is gone (CET has two) */
		f = all;
		*(uint32_t *)((char *)&f + map[i].reg_off) &= ~(1u << map[i].cpuid_bit);
		bool other_flag = map[i].bit == 23;
		if (!other_flag)
			assert_false(cr4_valid_bits(&f) & (1ull << map[i].bit));
	}
}

/* What a guest of keel sees: the CR4 bits of hidden features are reserved, whatever the host. */
static void guest_view_hides_bits(void **state)
{
	(void)state;
	struct cpuid_env env = { .host = every_feature, .nr_vcpus = 1 };
	struct cr_features f;
	cr_features_of_guest(&env, &f);
	uint64_t v = cr4_valid_bits(&f);
	assert_int_equal(v & (CR4_MCE | CR4_LA57 | CR4_VMXE | CR4_SMXE | CR4_PCIDE | CR4_PKE |
			      CR4_CET | (1ull << 19) | (1ull << 24) | (1ull << 25)),
			 0);
	assert_int_equal(v & (CR4_PAE | CR4_PGE | CR4_PSE | CR4_OSFXSR | CR4_OSXSAVE | CR4_SMEP |
			      CR4_SMAP | CR4_UMIP | CR4_FSGSBASE),
			 CR4_PAE | CR4_PGE | CR4_PSE | CR4_OSFXSR | CR4_OSXSAVE | CR4_SMEP |
				 CR4_SMAP | CR4_UMIP | CR4_FSGSBASE);
	/* EFER: SCE, LME, LMA, NXE, FFXSR; SVM and TCE are hidden */
	assert_int_equal(efer_valid_bits(&f), 0x4d01);
	/* a host without XSAVE: no OSXSAVE */
	f.l1_ecx &= ~(1u << 26);
	assert_false(cr4_valid_bits(&f) & CR4_OSXSAVE);
}

/* Every combination of the bits the CR0 rules look at, against the rules written out. */
static void cr0_exhaustive(void **state)
{
	(void)state;
	const uint64_t bits[] = { CR0_PE, CR0_NW, CR0_CD, CR0_PG, CR0_WP };
	unsigned checked = 0, refused = 0;
	for (unsigned n = 0; n < 32; n++)
		for (unsigned c = 0; c < 512; c++) {
			uint64_t val = CR0_ET | CR0_NE;
			for (unsigned b = 0; b < 5; b++)
				if (n & (1u << b))
					val |= bits[b];
			struct cr_state s = {
				.cr0 = (c & 1) ? CR0_PE | CR0_PG | CR0_WP : CR0_PE,
				.efer = ((c & 2) ? EFER_LME : 0) | ((c & 4) ? EFER_LMA : 0),
				.cr4 = ((c & 8) ? CR4_PAE : 0) | ((c & 16) ? CR4_PCIDE : 0) |
				       ((c & 32) ? CR4_CET : 0),
				.cs_l = (c & 64) != 0,
				.cr3 = (c & 128) ? 0x1000 : 0x1234,
			};
			bool pg = val & CR0_PG, was = s.cr0 & CR0_PG;
			bool gp = (pg && !(val & CR0_PE)) || ((val & CR0_NW) && !(val & CR0_CD)) ||
				  (pg && !was && (s.efer & EFER_LME) &&
				   (!(s.cr4 & CR4_PAE) || s.cs_l)) ||
				  (!pg && was &&
				   (((s.efer & EFER_LMA) && s.cs_l) || (s.cr4 & CR4_PCIDE))) ||
				  (!(val & CR0_WP) && (s.cr4 & CR4_CET));
			uint64_t load = 0xdead;
			const char *why =
				cr0_write_check(&all, &s, val | ((c & 256) ? 0x100 : 0), &load);
			assert_int_equal(why != NULL, gp);
			if (!gp)
				assert_int_equal(load, val); /* reserved bit 8 dropped */
			else
				assert_int_equal(load, 0xdead);
			checked++;
			refused += gp;
		}
	assert_int_equal(checked, 32 * 512);
	assert_true(refused > 0 && refused < checked);
	/* bits 63:32 #GP; ET reads 1 whatever was written */
	struct cr_state s = { .cr0 = CR0_PE | CR0_ET };
	uint64_t load;
	assert_non_null(cr0_write_check(&all, &s, 1ull << 32 | CR0_PE, &load));
	assert_null(cr0_write_check(&all, &s, CR0_PE, &load));
	assert_int_equal(load, CR0_PE | CR0_ET);
}

/* Every CR4 bit alone and with PAE, in and out of long mode, with and without its feature. */
static void cr4_exhaustive(void **state)
{
	(void)state;
	struct cpuid_env env = { .host = every_feature, .nr_vcpus = 1 };
	struct cr_features guest;
	cr_features_of_guest(&env, &guest);
	for (unsigned bit = 0; bit < 64; bit++)
		for (unsigned c = 0; c < 32; c++) {
			const struct cr_features *f = (c & 1) ? &all : &guest;
			struct cr_state s = {
				.cr0 = CR0_PE | CR0_PG | ((c & 2) ? CR0_WP : 0),
				.efer = (c & 4) ? EFER_LME | EFER_LMA : 0,
				.cr4 = CR4_PAE | ((c & 8) ? CR4_LA57 : 0),
				.cr3 = (c & 16) ? 0x2000 : 0x2008,
			};
			uint64_t val = (1ull << bit) | ((bit & 1) ? CR4_PAE : 0);
			val |= s.cr4 & CR4_LA57 & ((c & 4) ? ~0ull : 0); /* keep LA57 when in LM */
			bool lm = s.efer & EFER_LMA;
			bool gp = (val & ~cr4_valid_bits(f)) || (lm && !(val & CR4_PAE)) ||
				  (lm && ((val ^ s.cr4) & CR4_LA57)) ||
				  ((val & CR4_PCIDE) && (!lm || (s.cr3 & 0xfff))) ||
				  ((val & CR4_CET) && !(s.cr0 & CR0_WP));
			uint64_t load = 0;
			const char *why = cr4_write_check(f, &s, val, &load);
			assert_int_equal(why != NULL, gp);
			if (!gp)
				assert_int_equal(load, val);
		}
	/* the guest view: the hidden bits #GP even where the CPU has them */
	struct cr_state s = { .cr0 = CR0_PE, .cr4 = 0 };
	uint64_t load;
	assert_non_null(cr4_write_check(&guest, &s, CR4_VMXE, &load));
	assert_non_null(cr4_write_check(&guest, &s, CR4_PKE, &load));
	assert_non_null(cr4_write_check(&guest, &s, CR4_LA57, &load));
	assert_non_null(cr4_write_check(&guest, &s, CR4_MCE, &load));
	assert_non_null(cr4_write_check(&guest, &s, 1ull << 31, &load));
	assert_null(cr4_write_check(&guest, &s, CR4_PAE | CR4_PGE | CR4_OSXSAVE, &load));
	/* PCIDE with PCID offered: long mode and CR3[11:0] = 0 */
	s = (struct cr_state){
		.cr0 = CR0_PE | CR0_PG, .cr4 = CR4_PAE, .efer = 0x500, .cr3 = 0x1000
	};
	assert_null(cr4_write_check(&all, &s, CR4_PAE | CR4_PCIDE, &load));
	s.cr3 = 0x1001;
	assert_non_null(cr4_write_check(&all, &s, CR4_PAE | CR4_PCIDE, &load));
	s.cr4 |= CR4_PCIDE; /* already set: CR3's PCID field may be anything */
	assert_null(cr4_write_check(&all, &s, CR4_PAE | CR4_PCIDE, &load));
}

/* Every EFER bit, with paging on and off, LMA as the CPU has it. */
static void efer_exhaustive(void **state)
{
	(void)state;
	struct cpuid_env env = { .host = every_feature, .nr_vcpus = 1 };
	struct cr_features guest;
	cr_features_of_guest(&env, &guest);
	for (unsigned bit = 0; bit < 64; bit++)
		for (unsigned c = 0; c < 8; c++) {
			struct cr_state s = {
				.cr0 = CR0_PE | ((c & 1) ? CR0_PG : 0),
				.efer = (c & 2) ? EFER_LME | EFER_LMA : 0,
				.cr4 = CR4_PAE,
			};
			uint64_t val = (1ull << bit) | (s.efer & ((c & 4) ? EFER_LME : 0));
			bool reserved = !((1ull << bit) & 0x4d01); /* SCE LME LMA NXE FFXSR */
			bool lme_change = ((val ^ s.efer) & EFER_LME) && (s.cr0 & CR0_PG);
			uint64_t load = 0;
			const char *why = efer_write_check(&guest, &s, val, &load);
			assert_int_equal(why != NULL, reserved || lme_change);
			if (!why)
				assert_int_equal(load, (val & ~EFER_LMA) | (s.efer & EFER_LMA));
		}
	/* SVME needs SVM in CPUID; LMSLE (13) exists for no guest */
	struct cr_state s = { .cr0 = CR0_PE };
	uint64_t load;
	assert_null(efer_write_check(&all, &s, EFER_SVME, &load));
	assert_non_null(efer_write_check(&guest, &s, EFER_SVME, &load));
	assert_non_null(efer_write_check(&all, &s, 1ull << 13, &load));
	assert_null(efer_write_check(&all, &s, 1ull << 15, &load)); /* TCE, offered */
	assert_non_null(efer_write_check(&none, &s, EFER_NXE, &load));
}

/* The sequence two programs of an outside test suite crashed their VM with on QEMU's SVM: PAE on,
 * EFER = 0x500 (LME, with LMA as written) before paging, then 0xd00 (NXE) in long mode. */
static void suite_sequence(void **state)
{
	(void)state;
	struct cpuid_env env = { .host = every_feature, .nr_vcpus = 1 };
	struct cr_features g;
	cr_features_of_guest(&env, &g);
	struct cr_state s = { .cr0 = CR0_PE | CR0_ET };
	uint64_t load;
	assert_null(cr4_write_check(&g, &s, 0x20, &s.cr4));
	assert_null(efer_write_check(&g, &s, 0x500, &s.efer));
	assert_int_equal(s.efer, EFER_LME); /* LMA is the CPU's */
	assert_null(cr0_write_check(&g, &s, 0x80000011, &load));
	s.cr0 = load;
	s.efer = efer_after_cr0(s.efer, s.cr0);
	assert_int_equal(s.efer, 0x500);
	assert_null(efer_write_check(&g, &s, 0xd00, &s.efer));
	assert_int_equal(s.efer, 0xd00);
	/* LME cleared with paging on: #GP; CR4.PAE cleared in long mode: #GP */
	assert_non_null(efer_write_check(&g, &s, 0x800, &load));
	assert_non_null(cr4_write_check(&g, &s, 0, &load));
	/* out of long mode from compatibility mode: LMA drops with PG */
	assert_null(cr0_write_check(&g, &s, 0x11, &load));
	assert_int_equal(efer_after_cr0(s.efer, load), 0x900);
	assert_int_equal(efer_after_cr0(0x100, 0x80000001), 0x500);
	assert_int_equal(efer_after_cr0(0x000, 0x80000001), 0x000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cr4_bits_follow_cpuid), cmocka_unit_test(guest_view_hides_bits),
		cmocka_unit_test(cr0_exhaustive),	 cmocka_unit_test(cr4_exhaustive),
		cmocka_unit_test(efer_exhaustive),	 cmocka_unit_test(suite_sequence),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
