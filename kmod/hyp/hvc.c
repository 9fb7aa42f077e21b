// SPDX-License-Identifier: GPL-2.0
/*
 * Hypercall dispatch: argument checks in front of the engine and the SMMU
 * layer. Every check happens before the first change, so a refused call
 * leaves everything as it was.
 */
#include "hvc.h"

#define SMMU_REGS_SIZE	0x20000ull	/* register pages 0 and 1, 64 KiB each */

/*
 * The smallest input size (>= 32 bits) that covers every address below top
 * with a single root table. Concatenated roots are valid (Arm ARM D8.2) and
 * the engine handles them, but QEMU 10.0's SMMUv3 walks them wrongly (it
 * drops the table index and reads the first table for every address), and
 * one root page needs no aligned run from the pool. The price: one more
 * level to walk when the top lies in 2^32..2^34 or 2^40..2^43.
 */
static u32 ias_for(u64 top)
{
	u32 bits = HYP_MAX(64 - (u32)__builtin_clzll(top - 1), PKVM_S2_IAS_MIN);

	while (s2_root_pages(bits) > 1)
		bits++;
	return bits;
}

/* Is [pa, pa + size) all memory (every page in some region)? */
static bool inside_regions(const struct s2_region *r, u32 nr, u64 pa, u64 size)
{
	u64 covered = 0;

	for (u32 i = 0; i < nr; i++) {
		u64 s = HYP_MAX(pa, r[i].base), e = HYP_MIN(pa + size, r[i].base + r[i].size);

		if (s < e)
			covered += e - s;
	}
	return covered == size;
}

/*
 * The regions INIT maps: pKVM's own copy of the memory map when the
 * environment gave one (the host is not asked), else the host's, copied
 * first and checked as copied: the host may rewrite its buffer meanwhile.
 */
static int init_regions(struct pkvm_iommu_hyp *hyp, const u64 a[6],
			const struct s2_region **regions, u32 *nr)
{
	int ret;

	if (hyp->own) {
		*regions = hyp->own->regions;
		*nr = hyp->own->nr_regions;
		return *nr && *nr <= S2_MAX_REGIONS ? 0 : -EINVAL;
	}
	if (!a[1] || a[1] > S2_MAX_REGIONS || a[0] & 7)
		return -EINVAL;
	ret = hyp_copy_from_host(hyp->init_regions, a[0],
				 a[1] * sizeof(hyp->init_regions[0]));
	*regions = hyp->init_regions;
	*nr = (u32)a[1];
	return ret;
}

static int seed_one(void *ctx, u64 addr, u64 size, u32 owner)
{
	struct pkvm_iommu_hyp *hyp = ctx;

	return s2_seed(&hyp->pgt, addr, size, owner);
}

/*
 * Build the table and enable the shadow. With an ownership source, all of
 * it happens while no transition can run: every page the host cannot
 * reach at this moment starts unmapped with its owner, and the hook takes
 * over from the next transition on.
 */
static int init_build(struct pkvm_iommu_hyp *hyp, const struct s2_config *cfg,
		      bool split_auto)
{
	const struct pkvm_iommu_ownership *own = hyp->own;
	u64 t0;
	int ret;

	if (own)
		own->lock(own->arg);
	ret = s2_init(&hyp->pgt, cfg);
	if (!ret && own) {
		t0 = hyp_now_ns();
		ret = own->for_each_nonhost(own->arg, seed_one, hyp);
		hyp->seed_ns = hyp_now_ns() - t0;
	}
	if (!ret) {
		/* From now on every change is news (the pool's donation was not). */
		hyp->pgt.ring = &hyp->ring;
		hyp->split_auto = split_auto;
		hyp_mb();
		hyp->ready = true;
	}
	if (own)
		own->unlock(own->arg);
	return ret;
}

