/* tpr: CR8 and the local APIC's task priority (docs/testing.md "The TPR guest"). The guest turns
 * on long mode itself (MOV CR8 exists only in 64-bit mode: SDM vol 3A, 11.8.6): PAE paging with
 * 2 MiB pages over 0-1 GiB and 3-4 GiB (the APIC page), a 64-bit code segment, a 64-bit IDT.
 * The command line picks the role:
 *
 * "coherence" (default): CR8 and the TPR are one register (SDM vol 3A, 11.8.6.1; AMD APM vol 2,
 * 16.6.4). CR8 = 5 reads 0x50 in the xAPIC TPR; TPR 0x7A reads 7 in CR8; CR8 with a bit above 3
 * #GPs (tried while an interrupt waits, when AMD-V intercepts CR8 writes too: QEMU 7.2 TCG lets
 * reserved bits through to V_TPR). The APIC timer's vector 0x50 (class 5) stays in the IRR and
 * out of the handler while CR8 = 6, and comes in within 16 instructions of CR8 = 4. In x2APIC
 * mode the TPR MSR 0x808 and CR8 are one register too. With IA32_APIC_BASE.EN clear,
 * CPUID.1:EDX.APIC reads 0 and the APIC page is unclaimed (a read gives all ones); set again,
 * both come back. Exit code 0 when every check held.
 *
 * "hog": CR8 = 15 and a loop that never exits to keel: on VT-x without CR8 exiting, the write
 * reached the physical TPR and masked every host interrupt on the CPU (keel's slice timer, kicks),
 * so a VM sharing the CPU never ran again and the shell could not stop the hog. With "ticks=N"
 * the loop ends after N million TSC ticks (exit code 0), else it runs until stopped.
 *
 * "victim": after "wait=N" ms of its PM timer, prints five numbered lines and exits with code 0
 * (it shares the hog's CPU). */
	.set APIC, 0xfee00000
	.set APIC_VER, 0x30
	.set APIC_TPR, 0x80
	.set APIC_EOI, 0xb0
	.set APIC_SVR, 0xf0
	.set APIC_IRR_50, 0x220		/* IRR bits 64-95: vector 0x50 is bit 16 */
	.set APIC_LVT_TIMER, 0x320
	.set APIC_TIMER_INIT, 0x380
	.set APIC_TIMER_DIV, 0x3e0
	.set TIMER_VEC, 0x50
	.set MSR_APIC_BASE, 0x1b
	.set MSR_X2APIC_TPR, 0x808
	.set MSR_EFER, 0xc0000080
	.set COM1, 0x3f8
	.set EXIT_PORT, 0xf4
	.set WAIT_BOUND, 50000000	/* a failure bound on polling loops, not a timing */

	.text
	.code32
	.globl guest_main
guest_main:
	mov $role_hog, %esi
	call cmdline_has
	jnz 1f
	movl $1, role
	mov $opt_ticks, %esi
	call cmdline_number
	jc 2f
	mov %eax, ticks_m
	jmp 2f
1:	mov $role_victim, %esi
	call cmdline_has
	jz victim
2:	/* page tables: 2 MiB pages, 0-1 GiB and 3-4 GiB identity mapped */
	xor %ecx, %ecx
3:	mov %ecx, %eax
	shl $21, %eax
	or $0x83, %eax			/* P, RW, PS */
	mov %eax, pd0(, %ecx, 8)
	add $0xc0000000, %eax
	mov %eax, pd3(, %ecx, 8)
	inc %ecx
	cmp $512, %ecx
	jb 3b
	movl $pdpt + 3, pml4
	movl $pd0 + 3, pdpt
	movl $pd3 + 3, pdpt + 3 * 8
	/* long mode (SDM vol 3A, 10.8.5): PAE, CR3, EFER.LME, CR0.PG, a 64-bit code segment */
	mov %cr4, %eax
	or $0x20, %eax
	mov %eax, %cr4
	mov $pml4, %eax
	mov %eax, %cr3
	mov $MSR_EFER, %ecx
	rdmsr
	or $0x100, %eax
	wrmsr
	mov %cr0, %eax
	or $0x80000000, %eax
	mov %eax, %cr0
	lgdt gdt64_desc
	ljmp $0x08, $long_entry

