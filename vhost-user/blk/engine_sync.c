// SPDX-License-Identifier: MIT
/*
 * sync engine: preadv2/pwritev2/fdatasync/fallocate in the queue thread, each
 * request finished inside blk_queue_submit().  The reference the other
 * engines are checked against, and the fallback when neither io_uring nor
 * AIO is available.
 *
 * Security model: only validated request slots reach this file (req.c).
 */
#include <errno.h>

#include "internal.h"

static int sync_init(struct blk_queue *q)
{
	q->eng = NULL;
	return 0;
}

static void sync_destroy(struct blk_queue *q)
{
	(void)q;
}

static void sync_submit(struct blk_queue *q, struct blk_io *io)
{
	blk_io_run_sync(q, io);
}

static int sync_commit(struct blk_queue *q)
{
	(void)q;
	return 0;
}

static void sync_reap(struct blk_queue *q)
{
	(void)q;
}

static int sync_wait(struct blk_queue *q)
{
	(void)q;
	return -EIO;	/* nothing is ever in flight: a bug of ours */
}

const struct blk_engine_ops blk_engine_sync = {
	.name = "sync",
	.init = sync_init,
	.destroy = sync_destroy,
	.submit = sync_submit,
	.commit = sync_commit,
	.reap = sync_reap,
	.wait = sync_wait,
};
