/* pci: a hostile PCI driver for the VM's bus (docs/testing.md "Hostile guests"; PCI Local Bus
 * 3.0 chapter 6, PCIe Base 4.0 7.2.2, virtio 1.2 4.1). It reads config space through
 * configuration mechanism #1 and through ECAM and wants both to agree, an absent function to
 * read all ones, and the 64-bit memory BAR of the virtio-rng at 00:01.0 to size as 32 KiB. It
 * moves that BAR to a free address in the host bridge's window (the device follows), then onto
 * its own RAM, the local APIC, the IOAPIC, ECAM and outside the window: what was there still
 * answers and keel logs that the BAR is not decoded. Onto the balloon's BAR (00:1e.0) the lower
 * slot decodes, as keel promises (vdev/pci/pci_bus.c); moved home, the rng serves a request
 * again. Memory decoding off hides the BAR. Then MSI-X through the capability list: a masked
 * entry and a masked function hold the queue's interrupt in the PBA until unmasked, a queue
 * vector past the table and a message address outside the APICs' window give no interrupt.
 * Then 64 more bad moves flood keel's rate-limited log. Last, the BAR in the 64-bit window above
 * RAM answers there (seen through PAE paging), and past its end nowhere. Nothing here waits on
 * time: a check that an interrupt did not come is made once the used ring shows the device
 * finished, and waits are counted exits. Exit code 0 when every check held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set SLOT1, 0x80000800		/* CONFIG_ADDRESS of 00:01.0, virtio-rng (3.2.2.3.2) */
	.set SLOT1E, 0x8000f000		/* 00:1e.0, virtio-balloon */
	.set SLOT5, 0x80002800		/* 00:05.0: nothing there */
	.set SLOT1_FN1, 0x80000900	/* 00:01.1: a single-function device has none */
	.set ECAM, 0xe0000000		/* bus 0: device << 15 | function << 12 | register */
	.set ECAM1, ECAM + (1 << 15)
	.set ECAM5, ECAM + (5 << 15)
	.set RNG_ID, 0x10441af4		/* virtio 1.x entropy device (virtio 4.1.2.1) */
	.set BALLOON_ID, 0x10451af4
	.set BAR_FLAGS, 0xc		/* 64-bit, prefetchable memory (6.2.5.1) */
	.set FREE_BAR, 0xd0000000	/* free, inside the window 0xC0000000-0xDFFFFFFF */
	.set OUTSIDE_BAR, 0xf0000000	/* between ECAM and the IOAPIC: no window */
	.set APIC, 0xfee00000
	.set APIC_VER, 0x30
	.set APIC_EOI, 0xb0
	.set APIC_SVR, 0xf0
	.set APIC_VERSION, 0x00050014	/* keel's local APIC (vdev/lapic.h) */
	.set IOAPIC, 0xfec00000
	.set IOAPIC_VERSION, 0x00170011	/* 24 pins, version 0x11 (82093AA, 3.2.2) */
	.set PM_TMR, 0x608
	.set VECTOR, 0x40		/* the IDT vector MSI-X entry 0 sends */
	.set DESC, 0x800000		/* the queue in the guest's RAM (the image is at 2-4 MiB) */
	.set AVAIL, 0x801000
	.set USED, 0x802000
	.set BUF, 0x803000
	.set RAM_PAGE, 0x900000		/* 32 KiB of pattern a BAR is moved onto */
	.set MSG_PAGE, 0xa00000		/* a page of pattern a message is aimed at */
	.set PATTERN, 0x5aa5c33c
	.set QSIZE, 8
	/* common configuration offsets (virtio 4.1.4.3) */
	.set CC_MSIX, 16
	.set NUMQ, 18
	.set GFSELECT, 8
	.set GF, 12
	.set STATUS, 20
	.set QSELECT, 22
	.set QSIZE_REG, 24
	.set QMSIX, 26
	.set QENABLE, 28
	.set QDESC, 32
	.set QDRIVER, 40
	.set QDEVICE, 48
	.set NOTIFY, 0x3000
	.set D_WRITE, 2
	/* MSI-X capability (6.8.2, figure 6-10): ID 0x11, Message Control at +2 (table size - 1
	 * in 10:0, function mask 14, enable 15), table and PBA offset | BIR at +4 and +8; a table
	 * entry is address low, high, data, vector control (bit 0: masked) */
	.set CAP_MSIX, 0x11
	.set MSIX_ENABLE, 0x8000
	.set MSIX_MASKALL, 0x4000

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	call idt_grow
	mov $0xff, %al			/* both 8259s masked: only the MSI can interrupt */
	out %al, $0x21
	out %al, $0xa1
	movl $0x1ff, APIC + APIC_SVR	/* software-enabled, spurious vector 0xff */

	call config_space
	cmpl $0, failures
	jne 9f				/* no rng where expected: nothing else makes sense */
	call bar_moves
	call command_decode
	call msix
	call flood
	call window64
