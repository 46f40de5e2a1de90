// SPDX-License-Identifier: MIT
/*
 * threads engine: a pool of worker threads per queue running the same plain
 * system calls as the sync engine (preadv2/pwritev2/fdatasync/fallocate), so
 * up to BLK_THREADS_MAX requests wait on the device at once, as QEMU's
 * aio=threads does.  For when io_uring is not there (old kernels, seccomp
 * profiles that block it) and libaio would block (buffered files, where it
 * does not go asynchronous), on disks where the sync engine's one request at
 * a time leaves the device idle.
 *
 * The queue thread owns every request slot except while a worker runs its
 * current step: submit() queues locally, commit() hands the batch to the
 * pool under the lock, workers run blk_io_exec_sync() (which reads only the
 * slot and the disk fd) and put the slot with its result on the done list;
 * reap() takes that list and accounts each result on the queue thread
 * (blk_io_result), resubmitting the steps that continue.  Workers signal the
 * queue's eventfd when notifications are on.
 *
 * Security model: only validated request slots reach this file (req.c).
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "internal.h"

#define BLK_THREADS_MAX	16

struct th_item {
	struct blk_io *io;
	long res;
};

struct th_eng {
	pthread_mutex_t lock;
	pthread_cond_t work;		/* ready not empty, or stop */
	pthread_cond_t done_cv;		/* done not empty (wait()) */
	struct blk_io *ready_head, **ready_tail;	/* handed to the pool */
	struct th_item *done;		/* finished steps, depth of them at most */
	unsigned int ndone;
	bool stop;
	bool notify;			/* workers signal the eventfd */
	/* queue thread only */
	struct blk_io *pend_head, **pend_tail;	/* submitted, not committed */
	unsigned int inflight;		/* steps handed out, not reaped */
	struct th_item *batch;		/* the other done array (swapped by reap) */
	int efd;
	unsigned int nthreads;
	pthread_t threads[BLK_THREADS_MAX];
};

static void th_done(struct th_eng *e, struct blk_io *io, long res);

static void *worker(void *arg)
{
	struct blk_queue *q = arg;
	struct th_eng *e = q->eng;

	pthread_mutex_lock(&e->lock);
	for (;;) {
		struct blk_io *io;
		long res;

		while (!e->ready_head && !e->stop)
			pthread_cond_wait(&e->work, &e->lock);
		if (e->stop)
			break;
		io = e->ready_head;
		e->ready_head = io->next;
		if (!e->ready_head)
			e->ready_tail = &e->ready_head;
		pthread_mutex_unlock(&e->lock);

		res = blk_io_exec_sync(q, io);

		pthread_mutex_lock(&e->lock);
		th_done(e, io, res);
	}
	pthread_mutex_unlock(&e->lock);
	return NULL;
}

static void th_stop(struct th_eng *e)
{
	pthread_mutex_lock(&e->lock);
	e->stop = true;
	pthread_cond_broadcast(&e->work);
	pthread_mutex_unlock(&e->lock);
	for (unsigned int i = 0; i < e->nthreads; i++)
		pthread_join(e->threads[i], NULL);
	e->nthreads = 0;
}

static void th_free(struct th_eng *e)
{
	pthread_cond_destroy(&e->done_cv);
	pthread_cond_destroy(&e->work);
	pthread_mutex_destroy(&e->lock);
	free(e->done);
	free(e->batch);
	free(e);
}

static int th_init(struct blk_queue *q)
{
	struct th_eng *e = calloc(1, sizeof(*e));
	unsigned int n = q->depth < BLK_THREADS_MAX ? q->depth : BLK_THREADS_MAX;
	int r;

	if (!e)
		return -ENOMEM;
	e->done = calloc(q->depth, sizeof(*e->done));
	e->batch = calloc(q->depth, sizeof(*e->batch));
	if (!e->done || !e->batch) {
		free(e->done);
		free(e->batch);
		free(e);
		return -ENOMEM;
	}
	pthread_mutex_init(&e->lock, NULL);
	pthread_cond_init(&e->work, NULL);
	pthread_cond_init(&e->done_cv, NULL);
	e->ready_tail = &e->ready_head;
	e->pend_tail = &e->pend_head;
	e->notify = true;
	e->efd = q->efd;
	q->eng = e;
	for (e->nthreads = 0; e->nthreads < n; e->nthreads++) {
		r = pthread_create(&e->threads[e->nthreads], NULL, worker, q);
		if (r) {
			th_stop(e);
			th_free(e);
			q->eng = NULL;
			return -r;
		}
	}
	return 0;
}

