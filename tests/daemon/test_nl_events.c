// SPDX-License-Identifier: GPL-2.0
/*
 * Netlink parsing of pkvm-iommud: messages built as kmod/host/genl.c
 * builds them (genlmsg_put, u64 with a PAD attribute wherever the kernel's
 * nla_put_u64_64bit would insert one, u32, flag), every event kind and a
 * ledger run parsed back; missing and wrongly sized attributes; unknown
 * commands; the dump collector with equal and differing generations; the
 * event drain on a real netlink socket (NETLINK_USERSOCK stands in for the
 * module's family), including an overflow reported as -ENOBUFS; and
 * backend_kernel_open() on a missing and on a wrong device.
 *
 * The module itself is not here: against it the kernel backend runs only
 * in the QEMU guest of tests/vm.
 */
#include <check.h>
#include "test_registry.h"
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/netlink.h>
#include <linux/pkvm_iommu.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include "backend_kernel.h"
#include "nl_events.h"
#include "nl_encode.h"

#define FAMILY NL_ENC_FAMILY

/* The shared encoder (tests/lib/nl_encode.h); any failure fails the test. */
static struct nl_msg *built(struct nl_msg *m)
{
	ck_assert_ptr_nonnull(m);
	return m;
}

#define new_msg(cmd) built(nl_enc_new(cmd))
#define range_msg(...) built(nl_enc_range(__VA_ARGS__))
#define fault_msg(...) built(nl_enc_fault(__VA_ARGS__))
#define policy_msg(...) built(nl_enc_policy(__VA_ARGS__))
#define run_msg(...) built(nl_enc_run(__VA_ARGS__))
#define put_u64(...) ck_assert_int_eq(nl_enc_u64(__VA_ARGS__), 0)
#define put_u32(...) ck_assert_int_eq(nl_enc_u32(__VA_ARGS__), 0)

static int parse_free(struct nl_msg *m, struct backend_event *ev)
{
	int ret = nl_parse_event(m, ev);

	nlmsg_free(m);
	return ret;
}

static const enum nl_pad pads[] = { NL_PAD_KERNEL, NL_PAD_NONE, NL_PAD_ALWAYS };

/* ---- events ---- */

TEST("events", event_range_kinds)
{
	static const struct { uint8_t cmd; uint32_t kind; } k[] = {
		{ PKVM_IOMMU_CMD_EVT_DONATE, PKVM_IOMMU_OP_DONATE },
		{ PKVM_IOMMU_CMD_EVT_RECLAIM, PKVM_IOMMU_OP_RECLAIM },
		{ PKVM_IOMMU_CMD_EVT_SHARE, PKVM_IOMMU_OP_SHARE },
		{ PKVM_IOMMU_CMD_EVT_UNSHARE, PKVM_IOMMU_OP_UNSHARE },
	};

	for (size_t p = 0; p < 3; p++) {
		for (size_t i = 0; i < 4; i++) {
			struct backend_event ev;
			uint64_t gen = 0x1122334455667788ull + i;

			ck_assert_int_eq(parse_free(range_msg(k[i].cmd, gen, 0xfffff80000001000ull,
							      0x200000ull * (i + 1), 2 + (uint32_t)i,
							      pads[p], 0), &ev), 0);
			ck_assert_int_eq(ev.kind, k[i].kind);
			ck_assert_uint_eq(ev.generation, gen);
			ck_assert_uint_eq(ev.addr, 0xfffff80000001000ull);
			ck_assert_uint_eq(ev.len, 0x200000ull * (i + 1));
			ck_assert_uint_eq(ev.owner, 2 + i);
		}
	}
}
END_TEST

