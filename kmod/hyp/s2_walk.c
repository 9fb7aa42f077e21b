// SPDX-License-Identifier: GPL-2.0
/*
 * The one walk over the shadow stage 2. Jobs are visitors; the walker owns
 * the level math and the descent, and re-reads an entry after the leaf
 * visitor so that a visitor may split a leaf and have the walk go on into
 * the new table (the shape of KVM's kvm_pgtable_walk()). Its first half,
 * the descent and the visit of a range inside one leaf, is inline in
 * s2_pgtable.h (s2_walk_inline()); this is the rest.
 */
#include "s2_pgtable.h"

/*
 * An entry of a table the walk goes through: its leaf is visited as in the
 * descent (s2_walk_leaf()), its table walked into.
 */
static int walk_entry(struct s2_walk_data *d, u64 *ptep, u32 level)
{
	u64 old = hyp_read_pte(ptep);

	if (!s2_desc_is_table(old, level))
		return s2_walk_leaf(d, d->cb, d->flags, ptep, old, level);
	return s2_walk_into(d, ptep, old, HYP_ALIGN_DOWN(d->addr, s2_level_size(level)),
			    level);
}

/* The table 'old' at *ptep, then its post-order visit. */
int s2_walk_into(struct s2_walk_data *d, u64 *ptep, u64 old, u64 addr, u32 level)
{
	int ret = s2_walk_table(d, hyp_phys_to_virt(s2_desc_oa(old)), level + 1,
				S2_PTES_PER_TABLE);

	if (ret || !(d->flags & S2_VISIT_TABLE_POST))
		return ret;
	return s2_walk_visit(d, d->cb, ptep, hyp_read_pte(ptep), addr, level,
			     S2_VISIT_TABLE_POST);
}

int s2_walk_table(struct s2_walk_data *d, u64 *table, u32 level, u32 entries)
{
	for (u32 idx = s2_level_index(d->addr, level, entries);
	     idx < entries && d->addr < d->ctx.end; idx++) {
		int ret = walk_entry(d, &table[idx], level);

		if (ret)
			return ret;
	}
	return 0;
}

int s2_walk(struct s2_pgtable *pgt, u64 addr, u64 size,
	    const struct s2_walker *walker)
{
	return s2_walk_inline(pgt, addr, size, walker->cb, walker->arg,
			      walker->flags);
}
