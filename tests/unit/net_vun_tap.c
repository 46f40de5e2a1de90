// SPDX-License-Identifier: MIT
/*
 * vhost-user-net --port tap:NAME end to end, kick-driven: the program runs
 * inside a network namespace this test creates (ip netns add vp-test-<pid>),
 * a libvirtio-user guest on its socket talks to the namespace's kernel
 * through the tap:
 *  - an ARP request from the guest is answered (guest -> tap -> kernel ->
 *    tap -> guest, the program asleep on the tap fd and the kick eventfds);
 *  - a ping (ICMP echo) is answered with the same payload;
 *  - the counters (SIGUSR1 at exit) show no drops.
 * Skips (77) when not root or when netns/tap creation is not permitted.
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

#include <guest-drivers/platform.h>
#include <guest-drivers/virtio.h>
#include <guest-drivers/virtio_user.h>

#include "net_test.h"

#define F(b) (1ULL << (b))
#define QSZ 64

static char ns[64], dir[64], sock[96], logpath[128], outpath[128];
static pid_t child = -1;
static const u8 gmac[6] = { 0x02, 0x00, 0x00, 0x00, 0x78, 0x02 };

static int run(const char *cmd)
{
	int st = system(cmd);

	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void cleanup(void)
{
	char cmd[160];

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		child = -1;
	}
	if (ns[0]) {
		snprintf(cmd, sizeof(cmd), "ip netns del %s 2>/dev/null", ns);
		run(cmd);
		ns[0] = 0;
	}
	if (dir[0]) {
		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		run(cmd);
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

static struct {
	struct gd_vu_transport vt;
	struct gd_virtio_dev dev;
	struct gd_virtqueue rxq, txq;
} g;

static void repost(void *buf)
{
	struct vq_drv_sg sg = { gd_virt_to_phys(buf), 2048, true };

	T_CHECK(vq_drv_add(&g.rxq.vq, &sg, 1, buf) >= 0);
	vq_drv_publish(&g.rxq.vq);
	g.vt.t.ops->notify(&g.vt.t, 0);
}

static void send_frame(const u8 *frame, u32 len)
{
	u8 *b = gd_alloc(12 + len, 64);
	struct vq_drv_sg sg = { gd_virt_to_phys(b), 12 + len, false };
	void *tok;
	u32 ulen;
	double t0 = now();

	memset(b, 0, 12);
	memcpy(b + 12, frame, len);
	T_CHECK(vq_drv_add(&g.txq.vq, &sg, 1, b) >= 0);
	vq_drv_publish(&g.txq.vq);
	g.vt.t.ops->notify(&g.vt.t, 1);
	while (vq_drv_get_used(&g.txq.vq, &tok, &ulen) <= 0 && now() - t0 < 5)
		pause_ms(1);
}

/* Wait (bounded) for a received frame @match accepts; copies it to @out. */
static u32 recv_frame(bool (*match)(const u8 *f, u32 len), u8 *out)
{
	double t0 = now();
	void *tok;
	u32 len;

	while (now() - t0 < 5) {
		if (vq_drv_get_used(&g.rxq.vq, &tok, &len) > 0) {
			u32 flen = len >= 12 ? len - 12 : 0;
			bool ok = match((u8 *)tok + 12, flen);

			if (ok)
				memcpy(out, (u8 *)tok + 12, flen);
			repost(tok);
			if (ok)
				return flen;
			continue;
		}
		pause_ms(1);
	}
	return 0;
}

static bool is_arp_reply(const u8 *f, u32 len)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x06 && f[21] == 2;
}

static bool is_echo_reply(const u8 *f, u32 len)
{
	return len >= 42 && f[12] == 0x08 && f[13] == 0x00 && f[23] == 1 && f[34] == 0;
}

