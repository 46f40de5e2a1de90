// SPDX-License-Identifier: MIT
/*
 * The driver side (virtio/vq_drv.c) and the device side (virtio/vq.c) of a
 * split queue run against each other over malloc'd guest RAM: single and
 * batched requests, the 16-bit indices running past 65535, EVENT_IDX and
 * flag-based kick / interrupt suppression, indirect chains.  Every payload is
 * checked end to end and the guard bytes around guest RAM must survive.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "vq_harness.h"

#define F_EVENT_IDX	(1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_INDIRECT	(1ull << VIRTIO_RING_F_INDIRECT_DESC)

/* One request's buffers in guest RAM: a readable header, a writable reply. */
struct io {
	u8 *out;
	u8 *in;
	u32 out_len, in_len;
	u32 seq;
};

static void io_alloc(struct harness *h, struct io *io, u32 out_len, u32 in_len)
{
	io->out = h_alloc(h, out_len, 8);
	io->in = h_alloc(h, in_len, 8);
	io->out_len = out_len;
	io->in_len = in_len;
}

static int io_add(struct harness *h, struct io *io, u32 seq)
{
	struct vq_drv_sg sg[2] = {
		{ .addr = h_gpa(h, io->out), .len = io->out_len, .write = false },
		{ .addr = h_gpa(h, io->in), .len = io->in_len, .write = true },
	};

	io->seq = seq;
	memset(io->out, 0, io->out_len);
	memcpy(io->out, &seq, sizeof(seq));
	memset(io->in, 0, io->in_len);
	return vq_drv_add(&h->drv, sg, 2, io);
}

/* Device: the request's readable bytes are copied, reversed, to its writable part. */
static u32 serve(const struct vq_req *req)
{
	u8 buf[256];
	u32 n = 0, i, w = 0;
	unsigned int k;

	for (k = 0; k < req->nr_rd; k++) {
		CHECK(n + req->rd[k].iov_len <= sizeof(buf));
		memcpy(buf + n, req->rd[k].iov_base, req->rd[k].iov_len);
		n += req->rd[k].iov_len;
	}
	CHECK_EQ(n, req->rd_len);
	for (k = 0; k < req->nr_wr && w < n; k++) {
		u8 *p = req->wr[k].iov_base;

		for (i = 0; i < req->wr[k].iov_len && w < n; i++, w++)
			p[i] = buf[n - 1 - w];
	}
	return w;
}

static void check_reply(const struct io *io, u32 len)
{
	u32 i;

	CHECK_EQ(len, io->out_len < io->in_len ? io->out_len : io->in_len);
	for (i = 0; i < len; i++)
		CHECK_EQ(io->in[i], io->out[io->out_len - 1 - i]);
	CHECK(memcmp(io->out, &io->seq, sizeof(io->seq)) == 0);
}

static void test_single(void)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct io io;
	void *tok;
	u32 len;
	int head;

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 16, 0);
	io_alloc(&h, &io, 24, 64);

	CHECK_EQ(vq_pop(&h.dev, &b->req), 0);
	CHECK(!vq_has_work(&h.dev));
	head = io_add(&h, &io, 7);
	CHECK(head >= 0);
	CHECK_EQ(vq_drv_num_free(&h.drv), 14);
	/* Staged but not published: the device sees nothing yet. */
	CHECK_EQ(vq_pop(&h.dev, &b->req), 0);
	CHECK(vq_drv_kick_prepare(&h.drv));
	CHECK(vq_has_work(&h.dev));
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	req_box_check(b);
	CHECK_EQ(b->req.head, head);
	CHECK_EQ(b->req.nr_rd, 1);
	CHECK_EQ(b->req.nr_wr, 1);
	CHECK(b->req.rd[0].iov_base == io.out && b->req.rd[0].iov_len == 24);
	CHECK(b->req.wr[0].iov_base == io.in && b->req.wr[0].iov_len == 64);
	CHECK_EQ(b->req.rd_len, 24);
	CHECK_EQ(b->req.wr_len, 64);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 0);

	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 0);
	CHECK_EQ(vq_push(&h.dev, b->req.head, serve(&b->req)), 0);
	CHECK(vq_should_notify(&h.dev));
	CHECK(!vq_should_notify(&h.dev));	/* nothing new pushed */
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK(tok == &io);
	check_reply(&io, len);
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 0);
	CHECK_EQ(vq_drv_num_free(&h.drv), 16);

	/* Fill the ring completely, then one more does not fit. */
	{
		struct io many[17];
		int i;

		for (i = 0; i < 8; i++) {
			io_alloc(&h, &many[i], 8, 8);
			CHECK(io_add(&h, &many[i], 100 + i) >= 0);
		}
		io_alloc(&h, &many[8], 8, 8);
		CHECK_EQ(io_add(&h, &many[8], 0), -ENOSPC);
		vq_drv_kick_prepare(&h.drv);
		for (i = 0; i < 8; i++) {
			CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
			CHECK_EQ(vq_push(&h.dev, b->req.head, serve(&b->req)), 0);
		}
		for (i = 0; i < 8; i++) {
			CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
			CHECK(tok == &many[i]);
			check_reply(&many[i], len);
		}
	}
	CHECK(!vq_is_broken(&h.dev));
	req_box_check(b);
	free(b);
	h_fini(&h);
}

