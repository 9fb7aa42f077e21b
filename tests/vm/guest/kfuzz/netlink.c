// SPDX-License-Identifier: GPL-2.0
/*
 * The generic-netlink half of the fuzzer: requests to the pkvm_iommu family
 * (every command, known or not, with and without NLM_F_DUMP), carrying
 * every attribute type at right and wrong lengths, nested where nothing
 * nests, and messages whose length fields lie (short, long, truncated,
 * several in one datagram); dumps abandoned half read; the events group
 * joined and left unread. Replies are drained with a bound and checked:
 * an unprivileged sender never gets data, STATS_GET's reply is whole.
 */
#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kfuzz.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define MSG_MAX		2048
/*
 * A message the kernel drops unanswered (a length that lies) costs this
 * much; a late answer is skipped by its sequence number later.
 */
#define REPLY_WAIT_MS	200

static __thread int nl_fd = -1, ev_fd = -1;
static __thread uint32_t nl_seq;
static __thread uint8_t rx[65536] __attribute__((aligned(8)));

static int nl_open(void)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = -errno;

		close(fd);
		return e;
	}
	return fd;
}

int kf_genl_thread_init(void)
{
	nl_fd = nl_open();
	return nl_fd < 0 ? nl_fd : 0;
}

void kf_genl_thread_exit(void)
{
	if (nl_fd >= 0)
		close(nl_fd);
	if (ev_fd >= 0)
		close(ev_fd);
	nl_fd = ev_fd = -1;
}

/* Appends attribute type t with len bytes of payload; its nla_len may lie. */
static size_t put_attr(struct kf_rng *r, uint8_t *buf, size_t at, size_t cap, int depth)
{
	static const uint16_t good_len[] = {
		[PKVM_IOMMU_A_GENERATION] = 8, [PKVM_IOMMU_A_ADDR] = 8, [PKVM_IOMMU_A_LEN] = 8,
		[PKVM_IOMMU_A_OWNER] = 4, [PKVM_IOMMU_A_SHARED] = 0, [PKVM_IOMMU_A_SMMU] = 4,
		[PKVM_IOMMU_A_SID] = 4, [PKVM_IOMMU_A_FAULT_TYPE] = 4, [PKVM_IOMMU_A_FAULT_FLAGS] = 4,
		[PKVM_IOMMU_A_POLICY] = 4, [PKVM_IOMMU_A_STATS] = 8 * PKVM_IOMMU_STAT_NR,
		[PKVM_IOMMU_A_PAD] = 0,
	};
	struct nlattr *a = (struct nlattr *)(buf + at);
	uint16_t type = (uint16_t)kf_below(r, PKVM_IOMMU_A_MAX + 4);
	size_t len = type <= PKVM_IOMMU_A_MAX ? good_len[type] : kf_below(r, 16), hdr_len;
	bool nested = depth < 3 && kf_one_in(r, 6);

	if (cap - at < NLA_HDRLEN + 8)
		return at;
	if (kf_one_in(r, 4))
		len = kf_one_in(r, 2) ? kf_below(r, 12) : kf_below(r, 600);
	if (len > cap - at - NLA_HDRLEN)
		len = cap - at - NLA_HDRLEN;
	for (size_t k = 0; k < len; k++)
		buf[at + NLA_HDRLEN + k] = (uint8_t)kf_rand(r);
	if (nested) {	/* attributes inside an attribute of ours */
		size_t in = at + NLA_HDRLEN;
		int n = 1 + (int)kf_below(r, 3);

		for (int k = 0; k < n; k++)
			in = put_attr(r, buf, in, cap, depth + 1);
		len = in - at - NLA_HDRLEN;
		type |= NLA_F_NESTED;
	}
	if (kf_one_in(r, 12))
		type |= kf_one_in(r, 2) ? NLA_F_NET_BYTEORDER : NLA_F_NESTED;
	hdr_len = NLA_HDRLEN + len;
	switch (kf_below(r, 16)) {
	case 0: hdr_len = kf_below(r, NLA_HDRLEN); break;	/* shorter than a header */
	case 1: hdr_len += 1 + kf_below(r, 64); break;		/* past the message */
	default: break;
	}
	a->nla_len = (uint16_t)hdr_len;
	a->nla_type = type;
	return at + NLA_ALIGN(NLA_HDRLEN + len);
}

