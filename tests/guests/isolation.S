/* isolation: two VMs of this one guest try to reach each other's memory (docs/testing.md
 * "Isolation"). The command line picks the role:
 *
 * "victim": fills its RAM from 4 MiB to the end (the Multiboot memory information says where)
 * with a marker: every qword of page P holds (KEY_HI ^ P) << 32 | (KEY_LO ^ P). The keys are
 * computed at run time from other constants, so no marker qword is in the ELF image (the attacker
 * is the same image). It then verifies the whole pattern again and again for "seconds=N" seconds
 * of the ACPI PM timer (default 8), long enough for the attacker beside it to finish; with
 * "console" instead until a byte arrives on COM1 (the e2e session types one once the attacker is
 * done, so no machine is too slow for the window). Exit code 0 when nothing changed, 1 at the
 * first changed qword.
 *
 * "attacker": after one second (the victim fills its RAM meanwhile), or with "console" once a byte
 * arrives on COM1 (typed when the victim's marker is in place), looks for the marker, a qword
 * whose halves XOR to KEY_LO ^ KEY_HI and whose low half XORs with KEY_LO to a page number
 * (below 2^20):
 *   1. in every qword of its own RAM (no exits);
 *   2. paging off, one dword per 4 KiB page from the end of its RAM to 64 MiB;
 *   3. paging off, one dword per 2 MiB from there to 4 GiB;
 *   4. PAE paging (a 2 MiB window at linear 0xC0000000, common.S), one dword per 2 MiB from 4 GiB
 *      to 64 GiB or MAXPHYADDR (CPUID 0x80000008), whichever is lower.
 * Outside its RAM a read must give all ones (CONVENTIONS.md "Unclaimed guest I/O"), and the guest
 * then writes a pseudo-random dword there (the victim would see it if it landed in its RAM); the
 * IOAPIC and local APIC pages, the PCI memory window and ECAM (0xC0000000-0xE00FFFFF, the VM's
 * own PCI functions) are left alone. Each access outside RAM is one exit: ~41 000 probes,
 * ~82 000 exits (~3 s under QEMU TCG). Exit code 0 when the marker never showed and every read
 * outside RAM gave all ones, 1 otherwise (the first 16 findings printed with their addresses). */
	.set FILL_LO, 0x400000		/* the image is at 2-4 MiB */
	.set SMALL_TOP, 0x4000000	/* 4 KiB steps up to 64 MiB */
	.set TOP_HI, 0x10		/* 64 GiB: 0x10_0000_0000 */
	.set WINDOW, 0xc0000000
	.set IOAPIC, 0xfec00000
	.set LAPIC, 0xfee00000
	.set PCI_LO, 0xc0000000		/* PCI memory window, then ECAM (core/guest_layout.h) */
	.set PCI_HI, 0xe0100000
	.set PM_HZ, 3579545
	.set COM1_DATA, 0x3f8
	.set COM1_LSR, 0x3fd

	.text
	.code32
	.globl guest_main
guest_main:
	call idt_init
	mov mb_info, %ebx
	mov 8(%ebx), %eax	/* mem_upper: KiB from 1 MiB to the end of low RAM */
	shl $10, %eax
	add $0x100000, %eax
	and $~0xfff, %eax
	mov %eax, ram_end
	/* the keys: never stored together as a qword (see attacker's own-RAM scan) */
	mov $0x6b65656c, %eax
	xor $0xa5c3f00f, %eax
	mov %eax, key_lo	/* 0xcea69563 */
	mov $0x69736f6c, %ecx
	xor $0x3c96e1d2, %ecx	/* KEY_HI 0x55e58ebe */
	xor %ecx, %eax
	mov %eax, key_x		/* KEY_LO ^ KEY_HI */
	mov $role_victim, %esi
	call cmdline_has
	jz victim
	mov $role_attacker, %esi
	call cmdline_has
	jz attacker
	mov $msg_no_role, %esi
	call puts
	mov $2, %eax
	ret

/* ---- victim ---------------------------------------------------------------------------------- */
victim:
	mov $opt_seconds, %esi
	call cmdline_number
	jc 1f
	mov %eax, seconds
1:	mov $opt_console, %esi
	call cmdline_has
	jnz 1f
	movl $1, by_console
1:	mov $msg_v_start, %esi
	call puts
	mov $FILL_LO, %eax
	call puthex
	mov $msg_dash, %esi
	call puts
	mov ram_end, %eax
	call puthex
	mov $msg_v_pages, %esi
	call puts
	mov ram_end, %eax
	sub $FILL_LO, %eax
	shr $12, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* fill: edi the qword, eax:edx the page's low and high halves */
	mov $FILL_LO, %edi
2:	mov %edi, %eax
	shr $12, %eax
	mov %eax, %edx
	xor key_lo, %eax
	xor key_x, %edx
	xor key_lo, %edx	/* KEY_HI ^ P */
3:	mov %eax, (%edi)
	mov %edx, 4(%edi)
	add $8, %edi
	test $0xfff, %edi
	jnz 3b
	cmp ram_end, %edi
	jb 2b
	mov $msg_v_filled, %esi
	cmpl $0, by_console
	je 1f
	mov $msg_v_filled_key, %esi
1:	call puts
	cmpl $0, by_console
	jne 1f
	mov seconds, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
1:

	/* verify until `seconds` of PM timer have passed (at least two passes) */
	mov seconds, %eax
	mov $PM_HZ, %ecx
	mul %ecx
	mov %eax, want_ticks
	call pm_read
	mov %eax, pm_last
4:	mov $FILL_LO, %edi
5:	mov %edi, %eax
	shr $12, %eax
	mov %eax, %edx
	xor key_lo, %eax
	xor key_x, %edx
	xor key_lo, %edx
6:	cmp (%edi), %eax
	jne changed
	cmp 4(%edi), %edx
	jne changed
	add $8, %edi
	test $0xfff, %edi
	jnz 6b
	test $0xfffff, %edi	/* the timer (it wraps after 4.69 s) or COM1 once a MiB */
	jnz 7f
	call pm_tick
	call key_poll
7:	cmp ram_end, %edi
	jb 5b
	incl passes
	cmpl $2, passes
	jb 4b
	cmpl $0, by_console
	je 8f
	cmpl $0, key_seen
	je 4b
	jmp 9f
8:	mov pm_elapsed, %eax
	cmp want_ticks, %eax
	jb 4b
9:

	mov $msg_v_intact, %esi
	call puts
	mov passes, %eax
	call puthex
	mov $msg_v_ticks, %esi
	call puts
	mov pm_elapsed, %eax
	call puthex
	mov $msg_v_done, %esi
	call puts
	xor %eax, %eax
	ret

changed:
	mov $msg_v_changed, %esi
	call puts
	mov %edi, %eax
	call puthex
	mov $msg_colon, %esi
	call puts
	mov 4(%edi), %eax
	call puthex
	mov (%edi), %eax
	call puthex
	mov $msg_v_after, %esi
	call puts
	mov passes, %eax
	call puthex
	mov $msg_v_failed, %esi
	call puts
	mov $1, %eax
	ret

/* pm_tick: adds the PM timer ticks since the last call to pm_elapsed */
pm_tick:
	push %eax
	push %ecx
	call pm_read
	mov %eax, %ecx
	sub pm_last, %eax
	and $0xffffff, %eax
	add %eax, pm_elapsed
	mov %ecx, pm_last
	pop %ecx
	pop %eax
	ret

/* key_poll: key_seen becomes 1 once a byte has arrived on COM1 (the byte is consumed) */
key_poll:
	push %eax
	push %edx
	mov $COM1_LSR, %dx
	in %dx, %al
	test $1, %al		/* LSR.DR: a received byte waits */
	jz 1f
	mov $COM1_DATA, %dx
	in %dx, %al
	movl $1, key_seen
1:	pop %edx
	pop %eax
	ret

/* ---- attacker -------------------------------------------------------------------------------- */
attacker:
	mov $0x80000000, %eax
	cpuid
	cmp $0x80000008, %eax
	jb 1f
	mov $0x80000008, %eax
	cpuid
	and $0xff, %eax
	mov %eax, maxphy
