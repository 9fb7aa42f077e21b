// SPDX-License-Identifier: GPL-2.0
/*
 * The hypercall entry as an untrusted host sees it: every malformed
 * argument is refused with its documented error and changes nothing.
 */
#include <check.h>
#include <stdlib.h>

#include "hostbuf.h"
#include "hvc.h"
#include "s2_snapshot.h"
#include "test_registry.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)

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

#define two hostbuf_two_regions

static void setup(void)
{
	hostbuf = hostbuf_map(HOSTBUF_PA, HOSTBUF_SIZE);
	ck_assert_ptr_nonnull(hostbuf);
	pkvm_iommu_hyp_setup(&hyp);
	put_regions(two, 2);
}

static void teardown(void)
{
	hostbuf_unmap(HOSTBUF_PA, hostbuf);
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

/* As many regions as pKVM can hand over (HYP_MEMBLOCK_REGIONS), not one more. */
TEST("arguments", init_takes_pkvms_regions)
{
	struct s2_region r[S2_MAX_REGIONS + 1];
	u32 owner;
	bool shared;

	ck_assert_uint_eq(S2_MAX_REGIONS, 128);
	/* The first holds the buffer and the pool, then 2 MiB every 4 MiB. */
	r[0] = (struct s2_region){ GiB, 8 * MiB };
	for (u32 i = 1; i <= S2_MAX_REGIONS; i++)
		r[i] = (struct s2_region){ GiB + 8 * MiB + i * 4 * MiB, 2 * MiB };
	put_regions(r, S2_MAX_REGIONS + 1);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, S2_MAX_REGIONS + 1, POOL_PA,
			      POOL_PAGES, 0, 0), -EINVAL);
	ck_assert(!hyp.ready);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, REGIONS_PA, S2_MAX_REGIONS, POOL_PA,
			      POOL_PAGES, 0, 0), 0);
	ck_assert_uint_eq(hyp.pgt.mem_pages, (8 * MiB + (S2_MAX_REGIONS - 1) * 2 * MiB) >> 12);
	/* The last region is memory, the gap before it and the one after are not. */
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, r[S2_MAX_REGIONS - 1].base, &owner, &shared), 0);
	ck_assert_uint_eq(owner, PKVM_OWNER_HOST);
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, r[S2_MAX_REGIONS - 1].base - 4096, &owner, &shared),
			 -ERANGE);
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, r[S2_MAX_REGIONS].base, &owner, &shared), -ERANGE);
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

/* Answers go 3 MiB into the buffer. */
#define OUT_PA (HOSTBUF_PA + 3 * MiB)

static void *out_va(u64 pa)
{
	return (char *)hostbuf + (pa - HOSTBUF_PA);
}

/* The hyp core's ring, untouched: compared field by field before and after. */
static bool ring_equal(const struct s2_ring *a, const struct s2_ring *b)
{
	return a->head == b->head && a->count == b->count && a->lost == b->lost &&
	       a->generation == b->generation &&
	       !memcmp(a->rec, b->rec, sizeof(a->rec));
}

/*
 * Every answer page the hypercalls cannot write is refused before anything
 * is taken: unaligned, too large for its page, not the host's, a hole, not
 * reachable. fn is called as (pre[0], pre[1], pa, post...) per its layout.
 */
static void refuses_bad_pages(u64 fn, int pa_arg, u64 a0, u64 max, u64 room)
{
	const u64 bad[] = { OUT_PA + 4, POOL_PA, 5 * GiB, 3 * GiB };
	const s64 err[] = { -EINVAL, -EPERM, -ERANGE, -EFAULT };
	u64 a[6] = { a0, 0, 0, 0, 0, 0 };

	for (unsigned int i = 0; i < ELEMENTSOF(bad); i++) {
		a[pa_arg] = bad[i];
		if (max)
			a[pa_arg + 1] = 1;
		ck_assert_int_eq(pkvm_iommu_hvc(&hyp, fn, a), err[i]);
	}
	if (!max)
		return;
	a[pa_arg] = OUT_PA;
	a[pa_arg + 1] = 0;
	ck_assert_int_eq(pkvm_iommu_hvc(&hyp, fn, a), -EINVAL);
	a[pa_arg + 1] = room + 1;
	ck_assert_int_eq(pkvm_iommu_hvc(&hyp, fn, a), -EINVAL);
	/* The answer must end inside the page it starts in. */
	a[pa_arg] = OUT_PA + 4096 - 8;
	a[pa_arg + 1] = 1;
	ck_assert_int_eq(pkvm_iommu_hvc(&hyp, fn, a), -EINVAL);
}

