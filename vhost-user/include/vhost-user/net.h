/* SPDX-License-Identifier: MIT */
/*
 * libvunet: the net half of vhost-user-net.
 *
 * Two parts, independent of the vhost-user protocol and of the ring code:
 *
 *  1. Ports (struct net_port): where packets go to and come from.  One
 *     interface (struct net_port_ops), four kinds, picked by the SPEC string
 *     given to net_port_open():
 *	"loop"		in-memory: a queue's TX comes back on its RX, or with
 *			conf.loop_sides = 2 queue q of one side goes to queue q
 *			of the other (a two-VM switch); rx_fd/rx_arm wake a
 *			sleeping receiver
 *	"discard"	a sink: frames sent are counted and dropped, none is
 *			ever received (the back-end's cost with a free port)
 *	"tap:NAME"	a kernel tap (IFF_TAP | IFF_NO_PI | IFF_VNET_HDR), no DPDK
 *	anything else	a DPDK ethdev: a vdev string for --vdev
 *			("net_tap0,iface=vtap0", "net_af_packet0,iface=veth0",
 *			"net_af_xdp0,iface=veth0", "net_ring0", "net_null0") or
 *			a PCI address ("0000:01:00.0").  Only when built with
 *			DPDK (NET_HAVE_DPDK); one DPDK port per process.
 *
 *     Packets move as struct net_pkt: a view (data, len, offload metadata)
 *     of a buffer the port owns (an rte_mbuf for DPDK ports, so a frame is
 *     copied exactly once, between guest memory and the port buffer).
 *
 *  2. virtio-net header handling on iovecs (guest memory, already translated
 *     by the ring code): net_tx_pkt() validates a guest TX chain and gathers
 *     its frame into a port buffer; net_rx_begin()/net_rx_fill()/net_rx_end()
 *     write the header and scatter a frame into one or (MRG_RXBUF) several
 *     guest RX chains.  Bad chains are dropped and counted by reason, never
 *     truncated.
 *
 * Directions: "tx" is guest -> port (the guest's transmit queue), "rx" is
 * port -> guest, in the counters as in the function names.
 *
 * Threads: every call for one port queue must come from one thread at a time
 * (a queue pair is served by one lcore); different queues may run on
 * different threads.  net_port_open()/close() are not thread-safe.
 */
#ifndef VHOST_USER_NET_H
#define VHOST_USER_NET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>
#include <string.h>
#include <virtio/types.h>

#define NET_BURST		32	/* packets per burst on the data path */
#define NET_MAX_QUEUES		64	/* queue pairs per port */
#define NET_ETH_HLEN		14
#define NET_VLAN_HLEN		4
/* Largest GSO frame (64 KiB IP packet plus Ethernet and VLAN headers). */
#define NET_MAX_GSO_FRAME	(65535 + NET_ETH_HLEN + NET_VLAN_HLEN)

/* ------------------------------------------------------------------------ */
/* Packets */

/* struct net_pkt.flags */
#define NET_PKT_F_CSUM_VALID	(1u << 0)	/* L4 checksum verified -> DATA_VALID */
#define NET_PKT_F_NEEDS_CSUM	(1u << 1)	/* csum_start/csum_offset: partial csum */
#define NET_PKT_F_GSO		(1u << 2)	/* gso_type/gso_size/gso_hdr_len valid */

struct net_pkt {
	u8 *data;		/* frame, Ethernet header first */
	u32 len;		/* frame bytes */
	u32 room;		/* bytes writable at data (buffers from alloc) */
	u16 flags;		/* NET_PKT_F_* */
	u16 csum_start;		/* NEEDS_CSUM: checksum from here to the end... */
	u16 csum_offset;	/* ...stored at csum_start + csum_offset */
	u16 gso_size;		/* GSO: segment payload size */
	u16 gso_hdr_len;	/* GSO: header bytes (a hint) */
	u8 gso_type;		/* GSO: VIRTIO_NET_HDR_GSO_* incl. the ECN bit */
	void *priv;		/* the port's handle for this buffer */
};

/*
 * Finish a partial checksum in software: the 16-bit one's complement sum of
 * data[csum_start, len) folded into data[csum_start + csum_offset] (which
 * holds the pseudo-header sum, as virtio and Linux leave it), then clears
 * NET_PKT_F_NEEDS_CSUM.  -EINVAL (nothing written) if the offsets do not fit
 * in the frame.
 */
