/* mmio-fetch: jumps into guest-physical space that is not RAM (docs/testing.md "Hostile
 * guests"): by default the unclaimed MMIO hole at 0xC0000000; with "mode=apic" on the command
 * line the local APIC page 0xFEE00000; with "mode=beyond" the first page after the end of RAM.
 * There is nothing keel can fetch there: it must stop this VM with "crashed: instruction fetch
 * from MMIO" and nothing else. Exit code 4 if the jump ever comes back. */
	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	mov $0xc0000000, %ebx
	mov $mode_apic, %esi
	call cmdline_has
	jnz 1f
	mov $0xfee00000, %ebx
1:	mov $mode_beyond, %esi
	call cmdline_has
	jnz 2f
	mov mb_info, %eax
	mov 8(%eax), %ebx		/* mem_upper, KiB above 1 MiB */
	shl $10, %ebx
	add $0x100000, %ebx
2:	mov $msg_jump, %esi
	call puts
	mov %ebx, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	call *%ebx
	mov $msg_back, %esi
	call puts
	mov $4, %eax
	ret

	.section .rodata
mode_apic:	.asciz "mode=apic"
mode_beyond:	.asciz "mode=beyond"
msg_jump:	.asciz "mmio-fetch: calling 0x"
msg_back:	.asciz "mmio-fetch: FAIL the call came back, exit code 4\n"
msg_nl:		.asciz "\n"
	.section .note.GNU-stack,"",@progbits
