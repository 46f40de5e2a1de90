// SPDX-License-Identifier: MIT
/*
 * /dev/kvm: API version and the capabilities vioplane relies on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "internal.h"

static const struct {
	int cap;
	const char *name;
} required_caps[] = {
	{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
	{ KVM_CAP_SET_TSS_ADDR, "KVM_CAP_SET_TSS_ADDR" },
	{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
	{ KVM_CAP_IRQCHIP, "KVM_CAP_IRQCHIP" },
	{ KVM_CAP_IRQ_ROUTING, "KVM_CAP_IRQ_ROUTING" },
	{ KVM_CAP_IOEVENTFD, "KVM_CAP_IOEVENTFD" },
	{ KVM_CAP_IRQFD, "KVM_CAP_IRQFD" },
	{ KVM_CAP_SIGNAL_MSI, "KVM_CAP_SIGNAL_MSI" },
};

int kvm_system_open(int *sys_fd, char *err, size_t errlen)
{
	int fd, ret;
	size_t i;

	fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "cannot open /dev/kvm: %s", strerror(errno));
		return ret;
	}
	ret = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (ret < 0) {
		/* A regular file or another driver's node under that name. */
		snprintf(err, errlen, "/dev/kvm is not the KVM device (KVM_GET_API_VERSION: %s)",
			 strerror(errno));
		close(fd);
		return -ENODEV;
	}
	if (ret != KVM_API_VERSION) {
		snprintf(err, errlen, "/dev/kvm API version %d, need %d", ret, KVM_API_VERSION);
		close(fd);
		return -EPROTO;
	}
	for (i = 0; i < ARRAY_SIZE(required_caps); i++) {
		if (ioctl(fd, KVM_CHECK_EXTENSION, required_caps[i].cap) <= 0) {
			snprintf(err, errlen, "/dev/kvm lacks required capability %s",
				 required_caps[i].name);
			close(fd);
			return -ENOTSUP;
		}
	}
	*sys_fd = fd;
	return 0;
}
