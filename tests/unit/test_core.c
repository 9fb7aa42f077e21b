// SPDX-License-Identifier: GPL-2.0
/*
 * The host core (kmod/core) over the hyp core, as the module and the
 * simulation run it: ownership events come out of the hyp core's ring
 * with the hyp core's generations, in order, in host mode exactly as the
 * calls made them; under pKVM (host changes refused) pKVM's transitions
 * reach the listeners at the next sync, a ring that overflowed shows as a
 * gap, and INFO and the ledger come through calls.
 */
#include <check.h>
#include <stdlib.h>

#include "hostbuf.h"
#include "pkvm_core.h"
#include "test_registry.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define SCRATCH_PA (HOSTBUF_PA + 3 * MiB)
#define OPS_PA (HOSTBUF_PA + 2 * MiB)
#define MAX_EVENTS 1024

static struct pkvm_iommu_hyp hyp;
static struct pkvm_core core;
static void *hostbuf;
static struct pkvm_core_event ev[MAX_EVENTS];
static unsigned int nr_ev;

static s64 env_call(void *ctx, u64 fn, const u64 args[6])
{
	(void)ctx;
	return pkvm_iommu_hvc(&hyp, fn, args);
}

static void *env_alloc(void *ctx, u64 bytes)
{
	(void)ctx;
	return malloc(bytes);
}

static void env_free(void *ctx, void *p)
{
	(void)ctx;
	free(p);
}

static void env_event(void *ctx, const struct pkvm_core_event *e)
{
	(void)ctx;
	ck_assert_uint_lt(nr_ev, MAX_EVENTS);
	ev[nr_ev++] = *e;
}

static void *env_scratch(void *ctx)
{
	(void)ctx;
	return (u8 *)hostbuf + (SCRATCH_PA - HOSTBUF_PA);
}

static const struct pkvm_core_env env = {
	.call = env_call, .alloc = env_alloc, .free = env_free, .event = env_event,
	.scratch = env_scratch,
};

static void setup(void)
{
	hostbuf = hostbuf_map(HOSTBUF_PA, HOSTBUF_SIZE);
	ck_assert_ptr_nonnull(hostbuf);
	memcpy(hostbuf, hostbuf_two_regions, sizeof(hostbuf_two_regions));
	pkvm_iommu_hyp_setup(&hyp);
	pkvm_core_init(&core, &env, NULL, PKVM_IOMMU_BACKEND_SIM);
	ck_assert_int_eq(pkvm_core_call(&core, PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA,
					POOL_PAGES, PKVM_SPLIT_AUTO, 0), 0);
	nr_ev = 0;
}

static void teardown(void)
{
	pkvm_core_fini(&core);
	hostbuf_unmap(HOSTBUF_PA, hostbuf);
}

static void assert_event(unsigned int i, u32 op, u64 gen, u64 addr, u64 len, u32 owner)
{
	ck_assert_uint_lt(i, nr_ev);
	ck_assert_uint_eq(ev[i].cmd, PKVM_IOMMU_CMD_EVT_OP(op));
	ck_assert_uint_eq(ev[i].generation, gen);
	ck_assert_uint_eq(ev[i].addr, addr);
	ck_assert_uint_eq(ev[i].len, len);
	ck_assert_uint_eq(ev[i].owner, owner);
}

TEST("core", host_mode_events_as_the_calls_made_them)
{
	struct pkvm_iommu_op *ops = (void *)((u8 *)hostbuf + (OPS_PA - HOSTBUF_PA));
	struct pkvm_iommu_info info;

	ck_assert_int_eq(pkvm_core_change(&core, PKVM_IOMMU_OP_DONATE, 2 * GiB, 8192, 4), 0);
	ck_assert_int_eq(pkvm_core_change(&core, PKVM_IOMMU_OP_DONATE, 2 * GiB, 4096, 4), -EEXIST);
	ops[0] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_SHARE, 7, 2 * GiB + 8192, 4096, 0, 0 };
	ops[1] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, 4, 2 * GiB, 4096, 0, 0 };
	ops[2] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, 4, 2 * GiB, 4096, 0, 0 };
	ck_assert_int_eq(pkvm_core_batch(&core, ops, 3), 2);
	ck_assert_int_eq(ops[2].result, -EALREADY);
	ck_assert_uint_eq(nr_ev, 3);
	assert_event(0, PKVM_IOMMU_OP_DONATE, 1, 2 * GiB, 8192, 4);
	/* Share ignores the owner; the event keeps it as given, as it always did. */
	assert_event(1, PKVM_IOMMU_OP_SHARE, 2, 2 * GiB + 8192, 4096, 7);
	assert_event(2, PKVM_IOMMU_OP_RECLAIM, 3, 2 * GiB, 4096, 4);
	ck_assert_uint_eq(core.generation, 3);
	ck_assert_int_eq(pkvm_core_info(&core, &info), 0);
	ck_assert_uint_eq(info.generation, 3);
	ck_assert_uint_eq(info.ias, hyp.pgt.ias);
	ck_assert_uint_eq(info.mem_bytes, 4 * GiB);
	ck_assert_uint_eq(info.nr_smmus, 0);
	ck_assert_int_eq(pkvm_core_smmu_info(&core, 0, &(struct pkvm_iommu_smmu_info){ 0 }),
			 -ENODEV);
}
END_TEST

