/* SPDX-License-Identifier: MIT */
/*
 * vhost-user back-end server library.
 *
 * A device (blk, net, a test dummy) describes itself with a struct vhu_dev_ops
 * and gets a struct vhu_dev.  The library never owns the event loop: it hands
 * out fds (the listening socket, the connection) and the caller calls
 * vhu_dev_accept() / vhu_dev_dispatch() when they are readable, from one
 * thread (the "control thread").  Device callbacks are called from that thread
 * inside those calls.
 *
 * Per-queue state lives in the plain public struct vhu_vq so that a data-path
 * engine (virtio/ ring code, on any thread) can use it between queue_start()
 * and queue_stop().  The library does not touch a started queue's fields
 * except through those callbacks: before changing anything a running queue
 * uses (memory table, addresses, fds, features) it calls queue_stop(), and
 * queue_start() again once the queue is ready.  queue_stop() must return only
 * when the device no longer uses the queue (e.g. after joining its poller),
 * and must leave the device's next avail index in vq->last_avail_idx.
 *
 * A queue is ready when: num set, addresses set and translated (whole rings
 * inside one memory region, aligned), kick received (an fd, or the "no fd"
 * flag: polling), and enabled (SET_VRING_ENABLE 1, or always when
 * VHOST_USER_F_PROTOCOL_FEATURES was not negotiated).
 */
#ifndef VHOST_USER_BACKEND_H
#define VHOST_USER_BACKEND_H

#include <stdbool.h>
#include <linux/virtio_ring.h>
#include <virtio/types.h>
#include <virtio/mem.h>
#include <vhost-user/proto.h>

struct vhu_dev;

struct vhu_vq {
	unsigned int idx;
	/* Ring, valid while started: host pointers into guest memory. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	u16 num;			/* queue size, power of two */
	u16 last_avail_idx;		/* next avail index the device pops */
	u64 features;			/* negotiated device features (EVENT_IDX...) */
	const struct vq_mem *mem;	/* guest memory of this connection */
	int kick_fd;			/* -1: none (polling, or not set) */
	int call_fd;			/* -1: none */
	int err_fd;			/* -1: none */
	bool enabled;			/* SET_VRING_ENABLE state */
	bool started;			/* between queue_start() and queue_stop() */
	/* Inflight tracking (NULL when INFLIGHT_SHMFD is not in use). */
	struct vhu_inflight_split *inflight;
	u64 inflight_counter;
	/*
	 * Heads the previous back-end took and never completed, in the order it
	 * took them (stored last-first): the device resubmits these first, once
	 * (vhu_vq_inflight_resubmit() hands them out).  last_avail_idx already
	 * points past them.
	 */
	u16 *resubmit;
	unsigned int nr_resubmit;
	/*
	 * The ring addresses as the front-end sent them (its user addresses),
	 * for virtio/vq.h vq_set_addr_uaddr(); desc/avail/used above are the
	 * same rings already translated and bounds-checked.
	 */
	u64 desc_uaddr, avail_uaddr, used_uaddr;
	void *priv;			/* the device's */

	/* Library-private below. */
	u64 log_gpa;
	u32 addr_flags;
	bool num_set, addr_set, kick_set;
};

struct vhu_dev_ops {
	const char *name;		/* for log lines */
	/*
	 * Device features offered (VIRTIO_F_VERSION_1, EVENT_IDX...).  The library
	 * adds VHOST_USER_F_PROTOCOL_FEATURES and removes VHOST_F_LOG_ALL;
	 * VIRTIO_F_RING_PACKED is refused (split rings only).
	 */
	u64 features;
	/*
	 * Protocol features the device wants offered, masked by what the library
	 * implements: MQ, REPLY_ACK, CONFIG (needs get_config), INFLIGHT_SHMFD
	 * (the device must use the vhu_vq_inflight_*() helpers), RESET_DEVICE,
	 * CONFIGURE_MEM_SLOTS.  Never LOG_SHMFD (no dirty logging).
	 */
	u64 protocol_features;
	unsigned int nr_queues;		/* 1..VHU_MAX_QUEUES */
	unsigned int max_queue_size;	/* 0: 32768 */

	/* Read device config space [offset, offset+len); 0 or -errno. */
	int (*get_config)(struct vhu_dev *dev, u32 offset, void *buf, u32 len);
	int (*set_config)(struct vhu_dev *dev, u32 offset, const void *buf,
			  u32 len, u32 flags);
	/* Features acked by the front-end (may be called again); 0 or -errno. */
	int (*set_features)(struct vhu_dev *dev, u64 features);
	/* Queue became ready; 0 or -errno (then it stays stopped). */
	int (*queue_start)(struct vhu_dev *dev, struct vhu_vq *vq);
	/* Queue must stop (GET_VRING_BASE, disable, change, reset, disconnect). */
	void (*queue_stop)(struct vhu_dev *dev, struct vhu_vq *vq);
	/* Front-end went away; everything is already stopped and unmapped. */
	void (*disconnected)(struct vhu_dev *dev);
};


