// SPDX-License-Identifier: GPL-2.0
/* SMMUv3 bring-up and stream configuration (IHI 0070 H.a, 6.3, 3.21). */
#include "smmu_dev.h"

static int regs_wait(u8 *regs, u64 timeout_ns, u32 off, u32 mask, u32 want)
{
	u64 start = hyp_now_ns();

	while ((hyp_readl(regs + off) & mask) != want) {
		if (hyp_now_ns() - start > timeout_ns)
			return -ETIMEDOUT;
		hyp_cpu_relax();
	}
	return 0;
}

static int wait_reg(struct smmu_dev *d, u32 off, u32 mask, u32 want)
{
	return regs_wait(d->regs, d->timeout_ns, off, mask, want);
}

/* A CR0 change is in effect only once CR0ACK shows it (6.3 SMMU_CR0ACK). */
static int regs_write_cr0(u8 *regs, u64 timeout_ns, u32 v)
{
	hyp_writel(v, regs + SMMU_CR0);
	return regs_wait(regs, timeout_ns, SMMU_CR0ACK, ~0u, v);
}

static int write_cr0(struct smmu_dev *d, u32 v)
{
	return regs_write_cr0(d->regs, d->timeout_ns, v);
}

/* While SMMUEN is 0 traffic follows GBPA: make that abort, never bypass. */
static int regs_gbpa_abort(u8 *regs, u64 timeout_ns)
{
	u32 gbpa = hyp_readl(regs + SMMU_GBPA);

	hyp_writel(gbpa | SMMU_GBPA_ABORT | SMMU_GBPA_UPDATE, regs + SMMU_GBPA);
	return regs_wait(regs, timeout_ns, SMMU_GBPA, SMMU_GBPA_UPDATE, 0);
}

static int gbpa_abort(struct smmu_dev *d)
{
	return regs_gbpa_abort(d->regs, d->timeout_ns);
}

static u32 cr1_value(const struct smmu_features *f)
{
	u32 cache = f->coherent ? SMMU_CR1_CACHE_WB : SMMU_CR1_CACHE_NC;
	u32 sh = f->coherent ? SMMU_SH_ISH : SMMU_SH_OSH;

	return (u32)(HYP_FIELD_PREP(SMMU_CR1_QUEUE_IC, cache) |
		     HYP_FIELD_PREP(SMMU_CR1_QUEUE_OC, cache) |
		     HYP_FIELD_PREP(SMMU_CR1_QUEUE_SH, sh) |
		     HYP_FIELD_PREP(SMMU_CR1_TABLE_IC, cache) |
		     HYP_FIELD_PREP(SMMU_CR1_TABLE_OC, cache) |
		     HYP_FIELD_PREP(SMMU_CR1_TABLE_SH, sh));
}

static int layout(struct smmu_dev *d, const struct smmu_dev_config *cfg)
{
	const struct smmu_features *f = &d->feat;
	int ret;

	ret = smmu_strtab_init(&d->strtab, f, cfg->strtab_fmt, cfg->sid_bits,
			       cfg->strtab_pa, cfg->strtab_size);
	if (ret)
		return ret;
	if (d->strtab.two_level && !cfg->l2_pages.alloc)
		return -EINVAL;
	ret = smmu_cmdq_init(&d->cmdq, d->regs, cfg->cmdq_pa, cfg->cmdq_log2,
			     f->cmdqs, f->coherent, f->sev);
	if (ret)
		return ret;
	d->cmdq.timeout_ns = d->timeout_ns;
	return smmu_evtq_init(&d->evtq, d->regs, cfg->evtq_pa, cfg->evtq_log2,
			      f->evtqs, f->coherent);
}

static int invalidate_all(struct smmu_dev *d)
{
	struct smmu_cmd c;
	int ret;

	/* Nothing cached before we owned the SMMU may survive into use. */
	smmu_cmd_cfgi_all(&c);
	ret = smmu_cmdq_add(&d->cmdq, &c);
	if (ret)
		return ret;
	smmu_cmd_tlbi_nsnh_all(&c);
	ret = smmu_cmdq_add(&d->cmdq, &c);
	if (ret)
		return ret;
	return smmu_cmdq_sync(&d->cmdq);
}

