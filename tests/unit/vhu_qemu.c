// SPDX-License-Identifier: MIT
/*
 * Interop: QEMU's vhost-user front-end against our back-end.  QEMU 7.2 with
 * a vhost-user-blk-pci device (-S: no guest code runs) connects at device
 * realize and runs its whole handshake (features, protocol features, queue
 * count, memory slots, owner, config) against a blk-like dummy device; the
 * test checks that QEMU read our config space, then kills QEMU by PID and
 * checks the back-end released everything and serves the next front-end.
 * Skips (77) when qemu-system-x86_64 is not installed or cannot start here.
 */
#include <signal.h>
#include <sys/wait.h>
#include <time.h>
#include <linux/virtio_blk.h>

#include "vhu_test.h"

#define QEMU	"/usr/bin/qemu-system-x86_64"

static struct t_path p;
static char logpath[160];
static pid_t child;
static struct virtio_blk_config blkcfg;
static int config_reads;

static int blk_get_config(struct vhu_dev *dev, u32 off, void *buf, u32 len)
{
	struct t_dev *t = vhu_dev_opaque(dev);

	if (off > sizeof(blkcfg) || len > sizeof(blkcfg) - off)
		return -EINVAL;
	memcpy(buf, (u8 *)&blkcfg + off, len);
	pthread_mutex_lock(&t->lock);
	config_reads++;
	pthread_cond_broadcast(&t->cond);
	pthread_mutex_unlock(&t->lock);
	return 0;
}

static void kill_child(void)
{
	int st;

	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, &st, 0);
		child = 0;
	}
}

static bool wait_config(struct t_dev *t, int secs)
{
	struct timespec ts;
	bool ok = true;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += secs;
	pthread_mutex_lock(&t->lock);
	while (!config_reads && ok)
		ok = pthread_cond_timedwait(&t->cond, &t->lock, &ts) == 0;
	ok = config_reads > 0;
	pthread_mutex_unlock(&t->lock);
	return ok;
}

int main(void)
{
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	struct vhu_dev_ops ops = t_ops;
	char chardev[200];
	int st, fds0;

	if (access(QEMU, X_OK) != 0) {
		fprintf(stderr, "qemu-system-x86_64 not installed\n");
		return 77;
	}
	t_log_capture();
	fds0 = t_count_fds();
	t_path_init(&p);
	snprintf(logpath, sizeof(logpath), "%s/qemu.log", p.dir);
	t_path_add_file(logpath);
	atexit(kill_child);
	blkcfg.capacity = 2048;
	blkcfg.blk_size = 512;
	blkcfg.num_queues = 1;
	t_dev_init(&t);
	ops.get_config = blk_get_config;
	ops.nr_queues = 1;
	ops.features = (1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_BLK_F_BLK_SIZE) |
		       (1ull << VIRTIO_BLK_F_FLUSH) | (1ull << VIRTIO_RING_F_EVENT_IDX);
	CHECK_EQ(vhu_dev_new(&ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);

	snprintf(chardev, sizeof(chardev), "socket,id=c0,path=%s", p.sock);
	child = fork();
	CHECK(child >= 0);
	if (child == 0) {
		int null = open("/dev/null", O_RDWR);
		int log = open(logpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);

		dup2(null, 0);
		dup2(log, 1);
		dup2(log, 2);
		execl(QEMU, QEMU, "-S", "-machine", "q35", "-accel", "tcg",
		      "-display", "none", "-nodefaults", "-m", "64",
		      "-object", "memory-backend-memfd,id=mem,size=64M,share=on",
		      "-numa", "node,memdev=mem", "-chardev", chardev,
		      "-device", "vhost-user-blk-pci,chardev=c0,num-queues=1",
		      (char *)NULL);
		_exit(127);
	}
	if (!wait_config(&t, 60)) {
		bool exited = waitpid(child, &st, WNOHANG) == child;
		char line[256];
		FILE *f = fopen(logpath, "r");

		while (f && fgets(line, sizeof(line), f))
			fprintf(stderr, "qemu: %s", line);
		if (f)
			fclose(f);
		if (exited) {
			child = 0;
			if (!t.disconnects) {
				t_server_stop(&srv);
				vhu_dev_free(dev);
				fprintf(stderr, "qemu could not start here (log above)\n");
				return 77;
			}
		}
		fprintf(stderr, "QEMU never read the config space\n");
		return 1;
	}
	CHECK(vhu_dev_conn_fd(dev) >= 0);
	fprintf(stderr, "ok: QEMU handshake done, protocol features 0x%llx, config read\n",
		(unsigned long long)vhu_dev_protocol_features(dev));
	CHECK(vhu_dev_protocol_features(dev) & (1ull << VHU_PROTOCOL_F_CONFIG));
	CHECK_EQ(kill(child, SIGKILL), 0);
	CHECK_EQ(waitpid(child, &st, 0), child);
	child = 0;
	t_wait_count(&t, &t.disconnects, 1);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
	CHECK_EQ(t.starts, t.stops);
	t_server_stop(&srv);
	t_raw_check_alive(dev, p.sock);
	vhu_dev_free(dev);
	unlink(logpath);
	t_path_fini(&p);
	CHECK_EQ(t_count_fds(), fds0);
	fprintf(stderr, "vhu_qemu: all ok\n");
	return 0;
}