TEST("arguments", new_reads_need_init)
{
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RING_POP, OUT_PA, 1, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INFO, OUT_PA, 0, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_INFO, 0, OUT_PA, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LEDGER_READ, 0, OUT_PA, 1, 0, 0, 0), -ENODEV);
	/* No shadow yet: pKVM's hook has nothing to keep. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, GiB, 4096, false, 2), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, GiB, 4096, false, 2), 0);
}
END_TEST

TEST("arguments", ring_pop_refuses_pages_it_cannot_write)
{
	struct pkvm_iommu_ring_hdr *hdr = out_va(OUT_PA);
	struct s2_ring_rec *rec = (void *)(hdr + 1);
	struct s2_snapshot before, after;
	struct s2_ring ring;

	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 8192, 5, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SHARE, 2 * GiB + 8192, 4096, 9, 0, 0, 0), 0);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	ring = hyp.ring;
	refuses_bad_pages(PKVM_IOMMU_HVC_RING_POP, 0, 0, 1, 127);
	ck_assert(ring_equal(&ring, &hyp.ring));
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);

	/* Two records, as the calls made them (share: the owner as given). */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RING_POP, OUT_PA, 127, 0, 0, 0, 0), 2);
	ck_assert_uint_eq(hdr->nr, 2);
	ck_assert_uint_eq(hdr->generation, 2);
	ck_assert_uint_eq(hdr->flags, 0);
	ck_assert_uint_eq(rec[0].generation, 1);
	ck_assert_uint_eq(rec[0].op, PKVM_IOMMU_OP_DONATE);
	ck_assert_uint_eq(rec[0].addr, 2 * GiB);
	ck_assert_uint_eq(rec[0].len, 8192);
	ck_assert_uint_eq(rec[0].owner, 5);
	ck_assert_uint_eq(rec[1].generation, 2);
	ck_assert_uint_eq(rec[1].op, PKVM_IOMMU_OP_SHARE);
	ck_assert_uint_eq(rec[1].owner, 9);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RING_POP, OUT_PA, 127, 0, 0, 0, 0), 0);
	/* A refused change is not news; nor is the pool given at init. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 5, 0, 0, 0), -EEXIST);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RING_POP, OUT_PA, 127, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(hdr->generation, 2);
}
END_TEST

/* A full ring keeps the oldest records and says it dropped the rest. */
TEST("arguments", ring_overflow_is_told)
{
	struct pkvm_iommu_ring_hdr *hdr = out_va(OUT_PA);
	struct s2_ring_rec *rec = (void *)(hdr + 1);
	u64 next = 1;
	s64 n;

	ck_assert_int_eq(init_ok(), 0);
	for (u32 i = 0; i < S2_RING_SIZE + 44; i++)
		ck_assert_int_eq(call(i & 1 ? PKVM_IOMMU_HVC_UNSHARE : PKVM_IOMMU_HVC_SHARE,
				      2 * GiB, 4096, 0, 0, 0, 0), 0);
	while ((n = call(PKVM_IOMMU_HVC_RING_POP, OUT_PA, 100, 0, 0, 0, 0)) > 0) {
		ck_assert_uint_eq(hdr->flags, next == 1 ? PKVM_IOMMU_RING_LOST : 0);
		for (s64 i = 0; i < n; i++)
			ck_assert_uint_eq(rec[i].generation, next++);
		ck_assert_uint_eq(hdr->generation, S2_RING_SIZE + 44);
	}
	ck_assert_int_eq(n, 0);
	ck_assert_uint_eq(next, S2_RING_SIZE + 1);
	ck_assert_uint_eq(hdr->flags, 0);
}
END_TEST

