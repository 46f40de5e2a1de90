// SPDX-License-Identifier: MIT
/*
 * virtio device initialisation and virtqueue creation over any transport
 * (freestanding: guestlet and libvirtio-user).
 *
 * Security model: the device's answers (features, status, queue sizes) are
 * not trusted: the negotiated set never exceeds what we asked for, a status
 * of all-ones means the device is gone, the queue size is clamped to what we
 * asked and rounded down to a power of two, and FEATURES_OK is read back.
 */
#include <linux/errno.h>
#include <guest-drivers/platform.h>
#include <guest-drivers/virtio.h>

static void set_status(struct gd_virtio_dev *d, u8 s)
{
	d->status = s;
	d->t->ops->set_status(d->t, s);
}

void gd_virtio_reset(struct gd_virtio_dev *d)
{
	set_status(d, 0);
}

void gd_virtio_fail(struct gd_virtio_dev *d)
{
	set_status(d, d->status | VIRTIO_CONFIG_S_FAILED);
}

bool gd_virtio_needs_reset(struct gd_virtio_dev *d)
{
	u8 s = d->t->ops->get_status(d->t);

	return s == 0xff || (s & VIRTIO_CONFIG_S_NEEDS_RESET);
}

int gd_virtio_init(struct gd_virtio_dev *d, struct gd_virtio_transport *t,
		   u64 wanted)
{
	u8 s;

	d->t = t;
	d->features = 0;
	gd_virtio_reset(d);
	if (t->ops->get_status(t) != 0)
		return -ENODEV;		/* reset did not complete: absent or stuck */
	set_status(d, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER);
	d->dev_features = t->ops->get_features(t);
	if (!(d->dev_features & (1ull << VIRTIO_F_VERSION_1))) {
		gd_virtio_fail(d);
		return -ENODEV;		/* legacy-only device */
	}
	d->features = d->dev_features & (wanted | (1ull << VIRTIO_F_VERSION_1));
	t->ops->set_features(t, d->features);
	set_status(d, d->status | VIRTIO_CONFIG_S_FEATURES_OK);
	s = t->ops->get_status(t);
	if (s == 0xff || !(s & VIRTIO_CONFIG_S_FEATURES_OK)) {
		gd_virtio_fail(d);
		return -EOPNOTSUPP;
	}
	return 0;
}

static u64 drv_to_gpa(void *priv, const void *p)
{
	(void)priv;
	return gd_virt_to_phys(p);
}

int gd_virtio_queue_create(struct gd_virtio_dev *d, struct gd_virtqueue *q,
			   unsigned int index, unsigned int num, u16 vector)
{
	struct gd_virtio_transport *t = d->t;
	unsigned int max = t->ops->queue_max_size(t, index);
	struct vq_drv_cfg cfg;
	int r;

	if (!max)
		return -ENOENT;
	if (!num || num > max)
		num = max;
	if (num > VQ_MAX_SIZE)
		num = VQ_MAX_SIZE;
	while (num & (num - 1))		/* a power of two, rounded down */
		num &= num - 1;
	q->dev = d;
	q->index = index;
	q->ring = gd_alloc(vq_drv_ring_bytes(num), 4096);
	q->slots = gd_alloc_priv(num * sizeof(*q->slots), 64);
	if (!q->ring || !q->slots) {
		gd_free_priv(q->slots);
		q->slots = NULL;
		return -ENOMEM;
	}
	cfg = (struct vq_drv_cfg){
		.num = num,
		.ring = q->ring,
		.slots = q->slots,
		.features = d->features,
		.to_gpa = drv_to_gpa,
	};
	r = vq_drv_init(&q->vq, &cfg);
	if (r)
		return -EINVAL;
	r = t->ops->queue_setup(t, index, num, vq_drv_desc_gpa(&q->vq),
				vq_drv_avail_gpa(&q->vq), vq_drv_used_gpa(&q->vq),
				vector);
	if (r)
		return r;
	return t->ops->queue_enable(t, index);
}

void gd_virtio_queue_destroy(struct gd_virtqueue *q)
{
	gd_free_priv(q->slots);
	q->slots = NULL;	/* the ring itself is DMA memory: never freed */
}

int gd_virtio_driver_ok(struct gd_virtio_dev *d)
{
	set_status(d, d->status | VIRTIO_CONFIG_S_DRIVER_OK);
	if (gd_virtio_needs_reset(d))
		return -EIO;
	return 0;
}
