// SPDX-License-Identifier: GPL-2.0
/*
 * Property test: random operations (seeded; the seed is printed and can be
 * replayed with PKVM_SEED) against a plain reference model, one owner per
 * page. After every batch the whole table is walked and compared page by
 * page; the table must always be the minimal one for the ownership it
 * holds, every page that left the host must have been invalidated in the
 * same operation, and after reclaiming everything the table is back to its
 * initial size.
 *
 * A quarter of the donations and reclaims go through pKVM's transition
 * hook instead (s2_host_prepare/commit): the prepare must answer as the
 * model does, an ordinary change between prepare and commit is refused,
 * and the commit uses exactly the table pages the prepare counted. The
 * ownership-event ring is replayed into a second model, which must equal
 * the first page by page: the records say exactly what changed.
 *
 * LAZY fold mode runs the same operations with compactions of random
 * budgets in between (and, in one run, a low watermark so high that
 * nearly every change folds first): the same oracles hold, a reclaim that
 * folded nothing flushed nothing, and "the table is minimal" becomes "the
 * table is minimal after a full compaction".
 *
 * PKVM_PROPERTY_OPS sets the number of operations (default 1000000).
 */
#include <check.h>
#include "test_registry.h"
#include <stdio.h>
#include <stdlib.h>

#include "s2_fixture.h"
#include "s2_optimal.h"
#include "refmodel.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define IAS 36

#define WIN_LO 0x3ff00000ull
#define WIN_HI 0xc0200000ull
#define WIN_PAGES ((WIN_HI - WIN_LO) >> 12)

/* Adjacent regions 1 and 2, unaligned edges, pool inside region 1. */
static const struct s2_region regions[] = {
	{ 0x40003000ull, 0x58000000ull - 0x5000 - 0x40003000ull },
	{ 0x60000000ull, 0x20000000ull },
	{ 0x80000000ull, GiB + 0x7000 },
};
#define POOL_PA (0x6ff00000ull + 0x3000)
#define POOL_PAGES 2048ull

/* Flushes the engine asked for during the current operation. */
struct flushes {
	struct s2_inv_range r[64];
	unsigned int nr_ranges;
	unsigned int calls;
	bool full;
};

static int record_flush(void *cookie, const struct s2_gather *g)
{
	struct flushes *f = cookie;

	f->calls++;
	f->full |= g->full;
	for (u32 i = 0; i < g->nr && f->nr_ranges < 64; i++)
		f->r[f->nr_ranges++] = g->r[i];
	return 0;
}

static const struct s2_tlb_ops flush_ops = { .flush = record_flush };

static u64 seed;
static long op_index;
static struct s2_ring ring;
static struct refmodel replay;	/* the first model, as the ring tells it */
static u64 replay_gen;
static long resyncs;
/* The run's fold mode, and the flushes its compactions made. */
static enum pkvm_fold_mode fold_mode;
static u64 compact_flushes;

