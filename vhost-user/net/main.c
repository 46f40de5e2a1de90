// SPDX-License-Identifier: MIT
/*
 * vhost-user-net: a vhost-user net back-end.
 *
 *   vhost-user-net --socket PATH [--socket PATH2 ...] --port SPEC
 *                  [--queues N] [--poll] [--lcores LIST] [--mac MAC]
 *                  [--mtu N] [--no-huge]
 *
 * SPEC: a DPDK device string (net_tap0,iface=vtap0, net_af_packet0,iface=
 * veth0, net_af_xdp0,iface=veth0, net_ring0, net_null0, a PCI address),
 * tap:NAME for a kernel tap, loop (each socket's TX back to its RX; with
 * two sockets, each one's TX to the other's RX), or discard (a sink).
 * Socket s uses port queues s*N .. s*N+N-1.  LIST is a CPU list ("1", "0,1", "2-3"): queue pair k of
 * all sockets runs on the k-th CPU of it (round robin); DPDK's EAL gets it as
 * --lcores 0@(LIST).
 *
 * The main thread runs the vhost-user control plane for every socket (one
 * epoll); each queue pair has its own data-path thread.  Counters are printed
 * as one JSON line per socket on stdout on SIGUSR1 and at exit (SIGINT,
 * SIGTERM).  Log lines go to stderr.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>

#include "internal.h"

static void usage(FILE *f)
{
	fputs(
"NAME\n"
"    vhost-user-net - vhost-user virtio-net back-end for NFV packet processing\n"
"\n"
"SYNOPSIS\n"
"    vhost-user-net --socket PATH [--socket PATH ...] --port SPEC [--queues N]\n"
"                   [--poll] [--lcores CPULIST] [--mac MAC] [--mtu N] [--no-huge]\n"
"                   [--tx-flush auto|on|off] [--rx-prefetch auto|on|off]\n"
"    vhost-user-net --help\n"
"\n"
"DESCRIPTION\n"
"    Listens on each unix socket PATH (up to 8) and moves packets between the\n"
"    virtio-net queues of the front-end connected there (QEMU, vmm, DPDK's\n"
"    virtio_user, vionet) and a port.  The virtqueue and vhost-user work is\n"
"    vioplane's own; DPDK supplies only the EAL, mempools and ethdev ports.\n"
"    Features: VERSION_1, MRG_RXBUF, EVENT_IDX, INDIRECT_DESC, IN_ORDER, MQ (a\n"
"    queue pair per thread), CSUM/GUEST_CSUM passed through, STATUS, MTU.\n"
"    Packets move in bursts of 32 with batched used-ring updates.  A frame\n"
"    larger than the port's MTU, or a malformed chain, is dropped and counted\n"
"    by reason, never truncated; a corrupted ring stops only its queue.  A\n"
"    front-end that goes away leaves the socket ready for the next one.\n"
"\n"
"PORTS (SPEC)\n"
"    loop            software loop: with one socket its TX comes back on its\n"
"                    RX; with two, each socket's TX goes to the other's RX\n"
"                    (a two-VM switch).  No DPDK.\n"
"    discard         a sink: every frame the guests send is checked, copied\n"
"                    out and dropped (counted as sent), and nothing is ever\n"
"                    received.  Measures a guest's transmit rate, or this\n"
"                    program's own cost per frame.  No DPDK.\n"
"    tap:NAME        a kernel tap interface (IFF_VNET_HDR, offloads as\n"
"                    negotiated), created if missing.  No DPDK.\n"
"    net_null0, net_ring0, net_tap0,iface=X, net_af_packet0,iface=X,\n"
"    net_af_xdp0,iface=X\n"
"                    a DPDK virtual device handed to the EAL as --vdev\n"
"    DDDD:BB:DD.F    a PCI NIC bound to a DPDK-capable driver\n"
"\n"
"OPTIONS\n"
"    --socket PATH   vhost-user socket to listen on (repeatable, required)\n"
"    --port SPEC     the port (required, see above)\n"
"    --queues N      queue pairs per socket, 1..64 (1); N > 1 offers MQ\n"
"    --poll          busy-poll the rings and the port (lowest latency, one\n"
"                    core per thread); default: sleep on kicks when idle\n"
"    --lcores LIST   CPUs for the data-path threads, e.g. 1 or 0,2-3\n"
"    --mac MAC       MAC address reported in the device config\n"
"    --mtu N         MTU reported to the guest and enforced, 68..65535 (1500)\n"
"    --no-huge       run DPDK without hugepages.  Without it, hugepages are\n"
"                    used when enough are free and a hugetlbfs of their size\n"
"                    is mounted; otherwise ordinary pages, with a log line\n"
"                    saying why.\n"
"    --tx-flush auto|on|off\n"
"                    once a guest TX frame is copied out, flush its cache\n"
"                    lines from every cache, so the guest's next write into\n"
"                    that buffer does not wait for this core to give them\n"
"                    up.  Worth 10-35% of a small-packet guest's TX rate\n"
"                    when its vCPU and this thread are far apart (other\n"
"                    CCX or socket), a loss of up to 40% when they share a\n"
"                    cache.  auto (default): each queue pair measures both\n"
"                    ways on its own traffic, keeps the faster, and measures\n"
"                    again every 256 x 64 Ki packets or when its rate\n"
"                    moves (counters: \"tx_flush\" in the JSON).  x86 with\n"
"                    CLFLUSHOPT only; elsewhere auto means off.\n"
"    --rx-prefetch auto|on|off\n"
"                    before filling a burst of guest RX buffers, read their\n"
"                    descriptors and prefetch the buffers' first lines, so\n"
"                    the cache misses overlap.  Measured on one host: 8%\n"
"                    more 1500-byte frames, 7% fewer 64-byte ones.  auto\n"
"                    (default): measured per queue pair like --tx-flush\n"
"                    (counters: \"rx_prefetch\" in the JSON).\n"
"    -h, --help      this text\n"
"\n"
"SIGNALS\n"
"    SIGUSR1         print per-queue counters (rx, tx, bursts, drops by\n"
"                    reason) as JSON on stdout; packets / bursts is the\n"
"                    average batch a round moved; busy_ns / idle_ns:\n"
"                    the thread's time in rounds that moved packets and in\n"
"                    rounds that found none (not counting sleep)\n"
"    SIGINT, SIGTERM print the counters, remove the sockets, exit 0\n"
"\n"
"EXIT STATUS\n"
"    0 stopped by a signal; 1 a port or socket could not be set up; 2 usage.\n",
	      f);
}

static int die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "vhost-user-net: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see vhost-user-net --help)\n");
	return 2;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *end || v > max || *s == '-')
		return false;
	*out = v;
	return true;
}

/* "0,2-3" -> cpus[] */
static bool parse_cpus(const char *s, int *cpus, unsigned int max, unsigned int *n)
{
	const char *p = s;

	*n = 0;
	while (*p) {
		char *end;
		long a = strtol(p, &end, 10), b;

		if (end == p || a < 0 || a >= CPU_SETSIZE)
			return false;
		b = a;
		p = end;
		if (*p == '-') {
			b = strtol(p + 1, &end, 10);
			if (end == p + 1 || b < a || b >= CPU_SETSIZE)
				return false;
			p = end;
		}
		for (; a <= b; a++) {
			if (*n == max)
				return false;
			cpus[(*n)++] = (int)a;
		}
		if (*p == ',')
			p++;
		else if (*p)
			return false;
	}
	return *n > 0;
}

