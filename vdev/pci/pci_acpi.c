#include "vdev/pci/pci_acpi.h"

#include "core/guest_layout.h"
#include "vdev/pci/pci_bus.h"

/* Resource descriptors (ACPI 6.4, 6.4). */
#define RES_IO_PORT 0x47       /* small item: I/O port descriptor (6.4.2.5) */
#define RES_END_TAG 0x79       /* small item: end tag (6.4.2.9) */
#define RES_DWORD_ADDRESS 0x87 /* large item: DWord address space descriptor (6.4.3.5.2) */
#define RES_WORD_ADDRESS 0x88  /* large item: Word address space descriptor (6.4.3.5.3) */
#define RES_QWORD_ADDRESS 0x8A /* large item: QWord address space descriptor (6.4.3.5.1) */
#define ADDR_SPACE_MEM 0
#define ADDR_SPACE_IO 1
#define ADDR_SPACE_BUS 2
/* General flags: _MAF, _MIF (fixed range), positive decode, and bit 0 clear: the bridge
 * produces the range for the devices below it (6.4.3.5.2). */
#define ADDR_PRODUCER_FIXED 0x0C
#define ADDR_IO_ENTIRE_RANGE 0x03 /* I/O type-specific flags, _RNG (6.4.3.5.5) */
#define ADDR_MEM_RW 0x01	  /* memory type-specific flags: read-write, non-cacheable */

struct res {
	uint8_t b[128];
	size_t n;
};

static void put(struct res *r, uint64_t v, unsigned bytes)
{
	for (unsigned i = 0; i < bytes && r->n < sizeof(r->b); i++)
		r->b[r->n++] = (uint8_t)(v >> (8 * i));
}

/* A Word (width 2), DWord (4) or QWord (8) address space descriptor for [min, max]. */
static void address_space(struct res *r, unsigned width, uint8_t type, uint8_t specific,
			  uint64_t min, uint64_t max)
{
	put(r,
	    width == 2	 ? RES_WORD_ADDRESS
	    : width == 4 ? RES_DWORD_ADDRESS
			 : RES_QWORD_ADDRESS,
	    1);
	put(r, 3 + 5 * width, 2); /* length of what follows the length field */
	put(r, type, 1);
	put(r, ADDR_PRODUCER_FIXED, 1);
	put(r, specific, 1);
	put(r, 0, width); /* granularity */
	put(r, min, width);
	put(r, max, width);
	put(r, 0, width);	      /* translation offset */
	put(r, max - min + 1, width); /* length */
}

static void crs(struct aml *a, uint64_t mmio64_base, uint64_t mmio64_end)
{
	struct res r = { .n = 0 };

	address_space(&r, 2, ADDR_SPACE_BUS, 0, 0, 0);
	/* the configuration ports the bridge itself answers, 0xCF8-0xCFF */
	put(&r, RES_IO_PORT, 1);
	put(&r, 1, 1); /* 16-bit decode */
	put(&r, PCI_CONFIG_ADDRESS, 2);
	put(&r, PCI_CONFIG_ADDRESS, 2);
	put(&r, 1, 1); /* alignment */
	put(&r, 8, 1); /* length */
	address_space(&r, 2, ADDR_SPACE_IO, ADDR_IO_ENTIRE_RANGE, GUEST_PCI_IO_BASE,
		      GUEST_PCI_IO_END - 1);
	address_space(&r, 4, ADDR_SPACE_MEM, ADDR_MEM_RW, GUEST_PCI_MMIO32_BASE,
		      GUEST_PCI_MMIO32_END - 1);
	/* above RAM, for 64-bit BARs a guest moves up there (pci_bus.c decodes them there too) */
	if (mmio64_end > mmio64_base)
		address_space(&r, 8, ADDR_SPACE_MEM, ADDR_MEM_RW, mmio64_base, mmio64_end - 1);
	put(&r, RES_END_TAG, 1);
	put(&r, 0, 1); /* checksum 0: "treat as if the checksum were correct" (6.4.2.9) */
	if (r.n == sizeof(r.b))
		a->overflow = true; /* a bug in keel: the template outgrew its buffer */
	aml_name(a, "_CRS");
	aml_buffer(a, r.b, r.n);
}

/* _PRT (6.2.13): for every slot and pin, Package { slot << 16 | 0xFFFF, pin (0 = INTA), 0
 * (no link device: the last field is a GSI), GSI }. */
static void prt(struct aml *a)
{
	aml_name(a, "_PRT");
	size_t all = aml_package_begin(a, PCI_SLOTS * 4);
	for (unsigned slot = 0; slot < PCI_SLOTS; slot++)
		for (unsigned pin = 0; pin < 4; pin++) {
			size_t one = aml_package_begin(a, 4);
			aml_integer(a, (uint64_t)slot << 16 | 0xFFFF);
			aml_integer(a, pin);
			aml_integer(a, 0);
			aml_integer(a, PCI_INTX_GSI_BASE + ((slot + pin) & 3));
			aml_pkg_end(a, one);
		}
	aml_pkg_end(a, all);
}

void pci_acpi_host_bridge(struct aml *a, uint64_t mmio64_base, uint64_t mmio64_end)
{
	size_t dev = aml_device_begin(a, "PCI0");
	aml_name(a, "_HID");
	aml_eisaid(a, "PNP0A08");
	aml_name(a, "_CID");
	aml_eisaid(a, "PNP0A03");
	aml_name_integer(a, "_SEG", 0);
	aml_name_integer(a, "_BBN", 0);
	aml_name_integer(a, "_UID", 0);
	crs(a, mmio64_base, mmio64_end);
	prt(a);
	aml_pkg_end(a, dev);
}
