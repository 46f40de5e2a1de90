// SPDX-License-Identifier: MIT
/*
 * One virtio-blk queue: a pool of request slots, the engine behind it, and the
 * completion path (status byte, used length, callback).
 *
 * Security model: requests arrive through blk_req_parse() (req.c), which is
 * the only code that reads guest-controlled fields; here only validated slot
 * fields are used.  Kernel results are trusted but not assumed complete:
 * short transfers are continued, never reported as success.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/falloc.h>

#include "internal.h"

#define BLK_MAX_RETRIES	16	/* EINTR/EAGAIN in a row before IOERR */

static const struct blk_engine_ops *engine_ops(enum blk_engine_kind kind)
{
	switch (kind) {
	case BLK_ENGINE_IO_URING:	return &blk_engine_uring;
	case BLK_ENGINE_LIBAIO:		return &blk_engine_aio;
	case BLK_ENGINE_SYNC:		return &blk_engine_sync;
	case BLK_ENGINE_THREADS:	return &blk_engine_threads;
	}
	return NULL;
}

int blk_engine_parse(const char *name, enum blk_engine_kind *kind)
{
	if (!strcmp(name, "io_uring"))
		*kind = BLK_ENGINE_IO_URING;
	else if (!strcmp(name, "libaio"))
		*kind = BLK_ENGINE_LIBAIO;
	else if (!strcmp(name, "sync"))
		*kind = BLK_ENGINE_SYNC;
	else if (!strcmp(name, "threads"))
		*kind = BLK_ENGINE_THREADS;
	else
		return -EINVAL;
	return 0;
}

const char *blk_engine_name(enum blk_engine_kind kind)
{
	const struct blk_engine_ops *ops = engine_ops(kind);

	return ops ? ops->name : "?";
}

int blk_engine_probe(enum blk_engine_kind kind)
{
	const struct blk_engine_ops *ops = engine_ops(kind);

	if (!ops)
		return -EINVAL;
	return ops->probe ? ops->probe() : 0;
}

void blk_io_finish(struct blk_queue *q, struct blk_io *io, u8 status)
{
	io->result = status;
	if (io->kind == BLK_KIND_IN)
		io->wlen = status == VIRTIO_BLK_S_OK ? (u32)io->total + 1 : 1;
	io->next = NULL;
	*q->done_tail = io;
	q->done_tail = &io->next;
}

static void io_advance(struct blk_io *io, size_t n)
{
	while (n && io->iovcnt) {
		if (n >= io->iov->iov_len) {
			n -= io->iov->iov_len;
			io->iov++;
			io->iovcnt--;
		} else {
			io->iov->iov_base = (u8 *)io->iov->iov_base + n;
			io->iov->iov_len -= n;
			n = 0;
		}
	}
}

/*
 * Write-through: O_DSYNC and RWF_DSYNC do not cover fallocate(), so make a
 * finished DISCARD/WRITE_ZEROES durable before it completes (rare path, sync).
 */
static int fa_sync(struct blk_queue *q, struct blk_io *io)
{
	if (!(io->rw_flags & RWF_DSYNC))
		return 0;
	q->stats.fdatasyncs++;
	return fdatasync(q->disk->fd) ? -errno : 0;
}

/* ZERO_RANGE refused, or a punched hole for WRITE_ZEROES: write zeroes. */
static void zero_fallback(struct blk_queue *q, struct blk_io *io)
{
	int r;

	if (io->fa_mode & FALLOC_FL_ZERO_RANGE)
		__atomic_store_n(&q->disk->zero_range, 0, __ATOMIC_RELAXED);
	r = blk_disk_write_zeroes(q->disk, io->offset, io->resid, io->rw_flags);
	blk_io_finish(q, io, r ? VIRTIO_BLK_S_IOERR : VIRTIO_BLK_S_OK);
}

bool blk_io_result(struct blk_queue *q, struct blk_io *io, long res)
{
	switch (io->op) {
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		if (res < 0) {
			if ((res == -EINTR || res == -EAGAIN) && io->retries < BLK_MAX_RETRIES) {
				io->retries++;
				q->stats.retries++;
				return true;
			}
			break;
		}
		if (q->short_io && (u64)res > q->short_io)
			res = q->short_io;
		/* 0 bytes: end of file (the file shrank under us). */
		if (res == 0 || (u64)res > io->resid)
			break;
		io->resid -= res;
		if (!io->resid) {
			blk_io_finish(q, io, VIRTIO_BLK_S_OK);
			return false;
		}
		io->offset += res;
		io_advance(io, res);
		io->retries = 0;
		q->stats.retries++;
		return true;
	case BLK_IO_FLUSH:
		if (res < 0)
			break;
		blk_io_finish(q, io, VIRTIO_BLK_S_OK);
		return false;
	case BLK_IO_FALLOC:
		if (res >= 0 || (res == -EOPNOTSUPP && io->kind == BLK_KIND_DISCARD)) {
			/* DISCARD is a hint: a device that cannot is still correct. */
			blk_io_finish(q, io, fa_sync(q, io) ? VIRTIO_BLK_S_IOERR :
				      VIRTIO_BLK_S_OK);
			return false;
		}
		if (res == -EOPNOTSUPP && io->kind == BLK_KIND_WRITE_ZEROES) {
			zero_fallback(q, io);
			return false;
		}
		break;
	default:
		break;
	}
	blk_io_finish(q, io, VIRTIO_BLK_S_IOERR);
	return false;
}

