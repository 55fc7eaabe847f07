/* hello: the smallest test guest. Prints its command line and memory size from the Multiboot
 * information, then exits through the exit port with code 0. */
	.text
	.code32
	.globl guest_main
guest_main:
	mov $msg_hello, %esi
	call puts
	mov mb_info, %ebx
	/* flags bit 2: cmdline valid (Multiboot 0.6.96, 3.3) */
	testl $4, (%ebx)
	jz 1f
	mov $msg_cmdline, %esi
	call puts
	mov 16(%ebx), %esi
	call puts
	mov $msg_nl, %esi
	call puts
1:	testl $1, (%ebx)
	jz 2f
	mov $msg_mem, %esi
	call puts
	mov 8(%ebx), %eax	/* mem_upper, KiB above 1 MiB */
	call puthex
	mov $msg_nl, %esi
	call puts
2:	mov $msg_bye, %esi
	call puts
	xor %eax, %eax
	ret

	.section .rodata
msg_hello:	.asciz "hello from a keel test guest\n"
msg_cmdline:	.asciz "cmdline: "
msg_mem:	.asciz "mem_upper KiB: 0x"
msg_bye:	.asciz "hello: done, exit code 0\n"
msg_nl:		.asciz "\n"
	.section .note.GNU-stack,"",@progbits
