/* balloon: a hostile driver for the virtio-balloon every VM has at 00:1e.0 (docs/testing.md
 * "Hostile guests"; virtio 1.2, 2.7 and 5.5). keel's target (num_pages) comes from its shell,
 * but a driver may inflate on its own (5.5.6.1: it MAY supply pages when num_pages is at least
 * actual), and that is what this one does, as a modern driver taking VERSION_1 alone (no
 * MUST_TELL_HOST, no stats queue).
 *
 * A page it wrote a pattern to, inflated, reads back zeroed and is writable again: keel unmaps
 * it and refaults a zeroed page on the next touch (core/balloon_mem.h), which 5.5.6.2 allows
 * (the device MAY change a page once it saw its number in an inflate request). Then what no
 * driver should send, each skipped by keel with a rate-limited line "vm balloon: virtio-balloon:
 * WHAT (page frame X); skipped" while the queue goes on: page frames outside RAM (256 MiB, the
 * local APIC's 0xFEE00, 0xFFFFFFFF; keel backs the E820-reserved 0x9F000-0xFFFFF with the VM's
 * RAM, so a frame there is the guest's to give), the same page twice in one chain,
 * a chain of 257 frames (keel takes the first 256: the 256th page reads zeroed, the 257th
 * keeps its data), a deflate of a page never inflated (its data stays). Inflating the page that
 * holds the inflate queue itself: keel takes the page, then cannot write the used ring there, so
 * the queue breaks (DEVICE_NEEDS_RESET, the used index reads 0 from the zeroed page). After a
 * reset, a last well-formed inflate and deflate work, and only `actual` in the device
 * configuration takes a write. Exit code 0 when every check held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set SLOT, 0x8000f000		/* bus 0, device 0x1e, function 0 */
	.set BALLOON_ID, 0x10451af4	/* virtio 1.x memory balloon (4.1.2.1) */
	/* each queue in one page: descriptors, the available ring at +0x100, the used ring at
	 * +0x200 (the image is at 2-4 MiB) */
	.set QPAGE, 0x800000		/* inflateq; deflateq one page above */
	.set QPFN, QPAGE >> 12
	.set Q_AVAIL, 0x100
	.set Q_USED, 0x200
	.set QSIZE, 16
	.set PFNS, 0x810000		/* the chain's le32 page frame numbers */
	.set PAGE1, 0x1000000		/* pages the guest inflates */
	.set TWICE, 0x1002000
	.set MANY, 0x1010000		/* 257 pages */
	.set NEVER, 0x1200000		/* never inflated */
	.set LAST, 0x1300000
	/* common configuration offsets (4.1.4.3) */
	.set GFSELECT, 8
	.set GF, 12
	.set STATUS, 20
	.set QSELECT, 22
	.set QSIZE_REG, 24
	.set QENABLE, 28
	.set QDESC, 32
	.set QDRIVER, 40
	.set QDEVICE, 48
	.set NUM_PAGES, 0x2000		/* struct virtio_balloon_config (5.5.4) */
	.set ACTUAL, 0x2004
	.set NOTIFY, 0x3000		/* queue n at NOTIFY + 4 n */
	.set NEEDS_RESET, 64
	.set PAGE_SEED, 0x5a5a0000	/* fill_page's first dword */

	.text
	.code32
	.globl guest_main
guest_main:
	cld
	mov $SLOT, %eax
	call cfg_read
	CHECK %eax, $BALLOON_ID, virtio-balloon_at_00:1e.0
	cmp $BALLOON_ID, %eax
	jne 9f
	mov $SLOT | 0x10, %eax		/* BAR 0, 64-bit memory: keel put it below 4 GiB */
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar
	mov $SLOT | 0x04, %eax		/* memory decoding and bus mastering on */
	mov $CFG_ADDR, %dx
	out %eax, %dx
	mov $6, %eax
	mov $CFG_DATA, %dx
	out %ax, %dx
	call setup
	mov bar, %ebx
	mov NUM_PAGES(%ebx), %eax
	mov %eax, num_pages

	/* a page with a pattern, inflated: zeroed when read, then writable again */
	mov $PAGE1, %edi
	call fill_page
	movl $PAGE1 >> 12, PFNS
	mov $1, %ecx
	call inflate_ok
	mov $PAGE1, %edi
	call check_zero
	call fill_page
	call check_pattern
	mov $msg_zeroed, %esi
	call puts

	/* frames that are no page of the VM's RAM, one chain each */
	mov $outside, %ebp