static s64 hvc_init(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	const struct s2_region *regions;
	u64 pool_pa = a[2], pool_pages = a[3], policy = a[4];
	struct s2_config cfg = { 0 };
	u64 top = 0, pool_size;
	u32 nr;
	int ret;

	if (hyp->ready)
		return -EBUSY;
	ret = init_regions(hyp, a, &regions, &nr);
	if (ret)
		return ret;
	for (u32 i = 0; i < nr; i++) {
		u64 end = regions[i].base + regions[i].size;

		if (!regions[i].size || end < regions[i].base)
			return -EINVAL;
		top = HYP_MAX(top, end);
	}
	if (top > 1ull << PKVM_S2_IAS_MAX)
		return -ERANGE;
	if (!pool_pages || pool_pages > (1ull << (PKVM_S2_IAS_MAX - HYP_PAGE_SHIFT)) ||
	    pool_pa & ~HYP_PAGE_MASK)
		return -EINVAL;
	pool_size = pool_pages << HYP_PAGE_SHIFT;
	if (pool_pa + pool_size < pool_pa)
		return -EINVAL;
	/* The pool is host memory being given away: all of it must be memory. */
	if (!inside_regions(regions, nr, pool_pa, pool_size))
		return -EPERM;
	if (!hyp_mem_map(pool_pa, pool_size))
		return -EFAULT;
	if (policy > PKVM_SPLIT_AUTO)
		return -EINVAL;

	cfg.ias = ias_for(top);
	cfg.regions = regions;
	cfg.nr_regions = nr;
	cfg.pool_pa = pool_pa;
	cfg.pool_pages = pool_pages;
	/* Before any SMMU is known, nothing walks the table: hitless is moot. */
	cfg.policy = policy == PKVM_SPLIT_AUTO ? PKVM_SPLIT_HITLESS : policy;
	cfg.presplit_level = (u32)HYP_MIN(a[5], 0xffu);
	cfg.tlb = &smmu_tlb_ops;
	cfg.tlb_cookie = &hyp->dom;
	hyp->dom.vmid = PKVM_IOMMU_VMID;
	return init_build(hyp, &cfg, policy == PKVM_SPLIT_AUTO);
}

static enum pkvm_split_policy auto_policy(const struct pkvm_iommu_hyp *hyp)
{
	/* The domain holds exactly the SMMUs that walk the table. */
	return smmu_split_policy_auto_all(hyp->dom.devs, hyp->dom.nr_devs);
}

static u64 l2_page_alloc(void *cookie)
{
	struct pkvm_iommu_smmu *s = cookie;
	u64 end = s->mem_pa + (s->mem_pages << HYP_PAGE_SHIFT), pa = s->l2_next;

	if (pa >= end)
		return 0;
	s->l2_next += HYP_PAGE_SIZE;
	return pa;	/* zeroed when the SMMU was added */
}

/* An SMMU's register window: 64 KiB aligned (page 0's size), no wrap. */
static bool regs_window_ok(u64 regs_pa, u64 size)
{
	return !(regs_pa & (SMMU_REGS_SIZE / 2 - 1)) && regs_pa + size >= regs_pa;
}

static bool claimed(const struct pkvm_iommu_hyp *hyp, u64 regs_pa)
{
	for (u32 i = 0; i < hyp->nr_claimed; i++)
		if (hyp->claimed[i] == regs_pa)
			return true;
	return false;
}