int net_csum_finish(struct net_pkt *pkt);

/* ------------------------------------------------------------------------ */
/* Ports */

struct net_port;

struct net_port_stats {		/* the port's own view, cumulative */
	u64 rx_packets, rx_bytes;	/* received from the wire / peer */
	u64 tx_packets, tx_bytes;	/* handed to the wire / peer */
	u64 rx_missed;		/* dropped by the port: its RX queue was full */
	u64 rx_errors, tx_errors;
	u64 rx_nombuf;		/* no buffer to receive into */
};

struct net_port_ops {
	const char *kind;	/* "dpdk", "tap", "loop", "discard" */
	/*
	 * Receive up to @n packets from @queue into pkts[0..ret).  The caller
	 * owns them until it passes them to free().  Returns 0..n.
	 */
	unsigned int (*rx_burst)(struct net_port *port, u16 queue,
				 struct net_pkt *pkts, unsigned int n);
	/*
	 * Get up to @n empty buffers for transmission on @queue: data, room
	 * (>= port->max_frame) and priv set, len 0, flags 0.  Returns 0..n
	 * (fewer when the pool runs low).
	 */
	unsigned int (*alloc)(struct net_port *port, u16 queue,
			      struct net_pkt *pkts, unsigned int n);
	/*
	 * Send pkts[0..n).  Returns how many were taken (a prefix: the port now
	 * owns those); the caller still owns pkts[ret..n) and frees them (a
	 * full TX queue).  NEEDS_CSUM is finished by the device or in
	 * software; GSO only on ports whose features include it.
	 */
	unsigned int (*tx_burst)(struct net_port *port, u16 queue,
				 struct net_pkt *pkts, unsigned int n);
	/* Give buffers back (from rx_burst, alloc, or not taken by tx_burst). */
	void (*free)(struct net_port *port, u16 queue, struct net_pkt *pkts,
		     unsigned int n);
	int (*stats)(struct net_port *port, struct net_port_stats *st);
	/*
	 * Optional.  Offloads the guest negotiated (virtio-net feature bits:
	 * GUEST_CSUM, GUEST_TSO4...), i.e. what rx_burst may hand out.
	 */
	int (*set_offloads)(struct net_port *port, u64 guest_features);
	/* Optional.  An fd that polls readable when @queue has packets, or -1. */
	int (*rx_fd)(struct net_port *port, u16 queue);
	/*
	 * Optional (ports whose rx_fd is an edge, not a level: loop).  Call
	 * right before sleeping on rx_fd: resets the fd and asks to be woken
	 * by the next packet.  Returns true if packets are already waiting
	 * (then do not sleep: receive them).
	 */
	bool (*rx_arm)(struct net_port *port, u16 queue);
	/*
	 * Optional.  Call once on each data-path thread before its first burst
	 * (DPDK: registers the thread so mempool caches work); 0 or -errno.
	 */
	int (*thread_init)(struct net_port *port);
	/* Optional.  Undo thread_init before the thread exits. */
	void (*thread_fini)(struct net_port *port);
	/* Release everything (DPDK: stops the device, rte_eal_cleanup). */
	void (*close)(struct net_port *port);
};

struct net_port {
	const struct net_port_ops *ops;
	char name[64];		/* for log lines: the SPEC's device name */
	u16 nr_queues;		/* queue pairs */
	u16 mtu;
	u32 max_frame;		/* largest frame a buffer holds (no vnet header) */
	/*
	 * Offloads the port can pass through, as virtio-net feature bits to
	 * offer the guest: VIRTIO_NET_F_CSUM (NEEDS_CSUM frames accepted),
	 * VIRTIO_NET_F_GUEST_CSUM (rx may carry DATA_VALID/NEEDS_CSUM),
	 * HOST_TSO4/6, HOST_ECN, GUEST_TSO4/6, GUEST_ECN (tap and loop only).
	 */
	u64 features;
	u8 mac[6];
};

struct net_port_conf {
	const char *spec;	/* "loop", "discard", "tap:NAME", or a DPDK device string */
	u16 nr_queues;		/* queue pairs; 0 means 1 */
	u16 queue_size;		/* descriptors per port queue; 0: 1024 */
	u16 mtu;		/* 0: keep the device's (loop: 1500) */
	u8 loop_sides;		/* loop: 1 (each queue to itself) or 2 */
	/* DPDK only. */
	const char *lcores;	/* EAL --lcores; NULL: "0@(cpus we may run on)" */
	bool no_huge;		/* force --no-huge (default: only if no hugepages free) */
	const char *file_prefix; /* EAL --file-prefix; NULL: "vp-net-<pid>" */
	const char *eal_log_level; /* EAL --log-level; NULL: "notice" */
};

