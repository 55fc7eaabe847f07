/* A small vsnprintf for keel's console; see lib/fmt.h for what it understands. */
#include "lib/fmt.h"

#include "lib/kstring.h"

struct out {
	char *buf;
	size_t size;
	size_t len; /* length the complete output would have */
};

static void put(struct out *o, char c)
{
	if (o->len + 1 < o->size)
		o->buf[o->len] = c;
	o->len++;
}

static void put_padded(struct out *o, const char *s, size_t n, int width, bool left, char pad)
{
	size_t fill = width > 0 && (size_t)width > n ? (size_t)width - n : 0;

	if (!left)
		while (fill--)
			put(o, pad);
	for (size_t i = 0; i < n; i++)
		put(o, s[i]);
	if (left)
		while (fill--)
			put(o, ' ');
}

static size_t utoa(char *tmp, uint64_t v, unsigned base, bool upper)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	size_t n = 0;

	do {
		tmp[n++] = digits[v % base];
		v /= base;
	} while (v);
	for (size_t i = 0; i < n / 2; i++) {
		char t = tmp[i];
		tmp[i] = tmp[n - 1 - i];
		tmp[n - 1 - i] = t;
	}
	return n;
}

int kvsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct out o = { buf, size, 0 };

	for (const char *p = fmt; *p; p++) {
		if (*p != '%') {
			put(&o, *p);
			continue;
		}
		p++;
		bool left = false, alt = false;
		char pad = ' ';
		for (;; p++) {
			if (*p == '-')
				left = true;
			else if (*p == '0')
				pad = '0';
			else if (*p == '#')
				alt = true;
			else
				break;
		}
		int width = 0;
		while (*p >= '0' && *p <= '9' && width < 1000)
			width = width * 10 + (*p++ - '0');
		int prec = -1;
		if (*p == '.') {
			p++;
			prec = 0;
			if (*p == '*') {
				prec = va_arg(ap, int);
				p++;
			}
			while (*p >= '0' && *p <= '9' && prec < 100000)
				prec = prec * 10 + (*p++ - '0');
		}
		int longs = 0, shorts = 0;
		bool size_t_arg = false;
		for (;; p++) {
			if (*p == 'l')
				longs++;
			else if (*p == 'z')
				size_t_arg = true;
			else if (*p == 'h')
				shorts++;
			else
				break;
		}
		char tmp[24];
		uint64_t u;
		int64_t s;
		switch (*p) {
		case 'd':
		case 'i':
			if (size_t_arg || longs)
				s = longs == 1 || size_t_arg ? (int64_t)va_arg(ap, long)
							     : va_arg(ap, long long);
			else
				s = va_arg(ap, int);
			if (shorts == 1)
				s = (short)s;
			else if (shorts > 1)
				s = (signed char)s; /* NOLINT(bugprone-signed-char-misuse): %hhd */
			if (s < 0) {
				tmp[0] = '-';
				u = (uint64_t)0 - (uint64_t)s;
				put_padded(&o, tmp, utoa(tmp + 1, u, 10, false) + 1, width, left,
					   ' ');
			} else {
				put_padded(&o, tmp, utoa(tmp, (uint64_t)s, 10, false), width, left,
					   pad);
			}
			break;
		case 'u':
		case 'x':
		case 'X':
			/* NOLINTBEGIN(bugprone-branch-clone): it ignores va_arg's type */
			if (size_t_arg)
				u = va_arg(ap, size_t);
			else if (longs == 1)
				u = va_arg(ap, unsigned long);
			else if (longs > 1)
				u = va_arg(ap, unsigned long long);
			else
				u = va_arg(ap, unsigned int);
			/* NOLINTEND(bugprone-branch-clone) */
			if (shorts == 1 && !longs && !size_t_arg)
				u = (unsigned short)u;
			else if (shorts > 1 && !longs && !size_t_arg)
				u = (unsigned char)u;
			if (alt && *p != 'u' && u) {
				/* "%#x": 0x prefix, counted in the width as C does */
				tmp[0] = '0';
				tmp[1] = *p == 'X' ? 'X' : 'x';
				size_t n = utoa(tmp + 2, u, 16, *p == 'X') + 2;
				put_padded(&o, tmp, n, width, left, ' ');
			} else {
				put_padded(&o, tmp, utoa(tmp, u, *p == 'u' ? 10 : 16, *p == 'X'),
					   width, left, pad);
			}
			break;
		case 'p':
			put(&o, '0');
			put(&o, 'x');
			u = (uintptr_t)va_arg(ap, void *);
			put_padded(&o, tmp, utoa(tmp, u, 16, false), width, left, pad);
			break;
		case 'c':
			tmp[0] = (char)va_arg(ap, int);
			put_padded(&o, tmp, 1, width, left, ' ');
			break;
		case 's': {
			const char *str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			size_t n = prec >= 0 ? kstrnlen(str, (size_t)prec) : strlen(str);
			put_padded(&o, str, n, width, left, ' ');
			break;
		}
		case '%':
			put(&o, '%');
			break;
		case '\0':
			p--; /* a lone '%' at the end: print nothing more */
			break;
		default:
			put(&o, '%');
			put(&o, *p);
			break;
		}
	}
	if (size)
		buf[o.len < size ? o.len : size - 1] = '\0';
	return o.len > 0x7fffffff ? 0x7fffffff : (int)o.len;
}

int ksnprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = kvsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

int kfail(char *err, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	kvsnprintf(err, size, fmt, ap);
	va_end(ap);
	return -1;
}
