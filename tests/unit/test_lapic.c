/* The local APIC: xAPIC registers over MMIO, x2APIC over MSRs (and the accesses that must #GP),
 * IA32_APIC_BASE transitions, priorities and EOI (with the IOAPIC broadcast), the timer in its
 * three modes, IPIs and destinations. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/lapic.h"

static struct fake_vm vm;
static struct vlapic apic;
static struct vapic_msg ipis[16];
static enum vapic_shorthand ipi_sh[16];
static unsigned nipis;
static uint8_t eois[16];
static unsigned neois;

static void bus_send(void *ctx, struct vlapic *src, const struct vapic_msg *m,
		     enum vapic_shorthand sh)
{
	(void)ctx;
	assert_ptr_equal(src, &apic);
	if (nipis < 16) {
		ipis[nipis] = *m;
		ipi_sh[nipis] = sh;
	}
	nipis++;
}

static void bus_eoi(void *ctx, uint8_t vector)
{
	(void)ctx;
	if (neois < 16)
		eois[neois] = vector;
	neois++;
}

static const struct vlapic_bus bus = { .ctx = NULL,
				       .send_ipi = bus_send,
				       .eoi_broadcast = bus_eoi };

static uint32_t rd(unsigned off)
{
	uint64_t v;
	vlapic_mmio_read(&apic, off, 4, &v);
	return (uint32_t)v;
}

static void wr(unsigned off, uint32_t v)
{
	vlapic_mmio_write(&apic, off, 4, v);
}

static uint64_t msr(uint32_t m)
{
	uint64_t v;
	assert_int_equal(vlapic_msr_read(&apic, m, &v), 0);
	return v;
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	vm.now = 1000000;
	vlapic_init(&apic, &vm.env, &bus, 0, 0, true);
	nipis = neois = 0;
	return 0;
}

static void go_x2apic(void)
{
	uint64_t v = VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN | VLAPIC_BASE_EXTD;
	assert_int_equal(vlapic_base_write(&apic, v), 0);
	assert_true(vlapic_x2apic(&apic));
}

static void xapic_reset_state(void **state)
{
	(void)state;
	assert_int_equal(vlapic_base_read(&apic), 0xFEE00900);
	assert_int_equal(rd(0x20), 0);
	assert_int_equal(rd(0x30), 0x50014);
	assert_int_equal(rd(0xF0), 0xFF);
	assert_int_equal(rd(0xE0), 0xFFFFFFFF);
	for (unsigned off = 0x320; off <= 0x370; off += 0x10)
		assert_int_equal(rd(off), 0x10000);
	/* software-disabled: LVT masks cannot be cleared */
	wr(0x350, 0x700);
	assert_int_equal(rd(0x350), 0x10700);
	wr(0xF0, 0x1FF);
	wr(0x350, 0x700);
	assert_int_equal(rd(0x350), 0x700);
	/* clearing the software enable masks every LVT again */
	wr(0xF0, 0x0FF);
	assert_int_equal(rd(0x350), 0x10700);
	/* LDR and DFR (flat, cluster) */
	wr(0xD0, 0x01ABCDEF);
	assert_int_equal(rd(0xD0), 0x01000000);
	wr(0xE0, 0x0);
	assert_int_equal(rd(0xE0), 0x0FFFFFFF);
	/* read-only ID and version */
	wr(0x20, 0x05000000);
	wr(0x30, 0);
	assert_int_equal(rd(0x20), 0);
	assert_int_equal(rd(0x30), 0x50014);
	/* narrow and wide accesses, reserved bytes */
	uint64_t v;
	vlapic_mmio_read(&apic, 0x32, 1, &v);
	assert_int_equal(v, 0x05);
	vlapic_mmio_read(&apic, 0x30, 8, &v);
	assert_int_equal(v, 0x50014);
	vlapic_mmio_read(&apic, 0x34, 4, &v);
	assert_int_equal(v, 0);
	vlapic_mmio_write(&apic, 0x80, 1, 0x55); /* byte store: dropped */
	assert_int_equal(rd(0x80), 0);
	vlapic_mmio_write(&apic, 0x80, 8, 0xFFFFFFFF00000020ull);
	assert_int_equal(rd(0x80), 0x20);
	/* an unimplemented register: ESR illegal register address, latched by an ESR write */
	rd(0x2F0);
	assert_int_equal(rd(0x280), 0);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x80);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0);
}