/* The architected sequence, on an SMMU that GBPA already makes abort. */
static int bring_up(struct smmu_dev *d, const struct smmu_dev_config *cfg)
{
	u8 *r = d->regs;
	u32 cr0;
	int ret;

	ret = write_cr0(d, 0);
	if (ret)
		return ret;
	/* Errors a previous owner left active would stop our command queue. */
	hyp_writel(hyp_readl(r + SMMU_GERROR), r + SMMU_GERRORN);

	hyp_writel(cr1_value(&d->feat), r + SMMU_CR1);
	/*
	 * PTM: our VMID is not the CPU's, broadcast TLBIs are not for us.
	 * RECINVSID: a device on an uncovered StreamID is worth an event.
	 */
	hyp_writel(SMMU_CR2_PTM | SMMU_CR2_RECINVSID, r + SMMU_CR2);

	hyp_writeq(smmu_strtab_base_reg(&d->strtab), r + SMMU_STRTAB_BASE);
	hyp_writel(smmu_strtab_cfg_reg(&d->strtab), r + SMMU_STRTAB_BASE_CFG);
	hyp_writeq(smmu_cmdq_base_reg(&d->cmdq), r + SMMU_CMDQ_BASE);
	hyp_writel(0, r + SMMU_CMDQ_PROD);
	hyp_writel(0, r + SMMU_CMDQ_CONS);
	hyp_writeq(smmu_evtq_base_reg(&d->evtq), r + SMMU_EVTQ_BASE);
	hyp_writel(0, r + SMMU_EVTQ_PROD);
	hyp_writel(0, r + SMMU_EVTQ_CONS);
	/* Tables and queue memory must be visible before the SMMU uses them. */
	hyp_wmb_dev();

	cr0 = SMMU_CR0_CMDQEN;
	ret = write_cr0(d, cr0);
	if (!ret)
		ret = invalidate_all(d);
	if (ret)
		return ret;
	cr0 |= SMMU_CR0_EVTQEN;
	ret = write_cr0(d, cr0);
	if (ret)
		return ret;
	hyp_writel(cfg->irq_ctrl, r + SMMU_IRQ_CTRL);
	ret = wait_reg(d, SMMU_IRQ_CTRLACK, ~0u, cfg->irq_ctrl);
	if (ret)
		return ret;
	return write_cr0(d, cr0 | SMMU_CR0_SMMUEN);
}

int smmu_dev_init(struct smmu_dev *d, const struct smmu_dev_config *cfg)
{
	int ret;

	hyp_memset(d, 0, sizeof(*d));
	hyp_spin_lock_init(&d->lock);
	d->regs = cfg->regs;
	d->timeout_ns = cfg->timeout_ns ? cfg->timeout_ns : SMMU_CMDQ_TIMEOUT_NS;
	d->l2_pages = cfg->l2_pages;

	/* Everything that can be refused is refused before the first write. */
	ret = smmu_probe(&d->feat, cfg->regs, cfg->pa_bits);
	if (ret)
		return ret;
	ret = layout(d, cfg);
	if (ret)
		return ret;

	ret = gbpa_abort(d);
	if (!ret)
		ret = bring_up(d, cfg);
	/*
	 * Half brought up, the SMMU may read its queues: turn it off again so
	 * the caller may reuse the memory, or say -ETIMEDOUT if it will not.
	 */
	if (ret && write_cr0(d, 0))
		ret = -ETIMEDOUT;
	return ret;
}

/*
 * With SMMU_CR0.SMMUEN 0 the SMMU does not translate: every incoming
 * transaction takes SMMU_GBPA's attributes, and GBPA.ABORT terminates it
 * with an abort (IHI 0070 H.a, 6.3 SMMU_CR0 and SMMU_GBPA). Neither
 * needs the command queue. ABORT is set even if it reads set already, in
 * case a previous owner's value came back, and SMMUEN is only cleared
 * once GBPA reads ABORT, since clearing it under a bypassing GBPA would
 * open all memory.
 */
int smmu_regs_abort_all(void *regs, u64 timeout_ns)
{
	regs_gbpa_abort(regs, timeout_ns);
	if (!(hyp_readl((u8 *)regs + SMMU_GBPA) & SMMU_GBPA_ABORT))
		return -ETIMEDOUT;
	return regs_write_cr0(regs, timeout_ns, 0);
}

