// SPDX-License-Identifier: GPL-2.0
/*
 * The hypercall entry as an untrusted host sees it: every malformed
 * argument is refused with its documented error and changes nothing.
 */
#include <check.h>
#include <stdlib.h>

#include "hvc.h"
#include "s2_snapshot.h"
#include "test_registry.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

/* "Host memory" the tests can really touch: 4 MiB at 1 GiB + 2 MiB. */
#define HOSTBUF_PA (GiB + 2 * MiB)
#define HOSTBUF_SIZE (4 * MiB)
#define REGIONS_PA HOSTBUF_PA
#define POOL_PA (HOSTBUF_PA + MiB)
#define POOL_PAGES 128

static struct pkvm_iommu_hyp hyp;
static void *hostbuf;

static s64 call(u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5)
{
	const u64 a[6] = { a0, a1, a2, a3, a4, a5 };

	return pkvm_iommu_hvc(&hyp, fn, a);
}

static void put_regions(const struct s2_region *r, unsigned int n)
{
	memcpy(hostbuf, r, n * sizeof(*r));
}

static const struct s2_region two[] = {
	{ GiB, 3 * GiB },
	{ 8 * GiB + 0x3000, GiB },
};

static void setup(void)
{
	ck_assert_int_eq(posix_memalign(&hostbuf, 4096, HOSTBUF_SIZE), 0);
	memset(hostbuf, 0, HOSTBUF_SIZE);
	ck_assert_int_eq(sim_phys_map(HOSTBUF_PA, HOSTBUF_SIZE, hostbuf), 0);
	pkvm_iommu_hyp_setup(&hyp);
	put_regions(two, 2);
}

static void teardown(void)
{
	sim_phys_unmap(HOSTBUF_PA);
	free(hostbuf);
}

static s64 init_ok(void)
{
	return call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, POOL_PAGES,
		    PKVM_SPLIT_AUTO, 0);
}

TEST("arguments", nothing_before_init)
{
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, GiB, 4096, 2, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, 0, 0, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 0x9000000, GiB, 16, 0, 0, 0), -ENODEV);
}
END_TEST

TEST("arguments", init_refuses_bad_arguments)
{
	struct s2_region r[2];

	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 0, POOL_PA, POOL_PAGES, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, S2_MAX_REGIONS + 1, POOL_PA,
			      POOL_PAGES, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA + 4, 2, POOL_PA, POOL_PAGES, 0, 0), -EINVAL);
	/* Regions array in memory the hypervisor cannot read. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, 64 * GiB, 2, POOL_PA, POOL_PAGES, 0, 0), -EFAULT);
	/* Pool outside memory, pool not backed, pool unaligned, pool overflowing. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, 5 * GiB, POOL_PAGES, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, 2 * GiB, POOL_PAGES, 0, 0), -EFAULT);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA + 8, POOL_PAGES, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, ~0ull, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, POOL_PAGES, 4, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, POOL_PAGES,
			      PKVM_SPLIT_PRESPLIT, 9), -EINVAL);
	/* Regions: empty, wrapping, beyond 48 bits, overlapping. */
	r[0] = (struct s2_region){ GiB, 0 };
	put_regions(r, 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 1, POOL_PA, POOL_PAGES, 0, 0), -EINVAL);
	r[0] = (struct s2_region){ GiB, ~0ull - GiB + 4096 };
	put_regions(r, 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 1, POOL_PA, POOL_PAGES, 0, 0), -EINVAL);
	r[0] = (struct s2_region){ GiB, 1ull << 48 };
	put_regions(r, 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 1, POOL_PA, POOL_PAGES, 0, 0), -ERANGE);
	r[0] = (struct s2_region){ GiB, 2 * GiB };
	r[1] = (struct s2_region){ 2 * GiB, GiB };
	put_regions(r, 2);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, 2, POOL_PA, POOL_PAGES, 0, 0), -EINVAL);
	ck_assert(!hyp.ready);

	put_regions(two, 2);
	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(init_ok(), -EBUSY);
	/*
	 * 9 GiB + 12 KiB of top address needs 34 bits, which would start at
	 * level 2 with 16 concatenated tables: 35 bits start at level 1 with
	 * one table of 32 entries.
	 */
	ck_assert_uint_eq(hyp.pgt.ias, 35);
	ck_assert_uint_eq(hyp.pgt.root_pages, 1);
}
END_TEST

