/* ports: a hostile guest that sweeps the I/O port space (docs/testing.md "Hostile guests").
 *
 * Default (no mode on the command line): every port 0-0xFFFF gets a 1-, 2- and 4-byte read and a
 * 1-, 2- and 4-byte write of a pattern, except the ports that end the VM or that the guest needs
 * (the exit port 0xF4, reset 0xCF9, the keyboard controller's command port 0x64, port A 0x92,
 * ACPI PM1a control 0x604-0x605, COM1 0x3F8-0x3FF); a wide access that starts below one of them
 * is part of the sweep (keel must not let it reach the next device). A read whose first port no
 * device of keel's platform claims must give all ones (CONVENTIONS.md "Unclaimed guest I/O").
 * Exit code 0 when it held for every port, 1 otherwise.
 *
 * With "mode=cf9", "mode=kbc", "mode=p92" or "mode=pm1" on the command line the guest instead
 * makes one write that resets or powers off the VM (0x06 to 0xCF9, command 0xFE to 0x64, bit 0 of
 * port 0x92, SLP_TYP=5|SLP_EN to PM1a control 0x604); exit code 4 if it is still running after. */
	.text
	.code32
	.globl guest_main
guest_main:
	mov $mode_cf9, %esi
	call cmdline_has
	jz do_cf9
	mov $mode_kbc, %esi
	call cmdline_has
	jz do_kbc
	mov $mode_p92, %esi
	call cmdline_has
	jz do_p92
	mov $mode_pm1, %esi
	call cmdline_has
	jz do_pm1

	mov $msg_start, %esi
	call puts
	xor %edi, %edi		/* the port */
1:	mov %edi, %eax
	call skipped
	jc 5f
	mov %edi, %edx
	mov $0x12345678, %eax
	inb %dx, %al
	mov %eax, %ebx
	mov $0x12345678, %eax
	inw %dx, %ax
	mov %eax, %ecx
	inl %dx, %eax
	/* unclaimed: all ones, and a 1- or 2-byte IN keeps the rest of EAX */
	push %eax
	mov %edi, %eax
	call claimed
	pop %eax
	jc 3f
	cmp $0x123456ff, %ebx
	jne 2f
	cmp $0x1234ffff, %ecx
	jne 2f
	cmp $0xffffffff, %eax
	je 3f
2:	call bad_read
3:	mov %edi, %eax
	imul $0x9e3779b1, %eax	/* a pattern that differs per port */
	outb %al, %dx
	outw %ax, %dx
	outl %eax, %dx
5:	inc %edi
	cmp $0x10000, %edi
	jb 1b

	mov $msg_swept, %esi
	call puts
	mov bad_ports, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	cmpl $0, bad_ports
	jne 9f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
9:	mov $1, %eax
	ret

/* bad_read: reports the port in edi and the three values read (ebx, ecx, eax), 8 at most */
bad_read:
	incl bad_ports
	cmpl $8, bad_ports
	ja 1f
	push %eax
	mov $msg_bad, %esi
	call puts
	mov %edi, %eax
	call puthex
	mov $msg_sp, %esi
	call puts
	mov %ebx, %eax
	call puthex
	mov $msg_sp, %esi
	call puts
	mov %ecx, %eax
	call puthex
	mov $msg_sp, %esi
	call puts
	pop %eax
	call puthex
	mov $msg_nl, %esi
	call puts
1:	ret

/* skipped: CF set when the port in eax must not be swept */
skipped:
	push %esi
	mov $skip_ranges, %esi
	jmp in_ranges

/* claimed: CF set when a device of keel's platform (vdev/platform.c) claims the port in eax */
claimed:
	push %esi
	mov $claimed_ranges, %esi
in_ranges:
1:	cmpl $0xffffffff, (%esi)
	je 3f
	cmp (%esi), %eax
	jb 2f
	cmp 4(%esi), %eax
	jbe 4f
2:	add $8, %esi
	jmp 1b
3:	pop %esi
	clc
	ret
4:	pop %esi
	stc
	ret

do_cf9:
	mov $msg_cf9, %esi
	call puts
	mov $0xcf9, %dx
	mov $0x06, %al
	outb %al, %dx
	jmp still_running
do_kbc:
	mov $msg_kbc, %esi
	call puts
	mov $0x64, %dx
	mov $0xfe, %al
	outb %al, %dx
	jmp still_running
do_p92:
	mov $msg_p92, %esi
	call puts
	mov $0x92, %dx
	inb %dx, %al
	or $1, %al
	outb %al, %dx
	jmp still_running
do_pm1:
	mov $msg_pm1, %esi
	call puts
	mov $0x604, %dx
	mov $(5 << 10) | (1 << 13), %ax	/* SLP_TYP = 5 (\_S5 in keel's DSDT), SLP_EN */
	outw %ax, %dx
still_running:
	mov $msg_still, %esi
	call puts
	mov $4, %eax
	ret

	.section .rodata
	.align 4
/* [first, last] pairs, ended by 0xffffffff */
skip_ranges:
	.long 0x64, 0x64, 0x92, 0x92, 0xf4, 0xf4, 0x3f8, 0x3ff, 0x604, 0x605, 0xcf9, 0xcf9
	.long 0xffffffff
claimed_ranges:
	.long 0x20, 0x21, 0x40, 0x43, 0x60, 0x61, 0x64, 0x64, 0x70, 0x71, 0x92, 0x92
	/* 0xCF8-0xCFF: PCI configuration (a dword at 0xCF8, data at 0xCFC) around reset 0xCF9 */
	.long 0xa0, 0xa1, 0xf4, 0xf4, 0x3f8, 0x3ff, 0x4d0, 0x4d1, 0x600, 0x60b, 0xcf8, 0xcff
	.long 0xffffffff
mode_cf9:	.asciz "mode=cf9"
mode_kbc:	.asciz "mode=kbc"
mode_p92:	.asciz "mode=p92"
mode_pm1:	.asciz "mode=pm1"
msg_start:	.asciz "ports: 1/2/4-byte reads and writes of every port 0-0xffff\n"
msg_swept:	.asciz "ports: swept; unclaimed ports not reading all ones: 0x"
msg_bad:	.asciz "ports: FAIL port, values read: 0x"
msg_sp:		.asciz " 0x"
msg_done:	.asciz "ports: done, exit code 0\n"
msg_cf9:	.asciz "ports: writing 0x06 to 0xcf9 (reset)\n"
msg_kbc:	.asciz "ports: writing 0xfe to 0x64 (reset)\n"
msg_p92:	.asciz "ports: setting bit 0 of port 0x92 (reset)\n"
msg_pm1:	.asciz "ports: writing SLP_TYP=5|SLP_EN to 0x604 (S5)\n"
msg_still:	.asciz "ports: FAIL still running, exit code 4\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
bad_ports:	.long 0
	.section .note.GNU-stack,"",@progbits