/*
 * Open the port described by conf->spec.  0 and *out, or -errno with a one
 * line reason in err ("net_af_xdp0: rte_eth_dev_configure failed: ...").
 * -ENOTSUP for a DPDK spec in a build without DPDK.
 */
int net_port_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen);
void net_port_close(struct net_port *port);

/* Which kind a SPEC selects: "loop", "discard", "tap" or "dpdk". */
const char *net_spec_kind(const char *spec);
/* True if this build has the DPDK port. */
bool net_have_dpdk(void);

static inline unsigned int net_port_rx_burst(struct net_port *p, u16 q,
					     struct net_pkt *pkts, unsigned int n)
{
	return p->ops->rx_burst(p, q, pkts, n);
}
static inline unsigned int net_port_alloc(struct net_port *p, u16 q,
					  struct net_pkt *pkts, unsigned int n)
{
	return p->ops->alloc(p, q, pkts, n);
}
static inline unsigned int net_port_tx_burst(struct net_port *p, u16 q,
					     struct net_pkt *pkts, unsigned int n)
{
	return p->ops->tx_burst(p, q, pkts, n);
}
static inline void net_port_free(struct net_port *p, u16 q,
				 struct net_pkt *pkts, unsigned int n)
{
	if (n)
		p->ops->free(p, q, pkts, n);
}
static inline int net_port_stats(struct net_port *p, struct net_port_stats *st)
{
	return p->ops->stats(p, st);
}
static inline int net_port_set_offloads(struct net_port *p, u64 guest_features)
{
	return p->ops->set_offloads ? p->ops->set_offloads(p, guest_features) : 0;
}
static inline int net_port_rx_fd(struct net_port *p, u16 q)
{
	return p->ops->rx_fd ? p->ops->rx_fd(p, q) : -1;
}
static inline bool net_port_rx_arm(struct net_port *p, u16 q)
{
	return p->ops->rx_arm ? p->ops->rx_arm(p, q) : false;
}
static inline int net_port_thread_init(struct net_port *p)
{
	return p->ops->thread_init ? p->ops->thread_init(p) : 0;
}
static inline void net_port_thread_fini(struct net_port *p)
{
	if (p->ops->thread_fini)
		p->ops->thread_fini(p);
}

/* ------------------------------------------------------------------------ */
/* Drop reasons and per-queue counters */

enum net_drop {
	NET_DROP_NONE = 0,
	/* guest TX chain (SECURITY.md case 11 and friends) */
	NET_DROP_HDR_SHORT,	/* "hdr_short": chain shorter than the net header */
	NET_DROP_BAD_CHAIN,	/* "bad_chain": TX chain with writable / RX chain with readable buffers */
	NET_DROP_CSUM_RANGE,	/* "csum_range": csum_start/csum_offset past the frame */
	NET_DROP_GSO_TYPE,	/* "gso_type": unknown or not negotiated GSO type (with CSUM) */
	NET_DROP_GSO_SIZE,	/* "gso_size": gso_size 0 with a GSO type */
	NET_DROP_RUNT,		/* "runt": frame shorter than an Ethernet header */
	NET_DROP_TOO_BIG,	/* "too_big": frame above MTU + headers (or GSO limit) */
	/* port side */
	NET_DROP_NO_BUF,	/* "no_buf": no port buffer for a guest frame */
	NET_DROP_PORT_FULL,	/* "port_full": port TX queue full */
	/* port -> guest */
	NET_DROP_RX_NO_AVAIL,	/* "rx_no_avail": guest posted no RX buffers */
	NET_DROP_RX_TOO_SMALL,	/* "rx_too_small": frame does not fit the chain(s) */
	NET_DROP_RX_GSO,	/* "rx_gso": GSO frame, guest did not negotiate it */
	NET_DROP_RX_CSUM,	/* "rx_csum": bad partial-checksum offsets from the port */
	NET_DROP_MAX
};

/* "hdr_short"..., "?" for out of range. */
const char *net_drop_name(unsigned int reason);

