// SPDX-License-Identifier: MIT
/*
 * virtio-net header handling on guest iovecs: TX validation and gather,
 * RX header + scatter (with MRG_RXBUF across chains), software checksum.
 *
 * Security model: everything in the iovecs is guest memory and hostile, and
 * the guest may change it while we look (other vCPUs run).  The ring code has
 * already checked that every iovec lies inside guest memory; here:
 *  - the virtio-net header is copied out of the chain once (byte-exact, even
 *    when it is split over several descriptors: DPDK CVE-2022-2132) and only
 *    the copy is checked and used;
 *  - the frame is copied into a private port buffer before anything parses
 *    it (checksum offsets are applied to the copy, CVE-2024-11614 class), and
 *    every offset is checked against that copy's length in 32-bit arithmetic
 *    that cannot overflow (all inputs are 16-bit);
 *  - lengths are summed with overflow checks; a frame above the limit is
 *    dropped and counted, never truncated;
 *  - guest RX buffers are written; the only reads are of header bytes about
 *    to be overwritten, compared to skip a store of the same value (see
 *    rx_hdr_store()), never used for anything else.
 */
#include <errno.h>
#include <string.h>
#include <inttypes.h>

#include <vhost-user/net.h>

static const char *const drop_names[NET_DROP_MAX] = {
	[NET_DROP_NONE] = "none",
	[NET_DROP_HDR_SHORT] = "hdr_short",
	[NET_DROP_BAD_CHAIN] = "bad_chain",
	[NET_DROP_CSUM_RANGE] = "csum_range",
	[NET_DROP_GSO_TYPE] = "gso_type",
	[NET_DROP_GSO_SIZE] = "gso_size",
	[NET_DROP_RUNT] = "runt",
	[NET_DROP_TOO_BIG] = "too_big",
	[NET_DROP_NO_BUF] = "no_buf",
	[NET_DROP_PORT_FULL] = "port_full",
	[NET_DROP_RX_NO_AVAIL] = "rx_no_avail",
	[NET_DROP_RX_TOO_SMALL] = "rx_too_small",
	[NET_DROP_RX_GSO] = "rx_gso",
	[NET_DROP_RX_CSUM] = "rx_csum",
};

const char *net_drop_name(unsigned int reason)
{
	return reason < NET_DROP_MAX && drop_names[reason] ? drop_names[reason] : "?";
}

void net_hdr_cfg_init(struct net_hdr_cfg *cfg, u64 features, u16 mtu)
{
#define F(bit) (!!(features & (1ULL << (bit))))
	memset(cfg, 0, sizeof(*cfg));
	cfg->mrg_rxbuf = F(VIRTIO_NET_F_MRG_RXBUF);
	cfg->hdr_len = (F(VIRTIO_F_VERSION_1) || cfg->mrg_rxbuf) ?
		sizeof(struct virtio_net_hdr_mrg_rxbuf) : sizeof(struct virtio_net_hdr);
	cfg->csum = F(VIRTIO_NET_F_CSUM);
	cfg->guest_csum = F(VIRTIO_NET_F_GUEST_CSUM);
	/* GSO needs checksum offload in each direction (virtio spec 5.1.3.1). */
	if (cfg->csum) {
		cfg->host_gso |= F(VIRTIO_NET_F_HOST_TSO4) ? NET_GSO_TCPV4 : 0;
		cfg->host_gso |= F(VIRTIO_NET_F_HOST_TSO6) ? NET_GSO_TCPV6 : 0;
		cfg->host_gso |= F(VIRTIO_NET_F_HOST_UFO) ? NET_GSO_UDP : 0;
		cfg->host_gso |= F(VIRTIO_NET_F_HOST_ECN) ? NET_GSO_ECN : 0;
	}
	if (cfg->guest_csum) {
		cfg->guest_gso |= F(VIRTIO_NET_F_GUEST_TSO4) ? NET_GSO_TCPV4 : 0;
		cfg->guest_gso |= F(VIRTIO_NET_F_GUEST_TSO6) ? NET_GSO_TCPV6 : 0;
		cfg->guest_gso |= F(VIRTIO_NET_F_GUEST_UFO) ? NET_GSO_UDP : 0;
		cfg->guest_gso |= F(VIRTIO_NET_F_GUEST_ECN) ? NET_GSO_ECN : 0;
	}
	cfg->max_frame = (u32)(mtu ? mtu : 1500) + NET_ETH_HLEN + NET_VLAN_HLEN;
#undef F
}

