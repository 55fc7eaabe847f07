/* The whole platform: ports and pages reach the right devices, interrupts travel from a device
 * through the 8259 or the IOAPIC to a local APIC and out as a vector, timers wake the vCPU, the
 * exit port / S5 / reset stop the VM, unclaimed accesses are handled and logged. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "core/guest_layout.h"
#include "tests/support/host_log.h"
#include "tests/support/vdev_fake.h"
#include "vdev/platform.h"

static struct fake_vm vm;
static struct platform plat;

static void out(uint16_t port, unsigned size, uint32_t v)
{
	assert_int_equal(platform_io(&plat, port, size, true, &v), PLATFORM_OK);
}

static uint32_t in(uint16_t port, unsigned size)
{
	uint32_t v = 0;
	assert_int_equal(platform_io(&plat, port, size, false, &v), PLATFORM_OK);
	return v;
}

static void mmio_wr(unsigned cpu, uint64_t gpa, uint32_t v)
{
	uint64_t x = v;
	assert_int_equal(platform_mmio(&plat, cpu, gpa, 4, true, &x), PLATFORM_OK);
}

static uint32_t mmio_rd(unsigned cpu, uint64_t gpa)
{
	uint64_t x = 0;
	assert_int_equal(platform_mmio(&plat, cpu, gpa, 4, false, &x), PLATFORM_OK);
	return (uint32_t)x;
}

static void vioapic_entry(unsigned pin, uint64_t e)
{
	mmio_wr(0, 0xFEC00000, 0x11 + 2 * pin);
	mmio_wr(0, 0xFEC00010, (uint32_t)(e >> 32));
	mmio_wr(0, 0xFEC00000, 0x10 + 2 * pin);
	mmio_wr(0, 0xFEC00010, (uint32_t)e);
}

static void start(unsigned cpus)
{
	struct platform_config cfg;
	platform_default_config(&cfg);
	cfg.cpus = cpus;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), 0);
}

static int setup(void **state)
{
	(void)state;
	fake_vm_init(&vm);
	vm.now = 1000;
	host_log_clear();
	start(1);
	return 0;
}

static void config_is_checked(void **state)
{
	(void)state;
	struct platform_config cfg;
	platform_default_config(&cfg);
	cfg.cpus = 0;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), -1);
	cfg.cpus = PLATFORM_MAX_CPUS + 1;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), -1);
	platform_default_config(&cfg);
	cfg.pm.pm1a_evt = 0x3F8; /* on top of COM1 */
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), -1);
	platform_default_config(&cfg);
	cfg.exit_port = false;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), 0);
	uint32_t v = 0;
	assert_int_equal(platform_io(&plat, 0xF4, 1, true, &v), PLATFORM_OK);
	assert_int_equal(vm.stops, 0);
}

static void console_and_exit_port(void **state)
{
	(void)state;
	const char *msg = "ok\n";
	for (const char *s = msg; *s; s++)
		out(0x3F8, 1, (uint8_t)*s);
	assert_string_equal(vm.out, "ok\n");
	out(0x3F8, 1, '$');
	assert_int_equal(platform_next_event_ns(&plat, 0), UINT64_MAX);
	assert_string_equal(vm.out, "ok\n$"); /* flushed before the vCPU sleeps */
	uint32_t code = 3;
	assert_int_equal(platform_io(&plat, 0xF4, 4, true, &code), PLATFORM_STOP);
	uint32_t c;
	assert_int_equal(platform_stop_reason(&plat, &c), VM_STOP_EXIT_PORT);
	assert_int_equal(c, 3);
	assert_int_equal(vm.stop, VM_STOP_EXIT_PORT);
	assert_int_equal(vm.code, 3);
	/* a later S5 does not replace the first reason */
	code = 0x3400;
	platform_io(&plat, 0x604, 2, true, &code);
	assert_int_equal(platform_stop_reason(&plat, NULL), VM_STOP_EXIT_PORT);
	assert_int_equal(vm.stops, 1);
}

