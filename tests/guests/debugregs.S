/* debugregs: a guest's debug registers are its own and its hardware breakpoints work
 * (docs/testing.md "Debug registers"). The command line picks the role:
 *
 * "writer": puts values of its own, drawn at run time, in DR0-DR3 (0x57xxxxxx), sets DR6's B0-B3
 * and gives DR7 type and length bits with no breakpoint enabled (DR7 = 0x55550700), then checks
 * that all six still hold them, 1024 times per round for "rounds=N" rounds (default 4096); each
 * round ends with a CPUID and a PM timer read, two exits to keel. Exit code 0 when they held.
 *
 * "reader": puts its own values in DR0 and DR1 (0x5exxxxxx) and leaves the rest as reset left
 * them, then checks all six again and again, each check followed by a PM timer read, until it
 * has been descheduled 4 times (a gap of more than 2 ms between two reads: another vCPU had the
 * CPU for its slice). Beside a writer time-sliced on the same CPU it would see the writer's
 * values if keel did not switch the debug registers. Exit code 0 when it saw only its own.
 *
 * "breakpoints": an execution breakpoint on bp_target (DR0) and a 4-byte data-write breakpoint
 * on `watched` (DR1), both enabled in DR7 (Intel SDM vol 3, 18.2.4; AMD APM vol 2, 13.1.1.5);
 * #DB goes to its own handler, which records DR6 and the EIP, clears DR6 and returns with RF set
 * (so the faulting instruction runs). Each round calls bp_target (one fault #DB, DR6.B0, EIP at
 * bp_target, the instruction there ran once), stores to `watched` (one trap #DB, DR6.B1, EIP
 * after the store), reads it (no #DB), checks DR0, DR1, DR7 and DR6, and exits to keel three
 * ways (CPUID, OUT to the UART's scratch register, a PM timer read). 64 rounds, and with
 * "sliced" on the command line as many more as it takes to be descheduled 4 times. Then it
 * disarms DR7 and checks that bp_target no longer fires. Exit code 0 when every check held.
 *
 * A failed check prints "ROLE: FAIL ..." and exits with 1; an unexpected exception exits with 3
 * (common.S), an unexpected #DB in the writer or reader with 1. */
	.set PM_GAP, 7159		/* 2 ms of the 3.579545 MHz PM timer */
	.set WANT_GAPS, 4
	.set MAX_CHECKS, 0x40000		/* the reader's bound: 4 deschedules never came */
	.set BP_ROUNDS, 64
	.set MAX_ROUNDS, 0x10000
	.set WRITER_ROUNDS, 4096
	.set DR6_RESET, 0xffff0ff0
	.set DR6_BITS, 0xe00f		/* B0-B3, BD, BS, BT: what a #DB or a MOV sets (SDM 18.2.3) */
	.set DR7_RESET, 0x400
	.set DR7_WRITER, 0x55550700	/* R/W0-3 = 01, LEN0-3 = 01, LE, GE; nothing enabled */
	/* L0 with R/W0 = 00 (execution), L1 with R/W1 = 01 (writes) and LEN1 = 11 (4 bytes), LE,
	 * GE (SDM 18.2.4) */
	.set DR7_BP, 0x00d00705
	.set UART_SCR, 0x3ff

/* WANT GOT, WANT, MSG: unless GOT equals WANT (cmp operands: one may be memory, WANT may be an
 * immediate), prints the role's FAIL line with the string at MSG and GOT, and exits with 1 */
	.macro WANT got, want, msg
	cmpl \want, \got
	je .Lwant_ok\@
	mov \got, %eax
	mov $\msg, %esi
	jmp fail
.Lwant_ok\@:
	.endm

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	/* vector 1 to db_handler: its gate in the IDT idt_init loaded (offset in bytes 0-1, 6-7) */
	sidt idtr_buf
	mov idtr_buf+2, %ebx
	mov $db_handler, %eax
	mov %ax, 8(%ebx)
	shr $16, %eax
	mov %ax, 14(%ebx)
	rdtsc
	xor %edx, %eax
	or $1, %eax		/* xorshift32 needs a non-zero state */
	mov %eax, rand_state
	call pm_read
	mov %eax, pm_last
	mov $role_writer, %esi
	call cmdline_has
	jz writer
	mov $role_reader, %esi
	call cmdline_has
	jz reader
	mov $role_bp, %esi
	call cmdline_has
	jz breakpoints
	mov $msg_no_role, %esi
	call puts
	mov $2, %eax
	ret

