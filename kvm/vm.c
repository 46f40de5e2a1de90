// SPDX-License-Identifier: MIT
/*
 * A KVM VM: guest RAM over a memfd, the in-kernel irqchip, exit handlers,
 * ioeventfds, irqfds and MSI routing.
 */
#include <errno.h>
#include <stdint.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "internal.h"

/* Where guest RAM stops below 4 GiB, and where the rest goes. */
#define LOW_RAM_TOP	0xC0000000ULL
#define HIGH_RAM_BASE	0x100000000ULL
/* TSS and identity-map pages KVM needs on Intel, just under the LAPIC/IOAPIC. */
#define KVM_TSS_GPA	0xFFFBD000ULL
#define KVM_IDMAP_GPA	0xFFFBC000ULL

static int vm_setup_ram(struct kvm_vm *vm, const struct kvm_vm_config *cfg)
{
	u64 low, high;
	unsigned int i;
	int ret;

	vm->ram_fd = memfd_create("vioplane-guest-ram", MFD_CLOEXEC | MFD_ALLOW_SEALING |
				  (cfg->hugetlb ? MFD_HUGETLB : 0));
	if (vm->ram_fd < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "memfd_create%s: %s", cfg->hugetlb ? " (hugetlb)" : "",
			   strerror(errno));
		return ret;
	}
	if (ftruncate(vm->ram_fd, (off_t)cfg->mem_size) < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "cannot size guest RAM to %llu bytes: %s",
			   (unsigned long long)cfg->mem_size, strerror(errno));
		return ret;
	}
	/*
	 * The fd goes to every vhost-user back-end (SET_MEM_TABLE).  Sealed, a
	 * back-end cannot shrink guest RAM under us (our next access would be
	 * SIGBUS, KVM's an -EFAULT from KVM_RUN) nor grow it: SECURITY.md 18.
	 */
	if (fcntl(vm->ram_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "cannot seal guest RAM against resizing: %s", strerror(errno));
		return ret;
	}
	/*
	 * Huge pages are reserved at mmap time (no MAP_NORESERVE): too few free
	 * ones is an error here, not a SIGBUS at the first touch of the guest.
	 */
	vm->ram = mmap(NULL, cfg->mem_size, PROT_READ | PROT_WRITE,
		       MAP_SHARED | (cfg->hugetlb ? 0 : MAP_NORESERVE), vm->ram_fd, 0);
	if (vm->ram == MAP_FAILED && cfg->hugetlb && errno == ENOMEM) {
		ret = -ENOMEM;
		vm->ram = NULL;
		kvm_seterr(vm->err, "not enough free huge pages for %llu MiB of guest RAM "
			   "(see HugePages_Free in /proc/meminfo; reserve more in "
			   "/proc/sys/vm/nr_hugepages)",
			   (unsigned long long)(cfg->mem_size >> 20));
		return ret;
	}
	if (vm->ram == MAP_FAILED) {
		ret = -errno;
		vm->ram = NULL;
		kvm_seterr(vm->err, "cannot map %llu bytes of guest RAM: %s",
			   (unsigned long long)cfg->mem_size, strerror(errno));
		return ret;
	}
	vm->ram_size = cfg->mem_size;
	/* Guests must not share pages with KSM-style merging or dump into cores. */
	madvise(vm->ram, vm->ram_size, MADV_DONTDUMP);

	low = cfg->mem_size < LOW_RAM_TOP ? cfg->mem_size : LOW_RAM_TOP;
	high = cfg->mem_size - low;
	vm->ram_ranges[0] = (struct kvm_ram_range){
		.gpa = 0, .size = low, .fd_offset = 0, .hva = vm->ram };
	vm->nr_ram = 1;
	if (high) {
		vm->ram_ranges[1] = (struct kvm_ram_range){
			.gpa = HIGH_RAM_BASE, .size = high, .fd_offset = low,
			.hva = vm->ram + low };
		vm->nr_ram = 2;
	}
	for (i = 0; i < vm->nr_ram; i++) {
		struct kvm_userspace_memory_region r = {
			.slot = i,
			.guest_phys_addr = vm->ram_ranges[i].gpa,
			.memory_size = vm->ram_ranges[i].size,
			.userspace_addr = (u64)(uintptr_t)vm->ram_ranges[i].hva,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r) < 0) {
			ret = -errno;
			kvm_seterr(vm->err, "KVM_SET_USER_MEMORY_REGION: %s", strerror(errno));
			return ret;
		}
	}
	return 0;
}

