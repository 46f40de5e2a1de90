/* SPDX-License-Identifier: MIT */
/*
 * Split-virtqueue layout helpers and memory barriers shared by the device side
 * (virtio/vq.c, host only) and the driver side (virtio/vq_drv.c, freestanding).
 *
 * FREESTANDING: this header only pulls in the kernel uapi headers and
 * <virtio/types.h>, so guest-drivers/ can include it with -ffreestanding.
 *
 * The spec structures (struct vring_desc, vring_avail, vring_used,
 * vring_used_elem, the VRING_* flags, VIRTIO_RING_F_* feature bits and
 * vring_need_event()) come from <linux/virtio_ring.h>; this file adds only what
 * the uapi header lacks.
 */
#ifndef VIRTIO_RING_H
#define VIRTIO_RING_H

#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <virtio/types.h>

/* Largest split queue the spec allows (Queue Size is a 16-bit power of 2). */
#define VQ_MAX_SIZE		32768u

/* Alignment the spec requires of each ring part (virtio 1.x, 2.7). */
#define VQ_DESC_ALIGN		16u
#define VQ_AVAIL_ALIGN		2u
#define VQ_USED_ALIGN		4u

/*
 * Sizes of the three parts, including the event-index words (used_event at
 * the end of the avail ring, avail_event at the end of the used ring).  The spec
 * gives these sizes whether or not VIRTIO_F_EVENT_IDX is negotiated.
 */
static inline u64 vq_desc_bytes(unsigned int num) { return 16ull * num; }
static inline u64 vq_avail_bytes(unsigned int num) { return 6ull + 2ull * num; }
static inline u64 vq_used_bytes(unsigned int num) { return 6ull + 8ull * num; }

/* A valid split queue size: a power of two in [1, VQ_MAX_SIZE]. */
static inline int vq_size_valid(unsigned int num)
{
	return num != 0 && num <= VQ_MAX_SIZE && (num & (num - 1)) == 0;
}

/*
 * SMP barriers between this side and the other side of a ring (another CPU in
 * the host, or a vCPU).  Every use names what it orders.  On x86-64 the rmb and
 * wmb variants compile to nothing but a compiler barrier; mb is a full fence
 * (needed where a store must be visible before a later load, the event-index
 * and notification-flag re-checks).
 */
static inline void vq_mb(void)
{
#if defined(__x86_64__)
	/*
	 * A locked read-modify-write of a stack word orders every earlier load
	 * and store before every later one, as mfence does, for the write-back
	 * memory rings live in, and costs several times less on AMD cores
	 * (Linux's smp_mb() and DPDK's rte_smp_mb() are the same).  Adding 0
	 * leaves the word as it was, so even a live red-zone word is safe; -128
	 * keeps it off the words most recently stored.
	 */
	__asm__ __volatile__("lock addl $0, -128(%%rsp)" ::: "memory", "cc");
#else
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
#endif
}

/*
 * Prefetch a line the caller is about to store to, in exclusive state: the
 * ownership transfer from the other side's core starts now, instead of when
 * the store reaches it.  __builtin_prefetch(p, 1) only does that when the
 * compiler targets PREFETCHW (not x86-64's baseline: it emits a read
 * prefetch, which leaves the transfer to the store); PREFETCHW itself is
 * there on every AMD64 and on Intel since Broadwell, and older Intel cores
 * execute it as a no-op.  A hint: it never faults.
 */
static inline void vq_prefetch_w(const void *p)
{
#if defined(__x86_64__)
	__asm__ __volatile__("prefetchw %0" :: "m"(*(const char *)p));
#else
	__builtin_prefetch(p, 1);
#endif
}

static inline void vq_rmb(void) { __atomic_thread_fence(__ATOMIC_ACQUIRE); }
static inline void vq_wmb(void) { __atomic_thread_fence(__ATOMIC_RELEASE); }

#endif
