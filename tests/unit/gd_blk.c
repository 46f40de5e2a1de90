// SPDX-License-Identifier: MIT
/*
 * guest-drivers' virtio core and virtio-blk driver against the device side of
 * the split ring (virtio/vq.c), in one process: a fake transport whose
 * notify() runs a RAM-disk virtio-blk device synchronously (or defers it), so
 * every request crosses a real ring with real validation on both sides.
 * Also a hostile device (bad status byte, short used length, a used id that
 * was never submitted) and the init sequence's failure paths.
 */
#include <errno.h>
#include <string.h>

#include <guest-drivers/blk.h>
#include <guest-drivers/platform.h>
#include <guest-drivers/virtio_user.h>
#include <virtio/vq.h>

#include "vq_check.h"

#define DISK_SECTORS	2048	/* 1 MiB */

struct fake {
	struct gd_virtio_transport t;
	u64 dev_features, drv_features;
	u8 status;
	bool refuse_features;	/* clear FEATURES_OK */
	bool needs_reset_on_ok;	/* set NEEDS_RESET at DRIVER_OK */
	bool deferred;		/* notify only counts; fake_run() processes */
	int evil;		/* 1 bad status, 2 short len, 3 bogus used id */
	bool ro;
	unsigned int qmax;
	unsigned int num;
	u64 desc, avail, used;
	u16 vector;
	bool enabled;
	struct vq_mem mem;
	struct vq vq;
	struct vq_req req;
	u8 disk[DISK_SECTORS * 512];
	u64 notifies, irqs;
	u32 types_seen[16];
	struct virtio_blk_discard_write_zeroes last_seg;
};

static struct fake *to_fake(struct gd_virtio_transport *t)
{
	return container_of(t, struct fake, t);
}

static u64 f_get_features(struct gd_virtio_transport *t) { return to_fake(t)->dev_features; }
static void f_set_features(struct gd_virtio_transport *t, u64 f) { to_fake(t)->drv_features = f; }
static u8 f_get_status(struct gd_virtio_transport *t) { return to_fake(t)->status; }
static unsigned int f_num_queues(struct gd_virtio_transport *t) { (void)t; return 1; }

