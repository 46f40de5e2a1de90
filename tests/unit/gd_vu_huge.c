// SPDX-License-Identifier: MIT
/*
 * libvirtio-user's shared memory on huge pages (gd_vu_mem_init(...,
 * GD_VU_MEM_HUGETLB), vionet --hugetlb):
 *  - an unknown flag is -EINVAL and creates nothing;
 *  - more huge pages than are free is -ENOMEM at once (they are reserved
 *    when mapped, not a SIGBUS at the first touch) and leaves no memory
 *    behind, so a later call can still succeed;
 *  - with pages reserved for the test (the previous nr_hugepages restored at
 *    exit) the memfd is on hugetlbfs, sealed against resizing like the
 *    ordinary one, and gd_alloc() hands out memory from it up to its end.
 * The end-to-end case (a back-end mapping such memory) is vionet --hugetlb
 * in tests/integration/net_vun_interop.sh.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/virtio_user.h>

#include "check.h"
#include "hugepages.h"

static bool no_memory(void)
{
	int fd;
	void *base;
	size_t size;

	gd_vu_mem_get(&fd, &base, &size);
	return fd == -1 && !base && !size;
}

int main(void)
{
	long free_hp, hp_kb;
	struct statfs sfs;
	int fd, seals;
	void *base;
	size_t size, hp;
	u8 *p;

	CHECK(gd_vu_mem_init(8 << 20, 2) == -EINVAL);
	CHECK(no_memory());

	hp_kb = hp_meminfo("Hugepagesize:");
	free_hp = hp_meminfo("HugePages_Free:");
	if (hp_kb != 2048 || free_hp < 0) {
		/* gd_vu_mem_init() rounds to 2 MiB, the x86 default page size. */
		printf("gd_vu_huge: default huge page size %ld kB, not 2048: not checked here\n",
		       hp_kb);
		return 77;
	}
	hp = (size_t)hp_kb << 10;

	CHECK(gd_vu_mem_init((size_t)(free_hp + 8) * hp, GD_VU_MEM_HUGETLB) == -ENOMEM);
	CHECK(no_memory());
	printf("ok: %ld huge pages free, %ld asked: -ENOMEM, nothing left behind\n",
	       free_hp, free_hp + 8);

	if (!hp_reserve_more(8)) {
		if (getuid() != 0) {
			printf("gd_vu_huge: not root: cannot reserve huge pages for the test\n");
			return 77;
		}
		fprintf(stderr, "gd_vu_huge: could not reserve 8 huge pages\n");
		return 1;
	}
	/* 8 pages less one byte: rounded up to whole pages. */
	CHECK(gd_vu_mem_init(8 * hp - 1, GD_VU_MEM_HUGETLB) == 0);
	gd_vu_mem_get(&fd, &base, &size);
	CHECK(fd >= 0 && base && size == 8 * hp);
	CHECK(fstatfs(fd, &sfs) == 0 && sfs.f_type == HUGETLBFS_MAGIC);
	seals = fcntl(fd, F_GET_SEALS);
	CHECK(seals >= 0 && (seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
	      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	errno = 0;
	CHECK(ftruncate(fd, 0) < 0 && errno == EPERM);
	/* Reserved when mapped: none of the 8 can go to anyone else now. */
	CHECK(hp_meminfo("HugePages_Rsvd:") >= 8 ||
	      hp_meminfo("HugePages_Free:") <
	      hp_meminfo("HugePages_Total:"));
	CHECK(gd_vu_mem_init(hp, GD_VU_MEM_HUGETLB) == -EBUSY);
	/* Allocations reach the last page, and the memory is usable there. */
	p = gd_alloc(7 * hp, 4096);
	CHECK(p && p >= (u8 *)base && p + 7 * hp <= (u8 *)base + size);
	if (p) {
		p[0] = 0x5a;
		p[7 * hp - 1] = 0xa5;
		CHECK(p[0] == 0x5a && p[7 * hp - 1] == 0xa5);
	}
	CHECK(!gd_alloc(hp, 4096));	/* less than a page left */
	CHECK(gd_alloc(hp - 2 * 4096, 4096));	/* but that much */
	printf("ok: on 8 reserved huge pages: hugetlbfs memfd, sealed, reserved, usable\n");
	return check_exit("gd_vu_huge");
}
