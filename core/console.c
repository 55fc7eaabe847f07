/* keel's log lines: "[SSSS.mmmmmm] text" (CONVENTIONS.md) on every console. */
#include "core/console.h"

#include "arch/x86/time.h"
#include "core/console_line.h"
#include "drivers/fbcon.h"
#include "drivers/uart16550.h"
#include "lib/fmt.h"
#include "lib/kstring.h"
#include "lib/spinlock.h"

#define COM1 0x3f8

/* One line at a time from every CPU. */
static struct spinlock lock;
static struct console_line open_line;
/* keel's log lines as a writer of their own */
static const char klog_writer;

void console_init_serial(void)
{
	host_uart_init(COM1);
}

void console_init_framebuffer(const struct boot_framebuffer *fb)
{
	fbcon_init(fb);
}

static void write_raw(const char *s, size_t n)
{
	host_uart_write(s, n);
	fbcon_write(s, n);
}

/* Bounded: a CPU that died holding the lock must not silence the others' last words. */
void console_write(const void *writer, const char *s, size_t n)
{
	bool locked = spin_lock_bounded(&lock, 100000000ul);
	if (console_line_claim(&open_line, writer, s, n))
		write_raw("\n", 1);
	write_raw(s, n);
	if (locked)
		spin_unlock(&lock);
}

bool console_has_framebuffer(void)
{
	return fbcon_active();
}

void console_set_status(const char *text)
{
	bool locked = spin_lock_bounded(&lock, 100000000ul);
	fbcon_set_status(text);
	if (locked)
		spin_unlock(&lock);
}

void klog(const char *fmt, ...)
{
	char line[512];
	uint64_t us = time_now_us();
	int n = ksnprintf(line, sizeof(line), "[%04llu.%06llu] ",
			  (unsigned long long)(us / 1000000), (unsigned long long)(us % 1000000));
	va_list ap;

	va_start(ap, fmt);
	kvsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	size_t len = strlen(line);
	line[len++] = '\n';
	console_write(&klog_writer, line, len);
}
