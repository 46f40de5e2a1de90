// SPDX-License-Identifier: MIT
/*
 * virtio-net driver, transport-agnostic and freestanding (guestlet and
 * libvirtio-user build the same file).
 *
 * Security model: the device may be buggy or hostile.  It writes the used
 * rings (ids checked by vq_drv), the RX buffers (header and frame) and it
 * chooses the config values.  Our bookkeeping (buffer addresses, free
 * stacks, the partial-frame list) is private memory (gd_alloc_priv); only
 * the buffers and rings are DMA memory.  A received header is copied out of
 * DMA memory once and only the copy is looked at; used lengths are checked
 * against the buffer size, num_buffers against the queue size, the gathered
 * frame against max_frame (overflow-safe: each piece is at most a buffer and
 * the total is compared before every copy), csum_start + csum_offset + 2
 * against the frame (CVE-2024-11614's class) and gso_type must be NONE.  A
 * frame failing any check is dropped and counted, its buffers reposted.  The
 * MTU from config is used only inside [68, 65535].
 */
#include <linux/errno.h>
#include <guest-drivers/platform.h>
#include <guest-drivers/net.h>

#define RX_VECTOR	1	/* MSI-X entry of the receive queue */
#define TX_VECTOR	2	/* MSI-X entry of the transmit queue */
#define MRG_BUF_DEFAULT	2048u
#define RX_BUF_MIN	64u
#define RX_BUF_MAX	65536u
/*
 * Every buffer, RX and TX, starts this far into a cache line: the 12-byte
 * header fills the line's end and the frame starts on the next line, the
 * layout DPDK's virtio PMD gives its mbufs.  A 64-byte frame is then one line
 * instead of two, so one line a frame moves between the two cores, not two;
 * the header's line is the writer's alone while the other side leaves it
 * unread or unchanged (no offloads on TX; our back-end's RX header store
 * writes only what differs).
 */
#define BUF_HDR_OFF	(64u - GD_NET_HDR_LEN)

struct gd_net_buf {
	u8 *va;		/* DMA memory */
	u64 gpa;
};

#define F(b)	(1ull << (b))
#define WANTED_FEATURES						\
	(F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |	\
	 F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) | \
	 F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_MTU) | F(VIRTIO_NET_F_STATUS))
#define CSUM_FEATURES	(F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM))

static int cfg_read(struct gd_net *n, u32 off, void *buf, u32 len)
{
	return n->vdev.t->ops->config_read(n->vdev.t, off, buf, len);
}

static void read_config(struct gd_net *n)
{
	u8 mac[6];
	le16 v;

	/* A locally administered default until the device says otherwise. */
	n->mac[0] = 0x02;
	n->mac[1] = n->mac[2] = n->mac[3] = n->mac[4] = 0;
	n->mac[5] = 1;
	if (gd_virtio_has(&n->vdev, VIRTIO_NET_F_MAC) &&
	    !cfg_read(n, offsetof(struct virtio_net_config, mac), mac, sizeof(mac))) {
		__builtin_memcpy(n->mac, mac, sizeof(mac));
		n->mac_from_device = true;
	}
	n->mtu = GD_NET_DEF_MTU;
	if (gd_virtio_has(&n->vdev, VIRTIO_NET_F_MTU) &&
	    !cfg_read(n, offsetof(struct virtio_net_config, mtu), &v, sizeof(v))) {
		u16 m = le16_to_cpu(v);

		if (m >= 68)
			n->mtu = m;
	}
	n->max_frame = (u32)n->mtu + GD_NET_ETH_HLEN + 4;
}

static void rx_post(struct gd_net *n, struct gd_net_buf *b)
{
	struct vq_drv_sg sg = { b->gpa, n->rx_buf_size, true };

	/* Cannot run short: the ring has a descriptor for every buffer we own. */
	if (vq_drv_add(&n->rxq.vq, &sg, 1, b) < 0)
		n->broken = true;
}

