/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, device side (host only: vhost-user back-ends, the VMM).
 *
 * Life cycle (mirrors the transport / vhost-user messages):
 *
 *	vq_init(vq, mem)                 zeroed, stopped; @mem is kept by pointer
 *	vq_set_num(vq, num)              SET_VRING_NUM / queue_size
 *	vq_set_features(vq, features)    EVENT_IDX and INDIRECT_DESC
 *	vq_set_addr(vq, desc, avail, used)    or vq_set_addr_uaddr() for vhost-user
 *	vq_set_base(vq, base)            SET_VRING_BASE (optional, default 0)
 *	vq_start(vq)                     queue_enable / DRIVER_OK / kick fd set
 *	... vq_pop / vq_push / vq_should_notify ...
 *	vq_stop(vq)                      GET_VRING_BASE / reset; returns the base
 *
 * num, features and addresses can only change while the queue is stopped
 * (-EBUSY otherwise: a guest must not move its rings after DRIVER_OK).  When
 * the memory table changes, call vq_set_mem(): it re-translates the ring
 * addresses.
 *
 * Errors.  Anything the guest wrote that breaks the rules marks the queue
 * broken: vq_pop() returns one of the codes below, every later vq_pop()
 * returns -EIO, vq->err keeps the first code and vq_err_str() says why in
 * words.  The caller logs once and sets NEEDS_RESET.  Codes, one per class
 * (SECURITY.md case number in brackets):
 *
 *	-ELOOP       descriptor chain longer than the queue / indirect table [1]
 *	-ERANGE      head or next index >= queue (or indirect table) size [2]
 *	-EPROTO      avail->idx moved more than queue size past last_avail [3]
 *	-EBADMSG     bad indirect descriptor: feature not negotiated, nested,
 *	             with NEXT, not at the head of the chain, table length 0 /
 *	             not a multiple of 16 / more than queue size entries, table
 *	             not contained in one memory region [5]
 *	-EFAULT      buffer (or the start of an indirect table) not entirely in
 *	             guest memory, wrapping past 2^64, or of length 0 [6]
 *	-EOVERFLOW   sum of readable or of writable lengths above 2^32 - 1 [7]
 *	-EILSEQ      device-readable descriptor after a device-writable one
 *	-ENOBUFS     chain needs more than VQ_REQ_MAX_IOV iovecs on one side
 *	-ENOTCONN    vq_pop() on a queue that is not started (kick before
 *	             DRIVER_OK) [9]; the queue is not marked broken, nothing is read
 * vq_init/vq_set_* return -EINVAL for a bad size or misaligned ring [4],
 * -EFAULT for a ring not contained in one memory region, -EBUSY while started.
 * Case [8] (descriptor rewritten after the check) cannot happen by design: each
 * descriptor is copied once and only the copy is checked and used.
 */
#ifndef VIRTIO_VQ_H
#define VIRTIO_VQ_H

#include <stdbool.h>
#include <sys/uio.h>

#include <virtio/mem.h>
#include <virtio/ring.h>
#include <virtio/types.h>

/* Capacity of each side (readable, writable) of a struct vq_req. */
#ifndef VQ_REQ_MAX_IOV
#define VQ_REQ_MAX_IOV 256
#endif

/* One popped descriptor chain. */
struct vq_req {
	u16 head;		/* give this back to vq_push() */
	u16 nr_rd;		/* device-readable iovecs in rd[] */
	u16 nr_wr;		/* device-writable iovecs in wr[] */
	u32 rd_len;		/* total bytes of rd[] */
	u32 wr_len;		/* total bytes of wr[] */
	struct iovec rd[VQ_REQ_MAX_IOV];
	struct iovec wr[VQ_REQ_MAX_IOV];
};

/* One used entry for vq_push_batch(). */
struct vq_used {
	u16 head;
	u32 len;		/* bytes written into the chain's writable part */
};

struct vq {
	/* Fixed while started. */
	u16 num;
	u16 mask;		/* num - 1 */
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;		/* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	bool started;
	bool addr_uaddr;	/* ring addresses are front-end uaddrs */
	bool addr_set;
	const struct vq_mem *mem;
	u64 desc_addr, avail_addr, used_addr;	/* as given (gpa or uaddr) */

	/* Host pointers into guest memory (valid while addr_set). */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	le16 *used_event;	/* &avail->ring[num] */
	le16 *avail_event;	/* &used->ring[num] */

	/* Device-private ring state. */
	u16 last_avail_idx;	/* next avail entry to pop */
	u16 shadow_avail_idx;	/* last avail->idx read */
	u16 used_idx;		/* next used entry to fill (our copy of used->idx) */
	u16 signalled_used;	/* used_idx at the last vq_should_notify() */
	bool signalled_used_valid;
	bool notify_enabled;	/* guest kicks wanted (vq_enable_notify) */
	unsigned int mem_hint;	/* region of the last one-descriptor chain */

	/* Guest fault state. */
	bool broken;
	int err;		/* first error (negative errno), 0 if none */
	const char *err_str;	/* what that error was, for the log */
};

