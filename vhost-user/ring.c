// SPDX-License-Identifier: MIT
/*
 * Glue between the back-end library's per-queue state and the device side of
 * the split ring (virtio/vq.h): every vhost-user device starts its ring the same
 * way, so it is done once, here.
 */
#include <virtio/vq.h>
#include <vhost-user/backend.h>

int vhu_vq_ring_start(const struct vhu_vq *hv, struct vq *vq)
{
	int r;

	vq_init(vq, hv->mem);
	/* The ring was validated by the library; vq re-checks it with its own rules. */
	if ((r = vq_set_num(vq, hv->num)) || (r = vq_set_features(vq, hv->features)) ||
	    (r = vq_set_addr_uaddr(vq, hv->desc_uaddr, hv->avail_uaddr, hv->used_uaddr)) ||
	    (r = vq_set_base(vq, hv->last_avail_idx)) || (r = vq_start(vq)))
		return r;
	return 0;
}
