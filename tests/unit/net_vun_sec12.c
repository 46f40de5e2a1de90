// SPDX-License-Identifier: MIT
/*
 * SECURITY.md cases 12-17 against the vhost-user-net program: a hostile
 * front-end on socket A sends bad vhost-user messages while a well-behaved
 * guest (libvirtio-user) on socket B keeps forwarding through the port
 * (net_ring0: each queue's TX comes back on its RX).  For every bad message
 * the program refuses it (closes A's connection, or answers a REPLY_ACK with
 * an error), logs a line, keeps B forwarding, and takes the next front-end
 * on A; at the end its open fds are what they were before (nothing leaked)
 * and it exits 0 on SIGINT (LeakSanitizer included under SAN=1).
 *
 *  12 unknown request; size field above any payload; truncated message
 *  13 memory region of size 0; gpa + size and uaddr + size overflowing;
 *     9 regions; fewer fds than regions; the memory file shrunk after
 *     SET_MEM_TABLE under a started queue (SIGBUS guard)
 *  14 vring index >= number of queues; index 0x10000 (u32 truncating to 0)
 *  15 an fd on a message that takes none; repeated SET_MEM_TABLE and
 *     SET_VRING_NUM (no leak)
 *  16 SET_LOG_BASE with size + offset overflowing
 *  17 NEED_REPLY honoured: ack 0 for a good request, non-zero or a closed
 *     connection for a bad one
 * (Case 18, a malicious back-end, concerns front-ends: not this program.)
 * Skips (77) without DPDK (net_ring0) or when the program is not built.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <linux/virtio_net.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/virtio.h>
#include <guest-drivers/virtio_user.h>
#include <vhost-user/proto.h>

#include "net_test.h"

#define F(b) (1ULL << (b))
#define QSZ 64

static char dir[64], sock_a[96], sock_b[96], logpath[128];
static pid_t child = -1;

static void cleanup(void)
{
	char cmd[160];

	if (child > 0) {
		/* A failed check: SIGKILL leaves the EAL runtime dir behind. */
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		snprintf(cmd, sizeof(cmd), "rm -rf /var/run/dpdk/vp-net-%d", (int)child);
		if (system(cmd)) {
			/* best effort */
		}
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

/* Whether the program's log (stderr) has a line containing @s yet. */
static bool log_has(const char *s)
{
	char buf[1 << 16];
	ssize_t n;
	int fd = open(logpath, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = 0;
	return strstr(buf, s) != NULL;
}

static unsigned int count_fds(pid_t pid)
{
	char path[64];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	d = opendir(path);
	if (!d)
		return 0;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void start_program(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	char prog[256];
	double t0;

	snprintf(prog, sizeof(prog), "%s/vhost-user-net", build);
	if (access(prog, X_OK))
		T_SKIP("net_vun_sec12: %s not built", prog);
	snprintf(dir, sizeof(dir), "/tmp/vp-vunsec12.XXXXXX");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		T_SKIP("net_vun_sec12: mkdtemp: %s", strerror(errno));
	}
	atexit(cleanup);
	snprintf(sock_a, sizeof(sock_a), "%s/a.sock", dir);
	snprintf(sock_b, sizeof(sock_b), "%s/b.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	child = fork();
	if (child == 0) {
		int lf = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int nul = open("/dev/null", O_WRONLY);
		char prefix[64];

		snprintf(prefix, sizeof(prefix), "vp-net-%d", (int)getpid());
		dup2(nul, 1);
		dup2(lf, 2);
		execl(prog, prog, "--socket", sock_a, "--socket", sock_b, "--port", "net_ring0",
		      "--no-huge", (char *)NULL);
		_exit(127);
	}
	for (t0 = now(); now() - t0 < 30; pause_ms(10)) {
		struct stat st;
		int status;

		if (!stat(sock_a, &st) && !stat(sock_b, &st))
			return;
		if (waitpid(child, &status, WNOHANG) == child) {
			child = -1;
			if (WIFEXITED(status) && WEXITSTATUS(status) == 1)
				T_SKIP("net_vun_sec12: vhost-user-net with net_ring0 did not start "
				       "(DPDK?), see %s", logpath);
			break;
		}
	}
	fprintf(stderr, "vhost-user-net did not come up\n");
	exit(1);
}

/* ---- a raw, hostile front-end ------------------------------------------ */

static int raw_connect(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", sock_a);
	if (fd < 0 || connect(fd, (void *)&sa, sizeof(sa))) {
		fprintf(stderr, "connect %s: %s\n", sock_a, strerror(errno));
		exit(1);
	}
	return fd;
}

static void raw_send(int fd, u32 req, u32 flags, const void *payload, u32 size,
		     u32 claimed_size, const int *fds, unsigned int nfds)
{
	struct vhu_msg_hdr h = { req, VHU_VERSION | flags, claimed_size };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, size } };
	char cbuf[CMSG_SPACE(sizeof(int) * VHU_MAX_FDS)] = { 0 };
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = size ? 2 : 1 };

	if (nfds) {
		struct cmsghdr *c;

		m.msg_control = cbuf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	if (sendmsg(fd, &m, MSG_NOSIGNAL) < 0 && errno != EPIPE && errno != ECONNRESET)
		fprintf(stderr, "sendmsg: %s\n", strerror(errno));
}

