// SPDX-License-Identifier: MIT
/*
 * libvublk with several queues on one disk, one thread each (the --queues N
 * model): every thread writes, zeroes, flushes and reads back its own slice of
 * the disk through its own queue and engine, concurrently, then the file is
 * checked as a whole.  The disk's shared run-time state (the ZERO_RANGE
 * fallback flag, which tmpfs trips) is hit from all threads at once.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
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

#define NQ		4
#define SLICE		(512u << 10)
#define DISK_SIZE	(NQ * SLICE)
#define DEPTH		64
#define BLOCK		4096u
#define ROUNDS		8

static char path[64];
static u8 model[DISK_SIZE];
static struct blk_disk *disk;

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

struct treq {
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg;
	struct iovec out[3], in[2];
	unsigned int out_n, in_n;
	u8 status;
	bool done;
	u32 len;
};

struct worker {
	pthread_t tid;
	unsigned int id;
	enum blk_engine_kind engine;
	struct blk_queue *q;
	u8 *buf;		/* DEPTH blocks of "guest memory" */
	struct treq t[DEPTH];
	u32 seed;
};

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	struct worker *w = opaque;
	struct treq *t = cookie;

	CHECK(head < DEPTH && t == &w->t[head] && !t->done);
	t->done = true;
	t->len = len;
}

static void run_batch(struct worker *w, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		struct treq *t = &w->t[i];
		struct blk_req_in in = { t->out, t->out_n, t->in, t->in_n, i, t };

		t->done = false;
		t->status = 0xee;
		CHECK(blk_queue_submit(w->q, &in) == 0);
	}
	CHECK(blk_queue_commit(w->q) == 0);
	CHECK(blk_queue_drain(w->q, on_done, w) == 0);
	for (unsigned int i = 0; i < n; i++)
		CHECK(w->t[i].done && w->t[i].status == VIRTIO_BLK_S_OK);
}

static u32 rnd(u32 *s)
{
	*s = *s * 1103515245u + 12345u;
	return *s >> 8;
}

static void *work(void *arg)
{
	struct worker *w = arg;
	u64 base = (u64)w->id * SLICE;
	const unsigned int nblk = SLICE / BLOCK;

	for (int r = 0; r < ROUNDS; r++) {
		/* DEPTH - 2 writes of distinct blocks, one WRITE_ZEROES, one FLUSH. */
		unsigned int first = rnd(&w->seed) % nblk;

		for (unsigned int i = 0; i < DEPTH - 2; i++) {
			struct treq *t = &w->t[i];
			u64 off = base + (u64)((first + i) % nblk) * BLOCK;
			u8 *b = w->buf + (size_t)i * BLOCK;

			for (unsigned int k = 0; k < BLOCK; k++)
				b[k] = rnd(&w->seed);
			memset(t, 0, sizeof(*t));
			t->hdr.type = cpu_to_le32(VIRTIO_BLK_T_OUT);
			t->hdr.sector = cpu_to_le64(off / 512);
			t->out[t->out_n++] = (struct iovec){ &t->hdr, sizeof(t->hdr) };
			t->out[t->out_n++] = (struct iovec){ b, BLOCK / 2 };
			t->out[t->out_n++] = (struct iovec){ b + BLOCK / 2, BLOCK / 2 };
			t->in[t->in_n++] = (struct iovec){ &t->status, 1 };
			memcpy(model + off, b, BLOCK);
		}
		{
			struct treq *t = &w->t[DEPTH - 2];
			u64 off = base + (u64)((first + DEPTH) % nblk) * BLOCK;

			memset(t, 0, sizeof(*t));
			t->hdr.type = cpu_to_le32(VIRTIO_BLK_T_WRITE_ZEROES);
			t->seg.sector = cpu_to_le64(off / 512);
			t->seg.num_sectors = cpu_to_le32(BLOCK / 512);
			t->out[t->out_n++] = (struct iovec){ &t->hdr, sizeof(t->hdr) };
			t->out[t->out_n++] = (struct iovec){ &t->seg, sizeof(t->seg) };
			t->in[t->in_n++] = (struct iovec){ &t->status, 1 };
			memset(model + off, 0, BLOCK);

			t = &w->t[DEPTH - 1];
			memset(t, 0, sizeof(*t));
			t->hdr.type = cpu_to_le32(VIRTIO_BLK_T_FLUSH);
			t->out[t->out_n++] = (struct iovec){ &t->hdr, sizeof(t->hdr) };
			t->in[t->in_n++] = (struct iovec){ &t->status, 1 };
		}
		run_batch(w, DEPTH);

		/* Read the whole slice back, DEPTH blocks at a time. */
		for (unsigned int blk = 0; blk < nblk; blk += DEPTH) {
			unsigned int n = nblk - blk < DEPTH ? nblk - blk : DEPTH;

			memset(w->buf, 0, (size_t)n * BLOCK);
			for (unsigned int i = 0; i < n; i++) {
				struct treq *t = &w->t[i];

				memset(t, 0, sizeof(*t));
				t->hdr.type = cpu_to_le32(VIRTIO_BLK_T_IN);
				t->hdr.sector = cpu_to_le64((base + (u64)(blk + i) * BLOCK) / 512);
				t->out[t->out_n++] = (struct iovec){ &t->hdr, sizeof(t->hdr) };
				t->in[t->in_n++] = (struct iovec){ w->buf + (size_t)i * BLOCK, BLOCK };
				t->in[t->in_n++] = (struct iovec){ &t->status, 1 };
			}
			run_batch(w, n);
			for (unsigned int i = 0; i < n; i++)
				CHECK(w->t[i].len == BLOCK + 1);
			CHECK(!memcmp(w->buf, model + base + (u64)blk * BLOCK, (size_t)n * BLOCK));
		}
	}
	return NULL;
}