long blk_io_exec_sync(struct blk_queue *q, struct blk_io *io)
{
	int fd = q->disk->fd;
	long r;

	switch (io->op) {
	case BLK_IO_READ:
		r = preadv2(fd, io->iov, io->iovcnt, (off_t)io->offset, 0);
		break;
	case BLK_IO_WRITE:
		r = pwritev2(fd, io->iov, io->iovcnt, (off_t)io->offset, io->rw_flags);
		break;
	case BLK_IO_FLUSH:
		r = fdatasync(fd);
		break;
	case BLK_IO_FALLOC:
		r = fallocate(fd, io->fa_mode, (off_t)io->offset, (off_t)io->resid);
		break;
	default:
		return -EINVAL;
	}
	return r < 0 ? -errno : r;
}

void blk_io_run_sync(struct blk_queue *q, struct blk_io *io)
{
	while (blk_io_result(q, io, blk_io_exec_sync(q, io)))
		;
}

/* O_DIRECT takes only aligned buffers: use a bounce buffer for the rest. */
static bool needs_bounce(const struct blk_disk *d, const struct blk_io *io)
{
	for (unsigned int i = 0; i < io->data_n; i++)
		if ((uintptr_t)io->iov_store[i].iov_base % d->mem_align ||
		    io->iov_store[i].iov_len % d->blk_size)
			return true;
	return false;
}

static int bounce_setup(struct blk_queue *q, struct blk_io *io)
{
	size_t align = q->disk->mem_align < 4096 ? 4096 : q->disk->mem_align;
	size_t off = 0;

	if (posix_memalign(&io->bounce, align, io->total)) {
		io->bounce = NULL;
		return -ENOMEM;
	}
	if (io->op == BLK_IO_WRITE) {
		for (unsigned int i = 0; i < io->data_n; i++) {
			memcpy((u8 *)io->bounce + off, io->iov_store[i].iov_base,
			       io->iov_store[i].iov_len);
			off += io->iov_store[i].iov_len;
		}
	}
	io->bounce_iov.iov_base = io->bounce;
	io->bounce_iov.iov_len = io->total;
	io->iov = &io->bounce_iov;
	io->iovcnt = 1;
	q->stats.bounced++;
	return 0;
}

static void bounce_finish(struct blk_io *io)
{
	size_t off = 0;

	if (io->kind == BLK_KIND_IN && io->result == VIRTIO_BLK_S_OK) {
		for (unsigned int i = 0; i < io->data_n; i++) {
			memcpy(io->iov_store[i].iov_base, (u8 *)io->bounce + off,
			       io->iov_store[i].iov_len);
			off += io->iov_store[i].iov_len;
		}
	}
	free(io->bounce);
	io->bounce = NULL;
}

static void count(struct blk_queue *q, const struct blk_io *io)
{
	struct blk_queue_stats *s = &q->stats;

	switch (io->kind) {
	case BLK_KIND_IN:		s->reads++; s->read_bytes += io->total; break;
	case BLK_KIND_OUT:		s->writes++; s->written_bytes += io->total; break;
	case BLK_KIND_FLUSH:		s->flushes++; break;
	case BLK_KIND_GET_ID:		s->get_ids++; break;
	case BLK_KIND_DISCARD:		s->discards++; break;
	case BLK_KIND_WRITE_ZEROES:	s->write_zeroes++; break;
	default:			break;
	}
}

