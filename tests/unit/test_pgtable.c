// SPDX-License-Identifier: GPL-2.0
/* The shadow engine's operations, one behaviour per test. */
#include <check.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test_registry.h"

#include "s2_fixture.h"
#include "s2_optimal.h"
#include "s2_snapshot.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define KiB (1ull << 10)

/* Three regions, unaligned to blocks at the edges; the pool is a carve-out. */
static const struct s2_region regions[] = {
	{ 0x40000000ull + 0x3000, GiB - 0x3000 - 0x2000 },
	{ 0x80000000ull, 2 * GiB },
	{ 0x200000000ull, 2 * MiB + 0x5000 },
};
#define POOL_PA 0x130000000ull

/* Records every flush the engine asks for, and what a watched pte held. */
struct recorder {
	struct s2_gather g[16];
	u64 watched_at_flush[16];
	u64 *watch;
	unsigned int n;
};

static int record_flush(void *cookie, const struct s2_gather *g)
{
	struct recorder *r = cookie;

	if (r->n < 16) {
		r->g[r->n] = *g;
		r->watched_at_flush[r->n] = r->watch ? hyp_read_pte(r->watch) : 0;
	}
	r->n++;
	return 0;
}

static const struct s2_tlb_ops record_ops = { .flush = record_flush };
static struct recorder rec;
static struct s2_fixture fx;

static void setup_policy(enum pkvm_split_policy policy, u32 level, u64 pool_pages)
{
	struct s2_config cfg = {
		.ias = 40,
		.regions = regions,
		.nr_regions = 3,
		.pool_pa = POOL_PA,
		.pool_pages = pool_pages,
		.policy = policy,
		.presplit_level = level,
		.tlb = &record_ops,
		.tlb_cookie = &rec,
	};

	memset(&rec, 0, sizeof(rec));
	ck_assert_int_eq(s2_fixture_init(&fx, &cfg), 0);
	rec.n = 0;
}

static void setup(void)
{
	setup_policy(PKVM_SPLIT_HITLESS, 0, 256);
}

static void teardown(void)
{
	s2_fixture_fini(&fx);
}

static u32 owner(u64 addr)
{
	u32 o = 0xdead;
	bool shared;

	ck_assert_int_eq(s2_owner_of(&fx.pgt, addr, &o, &shared), 0);
	return o;
}

/* Table pages a minimal table for the current ownership would need. */
static u64 optimal_pages(u32 max_level)
{
	struct s2_snapshot snap;
	struct opt_map m = { 0 };
	u64 pages;

	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &snap), 0);
	for (size_t i = 0; i < snap.nr; i++) {
		const struct s2_leaf *l = &snap.leaves[i];
		u32 st = !l->memory ? 0 : l->owner ? OPT_OWNER(l->owner) :
			 l->shared ? OPT_HOST_SHARED : OPT_HOST;

		if (st)
			opt_map_add(&m, l->addr, l->addr + l->size, st);
	}
	pages = opt_minimal(&m, fx.pgt.ias, max_level).table_pages;
	opt_map_free(&m);
	s2_snapshot_free(&snap);
	return pages;
}

TEST("ops", init_maps_largest_blocks)
{
	u32 o;
	bool shared;

	/*
	 * Region 1 is two whole 1 GiB blocks; region 0 needs 2 MiB and 4 KiB
	 * entries at both ends; region 2 one 2 MiB block and 5 pages. Root is
	 * 2 pages (ias 40, level 1); tables: region 0 one L2 + two L3,
	 * region 2 one L2 + one L3 = 5, total 7.
	 */
	ck_assert_uint_eq(fx.pgt.start_level, 1);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
	ck_assert_uint_eq(s2_count_table_pages(&fx.pgt), 7);
	ck_assert_uint_eq(optimal_pages(1), 7);
	ck_assert_uint_eq(owner(0x80000000ull), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner(0x40003000ull), PKVM_OWNER_HOST);
	ck_assert_int_eq(s2_owner_of(&fx.pgt, 0x40002000ull, &o, &shared), -ERANGE);
	ck_assert_int_eq(s2_owner_of(&fx.pgt, 0x200205000ull, &o, &shared), -ERANGE);
	ck_assert_int_eq(s2_owner_of(&fx.pgt, POOL_PA, &o, &shared), -ERANGE);
	ck_assert_uint_eq(fx.pgt.mem_pages, (GiB - 0x5000 + 2 * GiB + 2 * MiB + 0x5000) >> 12);
}
END_TEST

