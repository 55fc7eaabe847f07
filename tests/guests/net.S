/* net: a hostile driver for two virtio-net devices on one keel switch (docs/testing.md "Hostile
 * guests"; virtio 1.2, 2.7 and 5.1). The VM's keel.cfg says `net = lan` twice and names no disk,
 * so device A sits at 00:02.0 and B at 00:03.0 (vdev/platform.h). Both are set up as modern
 * drivers that take VIRTIO_NET_F_MAC and nothing else: no checksum or segmentation offload, no
 * mergeable buffers, so every received frame comes whole in one buffer behind a 12-byte
 * struct virtio_net_hdr (5.1.6). B keeps receive buffers posted; A transmits.
 *
 * Well-formed frames must arrive at B byte for byte: a broadcast, a unicast to the MAC in B's
 * device configuration (header and frame in separate buffers), the largest untagged (1514
 * bytes) and 802.1Q-tagged (1518) frames, one whose header has every flag bit but NEEDS_CSUM and
 * every field after gso_type set (a device MUST ignore those, 5.1.6.2.2). Then A sends what no driver may, each followed by a
 * well-formed broadcast marker: the next frame B gets must be that marker (keel's switch
 * delivers before the notifying exit returns) and A's used ring must complete every chain with
 * length 0 (vdev/virtio/net.h: bad transmits are dropped and counted, the queue goes on). Among
 * them frames whose source is not A's MAC (B's, the broadcast address, a multicast group, a MAC
 * nobody has): a VM sends from its own MAC only, so none may reach B, and a unicast to B's MAC
 * still arrives at B afterwards (the switch never learnt B's MAC on A's port). Last,
 * keel's documented answers: a frame sent while B has no receive buffer waits in B's port
 * (io/net_port.h) and arrives once one is posted, A never waiting; a buffer too small for the
 * frame comes back empty and the frame is dropped; a device-readable receive buffer comes back
 * empty and the frame waits for the next; a frame flows across a receive chain of two buffers
 * (20 bytes, then the rest); a readable buffer after a writable one in A's
 * transmit chain breaks the queue (DEVICE_NEEDS_RESET), and A works again after a reset.
 * Exit code 0 when every check held, 1 otherwise. */
#include "check.h"
	.set CFG_ADDR, 0xcf8
	.set CFG_DATA, 0xcfc
	.set SLOT_A, 0x80001000		/* bus 0, device 2: the first net when there is no disk */
	.set SLOT_B, 0x80001800		/* device 3 */
	.set NET_ID, 0x10411af4		/* virtio 1.x network device (4.1.2.1) */
	/* queues: receiveq1 at Q, transmitq1 at Q + 0x4000; each a descriptor table, the
	 * available ring 4 KiB above it and the used ring 8 KiB above it (the image is at 2-4 MiB) */
	.set QA, 0x800000
	.set QB, 0x808000
	.set A_TXD, QA + 0x4000
	.set A_TXAVAIL, A_TXD + 0x1000
	.set A_TXUSED, A_TXD + 0x2000
	.set B_RXD, QB
	.set B_RXAVAIL, QB + 0x1000
	.set B_RXUSED, QB + 0x2000
	.set RXBUF, 0x900000		/* B's receive buffers: descriptor i has RXBUF + i * 2 KiB */
	.set RXBUF_LEN, 0x800
	.set TXBUF, 0xa00000		/* A's header, then its frame */
	.set SAVE, 0xa08000		/* a copy of a frame that is to arrive later */
	.set WBUF, 0xa10000		/* a device-writable buffer in a transmit chain */
	.set BIG, 0xb00000		/* a 64 KiB frame */
	.set QSIZE, 8
	.set HDR, 12			/* struct virtio_net_hdr with VERSION_1 (5.1.6) */
	.set ETH_TYPE, 0x88b5		/* IEEE 802 local experimental EtherType */
	.set MARK_TYPE, 0x88b6
	.set VLAN_TYPE, 0x8100
	/* common configuration offsets (4.1.4.3) */
	.set DFSELECT, 0
	.set DF, 4
	.set GFSELECT, 8
	.set GF, 12
	.set STATUS, 20
	.set QSELECT, 22
	.set QSIZE_REG, 24
	.set QENABLE, 28
	.set QDESC, 32
	.set QDRIVER, 40
	.set QDEVICE, 48
	.set DEVCFG, 0x2000		/* struct virtio_net_config: mac[6] first (5.1.4) */
	.set NOTIFY, 0x3000		/* queue n at NOTIFY + 4 n */
	.set NEEDS_RESET, 64
	.set F_MAC, 1 << 5		/* VIRTIO_NET_F_MAC (5.1.3) */
	.set D_NEXT, 1
	.set D_WRITE, 2
	.set F_NEEDS_CSUM, 1		/* virtio_net_hdr flags and gso_type (5.1.6) */
	.set GSO_TCPV4, 1