1:	mov maxphy, %ecx	/* top_hi = min(64 GiB, 2^MAXPHYADDR) >> 32 */
	sub $32, %ecx
	mov $1, %eax
	shl %cl, %eax
	cmp $TOP_HI, %eax
	jb 2f
	mov $TOP_HI, %eax
2:	mov %eax, top_hi
	mov $msg_a_start, %esi
	call puts
	mov ram_end, %eax
	call puthex
	mov $msg_a_maxphy, %esi
	call puts
	mov maxphy, %eax
	call puthex
	mov $msg_a_top, %esi
	call puts
	mov top_hi, %eax
	call puthex
	xor %eax, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* give the victim a second to write its marker, or wait for the byte that says it has */
	mov $opt_console, %esi
	call cmdline_has
	jnz 2f
	mov $msg_a_key, %esi
	call puts
1:	mov $100000, %ecx
4:	loop 4b
	call key_poll
	cmpl $0, key_seen
	je 1b
	jmp 5f
2:	call pm_read
	mov %eax, pm_last
3:	mov $1000000, %ecx
4:	loop 4b
	call pm_tick
	cmpl $PM_HZ, pm_elapsed
	jb 3b
5:	mov $msg_a_scan, %esi
	call puts

	/* 1. every qword of its own RAM */
	xor %esi, %esi
	mov ram_end, %ebx
	mov key_x, %ebp
5:	mov (%esi), %eax
	xor 4(%esi), %eax
	cmp %ebp, %eax
	je 7f
6:	add $8, %esi
	cmp %ebx, %esi
	jb 5b
	jmp 8f
7:	mov (%esi), %eax
	mov 4(%esi), %edx
	mov %esi, %edi
	push %esi
	xor %esi, %esi
	call check_marker
	pop %esi
	jmp 6b
8:	mov $msg_a_own, %esi
	call puts
	mov found, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* 2. 4 KiB steps to 64 MiB, 3. 2 MiB steps to 4 GiB; paging off: linear = physical */
	mov ram_end, %eax
	xor %edx, %edx
9:	cmp $SMALL_TOP, %eax
	jae 10f
	mov %eax, %edi
	call probe
	add $0x1000, %eax
	jmp 9b
10:	add $0x1fffff, %eax
	and $~0x1fffff, %eax
11:	mov %eax, %edi
	call probe
	add $0x200000, %eax
	jnc 11b
	mov $msg_a_low, %esi
	call puts
	mov probes, %eax
	call puthex
	mov $msg_nl, %esi
	call puts

	/* 4. PAE, 2 MiB steps from 4 GiB: each through the window */
	call pae_enable
	mov $1, %edx
12:	cmp top_hi, %edx
	jae 14f
	xor %eax, %eax
13:	call pae_window
	mov $WINDOW, %edi
	call probe
	add $0x200000, %eax
	jnc 13b
	inc %edx
	jmp 12b

14:	mov $msg_a_probes, %esi
	call puts
	mov probes, %eax
	call puthex
	mov $msg_a_found, %esi
	call puts
	mov found, %eax
	call puthex
	mov $msg_a_odd, %esi
	call puts
	mov odd, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	mov found, %eax
	or odd, %eax
	jnz 15f
	mov $msg_a_done, %esi
	call puts
	xor %eax, %eax
	ret
15:	mov $msg_a_failed, %esi
	call puts
	mov $1, %eax
	ret

/* probe: the dword at guest-physical edx:eax outside the attacker's RAM, reached at linear edi:
 * it must read all ones (anything else is reported), then a pseudo-random write must go nowhere */
probe:
	pusha
	test %edx, %edx
	jnz 1f
	mov %eax, %ecx
	/* the PCI memory window and ECAM: the VM's own PCI functions, like the APIC pages */
	cmp $PCI_LO, %ecx
	jb 2f
	cmp $PCI_HI, %ecx
	jb 9f
2:	and $~0xfff, %ecx
	cmp $IOAPIC, %ecx
	je 9f
	cmp $LAPIC, %ecx
	je 9f