/* keel.cfg `console = virtio`: the device at 00:1f.0 takes the typed bytes, the UART none; without
 * it the slot is empty and the bytes go to the UART's FIFO. */
static void virtio_console_takes_input(void **state)
{
	(void)state;
	const uint64_t ecam_1f = GUEST_PCI_ECAM_BASE + ((uint64_t)PLATFORM_SLOT_CONSOLE << 15);
	assert_null(plat.pci.slot[PLATFORM_SLOT_CONSOLE]);
	assert_int_equal(mmio_rd(0, ecam_1f), 0xFFFFFFFF);
	/* FIFOs off (FCR 0): the receive register holds one byte, the rest waits in the caller's */
	assert_int_equal(platform_console_input(&plat, (const uint8_t *)"ab", 2), 1);
	assert_true(in(0x3FD, 1) & 1); /* LSR: data ready */
	assert_int_equal(in(0x3F8, 1), 'a');

	struct platform_config cfg;
	platform_default_config(&cfg);
	cfg.virtio_console = true;
	assert_int_equal(platform_init(&plat, &vm.env, &cfg), 0);
	assert_ptr_equal(plat.pci.slot[PLATFORM_SLOT_CONSOLE], &plat.console.vpci.pci);
	assert_int_equal(mmio_rd(0, ecam_1f), 0x10431AF4);
	assert_int_equal(platform_console_input(&plat, (const uint8_t *)"hi", 2), 2);
	assert_int_equal(virtio_console_waiting(&plat.console), 2);
	assert_false(in(0x3FD, 1) & 1);
	/* the UART's output still reaches the VM's console */
	out(0x3F8, 1, '!');
	platform_next_event_ns(&plat, 0);
	assert_string_equal(vm.out, "!");
}

static void power_off_and_reset(void **state)
{
	(void)state;
	uint32_t v = 0x3400;
	assert_int_equal(platform_io(&plat, 0x604, 2, true, &v), PLATFORM_STOP);
	assert_int_equal(platform_stop_reason(&plat, NULL), VM_STOP_POWER_OFF);
	platform_reset(&plat);
	assert_int_equal(platform_stop_reason(&plat, NULL), VM_STOP_NONE);
	v = 0x06;
	assert_int_equal(platform_io(&plat, 0xCF9, 1, true, &v), PLATFORM_STOP);
	assert_int_equal(platform_stop_reason(&plat, NULL), VM_STOP_RESET);
	platform_reset(&plat);
	v = 0xFE;
	assert_int_equal(platform_io(&plat, 0x64, 1, true, &v), PLATFORM_STOP);
	assert_int_equal(vm.stops, 3);
}

/* Boot-time path: the 8259 behind LINT0 in virtual-wire mode, IRQ0 from the PIT. */
static void vpit_through_8259(void **state)
{
	(void)state;
	out(0x21, 1, 0xFF);
	out(0xA1, 1, 0xFF);
	out(0x20, 1, 0x11);
	out(0x21, 1, 0x30);
	out(0x21, 1, 0x04);
	out(0x21, 1, 0x01);
	out(0xA0, 1, 0x11);
	out(0xA1, 1, 0x38);
	out(0xA1, 1, 0x02);
	out(0xA1, 1, 0x01);
	out(0x21, 1, 0xFA);
	out(0x43, 1, 0x34);
	out(0x40, 1, 0x9C);
	out(0x40, 1, 0x2E); /* 11932: 100 Hz */
	uint64_t next = platform_next_event_ns(&plat, 0);
	assert_true(next > vm.now + 9990000 && next < vm.now + 10010000);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	vm.now = next;
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0x30);
	platform_ack_interrupt(&plat, 0, 0x30);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	out(0x20, 1, 0x20);
	/* masked at the 8259: no wake-up for the PIT */
	out(0x21, 1, 0xFF);
	assert_int_equal(platform_next_event_ns(&plat, 0), UINT64_MAX);
	/* LINT0 masked: the 8259's interrupts do not reach the CPU */
	out(0x21, 1, 0xFA);
	mmio_wr(0, 0xFEE00350, 0x10700);
	vm.now += 20000000;
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
}