/* DESC TABLE, I, ADDR, LEN, FLAGS: descriptor I of TABLE := {ADDR, LEN, FLAGS | next << 16} */
	.macro DESC table, i, addr, len, flags
	movl \addr, \table+16*\i
	movl $0, \table+16*\i+4
	movl \len, \table+16*\i+8
	movl \flags, \table+16*\i+12
	.endm

	.text
	.code32
	.globl guest_main
guest_main:
	cld
	mov $SLOT_A, %eax
	call cfg_read
	CHECK %eax, $NET_ID, virtio-net_A_at_00:02.0
	cmp $NET_ID, %eax
	jne 9f
	mov $SLOT_B, %eax
	call cfg_read
	CHECK %eax, $NET_ID, virtio-net_B_at_00:03.0
	cmp $NET_ID, %eax
	jne 9f
	mov $SLOT_A | 0x10, %eax	/* BAR 0, 64-bit memory: keel put it below 4 GiB */
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar_a
	mov $SLOT_B | 0x10, %eax
	call cfg_read
	and $~0xf, %eax
	mov %eax, bar_b
	mov $SLOT_A, %ecx
	call enable_dev
	mov $SLOT_B, %ecx
	call enable_dev
	mov bar_a, %ebx
	mov $QA, %edi
	call setup
	mov bar_b, %ebx
	mov $QB, %edi
	call setup

	/* each MAC from its device's configuration: individual (bit 0 clear) and different */
	mov bar_a, %ebx
	mov DEVCFG(%ebx), %eax
	mov %eax, mac_a
	movzwl DEVCFG+4(%ebx), %eax
	mov %ax, mac_a+4
	mov bar_b, %ebx
	mov DEVCFG(%ebx), %eax
	mov %eax, mac_b
	movzwl DEVCFG+4(%ebx), %eax
	mov %ax, mac_b+4
	movzbl mac_b, %eax
	and $1, %eax
	CHECK %eax, $0, MAC_of_B_is_a_group_address
	mov mac_a, %eax
	xor mac_b, %eax
	movzwl mac_a+4, %edx
	xorw mac_b+4, %dx
	or %edx, %eax
	jnz 1f
	mov $msg_same_mac, %esi
	call fail

	/* B keeps two buffers posted from here on */