9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* ---- 1. config space -------------------------------------------------------------------- */

config_space:
	mov $SLOT1, %eax
	call cfg_read
	CHECK %eax, $RNG_ID, virtio-rng_at_00:01.0
	CHECK ECAM1, $RNG_ID, virtio-rng_at_00:01.0_through_ECAM
	mov $SLOT1 | 0x10, %eax
	call cfg_read
	mov %eax, %edx
	CHECK ECAM1+0x10, %edx, BAR0_through_ECAM_differs
	and $0xf, %edx
	CHECK %edx, $BAR_FLAGS, BAR0_flags
	and $~0xf, %eax
	mov %eax, home
	mov $SLOT1 | 0x14, %eax
	call cfg_read
	CHECK %eax, $0, BAR0_upper_half
	CHECK ECAM1+0x14, $0, BAR0_upper_half_through_ECAM
	mov $SLOT1E, %eax
	call cfg_read
	CHECK %eax, $BALLOON_ID, virtio-balloon_at_00:1e.0
	mov $SLOT1E | 0x10, %eax
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar_b
	/* no function: a master abort reads all ones (3.2.2.3.4) */
	mov $SLOT5, %eax
	call cfg_read
	CHECK %eax, $0xffffffff, absent_slot_5
	CHECK ECAM5, $0xffffffff, absent_slot_5_through_ECAM
	mov $SLOT1_FN1, %eax
	call cfg_read
	CHECK %eax, $0xffffffff, absent_function_00:01.1
	CHECK ECAM1+0x1000, $0xffffffff, absent_function_00:01.1_through_ECAM
	/* CONFIG_ADDRESS with its enable bit clear names nothing: all ones */
	mov $SLOT1 & 0x7fffffff, %eax
	call cfg_read
	CHECK %eax, $0xffffffff, config_data_with_the_enable_bit_clear
	/* a word and a byte of the dword, at 0xCFE and 0xCFF: the device ID's halves */
	mov $SLOT1, %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	mov $CFG_DATA + 2, %dx
	xor %eax, %eax
	in %dx, %ax
	CHECK %eax, $0x1044, device_ID_as_a_word_at_0xCFE
	mov $CFG_DATA + 3, %dx
	xor %eax, %eax
	in %dx, %al
	CHECK %eax, $0x10, device_ID_high_byte_at_0xCFF
	/* read-only: the IDs; hardwired to 0: BARs 2-5 and the expansion ROM BAR, which the
	 * device does not implement (6.2.5.1, 6.2.5.2) */
	mov $SLOT1, %eax
	xor %edx, %edx
	call cfg_write
	call cfg_read
	CHECK %eax, $RNG_ID, IDs_written
	mov $0xffffffff, %edx
	mov $SLOT1 | 0x18, %ecx
