/* smc-mmio: self-modifying code on the MMIO path (docs/testing.md "Hostile guests"). One 6-byte
 * instruction slot is rewritten before each of 128 runs with the next of 8 instructions that
 * touch device registers: different opcodes (load, store, store-immediate, zero-extending
 * load), sizes (1 or 4 bytes), base registers and devices (IOAPIC IOREGSEL/IOWIN, local APIC
 * TPR, an unclaimed page). keel has no decode assists: after each MMIO exit it fetches and
 * decodes the bytes now at RIP and checks that their operand is the faulting page, so each run
 * must have exactly the effect of the instruction that is there at that moment; a stale decode
 * would store to the wrong register or load the wrong value. Exit code 0 when every run did
 * what its instruction says, 1 otherwise. */
	.set IOAPIC, 0xfec00000
	.set TPR, 0xfee00080
	.set HOLE, 0xd0000000
	.set RUNS, 128

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	movl $0x10, IOAPIC		/* redirection entry 0, low half */
	mov IOAPIC + 0x10, %eax
	mov %eax, ioapic_redir0
	movl $1, IOAPIC			/* version */
	mov IOAPIC + 0x10, %eax
	mov %eax, ioapic_ver
	mov $msg_start, %esi
	call puts

run:	mov iter, %eax
	and $7, %eax
	mov %eax, variant
	/* rewrite the slot: 6 bytes of variant */
	lea variants(%eax,%eax,2), %esi
	add %esi, %esi
	sub $variants, %esi		/* esi = variants + 6 * variant */
	mov $smc_slot, %edi
	mov $6, %ecx
	rep movsb
	jmp 1f				/* a jump after the store into the code (SDM vol 3, 8.1.3) */
1:	/* the registers every variant may use, and the device state some expect */
	movl $1, IOAPIC			/* IOREGSEL = version */
	mov iter, %ecx
	shl $4, %ecx
	and $0xf0, %ecx			/* a TPR value that changes each run */
	mov %ecx, tpr_value
	xor $0x50, %ecx
	mov %ecx, TPR			/* TPR != tpr_value before the run */
	mov tpr_value, %ecx
	mov $IOAPIC, %ebx
	mov $IOAPIC + 0x10, %esi
	mov $TPR, %edi
	mov $HOLE, %ebp
	mov $0x10, %eax
	mov $0x5a5a5a5a, %edx
smc_slot:
	.byte 0x90, 0x90, 0x90, 0x90, 0x90, 0x90
	mov variant, %eax
	jmp *checks(,%eax,4)

	/* V0: mov %eax,(%ebx): IOREGSEL = 0x10, so IOWIN reads redirection entry 0 */
v0:	mov IOAPIC + 0x10, %eax
	cmp ioapic_redir0, %eax
	jmp done
	/* V1: mov (%esi),%edx: the version */
v1:	cmp ioapic_ver, %edx
	jmp done
	/* V2: mov %ecx,(%edi): TPR = tpr_value */
v2:	mov TPR, %eax
	cmp tpr_value, %eax
	jmp done
	/* V3: mov (%edi),%edx: TPR, still tpr_value ^ 0x50 */
v3:	mov tpr_value, %eax
	xor $0x50, %eax
	cmp %eax, %edx
	jmp done
	/* V4: mov 0(%ebp),%edx: an unclaimed page, all ones */
v4:	cmp $0xffffffff, %edx
	jmp done
	/* V5: movl $0x30,(%edi): TPR = 0x30 */
v5:	mov TPR, %eax
	cmp $0x30, %eax
	jmp done
	/* V6: mov %cl,(%edi): a 1-byte store, which keel's APIC drops (only aligned 32-bit stores
	 * reach a register, SDM vol 3, 11.4.1): TPR keeps tpr_value ^ 0x50 */
v6:	mov tpr_value, %eax
	xor $0x50, %eax
	cmp TPR, %eax
	jmp done
	/* V7: movzbl (%esi),%edx: the version's low byte */
v7:	movzbl ioapic_ver, %eax
	cmp %eax, %edx

done:	je 2f
	incl failures
	mov $msg_fail, %esi
	call puts
	mov iter, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
2:	incl iter
	cmpl $RUNS, iter
	jb run

	movl $0, TPR
	mov $msg_runs, %esi
	call puts
	mov iter, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	cmpl $0, failures
	jne 9f
	mov $msg_done, %esi
	call puts
	xor %eax, %eax
	ret
9:	mov $1, %eax
	ret

	.section .rodata
	.align 4
checks:	.long v0, v1, v2, v3, v4, v5, v6, v7
variants:
	.byte 0x89, 0x03, 0x90, 0x90, 0x90, 0x90	/* mov %eax,(%ebx) */
	.byte 0x8b, 0x16, 0x90, 0x90, 0x90, 0x90	/* mov (%esi),%edx */
	.byte 0x89, 0x0f, 0x90, 0x90, 0x90, 0x90	/* mov %ecx,(%edi) */
	.byte 0x8b, 0x17, 0x90, 0x90, 0x90, 0x90	/* mov (%edi),%edx */
	.byte 0x8b, 0x55, 0x00, 0x90, 0x90, 0x90	/* mov 0(%ebp),%edx */
	.byte 0xc7, 0x07, 0x30, 0x00, 0x00, 0x00	/* movl $0x30,(%edi) */
	.byte 0x88, 0x0f, 0x90, 0x90, 0x90, 0x90	/* mov %cl,(%edi) */
	.byte 0x0f, 0xb6, 0x16, 0x90, 0x90, 0x90	/* movzbl (%esi),%edx */
msg_start:	.asciz "smc-mmio: 128 runs of a 6-byte slot rewritten with 8 MMIO instructions\n"
msg_fail:	.asciz "smc-mmio: FAIL run 0x"
msg_runs:	.asciz "smc-mmio: runs 0x"
msg_done:	.asciz "smc-mmio: done, exit code 0\n"
msg_nl:		.asciz "\n"

	.data
	.align 4
iter:		.long 0
variant:	.long 0
tpr_value:	.long 0
ioapic_ver:	.long 0
ioapic_redir0:	.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits
