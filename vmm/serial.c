// SPDX-License-Identifier: MIT
/*
 * A 16550-style UART on COM1, transmit only: what the guest writes to THR goes
 * to an fd (vmm's stdout), line-buffered.  Registers the guest may poll (LSR,
 * IIR, LCR...) behave like an idle UART whose transmitter is always empty.
 * The transmitter-empty interrupt works as on a 16550, on ISA IRQ 4: pending
 * after each THR write and when IER enables it, cleared by reading IIR.  An
 * interrupt-driven driver (Linux's 8250 for user-space writes to ttyS0) needs
 * it; a polling one (guestlet, Linux's printk console) never enables it.
 */
#include <errno.h>
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
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_THRI	0x02
#define IER_THRI	0x02
#define SERIAL_IRQ	4

/* The interrupt line follows IER and the pending transmitter-empty event. */
static void serial_update_irq(struct vmm_serial *s)
{
	bool level = (s->ier & IER_THRI) && s->thri_pending;

	if (level != s->irq_level && s->vm) {
		s->irq_level = level;
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

static void serial_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_serial *s = opaque;
	u8 *v = data;
	bool dlab = s->lcr & LCR_DLAB;

	if (len != 1) {		/* the UART has byte registers only */
		if (!is_write)
			for (u32 i = 0; i < len; i++)
				v[i] = 0xff;
		return;
	}
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
		case UART_LCR: s->lcr = *v; break;
		case UART_MCR: s->mcr = *v & 0x1f; break;
		case UART_SCR: s->scr = *v; break;
		default: break;	/* FCR, LSR, MSR writes: nothing to do */
		}
		serial_update_irq(s);
		return;
	}
	switch (off) {
	case UART_RBR_THR: *v = dlab ? s->dll : 0; break;
	case UART_IER: *v = dlab ? s->dlm : s->ier; break;
	case UART_IIR_FCR:
		if ((s->ier & IER_THRI) && s->thri_pending) {
			*v = IIR_THRI;
			s->thri_pending = false;
			serial_update_irq(s);
		} else {
			*v = IIR_NO_INT;
		}
		break;
	case UART_LCR: *v = s->lcr; break;
	case UART_MCR: *v = s->mcr; break;
	case UART_LSR: *v = LSR_THRE | LSR_TEMT; break;
	case UART_MSR: *v = 0xb0; break;	/* DCD, DSR, CTS */
	case UART_SCR: *v = s->scr; break;
	}
}

int vmm_serial_init(struct vmm_serial *s, struct kvm_vm *vm, int out_fd)
{
	*s = (struct vmm_serial){ .vm = vm, .out_fd = out_fd, .lcr = 0x03 };
	return kvm_vm_add_pio(vm, VP_PORT_SERIAL, 8, serial_io, s);
}
