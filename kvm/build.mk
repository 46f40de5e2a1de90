# kvm/: the only code that issues /dev/kvm ioctls.
LIBS += kvm
kvm-objs += kvm/system.o
kvm-objs += kvm/vm.o
kvm-objs += kvm/vcpu.o
kvm-objs += kvm/x86.o
