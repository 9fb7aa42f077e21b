// SPDX-License-Identifier: GPL-2.0
/*
 * Building the shadow stage 2 from the host's memory map: every region
 * becomes host memory with the largest blocks that fit, and the table pool
 * itself is given to the hypervisor, or a device could DMA into the tables
 * that are meant to confine it.
 */
#include "s2_pgtable.h"

static int check_config(const struct s2_config *cfg)
{
	u64 limit, prev_end = 0;

	if (cfg->ias < PKVM_S2_IAS_MIN || cfg->ias > PKVM_S2_IAS_MAX)
		return -EINVAL;
	limit = 1ull << cfg->ias;
	if (!cfg->nr_regions || cfg->nr_regions > S2_MAX_REGIONS || !cfg->regions)
		return -EINVAL;
	for (u32 i = 0; i < cfg->nr_regions; i++) {
		const struct s2_region *r = &cfg->regions[i];

		if (!r->size || !HYP_IS_ALIGNED(r->base | r->size, HYP_PAGE_SIZE) ||
		    r->base + r->size < r->base)
			return -EINVAL;
		if (r->base + r->size > limit)
			return -ERANGE;
		/* Sorted and disjoint, so that "first offending page" is well defined. */
		if (i && r->base < prev_end)
			return -EINVAL;
		prev_end = r->base + r->size;
	}
	if (!cfg->pool_pa || !cfg->pool_pages ||
	    !HYP_IS_ALIGNED(cfg->pool_pa, HYP_PAGE_SIZE) ||
	    cfg->pool_pa + cfg->pool_pages * HYP_PAGE_SIZE < cfg->pool_pa ||
	    cfg->pool_pages > (limit >> HYP_PAGE_SHIFT))
		return -EINVAL;
	if (!s2_policy_max_block(cfg->policy, cfg->presplit_level))
		return -EINVAL;
	if (cfg->fold > PKVM_FOLD_LAZY)
		return -EINVAL;
	return 0;
}

int s2_init(struct s2_pgtable *pgt, const struct s2_config *cfg)
{
	u64 pool_end;
	int ret;

	ret = check_config(cfg);
	if (ret)
		return ret;

	hyp_memset(pgt, 0, sizeof(*pgt));
	hyp_spin_lock_init(&pgt->lock);
	pgt->ias = cfg->ias;
	pgt->start_level = s2_start_level(cfg->ias);
	pgt->root_pages = s2_root_pages(cfg->ias);
	pgt->root_entries = s2_level_entries(cfg->ias, pgt->start_level);
	pgt->policy = cfg->policy;
	pgt->max_block_level = s2_policy_max_block(cfg->policy, cfg->presplit_level);
	pgt->bbm = cfg->policy != PKVM_SPLIT_HITLESS;
	pgt->noncoherent_walk = cfg->noncoherent_walk;
	pgt->full_threshold = cfg->full_threshold ? cfg->full_threshold : ~0ull;
	/* One range of one leaf, at the leaf's own granule: one command, never full. */
	s2_gather_init(&pgt->one, pgt->full_threshold);
	pgt->one.nr = 1;
	pgt->one.cost = 1;
	pgt->tlb = cfg->tlb;
	pgt->tlb_cookie = cfg->tlb_cookie;

	s2_pool_init(&pgt->pool, cfg->pool_pa, cfg->pool_pages);
	pgt->root_pa = s2_pool_carve_aligned(&pgt->pool, pgt->root_pages);
	if (!pgt->root_pa)
		return -ENOMEM;
	pgt->root = hyp_phys_to_virt(pgt->root_pa);
	pgt->table_pages = pgt->root_pages;
	/* Pinned even where it is not memory: it is never the host's. */
	pgt->pinned[0] = (struct s2_region){ cfg->pool_pa, cfg->pool_pages * HYP_PAGE_SIZE };
	pgt->nr_pinned = 1;

	for (u32 i = 0; i < cfg->nr_regions; i++) {
		ret = s2_map_memory(pgt, cfg->regions[i].base, cfg->regions[i].size);
		if (ret)
			return ret;
		pgt->mem_pages += cfg->regions[i].size >> HYP_PAGE_SHIFT;
	}

	/* The pool's pages that are memory belong to the hypervisor from now on. */
	pool_end = cfg->pool_pa + cfg->pool_pages * HYP_PAGE_SIZE;
	for (u32 i = 0; i < cfg->nr_regions; i++) {
		u64 s = HYP_MAX(cfg->pool_pa, cfg->regions[i].base);
		u64 e = HYP_MIN(pool_end, cfg->regions[i].base + cfg->regions[i].size);

		if (s >= e)
			continue;
		ret = s2_donate(pgt, s, e - s, PKVM_OWNER_HYP);
		if (ret)
			return ret;
	}
	/*
	 * Mapping and the pool's donation are set-up, not operations the
	 * host asked for; descriptor, flush and split counters keep them so
	 * the cost of init stays visible.
	 */
	hyp_memset(pgt->stats.ops, 0, sizeof(pgt->stats.ops));
	/* Set-up folds as it goes, whatever the mode: it starts minimal. */
	pgt->fold = cfg->fold;
	pgt->fold_low_watermark = cfg->fold_low_watermark ?
		cfg->fold_low_watermark : cfg->pool_pages / 16;
	return 0;
}
