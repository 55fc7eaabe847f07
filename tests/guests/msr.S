/* msr: a hostile guest that reads and writes MSRs keel does not offer (docs/testing.md "Hostile
 * guests"). A #GP handler counts each fault and skips the faulting RDMSR/WRMSR (2 bytes), so the
 * guest goes on through:
 *   1. the virtualization MSRs (IA32_FEATURE_CONTROL 0x3A, the VMX capability MSRs 0x480-0x491,
 *      AMD VM_CR, IGNNE, SMM_CTL, VM_HSAVE_PA 0xC0010114-0xC0010117): a read gives 0 or #GP,
 *      a write of a non-zero value #GPs (VM_HSAVE_PA must never accept an address), and
 *      EFER.SVME can neither be read as 1 nor set;
 *   2. EFER with each reserved bit set, PAT with a reserved memory type in each byte: #GP, and
 *      the register keeps its value;
 *   3. boundary indices and every MSR keel knows (core/msr_policy.c, the pass-through ones of the
 *      SVM backend): read, and the value read written back;
 *   4. a fixed-seed xorshift32 sweep of 4096 indices (half anywhere in 32 bits, half inside the
 *      three MSR ranges of the permission map): read; a faulting index must fault on a write
 *      too; a readable one takes its own value back.
 * Exit code 0 when every check held, 1 when one failed (the line before says which). */
	.set GP, 13
	.set SWEEP, 4096

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	movl $GP, exc_expect
	movl $2, exc_skip
	mov $msg_start, %esi
	call puts

	/* 1. the virtualization MSRs */
	mov $virt_msrs, %ebx
1:	mov (%ebx), %ecx
	cmp $0xffffffff, %ecx
	je 3f
	call try_rdmsr
	jc 2f			/* #GP: nothing exposed */
	or %edx, %eax
	jz 2f			/* reads as 0: nothing exposed */
	mov $msg_virt_exposed, %esi
	call fail_msr
2:	mov (%ebx), %ecx
	mov $0x00000001, %eax	/* e.g. VMX: lock bit; VM_CR: DPD; HSAVE: an address below */
	mov $0x00000000, %edx
	cmp $0xc0010117, %ecx
	jne 21f
	mov $0x00100000, %eax	/* VM_HSAVE_PA: a page of guest RAM */
21:	call try_wrmsr
	jc 22f
	mov $msg_virt_write, %esi
	call fail_msr
22:	add $4, %ebx
	jmp 1b

	/* EFER.SVME (bit 12): hidden on read, refused on write */
3:	mov $0xc0000080, %ecx
	call try_rdmsr
	jnc 31f
	mov $msg_efer_read, %esi
	call fail_msr
31:	mov %eax, efer_saved
	mov %edx, efer_saved+4
	test $0x1000, %eax
	jz 32f
	mov $msg_svme_seen, %esi
	call fail_msr

	/* 2. EFER: every reserved bit among 1-7, 9, 12, 13, 15-63 alone, on top of the value */
32:	xor %edi, %edi
4:	cmp $64, %edi
	je 5f
	mov $1, %eax
	mov %edi, %ecx
	bt %edi, efer_allowed
	jc 44f			/* SCE, LME, LMA, NXE, FFXSR: defined */
	xor %edx, %edx
	cmp $32, %edi
	jb 41f
	sub $32, %ecx
	shl %cl, %eax
	mov %eax, %edx
	xor %eax, %eax
	jmp 42f
41:	shl %cl, %eax
42:	or efer_saved, %eax
	or efer_saved+4, %edx
	mov $0xc0000080, %ecx
	call try_wrmsr
	jc 43f
	mov $msg_efer_rsvd, %esi
	mov %edi, %eax
	call fail_bit
43:	mov $0xc0000080, %ecx
	call try_rdmsr
	cmp efer_saved, %eax
	jne 45f
	cmp efer_saved+4, %edx
	je 44f
45:	mov $msg_efer_changed, %esi
	mov %edi, %eax
	call fail_bit
44:	inc %edi
	jmp 4b

	/* PAT: a reserved type (2, 3, 8, 0xff) in each of the 8 bytes */
5:	mov $0x277, %ecx
	call try_rdmsr
	mov %eax, pat_saved
	mov %edx, pat_saved+4
	xor %edi, %edi
