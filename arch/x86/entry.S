/* switch_stack_and_call(stack_top = rdi, fn = rsi, arg = rdx) */
	.text
	.globl switch_stack_and_call
switch_stack_and_call:
	mov %rdi, %rsp
	xor %ebp, %ebp		/* ends the backtrace chain here */
	mov %rdx, %rdi
	push $0			/* fake return address keeps the ABI's 16-byte alignment */
	jmp *%rsi
	.section .note.GNU-stack,"",@progbits
