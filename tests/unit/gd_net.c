// SPDX-License-Identifier: MIT
/*
 * guest-drivers' virtio-net driver against the device side of the split ring
 * (virtio/vq.c), in one process: a fake two-queue transport whose device
 * collects transmitted frames and writes received ones into the posted RX
 * buffers, so every frame crosses real rings with real validation.
 *
 * Covers: negotiation and config (MAC, MTU), TX header and contents, TX
 * batching and reclaim when the ring fills, RX zero-copy frames, MRG_RXBUF
 * reassembly (a frame over 16 small buffers, also when its buffers arrive
 * across several rx_burst calls), refill without leaks over many ring
 * turns, every frame starting on a cache line right after its header (TX and
 * RX), no interrupt over 2^16+ frames while not sleeping (EVENT_IDX), and a hostile device (num_buffers 0 or above the queue size, used
 * length past the buffer or shorter than the header, csum_start past the
 * frame, a GSO frame never negotiated): each frame dropped and counted, the
 * next good one intact.  Also interrupt-mode waiting and no-MRG_RXBUF setup.
 */
#include <errno.h>
#include <string.h>

#include <guest-drivers/net.h>
#include <guest-drivers/platform.h>
#include <guest-drivers/virtio_user.h>
#include <virtio/vq.h>

#include "vq_check.h"

#define F(b)	(1ull << (b))
#define QMAX	64
#define MAXWIRE	4096

struct fake {
	struct gd_virtio_transport t;
	u64 dev_features, drv_features;
	u8 status;
	u16 mtu;
	bool deferred_tx;	/* TX notify only counts; fake_tx() processes */
	struct {
		unsigned int num;
		u64 desc, avail, used;
		bool enabled;
		struct vq vq;
		u64 irqs;
	} q[2];
	struct vq_mem mem;
	struct vq_req req;
	/* frames the device took from TX */
	unsigned int nwire;
	u32 wire_len[MAXWIRE];
	u8 wire_flags[MAXWIRE];
	u16 wire_cs[MAXWIRE], wire_co[MAXWIRE];
	u8 wire[MAXWIRE][1600];
	u64 notifies[2];
	/* RX frame to deliver when the driver sleeps (interrupt-mode test) */
	u8 *pending_rx;
	u32 pending_len;
};

static struct fake *to_fake(struct gd_virtio_transport *t)
{
	return container_of(t, struct fake, t);
}

static u64 f_get_features(struct gd_virtio_transport *t) { return to_fake(t)->dev_features; }
static void f_set_features(struct gd_virtio_transport *t, u64 f) { to_fake(t)->drv_features = f; }
static u8 f_get_status(struct gd_virtio_transport *t) { return to_fake(t)->status; }
static unsigned int f_num_queues(struct gd_virtio_transport *t) { (void)t; return 2; }