void vq_init(struct vq *vq, const struct vq_mem *mem);
int vq_set_num(struct vq *vq, unsigned int num);
int vq_set_features(struct vq *vq, u64 features);
/* Ring addresses in guest-physical space (VMM, virtio-pci). */
int vq_set_addr(struct vq *vq, u64 desc, u64 avail, u64 used);
/* Ring addresses in the front-end's address space (vhost-user SET_VRING_ADDR). */
int vq_set_addr_uaddr(struct vq *vq, u64 desc, u64 avail, u64 used);
/*
 * New memory table: re-translates the ring addresses if set.  Not concurrent
 * with any other call on this queue (the back-end quiesces its queue thread).
 * If the rings are not in the new table: -EFAULT, and a started queue is
 * stopped and marked broken.
 */
int vq_set_mem(struct vq *vq, const struct vq_mem *mem);
/* Next avail index to process (SET_VRING_BASE). */
int vq_set_base(struct vq *vq, u16 base);
/*
 * Start processing: needs num and addresses.  Reads used->idx once (as Linux
 * vhost does) so a back-end restarted on a live ring continues where the used
 * ring stands, and clears the broken state.
 */
int vq_start(struct vq *vq);
/* Stop; returns the next avail index (GET_VRING_BASE). */
u16 vq_stop(struct vq *vq);
static inline bool vq_is_started(const struct vq *vq) { return vq->started; }
static inline bool vq_is_broken(const struct vq *vq) { return vq->broken; }
const char *vq_err_str(const struct vq *vq);

/*
 * Pop the next available chain into @req.  Returns 1 (got one), 0 (ring empty)
 * or a negative errno listed above (queue now broken; @req is garbage).
 */
int vq_pop(struct vq *vq, struct vq_req *req);

/*
 * Map the chain starting at @head into @req without touching the avail ring
 * (vhost-user in-flight replay).  Same checks and errors as vq_pop().
 */
int vq_map_chain(struct vq *vq, u16 head, struct vq_req *req);

/*
 * Hint only: prefetch the start of the first buffer of each of the next @n
 * chains the driver has published (up to the avail index last read), for a
 * device about to write them.  The first @hdr bytes are a header the device
 * reads before it stores (see the net back-end's rx_hdr_store()): their line
 * is prefetched to read, unless the data after them starts in it; the next
 * two lines after the header, to write (vq_prefetch_w()).  Lets a back-end
 * start the misses on a burst's buffers (lines the driver's core holds)
 * before it touches them, so they overlap instead of coming one by one.
 * Reads the avail ring and descriptors without checking them beyond
 * translating the address; nothing it reads decides anything (vq_pop() reads
 * and checks it all again) and prefetches never fault.  No-op on a stopped or
 * broken queue.
 */
void vq_prefetch_bufs(const struct vq *vq, unsigned int n, unsigned int hdr);

/*
 * True if the avail ring holds entries not yet popped (one read of avail->idx).
 * False for a stopped or broken queue.
 */
bool vq_has_work(struct vq *vq);

/*
 * Return a chain to the guest: used entry {head, len}, then used->idx.
 * -ERANGE if head >= num (a caller bug, the queue is not marked broken),
 * -ENOTCONN if stopped.  vq_push_batch() publishes all @n entries with one
 * used->idx store.
 */
int vq_push(struct vq *vq, u16 head, u32 len);
int vq_push_batch(struct vq *vq, const struct vq_used *used, unsigned int n);

/*
 * After pushing: should the guest be interrupted?  With EVENT_IDX, true if
 * used->idx crossed used_event since the previous call; otherwise true unless
 * the guest set VRING_AVAIL_F_NO_INTERRUPT.  False if nothing was pushed since
 * the previous call.
 */
bool vq_should_notify(struct vq *vq);

/*
 * Guest -> device notification (kick) suppression.
 *
 * vq_disable_notify(): the back-end is polling; without EVENT_IDX sets
 * VRING_USED_F_NO_NOTIFY, with EVENT_IDX sets avail_event one behind
 * last_avail_idx (the driver's next publishes cannot cross it) and stops
 * advancing it.
 *
 * vq_enable_notify(): ask for kicks again (clear NO_NOTIFY / publish
 * avail_event), then, after a full barrier, re-read avail->idx.  Returns true if
 * the ring is not empty: the guest may have added work before it saw the
 * change and so will not kick; the caller must keep processing (disable again,
 * pop).  Only when it returns false may the caller sleep waiting for a kick:
 *
 *	for (;;) {
 *		vq_disable_notify(vq);
 *		while ((r = vq_pop(vq, req)) > 0)
 *			handle(req);
 *		if (r < 0 || !vq_enable_notify(vq))
 *			break;
 *	}
 *
 * While notifications are enabled vq_pop() advances avail_event itself, so a
 * back-end that never disables them still gets a kick for each new batch.
 */
void vq_disable_notify(struct vq *vq);
bool vq_enable_notify(struct vq *vq);

#endif
