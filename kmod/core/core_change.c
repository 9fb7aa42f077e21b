// SPDX-License-Identifier: GPL-2.0
/*
 * Ownership changes: through the hyp core one at a time or in BATCH calls,
 * each change made numbered with the next generation and told as an event
 * before the call returns. The caller's lock keeps the numbering and the
 * events in one order: a listener that saw N+1 before N would take N for
 * lost and resync for nothing.
 */
#include "core_int.h"

static void changed(struct pkvm_core *c, u32 op, u64 addr, u64 len, u32 owner)
{
	struct pkvm_core_event ev = {
		.cmd = PKVM_IOMMU_CMD_EVT_OP(op), .addr = addr, .len = len, .owner = owner,
	};

	c->generation++;
	core_emit(c, &ev);
}

int pkvm_core_change(struct pkvm_core *c, u32 op, u64 addr, u64 len, u32 owner)
{
	s64 ret;

	if (op >= PKVM_IOMMU_OP_NR)
		return -EINVAL;
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_OP(op), addr, len, owner, 0, 0, 0);
	if (ret)
		return (int)ret;
	changed(c, op, addr, len, owner);
	return 0;
}

s64 pkvm_core_batch(struct pkvm_core *c, struct pkvm_iommu_op *ops, u32 nr)
{
	s64 ret = pkvm_core_call(c, PKVM_IOMMU_HVC_BATCH, hyp_virt_to_phys(ops), nr, 0, 0, 0, 0);

	for (s64 i = 0; i < ret; i++) {
		ops[i].result = 0;
		changed(c, ops[i].op, ops[i].addr, ops[i].len, ops[i].owner);
	}
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
