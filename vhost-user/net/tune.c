// SPDX-License-Identifier: MIT
/*
 * net_tune: pick between two ways of running a data-path loop by the rate
 * each one gets, measured in place, again and again.  See net.h.
 *
 * A round: NET_TUNE_PROBE windows per way, alternating (off, on, off, ...),
 * each way's fastest window kept (the least disturbed by neighbours: a
 * window the host took the CPU away in only loses).  The faster way wins
 * when it is at least NET_TUNE_MARGIN% faster, else "off" (no work added
 * for no gain).  It is then held for NET_TUNE_HOLD windows, or until two
 * windows in a row run NET_TUNE_DRIFT% off the rate it won with (the other
 * side moved, or the load changed; one such window is a neighbour taking
 * the CPU for a moment): then a new round.
 */
#include <stdint.h>
#include <string.h>

#include <vhost-user/net.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

static void start_round(struct net_tune *t)
{
	t->probing = true;
	t->step = 0;
	t->strikes = 0;
	t->best[0] = t->best[1] = UINT64_MAX;
	t->on = false;
}

void net_tune_init(struct net_tune *t, enum net_tune_mode mode)
{
	memset(t, 0, sizeof(*t));
	t->mode = (u8)mode;
	t->on = mode == NET_TUNE_ON;
	if (mode == NET_TUNE_AUTO)
		start_round(t);
}

void net_tune_window(struct net_tune *t, u64 now_ns)
{
	u64 dt;

	t->pkts = 0;
	if (t->mode != NET_TUNE_AUTO)
		return;
	if (!t->t0 || now_ns <= t->t0) {
		/* First window (or a clock that did not move): a start line only. */
		t->t0 = now_ns;
		return;
	}
	dt = now_ns - t->t0;
	t->t0 = now_ns;
	t->windows++;
	t->on_windows += t->on;
	if (t->probing) {
		if (dt < t->best[t->on])
			t->best[t->on] = dt;
		if (++t->step < 2 * NET_TUNE_PROBE) {
			t->on = t->step & 1;
			return;
		}
		/* Shorter window = faster. */
		t->on = t->best[1] * 100 < t->best[0] * (100 - NET_TUNE_MARGIN);
		t->ref = t->best[t->on];
		t->probing = false;
		t->step = NET_TUNE_HOLD;
		t->rounds++;
		return;
	}
	/* One odd window is a neighbour taking the CPU; two in a row, a change. */
	if (dt * 100 > t->ref * (100 + NET_TUNE_DRIFT) ||
	    dt * 100 < t->ref * (100 - NET_TUNE_DRIFT))
		t->strikes++;
	else
		t->strikes = 0;
	if (t->strikes == 2 || !--t->step)
		start_round(t);
}

bool net_flush_lines_supported(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned int a, b, c, d;

	/* CPUID.(EAX=7,ECX=0):EBX bit 23: CLFLUSHOPT */
	return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & (1u << 23));
#else
	return false;
#endif
}

#if defined(__x86_64__) || defined(__i386__)
__attribute__((target("clflushopt")))
void net_flush_lines(const void *p, size_t n)
{
	uintptr_t a = (uintptr_t)p & ~(uintptr_t)63, end = (uintptr_t)p + n;

	for (; a < end; a += 64)
		__builtin_ia32_clflushopt((void *)a);
}
#else
void net_flush_lines(const void *p, size_t n)
{
	(void)p;
	(void)n;
}
#endif

void net_tune_stats(const struct net_tune *t, struct net_tune_stats *st)
{
	st->on = READ_ONCE(t->on);
	st->rounds = READ_ONCE(t->rounds);
	st->windows = READ_ONCE(t->windows);
	st->windows_on = READ_ONCE(t->on_windows);
}

bool net_tune_parse(const char *s, enum net_tune_mode *mode)
{
	if (!strcmp(s, "auto"))
		*mode = NET_TUNE_AUTO;
	else if (!strcmp(s, "on"))
		*mode = NET_TUNE_ON;
	else if (!strcmp(s, "off"))
		*mode = NET_TUNE_OFF;
	else
		return false;
	return true;
}
