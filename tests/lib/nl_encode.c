// SPDX-License-Identifier: GPL-2.0
/* Netlink messages as the module builds them (see nl_encode.h). */
#include "nl_encode.h"

#include <errno.h>

#include <linux/pkvm_iommu.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

struct nl_msg *nl_enc_new(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	if (m && !genlmsg_put(m, 0, 0, NL_ENC_FAMILY, 0, 0, cmd, PKVM_IOMMU_GENL_VERSION)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

/*
 * nla_put_u64_64bit(): a zero-length PAD attribute first when the payload
 * would otherwise not be 8-byte aligned (the tail is aligned, the payload
 * starts 4 bytes after it). -EPROTO if a kernel-padded payload ends up
 * unaligned all the same.
 */
int nl_enc_u64(struct nl_msg *m, int attr, uint64_t v, enum nl_pad pad)
{
	uintptr_t tail = (uintptr_t)nlmsg_tail(nlmsg_hdr(m));
	struct nlattr *last;

	if (pad == NL_PAD_ALWAYS || (pad == NL_PAD_KERNEL && tail % 8 == 0))
		if (nla_put(m, PKVM_IOMMU_A_PAD, 0, NULL))
			return -EMSGSIZE;
	if (nla_put_u64(m, attr, v))
		return -EMSGSIZE;
	last = (struct nlattr *)((char *)nlmsg_tail(nlmsg_hdr(m)) - NLA_ALIGN(NLA_HDRLEN + 8));
	if (pad == NL_PAD_KERNEL && (uintptr_t)nla_data(last) % 8)
		return -EPROTO;
	return 0;
}

int nl_enc_u32(struct nl_msg *m, int attr, uint32_t v)
{
	return nla_put_u32(m, attr, v) ? -EMSGSIZE : 0;
}

/* The attributes of a message in order, each an u64 or an u32. */
struct enc_attr {
	int id;
	bool wide;
	uint64_t v;
};

static struct nl_msg *build(uint8_t cmd, const struct enc_attr *a, size_t n,
			    enum nl_pad pad, int skip)
{
	struct nl_msg *m = nl_enc_new(cmd);
	int r = 0;

	for (size_t i = 0; m && !r && i < n; i++) {
		if (a[i].id == skip)
			continue;
		r = a[i].wide ? nl_enc_u64(m, a[i].id, a[i].v, pad) :
				nl_enc_u32(m, a[i].id, (uint32_t)a[i].v);
	}
	if (r) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

#define BUILD(cmd, pad, skip, ...)						\
	build(cmd, (const struct enc_attr[]){ __VA_ARGS__ },			\
	      sizeof((const struct enc_attr[]){ __VA_ARGS__ }) / sizeof(struct enc_attr), \
	      pad, skip)

struct nl_msg *nl_enc_range(uint8_t cmd, uint64_t gen, uint64_t addr, uint64_t len,
			    uint32_t owner, enum nl_pad pad, int skip)
{
	return BUILD(cmd, pad, skip,
		     { PKVM_IOMMU_A_GENERATION, true, gen },
		     { PKVM_IOMMU_A_ADDR, true, addr },
		     { PKVM_IOMMU_A_LEN, true, len },
		     { PKVM_IOMMU_A_OWNER, false, owner });
}

struct nl_msg *nl_enc_fault(uint64_t gen, uint32_t smmu, uint32_t sid, uint64_t addr,
			    uint32_t type, uint32_t flags, enum nl_pad pad, int skip)
{
	return BUILD(PKVM_IOMMU_CMD_EVT_FAULT, pad, skip,
		     { PKVM_IOMMU_A_GENERATION, true, gen },
		     { PKVM_IOMMU_A_SMMU, false, smmu },
		     { PKVM_IOMMU_A_SID, false, sid },
		     { PKVM_IOMMU_A_ADDR, true, addr },
		     { PKVM_IOMMU_A_FAULT_TYPE, false, type },
		     { PKVM_IOMMU_A_FAULT_FLAGS, false, flags });
}

struct nl_msg *nl_enc_policy(uint64_t gen, uint32_t smmu, uint32_t sid, uint32_t policy,
			     enum nl_pad pad, int skip)
{
	return BUILD(PKVM_IOMMU_CMD_EVT_POLICY, pad, skip,
		     { PKVM_IOMMU_A_GENERATION, true, gen },
		     { PKVM_IOMMU_A_SMMU, false, smmu },
		     { PKVM_IOMMU_A_SID, false, sid },
		     { PKVM_IOMMU_A_POLICY, false, policy });
}

struct nl_msg *nl_enc_run(uint64_t gen, uint64_t addr, uint64_t len, uint32_t owner,
			  bool shared, enum nl_pad pad, int skip)
{
	struct nl_msg *m = nl_enc_range(PKVM_IOMMU_CMD_LEDGER_GET, gen, addr, len, owner,
					pad, skip);

	if (m && shared && nla_put_flag(m, PKVM_IOMMU_A_SHARED)) {
		nlmsg_free(m);
		m = NULL;
	}
	return m;
}

struct nl_msg *nl_enc_event(const struct backend_event *ev, enum nl_pad pad)
{
	switch (ev->kind) {
	case BACKEND_EV_FAULT:
		return nl_enc_fault(ev->generation, ev->smmu, ev->sid, ev->addr,
				    ev->fault_type, ev->fault_flags, pad, 0);
	case BACKEND_EV_POLICY:
		return nl_enc_policy(ev->generation, ev->smmu, ev->sid, ev->policy, pad, 0);
	default:
		if (ev->kind >= PKVM_IOMMU_OP_NR)
			return NULL;
		return nl_enc_range(PKVM_IOMMU_CMD_EVT_OP(ev->kind), ev->generation,
				    ev->addr, ev->len, ev->owner, pad, 0);
	}
}