static void virtual_wire_and_extint(void **state)
{
	(void)state;
	assert_false(vlapic_accepts_extint(&apic));
	vlapic_virtual_wire(&apic);
	assert_int_equal(rd(0xF0), 0x1FF);
	assert_int_equal(rd(0x350), 0x700);
	assert_int_equal(rd(0x360), 0x400);
	assert_true(vlapic_accepts_extint(&apic));
	wr(0x350, 0x10700); /* Linux masks LINT0 once the IOAPIC is set up */
	assert_false(vlapic_accepts_extint(&apic));
	/* globally disabled: the 8259 goes straight to the core */
	assert_int_equal(vlapic_base_write(&apic, VLAPIC_DEFAULT_BASE), 0);
	assert_true(vlapic_accepts_extint(&apic));
	/* an NMI through LINT1 */
	assert_int_equal(vlapic_base_write(&apic, VLAPIC_DEFAULT_BASE | VLAPIC_BASE_EN), 0);
	assert_int_equal(rd(0xF0), 0xFF); /* disabling reset the registers */
	vlapic_virtual_wire(&apic);
	vlapic_set_lint(&apic, 1, true);
	assert_true(vlapic_take_nmi(&apic));
	assert_false(vlapic_take_nmi(&apic));
}

/* CR8 and the TPR are one register (SDM vol 3A, 11.8.6.1): each shows what the other wrote, and
 * an interrupt that only the TPR holds back reports its class. */
static void cr8_is_the_tpr(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);
	vlapic_set_cr8(&apic, 5);
	assert_int_equal(rd(0x80), 0x50);
	wr(0x80, 0x7A);
	assert_int_equal(vlapic_cr8(&apic), 7);
	vlapic_set_cr8(&apic, 0x13); /* only CR8[3:0] exist */
	assert_int_equal(rd(0x80), 0x30);
	/* x2APIC: the TPR MSR 0x808 is the same register */
	assert_int_equal(vlapic_base_write(&apic, apic.base_msr | VLAPIC_BASE_EXTD), 0);
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 0x90), 0);
	assert_int_equal(vlapic_cr8(&apic), 9);
	vlapic_set_cr8(&apic, 2);
	assert_int_equal(msr(0x808), 0x20);

	/* 0x45 waits behind CR8 = 6: class 4 blocked by the TPR alone */
	struct vapic_msg m = { .vector = 0x45 };
	vlapic_set_cr8(&apic, 6);
	vlapic_deliver(&apic, &m);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	assert_int_equal(vlapic_tpr_blocked_class(&apic), 4);
	vlapic_set_cr8(&apic, 3);
	assert_int_equal(vlapic_tpr_blocked_class(&apic), -1);
	assert_int_equal(vlapic_pending_vector(&apic), 0x45);
	/* in service at a higher class: the ISR, not the TPR, holds 0x45 back */
	vlapic_set_cr8(&apic, 0);
	m.vector = 0x81;
	vlapic_deliver(&apic, &m);
	vlapic_ack(&apic, 0x81);
	vlapic_set_cr8(&apic, 6);
	assert_int_equal(vlapic_tpr_blocked_class(&apic), -1);
	/* nothing requested */
	assert_int_equal(vlapic_msr_write(&apic, 0x80B, 0), 0); /* EOI 0x81 */
	vlapic_ack(&apic, 0x45);
	assert_int_equal(vlapic_tpr_blocked_class(&apic), -1);
}

