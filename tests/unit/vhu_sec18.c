// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 18: a malicious back-end against the front-end.  A
 * hand-written fake back-end (thread, socketpair) answers correctly except at
 * one chosen request, where it sends a reply with the wrong request code, no
 * REPLY flag, a NEED_REPLY flag, the wrong size (short, long, huge), fds the
 * reply may not carry, out-of-range values (queue count, vring base and index,
 * config offset/size, inflight size), nothing at all (timeout), or hangs up.
 * The front-end op must return -EIO, close every fd received, mark the
 * connection dead (later ops -ENOTCONN), and never crash; a well-formed
 * failure (ack != 0, empty GET_CONFIG reply) returns -EIO and keeps it alive.
 * Each scenario runs 100 times; fds and mappings are counted.
 */
#include "vhu_test.h"

#define MB (1ull << 20)

enum bad {
	B_NONE, B_WRONG_REQ, B_NO_REPLY_FLAG, B_NEED_REPLY_FLAG, B_VERSION,
	B_SHORT, B_LONG, B_HUGE, B_FD, B_CLOSE, B_SILENT, B_ZERO_QUEUES,
	B_BAD_FIELD, B_ACK_FAIL, B_EMPTY, B_NO_FD, B_TWO_FDS, B_GARBAGE,
};

struct fake {
	int fd;
	u32 at;			/* misbehave on this request */
	enum bad how;
	pthread_t thread;
	int evfd;
};

static void fake_reply(struct fake *f, u32 req, u32 flags, const void *p, u32 size,
		       unsigned int nfds, u32 wire_size)
{
	struct vhu_msg_hdr h = { .request = req, .flags = flags, .size = wire_size };
	char buf[sizeof(h) + 512] = { 0 };
	int fds[2] = { f->evfd, f->evfd };
	union {
		char b[CMSG_SPACE(sizeof(int) * 2)];
		struct cmsghdr a;
	} ctl;
	struct iovec iov = { buf, sizeof(h) + size };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };

	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), p, size);
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.b;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	(void)!sendmsg(f->fd, &mh, MSG_NOSIGNAL);
}

/* Answer @req (payload @p of @size, @nfds fds), corrupted if it is f->at. */
static bool fake_answer(struct fake *f, u32 req, const void *orig, u32 size,
			unsigned int nfds)
{
	u32 flags = VHU_VERSION | VHU_FLAG_REPLY, wire = size;
	u64 buf[64] = { 0 };	/* room for B_LONG */
	void *p = buf;

	memcpy(buf, orig, size);

	if (req != f->at)
		goto send;
	switch (f->how) {
	case B_WRONG_REQ:
		req = req == 1 ? 2 : 1;
		break;
	case B_NO_REPLY_FLAG:
		flags = VHU_VERSION;
		break;
	case B_NEED_REPLY_FLAG:
		flags |= VHU_FLAG_NEED_REPLY;
		break;
	case B_VERSION:
		flags = 2 | VHU_FLAG_REPLY;
		break;
	case B_SHORT:
		size = wire = size ? size - 1 : 0;
		if (!size)
			size = wire = 1;
		break;
	case B_LONG:
		size = wire = size + 8;
		break;
	case B_HUGE:
		wire = 0xfffffff0;
		break;
	case B_FD:
		nfds = nfds + 1;
		break;
	case B_CLOSE:
		return false;
	case B_SILENT:
		return true;
	case B_ZERO_QUEUES:
		memset(p, 0, size);
		break;
	case B_BAD_FIELD:
		if (req == VHU_REQ_GET_VRING_BASE)
			((struct vhost_vring_state *)p)->index ^= 1;
		else if (req == VHU_REQ_GET_CONFIG)
			((struct vhu_config *)p)->offset += 1;
		else if (req == VHU_REQ_GET_INFLIGHT_FD)
			((struct vhu_inflight *)p)->mmap_offset = ~0ull;
		else if (req == VHU_REQ_GET_QUEUE_NUM)
			*(u64 *)p = 1ull << 40;
		break;
	case B_ACK_FAIL:
		*(u64 *)p = 1;
		break;
	case B_EMPTY:
		size = wire = 0;
		break;
	case B_NO_FD:
		nfds = 0;
		break;
	case B_TWO_FDS:
		nfds = 2;
		break;
	case B_GARBAGE: {
		char junk[64];

		memset(junk, 0x5a, sizeof(junk));
		for (int i = 0; i < 64; i++)
			(void)!send(f->fd, junk, sizeof(junk), MSG_NOSIGNAL);
		return true;
	}
	default:
		break;
	}
send:
	fake_reply(f, req, flags, p, size, nfds, wire);
	return true;
}

