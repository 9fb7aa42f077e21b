/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command encoders and the command queue.
 *
 * The queue is a ring of 2^log2size 16-byte entries in memory the SMMU
 * reads. PROD (ours) and CONS (the SMMU's) are each an index plus a wrap
 * bit just above it (IHI 0070 H.a, 3.5 Command and Event queues): equal
 * index and equal wrap means empty, equal index and different wrap means
 * full. One producer only: the callers serialise (smmu_dev's lock).
 *
 * Every wait is bounded by timeout_ns of hyp_now_ns(); a wedged SMMU is an
 * error (-ETIMEDOUT) for the caller, never a hang at EL2.
 */
#ifndef PKVM_SMMU_CMDQ_H
#define PKVM_SMMU_CMDQ_H

#include "hyp_env.h"
#include "smmu_regs.h"

#define SMMU_CMDQ_ENT_BYTES		16u
#define SMMU_CMDQ_TIMEOUT_NS		1000000000ull	/* as Linux: 1 s */

struct smmu_cmd {
	u64 w[2];
};

/* ---- encoders (4.3, 4.4, 4.7); pure, the words are the architecture's ---- */
void smmu_cmd_cfgi_ste(struct smmu_cmd *c, u32 sid, bool leaf);
void smmu_cmd_cfgi_all(struct smmu_cmd *c);
/* One IPA (TG = 0): every entry for vmid that translates ipa. */
void smmu_cmd_tlbi_s2_ipa(struct smmu_cmd *c, u16 vmid, u64 ipa, bool leaf);
/*
 * Range form (needs SMMU_IDR3.RIL): (num + 1) * 2^scale granules of size tg
 * (SMMU_TLBI_TG_4K) from ipa; ttl 0 matches leaves of any level.
 */
void smmu_cmd_tlbi_s2_range(struct smmu_cmd *c, u16 vmid, u64 ipa, u32 num,
			    u32 scale, u32 tg, u32 ttl, bool leaf);
void smmu_cmd_tlbi_s12_vmall(struct smmu_cmd *c, u16 vmid);
void smmu_cmd_tlbi_nsnh_all(struct smmu_cmd *c);
void smmu_cmd_sync(struct smmu_cmd *c, u32 cs);

/* ---- ring index arithmetic: an index with its wrap bit ---- */
static inline u32 smmu_q_mask(u32 log2size)
{
	return (2u << log2size) - 1;	/* index bits + wrap bit */
}

static inline u32 smmu_q_idx(u32 log2size, u32 p)
{
	return p & ((1u << log2size) - 1);
}

static inline u32 smmu_q_inc(u32 log2size, u32 p)
{
	return (p + 1) & smmu_q_mask(log2size);
}

/* Entries written and not yet consumed. */
static inline u32 smmu_q_used(u32 log2size, u32 prod, u32 cons)
{
	return (prod - cons) & smmu_q_mask(log2size);
}

static inline bool smmu_q_empty(u32 log2size, u32 prod, u32 cons)
{
	return ((prod ^ cons) & smmu_q_mask(log2size)) == 0;
}

static inline bool smmu_q_full(u32 log2size, u32 prod, u32 cons)
{
	return ((prod ^ cons) & smmu_q_mask(log2size)) == (1u << log2size);
}

/*
 * A queue ring the SMMU can take: within the SMMU's size limit and the
 * 19-bit LOG2SIZE field, at an address Q_BASE can hold, aligned to its size
 * (at least 32 bytes). Shared by the command and event queues.
 */
static inline int smmu_q_check(u64 pa, u32 log2size, u32 max_log2size, u32 ent_bytes)
{
	u64 bytes = (u64)ent_bytes << log2size;

	if (log2size > max_log2size || log2size > 19 || !pa ||
	    !HYP_IS_ALIGNED(pa, HYP_MAX(bytes, 32ull)) || (pa & ~SMMU_Q_BASE_ADDR))
		return -EINVAL;
	return 0;
}

/* ---- the queue ---- */
struct smmu_cmdq {
	u8 *regs;
	u64 *ring;
	u64 pa;
	u32 log2size;
	u32 prod;		/* next slot we write, with wrap */
	u32 published;		/* last value written to SMMU_CMDQ_PROD */
	u32 cons;		/* last CONS read, with wrap */
	bool coherent;
	u32 sync_cs;		/* SMMU_SYNC_CS_* used by smmu_cmdq_sync() */
	u64 timeout_ns;
	u32 last_err;		/* CONS.ERR of the last command error */
	bool sfm;		/* GERROR.SFM_ERR seen: nothing completes any more */
	u32 gerrorn;		/* SMMU_GERRORN as last read or written */
	bool gerrorn_known;	/* read once, after bring-up wrote it */
	u64 nr_cmds;
	u64 nr_syncs;
	u64 nr_errors;
	u64 nr_timeouts;
};

/*
 * Ring at pa: 16 << log2size bytes, aligned to that size (the SMMU aligns
 * the base down). -EINVAL when misaligned or log2size above SMMU_IDR1.CMDQS.
 */
int smmu_cmdq_init(struct smmu_cmdq *q, void *regs, u64 pa, u32 log2size,
		   u32 max_log2size, bool coherent, bool sev);
u64 smmu_cmdq_base_reg(const struct smmu_cmdq *q);

/*
 * Append one command. Published to the SMMU only when the ring is full (to
 * make room) or by smmu_cmdq_sync(); so a batch costs one PROD write.
 */
int smmu_cmdq_add(struct smmu_cmdq *q, const struct smmu_cmd *c);

/*
 * Append CMD_SYNC, publish, and wait until the SMMU consumed it: every
 * earlier command is then complete. -ETIMEDOUT past timeout_ns, -EIO on a
 * command error (last_err holds CONS.ERR; the bad command is replaced by a
 * CMD_SYNC and the error acknowledged, so the queue moves on: the commands
 * before it ran, the bad one did not, so what it stood for is undone)
 * or when the SMMU reports service failure (sfm set: no retry can help).
 */
int smmu_cmdq_sync(struct smmu_cmdq *q);

/*
 * smmu_cmdq_sync() in two halves, so that one caller can start CMD_SYNC
 * on several SMMUs and then wait for all of them: they drain in parallel.
 * issue appends and publishes CMD_SYNC and stores its slot; wait polls
 * until that slot is consumed. Between the two the queue may take more
 * commands (the slot stays valid) but the caller must hold the lock
 * across each call, as for every queue operation.
 */
int smmu_cmdq_sync_issue(struct smmu_cmdq *q, u32 *slot);
int smmu_cmdq_sync_wait(struct smmu_cmdq *q, u32 slot);

/*
 * One look at the sync in 'slot', for a caller that waits on several
 * SMMUs round robin: 0 once consumed, -EAGAIN while pending, -EIO as
 * smmu_cmdq_sync(), -ETIMEDOUT once now - start exceeds timeout_ns (start
 * and now are the caller's hyp_now_ns(), read once per round). Without
 * 'errors' a pending sync costs one register read (CONS), not two: a
 * caller may look at GERROR only every few rounds, an error stopping the
 * queue until it does.
 */
int smmu_cmdq_sync_poll(struct smmu_cmdq *q, u32 slot, u64 start, u64 now,
			bool errors);

#endif /* PKVM_SMMU_CMDQ_H */
