// SPDX-License-Identifier: MIT
/*
 * virtio-blk driver, transport-agnostic and freestanding (guestlet and
 * libvirtio-user build the same file).
 *
 * Security model: the device may be buggy or hostile.  It can write the used
 * ring (checked by vq_drv: ids must be heads of chains in flight), the status
 * byte and the data buffers of IN requests, and it chooses the config values.
 * We keep our bookkeeping (cookie, type, length, free list) in private memory
 * (gd_alloc_priv) and only the header, segment, status byte and indirect
 * table in DMA memory; the status byte is read once after the used entry and
 * anything but OK/IOERR/UNSUPP is an error; a used length shorter than an IN
 * request's data plus status byte is an error; config values are range
 * checked (block size a power of two in [512, 64 KiB]; requests are checked
 * against the capacity with overflow-safe arithmetic).
 */
#include <linux/errno.h>
#include <guest-drivers/platform.h>
#include <guest-drivers/blk.h>

#define BLK_VECTOR	1	/* the request queue's interrupt (MSI-X entry 1) */
#define SYNC_TIMEOUT_NS	(30ull * 1000000000ull)

/* What the device sees of one request (DMA memory). */
struct gd_blk_dma {
	struct vring_desc table[3];	/* indirect: hdr, data, status */
	struct virtio_blk_outhdr hdr;
	struct virtio_blk_discard_write_zeroes seg;
	u8 status;
} __attribute__((aligned(16)));

/* Our side of one request (private memory). */
struct gd_blk_slot {
	struct gd_blk_dma *dma;
	struct gd_blk_slot *next_free;
	void *cookie;
	u32 type;
	u32 len;
};

#define WANTED_FEATURES						\
	((1ull << VIRTIO_F_VERSION_1) |				\
	 (1ull << VIRTIO_RING_F_INDIRECT_DESC) |		\
	 (1ull << VIRTIO_RING_F_EVENT_IDX) |			\
	 (1ull << VIRTIO_BLK_F_RO) |				\
	 (1ull << VIRTIO_BLK_F_BLK_SIZE) |			\
	 (1ull << VIRTIO_BLK_F_FLUSH) |				\
	 (1ull << VIRTIO_BLK_F_DISCARD) |			\
	 (1ull << VIRTIO_BLK_F_WRITE_ZEROES))

static int cfg_read(struct gd_blk *b, u32 off, void *buf, u32 len)
{
	return b->vdev.t->ops->config_read(b->vdev.t, off, buf, len);
}

int gd_blk_init(struct gd_blk *b, struct gd_virtio_transport *t,
		const struct gd_blk_opts *opts)
{
	struct gd_blk_opts none = { 0 };
	struct gd_blk_dma *dma;
	le64 cap;
	le32 bs;
	unsigned int i;
	int r;

	if (!opts)
		opts = &none;
	__builtin_memset(b, 0, sizeof(*b));
	r = gd_virtio_init(&b->vdev, t, WANTED_FEATURES & ~opts->features_mask);
	if (r)
		return r;
	b->ro = gd_virtio_has(&b->vdev, VIRTIO_BLK_F_RO);
	b->flush = gd_virtio_has(&b->vdev, VIRTIO_BLK_F_FLUSH);
	b->discard = gd_virtio_has(&b->vdev, VIRTIO_BLK_F_DISCARD);
	b->write_zeroes = gd_virtio_has(&b->vdev, VIRTIO_BLK_F_WRITE_ZEROES);
	b->indirect = gd_virtio_has(&b->vdev, VIRTIO_RING_F_INDIRECT_DESC);
	b->event_idx = gd_virtio_has(&b->vdev, VIRTIO_RING_F_EVENT_IDX);

	/* A config read failure is an I/O error whatever the transport said. */
	r = cfg_read(b, offsetof(struct virtio_blk_config, capacity), &cap, sizeof(cap));
	if (r) {
		r = -EIO;
		goto fail;
	}
	b->capacity = le64_to_cpu(cap);
	b->blk_size = GD_BLK_SECTOR;
	if (gd_virtio_has(&b->vdev, VIRTIO_BLK_F_BLK_SIZE)) {
		r = cfg_read(b, offsetof(struct virtio_blk_config, blk_size), &bs,
			     sizeof(bs));
		if (r) {
			r = -EIO;
			goto fail;
		}
		u32 v = le32_to_cpu(bs);

		if (v >= 512 && v <= 65536 && !(v & (v - 1)))
			b->blk_size = v;
	}

	if (b->discard || b->write_zeroes) {
		le32 v[2];

		if (b->discard &&
		    !cfg_read(b, offsetof(struct virtio_blk_config, max_discard_sectors),
			      v, sizeof(v[0])))
			b->max_discard_sectors = le32_to_cpu(v[0]);
		if (b->write_zeroes &&
		    !cfg_read(b, offsetof(struct virtio_blk_config, max_write_zeroes_sectors),
			      v, sizeof(v[0])))
			b->max_write_zeroes_sectors = le32_to_cpu(v[0]);
	}

	r = gd_virtio_queue_create(&b->vdev, &b->rq, 0, opts->queue_size,
				   opts->no_irq ? GD_VIRTIO_NO_VECTOR : BLK_VECTOR);
	if (r)
		goto fail;
	b->depth = b->indirect ? b->rq.vq.num : b->rq.vq.num / 3;
	if (!b->depth) {
		r = -ENOSPC;	/* a queue of 1 or 2 entries cannot hold a request */
		goto fail;
	}
	b->slots = gd_alloc_priv(b->depth * sizeof(*b->slots), 64);
	dma = gd_alloc(b->depth * sizeof(*dma), 64);
	if (!b->slots || !dma) {
		r = -ENOMEM;
		goto fail;
	}
	for (i = 0; i < b->depth; i++) {
		b->slots[i].dma = &dma[i];
		b->slots[i].next_free = i + 1 < b->depth ? &b->slots[i + 1] : NULL;
	}
	b->free = &b->slots[0];

	r = gd_virtio_driver_ok(&b->vdev);
	if (r)
		goto fail;
	if (t->ops->irq_count)
		b->irq_seen = t->ops->irq_count(t, 0);
	return 0;
fail:
	gd_virtio_fail(&b->vdev);
	b->broken = true;
	return r;
}

