// SPDX-License-Identifier: MIT
/*
 * The whole stack in one process: the virtio/ driver side (vq_drv) fills a
 * ring in memfd "guest RAM"; our vhost-user front-end hands that memory and
 * ring to our back-end over a unix socket; an echo device plugs the virtio/
 * device side (vq.h) onto the back-end's struct vhu_vq exactly as
 * vhost-user/README.md shows (vq_set_addr_uaddr, last_avail_idx in and out,
 * inflight marks around every pop/push) and inverts every byte it is given.
 * 3000 requests, with a GET_VRING_BASE / restart half-way; every reply is
 * checked and the inflight region ends with nothing in flight.
 */
#include <virtio/vq.h>
#include <virtio/vq_drv.h>

#include "vhu_test.h"

#define MB	(1ull << 20)
#define RING	0x10000ull
#define BUFS	0x100000ull
#define QSZ	256
#define LEN	64
#define NREQ	3000

struct echo_q {
	struct vq vq;
	struct vhu_vq *hv;
	pthread_t thread;
	int stop_fd;
	struct vq_req req;
	unsigned long done;
};

static struct echo_q eq;

static void *echo_main(void *arg)
{
	struct echo_q *q = arg;
	struct vhu_vq *hv = q->hv;
	u16 head;

	/* Heads a previous back-end never finished come first. */
	while (vhu_vq_inflight_resubmit(hv, &head))
		CHECK(0);	/* none expected in this test */
	for (;;) {
		struct pollfd p[2] = {
			{ .fd = hv->kick_fd, .events = POLLIN },
			{ .fd = q->stop_fd, .events = POLLIN },
		};
		u64 v;
		int r;

		CHECK(poll(p, 2, -1) > 0);
		if (p[1].revents)
			break;
		CHECK(read(hv->kick_fd, &v, 8) == 8);
		for (;;) {
			vq_disable_notify(&q->vq);
			while ((r = vq_pop(&q->vq, &q->req)) > 0) {
				u8 in[LEN];
				size_t n = 0;

				vhu_vq_inflight_get(hv, q->req.head);
				for (unsigned int i = 0; i < q->req.nr_rd; i++) {
					memcpy(in + n, q->req.rd[i].iov_base, q->req.rd[i].iov_len);
					n += q->req.rd[i].iov_len;
				}
				CHECK(n == LEN && q->req.nr_wr == 1 && q->req.wr_len == LEN);
				for (unsigned int i = 0; i < LEN; i++)
					((u8 *)q->req.wr[0].iov_base)[i] = in[i] ^ 0xff;
				vhu_vq_inflight_pre_put(hv, q->req.head);
				CHECK_EQ(vq_push(&q->vq, q->req.head, LEN), 0);
				vhu_vq_inflight_post_put(hv, q->req.head);
				vhu_vq_inflight_set_used_idx(hv, q->vq.used_idx);
				q->done++;
				if (vq_should_notify(&q->vq) && hv->call_fd >= 0) {
					v = 1;
					CHECK(write(hv->call_fd, &v, 8) == 8);
				}
			}
			CHECK(r == 0);
			if (!vq_enable_notify(&q->vq))
				break;
		}
	}
	return NULL;
}

static int echo_start(struct vhu_dev *dev, struct vhu_vq *hv)
{
	struct vq *vq = &eq.vq;

	if (hv->idx != 0)
		return -EINVAL;
	if (vhu_vq_ring_start(hv, vq))
		return -EINVAL;
	eq.hv = hv;
	eq.stop_fd = eventfd(0, EFD_CLOEXEC);
	CHECK(eq.stop_fd >= 0);
	CHECK_EQ(pthread_create(&eq.thread, NULL, echo_main, &eq), 0);
	return t_queue_start(dev, hv);
}