1:	mov %ecx, %eax
	call cfg_write
	call cfg_read
	CHECK %eax, $0, an_unimplemented_BAR_took_a_write
	add $4, %ecx
	cmp $SLOT1 | 0x28, %ecx
	jb 1b
	mov $SLOT1 | 0x30, %eax
	call cfg_write
	call cfg_read
	CHECK %eax, $0, the_expansion_ROM_BAR_took_a_write

	/* sizing (6.2.5.1), decoding off meanwhile as a careful driver does: all ones in, the
	 * size mask and the fixed flag bits out; the upper half of a 64-bit BAR takes them all */
	mov $0, %eax
	call set_command
	mov $SLOT1 | 0x10, %eax
	mov $0xffffffff, %edx
	call cfg_write
	call cfg_read
	CHECK %eax, $0xffff800c, BAR0_size_mask
	mov $SLOT1 | 0x14, %eax
	call cfg_write
	call cfg_read
	CHECK %eax, $0xffffffff, BAR0_upper_size_mask
	mov $SLOT1 | 0x14, %eax
	xor %edx, %edx
	call cfg_write
	mov $SLOT1 | 0x10, %eax
	mov home, %edx
	call cfg_write
	call cfg_read
	mov home, %edx
	or $BAR_FLAGS, %edx
	CHECK %eax, %edx, BAR0_restored
	mov $6, %eax			/* memory decoding and bus mastering on */
	call set_command
	mov home, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $1, rng_queues_after_sizing
	mov $msg_config, %esi
	call puts
9:	ret

/* ---- 2. and 3. BAR moves ---------------------------------------------------------------- */

bar_moves:
	/* inside the window: the device follows, through ECAM this time */
	movl $FREE_BAR, ECAM1 + 0x10
	movzwl FREE_BAR + NUMQ, %eax
	CHECK %eax, $1, rng_common_config_not_at_its_new_address
	mov home, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $0xffff, old_address_still_answers
	mov $msg_moved, %esi
	call puts

	/* onto 32 KiB of RAM with a pattern: RAM stays RAM */
	mov $RAM_PAGE, %edi
	mov $PATTERN, %eax
	mov $0x2000, %ecx
	rep stosl
	mov $RAM_PAGE, %eax
	call move_bar
	mov $RAM_PAGE, %edi
	call pattern_held
	CHECK %eax, $0, RAM_under_the_BAR_changed
	/* onto the local APIC and the IOAPIC: both still answer */
	mov $APIC, %eax
	call move_bar
	CHECK APIC+APIC_VER, $APIC_VERSION, APIC_version_under_the_BAR
	mov $IOAPIC, %eax
	call move_bar
	movl $1, IOAPIC
	CHECK IOAPIC+0x10, $IOAPIC_VERSION, IOAPIC_version_under_the_BAR
	/* onto ECAM: config space stays config space */
	mov $ECAM, %eax
	call move_bar
	CHECK ECAM1, $RNG_ID, ECAM_under_the_BAR
	/* outside every window: nothing answers there */
	mov $OUTSIDE_BAR, %eax
	call move_bar
	movzwl OUTSIDE_BAR + NUMQ, %eax
	CHECK %eax, $0xffff, BAR_outside_the_window_answers
	/* above 4 GiB (into the 64-bit window, window64 below): only the upper half changes, and
	 * the address below 4 GiB stops answering */
	mov home, %eax
	call move_bar
	mov $SLOT1 | 0x14, %eax
	mov $1, %edx
	call cfg_write
	mov home, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $0xffff, BAR_above_4_GiB_answers_below
	mov $SLOT1 | 0x14, %eax
	xor %edx, %edx
	call cfg_write
	mov $msg_bad_moves, %esi
	call puts

	/* onto the balloon's BAR: keel decodes in slot order (vdev/pci/pci_bus.c), so 00:01.0
	 * takes the range and the balloon's BAR is not decoded until the rng leaves */
	mov bar_b, %eax
	call move_bar
	mov bar_b, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $1, the_rng_does_not_answer_at_the_balloons_BAR
	mov home, %eax
	call move_bar
	mov bar_b, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $3, the_balloon_did_not_come_back
	/* the balloon onto the rng: the rng keeps its range, the balloon answers nowhere */
	mov $SLOT1E | 0x10, %eax
	mov home, %edx
	call cfg_write
	mov home, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $1, the_rng_lost_its_BAR_to_the_balloon
	mov bar_b, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $0xffff, the_balloon_answers_where_it_left
	mov $SLOT1E | 0x10, %eax
	mov bar_b, %edx
	call cfg_write
	mov bar_b, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $3, the_balloon_did_not_come_back_home
	mov $msg_overlap, %esi
	call puts

	/* home again: a well-formed request works */
	mov home, %eax
	call move_bar
	mov home, %ebx
	call setup
	mov $1, %eax
	call request
	mov $msg_home, %esi
	call puts
	ret

