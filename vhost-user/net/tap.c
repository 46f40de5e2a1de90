// SPDX-License-Identifier: MIT
/*
 * "tap:NAME": a kernel tap device, no DPDK.  One fd per queue pair
 * (IFF_MULTI_QUEUE when more than one), IFF_NO_PI, IFF_VNET_HDR with a
 * 12-byte header so offload metadata crosses the kernel boundary as-is
 * (TUNSETOFFLOAD follows what the guest negotiated).  One read()/write() per
 * packet: that is the price of a kernel tap.
 *
 * Security model: frames and headers we write come from net_tx_pkt()
 * (validated); headers the kernel gives us are trusted for meaning but their
 * offsets are still checked by net_rx_begin() before use.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_tun.h>

#include "internal.h"

#define TAP_VNET_HDR	((u32)sizeof(struct virtio_net_hdr_mrg_rxbuf))
#define TAP_HEAD	64	/* buffer head: room for the vnet header */
#define TAP_POOL	(4 * NET_BURST)

struct tap_queue {
	int fd;
	u8 *arena;
	size_t arena_len;
	void *free[TAP_POOL];
	unsigned int nr_free;
	u64 rx_packets, rx_bytes, tx_packets, tx_bytes, rx_errors, tx_errors, rx_nombuf;
} __attribute__((aligned(64)));

struct tap_port {
	struct net_port port;
	u32 buf_size;
	struct tap_queue q[];
};

static inline struct tap_port *to_tap(struct net_port *p)
{
	return container_of(p, struct tap_port, port);
}

static unsigned int tap_get(struct net_port *p, struct tap_queue *tq,
			    struct net_pkt *pkts, unsigned int n)
{
	unsigned int i;

	if (n > tq->nr_free)
		n = tq->nr_free;
	for (i = 0; i < n; i++) {
		u8 *b = tq->free[--tq->nr_free];

		pkts[i] = (struct net_pkt){
			.data = b + TAP_HEAD, .room = p->max_frame, .priv = b,
		};
	}
	return n;
}

static unsigned int tap_rx_burst(struct net_port *p, u16 queue,
				 struct net_pkt *pkts, unsigned int n)
{
	struct tap_queue *tq = &to_tap(p)->q[queue];
	unsigned int i, got = 0;

	if (!tq->nr_free) {
		tq->rx_nombuf++;
		return 0;
	}
	for (i = 0; i < n; i++) {
		struct virtio_net_hdr hdr;
		struct net_pkt *pk;
		ssize_t r;
		u8 *b;

		if (!tap_get(p, tq, &pkts[got], 1))
			break;
		pk = &pkts[got];
		b = pk->priv;
		r = read(tq->fd, pk->data - TAP_VNET_HDR, TAP_VNET_HDR + p->max_frame);
		if (r < (ssize_t)(TAP_VNET_HDR + NET_ETH_HLEN)) {
			tq->free[tq->nr_free++] = b;
			if (r < 0 && (errno == EAGAIN || errno == EINTR))
				break;
			tq->rx_errors++;
			if (r < 0)
				break;
			continue;
		}
		memcpy(&hdr, pk->data - TAP_VNET_HDR, sizeof(hdr));
		pk->len = (u32)r - TAP_VNET_HDR;
		if (hdr.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
			pk->flags |= NET_PKT_F_NEEDS_CSUM;
			pk->csum_start = le16_to_cpu((le16)hdr.csum_start);
			pk->csum_offset = le16_to_cpu((le16)hdr.csum_offset);
		} else if (hdr.flags & VIRTIO_NET_HDR_F_DATA_VALID) {
			pk->flags |= NET_PKT_F_CSUM_VALID;
		}
		if (hdr.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			pk->flags |= NET_PKT_F_GSO;
			pk->gso_type = hdr.gso_type;
			pk->gso_size = le16_to_cpu((le16)hdr.gso_size);
			pk->gso_hdr_len = le16_to_cpu((le16)hdr.hdr_len);
		}
		tq->rx_packets++;
		tq->rx_bytes += pk->len;
		got++;
	}
	return got;
}

static unsigned int tap_alloc(struct net_port *p, u16 queue,
			      struct net_pkt *pkts, unsigned int n)
{
	struct tap_queue *tq = &to_tap(p)->q[queue];
	unsigned int got = tap_get(p, tq, pkts, n);

	tq->rx_nombuf += n - got;
	return got;
}

static unsigned int tap_tx_burst(struct net_port *p, u16 queue,
				 struct net_pkt *pkts, unsigned int n)
{
	struct tap_queue *tq = &to_tap(p)->q[queue];
	unsigned int i;

