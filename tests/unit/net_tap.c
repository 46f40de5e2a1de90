// SPDX-License-Identifier: MIT
/*
 * The "tap:NAME" port against the real kernel, inside a network namespace
 * this test creates (ip netns add vp-test-<pid>) and deletes:
 *  - an ARP request sent through the port is answered by the kernel;
 *  - a UDP frame sent with NEEDS_CSUM and only the pseudo-header sum in the
 *    checksum field reaches a UDP socket (the vnet header is honoured);
 *  - with GUEST_CSUM set through set_offloads() the kernel hands us a
 *    partial-checksum frame (NEEDS_CSUM, csum_start at the UDP header),
 *    without it a complete checksum;
 *  - MTU, MAC, rx_fd, stats.
 * Skips (77) when not root or when netns/tap creation is not permitted.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdarg.h>
#include <sched.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vhost-user/net.h>

#include "net_test.h"

static char ns_name[64];
static int orig_ns = -1;
static struct net_port *port;
static const u8 our_mac[6] = { 0x02, 0x00, 0x00, 0x00, 0x77, 0x02 };

static int run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int run(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup(void)
{
	if (port) {
		net_port_close(port);
		port = NULL;
	}
	if (orig_ns >= 0) {
		setns(orig_ns, CLONE_NEWNET);
		close(orig_ns);
		orig_ns = -1;
	}
	if (ns_name[0]) {
		run("ip netns del %s 2>/dev/null", ns_name);
		ns_name[0] = 0;
	}
}

static void enter_netns(void)
{
	char path[128];
	int fd;

	if (geteuid() != 0)
		T_SKIP("net_tap: needs root (netns and tap creation)");
	if (access("/dev/net/tun", R_OK | W_OK))
		T_SKIP("net_tap: /dev/net/tun not available: %s", strerror(errno));
	snprintf(ns_name, sizeof(ns_name), "vp-test-%d", (int)getpid());
	if (run("ip netns add %s 2>/dev/null", ns_name)) {
		ns_name[0] = 0;
		T_SKIP("net_tap: 'ip netns add' not permitted here");
	}
	atexit(cleanup);
	orig_ns = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/var/run/netns/%s", ns_name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (orig_ns < 0 || fd < 0 || setns(fd, CLONE_NEWNET)) {
		if (fd >= 0)
			close(fd);
		T_SKIP("net_tap: cannot enter netns %s: %s", ns_name, strerror(errno));
	}
	close(fd);
}

/* Wait (bounded) for a frame matching @want on queue 0; copies it out. */
static int wait_frame(bool (*want)(const struct net_pkt *), struct net_pkt *out,
		      u8 *copy, size_t max)
{
	struct pollfd pfd = { .fd = net_port_rx_fd(port, 0), .events = POLLIN };
	struct net_pkt pk[NET_BURST];
	int tries;

	for (tries = 0; tries < 50; tries++) {
		unsigned int n = net_port_rx_burst(port, 0, pk, NET_BURST), i;
		int found = -1;

		for (i = 0; i < n; i++)
			if (found < 0 && want(&pk[i]))
				found = i;
		if (found >= 0) {
			*out = pk[found];
			memcpy(copy, pk[found].data, pk[found].len < max ? pk[found].len : max);
			out->data = copy;
		}
		net_port_free(port, 0, pk, n);
		if (found >= 0)
			return 0;
		if (!n && poll(&pfd, 1, 100) < 0)
			return -errno;
	}
	return -ETIMEDOUT;
}

static bool is_arp_reply(const struct net_pkt *p)
{
	return p->len >= 42 && p->data[12] == 0x08 && p->data[13] == 0x06 &&
		p->data[21] == 2;
}

static bool is_udp_to_us(const struct net_pkt *p)
{
	return p->len >= 42 && p->data[12] == 0x08 && p->data[13] == 0x00 &&
		p->data[23] == 17 && !memcmp(p->data + 30, "\x0a\x4d\x00\x02", 4);
}

static unsigned int tx(const u8 *frame, size_t len, const struct net_pkt *meta)
{
	struct net_pkt pk;
	unsigned int sent;

	T_EQ(net_port_alloc(port, 0, &pk, 1), 1);
	T_CHECK(pk.room >= len);
	memcpy(pk.data, frame, len);
	pk.len = len;
	if (meta) {
		pk.flags = meta->flags;
		pk.csum_start = meta->csum_start;
		pk.csum_offset = meta->csum_offset;
	}
	sent = net_port_tx_burst(port, 0, &pk, 1);
	net_port_free(port, 0, &pk, 1 - sent);
	return sent;
}

static void test_arp(void)
{
	u8 f[60] = {}, got[128];
	struct net_pkt reply;

	memset(f, 0xff, 6);
	memcpy(f + 6, our_mac, 6);
	f[12] = 0x08; f[13] = 0x06;			/* ARP */
	f[14] = 0; f[15] = 1; f[16] = 0x08; f[17] = 0; f[18] = 6; f[19] = 4;
	f[21] = 1;					/* request */
	memcpy(f + 22, our_mac, 6);
	memcpy(f + 28, "\x0a\x4d\x00\x02", 4);		/* 10.77.0.2 */
	memcpy(f + 38, "\x0a\x4d\x00\x01", 4);		/* who has 10.77.0.1 */
	T_EQ(tx(f, sizeof(f), NULL), 1);
	T_EQ(wait_frame(is_arp_reply, &reply, got, sizeof(got)), 0);
	T_CHECK(!memcmp(got, our_mac, 6));
	T_CHECK(!memcmp(got + 22, port->mac, 6));	/* the tap's MAC */
	T_CHECK(!memcmp(got + 28, "\x0a\x4d\x00\x01", 4));
}

