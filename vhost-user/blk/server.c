// SPDX-License-Identifier: MIT
/*
 * blk_server: the vhost-user-blk back-end (see vhost-user/blk_server.h).
 *
 * Threads.  One control thread (blk_server_run) owns the vhost-user device:
 * accept, dispatch, and the device callbacks, which start and stop queue
 * threads.  Each started queue has one thread that owns its struct vq, its
 * struct blk_queue and the struct vhu_vq fields until queue_stop() joins it.
 *
 * Per pass of a queue thread: pop every available chain (vq_pop), submit each
 * (blk_queue_submit), and per slice of 8 a blk_queue_commit, then reap what
 * completed: publish it with one vq_push_batch and signal the call eventfd at
 * most once per publish (vq_should_notify: EVENT_IDX or the NO_INTERRUPT
 * flag).  Guest kicks are off while the thread works (vq_disable_notify); it
 * sleeps (epoll on the kick eventfd, the engine's completion eventfd and a
 * stop eventfd) only after vq_enable_notify() found the ring empty and a last
 * reap found nothing.  With poll_us it first spins over the ring and the
 * completions, with completion signals off, for an adaptive window of at
 * most poll_us (blk_server_poll_next).  No allocation per request: the
 * engine owns `depth` (= ring size) slots, the used array is sized for the
 * largest ring.
 *
 * Inflight (INFLIGHT_SHMFD): a head is marked after its submission, the used
 * batch is linked (pre_put) before the used entries are written and cleared
 * (post_put, used_idx) after used->idx is published; a restarted back-end
 * resubmits the heads its predecessor never completed before popping new ones.
 *
 * Security model: everything from the front-end is validated by the vhost-user
 * library (backend.c) before these callbacks see it; config-space offsets and
 * lengths are checked by blk_disk_get_config/set_config.  Descriptor chains
 * come from vq_pop()/vq_map_chain() (virtio/vq.c: indices, lengths, addresses,
 * loops) and the request bytes are parsed only by libvublk's req.c.  A guest
 * ring error (or a chain with no writable byte) breaks that queue only: one
 * log line, err eventfd signalled, no more processing until the front-end
 * restarts the queue.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include <virtio/vq.h>
#include <vhost-user/backend.h>
#include <vhost-user/blk_server.h>

#define F(bit)	(1ull << (bit))

#define BS_PROTOCOL_FEATURES (F(VHU_PROTOCOL_F_MQ) | F(VHU_PROTOCOL_F_REPLY_ACK) | \
	F(VHU_PROTOCOL_F_CONFIG) | F(VHU_PROTOCOL_F_INFLIGHT_SHMFD) |		\
	F(VHU_PROTOCOL_F_RESET_DEVICE) | F(VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS))

enum { TAG_STOP, TAG_KICK, TAG_DONE };			/* queue thread */
enum { TAG_WAKE = 1, TAG_LISTEN, TAG_CONN };		/* control loop */

/* Counters: written by the queue thread only, read by anyone (relaxed). */
struct bs_counters {
	u64 kicks, requests, completions, calls, errors, flushes, fdatasyncs;
};

struct bs_queue {
	struct blk_server *s;
	unsigned int idx;
	struct vhu_vq *hv;
	struct vq vq;
	struct blk_queue *bq;
	pthread_t thread;
	bool running;
	int stop;			/* atomic */
	int stop_fd;
	bool broken;			/* atomic read by stats */
	struct blk_queue_stats blk_last;	/* engine counters already added */
	struct bs_counters c;
	unsigned int nused;
	struct vq_used used[BLK_SERVER_MAX_QUEUE_SIZE];
	struct vq_req req;		/* one popped chain, reused */
};

struct blk_server {
	struct blk_server_opts o;
	char *disk_path;
	struct blk_disk *disk;
	struct vhu_dev_ops ops;
	struct vhu_dev *dev;
	unsigned int nq;
	struct bs_queue **q;

	int wake_fd;
	int stopping;			/* atomic */
	pthread_mutex_t lock;		/* loop_active, pending_fd */
	bool loop_active;
	int pending_fd;
	bool thread_started;
	pthread_t thread;
	u64 connections;		/* atomic */
};

