// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's donation ledger: exact run lists and totals after event
 * sequences, every refusal leaving the ledger as it was, reconcile diffs,
 * the history ring, and a property test of random events (seeded; replay
 * with PKVM_SEED, length PKVM_LEDGER_OPS, default 1000000) against a
 * page-array reference over a 256 MiB window, with simulated event loss
 * repaired by reconcile.
 */
#include <check.h>
#include "test_registry.h"
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <linux/pkvm_iommu.h>

#include "ledger.h"

#define PG LEDGER_PAGE_SIZE
#define HOST PKVM_OWNER_HOST
#define HYP PKVM_OWNER_HYP
#define G1 2u
#define G2 3u

/* ---- helpers ---- */

struct snap {
	struct ledger_run runs[64];
	size_t nr;
	uint64_t gen, shared, donated, hyp, g1, g2;
	struct ledger_record hist[8];
	size_t nr_hist;
};

static void take(const struct ledger *l, struct snap *s)
{
	memset(s, 0, sizeof(*s));
	s->nr = ledger_runs(l, s->runs, 64);
	ck_assert_uint_le(s->nr, 64);
	s->gen = ledger_generation(l);
	s->shared = ledger_shared_pages(l);
	s->donated = ledger_donated_pages(l);
	s->hyp = ledger_pages(l, HYP);
	s->g1 = ledger_pages(l, G1);
	s->g2 = ledger_pages(l, G2);
	s->nr_hist = ledger_history(l, s->hist, 8);
}

/* Field by field: struct ledger_run has padding that memcmp would see. */
static bool run_eq(const struct ledger_run *a, const struct ledger_run *b)
{
	return a->addr == b->addr && a->len == b->len && a->owner == b->owner &&
	       a->shared == b->shared;
}

static bool snap_eq(const struct snap *a, const struct snap *b)
{
	if (a->nr != b->nr || a->gen != b->gen || a->shared != b->shared ||
	    a->donated != b->donated || a->hyp != b->hyp || a->g1 != b->g1 ||
	    a->g2 != b->g2 || a->nr_hist != b->nr_hist)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (!run_eq(&a->runs[i], &b->runs[i]))
			return false;
	return !memcmp(a->hist, b->hist, a->nr_hist * sizeof(a->hist[0]));
}

static void expect_runs(const struct ledger *l, const struct ledger_run *want, size_t n)
{
	struct ledger_run got[64];
	size_t nr = ledger_runs(l, got, 64);

	ck_assert_int_eq(ledger_check(l), 0);
	ck_assert_uint_eq(nr, n);
	for (size_t i = 0; i < n; i++) {
		ck_assert_msg(run_eq(&got[i], &want[i]),
			      "run %zu: got {0x%" PRIx64 ", 0x%" PRIx64 ", %u, %d} want "
			      "{0x%" PRIx64 ", 0x%" PRIx64 ", %u, %d}", i,
			      got[i].addr, got[i].len, got[i].owner, got[i].shared,
			      want[i].addr, want[i].len, want[i].owner, want[i].shared);
	}
}

/* Applies with the next generation. */
static int next(struct ledger *l, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len, uint32_t owner)
{
	return ledger_apply(l, op, addr, len, owner, ledger_generation(l) + 1);
}

#define R(a, n, o) { (a) * PG, (n) * PG, (o), false }
#define S(a, n) { (a) * PG, (n) * PG, HOST, true }

/* ---- sequences ---- */

