// SPDX-License-Identifier: GPL-2.0
/* Minimal raw generic-netlink client; see genl.h. */
#include "genl.h"

#include <errno.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define GENL_BUF	65536

int genl_open(struct genl_sock *s)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	socklen_t len = sizeof(sa);
	int one = 1, rcvbuf = 1 << 20;

	s->fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (s->fd < 0)
		return -errno;
	if (bind(s->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    getsockname(s->fd, (struct sockaddr *)&sa, &len) < 0) {
		int e = -errno;

		close(s->fd);
		s->fd = -1;
		return e;
	}
	/* Best effort: a larger buffer and extended acks for error detail. */
	setsockopt(s->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	setsockopt(s->fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	s->portid = sa.nl_pid;
	s->seq = 1000;
	return 0;
}

void genl_close(struct genl_sock *s)
{
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void parse_attrs(const void *buf, size_t len, const void **attr,
			uint16_t *attr_len, int max)
{
	const struct nlattr *a = buf;

	for (int i = 0; i <= max; i++) {
		attr[i] = NULL;
		attr_len[i] = 0;
	}
	while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN && a->nla_len <= len) {
		int type = a->nla_type & NLA_TYPE_MASK;

		if (type <= max) {
			attr[type] = (const char *)a + NLA_HDRLEN;
			attr_len[type] = (uint16_t)(a->nla_len - NLA_HDRLEN);
		}
		if ((size_t)NLA_ALIGN(a->nla_len) >= len)
			break;
		len -= NLA_ALIGN(a->nla_len);
		a = (const struct nlattr *)((const char *)a + NLA_ALIGN(a->nla_len));
	}
}

static int wait_readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, timeout_ms);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r;
}

static int send_genl(struct genl_sock *s, uint16_t type, uint16_t flags,
		     uint8_t cmd, uint8_t version, const void *attrs, size_t alen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	char buf[512];
	struct nlmsghdr *nh = (struct nlmsghdr *)buf;
	struct genlmsghdr *gh = NLMSG_DATA(nh);
	size_t len = NLMSG_LENGTH(GENL_HDRLEN + alen);

	if (len > sizeof(buf))
		return -E2BIG;
	memset(buf, 0, sizeof(buf));
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = type;
	nh->nlmsg_flags = NLM_F_REQUEST | flags;
	nh->nlmsg_seq = ++s->seq;
	nh->nlmsg_pid = s->portid;
	gh->cmd = cmd;
	gh->version = version;
	memcpy((char *)gh + GENL_HDRLEN, attrs, alen);
	if (sendto(s->fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/*
 * Reads replies to the last request: fn for each message of family, until
 * DONE (dump) or the NLMSG_ERROR that acks a doit (error 0) or refuses
 * either. Returns 0 or a negative errno.
 */
static int recv_replies(struct genl_sock *s, uint16_t family, genl_cb fn,
			void *arg, int timeout_ms)
{
	char *buf = malloc(GENL_BUF);
	int ret = -ETIMEDOUT;

	if (!buf)
		return -ENOMEM;
	for (;;) {
		struct nlmsghdr *nh;
		ssize_t n;
		int r = wait_readable(s->fd, timeout_ms);

		if (r <= 0) {
			ret = r < 0 ? r : -ETIMEDOUT;
			break;
		}
		n = recv(s->fd, buf, GENL_BUF, 0);
		if (n < 0) {
			ret = -errno;
			break;
		}
		for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n);
		     nh = NLMSG_NEXT(nh, n)) {
			if (nh->nlmsg_seq != s->seq)
				continue;	/* stale reply or a multicast */
			if (nh->nlmsg_type == NLMSG_DONE) {
				ret = 0;
				goto out;
			}
			if (nh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nh);

				ret = e->error;	/* 0 is the ack of a doit */
				goto out;
			}
			if (nh->nlmsg_type == family && fn) {
				const struct genlmsghdr *gh = NLMSG_DATA(nh);
				struct genl_msg m = { .cmd = gh->cmd, .version = gh->version };
				int alen = (int)nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

				if (alen >= 0) {
					parse_attrs((const char *)gh + GENL_HDRLEN, (size_t)alen,
						    m.attr, m.attr_len, GENL_MAX_ATTR);
					fn(&m, arg);
				}
			}
		}
	}
out:
	free(buf);
	return ret;
}

int genl_request(struct genl_sock *s, uint16_t family, uint8_t cmd, bool dump,
		 genl_cb fn, void *arg, int timeout_ms)
{
	int ret = send_genl(s, family, dump ? NLM_F_DUMP : NLM_F_ACK, cmd, 1, NULL, 0);

	if (ret)
		return ret;
	return recv_replies(s, family, fn, arg, timeout_ms);
}

struct resolve_ctx {
	const char *mcgrp;
	uint16_t family;
	uint32_t group;
	bool found;
};

