// SPDX-License-Identifier: MIT
/*
 * The "vhost-user" transport of libvirtio-user: the gd_virtio_transport ops
 * done over a struct vhost_dev (the vhost-user front-end), so the same
 * drivers that run in guestlet over virtio-pci drive a vhost-user back-end
 * from a host process.
 *
 * The device status lives here (vhost-user has none): FEATURES_OK sends
 * SET_FEATURES (a refusal clears FEATURES_OK, as a device would); DRIVER_OK
 * sends SET_MEM_TABLE (the shared memfd) and starts every enabled queue
 * (NUM, ADDR, BASE 0, CALL, KICK, ENABLE); writing 0 stops the queues and
 * resets the back-end.  A failed message or a dead connection sets
 * NEEDS_RESET.
 *
 * Security model: the back-end is not trusted.  The front-end library checks
 * every reply; config bytes are copied into a bounded buffer; eventfd
 * counters read from the call fds only add to a statistic.  The rings
 * themselves are checked by vq_drv (see virtio/vq_drv.c).
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include <vhost-user/frontend.h>
#include <guest-drivers/virtio_user.h>

#define VU_CONFIG_MAX	256
#define VU_WAIT_MS	100	/* irq_wait re-checks the connection this often */

static struct gd_vu_transport *to_vt(struct gd_virtio_transport *t)
{
	return container_of(t, struct gd_vu_transport, t);
}