TEST("events", event_fault)
{
	for (size_t p = 0; p < 3; p++) {
		struct backend_event ev;

		ck_assert_int_eq(parse_free(fault_msg(77, 1, 0xabcd, 0x80123456ull, 0x10, 0x5,
						      pads[p], 0), &ev), 0);
		ck_assert_int_eq(ev.kind, BACKEND_EV_FAULT);
		ck_assert_uint_eq(ev.generation, 77);
		ck_assert_uint_eq(ev.smmu, 1);
		ck_assert_uint_eq(ev.sid, 0xabcd);
		ck_assert_uint_eq(ev.addr, 0x80123456ull);
		ck_assert_uint_eq(ev.fault_type, 0x10);
		ck_assert_uint_eq(ev.fault_flags, 0x5);
	}
}
END_TEST

TEST("events", event_policy)
{
	struct backend_event ev;

	ck_assert_int_eq(parse_free(policy_msg(5, 0, 42, PKVM_STREAM_ISOLATE, NL_PAD_KERNEL, 0),
				    &ev), 0);
	ck_assert_int_eq(ev.kind, BACKEND_EV_POLICY);
	ck_assert_uint_eq(ev.generation, 5);
	ck_assert_uint_eq(ev.smmu, 0);
	ck_assert_uint_eq(ev.sid, 42);
	ck_assert_uint_eq(ev.policy, PKVM_STREAM_ISOLATE);
	/* Split policy: smmu and sid all ones, as ioc_split() sends it. */
	ck_assert_int_eq(parse_free(policy_msg(6, ~0u, ~0u, PKVM_SPLIT_BBM, NL_PAD_ALWAYS, 0),
				    &ev), 0);
	ck_assert_uint_eq(ev.smmu, ~0u);
	ck_assert_uint_eq(ev.sid, ~0u);
	ck_assert_uint_eq(ev.policy, PKVM_SPLIT_BBM);
}
END_TEST

/* The kernel's layout really has PAD attributes in it, and they parse. */
TEST("events", event_kernel_pad_present)
{
	struct nl_msg *m = range_msg(PKVM_IOMMU_CMD_EVT_DONATE, 1, 0x1000, 0x1000, 2,
				     NL_PAD_KERNEL, 0);
	struct nlmsghdr *nlh = nlmsg_hdr(m);
	struct nlattr *a;
	int rem, pads_seen = 0;
	struct backend_event ev;

	nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(nlh), 0),
			  genlmsg_attrlen(nlmsg_data(nlh), 0), rem) {
		if (nla_type(a) == PKVM_IOMMU_A_PAD) {
			ck_assert_int_eq(nla_len(a), 0);
			pads_seen++;
		} else if (nla_len(a) == 8) {
			ck_assert_uint_eq((uintptr_t)nla_data(a) % 8, 0);
		}
	}
	/* Header 16 + genl 4 = 20: the first u64 needs a pad, then every other. */
	ck_assert_int_ge(pads_seen, 1);
	ck_assert_int_eq(parse_free(m, &ev), 0);
	ck_assert_uint_eq(ev.addr, 0x1000);
}
END_TEST

TEST("events", event_missing_attrs)
{
	static const int range_need[] = { PKVM_IOMMU_A_GENERATION, PKVM_IOMMU_A_ADDR,
					  PKVM_IOMMU_A_LEN, PKVM_IOMMU_A_OWNER };
	static const int fault_need[] = { PKVM_IOMMU_A_GENERATION, PKVM_IOMMU_A_SMMU,
					  PKVM_IOMMU_A_SID, PKVM_IOMMU_A_ADDR,
					  PKVM_IOMMU_A_FAULT_TYPE, PKVM_IOMMU_A_FAULT_FLAGS };
	static const int policy_need[] = { PKVM_IOMMU_A_GENERATION, PKVM_IOMMU_A_SMMU,
					   PKVM_IOMMU_A_SID, PKVM_IOMMU_A_POLICY };
	struct backend_event ev = { .generation = 999 };

	for (uint8_t cmd = PKVM_IOMMU_CMD_EVT_DONATE; cmd <= PKVM_IOMMU_CMD_EVT_UNSHARE; cmd++)
		for (size_t i = 0; i < 4; i++)
			ck_assert_int_eq(parse_free(range_msg(cmd, 1, 0x1000, 0x1000, 2,
							      NL_PAD_KERNEL, range_need[i]), &ev),
					 -EBADMSG);
	for (size_t i = 0; i < 6; i++)
		ck_assert_int_eq(parse_free(fault_msg(1, 0, 1, 0x1000, 0x10, 0, NL_PAD_KERNEL,
						      fault_need[i]), &ev), -EBADMSG);
	for (size_t i = 0; i < 4; i++)
		ck_assert_int_eq(parse_free(policy_msg(1, 0, 1, 1, NL_PAD_KERNEL, policy_need[i]),
					    &ev), -EBADMSG);
	/* No attribute at all. */
	ck_assert_int_eq(parse_free(new_msg(PKVM_IOMMU_CMD_EVT_DONATE), &ev), -EBADMSG);
	/* Untouched on failure. */
	ck_assert_uint_eq(ev.generation, 999);
}
END_TEST

