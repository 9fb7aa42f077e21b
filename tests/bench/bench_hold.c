// SPDX-License-Identifier: GPL-2.0
/* See bench_hold.h. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "bench_hold.h"
#include "bench_sync.h"
#include "hostbuf.h"
#include "hvc.h"
#include "s2_fixture.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define OWNER 2

/*
 * One region of 8 GiB at 1 GiB. The first 16 MiB are host memory the hyp
 * really reads: INIT's region array, BATCH's records, and the pool (which
 * the lazy tables of 2 GiB of 4 KiB churn and the low watermark fit in).
 */
#define MEM_PA		(1 * GiB)
#define MEM_SIZE	(8 * GiB)
#define BUF_SIZE	(16 * MiB)
#define RECS_PA		(MEM_PA + 64 * 1024)
#define HOLD_POOL_PA	(MEM_PA + 4 * MiB)
#define HOLD_POOL_PAGES	3072u
#define CHURN_PA	(2 * GiB)	/* churn and batches: 2 GiB of 4 KiB pages */
#define CHURN_PAGES	(2 * GiB >> 12)
#define SHARE_PA	(4 * GiB)
#define SPLIT_PA	(5 * GiB)	/* four 1 GiB blocks nothing else touches */
/*
 * The module's compaction budget (the default policy's), and a larger one.
 * A small pool for the rows under pool pressure: 2 GiB of churn wants
 * about 1026 tables, this holds half and its low watermark is 32 pages.
 */
#define DEFAULT_BUDGET	PKVM_IOMMU_FOLD_DEFAULT_BUDGET
#define LARGE_BUDGET	64u
#define LOW_POOL_PAGES	512u
/* Passes of the same calls; a call's hold is its least over them (least_of()). */
#define HOLD_PASSES	5
/* Issue 12: the longest hold with the default policy. */
#define HOLD_TARGET_NS	50000u

enum kind { K_DONATE, K_RECLAIM, K_SHARE, K_UNSHARE, K_SPLIT, K_DONATE_LOW, K_RECLAIM_LOW,
	    K_BATCH1, K_BATCH64, K_BATCHMAX, K_COMPACT, K_COMPACT64, K_COMPACTMAX, K_NR };

static const char *const kind_name[K_NR] = {
	"DONATE 4K", "RECLAIM 4K", "SHARE 4K", "UNSHARE 4K", "DONATE split 1G",
	"DONATE 4K pool low", "RECLAIM 4K pool low",
	"BATCH 1", "BATCH 64", "BATCH 4096 (max)", "COMPACT 8 (default)", "COMPACT 64",
	"COMPACT 4096 (max)",
};

/* Calls a default policy makes: one change at a time, the module's budget. */
static bool default_policy(enum kind k)
{
	return k != K_BATCH64 && k != K_BATCHMAX && k != K_COMPACT64 && k != K_COMPACTMAX;
}

struct samples {
	uint64_t *ns;
	size_t nr, cap;
	size_t descheduled;	/* samples whose thread was switched out */
};

struct hold {
	struct pkvm_iommu_hyp hyp;
	void *buf;
	struct samples s[K_NR];
	const struct s2_tlb_ops *tlb;	/* the hyp's own flush, priced around */
	void *tlb_cookie;
	uint64_t rng;
	int err;
};

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The thread's CPU time: what a call cost, without time it was switched out. */
static uint64_t cpu_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static long switches(void)
{
	struct rusage ru;

	getrusage(RUSAGE_THREAD, &ru);
	return ru.ru_nvcsw + ru.ru_nivcsw;
}

static void push(struct samples *s, uint64_t ns)
{
	if (s->nr == s->cap) {
		s->cap = s->cap ? 2 * s->cap : 1024;
		s->ns = realloc(s->ns, s->cap * sizeof(*s->ns));
		if (!s->ns)
			abort();
	}
	s->ns[s->nr++] = ns;
}

