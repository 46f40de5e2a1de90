// SPDX-License-Identifier: MIT
/*
 * vmm: a thin VMM on /dev/kvm.  Boots a bare ELF64 guest (see
 * vmm/include/vmm/guest_abi.h for the contract) or a Linux bzImage (vmm/linux.c)
 * with a serial port, a debug-exit port, the notification test device, the PC
 * legacy bits Linux probes (vmm/pc.c) and virtio-pci devices.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <kvm/kvm.h>
#include <vmm/guest_abi.h>
#include "devices.h"
#include "evloop.h"
#include "pci.h"
#include "virtio_pci.h"
#include "vmm.h"

#define VMM_IMAGE_MAX	(1ULL << 30)

static void __attribute__((noreturn, format(printf, 2, 3))) die(int status, const char *fmt, ...)
{
	va_list ap;

	fputs("vmm: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(status);
}

/* A terminal on stdin went raw for the guest: give it back on every exit. */
static struct vmm_serial *tty_serial;

static void restore_tty(void)
{
	if (tty_serial)
		vmm_serial_restore_tty(tty_serial);
}

/* Read a whole file named on the command line; every failure is a one-line error. */
static void *read_file(const char *what, const char *path, size_t *len)
{
	struct stat st;
	size_t off = 0;
	char *buf;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die(1, "cannot open %s '%s': %s", what, path, strerror(errno));
	if (fstat(fd, &st) < 0)
		die(1, "cannot stat %s '%s': %s", what, path, strerror(errno));
	if (!S_ISREG(st.st_mode))
		die(1, "%s '%s' is not a regular file", what, path);
	if ((u64)st.st_size > VMM_IMAGE_MAX)
		die(1, "%s '%s' is larger than %lluM", what, path, VMM_IMAGE_MAX >> 20);
	buf = malloc(st.st_size ? st.st_size : 1);
	if (!buf)
		die(1, "out of memory reading '%s'", path);
	while (off < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + off, st.st_size - off);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die(1, "cannot read %s '%s': %s", what, path, strerror(errno));
		if (n == 0)
			break;
		off += n;
	}
	close(fd);
	*len = off;
	return buf;
}

struct vmm {
	struct vmm_opts opts;
	struct kvm_vm vm;
	struct kvm_vcpu vcpu[VMM_MAX_CPUS];
	struct vmm_serial serial;
	struct vmm_testdev testdev;
	struct vmm_pc pc;
	struct vmm_evloop ev;
	struct vmm_pci_bus bus;
	struct vmm_virtio_host host;
	struct vmm_devices devs;
};

static void load_guest(struct vmm *v, const void *image, const struct vmm_elf *elf)
{
	struct vp_boot_info *bi;
	struct vmm_ram_layout l;
	unsigned int i;
	char *cmd;

	for (i = 0; i < elf->nr_segments; i++) {
		const struct vmm_elf_segment *s = &elf->seg[i];
		u8 *dst = kvm_vm_gpa_to_hva(&v->vm, s->gpa, s->memsz);

		if (!dst)	/* vmm_elf_parse() checked this against the same layout */
			die(1, "internal error: segment 0x%llx not in RAM",
			    (unsigned long long)s->gpa);
		memcpy(dst, (const u8 *)image + s->file_offset, s->filesz);
		memset(dst + s->filesz, 0, s->memsz - s->filesz);
	}

	cmd = kvm_vm_gpa_to_hva(&v->vm, VP_CMDLINE_GPA, VP_CMDLINE_MAX + 1);
	bi = kvm_vm_gpa_to_hva(&v->vm, VP_BOOT_INFO_GPA, sizeof(*bi));
	memset(cmd, 0, VP_CMDLINE_MAX + 1);
	strcpy(cmd, v->opts.cmdline);	/* length checked by vmm_opts_parse() */

	vmm_ram_layout(v->opts.mem, &l);
	memset(bi, 0, sizeof(*bi));
	bi->magic = VP_BOOT_MAGIC;
	bi->version = VP_BOOT_VERSION;
	bi->mem_size = v->opts.mem;
	bi->cmdline_gpa = VP_CMDLINE_GPA;
	bi->cmdline_len = strlen(v->opts.cmdline);
	bi->nr_cpus = v->opts.cpus;
	bi->nr_mem = l.nr;
	for (i = 0; i < l.nr; i++) {
		bi->mem[i].gpa = l.range[i].gpa;
		bi->mem[i].size = l.range[i].size;
	}
}

