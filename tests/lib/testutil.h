/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every test and the benchmark share. */
#ifndef PKVM_TESTS_TESTUTIL_H
#define PKVM_TESTS_TESTUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "macro.h"	/* GROW_ARRAY, ELEMENTSOF, _cleanup_ */

/*
 * Bounded waits poll a condition up to a deadline on the monotonic clock,
 * never for a count of iterations or a fixed sleep; the deadline is one a
 * machine several times slower or busier than ours still meets.
 */
#define TEST_WAIT_USEC (30 * 1000000ull)

static inline uint64_t test_now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * Setup and teardown run outside any test, where Check takes no assertion
 * (even a passing ck_assert reports progress): a failed step ends the
 * program naming the expression.
 */
#define must(expr) do { \
	if (!(expr)) { \
		fprintf(stderr, "%s:%d: setup failed: %s\n", __FILE__, __LINE__, #expr); \
		exit(EXIT_FAILURE); \
	} \
} while (0)

#ifdef CHECK_H
/* Runs a Check suite and turns its verdict into an exit status. */
static inline int run_suite(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
#endif

#endif
