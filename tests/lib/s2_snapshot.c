// SPDX-License-Identifier: GPL-2.0
#include "s2_snapshot.h"
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static int add_leaf(const struct s2_leaf *leaf, void *arg)
{
	struct s2_snapshot *snap = arg;

	if (GROW_ARRAY(snap->leaves, snap->cap, snap->nr + 1, 1024))
		return -ENOMEM;
	snap->leaves[snap->nr++] = *leaf;
	return 0;
}

int s2_snapshot_take(struct s2_pgtable *pgt, struct s2_snapshot *snap)
{
	memset(snap, 0, sizeof(*snap));
	snap->table_pages = pgt->table_pages;
	snap->pool_free = pgt->pool.nr_free;
	return s2_for_each_leaf(pgt, 0, 1ull << pgt->ias, add_leaf, snap);
}

bool s2_snapshot_equal(const struct s2_snapshot *a, const struct s2_snapshot *b)
{
	if (a->nr != b->nr || a->table_pages != b->table_pages ||
	    a->pool_free != b->pool_free)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (a->leaves[i].addr != b->leaves[i].addr ||
		    a->leaves[i].level != b->leaves[i].level ||
		    a->leaves[i].desc != b->leaves[i].desc)
			return false;
	return true;
}

void s2_snapshot_free(struct s2_snapshot *snap)
{
	free(snap->leaves);
	memset(snap, 0, sizeof(*snap));
}
