// SPDX-License-Identifier: MIT
/*
 * Inflight tracking across a back-end restart (SECURITY.md case 19 at the
 * library level).  The device takes four heads and completes one; a second
 * completion reaches the used ring but the back-end dies before clearing it.
 * A new back-end on the same socket gets the same inflight region from the
 * front-end (SET_INFLIGHT_FD after vhu_fe_reconnect), finishes the interrupted
 * batch, and hands back exactly the two heads never completed, in the order
 * they were taken, with last_avail_idx past them.  A hostile region (heads
 * and batch links out of range) is survived.  Nothing leaks.
 */
#include "vhu_test.h"

#define MB	(1ull << 20)
#define DESC	0x10000ull
#define AVAIL	0x14000ull
#define USED	0x18000ull

static void setup(struct vhost_dev *d, struct t_ram *ram, unsigned int base,
		  int kick)
{
	struct vq_mem mem;
	struct vhost_vring_gpas a = { .desc = DESC, .avail = AVAIL, .used = USED };

	t_ram_table(ram, &mem);
	CHECK_EQ(d->ops->set_features(d, T_FEATURES), 0);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	CHECK_EQ(vhu_fe_setup_inflight(d, T_NR_QUEUES, 256), 0);
	CHECK_EQ(d->ops->set_vring_num(d, 0, 256), 0);
	CHECK_EQ(d->ops->set_vring_base(d, 0, base), 0);
	CHECK_EQ(d->ops->set_vring_addr(d, 0, &a), 0);
	CHECK_EQ(d->ops->set_vring_kick(d, 0, kick), 0);
	CHECK_EQ(d->ops->set_vring_call(d, 0, -1), 0);
	CHECK_EQ(d->ops->set_vring_enable(d, 0, true), 0);
}

static void complete(struct vhu_vq *vq, u16 head, bool finish)
{
	u16 idx = vq->used->idx;

	vhu_vq_inflight_pre_put(vq, head);
	vq->used->ring[idx % vq->num].id = head;
	vq->used->ring[idx % vq->num].len = 0;
	__atomic_store_n(&vq->used->idx, (u16)(idx + 1), __ATOMIC_RELEASE);
	if (!finish)
		return;		/* "killed" here */
	vhu_vq_inflight_post_put(vq, head);
	vhu_vq_inflight_set_used_idx(vq, idx + 1);
}

int main(void)
{
	struct t_path p;
	struct t_dev t1, t2, t3;
	struct vhu_dev *dev;
	struct t_server srv;
	struct t_ram ram;
	struct vhost_dev *d;
	struct vhu_vq *vq;
	int kick, fds0;
	u16 h;

	t_log_capture();
	fds0 = t_count_fds();
	t_ram_init(&ram, 0, MB);
	kick = eventfd(0, EFD_CLOEXEC);
	CHECK(kick >= 0);
	t_path_init(&p);

	/* First back-end. */
	t_dev_init(&t1);
	CHECK_EQ(vhu_dev_new(&t_ops, &t1, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);
	CHECK_EQ(vhu_fe_connect(p.sock, NULL, &d), 0);
	setup(d, &ram, 0, kick);
	vq = vhu_dev_vq(dev, 0);
	CHECK(vq->started && vq->inflight);
	CHECK_EQ(vq->inflight->version, 1);
	CHECK_EQ(vq->inflight->desc_num, 256);
	CHECK_EQ(vq->nr_resubmit, 0);
	CHECK_EQ(vhu_vq_inflight_resubmit(vq, &h), 0);
	/* The device takes 11, 3, 7, 9 (in that order) and completes 7. */
	vhu_vq_inflight_get(vq, 11);
	vhu_vq_inflight_get(vq, 3);
	vhu_vq_inflight_get(vq, 7);
	vhu_vq_inflight_get(vq, 9);
	vhu_vq_inflight_get(vq, 256);	/* out of range: ignored */
	vq->last_avail_idx = 4;
	complete(vq, 7, true);
	/* 9 reaches the used ring, then the back-end dies. */
	complete(vq, 9, false);
	t_server_stop(&srv);
	vhu_dev_free(dev);

	/* Second back-end on the same path; the front-end reconnects. */
	t_dev_init(&t2);
	CHECK_EQ(vhu_dev_new(&t_ops, &t2, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);
	CHECK(d->ops->set_vring_num(d, 0, 256) < 0);	/* notices the death */
	CHECK(!vhu_fe_alive(d));
	CHECK_EQ(vhu_fe_reconnect(d, -1), 0);
	/* Like QEMU after a back-end crash: base = the used index. */
	setup(d, &ram, 2, kick);
	vq = vhu_dev_vq(dev, 0);
	CHECK(vq->started && vq->inflight);
	CHECK_EQ(vq->inflight->used_idx, 2);
	CHECK_EQ(vq->nr_resubmit, 2);
	CHECK_EQ(vq->last_avail_idx, 4);
	CHECK_EQ(vhu_vq_inflight_resubmit(vq, &h), 1);
	CHECK_EQ(h, 11);
	CHECK_EQ(vhu_vq_inflight_resubmit(vq, &h), 1);
	CHECK_EQ(h, 3);
	CHECK_EQ(vhu_vq_inflight_resubmit(vq, &h), 0);
	CHECK_EQ(vq->inflight_counter, 3);	/* max in flight + 1 */
	/* Resubmitted requests complete normally. */
	complete(vq, 11, true);
	complete(vq, 3, true);
	CHECK(!vq->inflight->desc[11].inflight && !vq->inflight->desc[3].inflight);

	/* A hostile front-end scribbles on the region; the next back-end copes. */
	for (unsigned int i = 0; i < 256; i++) {
		vq->inflight->desc[i].inflight = 1;
		vq->inflight->desc[i].next = 0xffff - i;
		vq->inflight->desc[i].counter = ~0ull - i;
	}
	vq->inflight->last_batch_head = 0xfff0;
	vq->inflight->used_idx = 0x8000;
	t_server_stop(&srv);
	vhu_dev_free(dev);

	t_dev_init(&t3);
	CHECK_EQ(vhu_dev_new(&t_ops, &t3, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);
	CHECK_EQ(vhu_fe_reconnect(d, -1), 0);
	setup(d, &ram, 4, kick);
	vq = vhu_dev_vq(dev, 0);
	CHECK(vq->started);
	CHECK(vq->nr_resubmit <= 256);
	for (unsigned int n = 0; vhu_vq_inflight_resubmit(vq, &h); n++)
		CHECK(h < 256 && n < 256);

	d->ops->destroy(d);
	t_wait_count(&t3, &t3.disconnects, 1);
	t_server_stop(&srv);
	vhu_dev_free(dev);
	t_path_fini(&p);
	close(kick);
	t_ram_fini(&ram);
	CHECK_EQ(t_count_fds(), fds0);
	fprintf(stderr, "vhu_inflight: all ok\n");
	return 0;
}