1:	xor %ecx, %ecx
	call rx_post
	mov $1, %ecx
	call rx_post

	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call send_check
	mov $msg_bcast, %esi
	call puts

	/* unicast to B, the header in a buffer of its own (5.1.6.2: split anywhere) */
	xor %eax, %eax
	call mkhdr
	mov $TXBUF + HDR, %edi
	mov $200, %ecx
	mov $mac_b, %esi
	mov $ETH_TYPE, %edx
	call mkframe
	DESC A_TXD, 0, $TXBUF, $HDR, $(D_NEXT|1<<16)
	DESC A_TXD, 1, $TXBUF+HDR, $200, $0
	call tx_kick
	mov $TXBUF + HDR, %esi
	mov $200, %ecx
	call rx_check
	call rx_none
	mov $msg_unicast, %esi
	call puts

	/* the largest frames keel carries (io/net_eth.h) */
	mov $mac_bcast, %esi
	mov $1514, %ecx
	mov $ETH_TYPE, %edx
	call send_check
	mov $mac_bcast, %esi
	mov $1518, %ecx
	mov $VLAN_TYPE, %edx
	call send_check
	mov $msg_largest, %esi
	call puts

	/* flag bits a device does not act on without offloads (DATA_VALID, RSC_INFO, the rest)
	 * and every field after gso_type set: the device MUST ignore them (5.1.6.2.2) */
	movl $0xffffffff, hdr_fill
	mov $0xffff00fe, %eax
	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call tx_frame
	movl $0, hdr_fill
	mov $TXBUF + HDR, %esi
	call rx_check
	call rx_none
	mov $msg_ignored, %esi
	call puts

	/* bad transmits built by tx_frame, each followed by a marker */
	mov $bad_frames, %ebp
2:	cmp $bad_frames_end, %ebp
	jae 3f
	mov 0(%ebp), %eax
	mov 4(%ebp), %ecx
	mov 8(%ebp), %edx
	mov 12(%ebp), %esi
	call tx_frame
	mov 16(%ebp), %esi
	call after_bad
	add $20, %ebp
	jmp 2b

	/* a chain of 10 bytes: shorter than struct virtio_net_hdr */
3:	DESC A_TXD, 0, $TXBUF, $10, $0
	call tx_kick
	mov $msg_h_hdr, %esi
	call after_bad

	/* a 64 KiB frame (header and frame in two buffers) */
	xor %eax, %eax
	call mkhdr
	mov $BIG, %edi
	mov $0x10000, %ecx
	mov $mac_bcast, %esi
	mov $ETH_TYPE, %edx
	call mkframe
	DESC A_TXD, 0, $TXBUF, $HDR, $(D_NEXT|1<<16)
	DESC A_TXD, 1, $BIG, $0x10000, $0
	call tx_kick
	mov $msg_h_64k, %esi
	call after_bad

	/* header and frame, then a device-writable buffer: dropped, the buffer untouched */
	mov $WBUF, %edi
	mov $16, %ecx
	mov $0xa5a5a5a5, %eax
	rep stosl
	xor %eax, %eax
	call mkhdr
	mov $TXBUF + HDR, %edi
	mov $100, %ecx
	mov $mac_bcast, %esi
	mov $ETH_TYPE, %edx
	call mkframe
	DESC A_TXD, 0, $TXBUF, $HDR+100, $(D_NEXT|1<<16)
	DESC A_TXD, 1, $WBUF, $64, $D_WRITE
	call tx_kick
	CHECK WBUF, $0xa5a5a5a5, writable_buffer_in_a_transmit_chain_written
	mov $msg_h_writable, %esi
	call after_bad

	/* frames from a source that is not A's MAC, each otherwise well formed: keel drops them
	 * (tx_spoofed, a line each) and completes the chain. From B's MAC the broadcast would reach
	 * B and the switch would learn B's MAC on A's port; from a group address or a stranger's
	 * the unicast to B would be flooded to B. */
	mov $spoofed_frames, %ebp
1:	cmp $spoofed_frames_end, %ebp
	jae 2f
	mov 0(%ebp), %eax
	mov %eax, frame_src
	xor %eax, %eax
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	mov 4(%ebp), %esi
	call tx_frame
	movl $mac_a, frame_src
	mov 8(%ebp), %esi
	call after_bad
	add $12, %ebp
	jmp 1b
	/* B's MAC still leads to B: had the switch learnt it on A's port, a unicast from A to it
	 * would be filtered there (a frame back to its own port) and never arrive */
