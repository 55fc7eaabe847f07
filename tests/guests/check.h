/* CHECK for the test guests that compare many values (stringio, crs, realmode): included with
 * #include "check.h". Each such guest defines `fail`, which prints "NAME: FAIL <esi> 0x<eax>" and
 * counts the failure; CHECK leaves every register and the flags as they were. WANT must not be
 * %eax, and no argument may hold blanks (the assembler splits macro arguments there). */
	.macro CHECK got, want, text
	pushf
	push %eax
	mov \got, %eax
	cmp \want, %eax
	je .Lck_ok\@
	push %esi
	.pushsection .rodata
.Lck_msg\@:
	.asciz "\text"
	.popsection
	mov $.Lck_msg\@, %esi
	call fail
	pop %esi
.Lck_ok\@:
	pop %eax
	popf
	.endm
