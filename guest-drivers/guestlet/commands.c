/* SPDX-License-Identifier: MIT */
/*
 * guestlet's main program (CPL3): read the command line from the boot info
 * and run its `;`-separated commands in order, then exit 0.
 *
 * Security model: the command line comes from whoever started vmm; it is
 * copied once into our own buffer (length checked against VP_CMDLINE_MAX by
 * gl_platform_init), and every command checks its arguments strictly,
 * rejecting anything it does not understand with exit status 2.
 */
#include "internal.h"

struct gl_cmd {
	const char *name;
	void (*run)(const char *args, size_t len);
};

static int gl_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* Trim spaces on both ends of s[0..*len); returns the new start. */
static const char *gl_trim(const char *s, size_t *len)
{
	while (*len && gl_is_space(*s)) {
		s++;
		(*len)--;
	}
	while (*len && gl_is_space(s[*len - 1]))
		(*len)--;
	return s;
}

/* Split the next space-separated word off (*s, *len) into word, wlen. */
static int gl_next_word(const char **s, size_t *len, const char **word,
			size_t *wlen)
{
	size_t n = 0;

	*s = gl_trim(*s, len);
	if (!*len)
		return 0;
	while (n < *len && !gl_is_space((*s)[n]))
		n++;
	*word = *s;
	*wlen = n;
	*s += n;
	*len -= n;
	return 1;
}

static int gl_word_is(const char *w, size_t len, const char *lit)
{
	size_t n = gl_strlen(lit);

	return len == n && memcmp(w, lit, n) == 0;
}

static void gl_no_args(const char *cmd, const char *args, size_t len)
{
	if (len)
		gd_die(GL_EXIT_USAGE, "%s: unexpected argument '%.*s'", cmd,
		       (int)len, args);
}

static void cmd_echo(const char *args, size_t len)
{
	gd_write(args, len);
	gd_putc('\n');
}

/*
 * serial-echo: say "serial-echo: ready", then print each line that comes in
 * on COM1 (ended by CR or LF) as "serial: LINE", until the line "end".
 */
static void cmd_serial_echo(const char *args, size_t len)
{
	char line[128];
	size_t n = 0;
	u8 c;

	gl_no_args("serial-echo", args, len);
	gd_printf("serial-echo: ready\n");
	for (;;) {
		c = gl_serial_getc();
		if (c != '\r' && c != '\n') {
			if (n < sizeof(line))
				line[n++] = (char)c;
			continue;
		}
		if (!n)
			continue;
		if (gl_word_is(line, n, "end"))
			return;
		gd_printf("serial: %.*s\n", (int)n, line);
		n = 0;
	}
}

static void cmd_exit(const char *args, size_t len)
{
	u64 status;

	if (gl_parse_u64(args, len, 255, &status))
		gd_die(GL_EXIT_USAGE, "exit: bad status '%.*s' (want 0-255)",
		       (int)len, args);
	gd_exit((int)status);
}

static void cmd_triple_fault(const char *args, size_t len)
{
	gl_no_args("triple-fault", args, len);
	gd_triple_fault();
}

static void cmd_fault(const char *args, size_t len)
{
	if (gl_word_is(args, len, "ud"))
		__asm__ volatile("ud2");
	else if (gl_word_is(args, len, "pf"))
		/* Just past the identity map: not present. */
		(void)*(volatile u64 *)(unsigned long)(VP_IDENT_MAP_BYTES + 0x1000);
	else if (gl_word_is(args, len, "gp"))
		__asm__ volatile("hlt");	/* privileged at CPL3 */
	gd_die(GL_EXIT_USAGE, "fault: want ud, pf or gp, not '%.*s'", (int)len,
	       args);
}

static void cmd_info(const char *args, size_t len)
{
	const struct vp_boot_info *bi = gl_boot_info;
	u64 t0, t1;
	unsigned int i;

	gl_no_args("info", args, len);
	t0 = gd_cycles();
	for (i = 0; i < 1000; i++)
		gd_cycles();
	t1 = gd_cycles();
	gd_printf("guestlet: mem %llu MiB in %u regions, cpus %u, tsc_khz %u, "
		  "rdtsc %llu cycles %llu ns, image end %p, cpl %u\n",
		  bi->mem_size >> 20, bi->nr_mem, bi->nr_cpus, bi->tsc_khz,
		  (t1 - t0) / 1001, gd_cycles_to_ns(t1 - t0) / 1001,
		  (void *)__image_end, 3U);
	/* What a trip through the CPL0 door costs (gd_irq_disable: IF is 0). */
	t0 = gd_cycles();
	for (i = 0; i < 100; i++)
		gd_irq_disable();
	t1 = gd_cycles();
	gd_printf("guestlet: cpl0 door round trip %llu ns\n",
		  gd_cycles_to_ns(t1 - t0) / 100);
	for (i = 0; i < bi->nr_mem; i++)
		gd_printf("guestlet: ram 0x%llx-0x%llx\n", bi->mem[i].gpa,
			  bi->mem[i].gpa + bi->mem[i].size);
	gl_heap_range(&t0, &t1);
	gd_printf("guestlet: heap 0x%llx-0x%llx\n", t0, t1);
}

