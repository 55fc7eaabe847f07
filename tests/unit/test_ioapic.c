/* The IOAPIC: ID/version/arbitration, redirection entries through IOREGSEL/IOWIN, edge and
 * level delivery, Remote IRR and the EOI, masking; and the IRQ router's ISA wiring. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/support/vdev_fake.h"
#include "vdev/ioapic.h"
#include "vdev/irq_router.h"

static struct fake_vm vm;
static struct vioapic io;
static struct vapic_msg sent[64];
static unsigned nsent;

static void deliver(void *ctx, const struct vapic_msg *m)
{
	assert_ptr_equal(ctx, &vm);
	if (nsent < 64)
		sent[nsent] = *m;
	nsent++;
}

static uint32_t rd(uint8_t reg)
{
	uint64_t v;
	vioapic_mmio_write(&io, 0x00, 4, reg);
	vioapic_mmio_read(&io, 0x10, 4, &v);
	return (uint32_t)v;
}

static void wr(uint8_t reg, uint32_t v)
{
	vioapic_mmio_write(&io, 0x00, 4, reg);
	vioapic_mmio_write(&io, 0x10, 4, v);
}

static void set_entry(unsigned pin, uint64_t e)
{
	wr((uint8_t)(0x10 + 2 * pin + 1), (uint32_t)(e >> 32));
	wr((uint8_t)(0x10 + 2 * pin), (uint32_t)e);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	vioapic_init(&io, &vm.env, deliver, &vm);
	nsent = 0;
	memset(sent, 0, sizeof(sent));
	return 0;
}

static void id_version_and_reset_state(void **state)
{
	(void)state;
	assert_int_equal(rd(0x01), 0x00170011);
	assert_int_equal(rd(0x00), 0);
	wr(0x00, 0xFFFFFFFF);
	assert_int_equal(rd(0x00), 0x0F000000);
	assert_int_equal(rd(0x02), 0x0F000000);
	wr(0x01, 0);
	assert_int_equal(rd(0x01), 0x00170011);
	for (unsigned pin = 0; pin < 24; pin++) {
		assert_int_equal(rd((uint8_t)(0x10 + 2 * pin)), 0x00010000);
		assert_int_equal(rd((uint8_t)(0x11 + 2 * pin)), 0);
	}
	assert_int_equal(rd(0x40), 0xFFFFFFFF); /* past the table */
	assert_int_equal(rd(0xFF), 0xFFFFFFFF);
	/* IOREGSEL reads back; byte access */
	uint64_t v;
	vioapic_mmio_write(&io, 0x00, 1, 0x13);
	vioapic_mmio_read(&io, 0x00, 4, &v);
	assert_int_equal(v, 0x13);
	vioapic_mmio_read(&io, 0x20, 4, &v);
	assert_int_equal(v, 0);
	/* read-only bits of an entry: delivery status, Remote IRR; reserved bits dropped */
	set_entry(3, 0xFFFFFFFFFFFFFFFFull);
	assert_int_equal(rd(0x16), 0x0001AFFF);
	assert_int_equal(rd(0x17), 0xFF000000);
	/* a partial IOWIN write merges */
	wr(0x16, 0x00010000);
	vioapic_mmio_write(&io, 0x00, 1, 0x16);
	vioapic_mmio_write(&io, 0x10, 1, 0x41);
	assert_int_equal(rd(0x16), 0x00010041);
}

static void edge_delivery(void **state)
{
	(void)state;
	/* Linux's timer: pin 2, vector 0x30, fixed, physical, edge, to APIC 0 */
	set_entry(2, 0x30);
	vioapic_set_irq(&io, 2, true);
	vioapic_set_irq(&io, 2, false);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].vector, 0x30);
	assert_int_equal(sent[0].delivery, VAPIC_DM_FIXED);
	assert_false(sent[0].level);
	assert_false(sent[0].logical);
	assert_int_equal(sent[0].dest, 0);
	/* a high line is one edge */
	vioapic_set_irq(&io, 2, true);
	vioapic_set_irq(&io, 2, true);
	assert_int_equal(nsent, 2);
	vioapic_set_irq(&io, 2, false);
	/* masked: the edge waits for the unmask */
	set_entry(2, 0x10030);
	vioapic_set_irq(&io, 2, true);
	vioapic_set_irq(&io, 2, false);
	assert_int_equal(nsent, 2);
	set_entry(2, 0x0100000000000831ull); /* logical, dest 1, vector 0x31 */
	assert_int_equal(nsent, 3);
	assert_int_equal(sent[2].vector, 0x31);
	assert_true(sent[2].logical);
	assert_int_equal(sent[2].dest, 1);
	assert_int_equal(rd(0x14) & (1u << 14), 0); /* no Remote IRR on edge */
}

