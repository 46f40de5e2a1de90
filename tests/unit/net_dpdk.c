// SPDX-License-Identifier: MIT
/*
 * The DPDK ethdev port, without hugepages or PCI (--no-huge --no-pci), each
 * case in its own child process (the EAL initialises once per process) with
 * its own --file-prefix, whose runtime directory must be gone afterwards:
 *  - net_ring0 (TX lands on the same queue's RX): two queue pairs, a burst
 *    comes back on its own queue only, unchanged, in the same mbufs (no
 *    copy); a NEEDS_CSUM frame is finished in software (no hw offload);
 *    a registered non-EAL thread moves packets too; stats; a second DPDK
 *    port in the process is refused (-EBUSY);
 *  - net_null0: TX taken, RX produces packets;
 *  - a device that cannot be probed and a queue count above the device's
 *    maximum fail with a message naming the device.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <vhost-user/net.h>

#include "net_test.h"

static char prefix[64];

static struct net_port *open_dev(const char *spec, u16 nq, int *ret, char *err,
				 size_t errlen)
{
	struct net_port_conf conf = {
		.spec = spec, .nr_queues = nq, .queue_size = 256, .no_huge = true,
		.file_prefix = prefix, .eal_log_level = "error",
	};
	struct net_port *p = NULL;

	*ret = net_port_open(&conf, &p, err, errlen);
	return p;
}

static bool runtime_dir_gone(void)
{
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "/var/run/dpdk/%s", prefix);
	return stat(path, &st) != 0 && errno == ENOENT;
}

static void fill(struct net_pkt *pk, unsigned int n, u8 tag)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		memset(pk[i].data, tag, 60);
		pk[i].data[14] = (u8)i;
		pk[i].len = 60 + i;
	}
}

static void *thread_burst(void *arg)
{
	struct net_port *p = arg;
	struct net_pkt pk[8];
	unsigned int n;

	T_EQ(net_port_thread_init(p), 0);
	n = net_port_alloc(p, 0, pk, 8);
	T_EQ(n, 8);
	fill(pk, n, 0x33);
	T_EQ(net_port_tx_burst(p, 0, pk, n), 8);
	n = net_port_rx_burst(p, 0, pk, 8);
	T_EQ(n, 8);
	T_CHECK(n && pk[0].data[0] == 0x33);
	net_port_free(p, 0, pk, n);
	net_port_thread_fini(p);
	return NULL;
}

static int case_ring(void)
{
	struct net_pkt pk[NET_BURST], rx[NET_BURST];
	struct net_port_stats st;
	struct net_port *p;
	u8 *sent_data[NET_BURST];
	char err[256];
	unsigned int n, i;
	pthread_t t;
	int ret;

	p = open_dev("net_ring0", 2, &ret, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "net_ring0: %s\n", err);
		return 1;
	}
	T_CHECK(!strcmp(p->ops->kind, "dpdk"));
	T_CHECK(!strcmp(p->name, "net_ring0"));
	T_EQ(p->nr_queues, 2);
	T_CHECK(p->mtu >= 1500);
	T_CHECK(p->max_frame >= 1518);
	T_EQ(net_port_thread_init(p), 0);

	n = net_port_alloc(p, 1, pk, NET_BURST);
	T_EQ(n, NET_BURST);
	for (i = 0; i < n; i++) {
		T_CHECK(pk[i].room >= p->max_frame);
		sent_data[i] = pk[i].data;
	}
	fill(pk, n, 0xab);
	T_EQ(net_port_tx_burst(p, 1, pk, n), NET_BURST);
	T_EQ(net_port_rx_burst(p, 0, rx, NET_BURST), 0);
	n = net_port_rx_burst(p, 1, rx, NET_BURST);
	T_EQ(n, NET_BURST);
	for (i = 0; i < n; i++) {
		T_EQ(rx[i].len, 60 + i);
		T_EQ(rx[i].data[14], i);
		T_EQ(rx[i].data[0], 0xab);
		T_CHECK(rx[i].data == sent_data[i]);	/* the same mbuf */
	}
	net_port_free(p, 1, rx, n);

	/* NEEDS_CSUM on a device without TX checksum offload: software. */
	T_EQ(net_port_alloc(p, 0, pk, 1), 1);
	memset(pk[0].data, 0, 64);
	pk[0].data[12] = 0x08;
	pk[0].data[40] = 0x12;		/* pseudo-header sum stand-in */
	pk[0].data[50] = 0x01;
	pk[0].len = 64;
	pk[0].flags = NET_PKT_F_NEEDS_CSUM;
	pk[0].csum_start = 34;
	pk[0].csum_offset = 6;
	T_EQ(net_port_tx_burst(p, 0, pk, 1), 1);
	T_EQ(net_port_rx_burst(p, 0, rx, NET_BURST), 1);
	/* ~(0x1200 + 0x0100) = 0xecff, big-endian at 40..41 */
	T_EQ(rx[0].data[40], 0xec);
	T_EQ(rx[0].data[41], 0xff);
	net_port_free(p, 0, rx, 1);

	/* Threads come and go (queue restarts): lcore ids must be given back. */
	for (i = 0; i < 200; i++) {
		T_EQ(pthread_create(&t, NULL, thread_burst, p), 0);
		pthread_join(t, NULL);
	}

	T_EQ(net_port_stats(p, &st), 0);
	T_EQ(st.tx_packets, NET_BURST + 1 + 200 * 8);
	T_EQ(st.rx_packets, NET_BURST + 1 + 200 * 8);
	net_port_close(p);
	T_CHECK(runtime_dir_gone());

	/* The EAL cannot come back in this process: refused, clearly. */
	p = open_dev("net_ring1", 1, &ret, err, sizeof(err));
	T_CHECK(p == NULL);
	T_EQ(ret, -EBUSY);
	T_CHECK(strstr(err, "net_ring1") && strstr(err, "one DPDK port per process"));
	return net_test_result("net_dpdk ring");
}

