// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, driver side.
 *
 * FREESTANDING: no libc, no syscalls, no allocation (see <virtio/vq_drv.h>).
 * guest-drivers/ compiles this file into the bare-metal guest with its own
 * flags; keep it that way.
 *
 * Security model: the device (a back-end process, or the host) writes the used
 * ring and avail_event and may be buggy or hostile.  used->idx is read once and
 * checked against the number of chains in flight, each used id is checked
 * against the queue size and against the private slot array (it must be the
 * head of a chain in flight), and the free list lives in driver-private memory
 * (struct vq_drv_slot), never in the descriptor table the device can see.
 * Any violation marks the queue broken.
 */
#include <virtio/vq_drv.h>

/* The caller's ring memory may be declared as any type. */
typedef u64 __attribute__((may_alias)) u64_alias;

static int drv_fail(struct vq_drv *d, int err)
{
	if (!d->broken) {
		d->broken = true;
		d->err = err;
	}
	return err;
}

static u64 used_off(unsigned int num)
{
	u64 end = vq_desc_bytes(num) + vq_avail_bytes(num);

	return (end + VQ_DRV_RING_ALIGN - 1) & ~(u64)(VQ_DRV_RING_ALIGN - 1);
}

u64 vq_drv_ring_bytes(unsigned int num)
{
	if (!vq_size_valid(num))
		return 0;
	return used_off(num) + vq_used_bytes(num);
}

u64 vq_drv_gpa(const struct vq_drv *d, const void *p)
{
	if (d->to_gpa)
		return d->to_gpa(d->priv, p);
	return (u64)(uintptr_t)p + d->gpa_offset;
}

u64 vq_drv_desc_gpa(const struct vq_drv *d) { return vq_drv_gpa(d, d->desc); }
u64 vq_drv_avail_gpa(const struct vq_drv *d) { return vq_drv_gpa(d, d->avail); }
u64 vq_drv_used_gpa(const struct vq_drv *d) { return vq_drv_gpa(d, d->used); }

int vq_drv_init(struct vq_drv *d, const struct vq_drv_cfg *cfg)
{
	unsigned int num = cfg->num, i;
	u8 *ring = cfg->ring;
	u64 bytes, b;

	if (!vq_size_valid(num) || !ring || !cfg->slots ||
	    ((uintptr_t)ring & (VQ_DRV_RING_ALIGN - 1)))
		return -VQ_DRV_EINVAL;
	/* Zero by words (the ring is 64-aligned), then the tail bytes. */
	bytes = vq_drv_ring_bytes(num);
	for (b = 0; b + 8 <= bytes; b += 8)
		*(u64_alias *)(ring + b) = 0;
	for (; b < bytes; b++)
		ring[b] = 0;

	d->num = num;
	d->mask = num - 1;
	d->event_idx = cfg->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	d->indirect = cfg->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	d->broken = false;
	d->cb_enabled = true;
	d->desc = (struct vring_desc *)ring;
	d->avail = (struct vring_avail *)(ring + vq_desc_bytes(num));
	d->used = (struct vring_used *)(ring + used_off(num));
	d->used_event = &d->avail->ring[num];
	d->avail_event = (le16 *)&d->used->ring[num];
	d->slots = cfg->slots;
	for (i = 0; i < num; i++) {
		d->slots[i].token = NULL;
		d->slots[i].next = (u16)(i + 1);
		d->slots[i].ndesc = 0;
	}
	d->free_head = 0;
	d->num_free = num;
	d->avail_idx = 0;
	d->published_idx = 0;
	d->last_used_idx = 0;
	d->shadow_used_idx = 0;
	d->in_flight = 0;
	d->err = 0;
	d->to_gpa = cfg->to_gpa;
	d->priv = cfg->priv;
	d->gpa_offset = cfg->gpa_offset;
	return 0;
}

/* Readable buffers must all come before writable ones. */
static bool sg_order_ok(const struct vq_drv_sg *sg, unsigned int n)
{
	bool seen_wr = false;
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (sg[i].write)
			seen_wr = true;
		else if (seen_wr)
			return false;
	}
	return true;
}

/*
 * Descriptor and avail->ring[] stores skip values already there: the free
 * list is round robin and buffers recycle LIFO, so slots repeat per lap.
 */
