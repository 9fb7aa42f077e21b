// SPDX-License-Identifier: GPL-2.0
/*
 * The kernel backend of pkvm-iommud: /dev/pkvm-iommu ioctls and the
 * pkvm_iommu generic-netlink family (see backend_kernel.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkvm_iommu.h>
#include <netlink/errno.h>
#include <netlink/genl/ctrl.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "backend_kernel.h"
#include "macro.h"
#include "nl_events.h"

/* Messages read per dispatch() at most, so one busy source cannot starve the loop. */
#define DISPATCH_MAX_MSGS	65536u

struct backend_kernel {
	struct backend base;
	struct backend_ops ops;	/* per instance: kind comes from the module */
	int fd;
	struct nl_sock *ev_sk;	/* "events" subscriber, non-blocking */
	struct nl_sock *cmd_sk;	/* LEDGER_GET dumps */
	uint16_t family;
	unsigned int dump_retries;
};

static struct backend_kernel *to_kb(struct backend *b)
{
	return (struct backend_kernel *)b;
}

DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_msg *, nlmsg_free);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct nl_cb *, nl_cb_put);

/* libnl's error codes back to errno, for the ones its calls here return. */
static int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case 0:			return 0;
	case NLE_INTR:		return -EINTR;
	case NLE_BAD_SOCK:	return -EBADF;
	case NLE_AGAIN:		return -EAGAIN;
	case NLE_NOMEM:		return -ENOMEM;
	case NLE_EXIST:		return -EEXIST;
	case NLE_INVAL:		return -EINVAL;
	case NLE_RANGE:		return -ERANGE;
	case NLE_MSGSIZE:	return -EMSGSIZE;
	case NLE_OPNOTSUPP:	return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:	return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:	return -ENOENT;
	case NLE_NOACCESS:	return -EACCES;
	case NLE_PERM:		return -EPERM;
	case NLE_BUSY:		return -EBUSY;
	case NLE_NODEV:		return -ENODEV;
	case NLE_PROTO_MISMATCH: return -EPROTONOSUPPORT;
	case NLE_SEQ_MISMATCH:
	case NLE_MSG_TRUNC:
	case NLE_MSG_TOOSHORT:
	case NLE_MSG_OVERFLOW:
	case NLE_PARSE_ERR:	return -EBADMSG;
	case NLE_DUMP_INTR:	return -EAGAIN;
	default:		return -EIO;
	}
}

static int xioctl(int fd, unsigned long req, void *arg)
{
	int r;

	do
		r = ioctl(fd, req, arg);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : 0;
}

/* ---- ioctls ---- */

static int kb_info(struct backend *b, struct pkvm_iommu_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_INFO, out);
}

static int kb_smmu_info(struct backend *b, uint32_t index, struct pkvm_iommu_smmu_info *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	out->index = index;
	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_SMMU_INFO, out);
}

static int kb_stream_get(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t *policy)
{
	struct pkvm_iommu_stream s = { .size = sizeof(s), .smmu = smmu, .sid = sid };
	int ret = xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_STREAM_GET, &s);

	if (!ret)
		*policy = s.policy;
	return ret;
}

static int kb_stream_set(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t policy)
{
	struct pkvm_iommu_stream s = { .size = sizeof(s), .smmu = smmu, .sid = sid,
				       .policy = policy };

	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_STREAM_SET, &s);
}

static int kb_split_policy(struct backend *b, uint32_t policy, uint32_t level)
{
	struct pkvm_iommu_split s = { .size = sizeof(s), .policy = policy, .level = level };

	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_SPLIT_POLICY, &s);
}

static int kb_invalidation(struct backend *b, uint32_t *max_ops, uint32_t *window_us)
{
	struct pkvm_iommu_invalidation k = { .size = sizeof(k), .batch_max_ops = *max_ops,
					     .batch_window_us = *window_us };
	int ret = xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_INVALIDATION, &k);

	if (ret)
		return ret;
	*max_ops = k.batch_max_ops;
	*window_us = k.batch_window_us;
	return 0;
}

