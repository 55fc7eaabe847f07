/* nmi: NMI delivery and blocking as a CPU does them (Intel SDM vol 3A, "NMI Interrupt Handling"
 * and "Handling Multiple NMIs" in chapter 6/7; AMD APM vol 2, 8.2.3 "NMI"), one vCPU:
 *   1. with IF clear, an NMI sent to itself through the ICR (no shorthand, its own APIC ID:
 *      "self" is legal with fixed delivery only, SDM vol 3A, 11.6.1) is taken right after the ICR
 *      write; two sent back to back both arrive;
 *   2. a handler sends two more NMIs and waits with IF set: neither is taken before its IRET (an
 *      NMI blocks NMIs until the next IRET, whatever IF says); right after the IRET exactly one
 *      arrives (one NMI is latched while blocked, a third is dropped);
 *   3. `cli; hlt`: an NMI from the PIT (IRQ0 on IOAPIC pin 2, its redirection entry in NMI
 *      delivery mode) wakes it, the handler returning after the HLT;
 *   4. the same at `sti; hlt`, and an NMI sent from inside an STI shadow.
 * Each handler records the EIP it returns to, so "right after" is checked to the instruction.
 * Exit code 0 when every check held, 1 when one failed (the line before says which). Case 3 hangs
 * when an NMI cannot wake a halted vCPU with IF clear (e2e timeout). */
#include "check.h"

	.set APIC, 0xfee00000
	.set APIC_ID, 0x20
	.set APIC_SVR, 0xf0
	.set APIC_ICR_LO, 0x300
	.set APIC_ICR_HI, 0x310
	/* ICR (SDM vol 3A, 11.6.1): delivery mode NMI (100b) in bits 8-10, level assert (bit 14),
	 * edge, physical destination, no shorthand */
	.set ICR_NMI, (4 << 8) | (1 << 14)
	.set IOAPIC, 0xfec00000
	.set IOAPIC_WIN, 0x10
	/* redirection entry of pin 2 (the PIT's IRQ0, ACPI interrupt source override): registers
	 * 0x14 (low) and 0x15 (high) (82093AA datasheet, 3.2.4); NMI delivery (100b in bits 8-10),
	 * physical, edge, not masked; destination APIC ID in bits 56-63 */
	.set IOAPIC_RTE2, 0x14
	.set RTE_NMI, 4 << 8
	.set PIT_CH0, 0x40
	.set PIT_CTL, 0x43
	.set PIT_10MS, 11932	/* 1.193182 MHz */
	.set PM_TMR, 0x608

	.text
	.code32
	.globl guest_main
guest_main:
	mov $msg_start, %esi
	call puts
	call idt_init
	/* vector 2 to nmi_entry: a 32-bit interrupt gate like the others */
	sidt idtr
	mov idtr+2, %ebx
	mov $nmi_entry, %eax
	mov %ax, 2*8(%ebx)
	shr $16, %eax
	mov %ax, 2*8+6(%ebx)
	/* both 8259s masked: the PIT's pulses go to the IOAPIC alone */
	mov $0xff, %al
	out %al, $0x21
	out %al, $0xa1
	movl $0x1ff, APIC + APIC_SVR	/* software-enabled, spurious vector 0xff */
	mov APIC + APIC_ID, %eax
	and $0xff000000, %eax
	mov %eax, APIC + APIC_ICR_HI
	mov %eax, apic_id

	/* 1. IF clear: each NMI right after the write that sent it */
	mov failures, %edi
	cli
	movl $ICR_NMI, APIC + APIC_ICR_LO
t1a:	CHECK nmi_count, $1, self-NMI_with_IF_clear_not_taken_at_once_count
	CHECK nmi_eip, $t1a, self-NMI_returned_to
	movl $ICR_NMI, APIC + APIC_ICR_LO
t1b:	movl $ICR_NMI, APIC + APIC_ICR_LO
t1c:	CHECK nmi_count, $3, two_NMIs_in_a_row_count
	CHECK nmi_eip, $t1c, second_of_two_NMIs_returned_to
	mov $msg_1, %esi
	call say_if_held

	/* 2. two NMIs sent inside the handler: one after its IRET, at once; none inside it */
	mov failures, %edi
	movl $2, nmi_resend
	movl $ICR_NMI, APIC + APIC_ICR_LO
t2:	CHECK nmi_count, $5, NMIs_sent_inside_a_handler_count_right_after_its_IRET
	CHECK nmi_eip, $t2, the_latched_NMI_returned_to
	call wait_a_while
	CHECK nmi_count, $5, a_third_NMI_was_not_dropped_count
	CHECK nmi_inside, $0, NMIs_taken_inside_an_NMI_handler
	mov $msg_2, %esi
	call say_if_held

	/* 3. cli; hlt, woken by an NMI from the IOAPIC */
	mov failures, %edi
	mov apic_id, %eax
	movl $IOAPIC_RTE2 + 1, IOAPIC
	mov %eax, IOAPIC + IOAPIC_WIN
	movl $IOAPIC_RTE2, IOAPIC
	movl $RTE_NMI, IOAPIC + IOAPIC_WIN
	call pit_oneshot
	cli
	hlt
t3:	CHECK nmi_count, $6, cli-hlt_woken_count
	CHECK nmi_eip, $t3, the_NMI_at_cli-hlt_returned_to
	mov nmi_eflags, %eax
	and $0x200, %eax
	CHECK %eax, $0, IF_seen_by_the_NMI_at_cli-hlt
	mov $msg_3, %esi
	call say_if_held

	/* 4. sti; hlt, woken by an NMI from the IOAPIC; then an NMI sent in an STI shadow */
	mov failures, %edi
	call pit_oneshot
	sti
	hlt