/* move_bar: BAR 0 of 00:01.0 := eax (the upper half stays); eax kept */
move_bar:
	push %edx
	push %eax
	mov %eax, %edx
	mov $SLOT1 | 0x10, %eax
	call cfg_write
	pop %eax
	pop %edx
	ret

/* pattern_held: eax = 0 when the 32 KiB at edi all hold PATTERN, else the first bad dword */
pattern_held:
	push %ecx
	mov $0x2000, %ecx
	mov $PATTERN, %eax
	repe scasl
	je 1f
	mov -4(%edi), %eax
	pop %ecx
	ret
1:	xor %eax, %eax
	pop %ecx
	ret

/* ---- 4. the command register ------------------------------------------------------------ */

command_decode:
	mov home, %ebx
	mov $4, %eax			/* bus mastering only */
	call set_command
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $0xffff, BAR_answers_with_memory_decoding_off
	mov $SLOT1 | 0x10, %eax
	call cfg_read
	and $~0xf, %eax
	CHECK %eax, home, BAR_register_lost_with_decoding_off
	mov $6, %eax
	call set_command
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $1, BAR_silent_with_memory_decoding_on
	mov $msg_decode, %esi
	call puts
	ret

/* ---- 5. MSI-X --------------------------------------------------------------------------- */

msix:
	/* the capability list (6.7), walked with bounds: a pointer below 0x40 ends it, and a
	 * list of more than 48 entries (all of 0x40-0xFF, dword apart) loops */
	mov $SLOT1 | 0x04, %eax
	call cfg_read
	shr $16, %eax
	and $0x10, %eax
	CHECK %eax, $0x10, no_capability_list
	mov $SLOT1 | 0x34, %eax
	call cfg_read
	movzbl %al, %ecx
	mov $48, %edi
1:	and $0xfc, %ecx
	cmp $0x40, %ecx
	jb 8f
	dec %edi
	js 8f
	mov %ecx, %eax
	or $SLOT1, %eax
	call cfg_read
	cmp $CAP_MSIX, %al
	je 2f
	movzbl %ah, %ecx
	jmp 1b
8:	CHECK %ecx, $-1, no_MSI-X_capability
	ret