TEST("ops", donate_page_splits_and_invalidates_it_only)
{
	u64 a = 0x80000000ull + 3 * MiB + 0x7000;
	u64 splits = fx.pgt.stats.splits;

	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_uint_eq(owner(a), 7);
	ck_assert_uint_eq(owner(a - 4 * KiB), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner(a + 4 * KiB), PKVM_OWNER_HOST);
	/* 1 GiB -> L2 table, 2 MiB -> L3 table. */
	ck_assert_uint_eq(fx.pgt.table_pages, 9);
	ck_assert_uint_eq(fx.pgt.stats.splits - splits, 2);
	/* One flush (one CMD_SYNC), one range: the page, not the block. */
	ck_assert_uint_eq(rec.n, 1);
	ck_assert_uint_eq(rec.g[0].nr, 1);
	ck_assert(!rec.g[0].full);
	ck_assert_uint_eq(rec.g[0].r[0].start, a);
	ck_assert_uint_eq(rec.g[0].r[0].end, a + 4 * KiB);
	ck_assert_uint_eq(rec.g[0].r[0].granule, 4 * KiB);
}
END_TEST

TEST("ops", reclaim_folds_back_to_blocks)
{
	u64 a = 0x80000000ull + 3 * MiB + 0x7000;

	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_uint_eq(owner(a), PKVM_OWNER_HOST);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
	ck_assert_uint_eq(s2_count_table_pages(&fx.pgt), 7);
	ck_assert_uint_eq(fx.pgt.stats.folds, 2);	/* init folds nothing */
	/*
	 * The fold replaced 4 KiB entries by a 2 MiB and then a 1 GiB block:
	 * one range, the 1 GiB span, non-leaf, with a 4 KiB stride.
	 */
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_uint_eq(rec.g[1].nr, 1);
	ck_assert(rec.g[1].walk);
	ck_assert_uint_eq(rec.g[1].r[0].start, 0x80000000ull);
	ck_assert_uint_eq(rec.g[1].r[0].end, 0x80000000ull + GiB);
	ck_assert_uint_eq(rec.g[1].r[0].granule, 4 * KiB);
	/* The freed tables went back to the pool. */
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 256 - 7);
}
END_TEST

TEST("ops", donate_whole_block_keeps_one_entry)
{
	ck_assert_int_eq(s2_donate(&fx.pgt, 0x80000000ull, GiB, 3), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
	ck_assert_uint_eq(owner(0x80000000ull + GiB - 4 * KiB), 3);
	ck_assert_uint_eq(rec.g[0].r[0].granule, GiB);
	/* Partial reclaim of an owned block splits the invalid entry. */
	ck_assert_int_eq(s2_reclaim(&fx.pgt, 0x80000000ull, 2 * MiB, 3), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, 8);
	ck_assert_uint_eq(owner(0x80000000ull), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner(0x80000000ull + 2 * MiB), 3);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, 0x80000000ull + 2 * MiB, GiB - 2 * MiB, 3), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
}
END_TEST

TEST("ops", range_across_regions_and_blocks)
{
	/* From inside region 1's first block into its second: one range. */
	u64 a = 0x80000000ull + GiB - 8 * KiB;

	ck_assert_int_eq(s2_donate(&fx.pgt, a, 16 * KiB, 9), 0);
	ck_assert_uint_eq(rec.g[0].nr, 1);
	ck_assert_uint_eq(rec.g[0].r[0].start, a);
	ck_assert_uint_eq(rec.g[0].r[0].end, a + 16 * KiB);
	ck_assert_uint_eq(fx.pgt.table_pages, 7 + 4);
	ck_assert_uint_eq(optimal_pages(1), 7 + 4);
}
END_TEST