/*
 * gd_alloc: alignment, zeroing, exhaustion, and that the memory is usable.
 * Uses up the heap, so it is the last thing a run can allocate.
 */
static void cmd_alloc_selftest(const char *args, size_t len)
{
	u64 next, end, before;
	unsigned char *p, *q;
	size_t i;

	gl_no_args("alloc-selftest", args, len);
	p = gd_alloc(100, 64);
	q = gd_alloc(4096, 4096);
	if (!p || !q || (gd_virt_to_phys(p) & 63) || (gd_virt_to_phys(q) & 4095) ||
	    q < p + 100 || gd_phys_to_virt(gd_virt_to_phys(q)) != q)
		gd_die(1, "alloc-selftest: bad blocks %p %p", p, q);
	for (i = 0; i < 4096; i++) {
		if (q[i])
			gd_die(1, "alloc-selftest: byte %zu not zeroed", i);
		q[i] = 0xa5;
	}
	if (gd_alloc(16, 3) || gd_alloc(16, 2 << 20))
		gd_die(1, "alloc-selftest: bad alignment accepted");
	gl_heap_range(&next, &end);
	before = next;
	if (gd_alloc(end - next + 1, 1))
		gd_die(1, "alloc-selftest: allocation past the heap end succeeded");
	gl_heap_range(&next, &end);
	if (next != before || !gd_alloc(end - next, 1) || gd_alloc(1, 1))
		gd_die(1, "alloc-selftest: the last byte of the heap is not usable "
		       "exactly once");
	gd_printf("alloc-selftest: ok, heap ended at 0x%llx\n", end);
}

static void gl_selftest_handler(void *arg)
{
	(*(volatile u64 *)arg)++;
}

/* Wait (polling, interrupts on) until *ctr reaches want; 0 or -1 on timeout. */
static int gl_poll_counter(volatile u64 *ctr, u64 want)
{
	u64 spins;

	/* ~1 s when the TSC rate is known; a large spin count otherwise. */
	u64 deadline = gd_time_ns() + 1000000000ULL;

	for (spins = 0; *ctr < want; spins++) {
		if (gd_cycles_khz() ? gd_time_ns() > deadline : spins > 100000000)
			return -1;
		gd_cpu_relax();
	}
	return 0;
}

/*
 * Deliver self-IPIs through the whole interrupt path (LAPIC, IDT gate, TSS
 * rsp0 stack switch from CPL3, dispatcher, EOI, iretq) twice: once by halting
 * in gd_wait_for_irq(), once while CPL3 code polls with interrupts on.
 */
