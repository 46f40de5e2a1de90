// SPDX-License-Identifier: MIT
/*
 * Guest-memory table: gpa (or front-end uaddr) -> host pointer.
 *
 * Security model: every address and length passed in here comes from a guest
 * (descriptor, ring address) or a peer (vhost-user message) and is hostile.
 * No sum of a guest value and anything else is formed before it is known not to
 * wrap: a range is tested as "offset into the region < region size" and the
 * length is clipped to "region size - offset".  Regions themselves are checked
 * once, when they are added (vq_mem_add_region), so the lookups can trust that
 * gpa + size, hva + size and uaddr + size do not wrap.
 *
 * Host-only (uses struct iovec from libc).
 */
#include <errno.h>
#include <stdint.h>
#include <sys/uio.h>

#include <virtio/mem.h>

void vq_mem_init(struct vq_mem *m)
{
	m->nr = 0;
}

/* [a, a + size) must end at or below UINT64_MAX, so a + size never wraps. */
static bool range_wraps(u64 a, u64 size)
{
	return size > UINT64_MAX - a;
}

int vq_mem_add_region(struct vq_mem *m, const struct vq_mem_region *r)
{
	unsigned int i;

	if (r->size == 0)
		return -EINVAL;
	if (range_wraps(r->gpa, r->size) || range_wraps(r->hva, r->size) ||
	    range_wraps(r->uaddr, r->size) || range_wraps(r->mmap_offset, r->size))
		return -EOVERFLOW;
	if (m->nr >= VQ_MEM_MAX_REGIONS)
		return -E2BIG;
	for (i = 0; i < m->nr; i++) {
		const struct vq_mem_region *o = &m->regions[i];

		/* Both ends are exclusive and known not to wrap. */
		if (r->gpa < o->gpa + o->size && o->gpa < r->gpa + r->size)
			return -EINVAL;
	}
	m->regions[m->nr++] = *r;
	return 0;
}

/* Look @addr up among the regions' gpa (or, @by_uaddr, uaddr) ranges. */
static void *translate(const struct vq_mem *m, u64 addr, u64 *len, bool by_uaddr)
{
	unsigned int i, nr = m->nr;

	if (*len == 0)
		return NULL;
	if (nr > VQ_MEM_MAX_REGIONS)
		nr = VQ_MEM_MAX_REGIONS;
	for (i = 0; i < nr; i++) {
		const struct vq_mem_region *r = &m->regions[i];
		u64 base = by_uaddr ? r->uaddr : r->gpa;
		u64 off, room;

		if (addr < base)
			continue;
		off = addr - base;
		if (off >= r->size)
			continue;
		room = r->size - off;
		if (*len > room)
			*len = room;
		return (void *)(uintptr_t)(r->hva + off);
	}
	return NULL;
}

void *vq_mem_translate(const struct vq_mem *m, u64 gpa, u64 *len)
{
	return translate(m, gpa, len, false);
}

void *vq_mem_translate_uaddr(const struct vq_mem *m, u64 uaddr, u64 *len)
{
	return translate(m, uaddr, len, true);
}

void *vq_mem_range_slow(const struct vq_mem *m, u64 gpa, u64 len, unsigned int *hint)
{
	unsigned int i, nr = m->nr;

	if (len == 0)
		return NULL;
	if (nr > VQ_MEM_MAX_REGIONS)
		nr = VQ_MEM_MAX_REGIONS;
	for (i = 0; i < nr; i++) {
		const struct vq_mem_region *r = &m->regions[i];

		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		/* Regions do not overlap: no other one holds gpa. */
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		*hint = i;
		return (void *)(uintptr_t)(r->hva + (gpa - r->gpa));
	}
	return NULL;
}

int vq_mem_to_iov(const struct vq_mem *m, u64 gpa, u32 len, struct iovec *iov,
		  unsigned int max)
{
	u64 left = len;
	unsigned int n = 0;

	if (len == 0)
		return 0;
	/* The last byte, gpa + len - 1, must not wrap. */
	if ((u64)len - 1 > UINT64_MAX - gpa)
		return -EFAULT;
	while (left) {
		u64 chunk = left;
		void *hva = vq_mem_translate(m, gpa, &chunk);

		if (!hva)
			return -EFAULT;
		if (n >= max)
			return -ENOBUFS;
		iov[n].iov_base = hva;
		iov[n].iov_len = chunk;
		n++;
		gpa += chunk;	/* cannot wrap: chunk <= left and the end fits */
		left -= chunk;
	}
	return n;
}

bool vq_mem_range_ok(const struct vq_mem *m, u64 gpa, u64 len)
{
	if (len == 0)
		return true;
	if (len - 1 > UINT64_MAX - gpa)
		return false;
	while (len) {
		u64 chunk = len;

		if (!vq_mem_translate(m, gpa, &chunk))
			return false;
		gpa += chunk;
		len -= chunk;
	}
	return true;
}

int vq_mem_split_ring_hvas(const struct vq_mem *m, u64 desc, u64 avail, u64 used,
			   unsigned int num, bool event_idx, u64 hva[3])
{
	const u64 gpa[3] = { desc, avail, used };
	const u64 size[3] = { 16ULL * num, 4 + 2ULL * num + (event_idx ? 2 : 0),
			      4 + 8ULL * num + (event_idx ? 2 : 0) };

	for (unsigned int i = 0; i < 3; i++) {
		u64 len = size[i];
		void *p = vq_mem_translate(m, gpa[i], &len);

		if (!p || len != size[i])
			return -EFAULT;
		hva[i] = (u64)(uintptr_t)p;
	}
	return 0;
}
