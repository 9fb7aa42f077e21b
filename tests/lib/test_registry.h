/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Check tests that register themselves, in the manner of systemd's TEST():
 *
 *   TEST("ops", donate_splits) { ... } END_TEST
 *   TEST_LOOP("bad", bad_file, 0, ELEMENTSOF(bad_files)) { ... } END_TEST
 *   int main(void)
 *   {
 *           return TEST_RUN("s2_pgtable",
 *                           TCASE("ops", .setup = setup, .teardown = teardown),
 *                           TCASE("gather"));
 *   }
 *
 * A test names its test case; the suite lists its test cases once, with
 * their checked fixture and timeout, and every test of a case runs in the
 * order of the source. Adding a test is writing it: no list to extend.
 * A test naming a case the suite does not list, or a listed case without
 * tests, fails the run before anything runs.
 *
 * Each TEST is a START_TEST whose TTest a constructor links into this
 * file's list; the list is per translation unit (static), one per suite.
 */
#ifndef PKVM_TESTS_TEST_REGISTRY_H
#define PKVM_TESTS_TEST_REGISTRY_H

#include <check.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

struct test_entry {
	const char *tcase;
	const TTest *const *test;	/* the pointer START_TEST defines */
	bool loop;			/* TEST_LOOP over [loop_start, loop_end) */
	int loop_start, loop_end;
	struct test_entry *next;
};

struct test_tcase {
	const char *name;
	SFun setup, teardown;		/* checked fixture, either may be NULL */
	int timeout;			/* seconds; 0: Check's default */
};

static struct test_entry *test_entries __attribute__((unused));

#define TEST_REGISTER_(tc, name, loop, start, end)				\
	static const TTest *name;						\
	static struct test_entry name##_entry = { tc, &name, loop, start, end, NULL };\
	__attribute__((constructor)) static void name##_register(void)		\
	{									\
		name##_entry.next = test_entries;				\
		test_entries = &name##_entry;					\
	}

#define TEST(tc, name)								\
	TEST_REGISTER_(tc, name, false, 0, 0)					\
	START_TEST(name)

#define TEST_LOOP(tc, name, start, end)						\
	TEST_REGISTER_(tc, name, true, start, end)				\
	START_TEST(name)

/* Source order: the line START_TEST recorded in each TTest. */
static inline int test_entry_cmp(const void *a, const void *b)
{
	const struct test_entry *x = *(const struct test_entry *const *)a;
	const struct test_entry *y = *(const struct test_entry *const *)b;

	return (*x->test)->line - (*y->test)->line;
}

/* Builds the suite from the registered tests and runs it: an exit status. */
static inline int test_run(const char *suite, const struct test_tcase *tcases, size_t nr_tcases)
{
	struct test_entry *e, **sorted;
	size_t nr = 0, i, t;
	Suite *s;
	int ret = EXIT_FAILURE;

	for (e = test_entries; e; e = e->next)
		nr++;
	sorted = calloc(nr ? nr : 1, sizeof(*sorted));
	if (!sorted)
		return EXIT_FAILURE;
	for (i = 0, e = test_entries; e; e = e->next)
		sorted[i++] = e;
	qsort(sorted, nr, sizeof(*sorted), test_entry_cmp);

	/* A test that would silently not run, or a case without tests: refuse. */
	for (i = 0; i < nr; i++) {
		for (t = 0; t < nr_tcases && strcmp(tcases[t].name, sorted[i]->tcase); t++)
			;
		if (t == nr_tcases) {
			fprintf(stderr, "%s: test %s names test case \"%s\", which the suite does not list\n",
				suite, (*sorted[i]->test)->name, sorted[i]->tcase);
			goto out;
		}
	}
	for (t = 0; t < nr_tcases; t++) {
		for (i = 0; i < nr && strcmp(tcases[t].name, sorted[i]->tcase); i++)
			;
		if (i == nr) {
			fprintf(stderr, "%s: test case \"%s\" has no tests\n", suite, tcases[t].name);
			goto out;
		}
	}

	s = suite_create(suite);
	for (t = 0; t < nr_tcases; t++) {
		TCase *tc = tcase_create(tcases[t].name);

		if (tcases[t].setup || tcases[t].teardown)
			tcase_add_checked_fixture(tc, tcases[t].setup, tcases[t].teardown);
		if (tcases[t].timeout)
			tcase_set_timeout(tc, tcases[t].timeout);
		for (i = 0; i < nr; i++) {
			e = sorted[i];
			if (strcmp(e->tcase, tcases[t].name))
				continue;
			if (e->loop)
				tcase_add_loop_test(tc, *e->test, e->loop_start, e->loop_end);
			else
				tcase_add_test(tc, *e->test);
		}
		suite_add_tcase(s, tc);
	}
	ret = run_suite(s);
out:
	free(sorted);
	return ret;
}

#define TCASE(n, ...) { .name = (n), __VA_ARGS__ }

#define TEST_RUN(suite, ...)							\
	test_run(suite, (const struct test_tcase[]){ __VA_ARGS__ },		\
		 sizeof((const struct test_tcase[]){ __VA_ARGS__ }) /		\
			 sizeof(struct test_tcase))

#endif /* PKVM_TESTS_TEST_REGISTRY_H */
