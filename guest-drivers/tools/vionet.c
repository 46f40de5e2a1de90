// SPDX-License-Identifier: MIT
/*
 * vionet: drive a vhost-user-net back-end (our vhost-user-net, DPDK's vhost
 * PMD in testpmd, ...) straight from this process with the guest-drivers
 * virtio-net driver over libvirtio-user: packet generator (txonly), receiver
 * and verifier (rxonly), forwarder (fwd) and round-trip latency (pingpong).
 *
 * Frames sent are UDP/IPv4 (valid Ethernet, IPv4 header checksum and
 * lengths; UDP checksum 0) whose payload starts with a 16-byte tag: magic
 * "VIO1", a per-run stream id, a sequence number and a check word covering
 * the sequence number and every payload byte after the tag (a position-
 * weighted sum), so a receiver can verify contents and order.
 *
 * Security model: the back-end is not trusted; the driver checks rings,
 * lengths and headers.  Received frames are parsed here only with explicit
 * bounds checks against the frame length the driver returned.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/net.h>
#include <guest-drivers/hist.h>
#include <guest-drivers/virtio_user.h>
#include "tool.h"

/* Exit statuses (also in --help). */

#define ETH_P_IPV4	0x0800
#define HDRS_LEN	42u	/* Ethernet 14 + IPv4 20 + UDP 8 */
#define TAG_LEN		16u
#define TAG_MAGIC	0x314f4956u	/* "VIO1" little-endian */
#define MIN_SIZE	60u
#define MEM_BYTES	(128u << 20)
#define DRAIN_NS	(5ull * 1000000000ull)
#define PING_TIMEOUT_NS	(1000ull * 1000000ull)

enum mode { M_TXONLY, M_RXONLY, M_FWD, M_PINGPONG };
static const char *const mode_names[] = { "txonly", "rxonly", "fwd", "pingpong" };

struct opts {
	const char *socket;
	int mode;
	u32 size;
	unsigned int secs;
	unsigned int burst;
	bool poll, check, csum;
	u64 count;		/* 0: none */
	u8 mac[6], dst[6];
	bool mac_set;
	unsigned int queue_size;
	u32 rx_buf;
	u64 features_off;
	int cpu;		/* -1: not pinned */
	bool hugetlb;		/* shared memory on huge pages */
	unsigned int idle_secs;	/* rxonly/fwd: end this long after the last frame */
};

struct stats {
	u64 tx, rx, tx_bytes, rx_bytes, drops;
	u64 checked, ours, bad, lost, reordered, stray, timeouts;
	u64 csum_ok, csum_partial;	/* rxonly --check: UDP checksums */
	u64 t_first, t_last;	/* rx: first and last frame */
};

static struct gd_hist hist;
static u32 stream_id;