/* --- log (rate-limited: a hostile guest must not flood it) ---------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static struct timespec log_window;
static unsigned int log_lines, log_dropped;

static void __attribute__((format(printf, 1, 2))) bs_log(const char *fmt, ...)
{
	struct timespec now;
	char line[400];
	va_list ap;

	clock_gettime(CLOCK_MONOTONIC, &now);
	pthread_mutex_lock(&log_lock);
	if (now.tv_sec != log_window.tv_sec) {
		if (log_dropped)
			fprintf(stderr, "vhost-user-blk: (%u lines suppressed)\n",
				log_dropped);
		log_window = now;
		log_lines = log_dropped = 0;
	}
	if (log_lines++ >= 20) {
		log_dropped++;
		pthread_mutex_unlock(&log_lock);
		return;
	}
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "vhost-user-blk: %s\n", line);
	pthread_mutex_unlock(&log_lock);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static inline void cnt_add(u64 *c, u64 n)
{
	__atomic_store_n(c, *c + n, __ATOMIC_RELAXED);	/* single writer */
}

static void fd_signal(int fd)
{
	u64 one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* EAGAIN: counter saturated, the reader wakes anyway */
	}
}

static void fd_drain(int fd)
{
	u64 v;

	if (fd >= 0 && read(fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing pending */
	}
}

/* --- queue thread ---------------------------------------------------------- */

static void guest_error(struct bs_queue *q, const char *why)
{
	if (q->broken)
		return;
	__atomic_store_n(&q->broken, true, __ATOMIC_RELAXED);
	cnt_add(&q->c.errors, 1);
	bs_log("%s: queue %u: guest error, queue stopped until the front-end restarts it: %s",
	       q->s->o.disk_path, q->idx, why);
	fd_signal(q->hv->err_fd);
}

static void done_cb(void *opaque, u16 head, u32 len, void *cookie)
{
	struct bs_queue *q = opaque;

	(void)cookie;
	/* Never more than depth <= ring size <= array size in one reap. */
	if (q->nused < BLK_SERVER_MAX_QUEUE_SIZE)
		q->used[q->nused++] = (struct vq_used){ head, len };
}

static void sync_engine_stats(struct bs_queue *q)
{
	struct blk_queue_stats st;

	blk_queue_get_stats(q->bq, &st);
	if (st.errors != q->blk_last.errors)
		cnt_add(&q->c.errors, st.errors - q->blk_last.errors);
	if (st.flushes != q->blk_last.flushes)
		cnt_add(&q->c.flushes, st.flushes - q->blk_last.flushes);
	if (st.fdatasyncs != q->blk_last.fdatasyncs)
		cnt_add(&q->c.fdatasyncs, st.fdatasyncs - q->blk_last.fdatasyncs);
	q->blk_last = st;
}

/* Publish q->used[] with one used->idx store, signal the guest once. */
static void publish(struct bs_queue *q)
{
	struct vhu_vq *hv = q->hv;
	unsigned int i, n = q->nused;

	if (!n)
		return;
	q->nused = 0;
	/* Counters first: whoever sees the completion sees them counted. */
	sync_engine_stats(q);
	cnt_add(&q->c.completions, n);
	for (i = 0; i < n; i++)
		vhu_vq_inflight_pre_put(hv, q->used[i].head);
	if (vq_push_batch(&q->vq, q->used, n))
		return;		/* not started: cannot happen on this thread */
	for (i = 0; i < n; i++)
		vhu_vq_inflight_post_put(hv, q->used[i].head);
	vhu_vq_inflight_set_used_idx(hv, q->vq.used_idx);
	if (vq_should_notify(&q->vq) && hv->call_fd >= 0) {
		fd_signal(hv->call_fd);
		cnt_add(&q->c.calls, 1);
	}
}

/* Reap finished requests and publish them; returns how many. */
static int reap(struct bs_queue *q)
{
	int n = blk_queue_complete(q->bq, done_cb, q);

	if (n > 0)
		publish(q);
	return n > 0 ? n : 0;
}

/* Submit the chain in q->req; false when the queue broke. */
static bool submit(struct bs_queue *q)
{
	struct vq_req *r = &q->req;
	struct blk_req_in in = {
		.out_iov = r->rd, .out_n = r->nr_rd,
		.in_iov = r->wr, .in_n = r->nr_wr,
		.head = r->head,
	};
	int ret = blk_queue_submit(q->bq, &in);

	if (ret == -EINVAL) {
		guest_error(q, "request without a writable status byte");
		return false;
	}
	if (ret)	/* -EAGAIN cannot happen: free slots were checked */
		return false;
	vhu_vq_inflight_get(q->hv, r->head);
	cnt_add(&q->c.requests, 1);
	return true;
}

/* Heads a killed predecessor took and never completed go first. */
static void resubmit_inflight(struct bs_queue *q)
{
	unsigned int n = 0;
	u16 head;
	int r;

	while (!q->broken && blk_queue_free_slots(q->bq) &&
	       vhu_vq_inflight_resubmit(q->hv, &head)) {
		r = vq_map_chain(&q->vq, head, &q->req);
		if (r < 0) {
			guest_error(q, vq_err_str(&q->vq));
			break;
		}
		if (submit(q))
			n++;
	}
	if (n) {
		blk_queue_commit(q->bq);
		bs_log("%s: queue %u: resubmitted %u request(s) left in flight by the previous back-end",
		       q->s->o.disk_path, q->idx, n);
	}
}

/*
 * Submissions go to the engine in slices of this many: a whole ring's worth
 * in one commit leaves a fast device idle while the rest is being popped.
 * What a slice completed is published before the next slice is popped, so a
 * guest waiting for an interrupt starts its wake-up (tens of microseconds
 * on a nested host) while the rest of the batch is still being served,
 * instead of after all of it: bench-vm-blk, guest poll=0 at QD 32, went
 * from ~0.7-0.8x host fio to ~1.0x with this.  A polling guest gets its
 * first completions sooner too.
 */
#define SUBMIT_SLICE 8

/* One pass: pop and submit everything, a commit per slice, reap.  Returns the work done. */
static int pass(struct bs_queue *q)
{
	unsigned int popped = 0;
	int r, done = 0;

	while (blk_queue_free_slots(q->bq)) {
		r = vq_pop(&q->vq, &q->req);
		if (r == 0)
			break;
		if (r < 0) {
			guest_error(q, vq_err_str(&q->vq));
			break;
		}
		if (!submit(q))
			break;
		if (++popped % SUBMIT_SLICE == 0) {
			blk_queue_commit(q->bq);
			done += reap(q);
		}
	}
	if (popped % SUBMIT_SLICE)
		blk_queue_commit(q->bq);
	return popped + done + reap(q);
}

static u64 now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

static bool should_stop(struct bs_queue *q)
{
	return __atomic_load_n(&q->stop, __ATOMIC_ACQUIRE);
}

static int ep_add(int ep, int fd, u64 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return fd < 0 ? 0 : epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
}

/* Wait on the epoll set; returns after reading what woke us. */
static void sleep_once(struct bs_queue *q, int ep)
{
	struct epoll_event ev[3];
	int i, n;

	/* No kick fd (the front-end polls for us): look again every ms. */
	n = epoll_wait(ep, ev, 3, q->hv->kick_fd >= 0 ? -1 : 1);
	for (i = 0; i < n; i++) {
		switch (ev[i].data.u64) {
		case TAG_KICK:
			fd_drain(q->hv->kick_fd);
			cnt_add(&q->c.kicks, 1);
			break;
		case TAG_DONE:
			fd_drain(blk_queue_event_fd(q->bq));
			break;
		default:
			break;	/* stop: checked by the caller */
		}
	}
}

/* After a guest error: finish what is in flight, then only wait to be stopped. */
static void park_broken(struct bs_queue *q, int ep)
{
	if (blk_queue_inflight(q->bq)) {
		blk_queue_drain(q->bq, done_cb, q);
		publish(q);
	}
	if (q->hv->kick_fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, q->hv->kick_fd, NULL);
	epoll_ctl(ep, EPOLL_CTL_DEL, blk_queue_event_fd(q->bq), NULL);
	while (!should_stop(q)) {
		struct epoll_event ev;

		epoll_wait(ep, &ev, 1, -1);
	}
}

/*
 * Adaptive polling (QEMU's AioContext does the same): the spin window starts
 * at the poll_us maximum, doubles back towards it (from BLK_POLL_START_NS)
 * after every idle spell that a window of the maximum would have covered
 * (the sleep cost a wake-up the spin would have saved), and halves after
 * every spell longer than the maximum, down to no spin at all.  A guest that
 * comes back within the maximum (an interrupt round trip here is ~25-30 us)
 * keeps the queue thread awake and its kicks suppressed; an idle queue or a
 * slow disk (hundreds of microseconds per request) stops burning the CPU.
 */
u64 blk_server_poll_next(u64 poll_ns, u64 poll_max, u64 idle_ns)
{
	if (idle_ns <= poll_max)
		poll_ns = poll_ns ? poll_ns * 2 : BLK_POLL_START_NS;
	else
		poll_ns = poll_ns / 2 >= BLK_POLL_START_NS ? poll_ns / 2 : 0;
	return poll_ns < poll_max ? poll_ns : poll_max;
}

static void *queue_main(void *arg)
{
	struct bs_queue *q = arg;
	struct vq *vq = &q->vq;
	u64 poll_max = (u64)q->s->o.poll_us * 1000, poll_ns = poll_max;
	u64 deadline = 0, idle_since = 0;
	bool cq_notify = true;
	int ep;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || ep_add(ep, q->stop_fd, TAG_STOP) ||
	    ep_add(ep, q->hv->kick_fd, TAG_KICK) ||
	    ep_add(ep, blk_queue_event_fd(q->bq), TAG_DONE)) {
		bs_log("%s: queue %u: epoll: %s; the queue does not run",
		       q->s->o.disk_path, q->idx, strerror(errno));
		if (ep >= 0)
			close(ep);
		return NULL;
	}
	resubmit_inflight(q);
	vq_disable_notify(vq);
	while (!should_stop(q)) {
		if (pass(q) > 0 && !q->broken) {
			deadline = 0;
			idle_since = 0;
			continue;
		}
		if (q->broken) {
			park_broken(q, ep);
			break;
		}
		if (!idle_since && poll_max)
			idle_since = now_ns();
		if (poll_ns) {
			u64 now = now_ns();

			if (!deadline) {
				deadline = now + poll_ns;
				if (cq_notify) {
					blk_queue_set_notify(q->bq, false);
					cq_notify = false;
				}
			}
			if (now < deadline) {
				cpu_relax();
				continue;
			}
		}
		/* Going to sleep: completion signals on, then one more reap. */
		if (!cq_notify) {
			blk_queue_set_notify(q->bq, true);
			cq_notify = true;
		}
		if (reap(q) > 0) {
			deadline = 0;
			idle_since = 0;
			continue;
		}
		/*
		 * Kicks on; sleep only if no chain raced in meanwhile.  With every
		 * slot in flight (only a guest that re-queues heads it has not got
		 * back can do that) chains waiting in the ring cannot be taken: sleep
		 * on the completions alone rather than spin.
		 */
		if (vq_enable_notify(vq) && blk_queue_free_slots(q->bq)) {
			vq_disable_notify(vq);
			continue;
		}
		sleep_once(q, ep);
		vq_disable_notify(vq);
		if (poll_max)
			poll_ns = blk_server_poll_next(poll_ns, poll_max,
						       now_ns() - idle_since);
		deadline = 0;
		idle_since = 0;
	}
	/* Finish everything in flight so last_avail_idx is exact at stop. */
	if (blk_queue_inflight(q->bq)) {
		blk_queue_drain(q->bq, done_cb, q);
		publish(q);
	}
	sync_engine_stats(q);
	close(ep);
	return NULL;
}