struct runs {
	struct pkvm_core_run r[8];
	unsigned int nr, stop_at;
};

static int take_run(const struct pkvm_core_run *run, void *arg)
{
	struct runs *rs = arg;

	if (rs->nr == rs->stop_at)
		return -EMSGSIZE;
	rs->r[rs->nr++] = *run;
	return 0;
}

TEST("core", pkvm_transitions_reach_the_listeners)
{
	struct runs rs = { .stop_at = 1 };
	struct pkvm_iommu_info info;
	u64 resume;

	pkvm_iommu_hyp_refuse_host_changes(&hyp);
	ck_assert_int_eq(pkvm_core_change(&core, PKVM_IOMMU_OP_DONATE, 2 * GiB, 4096, 4), -EPERM);
	ck_assert_uint_eq(nr_ev, 0);
	/* pKVM donates to the hypervisor and to a guest, then takes one back. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 16384, false, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 16384, false, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 3 * GiB, 4096, false, 9), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 3 * GiB, 4096, false, 9), 0);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, true, 0), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, true, 0), 0);
	ck_assert_uint_eq(nr_ev, 0);
	ck_assert_int_eq(pkvm_core_sync(&core), 0);
	ck_assert_uint_eq(nr_ev, 3);
	assert_event(0, PKVM_IOMMU_OP_DONATE, 1, 2 * GiB, 16384, PKVM_OWNER_HYP);
	assert_event(1, PKVM_IOMMU_OP_DONATE, 2, 3 * GiB, 4096, 9);
	assert_event(2, PKVM_IOMMU_OP_RECLAIM, 3, 2 * GiB, 4096, PKVM_OWNER_HYP);
	/* The ledger, a run at a time as the netlink dump takes it. */
	ck_assert_int_eq(pkvm_core_ledger_walk(&core, 0, take_run, &rs, &resume), -EMSGSIZE);
	ck_assert_uint_eq(rs.nr, 1);
	ck_assert_uint_eq(rs.r[0].addr, POOL_PA);
	/* The refused run is where the next walk starts. */
	ck_assert_uint_eq(resume, 2 * GiB + 4096);
	rs = (struct runs){ .stop_at = 8 };
	ck_assert_int_eq(pkvm_core_ledger_walk(&core, resume, take_run, &rs, &resume), 0);
	ck_assert_uint_eq(rs.nr, 2);
	ck_assert_uint_eq(rs.r[0].addr, 2 * GiB + 4096);
	rs = (struct runs){ .stop_at = 8 };
	ck_assert_int_eq(pkvm_core_ledger_walk(&core, 0, take_run, &rs, &resume), 0);
	ck_assert_uint_eq(rs.nr, 3);
	ck_assert_uint_eq(rs.r[1].addr, 2 * GiB + 4096);
	ck_assert_uint_eq(rs.r[1].len, 12288);
	ck_assert_uint_eq(rs.r[1].owner, PKVM_OWNER_HYP);
	ck_assert_uint_eq(rs.r[2].addr, 3 * GiB);
	ck_assert_uint_eq(rs.r[2].owner, 9);
	ck_assert_int_eq(pkvm_core_info(&core, &info), 0);
	ck_assert_uint_eq(info.generation, 3);
}
END_TEST

/* Records the ring dropped: the listeners see the gap, INFO the truth. */
TEST("core", ring_overflow_shows_as_a_gap)
{
	struct pkvm_iommu_info info;
	u32 n = S2_RING_SIZE + 10;

	pkvm_iommu_hyp_refuse_host_changes(&hyp);
	for (u32 i = 0; i < n; i++) {
		bool access = i & 1;

		ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, access, 3), 0);
		ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, access, 3), 0);
	}
	ck_assert_int_eq(pkvm_core_info(&core, &info), 0);
	ck_assert_uint_eq(nr_ev, S2_RING_SIZE);
	for (u32 i = 0; i < S2_RING_SIZE; i++)
		ck_assert_uint_eq(ev[i].generation, i + 1);
	ck_assert_uint_eq(info.generation, n);
	ck_assert_uint_eq(core.generation, n);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, false, 3), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, false, 3), 0);
	ck_assert_int_eq(pkvm_core_sync(&core), 0);
	ck_assert_uint_eq(nr_ev, S2_RING_SIZE + 1);
	assert_event(S2_RING_SIZE, PKVM_IOMMU_OP_DONATE, n + 1, 2 * GiB, 4096, 3);
}
END_TEST

int main(void)
{
	return TEST_RUN("core", TCASE("core", .setup = setup, .teardown = teardown));
}
