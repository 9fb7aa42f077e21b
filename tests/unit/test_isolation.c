// SPDX-License-Identifier: GPL-2.0
/*
 * The isolation checker: the property test's random operations, now made
 * through the hypercall entry, with a software SMMUv3 (sim/smmu_model.c)
 * walking the table the hyp core keeps. After every completed operation,
 * for every attached stream, DMA to pages the host no longer owns must
 * fault and DMA to host pages must succeed (the operation's range and a
 * sample of all memory), no TLB entry of the model may map a page the host
 * does not own, and the operation took at most one CMD_SYNC.
 *
 * A quarter of the donations and reclaims are pKVM's own transitions,
 * through the hook (pkvm_iommu_host_prepare/commit) instead of a
 * hypercall, with the same checks; hypercalls made between a prepare and
 * its commit are refused. The ownership-event ring is drained through
 * RING_POP, its generations without a gap unless it says it dropped some.
 *
 * In LAZY fold mode (FOLD_MODE) COMPACT calls of random budgets come in
 * between, with the same checks after them (a compaction that frees a
 * table without dropping its walk-cache entry, or a fold that leaves a
 * smaller entry mapping a page given away, shows up as a wrong DMA); a
 * reclaim that folded nothing takes no CMD_SYNC, and the table is the
 * optimum after COMPACT says nothing remains.
 *
 * PKVM_ISOLATION_OPS sets the number of operations (default 200000),
 * PKVM_SEED the seed.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "hvc.h"
#include "refmodel.h"
#include "s2_fixture.h"
#include "smmu_model.h"
#include "test_registry.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define WIN_LO 0x3ff00000ull
#define WIN_HI 0xc0200000ull

static const struct s2_region regions[] = {
	{ 0x40003000ull, 0x58000000ull - 0x5000 - 0x40003000ull },
	{ 0x60000000ull, 0x20000000ull },
	{ 0x80000000ull, GiB + 0x7000 },
};

/* Host memory the hyp core really reads and writes, inside region 1. */
#define HOSTBUF_PA 0x6f000000ull
#define HOSTBUF_SIZE (16 * MiB)
#define REGIONS_PA HOSTBUF_PA
#define EVENT_PA (HOSTBUF_PA + 0x1000)
#define POOL_PA (HOSTBUF_PA + MiB)
#define POOL_PAGES 2048ull
#define SMMU_MEM_PA (HOSTBUF_PA + 12 * MiB)
#define SMMU_MEM_PAGES 64ull
#define REGS_PA 0x09000000ull

#define SID_A 1u
#define SID_B 7u
#define SID_BLOCKED 3u
#define F_TRANSLATION 0x10u

static struct pkvm_iommu_hyp hyp;
static struct smmu_model model;
static struct refmodel ref;
static void *hostbuf, *regs;
static u64 seed;
static long op_index;
static u64 ring_gen;	/* generation of the last record drained */
static bool undrained;	/* no page to drain the event queue into for a while */

#define fail_if_not(cond)                                                   \
	ck_assert_msg(cond, "seed 0x%llx op %ld: %s", (unsigned long long)seed, \
		      op_index, #cond)

static s64 call(u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	const u64 a[6] = { a0, a1, a2, a3, a4, a5 };

	return pkvm_iommu_hvc(&hyp, fn, a);
}

static void machine_up(enum pkvm_split_policy policy, u32 level, bool ril, u32 bbml)
{
	struct smmu_model_cfg mc;

	ck_assert_int_eq(posix_memalign(&hostbuf, 4096, HOSTBUF_SIZE), 0);
	memset(hostbuf, 0, HOSTBUF_SIZE);
	ck_assert_int_eq(sim_phys_map(HOSTBUF_PA, HOSTBUF_SIZE, hostbuf), 0);
	ck_assert_int_eq(posix_memalign(&regs, 65536, SMMU_MODEL_REGS_SIZE), 0);
	smmu_model_default_cfg(&mc);
	mc.ril = ril;
	mc.bbml = bbml;
	ck_assert_int_eq(smmu_model_init(&model, regs, &mc), 0);
	ck_assert_int_eq(sim_phys_map(REGS_PA, SMMU_MODEL_REGS_SIZE, regs), 0);

	memcpy(hostbuf, regions, sizeof(regions));
	pkvm_iommu_hyp_setup(&hyp);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 3, POOL_PA, POOL_PAGES,
			      policy, level), 0);
	ck_assert_int_eq(ref_init(&ref, hyp.pgt.ias, WIN_LO, WIN_HI, regions, 3), 0);
	ref_pin(&ref, POOL_PA, POOL_PAGES * 4096);
}

