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

	.section .rodata
hexdigits:	.ascii "0123456789abcdef"
msg_bad_magic:	.asciz "guest: bad multiboot magic in eax\n"
msg_after_exit:	.asciz "guest: still running after the exit port write\n"

	.bss
	.align 16
	.globl mb_info
mb_info:	.long 0
	.space 8192
stack_top:
	.section .note.GNU-stack,"",@progbits
