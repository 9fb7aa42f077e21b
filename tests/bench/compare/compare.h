/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-iommu-bench --compare: the same traces through our engine and
 * through Linux's io-pgtable-arm, alternating in one run.
 */
#ifndef PKVM_BENCH_COMPARE_H
#define PKVM_BENCH_COMPARE_H

#include <stdbool.h>
#include <stdint.h>

#include "trace.h"

/* One engine's run of one trace. */
struct cmp_side {
	uint64_t ops, failed;
	double seconds;		/* CPU-only: syncs are counted, not priced */
	double desc_per_op, syncs_per_op;
	double fills_per_op;	/* entries written into tables before linking */
	uint64_t table_pages;	/* at the end of the trace */
};

/* The benchmark's own workloads (bench.c), so both engines see what it times. */
struct cmp_hooks {
	/* Fills t with the named churn workload; *mem: bytes of memory at *base. */
	int (*trace)(const char *workload, struct trace *t, uint64_t *base, uint64_t *mem);
	/* Runs t through our engine on a fresh table. */
	void (*ours)(const char *workload, const struct trace *t, struct cmp_side *s);
	/* idmap-1tib through our engine: one init, the median of its repetitions. */
	void (*ours_idmap)(struct cmp_side *s);
};

struct cmp_opts {
	const char *only;	/* one workload, or NULL: idmap-1tib, churn-4k, churn-2m */
	unsigned int rounds;	/* runs of each engine, alternating */
	bool json;
	bool quick;		/* io-pgtable-arm's idmap from 1 GiB, not 16 */
	uint64_t sync_ns;	/* price of one CMD_SYNC in the priced column; 0: none */
};

/* Returns the process exit status: 0, 1 (a run failed) or 2 (no io-pgtable-arm). */
int compare_run(const struct cmp_opts *o, const struct cmp_hooks *h);

#endif
