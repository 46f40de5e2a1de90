/* SPDX-License-Identifier: MIT */
/*
 * libvublk: the virtio-blk half of the vhost-user-blk back-end.
 *
 * Three pieces, independent of the ring and of the vhost-user protocol code:
 *   - struct blk_disk: the backing file or block device, opened with QEMU's cache
 *     semantics, plus what the device advertises (feature bits, config space);
 *   - the request layer: turns one popped descriptor chain (readable and
 *     writable iovecs) into a validated I/O or an immediate status;
 *   - the engines (io_uring, libaio, sync) behind one per-queue object,
 *     struct blk_queue, used by exactly one thread.
 *
 * Glue for one queue thread, with virtio/vq.h (one struct vq_req, reused:
 * blk_queue_submit() keeps nothing of it but the data and status addresses):
 *
 *	on a kick, or while busy-polling the avail ring:
 *		while (blk_queue_free_slots(q) && (r = vq_pop(vq, &req)) > 0) {
 *			struct blk_req_in in = { req.rd, req.nr_rd,
 *						 req.wr, req.nr_wr, req.head };
 *			if (blk_queue_submit(q, &in) == -EINVAL)
 *				mark the queue broken (no writable byte);
 *		}
 *		blk_queue_commit(q);			one io_uring_submit
 *	then, and on blk_queue_event_fd() readable (read it first):
 *		n = 0;
 *		blk_queue_complete(q, done_cb, ctx);	done_cb: used[n++] = {head, len}
 *		vq_push_batch(vq, used, n), then notify the guest if it wants.
 *	before stopping the ring: blk_queue_drain(q, done_cb, ctx), push, notify.
 *	busy-polling (--poll-us): blk_queue_set_notify(q, false) while polling;
 *	true, then blk_queue_complete() once more, before sleeping.
 *
 * The iovecs given to blk_queue_submit() need to live only for that call (they
 * are copied into the request slot; the data they point to is never copied,
 * except through an aligned bounce buffer when cache=none meets a guest buffer
 * O_DIRECT cannot take).  The status byte and data buffers must stay mapped
 * until the request completes.  No allocation per request: each queue owns a
 * pool of `depth` request slots.
 *
 * Every function returns 0 (or a count) or -errno; nothing exits or aborts.
 */
#ifndef VHOST_USER_BLK_H
#define VHOST_USER_BLK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/uio.h>
#include <linux/virtio_blk.h>
#include <virtio/types.h>

#define BLK_SECTOR_SIZE		512u
#define BLK_SECTOR_SHIFT	9
#define BLK_SEG_MAX_DEFAULT	126u	/* data segments per request, as QEMU */
#define BLK_SEG_MAX_LIMIT	1024u	/* IOV_MAX */
#define BLK_DEPTH_LIMIT		4096u

/* QEMU's -drive cache= modes. */
enum blk_cache_mode {
	BLK_CACHE_WRITEBACK = 0,	/* page cache, FLUSH -> fdatasync (default) */
	BLK_CACHE_NONE,			/* O_DIRECT, FLUSH still honoured */
	BLK_CACHE_WRITETHROUGH,		/* O_DSYNC, config wce = 0 */
};

enum blk_engine_kind {
	BLK_ENGINE_IO_URING = 0,
	BLK_ENGINE_LIBAIO,
	BLK_ENGINE_SYNC,
	BLK_ENGINE_THREADS,	/* the sync calls on a pool of worker threads */
};

/*
 * An open disk.  Fields are read-only for users; one disk is shared by every
 * queue thread (the few fields that change at run time are accessed atomically).
 */
struct blk_disk {
	int fd;
	enum blk_cache_mode cache;
	bool readonly;
	bool is_blkdev;
	bool direct;		/* opened O_DIRECT */
	bool dsync;		/* opened O_DSYNC */
	bool discard;		/* fallocate(PUNCH_HOLE|KEEP_SIZE) accepted */
	bool rw_inline;		/* buffered I/O that cannot be non-blocking (tmpfs):
				 * async engines run it inline instead of in a
				 * kernel worker that would share our core */
	u8 wce;			/* write cache enabled as seen by the guest (atomic) */
	u8 zero_range;		/* fallocate(ZERO_RANGE) not refused yet (atomic) */
	u64 capacity;		/* in 512-byte sectors */
	u32 blk_size;		/* logical block size in bytes (>= 512, power of 2) */
	u32 mem_align;		/* O_DIRECT buffer alignment; 1 when buffered */
	u32 max_discard_sectors;
	u32 max_write_zeroes_sectors;
	char serial[VIRTIO_BLK_ID_BYTES];	/* GET_ID answer, NUL-padded */
	void *zero_buf;		/* aligned zeroes for the WRITE_ZEROES fallback */
	size_t zero_len;
};

int blk_cache_parse(const char *name, enum blk_cache_mode *mode);
const char *blk_cache_name(enum blk_cache_mode mode);
int blk_engine_parse(const char *name, enum blk_engine_kind *kind);
const char *blk_engine_name(enum blk_engine_kind kind);
/* 0 when the engine works on this kernel, else -errno (e.g. io_uring disabled). */
int blk_engine_probe(enum blk_engine_kind kind);

/*
 * Open @path (regular file or block device).  cache=none opens O_DIRECT and
 * fails with -EINVAL (after one line on stderr) when the filesystem refuses it;
 * writethrough opens O_DSYNC.  A read-only disk is opened O_RDONLY.
 */
int blk_disk_open(const char *path, enum blk_cache_mode cache, bool readonly,
		  struct blk_disk **out);
