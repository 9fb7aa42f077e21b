// SPDX-License-Identifier: GPL-2.0
/*
 * Command and event queues against the model: wrap handling over many
 * laps of tiny rings, full/empty, bounded waits, command errors, overflow.
 */
#include <check.h>

#include "test_registry.h"
#include <stdlib.h>

#include "smmu_fixture.h"

static struct smmu_fixture fx;
static struct smmu_model_cfg mcfg;

static void setup(void)
{
	smmu_model_default_cfg(&mcfg);
}

static void teardown(void)
{
	fx_fini(&fx);
}

/* A 4-entry command queue: the init sequence alone takes three entries. */
static struct smmu_cmdq *tiny_cmdq(void)
{
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	fx.dcfg.cmdq_log2 = 2;
	ck_assert_int_eq(fx_dev_init(&fx), 0);
	return &fx.dev.cmdq;
}

static void add_tlbi(struct smmu_cmdq *q, u64 ipa)
{
	struct smmu_cmd c;

	smmu_cmd_tlbi_s2_ipa(&c, 1, ipa, true);
	ck_assert_int_eq(smmu_cmdq_add(q, &c), 0);
}

TEST("queues", index_arithmetic)
{
	/* log2size 2: index bits [1:0], wrap bit [2] */
	ck_assert(smmu_q_empty(2, 0x0, 0x0));
	ck_assert(smmu_q_empty(2, 0x5, 0x5));
	ck_assert(!smmu_q_full(2, 0x5, 0x5));
	/* same index, different wrap: full */
	ck_assert(smmu_q_full(2, 0x4, 0x0));
	ck_assert(smmu_q_full(2, 0x1, 0x5));
	ck_assert(!smmu_q_empty(2, 0x1, 0x5));
	/* prod idx 1 wrap 0, cons idx 2 wrap 1: 3 entries in flight */
	ck_assert_uint_eq(smmu_q_used(2, 0x1, 0x6), 3);
	ck_assert_uint_eq(smmu_q_used(2, 0x4, 0x0), 4);
	/* incrementing idx 3 carries into the wrap bit, and wrap 1 idx 3 to 0 */
	ck_assert_uint_eq(smmu_q_inc(2, 0x3), 0x4);
	ck_assert_uint_eq(smmu_q_inc(2, 0x7), 0x0);
	/* bits above the wrap bit (CONS.ERR) are not part of the index */
	ck_assert(smmu_q_empty(2, 0x3, 0x01000003));
}
END_TEST

TEST("queues", cmdq_wraps_many_times)
{
	struct smmu_cmdq *q = tiny_cmdq();
	u64 entries = 3;	/* the init sequence */

	/* Exactly a ring per batch: 3 commands and the CMD_SYNC, 20 laps. */
	for (u32 lap = 0; lap < 20; lap++) {
		for (u32 i = 0; i < 3; i++)
			add_tlbi(q, (u64)(lap * 3 + i) << 12);
		ck_assert_int_eq(smmu_cmdq_sync(q), 0);
		entries += 4;
		ck_assert_uint_eq(q->prod, entries & 7);
		ck_assert_uint_eq(q->cons, q->prod);
	}
	/* Batches larger than the ring: each full ring is published and drained. */
	for (u32 lap = 0; lap < 5; lap++) {
		for (u32 i = 0; i < 10; i++)
			add_tlbi(q, (u64)i << 12);
		ck_assert_int_eq(smmu_cmdq_sync(q), 0);
		entries += 11;
		ck_assert_uint_eq(fx_reg(&fx, SMMU_CMDQ_CONS) & 7, entries & 7);
	}
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA], 60 + 50);
	ck_assert_uint_eq(fx.model.stats.syncs, 1 + 20 + 5);
	ck_assert_uint_eq(q->nr_cmds, entries);
	ck_assert_uint_eq(fx.model.stats.cmd_errors, 0);
}
END_TEST

TEST("queues", cmdq_sync_timeout)
{
	struct smmu_cmdq *q = tiny_cmdq();
	u64 t0;

	fx.model.stall_cmdq = true;
	add_tlbi(q, 0x1000);
	t0 = hyp_now_ns();
	ck_assert_int_eq(smmu_cmdq_sync(q), -ETIMEDOUT);
	ck_assert_uint_ge(hyp_now_ns() - t0, q->timeout_ns);
	ck_assert_uint_lt(hyp_now_ns() - t0, 1000000000ull);
	ck_assert_uint_eq(q->nr_timeouts, 1);
	/* The SMMU comes back: the queue drains and the next sync completes. */
	fx.model.stall_cmdq = false;
	smmu_model_step(&fx.model);
	ck_assert_int_eq(smmu_cmdq_sync(q), 0);
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA], 1);
}
END_TEST

