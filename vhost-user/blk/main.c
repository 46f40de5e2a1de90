// SPDX-License-Identifier: MIT
/*
 * vhost-user-blk: the vhost-user block back-end program, a thin main() around
 * blk_server (vhost-user/blk_server.h).  The main thread runs the control
 * loop; a signal thread (every signal of interest blocked everywhere, taken
 * with sigwaitinfo) prints the stats line on SIGUSR1 and stops the loop on
 * SIGINT/SIGTERM.  Only command-line arguments are parsed here.
 */
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vhost-user/backend.h>
#include <vhost-user/blk_server.h>

#define PROG		"vhost-user-blk"
#define PROG_VERSION	"0.1"

static const char help_text[] =
"NAME\n"
"    vhost-user-blk - vhost-user virtio-blk back-end serving one disk image\n"
"\n"
"SYNOPSIS\n"
"    vhost-user-blk --socket PATH --disk FILE\n"
"                   [--engine io_uring|libaio|sync|threads]\n"
"                   [--cache none|writeback|writethrough] [--readonly]\n"
"                   [--queues N] [--poll-us N] [--serial ID]\n"
"    vhost-user-blk --help | --version\n"
"\n"
"DESCRIPTION\n"
"    Listens on the unix socket PATH and serves a virtio-blk device backed by\n"
"    FILE (a regular file or a block device) to one vhost-user front-end at a\n"
"    time (QEMU -chardev socket + vhost-user-blk-pci, cloud-hypervisor, the\n"
"    vioplane VMM, vioblk).  When the front-end goes away, its guest memory\n"
"    is unmapped and the next front-end can connect to the same socket.\n"
"\n"
"    Requests: IN, OUT, FLUSH, GET_ID, DISCARD (files that can punch holes),\n"
"    WRITE_ZEROES; malformed requests get VIRTIO_BLK_S_IOERR, unknown ones\n"
"    VIRTIO_BLK_S_UNSUPP.  The config space reports the capacity, blk_size\n"
"    (the file's logical block size), seg_max 126 and num_queues.  Each queue\n"
"    has its own thread and I/O context, as deep as the guest's ring.  A guest\n"
"    that corrupts a ring gets that queue stopped (one log line; the err\n"
"    eventfd is signalled); the other queues go on.\n"
"\n"
"    In-flight tracking (VHOST_USER_PROTOCOL_F_INFLIGHT_SHMFD) is offered: if\n"
"    this process is killed and restarted on the same socket, a front-end that\n"
"    reconnects gets the requests that were in flight executed again.\n"
"\n"
"OPTIONS\n"
"    --socket PATH   unix socket to listen on (required).  A stale socket file\n"
"                    is replaced; a socket another back-end listens on is not.\n"
"                    Removed at exit.\n"
"    --disk FILE     disk image or block device (required).\n"
"    --engine E      I/O engine: io_uring (default; one io_uring_submit per\n"
"                    batch of guest requests), libaio, sync (preadv2 and\n"
"                    pwritev2 on the queue thread, one request at a time), or\n"
"                    threads (the same calls on a pool of up to 16 threads\n"
"                    per queue, like QEMU's aio=threads: for hosts without\n"
"                    io_uring, where libaio on a buffered file would block;\n"
"                    a lone request runs on the queue thread.  On files the\n"
"                    page cache serves, sync is faster: handing a request to\n"
"                    a worker costs more than reading it).\n"
"    --cache MODE    as QEMU's cache=:\n"
"                      writeback     page cache; FLUSH -> fdatasync (default)\n"
"                      none          O_DIRECT; FLUSH still -> fdatasync.  Needs a\n"
"                                    filesystem that supports O_DIRECT (not\n"
"                                    tmpfs).\n"
"                      writethrough  O_DSYNC; every completed write is on stable\n"
"                                    storage; the device reports its write\n"
"                                    cache as off (config wce = 0).\n"
"    --readonly      open FILE read-only and offer VIRTIO_BLK_F_RO; writes,\n"
"                    DISCARD and WRITE_ZEROES complete with IOERR.\n"
"    --queues N      request queues, 1..64 (1); N > 1 offers VIRTIO_BLK_F_MQ.\n"
"    --poll-us N     before sleeping on the kick and completion eventfds, spin\n"
"                    over the ring and the completions for at most N\n"
"                    microseconds (0..1000000, default 64; 0 = never spin).\n"
"                    The window adapts below N: it grows while the next\n"
"                    request keeps coming within N (the spin then saves the\n"
"                    kick and the wake-up: 4x the QD1 rate on tmpfs here)\n"
"                    and shrinks to nothing while the queue idles or the\n"
"                    disk takes longer than N, so a quiet queue costs no CPU.\n"
"    --serial ID     GET_ID answer, at most 20 bytes (default: derived from\n"
"                    the disk path).\n"
"    -h, --help      this text.\n"
"    -V, --version   print the version.\n"
"\n"
"SIGNALS\n"
"    SIGUSR1         print the stats line on stdout.\n"
"    SIGINT, SIGTERM finish requests in flight, print the stats line, remove\n"
"                    the socket, exit 0.\n"
"\n"
"OUTPUT\n"
"    Log lines on stderr (rate-limited).  The stats line on stdout is JSON:\n"
"      {\"tool\":\"vhost-user-blk\",\"disk\":\"...\",\"engine\":\"io_uring\",\n"
"       \"cache\":\"writeback\",\"readonly\":0,\"queues\":[{\"q\":0,\"kicks\":N,\n"
"       \"requests\":N,\"completions\":N,\"calls\":N,\"errors\":N,\"flushes\":N,\n"
"       \"fdatasyncs\":N,\"broken\":0},...],\"kicks\":N,...,\"connections\":N}\n"
"    kicks: wake-ups by a guest kick; requests: chains submitted; completions:\n"
"    used entries published; calls: guest interrupts signalled; errors:\n"
"    requests answered with an error status plus ring errors; fdatasyncs:\n"
"    flushes handed to the kernel.\n"
"\n"
"EXIT STATUS\n"
"    0  stopped by SIGINT or SIGTERM\n"
"    1  cannot open the disk, cannot listen on the socket, other failure\n"
"    2  usage error (bad or missing option)\n"
"\n"
"EXAMPLES\n"
"    vhost-user-blk --socket /run/vm0-disk.sock --disk vm0.img --cache none \\\n"
"        --queues 4\n"
"    qemu-system-x86_64 ... -object memory-backend-memfd,id=m,size=1G,share=on \\\n"
"        -numa node,memdev=m -chardev socket,id=c0,path=/run/vm0-disk.sock \\\n"
"        -device vhost-user-blk-pci,chardev=c0,num-queues=4\n";