TEST("arguments", info_reads)
{
	struct pkvm_iommu_hyp_info *info = out_va(OUT_PA);

	ck_assert_int_eq(init_ok(), 0);
	refuses_bad_pages(PKVM_IOMMU_HVC_INFO, 0, 0, 0, 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INFO, OUT_PA + 4096 - 8, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 5, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INFO, OUT_PA, 0, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(info->ias, 35);
	ck_assert_uint_eq(info->generation, 1);
	ck_assert_uint_eq(info->mem_pages, (4 * GiB) >> 12);
	ck_assert_uint_eq(info->nr_smmus, 0);
	ck_assert_uint_eq(info->host_changes_refused, 0);
	/* No SMMU yet, or none of that number. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_INFO, 0, OUT_PA, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SMMU_INFO, ~0ull, OUT_PA, 0, 0, 0, 0), -ENODEV);
}
END_TEST

TEST("arguments", ledger_read_in_pages)
{
	struct pkvm_iommu_ledger_hdr *hdr = out_va(OUT_PA);
	struct pkvm_iommu_ledger_run *run = (void *)(hdr + 1);
	const struct { u64 addr, len; u32 owner, flags; } want[] = {
		{ POOL_PA, POOL_PAGES * 4096ull, PKVM_OWNER_HYP, 0 },
		{ 2 * GiB, 8192, 5, 0 },
		{ 2 * GiB + 8192, 4096, PKVM_OWNER_HOST, PKVM_IOMMU_RUN_SHARED },
		{ 8 * GiB + 0x3000, 4096, 6, 0 },
	};
	struct s2_snapshot before, after;
	struct s2_ring ring;
	u64 from = 0;
	u32 seen = 0;
	s64 n;

	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 8192, 5, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SHARE, 2 * GiB + 8192, 4096, 0, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 8 * GiB + 0x3000, 4096, 6, 0, 0, 0), 0);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	ring = hyp.ring;
	refuses_bad_pages(PKVM_IOMMU_HVC_LEDGER_READ, 1, 0, 1, 169);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LEDGER_READ, 4096 + 8, OUT_PA, 1, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LEDGER_READ, 1ull << 35, OUT_PA, 1, 0, 0, 0), -ERANGE);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LEDGER_READ, ~0ull << 12, OUT_PA, 1, 0, 0, 0), -ERANGE);

	/* One run per call: each resumes where the last stopped. */
	do {
		n = call(PKVM_IOMMU_HVC_LEDGER_READ, from, OUT_PA, 1, 0, 0, 0);
		ck_assert_int_ge(n, 0);
		ck_assert_uint_eq(hdr->nr, n);
		ck_assert_uint_eq(hdr->generation, 3);
		for (s64 i = 0; i < n; i++, seen++) {
			ck_assert_uint_lt(seen, ELEMENTSOF(want));
			ck_assert_uint_eq(run[i].addr, want[seen].addr);
			ck_assert_uint_eq(run[i].len, want[seen].len);
			ck_assert_uint_eq(run[i].owner, want[seen].owner);
			ck_assert_uint_eq(run[i].flags, want[seen].flags);
		}
		from = hdr->resume;
	} while (!(hdr->flags & PKVM_IOMMU_LEDGER_END));
	ck_assert_uint_eq(seen, ELEMENTSOF(want));
	ck_assert_uint_eq(from, 1ull << 35);
	/* All at once, from a later start. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_LEDGER_READ, 2 * GiB, OUT_PA, 169, 0, 0, 0), 3);
	ck_assert_uint_eq(hdr->flags, PKVM_IOMMU_LEDGER_END);
	ck_assert(ring_equal(&ring, &hyp.ring));
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
}
END_TEST

/* Under pKVM ownership is pKVM's alone: the host's calls are refused. */
TEST("arguments", host_changes_refused_under_pkvm)
{
	const struct pkvm_iommu_op o[] = { { PKVM_IOMMU_OP_DONATE, 2, 2 * GiB, 4096, 0, 0 } };
	struct s2_snapshot before, after;

	ck_assert_int_eq(init_ok(), 0);
	pkvm_iommu_hyp_refuse_host_changes(&hyp);
	put_ops(o, 1);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 2, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, POOL_PA, 4096, 1, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_SHARE, 2 * GiB, 4096, 0, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_UNSHARE, 2 * GiB, 4096, 0, 0, 0, 0), -EPERM);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_BATCH, OPS_PA, 1, 0, 0, 0, 0), -EPERM);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&before);
	s2_snapshot_free(&after);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INFO, OUT_PA, 0, 0, 0, 0, 0), 0);
	ck_assert_uint_eq(((struct pkvm_iommu_hyp_info *)out_va(OUT_PA))->host_changes_refused, 1);
	/* pKVM's own transitions go on. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, false, 2), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, false, 2), 0);
	ck_assert_uint_eq(owner_at(2 * GiB), 2);
}
END_TEST

/*
 * COMPACT and FOLD_MODE: EAGER until told, a bounded budget, the MORE bit,
 * allowed under pKVM (they move no ownership), and refused with a
 * transition prepared.
 */