static void f_set_status(struct gd_virtio_transport *t, u8 s)
{
	struct fake *f = to_fake(t);

	if (s == 0) {
		f->status = 0;
		f->enabled = false;
		if (vq_is_started(&f->vq))
			vq_stop(&f->vq);
		return;
	}
	if ((s & VIRTIO_CONFIG_S_FEATURES_OK) && f->refuse_features)
		s &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	if ((s & VIRTIO_CONFIG_S_DRIVER_OK) && !(f->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (f->needs_reset_on_ok) {
			s |= VIRTIO_CONFIG_S_NEEDS_RESET;
		} else {
			CHECK(f->enabled);
			vq_init(&f->vq, &f->mem);
			CHECK_EQ(vq_set_num(&f->vq, f->num), 0);
			CHECK_EQ(vq_set_features(&f->vq, f->drv_features), 0);
			CHECK_EQ(vq_set_addr(&f->vq, f->desc, f->avail, f->used), 0);
			CHECK_EQ(vq_start(&f->vq), 0);
		}
	}
	f->status = s | (f->status & VIRTIO_CONFIG_S_NEEDS_RESET);	/* device-owned */
}

static unsigned int f_queue_max_size(struct gd_virtio_transport *t, unsigned int q)
{
	return q == 0 ? to_fake(t)->qmax : 0;
}

static int f_queue_setup(struct gd_virtio_transport *t, unsigned int q, unsigned int num,
			 u64 desc, u64 avail, u64 used, u16 vector)
{
	struct fake *f = to_fake(t);

	CHECK_EQ(q, 0);
	CHECK(!(f->status & VIRTIO_CONFIG_S_DRIVER_OK));
	CHECK(f->status & VIRTIO_CONFIG_S_FEATURES_OK);
	f->num = num;
	f->desc = desc;
	f->avail = avail;
	f->used = used;
	f->vector = vector;
	return 0;
}

static int f_queue_enable(struct gd_virtio_transport *t, unsigned int q)
{
	CHECK_EQ(q, 0);
	to_fake(t)->enabled = true;
	return 0;
}

/* Execute every available request. */
static void fake_run(struct fake *f)
{
	int r;

	while ((r = vq_pop(&f->vq, &f->req)) > 0) {
		struct vq_req *q = &f->req;
		struct virtio_blk_outhdr h;
		u8 st = VIRTIO_BLK_S_OK;
		u32 wlen = 0;
		u8 *status;

		CHECK(q->nr_rd >= 1 && q->rd[0].iov_len == sizeof(h));
		CHECK(q->nr_wr >= 1);
		memcpy(&h, q->rd[0].iov_base, sizeof(h));
		status = (u8 *)q->wr[q->nr_wr - 1].iov_base + q->wr[q->nr_wr - 1].iov_len - 1;
		u32 type = le32_to_cpu(h.type);
		u64 sector = le64_to_cpu(h.sector);

		f->types_seen[type & 15]++;
		switch (type) {
		case VIRTIO_BLK_T_IN:
			CHECK_EQ(q->nr_wr, 2);
			if (sector * 512 + q->wr[0].iov_len > sizeof(f->disk)) {
				st = VIRTIO_BLK_S_IOERR;
				break;
			}
			memcpy(q->wr[0].iov_base, f->disk + sector * 512, q->wr[0].iov_len);
			wlen = (u32)q->wr[0].iov_len;
			break;
		case VIRTIO_BLK_T_OUT:
			CHECK_EQ(q->nr_rd, 2);
			if (f->ro || sector * 512 + q->rd[1].iov_len > sizeof(f->disk)) {
				st = VIRTIO_BLK_S_IOERR;
				break;
			}
			memcpy(f->disk + sector * 512, q->rd[1].iov_base, q->rd[1].iov_len);
			break;
		case VIRTIO_BLK_T_FLUSH:
			CHECK_EQ(q->nr_rd, 1);
			break;
		case VIRTIO_BLK_T_GET_ID:
			CHECK_EQ(q->wr[0].iov_len, VIRTIO_BLK_ID_BYTES);
			memcpy(q->wr[0].iov_base, "fake-disk-0123456789", 20);
			wlen = 20;
			break;
		case VIRTIO_BLK_T_DISCARD:
		case VIRTIO_BLK_T_WRITE_ZEROES:
			CHECK_EQ(q->rd[1].iov_len, sizeof(f->last_seg));
			memcpy(&f->last_seg, q->rd[1].iov_base, sizeof(f->last_seg));
			if (type == VIRTIO_BLK_T_WRITE_ZEROES)
				memset(f->disk + le64_to_cpu(f->last_seg.sector) * 512, 0,
				       le32_to_cpu(f->last_seg.num_sectors) * 512ull);
			break;
		default:
			st = VIRTIO_BLK_S_UNSUPP;
		}
		if (f->evil == 1)
			st = 7;
		if (f->evil == 2 && type == VIRTIO_BLK_T_IN)
			wlen = 100;
		*status = st;
		CHECK_EQ(vq_push(&f->vq, f->evil == 3 ? (u16)(q->head ^ 1) : q->head,
				 wlen + 1), 0);
	}
	CHECK_EQ(r, 0);
	if (vq_should_notify(&f->vq))
		f->irqs++;
}

static void f_notify(struct gd_virtio_transport *t, unsigned int q)
{
	struct fake *f = to_fake(t);

	CHECK_EQ(q, 0);
	f->notifies++;
	if (!f->deferred)
		fake_run(f);
}

static int f_config_read(struct gd_virtio_transport *t, u32 off, void *buf, u32 len)
{
	struct virtio_blk_config c;

	(void)t;
	memset(&c, 0, sizeof(c));
	c.capacity = cpu_to_le64(DISK_SECTORS);
	c.blk_size = cpu_to_le32(4096);
	CHECK(off + len <= sizeof(c));
	memcpy(buf, (u8 *)&c + off, len);
	return 0;
}

static int f_config_write(struct gd_virtio_transport *t, u32 off, const void *b, u32 len)
{
	(void)t; (void)off; (void)b; (void)len;
	return -EOPNOTSUPP;
}

static u8 f_isr_read(struct gd_virtio_transport *t) { (void)t; return 0; }
static u64 f_irq_count(struct gd_virtio_transport *t, unsigned int q)
{
	(void)q;
	return to_fake(t)->irqs;
}

/* Sleeping on the "interrupt": the device finishes deferred work then. */
static void f_irq_wait(struct gd_virtio_transport *t, unsigned int q, u64 seen)
{
	struct fake *f = to_fake(t);

	(void)q;
	if (f->irqs == seen)
		fake_run(f);
	CHECK(f->irqs != seen);	/* a wait that would sleep forever is a bug */
}

static const struct gd_virtio_transport_ops fake_ops = {
	.name = "fake",
	.get_features = f_get_features, .set_features = f_set_features,
	.get_status = f_get_status, .set_status = f_set_status,
	.num_queues = f_num_queues, .queue_max_size = f_queue_max_size,
	.queue_setup = f_queue_setup, .queue_enable = f_queue_enable,
	.notify = f_notify, .config_read = f_config_read,
	.config_write = f_config_write, .isr_read = f_isr_read,
	.irq_count = f_irq_count, .irq_wait = f_irq_wait,
};

#define ALL_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_INDIRECT_DESC) | \
		      (1ull << VIRTIO_RING_F_EVENT_IDX) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | \
		      (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_BLK_F_DISCARD) | \
		      (1ull << VIRTIO_BLK_F_WRITE_ZEROES) | (1ull << VIRTIO_BLK_F_MQ))

