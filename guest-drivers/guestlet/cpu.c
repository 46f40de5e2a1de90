/* SPDX-License-Identifier: MIT */
/*
 * guestlet CPU tables and the CPL0 side: GDT, TSS, IDT, exception reports,
 * interrupt dispatch and the privileged requests made through the door
 * (int3, see entry.S); plus
 * the CPL3 side of interrupt registration and the local APIC.
 *
 * CPL0 is instruction-emulated on the development host, so everything that
 * runs there (gl_cpu_init, gl_irq_dispatch, gl_door) is short and loop-free
 * except the 32-entry exception gate fill.  The tables live in .data, not
 * .bss, because the CPL3 start code clears .bss after gl_cpu_init ran.
 */
#include <linux/errno.h>

#include "internal.h"

struct gl_tss {
	u32 reserved0;
	u64 rsp[3];
	u64 reserved1;
	u64 ist[7];
	u64 reserved2;
	u16 reserved3;
	u16 iomap_base;
	/* I/O permission bitmap: all zero = every port allowed at CPL3 */
	u8 iomap[65536 / 8];
	u8 iomap_end;		/* must be 0xff */
} __attribute__((packed));

struct gl_idt_gate {
	u16 offset0;
	u16 selector;
	u8 ist;
	u8 type_attr;		/* P | DPL | type; written last */
	u16 offset1;
	u32 offset2;
	u32 reserved;
};

struct gl_table_ptr {
	u16 limit;
	u64 base;
} __attribute__((packed));

#define GL_GATE_INTR	0x0e	/* 64-bit interrupt gate: IF cleared on entry */
#define GL_GATE_P	0x80

static inline u64 gl_rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void gl_wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static inline unsigned int gl_cpl(void)
{
	u16 cs;

	__asm__ volatile("movw %%cs, %0" : "=r"(cs));
	return cs & 3;
}

#define GL_DATA __attribute__((section(".data"), aligned(16)))

static u64 gl_gdt[GL_GDT_ENTRIES] GL_DATA = {
	[0] = 0,
	[1] = 0x00af9a000000ffffULL,	/* kernel code: 64-bit, DPL0 */
	[2] = 0x00cf92000000ffffULL,	/* kernel data */
	[3] = 0x00cff2000000ffffULL,	/* user data: DPL3 */
	[4] = 0x00affa000000ffffULL,	/* user code: 64-bit, DPL3 */
	/* [5], [6]: the TSS, filled in by gl_cpu_init() */
};
static struct gl_tss gl_tss GL_DATA = { .iomap_end = 0xff };
static struct gl_idt_gate gl_idt[GD_NR_VECTORS] GL_DATA;

/* Interrupt handlers (.bss: cleared before CPL3 code can register any). */
static struct {
	gd_irq_fn fn;
	void *arg;
} gl_irq_handlers[GD_NR_VECTORS];
u64 gl_irq_counts[GD_NR_VECTORS];	/* also bumped by entry.S */
static u8 gl_irq_used[GD_NR_VECTORS];

void gl_idt_set_gate(unsigned int vector, u64 handler, unsigned int dpl,
		     unsigned int ist)
{
	struct gl_idt_gate *g = &gl_idt[vector];

	WRITE_ONCE(g->type_attr, 0);	/* not present while we rewrite it */
	__asm__ volatile("" ::: "memory");
	g->offset0 = handler & 0xffff;
	g->selector = GL_SEL_KCODE;
	g->ist = ist;
	g->offset1 = (handler >> 16) & 0xffff;
	g->offset2 = handler >> 32;
	g->reserved = 0;
	/* Orders the offset/selector stores before the present bit. */
	__asm__ volatile("" ::: "memory");
	WRITE_ONCE(g->type_attr, GL_GATE_P | (dpl << 5) | GL_GATE_INTR);
}

/* CPL0, once, from _start: runs emulated, keep it short. */
void gl_cpu_init(void)
{
	u64 tss = (u64)&gl_tss;
	struct gl_table_ptr gdtr = { sizeof(gl_gdt) - 1, (u64)gl_gdt };
	struct gl_table_ptr idtr = { sizeof(gl_idt) - 1, (u64)gl_idt };
	unsigned int v;

	gl_tss.rsp[0] = (u64)gl_stack_kernel_top;
	gl_tss.ist[GL_IST_FAULT - 1] = (u64)gl_stack_fault_top;
	gl_tss.ist[GL_IST_DF - 1] = (u64)gl_stack_df_top;
	gl_tss.iomap_base = __builtin_offsetof(struct gl_tss, iomap);
	gl_gdt[5] = (sizeof(gl_tss) - 1) | ((tss & 0xffffff) << 16) |
		    (0x89ULL << 40) | (((tss >> 24) & 0xff) << 56);
	gl_gdt[6] = tss >> 32;

	for (v = 0; v < 32; v++) {
		if (v == GL_VECTOR_DOOR)
			gl_idt_set_gate(v, (u64)gl_door_entry, 3, 0);
		else
			gl_idt_set_gate(v, (u64)gl_exception_stubs +
					v * GL_STUB_SIZE, 0,
					v == 2 || v == 8 ? GL_IST_DF : GL_IST_FAULT);
	}

	__asm__ volatile(
		"lgdt %0\n\t"
		"pushq %1\n\t"
		"leaq 1f(%%rip), %%rax\n\t"
		"pushq %%rax\n\t"
		"lretq\n"
		"1:\n\t"
		"movl %2, %%eax\n\t"
		"movl %%eax, %%ds\n\t"
		"movl %%eax, %%es\n\t"
		"movl %%eax, %%ss\n\t"
		"ltr %w3\n\t"
		"lidt %4"
		:
		: "m"(gdtr), "i"(GL_SEL_KCODE), "i"(GL_SEL_KDATA),
		  "r"(GL_SEL_TSS), "m"(idtr)
		: "rax", "memory");
}

