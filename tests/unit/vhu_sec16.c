// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 16: SET_LOG_BASE with mmap_size + mmap_offset wrapping
 * (CVE-2020-10722) is refused before anything is mapped.  Dirty logging is not
 * implemented, so LOG_SHMFD is never offered, VHOST_F_LOG_ALL is never
 * offered, and any SET_LOG_BASE / SET_LOG_FD is refused cleanly: the
 * connection is dropped, the fd closed, nothing mapped; 1000 repetitions leak
 * nothing; the device still serves.
 */
#include <linux/vhost.h>

#include "vhu_test.h"

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	struct vhu_dev_ops ops = t_ops;
	const int reps = 1000;
	int memfd;
	struct {
		const char *what, *name;
		struct t_msg m;
	} cases[] = {
		{ "SET_LOG_BASE size + offset wraps", "wraps",
		  { .req = VHU_REQ_SET_LOG_BASE, .size = 16, .nfds = 1,
		    .p.log = { ~0ull - 0xfff, 0x2000 } } },
		{ "SET_LOG_BASE size + offset wraps (2)", "wraps",
		  { .req = VHU_REQ_SET_LOG_BASE, .size = 16, .nfds = 1,
		    .p.log = { 0x2000, ~0ull } } },
		{ "SET_LOG_BASE valid but unsupported", "SET_LOG_BASE",
		  { .req = VHU_REQ_SET_LOG_BASE, .size = 16, .nfds = 1,
		    .p.log = { 4096, 0 } } },
		{ "SET_LOG_BASE without fd", "SET_LOG_BASE",
		  { .req = VHU_REQ_SET_LOG_BASE, .size = 16, .p.log = { 4096, 0 } } },
		{ "SET_LOG_BASE short payload", "SET_LOG_BASE",
		  { .req = VHU_REQ_SET_LOG_BASE, .size = 8, .nfds = 1 } },
		{ "SET_LOG_FD", "SET_LOG_FD", { .req = VHU_REQ_SET_LOG_FD, .nfds = 1 } },
		{ "SET_FEATURES with LOG_ALL", "SET_FEATURES",
		  { .req = VHU_REQ_SET_FEATURES, .size = 8,
		    .p.u64 = 1ull << VHOST_F_LOG_ALL } },
		{ "SET_PROTOCOL_FEATURES with LOG_SHMFD", "SET_PROTOCOL_FEATURES",
		  { .req = VHU_REQ_SET_PROTOCOL_FEATURES, .size = 8,
		    .p.u64 = 1ull << VHU_PROTOCOL_F_LOG_SHMFD } },
	};

	t_log_capture();
	memfd = memfd_create("log", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, 1 << 20) == 0);
	t_attach_fd = memfd;
	t_path_init(&p);
	t_dev_init(&t);
	/* Even a device asking for them does not get them offered. */
	ops.features |= 1ull << VHOST_F_LOG_ALL;
	ops.protocol_features |= 1ull << VHU_PROTOCOL_F_LOG_SHMFD;
	CHECK_EQ(vhu_dev_new(&ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	{
		int fd = t_raw_connect(dev, p.sock);
		u64 v;

		t_raw_send(fd, VHU_REQ_GET_FEATURES, NULL, 0);
		t_raw_send(fd, VHU_REQ_GET_PROTOCOL_FEATURES, NULL, 0);
		CHECK_EQ(vhu_dev_dispatch(dev), 0);
		t_raw_reply(fd, VHU_REQ_GET_FEATURES, &v, 8);
		CHECK(!(v & (1ull << VHOST_F_LOG_ALL)));
		t_raw_reply(fd, VHU_REQ_GET_PROTOCOL_FEATURES, &v, 8);
		CHECK(!(v & (1ull << VHU_PROTOCOL_F_LOG_SHMFD)));
		CHECK_EQ(v, T_PROTO);
		close(fd);
		CHECK(vhu_dev_dispatch(dev) < 0);
	}

	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		t_hostile(dev, p.sock, cases[i].what, cases[i].name, t_send_msg,
			  &cases[i].m, reps);

	vhu_dev_free(dev);
	t_path_fini(&p);
	close(memfd);
	fprintf(stderr, "vhu_sec16: all ok\n");
	return 0;
}
