/* SPDX-License-Identifier: MIT */
/*
 * guestlet entry, the CPL0 <-> CPL3 transitions and the trap stubs.
 *
 * vmm enters _start at CPL0 in long mode (see vmm/guest_abi.h).  CPL0 code is
 * instruction-emulated on the development host (~0.6 us per instruction), so
 * the path here is: switch stacks, gl_cpu_init() (GDT, TSS, IDT), iretq to
 * CPL3, and everything else runs at CPL3 at native speed.
 *
 * I/O at CPL3: the iretq asks for IOPL=3, but this host does not keep IOPL
 * across it (in/out then #GP), so the TSS also carries an all-zero I/O
 * permission bitmap, which works here and on hardware.  cli/sti need IOPL,
 * so CPL3 code changes its interrupt flag through the door (gd_irq_enable).
 */
#include "internal.h"

	.code64

	.section .text.entry, "ax"
	.globl	_start
	.type	_start, @function
_start:
	movq	%rdi, %r12		/* boot info; callee-saved across the call */
	leaq	gl_stack_kernel_top(%rip), %rsp
	call	gl_cpu_init
	/* iretq frame: SS, RSP, RFLAGS (IOPL 3, IF 0), CS, RIP */
	pushq	$GL_SEL_UDATA
	leaq	gl_stack_user_top(%rip), %rax
	pushq	%rax
	pushq	$0x3002
	pushq	$GL_SEL_UCODE
	leaq	gl_user_start(%rip), %rax
	pushq	%rax
	iretq
	.size	_start, . - _start

	.text
/* First CPL3 code: data segments, clear .bss (the stacks live outside it), C. */
	.type	gl_user_start, @function
gl_user_start:
	movl	$GL_SEL_UDATA, %eax
	movl	%eax, %ds
	movl	%eax, %es
	cld
	leaq	__bss_start(%rip), %rdi
	leaq	__bss_end(%rip), %rcx
	subq	%rdi, %rcx
	xorl	%eax, %eax
	rep stosb
	movq	%r12, %rdi
	call	gl_main
	ud2				/* gl_main never returns */
	.size	gl_user_start, . - gl_user_start

/*
 * Exceptions 0-31: push a zero error code where the CPU pushes none, then the
 * vector, and build a struct gl_trap_frame.  All run on an IST stack.
 */
.macro	exception_stub vec
	.balign	GL_STUB_SIZE
	.if !(\vec == 8 || (\vec >= 10 && \vec <= 14) || \vec == 17 || \vec == 21 || \vec == 29 || \vec == 30)
	pushq	$0
	.endif
	pushq	$\vec
	jmp	trap_common
.endm

	.balign	GL_STUB_SIZE
	.globl	gl_exception_stubs
gl_exception_stubs:
	.set	.Lvec, 0
	.rept	32
	exception_stub .Lvec
	.set	.Lvec, .Lvec + 1
	.endr
	/* Fails ("moving .org backwards") if a stub outgrew GL_STUB_SIZE. */
	.org	gl_exception_stubs + 32 * GL_STUB_SIZE

trap_common:
	pushq	%rax
	pushq	%rbx
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%rbp
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	pushq	%r12
	pushq	%r13
	pushq	%r14
	pushq	%r15
	cld
	movq	%rsp, %rdi		/* 22 qwords pushed: rsp is 16-byte aligned */
	call	gl_trap
	popq	%r15
	popq	%r14
	popq	%r13
	popq	%r12
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rbp
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rbx
	popq	%rax
	addq	$16, %rsp		/* vector, error code */
	iretq

/*
 * Interrupt vectors 32-255: push the vector and go to irq_common, which saves
 * only the caller-saved registers (the C dispatcher preserves the rest): the
 * interrupt path runs emulated, so every instruction counts.
 */
	.balign	GL_STUB_SIZE
	.globl	gl_irq_stubs
