/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-iommud's statistics as OpenMetrics text (GetMetrics over D-Bus, and
 * the metrics file of metrics_export.c): the backend's and the daemon's
 * counters, the ledger by owner, faults and quarantine by stream, each
 * SMMU's health (failed closed, sync timeouts, command errors, event
 * queue overflows), the latency histogram, and what the daemon runs on. Every family name starts
 * with METRICS_PREFIX; values are in base units (bytes, seconds); the list
 * is in org.pkvm.Iommu1(5).
 *
 * Two steps, so the rendering is testable without a backend: collect a
 * snapshot of the daemon, then render the snapshot. Errors are -errno.
 */
#ifndef PKVMD_METRICS_H
#define PKVMD_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "daemon.h"

#define METRICS_PREFIX		"pkvm_iommu_"
#define METRICS_NAME_MAX	48	/* a GetCounters name and its NUL */

/* One counter of daemon_for_each_counter(), by its GetCounters name. */
struct metrics_counter {
	char name[METRICS_NAME_MAX];
	uint64_t value;
};

struct metrics_owner {
	uint32_t owner;		/* PKVM_OWNER_HYP or a guest id */
	uint64_t pages;
};

struct metrics_stream {
	uint32_t smmu, sid;
	uint32_t policy;	/* enum pkvm_stream_policy */
	uint64_t faults;
	bool quarantined;
};

/* What an SMMU reports about itself (pkvm_iommu_smmu_info). */
struct metrics_smmu {
	uint32_t index;
	bool failed;		/* failed closed: aborts all traffic */
	uint64_t events, overflows, sync_timeouts, cmd_errors;
};

/* What one exposition shows; the pointers belong to the snapshot. */
struct metrics_state {
	char *version;		/* pkvm-iommud's */
	char *backend;		/* "kernel" or "sim" */
	uint32_t abi_version, nr_smmus;
	uint32_t split;		/* enum pkvm_split_policy in force */
	uint32_t fold;		/* enum pkvm_fold_mode in force */
	uint64_t generation;
	uint64_t shared_pages;
	struct metrics_counter *counters;
	size_t nr_counters;
	struct metrics_owner *owners;	/* in owner order */
	size_t nr_owners;
	struct metrics_stream *streams;
	size_t nr_streams;
	struct metrics_smmu *smmus;	/* those whose info the backend gave */
	size_t nr_smmu_infos;
	/* bucket i: calls faster than 2^(i+10) ns; the last takes the rest */
	uint64_t latency[DAEMON_LATENCY_BUCKETS];
	uint64_t latency_sum_ns;
};

/* Fills *st (zeroed first) from the daemon and its backend. */
int metrics_collect(struct daemon *d, struct metrics_state *st);

/* Frees what *st owns and zeroes it; safe on a zeroed struct. */
void metrics_state_free(struct metrics_state *st);

/* Writes the exposition, "# EOF" last. -EIO when f failed. */
int metrics_render(const struct metrics_state *st, FILE *f);

/* collect + render into a malloc'ed NUL-terminated string. */
int metrics_text(struct daemon *d, char **ret, size_t *len);

/*
 * The sample name a GetCounters name is exported under (with its _total
 * for counters), and how its value is scaled: the sample is value * scale
 * / divisor (pages to bytes, ns to seconds, the latter as an exact
 * decimal); NULL for a name this file does not know, which is then
 * exported as a gauge METRICS_PREFIX + name.
 */
const char *metrics_counter_sample(const char *name, uint64_t *scale, uint64_t *divisor);

/*
 * Canonical text of a histogram bound (OpenMetrics "Canonical Numbers":
 * Go's shortest %g, ".0" added when there is neither a point nor an
 * exponent; +Inf for infinity). buf of at least 32 bytes.
 */
void metrics_format_le(double v, char *buf, size_t size);

#endif