static void usage(FILE *f)
{
	fprintf(f,
"usage: vionet --socket PATH MODE [options]\n"
"\n"
"Drive a vhost-user-net back-end from this process (guest-drivers virtio-net\n"
"driver over libvirtio-user; no VM).  One queue pair.\n"
"\n"
"modes (positional, or --mode MODE):\n"
"  txonly     send UDP/IPv4 frames of --size bytes as fast as the ring takes\n"
"             them; the payload carries a stream id, a sequence number and a\n"
"             check word over the payload; at the end wait (up to 5 s) until\n"
"             the back-end has consumed every frame\n"
"  rxonly     count received frames; with --check verify each: Ethernet/IPv4/\n"
"             UDP lengths, the IPv4 header checksum and a non-zero UDP checksum\n"
"             (unless the frame is still partial, GUEST_CSUM) of any IPv4/UDP frame,\n"
"             plus tag, check word and sequence order for vionet's own frames\n"
"  fwd        send every received frame back unchanged (io forwarding)\n"
"  pingpong   send one frame, wait until it comes back (e.g. through\n"
"             vhost-user-net --port loop), repeat; round-trip percentiles\n"
"\n"
"options:\n"
"  --socket PATH      vhost-user-net unix socket (required)\n"
"  --size N           frame bytes without FCS, 60..MTU+18 (64)\n"
"  --secs S           run time in seconds, 1..86400 (5; --seconds too)\n"
"  --count N          txonly: send N frames; rxonly: stop after N frames\n"
"                     (exit 1 if --secs passes first); pingpong: N round trips\n"
"  --idle-secs S      rxonly/fwd: end S seconds after the last frame, once\n"
"                     frames have come (a sender finished); --secs still bounds\n"
"  --burst N          frames per rx/tx burst, 1..32 (32)\n"
"  --poll             busy-poll with interrupts suppressed (default: sleep\n"
"                     on the call eventfd when there is nothing to do)\n"
"  --check            rxonly: verify every frame (see above)\n"
"  --mac MAC          source MAC (default: the device's, else 02:00:00:00:00:01)\n"
"  --dst-mac MAC      destination MAC (02:00:00:00:00:02)\n"
"  --queue-size N     entries per queue, a power of two 16..1024 (1024)\n"
"  --rx-buf N         bytes per RX buffer incl. the 12-byte header, 64..65536\n"
"                     (2048 with MRG_RXBUF); small ones make the back-end merge\n"
"  --csum             negotiate CSUM/GUEST_CSUM; txonly/pingpong then leave the\n"
"                     UDP checksum to the device (NEEDS_CSUM; exit 4 if CSUM\n"
"                     is not offered), else UDP checksums are 0\n"
"  --cpu N            run on CPU N only (sched_setaffinity)\n"
"  --hugetlb          put the memory shared with the back-end (rings and\n"
"                     buffers, 128 MiB) on default-size huge pages, as a VM's\n"
"                     RAM usually is in NFV; exit 4 if fewer are free\n"
"  --no-mrg-rxbuf, --no-event-idx, --no-indirect\n"
"                     do not negotiate that feature\n"
"  -h, --help         this text\n"
"\n"
"output: one JSON line on stdout:\n"
"  {\"tool\":\"vionet\",\"mode\":M,\"size\":N,\"secs\":S,\"mpps\":X,\"gbps\":X,"
"\"tx_pkts\":N,\"rx_pkts\":N,\"drops\":N,...}\n"
"  size: --size, or for rxonly and fwd the mean size received.\n"
"  mpps/gbps: frames sent (txonly), received (rxonly, fwd; first to last\n"
"  frame) or round trips (pingpong) per second; gbps counts frame bytes.\n"
"  drops: frames the driver discarded as malformed, frames fwd could not\n"
"  send, pingpong frames that did not come back within 1 s.  rxonly --check\n"
"  adds checked, ours, bad, lost (sequence gaps), reordered, csum_ok (UDP\n"
"  checksums verified), csum_partial (left partial); pingpong adds\n"
"  p50_us, p99_us.\n"
"\n"
"SIGINT/SIGTERM end a run early (the JSON line is still printed).\n"
"\n"
"exit status: 0 ok; 1 a bad frame (--check), --count not reached, frames not\n"
"  consumed, no round trip completed, or device failure; 2 usage; 3 cannot\n"
"  connect (socket missing, nobody listening, bad handshake); 4 device\n"
"  unusable (features refused, --size above the MTU, out of memory or\n"
"  huge pages).\n");
}

static int parse_u64(const char *s, u64 *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	if (!*s || *s == '-')
		return -1;
	v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	*out = v;
	return 0;
}

static int parse_mac(const char *s, u8 *mac)
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &tail) != 6 || strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (u8)b[i];
	return 0;
}

static int bad_opt(const char *opt, const char *val, const char *want)
{
	fprintf(stderr, "vionet: %s %s: want %s\n", opt, val, want);
	return -1;
}

static int set_mode(struct opts *o, const char *m)
{
	for (unsigned int i = 0; i < sizeof(mode_names) / sizeof(mode_names[0]); i++)
		if (!strcmp(m, mode_names[i])) {
			if (o->mode >= 0 && o->mode != (int)i) {
				fprintf(stderr, "vionet: two modes given (%s, %s)\n",
					mode_names[o->mode], m);
				return -1;
			}
			o->mode = (int)i;
			return 0;
		}
	fprintf(stderr, "vionet: unknown mode '%s' (txonly, rxonly, fwd, pingpong)\n", m);
	return -1;
}

