// SPDX-License-Identifier: MIT
/*
 * libvublk engines: io_uring, libaio and sync, each on a tmpfs file (page
 * cache), an ext4 file with cache=none (O_DIRECT) and with cache=writethrough
 * (O_DSYNC).  Every request type, data checked against an in-memory model of
 * the disk after each step (read back through a separate fd); batches of many
 * requests with one commit; FLUSH reaching the kernel; the O_DIRECT bounce
 * path; short transfers continued; a file that shrank answering IOERR.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <vhost-user/blk.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
			__FILE__, __LINE__, #c);			\
		exit(1);						\
	}								\
} while (0)

#define DISK_SIZE	(1u << 20)
#define CAP		(DISK_SIZE / 512)
#define RAM_SIZE	(1u << 20)
#define DEPTH		32

static char path[64];
static u8 model[DISK_SIZE];
static u8 *ram;			/* "guest memory", 4 KiB aligned */
static const char *where;

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

static void fill(u8 *p, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

static void make_file(const char *dir)
{
	int fd;

	snprintf(path, sizeof(path), "%s/blk_engines.XXXXXX", dir);
	fd = mkstemp(path);
	CHECK(fd >= 0);
	fill(model, sizeof(model), 1);
	CHECK(write(fd, model, sizeof(model)) == (ssize_t)sizeof(model));
	close(fd);
}

/* The file, read through its own fd, equals the model. */
static void check_file(int line)
{
	static u8 buf[DISK_SIZE];
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	close(fd);
	if (memcmp(buf, model, sizeof(buf))) {
		size_t i = 0;

		while (buf[i] == model[i])
			i++;
		fprintf(stderr, "%s: file differs from model at %zu (line %d)\n",
			where, i, line);
		exit(1);
	}
}

struct tr {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg;
	struct iovec out[8], in[8];
	unsigned int out_n, in_n;
	u8 *status;
	u8 status_byte;
	int done;
	u32 len;
};

static void tr_init(struct tr *t, u32 type, u64 sector)
{
	memset(t, 0, sizeof(*t));
	t->hdr.type = cpu_to_le32(type);
	t->hdr.sector = cpu_to_le64(sector);
	t->status = &t->status_byte;
	t->status_byte = 0xee;
}

static void tr_out(struct tr *t, void *p, size_t n)
{
	t->out[t->out_n].iov_base = p;
	t->out[t->out_n++].iov_len = n;
}

static void tr_in(struct tr *t, void *p, size_t n)
{
	t->in[t->in_n].iov_base = p;
	t->in[t->in_n++].iov_len = n;
}

static void tr_status(struct tr *t)
{
	tr_in(t, t->status, 1);
}

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	struct tr *t = cookie;
	int *n = opaque;

	CHECK(t && head == (u16)(uintptr_t)t % 65536);
	CHECK(!t->done);
	t->done = 1;
	t->len = len;
	(*n)++;
}

static void submit(struct blk_queue *q, struct tr *t)
{
	struct blk_req_in in = {
		t->out, t->out_n, t->in, t->in_n, (u16)(uintptr_t)t, t,
	};

	CHECK(blk_queue_submit(q, &in) == 0);
}

static u8 run(struct blk_queue *q, struct tr *t)
{
	int n = 0;

	submit(q, t);
	CHECK(blk_queue_commit(q) == 0);
	CHECK(blk_queue_drain(q, on_done, &n) == 0);
	CHECK(n == 1 && t->done);
	return *t->status;
}

/* Header split over two descriptors, data over three, status alone. */
static void write_read(struct blk_queue *q)
{
	u8 *w = ram, *r = ram + 65536;
	struct tr t;

	fill(w, 4096, 2);
	tr_init(&t, VIRTIO_BLK_T_OUT, 16);
	tr_out(&t, &t.hdr, 10);
	tr_out(&t, (u8 *)&t.hdr + 10, 6);
	tr_out(&t, w, 512);
	tr_out(&t, w + 512, 1536);
	tr_out(&t, w + 2048, 2048);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 1);
	memcpy(model + 16 * 512, w, 4096);
	check_file(__LINE__);

	memset(r, 0, 8192);
	tr_init(&t, VIRTIO_BLK_T_IN, 15);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 1024);
	tr_in(&t, r + 4096, 3072);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 4097);
	CHECK(!memcmp(r, model + 15 * 512, 1024));
	CHECK(!memcmp(r + 4096, model + 15 * 512 + 1024, 3072));

	/* Data and status in one writable descriptor. */
	memset(r, 0, 8192);
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	t.status = r + 8192;
	*t.status = 0xee;
	tr_in(&t, r, 8193);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 8193);
	CHECK(!memcmp(r, model, 8192));
}

