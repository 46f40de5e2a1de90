// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 17: REPLY_ACK honoured on every message that asks for it.
 * With REPLY_ACK negotiated, every request without a reply of its own that
 * sets NEED_REPLY gets exactly one ack: 0 on success, non-zero when the
 * device failed it (SET_CONFIG refused, unknown region removed, ring that
 * cannot start); without NEED_REPLY, or before REPLY_ACK is negotiated, no ack;
 * GET_* requests get only their own reply.  A bad message asking for an ack
 * gets none: the connection is dropped (1000 times, no leak).
 */
#include "vhu_test.h"

#define UA	0x7f0000000000ull
#define MB	(1ull << 20)

static int cfd;

static void ack_send(struct vhu_dev *dev, u32 req, const void *p, u32 size,
		     int *fds, unsigned int nfds, u64 want)
{
	u64 v;

	t_raw_send_fds(cfd, req, VHU_VERSION | VHU_FLAG_NEED_REPLY, p, size, fds, nfds);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_reply(cfd, req, &v, 8);
	if (want ? v == 0 : v != 0) {
		fprintf(stderr, "%s: ack %llu\n", vhu_request_name(req),
			(unsigned long long)v);
		exit(1);
	}
	t_raw_no_reply(cfd);
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	int memfd = memfd_create("ram", MFD_CLOEXEC), efd = eventfd(0, EFD_CLOEXEC);
	int rfd;
	u64 v, feat = T_FEATURES | (1ull << VHU_F_PROTOCOL_FEATURES), proto = T_PROTO;
	struct vhu_mem_table mt = { .nregions = 1,
				    .regions = { { 0, MB, UA, 0 } } };
	struct vhu_mem_reg mr = { .region = { 8 * MB, MB, UA + 8 * MB, 0 } };
	struct vhost_vring_state num = { 0, 256 }, base = { 0, 7 }, en = { 0, 1 };
	struct vhost_vring_addr a = { .index = 0, .desc_user_addr = UA + 0x10000,
				      .avail_user_addr = UA + 0x14000,
				      .used_user_addr = UA + 0x18000 };
	struct vhu_config c = { .offset = 0, .size = 4, .region = { 9, 8, 7, 6 } };
	struct vhu_inflight in = { .num_queues = 2, .queue_size = 256 };
	u64 kick = 0, errv = VHU_VRING_NOFD;

	t_log_capture();
	CHECK(memfd >= 0 && efd >= 0 && ftruncate(memfd, MB) == 0);
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);

	/* Before REPLY_ACK is negotiated, NEED_REPLY gets nothing. */
	cfd = t_raw_connect(dev, p.sock);
	t_raw_send_fds(cfd, VHU_REQ_SET_OWNER, VHU_VERSION | VHU_FLAG_NEED_REPLY,
		       NULL, 0, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_no_reply(cfd);
	t_raw_send_fds(cfd, VHU_REQ_SET_PROTOCOL_FEATURES,
		       VHU_VERSION | VHU_FLAG_NEED_REPLY, &proto, 8, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_no_reply(cfd);

	/* Every no-reply request now acks 0. */
	ack_send(dev, VHU_REQ_SET_PROTOCOL_FEATURES, &proto, 8, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_OWNER, NULL, 0, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_FEATURES, &feat, 8, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_MEM_TABLE, &mt, 8 + 32, &memfd, 1, 0);
	t_raw_send(cfd, VHU_REQ_GET_INFLIGHT_FD, &in, sizeof(in));
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	rfd = t_raw_reply_fd(cfd, VHU_REQ_GET_INFLIGHT_FD, &in, sizeof(in));
	ack_send(dev, VHU_REQ_SET_INFLIGHT_FD, &in, sizeof(in), &rfd, 1, 0);
	close(rfd);
	ack_send(dev, VHU_REQ_SET_VRING_NUM, &num, 8, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_VRING_BASE, &base, 8, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_VRING_ADDR, &a, sizeof(a), NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_VRING_KICK, &kick, 8, &efd, 1, 0);
	ack_send(dev, VHU_REQ_SET_VRING_CALL, &kick, 8, &efd, 1, 0);
	ack_send(dev, VHU_REQ_SET_VRING_ERR, &errv, 8, NULL, 0, 0);
	ack_send(dev, VHU_REQ_SET_VRING_ENABLE, &en, 8, NULL, 0, 0);
	CHECK(vhu_dev_vq(dev, 0)->started);
	ack_send(dev, VHU_REQ_SET_CONFIG, &c, 12 + 4, NULL, 0, 0);
	CHECK_EQ(t.config[0], 9);
	ack_send(dev, VHU_REQ_ADD_MEM_REG, &mr, sizeof(mr), &memfd, 1, 0);
	ack_send(dev, VHU_REQ_REM_MEM_REG, &mr, sizeof(mr), NULL, 0, 0);

	/* Failures are acked non-zero and the connection stays. */
	t.fail_set_config = 1;
	ack_send(dev, VHU_REQ_SET_CONFIG, &c, 12 + 4, NULL, 0, 1);
	t.fail_set_config = 0;
	ack_send(dev, VHU_REQ_REM_MEM_REG, &mr, sizeof(mr), NULL, 0, 1);
	{
		/* Ring 1 inside no region: it cannot start when it becomes ready. */
		struct vhost_vring_state n1 = { 1, 64 }, e1 = { 1, 1 };
		struct vhost_vring_addr a1 = { .index = 1, .desc_user_addr = 0x1000,
					       .avail_user_addr = 0x2000,
					       .used_user_addr = 0x3000 };
		u64 k1 = 1 | VHU_VRING_NOFD;

		ack_send(dev, VHU_REQ_SET_VRING_NUM, &n1, 8, NULL, 0, 0);
		ack_send(dev, VHU_REQ_SET_VRING_ADDR, &a1, sizeof(a1), NULL, 0, 0);
		ack_send(dev, VHU_REQ_SET_VRING_KICK, &k1, 8, NULL, 0, 0);
		ack_send(dev, VHU_REQ_SET_VRING_ENABLE, &e1, 8, NULL, 0, 1);
		CHECK(!vhu_dev_vq(dev, 1)->started);
	}

	/* GET_* with NEED_REPLY: only their own reply. */
	t_raw_send_fds(cfd, VHU_REQ_GET_FEATURES, VHU_VERSION | VHU_FLAG_NEED_REPLY,
		       NULL, 0, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_reply(cfd, VHU_REQ_GET_FEATURES, &v, 8);
	CHECK_EQ(v, feat);
	t_raw_no_reply(cfd);
	t_raw_send_fds(cfd, VHU_REQ_GET_VRING_BASE, VHU_VERSION | VHU_FLAG_NEED_REPLY,
		       &base, 8, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_reply(cfd, VHU_REQ_GET_VRING_BASE, &base, 8);
	CHECK_EQ(base.num, 7);
	t_raw_no_reply(cfd);

	/* Without NEED_REPLY: nothing. */
	t_raw_send(cfd, VHU_REQ_SET_VRING_NUM, &num, 8);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	t_raw_no_reply(cfd);

	/* RESET_DEVICE acks too. */
	ack_send(dev, VHU_REQ_RESET_DEVICE, NULL, 0, NULL, 0, 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);

	/* A bad message asking for an ack: no ack, just EOF. */
	{
		struct vhost_vring_state bad = { 5, 256 };
		char ch;

		t_log_reset();
		t_raw_send_fds(cfd, VHU_REQ_SET_VRING_NUM,
			       VHU_VERSION | VHU_FLAG_NEED_REPLY, &bad, 8, NULL, 0);
		CHECK(vhu_dev_dispatch(dev) < 0);
		CHECK(t_log_has("SET_VRING_NUM"));
		CHECK_EQ(recv(cfd, &ch, 1, 0), 0);
		close(cfd);
	}
	{
		struct t_msg m = { .req = VHU_REQ_SET_VRING_NUM, .size = 8,
				   .p.state = { 5, 256 }, .proto = T_PROTO,
				   .flags = VHU_VERSION | VHU_FLAG_NEED_REPLY };

		t_hostile(dev, p.sock, "bad SET_VRING_NUM with NEED_REPLY",
			  "SET_VRING_NUM", t_send_msg, &m, 1000);
	}
	fprintf(stderr, "ok: acks\n");

	vhu_dev_free(dev);
	t_path_fini(&p);
	close(memfd);
	close(efd);
	fprintf(stderr, "vhu_sec17: all ok\n");
	return 0;
}
