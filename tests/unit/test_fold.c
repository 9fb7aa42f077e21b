// SPDX-License-Identifier: GPL-2.0
/*
 * Fold modes, one behaviour per test: LAZY reclaims write leaves and
 * invalidate nothing, s2_compact() folds within its budget and reaches the
 * minimal table, pool pressure folds before -ENOMEM, EAGER is untouched.
 */
#include <check.h>

#include "test_registry.h"

#include "s2_fixture.h"
#include "s2_snapshot.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/* One 2 GiB region: two 1 GiB blocks after init; the pool is a carve-out. */
static const struct s2_region regions[] = {
	{ 0x80000000ull, 2 * GiB },
};
#define POOL_PA 0x130000000ull
#define BASE 0x80000000ull
/* IAS 40 starts at level 1 with two concatenated root pages. */
#define ROOT 2

struct recorder {
	struct s2_gather g[16];
	unsigned int n;
};

static int record_flush(void *cookie, const struct s2_gather *g)
{
	struct recorder *r = cookie;

	if (r->n < 16)
		r->g[r->n] = *g;
	r->n++;
	return 0;
}

static const struct s2_tlb_ops record_ops = { .flush = record_flush };
static struct recorder rec;
static struct s2_fixture fx;

static void setup_fold(enum pkvm_fold_mode mode, enum pkvm_split_policy policy,
		       u64 pool_pages, u64 low_watermark)
{
	struct s2_config cfg = {
		.ias = 40, .regions = regions, .nr_regions = 1,
		.pool_pa = POOL_PA, .pool_pages = pool_pages,
		.policy = policy, .tlb = &record_ops, .tlb_cookie = &rec,
		.fold = mode, .fold_low_watermark = low_watermark,
	};

	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(s2_fixture_init(&fx, &cfg), 0);
	rec.n = 0;
}

static void setup(void)
{
	setup_fold(PKVM_FOLD_LAZY, PKVM_SPLIT_HITLESS, 256, 1);
}

static void teardown(void)
{
	s2_fixture_fini(&fx);
}

/* A page donated and reclaimed: its block is left split (LAZY). */
static void split_and_reclaim(u64 a)
{
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 4 * KiB, 7), 0);
}

/* Compact until the engine says nothing remains; returns tables folded. */
static u32 compact_all(void)
{
	u32 total = 0, folded;
	bool more = true;

	for (int i = 0; more; i++) {
		ck_assert_int_lt(i, 100000);
		ck_assert_int_eq(s2_compact(&fx.pgt, 4, &folded, &more), 0);
		ck_assert_uint_le(folded, 4);
		total += folded;
	}
	return total;
}

TEST("lazy", reclaim_writes_the_leaf_and_invalidates_nothing)
{
	u64 a = BASE + 3 * MiB + 0x7000;
	u64 writes;

	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 2);
	writes = fx.pgt.stats.desc_writes;
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 4 * KiB, 7), 0);
	/* One descriptor, no fold, no flush: nothing invalid was cached. */
	ck_assert_uint_eq(fx.pgt.stats.desc_writes - writes, 1);
	ck_assert_uint_eq(fx.pgt.stats.folds, 0);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 2);
	ck_assert_uint_eq(s2_count_table_pages(&fx.pgt), ROOT + 2);
	/* The next donation in the same block splits nothing. */
	ck_assert_int_eq(s2_donate(&fx.pgt, a + 4 * KiB, 4 * KiB, 7), 0);
	ck_assert_uint_eq(fx.pgt.stats.splits, 2);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_uint_eq(rec.g[1].r[0].start, a + 4 * KiB);
	ck_assert_uint_eq(rec.g[1].r[0].end, a + 8 * KiB);
}
END_TEST

TEST("lazy", compaction_folds_within_budget_and_invalidates_the_span)
{
	u64 a = BASE + 3 * MiB;
	u32 folded;
	bool more;

	split_and_reclaim(a);
	rec.n = 0;
	/* Budget 1: the 2 MiB table folds, the 1 GiB one waits. */
	ck_assert_int_eq(s2_compact(&fx.pgt, 1, &folded, &more), 0);
	ck_assert_uint_eq(folded, 1);
	ck_assert(more);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 1);
	ck_assert_uint_eq(rec.n, 1);
	ck_assert(rec.g[0].walk);
	ck_assert_uint_eq(rec.g[0].r[0].start, BASE + 2 * MiB);
	ck_assert_uint_eq(rec.g[0].r[0].end, BASE + 4 * MiB);
	ck_assert_uint_eq(rec.g[0].r[0].granule, 4 * KiB);
	ck_assert_int_eq(s2_compact(&fx.pgt, 1, &folded, &more), 0);
	ck_assert_uint_eq(folded, 1);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 256 - ROOT);
	/* Nothing left: the pass ends, no change was made meanwhile. */
	ck_assert_uint_eq(compact_all(), 0);
	ck_assert_int_eq(s2_compact(&fx.pgt, 0, &folded, &more), -EINVAL);
}
END_TEST

TEST("lazy", compaction_of_invalid_tables_drops_their_walk_cache_entry)
{
	/* A whole 2 MiB donated page by page: a table of one owner's entries. */
	for (u64 a = BASE; a < BASE + 2 * MiB; a += 4 * KiB)
		ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 5), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 2);
	rec.n = 0;
	ck_assert_uint_eq(compact_all(), 1);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 1);
	/* Non-leaf, somewhere in the span: one command, not 512. */
	ck_assert_uint_eq(rec.n, 1);
	ck_assert(rec.g[0].walk);
	ck_assert_uint_eq(rec.g[0].r[0].start, BASE);
	ck_assert_uint_eq(rec.g[0].r[0].granule, 2 * MiB);
}
END_TEST

