/* SPDX-License-Identifier: MIT */
/*
 * guestlet private definitions, shared by its C and assembly files.
 */
#ifndef GUESTLET_INTERNAL_H
#define GUESTLET_INTERNAL_H

/* Our GDT (the layout SYSRET would want, should anyone add syscall later). */
#define GL_SEL_KCODE	0x08
#define GL_SEL_KDATA	0x10
#define GL_SEL_UDATA	0x1b	/* 0x18 | RPL 3 */
#define GL_SEL_UCODE	0x23	/* 0x20 | RPL 3 */
#define GL_SEL_TSS	0x28
#define GL_GDT_ENTRIES	7	/* null, kcode, kdata, udata, ucode, tss (2 slots) */

/* IST slots in the TSS (1-based, as in the IDT gate). */
#define GL_IST_FAULT	1	/* every exception */
#define GL_IST_DF	2	/* #DF and NMI: a fault while handling a fault */

#define GL_STACK_USER	(64 * 1024)
#define GL_STACK_KERNEL	(16 * 1024)
#define GL_STACK_IST	(16 * 1024)

/*
 * The CPL3 -> CPL0 door is `int3` through a DPL3 gate (see entry.S).
 * Requests: number in rax, arguments in rdi, rsi.
 */
#define GL_VECTOR_DOOR		3
#define GL_SYS_TRIPLE_FAULT	1
#define GL_SYS_WAIT_IRQ		2
#define GL_SYS_RDMSR		3
#define GL_SYS_WRMSR		4
#define GL_SYS_IRQ_ENABLE	5	/* set IF in the caller's RFLAGS */
#define GL_SYS_IRQ_DISABLE	6
/* GL_SYS_WAIT_IRQ and GL_SYS_IRQ_* are handled in entry.S, the rest in C. */

/* Exit statuses of guestlet itself. */
#define GL_EXIT_USAGE		2	/* bad command or argument */
#define GL_EXIT_EXCEPTION	3	/* CPU exception */
#define GL_EXIT_BOOT		4	/* unusable boot info */

#define GL_RFLAGS_IF	0x200
#define GL_LAPIC_EOI	0xFEE000B0	/* GD_LAPIC_BASE + EOI register */

/* Every exception and interrupt stub in entry.S takes exactly this many bytes. */
#define GL_STUB_SIZE	16

/* Offsets in struct gl_trap_frame, for entry.S. */
#define GL_TF_VECTOR	(15 * 8)

#ifndef __ASSEMBLER__
#include <guest-drivers/platform.h>
#include <guest-drivers/cpu.h>
#include <vmm/guest_abi.h>

/* What the CPU pushes on an interrupt or trap into CPL0. */
struct gl_iret_frame {
	u64 rip, cs, rflags, rsp, ss;
};

/* What the entry stubs push, lowest address first. */
struct gl_trap_frame {
	u64 r15, r14, r13, r12, r11, r10, r9, r8;
	u64 rbp, rdi, rsi, rdx, rcx, rbx, rax;
	u64 vector, error;
	struct gl_iret_frame iret;	/* pushed by the CPU */
};

_Static_assert(__builtin_offsetof(struct gl_trap_frame, vector) == GL_TF_VECTOR,
	       "entry.S trap frame layout");

/* entry.S: stubs are GL_STUB_SIZE apart, indexed by vector (irq: vector - 32) */
extern const char gl_exception_stubs[], gl_irq_stubs[], gl_irq_count_stubs[];
extern u64 gl_irq_counts[GD_NR_VECTORS];	/* cpu.c */
void gl_door_entry(void);
extern char gl_stack_kernel_top[], gl_stack_fault_top[], gl_stack_df_top[];
extern char __image_end[];

/* cpu.c (CPL0) */
void gl_cpu_init(void);
void gl_trap(struct gl_trap_frame *tf);
u64 gl_door(u64 nr, u64 a1, u64 a2);
void gl_irq_dispatch(u64 vector);
void gl_idt_set_gate(unsigned int vector, u64 handler, unsigned int dpl,
		     unsigned int ist);

/* platform.c */
int gl_platform_init(const struct vp_boot_info *bi);
extern const struct vp_boot_info *gl_boot_info;
void gl_serial_putc(char c);
u8 gl_serial_getc(void);		/* waits (polling LSR) for a received byte */
void gl_heap_range(u64 *next, u64 *end);

/* commands.c / bench.c */
void gl_cmd_bench_exits(const char *args, size_t len);
void gl_run_cmdline(const char *cmdline, size_t len);
/* blk_cmds.c: PCI and virtio-blk commands */
void gl_cmd_pci_list(const char *args, size_t len);
void gl_cmd_blk_info(const char *args, size_t len);
void gl_cmd_blk_fill(const char *args, size_t len);
void gl_cmd_blk_crc(const char *args, size_t len);
void gl_cmd_blk_verify(const char *args, size_t len);
void gl_cmd_blk_bench(const char *args, size_t len);
void gl_cmd_blk_evil(const char *args, size_t len);
void gl_cmd_blk_msix_mask(const char *args, size_t len);
void gl_cmd_blk_zero(const char *args, size_t len);
void gl_cmd_blk_discard(const char *args, size_t len);
void gl_cmd_blk_flush(const char *args, size_t len);
void gl_cmd_blk_id(const char *args, size_t len);

/* lib.c: what gcc may call even in freestanding code, and string helpers */
void *memcpy(void *dst, const void *src, size_t n);
void *memmove(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t gl_strlen(const char *s);
int gl_parse_u64(const char *s, size_t len, u64 max, u64 *out);
#endif

#endif