/* What a net_tune (below) did, for the counters. */
struct net_tune_stats {
	u64 on;			/* 1: the "on" way now */
	u64 rounds;		/* times the choice was measured */
	u64 windows, windows_on;	/* of NET_TUNE_WINDOW packets, timed */
};

struct net_queue_stats {
	u64 rx_packets, rx_bytes;	/* port -> guest, delivered */
	u64 tx_packets, tx_bytes;	/* guest -> port, handed to the port */
	/*
	 * Rounds that moved anything: packets / bursts is the average batch,
	 * small when the back-end outpaces the other side (each burst costs
	 * the driver a used-index cache miss).
	 */
	u64 rx_bursts, tx_bursts;
	/*
	 * Where the queue pair's thread spent its time (CLOCK_MONOTONIC ns):
	 * rounds that moved a packet or a chain, and rounds that found nothing
	 * (polling; time asleep waiting for a kick is in neither).  With --poll
	 * the thread always uses a whole CPU: busy / (busy + idle) is the share
	 * of it the traffic needed, and busy_ns / packets what one cost.
	 */
	u64 busy_ns, idle_ns;
	/* guest TX frames flushed from the caches after the copy (net_tune) */
	struct net_tune_stats tx_flush;
	/* guest RX chains and buffers prefetched before a burst (net_tune) */
	struct net_tune_stats rx_prefetch;
	u64 drops[NET_DROP_MAX];	/* [0] unused */
};

/* ------------------------------------------------------------------------ */
/*
 * net_tune: choose between two ways of running a data-path loop ("off" and
 * "on") by the packet rate each gets here and now.
 *
 * Some choices have no answer that holds on every machine.  The one it
 * exists for: flushing a guest TX frame's cache lines once it is copied
 * lets the driver's next write into that buffer (it reuses it within
 * microseconds) go without first taking the line back from our core.  With
 * the two cores far apart (other CCX, other socket) that is most of what a
 * 64-byte frame costs the driver and flushing gains 10-35%; with them
 * sharing a cache it is cheap, and flushing costs up to 40%.  Where the host
 * runs the guest's vCPU and ours is neither known nor fixed, so the loop
 * measures: windows of NET_TUNE_WINDOW packets, timed, the two ways taking
 * turns for NET_TUNE_PROBE windows each; the faster one (by at least
 * NET_TUNE_MARGIN %, else "off") is kept for NET_TUNE_HOLD windows or until
 * two windows in a row run NET_TUNE_DRIFT % away from the rate it won with,
 * then a new round.  Each window is timed once (one clock read per 64 Ki packets).
 *
 *	net_tune_init(&t, NET_TUNE_AUTO);
 *	loop: ... if (t.on) do the extra work ...
 *	      if (net_tune_count(&t, n)) net_tune_window(&t, now_ns);
 */
#define NET_TUNE_WINDOW	65536u	/* packets per window (~4 ms at 15 Mpps) */
#define NET_TUNE_PROBE	3	/* windows per way in a round */
#define NET_TUNE_HOLD	256	/* windows the winner is kept for */
#define NET_TUNE_MARGIN	3	/* %: "on" must be this much faster */
#define NET_TUNE_DRIFT	20	/* %: a rate change that starts a new round */

enum net_tune_mode { NET_TUNE_OFF, NET_TUNE_ON, NET_TUNE_AUTO };

struct net_tune {
	bool on;		/* the way to run now */
	bool probing;		/* in a round (else holding the winner) */
	u8 mode;		/* enum net_tune_mode */
	u16 step;		/* probing: windows done; holding: windows left */
	u16 strikes;		/* holding: windows in a row off the winner's rate */
	u32 pkts;		/* packets in the current window */
	u64 t0;			/* ns: the current window's start (0: none yet) */
	u64 best[2];		/* probing: each way's shortest window, ns */
	u64 ref;		/* holding: the winner's window, ns */
	/* counters (read racily by the stats printer: untorn u64 loads) */
	u64 rounds;		/* rounds decided */
	u64 windows;		/* windows timed */
	u64 on_windows;		/* of which run "on" */
};

