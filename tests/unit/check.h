/* SPDX-License-Identifier: MIT */
/*
 * Non-fatal assertions for the unit tests that check many independent
 * things (vmm_*, vhk_*): every failed CHECK is reported with its line and
 * the test goes on; check_exit() turns the count into the exit status.
 * (The virtio tests' fatal CHECK is vq_check.h.)
 */
#ifndef TESTS_UNIT_CHECK_H
#define TESTS_UNIT_CHECK_H

#include <stdio.h>

static int failures;

#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
	failures++; } } while (0)

/* main()'s return value: 0 and "NAME: all checks passed", or 1 and the count. */
static inline int check_exit(const char *name)
{
	if (failures) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, failures);
		return 1;
	}
	printf("%s: all checks passed\n", name);
	return 0;
}

#endif
