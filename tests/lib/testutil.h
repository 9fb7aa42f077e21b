/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers every test and the benchmark share. */
#ifndef PKVM_TESTS_TESTUTIL_H
#define PKVM_TESTS_TESTUTIL_H

#include <errno.h>
#include <stdlib.h>

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
