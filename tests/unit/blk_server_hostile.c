// SPDX-License-Identifier: MIT
/*
 * blk_server against hostile and failing front-ends, as a unit test and as a
 * client for the integration tests that drive build/vhost-user-blk.
 *
 * A small virtio-blk "guest": our vhost-user front-end (frontend.h) hands a
 * memfd and split rings built with virtio/'s driver side (vq_drv) to the
 * back-end, then sends chains.  Modes:
 *
 *   (no arguments)   unit test: a temp disk, blk_server in this process on a
 *                    thread, and every mode below against it, plus the
 *                    socketpair (in-process) mode and the stats.
 *   case10  --socket S --disk F [--queues 2]
 *                    SECURITY.md case 10 chains: IOERR and nothing written,
 *                    a chain without a writable status byte breaks that
 *                    queue (err eventfd), a bad head breaks it too; the other
 *                    queue and the next connection still work.
 *   readonly --socket S --disk F    (a --readonly back-end) OUT, WRITE_ZEROES,
 *                    DISCARD answer IOERR, reads and FLUSH work, F unchanged.
 *   flush   --socket S --disk F [--count N]
 *                    N writes each followed by a FLUSH, all OK, data in F.
 *   hostile --socket S [--pid P] [--reps N]
 *                    SECURITY.md cases 12-17 as raw messages: each connection
 *                    is dropped; after N repetitions of each, the back-end's
 *                    /proc/P/fd and /proc/P/maps counts are what they were,
 *                    and it still serves I/O.
 *   shrink  --socket S
 *                    the front-end truncates its memory file under a started
 *                    queue and kicks it: the back-end (SIGBUS guard) drops
 *                    that connection and serves the next one.
 *   inflight --prog EXE --socket S --disk F [--kills N] [--log L] [-- ARGS]
 *                    SECURITY.md case 19: runs EXE --socket S --disk F ARGS,
 *                    writes blocks (a pattern naming block and generation),
 *                    SIGKILLs EXE N times with writes in flight, restarts it,
 *                    reconnects and replays (inflight region kept), and at
 *                    the end checks every block of F holds its last completed
 *                    write.  Prints "resubmit_seen" lines count from L.
 *
 * Exit 0 pass, 1 fail, 77 skip.
 */
#include <getopt.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/virtio_blk.h>

#include <virtio/vq_drv.h>
#include <vhost-user/blk_server.h>

#include "vhu_test.h"

#define RAM_SIZE	(16u << 20)
#define RING_BASE	0x10000u	/* queue q's ring at RING_BASE + q * RING_STEP */
#define RING_STEP	0x10000u
#define BUF_BASE	(1u << 20)	/* slot i's buffers: BUF_BASE + i * SLOT_SIZE */
#define SLOT_SIZE	8192u		/* hdr 0..15, seg 16..31, status 48, data 4096 */
#define QSZ		128
#define MAXQ		2
#define BLK		4096u

/* --- the client ------------------------------------------------------------ */

struct cl {
	struct vhost_dev *d;
	struct t_ram ram;
	u8 *g;
	unsigned int nq;
	u64 features;
	bool inflight;
	struct vq_drv drv[MAXQ];
	struct vq_drv_slot slots[MAXQ][QSZ];
	int kick[MAXQ], call[MAXQ], err[MAXQ];
};

static void cl_rings(struct cl *c, bool fresh)
{
	struct vq_mem mem;

	t_ram_table(&c->ram, &mem);
	CHECK_EQ(c->d->ops->set_features(c->d, c->features), 0);
	CHECK_EQ(c->d->ops->set_mem_table(c->d, &mem), 0);
	if (c->inflight)
		CHECK_EQ(vhu_fe_setup_inflight(c->d, c->nq, QSZ), 0);
	for (unsigned int q = 0; q < c->nq; q++) {
		struct vq_drv *v = &c->drv[q];
		struct vhost_vring_gpas a;

		if (fresh) {
			struct vq_drv_cfg cfg = {
				.num = QSZ, .ring = c->g + RING_BASE + q * RING_STEP,
				.slots = c->slots[q], .features = c->features,
				.gpa_offset = (u64)0 - (u64)(uintptr_t)c->g,
			};

			CHECK(vq_drv_ring_bytes(QSZ) <= RING_STEP);
			CHECK_EQ(vq_drv_init(v, &cfg), 0);
		}
		a = (struct vhost_vring_gpas){ .desc = vq_drv_desc_gpa(v),
					       .avail = vq_drv_avail_gpa(v),
					       .used = vq_drv_used_gpa(v) };
		CHECK_EQ(c->d->ops->set_vring_num(c->d, q, QSZ), 0);
		/* After a back-end crash, like QEMU: base = the used index. */
		CHECK_EQ(c->d->ops->set_vring_base(c->d, q,
				fresh ? 0 : le16_to_cpu(READ_ONCE(v->used->idx))), 0);
		CHECK_EQ(c->d->ops->set_vring_addr(c->d, q, &a), 0);
		CHECK_EQ(c->d->ops->set_vring_kick(c->d, q, c->kick[q]), 0);
		CHECK_EQ(c->d->ops->set_vring_call(c->d, q, c->call[q]), 0);
		CHECK_EQ(c->d->ops->set_vring_err(c->d, q, c->err[q]), 0);
		CHECK_EQ(c->d->ops->set_vring_enable(c->d, q, true), 0);
	}
}