static int parse_args(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "mode", required_argument, NULL, 'M' },
		{ "size", required_argument, NULL, 'z' },
		{ "secs", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 't' },
		{ "count", required_argument, NULL, 'n' },
		{ "burst", required_argument, NULL, 'b' },
		{ "poll", no_argument, NULL, 'p' },
		{ "check", no_argument, NULL, 'c' },
		{ "mac", required_argument, NULL, 'm' },
		{ "dst-mac", required_argument, NULL, 'd' },
		{ "queue-size", required_argument, NULL, 'q' },
		{ "rx-buf", required_argument, NULL, 'r' },
		{ "csum", no_argument, NULL, 'C' },
		{ "no-mrg-rxbuf", no_argument, NULL, 'R' },
		{ "no-event-idx", no_argument, NULL, 'E' },
		{ "no-indirect", no_argument, NULL, 'I' },
		{ "cpu", required_argument, NULL, 'P' },
		{ "hugetlb", no_argument, NULL, 'H' },
		{ "idle-secs", required_argument, NULL, 'i' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	u64 v;
	int c;

	*o = (struct opts){ .mode = -1, .size = 64, .secs = 5, .burst = 32, .cpu = -1,
			    .dst = { 0x02, 0, 0, 0, 0, 0x02 } };
	while ((c = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
		const char *a = optarg;

		switch (c) {
		case 's':
			o->socket = a;
			break;
		case 'M':
			if (set_mode(o, a))
				return -1;
			break;
		case 'z':
			if (parse_u64(a, &v) || v < MIN_SIZE || v > 65535 + 18)
				return bad_opt("--size", a, "60..65553 (and at most MTU+18)");
			o->size = (u32)v;
			break;
		case 't':
			if (parse_u64(a, &v) || v < 1 || v > 86400)
				return bad_opt("--secs", a, "1..86400");
			o->secs = (unsigned int)v;
			break;
		case 'n':
			if (parse_u64(a, &v) || v < 1)
				return bad_opt("--count", a, "a positive number");
			o->count = v;
			break;
		case 'b':
			if (parse_u64(a, &v) || v < 1 || v > GD_NET_BURST_MAX)
				return bad_opt("--burst", a, "1..32");
			o->burst = (unsigned int)v;
			break;
		case 'p':
			o->poll = true;
			break;
		case 'c':
			o->check = true;
			break;
		case 'm':
			if (parse_mac(a, o->mac))
				return bad_opt("--mac", a, "xx:xx:xx:xx:xx:xx");
			o->mac_set = true;
			break;
		case 'd':
			if (parse_mac(a, o->dst))
				return bad_opt("--dst-mac", a, "xx:xx:xx:xx:xx:xx");
			break;
		case 'q':
			if (parse_u64(a, &v) || v < 16 || v > GD_VU_QUEUE_MAX || (v & (v - 1)))
				return bad_opt("--queue-size", a, "a power of two 16..1024");
			o->queue_size = (unsigned int)v;
			break;
		case 'r':
			if (parse_u64(a, &v) || v < 64 || v > 65536)
				return bad_opt("--rx-buf", a, "64..65536");
			o->rx_buf = (u32)v;
			break;
		case 'C':
			o->csum = true;
			break;
		case 'R':
			o->features_off |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
			break;
		case 'E':
			o->features_off |= 1ull << VIRTIO_RING_F_EVENT_IDX;
			break;
		case 'I':
			o->features_off |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
			break;
		case 'i':
			if (parse_u64(a, &v) || v < 1 || v > 86400)
				return bad_opt("--idle-secs", a, "1..86400");
			o->idle_secs = (unsigned int)v;
			break;
		case 'P':
			if (parse_u64(a, &v) || v >= CPU_SETSIZE)
				return bad_opt("--cpu", a, "a CPU number");
			o->cpu = (int)v;
			break;
		case 'H':
			o->hugetlb = true;
			break;
		case 'h':
			usage(stdout);
			exit(EX_OK);
		default:
			return -1;
		}
	}
	for (; optind < argc; optind++)
		if (set_mode(o, argv[optind]))
			return -1;
	if (o->mode < 0) {
		fprintf(stderr, "vionet: want a mode (txonly, rxonly, fwd, pingpong)\n");
		return -1;
	}
	if (!o->socket) {
		fprintf(stderr, "vionet: --socket PATH is required\n");
		return -1;
	}
	if (o->check && o->mode != M_RXONLY) {
		fprintf(stderr, "vionet: --check is for rxonly\n");
		return -1;
	}
	if (o->idle_secs && o->mode != M_RXONLY && o->mode != M_FWD) {
		fprintf(stderr, "vionet: --idle-secs is for rxonly and fwd\n");
		return -1;
	}
	if (o->count && o->mode == M_FWD) {
		fprintf(stderr, "vionet: --count is for txonly, rxonly and pingpong\n");
		return -1;
	}
	return 0;
}

/* --- frames ------------------------------------------------------------------- */

static u16 get16(const u8 *p) { return (u16)(p[0] << 8 | p[1]); }
static void put16(u8 *p, u16 v) { p[0] = (u8)(v >> 8); p[1] = (u8)v; }
static u32 le32_get(const u8 *p) { u32 v; memcpy(&v, p, 4); return v; }
static void le32_put(u8 *p, u32 v) { memcpy(p, &v, 4); }

/* Ones' complement sum of @len bytes (big-endian 16-bit words), unfolded. */
static u32 sum16(u32 s, const u8 *p, unsigned int len)
{
	unsigned int i;

	for (i = 0; i + 1 < len; i += 2)
		s += get16(p + i);
	if (len & 1)
		s += (u32)p[len - 1] << 8;
	return s;
}

static u16 fold(u32 s)
{
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)s;
}

static u16 ip_csum(const u8 *p, unsigned int len)
{
	return (u16)~fold(sum16(0, p, len));
}