t4a:	cli
	CHECK nmi_count, $7, sti-hlt_woken_count
	CHECK nmi_eip, $t4a, the_NMI_at_sti-hlt_returned_to
	mov nmi_eflags, %eax
	and $0x200, %eax
	CHECK %eax, $0x200, IF_seen_by_the_NMI_at_sti-hlt
	sti
	movl $ICR_NMI, APIC + APIC_ICR_LO	/* in the shadow of the STI */
t4b:	cli
	CHECK nmi_count, $8, NMI_sent_in_an_STI_shadow_count
	CHECK nmi_eip, $t4b, the_NMI_sent_in_an_STI_shadow_returned_to
	mov $msg_4, %esi
	call say_if_held

	call wait_a_while
	CHECK nmi_count, $8, NMIs_in_all
	CHECK nmi_inside, $0, NMIs_taken_inside_an_NMI_handler
	mov nmi_replays, %eax
	test %eax, %eax
	jz 1f
	mov $msg_replays, %esi
	call puts
	call puthex
	mov $msg_replays2, %esi
	call puts
1:	cmpl $0, failures
	jne 2f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
2:	mov $msg_failed, %esi
	call puts
	mov $1, %eax
	ret

/* pit_oneshot: PIT channel 0 in mode 0 (interrupt on terminal count, 8254 datasheet): one IRQ0
 * rising edge 10 ms from now */
pit_oneshot:
	push %eax
	mov $0x30, %al		/* channel 0, low then high byte, mode 0, binary */
	out %al, $PIT_CTL
	mov $PIT_10MS & 0xff, %al
	out %al, $PIT_CH0
	mov $PIT_10MS >> 8, %al
	out %al, $PIT_CH0
	pop %eax
	ret

/* wait_a_while: 64 PM timer reads, each an exit where keel could deliver what is pending */
wait_a_while:
	push %eax
	push %ecx
	push %edx
	mov $64, %ecx
	mov $PM_TMR, %dx
1:	in %dx, %eax
	loop 1b
	pop %edx
	pop %ecx
	pop %eax
	ret

/* The NMI handler (vector 2, interrupt gate). Its first instruction exits to keel (a PM timer
 * read): QEMU 7.2 TCG's SVM may deliver an event it injected a second time at the handler's first
 * instruction before the guest's next exit (docs/testing.md "The SMP guest"); such a repeat shows
 * as a return address at nmi_entry, is counted apart, and returns without IRET so that the NMI
 * blocking of the delivery it interrupted stays, as no second delivery happened on a CPU.
 * Stack: EAX, EDX, then EIP, CS, EFLAGS. */
nmi_entry:
	push %eax
	push %edx
	mov $PM_TMR, %dx
	in %dx, %eax
	cmpl $nmi_entry, 8(%esp)
	je nmi_replayed
	cmpl $0, nmi_depth
	je 1f
	incl nmi_inside			/* NMIs must be blocked until the IRET */
1:	incl nmi_depth
	incl nmi_count
	mov 8(%esp), %eax
	mov %eax, nmi_eip
	mov 16(%esp), %eax
	mov %eax, nmi_eflags
	cmpl $0, nmi_resend
	je 3f
	/* send nmi_resend NMIs to this CPU, then let interrupts in: the NMIs stay out */
	push %ecx
	mov nmi_resend, %ecx
	movl $0, nmi_resend
2:	movl $ICR_NMI, APIC + APIC_ICR_LO
	loop 2b
	sti
	call wait_a_while
	cli
	pop %ecx
3:	decl nmi_depth
	pop %edx
	pop %eax
	iret
nmi_replayed:
	incl nmi_replays
	pop %edx
	pop %eax
	popl replay_eip
	add $4, %esp		/* CS: the same */
	popf
	jmp *replay_eip

/* say_if_held: prints the line at esi when no check failed since failures was edi */
say_if_held:
	cmp failures, %edi
	jne 1f
	call puts
1:	ret

/* fail: prints "nmi: FAIL <esi> 0x<eax>" and counts it */
fail:
	incl failures
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	push %esi
	mov $msg_got, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	pop %esi
	ret

	.section .rodata
msg_start:	.asciz "nmi: NMIs to itself, inside a handler, at cli;hlt and sti;hlt\n"
msg_1:		.asciz "nmi: self NMIs with IF clear taken at once, two in a row both\n"
msg_2:		.asciz "nmi: NMIs blocked until the handler's IRET, one latched, taken right after it\n"
msg_3:		.asciz "nmi: an IOAPIC NMI woke cli;hlt\n"
msg_4:		.asciz "nmi: an IOAPIC NMI woke sti;hlt, an NMI in an STI shadow taken after it\n"
msg_replays:	.asciz "nmi: note: 0x"
msg_replays2:	.asciz " NMI deliveries repeated at the handler's first instruction (QEMU TCG's SVM repeats an injected event; no CPU does), not counted\n"
msg_fail:	.asciz "nmi: FAIL "
msg_got:	.asciz " 0x"
msg_nl:		.asciz "\n"
msg_done:	.asciz "nmi: every check held, exit code 0\n"
msg_failed:	.asciz "nmi: some checks failed, exit code 1\n"

	.data
	.align 4
apic_id:	.long 0
nmi_count:	.long 0
nmi_depth:	.long 0
nmi_inside:	.long 0
nmi_eip:	.long 0
nmi_eflags:	.long 0
nmi_resend:	.long 0
nmi_replays:	.long 0
replay_eip:	.long 0
failures:	.long 0
idtr:		.space 8
	.section .note.GNU-stack,"",@progbits