2:	mov $mac_b, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call send_check
	mov $msg_still_b, %esi
	call puts

	/* B without receive buffers: two markers take the two posted, none is posted again */
	movl $1, b_nopost
	call marker
	call marker
	xor %eax, %eax
	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call tx_frame			/* completes at once: A never waits for B */
	call rx_none
	call save_frame
	xor %ecx, %ecx
	call rx_post
	mov $SAVE, %esi
	mov $100, %ecx
	call rx_check			/* the frame waited in B's port */
	call rx_none
	mov $msg_kept, %esi
	call puts

	/* a receive buffer of 40 bytes: returned empty, the frame dropped (rx_too_small) */
	mov $1, %ecx
	call rx_fill
	movl $40, B_RXD + 16 + 8
	call rx_publish
	xor %eax, %eax
	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call tx_frame
	call rx_take
	jc 4f
	CHECK %edx, $0, used_length_of_a_too_small_buffer
	CHECK %eax, $1, used_id_of_a_too_small_buffer
	CHECK RXBUF + RXBUF_LEN, $0xa5a5a5a5, a_too_small_buffer_written
4:	mov $2, %ecx
	call rx_post
	call marker			/* the dropped frame does not come now */
	mov $msg_small, %esi
	call puts

	/* a device-readable receive buffer: returned empty, the frame waits for the next one */
	mov $3, %ecx
	call rx_fill
	movl $0, B_RXD + 48 + 12
	call rx_publish
	xor %eax, %eax
	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call tx_frame
	call save_frame
	call rx_take
	jc 5f
	CHECK %edx, $0, used_length_of_a_readable_receive_buffer
	CHECK %eax, $3, used_id_of_a_readable_receive_buffer
5:	call rx_none
	mov $4, %ecx
	call rx_post
	mov $SAVE, %esi
	mov $100, %ecx
	call rx_check
	call rx_none
	mov $msg_readable, %esi
	call puts

	/* a receive chain of two buffers, the first of 20 bytes: the header and the frame's first
	 * 8 bytes in it, the rest in the second (the device fills the writable buffers in order) */
	mov $5, %ecx
	call rx_fill
	mov $7, %ecx
	call rx_fill
	movl $20, B_RXD + 5 * 16 + 8
	movl $(D_WRITE | D_NEXT | 7 << 16), B_RXD + 5 * 16 + 12
	mov $5, %ecx
	call rx_publish
	xor %eax, %eax
	mov $mac_bcast, %esi
	mov $100, %ecx
	mov $ETH_TYPE, %edx
	call tx_frame
	call rx_take
	jc 7f
	CHECK %eax, $5, used_id_of_a_two-buffer_chain
	CHECK %edx, $HDR+100, used_length_of_a_two-buffer_chain
	CHECK RXBUF+5*RXBUF_LEN, $0, header_flags_in_a_two-buffer_chain
	CHECK RXBUF+5*RXBUF_LEN+8, $0x10000, num_buffers_in_a_two-buffer_chain
	mov $TXBUF + HDR, %esi
	mov $RXBUF + 5 * RXBUF_LEN + HDR, %edi
	mov $8, %ecx
	repe cmpsb
	jne 6f
	mov $RXBUF + 7 * RXBUF_LEN, %edi
	mov $92, %ecx
	repe cmpsb
	je 7f
6:	mov %ecx, %eax
	mov $msg_bytes, %esi
	call fail
