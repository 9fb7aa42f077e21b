// SPDX-License-Identifier: GPL-2.0
/*
 * End to end: the shadow engine's table attached to a stream of the
 * software SMMU through the driver core. DMA reaches host memory and
 * nothing else; a donation takes effect for DMA once the operation
 * returns, with one CMD_SYNC per flush; and a flush that skips an
 * invalidation is caught by the model's stale TLB and walk cache.
 */
#include <check.h>

#include "test_registry.h"
#include <stdlib.h>

#include "names.h"
#include "smmu_fixture.h"
#include "smmu_tlb.h"

#define GiB		(1ull << 30)
#define MiB		(1ull << 20)
#define PG		HYP_PAGE_SIZE

#define POOL_PA		0x7e000000ull
#define POOL_PAGES	1024ull
#define VMID		1
#define SID		5
#define SID_B		6
#define GUEST		(PKVM_OWNER_GUEST_FIRST + 1)

/* Two regions: the first holds the pool and the SMMU's memory. */
static const struct s2_region regions[] = {
	{ 0x40000000ull, GiB },
	{ 0x100000000ull, GiB },
};

static struct smmu_fixture fx;
static struct s2_pgtable pgt;
static struct smmu_tlb_domain dom;
static struct smmu_s2_params s2p;
static void *pool_buf;

/*
 * Variants: 0 a capable SMMUv3.2 (two-level, RIL, BBML2 -> hitless);
 * 1 an SMMUv3.0 (linear table, no RIL, BBML0 -> break-before-make);
 * 2 non-coherent, linear, RIL, BBML1, no walk cache in the model.
 */
#define NR_VARIANTS 3

static void model_variant(struct smmu_model_cfg *mc, int v)
{
	smmu_model_default_cfg(mc);
	if (v == 1) {
		mc->two_level = false;
		mc->ril = false;
		mc->bbml = 0;
	} else if (v == 2) {
		mc->two_level = false;
		mc->coherent = false;
		mc->bbml = 1;
		mc->walk_cache = false;
	}
}

static void e2e_setup(int v)
{
	struct smmu_model_cfg mc;
	struct s2_config cfg;

	model_variant(&mc, v);
	/* The pool first: window 0 is the walker's fast path. */
	ck_assert_int_eq(posix_memalign(&pool_buf, PG, POOL_PAGES * PG), 0);
	ck_assert_int_eq(sim_phys_map(POOL_PA, POOL_PAGES * PG, pool_buf), 0);
	ck_assert_int_eq(fx_init(&fx, &mc), 0);
	ck_assert_int_eq(fx_dev_init(&fx), 0);

	memset(&dom, 0, sizeof(dom));
	dom.vmid = VMID;
	ck_assert_int_eq(smmu_tlb_domain_add(&dom, &fx.dev), 0);
	cfg = (struct s2_config){
		.ias = 40,
		.regions = regions,
		.nr_regions = 2,
		.pool_pa = POOL_PA,
		.pool_pages = POOL_PAGES,
		.policy = smmu_split_policy_auto(&fx.dev.feat),
		.tlb = &smmu_tlb_ops,
		.tlb_cookie = &dom,
		.full_threshold = smmu_tlb_domain_threshold(&dom),
		.noncoherent_walk = !fx.dev.feat.coherent,
	};
	ck_assert_int_eq(s2_init(&pgt, &cfg), 0);
	/* The stream table and queues must be out of every device's reach. */
	ck_assert_int_eq(s2_donate(&pgt, FX_MEM_PA, FX_MEM_SIZE, PKVM_OWNER_HYP), 0);
	smmu_s2_params_from_pgt(&s2p, &pgt, VMID);
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, &s2p), 0);
}

static void e2e_teardown(void)
{
	fx_fini(&fx);
	sim_phys_unmap(POOL_PA);
	free(pool_buf);
	pool_buf = NULL;
}

static int dma(u64 addr, u64 len, bool write)
{
	return smmu_model_dma(&fx.model, SID, addr, len, write);
}

static unsigned int events(struct smmu_event *ev, unsigned int n)
{
	bool ovf;
	unsigned int got = fx_events(&fx, ev, n, &ovf);

	ck_assert(!ovf);
	return got;
}

/* ---- the checker: every cached translation outputs host memory only ---- */

static int leaf_is_host(const struct s2_leaf *leaf, void *arg)
{
	(void)arg;
	return leaf->memory && leaf->owner == PKVM_OWNER_HOST ? 0 : 1;
}

