// SPDX-License-Identifier: MIT
/*
 * libvublk behind the real split ring: virtio/'s driver side queues virtio-blk
 * requests in malloc'd "guest RAM", the device side pops them, and the glue a
 * vhost-user-blk queue thread will use (vq_pop -> blk_queue_submit ->
 * blk_queue_commit -> blk_queue_complete -> vq_push_batch) serves them with
 * each engine.  Checks what the driver gets back (status, used len, data, the
 * file), indirect chains longer than the queue depth of one request, many more
 * requests than ring entries, and a chain without a writable byte reported to
 * the glue so it can mark the queue broken.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include <virtio/mem.h>
#include <virtio/vq.h>
#include <virtio/vq_drv.h>
#include <vhost-user/blk.h>

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n",		\
			__FILE__, __LINE__, #c);			\
		exit(1);						\
	}								\
} while (0)

#define RAM_SIZE	(8u << 20)
#define QSIZE		128
#define NREQ		600
#define DISK_SIZE	(4u << 20)
#define REQ_AREA	(1u << 20)	/* per-request buffers from here, 8 KiB each */

static u8 *ram;
static char path[64];
static u8 model[DISK_SIZE];

static void cleanup(void)
{
	if (path[0])
		unlink(path);
	path[0] = 0;
}

/* One request as the guest driver keeps it. */
struct greq {
	struct virtio_blk_outhdr *hdr;
	struct virtio_blk_discard_write_zeroes *seg;
	u8 *status;
	u8 *data;
	struct vring_desc *table;	/* indirect table, if used */
	u32 type;
	u64 sector;
	u32 dlen;
	u8 expect;
	bool done;
};

static struct greq reqs[NREQ];

/* The queue thread's side: the glue under test. */
struct glue {
	struct vq vq;
	struct blk_queue *q;
	struct vq_used used[QSIZE];
	unsigned int n;
};

static void push_cb(void *opaque, u16 head, u32 len, void *cookie)
{
	struct glue *g = opaque;

	(void)cookie;
	CHECK(g->n < QSIZE);
	g->used[g->n].head = head;
	g->used[g->n++].len = len;
}

/* One pass of a queue thread: pop and submit, commit, complete and push. */
static int pump(struct glue *g)
{
	static struct vq_req req;
	int r = 0;

	while (blk_queue_free_slots(g->q) && (r = vq_pop(&g->vq, &req)) > 0) {
		struct blk_req_in in = {
			req.rd, req.nr_rd, req.wr, req.nr_wr, req.head, NULL,
		};

		if (blk_queue_submit(g->q, &in) == -EINVAL)
			return -EINVAL;		/* no status byte: queue broken */
	}
	if (r < 0)
		return r;
	CHECK(blk_queue_commit(g->q) == 0);
	g->n = 0;
	blk_queue_complete(g->q, push_cb, g);
	if (g->n)
		CHECK(vq_push_batch(&g->vq, g->used, g->n) >= 0);
	return g->n;
}