static struct fake *fake_new(u64 features)
{
	struct fake *f = calloc(1, sizeof(*f));
	struct vq_mem_region r;
	void *base;
	size_t size;
	int fd;

	CHECK(f);
	f->t.ops = &fake_ops;
	f->dev_features = features;
	f->qmax = 64;
	gd_vu_mem_get(&fd, &base, &size);
	vq_mem_init(&f->mem);
	r = (struct vq_mem_region){ .gpa = 0, .size = size, .hva = (u64)(uintptr_t)base,
				    .fd = -1 };
	CHECK_EQ(vq_mem_add_region(&f->mem, &r), 0);
	for (unsigned int i = 0; i < sizeof(f->disk); i++)
		f->disk[i] = (u8)(i * 7 + i / 512);
	return f;
}

static u8 *dma(size_t n)
{
	u8 *p = gd_alloc(n, 4096);

	CHECK(p);
	return p;
}

static void test_init_and_io(u64 features, bool poll)
{
	struct fake *f = fake_new(features);
	struct gd_blk b;
	struct gd_blk_done d[64];
	u8 *buf = dma(8192), *buf2 = dma(8192);
	struct gd_blk_io io;
	int n;

	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), 0);
	CHECK_EQ(b.capacity, DISK_SECTORS);
	CHECK_EQ(b.blk_size, 4096);
	CHECK(f->status & VIRTIO_CONFIG_S_DRIVER_OK);
	/* Never more than offered and wanted: MQ is offered but not wanted. */
	CHECK_EQ(f->drv_features & ~features, 0);
	CHECK(!(f->drv_features & (1ull << VIRTIO_BLK_F_MQ)));
	CHECK(f->drv_features & (1ull << VIRTIO_F_VERSION_1));
	CHECK_EQ(f->num, 64);
	CHECK_EQ(f->vector, 1);
	CHECK_EQ(b.depth, (features & (1ull << VIRTIO_RING_F_INDIRECT_DESC)) ? 64 : 21);
	gd_blk_set_poll(&b, poll);

	/* write 2 sectors, read them back */
	memset(buf, 0x3c, 1024);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_OUT, .sector = 10, .buf = buf,
				 .len = 1024 };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK(f->disk[10 * 512] == 0x3c && f->disk[12 * 512 - 1] == 0x3c);
	CHECK(f->disk[12 * 512] != 0x3c || f->disk[12 * 512 + 1] != 0x3c);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .sector = 9, .buf = buf2,
				 .len = 2048 };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(buf2, f->disk + 9 * 512, 2048));
	CHECK(buf2[512] == 0x3c);

	/* FLUSH, GET_ID, DISCARD, WRITE_ZEROES reach the device as such */
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_FLUSH };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK_EQ(f->types_seen[VIRTIO_BLK_T_FLUSH], 1);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_GET_ID, .buf = buf2, .len = 20 };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(buf2, "fake-disk-0123456789", 20));
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_DISCARD, .sector = 100, .len = 4096 };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK_EQ(le64_to_cpu(f->last_seg.sector), 100);
	CHECK_EQ(le32_to_cpu(f->last_seg.num_sectors), 8);
	CHECK_EQ(le32_to_cpu(f->last_seg.flags), 0);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_WRITE_ZEROES, .sector = 10, .len = 512,
				 .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK_EQ(le32_to_cpu(f->last_seg.flags), VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	CHECK(f->disk[10 * 512] == 0 && f->disk[11 * 512] == 0x3c);

	/* bad requests never reach the device */
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .sector = DISK_SECTORS - 1,
				 .buf = buf, .len = 1024 };
	CHECK_EQ(gd_blk_submit(&b, &io), -EINVAL);
	io.sector = ~0ull;
	io.len = 512;
	CHECK_EQ(gd_blk_submit(&b, &io), -EINVAL);
	io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_OUT, .buf = buf, .len = 100 };
	CHECK_EQ(gd_blk_submit(&b, &io), -EINVAL);
	io = (struct gd_blk_io){ .type = 99, .buf = buf, .len = 512 };
	CHECK_EQ(gd_blk_submit(&b, &io), -EINVAL);
	{
		/* buffers the device cannot reach: heap memory, or running off the end */
		static u8 heap_buf[512];
		void *base;
		size_t size;
		int fd;

		gd_vu_mem_get(&fd, &base, &size);
		io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .buf = heap_buf, .len = 512 };
		CHECK_EQ(gd_blk_submit(&b, &io), -EFAULT);
		io.buf = (u8 *)base + size - 512;
		io.len = 1024;
		CHECK_EQ(gd_blk_submit(&b, &io), -EFAULT);
		io.len = 512;
		CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);	/* the last sector is fine */
	}
	CHECK_EQ(b.inflight, 0);

	/* a full queue: depth requests, one kick, one notify at most, all complete */
	f->deferred = true;
	u64 nb = f->notifies;
	for (unsigned int i = 0; i < b.depth; i++) {
		io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .sector = i, .buf = dma(512),
					 .len = 512, .cookie = (void *)(uintptr_t)(i + 1) };
		CHECK_EQ(gd_blk_submit(&b, &io), 0);
	}
	CHECK_EQ(gd_blk_submit(&b, &io), -EAGAIN);
	CHECK_EQ(f->notifies, nb);		/* nothing published before the kick */
	CHECK(gd_blk_kick(&b));
	CHECK_EQ(f->notifies, nb + 1);
	CHECK(!gd_blk_kick(&b));		/* nothing new: no notify */
	CHECK_EQ(gd_blk_reap(&b, d, 64), 0);
	if (poll) {
		u64 irq0 = f->irqs;

		fake_run(f);
		CHECK_EQ(f->irqs, irq0);	/* interrupts suppressed */
	} else {
		CHECK_EQ(gd_blk_wait(&b), 0);	/* runs the device, which interrupts */
	}
	n = gd_blk_reap(&b, d, 64);
	CHECK_EQ(n, (int)b.depth);
	u64 seen = 0;
	for (int i = 0; i < n; i++) {
		CHECK_EQ(d[i].status, VIRTIO_BLK_S_OK);
		CHECK_EQ(d[i].len, 513);
		seen |= 1ull << ((uintptr_t)d[i].cookie - 1);
	}
	CHECK_EQ(seen, b.depth == 64 ? ~0ull : (1ull << b.depth) - 1);
	CHECK_EQ(b.inflight, 0);
	f->deferred = false;
	if (!poll) {
		/* interrupt mode, work already done: wait returns at once */
		io = (struct gd_blk_io){ .type = VIRTIO_BLK_T_IN, .buf = buf, .len = 512 };
		CHECK_EQ(gd_blk_submit(&b, &io), 0);
		gd_blk_kick(&b);
		CHECK_EQ(gd_blk_wait(&b), 0);
		CHECK_EQ(gd_blk_reap(&b, d, 64), 1);
	}
	CHECK(!vq_is_broken(&f->vq));
	gd_virtio_reset(&b.vdev);
	CHECK_EQ(f->status, 0);
	gd_blk_destroy(&b);
	free(f);
}