static s64 hvc_smmu_add(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	u64 regs_pa = a[0], mem_pa = a[1], mem_pages = a[2], mem_size;
	struct pkvm_iommu_smmu *s = &hyp->smmu[hyp->nr_smmus];
	struct smmu_dev_config cfg = { 0 };
	struct smmu_features f;
	u64 strtab_pa, strtab_bytes;
	bool two_level;
	u32 log2size, owner;
	void *regs, *mem;
	bool shared;
	int ret;

	if (hyp->nr_smmus == PKVM_IOMMU_MAX_SMMUS ||
	    hyp->pgt.nr_pinned == S2_MAX_PINNED)
		return -ENOSPC;
	if (!regs_window_ok(regs_pa, SMMU_REGS_SIZE))
		return -EINVAL;
	if (hyp->claims_only && !claimed(hyp, regs_pa))
		return -EACCES;
	for (u32 i = 0; i < hyp->nr_smmus; i++)
		if (hyp->smmu[i].regs_pa == regs_pa)
			return -EEXIST;
	if (!mem_pages || mem_pa & ~HYP_PAGE_MASK ||
	    mem_pages > (1ull << (PKVM_S2_IAS_MAX - HYP_PAGE_SHIFT)))
		return -EINVAL;
	mem_size = mem_pages << HYP_PAGE_SHIFT;
	if (mem_pa + mem_size < mem_pa)
		return -EINVAL;
	/* Registers are a device, never memory the host could also map as RAM. */
	if (s2_owner_of(&hyp->pgt, regs_pa, &owner, &shared) != -ERANGE ||
	    s2_owner_of(&hyp->pgt, regs_pa + SMMU_REGS_SIZE - HYP_PAGE_SIZE,
			&owner, &shared) != -ERANGE)
		return -EPERM;
	regs = hyp_mmio_map(regs_pa, SMMU_REGS_SIZE);
	if (!regs)
		return -ENXIO;
	mem = hyp_mem_map(mem_pa, mem_size);
	if (!mem)
		return -EFAULT;
	ret = smmu_probe(&f, regs, hyp->pgt.ias);
	if (ret)
		return ret;

	/* Layout: command queue, event queue, stream table, level-2 pages. */
	ret = smmu_strtab_geometry(&f, SMMU_STRTAB_AUTO, 0, &two_level, &log2size);
	if (ret)
		return ret;
	strtab_bytes = smmu_strtab_bytes(two_level, log2size);
	/* The SMMU aligns the table base down to the table's size. */
	strtab_pa = mem_pa + 2 * HYP_PAGE_SIZE;
	strtab_pa = (strtab_pa + strtab_bytes - 1) & ~(strtab_bytes - 1);
	if (strtab_pa + HYP_MAX(strtab_bytes, HYP_PAGE_SIZE) > mem_pa + mem_size ||
	    strtab_pa < mem_pa)
		return -ENOMEM;

	/* Take the memory away from the host's devices before using it. */
	ret = s2_change(&hyp->pgt, PKVM_IOMMU_OP_DONATE, mem_pa, mem_size,
			PKVM_OWNER_HYP, S2_NO_RECORD);
	if (ret)
		return ret;
	hyp_memset(mem, 0, mem_size);

	s->regs_pa = regs_pa;
	s->mem_pa = mem_pa;
	s->mem_pages = mem_pages;
	s->l2_next = (strtab_pa + HYP_MAX(strtab_bytes, HYP_PAGE_SIZE) + HYP_PAGE_SIZE - 1) &
		     HYP_PAGE_MASK;
	cfg.regs = regs;
	cfg.pa_bits = hyp->pgt.ias;
	cfg.strtab_pa = strtab_pa;
	cfg.strtab_size = strtab_bytes;
	cfg.strtab_fmt = two_level ? SMMU_STRTAB_2LVL : SMMU_STRTAB_LINEAR;
	cfg.cmdq_pa = mem_pa;
	cfg.cmdq_log2 = PKVM_IOMMU_CMDQ_LOG2;
	cfg.evtq_pa = mem_pa + HYP_PAGE_SIZE;
	cfg.evtq_log2 = PKVM_IOMMU_EVTQ_LOG2;
	cfg.l2_pages = (struct smmu_page_src){ l2_page_alloc, s };
	ret = smmu_dev_init(&s->dev, &cfg);
	if (!ret)
		ret = smmu_tlb_domain_add(&hyp->dom, &s->dev);
	/*
	 * Refusals come before the first register write: nothing walks the
	 * memory and it can go back. After a timeout or a command error the
	 * SMMU may still read its queues and tables, and a host writing a
	 * CMD_SYNC into a live queue could make it write anywhere: the
	 * memory stays the hypervisor's for good.
	 */
	if (ret && ret != -ETIMEDOUT && ret != -EIO && ret != -ENOSPC && ret != -EEXIST) {
		s2_change(&hyp->pgt, PKVM_IOMMU_OP_RECLAIM, mem_pa, mem_size,
			  PKVM_OWNER_HYP, S2_NO_RECORD);
		return ret;
	}
	/* A free slot was checked above and the range was just donated. */
	if (s2_pin(&hyp->pgt, mem_pa, mem_size))
		hyp_bug("SMMU memory could not be pinned");
	if (ret)
		return ret;
	smmu_tlb_set_threshold(&hyp->pgt, &hyp->dom);
	hyp->nr_smmus++;
	if (hyp->split_auto && auto_policy(hyp) != hyp->pgt.policy) {
		ret = s2_set_split_policy(&hyp->pgt, auto_policy(hyp), 0);
		if (ret)
			return ret;
	}
	return hyp->nr_smmus - 1;
}

static struct smmu_dev *smmu_arg(struct pkvm_iommu_hyp *hyp, u64 idx)
{
	return idx < hyp->nr_smmus ? &hyp->smmu[idx].dev : NULL;
}

static s64 hvc_stream(struct pkvm_iommu_hyp *hyp, const u64 a[6], u64 policy)
{
	struct smmu_dev *d = smmu_arg(hyp, a[0]);
	struct smmu_s2_params p;

	if (!d)
		return -ENODEV;
	if (a[1] > 0xffffffffull)
		return -ERANGE;
	if (policy == PKVM_STREAM_BLOCK)
		return smmu_stream_set(d, (u32)a[1], SMMU_POLICY_BLOCK, NULL);
	if (policy != PKVM_STREAM_ISOLATE)
		return -EINVAL;
	smmu_s2_params_from_pgt(&p, &hyp->pgt, hyp->dom.vmid);
	return smmu_stream_set(d, (u32)a[1], SMMU_POLICY_ISOLATE, &p);
}

