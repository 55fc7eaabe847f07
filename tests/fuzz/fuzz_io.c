/* The whole virtual platform through its port I/O: any sequence of guest port accesses, clock
 * steps, interrupt acknowledgements and console input must leave keel's state consistent, never
 * crash, overrun or loop.
 *
 * Input: a sequence of 8-byte records (a shorter tail is ignored):
 *   byte 0   bits 0-1  operation: 0 read, 1 write, 2 advance the clock, 3 service
 *            bits 2-3  access size: 0 = 1 byte, 1 = 2, 2 = 4, 3 = 3 (invalid: must be refused)
 *   bytes 1-2          port, little-endian
 *   bytes 3-6          value, little-endian (write: the value; clock: nanoseconds, shifted left
 *                      by byte 7 & 15; service: bits 0-7 a console byte, bit 8 power button,
 *                      bit 9 guest reset)
 *   byte 7             clock shift
 * "Service" runs what the vCPU loop does between exits: next-event time, take and acknowledge
 * the pending interrupt, feed the UART, and the console drainer takes (value bits 10-12) pieces
 * of the VM's output ring (core/console_buf.h, a 512-byte ring in fuzz builds). A VM that asked
 * to stop is reset, as keel would. Every byte the UART sends is either taken, dropped and
 * reported, or still queued. */
#include "core/console_buf.h"
#include "tests/support/host_log.h"
#include "vdev/platform.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static uint64_t now;

static uint64_t fz_now(void *ctx)
{
	(void)ctx;
	return now;
}

static void fz_stop(void *ctx, enum vm_stop_reason reason, uint32_t code)
{
	(void)ctx, (void)code;
	if (reason == VM_STOP_NONE)
		abort();
}

static size_t out_bytes, taken_bytes, dropped_bytes;
static struct conbuf con;

static void fz_tx(void *ctx, const uint8_t *buf, size_t n)
{
	(void)ctx;
	if (!n || n > VUART_TX_LINE)
		abort();
	out_bytes += n;
	conbuf_put(&con, buf, n, now);
}

/* One piece for the host console: a whole line behind "fuzz| " when it starts one. */
static void drain_one(void)
{
	char out[CONBUF_TAKE_MAX];
	uint64_t dropped;
	bool start = con.at_line_start;
	uint32_t tail = con.tail;
	size_t n = conbuf_take(&con, "fuzz", out, &dropped);
	size_t raw = con.tail - tail;
	taken_bytes += raw;
	dropped_bytes += dropped;
	if (n > CONBUF_TAKE_MAX || (dropped && n) || raw > CONBUF_LINE)
		abort();
	if (raw && start && (n != raw + 6 || memcmp(out, "fuzz| ", 6) != 0))
		abort();
	if (raw && !start && n != raw)
		abort();
	/* a piece ends at its line's end: no '\n' inside it */
	if (raw && memchr(out + n - raw, '\n', raw - 1))
		abort();
}

static struct platform plat;

static void check(void)
{
	for (unsigned c = 0; c < plat.nr_cpus; c++) {
		const struct vlapic *a = &plat.lapic[c];
		/* vectors 0-15 never enter IRR or ISR */
		if ((a->irr[0] | a->isr[0]) & 0xFFFF)
			abort();
	}
	if (plat.uart.rx_count > VUART_FIFO_SIZE || plat.uart.tx_len >= VUART_TX_LINE)
		abort();
	if (con.head - con.tail > CONBUF_RING || con.line_len >= CONBUF_LINE ||
	    out_bytes != taken_bytes + dropped_bytes + con.dropped + (con.head - con.tail) +
				 con.line_len)
		abort();
	for (unsigned i = 0; i < 3; i++) {
		const struct vpit_channel *ch = &plat.pit.ch[i];
		if (ch->loaded && (ch->period < 1 || ch->period > 65536))
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct vdev_env env = { .ctx = NULL,
				.vm_name = "fuzz",
				.now_ns = fz_now,
				.request_stop = fz_stop,
				.uart_tx = fz_tx };
	struct platform_config cfg;

	now = 1000;
	out_bytes = taken_bytes = dropped_bytes = 0;
	conbuf_init(&con);
	host_log_clear();
	platform_default_config(&cfg);
	if (platform_init(&plat, &env, &cfg))
		abort();
	for (size_t at = 0; at + 8 <= size; at += 8) {
		const uint8_t *r = data + at;
		unsigned op = r[0] & 3, sz = (unsigned[]){ 1, 2, 4, 3 }[(r[0] >> 2) & 3];
		uint16_t port = (uint16_t)(r[1] | r[2] << 8);
		uint32_t val = (uint32_t)r[3] | (uint32_t)r[4] << 8 | (uint32_t)r[5] << 16 |
			       (uint32_t)r[6] << 24;
		int rc;

		switch (op) {
		case 0: {
			uint32_t v = 0x5A5A5A5A;
			rc = platform_io(&plat, port, sz, false, &v);
			if (sz == 3 ? rc != PLATFORM_GP : rc == PLATFORM_GP)
				abort();
			if (sz < 4 && (v >> (8 * sz)) && rc != PLATFORM_GP)
				abort(); /* a read never returns bits beyond its size */
			break;
		}
		case 1:
			rc = platform_io(&plat, port, sz, true, &val);
			if (sz == 3 ? rc != PLATFORM_GP : rc == PLATFORM_GP)
				abort();
			break;
		case 2: {
			uint64_t step = (uint64_t)val << (r[7] & 15);
			if (now + step < (1ull << 60))
				now += step;
			break;
		}
		default: {
			uint64_t next = platform_next_event_ns(&plat, 0);
			if (next != UINT64_MAX && next + 1000000000ull < now)
				abort(); /* a wake-up time long past means a timer stopped firing */
			int v = platform_pending_interrupt(&plat, 0);
			if (v < -1 || v > 255)
				abort();
			if (v >= 0)
				platform_ack_interrupt(&plat, 0, v);
			platform_uart_input(&plat, (uint8_t)val);
			/* as a vCPU does on every exit: a partial line shows once it is old enough */
			conbuf_end_line_older(&con, now, 50000000ull);
			for (unsigned k = 0; k < ((val >> 10) & 7); k++)
				drain_one();
			if (val & 0x100)
				platform_power_button(&plat);
			if (val & 0x200)
				platform_reset(&plat);
			break;
		}
		}
		if (platform_stop_reason(&plat, NULL) != VM_STOP_NONE)
			platform_reset(&plat);
		check();
	}
	platform_next_event_ns(&plat, 0);
	return 0;
}
