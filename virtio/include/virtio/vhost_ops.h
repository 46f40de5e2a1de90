/* SPDX-License-Identifier: MIT */
/*
 * struct vhost_ops: the one back-end interface of a vioplane virtio device.
 *
 * A device in the VMM is a transport (virtio-pci) plus a struct vhost_dev whose
 * ops are implemented by:
 *   - vhost-kernel/  ioctls on /dev/vhost-net
 *   - vhost-user/    the front-end library, messages over a unix socket to an
 *                    external back-end, or to our own back-end run in-process on
 *                    a VMM thread over a socketpair
 * libvirtio-user (guest-drivers/ built for a host process) uses the same ops.
 *
 * Addresses passed here are guest physical addresses; each implementation turns
 * them into whatever its back-end wants (vhost-user and vhost-kernel both want
 * the front-end's user addresses) through the memory table it was given.
 * Every op returns 0 or -errno.  A back-end that fails or goes away makes every
 * later op return -EIO/-ENOTCONN; the caller marks its device NEEDS_RESET.
 */
#ifndef VIRTIO_VHOST_OPS_H
#define VIRTIO_VHOST_OPS_H

#include <stdbool.h>
#include <virtio/types.h>
#include <virtio/mem.h>

struct vhost_dev;

struct vhost_vring_gpas {
	u64 desc;
	u64 avail;
	u64 used;
	u64 log;	/* 0 when not logging */
	unsigned int flags;	/* VHOST_VRING_F_LOG */
};

struct vhost_ops {
	const char *name;
	int (*get_features)(struct vhost_dev *d, u64 *features);
	int (*set_features)(struct vhost_dev *d, u64 features);
	int (*set_owner)(struct vhost_dev *d);
	int (*set_mem_table)(struct vhost_dev *d, const struct vq_mem *mem);
	int (*set_vring_num)(struct vhost_dev *d, unsigned int idx, unsigned int num);
	int (*set_vring_addr)(struct vhost_dev *d, unsigned int idx,
			      const struct vhost_vring_gpas *addr);
	int (*set_vring_base)(struct vhost_dev *d, unsigned int idx, unsigned int base);
	int (*get_vring_base)(struct vhost_dev *d, unsigned int idx, unsigned int *base);
	int (*set_vring_kick)(struct vhost_dev *d, unsigned int idx, int fd);
	int (*set_vring_call)(struct vhost_dev *d, unsigned int idx, int fd);
	int (*set_vring_err)(struct vhost_dev *d, unsigned int idx, int fd);
	int (*set_vring_enable)(struct vhost_dev *d, unsigned int idx, bool enable);
	int (*get_config)(struct vhost_dev *d, u32 offset, void *buf, u32 len);
	int (*set_config)(struct vhost_dev *d, u32 offset, const void *buf, u32 len);
	/* Stop all queues and forget the negotiated state (device reset). */
	int (*reset)(struct vhost_dev *d);
	/* Release everything; @d is invalid afterwards. */
	void (*destroy)(struct vhost_dev *d);
	/*
	 * Optional: an fd that reports EPOLLRDHUP/EPOLLHUP when the back-end goes
	 * away (the vhost-user socket), so the VMM can mark the device broken at
	 * once instead of at the next op.  -1 or NULL when there is none.
	 */
	int (*conn_fd)(struct vhost_dev *d);
};

struct vhost_dev {
	const struct vhost_ops *ops;
	unsigned int nr_queues;		/* queues the back-end offers */
	u64 features;			/* device features the back-end offers */
};

#endif
