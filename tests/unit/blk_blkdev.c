// SPDX-License-Identifier: MIT
/*
 * libvublk on a block device: a loop device with 4 KiB logical blocks over a
 * file in /var/tmp.  Size from BLKGETSIZE64, block size from BLKSSZGET (and in
 * the config space), O_DIRECT refusing I/O that is not 4 KiB aligned (IOERR,
 * not a crash), WRITE_ZEROES/DISCARD on a device, and FLUSH end to end: after a
 * completed FLUSH the data written through the device's page cache has reached
 * the backing file.  Needs root and /dev/loop-control (skips otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/loop.h>

#include <vhost-user/blk.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
			__FILE__, __LINE__, #c);			\
		exit(1);						\
	}								\
} while (0)

#define DISK_SIZE	(4u << 20)
#define CAP		(DISK_SIZE / 512)

static char backing[64];
static char dev[32];
static int loop_fd = -1;
static u8 *ram;

static void cleanup(void)
{
	if (loop_fd >= 0) {
		ioctl(loop_fd, LOOP_CLR_FD, 0);
		close(loop_fd);
		loop_fd = -1;
	}
	if (backing[0])
		unlink(backing);
	backing[0] = 0;
}

static void skip(const char *why)
{
	cleanup();
	fprintf(stderr, "%s\n", why);
	exit(77);
}

static void setup_loop(void)
{
	static u8 buf[DISK_SIZE];
	int ctl, bfd;

	if (geteuid() != 0)
		skip("needs root for a loop device");
	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		skip("no /dev/loop-control");
	strcpy(backing, "/var/tmp/blk_blkdev.XXXXXX");
	bfd = mkstemp(backing);
	CHECK(bfd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 13 + (i >> 12));
	CHECK(write(bfd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	for (int tries = 0; tries < 10 && loop_fd < 0; tries++) {
		struct loop_config cfg;
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);

		if (n < 0)
			break;
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		loop_fd = open(dev, O_RDWR | O_CLOEXEC);
		if (loop_fd < 0)
			continue;
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = bfd;
		cfg.block_size = 4096;
		cfg.info.lo_flags = LO_FLAGS_AUTOCLEAR;
		if (ioctl(loop_fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		close(loop_fd);		/* raced with someone else: next one */
		loop_fd = -1;
	}
	close(bfd);
	close(ctl);
	if (loop_fd < 0)
		skip("could not set up a loop device");
}

struct tr {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg;
	struct iovec out[4], in[4];
	unsigned int out_n, in_n;
	u8 status;
};

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	(void)head;
	(void)len;
	(void)cookie;
	(*(int *)opaque)++;
}

static u8 run(struct blk_queue *q, struct tr *t)
{
	struct blk_req_in in = { t->out, t->out_n, t->in, t->in_n, 1, NULL };
	int n = 0;

	t->status = 0xee;
	CHECK(blk_queue_submit(q, &in) == 0);
	CHECK(blk_queue_commit(q) == 0);
	CHECK(blk_queue_drain(q, on_done, &n) == 0 && n == 1);
	return t->status;
}

static u8 rw(struct blk_queue *q, u32 type, u64 sector, void *buf, size_t len)
{
	struct tr t = { 0 };

	t.hdr.type = cpu_to_le32(type);
	t.hdr.sector = cpu_to_le64(sector);
	t.out[t.out_n++] = (struct iovec){ &t.hdr, sizeof(t.hdr) };
	if (type == VIRTIO_BLK_T_OUT)
		t.out[t.out_n++] = (struct iovec){ buf, len };
	else if (len)
		t.in[t.in_n++] = (struct iovec){ buf, len };
	t.in[t.in_n++] = (struct iovec){ &t.status, 1 };
	return run(q, &t);
}

static u8 trim(struct blk_queue *q, u32 type, u64 sector, u32 nsect)
{
	struct tr t = { 0 };

	t.hdr.type = cpu_to_le32(type);
	t.seg.sector = cpu_to_le64(sector);
	t.seg.num_sectors = cpu_to_le32(nsect);
	t.out[t.out_n++] = (struct iovec){ &t.hdr, sizeof(t.hdr) };
	t.out[t.out_n++] = (struct iovec){ &t.seg, sizeof(t.seg) };
	t.in[t.in_n++] = (struct iovec){ &t.status, 1 };
	return run(q, &t);
}

static void read_backing(void *buf, size_t len, off_t off)
{
	int fd = open(backing, O_RDONLY);

	CHECK(fd >= 0);
	CHECK(pread(fd, buf, len, off) == (ssize_t)len);
	close(fd);
}