	for (i = 0; i < n; i++) {
		struct net_pkt *pk = &pkts[i];
		struct virtio_net_hdr_mrg_rxbuf hdr = { .num_buffers = 0 };
		ssize_t r;

		if (pk->flags & NET_PKT_F_NEEDS_CSUM) {
			hdr.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			hdr.hdr.csum_start = (__virtio16)cpu_to_le16(pk->csum_start);
			hdr.hdr.csum_offset = (__virtio16)cpu_to_le16(pk->csum_offset);
		}
		if (pk->flags & NET_PKT_F_GSO) {
			hdr.hdr.gso_type = pk->gso_type;
			hdr.hdr.gso_size = (__virtio16)cpu_to_le16(pk->gso_size);
			hdr.hdr.hdr_len = (__virtio16)cpu_to_le16(pk->gso_hdr_len);
		}
		memcpy(pk->data - TAP_VNET_HDR, &hdr, TAP_VNET_HDR);
		r = write(tq->fd, pk->data - TAP_VNET_HDR, TAP_VNET_HDR + pk->len);
		if (r < 0 && (errno == EAGAIN || errno == EINTR))
			break;		/* caller keeps pkts[i..n) */
		if (r < 0) {
			tq->tx_errors++;	/* e.g. link down: taken and dropped */
		} else {
			tq->tx_packets++;
			tq->tx_bytes += pk->len;
		}
		tq->free[tq->nr_free++] = pk->priv;
	}
	return i;
}

static void tap_free(struct net_port *p, u16 queue, struct net_pkt *pkts,
		     unsigned int n)
{
	struct tap_queue *tq = &to_tap(p)->q[queue];
	unsigned int i;

	for (i = 0; i < n; i++)
		tq->free[tq->nr_free++] = pkts[i].priv;
}

static int tap_stats(struct net_port *p, struct net_port_stats *st)
{
	struct tap_port *tp = to_tap(p);
	unsigned int i;

	memset(st, 0, sizeof(*st));
	for (i = 0; i < p->nr_queues; i++) {
		struct tap_queue *q = &tp->q[i];

		st->rx_packets += READ_ONCE(q->rx_packets);
		st->rx_bytes += READ_ONCE(q->rx_bytes);
		st->tx_packets += READ_ONCE(q->tx_packets);
		st->tx_bytes += READ_ONCE(q->tx_bytes);
		st->rx_errors += READ_ONCE(q->rx_errors);
		st->tx_errors += READ_ONCE(q->tx_errors);
		st->rx_nombuf += READ_ONCE(q->rx_nombuf);
	}
	return 0;
}

/* What the guest takes decides what the kernel may hand us. */
static int tap_set_offloads(struct net_port *p, u64 f)
{
	struct tap_port *tp = to_tap(p);
	unsigned int off = 0, i;

#define F(bit) (f & (1ULL << (bit)))
	if (F(VIRTIO_NET_F_GUEST_CSUM)) {
		off |= TUN_F_CSUM;
		off |= F(VIRTIO_NET_F_GUEST_TSO4) ? TUN_F_TSO4 : 0;
		off |= F(VIRTIO_NET_F_GUEST_TSO6) ? TUN_F_TSO6 : 0;
		if (off & (TUN_F_TSO4 | TUN_F_TSO6))
			off |= F(VIRTIO_NET_F_GUEST_ECN) ? TUN_F_TSO_ECN : 0;
	}
#undef F
	for (i = 0; i < p->nr_queues; i++)
		if (ioctl(tp->q[i].fd, TUNSETOFFLOAD, off) < 0) {
			int e = errno;

			net_log("%s: TUNSETOFFLOAD 0x%x failed: %s", p->name, off,
				strerror(e));
			return -e;
		}
	return 0;
}

static int tap_rx_fd(struct net_port *p, u16 queue)
{
	return to_tap(p)->q[queue].fd;
}

static void tap_close(struct net_port *p)
{
	struct tap_port *tp = to_tap(p);
	unsigned int i;

	for (i = 0; i < p->nr_queues; i++) {
		if (tp->q[i].fd >= 0)
			close(tp->q[i].fd);
		if (tp->q[i].arena)
			munmap(tp->q[i].arena, tp->q[i].arena_len);
	}
	free(tp);
}

static const struct net_port_ops tap_ops = {
	.kind = "tap",
	.rx_burst = tap_rx_burst,
	.alloc = tap_alloc,
	.tx_burst = tap_tx_burst,
	.free = tap_free,
	.stats = tap_stats,
	.set_offloads = tap_set_offloads,
	.rx_fd = tap_rx_fd,
	.close = tap_close,
};

