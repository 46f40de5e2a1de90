# kvm/: the only code that issues /dev/kvm ioctls.
LIBS += kvm
kvm-objs += kvm/system.o
kvm-objs += kvm/vm.o
kvm-objs += kvm/vcpu.o
kvm-objs += kvm/x86.o

# Guest RAM: sealed memfd, --hugetlb with and without free huge pages.
TESTS += kvm_ram
kvm_ram-libs := kvm
kvm_ram-ldlibs := -lpthread
