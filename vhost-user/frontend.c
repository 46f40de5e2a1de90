// SPDX-License-Identifier: MIT
/*
 * vhost-user front-end: struct vhost_ops over a unix socket.
 *
 * Security model: the back-end is hostile (it may be another user's process,
 * or crash half-way).  A reply is accepted only if its header says version 1
 * and REPLY, names the request we sent, has exactly the payload size that
 * request's reply has, and carries exactly the fds it may carry; anything
 * else closes every received fd, marks the connection dead and returns -EIO.
 * Values in replies (vring base, queue count, config size and offset,
 * inflight size) are range-checked before use.  Reads have a timeout, so a
 * silent back-end cannot hang the caller; writes use MSG_NOSIGNAL.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/virtio_ring.h>

#include <vhost-user/frontend.h>
#include "internal.h"

#define FE_DEFAULT_TIMEOUT_MS	30000

struct vhu_fe {
	struct vhost_dev vdev;
	int fd;
	bool dead;
	char *path;
	struct vhu_fe_opts opts;
	u64 offered;		/* GET_FEATURES, incl. PROTOCOL_FEATURES bit */
	u64 acked;		/* last SET_FEATURES */
	u64 proto;		/* negotiated protocol features */
	struct vq_mem mem;	/* last set_mem_table, to convert ring GPAs */
	u16 num[VHU_MAX_QUEUES];
	int inflight_fd;
	struct vhu_inflight inflight;
};

static const struct vhost_ops fe_ops;
int vhu_fe_fd(struct vhost_dev *d);

static struct vhu_fe *to_fe(struct vhost_dev *d)
{
	return container_of(d, struct vhu_fe, vdev);
}

static bool fe_proto(const struct vhu_fe *fe, unsigned int bit)
{
	return fe->proto & (1ull << bit);
}

static void fe_kill(struct vhu_fe *fe)
{
	if (fe->fd >= 0)
		close(fe->fd);
	fe->fd = -1;
	fe->dead = true;
}

