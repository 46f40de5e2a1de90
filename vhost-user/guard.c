// SPDX-License-Identifier: MIT
/*
 * The SIGBUS guard over front-end memory.
 *
 * Every fd a front-end hands us to map (SET_MEM_TABLE, ADD_MEM_REG,
 * SET_INFLIGHT_FD) is checked against the range it asks for before the
 * mmap.  The front-end keeps the fd, though, and can shrink the file later
 * (nothing forces a seal on it); our next access past the new end then
 * raises SIGBUS, whose default action ends the whole process: every other
 * connection of a multi-socket back-end with it.
 *
 * With the guard installed (vhu_guard_install(), once, by a program that
 * serves untrusted front-ends), a SIGBUS inside such a mapping:
 *   - replaces the whole mapping with private zero pages at the same address
 *     (MAP_FIXED), so the faulting access, re-executed, completes (reads
 *     zeros, writes go nowhere) and no later access faults;
 *   - marks the connection (*fault = 1) and shuts its socket down, so its
 *     control loop sees the hang-up and tears the connection down the usual
 *     way (queues stopped, memory unmapped; it logs why, from *fault);
 * and the thread goes on.  A SIGBUS anywhere else gets the disposition that
 * was there before the guard (by default: the process ends, as it should).
 *
 * The registry is a fixed array the handler reads without locks.  A slot
 * goes FREE -> CLAIMED -> ACTIVE when its mapping is registered (fields
 * written while CLAIMED, which everyone skips, then ACTIVE with release), ACTIVE -> FIXING -> FIXED while a handler
 * replaces the mapping, and back to FREE when the owner unregisters it,
 * which waits out a handler in FIXING: the owner munmaps only after that, so
 * a handler never maps over an address range that may have been reused.
 */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include "internal.h"

#define GUARD_SLOTS	4096

enum { SLOT_FREE, SLOT_CLAIMED, SLOT_ACTIVE, SLOT_FIXING, SLOT_FIXED };

struct guard_slot {
	int state;
	uintptr_t start;
	size_t len;
	int *conn_fd;		/* the owning connection's socket */
	int *fault;		/* set to 1 when this mapping was replaced */
};

static struct guard_slot slots[GUARD_SLOTS];
static struct sigaction prev_action;
static int installed;

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static void pass_on(void)
{
	/* Not ours: the previous disposition takes the re-executed fault. */
	sigaction(SIGBUS, &prev_action, NULL);
}

static void on_sigbus(int sig, siginfo_t *si, void *uc)
{
	uintptr_t a = (uintptr_t)si->si_addr;
	int saved_errno = errno;

	(void)sig;
	(void)uc;
	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];
		int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);
		int expect = SLOT_ACTIVE;

		if (st == SLOT_FREE || st == SLOT_CLAIMED ||
		    a - __atomic_load_n(&s->start, __ATOMIC_RELAXED) >=
		    __atomic_load_n(&s->len, __ATOMIC_RELAXED))
			continue;
		if (st == SLOT_FIXED)
			break;	/* zero pages cannot fault: not the shrink */
		if (st == SLOT_ACTIVE &&
		    __atomic_compare_exchange_n(&s->state, &expect, SLOT_FIXING, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			void *p = mmap((void *)s->start, s->len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED | MAP_NORESERVE,
				       -1, 0);

			if (p == MAP_FAILED) {
				__atomic_store_n(&s->state, SLOT_ACTIVE, __ATOMIC_RELEASE);
				break;
			}
			__atomic_store_n(s->fault, 1, __ATOMIC_RELEASE);
			shutdown(__atomic_load_n(s->conn_fd, __ATOMIC_ACQUIRE), SHUT_RDWR);
			__atomic_store_n(&s->state, SLOT_FIXED, __ATOMIC_RELEASE);
			errno = saved_errno;
			return;
		}
		/* Another thread is replacing it: wait, then retry the access. */
		while (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == SLOT_FIXING)
			relax();
		errno = saved_errno;
		return;
	}
	pass_on();
	errno = saved_errno;
}

int vhu_guard_install(void)
{
	struct sigaction sa;

	if (__atomic_load_n(&installed, __ATOMIC_ACQUIRE))
		return 0;
	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigbus;
	sa.sa_flags = SA_SIGINFO | SA_RESTART;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGBUS, &sa, &prev_action) < 0)
		return -errno;
	__atomic_store_n(&installed, 1, __ATOMIC_RELEASE);
	return 0;
}

int vhu_guard_add(void *base, size_t len, int *conn_fd, int *fault)
{
	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];
		int expect = SLOT_FREE;

		if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != SLOT_FREE)
			continue;
		if (!__atomic_compare_exchange_n(&s->state, &expect, SLOT_CLAIMED, false,
						 __ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			continue;
		__atomic_store_n(&s->start, (uintptr_t)base, __ATOMIC_RELAXED);
		__atomic_store_n(&s->len, len, __ATOMIC_RELAXED);
		s->conn_fd = conn_fd;
		s->fault = fault;
		__atomic_store_n(&s->state, SLOT_ACTIVE, __ATOMIC_RELEASE);
		return 0;
	}
	return -ENOSPC;
}

void vhu_guard_del(void *base)
{
	for (unsigned int i = 0; i < GUARD_SLOTS; i++) {
		struct guard_slot *s = &slots[i];

		for (;;) {
			int st = __atomic_load_n(&s->state, __ATOMIC_ACQUIRE);

			if (st == SLOT_FREE || st == SLOT_CLAIMED ||
			    __atomic_load_n(&s->start, __ATOMIC_RELAXED) != (uintptr_t)base)
				break;
			if (st == SLOT_FIXING) {
				relax();
				continue;
			}
			if (__atomic_compare_exchange_n(&s->state, &st, SLOT_FREE, false,
							__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
				return;
		}
	}
}
