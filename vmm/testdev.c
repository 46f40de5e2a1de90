// SPDX-License-Identifier: MIT
/*
 * The debug-exit port (a guest write of V ends vmm with status V & 0xff) and the
 * notification test device used by perf/exits: doorbells that an ioeventfd
 * absorbs inside KVM (PIO and MMIO) and one that exits to vmm, each counted.
 */
#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <kvm/kvm.h>
#include <vmm/guest_abi.h>
#include "vmm.h"

static void debug_exit_io(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_testdev *t = opaque;
	u32 v = 0;

	(void)off;
	if (!is_write) {
		memset(data, 0xff, len);
		return;
	}
	memcpy(&v, data, len < 4 ? len : 4);
	kvm_vm_request_stop(t->vm, (int)(v & 0xff));
}

static void testdev_pio(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_testdev *t = opaque;

	(void)off;
	if (is_write)
		t->pio_exits++;	/* not the 4-byte write the ioeventfd matches */
	else
		memset(data, 0, len);
}

static void testdev_mmio(void *opaque, u64 off, void *data, u32 len, bool is_write)
{
	struct vmm_testdev *t = opaque;

	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (off == VP_TESTDEV_MMIO_EXIT)
		t->mmio_exits++;
}

int vmm_testdev_init(struct vmm_testdev *t, struct kvm_vm *vm)
{
	int ret;

	*t = (struct vmm_testdev){ .vm = vm, .pio_efd = -1, .mmio_efd = -1 };
	ret = kvm_vm_add_pio(vm, VP_PORT_DEBUG_EXIT, 4, debug_exit_io, t);
	if (!ret)
		ret = kvm_vm_add_pio(vm, VP_PORT_TESTDEV, 4, testdev_pio, t);
	if (!ret)
		ret = kvm_vm_add_mmio(vm, VP_TESTDEV_MMIO, 4096, testdev_mmio, t);
	if (ret)
		return ret;
	t->pio_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	t->mmio_efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (t->pio_efd < 0 || t->mmio_efd < 0)
		return -errno;
	ret = kvm_ioeventfd_add(vm, VP_PORT_TESTDEV, 4, true, t->pio_efd);
	if (!ret)
		ret = kvm_ioeventfd_add(vm, VP_TESTDEV_MMIO + VP_TESTDEV_MMIO_EVENTFD, 4, false,
					t->mmio_efd);
	return ret;
}

static u64 drain(int fd)
{
	u64 v = 0;

	if (fd < 0 || read(fd, &v, sizeof(v)) != sizeof(v))
		return 0;
	return v;
}

void vmm_testdev_counts(struct vmm_testdev *t, u64 *pio_efd, u64 *mmio_efd)
{
	*pio_efd = drain(t->pio_efd);
	*mmio_efd = drain(t->mmio_efd);
}

void vmm_testdev_destroy(struct vmm_testdev *t)
{
	if (t->pio_efd >= 0)
		close(t->pio_efd);
	if (t->mmio_efd >= 0)
		close(t->mmio_efd);
	t->pio_efd = t->mmio_efd = -1;
}
