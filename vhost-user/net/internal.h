/* SPDX-License-Identifier: MIT */
/* libvunet private header: the port constructors.  Nobody outside includes it. */
#ifndef VHOST_USER_NET_INTERNAL_H
#define VHOST_USER_NET_INTERNAL_H

#include <stdarg.h>
#include <vhost-user/net.h>

#define net_log(fmt, ...) fprintf(stderr, "vunet: " fmt "\n", ##__VA_ARGS__)

/* Each returns 0 and *out, or -errno with the reason in err. */
int net_loop_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen);
int net_tap_open(const struct net_port_conf *conf, const char *ifname,
		 struct net_port **out, char *err, size_t errlen);
int net_dpdk_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen);

/* snprintf into err (if non-NULL); returns @ret so callers can `return seterr(...)`. */
int net_seterr(int ret, char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
