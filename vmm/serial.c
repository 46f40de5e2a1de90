// SPDX-License-Identifier: MIT
/*
 * A 16550-style UART on COM1.  What the guest writes to THR goes to an fd
 * (vmm's stdout), line-buffered; the transmitter is always empty again at
 * once.  What arrives on the input fd (vmm's stdin: a terminal, pipe, socket
 * or regular file) waits in a receive buffer the guest reads through RBR,
 * with LSR's data-ready bit.  The I/O thread reads the fd only while the
 * buffer has room (a regular file, which cannot be polled, is read on the
 * guest's accesses instead), so vmm drops nothing; FCR's receive-FIFO reset
 * drops what is buffered, as on a 16550.  A terminal in the foreground is put
 * in raw mode, so every key reaches the guest: Ctrl-A x quits vmm (status
 * 130), Ctrl-A Ctrl-A sends a Ctrl-A.
 *
 * Interrupts as on a 16550, on ISA IRQ 4, level: received data available
 * (IER bit 0) while the buffer is not empty, then transmitter empty (IER bit
 * 1), pending after each THR write and when IER enables it, cleared by
 * reading IIR.  Interrupt-driven drivers (Linux's 8250 for ttyS0 from user
 * space) need them; polling ones (guestlet, Linux's printk console) never
 * enable them.  The registers a driver polls (LSR, IIR, MSR...) behave like an
 * idle 16450: no FIFO reported, modem lines up.
 *
 * Security model: the guest only moves bytes through registers; every index
 * is bounded by the buffers' sizes.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvm/kvm.h>
#include <vmm/guest_abi.h>
#include "vmm.h"

#define UART_RBR_THR	0
#define UART_IER	1
#define UART_IIR_FCR	2
#define UART_LCR	3
#define UART_MCR	4
#define UART_LSR	5
#define UART_MSR	6
#define UART_SCR	7
#define LCR_DLAB	0x80
#define FCR_CLEAR_RCVR	0x02
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IER_RDI		0x01
#define IER_THRI	0x02
#define SERIAL_IRQ	4

/* The interrupt line follows IER, received data and transmitter-empty. */
static void serial_update_irq(struct vmm_serial *s)
{
	bool level = ((s->ier & IER_RDI) && s->rx_count) ||
		     ((s->ier & IER_THRI) && s->thri_pending);

	if (level != s->irq_level) {
		s->irq_level = level;
		if (s->vm)
			kvm_irq_line(s->vm, SERIAL_IRQ, level);
	}
}

