/* Host PCI functions given to VMs (drivers/pci_claim.h): every refusal with its message, claims
 * taken and released, and the IOMMU group of a multi-function device, over a hand-built table. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <stdio.h>

#include "drivers/pci_claim.h"
#include "lib/kstring.h"

static struct pci_host ph;
static char err[200];

static unsigned add(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, uint32_t class_code,
		    uint8_t header_type)
{
	struct pci_func *f = &ph.funcs[ph.nr];

	memset(f, 0, sizeof(*f));
	f->segment = seg;
	f->bus = bus;
	f->dev = dev;
	f->fn = fn;
	f->vendor = 0x8086;
	f->class_code = class_code;
	f->header_type = header_type;
	f->nr_bars = header_type == 0 ? 6 : 2;
	return ph.nr++;
}

/* 00:00.0 host bridge, 00:02.0 IOMMU, 00:03.0 NVMe (keel's), 00:04.0-2 a three-function NIC,
 * 00:05.0 a PCI bridge, 00:06.0 a CardBus bridge, 00:07.0 header type 5, 01:00.0 an endpoint
 * behind the bridge, 0001:00:04.0 the same address in another segment */
static void fill(void)
{
	memset(&ph, 0, sizeof(ph));
	add(0, 0, 0, 0, 0x060000, 0);
	add(0, 0, 2, 0, 0x080600, 0);
	ph.funcs[add(0, 0, 3, 0, 0x010802, 0)].owner = PCI_OWNER_KEEL;
	add(0, 0, 4, 0, 0x020000, 0);
	add(0, 0, 4, 1, 0x020000, 0);
	add(0, 0, 4, 2, 0x020000, 0);
	add(0, 0, 5, 0, 0x060400, 1);
	add(0, 0, 6, 0, 0x060700, 2);
	add(0, 0, 7, 0, 0xff0000, 5);
	add(0, 1, 0, 0, 0x010802, 0);
	add(1, 0, 4, 0, 0x020000, 0);
}

static int check(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned vm, bool iommu)
{
	err[0] = '\0';
	return pci_claim_check(&ph, seg, bus, dev, fn, vm, iommu, err, sizeof(err));
}

static void expect_refusal(uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn, unsigned vm,
			   bool iommu, const char *want)
{
	assert_int_equal(check(seg, bus, dev, fn, vm, iommu), -1);
	if (strcmp(err, want) != 0)
		fail_msg("got '%s'; wanted '%s'", err, want);
}

static void find(void **state)
{
	(void)state;
	fill();
	assert_int_equal(pci_claim_find(&ph, 0, 0, 4, 1), 4);
	assert_int_equal(pci_claim_find(&ph, 1, 0, 4, 0), 10);
	assert_int_equal(pci_claim_find(&ph, 0, 0, 9, 0), -1);
	assert_true(pci_same_iommu_group(&ph.funcs[3], &ph.funcs[5]));
	assert_false(pci_same_iommu_group(&ph.funcs[3], &ph.funcs[10])); /* other segment */
	assert_false(pci_same_iommu_group(&ph.funcs[3], &ph.funcs[2]));
	assert_false(pci_same_iommu_group(&ph.funcs[3], &ph.funcs[9])); /* other bus */
}

static void refusals(void **state)
{
	(void)state;
	fill();
	expect_refusal(0, 0, 9, 0, 0, true,
		       "no PCI function 00:09.0 on this machine; expected one keel lists at boot "
		       "(keel: pci ...)");
	expect_refusal(2, 0, 4, 0, 0, true,
		       "no PCI function 0002:00:04.0 on this machine; expected one keel lists at "
		       "boot (keel: pci ...)");
	expect_refusal(0, 0, 0, 0, 0, true,
		       "00:00.0 is a host bridge; expected an endpoint (header type 0)");
	expect_refusal(0, 0, 2, 0, 0, true,
		       "00:02.0 is an IOMMU; expected an endpoint (header type 0)");
	expect_refusal(0, 0, 5, 0, 0, true,
		       "00:05.0 is a PCI bridge; expected an endpoint (header type 0)");
	expect_refusal(0, 0, 6, 0, 0, true,
		       "00:06.0 is a CardBus bridge; expected an endpoint (header type 0)");
	expect_refusal(
		0, 0, 7, 0, 0, true,
		"00:07.0 is of an unknown header type; expected an endpoint (header type 0)");
	expect_refusal(0, 0, 3, 0, 0, true,
		       "00:03.0 is driven by keel (its NVMe or NIC driver); expected a function "
		       "keel does not use");
	expect_refusal(0, 0, 4, 0, 0, false,
		       "no IOMMU translates 00:04.0; expected a machine with VT-d or AMD-Vi "
		       "(without one the device could DMA anywhere)");
	/* nothing was taken by any of them */
	for (unsigned i = 0; i < ph.nr; i++)
		assert_int_equal(ph.funcs[i].owner, i == 2 ? PCI_OWNER_KEEL : PCI_OWNER_NONE);
}

static void claims(void **state)
{
	(void)state;
	fill();
	assert_int_equal(check(0, 1, 0, 0, 0, true), 9);
	pci_claim_take(&ph, 9, 0, "a");
	assert_int_equal(ph.funcs[9].owner, PCI_OWNER_VM);
	assert_int_equal(ph.funcs[9].owner_vm, 0);
	assert_string_equal(ph.funcs[9].owner_name, "a");
	/* held: refused to another VM and to its own again */
	expect_refusal(0, 1, 0, 0, 1, true,
		       "01:00.0 is [vm a]'s; expected each function in one VM");
	expect_refusal(0, 1, 0, 0, 0, true,
		       "01:00.0 is [vm a]'s; expected each function in one VM");
	/* the same address in segment 1 is another function */
	assert_int_equal(check(1, 0, 4, 0, 1, true), 10);
	pci_claim_release(&ph, 9);
	assert_int_equal(ph.funcs[9].owner, PCI_OWNER_NONE);
	assert_null(ph.funcs[9].owner_name);
	assert_int_equal(check(0, 1, 0, 0, 1, true), 9);
	/* a release never takes a function from keel's drivers, nor one out of range */
	pci_claim_release(&ph, 2);
	assert_int_equal(ph.funcs[2].owner, PCI_OWNER_KEEL);
	pci_claim_release(&ph, 1000);
	pci_claim_take(&ph, 1000, 0, "a");
}