void gd_blk_destroy(struct gd_blk *b)
{
	if (b->vdev.t)
		gd_virtio_reset(&b->vdev);
	gd_virtio_queue_destroy(&b->rq);
	gd_free_priv(b->slots);
	b->slots = NULL;
	b->free = NULL;
	b->broken = true;
}

/* Is [sector, sector + len/512) inside the disk? */
static bool range_ok(const struct gd_blk *b, u64 sector, u32 len)
{
	u64 n = len / GD_BLK_SECTOR;

	return sector <= b->capacity && n <= b->capacity - sector;
}

/*
 * Is @buf..+@len DMA memory the device can reach, contiguous in its address
 * space?  (libvirtio-user: inside the shared memfd; gd_virt_to_phys() says
 * ~0 outside it.)
 */
static bool dma_ok(const void *buf, u32 len)
{
	u64 a = gd_virt_to_phys(buf), z = gd_virt_to_phys((const u8 *)buf + len - 1);

	return a != ~0ull && z != ~0ull && z - a == len - 1;
}

static int io_check(const struct gd_blk *b, const struct gd_blk_io *io)
{
	if ((io->type == VIRTIO_BLK_T_IN || io->type == VIRTIO_BLK_T_OUT ||
	     io->type == VIRTIO_BLK_T_GET_ID) && io->buf && io->len && !dma_ok(io->buf, io->len))
		return -EFAULT;
	switch (io->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_OUT:
		if (!io->len || io->len % GD_BLK_SECTOR || !io->buf ||
		    !range_ok(b, io->sector, io->len))
			return -EINVAL;
		if (io->type == VIRTIO_BLK_T_OUT && b->ro)
			return -EROFS;
		return 0;
	case VIRTIO_BLK_T_FLUSH:
		return b->flush ? 0 : -EINVAL;
	case VIRTIO_BLK_T_GET_ID:
		return io->buf && io->len == VIRTIO_BLK_ID_BYTES ? 0 : -EINVAL;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		if ((io->type == VIRTIO_BLK_T_DISCARD ? !b->discard : !b->write_zeroes) ||
		    !io->len || io->len % GD_BLK_SECTOR ||
		    !range_ok(b, io->sector, io->len))
			return -EINVAL;
		return b->ro ? -EROFS : 0;
	}
	return -EINVAL;
}

int gd_blk_submit(struct gd_blk *b, const struct gd_blk_io *io)
{
	struct gd_blk_slot *s = b->free;
	struct gd_blk_dma *dma;
	struct vq_drv_sg sg[3];
	unsigned int n = 0;
	int r;

	if (b->broken)
		return -EIO;
	if (!s)
		return -EAGAIN;
	r = io_check(b, io);
	if (r)
		return r;
	dma = s->dma;
	dma->hdr.type = cpu_to_le32(io->type);
	dma->hdr.ioprio = 0;
	dma->hdr.sector = cpu_to_le64(io->type == VIRTIO_BLK_T_FLUSH ||
				      io->type == VIRTIO_BLK_T_GET_ID ? 0 : io->sector);
	dma->status = 0xff;	/* not a valid status: catches a device that skips it */
	sg[n++] = (struct vq_drv_sg){ gd_virt_to_phys(&dma->hdr), sizeof(dma->hdr), false };
	switch (io->type) {
	case VIRTIO_BLK_T_IN:
	case VIRTIO_BLK_T_GET_ID:
		sg[n++] = (struct vq_drv_sg){ gd_virt_to_phys(io->buf), io->len, true };
		break;
	case VIRTIO_BLK_T_OUT:
		sg[n++] = (struct vq_drv_sg){ gd_virt_to_phys(io->buf), io->len, false };
		break;
	case VIRTIO_BLK_T_DISCARD:
	case VIRTIO_BLK_T_WRITE_ZEROES:
		dma->seg.sector = cpu_to_le64(io->sector);
		dma->seg.num_sectors = cpu_to_le32(io->len / GD_BLK_SECTOR);
		dma->seg.flags = cpu_to_le32(io->type == VIRTIO_BLK_T_WRITE_ZEROES ?
					     io->flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP : 0);
		sg[n++] = (struct vq_drv_sg){ gd_virt_to_phys(&dma->seg), sizeof(dma->seg),
					      false };
		break;
	}
	sg[n++] = (struct vq_drv_sg){ gd_virt_to_phys(&dma->status), 1, true };

	if (b->indirect)
		r = vq_drv_add_indirect(&b->rq.vq, sg, n, dma->table, s);
	else
		r = vq_drv_add(&b->rq.vq, sg, n, s);
	if (r < 0) {
		if (r == -VQ_DRV_ENOSPC)
			return -EAGAIN;
		b->broken = true;
		return -EIO;
	}
	b->free = s->next_free;
	s->cookie = io->cookie;
	s->type = io->type;
	s->len = io->type == VIRTIO_BLK_T_IN || io->type == VIRTIO_BLK_T_GET_ID ? io->len : 0;
	b->inflight++;
	return 0;
}