static void vu_fail(struct gd_vu_transport *vt, const char *what, int err)
{
	if (!(vt->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		vt->err = what;
		vt->err_no = err;
	}
	if (err == -ENOTCONN)
		vt->dead = true;
	vt->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
}

/* Has the back-end hung up?  (One poll(2) with no wait; not for hot paths.) */
static bool vu_conn_dead(struct gd_vu_transport *vt)
{
	struct pollfd p;
	int fd;

	if (!vhu_fe_alive(vt->be))
		return true;
	fd = vhu_fe_fd(vt->be);
	if (fd < 0)
		return true;
	p = (struct pollfd){ .fd = fd, .events = POLLRDHUP };
	return poll(&p, 1, 0) == 1 && (p.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

static u64 vu_get_features(struct gd_virtio_transport *t)
{
	return to_vt(t)->be->features;
}

static void vu_set_features(struct gd_virtio_transport *t, u64 features)
{
	struct gd_vu_transport *vt = to_vt(t);

	if (!(vt->status & VIRTIO_CONFIG_S_FEATURES_OK))
		vt->features = features;
}

static u8 vu_get_status(struct gd_virtio_transport *t)
{
	struct gd_vu_transport *vt = to_vt(t);

	if (vt->status && vu_conn_dead(vt))
		vu_fail(vt, "back-end disconnected", -ENOTCONN);
	return vt->status;
}

static void vu_stop(struct gd_vu_transport *vt)
{
	const struct vhost_ops *ops = vt->be->ops;
	unsigned int base;

	if (!vt->started)
		return;
	vt->started = false;
	for (unsigned int i = 0; i < vt->nr_queues; i++) {
		if (vt->q[i].enabled && !vt->dead && vhu_fe_alive(vt->be))
			ops->get_vring_base(vt->be, i, &base);
	}
}

static void vu_reset(struct gd_vu_transport *vt)
{
	u64 cnt;

	vu_stop(vt);
	if (vt->status && !vt->dead && vhu_fe_alive(vt->be) && vt->be->ops->reset)
		vt->be->ops->reset(vt->be);
	for (unsigned int i = 0; i < vt->nr_queues; i++) {
		struct gd_vu_queue *q = &vt->q[i];

		q->num = 0;
		q->desc = q->avail = q->used = 0;
		q->enabled = false;
		/* stale kicks and calls of the old incarnation */
		if (read(q->kick_fd, &cnt, sizeof(cnt)) < 0)
			(void)cnt;
		if (read(q->call_fd, &cnt, sizeof(cnt)) < 0)
			(void)cnt;
	}
	vt->features = 0;
	vt->status = 0;
	vt->err = NULL;
	vt->err_no = 0;
}

static int vu_start(struct gd_vu_transport *vt)
{
	const struct vhost_ops *ops = vt->be->ops;
	struct vq_mem mem;
	struct vq_mem_region r;
	void *base;
	size_t size;
	int fd, ret;

	gd_vu_mem_get(&fd, &base, &size);
	if (fd < 0) {
		vu_fail(vt, "no shared memory (gd_vu_mem_init)", -ENOMEM);
		return -ENOMEM;
	}
	vq_mem_init(&mem);
	r = (struct vq_mem_region){
		.gpa = 0, .size = size, .hva = (u64)(uintptr_t)base,
		.uaddr = (u64)(uintptr_t)base, .mmap_offset = 0, .fd = fd,
	};
	ret = vq_mem_add_region(&mem, &r);
	if (!ret)
		ret = ops->set_mem_table(vt->be, &mem);
	if (ret) {
		vu_fail(vt, "SET_MEM_TABLE", ret);
		return ret;
	}
	for (unsigned int i = 0; i < vt->nr_queues; i++) {
		struct gd_vu_queue *q = &vt->q[i];
		struct vhost_vring_gpas a = { .desc = q->desc, .avail = q->avail,
					      .used = q->used };
		const char *what = "SET_VRING_NUM";

		if (!q->enabled)
			continue;
		ret = ops->set_vring_num(vt->be, i, q->num);
		if (!ret && (what = "SET_VRING_ADDR"))
			ret = ops->set_vring_addr(vt->be, i, &a);
		if (!ret && (what = "SET_VRING_BASE"))
			ret = ops->set_vring_base(vt->be, i, 0);
		if (!ret && (what = "SET_VRING_CALL"))
			ret = ops->set_vring_call(vt->be, i, q->call_fd);
		if (!ret && (what = "SET_VRING_KICK"))
			ret = ops->set_vring_kick(vt->be, i, q->kick_fd);
		if (!ret && (what = "SET_VRING_ENABLE"))
			ret = ops->set_vring_enable(vt->be, i, true);
		if (ret) {
			vu_fail(vt, what, ret);
			return ret;
		}
	}
	vt->started = true;
	return 0;
}

static void vu_set_status(struct gd_virtio_transport *t, u8 s)
{
	struct gd_vu_transport *vt = to_vt(t);
	u8 old = vt->status;
	int ret;

	if (s == 0) {
		vu_reset(vt);
		return;
	}
	if (old & ~s & ~VIRTIO_CONFIG_S_NEEDS_RESET)
		return;		/* clearing a bit other than by reset: ignored */
	vt->status = s | (old & VIRTIO_CONFIG_S_NEEDS_RESET);
	if ((s & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		ret = vt->be->ops->set_features(vt->be, vt->features);
		if (ret) {
			vt->err = "SET_FEATURES";
			vt->err_no = ret;
			vt->status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
		}
	}
	if ((s & VIRTIO_CONFIG_S_DRIVER_OK) && !(old & VIRTIO_CONFIG_S_DRIVER_OK)) {
		if (!(vt->status & VIRTIO_CONFIG_S_FEATURES_OK))
			vu_fail(vt, "DRIVER_OK without FEATURES_OK", -EINVAL);
		else if (!(vt->status & VIRTIO_CONFIG_S_NEEDS_RESET))
			vu_start(vt);
	}
}

static unsigned int vu_num_queues(struct gd_virtio_transport *t)
{
	return to_vt(t)->nr_queues;
}

static unsigned int vu_queue_max_size(struct gd_virtio_transport *t, unsigned int q)
{
	return q < to_vt(t)->nr_queues ? GD_VU_QUEUE_MAX : 0;
}

static int vu_queue_setup(struct gd_virtio_transport *t, unsigned int qi,
			  unsigned int num, u64 desc, u64 avail, u64 used, u16 vector)
{
	struct gd_vu_transport *vt = to_vt(t);
	struct gd_vu_queue *q;

	(void)vector;	/* one call eventfd per queue */
	if (qi >= vt->nr_queues)
		return -ENOENT;
	q = &vt->q[qi];
	if (q->enabled || (vt->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return -EBUSY;
	if (!vq_size_valid(num) || num > GD_VU_QUEUE_MAX)
		return -EINVAL;
	q->num = num;
	q->desc = desc;
	q->avail = avail;
	q->used = used;
	return 0;
}

static int vu_queue_enable(struct gd_virtio_transport *t, unsigned int qi)
{
	struct gd_vu_transport *vt = to_vt(t);

	if (qi >= vt->nr_queues || !vt->q[qi].num)
		return -EINVAL;
	vt->q[qi].enabled = true;
	return 0;
}

static void vu_notify(struct gd_virtio_transport *t, unsigned int qi)
{
	struct gd_vu_transport *vt = to_vt(t);
	u64 one = 1;

	/* EAGAIN (counter saturated) still leaves the fd readable: fine. */
	if (qi < vt->nr_queues && write(vt->q[qi].kick_fd, &one, sizeof(one)) < 0)
		(void)one;
}

static int vu_config_read(struct gd_virtio_transport *t, u32 off, void *buf, u32 len)
{
	struct gd_vu_transport *vt = to_vt(t);
	u8 cfg[VU_CONFIG_MAX];
	int ret;

	if (off > VU_CONFIG_MAX || len > VU_CONFIG_MAX - off)
		return -EINVAL;
	if (!vt->be->ops->get_config)
		return -EOPNOTSUPP;
	/*
	 * Always from offset 0: some back-ends (libvhost-user-blk in QEMU)
	 * ignore the offset of GET_CONFIG and copy from the start.
	 */
	ret = vt->be->ops->get_config(vt->be, 0, cfg, off + len);
	if (ret)
		return ret;
	memcpy(buf, cfg + off, len);
	return 0;
}

static int vu_config_write(struct gd_virtio_transport *t, u32 off, const void *buf,
			   u32 len)
{
	struct gd_vu_transport *vt = to_vt(t);

	if (!vt->be->ops->set_config)
		return -EOPNOTSUPP;
	return vt->be->ops->set_config(vt->be, off, buf, len);
}

static u8 vu_isr_read(struct gd_virtio_transport *t)
{
	(void)t;
	return 0;
}

static u64 vu_irq_count(struct gd_virtio_transport *t, unsigned int qi)
{
	struct gd_vu_transport *vt = to_vt(t);
	u64 cnt;

	if (qi >= vt->nr_queues)
		return 0;
	if (read(vt->q[qi].call_fd, &cnt, sizeof(cnt)) == sizeof(cnt))
		vt->q[qi].irqs += cnt;
	return vt->q[qi].irqs;
}

static void vu_irq_wait(struct gd_virtio_transport *t, unsigned int qi, u64 seen)
{
	struct gd_vu_transport *vt = to_vt(t);
	struct pollfd p[2];

	if (qi >= vt->nr_queues)
		return;
	while (vu_irq_count(t, qi) == seen) {
		p[0] = (struct pollfd){ .fd = vt->q[qi].call_fd, .events = POLLIN };
		p[1] = (struct pollfd){ .fd = vhu_fe_fd(vt->be), .events = POLLRDHUP };
		if (p[1].fd < 0)
			return;
		if (poll(p, 2, VU_WAIT_MS) < 0 && errno != EINTR)
			return;
		if (p[1].revents & (POLLRDHUP | POLLHUP | POLLERR)) {
			vu_fail(vt, "back-end disconnected", -ENOTCONN);
			return;
		}
		if (!p[0].revents)
			return;		/* timeout: let the caller look again */
	}
}

static const struct gd_virtio_transport_ops vu_ops = {
	.name = "vhost-user",
	.get_features = vu_get_features,
	.set_features = vu_set_features,
	.get_status = vu_get_status,
	.set_status = vu_set_status,
	.num_queues = vu_num_queues,
	.queue_max_size = vu_queue_max_size,
	.queue_setup = vu_queue_setup,
	.queue_enable = vu_queue_enable,
	.notify = vu_notify,
	.config_read = vu_config_read,
	.config_write = vu_config_write,
	.isr_read = vu_isr_read,
	.irq_count = vu_irq_count,
	.irq_wait = vu_irq_wait,
};

int gd_vu_open(struct gd_vu_transport *vt, const char *path,
	       const struct gd_vu_opts *opts)
{
	struct vhu_fe_opts fo = { 0 };
	unsigned int i;
	int ret;

	memset(vt, 0, sizeof(*vt));
	vt->t.ops = &vu_ops;
	for (i = 0; i < GD_VU_MAX_QUEUES; i++)
		vt->q[i].kick_fd = vt->q[i].call_fd = -1;
	fo.protocol_features = VHU_FE_PROTOCOL_FEATURES;
	fo.reply_timeout_ms = opts ? opts->reply_timeout_ms : 0;
	ret = vhu_fe_connect(path, &fo, &vt->be);
	if (ret) {
		vt->be = NULL;
		return ret;
	}
	vt->nr_queues = vt->be->nr_queues;
	if (vt->nr_queues > GD_VU_MAX_QUEUES)
		vt->nr_queues = GD_VU_MAX_QUEUES;
	if (!vt->nr_queues)
		vt->nr_queues = 1;
	for (i = 0; i < vt->nr_queues; i++) {
		vt->q[i].kick_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		vt->q[i].call_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (vt->q[i].kick_fd < 0 || vt->q[i].call_fd < 0) {
			ret = -errno;
			gd_vu_close(vt);
			return ret;
		}
	}
	return 0;
}

void gd_vu_close(struct gd_vu_transport *vt)
{
	if (vt->be) {
		if (vt->status)
			vu_reset(vt);
		vt->be->ops->destroy(vt->be);
		vt->be = NULL;
	}
	for (unsigned int i = 0; i < GD_VU_MAX_QUEUES; i++) {
		if (vt->q[i].kick_fd >= 0)
			close(vt->q[i].kick_fd);
		if (vt->q[i].call_fd >= 0)
			close(vt->q[i].call_fd);
		vt->q[i].kick_fd = vt->q[i].call_fd = -1;
	}
}
