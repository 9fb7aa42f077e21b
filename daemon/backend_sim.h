/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The simulation backend of pkvm-iommud: the hyp core (kmod/hyp) and the
 * software SMMUv3 (sim/smmu_model.c) in process, reached through the same
 * hypercall entry the module uses, behind struct backend_ops. The daemon's
 * --backend=sim runs on it; tests use it to drive the daemon's ledger.
 *
 * One simulated machine: host memory in a few regions (only the pages the
 * hyp core really touches are backed by a buffer: its table pool, the SMMU's
 * queues and tables, the hypercall argument and event pages), and one SMMU
 * whose registers sit in a hole of the memory map.
 *
 * The simulated physical address space (sim_phys_map windows, MMIO regions)
 * is process-global, so at most one sim backend is open at a time
 * (backend_sim_open: -EBUSY); free one and open the next.
 */
#ifndef PKVM_DAEMON_BACKEND_SIM_H
#define PKVM_DAEMON_BACKEND_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "backend.h"

#define BACKEND_SIM_MAX_REGIONS		8u
#define BACKEND_SIM_MAX_ISOLATE		8u
#define BACKEND_SIM_QUEUE_DEFAULT	65536u

struct backend_sim_region {
	uint64_t base, size;	/* page aligned, sorted, disjoint */
};

/* Start from backend_sim_default_options(); zero fields take the defaults
 * noted, except split_policy, ril and bbml, which are used as given. */
struct backend_sim_options {
	/* Memory; nr_regions 0: 2 GiB at 0x80000000 and 2 GiB at 0x880000000. */
	struct backend_sim_region regions[BACKEND_SIM_MAX_REGIONS];
	uint32_t nr_regions;
	uint32_t pool_pages;	/* table pool; 0: 2048 (8 MiB) */
	uint32_t split_policy;	/* enum pkvm_split_policy (default options: AUTO) */
	uint32_t presplit_level;	/* with PKVM_SPLIT_PRESPLIT: 1..3 */
	/* SMMU model variant: range invalidation (IDR3.RIL) and IDR3.BBML 0..2 */
	bool ril;
	uint32_t bbml;
	uint32_t sidsize;	/* IDR1.SIDSIZE; 0: the model's default (16) */
	uint64_t smmu_base;	/* register pages, in a hole; 0: 0x09000000 */
	/* Streams set to isolate at open (as a policy would), after which the
	 * workloads' DMA comes from them. */
	uint32_t isolate_sids[BACKEND_SIM_MAX_ISOLATE];
	uint32_t nr_isolate;
	uint32_t queue_size;	/* events kept before overflow; 0: 65536 */
	uint64_t seed;		/* workload RNG; 0: a fixed default */
};

/* Defaults: what backend_sim_open(out, NULL) uses (AUTO, RIL, BBML2). */
void backend_sim_default_options(struct backend_sim_options *opts);

/*
 * Bring up the simulated machine: memory, hyp core (PKVM_IOMMU_HVC_INIT),
 * one SMMU (SMMU_ADD), the isolate streams. opts NULL: defaults. 0 or a
 * negative errno: -EBUSY another sim backend is open, -EINVAL bad options,
 * -ENOMEM, or the hypercall's error.
 */
int backend_sim_open(struct backend **out, const struct backend_sim_options *opts);

/*
 * A transaction of len bytes (0 counts as 1) from stream sid of SMMU 0 at
 * addr, through the SMMU model. Faults the model records are popped from
 * the hyp core (PKVM_IOMMU_HVC_EVENT_POP) and queued as BACKEND_EV_FAULT.
 * Returns 0 when every page translated, the SMMU event type of the first
 * fault (0x10 F_TRANSLATION, ...), or 0x100 when the transaction was
 * aborted without an event (a blocked stream).
 */
int backend_sim_dma(struct backend *b, uint32_t sid, uint64_t addr, uint64_t len, bool write);

/*
 * Make the software SMMU fail, from now on, the way fault says (what
 * tests/smmu/test_smmu_faults.c checks the driver against):
 * "sync-timeout"  no CMD_SYNC completes: the next change that invalidates
 *                 fails -ETIMEDOUT and the SMMU fails closed
 * "cmd-error"     the next command is refused with CERROR_ILL: -EIO, and
 *                 the SMMU fails closed
 * "evtq-overflow" every event record is lost with an overflow flagged
 * "none"          the SMMU works again (a failed-closed one stays so).
 * backend_sim_open() applies $PKVM_SIM_FAULT this way when it is set
 * (-EINVAL for another word). 0 or -EINVAL.
 */
int backend_sim_inject(struct backend *b, const char *fault);

enum backend_sim_workload {
	SIM_WORKLOAD_IDLE,	/* nothing */
	/* random 4 KiB donations/reclaims of a bounded set of pages to owners
	 * 2..5, and now and then a DMA to a donated page (a fault) */
	SIM_WORKLOAD_CHURN,
	/* guest boots: donate a few large ranges, share pages, and on
	 * shutdown unshare and reclaim everything; next guest */
	SIM_WORKLOAD_BOOT,
};

/*
 * Run n steps of a workload (one ownership operation or DMA each). Returns
 * the number of ownership operations that succeeded (operations refused
 * because someone else changed the pages meanwhile are skipped), or
 * -EINVAL for an unknown workload, -ENOSPC when memory is too small for
 * the workload's areas (it needs a region, or what remains of one beside
 * the backend's own pages, of 512 MiB).
 */
int backend_sim_step(struct backend *b, enum backend_sim_workload w, unsigned int n);

/* Parses "idle", "churn", "boot": 0 or -EINVAL. */
int backend_sim_workload_parse(const char *s, enum backend_sim_workload *w);

#endif /* PKVM_DAEMON_BACKEND_SIM_H */
