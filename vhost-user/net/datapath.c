// SPDX-License-Identifier: MIT
/*
 * vhost-user-net data path: one thread per queue pair, bursts of NET_BURST.
 *
 *   guest TX (transmitq): pop chains -> net_tx_pkt() into port buffers ->
 *     used entries published in one batch -> port tx_burst
 *   guest RX (receiveq): port rx_burst -> net_rx_begin/fill/end into as
 *     many chains as each frame needs (MRG_RXBUF) -> used entries published
 *     in one batch per burst
 *
 * With --poll the thread spins and the guest is told not to kick.  Without
 * it, when a round finds nothing to do the thread re-enables guest kicks and
 * sleeps on the kick eventfds and the port's RX fd (tap, loop); ports
 * without an RX fd (DPDK) are looked at again after 1 ms.
 *
 * Security model: descriptor chains come from vq_pop() (virtio/vq.c), which
 * has checked every index, length and address; the bytes in them are the
 * guest's and are only handled by hdr.c (copied, then checked).  A guest
 * error marks that queue broken (vq.c), is logged once, and the queue is left
 * alone until the front-end resets it; other queues and sockets go on.
 */
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "internal.h"

/* Bytes of a TX chain flushed at most (a GSO frame's tail is left alone). */
#define NET_FLUSH_MAX	4096

#ifndef VUN_IDLE_PAUSES
#define VUN_IDLE_PAUSES 16
#endif