static void th_destroy(struct blk_queue *q)
{
	struct th_eng *e = q->eng;

	th_stop(e);
	th_free(e);
}

static void th_submit(struct blk_queue *q, struct blk_io *io)
{
	struct th_eng *e = q->eng;

	io->next = NULL;
	*e->pend_tail = io;
	e->pend_tail = &io->next;
	e->inflight++;
}

/* Put a finished step on the done list (lock held). */
static void th_done(struct th_eng *e, struct blk_io *io, long res)
{
	u64 one = 1;

	e->done[e->ndone] = (struct th_item){ io, res };
	/* reap() peeks at ndone without the lock */
	__atomic_store_n(&e->ndone, e->ndone + 1, __ATOMIC_RELAXED);
	pthread_cond_signal(&e->done_cv);
	if (e->notify && e->ndone == 1 && write(e->efd, &one, sizeof(one)) < 0)
		(void)one;	/* the counter is full: a wake-up is pending */
}

static int th_commit(struct blk_queue *q)
{
	struct th_eng *e = q->eng;
	struct blk_io *io = e->pend_head;
	unsigned int n = 0;

	if (!io)
		return 0;
	e->pend_head = NULL;
	e->pend_tail = &e->pend_head;
	/*
	 * A lone request with nothing else in flight runs right here: handing
	 * it to a worker and waiting for its wake-up costs more than the call
	 * (on this host a cross-CPU wake-up is tens of microseconds), and there
	 * is nothing to overlap it with.  The queue thread is busy meanwhile,
	 * exactly as with the sync engine.
	 */
	if (!io->next && e->inflight == 1) {
		long res = blk_io_exec_sync(q, io);

		pthread_mutex_lock(&e->lock);
		th_done(e, io, res);
		pthread_mutex_unlock(&e->lock);
		return 0;
	}
	pthread_mutex_lock(&e->lock);
	*e->ready_tail = io;
	for (; io; io = io->next) {
		e->ready_tail = &io->next;
		if (n++ < e->nthreads)
			pthread_cond_signal(&e->work);	/* one worker per step */
	}
	pthread_mutex_unlock(&e->lock);
	return 0;
}

static void th_reap(struct blk_queue *q)
{
	struct th_eng *e = q->eng;
	struct th_item *batch;
	unsigned int n;
	bool again = false;

	if (!e->inflight || !__atomic_load_n(&e->ndone, __ATOMIC_RELAXED))
		return;
	pthread_mutex_lock(&e->lock);
	/* Take the whole done array: swap in the empty one, copy nothing. */
	n = e->ndone;
	batch = e->done;
	e->done = e->batch;
	e->batch = batch;
	__atomic_store_n(&e->ndone, 0, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&e->lock);
	for (unsigned int i = 0; i < n; i++) {
		e->inflight--;
		if (blk_io_result(q, e->batch[i].io, e->batch[i].res)) {
			th_submit(q, e->batch[i].io);
			again = true;
		}
	}
	if (again)
		th_commit(q);
}

static int th_wait(struct blk_queue *q)
{
	struct th_eng *e = q->eng;

	if (!e->inflight)
		return -EIO;	/* would wait forever: a bug of ours */
	th_commit(q);
	pthread_mutex_lock(&e->lock);
	while (!e->ndone)
		pthread_cond_wait(&e->done_cv, &e->lock);
	pthread_mutex_unlock(&e->lock);
	return 0;
}

/* Eventfd signals off while the queue thread polls the done list anyway. */
static void th_notify(struct blk_queue *q, bool on)
{
	struct th_eng *e = q->eng;
	u64 one = 1;

	pthread_mutex_lock(&e->lock);
	e->notify = on;
	/* Turned on with results waiting: their signal may have been skipped. */
	if (on && e->ndone && write(e->efd, &one, sizeof(one)) < 0)
		(void)one;
	pthread_mutex_unlock(&e->lock);
}

const struct blk_engine_ops blk_engine_threads = {
	.name = "threads",
	.init = th_init,
	.destroy = th_destroy,
	.submit = th_submit,
	.commit = th_commit,
	.reap = th_reap,
	.wait = th_wait,
	.notify = th_notify,
};