static void bring_up(enum pkvm_split_policy policy, u32 level, bool ril, u32 bbml)
{
	machine_up(policy, level, ril, bbml);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), 0);
	/* A second add of the same SMMU is refused. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), -EEXIST);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID_A, PKVM_STREAM_ISOLATE, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID_B, PKVM_STREAM_ISOLATE, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID_BLOCKED, PKVM_STREAM_BLOCK, 0, 0, 0), 0);
	ref_pin(&ref, SMMU_MEM_PA, SMMU_MEM_PAGES * 4096);
}

static void tear_down(void)
{
	ref_fini(&ref);
	sim_phys_unmap(REGS_PA);
	smmu_model_fini(&model);
	sim_phys_unmap(HOSTBUF_PA);
	free(regs);
	free(hostbuf);
}

/* DMA from every isolating stream must agree with the model of ownership. */
static void check_page(u64 pa, u64 *st)
{
	bool host = ref_host_range(&ref, pa, 4096);
	bool write = s2_rand(st) & 1;
	int a = smmu_model_dma(&model, SID_A, pa, 4096, write);
	int b = smmu_model_dma(&model, SID_B, pa, 8, !write);

	if (host != (a == 0))
		fprintf(stderr, "page 0x%llx host %d: dma sid %u -> 0x%x\n",
			(unsigned long long)pa, host, SID_A, a);
	fail_if_not(host == (a == 0));
	fail_if_not(host == (b == 0));
	if (!host) {
		fail_if_not(a == F_TRANSLATION);
		fail_if_not(b == F_TRANSLATION);
	}
}

static int tlb_entry_ok(const struct smmu_model_tlbe *e, void *arg)
{
	(void)arg;
	if (!e->valid)
		return 0;
	/* Identity map: what the entry outputs is what it translates. */
	if (e->pa != e->ipa || !ref_host_range(&ref, e->pa, e->size)) {
		fprintf(stderr, "stale TLB entry: ipa 0x%llx size 0x%llx pa 0x%llx\n",
			(unsigned long long)e->ipa, (unsigned long long)e->size,
			(unsigned long long)e->pa);
		return -1;
	}
	return 0;
}

/* Every fault recorded must be one of ours: a stream we attached, a page not the host's. */
static long drain_events(void)
{
	const struct pkvm_iommu_event *ev;
	u64 out = EVENT_PA;
	long n = 0;
	s64 ret;

	/* Random donations may take any page: write into one the host still owns. */
	while (out < POOL_PA && !ref_host_range(&ref, out, 4096))
		out += 4096;
	if (out == POOL_PA) {
		fail_if_not(call(PKVM_IOMMU_HVC_EVENT_POP, 0, EVENT_PA, 0, 0, 0, 0) == -EPERM);
		/* pKVM's transitions take whole ranges: the queue may fill meanwhile. */
		undrained = true;
		return 0;
	}
	ev = (void *)((u8 *)hostbuf + (out - HOSTBUF_PA));
	while ((ret = call(PKVM_IOMMU_HVC_EVENT_POP, 0, out, 0, 0, 0, 0)) == 1) {
		fail_if_not(!(ev->flags & 4) || undrained);	/* no overflow */
		fail_if_not(ev->type == F_TRANSLATION);
		fail_if_not(ev->sid == SID_A || ev->sid == SID_B);
		fail_if_not(ev->flags & 2);	/* stage 2 */
		/* Unless the queue waited: ownership may have moved on since. */
		fail_if_not(undrained || !ref_host_range(&ref, HYP_ALIGN_DOWN(ev->addr, 4096), 4096));
		n++;
	}
	fail_if_not(ret == 0);
	undrained = false;
	return n;
}

/* A page for answers that the host still owns, or 0. */
static u64 answer_page(void)
{
	for (u64 pa = EVENT_PA; pa < POOL_PA; pa += 4096)
		if (ref_host_range(&ref, pa, 4096))
			return pa;
	return 0;
}