/* The UDP/IPv4 pseudo-header sum (addresses, protocol, UDP length). */
static u32 udp_pseudo(const u8 *ip, u16 udp_len)
{
	return sum16(0, ip + 12, 8) + 17 + udp_len;
}

/* Byte @i of the payload after the tag (a fixed pattern). */
static inline u8 fill_byte(u32 i)
{
	return (u8)(i * 13 + 7);
}

/* Position-weighted sum of the payload after the tag (catches swaps too). */
static u32 fill_sum(const u8 *p, u32 len)
{
	u32 s = 0;

	for (u32 i = 0; i < len; i++)
		s += (u32)p[i] * (i + 1);
	return s;
}

static u32 tag_check(u32 stream, u32 seq, u32 fsum)
{
	return ((seq ^ stream) * 0x9E3779B1u) ^ fsum ^ 0x5bd1e995u;
}

/*
 * Headers and fixed payload of a frame of @size bytes.  @csum_offload: the
 * UDP checksum field holds the pseudo-header sum for the device to complete
 * (NEEDS_CSUM from byte 34, field at +6); otherwise 0 (no checksum).
 */
static void frame_build(u8 *f, u32 size, const u8 *src, const u8 *dst, bool csum_offload)
{
	u8 *ip = f + 14, *udp = f + 34, *pl = f + HDRS_LEN;

	memset(f, 0, size);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, ETH_P_IPV4);
	ip[0] = 0x45;
	put16(ip + 2, (u16)(size - 14));
	put16(ip + 6, 0x4000);		/* DF */
	ip[8] = 64;
	ip[9] = 17;			/* UDP */
	ip[12] = 198, ip[13] = 18, ip[14] = 0, ip[15] = 1;
	ip[16] = 198, ip[17] = 18, ip[18] = 0, ip[19] = 2;
	put16(ip + 10, ip_csum(ip, 20));
	put16(udp, 1024);
	put16(udp + 2, 9);		/* discard */
	put16(udp + 4, (u16)(size - 34));
	if (csum_offload)
		put16(udp + 6, fold(udp_pseudo(ip, (u16)(size - 34))));
	le32_put(pl, TAG_MAGIC);
	le32_put(pl + 4, stream_id);
	for (u32 i = 0; i < size - HDRS_LEN - TAG_LEN; i++)
		pl[TAG_LEN + i] = fill_byte(i);
}

static void frame_stamp(u8 *f, u32 seq, u32 fsum)
{
	le32_put(f + HDRS_LEN + 8, seq);
	le32_put(f + HDRS_LEN + 12, tag_check(stream_id, seq, fsum));
}

struct run {
	struct gd_net *n;
	const struct opts *o;
	struct stats st;
	u64 t0, deadline;
	u8 *tpl;		/* burst frames of --size bytes */
	u32 fsum;
	u32 seq;
	u16 tx_flags;		/* GD_NET_F_NEEDS_CSUM with --csum */
};

struct seqtrack {
	bool have;
	u32 stream, next;
};

/*
 * Verify a received frame.  0: good (*ours set if it carries our tag, *seq
 * its number, *stream its stream), or a reason string.
 */
static const char *frame_verify(struct run *r, const struct gd_net_rx *p, bool *ours,
				u32 *stream, u32 *seq)
{
	const u8 *f = p->data;
	u32 len = p->len;
	const u8 *ip, *udp, *pl;
	u32 iplen, ihl, plen;

	*ours = false;
	if (len < 14)
		return "runt";
	if (get16(f + 12) != ETH_P_IPV4)
		return NULL;		/* not IPv4: counted, not checked */
	ip = f + 14;
	if (len < 34 || (ip[0] >> 4) != 4)
		return "bad IPv4 version or short";
	ihl = (ip[0] & 15) * 4u;
	iplen = get16(ip + 2);
	if (ihl < 20 || iplen < ihl || 14 + iplen > len)
		return "IPv4 length inconsistent with the frame";
	if (ip_csum(ip, ihl) != 0)
		return "IPv4 header checksum";
	if (ip[9] != 17)
		return NULL;
	if (iplen < ihl + 8)
		return "UDP header truncated";
	udp = ip + ihl;
	if (get16(udp + 4) != iplen - ihl)
		return "UDP length inconsistent with IPv4";
	if (r && get16(udp + 6)) {
		if (p->flags & GD_NET_F_NEEDS_CSUM) {
			r->st.csum_partial++;	/* to be completed: nothing to check yet */
		} else {
			u32 ul = iplen - ihl;

			if (fold(sum16(udp_pseudo(ip, (u16)ul), udp, ul)) != 0xffff)
				return "UDP checksum";
			r->st.csum_ok++;
		}
	}
	pl = udp + 8;
	plen = iplen - ihl - 8;
	if (plen < TAG_LEN || le32_get(pl) != TAG_MAGIC)
		return NULL;
	*ours = true;
	*stream = le32_get(pl + 4);
	*seq = le32_get(pl + 8);
	if (le32_get(pl + 12) != tag_check(*stream, *seq, fill_sum(pl + TAG_LEN, plen - TAG_LEN)))
		return "payload check word mismatch (contents corrupted)";
	for (u32 i = 0; i < plen - TAG_LEN; i++)
		if (pl[TAG_LEN + i] != fill_byte(i))
			return "payload byte differs from the pattern";
	return NULL;
}

