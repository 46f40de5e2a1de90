// SPDX-License-Identifier: MIT
/*
 * libvublk request layer: every SECURITY.md case-10 request (hostile virtio-blk
 * chains) answered with the exact status and the disk file left unchanged,
 * on every engine; read-only disks; GET_ID; feature bits and config space;
 * config writes from the front-end; the slot pool limit.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

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

static char path[64];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
}

static u64 file_sum(void)
{
	static u8 buf[DISK_SIZE];
	int fd = open(path, O_RDONLY);
	u64 h = 0xcbf29ce484222325ull;

	CHECK(fd >= 0);
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	close(fd);
	for (size_t i = 0; i < sizeof(buf); i++)
		h = (h ^ buf[i]) * 0x100000001b3ull;
	return h;
}

static void make_file(void)
{
	static u8 buf[DISK_SIZE];
	int fd;

	strcpy(path, "/dev/shm/blk_req.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (u8)(i * 7 + (i >> 9));
	CHECK(write(fd, buf, sizeof(buf)) == (ssize_t)sizeof(buf));
	close(fd);
}

/* A request as a driver would lay it out, in malloc'd "guest memory". */
struct tr {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg[2];
	struct iovec out[16], in[16];
	unsigned int out_n, in_n;
	u8 status;
};

static void tr_init(struct tr *t, u32 type, u64 sector)
{
	memset(t, 0, sizeof(*t));
	t->hdr.type = cpu_to_le32(type);
	t->hdr.sector = cpu_to_le64(sector);
	t->status = 0xee;
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

struct rec {
	int n;
	u16 head;
	u32 len;
	void *cookie;
};

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	struct rec *r = opaque;

	r->n++;
	r->head = head;
	r->len = len;
	r->cookie = cookie;
}

/* Submit @t alone, wait for it; returns the submit error or 0 and fills @len. */
static int run(struct blk_queue *q, struct tr *t, u32 *len)
{
	struct blk_req_in in = { t->out, t->out_n, t->in, t->in_n, 42, t };
	struct rec r = { 0 };
	int ret = blk_queue_submit(q, &in);

	if (ret < 0)
		return ret;
	CHECK(blk_queue_commit(q) == 0);
	CHECK(blk_queue_drain(q, on_done, &r) == 0);
	CHECK(r.n == 1 && r.head == 42 && r.cookie == t);
	CHECK(blk_queue_inflight(q) == 0);
	*len = r.len;
	return 0;
}

/* Header + optional readable data + writable data + status, the usual shape. */
static u8 run_simple(struct blk_queue *q, u32 type, u64 sector, void *wdata,
		     size_t wlen, void *rdata, size_t rlen, u32 *len)
{
	struct tr t;

	tr_init(&t, type, sector);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	if (rlen)
		tr_out(&t, rdata, rlen);
	if (wlen)
		tr_in(&t, wdata, wlen);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, len) == 0);
	return t.status;
}

static u8 run_trim(struct blk_queue *q, u32 type, u64 sector, u32 nsect, u32 flags,
		   unsigned int nseg)
{
	struct tr t;
	u32 len;

	tr_init(&t, type, 0);
	for (unsigned int i = 0; i < 2; i++) {
		t.seg[i].sector = cpu_to_le64(sector);
		t.seg[i].num_sectors = cpu_to_le32(nsect);
		t.seg[i].flags = cpu_to_le32(flags);
	}
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	if (nseg)
		tr_out(&t, t.seg, nseg * sizeof(t.seg[0]));
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0);
	CHECK(len == 1);
	return t.status;
}

