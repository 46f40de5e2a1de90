/* SPDX-License-Identifier: MIT */
/*
 * vhost-user wire format (QEMU docs/interop/vhost-user.rst).
 *
 * vhost-user is not in the Linux uapi headers, so the message layout is ours;
 * where the payload matches a uapi struct (<linux/vhost_types.h>
 * vhost_vring_state, vhost_vring_addr) that struct is used.  All multi-byte
 * fields are in host byte order (the protocol is host-local; little-endian on
 * every platform we build for).
 *
 * A message is a 12-byte header followed by hdr.size bytes of payload; file
 * descriptors travel as SCM_RIGHTS ancillary data on the same sendmsg().
 */
#ifndef VHOST_USER_PROTO_H
#define VHOST_USER_PROTO_H

#include <stddef.h>
#include <linux/vhost_types.h>
#include <virtio/types.h>

/* Front-end -> back-end requests. */
enum vhu_request {
	VHU_REQ_NONE			= 0,
	VHU_REQ_GET_FEATURES		= 1,
	VHU_REQ_SET_FEATURES		= 2,
	VHU_REQ_SET_OWNER		= 3,
	VHU_REQ_RESET_OWNER		= 4,
	VHU_REQ_SET_MEM_TABLE		= 5,
	VHU_REQ_SET_LOG_BASE		= 6,
	VHU_REQ_SET_LOG_FD		= 7,
	VHU_REQ_SET_VRING_NUM		= 8,
	VHU_REQ_SET_VRING_ADDR		= 9,
	VHU_REQ_SET_VRING_BASE		= 10,
	VHU_REQ_GET_VRING_BASE		= 11,
	VHU_REQ_SET_VRING_KICK		= 12,
	VHU_REQ_SET_VRING_CALL		= 13,
	VHU_REQ_SET_VRING_ERR		= 14,
	VHU_REQ_GET_PROTOCOL_FEATURES	= 15,
	VHU_REQ_SET_PROTOCOL_FEATURES	= 16,
	VHU_REQ_GET_QUEUE_NUM		= 17,
	VHU_REQ_SET_VRING_ENABLE	= 18,
	VHU_REQ_SEND_RARP		= 19,
	VHU_REQ_NET_SET_MTU		= 20,
	VHU_REQ_SET_BACKEND_REQ_FD	= 21,
	VHU_REQ_IOTLB_MSG		= 22,
	VHU_REQ_SET_VRING_ENDIAN	= 23,
	VHU_REQ_GET_CONFIG		= 24,
	VHU_REQ_SET_CONFIG		= 25,
	VHU_REQ_CREATE_CRYPTO_SESSION	= 26,
	VHU_REQ_CLOSE_CRYPTO_SESSION	= 27,
	VHU_REQ_POSTCOPY_ADVISE		= 28,
	VHU_REQ_POSTCOPY_LISTEN		= 29,
	VHU_REQ_POSTCOPY_END		= 30,
	VHU_REQ_GET_INFLIGHT_FD		= 31,
	VHU_REQ_SET_INFLIGHT_FD		= 32,
	VHU_REQ_GPU_SET_SOCKET		= 33,
	VHU_REQ_RESET_DEVICE		= 34,
	VHU_REQ_VRING_KICK		= 35,
	VHU_REQ_GET_MAX_MEM_SLOTS	= 36,
	VHU_REQ_ADD_MEM_REG		= 37,
	VHU_REQ_REM_MEM_REG		= 38,
	VHU_REQ_SET_STATUS		= 39,
	VHU_REQ_GET_STATUS		= 40,
	VHU_REQ_MAX			= 41,
};

/* Header flags. */
#define VHU_VERSION		0x1u
#define VHU_VERSION_MASK	0x3u
#define VHU_FLAG_REPLY		(1u << 2)
#define VHU_FLAG_NEED_REPLY	(1u << 3)

/* Virtio feature bit that says GET/SET_PROTOCOL_FEATURES exist. */
#define VHU_F_PROTOCOL_FEATURES	30

/* Protocol feature bits. */
#define VHU_PROTOCOL_F_MQ			0
#define VHU_PROTOCOL_F_LOG_SHMFD		1
#define VHU_PROTOCOL_F_RARP			2
#define VHU_PROTOCOL_F_REPLY_ACK		3
#define VHU_PROTOCOL_F_MTU			4
#define VHU_PROTOCOL_F_BACKEND_REQ		5
#define VHU_PROTOCOL_F_CROSS_ENDIAN		6
#define VHU_PROTOCOL_F_CRYPTO_SESSION		7
#define VHU_PROTOCOL_F_PAGEFAULT		8
#define VHU_PROTOCOL_F_CONFIG			9
#define VHU_PROTOCOL_F_BACKEND_SEND_FD		10
#define VHU_PROTOCOL_F_HOST_NOTIFIER		11
#define VHU_PROTOCOL_F_INFLIGHT_SHMFD		12
#define VHU_PROTOCOL_F_RESET_DEVICE		13
#define VHU_PROTOCOL_F_INBAND_NOTIFICATIONS	14
#define VHU_PROTOCOL_F_CONFIGURE_MEM_SLOTS	15
#define VHU_PROTOCOL_F_STATUS			16