/*
 * One hypercall; timed into kind k unless k is K_NR. At EL2 a call runs
 * with interrupts masked and is never switched out; here the scheduler
 * may, so a call during which the thread was switched out counts its
 * CPU time (read around the wall-clock reads, so it is never less than a
 * call's real work) rather than the wall time.
 */
static s64 hvc(struct hold *h, enum kind k, u64 fn, u64 a0, u64 a1, u64 a2)
{
	const u64 a[6] = { a0, a1, a2 };
	long sw0 = k != K_NR ? switches() : 0;
	uint64_t c0 = k != K_NR ? cpu_ns() : 0;
	uint64_t t0 = mono_ns();
	s64 ret = pkvm_iommu_hvc(&h->hyp, fn, a);
	uint64_t t1 = mono_ns();

	if (k != K_NR) {
		uint64_t c1 = cpu_ns();

		if (switches() != sw0) {
			h->s[k].descheduled++;
			push(&h->s[k], HYP_MIN(t1 - t0, c1 - c0));
		} else {
			push(&h->s[k], t1 - t0);
		}
	}
	if (ret < 0 && !h->err) {
		fprintf(stderr, "pkvm-iommu-bench: hold: %s at %#" PRIx64 ": %s\n",
			k == K_NR ? "untimed call" : kind_name[k], a0, strerror((int)-ret));
		h->err = (int)ret;
	}
	return ret;
}

/* The hyp's flush, then one priced CMD_SYNC, as the churn rows price theirs. */
static int priced_flush(void *cookie, const struct s2_gather *g)
{
	struct hold *h = cookie;
	int ret = h->tlb && h->tlb->flush ? h->tlb->flush(h->tlb_cookie, g) : 0;

	bench_sync_price();
	return ret;
}

static const struct s2_tlb_ops priced_ops = { .flush = priced_flush };

/* INIT as the module does (lazy folding, issue 12's default), flush priced. */
static int hold_init(struct hold *h, u64 pool_pages)
{
	const struct s2_region r = { MEM_PA, MEM_SIZE };
	const u64 a[6] = { MEM_PA, 1, HOLD_POOL_PA, pool_pages, PKVM_SPLIT_AUTO, 0 };
	s64 ret;

	memset(h, 0, sizeof(*h));
	h->rng = 0x401d;
	h->buf = hostbuf_map(MEM_PA, BUF_SIZE);
	if (!h->buf)
		return -ENOMEM;
	memcpy(h->buf, &r, sizeof(r));
	pkvm_iommu_hyp_setup(&h->hyp);
	ret = pkvm_iommu_hvc(&h->hyp, PKVM_IOMMU_HVC_INIT, a);
	if (ret)
		return (int)ret;
	hvc(h, K_NR, PKVM_IOMMU_HVC_FOLD_MODE, PKVM_FOLD_LAZY, 0, 0);
	/* No SMMU is attached: the hyp's flush is free, the price is the sync. */
	h->tlb = h->hyp.pgt.tlb;
	h->tlb_cookie = h->hyp.pgt.tlb_cookie;
	h->hyp.pgt.tlb = &priced_ops;
	h->hyp.pgt.tlb_cookie = h;
	return h->err;
}

/* The host memory window is one at a time: unmapped before the next INIT. */
static void hold_unmap(struct hold *h)
{
	if (h->buf)
		hostbuf_unmap(MEM_PA, h->buf);
	h->buf = NULL;
}

static void hold_fini(struct hold *h)
{
	for (int k = 0; k < K_NR; k++)
		free(h->s[k].ns);
	hold_unmap(h);
}

/* Compaction to the end with the budget of kind k (K_NR: untimed, max budget). */
static void compact_all(struct hold *h, enum kind k)
{
	u64 budget = k == K_COMPACT ? DEFAULT_BUDGET : k == K_COMPACT64 ? LARGE_BUDGET :
		     PKVM_IOMMU_COMPACT_MAX;

	while (!h->err &&
	       hvc(h, k, PKVM_IOMMU_HVC_COMPACT, budget, 0, 0) & (s64)PKVM_IOMMU_COMPACT_MORE)
		;
}