static void *fake_main(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		struct vhu_msg_hdr h;
		union vhu_payload p;
		char fdbuf[CMSG_SPACE(sizeof(int) * 8)];
		struct iovec iov = { &h, sizeof(h) };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
				     .msg_control = fdbuf,
				     .msg_controllen = sizeof(fdbuf) };
		u64 v = 0;
		bool go = true;

		if (recvmsg(f->fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC) != sizeof(h))
			break;
		for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c))
			for (size_t i = 0; i < (c->cmsg_len - CMSG_LEN(0)) / sizeof(int); i++) {
				int fd;

				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(fd));
				close(fd);
			}
		if (h.size > sizeof(p) ||
		    (h.size && recv(f->fd, &p, h.size, MSG_WAITALL) != (ssize_t)h.size))
			break;
		switch (h.request) {
		case VHU_REQ_GET_FEATURES:
			v = T_FEATURES | (1ull << VHU_F_PROTOCOL_FEATURES);
			go = fake_answer(f, h.request, &v, 8, 0);
			break;
		case VHU_REQ_GET_PROTOCOL_FEATURES:
			v = T_PROTO;
			go = fake_answer(f, h.request, &v, 8, 0);
			break;
		case VHU_REQ_GET_QUEUE_NUM:
			v = T_NR_QUEUES;
			go = fake_answer(f, h.request, &v, 8, 0);
			break;
		case VHU_REQ_GET_VRING_BASE:
			p.state.num = 3;
			go = fake_answer(f, h.request, &p.state, 8, 0);
			break;
		case VHU_REQ_GET_CONFIG:
			go = fake_answer(f, h.request, &p.config,
					 VHU_CONFIG_HDR_SIZE + p.config.size, 0);
			break;
		case VHU_REQ_GET_INFLIGHT_FD:
			p.inflight.mmap_size = 4096;
			p.inflight.mmap_offset = 0;
			go = fake_answer(f, h.request, &p.inflight, 24, 1);
			break;
		default:
			if (h.flags & VHU_FLAG_NEED_REPLY)
				go = fake_answer(f, h.request, &v, 8, 0);
			else if (h.request == f->at && f->how == B_CLOSE)
				go = false;
			break;
		}
		if (!go)
			break;
	}
	shutdown(f->fd, SHUT_RDWR);
	return NULL;
}

struct scen {
	const char *what;
	u32 at;
	enum bad how;
	int want;		/* what the op at @at returns */
	bool alive;		/* connection still usable afterwards */
};