TEST("arguments", ownership_calls_check_owner_before_narrowing)
{
	struct s2_snapshot before, after;

	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 0x10002, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, 2 * GiB, 4096, ~0ull, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB + 1, 4096, 2, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, ~0ull & ~0xfffull, 2, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 6 * GiB, 4096, 2, 0, 0, 0), -ERANGE);
	/* The pool is the hypervisor's, pinned: not even its owner id gets it back. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, POOL_PA, 4096, PKVM_OWNER_HYP, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SHARE, POOL_PA, 4096, 0, 0, 0, 0), -EPERM);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);

	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 2, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_DONATE, 0, 0, 0, 0, 0), 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_ERRORS, 0, 0, 0, 0, 0), 6);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, 2 * GiB, 4096, 2, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_TABLE_PAGES, 0, 0, 0, 0, 0),
			 (s64)hyp.pgt.table_pages);
}
END_TEST

TEST("arguments", other_calls_check_their_arguments)
{
	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_NR, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_SPLIT_POLICY, 0, 0, 0, 0, 0),
			 PKVM_SPLIT_AUTO);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LAST + 1, 0, 0, 0, 0, 0, 0), -EOPNOTSUPP);
	ck_assert_int_eq(call(0x84000000u, 0, 0, 0, 0, 0, 0), -EOPNOTSUPP);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_ATTACH, 0, 5, PKVM_STREAM_ISOLATE, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STREAM_DETACH, 3, 5, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_EVENT_POP, 0, HOSTBUF_PA, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SPLIT_POLICY, 7, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SPLIT_POLICY, PKVM_SPLIT_PRESPLIT, 4, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SPLIT_POLICY, PKVM_SPLIT_BBM, 0, 0, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_SPLIT_POLICY, 0, 0, 0, 0, 0),
			 PKVM_SPLIT_BBM);
	/* SMMU registers that are memory, or unaligned, or not reachable. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 2 * GiB, HOSTBUF_PA, 16, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 0x9001000, HOSTBUF_PA, 16, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 0x9000000, HOSTBUF_PA, 16, 0, 0, 0), -ENXIO);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 0x9000000, HOSTBUF_PA, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_ADD, 0x9000000, HOSTBUF_PA + 1, 1, 0, 0, 0), -EINVAL);
	ck_assert_uint_eq(hyp.nr_smmus, 0);
}
END_TEST

/* Batch records in host memory, 2 MiB into the buffer. */
#define OPS_PA (HOSTBUF_PA + 2 * MiB)
#define SENTINEL 0x7777

static struct pkvm_iommu_op *put_ops(const struct pkvm_iommu_op *o, unsigned int n)
{
	struct pkvm_iommu_op *rec = (void *)((char *)hostbuf + 2 * MiB);

	for (unsigned int i = 0; i < n; i++) {
		rec[i] = o[i];
		rec[i].result = SENTINEL;
	}
	return rec;
}

static u32 owner_at(u64 pa)
{
	u32 owner = ~0u;
	bool shared;

	ck_assert_int_eq(s2_owner_of(&hyp.pgt, pa, &owner, &shared), 0);
	return owner;
}

static s64 stat(enum pkvm_iommu_stat id)
{
	return call(PKVM_IOMMU_HVC_STATS_READ, id, 0, 0, 0, 0, 0);
}

