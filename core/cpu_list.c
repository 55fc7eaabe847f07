#include "core/cpu_list.h"

#include "lib/kstring.h"

void cpu_list_from_madt(const struct acpi_host_madt *madt, uint32_t boot_apic_id, bool x2apic,
			unsigned max_cpus, struct cpu_list *out)
{
	memset(out, 0, sizeof(*out));
	if (max_cpus > ARRAY_SIZE(out->apic_id))
		max_cpus = ARRAY_SIZE(out->apic_id);
	out->apic_id[out->nr++] = boot_apic_id;
	for (unsigned i = 0; madt && i < madt->nr_cpus && i < ARRAY_SIZE(madt->cpus); i++) {
		const struct acpi_host_cpu *c = &madt->cpus[i];
		if (c->apic_id == boot_apic_id) {
			out->boot_cpu_listed = true;
			continue;
		}
		if (!c->enabled && !c->online_capable)
			out->nr_disabled++;
		else if (!x2apic && c->apic_id > 254)
			out->nr_x2apic_id++;
		else if (out->nr >= max_cpus)
			out->nr_too_many++;
		else
			out->apic_id[out->nr++] = c->apic_id;
	}
}

#define LOW_START 0x1000ull
#define LOW_END 0xa0000ull

uint64_t cpu_list_trampoline_base(const struct boot_info *bi, unsigned pages)
{
	uint64_t need = (uint64_t)pages * 4096, best = 0;

	for (unsigned i = 0; i < bi->nr_memmap && i < BOOT_MAX_MEMMAP; i++) {
		const struct mem_range *r = &bi->memmap[i];
		if (r->type != MEM_FREE && r->type != MEM_FREE_LATER)
			continue;
		uint64_t end = r->size > UINT64_MAX - r->base ? UINT64_MAX : r->base + r->size;
		if (r->base >= LOW_END || end <= LOW_START)
			continue;
		uint64_t lo = ALIGN_UP(MAX(r->base, LOW_START), 4096ull);
		uint64_t hi = ALIGN_DOWN(MIN(end, LOW_END), 4096ull);
		if (hi > lo && hi - lo >= need && (!best || lo < best))
			best = lo;
	}
	return best;
}