/* Most fds on one message, and regions in one SET_MEM_TABLE. */
#define VHU_MAX_FDS		8
#define VHU_MEM_BASELINE_REGIONS 8
/* Vrings one connection can address (kick/call index is 8 bits). */
#define VHU_MAX_QUEUES		256
/* Largest split queue. */
#define VHU_MAX_QUEUE_SIZE	32768
/* Largest config space GET/SET_CONFIG carry. */
#define VHU_MAX_CONFIG_SIZE	256
/* SET_VRING_KICK/CALL/ERR payload: bits 0-7 index, bit 8 "no fd". */
#define VHU_VRING_IDX_MASK	0xffull
#define VHU_VRING_NOFD		(1ull << 8)
/* SET_CONFIG flags. */
#define VHU_SET_CONFIG_FRONTEND	0
#define VHU_SET_CONFIG_MIGRATION 1

struct vhu_msg_hdr {
	u32 request;
	u32 flags;
	u32 size;		/* payload bytes following the header */
} __attribute__((packed));

struct vhu_mem_region {
	u64 guest_phys_addr;
	u64 memory_size;
	u64 userspace_addr;
	u64 mmap_offset;
} __attribute__((packed));

struct vhu_mem_table {
	u32 nregions;
	u32 padding;
	struct vhu_mem_region regions[VHU_MEM_BASELINE_REGIONS];
} __attribute__((packed));

/* ADD_MEM_REG / REM_MEM_REG */
struct vhu_mem_reg {
	u64 padding;
	struct vhu_mem_region region;
} __attribute__((packed));

struct vhu_log {
	u64 mmap_size;
	u64 mmap_offset;
} __attribute__((packed));

struct vhu_config {
	u32 offset;
	u32 size;
	u32 flags;
	u8 region[VHU_MAX_CONFIG_SIZE];
} __attribute__((packed));
#define VHU_CONFIG_HDR_SIZE	12u

/* GET_INFLIGHT_FD / SET_INFLIGHT_FD; QEMU and DPDK send 24 bytes (padded). */
struct vhu_inflight {
	u64 mmap_size;
	u64 mmap_offset;
	u16 num_queues;
	u16 queue_size;
	u32 padding;
} __attribute__((packed));
#define VHU_INFLIGHT_MIN_SIZE	20u

union vhu_payload {
	u64 u64;
	struct vhost_vring_state state;
	struct vhost_vring_addr addr;
	struct vhu_mem_table mem;
	struct vhu_mem_reg mem_reg;
	struct vhu_log log;
	struct vhu_config config;
	struct vhu_inflight inflight;
};

/* Largest payload any request we know may carry. */
#define VHU_MAX_PAYLOAD		sizeof(union vhu_payload)

struct vhu_msg {
	struct vhu_msg_hdr hdr;
	union vhu_payload payload;
	int fds[VHU_MAX_FDS];
	unsigned int nr_fds;
};

/*
 * Shared inflight region, split-ring layout (vhost-user.rst "Inflight I/O
 * tracking").  The region holds one struct vhu_inflight_split per queue, each
 * vhu_inflight_queue_size(queue_size) bytes apart.  The front-end only keeps
 * the fd; the content is the back-end's and survives a back-end restart.
 */
struct vhu_inflight_desc {
	u8 inflight;		/* 1 while the device owns this head */
	u8 padding[5];
	u16 next;		/* link in the last used batch */
	u64 counter;		/* order in which heads were taken */
};

struct vhu_inflight_split {
	u64 features;
	u16 version;
	u16 desc_num;
	u16 last_batch_head;
	u16 used_idx;
	struct vhu_inflight_desc desc[];
};
/* Naturally aligned, no padding: the layout other back-ends use too. */
_Static_assert(sizeof(struct vhu_inflight_desc) == 16, "inflight desc layout");
_Static_assert(sizeof(struct vhu_inflight_split) == 16, "inflight header layout");

#define VHU_INFLIGHT_ALIGN	64u

static inline u64 vhu_inflight_queue_size(u16 queue_size)
{
	u64 n = sizeof(struct vhu_inflight_split) +
		(u64)queue_size * sizeof(struct vhu_inflight_desc);

	return (n + VHU_INFLIGHT_ALIGN - 1) & ~(u64)(VHU_INFLIGHT_ALIGN - 1);
}

/* Name of a request ("SET_MEM_TABLE"), or "UNKNOWN". */
const char *vhu_request_name(u32 request);

/*
 * Log sink for the whole library.  Lines (no trailing newline) reach the sink
 * after a rate limit (a burst of 20, then 10 per second; suppressed lines are
 * counted and reported with the next line that passes).  The default sink
 * writes to stderr.  Pass NULL to restore it.
 */
typedef void vhu_log_fn(const char *line, void *opaque);
void vhu_set_log(vhu_log_fn *fn, void *opaque);

#endif