static void priority_ack_and_eoi(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);
	struct vapic_msg m = { .vector = 0x41 };
	vlapic_deliver(&apic, &m);
	m.vector = 0x62;
	m.level = true;
	vlapic_deliver(&apic, &m);
	assert_int_equal(vm.kicks, 2);
	assert_int_equal(rd(0x200 + 0x10 * 2), 1u << 1);
	assert_int_equal(rd(0x200 + 0x10 * 3), 1u << 2);
	assert_int_equal(rd(0x180 + 0x10 * 3), 1u << 2); /* TMR: level */
	assert_int_equal(vlapic_pending_vector(&apic), 0x62);
	/* TPR class 6 blocks 0x62 and 0x41 */
	wr(0x80, 0x60);
	assert_int_equal(rd(0xA0), 0x60);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	wr(0x80, 0x50);
	assert_int_equal(vlapic_pending_vector(&apic), 0x62);
	vlapic_ack(&apic, 0x62);
	assert_int_equal(rd(0x100 + 0x10 * 3), 1u << 2);
	assert_int_equal(rd(0xA0), 0x60);		    /* PPR = ISR class */
	assert_int_equal(vlapic_pending_vector(&apic), -1); /* 0x41 below PPR */
	m.vector = 0x63;
	m.level = false;
	vlapic_deliver(&apic, &m);
	assert_int_equal(vlapic_pending_vector(&apic), -1); /* same class as in service */
	m.vector = 0x71;
	vlapic_deliver(&apic, &m);
	assert_int_equal(vlapic_pending_vector(&apic), 0x71);
	vlapic_ack(&apic, 0x71);
	wr(0xB0, 0); /* EOI 0x71: edge, no broadcast */
	assert_int_equal(neois, 0);
	wr(0xB0, 0); /* EOI 0x62: level, broadcast */
	assert_int_equal(neois, 1);
	assert_int_equal(eois[0], 0x62);
	wr(0x80, 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0x63);
	vlapic_ack(&apic, 0x63);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	wr(0xB0, 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0x41);
	/* illegal vectors are refused with an error */
	m.vector = 5;
	vlapic_deliver(&apic, &m);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x40);
	/* software-disabled: nothing is injected */
	wr(0xF0, 0xFF);
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	/* acking a vector that is not pending does nothing */
	vlapic_ack(&apic, 0x99);
	assert_int_equal(rd(0x100 + 0x10 * 4), 0);
	/* EOI with nothing in service */
	wr(0xB0, 0);
}

static void timer_oneshot_and_periodic(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);
	wr(0x3E0, 0x3); /* divide by 16 */
	wr(0x320, 0xEC);
	assert_int_equal(rd(0x3E0), 3);
	wr(0x380, 1000000); /* 16 ms at 1 GHz / 16 */
	uint64_t t0 = vm.now;
	assert_int_equal(vlapic_next_event_ns(&apic), t0 + 16000000);
	vm.now = t0 + 8000000;
	assert_int_equal(rd(0x390), 500000);
	vm.now = t0 + 16000000 - 1;
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vm.now = t0 + 16000000;
	assert_int_equal(rd(0x390), 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0xEC);
	assert_int_equal(vlapic_next_event_ns(&apic), UINT64_MAX);
	vlapic_ack(&apic, 0xEC);
	wr(0xB0, 0);
	vm.now += 100000000;
	assert_int_equal(vlapic_pending_vector(&apic), -1); /* one-shot: once */
	/* periodic, divide by 1 */
	wr(0x3E0, 0xB);
	wr(0x320, 0x200EC);
	wr(0x380, 4000000);
	t0 = vm.now;
	vm.now = t0 + 4000000 * 3 + 5;
	assert_int_equal(vlapic_pending_vector(&apic), 0xEC);
	vlapic_ack(&apic, 0xEC);
	wr(0xB0, 0);
	assert_int_equal(vlapic_next_event_ns(&apic), t0 + 4000000 * 4);
	assert_int_equal(rd(0x390), 4000000 - 5);
	/* masked: counts on, no interrupt, no wake-up */
	wr(0x320, 0x300EC);
	assert_int_equal(vlapic_next_event_ns(&apic), UINT64_MAX);
	vm.now += 10000000;
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	assert_true(rd(0x390) > 0);
	/* a count of 0 stops it */
	wr(0x320, 0x200EC);
	wr(0x380, 0);
	assert_int_equal(vlapic_next_event_ns(&apic), UINT64_MAX);
	assert_int_equal(rd(0x390), 0);
	/* a tiny periodic count is slowed to 100 us */
	wr(0x380, 1);
	assert_int_equal(vlapic_next_event_ns(&apic), vm.now + 100000);
	/* divide by 128 with the largest count: no overflow */
	wr(0x320, 0xEC);
	wr(0x3E0, 0xA);
	wr(0x380, 0xFFFFFFFF);
	assert_int_equal(vlapic_next_event_ns(&apic), vm.now + 0xFFFFFFFFull * 128);
	assert_int_equal(rd(0x390), 0xFFFFFFFF);
	/* changing the mode disarms */
	wr(0x320, 0x200EC);
	assert_int_equal(rd(0x380), 0);
	assert_int_equal(vlapic_next_event_ns(&apic), UINT64_MAX);
}