void vmm_serial_flush(struct vmm_serial *s)
{
	unsigned int off = 0;

	while (off < s->len) {
		ssize_t n = write(s->out_fd, s->buf + off, s->len - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;	/* stdout gone: drop the output, keep the guest running */
		off += (unsigned int)n;
	}
	s->len = 0;
}

/* Queue bytes for the guest; returns how many fit.  s->lock held. */
static size_t rx_push(struct vmm_serial *s, const u8 *buf, size_t n)
{
	size_t i;

	for (i = 0; i < n && s->rx_count < VMM_SERIAL_RX_MAX; i++, s->rx_count++)
		s->rx[(s->rx_head + s->rx_count) % VMM_SERIAL_RX_MAX] = buf[i];
	serial_update_irq(s);
	return i;
}

/*
 * A regular file cannot be polled, and is never slow to read: the buffer is
 * topped up from it right here, on the vCPU's access.  s->lock held.
 */
static void file_refill(struct vmm_serial *s)
{
	u8 buf[VMM_SERIAL_RX_MAX];
	ssize_t n;

	if (s->in.fd < 0 || s->rx_count > VMM_SERIAL_RX_MAX / 2)
		return;
	do
		n = read(s->in.fd, buf, VMM_SERIAL_RX_MAX - s->rx_count);
	while (n < 0 && errno == EINTR);
	if (n <= 0)
		s->in.fd = -1;			/* the end of it (or an error) */
	else
		rx_push(s, buf, (size_t)n);
}

/* The guest read the buffer down: let the input fd in again.  s->lock held. */
static void rx_resume(struct vmm_serial *s)
{
	if (s->in_file) {
		file_refill(s);
		return;
	}
	if (s->in_paused && s->rx_count <= VMM_SERIAL_RX_MAX / 2) {
		s->in_paused = false;
		if (vmm_ev_add(s->ev, &s->in, EPOLLIN))
			s->in.fd = -1;		/* cannot watch it again: no more input */
	}
}

static u8 rx_pop(struct vmm_serial *s)
{
	u8 c;

	if (!s->rx_count)
		return 0;
	c = s->rx[s->rx_head];
	s->rx_head = (s->rx_head + 1) % VMM_SERIAL_RX_MAX;
	s->rx_count--;
	rx_resume(s);
	return c;
}

static void serial_reg(struct vmm_serial *s, u64 off, u8 *v, bool is_write)
{
	bool dlab = s->lcr & LCR_DLAB;

	if (is_write) {
		switch (off) {
		case UART_RBR_THR:
			if (dlab) {
				s->dll = *v;
				break;
			}
			s->buf[s->len++] = (char)*v;
			if (*v == '\n' || s->len == sizeof(s->buf))
				vmm_serial_flush(s);
			s->thri_pending = true;	/* sent at once: empty again */
			break;
		case UART_IER:
			if (dlab) {
				s->dlm = *v;
				break;
			}
			if ((*v & IER_THRI) && !(s->ier & IER_THRI))
				s->thri_pending = true;	/* enabling it with THR empty */
			s->ier = *v & 0x0f;
			break;
		case UART_IIR_FCR:
			if (*v & FCR_CLEAR_RCVR) {
				s->rx_head = s->rx_count = 0;
				rx_resume(s);
			}
			break;
		case UART_LCR: s->lcr = *v; break;
		case UART_MCR: s->mcr = *v & 0x1f; break;
		case UART_SCR: s->scr = *v; break;
		default: break;	/* LSR, MSR writes: nothing to do */
		}
		serial_update_irq(s);
		return;
	}
	switch (off) {
	case UART_RBR_THR:
		*v = dlab ? s->dll : rx_pop(s);
		serial_update_irq(s);
		break;
	case UART_IER: *v = dlab ? s->dlm : s->ier; break;
	case UART_IIR_FCR:
		if ((s->ier & IER_RDI) && s->rx_count) {
			*v = IIR_RDI;		/* cleared by reading the data */
		} else if ((s->ier & IER_THRI) && s->thri_pending) {
			*v = IIR_THRI;
			s->thri_pending = false;
			serial_update_irq(s);
		} else {
			*v = IIR_NO_INT;
		}
		break;
	case UART_LCR: *v = s->lcr; break;
	case UART_MCR: *v = s->mcr; break;
	case UART_LSR: *v = LSR_THRE | LSR_TEMT | (s->rx_count ? LSR_DR : 0); break;
	case UART_MSR: *v = 0xb0; break;	/* DCD, DSR, CTS */
	case UART_SCR: *v = s->scr; break;
	}
}

void vmm_serial_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_serial *s = opaque;
	u8 *v = data;

	if (len != 1 || off > UART_SCR) {	/* the UART has byte registers only */
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&s->lock);
	serial_reg(s, off, v, is_write);
	pthread_mutex_unlock(&s->lock);
}

size_t vmm_serial_rx(struct vmm_serial *s, const u8 *buf, size_t n)
{
	size_t i;

	pthread_mutex_lock(&s->lock);
	i = rx_push(s, buf, n);
	pthread_mutex_unlock(&s->lock);
	return i;
}

size_t vmm_serial_input(struct vmm_serial *s, const u8 *buf, size_t n)
{
	u8 out[VMM_SERIAL_RX_MAX + 1];
	size_t i, o = 0;

	if (!s->escape)
		return vmm_serial_rx(s, buf, n);
	for (i = 0; i < n && o + 2 <= sizeof(out); i++) {
		if (!s->esc_seen) {
			if (buf[i] == VMM_SERIAL_ESCAPE)
				s->esc_seen = true;
			else
				out[o++] = buf[i];
			continue;
		}
		s->esc_seen = false;
		if (buf[i] == 'x' || buf[i] == 'X') {
			s->quit = true;
			if (s->vm)
				kvm_vm_request_stop(s->vm, VMM_SERIAL_QUIT_STATUS);
			i++;
			break;
		}
		if (buf[i] != VMM_SERIAL_ESCAPE)
			out[o++] = VMM_SERIAL_ESCAPE;
		out[o++] = buf[i];
	}
	vmm_serial_rx(s, out, o);
	return i;
}

