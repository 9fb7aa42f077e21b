// SPDX-License-Identifier: GPL-2.0
#include "s2_gather.h"

static u64 range_cost(const struct s2_inv_range *r)
{
	return (r->end - r->start) / r->granule;
}

static void recost(struct s2_gather *g)
{
	g->cost = 0;
	for (u32 i = 0; i < g->nr; i++)
		g->cost += range_cost(&g->r[i]);
	if (g->cost > g->full_threshold)
		g->full = true;
}

/*
 * Walks visit addresses in ascending order, so a new range almost always
 * touches the last one; merging keeps one range per contiguous change,
 * which is what lets an SMMU with IDR3.RIL do it in one command.
 */
static bool inside_bridge(const struct s2_gather *g, u64 s, u64 e)
{
	return g->bridge_start <= s && e <= g->bridge_end;
}

/* Do [s1, e1) and [s2, e2) touch, or is the gap between them bridged? */
static bool joinable(const struct s2_gather *g, u64 s1, u64 e1, u64 s2, u64 e2)
{
	if (s1 <= e2 && s2 <= e1)
		return true;
	return e1 < s2 ? inside_bridge(g, e1, s2) : inside_bridge(g, e2, s1);
}

void s2_gather_add_merge(struct s2_gather *g, u64 start, u64 end, u64 granule)
{
	struct s2_inv_range *r;

	if (g->full)
		return;
	for (u32 i = 0; i < g->nr; i++) {
		r = &g->r[i];
		if (joinable(g, start, end, r->start, r->end)) {
			r->start = HYP_MIN(r->start, start);
			r->end = HYP_MAX(r->end, end);
			r->granule = HYP_MIN(r->granule, granule);
			/* The grown range may now touch its neighbours. */
			for (u32 j = 0; j < g->nr; j++) {
				struct s2_inv_range *o = &g->r[j];

				if (j == i || !joinable(g, r->start, r->end, o->start, o->end))
					continue;
				r->start = HYP_MIN(r->start, o->start);
				r->end = HYP_MAX(r->end, o->end);
				r->granule = HYP_MIN(r->granule, o->granule);
				g->r[j] = g->r[--g->nr];
				if (i == g->nr)
					i = j;
				r = &g->r[i];
				j = (u32)-1;
			}
			recost(g);
			return;
		}
	}
	if (g->nr == S2_GATHER_RANGES) {
		g->full = true;
		return;
	}
	g->r[g->nr++] = (struct s2_inv_range){ start, end, granule };
	recost(g);
}
