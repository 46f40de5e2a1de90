/* SPDX-License-Identifier: MIT */
/*
 * Test harness for the virtqueue unit tests: malloc'd "guest RAM" with guard
 * bytes on both sides, a one-region memory table (gpa != hva, so a mix-up of the
 * two shows), a bump allocator in guest RAM, and helpers that set up the
 * driver side (virtio/vq_drv.c) and the device side (virtio/vq.c) of one queue
 * over it, or let a test write a ring by hand.
 */
#ifndef TESTS_UNIT_VQ_HARNESS_H
#define TESTS_UNIT_VQ_HARNESS_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/mem.h>
#include <virtio/vq.h>
#include <virtio/vq_drv.h>

#include "vq_check.h"

#define H_GPA_BASE	0x40000000ull
#define H_GUARD		4096
#define H_GUARD_BYTE	0xa5

struct harness {
	u8 *raw;		/* guard | ram | guard */
	u8 *ram;
	size_t size;
	size_t brk;		/* bump allocator offset */
	struct vq_mem mem;
	struct vq dev;
	struct vq_drv drv;
	struct vq_drv_slot *slots;
	void *ring;		/* driver ring memory (in guest RAM) */
	unsigned int num;
};

static inline u64 h_gpa(const struct harness *h, const void *p)
{
	return H_GPA_BASE + (u64)((const u8 *)p - h->ram);
}

static inline void *h_hva(const struct harness *h, u64 gpa)
{
	return h->ram + (gpa - H_GPA_BASE);
}

static inline void *h_alloc(struct harness *h, size_t size, size_t align)
{
	size_t off = (h->brk + align - 1) & ~(align - 1);

	CHECK(off + size <= h->size);
	h->brk = off + size;
	return h->ram + off;
}

static inline void h_check_guards(const struct harness *h)
{
	size_t i;

	for (i = 0; i < H_GUARD; i++) {
		CHECK(h->raw[i] == H_GUARD_BYTE);
		CHECK(h->raw[H_GUARD + h->size + i] == H_GUARD_BYTE);
	}
}

/* Guest RAM of @size bytes (page aligned) at H_GPA_BASE, no queue yet. */
static inline void h_mem_init(struct harness *h, size_t size)
{
	struct vq_mem_region r = { .gpa = H_GPA_BASE, .size = size, .fd = -1 };

	memset(h, 0, sizeof(*h));
	CHECK(posix_memalign((void **)&h->raw, 4096, size + 2 * H_GUARD) == 0);
	memset(h->raw, H_GUARD_BYTE, H_GUARD);
	memset(h->raw + H_GUARD + size, H_GUARD_BYTE, H_GUARD);
	h->ram = h->raw + H_GUARD;
	memset(h->ram, 0, size);
	h->size = size;
	r.hva = (uintptr_t)h->ram;
	vq_mem_init(&h->mem);
	CHECK_EQ(vq_mem_add_region(&h->mem, &r), 0);
}

/* Driver side of a @num queue in guest RAM, device side started on it. */
static inline void h_queue_init(struct harness *h, unsigned int num, u64 features)
{
	struct vq_drv_cfg cfg = {
		.num = num,
		.features = features,
		.gpa_offset = H_GPA_BASE - (u64)(uintptr_t)h->ram,
	};

	h->num = num;
	h->ring = h_alloc(h, vq_drv_ring_bytes(num), 4096);
	h->slots = calloc(num, sizeof(*h->slots));
	CHECK(h->slots);
	cfg.ring = h->ring;
	cfg.slots = h->slots;
	CHECK_EQ(vq_drv_init(&h->drv, &cfg), 0);

	vq_init(&h->dev, &h->mem);
	CHECK_EQ(vq_set_num(&h->dev, num), 0);
	CHECK_EQ(vq_set_features(&h->dev, features), 0);
	CHECK_EQ(vq_set_addr(&h->dev, vq_drv_desc_gpa(&h->drv),
			     vq_drv_avail_gpa(&h->drv), vq_drv_used_gpa(&h->drv)), 0);
	CHECK_EQ(vq_start(&h->dev), 0);
}

static inline void h_fini(struct harness *h)
{
	h_check_guards(h);
	free(h->slots);
	free(h->raw);
}

/* --- writing a ring by hand (as a malicious driver would) --------------- */

static inline void h_desc(struct vring_desc *tbl, unsigned int i, u64 addr,
			  u32 len, u16 flags, u16 next)
{
	tbl[i].addr = cpu_to_le64(addr);
	tbl[i].len = cpu_to_le32(len);
	tbl[i].flags = cpu_to_le16(flags);
	tbl[i].next = cpu_to_le16(next);
}

/* Append @head to the avail ring and publish it. */
static inline void h_avail_put(struct harness *h, u16 head)
{
	struct vring_avail *a = h->drv.avail;
	u16 idx = le16_to_cpu(a->idx);

	a->ring[idx & (h->num - 1)] = cpu_to_le16(head);
	__atomic_thread_fence(__ATOMIC_RELEASE);
	a->idx = cpu_to_le16(idx + 1);
}

/* struct vq_req surrounded by canaries: the device must not write past it. */
struct req_box {
	u64 pre;
	struct vq_req req;
	u64 post;
};

static inline struct req_box *req_box_new(void)
{
	struct req_box *b = malloc(sizeof(*b));

	CHECK(b);
	memset(b, 0x5a, sizeof(*b));
	b->pre = 0x1122334455667788ull;
	b->post = 0x8877665544332211ull;
	return b;
}

static inline void req_box_check(const struct req_box *b)
{
	CHECK(b->pre == 0x1122334455667788ull);
	CHECK(b->post == 0x8877665544332211ull);
}

#endif