/* --- vhost-user device callbacks (control thread) ------------------------- */

static int queue_start(struct vhu_dev *dev, struct vhu_vq *hv)
{
	struct blk_server *s = vhu_dev_opaque(dev);
	struct bs_queue *q;
	struct blk_queue_opts bo = { .engine = s->o.engine };
	struct vq *vq;
	int r;

	if (hv->idx >= s->nq)
		return -EINVAL;
	q = s->q[hv->idx];
	if (q->running)
		return -EBUSY;
	vq = &q->vq;
	if (vhu_vq_ring_start(hv, vq)) {
		bs_log("%s: queue %u: ring rejected", s->o.disk_path, hv->idx);
		return -EINVAL;
	}
	bo.depth = hv->num;
	bo.seg_max = BLK_SEG_MAX_DEFAULT;
	r = blk_queue_create(s->disk, &bo, &q->bq);
	if (r) {
		bs_log("%s: queue %u: engine %s: %s", s->o.disk_path, hv->idx,
		       blk_engine_name(s->o.engine), strerror(-r));
		vq_stop(vq);
		return r;
	}
	memset(&q->blk_last, 0, sizeof(q->blk_last));
	q->hv = hv;
	q->nused = 0;
	__atomic_store_n(&q->broken, false, __ATOMIC_RELAXED);
	__atomic_store_n(&q->stop, 0, __ATOMIC_RELEASE);
	fd_drain(q->stop_fd);
	r = pthread_create(&q->thread, NULL, queue_main, q);
	if (r) {
		bs_log("%s: queue %u: cannot start its thread: %s", s->o.disk_path,
		       hv->idx, strerror(r));
		blk_queue_destroy(q->bq);
		q->bq = NULL;
		vq_stop(vq);
		return -r;
	}
	{
		char name[16];

		snprintf(name, sizeof(name), "vublk-q%u", hv->idx);
		pthread_setname_np(q->thread, name);	/* for top/perf; best effort */
	}
	q->running = true;
	return 0;
}

