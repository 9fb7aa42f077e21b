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

/* Prints the rows (a table, or JSON objects); returns 1 if a call failed. */
int bench_hold_rows(bool quick, bool json);

#endif
