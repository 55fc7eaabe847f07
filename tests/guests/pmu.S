/* pmu: host state a guest can reach although CPUID hides it, and the MSRs an OS touches without
 * asking CPUID first (docs/config.md "MSRs a guest sees"). The CPUID vendor decides what to want:
 *   1. AMD: PerfEvtSel0-3 and PerfCtr0-3 (0xC0010000-7) take a write of a non-zero value without
 *      #GP and read 0 after it; Intel: IA32_PERFEVTSEL0-1 (0x186-7) and IA32_PMC0-1 (0xC1-2) do;
 *   2. RDPMC reads 0 from the counters those MSRs are (0-3 on AMD, 0-1 on Intel) and #GPs for
 *      the next one, a fixed counter (ECX bit 30) and ECX = 0xFFFFFFFF;
 *   3. RDPRU (hidden in CPUID 8000_0008 EBX) and INVPCID (hidden in CPUID 7 EBX) raise #UD;
 *   4. microcode revision 0x8B takes the 0 Linux writes before reading it; HWCR and MCG_STATUS
 *      read 0 and take 0 back; MCG_CAP and PLATFORM_INFO read 0 and refuse writes.
 * Exit code 0 when every check held, 1 otherwise (3: an unexpected exception). */
#include "check.h"
	.set UD, 6
	.set GP, 13

/* NO_EXC vec, text, insn...: the instruction must not raise vec; when it does, "text 0x<ecx>"
 * is a failure and the guest goes on after it */
	.macro NO_EXC vec, text, insn:vararg
	movl $\vec, exc_expect
	movl $.Lnoexc_fault\@, exc_resume
	\insn
	jmp .Lnoexc_ok\@
.Lnoexc_fault\@:
	push %eax
	push %esi
	.pushsection .rodata
.Lnoexc_msg\@:
	.asciz "\text"
	.popsection
	mov $.Lnoexc_msg\@, %esi
	mov %ecx, %eax
	call fail
	pop %esi
	pop %eax
.Lnoexc_ok\@:
	movl $-1, exc_expect
	.endm

/* EXPECT_EXC vec, text, insn...: the instruction must raise vec; the guest goes on after it */
	.macro EXPECT_EXC vec, text, insn:vararg
	movl $\vec, exc_expect
	movl $.Lexc_ok\@, exc_resume
	\insn
	push %esi
	.pushsection .rodata
.Lexc_msg\@:
	.asciz "\text"
	.popsection
	mov $.Lexc_msg\@, %esi
	call fail
	pop %esi
.Lexc_ok\@:
	movl $-1, exc_expect
	.endm

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	/* vendor: "AuthenticAMD" or "HygonGenuine" (EBX "Auth" / "Hygo") */
	xor %eax, %eax
	cpuid
	cmp $0x68747541, %ebx
	je 1f
	cmp $0x6f677948, %ebx
	je 1f
	movl $2, nr_counters
	mov $msg_intel, %esi
	jmp 2f
1:	movl $1, amd
	movl $4, nr_counters
	mov $msg_amd, %esi
2:	call puts

	/* 1. the counters' MSRs: write a value, read 0 back */
	mov $amd_msrs, %ebx
	cmpl $0, amd
	jne 3f
	mov $intel_msrs, %ebx
3:	mov (%ebx), %ecx
	cmp $0xffffffff, %ecx
	je 4f
	mov $0x00530076, %eax	/* an event select's enable, OS, USR bits and an event */
	mov $0x12, %edx
	NO_EXC GP, "wrmsr of a performance counter MSR: #GP, MSR", wrmsr
	mov $0xdead, %eax
	mov $0xbeef, %edx
	NO_EXC GP, "rdmsr of a performance counter MSR: #GP, MSR", rdmsr
	or %edx, %eax
	CHECK %eax, $0, "a performance counter MSR reads non-zero"
	add $4, %ebx
	jmp 3b

	/* 2. RDPMC: the offered counters read 0 */
