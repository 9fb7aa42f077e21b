// SPDX-License-Identifier: GPL-2.0
/* Command encoders and queue (IHI 0070 H.a, chapter 4, 3.5, 7.1). */
#include "smmu_cmdq.h"

static void cmd_init(struct smmu_cmd *c, u32 op)
{
	c->w[0] = HYP_FIELD_PREP(SMMU_CMD_OP, op);
	c->w[1] = 0;
}

void smmu_cmd_cfgi_ste(struct smmu_cmd *c, u32 sid, bool leaf)
{
	cmd_init(c, SMMU_OP_CFGI_STE);
	c->w[0] |= HYP_FIELD_PREP(SMMU_CMD_CFGI_0_SID, sid);
	/* Leaf=0 also drops a cached L1 descriptor of a two-level table. */
	c->w[1] |= leaf ? SMMU_CMD_CFGI_1_LEAF : 0;
}

void smmu_cmd_cfgi_all(struct smmu_cmd *c)
{
	cmd_init(c, SMMU_OP_CFGI_ALL);
	c->w[1] |= HYP_FIELD_PREP(SMMU_CMD_CFGI_1_RANGE, SMMU_CFGI_RANGE_ALL);
}

void smmu_cmd_tlbi_s2_ipa(struct smmu_cmd *c, u16 vmid, u64 ipa, bool leaf)
{
	cmd_init(c, SMMU_OP_TLBI_S2_IPA);
	c->w[0] |= HYP_FIELD_PREP(SMMU_CMD_TLBI_0_VMID, vmid);
	c->w[1] |= (ipa & SMMU_CMD_TLBI_1_IPA) | (leaf ? SMMU_CMD_TLBI_1_LEAF : 0);
}

void smmu_cmd_tlbi_s2_range(struct smmu_cmd *c, u16 vmid, u64 ipa, u32 num,
			    u32 scale, u32 tg, u32 ttl, bool leaf)
{
	smmu_cmd_tlbi_s2_ipa(c, vmid, ipa, leaf);
	c->w[0] |= HYP_FIELD_PREP(SMMU_CMD_TLBI_0_NUM, num) |
		   HYP_FIELD_PREP(SMMU_CMD_TLBI_0_SCALE, scale);
	c->w[1] |= HYP_FIELD_PREP(SMMU_CMD_TLBI_1_TG, tg) |
		   HYP_FIELD_PREP(SMMU_CMD_TLBI_1_TTL, ttl);
}

void smmu_cmd_tlbi_s12_vmall(struct smmu_cmd *c, u16 vmid)
{
	cmd_init(c, SMMU_OP_TLBI_S12_VMALL);
	c->w[0] |= HYP_FIELD_PREP(SMMU_CMD_TLBI_0_VMID, vmid);
}

void smmu_cmd_tlbi_nsnh_all(struct smmu_cmd *c)
{
	cmd_init(c, SMMU_OP_TLBI_NSNH_ALL);
}

void smmu_cmd_sync(struct smmu_cmd *c, u32 cs)
{
	cmd_init(c, SMMU_OP_CMD_SYNC);
	c->w[0] |= HYP_FIELD_PREP(SMMU_CMD_SYNC_0_CS, cs);
}

int smmu_cmdq_init(struct smmu_cmdq *q, void *regs, u64 pa, u32 log2size,
		   u32 max_log2size, bool coherent, bool sev)
{
	u64 bytes = (u64)SMMU_CMDQ_ENT_BYTES << log2size;

	hyp_memset(q, 0, sizeof(*q));
	if (smmu_q_check(pa, log2size, max_log2size, SMMU_CMDQ_ENT_BYTES))
		return -EINVAL;
	q->regs = regs;
	q->pa = pa;
	q->ring = hyp_phys_to_virt(pa);
	q->log2size = log2size;
	q->coherent = coherent;
	q->sync_cs = sev ? SMMU_SYNC_CS_SEV : SMMU_SYNC_CS_NONE;
	q->timeout_ns = SMMU_CMDQ_TIMEOUT_NS;
	hyp_memset(q->ring, 0, bytes);
	return 0;
}

u64 smmu_cmdq_base_reg(const struct smmu_cmdq *q)
{
	return (q->pa & SMMU_Q_BASE_ADDR) |
	       HYP_FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, q->log2size) |
	       (q->coherent ? SMMU_Q_BASE_RWA : 0);
}

static void publish(struct smmu_cmdq *q)
{
	if (q->published == q->prod)
		return;
	/* Entries before PROD: the SMMU may read them as soon as PROD moves. */
	hyp_wmb_dev();
	hyp_writel(q->prod, q->regs + SMMU_CMDQ_PROD);
	q->published = q->prod;
}

/*
 * A command error stops the queue at the failing entry: CMDQ_CONS points
 * at it with the reason in CMDQ_CONS.ERR (CERROR_ILL for an illegal
 * command), GERROR.CMDQ_ERR is toggled, and the SMMU consumes nothing
 * more until software makes GERRORN.CMDQ_ERR equal again (IHI 0070 H.a,
 * 7.1 Command queue errors; 6.3 SMMU_CMDQ_CONS, SMMU_GERROR,
 * SMMU_GERRORN). Put a CMD_SYNC in its place, as Linux does, so that
 * acknowledging the error lets the queue run on instead of faulting on
 * the same entry again. What the bad command stood for is not done: the
 * callers (smmu_tlb.c, smmu_dev.c) fail the SMMU closed.
 */
