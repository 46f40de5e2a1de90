/* SPDX-License-Identifier: MIT */
/*
 * vmm's I/O thread: an epoll loop for the fds the VMM itself must watch (call
 * eventfds when an interrupt cannot go through irqfd, back-end connections
 * hanging up).  Callbacks run on the I/O thread; fds are added and removed from
 * any thread.
 */
#ifndef VMM_EVLOOP_H
#define VMM_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>

typedef void (*vmm_ev_fn)(void *opaque, int fd, unsigned int events);

struct vmm_ev_watch {
	int fd;
	vmm_ev_fn fn;
	void *opaque;
};

struct vmm_evloop {
	int epfd;
	int stop_fd;
	pthread_t thread;
	bool running;
};

int vmm_evloop_init(struct vmm_evloop *ev);
int vmm_evloop_start(struct vmm_evloop *ev);
void vmm_evloop_stop(struct vmm_evloop *ev);	/* joins the thread, closes */

/* @w must stay valid until vmm_ev_del(); events are EPOLLIN/EPOLLRDHUP... */
int vmm_ev_add(struct vmm_evloop *ev, struct vmm_ev_watch *w, unsigned int events);
int vmm_ev_del(struct vmm_evloop *ev, struct vmm_ev_watch *w);

#endif