TEST("events", event_wrong_sizes)
{
	struct backend_event ev;
	struct nl_msg *m;
	uint64_t big = 1;
	uint32_t small = 1;
	uint8_t tiny = 1;

	/* u64 attribute of 4 bytes. */
	m = new_msg(PKVM_IOMMU_CMD_EVT_DONATE);
	ck_assert_int_eq(nla_put(m, PKVM_IOMMU_A_GENERATION, 4, &small), 0);
	put_u64(m, PKVM_IOMMU_A_ADDR, 0x1000, NL_PAD_KERNEL);
	put_u64(m, PKVM_IOMMU_A_LEN, 0x1000, NL_PAD_KERNEL);
	put_u32(m, PKVM_IOMMU_A_OWNER, 2);
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);

	/* u64 attribute of 12 bytes. */
	m = new_msg(PKVM_IOMMU_CMD_EVT_DONATE);
	put_u64(m, PKVM_IOMMU_A_GENERATION, 1, NL_PAD_KERNEL);
	{
		char twelve[12] = { 0 };

		ck_assert_int_eq(nla_put(m, PKVM_IOMMU_A_ADDR, 12, twelve), 0);
	}
	put_u64(m, PKVM_IOMMU_A_LEN, 0x1000, NL_PAD_KERNEL);
	put_u32(m, PKVM_IOMMU_A_OWNER, 2);
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);

	/* u32 attribute of 8 bytes, and of 1 byte. */
	m = range_msg(PKVM_IOMMU_CMD_EVT_DONATE, 1, 0x1000, 0x1000, 0, NL_PAD_KERNEL,
		      PKVM_IOMMU_A_OWNER);
	ck_assert_int_eq(nla_put(m, PKVM_IOMMU_A_OWNER, 8, &big), 0);
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);
	m = policy_msg(1, 0, 1, 1, NL_PAD_KERNEL, PKVM_IOMMU_A_SID);
	ck_assert_int_eq(nla_put(m, PKVM_IOMMU_A_SID, 1, &tiny), 0);
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);

	/* A genl message without even its genl header. */
	m = nlmsg_alloc_simple(FAMILY, 0);
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);

	/* An attribute whose length runs past the message. */
	m = range_msg(PKVM_IOMMU_CMD_EVT_DONATE, 1, 0x1000, 0x1000, 2, NL_PAD_KERNEL, 0);
	{
		struct nlmsghdr *nlh = nlmsg_hdr(m);
		struct nlattr *first = genlmsg_attrdata(nlmsg_data(nlh), 0);

		first->nla_len = 0x7ff0;
	}
	ck_assert_int_eq(parse_free(m, &ev), -EBADMSG);
}
END_TEST

