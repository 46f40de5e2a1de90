// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side.
 *
 * Security model: the guest (or a vhost-user front-end acting for it) owns the
 * descriptor table and the avail ring and may rewrite them at any moment from
 * another CPU, with any values.  So:
 *   - each shared index (avail->idx, avail->ring[i], used_event) is read once
 *     into a local, checked, and only the local is used;
 *   - each descriptor is copied once into a local (desc_copy) before it is
 *     checked, and only the copy is used, so a rewrite between check and use
 *     (SECURITY.md case 8, DPDK CVE-2020-14375) has no effect;
 *   - indices are checked against the table size, chains are bounded by the
 *     table size (loops), length sums are checked for u32 overflow, and every
 *     buffer goes through vq_mem_to_iov() (bounds, wrap, region splits);
 *   - indirect tables follow the spec strictly (no nesting, no NEXT, only at
 *     the head, length a non-zero multiple of 16 of at most num entries,
 *     contained in one memory region);
 *   - any violation marks the queue broken (sticky until vq_start/vq_init) and
 *     returns a distinct -errno per class (see <virtio/vq.h>).
 * The device only writes the used ring (and used->flags / avail_event), whose
 * addresses were validated when the queue was mapped.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <virtio/vq.h>

static int vq_fail(struct vq *vq, int err, const char *why)
{
	if (!vq->broken) {
		vq->broken = true;
		vq->err = err;
		vq->err_str = why;
	}
	return err;
}

const char *vq_err_str(const struct vq *vq)
{
	return vq->err_str ? vq->err_str : "no error";
}

void vq_init(struct vq *vq, const struct vq_mem *mem)
{
	memset(vq, 0, sizeof(*vq));
	vq->mem = mem;
	vq->notify_enabled = true;
}

