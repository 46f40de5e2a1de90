/* SPDX-License-Identifier: MIT */
/*
 * virtio-net driver (freestanding; transport-agnostic: it talks to a struct
 * gd_virtio_transport, never to PCI or vhost-user).
 *
 * One queue pair: receiveq1 (index 0) and transmitq1 (index 1).  Negotiated
 * when offered: VERSION_1 (required), MRG_RXBUF, EVENT_IDX, INDIRECT_DESC,
 * MAC, MTU, STATUS; CSUM and GUEST_CSUM only when gd_net_opts.csum asks.  The
 * virtio-net header is always 12 bytes (struct virtio_net_hdr_mrg_rxbuf: a
 * VERSION_1 device uses it with or without MRG_RXBUF).
 *
 * Every buffer is preallocated at init (DMA memory), so the hot path
 * allocates nothing:
 *   - RX: queue-size buffers of rx_buf_size bytes, one device-writable
 *     descriptor each (header and frame together).  A frame that fits one
 *     buffer is returned in place (zero copy); a frame the device spread over
 *     num_buffers buffers (MRG_RXBUF) is gathered into a per-burst-slot
 *     reassembly area.  Buffers of a burst are given back to the device at
 *     the next gd_net_rx_burst() call, in batches (one avail->idx publish and
 *     at most one notification per refill).
 *   - TX: queue-size slots of 12 + max_frame bytes; gd_net_tx_burst() copies
 *     each frame behind its header, one descriptor a frame, publishes the
 *     burst and notifies at most once.  Completed slots are reclaimed in
 *     batches when the free ones run short (or by gd_net_tx_reclaim()).
 *
 *	gd_net_init(&n, transport, NULL)
 *	k = gd_net_tx_burst(&n, pkts, cnt)   frames taken (copied); k < cnt: ring full
 *	k = gd_net_rx_burst(&n, pkts, 32)    frames, valid until the next rx_burst
 *	gd_net_wait_rx(&n)                   interrupt mode: sleep until RX used
 *
 * Used-buffer interrupts are suppressed on both queues except while
 * gd_net_wait_rx() / gd_net_wait_tx() sleeps (interrupt mode: the caller
 * waits when a burst finds nothing, like NAPI); polling mode
 * (gd_net_set_poll(n, true)) only records that the caller never waits.
 * With EVENT_IDX, used_event is kept just behind the entries reaped, so the
 * device never crosses it while interrupts are off.
 *
 * Security model: the device is not trusted.  vq_drv checks used ids; the
 * virtio-net header of a received frame is copied once out of DMA memory
 * before it is looked at; used lengths are checked against the buffer
 * (header included) and the frame against max_frame; num_buffers must be in
 * [1, queue size]; a NEEDS_CSUM frame's csum_start + csum_offset + 2 must lie
 * inside the frame and gso_type must be NONE (no GUEST_TSO is negotiated).
 * Frames failing a check are dropped and counted (rx_errors).  Config values
 * are range-checked (MTU in [68, 65535], else 1500).
 */
#ifndef GUEST_DRIVERS_NET_H
#define GUEST_DRIVERS_NET_H

#include <linux/virtio_net.h>
#include <guest-drivers/virtio.h>

#define GD_NET_HDR_LEN		12u	/* struct virtio_net_hdr_mrg_rxbuf */
#define GD_NET_BURST_MAX	32u	/* frames per rx_burst / tx_burst call */
#define GD_NET_ETH_HLEN		14u
#define GD_NET_ETH_MIN		14u	/* smallest frame accepted either way */
#define GD_NET_DEF_MTU		1500u
#define GD_NET_RX_Q		0u
#define GD_NET_TX_Q		1u

/* gd_net_rx.flags / gd_net_tx.flags */
#define GD_NET_F_NEEDS_CSUM	VIRTIO_NET_HDR_F_NEEDS_CSUM	/* partial checksum */
#define GD_NET_F_DATA_VALID	VIRTIO_NET_HDR_F_DATA_VALID	/* RX: checksum verified */

struct gd_net_opts {
	unsigned int queue_size;	/* both queues; 0: the device's maximum */
	u64 features_mask;		/* features NOT to negotiate (testing) */
	bool csum;			/* negotiate CSUM and GUEST_CSUM if offered */
	bool no_irq;			/* program no interrupt vectors */
	u32 rx_buf_size;		/* bytes per RX buffer, header included:
					   0 = 2048 with MRG_RXBUF, else 12 + max_frame;
					   smaller than that needs MRG_RXBUF; >= 64 */
};

/* A received frame.  data points into driver memory until the next rx_burst. */
struct gd_net_rx {
	const u8 *data;		/* Ethernet frame (no virtio-net header) */
	u32 len;
	u16 flags;		/* GD_NET_F_NEEDS_CSUM / GD_NET_F_DATA_VALID */
	u16 csum_start;		/* NEEDS_CSUM: checksum from here to the end... */
	u16 csum_offset;	/* ...stored at csum_start + csum_offset */
	u16 num_buffers;	/* RX buffers the device used for it */
};