static void cl_init(struct cl *c, unsigned int nq, bool inflight)
{
	memset(c, 0, sizeof(*c));
	t_ram_init(&c->ram, 0, RAM_SIZE);
	c->g = c->ram.hva;
	c->nq = nq;
	c->inflight = inflight;
	for (unsigned int q = 0; q < nq; q++) {
		c->kick[q] = eventfd(0, EFD_CLOEXEC);
		c->call[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		c->err[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		CHECK(c->kick[q] >= 0 && c->call[q] >= 0 && c->err[q] >= 0);
	}
}

/* Connected device: negotiate everything the back-end offers. */
static void cl_start(struct cl *c)
{
	c->features = c->d->features & ~(1ull << VIRTIO_F_NOTIFY_ON_EMPTY);
	CHECK(c->d->nr_queues >= c->nq);
	cl_rings(c, true);
}

static void cl_open(struct cl *c, const char *path, unsigned int nq, bool inflight)
{
	cl_init(c, nq, inflight);
	CHECK_EQ(vhu_fe_connect(path, NULL, &c->d), 0);
	cl_start(c);
}

static void cl_close(struct cl *c)
{
	if (c->d)
		c->d->ops->destroy(c->d);
	for (unsigned int q = 0; q < c->nq; q++) {
		close(c->kick[q]);
		close(c->call[q]);
		close(c->err[q]);
	}
	t_ram_fini(&c->ram);
	memset(c, 0, sizeof(*c));
}

static u64 cl_cap(struct cl *c)
{
	u64 cap;

	CHECK_EQ(c->d->ops->get_config(c->d, 0, &cap, 8), 0);
	return le64_to_cpu(cap);
}

static void cl_kick(struct cl *c, unsigned int q)
{
	if (vq_drv_kick_prepare(&c->drv[q])) {
		u64 one = 1;

		CHECK(write(c->kick[q], &one, 8) == 8);
	}
}

/* Next used entry of queue q; false after @ms without one. */
static bool cl_reap(struct cl *c, unsigned int q, void **tok, u32 *len, int ms)
{
	for (;;) {
		struct pollfd p = { .fd = c->call[q], .events = POLLIN };
		int r = vq_drv_get_used(&c->drv[q], tok, len);
		u64 v;

		CHECK(r >= 0);
		if (r > 0)
			return true;
		if (vq_drv_enable_cb(&c->drv[q]))
			continue;	/* raced in */
		if (poll(&p, 1, ms) != 1)
			return false;
		if (read(c->call[q], &v, 8) < 0) {
			/* EAGAIN: already read */
		}
	}
}

static bool fd_readable(int fd, int ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, ms) == 1;
}

/* Slot i's guest buffers. */
struct slot {
	u64 gpa;
	struct virtio_blk_outhdr *hdr;
	struct virtio_blk_discard_write_zeroes *seg;
	u8 *status;
	u8 *data;
};

static struct slot slot_of(struct cl *c, unsigned int i)
{
	u64 gpa = BUF_BASE + (u64)i * SLOT_SIZE;
	struct slot s = {
		.gpa = gpa,
		.hdr = (void *)(c->g + gpa),
		.seg = (void *)(c->g + gpa + 16),
		.status = c->g + gpa + 48,
		.data = c->g + gpa + 4096,
	};

	return s;
}

#define SG_HDR(s)	((struct vq_drv_sg){ (s).gpa, 16, false })
#define SG_STATUS(s)	((struct vq_drv_sg){ (s).gpa + 48, 1, true })
#define SG_DATA(s, n, w) ((struct vq_drv_sg){ (s).gpa + 4096, (n), (w) })

static void set_hdr(struct slot *s, u32 type, u64 sector)
{
	s->hdr->type = cpu_to_le32(type);
	s->hdr->ioprio = 0;
	s->hdr->sector = cpu_to_le64(sector);
	*s->status = 0xee;
}

/* Send one chain on queue q, wait for it; returns the status, *len the used len. */
static u8 cl_do(struct cl *c, unsigned int q, unsigned int slot,
		const struct vq_drv_sg *sg, unsigned int n, u32 *len)
{
	struct slot s = slot_of(c, slot);
	void *tok;
	u32 l;

	CHECK(vq_drv_add(&c->drv[q], sg, n, (void *)(uintptr_t)(slot + 1)) >= 0);
	cl_kick(c, q);
	CHECK(cl_reap(c, q, &tok, &l, 10000));
	CHECK_EQ((uintptr_t)tok, slot + 1);
	if (len)
		*len = l;
	return *s.status;
}

/* Plain requests on slot 0 (data <= 4 KiB). */
static u8 cl_rw(struct cl *c, unsigned int q, u32 type, u64 sector, u32 dlen)
{
	struct slot s = slot_of(c, 0);
	struct vq_drv_sg sg[3];
	unsigned int n = 0;

	set_hdr(&s, type, sector);
	sg[n++] = SG_HDR(s);
	if (dlen)
		sg[n++] = SG_DATA(s, dlen, type != VIRTIO_BLK_T_OUT);
	sg[n++] = SG_STATUS(s);
	return cl_do(c, q, 0, sg, n, NULL);
}

static u8 cl_zeroes(struct cl *c, unsigned int q, u32 type, u64 sector, u32 nsec)
{
	struct slot s = slot_of(c, 0);
	struct vq_drv_sg sg[3];

	set_hdr(&s, type, 0);
	s.seg->sector = cpu_to_le64(sector);
	s.seg->num_sectors = cpu_to_le32(nsec);
	s.seg->flags = 0;
	sg[0] = SG_HDR(s);
	sg[1] = (struct vq_drv_sg){ s.gpa + 16, 16, false };
	sg[2] = SG_STATUS(s);
	return cl_do(c, q, 0, sg, 3, NULL);
}

/* --- files ----------------------------------------------------------------- */

static u8 *file_read(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	u8 *b;

	CHECK(fd >= 0 && fstat(fd, &st) == 0);
	b = malloc(st.st_size ? st.st_size : 1);
	CHECK(b);
	CHECK(pread(fd, b, st.st_size, 0) == st.st_size);
	close(fd);
	*len = st.st_size;
	return b;
}

static void file_same(const char *path, const u8 *want, size_t len)
{
	size_t n;
	u8 *b = file_read(path, &n);

	CHECK_EQ(n, len);
	if (memcmp(b, want, len)) {
		for (size_t i = 0; i < len; i++)
			if (b[i] != want[i]) {
				fprintf(stderr, "disk differs at byte %zu\n", i);
				break;
			}
		CHECK(0);
	}
	free(b);
}

static void fill(u8 *p, size_t n, u32 seed)
{
	for (size_t i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		p[i] = seed >> 16;
	}
}

/* --- SECURITY.md case 10 --------------------------------------------------- */

static void run_case10(const char *sock, const char *disk, unsigned int nq)
{
	struct cl c;
	struct slot s;
	size_t dlen;
	u8 *model = file_read(disk, &dlen);
	u64 cap;
	u32 len;
	u64 v;

	cl_open(&c, sock, nq, false);
	cap = cl_cap(&c);
	CHECK_EQ(cap * 512, dlen);
	s = slot_of(&c, 0);

	/* A good write and read, so the checks below mean something. */
	fill(s.data, BLK, 77);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 8, BLK), VIRTIO_BLK_S_OK);
	memcpy(model + 8 * 512, s.data, BLK);
	memset(s.data, 0, BLK);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 8, BLK), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(s.data, model + 8 * 512, BLK));
	file_same(disk, model, dlen);

	/* Header in a device-writable descriptor. */
	set_hdr(&s, VIRTIO_BLK_T_OUT, 0);
	{
		struct vq_drv_sg sg[] = { { s.gpa, 16, true }, SG_STATUS(s) };

		CHECK_EQ(cl_do(&c, 0, 0, sg, 2, &len), VIRTIO_BLK_S_IOERR);
		CHECK_EQ(len, 1);
	}
	/* Chain too short: 8 header bytes. */
	set_hdr(&s, VIRTIO_BLK_T_OUT, 0);
	{
		struct vq_drv_sg sg[] = { { s.gpa, 8, false }, SG_STATUS(s) };

		CHECK_EQ(cl_do(&c, 0, 0, sg, 2, &len), VIRTIO_BLK_S_IOERR);
		CHECK_EQ(len, 1);
	}
	/* Data not a multiple of 512, both directions. */
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 0, 100), VIRTIO_BLK_S_IOERR);
	fill(s.data, BLK, 5);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 0, 1000), VIRTIO_BLK_S_IOERR);
	/* Past the end, straddling it, overflowing. */
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, cap, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, cap - 1, 1024), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, ~0ull, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 1ull << 55, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, ~0ull - 3, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_zeroes(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, cap - 4, 8),
		 VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_zeroes(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, ~0ull - 2, 8),
		 VIRTIO_BLK_S_IOERR);
	/* Unknown type. */
	CHECK_EQ(cl_rw(&c, 0, 0x4242, 0, 0), VIRTIO_BLK_S_UNSUPP);
	file_same(disk, model, dlen);
	fprintf(stderr, "ok: case 10: write-only header, short chain, unaligned, out of range: IOERR, nothing written\n");

	/* GET_ID: 20 bytes. */
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_GET_ID, 0, 20), VIRTIO_BLK_S_OK);

	/* Read-only status descriptor: no status to answer with: queue broken. */
	set_hdr(&s, VIRTIO_BLK_T_OUT, 16);
	fill(s.data, 512, 9);
	{
		struct vq_drv_sg sg[] = { SG_HDR(s), SG_DATA(s, 512, false),
					  { s.gpa + 48, 1, false } };
		void *tok;

		CHECK(vq_drv_add(&c.drv[0], sg, 3, (void *)1) >= 0);
		cl_kick(&c, 0);
		CHECK(fd_readable(c.err[0], 10000));
		CHECK(read(c.err[0], &v, 8) == 8);
		CHECK(!cl_reap(&c, 0, &tok, &len, 0));
		CHECK_EQ(*s.status, 0xee);
	}
	file_same(disk, model, dlen);
	if (nq > 1) {
		s = slot_of(&c, 1);
		set_hdr(&s, VIRTIO_BLK_T_IN, 8);
		{
			struct vq_drv_sg sg[] = { SG_HDR(s), SG_DATA(s, BLK, true),
						  SG_STATUS(s) };

			CHECK_EQ(cl_do(&c, 1, 1, sg, 3, &len), VIRTIO_BLK_S_OK);
			CHECK_EQ(len, BLK + 1);
			CHECK(!memcmp(s.data, model + 8 * 512, BLK));
		}
		fprintf(stderr, "ok: case 10: read-only status descriptor breaks queue 0 (err eventfd), queue 1 still serves\n");
	} else {
		fprintf(stderr, "ok: case 10: read-only status descriptor breaks the queue (err eventfd)\n");
	}
	cl_close(&c);

	/* A ring error (head out of range) on a fresh connection. */
	cl_open(&c, sock, nq, false);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	{
		struct vq_drv *d = &c.drv[0];
		u16 idx = le16_to_cpu(d->avail->idx);

		d->avail->ring[idx % QSZ] = cpu_to_le16(QSZ + 7);
		__atomic_store_n(&d->avail->idx, cpu_to_le16(idx + 1), __ATOMIC_RELEASE);
		v = 1;
		CHECK(write(c.kick[0], &v, 8) == 8);
		CHECK(fd_readable(c.err[0], 10000));
	}
	if (nq > 1)
		CHECK_EQ(cl_rw(&c, 1, VIRTIO_BLK_T_IN, 0, BLK), VIRTIO_BLK_S_OK);
	cl_close(&c);
	/* The next front-end is served normally. */
	cl_open(&c, sock, nq, false);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 8, BLK), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(slot_of(&c, 0).data, model + 8 * 512, BLK));
	cl_close(&c);
	file_same(disk, model, dlen);
	free(model);
	fprintf(stderr, "ok: case 10: head out of range breaks the queue; the next connection is served\n");
}