int blk_queue_submit(struct blk_queue *q, const struct blk_req_in *in)
{
	struct blk_io *io = q->free;
	int r;

	if (!io)
		return -EAGAIN;
	r = blk_req_parse(q->disk, in, io, q->seg_max);
	if (r < 0)
		return r;
	q->free = io->next;
	q->inflight++;
	io->head = in->head;
	io->cookie = in->cookie;
	count(q, io);

	switch (io->op) {
	case BLK_IO_DONE:
		blk_io_finish(q, io, io->result);
		break;
	case BLK_IO_ZERO_WRITE:
		zero_fallback(q, io);
		break;
	case BLK_IO_READ:
	case BLK_IO_WRITE:
		if (q->disk->direct && needs_bounce(q->disk, io) && bounce_setup(q, io)) {
			blk_io_finish(q, io, VIRTIO_BLK_S_IOERR);
			break;
		}
		q->ops->submit(q, io);
		break;
	case BLK_IO_FLUSH:
		q->stats.fdatasyncs++;
		q->ops->submit(q, io);
		break;
	default:
		q->ops->submit(q, io);
		break;
	}
	return 0;
}

int blk_queue_commit(struct blk_queue *q)
{
	return q->ops->commit(q);
}

int blk_queue_complete(struct blk_queue *q, blk_done_fn fn, void *opaque)
{
	struct blk_io *io, *list;
	int n = 0;

	q->ops->reap(q);
	/*
	 * Deliver what is finished now; requests @fn submits that finish at
	 * once (sync engine, refused requests) wait for the next call, so a
	 * callback that resubmits cannot keep this loop going forever.
	 */
	list = q->done_head;
	q->done_head = NULL;
	q->done_tail = &q->done_head;
	while ((io = list)) {
		u16 head = io->head;
		u32 wlen = io->wlen;
		void *cookie = io->cookie;

		list = io->next;
		if (io->bounce)
			bounce_finish(io);
		if (io->result != VIRTIO_BLK_S_OK)
			q->stats.errors++;
		/* The ring code's barrier before the used index orders this store. */
		WRITE_ONCE(*io->status, io->result);
		io->next = q->free;
		q->free = io;
		q->inflight--;
		n++;
		if (fn)
			fn(opaque, head, wlen, cookie);
	}
	return n;
}

int blk_queue_drain(struct blk_queue *q, blk_done_fn fn, void *opaque)
{
	int r = blk_queue_commit(q);

	if (r < 0)
		return r;
	for (;;) {
		blk_queue_complete(q, fn, opaque);
		if (!q->inflight)
			return 0;
		r = q->ops->wait(q);
		if (r < 0 && r != -EINTR)
			return r;
	}
}

int blk_queue_create(struct blk_disk *d, const struct blk_queue_opts *opts,
		     struct blk_queue **out)
{
	const struct blk_engine_ops *ops = engine_ops(opts->engine);
	unsigned int seg_max = opts->seg_max ? opts->seg_max : BLK_SEG_MAX_DEFAULT;
	struct blk_queue *q;
	int r;

	if (!ops || !opts->depth || opts->depth > BLK_DEPTH_LIMIT ||
	    seg_max > BLK_SEG_MAX_LIMIT)
		return -EINVAL;
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	q->disk = d;
	q->ops = ops;
	q->depth = opts->depth;
	q->seg_max = seg_max;
	q->done_tail = &q->done_head;
	q->slot_size = (sizeof(struct blk_io) + seg_max * sizeof(struct iovec) + 63) & ~(size_t)63;
	if (posix_memalign(&q->slots, 64, q->slot_size * q->depth)) {
		r = -ENOMEM;
		goto err_free;
	}
	memset(q->slots, 0, q->slot_size * q->depth);
	for (unsigned int i = q->depth; i-- > 0;) {
		struct blk_io *io = (struct blk_io *)((u8 *)q->slots + i * q->slot_size);

		io->next = q->free;
		q->free = io;
	}
	q->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (q->efd < 0) {
		r = -errno;
		goto err_slots;
	}
	r = ops->init(q);
	if (r < 0)
		goto err_efd;
	*out = q;
	return 0;

err_efd:
	close(q->efd);
err_slots:
	free(q->slots);
err_free:
	free(q);
	return r;
}

void blk_queue_destroy(struct blk_queue *q)
{
	if (!q)
		return;
	blk_queue_drain(q, NULL, NULL);
	q->ops->destroy(q);
	close(q->efd);
	free(q->slots);
	free(q);
}

int blk_queue_event_fd(const struct blk_queue *q)
{
	return q->efd;
}

void blk_queue_set_notify(struct blk_queue *q, bool on)
{
	if (q->ops->notify)
		q->ops->notify(q, on);
}

unsigned int blk_queue_inflight(const struct blk_queue *q)
{
	return q->inflight;
}

unsigned int blk_queue_free_slots(const struct blk_queue *q)
{
	return q->depth - q->inflight;
}

void blk_queue_get_stats(const struct blk_queue *q, struct blk_queue_stats *st)
{
	*st = q->stats;
}

void blk_queue_test_short_io(struct blk_queue *q, u32 bytes)
{
	q->short_io = bytes;
}