static int usage_error(const char *fmt, const char *arg)
{
	fprintf(stderr, PROG ": ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see " PROG " --help)\n");
	return 2;
}

static bool parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!*s || *s == '-' || *s == '+' || *s == ' ')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return false;
	*out = v;
	return true;
}

struct sig_ctx {
	struct blk_server *s;
	sigset_t set;
};

static void *signal_main(void *arg)
{
	struct sig_ctx *c = arg;
	siginfo_t si;

	for (;;) {
		int sig = sigwaitinfo(&c->set, &si);

		if (sig < 0)
			continue;	/* EINTR */
		if (sig == SIGUSR1) {
			blk_server_stats_json(c->s, stdout);
			continue;
		}
		blk_server_stop(c->s);
		return NULL;
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "disk", required_argument, NULL, 'd' },
		{ "engine", required_argument, NULL, 'e' },
		{ "cache", required_argument, NULL, 'c' },
		{ "readonly", no_argument, NULL, 'r' },
		{ "queues", required_argument, NULL, 'q' },
		{ "poll-us", required_argument, NULL, 'p' },
		{ "serial", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 }
	};
	struct blk_server_opts o = { .queues = 1, .poll_us = BLK_SERVER_DEFAULT_POLL_US };
	const char *sock = NULL;
	struct blk_server *s;
	struct sig_ctx sc;
	pthread_t sig_thread;
	unsigned long v;
	char err[512];
	int c, r;

	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", longopts, NULL)) != -1) {
		switch (c) {
		case 's':
			sock = optarg;
			break;
		case 'd':
			o.disk_path = optarg;
			break;
		case 'e':
			if (blk_engine_parse(optarg, &o.engine))
				return usage_error("--engine: io_uring, libaio, sync or threads, not '%s'",
						   optarg);
			break;
		case 'c':
			if (blk_cache_parse(optarg, &o.cache))
				return usage_error("--cache: none, writeback or writethrough, not '%s'",
						   optarg);
			break;
		case 'r':
			o.readonly = true;
			break;
		case 'q':
			if (!parse_uint(optarg, BLK_SERVER_MAX_QUEUES, &v) || !v)
				return usage_error("--queues: a number 1..64, not '%s'", optarg);
			o.queues = v;
			break;
		case 'p':
			if (!parse_uint(optarg, BLK_SERVER_MAX_POLL_US, &v))
				return usage_error("--poll-us: microseconds 0..1000000, not '%s'",
						   optarg);
			o.poll_us = v;
			break;
		case 'S':
			if (strlen(optarg) > 20)
				return usage_error("--serial: at most 20 bytes, not '%s'", optarg);
			o.serial = optarg;
			break;
		case 'h':
			fputs(help_text, stdout);
			return 0;
		case 'V':
			printf(PROG " (vioplane) " PROG_VERSION "\n");
			return 0;
		case ':':
			return usage_error("%s needs a value", argv[optind - 1]);
		default:
			return usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (!sock)
		return usage_error("%s", "--socket PATH is required");
	if (!o.disk_path)
		return usage_error("%s", "--disk FILE is required");

	/* Signals only through the signal thread; the others inherit the mask. */
	sigemptyset(&sc.set);
	sigaddset(&sc.set, SIGINT);
	sigaddset(&sc.set, SIGTERM);
	sigaddset(&sc.set, SIGUSR1);
	pthread_sigmask(SIG_BLOCK, &sc.set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* A front-end that shrinks its memory file loses its connection, not us. */
	r = vhu_guard_install();
	if (r)
		fprintf(stderr, PROG ": warning: no SIGBUS guard: %s\n", strerror(-r));

	r = blk_server_new(&o, &s, err, sizeof(err));
	if (r) {
		fprintf(stderr, PROG ": %s\n", err);
		return 1;
	}
	r = blk_server_listen(s, sock);
	if (r) {
		if (r == -EADDRINUSE)
			fprintf(stderr, PROG ": socket %s is in use (another back-end is listening there)\n",
				sock);
		else if (r == -EEXIST)
			fprintf(stderr, PROG ": %s exists and is not a socket\n", sock);
		else
			fprintf(stderr, PROG ": cannot listen on %s: %s\n", sock, strerror(-r));
		blk_server_free(s);
		return 1;
	}
	sc.s = s;
	r = pthread_create(&sig_thread, NULL, signal_main, &sc);
	if (r) {
		fprintf(stderr, PROG ": cannot start the signal thread: %s\n", strerror(r));
		blk_server_free(s);
		return 1;
	}
	fprintf(stderr, PROG ": serving %s%s (engine %s, cache %s, %u queue%s%s) on %s\n",
		o.disk_path, o.readonly ? " read-only" : "", blk_engine_name(o.engine),
		blk_cache_name(o.cache), o.queues, o.queues > 1 ? "s" : "",
		o.poll_us ? ", polling" : "", sock);
	r = blk_server_run(s);
	if (r)
		fprintf(stderr, PROG ": control loop: %s\n", strerror(-r));
	/* Ended by a signal, or by an error: make the signal thread return. */
	pthread_kill(sig_thread, SIGTERM);
	pthread_join(sig_thread, NULL);
	blk_server_stats_json(s, stdout);
	blk_server_free(s);
	return r ? 1 : 0;
}
