/* void svm_vmrun(uint64_t vmcb_pa, struct vcpu_regs *regs, uint64_t host_vmcb_pa,
 *                uint64_t tcg_dr7)
 *
 * Enters the guest whose VMCB is at vmcb_pa. VMRUN itself loads and saves RAX, RSP, RIP and
 * RFLAGS through the VMCB; the other general registers are ours to move (AMD APM vol 2, 15.5).
 * VMLOAD/VMSAVE move the guest's FS, GS, TR, LDTR, KernelGSBase, STAR/LSTAR/CSTAR/SFMASK and
 * SYSENTER MSRs; keel's own copies come back from the host VMCB. GIF is cleared around the
 * switch so nothing interrupts a half-switched CPU; RFLAGS.IF is set for the guest's time, so a
 * host interrupt (keel's timer) ends it with an INTR exit (AMD APM vol 2, 15.21.1).
 * struct vcpu_regs: gpr[16] in hardware order (rax 0x00 ... r15 0x78), then rip, rflags.
 * The mitigations (arch/x86/mitig_entry.inc) run with keel's GS base: before the guest's VMLOAD, and
 * after keel's own, still under GIF=0, so no interrupt handler returns before the RSB fill.
 * tcg_dr7, when not 0, goes to DR7 right before the guest's registers are loaded, and a DR7 that
 * enables nothing replaces it right after the exit (QEMU's TCG: arch/x86/svm/tcg_dr7.h); in
 * between, keel reads only *regs, and VMLOAD, VMRUN and VMSAVE reach memory by physical address. */
#include "arch/x86/mitig_entry.inc"

	.text
	.globl svm_vmrun
svm_vmrun:
	push %rbp
	push %rbx
	push %r12
	push %r13
	push %r14
	push %r15
	push %rsi		/* regs */
	push %rdx		/* host VMCB */
	mov %rcx, %r8		/* tcg_dr7: MITIG_BEFORE_ENTRY takes rcx */

	clgi
	sti			/* host interrupts exit the guest (INTR intercept); GIF holds them now */
	MITIG_BEFORE_ENTRY
	test %r8, %r8
	jz 1f
	mov %r8, %dr7
1:	test %r8, %r8		/* ZF for the jump below (MOV DR leaves the flags undefined); the */
	mov %rdi, %rax		/* MOVs and VMLOAD up to it keep them */
	mov 0x08(%rsi), %rcx
	mov 0x10(%rsi), %rdx
	mov 0x18(%rsi), %rbx
	mov 0x28(%rsi), %rbp
	mov 0x38(%rsi), %rdi
	mov 0x40(%rsi), %r8
	mov 0x48(%rsi), %r9
	mov 0x50(%rsi), %r10
	mov 0x58(%rsi), %r11
	mov 0x60(%rsi), %r12
	mov 0x68(%rsi), %r13
	mov 0x70(%rsi), %r14
	mov 0x78(%rsi), %r15
	mov 0x30(%rsi), %rsi
	vmload %rax
	jnz .Lvmrun_tcg_dr7
	vmrun %rax
	/* where VMRUN tells the host save area keel goes on (svm.c checks for it in a VMCB) */
	.globl svm_vmrun_host_rip
svm_vmrun_host_rip:
	vmsave %rax
.Lsave_guest:
	push %rsi		/* the guest's rsi, while rsi finds regs */
	mov 0x10(%rsp), %rsi
	mov %rcx, 0x08(%rsi)
	mov %rdx, 0x10(%rsi)
	mov %rbx, 0x18(%rsi)
	mov %rbp, 0x28(%rsi)
	mov %rdi, 0x38(%rsi)
	mov %r8, 0x40(%rsi)
	mov %r9, 0x48(%rsi)
	mov %r10, 0x50(%rsi)
	mov %r11, 0x58(%rsi)
	mov %r12, 0x60(%rsi)
	mov %r13, 0x68(%rsi)
	mov %r14, 0x70(%rsi)
	mov %r15, 0x78(%rsi)
	pop %rcx
	mov %rcx, 0x30(%rsi)

	pop %rax		/* host VMCB: keel's TR, FS, GS ... */
	vmload %rax
	MITIG_AFTER_EXIT %rax
	cli			/* a pending host interrupt waits for keel's next sti */
	stgi
	add $8, %rsp
	pop %r15
	pop %r14
	pop %r13
	pop %r12
	pop %rbx
	pop %rbp
	ret

	/* The guest's breakpoints were armed: after the exit DR7 holds tcg_dr7 again (the host
	 * save area's). A DR7 that enables nothing and has the other GE removes each of them under
	 * the types it was added with (QEMU's cpu_x86_update_dr7 then drops all four). RAX is free
	 * once VMSAVE has run: the guest's RAX is in the VMCB, keel's VMCB comes off the stack. */
.Lvmrun_tcg_dr7:
	vmrun %rax
	.globl svm_vmrun_tcg_dr7_host_rip
svm_vmrun_tcg_dr7_host_rip:
	vmsave %rax
	mov %dr7, %rax
	and $0x200, %eax
	xor $0x600, %eax	/* bit 10 and the GE tcg_dr7 did not have */
	mov %rax, %dr7
	jmp .Lsave_guest
	.globl svm_vmrun_end
svm_vmrun_end:

/* void svm_vmsave(uint64_t pa) */
	.globl svm_vmsave
svm_vmsave:
	mov %rdi, %rax
	vmsave %rax
	ret

	.section .note.GNU-stack,"",@progbits