static void level_remote_irr_and_eoi(void **state)
{
	(void)state;
	/* the SCI: pin 9, level, vector 0x39 */
	set_entry(9, 0x8039);
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 1);
	assert_true(sent[0].level);
	assert_int_equal(rd(0x22) & (1u << 14), 1u << 14);
	/* still asserted, Remote IRR set: no second message */
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 1);
	/* EOI for another vector: nothing */
	vioapic_eoi(&io, 0x40);
	assert_int_equal(nsent, 1);
	/* EOI while still asserted: delivered again */
	vioapic_eoi(&io, 0x39);
	assert_int_equal(nsent, 2);
	/* line drops, EOI: Remote IRR clear, nothing more */
	vioapic_set_irq(&io, 9, false);
	vioapic_eoi(&io, 0x39);
	assert_int_equal(nsent, 2);
	assert_int_equal(rd(0x22) & (1u << 14), 0);
	/* a masked level line is delivered when unmasked while still asserted */
	set_entry(9, 0x18039);
	vioapic_set_irq(&io, 9, true);
	assert_int_equal(nsent, 2);
	set_entry(9, 0x8039);
	assert_int_equal(nsent, 3);
	/* switching the entry to edge clears a stuck Remote IRR */
	set_entry(9, 0x0039);
	assert_int_equal(rd(0x22) & (1u << 14), 0);
	/* NMI delivery sets no Remote IRR */
	vioapic_set_irq(&io, 9, false);
	set_entry(10, 0x8400);
	vioapic_set_irq(&io, 10, true);
	assert_int_equal(sent[nsent - 1].delivery, VAPIC_DM_NMI);
	assert_int_equal(rd(0x24) & (1u << 14), 0);
	/* out-of-range pins are ignored */
	vioapic_set_irq(&io, 24, true);
	vioapic_set_irq(&io, 1000, true);
}

static struct vpic8259 pic;

static void router_isa_wiring(void **state)
{
	(void)state;
	struct irq_router r;
	vpic_init(&pic, &vm.env);
	irq_router_init(&r, &pic, &io);
	assert_int_equal(irq_router_gsi(0), 2);
	assert_int_equal(irq_router_gsi(2), -1);
	assert_int_equal(irq_router_gsi(4), 4);
	assert_int_equal(irq_router_gsi(23), 23);
	assert_int_equal(irq_router_gsi(24), -1);
	set_entry(2, 0x30);
	set_entry(0, 0x50);
	irq_router_set(&r, 0, true);
	irq_router_set(&r, 0, false);
	assert_int_equal(nsent, 1);
	assert_int_equal(sent[0].vector, 0x30);
	assert_int_equal(pic.chip[0].irr & 1, 1); /* the PIC saw it on IR0 */
	set_entry(4, 0x34);
	irq_router_set(&r, 4, true);
	assert_int_equal(sent[1].vector, 0x34);
	assert_int_equal(pic.chip[0].irr & 0x10, 0x10);
	set_entry(20, 0x8044);
	irq_router_set(&r, 20, true);
	assert_int_equal(sent[2].vector, 0x44);
	assert_true(r.levels & (1u << 20));
	irq_router_set(&r, 99, true);
	/* masking: pin 4 unmasked at the IOAPIC */
	assert_false(irq_router_masked(&r, 4));
	set_entry(4, 0x10034);
	assert_false(irq_router_masked(&r, 4)); /* the PIC's IMR is 0 after reset */
	pic.chip[0].imr = 0xFF;
	assert_true(irq_router_masked(&r, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(id_version_and_reset_state, setup),
		cmocka_unit_test_setup(edge_delivery, setup),
		cmocka_unit_test_setup(level_remote_irr_and_eoi, setup),
		cmocka_unit_test_setup(router_isa_wiring, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
