// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 11 (and a ring fault) against the vhost-user-net program:
 * build/vhost-user-net --socket A --socket B --port loop runs as a child;
 * this process is two "guests" (libvirtio-user: our own driver code over
 * vhost-user), A sending to B through the loop port.
 *
 * A sends good frames and, in between, each bad TX chain of case 11: the
 * header split over twelve 1-byte descriptors (DPDK CVE-2022-2132: must be
 * accepted and forwarded intact), a chain shorter than the header,
 * csum_start past the frame (CVE-2024-11614), a GSO type with gso_size 0, a
 * frame above MTU + headers, a runt, a writable descriptor in a TX chain.
 * Each bad chain comes back used with length 0, the next good frame arrives
 * at B unchanged, the JSON counters (SIGUSR1) count each under its reason,
 * and the log names each reason once.  A 1000-byte frame B -> A spreads over
 * 16 of A's 64-byte buffers (MRG_RXBUF, num_buffers 16).  Then A's transmit
 * ring is corrupted
 * (head index >= queue size): that queue is stopped with a log line, and B
 * still delivers to A.  At SIGINT the program exits 0 (under SAN=1 that
 * includes LeakSanitizer's verdict).
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/virtio.h>
#include <guest-drivers/virtio_user.h>

#include "net_test.h"

#define F(b) (1ULL << (b))
#define QSZ 64
#define BUFSZ 2048

struct guest {
	const char *name;
	struct gd_vu_transport vt;
	struct gd_virtio_dev dev;
	struct gd_virtqueue rxq, txq;
};

static char dir[64], sock_a[128], sock_b[128], logpath[128];
static pid_t child = -1;
static int out_fd = -1;

static void cleanup(void)
{
	char cmd[160];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd)) {
			/* best effort */
		}
		dir[0] = 0;
	}
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void pause_ms(unsigned int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

static void start_program(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char prog[256];
	int p[2];
	double t0;

	snprintf(prog, sizeof(prog), "%s/vhost-user-net", build);
	if (access(prog, X_OK))
		T_SKIP("net_vun_sec11: %s not built", prog);
	snprintf(dir, sizeof(dir), "/tmp/vp-vunsec.XXXXXX");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		T_SKIP("net_vun_sec11: mkdtemp: %s", strerror(errno));
	}
	atexit(cleanup);
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	if (pipe(p))
		exit(1);
	child = fork();
	if (child == 0) {
		int lf = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(p[1], 1);
		dup2(lf, 2);
		close(p[0]);
		execl(prog, prog, "--socket", sock_a, "--socket", sock_b, "--port", "loop",
		      "--mtu", "1500", (char *)NULL);
		_exit(127);
	}
	close(p[1]);
	out_fd = p[0];
	fcntl(out_fd, F_SETFL, O_NONBLOCK);
	for (t0 = now(); now() - t0 < 20; pause_ms(10)) {
		struct stat st;

		if (!stat(sock_a, &st) && !stat(sock_b, &st))
			return;
		if (waitpid(child, NULL, WNOHANG) == child) {
			child = -1;
			break;
		}
	}
	fprintf(stderr, "vhost-user-net did not come up\n");
	exit(1);
}

static void notify(struct guest *g, struct gd_virtqueue *q)
{
	vq_drv_publish(&q->vq);
	g->vt.t.ops->notify(&g->vt.t, q->index);
}

static void open_guest(struct guest *g, const char *path, u64 wanted)
{
	int r = gd_vu_open(&g->vt, path, NULL);

	if (r) {
		fprintf(stderr, "%s: gd_vu_open: %d\n", g->name, r);
		exit(1);
	}
	if ((r = gd_virtio_init(&g->dev, &g->vt.t, wanted)) ||
	    (r = gd_virtio_queue_create(&g->dev, &g->rxq, 0, QSZ, GD_VIRTIO_NO_VECTOR)) ||
	    (r = gd_virtio_queue_create(&g->dev, &g->txq, 1, QSZ, GD_VIRTIO_NO_VECTOR)) ||
	    (r = gd_virtio_driver_ok(&g->dev))) {
		fprintf(stderr, "%s: virtio setup failed: %d\n", g->name, r);
		exit(1);
	}
}