static void timer_tsc_deadline(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);
	/* outside deadline mode the MSR ignores writes and reads 0 */
	assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 5000000), 0);
	assert_int_equal(msr(VLAPIC_MSR_TSC_DEADLINE), 0);
	wr(0x320, 0x400EF);
	wr(0x380, 1000); /* ignored in deadline mode */
	assert_int_equal(rd(0x380), 0);
	assert_int_equal(rd(0x390), 0);
	assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 5000000), 0);
	assert_int_equal(msr(VLAPIC_MSR_TSC_DEADLINE), 5000000);
	assert_int_equal(vlapic_next_event_ns(&apic), 5000000); /* TSC = ns without tsc_to_ns */
	vm.now = 4999999;
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	vm.now = 5000000;
	assert_int_equal(vlapic_pending_vector(&apic), 0xEF);
	assert_int_equal(msr(VLAPIC_MSR_TSC_DEADLINE), 0); /* fired: reads 0 */
	assert_int_equal(vlapic_next_event_ns(&apic), UINT64_MAX);
	/* a deadline in the past fires at once; 0 disarms */
	vlapic_ack(&apic, 0xEF);
	wr(0xB0, 0);
	assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 1), 0);
	assert_int_equal(vlapic_pending_vector(&apic), 0xEF);
	vlapic_ack(&apic, 0xEF);
	wr(0xB0, 0);
	vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, vm.now + 100);
	vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, 0);
	vm.now += 1000;
	assert_int_equal(vlapic_pending_vector(&apic), -1);
	/* leaving deadline mode disarms */
	vlapic_msr_write(&apic, VLAPIC_MSR_TSC_DEADLINE, vm.now + 100);
	wr(0x320, 0xEF);
	wr(0x320, 0x400EF);
	assert_int_equal(msr(VLAPIC_MSR_TSC_DEADLINE), 0);
}

static void apic_base_transitions(void **state)
{
	(void)state;
	const uint64_t B = VLAPIC_DEFAULT_BASE, EN = VLAPIC_BASE_EN, X = VLAPIC_BASE_EXTD;
	/* reserved bits */
	assert_int_equal(vlapic_base_write(&apic, B | EN | 1), -1);
	assert_int_equal(vlapic_base_write(&apic, B | EN | (1ull << 9)), -1);
	assert_int_equal(vlapic_base_write(&apic, B | EN | (1ull << 50)), -1);
	/* EXTD without EN */
	assert_int_equal(vlapic_base_write(&apic, B | X), -1);
	/* xAPIC -> x2APIC -> xAPIC is refused, -> disabled -> xAPIC works */
	go_x2apic();
	assert_int_equal(vlapic_base_write(&apic, B | EN), -1);
	assert_true(vlapic_x2apic(&apic));
	assert_int_equal(vlapic_base_write(&apic, B), 0);
	assert_false(vlapic_enabled(&apic));
	/* disabled -> x2APIC directly is refused */
	assert_int_equal(vlapic_base_write(&apic, B | EN | X), -1);
	assert_int_equal(vlapic_base_write(&apic, B | EN), 0);
	/* the BSP flag is read-only; the base moves */
	assert_int_equal(vlapic_base_write(&apic, 0xFED00000ull | EN), 0);
	assert_int_equal(vlapic_base_read(&apic), 0xFED00000ull | EN | VLAPIC_BASE_BSP);
	assert_int_equal(vlapic_mmio_base(&apic), 0xFED00000ull);
	/* through the MSR interface */
	uint64_t v;
	assert_int_equal(vlapic_msr_read(&apic, VLAPIC_MSR_APIC_BASE, &v), 0);
	assert_int_equal(v, 0xFED00000ull | EN | VLAPIC_BASE_BSP);
	assert_int_equal(vlapic_msr_write(&apic, VLAPIC_MSR_APIC_BASE, B | EN | X), 0);
	/* an AP */
	vlapic_init(&apic, &vm.env, &bus, 1, 1, false);
	assert_int_equal(vlapic_base_read(&apic), B | EN);
}

