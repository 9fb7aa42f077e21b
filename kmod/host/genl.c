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

/* ---- ledger dump: one message per run of the host core's ledger ---- */

struct ledger_msg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
	bool full;		/* a run did not fit: the next dumpit resumes there */
};

static int put_run(const struct pkvm_core_run *run, void *arg)
{
	struct ledger_msg *m = arg;
	void *hdr;

	hdr = genlmsg_put(m->skb, NETLINK_CB(m->cb->skb).portid, m->cb->nlh->nlmsg_seq,
			  &pkvm_iommu_family, NLM_F_MULTI, PKVM_IOMMU_CMD_LEDGER_GET);
	if (!hdr)
		goto full;
	if (nla_put_u64_64bit(m->skb, PKVM_IOMMU_A_GENERATION, pkvm->core.generation,
			      PKVM_IOMMU_A_PAD) ||
	    nla_put_u64_64bit(m->skb, PKVM_IOMMU_A_ADDR, run->addr, PKVM_IOMMU_A_PAD) ||
	    nla_put_u64_64bit(m->skb, PKVM_IOMMU_A_LEN, run->len, PKVM_IOMMU_A_PAD) ||
	    nla_put_u32(m->skb, PKVM_IOMMU_A_OWNER, run->owner) ||
	    (run->shared && nla_put_flag(m->skb, PKVM_IOMMU_A_SHARED))) {
		genlmsg_cancel(m->skb, hdr);
		goto full;
	}
	genlmsg_end(m->skb, hdr);
	return 0;
full:
	m->full = true;
	return -EMSGSIZE;
}

static int ledger_dumpit(struct sk_buff *skb, struct netlink_callback *cb)
{
	struct ledger_msg m = { .skb = skb, .cb = cb };
	u64 resume;
	int ret;

	if (cb->args[1])
		return 0;	/* finished */
	mutex_lock(&pkvm->lock);
	ret = pkvm_core_ledger_walk(&pkvm->core, cb->args[0], put_run, &m, &resume);
	mutex_unlock(&pkvm->lock);
	if (m.full) {
		cb->args[0] = resume;
		return skb->len;
	}
	if (ret)
		return ret;
	cb->args[1] = 1;
	return skb->len;
}

static int stats_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct pkvm_iommu_stats st;
	struct sk_buff *msg;
	void *hdr;
	u64 gen;
	int ret;

	mutex_lock(&pkvm->lock);
	ret = pkvm_core_stats(&pkvm->core, &st);
	gen = pkvm->core.generation;
	mutex_unlock(&pkvm->lock);
	if (ret)
		return ret;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &pkvm_iommu_family, 0, PKVM_IOMMU_CMD_STATS_GET);
	if (!hdr ||
	    nla_put_u64_64bit(msg, PKVM_IOMMU_A_GENERATION, gen, PKVM_IOMMU_A_PAD) ||
	    nla_put(msg, PKVM_IOMMU_A_STATS, sizeof(st.counter), st.counter)) {
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

/* Every event has its generation; the rest by kind (pkvm_iommu(4)). */
static int put_event(struct sk_buff *skb, const struct pkvm_core_event *ev)
{
	if (nla_put_u64_64bit(skb, PKVM_IOMMU_A_GENERATION, ev->generation, PKVM_IOMMU_A_PAD))
		return -EMSGSIZE;
	switch (ev->cmd) {
	case PKVM_IOMMU_CMD_EVT_FAULT:
		return nla_put_u32(skb, PKVM_IOMMU_A_SMMU, ev->smmu) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_SID, ev->sid) ||
		       nla_put_u64_64bit(skb, PKVM_IOMMU_A_ADDR, ev->addr, PKVM_IOMMU_A_PAD) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_FAULT_TYPE, ev->fault_type) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_FAULT_FLAGS, ev->fault_flags) ? -EMSGSIZE : 0;
	case PKVM_IOMMU_CMD_EVT_POLICY:
		return nla_put_u32(skb, PKVM_IOMMU_A_SMMU, ev->smmu) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_SID, ev->sid) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_POLICY, ev->policy) ? -EMSGSIZE : 0;
	default:	/* the four ownership changes */
		return nla_put_u64_64bit(skb, PKVM_IOMMU_A_ADDR, ev->addr, PKVM_IOMMU_A_PAD) ||
		       nla_put_u64_64bit(skb, PKVM_IOMMU_A_LEN, ev->len, PKVM_IOMMU_A_PAD) ||
		       nla_put_u32(skb, PKVM_IOMMU_A_OWNER, ev->owner) ? -EMSGSIZE : 0;
	}
}

void pkvm_iommu_genl_event(const struct pkvm_core_event *ev)
{
	struct sk_buff *skb = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	void *hdr;

	if (!skb)
		return;
	hdr = genlmsg_put(skb, 0, 0, &pkvm_iommu_family, 0, ev->cmd);
	if (!hdr || put_event(skb, ev)) {
		nlmsg_free(skb);
		return;
	}
	genlmsg_end(skb, hdr);
	/* -ESRCH: nobody listens, which is fine. */
	genlmsg_multicast(&pkvm_iommu_family, skb, 0, 0, GFP_KERNEL);
}

int pkvm_iommu_genl_init(void)
{
	return genl_register_family(&pkvm_iommu_family);
}

void pkvm_iommu_genl_exit(void)
{
	genl_unregister_family(&pkvm_iommu_family);
}