/* The I/O thread: input is readable. */
static void input_ready(void *opaque, int fd, unsigned int events)
{
	struct vmm_serial *s = opaque;
	u8 buf[VMM_SERIAL_RX_MAX];
	size_t room;
	ssize_t n;

	(void)events;
	pthread_mutex_lock(&s->lock);
	room = VMM_SERIAL_RX_MAX - s->rx_count;
	/*
	 * Full (one byte kept: Ctrl-A and another byte become two): stop
	 * watching until the guest reads it down (rx_resume(), under the same
	 * lock, so the guest cannot drain it in between and wait forever).
	 */
	if (room < 2) {
		if (!s->in_paused && !vmm_ev_del(s->ev, &s->in))
			s->in_paused = true;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	pthread_mutex_unlock(&s->lock);
	n = read(fd, buf, room - 1);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0) {			/* end of input (or an error): no more */
		pthread_mutex_lock(&s->lock);
		if (!s->in_paused)
			vmm_ev_del(s->ev, &s->in);
		s->in.fd = -1;
		s->in_paused = false;
		pthread_mutex_unlock(&s->lock);
		return;
	}
	vmm_serial_input(s, buf, (size_t)n);
}

int vmm_serial_attach_input(struct vmm_serial *s, struct vmm_evloop *ev, int fd)
{
	struct stat st;
	int ret;

	if (fstat(fd, &st))
		return 0;
	if (S_ISREG(st.st_mode)) {
		pthread_mutex_lock(&s->lock);
		s->in = (struct vmm_ev_watch){ .fd = fd };
		s->in_file = true;
		file_refill(s);
		pthread_mutex_unlock(&s->lock);
		return 0;
	}
	if (!(S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) || (S_ISCHR(st.st_mode) && isatty(fd))))
		return 0;		/* /dev/null and other devices: no input */
	if (isatty(fd)) {
		struct termios raw;

		/* In the background, reading it would stop vmm (SIGTTIN). */
		if (tcgetpgrp(fd) != getpgrp() || tcgetattr(fd, &s->tty_saved))
			return 0;
		raw = s->tty_saved;
		/* Keys as typed, to the guest; output processing stays. */
		raw.c_iflag &= ~(tcflag_t)(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR |
					   ICRNL | IXON);
		raw.c_lflag &= ~(tcflag_t)(ECHO | ECHONL | ICANON | ISIG | IEXTEN);
		raw.c_cc[VMIN] = 1;
		raw.c_cc[VTIME] = 0;
		if (tcsetattr(fd, TCSANOW, &raw))
			return -errno;
		s->tty_raw = true;
		s->tty_fd = fd;
		s->escape = true;
	}
	s->ev = ev;
	s->in = (struct vmm_ev_watch){ .fd = fd, .fn = input_ready, .opaque = s };
	ret = vmm_ev_add(ev, &s->in, EPOLLIN);
	if (ret) {
		s->in.fd = -1;
		vmm_serial_detach_input(s);
	}
	return ret == -EPERM ? 0 : ret;		/* not pollable: no input */
}

void vmm_serial_detach_input(struct vmm_serial *s)
{
	pthread_mutex_lock(&s->lock);
	if (s->in.fd >= 0 && !s->in_paused && !s->in_file && s->ev)
		vmm_ev_del(s->ev, &s->in);
	s->in.fd = -1;
	pthread_mutex_unlock(&s->lock);
	vmm_serial_restore_tty(s);
}

void vmm_serial_restore_tty(struct vmm_serial *s)
{
	if (s->tty_raw) {
		tcsetattr(s->tty_fd, TCSANOW, &s->tty_saved);
		s->tty_raw = false;
	}
}

void vmm_serial_reset(struct vmm_serial *s, struct kvm_vm *vm, int out_fd)
{
	*s = (struct vmm_serial){ .vm = vm, .out_fd = out_fd, .lcr = 0x03, .in.fd = -1 };
	pthread_mutex_init(&s->lock, NULL);
}

int vmm_serial_init(struct vmm_serial *s, struct kvm_vm *vm, int out_fd)
{
	vmm_serial_reset(s, vm, out_fd);
	return kvm_vm_add_pio(vm, VP_PORT_SERIAL, 8, vmm_serial_io, s);
}