/* --- read-only disk -------------------------------------------------------- */

static void run_readonly(const char *sock, const char *disk)
{
	struct cl c;
	size_t dlen;
	u8 *model = file_read(disk, &dlen);
	struct slot s;

	cl_open(&c, sock, 1, false);
	CHECK(c.features & (1ull << VIRTIO_BLK_F_RO));
	s = slot_of(&c, 0);
	fill(s.data, BLK, 3);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 0, BLK), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 64, 512), VIRTIO_BLK_S_IOERR);
	CHECK_EQ(cl_zeroes(&c, 0, VIRTIO_BLK_T_WRITE_ZEROES, 0, 8), VIRTIO_BLK_S_IOERR);
	{
		u8 st = cl_zeroes(&c, 0, VIRTIO_BLK_T_DISCARD, 0, 8);

		CHECK(st == VIRTIO_BLK_S_IOERR || st == VIRTIO_BLK_S_UNSUPP);
	}
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 0, BLK), VIRTIO_BLK_S_OK);
	CHECK(!memcmp(s.data, model, BLK));
	cl_close(&c);
	file_same(disk, model, dlen);
	free(model);
	fprintf(stderr, "ok: read-only disk: OUT, WRITE_ZEROES, DISCARD refused, reads and FLUSH work, file unchanged\n");
}