static void f_set_status(struct gd_virtio_transport *t, u8 s)
{
	struct fake *f = to_fake(t);

	if (s == 0) {
		f->status = 0;
		for (int i = 0; i < 2; i++) {
			f->q[i].enabled = false;
			if (vq_is_started(&f->q[i].vq))
				vq_stop(&f->q[i].vq);
		}
		return;
	}
	if ((s & VIRTIO_CONFIG_S_DRIVER_OK) && !(f->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		for (int i = 0; i < 2; i++) {
			struct vq *vq = &f->q[i].vq;

			CHECK(f->q[i].enabled);
			vq_init(vq, &f->mem);
			CHECK_EQ(vq_set_num(vq, f->q[i].num), 0);
			CHECK_EQ(vq_set_features(vq, f->drv_features), 0);
			CHECK_EQ(vq_set_addr(vq, f->q[i].desc, f->q[i].avail, f->q[i].used), 0);
			CHECK_EQ(vq_start(vq), 0);
		}
	}
	f->status = s;
}

static unsigned int f_queue_max_size(struct gd_virtio_transport *t, unsigned int q)
{
	(void)t;
	return q < 2 ? QMAX : 0;
}

static int f_queue_setup(struct gd_virtio_transport *t, unsigned int q, unsigned int num,
			 u64 desc, u64 avail, u64 used, u16 vector)
{
	struct fake *f = to_fake(t);

	(void)vector;
	CHECK(q < 2);
	CHECK(f->status & VIRTIO_CONFIG_S_FEATURES_OK);
	f->q[q].num = num;
	f->q[q].desc = desc;
	f->q[q].avail = avail;
	f->q[q].used = used;
	return 0;
}

static int f_queue_enable(struct gd_virtio_transport *t, unsigned int q)
{
	CHECK(q < 2);
	to_fake(t)->q[q].enabled = true;
	return 0;
}

/* The device transmits everything the driver queued. */
static void fake_tx(struct fake *f)
{
	struct vq *vq = &f->q[1].vq;
	int r;

	while ((r = vq_pop(vq, &f->req)) > 0) {
		struct virtio_net_hdr_mrg_rxbuf h;
		u8 buf[1700];
		u32 len = 0;

		CHECK_EQ(f->req.nr_wr, 0);
		/* The frame starts on a cache line, right after the header. */
		CHECK_EQ(((uintptr_t)f->req.rd[0].iov_base + sizeof(h)) % 64, 0);
		for (unsigned int i = 0; i < f->req.nr_rd; i++) {
			CHECK(len + f->req.rd[i].iov_len <= sizeof(buf));
			memcpy(buf + len, f->req.rd[i].iov_base, f->req.rd[i].iov_len);
			len += (u32)f->req.rd[i].iov_len;
		}
		CHECK(len >= sizeof(h));
		memcpy(&h, buf, sizeof(h));
		CHECK_EQ(h.hdr.gso_type, VIRTIO_NET_HDR_GSO_NONE);
		CHECK_EQ(h.num_buffers, 0);
		CHECK(f->nwire < MAXWIRE);
		f->wire_len[f->nwire] = len - (u32)sizeof(h);
		f->wire_flags[f->nwire] = h.hdr.flags;
		f->wire_cs[f->nwire] = le16_to_cpu(h.hdr.csum_start);
		f->wire_co[f->nwire] = le16_to_cpu(h.hdr.csum_offset);
		memcpy(f->wire[f->nwire], buf + sizeof(h), len - sizeof(h));
		f->nwire++;
		CHECK_EQ(vq_push(vq, f->req.head, 0), 0);
	}
	CHECK_EQ(r, 0);
	if (vq_should_notify(vq))
		f->q[1].irqs++;
}

/*
 * Deliver one frame: @hdr (num_buffers filled in here unless @force_nb),
 * spread over as many RX buffers as it needs.  @split: push each used entry
 * separately (else one batch).  Returns buffers used, or 0 if the ring ran
 * dry (nothing pushed).  @len_fix: if nonzero, the used length of the first
 * buffer is replaced by it (hostile).
 */
static unsigned int fake_rx(struct fake *f, const struct virtio_net_hdr *hdr, int force_nb,
			    const u8 *frame, u32 len, u32 len_fix)
{
	struct vq *vq = &f->q[0].vq;
	struct vq_used used[QMAX];
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = *hdr };
	u8 all[70000];
	u32 total = (u32)sizeof(h) + len, off = 0;
	unsigned int n = 0;
	u8 *first_nb = NULL;

	memcpy(all + sizeof(h), frame, len);
	while (off < total) {
		u32 take = 0;

		if (vq_pop(vq, &f->req) != 1)
			return 0;	/* test setups always have enough */
		CHECK_EQ(f->req.nr_rd, 0);
		for (unsigned int i = 0; i < f->req.nr_wr && off < total; i++) {
			u32 c = (u32)f->req.wr[i].iov_len;

			if (c > total - off)
				c = total - off;
			if (off == 0) {
				CHECK(c >= sizeof(h));
				/* as on TX: the frame starts on a cache line */
				CHECK_EQ(((uintptr_t)f->req.wr[i].iov_base + sizeof(h)) % 64, 0);
				first_nb = (u8 *)f->req.wr[i].iov_base +
					   offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers);
			}
			memcpy(f->req.wr[i].iov_base, (off == 0 ? (u8 *)&h : all) + (off == 0 ? 0 : off),
			       off == 0 ? sizeof(h) : c);
			if (off == 0 && c > sizeof(h))
				memcpy((u8 *)f->req.wr[i].iov_base + sizeof(h), all + sizeof(h),
				       c - sizeof(h));
			off += c;
			take += c;
		}
		used[n].head = f->req.head;
		used[n].len = take;
		n++;
		CHECK(n < QMAX);
	}
	{
		le16 nb = cpu_to_le16((u16)(force_nb >= 0 ? force_nb : (int)n));

		memcpy(first_nb, &nb, sizeof(nb));
	}
	if (len_fix)
		used[0].len = len_fix;
	CHECK_EQ(vq_push_batch(vq, used, n), 0);
	if (vq_should_notify(vq))
		f->q[0].irqs++;
	return n;
}

