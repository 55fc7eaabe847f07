/* realmode: the guest leaves protected mode for real mode and comes back, twice, as an
 * application processor's start-up code or a boot loader does; VT-x runs it as an unrestricted
 * guest, AMD-V as it is. The 16-bit code is copied to 0x7000 (CS = 0x0700); the way down is a
 * 16-bit protected-mode segment, CR0.PE cleared (paging is off), a far jump (Intel SDM vol 3,
 * 9.9.2). In real mode it: reads CR0 (PE clear, the rest as the guest wrote it), prints on COM1
 * with OUT and with REP OUTSB from DS = 0x0700 (the segment base counts), writes a word at
 * 0x1000:0x0010 (linear 0x10010), calls INT 0x40 through its own IVT entry at 0:0x100 (the
 * handler sees CS = 0x0700 pushed, returns a value in AX), runs CPUID and an IN from an unclaimed
 * port (both exit to keel in real mode), and an RDMSR of an MSR keel does not offer: the #GP comes
 * through the IVT's vector 13 with FLAGS, CS and IP pushed and no error code (a real-mode
 * exception has none; VT-x refuses an entry that delivers one, which ended the VM), and the handler
 * skips the RDMSR; then LGDT, CR0.PE, a far jump back to 32-bit code.
 * Protected mode checks what real mode recorded and prints again. Exit code 0 when every check
 * held, 1 otherwise (3: an unexpected exception). */
#include "check.h"
	.set RM_BASE, 0x7000
	.set RM_SEG, 0x0700
	.set INTVEC, 0x40
	.set GPVEC, 13
	.set NOMSR, 0x1234		/* an MSR index no CPU has and keel does not offer */
	.set NOPORT, 0x7000
	.set COM1, 0x3f8
#define RMOFF(x) ((x) - rm_start)
#define RMLIN(x) (RM_BASE + (x) - rm_start)

	.text
	.code32
	.globl guest_main
guest_main:
	cli
	call idt_init
	mov $msg_start, %esi
	call puts
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov %cr0, %eax
	mov %eax, cr0_start
	xor %eax, %eax
	cpuid
	mov %ebx, vendor
	/* the 16-bit code below 1 MiB, its IVT entry */
	mov $rm_start, %esi
	mov $RM_BASE, %edi
	mov $rm_end - rm_start, %ecx
	cld
	rep movsb
	movw $RMOFF(rm_int), INTVEC * 4
	movw $RM_SEG, INTVEC * 4 + 2
	movw $RMOFF(rm_gp), GPVEC * 4
	movw $RM_SEG, GPVEC * 4 + 2

round:
	movw $0, 0x10010
	movl $0, RMLIN(rm_cr0)
	movl $0, RMLIN(rm_in)
	mov %esp, saved_esp
	ljmp $0x18, $RMLIN(pm16)

pm_back:
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov saved_esp, %esp
	call idt_init
	mov $msg_back, %esi
	call puts
	mov cr0_start, %ecx
	and $~1, %ecx
	CHECK RMLIN(rm_cr0), %ecx, "cr0 read in real mode"
	mov %cr0, %eax
	CHECK %eax, cr0_start, "cr0 back in protected mode"
	movzwl RMLIN(rm_si), %eax
	CHECK %eax, $RMOFF(rm_msg2)+rm_msg2_len, "si after rep outsb in real mode"
	movzwl 0x10010, %eax
	CHECK %eax, $0xbeef, "the word written at 0x1000:0x0010"
	movzwl RMLIN(rm_int_ax), %eax
	CHECK %eax, $0x4321, "ax after int 0x40"
	movzwl RMLIN(rm_int_cs), %eax
	CHECK %eax, $RM_SEG, "cs pushed by int 0x40"
	movzwl RMLIN(rm_int_count), %eax
	mov rounds, %ecx
	inc %ecx
	CHECK %eax, %ecx, "int 0x40 handler runs"
	mov vendor, %ecx
	CHECK RMLIN(rm_cpuid_ebx), %ecx, "cpuid leaf 0 ebx in real mode"
	CHECK RMLIN(rm_in), $0xff, "in from an unclaimed port in real mode"
	movzwl RMLIN(rm_gp_count), %eax
	mov rounds, %ecx
	inc %ecx
	CHECK %eax, %ecx, "#GP of rdmsr in real mode taken"
	movzwl RMLIN(rm_gp_cs), %eax
	CHECK %eax, $RM_SEG, "cs pushed by the real-mode #GP (an error code in its place?)"
	movzwl RMLIN(rm_gp_ip), %eax
	CHECK %eax, $RMOFF(rm_rdmsr), "ip pushed by the real-mode #GP"
	incl rounds
	cmpl $2, rounds
	jb round

	cmpl $0, failures
	jne 9f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
9:	mov $msg_failed, %esi
	call puts
	mov $1, %eax
	ret