void net_tune_init(struct net_tune *t, enum net_tune_mode mode);
/* @n more packets done; true when the window is full (call net_tune_window). */
static inline bool net_tune_count(struct net_tune *t, unsigned int n)
{
	if (t->mode != NET_TUNE_AUTO)
		return false;
	t->pkts += n;
	return t->pkts >= NET_TUNE_WINDOW;
}
/* The current window ends at @now_ns (CLOCK_MONOTONIC): t->on may change. */
void net_tune_window(struct net_tune *t, u64 now_ns);
/* Its counters, read while it runs (untorn loads). */
void net_tune_stats(const struct net_tune *t, struct net_tune_stats *st);
/* "auto", "on", "off" -> @mode; false for anything else. */
bool net_tune_parse(const char *s, enum net_tune_mode *mode);

/*
 * Write back and drop [p, p + n)'s cache lines from every cache in the
 * machine (CLFLUSHOPT; weakly ordered, nothing waits for it).  Data is never
 * lost: a dirty line is written back first.  net_flush_lines_supported():
 * the CPU has the instruction (net_flush_lines() is a no-op elsewhere).
 */
bool net_flush_lines_supported(void);
void net_flush_lines(const void *p, size_t n);

static inline void net_stats_drop(struct net_queue_stats *st, unsigned int reason)
{
	st->drops[reason < NET_DROP_MAX ? reason : 0]++;
}

/*
 * Write one JSON object on one line:
 * {"device":NAME,"queues":[{"queue":0,"rx_packets":..,"rx_bytes":..,
 *   "tx_packets":..,"tx_bytes":..,"rx_bursts":..,"tx_bursts":..,
 *   "busy_ns":..,"idle_ns":..,
 *   "tx_flush":{"on":0|1,"rounds":..,"windows":..,"windows_on":..},
 *   "rx_prefetch":{...same...},
 *   "drops":{"hdr_short":0,...}},...],
 *  "port":{"rx_packets":..,...}}
 * (@port may be NULL: no "port" member).  Counters are read without locks
 * (the data path keeps running): each value is a single untorn u64 load.
 * Returns 0 or -EIO.
 */
int net_stats_json(FILE *f, const char *name, const struct net_queue_stats *qs,
		   unsigned int nr_queues, const struct net_port_stats *port);

/* ------------------------------------------------------------------------ */
/* virtio-net header handling */

/* What the negotiated features mean for the header code. */
struct net_hdr_cfg {
	u16 hdr_len;		/* 12 (VERSION_1 or MRG_RXBUF) or 10 (legacy) */
	bool mrg_rxbuf;		/* RX frames may span several chains */
	bool csum;		/* VIRTIO_NET_F_CSUM: TX may carry NEEDS_CSUM */
	bool guest_csum;	/* VIRTIO_NET_F_GUEST_CSUM: RX may carry them */
	u8 host_gso;		/* NET_GSO_* the guest may send (HOST_TSO4...) */
	u8 guest_gso;		/* NET_GSO_* the guest takes (GUEST_TSO4...) */
	u32 max_frame;		/* largest non-GSO TX frame: MTU + 14 + 4 */
};

/* struct net_hdr_cfg host_gso / guest_gso bits */
#define NET_GSO_TCPV4		(1u << 0)
#define NET_GSO_TCPV6		(1u << 1)
#define NET_GSO_UDP		(1u << 2)
#define NET_GSO_ECN		(1u << 3)

/* From negotiated virtio-net features and the port MTU. */
void net_hdr_cfg_init(struct net_hdr_cfg *cfg, u64 features, u16 mtu);

/*
 * Guest TX: @iov/@niov are the device-readable buffers of one chain (header
 * then frame, split anyhow, the header too).  Copies the header out, checks
 * it, and gathers the frame into pkt->data (pkt from net_port_alloc: room
 * set); sets pkt->len and the offload metadata.  Returns NET_DROP_NONE (0)
 * or the drop reason (pkt->len is then 0; the buffer can be reused).
 * A chain with device-writable buffers is the caller's to drop as
 * NET_DROP_BAD_CHAIN.
 */
enum net_drop net_tx_pkt(const struct net_hdr_cfg *cfg, const struct iovec *iov,
			 unsigned int niov, struct net_pkt *pkt);

/*
 * Deferred frame copies.  A back-end filling a burst of guest buffers that
 * the driver's core has just read (their lines are shared with it) pays an
 * ownership transfer per store; issued one frame at a time between the ring
 * work, those transfers queue up behind each other.  Collected and run
 * back to back at the end of the burst (before the used entries are
 * published), they overlap.  A batch that is full makes net_rx_fill() copy
 * at once, so nothing is ever lost, only not deferred.
 */