static int kb_fold(struct backend *b, struct pkvm_iommu_fold *f)
{
	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_FOLD, f);
}

static int kb_stats(struct backend *b, struct pkvm_iommu_stats *out)
{
	memset(out, 0, sizeof(*out));
	out->size = sizeof(*out);
	return xioctl(to_kb(b)->fd, PKVM_IOMMU_IOC_STATS, out);
}

static int kb_range(struct backend *b, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		    uint32_t owner)
{
	struct pkvm_iommu_range r = { .size = sizeof(r), .addr = addr, .len = len,
				      .owner = owner };
	static const unsigned long req[] = {
		[PKVM_IOMMU_OP_DONATE] = PKVM_IOMMU_IOC_DONATE,
		[PKVM_IOMMU_OP_RECLAIM] = PKVM_IOMMU_IOC_RECLAIM,
		[PKVM_IOMMU_OP_SHARE] = PKVM_IOMMU_IOC_SHARE,
		[PKVM_IOMMU_OP_UNSHARE] = PKVM_IOMMU_IOC_UNSHARE,
	};

	if ((unsigned int)op >= PKVM_IOMMU_OP_NR)
		return -EINVAL;
	if (op == PKVM_IOMMU_OP_SHARE || op == PKVM_IOMMU_OP_UNSHARE)
		r.owner = PKVM_OWNER_HOST;	/* ignored by the kernel */
	return xioctl(to_kb(b)->fd, req[op], &r);
}

/* ---- ledger dump ---- */

struct dump_ctx {
	struct nl_dump *d;
	uint16_t family;
	int error;	/* from an NLMSG_ERROR, negative errno */
};

static int dump_valid(struct nl_msg *msg, void *arg)
{
	struct dump_ctx *c = arg;

	if (nlmsg_hdr(msg)->nlmsg_type != c->family) {
		if (!c->d->error)
			c->d->error = -EBADMSG;
		return NL_SKIP;
	}
	/* An error is kept in d->error; read on to the end of the dump. */
	nl_dump_add_msg(c->d, msg);
	return NL_OK;
}

static int dump_err(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct dump_ctx *c = arg;

	c->error = e->error < 0 ? e->error : -e->error;
	if (!c->error)
		c->error = -EIO;
	return NL_STOP;
}

/* One LEDGER_GET dump into d. */
static int run_dump(struct backend_kernel *k, struct nl_dump *d)
{
	struct dump_ctx ctx = { .d = d, .family = k->family };
	_cleanup_(nlmsg_freep) struct nl_msg *msg = nlmsg_alloc();
	_cleanup_(nl_cb_putp) struct nl_cb *base = NULL, *cb = NULL;
	int ret;

	if (!msg)
		return -ENOMEM;
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, k->family, 0, NLM_F_DUMP,
			 PKVM_IOMMU_CMD_LEDGER_GET, PKVM_IOMMU_GENL_VERSION))
		return -ENOMEM;
	ret = nl_send_auto(k->cmd_sk, msg);
	if (ret < 0)
		return nlerr_to_errno(ret);
	base = nl_socket_get_cb(k->cmd_sk);	/* a reference */
	cb = nl_cb_clone(base);
	if (!cb)
		return -ENOMEM;
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, dump_valid, &ctx);
	nl_cb_err(cb, NL_CB_CUSTOM, dump_err, &ctx);
	ret = nl_recvmsgs(k->cmd_sk, cb);
	if (ctx.error)
		return ctx.error;
	return ret < 0 ? nlerr_to_errno(ret) : 0;
}

static int kb_generation(struct backend_kernel *k, uint64_t *gen)
{
	struct pkvm_iommu_info info;
	int ret = kb_info(&k->base, &info);

	if (!ret)
		*gen = info.generation;
	return ret;
}