static int case_null(void)
{
	struct net_pkt pk[NET_BURST];
	struct net_port *p;
	char err[256];
	unsigned int n;
	int ret;

	p = open_dev("net_null0", 1, &ret, err, sizeof(err));
	if (!p) {
		fprintf(stderr, "net_null0: %s\n", err);
		return 1;
	}
	n = net_port_alloc(p, 0, pk, NET_BURST);
	T_EQ(n, NET_BURST);
	fill(pk, n, 1);
	T_EQ(net_port_tx_burst(p, 0, pk, n), NET_BURST);
	n = net_port_rx_burst(p, 0, pk, NET_BURST);
	T_CHECK(n > 0);
	T_CHECK(n == 0 || pk[0].len > 0);
	net_port_free(p, 0, pk, n);
	net_port_close(p);
	T_CHECK(runtime_dir_gone());
	return net_test_result("net_dpdk null");
}

static int case_bad_dev(void)
{
	char err[256];
	int ret;

	T_CHECK(open_dev("net_af_packet0,iface=vp-no-such-if", 1, &ret, err, sizeof(err)) == NULL);
	T_CHECK(ret < 0);
	fprintf(stderr, "(expected) %s\n", err);
	T_CHECK(!strncmp(err, "net_af_packet0: ", 16) && strstr(err, "failed"));
	T_CHECK(runtime_dir_gone());
	return net_test_result("net_dpdk bad device");
}

static int case_queues(void)
{
	char err[256];
	int ret;

	/* net_ring has 16 queue pairs at most. */
	T_CHECK(open_dev("net_ring0", 17, &ret, err, sizeof(err)) == NULL);
	fprintf(stderr, "(expected) %s\n", err);
	T_EQ(ret, -EINVAL);
	T_CHECK(strstr(err, "net_ring0: 17 queue pairs requested"));
	T_CHECK(runtime_dir_gone());
	return net_test_result("net_dpdk queues");
}

int main(void)
{
	int (*cases[])(void) = { case_ring, case_null, case_bad_dev, case_queues };
	const char *names[] = { "ring", "null", "bad_dev", "queues" };
	pid_t pids[4];
	unsigned int i;
	int fails = 0;

	if (!net_have_dpdk())
		T_SKIP("net_dpdk: built without libdpdk (pkg-config libdpdk not found)");
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		pids[i] = fork();
		if (pids[i] == 0) {
			snprintf(prefix, sizeof(prefix), "vp-net-test-%d", (int)getpid());
			_exit(cases[i]());
		}
		if (pids[i] < 0) {
			perror("fork");
			return 1;
		}
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		int st;
		char path[128];

		if (waitpid(pids[i], &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "net_dpdk: case %s failed (status 0x%x)\n", names[i], st);
			fails++;
		}
		/* Whatever happened, leave no runtime directory behind. */
		snprintf(path, sizeof(path), "rm -rf /var/run/dpdk/vp-net-test-%d", (int)pids[i]);
		if (system(path))
			fails++;
	}
	if (fails)
		return 1;
	fprintf(stderr, "net_dpdk: all cases passed\n");
	return 0;
}
