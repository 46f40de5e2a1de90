// SPDX-License-Identifier: MIT
/*
 * virtio-net header handling (libvunet): every SECURITY.md case-11 variant
 * on the TX side with its exact drop reason, gather from odd descriptor
 * layouts (header split byte by byte, frame starting mid-descriptor), RX
 * scatter with and without MRG_RXBUF (num_buffers split across iovecs),
 * GUEST_CSUM pass-through and the software checksum, the JSON counters.
 * Every guest buffer is its own malloc'd block, so ASan (make SAN=1) sees
 * any access outside one descriptor.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

#include <vhost-user/net.h>

#include "net_test.h"

#define F(b) (1ULL << (b))
#define FEAT_BASE (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM))

struct chain {
	struct iovec iov[128];
	unsigned int n;
};

/* Copy src into separately allocated pieces of lay[] bytes (0 ends the
 * list; the last piece takes the rest). */
static void chain_make(struct chain *c, const void *src, size_t len, const size_t *lay)
{
	const u8 *s = src;
	size_t off = 0;

	c->n = 0;
	while (off < len) {
		size_t n = *lay ? *lay++ : len - off;

		if (n > len - off)
			n = len - off;
		c->iov[c->n].iov_base = malloc(n ? n : 1);
		c->iov[c->n].iov_len = n;
		memcpy(c->iov[c->n].iov_base, s + off, n);
		c->n++;
		off += n;
	}
}

/* Writable pieces of exactly lay[] bytes (0-terminated), filled with 0xee. */
static void chain_alloc(struct chain *c, const size_t *lay)
{
	c->n = 0;
	for (; *lay; lay++) {
		c->iov[c->n].iov_base = malloc(*lay);
		memset(c->iov[c->n].iov_base, 0xee, *lay);
		c->iov[c->n].iov_len = *lay;
		c->n++;
	}
}

static size_t chain_flatten(const struct chain *c, u8 *out, size_t max)
{
	size_t o = 0;
	unsigned int i;

	for (i = 0; i < c->n && o < max; i++) {
		size_t n = c->iov[i].iov_len < max - o ? c->iov[i].iov_len : max - o;

		memcpy(out + o, c->iov[i].iov_base, n);
		o += n;
	}
	return o;
}

static void chain_free(struct chain *c)
{
	while (c->n)
		free(c->iov[--c->n].iov_base);
}

static u8 pktbuf[NET_MAX_GSO_FRAME];

static struct net_pkt fresh_pkt(void)
{
	memset(pktbuf, 0x5a, 64);
	return (struct net_pkt){ .data = pktbuf, .room = sizeof(pktbuf) };
}

/* Guest frame: header + frame bytes i*7+3. */
static size_t guest_tx(u8 *out, const struct virtio_net_hdr_mrg_rxbuf *h,
		       size_t hlen, size_t flen)
{
	size_t i;

	memcpy(out, h, hlen);
	for (i = 0; i < flen; i++)
		out[hlen + i] = (u8)(i * 7 + 3);
	return hlen + flen;
}

static bool frame_ok(const u8 *p, size_t flen)
{
	size_t i;

	for (i = 0; i < flen; i++)
		if (p[i] != (u8)(i * 7 + 3))
			return false;
	return true;
}

static enum net_drop tx_one(const struct net_hdr_cfg *cfg,
			    const struct virtio_net_hdr_mrg_rxbuf *h, size_t flen,
			    const size_t *lay, struct net_pkt *pkt)
{
	static u8 g[NET_MAX_GSO_FRAME + 64];
	struct chain c;
	enum net_drop r;
	size_t len = guest_tx(g, h, cfg->hdr_len, flen);

	chain_make(&c, g, len, lay);
	*pkt = fresh_pkt();
	r = net_tx_pkt(cfg, c.iov, c.n, pkt);
	chain_free(&c);
	return r;
}

static struct virtio_net_hdr_mrg_rxbuf hdr_csum(u16 start, u16 off)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.csum_start = start, .csum_offset = off } };
	return h;
}

static struct virtio_net_hdr_mrg_rxbuf hdr_gso(u8 type, u16 size)
{
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = type,
		.gso_size = size, .hdr_len = 54, .csum_start = 34, .csum_offset = 16 } };
	return h;
}

static void test_tx_layouts(void)
{
	struct net_hdr_cfg cfg;
	struct virtio_net_hdr_mrg_rxbuf h = hdr_csum(34, 16);
	struct net_pkt pkt;
	static const size_t one[] = { 12, 0 };			/* hdr | frame */
	static const size_t whole[] = { 0 };			/* one descriptor */
	static const size_t bytes[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1,
					3, 1, 7, 2, 64, 0 };	/* CVE-2022-2132 */
	static const size_t mid[] = { 5, 9, 1, 100, 0 };	/* frame starts mid-iov */
	const size_t *lays[] = { one, whole, bytes, mid };
	unsigned int i;

	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	T_EQ(cfg.hdr_len, 12);
	T_EQ(cfg.max_frame, 1518);
	for (i = 0; i < ARRAY_SIZE(lays); i++) {
		T_EQ(tx_one(&cfg, &h, 300, lays[i], &pkt), NET_DROP_NONE);
		T_EQ(pkt.len, 300);
		T_CHECK(frame_ok(pkt.data, 300));
		T_EQ(pkt.flags, NET_PKT_F_NEEDS_CSUM);
		T_EQ(pkt.csum_start, 34);
		T_EQ(pkt.csum_offset, 16);
	}
	/* Largest frame that fits: MTU + 18 exactly, split oddly. */
	h = (struct virtio_net_hdr_mrg_rxbuf){};
	T_EQ(tx_one(&cfg, &h, 1518, bytes, &pkt), NET_DROP_NONE);
	T_EQ(pkt.len, 1518);
	T_CHECK(frame_ok(pkt.data, 1518));
	T_EQ(pkt.flags, 0);
	/* Legacy 10-byte header (no VERSION_1, no MRG_RXBUF). */
	net_hdr_cfg_init(&cfg, F(VIRTIO_NET_F_CSUM), 1500);
	T_EQ(cfg.hdr_len, 10);
	h = hdr_csum(20, 6);
	T_EQ(tx_one(&cfg, &h, 60, bytes, &pkt), NET_DROP_NONE);
	T_EQ(pkt.len, 60);
	T_CHECK(frame_ok(pkt.data, 60));
	T_EQ(pkt.csum_start, 20);
}

static void test_tx_case11(void)
{
	struct net_hdr_cfg cfg;
	struct virtio_net_hdr_mrg_rxbuf h = {};
	struct net_pkt pkt;
	static const size_t split[] = { 5, 6, 0 };
	static const size_t one[] = { 12, 0 };
	static const size_t bytes[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 2, 3, 0 };
	static u8 g[64];
	struct chain c;

	net_hdr_cfg_init(&cfg, FEAT_BASE | F(VIRTIO_NET_F_HOST_TSO4), 1500);

	/* Chain shorter than the net header: 11 bytes in two pieces, or none. */
	chain_make(&c, g, 11, split);
	pkt = fresh_pkt();
	T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_HDR_SHORT);
	T_EQ(pkt.len, 0);
	chain_free(&c);
	T_EQ(net_tx_pkt(&cfg, NULL, 0, &pkt), NET_DROP_HDR_SHORT);
	/* Exactly a header, no frame at all: a runt. */
	T_EQ(tx_one(&cfg, &h, 0, one, &pkt), NET_DROP_RUNT);
	T_EQ(tx_one(&cfg, &h, 13, bytes, &pkt), NET_DROP_RUNT);
	T_EQ(tx_one(&cfg, &h, 14, bytes, &pkt), NET_DROP_NONE);

	/* csum_start / csum_offset past the packet (CVE-2024-11614). */
	h = hdr_csum(60, 0);
	T_EQ(tx_one(&cfg, &h, 60, one, &pkt), NET_DROP_CSUM_RANGE);
	h = hdr_csum(40, 19);		/* 40 + 19 + 2 = 61 > 60 */
	T_EQ(tx_one(&cfg, &h, 60, bytes, &pkt), NET_DROP_CSUM_RANGE);
	h = hdr_csum(40, 18);		/* 40 + 18 + 2 = 60: last two bytes */
	T_EQ(tx_one(&cfg, &h, 60, bytes, &pkt), NET_DROP_NONE);
	h = hdr_csum(0xffff, 0xffff);	/* would wrap in 16 bits */
	T_EQ(tx_one(&cfg, &h, 60, one, &pkt), NET_DROP_CSUM_RANGE);
	h = hdr_csum(10, 0xfff0);
	T_EQ(tx_one(&cfg, &h, 1500, one, &pkt), NET_DROP_CSUM_RANGE);

	/* GSO type with gso_size 0. */
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV4, 0);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_GSO_SIZE);
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	T_EQ(tx_one(&cfg, &h, 9000, bytes, &pkt), NET_DROP_NONE);
	T_EQ(pkt.len, 9000);
	T_CHECK(frame_ok(pkt.data, 9000));
	T_EQ(pkt.flags, NET_PKT_F_NEEDS_CSUM | NET_PKT_F_GSO);
	T_EQ(pkt.gso_size, 1448);
	T_EQ(pkt.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	T_EQ(pkt.gso_hdr_len, 54);
	/* GSO types not negotiated, unknown, or with ECN but no HOST_ECN. */
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV6, 1448);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_GSO_TYPE);
	h = hdr_gso(2, 1448);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_GSO_TYPE);
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 1448);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_GSO_TYPE);
	/* GSO frame above 64 KiB + headers. */
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	T_EQ(tx_one(&cfg, &h, NET_MAX_GSO_FRAME, bytes, &pkt), NET_DROP_NONE);
	T_EQ(tx_one(&cfg, &h, NET_MAX_GSO_FRAME + 1, bytes, &pkt), NET_DROP_TOO_BIG);

	/* Frame above MTU + headers: dropped, never truncated. */
	h = (struct virtio_net_hdr_mrg_rxbuf){};
	T_EQ(tx_one(&cfg, &h, 1519, one, &pkt), NET_DROP_TOO_BIG);
	T_EQ(pkt.len, 0);
	T_EQ(tx_one(&cfg, &h, 1519, bytes, &pkt), NET_DROP_TOO_BIG);
	/* ...or above the port buffer. */
	{
		static u8 small[100];
		size_t len = guest_tx(g, &h, 12, 50);

		chain_make(&c, g, len, one);
		pkt = (struct net_pkt){ .data = small, .room = 49 };
		T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_TOO_BIG);
		pkt = (struct net_pkt){ .data = small, .room = 50 };
		T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_NONE);
		chain_free(&c);
	}

	/*
	 * Without VIRTIO_NET_F_CSUM the header must be zero and is not read:
	 * NEEDS_CSUM, a GSO type, bogus offsets all go unseen, and the frame
	 * goes as a plain one, no checksum written, no GSO, MTU-bound.
	 */
	net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1), 1500);
	h = hdr_csum(34, 16);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_NONE);
	T_EQ(pkt.flags, 0);
	T_EQ(pkt.len, 100);
	T_CHECK(frame_ok(pkt.data, 100));		/* no checksum stored into it */
	h = hdr_csum(4000, 4000);			/* would be out of range */
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_NONE);
	h = (struct virtio_net_hdr_mrg_rxbuf){ .hdr = { .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
							.gso_size = 0 } };
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_NONE);
	T_EQ(pkt.flags, 0);
	T_EQ(tx_one(&cfg, &h, 9000, bytes, &pkt), NET_DROP_TOO_BIG);	/* no GSO limit */
	/* HOST_TSO4 without CSUM: no GSO either (GSO needs checksum offload). */
	net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_HOST_TSO4), 1500);
	h = hdr_gso(VIRTIO_NET_HDR_GSO_TCPV4, 1448);
	T_EQ(tx_one(&cfg, &h, 100, one, &pkt), NET_DROP_NONE);
	T_EQ(pkt.flags, 0);
	T_EQ(tx_one(&cfg, &h, 9000, bytes, &pkt), NET_DROP_TOO_BIG);
	/* ...and still a chain shorter than the header is dropped. */
	T_EQ(net_tx_pkt(&cfg, NULL, 0, &pkt), NET_DROP_HDR_SHORT);
	{
		static u8 g11[16];
		struct chain c;

		chain_make(&c, g11, 11, one);
		pkt = fresh_pkt();
		T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_HDR_SHORT);
		chain_free(&c);
	}
	/* A 9000 MTU port takes 9018-byte frames. */
	net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1), 9000);
	h = (struct virtio_net_hdr_mrg_rxbuf){};
	T_EQ(tx_one(&cfg, &h, 9018, bytes, &pkt), NET_DROP_NONE);
	T_EQ(tx_one(&cfg, &h, 9019, bytes, &pkt), NET_DROP_TOO_BIG);
}

/*
 * Without offloads, frames in one buffer with their header, or in a buffer
 * after a header-only one (the layouts net_tx_pkt() takes without its
 * general loops), against the same frames split in ways only the loops
 * take: the same result for every size around the small-copy bounds (64 and
 * 128 bytes) and the limits, and nothing written past the frame or the limit.
 */
static void test_tx_plain(void)
{
	static const size_t whole[] = { 0 };
	static const size_t one[] = { 12, 0 };
	static const size_t mid[] = { 5, 9, 1, 100, 0 };
	static const size_t bytes[] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 1, 7, 2, 64, 0 };
	static const size_t sizes[] = { 0, 1, 13, 14, 15, 63, 64, 65, 100, 127, 128, 129,
					 1000, 1517, 1518, 1519, 4000 };
	const size_t *lays[] = { whole, one, mid, bytes };
	struct virtio_net_hdr_mrg_rxbuf h = {};
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	unsigned int i, l;

	net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1), 1500);
	for (i = 0; i < ARRAY_SIZE(sizes); i++) {
		size_t n = sizes[i];
		enum net_drop want = n < 14 ? NET_DROP_RUNT :
				     n > 1518 ? NET_DROP_TOO_BIG : NET_DROP_NONE;

		for (l = 0; l < ARRAY_SIZE(lays); l++) {
			memset(pktbuf, 0x5a, 4096 + 64);
			T_EQ(tx_one(&cfg, &h, n, lays[l], &pkt), want);
			T_EQ(pkt.len, want ? 0 : n);
			T_EQ(pkt.flags, 0);
			if (!want)
				T_CHECK(frame_ok(pkt.data, n));
			/* Past the frame (and the limit, for a drop): untouched. */
			for (size_t k = n < 1518 ? n : 1518; k < n + 64 && k < 4096 + 64; k++)
				if (pktbuf[k] != 0x5a) {
					T_CHECK(pktbuf[k] == 0x5a);
					break;
				}
		}
	}
	/* The port buffer bounds the frame in the one-buffer layout too. */
	{
		static u8 g[200];
		struct chain c;
		size_t len = guest_tx(g, &h, 12, 100);

		for (l = 0; l < 2; l++) {
			chain_make(&c, g, len, l ? one : whole);
			pkt = (struct net_pkt){ .data = pktbuf, .room = 99 };
			T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_TOO_BIG);
			pkt = (struct net_pkt){ .data = pktbuf, .room = 100 };
			T_EQ(net_tx_pkt(&cfg, c.iov, c.n, &pkt), NET_DROP_NONE);
			T_EQ(pkt.len, 100);
			T_CHECK(frame_ok(pkt.data, 100));
			chain_free(&c);
		}
	}
}

/* RX: frame bytes i*13+1. */
static struct net_pkt rx_pkt(size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		pktbuf[i] = (u8)(i * 13 + 1);
	return (struct net_pkt){ .data = pktbuf, .len = len, .room = sizeof(pktbuf) };
}

static bool rx_frame_ok(const u8 *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != (u8)(i * 13 + 1))
			return false;
	return true;
}

static void test_rx_single(void)
{
	static const size_t odd[] = { 1, 1, 3, 7, 200, 0 };
	static const size_t exact[] = { 12, 100, 0 };
	static const size_t short1[] = { 12, 99, 0 };
	static const size_t tiny[] = { 5, 6, 0 };
	struct virtio_net_hdr_mrg_rxbuf h;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct chain c;
	static u8 out[4096];
	u32 w;

	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	pkt = rx_pkt(100);
	pkt.flags = NET_PKT_F_CSUM_VALID;
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, odd);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	T_EQ(w, 112);
	T_CHECK(!net_rx_pending(&rx));
	T_EQ(net_rx_end(&rx), 1);
	chain_flatten(&c, out, sizeof(out));
	memcpy(&h, out, sizeof(h));
	T_EQ(h.hdr.flags, VIRTIO_NET_HDR_F_DATA_VALID);
	T_EQ(h.hdr.gso_type, 0);
	T_EQ(le16_to_cpu((le16)h.num_buffers), 1);
	T_CHECK(rx_frame_ok(out + 12, 100));
	T_EQ(out[112], 0xee);		/* nothing past the frame */
	chain_free(&c);

	/* Exact fit, then one byte short (no MRG_RXBUF: drop, nothing written). */
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, exact);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	T_EQ(w, 112);
	chain_free(&c);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, short1);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_RX_TOO_SMALL);
	T_EQ(w, 0);
	chain_flatten(&c, out, sizeof(out));
	T_EQ(out[0], 0xee);
	chain_free(&c);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, tiny);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_RX_TOO_SMALL);
	chain_free(&c);

	/* Without GUEST_CSUM no DATA_VALID. */
	net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1), 1500);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, odd);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	net_rx_end(&rx);
	chain_flatten(&c, out, sizeof(out));
	memcpy(&h, out, sizeof(h));
	T_EQ(h.hdr.flags, 0);
	chain_free(&c);
}

/* What a recycled RX buffer may hold from another frame. */
static const struct virtio_net_hdr_mrg_rxbuf stale = {
	.hdr.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .hdr.gso_type = 1,
	.hdr.csum_start = 0x1234, .num_buffers = 3,
};

/*
 * A recycled buffer: the header bytes left there are compared and only
 * differing ones stored.  A stale header of another frame (flags, num_buffers
 * 3) must come out exactly as this frame's; an identical one is left as is.
 */
static void test_rx_recycled(void)
{
	static const size_t one[] = { 2048, 0 };
	struct virtio_net_hdr_mrg_rxbuf h;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct chain c;
	u32 w;
	int round;

	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	pkt = rx_pkt(60);
	chain_alloc(&c, one);
	memcpy(c.iov[0].iov_base, &stale, sizeof(stale));
	for (round = 0; round < 2; round++) {
		T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
		T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
		T_EQ(w, 72);
		T_EQ(net_rx_end(&rx), 1);
		memcpy(&h, c.iov[0].iov_base, sizeof(h));
		T_EQ(h.hdr.flags, 0);
		T_EQ(h.hdr.gso_type, 0);
		T_EQ(h.hdr.hdr_len, 0);
		T_EQ(h.hdr.gso_size, 0);
		T_EQ(h.hdr.csum_start, 0);
		T_EQ(h.hdr.csum_offset, 0);
		T_EQ(le16_to_cpu((le16)h.num_buffers), 1);
		T_CHECK(rx_frame_ok((u8 *)c.iov[0].iov_base + 12, 60));
	}
	chain_free(&c);
}

/*
 * With a copy batch the frame bytes are queued, not written, until
 * net_copy_run(); the header is written at once.  A full batch makes the
 * copy happen at once instead of dropping it.
 */
static void test_rx_batch(void)
{
	static const size_t lay[] = { 12, 30, 70, 0 };
	static struct net_copy_batch b;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct chain c;
	static u8 out[4096];
	u32 w;

	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	pkt = rx_pkt(100);
	chain_alloc(&c, lay);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, &b), NET_DROP_NONE);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	T_EQ(w, 112);
	T_EQ(net_rx_end(&rx), 1);
	T_EQ(b.n, 2);
	chain_flatten(&c, out, sizeof(out));
	T_EQ(le16_to_cpu(*(le16 *)(out + 10)), 1);
	T_EQ(out[12], 0xee);		/* queued, not written yet */
	T_EQ(out[111], 0xee);
	net_copy_run(&b);
	T_EQ(b.n, 0);
	chain_flatten(&c, out, sizeof(out));
	T_CHECK(rx_frame_ok(out + 12, 100));
	chain_free(&c);

	/* Full batch: written at once, the batch is left as it was. */
	b.n = NET_COPY_BATCH;
	chain_alloc(&c, lay);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, &b), NET_DROP_NONE);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	T_EQ(b.n, NET_COPY_BATCH);
	chain_flatten(&c, out, sizeof(out));
	T_CHECK(rx_frame_ok(out + 12, 100));
	chain_free(&c);
	b.n = 0;
}

/*
 * net_rx_one() against the general path as the oracle: where it applies,
 * the buffer must come out byte for byte the same (over a stale header too);
 * where it does not, it must say so and write nothing.
 */
static void test_rx_one(void)
{
	static const u64 feats[] = { FEAT_BASE, F(VIRTIO_F_VERSION_1),
				     F(VIRTIO_NET_F_MRG_RXBUF), 0 };
	static const u16 flagsets[] = { 0, NET_PKT_F_CSUM_VALID };
	static const size_t lens[] = { 14, 60, 64, 100, 1514 };
	static u8 a[2048], b[2048];
	static struct net_copy_batch batch;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct iovec io;
	unsigned int f, g, l, st;
	u32 w, w1;

	for (f = 0; f < ARRAY_SIZE(feats); f++)
	for (g = 0; g < ARRAY_SIZE(flagsets); g++)
	for (l = 0; l < ARRAY_SIZE(lens); l++)
	for (st = 0; st < 2; st++) {
		net_hdr_cfg_init(&cfg, feats[f], 1500);
		pkt = rx_pkt(lens[l]);
		pkt.flags = flagsets[g];
		memset(a, 0xee, sizeof(a));
		memset(b, 0xee, sizeof(b));
		if (st) {
			memcpy(a, &stale, sizeof(stale));
			memcpy(b, &stale, sizeof(stale));
		}
		/* exact fit: the general path into a, net_rx_one() into b */
		io = (struct iovec){ a, cfg.hdr_len + lens[l] };
		T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
		T_EQ(net_rx_fill(&rx, &io, 1, &w), NET_DROP_NONE);
		T_EQ(net_rx_end(&rx), 1);
		io.iov_base = b;
		T_CHECK(net_rx_one(&cfg, &pkt, &io, NULL, &w1));
		T_EQ(w1, w);
		T_CHECK(!memcmp(a, b, sizeof(a)));
		/* one byte short: not for it, nothing written */
		memset(b, 0xee, sizeof(b));
		io.iov_len--;
		T_CHECK(!net_rx_one(&cfg, &pkt, &io, NULL, &w1));
		io.iov_len = cfg.hdr_len - 1;
		T_CHECK(!net_rx_one(&cfg, &pkt, &io, NULL, &w1));
		T_EQ(b[0], 0xee);
		T_EQ(b[cfg.hdr_len + lens[l] - 2], 0xee);
	}

	/* Partial checksum or GSO: the general path's, nothing written. */
	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	pkt = rx_pkt(100);
	memset(b, 0xee, sizeof(b));
	io = (struct iovec){ b, sizeof(b) };
	pkt.flags = NET_PKT_F_NEEDS_CSUM;
	pkt.csum_start = 34;
	pkt.csum_offset = 6;
	T_CHECK(!net_rx_one(&cfg, &pkt, &io, NULL, &w1));
	pkt.flags = NET_PKT_F_GSO;
	pkt.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	pkt.gso_size = 1448;
	T_CHECK(!net_rx_one(&cfg, &pkt, &io, NULL, &w1));
	T_EQ(b[0], 0xee);

	/* With a batch: header now, frame queued; a full batch copies at once. */
	pkt = rx_pkt(100);
	T_CHECK(net_rx_one(&cfg, &pkt, &io, &batch, &w1));
	T_EQ(w1, 112);
	T_EQ(batch.n, 1);
	T_EQ(le16_to_cpu(*(le16 *)(b + 10)), 1);
	T_EQ(b[12], 0xee);
	net_copy_run(&batch);
	T_CHECK(rx_frame_ok(b + 12, 100));
	T_EQ(b[112], 0xee);
	memset(b, 0xee, sizeof(b));
	batch.n = NET_COPY_BATCH;
	T_CHECK(net_rx_one(&cfg, &pkt, &io, &batch, &w1));
	T_EQ(batch.n, NET_COPY_BATCH);
	T_CHECK(rx_frame_ok(b + 12, 100));
	batch.n = 0;
}

static void test_rx_mrg(void)
{
	/* First chain: num_buffers' two bytes land in different iovecs. */
	static const size_t c0[] = { 11, 1, 1000, 12, 0 };
	static const size_t c1[] = { 1, 1, 1, 1021, 0 };
	static const size_t c2[] = { 4096, 0 };
	const size_t *lays[] = { c0, c1, c2 };
	struct virtio_net_hdr_mrg_rxbuf h;
	struct net_hdr_cfg cfg;
	struct chain c[3];
	struct net_pkt pkt;
	struct net_rx rx;
	static u8 out[3][8192], all[16384];
	u32 w[3], total = 0;
	size_t o = 0;
	unsigned int i;

	net_hdr_cfg_init(&cfg, FEAT_BASE | F(VIRTIO_NET_F_MRG_RXBUF), 1500);
	T_CHECK(cfg.mrg_rxbuf);
	pkt = rx_pkt(3000);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	for (i = 0; i < 3 && net_rx_pending(&rx); i++) {
		chain_alloc(&c[i], lays[i]);
		T_EQ(net_rx_fill(&rx, c[i].iov, c[i].n, &w[i]), NET_DROP_NONE);
		total += w[i];
	}
	T_EQ(i, 3);
	T_CHECK(!net_rx_pending(&rx));
	T_EQ(w[0], 1024);
	T_EQ(w[1], 1024);
	T_EQ(w[2], 3012 - 2048);
	T_EQ(total, 3012);
	T_EQ(net_rx_end(&rx), 3);
	for (i = 0; i < 3; i++) {
		chain_flatten(&c[i], out[i], sizeof(out[i]));
		memcpy(all + o, out[i], w[i]);
		o += w[i];
		chain_free(&c[i]);
	}
	memcpy(&h, all, sizeof(h));
	T_EQ(le16_to_cpu((le16)h.num_buffers), 3);
	T_CHECK(rx_frame_ok(all + 12, 3000));
	T_EQ(out[2][w[2]], 0xee);

	/* MRG: first chain shorter than the header; a later empty chain. */
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	{
		static const size_t s[] = { 4, 7, 0 }, big[] = { 12, 10, 0 };
		struct iovec none = { .iov_base = NULL, .iov_len = 0 };

		chain_alloc(&c[0], s);
		T_EQ(net_rx_fill(&rx, c[0].iov, c[0].n, &w[0]), NET_DROP_RX_TOO_SMALL);
		chain_free(&c[0]);
		chain_alloc(&c[0], big);
		T_EQ(net_rx_fill(&rx, c[0].iov, c[0].n, &w[0]), NET_DROP_NONE);
		T_EQ(w[0], 22);
		T_CHECK(net_rx_pending(&rx));
		T_EQ(net_rx_fill(&rx, &none, 1, &w[1]), NET_DROP_RX_TOO_SMALL);
		T_EQ(net_rx_fill(&rx, NULL, 0, &w[1]), NET_DROP_RX_TOO_SMALL);
		chain_free(&c[0]);
	}

	/* A header-only first chain is fine with MRG_RXBUF. */
	pkt = rx_pkt(64);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	{
		static const size_t hdr_only[] = { 12, 0 }, rest[] = { 30, 30, 30, 0 };

		chain_alloc(&c[0], hdr_only);
		chain_alloc(&c[1], rest);
		T_EQ(net_rx_fill(&rx, c[0].iov, c[0].n, &w[0]), NET_DROP_NONE);
		T_EQ(w[0], 12);
		T_EQ(net_rx_fill(&rx, c[1].iov, c[1].n, &w[1]), NET_DROP_NONE);
		T_EQ(w[1], 64);
		T_EQ(net_rx_end(&rx), 2);
		chain_flatten(&c[0], out[0], 12);
		chain_flatten(&c[1], out[1], 64);
		memcpy(&h, out[0], 12);
		T_EQ(le16_to_cpu((le16)h.num_buffers), 2);
		T_CHECK(rx_frame_ok(out[1], 64));
		chain_free(&c[0]);
		chain_free(&c[1]);
	}
}

/* Reference checksum, big-endian words, the obvious way. */
static u16 ref_csum(const u8 *p, size_t len, u32 sum)
{
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		sum += (u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		sum += (u32)p[len - 1] << 8;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (u16)~sum;
}

/* Ethernet + IPv4 + UDP with @plen payload bytes; returns the frame length. */
static size_t make_udp(u8 *f, size_t plen, u16 *pseudo_folded, u16 *want)
{
	size_t ulen = 8 + plen, i;
	u32 sum = 0;
	u16 v;

	memset(f, 0, 42);
	f[12] = 0x08;
	f[13] = 0x00;
	f[14] = 0x45;
	v = htons(20 + ulen);
	memcpy(f + 16, &v, 2);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\x0a\x00\x00\x01\x0a\x00\x00\x02", 8);
	v = htons(1234);
	memcpy(f + 34, &v, 2);
	v = htons(5678);
	memcpy(f + 36, &v, 2);
	v = htons(ulen);
	memcpy(f + 38, &v, 2);
	for (i = 0; i < plen; i++)
		f[42 + i] = (u8)(i * 31 + 9);
	/* Pseudo header: src, dst, proto, UDP length. */
	for (i = 26; i < 34; i += 2)
		sum += (u32)f[i] << 8 | f[i + 1];
	sum += 17 + ulen;
	*want = ref_csum(f + 34, ulen, sum);
	if (*want == 0)
		*want = 0xffff;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	*pseudo_folded = (u16)sum;
	return 42 + plen;
}

static void test_csum(void)
{
	static const size_t one[] = { 4096, 0 };
	struct virtio_net_hdr_mrg_rxbuf h;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct chain c;
	static u8 out[4096];
	size_t plens[] = { 0, 1, 7, 18, 333, 1000 }, i;
	u16 pseudo, want, got, be;
	u32 w;

	for (i = 0; i < ARRAY_SIZE(plens); i++) {
		size_t len = make_udp(pktbuf, plens[i], &pseudo, &want);

		be = htons(pseudo);
		memcpy(pktbuf + 40, &be, 2);
		pkt = (struct net_pkt){ .data = pktbuf, .len = len, .room = sizeof(pktbuf),
					.flags = NET_PKT_F_NEEDS_CSUM, .csum_start = 34,
					.csum_offset = 6 };
		/* Guest without GUEST_CSUM: finished in software. */
		net_hdr_cfg_init(&cfg, F(VIRTIO_F_VERSION_1), 1500);
		T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
		memcpy(&got, pktbuf + 40, 2);
		T_EQ(ntohs(got), want);
		T_EQ(pkt.flags & NET_PKT_F_NEEDS_CSUM, 0);
		chain_alloc(&c, one);
		T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
		net_rx_end(&rx);
		chain_flatten(&c, out, sizeof(out));
		memcpy(&h, out, 12);
		T_EQ(h.hdr.flags, 0);
		memcpy(&got, out + 12 + 40, 2);
		T_EQ(ntohs(got), want);
		chain_free(&c);
	}
	/* Guest with GUEST_CSUM: passed through untouched. */
	make_udp(pktbuf, 100, &pseudo, &want);
	be = htons(pseudo);
	memcpy(pktbuf + 40, &be, 2);
	pkt = (struct net_pkt){ .data = pktbuf, .len = 142, .room = sizeof(pktbuf),
				.flags = NET_PKT_F_NEEDS_CSUM, .csum_start = 34,
				.csum_offset = 6 };
	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, one);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	net_rx_end(&rx);
	chain_flatten(&c, out, sizeof(out));
	memcpy(&h, out, 12);
	T_EQ(h.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	T_EQ(h.hdr.csum_start, 34);
	T_EQ(h.hdr.csum_offset, 6);
	memcpy(&got, out + 12 + 40, 2);
	T_EQ(got, be);
	chain_free(&c);
	/* Bad offsets from the port: dropped, nothing computed. */
	pkt.csum_start = 140;
	pkt.csum_offset = 1;
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_RX_CSUM);
	T_EQ(net_csum_finish(&pkt), -EINVAL);
}

static void test_rx_gso(void)
{
	static const size_t one[] = { 4096, 0 };
	struct virtio_net_hdr_mrg_rxbuf h;
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	struct net_rx rx;
	struct chain c;
	u32 w;

	pkt = rx_pkt(2000);
	pkt.flags = NET_PKT_F_GSO | NET_PKT_F_NEEDS_CSUM;
	pkt.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	pkt.gso_size = 1448;
	pkt.gso_hdr_len = 54;
	pkt.csum_start = 34;
	pkt.csum_offset = 16;
	net_hdr_cfg_init(&cfg, FEAT_BASE, 1500);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_RX_GSO);
	net_hdr_cfg_init(&cfg, FEAT_BASE | F(VIRTIO_NET_F_GUEST_TSO4), 1500);
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_NONE);
	chain_alloc(&c, one);
	T_EQ(net_rx_fill(&rx, c.iov, c.n, &w), NET_DROP_NONE);
	T_EQ(w, 2012);
	memcpy(&h, c.iov[0].iov_base, 12);
	T_EQ(h.hdr.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
	T_EQ(h.hdr.gso_size, 1448);
	T_EQ(h.hdr.hdr_len, 54);
	T_EQ(h.hdr.flags, VIRTIO_NET_HDR_F_NEEDS_CSUM);
	chain_free(&c);
	pkt.gso_type = VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN;
	T_EQ(net_rx_begin(&rx, &cfg, &pkt, NULL), NET_DROP_RX_GSO);
}

static void test_json(void)
{
	struct net_queue_stats qs[2] = {};
	struct net_port_stats ps = { .rx_packets = 5, .tx_errors = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	unsigned int r;

	qs[0].rx_packets = 10;
	qs[1].tx_bytes = 12345678901ULL;
	qs[1].tx_bursts = 7;
	qs[1].busy_ns = 3000000000ULL;
	qs[1].idle_ns = 42;
	qs[1].tx_flush = (struct net_tune_stats){ 1, 2, 3, 4 };
	qs[1].rx_prefetch = (struct net_tune_stats){ 0, 5, 6, 7 };
	net_stats_drop(&qs[1], NET_DROP_HDR_SHORT);
	net_stats_drop(&qs[1], NET_DROP_HDR_SHORT);
	net_stats_drop(&qs[0], NET_DROP_TOO_BIG);
	net_stats_drop(&qs[0], 999);	/* out of range: goes to [0], not written */
	T_EQ(net_stats_json(f, "net\"0", qs, 2, &ps), 0);
	fclose(f);
	T_CHECK(strstr(buf, "{\"device\":\"net\\\"0\",\"queues\":[{\"queue\":0,\"rx_packets\":10,"));
	T_CHECK(strstr(buf, "\"tx_bytes\":12345678901,\"rx_bursts\":0,\"tx_bursts\":7,"
			    "\"busy_ns\":3000000000,\"idle_ns\":42,"));
	T_CHECK(strstr(buf, "{\"queue\":1,"));
	T_CHECK(strstr(buf, "\"idle_ns\":42,\"tx_flush\":{\"on\":1,\"rounds\":2,\"windows\":3,"
			    "\"windows_on\":4},\"rx_prefetch\":{\"on\":0,\"rounds\":5,"
			    "\"windows\":6,\"windows_on\":7},\"drops\":{"));
	T_CHECK(strstr(buf, "\"too_big\":1"));
	T_CHECK(strstr(buf, "\"hdr_short\":2"));
	T_CHECK(strstr(buf, "\"port\":{\"rx_packets\":5,"));
	T_CHECK(strstr(buf, "\"tx_errors\":2"));
	T_CHECK(len > 0 && buf[len - 1] == '\n' && !strchr(buf, '\n')[1]);
	for (r = 1; r < NET_DROP_MAX; r++)
		T_CHECK(strstr(buf, net_drop_name(r)));
	T_CHECK(!strcmp(net_drop_name(NET_DROP_MAX), "?"));
	free(buf);
}

int main(void)
{
	test_tx_layouts();
	test_tx_case11();
	test_tx_plain();
	test_rx_single();
	test_rx_recycled();
	test_rx_batch();
	test_rx_one();
	test_rx_mrg();
	test_csum();
	test_rx_gso();
	test_json();
	return net_test_result("net_hdr");
}