TEST("events", event_unknown_cmd)
{
	struct backend_event ev;
	static const uint8_t cmds[] = { PKVM_IOMMU_CMD_UNSPEC, PKVM_IOMMU_CMD_LEDGER_GET,
					PKVM_IOMMU_CMD_STATS_GET, __PKVM_IOMMU_CMD_MAX, 200 };

	for (size_t i = 0; i < sizeof(cmds); i++)
		ck_assert_int_eq(parse_free(range_msg(cmds[i], 1, 0x1000, 0x1000, 2, NL_PAD_KERNEL,
						      0), &ev), -EOPNOTSUPP);
	ck_assert_int_eq(nl_parse_event(NULL, &ev), -EINVAL);
}
END_TEST

/* A newer module may add attributes: ignored, also beyond A_MAX. */
TEST("events", event_unknown_attr_ignored)
{
	struct backend_event ev;
	struct nl_msg *m = range_msg(PKVM_IOMMU_CMD_EVT_RECLAIM, 9, 0x2000, 0x3000, 1,
				     NL_PAD_KERNEL, 0);

	put_u32(m, PKVM_IOMMU_A_MAX + 5, 0xdead);
	put_u32(m, PKVM_IOMMU_A_POLICY, 1);	/* known, not used by this command */
	ck_assert_int_eq(parse_free(m, &ev), 0);
	ck_assert_int_eq(ev.kind, PKVM_IOMMU_OP_RECLAIM);
	ck_assert_uint_eq(ev.generation, 9);
	ck_assert_uint_eq(ev.len, 0x3000);
}
END_TEST

/* ---- ledger runs and the dump collector ---- */

TEST("dump", ledger_run_parse)
{
	struct ledger_run run;
	uint64_t gen = 0;
	struct nl_msg *m;

	for (size_t p = 0; p < 3; p++) {
		m = run_msg(123, 0x40000000ull, 0x200000ull, PKVM_OWNER_HYP, false, pads[p], 0);
		ck_assert_int_eq(nl_parse_ledger_run(m, &run, &gen), 0);
		nlmsg_free(m);
		ck_assert_uint_eq(gen, 123);
		ck_assert_uint_eq(run.addr, 0x40000000ull);
		ck_assert_uint_eq(run.len, 0x200000ull);
		ck_assert_uint_eq(run.owner, PKVM_OWNER_HYP);
		ck_assert(!run.shared);
	}
	m = run_msg(124, 0x1000, 0x1000, PKVM_OWNER_HOST, true, NL_PAD_KERNEL, 0);
	ck_assert_int_eq(nl_parse_ledger_run(m, &run, &gen), 0);
	nlmsg_free(m);
	ck_assert(run.shared);
	ck_assert_uint_eq(run.owner, PKVM_OWNER_HOST);
	ck_assert_uint_eq(gen, 124);

	/* Missing attributes; a flag with a payload; an event command. */
	for (int a = PKVM_IOMMU_A_GENERATION; a <= PKVM_IOMMU_A_OWNER; a++) {
		m = run_msg(1, 0x1000, 0x1000, 1, false, NL_PAD_KERNEL, a);
		ck_assert_int_eq(nl_parse_ledger_run(m, &run, &gen), -EBADMSG);
		nlmsg_free(m);
	}
	m = run_msg(1, 0x1000, 0x1000, 0, false, NL_PAD_KERNEL, 0);
	put_u32(m, PKVM_IOMMU_A_SHARED, 1);
	ck_assert_int_eq(nl_parse_ledger_run(m, &run, &gen), -EBADMSG);
	nlmsg_free(m);
	m = range_msg(PKVM_IOMMU_CMD_EVT_DONATE, 1, 0x1000, 0x1000, 2, NL_PAD_KERNEL, 0);
	ck_assert_int_eq(nl_parse_ledger_run(m, &run, &gen), -EOPNOTSUPP);
	nlmsg_free(m);
}
END_TEST

static void add_run(struct nl_dump *d, uint64_t gen, uint64_t addr, uint32_t owner)
{
	struct nl_msg *m = run_msg(gen, addr, 0x1000, owner, false, NL_PAD_KERNEL, 0);

	ck_assert_int_eq(nl_dump_add_msg(d, m), 0);
	nlmsg_free(m);
}

