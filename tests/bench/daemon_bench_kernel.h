/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-iommud-bench --backend kernel: the daemon's core (daemon.c) on the
 * kernel backend ingesting the events of test-mode ownership changes it
 * makes itself through /dev/pkvm-iommu. Needs pkvm_iommu.ko and root (the
 * ioctls, the "events" group and the physical addresses of /proc/self/pagemap).
 */
#ifndef PKVM_DAEMON_BENCH_KERNEL_H
#define PKVM_DAEMON_BENCH_KERNEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Pages cycled through: donate one, reclaim it, then the next. */
#define KERNEL_BENCH_PAGES	16u
/* --events without a value: a few seconds in a TCG guest. */
#define KERNEL_BENCH_EVENTS	20000u

struct kernel_ingest {
	uint64_t events;	/* ownership changes made: one event each */
	uint64_t ingested;	/* the daemon's events_ingested over the run */
	uint64_t resyncs;	/* the daemon's resyncs over the run */
	uint64_t runs;		/* ledger runs at the end */
	uint64_t generation;	/* the kernel's ownership generation at the end */
	bool in_sync;		/* ledger equal to the kernel's LEDGER_GET dump at the end */
	double seconds;		/* first ioctl .. the ledger at the last ioctl's generation */
	double ingest_seconds;	/* of which inside daemon_ingest() */
};

/*
 * Makes `events` (even: every donation is reclaimed) DONATE/RECLAIM ioctls
 * through daemon_range() and ingests their events with daemon_ingest(), as
 * the daemon's event loop would, into *out. 0, or a negative errno with a
 * one-line reason in err (naming the device, page or ioctl that failed).
 */
int bench_ingest_kernel(uint64_t events, struct kernel_ingest *out, char *err, size_t errlen);

/*
 * The whole --backend kernel mode: runs bench_ingest_kernel() and prints its
 * rows (the bench's table, or JSON lines). Exit status: 0; 1 when the run
 * failed or the ledger differs from the kernel's dump; 2 for bad --events.
 */
int bench_kernel_main(uint64_t events, bool json);

#endif