static u16 csum(const u8 *p, size_t len)
{
	u32 s = 0;
	size_t i;

	for (i = 0; i + 1 < len; i += 2)
		s += (u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (u32)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (u16)~s;
}

int main(void)
{
	const char *build = getenv("BUILD") ? getenv("BUILD") : "build";
	u8 f[128], got[2048], tapmac[6];
	char prog[256], cmd[512];
	unsigned int i;
	int st;
	double t0;

	snprintf(prog, sizeof(prog), "%s/vhost-user-net", build);
	if (access(prog, X_OK))
		T_SKIP("net_vun_tap: %s not built", prog);
	if (geteuid() != 0 || access("/dev/net/tun", R_OK | W_OK))
		T_SKIP("net_vun_tap: needs root and /dev/net/tun");
	snprintf(ns, sizeof(ns), "vp-test-%d", (int)getpid());
	snprintf(cmd, sizeof(cmd), "ip netns add %s 2>/dev/null", ns);
	if (run(cmd)) {
		ns[0] = 0;
		T_SKIP("net_vun_tap: 'ip netns add' not permitted here");
	}
	atexit(cleanup);
	snprintf(dir, sizeof(dir), "/tmp/vp-vuntap.XXXXXX");
	if (!mkdtemp(dir)) {
		dir[0] = 0;
		return 1;
	}
	snprintf(sock, sizeof(sock), "%s/s.sock", dir);
	snprintf(logpath, sizeof(logpath), "%s/log", dir);
	snprintf(outpath, sizeof(outpath), "%s/out", dir);
	child = fork();
	if (child == 0) {
		int lf = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
		int of = open(outpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(of, 1);
		dup2(lf, 2);
		/* ip netns exec enters the namespace and execs: same pid. */
		execlp("ip", "ip", "netns", "exec", ns, prog, "--socket", sock, "--port",
		       "tap:vpt0", (char *)NULL);
		_exit(127);
	}
	for (t0 = now(); now() - t0 < 20; pause_ms(10)) {
		struct stat sb;

		if (!stat(sock, &sb))
			break;
		if (waitpid(child, &st, WNOHANG) == child) {
			child = -1;
			fprintf(stderr, "vhost-user-net exited early; log:\n");
			snprintf(cmd, sizeof(cmd), "cat %s >&2", logpath);
			run(cmd);
			return 1;
		}
	}
	snprintf(cmd, sizeof(cmd),
		 "ip -n %s addr add 10.78.0.1/24 dev vpt0 && "
		 "ip -n %s neigh add 10.78.0.2 lladdr 02:00:00:00:78:02 dev vpt0", ns, ns);
	T_EQ(run(cmd), 0);

	if (gd_vu_mem_init(8 << 20, 0) || gd_vu_open(&g.vt, sock, NULL) ||
	    gd_virtio_init(&g.dev, &g.vt.t, F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_CSUM) |
			   F(VIRTIO_NET_F_GUEST_CSUM)) ||
	    gd_virtio_queue_create(&g.dev, &g.rxq, 0, QSZ, GD_VIRTIO_NO_VECTOR) ||
	    gd_virtio_queue_create(&g.dev, &g.txq, 1, QSZ, GD_VIRTIO_NO_VECTOR) ||
	    gd_virtio_driver_ok(&g.dev)) {
		fprintf(stderr, "guest setup failed\n");
		return 1;
	}
	for (i = 0; i < 32; i++)
		repost(gd_alloc(2048, 64));

	/* ARP: who has 10.78.0.1? */
	memset(f, 0, sizeof(f));
	memset(f, 0xff, 6);
	memcpy(f + 6, gmac, 6);
	f[12] = 0x08; f[13] = 0x06;
	f[15] = 1; f[16] = 0x08; f[18] = 6; f[19] = 4; f[21] = 1;
	memcpy(f + 22, gmac, 6);
	memcpy(f + 28, "\x0a\x4e\x00\x02", 4);
	memcpy(f + 38, "\x0a\x4e\x00\x01", 4);
	send_frame(f, 60);
	T_CHECK(recv_frame(is_arp_reply, got) >= 42);
	T_CHECK(!memcmp(got, gmac, 6));
	T_CHECK(!memcmp(got + 28, "\x0a\x4e\x00\x01", 4));
	memcpy(tapmac, got + 22, 6);

	/* Ping 10.78.0.1 with 56 bytes of payload. */
	{
		u32 len = 14 + 20 + 8 + 56;
		u16 v;

		memset(f, 0, sizeof(f));
		memcpy(f, tapmac, 6);
		memcpy(f + 6, gmac, 6);
		f[12] = 0x08;
		f[14] = 0x45;
		v = htobe16(len - 14);
		memcpy(f + 16, &v, 2);
		f[22] = 64;
		f[23] = 1;
		memcpy(f + 26, "\x0a\x4e\x00\x02\x0a\x4e\x00\x01", 8);
		v = htobe16(csum(f + 14, 20));
		memcpy(f + 24, &v, 2);
		f[34] = 8;				/* echo request */
		f[38] = 0x12; f[39] = 0x34; f[41] = 1;	/* id, seq */
		for (i = 0; i < 56; i++)
			f[42 + i] = (u8)(i + 0x40);
		v = htobe16(csum(f + 34, 8 + 56));
		memcpy(f + 36, &v, 2);
		send_frame(f, len);
		T_EQ(recv_frame(is_echo_reply, got), len);
		T_CHECK(!memcmp(got + 42, f + 42, 56));
		T_CHECK(got[38] == 0x12 && got[39] == 0x34);
	}

	gd_vu_close(&g.vt);
	kill(child, SIGINT);
	T_EQ(waitpid(child, &st, 0), child);
	child = -1;
	T_CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	{
		static char out[8192];
		int fd = open(outpath, O_RDONLY);
		ssize_t r = fd >= 0 ? read(fd, out, sizeof(out) - 1) : -1;

		if (fd >= 0)
			close(fd);
		out[r > 0 ? r : 0] = 0;
		fprintf(stderr, "counters: %s", out);
		T_CHECK(strstr(out, "\"tx_packets\":2,"));
		T_CHECK(strstr(out, "\"hdr_short\":0,\"bad_chain\":0"));
	}
	snprintf(cmd, sizeof(cmd), "sed 's/^/  | /' %s >&2", logpath);
	run(cmd);
	cleanup();
	return net_test_result("net_vun_tap");
}