static void fill(u8 *p, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

static void make_file(void)
{
	int fd;

	strcpy(path, "/dev/shm/blk_ring.XXXXXX");
	fd = mkstemp(path);
	CHECK(fd >= 0);
	fill(model, sizeof(model), 3);
	CHECK(write(fd, model, sizeof(model)) == (ssize_t)sizeof(model));
	close(fd);
}

static void check_file(void)
{
	static u8 buf[DISK_SIZE];
	int fd = open(path, O_RDONLY);

	CHECK(fd >= 0);
	CHECK(pread(fd, buf, sizeof(buf), 0) == (ssize_t)sizeof(buf));
	close(fd);
	CHECK(!memcmp(buf, model, sizeof(buf)));
}

/*
 * Request i of a round.  Writes go to [0, 2 MiB) and reads to [2 MiB, 4 MiB)
 * (never written), so requests in flight together never overlap.
 */
static void prepare(unsigned int i)
{
	struct greq *g = &reqs[i];
	u8 *area = ram + REQ_AREA + (size_t)(i % (QSIZE * 2)) * 8192 * 3;

	memset(g, 0, sizeof(*g));
	g->hdr = (void *)area;
	g->seg = (void *)(area + 16);
	g->status = area + 32;
	g->table = (void *)(area + 64);		/* 24 descriptors: 384 bytes */
	g->data = area + 4096;
	*g->status = 0xee;
	g->expect = VIRTIO_BLK_S_OK;
	switch (i % 7) {
	case 0: case 6:
		g->type = VIRTIO_BLK_T_OUT;
		g->sector = (i * 8) % 4096;
		g->dlen = 4096;
		fill(g->data, g->dlen, i);
		break;
	case 1: case 5:
		g->type = VIRTIO_BLK_T_IN;
		g->sector = 4096 + (i * 24) % 4000;
		g->dlen = i % 2 ? 8192 : 512;
		break;
	case 2:
		g->type = VIRTIO_BLK_T_FLUSH;
		break;
	case 3:
		g->type = VIRTIO_BLK_T_GET_ID;
		g->dlen = 20;
		break;
	case 4:
		if (i % 2) {
			g->type = VIRTIO_BLK_T_WRITE_ZEROES;
			g->sector = (i * 8) % 4096;
			g->seg->sector = cpu_to_le64(g->sector);
			g->seg->num_sectors = cpu_to_le32(8);
			g->seg->flags = 0;
		} else {
			g->type = VIRTIO_BLK_T_IN;	/* hostile: not 512-aligned */
			g->dlen = 100;
			g->expect = VIRTIO_BLK_S_IOERR;
		}
		break;
	}
	g->hdr->type = cpu_to_le32(g->type);
	g->hdr->ioprio = 0;
	g->hdr->sector = cpu_to_le64(g->sector);
}

/* Queue request i on the driver side; false when the ring is full. */
static bool add(struct vq_drv *d, unsigned int i, bool indirect)
{
	struct greq *g = &reqs[i];
	struct vq_drv_sg sg[24];
	unsigned int n = 0;
	int r;

	sg[n++] = (struct vq_drv_sg){ vq_drv_gpa(d, g->hdr), 8, false };
	sg[n++] = (struct vq_drv_sg){ vq_drv_gpa(d, g->hdr) + 8, 8, false };
	if (g->type == VIRTIO_BLK_T_WRITE_ZEROES)
		sg[n++] = (struct vq_drv_sg){ vq_drv_gpa(d, g->seg), 16, false };
	if (g->dlen) {
		bool w = g->type != VIRTIO_BLK_T_OUT;

		if (indirect && g->dlen >= 4096) {
			/* Many 512-byte segments through an indirect table. */
			for (u32 off = 0; off < g->dlen && n < 21; off += 512)
				sg[n++] = (struct vq_drv_sg){
					vq_drv_gpa(d, g->data + off), 512, w };
			g->dlen = (n - 2) * 512;
		} else {
			sg[n++] = (struct vq_drv_sg){ vq_drv_gpa(d, g->data), g->dlen, w };
		}
	}
	sg[n++] = (struct vq_drv_sg){ vq_drv_gpa(d, g->status), 1, true };
	if (indirect)
		r = vq_drv_add_indirect(d, sg, n, g->table, g);
	else
		r = vq_drv_add(d, sg, n, g);
	if (r == -VQ_DRV_ENOSPC)
		return false;
	CHECK(r >= 0);
	return true;
}

static void reaped(struct blk_disk *disk, struct greq *g, u32 len)
{
	CHECK(!g->done);
	g->done = true;
	CHECK(*g->status == g->expect);
	if (g->expect != VIRTIO_BLK_S_OK) {
		CHECK(len == 1);
		return;
	}
	switch (g->type) {
	case VIRTIO_BLK_T_IN:
		CHECK(len == g->dlen + 1);
		CHECK(!memcmp(g->data, model + g->sector * 512, g->dlen));
		break;
	case VIRTIO_BLK_T_GET_ID:
		CHECK(len == 21 && !memcmp(g->data, disk->serial, 20));
		break;
	default:
		CHECK(len == 1);
		break;
	}
}

static void round_trip(enum blk_engine_kind e, bool indirect)
{
	static struct vq_drv_slot slots[QSIZE];
	struct blk_queue_opts o = { .engine = e, .depth = QSIZE };
	struct vq_mem mem;
	struct vq_mem_region reg = {
		.gpa = 0, .size = RAM_SIZE, .hva = (uintptr_t)ram,
		.uaddr = (uintptr_t)ram, .fd = -1,
	};
	u64 features = indirect ? 1ull << VIRTIO_RING_F_INDIRECT_DESC : 0;
	struct vq_drv_cfg cfg = {
		.num = QSIZE, .ring = ram, .slots = slots, .features = features,
		.gpa_offset = -(u64)(uintptr_t)ram,
	};
	static struct glue g;
	struct blk_disk *disk;
	struct vq_drv d;
	unsigned int next = 0, done = 0, low = 0;

	make_file();
	CHECK(blk_disk_open(path, BLK_CACHE_WRITEBACK, false, &disk) == 0);
	CHECK(blk_queue_create(disk, &o, &g.q) == 0);
	vq_mem_init(&mem);
	CHECK(vq_mem_add_region(&mem, &reg) == 0);
	CHECK(vq_drv_init(&d, &cfg) == 0);
	vq_init(&g.vq, &mem);
	CHECK(vq_set_num(&g.vq, QSIZE) == 0);
	CHECK(vq_set_features(&g.vq, features) == 0);
	CHECK(vq_set_addr(&g.vq, vq_drv_desc_gpa(&d), vq_drv_avail_gpa(&d),
			  vq_drv_used_gpa(&d)) == 0);
	CHECK(vq_start(&g.vq) == 0);

	while (done < NREQ) {
		void *token;
		u32 len;
		int progress = 0, r;

		/*
		 * Driver: fill the ring (writes are applied to the model at add).
		 * Completions come in any order (the threads engine), so the ring
		 * bounds how many are in flight, not how far apart: request i
		 * shares its buffers with i + 256 and its sectors with i + 512,
		 * so nothing is added 256 or more past the oldest unfinished one.
		 */
		while (low < next && reqs[low].done)
			low++;
		while (next < NREQ && next - done < QSIZE && next - low < QSIZE * 2) {
			prepare(next);
			if (!add(&d, next, indirect))
				break;
			if (reqs[next].type == VIRTIO_BLK_T_OUT)
				memcpy(model + reqs[next].sector * 512, reqs[next].data,
				       reqs[next].dlen);
			if (reqs[next].type == VIRTIO_BLK_T_WRITE_ZEROES)
				memset(model + reqs[next].sector * 512, 0, 8 * 512);
			next++;
		}
		vq_drv_kick_prepare(&d);
		/* Device: one pass of the queue thread. */
		r = pump(&g);
		CHECK(r >= 0);
		progress += r;
		/* Driver: reap. */
		while ((r = vq_drv_get_used(&d, &token, &len)) > 0) {
			reaped(disk, token, len);
			done++;
			progress++;
		}
		CHECK(r == 0);
		if (!progress && blk_queue_inflight(g.q)) {
			struct pollfd p = { blk_queue_event_fd(g.q), POLLIN, 0 };
			u64 v;

			CHECK(poll(&p, 1, 30000) == 1);	/* hang guard only */
			CHECK(read(p.fd, &v, sizeof(v)) == sizeof(v));
		}
	}
	CHECK(blk_queue_inflight(g.q) == 0);
	check_file();

	/* A chain with no writable byte: the glue learns it must break the queue. */
	prepare(0);
	{
		struct vq_drv_sg sg[2] = {
			{ vq_drv_gpa(&d, reqs[0].hdr), 16, false },
			{ vq_drv_gpa(&d, reqs[0].status), 1, false },
		};

		CHECK(vq_drv_add(&d, sg, 2, &reqs[0]) >= 0);
		vq_drv_kick_prepare(&d);
		CHECK(pump(&g) == -EINVAL);
		CHECK(*reqs[0].status == 0xee && blk_queue_inflight(g.q) == 0);
	}
	vq_stop(&g.vq);
	blk_queue_destroy(g.q);
	blk_disk_close(disk);
	cleanup();
	printf("ok: %s%s, %d requests\n", blk_engine_name(e),
	       indirect ? " indirect" : "", NREQ);
}

int main(void)
{
	static const enum blk_engine_kind engines[] = {
		BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_SYNC, BLK_ENGINE_THREADS,
	};
	int ran = 0;

	atexit(cleanup);
	CHECK(!posix_memalign((void **)&ram, 4096, RAM_SIZE));
	memset(ram, 0, RAM_SIZE);
	for (unsigned int i = 0; i < ARRAY_SIZE(engines); i++) {
		if (blk_engine_probe(engines[i]) < 0) {
			fprintf(stderr, "engine %s unavailable, not tested\n",
				blk_engine_name(engines[i]));
			continue;
		}
		round_trip(engines[i], false);
		round_trip(engines[i], true);
		ran++;
	}
	free(ram);
	if (!ran) {
		fprintf(stderr, "no engine available\n");
		return 77;
	}
	return 0;
}
