// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the device side of the split ring (virtio/vq.c) and
 * the guest-memory table (virtio/mem.c).
 *
 * Input layout:
 *   [0]     queue size: 1 << (b % 9)  (1..256)
 *   [1]     bit 0 EVENT_IDX, bit 1 INDIRECT_DESC, bit 2 gap between the two
 *           regions (else gpa-adjacent), bit 3 ring addresses from [4..9],
 *           bit 4 rings given as front-end uaddrs (vhost-user style)
 *   [2..3]  size of region A in bytes (le16, clamped to [64, RAM - 64])
 *   [4..9]  desc/avail/used offsets from the RAM base (le16 each) when bit 3
 *   [10..25] 16 operations (see below), each with an argument byte from the
 *           next 16 bytes [26..41]
 *   [42..]  initial content of guest RAM (ring, indirect tables, anything)
 * Guest RAM is two separately malloc'd regions so ASan sees any access past
 * either one.  Every popped request is checked: each iovec lies inside a
 * region, lengths add up, counts within capacity.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <virtio/mem.h>
#include <virtio/vq.h>

#define RAM		(64 * 1024)
#define GPA_A		0x100000ull
#define GAP		0x10000ull
#define NOPS		16
#define HDR		(10 + 2 * NOPS)
#define UADDR_DELTA	0x7f0000000000ull

static struct vq_req req;

static u16 get16(const u8 *p) { return (u16)(p[0] | p[1] << 8); }

static bool in_buf(const void *base, size_t len, const u8 *buf, size_t size)
{
	const u8 *p = base;

	return p >= buf && len <= size && (size_t)(p - buf) <= size - len;
}

static void check_req(const struct vq_req *r, const u8 *a, size_t sa, const u8 *b,
		      size_t sb)
{
	u64 sum = 0;
	unsigned int i;

	if (r->nr_rd > VQ_REQ_MAX_IOV || r->nr_wr > VQ_REQ_MAX_IOV)
		abort();
	for (i = 0; i < r->nr_rd; i++) {
		if (!in_buf(r->rd[i].iov_base, r->rd[i].iov_len, a, sa) &&
		    !in_buf(r->rd[i].iov_base, r->rd[i].iov_len, b, sb))
			abort();
		if (r->rd[i].iov_len == 0)
			abort();
		sum += r->rd[i].iov_len;
	}
	if (sum != r->rd_len)
		abort();
	sum = 0;
	for (i = 0; i < r->nr_wr; i++) {
		if (!in_buf(r->wr[i].iov_base, r->wr[i].iov_len, a, sa) &&
		    !in_buf(r->wr[i].iov_base, r->wr[i].iov_len, b, sb))
			abort();
		/* The device writes its reply: ASan checks the bytes are ours. */
		memset(r->wr[i].iov_base, 0xd5, r->wr[i].iov_len);
		sum += r->wr[i].iov_len;
	}
	if (sum != r->wr_len)
		abort();
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 hdr[HDR] = { 0 };
	struct vq_mem mem;
	struct vq_mem_region ra = { .gpa = GPA_A, .fd = -1 }, rb = { .fd = -1 };
	struct vq_used pend[64];
	unsigned int num, npend = 0, i;
	u64 features = 0, d, av, u;
	size_t sa, sb, rest;
	u8 *a, *b;
	struct vq vq;
	int r0;

	memcpy(hdr, data, size < HDR ? size : HDR);
	num = 1u << (hdr[0] % 9);
	if (hdr[1] & 1)
		features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (hdr[1] & 2)
		features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	sa = get16(hdr + 2);
	if (sa < 64)
		sa = 64;
	if (sa > RAM - 64)
		sa = RAM - 64;
	sb = RAM - sa;
	a = malloc(sa);
	b = malloc(sb);
	if (!a || !b)
		abort();
	memset(a, 0, sa);
	memset(b, 0, sb);
	/* Guest RAM content: the rest of the input, from the start of A. */
	rest = size > HDR ? size - HDR : 0;
	if (rest > RAM)
		rest = RAM;
	memcpy(a, data + HDR, rest < sa ? rest : sa);
	if (rest > sa)
		memcpy(b, data + HDR + sa, rest - sa);

	vq_mem_init(&mem);
	ra.size = sa;
	ra.hva = (uintptr_t)a;
	ra.uaddr = ra.gpa + UADDR_DELTA;
	rb.gpa = GPA_A + sa + ((hdr[1] & 4) ? GAP : 0);
	rb.size = sb;
	rb.hva = (uintptr_t)b;
	rb.uaddr = rb.gpa + UADDR_DELTA;
	if (vq_mem_add_region(&mem, &ra) || vq_mem_add_region(&mem, &rb))
		abort();

	if (hdr[1] & 8) {
		d = GPA_A + get16(hdr + 4);
		av = GPA_A + get16(hdr + 6);
		u = GPA_A + get16(hdr + 8);
	} else {
		/* The usual layout: desc, avail, used (4-aligned) from the base. */
		d = GPA_A;
		av = d + vq_desc_bytes(num);
		u = (av + vq_avail_bytes(num) + 3) & ~3ull;
	}

	vq_init(&vq, &mem);
	if (vq_set_num(&vq, num) || vq_set_features(&vq, features))
		abort();
	if (hdr[1] & 16)
		r0 = vq_set_addr_uaddr(&vq, d + UADDR_DELTA, av + UADDR_DELTA, u + UADDR_DELTA);
	else
		r0 = vq_set_addr(&vq, d, av, u);
	if (r0 || vq_start(&vq))
		goto out;

	for (i = 0; i < NOPS; i++) {
		u8 op = hdr[10 + i], arg = hdr[10 + NOPS + i];
		int r;

		switch (op % 8) {
		case 0:
		case 1:
			r = vq_pop(&vq, &req);
			if (r == 1) {
				check_req(&req, a, sa, b, sb);
				if (op % 8 == 1)
					vq_push(&vq, req.head, req.wr_len);
				else if (npend < ARRAY_SIZE(pend) && npend < num) {
					pend[npend].head = req.head;
					pend[npend].len = req.wr_len;
					npend++;
				}
			} else if (r < 0 && !vq_is_broken(&vq)) {
				abort();
			}
			break;
		case 2:
			vq_push_batch(&vq, pend, npend);
			npend = 0;
			break;
		case 3:
			vq_should_notify(&vq);
			break;
		case 4:
			vq_enable_notify(&vq);
			break;
		case 5:
			vq_disable_notify(&vq);
			break;
		case 6:
			vq_has_work(&vq);
			/* Hints over hostile rings: must read nothing out of bounds. */
			vq_prefetch_bufs(&vq, arg, arg % 16);
			break;
		case 7:
			if (vq_map_chain(&vq, arg % (num + 1), &req) == 1)
				check_req(&req, a, sa, b, sb);
			break;
		}
	}
	/* Drain (bounded: overlapping rings may let our used writes feed it). */
	for (i = 0; i < 2 * num + 2; i++) {
		int r = vq_pop(&vq, &req);

		if (r != 1)
			break;
		check_req(&req, a, sa, b, sb);
		vq_push(&vq, req.head, 0);
	}
	vq_stop(&vq);
out:
	free(a);
	free(b);
	return 0;
}