7:	call rx_none
	mov $msg_split, %esi
	call puts
	movl $0, b_nopost
	mov $5, %ecx
	call rx_post
	mov $6, %ecx
	call rx_post

	/* a readable buffer after a writable one breaks A's transmit queue (2.7.4.2) */
	DESC A_TXD, 0, $TXBUF, $16, $(D_WRITE|D_NEXT|1<<16)
	DESC A_TXD, 1, $TXBUF+16, $100, $0
	call tx_publish
	movzwl A_TXUSED + 2, %eax
	mov a_avail, %ecx
	dec %ecx
	CHECK %eax, %ecx, A_used_a_broken_chain
	mov bar_a, %ebx
	movzbl STATUS(%ebx), %eax
	and $NEEDS_RESET, %eax
	CHECK %eax, $NEEDS_RESET, no_reset_asked_after_a_broken_transmit_chain
	mov $msg_broken, %esi
	call puts
	mov $QA, %edi
	call setup
	movl $0, a_avail
	call marker
	mov $msg_reset, %esi
	call puts

9:	mov $msg_done, %esi
	call puts
	mov failures, %eax
	test %eax, %eax
	jz 1f
	mov $1, %eax
1:	ret

/* enable_dev: memory decoding and bus mastering on for the function ecx names */
enable_dev:
	push %eax
	push %edx
	lea 4(%ecx), %eax
	mov $CFG_ADDR, %dx
	out %eax, %dx
	mov $6, %eax
	mov $CFG_DATA, %dx
	out %ax, %dx
	pop %edx
	pop %eax
	ret

/* setup: resets the device at BAR ebx, takes VERSION_1 and MAC, puts receiveq1 at edi and
 * transmitq1 at edi + 0x4000 (QSIZE entries, rings zeroed) and sets DRIVER_OK */
setup:
	pusha
	movb $0, STATUS(%ebx)
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $0, status_after_reset
	movb $3, STATUS(%ebx)		/* ACKNOWLEDGE | DRIVER */
	movl $0, DFSELECT(%ebx)
	mov DF(%ebx), %eax
	and $F_MAC, %eax
	CHECK %eax, $F_MAC, MAC_not_offered
	movl $1, GFSELECT(%ebx)
	movl $1, GF(%ebx)		/* bit 32: VERSION_1 */
	movl $0, GFSELECT(%ebx)
	movl $F_MAC, GF(%ebx)
	movb $11, STATUS(%ebx)		/* | FEATURES_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $11, features_refused
	push %edi
	mov $0x2000, %ecx		/* both queues: 32 KiB of zeros */
	xor %eax, %eax
	rep stosl
	pop %edi
	xor %edx, %edx
1:	mov %dx, QSELECT(%ebx)
	movw $QSIZE, QSIZE_REG(%ebx)
	mov %edi, QDESC(%ebx)
	movl $0, QDESC+4(%ebx)
	lea 0x1000(%edi), %eax
	mov %eax, QDRIVER(%ebx)
	movl $0, QDRIVER+4(%ebx)
	lea 0x2000(%edi), %eax
	mov %eax, QDEVICE(%ebx)
	movl $0, QDEVICE+4(%ebx)
	movw $1, QENABLE(%ebx)
	add $0x4000, %edi
	inc %edx
	cmp $2, %edx
	jb 1b
	movb $15, STATUS(%ebx)		/* | DRIVER_OK */
	movzbl STATUS(%ebx), %eax
	CHECK %eax, $15, status_not_driver_ok
	popa
	ret

/* mkhdr: struct virtio_net_hdr at TXBUF: flags al, gso_type ah, hdr_len the high half of eax,
 * gso_size to num_buffers hdr_fill (normally 0) */
mkhdr:
	mov %eax, TXBUF
	push %eax
	mov hdr_fill, %eax
	mov %eax, TXBUF+4
	mov %eax, TXBUF+8
	pop %eax
	ret

/* mkframe: ecx bytes of frame at edi, each frame's own pattern; from 14 bytes on, an Ethernet
 * header: destination the MAC at esi, source the MAC at frame_src (A's but for the spoofed
 * frames), type (or 802.1Q TPID) dx */
mkframe:
	pusha
	mov %edx, frame_type
	incl frame_seq
	mov frame_seq, %ebx
	imul $0x3b, %ebx
	xor %eax, %eax
