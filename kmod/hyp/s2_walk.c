// SPDX-License-Identifier: GPL-2.0
/*
 * The one walk over the shadow stage 2. Jobs are visitors; the walker owns
 * the level math and the descent, and re-reads an entry after the leaf
 * visitor so that a visitor may split a leaf and have the walk go on into
 * the new table (the shape of KVM's kvm_pgtable_walk()).
 */
#include "s2_pgtable.h"

/*
 * The context visitors see is the walk's own state: what is fixed for the
 * walk (table, range, argument) is set once, and a visit only fills in
 * the entry. Building a fresh context per visit was a 64-byte copy on
 * every change; visitors only read it.
 */
struct walk_data {
	struct s2_walk_ctx ctx;
	const struct s2_walker *w;
	u64 addr;	/* next address to visit */
};

static int walk_table(struct walk_data *d, u64 *table, u32 level, u32 entries);

static int visit(struct walk_data *d, u64 *ptep, u64 old, u64 addr, u32 level,
		 enum s2_visit visit)
{
	d->ctx.ptep = ptep;
	d->ctx.old = old;
	d->ctx.addr = addr;
	d->ctx.level = level;
	return d->w->cb(&d->ctx, visit);
}

/*
 * The context of a visit is only built for a visit: a walk passes through
 * most table entries without one, and the descent is the hot path of every
 * change.
 */
static int walk_entry(struct walk_data *d, u64 *ptep, u32 level)
{
	u64 addr = HYP_ALIGN_DOWN(d->addr, s2_level_size(level));
	u64 old = hyp_read_pte(ptep);
	int ret;

	if (!s2_desc_is_table(old, level) && (d->w->flags & S2_VISIT_LEAF)) {
		ret = visit(d, ptep, old, addr, level, S2_VISIT_LEAF);
		if (ret)
			return ret;
		old = hyp_read_pte(ptep);
	}
	if (!s2_desc_is_table(old, level)) {
		d->addr = addr + s2_level_size(level);
		return 0;
	}
	ret = walk_table(d, hyp_phys_to_virt(s2_desc_oa(old)), level + 1,
			 S2_PTES_PER_TABLE);
	if (ret || !(d->w->flags & S2_VISIT_TABLE_POST))
		return ret;
	return visit(d, ptep, hyp_read_pte(ptep), addr, level, S2_VISIT_TABLE_POST);
}

static int walk_table(struct walk_data *d, u64 *table, u32 level, u32 entries)
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
	struct walk_data d = {
		.ctx = {
			.pgt = pgt,
			.start = addr,
			.end = addr + size,
			.arg = walker->arg,
		},
		.w = walker,
		.addr = addr,
	};

	u64 *table = pgt->root;
	u32 level = pgt->start_level, entries = pgt->root_entries;

	if (!size || d.ctx.end < addr || d.ctx.end > (1ull << pgt->ias))
		return -ERANGE;
	/*
	 * While the range lies inside one table entry, a walker that visits
	 * no table on the way up has nothing to do at this level: descend
	 * without recursing. Most changes are a page or a block, so most
	 * walks start at the level of their leaf, and end at it: a range
	 * inside one leaf is that entry's visit alone, with no loop around it.
	 */
	if (!(walker->flags & S2_VISIT_TABLE_POST)) {
		u64 diff = addr ^ (d.ctx.end - 1);	/* bits where the range's ends differ */
		u32 shift = s2_level_shift(level);

		while (!(diff >> shift)) {
			u64 *ptep = &table[(addr >> shift) & (entries - 1)];
			u64 pte = hyp_read_pte(ptep);

			if (!s2_desc_is_table(pte, level))
				return walk_entry(&d, ptep, level);
			table = hyp_phys_to_virt(s2_desc_oa(pte));
			level++;
			entries = S2_PTES_PER_TABLE;
			shift -= S2_BITS_PER_LEVEL;
		}
	}
	return walk_table(&d, table, level, entries);
}
