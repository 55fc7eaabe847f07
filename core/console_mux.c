#include "core/console_mux.h"

static bool target_alive(const struct console_mux *m, unsigned t)
{
	if (t >= m->nr_vms)
		return true; /* the shell */
	return !m->vm_alive || m->vm_alive(m->ctx, t);
}

void console_mux_init(struct console_mux *m, unsigned nr_vms, bool (*vm_alive)(void *, unsigned),
		      void *ctx)
{
	m->nr_vms = nr_vms;
	m->vm_alive = vm_alive;
	m->ctx = ctx;
	m->held = 0;
	m->focus = 0;
	while (!target_alive(m, m->focus))
		m->focus++;
}

/* The first alive target after the focus, cyclically; the shell ends every search, so the loop
 * visits at most nr_vms + 1 targets and comes back to the focus only when nothing else lives. */
static unsigned next_target(const struct console_mux *m)
{
	unsigned t = m->focus;

	do
		t = t >= m->nr_vms ? 0 : t + 1;
	while (!target_alive(m, t));
	return t;
}

unsigned console_mux_feed(struct console_mux *m, uint8_t c, uint8_t out[CONSOLE_HOTKEY_COUNT],
			  bool *switched)
{
	*switched = false;
	if (c == CONSOLE_HOTKEY) {
		if (++m->held < CONSOLE_HOTKEY_COUNT)
			return 0;
		m->held = 0;
		m->focus = next_target(m);
		*switched = true;
		return 0;
	}
	/* Not a switch after all: the hotkeys held so far were meant for the focus. */
	unsigned n = 0;
	while (n < m->held)
		out[n++] = CONSOLE_HOTKEY;
	out[n++] = c;
	m->held = 0;
	return n;
}

bool console_mux_target_stopped(struct console_mux *m, unsigned i)
{
	if (i >= m->nr_vms || i != m->focus)
		return false;
	/* VM i is excluded even if vm_alive still says yes: the host may tell us before it updates
	 * the state vm_alive reads. */
	for (unsigned k = 1; k < m->nr_vms; k++) {
		unsigned t = (i + k) % m->nr_vms;
		if (target_alive(m, t)) {
			m->focus = t;
			return true;
		}
	}
	m->focus = m->nr_vms;
	return true;
}

bool console_mux_is_shell(const struct console_mux *m)
{
	return m->focus >= m->nr_vms;
}
