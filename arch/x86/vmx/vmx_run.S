/* int vmx_enter(struct vcpu_regs *regs, int launched)
 *
 * Loads the guest's general registers (all but RSP, which the VMCS holds; Intel SDM vol 3C,
 * 27.3) and executes VMLAUNCH (first entry) or VMRESUME. A VM exit lands at vmx_exit_entry (the
 * VMCS host RIP) with RSP at the host RSP written here; the guest's registers go back to *regs
 * and the function returns 0. If the entry itself fails (VMfailInvalid / VMfailValid), it returns
 * 1 with the guest registers unchanged in *regs.
 * struct vcpu_regs: gpr[16] in hardware order (rax 0x00 ... r15 0x78), then rip, rflags.
 * The mitigations (arch/x86/mitig_entry.inc): before the guest's registers are loaded, and on exit
 * once they are saved, before the first RET (a VM exit clears RFLAGS.IF: no handler runs first). */
#include "arch/x86/mitig_entry.inc"

	.text
	.globl vmx_enter
vmx_enter:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rdi		/* regs, found again at 0(%rsp) on exit */

	mov $0x6c14, %eax	/* VMCS_HOST_RSP */
	vmwrite %rsp, %rax
	jbe entry_failed
	MITIG_BEFORE_ENTRY

	test %esi, %esi
	mov 0x00(%rdi), %rax
	mov 0x08(%rdi), %rcx
	mov 0x10(%rdi), %rdx
	mov 0x18(%rdi), %rbx
	mov 0x28(%rdi), %rbp
	mov 0x30(%rdi), %rsi
	mov 0x40(%rdi), %r8
	mov 0x48(%rdi), %r9
	mov 0x50(%rdi), %r10
	mov 0x58(%rdi), %r11
	mov 0x60(%rdi), %r12
	mov 0x68(%rdi), %r13
	mov 0x70(%rdi), %r14
	mov 0x78(%rdi), %r15
	mov 0x38(%rdi), %rdi	/* mov leaves the flags of the test above alone */
	jnz 1f
	vmlaunch
	jmp entry_failed
1:	vmresume
entry_failed:
	pop %rdi
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	mov $1, %eax
	ret

	.globl vmx_exit_entry
vmx_exit_entry:
	push %rdi		/* the guest's rdi, while rdi finds regs */
	mov 8(%rsp), %rdi
	mov %rax, 0x00(%rdi)
	mov %rcx, 0x08(%rdi)
	mov %rdx, 0x10(%rdi)
	mov %rbx, 0x18(%rdi)
	mov %rbp, 0x28(%rdi)
	mov %rsi, 0x30(%rdi)
	mov %r8, 0x40(%rdi)
	mov %r9, 0x48(%rdi)
	mov %r10, 0x50(%rdi)
	mov %r11, 0x58(%rdi)
	mov %r12, 0x60(%rdi)
	mov %r13, 0x68(%rdi)
	mov %r14, 0x70(%rdi)
	mov %r15, 0x78(%rdi)
	pop %rax
	mov %rax, 0x38(%rdi)
	MITIG_AFTER_EXIT %rax
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	xor %eax, %eax
	ret

	.section .note.GNU-stack,"",@progbits
