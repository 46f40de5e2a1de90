/* SPDX-License-Identifier: MIT */
/*
 * Split virtqueue, driver side.
 *
 * FREESTANDING: this header and virtio/vq_drv.c use no libc (only the kernel
 * uapi headers, <stddef.h>, <stdint.h>, <stdbool.h>), make no syscalls and
 * allocate nothing.  guest-drivers/ compiles virtio/vq_drv.c directly into the
 * bare-metal guestlet with its own flags; libvirtio-user and the unit tests
 * link it from libvirtio.a.  (gcc may emit memset/memcpy calls for struct
 * copies or zeroing loops; the guest provides those two symbols.)
 *
 * Addresses.  Everything the device sees is guest-physical.  The driver
 * converts its own pointers (ring memory, indirect tables) with to_gpa(priv, p)
 * if set, else as (u64)(uintptr_t)p + gpa_offset (identity when 0; an offset
 * suits a memfd mapped at some host address in libvirtio-user).  Buffer
 * addresses in struct vq_drv_sg are already guest-physical: use vq_drv_gpa().
 *
 * Memory the caller provides and keeps until the queue is torn down:
 *   - ring memory: vq_drv_ring_bytes(num) bytes, 64-byte aligned, laid out as
 *     descriptor table, avail ring, used ring (the used ring starts on a new
 *     64-byte line, so driver- and device-written lines are not shared);
 *   - a private array of num struct vq_drv_slot (never shared with the device:
 *     the free list and per-chain state live here, so a device that scribbles
 *     on the descriptor table cannot corrupt them).
 *
 * Typical use:
 *	head = vq_drv_add(d, sg, n, token);           (or vq_drv_add_indirect)
 *	if (vq_drv_kick_prepare(d)) notify the device;
 *	while ((r = vq_drv_get_used(d, &token, &len)) > 0) complete(token, len);
 *
 * Errors from the device side of the ring (SECURITY.md case 2, the device's
 * half of case 3) mark the queue broken: vq_drv_get_used() returns
 *	-EPROTO  used->idx moved past the number of chains in flight
 *	-ERANGE  used id >= queue size
 *	-EINVAL  used id not the head of a chain in flight
 * and -EIO on every later call.  Numeric errno values are defined here so the
 * freestanding build needs no <errno.h>.
 */
#ifndef VIRTIO_VQ_DRV_H
#define VIRTIO_VQ_DRV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <virtio/ring.h>
#include <virtio/types.h>

/* Linux errno numbers used by the driver side (same as <errno.h> on Linux). */
#define VQ_DRV_EIO	5
#define VQ_DRV_EINVAL	22
#define VQ_DRV_ENOSPC	28
#define VQ_DRV_ERANGE	34
#define VQ_DRV_EPROTO	71

#define VQ_DRV_RING_ALIGN 64u

/* One buffer of a chain: guest-physical address, length, device-writable? */
struct vq_drv_sg {
	u64 addr;
	u32 len;
	bool write;
};

/* Driver-private per-descriptor state (caller allocates num of them). */
struct vq_drv_slot {
	void *token;		/* head slot: caller's token while in flight */
	u16 next;		/* free list / chain link (private copy) */
	u16 ndesc;		/* head slot: ring descriptors used by the chain */
};

struct vq_drv_cfg {
	unsigned int num;	/* queue size, power of two <= VQ_MAX_SIZE */
	void *ring;		/* vq_drv_ring_bytes(num) bytes, 64-aligned */
	struct vq_drv_slot *slots;	/* num entries */
	u64 features;		/* negotiated: EVENT_IDX, INDIRECT_DESC used */
	u64 (*to_gpa)(void *priv, const void *p);	/* optional */
	void *priv;
	u64 gpa_offset;		/* used when to_gpa is NULL */
};

struct vq_drv {
	u16 num;
	u16 mask;
	bool event_idx;
	bool indirect;
	bool broken;
	bool cb_enabled;	/* interrupts wanted (vq_drv_enable_cb) */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	le16 *used_event;	/* &avail->ring[num]: written by us */
	le16 *avail_event;	/* &used->ring[num]: written by the device */
	struct vq_drv_slot *slots;

