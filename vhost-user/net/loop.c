// SPDX-License-Identifier: MIT
/*
 * "loop": an in-memory port.  Queue q's TX lands on the RX ring of
 * peer(q): q itself (one side) or, with two sides, the same queue of the
 * other side (queues [0, n/2) are side 0, [n/2, n) side 1).
 *
 * No copies: a buffer sent on q moves by pointer to peer(q)'s RX ring; the
 * receiver frees it back to q's pool through a return ring.  Every ring has
 * one producer thread and one consumer thread (q's thread and peer(q)'s), so
 * all of them are lock-free single-producer single-consumer rings.
 *
 * Security model: buffers hold guest frames but their metadata (len, offload
 * fields) was produced by net_tx_pkt() after validation; nothing here parses
 * frame contents.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "internal.h"

#define LOOP_DEF_RING	256
#define LOOP_BUF_HEAD	64		/* metadata, keeps data cache-aligned */

struct loop_buf {
	u16 owner;			/* queue whose pool it belongs to */
	u16 flags, csum_start, csum_offset, gso_size, gso_hdr_len;
	u8 gso_type;
	u32 len;
};

struct spsc {
	/* Producer-written, consumer-read. */
	u32 head __attribute__((aligned(64)));
	/* Consumer-written, producer-read. */
	u32 tail __attribute__((aligned(64)));
	u32 mask __attribute__((aligned(64)));
	void **slot;
};

struct loop_queue {
	struct spsc rx;			/* frames for this queue */
	/*
	 * Wake-up of a sleeping receiver: it sets armed (then re-checks its
	 * ring), the sender clears it and writes the eventfd.  Both sides
	 * put a full fence between their store and their check (Dekker), so
	 * one of them always sees the other.
	 */
	int efd;
	bool armed __attribute__((aligned(64)));
	struct spsc ret;		/* this pool's buffers coming back */
	void **free;			/* local free stack (this queue's thread) */
	u32 nr_free;
	u16 peer;
	u8 *arena;
	size_t arena_len;
	/* Counted by this queue's thread only. */
	u64 rx_packets, rx_bytes, tx_packets, tx_bytes, rx_nombuf;
} __attribute__((aligned(64)));

struct loop_port {
	struct net_port port;
	u32 buf_size;			/* LOOP_BUF_HEAD + max_frame, aligned */
	struct loop_queue *q;
};

static inline struct loop_port *to_loop(struct net_port *p)
{
	return container_of(p, struct loop_port, port);
}

static unsigned int spsc_put(struct spsc *r, void *const *v, unsigned int n)
{
	u32 head = r->head;
	/* acquire: the consumer's reads of the slots we reuse are done */
	u32 tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	u32 space = r->mask + 1 - (head - tail), i;

	if (n > space)
		n = space;
	for (i = 0; i < n; i++)
		r->slot[(head + i) & r->mask] = v[i];
	/* release: the slot stores above before the consumer sees head */
	__atomic_store_n(&r->head, head + n, __ATOMIC_RELEASE);
	return n;
}

static unsigned int spsc_get(struct spsc *r, void **v, unsigned int n)
{
	u32 tail = r->tail;
	/* acquire: the producer's slot stores before our slot loads */
	u32 avail = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE) - tail, i;

	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++)
		v[i] = r->slot[(tail + i) & r->mask];
	/* release: our slot loads before the producer may overwrite them */
	__atomic_store_n(&r->tail, tail + n, __ATOMIC_RELEASE);
	return n;
}

static int spsc_init(struct spsc *r, u32 size)
{
	r->slot = calloc(size, sizeof(void *));
	r->mask = size - 1;
	r->head = r->tail = 0;
	return r->slot ? 0 : -ENOMEM;
}

static inline u8 *buf_data(struct loop_buf *b)
{
	return (u8 *)b + LOOP_BUF_HEAD;
}

static unsigned int loop_rx_burst(struct net_port *p, u16 queue,
				  struct net_pkt *pkts, unsigned int n)
{
	struct loop_queue *lq = &to_loop(p)->q[queue];
	void *v[NET_BURST];
	unsigned int got, i;

