/* Which physical CPUs keel starts, and where their start-up code goes: the pure decisions of the
 * SMP bring-up (arch/x86/smp.c), host-tested. */
#ifndef KEEL_CORE_CPU_LIST_H
#define KEEL_CORE_CPU_LIST_H

#include "core/boot_info.h"
#include "drivers/acpi_host.h"
#include "lib/types.h"

struct cpu_list {
	unsigned nr; /* cpus[0] is the boot CPU, the others in MADT order */
	uint32_t apic_id[ACPI_HOST_MAX_CPUS];
	bool boot_cpu_listed;  /* the MADT names the boot CPU's APIC ID */
	unsigned nr_disabled;  /* disabled and not online-capable: skipped */
	unsigned nr_too_many;  /* past max_cpus: skipped */
	unsigned nr_x2apic_id; /* IDs over 254 that an xAPIC cannot address: skipped */
};

/* The CPUs to run on, from the host MADT: the boot CPU (boot_apic_id) first, then every other
 * entry that is enabled or online-capable (ACPI 6.4, 5.2.12.2: "Online Capable ... the OSPM may
 * enable it"), at most max_cpus in all. With x2apic false, IDs over 254 are skipped (the xAPIC's
 * 8-bit destination; 255 is the broadcast). madt may be NULL (no MADT): the boot CPU alone. */
void cpu_list_from_madt(const struct acpi_host_madt *madt, uint32_t boot_apic_id, bool x2apic,
			unsigned max_cpus, struct cpu_list *out);

/* The lowest `pages` pages of free RAM from 4 KiB up to 640 KiB, where a start-up IPI can send
 * a CPU (its vector is the page number, below 1 MiB; Intel SDM vol 3, 9.4.4.1); the first page
 * (real-mode interrupt table and BIOS data) and the EBDA and legacy areas above 640 KiB are never
 * used. 0 when there is none. */
uint64_t cpu_list_trampoline_base(const struct boot_info *bi, unsigned pages);

#endif
