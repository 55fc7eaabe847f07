/* A VM's console output on its way to the host console. The guest's UART hands its bytes to the
 * VM's conbuf (a vCPU, with the VM's lock held): they are cut into lines and queued in a bounded
 * ring; later, and on any CPU, the drainer takes them out one line at a time, with the VM's
 * "NAME| " prefix when several VMs share the console, and writes them to the host console. So a
 * vCPU never waits on the host's serial port, and a VM that writes faster than the port takes
 * loses its own output, counted, instead of stalling the others.
 *
 * Lines stay whole: a line enters the ring complete (at '\n', at CONBUF_LINE bytes, or when
 * conbuf_end_line says a partial line must show: a prompt while the guest waits, a line the guest
 * has been busy on for a while), or not at all. So keel's own lines and another VM's never land
 * inside one, with one VM as with several.
 * Host-testable: no locks; the caller serialises every call on one conbuf (keel: the VM's lock). */
#ifndef KEEL_CORE_CONSOLE_BUF_H
#define KEEL_CORE_CONSOLE_BUF_H

#include "lib/types.h"

#ifdef KEEL_FUZZ
#define CONBUF_RING 512u /* small enough that a fuzz input fills it */
#else
#define CONBUF_RING 65536u /* a power of two: the positions run free and wrap */
#endif
#define CONBUF_LINE 256	     /* a longer line goes out in pieces of this size */
#define CONBUF_PREFIX_MAX 32 /* a VM name (CFG_NAME_MAX) */
/* The most conbuf_take writes at once: a prefix, "| " and a line. */
#define CONBUF_TAKE_MAX (CONBUF_PREFIX_MAX + 2 + CONBUF_LINE)

struct conbuf {
	/* the producer's line being assembled, and when its first byte came */
	char line[CONBUF_LINE];
	unsigned line_len;
	uint64_t line_since_ns;
	/* queued bytes are ring[tail .. head) modulo CONBUF_RING; head - tail <= CONBUF_RING */
	uint32_t head, tail;
	/* bytes dropped and not yet reported; the first of them would have gone at drop_at */
	uint64_t dropped;
	uint32_t drop_at;
	bool at_line_start; /* the drainer's: the next byte it hands out starts a line */
	char ring[CONBUF_RING];
};

void conbuf_init(struct conbuf *b);
/* Guest output at time now_ns, cut into whole lines. What does not fit is dropped and counted. */
void conbuf_put(struct conbuf *b, const uint8_t *s, size_t n, uint64_t now_ns);
/* Queues the partial line being assembled (a prompt while the guest waits, or the VM stops). */
void conbuf_end_line(struct conbuf *b);
/* The same for a partial line whose first byte came age_ns or more before now_ns: a guest busy
 * between the pieces of a line ("Loading....") still shows them. */
void conbuf_end_line_older(struct conbuf *b, uint64_t now_ns, uint64_t age_ns);
/* True when conbuf_take has something to hand out. */
bool conbuf_pending(const struct conbuf *b);
/* The drainer's next piece, at most CONBUF_TAKE_MAX bytes written to out: one queued line (up
 * to and including its '\n', or what is queued of it) behind "PREFIX| " when prefix is not NULL
 * and the piece starts a line. When the drainer reaches the place where output was dropped, it
 * returns 0 and sets *dropped to the count (once; the caller reports it), after a lone "\n"
 * first if a partial line was handed out, so the report starts a line of its own. Returns 0 with
 * *dropped 0 when nothing is pending. */
size_t conbuf_take(struct conbuf *b, const char *prefix, char *out, uint64_t *dropped);

#endif