static void queue_stop(struct vhu_dev *dev, struct vhu_vq *hv)
{
	struct blk_server *s = vhu_dev_opaque(dev);
	struct bs_queue *q;

	if (hv->idx >= s->nq)
		return;
	q = s->q[hv->idx];
	if (!q->running)
		return;
	__atomic_store_n(&q->stop, 1, __ATOMIC_RELEASE);
	fd_signal(q->stop_fd);
	pthread_join(q->thread, NULL);
	q->running = false;
	hv->last_avail_idx = vq_stop(&q->vq);
	blk_queue_destroy(q->bq);
	q->bq = NULL;
}

static int get_config(struct vhu_dev *dev, u32 offset, void *buf, u32 len)
{
	struct blk_server *s = vhu_dev_opaque(dev);

	return blk_disk_get_config(s->disk, s->nq, BLK_SEG_MAX_DEFAULT, offset,
				   buf, len);
}

static int set_config(struct vhu_dev *dev, u32 offset, const void *buf, u32 len,
		      u32 flags)
{
	struct blk_server *s = vhu_dev_opaque(dev);

	(void)flags;
	return blk_disk_set_config(s->disk, offset, buf, len);
}

static void disconnected(struct vhu_dev *dev)
{
	struct blk_server *s = vhu_dev_opaque(dev);

	bs_log("%s: front-end disconnected; waiting for the next one",
	       s->o.disk_path);
}