/*
 * Random 4 KiB donations and reclaims over CHURN_PA, at most cap
 * outstanding, all reclaimed at the end: every 2 MiB block it touched
 * keeps its table (lazy) for the compaction after it.
 */
static void churn(struct hold *h, u64 ops, u64 cap, enum kind donate, enum kind reclaim)
{
	u64 *out = malloc(cap * sizeof(*out)), nout = 0;
	uint8_t *used = calloc(CHURN_PAGES, 1);

	for (u64 i = 0; i < ops && !h->err; i++) {
		if (nout < cap && (!nout || s2_rand(&h->rng) & 1)) {
			u64 p;

			do
				p = s2_rand(&h->rng) % CHURN_PAGES;
			while (used[p]);
			used[p] = 1;
			out[nout++] = p;
			hvc(h, donate, PKVM_IOMMU_HVC_DONATE, CHURN_PA + (p << 12), 4096, OWNER);
		} else {
			u64 k = s2_rand(&h->rng) % nout, p = out[k];

			out[k] = out[--nout];
			used[p] = 0;
			hvc(h, reclaim, PKVM_IOMMU_HVC_RECLAIM, CHURN_PA + (p << 12), 4096, OWNER);
		}
	}
	while (nout && !h->err)
		hvc(h, reclaim, PKVM_IOMMU_HVC_RECLAIM, CHURN_PA + (out[--nout] << 12), 4096,
		    OWNER);
	free(out);
	free(used);
}

/* A host page shared and unshared, one at a time. */
static void share(struct hold *h, u64 ops)
{
	for (u64 i = 0; i < ops && !h->err; i++) {
		u64 pa = SHARE_PA + ((s2_rand(&h->rng) % (GiB >> 12)) << 12);

		hvc(h, K_SHARE, PKVM_IOMMU_HVC_SHARE, pa, 4096, OWNER);
		hvc(h, K_UNSHARE, PKVM_IOMMU_HVC_UNSHARE, pa, 4096, OWNER);
	}
	compact_all(h, K_NR);
}

/* The most a 4 KiB donation writes: a 1 GiB block split down to pages. */
static void split(struct hold *h, u64 reps)
{
	for (u64 i = 0; i < reps && !h->err; i++) {
		u64 pa = SPLIT_PA + (i % 4) * GiB + ((s2_rand(&h->rng) % (GiB >> 12)) << 12);

		hvc(h, K_SPLIT, PKVM_IOMMU_HVC_DONATE, pa, 4096, OWNER);
		hvc(h, K_NR, PKVM_IOMMU_HVC_RECLAIM, pa, 4096, OWNER);
		compact_all(h, K_NR);
	}
}

/* BATCH calls of n donations, then of the same n reclaims, from host memory. */
static void batch(struct hold *h, enum kind k, u32 n, u64 reps)
{
	struct pkvm_iommu_op *rec = (struct pkvm_iommu_op *)((uint8_t *)h->buf +
							     (RECS_PA - MEM_PA));
	u64 stride = CHURN_PAGES / n;	/* n distinct pages spread over all blocks */

	for (u64 i = 0; i < reps && !h->err; i++) {
		u64 off = s2_rand(&h->rng) % stride;

		for (u32 op = PKVM_IOMMU_OP_DONATE; op <= PKVM_IOMMU_OP_RECLAIM; op++) {
			for (u32 j = 0; j < n; j++)
				rec[j] = (struct pkvm_iommu_op){ .op = op, .owner = OWNER,
					.addr = CHURN_PA + ((off + j * stride) << 12), .len = 4096 };
			if (hvc(h, k, PKVM_IOMMU_HVC_BATCH, RECS_PA, n, 0) != (s64)n && !h->err)
				h->err = -EIO;
		}
	}
	compact_all(h, K_NR);
}