/* Translate one ring part; it must be wholly inside one region and aligned. */
static void *map_part(const struct vq *vq, u64 addr, u64 size, unsigned int align)
{
	u64 len = size;
	void *p;

	if (!vq->mem)
		return NULL;
	if (vq->addr_uaddr)
		p = vq_mem_translate_uaddr(vq->mem, addr, &len);
	else
		p = vq_mem_translate(vq->mem, addr, &len);
	if (!p || len != size || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

static int map_rings(struct vq *vq)
{
	void *d, *a, *u;

	d = map_part(vq, vq->desc_addr, vq_desc_bytes(vq->num), VQ_DESC_ALIGN);
	a = map_part(vq, vq->avail_addr, vq_avail_bytes(vq->num), VQ_AVAIL_ALIGN);
	u = map_part(vq, vq->used_addr, vq_used_bytes(vq->num), VQ_USED_ALIGN);
	if (!d || !a || !u) {
		vq->desc = NULL;
		vq->avail = NULL;
		vq->used = NULL;
		return -EFAULT;
	}
	vq->desc = d;
	vq->avail = a;
	vq->used = u;
	vq->used_event = &vq->avail->ring[vq->num];
	vq->avail_event = (le16 *)&vq->used->ring[vq->num];
	return 0;
}

int vq_set_num(struct vq *vq, unsigned int num)
{
	if (vq->started)
		return -EBUSY;
	if (!vq_size_valid(num))
		return -EINVAL;
	vq->num = num;
	vq->mask = num - 1;
	if (vq->addr_set)
		return map_rings(vq);
	return 0;
}

int vq_set_features(struct vq *vq, u64 features)
{
	bool event_idx = features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	bool indirect = features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);

	/* Other feature bits may change at any time (e.g. logging). */
	if (vq->started && (event_idx != vq->event_idx || indirect != vq->indirect))
		return -EBUSY;
	vq->event_idx = event_idx;
	vq->indirect = indirect;
	return 0;
}

static int set_addr(struct vq *vq, u64 desc, u64 avail, u64 used, bool uaddr)
{
	if (vq->started)
		return -EBUSY;
	if ((desc & (VQ_DESC_ALIGN - 1)) || (avail & (VQ_AVAIL_ALIGN - 1)) ||
	    (used & (VQ_USED_ALIGN - 1)))
		return -EINVAL;
	vq->desc_addr = desc;
	vq->avail_addr = avail;
	vq->used_addr = used;
	vq->addr_uaddr = uaddr;
	vq->addr_set = true;
	if (vq->num)
		return map_rings(vq);
	return 0;
}

int vq_set_addr(struct vq *vq, u64 desc, u64 avail, u64 used)
{
	return set_addr(vq, desc, avail, used, false);
}

int vq_set_addr_uaddr(struct vq *vq, u64 desc, u64 avail, u64 used)
{
	return set_addr(vq, desc, avail, used, true);
}

int vq_set_mem(struct vq *vq, const struct vq_mem *mem)
{
	int r;

	vq->mem = mem;
	if (!vq->addr_set || !vq->num)
		return 0;
	r = map_rings(vq);
	if (r && vq->started) {
		/* No ring pointers left to use: stop, and say why. */
		vq->started = false;
		vq_fail(vq, r, "rings not in the new memory table");
	}
	return r;
}

int vq_set_base(struct vq *vq, u16 base)
{
	if (vq->started)
		return -EBUSY;
	vq->last_avail_idx = base;
	vq->shadow_avail_idx = base;
	return 0;
}

int vq_start(struct vq *vq)
{
	int r;

	if (vq->started)
		return -EBUSY;
	if (!vq->num || !vq->addr_set)
		return -EINVAL;
	r = map_rings(vq);
	if (r)
		return r;
	vq->used_idx = le16_to_cpu(READ_ONCE(vq->used->idx));
	vq->signalled_used = vq->used_idx;
	vq->signalled_used_valid = false;
	vq->shadow_avail_idx = vq->last_avail_idx;
	vq->broken = false;
	vq->err = 0;
	vq->err_str = NULL;
	vq->notify_enabled = true;
	WRITE_ONCE(vq->used->flags, cpu_to_le16(0));
	if (vq->event_idx)
		WRITE_ONCE(*vq->avail_event, cpu_to_le16(vq->last_avail_idx));
	vq->started = true;
	return 0;
}

u16 vq_stop(struct vq *vq)
{
	vq->started = false;
	return vq->last_avail_idx;
}

/*
 * Copy one descriptor out of guest memory.  The compiler barrier makes the copy
 * real: after it, the compiler cannot assume guest memory still holds the same
 * bytes, so every later use of *d is the value checked, never a re-read.
 * memcpy also keeps this correct for indirect tables that are not 8-aligned.
 */
static inline void desc_copy(struct vring_desc *d, const u8 *src)
{
	memcpy(d, src, sizeof(*d));
	__asm__ __volatile__("" ::: "memory");
}

static int add_buf(struct vq *vq, struct vq_req *req, u64 addr, u32 len, bool wr)
{
	struct iovec *iov = wr ? &req->wr[req->nr_wr] : &req->rd[req->nr_rd];
	unsigned int room = VQ_REQ_MAX_IOV - (wr ? req->nr_wr : req->nr_rd);
	u32 *total = wr ? &req->wr_len : &req->rd_len;
	int n;

	if (len == 0)
		return vq_fail(vq, -EFAULT, "zero-length descriptor");
	if (len > UINT32_MAX - *total)
		return vq_fail(vq, -EOVERFLOW, "chain length overflows u32");
	n = vq_mem_to_iov(vq->mem, addr, len, iov, room);
	if (n == -ENOBUFS)
		return vq_fail(vq, -ENOBUFS, "chain needs too many iovecs");
	if (n < 0)
		return vq_fail(vq, -EFAULT, "buffer outside guest memory");
	*total += len;
	if (wr)
		req->nr_wr += n;
	else
		req->nr_rd += n;
	return 0;
}

static int walk_chain(struct vq *vq, u16 head, struct vq_req *req)
{
	const u8 *tbl = (const u8 *)vq->desc;
	unsigned int tbl_num = vq->num;
	unsigned int i = head, steps = 0;
	bool indirect = false, seen_wr = false;
	struct vring_desc d;
	int r;

	req->head = head;
	req->nr_rd = 0;
	req->nr_wr = 0;
	req->rd_len = 0;
	req->wr_len = 0;

	for (;;) {
		u64 addr;
		u32 len;
		u16 flags;

		/* i < tbl_num here.  More than tbl_num steps means a loop. */
		if (steps++ == tbl_num)
			return vq_fail(vq, -ELOOP, indirect ?
				       "descriptor loop in indirect table" :
				       "descriptor loop");
		desc_copy(&d, tbl + (size_t)i * sizeof(d));
		addr = le64_to_cpu(d.addr);
		len = le32_to_cpu(d.len);
		flags = le16_to_cpu(d.flags);

		if (flags & VRING_DESC_F_INDIRECT) {
			u64 tlen = len;
			const u8 *t;

			if (!vq->indirect)
				return vq_fail(vq, -EBADMSG, "INDIRECT_DESC not negotiated");
			if (indirect)
				return vq_fail(vq, -EBADMSG, "nested indirect table");
			if (flags & VRING_DESC_F_NEXT)
				return vq_fail(vq, -EBADMSG, "indirect descriptor with NEXT");
			if (steps != 1)
				return vq_fail(vq, -EBADMSG, "indirect descriptor not at chain head");
			if (len == 0 || len % sizeof(d) || len / sizeof(d) > vq->num)
				return vq_fail(vq, -EBADMSG, "bad indirect table length");
			t = vq_mem_translate(vq->mem, addr, &tlen);
			if (!t)
				return vq_fail(vq, -EFAULT, "indirect table outside guest memory");
			if (tlen != len)
				return vq_fail(vq, -EBADMSG, "indirect table crosses a memory region");
			tbl = t;
			tbl_num = len / sizeof(d);
			indirect = true;
			i = 0;
			steps = 0;
			continue;
		}

		if (flags & VRING_DESC_F_WRITE) {
			seen_wr = true;
		} else if (seen_wr) {
			return vq_fail(vq, -EILSEQ, "readable descriptor after writable");
		}
		r = add_buf(vq, req, addr, len, flags & VRING_DESC_F_WRITE);
		if (r)
			return r;

		if (!(flags & VRING_DESC_F_NEXT))
			return 1;
		i = le16_to_cpu(d.next);
		if (i >= tbl_num)
			return vq_fail(vq, -ERANGE, indirect ?
				       "next index past indirect table" :
				       "next index >= queue size");
	}
}

/*
 * The most common chain: one direct descriptor, its buffer in one region (a
 * frame with its net header, a driver's one-buffer request).  Maps it with
 * the same checks walk_chain() would make, without its loop.  Returns false,
 * having changed nothing, for anything else (NEXT, INDIRECT, zero length, a
 * buffer outside memory or across regions): walk_chain() then reads the
 * descriptor again, maps or splits it, and reports any error.
 */
static inline bool walk_one(struct vq *vq, u16 head, struct vq_req *req)
{
	struct vring_desc d;
	bool wr;
	u16 flags;
	u32 len;
	void *p;

	desc_copy(&d, (const u8 *)vq->desc + (size_t)head * sizeof(d));
	flags = le16_to_cpu(d.flags);
	len = le32_to_cpu(d.len);
	if ((flags & (VRING_DESC_F_NEXT | VRING_DESC_F_INDIRECT)) || !len)
		return false;
	p = vq_mem_range(vq->mem, le64_to_cpu(d.addr), len, &vq->mem_hint);
	if (!p)
		return false;
	wr = flags & VRING_DESC_F_WRITE;
	req->head = head;
	req->nr_rd = !wr;
	req->nr_wr = wr;
	req->rd_len = wr ? 0 : len;
	req->wr_len = wr ? len : 0;
	(wr ? req->wr : req->rd)[0] = (struct iovec){ .iov_base = p, .iov_len = len };
	return true;
}

int vq_map_chain(struct vq *vq, u16 head, struct vq_req *req)
{
	if (!vq->started)
		return -ENOTCONN;
	if (vq->broken)
		return -EIO;
	if (head >= vq->num)
		return vq_fail(vq, -ERANGE, "head index >= queue size");
	return walk_chain(vq, head, req);
}

void vq_prefetch_bufs(const struct vq *vq, unsigned int n, unsigned int hdr)
{
	unsigned int avail = (u16)(vq->shadow_avail_idx - vq->last_avail_idx);
	u16 a = vq->last_avail_idx;
	unsigned int hint = vq->mem_hint, i;

	if (!vq->started || vq->broken)
		return;
	if (n > avail)
		n = avail;
	for (i = 0; i < n; i++) {
		u16 head = le16_to_cpu(READ_ONCE(vq->avail->ring[(u16)(a + i) & vq->mask]));
		struct vring_desc d;
		uintptr_t p, data, end;
		u32 len;

		desc_copy(&d, (const u8 *)&vq->desc[head & vq->mask]);
		len = le32_to_cpu(d.len);
		if ((le16_to_cpu(d.flags) & VRING_DESC_F_INDIRECT) || !len)
			continue;	/* one more miss to find the buffer: not worth it */
		p = (uintptr_t)vq_mem_range(vq->mem, le64_to_cpu(d.addr), len, &hint);
		if (!p)
			continue;
		/* Lines of [data, end) are written; the header's only read. */
		data = p + (hdr < len ? hdr : len);
		end = p + len;
		if ((p & ~(uintptr_t)63) != (data & ~(uintptr_t)63))
			__builtin_prefetch((const void *)p);
		if (data < end)
			vq_prefetch_w((const void *)data);
		if (end - data > 64 - (data & 63))
			vq_prefetch_w((const void *)(data + 64));
	}
}

/* Read avail->idx once and check it; 0 or -EPROTO (queue broken). */
static int read_avail_idx(struct vq *vq, u16 *out)
{
	u16 idx = le16_to_cpu(READ_ONCE(vq->avail->idx));

	if ((u16)(idx - vq->last_avail_idx) > vq->num)
		return vq_fail(vq, -EPROTO, "avail index ran more than queue size ahead");
	*out = idx;
	return 0;
}

int vq_pop(struct vq *vq, struct vq_req *req)
{
	u16 head;
	int r;

	if (!vq->started)
		return -ENOTCONN;
	if (vq->broken)
		return -EIO;

	if (vq->last_avail_idx == vq->shadow_avail_idx) {
		u16 idx;

		r = read_avail_idx(vq, &idx);
		if (r)
			return r;
		vq->shadow_avail_idx = idx;
		if (idx == vq->last_avail_idx)
			return 0;
		/*
		 * Order the avail->idx load above before the loads of
		 * avail->ring[] and of the descriptors it publishes (pairs with
		 * the driver's write barrier before its avail->idx store).
		 */
		vq_rmb();
	}

	head = le16_to_cpu(READ_ONCE(vq->avail->ring[vq->last_avail_idx & vq->mask]));
	if (head >= vq->num)
		return vq_fail(vq, -ERANGE, "head index >= queue size");
	if (!walk_one(vq, head, req)) {
		r = walk_chain(vq, head, req);
		if (r < 0)
			return r;
	}
	vq->last_avail_idx++;
	/*
	 * Kicks wanted: ask for one when the driver publishes past what we have
	 * consumed.  No barrier here; vq_enable_notify() does the ordered
	 * re-check before anyone sleeps.
	 */
	if (vq->event_idx && vq->notify_enabled)
		WRITE_ONCE(*vq->avail_event, cpu_to_le16(vq->last_avail_idx));
	return 1;
}

bool vq_has_work(struct vq *vq)
{
	u16 idx;

	if (!vq->started || vq->broken)
		return false;
	if (vq->last_avail_idx != vq->shadow_avail_idx)
		return true;
	if (read_avail_idx(vq, &idx))
		return false;
	vq->shadow_avail_idx = idx;
	if (idx == vq->last_avail_idx)
		return false;
	/*
	 * The next vq_pop() trusts this shadow index without re-reading it:
	 * order the avail->idx load above before its avail->ring[] and
	 * descriptor loads (pairs with the driver's write barrier before its
	 * avail->idx store).
	 */
	vq_rmb();
	return true;
}

static inline void used_put(struct vq *vq, u16 slot, u16 head, u32 len)
{
	struct vring_used_elem *e = &vq->used->ring[slot & vq->mask];

	/* In-order completions of same-size frames repeat an entry per lap. */
	STORE_IF_CHANGED(e->id, cpu_to_le32(head));
	STORE_IF_CHANGED(e->len, cpu_to_le32(len));
}

int vq_push(struct vq *vq, u16 head, u32 len)
{
	if (!vq->started)
		return -ENOTCONN;
	if (head >= vq->num)
		return -ERANGE;
	used_put(vq, vq->used_idx, head, len);
	vq->used_idx++;
	/*
	 * Order the used element stores above before the used->idx store that
	 * publishes them (pairs with the driver's read barrier after it loads
	 * used->idx).
	 */
	vq_wmb();
	WRITE_ONCE(vq->used->idx, cpu_to_le16(vq->used_idx));
	return 0;
}

int vq_push_batch(struct vq *vq, const struct vq_used *used, unsigned int n)
{
	unsigned int i;

	if (!vq->started)
		return -ENOTCONN;
	if (n > vq->num)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (used[i].head >= vq->num)
			return -ERANGE;
	for (i = 0; i < n; i++)
		used_put(vq, vq->used_idx + i, used[i].head, used[i].len);
	vq->used_idx += n;
	/* Order all n used element stores before the one used->idx store. */
	vq_wmb();
	WRITE_ONCE(vq->used->idx, cpu_to_le16(vq->used_idx));
	return 0;
}

bool vq_should_notify(struct vq *vq)
{
	u16 old = vq->signalled_used, new = vq->used_idx, event;
	bool valid = vq->signalled_used_valid;

	if (!vq->started)
		return false;
	vq->signalled_used = new;
	vq->signalled_used_valid = true;
	if (old == new)
		return false;
	/*
	 * Order our used->idx store before the loads of avail->flags /
	 * used_event below: either the driver sees the new used->idx when it
	 * re-checks after enabling interrupts, or we see its request for one
	 * (pairs with the full barrier in the driver's enable path).
	 */
	vq_mb();
	if (!vq->event_idx)
		return !(le16_to_cpu(READ_ONCE(vq->avail->flags)) & VRING_AVAIL_F_NO_INTERRUPT);
	event = le16_to_cpu(READ_ONCE(*vq->used_event));
	if (!valid)
		return true;
	return vring_need_event(event, new, old);
}

void vq_disable_notify(struct vq *vq)
{
	if (!vq->started || !vq->notify_enabled)
		return;
	vq->notify_enabled = false;
	/*
	 * With EVENT_IDX, point avail_event just behind what we have consumed:
	 * the driver's next avail->idx moves cannot cross it (for 2^16 entries).
	 */
	if (vq->event_idx)
		WRITE_ONCE(*vq->avail_event, cpu_to_le16((u16)(vq->last_avail_idx - 1)));
	else
		WRITE_ONCE(vq->used->flags, cpu_to_le16(VRING_USED_F_NO_NOTIFY));
}

bool vq_enable_notify(struct vq *vq)
{
	u16 idx;

	if (!vq->started || vq->broken)
		return false;
	vq->notify_enabled = true;
	if (vq->event_idx)
		WRITE_ONCE(*vq->avail_event, cpu_to_le16(vq->shadow_avail_idx));
	else
		WRITE_ONCE(vq->used->flags, cpu_to_le16(0));
	/*
	 * Order the avail_event / used->flags store above before the avail->idx
	 * load below: either the driver, after its avail->idx store and full
	 * barrier, sees kicks enabled and kicks, or we see its new avail->idx
	 * here.  Without it both sides could miss each other and stall.
	 */
	vq_mb();
	idx = le16_to_cpu(READ_ONCE(vq->avail->idx));
	/* A bogus index is caught (and the queue broken) by the next vq_pop(). */
	return idx != vq->last_avail_idx;
}