static inline void signal_guest(int call_fd)
{
	u64 one = 1;

	if (call_fd >= 0 && write(call_fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: the counter is saturated, the guest will see it anyway. */
	}
}

static void guest_error(struct vun_qp *qp, struct vq *vq, bool *logged,
			const char *which)
{
	if (*logged)
		return;
	*logged = true;
	vun_log("%s: queue pair %u %s: guest error, queue stopped until reset: %s",
		qp->dev->path, qp->idx, which, vq_err_str(vq));
}

/* A frame the guest got wrong: counted always, logged once per kind. */
static void guest_drop(struct vun_qp *qp, enum net_drop e)
{
	net_stats_drop(&qp->st, e);
	if (qp->drop_logged & (1u << e))
		return;
	qp->drop_logged |= 1u << e;
	vun_log("%s: queue pair %u: dropped a guest frame: %s (more of this kind are only counted)",
		qp->dev->path, qp->idx, net_drop_name(e));
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000u + (u64)ts.tv_nsec;
}

/*
 * The clock the busy/idle accounting reads once a round.  clock_gettime()
 * in a VM (kvm-clock) took 1.6% of a 64-byte RX round here; the TSC it is
 * built on costs a fraction of that, and is converted to ns only when the
 * counters are printed.  Elsewhere, the ns clock itself.
 */
static inline u64 cycles_now(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	return now_ns();
#endif
}

void vun_qp_times(const struct vun_qp *qp, u64 *busy_ns, u64 *idle_ns)
{
	u64 c0 = READ_ONCE(qp->cyc0), n0 = READ_ONCE(qp->ns0);
	u64 c1 = cycles_now(), n1 = now_ns();
	/* ns per cycle, measured over the thread's life so far */
	double k = c0 && c1 > c0 && n1 > n0 ? (double)(n1 - n0) / (double)(c1 - c0) : 0;

	*busy_ns = (u64)((double)READ_ONCE(qp->busy_cyc) * k);
	*idle_ns = (u64)((double)READ_ONCE(qp->idle_cyc) * k);
}

/*
 * A TX chain's frame out of every cache (NET_FLUSH_MAX bytes at most).  The
 * header's own line is left alone: not read unless offloads were negotiated
 * (net_tx_pkt()), it is not in our caches, and a flush would make the
 * driver's next look at it (DPDK reads the header before writing it) a
 * memory access.
 */
static void flush_chain(const struct vq_req *req, u32 hdr_len)
{
	size_t skip = hdr_len, left = NET_FLUSH_MAX;
	unsigned int k;

	for (k = 0; k < req->nr_rd && left; k++) {
		const u8 *p = req->rd[k].iov_base;
		size_t len = req->rd[k].iov_len;

		if (skip >= len) {
			skip -= len;
			continue;
		}
		p += skip;
		len -= skip;
		skip = 0;
		if (len > left)
			len = left;
		net_flush_lines(p, len);
		left -= len;
	}
}

/*
 * Guest -> port.  Returns the number of chains taken.  All chains of a burst
 * are popped first, then copied.  No software prefetch of the chains, frames
 * or used ring: measured against the driver's core, fetching those lines
 * ahead of use (all 32 frames at once) cost the driver 4-7% of its rate
 * when the two cores are far apart and gained nothing when they are near
 * (A/B runs against DPDK's virtio_user, 64 and 1500-byte frames).
 */
static unsigned int do_tx(struct vun_qp *qp, struct vq_req *reqs)
{
	struct net_port *port = qp->port;
	struct net_pkt pk[NET_BURST];
	struct vq_used used[NET_BURST];
	unsigned int want, nb, n = 0, ok = 0, sent, i;
	enum net_drop e;
	int r;

	if (!qp->tx_on || vq_is_broken(&qp->txq) || !vq_has_work(&qp->txq))
		return 0;
	/* vq_has_work() just read avail->idx: this many chains wait. */
	want = (u16)(qp->txq.shadow_avail_idx - qp->txq.last_avail_idx);
	if (want > NET_BURST)
		want = NET_BURST;
	nb = net_port_alloc(port, qp->port_q, pk, want);
	if (!nb)
		return 0;	/* back-pressure: the chains wait in the ring */
	while (n < nb) {
		struct vq_req *req = &reqs[n];

		r = vq_pop(&qp->txq, req);
		if (r <= 0) {
			if (r < 0)
				guest_error(qp, &qp->txq, &qp->tx_err_logged, "transmitq");
			break;
		}
		used[n].head = req->head;
		used[n].len = 0;
		n++;
	}
	for (i = 0; i < n; i++) {
		struct vq_req *req = &reqs[i];

		if (req->nr_wr) {
			guest_drop(qp, NET_DROP_BAD_CHAIN);
			continue;
		}
		e = net_tx_pkt(&qp->cfg, req->rd, req->nr_rd, &pk[ok]);
		if (e) {
			guest_drop(qp, e);
			continue;
		}
		ok++;
	}
	/*
	 * The frames are copied out: the chains go back before the port sends.
	 * First, when it measured faster here (see net_tune in net.h), their
	 * lines leave our caches, so the driver's next write into those
	 * buffers need not wait for this core to give them up.
	 */
	if (qp->tx_flush.on)
		for (i = 0; i < n; i++)
			flush_chain(&reqs[i], qp->cfg.hdr_len);
	if (net_tune_count(&qp->tx_flush, n))
		net_tune_window(&qp->tx_flush, now_ns());
	if (n) {
		qp->st.tx_bursts++;
		vq_push_batch(&qp->txq, used, n);
		if (vq_should_notify(&qp->txq))
			signal_guest(qp->tx_call);
	}
	sent = ok ? net_port_tx_burst(port, qp->port_q, pk, ok) : 0;
	for (i = 0; i < sent; i++)
		qp->st.tx_bytes += pk[i].len;
	qp->st.tx_packets += sent;
	qp->st.drops[NET_DROP_PORT_FULL] += ok - sent;
	net_port_free(port, qp->port_q, pk + sent, nb - sent);
	return n;
}

/*
 * Publish the completed RX entries, keep the partial packet's chains.  The
 * caller then asks whether the driver wants a call (rx_notify()).
 */
static void rx_flush(struct vun_qp *qp)
{
	struct vun_rx_state *s = &qp->rxs;

	/* The frames first, then the used entries that hand them over. */
	net_copy_run(&s->copies);
	if (s->first) {
		vq_push_batch(&qp->rxq, s->used, s->first);
		memmove(s->used, s->used + s->first, (s->nused - s->first) * sizeof(s->used[0]));
		s->nused -= s->first;
		s->first = 0;
	}
}

/*
 * Once per round, not per rx_flush(): its full barrier waits for the
 * frame copies' stores to drain, and later in the round fewer are left
 * (paired A/B runs, 64-byte frames to DPDK's virtio_user: 1% faster, a
 * small but steady gain).  vq_should_notify() covers all entries since its
 * last call.
 */
static void rx_notify(struct vun_qp *qp)
{
	if (vq_should_notify(&qp->rxq))
		signal_guest(qp->rx_call);
}

/* pk[i] is finished (delivered or dropped with reason @e). */
static void rx_done(struct vun_qp *qp, enum net_drop e)
{
	struct vun_rx_state *s = &qp->rxs;
	unsigned int k;

	if (e) {
		/* Chains it took go back empty: the guest drops them. */
		for (k = s->first; k < s->nused; k++)
			s->used[k].len = 0;
		if (e == NET_DROP_BAD_CHAIN || e == NET_DROP_RX_TOO_SMALL)
			guest_drop(qp, e);
		else
			net_stats_drop(&qp->st, e);
	} else {
		if (s->mid)	/* else net_rx_one() did it all */
			net_rx_end(&s->rx);
		qp->st.rx_packets++;
		qp->st.rx_bytes += s->pk[s->i].len;
	}
	s->first = s->nused;
	s->mid = false;
	s->i++;
}

/*
 * The next guest RX chain into @req (room made for its used entry first):
 * > 0 popped, 0 the ring is dry, < 0 the queue broke (logged).
 */
static int rx_pop(struct vun_qp *qp, struct vq_req *req)
{
	int r;

	if (qp->rxs.nused == VUN_RX_USED)
		rx_flush(qp);
	r = vq_pop(&qp->rxq, req);
	if (r < 0)
		guest_error(qp, &qp->rxq, &qp->rx_err_logged, "receiveq");
	return r;
}

/* Port -> guest.  Returns the number of packets finished. */
static unsigned int do_rx(struct vun_qp *qp, struct vq_req *req)
{
	struct net_port *port = qp->port;
	struct vun_rx_state *s = &qp->rxs;
	unsigned int done = 0;
	enum net_drop e;
	u32 w;

	if (!qp->rx_on || vq_is_broken(&qp->rxq))
		return 0;
	if (s->i == s->n) {
		s->n = net_port_rx_burst(port, qp->port_q, s->pk, NET_BURST);
		s->i = s->freed = 0;
		if (!s->n)
			return 0;
	}
	/*
	 * Most frames take one chain: start the misses on as many chains and
	 * buffers as there are frames, of those known to be there (vq_pop()
	 * read avail->idx then, with its barrier; re-reading it here would
	 * cost a miss per burst), so that they overlap instead of coming one
	 * at a time.  Whether that pays depends on the frames and the cores
	 * (measured against DPDK's virtio_user on one host: 1500-byte
	 * frames 8% faster with it, 64-byte ones 7% slower: reading the
	 * descriptors early costs what it saves), so --rx-prefetch auto
	 * measures it (net_tune, as --tx-flush).
	 */
	if (qp->rx_prefetch.on)
		vq_prefetch_bufs(&qp->rxq, s->n - s->i, qp->cfg.hdr_len);
	while (s->i < s->n) {
		struct net_pkt *pk = &s->pk[s->i];
		bool popped = false;	/* req holds this frame's first chain */

		if (s->i + 1 < s->n)
			__builtin_prefetch(s->pk[s->i + 1].data);
		if (!s->mid) {
			/*
			 * The usual frame (no GSO, no partial checksum) into
			 * the usual chain (one buffer that holds it all) takes
			 * net_rx_one(), a third of the general path's work;
			 * anything else goes on below with the chain popped.
			 */
			if (!(pk->flags & (NET_PKT_F_GSO | NET_PKT_F_NEEDS_CSUM))) {
				if (rx_pop(qp, req) <= 0)
					goto out;	/* ring dry or broken */
				if (!req->nr_rd && req->nr_wr == 1 &&
				    net_rx_one(&qp->cfg, pk, req->wr, &s->copies, &w)) {
					s->used[s->nused++] = (struct vq_used){ req->head, w };
					rx_done(qp, NET_DROP_NONE);
					done++;
					continue;
				}
				popped = true;
			}
			e = net_rx_begin(&s->rx, &qp->cfg, pk, &s->copies);
			if (e) {
				if (popped)	/* not with these flags; for safety */
					s->used[s->nused++] = (struct vq_used){ req->head, 0 };
				rx_done(qp, e);
				done++;
				continue;
			}
			s->mid = true;
		}
		e = NET_DROP_NONE;
		while (net_rx_pending(&s->rx)) {
			if (!popped) {
				if (s->nused - s->first >= VUN_RX_MAX_CHAINS) {
					e = NET_DROP_RX_TOO_SMALL;
					break;
				}
				if (rx_pop(qp, req) <= 0)
					goto out;	/* ring dry: carry on next round */
			}
			popped = false;
			if (req->nr_rd) {
				s->used[s->nused++] = (struct vq_used){ req->head, 0 };
				e = NET_DROP_BAD_CHAIN;
				break;
			}
			e = net_rx_fill(&s->rx, req->wr, req->nr_wr, &w);
			s->used[s->nused++] = (struct vq_used){ req->head, e ? 0 : w };
			if (e)
				break;
		}
		rx_done(qp, e);
		done++;
	}
out:
	rx_flush(qp);
	qp->st.rx_bursts += done != 0;
	rx_notify(qp);
	if (net_tune_count(&qp->rx_prefetch, done))
		net_tune_window(&qp->rx_prefetch, now_ns());
	/* Packets finished (all but a partly written one) go back to the port. */
	if (s->i > s->freed) {
		net_port_free(port, qp->port_q, s->pk + s->freed, s->i - s->freed);
		s->freed = s->i;
	}
	return done;
}

void vun_qp_rx_release(struct vun_qp *qp)
{
	struct net_port *port = qp->port;
	struct vun_rx_state *s = &qp->rxs;

	/* Queued copies read port buffers about to be freed: finish them. */
	net_copy_run(&s->copies);
	/* A partly written packet's chains go back empty, if the ring is usable. */
	if (s->mid && vq_is_started(&qp->rxq) && !vq_is_broken(&qp->rxq)) {
		unsigned int k;

		for (k = s->first; k < s->nused; k++)
			s->used[k].len = 0;
		s->first = s->nused;
		rx_flush(qp);
		rx_notify(qp);
	}
	if (s->n > s->freed) {
		qp->st.drops[NET_DROP_RX_NO_AVAIL] += s->n - s->i;
		net_port_free(port, qp->port_q, s->pk + s->freed, s->n - s->freed);
	}
	memset(s, 0, sizeof(*s));
}

static void notify_off(struct vun_qp *qp)
{
	if (qp->rx_on && !vq_is_broken(&qp->rxq))
		vq_disable_notify(&qp->rxq);
	if (qp->tx_on && !vq_is_broken(&qp->txq))
		vq_disable_notify(&qp->txq);
}

/*
 * Ask for kicks again; true if work raced in (do not sleep).  The receive
 * queue's kicks matter only while a frame waits for guest buffers: buffers
 * posted with no frame to fill are no work, and taking them for work kept
 * this thread spinning for as long as a guest sat with its receive ring
 * full and nothing came from the port.
 */
static bool notify_on(struct vun_qp *qp)
{
	bool more = false;

	if (qp->rx_on && !vq_is_broken(&qp->rxq) && qp->rxs.i != qp->rxs.n)
		more |= vq_enable_notify(&qp->rxq);
	if (qp->tx_on && !vq_is_broken(&qp->txq))
		more |= vq_enable_notify(&qp->txq);
	return more;
}

static void drain_fd(int fd)
{
	u64 v;

	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending */
	}
}