static void post_rx(struct guest *g, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		u8 *buf = gd_alloc(BUFSZ, 64);
		struct vq_drv_sg sg = { gd_virt_to_phys(buf), BUFSZ, true };

		T_CHECK(vq_drv_add(&g->rxq.vq, &sg, 1, buf) >= 0);
	}
	notify(g, &g->rxq);
}

/* Bounded wait for one used chain of @q. */
static bool wait_used(struct gd_virtqueue *q, void **token, u32 *len)
{
	double t0 = now();

	do {
		if (vq_drv_get_used(&q->vq, token, len) > 0)
			return true;
		pause_ms(1);
	} while (now() - t0 < 5);
	return false;
}

/* The frame number @seq, @flen bytes. */
static void make_frame(u8 *f, size_t flen, unsigned int seq)
{
	size_t i;

	for (i = 0; i < flen; i++)
		f[i] = (u8)(i * 11 + seq);
	memset(f, 0xff, 6);
	f[12] = 0x88;
	f[13] = 0xb5;
}

/* Send @n buffers (sizes sz[], contents from @bytes) as one TX chain. */
static u32 send_chain(struct guest *g, const u8 *bytes, const u32 *sz, unsigned int n,
		      int writable_at)
{
	struct vq_drv_sg sg[32];
	static u8 token;
	unsigned int i;
	void *tok;
	u32 len = ~0u;

	for (i = 0; i < n; i++) {
		u8 *b = gd_alloc(sz[i] ? sz[i] : 1, 8);

		memcpy(b, bytes, sz[i]);
		bytes += sz[i];
		sg[i] = (struct vq_drv_sg){ gd_virt_to_phys(b), sz[i], (int)i == writable_at };
	}
	T_CHECK(vq_drv_add(&g->txq.vq, sg, n, &token) >= 0);
	notify(g, &g->txq);
	T_CHECK(wait_used(&g->txq, &tok, &len));
	T_CHECK(tok == &token);
	return len;
}

/* Good frame A -> B, checked byte for byte at B. */
static void good_frame(struct guest *a, struct guest *b, unsigned int seq, bool split_hdr)
{
	static u8 g[12 + 200];
	struct virtio_net_hdr_mrg_rxbuf h = { .hdr = { 0 } };
	u32 one[2] = { 12, 100 };
	u32 bytes[15] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 60, 37 };
	void *tok;
	u32 len = 0;

	memcpy(g, &h, 12);
	make_frame(g + 12, 100, seq);
	if (split_hdr)
		T_EQ(send_chain(a, g, bytes, 15, -1), 0);
	else
		T_EQ(send_chain(a, g, one, 2, -1), 0);
	T_CHECK(wait_used(&b->rxq, &tok, &len));
	T_EQ(len, 112);
	if (len == 112) {
		struct virtio_net_hdr_mrg_rxbuf r;

		memcpy(&r, tok, 12);
		T_EQ(le16_to_cpu((le16)r.num_buffers), 1);
		T_CHECK(!memcmp((u8 *)tok + 12, g + 12, 100));
	}
	/* The buffer goes back to B's ring. */
	{
		struct vq_drv_sg sg = { gd_virt_to_phys(tok), BUFSZ, true };

		T_CHECK(vq_drv_add(&b->rxq.vq, &sg, 1, tok) >= 0);
		notify(b, &b->rxq);
	}
}

static void bad_frame(struct guest *a, const struct virtio_net_hdr_mrg_rxbuf *h, u32 flen,
		      const u32 *sz, unsigned int n, int writable_at)
{
	static u8 g[12 + 4096];

	memcpy(g, h, 12);
	make_frame(g + 12, flen, 7);
	T_EQ(send_chain(a, g, sz, n, writable_at), 0);
}

