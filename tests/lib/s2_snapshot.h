/* SPDX-License-Identifier: GPL-2.0 */
/* Everything observable about a shadow stage 2, to prove "nothing changed". */
#ifndef PKVM_TESTS_S2_SNAPSHOT_H
#define PKVM_TESTS_S2_SNAPSHOT_H

#include <stdbool.h>
#include <stddef.h>

#include "s2_pgtable.h"

struct s2_snapshot {
	struct s2_leaf *leaves;
	size_t nr, cap;
	u64 table_pages;
	u64 pool_free;
};

int s2_snapshot_take(struct s2_pgtable *pgt, struct s2_snapshot *snap);
bool s2_snapshot_equal(const struct s2_snapshot *a, const struct s2_snapshot *b);
void s2_snapshot_free(struct s2_snapshot *snap);

#endif