TEST("arguments", compact_and_fold_mode)
{
	u64 base;
	s64 r;

	ck_assert_int_eq(call(PKVM_IOMMU_HVC_COMPACT, 1, 0, 0, 0, 0, 0), -ENODEV);
	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(hyp.pgt.fold, PKVM_FOLD_EAGER);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_COMPACT, 0, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_COMPACT, PKVM_IOMMU_COMPACT_MAX + 1, 0, 0, 0, 0, 0),
			 -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_FOLD_MODE, 2, 0, 0, 0, 0, 0), -EINVAL);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_FOLD_MODE, PKVM_FOLD_LAZY, 0, 0, 0, 0, 0), 0);
	base = hyp.pgt.table_pages;
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, 2 * GiB, 4096, 2, 0, 0, 0), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, 2 * GiB, 4096, 2, 0, 0, 0), 0);
	ck_assert_uint_gt(hyp.pgt.table_pages, base);
	pkvm_iommu_hyp_refuse_host_changes(&hyp);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, false, 2), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_COMPACT, 1, 0, 0, 0, 0, 0), -EBUSY);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_FOLD_MODE, PKVM_FOLD_EAGER, 0, 0, 0, 0, 0), -EBUSY);
	pkvm_iommu_host_cancel(&hyp);
	r = call(PKVM_IOMMU_HVC_COMPACT, 1, 0, 0, 0, 0, 0);
	ck_assert_int_eq(r, 1 | (s64)PKVM_IOMMU_COMPACT_MORE);
	do {
		r = call(PKVM_IOMMU_HVC_COMPACT, PKVM_IOMMU_COMPACT_MAX, 0, 0, 0, 0, 0);
		ck_assert_int_ge(r, 0);
	} while (r & (s64)PKVM_IOMMU_COMPACT_MORE);
	ck_assert_uint_eq(hyp.pgt.table_pages, base);
}
END_TEST

/*
 * The prepare's count is the engine's exact one: with one pool page left
 * a transition that needs two is refused and changes nothing, one that
 * needs one is taken and uses it; transitions that change no access are
 * free, and their records are none.
 */
