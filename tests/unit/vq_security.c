// SPDX-License-Identifier: MIT
/*
 * SECURITY.md cases 1-9 against the device side of the split ring.  Each test
 * writes the malicious ring by hand, then asserts the exact error code, that
 * the queue is broken (later pops return -EIO), that the device wrote nothing
 * (used ring unchanged, guard bytes around guest RAM intact, no write past the
 * request struct), and where it matters that the legal boundary case works.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "vq_harness.h"

#define F_EVENT_IDX	(1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT	(1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define RAM_SIZE	(1u << 20)

static struct harness h;
static struct req_box *box;
static u8 used_snapshot[16 + 8 * 1024];

static struct vring_desc *D;	/* the descriptor table, written by hand */
static u8 *buf;			/* a 4 KiB data buffer in guest RAM */
static u64 buf_gpa;

static void setup(unsigned int num, u64 features)
{
	h_mem_init(&h, RAM_SIZE);
	h_queue_init(&h, num, features);
	D = h.drv.desc;
	buf = h_alloc(&h, 4096, 4096);
	buf_gpa = h_gpa(&h, buf);
	box = req_box_new();
	CHECK(vq_used_bytes(num) <= sizeof(used_snapshot));
	memcpy(used_snapshot, h.drv.used, vq_used_bytes(num));
}

static void teardown(void)
{
	req_box_check(box);
	free(box);
	h_fini(&h);
}

/* The next pop must fail with @err, break the queue and write nothing. */
static void expect_fail(int err, int line)
{
	int r = vq_pop(&h.dev, &box->req);

	if (r != err) {
		fprintf(stderr, "line %d: vq_pop returned %d, want %d (%s)\n",
			line, r, err, vq_err_str(&h.dev));
		exit(1);
	}
	CHECK(vq_is_broken(&h.dev));
	CHECK_EQ(h.dev.err, err);
	CHECK(strcmp(vq_err_str(&h.dev), "no error") != 0);
	CHECK_EQ(vq_pop(&h.dev, &box->req), -EIO);
	CHECK_EQ(vq_map_chain(&h.dev, 0, &box->req), -EIO);
	CHECK(!vq_has_work(&h.dev));
	CHECK(memcmp(used_snapshot, h.drv.used, vq_used_bytes(h.num)) == 0);
	req_box_check(box);
	h_check_guards(&h);
}
#define EXPECT_FAIL(err) expect_fail(err, __LINE__)

static void expect_ok(unsigned int nr_rd, unsigned int nr_wr)
{
	CHECK_EQ(vq_pop(&h.dev, &box->req), 1);
	CHECK_EQ(box->req.nr_rd, nr_rd);
	CHECK_EQ(box->req.nr_wr, nr_wr);
	CHECK(!vq_is_broken(&h.dev));
	req_box_check(box);
}