TEST("ops", errors_leave_table_unchanged)
{
	struct s2_snapshot before, after;
	u64 a = 0x80000000ull + 5 * MiB;

	ck_assert_int_eq(s2_donate(&fx.pgt, a, 8 * KiB, 4), 0);
	ck_assert_int_eq(s2_share(&fx.pgt, a + 64 * KiB, 4 * KiB), 0);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &before), 0);
	u64 errors = fx.pgt.stats.errors;

	ck_assert_int_eq(s2_donate(&fx.pgt, a + 1, 4 * KiB, 4), -EINVAL);
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 0, 4), -EINVAL);
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, PKVM_OWNER_HOST), -EINVAL);
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, PKVM_OWNER_MAX + 1), -EINVAL);
	ck_assert_int_eq(s2_donate(&fx.pgt, ~0ull & HYP_PAGE_MASK, 8 * KiB, 4), -EINVAL);
	ck_assert_int_eq(s2_donate(&fx.pgt, 1ull << 40, 4 * KiB, 4), -ERANGE);
	/* Starts in memory, runs into the hole after region 0. */
	ck_assert_int_eq(s2_donate(&fx.pgt, 0x80000000ull - 0x4000, 0x8000, 4), -ERANGE);
	/* Host pages first, then the already donated one: -EEXIST. */
	ck_assert_int_eq(s2_donate(&fx.pgt, a - 8 * KiB, 12 * KiB, 5), -EEXIST);
	ck_assert_int_eq(s2_donate(&fx.pgt, a + 64 * KiB, 4 * KiB, 5), -EBUSY);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a - 4 * KiB, 8 * KiB, 4), -EALREADY);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 8 * KiB, 5), -EPERM);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 12 * KiB, 4), -EALREADY);
	ck_assert_int_eq(s2_share(&fx.pgt, a, 4 * KiB), -EPERM);
	ck_assert_int_eq(s2_share(&fx.pgt, a + 64 * KiB, 4 * KiB), -EEXIST);
	ck_assert_int_eq(s2_unshare(&fx.pgt, a + 68 * KiB, 4 * KiB), -ENOENT);
	ck_assert_int_eq(s2_unshare(&fx.pgt, a, 4 * KiB), -EPERM);
	ck_assert_int_eq(s2_unshare(&fx.pgt, 0x40000000ull, 4 * KiB), -ERANGE);

	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	ck_assert_uint_eq(fx.pgt.stats.errors, errors + 17);
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}
END_TEST

TEST("ops", empty_pool_is_enomem_and_changes_nothing)
{
	struct s2_snapshot before, after;
	u64 a = 0x80000000ull + 3 * MiB + 0x7000;

	/* Init needs 7 pages; leave exactly one free: a 2-level split fails. */
	s2_fixture_fini(&fx);
	setup_policy(PKVM_SPLIT_HITLESS, 0, 8);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 1);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &before), 0);
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 2), -ENOMEM);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	ck_assert_uint_eq(rec.n, 0);
	/* A change that needs one page still fits. */
	ck_assert_int_eq(s2_donate(&fx.pgt, 0x80000000ull + 2 * MiB, 2 * MiB, 2), 0);
	ck_assert_uint_eq(fx.pgt.pool.nr_free, 0);
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}
END_TEST

TEST("ops", bbm_breaks_before_make)
{
	u64 a = 0x80000000ull + 3 * MiB + 0x7000;
	u64 *l1 = &fx.pgt.root[s2_level_index(a, 1, fx.pgt.root_entries)];

	s2_fixture_fini(&fx);
	setup_policy(PKVM_SPLIT_BBM, 0, 256);
	l1 = &fx.pgt.root[s2_level_index(a, 1, fx.pgt.root_entries)];
	rec.watch = l1;
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 4 * KiB, 7), 0);
	/* Break of the 1 GiB block, break of the 2 MiB block, then the page. */
	ck_assert_uint_eq(rec.n, 3);
	ck_assert_uint_eq(rec.watched_at_flush[0], 0);	/* invalid while flushed */
	ck_assert_uint_eq(rec.g[0].r[0].start, 0x80000000ull);
	ck_assert_uint_eq(rec.g[0].r[0].end, 0x80000000ull + GiB);
	ck_assert_uint_eq(rec.g[1].r[0].start, 0x80200000ull);
	ck_assert_uint_eq(rec.g[1].r[0].end, 0x80400000ull);
	ck_assert_uint_eq(rec.g[2].r[0].start, a);
	ck_assert(s2_desc_is_table(hyp_read_pte(l1), 1));
	ck_assert_uint_eq(fx.pgt.stats.bbm_breaks, 2);
	/* Folding back also breaks first: 2 breaks, no final range left. */
	rec.n = 0;
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a, 4 * KiB, 7), 0);
	ck_assert_uint_eq(fx.pgt.stats.bbm_breaks, 4);
	ck_assert_uint_eq(rec.n, 2);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
}
END_TEST