bool gd_blk_kick(struct gd_blk *b)
{
	b->kicks++;
	if (!gd_virtqueue_kick(&b->rq))
		return false;
	b->notifies++;
	return true;
}

int gd_blk_reap(struct gd_blk *b, struct gd_blk_done *done, unsigned int max)
{
	unsigned int n = 0;
	void *token;
	u32 len;
	int r;

	if (b->broken)
		return -EIO;
	while (n < max) {
		struct gd_blk_slot *s;
		u8 st;

		r = vq_drv_get_used(&b->rq.vq, &token, &len);
		if (r == 0)
			break;
		if (r < 0) {
			b->broken = true;
			return -EIO;
		}
		s = token;
		/* The status byte was written before the used entry (device's wmb). */
		st = READ_ONCE(s->dma->status);
		done[n].cookie = s->cookie;
		done[n].len = len;
		if (st != VIRTIO_BLK_S_OK && st != VIRTIO_BLK_S_IOERR &&
		    st != VIRTIO_BLK_S_UNSUPP)
			done[n].status = GD_BLK_S_BADSTATUS;
		else if (st == VIRTIO_BLK_S_OK && s->len && (len < 1 || len - 1 < s->len) &&
			 s->type == VIRTIO_BLK_T_IN)
			done[n].status = GD_BLK_S_SHORT;
		else
			done[n].status = st;
		s->next_free = b->free;
		b->free = s;
		b->inflight--;
		n++;
	}
	if (n && b->poll)
		gd_virtqueue_poll_refresh(&b->rq);
	return (int)n;
}

void gd_blk_set_poll(struct gd_blk *b, bool poll)
{
	b->poll = poll;
	if (poll)
		vq_drv_disable_cb(&b->rq.vq);
	else
		vq_drv_enable_cb(&b->rq.vq);
}

u64 gd_blk_irq_count(struct gd_blk *b)
{
	struct gd_virtio_transport *t = b->vdev.t;

	return t->ops->irq_count ? t->ops->irq_count(t, b->rq.index) : 0;
}

int gd_blk_wait(struct gd_blk *b)
{
	struct gd_virtio_transport *t = b->vdev.t;
	u64 seen;

	if (b->broken)
		return -EIO;
	if (!t->ops->irq_wait || !t->ops->irq_count)
		return -EOPNOTSUPP;
	b->waits++;
	/* Count first: an interrupt after this read ends the wait below. */
	seen = t->ops->irq_count(t, b->rq.index);
	if (vq_drv_enable_cb(&b->rq.vq))
		return 0;	/* completions already pending: no interrupt may come */
	t->ops->irq_wait(t, b->rq.index, seen);
	return 0;
}

int gd_blk_check(struct gd_blk *b)
{
	if (!b->broken && gd_virtio_needs_reset(&b->vdev))
		b->broken = true;
	return b->broken ? -EIO : 0;
}

int gd_blk_sync(struct gd_blk *b, const struct gd_blk_io *io)
{
	struct gd_blk_done d;
	u64 deadline = 0, spins = 0;
	int r;

	if (b->inflight)
		return -EBUSY;
	r = gd_blk_submit(b, io);
	if (r)
		return r;
	gd_blk_kick(b);
	for (;;) {
		r = gd_blk_reap(b, &d, 1);
		if (r < 0)
			return r;
		if (r == 1)
			return d.status;
		if ((++spins & 0xffff) == 0 && gd_blk_check(b))
			return -EIO;
		if (!b->poll && gd_blk_wait(b) == 0)
			continue;
		if (!deadline)
			deadline = gd_time_ns() + SYNC_TIMEOUT_NS;
		else if (gd_time_ns() > deadline) {
			b->broken = true;	/* the slot stays with the device */
			return -ETIMEDOUT;
		}
		gd_cpu_relax();
	}
}