static void hostile(struct blk_queue *q, struct blk_disk *d)
{
	static u8 data[8192], before[8192];
	u64 sum = file_sum();
	struct tr t;
	u32 len;

	memset(data, 0x5a, sizeof(data));
	memcpy(before, data, sizeof(data));

	/* Header in a write-only descriptor. */
	tr_init(&t, VIRTIO_BLK_T_OUT, 0);
	tr_in(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR && len == 1);
	/* Header split: 8 bytes readable, the rest writable. */
	tr_init(&t, VIRTIO_BLK_T_OUT, 0);
	tr_out(&t, &t.hdr, 8);
	tr_in(&t, (u8 *)&t.hdr + 8, 8);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR);
	/* Readable part shorter than a header, header plus data in writable. */
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	tr_out(&t, &t.hdr, 10);
	tr_in(&t, data, 512);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR && len == 1);
	CHECK(!memcmp(data, before, sizeof(data)));

	/* Chain too short: no writable byte at all, or nothing at all. */
	tr_init(&t, VIRTIO_BLK_T_OUT, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, data, 512);
	CHECK(run(q, &t, &len) == -EINVAL);
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	CHECK(run(q, &t, &len) == -EINVAL);
	/* Writable descriptors of length 0 only: still no status byte. */
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, data, 0);
	tr_in(&t, &t.status, 0);
	CHECK(run(q, &t, &len) == -EINVAL);
	/* Read-only status descriptor: the status sits in the readable part. */
	tr_init(&t, VIRTIO_BLK_T_OUT, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_out(&t, data, 512);
	tr_out(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == -EINVAL);
	CHECK(t.status == 0xee);
	CHECK(blk_queue_inflight(q) == 0);

	/* Data length not a multiple of 512. */
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, 0, NULL, 0, data, 513, &len) ==
	      VIRTIO_BLK_S_IOERR && len == 1);
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, 0, NULL, 0, data, 100, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, 0, data, 1000, NULL, 0, &len) ==
	      VIRTIO_BLK_S_IOERR && len == 1);
	CHECK(!memcmp(data, before, sizeof(data)));

	/* Sector range past the capacity, or overflowing. */
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, CAP - 1, NULL, 0, data, 1024, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, CAP - 1, data, 1024, NULL, 0, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, CAP, NULL, 0, data, 512, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, CAP + 1, NULL, 0, NULL, 0, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_OUT, ~0ull, NULL, 0, data, 512, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, ~0ull >> 9, data, 512, NULL, 0, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, 1ull << 55, data, 4096, NULL, 0, &len) ==
	      VIRTIO_BLK_S_IOERR);
	CHECK(!memcmp(data, before, sizeof(data)));
	/* The last sector exactly, and an empty request at the end: fine. */
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, CAP - 1, data, 512, NULL, 0, &len) ==
	      VIRTIO_BLK_S_OK && len == 513);
	CHECK(run_simple(q, VIRTIO_BLK_T_IN, CAP, NULL, 0, NULL, 0, &len) ==
	      VIRTIO_BLK_S_OK && len == 1);
	memcpy(data, before, sizeof(data));

	/* More data segments than seg_max (4 in this queue). */
	tr_init(&t, VIRTIO_BLK_T_OUT, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	for (int i = 0; i < 5; i++)
		tr_out(&t, data + 512 * i, 512);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR);
	tr_init(&t, VIRTIO_BLK_T_IN, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	for (int i = 0; i < 5; i++)
		tr_in(&t, data + 512 * i, 512);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR);
	CHECK(!memcmp(data, before, sizeof(data)));

	/* Unknown and legacy types. */
	CHECK(run_simple(q, 2, 0, NULL, 0, NULL, 0, &len) == VIRTIO_BLK_S_UNSUPP);
	CHECK(run_simple(q, 0x80000001u, 0, NULL, 0, data, 512, &len) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(run_simple(q, VIRTIO_BLK_T_SECURE_ERASE, 0, NULL, 0, NULL, 0, &len) ==
	      VIRTIO_BLK_S_UNSUPP);
	CHECK(run_simple(q, 0xffffffffu, 0, NULL, 0, NULL, 0, &len) ==
	      VIRTIO_BLK_S_UNSUPP);

	if (!d->readonly) {
		/* DISCARD / WRITE_ZEROES segments: flags, counts, ranges. */
		if (d->discard) {
			CHECK(run_trim(q, VIRTIO_BLK_T_DISCARD, 0, 8,
				       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 1) ==
			      VIRTIO_BLK_S_UNSUPP);
			CHECK(run_trim(q, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 2) ==
			      VIRTIO_BLK_S_IOERR);
			CHECK(run_trim(q, VIRTIO_BLK_T_DISCARD, CAP - 4, 8, 0, 1) ==
			      VIRTIO_BLK_S_IOERR);
			CHECK(run_trim(q, VIRTIO_BLK_T_DISCARD, ~0ull, 8, 0, 1) ==
			      VIRTIO_BLK_S_IOERR);
		}
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 2, 1) ==
		      VIRTIO_BLK_S_UNSUPP);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 0) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 2) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, CAP, 1, 0, 1) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 1ull << 63, 1,
			       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 1) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0,
			       d->max_write_zeroes_sectors + 1, 0, 1) ==
		      VIRTIO_BLK_S_IOERR);
		/* A segment truncated to 8 bytes. */
		tr_init(&t, VIRTIO_BLK_T_WRITE_ZEROES, 0);
		tr_out(&t, &t.hdr, sizeof(t.hdr));
		tr_out(&t, t.seg, 8);
		tr_in(&t, &t.status, 1);
		CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_IOERR);
	} else {
		/* Read-only: every write answers IOERR and writes nothing. */
		CHECK(run_simple(q, VIRTIO_BLK_T_OUT, 0, NULL, 0, data, 4096, &len) ==
		      VIRTIO_BLK_S_IOERR && len == 1);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8, 0, 1) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8,
			       VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP, 1) ==
		      VIRTIO_BLK_S_IOERR);
		CHECK(run_trim(q, VIRTIO_BLK_T_DISCARD, 0, 8, 0, 1) ==
		      VIRTIO_BLK_S_IOERR);
		/* FLUSH has nothing to do; reads work. */
		CHECK(run_simple(q, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, NULL, 0, &len) ==
		      VIRTIO_BLK_S_OK);
		CHECK(run_simple(q, VIRTIO_BLK_T_IN, 1, data, 4096, NULL, 0, &len) ==
		      VIRTIO_BLK_S_OK && len == 4097);
		CHECK(data[0] == (u8)(512 * 7 + 1));
	}
	CHECK(file_sum() == sum);
}