/* RING_POP until empty: records in generation order, no gap unless told. */
static long drain_ring(void)
{
	const struct pkvm_iommu_ring_hdr *hdr;
	const struct s2_ring_rec *rec;
	u64 pa = answer_page();
	bool lost = false;
	long n = 0;
	s64 got;

	if (!pa)
		return 0;
	hdr = (void *)((u8 *)hostbuf + (pa - HOSTBUF_PA));
	rec = (const void *)(hdr + 1);
	do {
		got = call(PKVM_IOMMU_HVC_RING_POP, pa, 127, 0, 0, 0, 0);
		fail_if_not(got >= 0 && got <= 127);
		/* What was kept is contiguous; what was dropped came after it. */
		for (s64 i = 0; i < got; i++) {
			fail_if_not(rec[i].generation == ring_gen + 1);
			fail_if_not(rec[i].op < PKVM_IOMMU_OP_NR && rec[i].len);
			ring_gen = rec[i].generation;
		}
		lost |= hdr->flags & PKVM_IOMMU_RING_LOST;
		n += got;
	} while (got == 127);
	if (lost)
		ring_gen = hdr->generation;
	fail_if_not(hdr->generation == ring_gen);
	return n;
}

/*
 * pKVM's transition instead of the hypercall: prepare (as the model says),
 * sometimes a hypercall that must be refused meanwhile, commit.
 */
static s64 hook_op(const struct ref_op *o, u64 *st)
{
	bool access = o->op == PKVM_IOMMU_OP_RECLAIM;
	s64 want = ref_host_check(&ref, o->addr, o->size, access, o->owner);
	s64 got = pkvm_iommu_host_prepare(&hyp, o->addr, o->size, access, o->owner);

	fail_if_not(got == want);
	if (got)
		return got;
	if (s2_rand(st) % 4 == 0) {
		u64 syncs = model.stats.syncs;

		fail_if_not(call(PKVM_IOMMU_HVC_DONATE, WIN_HI - 4096, 4096, 2, 0, 0, 0) == -EBUSY);
		fail_if_not(call(PKVM_IOMMU_HVC_SPLIT_POLICY, PKVM_SPLIT_AUTO, 0, 0, 0, 0, 0) == -EBUSY);
		fail_if_not(model.stats.syncs == syncs);
	}
	fail_if_not(pkvm_iommu_host_commit(&hyp, o->addr, o->size, access, o->owner) == 0);
	return 0;
}

/* COMPACT with a random budget; returns whether more may remain. */
static bool compact_call(u64 *st)
{
	u64 budget = 1 + s2_rand(st) % 16, syncs = model.stats.syncs;
	u64 folds = hyp.pgt.stats.folds;
	s64 r = call(PKVM_IOMMU_HVC_COMPACT, budget, 0, 0, 0, 0, 0);

	fail_if_not(r >= 0);
	fail_if_not((u64)(r & 0xffffffff) <= budget);
	fail_if_not(hyp.pgt.stats.folds - folds == (u64)(r & 0xffffffff));
	/* No fold, no sync. */
	if (hyp.pgt.stats.folds == folds)
		fail_if_not(model.stats.syncs == syncs);
	fail_if_not(hyp.pgt.pool.nr_free + hyp.pgt.table_pages == POOL_PAGES);
	return r & (s64)PKVM_IOMMU_COMPACT_MORE;
}

/* LAZY: "the table is minimal" holds once COMPACT says nothing remains. */
static void check_optimal(u64 *st)
{
	long calls = 0;

	if (hyp.pgt.fold == PKVM_FOLD_LAZY)
		while (compact_call(st))
			fail_if_not(++calls < 10000000);
	fail_if_not(hyp.pgt.table_pages == ref_optimal(&ref, hyp.pgt.max_block_level));
}

static void set_fold(enum pkvm_fold_mode fold)
{
	fail_if_not(call(PKVM_IOMMU_HVC_FOLD_MODE, fold, 0, 0, 0, 0, 0) == 0);
}

static void run(enum pkvm_split_policy policy, u32 level, bool ril, u32 bbml, long nr_ops,
		enum pkvm_fold_mode fold)
{
	u64 st = seed, faults = 0, hst = seed ^ 0x400c, cst = seed ^ 0xc0ac7ull;
	long ok = 0, hooked = 0, records = 0, compactions = 0;