static int tlbe_ok(const struct smmu_model_tlbe *e, void *arg)
{
	(void)arg;
	/* An identity map: anything else is a walk through a wrong table. */
	if (e->pa != e->ipa)
		return 1;
	return s2_for_each_leaf(&pgt, e->pa, e->size, leaf_is_host, NULL);
}

static bool tlb_host_only(void)
{
	return smmu_model_tlb_for_each(&fx.model, tlbe_ok, NULL) == 0;
}

/* ---- flushes that skip part of the work, to show the model sees it ---- */

static int flush_sync_only(void *cookie, const struct s2_gather *g)
{
	struct smmu_tlb_domain *d = cookie;

	(void)g;
	return smmu_dev_sync(d->devs[0]);
}

static int flush_leaf_only(void *cookie, const struct s2_gather *g)
{
	struct s2_gather leaf = *g;

	leaf.walk = false;
	return smmu_tlb_flush(cookie, &leaf);
}

static const struct s2_tlb_ops sync_only_ops = { .flush = flush_sync_only };
static const struct s2_tlb_ops leaf_only_ops = { .flush = flush_leaf_only };

/* ---- tests ---- */

TEST_LOOP("e2e", host_dma_ok, 0, NR_VARIANTS)
{
	struct smmu_event ev[4];
	static const u64 host[] = {
		0x40000000ull, POOL_PA - PG, POOL_PA + POOL_PAGES * PG,
		FX_MEM_PA - PG, FX_MEM_PA + FX_MEM_SIZE, 0x7ffff000ull,
		0x100000000ull, 0x13ffff000ull,
	};

	e2e_setup(_i);
	for (unsigned int i = 0; i < HYP_ARRAY_SIZE(host); i++) {
		ck_assert_int_eq(dma(host[i], 8, false), 0);
		ck_assert_int_eq(dma(host[i], PG, true), 0);
	}
	/* One transaction across many blocks and pages */
	ck_assert_int_eq(dma(0x100000000ull + 0x1234, 3 * MiB, true), 0);
	ck_assert_int_eq(dma(0x40000000ull, POOL_PA - 0x40000000ull, false), 0);
	ck_assert_uint_eq(events(ev, 4), 0);
	ck_assert(tlb_host_only());
	ck_assert_uint_gt(fx.model.stats.tlb_hits, 0);
}
END_TEST

TEST_LOOP("e2e", non_host_faults, 0, NR_VARIANTS)
{
	struct smmu_event ev[8];
	static const u64 other[] = {
		POOL_PA,			/* the stage-2 tables */
		POOL_PA + POOL_PAGES * PG - PG,
		FX_MEM_PA,			/* the stream table itself */
		FX_CMDQ_PA + 0x40,		/* the command queue */
		0x80000000ull,			/* a hole */
		0x20000000ull,
		1ull << 40,			/* beyond the IAS */
	};

	e2e_setup(_i);
	for (unsigned int i = 0; i < HYP_ARRAY_SIZE(other); i++) {
		ck_assert_int_eq(dma(other[i], 8, i & 1), SMMU_EVT_F_TRANSLATION);
		ck_assert_uint_eq(events(ev, 8), 1);
		ck_assert_uint_eq(ev[0].type, SMMU_EVT_F_TRANSLATION);
		ck_assert_uint_eq(ev[0].sid, SID);
		ck_assert_uint_eq(ev[0].addr, other[i]);
		ck_assert(ev[0].s2);
		ck_assert_uint_eq(ev[0].read, !(i & 1));
	}
	/* A transaction that starts on host memory and runs into the pool */
	ck_assert_int_eq(dma(POOL_PA - PG, 2 * PG, false), SMMU_EVT_F_TRANSLATION);
	ck_assert_uint_eq(events(ev, 8), 1);
	ck_assert_uint_eq(ev[0].addr, POOL_PA);
	ck_assert(tlb_host_only());
}
END_TEST

