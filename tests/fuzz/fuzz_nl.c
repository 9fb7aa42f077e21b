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

#include "nl_encode.h"
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
	if (!nlmsg_put(msg, 0, 0, NL_ENC_FAMILY, 0, 0))
		abort();
	p = nlmsg_reserve(msg, size, 1);
	if (!p)
		abort();
	memcpy(p, data, size);
	return msg;
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
		/* Written back as the module writes it (tests/lib/nl_encode.c). */
		again = nl_enc_event(&ev, NL_PAD_NONE);
		INVARIANT(again);
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
		again = nl_enc_run(gen, run.addr, run.len, run.owner, run.shared, NL_PAD_NONE, 0);
		INVARIANT(again);
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
