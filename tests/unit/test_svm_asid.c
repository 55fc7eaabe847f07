/* arch/x86/svm/asid.c: ASID generations per CPU. A model TLB checks that no vCPU ever runs on
 * translations another vCPU (or itself, before it ran elsewhere) left under its ASID. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "arch/x86/svm/asid.h"

#define MAX_CPUS 4
#define MAX_VCPUS 8
#define MODEL_ASIDS 16 /* the model tracks ASIDs below this */

/* What each (CPU, ASID) holds since that CPU's last flush of every ASID: the vCPU that filled it
 * and which of its stays on a CPU that was (a stay ends when it runs on another CPU). */
struct model {
	struct asid_cpu cpu[MAX_CPUS];
	struct asid_vcpu vcpu[MAX_VCPUS];
	int owner[MAX_CPUS][MODEL_ASIDS]; /* vCPU + 1, 0: empty */
	unsigned owner_stay[MAX_CPUS][MODEL_ASIDS];
	unsigned stay[MAX_VCPUS];
	int last_cpu[MAX_VCPUS];
	unsigned flushes;
};

static void model_init(struct model *m, unsigned ncpu, uint32_t nr_asids)
{
	memset(m, 0, sizeof(*m));
	for (unsigned c = 0; c < ncpu; c++)
		assert_int_equal(asid_cpu_init(&m->cpu[c], nr_asids), 0);
	for (unsigned i = 0; i < MAX_VCPUS; i++) {
		asid_vcpu_reset(&m->vcpu[i]);
		m->last_cpu[i] = -1;
	}
}

/* One VMRUN of vCPU i on CPU c; returns the ASID it ran with. */
static uint32_t model_run(struct model *m, unsigned i, unsigned c)
{
	bool flush = asid_assign(&m->cpu[c], c, &m->vcpu[i]);
	uint32_t asid = m->vcpu[i].asid;

	if (flush) {
		memset(m->owner[c], 0, sizeof(m->owner[c]));
		m->flushes++;
	}
	if (m->last_cpu[i] != (int)c)
		m->stay[i]++;
	m->last_cpu[i] = (int)c;
	assert_in_range(asid, 1, m->cpu[c].max);
	assert_true(asid < MODEL_ASIDS);
	if (m->owner[c][asid]) {
		assert_int_equal(m->owner[c][asid], (int)i + 1);
		assert_int_equal(m->owner_stay[c][asid], m->stay[i]);
	}
	m->owner[c][asid] = (int)i + 1;
	m->owner_stay[c][asid] = m->stay[i];
	return asid;
}

static void too_few_asids(void **state)
{
	(void)state;
	struct asid_cpu c;
	assert_int_equal(asid_cpu_init(&c, 0), -1);
	assert_int_equal(asid_cpu_init(&c, 1), -1);
	assert_int_equal(asid_cpu_init(&c, 2), 0);
	assert_int_equal(c.max, 1);
}

/* The first VMRUN on a CPU flushes what the TLB held before keel; ASID 0 is never handed out. */
static void first_run_flushes(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, 1, 16);
	assert_int_equal(model_run(&m, 0, 0), 1);
	assert_int_equal(m.flushes, 1);
	assert_int_equal(model_run(&m, 0, 0), 1);
	assert_int_equal(model_run(&m, 1, 0), 2);
	assert_int_equal(m.flushes, 1);
}

/* One guest ASID for two vCPUs: every switch between them is a new generation and a flush. */
static void two_vcpus_one_asid(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, 1, 2);
	for (unsigned k = 0; k < 10; k++) {
		assert_int_equal(model_run(&m, k % 2, 0), 1);
		assert_int_equal(m.flushes, k + 1);
		assert_int_equal(m.cpu[0].generation, k + 2);
	}
	/* a vCPU running again without a switch keeps its ASID and flushes nothing */
	assert_int_equal(model_run(&m, 1, 0), 1);
	assert_int_equal(m.flushes, 10);
}

/* Two ASIDs for two vCPUs: each keeps its own, one flush in all. */
static void two_vcpus_two_asids(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, 1, 3);
	for (unsigned k = 0; k < 10; k++)
		assert_int_equal(model_run(&m, k % 2, 0), k % 2 + 1);
	assert_int_equal(m.flushes, 1);
}

