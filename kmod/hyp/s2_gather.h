/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one operation must invalidate before it may report completion: a few
 * merged IPA ranges (each with the smallest leaf size it held, so an SMMU
 * without range invalidation knows its stride), or a whole-VMID flush when
 * that is cheaper, plus the table pages that may only go back to the pool
 * once the SMMU can no longer walk them.
 */
#ifndef PKVM_S2_GATHER_H
#define PKVM_S2_GATHER_H

#include "hyp_env.h"

#define S2_GATHER_RANGES	8
#define S2_GATHER_FREED		64

struct s2_inv_range {
	u64 start;
	u64 end;	/* exclusive */
	u64 granule;	/* smallest leaf size that was cached in the range */
};

struct s2_gather {
	struct s2_inv_range r[S2_GATHER_RANGES];
	u32 nr;
	bool full;		/* whole-VMID flush instead of the ranges */
	bool walk;		/* tables were unlinked: invalidate non-leaf too */
	u64 cost;		/* per-granule commands the ranges would take */
	u64 full_threshold;	/* cost above which a VMID flush is cheaper */
	/*
	 * The operation's own range: a gap between two ranges that lies
	 * inside it was changed too (made valid, which needs no TLBI), so
	 * bridging it keeps one range per contiguous change.
	 */
	u64 bridge_start;
	u64 bridge_end;
	u64 freed[S2_GATHER_FREED];
	u32 nr_freed;
};

/* Inline: every change starts one, and most end with it empty. */
static inline void s2_gather_init(struct s2_gather *g, u64 full_threshold)
{
	g->nr = 0;
	g->full = false;
	g->walk = false;
	g->cost = 0;
	g->full_threshold = full_threshold;
	g->bridge_start = 0;
	g->bridge_end = 0;
	g->nr_freed = 0;
}

void s2_gather_add_merge(struct s2_gather *g, u64 start, u64 end, u64 granule);

/*
 * Add [start, end) to what g invalidates. The first range of an empty
 * gather is what a one-page donation adds: it merges with nothing, so it
 * is stored inline; every other range goes through the merging.
 */
static inline void s2_gather_add(struct s2_gather *g, u64 start, u64 end,
				 u64 granule)
{
	if (g->nr || g->full) {
		s2_gather_add_merge(g, start, end, granule);
		return;
	}
	g->r[0].start = start;
	g->r[0].end = end;
	g->r[0].granule = granule;
	g->nr = 1;
	g->cost = (end - start) / granule;
	if (g->cost > g->full_threshold)
		g->full = true;
}
static inline bool s2_gather_empty(const struct s2_gather *g)
{
	return !g->nr && !g->full;
}
/*
 * Forget ranges and freed pages (after they were flushed and released);
 * the threshold and the operation's bridge stay. Inline: every flush ends
 * with it.
 */
static inline void s2_gather_reset(struct s2_gather *g)
{
	g->nr = 0;
	g->full = false;
	g->walk = false;
	g->cost = 0;
	g->nr_freed = 0;
}

#endif /* PKVM_S2_GATHER_H */
