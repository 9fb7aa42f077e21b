// SPDX-License-Identifier: GPL-2.0
/*
 * The model's caches: leaf TLB, stage-2 walk cache, STE cache. Entries are
 * only ever dropped by invalidation commands (or replaced when a cache is
 * full, round robin), which is the freedom hardware has and the reason a
 * missing invalidation is observable.
 */
#include "smmu_model_int.h"

static bool overlaps(u64 a, u64 asize, u64 lo, u64 hi)
{
	return a < hi && lo < a + asize;
}

struct smmu_model_tlbe *model_tlb_lookup(struct smmu_model *m, u16 vmid, u64 ipa)
{
	for (u32 i = 0; i < SMMU_MODEL_TLB_ENTRIES; i++) {
		struct smmu_model_tlbe *e = &m->tlb[i];

		if (e->valid && e->vmid == vmid && ipa - e->ipa < e->size)
			return e;
	}
	return NULL;
}

void model_tlb_insert(struct smmu_model *m, const struct smmu_model_tlbe *e)
{
	/*
	 * Overlapping leaves of different sizes are what a TLB conflict is
	 * made of on an SMMU without BBML2; count them for the checkers.
	 */
	for (u32 i = 0; i < SMMU_MODEL_TLB_ENTRIES; i++) {
		const struct smmu_model_tlbe *o = &m->tlb[i];

		if (o->valid && o->vmid == e->vmid && o->size != e->size &&
		    overlaps(o->ipa, o->size, e->ipa, e->ipa + e->size))
			m->stats.tlb_overlaps++;
	}
	m->tlb[m->tlb_next] = *e;
	m->tlb[m->tlb_next].valid = true;
	m->tlb_next = (m->tlb_next + 1) % SMMU_MODEL_TLB_ENTRIES;
	if (m->tlb_filled < SMMU_MODEL_TLB_ENTRIES)
		m->tlb_filled++;
}

void model_tlb_inval(struct smmu_model *m, bool all_vmids, u16 vmid, u64 lo,
		     u64 hi, u32 ttl)
{
	/* Slots past tlb_filled were never written: an idle TLB costs nothing. */
	for (u32 i = 0; i < m->tlb_filled; i++) {
		struct smmu_model_tlbe *e = &m->tlb[i];

		if (!e->valid || (!all_vmids && e->vmid != vmid))
			continue;
		if (!overlaps(e->ipa, e->size, lo, hi))
			continue;
		/* A level hint lets the SMMU keep leaves of other levels. */
		if (ttl && e->level != ttl)
			continue;
		e->valid = false;
	}
}

struct smmu_model_walke *model_walk_lookup(struct smmu_model *m, u16 vmid,
					   u64 ipa)
{
	struct smmu_model_walke *best = NULL;

	if (!m->cfg.walk_cache)
		return NULL;
	/* The deepest cached table saves the most of the walk. */
	for (u32 i = 0; i < SMMU_MODEL_WALK_ENTRIES; i++) {
		struct smmu_model_walke *e = &m->walk[i];

		if (e->valid && e->vmid == vmid && ipa - e->ipa < e->size &&
		    (!best || e->level > best->level))
			best = e;
	}
	return best;
}

void model_walk_insert(struct smmu_model *m, const struct smmu_model_walke *e)
{
	if (!m->cfg.walk_cache)
		return;
	for (u32 i = 0; i < SMMU_MODEL_WALK_ENTRIES; i++) {
		struct smmu_model_walke *o = &m->walk[i];

		if (o->valid && o->vmid == e->vmid && o->level == e->level &&
		    o->ipa == e->ipa) {
			*o = *e;
			o->valid = true;
			return;
		}
	}
	m->walk[m->walk_next] = *e;
	m->walk[m->walk_next].valid = true;
	m->walk_next = (m->walk_next + 1) % SMMU_MODEL_WALK_ENTRIES;
	if (m->walk_filled < SMMU_MODEL_WALK_ENTRIES)
		m->walk_filled++;
}

void model_walk_inval(struct smmu_model *m, bool all_vmids, u16 vmid, u64 lo,
		      u64 hi)
{
	for (u32 i = 0; i < m->walk_filled; i++) {
		struct smmu_model_walke *e = &m->walk[i];

		if (e->valid && (all_vmids || e->vmid == vmid) &&
		    overlaps(e->ipa, e->size, lo, hi))
			e->valid = false;
	}
}

const u64 *model_cfgc_lookup(struct smmu_model *m, u32 sid)
{
	if (!m->cfg.config_cache)
		return NULL;
	for (u32 i = 0; i < SMMU_MODEL_CFG_ENTRIES; i++)
		if (m->cfgc[i].valid && m->cfgc[i].sid == sid)
			return m->cfgc[i].ste;
	return NULL;
}

void model_cfgc_insert(struct smmu_model *m, u32 sid, const u64 ste[8])
{
	struct smmu_model_cfge *e;

	if (!m->cfg.config_cache)
		return;
	e = &m->cfgc[m->cfgc_next];
	m->cfgc_next = (m->cfgc_next + 1) % SMMU_MODEL_CFG_ENTRIES;
	e->valid = true;
	e->sid = sid;
	memcpy(e->ste, ste, sizeof(e->ste));
}

void model_cfgc_inval(struct smmu_model *m, u64 lo, u64 hi)
{
	for (u32 i = 0; i < SMMU_MODEL_CFG_ENTRIES; i++)
		if (m->cfgc[i].valid && m->cfgc[i].sid >= lo && m->cfgc[i].sid <= hi)
			m->cfgc[i].valid = false;
}