victim:
	/* "wait=N": N ms of the PM timer first, so the hog has had the CPU before the lines */
	mov $opt_wait, %esi
	call cmdline_number
	jc 2f
	imul $3580, %eax		/* PM timer ticks per ms */
	mov %eax, %ecx
	call pm_read
	mov %eax, %ebx
3:	call pm_read
	sub %ebx, %eax
	and $0xffffff, %eax
	cmp %ecx, %eax
	jb 3b
2:	mov $1, %ebx
1:	mov $msg_victim, %esi
	call puts
	mov %ebx, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	inc %ebx
	cmp $5, %ebx
	jbe 1b
	mov $msg_victim_done, %esi
	call puts
	xor %eax, %eax
	ret

/* ---- 64-bit mode ------------------------------------------------------------------------------ */
	.code64
long_entry:
	mov $APIC, %r12d		/* the APIC page, zero-extended (a disp32 would sign-extend) */
	mov $0x10, %ax
	mov %ax, %ds
	mov %ax, %es
	mov %ax, %ss
	lea idt64(%rip), %rdi
	lea gp_handler(%rip), %rax
	mov $13, %ecx
	call set_gate
	lea timer_handler(%rip), %rax
	mov $TIMER_VEC, %ecx
	call set_gate
	lidt idt64_desc(%rip)
	cmpl $1, role(%rip)
	je hog

	/* 1. CR8 writes show in the xAPIC TPR, TPR writes in CR8 */
	mov $5, %rax
	mov %rax, %cr8
	mov APIC_TPR(%r12), %eax
	mov $0x50, %edx
	lea chk_cr8_tpr(%rip), %rsi
	call check
	movl $0x7a, APIC_TPR(%r12)
	mov %cr8, %rax
	mov $7, %edx
	lea chk_tpr_cr8(%rip), %rsi
	call check

	/* 2. the TPR holds an interrupt back, and lowering CR8 lets it in at once */
	movl $0x1ff, APIC_SVR(%r12)
	movl $0xb, APIC_TIMER_DIV(%r12)	/* divide by 1 */
	movl $TIMER_VEC, APIC_LVT_TIMER(%r12)	/* one-shot */
	mov $6, %rax
	mov %rax, %cr8
	sti
	movl $1000, APIC_TIMER_INIT(%r12)
	mov $WAIT_BOUND, %ecx
1:	testl $1 << 16, APIC_IRR_50(%r12)
	jnz 2f
	dec %ecx
	jnz 1b