/* --- the run ---------------------------------------------------------------------- */

static bool time_up(struct run *r, u64 now)
{
	if (r->o->idle_secs && r->st.rx &&
	    now - r->st.t_last >= (u64)r->o->idle_secs * 1000000000ull)
		return true;
	return stop_flag || now >= r->deadline;
}

/* Nothing to do right now: sleep on an interrupt or spin. */
static int idle(struct run *r, bool rx, u64 *spins)
{
	if (!r->o->poll) {
		if ((rx ? gd_net_wait_rx(r->n) : gd_net_wait_tx(r->n)) < 0)
			return -EIO;
		if ((++*spins & 63) == 0 && gd_net_check(r->n))
			return -EIO;
		return 0;
	}
	if ((++*spins & 0xfffff) == 0 && gd_net_check(r->n))
		return -EIO;
	gd_cpu_relax();
	return 0;
}

static void bad_frame(struct run *r, const char *why, u64 idx)
{
	if (r->st.bad++ < 10)
		fprintf(stderr, "vionet: bad frame #%llu: %s\n", (unsigned long long)idx, why);
}

static void rx_account(struct run *r, const struct gd_net_rx *p, u64 now)
{
	if (!r->st.rx)
		r->st.t_first = now;
	r->st.t_last = now;
	r->st.rx++;
	r->st.rx_bytes += p->len;
}

static int run_txonly(struct run *r)
{
	struct gd_net_tx pk[GD_NET_BURST_MAX];
	unsigned int b = r->o->burst, pending = 0, i;
	u64 spins = 0, now = r->t0;
	int k;

	for (;;) {
		if (!pending) {
			if (time_up(r, now) || (r->o->count && r->st.tx >= r->o->count))
				break;
			pending = b;
			if (r->o->count && r->o->count - r->st.tx < pending)
				pending = (unsigned int)(r->o->count - r->st.tx);
			for (i = 0; i < pending; i++) {
				u8 *f = r->tpl + (size_t)i * r->o->size;

				frame_stamp(f, r->seq++, r->fsum);
				pk[i] = (struct gd_net_tx){ .data = f, .len = r->o->size,
							    .flags = r->tx_flags,
							    .csum_start = 34, .csum_offset = 6 };
			}
		}
		k = gd_net_tx_burst(r->n, pk, pending);
		if (k < 0)
			return -EIO;
		r->st.tx += (unsigned int)k;
		r->st.tx_bytes += (u64)k * r->o->size;
		if ((unsigned int)k < pending) {
			/* ring full: keep the rest (in order) for the next try */
			memmove(pk, pk + k, (pending - k) * sizeof(pk[0]));
			pending -= (unsigned int)k;
			if (gd_net_tx_reclaim(r->n) == 0 && idle(r, false, &spins))
				return -EIO;
			if (stop_flag >= 2)
				break;
		} else {
			pending = 0;
		}
		now = now_ns();
	}
	return 0;
}

/* Wait until the back-end consumed every frame we gave it. */
static int tx_drain(struct run *r)
{
	u64 end = now_ns() + DRAIN_NS, spins = 0;

	while (r->n->tx_inflight) {
		if (gd_net_tx_reclaim(r->n) < 0)
			return -EIO;
		if (!r->n->tx_inflight)
			break;
		if (now_ns() > end || stop_flag >= 2) {
			fprintf(stderr, "vionet: the back-end did not consume %u frame(s)"
				" within 5 s\n", r->n->tx_inflight);
			return -ETIMEDOUT;
		}
		if (idle(r, false, &spins))
			return -EIO;
	}
	return 0;
}

static void seq_track(struct run *r, struct seqtrack *t, u32 stream, u32 seq)
{
	r->st.ours++;
	if (!t->have || t->stream != stream) {
		t->have = true;
		t->stream = stream;
		t->next = seq + 1;
		return;
	}
	if (seq == t->next) {
		t->next++;
	} else if ((s32)(seq - t->next) > 0) {
		r->st.lost += seq - t->next;
		t->next = seq + 1;
	} else {
		r->st.reordered++;
	}
}