TEST("queues", cmdq_full_timeout)
{
	struct smmu_cmdq *q = tiny_cmdq();
	struct smmu_cmd c;

	fx.model.stall_cmdq = true;
	for (u32 i = 0; i < 4; i++)
		add_tlbi(q, (u64)i << 12);
	ck_assert(smmu_q_full(q->log2size, q->prod, q->cons));
	smmu_cmd_tlbi_s2_ipa(&c, 1, 0x9000, true);
	ck_assert_int_eq(smmu_cmdq_add(q, &c), -ETIMEDOUT);
	/* What was queued was published so that a live SMMU could drain it. */
	ck_assert_uint_eq(hyp_readl((u8 *)fx.regs + SMMU_CMDQ_PROD), q->prod);
}
END_TEST

TEST("queues", cmdq_illegal_command)
{
	struct smmu_cmdq *q = tiny_cmdq();
	struct smmu_cmd bad = { { 0x7f, 0 } };	/* a reserved opcode */

	add_tlbi(q, 0x1000);
	ck_assert_int_eq(smmu_cmdq_add(q, &bad), 0);
	ck_assert_int_eq(smmu_cmdq_sync(q), -EIO);
	ck_assert_uint_eq(q->last_err, SMMU_CERROR_ILL);
	ck_assert_uint_eq(fx.model.stats.cmd_errors, 1);
	/* The command before it ran; the error was acknowledged in GERRORN. */
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA], 1);
	ck_assert_uint_eq(fx_reg(&fx, SMMU_GERROR) & SMMU_GERROR_CMDQ_ERR,
			  fx_reg(&fx, SMMU_GERRORN) & SMMU_GERROR_CMDQ_ERR);
	/* The queue runs on: the bad entry became a CMD_SYNC. */
	add_tlbi(q, 0x2000);
	ck_assert_int_eq(smmu_cmdq_sync(q), 0);
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_S2_IPA], 2);
}
END_TEST

TEST("queues", cmdq_range_needs_ril)
{
	struct smmu_cmdq *q;
	struct smmu_cmd c;

	mcfg.ril = false;
	q = tiny_cmdq();
	smmu_cmd_tlbi_s2_range(&c, 1, 0x40000000, 0, 4, SMMU_TLBI_TG_4K, 0, true);
	ck_assert_int_eq(smmu_cmdq_add(q, &c), 0);
	ck_assert_int_eq(smmu_cmdq_sync(q), -EIO);
	ck_assert_uint_eq(q->last_err, SMMU_CERROR_ILL);
}
END_TEST

/* Unattached StreamIDs of a two-level table: C_BAD_STREAMID, recorded. */
static void bad_sid_events(u32 first, u32 n)
{
	for (u32 i = 0; i < n; i++)
		ck_assert_int_eq(smmu_model_dma(&fx.model, first + i, 0x1000, 8, false),
				 SMMU_EVT_C_BAD_STREAMID);
}

TEST("queues", evtq_wrap)
{
	struct smmu_event ev[8];
	bool ovf;

	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	fx.dcfg.evtq_log2 = 2;
	ck_assert_int_eq(fx_dev_init(&fx), 0);
	for (u32 lap = 0; lap < 7; lap++) {
		bad_sid_events(100 + lap * 3, 3);
		ck_assert_uint_eq(fx_events(&fx, ev, 8, &ovf), 3);
		ck_assert(!ovf);
		for (u32 i = 0; i < 3; i++) {
			ck_assert_uint_eq(ev[i].type, SMMU_EVT_C_BAD_STREAMID);
			ck_assert_uint_eq(ev[i].sid, 100 + lap * 3 + i);
		}
	}
	ck_assert_uint_eq(fx.dev.evtq.nr_events, 21);
	ck_assert_uint_eq(fx.model.stats.events_lost, 0);
}
END_TEST

TEST("queues", evtq_overflow)
{
	struct smmu_event ev[8];
	bool ovf;

	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	fx.dcfg.evtq_log2 = 2;
	ck_assert_int_eq(fx_dev_init(&fx), 0);
	bad_sid_events(200, 1);
	ck_assert_uint_eq(fx_events(&fx, ev, 8, &ovf), 1);	/* move off index 0 */
	/* Six events into four slots: the oldest four kept, overflow flagged. */
	bad_sid_events(300, 6);
	ck_assert_uint_eq(fx.model.stats.events_lost, 2);
	ck_assert(fx_reg(&fx, SMMU_EVTQ_PROD) & SMMU_EVTQ_PROD_OVFLG);
	ck_assert_uint_eq(fx_events(&fx, ev, 8, &ovf), 4);
	ck_assert(ovf);
	for (u32 i = 0; i < 4; i++)
		ck_assert_uint_eq(ev[i].sid, 300 + i);
	ck_assert_uint_eq(fx.dev.evtq.nr_overflows, 1);
	/* Acknowledged: the next events come without the flag. */
	bad_sid_events(400, 2);
	ck_assert_uint_eq(fx_events(&fx, ev, 8, &ovf), 2);
	ck_assert(!ovf);
	ck_assert_uint_eq(ev[1].sid, 401);
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_queues",
			TCASE("queues", .setup = setup, .teardown = teardown));
}
