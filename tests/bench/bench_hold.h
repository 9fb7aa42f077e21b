/* SPDX-License-Identifier: GPL-2.0 */
/*
 * EL2 hold time (issue 12, item 4): the "hold time per call" rows time
 * every hypercall the workloads issue through pkvm_iommu_hvc(), which
 * holds the engine's lock for the whole call, so a call's duration
 * bounds how long it holds the lock. Per call type: count, p50, p99 and
 * max in us, CPU-only and with each flush priced at bench_sync_ns().
 */
#ifndef PKVM_BENCH_HOLD_H
#define PKVM_BENCH_HOLD_H

#include <stdbool.h>

#define BENCH_HOLD_WORKLOAD	"hold"

/*
 * Prints the rows (a table, or JSON objects); returns 1 if a call failed,
 * or with check_time if the longest hold with the default policy is over
 * 50 us. Every pass of the rows makes the same calls; a call's time is its
 * least over the passes (bench_hold.c), the raw max column the most any
 * pass took.
 */
int bench_hold_rows(bool quick, bool json, bool check_time);

#endif