static void resolve_cb(const struct genl_msg *m, void *arg)
{
	struct resolve_ctx *c = arg;
	const struct nlattr *g;
	size_t left;

	if (m->attr[CTRL_ATTR_FAMILY_ID] && m->attr_len[CTRL_ATTR_FAMILY_ID] >= 2) {
		memcpy(&c->family, m->attr[CTRL_ATTR_FAMILY_ID], 2);
		c->found = true;
	}
	if (!m->attr[CTRL_ATTR_MCAST_GROUPS] || !c->mcgrp)
		return;
	/* A nest of nests, one per group, each with a name and an id. */
	g = m->attr[CTRL_ATTR_MCAST_GROUPS];
	left = m->attr_len[CTRL_ATTR_MCAST_GROUPS];
	while (left >= NLA_HDRLEN && g->nla_len >= NLA_HDRLEN && g->nla_len <= left) {
		const void *ga[CTRL_ATTR_MCAST_GRP_MAX + 1];
		uint16_t gl[CTRL_ATTR_MCAST_GRP_MAX + 1];

		parse_attrs((const char *)g + NLA_HDRLEN, g->nla_len - NLA_HDRLEN,
			    ga, gl, CTRL_ATTR_MCAST_GRP_MAX);
		if (ga[CTRL_ATTR_MCAST_GRP_NAME] && ga[CTRL_ATTR_MCAST_GRP_ID] &&
		    gl[CTRL_ATTR_MCAST_GRP_ID] == 4 &&
		    strncmp(ga[CTRL_ATTR_MCAST_GRP_NAME], c->mcgrp,
			    gl[CTRL_ATTR_MCAST_GRP_NAME]) == 0 &&
		    strlen(c->mcgrp) + 1 == gl[CTRL_ATTR_MCAST_GRP_NAME])
			memcpy(&c->group, ga[CTRL_ATTR_MCAST_GRP_ID], 4);
		if ((size_t)NLA_ALIGN(g->nla_len) >= left)
			break;
		left -= NLA_ALIGN(g->nla_len);
		g = (const struct nlattr *)((const char *)g + NLA_ALIGN(g->nla_len));
	}
}

int genl_resolve(struct genl_sock *s, const char *name, const char *mcgrp,
		 uint16_t *family, uint32_t *group)
{
	char attrs[NLA_HDRLEN + 64];
	struct nlattr *a = (struct nlattr *)attrs;
	size_t nlen = strlen(name) + 1;
	struct resolve_ctx c = { .mcgrp = mcgrp };
	int ret;

	if (nlen > 64 - 4)
		return -ENAMETOOLONG;
	memset(attrs, 0, sizeof(attrs));
	a->nla_type = CTRL_ATTR_FAMILY_NAME;
	a->nla_len = (uint16_t)(NLA_HDRLEN + nlen);
	memcpy(attrs + NLA_HDRLEN, name, nlen);
	ret = send_genl(s, GENL_ID_CTRL, NLM_F_ACK, CTRL_CMD_GETFAMILY, 1, attrs,
			NLA_ALIGN(a->nla_len));
	if (ret)
		return ret;
	ret = recv_replies(s, GENL_ID_CTRL, resolve_cb, &c, 2000);
	if (ret)
		return ret;
	if (!c.found)
		return -ENOENT;
	*family = c.family;
	if (group)
		*group = c.group;
	return 0;
}

int genl_subscribe(struct genl_sock *s, uint32_t group)
{
	if (setsockopt(s->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
		       sizeof(group)) < 0)
		return -errno;
	return 0;
}

int genl_recv(struct genl_sock *s, uint16_t family, genl_cb fn, void *arg,
	      int timeout_ms)
{
	char *buf;
	struct nlmsghdr *nh;
	ssize_t n;
	int r, count = 0;

	r = wait_readable(s->fd, timeout_ms);
	if (r <= 0)
		return r;
	buf = malloc(GENL_BUF);
	if (!buf)
		return -ENOMEM;
	n = recv(s->fd, buf, GENL_BUF, MSG_DONTWAIT);
	if (n < 0) {
		r = errno == EAGAIN ? 0 : -errno;
		free(buf);
		return r;
	}
	for (nh = (struct nlmsghdr *)buf; NLMSG_OK(nh, (size_t)n); nh = NLMSG_NEXT(nh, n)) {
		const struct genlmsghdr *gh = NLMSG_DATA(nh);
		struct genl_msg m;
		int alen;

		if (nh->nlmsg_type != family)
			continue;
		alen = (int)nh->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		if (alen < 0)
			continue;
		m.cmd = gh->cmd;
		m.version = gh->version;
		parse_attrs((const char *)gh + GENL_HDRLEN, (size_t)alen, m.attr,
			    m.attr_len, GENL_MAX_ATTR);
		fn(&m, arg);
		count++;
	}
	free(buf);
	return count;
}

bool genl_u32(const struct genl_msg *m, int type, uint32_t *v)
{
	if (type > GENL_MAX_ATTR || !m->attr[type] || m->attr_len[type] != 4)
		return false;
	memcpy(v, m->attr[type], 4);
	return true;
}

bool genl_u64(const struct genl_msg *m, int type, uint64_t *v)
{
	if (type > GENL_MAX_ATTR || !m->attr[type] || m->attr_len[type] != 8)
		return false;
	memcpy(v, m->attr[type], 8);
	return true;
}

bool genl_flag(const struct genl_msg *m, int type)
{
	return type <= GENL_MAX_ATTR && m->attr[type] != NULL;
}
