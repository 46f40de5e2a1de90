/* SPDX-License-Identifier: MIT */
/*
 * guestlet's implementation of the platform shim (<guest-drivers/platform.h>):
 * serial console, debug-exit, TSC time and a bump allocator over the RAM
 * after the image.
 *
 * Security model: the boot info is written by the VMM, which we trust to
 * follow vmm/guest_abi.h, but we still check it (magic, version, sizes,
 * ranges) before using any field, so a broken VMM gives a clear message
 * instead of a wild access.
 */
#include "internal.h"

#define SERIAL_THR	0
#define SERIAL_LSR	5
#define SERIAL_LSR_THRE	0x20
#define SERIAL_LSR_DR	0x01
#define SERIAL_RBR	0
#define SERIAL_SPIN_MAX	1000	/* LSR polls before writing anyway */

const struct vp_boot_info *gl_boot_info;
static u32 gl_tsc_khz;
static u64 gl_heap_next, gl_heap_end;

void gl_serial_putc(char c)
{
	unsigned int i;

	for (i = 0; i < SERIAL_SPIN_MAX; i++) {
		if (gd_inb(VP_PORT_SERIAL + SERIAL_LSR) & SERIAL_LSR_THRE)
			break;
		gd_cpu_relax();
	}
	gd_outb(VP_PORT_SERIAL + SERIAL_THR, (u8)c);
}

u8 gl_serial_getc(void)
{
	while (!(gd_inb(VP_PORT_SERIAL + SERIAL_LSR) & SERIAL_LSR_DR))
		gd_cpu_relax();
	return gd_inb(VP_PORT_SERIAL + SERIAL_RBR);
}

void gd_putc(char c)
{
	gl_serial_putc(c);
}

void gd_write(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		gl_serial_putc(s[i]);
}

void gd_puts(const char *s)
{
	while (*s)
		gl_serial_putc(*s++);
}

void gd_exit(int status)
{
	gd_outb(VP_PORT_DEBUG_EXIT, (u8)status);
	/* Still here: the VMM has no debug-exit port; stop the machine hard. */
	gd_triple_fault();
}

void gd_die(int status, const char *fmt, ...)
{
	va_list ap;

	gd_puts("guestlet: ");
	va_start(ap, fmt);
	gd_vprintf(fmt, ap);
	va_end(ap);
	gd_putc('\n');
	gd_exit(status);
}

u64 gd_cycles(void)
{
	u32 lo, hi;

	__asm__ volatile("rdtsc" : "=a"(lo), "=d"(hi));
	return ((u64)hi << 32) | lo;
}

u32 gd_cycles_khz(void)
{
	return gl_tsc_khz;
}

u64 gd_cycles_to_ns(u64 cycles)
{
	u64 khz = gl_tsc_khz;

	if (!khz)
		return 0;
	/* ns = cycles * 10^6 / khz, split so the product cannot overflow. */
	return cycles / khz * 1000000 + cycles % khz * 1000000 / khz;
}

u64 gd_time_ns(void)
{
	return gd_cycles_to_ns(gd_cycles());
}

void *gd_alloc(size_t size, size_t align)
{
	u64 start;

	if (!align)
		align = 1;
	if (align & (align - 1) || align > (1 << 20))
		return NULL;
	start = (gl_heap_next + align - 1) & ~((u64)align - 1);
	if (start < gl_heap_next || start > gl_heap_end ||
	    size > gl_heap_end - start)
		return NULL;
	gl_heap_next = start + size;
	memset((void *)(unsigned long)start, 0, size);
	return (void *)(unsigned long)start;
}

void *gd_alloc_priv(size_t size, size_t align)
{
	return gd_alloc(size, align);
}

void gd_free_priv(void *p)
{
	(void)p;	/* a bump allocator: never reused */
}

void gl_heap_range(u64 *next, u64 *end)
{
	*next = gl_heap_next;
	*end = gl_heap_end;
}

u64 gd_virt_to_phys(const void *p)
{
	return (u64)(unsigned long)p;	/* identity-mapped */
}

void *gd_phys_to_virt(u64 gpa)
{
	return (void *)(unsigned long)gpa;
}

/* Is [gpa, gpa + len) inside one RAM region of the boot info? */
static int gl_ram_ok(const struct vp_boot_info *bi, u64 gpa, u64 len)
{
	u32 i;

	for (i = 0; i < bi->nr_mem; i++) {
		const struct vp_mem_range *r = &bi->mem[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return 1;
	}
	return 0;
}

int gl_platform_init(const struct vp_boot_info *bi)
{
	u64 image_end = (u64)(unsigned long)__image_end;
	u32 i;

	if ((unsigned long)bi < 0x1000 || (unsigned long)bi & 7 ||
	    (unsigned long)bi > VP_GUEST_LOAD_MIN - sizeof(*bi))
		gd_die(GL_EXIT_BOOT, "boot info pointer %p is not below the image",
		       bi);
	if (bi->magic != VP_BOOT_MAGIC)
		gd_die(GL_EXIT_BOOT, "bad boot info magic 0x%x (want 0x%x)",
		       bi->magic, VP_BOOT_MAGIC);
	if (bi->version != VP_BOOT_VERSION)
		gd_die(GL_EXIT_BOOT, "boot info version %u (want %u)",
		       bi->version, VP_BOOT_VERSION);
	if (bi->nr_mem == 0 || bi->nr_mem > VP_BOOT_MAX_REGIONS)
		gd_die(GL_EXIT_BOOT, "boot info has %u memory regions", bi->nr_mem);
	for (i = 0; i < bi->nr_mem; i++) {
		const struct vp_mem_range *r = &bi->mem[i];

		if (r->gpa > VP_IDENT_MAP_BYTES ||
		    r->size > VP_IDENT_MAP_BYTES - r->gpa)
			gd_die(GL_EXIT_BOOT, "memory region %u (0x%llx+0x%llx) is "
			       "not identity-mapped", i, r->gpa, r->size);
	}
	if (bi->cmdline_len > VP_CMDLINE_MAX ||
	    (bi->cmdline_len && !gl_ram_ok(bi, bi->cmdline_gpa, bi->cmdline_len)))
		gd_die(GL_EXIT_BOOT, "command line (0x%llx, %u bytes) is not in RAM",
		       bi->cmdline_gpa, bi->cmdline_len);

	gl_boot_info = bi;
	gl_tsc_khz = bi->tsc_khz;
	/* The heap: from the image end to the end of its RAM region. */
	for (i = 0; i < bi->nr_mem; i++) {
		const struct vp_mem_range *r = &bi->mem[i];

		if (image_end >= r->gpa && image_end - r->gpa <= r->size) {
			gl_heap_next = image_end;
			gl_heap_end = r->gpa + r->size;
		}
	}
	return 0;
}
