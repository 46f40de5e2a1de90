// SPDX-License-Identifier: MIT
/*
 * Guest-memory table: region validation, gpa/uaddr translation with length
 * clipping at region ends, overflow-safe bounds, iovec splitting with a capacity
 * limit (SECURITY.md cases 6 and 13 at this layer).
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <sys/uio.h>

#include <virtio/mem.h>

#include "vq_check.h"

static u8 ram_a[4096], ram_b[8192], ram_c[100];

static void setup(struct vq_mem *m)
{
	struct vq_mem_region a = {
		.gpa = 0x10000, .size = sizeof(ram_a), .hva = (uintptr_t)ram_a,
		.uaddr = 0x7f0000000000, .fd = -1,
	};
	/* b directly follows a in guest-physical space, but not on the host. */
	struct vq_mem_region b = {
		.gpa = 0x11000, .size = sizeof(ram_b), .hva = (uintptr_t)ram_b,
		.uaddr = 0x7f0000100000, .mmap_offset = 4096, .fd = -1,
	};
	/* c sits at the very top of the address space. */
	struct vq_mem_region c = {
		.gpa = UINT64_MAX - sizeof(ram_c), .size = sizeof(ram_c),
		.hva = (uintptr_t)ram_c, .fd = -1,
	};

	vq_mem_init(m);
	CHECK_EQ(vq_mem_add_region(m, &a), 0);
	CHECK_EQ(vq_mem_add_region(m, &b), 0);
	CHECK_EQ(vq_mem_add_region(m, &c), 0);
	CHECK_EQ(m->nr, 3);
}

static void test_add_region(void)
{
	struct vq_mem m;
	struct vq_mem_region r = { .gpa = 0, .size = 4096, .hva = 0x1000, .fd = -1 };
	unsigned int i;

	vq_mem_init(&m);
	r.size = 0;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EINVAL);
	r.size = 4096;
	r.gpa = UINT64_MAX - 100;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EOVERFLOW);
	r.gpa = 0;
	r.hva = UINT64_MAX - 4095;	/* hva + size == 2^64 */
	CHECK_EQ(vq_mem_add_region(&m, &r), -EOVERFLOW);
	r.hva = 0x1000;
	r.uaddr = UINT64_MAX;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EOVERFLOW);
	r.uaddr = 0;
	r.mmap_offset = UINT64_MAX - 10;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EOVERFLOW);
	r.mmap_offset = 0;
	CHECK_EQ(m.nr, 0);

	CHECK_EQ(vq_mem_add_region(&m, &r), 0);
	/* Overlap at the end, the start, and full containment. */
	r.gpa = 4095;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EINVAL);
	r.gpa = 0;
	r.size = 1;
	CHECK_EQ(vq_mem_add_region(&m, &r), -EINVAL);
	r.gpa = 4096;	/* adjacent is fine */
	CHECK_EQ(vq_mem_add_region(&m, &r), 0);
	for (i = 2; i < VQ_MEM_MAX_REGIONS; i++) {
		r.gpa = 0x100000ull * i;
		CHECK_EQ(vq_mem_add_region(&m, &r), 0);
	}
	r.gpa = 0x100000000ull;
	CHECK_EQ(vq_mem_add_region(&m, &r), -E2BIG);
	CHECK_EQ(m.nr, VQ_MEM_MAX_REGIONS);
}

static void test_translate(const struct vq_mem *m)
{
	u64 len;
	u8 *p;

	len = 16;
	p = vq_mem_translate(m, 0x10010, &len);
	CHECK(p == ram_a + 0x10);
	CHECK_EQ(len, 16);

	/* Clipped at the end of region a (b follows in gpa space). */
	len = 0x2000;
	p = vq_mem_translate(m, 0x10ff0, &len);
	CHECK(p == ram_a + 0xff0);
	CHECK_EQ(len, 0x10);

	len = 1;
	CHECK(vq_mem_translate(m, 0x11000, &len) == ram_b);

	/* Below, between and above regions. */
	len = 1;
	CHECK(vq_mem_translate(m, 0xffff, &len) == NULL);
	len = 1;
	CHECK(vq_mem_translate(m, 0x13000, &len) == NULL);
	len = 0;
	CHECK(vq_mem_translate(m, 0x10000, &len) == NULL);

	/* Near 2^64: gpa + len wraps, the length is clipped to the region end. */
	len = UINT64_MAX;
	p = vq_mem_translate(m, UINT64_MAX - 10, &len);
	CHECK(p == ram_c + sizeof(ram_c) - 10);
	CHECK_EQ(len, 10);
	len = 1;
	CHECK(vq_mem_translate(m, UINT64_MAX, &len) == NULL);

	/* uaddr lookups use the uaddr ranges, not the gpa ones. */
	len = 4;
	CHECK(vq_mem_translate_uaddr(m, 0x7f0000100010, &len) == ram_b + 0x10);
	len = 4;
	CHECK(vq_mem_translate_uaddr(m, 0x10000, &len) == NULL);
}

