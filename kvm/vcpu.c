// SPDX-License-Identifier: MIT
/*
 * vCPUs: creation, the KVM_RUN loop and exit dispatch to PIO/MMIO handlers.
 *
 * Security model: exit data (ports, addresses, lengths) come from the guest.
 * KVM bounds io.size/mmio.len to at most 8 bytes and the data to the kvm_run
 * page; handlers are looked up by range with overflow-safe compares and get an
 * offset that is inside their range.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>
#include <linux/kvm.h>

#include "internal.h"

static void kick_handler(int sig)
{
	(void)sig;	/* only here to make KVM_RUN return -EINTR */
}

static int kick_handler_ret;

static void kick_handler_init(void)
{
	/* No SA_RESTART: the point is for KVM_RUN to come back with EINTR. */
	struct sigaction sa = { .sa_handler = kick_handler };

	sigemptyset(&sa.sa_mask);
	kick_handler_ret = sigaction(KVM_KICK_SIGNAL, &sa, NULL) < 0 ? -errno : 0;
}

static int install_kick_handler(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, kick_handler_init);
	return kick_handler_ret;
}

static int set_cpuid(struct kvm_vcpu *vcpu)
{
	struct kvm_cpuid2 *cpuid;
	int n = 128, ret;
	u32 i;

	for (;;) {
		cpuid = calloc(1, sizeof(*cpuid) + n * sizeof(struct kvm_cpuid_entry2));
		if (!cpuid)
			return -ENOMEM;
		cpuid->nent = n;
		if (ioctl(vcpu->vm->sys_fd, KVM_GET_SUPPORTED_CPUID, cpuid) == 0)
			break;
		ret = -errno;
		free(cpuid);
		if (ret != -E2BIG)
			return ret;
		n *= 2;
	}
	/*
	 * Tell the guest it runs under a hypervisor (CPUID.1:ECX bit 31), as every
	 * VMM does: KVM does not set it itself, and without it Linux ignores KVM's
	 * paravirtual leaves (kvmclock, which also gives it the TSC frequency).
	 */
	for (i = 0; i < cpuid->nent; i++) {
		struct kvm_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1) {
			e->ecx |= 1U << 31;
			/* initial APIC ID: the vCPU's id, as the MP table says */
			e->ebx = (e->ebx & 0x00ffffff) | (u32)vcpu->id << 24;
		} else if (e->function == 0xb || e->function == 0x1f) {
			e->edx = (u32)vcpu->id;		/* x2APIC ID */
		}
	}
	ret = ioctl(vcpu->fd, KVM_SET_CPUID2, cpuid) < 0 ? -errno : 0;
	free(cpuid);
	return ret;
}

int kvm_vcpu_create(struct kvm_vm *vm, struct kvm_vcpu *vcpu, int id)
{
	int ret;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->vm = vm;
	vcpu->id = id;
	if (id < 0 || id >= KVM_MAX_VCPUS || vm->vcpus[id])
		return -EINVAL;
	ret = install_kick_handler();
	if (ret)
		return ret;
	vcpu->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (vcpu->fd < 0) {
		ret = -errno;
		kvm_seterr(vcpu->err, "KVM_CREATE_VCPU: %s", strerror(errno));
		return ret;
	}
	vcpu->run = mmap(NULL, vm->vcpu_mmap_size, PROT_READ | PROT_WRITE, MAP_SHARED,
			 vcpu->fd, 0);
	if (vcpu->run == MAP_FAILED) {
		ret = -errno;
		vcpu->run = NULL;
		kvm_seterr(vcpu->err, "mmap kvm_run: %s", strerror(errno));
		goto fail;
	}
	ret = set_cpuid(vcpu);
	if (ret) {
		kvm_seterr(vcpu->err, "KVM_SET_CPUID2: %s", strerror(-ret));
		goto fail;
	}
	vm->vcpus[id] = vcpu;
	return 0;
fail:
	kvm_vcpu_destroy(vcpu);
	return ret;
}

