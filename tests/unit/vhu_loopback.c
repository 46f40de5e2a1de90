// SPDX-License-Identifier: MIT
/*
 * vhost-user front-end <-> back-end over a real unix socket, with the dummy
 * device on a back-end thread: handshake, memory table from a memfd, ring
 * setup (the back-end sees the front-end's memory), config, REPLY_ACK with a
 * device failure, GET_VRING_BASE, device reset, and reconnection on the same
 * socket path after the front-end goes away (everything released in between).
 * Also the same over a socketpair (in-process back-end) without REPLY_ACK.
 */
#include "vhu_test.h"

#define GPA	0x100000ull
#define RAM	(1ull << 20)

struct rings {
	u64 desc, avail, used;
};

static struct rings ring_gpas(unsigned int q)
{
	struct rings r = {
		.desc = GPA + 0x10000 * (q + 1),
		.avail = GPA + 0x10000 * (q + 1) + 0x4000,
		.used = GPA + 0x10000 * (q + 1) + 0x8000,
	};
	return r;
}

static void setup_ring(struct vhost_dev *d, unsigned int q, unsigned int num,
		       unsigned int base, int kick, int call)
{
	struct rings g = ring_gpas(q);
	struct vhost_vring_gpas a = { .desc = g.desc, .avail = g.avail, .used = g.used };

	CHECK_EQ(d->ops->set_vring_num(d, q, num), 0);
	CHECK_EQ(d->ops->set_vring_base(d, q, base), 0);
	CHECK_EQ(d->ops->set_vring_addr(d, q, &a), 0);
	CHECK_EQ(d->ops->set_vring_kick(d, q, kick), 0);
	CHECK_EQ(d->ops->set_vring_call(d, q, call), 0);
	CHECK_EQ(d->ops->set_vring_err(d, q, -1), 0);
	CHECK_EQ(d->ops->set_vring_enable(d, q, true), 0);
}

/* One front-end session against the server; returns with the fe destroyed. */
static void session(struct t_dev *t, struct vhu_dev *dev, const char *path,
		    struct t_ram *ram)
{
	struct vhost_dev *d;
	struct vq_mem mem;
	struct vhu_vq *vq;
	u8 cfg[16], nc[4] = { 1, 2, 3, 4 };
	unsigned int base;
	int kick = eventfd(0, EFD_CLOEXEC), call = eventfd(0, EFD_CLOEXEC);
	int starts0 = t->starts, disc0 = t->disconnects;
	struct rings g = ring_gpas(0);
	struct vring_desc *desc;

	CHECK(kick >= 0 && call >= 0);
	for (unsigned int i = 0; i < sizeof(t->config); i++)
		t->config[i] = 0xa0 + i;
	CHECK_EQ(vhu_fe_connect(path, NULL, &d), 0);
	CHECK(vhu_fe_is(d));
	CHECK_EQ(d->features, T_FEATURES);
	CHECK_EQ(d->nr_queues, T_NR_QUEUES);
	CHECK_EQ(vhu_fe_protocol_features(d), T_PROTO & VHU_FE_PROTOCOL_FEATURES);
	CHECK_EQ(d->ops->set_owner(d), 0);
	CHECK_EQ(d->ops->set_features(d, T_FEATURES), 0);
	CHECK_EQ(vhu_dev_features(dev), T_FEATURES | (1ull << VHU_F_PROTOCOL_FEATURES));

	t_ram_table(ram, &mem);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	/* acked, so the back-end has mapped it by now */
	CHECK_EQ(vhu_dev_mem(dev)->nr, 1);
	CHECK_EQ(vhu_dev_mem(dev)->regions[0].gpa, GPA);
	CHECK_EQ(vhu_dev_mem(dev)->regions[0].uaddr, (u64)(uintptr_t)ram->hva);

	/* A ring outside guest memory is refused locally. */
	{
		struct vhost_vring_gpas bad = { .desc = GPA + RAM - 16,
						.avail = g.avail, .used = g.used };

		CHECK_EQ(d->ops->set_vring_num(d, 0, 256), 0);
		CHECK_EQ(d->ops->set_vring_addr(d, 0, &bad), -EFAULT);
	}

