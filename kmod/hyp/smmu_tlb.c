// SPDX-License-Identifier: GPL-2.0
/* Gather -> TLB invalidation commands (IHI 0070 H.a, 4.4, 4.7). */
#include "smmu_tlb.h"

#define GRANULE_4K	HYP_PAGE_SIZE
#define FLUSH_ERROR_ROUNDS	8u

const struct s2_tlb_ops smmu_tlb_ops = { .flush = smmu_tlb_flush };

/*
 * [start, end) with range commands, each covering (NUM+1) * 2^SCALE pages:
 * take the lowest set bit of the page count as SCALE and the five bits
 * above it as NUM+1, so a range needs one command per 5-bit window of its
 * page count (the split Linux uses). TTL stays 0: a merged range may hold
 * leaves of several levels and the gather only knows the smallest, so
 * naming a level could leave a larger block cached. A lone page uses the
 * single-address form, which avoids range commands with NUM = SCALE = 0
 * that Linux steers clear of for errata.
 */
static int emit_ranges(struct smmu_cmdq *q, u16 vmid, u64 start, u64 end,
		       bool leaf)
{
	u64 pages = (end - start) >> HYP_PAGE_SHIFT;
	u64 addr = start;
	struct smmu_cmd c;
	int ret;

	while (pages) {
		u32 scale = (u32)__builtin_ctzll(pages);
		u64 num;

		if (scale > SMMU_TLBI_SCALE_MAX) {
			scale = SMMU_TLBI_SCALE_MAX;
			num = HYP_MIN(pages >> scale, SMMU_TLBI_NUM_MAX + 1ull);
		} else {
			num = (pages >> scale) & SMMU_TLBI_NUM_MAX;
		}
		if (num == 1 && scale == 0)
			smmu_cmd_tlbi_s2_ipa(&c, vmid, addr, leaf);
		else
			smmu_cmd_tlbi_s2_range(&c, vmid, addr, (u32)num - 1, scale,
					       SMMU_TLBI_TG_4K, 0, leaf);
		ret = smmu_cmdq_add(q, &c);
		if (ret)
			return ret;
		addr += num << (scale + HYP_PAGE_SHIFT);
		pages -= num << scale;
	}
	return 0;
}

/* One command per step of the smallest leaf size: each hits every leaf. */
static int emit_granules(struct smmu_cmdq *q, u16 vmid,
			 const struct s2_inv_range *r, bool leaf)
{
	u64 step = r->granule;
	struct smmu_cmd c;
	int ret;

	if (step < GRANULE_4K || (step & (step - 1)))
		step = GRANULE_4K;
	for (u64 a = HYP_ALIGN_DOWN(r->start, step); a < r->end; a += step) {
		smmu_cmd_tlbi_s2_ipa(&c, vmid, a, leaf);
		ret = smmu_cmdq_add(q, &c);
		if (ret)
			return ret;
	}
	return 0;
}

static u64 granule_cost(const struct s2_gather *g)
{
	u64 cost = 0;

	for (u32 i = 0; i < g->nr; i++) {
		u64 step = g->r[i].granule >= GRANULE_4K ? g->r[i].granule : GRANULE_4K;

		cost += (g->r[i].end - g->r[i].start + step - 1) / step;
	}
	return cost;
}

int smmu_tlb_emit(struct smmu_cmdq *q, bool ril, u16 vmid,
		  const struct s2_gather *g)
{
	bool leaf = !g->walk;
	struct smmu_cmd c;
	int ret;

	/*
	 * The engine's threshold normally decides; the second test keeps an
	 * SMMU without RIL bounded even if nobody set that threshold.
	 */
	if (g->full || (!ril && granule_cost(g) > SMMU_TLB_PER_GRANULE_MAX)) {
		smmu_cmd_tlbi_s12_vmall(&c, vmid);
		return smmu_cmdq_add(q, &c);
	}
	for (u32 i = 0; i < g->nr; i++) {
		const struct s2_inv_range *r = &g->r[i];

		if (r->end <= r->start)
			continue;
		if (ril)
			ret = emit_ranges(q, vmid, HYP_ALIGN_DOWN(r->start, GRANULE_4K),
					  r->end, leaf);
		else
			ret = emit_granules(q, vmid, r, leaf);
		if (ret)
			return ret;
	}
	return 0;
}

/* Queue g and CMD_SYNC on one SMMU; a failure fails it closed. */
static int flush_issue(struct smmu_dev *d, u16 vmid, const struct s2_gather *g,
		       u32 *slot)
{
	int ret;

	hyp_spin_lock(&d->lock);
	if (d->dead) {
		hyp_spin_unlock(&d->lock);
		return -ENODEV;
	}
	ret = smmu_tlb_emit(&d->cmdq, d->feat.ril, vmid, g);
	if (!ret)
		ret = smmu_cmdq_sync_issue(&d->cmdq, slot);
	if (ret)
		smmu_dev_fail_closed(d, ret);
	hyp_spin_unlock(&d->lock);
	return ret;
}

