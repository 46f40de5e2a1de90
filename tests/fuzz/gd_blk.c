// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for guest-drivers' virtio core and virtio-blk driver
 * (guest-drivers/virtio/core.c, blk.c over virtio/vq_drv.c) against a hostile
 * device: the input chooses the offered features, the queue size the device
 * reports (maybe not a power of two), the config (capacity, blk_size),
 * whether FEATURES_OK is refused, and then a stream of operations: driver
 * submissions (any type, sector, length), kicks, poll-mode switches, and
 * device completions that write a chosen status byte and push a used entry
 * with the real head or a chosen id and a chosen length.  Checked: the driver
 * never crashes or reads out of bounds, every cookie reaped was submitted and
 * comes back once, statuses are only the documented values, inflight matches
 * our own count, and after the driver reports the device broken every submit
 * fails with -EIO.  The harness is its own platform (arena = "guest RAM").
 *
 * Input: [0..1] features (bit map below), [2] queue max size, [3..10]
 * capacity, [11..14] blk_size, [15] flags (bit 0 refuse FEATURES_OK, bit 1
 * start polling), then ops of 4 bytes: op, a, b, c.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <guest-drivers/blk.h>
#include <guest-drivers/platform.h>

#define ARENA_SIZE	(4u << 20)

static u8 arena[ARENA_SIZE] __attribute__((aligned(4096)));
static size_t arena_next;

void *gd_alloc(size_t size, size_t align)
{
	size_t start = (arena_next + align - 1) & ~(align - 1);

	if (start > ARENA_SIZE || size > ARENA_SIZE - start)
		return NULL;
	arena_next = start + size;
	memset(arena + start, 0, size);
	return arena + start;
}

void *gd_alloc_priv(size_t size, size_t align)
{
	(void)align;
	return calloc(1, size ? size : 1);
}

void gd_free_priv(void *p)
{
	free(p);
}

u64 gd_virt_to_phys(const void *p)
{
	return (u64)((const u8 *)p - arena);
}

void *gd_phys_to_virt(u64 gpa)
{
	return gpa < ARENA_SIZE ? arena + gpa : NULL;
}

static u64 fake_clock;

u64 gd_time_ns(void)
{
	return fake_clock += 1000000000ull;	/* gd_blk_sync gives up fast */
}

/* --- the hostile device ---------------------------------------------------------- */

struct fdev {
	struct gd_virtio_transport t;
	u64 features;
	u8 status;
	bool refuse;
	unsigned int qmax;
	unsigned int num;
	u64 desc, avail, used;
	u16 last_avail;
	u16 used_idx;
	struct virtio_blk_config cfg;
};

static struct fdev *to_f(struct gd_virtio_transport *t)
{
	return container_of(t, struct fdev, t);
}

static u64 f_get_features(struct gd_virtio_transport *t) { return to_f(t)->features; }
static void f_set_features(struct gd_virtio_transport *t, u64 f) { (void)t; (void)f; }
static u8 f_get_status(struct gd_virtio_transport *t) { return to_f(t)->status; }
static unsigned int f_num_queues(struct gd_virtio_transport *t) { (void)t; return 1; }

static void f_set_status(struct gd_virtio_transport *t, u8 s)
{
	struct fdev *f = to_f(t);

	if (f->refuse)
		s &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	f->status = s;
}

static unsigned int f_qmax(struct gd_virtio_transport *t, unsigned int q)
{
	return q ? 0 : to_f(t)->qmax;
}

static int f_setup(struct gd_virtio_transport *t, unsigned int q, unsigned int num,
		   u64 desc, u64 avail, u64 used, u16 vector)
{
	struct fdev *f = to_f(t);

	(void)q;
	(void)vector;
	/* What the driver hands the device must be sane and inside "RAM". */
	if (!vq_size_valid(num) || num > f->qmax || desc >= ARENA_SIZE ||
	    avail >= ARENA_SIZE || used >= ARENA_SIZE || (desc & 15) || (avail & 1) || (used & 3))
		abort();
	f->num = num;
	f->desc = desc;
	f->avail = avail;
	f->used = used;
	return 0;
}

static int f_enable(struct gd_virtio_transport *t, unsigned int q)
{
	(void)t;
	(void)q;
	return 0;
}

static void f_notify(struct gd_virtio_transport *t, unsigned int q)
{
	(void)t;
	if (q)
		abort();
}

