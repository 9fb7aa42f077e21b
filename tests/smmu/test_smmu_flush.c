// SPDX-License-Identifier: GPL-2.0
/*
 * smmu_tlb_flush over several SMMUs: every SMMU gets its invalidation and
 * CMD_SYNC before the flush waits for any, a wedged SMMU fails closed
 * alone, and the flush reports completion only after every sync
 * completed. Orders of events are judged, never durations.
 */
#include <check.h>

#include "test_registry.h"

#include "smmu_fixture.h"
#include "smmu_tlb.h"

#define NR	4u
#define VMID	7
/* One 2 MiB window per SMMU, away from FX_MEM_PA and from each other. */
#define PA(i)	(0x60000000ull + (u64)(i) * FX_MEM_SIZE)

static struct smmu_fixture fx[NR];
static struct smmu_tlb_domain dom;

static void setup(void)
{
	struct smmu_model_cfg mc;

	smmu_model_default_cfg(&mc);
	memset(&dom, 0, sizeof(dom));
	dom.vmid = VMID;
	for (u32 i = 0; i < NR; i++) {
		ck_assert_int_eq(fx_init_at(&fx[i], &mc, PA(i)), 0);
		/*
		 * The driver's 1 s: a preemption mid-wait must not look like a
		 * wedged SMMU (the wedged test sets its own bound).
		 */
		fx[i].dcfg.timeout_ns = 0;
		ck_assert_int_eq(fx_dev_init(&fx[i]), 0);
		ck_assert_int_eq(smmu_tlb_domain_add(&dom, &fx[i].dev), 0);
	}
}

static void teardown(void)
{
	for (u32 i = 0; i < NR; i++)
		fx_fini(&fx[i]);
}

/* One 64 KiB range: one range command on an SMMU with RIL. */
static void gather(struct s2_gather *g)
{
	s2_gather_init(g, ~0ull);
	s2_gather_add(g, 0x40000000ull, 0x40010000ull, HYP_PAGE_SIZE);
}

static bool drained(const struct smmu_fixture *f)
{
	return fx_reg(f, SMMU_CMDQ_CONS) == fx_reg(f, SMMU_CMDQ_PROD);
}

TEST("flush", every_smmu_consumes_its_commands)
{
	struct s2_gather g;
	u64 tlbi[NR], syncs[NR];

	gather(&g);
	for (u32 i = 0; i < NR; i++) {
		tlbi[i] = fx[i].model.stats.cmds[SMMU_OP_TLBI_S2_IPA];
		syncs[i] = fx[i].model.stats.syncs;
	}
	ck_assert_int_eq(smmu_tlb_flush(&dom, &g), 0);
	for (u32 i = 0; i < NR; i++) {
		ck_assert_uint_eq(fx[i].model.stats.cmds[SMMU_OP_TLBI_S2_IPA], tlbi[i] + 1);
		ck_assert_uint_eq(fx[i].model.stats.syncs, syncs[i] + 1);
		ck_assert_uint_eq(fx[i].model.stats.cmd_errors, 0);
		ck_assert(drained(&fx[i]));
		ck_assert(!fx[i].dev.dead);
	}
}
END_TEST

TEST("flush", every_sync_issued_before_any_completes)
{
	struct s2_gather g;

	/* Long enough that issuing the other three takes far less. */
	for (u32 i = 0; i < NR; i++)
		fx[i].model.sync_ns = 2 * 1000 * 1000;
	gather(&g);
	ck_assert_int_eq(smmu_tlb_flush(&dom, &g), 0);
	for (u32 i = 0; i < NR; i++)
		for (u32 j = 0; j < NR; j++)
			ck_assert_uint_lt(fx[j].model.stats.sync_reached_ns,
					  fx[i].model.stats.sync_done_ns);
}
END_TEST

TEST("flush", no_completion_before_every_sync_completed)
{
	struct s2_gather g;
	u64 syncs[NR];

	/* The slowest SMMU last and first: the flush waits for it either way. */
	for (u32 slow = 0; slow < NR; slow += NR - 1) {
		for (u32 i = 0; i < NR; i++) {
			fx[i].model.sync_ns = i == slow ? 5 * 1000 * 1000 : 0;
			syncs[i] = fx[i].model.stats.syncs;
		}
		gather(&g);
		ck_assert_int_eq(smmu_tlb_flush(&dom, &g), 0);
		for (u32 i = 0; i < NR; i++) {
			ck_assert_uint_eq(fx[i].model.stats.syncs, syncs[i] + 1);
			ck_assert_uint_eq(fx[i].model.sync_due, 0);
			ck_assert_uint_le(fx[i].model.stats.sync_done_ns, hyp_now_ns());
		}
	}
}
END_TEST

/* The flush's range, and every SMMU's completed syncs before it. */
static void begin(struct s2_gather *g, u64 syncs[NR])
{
	gather(g);
	for (u32 i = 0; i < NR; i++)
		syncs[i] = fx[i].model.stats.syncs;
}

/*
 * SMMU bad failed closed (SMMUEN off, so its traffic aborts), every other
 * one completed this flush; and from now on the dead one is skipped while
 * the others still flush.
 */
static void closed_alone(u32 bad, const struct s2_gather *g, const u64 syncs[NR])
{
	for (u32 i = 0; i < NR; i++) {
		bool dead = i == bad;

		ck_assert(fx[i].dev.dead == dead);
		ck_assert(!(fx_reg(&fx[i], SMMU_CR0ACK) & SMMU_CR0_SMMUEN) == dead);
		if (!dead) {
			ck_assert_uint_eq(fx[i].model.stats.syncs, syncs[i] + 1);
			ck_assert_uint_eq(fx[i].model.stats.cmd_errors, 0);
			ck_assert(drained(&fx[i]));
		}
	}
	ck_assert_int_eq(smmu_tlb_flush(&dom, g), 0);
	for (u32 i = 0; i < NR; i++)
		if (i != bad)
			ck_assert_uint_eq(fx[i].model.stats.syncs, syncs[i] + 2);
}

TEST("flush", wedged_smmu_fails_closed_alone)
{
	struct s2_gather g;
	u64 syncs[NR];

	begin(&g, syncs);
	fx[1].model.stall_cmdq = true;
	fx[1].dev.cmdq.timeout_ns = 20 * 1000 * 1000;
	ck_assert_int_eq(smmu_tlb_flush(&dom, &g), -ETIMEDOUT);
	ck_assert_uint_eq(fx[1].model.stats.syncs, syncs[1]);
	closed_alone(1, &g, syncs);
}
END_TEST

TEST("flush", command_error_fails_closed_alone)
{
	struct s2_gather g;
	u64 syncs[NR];

	begin(&g, syncs);
	/* SMMU 2 stops taking range commands: its TLBI is illegal (7.1). */
	fx[2].model.cfg.ril = false;
	ck_assert_int_eq(smmu_tlb_flush(&dom, &g), -EIO);
	ck_assert_uint_eq(fx[2].model.stats.cmd_errors, 1);
	ck_assert_uint_eq(fx[2].dev.cmdq.last_err, SMMU_CERROR_ILL);
	closed_alone(2, &g, syncs);
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_flush",
			TCASE("flush", .setup = setup, .teardown = teardown));
}
