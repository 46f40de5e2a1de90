/* SPDX-License-Identifier: MIT */
/*
 * A latency histogram for benchmarks (freestanding, header-only): log-linear
 * buckets, 16 per power of two (at most 6.25% error), constant memory and
 * O(1) insertion, so a hot loop can record every I/O without sorting or
 * allocating.  Values are nanoseconds (any unit works).
 */
#ifndef GUEST_DRIVERS_HIST_H
#define GUEST_DRIVERS_HIST_H

#include <virtio/types.h>

#define GD_HIST_SUB_BITS	4
#define GD_HIST_SUB		(1u << GD_HIST_SUB_BITS)
#define GD_HIST_BUCKETS		(64 * GD_HIST_SUB)

struct gd_hist {
	u64 n;
	u64 b[GD_HIST_BUCKETS];
};

static inline unsigned int gd_hist_idx(u64 v)
{
	unsigned int msb;

	if (v < GD_HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	return (msb - GD_HIST_SUB_BITS + 1) * GD_HIST_SUB +
	       (unsigned int)((v >> (msb - GD_HIST_SUB_BITS)) & (GD_HIST_SUB - 1));
}

/* Lower bound of bucket @i. */
static inline u64 gd_hist_value(unsigned int i)
{
	unsigned int e = i / GD_HIST_SUB, m = i % GD_HIST_SUB;

	return e == 0 ? m : (u64)(GD_HIST_SUB + m) << (e - 1);
}

static inline void gd_hist_add(struct gd_hist *h, u64 v)
{
	h->b[gd_hist_idx(v)]++;
	h->n++;
}

/* The @pct-th percentile (1..100): the lower bound of its bucket; 0 if empty. */
static inline u64 gd_hist_pct(const struct gd_hist *h, unsigned int pct)
{
	u64 want = (h->n * pct + 99) / 100, seen = 0;

	if (!h->n)
		return 0;
	for (unsigned int i = 0; i < GD_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen >= want)
			return gd_hist_value(i);
	}
	return 0;
}

#endif