static int run_rxonly(struct run *r)
{
	struct gd_net_rx pk[GD_NET_BURST_MAX];
	struct seqtrack t = { 0 };
	u64 spins = 0, now;
	int k;

	for (;;) {
		now = now_ns();
		if (time_up(r, now) || (r->o->count && r->st.rx >= r->o->count))
			break;
		k = gd_net_rx_burst(r->n, pk, r->o->burst);
		if (k < 0)
			return -EIO;
		if (!k) {
			if (idle(r, true, &spins))
				return -EIO;
			continue;
		}
		for (int i = 0; i < k; i++) {
			rx_account(r, &pk[i], now);
			if (r->o->check) {
				bool ours;
				u32 stream = 0, seq = 0;
				const char *why = frame_verify(r, &pk[i], &ours, &stream, &seq);

				r->st.checked++;
				if (why)
					bad_frame(r, why, r->st.rx - 1);
				else if (ours)
					seq_track(r, &t, stream, seq);
			}
		}
	}
	return 0;
}

static int run_fwd(struct run *r)
{
	struct gd_net_rx pk[GD_NET_BURST_MAX];
	struct gd_net_tx tx[GD_NET_BURST_MAX];
	u64 spins = 0, now;
	int k, s;

	for (;;) {
		now = now_ns();
		if (time_up(r, now))
			break;
		k = gd_net_rx_burst(r->n, pk, r->o->burst);
		if (k < 0)
			return -EIO;
		if (!k) {
			if (idle(r, true, &spins))
				return -EIO;
			continue;
		}
		for (int i = 0; i < k; i++) {
			rx_account(r, &pk[i], now);
			tx[i] = (struct gd_net_tx){ .data = pk[i].data, .len = pk[i].len };
			if (r->o->csum && (pk[i].flags & GD_NET_F_NEEDS_CSUM)) {
				/* still partial: pass the request on */
				tx[i].flags = GD_NET_F_NEEDS_CSUM;
				tx[i].csum_start = pk[i].csum_start;
				tx[i].csum_offset = pk[i].csum_offset;
			}
		}
		s = gd_net_tx_burst(r->n, tx, (unsigned int)k);
		if (s < 0)
			return -EIO;
		r->st.tx += (unsigned int)s;
		for (int i = 0; i < s; i++)
			r->st.tx_bytes += pk[i].len;
		r->st.drops += (unsigned int)(k - s);
	}
	return 0;
}

static int run_pingpong(struct run *r)
{
	struct gd_net_rx pk[GD_NET_BURST_MAX];
	struct gd_net_tx tx;
	u64 spins = 0, now = r->t0, rtts = 0;

	for (;;) {
		u32 seq = r->seq++;
		u64 t_send, limit;
		bool back = false;
		int k;

		if (time_up(r, now) || (r->o->count && rtts + r->st.timeouts >= r->o->count))
			break;
		frame_stamp(r->tpl, seq, r->fsum);
		tx = (struct gd_net_tx){ .data = r->tpl, .len = r->o->size,
					 .flags = r->tx_flags, .csum_start = 34, .csum_offset = 6 };
		t_send = now_ns();
		for (;;) {
			k = gd_net_tx_burst(r->n, &tx, 1);
			if (k < 0)
				return -EIO;
			if (k == 1)
				break;
			if (gd_net_tx_reclaim(r->n) == 0 && idle(r, false, &spins))
				return -EIO;
			if (stop_flag >= 2)
				return 0;
		}
		r->st.tx++;
		r->st.tx_bytes += r->o->size;
		limit = t_send + PING_TIMEOUT_NS;
		while (!back) {
			k = gd_net_rx_burst(r->n, pk, r->o->burst);
			if (k < 0)
				return -EIO;
			now = now_ns();
			for (int i = 0; i < k; i++) {
				bool ours;
				u32 stream = 0, s = 0;

				rx_account(r, &pk[i], now);
				if (!frame_verify(NULL, &pk[i], &ours, &stream, &s) &&
				    ours && stream == stream_id && s == seq)
					back = true;
				else
					r->st.stray++;
			}
			if (back)
				break;
			if (now > limit || stop_flag >= 2) {
				r->st.timeouts++;
				r->st.drops++;
				break;
			}
			if (!k && idle(r, true, &spins))
				return -EIO;
		}
		if (back) {
			gd_hist_add(&hist, now - t_send);
			rtts++;
		}
		/* keep TX slots available without interrupts */
		if (r->n->ntx_free < GD_NET_BURST_MAX && gd_net_tx_reclaim(r->n) < 0)
			return -EIO;
	}
	return 0;
}