static void x2apic_registers(void **state)
{
	(void)state;
	vlapic_init(&apic, &vm.env, &bus, 3, 0x23, false);
	uint64_t v;
	/* not in x2APIC mode: every x2APIC MSR faults */
	assert_int_equal(vlapic_msr_read(&apic, 0x802, &v), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 0), -1);
	assert_int_equal(rd(0x20), 0x23000000);
	go_x2apic();
	assert_int_equal(msr(0x802), 0x23);
	assert_int_equal(msr(0x803), 0x50014);
	assert_int_equal(msr(0x80D), (2u << 16) | (1u << 3)); /* cluster 2, bit 3 */
	/* the MMIO page is gone */
	assert_int_equal(rd(0x20), 0xFFFFFFFF);
	/* registers that do not exist in x2APIC mode */
	assert_int_equal(vlapic_msr_read(&apic, 0x80E, &v), -1); /* DFR */
	assert_int_equal(vlapic_msr_read(&apic, 0x831, &v), -1); /* ICR high */
	assert_int_equal(vlapic_msr_read(&apic, 0x809, &v), -1); /* APR */
	assert_int_equal(vlapic_msr_read(&apic, 0x80C, &v), -1);
	assert_int_equal(vlapic_msr_read(&apic, 0x82F, &v), -1); /* CMCI: 6 LVTs only */
	assert_int_equal(vlapic_msr_read(&apic, 0x800, &v), -1);
	assert_int_equal(vlapic_msr_read(&apic, 0x840, &v), -1);
	assert_int_equal(vlapic_msr_read(&apic, 0x8FF, &v), -1);
	/* write-only ones cannot be read */
	assert_int_equal(vlapic_msr_read(&apic, 0x80B, &v), -1); /* EOI */
	assert_int_equal(vlapic_msr_read(&apic, 0x83F, &v), -1); /* SELF IPI */
	/* read-only ones cannot be written */
	assert_int_equal(vlapic_msr_write(&apic, 0x802, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x803, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x80A, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x80D, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x810, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x820, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x839, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x80E, 0), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x831, 0), -1);
	/* reserved bits */
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 0x100), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 1ull << 32), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x80B, 1), -1);      /* EOI must be 0 */
	assert_int_equal(vlapic_msr_write(&apic, 0x828, 1), -1);      /* ESR must be 0 */
	assert_int_equal(vlapic_msr_write(&apic, 0x80F, 0x1000), -1); /* no EOI suppression */
	assert_int_equal(vlapic_msr_write(&apic, 0x83E, 0x4), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x832, 0x600EC), -1); /* timer mode 3 */
	assert_int_equal(vlapic_msr_write(&apic, 0x835, 0x40000), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x83F, 0x100), -1);
	assert_int_equal(vlapic_msr_write(&apic, 0x830, 1u << 13), -1);
	/* legal writes */
	/* read-only LVT bits are ignored, as Linux's power-off path writes them (0x5700) */
	assert_int_equal(vlapic_msr_write(&apic, 0x835, 0x5700), 0);
	assert_int_equal(msr(0x835) & 0x1700, 0x0700);
	assert_int_equal(vlapic_msr_write(&apic, 0x80F, 0x1FF), 0);
	assert_int_equal(msr(0x80F), 0x1FF);
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 0x20), 0);
	assert_int_equal(msr(0x808), 0x20);
	assert_int_equal(msr(0x80A), 0x20);
	assert_int_equal(vlapic_msr_write(&apic, 0x828, 0), 0);
	assert_int_equal(vlapic_msr_write(&apic, 0x832, 0x400EC), 0);
	assert_int_equal(msr(0x832), 0x400EC);
	/* SELF IPI, then EOI through the MSR */
	assert_int_equal(vlapic_msr_write(&apic, 0x808, 0), 0);
	assert_int_equal(vlapic_msr_write(&apic, 0x83F, 0x55), 0);
	assert_int_equal(msr(0x822), 1u << 21);
	assert_int_equal(vlapic_pending_vector(&apic), 0x55);
	vlapic_ack(&apic, 0x55);
	assert_int_equal(msr(0x812), 1u << 21);
	assert_int_equal(vlapic_msr_write(&apic, 0x80B, 0), 0);
	assert_int_equal(msr(0x812), 0);
	/* ICR is one 64-bit register with a 32-bit destination */
	assert_int_equal(vlapic_msr_write(&apic, 0x830, (0x12345678ull << 32) | 0x4031), 0);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].dest, 0x12345678);
	assert_int_equal(ipis[0].vector, 0x31);
	assert_int_equal(msr(0x830), (0x12345678ull << 32) | 0x4031);
	/* destinations in x2APIC mode */
	assert_true(vlapic_match_dest(&apic, 0x23, false, false));
	assert_false(vlapic_match_dest(&apic, 0x24, false, false));
	assert_true(vlapic_match_dest(&apic, 0xFFFFFFFF, false, false));
	assert_true(vlapic_match_dest(&apic, 0xFF, false, true));
	assert_true(vlapic_match_dest(&apic, 0x00020008, true, false));
	assert_false(vlapic_match_dest(&apic, 0x00020004, true, false));
	assert_false(vlapic_match_dest(&apic, 0x00010008, true, false));
}