TEST("lazy", a_change_during_a_pass_means_another_pass)
{
	u32 folded;
	bool more;

	/* Two folds far apart; stop after the first. */
	split_and_reclaim(BASE);
	split_and_reclaim(BASE + GiB);
	ck_assert_int_eq(s2_compact(&fx.pgt, 2, &folded, &more), 0);
	ck_assert_uint_eq(folded, 2);
	ck_assert(more);
	/* Behind the cursor now: the pass must not claim the table minimal. */
	split_and_reclaim(BASE);
	compact_all();
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
}
END_TEST

TEST("lazy", pool_pressure_folds_before_enomem)
{
	struct s2_snapshot before, after;
	u64 a;

	/*
	 * Room for the root and 4 tables, which two split-and-reclaimed 1 GiB
	 * blocks use; the watermark (pool_pages / 16) is 0.
	 */
	s2_fixture_fini(&fx);
	setup_fold(PKVM_FOLD_LAZY, PKVM_SPLIT_HITLESS, ROOT + 4, 0);
	for (a = BASE; a < BASE + 2 * GiB; a += GiB)
		split_and_reclaim(a);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 0);
	/* It needs a page: the engine folds (everything it may) first. */
	ck_assert_int_eq(s2_donate(&fx.pgt, BASE + 5 * MiB, 4 * KiB, 7), 0);
	ck_assert_uint_eq(fx.pgt.stats.folds, 4);
	ck_assert_uint_eq(fx.pgt.table_pages + fx.pgt.pool.nr_free, ROOT + 4);
	ck_assert_uint_eq(fx.pgt.table_pages, s2_count_table_pages(&fx.pgt));
	/* Folded everything and still short: refused, and nothing changed. */
	ck_assert_int_eq(s2_donate(&fx.pgt, BASE + GiB + 5 * MiB, 4 * KiB, 7), 0);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &before), 0);
	ck_assert_int_eq(s2_donate(&fx.pgt, BASE + 9 * MiB, 4 * KiB, 7), -ENOMEM);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}
END_TEST

TEST("lazy", below_the_watermark_a_change_folds_first)
{
	s2_fixture_fini(&fx);
	setup_fold(PKVM_FOLD_LAZY, PKVM_SPLIT_HITLESS, 16, 11);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 16 - ROOT);
	split_and_reclaim(BASE);
	ck_assert_uint_eq(fx.pgt.stats.folds, 0);
	/* 12 free: a change needing 2 would go below 11, so it folds first. */
	ck_assert_int_eq(s2_donate(&fx.pgt, BASE + GiB, 4 * KiB, 7), 0);
	ck_assert_uint_eq(fx.pgt.stats.folds, 2);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 2);
}
END_TEST

TEST("lazy", switching_to_eager_compacts_and_a_pending_transition_blocks)
{
	u32 folded;
	bool more;

	split_and_reclaim(BASE);
	ck_assert_int_eq(s2_host_prepare(&fx.pgt, BASE, 4 * KiB, false, 9), 0);
	ck_assert_int_eq(s2_compact(&fx.pgt, 8, &folded, &more), -EBUSY);
	ck_assert_int_eq(s2_set_fold_mode(&fx.pgt, PKVM_FOLD_EAGER), -EBUSY);
	s2_host_cancel(&fx.pgt);
	ck_assert_int_eq(s2_set_fold_mode(&fx.pgt, 2), -EINVAL);
	ck_assert_int_eq(s2_set_fold_mode(&fx.pgt, PKVM_FOLD_EAGER), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
	/* Eager as ever: the reclaim folds at once. */
	split_and_reclaim(BASE);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
	ck_assert_int_eq(s2_set_fold_mode(&fx.pgt, PKVM_FOLD_LAZY), 0);
	split_and_reclaim(BASE);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT + 2);
}
END_TEST

TEST("lazy", bbm_compaction_breaks_before_the_block)
{
	u64 breaks;

	s2_fixture_fini(&fx);
	setup_fold(PKVM_FOLD_LAZY, PKVM_SPLIT_BBM, 256, 1);
	split_and_reclaim(BASE);
	breaks = fx.pgt.stats.bbm_breaks;
	ck_assert_uint_eq(compact_all(), 2);
	ck_assert_uint_eq(fx.pgt.stats.bbm_breaks - breaks, 2);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 256 - ROOT);
}
END_TEST

TEST("eager", eager_is_the_default_and_folds_in_the_reclaim)
{
	struct s2_config cfg = {
		.ias = 40, .regions = regions, .nr_regions = 1,
		.pool_pa = POOL_PA, .pool_pages = 64, .fold = 2,
	};

	ck_assert_int_eq(s2_fixture_init(&fx, &cfg), -EINVAL);
	s2_fixture_fini(&fx);
	setup_fold(PKVM_FOLD_EAGER, PKVM_SPLIT_HITLESS, 64, 0);
	split_and_reclaim(BASE);
	ck_assert_uint_eq(fx.pgt.stats.folds, 2);
	ck_assert_uint_eq(fx.pgt.table_pages, ROOT);
	ck_assert_uint_eq(compact_all(), 0);
	s2_fixture_fini(&fx);
}
END_TEST

int main(void)
{
	return TEST_RUN("s2_fold",
			TCASE("lazy", .setup = setup, .teardown = teardown),
			TCASE("eager"));
}