TEST("events", apply_sequence_exact_runs)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();

	ck_assert_ptr_nonnull(l);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x100 * PG, 16 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x200 * PG, 8 * PG, HYP), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x110 * PG, 4 * PG, G1), 0);	/* merges */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x0fc * PG, 4 * PG, G2), 0);	/* adjacent, other owner */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x1f8 * PG, 8 * PG, HYP), 0);	/* merges below */
	ck_assert_int_eq(ledger_generation(l), 5);
	{
		const struct ledger_run want[] = {
			R(0x0fc, 4, G2), R(0x100, 20, G1), R(0x1f8, 16, HYP),
		};
		expect_runs(l, want, 3);
	}
	ck_assert_uint_eq(ledger_pages(l, G1), 20);
	ck_assert_uint_eq(ledger_pages(l, G2), 4);
	ck_assert_uint_eq(ledger_pages(l, HYP), 16);
	ck_assert_uint_eq(ledger_pages(l, 77), 0);
	ck_assert_uint_eq(ledger_donated_pages(l), 40);
	ck_assert_uint_eq(ledger_shared_pages(l), 0);

	/* Give back the edges and the whole hypervisor run. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x100 * PG, 2 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x112 * PG, 2 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x1f8 * PG, 16 * PG, HYP), 0);
	{
		const struct ledger_run want[] = { R(0x0fc, 4, G2), R(0x102, 16, G1) };
		expect_runs(l, want, 2);
	}
	ck_assert_uint_eq(ledger_pages(l, HYP), 0);
	ck_assert_uint_eq(ledger_donated_pages(l), 20);
	ck_assert_int_eq(ledger_generation(l), 8);
}
END_TEST

TEST("events", split_and_merge_round_trip)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	const struct ledger_run one[] = { R(0x40, 32, G1) };
	const struct ledger_run halves[] = { R(0x40, 8, G1), R(0x50, 16, G1) };
	const struct ledger_run three[] = { R(0x40, 8, G1), R(0x48, 8, G2), R(0x50, 16, G1) };

	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x40 * PG, 32 * PG, G1), 0);
	expect_runs(l, one, 1);
	/* Reclaim of the middle splits the run; donating it back merges it again. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x48 * PG, 8 * PG, G1), 0);
	expect_runs(l, halves, 2);
	ck_assert_uint_eq(ledger_pages(l, G1), 24);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x48 * PG, 8 * PG, G1), 0);
	expect_runs(l, one, 1);
	ck_assert_uint_eq(ledger_pages(l, G1), 32);

	/* The gap donated to someone else stays its own run, and leaves cleanly. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x48 * PG, 8 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x48 * PG, 8 * PG, G2), 0);
	expect_runs(l, three, 3);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x48 * PG, 8 * PG, G2), 0);
	expect_runs(l, halves, 2);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x48 * PG, 8 * PG, G1), 0);
	expect_runs(l, one, 1);

	/* Page by page out of the middle and back in any order. */
	for (uint64_t p = 0x50; p < 0x58; p++)
		ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, p * PG, PG, G1), 0);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 2);
	for (uint64_t p = 0x57; p >= 0x50; p -= 2)
		ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, p * PG, PG, G1), 0);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 5);
	for (uint64_t p = 0x50; p < 0x58; p += 2)
		ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, p * PG, PG, G1), 0);
	expect_runs(l, one, 1);

	/* Everything back: empty. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x40 * PG, 32 * PG, G1), 0);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 0);
	ck_assert_uint_eq(ledger_donated_pages(l), 0);
	ck_assert_uint_eq(ledger_pages(l, G1), 0);
}
END_TEST

TEST("events", share_unshare)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	uint32_t owner;
	bool shared;

	/* The owner of share/unshare is ignored, as by the kernel. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x10 * PG, 4 * PG, 0), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x14 * PG, 4 * PG, 1234567), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x18 * PG, 4 * PG, G1), 0);
	{
		const struct ledger_run want[] = { S(0x10, 8), R(0x18, 4, G1) };
		expect_runs(l, want, 2);
	}
	ck_assert_uint_eq(ledger_shared_pages(l), 8);
	ck_assert_uint_eq(ledger_pages(l, HOST), 8);
	ck_assert_uint_eq(ledger_donated_pages(l), 4);
	ck_assert_int_eq(ledger_owner_of(l, 0x13 * PG + 5, &owner, &shared), 0);
	ck_assert(owner == HOST && shared);
	ck_assert_int_eq(ledger_owner_of(l, 0x1b * PG, &owner, &shared), 0);
	ck_assert(owner == G1 && !shared);
	ck_assert_int_eq(ledger_owner_of(l, 0x1c * PG, &owner, &shared), -ENOENT);
	ck_assert(owner == HOST && !shared);

	/* Shared pages cannot be donated, donated ones cannot be shared. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x12 * PG, PG, G1), -EINVAL);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x18 * PG, PG, 0), -EINVAL);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x0f * PG, 2 * PG, 0), -EINVAL);
	/* Unshare only what is shared, and reclaim is not unshare. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_UNSHARE, 0x18 * PG, PG, 0), -EINVAL);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_UNSHARE, 0x17 * PG, 2 * PG, 0), -EINVAL);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x10 * PG, PG, HOST), -EINVAL);

	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_UNSHARE, 0x12 * PG, 4 * PG, 9), 0);
	{
		const struct ledger_run want[] = { S(0x10, 2), S(0x16, 2), R(0x18, 4, G1) };
		expect_runs(l, want, 3);
	}
	ck_assert_uint_eq(ledger_shared_pages(l), 4);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x12 * PG, 4 * PG, 0), 0);
	{
		const struct ledger_run want[] = { S(0x10, 8), R(0x18, 4, G1) };
		expect_runs(l, want, 2);
	}
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_UNSHARE, 0x10 * PG, 8 * PG, 0), 0);
	{
		const struct ledger_run want[] = { R(0x18, 4, G1) };
		expect_runs(l, want, 1);
	}
	ck_assert_uint_eq(ledger_shared_pages(l), 0);
}
END_TEST

/* ---- refusals ---- */

struct bad {
	enum pkvm_iommu_op_code op;
	uint64_t addr, len;
	uint32_t owner;
	int64_t gen_delta;	/* generation relative to the ledger's */
	int want;
	const char *why;
};