static void f_notify(struct gd_virtio_transport *t, unsigned int q)
{
	struct fake *f = to_fake(t);

	CHECK(q < 2);
	f->notifies[q]++;
	if (q == 1 && !f->deferred_tx)
		fake_tx(f);
}

static int f_config_read(struct gd_virtio_transport *t, u32 off, void *buf, u32 len)
{
	struct fake *f = to_fake(t);
	struct virtio_net_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, "\x52\x54\x00\x12\x34\x56", 6);
	c.status = cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	c.mtu = cpu_to_le16(f->mtu);
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
	return q < 2 ? to_fake(t)->q[q].irqs : 0;
}

/* Sleeping: the device delivers the pending frame (RX) or transmits (TX). */
static void f_irq_wait(struct gd_virtio_transport *t, unsigned int q, u64 seen)
{
	struct fake *f = to_fake(t);
	struct virtio_net_hdr h = { 0 };

	if (q == 0 && f->pending_rx) {
		CHECK(fake_rx(f, &h, -1, f->pending_rx, f->pending_len, 0) > 0);
		f->pending_rx = NULL;
	}
	if (q == 1)
		fake_tx(f);
	CHECK(f->q[q].irqs != seen);	/* a wait that would sleep forever is a bug */
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

#define ALL_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_RING_F_INDIRECT_DESC) | \
		      F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_NET_F_MRG_RXBUF) | \
		      F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_STATUS) | \
		      F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | \
		      F(VIRTIO_NET_F_CTRL_VQ) | F(VIRTIO_NET_F_GUEST_TSO4))

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
	f->mtu = 1500;
	gd_vu_mem_get(&fd, &base, &size);
	vq_mem_init(&f->mem);
	r = (struct vq_mem_region){ .gpa = 0, .size = size, .hva = (u64)(uintptr_t)base,
				    .fd = -1 };
	CHECK_EQ(vq_mem_add_region(&f->mem, &r), 0);
	return f;
}

static void make_frame(u8 *p, u32 len, u32 seed)
{
	for (u32 i = 0; i < len; i++)
		p[i] = (u8)(i * 31 + seed * 7 + (i >> 8));
}

/* Receive exactly one frame (polling) and check it equals @want. */
static void rx_expect(struct gd_net *n, const u8 *want, u32 len, u16 nbufs)
{
	struct gd_net_rx p[GD_NET_BURST_MAX];
	int k = gd_net_rx_burst(n, p, GD_NET_BURST_MAX);

	CHECK_EQ(k, 1);
	CHECK_EQ(p[0].len, len);
	CHECK_EQ(p[0].num_buffers, nbufs);
	CHECK(!memcmp(p[0].data, want, len));
}