	bring_up(policy, level, ril, bbml);
	set_fold(fold);
	ring_gen = 0;
	undrained = false;
	for (op_index = 0; op_index < nr_ops; op_index++) {
		u64 syncs = model.stats.syncs, breaks = hyp.pgt.stats.bbm_breaks;
		u64 folds = hyp.pgt.stats.folds;
		bool hook = false;
		struct ref_op o;
		s64 want, got;

		ref_gen(&ref, &st, &o);
		/* A compaction stands in for the operation: checked the same. */
		if (fold == PKVM_FOLD_LAZY && s2_rand(&cst) % 8 == 0) {
			compact_call(&cst);
			compactions++;
			o.op = PKVM_IOMMU_OP_NR;
			got = 0;
		} else if (o.op <= PKVM_IOMMU_OP_RECLAIM && s2_rand(&hst) % 4 == 0) {
			hook = true;
			got = hook_op(&o, &hst);
			ref_host_done(&ref, &o, o.op == PKVM_IOMMU_OP_RECLAIM, (int)got);
			hooked += !got;
		} else {
			want = ref_check(&ref, o.op, o.addr, o.size, o.owner);
			got = call(PKVM_IOMMU_HVC_OP(o.op), o.addr, o.size, o.owner, 0, 0, 0);
			fail_if_not(got == want);
			ref_done(&ref, &o, (int)got);
		}
		records += drain_ring();
		if (got) {
			fail_if_not(model.stats.syncs == syncs);
			continue;
		}
		ok++;
		/*
		 * One CMD_SYNC per operation, plus one per break of bbm (and,
		 * for a transition across many owners, one per gather's worth
		 * of folded tables).
		 */
		if (o.op == PKVM_IOMMU_OP_NR) {
			/* A compaction: one sync, plus bbm's breaks, plus full gathers. */
			fail_if_not(model.stats.syncs - syncs <= 1 + hyp.pgt.stats.bbm_breaks - breaks +
				    (hyp.pgt.stats.folds - folds) / S2_GATHER_FREED);
			o.addr = WIN_LO + ((s2_rand(&st) % ref.pages) << 12);
			o.size = 4096;
		} else {
			fail_if_not(model.stats.syncs - syncs <= 1 + hyp.pgt.stats.bbm_breaks - breaks +
				    (hook ? (hyp.pgt.stats.folds - folds) / S2_GATHER_FREED : 0));
		}
		/* LAZY: a reclaim writes leaves only, which nothing had cached. */
		if (fold == PKVM_FOLD_LAZY && o.op == PKVM_IOMMU_OP_RECLAIM &&
		    hyp.pgt.stats.folds == folds)
			fail_if_not(model.stats.syncs == syncs);

		check_page(o.addr, &st);
		check_page(o.addr + o.size - 4096, &st);
		for (int i = 0; i < 6; i++)
			check_page(o.addr + ((s2_rand(&st) % (o.size >> 12)) << 12), &st);
		for (int i = 0; i < 8; i++)
			check_page(WIN_LO + ((s2_rand(&st) % ref.pages) << 12), &st);
		/* A blocked stream reaches nothing, host memory included. */
		fail_if_not(smmu_model_dma(&model, SID_BLOCKED, 0x80000000ull, 64, true) != 0);
		fail_if_not(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL) == 0);
		faults += (u64)drain_events();
		/* Never into a page the host gave away. */
		if (!ref_host_range(&ref, EVENT_PA, 4096))
			fail_if_not(call(PKVM_IOMMU_HVC_EVENT_POP, 0, EVENT_PA, 0, 0, 0, 0) == -EPERM);
		if ((op_index + 1) % 10000 == 0)
			check_optimal(&cst);
	}
	check_optimal(&cst);
	fail_if_not(fold == PKVM_FOLD_EAGER || compactions > nr_ops / 16);
	fail_if_not(ok > nr_ops / 4);
	fail_if_not(hooked > nr_ops / 40);
	fail_if_not(faults > 0);
	fail_if_not(records >= ok - hooked);
	printf("isolation policy %d ril %d bbml %u fold %d: %ld ops, %ld ok (%ld by the hook), "
	       "%ld compactions, %ld records, %llu faults seen, %llu syncs, %llu dma, "
	       "%llu tlb hits\n", policy, ril, bbml, fold, nr_ops, ok, hooked, compactions, records,
	       (unsigned long long)faults, (unsigned long long)model.stats.syncs,
	       (unsigned long long)model.stats.dma, (unsigned long long)model.stats.tlb_hits);
	tear_down();
}

