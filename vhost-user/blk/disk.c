// SPDX-License-Identifier: MIT
/*
 * The backing disk of a vhost-user-blk device: open with QEMU's cache modes,
 * geometry, discard/write-zeroes support, the feature bits and config space
 * the device advertises.
 *
 * Security model: the path and options come from the operator (trusted);
 * blk_disk_set_config() takes a config-space write from the vhost-user
 * front-end (untrusted: only the single wce byte is accepted).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/falloc.h>
#include <linux/fs.h>

#include "internal.h"

#define BLK_MAX_TRIM_SECTORS	(1u << 22)	/* 2 GiB per DISCARD/WRITE_ZEROES */
#define BLK_ZERO_BUF		(256u << 10)

int blk_cache_parse(const char *name, enum blk_cache_mode *mode)
{
	if (!strcmp(name, "writeback"))
		*mode = BLK_CACHE_WRITEBACK;
	else if (!strcmp(name, "none"))
		*mode = BLK_CACHE_NONE;
	else if (!strcmp(name, "writethrough"))
		*mode = BLK_CACHE_WRITETHROUGH;
	else
		return -EINVAL;
	return 0;
}

const char *blk_cache_name(enum blk_cache_mode mode)
{
	switch (mode) {
	case BLK_CACHE_WRITEBACK:	return "writeback";
	case BLK_CACHE_NONE:		return "none";
	case BLK_CACHE_WRITETHROUGH:	return "writethrough";
	}
	return "?";
}

/*
 * The kernel's struct statx up to the direct-I/O alignment fields (Linux
 * 6.1); glibc 2.36's copy predates them.  The layout is kernel ABI.
 */
struct blk_statx {
	u32 mask, blksize;
	u64 attributes;
	u32 nlink, uid, gid;
	u16 mode, pad1;
	u64 ino, size, blocks, attributes_mask;
	u64 ts[8];		/* atime, btime, ctime, mtime: 16 bytes each */
	u32 rdev_major, rdev_minor, dev_major, dev_minor;
	u64 mnt_id;
	u32 dio_mem_align, dio_offset_align;
	u64 spare[12];
};
#define BLK_STATX_DIOALIGN 0x2000u

/* O_DIRECT alignment: statx when the kernel knows, else probe with reads. */
static void probe_dio_align(struct blk_disk *d, u64 size)
{
	struct blk_statx stx;
	static const u32 sizes[] = { 512, 1024, 2048, 4096 };
	void *buf;

	memset(&stx, 0, sizeof(stx));
	if (!syscall(SYS_statx, d->fd, "", AT_EMPTY_PATH, BLK_STATX_DIOALIGN, &stx) &&
	    (stx.mask & BLK_STATX_DIOALIGN) && stx.dio_offset_align) {
		if (stx.dio_offset_align > d->blk_size)
			d->blk_size = stx.dio_offset_align;
		d->mem_align = stx.dio_mem_align ? stx.dio_mem_align : d->blk_size;
		return;
	}
	/* Unknown: the smallest size an aligned O_DIRECT read accepts. */
	d->mem_align = 4096;
	if (size < 4096 || posix_memalign(&buf, 4096, 4096))
		return;
	for (unsigned int i = 0; i < ARRAY_SIZE(sizes); i++) {
		if (sizes[i] < d->blk_size)
			continue;
		if (pread(d->fd, buf, sizes[i], 0) >= 0 || errno != EINVAL) {
			d->blk_size = sizes[i];
			break;
		}
	}
	free(buf);
}

/* The default GET_ID serial: "vp" + 64-bit FNV-1a of the absolute path. */
static void default_serial(struct blk_disk *d, const char *path)
{
	char *abs = realpath(path, NULL);
	const char *p = abs ? abs : path;
	u64 h = 0xcbf29ce484222325ull;
	char s[32];

	for (; *p; p++) {
		h ^= (u8)*p;
		h *= 0x100000001b3ull;
	}
	free(abs);
	snprintf(s, sizeof(s), "vp%016llx", (unsigned long long)h);
	memset(d->serial, 0, sizeof(d->serial));
	memcpy(d->serial, s, strlen(s));
}