/* A frame to send (copied by gd_net_tx_burst; any memory). */
struct gd_net_tx {
	const void *data;	/* Ethernet frame */
	u32 len;		/* 14..max_frame */
	u16 flags;		/* GD_NET_F_NEEDS_CSUM: needs CSUM negotiated */
	u16 csum_start, csum_offset;
};

struct gd_net_buf;

struct gd_net {
	struct gd_virtio_dev vdev;
	struct gd_virtqueue rxq, txq;
	u8 mac[6];
	bool mac_from_device;	/* MAC negotiated and read from config */
	u16 mtu;
	u32 max_frame;		/* mtu + 14 + 4 (one VLAN tag) */
	u32 rx_buf_size;
	bool mrg_rxbuf, event_idx, indirect, csum, guest_csum, has_status;
	bool poll;
	bool broken;		/* a queue or the device failed: every call -EIO */

	/* RX (private memory; buffers themselves are DMA memory) */
	struct gd_net_buf *rxb;		/* rxq.vq.num buffers */
	struct gd_net_buf **held;	/* returned to the caller, to repost */
	unsigned int nheld;
	struct gd_net_buf **part;	/* buffers of a frame still arriving */
	u32 *part_len;
	unsigned int npart;
	u16 part_want;			/* its num_buffers (0: none pending) */
	u16 part_flags, part_csum_start, part_csum_offset;
	u8 part_gso;
	unsigned int refill_batch;
	u8 *reasm;			/* GD_NET_BURST_MAX * max_frame */

	/* TX */
	struct gd_net_buf *txb;		/* txq.vq.num slots */
	struct gd_net_buf **tx_free;
	unsigned int ntx_free;
	unsigned int tx_inflight;

	u64 rx_irq_seen, tx_irq_seen;
	/* statistics */
	u64 rx_packets, rx_bytes, rx_errors, rx_merged, rx_refills;
	u64 tx_packets, tx_bytes, tx_errors, tx_kicks, tx_notifies, rx_notifies;
	u64 waits;
};

/*
 * Probe and start the device, post every RX buffer.  0 or -errno
 * (-ENODEV, -EOPNOTSUPP, -ENOENT: no TX queue, -EINVAL: bad opts,
 * -ENOMEM, -EIO).
 */
int gd_net_init(struct gd_net *n, struct gd_virtio_transport *t,
		const struct gd_net_opts *opts);

/* Reset the device and free the private memory; also after a failed init. */
void gd_net_destroy(struct gd_net *n);

/*
 * Receive up to @max (<= GD_NET_BURST_MAX) frames.  First gives the buffers
 * of earlier bursts back to the device (when at least refill_batch of them
 * wait, or the ring ran low).  Returns the number of frames (0 if none) or
 * -EIO (device broke the ring protocol / was marked broken).  Malformed frames
 * are dropped and counted in rx_errors.
 */
int gd_net_rx_burst(struct gd_net *n, struct gd_net_rx *pkts, unsigned int max);

/*
 * Send up to @cnt (<= GD_NET_BURST_MAX) frames: reclaims completions when
 * slots run short, copies each frame, publishes and notifies once.  Returns
 * the number of frames taken (from the front of @pkts; fewer than @cnt when
 * the ring is full), or -EIO.  A frame with a bad length or checksum request
 * is taken but not sent (tx_errors).
 */
int gd_net_tx_burst(struct gd_net *n, const struct gd_net_tx *pkts, unsigned int cnt);

/* Reap TX completions now; how many, or -EIO. */
int gd_net_tx_reclaim(struct gd_net *n);

/* Polling (interrupts suppressed on both queues) or interrupt mode (default). */
void gd_net_set_poll(struct gd_net *n, bool poll);

/*
 * Interrupt mode: return when the RX queue has used buffers, sleeping until
 * its interrupt if it has none (spurious returns possible).  -EIO if broken,
 * -EOPNOTSUPP without interrupts.
 */
int gd_net_wait_rx(struct gd_net *n);

/* Same for TX completions (for a sender whose ring is full). */
int gd_net_wait_tx(struct gd_net *n);

/* Interrupts queue @q (GD_NET_RX_Q / GD_NET_TX_Q) received so far. */
u64 gd_net_irq_count(struct gd_net *n, unsigned int q);

/*
 * Ask the device whether it still works (NEEDS_RESET / gone); not for every
 * poll.  0 or -EIO (and marked broken).
 */
int gd_net_check(struct gd_net *n);

/* Link state: true without STATUS, or when the config read fails. */
bool gd_net_link_up(struct gd_net *n);

#endif