/* --- server ---------------------------------------------------------------- */

static void seterr(char *err, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (!err || !len)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

int blk_server_new(const struct blk_server_opts *o, struct blk_server **out,
		   char *err, size_t errlen)
{
	struct blk_server *s;
	unsigned int i;
	int r;

	*out = NULL;
	if (!o || !o->disk_path || !*o->disk_path) {
		seterr(err, errlen, "no disk given");
		return -EINVAL;
	}
	if (o->queues > BLK_SERVER_MAX_QUEUES) {
		seterr(err, errlen, "queues: 1..%u, not %u", BLK_SERVER_MAX_QUEUES,
		       o->queues);
		return -EINVAL;
	}
	if (o->poll_us > BLK_SERVER_MAX_POLL_US) {
		seterr(err, errlen, "poll-us: 0..%u, not %u", BLK_SERVER_MAX_POLL_US,
		       o->poll_us);
		return -EINVAL;
	}
	r = blk_engine_probe(o->engine);
	if (r) {
		seterr(err, errlen, "engine %s does not work here: %s",
		       blk_engine_name(o->engine), strerror(-r));
		return r;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		seterr(err, errlen, "out of memory");
		return -ENOMEM;
	}
	s->o = *o;
	s->nq = o->queues ? o->queues : 1;
	s->o.queues = s->nq;
	s->o.serial = NULL;
	s->wake_fd = -1;
	s->pending_fd = -1;
	pthread_mutex_init(&s->lock, NULL);
	s->disk_path = strdup(o->disk_path);
	s->o.disk_path = s->disk_path;
	s->q = calloc(s->nq, sizeof(*s->q));
	if (!s->disk_path || !s->q) {
		r = -ENOMEM;
		seterr(err, errlen, "out of memory");
		goto fail;
	}
	for (i = 0; i < s->nq; i++) {
		struct bs_queue *q = calloc(1, sizeof(*q));

		if (!q) {
			r = -ENOMEM;
			seterr(err, errlen, "out of memory");
			goto fail;
		}
		s->q[i] = q;
		q->s = s;
		q->idx = i;
		q->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (q->stop_fd < 0) {
			r = -errno;
			seterr(err, errlen, "eventfd: %s", strerror(errno));
			goto fail;
		}
	}
	s->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (s->wake_fd < 0) {
		r = -errno;
		seterr(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	r = blk_disk_open(o->disk_path, o->cache, o->readonly, &s->disk);
	if (r) {
		if (r == -EINVAL && o->cache == BLK_CACHE_NONE)
			seterr(err, errlen, "cannot open disk %s with cache=none: the filesystem refuses O_DIRECT",
			       o->disk_path);
		else
			seterr(err, errlen, "cannot open disk %s: %s", o->disk_path,
			       strerror(-r));
		goto fail;
	}
	if (o->serial) {
		r = blk_disk_set_serial(s->disk, o->serial);
		if (r) {
			seterr(err, errlen, "serial '%s': at most %d bytes", o->serial,
			       VIRTIO_BLK_ID_BYTES);
			goto fail;
		}
	}
	s->ops = (struct vhu_dev_ops){
		.name = "vhost-user-blk",
		.features = F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_EVENT_IDX) |
			    F(VIRTIO_RING_F_INDIRECT_DESC) |
			    blk_disk_features(s->disk, s->nq),
		.protocol_features = BS_PROTOCOL_FEATURES,
		.nr_queues = s->nq,
		.max_queue_size = BLK_SERVER_MAX_QUEUE_SIZE,
		.get_config = get_config,
		.set_config = set_config,
		.queue_start = queue_start,
		.queue_stop = queue_stop,
		.disconnected = disconnected,
	};
	r = vhu_dev_new(&s->ops, s, &s->dev);
	if (r) {
		seterr(err, errlen, "vhost-user device: %s", strerror(-r));
		goto fail;
	}
	*out = s;
	return 0;
fail:
	blk_server_free(s);
	return r;
}

int blk_server_listen(struct blk_server *s, const char *path)
{
	return vhu_dev_listen(s->dev, path);
}

int blk_server_set_conn_fd(struct blk_server *s, int fd)
{
	int r = 0;

	if (fd < 0)
		return -EBADF;
	pthread_mutex_lock(&s->lock);
	if (s->loop_active) {
		/* The loop owns the device: hand it over. */
		if (s->pending_fd >= 0)
			close(s->pending_fd);
		s->pending_fd = fd;
		fd_signal(s->wake_fd);
	} else {
		r = vhu_dev_set_conn_fd(s->dev, fd);
		if (r)
			close(fd);
	}
	pthread_mutex_unlock(&s->lock);
	return r;
}

static void take_pending(struct blk_server *s)
{
	int fd, r;

	pthread_mutex_lock(&s->lock);
	fd = s->pending_fd;
	s->pending_fd = -1;
	pthread_mutex_unlock(&s->lock);
	if (fd < 0)
		return;
	r = vhu_dev_set_conn_fd(s->dev, fd);
	if (r) {
		bs_log("%s: new connection refused: %s", s->o.disk_path,
		       r == -EBUSY ? "a front-end is connected" : strerror(-r));
		close(fd);
	}
}

/* Keep the epoll registration in step with the device's connection fd. */
static void track_conn(struct blk_server *s, int ep, int *cur)
{
	int fd = vhu_dev_conn_fd(s->dev);
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = TAG_CONN };

	if (fd == *cur)
		return;
	if (*cur >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, *cur, NULL);	/* may be closed */
	*cur = -1;
	if (fd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev) == 0) {
		*cur = fd;
		__atomic_fetch_add(&s->connections, 1, __ATOMIC_RELAXED);
	}
}