/*
 * Why the whole SMMU and not only the streams of the change: an
 * invalidation that did not complete may have left any stream's
 * translations of the donated pages cached, and the only way to stop an
 * SMMU whose command queue does not answer is by its registers:
 * SMMU_GBPA.ABORT with SMMUEN 0 aborts every transaction (IHI 0070 H.a,
 * 6.3 SMMU_CR0, SMMU_GBPA). Bring-up set ABORT already. The STEs are made
 * abort as well (5.2 STE: V=1, Config 0b000 aborts every transaction
 * without an event), so that an SMMU that ignored the register writes
 * but fetches configuration again aborts too, and the table itself says
 * what the streams do now. That part cannot be confirmed (no CFGI can
 * complete): the registers are what holds.
 */
/*
 * A queue that went on after a command error still runs commands: ask it
 * to drop every cached STE and translation, without waiting (nothing
 * depends on it, the registers already stop all traffic) and only where
 * there is room, so a stuck queue costs nothing.
 */
static void drop_caches(struct smmu_dev *d)
{
	struct smmu_cmdq *q = &d->cmdq;
	struct smmu_cmd c;
	u32 slot;

	if (q->sfm || smmu_q_used(q->log2size, q->prod, q->cons) + 3 > (1u << q->log2size))
		return;
	smmu_cmd_cfgi_all(&c);
	smmu_cmdq_add(q, &c);
	smmu_cmd_tlbi_nsnh_all(&c);
	smmu_cmdq_add(q, &c);
	smmu_cmdq_sync_issue(q, &slot);
}

void smmu_dev_fail_closed(struct smmu_dev *d, int err)
{
	if (d->dead)
		return;
	d->dead = true;
	/*
	 * Only SMMUEN goes: the queues stay on, so the event queue still
	 * reports and the command queue can drop the caches.
	 */
	regs_gbpa_abort(d->regs, d->timeout_ns);
	if (hyp_readl(d->regs + SMMU_GBPA) & SMMU_GBPA_ABORT)
		write_cr0(d, hyp_readl(d->regs + SMMU_CR0) & ~SMMU_CR0_SMMUEN);
	smmu_strtab_abort_all(&d->strtab);
	drop_caches(d);
	/* A command error first, with its CMDQ_CONS.ERR: why it failed. */
	if (err == -EIO && !d->cmdq.sfm) {
		d->notices |= SMMU_NOTICE_CMD_ERROR;
		d->notice_cerror = d->cmdq.last_err;
	}
	d->notices |= SMMU_NOTICE_FAILED;
	d->notice_errno = (u32)-err;
}

int smmu_dev_event_pop(struct smmu_dev *d, struct smmu_event *ev, bool *overflow)
{
	u32 notice;

	hyp_spin_lock(&d->lock);
	notice = d->notices & -d->notices;	/* the cause first */
	d->notices &= ~notice;
	hyp_memset(ev, 0, sizeof(*ev));
	ev->sid = ~0u;
	ev->read = true;	/* no access: no write bit in EVENT_POP's flags */
	if (notice == SMMU_NOTICE_CMD_ERROR) {
		ev->type = PKVM_IOMMU_EVT_CMD_ERROR;
		ev->addr = d->notice_cerror;
	} else if (notice == SMMU_NOTICE_FAILED) {
		ev->type = PKVM_IOMMU_EVT_SMMU_FAILED;
		ev->addr = d->notice_errno;
	}
	hyp_spin_unlock(&d->lock);
	*overflow = false;
	return notice ? 1 : smmu_evtq_pop(&d->evtq, ev, overflow);
}

static int sync_ste(struct smmu_dev *d, u32 sid, bool leaf)
{
	struct smmu_cmd c;
	int ret;

	smmu_cmd_cfgi_ste(&c, sid, leaf);
	ret = smmu_cmdq_add(&d->cmdq, &c);
	return ret ? ret : smmu_cmdq_sync(&d->cmdq);
}

/* Does a live STE with this dword 0 read its other dwords? */
static bool uses_rest(u64 dw0)
{
	return (dw0 & SMMU_STE_0_V) &&
	       HYP_FIELD_GET(SMMU_STE_0_CONFIG, dw0) != SMMU_STE_CONFIG_ABORT;
}

/*
 * Change a live STE without the SMMU ever seeing a torn mix of old and new
 * (it may fetch at any time, 64 bits at a time; 3.21 structure update
 * rules). Dword 0 holds V and Config, so:
 *  - the rest unused now: write the rest, then dword 0, then CFGI+SYNC;
 *  - new one is abort: write dword 0, CFGI+SYNC, then tidy the rest;
 *  - both use the rest and it changes: break to abort first (DMA aborts
 *    meanwhile, it never bypasses nor uses half a configuration).
 */