TEST("dump", dump_same_generation)
{
	struct nl_dump d;
	struct ledger_run *runs = NULL;
	size_t n = 0;
	uint64_t gen = 0;

	nl_dump_init(&d);
	/* More than the initial capacity, as parts of several skbs would be. */
	for (uint64_t i = 0; i < 1000; i++)
		add_run(&d, 42, 0x100000ull + i * 0x2000, 2 + (uint32_t)(i % 3));
	ck_assert(nl_dump_consistent(&d));
	ck_assert_int_eq(nl_dump_take(&d, &runs, &n, &gen), 0);
	ck_assert_uint_eq(n, 1000);
	ck_assert_uint_eq(gen, 42);
	ck_assert_uint_eq(runs[999].addr, 0x100000ull + 999 * 0x2000);
	ck_assert_uint_eq(runs[999].owner, 2 + 999 % 3);
	free(runs);
	/* Taken: the collector is empty again. */
	ck_assert_uint_eq(d.nr, 0);
	nl_dump_free(&d);
}
END_TEST

TEST("dump", dump_differing_generation)
{
	struct nl_dump d;
	struct ledger_run *runs = NULL;
	size_t n = 7;
	uint64_t gen = 5;

	nl_dump_init(&d);
	add_run(&d, 42, 0x1000, 2);
	add_run(&d, 42, 0x3000, 2);
	add_run(&d, 43, 0x5000, 3);	/* the next part, after a donate */
	ck_assert(!nl_dump_consistent(&d));
	ck_assert_int_eq(nl_dump_take(&d, &runs, &n, &gen), -EAGAIN);
	ck_assert_ptr_null(runs);
	ck_assert_uint_eq(n, 7);
	ck_assert_uint_eq(gen, 5);
	/* A retry that is consistent succeeds on the same collector. */
	nl_dump_reset(&d);
	add_run(&d, 43, 0x1000, 2);
	add_run(&d, 43, 0x5000, 3);
	ck_assert(nl_dump_consistent(&d));
	ck_assert_int_eq(nl_dump_take(&d, &runs, &n, &gen), 0);
	ck_assert_uint_eq(n, 2);
	ck_assert_uint_eq(gen, 43);
	free(runs);
	nl_dump_free(&d);
}
END_TEST

TEST("dump", dump_empty_and_bad)
{
	struct nl_dump d;
	struct ledger_run *runs = (void *)1;
	size_t n = 7;
	uint64_t gen = 5;
	struct nl_msg *m;

	nl_dump_init(&d);
	ck_assert(nl_dump_consistent(&d));
	ck_assert_int_eq(nl_dump_take(&d, &runs, &n, &gen), 0);
	ck_assert_ptr_null(runs);
	ck_assert_uint_eq(n, 0);
	ck_assert_uint_eq(gen, 5);	/* none in an empty dump */

	add_run(&d, 1, 0x1000, 2);
	m = run_msg(1, 0x3000, 0x1000, 2, false, NL_PAD_KERNEL, PKVM_IOMMU_A_LEN);
	ck_assert_int_eq(nl_dump_add_msg(&d, m), -EBADMSG);
	nlmsg_free(m);
	add_run(&d, 1, 0x5000, 2);
	ck_assert(!nl_dump_consistent(&d));
	ck_assert_int_eq(nl_dump_take(&d, &runs, &n, &gen), -EBADMSG);
	nl_dump_free(&d);
}
END_TEST

/* ---- the drain, on real netlink sockets ---- */

struct got {
	struct backend_event ev[4096];
	size_t nr;
};

static void collect(const struct backend_event *ev, void *arg)
{
	struct got *g = arg;

	ck_assert_uint_lt(g->nr, 4096);
	g->ev[g->nr++] = *ev;
}

static int usersock(int rcvbuf)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_USERSOCK);

	ck_assert_int_ge(fd, 0);
	if (rcvbuf)
		ck_assert_int_eq(setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf)), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static uint32_t portid(int fd)
{
	struct sockaddr_nl a;
	socklen_t l = sizeof(a);

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&a, &l), 0);
	return a.nl_pid;
}

