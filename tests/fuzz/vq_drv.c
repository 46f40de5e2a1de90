// SPDX-License-Identifier: MIT
/*
 * libFuzzer harness for the driver side of the split ring (virtio/vq_drv.c)
 * against a hostile device: the driver adds chains described by the input,
 * then the input overwrites the used ring (used->flags, used->idx, elements,
 * avail_event) and the driver reaps.  Checked: every token returned was in
 * flight and is returned once, free descriptors + descriptors in flight always
 * equal the queue size, and after a reset-free reap the free list still hands
 * out exactly num_free descriptors.
 *
 * Input layout:
 *   [0]  queue size: 1 << (b % 8) (1..128); [1] bit 0 EVENT_IDX, bit 1 INDIRECT
 *   [2]  number of chains to add; then per chain one byte: length 1..8
 *        (bit 7: indirect), writable split at half
 *   then the used ring image (6 + 8 * num bytes) and a list of op bytes:
 *        0 reap, 1 enable_cb, 2 disable_cb, 3 kick_prepare
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virtio/vq_drv.h>

#define MAXN 128

static u8 ring[32768] __attribute__((aligned(64)));
static struct vring_desc tables[MAXN][8];
static struct vq_drv_slot slots[MAXN];
static u8 in_flight[MAXN];	/* chain i's token is &in_flight[i] */
static u8 ndesc_of[MAXN];

int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct vq_drv_cfg cfg = { .ring = ring, .slots = slots };
	struct vq_drv d;
	struct vq_drv_sg sg[8];
	unsigned int nchains, i, k, used_descs = 0;
	size_t pos = 3, ub;

	if (size < 3)
		return 0;
	cfg.num = 1u << (data[0] % 8);
	if (data[1] & 1)
		cfg.features |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (data[1] & 2)
		cfg.features |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (vq_drv_init(&d, &cfg))
		abort();
	memset(in_flight, 0, sizeof(in_flight));

	nchains = data[2] % (MAXN + 1);
	for (i = 0; i < nchains && pos < size; i++, pos++) {
		unsigned int n = 1 + (data[pos] & 7);
		bool ind = data[pos] & 0x80;
		int head;

		for (k = 0; k < n; k++) {
			sg[k].addr = 0x1000 * (i + 1) + k;
			sg[k].len = 16;
			sg[k].write = k >= n / 2;
		}
		if (ind)
			head = vq_drv_add_indirect(&d, sg, n, tables[i], &in_flight[i]);
		else
			head = vq_drv_add(&d, sg, n, &in_flight[i]);
		if (head >= 0) {
			if (head >= (int)cfg.num)
				abort();
			in_flight[i] = 1;
			ndesc_of[i] = ind ? 1 : n;
			used_descs += ndesc_of[i];
		}
		if (vq_drv_num_free(&d) + used_descs != cfg.num)
			abort();
	}
	vq_drv_kick_prepare(&d);

	/* The device's side of the ring, as the input says. */
	ub = vq_used_bytes(cfg.num);
	if (pos + ub <= size) {
		memcpy(d.used, data + pos, ub);
		pos += ub;
	} else if (pos < size) {
		memcpy(d.used, data + pos, size - pos);
		pos = size;
	}

	for (; pos < size; pos++) {
		void *tok;
		u32 len;
		int r;

		switch (data[pos] % 4) {
		case 0:
			r = vq_drv_get_used(&d, &tok, &len);
			if (r == 1) {
				u8 *t = tok;
				unsigned int c = (unsigned int)(t - in_flight);

				if (c >= MAXN || !in_flight[c])
					abort();
				in_flight[c] = 0;
				used_descs -= ndesc_of[c];
			} else if (r < 0 && !d.broken) {
				abort();
			}
			break;
		case 1:
			vq_drv_enable_cb(&d);
			break;
		case 2:
			vq_drv_disable_cb(&d);
			break;
		case 3:
			vq_drv_kick_prepare(&d);
			break;
		}
		if (vq_drv_num_free(&d) + used_descs != cfg.num)
			abort();
	}

	/* The free list must still be exactly num_free long and well formed. */
	if (!d.broken) {
		unsigned int free_before = vq_drv_num_free(&d), got = 0;

		sg[0].addr = 0;
		sg[0].len = 1;
		sg[0].write = false;
		while (vq_drv_add(&d, sg, 1, ring) >= 0)
			got++;
		if (got != free_before)
			abort();
	}
	return 0;
}