/* DEPTH requests at once, one commit, completions in any order. */
static void batch(struct blk_queue *q, bool async)
{
	static struct tr t[DEPTH];
	int n = 0, fd = blk_queue_event_fd(q);
	u64 v;

	for (int i = 0; i < DEPTH; i++) {
		u8 *buf = ram + i * 8192;
		u64 sector = 1024 + i * 16;	/* 8 KiB apart */

		if (i % 2 == 0) {
			fill(buf, 4096, 100 + i);
			tr_init(&t[i], VIRTIO_BLK_T_OUT, sector);
			tr_out(&t[i], &t[i].hdr, sizeof(t[i].hdr));
			tr_out(&t[i], buf, 4096);
			memcpy(model + sector * 512, buf, 4096);
		} else {
			memset(buf, 0, 8192);
			tr_init(&t[i], VIRTIO_BLK_T_IN, sector - 8);	/* unwritten half */
			tr_out(&t[i], &t[i].hdr, sizeof(t[i].hdr));
			tr_in(&t[i], buf, 4096);
		}
		tr_status(&t[i]);
		submit(q, &t[i]);
	}
	CHECK(blk_queue_free_slots(q) == 0);
	CHECK(blk_queue_commit(q) == 0);
	if (async) {
		/* Completions signal the eventfd (guard against a hang only). */
		struct pollfd p = { .fd = fd, .events = POLLIN };

		CHECK(poll(&p, 1, 30000) == 1);
		CHECK(read(fd, &v, sizeof(v)) == sizeof(v) && v >= 1);
	}
	while (n < DEPTH) {
		int k = blk_queue_complete(q, on_done, &n);

		CHECK(k >= 0);
		if (!k)
			CHECK(blk_queue_drain(q, on_done, &n) == 0);
	}
	CHECK(blk_queue_inflight(q) == 0);
	for (int i = 0; i < DEPTH; i++) {
		CHECK(t[i].done && t[i].status_byte == VIRTIO_BLK_S_OK);
		if (i % 2) {
			u64 sector = 1024 + i * 16 - 8;

			CHECK(t[i].len == 4097);
			CHECK(!memcmp(ram + i * 8192, model + sector * 512, 4096));
		}
	}
	check_file(__LINE__);
}

static void flush(struct blk_queue *q)
{
	struct blk_queue_stats a, b;
	struct tr t;

	blk_queue_get_stats(q, &a);
	tr_init(&t, VIRTIO_BLK_T_FLUSH, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 1);
	blk_queue_get_stats(q, &b);
	CHECK(b.fdatasyncs == a.fdatasyncs + 1 && b.flushes == a.flushes + 1);
}

static void trim(struct blk_queue *q, struct blk_disk *d, u32 type, u64 sector,
		 u32 nsect, u32 flags)
{
	struct tr t;

	tr_init(&t, type, 0);
	t.seg.sector = cpu_to_le64(sector);
	t.seg.num_sectors = cpu_to_le32(nsect);
	t.seg.flags = cpu_to_le32(flags);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, &t.seg, sizeof(t.seg));
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 1);
	memset(model + sector * 512, 0, nsect * 512);
	check_file(__LINE__);
	(void)d;
}

static void zeroes(struct blk_queue *q, struct blk_disk *d)
{
	trim(q, d, VIRTIO_BLK_T_WRITE_ZEROES, 100, 8, 0);
	trim(q, d, VIRTIO_BLK_T_WRITE_ZEROES, 203, 17, 0);
	trim(q, d, VIRTIO_BLK_T_WRITE_ZEROES, 300, 64, VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP);
	if (d->discard)
		trim(q, d, VIRTIO_BLK_T_DISCARD, 400, 16, 0);	/* holes read as 0 */
}

static void get_id(struct blk_queue *q, struct blk_disk *d)
{
	char id[20];
	struct tr t;

	tr_init(&t, VIRTIO_BLK_T_GET_ID, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, id, sizeof(id));
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 21);
	CHECK(!memcmp(id, d->serial, 20));
}

