// SPDX-License-Identifier: MIT
/*
 * vmm's virtio-net control queue (vmm/net_ctrl.c) against a hostile driver:
 * commands are built with virtio/'s driver side in a RAM buffer, the device
 * side is the transport's local queue, the back-end a recorder of
 * SET_VRING_ENABLE.  VQ_PAIRS_SET within 1..max turns exactly those pairs on;
 * out-of-range counts, unknown classes, wrong lengths, missing ack buffers
 * and a back-end that refuses are answered VIRTIO_NET_ERR (or not answered)
 * without touching the pairs; a header split over descriptors still works;
 * a corrupted chain marks the device NEEDS_RESET and nothing else.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_pci.h>
#include <linux/virtio_ring.h>

#include <virtio/vq_drv.h>
#include "../../vmm/virtio_pci.h"
#include "check.h"


#define RAM_SIZE	(1 << 20)
#define QSIZE		16
#define MAX_PAIRS	4
#define CTRL		(2 * MAX_PAIRS)

static u8 ram[RAM_SIZE] __attribute__((aligned(4096)));
static bool enabled[2 * MAX_PAIRS];
static int refuse;		/* set_vring_enable fails with this */

static int be_enable(struct vhost_dev *b, unsigned int idx, bool en)
{
	(void)b;
	if (refuse)
		return refuse;
	if (idx >= 2 * MAX_PAIRS)
		return -EINVAL;		/* the control queue never reaches the back-end */
	enabled[idx] = en;
	return 0;
}

static const struct vhost_ops be_ops = { .name = "recorder", .set_vring_enable = be_enable };
static struct vhost_dev be = { .ops = &be_ops };
static struct vmm_virtio_dev dev;
static struct vq_drv drv;
static struct vq_drv_slot slots[QSIZE];
static struct vq_mem mem;

static u8 *scratch = ram + 64 * 1024;	/* command buffers */

static u64 gpa(const void *p) { return (u64)((const u8 *)p - ram); }

/* Post one chain, let vmm serve it; the ack byte (0xee if none written) and used len. */
static u8 send(const struct vq_drv_sg *sg, unsigned int n, u8 *ack, u32 *len)
{
	void *tok;
	int token = 1;

	if (ack)
		*ack = 0xee;
	CHECK(vq_drv_add(&drv, sg, n, &token) >= 0);
	vq_drv_kick_prepare(&drv);
	vmm_net_ctrl(&dev, &dev.q[CTRL]);
	*len = 0xdead;
	if (vq_drv_get_used(&drv, &tok, len) != 1)
		return 0xff;	/* not answered */
	return ack ? *ack : 0xee;
}

