// SPDX-License-Identifier: GPL-2.0
/*
 * Parsing of the pkvm_iommu generic-netlink family (see nl_events.h and
 * kmod/host/genl.c, which writes what is read here).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/pkvm_iommu.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include "nl_events.h"

/* Exact sizes: the kernel's policy is by type, ours also bounds the length. */
static const struct nla_policy nl_policy[PKVM_IOMMU_A_MAX + 1] = {
	[PKVM_IOMMU_A_GENERATION] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[PKVM_IOMMU_A_ADDR] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[PKVM_IOMMU_A_LEN] = { .type = NLA_U64, .minlen = 8, .maxlen = 8 },
	[PKVM_IOMMU_A_OWNER] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_SHARED] = { .type = NLA_FLAG },
	[PKVM_IOMMU_A_SMMU] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_SID] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_FAULT_TYPE] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_FAULT_FLAGS] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_POLICY] = { .type = NLA_U32, .minlen = 4, .maxlen = 4 },
	[PKVM_IOMMU_A_STATS] = { .type = NLA_UNSPEC },
	[PKVM_IOMMU_A_PAD] = { .type = NLA_UNSPEC },
};

/* Validates the genl header and the attributes; the command in *cmd. */
static int parse_hdr(struct nlmsghdr *nlh, struct nlattr **tb, uint8_t *cmd)
{
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	*cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (genlmsg_parse(nlh, 0, tb, PKVM_IOMMU_A_MAX, nl_policy) < 0)
		return -EBADMSG;
	/* libnl checks no maximum for a flag: it must be empty. */
	if (tb[PKVM_IOMMU_A_SHARED] && nla_len(tb[PKVM_IOMMU_A_SHARED]) != 0)
		return -EBADMSG;
	return 0;
}

static bool have(struct nlattr **tb, const int *need, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!tb[need[i]])
			return false;
	return true;
}

#define HAVE(tb, ...) have(tb, (const int[]){ __VA_ARGS__ }, \
			   sizeof((const int[]){ __VA_ARGS__ }) / sizeof(int))

static int parse_event_hdr(struct nlmsghdr *nlh, struct backend_event *out)
{
	struct nlattr *tb[PKVM_IOMMU_A_MAX + 1];
	struct backend_event ev = { 0 };
	uint8_t cmd;
	int ret;

	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	cmd = ((struct genlmsghdr *)nlmsg_data(nlh))->cmd;
	if (cmd < PKVM_IOMMU_CMD_EVT_DONATE || cmd > PKVM_IOMMU_CMD_EVT_POLICY)
		return -EOPNOTSUPP;
	ret = parse_hdr(nlh, tb, &cmd);
	if (ret)
		return ret;
	if (!tb[PKVM_IOMMU_A_GENERATION])
		return -EBADMSG;
	ev.generation = nla_get_u64(tb[PKVM_IOMMU_A_GENERATION]);
	switch (cmd) {
	case PKVM_IOMMU_CMD_EVT_DONATE:
	case PKVM_IOMMU_CMD_EVT_RECLAIM:
	case PKVM_IOMMU_CMD_EVT_SHARE:
	case PKVM_IOMMU_CMD_EVT_UNSHARE:
		if (!HAVE(tb, PKVM_IOMMU_A_ADDR, PKVM_IOMMU_A_LEN, PKVM_IOMMU_A_OWNER))
			return -EBADMSG;
		ev.kind = cmd - PKVM_IOMMU_CMD_EVT_OP(0);
		ev.addr = nla_get_u64(tb[PKVM_IOMMU_A_ADDR]);
		ev.len = nla_get_u64(tb[PKVM_IOMMU_A_LEN]);
		ev.owner = nla_get_u32(tb[PKVM_IOMMU_A_OWNER]);
		break;
	case PKVM_IOMMU_CMD_EVT_FAULT:
		if (!HAVE(tb, PKVM_IOMMU_A_SMMU, PKVM_IOMMU_A_SID, PKVM_IOMMU_A_ADDR,
			  PKVM_IOMMU_A_FAULT_TYPE, PKVM_IOMMU_A_FAULT_FLAGS))
			return -EBADMSG;
		ev.kind = BACKEND_EV_FAULT;
		ev.smmu = nla_get_u32(tb[PKVM_IOMMU_A_SMMU]);
		ev.sid = nla_get_u32(tb[PKVM_IOMMU_A_SID]);
		ev.addr = nla_get_u64(tb[PKVM_IOMMU_A_ADDR]);
		ev.fault_type = nla_get_u32(tb[PKVM_IOMMU_A_FAULT_TYPE]);
		ev.fault_flags = nla_get_u32(tb[PKVM_IOMMU_A_FAULT_FLAGS]);
		break;
	case PKVM_IOMMU_CMD_EVT_POLICY:
		if (!HAVE(tb, PKVM_IOMMU_A_SMMU, PKVM_IOMMU_A_SID, PKVM_IOMMU_A_POLICY))
			return -EBADMSG;
		ev.kind = BACKEND_EV_POLICY;
		ev.smmu = nla_get_u32(tb[PKVM_IOMMU_A_SMMU]);
		ev.sid = nla_get_u32(tb[PKVM_IOMMU_A_SID]);
		ev.policy = nla_get_u32(tb[PKVM_IOMMU_A_POLICY]);
		break;
	default:
		return -EOPNOTSUPP;
	}
	*out = ev;
	return 0;
}

