/* flood: a chatty VM and its quiet neighbour, one image, the role from the command line.
 *
 * "flood": writes ROUNDS times 64 KiB (1 MiB) of text (1024 lines of 64 bytes, each whole) to
 * COM1, each 64 KiB as one REP OUTSB, far faster than any serial port takes it, then exits with 0. keel must
 * neither stall its CPU neighbours on it nor let its lines tear; it drops what the host console
 * cannot take and says how much.
 * "counter": prints LINES numbered lines, with WORK CPUID exits between them (its progress needs
 * CPU time, which it only gets if the flood leaves it some), then exits with 0.
 * Run both in one keel.cfg with `pin = 0`: tests/e2e/console.sh. */
	.set ROUNDS, 16
	.set LINES, 16
	.set WORK, 1000
	.set COM1, 0x3f8

	.text
	.code32
	.globl guest_main
guest_main:
	mov $opt_flood, %esi
	call cmdline_has
	jz flood
	mov $opt_counter, %esi
	call cmdline_has
	jz counter
	mov $msg_role, %esi
	call puts
	mov $1, %eax
	ret

flood:
	mov $msg_flood, %esi
	call puts
	cld
	mov $ROUNDS, %ebx
1:	mov $text, %esi
	mov $(text_end - text), %ecx
	mov $COM1, %dx
	rep outsb
	/* the CPU leaves ECX 0 and ESI past the buffer; keel must too, however many exits the
	 * instruction took */
	test %ecx, %ecx
	jnz bad_regs
	cmp $text_end, %esi
	jne bad_regs
	dec %ebx
	jnz 1b
	mov $msg_flood_done, %esi
	call puts
	xor %eax, %eax
	ret
bad_regs:
	mov $msg_bad_regs, %esi
	call puts
	mov $1, %eax
	ret

counter:
	mov $1, %ebp		/* CPUID takes eax-edx */
2:	mov $WORK, %edi
3:	xor %eax, %eax
	xor %ecx, %ecx
	cpuid
	dec %edi
	jnz 3b
	mov $msg_line, %esi
	call puts
	mov %ebp, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	inc %ebp
	cmp $LINES, %ebp
	jbe 2b
	mov $msg_counter_done, %esi
	call puts
	xor %eax, %eax
	ret

	.section .rodata
opt_flood:	.asciz "flood"
opt_counter:	.asciz "counter"
msg_role:	.asciz "flood: FAIL the command line names no role (flood or counter)\n"
msg_flood:	.asciz "flood: flooding COM1\n"
msg_flood_done:	.asciz "flood: done, exit code 0\n"
msg_bad_regs:	.asciz "flood: FAIL REP OUTSB left ECX or ESI wrong\n"
msg_line:	.asciz "counter: line 0x"
msg_counter_done: .asciz "counter: done, exit code 0\n"
msg_nl:		.asciz "\n"

	.data
/* 64-byte lines: tests/e2e/console.sh matches every one it finds whole */
text:
	.rept 1024
	.ascii "flood: the quick brown fox jumps over the lazy dog 0123456789ab\n"
	.endr
text_end:
	.if text_end - text - 65536
	.error "flood lines must be 64 bytes"
	.endif
	.section .note.GNU-stack,"",@progbits