static int kb_ledger_dump(struct backend *b, struct ledger_run **runs, size_t *n,
			  uint64_t *generation)
{
	struct backend_kernel *k = to_kb(b);
	_cleanup_(nl_dump_free) struct nl_dump d;
	int ret = -EAGAIN;

	nl_dump_init(&d);
	for (unsigned int i = 0; i < k->dump_retries; i++) {
		uint64_t before, after;

		/*
		 * A dump of plain host memory has no message, so no
		 * generation: take it from INFO, and trust it only if it did
		 * not move while the (empty) dump ran.
		 */
		ret = kb_generation(k, &before);
		if (ret)
			break;
		nl_dump_reset(&d);
		ret = run_dump(k, &d);
		if (ret)
			break;
		if (d.error) {
			ret = d.error;
			break;
		}
		if (!nl_dump_consistent(&d)) {
			ret = -EAGAIN;
			continue;
		}
		if (d.nr == 0) {
			ret = kb_generation(k, &after);
			if (ret)
				break;
			if (after != before) {
				ret = -EAGAIN;
				continue;
			}
			*generation = after;
		}
		ret = nl_dump_take(&d, runs, n, generation);
		break;
	}
	return ret;
}

/* ---- events ---- */

static int kb_event_fd(struct backend *b)
{
	return nl_socket_get_fd(to_kb(b)->ev_sk);
}

static int kb_dispatch(struct backend *b, backend_event_fn fn, void *userdata)
{
	struct backend_kernel *k = to_kb(b);

	return nl_events_drain(nl_socket_get_fd(k->ev_sk), k->family, fn, userdata,
			       DISPATCH_MAX_MSGS, NULL);
}

static void kb_free(struct backend *b)
{
	struct backend_kernel *k = to_kb(b);

	if (!k)
		return;
	if (k->ev_sk)
		nl_socket_free(k->ev_sk);
	if (k->cmd_sk)
		nl_socket_free(k->cmd_sk);
	if (k->fd >= 0)
		close(k->fd);
	free(k);
}

static void kb_freep(struct backend_kernel **k)
{
	if (*k)
		kb_free(&(*k)->base);
}

static const struct backend_ops kernel_ops = {
	.name = "kernel",
	.kind = PKVM_IOMMU_BACKEND_HOST,
	.info = kb_info,
	.smmu_info = kb_smmu_info,
	.stream_get = kb_stream_get,
	.stream_set = kb_stream_set,
	.split_policy = kb_split_policy,
	.invalidation = kb_invalidation,
	.fold = kb_fold,
	.stats = kb_stats,
	.range = kb_range,
	.ledger_dump = kb_ledger_dump,
	.event_fd = kb_event_fd,
	.dispatch = kb_dispatch,
	.free = kb_free,
};

/* ---- open ---- */

__attribute__((format(printf, 2, 3)))
static void say(const struct backend_kernel_options *o, const char *fmt, ...)
{
	va_list ap;

	if (!o || !o->errbuf || !o->errbuf_len)
		return;
	va_start(ap, fmt);
	vsnprintf(o->errbuf, o->errbuf_len, fmt, ap);
	va_end(ap);
}

