// SPDX-License-Identifier: GPL-2.0
/*
 * The host core's state and the answers read from it: INFO, SMMU_INFO,
 * STATS, and the two settings the host keeps (split policy, invalidation
 * batching).
 */
#include "core_int.h"

void pkvm_core_init(struct pkvm_core *c, const struct pkvm_core_env *env, void *ctx,
		    struct pkvm_iommu_hyp *hyp, u32 backend)
{
	hyp_memset(c, 0, sizeof(*c));
	c->env = env;
	c->ctx = ctx;
	c->hyp = hyp;
	c->backend = backend;
	/* Every change syncs on its own until the policy says otherwise. */
	c->batch_max_ops = 1;
}

void pkvm_core_fini(struct pkvm_core *c)
{
	for (u32 i = 0; i < c->nr_smmus; i++) {
		c->env->free(c->ctx, c->smmu[i].streams);
		hyp_memset(&c->smmu[i], 0, sizeof(c->smmu[i]));
	}
	c->nr_smmus = 0;
}

s64 pkvm_core_call(struct pkvm_core *c, u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4,
		   u64 a5)
{
	const u64 a[6] = { a0, a1, a2, a3, a4, a5 };

	return c->env->call(c->ctx, fn, a);
}

s64 pkvm_core_smmu_add(struct pkvm_core *c, u64 regs_pa, u64 mem_pa, u64 mem_pages)
{
	s64 ret;

	if (c->nr_smmus == PKVM_IOMMU_MAX_SMMUS)
		return -ENOSPC;
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_SMMU_ADD, regs_pa, mem_pa, mem_pages, 0, 0, 0);
	if (ret < 0)
		return ret;
	c->smmu[c->nr_smmus] = (struct pkvm_core_smmu){ .hyp_index = (u32)ret, .base = regs_pa };
	return c->nr_smmus++;
}

int pkvm_core_info(struct pkvm_core *c, struct pkvm_iommu_info *out)
{
	if (!c->hyp)
		return -EOPNOTSUPP;
	hyp_memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->abi_version = PKVM_IOMMU_ABI_VERSION;
	out->backend = c->backend;
	out->nr_smmus = c->nr_smmus;
	out->split_policy = (u32)core_stat(c, PKVM_IOMMU_STAT_SPLIT_POLICY);
	out->ias = c->hyp->pgt.ias;
	/* The hyp core counts its own 4 KiB pages, whatever the kernel's size. */
	out->mem_bytes = (u64)core_stat(c, PKVM_IOMMU_STAT_MEM_PAGES) << HYP_PAGE_SHIFT;
	out->generation = c->generation;
	return 0;
}

static u32 feature_bits(const struct smmu_features *f)
{
	return (f->s1 ? PKVM_IOMMU_FEAT_S1 : 0) | (f->s2 ? PKVM_IOMMU_FEAT_S2 : 0) |
	       (f->two_level ? PKVM_IOMMU_FEAT_2LVL_STRTAB : 0) |
	       (f->coherent ? PKVM_IOMMU_FEAT_COHERENT : 0) |
	       (f->ril ? PKVM_IOMMU_FEAT_RIL : 0) |
	       (f->vmid16 ? PKVM_IOMMU_FEAT_VMID16 : 0) |
	       (f->gran4k ? PKVM_IOMMU_FEAT_GRAN4K : 0);
}

int pkvm_core_smmu_info(struct pkvm_core *c, u32 index, struct pkvm_iommu_smmu_info *out)
{
	const struct pkvm_core_smmu *s = core_smmu(c, index);
	const struct smmu_dev *d;

	if (!s)
		return -ENODEV;
	if (!c->hyp)
		return -EOPNOTSUPP;
	d = &c->hyp->smmu[s->hyp_index].dev;
	hyp_memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->index = index;
	out->base = s->base;
	out->idr[0] = d->feat.idr0;
	out->idr[1] = d->feat.idr1;
	out->idr[3] = d->feat.idr3;
	out->idr[5] = d->feat.idr5;
	out->features = feature_bits(&d->feat);
	out->sidsize = d->feat.sidsize;
	out->oas = d->feat.oas_bits;
	out->bbml = d->feat.bbml;
	out->events = d->evtq.nr_events;
	out->overflows = d->evtq.nr_overflows;
	return 0;
}

int pkvm_core_stats(struct pkvm_core *c, struct pkvm_iommu_stats *out)
{
	hyp_memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->nr = PKVM_IOMMU_STAT_NR;
	for (u32 i = 0; i < PKVM_IOMMU_STAT_NR; i++)
		out->counter[i] = (u64)core_stat(c, i);
	return 0;
}

int pkvm_core_split_policy(struct pkvm_core *c, u32 policy, u32 level)
{
	struct pkvm_core_event ev = {
		.cmd = PKVM_IOMMU_CMD_EVT_POLICY, .smmu = ~0u, .sid = ~0u, .policy = policy,
	};
	s64 ret = pkvm_core_call(c, PKVM_IOMMU_HVC_SPLIT_POLICY, policy, level, 0, 0, 0, 0);

	if (ret)
		return (int)ret;
	core_emit(c, &ev);
	return 0;
}

int pkvm_core_invalidation(struct pkvm_core *c, u32 *max_ops, u32 *window_us)
{
	if (*max_ops) {
		if (*max_ops > PKVM_IOMMU_BATCH_MAX || *window_us > PKVM_IOMMU_BATCH_WINDOW_MAX_US)
			return -EINVAL;
		c->batch_max_ops = *max_ops;
		c->batch_window_us = *window_us;
	}
	*max_ops = c->batch_max_ops;
	*window_us = c->batch_window_us;
	return 0;
}
