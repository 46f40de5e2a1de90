// SPDX-License-Identifier: MIT
/*
 * Guest RAM as kvm/ creates it (SECURITY.md 18: a back-end gets this fd).
 *  - the memfd is sealed against shrinking, growing and further sealing: a
 *    back-end's ftruncate fails with EPERM and the guest's RAM stays usable;
 *  - --hugetlb without enough free huge pages is a clear error from
 *    kvm_vm_create (not a SIGBUS at the first touch); with pages reserved for
 *    the test (the previous nr_hugepages restored at exit) the RAM is on huge
 *    pages and sealed the same way.
 * Exit 77 without a usable /dev/kvm.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <kvm/kvm.h>

#include "hugepages.h"

#define CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__,	\
			__LINE__, #c);					\
		exit(1);						\
	}								\
} while (0)

static void check_sealed(struct kvm_vm *vm)
{
	int seals = fcntl(vm->ram_fd, F_GET_SEALS);

	CHECK(seals >= 0);
	CHECK((seals & (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL)) ==
	      (F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL));
	errno = 0;
	CHECK(ftruncate(vm->ram_fd, 0) < 0 && errno == EPERM);
	errno = 0;
	CHECK(ftruncate(vm->ram_fd, (off_t)vm->ram_size * 2) < 0 && errno == EPERM);
	errno = 0;
	CHECK(fcntl(vm->ram_fd, F_ADD_SEALS, F_SEAL_WRITE) < 0 && errno == EPERM);
	/* still all there: first and last byte */
	vm->ram[0] = 0x11;
	vm->ram[vm->ram_size - 1] = 0x22;
	CHECK(vm->ram[0] == 0x11 && vm->ram[vm->ram_size - 1] == 0x22);
}

int main(void)
{
	struct kvm_vm vm;
	long free_hp, hp_kb;
	int r;

	r = kvm_vm_create(&vm, &(struct kvm_vm_config){ .mem_size = 64ull << 20 });
	if (r == -ENOENT || r == -EACCES || r == -ENODEV || r == -ENOTSUP || r == -EPROTO) {
		printf("kvm_ram: no usable /dev/kvm: %s\n", vm.err);
		return 77;
	}
	if (r) {
		fprintf(stderr, "kvm_vm_create: %s\n", vm.err);
		return 1;
	}
	check_sealed(&vm);
	kvm_vm_destroy(&vm);
	printf("ok: guest RAM memfd sealed (shrink, grow, seal): resizing fails with EPERM\n");

	/* More huge pages than are free: a clear error. */
	free_hp = hp_meminfo("HugePages_Free:");
	hp_kb = hp_meminfo("Hugepagesize:");
	CHECK(free_hp >= 0 && hp_kb > 0);
	r = kvm_vm_create(&vm, &(struct kvm_vm_config){
		.mem_size = (u64)(free_hp + 8) * hp_kb * 1024, .hugetlb = true });
	CHECK(r == -ENOMEM);
	CHECK(strstr(vm.err, "not enough free huge pages"));
	kvm_vm_destroy(&vm);
	printf("ok: --hugetlb beyond the %ld free huge pages: \"%s\"\n", free_hp, vm.err);

	/* Reserve 16 more for a moment and run on them. */
	if (!hp_reserve_more(16)) {
		printf("note: could not reserve 16 huge pages; the hugetlb success path is not checked here\n");
		return 0;
	}
	r = kvm_vm_create(&vm, &(struct kvm_vm_config){
		.mem_size = 16ull * hp_kb * 1024, .hugetlb = true });
	if (r)
		fprintf(stderr, "kvm_vm_create (hugetlb): %s\n", vm.err);
	CHECK(r == 0);
	check_sealed(&vm);	/* touches the first and the last page */
	CHECK(hp_meminfo("HugePages_Free:") <
	      hp_meminfo("HugePages_Total:"));	/* on huge pages */
	kvm_vm_destroy(&vm);
	printf("ok: --hugetlb on 16 reserved huge pages: sealed the same way\n");
	return 0;
}
