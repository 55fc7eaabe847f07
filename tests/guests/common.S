/* Shared pieces of keel's test guests (CONVENTIONS.md "Test guests"): the Multiboot v1 header,
 * the entry that checks the boot state, COM1 output and the exit port.
 * Multiboot 0.6.96, 3.1.1: magic, flags, checksum; flags bit 1 asks for the memory map. */
	.set MB_MAGIC, 0x1BADB002
	.set MB_FLAGS, 0x00000003
	.set COM1, 0x3f8
	.set EXIT_PORT, 0xf4

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	mov $stack_top, %esp
	mov %ebx, mb_info
	cmp $0x2BADB002, %eax
	je 1f
	mov $msg_bad_magic, %esi
	call puts
	mov $2, %eax
	jmp exit
1:	call guest_main
	/* guest_main returns the exit code in eax */
	.globl exit
exit:
	mov $EXIT_PORT, %dx
	outl %eax, %dx
	/* the exit port stops the VM: reaching here is a keel bug */
	mov $msg_after_exit, %esi
	call puts
2:	cli
	hlt
	jmp 2b

/* puts: prints the NUL-terminated string at esi on COM1 */
	.globl puts
puts:
	push %eax
	push %edx
	mov $COM1, %dx
3:	lodsb
	test %al, %al
	jz 4f
	outb %al, %dx
	jmp 3b
4:	pop %edx
	pop %eax
	ret

/* puthex: prints eax as 8 hex digits */
	.globl puthex
puthex:
	push %eax
	push %ecx
	push %edx
	push %ebx
	mov %eax, %ebx
	mov $8, %ecx
5:	rol $4, %ebx
	mov %ebx, %eax
	and $0xf, %eax
	movb hexdigits(%eax), %al
	mov $COM1, %dx
	outb %al, %dx
	loop 5b
	pop %ebx
	pop %edx
	pop %ecx
	pop %eax
	ret

/* getc: the next byte typed at COM1 in al (polls LSR.DR, 16550 LSR bit 0) */
	.globl getc
getc:
	push %edx
	mov $COM1 + 5, %dx
6:	inb %dx, %al
	test $1, %al
	jz 6b
	mov $COM1, %dx
	inb %dx, %al
	pop %edx
	ret

/* gethex: eax = the hex number typed at COM1, up to the first byte that is not a hex digit
 * (Enter); at most 8 digits count */
	.globl gethex
gethex:
	push %ecx
	push %edx
	xor %edx, %edx
7:	call getc
	movzbl %al, %ecx
	sub $'0', %cl
	cmp $9, %cl
	jbe 8f
	or $0x20, %al			/* a-f, A-F */
	movzbl %al, %ecx
	sub $'a', %cl
	cmp $5, %cl
	ja 9f
	add $10, %cl
8:	shl $4, %edx
	or %ecx, %edx
	jmp 7b
9:	mov %edx, %eax
	pop %edx
	pop %ecx
	ret

/* ---- helpers of the hostile guests (docs/testing.md "Hostile guests") ------------------- */

/* idt_init: a 32-entry IDT of 32-bit interrupt gates (Intel SDM vol 3, 6.11) on the CS keel
 * entered us with. An exception whose vector equals exc_expect is counted (exc_count, exc_vec,
 * exc_err, exc_cr2) and the guest resumes at exc_resume when that is non-zero, else exc_skip bytes
 * after the faulting instruction; any other exception prints its vector, error code and EIP and
 * ends the guest with exit code 3. */
	.globl idt_init
idt_init:
	push %eax
	push %ecx
	push %edx
	push %ebx
	xor %ecx, %ecx
	mov %cs, %bx
6:	mov exc_stubs(,%ecx,4), %eax
	mov %ax, idt(,%ecx,8)
	mov %bx, idt+2(,%ecx,8)
	movw $0x8e00, idt+4(,%ecx,8)	/* present, DPL 0, 32-bit interrupt gate */
	shr $16, %eax
	mov %ax, idt+6(,%ecx,8)
	inc %ecx
	cmp $32, %ecx
	jb 6b
	lidt idt_desc
	pop %ebx
	pop %edx
	pop %ecx
	pop %eax
	ret

