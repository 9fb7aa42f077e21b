/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Messages about one SMMU, stream or owner with those numbers as journal
 * fields (PKVM_EVENT=, PKVM_SMMU=, PKVM_SID=, PKVM_OWNER=), so an operator
 * can ask `journalctl PKVM_EVENT=quarantine PKVM_SID=8` instead of parsing
 * text. Under systemd (stderr is the journal's stream, JOURNAL_STREAM) they
 * go to the journal with their fields; elsewhere through syslog(3) as the
 * daemon's other messages.
 */
#ifndef PKVMD_LOG_JOURNAL_H
#define PKVMD_LOG_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define LOG_ID_NONE	UINT32_MAX	/* a field the message does not have */

struct log_ids {
	const char *event;	/* PKVM_EVENT: "fault", "quarantine", "resync" */
	uint32_t smmu, sid, owner;	/* LOG_ID_NONE: not written */
};

/* Longest formatted field, and most fields of one message. */
#define LOG_FIELD_MAX	1024
#define LOG_FIELDS_MAX	8

/*
 * The journal fields of one message: MESSAGE=, PRIORITY=, SYSLOG_IDENTIFIER=
 * and the ids it has, formatted into buf and pointed to by iov. Returns
 * how many; the journal's sender and the tests use it.
 */
size_t log_journal_fields(char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX], struct iovec *iov,
			  int level, const struct log_ids *ids, const char *msg);

/* Is stderr the journal's stream (systemd's JOURNAL_STREAM=DEV:INODE)? */
bool log_stderr_is_journal(void);

__attribute__((format(printf, 3, 4)))
void log_struct(int level, const struct log_ids *ids, const char *fmt, ...);

#endif
