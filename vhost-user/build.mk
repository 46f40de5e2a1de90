# vhost-user/: the vhost-user protocol library (libvhost-user.a).
#   proto.c     message transport (SCM_RIGHTS), rate-limited log
#   backend.c   back-end server: request table, validation, handlers, inflight
#   frontend.c  front-end client: struct vhost_ops over a unix socket
#   guard.c     SIGBUS guard over front-end mappings (vhu_guard_install)
LIBS += vhost-user
vhost-user-objs += vhost-user/proto.o
vhost-user-objs += vhost-user/backend.o
vhost-user-objs += vhost-user/frontend.o
vhost-user-objs += vhost-user/ring.o
vhost-user-objs += vhost-user/guard.o

TESTS += vhu_loopback
vhu_loopback-libs := vhost-user virtio

# The SIGBUS guard over front-end mappings, without a device.
TESTS += vhu_guard
vhu_guard-libs := vhost-user virtio
vhu_guard-ldlibs := -lpthread

# SECURITY.md cases 12-18: hostile messages, one program per case.
TESTS += vhu_sec12
vhu_sec12-libs := vhost-user virtio
TESTS += vhu_sec13
vhu_sec13-libs := vhost-user virtio
TESTS += vhu_sec14
vhu_sec14-libs := vhost-user virtio
TESTS += vhu_sec15
vhu_sec15-libs := vhost-user virtio
TESTS += vhu_sec16
vhu_sec16-libs := vhost-user virtio
TESTS += vhu_sec17
vhu_sec17-libs := vhost-user virtio
TESTS += vhu_sec18
vhu_sec18-libs := vhost-user virtio

# Inflight tracking across a back-end restart (SECURITY.md case 19, library part).
TESTS += vhu_inflight
vhu_inflight-libs := vhost-user virtio

# libFuzzer harnesses (seed corpora in tests/fuzz/corpus/<name>/).
FUZZERS += vhu_backend
vhu_backend-fuzz-srcs := tests/fuzz/vhu_backend.c vhost-user/proto.c vhost-user/backend.c vhost-user/guard.c virtio/mem.c
FUZZERS += vhu_frontend
vhu_frontend-fuzz-srcs := tests/fuzz/vhu_frontend.c vhost-user/proto.c vhost-user/backend.c vhost-user/guard.c vhost-user/frontend.c virtio/mem.c

# Interop with real peers (skip when the peer is not installed).
TESTS += vhu_qsd
vhu_qsd-libs := vhost-user virtio
TESTS += vhu_dpdk
vhu_dpdk-libs := vhost-user virtio
TESTS += vhu_sec21
vhu_sec21-libs := vhost-user virtio

# Front-end + back-end + virtio/ ring engine, end to end in one process.
TESTS += vhu_datapath
vhu_datapath-libs := vhost-user virtio
TESTS += vhu_qemu
vhu_qemu-libs := vhost-user virtio
