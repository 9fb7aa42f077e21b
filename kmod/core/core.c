// SPDX-License-Identifier: GPL-2.0
/*
 * The host core's state and the answers read from it: INFO, SMMU_INFO,
 * STATS, and the settings the host keeps (split policy, invalidation
 * batching, fold mode and compaction).
 */
#include "core_int.h"

void pkvm_core_init(struct pkvm_core *c, const struct pkvm_core_env *env, void *ctx,
		    u32 backend)
{
	hyp_memset(c, 0, sizeof(*c));
	c->env = env;
	c->ctx = ctx;
	c->backend = backend;
	/* Every change syncs on its own until the policy says otherwise. */
	c->batch_max_ops = 1;
	c->compact_budget = PKVM_IOMMU_FOLD_DEFAULT_BUDGET;
	c->compact_idle_ms = PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS;
}

void pkvm_core_fini(struct pkvm_core *c)
{
	for (u32 i = 0; i < c->nr_smmus; i++) {
		c->env->free(c->ctx, c->smmu[i].streams);
		hyp_memset(&c->smmu[i], 0, sizeof(c->smmu[i]));
	}
	c->nr_smmus = 0;
	c->env->free(c->ctx, c->page);
	c->page = NULL;
}

s64 pkvm_core_call(struct pkvm_core *c, u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4,
		   u64 a5)
{
	const u64 a[6] = { a0, a1, a2, a3, a4, a5 };

	return c->env->call(c->ctx, fn, a);
}

void *core_page(struct pkvm_core *c)
{
	if (c->env->scratch)
		return c->env->scratch(c->ctx);
	if (!c->page)
		c->page = c->env->alloc(c->ctx, HYP_PAGE_SIZE);
	return c->page;
}

/* SMMU_INFO of the hyp core's SMMU hyp_index, copied out of the scratch page. */
static int hyp_smmu_info(struct pkvm_core *c, u32 hyp_index, struct pkvm_iommu_hyp_smmu_info *hi)
{
	void *page = core_page(c);
	s64 ret;

	if (!page)
		return -ENOMEM;
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_SMMU_INFO, hyp_index, hyp_virt_to_phys(page), 0, 0,
			     0, 0);
	if (ret)
		return (int)ret;
	hyp_memcpy(hi, page, sizeof(*hi));
	return 0;
}

s64 pkvm_core_smmu_add(struct pkvm_core *c, u64 regs_pa, u64 mem_pa, u64 mem_pages)
{
	struct pkvm_iommu_hyp_smmu_info hi = { 0 };
	s64 ret;

	if (c->nr_smmus == PKVM_IOMMU_MAX_SMMUS)
		return -ENOSPC;
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_SMMU_ADD, regs_pa, mem_pa, mem_pages, 0, 0, 0);
	if (ret < 0)
		return ret;
	/* Streams are checked against its SIDSIZE on every call: ask once. */
	hyp_smmu_info(c, (u32)ret, &hi);
	c->smmu[c->nr_smmus] = (struct pkvm_core_smmu){ .hyp_index = (u32)ret, .base = regs_pa,
		.sidsize = hi.sidsize };
	return c->nr_smmus++;
}

int pkvm_core_info(struct pkvm_core *c, struct pkvm_iommu_info *out)
{
	struct pkvm_iommu_hyp_info hi;
	void *page = core_page(c);
	s64 ret;

	if (!page)
		return -ENOMEM;
	/* The generation told is the listeners': catch up with the ring first. */
	pkvm_core_sync(c);
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_INFO, hyp_virt_to_phys(page), 0, 0, 0, 0, 0);
	if (ret)
		return (int)ret;
	hyp_memcpy(&hi, page, sizeof(hi));
	hyp_memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->abi_version = PKVM_IOMMU_ABI_VERSION;
	out->backend = c->backend;
	out->nr_smmus = c->nr_smmus;
	out->split_policy = (u32)core_stat(c, PKVM_IOMMU_STAT_SPLIT_POLICY);
	out->ias = hi.ias;
	/* The hyp core counts its own 4 KiB pages, whatever the kernel's size. */
	out->mem_bytes = hi.mem_pages << HYP_PAGE_SHIFT;
	out->generation = c->generation;
	return 0;
}

int pkvm_core_smmu_info(struct pkvm_core *c, u32 index, struct pkvm_iommu_smmu_info *out)
{
	const struct pkvm_core_smmu *s = core_smmu(c, index);
	struct pkvm_iommu_hyp_smmu_info hi;
	int ret;

	if (!s)
		return -ENODEV;
	ret = hyp_smmu_info(c, s->hyp_index, &hi);
	if (ret)
		return ret;
	hyp_memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->index = index;
	out->base = s->base;
	for (u32 i = 0; i < HYP_ARRAY_SIZE(out->idr); i++)
		out->idr[i] = hi.idr[i];
	out->features = hi.features;
	out->sidsize = hi.sidsize;
	out->oas = hi.oas;
	out->bbml = hi.bbml;
	out->events = hi.events;
	out->overflows = hi.overflows;
	out->failed = hi.dead;
	out->sync_timeouts = hi.sync_timeouts;
	out->cmd_errors = hi.cmd_errors;
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
	pkvm_core_sync(c);
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

int pkvm_core_fold(struct pkvm_core *c, struct pkvm_iommu_fold *f)
{
	s64 ret;

	if ((f->flags & ~PKVM_IOMMU_FOLD_READ) || f->reserved)
		return -EINVAL;
	if (!(f->flags & PKVM_IOMMU_FOLD_READ)) {
		if (f->mode > PKVM_FOLD_LAZY || !f->compact_budget ||
		    f->compact_budget > PKVM_IOMMU_COMPACT_MAX ||
		    f->idle_ms > PKVM_IOMMU_FOLD_IDLE_MAX_MS)
			return -EINVAL;
		ret = pkvm_core_call(c, PKVM_IOMMU_HVC_FOLD_MODE, f->mode, 0, 0, 0, 0, 0);
		if (ret)
			return (int)ret;
		c->compact_budget = f->compact_budget;
		c->compact_idle_ms = f->idle_ms;
	}
	ret = core_stat(c, PKVM_IOMMU_STAT_FOLD_MODE);
	if (ret < 0)
		return (int)ret;
	f->mode = (u32)ret;
	f->compact_budget = c->compact_budget;
	f->idle_ms = c->compact_idle_ms;
	return 0;
}

int pkvm_core_compact_step(struct pkvm_core *c, u32 *folded, bool *more)
{
	s64 ret = pkvm_core_call(c, PKVM_IOMMU_HVC_COMPACT, c->compact_budget, 0, 0, 0, 0, 0);

	*folded = 0;
	*more = false;
	if (ret < 0)
		return (int)ret;
	*folded = (u32)ret;
	*more = !!((u64)ret & PKVM_IOMMU_COMPACT_MORE);
	return 0;
}