static void iommu_groups(void **state)
{
	(void)state;
	fill();
	/* one VM may take every function of a device */
	assert_int_equal(check(0, 0, 4, 0, 0, true), 3);
	pci_claim_take(&ph, 3, 0, "a");
	assert_int_equal(check(0, 0, 4, 1, 0, true), 4);
	pci_claim_take(&ph, 4, 0, "a");
	/* another VM may take none of them */
	expect_refusal(0, 0, 4, 2, 1, true,
		       "00:04.2 shares an IOMMU group with 00:04.0, which is [vm a]'s; expected "
		       "every function of a device in one owner (keel does not read ACS yet)");
	/* two VMs, two functions of one device: the second is refused until the first lets go */
	pci_claim_release(&ph, 3);
	expect_refusal(0, 0, 4, 0, 1, true,
		       "00:04.0 shares an IOMMU group with 00:04.1, which is [vm a]'s; expected "
		       "every function of a device in one owner (keel does not read ACS yet)");
	pci_claim_release(&ph, 4);
	assert_int_equal(check(0, 0, 4, 2, 1, true), 5);
	pci_claim_take(&ph, 5, 1, "b");
	expect_refusal(0, 0, 4, 1, 0, true,
		       "00:04.1 shares an IOMMU group with 00:04.2, which is [vm b]'s; expected "
		       "every function of a device in one owner (keel does not read ACS yet)");
	/* keel's driver on one function keeps the device's other functions from every VM */
	pci_claim_release(&ph, 5);
	ph.funcs[3].owner = PCI_OWNER_KEEL;
	expect_refusal(0, 0, 4, 1, 0, true,
		       "00:04.1 shares an IOMMU group with 00:04.0, which is keel's; expected "
		       "every function of a device in one owner (keel does not read ACS yet)");
	/* functions of other devices, buses and segments are not in the group */
	pci_claim_take(&ph, 10, 2, "c");
	assert_int_equal(check(0, 1, 0, 0, 0, true), 9);
}

/* keel.cfg's functions kept from keel's drivers: the named one and its IOMMU group, never one
 * held already, each only once; a function not on the machine sets nothing aside */
static void set_aside(void **state)
{
	(void)state;
	fill();
	assert_int_equal(pci_claim_set_aside(&ph, 0, 0, 4, 1, "a"), 3);
	for (unsigned fn = 0; fn < 3; fn++)
		assert_string_equal(
			ph.funcs[pci_claim_find(&ph, 0, 0, 4, (uint8_t)fn)].set_aside_for, "a");
	assert_null(ph.funcs[pci_claim_find(&ph, 1, 0, 4, 0)].set_aside_for);
	assert_int_equal(pci_claim_set_aside(&ph, 0, 0, 4, 0, "b"), 0);
	assert_string_equal(ph.funcs[pci_claim_find(&ph, 0, 0, 4, 0)].set_aside_for, "a");
	assert_int_equal(pci_claim_set_aside(&ph, 0, 0, 3, 0, "b"), 0); /* keel's */
	assert_null(ph.funcs[pci_claim_find(&ph, 0, 0, 3, 0)].set_aside_for);
	assert_int_equal(pci_claim_set_aside(&ph, 0, 0, 9, 0, "b"), 0);
	/* set aside is not held: VM a still claims it */
	assert_true(check(0, 0, 4, 1, 0, true) >= 0);
}

/* SR-IOV VFs: each its own group, apart from its PF and the other VFs, so two VMs may take two
 * VFs of one device while keel drives the PF */
static void vf_groups(void **state)
{
	(void)state;
	fill();
	unsigned pf = add(0, 0, 8, 0, 0x010802, 0);
	ph.funcs[pf].owner = PCI_OWNER_KEEL;
	unsigned vf1 = add(0, 0, 8, 1, 0x010802, 0), vf2 = add(0, 0, 8, 2, 0x010802, 0);
	ph.funcs[vf1].is_vf = ph.funcs[vf2].is_vf = true;
	ph.funcs[vf1].pf_index = ph.funcs[vf2].pf_index = (uint16_t)pf;
	assert_false(pci_same_iommu_group(&ph.funcs[pf], &ph.funcs[vf1]));
	assert_false(pci_same_iommu_group(&ph.funcs[vf1], &ph.funcs[vf2]));
	assert_true(pci_same_iommu_group(&ph.funcs[vf1], &ph.funcs[vf1]));
	assert_int_equal(check(0, 0, 8, 1, 0, true), (int)vf1);
	pci_claim_take(&ph, vf1, 0, "a");
	assert_int_equal(check(0, 0, 8, 2, 1, true), (int)vf2);
	/* the PF itself stays keel's */
	assert_int_equal(check(0, 0, 8, 0, 1, true), -1);
	assert_int_equal(pci_claim_set_aside(&ph, 0, 0, 8, 2, "b"), 1);
	assert_null(ph.funcs[vf1].set_aside_for);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(find),	     cmocka_unit_test(refusals),
		cmocka_unit_test(claims),    cmocka_unit_test(iommu_groups),
		cmocka_unit_test(set_aside), cmocka_unit_test(vf_groups),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
