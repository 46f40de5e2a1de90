/* SPDX-License-Identifier: MIT */
/*
 * vmm/ private interfaces (this folder is a program, not a library: everything
 * here is shared between vmm's own files and its unit tests only).
 */
#ifndef VMM_VMM_H
#define VMM_VMM_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <termios.h>
#include <virtio/types.h>

#include "evloop.h"

/* Little-endian stores into the tables and boot structures vmm writes. */
static inline void vmm_put16(u8 *p, u16 v) { p[0] = (u8)v; p[1] = (u8)(v >> 8); }
static inline void vmm_put32(u8 *p, u32 v) { vmm_put16(p, (u16)v); vmm_put16(p + 2, (u16)(v >> 16)); }
static inline void vmm_put64(u8 *p, u64 v) { vmm_put32(p, (u32)v); vmm_put32(p + 4, (u32)(v >> 32)); }

/* The byte that makes the sum of [p, p+n) zero when stored in it (MP, ACPI). */
static inline u8 vmm_checksum(const u8 *p, size_t n)
{
	u8 sum = 0;

	while (n--)
		sum += *p++;
	return (u8)-sum;
}

#define VMM_MEM_DEFAULT	(256ULL << 20)
#define VMM_MEM_MIN	(2ULL << 20)
#define VMM_MEM_MAX	(32ULL << 30)
#define VMM_MAX_CPUS	8	/* KVM_MAX_VCPUS */
#define VMM_MAX_DEVICES	16
#define VMM_QUEUE_SIZE_DEFAULT	256

enum vmm_dev_kind {
	VMM_DEV_DISK,		/* --disk: our vhost-user-blk back-end, in-process */
	VMM_DEV_VHOST_USER,	/* --vhost-user: an external back-end */
	VMM_DEV_NET_TAP,	/* --net tap=: the kernel's vhost-net and a tap */
};

struct vmm_dev_opts {
	enum vmm_dev_kind kind;
	const char *arg;	/* the option's whole value, for messages */
	char path[4096];	/* disk file, socket path or tap name */
	char type[8];		/* "blk" (--vhost-user type=) */
	char engine[16];	/* --disk engine=, "" = default */
	char cache[16];		/* --disk cache=, "" = default */
	bool readonly;
	unsigned int queues;	/* 0 = back-end's choice */
	unsigned int queue_size;
	bool poll_set;		/* --disk poll-us= given */
	unsigned int poll_us;	/* its value (0 = never spin) */
	bool has_mac;		/* --net mac= given */
	u8 mac[6];
};

struct vmm_opts {
	const char *kernel;
	const char *initrd;
	u64 mem;
	const char *cmdline;
	unsigned int cpus;
	bool stats;
	bool hugetlb;
	bool no_ioeventfd;
	bool no_irqfd;
	bool no_acpi;		/* Linux guests: MP table only */
	unsigned int nr_devs;
	struct vmm_dev_opts devs[VMM_MAX_DEVICES];
};

enum vmm_opts_result {
	VMM_OPTS_RUN = 0,	/* options parsed, go on */
	VMM_OPTS_EXIT_OK,	/* --help or --version printed */
	VMM_OPTS_ERROR,		/* err holds one line */
};

/* Parse argv.  Prints --help/--version output to stdout itself. */
enum vmm_opts_result vmm_opts_parse(int argc, char **argv, struct vmm_opts *o,
				    char *err, size_t errlen);

/* Parse a --disk / --vhost-user value into @d; 0 or -EINVAL with @err set. */
int vmm_dev_opts_parse(enum vmm_dev_kind kind, const char *arg, struct vmm_dev_opts *d,
		       char *err, size_t errlen);

/* "512" (MiB), "512M", "2G", "64K", "1T", "4096B": 0 ok, -EINVAL garbage, -ERANGE overflow. */
int vmm_parse_size(const char *s, u64 *out);

/* --- ELF64 loader ------------------------------------------------------------ */

#define VMM_ELF_MAX_SEGMENTS	16

struct vmm_elf_segment {
	u64 file_offset;
	u64 filesz;
	u64 gpa;
	u64 memsz;
};

struct vmm_elf {
	u64 entry;
	unsigned int nr_segments;
	struct vmm_elf_segment seg[VMM_ELF_MAX_SEGMENTS];
};

/* A guest-physical range the image may occupy. */
struct vmm_ram_layout {
	unsigned int nr;
	struct { u64 gpa, size; } range[2];
	u64 reserved_end;	/* [0, reserved_end) belongs to the VMM */
};

void vmm_ram_layout(u64 mem, struct vmm_ram_layout *l);

/*
 * Validate an ELF image held in [buf, buf+len) against a RAM layout and fill
 * @elf.  Returns 0 or -EINVAL with one line in @err saying what is wrong.
 * Segments go to their physical addresses (p_paddr).  The entry point is a
 * virtual address in an identity-mapped (p_vaddr == p_paddr) executable
 * segment, or with VMM_ELF_PHYS_ENTRY a physical address inside an
 * executable segment (a Linux vmlinux: linked high, entered at phys_startup_64).
 */