/*
 * Batches of varying size, completed out of order with vq_push_batch, for
 * more than 2^16 requests on a small ring so every u16 index wraps (several
 * times for num = 4).
 */
static void run_batches(unsigned int num, u64 features, unsigned long total)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct io *io;
	struct vq_used used[64];
	unsigned long done = 0, seq = 0;
	unsigned int i, cap = num / 2;	/* chains of two descriptors */

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, num, features);
	io = calloc(cap, sizeof(*io));
	CHECK(io);
	for (i = 0; i < cap; i++)
		io_alloc(&h, &io[i], 16, 16);

	while (done < total) {
		unsigned int batch = 1 + (seq * 7 + done) % cap, n = 0;
		void *tok;
		u32 len;

		/* io[k] is free while its slot is not in flight: add a batch. */
		for (i = 0; i < batch; i++) {
			struct io *x = &io[(seq + i) % cap];

			CHECK(io_add(&h, x, (u32)(seq + i)) >= 0);
		}
		seq += batch;
		vq_drv_kick_prepare(&h.drv);
		while (vq_pop(&h.dev, &b->req) == 1) {
			CHECK(n < ARRAY_SIZE(used));
			used[n].head = b->req.head;
			used[n].len = serve(&b->req);
			n++;
		}
		CHECK_EQ(n, batch);
		/* Complete in reverse order. */
		for (i = 0; i < n / 2; i++) {
			struct vq_used t = used[i];

			used[i] = used[n - 1 - i];
			used[n - 1 - i] = t;
		}
		if (n == 1)
			CHECK_EQ(vq_push(&h.dev, used[0].head, used[0].len), 0);
		else
			CHECK_EQ(vq_push_batch(&h.dev, used, n), 0);
		for (i = 0; i < n; i++) {
			struct io *x;

			CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
			x = tok;
			check_reply(x, len);
		}
		CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 0);
		CHECK_EQ(vq_drv_num_free(&h.drv), num);
		done += n;
	}
	CHECK(done > 65536 * 2);
	CHECK(!vq_is_broken(&h.dev));
	CHECK(!h.drv.broken);
	CHECK_EQ(h.dev.last_avail_idx, (u16)done);
	CHECK_EQ(h.drv.last_used_idx, (u16)done);
	req_box_check(b);
	free(b);
	free(io);
	h_fini(&h);
}

static void test_wrap(void)
{
	run_batches(4, 0, 140000);
	run_batches(32, F_EVENT_IDX, 140000);
	run_batches(64, F_EVENT_IDX | F_INDIRECT, 140000);
}

/* Guest -> device kicks and device -> guest interrupts, with EVENT_IDX. */
static void test_event_idx(void)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct io io[8];
	void *tok;
	u32 len;
	int i;

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 16, F_EVENT_IDX);	/* 2 descriptors per chain */
	for (i = 0; i < 8; i++)
		io_alloc(&h, &io[i], 8, 8);

	/* Fresh queue: the device wants a kick for the first request. */
	io_add(&h, &io[0], 0);
	CHECK(vq_drv_kick_prepare(&h.drv));
	/* Nothing new staged: no kick. */
	CHECK(!vq_drv_kick_prepare(&h.drv));
	/* The device has not consumed entry 0 yet: adding entry 1 does not
	 * cross avail_event (still 0), so no second kick. */
	io_add(&h, &io[1], 1);
	CHECK(!vq_drv_kick_prepare(&h.drv));

	/* Device polls: disables kicks, drains. */
	vq_disable_notify(&h.dev);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	io_add(&h, &io[2], 2);
	CHECK(!vq_drv_kick_prepare(&h.drv));
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 0);
	io_add(&h, &io[3], 3);
	CHECK(!vq_drv_kick_prepare(&h.drv));	/* still polling */
	/* Re-enabling finds the unseen entry 3: keep processing, don't sleep. */
	CHECK(vq_enable_notify(&h.dev));
	vq_disable_notify(&h.dev);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 0);
	CHECK(!vq_enable_notify(&h.dev));	/* empty: safe to sleep */
	io_add(&h, &io[4], 4);
	CHECK(vq_drv_kick_prepare(&h.drv));	/* ... and the driver kicks */
	/* Notifications stay enabled; pop advances avail_event itself. */
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	io_add(&h, &io[5], 5);
	CHECK(vq_drv_kick_prepare(&h.drv));

	/* Interrupts.  Five chains popped (heads 0, 2, 4, 6, 8), complete 0 and 2. */
	CHECK_EQ(vq_push(&h.dev, 0, 0), 0);
	CHECK(vq_should_notify(&h.dev));	/* first one after start */
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);	/* used_event = 1 */
	CHECK_EQ(vq_push(&h.dev, 2, 0), 0);
	CHECK(vq_should_notify(&h.dev));	/* crossed used_event 1 */
	/* The driver has not reaped entry 1 (used_event still 1): no new IRQ. */
	CHECK_EQ(vq_push(&h.dev, 4, 0), 0);
	CHECK(!vq_should_notify(&h.dev));
	/* Driver polls with interrupts off: nothing the device does signals. */
	vq_drv_disable_cb(&h.drv);
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK_EQ(vq_push(&h.dev, 6, 0), 0);
	CHECK(!vq_should_notify(&h.dev));
	/* Re-enabling with entry 3 pending: reap first, do not sleep. */
	CHECK(vq_drv_enable_cb(&h.drv));
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK(!vq_drv_enable_cb(&h.drv));
	CHECK_EQ(vq_push(&h.dev, 8, 0), 0);
	CHECK(vq_should_notify(&h.dev));
	CHECK(!vq_should_notify(&h.dev));
	CHECK(!vq_is_broken(&h.dev));
	free(b);
	h_fini(&h);
}