/*
 * One look at d's sync: 0 done, -EAGAIN pending, else it failed closed.
 * A command error (7.1) was skipped and acknowledged by the queue, which
 * then runs on; but the invalidation it was part of did not happen as
 * asked, on an SMMU that refuses what its ID registers promised: the
 * SMMU fails closed as for a sync that never completes.
 */
static int flush_poll(struct smmu_dev *d, u32 slot, u64 start, u64 now,
		      bool errors)
{
	int ret = 0;

	hyp_spin_lock(&d->lock);
	/* Failed closed meanwhile (by another caller): it translates nothing. */
	if (!d->dead) {
		ret = smmu_cmdq_sync_poll(&d->cmdq, slot, start, now, errors);
		if (ret && ret != -EAGAIN)
			smmu_dev_fail_closed(d, ret);
	}
	hyp_spin_unlock(&d->lock);
	return ret;
}

int smmu_tlb_flush(void *cookie, const struct s2_gather *g)
{
	struct smmu_tlb_domain *dom = cookie;
	u32 slot[SMMU_TLB_MAX_DEVS];
	int st[SMMU_TLB_MAX_DEVS];
	u32 n = dom->nr_devs;
	u32 left = 0;
	u64 start, now;
	int err = 0;

	/*
	 * Start every SMMU's invalidation and CMD_SYNC before waiting for
	 * any: they drain in parallel, so a flush over several SMMUs costs
	 * about one sync. The lock is dropped in between (one SMMU lock at a
	 * time, no order to keep across SMMUs); the slot stays ours.
	 *
	 * A failing SMMU must not keep the others from being invalidated,
	 * and must not go on translating: it fails closed (aborts all its
	 * traffic), which is what makes the change complete there too. The
	 * error still tells the caller that an SMMU died.
	 */
	for (u32 i = 0; i < n; i++) {
		st[i] = flush_issue(dom->devs[i], dom->vmid, g, &slot[i]);
		if (!st[i])
			st[i] = -EAGAIN;
		else if (st[i] == -ENODEV)
			st[i] = 0;	/* dead before this flush: already closed */
		left += st[i] == -EAGAIN;
	}
	/*
	 * Then poll every pending SMMU once per round, not one SMMU to the
	 * end and then the next: the flush ends one poll after the slowest
	 * sync, instead of a full wait loop per SMMU after the first. Each
	 * SMMU keeps its own timeout from the same start.
	 */
	start = hyp_now_ns();
	now = start;
	for (u32 round = 0; left; round++) {
		/*
		 * GERROR every FLUSH_ERROR_ROUNDS rounds: a stopped queue
		 * waits that much longer to be seen, and every other round
		 * is one read per pending SMMU.
		 */
		bool errors = !(round % FLUSH_ERROR_ROUNDS);

		for (u32 i = 0; i < n; i++) {
			if (st[i] != -EAGAIN)
				continue;
			st[i] = flush_poll(dom->devs[i], slot[i], start, now, errors);
			left -= st[i] != -EAGAIN;
		}
		if (left) {
			hyp_cpu_relax();
			now = hyp_now_ns();
		}
	}
	for (u32 i = 0; i < n && !err; i++)
		err = st[i];
	return err;
}

int smmu_tlb_domain_add(struct smmu_tlb_domain *dom, struct smmu_dev *d)
{
	for (u32 i = 0; i < dom->nr_devs; i++)
		if (dom->devs[i] == d)
			return -EEXIST;
	if (dom->nr_devs == SMMU_TLB_MAX_DEVS)
		return -ENOSPC;
	dom->devs[dom->nr_devs] = d;
	/* pKVM's hook flushes without the configuration lock: publish whole. */
	hyp_mb();
	dom->nr_devs++;
	return 0;
}

u64 smmu_tlb_full_threshold(const struct smmu_features *f)
{
	/* With RIL a handful of commands covers any range: never flush all. */
	return f->ril ? ~0ull : SMMU_TLB_PER_GRANULE_MAX;
}

u64 smmu_tlb_domain_threshold(const struct smmu_tlb_domain *dom)
{
	u64 t = ~0ull;

	for (u32 i = 0; i < dom->nr_devs; i++)
		t = HYP_MIN(t, smmu_tlb_full_threshold(&dom->devs[i]->feat));
	return t;
}

void smmu_tlb_set_threshold(struct s2_pgtable *pgt,
			    const struct smmu_tlb_domain *dom)
{
	hyp_spin_lock(&pgt->lock);
	pgt->full_threshold = smmu_tlb_domain_threshold(dom);
	hyp_spin_unlock(&pgt->lock);
}
