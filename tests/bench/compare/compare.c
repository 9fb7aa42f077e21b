// SPDX-License-Identifier: GPL-2.0
/*
 * --compare: each workload's trace runs through our engine and through
 * io-pgtable-arm in alternation (ours, lpae, lpae, ours, ...), each run on
 * a fresh table, so drift of the machine (frequency, the other helpers'
 * load) lands on both; the median run of each is printed with the ratio.
 *
 * The numbers are CPU-only: a sync is counted, not waited for. Pricing
 * one (the issue's --sync-ns) adds syncs/op x sync latency to each side's
 * time per operation, the same sum for both engines; the "priced" column
 * is where that goes.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "compare.h"
#include "lpae_engine.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int run_lpae(const struct trace *t, uint64_t base, uint64_t mem, struct cmp_side *s)
{
	struct lpae_engine *e;
	struct lpae_stats a, b;
	char err[512];
	double t0, t1;
	int ret;

	ret = lpae_engine_new(&e, base, mem, err, sizeof(err));
	if (ret) {
		fprintf(stderr, "pkvm-iommu-bench: --compare: %s\n", err);
		return ret;
	}
	*s = (struct cmp_side){ .ops = t->nr };
	lpae_engine_stats(e, &a);
	t0 = now();
	for (size_t i = 0; i < t->nr; i++) {
		const struct trace_op *op = &t->ops[i];

		/* A donation leaves the host's map; a reclaim comes back. */
		ret = op->kind == 'D' ? lpae_unmap(e, op->addr, op->len)
				      : lpae_map(e, op->addr, op->len);
		s->failed += ret != 0;
	}
	t1 = now();
	lpae_engine_stats(e, &b);
	s->seconds = t1 - t0;
	s->desc_per_op = (double)(b.desc_writes - a.desc_writes) / (double)t->nr;
	s->syncs_per_op = (double)(b.syncs - a.syncs) / (double)t->nr;
	s->table_pages = b.table_pages;
	lpae_engine_free(e);
	return 0;
}

/*
 * idmap-1tib: 1 TiB of 4 KiB descriptors is 2 GiB of tables, so
 * io-pgtable-arm maps a slice of the first region (16 GiB, 1 GiB quick) and
 * its time, writes and tables are scaled to 1 TiB: the per-page cost of a
 * bulk map_pages() does not depend on how many pages follow.
 */
static int run_lpae_idmap(bool quick, struct cmp_side *s)
{
	uint64_t slice = (quick ? 1ull : 16ull) << 30, scale = (1ull << 40) / slice;
	struct lpae_engine *e;
	struct lpae_stats st;
	char err[512];
	double t0, t1;
	int ret;

	t0 = now();
	ret = lpae_engine_new(&e, 0x80000000ull + 0x3000, slice, err, sizeof(err));
	t1 = now();
	if (ret) {
		fprintf(stderr, "pkvm-iommu-bench: --compare: %s\n", err);
		return ret;
	}
	lpae_engine_stats(e, &st);
	*s = (struct cmp_side){ .ops = 1, .seconds = (t1 - t0) * (double)scale,
				.desc_per_op = (double)st.desc_writes * (double)scale,
				.table_pages = st.table_pages * scale };
	lpae_engine_free(e);
	return 0;
}

static int by_seconds(const void *a, const void *b)
{
	double x = ((const struct cmp_side *)a)->seconds, y = ((const struct cmp_side *)b)->seconds;

	return (x > y) - (x < y);
}

/* NAN when io-pgtable-arm's side is 0 (no syncs in an idmap): no ratio. */
static double ratio(double ours, double lpae)
{
	return lpae > 0 ? ours / lpae : NAN;
}

/* "-" for no ratio. */
static const char *fmt_ratio(char *buf, size_t n, double r)
{
	if (isnan(r))
		return "-";
	snprintf(buf, n, "%.4gx", r);
	return buf;
}

static const char *json_num(char buf[32], double r)
{
	if (isnan(r))
		return "null";
	snprintf(buf, 32, "%.6g", r);
	return buf;
}

/* Operations per second with every sync waited for; NAN without a price. */
static double priced_ops_s(const struct cmp_side *s, uint64_t sync_ns)
{
	double syncs = s->syncs_per_op * (double)s->ops;

	if (!sync_ns || !syncs)
		return NAN;
	return (double)s->ops / (s->seconds + syncs * (double)sync_ns * 1e-9);
}

static void print_side(const char *workload, const char *engine, const struct cmp_side *s,
		       const struct cmp_opts *o)
{
	double ops_s = (double)s->ops / s->seconds, priced = priced_ops_s(s, o->sync_ns);
	char p[32] = "-";

	if (o->json) {
		printf("{\"workload\":\"%s\",\"engine\":\"%s\",\"ops\":%" PRIu64
		       ",\"seconds\":%.9f,\"ops_per_s\":%.1f,\"ops_per_s_priced\":%s,"
		       "\"sync_ns\":%" PRIu64 ",\"desc_writes_per_op\":%.3f,"
		       "\"table_fills_per_op\":%.3f,"
		       "\"syncs_per_op\":%.4f,\"table_pages\":%" PRIu64 ",\"failed\":%" PRIu64 "}\n",
		       workload, engine, s->ops, s->seconds, ops_s, json_num(p, priced),
		       o->sync_ns, s->desc_per_op, s->fills_per_op, s->syncs_per_op,
		       s->table_pages, s->failed);
		return;
	}
	if (!isnan(priced))
		snprintf(p, sizeof(p), "%.0f", priced);
	/* An idmap is one init a run: its ops/s is inits per second. */
	printf("%-10s %-15s %9" PRIu64 " %12.*f %9s %9.5g %9.5g %8.3f %8" PRIu64 " %7" PRIu64 "\n",
	       workload, engine, s->ops, ops_s < 100 ? 3 : 0, ops_s, p, s->desc_per_op,
	       s->fills_per_op, s->syncs_per_op, s->table_pages, s->failed);
}

