# vhost-user/: the vhost-user protocol library (libvhost-user.a).
#   proto.c     message transport (SCM_RIGHTS), rate-limited log
#   backend.c   back-end server: request table, validation, handlers, inflight
#   frontend.c  front-end client: struct vhost_ops over a unix socket
LIBS += vhost-user
vhost-user-objs += vhost-user/proto.o
vhost-user-objs += vhost-user/backend.o
vhost-user-objs += vhost-user/frontend.o

TESTS += vhu_loopback
vhu_loopback-libs := vhost-user virtio
