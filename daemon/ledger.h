/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The donation ledger of pkvm-iommud: which physical ranges the host has
 * given away (or shares), as learnt from the module's netlink events and
 * repaired from a PKVM_IOMMU_CMD_LEDGER_GET dump when events were lost.
 *
 * The ledger holds only what is not plain host memory, in the kernel's dump
 * form: sorted runs, adjacent runs of equal (owner, shared) merged. So the
 * ledger equals the dump exactly, and a range the kernel accepted in one
 * reclaim or unshare always lies inside one run.
 *
 * No clock and no I/O inside: the caller passes time in (ledger_set_time)
 * so the history is testable and costs no syscall per event.
 * Errors are negative errno values. Not thread-safe (one event loop).
 */
#ifndef PKVMD_LEDGER_H
#define PKVMD_LEDGER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/pkvm_iommu.h>

#define LEDGER_PAGE_SIZE	4096ull
#define LEDGER_HISTORY_DEFAULT	1024u

/*
 * The ledger takes the four ownership changes by their enum
 * pkvm_iommu_op_code; its history also records this one past them.
 */
#define LEDGER_RESYNC	PKVM_IOMMU_OP_NR	/* a reconcile replaced the content */

/* "donate", "reclaim", "share", "unshare", "resync"; "unknown" past them. */
const char *ledger_op_name(uint32_t op);

/* One run of the dump: owner != host, or host-owned and shared. */
struct ledger_run {
	uint64_t addr, len;	/* bytes, page aligned */
	uint32_t owner;		/* PKVM_OWNER_* or a guest id */
	bool shared;		/* only with owner PKVM_OWNER_HOST */
};

/*
 * What a reconcile changed, page by page. A page is in one of three states:
 * plain host, host shared, or owned by someone else. "donated" counts pages
 * entering/leaving the owned state, "shared" the shared state; pages owned
 * before and after but by another owner count in owner_changed only.
 */
struct ledger_diff {
	uint64_t donated_added, donated_removed;	/* lost donates / reclaims */
	uint64_t shared_added, shared_removed;		/* lost shares / unshares */
	uint64_t owner_changed;
	uint64_t runs_added;	/* runs of the dump not in the old ledger */
	uint64_t runs_removed;	/* runs of the old ledger not in the dump */
	uint64_t old_generation, new_generation;
};

/* One entry of the history ring. */
struct ledger_record {
	uint64_t usec;		/* as last given to ledger_set_time() */
	uint64_t generation;
	uint64_t addr, len;	/* 0 for LEDGER_RESYNC */
	uint32_t owner;
	uint32_t op;		/* enum pkvm_iommu_op_code, or LEDGER_RESYNC */
};

struct ledger;

struct ledger *ledger_new(void);	/* history of LEDGER_HISTORY_DEFAULT */
struct ledger *ledger_new_with_history(size_t nr);	/* nr 0: no history */
void ledger_free(struct ledger *l);

static inline void ledger_freep(struct ledger **l)
{
	ledger_free(*l);
}
#define _cleanup_ledger_ __attribute__((cleanup(ledger_freep)))

/* Timestamp given to the history records that follow (any unit; usec). */
void ledger_set_time(struct ledger *l, uint64_t usec);

/*
 * Apply one event. 0; -EALREADY if generation <= the ledger's (already in
 * a dump: ignored); -ESTALE if generation > last + 1 (events lost: resync);
 * -EINVAL if the event contradicts the ledger or is malformed (resync);
 * -ENOMEM. Anything but 0 leaves the ledger unchanged. The owner of share
 * and unshare is ignored, as the kernel ignores it. O(log runs).
 */
int ledger_apply(struct ledger *l, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		 uint32_t owner, uint64_t generation);
uint64_t ledger_generation(const struct ledger *l);

/*
 * Replace the content by a dump of n runs (any order; adjacent equal runs
 * are merged) taken at generation, which becomes the ledger's even if lower
 * (a reloaded module starts again at 0: the dump is the truth). -EINVAL
 * (overlap, len 0, unaligned, overflow, plain host run, shared non-host
 * run, owner > PKVM_OWNER_MAX) or -ENOMEM leave the ledger unchanged.
 * diff may be NULL. O(n log n + runs).
 */
int ledger_reconcile(struct ledger *l, const struct ledger_run *dump, size_t n,
		     uint64_t generation, struct ledger_diff *diff);

/* Canonical runs in address order; copies up to max, returns how many exist. */
size_t ledger_runs(const struct ledger *l, struct ledger_run *out, size_t max);

/* Calls fn on each run in address order; stops at and returns fn's non-zero. */
int ledger_for_each(const struct ledger *l,
		    int (*fn)(const struct ledger_run *run, void *arg), void *arg);

/*
 * Who owns the page at addr: 0 if a run covers it, -ENOENT if not (plain
 * host memory or no memory at all: the ledger cannot tell; *owner is then
 * PKVM_OWNER_HOST and *shared false).
 */
int ledger_owner_of(const struct ledger *l, uint64_t addr, uint32_t *owner, bool *shared);

/* Pages owned by owner; for PKVM_OWNER_HOST that is the shared pages. */
uint64_t ledger_pages(const struct ledger *l, uint32_t owner);
uint64_t ledger_shared_pages(const struct ledger *l);
uint64_t ledger_donated_pages(const struct ledger *l);	/* all non-host owners */

/* Calls fn for each non-host owner with pages, in owner order (as for_each). */
int ledger_for_each_owner(const struct ledger *l,
			  int (*fn)(uint32_t owner, uint64_t pages, void *arg), void *arg);

/* Copies the newest min(max, kept) records, oldest first; returns how many. */
size_t ledger_history(const struct ledger *l, struct ledger_record *out, size_t max);

/*
 * Checks every invariant (order, no overlap, canonical merging, tree
 * balance, totals) in O(runs): 0 or -EUCLEAN. For tests and debugging.
 */
int ledger_check(const struct ledger *l);

#endif
