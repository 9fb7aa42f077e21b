// SPDX-License-Identifier: GPL-2.0
/* Event queue (IHI 0070 H.a, 3.5, 7.3). */
#include "smmu_evtq.h"
#include "smmu_cmdq.h"

/* Records that carry the transaction's address and the fault details. */
static bool is_fault_record(u8 type)
{
	switch (type) {
	case SMMU_EVT_F_WALK_EABT:
	case SMMU_EVT_F_TRANSLATION:
	case SMMU_EVT_F_ADDR_SIZE:
	case SMMU_EVT_F_ACCESS:
	case SMMU_EVT_F_PERMISSION:
		return true;
	default:
		return false;
	}
}

void smmu_event_decode(const u64 rec[SMMU_EVT_DWORDS], struct smmu_event *ev)
{
	hyp_memset(ev, 0, sizeof(*ev));
	ev->type = (u8)HYP_FIELD_GET(SMMU_EVT_0_ID, rec[0]);
	ev->sid = (u32)HYP_FIELD_GET(SMMU_EVT_0_SID, rec[0]);
	ev->ssv = rec[0] & SMMU_EVT_0_SSV;
	if (ev->ssv)
		ev->ssid = (u32)HYP_FIELD_GET(SMMU_EVT_0_SSID, rec[0]);

	if (ev->type == SMMU_EVT_F_STE_FETCH) {
		ev->fetch_addr = rec[3] & SMMU_EVT_3_FETCH_ADDR;
		return;
	}
	if (!is_fault_record(ev->type))
		return;
	ev->has_addr = true;
	ev->read = rec[1] & SMMU_EVT_1_RNW;
	ev->s2 = rec[1] & SMMU_EVT_1_S2;
	ev->class = (u8)HYP_FIELD_GET(SMMU_EVT_1_CLASS, rec[1]);
	ev->addr = rec[2];
	if (ev->type == SMMU_EVT_F_WALK_EABT)
		ev->fetch_addr = rec[3] & SMMU_EVT_3_FETCH_ADDR;
	else if (ev->s2)
		ev->ipa = rec[3] & SMMU_EVT_3_IPA;
}

int smmu_evtq_init(struct smmu_evtq *q, void *regs, u64 pa, u32 log2size,
		   u32 max_log2size, bool coherent)
{
	u64 bytes = (u64)SMMU_EVTQ_ENT_BYTES << log2size;

	hyp_memset(q, 0, sizeof(*q));
	if (smmu_q_check(pa, log2size, max_log2size, SMMU_EVTQ_ENT_BYTES))
		return -EINVAL;
	q->regs = regs;
	q->pa = pa;
	q->ring = hyp_phys_to_virt(pa);
	q->log2size = log2size;
	q->coherent = coherent;
	hyp_memset(q->ring, 0, bytes);
	return 0;
}

u64 smmu_evtq_base_reg(const struct smmu_evtq *q)
{
	/* WA: the SMMU writes records; let it allocate them in caches. */
	return (q->pa & SMMU_Q_BASE_ADDR) |
	       HYP_FIELD_PREP(SMMU_Q_BASE_LOG2SIZE, q->log2size) |
	       (q->coherent ? SMMU_Q_BASE_RWA : 0);
}

int smmu_evtq_pop(struct smmu_evtq *q, struct smmu_event *ev, bool *overflow)
{
	u32 prod_reg = hyp_readl(q->regs + SMMU_EVTQ_PROD);
	u32 prod = prod_reg & smmu_q_mask(q->log2size);
	u32 ovf = prod_reg & SMMU_EVTQ_PROD_OVFLG;
	u32 ack = hyp_readl(q->regs + SMMU_EVTQ_CONS) & SMMU_EVTQ_CONS_OVACKFLG;
	u64 rec[SMMU_EVT_DWORDS];
	const u64 *slot;

	/*
	 * OVFLG differing from our OVACKFLG: records were dropped while the
	 * queue was full, and the SMMU flags that once until acknowledged
	 * (IHI 0070 H.a, 3.5 queues, 7.4 Event queue overflow; 6.3 SMMU_EVTQ_PROD.OVFLG,
	 * SMMU_EVTQ_CONS.OVACKFLG). The next CONS write carries OVFLG's
	 * value as OVACKFLG: that is the acknowledgement, and a later
	 * overflow toggles OVFLG again.
	 */
	*overflow = ovf != ack;
	if (*overflow)
		q->nr_overflows++;
	if (smmu_q_empty(q->log2size, prod, q->cons)) {
		if (*overflow)
			hyp_writel(q->cons | ovf, q->regs + SMMU_EVTQ_CONS);
		return 0;
	}
	slot = &q->ring[smmu_q_idx(q->log2size, q->cons) * SMMU_EVT_DWORDS];
	/*
	 * Read the record only after PROD said it is there. A non-coherent
	 * SMMU would also need the lines invalidated first; hyp_env.h has no
	 * invalidate, so such an SMMU needs the queue mapped non-cacheable.
	 */
	hyp_mb();
	for (u32 i = 0; i < SMMU_EVT_DWORDS; i++)
		rec[i] = slot[i];
	smmu_event_decode(rec, ev);
	q->cons = smmu_q_inc(q->log2size, q->cons);
	/* The slot may be reused once CONS moves: read it fully first. */
	hyp_mb();
	hyp_writel(q->cons | ovf, q->regs + SMMU_EVTQ_CONS);
	q->nr_events++;
	return 1;
}
