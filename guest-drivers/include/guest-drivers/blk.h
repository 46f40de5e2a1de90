/* SPDX-License-Identifier: MIT */
/*
 * virtio-blk driver (freestanding; transport-agnostic: it talks to a struct
 * gd_virtio_transport, never to PCI or vhost-user).
 *
 * One request queue.  Every request owns a preallocated slot (header, status
 * byte, discard/write-zeroes segment and, with INDIRECT_DESC, a 3-entry
 * indirect table, all in DMA memory), so the hot path allocates nothing.
 * Queue depth: the queue size with INDIRECT_DESC, else size / 3 (three ring
 * descriptors per request).
 *
 *	gd_blk_init(&b, transport, NULL)
 *	gd_blk_submit(&b, &io) ... (stages; nothing visible yet)
 *	gd_blk_kick(&b)                 one notify for the whole batch, only if
 *	                                the device asked for it
 *	n = gd_blk_reap(&b, done, max)  completions (cookie, status)
 *	gd_blk_wait(&b)                 interrupt mode: sleep until one arrives
 *
 * Polling mode (gd_blk_set_poll(b, true)) suppresses used-buffer interrupts
 * (VRING_AVAIL_F_NO_INTERRUPT, or a used_event that is never reached with
 * EVENT_IDX) and the caller busy-polls gd_blk_reap().
 *
 * Security model: the device is not trusted.  The ring layer (vq_drv) checks
 * used ids; a status byte that is not OK/IOERR/UNSUPP counts as IOERR, and a
 * completed IN request whose used length is shorter than the data plus the
 * status byte is reported as GD_BLK_S_SHORT.  Device config values are
 * range-checked before use (block size a power of two in [512, 64 KiB]).
 */
#ifndef GUEST_DRIVERS_BLK_H
#define GUEST_DRIVERS_BLK_H

#include <linux/virtio_blk.h>
#include <guest-drivers/virtio.h>

#define GD_BLK_SECTOR		512u
/* Driver-side completion statuses beyond VIRTIO_BLK_S_{OK,IOERR,UNSUPP}. */
#define GD_BLK_S_SHORT		0x100	/* device wrote less than asked */
#define GD_BLK_S_BADSTATUS	0x101	/* status byte not a known value */

struct gd_blk_opts {
	unsigned int queue_size;	/* 0: the device's maximum */
	u64 features_mask;		/* features NOT to negotiate (testing) */
	bool no_irq;			/* program no interrupt vector */
};

/* One request.  Buffers are DMA memory (gd_alloc), virtually contiguous. */
struct gd_blk_io {
	u32 type;		/* VIRTIO_BLK_T_IN/OUT/FLUSH/GET_ID/DISCARD/WRITE_ZEROES */
	u32 flags;		/* WRITE_ZEROES: VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP */
	u64 sector;		/* first 512-byte sector */
	void *buf;		/* IN/OUT/GET_ID data */
	u32 len;		/* bytes: IN/OUT a multiple of 512; GET_ID 20;
				   DISCARD/WRITE_ZEROES the range, a multiple of 512 */
	void *cookie;		/* returned on completion (may be NULL) */
};

struct gd_blk_done {
	void *cookie;
	int status;		/* VIRTIO_BLK_S_* or GD_BLK_S_* */
	u32 len;		/* bytes the device says it wrote */
};

struct gd_blk_slot;

struct gd_blk {
	struct gd_virtio_dev vdev;
	struct gd_virtqueue rq;
	u64 capacity;		/* 512-byte sectors */
	u32 blk_size;		/* logical block size (512 if not offered) */
	u32 seg_max;		/* 0 if not offered */
	u32 max_discard_sectors;	/* per request (DISCARD), 0 if not offered */
	u32 max_write_zeroes_sectors;	/* per request (WRITE_ZEROES), ditto */
	bool ro, flush, discard, write_zeroes, indirect, event_idx;
	bool poll;
	bool broken;		/* queue or device failed: every call -EIO */
	unsigned int depth;	/* requests in flight at most */
	unsigned int inflight;
	struct gd_blk_slot *slots;	/* depth entries, DMA memory */
	struct gd_blk_slot *free;	/* free list */
	u64 irq_seen;
	/* statistics */
	u64 kicks, notifies, waits;
};

/* Probe and start the device.  0 or -errno (-ENODEV, -EOPNOTSUPP, -ENOMEM, -EIO). */
int gd_blk_init(struct gd_blk *b, struct gd_virtio_transport *t,
		const struct gd_blk_opts *opts);

/*
 * Reset the device and free the driver's private memory (DMA memory from
 * gd_alloc is never freed).  Also after a failed gd_blk_init.  Requests in
 * flight are forgotten; @b must be re-initialised before reuse.
 */
void gd_blk_destroy(struct gd_blk *b);

/*
 * Stage one request.  0, -EAGAIN (queue depth reached: reap first),
 * -EINVAL (bad length, type not negotiated, beyond capacity), -EFAULT (the
 * buffer is not DMA memory from gd_alloc), -EROFS (write
 * to a read-only disk), -EIO (broken).  Not visible to the device until
 * gd_blk_kick().
 */
int gd_blk_submit(struct gd_blk *b, const struct gd_blk_io *io);

/* Publish staged requests; notify the device if it wants (true if notified). */
bool gd_blk_kick(struct gd_blk *b);

/*
 * Reap up to @max completions into @done.  Returns how many (0 if none), or
 * -EIO when the device broke the ring protocol or asked for a reset.
 */
int gd_blk_reap(struct gd_blk *b, struct gd_blk_done *done, unsigned int max);

/* Polling (interrupts suppressed) or interrupt mode (the default). */
void gd_blk_set_poll(struct gd_blk *b, bool poll);

/*
 * Interrupt mode: return when completions are pending, sleeping until the
 * queue's interrupt if none is.  Spurious returns are possible.  -EIO if
 * broken, -EOPNOTSUPP if the transport has no interrupts.
 */
int gd_blk_wait(struct gd_blk *b);

/*
 * Ask the device whether it still works (reads the status: on PCI an exit
 * to the VMM, so call it now and then, not per poll).  0, or -EIO and the
 * driver marked broken if the device set NEEDS_RESET or went away.
 */
int gd_blk_check(struct gd_blk *b);

/* Interrupts the request queue received so far (0 without interrupts). */
u64 gd_blk_irq_count(struct gd_blk *b);

/*
 * Convenience for tests and tools: submit one request, kick, and wait for it
 * (polling).  VIRTIO_BLK_S_* / GD_BLK_S_* status, or -errno.  Requires no
 * other request in flight.
 */
int gd_blk_sync(struct gd_blk *b, const struct gd_blk_io *io);

#endif
