// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 14 (and the ring checks of case 4 at this layer): vring
 * index >= number of queues on every per-ring request, u32 indices that a u16
 * truncation would turn into a valid one (CVE-2020-10723), reserved bits in
 * the kick/call/err payload, queue size 0 / not a power of two / above the
 * device maximum, a base above 16 bits, misaligned rings and an enable value
 * other than 0/1.  Each drops the connection with a log line naming the
 * request; 1000 repetitions leak nothing; the device still serves.
 */
#include "vhu_test.h"

#define STATE(r, i, n) { .req = (r), .size = 8, .p.state = { (i), (n) } }
#define VFD(r, v, nf) { .req = (r), .size = 8, .p.u64 = (v), .nfds = (nf) }
#define ADDR(i, d, a, u) { .req = VHU_REQ_SET_VRING_ADDR, .size = 40,	\
	.p.addr = { .index = (i), .desc_user_addr = (d),		\
		    .avail_user_addr = (a), .used_user_addr = (u) } }

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	const int reps = 1000;
	struct {
		const char *what, *name;
		struct t_msg m;
	} cases[] = {
		{ "SET_VRING_NUM index 2", "SET_VRING_NUM",
		  STATE(VHU_REQ_SET_VRING_NUM, 2, 256) },
		{ "SET_VRING_NUM index 0x10000 (u16 would say 0)", "SET_VRING_NUM",
		  STATE(VHU_REQ_SET_VRING_NUM, 0x10000, 256) },
		{ "SET_VRING_NUM index 0xffffffff", "SET_VRING_NUM",
		  STATE(VHU_REQ_SET_VRING_NUM, 0xffffffff, 256) },
		{ "SET_VRING_BASE index 0x10001", "SET_VRING_BASE",
		  STATE(VHU_REQ_SET_VRING_BASE, 0x10001, 0) },
		{ "GET_VRING_BASE index 2", "GET_VRING_BASE",
		  STATE(VHU_REQ_GET_VRING_BASE, 2, 0) },
		{ "SET_VRING_ENABLE index 256", "SET_VRING_ENABLE",
		  STATE(VHU_REQ_SET_VRING_ENABLE, 256, 1) },
		{ "SET_VRING_ADDR index 0x80000000", "SET_VRING_ADDR",
		  ADDR(0x80000000, 0, 0, 0) },
		{ "SET_VRING_KICK index 2", "SET_VRING_KICK",
		  VFD(VHU_REQ_SET_VRING_KICK, 2, 1) },
		{ "SET_VRING_CALL index 255 no fd", "SET_VRING_CALL",
		  VFD(VHU_REQ_SET_VRING_CALL, 255 | VHU_VRING_NOFD, 0) },
		{ "SET_VRING_ERR reserved bits", "SET_VRING_ERR",
		  VFD(VHU_REQ_SET_VRING_ERR, 0x10000, 1) },
		{ "SET_VRING_KICK index in bit 32", "SET_VRING_KICK",
		  VFD(VHU_REQ_SET_VRING_KICK, 1ull << 32, 1) },
		{ "queue size 0", "SET_VRING_NUM", STATE(VHU_REQ_SET_VRING_NUM, 0, 0) },
		{ "queue size 3", "SET_VRING_NUM", STATE(VHU_REQ_SET_VRING_NUM, 0, 3) },
		{ "queue size above the device max", "SET_VRING_NUM",
		  STATE(VHU_REQ_SET_VRING_NUM, 1, 2048) },
		{ "queue size 0x10000 (u16 would say 0)", "SET_VRING_NUM",
		  STATE(VHU_REQ_SET_VRING_NUM, 0, 0x10000) },
		{ "base 0x10000", "SET_VRING_BASE", STATE(VHU_REQ_SET_VRING_BASE, 0, 0x10000) },
		{ "misaligned desc", "SET_VRING_ADDR", ADDR(0, 0x1008, 0x2000, 0x3000) },
		{ "misaligned avail", "SET_VRING_ADDR", ADDR(0, 0x1000, 0x2001, 0x3000) },
		{ "misaligned used", "SET_VRING_ADDR", ADDR(1, 0x1000, 0x2000, 0x3002) },
		{ "log flag without logging", "SET_VRING_ADDR",
		  { .req = VHU_REQ_SET_VRING_ADDR, .size = 40,
		    .p.addr = { .index = 0, .flags = 1 } } },
		{ "enable 2", "SET_VRING_ENABLE", STATE(VHU_REQ_SET_VRING_ENABLE, 0, 2) },
	};

	t_log_capture();
	t_attach_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(t_attach_fd >= 0);
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		t_hostile(dev, p.sock, cases[i].what, cases[i].name, t_send_msg,
			  &cases[i].m, reps);

	/* The last valid index is accepted. */
	{
		int fd = t_raw_connect(dev, p.sock);
		struct vhost_vring_state s = { T_NR_QUEUES - 1, 256 };

		t_raw_send(fd, VHU_REQ_SET_VRING_NUM, &s, sizeof(s));
		CHECK_EQ(vhu_dev_dispatch(dev), 0);
		CHECK_EQ(vhu_dev_vq(dev, T_NR_QUEUES - 1)->num, 256);
		close(fd);
		CHECK(vhu_dev_dispatch(dev) < 0);
	}

	vhu_dev_free(dev);
	t_path_fini(&p);
	close(t_attach_fd);
	fprintf(stderr, "vhu_sec14: all ok\n");
	return 0;
}