static int open_sockets(struct backend_kernel *k, const struct backend_kernel_options *o,
			unsigned int rcvbuf)
{
	int ret, grp, fd, v;

	k->cmd_sk = nl_socket_alloc();
	k->ev_sk = nl_socket_alloc();
	if (!k->cmd_sk || !k->ev_sk)
		return -ENOMEM;
	ret = genl_connect(k->cmd_sk);
	if (ret < 0) {
		say(o, "generic netlink socket: %s", nl_geterror(ret));
		return nlerr_to_errno(ret);
	}
	nl_socket_disable_auto_ack(k->cmd_sk);
	nl_socket_enable_msg_peek(k->cmd_sk);	/* dump parts may exceed a page */

	ret = genl_ctrl_resolve(k->cmd_sk, PKVM_IOMMU_GENL_NAME);
	if (ret < 0) {
		say(o, "generic netlink family %s: %s", PKVM_IOMMU_GENL_NAME, nl_geterror(ret));
		return nlerr_to_errno(ret);
	}
	k->family = (uint16_t)ret;
	grp = genl_ctrl_resolve_grp(k->cmd_sk, PKVM_IOMMU_GENL_NAME,
				    PKVM_IOMMU_GENL_MCGRP_EVENTS);
	if (grp < 0) {
		say(o, "multicast group %s/%s: %s", PKVM_IOMMU_GENL_NAME,
		    PKVM_IOMMU_GENL_MCGRP_EVENTS, nl_geterror(grp));
		return nlerr_to_errno(grp);
	}

	nl_socket_disable_seq_check(k->ev_sk);
	ret = genl_connect(k->ev_sk);
	if (ret < 0) {
		say(o, "generic netlink socket: %s", nl_geterror(ret));
		return nlerr_to_errno(ret);
	}
	ret = nl_socket_set_nonblocking(k->ev_sk);
	if (ret < 0)
		return nlerr_to_errno(ret);
	ret = nl_socket_set_buffer_size(k->ev_sk, (int)rcvbuf, 0);
	if (ret < 0) {
		say(o, "event socket receive buffer %u: %s", rcvbuf, nl_geterror(ret));
		return nlerr_to_errno(ret);
	}
	/* Past net.core.rmem_max where allowed (root); SO_RCVBUF stays otherwise. */
	fd = nl_socket_get_fd(k->ev_sk);
	v = (int)rcvbuf;
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &v, sizeof(v));
	/*
	 * NETLINK_NO_ENOBUFS stays off: an overflow must be reported, it is
	 * how dispatch() knows to resync. Joined directly for the real errno
	 * (the group needs CAP_SYS_ADMIN).
	 */
	v = grp;
	if (setsockopt(fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &v, sizeof(v)) < 0) {
		ret = -errno;
		say(o, "join %s/%s: %s", PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS,
		    strerror(-ret));
		return ret;
	}
	return 0;
}

int backend_kernel_open(struct backend **out, const struct backend_kernel_options *opts)
{
	const char *path = opts && opts->device ? opts->device : PKVM_IOMMU_DEVICE;
	unsigned int rcvbuf = opts && opts->rcvbuf ? opts->rcvbuf : BACKEND_KERNEL_RCVBUF_DEFAULT;
	_cleanup_(kb_freep) struct backend_kernel *k = NULL;
	struct pkvm_iommu_info info;
	int ret;

	*out = NULL;
	if (rcvbuf > (unsigned int)INT32_MAX / 2)
		return -EINVAL;
	k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->ops = kernel_ops;
	k->base.ops = &k->ops;
	k->dump_retries = opts && opts->dump_retries ? opts->dump_retries
						     : BACKEND_KERNEL_DUMP_RETRIES;
	k->fd = open(path, O_RDWR | O_CLOEXEC);
	if (k->fd < 0) {
		ret = -errno;
		say(opts, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = kb_info(&k->base, &info);
	if (ret) {
		say(opts, "%s: PKVM_IOMMU_IOC_INFO: %s", path, strerror(-ret));
		return ret;
	}
	if (info.abi_version != PKVM_IOMMU_ABI_VERSION) {
		say(opts, "%s: ABI version %u, this daemon speaks %u", path, info.abi_version,
		    PKVM_IOMMU_ABI_VERSION);
		return -EPROTO;
	}
	if (info.backend == PKVM_IOMMU_BACKEND_HOST || info.backend == PKVM_IOMMU_BACKEND_PKVM)
		k->ops.kind = (enum pkvm_iommu_backend)info.backend;
	ret = open_sockets(k, opts, rcvbuf);
	if (ret)
		return ret;
	*out = &TAKE_PTR(k)->base;
	return 0;
}

const char *backend_kernel_strerror_hint(int err)
{
	switch (err < 0 ? -err : err) {
	case ENOENT:
	case ENODEV:
	case ENXIO:
		return "module not loaded? (modprobe pkvm_iommu)";
	case EACCES:
	case EPERM:
		return "need root (CAP_SYS_ADMIN)";
	case ENOTTY:
		return "not a pkvm-iommu device";
	case EPROTO:
		return "module and daemon ABI versions differ";
	case EAGAIN:
		return "the ledger kept changing during the dump; retry";
	case ENOBUFS:
		return "netlink events were lost; a resync by dump follows";
	default:
		return "";
	}
}