/* Every call type, in lazy mode, with flushes priced or not. */
static int run(struct hold *h, bool quick)
{
	u64 scale = quick ? 1 : 4;

	churn(h, 5000 * scale, 4096, K_DONATE, K_RECLAIM);
	compact_all(h, K_COMPACT64);
	churn(h, 5000 * scale, 4096, K_DONATE, K_RECLAIM);
	compact_all(h, K_COMPACT);
	churn(h, 5000 * scale, 4096, K_DONATE, K_RECLAIM);
	compact_all(h, K_COMPACTMAX);
	share(h, 1000 * scale);
	split(h, 16 * scale);
	batch(h, K_BATCH1, 1, 1000 * scale);
	batch(h, K_BATCH64, 64, 20 * scale);
	batch(h, K_BATCHMAX, PKVM_IOMMU_BATCH_MAX, 2);
	return h->err;
}

/*
 * A pool that cannot hold the churn's tables: changes below the low
 * watermark fold first (S2_PRESSURE_FOLDS at most), with few pages
 * outstanding so that most tables have something to fold.
 */
static int run_low(struct hold *h, bool quick)
{
	churn(h, (quick ? 5000 : 20000), 128, K_DONATE_LOW, K_RECLAIM_LOW);
	return h->err;
}

/*
 * The calls of every pass are the same calls (same seed, same start), so
 * sample i of a kind is the same call in each pass: its least time over
 * the passes is its work, and what the machine did to one pass (an
 * interrupt, the hypervisor under this virtual machine taking the CPU,
 * which neither the switch count nor the thread's CPU time sees) falls
 * out unless it hit that one call in every pass. NULL when the passes
 * disagree on the calls (then nothing is claimed).
 */
