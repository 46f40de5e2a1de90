// SPDX-License-Identifier: MIT
/*
 * The "discard" port: what it reports (kind, MTU, frame limit, no offloads),
 * that it never receives and its fd never wakes anyone, that its buffers are
 * distinct, aligned and writable to their last byte, that a queue's buffers
 * run out (alloc takes what is left) and come back when sent or freed, that
 * every frame sent is counted per queue into the port's stats over many
 * rounds, and that a bad spec or queue count is refused.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <string.h>

#include <vhost-user/net.h>

#include "net_test.h"

static struct net_port *open_discard(u16 nq, u16 mtu)
{
	struct net_port_conf conf = { .spec = "discard", .nr_queues = nq, .mtu = mtu };
	struct net_port *p = NULL;
	char err[256];
	int r = net_port_open(&conf, &p, err, sizeof(err));

	if (r) {
		fprintf(stderr, "open discard: %s\n", err);
		exit(1);
	}
	return p;
}

static void test_props(void)
{
	struct net_port *p = open_discard(2, 0);
	struct net_port *j = open_discard(1, 9000);
	struct net_pkt pk[NET_BURST];
	struct pollfd pfd;
	unsigned int q;

	T_CHECK(!strcmp(net_spec_kind("discard"), "discard"));
	T_CHECK(!strcmp(p->ops->kind, "discard"));
	T_EQ(p->nr_queues, 2);
	T_EQ(p->mtu, 1500);
	T_EQ(p->max_frame, 1500 + NET_ETH_HLEN + NET_VLAN_HLEN);
	T_EQ(p->features, 0);
	T_EQ(j->mtu, 9000);
	T_EQ(j->max_frame, 9000 + NET_ETH_HLEN + NET_VLAN_HLEN);
	for (q = 0; q < 2; q++) {
		T_EQ(net_port_rx_burst(p, q, pk, NET_BURST), 0);
		pfd = (struct pollfd){ .fd = net_port_rx_fd(p, q), .events = POLLIN };
		T_CHECK(pfd.fd >= 0);
		T_EQ(poll(&pfd, 1, 0), 0);
	}
	net_port_close(j);
	net_port_close(p);
}

/* Buffers: distinct, aligned, the room they claim; a queue's run out. */
static void test_buffers(void)
{
	struct net_port *p = open_discard(2, 0);
	struct net_pkt a[NET_BURST], b[NET_BURST], c[NET_BURST], o[NET_BURST];
	struct net_port_stats st;
	unsigned int i, k, got;

	T_EQ(net_port_alloc(p, 0, a, NET_BURST), NET_BURST);
	T_EQ(net_port_alloc(p, 0, b, NET_BURST), NET_BURST);
	/* Two bursts in hand: queue 0 has none left, queue 1 all of its own. */
	T_EQ(net_port_alloc(p, 0, c, 1), 0);
	T_EQ(net_port_alloc(p, 1, o, NET_BURST), NET_BURST);
	for (i = 0; i < NET_BURST; i++) {
		T_EQ((uintptr_t)a[i].data % 64, 0);
		T_EQ(a[i].room, p->max_frame);
		T_EQ(a[i].len, 0);
		T_EQ(a[i].flags, 0);
		/* Whole room writable (ASan: no overlap, no overrun). */
		memset(a[i].data, 0xa5, a[i].room);
		memset(b[i].data, 0x5a, b[i].room);
		memset(o[i].data, 0x3c, o[i].room);
	}
	for (i = 0; i < NET_BURST; i++) {
		for (k = 0; k < NET_BURST; k++) {
			T_CHECK(a[i].data != b[k].data);
			T_CHECK(a[i].data != o[k].data);
			T_CHECK(k == i || a[i].data != a[k].data);
		}
		T_EQ(a[i].data[a[i].room - 1], 0xa5);
	}
	/* Freed ones come back, sent ones too; nothing is counted for a free. */
	net_port_free(p, 0, b, 5);
	got = net_port_alloc(p, 0, c, NET_BURST);
	T_EQ(got, 5);
	for (i = 0; i < NET_BURST; i++)
		a[i].len = 60 + i;
	T_EQ(net_port_tx_burst(p, 0, a, NET_BURST), NET_BURST);
	T_EQ(net_port_alloc(p, 0, a, NET_BURST), NET_BURST);
	T_EQ(net_port_stats(p, &st), 0);
	T_EQ(st.tx_packets, NET_BURST);
	T_EQ(st.tx_bytes, NET_BURST * 60 + NET_BURST * (NET_BURST - 1) / 2);
	T_EQ(st.rx_packets, 0);
	net_port_close(p);
}

/* Many rounds on both queues: nothing runs out, every frame is counted. */
static void test_rounds(void)
{
	struct net_port *p = open_discard(2, 0);
	struct net_pkt pk[NET_BURST];
	struct net_port_stats st;
	u64 want_pk = 0, want_b = 0;
	unsigned int r, q, i, got;

	for (r = 0; r < 10000; r++) {
		q = r % 2;
		got = net_port_alloc(p, q, pk, 1 + r % NET_BURST);
		T_EQ(got, 1 + r % NET_BURST);
		for (i = 0; i < got; i++) {
			pk[i].len = 14 + (r + i) % 1500;
			memset(pk[i].data, (int)r, pk[i].len);
		}
		/* Every third round, the last frame is handed back unsent. */
		if (r % 3 == 0 && got > 1) {
			net_port_free(p, q, pk + got - 1, 1);
			got--;
		}
		T_EQ(net_port_tx_burst(p, q, pk, got), got);
		want_pk += got;
		for (i = 0; i < got; i++)
			want_b += pk[i].len;
	}
	T_EQ(net_port_stats(p, &st), 0);
	T_EQ(st.tx_packets, want_pk);
	T_EQ(st.tx_bytes, want_b);
	T_EQ(st.rx_packets + st.rx_bytes + st.rx_missed + st.rx_errors + st.tx_errors +
	     st.rx_nombuf, 0);
	net_port_close(p);
}

static void test_bad_conf(void)
{
	struct net_port_conf conf = { .spec = "discard", .nr_queues = NET_MAX_QUEUES + 1 };
	struct net_port *p = (void *)1;
	char err[256];

	T_EQ(net_port_open(&conf, &p, err, sizeof(err)), -EINVAL);
	T_CHECK(p == NULL);
	T_CHECK(strstr(err, "queue pairs") != NULL);
	/* Only the exact word selects it; anything else is some other kind. */
	T_CHECK(strcmp(net_spec_kind("discard0"), "discard") != 0);
	T_CHECK(strcmp(net_spec_kind("discard,x=1"), "discard") != 0);
}

int main(void)
{
	test_props();
	test_buffers();
	test_rounds();
	test_bad_conf();
	return net_test_result("net_discard");
}
