/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow engine's invalidations as SMMU commands. One stage-2 table
 * (one VMID) may be walked by several SMMUs; a flush goes to each of them
 * and completes with exactly one CMD_SYNC per SMMU. The syncs are all
 * issued before any is waited for, so they drain in parallel.
 */
#ifndef PKVM_SMMU_TLB_H
#define PKVM_SMMU_TLB_H

#include "hyp_env.h"
#include "s2_gather.h"
#include "s2_pgtable.h"
#include "smmu_dev.h"

#define SMMU_TLB_MAX_DEVS	8u
/*
 * Without range invalidation, more per-granule commands than this cost
 * more than refilling the TLB after a whole-VMID flush.
 */
#define SMMU_TLB_PER_GRANULE_MAX	512u

/* Every SMMU walking one stage-2 table: the cookie of smmu_tlb_ops. */
struct smmu_tlb_domain {
	struct smmu_dev *devs[SMMU_TLB_MAX_DEVS];
	u32 nr_devs;
	u16 vmid;
};

/* The engine's flush callback: s2_tlb_ops.flush with a smmu_tlb_domain. */
int smmu_tlb_flush(void *cookie, const struct s2_gather *g);
extern const struct s2_tlb_ops smmu_tlb_ops;

/* -ENOSPC past SMMU_TLB_MAX_DEVS, -EEXIST when already there. */
int smmu_tlb_domain_add(struct smmu_tlb_domain *dom, struct smmu_dev *d);

/*
 * Queue (without CMD_SYNC) the commands that invalidate g for vmid on one
 * SMMU: CMD_TLBI_S12_VMALL when g->full, else per range the fewest range
 * commands (ril) or one CMD_TLBI_S2_IPA per granule; Leaf=0 when g->walk.
 */
int smmu_tlb_emit(struct smmu_cmdq *q, bool ril, u16 vmid,
		  const struct s2_gather *g);

/* Gather cost above which a VMID flush is cheaper on this SMMU (~0: never). */
u64 smmu_tlb_full_threshold(const struct smmu_features *f);
/* The smallest over the domain: what s2_config.full_threshold should be. */
u64 smmu_tlb_domain_threshold(const struct smmu_tlb_domain *dom);
/* Apply it to a live table (after an SMMU joined the domain). */
void smmu_tlb_set_threshold(struct s2_pgtable *pgt,
			    const struct smmu_tlb_domain *dom);

#endif /* PKVM_SMMU_TLB_H */