	u16 free_head;
	u16 num_free;
	u16 avail_idx;		/* next avail slot (staged, maybe unpublished) */
	u16 published_idx;	/* avail->idx last stored */
	u16 last_used_idx;	/* next used entry to reap */
	u16 shadow_used_idx;	/* used->idx last read */
	u16 in_flight;		/* chains added and not yet reaped */
	int err;

	u64 (*to_gpa)(void *priv, const void *p);
	void *priv;
	u64 gpa_offset;
};

/* Bytes of ring memory for a queue of @num entries (0 if num is invalid). */
u64 vq_drv_ring_bytes(unsigned int num);

/* Zero the ring, build the free list.  0, or -VQ_DRV_EINVAL (bad num/memory). */
int vq_drv_init(struct vq_drv *d, const struct vq_drv_cfg *cfg);

/* Guest-physical address of one of the driver's own pointers. */
u64 vq_drv_gpa(const struct vq_drv *d, const void *p);

/* Ring part addresses to give the device (queue_desc/driver/device). */
u64 vq_drv_desc_gpa(const struct vq_drv *d);
u64 vq_drv_avail_gpa(const struct vq_drv *d);
u64 vq_drv_used_gpa(const struct vq_drv *d);

/*
 * Stage a chain of @n buffers (device-readable ones first, then writable
 * ones) in ring descriptors.  Returns the head index (>= 0), -VQ_DRV_ENOSPC if
 * fewer than @n descriptors are free, -VQ_DRV_EINVAL for n == 0, a NULL token,
 * a readable buffer after a writable one, or a broken queue (-VQ_DRV_EIO).
 * The chain is visible to the device only after vq_drv_kick_prepare().
 */
int vq_drv_add(struct vq_drv *d, const struct vq_drv_sg *sg, unsigned int n,
	       void *token);

/*
 * Same, through an indirect table: @table (n descriptors, caller memory that
 * must stay untouched until the token comes back) holds the chain and one ring
 * descriptor points at it.  Needs VIRTIO_RING_F_INDIRECT_DESC and n <= num.
 */
int vq_drv_add_indirect(struct vq_drv *d, const struct vq_drv_sg *sg,
			unsigned int n, struct vring_desc *table, void *token);

/*
 * Publish every staged chain (one avail->idx store) and say whether the device
 * wants a notification: with EVENT_IDX, if avail->idx crossed avail_event;
 * otherwise unless the device set VRING_USED_F_NO_NOTIFY.  False if nothing
 * was staged.
 */
bool vq_drv_kick_prepare(struct vq_drv *d);

/*
 * Publish staged chains without the notification check (and its full
 * barrier): for a device known to poll.
 */
void vq_drv_publish(struct vq_drv *d);

/*
 * Reap one used chain: 1 and *token / *len (bytes the device wrote) set, 0 if
 * none, negative on a device error (above).  Frees the chain's descriptors.
 */
int vq_drv_get_used(struct vq_drv *d, void **token, u32 *len);

/* True if the device has returned chains not yet reaped (reads used->idx). */
bool vq_drv_has_used(struct vq_drv *d);

/*
 * After the device was reset (it no longer owns anything): take back one
 * chain still in flight, freeing its descriptors, and return its token; NULL
 * when none is left.  The avail ring is not rewound; re-init before reuse.
 */
void *vq_drv_detach_unused(struct vq_drv *d);

/* Free ring descriptors right now. */
static inline unsigned int vq_drv_num_free(const struct vq_drv *d)
{
	return d->num_free;
}

/*
 * Used-buffer notification (interrupt) suppression, the mirror of the
 * device's vq_disable_notify()/vq_enable_notify().  vq_drv_enable_cb() returns
 * true if used entries are already pending (the device may have pushed them
 * before it saw the request and so will not interrupt): reap them, do not
 * sleep.
 */
void vq_drv_disable_cb(struct vq_drv *d);
bool vq_drv_enable_cb(struct vq_drv *d);

#endif