1:	cmp $outside_end, %ebp
	jae 2f
	mov (%ebp), %eax
	mov %eax, PFNS
	mov $1, %ecx
	call inflate_ok
	add $4, %ebp
	jmp 1b
2:	mov $msg_outside, %esi
	call puts

	/* the same page twice in one chain: inflated once */
	mov $TWICE, %edi
	call fill_page
	movl $TWICE >> 12, PFNS
	movl $TWICE >> 12, PFNS + 4
	mov $2, %ecx
	call inflate_ok
	call check_zero
	mov $msg_twice, %esi
	call puts

	/* 257 frames in one chain: the first 256 go, the 257th is ignored */
	xor %ecx, %ecx
3:	mov %ecx, %eax
	shl $12, %eax
	lea 0x12340000(%ecx), %edx
	mov %edx, MANY(%eax)
	lea (MANY >> 12)(%ecx), %edx
	mov %edx, PFNS(,%ecx,4)
	inc %ecx
	cmp $257, %ecx
	jb 3b
	call inflate_ok
	CHECK MANY+255*4096, $0, the_256th_page_of_a_long_chain_not_zeroed
	CHECK MANY+256*4096, $0x12340100, the_257th_page_of_a_long_chain_taken
	mov $msg_many, %esi
	call puts

	/* a deflate of a page never inflated: skipped, the page keeps its data */
	mov $NEVER, %edi
	call fill_page
	movl $NEVER >> 12, PFNS
	mov $1, %ecx
	call deflate_ok
	call check_pattern
	mov $msg_never, %esi
	call puts

	/* the inflate queue's own page: the used ring is gone when keel would write it */
	movl $QPFN, PFNS
	mov $1, %ecx
	xor %edx, %edx
	call send
	mov bar, %ebx
	movzbl STATUS(%ebx), %eax
	and $NEEDS_RESET, %eax
	CHECK %eax, $NEEDS_RESET, no_reset_asked_after_inflating_the_queue_page
	movzwl QPAGE + Q_USED + 2, %eax
	CHECK %eax, $0, the_queue_page_not_zeroed
	mov $msg_queue, %esi
	call puts

	/* after a reset: a well-formed inflate and deflate; only actual is writable */
	call setup
	mov $LAST, %edi
	call fill_page
	movl $LAST >> 12, PFNS
	mov $1, %ecx
	call inflate_ok
	call deflate_ok
	call check_zero
	call fill_page
	call check_pattern
	mov bar, %ebx
	movl $2, ACTUAL(%ebx)
	CHECK ACTUAL(%ebx), $2, actual_not_written
	movl $0x5555, NUM_PAGES(%ebx)
	mov num_pages, %ecx
	CHECK NUM_PAGES(%ebx), %ecx, num_pages_written_by_the_driver
	mov $msg_last, %esi
	call puts

9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* setup: reset, VERSION_1 only, inflateq and deflateq of QSIZE in their pages, DRIVER_OK */
setup:
	pusha
	mov bar, %ebx
	movb $0, STATUS(%ebx)
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $0, status_after_reset
	movb $3, STATUS(%ebx)		/* ACKNOWLEDGE | DRIVER */
	movl $1, GFSELECT(%ebx)
	movl $1, GF(%ebx)		/* bit 32: VERSION_1 */
	movl $0, GFSELECT(%ebx)
	movl $0, GF(%ebx)
	movb $11, STATUS(%ebx)		/* | FEATURES_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $11, features_refused
	mov $QPAGE, %edi
	mov $0x800, %ecx		/* both pages */
	xor %eax, %eax
	rep stosl
	movl $0, avail
	movl $0, avail + 4
	mov $QPAGE, %edi
	xor %edx, %edx
1:	mov %dx, QSELECT(%ebx)
	movw $QSIZE, QSIZE_REG(%ebx)
	mov %edi, QDESC(%ebx)
	movl $0, QDESC+4(%ebx)
	lea Q_AVAIL(%edi), %eax
	mov %eax, QDRIVER(%ebx)
	movl $0, QDRIVER+4(%ebx)
	lea Q_USED(%edi), %eax
	mov %eax, QDEVICE(%ebx)
	movl $0, QDEVICE+4(%ebx)
	movw $1, QENABLE(%ebx)
	add $0x1000, %edi
	inc %edx
	cmp $2, %edx
	jb 1b
	movb $15, STATUS(%ebx)		/* | DRIVER_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, status_not_driver_ok
	popa
	ret

/* send: the ecx frame numbers at PFNS as one device-readable buffer on queue edx (0 inflateq,
 * 1 deflateq), made available and notified */
