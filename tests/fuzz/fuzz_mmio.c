/* The interrupt controllers through their MMIO pages and the APIC MSRs, on a 2-vCPU platform:
 * any sequence of accesses, clock steps, interrupt lines and acknowledgements must keep the
 * local APICs and the IOAPIC consistent, and the #GP answers must follow the x2APIC rules.
 *
 * Input: a sequence of 12-byte records (a shorter tail is ignored):
 *   byte 0   bits 0-2  operation: 0 MMIO read, 1 MMIO write, 2 MSR read, 3 MSR write,
 *                      4 advance the clock (value ns, capped), 5 service (pending interrupt,
 *                      acknowledge, and EOI it when value bit 0), 6 drive interrupt line
 *                      (byte 1 = line, value bit 0 = level), 7 port write (byte 1-2 port, 1 byte)
 *            bits 3-4  size: 1, 2, 4, 8 bytes
 *            bit 5     vCPU 0 or 1
 *            bits 6-7  page: 0 local APIC (at its current base), 1 IOAPIC, 2 0xFEE00000
 *                      whatever the base, 3 an unclaimed page
 *   bytes 1-2          offset in the page (low 12 bits); MSR: byte 2 bit 7 set = 0x800 + byte 1,
 *                      else byte 1 & 3 picks IA32_APIC_BASE, TSC deadline, 0x800 + byte 2,
 *                      or byte 1 | byte 2 << 8
 *   byte 3             unused
 *   bytes 4-11         value, little-endian */
#include "tests/support/host_log.h"
#include "vdev/platform.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now;

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return now;
}

static uint64_t fz_tsc(void *ctx, uint64_t tsc)
{
	(void)ctx;
	return tsc / 2; /* a 2 GHz guest TSC */
}

static struct platform plat;

static void check(void)
{
	for (unsigned c = 0; c < plat.nr_cpus; c++) {
		const struct vlapic *a = &plat.lapic[c];
		if ((a->irr[0] | a->isr[0]) & 0xFFFF)
			abort();
		if (vlapic_ppr(a) > 0xFF)
			abort();
		if (!vlapic_enabled(a) && (a->base_msr & VLAPIC_BASE_EXTD))
			abort(); /* an illegal IA32_APIC_BASE state was accepted */
		for (unsigned i = 0; i < 6; i++)
			if (!(a->svr & 0x100) && !(a->lvt[i] & (1u << 16)))
				abort(); /* software-disabled with an LVT unmasked */
	}
	for (unsigned i = 0; i < VIOAPIC_PINS; i++)
		if ((plat.ioapic.redir[i] & (1ull << 14)) && !(plat.ioapic.redir[i] & (1ull << 15)))
			abort(); /* Remote IRR on an edge entry */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdev_env env = {
		.ctx = NULL, .vm_name = "fuzz", .now_ns = fz_now, .tsc_to_ns = fz_tsc
	};
	struct platform_config cfg;

	now = 1000;
	host_log_clear();
	platform_default_config(&cfg);
	cfg.cpus = 2;
	if (platform_init(&plat, &env, &cfg))
		abort();
	for (size_t at = 0; at + 12 <= size; at += 12) {
		const uint8_t *r = data + at;
		unsigned op = r[0] & 7, sz = 1u << ((r[0] >> 3) & 3), cpu = (r[0] >> 5) & 1;
		unsigned page = r[0] >> 6, off = (r[1] | r[2] << 8) & 0xFFF;
		uint64_t val = 0;
		for (int i = 7; i >= 0; i--)
			val = val << 8 | r[4 + i];
		uint64_t gpa = page == 0   ? vlapic_mmio_base(&plat.lapic[cpu])
			       : page == 1 ? PLATFORM_IOAPIC_BASE
			       : page == 2 ? VLAPIC_DEFAULT_BASE
					   : 0xD0000000ull;
		gpa += off;
		uint32_t msr;
		if (r[2] & 0x80)
			msr = 0x800u + r[1];
		else
			msr = (uint32_t[]){ VLAPIC_MSR_APIC_BASE, VLAPIC_MSR_TSC_DEADLINE,
					    0x800u + r[2], (uint32_t)(r[1] | r[2] << 8) }[r[1] & 3];
		int rc;

		switch (op) {
		case 0:
		case 1: {
			uint64_t v = val;
			rc = platform_mmio(&plat, cpu, gpa, sz, op == 1, &v);
			if (rc == PLATFORM_GP)
				abort();
			if (op == 0 && sz < 8 && (v >> (8 * sz)))
				abort();
			break;
		}
		case 2: {
			uint64_t v;
			rc = platform_msr_read(&plat, cpu, msr, &v);
			/* x2APIC registers exist only in x2APIC mode */
			if (msr >= 0x800 && msr <= 0x8FF && !vlapic_x2apic(&plat.lapic[cpu]) &&
			    rc != PLATFORM_GP)
				abort();
			if (msr == 0x80B && rc != PLATFORM_GP)
				abort(); /* EOI is write-only */
			break;
		}
		case 3:
			rc = platform_msr_write(&plat, cpu, msr, val);
			if (msr >= 0x800 && msr <= 0x8FF && !vlapic_x2apic(&plat.lapic[cpu]) &&
			    rc != PLATFORM_GP)
				abort();
			if (msr >= 0x800 && msr <= 0x83F && msr != 0x830 && (val >> 32) &&
			    rc != PLATFORM_GP)
				abort(); /* 32-bit registers refuse the high half */
			break;
		case 4:
			if (now + (val & 0xFFFFFFFFFull) < (1ull << 60))
				now += val & 0xFFFFFFFFFull;
			break;
		case 5: {
			platform_next_event_ns(&plat, cpu);
			int v = platform_pending_interrupt(&plat, cpu);
			if (v < -1 || v > 255)
				abort();
			if (v >= 0) {
				platform_ack_interrupt(&plat, cpu, v);
				if (val & 1) {
					uint64_t z = 0;
					uint64_t eoi = vlapic_mmio_base(&plat.lapic[cpu]) + 0xB0;
					if (vlapic_x2apic(&plat.lapic[cpu]))
						platform_msr_write(&plat, cpu, 0x80B, 0);
					else
						platform_mmio(&plat, cpu, eoi, 4, true, &z);
				}
			}
			platform_take_nmi(&plat, cpu);
			vlapic_take_init(&plat.lapic[cpu]);
			vlapic_take_sipi(&plat.lapic[cpu]);
			break;
		}
		case 6:
			irq_router_set(&plat.router, r[1], val & 1);
			break;
		default: {
			uint32_t v = (uint32_t)val & 0xFF;
			platform_io(&plat, (uint16_t)(r[1] | r[2] << 8), 1, true, &v);
			break;
		}
		}
		if (platform_stop_reason(&plat, NULL) != VM_STOP_NONE)
			platform_reset(&plat);
		check();
	}
	return 0;
}