2:	mov %ecx, msix_cap
	shr $16, %eax
	and $0x7ff, %eax
	inc %eax
	CHECK %eax, $2, MSI-X_table_size
	lea SLOT1 + 4(%ecx), %eax
	call cfg_read
	mov %eax, %edx
	and $7, %edx
	CHECK %edx, $0, MSI-X_table_not_in_BAR_0
	and $~7, %eax
	add home, %eax
	mov %eax, table
	lea SLOT1 + 8(%ecx), %eax
	call cfg_read
	mov %eax, %edx
	and $7, %edx
	CHECK %edx, $0, MSI-X_PBA_not_in_BAR_0
	and $~7, %eax
	add home, %eax
	mov %eax, pba

	/* entry 0 to this CPU (APIC ID 0), fixed, edge, VECTOR (SDM vol 3A, 11.11.1-2); still
	 * masked, as every entry is after reset (6.8.2.9) */
	mov table, %esi
	CHECK 12(%esi), $1, MSI-X_entry_0_not_masked_after_reset
	movl $APIC, 0(%esi)
	movl $0, 4(%esi)
	movl $VECTOR, 8(%esi)
	mov $MSIX_ENABLE, %eax
	call set_msix_ctrl
	mov home, %ebx
	call setup			/* queue 0 on vector 0 */
	movzwl QMSIX(%ebx), %eax
	CHECK %eax, $0, queue_0_vector

	/* the entry masked: the completion sets the pending bit and sends nothing */
	mov $1, %eax
	call request
	call quiet
	CHECK irq_count, $0, interrupt_from_a_masked_entry
	mov pba, %eax
	CHECK (%eax), $1, PBA_after_a_masked_completion
	movl $0, 12(%esi)		/* unmasked: it goes, the bit clears */
	mov $1, %eax
	call wait_irqs
	CHECK irq_count, $1, no_interrupt_after_unmasking_the_entry
	mov pba, %eax
	CHECK (%eax), $0, PBA_after_unmasking_the_entry
	mov $msg_entry_mask, %esi
	call puts
	mov table, %esi

	/* the function masked (Message Control bit 14): the same */
	mov $MSIX_ENABLE | MSIX_MASKALL, %eax
	call set_msix_ctrl
	mov $2, %eax
	call request
	call quiet
	CHECK irq_count, $1, interrupt_from_a_masked_function
	mov pba, %eax
	CHECK (%eax), $1, PBA_after_a_completion_with_the_function_masked
	CHECK 12(%esi), $0, the_function_mask_changed_the_entrys_mask
	mov $MSIX_ENABLE, %eax
	call set_msix_ctrl
	mov $2, %eax
	call wait_irqs
	CHECK irq_count, $2, no_interrupt_after_unmasking_the_function
	mov pba, %eax
	CHECK (%eax), $0, PBA_after_unmasking_the_function
	mov $msg_function_mask, %esi
	call puts

	/* the queue on vector 50, past the table: refused, it reads NO_VECTOR (virtio 4.1.5.1.2),
	 * and a completion sends nothing */
	movw $50, QMSIX(%ebx)
	movzwl QMSIX(%ebx), %eax
	CHECK %eax, $0xffff, vector_50_accepted
	mov $3, %eax
	call request
	call quiet
	CHECK irq_count, $2, interrupt_with_the_queue_on_vector_50
	mov pba, %eax
	CHECK (%eax), $0, PBA_with_the_queue_on_vector_50
	movw $0, QMSIX(%ebx)
	mov $msg_vector50, %esi
	call puts

	/* entry 0 aimed at RAM: a message is not a DMA write; keel drops it and logs */
	mov $MSG_PAGE, %edi
	mov $PATTERN, %eax
	mov $0x2000, %ecx
	rep stosl
	mov table, %esi
	movl $MSG_PAGE, 0(%esi)
	movl $PATTERN, 8(%esi)
	mov $4, %eax
	call request
	call quiet
	CHECK irq_count, $2, interrupt_from_a_message_to_RAM
	mov pba, %eax
	CHECK (%eax), $0, PBA_after_a_message_to_RAM
	mov $MSG_PAGE, %edi
	call pattern_held
	CHECK %eax, $0, RAM_written_by_a_message
	mov $msg_to_ram, %esi
	call puts

	/* back to the APIC: the next completion interrupts again */
	mov table, %esi
	movl $APIC, 0(%esi)
	movl $VECTOR, 8(%esi)
	mov $5, %eax
	call request
	mov $3, %eax
	call wait_irqs
	CHECK irq_count, $3, no_interrupt_after_the_entry_was_set_right
	mov $msg_msix_done, %esi
	call puts
	/* a repeated delivery is QEMU's (see irq_entry), not keel's: said, not failed */
	mov irq_replays, %eax
	test %eax, %eax
	jz 1f
	mov $msg_replays, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
1:	ret

/* ---- 6. a flood of bad moves ----------------------------------------------------------- */

/* 64 moves to addresses outside the window, each new to keel's log: its lines are a token
 * bucket (16 at once, then one a second, vdev/io_bus.c), so this run prints at most 16 + its
 * seconds of them (the e2e case counts). Last, so that the lines above were all printed. */
flood:
	mov $64, %ecx
	mov $OUTSIDE_BAR, %eax
1:	add $0x8000, %eax
	call move_bar
	loop 1b
	mov home, %eax
	call move_bar
	mov home, %ebx
	movzwl NUMQ(%ebx), %eax
	CHECK %eax, $1, the_rng_did_not_come_home_after_the_flood
	mov $msg_flood, %esi
	call puts
	ret

/* ---- 7. the 64-bit window -------------------------------------------------------------- */

/* window64: the host bridge's _CRS has a 64-bit memory window from the first GiB above RAM (4 GiB
 * for this VM) up to 64 GiB long (core/guest_layout.c): the 64-bit BAR moved to 0x1_C000_0000
 * answers there, seen through PAE paging (common.S's 2 MiB window at linear 0xC0000000); moved
 * past the window's end to 0x11_C000_0000 it decodes nowhere. Last: paging stays on. */
