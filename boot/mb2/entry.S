/* keel.elf's first instructions. GRUB's multiboot2 command loads the ELF segments at their
 * physical addresses and jumps to the ELF entry in 32-bit protected mode with paging off,
 * EAX = 0x36D76289 and EBX = the boot information's physical address (Multiboot2 spec 1.0,
 * 3.2). This file only gets to 64-bit C: a stack, the magic check, page tables identity-mapping
 * the first 4 GiB with 2 MiB pages, PAE + EFER.LME/NXE + paging, a 64-bit GDT, then
 * mb2_main(EBX) (mb2_main.c), where everything else happens. */

#define MB2_HEADER_MAGIC 0xE85250D6
#define MB2_ARCH_I386 0
#define MB2_LOADER_MAGIC 0x36D76289
#define STACK_SIZE (64 * 1024)

#define CR0_PE (1 << 0)
#define CR0_MP (1 << 1)
#define CR0_ET (1 << 4)
#define CR0_NE (1 << 5)
#define CR0_PG (1 << 31)
#define CR4_PAE (1 << 5)
#define CR4_OSFXSR (1 << 9)
#define CR4_OSXMMEXCPT (1 << 10)
#define MSR_EFER 0xC0000080
#define EFER_LME (1 << 8)
#define EFER_NXE (1 << 11)

/* ---- the Multiboot2 header (3.1): 8-byte aligned, in the first 32 KiB of the file ---- */
	.section .mb2_header, "a"
	.balign 8
mb2_header:
	.long MB2_HEADER_MAGIC
	.long MB2_ARCH_I386
	.long mb2_header_end - mb2_header
	.long 0x100000000 - (MB2_HEADER_MAGIC + MB2_ARCH_I386 + (mb2_header_end - mb2_header))

	/* information request (3.1.4): command line, modules, memory map, ACPI. No framebuffer
	 * request and no framebuffer header tag (3.1.10): with either, GRUB 2.06 crashes under Bochs
	 * before it starts keel. GRUB still passes a framebuffer tag when it runs in a graphics mode
	 * with gfxpayload=keep, and keel then uses it. */
	.balign 8
info_request:
	.short 1, 0
	.long info_request_end - info_request
	.long 1, 3, 6, 14, 15
info_request_end:

	/* end tag */
	.balign 8
	.short 0, 0
	.long 8
mb2_header_end:

/* ---- 32-bit entry ---- */
	.section .text.mb2_entry, "ax"
	.code32
	.globl mb2_entry32
mb2_entry32:
	cli
	cld
	movl $mb2_stack_top, %esp
	cmpl $MB2_LOADER_MAGIC, %eax
	jne not_multiboot2
	movl %ebx, %edi			/* the information's address, to mb2_main */

	/* long mode (CPUID 0x80000001 EDX bit 29); remember NX (bit 20) for EFER.NXE */
	movl $0x80000000, %eax
	cpuid
	cmpl $0x80000001, %eax
	jb no_long_mode
	movl $0x80000001, %eax
	cpuid
	btl $29, %edx
	jnc no_long_mode
	movl %edx, %esi

	/* 4 page directories in a row: entry i maps i * 2 MiB, present + writable + 2 MiB page */
	xorl %ecx, %ecx
1:	movl %ecx, %eax
	shll $21, %eax
	orl $0x83, %eax
	movl %eax, mb2_pd(,%ecx,8)
	movl $0, mb2_pd+4(,%ecx,8)
	incl %ecx
	cmpl $4 * 512, %ecx
	jb 1b
	/* the page-directory-pointer table's first 4 entries, then the PML4's first */
	xorl %ecx, %ecx
2:	movl %ecx, %eax
	shll $12, %eax
	addl $mb2_pd + 0x3, %eax
	movl %eax, mb2_pdpt(,%ecx,8)
	movl $0, mb2_pdpt+4(,%ecx,8)
	incl %ecx
	cmpl $4, %ecx
	jb 2b
	movl $mb2_pdpt + 0x3, mb2_pml4
	movl $0, mb2_pml4+4

	/* the state UEFI would leave for x64 code: FPU/SSE usable, then long mode */
	movl $(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT), %eax
	movl %eax, %cr4
	movl $mb2_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $EFER_LME, %eax
	btl $20, %esi
	jnc 3f
	orl $EFER_NXE, %eax
3:	wrmsr
	movl $(CR0_PG | CR0_NE | CR0_ET | CR0_MP | CR0_PE), %eax
	movl %eax, %cr0
	lgdt mb2_gdt_ptr
	ljmp $0x08, $mb2_entry64

/* Without a Multiboot2 loader or a 64-bit CPU nothing else can report it: write to COM1. */
no_long_mode:
	movl $msg_no_lm, %esi
	jmp say
not_multiboot2:
	movl $msg_not_mb2, %esi
say:	movw $0x3f8 + 5, %dx		/* line status: wait for an empty transmitter */
4:	inb %dx, %al
	testb $0x20, %al
	jz 4b
	movw $0x3f8, %dx
	lodsb
	testb %al, %al
	jz 5f
	outb %al, %dx
	jmp say
5:	cli
	hlt
	jmp 5b

/* ---- 64-bit ---- */
	.code64
mb2_entry64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	xorw %ax, %ax
	movw %ax, %fs
	movw %ax, %gs
	leaq mb2_stack_top(%rip), %rsp
	xorl %ebp, %ebp			/* ends the backtrace chain here */
	movl %edi, %edi			/* zero-extends the information's address */
	call mb2_main
6:	cli
	hlt
	jmp 6b

	.section .rodata.mb2_entry, "a"
	.balign 8
mb2_gdt:
	.quad 0
	.quad 0x00AF9B000000FFFF	/* 0x08: 64-bit code, accessed */
	.quad 0x00CF93000000FFFF	/* 0x10: data, accessed (the CPU need not write it) */
mb2_gdt_end:
	.balign 8
	.short 0
mb2_gdt_ptr:
	.short mb2_gdt_end - mb2_gdt - 1
	.long mb2_gdt
msg_not_mb2:
	.asciz "keel.elf: not started by a Multiboot2 loader (EAX is not 0x36D76289); halting\r\n"
msg_no_lm:
	.asciz "keel.elf: this CPU has no 64-bit long mode; halting\r\n"

	.section .bss.mb2_entry, "aw", @nobits
	.balign 4096
mb2_pml4:
	.skip 4096
mb2_pdpt:
	.skip 4096
mb2_pd:
	.skip 4 * 4096
	/* keel's boot stack; its lowest page is the guard page keel unmaps (arch/x86/paging.c) */
	.globl mb2_stack_guard, mb2_stack_top
mb2_stack_guard:
	.skip 4096
	.skip STACK_SIZE
mb2_stack_top:

	.section .note.GNU-stack, "", @progbits
