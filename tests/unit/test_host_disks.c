/* The host disks' table and claims (core/host_disks.h): names as Linux gives them, nvme:N
 * counting namespaces, part:LABEL matching one partition only, one claim per partition or
 * namespace, and never a namespace beside one of its partitions. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "core/host_disks.h"

static struct host_disks t;
static char err[200];

static struct disk_config part(const char *label, unsigned line)
{
	struct disk_config d = { .kind = CFG_DISK_PART, .line = line };

	snprintf(d.path, sizeof(d.path), "%s", label);
	return d;
}

static struct disk_config nvme(unsigned n, unsigned line)
{
	return (struct disk_config){ .kind = CFG_DISK_NVME, .nsid = n, .line = line };
}

/* nvme0n1 (1000 sectors: a at 34-99, b at 100-199, an unnamed one, dup twice), nvme0n2, nvme1n1 */
static void fill(void)
{
	memset(&t, 0, sizeof(t));
	assert_int_equal(host_disks_add_ns(&t, 0, 1, 1000), 0);
	assert_int_equal(host_disks_add_part(&t, 0, 1, 34, 66, "a"), 1);
	assert_int_equal(host_disks_add_part(&t, 0, 2, 100, 100, "b"), 2);
	assert_int_equal(host_disks_add_part(&t, 0, 3, 200, 10, NULL), 3);
	assert_int_equal(host_disks_add_part(&t, 0, 4, 300, 10, "dup"), 4);
	assert_int_equal(host_disks_add_ns(&t, 0, 2, 500), 5);
	assert_int_equal(host_disks_add_part(&t, 5, 1, 34, 10, "dup"), 6);
	assert_int_equal(host_disks_add_ns(&t, 1, 7, 50), 7);
}

static void names_and_numbers(void **state)
{
	(void)state;
	fill();
	assert_string_equal(t.d[0].name, "nvme0n1");
	assert_string_equal(t.d[2].name, "nvme0n1p2");
	assert_string_equal(t.d[6].name, "nvme0n2p1");
	assert_string_equal(t.d[7].name, "nvme1n7");
	assert_int_equal(t.d[0].number, 1);
	assert_int_equal(t.d[5].number, 2);
	assert_int_equal(t.d[7].number, 3);
	assert_false(t.d[3].has_label);
	/* a partition outside its namespace, of a partition, or empty is refused */
	assert_int_equal(host_disks_add_part(&t, 0, 9, 990, 11, "x"), -1);
	assert_int_equal(host_disks_add_part(&t, 0, 9, 1000, 1, "x"), -1);
	assert_int_equal(host_disks_add_part(&t, 0, 9, 10, UINT64_MAX, "x"), -1);
	assert_int_equal(host_disks_add_part(&t, 1, 9, 40, 1, "x"), -1);
	assert_int_equal(host_disks_add_part(&t, 0, 9, 40, 0, "x"), -1);
	assert_int_equal(host_disks_add_part(&t, 42, 9, 40, 1, "x"), -1);
	assert_int_equal(t.nr, 8);
}

static void lookups(void **state)
{
	struct disk_config d;

	(void)state;
	fill();
	d = part("b", 4);
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 0, err, sizeof(err)), 2);
	d = nvme(3, 5);
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 1, err, sizeof(err)), 7);
	d = part("nope", 6);
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 2, err, sizeof(err)), -1);
	assert_string_equal(err, "no GPT partition named nope on keel's disks; expected the name "
				 "of one");
	d = part("dup", 6);
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 2, err, sizeof(err)), -1);
	assert_string_equal(err, "partitions nvme0n1p4 and nvme0n2p1 are both named dup; expected "
				 "one partition of that name on keel's disks");
	d = nvme(4, 7);
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 2, err, sizeof(err)), -1);
	assert_string_equal(err, "no NVMe namespace 4; expected 1 to 3 (keel found 3)");
	d = part("B", 7); /* labels match exactly */
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 2, err, sizeof(err)), -1);
	d = (struct disk_config){ .kind = CFG_DISK_FILE };
	assert_int_equal(host_disks_claim(&t, &d, "vm1", 2, err, sizeof(err)), -1);
}

static void claims(void **state)
{
	struct disk_config a = part("a", 4), whole = nvme(1, 9), n2 = nvme(2, 10);

	(void)state;
	fill();
	assert_int_equal(host_disks_claim(&t, &a, "web", 0, err, sizeof(err)), 1);
	/* the same partition again */
	assert_int_equal(host_disks_claim(&t, &a, "db", 1, err, sizeof(err)), -1);
	assert_string_equal(err,
			    "nvme0n1p1 is vda of [vm web] (line 4) already; expected it in one "
			    "disk of one VM");
	/* its namespace, while a partition of it is held */
	assert_int_equal(host_disks_claim(&t, &whole, "db", 1, err, sizeof(err)), -1);
	assert_string_equal(err, "nvme0n1 overlaps nvme0n1p1, vda of [vm web] (line 4); expected a "
				 "namespace and its partitions in different VMs' disks never both");
	/* another namespace is free, and then its partition is not */
	assert_int_equal(host_disks_claim(&t, &n2, "db", 1, err, sizeof(err)), 5);
	/* the partition given back, the whole namespace is free; then the partition is not */
	host_disks_release(&t, 1);
	assert_int_equal(host_disks_claim(&t, &whole, "db", 2, err, sizeof(err)), 0);
	assert_int_equal(host_disks_claim(&t, &a, "web", 0, err, sizeof(err)), -1);
	assert_string_equal(err, "nvme0n1p1 overlaps nvme0n1, vdc of [vm db] (line 9); expected a "
				 "namespace and its partitions in different VMs' disks never both");
	/* released, it can be claimed again */
	host_disks_release(&t, 0);
	assert_int_equal(host_disks_claim(&t, &a, "web", 0, err, sizeof(err)), 1);
	host_disks_release(&t, 99); /* out of range: nothing */
}

static void table_full(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	for (unsigned i = 0; i < HOST_DISKS_MAX; i++)
		assert_int_equal(host_disks_add_ns(&t, 0, i + 1, 10), (int)i);
	assert_int_equal(host_disks_add_ns(&t, 0, 99, 10), -1);
	assert_int_equal(host_disks_add_part(&t, 0, 1, 1, 1, "x"), -1);
	assert_int_equal(t.nr_dropped, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_and_numbers),
		cmocka_unit_test(lookups),
		cmocka_unit_test(claims),
		cmocka_unit_test(table_full),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