static void test_readonly(void)
{
	struct fake *f = fake_new(ALL_FEATURES | (1ull << VIRTIO_BLK_F_RO));
	struct gd_blk b;
	struct gd_blk_io io = { .type = VIRTIO_BLK_T_OUT, .buf = dma(512), .len = 512 };

	f->ro = true;
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), 0);
	CHECK(b.ro);
	CHECK_EQ(gd_blk_submit(&b, &io), -EROFS);
	io.type = VIRTIO_BLK_T_DISCARD;
	CHECK_EQ(gd_blk_submit(&b, &io), -EROFS);
	io.type = VIRTIO_BLK_T_IN;
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	gd_blk_destroy(&b);
	free(f);
}

static void test_init_failures(void)
{
	struct fake *f;
	struct gd_blk b;

	/* legacy-only device */
	f = fake_new(ALL_FEATURES & ~(1ull << VIRTIO_F_VERSION_1));
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), -ENODEV);
	CHECK(f->status & VIRTIO_CONFIG_S_FAILED);
	gd_blk_destroy(&b);
	free(f);
	/* FEATURES_OK refused */
	f = fake_new(ALL_FEATURES);
	f->refuse_features = true;
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), -EOPNOTSUPP);
	CHECK(f->status & VIRTIO_CONFIG_S_FAILED);
	CHECK(!(f->status & VIRTIO_CONFIG_S_DRIVER_OK));
	gd_blk_destroy(&b);
	free(f);
	/* NEEDS_RESET at DRIVER_OK */
	f = fake_new(ALL_FEATURES);
	f->needs_reset_on_ok = true;
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), -EIO);
	CHECK(gd_virtio_needs_reset(&b.vdev));
	CHECK(b.broken);
	gd_blk_destroy(&b);
	free(f);
	/* no queue */
	f = fake_new(ALL_FEATURES);
	f->qmax = 0;
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), -ENOENT);
	gd_blk_destroy(&b);
	free(f);
	/* the device's max queue size is not a power of two: rounded down */
	f = fake_new(ALL_FEATURES);
	f->qmax = 100;
	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), 0);
	CHECK_EQ(f->num, 64);
	gd_blk_destroy(&b);
	free(f);
	/* features_mask: INDIRECT and EVENT_IDX off */
	f = fake_new(ALL_FEATURES);
	struct gd_blk_opts o = { .features_mask = (1ull << VIRTIO_RING_F_INDIRECT_DESC) |
						  (1ull << VIRTIO_RING_F_EVENT_IDX),
				 .queue_size = 16 };
	CHECK_EQ(gd_blk_init(&b, &f->t, &o), 0);
	CHECK(!b.indirect && !b.event_idx);
	CHECK_EQ(f->num, 16);
	CHECK_EQ(b.depth, 5);
	gd_blk_destroy(&b);
	free(f);
}