/* Run the front-end through the handshake and every op up to s->at. */
static void run(const struct scen *s)
{
	struct fake f = { .at = s->at, .how = s->how };
	struct vhu_fe_opts o = { .protocol_features = VHU_FE_PROTOCOL_FEATURES,
				 .reply_timeout_ms = 100 };
	struct vhost_dev *d;
	int sv[2], r, memfd;
	unsigned int base;
	u8 cfg[8];
	void *ram;
	struct vq_mem mem;

	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	f.fd = sv[0];
	f.evfd = eventfd(0, EFD_CLOEXEC);
	CHECK(f.evfd >= 0);
	CHECK_EQ(pthread_create(&f.thread, NULL, fake_main, &f), 0);

	r = vhu_fe_connect_fd(sv[1], &o, &d);
	switch (s->at) {
	case VHU_REQ_GET_FEATURES:
	case VHU_REQ_GET_PROTOCOL_FEATURES:
	case VHU_REQ_SET_PROTOCOL_FEATURES:
	case VHU_REQ_GET_QUEUE_NUM:
	case VHU_REQ_SET_OWNER:
		/* the handshake fails: nothing is returned */
		CHECK_EQ(r, s->want);
		goto out;
	}
	CHECK_EQ(r, 0);
	memfd = memfd_create("ram", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, MB) == 0);
	ram = mmap(NULL, MB, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	CHECK(ram != MAP_FAILED);
	{
		struct vq_mem_region reg = { .gpa = 0, .size = MB,
					     .hva = (u64)(uintptr_t)ram, .fd = memfd };

		vq_mem_init(&mem);
		CHECK_EQ(vq_mem_add_region(&mem, &reg), 0);
	}
#define STEP(req, call) do {						\
		r = (call);						\
		if (s->at == (req)) {					\
			CHECK_EQ(r, s->want);				\
			goto check;					\
		}							\
		CHECK_EQ(r, 0);						\
	} while (0)
	STEP(VHU_REQ_SET_FEATURES, d->ops->set_features(d, T_FEATURES));
	STEP(VHU_REQ_SET_MEM_TABLE, d->ops->set_mem_table(d, &mem));
	STEP(VHU_REQ_GET_INFLIGHT_FD, vhu_fe_setup_inflight(d, 2, 256));
	STEP(VHU_REQ_SET_VRING_NUM, d->ops->set_vring_num(d, 0, 256));
	STEP(VHU_REQ_GET_CONFIG, d->ops->get_config(d, 0, cfg, sizeof(cfg)));
	STEP(VHU_REQ_GET_VRING_BASE, d->ops->get_vring_base(d, 0, &base));
	CHECK_EQ(base, 3);
	STEP(VHU_REQ_SET_VRING_KICK, d->ops->set_vring_kick(d, 0, f.evfd));
	CHECK(0);	/* every scenario stops at its step */
check:
	CHECK_EQ(vhu_fe_alive(d), s->alive);
	if (s->alive) {
		CHECK_EQ(d->ops->set_vring_num(d, 1, 64), 0);
	} else {
		CHECK_EQ(vhu_fe_fd(d), -1);
		CHECK_EQ(d->ops->set_vring_num(d, 1, 64), -ENOTCONN);
		CHECK_EQ(d->ops->get_config(d, 0, cfg, 4), -ENOTCONN);
		CHECK_EQ(d->ops->get_vring_base(d, 0, &base), -ENOTCONN);
	}
	d->ops->destroy(d);
	munmap(ram, MB);
	close(memfd);
out:
	pthread_join(f.thread, NULL);
	close(f.fd);
	close(f.evfd);
}