TEST("arguments", batch_applies_in_order_and_reports_the_refusal)
{
	const struct pkvm_iommu_op o[] = {
		{ PKVM_IOMMU_OP_DONATE, 2, 2 * GiB, 4096, 0, 0 },
		{ PKVM_IOMMU_OP_DONATE, 3, 2 * GiB + 4096, 8192, 0, 0 },
		{ PKVM_IOMMU_OP_RECLAIM, 2, 2 * GiB, 4096, 0, 0 },
		{ PKVM_IOMMU_OP_SHARE, 0, 2 * GiB, 4096, 0, 0 },
		/* Already owner 3's: the batch stops here. */
		{ PKVM_IOMMU_OP_DONATE, 2, 2 * GiB + 4096, 4096, 0, 0 },
		{ PKVM_IOMMU_OP_DONATE, 2, 2 * GiB + 16384, 4096, 0, 0 },
	};
	struct pkvm_iommu_op *rec;
	s64 syncs;

	ck_assert_int_eq(init_ok(), 0);
	syncs = stat(PKVM_IOMMU_STAT_SYNCS);
	rec = put_ops(o, 6);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 6, 0, 0, 0, 0), 4);
	ck_assert_int_eq(rec[4].result, -EEXIST);
	ck_assert_int_eq(rec[5].result, SENTINEL);
	ck_assert_uint_eq(owner_at(2 * GiB), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner_at(2 * GiB + 4096), 3);
	ck_assert_uint_eq(owner_at(2 * GiB + 8192), 3);
	ck_assert_uint_eq(owner_at(2 * GiB + 16384), PKVM_OWNER_HOST);
	/* Four changes, one invalidation. */
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_SYNCS), syncs + 1);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_DONATE), 2);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_ERRORS), 1);

	/* Records the hypervisor will not take: each stops the batch at once. */
	rec = put_ops(o, 1);
	rec[0].reserved = 1;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 1, 0, 0, 0, 0), 0);
	ck_assert_int_eq(rec[0].result, -EINVAL);
	rec = put_ops(o, 1);
	rec[0].op = 4;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 1, 0, 0, 0, 0), 0);
	ck_assert_int_eq(rec[0].result, -EINVAL);
	rec = put_ops(o, 1);
	rec[0].owner = 0x10002;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 1, 0, 0, 0, 0), 0);
	ck_assert_int_eq(rec[0].result, -EINVAL);
	rec = put_ops(o, 1);
	rec[0].owner = PKVM_OWNER_HOST;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 1, 0, 0, 0, 0), 0);
	ck_assert_int_eq(rec[0].result, -EINVAL);
	ck_assert_uint_eq(owner_at(2 * GiB), PKVM_OWNER_HOST);
}
END_TEST

TEST("arguments", batch_refuses_arrays_it_cannot_use)
{
	const struct pkvm_iommu_op o[] = {
		{ PKVM_IOMMU_OP_DONATE, 2, 2 * GiB, 4096, 0, 0 },
	};
	struct s2_snapshot before, after;

	ck_assert_int_eq(init_ok(), 0);
	put_ops(o, 1);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, PKVM_IOMMU_BATCH_MAX + 1, 0, 0, 0, 0),
			 -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA + 8, 1, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, ~0ull & ~31ull, 2, 0, 0, 0, 0), -EINVAL);
	/* The hypervisor's own pool, a hole, memory it cannot reach. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, POOL_PA, 1, 0, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, 5 * GiB, 1, 0, 0, 0, 0), -ERANGE);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, 2 * GiB, 1, 0, 0, 0, 0), -EFAULT);
	/* An array running past the end of what the host can hand over. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, HOSTBUF_PA + HOSTBUF_SIZE - 32, 2, 0, 0, 0, 0),
			 -EFAULT);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}
END_TEST

/*
 * A batch that gives away the page holding its own records: the rest is
 * now someone else's memory, so the hypervisor neither reads it nor
 * writes a result into it.
 */
TEST("arguments", batch_stops_at_records_it_gave_away)
{
	const struct pkvm_iommu_op o[] = {
		{ PKVM_IOMMU_OP_DONATE, 2, OPS_PA, 4096, 0, 0 },
		{ PKVM_IOMMU_OP_DONATE, 2, 2 * GiB, 4096, 0, 0 },
	};
	struct pkvm_iommu_op *rec;

	ck_assert_int_eq(init_ok(), 0);
	rec = put_ops(o, 2);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 2, 0, 0, 0, 0), 1);
	ck_assert_int_eq(rec[1].result, SENTINEL);
	ck_assert_uint_eq(owner_at(OPS_PA), 2);
	ck_assert_uint_eq(owner_at(2 * GiB), PKVM_OWNER_HOST);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, OPS_PA, 4096, 2, 0, 0, 0), 0);
}
END_TEST

int main(void)
{
	return TEST_RUN("hvc",
			TCASE("arguments", .setup = setup, .teardown = teardown));
}