static void test_basic(u64 features, bool poll)
{
	struct fake *f = fake_new(features);
	struct gd_net n;
	struct gd_net_opts o = { .csum = true };
	struct gd_net_tx tx[GD_NET_BURST_MAX];
	static u8 frames[GD_NET_BURST_MAX][1514];
	struct virtio_net_hdr h = { 0 };

	CHECK_EQ(gd_net_init(&n, &f->t, &o), 0);
	gd_net_set_poll(&n, poll);
	CHECK(!(f->drv_features & F(VIRTIO_NET_F_CTRL_VQ)));	/* never asked */
	CHECK(!(f->drv_features & F(VIRTIO_NET_F_GUEST_TSO4)));
	CHECK_EQ(n.mrg_rxbuf, !!(features & F(VIRTIO_NET_F_MRG_RXBUF)));
	CHECK_EQ(n.event_idx, !!(features & F(VIRTIO_RING_F_EVENT_IDX)));
	CHECK(n.mac_from_device);
	CHECK(!memcmp(n.mac, "\x52\x54\x00\x12\x34\x56", 6));
	CHECK_EQ(n.mtu, 1500);
	CHECK_EQ(n.max_frame, 1518);
	CHECK(gd_net_link_up(&n));
	/* every RX buffer posted at init */
	CHECK_EQ(vq_drv_num_free(&n.rxq.vq), 0);

	/* TX: a full burst, contents and header on the wire */
	for (unsigned int i = 0; i < GD_NET_BURST_MAX; i++) {
		u32 len = 60 + i * 40;

		make_frame(frames[i], len, i);
		tx[i] = (struct gd_net_tx){ .data = frames[i], .len = len };
	}
	tx[3].flags = GD_NET_F_NEEDS_CSUM;
	tx[3].csum_start = 34;
	tx[3].csum_offset = 6;
	CHECK_EQ(gd_net_tx_burst(&n, tx, GD_NET_BURST_MAX), GD_NET_BURST_MAX);
	CHECK_EQ(f->notifies[1], 1);	/* one notification for the burst */
	CHECK_EQ(f->nwire, GD_NET_BURST_MAX);
	for (unsigned int i = 0; i < GD_NET_BURST_MAX; i++) {
		CHECK_EQ(f->wire_len[i], tx[i].len);
		CHECK(!memcmp(f->wire[i], frames[i], tx[i].len));
		CHECK_EQ(f->wire_flags[i], i == 3 ? VIRTIO_NET_HDR_F_NEEDS_CSUM : 0);
	}
	CHECK_EQ(f->wire_cs[3], 34);
	CHECK_EQ(f->wire_co[3], 6);
	/* bad TX frames: taken, not sent, counted */
	tx[0].len = 10;
	tx[1].flags = GD_NET_F_NEEDS_CSUM;
	tx[1].csum_start = (u16)(tx[1].len - 1);
	tx[2].len = 1519;
	CHECK_EQ(gd_net_tx_burst(&n, tx, 3), 3);
	CHECK_EQ(n.tx_errors, 3);
	CHECK_EQ(f->nwire, GD_NET_BURST_MAX);

	/* RX: single-buffer frames, zero copy, many ring turns (refill, no leak) */
	for (unsigned int i = 0; i < 5 * QMAX; i++) {
		u32 len = 60 + (i % 7) * 200;

		make_frame(frames[0], len, i);
		CHECK_EQ(fake_rx(f, &h, -1, frames[0], len, 0), 1);
		rx_expect(&n, frames[0], len, 1);
	}
	CHECK_EQ(n.rx_packets, 5 * QMAX);
	CHECK_EQ(n.rx_errors, 0);
	CHECK(n.rx_refills > 1);

	/* a burst of several frames at once */
	for (unsigned int i = 0; i < 8; i++) {
		make_frame(frames[i], 100 + i, 100 + i);
		CHECK_EQ(fake_rx(f, &h, -1, frames[i], 100 + i, 0), 1);
	}
	{
		struct gd_net_rx p[GD_NET_BURST_MAX];

		CHECK_EQ(gd_net_rx_burst(&n, p, 5), 5);
		for (unsigned int i = 0; i < 5; i++)
			CHECK(p[i].len == 100 + i && !memcmp(p[i].data, frames[i], p[i].len));
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 3);
		for (unsigned int i = 0; i < 3; i++)
			CHECK(p[i].len == 105 + i && !memcmp(p[i].data, frames[5 + i], p[i].len));
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
	}

	gd_net_destroy(&n);
	free(f);
}

/* Deliver @hdr + frame and expect the driver to drop it (counted). */
static void rx_dropped(struct fake *f, struct gd_net *n, const struct virtio_net_hdr *h,
		       int force_nb, u32 len_fix)
{
	struct gd_net_rx p[GD_NET_BURST_MAX];
	u8 frame[300];
	u64 errs = n->rx_errors;

	make_frame(frame, sizeof(frame), 77);
	CHECK(fake_rx(f, h, force_nb, frame, sizeof(frame), len_fix) > 0);
	CHECK_EQ(gd_net_rx_burst(n, p, GD_NET_BURST_MAX), 0);
	CHECK_EQ(n->rx_errors, errs + 1);
	/* the next good frame is intact */
	{
		struct virtio_net_hdr good = { 0 };

		make_frame(frame, sizeof(frame), 78);
		CHECK_EQ(fake_rx(f, &good, -1, frame, sizeof(frame), 0), 1);
		rx_expect(n, frame, sizeof(frame), 1);
	}
}