TEST("ops", presplit_never_splits_under_dma)
{
	s2_fixture_fini(&fx);
	setup_policy(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_4K, 4096);
	u64 splits = fx.pgt.stats.splits;

	ck_assert_uint_eq(fx.pgt.table_pages, optimal_pages(3));
	ck_assert_int_eq(s2_donate(&fx.pgt, 0x80000000ull + 0x5000, 4 * KiB, 2), 0);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, 0x80000000ull + 0x5000, 4 * KiB, 2), 0);
	ck_assert_uint_eq(fx.pgt.stats.splits, splits);
	ck_assert_uint_eq(fx.pgt.stats.bbm_breaks, 0);
	ck_assert_uint_eq(fx.pgt.table_pages, optimal_pages(3));
}
END_TEST

TEST("ops", policy_change_splits_and_folds_back)
{
	u64 base = fx.pgt.table_pages;

	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, PKVM_SPLIT_PRESPLIT, 2), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, optimal_pages(2));
	ck_assert_uint_gt(fx.pgt.table_pages, base);
	ck_assert_uint_eq(s2_count_table_pages(&fx.pgt), fx.pgt.table_pages);
	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, PKVM_SPLIT_HITLESS, 0), 0);
	ck_assert_uint_eq(fx.pgt.table_pages, base);
	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, PKVM_SPLIT_PRESPLIT, 0), -EINVAL);
	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, 9, 0), -EINVAL);
	/* Pages only needs far more than 256 pages: refused, nothing changed. */
	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, PKVM_SPLIT_PRESPLIT, 3), -ENOMEM);
	ck_assert_uint_eq(fx.pgt.table_pages, base);
	ck_assert_uint_eq(fx.pgt.max_block_level, 1);
}
END_TEST

/* What a split policy change may touch, to compare before and after. */
struct policy_state {
	enum pkvm_split_policy policy;
	u32 max_block_level;
	bool bbm;
	u64 table_pages;
	u64 nr_free;
	struct s2_stats stats;
	unsigned int flushes;
};

static struct policy_state policy_state(void)
{
	return (struct policy_state){
		.policy = fx.pgt.policy,
		.max_block_level = fx.pgt.max_block_level,
		.bbm = fx.pgt.bbm,
		.table_pages = fx.pgt.table_pages,
		.nr_free = fx.pgt.pool.nr_free,
		.stats = fx.pgt.stats,
		.flushes = rec.n,
	};
}

