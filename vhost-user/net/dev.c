// SPDX-License-Identifier: MIT
/*
 * vhost-user-net control plane: one struct vhu_dev per socket, whose queue
 * callbacks start and stop the per-queue-pair threads (datapath.c).
 *
 * Security model: everything the front-end sends is validated by the
 * vhost-user library (backend.c) before these callbacks run; here only
 * config-space reads take an offset and length from the peer, and they are
 * bounds-checked against the config structure.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>

#include "internal.h"

#define F(bit) (1ULL << (bit))

/* Offloads the port can carry, offered to the guest as they are. */
#define OFFLOAD_FEATURES (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_GUEST_CSUM) | \
	F(VIRTIO_NET_F_HOST_TSO4) | F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_ECN) | \
	F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN))

u64 vun_dev_offered_features(const struct vun *app, unsigned int nr_qp)
{
	/*
	 * IN_ORDER: both directions pop chains in ring order and publish them
	 * in that same order (dropped ones included, with length 0), which
	 * lets drivers use their cheaper in-order paths (DPDK's virtio PMD).
	 */
	u64 f = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
		F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_RING_F_INDIRECT_DESC) |
		F(VIRTIO_F_IN_ORDER) | F(VIRTIO_NET_F_STATUS) | F(VIRTIO_NET_F_MTU);

	f |= app->port->features & OFFLOAD_FEATURES;
	if (app->has_mac)
		f |= F(VIRTIO_NET_F_MAC);
	/* MQ needs a control queue; front-ends (QEMU, virtio_user) run it. */
	if (nr_qp > 1)
		f |= F(VIRTIO_NET_F_MQ) | F(VIRTIO_NET_F_CTRL_VQ);
	return f;
}

static struct vun_dev *to_dev(struct vhu_dev *vhu)
{
	return vhu_dev_opaque(vhu);
}

static int get_config(struct vhu_dev *vhu, u32 offset, void *buf, u32 len)
{
	struct vun_dev *d = to_dev(vhu);
	struct virtio_net_config c;

	memset(&c, 0, sizeof(c));
	memcpy(c.mac, d->app->mac, 6);
	c.status = cpu_to_le16(VIRTIO_NET_S_LINK_UP);
	c.max_virtqueue_pairs = cpu_to_le16(d->nr_qp);
	c.mtu = cpu_to_le16(d->app->port->mtu);
	/* offset and len are the peer's: u64 sum cannot wrap */
	if ((u64)offset + len > sizeof(c))
		return -EINVAL;
	memcpy(buf, (u8 *)&c + offset, len);
	return 0;
}

static void hdr_cfg_all(struct vun_dev *d)
{
	unsigned int i;

	for (i = 0; i < d->nr_qp; i++)
		net_hdr_cfg_init(&d->qp[i].cfg, d->features, d->app->port->mtu);
}

static int set_features(struct vhu_dev *vhu, u64 features)
{
	struct vun_dev *d = to_dev(vhu);
	unsigned int i;
	int r;

	/* Threads read the header config: change it with them stopped. */
	for (i = 0; i < d->nr_qp; i++)
		vun_qp_stop(&d->qp[i]);
	if (features != d->features)
		vun_log("%s: features 0x%llx", d->path, (unsigned long long)features);
	d->features = features;
	hdr_cfg_all(d);
	r = net_port_set_offloads(d->app->port, features);
	if (r)
		vun_log("%s: port %s refused the guest's offloads: %s", d->path,
			d->app->port->name, strerror(-r));
	for (i = 0; i < d->nr_qp; i++)
		vun_qp_start(&d->qp[i]);
	return 0;
}

static int queue_start(struct vhu_dev *vhu, struct vhu_vq *vq)
{
	struct vun_dev *d = to_dev(vhu);
	struct vun_qp *qp;
	bool tx = vq->idx & 1;
	int r;

	if (vq->idx >= 2 * d->nr_qp)
		return 0;	/* the control queue: the front-end handles it */
	qp = &d->qp[vq->idx / 2];
	vun_qp_stop(qp);
	r = vhu_vq_ring_start(vq, tx ? &qp->txq : &qp->rxq);
	if (r) {
		vun_log("%s: queue %u: cannot use the ring: %s", d->path, vq->idx,
			strerror(-r));
		vun_qp_start(qp);
		return r;
	}
	if (tx) {
		qp->tx_on = true;
		qp->tx_err_logged = false;
		qp->tx_kick = vq->kick_fd;
		qp->tx_call = vq->call_fd;
	} else {
		qp->rx_on = true;
		qp->rx_err_logged = false;
		qp->rx_kick = vq->kick_fd;
		qp->rx_call = vq->call_fd;
	}
	return vun_qp_start(qp);
}

