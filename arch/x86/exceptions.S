/* Exception entry stubs: each pushes a uniform (error code, vector) pair, then the common path
 * saves the general registers as struct trap_frame (arch/x86/cpu_tables.h) and calls
 * exception_handler. Vectors 8, 10-14, 17, 21 push an error code themselves (Intel SDM vol 3,
 * 6.15); the others push a zero so the frame is the same. */
	.text

.macro STUB vec
	.align 16
stub_\vec:
	.if (\vec == 8) || (\vec >= 10 && \vec <= 14) || (\vec == 17) || (\vec == 21)
	.else
	pushq $0
	.endif
	pushq $\vec
	jmp exception_common
.endm

	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	STUB \v
	.endr

exception_common:
	pushq %rax
	pushq %rbx
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %rbp
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	cld
	movq %rsp, %rdi
	andq $-16, %rsp
	call exception_handler
1:	cli
	hlt
	jmp 1b

	.section .data.rel.ro, "aw"
	.align 8
	.globl exception_stubs
exception_stubs:
	.irp v, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
	.quad stub_\v
	.endr

	.section .note.GNU-stack,"",@progbits

/* Host interrupt entries: save the caller-saved registers, call the C handler, return. */
.macro IRQ_ENTRY name, handler
	.text
	.globl \name
	.align 16
\name:
	pushq %rax
	pushq %rcx
	pushq %rdx
	pushq %rsi
	pushq %rdi
	pushq %r8
	pushq %r9
	pushq %r10
	pushq %r11
	pushq %rbp
	movq %rsp, %rbp
	andq $-16, %rsp
	cld
	call \handler
	movq %rbp, %rsp
	popq %rbp
	popq %r11
	popq %r10
	popq %r9
	popq %r8
	popq %rdi
	popq %rsi
	popq %rdx
	popq %rcx
	popq %rax
	iretq
.endm

	IRQ_ENTRY host_timer_entry, host_timer_interrupt
	IRQ_ENTRY host_spurious_entry, host_spurious_interrupt
	IRQ_ENTRY host_wake_entry, host_wake_interrupt
	IRQ_ENTRY host_device_entry, host_device_interrupt
	/* HOST_PASSTHRU_VECTORS vectors of passed-through functions, one entry each */
	.irp n, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15
	IRQ_ENTRY host_passthru_entry_\n, host_passthru_interrupt_\n
	.endr
	.section .note.GNU-stack,"",@progbits