static void ipis_and_destinations(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);
	/* Linux's xAPIC IPI: ICR high first, then low */
	wr(0x310, 0x01000000);
	wr(0x300, 0x000040FD);
	assert_int_equal(nipis, 1);
	assert_int_equal(ipis[0].dest, 1);
	assert_int_equal(ipis[0].vector, 0xFD);
	assert_int_equal(ipi_sh[0], VAPIC_SH_NONE);
	assert_int_equal(rd(0x300) & (1u << 12), 0); /* delivery status idle */
	/* self shorthand: delivered here without the bus */
	wr(0x300, 0x000440F0);
	assert_int_equal(nipis, 1);
	assert_int_equal(vlapic_pending_vector(&apic), 0xF0);
	/* all-but-self and all go to the bus */
	wr(0x300, 0x000C4500); /* INIT to all but self */
	assert_int_equal(ipi_sh[1], VAPIC_SH_OTHERS);
	assert_int_equal(ipis[1].delivery, VAPIC_DM_INIT);
	wr(0x300, 0x000C0600 | 0x9A); /* SIPI, vector 0x9A */
	assert_int_equal(ipis[2].delivery, VAPIC_DM_SIPI);
	assert_int_equal(ipis[2].vector, 0x9A);
	/* INIT level de-assert is not sent */
	wr(0x300, 0x00088500);
	assert_int_equal(nipis, 3);
	/* an illegal vector: send error */
	wr(0x300, 0x00004005);
	assert_int_equal(nipis, 3);
	wr(0x280, 0);
	assert_int_equal(rd(0x280), 0x20);
	/* lowest priority with a shorthand, SMI: not sent */
	wr(0x300, 0x000C4130);
	wr(0x300, 0x00004200);
	assert_int_equal(nipis, 3);
	/* NMI, INIT, SIPI received */
	struct vapic_msg m = { .delivery = VAPIC_DM_NMI };
	vlapic_deliver(&apic, &m);
	assert_true(vlapic_take_nmi(&apic));
	m.delivery = VAPIC_DM_INIT;
	vlapic_deliver(&apic, &m);
	assert_true(vlapic_take_init(&apic));
	assert_false(vlapic_take_init(&apic));
	m.delivery = VAPIC_DM_SIPI;
	m.vector = 0x10;
	vlapic_deliver(&apic, &m);
	assert_int_equal(vlapic_take_sipi(&apic), 0x10);
	assert_int_equal(vlapic_take_sipi(&apic), -1);
	m.delivery = VAPIC_DM_EXTINT;
	vlapic_deliver(&apic, &m);
	assert_true(vlapic_accepts_extint(&apic));
	/* destinations: physical, broadcast, flat and cluster logical */
	assert_true(vlapic_match_dest(&apic, 0, false, true));
	assert_false(vlapic_match_dest(&apic, 1, false, true));
	assert_true(vlapic_match_dest(&apic, 0xFF, false, true));
	wr(0xD0, 0x04000000);
	assert_true(vlapic_match_dest(&apic, 0x0C, true, true));
	assert_false(vlapic_match_dest(&apic, 0x03, true, true));
	wr(0xE0, 0x0FFFFFFF); /* cluster: cluster 0, member bit 2 */
	assert_true(vlapic_match_dest(&apic, 0x04, true, true));
	assert_false(vlapic_match_dest(&apic, 0x14, true, true));
	wr(0xD0, 0x31000000);
	assert_true(vlapic_match_dest(&apic, 0x31, true, true));
	assert_false(vlapic_match_dest(&apic, 0x21, true, true));
	/* a disabled APIC is nobody's destination and takes nothing */
	vlapic_base_write(&apic, VLAPIC_DEFAULT_BASE);
	assert_false(vlapic_match_dest(&apic, 0xFF, false, true));
	m.delivery = VAPIC_DM_FIXED;
	m.vector = 0x80;
	vlapic_deliver(&apic, &m);
	assert_int_equal(apic.irr[4], 0);
}

