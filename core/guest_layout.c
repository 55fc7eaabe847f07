#include "core/guest_layout.h"

unsigned guest_ram_regions(uint64_t memory, uint64_t gpa[2], uint64_t size[2])
{
	gpa[0] = 0;
	size[0] = MIN(memory, GUEST_MMIO_HOLE);
	if (memory <= GUEST_MMIO_HOLE)
		return 1;
	gpa[1] = GUEST_4G;
	size[1] = memory - GUEST_MMIO_HOLE;
	return 2;
}

bool guest_pci_mmio64(uint64_t memory, unsigned phys_bits, uint64_t *base, uint64_t *end)
{
	uint64_t ram_end = GUEST_4G + (memory > GUEST_MMIO_HOLE ? memory - GUEST_MMIO_HOLE : 0);
	uint64_t limit = phys_bits >= 64 ? UINT64_MAX : 1ull << phys_bits;
	*base = ALIGN_UP(ram_end, 1ull << 30);
	*end = MIN(*base + GUEST_PCI_MMIO64_MAX, limit);
	if (*base >= limit || *end - *base < (1ull << 30)) {
		*base = *end = 0;
		return false;
	}
	return true;
}

unsigned guest_e820(uint64_t memory, struct e820_entry *out)
{
	uint64_t gpa[2], size[2];
	unsigned n = 0, nr = guest_ram_regions(memory, gpa, size);

	out[n++] = (struct e820_entry){ 0, GUEST_LOW_RAM_END, E820_RAM };
	out[n++] = (struct e820_entry){ GUEST_LOW_RAM_END, GUEST_HIGH_RAM_BASE - GUEST_LOW_RAM_END,
					E820_RESERVED };
	if (size[0] > GUEST_HIGH_RAM_BASE)
		out[n++] = (struct e820_entry){ GUEST_HIGH_RAM_BASE, size[0] - GUEST_HIGH_RAM_BASE,
						E820_RAM };
	/* PCI configuration space (ECAM): Linux uses it only when the firmware reserves it */
	out[n++] = (struct e820_entry){ GUEST_PCI_ECAM_BASE, GUEST_PCI_ECAM_SIZE, E820_RESERVED };
	/* the IOAPIC and local APIC pages, so the guest does not put anything there */
	out[n++] = (struct e820_entry){ GUEST_IOAPIC_BASE, 0x1000, E820_RESERVED };
	out[n++] = (struct e820_entry){ GUEST_LAPIC_BASE, 0x1000, E820_RESERVED };
	if (nr == 2)
		out[n++] = (struct e820_entry){ gpa[1], size[1], E820_RAM };
	return n;
}
