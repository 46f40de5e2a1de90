/* SPDX-License-Identifier: MIT */
/*
 * Transport-independent virtio device core of guest-drivers (freestanding:
 * built into guestlet and into libvirtio-user).
 *
 * A transport (virtio-pci on bare metal, vhost-user in a host process) fills a
 * struct gd_virtio_transport; device drivers (blk, ...) only ever see this
 * header, never a transport's name.
 *
 * Device initialisation (virtio 1.2, 3.1.1) is gd_virtio_init():
 *	reset -> ACKNOWLEDGE -> DRIVER -> read device features -> write
 *	(device & wanted) -> FEATURES_OK -> read back FEATURES_OK
 * then the driver creates its queues (gd_virtio_queue_create) and reads its
 * config, then gd_virtio_driver_ok().  A device that sets NEEDS_RESET is seen
 * with gd_virtio_needs_reset(); the driver then stops using it.
 *
 * Errors are negative Linux errno values (<linux/errno.h>, no libc needed).
 */
#ifndef GUEST_DRIVERS_VIRTIO_H
#define GUEST_DRIVERS_VIRTIO_H

#include <stdbool.h>
#include <linux/virtio_config.h>
#include <virtio/types.h>
#include <virtio/vq_drv.h>

struct gd_virtio_transport;

/* "No interrupt" for a queue or the config change (the virtio-pci value). */
#define GD_VIRTIO_NO_VECTOR	0xffff

struct gd_virtio_transport_ops {
	const char *name;
	u64 (*get_features)(struct gd_virtio_transport *t);
	void (*set_features)(struct gd_virtio_transport *t, u64 features);
	u8 (*get_status)(struct gd_virtio_transport *t);
	/*
	 * Write the status byte.  Writing 0 resets the device; the transport
	 * returns only once the reset is complete (status reads back 0).
	 */
	void (*set_status)(struct gd_virtio_transport *t, u8 status);
	unsigned int (*num_queues)(struct gd_virtio_transport *t);
	/* Largest size queue @q accepts; 0 if the queue does not exist. */
	unsigned int (*queue_max_size)(struct gd_virtio_transport *t, unsigned int q);
	/*
	 * Program queue @q: size, the ring parts' guest-physical addresses and
	 * the interrupt vector (transport-specific index: MSI-X table entry on
	 * PCI; GD_VIRTIO_NO_VECTOR for none).  0 or -errno.
	 */
	int (*queue_setup)(struct gd_virtio_transport *t, unsigned int q,
			   unsigned int num, u64 desc, u64 avail, u64 used,
			   u16 vector);
	int (*queue_enable)(struct gd_virtio_transport *t, unsigned int q);
	/* Tell the device queue @q has new buffers (hot path). */
	void (*notify)(struct gd_virtio_transport *t, unsigned int q);
	/*
	 * Device-specific configuration, consistent (generation-checked where
	 * the transport has a generation counter).  0 or -errno.
	 */
	int (*config_read)(struct gd_virtio_transport *t, u32 off, void *buf, u32 len);
	int (*config_write)(struct gd_virtio_transport *t, u32 off, const void *buf,
			    u32 len);
	/* Read (and clear) the ISR status; 0 for transports without one. */
	u8 (*isr_read)(struct gd_virtio_transport *t);
	/*
	 * Used-buffer interrupts of queue @q: irq_count() is how many were
	 * seen so far; irq_wait() blocks until irq_count() != @seen (it may
	 * also return early; callers re-check).  Optional (NULL: polling only).
	 */
	u64 (*irq_count)(struct gd_virtio_transport *t, unsigned int q);
	void (*irq_wait)(struct gd_virtio_transport *t, unsigned int q, u64 seen);
};

struct gd_virtio_transport {
	const struct gd_virtio_transport_ops *ops;
};

/* A device as one driver sees it. */
struct gd_virtio_dev {
	struct gd_virtio_transport *t;
	u64 dev_features;	/* offered */
	u64 features;		/* negotiated */
	u8 status;		/* last status we wrote */
};

/* One virtqueue of a device: the split ring plus its transport index. */
struct gd_virtqueue {
	struct gd_virtio_dev *dev;
	unsigned int index;
	struct vq_drv vq;
	struct vq_drv_slot *slots;
	void *ring;
};

/*
 * Reset the device and negotiate: features = offered & @wanted (VERSION_1
 * is required and always wanted).  0, -ENODEV (device not there / legacy
 * only), -EOPNOTSUPP (device refused FEATURES_OK).  On error the device is left
 * with FAILED set.
 */
int gd_virtio_init(struct gd_virtio_dev *d, struct gd_virtio_transport *t,
		   u64 wanted);

/*
 * Create queue @index with @num entries (0: the device's maximum; clamped to
 * it) from DMA memory (gd_alloc, never freed), programmed with @vector.
 * 0, -ENOENT (no such queue), -ENOMEM, or the transport's error.
 */
int gd_virtio_queue_create(struct gd_virtio_dev *d, struct gd_virtqueue *q,
			   unsigned int index, unsigned int num, u16 vector);

/* Free the queue's private memory (reset the device first). */
void gd_virtio_queue_destroy(struct gd_virtqueue *q);

/* Set DRIVER_OK; -EIO if the device answered with NEEDS_RESET. */
int gd_virtio_driver_ok(struct gd_virtio_dev *d);

/* The device asked to be reset (NEEDS_RESET), or reads all-ones (gone). */
bool gd_virtio_needs_reset(struct gd_virtio_dev *d);

/* Give up on the device: set FAILED. */
void gd_virtio_fail(struct gd_virtio_dev *d);

/* Reset (status 0); queues must be re-created before reuse. */
void gd_virtio_reset(struct gd_virtio_dev *d);

static inline bool gd_virtio_has(const struct gd_virtio_dev *d, unsigned int bit)
{
	return (d->features >> bit) & 1;
}

/* Notify the device about queue @q if the ring says it wants it. */
static inline bool gd_virtqueue_kick(struct gd_virtqueue *q)
{
	if (!vq_drv_kick_prepare(&q->vq))
		return false;
	q->dev->t->ops->notify(q->dev->t, q->index);
	return true;
}

/*
 * Polling with EVENT_IDX: keep used_event just behind the entries reaped so
 * far, so the device's used->idx can never cross it (at most queue size ahead)
 * and no interrupt comes, however long the poll runs.  vq_drv_disable_cb()
 * sets it once; without this refresh it would be crossed again after 2^16
 * completions.  A plain store: nothing to order (the device reads it when it
 * decides whether to interrupt, and either value means "no").
 */
static inline void gd_virtqueue_poll_refresh(struct gd_virtqueue *q)
{
	if (q->vq.event_idx && !q->vq.cb_enabled)
		WRITE_ONCE(*q->vq.used_event, cpu_to_le16((u16)(q->vq.last_used_idx - 1)));
}

/* zlib's CRC-32 (polynomial 0xedb88320, init and final xor ~0), chainable. */
u32 gd_crc32(u32 crc, const void *buf, size_t len);

#endif