static void print_stats(struct vmm *v)
{
	u64 pio_efd, mmio_efd, pio = 0, mmio = 0, other = 0;

	for (unsigned int i = 0; i < v->opts.cpus; i++) {
		pio += v->vcpu[i].exits.pio;
		mmio += v->vcpu[i].exits.mmio;
		other += v->vcpu[i].exits.other;
	}
	vmm_testdev_counts(&v->testdev, &pio_efd, &mmio_efd);
	fprintf(stderr,
		"{\"vmm\":\"stats\",\"exits\":{\"pio\":%llu,\"mmio\":%llu,\"other\":%llu},"
		"\"testdev\":{\"pio_ioeventfd\":%llu,\"mmio_ioeventfd\":%llu,"
		"\"mmio_exit\":%llu,\"pio_exit\":%llu},"
		"\"platform\":{\"resets\":%llu,\"poweroffs\":%llu}",
		(unsigned long long)pio, (unsigned long long)mmio,
		(unsigned long long)other, (unsigned long long)pio_efd,
		(unsigned long long)mmio_efd, (unsigned long long)v->testdev.mmio_exits,
		(unsigned long long)v->testdev.pio_exits, (unsigned long long)v->pc.resets,
		(unsigned long long)v->pc.poweroffs);
	vmm_devices_stats_json(&v->devs, stderr);
	fputs("}\n", stderr);
}

/* SIGINT/SIGTERM/SIGHUP stop the guest; vmm then exits 128+signal. */
static void *signal_thread(void *arg)
{
	struct vmm *v = arg;
	sigset_t set;
	int sig;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	if (sigwait(&set, &sig) == 0)
		kvm_vm_request_stop(&v->vm, 128 + sig);
	return NULL;
}