#define VMM_ELF_PHYS_ENTRY	0x1
int vmm_elf_parse(const void *buf, size_t len, const struct vmm_ram_layout *l,
		  unsigned int flags, struct vmm_elf *elf, char *err, size_t errlen);
/*
 * Does [buf, buf+len) look like an x86-64 ELF64 executable with a PT_NOTE
 * holding a note whose owner is @name?  Never reads outside the buffer;
 * anything malformed is "no".
 */
bool vmm_elf_has_note(const void *buf, size_t len, const char *name);

/* --- Linux loader: bzImage (boot protocol 2.12+) or vmlinux, 64-bit entry ----- */

#define VMM_LINUX_ZERO_PAGE_GPA	0x7000ULL	/* struct boot_params */
#define VMM_LINUX_LOAD_GPA	0x100000ULL	/* a bzImage's protected-mode kernel */

enum vmm_linux_kind {
	VMM_LINUX_BZIMAGE = 1,	/* compressed, with the boot protocol's setup header */
	VMM_LINUX_VMLINUX,	/* the uncompressed ELF the build leaves (Firecracker's input) */
};

struct vmm_linux {
	enum vmm_linux_kind kind;
	u16 version;		/* bzImage: boot protocol, 0x020c = 2.12 */
	u32 hdr_len;		/* bzImage: setup header bytes from 0x1f1 */
	u32 setup_size;		/* bzImage: real-mode setup code before the kernel proper */
	u64 kernel_len;		/* bzImage: the protected-mode part that is loaded */
	u32 cmdline_max;	/* longest command line the kernel takes */
	u32 initrd_addr_max;	/* highest byte the initrd may occupy */
	u64 pref_address;	/* bzImage: where the decompressor runs */
	u32 init_size;		/* bzImage: bytes it needs from there */
	struct vmm_elf elf;	/* vmlinux: segments at p_paddr, entry physical */
};

struct vmm_linux_entry {
	u64 rip;		/* startup_64 */
	u64 rsi;		/* the zero page */
	u64 initrd_gpa;		/* 0 without an initrd */
};

/*
 * Is [buf, buf+len) a Linux kernel vmm boots with the Linux boot protocol:
 * a bzImage ("HdrS" setup header) or an x86-64 vmlinux (an ELF with the
 * kernel's "Linux" notes)?  Anything else is booted as a bare ELF guest.
 */
bool vmm_linux_is_kernel(const void *buf, size_t len);
/* Validate a bzImage header or a vmlinux; 0 or -EINVAL with one line in @err. */
int vmm_linux_parse(const void *buf, size_t len, struct vmm_linux *lk, char *err, size_t errlen);
/*
 * Check that the kernel, an initrd of @initrd_len bytes and @cmdline fit the
 * RAM layout, and say where the initrd goes; 0 or -EINVAL with one line in
 * @err.  vmm_linux_load() does the same checks; vmm calls this one first so
 * that such errors come before /dev/kvm is opened.
 */
int vmm_linux_plan(const struct vmm_linux *lk, size_t initrd_len, const char *cmdline,
		   const struct vmm_ram_layout *l, u64 *initrd_gpa, char *err, size_t errlen);
/*
 * Place the kernel, the initrd (may be NULL/0), the command line, the zero page
 * and its e820 map into guest RAM; @low_ram is the host address of guest
 * physical 0 and covers l->range[0].  0, or -EINVAL with @err set when
 * something does not fit (nothing is written then).
 */
int vmm_linux_load(const void *image, const struct vmm_linux *lk, const void *initrd,
		   size_t initrd_len, const char *cmdline, const struct vmm_ram_layout *l,
		   u8 *low_ram, struct vmm_linux_entry *entry, char *err, size_t errlen);

/* --- MP table (Intel MP spec 1.4) for guests without ACPI -------------------- */

#define VMM_MPTABLE_GPA		0xf0000ULL	/* in the BIOS area Linux scans */
#define VMM_MPTABLE_END		0x100000ULL

/* Bytes the table takes for @nr_cpus. */
size_t vmm_mptable_size(unsigned int nr_cpus);
/* Write it at VMM_MPTABLE_GPA; @low_ram is guest physical 0.  0 or -EINVAL. */
int vmm_mptable_write(u8 *low_ram, u64 low_size, unsigned int nr_cpus);

/* --- ACPI tables (vmm/acpi.c), for Linux guests unless --no-acpi -------------- */

#define VMM_ACPI_GPA		0xe0000ULL	/* the RSDP, then the tables */
#define VMM_ACPI_END		VMM_MPTABLE_GPA
#define VMM_ACPI_PM1_EVT	0x600		/* PM1a status (2 bytes), enable (2) */
#define VMM_ACPI_PM1_CNT	0x604		/* PM1a control (2 bytes) */
#define VMM_ACPI_SCI_IRQ	9
#define VMM_ACPI_S5_TYP		5		/* the DSDT's \_S5: SLP_TYP of "off" */

