#include "core/console_buf.h"

#include "lib/kstring.h"

_Static_assert((CONBUF_RING & (CONBUF_RING - 1)) == 0, "the free-running positions wrap");

void conbuf_init(struct conbuf *b)
{
	b->line_len = 0;
	b->head = b->tail = 0;
	b->dropped = 0;
	b->drop_at = 0;
	b->at_line_start = true;
}

/* One piece into the ring, whole or not at all: a piece is a line (or a pass-through chunk), and
 * half a line would come out glued to whatever follows it. */
static void queue(struct conbuf *b, const char *s, size_t n)
{
	size_t room = CONBUF_RING - (b->head - b->tail);
	if (n > room) {
		if (!b->dropped)
			b->drop_at = b->head;
		b->dropped += n;
		return;
	}
	size_t at = b->head % CONBUF_RING, first = MIN(n, CONBUF_RING - at);
	memcpy(b->ring + at, s, first);
	memcpy(b->ring, s + first, n - first);
	b->head += (uint32_t)n;
}

void conbuf_put(struct conbuf *b, const uint8_t *s, size_t n, uint64_t now_ns)
{
	for (size_t i = 0; i < n; i++) {
		if (!b->line_len)
			b->line_since_ns = now_ns;
		b->line[b->line_len++] = (char)s[i];
		if (s[i] == '\n' || b->line_len == CONBUF_LINE)
			conbuf_end_line(b);
	}
}

void conbuf_end_line(struct conbuf *b)
{
	if (b->line_len)
		queue(b, b->line, b->line_len);
	b->line_len = 0;
}

void conbuf_end_line_older(struct conbuf *b, uint64_t now_ns, uint64_t age_ns)
{
	if (b->line_len && now_ns - b->line_since_ns >= age_ns)
		conbuf_end_line(b);
}

bool conbuf_pending(const struct conbuf *b)
{
	return b->head != b->tail || b->dropped;
}

size_t conbuf_take(struct conbuf *b, const char *prefix, char *out, uint64_t *dropped)
{
	*dropped = 0;
	if (b->dropped && b->drop_at == b->tail) {
		if (!b->at_line_start) {
			out[0] = '\n';
			b->at_line_start = true;
			return 1;
		}
		*dropped = b->dropped;
		b->dropped = 0;
		return 0;
	}
	uint32_t limit = b->head - b->tail;
	if (!limit)
		return 0;
	/* what was queued before the drop goes out first, then the report */
	if (b->dropped)
		limit = MIN(limit, b->drop_at - b->tail);
	limit = MIN(limit, (uint32_t)CONBUF_LINE);
	size_t n = 0;
	if (prefix && b->at_line_start) {
		size_t plen = kstrnlen(prefix, CONBUF_PREFIX_MAX);
		for (n = 0; n < plen; n++)
			out[n] = prefix[n];
		out[n++] = '|';
		out[n++] = ' ';
	}
	uint32_t i = 0;
	while (i < limit) {
		char c = b->ring[(b->tail + i++) % CONBUF_RING];
		out[n++] = c;
		if (c == '\n')
			break;
	}
	b->tail += i;
	b->at_line_start = out[n - 1] == '\n';
	return n;
}