/* --- FLUSH ----------------------------------------------------------------- */

static void run_flush(const char *sock, const char *disk, unsigned int count)
{
	struct cl c;
	size_t dlen;
	u8 *model = file_read(disk, &dlen);
	struct slot s;

	cl_open(&c, sock, 1, false);
	CHECK(c.features & (1ull << VIRTIO_BLK_F_FLUSH));
	s = slot_of(&c, 0);
	for (unsigned int i = 0; i < count; i++) {
		fill(s.data, BLK, 1000 + i);
		CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, i * 8, BLK), VIRTIO_BLK_S_OK);
		memcpy(model + (size_t)i * BLK, s.data, BLK);
		CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
	}
	cl_close(&c);
	file_same(disk, model, dlen);
	free(model);
	fprintf(stderr, "ok: %u writes each followed by a FLUSH: all OK, data in the file\n", count);
}

/* --- a front-end that shrinks its memory file under a started queue --------- */

/*
 * The fd passed the size check at SET_MEM_TABLE; afterwards the front-end
 * truncates it to 0 with a request queued and rings the doorbell.  The
 * back-end's next ring access raises SIGBUS: its guard must drop only this
 * connection (our next request fails) and serve the next front-end.  This
 * client never touches its own RAM after the truncation (it would fault too).
 */
static void run_shrink(const char *sock)
{
	struct cl c;
	struct slot s;
	struct vq_drv_sg sg[3];
	u64 one = 1, cap;
	int r = 0;

	cl_open(&c, sock, 1, false);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 0, BLK), VIRTIO_BLK_S_OK);
	s = slot_of(&c, 0);
	set_hdr(&s, VIRTIO_BLK_T_IN, 8);
	sg[0] = SG_HDR(s);
	sg[1] = SG_DATA(s, BLK, true);
	sg[2] = SG_STATUS(s);
	CHECK(vq_drv_add(&c.drv[0], sg, 3, (void *)1) >= 0);
	vq_drv_kick_prepare(&c.drv[0]);		/* publish while RAM is there */
	CHECK(ftruncate(c.ram.fd, 0) == 0);
	CHECK(write(c.kick[0], &one, 8) == 8);
	for (int i = 0; i < 1000 && !r; i++) {	/* up to 10 s for the drop */
		r = c.d->ops->get_config(c.d, 0, &cap, 8);
		if (!r)
			usleep(10000);
	}
	CHECK(r != 0);
	cl_close(&c);
	cl_open(&c, sock, 1, false);
	CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_IN, 0, BLK), VIRTIO_BLK_S_OK);
	cl_close(&c);
	fprintf(stderr, "ok: memory file shrunk under a started queue: connection dropped, "
		"the next front-end is served\n");
}

/* --- SECURITY.md cases 12-17: raw messages ---------------------------------- */

static int raw_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct timeval tv = { .tv_sec = 10 };

	CHECK(fd >= 0 && strlen(path) < sizeof(sa.sun_path));
	strcpy(sa.sun_path, path);
	CHECK(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	CHECK(setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == 0);
	return fd;
}

/* The back-end must close the connection (replies before that are skipped). */
static void raw_expect_closed(int fd)
{
	char b[256];

	for (;;) {
		ssize_t r = recv(fd, b, sizeof(b), 0);

		if (r > 0)
			continue;
		CHECK(r == 0 || errno == ECONNRESET);	/* not a timeout */
		break;
	}
	close(fd);
}

/*
 * A connection the back-end has fully set up (answered GET_FEATURES): every
 * earlier connection has been completely released by then (one control
 * thread, one front-end at a time; a newcomer while another is connected is
 * closed at once, so retry).
 */
static int raw_probe(const char *path)
{
	for (int i = 0; i < 1000; i++) {
		int fd = raw_connect(path);
		struct vhu_msg_hdr h = { VHU_REQ_GET_FEATURES, VHU_VERSION, 0 };
		struct { struct vhu_msg_hdr h; u64 v; } __attribute__((packed)) rep;

		CHECK(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h) || errno == EPIPE ||
		      errno == ECONNRESET);
		if (recv(fd, &rep, sizeof(rep), MSG_WAITALL) == sizeof(rep)) {
			CHECK_EQ(rep.h.request, VHU_REQ_GET_FEATURES);
			CHECK(rep.v & (1ull << VIRTIO_F_VERSION_1));
			return fd;
		}
		close(fd);
		poll(NULL, 0, 5);	/* the previous one is being released */
	}
	CHECK(0);
	return -1;
}