static void cmd_irq_selftest(const char *args, size_t len)
{
	static volatile u64 hits;
	u64 base, t0, t1, t_fn, t_count;
	unsigned int i;
	int vec, cvec;

	gl_no_args("irq-selftest", args, len);
	vec = gd_irq_alloc_vector(gl_selftest_handler, (void *)&hits);
	cvec = gd_irq_alloc_vector(NULL, NULL);
	if (vec < 0 || cvec < 0)
		gd_die(1, "irq-selftest: no free vector (%d, %d)", vec, cvec);
	gd_lapic_enable();
	hits = 0;
	base = gd_irq_count(vec);	/* counts survive unregistering */

	gd_lapic_self_ipi(vec);		/* stays pending: IF is 0 at CPL3 */
	if (gd_irq_count(vec) != base)
		gd_die(1, "irq-selftest: interrupt delivered with IF=0");
	gd_wait_for_irq();
	if (hits != 1 || gd_irq_count(vec) != base + 1)
		gd_die(1, "irq-selftest: after halt: %llu handler calls, count %llu",
		       (unsigned long long)hits,
		       (unsigned long long)(gd_irq_count(vec) - base));

	gd_irq_enable();
	gd_lapic_self_ipi(vec);
	if (gl_poll_counter(&hits, 2))
		gd_die(1, "irq-selftest: self-IPI on vector %d never arrived at CPL3 "
		       "with interrupts enabled", vec);
	if (gd_irq_count(vec) != base + 2)
		gd_die(1, "irq-selftest: vector counted %llu times, want 2",
		       (unsigned long long)(gd_irq_count(vec) - base));

	/* Round trips (IPI, CPL0 path, back to CPL3), for the curious. */
	t0 = gd_cycles();
	for (i = 0; i < 20; i++) {
		gd_lapic_self_ipi(vec);
		if (gl_poll_counter(&hits, 3 + i))
			gd_die(1, "irq-selftest: self-IPI %u lost", i);
	}
	t1 = gd_cycles();
	t_fn = gd_cycles_to_ns(t1 - t0) / 20;

	/* A count-only vector: no handler, the short path in entry.S. */
	base = gd_irq_count(cvec);
	t0 = gd_cycles();
	for (i = 0; i < 20; i++) {
		gd_lapic_self_ipi(cvec);
		if (gl_poll_counter(&gl_irq_counts[cvec], base + i + 1))
			gd_die(1, "irq-selftest: count-only self-IPI %u lost", i);
	}
	t1 = gd_cycles();
	t_count = gd_cycles_to_ns(t1 - t0) / 20;
	gd_irq_disable();
	if (hits != 22 || gd_irq_count(cvec) != base + 20)
		gd_die(1, "irq-selftest: %llu handler calls (want 22), count-only "
		       "vector counted %llu (want 20)", (unsigned long long)hits,
		       (unsigned long long)(gd_irq_count(cvec) - base));

	gd_irq_unregister(vec);
	gd_irq_unregister(cvec);
	gd_printf("irq-selftest: ok, vector %d, 2 interrupts, apic id %u\n", vec,
		  gd_lapic_id());
	gd_printf("irq-selftest: self-IPI round trip: handler %llu ns, count-only "
		  "vector %d %llu ns\n", (unsigned long long)t_fn, cvec,
		  (unsigned long long)t_count);
}

static void cmd_bench_exits(const char *args, size_t len)
{
	gl_cmd_bench_exits(args, len);
}

static const struct gl_cmd gl_cmds[] = {
	{ "echo", cmd_echo },
	{ "serial-echo", cmd_serial_echo },
	{ "exit", cmd_exit },
	{ "triple-fault", cmd_triple_fault },
	{ "bench-exits", cmd_bench_exits },
	{ "info", cmd_info },
	{ "alloc-selftest", cmd_alloc_selftest },
	{ "irq-selftest", cmd_irq_selftest },
	{ "fault", cmd_fault },
	{ "pci-list", gl_cmd_pci_list },
	{ "blk-info", gl_cmd_blk_info },
	{ "blk-fill", gl_cmd_blk_fill },
	{ "blk-crc", gl_cmd_blk_crc },
	{ "blk-verify", gl_cmd_blk_verify },
	{ "blk-bench", gl_cmd_blk_bench },
	{ "blk-evil", gl_cmd_blk_evil },
	{ "blk-msix-mask", gl_cmd_blk_msix_mask },
	{ "blk-zero", gl_cmd_blk_zero },
	{ "blk-discard", gl_cmd_blk_discard },
	{ "blk-flush", gl_cmd_blk_flush },
	{ "blk-id", gl_cmd_blk_id },
};

static void gl_run_one(const char *s, size_t len)
{
	const char *word;
	size_t wlen;
	unsigned int i;

	if (!gl_next_word(&s, &len, &word, &wlen))
		return;				/* empty command */
	s = gl_trim(s, &len);
	for (i = 0; i < ARRAY_SIZE(gl_cmds); i++) {
		if (gl_word_is(word, wlen, gl_cmds[i].name)) {
			gl_cmds[i].run(s, len);
			return;
		}
	}
	gd_die(GL_EXIT_USAGE, "unknown command '%.*s'", (int)wlen, word);
}

void gl_run_cmdline(const char *cmdline, size_t len)
{
	size_t start = 0, i;

	for (i = 0; i <= len; i++) {
		if (i == len || cmdline[i] == ';') {
			gl_run_one(cmdline + start, i - start);
			start = i + 1;
		}
	}
}

void gl_main(const struct vp_boot_info *bi);

void gl_main(const struct vp_boot_info *bi)
{
	static char cmdline[VP_CMDLINE_MAX + 1];
	size_t len, n;

	gl_platform_init(bi);
	len = bi->cmdline_len;
	memcpy(cmdline, gd_phys_to_virt(bi->cmdline_gpa), len);
	for (n = 0; n < len && cmdline[n]; n++)
		;
	gl_run_cmdline(cmdline, n);
	gd_exit(0);
}
