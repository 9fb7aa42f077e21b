// SPDX-License-Identifier: GPL-2.0
/*
 * Idle compaction of a LAZY table (PKVM_IOMMU_IOC_FOLD): reclaims leave
 * uniform tables unfolded, so churn inside a block costs one descriptor
 * and no invalidation; this folds them back once ownership has been quiet
 * for idle_ms. Every ownership change the host core reports re-arms the
 * timer: the module's own (ioctls) and, under pKVM, the hypervisor's own
 * transitions, which reach the module through the ownership-event ring
 * the event poll drains. Either way they arrive at the event sink, with
 * pkvm->lock held.
 *
 * The work takes pkvm->lock for one COMPACT call at a time, each bounded
 * by compact_budget folds, and drops it between calls: an ownership change
 * waits for one bounded call at most, never for the whole compaction.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/jiffies.h>
#include <linux/sched.h>

#include "pkvm_iommu.h"

static void compact_idle(struct work_struct *work);
static DECLARE_DELAYED_WORK(compact_work, compact_idle);

/* Under pkvm->lock. */
static struct {
	bool lazy;		/* the mode in force is LAZY */
	bool dirty;		/* changes since the last full compaction */
	u64 changes;		/* ownership changes seen, to notice new ones */
} cpt;

static void arm(void)
{
	u32 idle = pkvm->core.compact_idle_ms;

	lockdep_assert_held(&pkvm->lock);
	if (cpt.lazy && cpt.dirty && idle)
		mod_delayed_work(system_unbound_wq, &compact_work, msecs_to_jiffies(idle));
}

static void compact_idle(struct work_struct *work)
{
	bool more = true;
	u32 folded;
	u64 seen;
	int ret;

	mutex_lock(&pkvm->lock);
	seen = cpt.changes;
	mutex_unlock(&pkvm->lock);
	while (more) {
		mutex_lock(&pkvm->lock);
		/* A change since: its own timer runs, this pass would be early. */
		if (cpt.changes != seen || !cpt.lazy || !pkvm->core.compact_idle_ms) {
			mutex_unlock(&pkvm->lock);
			return;
		}
		ret = pkvm_core_compact_step(&pkvm->core, &folded, &more);
		if (ret == -EBUSY)
			arm();	/* a pKVM transition is half made: try after it */
		else if (!ret && !more)
			cpt.dirty = false;
		mutex_unlock(&pkvm->lock);
		if (ret) {
			if (ret != -EBUSY)
				pr_warn_ratelimited("idle compaction: %d\n", ret);
			return;
		}
		cond_resched();
	}
}

void pkvm_iommu_compact_changed(void)
{
	cpt.changes++;
	cpt.dirty = true;
	arm();
}

void pkvm_iommu_compact_config(void)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .flags = PKVM_IOMMU_FOLD_READ };

	lockdep_assert_held(&pkvm->lock);
	/* Unreadable: the hypervisor answers nothing, there is nothing to run. */
	cpt.lazy = !pkvm_core_fold(&pkvm->core, &f) && f.mode == PKVM_FOLD_LAZY;
	/* EAGER folded everything when it was set. */
	if (!cpt.lazy)
		cpt.dirty = false;
	/* A pending pass runs on the new idle time; off means off. */
	if (cpt.lazy && pkvm->core.compact_idle_ms)
		arm();
	else
		cancel_delayed_work(&compact_work);
}

void pkvm_iommu_compact_start(void)
{
	struct pkvm_iommu_fold f = {
		.size = sizeof(f),
		.mode = PKVM_FOLD_LAZY,
		.compact_budget = PKVM_IOMMU_FOLD_DEFAULT_BUDGET,
		.idle_ms = PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS,
	};
	int ret;

	mutex_lock(&pkvm->lock);
	ret = pkvm_core_fold(&pkvm->core, &f);
	pkvm_iommu_compact_config();
	mutex_unlock(&pkvm->lock);
	/*
	 * EAGER, what the hyp core starts in, isolates the same and only
	 * costs churn more: not worth refusing a load for, and under pKVM
	 * the pool is the hypervisor's already, so a refused load could
	 * never be retried.
	 */
	if (ret)
		pr_warn("lazy fold mode refused (%d): tables fold in every change\n", ret);
}

void pkvm_iommu_compact_stop(void)
{
	cancel_delayed_work_sync(&compact_work);
}
