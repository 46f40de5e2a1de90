// SPDX-License-Identifier: MIT
/*
 * vmm's UART as a guest driver sees it: THR bytes reach the output fd by
 * lines; received bytes come out of RBR in order with LSR's data-ready bit;
 * the interrupt line follows IER (received data first, then transmitter
 * empty) and IIR says which; a full receive buffer takes no more (nothing is
 * dropped, the rest waits) and FCR's receive reset empties it; DLAB switches
 * RBR/IER to the divisor.  Terminal input: Ctrl-A x quits, Ctrl-A Ctrl-A is
 * one Ctrl-A, Ctrl-A before anything else passes both.  And input from a
 * pipe through the I/O thread, paused while the buffer is full, and from a
 * regular file as the guest reads.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../vmm/vmm.h"
#include "check.h"


enum { RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR };

static u8 rd(struct vmm_serial *s, unsigned int reg)
{
	u8 v = 0x5a;

	vmm_serial_io(s, reg, &v, 1, false);
	return v;
}

static void wr(struct vmm_serial *s, unsigned int reg, u8 v)
{
	vmm_serial_io(s, reg, &v, 1, true);
}

static void test_transmit(void)
{
	struct vmm_serial s;
	int p[2];
	char got[64] = "";
	const char *msg = "hi\n";
	ssize_t n;

	CHECK(pipe(p) == 0);
	vmm_serial_reset(&s, NULL, p[1]);
	CHECK(rd(&s, LSR) == 0x60);			/* THR empty, nothing received */
	for (; *msg; msg++)
		wr(&s, RBR, (u8)*msg);
	n = read(p[0], got, sizeof(got) - 1);	/* the newline flushed the line */
	CHECK(n == 3 && !memcmp(got, "hi\n", 3));
	/* Transmitter-empty interrupt: pending once enabled, cleared by IIR. */
	CHECK(!s.irq_level);
	wr(&s, IER, 0x02);
	CHECK(s.irq_level && rd(&s, IIR) == 0x02);
	CHECK(!s.irq_level && rd(&s, IIR) == 0x01);
	wr(&s, RBR, 'x');				/* sent at once: pending again */
	CHECK(s.irq_level);
	close(p[0]);
	close(p[1]);
}

static void test_receive(void)
{
	struct vmm_serial s;
	u8 big[VMM_SERIAL_RX_MAX + 10];
	unsigned int i;

	vmm_serial_reset(&s, NULL, -1);
	CHECK(rd(&s, RBR) == 0);			/* nothing there: 0, no DR */
	CHECK(vmm_serial_rx(&s, (const u8 *)"ab", 2) == 2);
	CHECK(rd(&s, LSR) & 0x01);
	CHECK(!s.irq_level);				/* IER says no */
	wr(&s, IER, 0x03);				/* data and THR empty */
	CHECK(s.irq_level);
	CHECK(rd(&s, IIR) == 0x04);			/* data first */
	CHECK(rd(&s, IIR) == 0x04);			/* still: only reading it clears */
	CHECK(rd(&s, RBR) == 'a');
	CHECK(rd(&s, RBR) == 'b');
	CHECK(!(rd(&s, LSR) & 0x01));
	CHECK(rd(&s, IIR) == 0x02);			/* then the transmitter */
	CHECK(!s.irq_level);
	/* DLAB: RBR and IER are the divisor latch, the data stays. */
	CHECK(vmm_serial_rx(&s, (const u8 *)"c", 1) == 1);
	wr(&s, LCR, 0x83);
	wr(&s, RBR, 0x0c);
	CHECK(rd(&s, RBR) == 0x0c && (rd(&s, LSR) & 0x01));
	wr(&s, LCR, 0x03);
	CHECK(rd(&s, RBR) == 'c');
	/* Full: what does not fit is refused, not dropped; order kept. */
	for (i = 0; i < sizeof(big); i++)
		big[i] = (u8)i;
	CHECK(vmm_serial_rx(&s, big, sizeof(big)) == VMM_SERIAL_RX_MAX);
	CHECK(vmm_serial_rx(&s, big, 1) == 0);
	for (i = 0; i < VMM_SERIAL_RX_MAX; i++)
		if (rd(&s, RBR) != (u8)i) {
			fprintf(stderr, "  byte %u out of order\n", i);
			failures++;
			break;
		}
	CHECK(!(rd(&s, LSR) & 0x01));
	/* FCR receive-FIFO reset empties the buffer. */
	CHECK(vmm_serial_rx(&s, big, 5) == 5);
	wr(&s, IIR, 0x07);
	CHECK(!(rd(&s, LSR) & 0x01) && rd(&s, RBR) == 0);
	/* Only byte-wide accesses inside the 8 registers. */
	{
		u8 w[2] = { 1, 2 };

		vmm_serial_io(&s, RBR, w, 2, false);
		CHECK(w[0] == 0xff && w[1] == 0xff);
		vmm_serial_io(&s, 8, w, 1, false);
		CHECK(w[0] == 0xff);
	}
}

