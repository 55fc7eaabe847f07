/* victim: a VM whose RAM another VM's passed-through device aims DMA at (tests/e2e/passthru.sh,
 * passthru-victim-*). It fills 4 MiB of its RAM at 4 MiB (past its image) with a pattern (each dword its own
 * address xor 0x5eed0000), says so, waits for Enter at its console (the e2e case types it once
 * the attacker is done), then checks every dword: "victim: RAM unchanged" and exit code 0, or the
 * first changed address and exit code 1. */
#include "check.h"
	.set BASE, 0x400000
	.set SIZE, 0x400000
	.set PATTERN, 0x5eed0000

	.text
	.code32
	.globl guest_main
guest_main:
	mov $BASE, %edi
1:	mov %edi, %eax
	xor $PATTERN, %eax
	stosl
	cmp $BASE + SIZE, %edi
	jb 1b
	mov $msg_filled, %esi
	call puts
2:	call getc
	cmp $'\r', %al
	je 3f
	cmp $'\n', %al
	jne 2b
3:	mov $BASE, %esi
4:	lodsl
	lea -4(%esi), %edx
	xor $PATTERN, %edx
	cmp %edx, %eax
	jne 5f
	cmp $BASE + SIZE, %esi
	jb 4b
	mov $msg_same, %esi
	call puts
	xor %eax, %eax
	ret
5:	lea -4(%esi), %eax
	mov $msg_changed, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	mov $1, %eax
	ret

	.section .rodata
msg_filled:	.asciz "victim: 4 MiB at 0x00400000 filled\n"
msg_same:	.asciz "victim: RAM unchanged\n"
msg_changed:	.asciz "victim: FAIL the dword at 0x"
msg_nl:		.asciz "\n"
	.section .note.GNU-stack,"",@progbits
