// SPDX-License-Identifier: GPL-2.0
/*
 * Generic netlink family "pkvm_iommu" (pkvm_iommu(4)): the ownership
 * ledger as a dump with its generation (for resync after an overflow),
 * the counters, and the "events" multicast group.
 */
#include <net/genetlink.h>

#include "pkvm_iommu.h"

static const struct nla_policy pkvm_iommu_nl_policy[PKVM_IOMMU_A_MAX + 1] = {
	[PKVM_IOMMU_A_GENERATION] = { .type = NLA_U64 },
	[PKVM_IOMMU_A_ADDR] = { .type = NLA_U64 },
	[PKVM_IOMMU_A_LEN] = { .type = NLA_U64 },
	[PKVM_IOMMU_A_OWNER] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_SHARED] = { .type = NLA_FLAG },
	[PKVM_IOMMU_A_SMMU] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_SID] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_FAULT_TYPE] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_FAULT_FLAGS] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_POLICY] = { .type = NLA_U32 },
	[PKVM_IOMMU_A_STATS] = { .type = NLA_BINARY },
};

static const struct genl_multicast_group pkvm_iommu_mcgrps[] = {
	{ .name = PKVM_IOMMU_GENL_MCGRP_EVENTS, .flags = GENL_MCAST_CAP_SYS_ADMIN },
};

static struct genl_family pkvm_iommu_family;

/* ---- ledger dump: one message per run that is not plain host memory ---- */

struct ledger_cursor {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	u64 gen;
	/* the run being built */
	u64 start, end;
	u32 owner;
	bool shared, memory, open;
	bool full;
};

static int put_run(struct ledger_cursor *c)
{
	void *hdr;

	if (!c->memory || (c->owner == PKVM_OWNER_HOST && !c->shared))
		return 0;
	hdr = genlmsg_put(c->skb, NETLINK_CB(c->cb->skb).portid, c->cb->nlh->nlmsg_seq,
			  &pkvm_iommu_family, NLM_F_MULTI, PKVM_IOMMU_CMD_LEDGER_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u64_64bit(c->skb, PKVM_IOMMU_A_GENERATION, c->gen, PKVM_IOMMU_A_PAD) ||
	    nla_put_u64_64bit(c->skb, PKVM_IOMMU_A_ADDR, c->start, PKVM_IOMMU_A_PAD) ||
	    nla_put_u64_64bit(c->skb, PKVM_IOMMU_A_LEN, c->end - c->start, PKVM_IOMMU_A_PAD) ||
	    nla_put_u32(c->skb, PKVM_IOMMU_A_OWNER, c->owner) ||
	    (c->shared && nla_put_flag(c->skb, PKVM_IOMMU_A_SHARED))) {
		genlmsg_cancel(c->skb, hdr);
		return -EMSGSIZE;
	}
	genlmsg_end(c->skb, hdr);
	return 0;
}

static int ledger_leaf(const struct s2_leaf *l, void *arg)
{
	struct ledger_cursor *c = arg;

	if (c->open && c->end == l->addr && c->memory == l->memory &&
	    c->owner == l->owner && c->shared == l->shared) {
		c->end += l->size;
		return 0;
	}
	if (c->open && put_run(c)) {
		/* Resume at this run next time. */
		c->cb->args[0] = c->start;
		c->full = true;
		return -EMSGSIZE;
	}
	*c = (struct ledger_cursor){ .skb = c->skb, .cb = c->cb, .gen = c->gen,
		.start = l->addr, .end = l->addr + l->size, .owner = l->owner,
		.shared = l->shared, .memory = l->memory, .open = true };
	return 0;
}

static int ledger_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ledger_cursor c = { .skb = skb, .cb = cb };
	u64 from = cb->args[0], top;
	int ret;

	if (cb->args[1])
		return 0;	/* finished */
	mutex_lock(&pkvm->lock);
	c.gen = pkvm->generation;
	top = 1ull << pkvm->hyp->pgt.ias;
	ret = s2_for_each_leaf(&pkvm->hyp->pgt, from, top - from, ledger_leaf, &c);
	if (!ret && c.open) {
		if (put_run(&c)) {
			cb->args[0] = c.start;
			c.full = true;
		}
	}
	mutex_unlock(&pkvm->lock);
	if (ret && !c.full)
		return ret;
	if (!c.full)
		cb->args[1] = 1;
	return skb->len;
}

