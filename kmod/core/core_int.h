/* SPDX-License-Identifier: GPL-2.0 */
/* Helpers shared by the host core's files; not for its callers. */
#ifndef PKVM_CORE_INT_H
#define PKVM_CORE_INT_H

#include "pkvm_core.h"

static inline struct pkvm_core_smmu *core_smmu(struct pkvm_core *c, u32 index)
{
	return index < c->nr_smmus ? &c->smmu[index] : NULL;
}

/* Every event carries the generation it saw: the one in force now. */
static inline void core_emit(struct pkvm_core *c, struct pkvm_core_event *ev)
{
	ev->generation = c->generation;
	c->env->event(c->ctx, ev);
}

/* The page the hyp core answers into (core_env.h: scratch), or NULL. */
void *core_page(struct pkvm_core *c);

static inline s64 core_stat(struct pkvm_core *c, u32 id)
{
	return pkvm_core_call(c, PKVM_IOMMU_HVC_STATS_READ, id, 0, 0, 0, 0, 0);
}

#endif /* PKVM_CORE_INT_H */
