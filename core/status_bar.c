/* The status bar's text (core/status_bar.h). */
#include "core/status_bar.h"

#include "lib/fmt.h"

/* bytes with one decimal in the largest unit that keeps it at least 1: "512B", "1.5K", "20.5G" */
static void size_text(char *buf, size_t size, uint64_t bytes)
{
	static const char units[] = { 'K', 'M', 'G', 'T' };
	uint64_t unit = 1;
	int u = -1;

	while (u + 1 < (int)sizeof(units) && bytes >= unit * 1024) {
		unit *= 1024;
		u++;
	}
	if (u < 0) {
		ksnprintf(buf, size, "%lluB", (unsigned long long)bytes);
		return;
	}
	/* tenths, rounded down: never shows more than there is */
	uint64_t tenths = bytes <= UINT64_MAX / 10 ? bytes * 10 / unit : bytes / unit * 10;
	ksnprintf(buf, size, "%llu.%llu%c", (unsigned long long)(tenths / 10),
		  (unsigned long long)(tenths % 10), units[u]);
}

static void rate_text(char *buf, size_t size, const struct status_sample *prev,
		      const struct status_sample *now, uint64_t before, uint64_t after)
{
	char n[24];

	if (!prev || now->now_ns <= prev->now_ns || after < before) {
		ksnprintf(buf, size, "-");
		return;
	}
	uint64_t dt = now->now_ns - prev->now_ns, delta = after - before;
	/* bytes per second without overflow (saturating: no disk moves 16 EiB a second) */
	uint64_t per_s;
	if (delta <= UINT64_MAX / 1000000000ull)
		per_s = delta * 1000000000ull / dt;
	else if (delta / dt <= UINT64_MAX / 1000000000ull)
		per_s = delta / dt * 1000000000ull;
	else
		per_s = UINT64_MAX;
	size_text(n, sizeof(n), per_s);
	ksnprintf(buf, size, "%s/s", n);
}

void status_bar_format(char *buf, size_t size, const struct status_sample *prev,
		       const struct status_sample *now)
{
	char used[24], free_[24], disk[32], net[32];

	size_text(used, sizeof(used), now->mem_used);
	size_text(free_, sizeof(free_), now->mem_free);
	rate_text(disk, sizeof(disk), prev, now, prev ? prev->disk_bytes : 0, now->disk_bytes);
	rate_text(net, sizeof(net), prev, now, prev ? prev->net_bytes : 0, now->net_bytes);
	ksnprintf(buf, size,
		  "keel | vms %u running, %u stopped | cpus %u | mem %s used, %s free | disk %s | "
		  "net %s",
		  now->vms_running, now->vms_stopped, now->cpus, used, free_, disk, net);
}