static void test_escape(void)
{
	struct vmm_serial s;
	const u8 in1[] = { 'a', 0x01, 0x01, 'b', 0x01, 'c' };
	const u8 in2[] = { 'd', 0x01, 'x', 'e' };
	const u8 want[] = { 'a', 0x01, 'b', 0x01, 'c', 'd' };
	unsigned int i;

	vmm_serial_reset(&s, NULL, -1);
	CHECK(vmm_serial_input(&s, in1, 1) == 1);	/* not a terminal: as is */
	CHECK(rd(&s, RBR) == 'a');
	CHECK(vmm_serial_input(&s, (const u8 *)"\x01x", 2) == 2 && !s.quit);
	CHECK(rd(&s, RBR) == 0x01 && rd(&s, RBR) == 'x');

	s.escape = true;
	CHECK(vmm_serial_input(&s, in1, sizeof(in1)) == sizeof(in1));
	CHECK(!s.quit);
	/* Ctrl-A split over two reads still counts. */
	CHECK(vmm_serial_input(&s, in2, 2) == 2 && !s.quit);
	CHECK(vmm_serial_input(&s, in2 + 2, 2) == 1 && s.quit);	/* stops at the x */
	for (i = 0; i < sizeof(want); i++)
		CHECK(rd(&s, RBR) == want[i]);
	CHECK(!(rd(&s, LSR) & 0x01));			/* 'e' after the quit: not sent */
}

/* Input from a pipe through the I/O thread, more than the buffer holds. */
static void test_pipe_input(void)
{
	struct vmm_evloop ev;
	struct vmm_serial s;
	u8 data[3 * VMM_SERIAL_RX_MAX + 7];
	unsigned int got = 0, spins = 0;
	int p[2];

	for (unsigned int i = 0; i < sizeof(data); i++)
		data[i] = (u8)(i * 7);
	CHECK(pipe(p) == 0);
	vmm_serial_reset(&s, NULL, -1);
	CHECK(vmm_evloop_init(&ev) == 0 && vmm_evloop_start(&ev) == 0);
	CHECK(vmm_serial_attach_input(&s, &ev, p[0]) == 0);
	CHECK(s.in.fd == p[0] && !s.escape);		/* a pipe: no raw mode, no escape */
	CHECK(write(p[1], data, sizeof(data)) == (ssize_t)sizeof(data));
	close(p[1]);
	/* Drain as a polling driver would, until all arrived (bounded wait). */
	while (got < sizeof(data) && spins < 5000) {
		if (rd(&s, LSR) & 0x01) {
			u8 c = rd(&s, RBR);

			if (c != data[got]) {
				fprintf(stderr, "  byte %u: 0x%02x, sent 0x%02x\n", got, c, data[got]);
				failures++;
				break;
			}
			got++;
			spins = 0;
		} else {
			poll(NULL, 0, 1);
			spins++;
		}
	}
	CHECK(got == sizeof(data));
	/* End of input: the watch goes away by itself. */
	for (spins = 0; s.in.fd >= 0 && spins < 5000; spins++)
		poll(NULL, 0, 1);
	CHECK(s.in.fd < 0);
	vmm_serial_detach_input(&s);
	vmm_evloop_stop(&ev);
	close(p[0]);

	/* A regular file: read as the guest drains the buffer, all of it, in order. */
	{
		char path[] = "/tmp/vp-serial-XXXXXX";
		int fd = mkstemp(path);

		CHECK(fd >= 0);
		unlink(path);
		CHECK(write(fd, data, sizeof(data)) == (ssize_t)sizeof(data));
		CHECK(lseek(fd, 0, SEEK_SET) == 0);
		vmm_serial_reset(&s, NULL, -1);
		CHECK(vmm_serial_attach_input(&s, &ev, fd) == 0 && s.in_file);
		for (got = 0; got < sizeof(data) && (rd(&s, LSR) & 0x01); got++)
			if (rd(&s, RBR) != data[got]) {
				fprintf(stderr, "  file byte %u out of order\n", got);
				failures++;
				break;
			}
		CHECK(got == sizeof(data));
		CHECK(!(rd(&s, LSR) & 0x01) && s.in.fd < 0);	/* then its end */
		vmm_serial_detach_input(&s);
		close(fd);
	}

	/* /dev/null: accepted, nothing watched. */
	p[0] = open("/dev/null", O_RDONLY);
	vmm_serial_reset(&s, NULL, -1);
	CHECK(vmm_serial_attach_input(&s, &ev, p[0]) == 0 && s.in.fd < 0);
	close(p[0]);
}

int main(void)
{
	test_transmit();
	test_receive();
	test_escape();
	test_pipe_input();
	return check_exit("vmm_serial");
}