/* ---- writer ---------------------------------------------------------------------------------- */
writer:
	movl $role_writer, role_name
	call rand
	and $0x000ffff0, %eax
	or $0x57000000, %eax
	xor %ecx, %ecx
1:	mov %ecx, %edx		/* own[i] = base with i in bits 20-21 */
	shl $20, %edx
	xor %eax, %edx
	mov %edx, own(,%ecx,4)
	inc %ecx
	cmp $4, %ecx
	jb 1b
	movl $0xf, own_dr6
	movl $DR7_WRITER, own_dr7
	mov own, %eax
	mov %eax, %dr0
	mov own+4, %eax
	mov %eax, %dr1
	mov own+8, %eax
	mov %eax, %dr2
	mov own+12, %eax
	mov %eax, %dr3
	mov $DR6_RESET | 0xf, %eax
	mov %eax, %dr6
	mov $DR7_WRITER, %eax
	mov %eax, %dr7
	mov $msg_w_armed, %esi
	call puts
	call print_own
	movl $WRITER_ROUNDS, rounds_want
	mov $opt_rounds, %esi
	call cmdline_number
	jc 2f
	mov %eax, rounds_want
2:	mov $msg_w_rounds, %esi
	call puts
	mov rounds_want, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

3:	mov $1024, %edi
4:	call check_own
	dec %edi
	jnz 4b
	xor %eax, %eax
	cpuid
	call gap_tick
	incl rounds
	mov rounds, %eax
	cmp rounds_want, %eax
	jb 3b
	mov $msg_w_done, %esi
	call puts
	mov rounds, %eax
	shl $10, %eax
	call puthex
	mov $msg_w_gaps, %esi
	call puts
	mov gaps, %eax
	call puthex
	mov $msg_exit0, %esi
	call puts
	xor %eax, %eax
	ret

/* ---- reader ---------------------------------------------------------------------------------- */
reader:
	movl $role_reader, role_name
	call rand
	and $0x000ffff0, %eax
	or $0x5e000000, %eax
	mov %eax, own
	mov %eax, %dr0
	xor $0x00100000, %eax
	mov %eax, own+4
	mov %eax, %dr1
	movl $0, own_dr6	/* DR2, DR3 as reset left them: 0 */
	movl $DR7_RESET, own_dr7
	mov $msg_r_checking, %esi
	call puts
	call print_own
	xor %edi, %edi
1:	call check_own
	call gap_tick
	inc %edi
	cmpl $WANT_GAPS, gaps
	jae 2f
	cmp $MAX_CHECKS, %edi
	jb 1b
	mov gaps, %eax
	mov $msg_too_few_gaps, %esi
	jmp fail
2:	mov $msg_r_done, %esi
	call puts
	mov %edi, %eax
	call puthex
	mov $msg_r_gaps, %esi
	call puts
	mov gaps, %eax
	call puthex
	mov $msg_exit0, %esi
	call puts
	xor %eax, %eax
	ret

/* check_own: DR0-DR3 and DR7 hold own[], own_dr7, DR6's B0-B3, BD, BS, BT hold own_dr6, and no
 * #DB came; else the FAIL line (clobbers eax and esi only when it does not return) */
check_own:
	push %ecx
	push %edx
	mov %dr0, %edx
	WANT %edx, own, msg_dr0
	mov %dr1, %edx
	WANT %edx, own+4, msg_dr1
	mov %dr2, %edx
	WANT %edx, own+8, msg_dr2
	mov %dr3, %edx
	WANT %edx, own+12, msg_dr3
	mov %dr6, %edx
	and $DR6_BITS, %edx
	WANT %edx, own_dr6, msg_dr6
	mov %dr7, %edx
	WANT %edx, own_dr7, msg_dr7
	mov db_count, %edx
	WANT %edx, db_want, msg_db_count
	pop %edx
	pop %ecx
	ret

