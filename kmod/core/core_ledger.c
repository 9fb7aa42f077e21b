// SPDX-License-Identifier: GPL-2.0
/*
 * The ownership ledger as the host reports it (PKVM_IOMMU_CMD_LEDGER_GET,
 * and the daemon's resync): the shadow table's leaves merged into maximal
 * runs of one owner and sharing, without holes and plain host memory.
 */
#include "core_int.h"

struct ledger_cursor {
	pkvm_core_run_fn fn;
	void *arg;
	struct pkvm_core_run run;	/* the run being built */
	bool memory, open;
};

static int put_run(struct ledger_cursor *cur)
{
	if (!cur->memory || (cur->run.owner == PKVM_OWNER_HOST && !cur->run.shared))
		return 0;
	return cur->fn(&cur->run, cur->arg);
}

static int ledger_leaf(const struct s2_leaf *l, void *arg)
{
	struct ledger_cursor *cur = arg;
	int ret;

	if (cur->open && cur->run.addr + cur->run.len == l->addr && cur->memory == l->memory &&
	    cur->run.owner == l->owner && cur->run.shared == l->shared) {
		cur->run.len += l->size;
		return 0;
	}
	if (cur->open) {
		ret = put_run(cur);
		if (ret)
			return ret;
	}
	cur->run = (struct pkvm_core_run){ .addr = l->addr, .len = l->size, .owner = l->owner,
		.shared = l->shared };
	cur->memory = l->memory;
	cur->open = true;
	return 0;
}

int pkvm_core_ledger_walk(struct pkvm_core *c, u64 from, pkvm_core_run_fn fn, void *arg,
			  u64 *resume)
{
	struct ledger_cursor cur = { .fn = fn, .arg = arg };
	u64 top;
	int ret;

	*resume = from;
	if (!c->hyp)
		return -EOPNOTSUPP;
	top = 1ull << c->hyp->pgt.ias;
	ret = s2_for_each_leaf(&c->hyp->pgt, from, top - from, ledger_leaf, &cur);
	if (!ret && cur.open)
		ret = put_run(&cur);
	/* Only a refused run stops the walk early: it is where to go on. */
	*resume = cur.run.addr;
	return ret;
}
