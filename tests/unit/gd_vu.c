// SPDX-License-Identifier: MIT
/*
 * libvirtio-user's vhost-user transport against our vhost-user back-end
 * library on a thread (a real unix socket): the driver's init sequence mapped
 * onto vhost-user messages.  A legacy-only device is refused (-ENODEV), a
 * back-end that rejects SET_FEATURES makes FEATURES_OK fail (-EOPNOTSUPP, the
 * transport says which message), a good device gets our memfd in its memory
 * table and its queue started at DRIVER_OK and stopped at reset, config comes
 * through GET_CONFIG, and a back-end that goes away shows as NEEDS_RESET.
 */
#include "vhu_test.h"

#include <guest-drivers/blk.h>
#include <guest-drivers/virtio_user.h>

#define GOOD_FEATURES ((1ull << VIRTIO_F_VERSION_1) | (1ull << VIRTIO_RING_F_EVENT_IDX) | \
		       (1ull << VIRTIO_RING_F_INDIRECT_DESC) | (1ull << VIRTIO_BLK_F_BLK_SIZE) | \
		       (1ull << VIRTIO_BLK_F_FLUSH))

static int refuse_features(struct vhu_dev *dev, u64 features)
{
	(void)dev;
	(void)features;
	return -EINVAL;
}

static int blk_get_config(struct vhu_dev *dev, u32 off, void *buf, u32 len)
{
	struct virtio_blk_config c;

	(void)dev;
	memset(&c, 0, sizeof(c));
	c.capacity = cpu_to_le64(1234);
	c.blk_size = cpu_to_le32(4096);
	if (off > sizeof(c) || len > sizeof(c) - off)
		return -EINVAL;
	memcpy(buf, (u8 *)&c + off, len);
	return 0;
}

struct rig {
	struct t_path path;
	struct t_dev t;
	struct vhu_dev_ops ops;
	struct vhu_dev *dev;
	struct t_server srv;
	struct gd_vu_transport vt;
};

static void rig_up(struct rig *r, u64 features, int (*set_features)(struct vhu_dev *, u64))
{
	t_path_init(&r->path);
	t_dev_init(&r->t);
	r->ops = t_ops;
	r->ops.features = features;
	r->ops.nr_queues = 1;
	r->ops.set_features = set_features;
	r->ops.get_config = blk_get_config;
	CHECK_EQ(vhu_dev_new(&r->ops, &r->t, &r->dev), 0);
	CHECK_EQ(vhu_dev_listen(r->dev, r->path.sock), 0);
	t_server_start(&r->srv, r->dev);
	CHECK_EQ(gd_vu_open(&r->vt, r->path.sock, NULL), 0);
	CHECK_EQ(r->vt.nr_queues, 1);
}

static void rig_down(struct rig *r, bool close_first)
{
	if (close_first)
		gd_vu_close(&r->vt);
	t_server_stop(&r->srv);
	vhu_dev_free(r->dev);
	if (!close_first)
		gd_vu_close(&r->vt);
	t_path_fini(&r->path);
}

int main(void)
{
	struct rig r;
	struct gd_blk b;
	int fd;
	void *base;
	size_t size;

	t_log_capture();
	CHECK_EQ(gd_vu_mem_init(8 << 20, 0), 0);
	CHECK_EQ(gd_vu_mem_init(8 << 20, 0), -EBUSY);
	gd_vu_mem_get(&fd, &base, &size);
	CHECK(fd >= 0 && base && size == 8 << 20);
	/* sealed: a back-end cannot resize the RAM it is handed (SECURITY.md 18) */
	CHECK((fcntl(fd, F_GET_SEALS) & (F_SEAL_SHRINK | F_SEAL_GROW)) ==
	      (F_SEAL_SHRINK | F_SEAL_GROW));
	CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);

	/* nobody listening */
	CHECK(gd_vu_open(&r.vt, "/nonexistent/vioplane.sock", NULL) < 0);

	/* legacy-only device: no VERSION_1 */
	rig_up(&r, 1ull << VIRTIO_RING_F_EVENT_IDX, NULL);
	CHECK_EQ(gd_blk_init(&b, &r.vt.t, NULL), -ENODEV);
	gd_blk_destroy(&b);
	rig_down(&r, true);

	/* the back-end refuses SET_FEATURES: FEATURES_OK does not stick */
	rig_up(&r, GOOD_FEATURES, refuse_features);
	CHECK_EQ(gd_blk_init(&b, &r.vt.t, NULL), -EOPNOTSUPP);
	CHECK(r.vt.err && !strcmp(r.vt.err, "SET_FEATURES"));
	CHECK(!(r.vt.status & VIRTIO_CONFIG_S_FEATURES_OK));
	CHECK(r.vt.status & VIRTIO_CONFIG_S_FAILED);
	gd_blk_destroy(&b);
	rig_down(&r, true);

	/* a good device: memory table, config, queue start and stop */
	rig_up(&r, GOOD_FEATURES, NULL);
	CHECK_EQ(gd_blk_init(&b, &r.vt.t, NULL), 0);
	CHECK_EQ(b.capacity, 1234);
	CHECK_EQ(b.blk_size, 4096);
	CHECK(b.indirect && b.event_idx && b.flush && !b.discard);
	CHECK_EQ(vhu_dev_features(r.dev) & ~(1ull << VHU_F_PROTOCOL_FEATURES), GOOD_FEATURES);
	t_wait_count(&r.t, &r.t.starts, 1);
	CHECK_EQ(vhu_dev_mem(r.dev)->nr, 1);
	CHECK_EQ(vhu_dev_mem(r.dev)->regions[0].gpa, 0);
	CHECK_EQ(vhu_dev_mem(r.dev)->regions[0].size, size);
	CHECK_EQ(vhu_dev_mem(r.dev)->regions[0].uaddr, (u64)(uintptr_t)base);
	CHECK_EQ(gd_blk_check(&b), 0);
	gd_blk_destroy(&b);		/* status 0: the back-end stops the queue */
	t_wait_count(&r.t, &r.t.stops, 1);
	CHECK_EQ(r.vt.status, 0);
	rig_down(&r, true);
	t_wait_count(&r.t, &r.t.disconnects, 1);

	/* the back-end goes away under a running device: NEEDS_RESET */
	rig_up(&r, GOOD_FEATURES, NULL);
	CHECK_EQ(gd_blk_init(&b, &r.vt.t, NULL), 0);
	t_wait_count(&r.t, &r.t.starts, 1);
	t_server_stop(&r.srv);
	vhu_dev_free(r.dev);		/* closes the connection */
	CHECK_EQ(gd_blk_check(&b), -EIO);
	CHECK(r.vt.status & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(r.vt.dead);
	gd_blk_destroy(&b);		/* sends nothing to the dead peer */
	gd_vu_close(&r.vt);
	t_path_fini(&r.path);

	printf("gd_vu: ok\n");
	return 0;
}