/* INIT resets the APIC but for its ID and IA32_APIC_BASE; a SIPI before the INIT is stale, one
 * after it waits for the wait-for-SIPI state (SDM vol 3A, 11.4.7.3 and 9.4.4). */
static void init_resets_and_orders_sipi(void **state)
{
	(void)state;
	wr(0xF0, 0x1FF);      /* software enabled */
	wr(0x20, 0x05000000); /* xAPIC ID 5, where the ID register is writable */
	uint32_t id = rd(0x20);
	wr(0xD0, 0x04000000); /* LDR */
	wr(0x320, 0x20030);   /* LVT timer unmasked, periodic */
	struct vapic_msg m = { .delivery = VAPIC_DM_FIXED, .vector = 0x40 };
	vlapic_deliver(&apic, &m);
	m = (struct vapic_msg){ .delivery = VAPIC_DM_SIPI, .vector = 0x70 };
	vlapic_deliver(&apic, &m); /* stale: before the INIT */
	m.delivery = VAPIC_DM_INIT;
	vlapic_deliver(&apic, &m);
	m = (struct vapic_msg){ .delivery = VAPIC_DM_SIPI, .vector = 0x9a };
	vlapic_deliver(&apic, &m); /* software-enabled APIC: delivered */
	uint64_t base = vlapic_base_read(&apic);
	assert_true(vlapic_take_init(&apic));
	assert_int_equal(rd(0x20), id); /* the ID stays */
	assert_int_equal(vlapic_base_read(&apic), base);
	assert_int_equal(rd(0xD0), 0);
	assert_int_equal(rd(0xF0), 0xFF);    /* software disabled */
	assert_true(rd(0x320) & (1u << 16)); /* masked */
	assert_int_equal(apic.irr[2], 0);    /* vector 0x40 gone */
	assert_int_equal(vlapic_take_sipi(&apic), 0x9a);
	assert_int_equal(vlapic_take_sipi(&apic), -1);
	/* in x2APIC mode INIT keeps the mode */
	go_x2apic();
	m.delivery = VAPIC_DM_INIT;
	vlapic_deliver(&apic, &m);
	assert_true(vlapic_take_init(&apic));
	assert_true(vlapic_x2apic(&apic));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(xapic_reset_state, setup),
		cmocka_unit_test_setup(virtual_wire_and_extint, setup),
		cmocka_unit_test_setup(priority_ack_and_eoi, setup),
		cmocka_unit_test_setup(cr8_is_the_tpr, setup),
		cmocka_unit_test_setup(timer_oneshot_and_periodic, setup),
		cmocka_unit_test_setup(timer_tsc_deadline, setup),
		cmocka_unit_test_setup(apic_base_transitions, setup),
		cmocka_unit_test_setup(x2apic_registers, setup),
		cmocka_unit_test_setup(ipis_and_destinations, setup),
		cmocka_unit_test_setup(init_resets_and_orders_sipi, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