static void rx_kick(struct gd_net *n)
{
	n->rx_refills++;
	if (gd_virtqueue_kick(&n->rxq))
		n->rx_notifies++;
}

int gd_net_init(struct gd_net *n, struct gd_virtio_transport *t,
		const struct gd_net_opts *opts)
{
	struct gd_net_opts none = { 0 };
	unsigned int i, num;
	u32 tx_size, stride;
	u8 *dma;
	u64 wanted;
	int r;

	if (!opts)
		opts = &none;
	__builtin_memset(n, 0, sizeof(*n));
	wanted = WANTED_FEATURES | (opts->csum ? CSUM_FEATURES : 0);
	r = gd_virtio_init(&n->vdev, t, wanted & ~opts->features_mask);
	if (r)
		return r;
	n->mrg_rxbuf = gd_virtio_has(&n->vdev, VIRTIO_NET_F_MRG_RXBUF);
	n->event_idx = gd_virtio_has(&n->vdev, VIRTIO_RING_F_EVENT_IDX);
	n->indirect = gd_virtio_has(&n->vdev, VIRTIO_RING_F_INDIRECT_DESC);
	n->csum = gd_virtio_has(&n->vdev, VIRTIO_NET_F_CSUM);
	n->guest_csum = gd_virtio_has(&n->vdev, VIRTIO_NET_F_GUEST_CSUM);
	n->has_status = gd_virtio_has(&n->vdev, VIRTIO_NET_F_STATUS);
	read_config(n);

	if (n->mrg_rxbuf) {
		n->rx_buf_size = opts->rx_buf_size ? opts->rx_buf_size : MRG_BUF_DEFAULT;
	} else {
		n->rx_buf_size = GD_NET_HDR_LEN + n->max_frame;
		if (opts->rx_buf_size && opts->rx_buf_size < n->rx_buf_size) {
			r = -EINVAL;	/* small buffers need MRG_RXBUF */
			goto fail;
		}
		if (opts->rx_buf_size)
			n->rx_buf_size = opts->rx_buf_size;
	}
	if (n->rx_buf_size < RX_BUF_MIN || n->rx_buf_size > RX_BUF_MAX) {
		r = -EINVAL;
		goto fail;
	}
	n->rx_buf_size = (n->rx_buf_size + 7) & ~7u;

	r = gd_virtio_queue_create(&n->vdev, &n->rxq, GD_NET_RX_Q, opts->queue_size,
				   opts->no_irq ? GD_VIRTIO_NO_VECTOR : RX_VECTOR);
	if (r)
		goto fail;
	r = gd_virtio_queue_create(&n->vdev, &n->txq, GD_NET_TX_Q, opts->queue_size,
				   opts->no_irq ? GD_VIRTIO_NO_VECTOR : TX_VECTOR);
	if (r)
		goto fail;

	/* RX buffers: one per ring entry. */
	num = n->rxq.vq.num;
	n->rxb = gd_alloc_priv(num * sizeof(*n->rxb), 64);
	n->held = gd_alloc_priv(num * sizeof(*n->held), 64);
	n->part = gd_alloc_priv(num * sizeof(*n->part), 64);
	n->part_len = gd_alloc_priv(num * sizeof(*n->part_len), 64);
	n->reasm = gd_alloc_priv((size_t)GD_NET_BURST_MAX * n->max_frame, 64);
	stride = (BUF_HDR_OFF + n->rx_buf_size + 63) & ~63u;
	dma = gd_alloc((size_t)num * stride, 64);
	if (!n->rxb || !n->held || !n->part || !n->part_len || !n->reasm || !dma) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < num; i++) {
		n->rxb[i].va = dma + (size_t)i * stride + BUF_HDR_OFF;
		n->rxb[i].gpa = gd_virt_to_phys(n->rxb[i].va);
	}
	n->refill_batch = num / 4 < GD_NET_BURST_MAX ? num / 4 : GD_NET_BURST_MAX;
	if (!n->refill_batch)
		n->refill_batch = 1;

	/* TX slots: header + the largest frame, one per ring entry. */
	num = n->txq.vq.num;
	tx_size = (BUF_HDR_OFF + GD_NET_HDR_LEN + n->max_frame + 63) & ~63u;
	n->txb = gd_alloc_priv(num * sizeof(*n->txb), 64);
	n->tx_free = gd_alloc_priv(num * sizeof(*n->tx_free), 64);
	dma = gd_alloc((size_t)num * tx_size, 64);
	if (!n->txb || !n->tx_free || !dma) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < num; i++) {
		n->txb[i].va = dma + (size_t)i * tx_size + BUF_HDR_OFF;
		n->txb[i].gpa = gd_virt_to_phys(n->txb[i].va);
		n->tx_free[i] = &n->txb[num - 1 - i];
	}
	n->ntx_free = num;

	r = gd_virtio_driver_ok(&n->vdev);
	if (r)
		goto fail;
	for (i = 0; i < n->rxq.vq.num; i++)
		rx_post(n, &n->rxb[i]);
	if (n->broken) {
		r = -EIO;
		goto fail;
	}
	/* Interrupts only while gd_net_wait_*() sleeps. */
	vq_drv_disable_cb(&n->txq.vq);
	vq_drv_disable_cb(&n->rxq.vq);
	rx_kick(n);
	if (t->ops->irq_count) {
		n->rx_irq_seen = t->ops->irq_count(t, GD_NET_RX_Q);
		n->tx_irq_seen = t->ops->irq_count(t, GD_NET_TX_Q);
	}
	return 0;
