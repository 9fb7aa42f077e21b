// SPDX-License-Identifier: GPL-2.0
/*
 * The SMMU's event queue, as the host drains it: one record per EVENT_POP,
 * each that says something forwarded as a fault event.
 */
#include "core_int.h"

int pkvm_core_event_pop(struct pkvm_core *c, u32 smmu, struct pkvm_iommu_event *buf)
{
	struct pkvm_core_event ev = { .cmd = PKVM_IOMMU_CMD_EVT_FAULT, .smmu = smmu };
	const struct pkvm_core_smmu *s = core_smmu(c, smmu);
	s64 ret;

	if (!s)
		return -ENODEV;
	/* A fault carries the generation in force: catch up with the ring first. */
	pkvm_core_sync(c);
	ret = pkvm_core_call(c, PKVM_IOMMU_HVC_EVENT_POP, s->hyp_index, hyp_virt_to_phys(buf),
			     0, 0, 0, 0);
	if (ret != 1)
		return (int)ret;
	/* An empty record that says records were lost is news: faults went missing. */
	if (!buf->type && !(buf->flags & PKVM_CORE_FAULT_LOST))
		return 1;
	ev.sid = (u32)buf->sid;
	ev.addr = buf->addr;
	ev.fault_type = (u32)buf->type;
	ev.fault_flags = (u32)buf->flags;
	core_emit(c, &ev);
	return 1;
}