/* fail: prints "realmode: FAIL <esi> 0x<eax>" and counts it */
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

/* ---- copied to RM_BASE: 16-bit code, run at CS = 0x18 (16-bit protected mode), then in real
 * mode at CS = RM_SEG with offsets from rm_start ------------------------------------------- */
	.code16
rm_start:
pm16:
	mov $0x20, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %fs
	mov %ax, %gs
	mov %ax, %ss
	mov %cr0, %eax
	and $~1, %eax
	mov %eax, %cr0
	ljmp $RM_SEG, $RMOFF(rm_entry)
rm_entry:
	mov $RM_SEG, %ax
	mov %ax, %ds
	mov %ax, %es
	xor %ax, %ax
	mov %ax, %ss
	mov %ax, %fs
	mov %ax, %gs
	mov $0x6ff0, %sp
	lidt RMOFF(rm_idtr)
	mov %cr0, %eax
	mov %eax, RMOFF(rm_cr0)
	/* OUT, one byte at a time */
	mov $RMOFF(rm_msg), %si
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
	/* REP OUTSB from DS:SI, DS = RM_SEG */
2:	mov $RMOFF(rm_msg2), %si
	mov $rm_msg2_len, %cx
	rep outsb
	mov %si, RMOFF(rm_si)
	/* a word at 0x1000:0x0010 */
	mov $0x1000, %ax
	mov %ax, %es
	movw $0xbeef, %es:0x10
	mov $RM_SEG, %ax
	mov %ax, %es
	/* a software interrupt through the IVT */
	mov $0x1234, %ax
	int $INTVEC
	mov %ax, RMOFF(rm_int_ax)
	/* exits to keel in real mode */
	xor %eax, %eax
	cpuid
	mov %ebx, RMOFF(rm_cpuid_ebx)
	mov $NOPORT, %dx
	xor %eax, %eax
	inb %dx, %al
	mov %eax, RMOFF(rm_in)
	/* #GP in real mode: through IVT vector 13, no error code */
	mov $NOMSR, %ecx
rm_rdmsr:
	rdmsr
	/* back to protected mode */
	cli
	lgdtl RMOFF(rm_gdtr)
	mov %cr0, %eax
	or $1, %eax
	mov %eax, %cr0
	ljmpl $0x08, $pm_back

rm_int:
	incw %cs:RMOFF(rm_int_count)
	push %bp
	mov %sp, %bp
	mov 4(%bp), %bx		/* IP, CS, FLAGS above the saved BP */
	mov %bx, %cs:RMOFF(rm_int_cs)
	pop %bp
	mov $0x4321, %ax
	iret

/* #GP: FLAGS, CS, IP pushed (nothing else in real mode); returns past the 2-byte RDMSR */
rm_gp:
	incw %cs:RMOFF(rm_gp_count)
	push %bp
	mov %sp, %bp
	mov 2(%bp), %bx
	mov %bx, %cs:RMOFF(rm_gp_ip)
	mov 4(%bp), %bx
	mov %bx, %cs:RMOFF(rm_gp_cs)
	addw $2, 2(%bp)
	pop %bp
	iret

rm_msg:		.asciz "realmode: hello from real mode (out)\n"
rm_msg2:	.ascii "realmode: rep outsb in real mode\n"
	.set rm_msg2_len, . - rm_msg2
	.align 4
rm_gdtr:	.word gdt_end - gdt - 1
		.long gdt
rm_idtr:	.word 0x3ff
		.long 0
	.align 4
rm_cr0:		.long 0
rm_cpuid_ebx:	.long 0
rm_in:		.long 0
rm_si:		.word 0
rm_int_ax:	.word 0
rm_int_cs:	.word 0
rm_int_count:	.word 0
rm_gp_count:	.word 0
rm_gp_cs:	.word 0
rm_gp_ip:	.word 0
rm_end:
	.code32

	.section .rodata
	.align 8
/* null, 0x08 flat 32-bit code, 0x10 flat data, 0x18 16-bit code (base 0, 64 KiB), 0x20 16-bit
 * data (SDM vol 3, 3.4.5) */
gdt:	.quad 0
	.quad 0x00cf9a000000ffff
	.quad 0x00cf92000000ffff
	.quad 0x00009a000000ffff
	.quad 0x000092000000ffff
gdt_end:
gdt_desc:	.word gdt_end - gdt - 1
		.long gdt
msg_start:	.asciz "realmode: protected mode to real mode and back, twice\n"
msg_back:	.asciz "realmode: back in protected mode\n"
msg_fail:	.asciz "realmode: FAIL "
msg_got:	.asciz " 0x"
msg_done:	.asciz "realmode: done, exit code 0\n"
msg_failed:	.asciz "realmode: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
failures:	.long 0
rounds:		.long 0
saved_esp:	.long 0
cr0_start:	.long 0
vendor:		.long 0
	.section .note.GNU-stack,"",@progbits
