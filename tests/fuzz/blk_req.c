// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for libvublk's virtio-blk request layer (req.c), and,
 * on request, the queue around it (queue.c + the sync engine) on a memfd.
 *
 * Security model: the fuzzer input plays the hostile guest.  It chooses the
 * chain's shape (how many readable and writable descriptors, each length),
 * every byte of the readable part (header, data, DISCARD/WRITE_ZEROES
 * segment) and the device state (read-only, wce, capacity, discard and
 * write-zeroes limits).  Each descriptor is its own allocation of exactly its
 * length, so ASan sees any access past one; in "shared" mode all descriptors
 * are carved out of one arena at fuzzer-chosen offsets, so they may overlap
 * each other (status byte inside data, header inside the GET_ID answer, ...).
 *
 * Oracle: an independent model of the request table in
 * vhost-user/blk/README.md computes what blk_req_parse() must decide (op,
 * status, byte range, flags, used length); the slot it fills must agree, and
 * its data segments, concatenated, must be exactly the chain's bytes that
 * the request covers (same addresses, in order, none empty, at most seg_max).
 * Through the queue (sync engine on a 64 KiB memfd, writeback or O_DIRECT,
 * read-write or read-only), the callback must come once with the right head
 * and used length, the status byte must hold the final status, and the memfd
 * must hold exactly what the model says (reads return the disk's bytes;
 * writes, discards and zeroes change their range and nothing else).
 *
 * Input:
 *   [0] flags: bit0 read-only, bit1 wce = 0, bit2 discard offered, bit3
 *       ZERO_RANGE allowed, bit4 also run through the queue, bit5 shared
 *       arena, bit6 O_DIRECT (queue), bit7 write-through disk (dsync)
 *   [1] bits 0-2: capacity, bits 3-4: discard limit, bits 5-6: write-zeroes
 *       limit (tables below)
 *   [2] seg_max (0 -> BLK_SEG_MAX_LIMIT)
 *   [3] readable descriptors (% 17), [4] writable descriptors (% 17)
 *   [5..] per descriptor, readable first: le16 length, le16 arena offset
 *   rest: the readable bytes in chain order (repeated when short)
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/falloc.h>

#include "../../vhost-user/blk/internal.h"

#define MAX_IOV		16
#define ARENA		(64 * 1024)
#define DISK_SECTORS	128u
#define DISK_BYTES	(DISK_SECTORS * BLK_SECTOR_SIZE)
#define POISON		0xa5
#define HDR_SIZE	sizeof(struct virtio_blk_outhdr)

#define F_RO		0x01
#define F_WCE_OFF	0x02
#define F_DISCARD	0x04
#define F_ZERO_RANGE	0x08
#define F_QUEUE		0x10
#define F_SHARED	0x20
#define F_DIRECT	0x40
#define F_DSYNC		0x80

#define check(cond) do {						\
	if (!(cond)) {							\
		fprintf(stderr, "blk_req: check failed at line %d: %s\n",	\
			__LINE__, #cond);					\
		abort();						\
	}								\
} while (0)

struct chain {
	struct iovec out[MAX_IOV], in[MAX_IOV];
	unsigned int out_n, in_n;
	u64 out_total, in_total;
};

struct expect {
	int ret;		/* 0 or -EINVAL */
	u8 op;			/* enum blk_io_op after parsing */
	u8 kind;
	u8 status;		/* when op == BLK_IO_DONE */
	u32 wlen;		/* used len at parse time */
	u64 offset, total;
	int rw_flags, fa_mode;
	u64 getid_n;		/* GET_ID bytes copied */
};

static const u64 capacities[8] = {
	0, 1, 8, DISK_SECTORS, DISK_SECTORS + 1, 0xffffffffull,
	UINT64_MAX >> BLK_SECTOR_SHIFT, UINT64_MAX,
};
static const u32 trim_limits[4] = { 0, 1, 8, 1u << 22 };
static const char serial[VIRTIO_BLK_ID_BYTES] = "fuzz-serial-01234567";