static void test_hostile(bool guest_csum)
{
	struct fake *f = fake_new(ALL_FEATURES & ~(guest_csum ? 0 : F(VIRTIO_NET_F_GUEST_CSUM)));
	struct gd_net n;
	struct gd_net_opts o = { .csum = true };
	struct virtio_net_hdr h = { 0 };

	CHECK_EQ(gd_net_init(&n, &f->t, &o), 0);
	gd_net_set_poll(&n, true);
	CHECK_EQ(n.guest_csum, guest_csum);
	for (int round = 0; round < 3; round++) {	/* more buffers than the ring */
		rx_dropped(f, &n, &h, 0, 0);			/* num_buffers 0 */
		rx_dropped(f, &n, &h, QMAX + 1, 0);		/* above the queue size */
		rx_dropped(f, &n, &h, -1, n.rx_buf_size + 1);	/* past the buffer */
		rx_dropped(f, &n, &h, -1, 5);			/* shorter than the header */
		rx_dropped(f, &n, &h, -1, GD_NET_HDR_LEN + 3);	/* runt frame */
		h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;		/* never negotiated */
		h.gso_size = 100;
		rx_dropped(f, &n, &h, -1, 0);
		h = (struct virtio_net_hdr){ .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					     .csum_start = 299, .csum_offset = 0 };
		rx_dropped(f, &n, &h, -1, 0);			/* csum past the frame */
		h.csum_start = 0xffff;
		h.csum_offset = 0xffff;
		rx_dropped(f, &n, &h, -1, 0);
		h = (struct virtio_net_hdr){ 0 };
	}
	/* a good partial-checksum frame: delivered with its fields (GUEST_CSUM) */
	{
		struct virtio_net_hdr c = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
					    .csum_start = 34, .csum_offset = 6 };
		struct gd_net_rx p[GD_NET_BURST_MAX];
		u8 frame[300];

		make_frame(frame, sizeof(frame), 5);
		CHECK_EQ(fake_rx(f, &c, -1, frame, sizeof(frame), 0), 1);
		if (guest_csum) {
			CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 1);
			CHECK_EQ(p[0].flags, GD_NET_F_NEEDS_CSUM);
			CHECK(p[0].csum_start == 34 && p[0].csum_offset == 6);
		} else {
			CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
		}
	}
	CHECK(!n.broken);
	gd_net_destroy(&n);
	free(f);
}

/* MRG_RXBUF: frames over many 64-byte buffers, also arriving piecemeal. */
static void test_mrg(void)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_net n;
	struct gd_net_opts o = { .rx_buf_size = 64 };
	struct virtio_net_hdr h = { 0 };
	struct gd_net_rx p[GD_NET_BURST_MAX];
	static u8 frame[1518];

	CHECK_EQ(gd_net_init(&n, &f->t, &o), 0);
	gd_net_set_poll(&n, true);
	CHECK_EQ(n.rx_buf_size, 64);
	for (unsigned int i = 0; i < 40; i++) {
		u32 len = i % 2 ? 1000 : 1518;
		u16 nb = (u16)((len + GD_NET_HDR_LEN + 63) / 64);

		make_frame(frame, len, i);
		CHECK_EQ(fake_rx(f, &h, -1, frame, len, 0), nb);
		rx_expect(&n, frame, len, nb);
	}
	CHECK_EQ(n.rx_merged, 40);
	/* a short frame still fits one buffer: zero copy */
	make_frame(frame, 50, 1);
	CHECK_EQ(fake_rx(f, &h, -1, frame, 50, 0), 1);
	rx_expect(&n, frame, 50, 1);

	/* one frame whose used entries are published one by one */
	{
		struct vq *vq = &f->q[0].vq;
		u32 len = 1000, total = len + GD_NET_HDR_LEN, off = 0;
		u16 nb = (u16)((total + 63) / 64), heads[64];
		u32 lens[64];
		u8 all[1100];
		struct virtio_net_hdr_mrg_rxbuf mh = { .num_buffers = cpu_to_le16(nb) };

		make_frame(frame, len, 99);
		memcpy(all, &mh, sizeof(mh));
		memcpy(all + sizeof(mh), frame, len);
		/* the driver reposts what it holds first: let it */
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
		for (unsigned int i = 0; i < nb; i++) {
			u32 c;

			CHECK_EQ(vq_pop(vq, &f->req), 1);
			c = (u32)f->req.wr[0].iov_len;
			if (c > total - off)
				c = total - off;
			memcpy(f->req.wr[0].iov_base, all + off, c);
			heads[i] = f->req.head;
			lens[i] = c;
			off += c;
		}
		for (unsigned int i = 0; i < nb; i++) {
			CHECK_EQ(vq_push(vq, heads[i], lens[i]), 0);
			if (i + 1 < nb) {
				CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
				CHECK_EQ(n.npart, i + 1);
			}
		}
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 1);
		CHECK(p[0].len == len && p[0].num_buffers == nb && !memcmp(p[0].data, frame, len));
	}
	/* a merged frame larger than max_frame is dropped */
	{
		static u8 big[1600];
		u64 errs = n.rx_errors;

		make_frame(big, sizeof(big), 3);
		CHECK(fake_rx(f, &h, -1, big, sizeof(big), 0) > 1);
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
		CHECK_EQ(n.rx_errors, errs + 1);
		make_frame(frame, 700, 4);
		CHECK(fake_rx(f, &h, -1, frame, 700, 0) > 1);
		rx_expect(&n, frame, 700, (700 + 12 + 63) / 64);
	}
	CHECK(!n.broken);
	gd_net_destroy(&n);
	free(f);
}