static size_t build_msg(struct kf_rng *r, uint8_t *buf, size_t cap, uint16_t type, uint8_t cmd,
			uint16_t flags)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = (struct genlmsghdr *)(buf + NLMSG_HDRLEN);
	size_t at = NLMSG_HDRLEN + GENL_HDRLEN;
	unsigned int n = kf_one_in(r, 3) ? 0 : kf_below(r, 7);

	memset(buf, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	gh->cmd = cmd;
	gh->version = kf_one_in(r, 8) ? (uint8_t)kf_rand(r) : PKVM_IOMMU_GENL_VERSION;
	if (kf_one_in(r, 16))
		gh->reserved = (uint16_t)kf_rand(r);
	for (unsigned int k = 0; k < n; k++)
		at = put_attr(r, buf, at, cap, 0);
	nh->nlmsg_type = type;
	nh->nlmsg_flags = flags;
	nh->nlmsg_seq = ++nl_seq;
	nh->nlmsg_len = (uint32_t)at;
	switch (kf_below(r, 14)) {
	case 0: nh->nlmsg_len = kf_below(r, NLMSG_HDRLEN + GENL_HDRLEN); break;
	case 1: nh->nlmsg_len += 1 + kf_below(r, 256); break;
	case 2:	/* the datagram cut short of what the header says */
		at = NLMSG_HDRLEN + kf_below(r, (uint32_t)(at - NLMSG_HDRLEN) + 1);
		break;
	default: break;
	}
	return at;
}

/*
 * Reads what the kernel says to seq within REPLY_WAIT_MS: *data counts
 * messages of the family, *err gets the NLMSG_ERROR's code (1 if none).
 * Stops at the ack, NLMSG_DONE, silence, or (a doit without NLM_F_ACK,
 * which gets no ack on success) its reply.
 */
static void drain(int fd, uint16_t family, uint32_t seq, uint16_t flags, unsigned int *data,
		  int *err, bool *stats_whole)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	int rounds = 0;

	*data = 0;
	*err = 1;
	while (rounds++ < 64 && poll(&pfd, 1, REPLY_WAIT_MS) > 0) {
		ssize_t n = recv(fd, rx, sizeof(rx), MSG_DONTWAIT);
		bool end = false;

		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			if (errno == ENOBUFS)
				continue;	/* the kernel dropped a reply: keep reading */
			return;
		}
		for (struct nlmsghdr *nh = (struct nlmsghdr *)rx; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != seq)
				continue;
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				*err = nh->nlmsg_len >= NLMSG_LENGTH(sizeof(int)) ? e->error : -EIO;
				end = true;
			} else if (nh->nlmsg_type == NLMSG_DONE) {
				*err = 0;
				end = true;
			} else if (nh->nlmsg_type == family) {
				const struct genlmsghdr *gh = NLMSG_DATA(nh);

				(*data)++;
				if (!(flags & (NLM_F_DUMP | NLM_F_ACK)))
					end = true;
				if (gh->cmd == PKVM_IOMMU_CMD_STATS_GET) {
					const struct nlattr *a = (const void *)((const uint8_t *)gh +
									       GENL_HDRLEN);
					int left = (int)nh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;

					for (; left >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
					     a->nla_len <= left;
					     left -= NLA_ALIGN(a->nla_len),
					     a = (const void *)((const uint8_t *)a + NLA_ALIGN(a->nla_len)))
						if ((a->nla_type & NLA_TYPE_MASK) == PKVM_IOMMU_A_STATS &&
						    a->nla_len == NLA_HDRLEN + 8 * PKVM_IOMMU_STAT_NR)
							*stats_whole = true;
				}
			}
		}
		if (end)
			return;
	}
}

/* The events group, joined on a socket of its own that is read rarely. */
static void events_churn(struct kf_rng *r, bool priv)
{
	if (ev_fd < 0) {
		int g = (int)kf_env->ev_group, ret;

		ev_fd = nl_open();
		if (ev_fd < 0)
			return;
		ret = setsockopt(ev_fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &g, sizeof(g));
		atomic_fetch_add(&kf->checked, 1);
		if (!priv && !ret)
			kf_violation("uid 65534 joined the events group %d", g);
		if (priv && ret)
			kf_violation("root could not join the events group %d: %s", g, strerror(errno));
		return;
	}
	if (kf_one_in(r, 4)) {	/* read a little; the rest overflows */
		while (recv(ev_fd, rx, kf_one_in(r, 2) ? 64 : sizeof(rx), MSG_DONTWAIT) > 0)
			if (kf_one_in(r, 3))
				break;
	} else if (kf_one_in(r, 8)) {
		close(ev_fd);
		ev_fd = -1;
	}
}

