// SPDX-License-Identifier: MIT
/*
 * net_tune (vhost-user/net/tune.c): the choice between two ways of running
 * the TX loop, fed synthetic window times (the clock is an argument), and
 * net_flush_lines() on real memory.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhost-user/net.h>

#include "check.h"

#define MS 1000000ull

static u64 now;

/* One window of NET_TUNE_WINDOW packets that took @ns; returns the way to run next. */
static bool window(struct net_tune *t, u64 ns)
{
	now += ns;
	CHECK(!net_tune_count(t, NET_TUNE_WINDOW - 1));
	CHECK(net_tune_count(t, 1));
	net_tune_window(t, now);
	return t->on;
}

/* A fresh tuner with its start line drawn. */
static void fresh(struct net_tune *t)
{
	net_tune_init(t, NET_TUNE_AUTO);
	now = 1000 * MS;
	CHECK(net_tune_count(t, NET_TUNE_WINDOW));
	net_tune_window(t, now);	/* start line: not a measurement */
	CHECK(t->windows == 0 && t->probing && !t->on);
}

/* A whole round where "off" windows take @off ns and "on" ones @on ns. */
static bool round_of(struct net_tune *t, u64 off, u64 on)
{
	int i;

	CHECK(t->probing);
	for (i = 0; i < 2 * NET_TUNE_PROBE; i++) {
		/* The ways take turns: off, on, off, ... */
		CHECK(t->on == (i & 1));
		window(t, t->on ? on : off);
	}
	CHECK(!t->probing);
	return t->on;
}

static void fixed_modes(void)
{
	struct net_tune t;
	int i;

	net_tune_init(&t, NET_TUNE_OFF);
	for (i = 0; i < 3; i++) {
		CHECK(!net_tune_count(&t, NET_TUNE_WINDOW));	/* never asks for the clock */
		net_tune_window(&t, 1000 * MS * (i + 1));
		CHECK(!t.on && !t.windows && !t.rounds);
	}
	net_tune_init(&t, NET_TUNE_ON);
	for (i = 0; i < 3; i++) {
		CHECK(!net_tune_count(&t, NET_TUNE_WINDOW));
		net_tune_window(&t, 1000 * MS * (i + 1));
		CHECK(t.on && !t.windows && !t.rounds);
	}
}

static void picks_the_faster(void)
{
	struct net_tune t;

	/* "on" 10% faster: on. */
	fresh(&t);
	CHECK(round_of(&t, 4 * MS, 36 * MS / 10));
	CHECK(t.rounds == 1 && t.windows == 2 * NET_TUNE_PROBE);
	CHECK(t.on_windows == NET_TUNE_PROBE);
	/* "on" slower: off. */
	fresh(&t);
	CHECK(!round_of(&t, 4 * MS, 5 * MS));
	/* "on" faster by less than the margin: off (no work for nothing). */
	fresh(&t);
	CHECK(!round_of(&t, 4 * MS, 4 * MS - 4 * MS * (NET_TUNE_MARGIN - 1) / 100));
	/* Equal: off. */
	fresh(&t);
	CHECK(!round_of(&t, 4 * MS, 4 * MS));
}

/* A window the host took the CPU away in does not decide a round. */
static void one_bad_window_does_not_decide(void)
{
	struct net_tune t;
	int i;

	fresh(&t);
	for (i = 0; i < 2 * NET_TUNE_PROBE; i++) {
		u64 dt = t.on ? 3 * MS : 4 * MS;

		if (i == 1 || i == 2 * NET_TUNE_PROBE - 1)
			dt = 40 * MS;	/* the first and the last "on" window stalled */
		window(&t, dt);
	}
	CHECK(!t.probing && t.on);
}

static void holds_then_measures_again(void)
{
	struct net_tune t;
	int i;

	fresh(&t);
	CHECK(round_of(&t, 4 * MS, 3 * MS));
	for (i = 0; i < NET_TUNE_HOLD - 1; i++) {
		CHECK(window(&t, 3 * MS));
		CHECK(!t.probing);
	}
	window(&t, 3 * MS);
	CHECK(t.probing && !t.on);	/* a new round starts with "off" */
	CHECK(t.rounds == 1);
	/* Now the other way is the faster one: the next round says so. */
	CHECK(!round_of(&t, 3 * MS, 4 * MS));
	CHECK(t.rounds == 2);
}

static void rate_change_starts_a_round(void)
{
	struct net_tune t;
	int i;

	fresh(&t);
	CHECK(round_of(&t, 4 * MS, 3 * MS));
	/* Small jitter and single odd windows are ignored... */
	for (i = 0; i < 20; i++) {
		window(&t, i % 5 == 0 ? 6 * MS : 3 * MS + (i & 1) * MS / 10);
		CHECK(!t.probing && t.on);
	}
	/* ...two in a row off by more than NET_TUNE_DRIFT % are not. */
	window(&t, 3 * MS * (100 + NET_TUNE_DRIFT + 5) / 100);
	CHECK(!t.probing);
	window(&t, 3 * MS * (100 + NET_TUNE_DRIFT + 5) / 100);
	CHECK(t.probing && !t.on);
	CHECK(round_of(&t, 5 * MS, 4 * MS));
	/* Faster counts too: the other way may be better now. */
	window(&t, 2 * MS);
	window(&t, 2 * MS);
	CHECK(t.probing);
	CHECK(t.rounds == 2);
}

/* A clock that did not move (or went back) is a new start line, no division. */
static void clock_oddities(void)
{
	struct net_tune t;

	fresh(&t);
	net_tune_count(&t, NET_TUNE_WINDOW);
	net_tune_window(&t, now);
	CHECK(t.windows == 0 && t.probing && !t.on);
	net_tune_count(&t, NET_TUNE_WINDOW);
	net_tune_window(&t, now - MS);
	CHECK(t.windows == 0);
	now -= MS;
	CHECK(round_of(&t, 4 * MS, 2 * MS));
}

static void flush_lines(void)
{
	size_t n = 64 * 1024;
	unsigned char *buf = malloc(n);
	FILE *f;
	char line[4096];
	bool listed = false;
	size_t i;

	CHECK(buf);
	if (!buf)
		return;
	for (i = 0; i < n; i++)
		buf[i] = (unsigned char)(i * 7);
	/* Unaligned ends, a zero length, the whole buffer: the data stays. */
	net_flush_lines(buf + 3, 1);
	net_flush_lines(buf + 61, 130);
	net_flush_lines(buf + 100, 0);
	net_flush_lines(buf, n);
	for (i = 0; i < n; i++)
		if (buf[i] != (unsigned char)(i * 7))
			break;
	CHECK(i == n);
	free(buf);
	/* The CPUID probe agrees with the kernel's view of the CPU. */
	f = fopen("/proc/cpuinfo", "r");
	if (f) {
		while (fgets(line, sizeof(line), f))
			if (!strncmp(line, "flags", 5) && strstr(line, " clflushopt"))
				listed = true;
		fclose(f);
#if defined(__x86_64__)
		CHECK(net_flush_lines_supported() == listed);
#endif
	}
}

int main(void)
{
	fixed_modes();
	picks_the_faster();
	one_bad_window_does_not_decide();
	holds_then_measures_again();
	rate_change_starts_a_round();
	clock_oddities();
	flush_lines();
	return check_exit("net_tune");
}