TEST("events", refusals_leave_ledger_unchanged)
{
	_cleanup_ledger_ struct ledger *l = ledger_new_with_history(8);
	static const struct bad bad[] = {
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, 0, G1, 1, -EINVAL, "len 0" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG + 1, PG, G1, 1, -EINVAL, "unaligned addr" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG + 512, G1, 1, -EINVAL, "unaligned len" },
		{ PKVM_IOMMU_OP_DONATE, UINT64_MAX - PG + 1, 2 * PG, G1, 1, -EINVAL, "overflow" },
		{ PKVM_IOMMU_OP_DONATE, UINT64_MAX - PG + 1, PG, G1, 1, -EINVAL, "end wraps to 0" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG, HOST, 1, -EINVAL, "donate to host" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG, PKVM_OWNER_MAX + 1, 1, -EINVAL, "owner too big" },
		{ PKVM_IOMMU_OP_DONATE, 0x1f * PG, 2 * PG, G2, 1, -EINVAL, "donate overlapping start" },
		{ PKVM_IOMMU_OP_DONATE, 0x2f * PG, 2 * PG, G2, 1, -EINVAL, "donate overlapping end" },
		{ PKVM_IOMMU_OP_DONATE, 0x00 * PG, 0x100 * PG, G2, 1, -EINVAL, "donate over everything" },
		{ PKVM_IOMMU_OP_DONATE, 0x24 * PG, PG, G1, 1, -EINVAL, "donate again" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x80 * PG, PG, G1, 1, -EINVAL, "reclaim plain memory" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x20 * PG, PG, G2, 1, -EINVAL, "reclaim, wrong owner" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x3f * PG, 2 * PG, G2, 1, -EINVAL, "reclaim past the run" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x1f * PG, 2 * PG, G1, 1, -EINVAL, "reclaim before the run" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x2f * PG, 2 * PG, G1, 1, -EINVAL, "reclaim across owners" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x20 * PG, PG, HOST, 1, -EINVAL, "reclaim from host" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x40 * PG, PG, G1, 1, -EINVAL, "reclaim shared" },
		{ PKVM_IOMMU_OP_SHARE, 0x40 * PG, PG, 0, 1, -EINVAL, "share twice" },
		{ PKVM_IOMMU_OP_SHARE, 0x20 * PG, PG, 0, 1, -EINVAL, "share donated" },
		{ PKVM_IOMMU_OP_UNSHARE, 0x80 * PG, PG, 0, 1, -EINVAL, "unshare unshared" },
		{ PKVM_IOMMU_OP_UNSHARE, 0x41 * PG, 2 * PG, 0, 1, -EINVAL, "unshare past the run" },
		{ LEDGER_RESYNC, 0x80 * PG, PG, G1, 1, -EINVAL, "history-only op" },
		{ (enum pkvm_iommu_op_code)99, 0x80 * PG, PG, G1, 1, -EINVAL, "unknown op" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG, G1, 2, -ESTALE, "one event lost" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG, G1, 1000, -ESTALE, "many lost" },
		{ PKVM_IOMMU_OP_DONATE, 0x80 * PG, PG, G1, 0, -EALREADY, "same generation" },
		{ PKVM_IOMMU_OP_RECLAIM, 0x20 * PG, PG, G1, -1, -EALREADY, "older, valid" },
		{ PKVM_IOMMU_OP_DONATE, 0x20 * PG, PG, G1, -2, -EALREADY, "older, contradicting" },
		{ PKVM_IOMMU_OP_DONATE, 0, 0, HOST, -3, -EALREADY, "older, malformed" },
	};
	struct snap before, after;

	ledger_set_time(l, 42);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x20 * PG, 16 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x30 * PG, 16 * PG, G2), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x40 * PG, 2 * PG, 0), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x50 * PG, 1 * PG, HYP), 0);
	take(l, &before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const struct bad *b = &bad[i];
		int ret = ledger_apply(l, b->op, b->addr, b->len, b->owner,
				       ledger_generation(l) + (uint64_t)b->gen_delta);

		ck_assert_msg(ret == b->want, "%s: got %d want %d", b->why, ret, b->want);
		take(l, &after);
		ck_assert_msg(snap_eq(&before, &after), "%s: ledger changed", b->why);
		ck_assert_int_eq(ledger_check(l), 0);
	}
	/* After all that, the next generation still applies. */
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x20 * PG, 16 * PG, G1), 0);
	ck_assert_int_eq(ledger_generation(l), 5);
}
END_TEST

/* ---- reconcile ---- */

static void expect_diff(const struct ledger_diff *d, uint64_t dadd, uint64_t drem,
			uint64_t sadd, uint64_t srem, uint64_t chg, uint64_t radd, uint64_t rrem)
{
	ck_assert_msg(d->donated_added == dadd && d->donated_removed == drem &&
		      d->shared_added == sadd && d->shared_removed == srem &&
		      d->owner_changed == chg && d->runs_added == radd && d->runs_removed == rrem,
		      "diff donated +%" PRIu64 " -%" PRIu64 " shared +%" PRIu64 " -%" PRIu64
		      " owner %" PRIu64 " runs +%" PRIu64 " -%" PRIu64,
		      d->donated_added, d->donated_removed, d->shared_added, d->shared_removed,
		      d->owner_changed, d->runs_added, d->runs_removed);
}

/* Ledger at generation 3: G1 [0x10, +16), G2 [0x20, +8), shared [0x30, +4). */
static struct ledger *base(void)
{
	struct ledger *l = ledger_new();

	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x10 * PG, 16 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x20 * PG, 8 * PG, G2), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x30 * PG, 4 * PG, 0), 0);
	return l;
}

