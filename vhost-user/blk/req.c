// SPDX-License-Identifier: MIT
/*
 * virtio-blk request parsing: one popped descriptor chain, given as its
 * device-readable and device-writable iovecs, becomes either an I/O for an
 * engine or an immediate status.
 *
 * Security model: every byte the iovecs point to is guest memory, which the
 * guest may rewrite at any moment, and every field in it is hostile.  The
 * request header and the DISCARD/WRITE_ZEROES segment are copied out once and
 * only the copies are examined; nothing in guest memory is read twice.  The
 * iovec lengths come from the ring code (already translated and bounded by the
 * memory table), but are summed here with overflow checks all the same.  A
 * request is refused (IOERR or UNSUPP, nothing done) when the header is not
 * wholly in the readable part, its data length is not a multiple of 512, its
 * sector range passes the capacity or overflows, it has more data segments
 * than advertised, or it would modify a read-only disk.  A chain without a
 * single writable byte has nowhere to put a status: that is -EINVAL for the
 * caller, who marks the queue broken.
 */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <linux/falloc.h>

#include "internal.h"

#define BLK_OUTHDR_SIZE	sizeof(struct virtio_blk_outhdr)
#define BLK_MAX_DATA	((u64)UINT32_MAX - 1)	/* data + status fits a used len */

/* Sum of iovec lengths; false on overflow. */
static bool iov_sum(const struct iovec *iov, unsigned int n, u64 *total)
{
	u64 t = 0;

	for (unsigned int i = 0; i < n; i++)
		if (__builtin_add_overflow(t, (u64)iov[i].iov_len, &t))
			return false;
	*total = t;
	return true;
}

/* Copy @len bytes starting @skip bytes into @iov to @dst; returns bytes copied. */
static size_t iov_copy_out(const struct iovec *iov, unsigned int n, size_t skip,
			   void *dst, size_t len)
{
	size_t done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		size_t l = iov[i].iov_len, c;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		c = l - skip;
		if (c > len - done)
			c = len - done;
		memcpy((u8 *)dst + done, (const u8 *)iov[i].iov_base + skip, c);
		done += c;
		skip = 0;
	}
	return done;
}

/*
 * Copy the segments of @iov after the first @skip bytes and limited to @len
 * bytes into io->iov_store, dropping empty ones.  False if more than @seg_max.
 */
static bool iov_take(struct blk_io *io, const struct iovec *iov, unsigned int n,
		     size_t skip, u64 len, unsigned int seg_max)
{
	unsigned int k = 0;

	for (unsigned int i = 0; i < n && len; i++) {
		size_t l = iov[i].iov_len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > len)
			l = len;
		if (k == seg_max)
			return false;
		io->iov_store[k].iov_base = (u8 *)iov[i].iov_base + skip;
		io->iov_store[k].iov_len = l;
		k++;
		len -= l;
		skip = 0;
	}
	io->data_n = k;
	io->iov = io->iov_store;
	io->iovcnt = k;
	return true;
}

/* sector .. sector + nsect within capacity, without overflowing. */
static bool range_ok(const struct blk_disk *d, u64 sector, u64 nsect)
{
	return sector <= d->capacity && nsect <= d->capacity - sector;
}

static int done(struct blk_io *io, u8 status)
{
	io->op = BLK_IO_DONE;
	io->result = status;
	return 0;
}

static int parse_rw(const struct blk_disk *d, const struct blk_req_in *in,
		    struct blk_io *io, u64 sector, u64 out_total, u64 in_total,
		    unsigned int seg_max)
{
	bool is_in = io->kind == BLK_KIND_IN;
	u64 len = is_in ? in_total - 1 : out_total - BLK_OUTHDR_SIZE;
	bool ok;

	if (!is_in && d->readonly)
		return done(io, VIRTIO_BLK_S_IOERR);
	if (len > BLK_MAX_DATA || len % BLK_SECTOR_SIZE ||
	    !range_ok(d, sector, len >> BLK_SECTOR_SHIFT))
		return done(io, VIRTIO_BLK_S_IOERR);
	if (is_in)
		ok = iov_take(io, in->in_iov, in->in_n, 0, len, seg_max);
	else
		ok = iov_take(io, in->out_iov, in->out_n, BLK_OUTHDR_SIZE, len, seg_max);
	if (!ok)
		return done(io, VIRTIO_BLK_S_IOERR);
	if (!len)
		return done(io, VIRTIO_BLK_S_OK);
	io->op = is_in ? BLK_IO_READ : BLK_IO_WRITE;
	io->offset = sector << BLK_SECTOR_SHIFT;
	io->resid = len;
	io->total = len;
	/* Guest turned its write cache off: every write durable on completion. */
	if (!is_in && !d->dsync && !__atomic_load_n(&d->wce, __ATOMIC_RELAXED))
		io->rw_flags = RWF_DSYNC;
	return 0;
}

static int parse_trim(const struct blk_disk *d, const struct blk_req_in *in,
		      struct blk_io *io, u64 out_total)
{
	struct virtio_blk_discard_write_zeroes seg;
	bool discard = io->kind == BLK_KIND_DISCARD;
	u64 sector, nsect;
	u32 flags;