static void get_id(struct blk_queue *q, struct blk_disk *d)
{
	char id[32], small[8];
	struct tr t;
	u32 len;

	memset(id, 0x77, sizeof(id));
	CHECK(run_simple(q, VIRTIO_BLK_T_GET_ID, 0, id, 20, NULL, 0, &len) ==
	      VIRTIO_BLK_S_OK && len == 21);
	CHECK(!memcmp(id, "vp", 2) && strlen(id) == 18 && id[20] == 0x77);
	CHECK(!memcmp(id, d->serial, 20));

	CHECK(blk_disk_set_serial(d, "abc") == 0);
	memset(id, 0x77, sizeof(id));
	CHECK(run_simple(q, VIRTIO_BLK_T_GET_ID, 0, id, 20, NULL, 0, &len) ==
	      VIRTIO_BLK_S_OK && len == 21);
	CHECK(!strcmp(id, "abc") && id[19] == 0);

	/* 20 characters: no NUL; a longer buffer gets 20 bytes only. */
	CHECK(blk_disk_set_serial(d, "01234567890123456789") == 0);
	CHECK(blk_disk_set_serial(d, "012345678901234567890") == -EINVAL);
	memset(id, 0x77, sizeof(id));
	CHECK(run_simple(q, VIRTIO_BLK_T_GET_ID, 0, id, 30, NULL, 0, &len) ==
	      VIRTIO_BLK_S_OK && len == 21);
	CHECK(!memcmp(id, "01234567890123456789", 20) && (u8)id[20] == 0x77);

	/* A short buffer, split over descriptors. */
	tr_init(&t, VIRTIO_BLK_T_GET_ID, 0);
	tr_out(&t, &t.hdr, sizeof(t.hdr));
	tr_in(&t, small, 3);
	tr_in(&t, small + 3, 5);
	tr_in(&t, &t.status, 1);
	CHECK(run(q, &t, &len) == 0 && t.status == VIRTIO_BLK_S_OK && len == 9);
	CHECK(!memcmp(small, "01234567", 8));
}

static void pool_limit(struct blk_disk *d)
{
	struct blk_queue_opts o = { .engine = BLK_ENGINE_SYNC, .depth = 2 };
	struct blk_queue *q;
	struct tr t[3];
	struct rec r = { 0 };

	CHECK(blk_queue_create(d, &o, &q) == 0);
	for (int i = 0; i < 3; i++) {
		struct blk_req_in in;

		tr_init(&t[i], VIRTIO_BLK_T_FLUSH, 0);
		tr_out(&t[i], &t[i].hdr, sizeof(t[i].hdr));
		tr_in(&t[i], &t[i].status, 1);
		in = (struct blk_req_in){ t[i].out, t[i].out_n, t[i].in, t[i].in_n, i, NULL };
		CHECK(blk_queue_submit(q, &in) == (i < 2 ? 0 : -EAGAIN));
	}
	CHECK(blk_queue_free_slots(q) == 0 && blk_queue_inflight(q) == 2);
	CHECK(blk_queue_complete(q, on_done, &r) == 2 && r.n == 2);
	CHECK(t[0].status == 0 && t[1].status == 0 && t[2].status == 0xee);
	CHECK(blk_queue_free_slots(q) == 2);
	blk_queue_destroy(q);
}