/* Read one reply: 1 (header and value set), 0 if the peer closed, -1 on timeout. */
static int raw_reply(int fd, struct vhu_msg_hdr *hdr, u64 *val, double secs)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	u8 buf[sizeof(*hdr) + 512];
	ssize_t r;

	if (poll(&p, 1, (int)(secs * 1000)) <= 0)
		return -1;
	r = recv(fd, buf, sizeof(buf), 0);
	if (r <= 0)
		return 0;
	if (r < (ssize_t)sizeof(*hdr))
		return 0;
	memcpy(hdr, buf, sizeof(*hdr));
	*val = 0;
	if (r >= (ssize_t)(sizeof(*hdr) + 8))
		memcpy(val, buf + sizeof(*hdr), 8);
	return 1;
}

/* The program must refuse: close the connection or nack (REPLY_ACK). */
static const char *refused(int fd)
{
	struct vhu_msg_hdr h;
	u64 v;
	double t0 = now();

	while (now() - t0 < 3) {
		int r = raw_reply(fd, &h, &v, 3);

		if (r == 0)
			return "closed";
		if (r < 0)
			break;
		if ((h.flags & VHU_FLAG_REPLY) && v != 0)
			return "nack";
	}
	return NULL;
}

/* A connection that got as far as protocol features with REPLY_ACK. */
static int hello(void)
{
	int fd = raw_connect();
	struct vhu_msg_hdr h;
	u64 v = 0, pf = F(VHU_PROTOCOL_F_REPLY_ACK) | F(VHU_PROTOCOL_F_MQ);

	raw_send(fd, VHU_REQ_SET_OWNER, 0, NULL, 0, 0, NULL, 0);
	raw_send(fd, VHU_REQ_GET_FEATURES, 0, NULL, 0, 0, NULL, 0);
	T_EQ(raw_reply(fd, &h, &v, 5), 1);
	T_CHECK(v & F(VHU_F_PROTOCOL_FEATURES));
	v = F(VIRTIO_F_VERSION_1) | F(VHU_F_PROTOCOL_FEATURES);
	raw_send(fd, VHU_REQ_SET_FEATURES, 0, &v, 8, 8, NULL, 0);
	raw_send(fd, VHU_REQ_SET_PROTOCOL_FEATURES, 0, &pf, 8, 8, NULL, 0);
	return fd;
}

/* ---- the good guest on B ------------------------------------------------ */

static struct {
	struct gd_vu_transport vt;
	struct gd_virtio_dev dev;
	struct gd_virtqueue rxq, txq;
	u8 *rxbuf[QSZ];
} gb;

static void guest_b_open(void)
{
	unsigned int i;
	int r;

	if ((r = gd_vu_mem_init(8 << 20, 0)) || (r = gd_vu_open(&gb.vt, sock_b, NULL)) ||
	    (r = gd_virtio_init(&gb.dev, &gb.vt.t, F(VIRTIO_NET_F_MRG_RXBUF))) ||
	    (r = gd_virtio_queue_create(&gb.dev, &gb.rxq, 0, QSZ, GD_VIRTIO_NO_VECTOR)) ||
	    (r = gd_virtio_queue_create(&gb.dev, &gb.txq, 1, QSZ, GD_VIRTIO_NO_VECTOR)) ||
	    (r = gd_virtio_driver_ok(&gb.dev))) {
		fprintf(stderr, "guest B setup failed: %d\n", r);
		exit(1);
	}
	for (i = 0; i < 16; i++) {
		struct vq_drv_sg sg;

		gb.rxbuf[i] = gd_alloc(2048, 64);
		sg = (struct vq_drv_sg){ gd_virt_to_phys(gb.rxbuf[i]), 2048, true };
		T_CHECK(vq_drv_add(&gb.rxq.vq, &sg, 1, gb.rxbuf[i]) >= 0);
	}
	vq_drv_publish(&gb.rxq.vq);
	gb.vt.t.ops->notify(&gb.vt.t, 0);
}

