# vmm/: the `vmm` program.  Everything but main.o also goes into libvmmcore.a so
# the unit tests can link the option parser and the ELF loader.
LIBS += vmmcore
vmmcore-objs += vmm/options.o
vmmcore-objs += vmm/elf.o
vmmcore-objs += vmm/linux.o
vmmcore-objs += vmm/pc.o
vmmcore-objs += vmm/mptable.o
vmmcore-objs += vmm/acpi.o
vmmcore-objs += vmm/serial.o
vmmcore-objs += vmm/testdev.o
vmmcore-objs += vmm/evloop.o
vmmcore-objs += vmm/pci.o
vmmcore-objs += vmm/virtio_pci.o
vmmcore-objs += vmm/net_ctrl.o
vmmcore-objs += vmm/devices.o
vmmcore-objs += vmm/disk_inproc.o

PROGS += vmm
vmm-objs += vmm/main.o
vmm-libs := vmmcore vublk-server vublk vhost-user vhost-kernel kvm virtio
vmm-ldlibs := -luring -laio

TESTS += vmm_options
vmm_options-libs := vmmcore vublk
vmm_options-ldlibs := -luring -laio
TESTS += vmm_elf
vmm_elf-libs := vmmcore
TESTS += vmm_linux
vmm_linux-libs := vmmcore

# The Linux loader (bzImage, vmlinux) on hostile images (libFuzzer).
FUZZERS += linux_boot
linux_boot-fuzz-srcs := tests/fuzz/linux_boot.c vmm/linux.c vmm/elf.c
TESTS += vmm_serial
vmm_serial-libs := vmmcore kvm
TESTS += vmm_acpi
vmm_acpi-libs := vmmcore
TESTS += vmm_mptable
vmm_mptable-libs := vmmcore
TESTS += vmm_net_ctrl
vmm_net_ctrl-libs := vmmcore kvm virtio