#define fail_if_not(cond, ...)                                              \
	ck_assert_msg(cond, "seed 0x%llx op %ld: %s", (unsigned long long)seed, \
		      op_index, #cond)

static size_t pg(u64 addr)
{
	return (addr - WIN_LO) >> 12;
}

struct compare {
	const struct refmodel *m;
	long pages;
};

static int compare_leaf(const struct s2_leaf *l, void *arg)
{
	struct compare *c = arg;
	u64 lo = l->addr, hi = l->addr + l->size;

	if (l->memory && (lo < WIN_LO || hi > WIN_HI))
		return -ERANGE;
	if (l->memory && l->owner == PKVM_OWNER_HOST) {
		/* Host memory is Normal WB, read-write, accessed, to DMA. */
		u64 want = S2_ATTR_HOST | (l->shared ? S2_ATTR_SW_SHARED : 0);

		if (s2_desc_attrs(l->desc) != want || s2_desc_oa(l->desc) != lo)
			return -EFAULT;
	}
	lo = HYP_MAX(lo, WIN_LO);
	hi = HYP_MIN(hi, WIN_HI);
	for (u64 a = lo; a < hi; a += 4096) {
		u32 want = ref_state(c->m, a);
		u32 got = !l->memory ? 0 : l->owner ? OPT_OWNER(l->owner) :
			  l->shared ? OPT_HOST_SHARED : OPT_HOST;

		if (want != got) {
			fprintf(stderr, "page 0x%llx: engine state 0x%x, model 0x%x\n",
				(unsigned long long)a, got, want);
			return -EBADMSG;
		}
		c->pages++;
	}
	return 0;
}

/* A consumer that lost records starts again from the truth (the ledger). */
static void replay_resync(const struct refmodel *m)
{
	memcpy(replay.owner, m->owner, m->pages * sizeof(*m->owner));
	memcpy(replay.flags, m->flags, m->pages);
	memcpy(replay.nonhost_2m, m->nonhost_2m, m->nr_2m * sizeof(u32));
	memcpy(replay.nonhost_1g, m->nonhost_1g, m->nr_1g * sizeof(u32));
	replay_gen = ring.generation;
	resyncs++;
}

/* Everything the ring holds, applied to the replay model in order. */
static void replay_drain(const struct refmodel *m)
{
	struct s2_ring_rec r;
	bool lost;

	while (s2_ring_pop(&ring, &r, 1, &lost)) {
		if (lost)
			break;
		fail_if_not(r.generation == replay_gen + 1);
		fail_if_not(r.op < PKVM_IOMMU_OP_NR);
		ref_apply(&replay, r.op, r.addr, r.len, r.owner);
		replay_gen = r.generation;
	}
	if (lost) {
		while (s2_ring_pop(&ring, &r, 1, &lost))
			;
		replay_resync(m);
	}
	fail_if_not(replay_gen == ring.generation);
}

/*
 * One s2_compact() of a random budget; returns whether more may remain.
 * Compaction moves no page: the caller's next comparison shows it.
 */
static bool compact_step(struct s2_fixture *fx, u64 *st)
{
	u32 budget = 1 + (u32)(s2_rand(st) % 8), folded;
	u64 folds = fx->pgt.stats.folds, flushes = fx->pgt.stats.flushes;
	bool more;

	fail_if_not(s2_compact(&fx->pgt, budget, &folded, &more) == 0);
	fail_if_not(folded <= budget);
	fail_if_not(fx->pgt.stats.folds - folds == folded);
	fail_if_not(fx->pgt.pool.nr_free + fx->pgt.table_pages == POOL_PAGES);
	compact_flushes += fx->pgt.stats.flushes - flushes;
	return more;
}

/* LAZY: the table is never below the optimum, and reaches it compacted. */
static void compact_fully(struct s2_fixture *fx, const struct refmodel *m,
			  u32 max_level)
{
	u64 st = seed ^ (u64)op_index;
	long calls = 0;

	fail_if_not(fx->pgt.table_pages >= ref_optimal(m, max_level));
	while (compact_step(fx, &st))
		fail_if_not(++calls < 10000000);
}

static void compare_all(struct s2_fixture *fx, const struct refmodel *m, u32 max_level)
{
	struct compare c = { .m = m };
	int ret;
	u64 differ = 0;

	if (fold_mode == PKVM_FOLD_LAZY)
		compact_fully(fx, m, max_level);
	ret = s2_for_each_leaf(&fx->pgt, 0, 1ull << IAS, compare_leaf, &c);

	replay_drain(m);
	/* One assertion for all pages: each one costs Check a write(). */
	for (u64 a = WIN_LO; a < WIN_HI; a += 4096)
		differ += ref_state(&replay, a) != ref_state(m, a);
	fail_if_not(differ == 0);

	fail_if_not(ret == 0);
	fail_if_not(c.pages == (long)WIN_PAGES);
	fail_if_not(fx->pgt.table_pages == s2_count_table_pages(&fx->pgt));
	fail_if_not(fx->pgt.table_pages == ref_optimal(m, max_level));
	/* Every pool page is a table in use or free: no leak, no double use. */
	fail_if_not(fx->pgt.pool.nr_free + fx->pgt.table_pages == POOL_PAGES);
}

static bool covered(const struct flushes *f, u64 a)
{
	if (f->full)
		return true;
	for (unsigned int i = 0; i < f->nr_ranges; i++)
		if (a >= f->r[i].start && a < f->r[i].end)
			return true;
	return false;
}

/*
 * A donation or reclaim made by pKVM's hook instead: prepare, sometimes a
 * change that must be refused meanwhile (or a cancel and a new prepare),
 * commit. Returns the prepare's answer, checked against the model.
 */
static int hook_op(struct s2_fixture *fx, struct refmodel *m, const struct ref_op *o,
		   u64 *st, struct flushes *fl)
{
	bool access = o->op == PKVM_IOMMU_OP_RECLAIM;
	int want = ref_host_check(m, o->addr, o->size, access, o->owner);
	u64 folds = fx->pgt.stats.folds;
	int got = s2_host_prepare(&fx->pgt, o->addr, o->size, access, o->owner);
	u64 reserved, splits, errors;
	u32 folded;
	bool more;

	if (got != want)
		fprintf(stderr, "hook access %d addr 0x%llx size 0x%llx owner %u: got %d want %d\n",
			access, (unsigned long long)o->addr, (unsigned long long)o->size,
			o->owner, got, want);
	fail_if_not(got == want);
	if (got) {
		fail_if_not(!fx->pgt.pending.on && fx->pgt.reserved == 0);
		return got;
	}
	switch (s2_rand(st) % 8) {
	case 0:
		/* Nothing else may change the table the prepare counted on. */
		errors = fx->pgt.stats.errors;
		fail_if_not(s2_share(&fx->pgt, WIN_LO, 4096) == -EBUSY);
		fail_if_not(s2_set_split_policy(&fx->pgt, fx->pgt.policy, 0) == -EBUSY ||
			    fx->pgt.policy == PKVM_SPLIT_PRESPLIT);
		fail_if_not(s2_host_prepare(&fx->pgt, o->addr, o->size, access, o->owner) == -EBUSY);
		fail_if_not(fx->pgt.stats.errors > errors);
		fail_if_not(s2_compact(&fx->pgt, 8, &folded, &more) == -EBUSY);
		break;
	case 1:
		/* pKVM gave up: nothing happened, and the next prepare is free. */
		s2_host_cancel(&fx->pgt);
		fail_if_not(!fx->pgt.pending.on && fx->pgt.reserved == 0);
		fail_if_not(s2_host_prepare(&fx->pgt, o->addr, o->size, access, o->owner) == 0);
		break;
	default:
		break;
	}
	/* LAZY: a prepare short of pages folds (and flushes) first. */
	if (fold_mode == PKVM_FOLD_EAGER || fx->pgt.stats.folds == folds)
		fail_if_not(fl->calls == 0);
	reserved = fx->pgt.reserved;
	splits = fx->pgt.stats.splits;
	fail_if_not(reserved <= fx->pgt.pool.nr_free);
	fail_if_not(s2_host_commit(&fx->pgt, o->addr, o->size, access, o->owner) == 0);
	/* Exactly the pages counted: every split takes one. */
	fail_if_not(fx->pgt.stats.splits - splits == reserved);
	fail_if_not(!fx->pgt.pending.on && fx->pgt.reserved == 0);
	return 0;
}

/*
 * LAZY: a change that folded nothing flushed only for what it unmapped:
 * a reclaim not at all, anything else once, one range per contiguous
 * change where the split is hitless.
 */
static void lazy_flushes(const struct flushes *fl, u32 op, bool folded, bool hitless)
{
	if (fold_mode != PKVM_FOLD_LAZY || folded)
		return;
	if (op == PKVM_IOMMU_OP_RECLAIM)
		fail_if_not(fl->calls == 0);
	if (hitless) {
		fail_if_not(fl->calls <= 1);
		fail_if_not(fl->nr_ranges <= 1);
	}
}

static void run(enum pkvm_split_policy policy, u32 level, long nr_ops,
		enum pkvm_fold_mode fold, u64 low_watermark)
{
	struct flushes fl;
	struct s2_config cfg = {
		.ias = IAS, .regions = regions, .nr_regions = 3,
		.pool_pa = POOL_PA, .pool_pages = POOL_PAGES,
		.policy = policy, .presplit_level = level,
		.tlb = &flush_ops, .tlb_cookie = &fl,
		.fold = fold, .fold_low_watermark = low_watermark,
	};
	u32 max_level = policy == PKVM_SPLIT_PRESPLIT ? level : 1;
	u64 cst = seed ^ 0xc0ac7ull;
	struct s2_fixture fx;
	struct refmodel m;
	u64 st = seed, initial_pages;
	long batch = nr_ops / 100 ? nr_ops / 100 : 1, ok = 0;

	u64 hst = seed ^ 0x400c;
	long hooked = 0, compactions = 0;

	fold_mode = fold;
	compact_flushes = 0;

	fail_if_not(s2_fixture_init(&fx, &cfg) == 0);
	fail_if_not(ref_init(&m, IAS, WIN_LO, WIN_HI, regions, 3) == 0);
	ref_pin(&m, POOL_PA, POOL_PAGES * 4096);
	fail_if_not(ref_init(&replay, IAS, WIN_LO, WIN_HI, regions, 3) == 0);
	memset(&ring, 0, sizeof(ring));
	fx.pgt.ring = &ring;
	replay_gen = 0;
	replay_resync(&m);
	resyncs = 0;
	initial_pages = fx.pgt.table_pages;
	compare_all(&fx, &m, max_level);

	for (op_index = 0; op_index < nr_ops; op_index++) {
		struct ref_op o;
		int want, got;

		ref_gen(&m, &st, &o);
		memset(&fl, 0, sizeof(fl));
		/* LAZY: compaction interleaved with every kind of change. */
		if (fold == PKVM_FOLD_LAZY && s2_rand(&cst) % 8 == 0) {
			compact_step(&fx, &cst);
			compactions++;
			memset(&fl, 0, sizeof(fl));
		}
		if (o.op <= PKVM_IOMMU_OP_RECLAIM && s2_rand(&hst) % 4 == 0) {
			bool access = o.op == PKVM_IOMMU_OP_RECLAIM;
			bool was_host[64];
			u64 n = HYP_MIN(o.size >> 12, 64);

			for (u64 i = 0; i < n; i++)
				was_host[i] = ref_host_range(&m, o.addr + (i << 12), 4096);
			u64 folds = fx.pgt.stats.folds;

			got = hook_op(&fx, &m, &o, &hst, &fl);
			ref_host_done(&m, &o, access, got);
			hooked += !got;
			ok += !got;
			/* Every page that left the host was invalidated (first 64 looked at). */
			for (u64 i = 0; !got && !access && i < n; i++)
				if (was_host[i])
					fail_if_not(covered(&fl, o.addr + (i << 12)));
			/* One sync, plus one per gather's worth of folded tables. */
			if (!got && policy == PKVM_SPLIT_HITLESS)
				fail_if_not(fl.calls <= 1 + (fx.pgt.stats.folds - folds) / S2_GATHER_FREED);
			/* The hook's reclaim is the host regaining access. */
			if (!got && fold == PKVM_FOLD_LAZY && access && fx.pgt.stats.folds == folds)
				fail_if_not(fl.calls == 0);
			replay_drain(&m);
			if ((op_index + 1) % batch == 0)
				compare_all(&fx, &m, max_level);
			continue;
		}
		want = ref_check(&m, o.op, o.addr, o.size, o.owner);
		u64 folds = fx.pgt.stats.folds;

		switch (o.op) {
		case PKVM_IOMMU_OP_DONATE: got = s2_donate(&fx.pgt, o.addr, o.size, o.owner); break;
		case PKVM_IOMMU_OP_RECLAIM: got = s2_reclaim(&fx.pgt, o.addr, o.size, o.owner); break;
		case PKVM_IOMMU_OP_SHARE: got = s2_share(&fx.pgt, o.addr, o.size); break;
		default: got = s2_unshare(&fx.pgt, o.addr, o.size); break;
		}
		if (got != want)
			fprintf(stderr, "op %d addr 0x%llx size 0x%llx owner %u: got %d want %d\n",
				o.op, (unsigned long long)o.addr, (unsigned long long)o.size,
				o.owner, got, want);
		fail_if_not(got == want);
		ref_done(&m, &o, got);
		if (got) {
			fail_if_not(fl.calls == 0);
			continue;
		}
		ok++;
		/* Every page that left the host was invalidated in this op. */
		if (o.op == PKVM_IOMMU_OP_DONATE)
			for (u64 a = o.addr; a < o.addr + o.size; a += 4096)
				fail_if_not(covered(&fl, a));
		if (policy == PKVM_SPLIT_HITLESS && fold == PKVM_FOLD_EAGER) {
			/* One CMD_SYNC, one range per contiguous change. */
			fail_if_not(fl.calls <= 1);
			fail_if_not(fl.nr_ranges <= 1);
		}
		lazy_flushes(&fl, o.op, fx.pgt.stats.folds != folds,
			     policy == PKVM_SPLIT_HITLESS);
		replay_drain(&m);
		if ((op_index + 1) % batch == 0)
			compare_all(&fx, &m, max_level);
	}
	compare_all(&fx, &m, max_level);
	/* A run that mostly fails proves little. */
	fail_if_not(ok > nr_ops / 4);
	fail_if_not(hooked > nr_ops / 40);
	fail_if_not(fold == PKVM_FOLD_EAGER || compactions > nr_ops / 16);

	/* Give everything back: the table must be minimal again. */
	for (u64 a = WIN_LO; a < WIN_HI; a += 4096) {
		size_t i = pg(a);

		if (m.flags[i] & REF_SHARED) {
			fail_if_not(s2_unshare(&fx.pgt, a, 4096) == 0);
			ref_apply(&m, PKVM_IOMMU_OP_UNSHARE, a, 4096, 0);
		}
		if (m.owner[i] != PKVM_OWNER_HOST && !(m.flags[i] & REF_PINNED)) {
			u32 owner = m.owner[i];

			fail_if_not(s2_reclaim(&fx.pgt, a, 4096, owner) == 0);
			ref_apply(&m, PKVM_IOMMU_OP_RECLAIM, a, 4096, owner);
		}
	}
	compare_all(&fx, &m, max_level);
	fail_if_not(fx.pgt.table_pages == initial_pages);
	printf("policy %d fold %d: %ld ops, %ld succeeded (%ld by the hook), %ld compactions, "
	       "%llu splits, %llu folds, %llu bbm breaks, %ld ring resyncs\n",
	       policy, fold, nr_ops, ok, hooked, compactions,
	       (unsigned long long)fx.pgt.stats.splits,
	       (unsigned long long)fx.pgt.stats.folds,
	       (unsigned long long)fx.pgt.stats.bbm_breaks, resyncs);
	s2_fixture_fini(&fx);
	ref_fini(&m);
	ref_fini(&replay);
}

/* s2_batch's reader over an array the test filled. */
static int read_ops(void *arg, u32 i, struct s2_batch_op *op)
{
	const struct ref_op *o = (const struct ref_op *)arg + i;

	*op = (struct s2_batch_op){ o->op, o->owner, o->addr, o->size };
	return 0;
}

/*
 * Batches of 1..64 changes: the model applies them in order and the batch
 * must stop where the model says the first refusal is, with its error;
 * every page donated by the batch must be covered by its invalidation,
 * and a hitless batch takes one flush however many changes it carries.
 */
static void run_batched(enum pkvm_split_policy policy, long nr_ops,
			enum pkvm_fold_mode fold)
{
	static struct ref_op ops[64];
	struct flushes fl;
	struct s2_config cfg = {
		.ias = IAS, .regions = regions, .nr_regions = 3,
		.pool_pa = POOL_PA, .pool_pages = POOL_PAGES,
		.policy = policy, .tlb = &flush_ops, .tlb_cookie = &fl,
		.fold = fold,
	};
	struct s2_fixture fx;
	struct refmodel m;
	u64 st = seed ^ 0xba7c4ull, flushes0, cst = seed ^ 0xc0ac7ull;
	long batches = 0, changes = 0;

	fail_if_not(s2_fixture_init(&fx, &cfg) == 0);
	fail_if_not(ref_init(&m, IAS, WIN_LO, WIN_HI, regions, 3) == 0);
	ref_pin(&m, POOL_PA, POOL_PAGES * 4096);
	fail_if_not(ref_init(&replay, IAS, WIN_LO, WIN_HI, regions, 3) == 0);
	memset(&ring, 0, sizeof(ring));
	fx.pgt.ring = &ring;
	replay_gen = 0;
	replay_resync(&m);
	fold_mode = fold;
	compact_flushes = 0;
	flushes0 = fx.pgt.stats.flushes;

	for (op_index = 0; op_index < nr_ops; batches++) {
		u32 want_n = 1 + (u32)((st >> 33) % 64), n = 0, done = ~0u;
		int want = 0, got;

		/* The model decides op k after ops 0..k-1 took effect. */
		while (n < want_n && !want && op_index < nr_ops) {
			ref_gen(&m, &st, &ops[n]);
			want = ref_check(&m, ops[n].op, ops[n].addr, ops[n].size, ops[n].owner);
			ref_done(&m, &ops[n], want);
			n++;
			op_index++;
		}
		if (fold == PKVM_FOLD_LAZY && s2_rand(&cst) % 4 == 0)
			compact_step(&fx, &cst);
		memset(&fl, 0, sizeof(fl));
		got = s2_batch(&fx.pgt, n, read_ops, ops, &done);
		fail_if_not(got == want);
		fail_if_not(done == (want ? n - 1 : n));
		changes += done;
		for (u32 i = 0; i < done; i++)
			if (ops[i].op == PKVM_IOMMU_OP_DONATE)
				for (u64 a = ops[i].addr; a < ops[i].addr + ops[i].size; a += 4096)
					fail_if_not(covered(&fl, a));
		if (policy == PKVM_SPLIT_HITLESS)
			fail_if_not(fl.calls <= 1);
		/* Every change a batch made is one record, in order. */
		replay_drain(&m);
		if (batches % 200 == 0)
			compare_all(&fx, &m, 1);
	}
	compare_all(&fx, &m, 1);
	fail_if_not(changes > nr_ops / 4);
	/* Compactions were calls of their own, with their own flushes. */
	if (policy == PKVM_SPLIT_HITLESS)
		fail_if_not(fx.pgt.stats.flushes - flushes0 - compact_flushes <= (u64)batches);
	printf("batched policy %d fold %d: %ld changes in %ld batches, %llu flushes\n",
	       policy, fold, changes, batches,
	       (unsigned long long)(fx.pgt.stats.flushes - flushes0 - compact_flushes));
	s2_fixture_fini(&fx);
	ref_fini(&m);
	ref_fini(&replay);
}

static long nr_ops(void)
{
	const char *s = getenv("PKVM_PROPERTY_OPS");

	return s ? strtol(s, NULL, 0) : 1000000;
}

TEST("random", hitless_million_ops)
{
	run(PKVM_SPLIT_HITLESS, 0, nr_ops(), PKVM_FOLD_EAGER, 0);
}
END_TEST

TEST("random", bbm_ops)
{
	run(PKVM_SPLIT_BBM, 0, nr_ops() / 4, PKVM_FOLD_EAGER, 0);
}
END_TEST

TEST("random", batched_hitless_ops)
{
	run_batched(PKVM_SPLIT_HITLESS, nr_ops() / 4, PKVM_FOLD_EAGER);
}
END_TEST

TEST("random", batched_bbm_ops)
{
	run_batched(PKVM_SPLIT_BBM, nr_ops() / 8, PKVM_FOLD_EAGER);
}
END_TEST

TEST("random", presplit_2m_ops)
{
	run(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_2M, nr_ops() / 4, PKVM_FOLD_EAGER, 0);
}
END_TEST

TEST("random", lazy_hitless_ops)
{
	run(PKVM_SPLIT_HITLESS, 0, nr_ops() / 4, PKVM_FOLD_LAZY, 0);
}
END_TEST

TEST("random", lazy_bbm_ops)
{
	run(PKVM_SPLIT_BBM, 0, nr_ops() / 8, PKVM_FOLD_LAZY, 0);
}
END_TEST

/*
 * A watermark near the pool's size: nearly every change folds first (and
 * walks the whole table for it, hence fewer operations).
 */
TEST("random", lazy_under_pool_pressure_ops)
{
	run(PKVM_SPLIT_HITLESS, 0, nr_ops() / 200, PKVM_FOLD_LAZY, POOL_PAGES - 64);
}
END_TEST

TEST("random", lazy_presplit_2m_ops)
{
	run(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_2M, nr_ops() / 8, PKVM_FOLD_LAZY, 0);
}
END_TEST

TEST("random", lazy_batched_hitless_ops)
{
	run_batched(PKVM_SPLIT_HITLESS, nr_ops() / 8, PKVM_FOLD_LAZY);
}
END_TEST

int main(void)
{
	const char *s = getenv("PKVM_SEED");

	seed = s ? strtoull(s, NULL, 0) : 0x5eed2026ull;
	printf("property seed 0x%llx (replay with PKVM_SEED)\n", (unsigned long long)seed);
	return TEST_RUN("s2_property", TCASE("random", .timeout = 600));
}