1:	cmp %ecx, %eax
	jae 2f
	lea (%eax,%ebx), %edx
	imul $0x9d, %edx
	mov %dl, (%edi,%eax)
	inc %eax
	jmp 1b
2:	cmp $14, %ecx
	jb 3f
	mov (%esi), %eax
	mov %eax, (%edi)
	movzwl 4(%esi), %eax
	mov %ax, 4(%edi)
	mov frame_src, %edx
	mov (%edx), %eax
	mov %eax, 6(%edi)
	movzwl 4(%edx), %eax
	mov %ax, 10(%edi)
	mov frame_type, %eax
	xchg %al, %ah			/* network byte order */
	mov %ax, 12(%edi)
3:	popa
	ret

/* tx_frame: header (mkhdr: flags al, gso_type ah) and an ecx-byte frame to the MAC at esi, type dx,
 * as one buffer at TXBUF, sent by tx_kick */
tx_frame:
	pusha
	call mkhdr
	mov $TXBUF + HDR, %edi
	call mkframe
	add $HDR, %ecx
	DESC A_TXD, 0, $TXBUF, %ecx, $0
	call tx_kick
	popa
	ret

/* tx_publish: the chain at A's descriptor 0 made available, A's transmitq notified */
tx_publish:
	pusha
	mov a_avail, %eax
	mov %eax, %ecx
	and $QSIZE - 1, %ecx
	movw $0, A_TXAVAIL+4(,%ecx,2)
	inc %eax
	mov %eax, a_avail
	mov %ax, A_TXAVAIL+2
	mov bar_a, %ebx
	movw $1, NOTIFY+4(%ebx)
	popa
	ret

/* tx_kick: tx_publish; the device used the chain at once, with length 0 (nothing written,
 * 2.7.8), and the queue works on */
tx_kick:
	pusha
	call tx_publish
	movzwl A_TXUSED+2, %eax
	mov a_avail, %ecx
	CHECK %eax, %ecx, transmit_chain_of_A_not_used
	dec %ecx
	and $QSIZE - 1, %ecx
	lea A_TXUSED+4(,%ecx,8), %edi
	CHECK (%edi), $0, used_id_of_A
	CHECK 4(%edi), $0, used_length_of_A
	mov bar_a, %ebx
	movzbl STATUS(%ebx), %eax
	and $NEEDS_RESET, %eax
	CHECK %eax, $0, A_asks_for_a_reset
	popa
	ret

/* rx_fill: B's buffer for descriptor ecx filled with 0xa5, the descriptor 2 KiB writable */
rx_fill:
	pusha
	mov %ecx, %edx
	shl $11, %edx
	add $RXBUF, %edx
	mov %edx, %edi
	mov $RXBUF_LEN / 4, %ecx
	mov $0xa5a5a5a5, %eax
	rep stosl
	mov 24(%esp), %ecx		/* pusha's ecx */
	shl $4, %ecx
	mov %edx, B_RXD(%ecx)
	movl $0, B_RXD+4(%ecx)
	movl $RXBUF_LEN, B_RXD+8(%ecx)
	movl $D_WRITE, B_RXD+12(%ecx)
	popa
	ret

/* rx_publish: B's descriptor ecx made available, B's receiveq notified */
rx_publish:
	pusha
	mov b_avail, %eax
	mov %eax, %edx
	and $QSIZE - 1, %edx
	mov %cx, B_RXAVAIL+4(,%edx,2)
	inc %eax
	mov %eax, b_avail
	mov %ax, B_RXAVAIL+2
	mov bar_b, %ebx
	movw $0, NOTIFY(%ebx)
	popa
	ret

rx_post:
	call rx_fill
	jmp rx_publish

/* rx_take: B's next used buffer: eax = id, edx = used length, CF clear; CF set (and a FAIL)
 * when none came */
rx_take:
	push %ecx
	push %esi
	mov $100000, %ecx
