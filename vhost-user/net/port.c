// SPDX-License-Identifier: MIT
/* Port selection: a SPEC string names a loop, discard, tap or DPDK port. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

int net_seterr(int ret, char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (err && errlen) {
		va_start(ap, fmt);
		vsnprintf(err, errlen, fmt, ap);
		va_end(ap);
	}
	return ret;
}

const char *net_spec_kind(const char *spec)
{
	if (!strcmp(spec, "loop"))
		return "loop";
	if (!strcmp(spec, "discard"))
		return "discard";
	if (!strncmp(spec, "tap:", 4))
		return "tap";
	return "dpdk";
}

bool net_have_dpdk(void)
{
#ifdef NET_HAVE_DPDK
	return true;
#else
	return false;
#endif
}

int net_port_open(const struct net_port_conf *conf, struct net_port **out,
		  char *err, size_t errlen)
{
	const char *spec = conf->spec;
	unsigned int nq = conf->nr_queues ? conf->nr_queues : 1;

	*out = NULL;
	if (err && errlen)
		err[0] = 0;
	if (!spec || !*spec)
		return net_seterr(-EINVAL, err, errlen, "empty port spec");
	if (nq > NET_MAX_QUEUES)
		return net_seterr(-EINVAL, err, errlen, "%s: %u queue pairs (max %u)",
				  spec, nq, NET_MAX_QUEUES);
	if (!strcmp(net_spec_kind(spec), "loop"))
		return net_loop_open(conf, out, err, errlen);
	if (!strcmp(net_spec_kind(spec), "discard"))
		return net_discard_open(conf, out, err, errlen);
	if (!strcmp(net_spec_kind(spec), "tap"))
		return net_tap_open(conf, spec + 4, out, err, errlen);
#ifdef NET_HAVE_DPDK
	return net_dpdk_open(conf, out, err, errlen);
#else
	return net_seterr(-ENOTSUP, err, errlen,
			  "%s: DPDK ports are not available: built without libdpdk "
			  "(install libdpdk-dev and rebuild); use tap:NAME, loop or discard", spec);
#endif
}

void net_port_close(struct net_port *port)
{
	if (port)
		port->ops->close(port);
}