/* Sends m to a port (group 0) or to a multicast group; errno on failure. */
static int send_to(int fd, struct nl_msg *m, uint32_t pid, uint32_t groups)
{
	struct sockaddr_nl a = { .nl_family = AF_NETLINK, .nl_pid = pid, .nl_groups = groups };
	struct nlmsghdr *nlh = nlmsg_hdr(m);
	ssize_t r = sendto(fd, nlh, nlh->nlmsg_len, MSG_DONTWAIT, (struct sockaddr *)&a,
			   sizeof(a));

	nlmsg_free(m);
	/*
	 * A multicast send also unicasts to nl_pid (0): no kernel socket on
	 * NETLINK_USERSOCK, so that part is refused after the broadcast went.
	 */
	if (r < 0 && groups && !pid && errno == ECONNREFUSED)
		return 0;
	return r < 0 ? errno : 0;
}

TEST("drain", drain_delivers_in_order_and_skips_foreign)
{
	int rx = usersock(0), tx = usersock(0);
	static struct got g;
	unsigned int skipped = 0;

	g.nr = 0;
	for (uint64_t i = 1; i <= 100; i++)
		ck_assert_int_eq(send_to(tx, range_msg(PKVM_IOMMU_CMD_EVT_DONATE, i, i * 0x1000,
						       0x1000, 2, NL_PAD_KERNEL, 0),
					 portid(rx), 0), 0);
	/* Another family, an unknown command, a malformed event. */
	{
		struct nl_msg *m = nlmsg_alloc();

		genlmsg_put(m, 0, 0, FAMILY + 1, 0, 0, PKVM_IOMMU_CMD_EVT_DONATE, 1);
		ck_assert_int_eq(send_to(tx, m, portid(rx), 0), 0);
	}
	ck_assert_int_eq(send_to(tx, range_msg(PKVM_IOMMU_CMD_STATS_GET, 1, 0, 0, 0, NL_PAD_KERNEL,
					       0), portid(rx), 0), 0);
	ck_assert_int_eq(send_to(tx, range_msg(PKVM_IOMMU_CMD_EVT_DONATE, 1, 0, 0, 0,
					       NL_PAD_KERNEL, PKVM_IOMMU_A_LEN), portid(rx), 0), 0);
	ck_assert_int_eq(send_to(tx, fault_msg(100, 0, 7, 0x5000, 0x10, 1, NL_PAD_KERNEL, 0),
				 portid(rx), 0), 0);

	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 0, &skipped), 101);
	ck_assert_uint_eq(skipped, 3);
	for (size_t i = 0; i < 100; i++) {
		ck_assert_int_eq(g.ev[i].kind, PKVM_IOMMU_OP_DONATE);
		ck_assert_uint_eq(g.ev[i].generation, i + 1);
		ck_assert_uint_eq(g.ev[i].addr, (i + 1) * 0x1000);
	}
	ck_assert_int_eq(g.ev[100].kind, BACKEND_EV_FAULT);
	ck_assert_uint_eq(g.ev[100].sid, 7);
	/* Nothing left: 0, not an error. */
	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 0, NULL), 0);

	/* A bound on messages per call leaves the rest for the next call. */
	g.nr = 0;
	for (uint64_t i = 1; i <= 10; i++)
		ck_assert_int_eq(send_to(tx, range_msg(PKVM_IOMMU_CMD_EVT_RECLAIM, i, 0x1000,
						       0x1000, 2, NL_PAD_KERNEL, 0),
					 portid(rx), 0), 0);
	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 4, NULL), 4);
	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 0, NULL), 6);
	ck_assert_uint_eq(g.ev[9].generation, 10);
	close(rx);
	close(tx);
}
END_TEST

/*
 * A multicast receiver with a tiny buffer, as the daemon's event socket
 * with a small rcvbuf: the overflow is -ENOBUFS, after the events that
 * survived are delivered, and the next drain is clean.
 */
