/* SPDX-License-Identifier: MIT */
/*
 * Bare-metal x86-64 services of guestlet: interrupt handlers, the local APIC,
 * MSI message composition and the few privileged operations CPL3 code needs.
 *
 * guestlet runs its drivers at CPL3 (in/out allowed by the TSS I/O bitmap)
 * because on the development host CPL0 code is instruction-emulated (about
 * 0.6 us per instruction).  Interrupt handlers run at CPL0, so they must be
 * tiny: bump a counter, set a flag, let the CPL3 loop do the work.  The common
 * interrupt path already counts every vector (gd_irq_count()) and sends the
 * LAPIC EOI, so a driver that only needs "did my interrupt fire?" registers no
 * handler at all.
 *
 * Typical MSI-X setup:
 *	int vec = gd_irq_alloc_vector(my_handler, my_dev);
 *	gd_lapic_enable();
 *	table[i].addr = gd_msi_address(); table[i].data = gd_msi_data(vec);
 *	gd_irq_enable();
 */
#ifndef GUEST_DRIVERS_CPU_H
#define GUEST_DRIVERS_CPU_H

#include <guest-drivers/platform.h>

#define GD_VECTOR_FIRST_IRQ	32	/* 0-31 are exceptions */
#define GD_VECTOR_SPURIOUS	0xff	/* LAPIC spurious vector; no EOI */
#define GD_NR_VECTORS		256

#define GD_LAPIC_BASE		0xFEE00000ULL

/*
 * An interrupt handler: runs at CPL0 with interrupts off, on the TSS rsp0
 * stack (or the interrupted CPL0 stack).  Keep it to a few instructions.
 */
typedef void (*gd_irq_fn)(void *arg);

/*
 * Install fn(arg) for `vector` (GD_VECTOR_FIRST_IRQ..0xfe).  fn may be NULL:
 * the vector is then only counted, on a 7-instruction path (increment, EOI,
 * iretq) that is several times cheaper than calling a C handler; prefer it
 * and let CPL3 code watch gd_irq_count().
 * Returns 0, -EINVAL (bad vector) or -EBUSY (already registered).
 * Works from CPL3 (the IDT is ordinary guest memory).
 */
int gd_irq_register(unsigned int vector, gd_irq_fn fn, void *arg);
/* Pick a free vector (from 0x30 up), register fn there; vector or -ENOSPC. */
int gd_irq_alloc_vector(gd_irq_fn fn, void *arg);
void gd_irq_unregister(unsigned int vector);
/* Interrupts delivered on `vector` since boot (counts survive unregistering). */
u64 gd_irq_count(unsigned int vector);

/*
 * The interrupt flag of the calling CPL3 code.  This host does not keep
 * IOPL=3 across the iretq to CPL3 (cli/sti would #GP there), so these go
 * through the CPL0 door (tens of microseconds here): use them around setup
 * and waits, not in a data-path loop.  CPL3 code starts with interrupts off.
 */
void gd_irq_enable(void);
void gd_irq_disable(void);

/* Software-enable the local APIC (spurious vector GD_VECTOR_SPURIOUS, TPR 0). */
void gd_lapic_enable(void);
u32 gd_lapic_id(void);
void gd_lapic_eoi(void);
/* Send `vector` to this CPU (fixed delivery, self shorthand); for tests. */
void gd_lapic_self_ipi(unsigned int vector);

/*
 * The LAPIC timer, periodic on `vector` every `count` ticks of the bus clock
 * divided by 16 (KVM's bus runs at 1 GHz: count 6250000 is 100 ms), e.g. a
 * watchdog tick that ends every gd_wait_for_irq() now and then.  Stop it
 * before unregistering the vector.
 */
void gd_lapic_timer_periodic(unsigned int vector, u32 count);
void gd_lapic_timer_stop(void);

/* MSI address/data that deliver `vector` to this CPU, fixed, edge. */
u64 gd_msi_address(void);
u32 gd_msi_data(unsigned int vector);

/*
 * Privileged operations, done at CPL0 through guestlet's door: `int3` on a
 * DPL3 gate (this host turns `int n` at CPL3 into #UD and runs the `syscall`
 * target still at CPL3).  So int3 is not a breakpoint in guestlet.
 * gd_wait_for_irq(): atomically enable interrupts and halt until one arrives
 * (its handler has run when this returns); call it with interrupts disabled
 * after checking the condition you wait for, to not miss a wakeup.  The
 * interrupt flag is restored to its state at the call.
 */
void gd_wait_for_irq(void);
u64 gd_rdmsr(u32 msr);
void gd_wrmsr(u32 msr, u64 val);
/* Load an empty IDT and fault: the CPU shuts down (vmm reports a triple fault). */
gd_noreturn void gd_triple_fault(void);

#endif