static int count_dir(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	CHECK(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static int count_lines(const char *file, const char *only)
{
	FILE *f = fopen(file, "r");
	char line[512];
	int n = 0;

	CHECK(f);
	while (fgets(line, sizeof(line), f))
		if (!only || strstr(line, only))
			n++;
	fclose(f);
	return n;
}

struct leak {
	int fds, maps;
};

static void leak_count(pid_t pid, struct leak *l)
{
	char p[64];

	snprintf(p, sizeof(p), "/proc/%d/fd", (int)pid);
	l->fds = count_dir(p);
	snprintf(p, sizeof(p), "/proc/%d/maps", (int)pid);
#if defined(__SANITIZE_ADDRESS__)
	l->maps = count_lines(p, "memfd:");	/* ASan maps lazily */
#else
	l->maps = count_lines(p, NULL);
#endif
}

static int ram_fd = -1;		/* 1 MiB memfd the scenarios send */

static void send_msg(int fd, u32 req, u32 flags, const void *p, u32 size,
		     const int *fds, unsigned int nfds)
{
	t_raw_send_fds(fd, req, flags, p, size, fds, nfds);
}

static void negotiate(int fd, u64 proto)
{
	struct vhu_msg_hdr h = { VHU_REQ_GET_FEATURES, VHU_VERSION, 0 };
	struct { struct vhu_msg_hdr h; u64 v; } __attribute__((packed)) rep;

	CHECK(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
	CHECK(recv(fd, &rep, sizeof(rep), MSG_WAITALL) == sizeof(rep));
	send_msg(fd, VHU_REQ_SET_PROTOCOL_FEATURES, VHU_VERSION, &proto, 8, NULL, 0);
}

static void mem_table(struct vhu_mem_table *t, u64 size, u64 off)
{
	memset(t, 0, sizeof(*t));
	t->nregions = 1;
	t->regions[0] = (struct vhu_mem_region){ 0, size, 0x7f0000000000ull, off };
}

#define MT_SIZE(n) (8u + (n) * (u32)sizeof(struct vhu_mem_region))

/* Each scenario sends one hostile thing on @fd; the back-end must drop it. */
static void sc_unknown(int fd)
{
	send_msg(fd, 999, VHU_VERSION, NULL, 0, NULL, 0);
}

/* A size field above what the request can carry: refused on the header. */
static void sc_size_past_bound(int fd)
{
	struct vhu_msg_hdr h = { VHU_REQ_SET_FEATURES, VHU_VERSION, 200 };

	CHECK(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
}

/* A plausible size, then EOF inside the payload (the back-end may drop first). */
static void sc_truncated(int fd)
{
	struct vhu_msg_hdr h = { VHU_REQ_SET_MEM_TABLE, VHU_VERSION, MT_SIZE(2) };
	u64 v = 2;

	CHECK(send(fd, &h, sizeof(h), MSG_NOSIGNAL) == sizeof(h));
	if (send(fd, &v, sizeof(v), MSG_NOSIGNAL) < 0)
		CHECK(errno == EPIPE || errno == ECONNRESET);
	shutdown(fd, SHUT_WR);
}

static void sc_bad_size(int fd)
{
	u64 v[2] = { 0, 0 };

	send_msg(fd, VHU_REQ_SET_FEATURES, VHU_VERSION, v, 16, NULL, 0);	/* wants 8 */
}

static void sc_region_size0(int fd)
{
	struct vhu_mem_table t;

	mem_table(&t, 0, 0);
	send_msg(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, MT_SIZE(1), &ram_fd, 1);
}

static void sc_region_overflow(int fd)
{
	struct vhu_mem_table t;

	mem_table(&t, 1u << 20, ~0ull - 4095);
	send_msg(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, MT_SIZE(1), &ram_fd, 1);
}

static void sc_fd_count(int fd)
{
	struct vhu_mem_table t;
	int fds[2] = { ram_fd, ram_fd };

	mem_table(&t, 1u << 20, 0);
	send_msg(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, MT_SIZE(1), fds, 2);
}

static void sc_vring_index(int fd)
{
	struct vhost_vring_state st = { .index = 0x10000 + 0, .num = 64 };

	send_msg(fd, VHU_REQ_SET_VRING_NUM, VHU_VERSION, &st, sizeof(st), NULL, 0);
}

static void sc_vring_index_big(int fd)
{
	struct vhost_vring_state st = { .index = 200, .num = 64 };

	send_msg(fd, VHU_REQ_SET_VRING_NUM, VHU_VERSION, &st, sizeof(st), NULL, 0);
}

static void sc_extra_fd(int fd)
{
	u64 v = 1ull << VIRTIO_F_VERSION_1;

	send_msg(fd, VHU_REQ_SET_FEATURES, VHU_VERSION, &v, 8, &ram_fd, 1);
}

/* A real mapping and an inflight region first, then garbage: all released. */
static void sc_mapped_then_bad(int fd)
{
	struct vhu_mem_table t;
	struct vhu_inflight in = { .num_queues = 1, .queue_size = 64 };
	struct vhu_msg_hdr h;
	union {
		char b[CMSG_SPACE(sizeof(int) * 4)];
		struct cmsghdr a;
	} ctl;
	struct vhu_inflight rep;
	struct iovec iov[2] = { { &h, sizeof(h) }, { &rep, sizeof(rep) } };
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = ctl.b,
			     .msg_controllen = sizeof(ctl.b) };
	struct cmsghdr *cm;

	negotiate(fd, (1ull << VHU_PROTOCOL_F_INFLIGHT_SHMFD) |
		      (1ull << VHU_PROTOCOL_F_REPLY_ACK));
	mem_table(&t, 1u << 20, 0);
	send_msg(fd, VHU_REQ_SET_MEM_TABLE, VHU_VERSION, &t, MT_SIZE(1), &ram_fd, 1);
	send_msg(fd, VHU_REQ_GET_INFLIGHT_FD, VHU_VERSION, &in, sizeof(in), NULL, 0);
	CHECK(recvmsg(fd, &mh, MSG_WAITALL | MSG_CMSG_CLOEXEC) ==
	      (ssize_t)(sizeof(h) + sizeof(rep)));
	cm = CMSG_FIRSTHDR(&mh);
	if (cm && cm->cmsg_type == SCM_RIGHTS) {
		int rfd;

		memcpy(&rfd, CMSG_DATA(cm), sizeof(int));
		close(rfd);
	}
	CHECK(rep.mmap_size > 0);
	/* SET_LOG_BASE with size + offset overflowing (case 16). */
	{
		struct vhu_log lg = { .mmap_size = 4096, .mmap_offset = ~0ull - 100 };

		send_msg(fd, VHU_REQ_SET_LOG_BASE, VHU_VERSION, &lg, sizeof(lg), &ram_fd, 1);
	}
}

/* REPLY_ACK asked for on a request without a reply of its own (case 17). */
static void sc_reply_ack(int fd)
{
	struct { struct vhu_msg_hdr h; u64 v; } __attribute__((packed)) rep;

	negotiate(fd, 1ull << VHU_PROTOCOL_F_REPLY_ACK);
	send_msg(fd, VHU_REQ_SET_OWNER, VHU_VERSION | VHU_FLAG_NEED_REPLY, NULL, 0, NULL, 0);
	CHECK(recv(fd, &rep, sizeof(rep), MSG_WAITALL) == sizeof(rep));
	CHECK_EQ(rep.h.request, VHU_REQ_SET_OWNER);
	CHECK_EQ(rep.h.flags, VHU_VERSION | VHU_FLAG_REPLY);
	CHECK_EQ(rep.v, 0);
	/* and then a bad one asking for an ack: dropped (no ack of success) */
	{
		struct vhost_vring_state st = { .index = 77, .num = 64 };

		send_msg(fd, VHU_REQ_SET_VRING_NUM, VHU_VERSION | VHU_FLAG_NEED_REPLY, &st,
			 sizeof(st), NULL, 0);
	}
}

static const struct {
	const char *name;
	void (*fn)(int fd);
} scenarios[] = {
	{ "12 unknown request", sc_unknown },
	{ "12 size field above the request's payload", sc_size_past_bound },
	{ "12 truncated message (EOF inside the payload)", sc_truncated },
	{ "12 wrong payload size", sc_bad_size },
	{ "13 region of size 0", sc_region_size0 },
	{ "13 offset + size overflowing", sc_region_overflow },
	{ "15 fd count not matching the regions", sc_fd_count },
	{ "14 vring index with high bits (u32 -> u16 truncation)", sc_vring_index },
	{ "14 vring index >= queues", sc_vring_index_big },
	{ "15 fd on a message that takes none", sc_extra_fd },
	{ "15/16 mapped table + inflight fd, then SET_LOG_BASE overflowing", sc_mapped_then_bad },
	{ "17 REPLY_ACK, then a bad request asking for one", sc_reply_ack },
};

static void run_hostile(const char *sock, pid_t pid, int reps)
{
	struct leak l0, l1;
	int probe;

	ram_fd = memfd_create("hostile-ram", MFD_CLOEXEC);
	CHECK(ram_fd >= 0 && ftruncate(ram_fd, 1u << 20) == 0);
	/* Once each first (warm-up: lazily created things exist from now on). */
	for (unsigned int i = 0; i < ARRAY_SIZE(scenarios); i++) {
		int fd = raw_connect(sock);

		scenarios[i].fn(fd);
		raw_expect_closed(fd);
	}
	probe = raw_probe(sock);
	leak_count(pid, &l0);
	close(probe);
	for (unsigned int i = 0; i < ARRAY_SIZE(scenarios); i++) {
		for (int k = 0; k < reps; k++) {
			int fd = raw_connect(sock);

			scenarios[i].fn(fd);
			raw_expect_closed(fd);
		}
		fprintf(stderr, "ok: case %s: connection dropped, %d times\n",
			scenarios[i].name, reps + 1);
	}
	probe = raw_probe(sock);
	leak_count(pid, &l1);
	close(probe);
	if (l0.fds != l1.fds || l0.maps != l1.maps) {
		fprintf(stderr, "leak: fds %d -> %d, maps %d -> %d\n", l0.fds, l1.fds,
			l0.maps, l1.maps);
		CHECK(0);
	}
	close(ram_fd);
	ram_fd = -1;
	fprintf(stderr, "ok: cases 12-17: %d hostile connections, back-end fds %d and maps %d unchanged\n",
		(int)ARRAY_SIZE(scenarios) * (reps + 1), l1.fds, l1.maps);
}

/* --- SECURITY.md case 19: SIGKILL under load, restart, replay --------------- */

#define NBLK		1024		/* 4 MiB of the disk */
#define IFQD		32

struct ifl {
	const char *prog, *sock, *disk, *log;
	char **args;
	int nargs;
	pid_t pid;
};

static void spawn(struct ifl *f)
{
	char *argv[32];
	int n = 0;

	argv[n++] = (char *)f->prog;
	argv[n++] = "--socket";
	argv[n++] = (char *)f->sock;
	argv[n++] = "--disk";
	argv[n++] = (char *)f->disk;
	for (int i = 0; i < f->nargs && n < 30; i++)
		argv[n++] = f->args[i];
	argv[n] = NULL;
	f->pid = fork();
	CHECK(f->pid >= 0);
	if (!f->pid) {
		int fd = open(f->log ? f->log : "/dev/null",
			      O_WRONLY | O_CREAT | O_APPEND, 0644);

		if (fd >= 0) {
			dup2(fd, 2);
			dup2(fd, 1);
		}
		execv(f->prog, argv);
		_exit(127);
	}
}

/* The block's content for generation gen (0: never written: zeroes). */
static void pattern(u8 *p, u32 blk, u32 gen)
{
	if (!gen) {
		memset(p, 0, BLK);
		return;
	}
	for (unsigned int i = 0; i < BLK / 8; i++) {
		u32 w[2] = { blk * 2654435761u ^ i, gen };

		memcpy(p + i * 8, w, 8);
	}
}

static struct ifl *g_ifl;

static void kill_child(void)
{
	if (g_ifl && g_ifl->pid > 0) {
		kill(g_ifl->pid, SIGKILL);
		waitpid(g_ifl->pid, NULL, 0);
		g_ifl->pid = 0;
	}
}

static void run_inflight(struct ifl *f, int kills, unsigned int total)
{
	static u32 done_gen[NBLK], busy_gen[NBLK];
	static bool busy[NBLK];
	unsigned int slot_blk[IFQD];
	bool slot_used[IFQD] = { 0 };
	unsigned int sent = 0, completed = 0, inq = 0, kill_every, killed = 0;
	u32 gen = 0, seed = 12345;
	struct cl c;
	int r;

	g_ifl = f;
	atexit(kill_child);
	memset(done_gen, 0, sizeof(done_gen));
	spawn(f);
	cl_init(&c, 1, true);
	for (r = -1; r && f->pid; ) {
		r = vhu_fe_connect(f->sock, NULL, &c.d);
		if (r) {
			CHECK(waitpid(f->pid, NULL, WNOHANG) == 0);	/* still alive */
			poll(NULL, 0, 10);
		}
	}
	cl_start(&c);
	CHECK(cl_cap(&c) >= NBLK * (BLK / 512));
	kill_every = total / (kills + 1);
	while (completed < total || inq) {
		/* Fill the queue with writes to blocks not already being written. */
		while (sent < total && inq < IFQD) {
			unsigned int s, b;
			struct slot sl;

			for (s = 0; slot_used[s]; s++)
				;
			do {
				seed = seed * 1103515245u + 12345u;
				b = (seed >> 8) % NBLK;
			} while (busy[b]);
			sl = slot_of(&c, s);
			busy[b] = true;
			busy_gen[b] = ++gen;
			slot_used[s] = true;
			slot_blk[s] = b;
			set_hdr(&sl, VIRTIO_BLK_T_OUT, (u64)b * (BLK / 512));
			pattern(sl.data, b, gen);
			{
				struct vq_drv_sg sg[] = { SG_HDR(sl), SG_DATA(sl, BLK, false),
							  SG_STATUS(sl) };

				CHECK(vq_drv_add(&c.drv[0], sg, 3, (void *)(uintptr_t)(s + 1)) >= 0);
			}
			sent++;
			inq++;
		}
		cl_kick(&c, 0);
		if (killed < (unsigned int)kills && sent >= kill_every * (killed + 1)) {
			/* Writes were just kicked: kill the back-end under them. */
			CHECK_EQ(kill(f->pid, SIGKILL), 0);
			CHECK_EQ(waitpid(f->pid, NULL, 0), f->pid);
			f->pid = 0;
			killed++;
			spawn(f);
			for (r = -1; r; ) {
				CHECK(waitpid(f->pid, NULL, WNOHANG) == 0);
				r = vhu_fe_reconnect(c.d, -1);
				if (r)
					poll(NULL, 0, 10);
			}
			cl_rings(&c, false);
			fprintf(stderr, "killed and restarted the back-end with %u writes queued (%u completed so far)\n",
				inq, completed);
		}
		{
			void *tok;
			u32 len;

			CHECK(cl_reap(&c, 0, &tok, &len, 20000));
			do {
				unsigned int s = (uintptr_t)tok - 1, b;
				struct slot sl;

				CHECK(s < IFQD && slot_used[s]);
				sl = slot_of(&c, s);
				b = slot_blk[s];
				CHECK_EQ(*sl.status, VIRTIO_BLK_S_OK);
				CHECK_EQ(len, 1);
				done_gen[b] = busy_gen[b];
				busy[b] = false;
				slot_used[s] = false;
				inq--;
				completed++;
			} while (vq_drv_get_used(&c.drv[0], &tok, &len) > 0);
		}
	}
	/* Every completed write is in the file (read straight from it). */
	{
		size_t n;
		u8 *img = file_read(f->disk, &n), want[BLK];
		unsigned int bad = 0;

		CHECK(n >= (size_t)NBLK * BLK);
		for (unsigned int b = 0; b < NBLK; b++) {
			pattern(want, b, done_gen[b]);
			if (memcmp(img + (size_t)b * BLK, want, BLK)) {
				if (bad++ < 5)
					fprintf(stderr, "block %u: not its last completed write (gen %u)\n",
						b, done_gen[b]);
			}
		}
		free(img);
		CHECK_EQ(bad, 0);
	}
	cl_close(&c);
	CHECK_EQ(kill(f->pid, SIGTERM), 0);
	{
		int st;

		CHECK_EQ(waitpid(f->pid, &st, 0), f->pid);
		CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
		f->pid = 0;
	}
	fprintf(stderr, "ok: case 19: %u writes, %d SIGKILLs under load, every block holds its last completed write\n",
		total, killed);
}

/* --- unit-test mode: everything against an in-process server --------------- */

struct srv {
	struct blk_server *s;
	char disk[128];
};

static void srv_new(struct srv *v, const char *dir, bool ro, unsigned int nq,
		    enum blk_engine_kind e)
{
	struct blk_server_opts o = {
		.disk_path = v->disk, .engine = e, .readonly = ro, .queues = nq,
	};
	char err[256];

	CHECK_EQ(blk_server_new(&o, &v->s, err, sizeof(err)), 0);
	(void)dir;
}

static void make_disk(const char *path, size_t size, u32 seed)
{
	u8 *b = malloc(size);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	CHECK(b && fd >= 0);
	fill(b, size, seed);
	CHECK(write(fd, b, size) == (ssize_t)size);
	close(fd);
	free(b);
}

static char u_dir[64] = "";
static char u_sock[128], u_disk[128];

static void unit_cleanup(void)
{
	if (!u_dir[0])
		return;
	unlink(u_sock);
	unlink(u_disk);
	rmdir(u_dir);
	u_dir[0] = 0;
}

static int unit(void)
{
	static const enum blk_engine_kind engines[] = {
		BLK_ENGINE_IO_URING, BLK_ENGINE_LIBAIO, BLK_ENGINE_SYNC, BLK_ENGINE_THREADS,
	};
	struct srv v;
	struct blk_server_stats st;
	char err[256];
	int fds0 = t_count_fds(), ran = 0;

	strcpy(u_dir, "/tmp/blk-server.XXXXXX");
	CHECK(mkdtemp(u_dir));
	atexit(unit_cleanup);
	snprintf(u_sock, sizeof(u_sock), "%s/sock", u_dir);
	snprintf(u_disk, sizeof(u_disk), "%s/disk", u_dir);
	snprintf(v.disk, sizeof(v.disk), "%s", u_disk);

	/* Options and open errors come back as one line. */
	{
		struct blk_server_opts o = { .disk_path = "/nonexistent/x.img" };
		struct blk_server *s = (void *)1;

		CHECK_EQ(blk_server_new(&o, &s, err, sizeof(err)), -ENOENT);
		CHECK(!s && strstr(err, "/nonexistent/x.img") && !strchr(err, '\n'));
		o.disk_path = u_disk;
		o.queues = 65;
		make_disk(u_disk, 1 << 20, 1);
		CHECK_EQ(blk_server_new(&o, &s, err, sizeof(err)), -EINVAL);
		o.queues = 1;
		o.serial = "123456789012345678901";
		CHECK_EQ(blk_server_new(&o, &s, err, sizeof(err)), -EINVAL);
	}

	for (unsigned int e = 0; e < ARRAY_SIZE(engines); e++) {
		if (blk_engine_probe(engines[e])) {
			fprintf(stderr, "engine %s unavailable, not tested\n",
				blk_engine_name(engines[e]));
			continue;
		}
		make_disk(u_disk, 8 << 20, 2 + e);
		srv_new(&v, u_dir, false, 2, engines[e]);
		CHECK_EQ(blk_server_listen(v.s, u_sock), 0);
		CHECK_EQ(blk_server_start(v.s), 0);
		run_case10(u_sock, u_disk, 2);
		run_flush(u_sock, u_disk, 4);
		blk_server_get_stats(v.s, &st);
		CHECK(st.requests >= 25 && st.completions >= 25 && st.errors >= 12);
		CHECK(st.kicks > 0 && st.calls > 0);
		blk_server_free(v.s);
		CHECK(access(u_sock, F_OK) && errno == ENOENT);	/* socket removed */
		fprintf(stderr, "ok: engine %s: case 10 and flush in-process, stats %llu requests %llu errors\n",
			blk_engine_name(engines[e]), (unsigned long long)st.requests,
			(unsigned long long)st.errors);
		ran++;
	}
	if (!ran) {
		fprintf(stderr, "no I/O engine available\n");
		return 77;
	}

	/* Read-only. */
	make_disk(u_disk, 4 << 20, 9);
	srv_new(&v, u_dir, true, 1, BLK_ENGINE_SYNC);
	CHECK_EQ(blk_server_listen(v.s, u_sock), 0);
	CHECK_EQ(blk_server_start(v.s), 0);
	run_readonly(u_sock, u_disk);
	/* A second listener on the same socket is refused. */
	{
		struct blk_server *s2;
		struct blk_server_opts o = { .disk_path = u_disk, .engine = BLK_ENGINE_SYNC };

		CHECK_EQ(blk_server_new(&o, &s2, err, sizeof(err)), 0);
		CHECK_EQ(blk_server_listen(s2, u_sock), -EADDRINUSE);
		blk_server_free(s2);
	}
	/* Cases 12-17 against this process's server. */
	run_hostile(u_sock, getpid(), 30);
	blk_server_free(v.s);

	/* In-process over a socketpair, connection handed over twice. */
	make_disk(u_disk, 4 << 20, 10);
	srv_new(&v, u_dir, false, 1, BLK_ENGINE_IO_URING);
	for (int round = 0; round < 3; round++) {
		int sv[2];
		struct cl c;

		CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
		CHECK_EQ(blk_server_set_conn_fd(v.s, sv[1]), 0);
		if (round == 0)
			CHECK_EQ(blk_server_start(v.s), 0);	/* fd given before start */
		cl_init(&c, 1, true);
		CHECK_EQ(vhu_fe_connect_fd(sv[0], NULL, &c.d), 0);
		cl_start(&c);
		fill(slot_of(&c, 0).data, BLK, 40 + round);
		CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_OUT, 8 * round, BLK), VIRTIO_BLK_S_OK);
		CHECK_EQ(cl_rw(&c, 0, VIRTIO_BLK_T_FLUSH, 0, 0), VIRTIO_BLK_S_OK);
		cl_close(&c);
	}
	blk_server_get_stats(v.s, &st);
	CHECK_EQ(st.requests, 6);
	CHECK_EQ(st.completions, 6);
	{
		char *buf = NULL;
		size_t n = 0;
		FILE *f = open_memstream(&buf, &n);

		CHECK(f);
		blk_server_stats_json(v.s, f);
		fclose(f);
		CHECK(strstr(buf, "\"requests\":6,") && strstr(buf, "\"connections\":3}\n"));
		if (!strstr(buf, "\"fdatasyncs\":3,"))
			fprintf(stderr, "%s", buf);
		CHECK(strstr(buf, "\"fdatasyncs\":3,"));
		free(buf);
	}
	blk_server_stop(v.s);
	blk_server_free(v.s);
	fprintf(stderr, "ok: socketpair mode: three connections handed over, stats JSON\n");

	CHECK_EQ(t_count_fds(), fds0);
	unit_cleanup();
	fprintf(stderr, "blk_server_hostile: all ok\n");
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "queues", required_argument, NULL, 'q' },
		{ "pid", required_argument, NULL, 'p' },
		{ "reps", required_argument, NULL, 'r' },
		{ "count", required_argument, NULL, 'c' },
		{ "prog", required_argument, NULL, 'P' },
		{ "kills", required_argument, NULL, 'k' },
		{ "writes", required_argument, NULL, 'w' },
		{ "log", required_argument, NULL, 'l' },
		{ 0 }
	};
	struct ifl f = { 0 };
	const char *mode;
	unsigned int nq = 1, count = 8, writes = 20000;
	int reps = 1000, kills = 5, c;
	pid_t pid = 0;

	signal(SIGPIPE, SIG_IGN);
	if (argc == 1)
		return unit();
	mode = argv[1];
	optind = 2;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		switch (c) {
		case 's': f.sock = optarg; break;
		case 'd': f.disk = optarg; break;
		case 'q': nq = atoi(optarg); break;
		case 'p': pid = atoi(optarg); break;
		case 'r': reps = atoi(optarg); break;
		case 'c': count = atoi(optarg); break;
		case 'P': f.prog = optarg; break;
		case 'k': kills = atoi(optarg); break;
		case 'w': writes = atoi(optarg); break;
		case 'l': f.log = optarg; break;
		default: return 2;
		}
	}
	f.args = argv + optind;
	f.nargs = argc - optind;
	if (!f.sock || nq < 1 || nq > MAXQ) {
		fprintf(stderr, "usage: see the comment at the top of %s\n", __FILE__);
		return 2;
	}
	if (!strcmp(mode, "case10") && f.disk)
		run_case10(f.sock, f.disk, nq);
	else if (!strcmp(mode, "readonly") && f.disk)
		run_readonly(f.sock, f.disk);
	else if (!strcmp(mode, "flush") && f.disk)
		run_flush(f.sock, f.disk, count);
	else if (!strcmp(mode, "shrink"))
		run_shrink(f.sock);
	else if (!strcmp(mode, "hostile"))
		run_hostile(f.sock, pid ? pid : getpid(), reps - 1);
	else if (!strcmp(mode, "inflight") && f.prog && f.disk)
		run_inflight(&f, kills, writes);
	else
		return 2;
	return 0;
}