static u8 *arena;
static u8 *pattern;		/* what the memfd holds at the start of each input */
static u8 *disk_now;
static int memfd = -1;
/* [direct][readonly]; NULL when that open failed (O_DIRECT refused) */
static struct blk_disk *qdisk[2][2];

static u64 iov_total(const struct iovec *iov, unsigned int n)
{
	u64 t = 0;

	for (unsigned int i = 0; i < n; i++)
		t += iov[i].iov_len;
	return t;
}

/* The address of byte @pos of the chain part, and how many bytes follow it there. */
static u8 *chain_at(const struct iovec *iov, unsigned int n, u64 pos, u64 *contig)
{
	for (unsigned int i = 0; i < n; i++) {
		if (pos < iov[i].iov_len) {
			*contig = iov[i].iov_len - pos;
			return (u8 *)iov[i].iov_base + pos;
		}
		pos -= iov[i].iov_len;
	}
	*contig = 0;
	return NULL;
}

static void chain_read(const struct iovec *iov, unsigned int n, u64 pos, void *dst, u64 len)
{
	u8 *d = dst;

	while (len) {
		u64 c;
		u8 *p = chain_at(iov, n, pos, &c);

		check(p);
		if (c > len)
			c = len;
		memcpy(d, p, c);
		d += c;
		pos += c;
		len -= c;
	}
}

/* Non-empty pieces of the chain part overlapping [skip, skip + len). */
static u64 seg_count(const struct iovec *iov, unsigned int n, u64 skip, u64 len)
{
	u64 segs = 0, start = 0;

	for (unsigned int i = 0; i < n; i++) {
		u64 end = start + iov[i].iov_len;

		if (iov[i].iov_len && end > skip && start < skip + len)
			segs++;
		start = end;
	}
	return segs;
}

static bool range_ok(const struct blk_disk *d, u64 sector, u64 nsect)
{
	return sector <= d->capacity && nsect <= d->capacity - sector;
}

static void refuse(struct expect *e, u8 status)
{
	e->op = BLK_IO_DONE;
	e->status = status;
}

/* The request table of vhost-user/blk/README.md, written independently of req.c. */
static void model(const struct blk_disk *d, const struct chain *c, unsigned int seg_max,
		  struct expect *e)
{
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg;
	bool wce = d->wce;
	u64 sector, len, skip;
	u32 type, flags;

	memset(e, 0, sizeof(*e));
	if (!c->in_total) {
		e->ret = -EINVAL;
		return;
	}
	e->wlen = 1;
	e->kind = BLK_KIND_NONE;
	if (c->out_total < HDR_SIZE)
		return refuse(e, VIRTIO_BLK_S_IOERR);
	chain_read(c->out, c->out_n, 0, &hdr, sizeof(hdr));
	type = le32_to_cpu(hdr.type);
	sector = le64_to_cpu(hdr.sector);

