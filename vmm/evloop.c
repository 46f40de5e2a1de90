// SPDX-License-Identifier: MIT
/* vmm's I/O thread (see evloop.h). */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "evloop.h"

int vmm_evloop_init(struct vmm_evloop *ev)
{
	struct epoll_event e = { .events = EPOLLIN, .data.ptr = NULL };

	memset(ev, 0, sizeof(*ev));
	ev->epfd = epoll_create1(EPOLL_CLOEXEC);
	ev->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ev->epfd < 0 || ev->stop_fd < 0)
		return -errno;
	if (epoll_ctl(ev->epfd, EPOLL_CTL_ADD, ev->stop_fd, &e) < 0)
		return -errno;
	return 0;
}

static void *evloop_thread(void *arg)
{
	struct vmm_evloop *ev = arg;
	struct epoll_event evs[32];

	for (;;) {
		int n = epoll_wait(ev->epfd, evs, 32, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct vmm_ev_watch *w = evs[i].data.ptr;

			if (!w)		/* stop_fd */
				return NULL;
			w->fn(w->opaque, w->fd, evs[i].events);
		}
	}
	return NULL;
}

int vmm_evloop_start(struct vmm_evloop *ev)
{
	int ret = pthread_create(&ev->thread, NULL, evloop_thread, ev);

	if (ret)
		return -ret;
	ev->running = true;
	return 0;
}

void vmm_evloop_stop(struct vmm_evloop *ev)
{
	unsigned long long one = 1;

	if (ev->running) {
		if (write(ev->stop_fd, &one, sizeof(one)) != sizeof(one))
			pthread_cancel(ev->thread);
		pthread_join(ev->thread, NULL);
		ev->running = false;
	}
	if (ev->epfd >= 0)
		close(ev->epfd);
	if (ev->stop_fd >= 0)
		close(ev->stop_fd);
	ev->epfd = ev->stop_fd = -1;
}

int vmm_ev_add(struct vmm_evloop *ev, struct vmm_ev_watch *w, unsigned int events)
{
	struct epoll_event e = { .events = events, .data.ptr = w };

	return epoll_ctl(ev->epfd, EPOLL_CTL_ADD, w->fd, &e) < 0 ? -errno : 0;
}

int vmm_ev_del(struct vmm_evloop *ev, struct vmm_ev_watch *w)
{
	return epoll_ctl(ev->epfd, EPOLL_CTL_DEL, w->fd, NULL) < 0 ? -errno : 0;
}