/* Linux's APIC path: IOAPIC pin 2 for IRQ0, then the LAPIC timer; UART level-triggered. */
static void vioapic_to_lapic(void **state)
{
	(void)state;
	out(0x21, 1, 0xFF);
	out(0xA1, 1, 0xFF);
	mmio_wr(0, 0xFEE000F0, 0x1FF);
	vioapic_entry(2, 0x30);
	out(0x43, 1, 0x34);
	out(0x40, 1, 0x9C);
	out(0x40, 1, 0x2E);
	vm.now = platform_next_event_ns(&plat, 0);
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0x30);
	assert_true(vm.kicks > 0);
	platform_ack_interrupt(&plat, 0, 0x30);
	assert_int_equal(mmio_rd(0, 0xFEE00100 + 0x10), 1u << 16); /* ISR 0x30 */
	mmio_wr(0, 0xFEE000B0, 0);
	/* the UART's THRE interrupt on pin 4, level-triggered */
	vioapic_entry(4, 0x8034);
	out(0x3FC, 1, 0x08); /* OUT2 */
	out(0x3F9, 1, 0x02); /* ETBEI */
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0x34);
	platform_ack_interrupt(&plat, 0, 0x34);
	mmio_wr(0, 0xFEC00000, 0x18);
	assert_int_equal(mmio_rd(0, 0xFEC00010) & (1u << 14), 1u << 14); /* Remote IRR */
	assert_int_equal(in(0x3FA, 1), 0x02); /* the handler reads IIR: THRE */
	mmio_wr(0, 0xFEE000B0, 0);
	mmio_wr(0, 0xFEC00000, 0x18);
	assert_int_equal(mmio_rd(0, 0xFEC00010) & (1u << 14), 0);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	/* received bytes raise it again */
	out(0x3F9, 1, 0x01);
	assert_true(platform_uart_input(&plat, 'k'));
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0x34);
	platform_ack_interrupt(&plat, 0, 0x34);
	assert_int_equal(in(0x3F8, 1), 'k');
	mmio_wr(0, 0xFEE000B0, 0);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	/* the LAPIC timer wakes the vCPU before the PIT when it is due first */
	mmio_wr(0, 0xFEE003E0, 0xB);
	mmio_wr(0, 0xFEE00320, 0xEC);
	mmio_wr(0, 0xFEE00380, 500000);
	assert_int_equal(platform_next_event_ns(&plat, 0), vm.now + 500000);
	vm.now += 500000;
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0xEC);
	/* the SCI on a power-button press */
	vioapic_entry(9, 0x8039);
	out(0x602, 2, 0x0100);
	platform_power_button(&plat);
	platform_ack_interrupt(&plat, 0, 0xEC);
	mmio_wr(0, 0xFEE000B0, 0);
	assert_int_equal(platform_pending_interrupt(&plat, 0), 0x39);
}

static void x2apic_msrs_and_the_page(void **state)
{
	(void)state;
	uint64_t v;
	assert_true(platform_msr_is_apic(0x1B));
	assert_true(platform_msr_is_apic(0x6E0));
	assert_true(platform_msr_is_apic(0x830));
	assert_false(platform_msr_is_apic(0x10));
	assert_int_equal(platform_msr_read(&plat, 0, 0x10, &v), PLATFORM_GP);
	assert_int_equal(platform_msr_read(&plat, 0, 0x802, &v), PLATFORM_GP); /* xAPIC mode */
	assert_int_equal(platform_msr_read(&plat, 0, 0x1B, &v), PLATFORM_OK);
	assert_int_equal(v, 0xFEE00900);
	assert_int_equal(mmio_rd(0, 0xFEE00030), 0x50014);
	assert_int_equal(platform_msr_write(&plat, 0, 0x1B, 0xFEE00C00), PLATFORM_OK);
	assert_int_equal(platform_msr_read(&plat, 0, 0x803, &v), PLATFORM_OK);
	assert_int_equal(v, 0x50014);
	assert_int_equal(platform_msr_write(&plat, 0, 0x80E, 0), PLATFORM_GP);
	assert_int_equal(platform_msr_read(&plat, 1, 0x803, &v), PLATFORM_GP); /* no such vCPU */
	/* the page is unclaimed now */
	assert_int_equal(mmio_rd(0, 0xFEE00030), 0xFFFFFFFF);
	assert_true(host_log_contains("vm t: unclaimed MMIO page 0xfee00000: 4-byte read at "
				      "0xfee00030, all ones"));
}