	switch (type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		e->kind = type == VIRTIO_BLK_T_IN ? BLK_KIND_IN : BLK_KIND_OUT;
		if (type == VIRTIO_BLK_T_OUT && d->readonly)
			return refuse(e, VIRTIO_BLK_S_IOERR);
		len = type == VIRTIO_BLK_T_IN ? c->in_total - 1 : c->out_total - HDR_SIZE;
		skip = type == VIRTIO_BLK_T_IN ? 0 : HDR_SIZE;
		if (len % BLK_SECTOR_SIZE || !range_ok(d, sector, len / BLK_SECTOR_SIZE))
			return refuse(e, VIRTIO_BLK_S_IOERR);
		if (type == VIRTIO_BLK_T_IN ? seg_count(c->in, c->in_n, skip, len) > seg_max :
		    seg_count(c->out, c->out_n, skip, len) > seg_max)
			return refuse(e, VIRTIO_BLK_S_IOERR);
		if (!len)
			return refuse(e, VIRTIO_BLK_S_OK);
		e->op = type == VIRTIO_BLK_T_IN ? BLK_IO_READ : BLK_IO_WRITE;
		e->offset = sector * BLK_SECTOR_SIZE;
		e->total = len;
		if (type == VIRTIO_BLK_T_OUT && !d->dsync && !wce)
			e->rw_flags = RWF_DSYNC;
		return;
	case VIRTIO_BLK_T_FLUSH:
		e->kind = BLK_KIND_FLUSH;
		if (d->readonly)
			return refuse(e, VIRTIO_BLK_S_OK);
		e->op = BLK_IO_FLUSH;
		return;
	case VIRTIO_BLK_T_GET_ID:
		e->kind = BLK_KIND_GET_ID;
		e->getid_n = c->in_total - 1 < VIRTIO_BLK_ID_BYTES ? c->in_total - 1 :
			     VIRTIO_BLK_ID_BYTES;
		e->wlen = e->getid_n + 1;
		return refuse(e, VIRTIO_BLK_S_OK);
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES: {
		bool discard = type == VIRTIO_BLK_T_DISCARD;
		u64 nsect;

		e->kind = discard ? BLK_KIND_DISCARD : BLK_KIND_WRITE_ZEROES;
		if (d->readonly)
			return refuse(e, VIRTIO_BLK_S_IOERR);
		if (discard && !d->discard)
			return refuse(e, VIRTIO_BLK_S_UNSUPP);
		if (c->out_total - HDR_SIZE != sizeof(seg))
			return refuse(e, VIRTIO_BLK_S_IOERR);
		chain_read(c->out, c->out_n, HDR_SIZE, &seg, sizeof(seg));
		sector = le64_to_cpu(seg.sector);
		nsect = le32_to_cpu(seg.num_sectors);
		flags = le32_to_cpu(seg.flags);
		if (discard ? flags != 0 : (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) != 0)
			return refuse(e, VIRTIO_BLK_S_UNSUPP);
		if (nsect > (discard ? d->max_discard_sectors : d->max_write_zeroes_sectors) ||
		    !range_ok(d, sector, nsect))
			return refuse(e, VIRTIO_BLK_S_IOERR);
		if (!nsect)
			return refuse(e, VIRTIO_BLK_S_OK);
		e->offset = sector * BLK_SECTOR_SIZE;
		e->total = nsect * BLK_SECTOR_SIZE;
		if (d->dsync || !wce)
			e->rw_flags = RWF_DSYNC;
		e->op = BLK_IO_FALLOC;
		if (discard || ((flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && d->discard))
			e->fa_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
		else if (d->zero_range)
			e->fa_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
		else
			e->op = BLK_IO_ZERO_WRITE;
		return;
	}
	default:
		return refuse(e, VIRTIO_BLK_S_UNSUPP);
	}
}

/* The status byte: the last byte of the last non-empty writable descriptor. */
static u8 *status_addr(const struct chain *c)
{
	for (unsigned int i = c->in_n; i-- > 0;)
		if (c->in[i].iov_len)
			return (u8 *)c->in[i].iov_base + c->in[i].iov_len - 1;
	return NULL;
}

static void check_slot(const struct blk_io *io, const struct chain *c, const struct expect *e,
		       unsigned int seg_max)
{
	const struct iovec *part = io->op == BLK_IO_READ ? c->in : c->out;
	unsigned int part_n = io->op == BLK_IO_READ ? c->in_n : c->out_n;
	u64 pos = io->op == BLK_IO_READ ? 0 : HDR_SIZE, sum = 0;

	check(io->status == status_addr(c));
	check(io->op == e->op);
	check(io->kind == e->kind);
	if (e->op == BLK_IO_DONE) {
		check(io->result == e->status);
		check(io->wlen == e->wlen);
		return;
	}
	check(io->wlen == 1);
	check(io->bounce == NULL);
	if (e->op == BLK_IO_FLUSH)
		return;
	check(io->offset == e->offset);
	check(io->resid == e->total && io->total == e->total);
	check(io->rw_flags == e->rw_flags);
	if (e->op == BLK_IO_FALLOC)
		check(io->fa_mode == e->fa_mode);
	if (e->op != BLK_IO_READ && e->op != BLK_IO_WRITE)
		return;
	/* The data segments are the chain's bytes of the request, in order. */
	check(io->data_n >= 1 && io->data_n <= seg_max);
	check(io->iov == io->iov_store && io->iovcnt == io->data_n);
	for (unsigned int i = 0; i < io->data_n; i++) {
		u64 contig;
		u8 *want = chain_at(part, part_n, pos, &contig);

		check(io->iov_store[i].iov_len > 0);
		check(io->iov_store[i].iov_base == want);
		check(io->iov_store[i].iov_len <= contig);
		pos += io->iov_store[i].iov_len;
		sum += io->iov_store[i].iov_len;
	}
	check(sum == e->total);
}

struct done_ctx {
	unsigned int calls;
	u16 head;
	u32 len;
	void *cookie;
};

static void on_done(void *opaque, u16 head, u32 len, void *cookie)
{
	struct done_ctx *dc = opaque;

	dc->calls++;
	dc->head = head;
	dc->len = len;
	dc->cookie = cookie;
}

static void disk_reset(void)
{
	check(pwrite(memfd, pattern, DISK_BYTES, 0) == DISK_BYTES);
}

/* Through the queue: sync engine, the memfd behind @d. */
static void run_queue(struct blk_disk *d, const struct chain *c, unsigned int seg_max,
		      bool shared, u16 head)
{
	struct blk_queue_opts opts = { .engine = BLK_ENGINE_SYNC, .depth = 1,
				       .seg_max = seg_max };
	struct blk_req_in in = { c->out, c->out_n, c->in, c->in_n, head, &opts };
	struct done_ctx dc = { 0 };
	struct blk_queue *q;
	struct expect e;
	u8 *st = status_addr(c);
	u8 want;
	u32 wlen;
	int r;

	disk_reset();
	for (unsigned int i = 0; i < c->in_n && !shared; i++)
		memset(c->in[i].iov_base, POISON, c->in[i].iov_len);
	model(d, c, seg_max, &e);
	check(blk_queue_create(d, &opts, &q) == 0);
	r = blk_queue_submit(q, &in);
	check(r == e.ret);
	if (r) {
		check(blk_queue_inflight(q) == 0);
		blk_queue_destroy(q);
		return;
	}
	check(blk_queue_commit(q) == 0);
	check(blk_queue_complete(q, on_done, &dc) == 1);
	check(dc.calls == 1 && dc.head == head && dc.cookie == &opts);
	check(blk_queue_inflight(q) == 0);
	check(blk_queue_drain(q, on_done, &dc) == 0 && dc.calls == 1);
	blk_queue_destroy(q);

	/* Requests the kernel runs succeed on a memfd, except O_DIRECT ones it may refuse. */
	want = e.op == BLK_IO_DONE ? e.status : VIRTIO_BLK_S_OK;
	if (d->direct && (e.op == BLK_IO_READ || e.op == BLK_IO_WRITE) &&
	    READ_ONCE(*st) == VIRTIO_BLK_S_IOERR)
		want = VIRTIO_BLK_S_IOERR;
	check(READ_ONCE(*st) == want);
	wlen = e.wlen;
	if (e.op == BLK_IO_READ && want == VIRTIO_BLK_S_OK)
		wlen = e.total + 1;
	check(dc.len == wlen);

	check(pread(memfd, disk_now, DISK_BYTES, 0) == DISK_BYTES);
	if (want != VIRTIO_BLK_S_OK || e.op == BLK_IO_DONE || e.op == BLK_IO_FLUSH ||
	    e.op == BLK_IO_READ) {
		check(!memcmp(disk_now, pattern, DISK_BYTES));
		if (e.op == BLK_IO_READ && want == VIRTIO_BLK_S_OK && !shared) {
			static u8 got[DISK_BYTES];

			check(e.total <= DISK_BYTES);
			chain_read(c->in, c->in_n, 0, got, e.total);
			check(!memcmp(got, pattern + e.offset, e.total));
		}
		if (e.kind == BLK_KIND_GET_ID && !shared) {
			u8 got[VIRTIO_BLK_ID_BYTES];

			chain_read(c->in, c->in_n, 0, got, e.getid_n);
			check(!memcmp(got, d->serial, e.getid_n));
		}
		return;
	}
	/* A write, discard or zeroing changed its range and nothing else. */
	check(e.offset + e.total <= DISK_BYTES);
	check(!memcmp(disk_now, pattern, e.offset));
	check(!memcmp(disk_now + e.offset + e.total, pattern + e.offset + e.total,
		      DISK_BYTES - e.offset - e.total));
	if (e.op == BLK_IO_WRITE) {
		if (!shared) {
			static u8 data[DISK_BYTES];

			chain_read(c->out, c->out_n, HDR_SIZE, data, e.total);
			check(!memcmp(disk_now + e.offset, data, e.total));
		}
	} else {
		for (u64 i = 0; i < e.total; i++)
			check(disk_now[e.offset + i] == 0);
	}
}

static void open_disks(void)
{
	char path[64];

	memfd = memfd_create("blk_req-fuzz", MFD_CLOEXEC);
	check(memfd >= 0);
	pattern = malloc(DISK_BYTES);
	disk_now = malloc(DISK_BYTES);
	arena = malloc(ARENA);
	check(pattern && disk_now && arena);
	for (u32 i = 0; i < DISK_BYTES; i++)
		pattern[i] = (u8)(i * 7 + i / BLK_SECTOR_SIZE + 1);
	disk_reset();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
	for (int direct = 0; direct < 2; direct++) {
		for (int ro = 0; ro < 2; ro++) {
			if (blk_disk_open(path, direct ? BLK_CACHE_NONE : BLK_CACHE_WRITEBACK,
					  ro, &qdisk[direct][ro]))
				qdisk[direct][ro] = NULL;
		}
	}
	check(qdisk[0][0] && qdisk[0][1]);
	check(qdisk[0][0]->capacity == DISK_SECTORS);
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	u8 *bufs[2 * MAX_IOV] = { 0 };
	struct blk_disk fake;
	struct chain c;
	struct expect e;
	struct blk_io *io;
	unsigned int seg_max, nb = 0;
	const u8 *payload;
	size_t plen, pi = 0;
	u8 flags;
	int r;

	if (memfd < 0)
		open_disks();
	if (size < 5)
		return 0;
	flags = data[0];
	seg_max = data[2] ? data[2] : BLK_SEG_MAX_LIMIT;
	memset(&c, 0, sizeof(c));
	c.out_n = data[3] % (MAX_IOV + 1);
	c.in_n = data[4] % (MAX_IOV + 1);
	if (size < 5 + 4 * (size_t)(c.out_n + c.in_n))
		return 0;
	payload = data + 5 + 4 * (c.out_n + c.in_n);
	plen = size - 5 - 4 * (c.out_n + c.in_n);

	/* Build the chain; readable bytes come from the payload. */
	for (unsigned int i = 0; i < c.out_n + c.in_n; i++) {
		const u8 *p = data + 5 + 4 * i;
		size_t len = p[0] | p[1] << 8, off = p[2] | p[3] << 8;
		struct iovec *v = i < c.out_n ? &c.out[i] : &c.in[i - c.out_n];
		u8 *b;

		if (flags & F_SHARED) {
			if (off > ARENA)
				off = ARENA;
			if (len > ARENA - off)
				len = ARENA - off;
			b = arena + off;
		} else {
			/* Never malloc(0): an empty descriptor still has a unique address. */
			b = malloc(len ? len : 1);
			check(b);
			bufs[nb++] = b;
		}
		v->iov_base = b;
		v->iov_len = len;
	}
	if (flags & F_SHARED)
		memset(arena, POISON, ARENA);
	for (unsigned int i = 0; i < c.in_n && !(flags & F_SHARED); i++)
		memset(c.in[i].iov_base, POISON, c.in[i].iov_len);
	for (unsigned int i = 0; i < c.out_n; i++) {
		u8 *b = c.out[i].iov_base;

		for (size_t k = 0; k < c.out[i].iov_len; k++, pi++)
			b[k] = plen ? payload[pi % plen] : 0;
	}
	c.out_total = iov_total(c.out, c.out_n);
	c.in_total = iov_total(c.in, c.in_n);

	/* 1. The parser alone, on a made-up disk. */
	memset(&fake, 0, sizeof(fake));
	fake.fd = -1;
	fake.readonly = flags & F_RO;
	fake.dsync = (flags & F_DSYNC) && !fake.readonly;
	fake.discard = (flags & F_DISCARD) && !fake.readonly;
	fake.wce = !(flags & F_WCE_OFF);
	fake.zero_range = !!(flags & F_ZERO_RANGE);
	fake.capacity = capacities[data[1] & 7];
	fake.max_discard_sectors = trim_limits[(data[1] >> 3) & 3];
	fake.max_write_zeroes_sectors = trim_limits[(data[1] >> 5) & 3];
	fake.blk_size = BLK_SECTOR_SIZE;
	fake.mem_align = 1;
	memcpy(fake.serial, serial, sizeof(serial));

	model(&fake, &c, seg_max, &e);
	io = malloc(sizeof(*io) + seg_max * sizeof(struct iovec));
	check(io);
	memset(io, 0x5a, sizeof(*io));
	io->bounce = NULL;
	r = blk_req_parse(&fake, &(struct blk_req_in){ c.out, c.out_n, c.in, c.in_n, 0, NULL },
			  io, seg_max);
	check(r == e.ret);
	if (!r) {
		check_slot(io, &c, &e, seg_max);
		if (e.kind == BLK_KIND_GET_ID && !(flags & F_SHARED)) {
			u8 got[VIRTIO_BLK_ID_BYTES];

			chain_read(c.in, c.in_n, 0, got, e.getid_n);
			check(!memcmp(got, serial, e.getid_n));
		}
	}
	free(io);

	/* 2. Through a queue on the memfd, with the same chain. */
	if (flags & F_QUEUE) {
		struct blk_disk *d = qdisk[!!(flags & F_DIRECT)][!!(flags & F_RO)];
		u8 wce = !(flags & F_WCE_OFF);

		if (!d)
			d = qdisk[0][!!(flags & F_RO)];
		if (!d->readonly)
			check(blk_disk_set_config(d, offsetof(struct virtio_blk_config, wce),
						  &wce, 1) == 0);
		/* The payload may have been overwritten by GET_ID in shared mode: rebuild. */
		if (flags & F_SHARED) {
			memset(arena, POISON, ARENA);
			pi = 0;
			for (unsigned int i = 0; i < c.out_n; i++) {
				u8 *b = c.out[i].iov_base;

				for (size_t k = 0; k < c.out[i].iov_len; k++, pi++)
					b[k] = plen ? payload[pi % plen] : 0;
			}
		}
		run_queue(d, &c, seg_max, flags & F_SHARED, (u16)(size * 31));
	}
	for (unsigned int i = 0; i < nb; i++)
		free(bufs[i]);
	return 0;
}