static const char *const gl_exception_names[32] = {
	[0] = "#DE", [1] = "#DB", [2] = "NMI", [3] = "#BP", [4] = "#OF",
	[5] = "#BR", [6] = "#UD", [7] = "#NM", [8] = "#DF", [10] = "#TS",
	[11] = "#NP", [12] = "#SS", [13] = "#GP", [14] = "#PF", [16] = "#MF",
	[17] = "#AC", [18] = "#MC", [19] = "#XM", [20] = "#VE", [21] = "#CP",
};

/* CPL0, on an IST stack: report the exception and leave through debug-exit. */
void gl_trap(struct gl_trap_frame *tf)
{
	unsigned int v = tf->vector & 31;
	u64 cr2;

	gd_printf("guestlet: exception %u error 0x%lx at RIP 0x%lx\n",
		  v, (unsigned long)tf->error, (unsigned long)tf->iret.rip);
	__asm__ volatile("movq %%cr2, %0" : "=r"(cr2));
	gd_printf("guestlet: %s cs 0x%lx rsp 0x%lx rflags 0x%lx%s0x%lx\n",
		  gl_exception_names[v] ? gl_exception_names[v] : "reserved",
		  (unsigned long)tf->iret.cs, (unsigned long)tf->iret.rsp,
		  (unsigned long)tf->iret.rflags, v == 14 ? " cr2 " : " rax ",
		  (unsigned long)(v == 14 ? cr2 : tf->rax));
	gd_exit(GL_EXIT_EXCEPTION);
}

/* CPL0, interrupts off: count, run the handler, EOI. */
void gl_irq_dispatch(u64 vector)
{
	unsigned int v = vector & 0xff;

	gl_irq_counts[v]++;
	if (gl_irq_handlers[v].fn)
		gl_irq_handlers[v].fn(gl_irq_handlers[v].arg);
	if (v != GD_VECTOR_SPURIOUS)
		gd_lapic_eoi();
}

/*
 * CPL0, from gl_door_entry (int3 at CPL3), interrupts off: the rare requests.
 * GL_SYS_WAIT_IRQ and GL_SYS_IRQ_ENABLE/DISABLE never get here, entry.S
 * answers them in a few instructions.
 */
u64 gl_door(u64 nr, u64 a1, u64 a2)
{
	static const struct gl_table_ptr no_idt = { 0, 0 };

	switch (nr) {
	case GL_SYS_TRIPLE_FAULT:
		/* No IDT: the #UD cannot be delivered, nor the #DF: shutdown. */
		__asm__ volatile("lidt %0\n\tud2" : : "m"(no_idt));
		break;
	case GL_SYS_RDMSR:
		return gl_rdmsr(a1);
	case GL_SYS_WRMSR:
		gl_wrmsr(a1, a2);
		return 0;
	}
	return (u64)-ENOSYS;
}

/* --- CPL3 side ------------------------------------------------------------- */

static u64 gl_sys(u64 nr, u64 a1, u64 a2)
{
	u64 ret;

	__asm__ volatile("int3"
			 : "=a"(ret), "+D"(a1), "+S"(a2)
			 : "a"(nr)
			 : "memory");
	return ret;
}

void gd_irq_enable(void)
{
	gl_sys(GL_SYS_IRQ_ENABLE, 0, 0);
}

void gd_irq_disable(void)
{
	gl_sys(GL_SYS_IRQ_DISABLE, 0, 0);
}

void gd_wait_for_irq(void)
{
	gl_sys(GL_SYS_WAIT_IRQ, 0, 0);
}

u64 gd_rdmsr(u32 msr)
{
	return gl_sys(GL_SYS_RDMSR, msr, 0);
}

void gd_wrmsr(u32 msr, u64 val)
{
	gl_sys(GL_SYS_WRMSR, msr, val);
}