1:	movzwl B_RXUSED+2, %eax
	cmpw b_seen, %ax
	jne 2f
	pause
	loop 1b
	mov $msg_no_frame, %esi
	call fail
	stc
	jmp 3f
2:	mov b_seen, %ecx
	and $QSIZE - 1, %ecx
	mov B_RXUSED+4(,%ecx,8), %eax
	mov B_RXUSED+8(,%ecx,8), %edx
	incl b_seen
	clc
3:	pop %esi
	pop %ecx
	ret

/* rx_check: B's next frame is the ecx bytes at esi, behind flags 0, GSO_NONE, num_buffers 1
 * (5.1.6.4.1); its buffer is posted again unless b_nopost */
rx_check:
	pusha
	call rx_take
	jc 9f
	cmp $QSIZE, %eax
	jb 1f
	mov $msg_bad_id, %esi
	call fail
	jmp 9f
1:	lea HDR(%ecx), %ebx
	CHECK %edx, %ebx, used_length_of_a_received_frame
	mov %eax, %ebp
	shl $11, %eax
	lea RXBUF(%eax), %edi
	CHECK (%edi), $0, header_flags_gso_type_hdr_len
	CHECK 4(%edi), $0, header_gso_size_csum_start
	CHECK 8(%edi), $0x10000, header_csum_offset_num_buffers
	add $HDR, %edi
	repe cmpsb
	je 2f
	mov %ecx, %eax			/* bytes left after the first difference */
	mov $msg_bytes, %esi
	call fail
2:	cmpl $0, b_nopost
	jne 9f
	mov %ebp, %ecx
	call rx_post
9:	popa
	ret

/* rx_none: no frame arrived at B beyond those taken */
rx_none:
	push %eax
	push %ecx
	movzwl B_RXUSED+2, %eax
	movzwl b_seen, %ecx
	CHECK %eax, %ecx, a_frame_arrived_at_B
	pop %ecx
	pop %eax
	ret

/* send_check: a well-formed ecx-byte frame to the MAC at esi, type dx, from A arrives at B */
send_check:
	pusha
	xor %eax, %eax
	call tx_frame
	mov $TXBUF + HDR, %esi
	call rx_check
	call rx_none
	popa
	ret

/* marker: a 60-byte broadcast with its own pattern: the next frame B gets, and the only one */
marker:
	pusha
	mov $mac_bcast, %esi
	mov $60, %ecx
	mov $MARK_TYPE, %edx
	call send_check
	popa
	ret

/* after_bad: says what A sent (esi), then the marker */
after_bad:
	call puts
	jmp marker

/* save_frame: the 100-byte frame at TXBUF + HDR copied to SAVE */
save_frame:
	pusha
	mov $TXBUF + HDR, %esi
	mov $SAVE, %edi
	mov $100, %ecx
	rep movsb
	popa
	ret

/* fail: prints "net: FAIL <esi> 0x<eax>" and counts it (check.h) */
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
bad_frames:
	/* flags | gso_type << 8, frame length, type, destination, what */
	.long 0, 1515, ETH_TYPE, mac_bcast, msg_h_1515
	.long 0, 1519, VLAN_TYPE, mac_bcast, msg_h_1519
	.long 0, 13, ETH_TYPE, mac_bcast, msg_h_short
	.long F_NEEDS_CSUM, 100, ETH_TYPE, mac_bcast, msg_h_csum
	.long GSO_TCPV4 << 8, 100, ETH_TYPE, mac_bcast, msg_h_gso
	.long F_NEEDS_CSUM | GSO_TCPV4 << 8, 100, ETH_TYPE, mac_bcast, msg_h_tso
	.long 0, 100, ETH_TYPE, mac_a, msg_h_self
bad_frames_end:
spoofed_frames:
	/* source, destination, what */
	.long mac_b, mac_bcast, msg_s_b
	.long mac_bcast, mac_b, msg_s_bcast
	.long mac_mcast, mac_b, msg_s_mcast
	.long mac_other, mac_b, msg_s_other