int main(int argc, char **argv)
{
	static struct vmm v;
	struct vmm_ram_layout layout;
	struct vmm_elf elf;
	struct vmm_linux lk;
	struct vmm_linux_entry lentry;
	struct kvm_x86_boot boot;
	enum kvm_vcpu_result res = KVM_VCPU_STOPPED;
	struct kvm_vcpu *failed = NULL;
	unsigned int i;
	pthread_t sigthr;
	sigset_t set;
	size_t image_len, initrd_len = 0;
	void *image, *initrd = NULL;
	bool linux_guest;
	char err[256];
	int ret;

	switch (vmm_opts_parse(argc, argv, &v.opts, err, sizeof(err))) {
	case VMM_OPTS_RUN:
		break;
	case VMM_OPTS_EXIT_OK:
		return 0;
	case VMM_OPTS_ERROR:
		die(1, "%s", err);
	}

	/* Everything about the image is checked before /dev/kvm is opened. */
	image = read_file("kernel", v.opts.kernel, &image_len);
	vmm_ram_layout(v.opts.mem, &layout);
	linux_guest = vmm_linux_is_kernel(image, image_len);
	if (linux_guest) {
		if (vmm_linux_parse(image, image_len, &lk, err, sizeof(err)))
			die(1, "%s: %s", v.opts.kernel, err);
		if (v.opts.initrd)
			initrd = read_file("initrd", v.opts.initrd, &initrd_len);
		if (vmm_linux_plan(&lk, initrd_len, v.opts.cmdline, &layout, &lentry.initrd_gpa,
				   err, sizeof(err)))
			die(1, "%s: %s", v.opts.kernel, err);
	} else {
		if (vmm_elf_parse(image, image_len, &layout, 0, &elf, err, sizeof(err)))
			die(1, "%s: %s (nor a Linux kernel)", v.opts.kernel, err);
		if (v.opts.initrd)
			die(1, "--initrd needs a Linux kernel; '%s' is a bare ELF guest",
			    v.opts.kernel);
	}

	/* Signals go to the signal thread only; vCPU threads unblock their kick. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_BLOCK, &set, NULL);

	ret = kvm_vm_create(&v.vm, &(struct kvm_vm_config){
		.mem_size = v.opts.mem, .hugetlb = v.opts.hugetlb, .pit = linux_guest });
	if (ret)
		die(1, "%s", v.vm.err);
	if (linux_guest) {
		u8 *low = kvm_vm_gpa_to_hva(&v.vm, 0, layout.range[0].size);

		if (!low || vmm_linux_load(image, &lk, initrd, initrd_len, v.opts.cmdline,
					   &layout, low, &lentry, err, sizeof(err)))
			die(1, "%s: %s", v.opts.kernel, low ? err : "low RAM not mapped");
	} else {
		load_guest(&v, image, &elf);
	}
	free(image);
	free(initrd);

	if (vmm_serial_init(&v.serial, &v.vm, STDOUT_FILENO) ||
	    vmm_testdev_init(&v.testdev, &v.vm) || vmm_pc_init(&v.pc, &v.vm))
		die(1, "cannot set up the platform devices");

	/* A back-end that goes away must not kill vmm with SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	if (vmm_evloop_init(&v.ev) || vmm_pci_bus_init(&v.bus, &v.vm))
		die(1, "cannot set up the I/O thread and PCI bus");
	v.host = (struct vmm_virtio_host){
		.vm = &v.vm, .ev = &v.ev, .bus = &v.bus,
		.use_ioeventfd = !v.opts.no_ioeventfd, .use_irqfd = !v.opts.no_irqfd,
	};
	if (vmm_devices_create(&v.devs, &v.host, &v.opts, err, sizeof(err)))
		die(1, "%s", err);
	if (vmm_evloop_start(&v.ev))
		die(1, "cannot start the I/O thread");
	/* The guest's serial input: vmm's stdin (a terminal goes raw until exit). */
	ret = vmm_serial_attach_input(&v.serial, &v.ev, STDIN_FILENO);
	if (ret)
		die(1, "cannot take serial input from stdin: %s", strerror(-ret));
	tty_serial = &v.serial;
	atexit(restore_tty);

	/* vCPU 0 boots; with an in-kernel LAPIC the others wait in KVM for INIT/SIPI. */
	for (i = 0; i < v.opts.cpus; i++)
		if (kvm_vcpu_create(&v.vm, &v.vcpu[i], (int)i))
			die(1, "vCPU %u: %s", i, v.vcpu[i].err);
	if (linux_guest) {
		u8 *low = kvm_vm_gpa_to_hva(&v.vm, 0, layout.range[0].size);

		if (vmm_mptable_write(low, layout.range[0].size, v.opts.cpus))
			die(1, "guest RAM too small for the MP table");
		if (!v.opts.no_acpi && vmm_acpi_write(low, layout.range[0].size, v.opts.cpus))
			die(1, "guest RAM too small for the ACPI tables");
	}
	boot = (struct kvm_x86_boot){
		.gdt_gpa = VP_BOOT_GDT_GPA,
		.page_tables_gpa = VP_PAGE_TABLES_GPA,
		.ident_map_bytes = VP_IDENT_MAP_BYTES,
		.rip = elf.entry,
		.rsp = VP_BOOT_STACK_TOP,
		.rdi = VP_BOOT_INFO_GPA,
	};
	if (linux_guest) {
		/* Linux's 64-bit entry: __BOOT_CS 0x10, __BOOT_DS 0x18, RSI = zero page. */
		boot.cs = 0x10;
		boot.ds = 0x18;
		boot.rip = lentry.rip;
		boot.rsi = lentry.rsi;
		boot.rdi = 0;
	}
	if (kvm_vcpu_setup_long_mode(&v.vcpu[0], &boot))
		die(1, "%s", v.vcpu[0].err);
	if (!linux_guest) {
		int khz = kvm_vcpu_tsc_khz(&v.vcpu[0]);
		struct vp_boot_info *bi = kvm_vm_gpa_to_hva(&v.vm, VP_BOOT_INFO_GPA, sizeof(*bi));

		bi->tsc_khz = khz > 0 ? (u32)khz : 0;
	}

	if (pthread_create(&sigthr, NULL, signal_thread, &v) == 0)
		pthread_detach(sigthr);
	for (i = 0; i < v.opts.cpus; i++)
		if (kvm_vcpu_start(&v.vcpu[i]))
			die(1, "cannot start vCPU %u's thread", i);
	/* The first vCPU to stop for a reason other than a stop request says why. */
	for (i = 0; i < v.opts.cpus; i++) {
		enum kvm_vcpu_result r = kvm_vcpu_join(&v.vcpu[i]);

		if (r != KVM_VCPU_STOPPED && !failed) {
			failed = &v.vcpu[i];
			res = r;
		}
	}

	vmm_serial_flush(&v.serial);
	vmm_serial_detach_input(&v.serial);
	if (v.opts.stats)
		print_stats(&v);
	switch (res) {
	case KVM_VCPU_STOPPED:
		ret = v.vm.exit_status;
		break;
	case KVM_VCPU_GUEST_FAULT:
		fprintf(stderr, "vmm: guest fault: %s\n", failed->err);
		ret = 125;
		break;
	default:
		fprintf(stderr, "vmm: %s\n", failed->err);
		ret = 1;
		break;
	}
	vmm_evloop_stop(&v.ev);
	vmm_devices_destroy(&v.devs);
	for (i = 0; i < v.opts.cpus; i++)
		kvm_vcpu_destroy(&v.vcpu[i]);
	vmm_testdev_destroy(&v.testdev);
	kvm_vm_destroy(&v.vm);
	return ret;
}