int main(void)
{
	static const struct scen scens[] = {
		{ "features: wrong request", VHU_REQ_GET_FEATURES, B_WRONG_REQ, -EIO, false },
		{ "features: no REPLY flag", VHU_REQ_GET_FEATURES, B_NO_REPLY_FLAG, -EIO, false },
		{ "features: NEED_REPLY flag", VHU_REQ_GET_FEATURES, B_NEED_REPLY_FLAG, -EIO, false },
		{ "features: version 2", VHU_REQ_GET_FEATURES, B_VERSION, -EIO, false },
		{ "features: short", VHU_REQ_GET_FEATURES, B_SHORT, -EIO, false },
		{ "features: long", VHU_REQ_GET_FEATURES, B_LONG, -EIO, false },
		{ "features: huge size", VHU_REQ_GET_FEATURES, B_HUGE, -EIO, false },
		{ "features: with an fd", VHU_REQ_GET_FEATURES, B_FD, -EIO, false },
		{ "features: hang up", VHU_REQ_GET_FEATURES, B_CLOSE, -EIO, false },
		{ "features: silent", VHU_REQ_GET_FEATURES, B_SILENT, -EIO, false },
		{ "features: garbage", VHU_REQ_GET_FEATURES, B_GARBAGE, -EIO, false },
		{ "protocol features: 2 fds", VHU_REQ_GET_PROTOCOL_FEATURES, B_TWO_FDS, -EIO, false },
		{ "protocol features: hang up", VHU_REQ_GET_PROTOCOL_FEATURES, B_CLOSE, -EIO, false },
		{ "set protocol features: hang up", VHU_REQ_SET_PROTOCOL_FEATURES, B_CLOSE, -EIO, false },
		{ "queue num: 0", VHU_REQ_GET_QUEUE_NUM, B_ZERO_QUEUES, -EIO, false },
		{ "queue num: 2^40", VHU_REQ_GET_QUEUE_NUM, B_BAD_FIELD, -EIO, false },
		{ "set owner: ack fails", VHU_REQ_SET_OWNER, B_ACK_FAIL, -EIO, false },
		{ "set owner: ack short", VHU_REQ_SET_OWNER, B_SHORT, -EIO, false },
		{ "set features: ack fails", VHU_REQ_SET_FEATURES, B_ACK_FAIL, -EIO, true },
		{ "set features: ack long", VHU_REQ_SET_FEATURES, B_LONG, -EIO, false },
		{ "set features: ack with fd", VHU_REQ_SET_FEATURES, B_FD, -EIO, false },
		{ "set features: ack wrong request", VHU_REQ_SET_FEATURES, B_WRONG_REQ, -EIO, false },
		{ "mem table: hang up", VHU_REQ_SET_MEM_TABLE, B_CLOSE, -EIO, false },
		{ "mem table: silent", VHU_REQ_SET_MEM_TABLE, B_SILENT, -EIO, false },
		{ "inflight: no fd", VHU_REQ_GET_INFLIGHT_FD, B_NO_FD, -EIO, false },
		{ "inflight: 2 fds", VHU_REQ_GET_INFLIGHT_FD, B_TWO_FDS, -EIO, false },
		{ "inflight: offset wraps", VHU_REQ_GET_INFLIGHT_FD, B_BAD_FIELD, -EIO, false },
		{ "inflight: short", VHU_REQ_GET_INFLIGHT_FD, B_SHORT, 0, true },
		{ "inflight: long", VHU_REQ_GET_INFLIGHT_FD, B_LONG, -EIO, false },
		{ "vring num: ack garbage", VHU_REQ_SET_VRING_NUM, B_GARBAGE, -EIO, false },
		{ "config: wrong offset", VHU_REQ_GET_CONFIG, B_BAD_FIELD, -EIO, false },
		{ "config: short", VHU_REQ_GET_CONFIG, B_SHORT, -EIO, false },
		{ "config: long", VHU_REQ_GET_CONFIG, B_LONG, -EIO, false },
		{ "config: empty (back-end failed)", VHU_REQ_GET_CONFIG, B_EMPTY, -EIO, true },
		{ "config: huge", VHU_REQ_GET_CONFIG, B_HUGE, -EIO, false },
		{ "config: fd", VHU_REQ_GET_CONFIG, B_FD, -EIO, false },
		{ "vring base: wrong index", VHU_REQ_GET_VRING_BASE, B_BAD_FIELD, -EIO, false },
		{ "vring base: hang up", VHU_REQ_GET_VRING_BASE, B_CLOSE, -EIO, false },
		{ "vring base: wrong request", VHU_REQ_GET_VRING_BASE, B_WRONG_REQ, -EIO, false },
		{ "kick: ack fails", VHU_REQ_SET_VRING_KICK, B_ACK_FAIL, -EIO, true },
	};
	int fds0 = 0, maps0 = 0;

	t_log_capture();
	for (unsigned int i = 0; i < ARRAY_SIZE(scens); i++) {
		int reps = scens[i].how == B_SILENT ? 3 : 100;

		for (int k = 0; k < reps; k++) {
			run(&scens[i]);
			if (i == 0 && k == 0) {
				fds0 = t_count_fds();
				maps0 = t_count_maps();
			}
		}
		CHECK_EQ(t_count_fds(), fds0);
		CHECK_EQ(t_count_maps(), maps0);
		fprintf(stderr, "ok: %s (%d reps)\n", scens[i].what, reps);
	}
	fprintf(stderr, "vhu_sec18: all ok\n");
	return 0;
}
