/* SPDX-License-Identifier: MIT */
/*
 * Basic types shared by every vioplane layer, usable in freestanding builds
 * (guest-drivers) as well as in host programs.
 *
 * Guest-visible fields are little-endian (virtio 1.x); read and write them only
 * through the le*_to_cpu()/cpu_to_le*() accessors below.
 */
#ifndef VIRTIO_TYPES_H
#define VIRTIO_TYPES_H

#include <linux/types.h>

typedef __u8 u8;
typedef __u16 u16;
typedef __u32 u32;
typedef __u64 u64;
typedef __s8 s8;
typedef __s16 s16;
typedef __s32 s32;
typedef __s64 s64;
typedef __le16 le16;
typedef __le32 le32;
typedef __le64 le64;

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#define VP_LE_SWAP16(x) __builtin_bswap16(x)
#define VP_LE_SWAP32(x) __builtin_bswap32(x)
#define VP_LE_SWAP64(x) __builtin_bswap64(x)
#else
#define VP_LE_SWAP16(x) (x)
#define VP_LE_SWAP32(x) (x)
#define VP_LE_SWAP64(x) (x)
#endif

static inline u16 le16_to_cpu(le16 v) { return VP_LE_SWAP16((u16)v); }
static inline u32 le32_to_cpu(le32 v) { return VP_LE_SWAP32((u32)v); }
static inline u64 le64_to_cpu(le64 v) { return VP_LE_SWAP64((u64)v); }
static inline le16 cpu_to_le16(u16 v) { return (le16)VP_LE_SWAP16(v); }
static inline le32 cpu_to_le32(u32 v) { return (le32)VP_LE_SWAP32(v); }
static inline le64 cpu_to_le64(u64 v) { return (le64)VP_LE_SWAP64(v); }

#ifndef container_of
#define container_of(ptr, type, member) \
	((type *)((char *)(ptr) - __builtin_offsetof(type, member)))
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Single, untorn access to memory another agent (guest, peer) may change. */
#define READ_ONCE(x)	 (*(const volatile __typeof__(x) *)&(x))
#define WRITE_ONCE(x, v) (*(volatile __typeof__(x) *)&(x) = (v))

/*
 * Store @v to a ring field the other side reads, unless the field already
 * holds it.  In steady state a ring slot often gets back the very value it
 * held one lap ago (same buffer in the same descriptor, same head in the
 * same avail slot, same used entry); a store would invalidate the other
 * side's cached copy of the line and its next read would miss, while our
 * own load usually hits.
 */
#define STORE_IF_CHANGED(x, v) do {					\
	__typeof__(x) v_ = (v);						\
	if (READ_ONCE(x) != v_)						\
		WRITE_ONCE(x, v_);					\
} while (0)

#endif