#define NET_COPY_BATCH 64
struct net_copy_batch {
	unsigned int n;
	struct {
		void *dst;
		const void *src;
		u32 len;
	} c[NET_COPY_BATCH];
};

/*
 * Copy a frame (or part of one).  64 to 128 bytes, the size of small-packet
 * traffic, go as two fixed-size moves that may overlap, which the compiler
 * inlines: no call, no size dispatch, for the copy a 64-byte frame workload
 * makes per packet.  Both moves stay inside [src, src + n) and
 * [dst, dst + n).
 */
static inline void net_copy_frame(void *dst, const void *src, size_t n)
{
	if (n >= 64 && n <= 128) {
		memcpy(dst, src, 64);
		memcpy((u8 *)dst + n - 64, (const u8 *)src + n - 64, 64);
	} else {
		memcpy(dst, src, n);
	}
}

/* Run and empty the batch.  The sources (port buffers) must still be live. */
static inline void net_copy_run(struct net_copy_batch *b)
{
	unsigned int i;

	for (i = 0; i < b->n; i++)
		net_copy_frame(b->c[i].dst, b->c[i].src, b->c[i].len);
	b->n = 0;
}

/*
 * Guest RX, one packet into one or (MRG_RXBUF) several chains:
 *
 *	if (net_rx_begin(&rx, cfg, pkt, batch))   -> drop, reason returned
 *	do {
 *		pop a chain (none: keep &rx and the popped chains, retry later)
 *		r = net_rx_fill(&rx, chain->wr, chain->nr_wr, &used_len[i]);
 *		if (r) -> drop: return every popped chain with used len 0
 *	} while (net_rx_pending(&rx));
 *	n = net_rx_end(&rx);      // n chains; num_buffers written
 *	net_copy_run(batch) if any, push the n chains with used_len[] in one
 *	batch, then free pkt
 *
 * net_rx_begin() builds the header from pkt's metadata: DATA_VALID or
 * NEEDS_CSUM only with GUEST_CSUM (otherwise a partial checksum is finished
 * in software, in the packet buffer), GSO only if the guest takes that type
 * (else NET_DROP_RX_GSO).  net_rx_fill() writes the header (first chain
 * only, split anyhow over its iovecs) and as much of the frame as fits; with
 * a @batch (may be NULL) the frame bytes are only queued there, and are in
 * guest memory after net_copy_run().
 * Without MRG_RXBUF the whole packet must fit one chain, else
 * NET_DROP_RX_TOO_SMALL; with it, a chain with no writable byte or a first
 * chain shorter than the header is NET_DROP_RX_TOO_SMALL, and so is a
 * packet needing more than 65535 chains.
 * The guest's iovecs are written; the only bytes read are header bytes
 * compared to skip storing the same value (see hdr.c), never used otherwise.
 */
struct net_rx {			/* caller-allocated, contents private */
	u64 hdr_lo;		/* header bytes 0-7, little-endian order */
	u32 hdr_hi;		/* header bytes 8-11 */
	u16 hdr_len, hdr_done;
	bool mrg;
	u16 nr_bufs;
	u8 *nb_ptr[2];		/* where the two num_buffers bytes went */
	const u8 *src;
	u32 left;		/* frame bytes not yet written */
	struct net_copy_batch *batch;
};

enum net_drop net_rx_begin(struct net_rx *rx, const struct net_hdr_cfg *cfg,
			   struct net_pkt *pkt, struct net_copy_batch *batch);
enum net_drop net_rx_fill(struct net_rx *rx, const struct iovec *wr,
			  unsigned int nwr, u32 *written);
static inline bool net_rx_pending(const struct net_rx *rx)
{
	return rx->left || rx->hdr_done < rx->hdr_len;
}
/* Returns the number of chains used (>= 1) and sets num_buffers to it. */
u16 net_rx_end(struct net_rx *rx);

/*
 * The usual case of the above in one call: @pkt carries neither GSO nor a
 * partial checksum, and the chain is one writable buffer with room for the
 * header and the whole frame.  Writes the header (as net_rx_fill() does),
 * queues the frame in @batch (or copies it at once), sets *@written and
 * returns true; false, with nothing written, when it does not apply.
 */
bool net_rx_one(const struct net_hdr_cfg *cfg, const struct net_pkt *pkt,
		const struct iovec *wr, struct net_copy_batch *batch, u32 *written);

#endif