static int stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	u64 counters[PKVM_IOMMU_STAT_NR];
	struct sk_buff *msg;
	void *hdr;
	u64 gen;

	mutex_lock(&pkvm->lock);
	for (u32 i = 0; i < PKVM_IOMMU_STAT_NR; i++)
		counters[i] = (u64)pkvm_iommu_call(PKVM_IOMMU_HVC_STATS_READ, i, 0, 0, 0, 0, 0);
	gen = pkvm->generation;
	mutex_unlock(&pkvm->lock);

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pkvm_iommu_family, 0, PKVM_IOMMU_CMD_STATS_GET);
	if (!hdr ||
	    nla_put_u64_64bit(msg, PKVM_IOMMU_A_GENERATION, gen, PKVM_IOMMU_A_PAD) ||
	    nla_put(msg, PKVM_IOMMU_A_STATS, sizeof(counters), counters)) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);
}

static const struct genl_small_ops pkvm_iommu_ops[] = {
	{
		.cmd = PKVM_IOMMU_CMD_LEDGER_GET,
		.dumpit = ledger_dumpit,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = PKVM_IOMMU_CMD_STATS_GET,
		.doit = stats_doit,
		.flags = GENL_ADMIN_PERM,
	},
};

static struct genl_family pkvm_iommu_family __ro_after_init = {
	.name = PKVM_IOMMU_GENL_NAME,
	.version = PKVM_IOMMU_GENL_VERSION,
	.maxattr = PKVM_IOMMU_A_MAX,
	.policy = pkvm_iommu_nl_policy,
	.module = THIS_MODULE,
	.small_ops = pkvm_iommu_ops,
	.n_small_ops = ARRAY_SIZE(pkvm_iommu_ops),
	.resv_start_op = PKVM_IOMMU_CMD_STATS_GET + 1,
	.mcgrps = pkvm_iommu_mcgrps,
	.n_mcgrps = ARRAY_SIZE(pkvm_iommu_mcgrps),
};

/* ---- events ---- */

static struct sk_buff *event_new(u8 cmd, void **hdr)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);

	if (!skb)
		return NULL;
	*hdr = genlmsg_put(skb, 0, 0, &pkvm_iommu_family, 0, cmd);
	if (!*hdr) {
		nlmsg_free(skb);
		return NULL;
	}
	return skb;
}

static void event_send(struct sk_buff *skb, void *hdr, bool ok)
{
	if (!ok) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	/* -ESRCH: nobody listens, which is fine. */
	genlmsg_multicast(&pkvm_iommu_family, skb, 0, 0, GFP_KERNEL);
}

void pkvm_iommu_genl_range_event(u8 cmd, u64 gen, u64 addr, u64 len, u32 owner)
{
	void *hdr;
	struct sk_buff *skb = event_new(cmd, &hdr);

	if (!skb)
		return;
	event_send(skb, hdr,
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_GENERATION, gen, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_ADDR, addr, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_LEN, len, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_OWNER, owner));
}

void pkvm_iommu_genl_fault_event(u32 smmu, const struct pkvm_iommu_event *ev)
{
	void *hdr;
	struct sk_buff *skb = event_new(PKVM_IOMMU_CMD_EVT_FAULT, &hdr);
	u64 gen = READ_ONCE(pkvm->generation);

	if (!skb)
		return;
	event_send(skb, hdr,
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_GENERATION, gen, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_SMMU, smmu) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_SID, (u32)ev->sid) &&
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_ADDR, ev->addr, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_FAULT_TYPE, (u32)ev->type) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_FAULT_FLAGS, (u32)ev->flags));
}

void pkvm_iommu_genl_policy_event(u32 smmu, u32 sid, u32 policy)
{
	void *hdr;
	struct sk_buff *skb = event_new(PKVM_IOMMU_CMD_EVT_POLICY, &hdr);
	u64 gen = READ_ONCE(pkvm->generation);

	if (!skb)
		return;
	event_send(skb, hdr,
		   !nla_put_u64_64bit(skb, PKVM_IOMMU_A_GENERATION, gen, PKVM_IOMMU_A_PAD) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_SMMU, smmu) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_SID, sid) &&
		   !nla_put_u32(skb, PKVM_IOMMU_A_POLICY, policy));
}

int pkvm_iommu_genl_init(void)
{
	return genl_register_family(&pkvm_iommu_family);
}

void pkvm_iommu_genl_exit(void)
{
	genl_unregister_family(&pkvm_iommu_family);
}