static int ep_add(int ep, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	return fd < 0 ? 0 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

static void *qp_thread(void *arg)
{
	struct vun_qp *qp = arg;
	struct net_port *port = qp->port;
	bool poll = qp->dev->app->poll;
	int port_fd = net_port_rx_fd(port, qp->port_q);
	struct vq_req *req;	/* NET_BURST of them: TX pops a burst at once */
	bool port_watched = false;
	int ep = -1, r;
	u64 t;

	if (qp->cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(qp->cpu, &set);
		if (pthread_setaffinity_np(pthread_self(), sizeof(set), &set))
			vun_log("%s: queue pair %u: cannot pin to CPU %d", qp->dev->path,
				qp->idx, qp->cpu);
	}
	r = net_port_thread_init(port);
	if (r)
		vun_log("%s: queue pair %u: port thread setup failed (%s): running without it",
			qp->dev->path, qp->idx, strerror(-r));
	req = malloc(NET_BURST * sizeof(*req));
	if (!req) {
		vun_log("%s: queue pair %u: out of memory", qp->dev->path, qp->idx);
		goto out;
	}
	if (!poll) {
		ep = epoll_create1(EPOLL_CLOEXEC);
		if (ep < 0 || ep_add(ep, qp->stop_fd) ||
		    (qp->rx_on && ep_add(ep, qp->rx_kick)) ||
		    (qp->tx_on && ep_add(ep, qp->tx_kick))) {
			vun_log("%s: queue pair %u: epoll setup failed (%s): polling",
				qp->dev->path, qp->idx, strerror(errno));
			poll = true;
		}
	}
	notify_off(qp);
	if (!qp->cyc0) {
		WRITE_ONCE(qp->ns0, now_ns());
		WRITE_ONCE(qp->cyc0, cycles_now());
	}
	t = cycles_now();
	while (!__atomic_load_n(&qp->stop, __ATOMIC_ACQUIRE)) {
		unsigned int work = do_tx(qp, req);
		u64 t1;

		work += do_rx(qp, req);
		t1 = cycles_now();
		if (work)
			qp->busy_cyc += t1 - t;
		else
			qp->idle_cyc += t1 - t;
		t = t1;
		if (work)
			continue;
		if (poll) {
			/*
			 * Nothing this round: let the driver fill a bigger batch
			 * before we read its avail index again (each read pulls
			 * the line its core is writing).
			 */
			for (unsigned int k = 0; k < VUN_IDLE_PAUSES; k++)
				__builtin_ia32_pause();
			continue;
		}
		/* Idle: sleep until a kick, a port packet, or 1 ms without an fd. */
		if (notify_on(qp)) {
			notify_off(qp);
			continue;
		}
		{
			struct epoll_event ev[4];
			/*
			 * Watch the port only when its frames can go somewhere:
			 * the guest's receive queue runs and no frame is
			 * waiting for guest buffers (a level-triggered tap fd
			 * would wake us for nothing, again and again).
			 */
			bool want = port_fd >= 0 && qp->rx_on && !vq_is_broken(&qp->rxq) &&
				    qp->rxs.i == qp->rxs.n;
			int i, n;

			if (want != port_watched) {
				struct epoll_event pev = { .events = EPOLLIN, .data.fd = port_fd };

				if (!epoll_ctl(ep, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, port_fd, &pev))
					port_watched = want;
			}
			/* Edge-style port fds (loop): arm, and do not sleep if frames came. */
			if (port_watched && net_port_rx_arm(port, qp->port_q)) {
				notify_off(qp);
				continue;
			}
			n = epoll_wait(ep, ev, 4, port_fd >= 0 ? -1 : 1);
			for (i = 0; i < n; i++)
				if (ev[i].data.fd != port_fd)
					drain_fd(ev[i].data.fd);
		}
		notify_off(qp);
		t = cycles_now();	/* asleep: neither busy nor idle */
	}
out:
	if (ep >= 0)
		close(ep);
	free(req);
	net_port_thread_fini(port);
	return NULL;
}

int vun_qp_start(struct vun_qp *qp)
{
	int r;

	if (qp->running || (!qp->rx_on && !qp->tx_on))
		return 0;
	qp->cfg.max_frame = qp->cfg.max_frame ? qp->cfg.max_frame : 1518;
	__atomic_store_n(&qp->stop, false, __ATOMIC_RELEASE);
	drain_fd(qp->stop_fd);
	r = pthread_create(&qp->thread, NULL, qp_thread, qp);
	if (r) {
		vun_log("%s: queue pair %u: cannot start its thread: %s", qp->dev->path,
			qp->idx, strerror(r));
		return -r;
	}
	qp->running = true;
	return 0;
}

void vun_qp_stop(struct vun_qp *qp)
{
	u64 one = 1;

	if (!qp->running)
		return;
	__atomic_store_n(&qp->stop, true, __ATOMIC_RELEASE);
	if (write(qp->stop_fd, &one, sizeof(one)) < 0) {
		/* saturated: it is awake anyway */
	}
	pthread_join(qp->thread, NULL);
	qp->running = false;
}
