// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 15: extra or missing fds on any message (each drops the
 * connection, every fd it brought is closed), more fds than any message may
 * carry, and repeated SET_MEM_TABLE / SET_VRING_NUM / SET_VRING_CALL /
 * GET_INFLIGHT_FD / SET_INFLIGHT_FD on one connection with running rings
 * leaking nothing (CVE-2019-14818, CVE-2020-10726, CVE-2022-0669).
 */
#include "vhu_test.h"

#define UA	0x7f0000000000ull
#define MB	(1ull << 20)

#define M(r, sz, nf) { .req = (r), .size = (sz), .nfds = (nf) }
#define MP(r, sz, nf, pr) { .req = (r), .size = (sz), .nfds = (nf), .proto = (pr) }
#define INF (1ull << VHU_PROTOCOL_F_INFLIGHT_SHMFD)
#define CFG (1ull << VHU_PROTOCOL_F_CONFIG)

static void repeated(struct vhu_dev *dev, const char *path, struct t_dev *t)
{
	int fd = t_raw_connect(dev, path), memfd = memfd_create("r", MFD_CLOEXEC);
	int efd = eventfd(0, EFD_CLOEXEC);
	int fds[2];
	int fds0 = 0, maps0 = 0;
	struct vhu_mem_table mt = { .nregions = 2 };
	struct vhu_inflight in = { .num_queues = 2, .queue_size = 256 };
	u64 feat = T_FEATURES | (1ull << VHU_F_PROTOCOL_FEATURES);

	CHECK(memfd >= 0 && efd >= 0 && ftruncate(memfd, 2 * MB) == 0);
	fds[0] = fds[1] = memfd;
	mt.regions[0] = (struct vhu_mem_region){ 0, MB, UA, 0 };
	mt.regions[1] = (struct vhu_mem_region){ 4 * MB, MB, UA + 4 * MB, MB };
	t_raw_negotiate(dev, fd, T_PROTO & ~(1ull << VHU_PROTOCOL_F_REPLY_ACK));
	t_raw_send(fd, VHU_REQ_SET_FEATURES, &feat, 8);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	for (int i = 0; i <= 1000; i++) {
		struct vhost_vring_state num = { 0, 256 }, en = { 0, 1 };
		struct vhost_vring_addr a = { .index = 0, .desc_user_addr = UA + 0x10000,
					      .avail_user_addr = UA + 0x14000,
					      .used_user_addr = UA + 4 * MB + 0x1000 };
		u64 kick = 0, call = 0;
		struct vhu_inflight rep;
		int rfd;

		t_raw_send_fds(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &mt,
			       8 + 2 * 32, fds, 2);
		t_raw_send(fd, VHU_REQ_GET_INFLIGHT_FD, &in, sizeof(in));
		CHECK_EQ(vhu_dev_dispatch(dev), 0);
		rfd = t_raw_reply_fd(fd, VHU_REQ_GET_INFLIGHT_FD, &rep, sizeof(rep));
		CHECK_EQ(rep.mmap_size, 2 * vhu_inflight_queue_size(256));
		t_raw_send_fds(fd, VHU_REQ_SET_INFLIGHT_FD, VHU_VERSION, &rep,
			       sizeof(rep), &rfd, 1);
		close(rfd);
		t_raw_send(fd, VHU_REQ_SET_VRING_NUM, &num, 8);
		t_raw_send(fd, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a));
		t_raw_send_fds(fd, VHU_REQ_SET_VRING_KICK, VHU_VERSION, &kick, 8, &efd, 1);
		t_raw_send_fds(fd, VHU_REQ_SET_VRING_CALL, VHU_VERSION, &call, 8, &efd, 1);
		t_raw_send_fds(fd, VHU_REQ_SET_VRING_ERR, VHU_VERSION, &call, 8, &efd, 1);
		t_raw_send(fd, VHU_REQ_SET_VRING_ENABLE, &en, 8);
		CHECK_EQ(vhu_dev_dispatch(dev), 0);
		CHECK(vhu_dev_vq(dev, 0)->started);
		CHECK(vhu_dev_vq(dev, 0)->inflight);
		if (i == 0) {
			fds0 = t_count_fds();
			maps0 = t_count_maps();
		}
	}
	CHECK_EQ(t_count_fds(), fds0);
	CHECK_EQ(t_count_maps(), maps0);
	CHECK(t->starts > 1000 && t->starts == t->stops + 1);
	close(fd);
	CHECK(vhu_dev_dispatch(dev) < 0);
	CHECK_EQ(t->starts, t->stops);
	close(memfd);
	close(efd);
	fprintf(stderr, "ok: 1001 x (SET_MEM_TABLE, GET/SET_INFLIGHT_FD, ring setup)\n");
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	const int reps = 1000;
	int fds_start;
	struct {
		const char *what, *name;
		struct t_msg m;
	} cases[] = {
		{ "GET_FEATURES with an fd", "GET_FEATURES", M(VHU_REQ_GET_FEATURES, 0, 1) },
		{ "SET_FEATURES with 2 fds", "SET_FEATURES", M(VHU_REQ_SET_FEATURES, 8, 2) },
		{ "SET_OWNER with an fd", "SET_OWNER", M(VHU_REQ_SET_OWNER, 0, 1) },
		{ "SET_VRING_NUM with 3 fds", "SET_VRING_NUM",
		  { .req = VHU_REQ_SET_VRING_NUM, .size = 8, .p.state = { 0, 256 },
		    .nfds = 3 } },
		{ "SET_VRING_KICK no-fd flag with an fd", "SET_VRING_KICK",
		  { .req = VHU_REQ_SET_VRING_KICK, .size = 8, .p.u64 = VHU_VRING_NOFD,
		    .nfds = 1 } },
		{ "SET_VRING_CALL missing fd", "SET_VRING_CALL",
		  M(VHU_REQ_SET_VRING_CALL, 8, 0) },
		{ "SET_VRING_ERR with 2 fds", "SET_VRING_ERR",
		  M(VHU_REQ_SET_VRING_ERR, 8, 2) },
		{ "SET_INFLIGHT_FD missing fd", "SET_INFLIGHT_FD",
		  { .req = VHU_REQ_SET_INFLIGHT_FD, .size = 24, .proto = INF,
		    .p.inflight = { 4096, 0, 1, 64 } } },
		{ "SET_INFLIGHT_FD with 2 fds", "SET_INFLIGHT_FD",
		  { .req = VHU_REQ_SET_INFLIGHT_FD, .size = 24, .proto = INF, .nfds = 2,
		    .p.inflight = { 4096, 0, 1, 64 } } },
		{ "GET_INFLIGHT_FD with an fd", "GET_INFLIGHT_FD",
		  { .req = VHU_REQ_GET_INFLIGHT_FD, .size = 24, .proto = INF, .nfds = 1,
		    .p.inflight = { 0, 0, 1, 64 } } },
		{ "GET_CONFIG with an fd", "GET_CONFIG",
		  { .req = VHU_REQ_GET_CONFIG, .size = 12 + 4, .proto = CFG, .nfds = 1,
		    .p.config = { .size = 4 } } },
		{ "SET_LOG_FD without fd", "SET_LOG_FD", M(VHU_REQ_SET_LOG_FD, 0, 0) },
		{ "12 fds on one message", "SET_FEATURES", M(VHU_REQ_SET_FEATURES, 8, 12) },
		{ "SET_INFLIGHT_FD with an eventfd", "SET_INFLIGHT_FD",
		  { .req = VHU_REQ_SET_INFLIGHT_FD, .size = 24, .proto = INF, .nfds = 1,
		    .p.inflight = { 4096, 0, 1, 64 } } },
	};

	t_log_capture();
	fds_start = t_count_fds();
	t_attach_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(t_attach_fd >= 0);
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		t_hostile(dev, p.sock, cases[i].what, cases[i].name, t_send_msg,
			  &cases[i].m, reps);
	repeated(dev, p.sock, &t);

	vhu_dev_free(dev);
	t_path_fini(&p);
	close(t_attach_fd);
	CHECK_EQ(t_count_fds(), fds_start);
	fprintf(stderr, "vhu_sec15: all ok\n");
	return 0;
}
