// SPDX-License-Identifier: GPL-2.0
#include "s2_pool.h"

/* Onto the free list; the caller counts it free. */
static void push(struct s2_pool *pool, u64 pa)
{
	u64 *page = hyp_phys_to_virt(pa);

	page[0] = pool->free_head;
	pool->free_head = pa;
}

void s2_pool_init(struct s2_pool *pool, u64 base, u64 nr_pages)
{
	pool->base = base;
	pool->nr_pages = nr_pages;
	pool->free_head = 0;
	pool->fresh = base;
	pool->nr_free = nr_pages;
	for (u64 i = 0; i < nr_pages; i++)
		hyp_memset(hyp_phys_to_virt(base + i * HYP_PAGE_SIZE), 0, HYP_PAGE_SIZE);
	pool->min_free = pool->nr_free;
}

/*
 * Only valid right after s2_pool_init(), while every page is still fresh:
 * the root of a concatenated stage 2 must be contiguous and aligned to its
 * own size (D8.2). The fresh pages below it go on the free list, the lowest
 * first out, so pages are handed out in address order as before the carve.
 */
u64 s2_pool_carve_aligned(struct s2_pool *pool, u32 nr)
{
	u64 align = (u64)nr * HYP_PAGE_SIZE;
	u64 start = (pool->fresh + align - 1) & ~(align - 1);
	u64 end = start + align;

	if (pool->free_head || end > pool->base + pool->nr_pages * HYP_PAGE_SIZE ||
	    end < start)
		return 0;
	for (u64 pa = start; pa > pool->fresh;) {
		pa -= HYP_PAGE_SIZE;
		push(pool, pa);
	}
	pool->fresh = end;
	pool->nr_free -= nr;
	if (pool->nr_free < pool->min_free)
		pool->min_free = pool->nr_free;
	return start;
}

u64 s2_pool_alloc(struct s2_pool *pool)
{
	u64 pa = pool->free_head;

	if (pa) {
		u64 *page = hyp_phys_to_virt(pa);

		pool->free_head = page[0];
		page[0] = 0;
	} else if (pool->fresh < pool->base + pool->nr_pages * HYP_PAGE_SIZE) {
		/* Nothing reads a fresh page to take it: it is already zero. */
		pa = pool->fresh;
		pool->fresh += HYP_PAGE_SIZE;
	} else {
		return 0;
	}
	pool->nr_free--;
	if (pool->nr_free < pool->min_free)
		pool->min_free = pool->nr_free;
	return pa;
}

void s2_pool_free(struct s2_pool *pool, u64 pa)
{
	hyp_memset(hyp_phys_to_virt(pa), 0, HYP_PAGE_SIZE);
	push(pool, pa);
	pool->nr_free++;
}