/* Buffers O_DIRECT cannot take (odd addresses) go through a bounce buffer. */
static void unaligned(struct blk_queue *q, struct blk_disk *d)
{
	struct blk_queue_stats a, b;
	u8 *w = ram + 3, *r = ram + 131072 + 5;
	struct tr t;

	blk_queue_get_stats(q, &a);
	fill(w, 2048, 7);
	tr_init(&t, VIRTIO_BLK_T_OUT, 40);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, w, 1000);
	tr_out(&t, w + 1000, 1048);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK);
	memcpy(model + 40 * 512, w, 2048);
	check_file(__LINE__);

	memset(r, 0, 4096);
	tr_init(&t, VIRTIO_BLK_T_IN, 39);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 700);
	tr_in(&t, r + 1000, 2372);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 3073);
	CHECK(!memcmp(r, model + 39 * 512, 700));
	CHECK(!memcmp(r + 1000, model + 39 * 512 + 700, 2372));
	blk_queue_get_stats(q, &b);
	CHECK(b.bounced == a.bounced + (d->direct ? 2 : 0));
}

/* Short transfers (test hook: at most 512 bytes per step) are continued. */
static void short_io(struct blk_queue *q)
{
	struct blk_queue_stats a, b;
	u8 *w = ram, *r = ram + 65536;
	struct tr t;

	blk_queue_get_stats(q, &a);
	blk_queue_test_short_io(q, 512);
	fill(w, 8192, 9);
	tr_init(&t, VIRTIO_BLK_T_OUT, 500);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, w, 1024);
	tr_out(&t, w + 1024, 4096);
	tr_out(&t, w + 5120, 3072);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK);
	memcpy(model + 500 * 512, w, 8192);
	check_file(__LINE__);

	memset(r, 0, 16384);
	tr_init(&t, VIRTIO_BLK_T_IN, 498);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 2048);
	tr_in(&t, r + 4096, 6144);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && t.len == 8193);
	CHECK(!memcmp(r, model + 498 * 512, 2048));
	CHECK(!memcmp(r + 4096, model + 498 * 512 + 2048, 6144));
	blk_queue_test_short_io(q, 0);
	blk_queue_get_stats(q, &b);
	CHECK(b.retries >= a.retries + 30);
}

/* The guest turned its write cache off: writes carry RWF_DSYNC. */
static void wce_off(struct blk_queue *q, struct blk_disk *d)
{
	u8 v = 0;
	struct tr t;

	CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce), &v, 1) == 0);
	fill(ram, 4096, 11);
	tr_init(&t, VIRTIO_BLK_T_OUT, 600);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, ram, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK);
	memcpy(model + 600 * 512, ram, 4096);
	check_file(__LINE__);
	/* fallocate() is not covered by RWF_DSYNC: an fdatasync follows it. */
	if (d->discard) {
		struct blk_queue_stats a, b;

		blk_queue_get_stats(q, &a);
		trim(q, d, VIRTIO_BLK_T_DISCARD, 600, 8, 0);
		blk_queue_get_stats(q, &b);
		CHECK(b.fdatasyncs == a.fdatasyncs + 1);
	}
	v = 1;
	CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce), &v, 1) == 0);
}

/* Completion signals on the eventfd can be turned off (io_uring) and on. */
static void notify(struct blk_queue *q, enum blk_engine_kind e)
{
	int fd = blk_queue_event_fd(q);
	struct tr t;
	u64 v;

	while (read(fd, &v, sizeof(v)) > 0)
		;
	blk_queue_set_notify(q, false);
	tr_init(&t, VIRTIO_BLK_T_IN, 8);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, ram, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK);
	if (e == BLK_ENGINE_IO_URING)
		CHECK(read(fd, &v, sizeof(v)) < 0 && errno == EAGAIN);
	while (read(fd, &v, sizeof(v)) > 0)
		;
	blk_queue_set_notify(q, true);
	tr_init(&t, VIRTIO_BLK_T_IN, 8);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, ram, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK);
	if (e != BLK_ENGINE_SYNC)
		CHECK(read(fd, &v, sizeof(v)) == sizeof(v) && v >= 1);
	CHECK(!memcmp(ram, model + 8 * 512, 4096));
}

