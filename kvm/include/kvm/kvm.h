/* SPDX-License-Identifier: MIT */
/*
 * kvm/: the only code in vioplane that issues /dev/kvm ioctls.
 *
 *   struct kvm_vm    a VM: /dev/kvm and VM fds, guest RAM (memfd, MAP_SHARED, one
 *                    memslot per RAM range), the in-kernel irqchip, PIO/MMIO
 *                    handlers for exits, ioeventfds, irqfds and MSI routes.
 *   struct kvm_vcpu  a vCPU: its fd, the shared kvm_run page, its thread.
 *
 * Functions return 0 or -errno and never exit; where a caller needs to tell a
 * user what went wrong, they also fill vm->err (one line, no newline).
 */
#ifndef KVM_KVM_H
#define KVM_KVM_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <virtio/types.h>
#include <virtio/mem.h>

#define KVM_MAX_RAM_RANGES	2
#define KVM_MAX_IO_HANDLERS	64
#define KVM_MAX_MSI_ROUTES	256
#define KVM_FIRST_MSI_GSI	24	/* GSIs 0-23 are the IOAPIC pins */
#define KVM_MAX_VCPUS		8
/* Signal used to kick a vCPU thread out of KVM_RUN (blocked elsewhere). */
#define KVM_KICK_SIGNAL		SIGUSR2

struct kvm_vm;

/*
 * An exit handler for a PIO or MMIO range.  @off is the offset into the range,
 * @data holds @len bytes (written by the guest, or to be filled for a read).
 */
typedef void (*kvm_io_fn)(void *opaque, u64 off, void *data, u32 len, bool is_write);

struct kvm_io_handler {
	u64 base;
	u64 len;
	kvm_io_fn fn;
	void *opaque;
};

struct kvm_ram_range {
	u64 gpa;
	u64 size;
	u64 fd_offset;		/* offset of gpa in the RAM memfd */
	u8 *hva;
};

struct kvm_vm_config {
	u64 mem_size;		/* bytes of guest RAM */
	bool hugetlb;		/* back RAM with hugetlbfs pages (MFD_HUGETLB) */
	bool pit;		/* an in-kernel i8254 PIT (KVM_CREATE_PIT2), as PCs have */
};

struct kvm_vm {
	int sys_fd;		/* /dev/kvm */
	int vm_fd;
	int vcpu_mmap_size;
	/* guest RAM: one memfd, mapped once, split into ranges around the MMIO hole */
	int ram_fd;
	u8 *ram;
	u64 ram_size;
	unsigned int nr_ram;
	struct kvm_ram_range ram_ranges[KVM_MAX_RAM_RANGES];
	/* exit handlers, called with io_lock held (vCPUs exit concurrently) */
	pthread_mutex_t io_lock;
	unsigned int nr_pio, nr_mmio;
	struct kvm_io_handler pio[KVM_MAX_IO_HANDLERS];
	struct kvm_io_handler mmio[KVM_MAX_IO_HANDLERS];
	/* MSI routes (GSI KVM_FIRST_MSI_GSI + i), pushed with KVM_SET_GSI_ROUTING */
	pthread_mutex_t route_lock;
	unsigned int nr_msi;
	struct {
		bool used;
		u64 addr;
		u32 data;
	} msi[KVM_MAX_MSI_ROUTES];
	/* vCPUs, so a stop request can kick them out of KVM_RUN */
	struct kvm_vcpu *vcpus[KVM_MAX_VCPUS];
	/* stop request: set by a handler (debug exit), a fault, or another thread */
	volatile int stop;
	int exit_status;
	char err[256];
};

/*
 * Open /dev/kvm and check the API version and every capability vioplane needs.
 * On failure fills @err (naming the missing capability) and returns -errno:
 * -ENOENT/-EACCES (cannot open), -ENODEV (not KVM: the API version ioctl
 * fails), -EPROTO (API version), -ENOTSUP (capability).
 */
int kvm_system_open(int *sys_fd, char *err, size_t errlen);

/* Create a VM with guest RAM, the in-kernel irqchip and the TSS/identity areas. */
int kvm_vm_create(struct kvm_vm *vm, const struct kvm_vm_config *cfg);
void kvm_vm_destroy(struct kvm_vm *vm);

/* Host pointer for guest-physical [gpa, gpa+len) if it lies in one RAM range. */
void *kvm_vm_gpa_to_hva(struct kvm_vm *vm, u64 gpa, u64 len);
/* Describe guest RAM as a vq_mem table (hva = uaddr = our mapping, fd = memfd). */
void kvm_vm_mem_table(const struct kvm_vm *vm, struct vq_mem *mem);

