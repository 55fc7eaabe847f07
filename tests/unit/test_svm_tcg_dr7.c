/* arch/x86/svm/tcg_dr7.c: the DR7 keel arms in the host around VMRUN under QEMU's TCG. Besides
 * the value itself, a model of QEMU 7.2's breakpoint list (what cpu_x86_update_dr7 and the MOV to
 * DR0-DR3 do to it, and VMRUN and #VMEXIT swapping DR7 past it) runs vCPUs that take turns on one
 * CPU and write DR0-DR7 at random: with keel's scheme no breakpoint is ever removed under another
 * type than the one it was added with (QEMU's SIGSEGV), none is left over, and a running guest's
 * enabled breakpoints are all in the list; without it the model finds the crash. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "arch/x86/debugreg.h"
#include "arch/x86/svm/tcg_dr7.h"

static const struct tcg_dr7_range code = { 0x100000, 0x100100 };
static const struct tcg_dr7_range data = { 0x200000, 0x200090 };

static void value(void **state)
{
	(void)state;
	uint64_t dr[4] = { 0x1000, 0x2000, 0x3000, 0x4000 };
	unsigned dropped = 99;
	/* nothing enabled: nothing to arm, whatever the types */
	assert_int_equal(tcg_dr7_to_arm(0x55550700, dr, code, data, &dropped), 0);
	assert_int_equal(dropped, 0);
	/* the guest's value, GD cleared and bit 10 set */
	assert_int_equal(tcg_dr7_to_arm(0x00d02305, dr, code, data, &dropped), 0x00d00705);
	assert_int_equal(dropped, 0);
	/* an instruction breakpoint inside keel's code is left out, one just past it is not */
	dr[0] = code.start + 0x10;
	dr[1] = code.end;
	assert_int_equal(tcg_dr7_to_arm(0x0000040f, dr, code, data, &dropped), 0x40c);
	assert_int_equal(dropped, 1);
	/* a data breakpoint is left out when any byte it watches is in the data: an 8-byte
	 * watchpoint (LEN 2) at data.start - 1 covers data.start - 8 .. data.start - 1, outside;
	 * a 4-byte one (LEN 3) at data.end + 2 rounds down to data.end, outside; a 2-byte one at
	 * data.start - 1 rounds down to data.start - 2 and watches data.start - 1 only, outside; a
	 * 1-byte read/write at data.end - 1 is inside */
	dr[0] = data.start - 1;
	dr[1] = data.end + 2;
	dr[2] = data.start - 1;
	dr[3] = data.end - 1;
	uint64_t types = (1ull | 2ull << 2) << 16 | (1ull | 3ull << 2) << 20 |
			 (3ull | 1ull << 2) << 24 | 3ull << 28;
	assert_int_equal(tcg_dr7_to_arm(types | 0x4ff, dr, code, data, &dropped), types | 0x43f);
	assert_int_equal(dropped, 8);
	/* an 8-byte watchpoint at data.end - 8 + 7 rounds down into the data */
	dr[3] = data.end - 1;
	assert_int_equal(tcg_dr7_to_arm(1ull << 28 | 2ull << 30 | 0x4c0, dr, code, data, &dropped),
			 1ull << 28 | 2ull << 30 | 0x400);
	assert_int_equal(dropped, 8);
	/* I/O breakpoints stay: nothing between the two writes does I/O */
	dr[3] = 0x3f8;
	assert_int_equal(tcg_dr7_to_arm(2ull << 28 | 0x4c0, dr, code, data, &dropped),
			 2ull << 28 | 0x4c0);
	/* everything left out: still armed (types only), so the exit still removes what a MOV to
	 * DR0-DR3 in the guest adds */
	dr[0] = code.start;
	assert_int_equal(tcg_dr7_to_arm(0x401, dr, code, data, &dropped), 0x400);
	assert_int_equal(dropped, 1);
}

/* ---- the model of QEMU's list ---- */

enum kind { NONE, INSN, WATCH };

struct qemu_cpu {
	uint64_t dr7, dr[4], hsave_dr7;
	enum kind list[4]; /* what cpu_breakpoint[n] / cpu_watchpoint[n] points at */
	unsigned crashes, leaks;
};

static enum kind kind_of(uint64_t dr7, unsigned n)
{
	unsigned rw = (unsigned)DR7_RW(dr7, n);
	return rw == DR7_RW_EXEC ? INSN : rw == DR7_RW_IO ? NONE : WATCH;
}

static void bp_remove(struct qemu_cpu *c, unsigned n)
{
	enum kind k = kind_of(c->dr7, n);
	if (k == NONE || c->list[n] == NONE)
		return;
	if (k != c->list[n])
		c->crashes++; /* a watchpoint freed as a breakpoint, or the other way round */
	c->list[n] = NONE;
}

static void bp_insert(struct qemu_cpu *c, unsigned n)
{
	enum kind k = kind_of(c->dr7, n);
	if (k == NONE || !DR7_ENABLED(c->dr7, n))
		return;
	if (c->list[n] != NONE)
		c->leaks++; /* the old one stays in QEMU's list, out of reach */
	c->list[n] = k;
}