spoofed_frames_end:
mac_bcast:	.byte 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
mac_mcast:	.byte 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01	/* IPv4 all-hosts */
mac_other:	.byte 0x02, 0x00, 0x00, 0x00, 0x00, 0x0a	/* neither A's nor B's */
msg_bcast:	.asciz "net: a broadcast frame from A arrived at B byte for byte\n"
msg_unicast:	.asciz "net: a unicast frame to B's MAC arrived, header and frame split\n"
msg_largest:	.asciz "net: 1514-byte and 802.1Q-tagged 1518-byte frames arrived\n"
msg_ignored:	.asciz "net: a frame with unknown flag bits and header fields set arrived\n"
msg_h_1515:	.asciz "net: A sent 1515 bytes without a VLAN tag; not carried\n"
msg_h_1519:	.asciz "net: A sent 1519 bytes with a VLAN tag; not carried\n"
msg_h_short:	.asciz "net: A sent 13 bytes, less than an Ethernet header; not carried\n"
msg_h_csum:	.asciz "net: A sent NEEDS_CSUM without VIRTIO_NET_F_CSUM; not carried\n"
msg_h_gso:	.asciz "net: A sent gso_type TCPV4 without HOST_TSO4; not carried\n"
msg_h_tso:	.asciz "net: A sent NEEDS_CSUM and TCPV4 without offloads; not carried\n"
msg_h_self:	.asciz "net: A sent a frame to its own MAC; not carried\n"
msg_h_hdr:	.asciz "net: A sent 10 bytes, less than a virtio_net_hdr; not carried\n"
msg_h_64k:	.asciz "net: A sent a 64 KiB frame; not carried\n"
msg_h_writable:	.asciz "net: A sent a chain with a device-writable buffer; not carried\n"
msg_s_b:	.asciz "net: A sent a frame from B's MAC; not carried\n"
msg_s_bcast:	.asciz "net: A sent a frame from the broadcast address; not carried\n"
msg_s_mcast:	.asciz "net: A sent a frame from a multicast address; not carried\n"
msg_s_other:	.asciz "net: A sent a frame from a MAC that is not its own; not carried\n"
msg_still_b:	.asciz "net: a unicast to B's MAC still arrived at B after A sent from it\n"
msg_kept:	.asciz "net: a frame sent while B had no receive buffer waited and arrived\n"
msg_small:	.asciz "net: a 40-byte receive buffer came back empty, its frame dropped\n"
msg_readable:	.asciz "net: a device-readable receive buffer came back empty, the frame went to the next\n"
msg_split:	.asciz "net: a frame arrived across a two-buffer receive chain\n"
msg_broken:	.asciz "net: a readable buffer after a writable one broke A's transmit queue\n"
msg_reset:	.asciz "net: A works again after a reset\n"
msg_done:	.asciz "net: done\n"
msg_same_mac:	.asciz "A and B have the same MAC"
msg_no_frame:	.asciz "no frame arrived at B"
msg_bad_id:	.asciz "B's used id is no descriptor of its own"
msg_bytes:	.asciz "a received frame differs from the sent one; bytes left"
msg_fail:	.asciz "net: FAIL "
msg_0x:		.asciz " 0x"
msg_nl:		.asciz "\n"

	.data
	.align 4
bar_a:		.long 0
bar_b:		.long 0
a_avail:	.long 0		/* chains A made available */
b_avail:	.long 0		/* buffers B made available */
b_seen:		.long 0		/* B's used entries taken */
b_nopost:	.long 0
frame_seq:	.long 0
frame_type:	.long 0
hdr_fill:	.long 0		/* mkhdr's gso_size .. num_buffers */
frame_src:	.long mac_a	/* mkframe's source MAC */
failures:	.long 0
mac_a:		.space 8
mac_b:		.space 8
	.section .note.GNU-stack,"",@progbits
