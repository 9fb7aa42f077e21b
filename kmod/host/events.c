// SPDX-License-Identifier: GPL-2.0
/*
 * Event queue service by polling: every poll_ms the hyp core is asked for
 * each SMMU's records, which become netlink fault events. Polling keeps
 * the module free of MSI/wired-IRQ differences between platforms; the
 * event queue holds 128 records, far more than a period's worth.
 */
#include <linux/jiffies.h>

#include "pkvm_iommu.h"

static void poll_events(struct work_struct *work)
{
	u32 nr;

	for (u32 i = 0;; i++) {
		struct pkvm_iommu_event ev;
		s64 ret;

		mutex_lock(&pkvm->lock);
		nr = pkvm->nr_smmus;
		if (i >= nr) {
			mutex_unlock(&pkvm->lock);
			break;
		}
		/* One record at a time: the lock is for ownership calls too. */
		while ((ret = pkvm_iommu_call(PKVM_IOMMU_HVC_EVENT_POP, pkvm->smmu[i].index,
					      virt_to_phys(pkvm->evbuf), 0, 0, 0, 0)) == 1) {
			ev = *pkvm->evbuf;
			mutex_unlock(&pkvm->lock);
			if (ev.flags & 4)
				pr_warn_ratelimited("pkvm_iommu: SMMU %u event queue overflowed\n", i);
			/* Lost records are news too: listeners learn faults went missing. */
			if (ev.type || (ev.flags & 4))
				pkvm_iommu_genl_fault_event(i, &ev);
			mutex_lock(&pkvm->lock);
		}
		mutex_unlock(&pkvm->lock);
		if (ret < 0)
			pr_warn_ratelimited("pkvm_iommu: SMMU %u: event queue: %lld\n", i, ret);
	}
	schedule_delayed_work(&pkvm->poll, msecs_to_jiffies(pkvm->poll_ms));
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