TEST_LOOP("e2e", donate_then_fault, 0, NR_VARIANTS)
{
	const u64 x = 0x100200000ull + 0x5000;
	struct smmu_event ev[4];
	u64 syncs, flushes;

	e2e_setup(_i);
	ck_assert_int_eq(dma(x, 8, false), 0);
	ck_assert(smmu_model_tlb_maps(&fx.model, x));

	syncs = fx.model.stats.syncs;
	flushes = pgt.stats.flushes;
	ck_assert_int_eq(s2_donate(&pgt, x, PG, GUEST), 0);
	/* One CMD_SYNC per flush; a hitless split needs no break, so one in all. */
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, pgt.stats.flushes - flushes);
	if (pgt.policy == PKVM_SPLIT_HITLESS)
		ck_assert_uint_eq(fx.model.stats.syncs - syncs, 1);
	ck_assert(!smmu_model_tlb_maps(&fx.model, x));

	ck_assert_int_eq(dma(x, 8, false), SMMU_EVT_F_TRANSLATION);
	ck_assert_int_eq(dma(x + 0x10, 4, true), SMMU_EVT_F_TRANSLATION);
	ck_assert_uint_eq(events(ev, 4), 2);
	ck_assert_uint_eq(ev[0].type, SMMU_EVT_F_TRANSLATION);
	ck_assert_str_eq(smmu_event_name(ev[0].type), "F_TRANSLATION");
	ck_assert_uint_eq(ev[0].sid, SID);
	ck_assert_uint_eq(ev[0].addr, x);
	ck_assert_uint_eq(ev[0].ipa, x);
	ck_assert(ev[0].read && ev[0].s2);
	ck_assert_uint_eq(ev[0].class, SMMU_EVT_CLASS_IN);
	ck_assert(!ev[1].read);
	ck_assert_uint_eq(ev[1].addr, x + 0x10);

	/* The neighbours stay reachable; the rest of the block too. */
	ck_assert_int_eq(dma(x - PG, 8, true), 0);
	ck_assert_int_eq(dma(x + PG, 8, true), 0);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
	ck_assert(tlb_host_only());

	syncs = fx.model.stats.syncs;
	flushes = pgt.stats.flushes;
	ck_assert_int_eq(s2_reclaim(&pgt, x, PG, GUEST), 0);
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, pgt.stats.flushes - flushes);
	ck_assert_int_eq(dma(x, 8, true), 0);
	ck_assert(tlb_host_only());
}
END_TEST

TEST_LOOP("e2e", one_sync_per_flush, 0, NR_VARIANTS)
{
	static const struct { u64 addr, size; } r[] = {
		{ 0x100000000ull + 0x3000, PG },
		{ 0x100000000ull + 0x200000, 2 * MiB },
		{ 0x100600000ull - 0x2000, 0x5000 },	/* across two blocks */
		{ 0x40000000ull, 64 * PG },
		{ 0x100800000ull + 0x1000, 4 * MiB },
	};
	u64 ops = 0;

	e2e_setup(_i);
	for (unsigned int round = 0; round < 2; round++) {
		for (unsigned int i = 0; i < HYP_ARRAY_SIZE(r); i++) {
			u64 syncs = fx.model.stats.syncs;
			u64 flushes = pgt.stats.flushes;
			int ret;

			/* warm the TLB over the range so stale entries could exist */
			dma(r[i].addr, r[i].size, false);
			ret = round ? s2_reclaim(&pgt, r[i].addr, r[i].size, GUEST) :
				      s2_donate(&pgt, r[i].addr, r[i].size, GUEST);
			if (ret == -EEXIST || ret == -EALREADY)
				continue;	/* overlaps an earlier range */
			ck_assert_int_eq(ret, 0);
			ops++;
			ck_assert_uint_eq(fx.model.stats.syncs - syncs,
					  pgt.stats.flushes - flushes);
			if (pgt.policy == PKVM_SPLIT_HITLESS)
				ck_assert_uint_le(fx.model.stats.syncs - syncs, 1);
			ck_assert(tlb_host_only());
			ck_assert_int_eq(dma(r[i].addr, r[i].size, false),
					 round ? 0 : SMMU_EVT_F_TRANSLATION);
		}
	}
	ck_assert_uint_ge(ops, 6);
	ck_assert_uint_eq(fx.model.stats.cmd_errors, 0);
	ck_assert_uint_eq(fx.dev.cmdq.nr_timeouts, 0);
}
END_TEST

TEST_LOOP("e2e", command_counts, 0, NR_VARIANTS)
{
	const u64 a = 0x100600000ull + 0x40000;
	u64 tlbi, vmall;

	e2e_setup(_i);
	/* Split the blocks first, so that what follows needs no break-before-make. */
	ck_assert_int_eq(s2_donate(&pgt, 0x100600000ull, PG, GUEST), 0);
	/* 64 pages inside one 2 MiB block: one range command, or 64 without RIL */
	tlbi = fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA];
	ck_assert_int_eq(s2_donate(&pgt, a, 64 * PG, GUEST), 0);
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA] - tlbi,
			  fx.dev.feat.ril ? 1 : 64);

	/* 1024 pages of 4 KiB leaves: above 512 without RIL a VMALL is cheaper */
	tlbi = fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA];
	vmall = fx.model.stats.cmds[SMMU_OP_TLBI_S12_VMALL];
	ck_assert_int_eq(s2_donate(&pgt, 0x100000000ull + PG, 4 * MiB, GUEST), 0);
	if (fx.dev.feat.ril) {
		ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S12_VMALL] - vmall, 0);
		ck_assert_uint_le(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA] - tlbi, 8);
	} else {
		ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S12_VMALL] - vmall, 1);
	}
	ck_assert_int_eq(dma(0x100000000ull + PG, 8, false), SMMU_EVT_F_TRANSLATION);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
}
END_TEST

