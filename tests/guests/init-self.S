/* init-self: the guest puts every one of its processors, itself included, into the
 * wait-for-SIPI state (an INIT IPI to "all including self", SDM vol 3, 11.6.1), which is how an
 * OS can end without a power-off port. Nothing can start them again: keel must report it
 * (`vm NAME: every vCPU waits for a start-up IPI`) and stop the VM as a power-off, not leave it
 * idle for ever. */
	.set APIC, 0xfee00000
	.set APIC_SVR, 0xf0
	.set APIC_ICR_LO, 0x300
	.set APIC_ICR_HI, 0x310
	/* ICR (SDM vol 3, 11.6.1): INIT (101b) in bits 8-10, level assert (bit 14), destination
	 * shorthand "all including self" (10b) in bits 18-19 */
	.set ICR_INIT_ALL, (5 << 8) | (1 << 14) | (2 << 18)

	.text
	.code32
	.globl guest_main
guest_main:
	mov $msg_start, %esi
	call puts
	movl $0x1ff, APIC + APIC_SVR	/* software-enabled, spurious vector 0xff */
	movl $0, APIC + APIC_ICR_HI
	movl $ICR_INIT_ALL, APIC + APIC_ICR_LO
	/* the INIT takes this CPU at once: nothing below may run */
	mov $msg_after, %esi
	call puts
	mov $1, %eax
	ret

	.section .rodata
msg_start:	.asciz "init-self: INIT to all processors, this one included\n"
msg_after:	.asciz "init-self: FAIL still running after the INIT; exit code 1\n"
	.section .note.GNU-stack,"",@progbits