/*
 * Buffered files whose filesystem cannot do non-blocking reads (tmpfs refuses
 * RWF_NOWAIT) make io_uring punt every READ/WRITE to an io-wq worker thread:
 * a context switch per request, on the back-end's own core.  The data is in
 * memory anyway, so such I/O is cheaper done inline.
 */
static void probe_nowait(struct blk_disk *d)
{
	char b[BLK_SECTOR_SIZE];
	struct iovec iov = { b, sizeof(b) };

	d->rw_inline = preadv2(d->fd, &iov, 1, 0, RWF_NOWAIT) < 0 && errno == EOPNOTSUPP;
}

int blk_disk_open(const char *path, enum blk_cache_mode cache, bool readonly,
		  struct blk_disk **out)
{
	struct blk_disk *d;
	struct stat st;
	u64 size;
	int flags, ret;

	if (cache != BLK_CACHE_WRITEBACK && cache != BLK_CACHE_NONE &&
	    cache != BLK_CACHE_WRITETHROUGH)
		return -EINVAL;
	d = calloc(1, sizeof(*d));
	if (!d)
		return -ENOMEM;
	d->cache = cache;
	d->readonly = readonly;
	d->direct = cache == BLK_CACHE_NONE;
	d->dsync = cache == BLK_CACHE_WRITETHROUGH && !readonly;
	flags = (readonly ? O_RDONLY : O_RDWR) | O_CLOEXEC;
	if (d->direct)
		flags |= O_DIRECT;
	if (d->dsync)
		flags |= O_DSYNC;
	d->fd = open(path, flags);
	if (d->fd < 0) {
		ret = -errno;
		if (ret == -EINVAL && d->direct)
			blk_log("%s: the filesystem refuses O_DIRECT, which cache=none needs; "
				"use cache=writeback or writethrough", path);
		goto err_free;
	}
	if (fstat(d->fd, &st)) {
		ret = -errno;
		goto err_close;
	}
	d->blk_size = BLK_SECTOR_SIZE;
	d->mem_align = 1;
	if (S_ISBLK(st.st_mode)) {
		int lbs = 0;

		d->is_blkdev = true;
		if (ioctl(d->fd, BLKGETSIZE64, &size) || ioctl(d->fd, BLKSSZGET, &lbs)) {
			ret = -errno;
			goto err_close;
		}
		if (lbs >= (int)BLK_SECTOR_SIZE && lbs <= 65536 && !(lbs & (lbs - 1)))
			d->blk_size = lbs;
	} else if (S_ISREG(st.st_mode)) {
		size = st.st_size;
	} else {
		blk_log("%s: not a regular file or block device", path);
		ret = -EINVAL;
		goto err_close;
	}
	if (d->direct)
		probe_dio_align(d, size);
	else
		probe_nowait(d);
	/* Whole logical blocks only, so the guest never sees a partial block. */
	d->capacity = (size & ~(u64)(d->blk_size - 1)) >> BLK_SECTOR_SHIFT;

	d->max_discard_sectors = BLK_MAX_TRIM_SECTORS;
	d->max_write_zeroes_sectors = BLK_MAX_TRIM_SECTORS;
	if (!readonly) {
		/* Punching a hole past EOF changes nothing but says if it works. */
		if (d->is_blkdev)
			d->discard = true;
		else
			d->discard = !fallocate(d->fd, FALLOC_FL_PUNCH_HOLE |
						FALLOC_FL_KEEP_SIZE,
						(off_t)((size + 8191) & ~4095ull), 4096);
		d->zero_range = 1;
		d->zero_len = BLK_ZERO_BUF;
		if (posix_memalign(&d->zero_buf, 4096, d->zero_len)) {
			ret = -ENOMEM;
			goto err_close;
		}
		memset(d->zero_buf, 0, d->zero_len);
	}
	d->wce = cache != BLK_CACHE_WRITETHROUGH;
	default_serial(d, path);
	*out = d;
	return 0;

err_close:
	close(d->fd);
err_free:
	free(d);
	return ret;
}