static void echo_stop(struct vhu_dev *dev, struct vhu_vq *hv)
{
	u64 one = 1;

	CHECK(write(eq.stop_fd, &one, 8) == 8);
	pthread_join(eq.thread, NULL);
	close(eq.stop_fd);
	hv->last_avail_idx = vq_stop(&eq.vq);
	t_queue_stop(dev, hv);
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	struct vhu_dev_ops ops = t_ops;
	struct t_ram ram;
	struct vq_mem mem;
	struct vhost_dev *d;
	struct vq_drv drv;
	static struct vq_drv_slot slots[QSZ];
	struct vhost_vring_gpas a;
	int kick, call, fds0;
	unsigned long sent = 0, got = 0;
	unsigned int base;
	u8 *g;

	t_log_capture();
	fds0 = t_count_fds();
	t_path_init(&p);
	t_dev_init(&t);
	ops.queue_start = echo_start;
	ops.queue_stop = echo_stop;
	ops.features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	CHECK_EQ(vhu_dev_new(&ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);

	t_ram_init(&ram, 0, 4 * MB);
	g = ram.hva;
	kick = eventfd(0, EFD_CLOEXEC);
	call = eventfd(0, EFD_CLOEXEC);
	CHECK(kick >= 0 && call >= 0);
	{
		struct vq_drv_cfg c = {
			.num = QSZ, .ring = g + RING, .slots = slots,
			.features = T_FEATURES,
			.gpa_offset = (u64)0 - (u64)(uintptr_t)g,
		};

		CHECK(vq_drv_ring_bytes(QSZ) <= BUFS - RING);
		CHECK_EQ(vq_drv_init(&drv, &c), 0);
	}
	CHECK_EQ(vhu_fe_connect(p.sock, NULL, &d), 0);
	CHECK_EQ(d->ops->set_features(d, T_FEATURES), 0);
	t_ram_table(&ram, &mem);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	CHECK_EQ(vhu_fe_setup_inflight(d, 1, QSZ), 0);
	a = (struct vhost_vring_gpas){ .desc = vq_drv_desc_gpa(&drv),
				       .avail = vq_drv_avail_gpa(&drv),
				       .used = vq_drv_used_gpa(&drv) };
	CHECK_EQ(d->ops->set_vring_num(d, 0, QSZ), 0);
	CHECK_EQ(d->ops->set_vring_base(d, 0, 0), 0);
	CHECK_EQ(d->ops->set_vring_addr(d, 0, &a), 0);
	CHECK_EQ(d->ops->set_vring_kick(d, 0, kick), 0);
	CHECK_EQ(d->ops->set_vring_call(d, 0, call), 0);
	CHECK_EQ(d->ops->set_vring_enable(d, 0, true), 0);
	CHECK(vhu_dev_vq(dev, 0)->started);

	while (got < NREQ) {
		/* Fill: request i uses slot (i % 64) of the buffer area. */
		while (sent < NREQ && sent - got < 64) {
			unsigned int s = sent % 64;
			u8 *in = g + BUFS + s * 2 * LEN, *out = in + LEN;
			struct vq_drv_sg sg[2] = {
				{ BUFS + s * 2 * LEN, LEN, false },
				{ BUFS + s * 2 * LEN + LEN, LEN, true },
			};

			for (unsigned int i = 0; i < LEN; i++)
				in[i] = (u8)(sent + i);
			memset(out, 0, LEN);
			CHECK(vq_drv_add(&drv, sg, 2, (void *)(uintptr_t)(sent + 1)) >= 0);
			sent++;
		}
		if (vq_drv_kick_prepare(&drv)) {
			u64 one = 1;

			CHECK(write(kick, &one, 8) == 8);
		}
		for (;;) {
			void *tok;
			u32 len;
			int r = vq_drv_get_used(&drv, &tok, &len);
			unsigned long i;
			u8 *out;

			CHECK(r >= 0);
			if (r == 0)
				break;
			i = (uintptr_t)tok - 1;
			CHECK_EQ(i, got);	/* the echo device completes in order */
			CHECK_EQ(len, LEN);
			out = g + BUFS + (i % 64) * 2 * LEN + LEN;
			for (unsigned int k = 0; k < LEN; k++)
				CHECK_EQ(out[k], (u8)((i + k) ^ 0xff));
			got++;
		}
		if (got == NREQ / 2 && sent == got) {
			/* Stop and restart the ring where it stood. */
			CHECK_EQ(d->ops->get_vring_base(d, 0, &base), 0);
			CHECK_EQ(base, (u16)got);
			CHECK_EQ(d->ops->set_vring_base(d, 0, base), 0);
			CHECK_EQ(d->ops->set_vring_kick(d, 0, kick), 0);
			CHECK_EQ(d->ops->set_vring_call(d, 0, call), 0);
			CHECK(vhu_dev_vq(dev, 0)->started);
			continue;
		}
		if (got < sent && !vq_drv_has_used(&drv)) {
			struct pollfd pf = { .fd = call, .events = POLLIN };
			u64 v;

			if (!vq_drv_enable_cb(&drv)) {
				CHECK_EQ(poll(&pf, 1, 10000), 1);
				CHECK(read(call, &v, 8) == 8);
			}
			vq_drv_disable_cb(&drv);
		}
	}
	{
		struct vhu_vq *hv = vhu_dev_vq(dev, 0);

		CHECK_EQ(eq.done, NREQ);
		CHECK(hv->inflight);
		for (unsigned int i = 0; i < QSZ; i++)
			CHECK(!hv->inflight->desc[i].inflight);
		CHECK_EQ(hv->inflight->used_idx, (u16)NREQ);
	}
	fprintf(stderr, "ok: %d requests echoed through front-end, back-end and vq.h\n",
		NREQ);
	d->ops->destroy(d);
	t_wait_count(&t, &t.disconnects, 1);
	CHECK_EQ(t.starts, t.stops);
	t_server_stop(&srv);
	vhu_dev_free(dev);
	t_path_fini(&p);
	close(kick);
	close(call);
	t_ram_fini(&ram);
	CHECK_EQ(t_count_fds(), fds0);
	fprintf(stderr, "vhu_datapath: all ok\n");
	return 0;
}
