// SPDX-License-Identifier: GPL-2.0
/*
 * Events out of the module: the host core's sink, and the event queue
 * service. Every poll_ms the host core is asked for each SMMU's records,
 * which become netlink fault events. Polling keeps the module free of
 * MSI/wired-IRQ differences between platforms; the event queue holds 128
 * records, far more than a period's worth.
 */
#include <linux/jiffies.h>

#include "pkvm_iommu.h"

/* One record per lock hold: the lock is for ownership calls too. */
static int pop_one(u32 smmu)
{
	int ret;

	mutex_lock(&pkvm->lock);
	ret = pkvm_core_event_pop(&pkvm->core, smmu, pkvm->evbuf);
	mutex_unlock(&pkvm->lock);
	return ret;
}

static void poll_events(struct work_struct *work)
{
	for (u32 i = 0;; i++) {
		int ret;

		while ((ret = pop_one(i)) == 1)
			;
		if (ret == -ENODEV)
			break;	/* past the last SMMU */
		if (ret < 0)
			pr_warn_ratelimited("pkvm_iommu: SMMU %u: event queue: %d\n", i, ret);
	}
	schedule_delayed_work(&pkvm->poll, msecs_to_jiffies(pkvm->poll_ms));
}

void pkvm_iommu_events_sink(void *ctx, const struct pkvm_core_event *ev)
{
	if (ev->cmd == PKVM_IOMMU_CMD_EVT_FAULT && ev->fault_flags & PKVM_CORE_FAULT_LOST)
		pr_warn_ratelimited("pkvm_iommu: SMMU %u event queue overflowed\n", ev->smmu);
	/* Once each: the SMMU layer tells a failure only once. */
	if (ev->cmd == PKVM_IOMMU_CMD_EVT_FAULT && ev->fault_type == PKVM_IOMMU_EVT_CMD_ERROR)
		pr_err("pkvm_iommu: SMMU %u refused a command (CMDQ_CONS.ERR %llu)\n", ev->smmu,
		       (unsigned long long)ev->addr);
	if (ev->cmd == PKVM_IOMMU_CMD_EVT_FAULT && ev->fault_type == PKVM_IOMMU_EVT_SMMU_FAILED)
		pr_crit("pkvm_iommu: SMMU %u failed closed (error -%llu): it aborts all DMA\n",
			ev->smmu, (unsigned long long)ev->addr);
	/* Ours and, drained from the ring, pKVM's own: both delay compaction. */
	if (ev->cmd >= PKVM_IOMMU_CMD_EVT_DONATE && ev->cmd <= PKVM_IOMMU_CMD_EVT_UNSHARE)
		pkvm_iommu_compact_changed();
	pkvm_iommu_genl_event(ev);
}

void pkvm_iommu_events_start(void)
{
	if (pkvm->poll.work.func)
		return;
	INIT_DELAYED_WORK(&pkvm->poll, poll_events);
	schedule_delayed_work(&pkvm->poll, msecs_to_jiffies(pkvm->poll_ms));
}

void pkvm_iommu_events_stop(void)
{
	if (pkvm->poll.work.func)
		cancel_delayed_work_sync(&pkvm->poll);
}
