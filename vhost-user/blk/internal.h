/* SPDX-License-Identifier: MIT */
/*
 * libvublk private header: request slots, the engine interface, and the
 * helpers engines share.  Nobody outside vhost-user/blk/ includes this.
 */
#ifndef VHOST_USER_BLK_INTERNAL_H
#define VHOST_USER_BLK_INTERNAL_H

#include <stdio.h>
#include <libaio.h>
#include <vhost-user/blk.h>

#define blk_log(fmt, ...) fprintf(stderr, "vublk: " fmt "\n", ##__VA_ARGS__)

/* What a request slot asks of the engine (after parsing). */
enum blk_io_op {
	BLK_IO_DONE = 0,	/* nothing to do: io->status is final */
	BLK_IO_READ,
	BLK_IO_WRITE,
	BLK_IO_FLUSH,
	BLK_IO_FALLOC,		/* DISCARD or WRITE_ZEROES by fallocate */
	BLK_IO_ZERO_WRITE,	/* WRITE_ZEROES by writing zeroes (fallback) */
};

enum blk_io_kind {		/* the virtio request type, for stats and fallbacks */
	BLK_KIND_NONE = 0,
	BLK_KIND_IN,
	BLK_KIND_OUT,
	BLK_KIND_FLUSH,
	BLK_KIND_GET_ID,
	BLK_KIND_DISCARD,
	BLK_KIND_WRITE_ZEROES,
};

/* One request slot; a queue owns `depth` of them, allocated at creation. */
struct blk_io {
	struct blk_io *next;	/* free list or done list */
	void *cookie;
	u8 *status;		/* the guest's status byte */
	u16 head;
	u8 op;			/* enum blk_io_op */
	u8 kind;		/* enum blk_io_kind */
	u8 result;		/* VIRTIO_BLK_S_* once finished */
	u8 retries;
	int rw_flags;		/* RWF_DSYNC when the guest turned wce off */
	int fa_mode;		/* fallocate mode for BLK_IO_FALLOC */
	u32 wlen;		/* used-ring len: bytes written incl. the status */
	u64 offset;		/* byte offset of the next step */
	u64 resid;		/* bytes left */
	u64 total;		/* data bytes of the request */
	struct iovec *iov;	/* next step's segments (into iov_store/bounce_iov) */
	unsigned int iovcnt;
	unsigned int data_n;	/* guest data segments in iov_store */
	void *bounce;		/* O_DIRECT bounce buffer, or NULL */
	struct iovec bounce_iov;
	struct iocb iocb;	/* libaio */
	struct iovec iov_store[];	/* seg_max entries */
};

struct blk_queue;

/*
 * An I/O engine.  submit() queues one slot (op READ/WRITE/FLUSH/FALLOC) and
 * must finish it (blk_io_finish) itself if it cannot; commit() hands the
 * batch to the kernel; reap() is non-blocking and passes each kernel result
 * to blk_io_result(), resubmitting when that asks; wait() blocks until at least
 * one completion can be reaped; notify() turns completion signals on the
 * queue's eventfd on or off, where the engine can do that cheaply.
 */
struct blk_engine_ops {
	const char *name;
	int (*init)(struct blk_queue *q);
	void (*destroy)(struct blk_queue *q);
	void (*submit)(struct blk_queue *q, struct blk_io *io);
	int (*commit)(struct blk_queue *q);
	void (*reap)(struct blk_queue *q);
	int (*wait)(struct blk_queue *q);
	void (*notify)(struct blk_queue *q, bool on);	/* optional */
	int (*probe)(void);
};

struct blk_queue {
	struct blk_disk *disk;
	const struct blk_engine_ops *ops;
	void *eng;		/* engine state */
	unsigned int depth;
	unsigned int seg_max;
	unsigned int inflight;	/* slots taken */
	int efd;		/* completion eventfd */
	u32 short_io;		/* test hook */
	struct blk_io *free;
	struct blk_io *done_head;
	struct blk_io **done_tail;
	void *slots;
	size_t slot_size;
	struct blk_queue_stats stats;
};

extern const struct blk_engine_ops blk_engine_uring;
extern const struct blk_engine_ops blk_engine_aio;
extern const struct blk_engine_ops blk_engine_sync;
extern const struct blk_engine_ops blk_engine_threads;

/* req.c: parse one chain into @io (see blk_queue_submit for the contract). */
int blk_req_parse(const struct blk_disk *d, const struct blk_req_in *in,
		  struct blk_io *io, unsigned int seg_max);

/* queue.c: helpers for the engines. */
void blk_io_finish(struct blk_queue *q, struct blk_io *io, u8 status);
/*
 * Account the kernel's result @res for @io's current step.  Returns true when
 * the engine must issue the (advanced) next step, false when @io is finished.
 */
bool blk_io_result(struct blk_queue *q, struct blk_io *io, long res);
/* Run @io's current step with plain syscalls; returns bytes or -errno. */
long blk_io_exec_sync(struct blk_queue *q, struct blk_io *io);
/* Run @io to the end with plain syscalls. */
void blk_io_run_sync(struct blk_queue *q, struct blk_io *io);

/* disk.c */
int blk_disk_write_zeroes(struct blk_disk *d, u64 offset, u64 len, int rw_flags);

#endif