static int f_cfg_read(struct gd_virtio_transport *t, u32 off, void *buf, u32 len)
{
	struct fdev *f = to_f(t);

	if (off > sizeof(f->cfg) || len > sizeof(f->cfg) - off)
		abort();
	memcpy(buf, (u8 *)&f->cfg + off, len);
	return 0;
}

static int f_cfg_write(struct gd_virtio_transport *t, u32 off, const void *b, u32 len)
{
	(void)t; (void)off; (void)b; (void)len;
	return -EIO;
}

static u8 f_isr(struct gd_virtio_transport *t) { (void)t; return 0; }

static const struct gd_virtio_transport_ops f_ops = {
	.name = "fuzz",
	.get_features = f_get_features, .set_features = f_set_features,
	.get_status = f_get_status, .set_status = f_set_status,
	.num_queues = f_num_queues, .queue_max_size = f_qmax,
	.queue_setup = f_setup, .queue_enable = f_enable, .notify = f_notify,
	.config_read = f_cfg_read, .config_write = f_cfg_write, .isr_read = f_isr,
};

/* Pop the next published chain: its head and the status byte's address. */
static bool dev_pop(struct fdev *f, u16 *head, u8 **status)
{
	struct vring_avail *av = (void *)(arena + f->avail);
	struct vring_desc *d = (void *)(arena + f->desc), *tab = d, last;
	unsigned int n = f->num, i, steps = 0;

	if (le16_to_cpu(av->idx) == f->last_avail)
		return false;
	*head = le16_to_cpu(av->ring[f->last_avail % f->num]);
	f->last_avail++;
	if (*head >= f->num)
		abort();		/* our driver published garbage */
	i = *head;
	if (le16_to_cpu(d[i].flags) & VRING_DESC_F_INDIRECT) {
		u64 a = le64_to_cpu(d[i].addr);

		if (a >= ARENA_SIZE || le32_to_cpu(d[i].len) % 16)
			abort();
		tab = (void *)(arena + a);
		n = le32_to_cpu(d[i].len) / 16;
		i = 0;
	}
	for (;;) {
		last = tab[i];
		if (++steps > n)
			abort();	/* a loop in our own chain */
		if (!(le16_to_cpu(last.flags) & VRING_DESC_F_NEXT))
			break;
		i = le16_to_cpu(last.next);
		if (i >= n)
			abort();
	}
	if (!(le16_to_cpu(last.flags) & VRING_DESC_F_WRITE) || le32_to_cpu(last.len) != 1 ||
	    le64_to_cpu(last.addr) >= ARENA_SIZE)
		abort();		/* the status descriptor is always last, 1 byte */
	*status = arena + le64_to_cpu(last.addr);
	return true;
}

static void dev_push(struct fdev *f, u16 id, u32 len)
{
	struct vring_used *u = (void *)(arena + f->used);

	u->ring[f->used_idx % f->num].id = cpu_to_le32(id);
	u->ring[f->used_idx % f->num].len = cpu_to_le32(len);
	f->used_idx++;
	u->idx = cpu_to_le16(f->used_idx);
}

/* --- the run ---------------------------------------------------------------------- */

#define MAX_COOKIES 1024

static u8 outstanding[MAX_COOKIES];

