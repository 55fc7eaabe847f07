/* keel's own page tables: all physical memory identity mapped, writable data never executable,
 * code never writable (Intel SDM vol 3, 4.5 4-level paging; AMD APM vol 2, 5.3). */
#ifndef KEEL_ARCH_X86_PAGING_H
#define KEEL_ARCH_X86_PAGING_H

#include "lib/types.h"

struct boot_info;

#define PTE_P (1ull << 0)
#define PTE_W (1ull << 1)
#define PTE_U (1ull << 2)
#define PTE_PWT (1ull << 3)
#define PTE_PCD (1ull << 4)
#define PTE_A (1ull << 5)
#define PTE_D (1ull << 6)
#define PTE_PS (1ull << 7)
#define PTE_G (1ull << 8)
#define PTE_NX (1ull << 63)
#define PTE_ADDR_MASK 0x000ffffffffff000ull

/* Builds and loads keel's page tables (pages from core/kmem, which must only hand out RAM that
 * the firmware's page tables do not occupy yet). */
void paging_init(const struct boot_info *bi);
/* Change keel's mappings of [base, base + size) (page aligned, identity mapped): not present (a
 * guard page), or read-only and executable (code keel copied there). Each flushes this CPU's TLB;
 * no other CPU may have used those addresses yet. */
void paging_unmap(uint64_t base, uint64_t size);
void paging_map_code(uint64_t base, uint64_t size);
/* Maps [base, base + size) (page aligned) uncached, read-write, not executable: device
 * registers (ECAM, BARs). Addresses above the memory map's top get new mappings. */
void paging_map_mmio(uint64_t base, uint64_t size);

#endif