static void print_json(struct run *r, double elapsed)
{
	const struct opts *o = r->o;
	struct gd_net *n = r->n;
	double secs = elapsed, pkts, bytes;
	u32 size = o->size;

	switch (o->mode) {
	case M_TXONLY:
		pkts = (double)r->st.tx, bytes = (double)r->st.tx_bytes;
		break;
	case M_PINGPONG:
		pkts = (double)hist.n, bytes = (double)hist.n * o->size;
		break;
	default:
		/* first to last received frame: the rate while frames flowed */
		if (r->st.rx > 1 && r->st.t_last > r->st.t_first)
			secs = (double)(r->st.t_last - r->st.t_first) / 1e9;
		pkts = (double)r->st.rx, bytes = (double)r->st.rx_bytes;
		if (r->st.rx)
			size = (u32)(r->st.rx_bytes / r->st.rx);	/* mean received */
		break;
	}
	if (secs <= 0)
		secs = 1e-9;
	printf("{\"tool\":\"vionet\",\"mode\":\"%s\",\"size\":%u,\"secs\":%u,"
	       "\"mpps\":%.3f,\"gbps\":%.3f,\"tx_pkts\":%llu,\"rx_pkts\":%llu,\"drops\":%llu",
	       mode_names[o->mode], size, o->secs, pkts / secs / 1e6,
	       bytes * 8 / secs / 1e9, (unsigned long long)r->st.tx,
	       (unsigned long long)r->st.rx,
	       (unsigned long long)(r->st.drops + n->rx_errors + n->tx_errors));
	if (o->mode == M_PINGPONG)
		printf(",\"p50_us\":%.1f,\"p99_us\":%.1f,\"rtts\":%llu,\"timeouts\":%llu",
		       gd_hist_pct(&hist, 50) / 1000.0, gd_hist_pct(&hist, 99) / 1000.0,
		       (unsigned long long)hist.n, (unsigned long long)r->st.timeouts);
	if (o->check)
		printf(",\"checked\":%llu,\"ours\":%llu,\"bad\":%llu,\"lost\":%llu,"
		       "\"reordered\":%llu,\"csum_ok\":%llu,\"csum_partial\":%llu",
		       (unsigned long long)r->st.checked,
		       (unsigned long long)r->st.ours, (unsigned long long)r->st.bad,
		       (unsigned long long)r->st.lost, (unsigned long long)r->st.reordered,
		       (unsigned long long)r->st.csum_ok, (unsigned long long)r->st.csum_partial);
	printf(",\"elapsed\":%.3f,\"poll\":%d,\"burst\":%u,\"rx_errors\":%llu,"
	       "\"tx_errors\":%llu,\"rx_merged\":%llu,\"tx_notifies\":%llu,"
	       "\"rx_refills\":%llu,\"rx_irqs\":%llu,\"tx_irqs\":%llu,\"mrg_rxbuf\":%d,"
	       "\"event_idx\":%d,\"indirect\":%d,\"mtu\":%u,"
	       "\"mac\":\"%02x:%02x:%02x:%02x:%02x:%02x\"}\n",
	       elapsed, o->poll, o->burst, (unsigned long long)n->rx_errors,
	       (unsigned long long)n->tx_errors, (unsigned long long)n->rx_merged,
	       (unsigned long long)n->tx_notifies, (unsigned long long)n->rx_refills,
	       (unsigned long long)(gd_net_irq_count(n, GD_NET_RX_Q) - n->rx_irq_seen),
	       (unsigned long long)(gd_net_irq_count(n, GD_NET_TX_Q) - n->tx_irq_seen),
	       n->mrg_rxbuf, n->event_idx, n->indirect, n->mtu, n->mac[0], n->mac[1],
	       n->mac[2], n->mac[3], n->mac[4], n->mac[5]);
}