static uint64_t *least_of(const struct samples pass[HOLD_PASSES], size_t *nr)
{
	uint64_t *least;

	for (int r = 1; r < HOLD_PASSES; r++)
		if (pass[r].nr != pass[0].nr)
			return NULL;
	least = malloc((pass[0].nr ? pass[0].nr : 1) * sizeof(*least));
	if (!least)
		return NULL;
	for (size_t i = 0; i < pass[0].nr; i++) {
		least[i] = pass[0].ns[i];
		for (int r = 1; r < HOLD_PASSES; r++)
			least[i] = HYP_MIN(least[i], pass[r].ns[i]);
	}
	*nr = pass[0].nr;
	return least;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* One kind's row from its passes; false if the passes disagree. */
static bool print_kind(int k, const struct samples pass[HOLD_PASSES], bool json,
		       uint64_t sync_ns, uint64_t *worst)
{
	uint64_t *ns, raw = 0;
	size_t nr = 0, desch = 0;
	double p50, p99, max;

	if (!pass[0].nr)
		return true;
	ns = least_of(pass, &nr);
	if (!ns) {
		fprintf(stderr, "pkvm-iommu-bench: hold: %s: the passes made different calls\n",
			kind_name[k]);
		return false;
	}
	for (int r = 0; r < HOLD_PASSES; r++) {
		desch += pass[r].descheduled;
		for (size_t i = 0; i < pass[r].nr; i++)
			raw = HYP_MAX(raw, pass[r].ns[i]);
	}
	qsort(ns, nr, sizeof(*ns), cmp_u64);
	p50 = (double)ns[nr / 2] / 1e3;
	p99 = (double)ns[(nr * 99) / 100] / 1e3;
	max = (double)ns[nr - 1] / 1e3;
	if (default_policy(k) && ns[nr - 1] > *worst)
		*worst = ns[nr - 1];
	if (json)
		printf("{\"workload\":\"" BENCH_HOLD_WORKLOAD "\",\"call\":\"%s\","
		       "\"sync_ns\":%" PRIu64 ",\"count\":%zu,\"passes\":%d,\"p50_us\":%.2f,"
		       "\"p99_us\":%.2f,\"max_us\":%.2f,\"raw_max_us\":%.2f,"
		       "\"descheduled\":%zu}\n",
		       kind_name[k], sync_ns, nr, HOLD_PASSES, p50, p99, max, (double)raw / 1e3,
		       desch);
	else
		printf("%-22s %8" PRIu64 " %9zu %9.2f %9.2f %9.2f %9.2f %6zu\n", kind_name[k],
		       sync_ns, nr, p50, p99, max, (double)raw / 1e3, desch);
	free(ns);
	return true;
}

/* One pass of every row, CPU-only or priced; its samples move to out. */
static int one_pass(bool priced, bool quick, struct samples out[K_NR])
{
	struct hold *h = malloc(sizeof(*h)), *low = malloc(sizeof(*low));
	int ret;

	ret = h && low ? hold_init(h, HOLD_POOL_PAGES) : -ENOMEM;
	bench_sync_arm(priced);
	if (!ret)
		ret = run(h, quick);
	if (!ret) {
		hold_unmap(h);
		ret = hold_init(low, LOW_POOL_PAGES);
	}
	if (!ret)
		ret = run_low(low, quick);
	bench_sync_arm(false);
	/* One table: the pool-pressure rows beside the others. */
	for (int k = 0; !ret && k < K_NR; k++) {
		struct hold *from = k == K_DONATE_LOW || k == K_RECLAIM_LOW ? low : h;

		out[k] = from->s[k];
		from->s[k] = (struct samples){ 0 };
	}
	if (low) {
		hold_fini(low);
		free(low);
	}
	if (h) {
		hold_fini(h);
		free(h);
	}
	return ret;
}

int bench_hold_rows(bool quick, bool json, bool check_time)
{
	uint64_t price = bench_sync_ns(), worst = 0;
	int bad = 0;

	if (!json)
		printf("\n%-22s %8s %9s %9s %9s %9s %9s %6s\n", "hold time per call", "sync ns",
		       "calls", "p50 us", "p99 us", "max us", "raw max", "desch");
	/* CPU-only first, then each flush priced at --sync-ns. */
	for (int priced = 0; priced < 2 && !bad; priced++) {
		struct samples pass[K_NR][HOLD_PASSES] = { 0 }, one[K_NR];
		int ret = 0;

		if (priced && !price)
			break;
		for (int r = 0; r < HOLD_PASSES && !ret; r++) {
			ret = one_pass(priced, quick, one);
			for (int k = 0; !ret && k < K_NR; k++)
				pass[k][r] = one[k];
		}
		if (ret) {
			fprintf(stderr, "pkvm-iommu-bench: hold: %s\n", strerror(-ret));
			bad = 1;
		}
		for (int k = 0; !bad && k < K_NR; k++)
			if (!print_kind(k, pass[k], json, priced ? price : 0, &worst))
				bad = 1;
		for (int k = 0; k < K_NR; k++)
			for (int r = 0; r < HOLD_PASSES; r++)
				free(pass[k][r].ns);
	}
	if (!json && !bad)
		printf("longest hold with the default policy (batch_max_ops 1, compaction budget %u, "
		       "pool pressure included; each call its least of %d passes): %.1f us\n",
		       DEFAULT_BUDGET, HOLD_PASSES, (double)worst / 1e3);
	/* Issue 12's target; timing, so only under --check-time. */
	if (check_time && !bad && worst > HOLD_TARGET_NS) {
		fprintf(stderr, "pkvm-iommu-bench: hold: target missed: longest hold %.1f us with "
			"the default policy, target %.0f us\n", (double)worst / 1e3,
			HOLD_TARGET_NS / 1e3);
		bad = 1;
	}
	return bad;
}
