// SPDX-License-Identifier: MIT
/*
 * libaio engine: Linux native AIO, one context per queue.  Reads and writes
 * are batched into one io_submit() per commit and signal the queue's eventfd
 * (io_set_eventfd).  FLUSH uses IOCB_CMD_FDSYNC; a kernel or file that refuses
 * it gets a synchronous fdatasync() instead, and so do DISCARD and
 * WRITE_ZEROES (AIO has no fallocate).  Native AIO is only asynchronous with
 * O_DIRECT (cache=none); buffered it still works, synchronously inside
 * io_submit(), as in QEMU.
 *
 * Security model: only validated request slots reach this file (req.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "internal.h"

struct aio_eng {
	io_context_t ctx;
	unsigned int inflight;	/* in the kernel */
	unsigned int nbatch;	/* prepared, not yet submitted */
	bool no_fdsync;		/* IOCB_CMD_FDSYNC refused once: use fdatasync */
	struct iocb **batch;	/* depth entries: a slot is queued at most once */
	struct io_event *events;
};

static int aio_init(struct blk_queue *q)
{
	struct aio_eng *e = calloc(1, sizeof(*e));
	int r;

	if (!e)
		return -ENOMEM;
	e->batch = calloc(q->depth, sizeof(*e->batch));
	e->events = calloc(q->depth, sizeof(*e->events));
	if (!e->batch || !e->events) {
		r = -ENOMEM;
		goto err_free;
	}
	r = io_setup(q->depth, &e->ctx);	/* libaio returns -errno */
	if (r < 0)
		goto err_free;
	q->eng = e;
	return 0;

err_free:
	free(e->events);
	free(e->batch);
	free(e);
	return r;
}

static void aio_destroy(struct blk_queue *q)
{
	struct aio_eng *e = q->eng;

	io_destroy(e->ctx);
	free(e->events);
	free(e->batch);
	free(e);
}

static void aio_submit(struct blk_queue *q, struct blk_io *io)
{
	struct aio_eng *e = q->eng;
	struct iocb *cb = &io->iocb;
	int fd = q->disk->fd;

	switch (io->op) {
	case BLK_IO_READ:
		io_prep_preadv(cb, fd, io->iov, io->iovcnt, io->offset);
		break;
	case BLK_IO_WRITE:
		io_prep_pwritev(cb, fd, io->iov, io->iovcnt, io->offset);
		cb->aio_rw_flags = io->rw_flags;
		break;
	case BLK_IO_FLUSH:
		if (!e->no_fdsync) {
			io_prep_fdsync(cb, fd);
			break;
		}
		/* fall through */
	default:
		blk_io_run_sync(q, io);
		return;
	}
	io_set_eventfd(cb, q->efd);
	cb->data = io;
	e->batch[e->nbatch++] = cb;
}

static int aio_commit(struct blk_queue *q)
{
	struct aio_eng *e = q->eng;
	unsigned int i = 0;
	int busy = 0;

	while (i < e->nbatch) {
		int r = io_submit(e->ctx, e->nbatch - i, e->batch + i);
		struct blk_io *io;

		if (r > 0) {
			e->inflight += r;
			i += r;
			continue;
		}
		if ((r == -EAGAIN || r == -EINTR) && busy++ < 16)
			continue;
		/* The first iocb was refused: finish it and go on with the rest. */
		io = e->batch[i]->data;
		i++;
		if (io->op == BLK_IO_FLUSH && r == -EINVAL) {
			e->no_fdsync = true;
			blk_io_run_sync(q, io);
		} else {
			blk_io_finish(q, io, VIRTIO_BLK_S_IOERR);
		}
	}
	e->nbatch = 0;
	return 0;
}

/*
 * The completion ring the kernel maps at the context address (fs/aio.c):
 * reaping from it directly saves an io_getevents() system call per poll, as
 * fio's userspace_reap does.  Used only when the header says it is that ring.
 */
struct aio_uring {
	unsigned int id, nr, head, tail;
	unsigned int magic, compat_features, incompat_features, header_length;
	struct io_event events[];
};
#define AIO_RING_MAGIC	0xa10a10a1u

static int aio_user_reap(struct aio_eng *e, unsigned int max)
{
	struct aio_uring *r = (struct aio_uring *)e->ctx;
	unsigned int head, tail, n = 0;

	if (r->magic != AIO_RING_MAGIC || r->incompat_features)
		return -ENOSYS;
	head = r->head;
	/* Acquire: the events up to tail are read after tail is. */
	tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
	if (head >= r->nr || tail >= r->nr)
		return -ENOSYS;
	while (head != tail && n < max) {
		e->events[n++] = r->events[head];
		head = head + 1 == r->nr ? 0 : head + 1;
	}
	/* Release: the events are copied before the kernel may reuse them. */
	__atomic_store_n(&r->head, head, __ATOMIC_RELEASE);
	return n;
}

static void aio_events(struct blk_queue *q, long min_nr)
{
	struct aio_eng *e = q->eng;
	struct timespec zero = { 0, 0 };
	bool again = false;
	int n = -ENOSYS;

	if (!e->inflight)
		return;
	if (!min_nr)
		n = aio_user_reap(e, e->inflight);
	if (n < 0) {
		do
			n = io_getevents(e->ctx, min_nr, e->inflight, e->events,
					 min_nr ? NULL : &zero);
		while (n == -EINTR);
	}
	for (int i = 0; i < n; i++) {
		struct blk_io *io = e->events[i].data;

		e->inflight--;
		if (blk_io_result(q, io, (long)e->events[i].res)) {
			aio_submit(q, io);
			again = true;
		}
	}
	if (again)
		aio_commit(q);
}

static void aio_reap(struct blk_queue *q)
{
	aio_events(q, 0);
}

static int aio_wait(struct blk_queue *q)
{
	struct aio_eng *e = q->eng;

	if (!e->inflight)
		return -EIO;	/* would wait forever: a bug of ours */
	aio_events(q, 1);
	return 0;
}

static int aio_probe(void)
{
	io_context_t ctx = 0;
	int r = io_setup(1, &ctx);

	if (r < 0)
		return r;
	io_destroy(ctx);
	return 0;
}

const struct blk_engine_ops blk_engine_aio = {
	.name = "libaio",
	.init = aio_init,
	.destroy = aio_destroy,
	.submit = aio_submit,
	.commit = aio_commit,
	.reap = aio_reap,
	.wait = aio_wait,
	.probe = aio_probe,
};