2:	mov APIC_IRR_50(%r12), %eax
	and $1 << 16, %eax
	mov $1 << 16, %edx
	lea chk_irr(%rip), %rsi
	call check
	mov timer_count(%rip), %eax
	xor %edx, %edx
	lea chk_held(%rip), %rsi
	call check
	/* a reserved bit (keel sees this write on both vendors now: an interrupt waits): #GP, and
	 * CR8 keeps its value */
	mov $0x10, %rax
	mov %rax, %cr8			/* 4 bytes: gp_handler skips them */
	mov gp_count(%rip), %eax
	mov $1, %edx
	lea chk_gp(%rip), %rsi
	call check
	mov %cr8, %rax
	mov $6, %edx
	lea chk_cr8_kept(%rip), %rsi
	call check
	mov timer_count(%rip), %eax
	xor %edx, %edx
	lea chk_held(%rip), %rsi
	call check
	mov $4, %rax
	mov %rax, %cr8
	.rept 16
	nop
	.endr
	mov timer_count(%rip), %eax
	mov $1, %edx
	lea chk_let_in(%rip), %rsi
	call check
	cli

	/* 3. x2APIC: the TPR MSR is CR8 too */
	mov $MSR_APIC_BASE, %ecx
	rdmsr
	or $0x400, %eax			/* EXTD */
	wrmsr
	mov $MSR_X2APIC_TPR, %ecx
	mov $0x30, %eax
	xor %edx, %edx
	wrmsr
	mov %cr8, %rax
	mov $3, %edx
	lea chk_x2_cr8(%rip), %rsi
	call check
	mov $9, %rax
	mov %rax, %cr8
	mov $MSR_X2APIC_TPR, %ecx
	rdmsr
	mov $0x90, %edx
	lea chk_x2_tpr(%rip), %rsi
	call check

	/* 4. IA32_APIC_BASE.EN clear: no APIC in CPUID, nothing at the APIC page */
	mov $MSR_APIC_BASE, %ecx
	rdmsr
	and $~0xc00, %eax		/* EN and EXTD: x2APIC to disabled is legal (11.12.5) */
	wrmsr
	mov $1, %eax
	cpuid
	mov %edx, %eax
	and $1 << 9, %eax
	xor %edx, %edx
	lea chk_cpuid_off(%rip), %rsi
	call check
	mov APIC_VER(%r12), %eax
	mov $0xffffffff, %edx
	lea chk_page_off(%rip), %rsi
	call check
	mov $MSR_APIC_BASE, %ecx
	rdmsr
	or $0x800, %eax
	wrmsr
	mov $1, %eax
	cpuid
	mov %edx, %eax
	and $1 << 9, %eax
	mov $1 << 9, %edx
	lea chk_cpuid_on(%rip), %rsi
	call check
	mov APIC_VER(%r12), %eax
	and $0xff, %eax
	mov $0x14, %edx
	lea chk_page_on(%rip), %rsi
	call check

	cmpl $0, failures(%rip)
	jne 9f
	lea msg_done(%rip), %rsi
	call puts64
	xor %eax, %eax
	jmp exit64
9:	lea msg_failed(%rip), %rsi
	call puts64
	mov $1, %eax
	jmp exit64

hog:
	lea msg_hog(%rip), %rsi
	call puts64
	mov $15, %rax
	mov %rax, %cr8
	/* IF set, though no interrupt can come in (CR8 = 15, nothing programmed): Bochs 2.7 makes no
	 * external-interrupt exit while a VT-x guest has IF clear (real CPUs do), which would hide
	 * what CR8 did to the host */
	sti
	mov ticks_m(%rip), %ebx
	imul $1000000, %rbx
	rdtsc
	shl $32, %rdx
	or %rax, %rdx
	mov %rdx, %rdi
	add %rbx, %rdi			/* the TSC to stop at */
1:	test %rbx, %rbx
	jz 1b				/* no ticks=: for ever, no exits */
	rdtsc
	shl $32, %rdx
	or %rdx, %rax
	cmp %rdi, %rax
	jb 1b
	lea msg_hog_done(%rip), %rsi
	call puts64
	xor %eax, %eax
	jmp exit64

/* check: eax (got) against edx (want), named by the string at rsi; a miss is printed and counted */
check:
	cmp %edx, %eax
	je 1f
	incl failures(%rip)
	push %rax
	push %rsi
	lea msg_fail(%rip), %rsi
	call puts64
	pop %rsi
	call puts64
	lea msg_got(%rip), %rsi
	call puts64
	pop %rax
	call puthex64
	lea msg_nl(%rip), %rsi
	call puts64
1:	ret

/* set_gate: a 64-bit interrupt gate for vector ecx to handler rax in the IDT at rdi */
set_gate:
	shl $4, %ecx
	add %rcx, %rdi
	mov %ax, (%rdi)
	movw $0x08, 2(%rdi)
	movw $0x8e00, 4(%rdi)		/* present, DPL 0, 64-bit interrupt gate */
	shr $16, %rax
	mov %ax, 6(%rdi)
	shr $16, %rax
	mov %eax, 8(%rdi)
	movl $0, 12(%rdi)
	sub %rcx, %rdi
	ret