static void test_evil(int evil, int want_status, int want_reap)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_blk b;
	struct gd_blk_done d[4];
	struct gd_blk_io io = { .type = VIRTIO_BLK_T_IN, .buf = dma(4096), .len = 4096,
				.cookie = &b };

	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), 0);
	gd_blk_set_poll(&b, true);
	f->evil = evil;
	/* two requests so that head ^ 1 names the other, not-yet-used chain's
	   neighbour; with evil 3 the id is a free slot, never a chain head */
	CHECK_EQ(gd_blk_submit(&b, &io), 0);
	gd_blk_kick(&b);
	CHECK_EQ(gd_blk_reap(&b, d, 4), want_reap);
	if (want_reap == 1)
		CHECK_EQ(d[0].status, want_status);
	else
		CHECK(b.broken && gd_blk_submit(&b, &io) == -EIO);
	gd_blk_destroy(&b);
	free(f);
}

/* Polling past 2^16 completions: EVENT_IDX's used_event must never be crossed. */
static void test_poll_long(void)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_blk b;
	struct gd_blk_io io = { .type = VIRTIO_BLK_T_IN, .buf = dma(512), .len = 512 };
	u64 irq0;

	CHECK_EQ(gd_blk_init(&b, &f->t, NULL), 0);
	CHECK(b.event_idx);
	gd_blk_set_poll(&b, true);
	/* the device side signals its first completion unconditionally (as vhost) */
	CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	irq0 = f->irqs;
	for (unsigned int i = 0; i < 70000; i++)
		CHECK_EQ(gd_blk_sync(&b, &io), VIRTIO_BLK_S_OK);
	CHECK_EQ(f->irqs, irq0);
	/* back to interrupt mode: the next completion interrupts */
	gd_blk_set_poll(&b, false);
	CHECK_EQ(gd_blk_submit(&b, &io), 0);
	gd_blk_kick(&b);
	CHECK_EQ(f->irqs, irq0 + 1);
	gd_blk_destroy(&b);
	free(f);
}