int blk_server_run(struct blk_server *s)
{
	struct epoll_event ev = { .events = EPOLLIN };
	int ep, lfd, cur = -1, r = 0;

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0)
		return -errno;
	ev.data.u64 = TAG_WAKE;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, s->wake_fd, &ev)) {
		r = -errno;
		close(ep);
		return r;
	}
	lfd = vhu_dev_listen_fd(s->dev);
	ev.data.u64 = TAG_LISTEN;
	if (lfd >= 0 && epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev)) {
		r = -errno;
		close(ep);
		return r;
	}
	pthread_mutex_lock(&s->lock);
	s->loop_active = true;
	pthread_mutex_unlock(&s->lock);
	take_pending(s);
	track_conn(s, ep, &cur);
	while (!__atomic_load_n(&s->stopping, __ATOMIC_ACQUIRE)) {
		struct epoll_event evs[4];
		int n = epoll_wait(ep, evs, 4, -1), i;

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (i = 0; i < n; i++) {
			switch (evs[i].data.u64) {
			case TAG_WAKE:
				fd_drain(s->wake_fd);
				take_pending(s);
				break;
			case TAG_LISTEN: {
				int a = vhu_dev_accept(s->dev);

				if (a && a != -EAGAIN && a != -EBUSY)
					bs_log("%s: accept: %s", s->o.disk_path,
					       strerror(-a));
				break;
			}
			case TAG_CONN:
				/* < 0: connection over, already logged and released */
				if (vhu_dev_conn_fd(s->dev) >= 0)
					vhu_dev_dispatch(s->dev);
				break;
			}
			track_conn(s, ep, &cur);
		}
	}
	/* Drain and stop the queues of the current front-end. */
	vhu_dev_disconnect(s->dev);
	pthread_mutex_lock(&s->lock);
	s->loop_active = false;
	pthread_mutex_unlock(&s->lock);
	close(ep);
	return r;
}