static const unsigned int feature_bits[16] = {
	VIRTIO_F_VERSION_1, VIRTIO_RING_F_INDIRECT_DESC, VIRTIO_RING_F_EVENT_IDX,
	VIRTIO_BLK_F_RO, VIRTIO_BLK_F_BLK_SIZE, VIRTIO_BLK_F_FLUSH, VIRTIO_BLK_F_DISCARD,
	VIRTIO_BLK_F_WRITE_ZEROES, VIRTIO_BLK_F_MQ, VIRTIO_BLK_F_SEG_MAX,
	VIRTIO_BLK_F_SIZE_MAX, VIRTIO_BLK_F_TOPOLOGY, VIRTIO_BLK_F_CONFIG_WCE,
	VIRTIO_F_ACCESS_PLATFORM, VIRTIO_F_RING_PACKED, VIRTIO_F_VERSION_1,
};

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	static struct fdev f;
	struct gd_blk b;
	struct gd_blk_done done[64];
	unsigned int next_cookie = 0, mine = 0;
	u8 *buf;
	size_t pos = 16;
	u16 fb;
	u64 cap;
	u32 bs;

	if (size < 16)
		return 0;
	arena_next = 0;
	memset(outstanding, 0, sizeof(outstanding));
	memset(&f, 0, sizeof(f));
	f.t.ops = &f_ops;
	fb = (u16)(data[0] | data[1] << 8);
	for (unsigned int i = 0; i < 16; i++)
		if (fb & (1u << i))
			f.features |= 1ull << feature_bits[i];
	f.qmax = data[2] + 1u;
	memcpy(&cap, data + 3, 8);
	memcpy(&bs, data + 11, 4);
	f.cfg.capacity = cpu_to_le64(cap);
	f.cfg.blk_size = cpu_to_le32(bs);
	f.refuse = data[15] & 1;
	buf = gd_alloc(65536, 4096);

	if (gd_blk_init(&b, &f.t, NULL)) {
		gd_blk_destroy(&b);
		return 0;
	}
	if (b.blk_size < 512 || b.blk_size > 65536 || (b.blk_size & (b.blk_size - 1)) ||
	    !b.depth || b.depth > b.rq.vq.num)
		abort();
	gd_blk_set_poll(&b, data[15] & 2);

	while (pos + 4 <= size) {
		u8 op = data[pos], x = data[pos + 1], y = data[pos + 2], z = data[pos + 3];
		int r;

		pos += 4;
		switch (op % 6) {
		case 0: {	/* submit */
			static const u32 types[] = { VIRTIO_BLK_T_IN, VIRTIO_BLK_T_OUT,
				VIRTIO_BLK_T_FLUSH, VIRTIO_BLK_T_GET_ID, VIRTIO_BLK_T_DISCARD,
				VIRTIO_BLK_T_WRITE_ZEROES, 7, VIRTIO_BLK_T_IN };
			struct gd_blk_io io = {
				.type = types[x % 8], .flags = x >> 3,
				.sector = z & 0x80 ? cap - (z & 0x7f) : (u64)y * z,
				.buf = buf, .len = (u32)y * (z & 1 ? 1 : 512),
				.cookie = &outstanding[next_cookie % MAX_COOKIES],
			};

			if (io.len > 65536)
				io.len = 65536;
			if (io.type == VIRTIO_BLK_T_GET_ID && (x & 0x40))
				io.len = VIRTIO_BLK_ID_BYTES;
			r = gd_blk_submit(&b, &io);
			if (r == 0) {
				if (outstanding[next_cookie % MAX_COOKIES]++)
					abort();	/* harness: cookie reuse */
				next_cookie++;
				mine++;
			} else if (b.broken && r != -EIO) {
				abort();
			}
			break;
		}
		case 1:
			gd_blk_kick(&b);
			break;
		case 2: {	/* device completes one chain, maybe lying */
			u16 head;
			u8 *st;

			if (!dev_pop(&f, &head, &st))
				break;
			*st = y % 4 == 3 ? z : y % 4;
			dev_push(&f, x & 0x80 ? (u16)(z | (y << 8)) : head,
				 x & 0x40 ? (u32)z << (y % 24) : 513);
			break;
		}
		case 3:
			/* the device may also write used->idx alone */
			if (x == 0xff) {
				struct vring_used *u = (void *)(arena + f.used);

				u->idx = cpu_to_le16((u16)(y | z << 8));
			}
			break;
		case 4:
			r = gd_blk_reap(&b, done, 1 + x % 64);
			if (r < 0) {
				if (r != -EIO || !b.broken)
					abort();
				break;
			}
			for (int i = 0; i < r; i++) {
				u8 *c = done[i].cookie;
				int s = done[i].status;

				if (!c || c < outstanding || c >= outstanding + MAX_COOKIES || *c != 1)
					abort();	/* never submitted, or returned twice */
				*c = 0;
				mine--;
				if (s != VIRTIO_BLK_S_OK && s != VIRTIO_BLK_S_IOERR &&
				    s != VIRTIO_BLK_S_UNSUPP && s != GD_BLK_S_SHORT &&
				    s != GD_BLK_S_BADSTATUS)
					abort();
			}
			break;
		case 5:
			gd_blk_set_poll(&b, x & 1);
			break;
		}
		if (!b.broken && b.inflight != mine)
			abort();
	}
	gd_blk_destroy(&b);
	return 0;
}