static void unclaimed_mmio_and_bad_sizes(void **state)
{
	(void)state;
	uint64_t v = 0;
	assert_int_equal(platform_mmio(&plat, 0, 0xE1000000, 8, false, &v), PLATFORM_OK);
	assert_int_equal(v, ~0ull);
	assert_int_equal(platform_mmio(&plat, 0, 0xE1000002, 2, false, &v), PLATFORM_OK);
	assert_int_equal(v, 0xFFFF);
	v = 0x1234;
	assert_int_equal(platform_mmio(&plat, 0, 0xE1000FF0, 2, true, &v), PLATFORM_OK);
	assert_true(host_log_contains("vm t: unclaimed MMIO page 0xe1000000: 8-byte read at "
				      "0xe1000000, all ones"));
	assert_false(host_log_contains("0xe1000ff0"));
	v = 0x1234;
	assert_int_equal(platform_mmio(&plat, 0, 0xE1001000, 4, true, &v), PLATFORM_OK);
	assert_true(host_log_contains("unclaimed MMIO page 0xe1001000: 4-byte write of 0x1234 at "
				      "0xe1001000 dropped"));
	assert_int_equal(platform_mmio(&plat, 0, 0xE1000000, 3, false, &v), PLATFORM_GP);
	assert_int_equal(platform_mmio(&plat, 5, 0xFEE00000, 4, false, &v), PLATFORM_GP);
	uint32_t w = 0;
	assert_int_equal(platform_io(&plat, 0x80, 3, false, &w), PLATFORM_GP);
	assert_int_equal(in(0x2F8, 1), 0xFF);
	assert_int_equal(in(0xCFC, 4), 0xFFFFFFFF);
	assert_true(host_log_contains("vm t: unclaimed I/O port 0x2f8"));
}

