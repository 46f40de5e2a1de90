/* SPDX-License-Identifier: MIT */
/*
 * The platform shim the freestanding guest drivers are written against.
 *
 * Every build of guest-drivers provides these functions: guestlet (the bare
 * guest booted by vmm) implements them on bare x86-64 hardware; a host build
 * (libvirtio-user) may implement them on top of libc.  Drivers include only
 * this header (plus <guest-drivers/cpu.h> when they need interrupts on
 * bare metal), never a build's internal header.
 *
 * Addresses: a driver hands the device guest-physical addresses obtained from
 * gd_virt_to_phys(); in guestlet memory is identity-mapped, so the two are
 * equal, but drivers must not rely on it.
 */
#ifndef GUEST_DRIVERS_PLATFORM_H
#define GUEST_DRIVERS_PLATFORM_H

#include <stdarg.h>
#include <stddef.h>
#include <virtio/types.h>

#define gd_noreturn	__attribute__((noreturn))
#define gd_printf_fmt(a, b) __attribute__((format(printf, a, b)))

/* --- console ---------------------------------------------------------------- */
void gd_putc(char c);
void gd_write(const char *s, size_t len);
void gd_puts(const char *s);			/* no newline added */
/*
 * printf subset: %d %i %u %x %X %c %s %p %%, flags '-' and '0', a field width
 * (digits or '*'), a precision for %s (".N" or ".*": at most N characters,
 * so "%.*s" prints a slice that is not NUL-terminated), length l, ll, z.  Returns characters produced.
 */
int gd_printf(const char *fmt, ...) gd_printf_fmt(1, 2);
int gd_vprintf(const char *fmt, va_list ap);
/* Like snprintf: always NUL-terminates when size > 0, returns the full length. */
int gd_snprintf(char *buf, size_t size, const char *fmt, ...) gd_printf_fmt(3, 4);
int gd_vsnprintf(char *buf, size_t size, const char *fmt, va_list ap);

/* --- leaving ---------------------------------------------------------------- */
/* End the guest (guestlet: the debug-exit port, vmm exits with status & 0xff). */
gd_noreturn void gd_exit(int status);
/* Print "guestlet: " + message + newline, then gd_exit(status). */
gd_noreturn void gd_die(int status, const char *fmt, ...) gd_printf_fmt(2, 3);

/* --- time ------------------------------------------------------------------- */
/* A monotonic nanosecond clock; 0 forever if the platform has no clock. */
u64 gd_time_ns(void);
/* Raw cycle counter and its rate (kHz, 0 if unknown); cheap, for benchmarks. */
u64 gd_cycles(void);
u32 gd_cycles_khz(void);
/* Convert a cycle delta to nanoseconds (0 if the rate is unknown). */
u64 gd_cycles_to_ns(u64 cycles);

/* --- memory ----------------------------------------------------------------- */
/*
 * Zeroed, physically contiguous memory usable for DMA (rings, buffers), aligned
 * to `align` (a power of two, at most 1 MiB).  Never freed.  NULL if none left.
 */
void *gd_alloc(size_t size, size_t align);
/*
 * Zeroed memory for driver-private state the device must not see or write
 * (free lists, request bookkeeping).  guestlet: same as gd_alloc (all guest
 * RAM is visible to the VMM anyway); libvirtio-user: ordinary process memory,
 * outside the region shared with the back-end.  NULL if none.
 */
void *gd_alloc_priv(size_t size, size_t align);
/* Give back gd_alloc_priv() memory (guestlet: a no-op).  NULL is fine. */
void gd_free_priv(void *p);
u64 gd_virt_to_phys(const void *p);
void *gd_phys_to_virt(u64 gpa);

/* --- device access ------------------------------------------------------------ */
/*
 * Port and memory-mapped I/O.  guestlet runs drivers at CPL3 with every port
 * allowed by its TSS I/O bitmap, so these are plain in/out and volatile
 * loads/stores; each MMIO accessor is one access of exactly that width.
 */
static inline void gd_outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline void gd_outw(u16 port, u16 v)
{
	__asm__ volatile("outw %0, %1" : : "a"(v), "Nd"(port));
}

static inline void gd_outl(u16 port, u32 v)
{
	__asm__ volatile("outl %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 gd_inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u16 gd_inw(u16 port)
{
	u16 v;

	__asm__ volatile("inw %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u32 gd_inl(u16 port)
{
	u32 v;

	__asm__ volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

static inline u8 gd_mmio_read8(const volatile void *a)
{
	return *(const volatile u8 *)a;
}

static inline u16 gd_mmio_read16(const volatile void *a)
{
	return *(const volatile u16 *)a;
}

static inline u32 gd_mmio_read32(const volatile void *a)
{
	return *(const volatile u32 *)a;
}

static inline u64 gd_mmio_read64(const volatile void *a)
{
	return *(const volatile u64 *)a;
}

static inline void gd_mmio_write8(volatile void *a, u8 v)
{
	*(volatile u8 *)a = v;
}

static inline void gd_mmio_write16(volatile void *a, u16 v)
{
	*(volatile u16 *)a = v;
}

static inline void gd_mmio_write32(volatile void *a, u32 v)
{
	*(volatile u32 *)a = v;
}

static inline void gd_mmio_write64(volatile void *a, u64 v)
{
	*(volatile u64 *)a = v;
}

/* An MMIO region's address (guestlet: identity-mapped, uncached by the host). */
static inline volatile void *gd_mmio_map(u64 gpa)
{
	return (volatile void *)(unsigned long)gpa;
}

/*
 * Barriers for memory shared with a device (virtio rings).  x86 is TSO: only
 * store->load ordering needs a fence; the others only stop the compiler.
 */
#define gd_mb()		__asm__ volatile("mfence" ::: "memory")
#define gd_rmb()	__asm__ volatile("" ::: "memory")
#define gd_wmb()	__asm__ volatile("" ::: "memory")
#define gd_cpu_relax()	__asm__ volatile("pause" ::: "memory")

#endif