/* Three vCPUs round-robin on two ASIDs: the pool runs out again and again; the generation rolls
 * over each time and nobody runs on another's entries. */
static void generations_roll_over(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, 1, 3);
	model_run(&m, 0, 0);
	model_run(&m, 1, 0);
	assert_int_equal(m.cpu[0].generation, 2);
	assert_int_equal(model_run(&m, 2, 0), 1); /* pool used up: new generation, ASID 1 again */
	assert_int_equal(m.cpu[0].generation, 3);
	assert_int_equal(m.flushes, 2);
	/* vCPU 0's ASID 1 was of generation 2: it takes ASID 2, no flush needed */
	assert_int_equal(model_run(&m, 0, 0), 2);
	assert_int_equal(m.flushes, 2);
	/* vCPU 1 finds the pool used up */
	assert_int_equal(model_run(&m, 1, 0), 1);
	assert_int_equal(m.cpu[0].generation, 4);
	assert_int_equal(m.flushes, 3);
	for (unsigned k = 0; k < 300; k++)
		model_run(&m, k % 3, 0);
}

/* A vCPU moving to another CPU takes an ASID there, and one more when it comes back, even in the
 * same generation: its entries on the first CPU are from before it ran elsewhere. */
static void migration_takes_a_fresh_asid(void **state)
{
	(void)state;
	struct model m;
	model_init(&m, 2, 16);
	assert_int_equal(model_run(&m, 0, 0), 1);
	assert_int_equal(model_run(&m, 0, 1), 1); /* CPU 1's own pool */
	assert_int_equal(m.vcpu[0].cpu, 1);
	assert_int_equal(model_run(&m, 0, 0), 2);
	assert_int_equal(m.cpu[0].generation, 2);
	/* vcpu_release: the next run anywhere takes a fresh ASID */
	asid_vcpu_reset(&m.vcpu[0]);
	assert_int_equal(model_run(&m, 0, 0), 3);
}

/* The counter stops short of wrapping when the CPU reports the most ASIDs there can be. */
static void huge_pool(void **state)
{
	(void)state;
	struct asid_cpu c;
	struct asid_vcpu a, b;
	assert_int_equal(asid_cpu_init(&c, 0xffffffffu), 0);
	asid_vcpu_reset(&a);
	asid_vcpu_reset(&b);
	assert_true(asid_assign(&c, 0, &a));
	assert_int_equal(a.asid, 1);
	c.next = c.max; /* as if 0xfffffffd vCPUs had come by */
	assert_false(asid_assign(&c, 0, &b));
	assert_int_equal(b.asid, 0xfffffffeu);
	asid_vcpu_reset(&b);
	assert_true(asid_assign(&c, 0, &b));
	assert_int_equal(b.asid, 1);
	assert_int_equal(c.generation, 3);
	assert_true(asid_assign(&c, 0, &a) == false && a.asid == 2);
}

/* Random schedules: every pool size from 2 to 10, up to 8 vCPUs on up to 4 CPUs, vCPUs moving
 * between CPUs; the model TLB checks each VMRUN. */
static void random_schedules(void **state)
{
	(void)state;
	uint32_t x = 0x2545f491;
	for (uint32_t nr = 2; nr <= 10; nr++) {
		for (unsigned nvcpu = 1; nvcpu <= MAX_VCPUS; nvcpu++) {
			struct model m;
			unsigned ncpu = 1 + nvcpu % MAX_CPUS;
			model_init(&m, ncpu, nr);
			for (unsigned k = 0; k < 4000; k++) {
				x ^= x << 13;
				x ^= x >> 17;
				x ^= x << 5;
				unsigned i = x % nvcpu;
				/* mostly a vCPU's own CPU, now and then another */
				unsigned c = (x >> 8) % 8 ? i % ncpu : (x >> 12) % ncpu;
				if ((x >> 20) % 64 == 0)
					asid_vcpu_reset(&m.vcpu[i]);
				model_run(&m, i, c);
			}
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(too_few_asids),
		cmocka_unit_test(first_run_flushes),
		cmocka_unit_test(two_vcpus_one_asid),
		cmocka_unit_test(two_vcpus_two_asids),
		cmocka_unit_test(generations_roll_over),
		cmocka_unit_test(migration_takes_a_fresh_asid),
		cmocka_unit_test(huge_pool),
		cmocka_unit_test(random_schedules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
