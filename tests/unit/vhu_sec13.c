// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 13: memory regions.  SET_MEM_TABLE and ADD_MEM_REG with a
 * region of size 0, gpa+size / uaddr+size / offset+size wrapping, a range past
 * the end of its fd, overlapping regions, too many regions, and fd counts not
 * matching the region count.  Each drops the connection with a log line naming
 * the request; 1000 repetitions leak no fd or mapping (the regions that were
 * mapped before the bad one are unmapped); the device still serves.  Valid
 * tables, ADD_MEM_REG and REM_MEM_REG are accepted.
 */
#include "vhu_test.h"

#define MB (1ull << 20)

static int memfd;	/* 1 MiB, shared by every scenario */

struct mt {
	u32 nregions;
	u32 size;		/* 0: 8 + 32 * nregions */
	unsigned int nfds;	/* fds attached (all memfd) */
	struct vhu_mem_region r[VHU_MEM_BASELINE_REGIONS];
	bool add;		/* ADD_MEM_REG of r[0] (after negotiating) */
	unsigned int preadd;	/* valid ADD_MEM_REGs first */
};

static int send_mt(struct vhu_dev *dev, const char *path, void *arg)
{
	const struct mt *m = arg;
	int fd = t_raw_connect(dev, path);
	int fds[16];

	for (unsigned int i = 0; i < 16; i++)
		fds[i] = memfd;
	if (m->add) {
		struct vhu_mem_reg mr = { .region = m->r[0] };

		t_raw_negotiate(dev, fd, 1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
		for (unsigned int i = 0; i < m->preadd; i++) {
			struct vhu_mem_reg ok = {
				.region = { .guest_phys_addr = i * MB,
					    .memory_size = 4096,
					    .userspace_addr = 0x10000000ull + i * MB },
			};

			t_raw_send_fds(fd, VHU_REQ_ADD_MEM_REG, VHU_VERSION, &ok,
				       sizeof(ok), fds, 1);
			CHECK_EQ(vhu_dev_dispatch(dev), 0);
		}
		t_raw_send_fds(fd, VHU_REQ_ADD_MEM_REG, VHU_VERSION, &mr, sizeof(mr),
			       fds, m->nfds);
	} else {
		struct vhu_mem_table t = { .nregions = m->nregions };
		u32 size = m->size ? m->size :
			   8 + (m->nregions <= 8 ? m->nregions : 8) * 32;

		memcpy(t.regions, m->r, sizeof(t.regions));
		t_raw_send_fds(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, size, fds,
			       m->nfds);
	}
	return fd;
}

static struct vhu_mem_region good(unsigned int i)
{
	return (struct vhu_mem_region){
		.guest_phys_addr = 0x100000ull * (i + 1),
		.memory_size = 0x10000,
		.userspace_addr = 0x7f0000000000ull + 0x100000ull * i,
		.mmap_offset = 0x10000ull * i,
	};
}

static void valid_tables(struct vhu_dev *dev, const char *path)
{
	int fd = t_raw_connect(dev, path);
	int fds[8] = { memfd, memfd, memfd, memfd, memfd, memfd, memfd, memfd };
	struct vhu_mem_table t = { .nregions = 8 };
	struct vhu_mem_reg mr = { .region = good(9) };
	int maps0 = t_count_maps();

	for (unsigned int i = 0; i < 8; i++)
		t.regions[i] = good(i);
	t_raw_send_fds(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, sizeof(t), fds, 8);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 8);
	CHECK_EQ(t_count_maps(), maps0 + 8);
	/* Unaligned offset inside the fd: mapped from the page below. */
	t.nregions = 1;
	t.regions[0].mmap_offset = 0x1234;
	t_raw_send_fds(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, 8 + 32, fds, 1);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 1);
	CHECK_EQ(t_count_maps(), maps0 + 1);
	CHECK_EQ(vhu_dev_mem(dev)->regions[0].hva & 0xfff, 0x234);
	/* ADD / REM with CONFIGURE_MEM_SLOTS (REM with and without an fd). */
	t_raw_negotiate(dev, fd, 1ull << VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS);
	t_raw_send(fd, VHU_REQ_GET_MAX_MEM_SLOTS, NULL, 0);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	{
		u64 slots;

		t_raw_reply(fd, VHU_REQ_GET_MAX_MEM_SLOTS, &slots, 8);
		CHECK_EQ(slots, VQ_MEM_MAX_REGIONS);
	}
	t_raw_send_fds(fd, VHU_REQ_ADD_MEM_REG, VHU_VERSION, &mr, sizeof(mr), fds, 1);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 2);
	t_raw_send_fds(fd, VHU_REQ_REM_MEM_REG, VHU_VERSION, &mr, sizeof(mr), fds, 1);
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 1);
	mr.region = t.regions[0];
	t_raw_send(fd, VHU_REQ_REM_MEM_REG, &mr, sizeof(mr));
	CHECK_EQ(vhu_dev_dispatch(dev), 0);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
	CHECK_EQ(t_count_maps(), maps0);
	close(fd);
	CHECK(vhu_dev_dispatch(dev) < 0);
	fprintf(stderr, "ok: valid tables, ADD/REM_MEM_REG\n");
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	const int reps = 1000;
	struct {
		const char *what, *name;
		struct mt m;
	} cases[] = {
		{ "no regions", "SET_MEM_TABLE", { .nregions = 0, .nfds = 0 } },
		{ "9 regions", "SET_MEM_TABLE", { .nregions = 9, .nfds = 8 } },
		{ "size 0", "SET_MEM_TABLE", { .nregions = 1, .nfds = 1,
		  .r = { { 0x1000, 0, 0x10000, 0 } } } },
		{ "gpa + size wraps", "SET_MEM_TABLE", { .nregions = 1, .nfds = 1,
		  .r = { { ~0ull - 0xfff, 0x2000, 0x10000, 0 } } } },
		{ "uaddr + size wraps", "SET_MEM_TABLE", { .nregions = 1, .nfds = 1,
		  .r = { { 0, 0x2000, ~0ull - 0xfff, 0 } } } },
		{ "offset + size wraps", "SET_MEM_TABLE", { .nregions = 1, .nfds = 1,
		  .r = { { 0, 0x2000, 0x10000, ~0ull - 0xfff } } } },
		{ "huge size", "SET_MEM_TABLE", { .nregions = 1, .nfds = 1,
		  .r = { { 0, 1ull << 62, 0x10000, 0 } } } },
		{ "range past the end of the fd", "SET_MEM_TABLE", { .nregions = 1,
		  .nfds = 1, .r = { { 0, MB, 0x10000, 4096 } } } },
		{ "second region bad (first unmapped again)", "SET_MEM_TABLE",
		  { .nregions = 2, .nfds = 2,
		    .r = { { 0, 0x10000, 0x10000, 0 }, { 0x100000, 0, 0x20000, 0 } } } },
		{ "overlapping regions", "SET_MEM_TABLE", { .nregions = 2, .nfds = 2,
		  .r = { { 0, 0x10000, 0x10000, 0 }, { 0x8000, 0x10000, 0x90000, 0 } } } },
		{ "2 regions, 1 fd", "SET_MEM_TABLE", { .nregions = 2, .nfds = 1,
		  .r = { { 0, 0x1000, 0x10000, 0 }, { 0x100000, 0x1000, 0x20000, 0 } } } },
		{ "1 region, 2 fds", "SET_MEM_TABLE", { .nregions = 1, .nfds = 2,
		  .r = { { 0, 0x1000, 0x10000, 0 } } } },
		{ "1 region, no fd", "SET_MEM_TABLE", { .nregions = 1, .nfds = 0,
		  .r = { { 0, 0x1000, 0x10000, 0 } } } },
		{ "2 regions in a 1-region payload", "SET_MEM_TABLE", { .nregions = 2,
		  .nfds = 2, .size = 8 + 32,
		  .r = { { 0, 0x1000, 0x10000, 0 }, { 0x100000, 0x1000, 0x20000, 0 } } } },
		{ "ADD_MEM_REG size 0", "ADD_MEM_REG", { .add = true, .nfds = 1,
		  .r = { { 0, 0, 0x10000, 0 } } } },
		{ "ADD_MEM_REG offset wraps", "ADD_MEM_REG", { .add = true, .nfds = 1,
		  .r = { { 0, 0x1000, 0x10000, ~0ull } } } },
		{ "ADD_MEM_REG without fd", "ADD_MEM_REG", { .add = true, .nfds = 0,
		  .r = { { 0, 0x1000, 0x10000, 0 } } } },
		{ "ADD_MEM_REG overlapping", "ADD_MEM_REG", { .add = true, .nfds = 1,
		  .preadd = 1, .r = { { 0, 0x1000, 0x10000, 0 } } } },
		{ "ADD_MEM_REG beyond the slots", "ADD_MEM_REG", { .add = true,
		  .nfds = 1, .preadd = VQ_MEM_MAX_REGIONS,
		  .r = { { 0x40000000ull, 0x1000, 0x10000, 0 } } } },
	};

	t_log_capture();
	memfd = memfd_create("t-ram", MFD_CLOEXEC);
	CHECK(memfd >= 0 && ftruncate(memfd, MB) == 0);
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);

	valid_tables(dev, p.sock);
	for (unsigned int i = 0; i < ARRAY_SIZE(cases); i++)
		t_hostile(dev, p.sock, cases[i].what, cases[i].name, send_mt,
			  &cases[i].m, cases[i].m.preadd > 1 ? reps / 10 : reps);

	vhu_dev_free(dev);
	t_path_fini(&p);
	close(memfd);
	fprintf(stderr, "vhu_sec13: all ok\n");
	return 0;
}