/* Case 1: descriptor loops, in the ring and in an indirect table. */
static void test_case1_loop(void)
{
	struct vring_desc *t;

	/* A chain of exactly num descriptors is legal ... */
	setup(4, 0);
	h_desc(D, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc(D, 1, buf_gpa, 8, VRING_DESC_F_NEXT, 2);
	h_desc(D, 2, buf_gpa, 8, VRING_DESC_F_NEXT, 3);
	h_desc(D, 3, buf_gpa, 8, 0, 0);
	h_avail_put(&h, 0);
	expect_ok(4, 0);
	/* ... one more step is a loop: 3 -> 0. */
	h_desc(D, 3, buf_gpa, 8, VRING_DESC_F_NEXT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-ELOOP);
	teardown();

	/* A descriptor pointing at itself. */
	setup(8, 0);
	h_desc(D, 5, buf_gpa, 8, VRING_DESC_F_NEXT, 5);
	h_avail_put(&h, 5);
	EXPECT_FAIL(-ELOOP);
	teardown();

	/* A loop inside an indirect table (2 -> 1 -> 2). */
	setup(8, F_INDIRECT);
	t = h_alloc(&h, 4 * 16, 16);
	h_desc(t, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc(t, 1, buf_gpa, 8, VRING_DESC_F_NEXT, 2);
	h_desc(t, 2, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc(D, 0, h_gpa(&h, t), 4 * 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-ELOOP);
	teardown();
}

/* Case 2: head >= queue size, next >= queue size (ring and indirect). */
static void test_case2_index(void)
{
	struct vring_desc *t;

	setup(8, 0);
	h_avail_put(&h, 8);
	EXPECT_FAIL(-ERANGE);
	teardown();

	setup(8, 0);
	h_avail_put(&h, 0xffff);
	EXPECT_FAIL(-ERANGE);
	teardown();

	setup(8, 0);
	h_desc(D, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 8);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-ERANGE);
	teardown();

	/* next within the queue but past the 2-entry indirect table. */
	setup(8, F_INDIRECT);
	t = h_alloc(&h, 2 * 16, 16);
	h_desc(t, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 2);
	h_desc(t, 1, buf_gpa, 8, 0, 0);
	h_desc(D, 0, h_gpa(&h, t), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-ERANGE);
	teardown();

	/* In-flight replay of a bad head, and our own bad push (no break). */
	setup(8, 0);
	CHECK_EQ(vq_push(&h.dev, 8, 0), -ERANGE);
	CHECK(!vq_is_broken(&h.dev));
	{
		struct vq_used u[2] = { { 1, 0 }, { 8, 0 } };

		CHECK_EQ(vq_push_batch(&h.dev, u, 2), -ERANGE);
		CHECK(memcmp(used_snapshot, h.drv.used, vq_used_bytes(8)) == 0);
	}
	CHECK_EQ(vq_map_chain(&h.dev, 9, &box->req), -ERANGE);
	CHECK(vq_is_broken(&h.dev));
	teardown();
}

/* Case 3: avail->idx more than queue size ahead: an error, not a spin. */
static void test_case3_avail_idx(void)
{
	unsigned int i;

	/* Exactly num ahead is a full ring: fine. */
	setup(4, 0);
	for (i = 0; i < 4; i++)
		h_desc(D, i, buf_gpa, 8, 0, 0);
	h.drv.avail->idx = cpu_to_le16(4);
	for (i = 0; i < 4; i++)
		expect_ok(1, 0);
	CHECK_EQ(vq_pop(&h.dev, &box->req), 0);
	/* Now 5 ahead of last_avail 4. */
	h.drv.avail->idx = cpu_to_le16(9);
	EXPECT_FAIL(-EPROTO);
	teardown();

	/* Going backwards is the same as jumping 65535 ahead. */
	setup(4, 0);
	h.drv.avail->idx = cpu_to_le16(0xffff);
	EXPECT_FAIL(-EPROTO);
	teardown();

	/* Also caught by the emptiness probe and a base set by the front-end. */
	setup(4, 0);
	CHECK_EQ(vq_stop(&h.dev), 0);
	CHECK_EQ(vq_set_base(&h.dev, 1000), 0);
	CHECK_EQ(vq_start(&h.dev), 0);
	h.drv.avail->idx = cpu_to_le16(1005);
	CHECK(!vq_has_work(&h.dev));
	CHECK(vq_is_broken(&h.dev));
	CHECK_EQ(h.dev.err, -EPROTO);
	teardown();
}

/* Case 4: bad sizes, misaligned rings, rings outside memory, changes after start. */
static void test_case4_config(void)
{
	struct vq vq;
	u64 d, a, u;

	setup(8, 0);
	d = vq_drv_desc_gpa(&h.drv);
	a = vq_drv_avail_gpa(&h.drv);
	u = vq_drv_used_gpa(&h.drv);

	vq_init(&vq, &h.mem);
	CHECK_EQ(vq_set_num(&vq, 0), -EINVAL);
	CHECK_EQ(vq_set_num(&vq, 3), -EINVAL);
	CHECK_EQ(vq_set_num(&vq, 48), -EINVAL);
	CHECK_EQ(vq_set_num(&vq, 65536), -EINVAL);
	CHECK_EQ(vq_set_num(&vq, 1u << 31), -EINVAL);
	CHECK_EQ(vq_start(&vq), -EINVAL);	/* no size, no rings */
	CHECK_EQ(vq_set_num(&vq, 32768), 0);
	CHECK_EQ(vq_set_num(&vq, 1), 0);
	CHECK_EQ(vq_start(&vq), -EINVAL);	/* no rings */
	CHECK_EQ(vq_set_num(&vq, 8), 0);

	CHECK_EQ(vq_set_addr(&vq, d + 8, a, u), -EINVAL);
	CHECK_EQ(vq_set_addr(&vq, d, a + 1, u), -EINVAL);
	CHECK_EQ(vq_set_addr(&vq, d, a, u + 2), -EINVAL);
	/* Outside guest memory, and running past its end. */
	CHECK_EQ(vq_set_addr(&vq, 0x1000, a, u), -EFAULT);
	CHECK_EQ(vq_set_addr(&vq, d, a, H_GPA_BASE + RAM_SIZE - 16), -EFAULT);
	CHECK_EQ(vq_set_addr(&vq, UINT64_MAX & ~15ull, a, u), -EFAULT);
	CHECK_EQ(vq_start(&vq), -EFAULT);
	/* Fine for 8 entries, not for 32768: the size is re-checked. */
	CHECK_EQ(vq_set_addr(&vq, d, a, H_GPA_BASE + RAM_SIZE - vq_used_bytes(8) - 2), 0);
	CHECK_EQ(vq_set_num(&vq, 32768), -EFAULT);
	CHECK_EQ(vq_start(&vq), -EFAULT);
	CHECK_EQ(vq_set_num(&vq, 8), 0);

	CHECK_EQ(vq_set_addr(&vq, d, a, u), 0);
	CHECK_EQ(vq_set_features(&vq, F_EVENT_IDX), 0);
	CHECK_EQ(vq_start(&vq), 0);
	CHECK_EQ(vq_start(&vq), -EBUSY);
	/* After DRIVER_OK nothing about the ring may change. */
	CHECK_EQ(vq_set_addr(&vq, d, a, u), -EBUSY);
	CHECK_EQ(vq_set_addr_uaddr(&vq, d, a, u), -EBUSY);
	CHECK_EQ(vq_set_num(&vq, 4), -EBUSY);
	CHECK_EQ(vq_set_base(&vq, 3), -EBUSY);
	CHECK_EQ(vq_set_features(&vq, 0), -EBUSY);
	CHECK_EQ(vq_set_features(&vq, F_EVENT_IDX | (1ull << VIRTIO_F_VERSION_1)), 0);
	CHECK(vq.desc == (void *)D);
	CHECK_EQ(vq_stop(&vq), 0);
	CHECK_EQ(vq_set_num(&vq, 4), 0);
	CHECK_EQ(vq_set_addr(&vq, d, a, u), 0);

	/* A memory table that no longer holds the rings. */
	{
		struct vq_mem empty;

		vq_mem_init(&empty);
		CHECK_EQ(vq_set_mem(&vq, &empty), -EFAULT);
		CHECK_EQ(vq_start(&vq), -EFAULT);
		CHECK_EQ(vq_set_mem(&vq, &h.mem), 0);
		CHECK_EQ(vq_start(&vq), 0);
		/* While running: the queue stops instead of keeping stale pointers. */
		CHECK_EQ(vq_set_mem(&vq, &empty), -EFAULT);
		CHECK(!vq_is_started(&vq));
		CHECK(vq_is_broken(&vq));
		CHECK_EQ(vq_pop(&vq, &box->req), -ENOTCONN);
		CHECK_EQ(vq_push(&vq, 0, 0), -ENOTCONN);
		CHECK(!vq_should_notify(&vq));
		CHECK(!vq_enable_notify(&vq));
	}
	teardown();
}

/* A second region right after guest RAM in gpa space, elsewhere on the host. */
static u8 *add_adjacent_region(size_t size)
{
	struct vq_mem_region r = { .gpa = H_GPA_BASE + RAM_SIZE, .size = size, .fd = -1 };
	u8 *p = calloc(1, size);

	CHECK(p);
	r.hva = (uintptr_t)p;
	CHECK_EQ(vq_mem_add_region(&h.mem, &r), 0);
	return p;
}

/* Case 5: indirect tables. */
static void test_case5_indirect(void)
{
	struct vring_desc *t, *t2;
	u8 *next_region;

	struct {
		u64 features;
		u32 len;
		u16 flags;
		int err;
	} bad[] = {
		{ 0, 32, VRING_DESC_F_INDIRECT, -EBADMSG },		/* not negotiated */
		{ F_INDIRECT, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, -EBADMSG },
		{ F_INDIRECT, 0, VRING_DESC_F_INDIRECT, -EBADMSG },
		{ F_INDIRECT, 24, VRING_DESC_F_INDIRECT, -EBADMSG },	/* not x16 */
		{ F_INDIRECT, 17 * 16, VRING_DESC_F_INDIRECT, -EBADMSG },	/* > num */
	};
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		setup(16, bad[i].features);
		t = h_alloc(&h, 17 * 16, 16);
		h_desc(t, 0, buf_gpa, 8, 0, 0);
		h_desc(t, 1, buf_gpa, 8, 0, 0);
		h_desc(D, 0, h_gpa(&h, t), bad[i].len, bad[i].flags, 1);
		h_desc(D, 1, buf_gpa, 8, 0, 0);
		h_avail_put(&h, 0);
		EXPECT_FAIL(bad[i].err);
		teardown();
	}

	/* 16 entries for num 16 is the legal maximum. */
	setup(16, F_INDIRECT);
	t = h_alloc(&h, 16 * 16, 16);
	for (i = 0; i < 16; i++)
		h_desc(t, i, buf_gpa, 8, i < 15 ? VRING_DESC_F_NEXT : 0, i + 1);
	h_desc(D, 0, h_gpa(&h, t), 16 * 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	expect_ok(16, 0);
	teardown();

	/* Nested: an indirect descriptor inside an indirect table. */
	setup(8, F_INDIRECT);
	t = h_alloc(&h, 2 * 16, 16);
	t2 = h_alloc(&h, 1 * 16, 16);
	h_desc(t2, 0, buf_gpa, 8, 0, 0);
	h_desc(t, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc(t, 1, h_gpa(&h, t2), 16, VRING_DESC_F_INDIRECT, 0);
	h_desc(D, 0, h_gpa(&h, t), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-EBADMSG);
	teardown();

	/* Indirect descriptor in the middle of a ring chain. */
	setup(8, F_INDIRECT);
	t = h_alloc(&h, 16, 16);
	h_desc(t, 0, buf_gpa, 8, 0, 0);
	h_desc(D, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc(D, 1, h_gpa(&h, t), 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-EBADMSG);
	teardown();

	/* Table crossing from one region into the next (gpa-adjacent). */
	setup(8, F_INDIRECT);
	next_region = add_adjacent_region(4096);
	t = (struct vring_desc *)(h.ram + RAM_SIZE - 16);
	h_desc(t, 0, buf_gpa, 8, VRING_DESC_F_NEXT, 1);
	h_desc((struct vring_desc *)next_region, 0, buf_gpa, 8, 0, 0);
	h_desc(D, 0, h_gpa(&h, t), 2 * 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-EBADMSG);
	teardown();
	free(next_region);

	/* Table not in guest memory at all. */
	setup(8, F_INDIRECT);
	h_desc(D, 0, 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-EFAULT);
	teardown();
}

/* Case 6: buffers past a region end, wrapping past 2^64, of length 0. */
static void test_case6_bounds(void)
{
	struct {
		u64 addr;
		u32 len;
	} bad[] = {
		{ H_GPA_BASE + RAM_SIZE - 8, 9 },		/* one byte past the end */
		{ H_GPA_BASE + RAM_SIZE, 1 },			/* just past */
		{ H_GPA_BASE - 1, 2 },				/* just before */
		{ UINT64_MAX - 7, 16 },				/* wraps past 2^64 */
		{ UINT64_MAX, 0x10000 },
		{ 0, 64 },
		{ H_GPA_BASE, 0 },				/* length 0 */
	};
	unsigned int i;
	u8 *next_region;

	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (int wr = 0; wr < 2; wr++) {
			setup(8, 0);
			/* A good descriptor first, so a partial request was built. */
			h_desc(D, 0, buf_gpa, 8, VRING_DESC_F_NEXT | (wr ? VRING_DESC_F_WRITE : 0), 1);
			h_desc(D, 1, bad[i].addr, bad[i].len, wr ? VRING_DESC_F_WRITE : 0, 0);
			h_avail_put(&h, 0);
			EXPECT_FAIL(-EFAULT);
			teardown();
		}
	}

	/* The same addresses as a chain's only descriptor (vq_pop's one-
	 * descriptor path), readable and writable. */
	for (i = 0; i < ARRAY_SIZE(bad); i++) {
		for (int wr = 0; wr < 2; wr++) {
			setup(8, 0);
			h_desc(D, 0, bad[i].addr, bad[i].len, wr ? VRING_DESC_F_WRITE : 0, 0);
			h_avail_put(&h, 0);
			EXPECT_FAIL(-EFAULT);
			teardown();
		}
	}

	/* The last byte of RAM is fine; a buffer spanning two adjacent regions
	 * becomes two iovecs. */
	setup(8, 0);
	next_region = add_adjacent_region(4096);
	h_desc(D, 0, H_GPA_BASE + RAM_SIZE - 1, 1, VRING_DESC_F_NEXT, 1);
	h_desc(D, 1, H_GPA_BASE + RAM_SIZE - 100, 200, VRING_DESC_F_WRITE, 0);
	h_avail_put(&h, 0);
	expect_ok(1, 2);
	CHECK(box->req.rd[0].iov_base == h.ram + RAM_SIZE - 1);
	CHECK(box->req.wr[0].iov_base == h.ram + RAM_SIZE - 100);
	CHECK_EQ(box->req.wr[0].iov_len, 100);
	CHECK(box->req.wr[1].iov_base == next_region);
	CHECK_EQ(box->req.wr[1].iov_len, 100);
	CHECK_EQ(box->req.wr_len, 200);
	teardown();
	free(next_region);

	/*
	 * One-descriptor chains in two regions, alternating, then one across
	 * both: each maps to its own region (the queue's region hint follows
	 * and never sends a buffer to the wrong one), the spanning one to two
	 * iovecs.
	 */
	setup(8, 0);
	next_region = add_adjacent_region(4096);
	{
		static const struct {
			u64 gpa;
			u32 len;
			u16 flags;
		} one[] = {
			{ H_GPA_BASE + RAM_SIZE + 8, 64, 0 },
			{ H_GPA_BASE + 4096, 64, VRING_DESC_F_WRITE },
			{ H_GPA_BASE + RAM_SIZE + 4096 - 1, 1, VRING_DESC_F_WRITE },
			{ H_GPA_BASE + RAM_SIZE - 64, 64, 0 },
			{ H_GPA_BASE + RAM_SIZE - 64, 128, 0 },	/* spans both */
		};

		for (i = 0; i < ARRAY_SIZE(one); i++) {
			bool wr = one[i].flags & VRING_DESC_F_WRITE;
			bool spans = i == ARRAY_SIZE(one) - 1;
			const struct iovec *v = wr ? box->req.wr : box->req.rd;
			u8 *want = one[i].gpa >= H_GPA_BASE + RAM_SIZE ?
				next_region + (one[i].gpa - H_GPA_BASE - RAM_SIZE) :
				h.ram + (one[i].gpa - H_GPA_BASE);

			h_desc(D, i, one[i].gpa, one[i].len, one[i].flags, 0);
			h_avail_put(&h, i);
			expect_ok(wr ? 0 : 1 + spans, wr ? 1 + spans : 0);
			CHECK_EQ(box->req.head, i);
			CHECK(v[0].iov_base == want);
			CHECK_EQ(v[0].iov_len, spans ? 64 : one[i].len);
			if (spans) {
				CHECK(v[1].iov_base == next_region);
				CHECK_EQ(v[1].iov_len, 64);
			}
			CHECK_EQ(wr ? box->req.wr_len : box->req.rd_len, one[i].len);
			CHECK_EQ(wr ? box->req.rd_len : box->req.wr_len, 0);
		}
	}
	teardown();
	free(next_region);
}

/* Case 7: sums of lengths overflowing u32 (needs 2 GiB of address space). */
static void test_case7_len_overflow(void)
{
	const size_t big = 0x80000000ull;
	struct vq_mem_region r = { .gpa = 0x100000000ull, .size = big, .fd = -1 };
	void *p;

	for (int wr = 0; wr < 2; wr++) {
		u16 f = wr ? VRING_DESC_F_WRITE : 0;

		setup(8, 0);
		/* PROT_NONE: the device must never touch the buffers it maps. */
		p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (p == MAP_FAILED) {
			fprintf(stderr, "cannot reserve 2 GiB of address space\n");
			exit(77);
		}
		r.hva = (uintptr_t)p;
		CHECK_EQ(vq_mem_add_region(&h.mem, &r), 0);
		/* 2^31 - 1 + 1 is fine ... */
		h_desc(D, 0, r.gpa, (u32)(big - 1), VRING_DESC_F_NEXT | f, 1);
		h_desc(D, 1, r.gpa, 1, f, 0);
		h_avail_put(&h, 0);
		expect_ok(wr ? 0 : 2, wr ? 2 : 0);
		CHECK_EQ(wr ? box->req.wr_len : box->req.rd_len, big);
		/* ... 2^31 * 2 is not; nor 2^31 + 2^31 - 1 + 1. */
		h_desc(D, 2, r.gpa, (u32)big, VRING_DESC_F_NEXT | f, 3);
		h_desc(D, 3, r.gpa, (u32)big - 1, VRING_DESC_F_NEXT | f, 4);
		h_desc(D, 4, r.gpa, 1, f, 0);
		h_avail_put(&h, 2);
		EXPECT_FAIL(-EOVERFLOW);
		teardown();
		munmap(p, big);
	}

	/* Readable and writable sums are separate: 2^31 + 2^31 across sides is fine. */
	setup(8, 0);
	p = mmap(NULL, big, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	CHECK(p != MAP_FAILED);
	r.hva = (uintptr_t)p;
	CHECK_EQ(vq_mem_add_region(&h.mem, &r), 0);
	h_desc(D, 0, r.gpa, (u32)big, VRING_DESC_F_NEXT, 1);
	h_desc(D, 1, r.gpa, (u32)big, VRING_DESC_F_WRITE, 0);
	h_avail_put(&h, 0);
	expect_ok(1, 1);
	teardown();
	munmap(p, big);
}

/*
 * Case 8: the guest rewrites a descriptor while the device walks it.  Another
 * thread flips a descriptor's length between a good value and one that runs
 * past the end of guest RAM.  Whatever the interleaving, a pop either fails
 * with -EFAULT (it copied the bad length) or returns exactly the good length;
 * an implementation that checked one read and used another would hand out an
 * iovec past the end of RAM.
 */
static volatile int flip_stop;

static void *flipper(void *arg)
{
	volatile le32 *len = arg;

	while (!flip_stop) {
		*len = cpu_to_le32(64);
		*len = cpu_to_le32(0x10000);
	}
	return NULL;
}

static void test_case8_rewrite(void)
{
	u64 addr = H_GPA_BASE + RAM_SIZE - 64;
	unsigned int i, ok = 0, bad = 0;
	pthread_t th;

	setup(8, 0);
	h_desc(D, 3, addr, 64, VRING_DESC_F_WRITE, 0);
	CHECK(pthread_create(&th, NULL, flipper, (void *)&D[3].len) == 0);
	for (i = 0; i < 20000; i++) {
		int r;

		h_avail_put(&h, 3);
		r = vq_pop(&h.dev, &box->req);
		if (r == 1) {
			CHECK_EQ(box->req.nr_wr, 1);
			CHECK_EQ(box->req.wr_len, 64);
			CHECK(box->req.wr[0].iov_base == h.ram + RAM_SIZE - 64);
			CHECK_EQ(box->req.wr[0].iov_len, 64);
			memset(box->req.wr[0].iov_base, 0xcc, 64);
			CHECK_EQ(vq_push(&h.dev, 3, 64), 0);
			ok++;
		} else {
			CHECK_EQ(r, -EFAULT);
			/* Reset the queue, skip the bad entry. */
			u16 base = vq_stop(&h.dev);

			CHECK_EQ(vq_set_base(&h.dev, base + 1), 0);
			CHECK_EQ(vq_start(&h.dev), 0);
			bad++;
		}
		h_check_guards(&h);
	}
	flip_stop = 1;
	pthread_join(th, NULL);
	CHECK_EQ(ok + bad, 20000);
	printf("case 8: %u good, %u rejected\n", ok, bad);

	/* Deterministically: the request is the checked copy, whatever the ring
	 * holds afterwards. */
	h_desc(D, 4, buf_gpa, 100, VRING_DESC_F_NEXT, 5);
	h_desc(D, 5, buf_gpa + 100, 50, VRING_DESC_F_WRITE, 0);
	h_avail_put(&h, 4);
	expect_ok(1, 1);
	h_desc(D, 4, 0, 0xffffffff, VRING_DESC_F_INDIRECT, 0);
	h_desc(D, 5, UINT64_MAX, 0xffffffff, VRING_DESC_F_NEXT, 5);
	CHECK(box->req.rd[0].iov_base == buf && box->req.rd[0].iov_len == 100);
	CHECK(box->req.wr[0].iov_base == buf + 100 && box->req.wr[0].iov_len == 50);
	teardown();
}

/* Case 9: kick before DRIVER_OK: the queue is not started, nothing is read. */
static void test_case9_not_ready(void)
{
	struct vq vq;
	struct req_box *b = req_box_new();

	/* Never configured: the ring pointers are NULL, any access would crash. */
	vq_init(&vq, NULL);
	CHECK_EQ(vq_pop(&vq, &b->req), -ENOTCONN);
	CHECK(!vq_is_broken(&vq));
	CHECK(!vq_has_work(&vq));
	CHECK(!vq_enable_notify(&vq));
	vq_disable_notify(&vq);
	CHECK_EQ(vq_push(&vq, 0, 0), -ENOTCONN);
	CHECK(!vq_should_notify(&vq));
	CHECK_EQ(vq_map_chain(&vq, 0, &b->req), -ENOTCONN);

	/* Configured but not started, then started, then stopped again. */
	setup(8, 0);
	CHECK_EQ(vq_stop(&h.dev), 0);
	h_desc(D, 0, buf_gpa, 8, 0, 0);
	h_avail_put(&h, 0);
	CHECK_EQ(vq_pop(&h.dev, &box->req), -ENOTCONN);
	CHECK(!vq_is_broken(&h.dev));
	CHECK_EQ(vq_start(&h.dev), 0);
	expect_ok(1, 0);
	CHECK_EQ(vq_stop(&h.dev), 1);
	h_avail_put(&h, 0);
	CHECK_EQ(vq_pop(&h.dev, &box->req), -ENOTCONN);
	CHECK(memcmp(used_snapshot, h.drv.used, vq_used_bytes(8)) == 0);
	teardown();
	req_box_check(b);
	free(b);
}

/* Chain shape errors outside the numbered cases. */
static void test_chain_shape(void)
{
	unsigned int i;

	/* Readable after writable. */
	setup(8, 0);
	h_desc(D, 0, buf_gpa, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	h_desc(D, 1, buf_gpa, 8, 0, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-EILSEQ);
	teardown();

	/* VQ_REQ_MAX_IOV readable buffers fit, one more is an error (not a
	 * truncation). */
	setup(512, 0);
	for (i = 0; i < VQ_REQ_MAX_IOV; i++)
		h_desc(D, i, buf_gpa, 1, VRING_DESC_F_NEXT, i + 1);
	h_desc(D, VQ_REQ_MAX_IOV, buf_gpa, 1, VRING_DESC_F_WRITE, 0);
	h_avail_put(&h, 0);
	expect_ok(VQ_REQ_MAX_IOV, 1);
	h_desc(D, VQ_REQ_MAX_IOV, buf_gpa, 1, 0, 0);
	h_avail_put(&h, 0);
	EXPECT_FAIL(-ENOBUFS);
	teardown();
}

int main(void)
{
	test_case1_loop();
	test_case2_index();
	test_case3_avail_idx();
	test_case4_config();
	test_case5_indirect();
	test_case6_bounds();
	test_case7_len_overflow();
	test_case8_rewrite();
	test_case9_not_ready();
	test_chain_shape();
	printf("vq_security: ok\n");
	return 0;
}