/* Link up, MTU and MAC through an ioctl socket. */
static int tap_link_setup(struct tap_port *tp, const char *ifname, u16 mtu,
			  char *err, size_t errlen)
{
	struct ifreq ifr;
	int s, ret = 0;

	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return net_seterr(-errno, err, errlen, "tap:%s: socket: %s", ifname,
				  strerror(errno));
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	if (mtu) {
		ifr.ifr_mtu = mtu;
		if (ioctl(s, SIOCSIFMTU, &ifr) < 0) {
			ret = net_seterr(-errno, err, errlen, "tap:%s: set MTU %u failed: %s",
					 ifname, mtu, strerror(errno));
			goto out;
		}
	}
	if (ioctl(s, SIOCGIFMTU, &ifr) < 0) {
		ret = net_seterr(-errno, err, errlen, "tap:%s: get MTU failed: %s",
				 ifname, strerror(errno));
		goto out;
	}
	tp->port.mtu = ifr.ifr_mtu > 65535 ? 65535 : ifr.ifr_mtu;
	if (ioctl(s, SIOCGIFHWADDR, &ifr) == 0)
		memcpy(tp->port.mac, ifr.ifr_hwaddr.sa_data, 6);
	if (ioctl(s, SIOCGIFFLAGS, &ifr) < 0 ||
	    (ifr.ifr_flags |= IFF_UP, ioctl(s, SIOCSIFFLAGS, &ifr) < 0))
		ret = net_seterr(-errno, err, errlen, "tap:%s: link up failed: %s",
				 ifname, strerror(errno));
out:
	close(s);
	return ret;
}

int net_tap_open(const struct net_port_conf *conf, const char *ifname,
		 struct net_port **out, char *err, size_t errlen)
{
	unsigned int nq = conf->nr_queues ? conf->nr_queues : 1, i, j;
	struct tap_port *tp;
	struct ifreq ifr;
	int hdr_sz = TAP_VNET_HDR, ret;

	if (!*ifname || strlen(ifname) >= IFNAMSIZ)
		return net_seterr(-EINVAL, err, errlen,
				  "tap:%s: interface name empty or longer than %d",
				  ifname, IFNAMSIZ - 1);
	tp = calloc(1, sizeof(*tp) + nq * sizeof(tp->q[0]));
	if (!tp)
		return net_seterr(-ENOMEM, err, errlen, "tap:%s: out of memory", ifname);
	tp->port.ops = &tap_ops;
	snprintf(tp->port.name, sizeof(tp->port.name), "tap:%s", ifname);
	tp->port.nr_queues = nq;
	for (i = 0; i < nq; i++)
		tp->q[i].fd = -1;
	/* The kernel hands over and takes whole GSO frames. */
	tp->port.max_frame = NET_MAX_GSO_FRAME;
	tp->port.features = (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
		(1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_HOST_TSO6) |
		(1ULL << VIRTIO_NET_F_HOST_ECN) | (1ULL << VIRTIO_NET_F_GUEST_TSO4) |
		(1ULL << VIRTIO_NET_F_GUEST_TSO6) | (1ULL << VIRTIO_NET_F_GUEST_ECN);
	tp->buf_size = (TAP_HEAD + tp->port.max_frame + 63) & ~63u;

	for (i = 0; i < nq; i++) {
		struct tap_queue *tq = &tp->q[i];

		tq->fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (tq->fd < 0) {
			ret = net_seterr(-errno, err, errlen, "tap:%s: open /dev/net/tun failed: %s",
					 ifname, strerror(errno));
			goto fail;
		}
		memset(&ifr, 0, sizeof(ifr));
		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR |
			(nq > 1 ? IFF_MULTI_QUEUE : 0);
		if (ioctl(tq->fd, TUNSETIFF, &ifr) < 0) {
			ret = net_seterr(-errno, err, errlen, "tap:%s: TUNSETIFF failed: %s",
					 ifname, strerror(errno));
			goto fail;
		}
		if (ioctl(tq->fd, TUNSETVNETHDRSZ, &hdr_sz) < 0 ||
		    ioctl(tq->fd, TUNSETOFFLOAD, 0) < 0) {
			ret = net_seterr(-errno, err, errlen,
					 "tap:%s: vnet header setup failed: %s",
					 ifname, strerror(errno));
			goto fail;
		}
		tq->arena_len = (size_t)TAP_POOL * tp->buf_size;
		tq->arena = mmap(NULL, tq->arena_len, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (tq->arena == MAP_FAILED) {
			tq->arena = NULL;
			ret = net_seterr(-ENOMEM, err, errlen, "tap:%s: out of memory", ifname);
			goto fail;
		}
		for (j = 0; j < TAP_POOL; j++)
			tq->free[tq->nr_free++] = tq->arena + (size_t)j * tp->buf_size;
	}
	ret = tap_link_setup(tp, ifname, conf->mtu, err, errlen);
	if (ret)
		goto fail;
	*out = &tp->port;
	return 0;
fail:
	tap_close(&tp->port);
	return ret;
}
