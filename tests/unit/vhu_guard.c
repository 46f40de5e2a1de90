// SPDX-License-Identifier: MIT
/*
 * The SIGBUS guard (vhost-user/guard.c) on its own, without a device:
 *  - a registered shared mapping whose file is truncated under it reads
 *    zeros at the faulting access (no signal reaches the process), takes
 *    writes afterwards, sets the fault flag and shuts the registered socket
 *    down (the peer reads EOF);
 *  - several threads faulting on the same mapping at once all go on;
 *  - a SIGBUS on an unregistered mapping, or on one unregistered again,
 *    still ends the process (checked in a child), and goes to the handler
 *    that was installed before the guard when there was one;
 *  - the registry's capacity: full -> -ENOSPC, slots reused after del.
 */
#include <pthread.h>
#include <signal.h>
#include <sys/wait.h>

#include "vhu_test.h"
#include "../../vhost-user/internal.h"

#define PAGE 4096u
#define LEN (16 * PAGE)

/* A memfd of LEN bytes of 0x5a, mapped shared. */
static u8 *shared_map(int *fd)
{
	u8 *p;

	*fd = memfd_create("guard-test", MFD_CLOEXEC);
	CHECK(*fd >= 0);
	CHECK(ftruncate(*fd, LEN) == 0);
	p = mmap(NULL, LEN, PROT_READ | PROT_WRITE, MAP_SHARED, *fd, 0);
	CHECK(p != MAP_FAILED);
	memset(p, 0x5a, LEN);
	return p;
}

static u8 read_byte(const u8 *p)
{
	return *(volatile const u8 *)p;
}

struct racer {
	const u8 *p;
	unsigned int sum;
};

static void *race(void *arg)
{
	struct racer *r = arg;

	for (unsigned int off = 0; off < LEN; off += PAGE)
		r->sum += read_byte(r->p + off);
	return NULL;
}

/* Run fn in a child; returns its wait status. */
static int in_child(void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	CHECK(pid >= 0);
	if (pid == 0) {
		fn();
		_exit(0);	/* survived the fault: wrong */
	}
	CHECK_EQ(waitpid(pid, &st, 0), pid);
	return st;
}

static void fault_unregistered(void)
{
	int fd;
	u8 *p = shared_map(&fd);

	CHECK_EQ(vhu_guard_install(), 0);
	CHECK(ftruncate(fd, 0) == 0);
	(void)read_byte(p + PAGE);
}

static void fault_after_del(void)
{
	int fd, conn = -1, fault = 0;
	u8 *p = shared_map(&fd);

	CHECK_EQ(vhu_guard_install(), 0);
	CHECK_EQ(vhu_guard_add(p, LEN, &conn, &fault), 0);
	vhu_guard_del(p);
	CHECK(ftruncate(fd, 0) == 0);
	(void)read_byte(p + PAGE);
}

static void prev_handler(int sig)
{
	(void)sig;
	_exit(42);
}

static void fault_with_prev_handler(void)
{
	int fd;
	u8 *p = shared_map(&fd);

	signal(SIGBUS, prev_handler);
	CHECK_EQ(vhu_guard_install(), 0);
	CHECK(ftruncate(fd, 0) == 0);
	(void)read_byte(p);
}

int main(void)
{
	int fd, sv[2], fault = 0, st;
	u8 *p = shared_map(&fd), c;
	struct racer r[4];
	pthread_t th[4];

	/* 0. chaining, in a child, before this process installs the guard */
	st = in_child(fault_with_prev_handler);
	CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 42);
	fprintf(stderr, "ok: a SIGBUS outside front-end mappings reaches the handler installed before\n");

	/* 1. the guarded fault: zeros, flag, socket shut down, writable after */
	CHECK(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) == 0);
	CHECK_EQ(vhu_guard_install(), 0);
	CHECK_EQ(vhu_guard_install(), 0);	/* idempotent */
	CHECK_EQ(vhu_guard_add(p, LEN, &sv[0], &fault), 0);
	CHECK_EQ(read_byte(p + 3 * PAGE + 7), 0x5a);
	CHECK(ftruncate(fd, PAGE) == 0);	/* pages 1.. are gone */
	CHECK_EQ(read_byte(p + 3 * PAGE + 7), 0);
	CHECK_EQ(__atomic_load_n(&fault, __ATOMIC_ACQUIRE), 1);
	CHECK_EQ(recv(sv[1], &c, 1, MSG_DONTWAIT), 0);	/* EOF: shut down */
	p[5 * PAGE] = 0x77;
	CHECK_EQ(read_byte(p + 5 * PAGE), 0x77);
	CHECK_EQ(read_byte(p), 0);	/* the whole mapping was replaced */
	vhu_guard_del(p);
	munmap(p, LEN);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	fprintf(stderr, "ok: a truncated, guarded mapping reads zeros; flag set, socket shut down\n");

	/* 2. four threads fault on one mapping at once */
	p = shared_map(&fd);
	fault = 0;
	sv[0] = -1;
	CHECK_EQ(vhu_guard_add(p, LEN, &sv[0], &fault), 0);
	CHECK(ftruncate(fd, 0) == 0);
	for (int i = 0; i < 4; i++) {
		r[i] = (struct racer){ .p = p };
		CHECK_EQ(pthread_create(&th[i], NULL, race, &r[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		CHECK_EQ(pthread_join(th[i], NULL), 0);
		CHECK_EQ(r[i].sum, 0);
	}
	CHECK_EQ(fault, 1);
	vhu_guard_del(p);
	munmap(p, LEN);
	close(fd);
	fprintf(stderr, "ok: four threads faulting on one mapping all go on\n");

	/* 3. faults the guard does not own still end the process */
	fprintf(stderr, "note: two children now die of SIGBUS on purpose (a SAN=1 build prints "
		"AddressSanitizer BUS reports for them)\n");
	st = in_child(fault_unregistered);
	CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	st = in_child(fault_after_del);
	CHECK(!(WIFEXITED(st) && WEXITSTATUS(st) == 0));
	fprintf(stderr, "ok: a SIGBUS on an unregistered mapping still ends the process (status 0x%x)\n",
		st);

	/* 4. capacity */
	{
		static int dummy;
		unsigned int n = 0;

		while (vhu_guard_add((void *)(uintptr_t)(0x1000 * (n + 1)), 1, &dummy, &dummy) == 0)
			n++;
		CHECK(n >= 1024);
		CHECK_EQ(vhu_guard_add((void *)0x42000000, 1, &dummy, &dummy), -ENOSPC);
		vhu_guard_del((void *)0x1000);
		CHECK_EQ(vhu_guard_add((void *)0x42000000, 1, &dummy, &dummy), 0);
		vhu_guard_del((void *)0x42000000);
		for (unsigned int i = 1; i < n; i++)
			vhu_guard_del((void *)(uintptr_t)(0x1000 * (i + 1)));
		fprintf(stderr, "ok: %u slots, full -> -ENOSPC, reused after del\n", n);
	}
	return 0;
}