TEST("reconcile", reconcile_identical)
{
	_cleanup_ledger_ struct ledger *l = base();
	const struct ledger_run dump[] = { S(0x30, 4), R(0x10, 16, G1), R(0x20, 8, G2) };
	struct ledger_diff d;

	ck_assert_int_eq(ledger_reconcile(l, dump, 3, 3, &d), 0);
	expect_diff(&d, 0, 0, 0, 0, 0, 0, 0);
	ck_assert_uint_eq(d.old_generation, 3);
	ck_assert_uint_eq(d.new_generation, 3);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 3);
}
END_TEST

TEST("reconcile", reconcile_lost_donate)
{
	_cleanup_ledger_ struct ledger *l = base();
	/* Lost: donate G1 [0x08, +8) (merges with the G1 run), donate HYP [0x40, +2). */
	const struct ledger_run dump[] = {
		R(0x08, 24, G1), R(0x20, 8, G2), S(0x30, 4), R(0x40, 2, HYP),
	};
	struct ledger_diff d;

	ck_assert_int_eq(ledger_reconcile(l, dump, 4, 5, &d), 0);
	expect_diff(&d, 10, 0, 0, 0, 0, 2, 1);
	ck_assert_uint_eq(d.old_generation, 3);
	ck_assert_uint_eq(d.new_generation, 5);
	expect_runs(l, dump, 4);
	ck_assert_uint_eq(ledger_pages(l, G1), 24);
	ck_assert_uint_eq(ledger_pages(l, HYP), 2);
	ck_assert_uint_eq(ledger_donated_pages(l), 34);
	ck_assert_int_eq(ledger_generation(l), 5);
	/* Events the dump already reflects are ignored, the next one applies. */
	ck_assert_int_eq(ledger_apply(l, PKVM_IOMMU_OP_DONATE, 0x40 * PG, 2 * PG, HYP, 5), -EALREADY);
	ck_assert_int_eq(ledger_apply(l, PKVM_IOMMU_OP_RECLAIM, 0x40 * PG, 2 * PG, HYP, 6), 0);
}
END_TEST

TEST("reconcile", reconcile_lost_reclaim)
{
	_cleanup_ledger_ struct ledger *l = base();
	/* Lost: reclaim of G1's middle [0x14, +4), all of G2, unshare [0x32, +2). */
	const struct ledger_run dump[] = { R(0x10, 4, G1), R(0x18, 8, G1), S(0x30, 2) };
	struct ledger_diff d;

	ck_assert_int_eq(ledger_reconcile(l, dump, 3, 9, &d), 0);
	expect_diff(&d, 0, 12, 0, 2, 0, 3, 3);
	expect_runs(l, dump, 3);
	ck_assert_uint_eq(ledger_pages(l, G1), 12);
	ck_assert_uint_eq(ledger_pages(l, G2), 0);
	ck_assert_uint_eq(ledger_shared_pages(l), 2);
}
END_TEST

TEST("reconcile", reconcile_changed_owner)
{
	_cleanup_ledger_ struct ledger *l = base();
	/*
	 * Lost: G2 reclaimed and donated to HYP; 4 pages of G1 reclaimed and
	 * donated to G2; the shared run unshared and donated to G1.
	 */
	const struct ledger_run dump[] = {
		R(0x10, 12, G1), R(0x1c, 4, G2), R(0x20, 8, HYP), R(0x30, 4, G1),
	};
	struct ledger_diff d;

	ck_assert_int_eq(ledger_reconcile(l, dump, 4, 20, &d), 0);
	expect_diff(&d, 4, 0, 0, 4, 12, 4, 3);
	expect_runs(l, dump, 4);
	ck_assert_uint_eq(ledger_pages(l, G1), 16);
	ck_assert_uint_eq(ledger_pages(l, G2), 4);
	ck_assert_uint_eq(ledger_pages(l, HYP), 8);
	ck_assert_uint_eq(ledger_shared_pages(l), 0);
}
END_TEST

TEST("reconcile", reconcile_unsorted_unmerged)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	const struct ledger_run dump[] = {
		R(0x18, 8, G1), S(0x04, 1), R(0x10, 8, G1), S(0x05, 3), R(0x20, 1, G2),
	};
	const struct ledger_run want[] = { S(0x04, 4), R(0x10, 16, G1), R(0x20, 1, G2) };
	struct ledger_diff d;

	ck_assert_int_eq(ledger_reconcile(l, dump, 5, 7, &d), 0);
	expect_diff(&d, 17, 0, 4, 0, 0, 3, 0);
	expect_runs(l, want, 3);
	/* And back to empty. */
	ck_assert_int_eq(ledger_reconcile(l, NULL, 0, 8, &d), 0);
	expect_diff(&d, 0, 17, 0, 4, 0, 0, 3);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 0);
	ck_assert_uint_eq(ledger_donated_pages(l), 0);
	ck_assert_uint_eq(ledger_pages(l, G1), 0);
}
END_TEST