int main(void)
{
	static const enum blk_engine_kind kinds[NQ] = {
		BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_SYNC, BLK_ENGINE_THREADS,
	};
	static struct worker w[NQ];
	static u8 file[DISK_SIZE];
	struct blk_queue_stats st;
	int fd;

	atexit(cleanup);
	strcpy(path, "/dev/shm/blk_mq.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	CHECK(ftruncate(fd, DISK_SIZE) == 0);
	close(fd);
	CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, false, &disk) == 0);
	CHECK(blk_disk_features(disk, NQ) & (1ull << VIRTIO_BLK_F_MQ));

	for (unsigned int i = 0; i < NQ; i++) {
		struct blk_queue_opts o = { .engine = kinds[i], .depth = DEPTH };

		if (blk_engine_probe(kinds[i]) < 0)
			o.engine = BLK_ENGINE_SYNC;	/* still NQ threads */
		w[i].id = i;
		w[i].engine = o.engine;
		w[i].seed = 17 * (i + 1);
		CHECK(!posix_memalign((void **)&w[i].buf, 4096, (size_t)DEPTH * BLOCK));
		CHECK(blk_queue_create(disk, &o, &w[i].q) == 0);
	}
	for (unsigned int i = 0; i < NQ; i++)
		CHECK(pthread_create(&w[i].tid, NULL, work, &w[i]) == 0);
	for (unsigned int i = 0; i < NQ; i++)
		CHECK(pthread_join(w[i].tid, NULL) == 0);
	for (unsigned int i = 0; i < NQ; i++) {
		blk_queue_get_stats(w[i].q, &st);
		CHECK(st.writes == ROUNDS * (DEPTH - 2) && st.flushes == ROUNDS &&
		      st.write_zeroes == ROUNDS && st.errors == 0);
		blk_queue_destroy(w[i].q);
		free(w[i].buf);
	}
	blk_disk_close(disk);

	fd = open(path, O_RDONLY);
	CHECK(fd >= 0);
	CHECK(pread(fd, file, sizeof(file), 0) == (ssize_t)sizeof(file));
	close(fd);
	CHECK(!memcmp(file, model, sizeof(file)));
	printf("ok: %d queues x %d rounds\n", NQ, ROUNDS);
	return 0;
}