fail:
	gd_virtio_fail(&n->vdev);
	n->broken = true;
	return r;
}

void gd_net_destroy(struct gd_net *n)
{
	if (n->vdev.t)
		gd_virtio_reset(&n->vdev);
	gd_virtio_queue_destroy(&n->rxq);
	gd_virtio_queue_destroy(&n->txq);
	gd_free_priv(n->rxb);
	gd_free_priv(n->held);
	gd_free_priv(n->part);
	gd_free_priv(n->part_len);
	gd_free_priv(n->reasm);
	gd_free_priv(n->txb);
	gd_free_priv(n->tx_free);
	n->rxb = n->txb = NULL;
	n->held = n->part = n->tx_free = NULL;
	n->part_len = NULL;
	n->reasm = NULL;
	n->broken = true;
}

/* --- receive ----------------------------------------------------------------- */

static void rx_hold(struct gd_net *n, struct gd_net_buf *b)
{
	n->held[n->nheld++] = b;	/* at most num buffers exist */
}

/* Drop the partial frame: its buffers go back with the next refill. */
static void rx_drop_part(struct gd_net *n)
{
	for (unsigned int i = 0; i < n->npart; i++)
		rx_hold(n, n->part[i]);
	n->npart = 0;
	n->part_want = 0;
	n->rx_errors++;
}

/* Are the header's offload fields acceptable for a frame of @len bytes? */
static bool rx_hdr_ok(const struct gd_net *n, u8 flags, u8 gso, u16 cs, u16 co, u32 len)
{
	if (gso != VIRTIO_NET_HDR_GSO_NONE)
		return false;		/* no GUEST_TSO/UFO negotiated */
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!n->guest_csum)
			return false;
		/* u32 sums of u16 values: no overflow */
		if ((u32)cs + co + 2 > len)
			return false;
	}
	return true;
}

