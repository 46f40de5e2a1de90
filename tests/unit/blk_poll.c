// SPDX-License-Identifier: MIT
/*
 * blk_server_poll_next(): the queue threads' adaptive spin window.  Walks it
 * through the spells a queue sees (a busy guest coming back within the
 * window, an idle queue, a slow disk, the first short spell after those) and
 * the edges (exactly the maximum, a maximum below the start step, no
 * polling at all, the largest --poll-us).
 */
#include <stdio.h>
#include <stdlib.h>

#include <vhost-user/blk_server.h>

#define CHECK_EQ(got, want) do {					\
	unsigned long long g_ = (got), w_ = (want);			\
	if (g_ != w_) {							\
		fprintf(stderr, "%s:%d: %s = %llu, want %llu\n",	\
			__FILE__, __LINE__, #got, g_, w_);		\
		exit(1);						\
	}								\
} while (0)

#define US 1000ull

int main(void)
{
	const u64 max = 64 * US;
	u64 w = max;

	/* A guest that is back within the window keeps the whole window. */
	for (int i = 0; i < 10; i++)
		w = blk_server_poll_next(w, max, 30 * US);
	CHECK_EQ(w, max);
	CHECK_EQ(blk_server_poll_next(max, max, max), max);	/* boundary: covered */

	/* Long spells (idle queue, slow disk): halve, then stop spinning. */
	CHECK_EQ(w = blk_server_poll_next(w, max, max + 1), 32 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 200 * US), 16 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 1000000 * US), 8 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 200 * US), BLK_POLL_START_NS);
	CHECK_EQ(w = blk_server_poll_next(w, max, 200 * US), 0);
	CHECK_EQ(w = blk_server_poll_next(w, max, 200 * US), 0);

	/* Short spells again: start small, double, stop at the maximum. */
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), BLK_POLL_START_NS);
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), 8 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), 16 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), 32 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), 64 * US);
	CHECK_EQ(w = blk_server_poll_next(w, max, 10 * US), 64 * US);

	/* A maximum that is not a power-of-two multiple of the start step. */
	CHECK_EQ(blk_server_poll_next(32 * US, 50 * US, 1 * US), 50 * US);
	/* A maximum below the start step: capped, then off after a long spell. */
	CHECK_EQ(blk_server_poll_next(0, 2 * US, 1 * US), 2 * US);
	CHECK_EQ(blk_server_poll_next(2 * US, 2 * US, 3 * US), 0);
	/* poll_us 0: never a window. */
	CHECK_EQ(blk_server_poll_next(0, 0, 0), 0);
	CHECK_EQ(blk_server_poll_next(0, 0, 5 * US), 0);
	/* The largest --poll-us does not overflow. */
	{
		const u64 big = (u64)BLK_SERVER_MAX_POLL_US * US;

		CHECK_EQ(blk_server_poll_next(big, big, big), big);
		CHECK_EQ(blk_server_poll_next(big, big, ~0ull), big / 2);
	}
	printf("blk_poll: ok\n");
	return 0;
}