void blk_disk_close(struct blk_disk *d);
/* At most 20 bytes; shorter serials are NUL-padded.  -EINVAL if longer. */
int blk_disk_set_serial(struct blk_disk *d, const char *serial);

/*
 * Device feature bits to offer: SEG_MAX, BLK_SIZE, FLUSH, CONFIG_WCE,
 * DISCARD (when the file can punch holes) and WRITE_ZEROES (writable disks),
 * RO (read-only disks),
 * MQ when @num_queues > 1.  Transport bits (VIRTIO_F_VERSION_1, ...) and
 * protocol bits are the caller's.
 */
u64 blk_disk_features(const struct blk_disk *d, unsigned int num_queues);
/* Fill @cfg (little-endian) for @num_queues queues of @seg_max data segments. */
void blk_disk_config(const struct blk_disk *d, unsigned int num_queues,
		     unsigned int seg_max, struct virtio_blk_config *cfg);
/*
 * A config-space read by the front-end (hostile offset/len): copy bytes
 * [@offset, @offset + @len) of the config built by blk_disk_config(); bytes
 * past our struct read as 0, up to BLK_CONFIG_SPACE_MAX (the vhost-user
 * limit).  -EINVAL when the range is outside that or overflows.
 */
#define BLK_CONFIG_SPACE_MAX	256u
int blk_disk_get_config(const struct blk_disk *d, unsigned int num_queues,
			unsigned int seg_max, u32 offset, void *buf, u32 len);
/*
 * A driver write to config space (hostile peer data): only the wce byte is
 * writable (@offset == offsetof(struct virtio_blk_config, wce), @len == 1).
 * wce = 0 makes every later write durable on completion (RWF_DSYNC unless the
 * disk is already O_DSYNC); wce = 1 returns to write-back (an O_DSYNC disk stays
 * write-through underneath, which is only safer).  -EINVAL for anything else.
 */
int blk_disk_set_config(struct blk_disk *d, u32 offset, const void *buf, u32 len);

/* One popped chain: device-readable part first, device-writable part second. */
struct blk_req_in {
	const struct iovec *out_iov;	/* device-readable (header, OUT data) */
	unsigned int out_n;
	const struct iovec *in_iov;	/* device-writable (IN data, status) */
	unsigned int in_n;
	u16 head;			/* returned to the completion callback */
	void *cookie;			/* ditto, for the caller's own use */
};

struct blk_queue_opts {
	enum blk_engine_kind engine;
	unsigned int depth;	/* request slots, usually the vring size; 1..4096 */
	unsigned int seg_max;	/* max data segments per request; 0 = default */
};

struct blk_queue;

/*
 * Completion: @len is the number of bytes written into the writable part
 * (data read or GET_ID bytes, plus the status byte), for the used ring.
 * The status byte has been stored when this runs.
 */
typedef void (*blk_done_fn)(void *opaque, u16 head, u32 len, void *cookie);

int blk_queue_create(struct blk_disk *d, const struct blk_queue_opts *opts,
		     struct blk_queue **out);
/* Requests still in flight are drained (without callbacks) first. */
void blk_queue_destroy(struct blk_queue *q);

/*
 * Parse and start one request.  0: accepted (it completes through
 * blk_queue_complete(), possibly at once with IOERR/UNSUPP).  -EAGAIN: no free
 * slot, nothing done.  -EINVAL: the chain has no writable byte, so there is no
 * status to answer with: the caller must mark the queue broken.
 */
int blk_queue_submit(struct blk_queue *q, const struct blk_req_in *in);
/* Hand the batch of submitted requests to the kernel (one io_uring_submit). */
int blk_queue_commit(struct blk_queue *q);
/*
 * Non-blocking: store the status of every finished request and call @fn for
 * each.  Returns how many completed.  @fn may call blk_queue_submit();
 * requests it submits are delivered by a later call, never by this one.
 */
int blk_queue_complete(struct blk_queue *q, blk_done_fn fn, void *opaque);
/* Block until no request is in flight, completing them all through @fn. */
int blk_queue_drain(struct blk_queue *q, blk_done_fn fn, void *opaque);
/*
 * Readable when asynchronous completions arrived (an eventfd: read 8 bytes
 * to reset it, then call blk_queue_complete()).  Requests finished inside
 * blk_queue_submit() do not signal it: always call blk_queue_complete() after
 * a batch of submissions.
 */
int blk_queue_event_fd(const struct blk_queue *q);
/*
 * Completion signals on the event fd cost a wake-up per request; a thread
 * that is polling anyway may turn them off (io_uring: a flag in the CQ ring,
 * no system call; other engines: no effect, they always signal).  Turn them
 * back on before sleeping, then call blk_queue_complete() once more, since a
 * request may have finished in between.  On by default.
 */
void blk_queue_set_notify(struct blk_queue *q, bool on);
unsigned int blk_queue_inflight(const struct blk_queue *q);
unsigned int blk_queue_free_slots(const struct blk_queue *q);

struct blk_queue_stats {
	u64 reads, writes, flushes, discards, write_zeroes, get_ids;
	u64 read_bytes, written_bytes;
	u64 errors;		/* completions with a status other than OK */
	u64 retries;		/* short transfers and EINTR/EAGAIN resubmitted */
	u64 bounced;		/* O_DIRECT requests that needed a bounce buffer */
	u64 fdatasyncs;		/* flushes handed to the kernel */
};
void blk_queue_get_stats(const struct blk_queue *q, struct blk_queue_stats *st);

/*
 * Test hook: pretend the kernel transferred at most @bytes per read/write
 * step (0 = off), to exercise the short-transfer path.  Data already moved
 * past that point is moved again, which is harmless.
 */
void blk_queue_test_short_io(struct blk_queue *q, u32 bytes);

#endif