TEST("drain", drain_overflow_enobufs)
{
	int rx = usersock(1), tx = usersock(0);
	int group = 1, off = 0;
	static struct got g;
	unsigned int sent = 0;

	g.nr = 0;
	/* As the daemon: NETLINK_NO_ENOBUFS off. */
	ck_assert_int_eq(setsockopt(rx, SOL_NETLINK, NETLINK_NO_ENOBUFS, &off, sizeof(off)), 0);
	ck_assert_int_eq(setsockopt(rx, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &group,
				    sizeof(group)), 0);
	for (uint64_t i = 1; i <= 500; i++) {
		int e = send_to(tx, range_msg(PKVM_IOMMU_CMD_EVT_DONATE, i, i * 0x1000, 0x1000, 2,
					      NL_PAD_KERNEL, 0), 0, 1u << (group - 1));

		if (e == EPERM)
			ck_abort_msg("multicast on NETLINK_USERSOCK not permitted here");
		ck_assert_int_eq(e, 0);
		sent++;
	}
	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 0, NULL), -ENOBUFS);
	ck_assert_uint_gt(g.nr, 0);
	ck_assert_uint_lt(g.nr, sent);
	/* What survived is in order (the oldest, before the buffer filled). */
	for (size_t i = 1; i < g.nr; i++)
		ck_assert_uint_gt(g.ev[i].generation, g.ev[i - 1].generation);
	/* Drained: the next call sees new events and no error. */
	g.nr = 0;
	ck_assert_int_eq(send_to(tx, range_msg(PKVM_IOMMU_CMD_EVT_RECLAIM, 501, 0x1000, 0x1000,
					       2, NL_PAD_KERNEL, 0), 0, 1), 0);
	ck_assert_int_eq(nl_events_drain(rx, FAMILY, collect, &g, 0, NULL), 1);
	ck_assert_uint_eq(g.ev[0].generation, 501);
	close(rx);
	close(tx);
}
END_TEST

/* ---- opening the kernel backend without the module ---- */

TEST("open", open_missing_device)
{
	char err[256] = "";
	struct backend_kernel_options o = {
		.device = "/nonexistent/pkvm-iommu", .rcvbuf = 4096,
		.errbuf = err, .errbuf_len = sizeof(err),
	};
	struct backend *b = (void *)1;

	ck_assert_int_eq(backend_kernel_open(&b, &o), -ENOENT);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "/nonexistent/pkvm-iommu"));
	ck_assert_ptr_nonnull(strstr(backend_kernel_strerror_hint(-ENOENT), "module not loaded"));
}
END_TEST

TEST("open", open_not_a_device)
{
	char err[256] = "";
	struct backend_kernel_options o = { .device = "/dev/null", .errbuf = err,
					    .errbuf_len = sizeof(err) };
	struct backend *b;

	ck_assert_int_eq(backend_kernel_open(&b, &o), -ENOTTY);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(err, "/dev/null"));
	ck_assert_str_eq(backend_kernel_strerror_hint(ENOTTY), "not a pkvm-iommu device");
}
END_TEST

TEST("open", strerror_hints)
{
	ck_assert_ptr_nonnull(strstr(backend_kernel_strerror_hint(-ENODEV), "module not loaded"));
	ck_assert_ptr_nonnull(strstr(backend_kernel_strerror_hint(ENOENT), "module not loaded"));
	ck_assert_ptr_nonnull(strstr(backend_kernel_strerror_hint(-EACCES), "need root"));
	ck_assert_ptr_nonnull(strstr(backend_kernel_strerror_hint(-EPERM), "need root"));
	ck_assert_str_eq(backend_kernel_strerror_hint(-EINVAL), "");
	ck_assert_str_eq(backend_kernel_strerror_hint(0), "");
}
END_TEST

int main(void)
{
	return TEST_RUN("nl_events",
			TCASE("events"),
			TCASE("dump"),
			TCASE("drain"),
			TCASE("open"));
}