static int vm_push_routes(struct kvm_vm *vm);

int kvm_vm_create(struct kvm_vm *vm, const struct kvm_vm_config *cfg)
{
	u64 idmap = KVM_IDMAP_GPA;
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->sys_fd = vm->vm_fd = vm->ram_fd = -1;
	pthread_mutex_init(&vm->route_lock, NULL);
	pthread_mutex_init(&vm->io_lock, NULL);

	ret = kvm_system_open(&vm->sys_fd, vm->err, sizeof(vm->err));
	if (ret)
		return ret;
	vm->vcpu_mmap_size = ioctl(vm->sys_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->vcpu_mmap_size <= 0) {
		ret = -errno;
		kvm_seterr(vm->err, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		goto fail;
	}
	vm->vm_fd = ioctl(vm->sys_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "KVM_CREATE_VM: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA) < 0 ||
	    ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "KVM_SET_TSS_ADDR/IDENTITY_MAP_ADDR: %s", strerror(errno));
		goto fail;
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0) {
		ret = -errno;
		kvm_seterr(vm->err, "KVM_CREATE_IRQCHIP: %s", strerror(errno));
		goto fail;
	}
	if (cfg->pit) {
		struct kvm_pit_config pit = { .flags = KVM_PIT_SPEAKER_DUMMY };

		if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0) {
			ret = -errno;
			kvm_seterr(vm->err, "KVM_CREATE_PIT2: %s", strerror(errno));
			goto fail;
		}
	}
	ret = vm_setup_ram(vm, cfg);
	if (ret)
		goto fail;
	/* Install our routing table now (IOAPIC pins), so later MSI routes extend it. */
	ret = vm_push_routes(vm);
	if (ret)
		goto fail;
	return 0;
fail:
	kvm_vm_destroy(vm);
	return ret;
}

void kvm_vm_destroy(struct kvm_vm *vm)
{
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	if (vm->ram_fd >= 0)
		close(vm->ram_fd);
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	vm->ram = NULL;
	vm->ram_fd = vm->vm_fd = vm->sys_fd = -1;
	pthread_mutex_destroy(&vm->route_lock);
	pthread_mutex_destroy(&vm->io_lock);
}