static void queue_stop(struct vhu_dev *vhu, struct vhu_vq *vq)
{
	struct vun_dev *d = to_dev(vhu);
	struct vun_qp *qp;

	if (vq->idx >= 2 * d->nr_qp)
		return;
	qp = &d->qp[vq->idx / 2];
	vun_qp_stop(qp);
	if (vq->idx & 1) {
		if (qp->tx_on)
			vq->last_avail_idx = vq_stop(&qp->txq);
		qp->tx_on = false;
		qp->tx_kick = qp->tx_call = -1;
	} else {
		vun_qp_rx_release(qp);
		if (qp->rx_on)
			vq->last_avail_idx = vq_stop(&qp->rxq);
		qp->rx_on = false;
		qp->rx_kick = qp->rx_call = -1;
	}
	vun_qp_start(qp);
}

static void disconnected(struct vhu_dev *vhu)
{
	struct vun_dev *d = to_dev(vhu);

	vun_log("%s: front-end disconnected", d->path);
	d->features = 0;
}

int vun_dev_init(struct vun *app, struct vun_dev *d, const char *path,
		 unsigned int nr_qp, u16 port_q0)
{
	unsigned int i;
	int r;

	memset(d, 0, sizeof(*d));
	d->app = app;
	d->path = path;
	d->nr_qp = nr_qp;
	d->conn_fd = -1;
	d->qp = calloc(nr_qp, sizeof(*d->qp));
	if (!d->qp)
		return -ENOMEM;
	for (i = 0; i < nr_qp; i++)
		d->qp[i].stop_fd = -1;
	for (i = 0; i < nr_qp; i++) {
		struct vun_qp *qp = &d->qp[i];

		qp->dev = d;
		qp->port = app->port;
		qp->idx = i;
		qp->port_q = port_q0 + i;
		qp->cpu = app->nr_cpus ? app->cpus[(port_q0 + i) % app->nr_cpus] : -1;
		qp->rx_kick = qp->rx_call = qp->tx_kick = qp->tx_call = -1;
		net_tune_init(&qp->tx_flush, app->tx_flush);
		net_tune_init(&qp->rx_prefetch, app->rx_prefetch);
		qp->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		if (qp->stop_fd < 0) {
			r = -errno;
			goto fail;
		}
	}
	hdr_cfg_all(d);
	d->ops = (struct vhu_dev_ops){
		.name = path,
		.features = vun_dev_offered_features(app, nr_qp),
		.protocol_features = F(VHU_PROTOCOL_F_MQ) | F(VHU_PROTOCOL_F_REPLY_ACK) |
			F(VHU_PROTOCOL_F_CONFIG) | F(VHU_PROTOCOL_F_RESET_DEVICE) |
			F(VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS),
		.nr_queues = 2 * nr_qp + (nr_qp > 1),
		.get_config = get_config,
		.set_features = set_features,
		.queue_start = queue_start,
		.queue_stop = queue_stop,
		.disconnected = disconnected,
	};
	r = vhu_dev_new(&d->ops, d, &d->vhu);
	if (r)
		goto fail;
	r = vhu_dev_listen(d->vhu, path);
	if (r) {
		vun_log("%s: cannot listen: %s", path, strerror(-r));
		goto fail;
	}
	return 0;
fail:
	vun_dev_fini(d);
	return r;
}

void vun_dev_fini(struct vun_dev *d)
{
	unsigned int i;

	if (d->vhu)
		vhu_dev_free(d->vhu);	/* stops every queue: threads joined */
	d->vhu = NULL;
	for (i = 0; d->qp && i < d->nr_qp; i++) {
		vun_qp_stop(&d->qp[i]);
		if (d->qp[i].stop_fd >= 0)
			close(d->qp[i].stop_fd);
	}
	free(d->qp);
	d->qp = NULL;
}

int vun_dev_stats_json(struct vun_dev *d, FILE *f)
{
	struct net_queue_stats qs[NET_MAX_QUEUES];
	struct net_port_stats ps;
	unsigned int i;
	bool have_port = net_port_stats(d->app->port, &ps) == 0;

	for (i = 0; i < d->nr_qp; i++) {
		qs[i] = d->qp[i].st;
		vun_qp_times(&d->qp[i], &qs[i].busy_ns, &qs[i].idle_ns);
		net_tune_stats(&d->qp[i].tx_flush, &qs[i].tx_flush);
		net_tune_stats(&d->qp[i].rx_prefetch, &qs[i].rx_prefetch);
	}
	return net_stats_json(f, d->path, qs, d->nr_qp, have_port ? &ps : NULL);
}