int main(int argc, char **argv)
{
	struct gd_vu_transport vt;
	struct gd_net net;
	struct gd_net_opts no = { 0 };
	struct opts o;
	struct run r = { 0 };
	const u8 *src;
	int ret, err = 0;

	if (parse_args(argc, argv, &o)) {
		fprintf(stderr, "try 'vionet --help'\n");
		return EX_USAGE;
	}
	if (o.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(o.cpu, &set);
		if (sched_setaffinity(0, sizeof(set), &set)) {
			fprintf(stderr, "vionet: --cpu %d: %s\n", o.cpu, strerror(errno));
			return EX_USAGE;
		}
	}
	stream_id = (u32)(now_ns() ^ ((u64)getpid() << 16));
	ret = tool_connect("vionet", o.socket, MEM_BYTES,
			   o.hugetlb ? GD_VU_MEM_HUGETLB : 0, &vt);
	if (ret)
		return ret;
	no.queue_size = o.queue_size;
	no.features_mask = o.features_off;
	no.csum = o.csum;
	no.rx_buf_size = o.rx_buf;
	ret = gd_net_init(&net, &vt.t, &no);
	if (ret) {
		if (ret == -EOPNOTSUPP)
			fprintf(stderr, "vionet: the back-end refused our features "
				"(offered 0x%llx, asked 0x%llx)%s%s\n",
				(unsigned long long)net.vdev.dev_features,
				(unsigned long long)net.vdev.features,
				vt.err ? ": " : "", vt.err ? vt.err : "");
		else if (ret == -ENODEV)
			fprintf(stderr, "vionet: not a usable virtio 1.x device (features 0x%llx)\n",
				(unsigned long long)net.vdev.dev_features);
		else if (ret == -ENOENT)
			fprintf(stderr, "vionet: the back-end has no transmit queue "
				"(%u queue(s) reported)\n", vt.nr_queues);
		else if (ret == -EINVAL)
			fprintf(stderr, "vionet: --rx-buf %u needs MRG_RXBUF (not negotiated)"
				" or is out of range\n", o.rx_buf);
		else
			fprintf(stderr, "vionet: device setup failed: %s%s%s (%s)\n",
				strerror(-ret), vt.err ? " in " : "", vt.err ? vt.err : "",
				vt.err_no ? strerror(-vt.err_no) : "no detail");
		ret = EX_DEVICE;
		goto out;
	}
	if (o.size > net.max_frame) {
		fprintf(stderr, "vionet: --size %u is above the device's largest frame %u"
			" (MTU %u)\n", o.size, net.max_frame, net.mtu);
		ret = EX_DEVICE;
		goto out;
	}
	src = o.mac_set ? o.mac : net.mac;
	r.n = &net;
	r.o = &o;
	r.tpl = malloc((size_t)GD_NET_BURST_MAX * o.size);
	if (!r.tpl) {
		ret = EX_DEVICE;
		goto out;
	}
	if (o.csum && o.mode != M_RXONLY && !net.csum) {
		fprintf(stderr, "vionet: --csum: the back-end does not offer CSUM\n");
		ret = EX_DEVICE;
		goto out;
	}
	r.tx_flags = o.csum && o.mode != M_RXONLY ? GD_NET_F_NEEDS_CSUM : 0;
	for (unsigned int i = 0; i < GD_NET_BURST_MAX; i++)
		frame_build(r.tpl + (size_t)i * o.size, o.size, src, o.dst, r.tx_flags != 0);
	r.fsum = fill_sum(r.tpl + HDRS_LEN + TAG_LEN, o.size - HDRS_LEN - TAG_LEN);
	gd_net_set_poll(&net, o.poll);
	/* Tests wait for this line before starting a sender. */
	fprintf(stderr, "vionet: %s on %s: ready (features 0x%llx, mtu %u, rx buffers %u x %u B)\n",
		mode_names[o.mode], o.socket, (unsigned long long)net.vdev.features, net.mtu,
		net.rxq.vq.num, net.rx_buf_size);
	tool_catch_stop_signals();
	r.t0 = now_ns();
	r.deadline = r.t0 + (u64)o.secs * 1000000000ull;
	switch (o.mode) {
	case M_TXONLY:
		err = run_txonly(&r);
		break;
	case M_RXONLY:
		err = run_rxonly(&r);
		break;
	case M_FWD:
		err = run_fwd(&r);
		break;
	case M_PINGPONG:
		err = run_pingpong(&r);
		break;
	}
	{
		double elapsed = (double)(now_ns() - r.t0) / 1e9;
		int derr = 0;

		if (!err && (o.mode == M_TXONLY || o.mode == M_FWD || o.mode == M_PINGPONG))
			derr = tx_drain(&r);
		print_json(&r, elapsed);
		ret = EX_OK;
		if (err) {
			fprintf(stderr, "vionet: device failed during the run%s%s\n",
				vt.err ? ": " : "", vt.err ? vt.err : "");
			ret = EX_FAIL;
		} else if (derr) {
			ret = EX_FAIL;
		} else if (r.st.bad || r.st.reordered) {
			fprintf(stderr, "vionet: %llu bad frame(s), %llu out of order\n",
				(unsigned long long)r.st.bad, (unsigned long long)r.st.reordered);
			ret = EX_FAIL;
		} else if (o.mode == M_RXONLY && o.count && r.st.rx < o.count && !stop_flag) {
			fprintf(stderr, "vionet: received %llu of %llu frames in %u s\n",
				(unsigned long long)r.st.rx, (unsigned long long)o.count, o.secs);
			ret = EX_FAIL;
		} else if (o.mode == M_PINGPONG && !hist.n) {
			fprintf(stderr, "vionet: no frame came back\n");
			ret = EX_FAIL;
		}
	}
out:
	fflush(stdout);
	gd_net_destroy(&net);
	gd_vu_close(&vt);
	free(r.tpl);
	return ret;
}