static void test_to_iov(const struct vq_mem *m)
{
	struct iovec iov[4];

	CHECK_EQ(vq_mem_to_iov(m, 0x10000, 0, iov, 4), 0);
	CHECK_EQ(vq_mem_to_iov(m, 0x10100, 0x100, iov, 4), 1);
	CHECK(iov[0].iov_base == ram_a + 0x100 && iov[0].iov_len == 0x100);

	/* Across the a|b boundary: two iovecs, each in its own host buffer. */
	CHECK_EQ(vq_mem_to_iov(m, 0x10f00, 0x200, iov, 4), 2);
	CHECK(iov[0].iov_base == ram_a + 0xf00 && iov[0].iov_len == 0x100);
	CHECK(iov[1].iov_base == ram_b && iov[1].iov_len == 0x100);
	/* ... but not with room for one. */
	CHECK_EQ(vq_mem_to_iov(m, 0x10f00, 0x200, iov, 1), -ENOBUFS);
	CHECK_EQ(vq_mem_to_iov(m, 0x10f00, 0x200, iov, 0), -ENOBUFS);

	/* Past the end of b, wholly outside, wrapping past 2^64. */
	CHECK_EQ(vq_mem_to_iov(m, 0x12f00, 0x200, iov, 4), -EFAULT);
	CHECK_EQ(vq_mem_to_iov(m, 0x20000, 1, iov, 4), -EFAULT);
	CHECK_EQ(vq_mem_to_iov(m, UINT64_MAX - 10, 20, iov, 4), -EFAULT);
	CHECK_EQ(vq_mem_to_iov(m, UINT64_MAX - 10, 10, iov, 4), 1);
	CHECK_EQ(vq_mem_to_iov(m, UINT64_MAX - 10, 11, iov, 4), -EFAULT);
	CHECK_EQ(vq_mem_to_iov(m, UINT64_MAX, UINT32_MAX, iov, 4), -EFAULT);

	CHECK(vq_mem_range_ok(m, 0x10000, 0x3000));
	CHECK(!vq_mem_range_ok(m, 0x10000, 0x3001));
	CHECK(vq_mem_range_ok(m, 0x50000, 0));
	CHECK(!vq_mem_range_ok(m, 0x10000, UINT64_MAX));
	CHECK(!vq_mem_range_ok(m, UINT64_MAX - 10, 12));
}

/* Ring areas for vhost: each whole in one region, event words counted. */
static void test_split_ring(const struct vq_mem *m)
{
	u64 h[3];

	/* 64 entries: desc 1024 bytes, avail 132 (+2), used 516 (+2) */
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x10000, 0x10400, 0x10600, 64, true, h), 0);
	CHECK(h[0] == (uintptr_t)ram_a && h[1] == (uintptr_t)ram_a + 0x400 &&
	      h[2] == (uintptr_t)ram_a + 0x600);
	/* the used ring ends exactly at a's end without event words, 2 bytes over with */
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x10000, 0x10400, 0x11000 - 516, 64, false, h), 0);
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x10000, 0x10400, 0x11000 - 516, 64, true, h),
		 -EFAULT);
	/* contiguous in the guest, split on the host: refused, not half-translated */
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x10e00, 0x11400, 0x11800, 64, false, h), -EFAULT);
	/* unmapped, and a size that wraps past the top of the address space */
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x50000, 0x10400, 0x10600, 64, false, h), -EFAULT);
	CHECK_EQ(vq_mem_split_ring_hvas(m, UINT64_MAX - 50, 0x10400, 0x10600, 4, false, h),
		 -EFAULT);
	CHECK_EQ(vq_mem_split_ring_hvas(m, 0x11000, 0x12000, 0x12800, 32768, false, h),
		 -EFAULT);
}

int main(void)
{
	struct vq_mem m;

	test_add_region();
	setup(&m);
	test_translate(&m);
	test_to_iov(&m);
	test_split_ring(&m);
	printf("mem_table: ok\n");
	return 0;
}