static void *loop_main(void *arg)
{
	blk_server_run(arg);
	return NULL;
}

int blk_server_start(struct blk_server *s)
{
	int r;

	if (s->thread_started)
		return -EBUSY;
	pthread_mutex_lock(&s->lock);
	s->loop_active = true;	/* set_conn_fd from now on goes through the loop */
	pthread_mutex_unlock(&s->lock);
	r = pthread_create(&s->thread, NULL, loop_main, s);
	if (r) {
		pthread_mutex_lock(&s->lock);
		s->loop_active = false;
		pthread_mutex_unlock(&s->lock);
		return -r;
	}
	s->thread_started = true;
	return 0;
}

void blk_server_stop(struct blk_server *s)
{
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELEASE);
	fd_signal(s->wake_fd);
}

void blk_server_free(struct blk_server *s)
{
	unsigned int i;

	if (!s)
		return;
	if (s->thread_started) {
		blk_server_stop(s);
		pthread_join(s->thread, NULL);
		s->thread_started = false;
	}
	if (s->dev)
		vhu_dev_free(s->dev);	/* disconnects: queues stopped first */
	if (s->pending_fd >= 0)
		close(s->pending_fd);
	for (i = 0; s->q && i < s->nq; i++) {
		if (!s->q[i])
			continue;
		if (s->q[i]->stop_fd >= 0)
			close(s->q[i]->stop_fd);
		free(s->q[i]);
	}
	free(s->q);
	if (s->disk)
		blk_disk_close(s->disk);
	if (s->wake_fd >= 0)
		close(s->wake_fd);
	pthread_mutex_destroy(&s->lock);
	free(s->disk_path);
	free(s);
}