/* No MRG_RXBUF: one buffer per frame, sized for the largest; small refused. */
static void test_no_mrg(void)
{
	struct fake *f = fake_new(ALL_FEATURES & ~F(VIRTIO_NET_F_MRG_RXBUF));
	struct gd_net n;
	struct gd_net_opts o = { .rx_buf_size = 64 };
	struct virtio_net_hdr h = { 0 };
	static u8 frame[1518];

	CHECK_EQ(gd_net_init(&n, &f->t, &o), -EINVAL);
	gd_net_destroy(&n);
	CHECK_EQ(gd_net_init(&n, &f->t, NULL), 0);
	CHECK(!n.mrg_rxbuf);
	CHECK(n.rx_buf_size >= GD_NET_HDR_LEN + 1518);
	gd_net_set_poll(&n, true);
	make_frame(frame, 1518, 2);
	/* num_buffers is not looked at without MRG_RXBUF */
	CHECK_EQ(fake_rx(f, &h, 0, frame, 1518, 0), 1);
	rx_expect(&n, frame, 1518, 1);
	gd_net_destroy(&n);
	free(f);
}

/* TX ring full: the burst is cut short; completions reclaimed in a batch. */
static void test_tx_full(bool poll)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_net n;
	struct gd_net_tx tx[GD_NET_BURST_MAX];
	static u8 frames[GD_NET_BURST_MAX][64];
	unsigned int sent = 0;
	int k;

	CHECK_EQ(gd_net_init(&n, &f->t, NULL), 0);
	gd_net_set_poll(&n, poll);
	f->deferred_tx = true;
	for (unsigned int i = 0; i < GD_NET_BURST_MAX; i++) {
		make_frame(frames[i], 64, i);
		frames[i][0] = (u8)i;
		tx[i] = (struct gd_net_tx){ .data = frames[i], .len = 64 };
	}
	while ((k = gd_net_tx_burst(&n, tx, GD_NET_BURST_MAX)) == GD_NET_BURST_MAX)
		sent += (unsigned int)k;
	CHECK(k >= 0);
	sent += (unsigned int)k;
	CHECK_EQ(sent, QMAX);
	CHECK_EQ(n.tx_inflight, QMAX);
	CHECK_EQ(gd_net_tx_burst(&n, tx, 1), 0);
	if (poll) {
		fake_tx(f);
	} else {
		CHECK_EQ(gd_net_wait_tx(&n), 0);	/* the device runs while we sleep */
		CHECK(f->q[1].irqs > 0);
	}
	CHECK_EQ(f->nwire, QMAX);
	CHECK_EQ(gd_net_tx_burst(&n, tx, GD_NET_BURST_MAX), GD_NET_BURST_MAX);
	CHECK_EQ(n.tx_inflight, GD_NET_BURST_MAX);	/* all 64 reclaimed at once */
	fake_tx(f);
	CHECK_EQ(gd_net_tx_reclaim(&n), GD_NET_BURST_MAX);
	CHECK_EQ(n.tx_inflight, 0);
	for (unsigned int i = 0; i < f->nwire; i++)
		CHECK_EQ(f->wire[i][0], i % GD_NET_BURST_MAX);
	gd_net_destroy(&n);
	free(f);
}

