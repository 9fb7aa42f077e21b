/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The ownership-event ring: every change the shadow makes at someone's
 * request (a hypercall of the host, or pKVM's own transition hook), in the
 * order it was made, numbered by the hyp core's generation counter. The
 * host drains it (PKVM_IOMMU_HVC_RING_POP) and tells its listeners; under
 * pKVM it is the only way the host learns what pKVM gave away.
 *
 * Bounded: when full, new records are dropped and 'lost' is set. The
 * generation still counts them, so a consumer sees a gap and resyncs from
 * the ledger (PKVM_IOMMU_HVC_LEDGER_READ), which is the truth anyway.
 * Set-up (the pool's and an SMMU's own memory) is not recorded: it is not
 * a change anyone asked for, and the ledger shows it.
 *
 * Callers serialise: the engine pushes under its lock, the pop takes it.
 */
#ifndef PKVM_S2_RING_H
#define PKVM_S2_RING_H

#include "hyp_env.h"

#define S2_RING_SIZE	256u

/* One change, as the host receives it (little-endian, 32 bytes). */
struct s2_ring_rec {
	u64 generation;
	u32 op;		/* enum pkvm_iommu_op_code */
	u32 owner;	/* as the change named it (share/unshare: as given) */
	u64 addr;
	u64 len;
};

struct s2_ring {
	struct s2_ring_rec rec[S2_RING_SIZE];
	u32 head;	/* oldest record */
	u32 count;
	bool lost;	/* records were dropped since the last pop */
	u64 generation;	/* changes made so far, recorded or dropped */
	u64 dropped;	/* in total, for statistics */
};

/*
 * Header-only: kmod/host/Kbuild names every object of the hyp core, and
 * these two are small.
 */

/* Number the change with the next generation and keep it if there is room. */
static inline void s2_ring_push(struct s2_ring *r, u32 op, u64 addr, u64 len, u32 owner)
{
	r->generation++;
	if (r->count == S2_RING_SIZE) {
		/* Keep the oldest: what was kept stays one contiguous run. */
		r->lost = true;
		r->dropped++;
		return;
	}
	r->rec[(r->head + r->count) % S2_RING_SIZE] = (struct s2_ring_rec){
		.generation = r->generation, .op = op, .owner = owner,
		.addr = addr, .len = len,
	};
	r->count++;
}

/*
 * Take up to max oldest records into out; returns how many. *lost says
 * whether records were dropped since the previous pop (and clears it).
 */
static inline u32 s2_ring_pop(struct s2_ring *r, struct s2_ring_rec *out, u32 max, bool *lost)
{
	u32 n = HYP_MIN(max, r->count);

	for (u32 i = 0; i < n; i++)
		out[i] = r->rec[(r->head + i) % S2_RING_SIZE];
	r->head = (r->head + n) % S2_RING_SIZE;
	r->count -= n;
	*lost = r->lost;
	r->lost = false;
	return n;
}

#endif /* PKVM_S2_RING_H */