static void assert_policy_refused(enum pkvm_split_policy policy, u32 level, int err)
{
	struct s2_snapshot before, after;
	struct policy_state was = policy_state(), is;

	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &before), 0);
	ck_assert_int_eq(s2_set_split_policy(&fx.pgt, policy, level), err);
	is = policy_state();
	ck_assert_int_eq(is.policy, was.policy);
	ck_assert_uint_eq(is.max_block_level, was.max_block_level);
	ck_assert_int_eq(is.bbm, was.bbm);
	ck_assert_uint_eq(is.table_pages, was.table_pages);
	ck_assert_uint_eq(is.nr_free, was.nr_free);
	ck_assert_mem_eq(&is.stats, &was.stats, sizeof(is.stats));
	ck_assert_uint_eq(is.flushes, was.flushes);
	ck_assert_int_eq(s2_snapshot_take(&fx.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}

TEST("ops", split_policy_refusals_change_nothing)
{
	static const enum pkvm_split_policy start[] = {
		PKVM_SPLIT_HITLESS, PKVM_SPLIT_BBM, PKVM_SPLIT_PRESPLIT,
	};

	for (size_t i = 0; i < sizeof(start) / sizeof(start[0]); i++) {
		ck_assert_int_eq(s2_set_split_policy(&fx.pgt, start[i], PKVM_LEVEL_2M), 0);
		rec.n = 0;
		assert_policy_refused(PKVM_SPLIT_PRESPLIT, 0, -EINVAL);
		assert_policy_refused(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_4K + 1, -EINVAL);
		assert_policy_refused(PKVM_SPLIT_AUTO, PKVM_LEVEL_2M, -EINVAL);
		assert_policy_refused((enum pkvm_split_policy)9, 0, -EINVAL);
		/* Pages only needs far more than the 256-page pool. */
		assert_policy_refused(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_4K, -ENOMEM);
	}
}
END_TEST

/*
 * The set pass running out of table pages the check pass counted is a bug
 * in the engine: it must stop, not come back with an error after it has
 * switched the policy and split half the table (which is what it did when
 * it returned -EFAULT). A pool that claims more free pages than its list
 * holds makes the count wrong; the change runs in a child, which must die
 * by hyp_bug()'s abort().
 */
TEST("ops", pool_running_dry_mid_change_is_a_bug)
{
	pid_t pid = fork();
	int status;

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct rlimit no_core = { 0, 0 };
		int null = open("/dev/null", O_WRONLY);

		setrlimit(RLIMIT_CORE, &no_core);
		if (null >= 0)
			dup2(null, STDERR_FILENO);
		fx.pgt.pool.nr_free += 1u << 20;
		s2_set_split_policy(&fx.pgt, PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_4K);
		_exit(fx.pgt.max_block_level == PKVM_LEVEL_1G ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT,
		      "the engine returned (policy %s) instead of stopping",
		      WIFEXITED(status) && WEXITSTATUS(status) ? "changed" : "kept");
}
END_TEST

TEST("ops", share_is_recorded_and_folds_back)
{
	u64 a = 0x80000000ull + 0x9000;
	bool shared;
	u32 o;

	ck_assert_int_eq(s2_share(&fx.pgt, a, 4 * KiB), 0);
	ck_assert_int_eq(s2_owner_of(&fx.pgt, a, &o, &shared), 0);
	ck_assert(shared);
	ck_assert_uint_eq(o, PKVM_OWNER_HOST);
	/* The mapping did not change: nothing to invalidate. */
	ck_assert_uint_eq(rec.n, 0);
	ck_assert_int_eq(s2_unshare(&fx.pgt, a, 4 * KiB), 0);
	ck_assert_int_eq(s2_owner_of(&fx.pgt, a, &o, &shared), 0);
	ck_assert(!shared);
	ck_assert_uint_eq(fx.pgt.table_pages, 7);
}
END_TEST

TEST("ops", pool_inside_memory_is_the_hypervisors)
{
	static const struct s2_region one[] = { { 0x40000000ull, GiB } };
	struct s2_config cfg = {
		.ias = 36, .regions = one, .nr_regions = 1,
		.pool_pa = 0x40000000ull + 5 * MiB + 0x3000, .pool_pages = 64,
	};

	s2_fixture_fini(&fx);
	ck_assert_int_eq(s2_fixture_init(&fx, &cfg), 0);
	ck_assert_uint_eq(owner(cfg.pool_pa), PKVM_OWNER_HYP);
	ck_assert_uint_eq(owner(cfg.pool_pa + 63 * 4 * KiB), PKVM_OWNER_HYP);
	ck_assert_uint_eq(owner(cfg.pool_pa + 64 * 4 * KiB), PKVM_OWNER_HOST);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, cfg.pool_pa, 4 * KiB, PKVM_OWNER_HYP), -EPERM);
	ck_assert_int_eq(s2_donate(&fx.pgt, cfg.pool_pa, 4 * KiB, 5), -EEXIST);
	ck_assert_uint_eq(fx.pgt.table_pages, optimal_pages(1));
}
END_TEST