static void config(void)
{
	struct virtio_blk_config cfg;
	struct blk_disk *d;
	u8 v;

	CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, false, &d) == 0);
	CHECK(d->capacity == CAP && d->blk_size == 512);
	u64 f = blk_disk_features(d, 1);
	CHECK(f & (1ull << VIRTIO_BLK_F_FLUSH));
	CHECK(f & (1ull << VIRTIO_BLK_F_BLK_SIZE));
	CHECK(f & (1ull << VIRTIO_BLK_F_SEG_MAX));
	CHECK(f & (1ull << VIRTIO_BLK_F_CONFIG_WCE));
	CHECK(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES));
	CHECK(f & (1ull << VIRTIO_BLK_F_DISCARD));	/* tmpfs punches holes */
	CHECK(!(f & (1ull << VIRTIO_BLK_F_RO)) && !(f & (1ull << VIRTIO_BLK_F_MQ)));
	CHECK(blk_disk_features(d, 4) & (1ull << VIRTIO_BLK_F_MQ));
	blk_disk_config(d, 4, 0, &cfg);
	CHECK(le64_to_cpu(cfg.capacity) == CAP);
	CHECK(le32_to_cpu(cfg.blk_size) == 512);
	CHECK(le32_to_cpu(cfg.seg_max) == BLK_SEG_MAX_DEFAULT);
	CHECK(le16_to_cpu(cfg.num_queues) == 4);
	CHECK(cfg.wce == 1);
	CHECK(le32_to_cpu(cfg.max_discard_seg) == 1 && le32_to_cpu(cfg.max_write_zeroes_seg) == 1);
	CHECK(le32_to_cpu(cfg.max_discard_sectors) > 0 &&
	      le32_to_cpu(cfg.max_write_zeroes_sectors) > 0);
	CHECK(le32_to_cpu(cfg.discard_sector_alignment) == 1);
	CHECK(cfg.write_zeroes_may_unmap == 1);

	/* Config reads by the front-end: any window inside 256 bytes. */
	{
		u8 win[BLK_CONFIG_SPACE_MAX + 8];

		memset(win, 0x55, sizeof(win));
		CHECK(blk_disk_get_config(d, 4, 0, 0, win, sizeof(cfg)) == 0);
		CHECK(!memcmp(win, &cfg, sizeof(cfg)) && win[sizeof(cfg)] == 0x55);
		CHECK(blk_disk_get_config(d, 4, 0, 8, win, 4) == 0);
		CHECK(le32_to_cpu(*(le32 *)win) == 0);		/* size_max */
		CHECK(blk_disk_get_config(d, 4, 0, 12, win, 4) == 0);
		CHECK(le32_to_cpu(*(le32 *)win) == BLK_SEG_MAX_DEFAULT);
		CHECK(blk_disk_get_config(d, 4, 0, 0, win, BLK_CONFIG_SPACE_MAX) == 0);
		CHECK(win[BLK_CONFIG_SPACE_MAX - 1] == 0 && win[sizeof(cfg)] == 0);
		CHECK(blk_disk_get_config(d, 4, 0, BLK_CONFIG_SPACE_MAX, win, 0) == 0);
		CHECK(blk_disk_get_config(d, 4, 0, 1, win, BLK_CONFIG_SPACE_MAX) == -EINVAL);
		CHECK(blk_disk_get_config(d, 4, 0, ~0u, win, 2) == -EINVAL);
		CHECK(blk_disk_get_config(d, 4, 0, 2, win, ~0u) == -EINVAL);
	}

	/* Config writes: the wce byte only. */
	v = 0;
	CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce), &v, 1) == 0);
	blk_disk_config(d, 1, 0, &cfg);
	CHECK(cfg.wce == 0);
	v = 2;
	CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce), &v, 1) == -EINVAL);
	CHECK(blk_disk_set_config(d, 0, &cfg, sizeof(cfg)) == -EINVAL);
	CHECK(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce), &v, 2) == -EINVAL);
	CHECK(blk_disk_set_config(d, ~0u, &v, 1) == -EINVAL);
	blk_disk_close(d);

	CHECK(blk_disk_open(path, BLK_CACHE_WRITETHROUGH, false, &d) == 0);
	CHECK(d->dsync && (fcntl(d->fd, F_GETFL) & O_DSYNC));
	blk_disk_config(d, 1, 8, &cfg);
	CHECK(cfg.wce == 0 && le32_to_cpu(cfg.seg_max) == 8 && le16_to_cpu(cfg.num_queues) == 1);
	blk_disk_close(d);

	CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, true, &d) == 0);
	CHECK((fcntl(d->fd, F_GETFL) & O_ACCMODE) == O_RDONLY);
	f = blk_disk_features(d, 1);
	CHECK(f & (1ull << VIRTIO_BLK_F_RO));
	CHECK(!(f & (1ull << VIRTIO_BLK_F_DISCARD)) && !(f & (1ull << VIRTIO_BLK_F_WRITE_ZEROES)));
	blk_disk_close(d);

	CHECK(blk_disk_open("/nonexistent/disk", BLK_CACHE_WRITEBACK, false, &d) == -ENOENT);
	CHECK(blk_disk_open("/dev/shm", BLK_CACHE_WRITEBACK, true, &d) < 0);
	/* procfs files are regular files that refuse O_DIRECT: cache=none fails. */
	CHECK(blk_disk_open("/proc/version", BLK_CACHE_NONE, true, &d) == -EINVAL);

	enum blk_cache_mode m;
	enum blk_engine_kind k;
	CHECK(blk_cache_parse("none", &m) == 0 && m == BLK_CACHE_NONE);
	CHECK(blk_cache_parse("writethrough", &m) == 0 && m == BLK_CACHE_WRITETHROUGH);
	CHECK(blk_cache_parse("writeback", &m) == 0 && m == BLK_CACHE_WRITEBACK);
	CHECK(blk_cache_parse("unsafe", &m) == -EINVAL);
	CHECK(blk_engine_parse("io_uring", &k) == 0 && k == BLK_ENGINE_IO_URING);
	CHECK(blk_engine_parse("libaio", &k) == 0 && k == BLK_ENGINE_LIBAIO);
	CHECK(blk_engine_parse("sync", &k) == 0 && k == BLK_ENGINE_SYNC);
	CHECK(blk_engine_parse("threads", &k) == 0 && k == BLK_ENGINE_THREADS);
	CHECK(blk_engine_parse("posix", &k) == -EINVAL);
	CHECK(!strcmp(blk_engine_name(BLK_ENGINE_LIBAIO), "libaio"));
}