static s64 hvc_split_policy(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	u64 policy = a[0];
	int ret;

	if (policy > PKVM_SPLIT_AUTO || a[1] > PKVM_LEVEL_4K)
		return -EINVAL;
	if (policy == PKVM_SPLIT_AUTO)
		ret = s2_set_split_policy(&hyp->pgt, auto_policy(hyp), 0);
	else
		ret = s2_set_split_policy(&hyp->pgt, (enum pkvm_split_policy)policy,
					  (u32)a[1]);
	if (!ret)
		hyp->split_auto = policy == PKVM_SPLIT_AUTO;
	return ret;
}

/* One consistent reading: the hook updates them under the engine's lock. */
static s64 hook_stat(struct pkvm_iommu_hyp *hyp, u64 id)
{
	u64 v;

	hyp_spin_lock(&hyp->pgt.lock);
	v = id == PKVM_IOMMU_STAT_HOOK_TRANSITIONS ? hyp->hook.transitions :
	    id == PKVM_IOMMU_STAT_HOOK_NS ? hyp->hook.ns : hyp->hook.max_ns;
	hyp_spin_unlock(&hyp->pgt.lock);
	return (s64)(v & ~(1ull << 63));
}

static s64 hvc_stats_read(struct pkvm_iommu_hyp *hyp, u64 id)
{
	const struct s2_pgtable *pgt = &hyp->pgt;
	const struct s2_stats *st = &pgt->stats;

	switch (id) {
	case PKVM_IOMMU_STAT_DONATE: return (s64)st->ops[PKVM_IOMMU_OP_DONATE];
	case PKVM_IOMMU_STAT_RECLAIM: return (s64)st->ops[PKVM_IOMMU_OP_RECLAIM];
	case PKVM_IOMMU_STAT_SHARE: return (s64)st->ops[PKVM_IOMMU_OP_SHARE];
	case PKVM_IOMMU_STAT_UNSHARE: return (s64)st->ops[PKVM_IOMMU_OP_UNSHARE];
	case PKVM_IOMMU_STAT_ERRORS: return (s64)st->errors;
	case PKVM_IOMMU_STAT_DESC_WRITES: return (s64)st->desc_writes;
	case PKVM_IOMMU_STAT_TLBI_RANGES: return (s64)st->tlbi_ranges;
	case PKVM_IOMMU_STAT_TLBI_FULL: return (s64)st->tlbi_full;
	case PKVM_IOMMU_STAT_SYNCS: return (s64)st->flushes;
	case PKVM_IOMMU_STAT_SPLITS: return (s64)st->splits;
	case PKVM_IOMMU_STAT_FOLDS: return (s64)st->folds;
	case PKVM_IOMMU_STAT_BBM_BREAKS: return (s64)st->bbm_breaks;
	case PKVM_IOMMU_STAT_TABLE_PAGES: return (s64)pgt->table_pages;
	case PKVM_IOMMU_STAT_POOL_FREE: return (s64)pgt->pool.nr_free;
	case PKVM_IOMMU_STAT_MEM_PAGES: return (s64)pgt->mem_pages;
	case PKVM_IOMMU_STAT_SPLIT_POLICY:
		return hyp->split_auto ? PKVM_SPLIT_AUTO : pgt->policy;
	case PKVM_IOMMU_STAT_HOOK_TRANSITIONS:
	case PKVM_IOMMU_STAT_HOOK_NS:
	case PKVM_IOMMU_STAT_HOOK_MAX_NS:
		return hook_stat(hyp, id);
	case PKVM_IOMMU_STAT_SEED_NS: return (s64)hyp->seed_ns;
	case PKVM_IOMMU_STAT_TABLE_FILLS: return (s64)st->table_fills;
	case PKVM_IOMMU_STAT_COMPACTIONS: return (s64)st->ops[S2_OP_COMPACT];
	case PKVM_IOMMU_STAT_COMPACT_FOLDS: return (s64)st->compact_folds;
	case PKVM_IOMMU_STAT_PRESSURE_RELIEFS: return (s64)st->pressure_reliefs;
	case PKVM_IOMMU_STAT_FOLD_MODE: return (s64)pgt->fold;
	default: return -EINVAL;
	}
}

/* Is the page at pa the host's (shared or not), so the hyp may touch it? */
static int host_page(struct s2_pgtable *pgt, u64 pa)
{
	bool shared;
	u32 owner;
	int ret = s2_owner_of(pgt, pa, &owner, &shared);

	if (ret)
		return ret;
	return owner == PKVM_OWNER_HOST ? 0 : -EPERM;
}

/*
 * An answer of bytes at pa goes into one page the host owns, whole, and
 * is checked before anything is taken: a record once taken must not be
 * lost.
 */
static int out_page(struct s2_pgtable *pgt, u64 pa, u64 bytes)
{
	int ret;

	if (pa & 7 || (pa & ~HYP_PAGE_MASK) + bytes > HYP_PAGE_SIZE)
		return -EINVAL;
	ret = host_page(pgt, pa);
	if (ret)
		return ret;
	return hyp_mem_map(pa, bytes) ? 0 : -EFAULT;
}