send:
	pusha
	mov %edx, %edi
	shl $12, %edi
	add $QPAGE, %edi
	movl $PFNS, (%edi)		/* descriptor 0 */
	movl $0, 4(%edi)
	shl $2, %ecx
	mov %ecx, 8(%edi)
	movl $0, 12(%edi)
	mov avail(,%edx,4), %eax
	mov %eax, %ecx
	and $QSIZE - 1, %ecx
	movw $0, Q_AVAIL+4(%edi,%ecx,2)
	inc %eax
	mov %eax, avail(,%edx,4)
	mov %ax, Q_AVAIL+2(%edi)
	mov bar, %ebx
	mov %dx, NOTIFY(%ebx,%edx,4)
	popa
	ret

/* sent: the chain on queue edx was used, with length 0 (nothing written), and the device
 * works on */
sent:
	pusha
	mov %edx, %edi
	shl $12, %edi
	add $QPAGE, %edi
	movzwl Q_USED+2(%edi), %eax
	mov avail(,%edx,4), %ecx
	CHECK %eax, %ecx, chain_not_used
	dec %ecx
	and $QSIZE - 1, %ecx
	lea Q_USED+4(%edi,%ecx,8), %edi
	CHECK (%edi), $0, used_id
	CHECK 4(%edi), $0, used_length
	mov bar, %ebx
	movzbl STATUS(%ebx), %eax
	and $NEEDS_RESET, %eax
	CHECK %eax, $0, the_device_asks_for_a_reset
	popa
	ret

inflate_ok:
	push %edx
	xor %edx, %edx
	call send
	call sent
	pop %edx
	ret

deflate_ok:
	push %edx
	mov $1, %edx
	call send
	call sent
	pop %edx
	ret

/* fill_page: the page at edi := PAGE_SEED + i in dword i */
fill_page:
	pusha
	mov $PAGE_SEED, %eax
	mov $1024, %ecx
1:	stosl
	inc %eax
	loop 1b
	popa
	ret

/* check_pattern: the page at edi holds fill_page's pattern */
check_pattern:
	pusha
	mov $PAGE_SEED, %eax
	mov $1024, %ecx
1:	scasl
	jne 2f
	inc %eax
	loop 1b
	popa
	ret
2:	mov $msg_pattern, %esi
	lea -4(%edi), %eax
	call fail
	popa
	ret

/* check_zero: the page at edi reads all zeros */
check_zero:
	pusha
	xor %eax, %eax
	mov $1024, %ecx
	repe scasl
	je 1f
	mov $msg_not_zero, %esi
	lea -4(%edi), %eax
	call fail
1:	popa
	ret

/* fail: prints "balloon: FAIL <esi> 0x<eax>" and counts it (check.h) */
fail:
	incl failures
	push %esi
	mov $msg_fail, %esi
	call puts
	pop %esi
	call puts
	mov $msg_0x, %esi
	call puts
	call puthex
	mov $msg_nl, %esi
	call puts
	ret

	.section .rodata
	.align 4
outside:	.long 0x10000, 0xfee00, 0xffffffff
outside_end:
msg_zeroed:	.asciz "balloon: an inflated page read back zeroed and took a write again\n"
msg_outside:	.asciz "balloon: frames outside RAM (256 MiB, the APIC page, 0xffffffff) skipped\n"
msg_twice:	.asciz "balloon: a page twice in one chain went into the balloon once\n"
msg_many:	.asciz "balloon: a chain of 257 frames: 256 taken, the 257th ignored\n"
msg_never:	.asciz "balloon: a deflate of a page never inflated left the page alone\n"
msg_queue:	.asciz "balloon: inflating the inflate queue's own page broke the queue\n"
msg_last:	.asciz "balloon: after a reset an inflate and a deflate worked\n"
msg_done:	.asciz "balloon: done\n"
msg_pattern:	.asciz "a page lost its pattern at"
msg_not_zero:	.asciz "a page is not zero at"
msg_fail:	.asciz "balloon: FAIL "
msg_0x:		.asciz " 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
bar:		.long 0
avail:		.long 0, 0	/* chains made available on the inflateq and the deflateq */
num_pages:	.long 0
failures:	.long 0
	.section .note.GNU-stack,"",@progbits