51:	cmp $32, %edi
	je 6f
	mov %edi, %ecx
	and $7, %ecx		/* the byte */
	mov %edi, %ebx
	shr $3, %ebx
	movzbl pat_bad(%ebx), %ebx	/* the reserved type */
	shl $3, %ecx
	mov pat_saved, %eax
	mov pat_saved+4, %edx
	cmp $32, %ecx
	jae 52f
	mov $0xff, %esi
	shl %cl, %esi
	not %esi
	and %esi, %eax
	shl %cl, %ebx
	or %ebx, %eax
	jmp 53f
52:	sub $32, %ecx
	mov $0xff, %esi
	shl %cl, %esi
	not %esi
	and %esi, %edx
	shl %cl, %ebx
	or %ebx, %edx
53:	mov $0x277, %ecx
	call try_wrmsr
	jc 54f
	mov $msg_pat_rsvd, %esi
	mov %edi, %eax
	call fail_bit
54:	mov $0x277, %ecx
	call try_rdmsr
	cmp pat_saved, %eax
	jne 55f
	cmp pat_saved+4, %edx
	je 56f
55:	mov $msg_pat_changed, %esi
	mov %edi, %eax
	call fail_bit
56:	inc %edi
	jmp 51b
	/* a valid PAT (the power-on value) is taken */
6:	mov $0x00070406, %eax
	mov $0x00070406, %edx
	mov $0x277, %ecx
	call try_wrmsr
	jnc 61f
	mov $msg_pat_valid, %esi
	call fail_msr

	/* 3. boundary indices and the MSRs keel knows: read, write the value back */
61:	mov $known_msrs, %ebx
62:	mov (%ebx), %ecx
	cmp $0xffffffff, %ecx
	je 7f
	call probe_msr
	add $4, %ebx
	jmp 62b
	/* index 0xffffffff itself, the list's end marker */
7:	mov $0xffffffff, %ecx
	call probe_msr

	/* 4. the pseudo-random sweep */
	movl $0x2545f491, rand_state
	xor %edi, %edi
71:	cmp $SWEEP, %edi
	je 8f
	call rand
	mov %eax, %ecx
	test $1, %edi
	jz 73f			/* even: anywhere in 32 bits */
	and $0x1fff, %ecx	/* odd: inside a permission-map range */
	mov %edi, %eax
	shr $1, %eax
	and $3, %eax
	cmp $1, %eax
	jb 73f
	je 72f
	or $0xc0010000, %ecx
	jmp 73f
72:	or $0xc0000000, %ecx
73:	call probe_msr
	inc %edi
	jmp 71b

8:	mov $msg_counts, %esi
	call puts
	mov reads_ok, %eax
	call puthex
	mov $msg_counts2, %esi
	call puts
	mov reads_gp, %eax
	call puthex
	mov $msg_counts3, %esi
	call puts
	mov writes_gp, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	mov failed, %eax
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

/* try_rdmsr: RDMSR of ecx; CF set when it raised #GP (edx:eax then 0) */
try_rdmsr:
	push %esi
	mov exc_count, %esi
	xor %eax, %eax
	xor %edx, %edx
	rdmsr
	cmp exc_count, %esi	/* CF clear: equal; a fault made exc_count bigger: CF set */
	pop %esi
	ret

/* try_wrmsr: WRMSR of edx:eax to ecx; CF set when it raised #GP */
try_wrmsr:
	push %esi
	mov exc_count, %esi
	wrmsr
	cmp exc_count, %esi
	pop %esi
	ret

/* probe_msr: reads ecx; a faulting index must fault on a write too; a readable one gets its own
 * value back. EFER, PAT and the kvm-clock MSRs are written back as read (their own checks are
 * above), so nothing here moves guest memory. */
probe_msr:
	push %ebx
	mov %ecx, %ebx
	call try_rdmsr
	jc 1f
	incl reads_ok
	call try_wrmsr		/* the value read */
	jnc 2f
	incl writes_gp
	jmp 2f
1:	incl reads_gp
	call rand_value
	mov %ebx, %ecx
	call try_wrmsr
	jc 11f
	mov $msg_wr_after_gp, %esi
	call fail_msr
11:	incl writes_gp
2:	pop %ebx
	ret

rand_value:
	call rand
	mov %eax, %edx
	call rand
	ret

/* fail_msr: prints "msr: FAIL <esi> <ecx>" and notes the failure */
fail_msr:
	push %eax
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	mov %ecx, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	movl $1, failed
	pop %eax
	ret

/* fail_bit: the same with the bit or byte number in eax */
fail_bit:
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	movl $1, failed
	ret

	.section .rodata
	.align 4