TEST("reconcile", reconcile_bad_dump_leaves_ledger_unchanged)
{
	_cleanup_ledger_ struct ledger *l = base();
	static const struct {
		struct ledger_run r[2];
		size_t n;
		const char *why;
	} bad[] = {
		{ { R(0x10, 4, G1), R(0x13, 4, G2) }, 2, "overlap" },
		{ { R(0x13, 4, G2), R(0x10, 4, G1) }, 2, "overlap, unsorted" },
		{ { R(0x10, 4, G1), R(0x10, 4, G1) }, 2, "duplicate" },
		{ { R(0x10, 0, G1) }, 1, "len 0" },
		{ { { 0x10 * PG + 8, PG, G1, false } }, 1, "unaligned addr" },
		{ { { 0x10 * PG, PG - 8, G1, false } }, 1, "unaligned len" },
		{ { { UINT64_MAX - PG + 1, 2 * PG, G1, false } }, 1, "overflow" },
		{ { R(0x10, 4, HOST) }, 1, "plain host run" },
		{ { { 0x10 * PG, PG, G1, true } }, 1, "shared, not host" },
		{ { R(0x10, 4, PKVM_OWNER_MAX + 1) }, 1, "owner too big" },
	};
	struct ledger_diff d = { .runs_added = 12345 };
	struct snap before, after;

	take(l, &before);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_msg(ledger_reconcile(l, bad[i].r, bad[i].n, 99, &d) == -EINVAL,
			      "%s accepted", bad[i].why);
		take(l, &after);
		ck_assert_msg(snap_eq(&before, &after), "%s: ledger changed",
			      bad[i].why);
		ck_assert_uint_eq(d.runs_added, 12345);	/* diff untouched too */
	}
}
END_TEST

/* ---- totals and history ---- */

struct owner_seen {
	uint32_t owner[8];
	uint64_t pages[8];
	size_t nr;
};

static int see_owner(uint32_t owner, uint64_t pages, void *arg)
{
	struct owner_seen *s = arg;

	ck_assert_uint_lt(s->nr, 8);
	s->owner[s->nr] = owner;
	s->pages[s->nr++] = pages;
	return 0;
}

static int stop_at_second(const struct ledger_run *r, void *arg)
{
	return ++*(int *)arg == 2 ? 7 : 0;
}

TEST("events", owner_totals_and_iteration)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	struct owner_seen s = { 0 };
	int calls = 0;

	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x100 * PG, 3 * PG, PKVM_OWNER_MAX), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x000 * PG, 5 * PG, G2), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x010 * PG, 2 * PG, HYP), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x020 * PG, 9 * PG, 0), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x030 * PG, 1 * PG, G1), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_RECLAIM, 0x030 * PG, 1 * PG, G1), 0);
	/* Host (shared) and owners back to zero pages are not listed. */
	ck_assert_int_eq(ledger_for_each_owner(l, see_owner, &s), 0);
	ck_assert_uint_eq(s.nr, 3);
	ck_assert(s.owner[0] == HYP && s.pages[0] == 2);
	ck_assert(s.owner[1] == G2 && s.pages[1] == 5);
	ck_assert(s.owner[2] == PKVM_OWNER_MAX && s.pages[2] == 3);
	ck_assert_uint_eq(ledger_donated_pages(l), 10);
	ck_assert_uint_eq(ledger_shared_pages(l), 9);
	ck_assert_int_eq(ledger_for_each(l, stop_at_second, &calls), 7);
	ck_assert_int_eq(calls, 2);
}
END_TEST

TEST("events", history_ring)
{
	_cleanup_ledger_ struct ledger *l = ledger_new_with_history(4);
	_cleanup_ledger_ struct ledger *none = ledger_new_with_history(0);
	const struct ledger_run dump[] = { R(0x10, 1, G1) };
	struct ledger_record h[8];

	ck_assert_uint_eq(ledger_history(l, h, 8), 0);
	for (uint64_t i = 0; i < 6; i++) {
		ledger_set_time(l, 1000 + i);
		ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, i * PG, PG, G1 + (uint32_t)i), 0);
	}
	ledger_set_time(l, 2000);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_DONATE, 0x40 * PG, PG, HOST), -EINVAL);	/* not kept */
	ck_assert_uint_eq(ledger_history(l, h, 8), 4);
	for (uint64_t i = 0; i < 4; i++) {
		ck_assert_uint_eq(h[i].generation, i + 3);
		ck_assert_uint_eq(h[i].usec, 1002 + i);
		ck_assert_uint_eq(h[i].addr, (i + 2) * PG);
		ck_assert_uint_eq(h[i].owner, G1 + i + 2);
		ck_assert_int_eq(h[i].op, PKVM_IOMMU_OP_DONATE);
	}
	/* Fewer asked: the newest ones. */
	ck_assert_uint_eq(ledger_history(l, h, 2), 2);
	ck_assert_uint_eq(h[0].generation, 5);
	ck_assert_uint_eq(h[1].generation, 6);
	/* A resync is marked; share is recorded with the host as owner. */
	ck_assert_int_eq(ledger_reconcile(l, dump, 1, 10, NULL), 0);
	ck_assert_int_eq(next(l, PKVM_IOMMU_OP_SHARE, 0x50 * PG, PG, 99), 0);
	ck_assert_uint_eq(ledger_history(l, h, 8), 4);
	ck_assert_int_eq(h[2].op, LEDGER_RESYNC);
	ck_assert_uint_eq(h[2].generation, 10);
	ck_assert_uint_eq(h[2].usec, 2000);
	ck_assert_int_eq(h[3].op, PKVM_IOMMU_OP_SHARE);
	ck_assert_uint_eq(h[3].owner, HOST);
	ck_assert_uint_eq(h[3].generation, 11);

	ck_assert_int_eq(next(none, PKVM_IOMMU_OP_DONATE, 0, PG, G1), 0);
	ck_assert_uint_eq(ledger_history(none, h, 8), 0);
}
END_TEST