/* ---- breakpoints ----------------------------------------------------------------------------- */
breakpoints:
	movl $role_bp, role_name
	movl $bp_target, own
	movl $watched, own+4
	movl $0, own_dr6
	movl $DR7_BP, own_dr7
	mov $bp_target, %eax
	mov %eax, %dr0
	mov $watched, %eax
	mov %eax, %dr1
	mov $DR7_BP, %eax
	mov %eax, %dr7
	mov $opt_sliced, %esi
	call cmdline_has
	jnz 1f
	movl $WANT_GAPS, gaps_want
1:	mov $msg_b_armed, %esi
	call puts

round:
	mov db_count, %ebx
	xor %ecx, %ecx
	call bp_target
	inc %ebx
	WANT db_count, %ebx, msg_exec_count
	WANT %ecx, $1, msg_exec_ran
	mov db_dr6, %eax
	and $DR6_BITS, %eax
	WANT %eax, $1, msg_exec_dr6
	WANT db_eip, $bp_target, msg_exec_eip
	call rand
	mov %eax, %edx
	mov %edx, watched
after_store:
	inc %ebx
	WANT db_count, %ebx, msg_data_count
	mov db_dr6, %eax
	and $DR6_BITS, %eax
	WANT %eax, $2, msg_data_dr6
	WANT db_eip, $after_store, msg_data_eip
	WANT watched, %edx, msg_data_value
	mov watched, %eax	/* a read: R/W1 = 01 watches writes only */
	WANT db_count, %ebx, msg_read_fired
	mov %ebx, db_want
	call check_own
	xor %eax, %eax
	cpuid
	mov $UART_SCR, %dx
	mov $0x5a, %al
	out %al, %dx
	call gap_tick
	incl rounds
	cmpl $BP_ROUNDS, rounds
	jb round
	mov gaps, %eax
	cmp gaps_want, %eax
	jae 2f
	cmpl $MAX_ROUNDS, rounds
	jb round
	mov $msg_too_few_gaps, %esi
	jmp fail

2:	/* disarmed, bp_target runs without a #DB */
	mov $DR7_RESET, %eax
	mov %eax, %dr7
	mov db_count, %ebx
	call bp_target
	WANT db_count, %ebx, msg_disarmed_fired
	mov $msg_b_done, %esi
	call puts
	mov rounds, %eax
	call puthex
	mov $msg_b_done2, %esi
	call puts
	mov gaps, %eax
	call puthex
	mov $msg_exit0, %esi
	call puts
	xor %eax, %eax
	ret

/* the execution breakpoint's target: the #DB comes before its first instruction runs */
	.align 16
bp_target:
	inc %ecx
	ret

/* db_handler: #DB (vector 1, no error code): EIP at 4(%esp), EFLAGS at 12(%esp) once eax is
 * pushed. DR6 keeps its B bits until software clears them (SDM 18.2.3); RF makes the return
 * run the instruction an execution breakpoint stopped (SDM 18.3.1.1). */
db_handler:
	push %eax
	mov %dr6, %eax
	mov %eax, db_dr6
	mov 4(%esp), %eax
	mov %eax, db_eip
	incl db_count
	mov $DR6_RESET, %eax
	mov %eax, %dr6
	orl $0x10000, 12(%esp)
	pop %eax
	iret

/* ---- helpers --------------------------------------------------------------------------------- */

/* gap_tick: counts in `gaps` a PM timer step of more than PM_GAP since the last read */
gap_tick:
	push %eax
	push %ecx
	call pm_read
	mov %eax, %ecx
	sub pm_last, %eax
	and $0xffffff, %eax
	mov %ecx, pm_last
	cmp $PM_GAP, %eax
	jbe 1f
	incl gaps
1:	pop %ecx
	pop %eax
	ret

/* print_own: "ROLE: DR0-3 0x.. 0x.. 0x.. 0x.., DR7 0x.." */
print_own:
	push %eax
	push %ecx
	mov role_name, %esi
	call puts
	mov $msg_own, %esi
	call puts
	xor %ecx, %ecx
1:	mov $msg_sp0x, %esi
	call puts
	mov own(,%ecx,4), %eax
	call puthex
	inc %ecx
	cmp $4, %ecx
	jb 1b
	mov $msg_own_dr7, %esi
	call puts
	mov own_dr7, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	pop %ecx
	pop %eax
	ret

