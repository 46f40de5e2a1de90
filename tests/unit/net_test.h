/* SPDX-License-Identifier: MIT */
/* Tiny assertion helpers for the tests/unit/net_*.c programs. */
#ifndef NET_TEST_H
#define NET_TEST_H

#include <stdio.h>
#include <stdlib.h>

static int net_test_fails;

#define T_CHECK(c) do {							\
	if (!(c)) {							\
		fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__,	\
			__LINE__, #c);					\
		net_test_fails++;					\
	}								\
} while (0)

#define T_EQ(a, b) do {							\
	long long _a = (long long)(a), _b = (long long)(b);		\
	if (_a != _b) {							\
		fprintf(stderr, "%s:%d: %s == %lld, expected %s == %lld\n", \
			__FILE__, __LINE__, #a, _a, #b, _b);		\
		net_test_fails++;					\
	}								\
} while (0)

#define T_SKIP(...) do {						\
	fprintf(stderr, __VA_ARGS__);					\
	fputc('\n', stderr);						\
	exit(77);							\
} while (0)

static inline int net_test_result(const char *name)
{
	if (net_test_fails) {
		fprintf(stderr, "%s: %d check(s) failed\n", name, net_test_fails);
		return 1;
	}
	fprintf(stderr, "%s: all checks passed\n", name);
	return 0;
}

#endif
