/* SPDX-License-Identifier: GPL-2.0 */
/* Internals shared by the parts of the SMMU model; tests use smmu_model.h. */
#ifndef PKVM_SIM_SMMU_MODEL_INT_H
#define PKVM_SIM_SMMU_MODEL_INT_H

#include "smmu_model.h"

/* Register offsets (IHI 0070 H.a, chapter 6). */
#define MR_IDR0		0x00u
#define MR_IDR1		0x04u
#define MR_IDR2		0x08u
#define MR_IDR3		0x0cu
#define MR_IDR4		0x10u
#define MR_IDR5		0x14u
#define MR_CR0		0x20u
#define MR_CR0ACK	0x24u
#define MR_CR1		0x28u
#define MR_CR2		0x2cu
#define MR_GBPA		0x44u
#define MR_IRQ_CTRL	0x50u
#define MR_IRQ_CTRLACK	0x54u
#define MR_GERROR	0x60u
#define MR_GERRORN	0x64u
#define MR_STRTAB_BASE	0x80u
#define MR_STRTAB_CFG	0x88u
#define MR_CMDQ_BASE	0x90u
#define MR_CMDQ_PROD	0x98u
#define MR_CMDQ_CONS	0x9cu
#define MR_EVTQ_BASE	0xa0u
#define MR_EVTQ_PROD	0x100a8u
#define MR_EVTQ_CONS	0x100acu

/* CR0 / CR0ACK bits */
#define MB_SMMUEN	(1u << 0)
#define MB_EVTQEN	(1u << 2)
#define MB_CMDQEN	(1u << 3)
/* GERROR bits */
#define MB_CMDQ_ERR	(1u << 0)
#define MB_EVTQ_ABT	(1u << 2)

/* Bits h..l of v. */
static inline u64 mbits(u64 v, unsigned int h, unsigned int l)
{
	return (v >> l) & (~0ull >> (63 - (h - l)));
}

static inline u64 mmask(unsigned int h, unsigned int l)
{
	return (~0ull >> (63 - h)) & (~0ull << l);
}

u32 model_rd32(const struct smmu_model *m, u32 off);
u64 model_rd64(const struct smmu_model *m, u32 off);
u32 model_oas_bits(u32 field);

/* Write one event record if the event queue is on; counts what is lost. */
void model_record(struct smmu_model *m, const u64 rec[4]);

/* Caches (smmu_model_cache.c); callers hold m->lock. */
struct smmu_model_tlbe *model_tlb_lookup(struct smmu_model *m, u16 vmid, u64 ipa);
void model_tlb_insert(struct smmu_model *m, const struct smmu_model_tlbe *e);
/* all_vmids, or vmid; [lo, hi); ttl 0 any level */
void model_tlb_inval(struct smmu_model *m, bool all_vmids, u16 vmid, u64 lo,
		     u64 hi, u32 ttl);
struct smmu_model_walke *model_walk_lookup(struct smmu_model *m, u16 vmid,
					   u64 ipa);
void model_walk_insert(struct smmu_model *m, const struct smmu_model_walke *e);
void model_walk_inval(struct smmu_model *m, bool all_vmids, u16 vmid, u64 lo,
		      u64 hi);
const u64 *model_cfgc_lookup(struct smmu_model *m, u32 sid);
void model_cfgc_insert(struct smmu_model *m, u32 sid, const u64 ste[8]);
/* StreamIDs [lo, hi] */
void model_cfgc_inval(struct smmu_model *m, u64 lo, u64 hi);

#endif /* PKVM_SIM_SMMU_MODEL_INT_H */