TEST("arguments", hook_counts_pages_exactly)
{
	struct s2_snapshot before, after;
	u64 blk = 2 * GiB;	/* a 1 GiB block, split below into 2 MiB ones */
	u32 k = 0;

	ck_assert_int_eq(init_ok(), 0);
	/* Each page donated in a fresh 2 MiB block of a split 1 GiB costs one page. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, blk, 4096, 2, 0, 0, 0), 0);
	while (hyp.pgt.pool.nr_free > 1)
		ck_assert_int_eq(call(PKVM_IOMMU_HVC_DONATE, blk + (++k) * 2 * MiB, 4096, 2,
				      0, 0, 0), 0);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &before), 0);
	/* Another 1 GiB block needs a level-2 and a level-3 table: two pages. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 3 * GiB + 4096, 4096, false, 3), -ENOMEM);
	ck_assert(!hyp.pgt.pending.on);
	ck_assert_int_eq(s2_snapshot_take(&hyp.pgt, &after), 0);
	ck_assert(s2_snapshot_equal(&before, &after));
	s2_snapshot_free(&after);
	/* One more 2 MiB block of the split one: exactly the last page. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk + (k + 1) * 2 * MiB, 4096, false, 3), 0);
	ck_assert_uint_eq(hyp.pgt.reserved, 1);
	/* Nothing else changes the table meanwhile, nor a second prepare. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_RECLAIM, blk, 4096, 2, 0, 0, 0), -EBUSY);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk, 4096, true, 0), -EBUSY);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + (k + 1) * 2 * MiB, 4096, false, 3), 0);
	ck_assert_uint_eq(hyp.pgt.pool.nr_free, 0);
	ck_assert_uint_eq(owner_at(blk + (k + 1) * 2 * MiB), 3);
	/* Already so: free, and nothing recorded. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk + (k + 1) * 2 * MiB, 4096, false, 3), 0);
	ck_assert_uint_eq(hyp.pgt.reserved, 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + (k + 1) * 2 * MiB, 4096, false, 3), 0);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk + 4096, 4096, true, 0), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + 4096, 4096, true, 0), 0);
	ck_assert_uint_eq(hyp.ring.generation, k + 2);
	/* A transition that changes nothing needs no prepare; one that changes does not either. */
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + 8192, 4096, true, 0), 0);
	ck_assert_uint_eq(hyp.ring.generation, k + 2);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + 4096, 4096, false, 6), 0);
	ck_assert_uint_eq(owner_at(blk + 4096), 6);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, blk + 4096, 4096, true, 0), 0);
	ck_assert_uint_eq(hyp.ring.generation, k + 4);
	/* A cancelled prepare leaves nothing held and nothing pending. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk, 4096, true, 0), 0);
	pkvm_iommu_host_cancel(&hyp);
	ck_assert(!hyp.pgt.pending.on);
	ck_assert_uint_eq(hyp.pgt.reserved, 0);
	ck_assert_uint_eq(owner_at(blk), 2);
	/* The pool and holes: moved by nothing, reached by nothing. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, POOL_PA, 4096, true, 0), -EPERM);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, POOL_PA, 4096, false, 7), -EPERM);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, POOL_PA, 4096, false, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, POOL_PA, 4096, false, PKVM_OWNER_HYP), 0);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 5 * GiB, 4096, false, 2), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 5 * GiB, 4096, false, 2), 0);
	/* What the host cannot name. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk, 4096, false, PKVM_OWNER_HOST), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk, 4096, false, 0x10000), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk + 1, 4096, false, 2), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, blk, 0, false, 2), -EINVAL);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 1ull << 35, 4096, false, 2), -ERANGE);
	ck_assert(!hyp.pgt.pending.on);
	s2_snapshot_free(&before);
}
END_TEST

/*
 * pKVM's ownership source (the EL2 build's hyp_memory[] and host stage-2
 * state): a memory map that differs from the host's, and runs the host
 * cannot reach at INIT, all under pKVM's lock.
 */
struct fake_own {
	int locked;
	int lock_calls;
	bool fail;
};

static struct fake_own fown;
static const struct s2_region own_regions[2] = {
	{ GiB, 2 * GiB },
	{ 4 * GiB, GiB },
};

static void own_lock(void *arg)
{
	struct fake_own *f = arg;

	ck_assert_int_eq(f->locked, 0);
	f->locked = 1;
	f->lock_calls++;
}

static void own_unlock(void *arg)
{
	struct fake_own *f = arg;

	ck_assert_int_eq(f->locked, 1);
	f->locked = 0;
}

static int own_walk(void *arg, pkvm_iommu_seed_fn fn, void *ctx)
{
	struct fake_own *f = arg;
	int ret;

	/* Seeded while no transition can run, and the shadow not yet live. */
	ck_assert_int_eq(f->locked, 1);
	ck_assert(!hyp.ready);
	/* The hypervisor's carve-out, a guest's page, the pool (already the hyp's). */
	ret = fn(ctx, 2 * GiB, 12 * MiB, PKVM_OWNER_HYP);
	if (!ret)
		ret = fn(ctx, 4 * GiB + 3 * 4096, 4096, 0x1000);
	if (!ret)
		ret = fn(ctx, POOL_PA, POOL_PAGES * 4096ull, PKVM_OWNER_HYP);
	if (!ret && f->fail)
		ret = fn(ctx, 4 * GiB, 4096, PKVM_OWNER_HOST);
	return ret;
}

static const struct pkvm_iommu_ownership own = {
	.regions = own_regions,
	.nr_regions = 2,
	.lock = own_lock,
	.unlock = own_unlock,
	.for_each_nonhost = own_walk,
	.arg = &fown,
};

