// SPDX-License-Identifier: MIT
/*
 * vhost-user message transport shared by the back-end and the front-end:
 * recvmsg/sendmsg with SCM_RIGHTS, and the rate-limited log.
 *
 * Security model: the peer is hostile.  Bytes and fds come from it; every fd
 * it sends is collected (never more than VHU_MAX_FDS kept, the rest closed)
 * and the caller decides whether the message may carry them.  A message cut
 * short by EOF or a timeout is an error, never a partial message.  Received
 * fds are close-on-exec (MSG_CMSG_CLOEXEC).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

/* --- log ----------------------------------------------------------------- */

#define LOG_BURST	20
#define LOG_PER_SEC	10

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static vhu_log_fn *log_sink;
static void *log_opaque;
static double log_tokens = LOG_BURST;
static struct timespec log_last;
static unsigned long log_suppressed;

void vhu_set_log(vhu_log_fn *fn, void *opaque)
{
	pthread_mutex_lock(&log_lock);
	log_sink = fn;
	log_opaque = opaque;
	log_tokens = LOG_BURST;
	log_suppressed = 0;
	pthread_mutex_unlock(&log_lock);
}

void vhu_log(const char *fmt, ...)
{
	char line[512];
	int n = 0;
	struct timespec now;
	va_list ap;

	pthread_mutex_lock(&log_lock);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (log_last.tv_sec || log_last.tv_nsec) {
		double dt = (now.tv_sec - log_last.tv_sec) +
			    (now.tv_nsec - log_last.tv_nsec) / 1e9;

		log_tokens += dt * LOG_PER_SEC;
		if (log_tokens > LOG_BURST)
			log_tokens = LOG_BURST;
	}
	log_last = now;
	if (log_tokens < 1) {
		log_suppressed++;
		pthread_mutex_unlock(&log_lock);
		return;
	}
	log_tokens -= 1;
	if (log_suppressed)
		n = snprintf(line, sizeof(line), "(%lu lines suppressed) ",
			     log_suppressed);
	log_suppressed = 0;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (log_sink)
		log_sink(line, log_opaque);
	else
		fprintf(stderr, "%s\n", line);
	pthread_mutex_unlock(&log_lock);
}

/* --- socket I/O ---------------------------------------------------------- */

int vhu_sock_setup(int fd, unsigned int timeout_ms)
{
	struct timeval tv = {
		.tv_sec = timeout_ms / 1000,
		.tv_usec = (timeout_ms % 1000) * 1000,
	};
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if ((fl & O_NONBLOCK) && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) < 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0)
		return -errno;
	return 0;
}

void vhu_msg_close_fds(struct vhu_msg *msg)
{
	for (unsigned int i = 0; i < msg->nr_fds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nr_fds = 0;
}

/* Keep the fds of every SCM_RIGHTS cmsg; false if there were too many. */
static bool collect_fds(struct msghdr *mh, struct vhu_msg *msg)
{
	bool ok = !(mh->msg_flags & MSG_CTRUNC);

	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		int fd;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < n; i++) {
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
			if (msg->nr_fds < VHU_MAX_FDS) {
				msg->fds[msg->nr_fds++] = fd;
			} else {
				close(fd);
				ok = false;
			}
		}
	}
	return ok;
}

int vhu_recv_bytes(int fd, void *buf, size_t len, struct vhu_msg *msg,
		   bool nonblock)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	size_t got = 0;

	while (got < len) {
		struct iovec iov = { (char *)buf + got, len - got };
		struct msghdr mh = {
			.msg_iov = &iov, .msg_iovlen = 1,
			.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
		};
		int flags = MSG_CMSG_CLOEXEC;
		ssize_t r;

		if (nonblock && got == 0)
			flags |= MSG_DONTWAIT;
		r = recvmsg(fd, &mh, flags);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return (nonblock && got == 0) ? -EAGAIN : -ETIMEDOUT;
			return -errno;
		}
		if (!collect_fds(&mh, msg))
			return -EPROTO;
		if (r == 0)
			return got ? -EPROTO : -ECONNRESET;
		got += r;
	}
	return 0;
}

int vhu_send_msg(int fd, const struct vhu_msg_hdr *hdr, const void *payload,
		 const int *fds, unsigned int nr_fds)
{
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct iovec iov[2] = {
		{ (void *)hdr, sizeof(*hdr) },
		{ (void *)payload, hdr->size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = hdr->size ? 2 : 1 };
	size_t total = sizeof(*hdr) + hdr->size, sent = 0;

	if (nr_fds > VHU_MAX_FDS)
		return -EINVAL;
	if (nr_fds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nr_fds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nr_fds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nr_fds);
	}
	while (sent < total) {
		ssize_t r = sendmsg(fd, &mh, MSG_NOSIGNAL);

		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return -ETIMEDOUT;
			return -errno;
		}
		sent += r;
		/* fds went with the first byte; advance the iovecs past r bytes */
		mh.msg_control = NULL;
		mh.msg_controllen = 0;
		while (r > 0 && mh.msg_iovlen) {
			if ((size_t)r >= mh.msg_iov[0].iov_len) {
				r -= mh.msg_iov[0].iov_len;
				mh.msg_iov++;
				mh.msg_iovlen--;
			} else {
				mh.msg_iov[0].iov_base = (char *)mh.msg_iov[0].iov_base + r;
				mh.msg_iov[0].iov_len -= r;
				r = 0;
			}
		}
	}
	return 0;
}