	if (d->readonly)
		return done(io, VIRTIO_BLK_S_IOERR);
	if (discard && !d->discard)
		return done(io, VIRTIO_BLK_S_UNSUPP);
	/* Exactly one segment (max_discard_seg = max_write_zeroes_seg = 1). */
	if (out_total - BLK_OUTHDR_SIZE != sizeof(seg))
		return done(io, VIRTIO_BLK_S_IOERR);
	iov_copy_out(in->out_iov, in->out_n, BLK_OUTHDR_SIZE, &seg, sizeof(seg));
	sector = le64_to_cpu(seg.sector);
	nsect = le32_to_cpu(seg.num_sectors);
	flags = le32_to_cpu(seg.flags);
	if (discard ? flags != 0 : (flags & ~VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP))
		return done(io, VIRTIO_BLK_S_UNSUPP);
	if (nsect > (discard ? d->max_discard_sectors : d->max_write_zeroes_sectors) ||
	    !range_ok(d, sector, nsect))
		return done(io, VIRTIO_BLK_S_IOERR);
	if (!nsect)
		return done(io, VIRTIO_BLK_S_OK);
	io->offset = sector << BLK_SECTOR_SHIFT;
	io->resid = nsect << BLK_SECTOR_SHIFT;
	io->total = io->resid;
	io->op = BLK_IO_FALLOC;
	/*
	 * Write-through (O_DSYNC, or the guest cleared wce): fallocate() is not
	 * covered by O_DSYNC, so a completed WRITE_ZEROES/DISCARD is followed by
	 * fdatasync() (RWF_DSYNC here means "durable before completion").
	 */
	if (d->dsync || !__atomic_load_n(&d->wce, __ATOMIC_RELAXED))
		io->rw_flags = RWF_DSYNC;
	if (discard || ((flags & VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP) && d->discard)) {
		/* A punched hole reads back as zeroes, on files and devices. */
		io->fa_mode = FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE;
	} else if (__atomic_load_n(&d->zero_range, __ATOMIC_RELAXED)) {
		io->fa_mode = FALLOC_FL_ZERO_RANGE | FALLOC_FL_KEEP_SIZE;
	} else {
		io->op = BLK_IO_ZERO_WRITE;
	}
	return 0;
}

int blk_req_parse(const struct blk_disk *d, const struct blk_req_in *in,
		  struct blk_io *io, unsigned int seg_max)
{
	struct virtio_blk_outhdr hdr;
	u64 out_total, in_total;
	const struct iovec *st = NULL;
	u64 sector;
	u32 type;

	if ((in->out_n && !in->out_iov) || (in->in_n && !in->in_iov))
		return -EINVAL;
	/* The status byte: the last byte of the writable part. */
	if (!iov_sum(in->in_iov, in->in_n, &in_total))
		return -EINVAL;
	for (unsigned int i = in->in_n; i-- > 0;) {
		if (in->in_iov[i].iov_len) {
			st = &in->in_iov[i];
			break;
		}
	}
	if (!st)
		return -EINVAL;

	io->status = (u8 *)st->iov_base + st->iov_len - 1;
	io->op = BLK_IO_DONE;
	io->kind = BLK_KIND_NONE;
	io->result = VIRTIO_BLK_S_IOERR;
	io->retries = 0;
	io->rw_flags = 0;
	io->fa_mode = 0;
	io->wlen = 1;
	io->offset = io->resid = io->total = 0;
	io->iov = io->iov_store;
	io->iovcnt = io->data_n = 0;
	io->bounce = NULL;

	if (!iov_sum(in->out_iov, in->out_n, &out_total) || out_total < BLK_OUTHDR_SIZE)
		return done(io, VIRTIO_BLK_S_IOERR);
	/* One copy of the header; only the copy is looked at from here on. */
	iov_copy_out(in->out_iov, in->out_n, 0, &hdr, sizeof(hdr));
	type = le32_to_cpu(hdr.type);
	sector = le64_to_cpu(hdr.sector);

	switch (type) {
	case VIRTIO_BLK_T_IN:
		io->kind = BLK_KIND_IN;
		return parse_rw(d, in, io, sector, out_total, in_total, seg_max);
	case VIRTIO_BLK_T_OUT:
		io->kind = BLK_KIND_OUT;
		return parse_rw(d, in, io, sector, out_total, in_total, seg_max);
	case VIRTIO_BLK_T_FLUSH:
		io->kind = BLK_KIND_FLUSH;
		/* Nothing can be dirty on a read-only disk. */
		if (d->readonly)
			return done(io, VIRTIO_BLK_S_OK);
		io->op = BLK_IO_FLUSH;
		return 0;
	case VIRTIO_BLK_T_GET_ID: {
		u64 room = in_total - 1;
		size_t n = room < VIRTIO_BLK_ID_BYTES ? room : VIRTIO_BLK_ID_BYTES;
		size_t left = n;

		io->kind = BLK_KIND_GET_ID;
		for (unsigned int i = 0; i < in->in_n && left; i++) {
			size_t c = in->in_iov[i].iov_len < left ? in->in_iov[i].iov_len : left;

			if (!c)
				continue;
			memcpy(in->in_iov[i].iov_base, d->serial + (n - left), c);
			left -= c;
		}
		io->wlen = n + 1;
		return done(io, VIRTIO_BLK_S_OK);
	}
	case VIRTIO_BLK_T_DISCARD:
		io->kind = BLK_KIND_DISCARD;
		return parse_trim(d, in, io, out_total);
	case VIRTIO_BLK_T_WRITE_ZEROES:
		io->kind = BLK_KIND_WRITE_ZEROES;
		return parse_trim(d, in, io, out_total);
	default:
		return done(io, VIRTIO_BLK_S_UNSUPP);
	}
}
