// SPDX-License-Identifier: MIT
/*
 * "discard": a port that takes every frame sent to it, counts it and drops
 * it, and never receives one.  No DPDK.
 *
 * The guest's side runs exactly as with any other port: each chain is
 * validated and its frame copied into a buffer the port owns.  Only the
 * port's own work is gone, so this is the back-end's cost with a free port:
 * a sink to measure a guest's transmit rate, or what the back-end itself
 * spends per frame (perf/net.sh runs it as a row of its own).
 *
 * Buffers: each queue has a small stack of them, taken by alloc() and back
 * at once when sent or freed.  The data path allocates at most NET_BURST at
 * a time and hands every one back before its next allocation, so the same
 * few stay in this core's cache.
 *
 * Security model: frames are never read here; the lengths counted come from
 * net_tx_pkt() after validation.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "internal.h"

#define DISCARD_BUFS	(2 * NET_BURST)	/* per queue: two bursts in hand */

struct discard_queue {
	u8 *arena;			/* DISCARD_BUFS buffers of buf_size */
	u8 *free[DISCARD_BUFS];
	u32 nr_free;
	/* Counted by this queue's thread only. */
	u64 tx_packets, tx_bytes;
} __attribute__((aligned(64)));

struct discard_port {
	struct net_port port;
	u32 buf_size;			/* max_frame rounded up to a cache line */
	int never_fd;			/* an eventfd nobody writes: see rx_fd */
	struct discard_queue *q;
};

static inline struct discard_port *to_discard(struct net_port *p)
{
	return container_of(p, struct discard_port, port);
}

static unsigned int discard_rx_burst(struct net_port *p, u16 queue,
				     struct net_pkt *pkts, unsigned int n)
{
	(void)p;
	(void)queue;
	(void)pkts;
	(void)n;
	return 0;
}

static unsigned int discard_alloc(struct net_port *p, u16 queue,
				  struct net_pkt *pkts, unsigned int n)
{
	struct discard_queue *dq = &to_discard(p)->q[queue];
	unsigned int i;

	if (n > dq->nr_free)
		n = dq->nr_free;
	for (i = 0; i < n; i++) {
		u8 *b = dq->free[--dq->nr_free];

		pkts[i] = (struct net_pkt){ .data = b, .room = p->max_frame, .priv = b };
	}
	return n;
}

static void discard_free(struct net_port *p, u16 queue, struct net_pkt *pkts,
			 unsigned int n)
{
	struct discard_queue *dq = &to_discard(p)->q[queue];
	unsigned int i;

	for (i = 0; i < n && dq->nr_free < DISCARD_BUFS; i++)
		dq->free[dq->nr_free++] = pkts[i].priv;
}

static unsigned int discard_tx_burst(struct net_port *p, u16 queue,
				     struct net_pkt *pkts, unsigned int n)
{
	struct discard_queue *dq = &to_discard(p)->q[queue];
	unsigned int i;

	for (i = 0; i < n; i++)
		dq->tx_bytes += pkts[i].len;
	dq->tx_packets += n;
	discard_free(p, queue, pkts, n);
	return n;
}

static int discard_stats(struct net_port *p, struct net_port_stats *st)
{
	struct discard_port *dp = to_discard(p);
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < p->nr_queues; i++) {
		st->tx_packets += READ_ONCE(dp->q[i].tx_packets);
		st->tx_bytes += READ_ONCE(dp->q[i].tx_bytes);
	}
	return 0;
}

/*
 * Readable when the queue has frames: never.  A kick-driven thread then
 * sleeps on the guest's kicks alone instead of waking every millisecond
 * as it does for ports without an fd.
 */
static int discard_rx_fd(struct net_port *p, u16 queue)
{
	(void)queue;
	return to_discard(p)->never_fd;
}

static void discard_close(struct net_port *p)
{
	struct discard_port *dp = to_discard(p);
	unsigned int i;

	for (i = 0; dp->q && i < p->nr_queues; i++)
		free(dp->q[i].arena);
	free(dp->q);
	if (dp->never_fd >= 0)
		close(dp->never_fd);
	free(dp);
}

static const struct net_port_ops discard_ops = {
	.kind = "discard",
	.rx_burst = discard_rx_burst,
	.alloc = discard_alloc,
	.tx_burst = discard_tx_burst,
	.free = discard_free,
	.stats = discard_stats,
	.rx_fd = discard_rx_fd,
	.close = discard_close,
};

int net_discard_open(const struct net_port_conf *conf, struct net_port **out,
		     char *err, size_t errlen)
{
	unsigned int nq = conf->nr_queues ? conf->nr_queues : 1;
	struct discard_port *dp;
	unsigned int i, j;

	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return net_seterr(-ENOMEM, err, errlen, "discard: out of memory");
	dp->never_fd = -1;
	dp->port.ops = &discard_ops;
	snprintf(dp->port.name, sizeof(dp->port.name), "discard");
	dp->port.nr_queues = nq;
	dp->port.mtu = conf->mtu ? conf->mtu : 1500;
	/* Whole frames only (no offloads offered): what a wire would take. */
	dp->port.max_frame = (u32)dp->port.mtu + NET_ETH_HLEN + NET_VLAN_HLEN;
	memcpy(dp->port.mac, "\x02\x00\x00\x00\x20\x00", 6);
	dp->buf_size = (dp->port.max_frame + 63) & ~63u;
	dp->never_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	dp->q = calloc(nq, sizeof(*dp->q));
	if (dp->never_fd < 0 || !dp->q)
		goto fail;
	for (i = 0; i < nq; i++) {
		struct discard_queue *dq = &dp->q[i];

		dq->arena = aligned_alloc(64, (size_t)DISCARD_BUFS * dp->buf_size);
		if (!dq->arena)
			goto fail;
		for (j = 0; j < DISCARD_BUFS; j++)
			dq->free[dq->nr_free++] = dq->arena + (size_t)j * dp->buf_size;
	}
	*out = &dp->port;
	return 0;
fail:
	discard_close(&dp->port);
	return net_seterr(-ENOMEM, err, errlen, "discard: out of memory");
}
