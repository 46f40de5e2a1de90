// SPDX-License-Identifier: MIT
/*
 * The "loop" port: one side (a queue's TX comes back on its own RX, in
 * order, metadata kept, no copy), two sides (queue q of side 0 <-> queue q of
 * side 1, both ways, nothing crosses to other queues), a full RX ring
 * (tx_burst takes a prefix, the rest stays the caller's), pool exhaustion
 * and buffer recycling over many rounds, a two-thread run (side 0 and side 1
 * on different threads, checking sequence numbers), waking a sleeping
 * receiver (rx_fd, rx_arm), stats, bad config.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <string.h>

#include <vhost-user/net.h>

#include "net_test.h"

static struct net_port *open_loop(u16 nq, u8 sides, u16 qsize)
{
	struct net_port_conf conf = {
		.spec = "loop", .nr_queues = nq, .loop_sides = sides, .queue_size = qsize,
	};
	struct net_port *p = NULL;
	char err[256];
	int r = net_port_open(&conf, &p, err, sizeof(err));

	if (r) {
		fprintf(stderr, "open loop: %s\n", err);
		exit(1);
	}
	return p;
}

/* Put @n frames of @len bytes tagged (queue, seq) on queue q. */
static unsigned int tsend(struct net_port *p, u16 q, u32 seq, unsigned int n, u32 len)
{
	struct net_pkt pk[NET_BURST];
	unsigned int got, i, sent;

	got = net_port_alloc(p, q, pk, n);
	for (i = 0; i < got; i++) {
		memset(pk[i].data, 0, 14);
		pk[i].data[0] = (u8)q;
		memcpy(pk[i].data + 1, &(u32){ seq + i }, 4);
		pk[i].len = len;
		pk[i].flags = NET_PKT_F_NEEDS_CSUM;
		pk[i].csum_start = 20;
		pk[i].csum_offset = (u16)(seq + i);
	}
	sent = net_port_tx_burst(p, q, pk, got);
	net_port_free(p, q, pk + sent, got - sent);
	return sent;
}

/* Receive everything on q, checking origin queue and consecutive seq. */
static unsigned int drain(struct net_port *p, u16 q, u16 from, u32 *seq, u32 len)
{
	struct net_pkt pk[NET_BURST];
	unsigned int got, i, total = 0;

	while ((got = net_port_rx_burst(p, q, pk, NET_BURST))) {
		for (i = 0; i < got; i++) {
			u32 s;

			memcpy(&s, pk[i].data + 1, 4);
			T_EQ(pk[i].data[0], from);
			T_EQ(s, *seq);
			T_EQ(pk[i].len, len);
			T_EQ(pk[i].flags, NET_PKT_F_NEEDS_CSUM);
			T_EQ(pk[i].csum_offset, (u16)*seq);
			(*seq)++;
		}
		net_port_free(p, q, pk, got);
		total += got;
	}
	return total;
}

static void test_one_side(void)
{
	struct net_port *p = open_loop(2, 1, 64);
	struct net_port_stats st;
	u32 seq = 0, rseq = 0;
	unsigned int round, n;

	T_CHECK(!strcmp(p->ops->kind, "loop"));
	T_EQ(p->nr_queues, 2);
	T_EQ(p->mtu, 1500);
	T_CHECK(p->max_frame >= 1518);
	T_CHECK(p->features & (1ULL << VIRTIO_NET_F_CSUM));
	/* Many rounds: buffers must come back to the pool. */
	for (round = 0; round < 1000; round++) {
		n = tsend(p, 0, seq, NET_BURST, 60 + round);
		T_EQ(n, NET_BURST);
		seq += n;
		T_EQ(drain(p, 0, 0, &rseq, 60 + round), NET_BURST);
		T_EQ(drain(p, 1, 0, &(u32){ 0 }, 0), 0);	/* nothing on queue 1 */
	}
	/* Fill the 64-entry ring: the third burst is only partly taken. */
	seq = rseq = 0;
	T_EQ(tsend(p, 1, seq, 32, 100), 32);
	T_EQ(tsend(p, 1, seq + 32, 32, 100), 32);
	T_EQ(tsend(p, 1, seq + 64, 32, 100), 0);
	T_EQ(drain(p, 1, 1, &rseq, 100), 64);
	T_EQ(net_port_stats(p, &st), 0);
	T_EQ(st.tx_packets, 1000 * NET_BURST + 64);
	T_EQ(st.rx_packets, 1000 * NET_BURST + 64);
	net_port_close(p);
}

