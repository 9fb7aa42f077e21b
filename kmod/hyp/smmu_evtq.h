/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event queue consumer and event record decoding into what the host side
 * forwards (IHI 0070 H.a, 3.5 Command and Event queues, 7.3 Event records).
 */
#ifndef PKVM_SMMU_EVTQ_H
#define PKVM_SMMU_EVTQ_H

#include "hyp_env.h"
#include "smmu_regs.h"

#define SMMU_EVTQ_ENT_BYTES	32u

struct smmu_event {
	u16 type;		/* SMMU_EVT_*, or PKVM_IOMMU_EVT_* (smmu_dev_event_pop) */
	u8 class;		/* SMMU_EVT_CLASS_*, fault records only */
	bool s2;		/* fault at stage 2 */
	bool read;		/* RnW: the access was a read */
	bool has_addr;		/* addr (and ipa or fetch_addr) are valid */
	bool ssv;
	u32 sid;
	u32 ssid;
	u64 addr;		/* input address of the transaction */
	u64 ipa;		/* stage 2 faults: the faulting IPA */
	u64 fetch_addr;		/* F_STE_FETCH, F_WALK_EABT: what could not be read */
};

struct smmu_evtq {
	u8 *regs;
	u64 *ring;
	u64 pa;
	u32 log2size;
	u32 cons;		/* with wrap bit */
	bool coherent;
	u64 nr_events;
	/*
	 * Times the SMMU reported lost records. The architecture says only
	 * that records were lost (EVTQ_PROD.OVFLG), not how many: each
	 * overflow counts once, however many it dropped.
	 */
	u64 nr_overflows;
};

/* Decode one 32-byte record; unknown types keep type and sid only. */
void smmu_event_decode(const u64 rec[SMMU_EVT_DWORDS], struct smmu_event *ev);

/* Ring at pa: 32 << log2size bytes, aligned to that size. */
int smmu_evtq_init(struct smmu_evtq *q, void *regs, u64 pa, u32 log2size,
		   u32 max_log2size, bool coherent);
u64 smmu_evtq_base_reg(const struct smmu_evtq *q);

/*
 * Take the oldest record: 1 with *ev filled, 0 when empty. *overflow is set
 * (and the overflow acknowledged) when the SMMU dropped records since the
 * last call: the host must then resynchronise rather than trust the stream.
 */
int smmu_evtq_pop(struct smmu_evtq *q, struct smmu_event *ev, bool *overflow);

#endif /* PKVM_SMMU_EVTQ_H */