1:	incl probes
	mov %edi, %ebx		/* the linear address */
	mov (%ebx), %ecx
	cmp $0xffffffff, %ecx
	je 3f
	/* not all ones: the marker, or something else that should not be there */
	mov %edx, %esi
	mov %eax, %edi
	mov %ecx, %eax
	mov 4(%ebx), %edx
	call check_marker
	jnc 3f
	incl odd
	cmpl $16, odd
	ja 3f
	push %eax
	mov $msg_a_odd_at, %esi
	call puts
	mov 20+4(%esp), %eax	/* pusha's edx */
	call puthex
	mov 28+4(%esp), %eax	/* pusha's eax */
	call puthex
	mov $msg_colon, %esi
	call puts
	pop %eax
	call puthex
	mov $msg_nl, %esi
	call puts
3:	call rand
	mov %eax, (%ebx)
9:	popa
	ret

/* check_marker: eax:edx the qword's low and high halves read at guest-physical esi:edi. Marker:
 * reported and counted; else CF set. */
check_marker:
	push %ecx
	mov %eax, %ecx
	xor %edx, %ecx
	cmp key_x, %ecx
	jne 1f
	mov %eax, %ecx
	xor key_lo, %ecx
	cmp $0x100000, %ecx
	jae 1f
	incl found
	cmpl $16, found
	ja 2f
	push %esi
	mov $msg_a_marker, %esi
	call puts
	mov %ecx, %eax
	call puthex
	mov $msg_a_marker_at, %esi
	call puts
	mov (%esp), %eax
	call puthex
	mov %edi, %eax
	call puthex
	mov $msg_nl, %esi
	call puts
	pop %esi
2:	pop %ecx
	clc
	ret
1:	pop %ecx
	stc
	ret

	.section .rodata
role_victim:	.asciz "victim"
role_attacker:	.asciz "attacker"
opt_seconds:	.asciz "seconds="
opt_console:	.asciz "console"
msg_no_role:	.asciz "isolation: no role (victim or attacker) on the command line\n"
msg_v_start:	.asciz "victim: marker over 0x"
msg_dash:	.asciz "-0x"
msg_v_pages:	.asciz ", pages 0x"
msg_v_filled:	.asciz "victim: marker in place; verifying it for seconds 0x"
msg_v_filled_key: .asciz "victim: marker in place; verifying it until a key on COM1\n"
msg_v_intact:	.asciz "victim: pattern intact after passes 0x"
msg_v_ticks:	.asciz ", PM timer ticks 0x"
msg_v_done:	.asciz "; exit code 0\n"
msg_v_changed:	.asciz "victim: FAIL the pattern changed at 0x"
msg_v_after:	.asciz " after passes 0x"
msg_v_failed:	.asciz "; exit code 1\n"
msg_a_start:	.asciz "attacker: RAM ends at 0x"
msg_a_maxphy:	.asciz ", MAXPHYADDR 0x"
msg_a_top:	.asciz ", probing up to 0x"
msg_a_key:	.asciz "attacker: waiting for a key on COM1\n"
msg_a_scan:	.asciz "attacker: scanning\n"
msg_a_own:	.asciz "attacker: own RAM scanned, markers 0x"
msg_a_low:	.asciz "attacker: below 4 GiB done, probes 0x"
msg_a_probes:	.asciz "attacker: probes outside RAM 0x"
msg_a_found:	.asciz ", markers 0x"
msg_a_odd:	.asciz ", not all ones 0x"
msg_a_odd_at:	.asciz "attacker: FAIL not all ones at 0x"
msg_a_marker:	.asciz "attacker: FAIL the victim's marker (its page 0x"
msg_a_marker_at: .asciz ") at 0x"
msg_a_done:	.asciz "attacker: the marker never showed; exit code 0\n"
msg_a_failed:	.asciz "attacker: isolation broken; exit code 1\n"
msg_colon:	.asciz ": 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
ram_end:	.long 0
key_lo:		.long 0
seconds:	.long 8
key_x:		.long 0
want_ticks:	.long 0
pm_last:	.long 0
pm_elapsed:	.long 0
passes:		.long 0
maxphy:		.long 36
top_hi:		.long 0
probes:		.long 0
found:		.long 0
odd:		.long 0
by_console:	.long 0
key_seen:	.long 0
	.section .note.GNU-stack,"",@progbits