/* How many items of item bytes fit after a header of hdr bytes at pa. */
static u64 page_room(u64 pa, u64 hdr, u64 item)
{
	u64 used = (pa & ~HYP_PAGE_MASK) + hdr;

	return used < HYP_PAGE_SIZE ? (HYP_PAGE_SIZE - used) / item : 0;
}

static s64 hvc_event_pop(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	struct smmu_dev *d = smmu_arg(hyp, a[0]);
	struct pkvm_iommu_event out;
	struct smmu_event ev;
	bool overflow = false;
	u64 pa = a[1];
	int ret;

	if (!d)
		return -ENODEV;
	ret = out_page(&hyp->pgt, pa, sizeof(out));
	if (ret)
		return ret;
	ret = smmu_dev_event_pop(d, &ev, &overflow);
	if (ret <= 0 && !overflow)
		return ret;
	out.type = ret > 0 ? ev.type : 0;
	out.sid = ret > 0 ? ev.sid : 0;
	out.addr = ret > 0 ? ev.addr : 0;
	out.flags = (ret > 0 && !ev.read ? 1 : 0) | (ret > 0 && ev.s2 ? 2 : 0) |
		    (overflow ? 4 : 0);
	ret = hyp_copy_to_host(pa, &out, sizeof(out));
	return ret ? ret : 1;
}

static s64 hvc_ring_pop(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	const u64 hdr_size = sizeof(struct pkvm_iommu_ring_hdr);
	const u64 rec_size = sizeof(struct s2_ring_rec);
	struct pkvm_iommu_ring_hdr hdr = { 0 };
	struct s2_ring_rec *recs = (struct s2_ring_rec *)hyp->answer;
	u64 pa = a[0], max = a[1];
	bool lost = false, l;
	int ret;

	if (!max || max > page_room(pa, hdr_size, rec_size))
		return -EINVAL;
	ret = out_page(&hyp->pgt, pa, hdr_size + max * rec_size);
	if (ret)
		return ret;
	/* The engine pushes under its lock, pKVM's hook included. */
	hyp_spin_lock(&hyp->pgt.lock);
	while (hdr.nr < max) {
		u32 n = s2_ring_pop(&hyp->ring, &recs[hdr.nr], 1, &l);

		lost |= l;
		if (!n)
			break;
		hdr.nr++;
	}
	hdr.generation = hyp->ring.generation;
	hdr.flags = lost ? PKVM_IOMMU_RING_LOST : 0;
	hyp_spin_unlock(&hyp->pgt.lock);
	/* Not under the engine's lock: see hyp->answer. */
	if (hdr.nr)
		hyp_copy_to_host(pa + hdr_size, recs, hdr.nr * rec_size);
	hyp_copy_to_host(pa, &hdr, hdr_size);
	return hdr.nr;
}