/* The same without EVENT_IDX: VRING_USED_F_NO_NOTIFY / VRING_AVAIL_F_NO_INTERRUPT. */
static void test_flags(void)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct io io[4];
	void *tok;
	u32 len;
	int i;

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 8, 0);
	for (i = 0; i < 4; i++)
		io_alloc(&h, &io[i], 8, 8);

	io_add(&h, &io[0], 0);
	CHECK(vq_drv_kick_prepare(&h.drv));
	vq_disable_notify(&h.dev);
	CHECK(le16_to_cpu(h.drv.used->flags) & VRING_USED_F_NO_NOTIFY);
	io_add(&h, &io[1], 1);
	CHECK(!vq_drv_kick_prepare(&h.drv));
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK(!vq_enable_notify(&h.dev));
	CHECK_EQ(le16_to_cpu(h.drv.used->flags), 0);
	io_add(&h, &io[2], 2);
	CHECK(vq_drv_kick_prepare(&h.drv));
	CHECK(vq_enable_notify(&h.dev));	/* entry 2 pending */

	CHECK_EQ(vq_push(&h.dev, 0, 0), 0);
	CHECK(vq_should_notify(&h.dev));
	vq_drv_disable_cb(&h.drv);
	CHECK(le16_to_cpu(h.drv.avail->flags) & VRING_AVAIL_F_NO_INTERRUPT);
	CHECK_EQ(vq_push(&h.dev, 2, 0), 0);
	CHECK(!vq_should_notify(&h.dev));
	CHECK(vq_drv_enable_cb(&h.drv));	/* two pending */
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK(!vq_drv_enable_cb(&h.drv));
	CHECK_EQ(vq_push(&h.dev, 4, 0), 0);
	CHECK(vq_should_notify(&h.dev));
	free(b);
	h_fini(&h);
}