/* cpu_x86_update_dr7: when only enable bits change, only the breakpoints whose enable changes
 * come and go; otherwise all four go under the old types and come back under the new. */
static void mov_dr7(struct qemu_cpu *c, uint64_t val)
{
	val |= DR7_FIXED_1;
	uint64_t old = c->dr7;
	if (((old ^ val) & ~DR7_ENABLES) == 0) {
		uint64_t mod = ((old | old * 2) ^ (val | val * 2)) & 0xff;
		for (unsigned n = 0; n < 4; n++)
			if ((mod & (2u << n * 2)) && !DR7_ENABLED(val, n))
				bp_remove(c, n);
		c->dr7 = val;
		for (unsigned n = 0; n < 4; n++)
			if ((mod & (2u << n * 2)) && DR7_ENABLED(val, n))
				bp_insert(c, n);
	} else {
		for (unsigned n = 0; n < 4; n++)
			bp_remove(c, n);
		c->dr7 = val;
		for (unsigned n = 0; n < 4; n++)
			bp_insert(c, n);
	}
}

static void mov_drn(struct qemu_cpu *c, unsigned n, uint64_t val)
{
	if (DR7_ENABLED(c->dr7, n) && DR7_RW(c->dr7, n) != DR7_RW_IO) {
		bp_remove(c, n);
		c->dr[n] = val;
		bp_insert(c, n);
	} else {
		c->dr[n] = val;
	}
}

struct model_vcpu {
	uint64_t vmcb_dr7, dr[4];
};

static uint64_t rng = 88172645463325252ull;
static uint64_t next(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return rng;
}

/* A DR7 with random types, lengths and enables (GE now and then); some breakpoints on keel. */
static uint64_t random_dr7(void)
{
	return (next() & 0xffff02ffull) | (next() & 1 ? DR7_GD : 0);
}

static uint64_t random_addr(void)
{
	switch (next() % 4) {
	case 0:
		return code.start + next() % (code.end - code.start);
	case 1:
		return data.start + next() % (data.end - data.start);
	default:
		return 0x10000 + (next() % 64) * 4;
	}
}

/* rounds of: pick a vCPU, load its DR0-DR3 (keel's guest_dregs_load, in the host), enter,
 * let it write DR0-DR7 a few times, exit. keel_scheme: DR7 writes exit and keel arms. */
static void run_model(bool keel_scheme, unsigned rounds, struct qemu_cpu *c)
{
	struct model_vcpu v[3];
	memset(v, 0, sizeof(v));
	memset(c, 0, sizeof(*c));
	c->dr7 = DR7_RESET;
	for (unsigned i = 0; i < 3; i++)
		v[i].vmcb_dr7 = DR7_RESET;
	for (unsigned r = 0; r < rounds; r++) {
		struct model_vcpu *g = &v[next() % 3];
		for (unsigned n = 0; n < 4; n++)
			mov_drn(c, n, g->dr[n]);
		unsigned dropped;
		uint64_t arm =
			keel_scheme ? tcg_dr7_to_arm(g->vmcb_dr7, g->dr, code, data, &dropped) : 0;
		if (arm)
			mov_dr7(c, arm);
		c->hsave_dr7 = c->dr7; /* VMRUN */
		c->dr7 = g->vmcb_dr7;
		if (keel_scheme)
			for (unsigned n = 0; n < 4; n++)
				if (DR7_ENABLED(arm, n) && kind_of(arm, n) != NONE)
					assert_int_equal(c->list[n], kind_of(arm, n));
		for (unsigned k = next() % 4; k; k--) {
			unsigned which = (unsigned)(next() % 5);
			if (which == 4 && keel_scheme) {
				uint64_t val;
				if (dr7_from_write(random_dr7(), &val))
					g->vmcb_dr7 = val; /* the exit: core/exit_dr7.c */
				break;			   /* and the guest runs again next round */
			} else if (which == 4) {
				mov_dr7(c, random_dr7());
			} else {
				mov_drn(c, which, random_addr());
			}
		}
		for (unsigned n = 0; n < 4; n++)
			g->dr[n] = c->dr[n];
		g->vmcb_dr7 = c->dr7; /* #VMEXIT */
		c->dr7 = c->hsave_dr7;
		if (arm) /* svm_run.S after the exit: enables nothing, GE flipped */
			mov_dr7(c, DR7_RESET | ((c->dr7 & DR7_GE) ^ DR7_GE));
		if (keel_scheme)
			for (unsigned n = 0; n < 4; n++)
				assert_int_equal(c->list[n], NONE);
	}
}

static void qemu_model(void **state)
{
	(void)state;
	struct qemu_cpu c;
	run_model(false, 20000, &c);
	printf("without keel's scheme: %u crashes, %u leaks in 20000 rounds\n", c.crashes, c.leaks);
	assert_true(c.crashes > 0);
	run_model(true, 200000, &c);
	assert_int_equal(c.crashes, 0);
	assert_int_equal(c.leaks, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(value),
		cmocka_unit_test(qemu_model),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