window64:
	mov home, %eax
	call move_bar
	mov $SLOT1 | 0x14, %eax
	mov $1, %edx
	call cfg_write
	call pae_enable
	mov home, %eax
	mov $1, %edx
	call pae_window
	movzwl 0xc0000000 + NUMQ, %eax
	CHECK %eax, $1, the_BAR_at_0x1_C000_0000_does_not_answer
	mov $SLOT1 | 0x14, %eax
	mov $0x11, %edx
	call cfg_write
	movzwl 0xc0000000 + NUMQ, %eax
	CHECK %eax, $0xffff, the_BAR_moved_away_still_answers_at_0x1_C000_0000
	mov $SLOT1 | 0x14, %eax
	xor %edx, %edx
	call cfg_write
	mov $msg_window64, %esi
	call puts
	ret

/* set_msix_ctrl: the MSI-X Message Control word of 00:01.0 := ax */
set_msix_ctrl:
	push %edx
	push %eax
	mov msix_cap, %eax
	or $SLOT1, %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	pop %eax
	mov $CFG_DATA + 2, %dx		/* the capability is dword-aligned: control at +2 */
	out %ax, %dx
	pop %edx
	ret

/* quiet: 16 exits with interrupts open, each a point where keel delivers what is pending; the
 * device finished before (request checked the used ring), so nothing more can come */
quiet:
	push %ecx
	mov $16, %ecx
1:	call open_window
	loop 1b
	pop %ecx
	ret

/* wait_irqs: up to 64 open windows until irq_count reaches eax */
wait_irqs:
	push %ecx
	mov $64, %ecx
1:	cmp irq_count, %eax
	jbe 2f
	call open_window
	loop 1b
2:	pop %ecx
	ret

/* open_window: IF set across one exit to keel (a PM timer read), then clear again */
open_window:
	push %eax
	push %edx
	mov $PM_TMR, %dx
	sti
	in %dx, %eax
	cli
	pop %edx
	pop %eax
	ret

/* The MSI-X vector's handler (an interrupt gate). Its first block exits to keel: QEMU 7.2
 * TCG's SVM may deliver an injected interrupt a second time at the handler's first instruction
 * (docs/testing.md, "The SMP guest"); such a delivery is counted apart and takes no EOI. */
irq_entry:
	push %eax
	push %edx
	mov $PM_TMR, %dx
	in %dx, %eax
	cmpl $irq_entry, 8(%esp)
	jne 1f
	incl irq_replays
	jmp 2f
1:	incl irq_count
	movl $0, APIC + APIC_EOI
2:	pop %edx
	pop %eax
	iret

/* idt_grow: common.S's 32 exception gates copied into an IDT that reaches VECTOR, whose gate
 * goes to irq_entry (SDM vol 3A, 6.11) */
idt_grow:
	sidt idtr
	mov idtr + 2, %esi
	mov $bigidt, %edi
	mov $32 * 2, %ecx
	rep movsl
	mov $irq_entry, %eax
	mov %ax, bigidt + VECTOR * 8
	mov %cs, %dx
	mov %dx, bigidt + VECTOR * 8 + 2
	movw $0x8e00, bigidt + VECTOR * 8 + 4	/* present, DPL 0, 32-bit interrupt gate */
	shr $16, %eax
	mov %ax, bigidt + VECTOR * 8 + 6
	movw $(VECTOR + 1) * 8 - 1, idtr
	movl $bigidt, idtr + 2
	lidt idtr
	ret

/* ---- virtio, as a modern driver (virtio 3.1.1, 4.1.4) ----------------------------------- */

/* setup: with ebx = the rng's BAR: reset, VERSION_1 only, queue 0 of QSIZE at DESC, AVAIL,
 * USED on MSI-X vector 0 (the configuration on none), DRIVER_OK */
