/* Host PCI functions given to VMs (drivers/pci_claim.h). Class codes are from the PCI Code and ID
 * Assignment Specification 1.11 (1.7 bridges, 1.9 base system peripherals). */
#include "drivers/pci_claim.h"

#include "lib/fmt.h"
#include "lib/kstring.h"

#define CLASS_HOST_BRIDGE 0x0600 /* base class and subclass: class_code >> 8 */
#define CLASS_IOMMU 0x0806

/* "BB:DD.F", or "SSSS:BB:DD.F" outside segment 0, as the boot log and keel.cfg write it */
static const char *bdf(char buf[16], uint16_t seg, uint8_t bus, uint8_t dev, uint8_t fn)
{
	if (seg)
		ksnprintf(buf, 16, "%04x:%02x:%02x.%x", seg, bus, dev, fn);
	else
		ksnprintf(buf, 16, "%02x:%02x.%x", bus, dev, fn);
	return buf;
}

static const char *func_bdf(char buf[16], const struct pci_func *f)
{
	return bdf(buf, f->segment, f->bus, f->dev, f->fn);
}

int pci_claim_find(const struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
		   uint8_t fn)
{
	for (unsigned i = 0; i < ph->nr && i < PCI_HOST_MAX_FUNCS; i++) {
		const struct pci_func *f = &ph->funcs[i];

		if (f->segment == segment && f->bus == bus && f->dev == dev && f->fn == fn)
			return (int)i;
	}
	return -1;
}

/* keel does not read Access Control Services yet, so it cannot know that the functions of one
 * multi-function device keep their DMA apart (peer-to-peer inside the device never reaches the
 * IOMMU): the group is, conservatively, every function of one device. Requester-ID aliases (a
 * device behind a PCIe-to-PCI bridge uses the bridge's ID; quirky devices use another function's)
 * would widen it; they belong here too. */
bool pci_same_iommu_group(const struct pci_func *a, const struct pci_func *b)
{
	if (a->segment != b->segment || a->bus != b->bus || a->dev != b->dev)
		return false;
	/* an SR-IOV VF is a requester of its own, made to be given away alone (PCIe 4.0, 9.1):
	 * keel takes it as isolated from its PF and the other VFs (docs/security.md) */
	if (a->is_vf || b->is_vf)
		return a->fn == b->fn;
	return true;
}

/* What keeps f from being an endpoint a VM could drive, or NULL */
static const char *not_endpoint(const struct pci_func *f)
{
	if ((f->class_code >> 8) == CLASS_HOST_BRIDGE)
		return "a host bridge";
	if ((f->class_code >> 8) == CLASS_IOMMU)
		return "an IOMMU";
	if (f->header_type == 1)
		return "a PCI bridge";
	if (f->header_type == 2)
		return "a CardBus bridge";
	if (f->header_type != 0)
		return "of an unknown header type";
	return NULL;
}

/* "keel's" or "[vm NAME]'s" */
static const char *holder(char buf[48], const struct pci_func *f)
{
	if (f->owner == PCI_OWNER_KEEL)
		return "keel's";
	ksnprintf(buf, 48, "[vm %s]'s", f->owner_name ? f->owner_name : "?");
	return buf;
}

int pci_claim_check(const struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
		    uint8_t fn, unsigned vm_index, bool iommu_covers, char *err, size_t err_size)
{
	char a[16], b[16], who[48];
	int idx = pci_claim_find(ph, segment, bus, dev, fn);
	const struct pci_func *f;
	const char *why;

	bdf(a, segment, bus, dev, fn);
	if (idx < 0)
		return kfail(err, err_size,
			     "no PCI function %s on this machine; expected one keel lists at boot "
			     "(keel: pci ...)",
			     a);
	f = &ph->funcs[idx];
	why = not_endpoint(f);
	if (why)
		return kfail(err, err_size, "%s is %s; expected an endpoint (header type 0)", a,
			     why);
	if (f->owner == PCI_OWNER_KEEL)
		return kfail(err, err_size,
			     "%s is driven by keel (its NVMe or NIC driver); expected a function "
			     "keel does not use",
			     a);
	if (f->owner == PCI_OWNER_VM)
		return kfail(err, err_size, "%s is %s; expected each function in one VM", a,
			     holder(who, f));
	if (!iommu_covers)
		return kfail(err, err_size,
			     "no IOMMU translates %s; expected a machine with VT-d or AMD-Vi "
			     "(without one the device could DMA anywhere)",
			     a);
	for (unsigned i = 0; i < ph->nr && i < PCI_HOST_MAX_FUNCS; i++) {
		const struct pci_func *o = &ph->funcs[i];

		if (o == f || !pci_same_iommu_group(f, o) || o->owner == PCI_OWNER_NONE ||
		    (o->owner == PCI_OWNER_VM && o->owner_vm == vm_index))
			continue;
		return kfail(err, err_size,
			     "%s shares an IOMMU group with %s, which is %s; expected every "
			     "function of a device in one owner (keel does not read ACS yet)",
			     a, func_bdf(b, o), holder(who, o));
	}
	return idx;
}

unsigned pci_claim_set_aside(struct pci_host *ph, uint16_t segment, uint8_t bus, uint8_t dev,
			     uint8_t fn, const char *vm)
{
	int idx = pci_claim_find(ph, segment, bus, dev, fn);
	unsigned n = 0;

	if (idx < 0)
		return 0;
	for (unsigned i = 0; i < ph->nr && i < PCI_HOST_MAX_FUNCS; i++) {
		struct pci_func *o = &ph->funcs[i];

		if (o->owner != PCI_OWNER_NONE || o->set_aside_for ||
		    !pci_same_iommu_group(&ph->funcs[idx], o))
			continue;
		o->set_aside_for = vm;
		n++;
	}
	return n;
}

void pci_claim_take(struct pci_host *ph, unsigned idx, unsigned vm_index, const char *vm)
{
	struct pci_func *f;

	if (idx >= ph->nr || idx >= PCI_HOST_MAX_FUNCS)
		return;
	f = &ph->funcs[idx];
	f->owner = PCI_OWNER_VM;
	f->owner_vm = vm_index;
	f->owner_name = vm;
}

void pci_claim_release(struct pci_host *ph, unsigned idx)
{
	struct pci_func *f;

	if (idx >= ph->nr || idx >= PCI_HOST_MAX_FUNCS || ph->funcs[idx].owner != PCI_OWNER_VM)
		return;
	f = &ph->funcs[idx];
	f->owner = PCI_OWNER_NONE;
	f->owner_vm = 0;
	f->owner_name = NULL;
}