/* fail: "ROLE: FAIL <esi> 0x<eax> (round 0x<rounds>)", exit code 1 */
fail:
	push %esi
	mov role_name, %esi
	call puts
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	mov $msg_0x, %esi
	call puts
	call puthex
	mov $msg_round, %esi
	call puts
	mov rounds, %eax
	call puthex
	mov $msg_close, %esi
	call puts
	mov $1, %eax
	jmp exit

	.section .rodata
role_writer:	.asciz "writer"
role_reader:	.asciz "reader"
role_bp:	.asciz "breakpoints"
opt_rounds:	.asciz "rounds="
opt_sliced:	.asciz "sliced"
msg_no_role:	.asciz "debugregs: no role (writer, reader or breakpoints) on the command line\n"
msg_w_armed:	.asciz "writer: armed DR0-3, DR6 and DR7\n"
msg_w_rounds:	.asciz "writer: checking them in rounds of 1024, rounds 0x"
msg_w_done:	.asciz "writer: DR0-3, DR6 and DR7 kept its own values over checks 0x"
msg_w_gaps:	.asciz ", descheduled 0x"
msg_r_checking:	.asciz "reader: checking\n"
msg_r_done:	.asciz "reader: never saw another vCPU's debug registers over checks 0x"
msg_r_gaps:	.asciz ", descheduled 0x"
msg_b_armed:	.asciz "breakpoints: armed an execution breakpoint (DR0) and a data-write breakpoint (DR1)\n"
msg_b_done:	.asciz "breakpoints: every #DB came with DR6 naming its breakpoint, rounds 0x"
msg_b_done2:	.asciz ", descheduled 0x"
msg_exit0:	.asciz "; exit code 0\n"
msg_own:	.asciz ": own DR0-3"
msg_own_dr7:	.asciz ", DR7 0x"
msg_sp0x:	.asciz " 0x"
msg_fail:	.asciz ": FAIL "
msg_0x:		.asciz " 0x"
msg_round:	.asciz " (round 0x"
msg_close:	.asciz ")\n"
msg_nl:		.asciz "\n"
msg_dr0:	.asciz "DR0 is not its own value:"
msg_dr1:	.asciz "DR1 is not its own value:"
msg_dr2:	.asciz "DR2 is not its own value:"
msg_dr3:	.asciz "DR3 is not its own value:"
msg_dr6:	.asciz "DR6 B0-B3/BD/BS/BT are not its own:"
msg_dr7:	.asciz "DR7 is not its own value:"
msg_db_count:	.asciz "#DB count is not what it expects:"
msg_too_few_gaps: .asciz "descheduled fewer than 4 times within its bound:"
msg_exec_count:	.asciz "the execution breakpoint gave no single #DB, #DB count"
msg_exec_ran:	.asciz "the instruction at the execution breakpoint ran other than once:"
msg_exec_dr6:	.asciz "DR6 after the execution breakpoint does not name B0 alone:"
msg_exec_eip:	.asciz "the execution breakpoint's #DB is not at bp_target but at"
msg_data_count:	.asciz "the data-write breakpoint gave no single #DB, #DB count"
msg_data_dr6:	.asciz "DR6 after the data-write breakpoint does not name B1 alone:"
msg_data_eip:	.asciz "the data-write breakpoint's #DB is not right after the store but at"
msg_data_value:	.asciz "the watched dword does not hold what was stored:"
msg_read_fired:	.asciz "a read of the watched dword gave a #DB, #DB count"
msg_disarmed_fired: .asciz "bp_target gave a #DB with DR7 disarmed, #DB count"

	.data
	.align 4
watched:	.long 0
role_name:	.long msg_no_role
own:		.long 0, 0, 0, 0
own_dr6:	.long 0
own_dr7:	.long DR7_RESET
db_count:	.long 0
db_want:	.long 0
db_dr6:		.long 0
db_eip:		.long 0
rounds:		.long 0
rounds_want:	.long 0
gaps:		.long 0
gaps_want:	.long 0
pm_last:	.long 0
idtr_buf:	.word 0
		.long 0
	.section .note.GNU-stack,"",@progbits