static void test_indirect(void)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct vring_desc *table;
	struct vq_drv_sg sg[5];
	u8 *buf[5];
	void *tok;
	u32 len;
	int head, i;

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 8, F_INDIRECT);
	/* Odd placement on purpose: tables need not be 16-aligned. */
	table = (struct vring_desc *)((u8 *)h_alloc(&h, 5 * 16 + 8, 8) + 8);
	for (i = 0; i < 5; i++) {
		buf[i] = h_alloc(&h, 100 + i, 1);
		sg[i].addr = h_gpa(&h, buf[i]);
		sg[i].len = 100 + i;
		sg[i].write = i >= 3;
		memset(buf[i], i, 100 + i);
	}
	head = vq_drv_add_indirect(&h.drv, sg, 5, table, buf);
	CHECK(head >= 0);
	CHECK_EQ(vq_drv_num_free(&h.drv), 7);
	/* A direct chain next to it. */
	CHECK(vq_drv_add(&h.drv, sg, 2, buf[0]) >= 0);
	vq_drv_kick_prepare(&h.drv);

	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(b->req.head, head);
	CHECK_EQ(b->req.nr_rd, 3);
	CHECK_EQ(b->req.nr_wr, 2);
	CHECK_EQ(b->req.rd_len, 100 + 101 + 102);
	CHECK_EQ(b->req.wr_len, 103 + 104);
	for (i = 0; i < 3; i++)
		CHECK(b->req.rd[i].iov_base == buf[i] && b->req.rd[i].iov_len == 100u + i);
	for (i = 0; i < 2; i++)
		CHECK(b->req.wr[i].iov_base == buf[3 + i] && b->req.wr[i].iov_len == 103u + i);
	memset(b->req.wr[1].iov_base, 0xee, b->req.wr[1].iov_len);
	CHECK_EQ(vq_push(&h.dev, b->req.head, 207), 0);
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(b->req.nr_rd, 2);
	CHECK_EQ(vq_push(&h.dev, b->req.head, 0), 0);

	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK(tok == buf);
	CHECK_EQ(len, 207);
	CHECK_EQ(buf[4][0], 0xee);
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK_EQ(vq_drv_num_free(&h.drv), 8);

	/* Driver-side argument checks. */
	CHECK_EQ(vq_drv_add_indirect(&h.drv, sg, 9, table, buf), -EINVAL);	/* > num */
	CHECK_EQ(vq_drv_add_indirect(&h.drv, sg, 0, table, buf), -EINVAL);
	sg[0].write = true;
	CHECK_EQ(vq_drv_add(&h.drv, sg, 2, buf), -EINVAL);	/* readable after writable */
	CHECK_EQ(vq_drv_add(&h.drv, sg, 1, NULL), -EINVAL);
	req_box_check(b);
	free(b);
	h_fini(&h);

	/* Without the feature the driver refuses. */
	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 8, 0);
	CHECK_EQ(vq_drv_add_indirect(&h.drv, sg, 1, (struct vring_desc *)h.ram, buf), -EINVAL);
	h_fini(&h);
}

/* The driver side against a hostile device (SECURITY.md cases 2 and 3, used ring). */
static void test_drv_hostile_device(void)
{
	struct harness h;
	struct io io[2];
	void *tok;
	u32 len;

	for (int c = 0; c < 3; c++) {
		h_mem_init(&h, 1 << 20);
		h_queue_init(&h, 8, 0);
		io_alloc(&h, &io[0], 8, 8);
		io_alloc(&h, &io[1], 8, 8);
		io_add(&h, &io[0], 0);
		io_add(&h, &io[1], 1);
		vq_drv_kick_prepare(&h.drv);
		switch (c) {
		case 0:	/* used id out of range */
			h.drv.used->ring[0].id = cpu_to_le32(8);
			h.drv.used->idx = cpu_to_le16(1);
			CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), -ERANGE);
			break;
		case 1:	/* used->idx ahead of what is in flight */
			h.drv.used->idx = cpu_to_le16(3);
			CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), -EPROTO);
			break;
		case 2:	/* id valid but not a chain head in flight (1 is a tail) */
			h.drv.used->ring[0].id = cpu_to_le32(1);
			h.drv.used->idx = cpu_to_le16(1);
			CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), -EINVAL);
			break;
		}
		CHECK(h.drv.broken);
		CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), -EIO);
		CHECK_EQ(io_add(&h, &io[0], 0), -EIO);
		h_fini(&h);
	}
}

/* Reaping after a device reset: every in-flight token comes back once. */
static void test_detach(void)
{
	struct harness h;
	struct req_box *b = req_box_new();
	struct io io[4];
	bool seen[4] = { false };
	void *tok;
	u32 len;
	int i;

	h_mem_init(&h, 1 << 20);
	h_queue_init(&h, 8, 0);
	for (i = 0; i < 4; i++) {
		io_alloc(&h, &io[i], 8, 8);
		CHECK(io_add(&h, &io[i], i) >= 0);
	}
	CHECK_EQ(vq_drv_num_free(&h.drv), 0);
	vq_drv_kick_prepare(&h.drv);
	CHECK(!vq_drv_has_used(&h.drv));
	CHECK_EQ(vq_pop(&h.dev, &b->req), 1);
	CHECK_EQ(vq_push(&h.dev, b->req.head, 0), 0);
	CHECK(vq_drv_has_used(&h.drv));
	CHECK_EQ(vq_drv_get_used(&h.drv, &tok, &len), 1);
	CHECK(tok == &io[0]);
	CHECK(!vq_drv_has_used(&h.drv));
	seen[0] = true;
	while ((tok = vq_drv_detach_unused(&h.drv))) {
		i = (struct io *)tok - io;
		CHECK(i >= 0 && i < 4 && !seen[i]);
		seen[i] = true;
	}
	for (i = 0; i < 4; i++)
		CHECK(seen[i]);
	CHECK_EQ(vq_drv_num_free(&h.drv), 8);
	free(b);
	h_fini(&h);
}

int main(void)
{
	test_single();
	test_wrap();
	test_event_idx();
	test_flags();
	test_indirect();
	test_drv_hostile_device();
	test_detach();
	printf("vq_ring: ok\n");
	return 0;
}