/* A page for batch records that the host still owns, or 0. */
#define OPS_LO (HOSTBUF_PA + 9 * MiB)
#define OPS_HI SMMU_MEM_PA

static u64 ops_page(void)
{
	for (u64 pa = OPS_LO; pa < OPS_HI; pa += 4096)
		if (ref_host_range(&ref, pa, 4096))
			return pa;
	return 0;
}

/*
 * The same checks after batches of 1..32 changes made in one BATCH call:
 * the batch ends where the model says the first refusal is, takes one
 * CMD_SYNC (plus bbm's breaks) for all its changes, and leaves no stale
 * TLB entry for any of them.
 */
static void run_batched(enum pkvm_split_policy policy, bool ril, u32 bbml, long nr_ops,
			enum pkvm_fold_mode fold)
{
	static struct ref_op o[32];
	u64 st = seed ^ 0xba7c4ull, faults = 0, cst = seed ^ 0xc0ac7ull;
	long changes = 0, batches = 0;

	bring_up(policy, 0, ril, bbml);
	set_fold(fold);
	for (op_index = 0; op_index < nr_ops; batches++) {
		u64 syncs = model.stats.syncs, breaks = hyp.pgt.stats.bbm_breaks;
		u64 pa = ops_page();
		struct pkvm_iommu_op *rec;
		u32 n = 0, want_n = 1 + (u32)(s2_rand(&st) % 32);
		int want = 0;
		s64 got;

		fail_if_not(pa != 0);
		if (fold == PKVM_FOLD_LAZY && s2_rand(&cst) % 4 == 0) {
			compact_call(&cst);
			fail_if_not(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL) == 0);
			syncs = model.stats.syncs;
			breaks = hyp.pgt.stats.bbm_breaks;
		}
		rec = (void *)((u8 *)hostbuf + (pa - HOSTBUF_PA));
		while (n < want_n && !want && op_index < nr_ops) {
			ref_gen(&ref, &st, &o[n]);
			want = ref_check(&ref, o[n].op, o[n].addr, o[n].size, o[n].owner);
			ref_done(&ref, &o[n], want);
			rec[n] = (struct pkvm_iommu_op){ o[n].op, o[n].owner,
							 o[n].addr, o[n].size, 1, 0 };
			op_index++;
			/* Giving away the records' own page ends the batch. */
			if (!want && !ref_host_range(&ref, pa, 4096))
				want_n = n + 1;
			n++;
		}
		got = call(PKVM_IOMMU_HVC_BATCH, pa, n, 0, 0, 0, 0);
		fail_if_not(got == (want ? n - 1 : n));
		if (want)
			fail_if_not(rec[n - 1].result == want);
		changes += got;
		if (!got) {
			fail_if_not(model.stats.syncs == syncs);
			continue;
		}
		fail_if_not(model.stats.syncs - syncs <= 1 + hyp.pgt.stats.bbm_breaks - breaks);
		for (s64 i = 0; i < got; i++) {
			check_page(o[i].addr, &st);
			check_page(o[i].addr + o[i].size - 4096, &st);
		}
		for (int i = 0; i < 8; i++)
			check_page(WIN_LO + ((s2_rand(&st) % ref.pages) << 12), &st);
		fail_if_not(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL) == 0);
		faults += (u64)drain_events();
	}
	fail_if_not(changes > nr_ops / 4);
	fail_if_not(faults > 0);
	check_optimal(&cst);
	printf("isolation batched policy %d: %ld changes in %ld batches, %llu syncs\n",
	       policy, changes, batches, (unsigned long long)model.stats.syncs);
	tear_down();
}

static long nr_ops(void)
{
	const char *s = getenv("PKVM_ISOLATION_OPS");

	return s ? strtol(s, NULL, 0) : 200000;
}

TEST("hvc+model", hitless_with_range_invalidation)
{
	run(PKVM_SPLIT_AUTO, 0, true, 2, nr_ops(), PKVM_FOLD_EAGER);
	/* auto on a BBML2 SMMU is hitless */
}
END_TEST