static void udp_frame(u8 *f, size_t plen, u16 *pseudo)
{
	size_t ulen = 8 + plen, i;
	u32 sum = 0;
	u16 v;

	memset(f, 0, 42);
	memcpy(f, port->mac, 6);
	memcpy(f + 6, our_mac, 6);
	f[12] = 0x08;
	f[14] = 0x45;
	v = htons(20 + ulen);
	memcpy(f + 16, &v, 2);
	f[22] = 64;
	f[23] = 17;
	memcpy(f + 26, "\x0a\x4d\x00\x02\x0a\x4d\x00\x01", 8);
	for (i = 14; i < 34; i += 2)			/* IPv4 header checksum */
		sum += (u32)f[i] << 8 | f[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	v = htons(~sum & 0xffff);
	memcpy(f + 24, &v, 2);
	v = htons(4321);
	memcpy(f + 34, &v, 2);
	v = htons(5555);
	memcpy(f + 36, &v, 2);
	v = htons(ulen);
	memcpy(f + 38, &v, 2);
	for (i = 0; i < plen; i++)
		f[42 + i] = (u8)('a' + i % 26);
	sum = 0;
	for (i = 26; i < 34; i += 2)
		sum += (u32)f[i] << 8 | f[i + 1];
	sum += 17 + ulen;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	*pseudo = (u16)sum;
}

static void test_udp(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(5555) };
	struct sockaddr_in b = { .sin_family = AF_INET, .sin_port = htons(4321) };
	struct timeval tv = { .tv_sec = 5 };
	struct net_pkt meta = { .flags = NET_PKT_F_NEEDS_CSUM, .csum_start = 34,
				.csum_offset = 6 };
	struct net_pkt got;
	u8 f[200], buf[200], copy[2048];
	u16 pseudo, be;
	ssize_t r;
	int s;

	inet_pton(AF_INET, "10.77.0.1", &a.sin_addr);
	inet_pton(AF_INET, "10.77.0.2", &b.sin_addr);
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	T_CHECK(s >= 0);
	T_EQ(bind(s, (void *)&a, sizeof(a)), 0);
	setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));

	/* Guest -> kernel, partial checksum: the kernel takes it as is. */
	udp_frame(f, 100, &pseudo);
	be = htons(pseudo);
	memcpy(f + 40, &be, 2);
	T_EQ(tx(f, 142, &meta), 1);
	r = recv(s, buf, sizeof(buf), 0);
	T_EQ(r, 100);
	T_CHECK(r == 100 && !memcmp(buf, f + 42, 100));

	/* Kernel -> guest with GUEST_CSUM: a partial checksum comes out. */
	T_EQ(net_port_set_offloads(port, 1ULL << VIRTIO_NET_F_GUEST_CSUM), 0);
	T_EQ(sendto(s, "hello-partial", 13, 0, (void *)&b, sizeof(b)), 13);
	T_EQ(wait_frame(is_udp_to_us, &got, copy, sizeof(copy)), 0);
	T_EQ(got.len, 42 + 13);
	T_CHECK(got.flags & NET_PKT_F_NEEDS_CSUM);
	T_EQ(got.csum_start, 34);
	T_EQ(got.csum_offset, 6);
	/* What net_rx_begin() does for a guest without GUEST_CSUM. */
	T_EQ(net_csum_finish(&got), 0);
	memcpy(&be, copy + 40, 2);
	T_CHECK(be != 0);

	/* Without it: a complete checksum, no flag. */
	T_EQ(net_port_set_offloads(port, 0), 0);
	T_EQ(sendto(s, "hello-full", 10, 0, (void *)&b, sizeof(b)), 10);
	T_EQ(wait_frame(is_udp_to_us, &got, copy + 1024, 1024), 0);
	T_EQ(got.len, 42 + 10);
	T_EQ(got.flags & NET_PKT_F_NEEDS_CSUM, 0);
	close(s);
}

int main(void)
{
	struct net_port_conf conf = { .spec = "tap:vptap0", .mtu = 1400 };
	struct net_port_stats st;
	char err[256];
	int r;

	enter_netns();
	r = net_port_open(&conf, &port, err, sizeof(err));
	if (r == -EPERM || r == -EACCES)
		T_SKIP("net_tap: tap creation not permitted: %s", err);
	if (r) {
		fprintf(stderr, "net_tap: open failed: %s\n", err);
		return 1;
	}
	T_CHECK(!strcmp(port->ops->kind, "tap"));
	T_CHECK(!strcmp(port->name, "tap:vptap0"));
	T_EQ(port->mtu, 1400);
	T_CHECK(net_port_rx_fd(port, 0) >= 0);
	T_EQ(run("ip addr add 10.77.0.1/24 dev vptap0"), 0);
	T_EQ(run("ip neigh add 10.77.0.2 lladdr 02:00:00:00:77:02 dev vptap0"), 0);

	test_arp();
	test_udp();

	T_EQ(net_port_stats(port, &st), 0);
	T_EQ(st.tx_packets, 2);
	T_CHECK(st.rx_packets >= 3);

	/* A name that is too long is refused with a clear message. */
	{
		struct net_port_conf c2 = { .spec = "tap:0123456789abcdefXYZ" };
		struct net_port *p2 = NULL;

		T_EQ(net_port_open(&c2, &p2, err, sizeof(err)), -EINVAL);
		T_CHECK(strstr(err, "tap:0123456789abcdefXYZ"));
	}
	cleanup();
	{
		struct stat sb;

		snprintf(err, sizeof(err), "/var/run/netns/vp-test-%d", (int)getpid());
		T_CHECK(stat(err, &sb) != 0);
	}
	return net_test_result("net_tap");
}