	/* Put a recognisable descriptor where ring 0's table is. */
	desc = (struct vring_desc *)((char *)ram->hva + (g.desc - GPA));
	desc[255].addr = 0x1234567;
	desc[255].len = 77;

	setup_ring(d, 0, 256, 5, kick, call);
	t_wait_count(t, &t->starts, starts0 + 1);
	vq = vhu_dev_vq(dev, 0);
	CHECK(vq->started);
	CHECK_EQ(vq->num, 256);
	CHECK_EQ(vq->last_avail_idx, 5);
	CHECK(vq->kick_fd >= 0 && vq->call_fd >= 0 && vq->err_fd == -1);
	CHECK(vq->enabled);
	CHECK(vq->features & (1ull << VIRTIO_RING_F_EVENT_IDX));
	CHECK_EQ(vq->desc[255].addr, 0x1234567);
	CHECK_EQ(vq->desc[255].len, 77);
	CHECK(vq->desc != (void *)desc);	/* its own mapping of the memfd */
	/* The kick fd is the same eventfd: a write shows up there. */
	{
		u64 one = 1, v;

		CHECK(write(kick, &one, 8) == 8);
		CHECK(read(vq->kick_fd, &v, 8) == 8 && v == 1);
	}

	/* Config space. */
	CHECK_EQ(d->ops->get_config(d, 4, cfg, sizeof(cfg)), 0);
	for (unsigned int i = 0; i < sizeof(cfg); i++)
		CHECK_EQ(cfg[i], 0xa4 + i);
	CHECK_EQ(d->ops->set_config(d, 8, nc, sizeof(nc)), 0);
	CHECK_EQ(memcmp(t->config + 8, nc, 4), 0);
	/* The device failing SET_CONFIG: REPLY_ACK brings the error back. */
	t->fail_set_config = 1;
	CHECK_EQ(d->ops->set_config(d, 8, nc, sizeof(nc)), -EIO);
	t->fail_set_config = 0;
	CHECK(vhu_fe_alive(d));
	CHECK_EQ(d->ops->get_config(d, 0, cfg, 4), 0);
	CHECK_EQ(cfg[0], 0xa0);

	/* Second ring; then stop ring 0 with GET_VRING_BASE. */
	setup_ring(d, 1, 128, 0, kick, call);
	t_wait_count(t, &t->starts, starts0 + 2);
	t->stop_base[0] = 42;
	t->stop_base_set[0] = true;
	CHECK_EQ(d->ops->get_vring_base(d, 0, &base), 0);
	CHECK_EQ(base, 42);
	CHECK(!vq->started);
	CHECK_EQ(vq->kick_fd, -1);
	t->stop_base_set[0] = false;
	/* A new kick restarts it where it was. */
	CHECK_EQ(d->ops->set_vring_kick(d, 0, kick), 0);
	CHECK(vq->started);
	CHECK_EQ(vq->last_avail_idx, 42);
	/* Disable / enable. */
	CHECK_EQ(d->ops->set_vring_enable(d, 0, false), 0);
	CHECK(!vq->started);
	CHECK_EQ(d->ops->set_vring_enable(d, 0, true), 0);
	CHECK(vq->started);

	/* A new memory table while running: rings stop and restart on it. */
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	CHECK(vq->started && vhu_dev_vq(dev, 1)->started);
	CHECK_EQ(vq->desc[255].len, 77);

	/* Reset: everything stops, memory unmapped, features forgotten. */
	CHECK_EQ(d->ops->reset(d), 0);
	CHECK(!vq->started && !vhu_dev_vq(dev, 1)->started);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
	CHECK_EQ(vhu_dev_features(dev), 0);
	CHECK_EQ(t->starts, t->stops);

	/* Set up again and leave the rings running: the disconnect stops them. */
	CHECK_EQ(d->ops->set_features(d, T_FEATURES), 0);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	setup_ring(d, 0, 256, 0, kick, call);
	CHECK(vq->started);