TEST("arguments", init_seeds_from_pkvms_ownership)
{
	u32 owner;
	bool shared;

	fown = (struct fake_own){ .fail = true };
	pkvm_iommu_hyp_set_ownership(&hyp, &own);
	/* A seed that fails fails INIT, which can be tried again. */
	ck_assert_int_eq(init_ok(), -EINVAL);
	ck_assert(!hyp.ready);
	ck_assert_int_eq(fown.locked, 0);
	fown.fail = false;
	/* The host's region array is not read: unreadable, and none. */
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_INIT, 64 * GiB, 0, POOL_PA, POOL_PAGES,
			      PKVM_SPLIT_AUTO, 0), 0);
	ck_assert(hyp.ready);
	ck_assert_int_eq(fown.lock_calls, 2);
	ck_assert_int_eq(fown.locked, 0);
	/* pKVM's map, not the host's: 3 GiB, and nothing at 8 GiB. */
	ck_assert_uint_eq(hyp.pgt.mem_pages, 3 * GiB / 4096);
	ck_assert_int_eq(s2_owner_of(&hyp.pgt, 8 * GiB + 0x3000, &owner, &shared), -ERANGE);
	ck_assert_uint_eq(owner_at(2 * GiB - 4096), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner_at(2 * GiB), PKVM_OWNER_HYP);
	ck_assert_uint_eq(owner_at(2 * GiB + 12 * MiB - 4096), PKVM_OWNER_HYP);
	ck_assert_uint_eq(owner_at(2 * GiB + 12 * MiB), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner_at(4 * GiB + 3 * 4096), 0x1000);
	ck_assert_uint_eq(owner_at(4 * GiB + 4 * 4096), PKVM_OWNER_HOST);
	ck_assert_uint_eq(owner_at(POOL_PA), PKVM_OWNER_HYP);
	/* Set-up, not news: nothing in the ring. */
	ck_assert_uint_eq(hyp.ring.generation, 0);
	/* The hook takes over: the guest's page comes back. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 4 * GiB + 3 * 4096, 4096, true, 0), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 4 * GiB + 3 * 4096, 4096, true, 0), 0);
	ck_assert_uint_eq(owner_at(4 * GiB + 3 * 4096), PKVM_OWNER_HOST);
	ck_assert_uint_eq(hyp.ring.generation, 1);
	ck_assert_int_ge(stat(PKVM_IOMMU_STAT_SEED_NS), 0);
}
END_TEST

/* The hook's own cost, counted per committed transition. */
TEST("arguments", hook_counts_its_transitions)
{
	s64 ns;

	ck_assert_int_eq(init_ok(), 0);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_HOOK_TRANSITIONS), 0);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_HOOK_NS), 0);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_SEED_NS), 0);
	/* A refused prepare and a cancelled one are not transitions. */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, POOL_PA, 4096, true, 0), -EPERM);
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, false, 5), 0);
	pkvm_iommu_host_cancel(&hyp);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_HOOK_TRANSITIONS), 0);
	ck_assert_uint_eq(hyp.hook.prepare_ns, 0);
	/* Prepared and committed, committed alone (a change of nothing). */
	ck_assert_int_eq(pkvm_iommu_host_prepare(&hyp, 2 * GiB, 4096, false, 5), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, false, 5), 0);
	ck_assert_int_eq(pkvm_iommu_host_commit(&hyp, 2 * GiB, 4096, false, 5), 0);
	ck_assert_int_eq(stat(PKVM_IOMMU_STAT_HOOK_TRANSITIONS), 2);
	ns = stat(PKVM_IOMMU_STAT_HOOK_NS);
	ck_assert_int_ge(ns, stat(PKVM_IOMMU_STAT_HOOK_MAX_NS));
	ck_assert_int_ge(stat(PKVM_IOMMU_STAT_HOOK_MAX_NS), 0);
	ck_assert_int_eq(call(PKVM_IOMMU_HVC_STATS_READ, PKVM_IOMMU_STAT_HOOK_NS, 0, 0, 0, 0, 0), ns);
}
END_TEST

int main(void)
{
	return TEST_RUN("hvc",
			TCASE("arguments", .setup = setup, .teardown = teardown));
}