static bool wait_used(struct gd_virtqueue *q, void **tok, u32 *len)
{
	double t0 = now();

	do {
		if (vq_drv_get_used(&q->vq, tok, len) > 0)
			return true;
		pause_ms(1);
	} while (now() - t0 < 5);
	return false;
}

/* One frame out of B and back in (net_ring0 loops each queue). */
static bool b_forwards(unsigned int seq)
{
	static u8 *tx;
	struct vq_drv_sg sg;
	void *tok;
	u32 len;
	bool ok;

	if (!tx)
		tx = gd_alloc(12 + 80, 64);
	memset(tx, 0, 12);
	memset(tx + 12, 0xff, 6);
	memset(tx + 18, (int)seq, 74);
	tx[24] = 0x88;
	tx[25] = 0xb5;
	sg = (struct vq_drv_sg){ gd_virt_to_phys(tx), 12 + 80, false };
	if (vq_drv_add(&gb.txq.vq, &sg, 1, tx) < 0)
		return false;
	vq_drv_publish(&gb.txq.vq);
	gb.vt.t.ops->notify(&gb.vt.t, 1);
	ok = wait_used(&gb.txq, &tok, &len) && wait_used(&gb.rxq, &tok, &len) &&
	     len == 92 && !memcmp((u8 *)tok + 12, tx + 12, 80);
	if (ok) {
		sg = (struct vq_drv_sg){ gd_virt_to_phys(tok), 2048, true };
		vq_drv_add(&gb.rxq.vq, &sg, 1, tok);
		vq_drv_publish(&gb.rxq.vq);
		gb.vt.t.ops->notify(&gb.vt.t, 0);
	}
	return ok;
}

/* ---- the cases ------------------------------------------------------------ */

static unsigned int seq;

static void after(const char *what, int fd, const char *how)
{
	if (!how)
		fprintf(stderr, "case %s: the program did not refuse\n", what);
	else
		fprintf(stderr, "case %s: %s\n", what, how);
	T_CHECK(how != NULL);
	close(fd);
	T_CHECK(b_forwards(++seq));
}

static int memfd(size_t size)
{
	int fd = memfd_create("vp-sec", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, size))
		exit(1);
	return fd;
}

static void mem_case(const char *what, u32 nregions, const struct vhu_mem_region *r,
		     unsigned int nr_given, unsigned int nfds)
{
	u8 payload[8 + 32 * 16] = { 0 };
	int fds[VHU_MAX_FDS], fd = hello();
	unsigned int i;

	memcpy(payload, &nregions, 4);
	for (i = 0; i < nregions && i < 16; i++)
		memcpy(payload + 8 + 32 * i, &r[i < nr_given ? i : 0], 32);
	for (i = 0; i < nfds; i++)
		fds[i] = memfd(1 << 20);
	raw_send(fd, VHU_REQ_SET_MEM_TABLE, VHU_FLAG_NEED_REPLY, payload, 8 + 32 * nregions,
		 8 + 32 * nregions, fds, nfds);
	for (i = 0; i < nfds; i++)
		close(fds[i]);
	after(what, fd, refused(fd));
}

