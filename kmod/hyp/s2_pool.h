/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Table-page pool. EL2 cannot allocate: the host donates a contiguous run
 * of pages up front and every table page comes from it. Free pages are kept
 * zeroed except for the link word, so an allocation hands out a page that
 * reads as 512 "hole" descriptors without touching it again.
 *
 * Freed pages are reused first, the last freed first: it is the one most
 * likely still in the cache. Pages never handed out are not on the list
 * but above 'fresh', taken in address order: a split fills a page the CPU
 * has not touched since set-up, and reading its link word first would be
 * one more cache miss in front of the fill.
 */
#ifndef PKVM_S2_POOL_H
#define PKVM_S2_POOL_H

#include "hyp_env.h"

struct s2_pool {
	u64 base;	/* pa of the donated run */
	u64 nr_pages;
	u64 free_head;	/* pa of the last freed page, 0 for none */
	u64 fresh;	/* pa of the first page never handed out */
	u64 nr_free;
	u64 min_free;	/* low-water mark, for statistics */
};

/* Take the run [base, base + nr_pages pages); base must not be 0. */
void s2_pool_init(struct s2_pool *pool, u64 base, u64 nr_pages);
/* Carve nr contiguous pages aligned to nr pages (the concatenated root). */
u64 s2_pool_carve_aligned(struct s2_pool *pool, u32 nr);
/* A zeroed page, or 0 when empty. Callers reserve first; 0 is a bug. */
u64 s2_pool_alloc(struct s2_pool *pool);
/* Return a page the SMMU can no longer reach (after TLBI + SYNC). */
void s2_pool_free(struct s2_pool *pool, u64 pa);

static inline bool s2_pool_contains(const struct s2_pool *pool, u64 pa)
{
	return pa >= pool->base && pa - pool->base < pool->nr_pages * HYP_PAGE_SIZE;
}

#endif /* PKVM_S2_POOL_H */
