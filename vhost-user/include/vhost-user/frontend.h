/* SPDX-License-Identifier: MIT */
/*
 * vhost-user front-end: a struct vhost_ops (virtio/vhost_ops.h) spoken over a
 * unix socket to a vhost-user back-end (ours, in-process over a socketpair or
 * in another process; DPDK's vhost PMD; qemu-storage-daemon...).
 *
 * Connecting does the handshake: GET_FEATURES, GET_PROTOCOL_FEATURES,
 * SET_PROTOCOL_FEATURES (what the back-end offers AND what we implement AND
 * opts->protocol_features), GET_QUEUE_NUM (with MQ), SET_OWNER.  With REPLY_ACK
 * negotiated every request that has no reply of its own asks for an ack and
 * waits for it.
 *
 * set_mem_table: each region needs fd >= 0 (MAP_SHARED memory, e.g. a memfd)
 * and hva = where this process mapped it; the back-end is told
 * userspace_addr = hva, and ring GPAs are converted with this table.
 * At most 8 regions (SET_MEM_TABLE).
 *
 * The back-end is not trusted: every reply is checked (request code, flags,
 * size, fds).  A bad reply, a timeout or a disconnect makes that op return
 * -EIO and marks the connection dead (socket closed); every later op returns
 * -ENOTCONN until vhu_fe_reconnect().  A well-formed negative answer (ack != 0,
 * empty GET_CONFIG reply) returns -EIO and keeps the connection.
 *
 * Not thread-safe: one caller at a time per device.
 */
#ifndef VHOST_USER_FRONTEND_H
#define VHOST_USER_FRONTEND_H

#include <stdbool.h>
#include <virtio/vhost_ops.h>
#include <vhost-user/proto.h>

/* Protocol features the front-end implements. */
#define VHU_FE_PROTOCOL_FEATURES				\
	((1ull << VHU_PROTOCOL_F_MQ) |				\
	 (1ull << VHU_PROTOCOL_F_REPLY_ACK) |			\
	 (1ull << VHU_PROTOCOL_F_CONFIG) |			\
	 (1ull << VHU_PROTOCOL_F_INFLIGHT_SHMFD) |		\
	 (1ull << VHU_PROTOCOL_F_RESET_DEVICE))

struct vhu_fe_opts {
	u64 protocol_features;		/* wanted (masked by the above) */
	unsigned int reply_timeout_ms;	/* 0: 30000 */
	unsigned int nr_queues;		/* reported when MQ is not negotiated; 0: 1 */
};

/*
 * Connect to @path (or use the connected stream socket @fd, which is taken
 * over even on failure) and do the handshake.  @opts NULL: every protocol
 * feature we implement, 30 s reply timeout.  On success *out is a vhost_dev
 * whose ops are the vhost-user front-end; features = what the back-end offers
 * (without VHOST_USER_F_PROTOCOL_FEATURES), nr_queues = GET_QUEUE_NUM.
 */
int vhu_fe_connect(const char *path, const struct vhu_fe_opts *opts,
		   struct vhost_dev **out);
int vhu_fe_connect_fd(int fd, const struct vhu_fe_opts *opts,
		      struct vhost_dev **out);

/* True if @d is a vhost-user front-end device (the calls below need one). */
bool vhu_fe_is(const struct vhost_dev *d);
/* Socket fd (poll it for POLLHUP to see the back-end go away), -1 if dead. */
int vhu_fe_fd(struct vhost_dev *d);
bool vhu_fe_alive(struct vhost_dev *d);
u64 vhu_fe_protocol_features(struct vhost_dev *d);

/*
 * Inflight region (INFLIGHT_SHMFD): the first call does GET_INFLIGHT_FD and
 * keeps the fd; every call then sends SET_INFLIGHT_FD with it.  Call before
 * starting the rings, and again after vhu_fe_reconnect().  -EOPNOTSUPP when
 * not negotiated (or the back-end returned no region).
 */
int vhu_fe_setup_inflight(struct vhost_dev *d, u16 num_queues, u16 queue_size);

/*
 * Connect again (to the same path, or to @fd when >= 0) and redo the
 * handshake; the inflight fd is kept.  The caller then replays its state
 * (set_features, set_mem_table, vhu_fe_setup_inflight, rings).
 */
int vhu_fe_reconnect(struct vhost_dev *d, int fd);

#endif
