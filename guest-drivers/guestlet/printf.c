/* SPDX-License-Identifier: MIT */
/*
 * A small printf for guestlet: %d %i %u %x %X %c %s %p %%, flags '-' and '0',
 * width (digits or '*'), precision for %s only (".N" or ".*"), length l, ll, z.  One formatter, two sinks (the
 * serial console and a buffer).
 */
#include "internal.h"

struct gl_sink {
	char *buf;		/* NULL: the console */
	size_t size;
	size_t len;		/* characters produced so far */
};

static void sink_put(struct gl_sink *s, char c)
{
	if (!s->buf)
		gl_serial_putc(c);
	else if (s->len + 1 < s->size)
		s->buf[s->len] = c;
	s->len++;
}

static void sink_pad(struct gl_sink *s, char c, int n)
{
	while (n-- > 0)
		sink_put(s, c);
}

static void sink_field(struct gl_sink *s, const char *str, size_t len,
		       int width, int left, char pad)
{
	int fill = width > (int)len ? width - (int)len : 0;
	size_t i;

	if (!left)
		sink_pad(s, pad, fill);
	for (i = 0; i < len; i++)
		sink_put(s, str[i]);
	if (left)
		sink_pad(s, ' ', fill);
}

static void sink_number(struct gl_sink *s, unsigned long long v, int neg,
			unsigned int base, int upper, int width, int left,
			int zero)
{
	const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
	char tmp[24];
	int n = 0;

	do {
		tmp[sizeof(tmp) - 1 - n++] = digits[v % base];
		v /= base;
	} while (v);
	if (neg && zero && !left) {
		sink_put(s, '-');
		sink_field(s, tmp + sizeof(tmp) - n, n, width - 1, 0, '0');
		return;
	}
	if (neg)
		tmp[sizeof(tmp) - 1 - n++] = '-';
	sink_field(s, tmp + sizeof(tmp) - n, n, width, left,
		   zero && !left ? '0' : ' ');
}

static void gl_format(struct gl_sink *s, const char *fmt, va_list ap)
{
	for (; *fmt; fmt++) {
		int left = 0, zero = 0, width = 0, lng = 0, prec = -1;
		unsigned long long u;
		long long d;
		const char *str;
		size_t len;

		if (*fmt != '%') {
			sink_put(s, *fmt);
			continue;
		}
		fmt++;
		for (;; fmt++) {
			if (*fmt == '-')
				left = 1;
			else if (*fmt == '0')
				zero = 1;
			else
				break;
		}
		if (*fmt == '*') {
			width = va_arg(ap, int);
			if (width < 0) {
				left = 1;
				width = -width;
			}
			fmt++;
		}
		while (*fmt >= '0' && *fmt <= '9')
			width = width * 10 + (*fmt++ - '0');
		if (*fmt == '.') {
			fmt++;
			prec = 0;
			if (*fmt == '*') {
				prec = va_arg(ap, int);
				fmt++;
			}
			while (*fmt >= '0' && *fmt <= '9')
				prec = prec * 10 + (*fmt++ - '0');
		}
		while (*fmt == 'l' || *fmt == 'z') {
			lng++;
			fmt++;
		}
		switch (*fmt) {
		case 'd':
		case 'i':
			d = lng >= 2 ? va_arg(ap, long long) :
			    lng == 1 ? va_arg(ap, long) : va_arg(ap, int);
			u = d < 0 ? -(unsigned long long)d : (unsigned long long)d;
			sink_number(s, u, d < 0, 10, 0, width, left, zero);
			break;
		case 'u':
		case 'x':
		case 'X':
			u = lng >= 2 ? va_arg(ap, unsigned long long) :
			    lng == 1 ? va_arg(ap, unsigned long) :
				       va_arg(ap, unsigned int);
			sink_number(s, u, 0, *fmt == 'u' ? 10 : 16, *fmt == 'X',
				    width, left, zero);
			break;
		case 'p':
			sink_put(s, '0');
			sink_put(s, 'x');
			sink_number(s, (unsigned long)va_arg(ap, void *), 0, 16,
				    0, width > 2 ? width - 2 : 0, left, zero);
			break;
		case 'c':
			sink_pad(s, ' ', left ? 0 : width - 1);
			sink_put(s, (char)va_arg(ap, int));
			sink_pad(s, ' ', left ? width - 1 : 0);
			break;
		case 's':
			str = va_arg(ap, const char *);
			if (!str)
				str = "(null)";
			for (len = 0; (prec < 0 || len < (size_t)prec) && str[len];
			     len++)
				;
			sink_field(s, str, len, width, left, ' ');
			break;
		case '%':
			sink_put(s, '%');
			break;
		case '\0':
			return;
		default:	/* unknown conversion: show it */
			sink_put(s, '%');
			sink_put(s, *fmt);
			break;
		}
	}
}

int gd_vprintf(const char *fmt, va_list ap)
{
	struct gl_sink s = { 0 };

	gl_format(&s, fmt, ap);
	return (int)s.len;
}

int gd_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gd_vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int gd_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	struct gl_sink s = { .buf = buf, .size = size };

	gl_format(&s, fmt, ap);
	if (size)
		buf[s.len < size ? s.len : size - 1] = '\0';
	return (int)s.len;
}

int gd_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = gd_vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}
