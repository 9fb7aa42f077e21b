/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What pkvm-iommud talks to: the kernel module (/dev/pkvm-iommu and the
 * pkvm_iommu netlink family) or the simulation (the hyp core and the
 * software SMMU in process). Both speak the uapi structures, so the daemon
 * above this line does not know which one it has.
 *
 * Errors are negative errno. Events are pulled: the daemon watches
 * event_fd() in its sd-event loop and calls dispatch() when it is readable.
 */
#ifndef PKVM_DAEMON_BACKEND_H
#define PKVM_DAEMON_BACKEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/pkvm_iommu.h>

#include "ledger.h"

/*
 * What an event is: one of the four ownership changes by its enum
 * pkvm_iommu_op_code, or one of these past them.
 */
enum backend_event_kind {
	BACKEND_EV_FAULT = PKVM_IOMMU_OP_NR,
	BACKEND_EV_POLICY,
};

struct backend_event {
	uint32_t kind;		/* enum pkvm_iommu_op_code or enum backend_event_kind */
	uint64_t generation;	/* ownership generation it produced (or saw) */
	uint64_t addr, len;	/* ownership events; addr also for faults */
	uint32_t owner;
	uint32_t smmu, sid;	/* faults and stream policy; all ones: split policy */
	uint32_t fault_type;	/* SMMU event number */
	uint32_t fault_flags;	/* bit 0 write, bit 1 stage 2, bit 2 records lost */
	uint32_t policy;
};

typedef void (*backend_event_fn)(const struct backend_event *ev, void *userdata);

struct backend;

struct backend_ops {
	const char *name;	/* "kernel" or "sim" */
	enum pkvm_iommu_backend kind;
	int (*info)(struct backend *b, struct pkvm_iommu_info *out);
	int (*smmu_info)(struct backend *b, uint32_t index, struct pkvm_iommu_smmu_info *out);
	int (*stream_get)(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t *policy);
	int (*stream_set)(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t policy);
	int (*split_policy)(struct backend *b, uint32_t policy, uint32_t level);
	int (*stats)(struct backend *b, struct pkvm_iommu_stats *out);
	/*
	 * Invalidation batching (PKVM_IOMMU_IOC_INVALIDATION): max_ops 0 only
	 * reads; both are written back with the values in force.
	 */
	int (*invalidation)(struct backend *b, uint32_t *max_ops, uint32_t *window_us);
	/*
	 * Fold mode and compaction (PKVM_IOMMU_IOC_FOLD): flags
	 * PKVM_IOMMU_FOLD_READ only reads; either way every field is written
	 * back with the values in force. size is the caller's.
	 */
	int (*fold)(struct backend *b, struct pkvm_iommu_fold *f);
	/*
	 * One COMPACT call with the budget in force: *folded tables, *more
	 * when it stopped at the budget. Only where no host side compacts on
	 * its own (the sim; the module has its idle timer): NULL otherwise,
	 * and then the daemon never compacts.
	 */
	int (*compact)(struct backend *b, uint32_t *folded, bool *more);
	/* owner ignored for share/unshare */
	int (*range)(struct backend *b, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		     uint32_t owner);
	/*
	 * A consistent snapshot of every run that is not plain host memory,
	 * with the generation it reflects; *runs is malloc'ed, caller frees.
	 */
	int (*ledger_dump)(struct backend *b, struct ledger_run **runs, size_t *n,
			   uint64_t *generation);
	/* Readable while events wait; the daemon adds it to its event loop. */
	int (*event_fd)(struct backend *b);
	/*
	 * Deliver every waiting event to fn, oldest first. Returns the number
	 * delivered, or -ENOBUFS when events were lost since the last call
	 * (after delivering what survived): the caller then resyncs by dump.
	 */
	int (*dispatch)(struct backend *b, backend_event_fn fn, void *userdata);
	void (*free)(struct backend *b);
};

struct backend {
	const struct backend_ops *ops;
};

#endif /* PKVM_DAEMON_BACKEND_H */
