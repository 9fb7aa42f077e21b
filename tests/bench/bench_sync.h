/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The price of CMD_SYNC in pkvm-iommu-bench: the churn rows busy-wait
 * sync_ns per flush (one SMMU) and report ops/s without and with that
 * wait; the smmu-flush rows time smmu_tlb_flush over 1, 2, 4 and 8
 * software SMMUs whose CMD_SYNC takes sync_ns to complete.
 */
#ifndef PKVM_BENCH_SYNC_H
#define PKVM_BENCH_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#define BENCH_SYNC_NS_DEFAULT	1000u
#define BENCH_SYNC_WORKLOAD	"smmu-flush"

/* Price of one sync from now on (0: none). */
void bench_sync_set_ns(uint64_t ns);
uint64_t bench_sync_ns(void);
/* Busy-wait one sync while armed (by bench_sync_arm); a flush callback calls it. */
void bench_sync_price(void);
void bench_sync_arm(bool on);

/*
 * The smmu-flush rows: a table, or JSON objects. Returns 1 when check_time
 * and the 4-SMMU flush at 1 us a sync takes over 1.3 us, else 0.
 */
int bench_sync_flush_rows(bool quick, bool json, bool check_time);

#endif