int nl_parse_event(struct nl_msg *msg, struct backend_event *out)
{
	if (!msg)
		return -EINVAL;
	return parse_event_hdr(nlmsg_hdr(msg), out);
}

int nl_parse_ledger_run(struct nl_msg *msg, struct ledger_run *run, uint64_t *generation)
{
	struct nlattr *tb[PKVM_IOMMU_A_MAX + 1];
	struct nlmsghdr *nlh;
	uint8_t cmd;
	int ret;

	if (!msg)
		return -EINVAL;
	nlh = nlmsg_hdr(msg);
	if (!genlmsg_valid_hdr(nlh, 0))
		return -EBADMSG;
	if (((struct genlmsghdr *)nlmsg_data(nlh))->cmd != PKVM_IOMMU_CMD_LEDGER_GET)
		return -EOPNOTSUPP;
	ret = parse_hdr(nlh, tb, &cmd);
	if (ret)
		return ret;
	if (!HAVE(tb, PKVM_IOMMU_A_GENERATION, PKVM_IOMMU_A_ADDR, PKVM_IOMMU_A_LEN,
		  PKVM_IOMMU_A_OWNER))
		return -EBADMSG;
	*run = (struct ledger_run){
		.addr = nla_get_u64(tb[PKVM_IOMMU_A_ADDR]),
		.len = nla_get_u64(tb[PKVM_IOMMU_A_LEN]),
		.owner = nla_get_u32(tb[PKVM_IOMMU_A_OWNER]),
		.shared = tb[PKVM_IOMMU_A_SHARED] != NULL,
	};
	*generation = nla_get_u64(tb[PKVM_IOMMU_A_GENERATION]);
	return 0;
}

/* ---- dump collector ---- */

void nl_dump_init(struct nl_dump *d)
{
	memset(d, 0, sizeof(*d));
}

void nl_dump_reset(struct nl_dump *d)
{
	d->nr = 0;
	d->generation = 0;
	d->have_generation = false;
	d->mixed = false;
	d->error = 0;
}

void nl_dump_free(struct nl_dump *d)
{
	free(d->runs);
	nl_dump_init(d);
}

int nl_dump_add(struct nl_dump *d, const struct ledger_run *run, uint64_t generation)
{
	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct ledger_run *p;

		if (cap > SIZE_MAX / sizeof(*p) ||
		    !(p = realloc(d->runs, cap * sizeof(*p)))) {
			if (!d->error)
				d->error = -ENOMEM;
			return -ENOMEM;
		}
		d->runs = p;
		d->cap = cap;
	}
	d->runs[d->nr++] = *run;
	if (!d->have_generation) {
		d->generation = generation;
		d->have_generation = true;
	} else if (generation != d->generation) {
		d->mixed = true;
	}
	return 0;
}

int nl_dump_add_msg(struct nl_dump *d, struct nl_msg *msg)
{
	struct ledger_run run;
	uint64_t gen;
	int ret = nl_parse_ledger_run(msg, &run, &gen);

	if (ret) {
		if (!d->error)
			d->error = ret;
		return ret;
	}
	return nl_dump_add(d, &run, gen);
}

bool nl_dump_consistent(const struct nl_dump *d)
{
	return !d->error && !d->mixed;
}

int nl_dump_take(struct nl_dump *d, struct ledger_run **runs, size_t *n, uint64_t *generation)
{
	if (d->error)
		return d->error;
	if (d->mixed)
		return -EAGAIN;
	if (d->nr) {
		*runs = d->runs;
		*n = d->nr;
		*generation = d->generation;
	} else {
		*runs = NULL;
		*n = 0;
		free(d->runs);
	}
	nl_dump_init(d);
	return 0;
}

/* ---- event socket ---- */

int nl_events_drain(int fd, uint16_t family, backend_event_fn fn, void *userdata,
		    unsigned int max_msgs, unsigned int *skipped)
{
	/* Events are ~100 bytes; a datagram holds one (or a few). */
	union {
		struct nlmsghdr h;
		char b[32768];
	} buf;
	unsigned int seen = 0, skip = 0;
	bool lost = false;
	int delivered = 0, err = 0;

	for (;;) {
		struct nlmsghdr *nlh;
		ssize_t got;
		int left;

		if (max_msgs && seen >= max_msgs)
			break;
		got = recv(fd, &buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			if (errno == ENOBUFS) {
				/* Overflow: the queue after it is intact; keep reading. */
				lost = true;
				continue;
			}
			if (errno != EAGAIN && errno != EWOULDBLOCK)
				err = -errno;
			break;
		}
		if ((size_t)got > sizeof(buf)) {
			/* Truncated: cannot be one of ours, drop it. */
			skip++;
			seen++;
			continue;
		}
		left = (int)got;
		for (nlh = &buf.h; nlmsg_ok(nlh, left); nlh = nlmsg_next(nlh, &left)) {
			struct backend_event ev;

			seen++;
			if (nlh->nlmsg_type == NLMSG_OVERRUN) {
				lost = true;
				continue;
			}
			if (nlh->nlmsg_type != family || parse_event_hdr(nlh, &ev)) {
				skip++;
				continue;
			}
			fn(&ev, userdata);
			if (delivered < INT32_MAX)
				delivered++;
		}
	}
	if (skipped)
		*skipped = skip;
	if (lost)
		return -ENOBUFS;
	if (err && !delivered)
		return err;
	return delivered;
}
