// SPDX-License-Identifier: MIT
/*
 * SECURITY.md case 21: the VMM (front-end process) is killed with SIGKILL
 * while its rings run.  The back-end sees the connection end, stops the
 * queues, unmaps the guest memory, closes every fd the front-end gave it, and
 * serves the next front-end on the same socket.  Repeated 20 times with a
 * forked front-end killed by PID; fd and memfd-mapping counts are compared.
 */
#include <signal.h>
#include <sys/wait.h>

#include "vhu_test.h"

#define MB	(1ull << 20)

/* The child: a front-end that sets everything up, says so, and waits to die. */
static void child_main(const char *path, int ready)
{
	struct t_ram ram;
	struct vq_mem mem;
	struct vhost_dev *d;
	struct vhost_vring_gpas a = { .desc = 0x1000, .avail = 0x3000, .used = 0x4000 };
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	char c = 1;

	t_ram_init(&ram, 0, MB);
	t_ram_table(&ram, &mem);
	if (vhu_fe_connect(path, NULL, &d) ||
	    d->ops->set_features(d, T_FEATURES) ||
	    d->ops->set_mem_table(d, &mem) ||
	    vhu_fe_setup_inflight(d, T_NR_QUEUES, 256))
		_exit(2);
	for (unsigned int q = 0; q < T_NR_QUEUES; q++) {
		a.desc = 0x10000 * (q + 1);
		a.avail = a.desc + 0x4000;
		a.used = a.desc + 0x8000;
		if (d->ops->set_vring_num(d, q, 256) ||
		    d->ops->set_vring_base(d, q, 0) ||
		    d->ops->set_vring_addr(d, q, &a) ||
		    d->ops->set_vring_kick(d, q, kick) ||
		    d->ops->set_vring_call(d, q, call) ||
		    d->ops->set_vring_enable(d, q, true))
			_exit(3);
	}
	if (write(ready, &c, 1) != 1)
		_exit(4);
	for (;;)
		pause();
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	int fds0 = 0, maps0 = 0;

	t_log_capture();
	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);

	for (int i = 0; i < 20; i++) {
		int pr[2], st;
		pid_t pid;
		char c;

		CHECK_EQ(pipe2(pr, O_CLOEXEC), 0);
		pid = fork();
		CHECK(pid >= 0);
		if (pid == 0) {
			close(pr[0]);
			child_main(p.sock, pr[1]);
		}
		close(pr[1]);
		if (read(pr[0], &c, 1) != 1) {
			waitpid(pid, &st, 0);
			fprintf(stderr, "front-end child failed (status 0x%x)\n", st);
			return 1;
		}
		close(pr[0]);
		/* acked set-up: the rings run on the child's memory now */
		CHECK_EQ(vhu_dev_mem(dev)->nr, 1);
		CHECK(vhu_dev_vq(dev, 0)->started && vhu_dev_vq(dev, 1)->started);
		CHECK(vhu_dev_vq(dev, 0)->inflight);
		if (i == 1) {
			fds0 = t_count_fds();
			maps0 = t_count_maps();
		}
		if (i >= 1) {
			CHECK_EQ(t_count_fds(), fds0);
			CHECK_EQ(t_count_maps(), maps0);
		}
		CHECK_EQ(kill(pid, SIGKILL), 0);
		CHECK_EQ(waitpid(pid, &st, 0), pid);
		t_wait_count(&t, &t.disconnects, i + 1);
		CHECK_EQ(vhu_dev_conn_fd(dev), -1);
		CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
		CHECK_EQ(t.starts, t.stops);
		for (unsigned int q = 0; q < T_NR_QUEUES; q++) {
			struct vhu_vq *vq = vhu_dev_vq(dev, q);

			CHECK(!vq->started && vq->kick_fd == -1 && vq->call_fd == -1 &&
			      !vq->inflight);
		}
	}
	fprintf(stderr, "ok: 20 front-ends killed mid-run, all released\n");
	t_server_stop(&srv);
	vhu_dev_free(dev);
	t_path_fini(&p);
	fprintf(stderr, "vhu_sec21: all ok\n");
	return 0;
}
