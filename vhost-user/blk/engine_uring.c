// SPDX-License-Identifier: MIT
/*
 * io_uring engine: one ring per queue, the disk fd registered (every SQE uses
 * IOSQE_FIXED_FILE), submissions batched until blk_queue_commit() (one
 * io_uring_submit per kick), completions reaped from the CQ ring without a
 * system call, the queue's eventfd registered for wake-ups.
 *
 * Security model: only validated request slots reach this file (req.c).
 */
#include <errno.h>
#include <stdlib.h>
#include <liburing.h>
#include <unistd.h>

#include "internal.h"

struct uring_eng {
	struct io_uring ring;
	unsigned int inflight;	/* SQEs prepared or in the kernel */
	bool inline_done;	/* completions run inline since the last commit */
	bool notify;		/* completions signal the eventfd */
};

static int uring_init(struct blk_queue *q)
{
	struct uring_eng *e = calloc(1, sizeof(*e));
	struct io_uring_params p = { 0 };
	int fd = q->disk->fd;
	int r;

	if (!e)
		return -ENOMEM;

	/* One SQE per slot at most: the SQ never fills between commits. */
	r = io_uring_queue_init_params(q->depth, &e->ring, &p);
	if (r < 0)
		goto err_free;
	r = io_uring_register_files(&e->ring, &fd, 1);
	if (r < 0)
		goto err_exit;
	r = io_uring_register_eventfd(&e->ring, q->efd);
	if (r < 0)
		goto err_exit;
	e->notify = true;
	q->eng = e;
	return 0;

err_exit:
	io_uring_queue_exit(&e->ring);
err_free:
	free(e);
	return r;
}

static void uring_destroy(struct blk_queue *q)
{
	struct uring_eng *e = q->eng;

	io_uring_queue_exit(&e->ring);
	free(e);
}

static void uring_submit(struct blk_queue *q, struct blk_io *io)
{
	struct uring_eng *e = q->eng;
	struct io_uring_sqe *sqe;

	if (io->op != BLK_IO_READ && io->op != BLK_IO_WRITE &&
	    io->op != BLK_IO_FLUSH && io->op != BLK_IO_FALLOC) {
		blk_io_finish(q, io, VIRTIO_BLK_S_IOERR);
		return;
	}
	/* Page-cache copies that could only run in an io-wq worker: do them here. */
	if (q->disk->rw_inline && (io->op == BLK_IO_READ || io->op == BLK_IO_WRITE)) {
		blk_io_run_sync(q, io);
		e->inline_done = true;
		return;
	}
	sqe = io_uring_get_sqe(&e->ring);
	if (!sqe) {
		/* Only if the SQ is smaller than the slots in flight; flush it. */
		io_uring_submit(&e->ring);
		sqe = io_uring_get_sqe(&e->ring);
		if (!sqe) {
			blk_io_finish(q, io, VIRTIO_BLK_S_IOERR);
			return;
		}
	}
	switch (io->op) {
	/* One segment (the common 4 KiB case): READ/WRITE skip the iovec import. */
	case BLK_IO_READ:
		if (io->iovcnt == 1)
			io_uring_prep_read(sqe, 0, io->iov->iov_base, io->iov->iov_len,
					   io->offset);
		else
			io_uring_prep_readv(sqe, 0, io->iov, io->iovcnt, io->offset);
		break;
	case BLK_IO_WRITE:
		if (io->iovcnt == 1)
			io_uring_prep_write(sqe, 0, io->iov->iov_base, io->iov->iov_len,
					    io->offset);
		else
			io_uring_prep_writev(sqe, 0, io->iov, io->iovcnt, io->offset);
		sqe->rw_flags = io->rw_flags;
		break;
	case BLK_IO_FLUSH:
		io_uring_prep_fsync(sqe, 0, IORING_FSYNC_DATASYNC);
		break;
	case BLK_IO_FALLOC:
		io_uring_prep_fallocate(sqe, 0, io->fa_mode, io->offset, io->resid);
		break;
	}
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data(sqe, io);
	e->inflight++;
}

static int uring_commit(struct blk_queue *q)
{
	struct uring_eng *e = q->eng;
	int r;

	/* Completions run inline keep the engine's promise: the eventfd fires. */
	if (e->inline_done) {
		u64 one = 1;

		e->inline_done = false;
		if (e->notify && write(q->efd, &one, sizeof(one)) < 0)
			(void)one;
	}
	if (!io_uring_sq_ready(&e->ring))
		return 0;
	do
		r = io_uring_submit(&e->ring);
	while (r == -EINTR);
	return r < 0 ? r : 0;
}

static void uring_reap(struct blk_queue *q)
{
	struct uring_eng *e = q->eng;
	bool again = false;

	while (e->inflight) {
		struct io_uring_cqe *cqe;
		unsigned int head, n = 0;

		io_uring_for_each_cqe(&e->ring, head, cqe) {
			struct blk_io *io = io_uring_cqe_get_data(cqe);
			long res = cqe->res;

			n++;
			e->inflight--;
			if (io && blk_io_result(q, io, res)) {
				uring_submit(q, io);
				again = true;
			}
		}
		if (!n)
			break;
		/* Frees the CQEs just read; the kernel may reuse them now. */
		io_uring_cq_advance(&e->ring, n);
	}
	if (again)
		uring_commit(q);
}

static int uring_wait(struct blk_queue *q)
{
	struct uring_eng *e = q->eng;
	struct io_uring_cqe *cqe;

	if (!e->inflight)
		return -EIO;	/* would wait forever: a bug of ours */
	return io_uring_wait_cqe(&e->ring, &cqe);
}

/* Eventfd signals off while the queue thread polls the CQ anyway. */
static void uring_notify(struct blk_queue *q, bool on)
{
	struct uring_eng *e = q->eng;

	io_uring_cq_eventfd_toggle(&e->ring, on);
	e->notify = on;
}

static int uring_probe(void)
{
	struct io_uring ring;
	int r = io_uring_queue_init(2, &ring, 0);

	if (r < 0)
		return r;
	io_uring_queue_exit(&ring);
	return 0;
}

const struct blk_engine_ops blk_engine_uring = {
	.name = "io_uring",
	.init = uring_init,
	.destroy = uring_destroy,
	.submit = uring_submit,
	.commit = uring_commit,
	.reap = uring_reap,
	.wait = uring_wait,
	.notify = uring_notify,
	.probe = uring_probe,
};