void kvm_vcpu_destroy(struct kvm_vcpu *vcpu)
{
	if (vcpu->vm && vcpu->id >= 0 && vcpu->id < KVM_MAX_VCPUS &&
	    vcpu->vm->vcpus[vcpu->id] == vcpu)
		vcpu->vm->vcpus[vcpu->id] = NULL;
	if (vcpu->run)
		munmap(vcpu->run, vcpu->vm->vcpu_mmap_size);
	if (vcpu->fd > 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

static const struct kvm_io_handler *find_handler(const struct kvm_io_handler *tab,
						 unsigned int nr, u64 addr, u32 len)
{
	unsigned int i;

	for (i = 0; i < nr; i++)
		if (addr >= tab[i].base && addr - tab[i].base < tab[i].len &&
		    len <= tab[i].len - (addr - tab[i].base))
			return &tab[i];
	return NULL;
}

/*
 * One exit at a time, whichever vCPU took it: device models keep plain state
 * (a UART's buffer, an index register), and a guest can make its vCPUs hit
 * the same device at once.  Exits are the slow path; data paths never exit.
 */
static void dispatch(struct kvm_vm *vm, const struct kvm_io_handler *tab, unsigned int nr,
		     u64 addr, u8 *data, u32 len, bool is_write)
{
	const struct kvm_io_handler *h = find_handler(tab, nr, addr, len);

	if (h) {
		pthread_mutex_lock(&vm->io_lock);
		h->fn(h->opaque, addr - h->base, data, len, is_write);
		pthread_mutex_unlock(&vm->io_lock);
	} else if (!is_write) {
		/* Nothing there: reads float high, as on real hardware. */
		memset(data, 0xff, len);
	}
}

static enum kvm_vcpu_result guest_fault(struct kvm_vcpu *vcpu, const char *what)
{
	struct kvm_regs regs;

	if (ioctl(vcpu->fd, KVM_GET_REGS, &regs) == 0)
		kvm_seterr(vcpu->err, "%s at rip 0x%llx", what, (unsigned long long)regs.rip);
	else
		kvm_seterr(vcpu->err, "%s", what);
	return KVM_VCPU_GUEST_FAULT;
}

enum kvm_vcpu_result kvm_vcpu_run(struct kvm_vcpu *vcpu)
{
	struct kvm_vm *vm = vcpu->vm;
	struct kvm_run *run = vcpu->run;
	char what[128];
	u32 i;

	if (!vcpu->thread_started)
		vcpu->thread = pthread_self();
	for (;;) {
		if (READ_ONCE(vm->stop))
			return KVM_VCPU_STOPPED;
		if (ioctl(vcpu->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN) {
				WRITE_ONCE(run->immediate_exit, 0);
				continue;
			}
			kvm_seterr(vcpu->err, "KVM_RUN: %s", strerror(errno));
			return KVM_VCPU_HOST_ERROR;
		}
		switch (run->exit_reason) {
		case KVM_EXIT_IO: {
			u8 *data = (u8 *)run + run->io.data_offset;

			vcpu->exits.pio++;
			/* rep ins/outs: count items of io.size each, back to back. */
			for (i = 0; i < run->io.count; i++, data += run->io.size)
				dispatch(vm, vm->pio, vm->nr_pio, run->io.port, data, run->io.size,
					 run->io.direction == KVM_EXIT_IO_OUT);
			break;
		}
		case KVM_EXIT_MMIO:
			vcpu->exits.mmio++;
			dispatch(vm, vm->mmio, vm->nr_mmio, run->mmio.phys_addr, run->mmio.data,
				 run->mmio.len > 8 ? 8 : run->mmio.len, run->mmio.is_write);
			break;
		case KVM_EXIT_INTR:
			vcpu->exits.other++;
			break;
		case KVM_EXIT_SHUTDOWN:
			return guest_fault(vcpu, "guest triple fault (KVM_EXIT_SHUTDOWN)");
		case KVM_EXIT_INTERNAL_ERROR:
			snprintf(what, sizeof(what), "KVM internal error (suberror %u)",
				 run->internal.suberror);
			return guest_fault(vcpu, what);
		case KVM_EXIT_FAIL_ENTRY:
			snprintf(what, sizeof(what), "VM entry failed (hardware reason 0x%llx)",
				 (unsigned long long)run->fail_entry.hardware_entry_failure_reason);
			return guest_fault(vcpu, what);
		case KVM_EXIT_SYSTEM_EVENT:
			snprintf(what, sizeof(what), "guest system event %u (reset/shutdown)",
				 run->system_event.type);
			return guest_fault(vcpu, what);
		case KVM_EXIT_HLT:
			return guest_fault(vcpu, "guest halted with interrupts off");
		default:
			snprintf(what, sizeof(what), "unexpected KVM exit reason %u",
				 run->exit_reason);
			return guest_fault(vcpu, what);
		}
	}
}

static void *vcpu_thread(void *arg)
{
	struct kvm_vcpu *vcpu = arg;
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, KVM_KICK_SIGNAL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	vcpu->result = kvm_vcpu_run(vcpu);
	if (vcpu->result != KVM_VCPU_STOPPED)
		kvm_vm_request_stop(vcpu->vm, -1);
	return NULL;
}

int kvm_vcpu_start(struct kvm_vcpu *vcpu)
{
	int ret;

	vcpu->thread_started = true;
	ret = pthread_create(&vcpu->thread, NULL, vcpu_thread, vcpu);
	if (ret) {
		vcpu->thread_started = false;
		return -ret;
	}
	return 0;
}

enum kvm_vcpu_result kvm_vcpu_join(struct kvm_vcpu *vcpu)
{
	if (vcpu->thread_started) {
		pthread_join(vcpu->thread, NULL);
		vcpu->thread_started = false;
	}
	return vcpu->result;
}

void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	/* Makes a KVM_RUN that has not started yet return at once... */
	WRITE_ONCE(vcpu->run->immediate_exit, 1);
	/* ...and the signal interrupts one already inside the guest. */
	if (vcpu->thread_started && !pthread_equal(vcpu->thread, pthread_self()))
		pthread_kill(vcpu->thread, KVM_KICK_SIGNAL);
}

int kvm_vcpu_tsc_khz(struct kvm_vcpu *vcpu)
{
	int khz = ioctl(vcpu->fd, KVM_GET_TSC_KHZ, 0);

	return khz < 0 ? -errno : khz;
}
