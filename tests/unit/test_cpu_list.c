/* core/cpu_list.c: which host CPUs keel starts (from the MADT) and where their start-up code
 * goes (from the memory map). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <string.h>

#include "core/cpu_list.h"

static struct acpi_host_madt madt;
static struct cpu_list list;
static struct boot_info bi;

static void add_cpu(uint32_t apic_id, bool enabled, bool online_capable)
{
	madt.cpus[madt.nr_cpus++] = (struct acpi_host_cpu){ .apic_id = apic_id,
							    .enabled = enabled,
							    .online_capable = online_capable };
}

static void boot_cpu_first_then_madt_order(void **state)
{
	(void)state;
	memset(&madt, 0, sizeof(madt));
	add_cpu(0, true, false);
	add_cpu(2, true, false);
	add_cpu(4, true, false); /* the boot CPU, not first in the MADT */
	add_cpu(6, true, false);
	cpu_list_from_madt(&madt, 4, false, 64, &list);
	assert_int_equal(list.nr, 4);
	assert_true(list.boot_cpu_listed);
	assert_int_equal(list.apic_id[0], 4);
	assert_int_equal(list.apic_id[1], 0);
	assert_int_equal(list.apic_id[2], 2);
	assert_int_equal(list.apic_id[3], 6);
}

static void disabled_skipped_online_capable_tried(void **state)
{
	(void)state;
	memset(&madt, 0, sizeof(madt));
	add_cpu(0, true, false);
	add_cpu(1, false, false); /* absent: skipped */
	add_cpu(2, false, true);  /* online-capable: tried */
	add_cpu(3, true, true);
	cpu_list_from_madt(&madt, 0, false, 64, &list);
	assert_int_equal(list.nr, 3);
	assert_int_equal(list.apic_id[1], 2);
	assert_int_equal(list.apic_id[2], 3);
	assert_int_equal(list.nr_disabled, 1);
}

static void limits_and_x2apic_ids(void **state)
{
	(void)state;
	memset(&madt, 0, sizeof(madt));
	for (uint32_t id = 0; id < 8; id++)
		add_cpu(id, true, false);
	add_cpu(255, true, false); /* the xAPIC broadcast ID */
	add_cpu(300, true, false); /* needs x2APIC */
	cpu_list_from_madt(&madt, 0, false, 4, &list);
	assert_int_equal(list.nr, 4);
	assert_int_equal(list.nr_too_many, 4);
	assert_int_equal(list.nr_x2apic_id, 2);
	cpu_list_from_madt(&madt, 0, true, 64, &list);
	assert_int_equal(list.nr, 10);
	assert_int_equal(list.apic_id[9], 300);
	assert_int_equal(list.nr_x2apic_id, 0);
}

static void no_madt_or_boot_cpu_missing(void **state)
{
	(void)state;
	cpu_list_from_madt(NULL, 7, false, 64, &list);
	assert_int_equal(list.nr, 1);
	assert_int_equal(list.apic_id[0], 7);
	assert_false(list.boot_cpu_listed);
	memset(&madt, 0, sizeof(madt));
	add_cpu(1, true, false);
	cpu_list_from_madt(&madt, 0, false, 64, &list);
	assert_int_equal(list.nr, 2);
	assert_false(list.boot_cpu_listed);
	cpu_list_from_madt(&madt, 0, false, 0, &list); /* the boot CPU always runs */
	assert_int_equal(list.nr, 1);
}

static void set_map(const struct mem_range *r, unsigned n)
{
	memset(&bi, 0, sizeof(bi));
	memcpy(bi.memmap, r, n * sizeof(*r));
	bi.nr_memmap = n;
}

static void trampoline_in_free_low_ram(void **state)
{
	(void)state;
	/* SeaBIOS' E820: 0-0x9fc00 usable */
	const struct mem_range bios[] = {
		{ 0, 0x9fc00, MEM_FREE },
		{ 0x9fc00, 0x400, MEM_RESERVED },
		{ 0xf0000, 0x10000, MEM_RESERVED },
		{ 0x100000, 0x3ff00000, MEM_FREE },
	};
	set_map(bios, 4);
	assert_int_equal(cpu_list_trampoline_base(&bi, 3), 0x1000);

	/* only unaligned or too small pieces, a reserved page, then room at 0x8000 */
	const struct mem_range uefi[] = {
		{ 0, 0x1800, MEM_FREE },
		{ 0x2800, 0x2000, MEM_FREE_LATER },
		{ 0x5000, 0x1000, MEM_RESERVED },
		{ 0x6000, 0x1000, MEM_KEEL },
		{ 0x8000, 0x3000, MEM_FREE_LATER },
		{ 0x100000, 0x1000000, MEM_FREE },
	};
	set_map(uefi, 6);
	assert_int_equal(cpu_list_trampoline_base(&bi, 3), 0x8000);
	assert_int_equal(cpu_list_trampoline_base(&bi, 1), 0x3000);
	assert_int_equal(cpu_list_trampoline_base(&bi, 4), 0);

	/* never above 640 KiB, and no overflow on a range reaching the top */
	const struct mem_range high[] = {
		{ 0x9e000, 0x62000, MEM_FREE },
		{ 0xfffffffffffff000ull, 0x1000, MEM_FREE },
		{ 0x1000, UINT64_MAX, MEM_FREE },
	};
	set_map(high, 2);
	assert_int_equal(cpu_list_trampoline_base(&bi, 3), 0);
	set_map(high, 3);
	assert_int_equal(cpu_list_trampoline_base(&bi, 3), 0x1000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(boot_cpu_first_then_madt_order),
		cmocka_unit_test(disabled_skipped_online_capable_tried),
		cmocka_unit_test(limits_and_x2apic_ids),
		cmocka_unit_test(no_madt_or_boot_cpu_missing),
		cmocka_unit_test(trampoline_in_free_low_ram),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