	if (n > NET_BURST)
		n = NET_BURST;
	got = spsc_get(&lq->rx, v, n);
	for (i = 0; i < got; i++) {
		struct loop_buf *b = v[i];
		struct net_pkt *pk = &pkts[i];

		if (i + 1 < got)
			__builtin_prefetch(buf_data(v[i + 1]));
		pk->data = buf_data(b);
		pk->len = b->len;
		pk->room = p->max_frame;
		pk->flags = b->flags;
		pk->csum_start = b->csum_start;
		pk->csum_offset = b->csum_offset;
		pk->gso_type = b->gso_type;
		pk->gso_size = b->gso_size;
		pk->gso_hdr_len = b->gso_hdr_len;
		pk->priv = b;
		lq->rx_packets++;
		lq->rx_bytes += b->len;
	}
	return got;
}

static unsigned int loop_alloc(struct net_port *p, u16 queue,
			       struct net_pkt *pkts, unsigned int n)
{
	struct loop_queue *lq = &to_loop(p)->q[queue];
	unsigned int i;

	if (lq->nr_free < n)	/* refill the local stack from the return ring */
		lq->nr_free += spsc_get(&lq->ret, lq->free + lq->nr_free,
					lq->ret.mask + 1 - lq->nr_free);
	if (n > lq->nr_free) {
		lq->rx_nombuf += n - lq->nr_free;
		n = lq->nr_free;
	}
	for (i = 0; i < n; i++) {
		struct loop_buf *b = lq->free[--lq->nr_free];

		pkts[i] = (struct net_pkt){
			.data = buf_data(b), .room = p->max_frame, .priv = b,
		};
	}
	return n;
}

static unsigned int loop_tx_burst(struct net_port *p, u16 queue,
				  struct net_pkt *pkts, unsigned int n)
{
	struct loop_port *lp = to_loop(p);
	struct loop_queue *lq = &lp->q[queue];
	void *v[NET_BURST];
	unsigned int i, sent;

	if (n > NET_BURST)
		n = NET_BURST;
	for (i = 0; i < n; i++) {
		struct loop_buf *b = pkts[i].priv;

		b->len = pkts[i].len;
		b->flags = pkts[i].flags;
		b->csum_start = pkts[i].csum_start;
		b->csum_offset = pkts[i].csum_offset;
		b->gso_type = pkts[i].gso_type;
		b->gso_size = pkts[i].gso_size;
		b->gso_hdr_len = pkts[i].gso_hdr_len;
		v[i] = b;
	}
	sent = spsc_put(&lp->q[lq->peer].rx, v, n);
	if (sent) {
		struct loop_queue *pq = &lp->q[lq->peer];

		/* our head store above before the armed load (pairs with rx_arm) */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(&pq->armed, __ATOMIC_RELAXED) &&
		    __atomic_exchange_n(&pq->armed, false, __ATOMIC_RELAXED)) {
			u64 one = 1;

			if (write(pq->efd, &one, sizeof(one)) < 0) {
				/* EAGAIN: the counter is full, it wakes anyway */
			}
		}
	}
	for (i = 0; i < sent; i++) {
		lq->tx_packets++;
		lq->tx_bytes += pkts[i].len;
	}
	return sent;
}

static void loop_free(struct net_port *p, u16 queue, struct net_pkt *pkts,
		      unsigned int n)
{
	struct loop_port *lp = to_loop(p);
	struct loop_queue *lq = &lp->q[queue];
	void *remote[NET_BURST];
	unsigned int i, nr = 0;
	u16 other = 0;

	for (i = 0; i < n; i++) {
		struct loop_buf *b = pkts[i].priv;

		if (b->owner == queue) {
			lq->free[lq->nr_free++] = b;
			continue;
		}
		/* Only peer(queue)'s buffers ever reach this queue. */
		other = b->owner;
		remote[nr++] = b;
		if (nr == NET_BURST) {
			spsc_put(&lp->q[other].ret, remote, nr);
			nr = 0;
		}
	}
	/* The return ring holds the whole pool: it cannot be full. */
	if (nr)
		spsc_put(&lp->q[other].ret, remote, nr);
}

static int loop_stats(struct net_port *p, struct net_port_stats *st)
{
	struct loop_port *lp = to_loop(p);
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < p->nr_queues; i++) {
		st->rx_packets += READ_ONCE(lp->q[i].rx_packets);
		st->rx_bytes += READ_ONCE(lp->q[i].rx_bytes);
		st->tx_packets += READ_ONCE(lp->q[i].tx_packets);
		st->tx_bytes += READ_ONCE(lp->q[i].tx_bytes);
		st->rx_nombuf += READ_ONCE(lp->q[i].rx_nombuf);
	}
	return 0;
}