static void test_pool(void)
{
	struct net_port *p = open_loop(1, 1, 64);
	struct net_pkt held[1024];
	unsigned int n = 0, got;

	/* Allocate without sending until the pool is dry, then give it all back. */
	while ((got = net_port_alloc(p, 0, held + n, NET_BURST)) && n < 1000)
		n += got;
	T_CHECK(n >= 64 + NET_BURST && n < 1000);
	T_EQ(net_port_alloc(p, 0, held + n, 1), 0);
	net_port_free(p, 0, held, n);
	T_EQ(net_port_alloc(p, 0, held, NET_BURST), NET_BURST);
	net_port_free(p, 0, held, NET_BURST);
	net_port_close(p);
}

static void test_two_sides(void)
{
	struct net_port *p = open_loop(4, 2, 0);
	u32 r = 0;
	unsigned int q;

	/* queue q <-> queue q + 2 */
	for (q = 0; q < 4; q++) {
		T_EQ(tsend(p, q, 100 * q, 5, 64), 5);
	}
	for (q = 0; q < 4; q++) {
		r = 100 * ((q + 2) % 4);
		T_EQ(drain(p, q, (q + 2) % 4, &r, 64), 5);
	}
	net_port_close(p);
}

#define THREAD_PKTS 200000

struct side {
	struct net_port *p;
	u16 q, peer;
	unsigned int sent, recvd;
};

/* Each side sends THREAD_PKTS and receives the other's, in order. */
static void *side_run(void *arg)
{
	struct side *s = arg;
	u32 rseq = 0;

	while (s->sent < THREAD_PKTS || s->recvd < THREAD_PKTS) {
		unsigned int n = THREAD_PKTS - s->sent;

		if (n > NET_BURST)
			n = NET_BURST;
		if (n)
			s->sent += tsend(s->p, s->q, s->sent, n, 64);
		s->recvd += drain(s->p, s->q, s->peer, &rseq, 64);
	}
	return NULL;
}

static void test_threads(void)
{
	struct net_port *p = open_loop(2, 2, 128);
	struct side s[2] = { { p, 0, 1, 0, 0 }, { p, 1, 0, 0, 0 } };
	pthread_t t;

	T_EQ(pthread_create(&t, NULL, side_run, &s[1]), 0);
	side_run(&s[0]);
	pthread_join(t, NULL);
	T_EQ(s[0].recvd, THREAD_PKTS);
	T_EQ(s[1].recvd, THREAD_PKTS);
	net_port_close(p);
}

/* A sleeping receiver is woken by the sender (rx_fd + rx_arm). */
static void test_wakeup(void)
{
	struct net_port *p = open_loop(2, 2, 64);
	struct pollfd pfd = { .fd = net_port_rx_fd(p, 1), .events = POLLIN };
	u32 r = 0;

	T_CHECK(pfd.fd >= 0);
	/* Armed on an empty ring: nothing to read, fd quiet. */
	T_CHECK(!net_port_rx_arm(p, 1));
	T_EQ(poll(&pfd, 1, 0), 0);
	/* The peer sends: the fd becomes readable. */
	T_EQ(tsend(p, 0, 0, 3, 64), 3);
	T_EQ(poll(&pfd, 1, 0), 1);
	/* Arming again resets the fd but says frames are waiting. */
	T_CHECK(net_port_rx_arm(p, 1));
	T_EQ(poll(&pfd, 1, 0), 0);
	T_EQ(drain(p, 1, 0, &r, 64), 3);
	/* Not armed: the sender does not signal (no syscall per burst). */
	T_EQ(tsend(p, 0, 3, 2, 64), 2);
	T_EQ(poll(&pfd, 1, 0), 0);
	T_EQ(drain(p, 1, 0, &r, 64), 2);
	net_port_close(p);
}

static void test_bad_conf(void)
{
	struct net_port_conf conf = { .spec = "loop", .nr_queues = 3, .loop_sides = 2 };
	struct net_port *p = (void *)1;
	char err[256];

	T_EQ(net_port_open(&conf, &p, err, sizeof(err)), -EINVAL);
	T_CHECK(p == NULL);
	T_CHECK(strstr(err, "loop:"));
	conf.loop_sides = 3;
	conf.nr_queues = 2;
	T_EQ(net_port_open(&conf, &p, err, sizeof(err)), -EINVAL);
	conf = (struct net_port_conf){ .spec = "loop", .nr_queues = NET_MAX_QUEUES + 1 };
	T_EQ(net_port_open(&conf, &p, err, sizeof(err)), -EINVAL);
	conf = (struct net_port_conf){ .spec = "" };
	T_EQ(net_port_open(&conf, &p, err, sizeof(err)), -EINVAL);
	T_CHECK(!strcmp(net_spec_kind("loop"), "loop"));
	T_CHECK(!strcmp(net_spec_kind("tap:x"), "tap"));
	T_CHECK(!strcmp(net_spec_kind("net_null0"), "dpdk"));
}

int main(void)
{
	test_one_side();
	test_pool();
	test_two_sides();
	test_threads();
	test_wakeup();
	test_bad_conf();
	return net_test_result("net_loop");
}