static void desc_set(struct vring_desc *desc, u64 addr, u32 len, u16 flags, u16 next)
{
	STORE_IF_CHANGED(desc->addr, cpu_to_le64(addr));
	STORE_IF_CHANGED(desc->len, cpu_to_le32(len));
	STORE_IF_CHANGED(desc->flags, cpu_to_le16(flags));
	STORE_IF_CHANGED(desc->next, cpu_to_le16(next));
}

/* Put @head (a chain of @ndesc) in flight and stage it in the avail ring. */
static int stage(struct vq_drv *d, u16 head, u16 ndesc, void *token)
{
	d->slots[head].token = token;
	d->slots[head].ndesc = ndesc;
	/* Plain store: published by the avail->idx store in vq_drv_kick_prepare. */
	STORE_IF_CHANGED(d->avail->ring[d->avail_idx & d->mask], cpu_to_le16(head));
	d->avail_idx++;
	d->in_flight++;
	return head;
}

int vq_drv_add(struct vq_drv *d, const struct vq_drv_sg *sg, unsigned int n,
	       void *token)
{
	u16 head, i, k;

	if (d->broken)
		return -VQ_DRV_EIO;
	if (n == 0 || !token || !sg_order_ok(sg, n))
		return -VQ_DRV_EINVAL;
	if (n > d->num_free)
		return -VQ_DRV_ENOSPC;

	head = i = d->free_head;
	for (k = 0; k < n; k++) {
		u16 flags = sg[k].write ? VRING_DESC_F_WRITE : 0;
		u16 next = d->slots[i].next;

		if (k + 1u < n)
			flags |= VRING_DESC_F_NEXT;
		desc_set(&d->desc[i], sg[k].addr, sg[k].len, flags,
			 k + 1u < n ? next : 0);
		i = next;
	}
	d->free_head = i;
	d->num_free -= n;
	return stage(d, head, n, token);
}

int vq_drv_add_indirect(struct vq_drv *d, const struct vq_drv_sg *sg,
			unsigned int n, struct vring_desc *table, void *token)
{
	u16 head, k;

	if (d->broken)
		return -VQ_DRV_EIO;
	if (!d->indirect || n == 0 || n > d->num || !table || !token ||
	    !sg_order_ok(sg, n))
		return -VQ_DRV_EINVAL;
	if (d->num_free == 0)
		return -VQ_DRV_ENOSPC;

	for (k = 0; k < n; k++) {
		u16 flags = sg[k].write ? VRING_DESC_F_WRITE : 0;

		if (k + 1u < n)
			flags |= VRING_DESC_F_NEXT;
		desc_set(&table[k], sg[k].addr, sg[k].len, flags, k + 1u < n ? k + 1 : 0);
	}
	head = d->free_head;
	d->free_head = d->slots[head].next;
	d->num_free--;
	desc_set(&d->desc[head], vq_drv_gpa(d, table), (u32)(n * sizeof(*table)),
		 VRING_DESC_F_INDIRECT, 0);
	return stage(d, head, 1, token);
}

static void publish(struct vq_drv *d)
{
	/*
	 * Order the descriptor and avail->ring[] stores made by vq_drv_add*()
	 * before the avail->idx store that publishes them (pairs with the
	 * device's read barrier after it loads avail->idx).
	 */
	vq_wmb();
	WRITE_ONCE(d->avail->idx, cpu_to_le16(d->avail_idx));
	d->published_idx = d->avail_idx;
}

void vq_drv_publish(struct vq_drv *d)
{
	if (d->published_idx != d->avail_idx)
		publish(d);
}

bool vq_drv_kick_prepare(struct vq_drv *d)
{
	u16 old = d->published_idx, new = d->avail_idx;

	if (old == new)
		return false;
	publish(d);
	/*
	 * Order the avail->idx store above before the avail_event /
	 * used->flags load below (pairs with the full barrier in the device's
	 * vq_enable_notify()): either the device sees our new index when it
	 * re-checks, or we see that it wants a kick.
	 */
	vq_mb();
	if (d->event_idx)
		return vring_need_event(le16_to_cpu(READ_ONCE(*d->avail_event)), new, old);
	return !(le16_to_cpu(READ_ONCE(d->used->flags)) & VRING_USED_F_NO_NOTIFY);
}

