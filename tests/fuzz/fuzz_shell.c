/* The serial console's input path: any bytes typed at keel go through the console multiplexer and,
 * while the shell has the focus, into the shell, which runs what they spell against a fake host
 * whose stop and restart really change the VMs' states. Nothing typed may be lost or duplicated,
 * the focus must always be the shell or a running VM, and the shell may never write a byte a
 * serial terminal would act on other than CR, LF, backspace and the bell.
 *
 * Input: byte 0 picks the VMs: bits 0-2 their number (modulo 5), bits 3-6 which of them start
 * running. Every later byte is typed. */
#include "core/console_mux.h"
#include "core/shell.h"
#include "lib/kstring.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_VMS 4

static const char *const names[MAX_VMS] = { "a", "b", "vm-c", "d_4" };
static unsigned nr_vms;
static bool running[MAX_VMS];
static struct console_mux mux;
static bool last_was_cr;

static bool fz_alive(void *ctx, unsigned i)
{
	(void)ctx;
	if (i >= nr_vms)
		abort();
	return running[i];
}

static unsigned fz_nr_vms(void *ctx)
{
	(void)ctx;
	return nr_vms;
}

static void fz_vm_view(void *ctx, unsigned i, struct shell_vm_view *out)
{
	(void)ctx;
	if (i >= nr_vms)
		abort();
	out->name = names[i];
	out->state = running[i] ? "running" : "stopped";
	out->nr_vcpus = i + 1;
	out->memory = (i + 1) * 3 * MiB;
	out->uptime_ns = running[i] ? 1000000000ull * 3601 * i : 0;
	out->restarts = i;
	out->pmu_msr_accesses = ~0ull >> i;
	out->mitig = (struct mitig_counts){ ~0ull, ~0ull >> i, i, 0 };
	out->nr_nets = i; /* 0 to 3 */
}

/* counters at their widest, the switch name at its longest, and the name NULL on one */
static void fz_vm_net(void *ctx, unsigned i, unsigned net, struct shell_net_view *out)
{
	(void)ctx;
	if (i >= nr_vms || net >= i)
		abort();
	out->sw = net == 1 ? NULL : "abcdefghijklmnopqrstuvwxyz01234";
	memset(out->mac, (int)(0xff - net), sizeof(out->mac));
	out->attached = running[i];
	out->tx_frames = out->tx_bytes = out->tx_bad_chain = out->tx_bad_header = ~0ull;
	out->tx_bad_length = out->tx_no_link = out->rx_frames = out->rx_bytes = ~0ull >> net;
	out->rx_ring_full = out->rx_too_small = out->rx_lost = out->rx_flushed = ~0ull;
	out->rx_bad_chain = out->rx_queued = ~0ull;
}

static void fz_vm_exits(void *ctx, unsigned i, unsigned vcpu, uint64_t counts[NR_EXIT_REASONS])
{
	(void)ctx;
	if (i >= nr_vms || vcpu > i)
		abort();
	for (unsigned r = 0; r < NR_EXIT_REASONS; r++)
		counts[r] = (r * 7 + i + vcpu) % 5 ? 0 : ~0ull >> (r + vcpu);
}

static int fz_vm_stop(void *ctx, unsigned i, char *err, size_t err_size)
{
	(void)ctx;
	if (i >= nr_vms)
		abort();
	if (!running[i]) {
		kstrlcpy(err, "not running", err_size);
		return -1;
	}
	running[i] = false;
	console_mux_target_stopped(&mux, i);
	return 0;
}

static int fz_vm_restart(void *ctx, unsigned i, char *err, size_t err_size)
{
	(void)ctx, (void)err, (void)err_size;
	if (i >= nr_vms)
		abort();
	running[i] = true;
	return 0;
}

static void fz_mem(void *ctx, struct shell_mem *out)
{
	(void)ctx;
	out->free_bytes = ~0ull;
	out->largest_free = ~0ull;
	out->used_bytes = 0;
	out->keel_bytes = 1;
}

/* a balloon with every statistic reported, and a target refused when above 1 GiB with a
 * message filling the buffer unterminated */
static void fz_vm_balloon(void *ctx, unsigned i, struct shell_balloon_view *out)
{
	(void)ctx;
	if (i >= nr_vms)
		abort();
	*out = (struct shell_balloon_view){ .present = true,
					    .target_bytes = ~0ull,
					    .actual_bytes = ~0ull,
					    .reports = i,
					    .stat_valid = ~0u };
	for (unsigned t = 0; t < 10; t++)
		out->stat[t] = ~0ull - t;
}

static int fz_vm_set_balloon(void *ctx, unsigned i, uint64_t bytes, char *err, size_t err_size)
{
	(void)ctx;
	if (i >= nr_vms)
		abort();
	if (bytes > (1ull << 30)) {
		memset(err, '\x1b', err_size);
		return -1;
	}
	return 0;
}

static void fz_write(void *ctx, const char *s, size_t n)
{
	(void)ctx;
	for (size_t i = 0; i < n; i++) {
		uint8_t c = (uint8_t)s[i];
		bool ok = (c >= 0x20 && c < 0x7f) || c == '\r' || c == '\b' || c == '\a' ||
			  (c == '\n' && last_was_cr);
		if (!ok)
			abort();
		last_was_cr = c == '\r';
	}
}

static const struct shell_host host = {
	.nr_vms = fz_nr_vms,
	.vm_view = fz_vm_view,
	.vm_exits = fz_vm_exits,
	.vm_net = fz_vm_net,
	.vm_stop = fz_vm_stop,
	.vm_restart = fz_vm_restart,
	.mem = fz_mem,
	.vm_balloon = fz_vm_balloon,
	.vm_set_balloon = fz_vm_set_balloon,
	.write = fz_write,
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct shell sh;
	size_t delivered = 0, switches = 0;

	if (!size)
		return 0;
	nr_vms = data[0] % 8 % 5;
	for (unsigned i = 0; i < MAX_VMS; i++)
		running[i] = data[0] >> (3 + i) & 1;
	last_was_cr = false;
	console_mux_init(&mux, nr_vms, fz_alive, NULL);
	shell_init(&sh, &host);
	shell_prompt(&sh);

	for (size_t k = 1; k < size; k++) {
		uint8_t out[CONSOLE_HOTKEY_COUNT];
		bool switched;
		unsigned n = console_mux_feed(&mux, data[k], out, &switched);
		if (n > CONSOLE_HOTKEY_COUNT || (n && switched))
			abort();
		/* a byte that is no hotkey comes out at once, last, after the held ones */
		if (data[k] != CONSOLE_HOTKEY && (!n || out[n - 1] != data[k]))
			abort();
		for (unsigned j = 0; j + 1 < n; j++)
			if (out[j] != CONSOLE_HOTKEY)
				abort();
		delivered += n;
		switches += switched;
		if (console_mux_is_shell(&mux))
			for (unsigned j = 0; j < n; j++)
				shell_input(&sh, out[j]);
		/* nothing lost, nothing made up */
		if (delivered + mux.held + switches * CONSOLE_HOTKEY_COUNT != k)
			abort();
		if (mux.held >= CONSOLE_HOTKEY_COUNT || mux.focus > nr_vms ||
		    (!console_mux_is_shell(&mux) && !running[mux.focus]))
			abort();
		if (sh.len > sh.typed || sh.len >= SHELL_LINE_SIZE)
			abort();
	}
	return 0;
}
