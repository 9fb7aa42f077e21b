/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pkvm_iommu generic-netlink family, read side, as pure parsing on
 * libnl-genl-3 messages: events of the "events" multicast group, runs of
 * a PKVM_IOMMU_CMD_LEDGER_GET dump, and the collector that tells whether
 * every part of a dump was taken at the same ownership generation.
 *
 * The kernel side is kmod/host/genl.c: u64 attributes are written with
 * nla_put_u64_64bit(..., PKVM_IOMMU_A_PAD), so a zero-length PAD attribute
 * may precede any u64; it is skipped. Unknown attributes (a newer module)
 * are ignored; a known attribute of the wrong size is -EBADMSG.
 *
 * Errors are negative errno values. No I/O except nl_events_drain().
 */
#ifndef PKVMD_NL_EVENTS_H
#define PKVMD_NL_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netlink/msg.h>

#include "backend.h"
#include "ledger.h"

/*
 * One multicast event (PKVM_IOMMU_CMD_EVT_*) into *out. -EBADMSG if the
 * message is not a valid genl message or lacks (or has a malformed)
 * attribute the command needs; -EOPNOTSUPP for any other command. The
 * caller checks that nlmsg_type is the family's id. *out is written only
 * on success.
 */
int nl_parse_event(struct nl_msg *msg, struct backend_event *out);

/*
 * One message of a LEDGER_GET dump: the run and the generation of the dump
 * part it came in. -EBADMSG / -EOPNOTSUPP as nl_parse_event.
 */
int nl_parse_ledger_run(struct nl_msg *msg, struct ledger_run *run, uint64_t *generation);

/*
 * Collects the runs of one dump. The kernel drops its lock between dump
 * parts, so parts may reflect different generations: the dump is usable
 * only if every run carried the same one (nl_dump_consistent); otherwise
 * the caller dumps again.
 */
struct nl_dump {
	struct ledger_run *runs;
	size_t nr, cap;
	uint64_t generation;	/* of the first run */
	bool have_generation;	/* at least one run seen */
	bool mixed;		/* a run carried another generation */
	int error;		/* first parse or allocation error, or 0 */
};

void nl_dump_init(struct nl_dump *d);
void nl_dump_reset(struct nl_dump *d);	/* empty again, keeps the array */
void nl_dump_free(struct nl_dump *d);	/* frees the array; d may be reused after init */

/* Appends a run taken at generation: 0 or -ENOMEM (also kept in d->error). */
int nl_dump_add(struct nl_dump *d, const struct ledger_run *run, uint64_t generation);

/* Parses a LEDGER_GET message and adds it: 0, or an error also kept in d->error. */
int nl_dump_add_msg(struct nl_dump *d, struct nl_msg *msg);

/* True if no error and every run carried the same generation (or no run). */
bool nl_dump_consistent(const struct nl_dump *d);

/*
 * Hands the runs over (*runs malloc'ed, caller frees; NULL when n is 0) and
 * empties d. d->error if set; -EAGAIN if the generations differ (d is left
 * as it was). *generation is the runs' generation; with no run it is left
 * untouched (the dump then carries none: the caller takes it elsewhere).
 */
int nl_dump_take(struct nl_dump *d, struct ledger_run **runs, size_t *n, uint64_t *generation);

/*
 * Reads every datagram waiting on a non-blocking netlink socket fd (at most
 * max_msgs messages; 0: no bound), parses the messages whose nlmsg_type is
 * family and calls fn for each event, oldest first. Messages of another
 * type, of unknown commands or malformed are skipped (counted in
 * *skipped if not NULL). Returns the number of events delivered, or
 * -ENOBUFS if the socket reported an overflow while draining (the events
 * that survived are still delivered first), or another -errno from recv.
 */
int nl_events_drain(int fd, uint16_t family, backend_event_fn fn, void *userdata,
		    unsigned int max_msgs, unsigned int *skipped);

#endif
