/* The host RAM keel may hand out, from the boot memory map. Only MEM_FREE and (once keel runs on
 * its own page tables) MEM_FREE_LATER ranges ever reach the allocator, so keel's image, the
 * files it loaded, its stack, firmware and ACPI memory can never become guest RAM. */
#ifndef KEEL_CORE_HOST_MEMORY_H
#define KEEL_CORE_HOST_MEMORY_H

#include "core/boot_info.h"
#include "mm/phys.h"

/* Adds every range of `type` to pool, then keeps the first MiB out (AP start-up trampolines
 * live there later). A range that overlaps one already added is logged and left unused. */
void host_memory_add(struct phys_pool *pool, const struct boot_info *bi, enum mem_type type);

#endif
