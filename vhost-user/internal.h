/* SPDX-License-Identifier: MIT */
/* vhost-user/ private declarations: message I/O, request table, logging. */
#ifndef VHOST_USER_INTERNAL_H
#define VHOST_USER_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <vhost-user/proto.h>

struct vhu_dev;

/* How many fds a request carries. */
enum vhu_fds {
	VHU_FDS_NONE,		/* none */
	VHU_FDS_ONE,		/* exactly one */
	VHU_FDS_OPT,		/* zero or one, ignored (REM_MEM_REG, old QEMU) */
	VHU_FDS_VRING,		/* one, or none when VHU_VRING_NOFD is set */
	VHU_FDS_REGIONS,	/* one per region of SET_MEM_TABLE */
};

#define VHU_NO_PROTO_FEATURE	0xff

/*
 * The dispatch table entry of a request: its name, payload bounds, fds, and
 * the back-end's handler.  A handler returns 0 (done, ack 0), >0 (the device
 * failed the request: ack non-zero, connection kept) or <0 (protocol
 * violation, already logged: the connection is dropped).
 */
struct vhu_req_info {
	const char *name;
	u16 min_size, max_size;
	u8 fds;			/* enum vhu_fds */
	u8 proto_feature;	/* needs this protocol feature negotiated */
	bool has_reply;		/* the back-end always answers it */
	int (*handle)(struct vhu_dev *dev, struct vhu_msg *msg);
};

/* NULL for unknown or unsupported requests. */
const struct vhu_req_info *vhu_req_info(u32 request);

void vhu_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * The SIGBUS guard's registry (guard.c): register a front-end mapping with
 * its connection's socket fd and fault flag, unregister it before munmap.
 * Add returns 0 or -ENOSPC (the mapping then goes unguarded).
 */
int vhu_guard_add(void *base, size_t len, int *conn_fd, int *fault);
void vhu_guard_del(void *base);

/* Receive timeout for the rest of a message once its first byte arrived. */
#define VHU_MSG_TIMEOUT_MS	5000

/* Set blocking mode plus send/receive timeouts on a connection socket. */
int vhu_sock_setup(int fd, unsigned int timeout_ms);

/*
 * Receive exactly @len bytes into @buf, collecting SCM_RIGHTS fds into msg.
 * With @nonblock the first recvmsg does not wait (returns -EAGAIN if nothing
 * is there).  Returns 0, -ECONNRESET on EOF before the first byte, -EPROTO on
 * EOF mid-way or on too many fds, -ETIMEDOUT, or -errno.
 */
int vhu_recv_bytes(int fd, void *buf, size_t len, struct vhu_msg *msg,
		   bool nonblock);

/* Send header + hdr->size bytes of payload + fds in one sendmsg. */
int vhu_send_msg(int fd, const struct vhu_msg_hdr *hdr, const void *payload,
		 const int *fds, unsigned int nr_fds);

/* Close and forget every fd held by msg. */
void vhu_msg_close_fds(struct vhu_msg *msg);

#endif