static int handle_error(struct smmu_cmdq *q, u32 gerror, u32 gerrorn)
{
	u32 cons = hyp_readl(q->regs + SMMU_CMDQ_CONS);
	u64 *slot = &q->ring[smmu_q_idx(q->log2size, cons) * 2];
	struct smmu_cmd sync;

	if ((gerror ^ gerrorn) & SMMU_GERROR_SFM_ERR) {
		q->sfm = true;
		return -EIO;	/* service failure: nothing more will complete */
	}
	q->nr_errors++;
	q->last_err = (u32)HYP_FIELD_GET(SMMU_CMDQ_CONS_ERR, cons);
	smmu_cmd_sync(&sync, SMMU_SYNC_CS_NONE);
	slot[0] = sync.w[0];
	slot[1] = sync.w[1];
	if (!q->coherent)
		hyp_clean_dcache(slot, SMMU_CMDQ_ENT_BYTES);
	hyp_wmb_dev();
	q->gerrorn = (gerrorn & ~SMMU_GERROR_CMDQ_ERR) | (gerror & SMMU_GERROR_CMDQ_ERR);
	hyp_writel(q->gerrorn, q->regs + SMMU_GERRORN);
	return -EIO;
}

/*
 * Any command error or service failure the SMMU reports? An error is
 * active while GERROR and GERRORN differ in its bit (6.3 SMMU_GERROR,
 * SMMU_GERRORN). GERRORN is software's register: the SMMU never writes
 * it, and after bring-up only handle_error() does, so its value is read
 * once and then known. A poll then costs one register read for errors,
 * not two.
 */
static int check_errors(struct smmu_cmdq *q)
{
	u32 gerror = hyp_readl(q->regs + SMMU_GERROR);

	if (!q->gerrorn_known) {
		q->gerrorn = hyp_readl(q->regs + SMMU_GERRORN);
		q->gerrorn_known = true;
	}
	if ((gerror ^ q->gerrorn) & (SMMU_GERROR_CMDQ_ERR | SMMU_GERROR_SFM_ERR))
		return handle_error(q, gerror, q->gerrorn);
	return 0;
}

static void read_cons(struct smmu_cmdq *q)
{
	q->cons = hyp_readl(q->regs + SMMU_CMDQ_CONS) & smmu_q_mask(q->log2size);
}

/* The entry at 'slot' was consumed once fewer entries remain than follow it. */
static bool consumed(const struct smmu_cmdq *q, u32 slot)
{
	u32 after = smmu_q_used(q->log2size, q->prod, smmu_q_inc(q->log2size, slot));

	return smmu_q_used(q->log2size, q->prod, q->cons) <= after;
}

/*
 * Wait for room for one more command. CONS only moves forward and a
 * stopped queue (7.1) never frees room, so CONS is read first and the
 * error registers only while the queue is still full.
 */
static int wait_space(struct smmu_cmdq *q)
{
	u64 start = hyp_now_ns();
	int ret;

	for (;;) {
		read_cons(q);
		if (!smmu_q_full(q->log2size, q->prod, q->cons))
			return 0;
		ret = check_errors(q);
		if (ret)
			return ret;
		if (hyp_now_ns() - start > q->timeout_ns) {
			q->nr_timeouts++;
			return -ETIMEDOUT;
		}
		hyp_cpu_relax();
	}
}

int smmu_cmdq_add(struct smmu_cmdq *q, const struct smmu_cmd *c)
{
	u64 *slot;
	int ret;

	if (smmu_q_full(q->log2size, q->prod, q->cons)) {
		publish(q);
		ret = wait_space(q);
		if (ret)
			return ret;
	}
	slot = &q->ring[smmu_q_idx(q->log2size, q->prod) * 2];
	slot[0] = c->w[0];
	slot[1] = c->w[1];
	if (!q->coherent)
		hyp_clean_dcache(slot, SMMU_CMDQ_ENT_BYTES);
	q->prod = smmu_q_inc(q->log2size, q->prod);
	q->nr_cmds++;
	return 0;
}

int smmu_cmdq_sync_issue(struct smmu_cmdq *q, u32 *slot)
{
	struct smmu_cmd sync;
	int ret;

	smmu_cmd_sync(&sync, q->sync_cs);
	*slot = q->prod;
	ret = smmu_cmdq_add(q, &sync);
	if (ret)
		return ret;
	q->nr_syncs++;
	publish(q);
	return 0;
}

int smmu_cmdq_sync_poll(struct smmu_cmdq *q, u32 slot, u64 start, u64 now,
			bool errors)
{
	int ret;

	/*
	 * CONS first: past our CMD_SYNC, every command before it completed,
	 * and an error on one of them would have stopped the queue there
	 * (7.1) until acknowledged. So a completed sync costs one register
	 * read; GERROR and GERRORN are looked at only while it is pending.
	 */
	read_cons(q);
	if (consumed(q, slot))
		return 0;
	ret = errors ? check_errors(q) : 0;
	if (ret)
		return ret;
	if (now - start > q->timeout_ns) {
		q->nr_timeouts++;
		return -ETIMEDOUT;
	}
	return -EAGAIN;
}

int smmu_cmdq_sync_wait(struct smmu_cmdq *q, u32 slot)
{
	u64 start = hyp_now_ns();
	u64 now = start;
	int ret;

	while ((ret = smmu_cmdq_sync_poll(q, slot, start, now, true)) == -EAGAIN) {
		hyp_cpu_relax();
		now = hyp_now_ns();
	}
	return ret;
}

int smmu_cmdq_sync(struct smmu_cmdq *q)
{
	u32 slot;
	int ret;

	ret = smmu_cmdq_sync_issue(q, &slot);
	return ret ? ret : smmu_cmdq_sync_wait(q, slot);
}