static bool parse_mac(const char *s, u8 *mac)
{
	unsigned int b[6], i;
	int n = 0;

	if (sscanf(s, "%x:%x:%x:%x:%x:%x%n", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
		   &n) != 6 || s[n])
		return false;
	for (i = 0; i < 6; i++) {
		if (b[i] > 255)
			return false;
		mac[i] = (u8)b[i];
	}
	return true;
}

static struct vun app;

static void print_stats(void)
{
	unsigned int i;

	for (i = 0; i < app.nr_dev; i++)
		vun_dev_stats_json(&app.dev[i], stdout);
}

static int ep_set(int ep, int op, int fd, u64 tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(ep, op, fd, &ev);
}

/* Keep the epoll registration in step with the device's connection fd. */
static void track_conn(int ep, struct vun_dev *d, unsigned int i)
{
	int fd = vhu_dev_conn_fd(d->vhu);

	if (fd == d->conn_fd)
		return;
	if (d->conn_fd >= 0)
		epoll_ctl(ep, EPOLL_CTL_DEL, d->conn_fd, NULL);	/* may be closed */
	d->conn_fd = -1;
	if (fd >= 0 && ep_set(ep, EPOLL_CTL_ADD, fd, 0x200 + i) == 0)
		d->conn_fd = fd;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "port", required_argument, NULL, 'p' },
		{ "queues", required_argument, NULL, 'q' },
		{ "poll", no_argument, NULL, 'P' },
		{ "lcores", required_argument, NULL, 'l' },
		{ "mac", required_argument, NULL, 'm' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "no-huge", no_argument, NULL, 'H' },
		{ "tx-flush", required_argument, NULL, 'F' },
		{ "rx-prefetch", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *sockets[VUN_MAX_SOCKETS], *lcores = NULL;
	struct net_port_conf conf = { 0 };
	unsigned long queues = 1, mtu = 0;
	unsigned int nsock = 0, i;
	char err[512], eal_lcores[600];
	sigset_t sigs;
	int c, r, ep = -1, sfd = -1, rc = 1;
	bool quit = false;

	app.tx_flush = NET_TUNE_AUTO;
	app.rx_prefetch = NET_TUNE_AUTO;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (nsock == VUN_MAX_SOCKETS)
				return die_usage("at most 8 --socket (got more: %s)", optarg);
			sockets[nsock++] = optarg;
			break;
		case 'p':
			conf.spec = optarg;
			break;
		case 'q':
			if (!parse_uint(optarg, NET_MAX_QUEUES, &queues) || !queues)
				return die_usage("--queues: 1..64 expected, not '%s'", optarg);
			break;
		case 'P':
			app.poll = true;
			break;
		case 'l':
			lcores = optarg;
			if (!parse_cpus(optarg, app.cpus, ARRAY_SIZE(app.cpus), &app.nr_cpus))
				return die_usage("--lcores: a CPU list like 0,2-3 expected, not '%s'",
						 optarg);
			break;
		case 'm':
			if (!parse_mac(optarg, app.mac))
				return die_usage("--mac: aa:bb:cc:dd:ee:ff expected, not '%s'", optarg);
			app.has_mac = true;
			break;
		case 'M':
			if (!parse_uint(optarg, 65535, &mtu) || mtu < 68)
				return die_usage("--mtu: 68..65535 expected, not '%s'", optarg);
			break;
		case 'H':
			conf.no_huge = true;
			break;
		case 'F':
			if (!net_tune_parse(optarg, &app.tx_flush))
				return die_usage("--tx-flush: auto, on or off expected, not '%s'", optarg);
			if (app.tx_flush == NET_TUNE_ON && !net_flush_lines_supported())
				return die_usage("--tx-flush=%s: this CPU has no CLFLUSHOPT", optarg);
			break;
		case 'R':
			if (!net_tune_parse(optarg, &app.rx_prefetch))
				return die_usage("--rx-prefetch: auto, on or off expected, not '%s'",
						 optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			/* getopt already said which option; point at the manual */
			fprintf(stderr, "vhost-user-net: see vhost-user-net --help\n");
			return 2;
		}
	}
	if (app.tx_flush == NET_TUNE_AUTO && !net_flush_lines_supported())
		app.tx_flush = NET_TUNE_OFF;	/* nothing to choose between */
	if (optind < argc)
		return die_usage("unexpected argument '%s'", argv[optind]);
	if (!nsock)
		return die_usage("%s", "--socket PATH is required");
	if (!conf.spec)
		return die_usage("%s", "--port SPEC is required");
	if (nsock * queues > NET_MAX_QUEUES)
		return die_usage("%s", "sockets x queues above 64");
	if (!strcmp(conf.spec, "loop") && nsock > 2)
		return die_usage("%s", "the loop port takes one or two sockets");
	if (!app.has_mac)	/* locally administered, from the pid */
		memcpy(app.mac, (u8[6]){ 0x02, 0x76, 0x70, (u8)(getpid() >> 16),
					 (u8)(getpid() >> 8), (u8)getpid() }, 6);

	/* Signals go to the signalfd only, in every thread (EAL's included). */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGUSR1);
	sigaddset(&sigs, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	sigdelset(&sigs, SIGPIPE);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	/* A front-end that shrinks its memory file loses its connection, not us. */
	r = vhu_guard_install();
	if (r)
		fprintf(stderr, "vhost-user-net: warning: no SIGBUS guard: %s\n", strerror(-r));

	conf.nr_queues = nsock * queues;
	conf.mtu = mtu;
	conf.loop_sides = (!strcmp(conf.spec, "loop") && nsock == 2) ? 2 : 1;
	if (lcores) {
		snprintf(eal_lcores, sizeof(eal_lcores), "0@(%s)", lcores);
		conf.lcores = eal_lcores;
	}
	r = net_port_open(&conf, &app.port, err, sizeof(err));
	if (r) {
		vun_log("port %s: %s", conf.spec, err);
		return 1;
	}
	vun_log("port %s (%s): %u queue pair(s), MTU %u, %s", app.port->name,
		app.port->ops->kind, app.port->nr_queues, app.port->mtu,
		app.poll ? "polling" : "kick-driven");

	ep = epoll_create1(EPOLL_CLOEXEC);
	if (ep < 0 || sfd < 0 || ep_set(ep, EPOLL_CTL_ADD, sfd, 0x100)) {
		vun_log("epoll/signalfd: %s", strerror(errno));
		goto out;
	}
	for (i = 0; i < nsock; i++) {
		r = vun_dev_init(&app, &app.dev[i], sockets[i], queues, i * queues);
		if (r) {
			vun_log("%s: %s", sockets[i], strerror(-r));
			goto out;
		}
		app.nr_dev++;
		if (ep_set(ep, EPOLL_CTL_ADD, vhu_dev_listen_fd(app.dev[i].vhu), i)) {
			vun_log("epoll: %s", strerror(errno));
			goto out;
		}
		vun_log("%s: listening", sockets[i]);
	}

	while (!quit) {
		struct epoll_event ev[16];
		int n = epoll_wait(ep, ev, 16, -1), k;

		if (n < 0 && errno != EINTR) {
			vun_log("epoll_wait: %s", strerror(errno));
			goto out;
		}
		for (k = 0; k < n; k++) {
			u64 tag = ev[k].data.u64;

			if (tag == 0x100) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGUSR1)
						print_stats();
					else
						quit = true;
				}
			} else if (tag >= 0x200) {
				struct vun_dev *d = &app.dev[tag - 0x200];

				vhu_dev_dispatch(d->vhu);	/* errors are logged by it */
				track_conn(ep, d, tag - 0x200);
			} else {
				struct vun_dev *d = &app.dev[tag];

				r = vhu_dev_accept(d->vhu);
				if (r && r != -EAGAIN && r != -EBUSY)
					vun_log("%s: accept: %s", d->path, strerror(-r));
				track_conn(ep, d, tag);
			}
		}
	}
	rc = 0;
out:
	for (i = 0; i < app.nr_dev; i++) {
		struct vun_dev *d = &app.dev[i];

		/* Stop the threads first, so the counters are final. */
		vhu_dev_disconnect(d->vhu);
	}
	print_stats();
	for (i = 0; i < app.nr_dev; i++)
		vun_dev_fini(&app.dev[i]);
	if (ep >= 0)
		close(ep);
	if (sfd >= 0)
		close(sfd);
	net_port_close(app.port);
	return rc;
}