/* The NET_GSO_* bit a header's gso_type needs, 0 if unknown. */
static unsigned int gso_bit(u8 type)
{
	switch (type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_TCPV4:	return NET_GSO_TCPV4;
	case VIRTIO_NET_HDR_GSO_TCPV6:	return NET_GSO_TCPV6;
	case VIRTIO_NET_HDR_GSO_UDP:	return NET_GSO_UDP;
	default:			return 0;
	}
}

/* Offsets of a partial checksum fit in a frame of @len bytes. */
static bool csum_fits(u32 len, u16 start, u16 offset)
{
	/* u16 + u16 + 2 cannot overflow u32. */
	return (u32)start + offset + 2 <= len && start < len;
}

enum net_drop net_tx_pkt(const struct net_hdr_cfg *cfg, const struct iovec *iov,
			 unsigned int niov, struct net_pkt *pkt)
{
	struct virtio_net_hdr_mrg_rxbuf hdr = { 0 };
	u8 *h = (u8 *)&hdr, *dst = pkt->data;
	u32 hlen = cfg->hdr_len, got = 0, len = 0, limit;
	unsigned int i = 0;
	size_t off = 0;
	u16 flags, csum_start = 0, csum_offset = 0, gso_size = 0;
	u8 gso_type;

	pkt->len = 0;
	pkt->flags = 0;
	/*
	 * Without offloads the header is not read (below), so the usual layouts
	 * need none of the general path's bookkeeping: the header and the frame
	 * in one buffer, or the header alone in the first and the frame in the
	 * second.  Same checks, same result, as the loops below.
	 */
	if (!cfg->csum) {
		const u8 *src = NULL;
		size_t n = 0;

		if (niov == 1 && iov[0].iov_len > hlen) {
			src = (const u8 *)iov[0].iov_base + hlen;
			n = iov[0].iov_len - hlen;
		} else if (niov == 2 && iov[0].iov_len == hlen) {
			src = iov[1].iov_base;
			n = iov[1].iov_len;
		}
		if (src) {
			if (n > cfg->max_frame || n > pkt->room)
				return NET_DROP_TOO_BIG;
			if (n < NET_ETH_HLEN)
				return NET_DROP_RUNT;
			net_copy_frame(dst, src, n);
			pkt->len = (u32)n;
			return NET_DROP_NONE;
		}
	}
	/*
	 * Copy the header out once, from however many iovecs hold it.  Without
	 * VIRTIO_NET_F_CSUM (and so without any GSO) it has nothing the device
	 * may act on: the driver must send it all zero (virtio 1.2, 5.1.6.2.1),
	 * and it is skipped unread, as if it were.  Not reading it keeps its
	 * cache line the driver's alone: the driver writes it again for the
	 * next frame in that buffer, and a copy in our cache would make each
	 * such write wait for our core to let go of it.
	 */
	for (; i < niov && got < hlen; i++) {
		size_t n = iov[i].iov_len;

		if (n > hlen - got)
			n = hlen - got;
		if (cfg->csum)
			memcpy(h + got, iov[i].iov_base, n);
		got += n;
		off = n;
		if (n < iov[i].iov_len)
			break;		/* frame starts inside this iovec */
		off = 0;
	}
	if (got < hlen)
		return NET_DROP_HDR_SHORT;

	flags = hdr.hdr.flags;
	gso_type = hdr.hdr.gso_type;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {	/* cfg->csum, or hdr is zero */
		csum_start = le16_to_cpu((le16)hdr.hdr.csum_start);
		csum_offset = le16_to_cpu((le16)hdr.hdr.csum_offset);
	}
	limit = cfg->max_frame;
	if (gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		unsigned int need = gso_bit(gso_type);

		if (gso_type & VIRTIO_NET_HDR_GSO_ECN)
			need |= NET_GSO_ECN;
		if (!gso_bit(gso_type) || (cfg->host_gso & need) != need)
			return NET_DROP_GSO_TYPE;
		gso_size = le16_to_cpu((le16)hdr.hdr.gso_size);
		if (!gso_size)
			return NET_DROP_GSO_SIZE;
		limit = NET_MAX_GSO_FRAME;
	}
	if (limit > pkt->room)
		limit = pkt->room;

	/* Gather the frame; stop before writing past the limit. */
	for (; i < niov; i++, off = 0) {
		size_t n = iov[i].iov_len - off;

		if (n > limit - len)
			return NET_DROP_TOO_BIG;
		net_copy_frame(dst + len, (const u8 *)iov[i].iov_base + off, n);
		len += n;
	}
	if (len < NET_ETH_HLEN)
		return NET_DROP_RUNT;
	/* Checked against the private copy's length, not the guest's. */
	if ((flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    !csum_fits(len, csum_start, csum_offset))
		return NET_DROP_CSUM_RANGE;

	pkt->len = len;
	if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		pkt->flags |= NET_PKT_F_NEEDS_CSUM;
		pkt->csum_start = csum_start;
		pkt->csum_offset = csum_offset;
	}
	if (gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		pkt->flags |= NET_PKT_F_GSO;
		pkt->gso_type = gso_type;
		pkt->gso_size = gso_size;
		pkt->gso_hdr_len = le16_to_cpu((le16)hdr.hdr.hdr_len);
	}
	return NET_DROP_NONE;
}

/* One's complement sum of @len bytes (big-endian 16-bit words). */
static u32 csum_add(u32 sum, const u8 *p, u32 len)
{
	u64 s = sum;

	while (len >= 8) {
		u64 w;

		memcpy(&w, p, 8);
		/* Sum 32-bit halves in host order; fold/swap at the end. */
		s += (u32)w;
		s += w >> 32;
		p += 8;
		len -= 8;
	}
	while (len >= 2) {
		u16 w;

		memcpy(&w, p, 2);
		s += w;
		p += 2;
		len -= 2;
	}
	if (len) {
		u16 w = 0;

		memcpy(&w, p, 1);	/* little-endian host: low byte = first */
		s += w;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u32)s;
}

int net_csum_finish(struct net_pkt *pkt)
{
	u16 start = pkt->csum_start, offset = pkt->csum_offset, res;
	u32 sum;

	if (!csum_fits(pkt->len, start, offset))
		return -EINVAL;
	/*
	 * The field holds the pseudo-header sum; summing the whole range with it
	 * in place and complementing gives the final checksum.  The sum is in
	 * host (little-endian) word order, which one's complement arithmetic
	 * keeps byte-swapped consistently, so store it back the same way.
	 */
	sum = csum_add(0, pkt->data + start, pkt->len - start);
	res = (u16)~sum;
	/* UDP: a computed 0 is sent as 0xffff (RFC 768); harmless for TCP. */
	if (res == 0 && offset == 6)
		res = 0xffff;
	memcpy(pkt->data + start + offset, &res, 2);
	pkt->flags &= ~NET_PKT_F_NEEDS_CSUM;
	return 0;
}

enum net_drop net_rx_begin(struct net_rx *rx, const struct net_hdr_cfg *cfg,
			   struct net_pkt *pkt, struct net_copy_batch *batch)
{
	/* virtio_net_hdr_mrg_rxbuf fields, little-endian, assembled in registers. */
	u8 flags = 0, gso_type = VIRTIO_NET_HDR_GSO_NONE;
	u16 hdr_len = 0, gso_size = 0, csum_start = 0, csum_offset = 0;

	rx->hdr_len = cfg->hdr_len;
	rx->hdr_done = 0;
	rx->mrg = cfg->mrg_rxbuf;
	rx->nr_bufs = 0;
	rx->nb_ptr[0] = rx->nb_ptr[1] = NULL;
	rx->src = pkt->data;
	rx->left = pkt->len;
	rx->batch = batch;

	if (pkt->flags & NET_PKT_F_GSO) {
		unsigned int need = gso_bit(pkt->gso_type);

		if (pkt->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			need |= NET_GSO_ECN;
		if (!gso_bit(pkt->gso_type) || (cfg->guest_gso & need) != need ||
		    !pkt->gso_size)
			return NET_DROP_RX_GSO;
		gso_type = pkt->gso_type;
		gso_size = pkt->gso_size;
		hdr_len = pkt->gso_hdr_len;
	}
	if (pkt->flags & NET_PKT_F_NEEDS_CSUM) {
		if (!csum_fits(pkt->len, pkt->csum_start, pkt->csum_offset))
			return NET_DROP_RX_CSUM;
		if (cfg->guest_csum) {
			flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			csum_start = pkt->csum_start;
			csum_offset = pkt->csum_offset;
		} else {
			net_csum_finish(pkt);
		}
	} else if ((pkt->flags & NET_PKT_F_CSUM_VALID) && cfg->guest_csum) {
		flags = VIRTIO_NET_HDR_F_DATA_VALID;
	}
	/* Byte offsets: flags 0, gso_type 1, hdr_len 2, gso_size 4,
	 * csum_start 6, csum_offset 8, num_buffers 10 (1 until net_rx_end). */
	rx->hdr_lo = (u64)flags | (u64)gso_type << 8 | (u64)hdr_len << 16 |
		     (u64)gso_size << 32 | (u64)csum_start << 48;
	rx->hdr_hi = (u32)csum_offset | (u32)1 << 16;
	return NET_DROP_NONE;
}

/* Byte @i of the header (slow path: a header split over iovecs). */
static inline u8 rx_hdr_byte(const struct net_rx *rx, unsigned int i)
{
	return i < 8 ? (u8)(rx->hdr_lo >> (8 * i)) : (u8)(rx->hdr_hi >> (8 * (i - 8)));
}

/*
 * Whole header into @d, which has room for it (the usual case).  Only bytes
 * that differ are stored: a driver recycles its buffers, so the header left
 * from the buffer's last use is usually this very one (all zero, one
 * buffer).  Reading leaves the line shared with the driver's core, which is
 * about to read it; storing would take it away first, and that ownership
 * transfer per frame, queued behind our other stores, is what bounds a
 * back-end at 64 bytes.  The bytes read are only compared with ours: the
 * guest can change them at any time, and then gets what it wrote.
 */
static inline void rx_hdr_store(struct net_rx *rx, u8 *d)
{
	le64 lo = cpu_to_le64(rx->hdr_lo), old_lo;
	bool full = rx->hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf);

	/* Fixed-size compares (a memcmp() call here cost a tenth of the frame). */
	memcpy(&old_lo, d, 8);
	if (old_lo != lo)
		memcpy(d, &lo, 8);
	if (full) {
		le32 hi = cpu_to_le32(rx->hdr_hi), old_hi;

		memcpy(&old_hi, d + 8, 4);
		if (old_hi != hi)
			memcpy(d + 8, &hi, 4);
		rx->nb_ptr[0] = d + 10;
		rx->nb_ptr[1] = d + 11;
	} else {
		le16 hi = cpu_to_le16((u16)rx->hdr_hi), old_hi;

		memcpy(&old_hi, d + 8, 2);
		if (old_hi != hi)
			memcpy(d + 8, &hi, 2);
	}
	rx->hdr_done = rx->hdr_len;
}

/* Frame bytes into the guest: queued in @b while it has room, else now. */
static inline void rx_copy(struct net_copy_batch *b, u8 *d, const u8 *src, size_t n)
{
	if (b && b->n < NET_COPY_BATCH) {
		b->c[b->n].dst = d;
		b->c[b->n].src = src;
		b->c[b->n].len = n;
		b->n++;
	} else {
		memcpy(d, src, n);
	}
}

enum net_drop net_rx_fill(struct net_rx *rx, const struct iovec *wr,
			  unsigned int nwr, u32 *written)
{
	bool first = rx->nr_bufs == 0;
	u32 room = 0, done = 0;
	unsigned int i;

	*written = 0;
	for (i = 0; i < nwr; i++) {
		u64 r = (u64)room + wr[i].iov_len;

		room = r > UINT32_MAX ? UINT32_MAX : (u32)r;
	}
	if (first) {
		if (room < rx->hdr_len)
			return NET_DROP_RX_TOO_SMALL;
		if (!rx->mrg && room - rx->hdr_len < rx->left)
			return NET_DROP_RX_TOO_SMALL;
	} else if (!room || rx->nr_bufs == UINT16_MAX) {
		return NET_DROP_RX_TOO_SMALL;
	}

	for (i = 0; i < nwr && net_rx_pending(rx); i++) {
		u8 *d = wr[i].iov_base;
		size_t n = wr[i].iov_len;

		if (rx->hdr_done == 0 && n >= rx->hdr_len) {
			rx_hdr_store(rx, d);
			d += rx->hdr_len;
			n -= rx->hdr_len;
			done += rx->hdr_len;
		}
		/* Header split over iovecs: byte by byte, remembering num_buffers. */
		while (n && rx->hdr_done < rx->hdr_len) {
			unsigned int at = rx->hdr_done;

			*d = rx_hdr_byte(rx, at);
			if (at == offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers))
				rx->nb_ptr[0] = d;
			else if (at == offsetof(struct virtio_net_hdr_mrg_rxbuf, num_buffers) + 1)
				rx->nb_ptr[1] = d;
			rx->hdr_done++;
			d++;
			n--;
			done++;
		}
		if (n > rx->left)
			n = rx->left;
		if (n) {
			rx_copy(rx->batch, d, rx->src, n);
			rx->src += n;
			rx->left -= n;
			done += n;
		}
	}
	rx->nr_bufs++;
	*written = done;
	return NET_DROP_NONE;
}

bool net_rx_one(const struct net_hdr_cfg *cfg, const struct net_pkt *pkt,
		const struct iovec *wr, struct net_copy_batch *batch, u32 *written)
{
	struct net_rx rx;
	u8 *d = wr->iov_base;
	u32 len = pkt->len;

	if ((pkt->flags & (NET_PKT_F_GSO | NET_PKT_F_NEEDS_CSUM)) ||
	    wr->iov_len < cfg->hdr_len || wr->iov_len - cfg->hdr_len < len)
		return false;
	rx.hdr_len = cfg->hdr_len;
	/* flags only (DATA_VALID), num_buffers 1: as net_rx_begin() would */
	rx.hdr_lo = (pkt->flags & NET_PKT_F_CSUM_VALID) && cfg->guest_csum ?
		    VIRTIO_NET_HDR_F_DATA_VALID : 0;
	rx.hdr_hi = (u32)1 << 16;
	rx_hdr_store(&rx, d);
	rx_copy(batch, d + cfg->hdr_len, pkt->data, len);
	*written = cfg->hdr_len + len;
	return true;
}

u16 net_rx_end(struct net_rx *rx)
{
	le16 nb = cpu_to_le16(rx->nr_bufs);
	const u8 *b = (const u8 *)&nb;

	/*
	 * The header is only 10 bytes (no num_buffers) without VERSION_1/MRG;
	 * it went out saying 1, so only a frame that took more chains needs it
	 * rewritten.
	 */
	if (rx->hdr_len == sizeof(struct virtio_net_hdr_mrg_rxbuf) && rx->nr_bufs != 1) {
		if (rx->nb_ptr[0])
			*rx->nb_ptr[0] = b[0];
		if (rx->nb_ptr[1])
			*rx->nb_ptr[1] = b[1];
	}
	return rx->nr_bufs;
}

static int json_u64(FILE *f, const char *sep, const char *key, const u64 *v)
{
	return fprintf(f, "%s\"%s\":%llu", sep, key,
		       (unsigned long long)READ_ONCE(*v)) < 0 ? -1 : 0;
}

/* ,"NAME":{"on":..,"rounds":..,"windows":..,"windows_on":..} */
static int json_tune(FILE *f, const char *name, const struct net_tune_stats *t)
{
	int err = fprintf(f, ",\"%s\":{", name) < 0;

	err |= json_u64(f, "", "on", &t->on);
	err |= json_u64(f, ",", "rounds", &t->rounds);
	err |= json_u64(f, ",", "windows", &t->windows);
	err |= json_u64(f, ",", "windows_on", &t->windows_on);
	return err | (fputc('}', f) == EOF);
}

static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = *s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

int net_stats_json(FILE *f, const char *name, const struct net_queue_stats *qs,
		   unsigned int nr_queues, const struct net_port_stats *port)
{
	unsigned int q, r;
	int err = 0;

	fputs("{\"device\":", f);
	json_str(f, name ? name : "");
	fputs(",\"queues\":[", f);
	for (q = 0; q < nr_queues; q++) {
		const struct net_queue_stats *s = &qs[q];

		fprintf(f, "%s{\"queue\":%u", q ? "," : "", q);
		err |= json_u64(f, ",", "rx_packets", &s->rx_packets);
		err |= json_u64(f, ",", "rx_bytes", &s->rx_bytes);
		err |= json_u64(f, ",", "tx_packets", &s->tx_packets);
		err |= json_u64(f, ",", "tx_bytes", &s->tx_bytes);
		err |= json_u64(f, ",", "rx_bursts", &s->rx_bursts);
		err |= json_u64(f, ",", "tx_bursts", &s->tx_bursts);
		err |= json_u64(f, ",", "busy_ns", &s->busy_ns);
		err |= json_u64(f, ",", "idle_ns", &s->idle_ns);
		err |= json_tune(f, "tx_flush", &s->tx_flush);
		err |= json_tune(f, "rx_prefetch", &s->rx_prefetch);
		fputs(",\"drops\":{", f);
		for (r = 1; r < NET_DROP_MAX; r++)
			err |= json_u64(f, r > 1 ? "," : "", net_drop_name(r), &s->drops[r]);
		fputs("}}", f);
	}
	fputc(']', f);
	if (port) {
		fputs(",\"port\":{", f);
		err |= json_u64(f, "", "rx_packets", &port->rx_packets);
		err |= json_u64(f, ",", "rx_bytes", &port->rx_bytes);
		err |= json_u64(f, ",", "tx_packets", &port->tx_packets);
		err |= json_u64(f, ",", "tx_bytes", &port->tx_bytes);
		err |= json_u64(f, ",", "rx_missed", &port->rx_missed);
		err |= json_u64(f, ",", "rx_errors", &port->rx_errors);
		err |= json_u64(f, ",", "tx_errors", &port->tx_errors);
		err |= json_u64(f, ",", "rx_nombuf", &port->rx_nombuf);
		fputc('}', f);
	}
	fputs("}\n", f);
	fflush(f);
	return err || ferror(f) ? -EIO : 0;
}