void gd_triple_fault(void)
{
	if (gl_cpl() == 0)	/* e.g. gd_exit() from an exception handler */
		gl_door(GL_SYS_TRIPLE_FAULT, 0, 0);
	gl_sys(GL_SYS_TRIPLE_FAULT, 0, 0);
	for (;;)
		gd_cpu_relax();
}

static int gl_vector_ok(unsigned int vector)
{
	return vector >= GD_VECTOR_FIRST_IRQ && vector < GD_VECTOR_SPURIOUS;
}

int gd_irq_register(unsigned int vector, gd_irq_fn fn, void *arg)
{
	if (!gl_vector_ok(vector))
		return -EINVAL;
	if (gl_irq_used[vector])
		return -EBUSY;
	gl_irq_used[vector] = 1;
	gl_irq_handlers[vector].fn = fn;
	gl_irq_handlers[vector].arg = arg;
	/* The handler is in place before the gate can send anything to it. */
	__asm__ volatile("" ::: "memory");
	gl_idt_set_gate(vector, (u64)(fn ? gl_irq_stubs : gl_irq_count_stubs) +
			(vector - GD_VECTOR_FIRST_IRQ) * GL_STUB_SIZE, 0, 0);
	return 0;
}

int gd_irq_alloc_vector(gd_irq_fn fn, void *arg)
{
	unsigned int v;

	for (v = 0x30; v < GD_VECTOR_SPURIOUS; v++) {
		if (gl_vector_ok(v) && !gl_irq_used[v] &&
		    gd_irq_register(v, fn, arg) == 0)
			return v;
	}
	return -ENOSPC;
}

void gd_irq_unregister(unsigned int vector)
{
	if (!gl_vector_ok(vector) || !gl_irq_used[vector])
		return;
	WRITE_ONCE(gl_idt[vector].type_attr, 0);
	__asm__ volatile("" ::: "memory");
	gl_irq_handlers[vector].fn = NULL;
	gl_irq_handlers[vector].arg = NULL;
	gl_irq_used[vector] = 0;
}

u64 gd_irq_count(unsigned int vector)
{
	if (vector >= GD_NR_VECTORS)
		return 0;
	return READ_ONCE(gl_irq_counts[vector]);
}

/* Local APIC, xAPIC MMIO mode (the reset state), reachable from CPL3. */
#define LAPIC_ID	0x020
#define LAPIC_TPR	0x080
#define LAPIC_EOI	0x0b0
_Static_assert(GD_LAPIC_BASE + LAPIC_EOI == GL_LAPIC_EOI, "entry.S EOI address");
#define LAPIC_SVR	0x0f0
#define LAPIC_ICR_LO	0x300
#define LAPIC_ICR_HI	0x310
#define LAPIC_LVT_TIMER	0x320
#define LAPIC_TIMER_INIT	0x380
#define LAPIC_TIMER_DIV	0x3e0
#define LAPIC_LVT_MASKED	(1U << 16)
#define LAPIC_LVT_PERIODIC	(1U << 17)
#define LAPIC_SVR_ENABLE	0x100
#define LAPIC_ICR_SELF		(1U << 18)

static volatile void *gl_lapic(unsigned int reg)
{
	return gd_mmio_map(GD_LAPIC_BASE + reg);
}

void gd_lapic_enable(void)
{
	gd_mmio_write32(gl_lapic(LAPIC_TPR), 0);
	gd_mmio_write32(gl_lapic(LAPIC_SVR), LAPIC_SVR_ENABLE | GD_VECTOR_SPURIOUS);
}

u32 gd_lapic_id(void)
{
	return gd_mmio_read32(gl_lapic(LAPIC_ID)) >> 24;
}

void gd_lapic_eoi(void)
{
	gd_mmio_write32(gl_lapic(LAPIC_EOI), 0);
}

void gd_lapic_timer_periodic(unsigned int vector, u32 count)
{
	gd_mmio_write32(gl_lapic(LAPIC_TIMER_DIV), 0x3);	/* divide by 16 */
	gd_mmio_write32(gl_lapic(LAPIC_LVT_TIMER), LAPIC_LVT_PERIODIC | (vector & 0xff));
	gd_mmio_write32(gl_lapic(LAPIC_TIMER_INIT), count);
}

void gd_lapic_timer_stop(void)
{
	gd_mmio_write32(gl_lapic(LAPIC_LVT_TIMER), LAPIC_LVT_MASKED);
	gd_mmio_write32(gl_lapic(LAPIC_TIMER_INIT), 0);
}

void gd_lapic_self_ipi(unsigned int vector)
{
	gd_mmio_write32(gl_lapic(LAPIC_ICR_HI), 0);
	gd_mmio_write32(gl_lapic(LAPIC_ICR_LO), LAPIC_ICR_SELF | (vector & 0xff));
}

u64 gd_msi_address(void)
{
	return 0xFEE00000ULL | ((u64)gd_lapic_id() << 12);
}

u32 gd_msi_data(unsigned int vector)
{
	return vector & 0xff;	/* fixed delivery, edge */
}
