/* triple-fault: loads an empty IDT and raises an exception (docs/testing.md "Hostile guests"):
 * #UD finds no gate, so #GP, then #DF, then shutdown. keel must stop this VM with "crashed:
 * triple fault" and go on (the next VM runs, keel powers off at the end). Exit code 4 if the
 * guest is somehow still running. */
	.text
	.code32
	.globl guest_main
guest_main:
	mov $msg_start, %esi
	call puts
	lidt empty_idt
	ud2
	mov $msg_still, %esi
	call puts
	mov $4, %eax
	ret

	.section .rodata
	.align 4
empty_idt:
	.word 0
	.long 0
msg_start:	.asciz "triple-fault: empty IDT, then ud2\n"
msg_still:	.asciz "triple-fault: FAIL still running, exit code 4\n"
	.section .note.GNU-stack,"",@progbits