/* #GP from MOV CR8 with a reserved bit: skip the 4-byte instruction */
gp_handler:
	incl gp_count(%rip)
	addq $4, 8(%rsp)		/* past the error code: RIP */
	add $8, %rsp
	iretq

timer_handler:
	incl timer_count(%rip)
	movl $0, APIC_EOI(%r12)
	iretq

puts64:
	push %rax
	push %rdx
	mov $COM1, %dx
1:	lodsb
	test %al, %al
	jz 2f
	outb %al, %dx
	jmp 1b
2:	pop %rdx
	pop %rax
	ret

/* puthex64: eax as 8 hex digits */
puthex64:
	push %rax
	push %rcx
	push %rdx
	push %rbx
	mov %eax, %ebx
	mov $8, %ecx
	mov $COM1, %dx
1:	rol $4, %ebx
	mov %ebx, %eax
	and $0xf, %eax
	lea hexdigits64(%rip), %rsi
	movb (%rsi, %rax), %al
	outb %al, %dx
	dec %ecx
	jnz 1b
	pop %rbx
	pop %rdx
	pop %rcx
	pop %rax
	ret

exit64:
	mov $EXIT_PORT, %dx
	out %eax, %dx
1:	cli
	hlt
	jmp 1b

	.section .rodata
	.align 8
gdt64:	.quad 0
	.quad 0x00af9a000000ffff		/* 0x08: 64-bit code (L set) */
	.quad 0x00cf92000000ffff		/* 0x10: data */
gdt64_end:
gdt64_desc:	.word gdt64_end - gdt64 - 1
		.long gdt64
idt64_desc:	.word 256 * 16 - 1
		.long idt64, 0
hexdigits64:	.ascii "0123456789abcdef"
role_hog:	.asciz "hog"
role_victim:	.asciz "victim"
opt_ticks:	.asciz "ticks="
opt_wait:	.asciz "wait="
msg_victim:	.asciz "victim: line 0x"
msg_victim_done: .asciz "victim: done; exit code 0\n"
msg_hog:	.asciz "hog: CR8 = 15, spinning without exits\n"
msg_hog_done:	.asciz "hog: spin over; exit code 0\n"
msg_fail:	.asciz "tpr: FAIL "
msg_got:	.asciz " 0x"
msg_nl:		.asciz "\n"
msg_done:	.asciz "tpr: CR8 and the TPR are one register; every check held; exit code 0\n"
msg_failed:	.asciz "tpr: some checks failed; exit code 1\n"
chk_cr8_tpr:	.asciz "xAPIC TPR after CR8 = 5"
chk_tpr_cr8:	.asciz "CR8 after TPR = 0x7a"
chk_gp:		.asciz "#GP count after CR8 = 0x10"
chk_cr8_kept:	.asciz "CR8 after the refused write"
chk_irr:	.asciz "timer vector 0x50 in the IRR behind CR8 = 6"
chk_held:	.asciz "timer interrupts taken while CR8 = 6"
chk_let_in:	.asciz "timer interrupts taken within 16 instructions of CR8 = 4"
chk_x2_cr8:	.asciz "CR8 after x2APIC TPR = 0x30"
chk_x2_tpr:	.asciz "x2APIC TPR after CR8 = 9"
chk_cpuid_off:	.asciz "CPUID.1:EDX.APIC with IA32_APIC_BASE.EN clear"
chk_page_off:	.asciz "APIC page read with the APIC disabled"
chk_cpuid_on:	.asciz "CPUID.1:EDX.APIC with the APIC enabled again"
chk_page_on:	.asciz "APIC version register enabled again"

	.data
	.align 4
role:		.long 0
ticks_m:	.long 0
failures:	.long 0
gp_count:	.long 0
timer_count:	.long 0

	.bss
	.align 4096
pml4:	.space 4096
pdpt:	.space 4096
pd0:	.space 4096
pd3:	.space 4096
idt64:	.space 256 * 16
	.section .note.GNU-stack,"",@progbits