void kf_genl_one(struct kf_rng *r, bool priv)
{
	static const struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	uint8_t buf[2 * MSG_MAX] __attribute__((aligned(8)));
	uint16_t family = kf_env->family, type = family;
	uint8_t cmd = (uint8_t)kf_below(r, PKVM_IOMMU_CMD_MAX + 3);
	uint16_t flags = NLM_F_REQUEST;
	enum kf_call c;
	unsigned int data = 0;
	bool stats_whole = false, abandon = false, shaped;
	size_t len, len2;
	uint32_t seq;
	int err = 1, e;

	if (nl_fd < 0 && kf_genl_thread_init() < 0)
		return;
	if (kf_one_in(r, 10)) {
		events_churn(r, priv);
		return;
	}
	if (kf_one_in(r, 32))
		cmd = (uint8_t)kf_rand(r);
	if (kf_one_in(r, 2))
		flags |= NLM_F_ACK;
	if (cmd == PKVM_IOMMU_CMD_LEDGER_GET ? !kf_one_in(r, 6) : kf_one_in(r, 6))
		flags |= NLM_F_DUMP;
	if (kf_one_in(r, 16))
		flags |= (uint16_t)kf_rand(r) & ~NLM_F_REQUEST;
	if (kf_one_in(r, 20)) {	/* nlctrl, about our family: its own parser */
		type = GENL_ID_CTRL;
		cmd = kf_one_in(r, 2) ? CTRL_CMD_GETFAMILY : CTRL_CMD_GETPOLICY;
	}
	c = type == GENL_ID_CTRL ? KF_GENL_CTRL :
	    cmd <= PKVM_IOMMU_CMD_MAX ? (enum kf_call)(KF_GENL_FIRST + cmd) : KF_GENL_UNKNOWN;

	seq = nl_seq + 1;
	len = build_msg(r, buf, MSG_MAX, type, cmd, flags);
	shaped = ((struct nlmsghdr *)buf)->nlmsg_len == len;
	if (type == GENL_ID_CTRL && kf_one_in(r, 2)) {
		/* A well-formed GETFAMILY/GETPOLICY by id. */
		struct nlattr *a = (struct nlattr *)(buf + NLMSG_HDRLEN + GENL_HDRLEN);

		a->nla_len = NLA_HDRLEN + 2;
		a->nla_type = CTRL_ATTR_FAMILY_ID;
		memcpy(a + 1, &family, 2);
		len = NLMSG_HDRLEN + GENL_HDRLEN + NLA_ALIGN(a->nla_len);
		((struct nlmsghdr *)buf)->nlmsg_len = (uint32_t)len;
	}
	if (kf_one_in(r, 10)) {	/* a second message in the same datagram */
		len = NLMSG_ALIGN(len);
		len2 = build_msg(r, buf + len, MSG_MAX, family, (uint8_t)kf_below(r, 4), NLM_F_REQUEST);
		len += len2;
	}
	if (sendto(nl_fd, buf, len, 0, (const struct sockaddr *)&kernel, sizeof(kernel)) < 0) {
		e = errno;
		kf_count(c, priv, -1, e);
		return;
	}
	abandon = (flags & NLM_F_DUMP) && kf_one_in(r, 8);
	if (abandon) {
		/* Close with the dump's state still held by the kernel. */
		close(nl_fd);
		nl_fd = nl_open();
		kf_count(c, priv, 0, 0);
		return;
	}
	drain(nl_fd, family, seq, flags, &data, &err, &stats_whole);
	kf_count(c, priv, err == 0 || data ? 0 : -1, err < 0 ? -err : err == 1 ? ETIMEDOUT : 0);

	atomic_fetch_add(&kf->checked, 1);
	if (!priv && type == family && data)
		kf_violation("uid 65534 got %u reply messages for genl cmd %u", data, cmd);
	if (!priv && type == family && err == 0 && cmd <= PKVM_IOMMU_CMD_STATS_GET &&
	    cmd != PKVM_IOMMU_CMD_UNSPEC)
		kf_violation("uid 65534: genl cmd %u acknowledged without error", cmd);
	if (priv && shaped && type == family && cmd == PKVM_IOMMU_CMD_STATS_GET &&
	    !(flags & NLM_F_DUMP) && !(flags & ~(NLM_F_REQUEST | NLM_F_ACK)) && data &&
	    !stats_whole)
		kf_violation("STATS_GET reply without a whole PKVM_IOMMU_A_STATS");
}