/* --- stats ------------------------------------------------------------------ */

static void read_counters(const struct bs_queue *q, struct bs_counters *c)
{
	c->kicks = __atomic_load_n(&q->c.kicks, __ATOMIC_RELAXED);
	c->requests = __atomic_load_n(&q->c.requests, __ATOMIC_RELAXED);
	c->completions = __atomic_load_n(&q->c.completions, __ATOMIC_RELAXED);
	c->calls = __atomic_load_n(&q->c.calls, __ATOMIC_RELAXED);
	c->errors = __atomic_load_n(&q->c.errors, __ATOMIC_RELAXED);
	c->flushes = __atomic_load_n(&q->c.flushes, __ATOMIC_RELAXED);
	c->fdatasyncs = __atomic_load_n(&q->c.fdatasyncs, __ATOMIC_RELAXED);
}

void blk_server_get_stats(struct blk_server *s, struct blk_server_stats *st)
{
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < s->nq; i++) {
		struct bs_counters c;

		read_counters(s->q[i], &c);
		st->kicks += c.kicks;
		st->requests += c.requests;
		st->completions += c.completions;
		st->calls += c.calls;
		st->errors += c.errors;
	}
}

static void json_str(FILE *f, const char *p)
{
	fputc('"', f);
	for (; *p; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

void blk_server_stats_json(struct blk_server *s, FILE *f)
{
	struct bs_counters t = { 0 };
	unsigned int i;

	fprintf(f, "{\"tool\":\"vhost-user-blk\",\"disk\":");
	json_str(f, s->o.disk_path);
	fprintf(f, ",\"engine\":\"%s\",\"cache\":\"%s\",\"readonly\":%d,\"queues\":[",
		blk_engine_name(s->o.engine), blk_cache_name(s->o.cache),
		s->o.readonly);
	for (i = 0; i < s->nq; i++) {
		struct bs_counters c;

		read_counters(s->q[i], &c);
		fprintf(f, "%s{\"q\":%u,\"kicks\":%llu,\"requests\":%llu,\"completions\":%llu,"
			"\"calls\":%llu,\"errors\":%llu,\"flushes\":%llu,\"fdatasyncs\":%llu,"
			"\"broken\":%d}", i ? "," : "", i,
			(unsigned long long)c.kicks, (unsigned long long)c.requests,
			(unsigned long long)c.completions, (unsigned long long)c.calls,
			(unsigned long long)c.errors, (unsigned long long)c.flushes,
			(unsigned long long)c.fdatasyncs,
			__atomic_load_n(&s->q[i]->broken, __ATOMIC_RELAXED) ? 1 : 0);
		t.kicks += c.kicks;
		t.requests += c.requests;
		t.completions += c.completions;
		t.calls += c.calls;
		t.errors += c.errors;
		t.flushes += c.flushes;
		t.fdatasyncs += c.fdatasyncs;
	}
	fprintf(f, "],\"kicks\":%llu,\"requests\":%llu,\"completions\":%llu,\"calls\":%llu,"
		"\"errors\":%llu,\"flushes\":%llu,\"fdatasyncs\":%llu,\"connections\":%llu}\n",
		(unsigned long long)t.kicks, (unsigned long long)t.requests,
		(unsigned long long)t.completions, (unsigned long long)t.calls,
		(unsigned long long)t.errors, (unsigned long long)t.flushes,
		(unsigned long long)t.fdatasyncs,
		(unsigned long long)__atomic_load_n(&s->connections, __ATOMIC_RELAXED));
	fflush(f);
}