	d->ops->destroy(d);
	t_wait_count(t, &t->disconnects, disc0 + 1);
	CHECK_EQ(vhu_dev_conn_fd(dev), -1);
	CHECK_EQ(vhu_dev_mem(dev)->nr, 0);
	CHECK(!vq->started);
	CHECK_EQ(vq->kick_fd, -1);
	CHECK_EQ(t->starts, t->stops);
	close(kick);
	close(call);
}

/* In-process back-end over a socketpair, REPLY_ACK off. */
static void socketpair_session(struct t_ram *ram)
{
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	struct vhost_dev *d;
	struct vhu_fe_opts o = {
		.protocol_features = VHU_FE_PROTOCOL_FEATURES &
				     ~(1ull << VHU_PROTOCOL_F_REPLY_ACK),
	};
	struct vq_mem mem;
	int sv[2], kick = eventfd(0, EFD_CLOEXEC);
	unsigned int base;

	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	CHECK_EQ(vhu_dev_set_conn_fd(dev, sv[0]), 0);
	t_server_start(&srv, dev);
	CHECK_EQ(vhu_fe_connect_fd(sv[1], &o, &d), 0);
	CHECK(!(vhu_fe_protocol_features(d) & (1ull << VHU_PROTOCOL_F_REPLY_ACK)));
	CHECK_EQ(d->ops->set_features(d, T_FEATURES), 0);
	t_ram_table(ram, &mem);
	CHECK_EQ(d->ops->set_mem_table(d, &mem), 0);
	setup_ring(d, 1, 64, 3, kick, -1);
	/* No acks: wait for the start the device reports. */
	t_wait_count(&t, &t.starts, 1);
	/* GET_VRING_BASE has its own reply, so it is synchronous anyway. */
	CHECK_EQ(d->ops->get_vring_base(d, 1, &base), 0);
	CHECK_EQ(base, 3);
	d->ops->destroy(d);
	t_wait_count(&t, &t.disconnects, 1);
	CHECK_EQ(vhu_dev_conn_fd(dev), -1);
	t_server_stop(&srv);
	vhu_dev_free(dev);
	close(kick);
	fprintf(stderr, "ok: socketpair session\n");
}

int main(void)
{
	struct t_path p;
	struct t_dev t;
	struct vhu_dev *dev;
	struct t_server srv;
	struct t_ram ram;
	int fds0, maps0 = 0;

	t_log_capture();
	t_ram_init(&ram, GPA, RAM);
	fds0 = t_count_fds();

	t_path_init(&p);
	t_dev_init(&t);
	CHECK_EQ(vhu_dev_new(&t_ops, &t, &dev), 0);
	CHECK_EQ(vhu_dev_listen(dev, p.sock), 0);
	t_server_start(&srv, dev);
	for (int i = 0; i < 3; i++) {
		session(&t, dev, p.sock, &ram);
		fprintf(stderr, "ok: session %d on %s\n", i, p.sock);
		/* (thread stacks and malloc arenas are there after session 0) */
		if (i == 0)
			maps0 = t_count_maps();
	}
	CHECK_EQ(t_count_maps(), maps0);
	t_server_stop(&srv);
	vhu_dev_free(dev);

	/* A stale socket file is replaced; a live one is refused. */
	{
		struct vhu_dev *a, *b;
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		struct sockaddr_un sa = { .sun_family = AF_UNIX };

		strcpy(sa.sun_path, p.sock);
		CHECK_EQ(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
		close(s);	/* stale file left behind */
		CHECK_EQ(vhu_dev_new(&t_ops, &t, &a), 0);
		CHECK_EQ(vhu_dev_listen(a, p.sock), 0);
		CHECK_EQ(vhu_dev_new(&t_ops, &t, &b), 0);
		CHECK_EQ(vhu_dev_listen(b, p.sock), -EADDRINUSE);
		vhu_dev_free(b);
		vhu_dev_free(a);
		CHECK(access(p.sock, F_OK) != 0);
	}
	t_path_fini(&p);

	socketpair_session(&ram);

	CHECK_EQ(t_count_fds(), fds0);
	t_ram_fini(&ram);
	fprintf(stderr, "vhu_loopback: all ok\n");
	return 0;
}