/* Bytes the tables take for @nr_cpus (SIZE_MAX: they could not be built). */
size_t vmm_acpi_size(unsigned int nr_cpus);
/* Write them at VMM_ACPI_GPA; @low_ram is guest physical 0.  0 or -EINVAL. */
int vmm_acpi_write(u8 *low_ram, u64 low_size, unsigned int nr_cpus);

/* --- devices --------------------------------------------------------------- */

struct kvm_vm;

/*
 * 16550-style UART on COM1: the transmitter writes to @out_fd, the receiver
 * takes what vmm_serial_attach_input() reads from an fd (or vmm_serial_rx()).
 */
#define VMM_SERIAL_RX_MAX	256
#define VMM_SERIAL_ESCAPE	0x01	/* Ctrl-A, then x: quit (terminal input) */
#define VMM_SERIAL_QUIT_STATUS	130	/* vmm's status then, as for SIGINT */

struct vmm_evloop;
struct vmm_serial {
	struct kvm_vm *vm;
	int out_fd;
	pthread_mutex_t lock;	/* the vCPUs' port accesses vs the I/O thread's input */
	u8 ier, lcr, mcr, scr, dll, dlm;
	bool thri_pending;	/* transmitter-empty interrupt not yet acknowledged */
	bool irq_level;		/* what IRQ 4 was last set to */
	unsigned int len;
	char buf[4096];
	/* receiver */
	u8 rx[VMM_SERIAL_RX_MAX];
	unsigned int rx_head, rx_count;
	struct vmm_evloop *ev;
	struct vmm_ev_watch in;	/* in.fd < 0: no input */
	bool in_paused;		/* input waits until the guest reads the buffer down */
	bool in_file;		/* input is a regular file, read on the guest's accesses */
	bool escape;		/* input is a terminal: Ctrl-A x quits */
	bool esc_seen;		/* the last input byte was Ctrl-A */
	bool quit;		/* Ctrl-A x was typed */
	bool tty_raw;		/* tty_fd's terminal settings to restore */
	int tty_fd;
	struct termios tty_saved;
};
/* The UART's state, without registering its ports (unit tests: @vm NULL). */
void vmm_serial_reset(struct vmm_serial *s, struct kvm_vm *vm, int out_fd);
int vmm_serial_init(struct vmm_serial *s, struct kvm_vm *vm, int out_fd);
/* The port handler (offset 0-7 from VP_PORT_SERIAL). */
void vmm_serial_io(void *opaque, u64 off, void *data, u32 len, bool is_write);
/* Queue received bytes for the guest; returns how many fit (the rest: later). */
size_t vmm_serial_rx(struct vmm_serial *s, const u8 *buf, size_t n);
/*
 * Terminal input (s->escape): Ctrl-A x sets s->quit and stops the VM with
 * VMM_SERIAL_QUIT_STATUS, Ctrl-A Ctrl-A sends one Ctrl-A, Ctrl-A then
 * anything else sends both.  Other input goes through as is.  The caller
 * offers at most the free room less one byte; returns the bytes consumed.
 */
size_t vmm_serial_input(struct vmm_serial *s, const u8 *buf, size_t n);
/*
 * Feed the guest what arrives on @fd, from the I/O thread: a pipe, socket or
 * terminal (a terminal in the foreground is put in raw mode, restored by
 * vmm_serial_detach_input(), with Ctrl-A x to quit); a regular file is read
 * as the guest consumes it.  Anything else (/dev/null) gives no input.
 * 0, or -errno.
 */
int vmm_serial_attach_input(struct vmm_serial *s, struct vmm_evloop *ev, int fd);
void vmm_serial_detach_input(struct vmm_serial *s);
/* Only the terminal settings (from an atexit handler: takes no lock). */
void vmm_serial_restore_tty(struct vmm_serial *s);
void vmm_serial_flush(struct vmm_serial *s);

/* Debug-exit port and the notification test device (see guest_abi.h). */
struct vmm_testdev {
	struct kvm_vm *vm;
	int pio_efd, mmio_efd;
	u64 mmio_exits;		/* doorbell writes that exited to vmm */
	u64 pio_exits;		/* PIO doorbell writes that were not absorbed */
};
int vmm_testdev_init(struct vmm_testdev *t, struct kvm_vm *vm);
/* PC legacy bits Linux probes: i8042 reset (ends vmm, status 0) and CMOS RTC. */
struct vmm_pc {
	struct kvm_vm *vm;
	u8 cmos_index;
	u8 cmos[128];
	u8 pm1[6];		/* ACPI PM1a status, enable, control */
	u64 resets;
	u64 poweroffs;
};
int vmm_pc_init(struct vmm_pc *pc, struct kvm_vm *vm);
/* Doorbells absorbed by each ioeventfd since the last call. */
void vmm_testdev_counts(struct vmm_testdev *t, u64 *pio_efd, u64 *mmio_efd);
void vmm_testdev_destroy(struct vmm_testdev *t);

#endif
