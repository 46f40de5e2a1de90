/* SPDX-License-Identifier: MIT */
/*
 * Guest-memory table: the one place a guest physical address becomes a host
 * pointer.  Every address that comes from a guest or a peer (descriptor, ring
 * address, message field) goes through vq_mem_translate() or vq_mem_to_iov().
 *
 * A region maps guest physical [gpa, gpa+size) to host virtual [hva, hva+size).
 * For vhost-user the region also carries the front-end's user address (uaddr:
 * ring addresses in SET_VRING_ADDR are expressed in it), the fd and the offset
 * into that fd where the region starts (mmap_offset).
 */
#ifndef VIRTIO_MEM_H
#define VIRTIO_MEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <virtio/types.h>

#define VQ_MEM_MAX_REGIONS 32

struct vq_mem_region {
	u64 gpa;
	u64 size;
	u64 hva;		/* host address of gpa in this process */
	u64 uaddr;		/* front-end's address of gpa (vhost-user/vhost-kernel) */
	u64 mmap_offset;	/* offset of gpa inside fd */
	int fd;			/* backing fd, or -1 */
};

struct vq_mem {
	unsigned int nr;
	struct vq_mem_region regions[VQ_MEM_MAX_REGIONS];
};

struct iovec;

/* Empty the table (no regions). */
void vq_mem_init(struct vq_mem *m);

/*
 * Append a region after checking it (the table may come from a peer's
 * SET_MEM_TABLE message, SECURITY.md case 13): size 0 -> -EINVAL; gpa + size,
 * hva + size, uaddr + size or mmap_offset + size wrapping past 2^64 ->
 * -EOVERFLOW; a gpa range overlapping an existing region -> -EINVAL; table
 * full (VQ_MEM_MAX_REGIONS) -> -E2BIG.  The table is unchanged on error.
 */
int vq_mem_add_region(struct vq_mem *m, const struct vq_mem_region *r);

/*
 * Translate [gpa, gpa + *len) to a host pointer.  On success returns the host
 * address of gpa and shortens *len to what is contiguous in one region (so a
 * caller loops for ranges that span regions).  Returns NULL when gpa is not in
 * any region or *len is 0.  Never overflows: gpa + *len wrapping past 2^64 is
 * treated as running to the region end.
 */
void *vq_mem_translate(const struct vq_mem *m, u64 gpa, u64 *len);

/*
 * Host pointer for the whole of [gpa, gpa + len) when it lies in one region,
 * else NULL (not guest memory, or across regions: vq_mem_to_iov() splits
 * those).  len must not be 0.  *hint is the region index tried first and is
 * set to the one that matched: a caller that keeps its own (one per queue;
 * the table itself is shared and never written) finds a buffer with one range
 * check when its buffers keep coming from the same region, the usual case.
 * Any *hint value is safe.
 */
void *vq_mem_range_slow(const struct vq_mem *m, u64 gpa, u64 len, unsigned int *hint);

static inline void *vq_mem_range(const struct vq_mem *m, u64 gpa, u64 len,
				 unsigned int *hint)
{
	unsigned int h = *hint;

	if (h < m->nr && h < VQ_MEM_MAX_REGIONS) {
		const struct vq_mem_region *r = &m->regions[h];
		/* Wrap-free as in translate(): offset < size, then len <= size - offset. */
		if (gpa >= r->gpa && gpa - r->gpa < r->size && len &&
		    len <= r->size - (gpa - r->gpa))
			return (void *)(uintptr_t)(r->hva + (gpa - r->gpa));
	}
	return vq_mem_range_slow(m, gpa, len, hint);
}

/* Same as vq_mem_translate() for a front-end user address (vhost-user rings). */
void *vq_mem_translate_uaddr(const struct vq_mem *m, u64 uaddr, u64 *len);

/*
 * Map the whole of [gpa, gpa + len) into at most @max iovecs, splitting at region
 * boundaries.  Returns the number of iovecs used, -EFAULT if any byte is not
 * guest memory or the range wraps, -ENOBUFS if it needs more than @max entries.
 * len 0 yields 0 iovecs.
 */
int vq_mem_to_iov(const struct vq_mem *m, u64 gpa, u32 len, struct iovec *iov,
		  unsigned int max);

/* True if the whole range [gpa, gpa + len) is guest memory (len may be 0). */
bool vq_mem_range_ok(const struct vq_mem *m, u64 gpa, u64 len);

/*
 * Host addresses of a split ring of @num entries (desc, avail, used at the
 * given guest addresses; @event_idx adds the used_event/avail_event words),
 * each area whole inside one region, as vhost wants them (one user address
 * per area).  0, or -EFAULT if an area is not mapped in one piece.
 */
int vq_mem_split_ring_hvas(const struct vq_mem *m, u64 desc, u64 avail, u64 used,
			   unsigned int num, bool event_idx, u64 hva[3]);

#endif