/* The file shrank under the disk: reads past the new end fail, never short. */
static void shrunk(struct blk_queue *q)
{
	u8 *r = ram;
	int fd = open(path, O_RDWR);
	struct tr t;

	CHECK(fd >= 0);
	CHECK(ftruncate(fd, DISK_SIZE / 2) == 0);
	tr_init(&t, VIRTIO_BLK_T_IN, CAP / 2 - 4);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_IOERR && t.len == 1);
	tr_init(&t, VIRTIO_BLK_T_IN, CAP / 2 + 8);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_IOERR && t.len == 1);
	/* Inside the remaining half: fine. */
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, r, 4096);
	tr_status(&t);
	CHECK(run(q, &t) == VIRTIO_BLK_S_OK && !memcmp(r, model, 4096));
	close(fd);
}

/* Destroying a queue with requests in flight finishes them first, leak-free. */
static void destroy_busy(struct blk_disk *d, enum blk_engine_kind e)
{
	struct blk_queue_opts o = { .engine = e, .depth = 8 };
	static struct tr t[4];
	struct blk_queue *q;

	CHECK(blk_queue_create(d, &o, &q) == 0);
	for (int i = 0; i < 4; i++) {
		tr_init(&t[i], VIRTIO_BLK_T_IN, i * 8);
		tr_out(&t[i], &t[i].hdr, sizeof(t[i].hdr));
		tr_in(&t[i], ram + i * 8192 + (i & 1), 4096);	/* odd ones bounce */
		tr_status(&t[i]);
		submit(q, &t[i]);
	}
	CHECK(blk_queue_commit(q) == 0);
	blk_queue_destroy(q);
	for (int i = 0; i < 4; i++)
		CHECK(t[i].status_byte == VIRTIO_BLK_S_OK && !t[i].done);
	CHECK(!memcmp(ram + 8192 + 1, model + 8 * 512, 4096));
}

static int one(enum blk_engine_kind e, const char *dir, enum blk_cache_mode cache)
{
	static char name[128];
	struct blk_queue_opts o = { .engine = e, .depth = DEPTH };
	struct blk_disk *d;
	struct blk_queue *q;
	int r;

	snprintf(name, sizeof(name), "%s %s cache=%s", blk_engine_name(e), dir,
		 blk_cache_name(cache));
	where = name;
	make_file(dir);
	r = blk_disk_open(path, cache, false, &d);
	if (r == -EINVAL && cache == BLK_CACHE_NONE) {
		fprintf(stderr, "%s: no O_DIRECT here, skipped\n", name);
		cleanup();
		return 0;
	}
	CHECK(r == 0);
	CHECK(d->direct == (cache == BLK_CACHE_NONE));
	CHECK(d->capacity == CAP);
	CHECK(blk_queue_create(d, &o, &q) == 0);

	write_read(q);
	batch(q, e != BLK_ENGINE_SYNC);
	flush(q);
	zeroes(q, d);
	get_id(q, d);
	unaligned(q, d);
	short_io(q);
	wce_off(q, d);
	notify(q, e);
	destroy_busy(d, e);
	/* Twice: the second run of WRITE_ZEROES takes whichever path stuck. */
	zeroes(q, d);
	shrunk(q);

	printf("ok: %s (blk_size %u, mem_align %u, discard %d, zero_range %d)\n",
	       name, d->blk_size, d->mem_align, d->discard, d->zero_range);
	blk_queue_destroy(q);
	blk_disk_close(d);
	cleanup();
	return 1;
}

int main(void)
{
	static const enum blk_engine_kind engines[] = {
		BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_SYNC, BLK_ENGINE_THREADS,
	};
	static const struct { const char *dir; enum blk_cache_mode cache; } cfgs[] = {
		{ "/dev/shm", BLK_CACHE_WRITEBACK },
		{ "/var/tmp", BLK_CACHE_NONE },
		{ "/var/tmp", BLK_CACHE_WRITETHROUGH },
		{ "/dev/shm", BLK_CACHE_NONE },
	};
	int ran = 0;

	atexit(cleanup);
	CHECK(!posix_memalign((void **)&ram, 4096, RAM_SIZE));
	for (unsigned int i = 0; i < ARRAY_SIZE(engines); i++) {
		int r = blk_engine_probe(engines[i]);

		if (r < 0) {
			fprintf(stderr, "engine %s unavailable (%s), not tested\n",
				blk_engine_name(engines[i]), strerror(-r));
			continue;
		}
		for (unsigned int j = 0; j < ARRAY_SIZE(cfgs); j++)
			ran += one(engines[i], cfgs[j].dir, cfgs[j].cache);
	}
	free(ram);
	if (!ran) {
		fprintf(stderr, "no engine available\n");
		return 77;
	}
	return 0;
}