/* A flush that only syncs: the stale translation still works for DMA. */
TEST_LOOP("e2e", missing_tlbi_is_caught, 0, NR_VARIANTS)
{
	const u64 y = 0x100400000ull + 0x3000;
	struct s2_gather g;

	e2e_setup(_i);
	ck_assert_int_eq(dma(y, 8, false), 0);
	pgt.tlb = &sync_only_ops;
	ck_assert_int_eq(s2_donate(&pgt, y, PG, GUEST), 0);
	/* The engine's table says no, the SMMU's TLB still says yes. */
	ck_assert_int_eq(dma(y, 8, true), 0);
	ck_assert(smmu_model_tlb_maps(&fx.model, y));
	ck_assert(!tlb_host_only());

	/* The invalidation that was missing puts it right. */
	pgt.tlb = &smmu_tlb_ops;
	s2_gather_init(&g, ~0ull);
	s2_gather_add(&g, y, y + PG, PG);
	ck_assert_int_eq(smmu_tlb_flush(&dom, &g), 0);
	ck_assert_int_eq(dma(y, 8, true), SMMU_EVT_F_TRANSLATION);
	ck_assert(tlb_host_only());
}
END_TEST

/*
 * Reclaim folds tables back into blocks; the freed table pages stay in
 * the walk cache unless the invalidation is non-leaf. Reused for another
 * range, they let a device reach a page through the wrong table.
 */
static void fold_and_reuse(bool leaf_only)
{
	const u64 x = 0x100200000ull + 0x5000;
	const u64 probe = x + 0x2000;			/* index 7 of its L3 table */
	const u64 z1 = 0x50000000ull + 0x1000;
	const u64 z2 = 0x50200000ull + 0x3000;

	ck_assert_int_eq(s2_donate(&pgt, x, PG, GUEST), 0);
	ck_assert_int_eq(dma(probe, 8, false), 0);	/* caches L2 and L3 tables */
	if (leaf_only)
		pgt.tlb = &leaf_only_ops;
	ck_assert_int_eq(s2_reclaim(&pgt, x, PG, GUEST), 0);
	ck_assert_uint_ge(pgt.stats.folds, 2);
	pgt.tlb = &smmu_tlb_ops;
	/* The freed table pages are handed out again, LIFO. */
	ck_assert_int_eq(s2_donate(&pgt, z1, PG, GUEST), 0);
	ck_assert_int_eq(s2_donate(&pgt, z2, PG, GUEST), 0);
}

TEST_LOOP("e2e", fold_with_nonleaf_tlbi, 0, NR_VARIANTS)
{
	e2e_setup(_i);
	fold_and_reuse(false);
	ck_assert_int_eq(dma(0x100200000ull + 0x7000, 8, false), 0);
	ck_assert(tlb_host_only());
}
END_TEST

TEST_LOOP("e2e", missing_nonleaf_tlbi_is_caught, 0, NR_VARIANTS)
{
	const u64 probe = 0x100200000ull + 0x7000;
	struct smmu_model_cfg mc;

	/*
	 * Needs a walk cache, and RIL: without it this gather is above the
	 * per-granule threshold and becomes a VMALL, which drops walks too.
	 */
	model_variant(&mc, _i);
	if (!mc.walk_cache || !mc.ril)
		return;
	e2e_setup(_i);
	fold_and_reuse(true);
	/* Walked through a table that now maps 0x50200000's 2 MiB block. */
	ck_assert_int_eq(dma(probe, 8, false), 0);
	ck_assert(smmu_model_tlb_maps(&fx.model, 0x50207000ull));
	ck_assert(!tlb_host_only());
}
END_TEST