/*
 * Random chains (deterministic seed): header fields, segment counts, splits
 * and lengths all arbitrary.  Whatever comes in, the answer is a valid status
 * in the last writable byte, the used length never exceeds the writable
 * bytes, nothing outside the given buffers is touched, and a read-only disk
 * is never modified.
 */
static u32 rnd_state = 12345;

static u32 rnd(void)
{
	rnd_state = rnd_state * 1103515245u + 12345u;
	return rnd_state >> 8;
}

static void random_chains(struct blk_queue *q, bool ro)
{
	enum { ARENA = 65536, GUARD = 64 };
	static u8 arena[ARENA + 2 * GUARD];
	static const u32 types[] = {
		VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT, VIRTIO_BLK_T_FLUSH,
		VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD, VIRTIO_BLK_T_WRITE_ZEROES,
		2, 0xffffffffu,
	};
	u64 sum = file_sum();

	for (int iter = 0; iter < 20000; iter++) {
		struct iovec out[8], in[8];
		unsigned int out_n = rnd() % 4, in_n = rnd() % 5;
		size_t pos = GUARD, in_total = 0;
		struct virtio_blk_outhdr h;
		struct rec r = { 0 };
		int ret;

		memset(arena, 0xa5, sizeof(arena));
		h.type = cpu_to_le32(types[rnd() % ARRAY_SIZE(types)]);
		h.ioprio = cpu_to_le32(rnd());
		switch (rnd() % 4) {
		case 0: h.sector = cpu_to_le64(rnd() % (CAP + 16)); break;
		case 1: h.sector = cpu_to_le64(CAP - rnd() % 16); break;
		case 2: h.sector = cpu_to_le64(~0ull - rnd() % 16); break;
		default: h.sector = cpu_to_le64((u64)rnd() << 32 | rnd()); break;
		}
		for (unsigned int i = 0; i < out_n; i++) {
			size_t len = rnd() % 3 ? (rnd() % 3) * 512 + rnd() % 20 : rnd() % 40;

			out[i].iov_base = arena + pos;
			out[i].iov_len = len;
			pos += len + rnd() % 8;
		}
		/* Sometimes a real header (split anywhere) and a discard segment. */
		if (out_n && rnd() % 2) {
			struct virtio_blk_discard_write_zeroes seg = {
				.sector = cpu_to_le64(rnd() % (CAP + 8)),
				.num_sectors = cpu_to_le32(rnd() % 64),
				.flags = cpu_to_le32(rnd() % 3),
			};
			u8 raw[sizeof(h) + sizeof(seg)];
			size_t k = 0;

			memcpy(raw, &h, sizeof(h));
			memcpy(raw + sizeof(h), &seg, sizeof(seg));
			for (unsigned int i = 0; i < out_n && k < sizeof(raw); i++) {
				size_t c = out[i].iov_len < sizeof(raw) - k ?
					   out[i].iov_len : sizeof(raw) - k;

				memcpy(out[i].iov_base, raw + k, c);
				k += c;
			}
		}
		for (unsigned int i = 0; i < in_n; i++) {
			size_t len = rnd() % 3 ? (rnd() % 3) * 512 + rnd() % 2 : rnd() % 30;

			if (pos + len + GUARD > sizeof(arena))
				len = 0;
			in[i].iov_base = arena + pos;
			in[i].iov_len = len;
			in_total += len;
			pos += len + rnd() % 8;
		}
		if (pos + GUARD > sizeof(arena))
			continue;
		struct blk_req_in req = { out, out_n, in, in_n, 9, NULL };
		u8 *st = NULL;

		for (unsigned int i = in_n; i-- > 0;)
			if (in[i].iov_len) {
				st = (u8 *)in[i].iov_base + in[i].iov_len - 1;
				break;
			}
		ret = blk_queue_submit(q, &req);
		if (!st) {
			CHECK(ret == -EINVAL);
			continue;
		}
		CHECK(ret == 0);
		CHECK(blk_queue_commit(q) == 0);
		CHECK(blk_queue_drain(q, on_done, &r) == 0 && r.n == 1);
		CHECK(*st <= VIRTIO_BLK_S_UNSUPP);
		CHECK(r.len >= 1 && r.len <= in_total);
		/* Guards and the gaps after the last buffer are untouched. */
		for (size_t i = 0; i < GUARD; i++)
			CHECK(arena[i] == 0xa5 && arena[pos + i] == 0xa5);
	}
	if (ro)
		CHECK(file_sum() == sum);
}

int main(void)
{
	static const enum blk_engine_kind engines[] = {
		BLK_ENGINE_SYNC, BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_THREADS,
	};
	int ran = 0;

	atexit(cleanup);
	make_file();
	config();
	for (unsigned int i = 0; i < ARRAY_SIZE(engines); i++) {
		int r = blk_engine_probe(engines[i]);

		if (r < 0) {
			fprintf(stderr, "engine %s unavailable (%s), not tested\n",
				blk_engine_name(engines[i]), strerror(-r));
			continue;
		}
		for (int ro = 0; ro < 2; ro++) {
			struct blk_queue_opts o = {
				.engine = engines[i], .depth = 8, .seg_max = 4,
			};
			struct blk_disk *d;
			struct blk_queue *q;

			CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, ro, &d) == 0);
			CHECK(blk_queue_create(d, &o, &q) == 0);
			hostile(q, d);
			get_id(q, d);
			random_chains(q, ro);
			if (!ro)
				pool_limit(d);
			blk_queue_destroy(q);
			blk_disk_close(d);
		}
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no engine available\n");
		return 77;
	}
	printf("blk_req: %d engines ok\n", ran);
	return 0;
}
