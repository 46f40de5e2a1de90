// SPDX-License-Identifier: MIT
/*
 * The virtio-net control queue, which vmm serves itself (virtio 1.2 5.1.6.5):
 * in vhost-user and vhost-net the back-end runs only the data queues.  The
 * one class vmm offers is VIRTIO_NET_CTRL_MQ: VQ_PAIRS_SET turns queue pairs
 * on and off in the back-end (SET_VRING_ENABLE), as QEMU does.  Everything
 * else is answered VIRTIO_NET_ERR.
 *
 * The guest is hostile: chains are validated by the virtqueue core (vq_pop);
 * a command must have its 2-byte header and exact data in driver-readable
 * buffers and at least one device-writable byte for the ack, else it is
 * answered with an error if it can be, and the queue stays usable.
 */
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <linux/virtio_net.h>

#include "virtio_pci.h"

#define vn_log(d, fmt, ...) fprintf(stderr, "vmm: %s: " fmt "\n", (d)->name, ##__VA_ARGS__)

/* Copy up to @len bytes of the readable part from @off into @buf; bytes copied. */
static size_t rd_copy(const struct vq_req *r, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < r->nr_rd && done < len; i++) {
		size_t l = r->rd[i].iov_len;

		if (off >= l) {
			off -= l;
			continue;
		}
		l -= off;
		if (l > len - done)
			l = len - done;
		memcpy((u8 *)buf + done, (u8 *)r->rd[i].iov_base + off, l);
		done += l;
		off = 0;
	}
	return done;
}

static u8 handle(struct vmm_virtio_dev *d, const struct vq_req *r)
{
	struct virtio_net_ctrl_hdr hdr;
	le16 pairs_le;
	u16 pairs;

	if (rd_copy(r, 0, &hdr, sizeof(hdr)) != sizeof(hdr))
		return VIRTIO_NET_ERR;
	if (hdr.class != VIRTIO_NET_CTRL_MQ || hdr.cmd != VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET ||
	    !(d->drv_features & (1ULL << VIRTIO_NET_F_MQ)))
		return VIRTIO_NET_ERR;
	if (r->rd_len != sizeof(hdr) + sizeof(pairs_le) ||
	    rd_copy(r, sizeof(hdr), &pairs_le, sizeof(pairs_le)) != sizeof(pairs_le))
		return VIRTIO_NET_ERR;
	pairs = le16_to_cpu(pairs_le);
	if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > d->net_max_pairs)
		return VIRTIO_NET_ERR;
	if (pairs != d->net_pairs) {
		if (vmm_virtio_pci_set_active(d, 2U * pairs))
			return VIRTIO_NET_ERR;
		d->net_pairs = pairs;
	}
	return VIRTIO_NET_OK;
}

void vmm_net_ctrl(struct vmm_virtio_dev *d, struct vpci_queue *q)
{
	struct vq_req *r = d->req;
	int ret;

	if (!r)
		return;
	while ((ret = vq_pop(&q->vq, r)) == 1) {
		u8 ack = handle(d, r);
		u32 written = 0;

		if (r->nr_wr && r->wr[0].iov_len) {
			memcpy(r->wr[0].iov_base, &ack, 1);
			written = 1;
		}
		if (vq_push(&q->vq, r->head, written))
			break;
	}
	if (ret < 0) {
		vn_log(d, "control queue: %s", vq_err_str(&q->vq));
		vmm_virtio_pci_fail(d, "corrupted control queue");
	}
	vmm_virtio_pci_local_notify(d, q);
}