void blk_disk_close(struct blk_disk *d)
{
	if (!d)
		return;
	close(d->fd);
	free(d->zero_buf);
	free(d);
}

int blk_disk_set_serial(struct blk_disk *d, const char *serial)
{
	size_t n = strlen(serial);

	if (n > VIRTIO_BLK_ID_BYTES)
		return -EINVAL;
	memset(d->serial, 0, sizeof(d->serial));
	memcpy(d->serial, serial, n);
	return 0;
}

u64 blk_disk_features(const struct blk_disk *d, unsigned int num_queues)
{
	u64 f = 1ull << VIRTIO_BLK_F_SEG_MAX | 1ull << VIRTIO_BLK_F_BLK_SIZE |
		1ull << VIRTIO_BLK_F_FLUSH | 1ull << VIRTIO_BLK_F_CONFIG_WCE;

	if (d->readonly) {
		f |= 1ull << VIRTIO_BLK_F_RO;
	} else {
		f |= 1ull << VIRTIO_BLK_F_WRITE_ZEROES;
		if (d->discard)
			f |= 1ull << VIRTIO_BLK_F_DISCARD;
	}
	if (num_queues > 1)
		f |= 1ull << VIRTIO_BLK_F_MQ;
	return f;
}

void blk_disk_config(const struct blk_disk *d, unsigned int num_queues,
		     unsigned int seg_max, struct virtio_blk_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	if (!seg_max)
		seg_max = BLK_SEG_MAX_DEFAULT;
	cfg->capacity = cpu_to_le64(d->capacity);
	cfg->seg_max = cpu_to_le32(seg_max);
	cfg->blk_size = cpu_to_le32(d->blk_size);
	cfg->wce = __atomic_load_n(&d->wce, __ATOMIC_RELAXED);
	cfg->num_queues = cpu_to_le16(num_queues ? num_queues : 1);
	if (!d->readonly) {
		u32 align = d->blk_size >> BLK_SECTOR_SHIFT;

		if (d->discard) {
			cfg->max_discard_sectors = cpu_to_le32(d->max_discard_sectors);
			cfg->max_discard_seg = cpu_to_le32(1);
			cfg->discard_sector_alignment = cpu_to_le32(align);
		}
		cfg->max_write_zeroes_sectors = cpu_to_le32(d->max_write_zeroes_sectors);
		cfg->max_write_zeroes_seg = cpu_to_le32(1);
		cfg->write_zeroes_may_unmap = d->discard;
	}
}

int blk_disk_get_config(const struct blk_disk *d, unsigned int num_queues,
			unsigned int seg_max, u32 offset, void *buf, u32 len)
{
	u8 space[BLK_CONFIG_SPACE_MAX] = { 0 };

	_Static_assert(sizeof(struct virtio_blk_config) <= BLK_CONFIG_SPACE_MAX,
		       "config space");
	if (offset > BLK_CONFIG_SPACE_MAX || len > BLK_CONFIG_SPACE_MAX - offset ||
	    (len && !buf))
		return -EINVAL;
	blk_disk_config(d, num_queues, seg_max, (struct virtio_blk_config *)space);
	memcpy(buf, space + offset, len);
	return 0;
}

int blk_disk_set_config(struct blk_disk *d, u32 offset, const void *buf, u32 len)
{
	u8 wce;

	if (offset != offsetof(struct virtio_blk_config, wce) || len != 1 || !buf)
		return -EINVAL;
	wce = *(const u8 *)buf;
	if (wce > 1)
		return -EINVAL;
	__atomic_store_n(&d->wce, wce, __ATOMIC_RELAXED);
	return 0;
}

/* WRITE_ZEROES the slow way, for files and devices without ZERO_RANGE. */
int blk_disk_write_zeroes(struct blk_disk *d, u64 offset, u64 len, int rw_flags)
{
	while (len) {
		size_t n = len < d->zero_len ? len : d->zero_len;
		struct iovec iov = { d->zero_buf, n };
		ssize_t r = pwritev2(d->fd, &iov, 1, (off_t)offset, rw_flags);

		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -EIO;
		offset += r;
		len -= r;
	}
	return 0;
}