static void test_crc32(void)
{
	/* zlib.crc32(b"123456789") == 0xcbf43926; chaining equals one pass */
	CHECK_EQ(gd_crc32(0, "123456789", 9), 0xcbf43926u);
	CHECK_EQ(gd_crc32(gd_crc32(0, "1234", 4), "56789", 5), 0xcbf43926u);
	CHECK_EQ(gd_crc32(0, "", 0), 0);
	CHECK_EQ(gd_crc32(0, "a", 1), 0xe8b7be43u);
}

int main(void)
{
	CHECK_EQ(gd_vu_mem_init(64 << 20, 0), 0);
	test_crc32();
	test_init_and_io(ALL_FEATURES, false);
	test_init_and_io(ALL_FEATURES, true);
	test_init_and_io(ALL_FEATURES & ~(1ull << VIRTIO_RING_F_EVENT_IDX), false);
	test_init_and_io(ALL_FEATURES & ~(1ull << VIRTIO_RING_F_EVENT_IDX), true);
	test_init_and_io(ALL_FEATURES & ~(1ull << VIRTIO_RING_F_INDIRECT_DESC), false);
	test_init_and_io(ALL_FEATURES & ~(1ull << VIRTIO_RING_F_INDIRECT_DESC), true);
	test_readonly();
	test_poll_long();
	test_init_failures();
	test_evil(1, GD_BLK_S_BADSTATUS, 1);
	test_evil(2, GD_BLK_S_SHORT, 1);
	test_evil(3, 0, -EIO);
	printf("gd_blk: ok\n");
	return 0;
}