4:	xor %edi, %edi
41:	cmp nr_counters, %edi
	je 5f
	mov %edi, %ecx
	mov $0xdead, %eax
	mov $0xbeef, %edx
	NO_EXC GP, "rdpmc of an offered counter: #GP, counter", rdpmc
	or %edx, %eax
	CHECK %eax, $0, "rdpmc of an offered counter reads non-zero"
	inc %edi
	jmp 41b
	/* ... and the rest #GP */
5:	mov nr_counters, %ecx
	EXPECT_EXC GP, "rdpmc past the offered counters did not #GP", rdpmc
	mov $0x40000000, %ecx
	EXPECT_EXC GP, "rdpmc of fixed counter 0 did not #GP", rdpmc
	mov $0xffffffff, %ecx
	EXPECT_EXC GP, "rdpmc 0xffffffff did not #GP", rdpmc

	/* 3. RDPRU (0F 01 FD) and INVPCID: #UD */
	xor %ecx, %ecx
	EXPECT_EXC UD, "rdpru did not #UD", .byte 0x0f, 0x01, 0xfd
	mov $invpcid_desc, %eax
	mov $2, %ecx		/* type 2: every context, globals included */
	EXPECT_EXC UD, "invpcid did not #UD", invpcid (%eax), %ecx

	/* 4. MSRs an OS touches without asking CPUID */
	xor %eax, %eax
	xor %edx, %edx
	mov $0x8b, %ecx
	NO_EXC GP, "wrmsr of 0: #GP, MSR", wrmsr
	mov $0x17a, %ecx	/* MCG_STATUS */
	call read_zero_write_zero
	mov $0x179, %ecx	/* MCG_CAP: read-only */
	call read_zero_refuse_write
	mov $0xce, %ecx		/* PLATFORM_INFO: read-only */
	call read_zero_refuse_write
	cmpl $0, amd
	je 6f
	mov $0xc0010015, %ecx	/* HWCR */
	call read_zero_write_zero

6:	mov failures, %eax
	test %eax, %eax
	jnz 9f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
9:	mov $msg_failed, %esi
	call puts
	mov $1, %eax
	ret

/* ecx reads 0 and takes 0 back */
read_zero_write_zero:
	mov $0xdead, %eax
	NO_EXC GP, "rdmsr: #GP, MSR", rdmsr
	CHECK %eax, $0, "an MSR that should read 0 reads"
	xor %eax, %eax
	xor %edx, %edx
	NO_EXC GP, "wrmsr of 0: #GP, MSR", wrmsr
	ret

/* ecx reads 0; a write of 1 #GPs */
read_zero_refuse_write:
	mov $0xdead, %eax
	NO_EXC GP, "rdmsr: #GP, MSR", rdmsr
	CHECK %eax, $0, "an MSR that should read 0 reads"
	mov $1, %eax
	xor %edx, %edx
	movl $GP, exc_expect
	movl $1f, exc_resume
	wrmsr
	push %esi
	mov $msg_ro_write, %esi
	mov %ecx, %eax
	call fail
	pop %esi
1:	movl $-1, exc_expect
	ret

/* fail: "pmu: FAIL <esi> 0x<eax>", counted */
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

	.section .rodata
	.align 4
amd_msrs:	.long 0xc0010000, 0xc0010001, 0xc0010002, 0xc0010003
		.long 0xc0010004, 0xc0010005, 0xc0010006, 0xc0010007, 0xffffffff
intel_msrs:	.long 0x186, 0x187, 0xc1, 0xc2, 0xffffffff
msg_amd:	.asciz "pmu: AMD: PerfEvtSel/PerfCtr 0-3, RDPMC 0-3, RDPRU, INVPCID, unchecked MSRs\n"
msg_intel:	.asciz "pmu: Intel: PERFEVTSEL/PMC 0-1, RDPMC 0-1, RDPRU, INVPCID, unchecked MSRs\n"
msg_fail:	.asciz "pmu: FAIL "
msg_got:	.asciz " 0x"
msg_ro_write:	.asciz "a read-only MSR took a write"
msg_done:	.asciz "pmu: every check held, exit code 0\n"
msg_failed:	.asciz "pmu: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 16
invpcid_desc:	.quad 0, 0
amd:		.long 0
nr_counters:	.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits
