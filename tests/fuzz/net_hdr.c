// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for libvunet's virtio-net header code (hdr.c): a hostile
 * guest TX chain, split into descriptors of fuzzer-chosen sizes (each its own
 * allocation, so ASan sees any access past one), under fuzzer-chosen
 * negotiated features and MTU.  Checks: net_tx_pkt() never writes past the
 * port buffer's room, an accepted frame respects the limits it claims to
 * enforce, and the frame then goes through net_rx_begin/fill/end into RX
 * chains of fuzzer-chosen sizes without exceeding them, the bytes written
 * equalling header + frame.
 *
 * Input: [features lo 4 bytes][mtu 2][room 2][nsplit 1][nsplit sizes 1 each]
 *        [rx chain size 2][rx iov size 1][payload: the chain's bytes]
 */
#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include <vhost-user/net.h>

#define MAX_SPLIT 24

static u8 *port_buf;

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct iovec iov[MAX_SPLIT + 1];
	struct net_hdr_cfg cfg;
	struct net_pkt pkt;
	u32 feat, room, rx_chain, rx_iov;
	u16 mtu;
	unsigned int nsplit, n = 0, i;
	size_t off = 0, plen;
	enum net_drop r;

	if (size < 12)
		return 0;
	if (!port_buf)
		port_buf = malloc(NET_MAX_GSO_FRAME);
	memcpy(&feat, data, 4);
	memcpy(&mtu, data + 4, 2);
	room = (u32)data[6] << 8 | data[7];
	room = room * 2 > NET_MAX_GSO_FRAME ? NET_MAX_GSO_FRAME : room * 2;
	nsplit = data[8] % MAX_SPLIT;
	data += 9;
	size -= 9;
	if (size < nsplit + 3)
		return 0;
	{
		const u8 *sizes = data;

		rx_chain = (u32)data[nsplit] << 8 | data[nsplit + 1];
		rx_iov = data[nsplit + 2] ? data[nsplit + 2] : 1;
		data += nsplit + 3;
		size -= nsplit + 3;
		/* Copy each piece into its own allocation. */
		for (i = 0; i <= nsplit && off < size; i++) {
			plen = i < nsplit ? sizes[i] : size - off;
			if (plen > size - off)
				plen = size - off;
			iov[n].iov_base = malloc(plen ? plen : 1);
			memcpy(iov[n].iov_base, data + off, plen);
			iov[n].iov_len = plen;
			n++;
			off += plen;
		}
	}

	net_hdr_cfg_init(&cfg, (u64)feat | ((u64)(feat & 1) << 32), mtu);
	/* The buffer is exactly `room` bytes at the end of the allocation. */
	pkt = (struct net_pkt){ .data = port_buf + NET_MAX_GSO_FRAME - room, .room = room };
	r = net_tx_pkt(&cfg, iov, n, &pkt);
	for (i = 0; i < n; i++)
		free(iov[i].iov_base);
	if (r != NET_DROP_NONE) {
		assert(r < NET_DROP_MAX && pkt.len == 0);
		return 0;
	}
	assert(pkt.len <= room && pkt.len >= NET_ETH_HLEN);
	if (!(pkt.flags & NET_PKT_F_GSO))
		assert(pkt.len <= cfg.max_frame);
	if (pkt.flags & NET_PKT_F_NEEDS_CSUM)
		assert((u32)pkt.csum_start + pkt.csum_offset + 2 <= pkt.len);

	/* The one-buffer RX fast path: exactly when it applies, and in bounds. */
	{
		struct iovec one = { malloc(rx_chain ? rx_chain : 1), rx_chain };
		bool fits = !(pkt.flags & (NET_PKT_F_GSO | NET_PKT_F_NEEDS_CSUM)) &&
			    rx_chain >= cfg.hdr_len + (u64)pkt.len;
		u32 w1 = 0;

		assert(net_rx_one(&cfg, &pkt, &one, NULL, &w1) == fits);
		assert(!fits || w1 == cfg.hdr_len + pkt.len);
		free(one.iov_base);
	}
	/* Port -> guest with the same features, chains of rx_chain bytes. */
	{
		/* The first chain stays mapped until net_rx_end() (num_buffers). */
		struct iovec first[64];
		unsigned int nfirst = 0;
		struct net_rx rx;
		u32 total = 0, w, chains = 0;

		if (net_rx_begin(&rx, &cfg, &pkt, NULL) != NET_DROP_NONE)
			return 0;
		if (rx_chain == 0)
			rx_chain = 1;
		while (net_rx_pending(&rx) && chains < 70000) {
			struct iovec wr[64];
			unsigned int nw = 0;
			u32 left = rx_chain;

			while (left && nw < 64) {
				u32 l = left < rx_iov ? left : rx_iov;

				if (nw == 63)
					l = left;
				wr[nw].iov_base = malloc(l);
				wr[nw].iov_len = l;
				left -= l;
				nw++;
			}
			r = net_rx_fill(&rx, wr, nw, &w);
			if (chains == 0) {
				memcpy(first, wr, nw * sizeof(wr[0]));
				nfirst = nw;
			} else {
				for (i = 0; i < nw; i++)
					free(wr[i].iov_base);
			}
			if (r != NET_DROP_NONE) {
				assert(r == NET_DROP_RX_TOO_SMALL && w == 0);
				break;
			}
			assert(w <= rx_chain);
			total += w;
			chains++;
		}
		if (r == NET_DROP_NONE) {
			assert(!net_rx_pending(&rx));
			assert(net_rx_end(&rx) == chains);
			assert(total == pkt.len + cfg.hdr_len);
		}
		for (i = 0; i < nfirst; i++)
			free(first[i].iov_base);
	}
	return 0;
}
