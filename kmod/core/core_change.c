// SPDX-License-Identifier: GPL-2.0
/*
 * Ownership changes: through the hyp core one at a time or in BATCH calls.
 * The hyp core numbers each change it makes with the next generation and
 * keeps it in its ring; the host core drains the ring after each call and
 * tells every record as an event, in the ring's order, before the call
 * returns. pKVM's own transitions come the same way, whenever the owner
 * syncs. A listener that saw N+1 before N would take N for lost and
 * resync for nothing: the caller's lock keeps the events in one order.
 */
#include "core_int.h"

/* Records per RING_POP: the scratch page after the header. */
#define RING_MAX ((HYP_PAGE_SIZE - sizeof(struct pkvm_iommu_ring_hdr)) / sizeof(struct s2_ring_rec))

static void changed(struct pkvm_core *c, const struct s2_ring_rec *r)
{
	struct pkvm_core_event ev = {
		.cmd = PKVM_IOMMU_CMD_EVT_OP(r->op), .addr = r->addr, .len = r->len,
		.owner = r->owner,
	};

	c->generation = r->generation;
	core_emit(c, &ev);
}

int pkvm_core_sync(struct pkvm_core *c)
{
	u8 *page = core_page(c);
	struct pkvm_iommu_ring_hdr hdr;
	struct s2_ring_rec rec;
	s64 n;

	if (!page)
		return -ENOMEM;
	do {
		n = pkvm_core_call(c, PKVM_IOMMU_HVC_RING_POP, hyp_virt_to_phys(page), RING_MAX,
				   0, 0, 0, 0);
		if (n < 0)
			return (int)n;
		hyp_memcpy(&hdr, page, sizeof(hdr));
		for (s64 i = 0; i < n; i++) {
			/* The sink may take long: work from a copy. */
			hyp_memcpy(&rec, page + sizeof(hdr) + i * sizeof(rec), sizeof(rec));
			if (rec.op < PKVM_IOMMU_OP_NR)
				changed(c, &rec);
		}
	} while (n == (s64)RING_MAX);
	/* Dropped records: the generation moves on, the listeners see the gap. */
	if (hdr.generation > c->generation)
		c->generation = hdr.generation;
	return 0;
}

int pkvm_core_change(struct pkvm_core *c, u32 op, u64 addr, u64 len, u32 owner)
{
	s64 ret;

	if (op >= PKVM_IOMMU_OP_NR)
		return -EINVAL;
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_OP(op), addr, len, owner, 0, 0, 0);
	/* Even after an error: a failed invalidation still made the change. */
	pkvm_core_sync(c);
	return (int)ret;
}

s64 pkvm_core_batch(struct pkvm_core *c, struct pkvm_iommu_op *ops, u32 nr)
{
	s64 ret = pkvm_core_call(c, PKVM_IOMMU_HVC_BATCH, hyp_virt_to_phys(ops), nr, 0, 0, 0, 0);

	for (s64 i = 0; i < ret; i++)
		ops[i].result = 0;
	pkvm_core_sync(c);
	return ret;
}

void pkvm_core_batch_each(struct pkvm_core *c, struct pkvm_iommu_op *ops, u32 nr)
{
	u32 start = 0;

	while (start < nr) {
		s64 ret = pkvm_core_batch(c, ops + start, nr - start);

		if (ret < 0) {
			/* The flush failed: nothing may be reported complete. */
			for (u32 i = start; i < nr; i++)
				ops[i].result = (s32)ret;
			return;
		}
		start += (u32)ret;
		if (start < nr)
			start++;	/* its result holds the refusal */
	}
}