static int loop_rx_fd(struct net_port *p, u16 queue)
{
	return to_loop(p)->q[queue].efd;
}

static bool loop_rx_arm(struct net_port *p, u16 queue)
{
	struct loop_queue *lq = &to_loop(p)->q[queue];
	u64 v;

	if (read(lq->efd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending */
	}
	__atomic_store_n(&lq->armed, true, __ATOMIC_RELAXED);
	/* the armed store above before the head load (pairs with tx_burst) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (__atomic_load_n(&lq->rx.head, __ATOMIC_ACQUIRE) != lq->rx.tail) {
		__atomic_store_n(&lq->armed, false, __ATOMIC_RELAXED);
		return true;
	}
	return false;
}

static void loop_close(struct net_port *p)
{
	struct loop_port *lp = to_loop(p);
	unsigned int i;

	for (i = 0; lp->q && i < p->nr_queues; i++) {
		struct loop_queue *lq = &lp->q[i];

		if (lq->efd >= 0)
			close(lq->efd);
		free(lq->rx.slot);
		free(lq->ret.slot);
		free(lq->free);
		if (lq->arena)
			munmap(lq->arena, lq->arena_len);
	}
	free(lp->q);
	free(lp);
}

static const struct net_port_ops loop_ops = {
	.kind = "loop",
	.rx_burst = loop_rx_burst,
	.alloc = loop_alloc,
	.tx_burst = loop_tx_burst,
	.free = loop_free,
	.stats = loop_stats,
	.rx_fd = loop_rx_fd,
	.rx_arm = loop_rx_arm,
	.close = loop_close,
};

static u32 pow2_at_least(u32 v)
{
	u32 r = 1;

	while (r < v)
		r <<= 1;
	return r;
}

int net_loop_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen)
{
	unsigned int nq = conf->nr_queues ? conf->nr_queues : 1;
	unsigned int sides = conf->loop_sides ? conf->loop_sides : 1;
	u32 ring = pow2_at_least(conf->queue_size ? conf->queue_size : LOOP_DEF_RING);
	u32 pool = pow2_at_least(ring + 4 * NET_BURST);
	struct loop_port *lp;
	unsigned int i, j;
	int ret = -ENOMEM;

	if (sides > 2 || (sides == 2 && nq % 2))
		return net_seterr(-EINVAL, err, errlen,
				  "loop: %u sides with %u queue pairs (1 side, or 2 "
				  "sides and an even number of queue pairs)", sides, nq);
	lp = calloc(1, sizeof(*lp));
	if (!lp)
		goto fail;
	lp->port.ops = &loop_ops;
	snprintf(lp->port.name, sizeof(lp->port.name), "loop");
	lp->port.nr_queues = nq;
	lp->port.mtu = conf->mtu ? conf->mtu : 1500;
	/* Frames keep their offload metadata, so GSO frames pass whole. */
	lp->port.max_frame = NET_MAX_GSO_FRAME;
	lp->port.features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
		(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
		(1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN);
	memcpy(lp->port.mac, "\x02\x00\x00\x00\x10\x00", 6);
	lp->buf_size = (LOOP_BUF_HEAD + lp->port.max_frame + 63) & ~63u;
	lp->q = calloc(nq, sizeof(*lp->q));
	if (!lp->q)
		goto fail;
	for (i = 0; i < nq; i++)
		lp->q[i].efd = -1;
	for (i = 0; i < nq; i++) {
		struct loop_queue *lq = &lp->q[i];

		lq->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (lq->efd < 0)
			goto fail;

		lq->peer = sides == 2 ? (i + nq / 2) % nq : i;
		lq->arena_len = (size_t)pool * lp->buf_size;
		/* Untouched buffer pages cost nothing: map lazily. */
		lq->arena = mmap(NULL, lq->arena_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (lq->arena == MAP_FAILED) {
			lq->arena = NULL;
			goto fail;
		}
		lq->free = calloc(pool, sizeof(void *));
		if (!lq->free || spsc_init(&lq->rx, ring) || spsc_init(&lq->ret, pool))
			goto fail;
		for (j = 0; j < pool; j++) {
			struct loop_buf *b = (void *)(lq->arena + (size_t)j * lp->buf_size);

			b->owner = i;
			lq->free[lq->nr_free++] = b;
		}
	}
	*out = &lp->port;
	return 0;
fail:
	if (lp)
		loop_close(&lp->port);
	return net_seterr(ret, err, errlen, "loop: out of memory");
}
