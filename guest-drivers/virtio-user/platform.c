// SPDX-License-Identifier: MIT
/*
 * The guest-drivers platform shim for a host process (libvirtio-user):
 * console on stdio, CLOCK_MONOTONIC time, and "guest RAM" in one memfd that
 * is shared with the vhost-user back-end (guest-physical address = offset in
 * the memfd).
 *
 * Security model: the back-end maps the whole memfd and may write anything
 * in it at any time; the drivers therefore keep their private state in
 * gd_alloc_priv() memory (the process heap), which the back-end never sees.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mman.h>

#include <guest-drivers/platform.h>
#include <guest-drivers/virtio_user.h>

#define MEM_ALIGN	(2u << 20)

static int mem_fd = -1;
static u8 *mem_base;
static size_t mem_size, mem_next;

int gd_vu_mem_init(size_t bytes, unsigned int flags)
{
	bool huge = flags & GD_VU_MEM_HUGETLB;
	void *p;
	int fd;

	if (mem_fd >= 0)
		return -EBUSY;
	if (!bytes || bytes > ((size_t)1 << 40) || (flags & ~GD_VU_MEM_HUGETLB))
		return -EINVAL;
	/* MEM_ALIGN is the default huge page size: whole pages either way. */
	bytes = (bytes + MEM_ALIGN - 1) & ~(size_t)(MEM_ALIGN - 1);
	fd = memfd_create("virtio-user-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING |
			  (huge ? MFD_HUGETLB : 0));
	if (fd < 0)
		return -errno;
	/* Sealed: the back-end we hand the fd to cannot resize it under us. */
	if (ftruncate(fd, (off_t)bytes) < 0 ||
	    fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	/*
	 * Huge pages are reserved here (no MAP_NORESERVE), so too few free ones
	 * is -ENOMEM now, not a SIGBUS at the first touch.
	 */
	p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED) {
		int e = -errno;

		close(fd);
		return e;
	}
	mem_fd = fd;
	mem_base = p;
	mem_size = bytes;
	/* GPA 0 is never handed out: a zero address in a ring is a bug. */
	mem_next = 4096;
	return 0;
}

void gd_vu_mem_get(int *fd, void **base, size_t *size)
{
	*fd = mem_fd;
	*base = mem_base;
	*size = mem_size;
}

size_t gd_vu_mem_free(void)
{
	return mem_size - mem_next;
}

void *gd_alloc(size_t size, size_t align)
{
	size_t start;

	if (!mem_base)
		return NULL;
	if (!align)
		align = 1;
	if ((align & (align - 1)) || align > (1u << 20))
		return NULL;
	start = (mem_next + align - 1) & ~(align - 1);
	if (start < mem_next || start > mem_size || size > mem_size - start)
		return NULL;
	mem_next = start + size;
	memset(mem_base + start, 0, size);
	return mem_base + start;
}

void *gd_alloc_priv(size_t size, size_t align)
{
	void *p;

	if (!align || align < sizeof(void *))
		align = sizeof(void *);
	if (posix_memalign(&p, align, size ? size : 1))
		return NULL;
	memset(p, 0, size);
	return p;
}

void gd_free_priv(void *p)
{
	free(p);
}

u64 gd_virt_to_phys(const void *p)
{
	const u8 *b = p;

	if (!mem_base || b < mem_base || b >= mem_base + mem_size)
		return ~0ull;	/* not device-visible: the back-end will refuse it */
	return (u64)(b - mem_base);
}

void *gd_phys_to_virt(u64 gpa)
{
	if (!mem_base || gpa >= mem_size)
		return NULL;
	return mem_base + gpa;
}

void gd_putc(char c)
{
	putchar(c);
}

void gd_write(const char *s, size_t len)
{
	fwrite(s, 1, len, stdout);
}

void gd_puts(const char *s)
{
	fputs(s, stdout);
}

int gd_vprintf(const char *fmt, va_list ap)
{
	return vprintf(fmt, ap);
}

int gd_printf(const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vprintf(fmt, ap);
	va_end(ap);
	return n;
}

int gd_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap)
{
	return vsnprintf(buf, size, fmt, ap);
}

int gd_snprintf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n;
}

void gd_exit(int status)
{
	fflush(stdout);
	exit(status);
}

void gd_die(int status, const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("virtio-user: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

u64 gd_time_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (u64)ts.tv_sec * 1000000000ull + (u64)ts.tv_nsec;
}

/* In a host process the "cycle counter" is the nanosecond clock. */
u64 gd_cycles(void)
{
	return gd_time_ns();
}

u32 gd_cycles_khz(void)
{
	return 1000000;
}

u64 gd_cycles_to_ns(u64 cycles)
{
	return cycles;
}