/* ---- property test ---- */

#define WIN_BASE 0x80000000ull
#define WIN_PAGES 65536u	/* 256 MiB */
#define NR_OWNERS 8u		/* HYP and guests 2..8 */

static uint64_t seed;
static long op_index;

/* Not ck_assert: with CK_FORK=no each of those writes a checkpoint (a syscall). */
#define fail_if_not(cond)                                                        \
	do {                                                                     \
		if (!(cond))                                                     \
			ck_abort_msg("seed 0x%" PRIx64 " op %ld: %s", seed, op_index, #cond); \
	} while (0)

static uint64_t rnd(uint64_t *s)
{
	/* splitmix64: small, fast, good enough to drive a test. */
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The reference: one owner and one shared flag per page. */
struct ref {
	uint16_t owner[WIN_PAGES];
	uint8_t shared[WIN_PAGES];
};

static bool ref_plain(const struct ref *m, size_t p)
{
	return m->owner[p] == HOST && !m->shared[p];
}

/* What the kernel would have said, in the ledger's terms: 0 or -EINVAL. */
static int ref_check(const struct ref *m, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		     uint32_t owner)
{
	size_t p0, n;

	if (!len || (addr | len) % PG)
		return -EINVAL;
	if ((op == PKVM_IOMMU_OP_DONATE || op == PKVM_IOMMU_OP_RECLAIM) &&
	    (owner == HOST || owner > PKVM_OWNER_MAX))
		return -EINVAL;
	p0 = (addr - WIN_BASE) / PG;
	n = len / PG;
	for (size_t p = p0; p < p0 + n; p++) {
		bool ok;

		switch (op) {
		case PKVM_IOMMU_OP_DONATE:
		case PKVM_IOMMU_OP_SHARE: ok = ref_plain(m, p); break;
		case PKVM_IOMMU_OP_RECLAIM: ok = m->owner[p] == owner && !m->shared[p]; break;
		default: ok = m->owner[p] == HOST && m->shared[p]; break;
		}
		if (!ok)
			return -EINVAL;
	}
	return 0;
}

static void ref_apply(struct ref *m, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		      uint32_t owner)
{
	size_t p0 = (addr - WIN_BASE) / PG, n = len / PG;

	for (size_t p = p0; p < p0 + n; p++) {
		switch (op) {
		case PKVM_IOMMU_OP_DONATE: m->owner[p] = (uint16_t)owner; break;
		case PKVM_IOMMU_OP_RECLAIM: m->owner[p] = HOST; break;
		case PKVM_IOMMU_OP_SHARE: m->shared[p] = 1; break;
		default: m->shared[p] = 0; break;
		}
	}
}

/* Runs of the reference, merged as the kernel's dump merges them. */
static size_t ref_runs(const struct ref *m, struct ledger_run *out)
{
	size_t nr = 0;

	for (size_t p = 0; p < WIN_PAGES; p++) {
		struct ledger_run *last = nr ? &out[nr - 1] : NULL;
		uint64_t a = WIN_BASE + p * PG;

		if (ref_plain(m, p))
			continue;
		if (last && last->addr + last->len == a && last->owner == m->owner[p] &&
		    last->shared == !!m->shared[p])
			last->len += PG;
		else
			out[nr++] = (struct ledger_run){ a, PG, m->owner[p], !!m->shared[p] };
	}
	return nr;
}

/*
 * An event. Three in four are aimed: inside the stretch of equal pages
 * around a random page, with the op that page's state allows (a gap is
 * donated or shared, a run reclaimed or unshared), so most succeed; one
 * in sixteen of those overruns the stretch by a page. The rest are blind
 * and mostly contradict the ledger.
 */
static void gen_event(const struct ref *m, uint64_t *st, enum pkvm_iommu_op_code *op,
		      uint64_t *addr, uint64_t *len, uint32_t *owner)
{
	uint64_t r = rnd(st);
	size_t p = rnd(st) % WIN_PAGES, lo = p, hi = p + 1, n;

	*op = (enum pkvm_iommu_op_code)(r % 4);
	*owner = HYP + (uint32_t)((r >> 8) % NR_OWNERS);
	n = (r >> 16) % 8 == 0 ? 1 + (r >> 24) % 512 : 1 + (r >> 24) % 16;
	if ((r >> 40) % 4) {
		/* Bounded scan: events stay O(1) on average, like the kernel's. */
		while (lo > 0 && p - lo < 600 && m->owner[lo - 1] == m->owner[p] &&
		       m->shared[lo - 1] == m->shared[p])
			lo--;
		while (hi < WIN_PAGES && hi - p < 600 && m->owner[hi] == m->owner[p] &&
		       m->shared[hi] == m->shared[p])
			hi++;
		if (m->shared[p])
			*op = PKVM_IOMMU_OP_UNSHARE;
		else if (m->owner[p] != HOST)
			*op = PKVM_IOMMU_OP_RECLAIM;
		else
			*op = r % 3 ? PKVM_IOMMU_OP_DONATE : PKVM_IOMMU_OP_SHARE;
		if (*op == PKVM_IOMMU_OP_RECLAIM)
			*owner = m->owner[p];
		lo += rnd(st) % (hi - lo);
		n = 1 + rnd(st) % (n < hi - lo ? n : hi - lo);
		if ((r >> 44) % 16 == 0)
			n = hi - lo + 1;	/* one page too far */
		p = lo;
	}
	if (p + n > WIN_PAGES)
		n = WIN_PAGES - p;
	*addr = WIN_BASE + p * PG;
	*len = n * PG;
	switch ((r >> 48) % 256) {	/* rarely, malformed or odd owners */
	case 0: *len = 0; break;
	case 1: *addr += 512; break;
	case 2: *owner = HOST; break;
	case 3: *owner = PKVM_OWNER_MAX + 1; break;
	case 4: *owner = PKVM_OWNER_MAX; break;
	}
}

static void compare(const struct ledger *l, const struct ref *m, struct ledger_run *a,
		    struct ledger_run *b)
{
	size_t na = ref_runs(m, a), nb = ledger_runs(l, b, WIN_PAGES);
	uint64_t per_owner[NR_OWNERS + 2] = { 0 }, big = 0, shared = 0;

	fail_if_not(ledger_check(l) == 0);
	fail_if_not(na == nb);
	for (size_t i = 0; i < na; i++) {
		uint32_t o = a[i].owner;

		fail_if_not(run_eq(&a[i], &b[i]));

		if (a[i].shared)
			shared += a[i].len / PG;
		else if (o == PKVM_OWNER_MAX)
			big += a[i].len / PG;
		else
			per_owner[o] += a[i].len / PG;
	}
	for (uint32_t o = HYP; o < NR_OWNERS + 1; o++)
		fail_if_not(ledger_pages(l, o) == per_owner[o]);
	fail_if_not(ledger_pages(l, PKVM_OWNER_MAX) == big);
	fail_if_not(ledger_shared_pages(l) == shared);
}

/* Expected diff from two page arrays and their run lists. */
static void ref_diff(const struct ref *o, const struct ref *n, const struct ledger_run *ra,
		     size_t na, const struct ledger_run *rb, size_t nb, struct ledger_diff *d)
{
	memset(d, 0, sizeof(*d));
	for (size_t p = 0; p < WIN_PAGES; p++) {
		bool oo = o->owner[p] != HOST, no = n->owner[p] != HOST;

		if (oo && no && o->owner[p] != n->owner[p])
			d->owner_changed++;
		d->donated_added += !oo && no;
		d->donated_removed += oo && !no;
		d->shared_added += !o->shared[p] && n->shared[p];
		d->shared_removed += o->shared[p] && !n->shared[p];
	}
	/* Runs in one list without an identical twin in the other. */
	for (int side = 0; side < 2; side++) {
		const struct ledger_run *x = side ? rb : ra, *y = side ? ra : rb;
		size_t nx = side ? nb : na, ny = side ? na : nb, j = 0;

		for (size_t i = 0; i < nx; i++) {
			while (j < ny && y[j].addr < x[i].addr)
				j++;
			if (j == ny || !run_eq(&x[i], &y[j]))
				*(side ? &d->runs_added : &d->runs_removed) += 1;
		}
	}
}

static long nr_ops(void)
{
	const char *s = getenv("PKVM_LEDGER_OPS");

	return s ? strtol(s, NULL, 0) : 1000000;
}

static double now_s(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

TEST("property", property_million_events)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	struct ref *m = calloc(1, sizeof(*m)), *old = calloc(1, sizeof(*old));
	struct ledger_run *a = calloc(WIN_PAGES, sizeof(*a)), *b = calloc(WIN_PAGES, sizeof(*b));
	long ops = nr_ops(), ok = 0, resyncs = 0, lost = 0;
	uint64_t st = seed, kgen = 0;
	double t0 = now_s();

	fail_if_not(l && m && old && a && b);
	for (op_index = 0; op_index < ops; op_index++) {
		enum pkvm_iommu_op_code op;
		uint64_t addr, len, r = rnd(&st);
		uint32_t owner;
		int want, got;

		gen_event(m, &st, &op, &addr, &len, &owner);
		want = ref_check(m, op, addr, len, owner);

		if (r % 4096 == 0 && kgen == ledger_generation(l)) {
			/* Events lost: the kernel moves on, the ledger learns late. */
			memcpy(old, m, sizeof(*m));
			for (uint64_t k = 1 + (r >> 12) % 64; k; k--) {
				gen_event(m, &st, &op, &addr, &len, &owner);
				if (!ref_check(m, op, addr, len, owner)) {
					ref_apply(m, op, addr, len, owner);
					kgen++;
					lost++;
				}
			}
			continue;
		}
		if (r % 1024 == 1) {
			/* A replayed old event or a far future one: refused, no change. */
			uint64_t g = ledger_generation(l), nr = ledger_runs(l, NULL, 0);
			uint64_t bad = (r >> 10) % 2 ? g - (r >> 11) % (g + 1) : g + 2 + (r >> 11) % 9;

			got = ledger_apply(l, op, addr, len, owner, bad);
			fail_if_not(got == (bad <= g ? -EALREADY : -ESTALE));
			fail_if_not(ledger_generation(l) == g && ledger_runs(l, NULL, 0) == nr);
			continue;
		}

		got = ledger_apply(l, op, addr, len, owner, kgen + 1);
		if (got == -ESTALE) {
			/* Resync: the dump is the reference, shuffled. */
			struct ledger_diff d, want_d;
			size_t na, nb;

			fail_if_not(ledger_generation(l) < kgen);
			compare(l, old, a, b);	/* the ledger knew what it had seen */
			na = ref_runs(old, a);
			nb = ref_runs(m, b);
			ref_diff(old, m, a, na, b, nb, &want_d);
			for (size_t i = nb; i > 1; i--) {
				size_t j = rnd(&st) % i;
				struct ledger_run t = b[i - 1];

				b[i - 1] = b[j];
				b[j] = t;
			}
			want_d.old_generation = ledger_generation(l);
			fail_if_not(ledger_reconcile(l, b, nb, kgen, &d) == 0);
			want_d.new_generation = kgen;
			fail_if_not(!memcmp(&d, &want_d, sizeof(d)));
			compare(l, m, a, b);
			resyncs++;
			got = ledger_apply(l, op, addr, len, owner, kgen + 1);
		}
		if (got != want)
			fprintf(stderr, "op %d addr 0x%" PRIx64 " len 0x%" PRIx64 " owner %u: "
				"got %d want %d\n", op, addr, len, owner, got, want);
		fail_if_not(got == want);
		if (!got) {
			ref_apply(m, op, addr, len, owner);
			kgen++;
			ok++;
		}
		if ((op_index + 1) % 10000 == 0)
			compare(l, m, a, b);
	}
	compare(l, m, a, b);
	printf("ledger property: %ld events, %ld applied, %ld lost, %ld resyncs, "
	       "%zu runs at the end, %.2f s with the reference\n", ops, ok, lost, resyncs,
	       ledger_runs(l, NULL, 0), now_s() - t0);
	/* A run that mostly fails, or never resyncs, proves little. */
	fail_if_not(ok > ops / 2);
	fail_if_not(resyncs > 0 || ops < 100000);
	free(m);
	free(old);
	free(a);
	free(b);
}
END_TEST

/*
 * Throughput on a big tree: half a million single-page runs (no merging
 * possible), then all reclaimed in a scrambled order. Printed, not asserted.
 */
TEST("property", throughput_big_tree)
{
	_cleanup_ledger_ struct ledger *l = ledger_new();
	const uint64_t n = 1u << 19;
	uint64_t g = 0;
	long bad = 0;
	double t0 = now_s(), t1;

	for (uint64_t i = 0; i < n; i++)
		bad += ledger_apply(l, PKVM_IOMMU_OP_DONATE, 2 * i * PG, PG, HYP + (uint32_t)(i % 5),
				    ++g) != 0;
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), n);
	ck_assert_int_eq(ledger_check(l), 0);	/* balanced at half a million runs */
	for (uint64_t k = 0; k < n; k++) {
		uint64_t i = (k * 0x9e3779b1ull) % n;	/* odd multiplier: a permutation */

		bad += ledger_apply(l, PKVM_IOMMU_OP_RECLAIM, 2 * i * PG, PG, HYP + (uint32_t)(i % 5),
				    ++g) != 0;
	}
	t1 = now_s();
	ck_assert_int_eq(bad, 0);
	ck_assert_uint_eq(ledger_runs(l, NULL, 0), 0);
	ck_assert_uint_eq(ledger_donated_pages(l), 0);
	printf("ledger throughput: %" PRIu64 " events over up to %" PRIu64
	       " runs in %.3f s, %.0f events/s\n", 2 * n, n, t1 - t0, 2.0 * (double)n / (t1 - t0));
}
END_TEST

int main(void)
{
	const char *s = getenv("PKVM_SEED");

	seed = s ? strtoull(s, NULL, 0) : 0x1ed6e2026ull;
	printf("ledger seed 0x%" PRIx64 " (replay with PKVM_SEED)\n", seed);
	return TEST_RUN("ledger",
			TCASE("events"),
			TCASE("reconcile"),
			TCASE("property", .timeout = 600));
}