static void ipis_between_two_cpus(void **state)
{
	(void)state;
	start(2);
	assert_int_equal(platform_msr_read(&plat, 1, 0x1B, &(uint64_t){ 0 }), PLATFORM_OK);
	mmio_wr(0, 0xFEE000F0, 0x1FF);
	mmio_wr(1, 0xFEE000F0, 0x1FF);
	assert_int_equal(mmio_rd(1, 0xFEE00020), 0x01000000);
	/* fixed IPI from CPU 0 to APIC 1 */
	mmio_wr(0, 0xFEE00310, 0x01000000);
	mmio_wr(0, 0xFEE00300, 0x40FD);
	assert_int_equal(platform_pending_interrupt(&plat, 1), 0xFD);
	assert_int_equal(platform_pending_interrupt(&plat, 0), -1);
	/* INIT and SIPI to all but self */
	mmio_wr(0, 0xFEE00300, 0xC4500);
	mmio_wr(0, 0xFEE00300, 0xC0610);
	assert_true(vlapic_take_init(&plat.lapic[1]));
	assert_int_equal(vlapic_take_sipi(&plat.lapic[1]), 0x10);
	assert_false(vlapic_take_init(&plat.lapic[0]));
	/* NMI to all */
	mmio_wr(0, 0xFEE00300, 0x80400);
	assert_true(platform_take_nmi(&plat, 0));
	assert_true(platform_take_nmi(&plat, 1));
	assert_false(platform_take_nmi(&plat, 1));
	/* lowest priority, logical flat to both: the one with the lower PPR */
	mmio_wr(0, 0xFEE000D0, 0x01000000);
	mmio_wr(1, 0xFEE000D0, 0x02000000);
	mmio_wr(0, 0xFEE00080, 0x20);
	vioapic_entry(5, 0x0300000000000945ull); /* lowest priority, logical, dest 3 */
	out(0x4D0, 1, 0x20);
	irq_router_set(&plat.router, 5, true);
	assert_int_equal(plat.lapic[1].irr[2], 1u << 5);
	assert_int_equal(plat.lapic[0].irr[2], 0);
	/* an IOAPIC broadcast reaches both */
	vioapic_entry(6, 0xFF00000000000046ull);
	irq_router_set(&plat.router, 6, true);
	assert_int_equal(plat.lapic[0].irr[2], 1u << 6);
	assert_int_equal(plat.lapic[1].irr[2] & (1u << 6), 1u << 6);
	/* x2APIC IPI with a 32-bit destination */
	platform_msr_write(&plat, 1, 0x1B, 0xFEE00C00);
	platform_msr_write(&plat, 0, 0x1B, 0xFEE00D00);
	assert_int_equal(platform_msr_write(&plat, 0, 0x830, (1ull << 32) | 0x77), PLATFORM_OK);
	assert_int_equal(plat.lapic[1].irr[3], 1u << 23);
}

/* where a passed-through function's host interrupt is aimed: the vCPU the guest's message names */
static void msi_target_is_the_named_vcpu(void **state)
{
	(void)state;
	start(2);
	mmio_wr(0, 0xFEE000F0, 0x1FF);
	mmio_wr(1, 0xFEE000F0, 0x1FF);
	assert_int_equal(platform_msi_target(&plat, 0xFEE00000, 0x41), 0);
	assert_int_equal(platform_msi_target(&plat, 0xFEE01000, 0x41), 1);
	assert_int_equal(platform_msi_target(&plat, 0xFEE01000, 0x141), 1);   /* lowest priority */
	assert_int_equal(platform_msi_target(&plat, 0xFEE01000, 0x441), 1);   /* NMI */
	assert_int_equal(platform_msi_target(&plat, 0xFEE07000, 0x41), -1);   /* no APIC 7 */
	assert_int_equal(platform_msi_target(&plat, 0xFEE01000, 0x541), -1);  /* INIT */
	assert_int_equal(platform_msi_target(&plat, 0xFEE01000, 0x8041), -1); /* deassert */
	/* logical flat: APIC 1 in group 2 */
	mmio_wr(0, 0xFEE000D0, 0x01000000);
	mmio_wr(1, 0xFEE000D0, 0x02000000);
	assert_int_equal(platform_msi_target(&plat, 0xFEE02004, 0x41), 1);
	assert_int_equal(platform_msi_target(&plat, 0xFEE03004, 0x141), 0);
	assert_int_equal(platform_msi_target(&plat, 0xFEE04004, 0x41), -1);
	/* only a question: nothing is delivered */
	assert_int_equal(plat.lapic[0].irr[2], 0);
	assert_int_equal(plat.lapic[1].irr[2], 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(config_is_checked, setup),
		cmocka_unit_test_setup(console_and_exit_port, setup),
		cmocka_unit_test_setup(virtio_console_takes_input, setup),
		cmocka_unit_test_setup(power_off_and_reset, setup),
		cmocka_unit_test_setup(vpit_through_8259, setup),
		cmocka_unit_test_setup(vioapic_to_lapic, setup),
		cmocka_unit_test_setup(x2apic_msrs_and_the_page, setup),
		cmocka_unit_test_setup(unclaimed_mmio_and_bad_sizes, setup),
		cmocka_unit_test_setup(ipis_between_two_cpus, setup),
		cmocka_unit_test_setup(msi_target_is_the_named_vcpu, setup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
