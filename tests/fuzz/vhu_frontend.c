// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness: a hostile back-end's replies into the vhost-user
 * front-end.  The input is the whole byte stream the back-end sends, cut into
 * chunks (u8 ctl, u16 len little-endian, len bytes; ctl bits 0-1 attach that
 * many eventfds; bit 3 frames the chunk as a reply: request = byte0 % 41,
 * flags = version | REPLY, size = len - 12).  It is queued on a socketpair
 * before the front-end connects, then the writer shuts down, so the front-end
 * never waits: it runs the handshake and every vhost_ops call and must only
 * ever get answers from the stream or EOF.
 *
 * Checked: no crash (ASan/UBSan), every op returns 0 or -errno, a dead
 * connection stays dead (-ENOTCONN), no fd leaked.
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

#include <vhost-user/frontend.h>

static int memfd = -1, evfd = -1;
static void *ram;

static int lowest_free_fd(void)
{
	int fd = fcntl(0, F_DUPFD_CLOEXEC, 0);

	if (fd < 0)
		abort();
	close(fd);
	return fd;
}

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
	ram = mmap(NULL, 1 << 20, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (ram == MAP_FAILED)
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
	int fds[3] = { evfd, evfd, evfd };

	memcpy(buf, data, len);
	if ((ctl & 8) && len >= 12) {
		struct vhu_msg_hdr h = {
			.request = data[0] % VHU_REQ_MAX,
			.flags = VHU_VERSION | VHU_FLAG_REPLY,
			.size = len - 12,
		};

		memcpy(buf, &h, sizeof(h));
	}
	if (nfds) {
		struct cmsghdr *cm;

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
	if (len == 0) {
		buf[0] = 0;
		iov.iov_len = 1;
	}
	(void)!sendmsg(fd, &mh, MSG_NOSIGNAL | MSG_DONTWAIT);
}

static void ok(int r)
{
	if (r > 0 || r < -4095)
		abort();
}

static void run_ops(struct vhost_dev *d)
{
	struct vq_mem mem;
	struct vq_mem_region reg = { .gpa = 0, .size = 1 << 20,
				     .hva = (u64)(uintptr_t)ram, .fd = memfd };
	struct vhost_vring_gpas a = { .desc = 0x1000, .avail = 0x3000, .used = 0x4000 };
	unsigned int base;
	u8 cfg[32];
	u64 f;
	bool dead;

	vq_mem_init(&mem);
	if (vq_mem_add_region(&mem, &reg))
		abort();
	ok(d->ops->get_features(d, &f));
	ok(d->ops->set_features(d, d->features));
	ok(d->ops->set_owner(d));
	ok(d->ops->set_mem_table(d, &mem));
	ok(vhu_fe_setup_inflight(d, 2, 256));
	ok(d->ops->set_vring_num(d, 0, 256));
	ok(d->ops->set_vring_base(d, 0, 0));
	ok(d->ops->set_vring_addr(d, 0, &a));
	ok(d->ops->set_vring_kick(d, 0, evfd));
	ok(d->ops->set_vring_call(d, 0, evfd));
	ok(d->ops->set_vring_err(d, 0, -1));
	ok(d->ops->set_vring_enable(d, 0, true));
	ok(d->ops->get_config(d, 0, cfg, sizeof(cfg)));
	ok(d->ops->set_config(d, 4, cfg, 4));
	if (d->ops->get_vring_base(d, 0, &base) == 0 && base > 0xffff)
		abort();
	ok(d->ops->reset(d));
	dead = !vhu_fe_alive(d);
	if (dead && (d->ops->set_vring_num(d, 1, 64) != -ENOTCONN ||
		     vhu_fe_fd(d) != -1))
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	int lowest = lowest_free_fd();
	struct vhu_fe_opts o = { .protocol_features = ~0ull, .reply_timeout_ms = 1000 };
	struct vhost_dev *d;
	int sv[2];
	size_t pos = 0;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		abort();
	while (pos + 3 <= size) {
		u8 ctl = data[pos];
		size_t len = data[pos + 1] | (data[pos + 2] << 8);

		pos += 3;
		if (len > 500)
			len = 500;
		if (len > size - pos)
			len = size - pos;
		send_chunk(sv[0], data + pos, len, ctl);
		pos += len;
	}
	shutdown(sv[0], SHUT_WR);
	if (data[0] & 0x80)
		o.protocol_features &= ~(1ull << VHU_PROTOCOL_F_REPLY_ACK);
	if (vhu_fe_connect_fd(sv[1], &o, &d) == 0) {
		if (d->nr_queues == 0 || d->nr_queues > 0xffff)
			abort();
		run_ops(d);
		d->ops->destroy(d);
	}
	close(sv[0]);
	if (lowest_free_fd() != lowest) {
		fprintf(stderr, "fd leaked\n");
		abort();
	}
	return 0;
}