int kvm_vm_add_pio(struct kvm_vm *vm, u16 port, u16 len, kvm_io_fn fn, void *opaque);
int kvm_vm_add_mmio(struct kvm_vm *vm, u64 gpa, u64 len, kvm_io_fn fn, void *opaque);

/* ioeventfd: a guest write of @len bytes at @addr (PIO port when @pio) signals @fd. */
int kvm_ioeventfd_add(struct kvm_vm *vm, u64 addr, u32 len, bool pio, int fd);
int kvm_ioeventfd_del(struct kvm_vm *vm, u64 addr, u32 len, bool pio, int fd);

/* MSI routing: allocate a GSI routed to (addr, data), change it, free it. */
int kvm_msi_route_add(struct kvm_vm *vm, u64 addr, u32 data);	/* returns gsi */
int kvm_msi_route_set(struct kvm_vm *vm, int gsi, u64 addr, u32 data);
int kvm_msi_route_del(struct kvm_vm *vm, int gsi);
/* irqfd: a write to @fd injects GSI @gsi inside KVM, without the VMM. */
int kvm_irqfd_add(struct kvm_vm *vm, int gsi, int fd);
int kvm_irqfd_del(struct kvm_vm *vm, int gsi, int fd);
/* Set the level of IOAPIC pin @gsi (0-23) from the VMM (legacy INTx). */
int kvm_irq_line(struct kvm_vm *vm, int gsi, bool level);
/* Inject one MSI from the VMM (the path used when irqfd is off). */
int kvm_signal_msi(struct kvm_vm *vm, u64 addr, u32 data);

/* Ask every vCPU run loop to return; the first status requested wins.  Safe
 * from any thread (running vCPUs are kicked with KVM_KICK_SIGNAL). */
void kvm_vm_request_stop(struct kvm_vm *vm, int status);

/* --- vCPU ---------------------------------------------------------------- */

enum kvm_vcpu_result {
	KVM_VCPU_STOPPED = 0,	/* kvm_vm_request_stop() was called */
	KVM_VCPU_GUEST_FAULT,	/* triple fault, internal error, failed entry */
	KVM_VCPU_HOST_ERROR,	/* an ioctl failed */
};

struct kvm_exit_counts {
	u64 pio;
	u64 mmio;
	u64 other;
};

struct kvm_vcpu {
	struct kvm_vm *vm;
	int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_started;
	enum kvm_vcpu_result result;
	struct kvm_exit_counts exits;
	char err[256];		/* what went wrong, for GUEST_FAULT and HOST_ERROR */
};

int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vcpu, int id);
void kvm_vcpu_destroy(struct kvm_vcpu *vcpu);

struct kvm_x86_boot {
	u64 gdt_gpa;		/* null, then a flat code64 and a flat data descriptor */
	u16 cs, ds;		/* their selectors: 0 = 0x08 and 0x10; Linux wants 0x10, 0x18 */
	u64 page_tables_gpa;	/* PML4, PDPT, then one page directory per GiB */
	u64 ident_map_bytes;	/* identity-mapped with 2 MiB pages, multiple of 1 GiB, <= 512 GiB */
	u64 rip, rsp, rdi, rsi;
};

/* Guest RAM the page tables of @b need, from page_tables_gpa. */
u64 kvm_x86_page_tables_size(const struct kvm_x86_boot *b);

/*
 * x86-64 boot state: write the boot GDT and identity page tables into guest RAM,
 * then put the vCPU in 64-bit mode at CPL0 at b->rip with RDI and RSP as given,
 * CR4 = PAE|OSFXSR|OSXMMEXCPT, supported CPUID, LAPIC software-enabled.
 */
int kvm_vcpu_setup_long_mode(struct kvm_vcpu *vcpu, const struct kvm_x86_boot *b);

/* Run until stopped or a fault; on the calling thread. */
enum kvm_vcpu_result kvm_vcpu_run(struct kvm_vcpu *vcpu);
/* Same on a new thread; kvm_vcpu_join() waits for it. */
int kvm_vcpu_start(struct kvm_vcpu *vcpu);
enum kvm_vcpu_result kvm_vcpu_join(struct kvm_vcpu *vcpu);
/* The guest TSC frequency in kHz, or -errno. */
int kvm_vcpu_tsc_khz(struct kvm_vcpu *vcpu);
/* Make the vCPU leave KVM_RUN soon (it then checks vm->stop). Any thread. */
void kvm_vcpu_kick(struct kvm_vcpu *vcpu);

#endif
