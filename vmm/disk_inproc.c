// SPDX-License-Identifier: MIT
/*
 * --disk: vioplane's vhost-user-blk back-end run inside vmm, on its own
 * threads, spoken to over a socketpair through the same vhost-user front-end
 * as an external back-end.  One code path, no second device model.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <vhost-user/blk.h>
#include <vhost-user/blk_server.h>
#include <vhost-user/frontend.h>
#include "devices.h"

int vmm_disk_inproc_create(struct vmm_device *dev, char *err, size_t errlen)
{
	const struct vmm_dev_opts *o = dev->opts;
	struct blk_server_opts so = {
		.disk_path = o->path,
		.engine = BLK_ENGINE_IO_URING,
		.cache = BLK_CACHE_WRITEBACK,
		.readonly = o->readonly,
		.queues = o->queues ? o->queues : 1,
		.poll_us = o->poll_set ? o->poll_us : BLK_SERVER_DEFAULT_POLL_US,
	};
	char serr[256] = "";
	int sv[2], ret;

	if (o->engine[0])
		blk_engine_parse(o->engine, &so.engine);	/* validated by the option parser */
	if (o->cache[0])
		blk_cache_parse(o->cache, &so.cache);
	ret = blk_server_new(&so, &dev->inproc, serr, sizeof(serr));
	if (ret) {
		snprintf(err, errlen, "--disk %s: %s", o->arg, serr[0] ? serr : strerror(-ret));
		return ret;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		ret = -errno;
		snprintf(err, errlen, "--disk %s: socketpair: %s", o->arg, strerror(errno));
		return ret;
	}
	ret = blk_server_set_conn_fd(dev->inproc, sv[1]);
	if (!ret)
		ret = blk_server_start(dev->inproc);
	if (ret) {
		close(sv[0]);
		snprintf(err, errlen, "--disk %s: cannot start the back-end: %s", o->arg,
			 strerror(-ret));
		return ret;
	}
	ret = vhu_fe_connect_fd(sv[0], NULL, &dev->be);
	if (ret)
		snprintf(err, errlen, "--disk %s: vhost-user handshake with the in-process back-end failed: %s",
			 o->arg, strerror(-ret));
	return ret;
}

void vmm_disk_inproc_destroy(struct vmm_device *dev)
{
	blk_server_stop(dev->inproc);
	blk_server_free(dev->inproc);
	dev->inproc = NULL;
}

void vmm_disk_inproc_stats(struct vmm_device *dev, u64 *kicks, u64 *calls)
{
	struct blk_server_stats st;

	blk_server_get_stats(dev->inproc, &st);
	*kicks = st.kicks;
	*calls = st.calls;
}