/* the CPU pushes an error code for vectors 8, 10-14, 17, 21, 29 and 30 (SDM vol 3, Table 6-1) */
	.macro exc_stub vec
exc_stub_\vec:
	.if (\vec == 8) || ((\vec >= 10) && (\vec <= 14)) || (\vec == 17) || (\vec == 21) || (\vec == 29) || (\vec == 30)
	.else
	push $0
	.endif
	push $\vec
	jmp exc_common
	.endm
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	exc_stub \v
	.endr

/* stack: vector, error code, EIP, CS, EFLAGS */
exc_common:
	push %eax
	mov 4(%esp), %eax
	cmp exc_expect, %eax
	jne 7f
	incl exc_count
	mov %eax, exc_vec
	mov 8(%esp), %eax
	mov %eax, exc_err
	mov %cr2, %eax
	mov %eax, exc_cr2
	mov exc_resume, %eax
	test %eax, %eax
	jz 8f
	mov %eax, 12(%esp)
	jmp 9f
8:	mov exc_skip, %eax
	add %eax, 12(%esp)
9:	pop %eax
	add $8, %esp
	iret
7:	mov $msg_exc, %esi
	call puts
	call puthex
	mov $msg_exc_err, %esi
	call puts
	mov 8(%esp), %eax
	call puthex
	mov $msg_exc_eip, %esi
	call puts
	mov 12(%esp), %eax
	call puthex
	mov $msg_nl_common, %esi
	call puts
	mov $3, %eax
	jmp exit

/* rand: the next number of a xorshift32 sequence (Marsaglia 2003) in eax; rand_state seeds it */
	.globl rand
rand:
	mov rand_state, %eax
	push %edx
	mov %eax, %edx
	shl $13, %edx
	xor %edx, %eax
	mov %eax, %edx
	shr $17, %edx
	xor %edx, %eax
	mov %eax, %edx
	shl $5, %edx
	xor %edx, %eax
	pop %edx
	mov %eax, rand_state
	ret

/* cmdline_find: edi = the byte just past the first occurrence of the word at esi on the
 * Multiboot command line; CF set (edi undefined) when the word is not there */
	.globl cmdline_find
cmdline_find:
	push %eax
	push %ebx
	push %ecx
	mov mb_info, %ebx
	testl $4, (%ebx)
	jz 13f
	mov 16(%ebx), %edi
10:	xor %ecx, %ecx
11:	movb (%esi,%ecx), %al
	test %al, %al
	jz 12f			/* the whole word matched */
	cmpb (%edi,%ecx), %al
	jne 14f
	inc %ecx
	jmp 11b
14:	cmpb $0, (%edi)
	je 13f
	inc %edi
	jmp 10b
12:	add %ecx, %edi
	clc
	jmp 16f
13:	stc
16:	pop %ecx
	pop %ebx
	pop %eax
	ret

/* cmdline_number: eax = the decimal number after the word at esi on the command line (e.g.
 * "seconds="); CF set when the word is not there or no digit follows */
	.globl cmdline_number
cmdline_number:
	push %ecx
	push %edx
	push %edi
	call cmdline_find
	jc 5f
	xor %eax, %eax		/* the digits */
	xor %ecx, %ecx
6:	movzbl (%edi), %edx
	sub $'0', %edx
	cmp $9, %edx
	ja 7f
	imul $10, %eax
	add %edx, %eax
	inc %edi
	inc %ecx
	jmp 6b
7:	test %ecx, %ecx
	jz 5f
	clc
	jmp 8f
5:	stc
8:	pop %edi
	pop %edx
	pop %ecx
	ret

/* cmdline_has: ZF set when the Multiboot command line holds the word at esi (as a substring) */
	.globl cmdline_has
cmdline_has:
	push %eax
	push %edi
	call cmdline_find
	sbb %eax, %eax		/* -1 when absent, 0 when there */
	test %eax, %eax
	pop %edi
	pop %eax
	ret

/* pm_read: the ACPI PM timer in eax: 24 bits at 3.579545 MHz at port 0x608, as keel's guest
 * FADT says (vdev/acpi_tables.h) */
	.globl pm_read