/* Give the chain at @head back to the free list (private links only). */
static void free_chain(struct vq_drv *d, u16 head)
{
	u16 ndesc = d->slots[head].ndesc, tail = head, k;

	for (k = 1; k < ndesc; k++)
		tail = d->slots[tail].next;
	d->slots[tail].next = d->free_head;
	d->free_head = head;
	d->num_free += ndesc;
	d->slots[head].token = NULL;
	d->slots[head].ndesc = 0;
	d->in_flight--;
}

bool vq_drv_has_used(struct vq_drv *d)
{
	if (d->broken)
		return false;
	if (d->last_used_idx != d->shadow_used_idx)
		return true;
	return le16_to_cpu(READ_ONCE(d->used->idx)) != d->last_used_idx;
}

void *vq_drv_detach_unused(struct vq_drv *d)
{
	unsigned int i;

	for (i = 0; i < d->num; i++) {
		void *token = d->slots[i].token;

		if (token) {
			free_chain(d, (u16)i);
			return token;
		}
	}
	return NULL;
}

int vq_drv_get_used(struct vq_drv *d, void **token, u32 *len)
{
	struct vring_used_elem *e;
	u16 id;
	u32 id32, l;

	if (d->broken)
		return -VQ_DRV_EIO;
	if (d->last_used_idx == d->shadow_used_idx) {
		u16 idx = le16_to_cpu(READ_ONCE(d->used->idx));
		/* Chains the device may complete: published and not reaped. */
		u16 published = d->in_flight - (u16)(d->avail_idx - d->published_idx);

		if (idx == d->last_used_idx)
			return 0;
		if ((u16)(idx - d->last_used_idx) > published)
			return drv_fail(d, -VQ_DRV_EPROTO);
		d->shadow_used_idx = idx;
		/*
		 * Order the used->idx load above before the used->ring[] loads
		 * below (pairs with the device's write barrier before its
		 * used->idx store).
		 */
		vq_rmb();
	}
	e = &d->used->ring[d->last_used_idx & d->mask];
	id32 = le32_to_cpu(READ_ONCE(e->id));
	l = le32_to_cpu(READ_ONCE(e->len));
	if (id32 >= d->num)
		return drv_fail(d, -VQ_DRV_ERANGE);
	id = (u16)id32;
	if (!d->slots[id].token)
		return drv_fail(d, -VQ_DRV_EINVAL);

	*token = d->slots[id].token;
	*len = l;
	free_chain(d, id);
	d->last_used_idx++;
	/* Interrupts wanted: ask for one when the device passes this entry. */
	if (d->event_idx && d->cb_enabled)
		WRITE_ONCE(*d->used_event, cpu_to_le16(d->last_used_idx));
	return 1;
}

void vq_drv_disable_cb(struct vq_drv *d)
{
	if (!d->cb_enabled)
		return;
	d->cb_enabled = false;
	/*
	 * With EVENT_IDX, point used_event just behind what we have reaped: the
	 * device's next used->idx moves cannot cross it (for 2^16 entries).
	 */
	if (d->event_idx)
		WRITE_ONCE(*d->used_event, cpu_to_le16((u16)(d->last_used_idx - 1)));
	else
		WRITE_ONCE(d->avail->flags, cpu_to_le16(VRING_AVAIL_F_NO_INTERRUPT));
}

bool vq_drv_enable_cb(struct vq_drv *d)
{
	u16 idx;

	d->cb_enabled = true;
	if (d->event_idx)
		WRITE_ONCE(*d->used_event, cpu_to_le16(d->last_used_idx));
	else
		WRITE_ONCE(d->avail->flags, cpu_to_le16(0));
	/*
	 * Order the used_event / avail->flags store above before the used->idx
	 * load below (pairs with the full barrier in the device's
	 * vq_should_notify()): either the device sees that we want an
	 * interrupt, or we see its new used->idx.
	 */
	vq_mb();
	idx = le16_to_cpu(READ_ONCE(d->used->idx));
	return idx != d->last_used_idx;
}