setup:
	movb $0, STATUS(%ebx)
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $0, status_after_reset
	movb $3, STATUS(%ebx)		/* ACKNOWLEDGE | DRIVER */
	movl $1, GFSELECT(%ebx)
	movl $1, GF(%ebx)		/* feature bit 32: VERSION_1 */
	movl $0, GFSELECT(%ebx)
	movl $0, GF(%ebx)
	movb $11, STATUS(%ebx)		/* | FEATURES_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $11, features_refused
	mov $DESC, %edi
	mov $0x1000, %ecx		/* the rings and the buffer: 16 KiB of zeros */
	xor %eax, %eax
	rep stosl
	movw $0xffff, CC_MSIX(%ebx)
	movw $0, QSELECT(%ebx)
	movw $QSIZE, QSIZE_REG(%ebx)
	movw $0, QMSIX(%ebx)
	movl $DESC, QDESC(%ebx)
	movl $0, QDESC + 4(%ebx)
	movl $AVAIL, QDRIVER(%ebx)
	movl $0, QDRIVER + 4(%ebx)
	movl $USED, QDEVICE(%ebx)
	movl $0, QDEVICE + 4(%ebx)
	movw $1, QENABLE(%ebx)
	movb $15, STATUS(%ebx)		/* | DRIVER_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, status_not_driver_ok
	ret

/* request: with ebx = the BAR and eax = the available index it makes (1, 2 ...): descriptor 0
 * (16 writable bytes at BUF) in the next slot of the available ring, a notification; the used
 * index must have reached eax when the notification returns, with 16 bytes written */
request:
	push %ecx
	push %edx
	movl $BUF, DESC
	movl $0, DESC + 4
	movl $16, DESC + 8
	movw $D_WRITE, DESC + 12
	movw $0, DESC + 14
	lea -1(%eax), %ecx
	and $QSIZE - 1, %ecx
	movw $0, AVAIL + 4(,%ecx,2)	/* ring[idx - 1] = head 0 */
	mov %ax, AVAIL + 2
	movw $0, NOTIFY(%ebx)
	mov %eax, want_idx
	movzwl USED + 2, %edx
	CHECK %edx, want_idx, used_index_after_a_request
	mov USED + 8(,%ecx,8), %edx
	CHECK %edx, $16, used_length
	pop %edx
	pop %ecx
	ret

/* ---- config space helpers (cfg_read and cfg_write are common.S's) ----------------------- */

/* set_command: the command register of 00:01.0 := ax */
set_command:
	push %edx
	push %eax
	mov $SLOT1 | 0x04, %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	pop %eax
	mov $CFG_DATA, %dx
	out %ax, %dx
	pop %edx
	ret

/* fail: prints "pci: FAIL <esi> 0x<eax>" and counts it (check.h) */
fail:
	incl failures
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	mov $msg_hex, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	ret

	.section .rodata
msg_config:	.asciz "pci: config space agrees through 0xCF8/0xCFC and ECAM; BAR 0 sizes as 32 KiB\n"
msg_moved:	.asciz "pci: BAR 0 moved in the window: the device followed\n"
msg_bad_moves:	.asciz "pci: BAR 0 on RAM, the APICs, ECAM, outside the window: all still there\n"
msg_overlap:	.asciz "pci: two BARs at one address: the lower slot decodes\n"
msg_home:	.asciz "pci: BAR 0 home again: a request works\n"
msg_decode:	.asciz "pci: memory decoding off hides the BAR\n"
msg_entry_mask:	.asciz "pci: a masked MSI-X entry holds its interrupt in the PBA\n"
msg_function_mask: .asciz "pci: the MSI-X function mask holds the interrupt in the PBA\n"
msg_vector50:	.asciz "pci: a queue on vector 50 interrupts nobody\n"
msg_to_ram:	.asciz "pci: a message to RAM is dropped\n"
msg_msix_done:	.asciz "pci: MSI-X entry 0 to the APIC interrupts again\n"
msg_flood:	.asciz "pci: 64 more moves outside the window, then home\n"
msg_replays:	.asciz "pci: note: interrupt deliveries repeated at the handler's entry: 0x"
msg_window64:	.asciz "pci: a 64-bit BAR decodes in the window above RAM, not past it\n"
msg_done:	.asciz "pci: done\n"
msg_fail:	.asciz "pci: FAIL "
msg_hex:	.asciz " 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
home:		.long 0		/* where keel put the rng's BAR 0 */
bar_b:		.long 0		/* the balloon's */
msix_cap:	.long 0
table:		.long 0
pba:		.long 0
irq_count:	.long 0
irq_replays:	.long 0
failures:	.long 0
want_idx:	.long 0
idtr:		.word 0
		.long 0

	.bss
	.align 8
bigidt:		.space (VECTOR + 1) * 8
	.section .note.GNU-stack,"",@progbits