void *kvm_vm_gpa_to_hva(struct kvm_vm *vm, u64 gpa, u64 len)
{
	unsigned int i;

	for (i = 0; i < vm->nr_ram; i++) {
		const struct kvm_ram_range *r = &vm->ram_ranges[i];

		if (gpa >= r->gpa && gpa - r->gpa <= r->size &&
		    len <= r->size - (gpa - r->gpa))
			return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

void kvm_vm_mem_table(const struct kvm_vm *vm, struct vq_mem *mem)
{
	unsigned int i;

	memset(mem, 0, sizeof(*mem));
	for (i = 0; i < vm->nr_ram; i++) {
		const struct kvm_ram_range *r = &vm->ram_ranges[i];

		mem->regions[i] = (struct vq_mem_region){
			.gpa = r->gpa,
			.size = r->size,
			.hva = (u64)(uintptr_t)r->hva,
			.uaddr = (u64)(uintptr_t)r->hva,
			.mmap_offset = r->fd_offset,
			.fd = vm->ram_fd,
		};
	}
	mem->nr = vm->nr_ram;
}

static int add_handler(struct kvm_io_handler *tab, unsigned int *nr, u64 base, u64 len,
		       kvm_io_fn fn, void *opaque)
{
	unsigned int i;

	if (!len || base + len < base)
		return -EINVAL;
	if (*nr >= KVM_MAX_IO_HANDLERS)
		return -ENOSPC;
	for (i = 0; i < *nr; i++)
		if (base < tab[i].base + tab[i].len && tab[i].base < base + len)
			return -EEXIST;
	tab[(*nr)++] = (struct kvm_io_handler){ base, len, fn, opaque };
	return 0;
}

int kvm_vm_add_pio(struct kvm_vm *vm, u16 port, u16 len, kvm_io_fn fn, void *opaque)
{
	return add_handler(vm->pio, &vm->nr_pio, port, len, fn, opaque);
}

int kvm_vm_add_mmio(struct kvm_vm *vm, u64 gpa, u64 len, kvm_io_fn fn, void *opaque)
{
	return add_handler(vm->mmio, &vm->nr_mmio, gpa, len, fn, opaque);
}

static int ioeventfd(struct kvm_vm *vm, u64 addr, u32 len, bool pio, int fd, bool del)
{
	struct kvm_ioeventfd io = {
		.addr = addr,
		.len = len,
		.fd = fd,
		.flags = (pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
			 (del ? KVM_IOEVENTFD_FLAG_DEASSIGN : 0),
	};

	return ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 ? -errno : 0;
}

int kvm_ioeventfd_add(struct kvm_vm *vm, u64 addr, u32 len, bool pio, int fd)
{
	return ioeventfd(vm, addr, len, pio, fd, false);
}

int kvm_ioeventfd_del(struct kvm_vm *vm, u64 addr, u32 len, bool pio, int fd)
{
	return ioeventfd(vm, addr, len, pio, fd, true);
}

/*
 * KVM_SET_GSI_ROUTING replaces the whole table, so it always carries the PIC
 * and IOAPIC pins (GSI 0-15 and 0-23) as well as every MSI route.  Called with route_lock held (or
 * before any other thread exists).
 */
static int vm_push_routes(struct kvm_vm *vm)
{
	struct kvm_irq_routing *rt;
	unsigned int i, n = 0;
	int ret = 0;

	rt = calloc(1, sizeof(*rt) + (16 + KVM_FIRST_MSI_GSI + KVM_MAX_MSI_ROUTES) *
			       sizeof(struct kvm_irq_routing_entry));
	if (!rt)
		return -ENOMEM;
	/* ISA IRQs 0-15 also reach the 8259 pair, as in KVM's default table. */
	for (i = 0; i < 16; i++) {
		rt->entries[n].gsi = i;
		rt->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[n].u.irqchip.irqchip = i < 8 ? KVM_IRQCHIP_PIC_MASTER
							  : KVM_IRQCHIP_PIC_SLAVE;
		rt->entries[n].u.irqchip.pin = i % 8;
		n++;
	}
	for (i = 0; i < KVM_FIRST_MSI_GSI; i++) {
		rt->entries[n].gsi = i;
		rt->entries[n].type = KVM_IRQ_ROUTING_IRQCHIP;
		rt->entries[n].u.irqchip.irqchip = KVM_IRQCHIP_IOAPIC;
		rt->entries[n].u.irqchip.pin = i;
		n++;
	}
	for (i = 0; i < vm->nr_msi; i++) {
		if (!vm->msi[i].used)
			continue;
		rt->entries[n].gsi = KVM_FIRST_MSI_GSI + i;
		rt->entries[n].type = KVM_IRQ_ROUTING_MSI;
		rt->entries[n].u.msi.address_lo = (u32)vm->msi[i].addr;
		rt->entries[n].u.msi.address_hi = (u32)(vm->msi[i].addr >> 32);
		rt->entries[n].u.msi.data = vm->msi[i].data;
		n++;
	}
	rt->nr = n;
	if (ioctl(vm->vm_fd, KVM_SET_GSI_ROUTING, rt) < 0)
		ret = -errno;
	free(rt);
	return ret;
}

int kvm_msi_route_add(struct kvm_vm *vm, u64 addr, u32 data)
{
	unsigned int i;
	int ret;

	pthread_mutex_lock(&vm->route_lock);
	for (i = 0; i < KVM_MAX_MSI_ROUTES && vm->msi[i].used; i++)
		;
	if (i == KVM_MAX_MSI_ROUTES) {
		pthread_mutex_unlock(&vm->route_lock);
		return -ENOSPC;
	}
	vm->msi[i].used = true;
	vm->msi[i].addr = addr;
	vm->msi[i].data = data;
	if (i >= vm->nr_msi)
		vm->nr_msi = i + 1;
	ret = vm_push_routes(vm);
	if (ret)
		vm->msi[i].used = false;
	pthread_mutex_unlock(&vm->route_lock);
	return ret ? ret : (int)(KVM_FIRST_MSI_GSI + i);
}

static int msi_index(struct kvm_vm *vm, int gsi)
{
	int i = gsi - KVM_FIRST_MSI_GSI;

	if (i < 0 || i >= (int)vm->nr_msi || !vm->msi[i].used)
		return -EINVAL;
	return i;
}

int kvm_msi_route_set(struct kvm_vm *vm, int gsi, u64 addr, u32 data)
{
	int i, ret;

	pthread_mutex_lock(&vm->route_lock);
	i = msi_index(vm, gsi);
	if (i < 0) {
		pthread_mutex_unlock(&vm->route_lock);
		return i;
	}
	if (vm->msi[i].addr == addr && vm->msi[i].data == data) {
		pthread_mutex_unlock(&vm->route_lock);
		return 0;
	}
	vm->msi[i].addr = addr;
	vm->msi[i].data = data;
	ret = vm_push_routes(vm);
	pthread_mutex_unlock(&vm->route_lock);
	return ret;
}

int kvm_msi_route_del(struct kvm_vm *vm, int gsi)
{
	int i, ret;

	pthread_mutex_lock(&vm->route_lock);
	i = msi_index(vm, gsi);
	if (i < 0) {
		pthread_mutex_unlock(&vm->route_lock);
		return i;
	}
	vm->msi[i].used = false;
	ret = vm_push_routes(vm);
	pthread_mutex_unlock(&vm->route_lock);
	return ret;
}

int kvm_irqfd_add(struct kvm_vm *vm, int gsi, int fd)
{
	struct kvm_irqfd f = { .fd = (u32)fd, .gsi = (u32)gsi };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_irqfd_del(struct kvm_vm *vm, int gsi, int fd)
{
	struct kvm_irqfd f = { .fd = (u32)fd, .gsi = (u32)gsi, .flags = KVM_IRQFD_FLAG_DEASSIGN };

	return ioctl(vm->vm_fd, KVM_IRQFD, &f) < 0 ? -errno : 0;
}

int kvm_irq_line(struct kvm_vm *vm, int gsi, bool level)
{
	struct kvm_irq_level l = { .irq = (u32)gsi, .level = level };

	return ioctl(vm->vm_fd, KVM_IRQ_LINE, &l) < 0 ? -errno : 0;
}

int kvm_signal_msi(struct kvm_vm *vm, u64 addr, u32 data)
{
	struct kvm_msi msi = {
		.address_lo = (u32)addr,
		.address_hi = (u32)(addr >> 32),
		.data = data,
	};
	int ret = ioctl(vm->vm_fd, KVM_SIGNAL_MSI, &msi);

	/* 0 means the interrupt was blocked (e.g. LAPIC disabled): not an error. */
	return ret < 0 ? -errno : 0;
}

void kvm_vm_request_stop(struct kvm_vm *vm, int status)
{
	unsigned int i;

	if (__atomic_exchange_n(&vm->stop, 1, __ATOMIC_SEQ_CST) != 0)
		return;
	vm->exit_status = status;
	for (i = 0; i < KVM_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			kvm_vcpu_kick(vm->vcpus[i]);
}