/* The partial frame is complete: gather it into reassembly slot @slot. */
static bool rx_finish(struct gd_net *n, struct gd_net_rx *p, unsigned int slot)
{
	u8 *dst = n->reasm + (size_t)slot * n->max_frame;
	u32 total = 0;

	for (unsigned int i = 0; i < n->npart; i++) {
		u32 off = i == 0 ? GD_NET_HDR_LEN : 0;
		u32 len = n->part_len[i] - off;	/* part_len[0] >= HDR_LEN checked */

		if (len > n->max_frame - total)
			return false;
		__builtin_memcpy(dst + total, n->part[i]->va + off, len);
		total += len;
	}
	if (total < GD_NET_ETH_MIN ||
	    !rx_hdr_ok(n, (u8)n->part_flags, n->part_gso, n->part_csum_start,
		       n->part_csum_offset, total))
		return false;
	*p = (struct gd_net_rx){
		.data = dst, .len = total,
		.flags = n->part_flags & (GD_NET_F_NEEDS_CSUM | GD_NET_F_DATA_VALID),
		.csum_start = n->part_csum_start, .csum_offset = n->part_csum_offset,
		.num_buffers = (u16)n->npart,
	};
	return true;
}

static void rx_refill(struct gd_net *n)
{
	unsigned int posted = n->rxq.vq.num - vq_drv_num_free(&n->rxq.vq);

	/*
	 * Repost in batches; sooner when the device is about to run dry (fewer
	 * posted than a batch), so a slow caller does not starve it.
	 */
	if (!n->nheld || (n->nheld < n->refill_batch && posted >= n->refill_batch))
		return;
	for (unsigned int i = 0; i < n->nheld; i++)
		rx_post(n, n->held[i]);
	n->nheld = 0;
	rx_kick(n);
}

int gd_net_rx_burst(struct gd_net *n, struct gd_net_rx *pkts, unsigned int max)
{
	unsigned int cnt = 0;
	void *token;
	u32 len;
	int r;

	if (n->broken)
		return -EIO;
	if (max > GD_NET_BURST_MAX)
		max = GD_NET_BURST_MAX;
	rx_refill(n);
	if (n->broken)
		return -EIO;
	while (cnt < max) {
		struct gd_net_buf *b;

		r = vq_drv_get_used(&n->rxq.vq, &token, &len);
		if (r == 0)
			break;
		if (r < 0) {
			n->broken = true;
			return -EIO;
		}
		b = token;
		if (len > n->rx_buf_size) {
			/* the device claims it wrote past our buffer */
			if (n->part_want)
				rx_drop_part(n);
			else
				n->rx_errors++;
			rx_hold(n, b);
			continue;
		}
		if (!n->part_want) {
			struct virtio_net_hdr_mrg_rxbuf h;
			u16 nb;

			if (len < GD_NET_HDR_LEN + GD_NET_ETH_MIN) {
				n->rx_errors++;
				rx_hold(n, b);
				continue;
			}
			/* One copy out of shared memory; only the copy is used. */
			__builtin_memcpy(&h, b->va, sizeof(h));
			/*
			 * Compiler barrier: the copy is complete before the
			 * checks, which use only it (the compiler may not
			 * re-read a field from shared memory: no double fetch).
			 */
			gd_rmb();
			nb = n->mrg_rxbuf ? le16_to_cpu(h.num_buffers) : 1;
			if (nb == 0 || nb > n->rxq.vq.num) {
				n->rx_errors++;
				rx_hold(n, b);
				continue;
			}
			if (nb == 1) {
				u32 flen = len - GD_NET_HDR_LEN;
				u16 cs = le16_to_cpu(h.hdr.csum_start);
				u16 co = le16_to_cpu(h.hdr.csum_offset);

				rx_hold(n, b);
				if (flen > n->max_frame ||
				    !rx_hdr_ok(n, h.hdr.flags, h.hdr.gso_type, cs, co, flen)) {
					n->rx_errors++;
					continue;
				}
				pkts[cnt++] = (struct gd_net_rx){
					.data = b->va + GD_NET_HDR_LEN, .len = flen,
					.flags = h.hdr.flags & (GD_NET_F_NEEDS_CSUM |
								GD_NET_F_DATA_VALID),
					.csum_start = cs, .csum_offset = co, .num_buffers = 1,
				};
				n->rx_packets++;
				n->rx_bytes += flen;
				continue;
			}
			n->part_want = nb;
			n->part_flags = h.hdr.flags;
			n->part_gso = h.hdr.gso_type;
			n->part_csum_start = le16_to_cpu(h.hdr.csum_start);
			n->part_csum_offset = le16_to_cpu(h.hdr.csum_offset);
		}
		n->part[n->npart] = b;
		n->part_len[n->npart] = len;
		n->npart++;
		if (n->npart < n->part_want)
			continue;	/* more buffers of this frame to come */
		if (rx_finish(n, &pkts[cnt], cnt)) {
			n->rx_packets++;
			n->rx_bytes += pkts[cnt].len;
			n->rx_merged++;
			cnt++;
			for (unsigned int i = 0; i < n->npart; i++)
				rx_hold(n, n->part[i]);
			n->npart = 0;
			n->part_want = 0;
		} else {
			rx_drop_part(n);
		}
	}
	/* Interrupts off (polling, or awake between waits): keep used_event behind. */
	gd_virtqueue_poll_refresh(&n->rxq);
	return (int)cnt;
}