static s64 hvc_info(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	struct pkvm_iommu_hyp_info out = { 0 };
	int ret = out_page(&hyp->pgt, a[0], sizeof(out));

	if (ret)
		return ret;
	hyp_spin_lock(&hyp->pgt.lock);
	out.generation = hyp->ring.generation;
	out.ring_dropped = hyp->ring.dropped;
	hyp_spin_unlock(&hyp->pgt.lock);
	out.mem_pages = hyp->pgt.mem_pages;
	out.ias = hyp->pgt.ias;
	out.nr_smmus = hyp->nr_smmus;
	out.host_changes_refused = hyp->host_changes_refused;
	return hyp_copy_to_host(a[0], &out, sizeof(out));
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

static s64 hvc_smmu_info(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	struct smmu_dev *d = smmu_arg(hyp, a[0]);
	struct pkvm_iommu_hyp_smmu_info out = { 0 };
	int ret;

	if (!d)
		return -ENODEV;
	ret = out_page(&hyp->pgt, a[1], sizeof(out));
	if (ret)
		return ret;
	out.idr[0] = d->feat.idr0;
	out.idr[1] = d->feat.idr1;
	out.idr[3] = d->feat.idr3;
	out.idr[5] = d->feat.idr5;
	out.features = feature_bits(&d->feat);
	out.sidsize = d->feat.sidsize;
	out.oas = d->feat.oas_bits;
	out.bbml = d->feat.bbml;
	out.dead = d->dead;
	out.events = d->evtq.nr_events;
	out.overflows = d->evtq.nr_overflows;
	out.sync_timeouts = d->cmdq.nr_timeouts;
	out.cmd_errors = d->cmdq.nr_errors;
	return hyp_copy_to_host(a[1], &out, sizeof(out));
}

/* The ledger's runs as LEDGER_READ writes them, one maximal run at a time. */
struct ledger_cursor {
	struct pkvm_iommu_ledger_run *runs;	/* hyp->answer */
	u32 nr, max;
	struct pkvm_iommu_ledger_run run;	/* the run being built */
	bool memory, open;
};

static int ledger_put(struct ledger_cursor *cur)
{
	if (!cur->memory || (cur->run.owner == PKVM_OWNER_HOST && !cur->run.flags))
		return 0;
	if (cur->nr == cur->max)
		return -ENOSPC;
	cur->runs[cur->nr++] = cur->run;
	return 0;
}

static int ledger_leaf(const struct s2_leaf *l, void *arg)
{
	struct ledger_cursor *cur = arg;
	u32 flags = l->shared ? PKVM_IOMMU_RUN_SHARED : 0;
	int ret;

	if (cur->open && cur->run.addr + cur->run.len == l->addr && cur->memory == l->memory &&
	    cur->run.owner == l->owner && cur->run.flags == flags) {
		cur->run.len += l->size;
		return 0;
	}
	if (cur->open) {
		ret = ledger_put(cur);
		if (ret)
			return ret;
	}
	cur->run = (struct pkvm_iommu_ledger_run){ .addr = l->addr, .len = l->size,
		.owner = l->owner, .flags = flags };
	cur->memory = l->memory;
	cur->open = true;
	return 0;
}

static s64 hvc_ledger_read(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	const u64 hdr_size = sizeof(struct pkvm_iommu_ledger_hdr);
	const u64 run_size = sizeof(struct pkvm_iommu_ledger_run);
	struct pkvm_iommu_ledger_hdr hdr = { 0 };
	u64 from = a[0], pa = a[1], max = a[2], top = 1ull << hyp->pgt.ias;
	struct ledger_cursor cur = {
		.runs = (struct pkvm_iommu_ledger_run *)hyp->answer };
	int ret;

	if (from & ~HYP_PAGE_MASK || !max || max > page_room(pa, hdr_size, run_size))
		return -EINVAL;
	if (from >= top)
		return -ERANGE;
	ret = out_page(&hyp->pgt, pa, hdr_size + max * run_size);
	if (ret)
		return ret;
	cur.max = (u32)max;
	/* One consistent table: pKVM's hook may change it meanwhile. */
	hyp_spin_lock(&hyp->pgt.lock);
	ret = s2_for_each_leaf(&hyp->pgt, from, top - from, ledger_leaf, &cur);
	if (!ret && cur.open)
		ret = ledger_put(&cur);
	hdr.generation = hyp->ring.generation;
	hyp_spin_unlock(&hyp->pgt.lock);
	if (ret && ret != -ENOSPC)
		return ret;
	/* Only a full page stops the walk early: the run that did not fit is next. */
	hdr.resume = ret ? cur.run.addr : top;
	hdr.flags = ret ? 0 : PKVM_IOMMU_LEDGER_END;
	hdr.nr = cur.nr;
	/* Not under the engine's lock: see hyp->answer. */
	if (cur.nr)
		hyp_copy_to_host(pa + hdr_size, cur.runs, cur.nr * run_size);
	hyp_copy_to_host(pa, &hdr, hdr_size);
	return cur.nr;
}

struct batch_reader {
	struct s2_pgtable *pgt;
	u64 pa;
};

/*
 * Each record is read just before its change, from a page checked to be
 * the host's at that moment: an earlier change of the same batch may have
 * donated the page that holds the rest of the array, and the hypervisor
 * must not act on (or leak through errors) what is now a guest's memory.
 */
static int batch_read(void *arg, u32 i, struct s2_batch_op *op)
{
	const struct batch_reader *r = arg;
	u64 pa = r->pa + (u64)i * sizeof(struct pkvm_iommu_op);
	struct pkvm_iommu_op rec;
	int ret = host_page(r->pgt, pa);

	if (!ret)
		ret = hyp_copy_from_host(&rec, pa, sizeof(rec));
	if (ret)
		return ret;
	if (rec.reserved || rec.op >= PKVM_IOMMU_OP_NR ||
	    rec.owner > PKVM_OWNER_MAX)
		return -EINVAL;
	op->op = rec.op;
	op->owner = rec.owner;
	op->addr = rec.addr;
	op->size = rec.len;
	return 0;
}

static s64 hvc_batch(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	const u64 rec = sizeof(struct pkvm_iommu_op);
	struct batch_reader r = { &hyp->pgt, a[0] };
	u64 nr = a[1], pa;
	s32 result;
	u32 done;
	int ret;

	/* Natural alignment keeps every record inside one page. */
	if (!nr || nr > PKVM_IOMMU_BATCH_MAX || a[0] & (rec - 1) ||
	    a[0] + nr * rec < a[0])
		return -EINVAL;
	/* Nothing to report into: refuse before any change. */
	ret = host_page(&hyp->pgt, a[0]);
	if (ret)
		return ret;
	if (!hyp_mem_map(a[0], nr * rec))
		return -EFAULT;
	ret = s2_batch(&hyp->pgt, (u32)nr, batch_read, &r, &done);
	if (ret == -ETIMEDOUT || ret == -EIO)
		return ret;
	if (done < nr) {
		/* Only into a page that is still the host's; else it is lost. */
		pa = a[0] + done * rec + HYP_OFFSETOF(struct pkvm_iommu_op, result);
		result = ret;
		if (!host_page(&hyp->pgt, pa))
			hyp_copy_to_host(pa, &result, sizeof(result));
	}
	return done;
}

void pkvm_iommu_hyp_setup(struct pkvm_iommu_hyp *hyp)
{
	hyp_memset(hyp, 0, sizeof(*hyp));
	hyp_spin_lock_init(&hyp->lock);
}

void pkvm_iommu_hyp_set_ownership(struct pkvm_iommu_hyp *hyp,
				  const struct pkvm_iommu_ownership *own)
{
	hyp_spin_lock(&hyp->lock);
	hyp->own = own;
	hyp_spin_unlock(&hyp->lock);
}

void pkvm_iommu_hyp_refuse_host_changes(struct pkvm_iommu_hyp *hyp)
{
	hyp_spin_lock(&hyp->lock);
	hyp->host_changes_refused = true;
	hyp_spin_unlock(&hyp->lock);
}

void pkvm_iommu_hyp_require_claims(struct pkvm_iommu_hyp *hyp)
{
	hyp_spin_lock(&hyp->lock);
	hyp->claims_only = true;
	hyp_spin_unlock(&hyp->lock);
}

int pkvm_iommu_hyp_claim_smmu(struct pkvm_iommu_hyp *hyp, u64 regs_pa, u64 size)
{
	void *regs;
	int ret;

	if (!regs_window_ok(regs_pa, size) || size < SMMU_REGS_SIZE ||
	    size & ~HYP_PAGE_MASK)
		return -EINVAL;
	hyp_spin_lock(&hyp->lock);
	ret = claimed(hyp, regs_pa) ? -EEXIST :
	      hyp->nr_claimed == PKVM_IOMMU_MAX_SMMUS ? -ENOSPC : 0;
	if (ret)
		goto unlock;
	/* SMMU_ADD maps the same registers again: the environment reuses this. */
	regs = hyp_mmio_map(regs_pa, size);
	if (!regs) {
		ret = -ENXIO;
		goto unlock;
	}
	/* Claimed even if it did not answer: nobody else may touch it now. */
	hyp->claimed[hyp->nr_claimed++] = regs_pa;
	ret = smmu_regs_abort_all(regs, SMMU_CMDQ_TIMEOUT_NS);
unlock:
	hyp_spin_unlock(&hyp->lock);
	return ret;
}

/*
 * pKVM's hook, under its host stage-2 lock and not under hyp->lock: a
 * configuration call may be waiting on pKVM (an SMMU's memory taken
 * through a donation), and the engine's own lock is what the change needs.
 */
int pkvm_iommu_host_prepare(struct pkvm_iommu_hyp *hyp, u64 addr, u64 size,
			    bool access, u32 owner)
{
	u64 t0;
	int ret;

	if (!hyp->ready)
		return 0;
	t0 = hyp_now_ns();
	ret = s2_host_prepare(&hyp->pgt, addr, size, access, owner);
	if (!ret) {
		/* Pending until its commit or cancel: no other prepare meanwhile. */
		hyp_spin_lock(&hyp->pgt.lock);
		hyp->hook.prepare_ns = hyp_now_ns() - t0;
		hyp_spin_unlock(&hyp->pgt.lock);
	}
	return ret;
}

int pkvm_iommu_host_commit(struct pkvm_iommu_hyp *hyp, u64 addr, u64 size,
			   bool access, u32 owner)
{
	u64 t0, dt;
	int ret;

	if (!hyp->ready)
		return 0;
	t0 = hyp_now_ns();
	ret = s2_host_commit(&hyp->pgt, addr, size, access, owner);
	dt = hyp_now_ns() - t0;
	hyp_spin_lock(&hyp->pgt.lock);
	dt += hyp->hook.prepare_ns;
	hyp->hook.prepare_ns = 0;
	hyp->hook.transitions++;
	hyp->hook.ns += dt;
	hyp->hook.max_ns = HYP_MAX(hyp->hook.max_ns, dt);
	hyp_spin_unlock(&hyp->pgt.lock);
	return ret;
}

void pkvm_iommu_host_cancel(struct pkvm_iommu_hyp *hyp)
{
	if (!hyp->ready)
		return;
	s2_host_cancel(&hyp->pgt);
	hyp_spin_lock(&hyp->pgt.lock);
	hyp->hook.prepare_ns = 0;
	hyp_spin_unlock(&hyp->pgt.lock);
}

static s64 hvc_compact(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	u32 folded;
	bool more;
	int ret;

	if (!a[0] || a[0] > PKVM_IOMMU_COMPACT_MAX)
		return -EINVAL;
	ret = s2_compact(&hyp->pgt, (u32)a[0], &folded, &more);
	if (ret)
		return ret;
	return (s64)folded | (more ? (s64)PKVM_IOMMU_COMPACT_MORE : 0);
}

static s64 hvc_fold_mode(struct pkvm_iommu_hyp *hyp, const u64 a[6])
{
	if (a[0] > PKVM_FOLD_LAZY)
		return -EINVAL;
	return s2_set_fold_mode(&hyp->pgt, (enum pkvm_fold_mode)a[0]);
}

/* The ownership calls of the host (refused under pKVM). */
static s64 host_change(struct pkvm_iommu_hyp *hyp, u64 fn, const u64 a[6])
{
	u32 op = (u32)(fn - PKVM_IOMMU_HVC_DONATE);

	/* Also what keeps BATCH's copies (under the engine's lock) off pKVM's hook. */
	if (hyp->host_changes_refused)
		return -EPERM;
	if (fn == PKVM_IOMMU_HVC_BATCH)
		return hvc_batch(hyp, a);
	/* Checked before narrowing, or 0x10002 would pass as owner 2. */
	if (op <= PKVM_IOMMU_OP_RECLAIM && a[2] > PKVM_OWNER_MAX)
		return -EINVAL;
	/* Share and unshare ignore the owner; the record keeps it as given. */
	return s2_change(&hyp->pgt, op, a[0], a[1], (u32)a[2], (u32)a[2]);
}

static s64 dispatch(struct pkvm_iommu_hyp *hyp, u64 fn, const u64 a[6])
{
	if (fn == PKVM_IOMMU_HVC_INIT)
		return hvc_init(hyp, a);
	if (!hyp->ready)
		return -ENODEV;
	switch (fn) {
	case PKVM_IOMMU_HVC_SMMU_ADD:
		return hvc_smmu_add(hyp, a);
	case PKVM_IOMMU_HVC_STREAM_ATTACH:
		return hvc_stream(hyp, a, a[2]);
	case PKVM_IOMMU_HVC_STREAM_DETACH:
		return hvc_stream(hyp, a, PKVM_STREAM_BLOCK);
	case PKVM_IOMMU_HVC_DONATE:
	case PKVM_IOMMU_HVC_RECLAIM:
	case PKVM_IOMMU_HVC_SHARE:
	case PKVM_IOMMU_HVC_UNSHARE:
	case PKVM_IOMMU_HVC_BATCH:
		return host_change(hyp, fn, a);
	case PKVM_IOMMU_HVC_SPLIT_POLICY:
		return hvc_split_policy(hyp, a);
	case PKVM_IOMMU_HVC_STATS_READ:
		return hvc_stats_read(hyp, a[0]);
	case PKVM_IOMMU_HVC_EVENT_POP:
		return hvc_event_pop(hyp, a);
	case PKVM_IOMMU_HVC_RING_POP:
		return hvc_ring_pop(hyp, a);
	case PKVM_IOMMU_HVC_INFO:
		return hvc_info(hyp, a);
	case PKVM_IOMMU_HVC_SMMU_INFO:
		return hvc_smmu_info(hyp, a);
	case PKVM_IOMMU_HVC_LEDGER_READ:
		return hvc_ledger_read(hyp, a);
	case PKVM_IOMMU_HVC_COMPACT:
		return hvc_compact(hyp, a);
	case PKVM_IOMMU_HVC_FOLD_MODE:
		return hvc_fold_mode(hyp, a);
	default:
		return -EOPNOTSUPP;
	}
}

/*
 * One lock for every call: adding an SMMU changes the set the engine's
 * flush walks, so ownership calls must not run beside it. Ownership calls
 * are serialised by the engine's own lock anyway.
 */
s64 pkvm_iommu_hvc(struct pkvm_iommu_hyp *hyp, u64 fn, const u64 args[6])
{
	s64 ret;

	hyp_spin_lock(&hyp->lock);
	ret = dispatch(hyp, fn, args);
	hyp_spin_unlock(&hyp->lock);
	return ret;
}
