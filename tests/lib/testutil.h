/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every test and the benchmark share. */
#ifndef PKVM_TESTS_TESTUTIL_H
#define PKVM_TESTS_TESTUTIL_H

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

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

/* Make room for one more element in a (ptr, nr, cap) array; -ENOMEM on failure. */
static inline int grow_array(void **ptr, size_t nr, size_t *cap, size_t elem)
{
	void *p;
	size_t c;

	if (nr < *cap)
		return 0;
	c = *cap ? *cap * 2 : 1024;
	p = realloc(*ptr, c * elem);
	if (!p)
		return -ENOMEM;
	*ptr = p;
	*cap = c;
	return 0;
}

#define GROW(arr, nr, cap) grow_array((void **)&(arr), (nr), &(cap), sizeof(*(arr)))

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