/* --- transmit -------------------------------------------------------------------- */

int gd_net_tx_reclaim(struct gd_net *n)
{
	unsigned int got = 0;
	void *token;
	u32 len;
	int r;

	if (n->broken)
		return -EIO;
	for (;;) {
		r = vq_drv_get_used(&n->txq.vq, &token, &len);
		if (r == 0)
			break;
		if (r < 0) {
			n->broken = true;
			return -EIO;
		}
		n->tx_free[n->ntx_free++] = token;
		n->tx_inflight--;
		got++;
	}
	/* TX interrupts stay off: keep used_event behind (EVENT_IDX). */
	if (got)
		gd_virtqueue_poll_refresh(&n->txq);
	return (int)got;
}

static bool tx_ok(const struct gd_net *n, const struct gd_net_tx *p)
{
	if (p->len < GD_NET_ETH_MIN || p->len > n->max_frame || !p->data)
		return false;
	if (p->flags & ~GD_NET_F_NEEDS_CSUM)
		return false;
	if (p->flags & GD_NET_F_NEEDS_CSUM)
		return n->csum && (u32)p->csum_start + p->csum_offset + 2 <= p->len;
	return true;
}

int gd_net_tx_burst(struct gd_net *n, const struct gd_net_tx *pkts, unsigned int cnt)
{
	unsigned int i, added = 0;

	if (n->broken)
		return -EIO;
	if (cnt > GD_NET_BURST_MAX)
		cnt = GD_NET_BURST_MAX;
	/* Batched reclaim: only when the free slots would not cover this burst. */
	if (n->ntx_free < cnt && gd_net_tx_reclaim(n) < 0)
		return -EIO;
	for (i = 0; i < cnt; i++) {
		const struct gd_net_tx *p = &pkts[i];
		struct virtio_net_hdr_mrg_rxbuf *h;
		struct vq_drv_sg sg;
		struct gd_net_buf *b;

		if (!tx_ok(n, p)) {
			n->tx_errors++;
			continue;
		}
		if (!n->ntx_free)
			break;
		b = n->tx_free[--n->ntx_free];
		h = (struct virtio_net_hdr_mrg_rxbuf *)b->va;
		h->hdr.flags = (u8)p->flags;
		h->hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
		h->hdr.hdr_len = 0;
		h->hdr.gso_size = 0;
		h->hdr.csum_start = cpu_to_le16(p->flags ? p->csum_start : 0);
		h->hdr.csum_offset = cpu_to_le16(p->flags ? p->csum_offset : 0);
		h->num_buffers = 0;
		__builtin_memcpy(b->va + GD_NET_HDR_LEN, p->data, p->len);
		sg = (struct vq_drv_sg){ b->gpa, GD_NET_HDR_LEN + p->len, false };
		if (vq_drv_add(&n->txq.vq, &sg, 1, b) < 0) {
			/* a descriptor per slot: only a broken queue gets here */
			n->tx_free[n->ntx_free++] = b;
			n->broken = true;
			break;
		}
		n->tx_inflight++;
		n->tx_packets++;
		n->tx_bytes += p->len;
		added++;
	}
	if (added) {
		n->tx_kicks++;
		if (gd_virtqueue_kick(&n->txq))
			n->tx_notifies++;
	}
	if (n->broken && !added)
		return -EIO;
	return (int)i;
}

