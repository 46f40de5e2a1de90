// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: raw bytes from a hostile front-end into the vhost-user
 * back-end (vhu_dev_dispatch over a socketpair).
 *
 * Input: a sequence of chunks, each sent with one sendmsg():
 *   u8 ctl, u16 len (little-endian, at most 500), len bytes
 *   ctl bits 0-1: attach that many fds (0..3); bit 2: eventfds instead of the
 *   1 MiB memfd; bit 3: "framed": the chunk's first 12 bytes become a header
 *   with request = byte0 % 41, flags = version 1 (| NEED_REPLY if bit 4),
 *   size = len - 12, so most chunks are well-formed messages and the fuzzer
 *   reaches the handlers.  Unframed chunks are raw bytes.
 * After the chunks the writer shuts down, so the back-end sees EOF.
 *
 * Invariants checked after each input: the connection ended and was cleaned
 * up (every queue stopped, no memory table), no fd leaked (the lowest free fd
 * is the same before and after the input).  ASan/UBSan catch the rest; the dummy device touches the last
 * byte of every ring it is given, so a ring outside its mapping faults.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_config.h>

#include <vhost-user/backend.h>

static int memfd = -1, evfd = -1;
static struct vhu_dev *dev;
static int started;
static volatile u32 sink;

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

static int qstart(struct vhu_dev *d, struct vhu_vq *vq)
{
	bool evt = vq->features & (1ull << VIRTIO_RING_F_EVENT_IDX);

	(void)d;
	if (!vq->desc || !vq->avail || !vq->used || !vq->num ||
	    (vq->num & (vq->num - 1)))
		abort();
	sink += vq->desc[vq->num - 1].len + vq->avail->ring[vq->num - 1] +
		vq->used->ring[vq->num - 1].len;
	if (evt)
		sink += vq->avail->ring[vq->num] + *(u16 *)&vq->used->ring[vq->num];
	if (vq->inflight) {
		u16 h;

		sink += vq->inflight->desc[vq->num - 1].counter;
		vhu_vq_inflight_get(vq, vq->num - 1);
		while (vhu_vq_inflight_resubmit(vq, &h))
			if (h >= vq->num)
				abort();
	}
	started++;
	return 0;
}

static void qstop(struct vhu_dev *d, struct vhu_vq *vq)
{
	(void)d;
	(void)vq;
	started--;
}

static u8 config[64];

static int get_config(struct vhu_dev *d, u32 off, void *buf, u32 len)
{
	(void)d;
	if (off > sizeof(config) || len > sizeof(config) - off)
		return -EINVAL;
	memcpy(buf, config + off, len);
	return 0;
}

static int set_config(struct vhu_dev *d, u32 off, const void *buf, u32 len, u32 fl)
{
	(void)d;
	(void)fl;
	if (off > sizeof(config) || len > sizeof(config) - off)
		return -EINVAL;
	memcpy(config + off, buf, len);
	return 0;
}

static const struct vhu_dev_ops ops = {
	.name = "fuzz",
	.features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX),
	.protocol_features = ~0ull,
	.nr_queues = 3,
	.max_queue_size = 1024,
	.get_config = get_config,
	.set_config = set_config,
	.queue_start = qstart,
	.queue_stop = qstop,
};

static void quiet(const char *line, void *opaque)
{
	(void)line;
	(void)opaque;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	vhu_set_log(quiet, NULL);
	memfd = memfd_create("fuzz-ram", MFD_CLOEXEC);
	evfd = eventfd(0, EFD_CLOEXEC);
	if (memfd < 0 || evfd < 0 || ftruncate(memfd, 1 << 20) < 0)
		abort();
	if (vhu_dev_new(&ops, NULL, &dev))
		abort();
	return 0;
}

static void send_chunk(int fd, const u8 *data, size_t len, u8 ctl)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * 3)];
		struct cmsghdr a;
	} c;
	u8 buf[512];
	struct iovec iov = { buf, len };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	unsigned int nfds = ctl & 3;
	int fds[3];

	memcpy(buf, data, len);
	if ((ctl & 8) && len >= 12) {
		struct vhu_msg_hdr h = {
			.request = data[0] % VHU_REQ_MAX,
			.flags = VHU_VERSION | ((ctl & 16) ? VHU_FLAG_NEED_REPLY : 0),
			.size = len - 12,
		};

		memcpy(buf, &h, sizeof(h));
	}
	if (nfds) {
		struct cmsghdr *cm;

		for (unsigned int i = 0; i < nfds; i++)
			fds[i] = (ctl & 4) ? evfd : memfd;
		memset(&c, 0, sizeof(c));
		mh.msg_control = c.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		cm = CMSG_FIRSTHDR(&mh);
		cm->cmsg_level = SOL_SOCKET;
		cm->cmsg_type = SCM_RIGHTS;
		cm->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(cm), fds, sizeof(int) * nfds);
	}
	if (len == 0 && !nfds)
		return;
	if (len == 0) {	/* fds need at least one byte */
		buf[0] = 0;
		iov.iov_len = 1;
	}
	(void)!sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	/* per input: libFuzzer itself may open fds (symbolizer) in between */
	int lowest_fd = lowest_free_fd();
	int sv[2], r;
	size_t pos = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	if (vhu_dev_set_conn_fd(dev, sv[0]))
		abort();
	while (pos + 3 <= size) {
		u8 ctl = data[pos];
		size_t len = data[pos + 1] | (data[pos + 2] << 8);

		pos += 3;
		if (len > 500)
			len = 500;
		if (len > size - pos)
			len = size - pos;
		send_chunk(sv[1], data + pos, len, ctl);
		pos += len;
	}
	shutdown(sv[1], SHUT_WR);
	do
		r = vhu_dev_dispatch(dev);
	while (r == 0);
	close(sv[1]);
	if (vhu_dev_conn_fd(dev) != -1 || started != 0 || vhu_dev_mem(dev)->nr != 0)
		abort();
	for (unsigned int i = 0; i < ops.nr_queues; i++) {
		struct vhu_vq *vq = vhu_dev_vq(dev, i);

		if (vq->kick_fd != -1 || vq->call_fd != -1 || vq->err_fd != -1 ||
		    vq->started || vq->resubmit)
			abort();
	}
	if (lowest_free_fd() != lowest_fd) {
		char path[64], target[256] = "";

		snprintf(path, sizeof(path), "/proc/self/fd/%d", lowest_fd);
		(void)!readlink(path, target, sizeof(target) - 1);
		fprintf(stderr, "fd %d leaked: %s\n", lowest_fd, target);
		abort();
	}
	return 0;
}
