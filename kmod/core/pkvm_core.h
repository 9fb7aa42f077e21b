/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host core: everything the host side of pkvm-iommu adds on top of the
 * hyp core that is not Linux, written once for every caller (kmod/host in
 * host mode, the daemon's simulation backend, and the pKVM transport next).
 * Each call answers as the matching ioctl or netlink request does
 * (pkvm_iommu(4)); the callers only copy arguments in and out.
 *
 * The environment is in core_env.h; the caller serialises all calls on
 * one struct pkvm_core.
 */
#ifndef PKVM_CORE_H
#define PKVM_CORE_H

#include "core_env.h"
#include "hvc.h"

/*
 * Bit 2 of pkvm_iommu_event.flags and PKVM_IOMMU_A_FAULT_FLAGS: the SMMU
 * dropped records (bit 0 is a write, bit 1 a stage-2 fault).
 */
#define PKVM_CORE_FAULT_LOST	HYP_BIT(2)

/* A stream whose policy was set; absent streams are blocked. */
struct pkvm_core_stream {
	u32 sid;
	u32 policy;		/* enum pkvm_stream_policy */
};

struct pkvm_core_smmu {
	u32 hyp_index;		/* what SMMU_ADD returned */
	u32 sidsize;		/* StreamID bits, as SMMU_INFO said at the add */
	u64 base;		/* physical address of its registers */
	struct pkvm_core_stream *streams;	/* sorted by sid */
	u32 nr_streams, cap_streams;
};

struct pkvm_core {
	const struct pkvm_core_env *env;
	void *ctx;		/* the env's first argument */
	/*
	 * Everything the host core knows of the hyp core comes through
	 * calls (under pKVM its state is the hypervisor's): INFO, SMMU_INFO,
	 * LEDGER_READ, and the ownership-event ring.
	 */
	u32 backend;		/* enum pkvm_iommu_backend, for INFO */
	/*
	 * The generation of the last ownership change told to the listeners:
	 * the hyp core numbers changes in its ring, this follows it.
	 */
	u64 generation;
	void *page;		/* scratch page when the env has no scratch() */
	struct pkvm_core_smmu smmu[PKVM_IOMMU_MAX_SMMUS];
	u32 nr_smmus;
	/* The policy's invalidation section (PKVM_IOMMU_IOC_INVALIDATION). */
	u32 batch_max_ops, batch_window_us;
	/* How the host compacts a LAZY table (PKVM_IOMMU_IOC_FOLD). */
	u32 compact_budget, compact_idle_ms;
};

/* The core reads nothing of the hyp core but through env->call. */
void pkvm_core_init(struct pkvm_core *c, const struct pkvm_core_env *env, void *ctx,
		    u32 backend);
/* Frees the stream tables; the core is empty again (no SMMU). */
void pkvm_core_fini(struct pkvm_core *c);

/* A call into the hyp core through the transport (INIT and the like). */
s64 pkvm_core_call(struct pkvm_core *c, u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4,
		   u64 a5);
/* SMMU_ADD: the SMMU's index (0, 1, ... in order of success) or -errno. */
s64 pkvm_core_smmu_add(struct pkvm_core *c, u64 regs_pa, u64 mem_pa, u64 mem_pages);

/* PKVM_IOMMU_IOC_INFO, _SMMU_INFO, _STATS: every field written. */
int pkvm_core_info(struct pkvm_core *c, struct pkvm_iommu_info *out);
int pkvm_core_smmu_info(struct pkvm_core *c, u32 index, struct pkvm_iommu_smmu_info *out);
int pkvm_core_stats(struct pkvm_core *c, struct pkvm_iommu_stats *out);

/* PKVM_IOMMU_IOC_SPLIT_POLICY; a success is a policy event. */
int pkvm_core_split_policy(struct pkvm_core *c, u32 policy, u32 level);

/*
 * PKVM_IOMMU_IOC_INVALIDATION: *max_ops 0 only reads; both are written
 * back with the values in force.
 */
int pkvm_core_invalidation(struct pkvm_core *c, u32 *max_ops, u32 *window_us);

/*
 * PKVM_IOMMU_IOC_FOLD: -EINVAL for a value out of range, unknown flags or
 * reserved bits; with PKVM_IOMMU_FOLD_READ only reads. Every field is
 * written back with the values in force. A mode change is made by the hyp
 * core (EAGER first folds everything, so it may fail like a compaction).
 */
int pkvm_core_fold(struct pkvm_core *c, struct pkvm_iommu_fold *f);

/*
 * One COMPACT call with the budget in force: tables folded, *more when the
 * call stopped at its budget and more may remain.
 */
int pkvm_core_compact_step(struct pkvm_core *c, u32 *folded, bool *more);

/*
 * PKVM_IOMMU_IOC_STREAM_GET / _SET: -ENODEV no such SMMU, -ERANGE sid
 * beyond its SIDSIZE, -EINVAL unknown policy, -ENOMEM; a set is a policy
 * event.
 */
int pkvm_core_stream_get(struct pkvm_core *c, u32 smmu, u32 sid, u32 *policy);
int pkvm_core_stream_set(struct pkvm_core *c, u32 smmu, u32 sid, u32 policy);

/*
 * Drain the hyp core's ownership-event ring: every record becomes one
 * ownership event with the generation the hyp core gave it, in order.
 * Every call below that changes ownership or tells the generation does
 * this first or last; the owner (the module's event poll under pKVM)
 * calls it for pKVM's own transitions. Records the ring dropped show as
 * a gap in the generations, which makes listeners resync from the
 * ledger. 0 or the RING_POP call's error.
 */
int pkvm_core_sync(struct pkvm_core *c);

/*
 * Ownership changes. Each change made takes the next generation (the
 * hyp core's) and is one event, sent before the call returns.
 *
 * pkvm_core_change(): one change (op of enum pkvm_iommu_op_code) with its
 * own flush: 0 or the refusal.
 * pkvm_core_batch(): one BATCH call over ops[0, nr) (host memory, one run
 * of physical pages, 32-byte aligned), one flush: the changes made, with
 * ops[ret].result saying why the next was refused, or -errno when the
 * call was refused or its flush failed.
 * pkvm_core_batch_each(): changes that do not depend on each other (a
 * group of single changes): a refusal does not stop the rest, and when a
 * flush fails none of the changes still pending is reported made. Every
 * ops[i].result is written.
 */
int pkvm_core_change(struct pkvm_core *c, u32 op, u64 addr, u64 len, u32 owner);
s64 pkvm_core_batch(struct pkvm_core *c, struct pkvm_iommu_op *ops, u32 nr);
void pkvm_core_batch_each(struct pkvm_core *c, struct pkvm_iommu_op *ops, u32 nr);

/*
 * EVENT_POP of one record of SMMU smmu into buf (host memory, one page):
 * 1 a record was taken (a fault event when it says something), 0 the
 * queue is empty, -ENODEV no such SMMU, or the call's error.
 */
int pkvm_core_event_pop(struct pkvm_core *c, u32 smmu, struct pkvm_iommu_event *buf);

/* A run of the ledger: memory that is not plain host memory. */
struct pkvm_core_run {
	u64 addr, len;
	u32 owner;
	bool shared;
};

typedef int (*pkvm_core_run_fn)(const struct pkvm_core_run *run, void *arg);

/*
 * The ledger from address from up: fn for every maximal run, in address
 * order, at c->generation. A nonzero return of fn stops the walk and is
 * returned, with *resume the start of the run it refused (where the next
 * walk picks up); otherwise 0 or the walk's error.
 */
int pkvm_core_ledger_walk(struct pkvm_core *c, u64 from, pkvm_core_run_fn fn, void *arg,
			  u64 *resume);

#endif /* PKVM_CORE_H */