static void print_ratio(const char *workload, const struct cmp_side *o, const struct cmp_side *l,
			const struct cmp_opts *opt)
{
	bool json = opt->json;
	double ops = ratio((double)o->ops / o->seconds, (double)l->ops / l->seconds);
	double priced = ratio(priced_ops_s(o, opt->sync_ns), priced_ops_s(l, opt->sync_ns));
	double desc = ratio(o->desc_per_op, l->desc_per_op);
	double sync = ratio(o->syncs_per_op, l->syncs_per_op);
	double tab = ratio((double)o->table_pages, (double)l->table_pages);
	char b[5][32];

	/* JSON has no NAN: a missing ratio is null. */
	if (json)
		printf("{\"workload\":\"%s\",\"engine\":\"ratio\",\"ops_per_s\":%s,"
		       "\"ops_per_s_priced\":%s,"
		       "\"desc_writes_per_op\":%s,\"syncs_per_op\":%s,\"table_pages\":%s}\n",
		       workload, json_num(b[0], ops), json_num(b[4], priced), json_num(b[1], desc),
		       json_num(b[2], sync), json_num(b[3], tab));
	else
		printf("%-10s %-15s %9s %12s %9s %9s %9s %8s %8s\n", workload, "ours/lpae", "",
		       fmt_ratio(b[0], sizeof(b[0]), ops), fmt_ratio(b[4], sizeof(b[4]), priced),
		       fmt_ratio(b[1], sizeof(b[1]), desc), "",
		       fmt_ratio(b[2], sizeof(b[2]), sync), fmt_ratio(b[3], sizeof(b[3]), tab));
}

static int compare_one(const char *workload, const struct cmp_opts *o, const struct cmp_hooks *h)
{
	struct cmp_side *ours = calloc(o->rounds, sizeof(*ours));
	struct cmp_side *lpae = calloc(o->rounds, sizeof(*lpae));
	uint64_t base, mem;
	struct trace t = { 0 };
	bool is_idmap = !strcmp(workload, "idmap-1tib");
	int ret;

	ret = is_idmap ? 0 : h->trace(workload, &t, &base, &mem);
	if (ret) {
		fprintf(stderr, "pkvm-iommu-bench: --compare: no trace for %s\n", workload);
		goto out;
	}
	for (unsigned int r = 0; r < o->rounds && !ret; r++) {
		/* Alternate who goes first too: neither engine always runs on a warm cache. */
		if (r & 1)
			ret = is_idmap ? run_lpae_idmap(o->quick, &lpae[r])
				       : run_lpae(&t, base, mem, &lpae[r]);
		if (is_idmap)
			h->ours_idmap(&ours[r]);
		else
			h->ours(workload, &t, &ours[r]);
		if (!(r & 1))
			ret = is_idmap ? run_lpae_idmap(o->quick, &lpae[r])
				       : run_lpae(&t, base, mem, &lpae[r]);
	}
	if (ret)
		goto out;
	qsort(ours, o->rounds, sizeof(*ours), by_seconds);
	qsort(lpae, o->rounds, sizeof(*lpae), by_seconds);
	print_side(workload, "pkvm-iommu", &ours[o->rounds / 2], o);
	print_side(workload, "io-pgtable-arm", &lpae[o->rounds / 2], o);
	print_ratio(workload, &ours[o->rounds / 2], &lpae[o->rounds / 2], o);
	if (ours[o->rounds / 2].failed || lpae[o->rounds / 2].failed)
		ret = -EIO;
out:
	trace_free(&t);
	free(ours);
	free(lpae);
	return ret;
}

int compare_run(const struct cmp_opts *o, const struct cmp_hooks *h)
{
	static const char *const workloads[] = { "idmap-1tib", "churn-4k", "churn-2m" };
	bool any = false;
	int bad = 0;

	if (!lpae_source) {
		char err[512];

		lpae_engine_new(NULL, 0, 0, err, sizeof(err));
		fprintf(stderr, "pkvm-iommu-bench: --compare: %s\n", err);
		return 77;
	}
	if (!o->json) {
		printf("io-pgtable-arm: %s/drivers/iommu/io-pgtable-arm.c, ARM_64_LPAE_S2, "
		       "4 KiB pages; median of %u alternating runs; ops/s CPU-only, priced: each\n"
		       "CMD_SYNC at %" PRIu64 " ns; tables of both in huge-page-backed memory;\n"
		       "idmap-1tib: one init, io-pgtable-arm's scaled from %s\n",
		       lpae_source, o->rounds, o->sync_ns, o->quick ? "1 GiB" : "16 GiB");
		printf("%-10s %-15s %9s %12s %9s %9s %9s %8s %8s %7s\n", "workload", "engine", "ops",
		       "ops/s", "priced", "desc/op", "fill/op", "sync/op", "tables", "failed");
	}
	for (size_t i = 0; i < sizeof(workloads) / sizeof(*workloads); i++) {
		if (o->only && strcmp(o->only, workloads[i]))
			continue;
		any = true;
		if (compare_one(workloads[i], o, h))
			bad = 1;
	}
	if (!any) {
		fprintf(stderr, "pkvm-iommu-bench: --compare: %s has no io-pgtable-arm run "
			"(idmap-1tib, churn-4k, churn-2m)\n", o->only);
		return 2;
	}
	return bad;
}
