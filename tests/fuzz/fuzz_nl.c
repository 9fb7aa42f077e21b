// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the daemon's netlink parsing (daemon/nl_events.c),
 * which reads what the kernel multicasts: the input is a generic-netlink
 * payload (genl header and attributes) behind a well-formed nlmsghdr, as a
 * socket delivers it. Every answer must be 0, -EBADMSG or -EOPNOTSUPP, and
 * whatever parses must survive a round trip: written back with libnl the
 * way kmod/host/genl.c writes it and parsed again, it gives the same event
 * or ledger run. ASan and UBSan watch the reads.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkvm_iommu.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "nl_events.h"

#define INVARIANT(cond)                                                      \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_nl: invariant broken: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

static struct nl_msg *wrap(const uint8_t *data, size_t size)
{
	struct nl_msg *msg = nlmsg_alloc_size(NLMSG_HDRLEN + NLMSG_ALIGN(size) + 64);
	void *p;

	if (!msg)
		abort();
	if (!nlmsg_put(msg, 0, 0, 0x20, 0, 0))
		abort();
	p = nlmsg_reserve(msg, size, 1);
	if (!p)
		abort();
	memcpy(p, data, size);
	return msg;
}

static void put_u64(struct nl_msg *m, int attr, uint64_t v)
{
	INVARIANT(nla_put_u64(m, attr, v) == 0);
}

static void put_u32(struct nl_msg *m, int attr, uint32_t v)
{
	INVARIANT(nla_put_u32(m, attr, v) == 0);
}

static struct nl_msg *new_genl(uint8_t cmd)
{
	struct nl_msg *m = nlmsg_alloc();

	INVARIANT(m && genlmsg_put(m, 0, 0, 0x20, 0, 0, cmd, PKVM_IOMMU_GENL_VERSION));
	return m;
}

/* The event as the module would send it. */
static struct nl_msg *encode_event(const struct backend_event *ev)
{
	struct nl_msg *m;

	INVARIANT(ev->kind <= BACKEND_EV_POLICY);
	m = new_genl(ev->kind == BACKEND_EV_FAULT ? PKVM_IOMMU_CMD_EVT_FAULT :
		     ev->kind == BACKEND_EV_POLICY ? PKVM_IOMMU_CMD_EVT_POLICY :
		     PKVM_IOMMU_CMD_EVT_OP(ev->kind));
	put_u64(m, PKVM_IOMMU_A_GENERATION, ev->generation);
	switch (ev->kind) {
	case BACKEND_EV_FAULT:
		put_u32(m, PKVM_IOMMU_A_SMMU, ev->smmu);
		put_u32(m, PKVM_IOMMU_A_SID, ev->sid);
		put_u64(m, PKVM_IOMMU_A_ADDR, ev->addr);
		put_u32(m, PKVM_IOMMU_A_FAULT_TYPE, ev->fault_type);
		put_u32(m, PKVM_IOMMU_A_FAULT_FLAGS, ev->fault_flags);
		break;
	case BACKEND_EV_POLICY:
		put_u32(m, PKVM_IOMMU_A_SMMU, ev->smmu);
		put_u32(m, PKVM_IOMMU_A_SID, ev->sid);
		put_u32(m, PKVM_IOMMU_A_POLICY, ev->policy);
		break;
	default:
		put_u64(m, PKVM_IOMMU_A_ADDR, ev->addr);
		put_u64(m, PKVM_IOMMU_A_LEN, ev->len);
		put_u32(m, PKVM_IOMMU_A_OWNER, ev->owner);
		break;
	}
	return m;
}

static struct nl_msg *encode_run(const struct ledger_run *r, uint64_t gen)
{
	struct nl_msg *m = new_genl(PKVM_IOMMU_CMD_LEDGER_GET);

	put_u64(m, PKVM_IOMMU_A_GENERATION, gen);
	put_u64(m, PKVM_IOMMU_A_ADDR, r->addr);
	put_u64(m, PKVM_IOMMU_A_LEN, r->len);
	put_u32(m, PKVM_IOMMU_A_OWNER, r->owner);
	if (r->shared)
		INVARIANT(nla_put_flag(m, PKVM_IOMMU_A_SHARED) == 0);
	return m;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nl_msg *msg = wrap(data, size), *again;
	struct backend_event ev, ev2;
	struct ledger_run run, run2;
	uint64_t gen, gen2;
	struct nl_dump d;
	int r;

	r = nl_parse_event(msg, &ev);
	INVARIANT(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
	if (r == 0) {
		again = encode_event(&ev);
		memset(&ev2, 0xa5, sizeof(ev2));
		INVARIANT(nl_parse_event(again, &ev2) == 0);
		INVARIANT(ev2.kind == ev.kind && ev2.generation == ev.generation &&
			  ev2.addr == ev.addr);
		if (ev.kind == BACKEND_EV_FAULT)
			INVARIANT(ev2.smmu == ev.smmu && ev2.sid == ev.sid &&
				  ev2.fault_type == ev.fault_type &&
				  ev2.fault_flags == ev.fault_flags);
		else if (ev.kind == BACKEND_EV_POLICY)
			INVARIANT(ev2.smmu == ev.smmu && ev2.sid == ev.sid &&
				  ev2.policy == ev.policy);
		else
			INVARIANT(ev2.len == ev.len && ev2.owner == ev.owner);
		nlmsg_free(again);
	}

	r = nl_parse_ledger_run(msg, &run, &gen);
	INVARIANT(r == 0 || r == -EBADMSG || r == -EOPNOTSUPP);
	if (r == 0) {
		again = encode_run(&run, gen);
		INVARIANT(nl_parse_ledger_run(again, &run2, &gen2) == 0);
		INVARIANT(run2.addr == run.addr && run2.len == run.len &&
			  run2.owner == run.owner && run2.shared == run.shared && gen2 == gen);
		nlmsg_free(again);
	}

	/* A dump of that one message: consistent exactly when it parsed. */
	nl_dump_init(&d);
	INVARIANT(nl_dump_add_msg(&d, msg) == r);
	INVARIANT(nl_dump_consistent(&d) == (r == 0));
	if (r == 0) {
		struct ledger_run *runs = NULL;
		size_t n = 0;

		INVARIANT(nl_dump_take(&d, &runs, &n, &gen2) == 0);
		INVARIANT(n == 1 && gen2 == gen && runs[0].addr == run.addr &&
			  runs[0].len == run.len && runs[0].owner == run.owner);
		free(runs);
	}
	nl_dump_free(&d);
	nlmsg_free(msg);
	return 0;
}