pm_read:
	push %edx
	mov $0x608, %dx
	in %dx, %eax
	and $0xffffff, %eax
	pop %edx
	ret

/* pae_enable: PAE paging (SDM vol 3, 4.4) with 2 MiB pages: linear 0-1 GiB identity mapped,
 * 3-4 GiB through pae_pd3 (empty: the guest fills it), 1-3 GiB not present. */
	.globl pae_enable
pae_enable:
	push %eax
	push %ecx
	xor %ecx, %ecx
15:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax		/* P, RW, PS */
	mov %eax, pae_pd0(,%ecx,8)
	movl $0, pae_pd0+4(,%ecx,8)
	inc %ecx
	cmp $512, %ecx
	jb 15b
	movl $pae_pd0+1, pae_pdpt
	movl $pae_pd3+1, pae_pdpt+24
	mov %cr4, %eax
	or $0x20, %eax		/* CR4.PAE */
	mov %eax, %cr4
	mov $pae_pdpt, %eax
	mov %eax, %cr3
	mov %cr0, %eax
	or $0x80000000, %eax	/* CR0.PG */
	mov %eax, %cr0
	jmp 16f
16:	pop %ecx
	pop %eax
	ret

/* pae_window: maps the 2 MiB page at edx:eax (2 MiB aligned) at linear PAE_WINDOW */
	.globl pae_window
	.set PAE_WINDOW, 0xc0000000
pae_window:
	push %eax
	or $0x83, %eax
	mov %eax, pae_pd3
	mov %edx, pae_pd3+4
	invlpg PAE_WINDOW
	pop %eax
	ret

/* ---- PCI configuration space (configuration mechanism #1, PCI Local Bus 3.0, 3.2.2.3.2) -----
 * CONFIG_ADDRESS at 0xCF8 (enable bit 31, bus 23:16, device 15:11, function 10:8, register
 * 7:2), then the dword at CONFIG_DATA 0xCFC. Each keeps every register but its result. */
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc

/* cfg_read: the config dword CONFIG_ADDRESS eax names, in eax */
	.globl cfg_read
cfg_read:
	push %edx
	mov $CFG_ADDR, %dx
	out %eax, %dx
	mov $CFG_DATA, %dx
	in %dx, %eax
	pop %edx
	ret

/* cfg_write: the config dword CONFIG_ADDRESS eax names := edx; eax and edx kept */
	.globl cfg_write
cfg_write:
	push %edx
	push %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	mov 4(%esp), %eax		/* the value, as pushed */
	mov $CFG_DATA, %dx
	out %eax, %dx
	pop %eax
	pop %edx
	ret

	.section .rodata
msg_exc:	.asciz "guest: unexpected exception 0x"
msg_exc_err:	.asciz " error 0x"
msg_exc_eip:	.asciz " at eip 0x"
msg_nl_common:	.asciz "\n"
	.align 4
exc_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.long exc_stub_\v
	.endr
idt_desc:
	.word 32 * 8 - 1
	.long idt

	.data
	.align 4
	.globl exc_expect, exc_skip, exc_resume, exc_count, exc_vec, exc_err, exc_cr2, rand_state
exc_expect:	.long -1
exc_skip:	.long 0
exc_resume:	.long 0
exc_count:	.long 0
exc_vec:	.long 0
exc_err:	.long 0
exc_cr2:	.long 0
rand_state:	.long 0x2545f491

	.section .rodata
hexdigits:	.ascii "0123456789abcdef"
msg_bad_magic:	.asciz "guest: bad multiboot magic in eax\n"
msg_after_exit:	.asciz "guest: still running after the exit port write\n"

	.bss
	.align 4096
	.globl pae_pd0, pae_pd3, pae_pdpt
pae_pd0:	.space 4096
pae_pd3:	.space 4096
pae_pdpt:	.space 32
	.align 8
idt:		.space 32 * 8
	.align 16
	.globl mb_info
mb_info:	.long 0
	.space 8192
stack_top:
	.section .note.GNU-stack,"",@progbits