TEST("ops", pinned_ranges_never_go_back)
{
	u64 a = 0x80000000ull + 8 * MiB;

	/* Only the hypervisor's own pages can be pinned. */
	ck_assert_int_eq(s2_pin(&fx.pgt, a, 64 * KiB), -EPERM);
	ck_assert_int_eq(s2_donate(&fx.pgt, a, 64 * KiB, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(s2_pin(&fx.pgt, a, 64 * KiB), 0);
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a + 60 * KiB, 4 * KiB, PKVM_OWNER_HYP), -EPERM);
	ck_assert_uint_eq(owner(a + 60 * KiB), PKVM_OWNER_HYP);
	/* The pool is pinned from init, even as a carve-out. */
	ck_assert_uint_eq(fx.pgt.nr_pinned, 2);
	ck_assert_uint_eq(fx.pgt.pinned[0].base, POOL_PA);
	for (u32 i = 2; i < S2_MAX_PINNED; i++) {
		ck_assert_int_eq(s2_donate(&fx.pgt, a + i * MiB, 4 * KiB, PKVM_OWNER_HYP), 0);
		ck_assert_int_eq(s2_pin(&fx.pgt, a + i * MiB, 4 * KiB), 0);
	}
	ck_assert_int_eq(s2_donate(&fx.pgt, a + 20 * MiB, 4 * KiB, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(s2_pin(&fx.pgt, a + 20 * MiB, 4 * KiB), -ENOSPC);
	/* Unpinned hypervisor pages still come back. */
	ck_assert_int_eq(s2_reclaim(&fx.pgt, a + 20 * MiB, 4 * KiB, PKVM_OWNER_HYP), 0);
}
END_TEST

TEST("ops", bad_configs_are_refused)
{
	struct s2_pgtable pgt;
	struct s2_region overlap[] = { { 0x40000000ull, GiB }, { 0x40000000ull + MiB, MiB } };
	struct s2_region odd[] = { { 0x40000800ull, GiB } };
	struct s2_region high[] = { { 0xff000000ull, 32 * MiB } };
	struct s2_config cfg = { .ias = 40, .regions = overlap, .nr_regions = 2,
				 .pool_pa = POOL_PA, .pool_pages = 16 };

	ck_assert_int_eq(s2_init(&pgt, &cfg), -EINVAL);
	cfg.regions = odd;
	cfg.nr_regions = 1;
	ck_assert_int_eq(s2_init(&pgt, &cfg), -EINVAL);
	cfg.regions = high;
	cfg.ias = 32;
	ck_assert_int_eq(s2_init(&pgt, &cfg), -ERANGE);
	cfg.ias = 31;
	ck_assert_int_eq(s2_init(&pgt, &cfg), -EINVAL);
	cfg.ias = 49;
	ck_assert_int_eq(s2_init(&pgt, &cfg), -EINVAL);
	cfg.ias = 40;
	cfg.pool_pa = 0;
	ck_assert_int_eq(s2_init(&pgt, &cfg), -EINVAL);
}
END_TEST

TEST("gather", gather_merges_touching_and_bridged_ranges)
{
	struct s2_gather g;

	s2_gather_init(&g, ~0ull);
	s2_gather_add(&g, 0x1000, 0x2000, 0x1000);
	s2_gather_add(&g, 0x2000, 0x3000, 0x1000);
	ck_assert_uint_eq(g.nr, 1);
	ck_assert_uint_eq(g.r[0].end, 0x3000);
	s2_gather_add(&g, 0x10000, 0x20000, 0x10000);
	ck_assert_uint_eq(g.nr, 2);
	/* A range that touches both joins all three. */
	s2_gather_add(&g, 0x3000, 0x10000, 0x1000);
	ck_assert_uint_eq(g.nr, 1);
	ck_assert_uint_eq(g.r[0].start, 0x1000);
	ck_assert_uint_eq(g.r[0].end, 0x20000);
	ck_assert_uint_eq(g.r[0].granule, 0x1000);
	ck_assert_uint_eq(g.cost, 0x1f);

	/* Gaps inside the operation's range are bridged, others are not. */
	s2_gather_init(&g, ~0ull);
	g.bridge_start = 0x100000;
	g.bridge_end = 0x200000;
	s2_gather_add(&g, 0x100000, 0x101000, 0x1000);
	s2_gather_add(&g, 0x1ff000, 0x200000, 0x1000);
	ck_assert_uint_eq(g.nr, 1);
	s2_gather_add(&g, 0x300000, 0x301000, 0x1000);
	ck_assert_uint_eq(g.nr, 2);

	/* Too many ranges, or too costly ones: a whole-VMID flush. */
	s2_gather_init(&g, ~0ull);
	for (u64 i = 0; i <= S2_GATHER_RANGES; i++)
		s2_gather_add(&g, i * 0x10000, i * 0x10000 + 0x1000, 0x1000);
	ck_assert(g.full);
	s2_gather_init(&g, 512);
	s2_gather_add(&g, 0, 0x200000, 0x1000);
	ck_assert(!g.full);
	s2_gather_add(&g, 0x200000, 0x201000, 0x1000);
	ck_assert(g.full);
}
END_TEST

int main(void)
{
	return TEST_RUN("s2_pgtable",
			TCASE("ops", .setup = setup, .teardown = teardown),
			TCASE("gather"));
}