/* A malformed reply or a broken transport: log, kill, -EIO. */
#define fe_bad(fe, req, fmt, ...)					\
	(vhu_log("vhost-user front-end: %s: " fmt "; closing connection", \
		 vhu_request_name(req), ##__VA_ARGS__), fe_kill(fe), -EIO)

struct xfer {
	u32 req;
	const void *out;
	u32 out_size;
	const int *fds;
	unsigned int nr_fds;
	bool has_reply;		/* the request has a reply of its own */
	void *in;		/* its payload, exactly in_size bytes... */
	u32 in_size;
	u32 in_min;		/* ...or at least in_min (inflight) */
	bool in_may_be_empty;	/* size 0 = the back-end's "failed" */
	int *in_fd;		/* the reply may carry one fd (else none) */
	u32 got_size;
};

static int fe_xfer(struct vhu_fe *fe, struct xfer *x)
{
	struct vhu_msg_hdr h = {
		.request = x->req, .flags = VHU_VERSION, .size = x->out_size,
	};
	bool ack = !x->has_reply && fe_proto(fe, VHU_PROTOCOL_F_REPLY_ACK);
	struct vhu_msg m;
	u32 lo, hi;
	u64 ackval;
	int r;

	if (fe->dead || fe->fd < 0)
		return -ENOTCONN;
	if (ack)
		h.flags |= VHU_FLAG_NEED_REPLY;
	r = vhu_send_msg(fe->fd, &h, x->out, x->fds, x->nr_fds);
	if (r)
		return fe_bad(fe, x->req, "send failed (%s)", strerror(-r));
	if (!x->has_reply && !ack)
		return 0;

	m.nr_fds = 0;
	r = vhu_recv_bytes(fe->fd, &m.hdr, sizeof(m.hdr), &m, false);
	if (r)
		goto bad_io;
	if (m.hdr.request != x->req) {
		vhu_msg_close_fds(&m);
		return fe_bad(fe, x->req, "reply names request %u", m.hdr.request);
	}
	if ((m.hdr.flags & VHU_VERSION_MASK) != VHU_VERSION ||
	    !(m.hdr.flags & VHU_FLAG_REPLY) || (m.hdr.flags & VHU_FLAG_NEED_REPLY)) {
		vhu_msg_close_fds(&m);
		return fe_bad(fe, x->req, "reply flags 0x%x", m.hdr.flags);
	}
	if (ack) {
		lo = hi = sizeof(u64);
	} else {
		hi = x->in_size;
		lo = x->in_min ? x->in_min : x->in_size;
	}
	if ((m.hdr.size < lo || m.hdr.size > hi) &&
	    !(x->in_may_be_empty && m.hdr.size == 0)) {
		vhu_msg_close_fds(&m);
		return fe_bad(fe, x->req, "reply size %u, expected %u..%u",
			      m.hdr.size, lo, hi);
	}
	r = vhu_recv_bytes(fe->fd, &m.payload, m.hdr.size, &m, false);
	if (r)
		goto bad_io;
	if (m.nr_fds > ((!ack && x->in_fd) ? 1u : 0u)) {
		unsigned int n = m.nr_fds;

		vhu_msg_close_fds(&m);
		return fe_bad(fe, x->req, "reply carries %u fds", n);
	}
	x->got_size = m.hdr.size;
	if (ack) {
		memcpy(&ackval, &m.payload, sizeof(ackval));
		return ackval ? -EIO : 0;
	}
	if (x->in_fd)
		*x->in_fd = m.nr_fds ? m.fds[0] : -1;
	memcpy(x->in, &m.payload, m.hdr.size);
	return 0;
bad_io:
	vhu_msg_close_fds(&m);
	return fe_bad(fe, x->req, "reading the reply failed (%s)", strerror(-r));
}

/* A request with a u64 payload (or none) and no reply of its own. */
static int fe_send_u64(struct vhu_fe *fe, u32 req, const u64 *v,
		       const int *fds, unsigned int nr_fds)
{
	struct xfer x = {
		.req = req, .out = v, .out_size = v ? sizeof(*v) : 0,
		.fds = fds, .nr_fds = nr_fds,
	};

	return fe_xfer(fe, &x);
}

static int fe_get_u64(struct vhu_fe *fe, u32 req, u64 *v)
{
	struct xfer x = {
		.req = req, .has_reply = true, .in = v, .in_size = sizeof(*v),
	};

	return fe_xfer(fe, &x);
}

static int fe_send_state(struct vhu_fe *fe, u32 req, unsigned int idx, u32 num)
{
	struct vhost_vring_state s = { .index = idx, .num = num };
	struct xfer x = { .req = req, .out = &s, .out_size = sizeof(s) };

	return fe_xfer(fe, &x);
}

/* --- handshake ----------------------------------------------------------- */

static int fe_handshake(struct vhu_fe *fe)
{
	u64 v;
	int r;

	fe->proto = 0;
	fe->acked = 0;
	memset(fe->num, 0, sizeof(fe->num));
	r = fe_get_u64(fe, VHU_REQ_GET_FEATURES, &fe->offered);
	if (r)
		return r;
	fe->vdev.features = fe->offered & ~(1ull << VHU_F_PROTOCOL_FEATURES);
	fe->vdev.nr_queues = fe->opts.nr_queues ? fe->opts.nr_queues : 1;
	if (fe->offered & (1ull << VHU_F_PROTOCOL_FEATURES)) {
		r = fe_get_u64(fe, VHU_REQ_GET_PROTOCOL_FEATURES, &v);
		if (r)
			return r;
		v &= VHU_FE_PROTOCOL_FEATURES & fe->opts.protocol_features;
		r = fe_send_u64(fe, VHU_REQ_SET_PROTOCOL_FEATURES, &v, NULL, 0);
		if (r)
			return r;
		fe->proto = v;
	}
	if (fe_proto(fe, VHU_PROTOCOL_F_MQ)) {
		r = fe_get_u64(fe, VHU_REQ_GET_QUEUE_NUM, &v);
		if (r)
			return r;
		if (v == 0 || v > 0xffff)
			return fe_bad(fe, VHU_REQ_GET_QUEUE_NUM, "%llu queues",
				      (unsigned long long)v);
		fe->vdev.nr_queues = v;
	}
	return fe_send_u64(fe, VHU_REQ_SET_OWNER, NULL, NULL, 0);
}

static int fe_connect_path(const char *path, int *fdp)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	*fdp = fd;
	return 0;
}

static int fe_attach(struct vhu_fe *fe, int fd)
{
	int r = vhu_sock_setup(fd, fe->opts.reply_timeout_ms);

	fe->fd = fd;
	fe->dead = false;
	if (r) {
		fe_kill(fe);
		return r;
	}
	r = fe_handshake(fe);
	if (r) {
		fe_kill(fe);
		return r == -ENOTCONN ? -EIO : r;
	}
	return 0;
}

static int fe_new(const char *path, int fd, const struct vhu_fe_opts *opts,
		  struct vhost_dev **out)
{
	struct vhu_fe *fe = calloc(1, sizeof(*fe));
	int r;

	if (!fe) {
		close(fd);
		return -ENOMEM;
	}
	fe->vdev.ops = &fe_ops;
	fe->fd = -1;
	fe->inflight_fd = -1;
	vq_mem_init(&fe->mem);
	if (opts) {
		fe->opts = *opts;
	} else {
		fe->opts.protocol_features = VHU_FE_PROTOCOL_FEATURES;
	}
	if (!fe->opts.reply_timeout_ms)
		fe->opts.reply_timeout_ms = FE_DEFAULT_TIMEOUT_MS;
	if (path) {
		fe->path = strdup(path);
		if (!fe->path) {
			close(fd);
			free(fe);
			return -ENOMEM;
		}
	}
	r = fe_attach(fe, fd);
	if (r) {
		free(fe->path);
		free(fe);
		return r;
	}
	*out = &fe->vdev;
	return 0;
}

int vhu_fe_connect(const char *path, const struct vhu_fe_opts *opts,
		   struct vhost_dev **out)
{
	int fd, r = fe_connect_path(path, &fd);

	if (r)
		return r;
	return fe_new(path, fd, opts, out);
}

int vhu_fe_connect_fd(int fd, const struct vhu_fe_opts *opts,
		      struct vhost_dev **out)
{
	return fe_new(NULL, fd, opts, out);
}

int vhu_fe_reconnect(struct vhost_dev *d, int fd)
{
	struct vhu_fe *fe = to_fe(d);
	int r;

	fe_kill(fe);
	if (fd < 0) {
		if (!fe->path)
			return -EINVAL;
		r = fe_connect_path(fe->path, &fd);
		if (r)
			return r;
	}
	return fe_attach(fe, fd);
}

bool vhu_fe_is(const struct vhost_dev *d)
{
	return d && d->ops == &fe_ops;
}

int vhu_fe_fd(struct vhost_dev *d)
{
	return to_fe(d)->fd;
}

bool vhu_fe_alive(struct vhost_dev *d)
{
	return !to_fe(d)->dead;
}

u64 vhu_fe_protocol_features(struct vhost_dev *d)
{
	return to_fe(d)->proto;
}

int vhu_fe_setup_inflight(struct vhost_dev *d, u16 num_queues, u16 queue_size)
{
	struct vhu_fe *fe = to_fe(d);
	int r;

	if (fe->dead)
		return -ENOTCONN;
	if (!fe_proto(fe, VHU_PROTOCOL_F_INFLIGHT_SHMFD))
		return -EOPNOTSUPP;
	if (!num_queues || !queue_size)
		return -EINVAL;
	if (fe->inflight_fd < 0) {
		struct vhu_inflight req = {
			.num_queues = num_queues, .queue_size = queue_size,
		}, rep = { 0 };
		int fd = -1;
		struct xfer x = {
			.req = VHU_REQ_GET_INFLIGHT_FD, .out = &req,
			.out_size = sizeof(req), .has_reply = true, .in = &rep,
			.in_size = sizeof(rep), .in_min = VHU_INFLIGHT_MIN_SIZE,
			.in_fd = &fd,
		};

		r = fe_xfer(fe, &x);
		if (r)
			return r;
		if (rep.mmap_size == 0 && fd < 0)
			return -EOPNOTSUPP;	/* the back-end has no region */
		if (fd < 0 || rep.mmap_size == 0 ||
		    rep.mmap_size > UINT64_MAX - rep.mmap_offset) {
			if (fd >= 0)
				close(fd);
			return fe_bad(fe, VHU_REQ_GET_INFLIGHT_FD,
				      "region size %llu offset %llu, fd %s",
				      (unsigned long long)rep.mmap_size,
				      (unsigned long long)rep.mmap_offset,
				      fd < 0 ? "missing" : "present");
		}
		rep.num_queues = num_queues;
		rep.queue_size = queue_size;
		rep.padding = 0;
		fe->inflight = rep;
		fe->inflight_fd = fd;
	}
	{
		struct xfer x = {
			.req = VHU_REQ_SET_INFLIGHT_FD, .out = &fe->inflight,
			.out_size = sizeof(fe->inflight), .fds = &fe->inflight_fd,
			.nr_fds = 1,
		};

		return fe_xfer(fe, &x);
	}
}

/* --- struct vhost_ops ---------------------------------------------------- */

static int fe_get_features(struct vhost_dev *d, u64 *features)
{
	struct vhu_fe *fe = to_fe(d);

	if (fe->dead)
		return -ENOTCONN;
	*features = d->features;
	return 0;
}

static int fe_set_features(struct vhost_dev *d, u64 features)
{
	struct vhu_fe *fe = to_fe(d);
	u64 f = features & ~(1ull << VHU_F_PROTOCOL_FEATURES);
	int r;

	if (f & ~d->features)
		return -EINVAL;
	f |= fe->offered & (1ull << VHU_F_PROTOCOL_FEATURES);
	r = fe_send_u64(fe, VHU_REQ_SET_FEATURES, &f, NULL, 0);
	if (!r)
		fe->acked = f;
	return r;
}

static int fe_set_owner(struct vhost_dev *d)
{
	/* Done by the handshake. */
	return to_fe(d)->dead ? -ENOTCONN : 0;
}

static int fe_set_mem_table(struct vhost_dev *d, const struct vq_mem *mem)
{
	struct vhu_fe *fe = to_fe(d);
	struct vhu_mem_table t = { 0 };
	int fds[VHU_MEM_BASELINE_REGIONS];
	struct vq_mem copy;
	unsigned int i;
	int r;

	if (mem->nr == 0 || mem->nr > VHU_MEM_BASELINE_REGIONS)
		return mem->nr ? -E2BIG : -EINVAL;
	vq_mem_init(&copy);
	for (i = 0; i < mem->nr; i++) {
		const struct vq_mem_region *g = &mem->regions[i];
		struct vq_mem_region c = *g;

		if (g->fd < 0)
			return -EINVAL;
		c.uaddr = g->hva;
		r = vq_mem_add_region(&copy, &c);
		if (r)
			return r;
		t.regions[i] = (struct vhu_mem_region){
			.guest_phys_addr = g->gpa, .memory_size = g->size,
			.userspace_addr = g->hva, .mmap_offset = g->mmap_offset,
		};
		fds[i] = g->fd;
	}
	t.nregions = mem->nr;
	{
		struct xfer x = {
			.req = VHU_REQ_SET_MEM_TABLE, .out = &t,
			.out_size = 8 + mem->nr * sizeof(struct vhu_mem_region),
			.fds = fds, .nr_fds = mem->nr,
		};

		r = fe_xfer(fe, &x);
	}
	if (!r)
		fe->mem = copy;
	return r;
}

static int fe_set_vring_num(struct vhost_dev *d, unsigned int idx, unsigned int num)
{
	struct vhu_fe *fe = to_fe(d);
	int r;

	if (idx >= VHU_MAX_QUEUES || num == 0 || num > VHU_MAX_QUEUE_SIZE)
		return -EINVAL;
	r = fe_send_state(fe, VHU_REQ_SET_VRING_NUM, idx, num);
	if (!r)
		fe->num[idx] = num;
	return r;
}

static int fe_set_vring_addr(struct vhost_dev *d, unsigned int idx,
			     const struct vhost_vring_gpas *addr)
{
	struct vhu_fe *fe = to_fe(d);
	struct vhost_vring_addr a = { .index = idx };
	u64 ua[3];
	struct xfer x = { .req = VHU_REQ_SET_VRING_ADDR, .out = &a,
			  .out_size = sizeof(a) };

	if (fe->dead)
		return -ENOTCONN;
	if (idx >= VHU_MAX_QUEUES || !fe->num[idx])
		return -EINVAL;
	/* The back-end gets our addresses of the rings (user addresses). */
	if (vq_mem_split_ring_hvas(&fe->mem, addr->desc, addr->avail, addr->used, fe->num[idx],
				   fe->acked & (1ull << VIRTIO_RING_F_EVENT_IDX), ua))
		return -EFAULT;
	a.desc_user_addr = ua[0];
	a.avail_user_addr = ua[1];
	a.used_user_addr = ua[2];
	a.flags = addr->flags;
	a.log_guest_addr = addr->log;
	return fe_xfer(fe, &x);
}

static int fe_set_vring_base(struct vhost_dev *d, unsigned int idx, unsigned int base)
{
	if (idx >= VHU_MAX_QUEUES || base > 0xffff)
		return -EINVAL;
	return fe_send_state(to_fe(d), VHU_REQ_SET_VRING_BASE, idx, base);
}

static int fe_get_vring_base(struct vhost_dev *d, unsigned int idx, unsigned int *base)
{
	struct vhu_fe *fe = to_fe(d);
	struct vhost_vring_state s = { .index = idx }, rep;
	struct xfer x = {
		.req = VHU_REQ_GET_VRING_BASE, .out = &s, .out_size = sizeof(s),
		.has_reply = true, .in = &rep, .in_size = sizeof(rep),
	};
	int r;

	if (idx >= VHU_MAX_QUEUES)
		return -EINVAL;
	r = fe_xfer(fe, &x);
	if (r)
		return r;
	if (rep.index != idx || rep.num > 0xffff)
		return fe_bad(fe, x.req, "reply for vring %u base %u", rep.index,
			      rep.num);
	*base = rep.num;
	return 0;
}

static int fe_set_vring_fd(struct vhost_dev *d, u32 req, unsigned int idx, int fd)
{
	u64 v = idx;

	if (idx >= VHU_MAX_QUEUES)
		return -EINVAL;
	if (fd < 0)
		v |= VHU_VRING_NOFD;
	return fe_send_u64(to_fe(d), req, &v, fd >= 0 ? &fd : NULL, fd >= 0);
}

static int fe_set_vring_kick(struct vhost_dev *d, unsigned int idx, int fd)
{
	return fe_set_vring_fd(d, VHU_REQ_SET_VRING_KICK, idx, fd);
}

static int fe_set_vring_call(struct vhost_dev *d, unsigned int idx, int fd)
{
	return fe_set_vring_fd(d, VHU_REQ_SET_VRING_CALL, idx, fd);
}

static int fe_set_vring_err(struct vhost_dev *d, unsigned int idx, int fd)
{
	return fe_set_vring_fd(d, VHU_REQ_SET_VRING_ERR, idx, fd);
}

static int fe_set_vring_enable(struct vhost_dev *d, unsigned int idx, bool enable)
{
	struct vhu_fe *fe = to_fe(d);

	if (fe->dead)
		return -ENOTCONN;
	if (idx >= VHU_MAX_QUEUES)
		return -EINVAL;
	if (!(fe->acked & (1ull << VHU_F_PROTOCOL_FEATURES)))
		return enable ? 0 : -EOPNOTSUPP;	/* legacy: enabled by kick */
	return fe_send_state(fe, VHU_REQ_SET_VRING_ENABLE, idx, enable);
}

static int fe_get_config(struct vhost_dev *d, u32 offset, void *buf, u32 len)
{
	struct vhu_fe *fe = to_fe(d);
	struct vhu_config c = { .offset = offset, .size = len }, rep;
	struct xfer x = {
		.req = VHU_REQ_GET_CONFIG, .out = &c,
		.out_size = VHU_CONFIG_HDR_SIZE + len, .has_reply = true,
		.in = &rep, .in_size = VHU_CONFIG_HDR_SIZE + len,
		.in_may_be_empty = true,
	};
	int r;

	if (fe->dead)
		return -ENOTCONN;
	if (!fe_proto(fe, VHU_PROTOCOL_F_CONFIG))
		return -EOPNOTSUPP;
	if (len > VHU_MAX_CONFIG_SIZE || offset > VHU_MAX_CONFIG_SIZE - len)
		return -EINVAL;
	r = fe_xfer(fe, &x);
	if (r)
		return r;
	if (x.got_size == 0)
		return -EIO;	/* the back-end said it failed */
	if (rep.offset != offset || rep.size != len)
		return fe_bad(fe, x.req, "reply for offset %u size %u", rep.offset,
			      rep.size);
	memcpy(buf, rep.region, len);
	return 0;
}

static int fe_set_config(struct vhost_dev *d, u32 offset, const void *buf, u32 len)
{
	struct vhu_fe *fe = to_fe(d);
	struct vhu_config c = { .offset = offset, .size = len,
				.flags = VHU_SET_CONFIG_FRONTEND };
	struct xfer x = {
		.req = VHU_REQ_SET_CONFIG, .out = &c,
		.out_size = VHU_CONFIG_HDR_SIZE + len,
	};

	if (fe->dead)
		return -ENOTCONN;
	if (!fe_proto(fe, VHU_PROTOCOL_F_CONFIG))
		return -EOPNOTSUPP;
	if (len > VHU_MAX_CONFIG_SIZE || offset > VHU_MAX_CONFIG_SIZE - len)
		return -EINVAL;
	memcpy(c.region, buf, len);
	return fe_xfer(fe, &x);
}

static int fe_reset(struct vhost_dev *d)
{
	struct vhu_fe *fe = to_fe(d);
	int r;

	r = fe_send_u64(fe, fe_proto(fe, VHU_PROTOCOL_F_RESET_DEVICE) ?
			VHU_REQ_RESET_DEVICE : VHU_REQ_RESET_OWNER, NULL, NULL, 0);
	if (!r) {
		memset(fe->num, 0, sizeof(fe->num));
		fe->acked = 0;
	}
	return r;
}

static void fe_destroy(struct vhost_dev *d)
{
	struct vhu_fe *fe;

	if (!d)
		return;
	fe = to_fe(d);
	fe_kill(fe);
	if (fe->inflight_fd >= 0)
		close(fe->inflight_fd);
	free(fe->path);
	free(fe);
}

static const struct vhost_ops fe_ops = {
	.name = "vhost-user",
	.get_features = fe_get_features,
	.set_features = fe_set_features,
	.set_owner = fe_set_owner,
	.set_mem_table = fe_set_mem_table,
	.set_vring_num = fe_set_vring_num,
	.set_vring_addr = fe_set_vring_addr,
	.set_vring_base = fe_set_vring_base,
	.get_vring_base = fe_get_vring_base,
	.set_vring_kick = fe_set_vring_kick,
	.set_vring_call = fe_set_vring_call,
	.set_vring_err = fe_set_vring_err,
	.set_vring_enable = fe_set_vring_enable,
	.get_config = fe_get_config,
	.set_config = fe_set_config,
	.reset = fe_reset,
	.destroy = fe_destroy,
	.conn_fd = vhu_fe_fd,
};