TEST("hvc+model", bbm_without_range_invalidation)
{
	/* auto on an SMMU without BBML resolves to break-before-make */
	run(PKVM_SPLIT_AUTO, 0, false, 0, nr_ops() / 4, PKVM_FOLD_EAGER);
}
END_TEST

TEST("hvc+model", presplit_pages_only)
{
	run(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_4K, true, 0, nr_ops() / 4, PKVM_FOLD_EAGER);
}
END_TEST

TEST("hvc+model", batched_hitless)
{
	run_batched(PKVM_SPLIT_AUTO, true, 2, nr_ops() / 4, PKVM_FOLD_EAGER);
}
END_TEST

TEST("hvc+model", batched_bbm)
{
	run_batched(PKVM_SPLIT_AUTO, false, 0, nr_ops() / 8, PKVM_FOLD_EAGER);
}
END_TEST

TEST("hvc+model", lazy_hitless_with_range_invalidation)
{
	run(PKVM_SPLIT_AUTO, 0, true, 2, nr_ops() / 4, PKVM_FOLD_LAZY);
}
END_TEST

TEST("hvc+model", lazy_bbm_without_range_invalidation)
{
	run(PKVM_SPLIT_AUTO, 0, false, 0, nr_ops() / 8, PKVM_FOLD_LAZY);
}
END_TEST

TEST("hvc+model", lazy_batched_bbm)
{
	run_batched(PKVM_SPLIT_AUTO, false, 0, nr_ops() / 8, PKVM_FOLD_LAZY);
}
END_TEST

static int skip_flush(void *cookie, const struct s2_gather *g)
{
	(void)cookie;
	(void)g;
	return 0;
}

static const struct s2_tlb_ops no_tlbi = { .flush = skip_flush };

/* The checker must catch an engine that forgets to invalidate. */
TEST("hvc+model", missing_invalidation_is_caught)
{
	u64 page = 0x80000000ull + 5 * MiB;

	bring_up(PKVM_SPLIT_HITLESS, 0, true, 2);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, false), 0);
	ck_assert(smmu_model_tlb_maps(&model, page));
	hyp.pgt.tlb = &no_tlbi;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, page, 4096, 2, 0, 0, 0), 0);
	ref_apply(&ref, PKVM_IOMMU_OP_DONATE, page, 4096, 2);
	/* Stale: the donated page is still reachable, and the checker says so. */
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, true), 0);
	ck_assert_int_ne(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL), 0);
	/* With the invalidation the same change is safe. */
	hyp.pgt.tlb = &smmu_tlb_ops;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, page, 4096, 2, 0, 0, 0), 0);
	ref_apply(&ref, PKVM_IOMMU_OP_RECLAIM, page, 4096, 2);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, page, 4096, 2, 0, 0, 0), 0);
	ref_apply(&ref, PKVM_IOMMU_OP_DONATE, page, 4096, 2);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, true), F_TRANSLATION);
	ck_assert_int_eq(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL), 0);
	tear_down();
}
END_TEST

/*
 * An SMMU that stops answering an invalidation fails closed: pKVM's
 * transition is made (it cannot be undone), and from then on the SMMU
 * aborts every transaction of every stream, host memory included, rather
 * than go on translating through what it may still have cached. The next
 * changes do not wait for it again, and its streams cannot be changed.
 */
TEST("hvc+model", unanswered_sync_fails_closed)
{
	u64 page = 0x80000000ull + 7 * MiB, host = 0x80000000ull + 9 * MiB;
	struct pkvm_iommu_hyp_smmu_info *info;
	u64 pa;

	bring_up(PKVM_SPLIT_HITLESS, 0, true, 2);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, false), 0);
	ck_assert(smmu_model_tlb_maps(&model, page));
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, page, 4096, false, 2), 0);
	model.stall_cmdq = true;
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, page, 4096, false, 2), -ETIMEDOUT);
	ref_host_apply(&ref, page, 4096, false, 2);
	/* Stale TLB or not: nothing gets through any more. */
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, true), SMMU_MODEL_ABORT);
	ck_assert_int_eq(smmu_model_dma(&model, SID_B, host, 64, true), SMMU_MODEL_ABORT);
	pa = answer_page();
	info = (void *)((u8 *)hostbuf + (pa - HOSTBUF_PA));
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_INFO, 0, pa, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(info->dead, 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, 9, PKVM_STREAM_ISOLATE, 0, 0, 0), -EIO);
	/* The table went on; the dead SMMU is not waited for again. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, host, 4096, 3, 0, 0, 0), 0);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, page, 4096, true, 0), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, page, 4096, true, 0), 0);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, page, 64, true), SMMU_MODEL_ABORT);
	tear_down();
}
END_TEST

/*
 * An SMMU that stops answering mid bring-up may still read its queues: its
 * memory must not go back to the host, where a device could rewrite them.
 */
