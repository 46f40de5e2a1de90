# vhost-user/net: libvunet, the net half of vhost-user-net (ports, virtio-net
# header handling, counters).  See vhost-user/include/vhost-user/net.h.
#
# DPDK is optional and probed once here with pkg-config.  Without it the DPDK
# port is left out (tap: and loop still work) and the build says so; a DPDK
# spec then fails at run time with a message naming the missing package.
# Programs and tests linking libvunet add $(VUNET_LDLIBS) to their ldlibs.

VUNET_HAVE_DPDK := $(shell pkg-config --exists libdpdk 2>/dev/null && echo y)
ifeq ($(VUNET_HAVE_DPDK),y)
# -isystem: DPDK's headers are not held to our -Wextra -Werror.
VUNET_DPDK_CFLAGS := $(patsubst -I%,-isystem %,$(shell pkg-config --cflags libdpdk))
VUNET_LDLIBS := $(shell pkg-config --libs libdpdk)
else
$(info vhost-user/net: libdpdk not found by pkg-config: DPDK ports disabled, only tap: and loop (install libdpdk-dev, see scripts/deps.sh))
VUNET_LDLIBS :=
endif
# port.o and the programs differ with and without DPDK: a probe that changes
# (libdpdk-dev installed after a build) rebuilds them.
CONFIG_FLAGS += vunet-dpdk=$(VUNET_HAVE_DPDK) $(VUNET_DPDK_CFLAGS) $(VUNET_LDLIBS)

LIBS += vunet
vunet-objs += vhost-user/net/hdr.o
vunet-objs += vhost-user/net/port.o
vunet-objs += vhost-user/net/loop.o
vunet-objs += vhost-user/net/discard.o
vunet-objs += vhost-user/net/tap.o
vunet-objs += vhost-user/net/tune.o
ifeq ($(VUNET_HAVE_DPDK),y)
vunet-objs += vhost-user/net/dpdk.o
$(OBJ)/vhost-user/net/dpdk.o: CFLAGS += $(VUNET_DPDK_CFLAGS)
$(OBJ)/vhost-user/net/port.o: CFLAGS += -DNET_HAVE_DPDK
endif

TESTS += net_hdr
net_hdr-libs := vunet
net_hdr-ldlibs := $(VUNET_LDLIBS)

TESTS += net_tune
net_tune-libs := vunet
net_tune-ldlibs := $(VUNET_LDLIBS)

TESTS += net_loop
net_loop-libs := vunet
net_loop-ldlibs := $(VUNET_LDLIBS)

TESTS += net_discard
net_discard-libs := vunet
net_discard-ldlibs := $(VUNET_LDLIBS)

TESTS += net_tap
net_tap-libs := vunet
net_tap-ldlibs := $(VUNET_LDLIBS)

TESTS += net_dpdk
net_dpdk-libs := vunet
net_dpdk-ldlibs := $(VUNET_LDLIBS)

# libFuzzer: hostile TX chains and the RX scatter (seeds in tests/fuzz/corpus/net_hdr/).
FUZZERS += net_hdr
net_hdr-fuzz-srcs := tests/fuzz/net_hdr.c vhost-user/net/hdr.c

# The vhost-user-net program: the vhost-user library and the virtio ring code
# around libvunet.
PROGS += vhost-user-net
vhost-user-net-objs += vhost-user/net/main.o
vhost-user-net-objs += vhost-user/net/dev.o
vhost-user-net-objs += vhost-user/net/datapath.o
vhost-user-net-libs := vunet vhost-user virtio
vhost-user-net-ldlibs := $(VUNET_LDLIBS)

# SECURITY.md case 11 against the running program, driven by our own
# virtio driver over vhost-user (libvirtio-user).
TESTS += net_vun_sec11
net_vun_sec11-libs := virtio-user vhost-user virtio

# SECURITY.md cases 12-17 against the running program (a hostile raw
# front-end on one socket, a good guest forwarding on the other).
TESTS += net_vun_sec12
net_vun_sec12-libs := virtio-user vhost-user virtio

# The program with a kernel tap in a namespace, kick-driven, end to end.
TESTS += net_vun_tap
net_vun_tap-libs := virtio-user vhost-user virtio
