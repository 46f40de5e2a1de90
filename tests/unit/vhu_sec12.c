// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 12: unknown request numbers, a size field larger than the
 * payload sent, oversized and truncated messages.  Each drops the connection
 * with a log line naming the request; 1000 repetitions leak no fd or mapping;
 * the device then still serves a new front-end.
 */
#include "vhu_test.h"

struct msg_spec {
	u32 req, flags, size;
	u32 sent;		/* payload bytes actually sent (then EOF) */
	bool eof;
};

static int send_spec(struct vhu_dev *dev, const char *path, void *arg)
{
	const struct msg_spec *m = arg;
	int fd = t_raw_connect(dev, path);
	struct vhu_msg_hdr h = { .request = m->req, .flags = m->flags, .size = m->size };
	char buf[sizeof(h) + 64] = { 0 };

	memcpy(buf, &h, sizeof(h));
	if (m->eof) {
		t_raw_send_bytes_eof(fd, buf, sizeof(h) + m->sent);
	} else {
		CHECK(m->sent <= 64);
		CHECK(send(fd, buf, sizeof(h) + m->sent, MSG_NOSIGNAL) ==
		      (ssize_t)(sizeof(h) + m->sent));
	}
	return fd;
}

static int send_short_header(struct vhu_dev *dev, const char *path, void *arg)
{
	int fd = t_raw_connect(dev, path);
	u32 req = VHU_REQ_GET_FEATURES;

	(void)arg;
	t_raw_send_bytes_eof(fd, &req, 6 > sizeof(req) ? sizeof(req) : 6);
	return fd;
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	const int reps = 1000;
	struct {
		const char *what, *name;
		struct msg_spec m;
	} cases[] = {
		{ "unknown request 99", "request 99",
		  { 99, VHU_VERSION, 0, 0, false } },
		{ "request 0", "request 0", { 0, VHU_VERSION, 0, 0, false } },
		{ "huge request number", "request 4294967295",
		  { 0xffffffff, VHU_VERSION, 8, 8, false } },
		{ "known but unsupported SEND_RARP", "SEND_RARP",
		  { VHU_REQ_SEND_RARP, VHU_VERSION, 8, 8, false } },
		{ "POSTCOPY_ADVISE", "POSTCOPY_ADVISE",
		  { VHU_REQ_POSTCOPY_ADVISE, VHU_VERSION, 0, 0, false } },
		{ "size field larger than the payload", "SET_FEATURES",
		  { VHU_REQ_SET_FEATURES, VHU_VERSION, 8, 4, true } },
		{ "payload missing entirely", "SET_VRING_ADDR",
		  { VHU_REQ_SET_VRING_ADDR, VHU_VERSION, 40, 0, true } },
		{ "oversized payload", "SET_VRING_NUM",
		  { VHU_REQ_SET_VRING_NUM, VHU_VERSION, 4096, 64, false } },
		{ "size 0xffffffff", "GET_FEATURES",
		  { VHU_REQ_GET_FEATURES, VHU_VERSION, 0xffffffff, 0, false } },
		{ "payload too small", "SET_VRING_BASE",
		  { VHU_REQ_SET_VRING_BASE, VHU_VERSION, 4, 4, false } },
		{ "payload on a request that has none", "GET_FEATURES",
		  { VHU_REQ_GET_FEATURES, VHU_VERSION, 8, 8, false } },
		{ "version 0", "GET_FEATURES", { VHU_REQ_GET_FEATURES, 0, 0, 0, false } },
		{ "version 2", "GET_FEATURES", { VHU_REQ_GET_FEATURES, 2, 0, 0, false } },
		{ "reply flag on a request", "GET_FEATURES",
		  { VHU_REQ_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, 0, 0, false } },
		{ "GET_CONFIG size below its header", "GET_CONFIG",
		  { VHU_REQ_GET_CONFIG, VHU_VERSION, 4, 4, false } },
	};

	t_log_capture();
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		t_hostile(dev, p.sock, cases[i].what, cases[i].name, send_spec,
			  &cases[i].m, reps);
	t_hostile(dev, p.sock, "truncated header", "header", send_short_header,
		  NULL, reps);

	vhu_dev_free(dev);
	t_path_fini(&p);
	fprintf(stderr, "vhu_sec12: all ok\n");
	return 0;
}
