// SPDX-License-Identifier: MIT
/*
 * Interop: our vhost-user back-end against a foreign front-end, DPDK's
 * virtio_user PMD inside dpdk-testpmd (txonly, no hugepages).  The dummy
 * device must see both vrings started on memory DPDK shares with it, and
 * DPDK's transmit queue must fill with packets it can read through our
 * mapping; after testpmd is killed (by PID) everything is released and the
 * device takes the next front-end.  Skips (77) when dpdk-testpmd is not
 * installed or cannot start here.
 */
#include <ftw.h>
#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#include "vhu_test.h"

#define TESTPMD	"/usr/bin/dpdk-testpmd"

static struct t_path p;
static char logpath[160];
static pid_t child;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	remove(path);
	return 0;
}

/* testpmd's runtime dir (/var/run/dpdk/PREFIX, or under XDG_RUNTIME_DIR). */
static void rm_runtime_dir(void)
{
	char d[256];
	const char *xdg = getenv("XDG_RUNTIME_DIR");

	snprintf(d, sizeof(d), "/var/run/dpdk/vhu%d", (int)getpid());
	nftw(d, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	if (xdg) {
		snprintf(d, sizeof(d), "%s/dpdk/vhu%d", xdg, (int)getpid());
		nftw(d, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	}
}

/* A failing CHECK exits: testpmd must not outlive the test. */
static void cleanup_at_exit(void)
{
	int st;

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
		child = 0;
	}
	rm_runtime_dir();
}

static pid_t testpmd_start(void)
{
	char vdev[256], prefix[64];
	pid_t pid;

	snprintf(vdev, sizeof(vdev), "net_virtio_user0,path=%s,queues=1", p.sock);
	snprintf(prefix, sizeof(prefix), "vhu%d", (int)getpid());
	pid = fork();
	CHECK(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_RDONLY);
		int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(null, 0);
		dup2(log, 1);
		dup2(log, 2);
		execl(TESTPMD, TESTPMD, "--lcores", "0@0,1@0", "--file-prefix", prefix,
		      "--no-pci", "--no-huge", "-m", "256", "--vdev", vdev, "--",
		      "--forward-mode=txonly", "--nb-cores=1",
		      "--total-num-mbufs=2048", "--stats-period", "1", (char *)NULL);
		_exit(127);
	}
	child = pid;
	return pid;
}

static void show_log(void)
{
	char line[256];
	FILE *f = fopen(logpath, "r");

	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "testpmd: %s", line);
	fclose(f);
}

/* Wait (bounded) until t->starts >= n; false on timeout. */
static bool wait_starts(struct t_dev *t, int n, int secs)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&t->lock);
	while (t->starts < n && ok)
		ok = pthread_cond_timedwait(&t->cond, &t->lock, &ts) == 0;
	ok = t->starts >= n;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

int main(void)
{
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	struct vhu_dev_ops ops = t_ops;
	pid_t pid;
	int st, fds0;

	if (access(TESTPMD, X_OK) != 0) {
		fprintf(stderr, "dpdk-testpmd not installed\n");
		return 77;
	}
	t_log_capture();
	fds0 = t_count_fds();
	t_path_init(&p);
	snprintf(logpath, sizeof(logpath), "%s/testpmd.log", p.dir);
	t_path_add_file(logpath);
	atexit(cleanup_at_exit);
	t_dev_init(&t);
	ops.features = 1ull << VIRTIO_F_VERSION_1;	/* a bare virtio-net */
	ops.protocol_features = (1ull << VHU_PROTOCOL_F_MQ) |
				(1ull << VHU_PROTOCOL_F_REPLY_ACK);
	CHECK_EQ(vhu_dev_new(&ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);

	pid = testpmd_start();
	if (!wait_starts(&t, 2, 60)) {
		bool exited = waitpid(pid, &st, WNOHANG) == pid;

		show_log();
		if (!exited) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
		}
		child = 0;
		t_server_stop(&srv);
		vhu_dev_free(dev);
		unlink(logpath);
		t_path_fini(&p);
		if (exited && t.starts == 0 && t.disconnects == 0) {
			fprintf(stderr, "dpdk-testpmd could not start here (log above)\n");
			return 77;
		}
		fprintf(stderr, "vrings did not start (%d starts)\n", t.starts);
		return 1;
	}
	fprintf(stderr, "ok: both vrings started by DPDK virtio_user\n");
	{
		/* txonly fills the TX ring (vring 1); watch its avail index. */
		struct vhu_vq *vq = vhu_dev_vq(dev, 1);
		struct pollfd pf = { .fd = vq->kick_fd, .events = POLLIN };
		u16 idx;

		CHECK(vq->started && vq->kick_fd >= 0);
		/* (the PMD also kicks once when it starts: loop on kicks) */
		while (!(idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE))) {
			u64 v;

			CHECK_EQ(poll(&pf, 1, 30000), 1);
			CHECK(read(vq->kick_fd, &v, 8) == 8);
		}
		CHECK(vq->avail->ring[0] < vq->num);
		fprintf(stderr, "ok: DPDK queued %u packets on vring 1 (size %u)\n",
			idx, vq->num);
	}
	CHECK_EQ(kill(pid, SIGKILL), 0);
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	child = 0;
	rm_runtime_dir();
	t_wait_count(&t, &t.disconnects, 1);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
	CHECK_EQ(t.starts, t.stops);
	fprintf(stderr, "ok: testpmd killed, device released everything\n");
	t_server_stop(&srv);
	t_raw_check_alive(dev, p.sock);
	vhu_dev_free(dev);
	unlink(logpath);
	t_path_fini(&p);
	CHECK_EQ(t_count_fds(), fds0);
	fprintf(stderr, "vhu_dpdk: all ok\n");
	return 0;
}