int main(void)
{
	struct vhu_msg_hdr h;
	unsigned int fds_before, fds_after, i;
	u64 v;
	int fd, st;

	start_program();
	guest_b_open();
	T_CHECK(b_forwards(++seq));
	fds_before = count_fds(child);

	/*
	 * 13, after the check: a front-end shrinks its memory file under a
	 * started queue and kicks it.  The program's next ring access faults
	 * (SIGBUS); its guard turns that into a dropped connection and a log
	 * line, and B goes on forwarding.  First, while the log's rate limit
	 * has its whole burst (the cases below log a line each).
	 */
	{
		struct vhu_mem_table t = { .nregions = 1 };
		const u64 ua = 0x7f0000000000ull;
		struct vhost_vring_state num = { .index = 1, .num = 64 };
		struct vhost_vring_state base = { .index = 1, .num = 0 };
		struct vhost_vring_state on = { .index = 1, .num = 1 };
		struct vhost_vring_addr addr = {
			.index = 1, .desc_user_addr = ua, .avail_user_addr = ua + 0x400,
			.used_user_addr = ua + 0x1000,
		};
		u64 idx = 1, one = 1;
		int m = memfd(1 << 20), kick = eventfd(0, EFD_CLOEXEC);
		int call = eventfd(0, EFD_CLOEXEC);
		const char *how;
		double t0;

		T_CHECK(kick >= 0 && call >= 0);
		t.regions[0] = (struct vhu_mem_region){ 0, 1 << 20, ua, 0 };
		fd = hello();
		raw_send(fd, VHU_REQ_SET_MEM_TABLE, VHU_FLAG_NEED_REPLY, &t, 8 + 32, 8 + 32, &m, 1);
		T_EQ(raw_reply(fd, &h, &v, 5), 1);
		T_EQ(v, 0);
		raw_send(fd, VHU_REQ_SET_VRING_NUM, 0, &num, sizeof(num), sizeof(num), NULL, 0);
		raw_send(fd, VHU_REQ_SET_VRING_ADDR, 0, &addr, sizeof(addr), sizeof(addr), NULL, 0);
		raw_send(fd, VHU_REQ_SET_VRING_BASE, 0, &base, sizeof(base), sizeof(base), NULL, 0);
		raw_send(fd, VHU_REQ_SET_VRING_CALL, 0, &idx, 8, 8, &call, 1);
		raw_send(fd, VHU_REQ_SET_VRING_KICK, 0, &idx, 8, 8, &kick, 1);
		raw_send(fd, VHU_REQ_SET_VRING_ENABLE, VHU_FLAG_NEED_REPLY, &on, sizeof(on),
			 sizeof(on), NULL, 0);
		T_EQ(raw_reply(fd, &h, &v, 5), 1);
		T_EQ(v, 0);
		T_CHECK(ftruncate(m, 0) == 0);
		T_CHECK(write(kick, &one, 8) == 8);
		how = refused(fd);
		close(m);
		close(kick);
		close(call);
		T_CHECK(how && !strcmp(how, "closed"));
		/* the socket closes in the handler; the line comes with the teardown */
		for (t0 = now(); !log_has("shrank a guest memory file") && now() - t0 < 5;)
			pause_ms(10);
		T_CHECK(log_has("shrank a guest memory file"));
		after("13 memory file shrunk under a started queue", fd, how);
	}

	/* 12: unknown request; size field above any payload; truncated. */
	fd = hello();
	raw_send(fd, 99, 0, NULL, 0, 0, NULL, 0);
	after("12 unknown request 99", fd, refused(fd));
	fd = hello();
	v = 0;
	raw_send(fd, VHU_REQ_SET_VRING_NUM, 0, &v, 8, 0x100000, NULL, 0);
	after("12 size 1 MiB", fd, refused(fd));
	fd = raw_connect();
	raw_send(fd, VHU_REQ_GET_FEATURES, 0, NULL, 0, 0, NULL, 0);
	T_EQ(raw_reply(fd, &h, &v, 5), 1);
	if (send(fd, "\x01\x00\x00", 3, MSG_NOSIGNAL) != 3)	/* a third of a header */
		T_CHECK(0);
	shutdown(fd, SHUT_WR);
	after("12 truncated header then EOF", fd, refused(fd));

	/* 13: memory regions. */
	{
		struct vhu_mem_region zero = { 0, 0, 0x7f0000000000, 0 };
		struct vhu_mem_region gpa_wrap = { UINT64_MAX - 4095, 1 << 20, 0x7f0000000000, 0 };
		struct vhu_mem_region ua_wrap = { 0, 1 << 20, UINT64_MAX - 4095, 0 };
		struct vhu_mem_region off_big = { 0, 1 << 20, 0x7f0000000000, UINT64_MAX - 10 };
		struct vhu_mem_region ok = { 0, 1 << 20, 0x7f0000000000, 0 };

		struct vhu_mem_region ok2 = { 1 << 20, 1 << 20, 0x7f0000100000, 0 };

		mem_case("13 region of size 0", 1, &zero, 1, 1);
		mem_case("13 gpa + size wraps", 1, &gpa_wrap, 1, 1);
		mem_case("13 uaddr + size wraps", 1, &ua_wrap, 1, 1);
		mem_case("13 offset + size wraps", 1, &off_big, 1, 1);
		mem_case("13 9 regions", 9, &ok, 1, 1);
		mem_case("13 2 regions, 1 fd", 2, (struct vhu_mem_region[]){ ok, ok2 }, 2, 1);
	}

	/* 14: vring index out of range, and u32 index truncating to 0. */
	{
		struct vhost_vring_state s = { .index = 600, .num = 64 };

		fd = hello();
		raw_send(fd, VHU_REQ_SET_VRING_NUM, VHU_FLAG_NEED_REPLY, &s, sizeof(s), sizeof(s),
			 NULL, 0);
		after("14 vring index 600", fd, refused(fd));
		s.index = 0x10000;
		fd = hello();
		raw_send(fd, VHU_REQ_SET_VRING_NUM, VHU_FLAG_NEED_REPLY, &s, sizeof(s), sizeof(s),
			 NULL, 0);
		after("14 vring index 0x10000", fd, refused(fd));
	}

	/* 15: an fd where none belongs; repeated SET_VRING_NUM / SET_MEM_TABLE. */
	{
		int extra = memfd(4096);
		struct vhost_vring_state s = { .index = 0, .num = 64 };

		fd = hello();
		raw_send(fd, VHU_REQ_GET_FEATURES, 0, NULL, 0, 0, &extra, 1);
		close(extra);
		after("15 fd on GET_FEATURES", fd, refused(fd));

		fd = hello();
		for (i = 0; i < 50; i++) {
			raw_send(fd, VHU_REQ_SET_VRING_NUM, VHU_FLAG_NEED_REPLY, &s, sizeof(s),
				 sizeof(s), NULL, 0);
			T_EQ(raw_reply(fd, &h, &v, 5), 1);
			T_EQ(v, 0);	/* 17: NEED_REPLY honoured, ack 0 */
		}
		for (i = 0; i < 20; i++) {
			struct vhu_mem_table t = { .nregions = 1 };
			int m = memfd(1 << 20);

			t.regions[0] = (struct vhu_mem_region){ 0, 1 << 20, 0x7f0000000000, 0 };
			raw_send(fd, VHU_REQ_SET_MEM_TABLE, VHU_FLAG_NEED_REPLY, &t, 8 + 32, 8 + 32,
				 &m, 1);
			close(m);
			T_EQ(raw_reply(fd, &h, &v, 5), 1);
			T_EQ(v, 0);
		}
		close(fd);
		T_CHECK(b_forwards(++seq));
	}

	/* 16: SET_LOG_BASE with size + offset overflowing. */
	{
		struct vhu_log lg = { UINT64_MAX - 10, 4096 };
		int m = memfd(4096);

		fd = hello();
		raw_send(fd, VHU_REQ_SET_LOG_BASE, VHU_FLAG_NEED_REPLY, &lg, sizeof(lg),
			 sizeof(lg), &m, 1);
		close(m);
		after("16 SET_LOG_BASE overflowing", fd, refused(fd));
	}

	/* 17: a bad request with NEED_REPLY gets a non-zero ack or a close. */
	{
		struct vhost_vring_state s = { .index = 0, .num = 3 };	/* not 2^n */

		fd = hello();
		raw_send(fd, VHU_REQ_SET_VRING_NUM, VHU_FLAG_NEED_REPLY, &s, sizeof(s), sizeof(s),
			 NULL, 0);
		after("17 SET_VRING_NUM 3 with NEED_REPLY", fd, refused(fd));
	}

	/* Everything the hostile connections brought is gone again. */
	{
		double t0 = now();

		do {
			fds_after = count_fds(child);
			if (fds_after == fds_before)
				break;
			pause_ms(20);
		} while (now() - t0 < 3);
		fprintf(stderr, "program fds: %u before, %u after\n", fds_before, fds_after);
		T_EQ(fds_after, fds_before);
	}
	T_CHECK(b_forwards(++seq));

	gd_vu_close(&gb.vt);
	kill(child, SIGINT);
	T_EQ(waitpid(child, &st, 0), child);
	child = -1;
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		fprintf(stderr, "vhost-user-net exit status 0x%x\n", st);
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "sed 's/^/  | /' %s >&2", logpath);
		if (system(cmd)) {
			/* only a diagnostic */
		}
	}
	return net_test_result("net_vun_sec12");
}