static void one(enum blk_engine_kind e, enum blk_cache_mode cache)
{
	struct blk_queue_opts o = { .engine = e, .depth = 16 };
	struct virtio_blk_config cfg;
	u8 *w = ram, *r = ram + 65536, chk[16384];
	struct blk_disk *d;
	struct blk_queue *q;
	u32 seed = 77 + e * 10 + cache;

	CHECK(blk_disk_open(dev, cache, false, &d) == 0);
	CHECK(d->is_blkdev && d->capacity == CAP && d->blk_size == 4096);
	blk_disk_config(d, 1, 0, &cfg);
	CHECK(le32_to_cpu(cfg.blk_size) == 4096 && le64_to_cpu(cfg.capacity) == CAP);
	CHECK(le32_to_cpu(cfg.discard_sector_alignment) == 8);
	CHECK(blk_queue_create(d, &o, &q) == 0);

	for (int i = 0; i < 16384; i++)
		w[i] = (u8)((seed = seed * 1103515245u + 12345u) >> 16);
	CHECK(rw(q, VIRTIO_BLK_T_OUT, 64, w, 16384) == VIRTIO_BLK_S_OK);
	CHECK(rw(q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0) == VIRTIO_BLK_S_OK);
	/* FLUSH completed: the bytes are in the backing file, past the device. */
	read_backing(chk, sizeof(chk), 64 * 512);
	CHECK(!memcmp(chk, w, sizeof(chk)));
	memset(r, 0, 16384);
	CHECK(rw(q, VIRTIO_BLK_T_IN, 64, r, 16384) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(r, w, 16384));

	/* The last block, and one past the end. */
	CHECK(rw(q, VIRTIO_BLK_T_IN, CAP - 8, r, 4096) == VIRTIO_BLK_S_OK);
	CHECK(rw(q, VIRTIO_BLK_T_IN, CAP - 8, r, 8192) == VIRTIO_BLK_S_IOERR);

	if (cache == BLK_CACHE_NONE) {
		/* 512-byte units a 4 KiB device cannot take directly: IOERR. */
		CHECK(rw(q, VIRTIO_BLK_T_IN, 65, r, 4096) == VIRTIO_BLK_S_IOERR);
		CHECK(rw(q, VIRTIO_BLK_T_OUT, 64, w, 512) == VIRTIO_BLK_S_IOERR);
		read_backing(chk, sizeof(chk), 64 * 512);
		CHECK(!memcmp(chk, w, sizeof(chk)));
	}

	CHECK(trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 64, 16) == VIRTIO_BLK_S_OK);
	memset(r, 0xff, 8192);
	CHECK(rw(q, VIRTIO_BLK_T_IN, 64, r, 8192) == VIRTIO_BLK_S_OK);
	for (int i = 0; i < 8192; i++)
		CHECK(r[i] == 0);
	CHECK(rw(q, VIRTIO_BLK_T_IN, 80, r, 8192) == VIRTIO_BLK_S_OK);
	CHECK(!memcmp(r, w + 8192, 8192));
	if (d->discard)
		CHECK(trim(q, VIRTIO_BLK_T_DISCARD, 80, 16) == VIRTIO_BLK_S_OK);

	printf("ok: %s cache=%s on %s (mem_align %u, discard %d)\n",
	       blk_engine_name(e), blk_cache_name(cache), dev, d->mem_align, d->discard);
	blk_queue_destroy(q);
	blk_disk_close(d);
}

/*
 * SECURITY.md 20, second half: with the write cache off, each completed write
 * is durable without a FLUSH.  Through the device's page cache the bytes only
 * reach the backing file when written through (O_DSYNC for
 * cache=writethrough, RWF_DSYNC after the guest cleared wce).
 */
static void write_through(enum blk_engine_kind e, bool guest_wce_off)
{
	struct blk_queue_opts o = { .engine = e, .depth = 16 };
	enum blk_cache_mode cache = guest_wce_off ? BLK_CACHE_WRITEBACK :
						    BLK_CACHE_WRITETHROUGH;
	u8 *w = ram, chk[16384];
	struct blk_disk *d;
	struct blk_queue *q;
	u32 seed = 1000 + e * 2 + guest_wce_off;
	u64 sector = 256 + 64 * (e * 2 + guest_wce_off);

	CHECK(blk_disk_open(dev, cache, false, &d) == 0);
	if (guest_wce_off) {
		u8 v = 0;

		CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce),
					  &v, 1) == 0);
	} else {
		CHECK(d->dsync && d->wce == 0);
	}
	CHECK(blk_queue_create(d, &o, &q) == 0);
	for (int i = 0; i < 16384; i++)
		w[i] = (u8)((seed = seed * 1103515245u + 12345u) >> 16);
	CHECK(rw(q, VIRTIO_BLK_T_OUT, sector, w, 16384) == VIRTIO_BLK_S_OK);
	/* No FLUSH: the completed write is already past the device. */
	read_backing(chk, sizeof(chk), sector * 512);
	CHECK(!memcmp(chk, w, sizeof(chk)));
	CHECK(trim(q, VIRTIO_BLK_T_WRITE_ZEROES, sector, 32) == VIRTIO_BLK_S_OK);
	read_backing(chk, sizeof(chk), sector * 512);
	for (size_t i = 0; i < sizeof(chk); i++)
		CHECK(chk[i] == 0);
	blk_queue_destroy(q);
	blk_disk_close(d);
	printf("ok: %s write-through (%s)\n", blk_engine_name(e),
	       guest_wce_off ? "guest wce=0" : "cache=writethrough");
}

int main(void)
{
	static const enum blk_engine_kind engines[] = {
		BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_SYNC, BLK_ENGINE_THREADS,
	};

	atexit(cleanup);
	setup_loop();
	CHECK(!posix_memalign((void **)&ram, 4096, 1 << 20));
	for (unsigned int i = 0; i < ARRAY_SIZE(engines); i++) {
		if (blk_engine_probe(engines[i]) < 0) {
			fprintf(stderr, "engine %s unavailable, not tested\n",
				blk_engine_name(engines[i]));
			continue;
		}
		one(engines[i], BLK_CACHE_NONE);
		one(engines[i], BLK_CACHE_WRITEBACK);
		write_through(engines[i], false);
		write_through(engines[i], true);
	}
	free(ram);
	return 0;
}