TEST_LOOP("e2e", stream_policies, 0, NR_VARIANTS)
{
	struct smmu_event ev[4];
	struct smmu_s2_params other;
	u64 syncs;

	e2e_setup(_i);
	/* block: every transaction aborts, nothing is recorded */
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID_B, SMMU_POLICY_BLOCK, NULL), 0);
	ck_assert_int_eq(smmu_model_dma(&fx.model, SID_B, 0x100000000ull, 8, false),
			 SMMU_MODEL_ABORT);
	ck_assert_int_eq(smmu_model_dma(&fx.model, SID_B, POOL_PA, 8, true),
			 SMMU_MODEL_ABORT);
	ck_assert_uint_eq(events(ev, 4), 0);

	/* isolate -> block: one CFGI_STE + CMD_SYNC, effective at once */
	syncs = fx.model.stats.syncs;
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_BLOCK, NULL), 0);
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, 1);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), SMMU_MODEL_ABORT);

	/* block -> isolate: rest of the STE first, then dword 0; one sync */
	syncs = fx.model.stats.syncs;
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, &s2p), 0);
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, 1);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);

	/* isolate -> isolate with another VMID: break to abort, then make: two */
	other = s2p;
	other.vmid = VMID + 1;
	syncs = fx.model.stats.syncs;
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, &other), 0);
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, 2);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
	/* the same again: nothing to write, no command */
	syncs = fx.model.stats.syncs;
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, &other), 0);
	ck_assert_uint_eq(fx.model.stats.syncs - syncs, 0);

	/* refused arguments change nothing */
	ck_assert_int_eq(smmu_stream_set(&fx.dev, 1u << fx.dev.strtab.log2size,
					 SMMU_POLICY_BLOCK, NULL), -ERANGE);
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, NULL), -EINVAL);
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, (enum smmu_policy)7, NULL), -EINVAL);
	other.ttb += PG;
	ck_assert_int_eq(smmu_stream_set(&fx.dev, SID, SMMU_POLICY_ISOLATE, &other), -EINVAL);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
}
END_TEST

TEST_LOOP("e2e", unattached_streams, 0, NR_VARIANTS)
{
	struct smmu_event ev[4];
	const u32 sid = 0x1234;
	u64 allocs;

	e2e_setup(_i);
	if (fx.dev.strtab.two_level) {
		/* no L2 table: an invalid StreamID, reported (CR2.RECINVSID) */
		ck_assert_int_eq(smmu_model_dma(&fx.model, sid, 0x100000000ull, 8, false),
				 SMMU_EVT_C_BAD_STREAMID);
		ck_assert_uint_eq(events(ev, 4), 1);
		ck_assert_uint_eq(ev[0].type, SMMU_EVT_C_BAD_STREAMID);
		ck_assert_uint_eq(ev[0].sid, sid);
		/* its L2 table comes from the page source, filled with `block` */
		allocs = fx.l2_allocs;
		ck_assert_int_eq(smmu_stream_set(&fx.dev, sid, SMMU_POLICY_ISOLATE, &s2p), 0);
		ck_assert_uint_eq(fx.l2_allocs - allocs, 1);
		ck_assert_int_eq(smmu_model_dma(&fx.model, sid + 1, 0x100000000ull, 8, false),
				 SMMU_MODEL_ABORT);
		ck_assert_int_eq(smmu_model_dma(&fx.model, sid, 0x100000000ull, 8, false), 0);
		/* the page source running dry is an error, not a crash */
		fx.l2_next = FX_MEM_PA + FX_MEM_SIZE;
		ck_assert_int_eq(smmu_stream_set(&fx.dev, 0x4000, SMMU_POLICY_BLOCK, NULL),
				 -ENOMEM);
	} else {
		/* linear: every StreamID starts as `block`; beyond the table, invalid */
		ck_assert_int_eq(smmu_model_dma(&fx.model, 7, 0x100000000ull, 8, false),
				 SMMU_MODEL_ABORT);
		ck_assert_int_eq(smmu_model_dma(&fx.model, sid, 0x100000000ull, 8, false),
				 SMMU_EVT_C_BAD_STREAMID);
		ck_assert_uint_eq(events(ev, 4), 1);
	}
}
END_TEST

/* The model caches STEs: an STE change without CMD_CFGI_STE is not seen. */
TEST_LOOP("e2e", ste_cache_needs_cfgi, 0, NR_VARIANTS)
{
	u64 *ste;
	struct smmu_cmd c;

	e2e_setup(_i);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
	ste = smmu_strtab_ste(&fx.dev.strtab, SID);
	hyp_write_pte(&ste[0], 0x1);	/* abort, behind the SMMU's back */
	ck_assert_int_eq(dma(0x100000000ull, 8, false), 0);
	smmu_cmd_cfgi_ste(&c, SID, true);
	ck_assert_int_eq(smmu_cmdq_add(&fx.dev.cmdq, &c), 0);
	ck_assert_int_eq(smmu_cmdq_sync(&fx.dev.cmdq), 0);
	ck_assert_int_eq(dma(0x100000000ull, 8, false), SMMU_MODEL_ABORT);
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_e2e",
			TCASE("e2e", .teardown = e2e_teardown));
}