/* Interrupt mode: sleeping on RX until the device delivers. */
static void test_irq_rx(void)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_net n;
	struct gd_net_rx p[GD_NET_BURST_MAX];
	static u8 frame[400];

	CHECK_EQ(gd_net_init(&n, &f->t, NULL), 0);
	gd_net_set_poll(&n, false);
	for (int i = 0; i < 3 * QMAX; i++) {
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 0);
		make_frame(frame, sizeof(frame), (u32)i);
		f->pending_rx = frame;
		f->pending_len = sizeof(frame);
		CHECK_EQ(gd_net_wait_rx(&n), 0);
		CHECK(!f->pending_rx);
		rx_expect(&n, frame, sizeof(frame), 1);
	}
	CHECK(gd_net_irq_count(&n, GD_NET_RX_Q) >= 3 * QMAX);
	gd_net_destroy(&n);
	free(f);
}

/*
 * Polling with EVENT_IDX over more than 2^16 frames each way: used_event is
 * kept just behind, so the device never decides to interrupt; and in
 * interrupt mode (not sleeping) interrupts stay off too.
 */
static void test_poll_long(bool poll)
{
	struct fake *f = fake_new(ALL_FEATURES);
	struct gd_net n;
	struct gd_net_tx tx[GD_NET_BURST_MAX];
	struct gd_net_rx p[GD_NET_BURST_MAX];
	struct virtio_net_hdr h = { 0 };
	static u8 frame[64];
	u64 irq_rx, irq_tx;

	CHECK_EQ(gd_net_init(&n, &f->t, NULL), 0);
	gd_net_set_poll(&n, poll);
	make_frame(frame, sizeof(frame), 1);
	for (unsigned int i = 0; i < GD_NET_BURST_MAX; i++)
		tx[i] = (struct gd_net_tx){ .data = frame, .len = sizeof(frame) };
	/* the device side signals its first used entry unconditionally (as vhost) */
	CHECK_EQ(gd_net_tx_burst(&n, tx, 1), 1);
	CHECK_EQ(fake_rx(f, &h, -1, frame, sizeof(frame), 0), 1);
	CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 1);
	irq_rx = f->q[0].irqs;
	irq_tx = f->q[1].irqs;
	for (unsigned int i = 0; i < 70000 / GD_NET_BURST_MAX; i++) {
		CHECK_EQ(gd_net_tx_burst(&n, tx, GD_NET_BURST_MAX), GD_NET_BURST_MAX);
		f->nwire = 0;
	}
	for (unsigned int i = 0; i < 70000; i++) {
		CHECK_EQ(fake_rx(f, &h, -1, frame, sizeof(frame), 0), 1);
		CHECK_EQ(gd_net_rx_burst(&n, p, GD_NET_BURST_MAX), 1);
	}
	CHECK_EQ(f->q[0].irqs, irq_rx);
	CHECK_EQ(f->q[1].irqs, irq_tx);
	CHECK(n.tx_packets > 70000 - GD_NET_BURST_MAX && n.rx_packets == 70001);
	gd_net_destroy(&n);
	free(f);
}

int main(void)
{
	int r = gd_vu_mem_init(64 << 20, 0);

	CHECK_EQ(r, 0);
	test_basic(ALL_FEATURES, true);
	test_basic(ALL_FEATURES, false);
	test_basic(ALL_FEATURES & ~(F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC)),
		   true);
	test_hostile(true);
	test_hostile(false);
	test_mrg();
	test_no_mrg();
	test_tx_full(true);
	test_tx_full(false);
	test_irq_rx();
	test_poll_long(true);
	test_poll_long(false);
	printf("gd_net: all passed\n");
	return 0;
}