static char *read_all(int fd, char *buf, size_t max, const char *until, double secs)
{
	size_t o = 0;
	double t0 = now();

	buf[0] = 0;
	while (now() - t0 < secs) {
		ssize_t r = read(fd, buf + o, max - 1 - o);

		if (r > 0) {
			o += r;
			buf[o] = 0;
			if (strstr(buf, until))
				break;
		} else if (r == 0) {
			break;
		} else {
			pause_ms(5);
		}
	}
	return buf;
}

static bool log_has(const char *what, double secs)
{
	static char buf[65536];
	double t0 = now();

	do {
		int fd = open(logpath, O_RDONLY);
		ssize_t r = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

		if (fd >= 0)
			close(fd);
		buf[r > 0 ? r : 0] = 0;
		if (strstr(buf, what))
			return true;
		pause_ms(5);
	} while (now() - t0 < secs);
	fprintf(stderr, "log lacks \"%s\":\n%s\n", what, buf);
	return false;
}

int main(void)
{
	static struct guest a = { .name = "A" }, b = { .name = "B" };
	u64 wanted = F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |
		F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_MTU);
	struct virtio_net_hdr_mrg_rxbuf h;
	static char out[65536];
	unsigned int seq = 1, i;
	int st;

	start_program();
	if (gd_vu_mem_init(16 << 20, 0)) {
		fprintf(stderr, "gd_vu_mem_init failed\n");
		return 1;
	}
	open_guest(&a, sock_a, wanted);
	open_guest(&b, sock_b, wanted);
	T_CHECK(a.dev.features & F(VIRTIO_NET_F_HOST_TSO4));
	post_rx(&b, 16);

	good_frame(&a, &b, seq++, false);
	/* CVE-2022-2132: a header in twelve 1-byte descriptors is valid. */
	good_frame(&a, &b, seq++, true);

	/* Shorter than the header. */
	memset(&h, 0, sizeof(h));
	bad_frame(&a, &h, 0, (u32[]){ 5, 6 }, 2, -1);
	good_frame(&a, &b, seq++, false);
	/* csum_start past the frame (CVE-2024-11614). */
	h = (struct virtio_net_hdr_mrg_rxbuf){ .hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
							.csum_start = 60, .csum_offset = 6 } };
	bad_frame(&a, &h, 60, (u32[]){ 12, 60 }, 2, -1);
	good_frame(&a, &b, seq++, false);
	/* GSO type with gso_size 0. */
	h = (struct virtio_net_hdr_mrg_rxbuf){ .hdr = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4, .hdr_len = 54, .gso_size = 0,
		.csum_start = 34, .csum_offset = 16 } };
	bad_frame(&a, &h, 200, (u32[]){ 12, 200 }, 2, -1);
	good_frame(&a, &b, seq++, false);
	/* Above MTU + 18, in several descriptors: dropped, not truncated. */
	memset(&h, 0, sizeof(h));
	bad_frame(&a, &h, 1519, (u32[]){ 12, 1000, 519 }, 3, -1);
	good_frame(&a, &b, seq++, false);
	/* A runt. */
	bad_frame(&a, &h, 10, (u32[]){ 12, 10 }, 2, -1);
	good_frame(&a, &b, seq++, false);
	/* A device-writable buffer in a TX chain. */
	bad_frame(&a, &h, 100, (u32[]){ 12, 100 }, 2, 1);
	good_frame(&a, &b, seq++, false);

	/* Counters, by reason (SIGUSR1 -> one JSON line per socket). */
	kill(child, SIGUSR1);
	read_all(out_fd, out, sizeof(out), "b.sock", 5);
	{
		char *la = strstr(out, "a.sock\""), *lb = strstr(out, "b.sock\"");
		const char *reasons[] = { "hdr_short", "csum_range", "gso_size", "too_big",
					  "runt", "bad_chain" };
		char want[64];

		T_CHECK(la && lb);
		if (la && lb) {
			char *nl = strchr(la, '\n');

			if (nl)
				*nl = 0;
			for (i = 0; i < ARRAY_SIZE(reasons); i++) {
				snprintf(want, sizeof(want), "\"%s\":1", reasons[i]);
				if (!strstr(la, want))
					fprintf(stderr, "no %s in %s\n", want, la);
				T_CHECK(strstr(la, want));
			}
			T_CHECK(strstr(la, "\"tx_packets\":8,"));
			T_CHECK(strstr(lb, "\"rx_packets\":8,"));
		}
	}
	fprintf(stderr, "counters:\n%s", out);
	T_CHECK(log_has("dropped a guest frame: hdr_short", 2));
	T_CHECK(log_has("dropped a guest frame: csum_range", 2));
	T_CHECK(log_has("dropped a guest frame: gso_size", 2));
	T_CHECK(log_has("dropped a guest frame: too_big", 2));
	T_CHECK(log_has("dropped a guest frame: runt", 2));
	T_CHECK(log_has("dropped a guest frame: bad_chain", 2));

	/* MRG_RXBUF: B -> A, a 1000-byte frame into 64-byte buffers. */
	{
		static u8 g[12 + 1000], got[2048];
		struct virtio_net_hdr_mrg_rxbuf r;
		u32 o = 0, len;
		void *tok;

		for (i = 0; i < 16; i++) {
			u8 *buf = gd_alloc(64, 64);
			struct vq_drv_sg sg = { gd_virt_to_phys(buf), 64, true };

			T_CHECK(vq_drv_add(&a.rxq.vq, &sg, 1, buf) >= 0);
		}
		notify(&a, &a.rxq);
		memset(g, 0, 12);
		make_frame(g + 12, 1000, 99);
		T_EQ(send_chain(&b, g, (u32[]){ 12, 1000 }, 2, -1), 0);
		for (i = 0; i < 16; i++) {
			T_CHECK(wait_used(&a.rxq, &tok, &len));
			T_EQ(len, i < 15 ? 64 : 1012 - 15 * 64);
			memcpy(got + o, tok, len);
			o += len;
		}
		memcpy(&r, got, 12);
		T_EQ(le16_to_cpu((le16)r.num_buffers), 16);
		T_CHECK(o == 1012 && !memcmp(got + 12, g + 12, 1000));
		T_CHECK(!vq_drv_has_used(&a.rxq.vq));
	}

	/* Ring fault on A's transmit queue: head index >= queue size. */
	{
		struct vq_drv *v = &a.txq.vq;
		u16 idx = v->avail_idx;

		WRITE_ONCE(v->avail->ring[idx & v->mask], cpu_to_le16(QSZ + 5));
		/* the ring entry is stored before avail->idx publishes it */
		__atomic_thread_fence(__ATOMIC_RELEASE);
		WRITE_ONCE(v->avail->idx, cpu_to_le16(idx + 1));
		a.vt.t.ops->notify(&a.vt.t, 1);
		T_CHECK(log_has("queue pair 0 transmitq: guest error, queue stopped until reset", 5));
	}
	/* B -> A still works. */
	post_rx(&a, 4);
	good_frame(&b, &a, seq++, false);
	good_frame(&b, &a, seq++, false);

	gd_vu_close(&a.vt);
	gd_vu_close(&b.vt);
	kill(child, SIGINT);
	T_EQ(waitpid(child, &st, 0), child);
	child = -1;
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	/* Its log, for the record (and for a failure's diagnosis). */
	if (!log_has("front-end disconnected", 0) || !WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "vhost-user-net exit status 0x%x\n", st);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "sed 's/^/  | /' %s >&2", logpath);
		if (system(cmd)) {
			/* only a diagnostic */
		}
	}
	return net_test_result("net_vun_sec11");
}