TEST("hvc+model", timed_out_smmu_keeps_its_memory)
{
	u32 owner;
	bool shared;

	machine_up(PKVM_SPLIT_HITLESS, 0, true, 2);
	model.stall_cr0ack = true;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), -ETIMEDOUT);
	ck_assert_uint_eq(hyp.nr_smmus, 0);
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, SMMU_MEM_PA, &owner, &shared), 0);
	ck_assert_uint_eq(owner, PKVM_OWNER_HYP);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, SMMU_MEM_PA, 4096, PKVM_OWNER_HYP, 0, 0, 0),
			 -EPERM);
	/* A refusal of the layout comes before the donation: nothing changes. */
	model.stall_cr0ack = false;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA + 64 * 4096,
			      1, 0, 0, 0), -ENOMEM);
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, SMMU_MEM_PA + 64 * 4096, &owner, &shared), 0);
	ck_assert_uint_eq(owner, PKVM_OWNER_HOST);
	tear_down();
}
END_TEST

/*
 * pKVM claims the device tree's SMMUs at boot: from then on the SMMU
 * aborts all DMA (here: a stream that bypassed out of reset), SMMU_ADD
 * brings it up with every stream blocked, and only an attached stream
 * reaches host memory. SMMU_ADD takes no base that was not claimed.
 */
TEST("hvc+model", claimed_smmu_aborts_until_attached)
{
	const u64 host_pa = 0x80000000ull;

	machine_up(PKVM_SPLIT_HITLESS, 0, true, 2);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, host_pa, 4096, false), 0);
	pkvm_iommu_hyp_require_claims(&hyp);
	ck_assert_int_eq(pkvm_iommu_hyp_claim_smmu(&hyp, REGS_PA + 0x1000, 0x20000), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_hyp_claim_smmu(&hyp, REGS_PA, 0x10000), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_hyp_claim_smmu(&hyp, 0x0a000000ull, 0x20000), -ENXIO);
	ck_assert_int_eq(pkvm_iommu_hyp_claim_smmu(&hyp, REGS_PA, 0x20000), 0);
	ck_assert_int_eq(pkvm_iommu_hyp_claim_smmu(&hyp, REGS_PA, 0x20000), -EEXIST);
	ck_assert_uint_ne(model.gbpa & (1u << 20), 0);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, host_pa, 4096, false), SMMU_MODEL_ABORT);
	ck_assert_int_eq(smmu_model_dma(&model, SID_B, host_pa, 8, true), SMMU_MODEL_ABORT);

	/* Not claimed: refused before anything is taken. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA + 0x20000, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), -EACCES);
	ck_assert_uint_eq(hyp.nr_smmus, 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, REGS_PA, SMMU_MEM_PA,
			      SMMU_MEM_PAGES, 0, 0, 0), 0);
	ck_assert_int_ne(smmu_model_dma(&model, SID_A, host_pa, 4096, false), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, SID_A, PKVM_STREAM_ISOLATE, 0, 0, 0), 0);
	ck_assert_int_eq(smmu_model_dma(&model, SID_A, host_pa, 4096, false), 0);
	ck_assert_int_ne(smmu_model_dma(&model, SID_B, host_pa, 8, true), 0);
	tear_down();
}
END_TEST

int main(void)
{
	const char *s = getenv("PKVM_SEED");

	seed = s ? strtoull(s, NULL, 0) : 0x15011a7eull;
	printf("isolation seed 0x%llx (replay with PKVM_SEED)\n", (unsigned long long)seed);
	return TEST_RUN("isolation", TCASE("hvc+model", .timeout = 900));
}