gl_irq_stubs:
	.set	.Lvec, 32
	.rept	224
	.balign	GL_STUB_SIZE
	pushq	$.Lvec
	jmp	irq_common
	.set	.Lvec, .Lvec + 1
	.endr
	.org	gl_irq_stubs + 224 * GL_STUB_SIZE

/*
 * Count-only vectors (registered without a handler): bump the vector's
 * counter, EOI the LAPIC, return.  Seven instructions instead of ~45 through
 * irq_common, and every CPL0 instruction is emulated here.
 */
	.balign	GL_STUB_SIZE
	.globl	gl_irq_count_stubs
gl_irq_count_stubs:
	.set	.Lvec, 32
	.rept	224
	.balign	GL_STUB_SIZE
	incq	gl_irq_counts + 8 * .Lvec(%rip)
	jmp	irq_eoi_return
	.set	.Lvec, .Lvec + 1
	.endr
	.org	gl_irq_count_stubs + 224 * GL_STUB_SIZE

irq_eoi_return:
	pushq	%rax
	movabsq	$GL_LAPIC_EOI, %rax
	movl	$0, (%rax)
	popq	%rax
	iretq

irq_common:
	pushq	%rax
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	movq	72(%rsp), %rdi		/* the vector */
	subq	$8, %rsp		/* 5 + 1 + 9 qwords: realign to 16 */
	cld
	call	gl_irq_dispatch
	addq	$8, %rsp
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	popq	%rax
	addq	$8, %rsp		/* vector */
	iretq

/*
 * The CPL3 -> CPL0 door: `int3` through a DPL3 gate on vector 3.  On this
 * host `int n` at CPL3 raises #UD, and `syscall` lands in LSTAR still at
 * CPL3, but #BP reaches CPL0.  In: rax = request, rdi, rsi = arguments;
 * out: rax; every other register is preserved.  Interrupts are off inside.
 */
	.globl	gl_door_entry
	.type	gl_door_entry, @function
gl_door_entry:
	/* The requests drivers make in their loops, without touching C. */
	cmpq	$GL_SYS_WAIT_IRQ, %rax
	je	door_wait_irq
	cmpq	$GL_SYS_IRQ_ENABLE, %rax
	je	door_irq_enable
	cmpq	$GL_SYS_IRQ_DISABLE, %rax
	je	door_irq_disable
	pushq	%rcx
	pushq	%rdx
	pushq	%rsi
	pushq	%rdi
	pushq	%r8
	pushq	%r9
	pushq	%r10
	pushq	%r11
	subq	$8, %rsp		/* 5 + 8 qwords: realign to 16 */
	cld
	movq	%rsi, %rdx
	movq	%rdi, %rsi
	movq	%rax, %rdi
	call	gl_door
	addq	$8, %rsp
	popq	%r11
	popq	%r10
	popq	%r9
	popq	%r8
	popq	%rdi
	popq	%rsi
	popq	%rdx
	popq	%rcx
	iretq

/* The CPU's frame: RIP at 0(%rsp), CS at 8, RFLAGS at 16. */
door_wait_irq:
	sti				/* its shadow makes sti;hlt atomic */
	hlt
	cli
	xorl	%eax, %eax
	iretq
door_irq_enable:
	orq	$GL_RFLAGS_IF, 16(%rsp)
	xorl	%eax, %eax
	iretq
door_irq_disable:
	andq	$~GL_RFLAGS_IF, 16(%rsp)
	xorl	%eax, %eax
	iretq
	.size	gl_door_entry, . - gl_door_entry

/* Stacks: outside .bss so clearing .bss at CPL3 does not touch them. */
	.section .stacks, "aw", @nobits
	.balign	4096
	.skip	GL_STACK_USER
	.globl	gl_stack_user_top
gl_stack_user_top:
	.skip	GL_STACK_KERNEL
	.globl	gl_stack_kernel_top
gl_stack_kernel_top:
	.skip	GL_STACK_IST
	.globl	gl_stack_fault_top
gl_stack_fault_top:
	.skip	GL_STACK_IST
	.globl	gl_stack_df_top
gl_stack_df_top:

	.section .note.GNU-stack, "", @progbits
