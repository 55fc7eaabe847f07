/* The guest-physical address map every VM gets (one place, so the E820 map, the stage-2 tables,
 * the ACPI tables and the loaders agree):
 *
 *   0x0000_0000 - 0x0009_EFFF  RAM; keel's boot area for the guest (128 KiB) lives in it, by
 *                              default at 0 (below)
 *   0x0009_F000 - 0x000F_FFFF  reserved (legacy EBDA, VGA hole, BIOS area); ACPI tables at 0xE0000
 *   0x0010_0000 - low_end      RAM, low_end = min(memory, 3 GiB)
 *   0xC000_0000 - 0xFFFF_FFFF  MMIO hole: PCI memory BARs 0xC0000000-0xDFFFFFFF, PCI ECAM
 *                              0xE0000000 (bus 0: 1 MiB), IOAPIC 0xFEC00000, local APIC 0xFEE00000
 *   0x1_0000_0000 - ...        the rest of RAM when memory > 3 GiB
 *   above RAM, 1 GiB aligned   PCI 64-bit memory window: up to 64 GiB, below MAXPHYADDR
 *
 * keel's boot area: what the loader writes for the kernel besides the kernel itself, at these
 * offsets from the area's base:
 *   0x0000 - 0x0FFF  scratch stack (its top is the GDT)
 *   0x1000           GDT
 *   0x2000 - 0x7FFF  identity page tables (4 GiB, 2 MiB pages; bzImage only)
 *   0x8000           boot_params / hvm_start_info / multiboot_info (+ Multiboot's module list)
 *   0x9000 - 0x9FFF  their memory map
 *   0xA000 - 0x1FFFF command line
 * The base is 0, so each offset is also the address, except for a Multiboot or PVH kernel that
 * itself wants low memory (one linked at 0x8000, as GRUB and QEMU load them): its loader moves
 * the area to the first of [0, 0x20000), [0x7F000, 0x9F000) (the top of low RAM) and the lowest
 * 4 KiB-aligned RAM above the kernel's end that the kernel's extent leaves free (guest/loader.c,
 * place_area). The reported addresses (EBX, the boot info's pointers, GDTR, ESP) follow it.
 */
#ifndef KEEL_CORE_GUEST_LAYOUT_H
#define KEEL_CORE_GUEST_LAYOUT_H

#include "lib/types.h"

/* offsets in keel's boot area (= addresses when its base is 0) */
#define GUEST_GDT 0x1000ull
#define GUEST_PAGE_TABLES 0x2000ull /* PML4, PDPT, 4 PDs: up to 0x7FFF */
#define GUEST_BOOT_INFO 0x8000ull   /* boot_params, hvm_start_info or multiboot_info */
#define GUEST_BOOT_MEMMAP 0x9000ull
#define GUEST_CMDLINE 0xA000ull
#define GUEST_BOOT_AREA_SIZE 0x20000ull
#define GUEST_CMDLINE_MAX (GUEST_BOOT_AREA_SIZE - GUEST_CMDLINE)
#define GUEST_LOW_RAM_END 0x9F000ull
#define GUEST_ACPI_BASE 0xE0000ull
#define GUEST_ACPI_SIZE 0x20000ull
#define GUEST_HIGH_RAM_BASE 0x100000ull
#define GUEST_MMIO_HOLE 0xC0000000ull
#define GUEST_4G 0x100000000ull
#define GUEST_PCI_MMIO32_BASE 0xC0000000ull
#define GUEST_PCI_MMIO32_END 0xE0000000ull
#define GUEST_PCI_ECAM_BASE 0xE0000000ull
#define GUEST_PCI_ECAM_SIZE 0x100000ull /* bus 0 only (PCIe Base 4.0, 7.2.2) */
/* PCI I/O BARs go in 0x1000-0xFFFF, clear of the ISA platform's ports */
#define GUEST_PCI_IO_BASE 0x1000u
#define GUEST_PCI_IO_END 0x10000u
#define GUEST_IOAPIC_BASE 0xFEC00000ull
#define GUEST_LAPIC_BASE 0xFEE00000ull

enum e820_type {
	E820_RAM = 1,
	E820_RESERVED = 2,
	E820_ACPI = 3,
};

struct e820_entry {
	uint64_t addr;
	uint64_t size;
	uint32_t type;
} PACKED;

#define GUEST_E820_MAX 8

/* The VM's memory map for `memory` bytes of RAM; returns the number of entries. */
unsigned guest_e820(uint64_t memory, struct e820_entry *out);

/* The contiguous RAM regions (gpa, size) of a VM with `memory` bytes, as guest_mem regions
 * without host addresses: [0, low_end) and, above 3 GiB of RAM, [4 GiB, ...). Returns the count. */
unsigned guest_ram_regions(uint64_t memory, uint64_t gpa[2], uint64_t size[2]);

#define GUEST_PCI_MMIO64_MAX (64ull << 30)
/* The PCI 64-bit memory window [*base, *end) for `memory` bytes of RAM and a guest MAXPHYADDR
 * of phys_bits: from the first 1 GiB boundary at or above the end of RAM (and 4 GiB), up to
 * GUEST_PCI_MMIO64_MAX long and below 2^phys_bits, where a guest can reach it. False (base = end
 * = 0) when no GiB is left there. The host bridge's _CRS and its decoder use the same window. */
bool guest_pci_mmio64(uint64_t memory, unsigned phys_bits, uint64_t *base, uint64_t *end);

#endif