/* --- modes, waiting, status -------------------------------------------------------- */

void gd_net_set_poll(struct gd_net *n, bool poll)
{
	/*
	 * Either way interrupts stay off until gd_net_wait_*() sleeps: in
	 * interrupt mode the caller waits when a burst finds nothing.
	 */
	n->poll = poll;
	vq_drv_disable_cb(&n->txq.vq);
	vq_drv_disable_cb(&n->rxq.vq);
}

u64 gd_net_irq_count(struct gd_net *n, unsigned int q)
{
	struct gd_virtio_transport *t = n->vdev.t;

	return t->ops->irq_count ? t->ops->irq_count(t, q) : 0;
}

/*
 * A sender waiting for TX slots (EVENT_IDX): ask for the interrupt only when
 * 3/4 of the frames in flight are done, not at the first one, so a full ring
 * costs one wake-up per big batch instead of one per few frames.  True if
 * the device already got that far (then there is nothing to wait for).
 */
static bool tx_delay_cb(struct gd_net *n, struct gd_virtqueue *q)
{
	struct vq_drv *d = &q->vq;
	u16 delay, used;

	if (q != &n->txq || !d->event_idx || n->tx_inflight < 8)
		return false;
	delay = (u16)(n->tx_inflight * 3 / 4);
	WRITE_ONCE(*d->used_event, cpu_to_le16((u16)(d->last_used_idx + delay - 1)));
	/*
	 * Full barrier: the used_event store before the used->idx load (pairs
	 * with the device's barrier between its used->idx store and its
	 * used_event load): either it sees the new event, or we see its index.
	 */
	gd_mb();
	used = le16_to_cpu(READ_ONCE(d->used->idx));
	return (u16)(used - d->last_used_idx) >= delay;
}

static int net_wait(struct gd_net *n, struct gd_virtqueue *q)
{
	struct gd_virtio_transport *t = n->vdev.t;
	u64 seen;

	if (n->broken)
		return -EIO;
	if (!t->ops->irq_wait || !t->ops->irq_count)
		return -EOPNOTSUPP;
	n->waits++;
	/* Count first: an interrupt after this read ends the wait below. */
	seen = t->ops->irq_count(t, q->index);
	if (!vq_drv_enable_cb(&q->vq) && !tx_delay_cb(n, q))
		t->ops->irq_wait(t, q->index, seen);
	/*
	 * Awake: interrupts off again until the next wait (as NAPI does), so a
	 * device does not signal every batch while we are busy reaping.
	 */
	vq_drv_disable_cb(&q->vq);
	return 0;
}

int gd_net_wait_rx(struct gd_net *n)
{
	return net_wait(n, &n->rxq);
}

int gd_net_wait_tx(struct gd_net *n)
{
	return net_wait(n, &n->txq);
}

int gd_net_check(struct gd_net *n)
{
	if (!n->broken && gd_virtio_needs_reset(&n->vdev))
		n->broken = true;
	return n->broken ? -EIO : 0;
}

bool gd_net_link_up(struct gd_net *n)
{
	le16 s;

	if (!n->has_status ||
	    cfg_read(n, offsetof(struct virtio_net_config, status), &s, sizeof(s)))
		return true;
	return le16_to_cpu(s) & VIRTIO_NET_S_LINK_UP;
}