/*
 * Guard this process against front-ends that shrink a memory file after
 * handing it over: without the guard the next access of a mapped page past
 * the new end raises SIGBUS and ends the process (all connections).  With
 * it, that mapping becomes zero-filled private memory (the faulting access
 * completes), the connection is shut down and logged as such, and the rest
 * of the process goes on.  Installs a SIGBUS handler (SA_SIGINFO); faults
 * outside front-end mappings go to the handler that was there before.
 * Programs serving untrusted front-ends call it once at start-up, before
 * their threads start; 0 or -errno.
 */
int vhu_guard_install(void);

/* @ops must outlive the device.  0 or -errno (-EINVAL for bad ops). */
int vhu_dev_new(const struct vhu_dev_ops *ops, void *opaque, struct vhu_dev **out);
/* Disconnects, closes the listening socket (and unlinks its path), frees. */
void vhu_dev_free(struct vhu_dev *dev);
void *vhu_dev_opaque(struct vhu_dev *dev);

/*
 * Listen on a unix socket at @path.  A stale socket file (nobody accepting) is
 * removed; a live one gives -EADDRINUSE; a non-socket file gives -EEXIST.
 */
int vhu_dev_listen(struct vhu_dev *dev, const char *path);
/* -1 when not listening. */
int vhu_dev_listen_fd(struct vhu_dev *dev);
/*
 * Accept one front-end (call when the listening fd is readable).  0 on
 * success, -EAGAIN if none was pending, -EBUSY if a front-end is already
 * connected (the newcomer is accepted and closed, with a log line).
 */
int vhu_dev_accept(struct vhu_dev *dev);
/*
 * Use an already-connected stream socket (socketpair, for the in-process
 * back-end); on success the device owns fd.  The fd is made blocking with
 * send/receive timeouts: do not set O_NONBLOCK on it afterwards.
 */
int vhu_dev_set_conn_fd(struct vhu_dev *dev, int fd);
/* Connection fd, -1 when no front-end is connected. */
int vhu_dev_conn_fd(struct vhu_dev *dev);
/*
 * Handle every message the front-end has sent so far (call when the connection
 * fd is readable; works edge- or level-triggered).  Returns 0, or <0 when the
 * connection ended (-ECONNRESET: the front-end closed it; -EPROTO and friends:
 * a bad message, logged).  Either way everything of that connection is then
 * released (queues stopped, fds closed, memory unmapped, inflight dropped) and
 * the device waits for the next front-end on the listening socket.
 */
int vhu_dev_dispatch(struct vhu_dev *dev);
/* Drop the current front-end (if any), as if it had disconnected. */
void vhu_dev_disconnect(struct vhu_dev *dev);

struct vhu_vq *vhu_dev_vq(struct vhu_dev *dev, unsigned int idx);
/* Negotiated device features / protocol features of the current connection. */
u64 vhu_dev_features(struct vhu_dev *dev);
u64 vhu_dev_protocol_features(struct vhu_dev *dev);
const struct vq_mem *vhu_dev_mem(struct vhu_dev *dev);

struct vq;
/*
 * Set up and start the device side of the ring (virtio/vq.h) for a queue the
 * library reports ready: memory table, size, features, addresses (front-end
 * uaddrs) and base.  Call from queue_start(); 0 or the -errno vq_set_*() gave.
 */
int vhu_vq_ring_start(const struct vhu_vq *hv, struct vq *vq);

/*
 * Inflight tracking helpers (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD), split ring.
 * All are no-ops when vq->inflight is NULL, and ignore head >= vq->num.
 * For each request the device calls, on its data-path thread:
 *   vhu_vq_inflight_get(head)          after taking head from the avail ring
 *   vhu_vq_inflight_pre_put(head)      before writing head into the used ring
 *   (write the used element(s), publish used->idx)
 *   vhu_vq_inflight_post_put(head)     for each head of that batch
 *   vhu_vq_inflight_set_used_idx(idx)  the used->idx value just published
 */
void vhu_vq_inflight_get(struct vhu_vq *vq, u16 head);
void vhu_vq_inflight_pre_put(struct vhu_vq *vq, u16 head);
void vhu_vq_inflight_post_put(struct vhu_vq *vq, u16 head);
void vhu_vq_inflight_set_used_idx(struct vhu_vq *vq, u16 used_idx);
/*
 * Take the next head to resubmit after a reconnect (in the order the old
 * back-end took them); call from queue_start() or the data path before popping
 * new heads.  Returns 1 and sets *head, or 0 when none are left.
 */
int vhu_vq_inflight_resubmit(struct vhu_vq *vq, u16 *head);

#endif
