// SPDX-License-Identifier: GPL-2.0
#include "s2_pool.h"

static void push(struct s2_pool *pool, u64 pa)
{
	u64 *page = hyp_phys_to_virt(pa);

	page[0] = pool->free_head;
	pool->free_head = pa;
	pool->nr_free++;
}

void s2_pool_init(struct s2_pool *pool, u64 base, u64 nr_pages)
{
	pool->base = base;
	pool->nr_pages = nr_pages;
	pool->free_head = 0;
	pool->nr_free = 0;
	/* Push from the top so allocation order is ascending: easier to debug. */
	for (u64 i = nr_pages; i-- > 0;) {
		u64 pa = base + i * HYP_PAGE_SIZE;

		hyp_memset(hyp_phys_to_virt(pa), 0, HYP_PAGE_SIZE);
		push(pool, pa);
	}
	pool->min_free = pool->nr_free;
}

/*
 * Only valid right after s2_pool_init(), while the free list is still in
 * address order: the root of a concatenated stage 2 must be contiguous and
 * aligned to its own size (D8.2), which a scattered free list cannot give.
 */
u64 s2_pool_carve_aligned(struct s2_pool *pool, u32 nr)
{
	u64 align = (u64)nr * HYP_PAGE_SIZE;
	u64 start = (pool->base + align - 1) & ~(align - 1);
	u64 end = start + align;
	u64 *prevp = &pool->free_head;
	u64 pa;

	if (end > pool->base + pool->nr_pages * HYP_PAGE_SIZE || end < start)
		return 0;
	/* Unlink every page of [start, end); they are all free and zero. */
	while ((pa = *prevp) != 0) {
		u64 *page = hyp_phys_to_virt(pa);

		if (pa >= start && pa < end) {
			*prevp = page[0];
			page[0] = 0;
			pool->nr_free--;
		} else {
			prevp = &page[0];
		}
		if (pa >= end)
			break;
	}
	if (pool->nr_free < pool->min_free)
		pool->min_free = pool->nr_free;
	return start;
}

u64 s2_pool_alloc(struct s2_pool *pool)
{
	u64 pa = pool->free_head;
	u64 *page;

	if (!pa)
		return 0;
	page = hyp_phys_to_virt(pa);
	pool->free_head = page[0];
	page[0] = 0;
	pool->nr_free--;
	if (pool->nr_free < pool->min_free)
		pool->min_free = pool->nr_free;
	return pa;
}

void s2_pool_free(struct s2_pool *pool, u64 pa)
{
	hyp_memset(hyp_phys_to_virt(pa), 0, HYP_PAGE_SIZE);
	push(pool, pa);
}
