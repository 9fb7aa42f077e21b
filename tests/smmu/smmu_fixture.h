/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One simulated SMMU with its memory: the register page of a software
 * SMMUv3 model, and a 2 MiB window of simulated physical memory holding
 * the stream table, both queues and the level-2 stream table pages.
 */
#ifndef PKVM_TESTS_SMMU_FIXTURE_H
#define PKVM_TESTS_SMMU_FIXTURE_H

#include "smmu_dev.h"
#include "smmu_model.h"

#define FX_MEM_PA	0x7f000000ull
#define FX_MEM_SIZE	(2ull << 20)
#define FX_STRTAB_PA	(FX_MEM_PA + 0x00000)	/* 64 KiB */
#define FX_CMDQ_PA	(FX_MEM_PA + 0x10000)	/* 64 KiB */
#define FX_EVTQ_PA	(FX_MEM_PA + 0x20000)	/* 64 KiB */
#define FX_L2_PA	(FX_MEM_PA + 0x30000)	/* L2 stream table pages */

struct smmu_fixture {
	struct smmu_model model;
	struct smmu_dev dev;
	struct smmu_dev_config dcfg;	/* filled by fx_init, tests may edit */
	void *regs;
	void *mem;
	u64 mem_pa;		/* FX_MEM_PA unless fx_init_at() */
	u64 l2_next;
	u64 l2_allocs;
};

/* Model on a fresh register page, memory window mapped, dcfg defaults. */
int fx_init(struct smmu_fixture *f, const struct smmu_model_cfg *mcfg);
/* The same with the memory window at pa (FX_MEM_SIZE aligned): several SMMUs. */
int fx_init_at(struct smmu_fixture *f, const struct smmu_model_cfg *mcfg, u64 pa);
int fx_dev_init(struct smmu_fixture *f);
void fx_fini(struct smmu_fixture *f);

static inline u32 fx_reg(const struct smmu_fixture *f, u32 off)
{
	return hyp_readl((const u8 *)f->regs + off);
}

/* Pop every pending event into ev[] (at most n); returns how many. */
unsigned int fx_events(struct smmu_fixture *f, struct smmu_event *ev,
		       unsigned int n, bool *overflow);

#endif
