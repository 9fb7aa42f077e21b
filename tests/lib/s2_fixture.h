/* SPDX-License-Identifier: GPL-2.0 */
/* A shadow stage 2 over simulated memory, for tests and the benchmark. */
#ifndef PKVM_TESTS_S2_FIXTURE_H
#define PKVM_TESTS_S2_FIXTURE_H

#include "s2_pgtable.h"

struct s2_fixture {
	struct s2_pgtable pgt;
	void *pool_buf;
	u64 pool_pa;
	u64 pool_pages;
};

/* Backs the pool with real memory at pool_pa and runs s2_init(). */
int s2_fixture_init(struct s2_fixture *f, struct s2_config *cfg);
void s2_fixture_fini(struct s2_fixture *f);

/* splitmix64: small, seedable, good enough to drive random tests. */
static inline u64 s2_rand(u64 *state)
{
	u64 z = (*state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

#endif
