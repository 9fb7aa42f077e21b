// SPDX-License-Identifier: GPL-2.0
/* See log_journal.h. */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>
#include <syslog.h>

#include <systemd/sd-journal.h>

#include "log_journal.h"

static size_t field(char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX], struct iovec *iov, size_t n,
		    const char *name, uint32_t v)
{
	if (v == LOG_ID_NONE)
		return n;
	iov[n].iov_base = buf[n];
	iov[n].iov_len = (size_t)snprintf(buf[n], LOG_FIELD_MAX, "%s=%" PRIu32, name, v);
	return n + 1;
}

static size_t text(char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX], struct iovec *iov, size_t n,
		   const char *name, const char *v)
{
	int len = snprintf(buf[n], LOG_FIELD_MAX, "%s=%s", name, v);

	iov[n].iov_base = buf[n];
	/* A longer message is cut, never sent past the buffer. */
	iov[n].iov_len = len < LOG_FIELD_MAX ? (size_t)len : LOG_FIELD_MAX - 1;
	return n + 1;
}

size_t log_journal_fields(char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX], struct iovec *iov,
			  int level, const struct log_ids *ids, const char *msg)
{
	char prio[2] = { (char)('0' + (level & LOG_PRIMASK)), 0 };
	size_t n = 0;

	n = text(buf, iov, n, "MESSAGE", msg);
	n = text(buf, iov, n, "PRIORITY", prio);
	n = text(buf, iov, n, "SYSLOG_IDENTIFIER", "pkvm-iommud");
	if (ids->event)
		n = text(buf, iov, n, "PKVM_EVENT", ids->event);
	n = field(buf, iov, n, "PKVM_SMMU", ids->smmu);
	n = field(buf, iov, n, "PKVM_SID", ids->sid);
	n = field(buf, iov, n, "PKVM_OWNER", ids->owner);
	return n;
}

bool log_stderr_is_journal(void)
{
	const char *e = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (!e || sscanf(e, "%llu:%llu", &dev, &ino) != 2 || fstat(STDERR_FILENO, &st))
		return false;
	return (unsigned long long)st.st_dev == dev && (unsigned long long)st.st_ino == ino;
}

void log_struct(int level, const struct log_ids *ids, const char *fmt, ...)
{
	char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX], msg[LOG_FIELD_MAX];
	struct iovec iov[LOG_FIELDS_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	/* The journal refused it (or is not there): the text still goes out. */
	if (!log_stderr_is_journal() ||
	    sd_journal_sendv(iov, log_journal_fields(buf, iov, level, ids, msg)) < 0)
		syslog(level, "%s", msg);
}
