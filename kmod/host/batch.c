// SPDX-License-Identifier: GPL-2.0
/*
 * Invalidation batching (the policy's "invalidation" section, set by
 * PKVM_IOMMU_IOC_INVALIDATION and kept by the host core): ownership
 * changes reach the hyp core in groups that share one flush, one CMD_SYNC,
 * through its BATCH call. The host core applies a group; this file is how
 * concurrent callers form one.
 *
 * - PKVM_IOMMU_IOC_BATCH is cut into groups of at most batch_max_ops.
 * - A single change (DONATE/RECLAIM/SHARE/UNSHARE ioctl) waits up to
 *   batch_window_us for concurrent ones to join its group: the first to
 *   arrive leads, waits the window (or until the group is full), applies
 *   the group, completes the others and hands the lead to the next one
 *   queued. A change is
 *   complete, and its event multicast, only after its group's call
 *   returned, so nobody learns of a donation before the SMMU forgot it.
 */
#include <linux/completion.h>
#include <linux/gfp.h>
#include <linux/hrtimer.h>
#include <linux/list.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <linux/wait.h>

#include "pkvm_iommu.h"

struct waiter {
	struct list_head node;
	struct pkvm_iommu_op op;
	struct completion done;	/* its change was made, or it must lead */
	bool lead;
	int ret;
};

static struct {
	spinlock_t lock;
	struct list_head queue;
	u32 queued;
	bool leading;		/* a leader is collecting or applying */
	wait_queue_head_t full;	/* wakes the leader when a group fills */
	struct pkvm_iommu_op *buf;	/* BATCH_MAX records, under pkvm->lock */
} grp;

/* The settings in force: max_ops, and how long a single change may wait. */
static void config(u32 *max_ops, u32 *window_us)
{
	lockdep_assert_held(&pkvm->lock);
	*max_ops = 0;
	pkvm_core_invalidation(&pkvm->core, max_ops, window_us);
}

int pkvm_iommu_batch_apply(struct pkvm_iommu_op *ops, u32 nr, u32 *done)
{
	u32 limit, window;
	s64 ret = 0;

	mutex_lock(&pkvm->lock);
	config(&limit, &window);
	mutex_unlock(&pkvm->lock);
	*done = 0;
	while (*done < nr) {
		u32 n = min(nr - *done, limit);

		mutex_lock(&pkvm->lock);
		ret = pkvm_core_batch(&pkvm->core, ops + *done, n);
		mutex_unlock(&pkvm->lock);
		if (ret < 0)
			return ret;
		*done += ret;
		if (ret < n)
			return ops[*done].result;
	}
	return 0;
}

/* Waiters off the queue, at most limit of them, into a private list. */
static u32 take(struct list_head *out, u32 limit)
{
	u32 n = 0;

	spin_lock(&grp.lock);
	while (n < limit && !list_empty(&grp.queue)) {
		list_move_tail(grp.queue.next, out);
		n++;
	}
	grp.queued -= n;
	spin_unlock(&grp.lock);
	return n;
}

/* Apply the taken waiters as one group of changes independent of each other. */
static void run_taken(struct list_head *list, u32 n)
{
	struct waiter *w, *tmp;
	u32 i = 0;

	mutex_lock(&pkvm->lock);
	list_for_each_entry(w, list, node)
		grp.buf[i++] = w->op;
	pkvm_core_batch_each(&pkvm->core, grp.buf, n);
	i = 0;
	list_for_each_entry(w, list, node)
		w->ret = grp.buf[i++].result;
	mutex_unlock(&pkvm->lock);
	list_for_each_entry_safe(w, tmp, list, node) {
		list_del(&w->node);
		complete(&w->done);
	}
}

static bool group_full(u32 limit)
{
	bool full;

	spin_lock(&grp.lock);
	full = grp.queued >= limit;
	spin_unlock(&grp.lock);
	return full;
}

/*
 * The leader applies one group, its own change first in it (it is at the
 * head of the queue), then hands the lead to the next waiter: a leader
 * that served until the queue ran dry could be kept from returning for as
 * long as others keep arriving.
 */
static void lead(u32 window, u32 limit)
{
	struct waiter *next = NULL;
	LIST_HEAD(list);
	u32 n;

	if (window)
		wait_event_hrtimeout(grp.full, group_full(limit), us_to_ktime(window));
	n = take(&list, limit);
	if (n)
		run_taken(&list, n);
	spin_lock(&grp.lock);
	if (list_empty(&grp.queue)) {
		grp.leading = false;
	} else {
		next = list_first_entry(&grp.queue, struct waiter, node);
		next->lead = true;
	}
	spin_unlock(&grp.lock);
	/* Late arrivals waited for this call already: no second window. */
	if (next)
		complete(&next->done);
}

int pkvm_iommu_batch_single(u32 op, u64 addr, u64 len, u32 owner)
{
	struct waiter me = { .op = { op, owner, addr, len, 0, 0 } };
	u32 window, limit;
	bool leader;

	mutex_lock(&pkvm->lock);
	config(&limit, &window);
	if (!window || limit < 2) {
		/* Unbatched: the change's own call, its own flush. */
		int ret = pkvm_core_change(&pkvm->core, op, addr, len, owner);

		mutex_unlock(&pkvm->lock);
		return ret;
	}
	mutex_unlock(&pkvm->lock);

	init_completion(&me.done);
	spin_lock(&grp.lock);
	list_add_tail(&me.node, &grp.queue);
	grp.queued++;
	leader = !grp.leading;
	grp.leading = true;
	spin_unlock(&grp.lock);

	if (leader) {
		lead(window, limit);
		return me.ret;
	}
	if (group_full(limit))
		wake_up(&grp.full);
	wait_for_completion(&me.done);
	if (READ_ONCE(me.lead))
		lead(0, limit);
	return me.ret;
}

int pkvm_iommu_batch_init(void)
{
	spin_lock_init(&grp.lock);
	INIT_LIST_HEAD(&grp.queue);
	init_waitqueue_head(&grp.full);
	grp.buf = alloc_pages_exact(PKVM_IOMMU_BATCH_MAX * sizeof(*grp.buf),
				    GFP_KERNEL | __GFP_ZERO);
	return grp.buf ? 0 : -ENOMEM;
}

void pkvm_iommu_batch_exit(void)
{
	free_pages_exact(grp.buf, PKVM_IOMMU_BATCH_MAX * sizeof(*grp.buf));
}