static u8 mq_set(unsigned int pairs, u32 *len)
{
	u8 *hdr = scratch, *data = scratch + 16, *ack = scratch + 32;
	struct vq_drv_sg sg[3] = {
		{ gpa(hdr), 2, false }, { gpa(data), 2, false }, { gpa(ack), 1, true },
	};

	hdr[0] = VIRTIO_NET_CTRL_MQ;
	hdr[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	data[0] = (u8)pairs;
	data[1] = (u8)(pairs >> 8);
	return send(sg, 3, ack, len);
}

static void expect_pairs(unsigned int n)
{
	for (unsigned int i = 0; i < 2 * MAX_PAIRS; i++)
		CHECK(enabled[i] == (i < 2 * n));
	CHECK(dev.net_pairs == n);
}

static void setup(void)
{
	struct vq_mem_region r = { .gpa = 0, .size = RAM_SIZE, .hva = (uintptr_t)ram,
				   .uaddr = (uintptr_t)ram, .fd = -1 };
	struct vq_drv_cfg cfg = { .num = QSIZE, .ring = ram, .slots = slots,
				  .gpa_offset = -(u64)(uintptr_t)ram };
	struct vpci_queue *q = &dev.q[CTRL];

	vq_mem_init(&mem);
	CHECK(vq_mem_add_region(&mem, &r) == 0);
	CHECK(vq_drv_init(&drv, &cfg) == 0);
	snprintf(dev.name, sizeof(dev.name), "net0");
	pthread_mutex_init(&dev.lock, NULL);
	dev.type = 1;	/* VIRTIO_ID_NET */
	dev.be = &be;
	dev.drv_features = (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_NET_F_CTRL_VQ) |
			   (1ULL << VIRTIO_NET_F_MQ);
	dev.net_max_pairs = MAX_PAIRS;
	dev.net_pairs = 1;
	dev.nr_queues = 2 * MAX_PAIRS + 1;
	dev.msix_config = VIRTIO_MSI_NO_VECTOR;
	dev.mem = mem;
	dev.req = malloc(sizeof(*dev.req));
	CHECK(dev.req != NULL);
	for (unsigned int i = 0; i < 2 * MAX_PAIRS; i++) {
		dev.q[i].started = true;
		enabled[i] = i < 2;
	}
	q->started = q->local = true;
	q->call_fd = eventfd(0, EFD_NONBLOCK);
	vq_init(&q->vq, &dev.mem);
	CHECK(vq_set_num(&q->vq, QSIZE) == 0);
	CHECK(vq_set_features(&q->vq, dev.drv_features) == 0);
	CHECK(vq_set_addr(&q->vq, vq_drv_desc_gpa(&drv), vq_drv_avail_gpa(&drv),
			  vq_drv_used_gpa(&drv)) == 0);
	CHECK(vq_start(&q->vq) == 0);
}

int main(void)
{
	u8 *hdr = scratch, *data = scratch + 16, *ack = scratch + 32;
	u64 cnt = 0;
	u32 len;

	setup();

	/* the one command, in range: exactly those pairs run */
	CHECK(mq_set(3, &len) == VIRTIO_NET_OK && len == 1);
	expect_pairs(3);
	CHECK(read(dev.q[CTRL].call_fd, &cnt, sizeof(cnt)) == sizeof(cnt) && cnt >= 1);
	CHECK(mq_set(1, &len) == VIRTIO_NET_OK);
	expect_pairs(1);
	CHECK(mq_set(MAX_PAIRS, &len) == VIRTIO_NET_OK);
	expect_pairs(MAX_PAIRS);

	/* out of range: refused, nothing changes */
	CHECK(mq_set(0, &len) == VIRTIO_NET_ERR);
	CHECK(mq_set(MAX_PAIRS + 1, &len) == VIRTIO_NET_ERR);
	CHECK(mq_set(0x8000, &len) == VIRTIO_NET_ERR);
	expect_pairs(MAX_PAIRS);

	/* an unknown class, and MQ's other command (RSS), are refused */
	hdr[0] = VIRTIO_NET_CTRL_RX;
	hdr[1] = VIRTIO_NET_CTRL_RX_PROMISC;
	data[0] = 1;
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 2, false }, { gpa(data), 1, false },
					 { gpa(ack), 1, true } }, 3, ack, &len) == VIRTIO_NET_ERR);
	hdr[0] = VIRTIO_NET_CTRL_MQ;
	hdr[1] = VIRTIO_NET_CTRL_MQ_RSS_CONFIG;
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 2, false }, { gpa(data), 2, false },
					 { gpa(ack), 1, true } }, 3, ack, &len) == VIRTIO_NET_ERR);

	/* the right command with 3 bytes of data, or only 1: refused */
	hdr[1] = VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	data[0] = 2; data[1] = 0; data[2] = 0;
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 2, false }, { gpa(data), 3, false },
					 { gpa(ack), 1, true } }, 3, ack, &len) == VIRTIO_NET_ERR);
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 2, false }, { gpa(data), 1, false },
					 { gpa(ack), 1, true } }, 3, ack, &len) == VIRTIO_NET_ERR);
	/* no header at all: only a writable byte */
	CHECK(send((struct vq_drv_sg[]){ { gpa(ack), 1, true } }, 1, ack, &len) == VIRTIO_NET_ERR);
	expect_pairs(MAX_PAIRS);

	/* header and data split across descriptors: still one command */
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 1, false }, { gpa(hdr) + 1, 1, false },
					 { gpa(data), 1, false }, { gpa(data) + 1, 1, false },
					 { gpa(ack), 1, true } }, 5, ack, &len) == VIRTIO_NET_OK);
	expect_pairs(2);

	/* no ack buffer: served, answered with length 0, no write anywhere */
	data[0] = 3;
	CHECK(send((struct vq_drv_sg[]){ { gpa(hdr), 2, false }, { gpa(data), 2, false } }, 2,
		   NULL, &len) == 0xee && len == 0);
	expect_pairs(3);

	/* a back-end that refuses: ERR, and the device needs a reset */
	refuse = -ENOTCONN;
	CHECK(mq_set(1, &len) == VIRTIO_NET_ERR);
	CHECK(dev.net_pairs == 3 && (dev.status & VIRTIO_CONFIG_S_NEEDS_RESET));
	refuse = 0;
	dev.status = 0;

	/* MQ not negotiated: the command is refused */
	dev.drv_features &= ~(1ULL << VIRTIO_NET_F_MQ);
	CHECK(mq_set(1, &len) == VIRTIO_NET_ERR);
	dev.drv_features |= 1ULL << VIRTIO_NET_F_MQ;
	expect_pairs(3);

	/* a descriptor outside guest RAM: the queue breaks, the device needs a reset */
	CHECK(send((struct vq_drv_sg[]){ { RAM_SIZE + 4096, 2, false }, { gpa(ack), 1, true } },
		   2, ack, &len) == 0xff);
	CHECK(dev.status & VIRTIO_CONFIG_S_NEEDS_RESET);
	CHECK(vq_is_broken(&dev.q[CTRL].vq));
	expect_pairs(3);

	close(dev.q[CTRL].call_fd);
	free(dev.req);
	return check_exit("vmm_net_ctrl");
}
