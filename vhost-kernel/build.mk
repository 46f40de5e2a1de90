# vhost-kernel/: struct vhost_ops over the host kernel's /dev/vhost-net
# (libvhost-kernel.a), used by vmm --net.
LIBS += vhost-kernel
vhost-kernel-objs += vhost-kernel/net.o

# Feature offer and every set-up failure this host can produce (it has no
# /dev/vhost-net; the data path is tested in the lab: lab_linux_net).
TESTS += vhk_net
vhk_net-libs := vhost-kernel virtio