static int ste_update(struct smmu_dev *d, u32 sid, u64 *ste,
		      const u64 new[SMMU_STE_DWORDS], bool leaf)
{
	const struct smmu_strtab *st = &d->strtab;
	u64 abort[SMMU_STE_DWORDS];
	bool rest_differs = false;
	int ret;

	for (u32 i = 1; i < SMMU_STE_DWORDS; i++)
		rest_differs |= hyp_read_pte(&ste[i]) != new[i];
	if (!rest_differs && hyp_read_pte(&ste[0]) == new[0] && leaf)
		return 0;
	d->nr_ste_writes++;

	if (rest_differs && uses_rest(hyp_read_pte(&ste[0]))) {
		if (!uses_rest(new[0])) {
			smmu_ste_store(st, ste, new, 0, 1);
			ret = sync_ste(d, sid, leaf);
			smmu_ste_store(st, ste, new, 1, SMMU_STE_DWORDS);
			return ret;
		}
		smmu_ste_block(abort);
		smmu_ste_store(st, ste, abort, 0, 1);
		ret = sync_ste(d, sid, leaf);
		if (ret)
			return ret;
	}
	smmu_ste_store(st, ste, new, 1, SMMU_STE_DWORDS);
	hyp_wmb_dev();
	smmu_ste_store(st, ste, new, 0, 1);
	return sync_ste(d, sid, leaf);
}

int smmu_stream_set(struct smmu_dev *d, u32 sid, enum smmu_policy policy,
		    const struct smmu_s2_params *s2)
{
	u64 new[SMMU_STE_DWORDS];
	bool leaf = true;
	u64 *ste;
	int ret;

	if ((u64)sid >> d->strtab.log2size)
		return -ERANGE;
	switch (policy) {
	case SMMU_POLICY_BLOCK:
		smmu_ste_block(new);
		break;
	case SMMU_POLICY_ISOLATE:
		if (!s2)
			return -EINVAL;
		ret = smmu_ste_isolate(new, s2, &d->feat);
		if (ret)
			return ret;
		break;
	default:
		return -EINVAL;
	}

	hyp_spin_lock(&d->lock);
	if (d->dead) {
		hyp_spin_unlock(&d->lock);
		return -EIO;
	}
	ste = smmu_strtab_ste(&d->strtab, sid);
	if (!ste) {
		u64 l2 = d->l2_pages.alloc(d->l2_pages.cookie);

		if (!l2 || !HYP_IS_ALIGNED(l2, HYP_PAGE_SIZE)) {
			hyp_spin_unlock(&d->lock);
			return -ENOMEM;
		}
		smmu_strtab_link_l2(&d->strtab, sid, l2);
		ste = smmu_strtab_ste(&d->strtab, sid);
		/* The new L1 descriptor is part of what the SMMU must re-read. */
		leaf = false;
	}
	ret = ste_update(d, sid, ste, new, leaf);
	/*
	 * A CFGI that did not complete, or that the SMMU refused, leaves
	 * its view of the stream unknown: it fails closed, as for an
	 * invalidation.
	 */
	if (ret == -EIO || ret == -ETIMEDOUT)
		smmu_dev_fail_closed(d, ret);
	hyp_spin_unlock(&d->lock);
	return ret;
}

int smmu_dev_sync(struct smmu_dev *d)
{
	int ret;

	hyp_spin_lock(&d->lock);
	ret = smmu_cmdq_sync(&d->cmdq);
	hyp_spin_unlock(&d->lock);
	return ret;
}

enum pkvm_split_policy smmu_split_policy_auto(const struct smmu_features *f)
{
	/* BBML2: a block may be replaced by a table (and back) while live. */
	return f->bbml >= 2 ? PKVM_SPLIT_HITLESS : PKVM_SPLIT_BBM;
}

enum pkvm_split_policy smmu_split_policy_auto_all(struct smmu_dev *const *devs,
						  u32 nr)
{
	for (u32 i = 0; i < nr; i++)
		if (smmu_split_policy_auto(&devs[i]->feat) != PKVM_SPLIT_HITLESS)
			return PKVM_SPLIT_BBM;
	return PKVM_SPLIT_HITLESS;
}