/* EFER bits a guest may set: SCE 0, LME 8, LMA 10, NXE 11, FFXSR 14 (AMD APM vol 2, 3.1.7) */
efer_allowed:	.long 0x00004d01, 0
pat_bad:	.byte 2, 3, 8, 0xff
virt_msrs:
	.long 0x3a
	.long 0x480, 0x481, 0x482, 0x483, 0x484, 0x485, 0x486, 0x487, 0x488, 0x489
	.long 0x48a, 0x48b, 0x48c, 0x48d, 0x48e, 0x48f, 0x490, 0x491
	.long 0xc0010114, 0xc0010115, 0xc0010116, 0xc0010117, 0xc0010118
	.long 0xffffffff
known_msrs:
	/* boundaries */
	.long 0, 1, 0x1fff, 0x2000, 0x7fffffff, 0x80000000, 0xbfffffff, 0xc0000000
	.long 0xc0001fff, 0xc0002000, 0xc000ffff, 0xc0010000, 0xc0011fff, 0xc0012000
	.long 0xfffffffe, 0x40000000, 0x4b564d02, 0x4b564dff
	/* keel's own (core/msr_policy.c) */
	.long 0x10, 0x1b, 0x6e0, 0x1a0, 0xc0000080, 0x277, 0xc0000103
	.long 0x4b564d00, 0x4b564d01, 0x11, 0x12	/* kvm-clock new and old */
	.long 0x8b, 0x3a, 0xc0010015, 0xc0011029, 0xc0010114, 0x79, 0xc001001f, 0xc0010020
	/* the x2APIC range (#GP while the APIC is in xAPIC mode) */
	.long 0x800, 0x802, 0x803, 0x808, 0x80b, 0x830, 0x838, 0x83f, 0x8ff
	/* passed through by the SVM backend */
	.long 0xc0000100, 0xc0000101, 0xc0000102, 0xc0000081, 0xc0000082, 0xc0000083
	.long 0xc0000084, 0x174, 0x175, 0x176
	/* commonly probed by operating systems */
	.long 0x17, 0x2a, 0x8b, 0xce, 0xe7, 0xe8, 0xfe, 0x179, 0x17a, 0x19a, 0x19b, 0x1d9
	.long 0x200, 0x201, 0x250, 0x258, 0x2ff, 0x345, 0x38d, 0x38f, 0x400, 0x401, 0x402
	.long 0x4d0, 0x10a, 0x48, 0x49, 0xc0010010, 0xc0010058, 0xc0010140, 0xc0010141
	.long 0xc0011004, 0xc0011005, 0xc0011020, 0xc0011021, 0xc0011022, 0xc001102a
	.long 0xc0010000, 0xc0010004, 0xc0010060, 0xc0010064, 0xc0010299, 0xc0011003
	.long 0xffffffff

msg_start:	.asciz "msr: virtualization MSRs, EFER, PAT, known MSRs, 4096-index sweep\n"
msg_fail:	.asciz "msr: FAIL "
msg_virt_exposed: .asciz "a virtualization MSR reads non-zero: 0x"
msg_virt_write:	.asciz "a virtualization MSR took a non-zero write: 0x"
msg_efer_read:	.asciz "EFER read #GP: 0x"
msg_svme_seen:	.asciz "EFER.SVME reads as 1: 0x"
msg_efer_rsvd:	.asciz "EFER took a reserved bit, bit 0x"
msg_efer_changed: .asciz "EFER changed after a refused write, bit 0x"
msg_pat_rsvd:	.asciz "PAT took a reserved type, case 0x"
msg_pat_changed: .asciz "PAT changed after a refused write, case 0x"
msg_pat_valid:	.asciz "PAT refused its power-on value: 0x"
msg_wr_after_gp: .asciz "an MSR that #GPs on read took a write: 0x"
msg_counts:	.asciz "msr: reads ok 0x"
msg_counts2:	.asciz ", reads #GP 0x"
msg_counts3:	.asciz ", writes #GP 0x"
msg_done:	.asciz "msr: done, exit code 0\n"
msg_failed:	.asciz "msr: some checks failed, exit code 1\n"
msg_nl:		.asciz "\n"

	.data
	.align 8
efer_saved:	.quad 0
pat_saved:	.quad 0
reads_ok:	.long 0
reads_gp:	.long 0
writes_gp:	.long 0
failed:		.long 0
	.section .note.GNU-stack,"",@progbits
