/* SPDX-License-Identifier: MIT */
/*
 * libvirtio-user: the guest-drivers virtio drivers run in a host process and
 * drive a vhost-user back-end directly (as DPDK's virtio_user does).
 *
 * "Guest RAM" is one memfd this process maps MAP_SHARED; a guest-physical
 * address is the offset in it.  gd_alloc() carves DMA memory (rings, request
 * headers, data buffers) out of it; gd_alloc_priv() is ordinary heap memory
 * the back-end never sees.  The memfd is given to the back-end with
 * SET_MEM_TABLE when the driver sets DRIVER_OK.
 *
 *	gd_vu_mem_init(64 << 20, 0);
 *	gd_vu_open(&vt, "/run/vhost.sock", NULL);
 *	gd_blk_init(&blk, &vt.t, NULL);          (any guest-drivers driver)
 *	...
 *	gd_vu_close(&vt);
 *
 * Kicks are eventfd writes (SET_VRING_KICK); used-buffer interrupts arrive on
 * one call eventfd per queue (SET_VRING_CALL), which irq_wait() polls.
 * Single-threaded: one caller at a time per transport and for the memory.
 */
#ifndef GUEST_DRIVERS_VIRTIO_USER_H
#define GUEST_DRIVERS_VIRTIO_USER_H

#include <stddef.h>
#include <guest-drivers/virtio.h>

struct vhost_dev;

#define GD_VU_MAX_QUEUES	8
#define GD_VU_QUEUE_MAX		1024	/* what libvhost-user back-ends accept */

/* gd_vu_mem_init() flags */
#define GD_VU_MEM_HUGETLB	1u	/* on default-size huge pages (MFD_HUGETLB) */

/*
 * Create the shared memory (once per process; @bytes rounded up to 2 MiB).
 * 0, -EBUSY if it exists already, -EINVAL for unknown @flags, or -errno
 * from memfd_create/mmap: with GD_VU_MEM_HUGETLB, -ENOMEM when fewer huge
 * pages are free than @bytes needs (they are reserved at once).
 */
int gd_vu_mem_init(size_t bytes, unsigned int flags);
/* The memfd, its mapping and size (fd -1 before gd_vu_mem_init). */
void gd_vu_mem_get(int *fd, void **base, size_t *size);
/* Bytes gd_alloc() can still hand out. */
size_t gd_vu_mem_free(void);

struct gd_vu_queue {
	unsigned int num;
	u64 desc, avail, used;
	bool enabled;
	int kick_fd;
	int call_fd;
	u64 irqs;
};

struct gd_vu_transport {
	struct gd_virtio_transport t;
	struct vhost_dev *be;
	u64 features;		/* the driver's */
	u8 status;
	bool started;
	bool dead;		/* the back-end hung up: send it nothing more */
	unsigned int nr_queues;
	struct gd_vu_queue q[GD_VU_MAX_QUEUES];
	const char *err;	/* what failed last, for messages */
	int err_no;
};

struct gd_vu_opts {
	unsigned int reply_timeout_ms;	/* 0: the front-end's default */
};

/*
 * Connect to the vhost-user back-end at @path and do the handshake.
 * 0 or -errno (-ENOENT/-ECONNREFUSED: nobody listens; -EIO: bad handshake).
 */
int gd_vu_open(struct gd_vu_transport *vt, const char *path,
	       const struct gd_vu_opts *opts);
/* Stop the queues, reset the back-end and disconnect. */
void gd_vu_close(struct gd_vu_transport *vt);

#endif
