// SPDX-License-Identifier: GPL-2.0
/*
 * The journal fields of the daemon's fault, quarantine and resync messages
 * (daemon/log_journal.c), and when it writes to the journal at all. The
 * journal itself is the vm_system suite's to see; here the fields, field
 * by field, and the JOURNAL_STREAM test.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "log_journal.h"
#include "test_registry.h"

static char buf[LOG_FIELDS_MAX][LOG_FIELD_MAX];
static struct iovec iov[LOG_FIELDS_MAX];

/* Field i is exactly want. */
static void field_is(size_t i, const char *want)
{
	ck_assert_uint_eq(iov[i].iov_len, strlen(want));
	ck_assert_int_eq(memcmp(iov[i].iov_base, want, iov[i].iov_len), 0);
}

TEST("fields", quarantine_names_its_stream)
{
	struct log_ids ids = { "quarantine", 0, 8, LOG_ID_NONE };
	size_t n = log_journal_fields(buf, iov, LOG_WARNING, &ids, "smmu 0 stream 8: quarantined");

	ck_assert_uint_eq(n, 6);
	field_is(0, "MESSAGE=smmu 0 stream 8: quarantined");
	field_is(1, "PRIORITY=4");
	field_is(2, "SYSLOG_IDENTIFIER=pkvm-iommud");
	field_is(3, "PKVM_EVENT=quarantine");
	field_is(4, "PKVM_SMMU=0");
	field_is(5, "PKVM_SID=8");
}
END_TEST

TEST("fields", fault_names_the_owner)
{
	struct log_ids ids = { "fault", 3, 65535, 4096 };
	size_t n = log_journal_fields(buf, iov, LOG_NOTICE, &ids, "fault");

	ck_assert_uint_eq(n, 7);
	field_is(1, "PRIORITY=5");
	field_is(3, "PKVM_EVENT=fault");
	field_is(4, "PKVM_SMMU=3");
	field_is(5, "PKVM_SID=65535");
	field_is(6, "PKVM_OWNER=4096");
}
END_TEST

TEST("fields", resync_has_no_ids)
{
	struct log_ids ids = { "resync", LOG_ID_NONE, LOG_ID_NONE, LOG_ID_NONE };
	size_t n = log_journal_fields(buf, iov, LOG_NOTICE, &ids, "events were lost");

	ck_assert_uint_eq(n, 4);
	field_is(0, "MESSAGE=events were lost");
	field_is(3, "PKVM_EVENT=resync");
}
END_TEST

TEST("fields", long_message_is_cut_inside_its_buffer)
{
	static char msg[3 * LOG_FIELD_MAX];
	struct log_ids ids = { NULL, LOG_ID_NONE, LOG_ID_NONE, LOG_ID_NONE };
	size_t n;

	memset(msg, 'x', sizeof(msg) - 1);
	n = log_journal_fields(buf, iov, LOG_ERR, &ids, msg);
	ck_assert_uint_eq(n, 3);
	ck_assert_uint_eq(iov[0].iov_len, LOG_FIELD_MAX - 1);
	ck_assert_ptr_eq(iov[0].iov_base, buf[0]);
	ck_assert_int_eq(memcmp(buf[0], "MESSAGE=xxx", 11), 0);
}
END_TEST

TEST("stream", journal_only_when_stderr_is_its_stream)
{
	struct stat st;
	char v[64];

	ck_assert_int_eq(fstat(STDERR_FILENO, &st), 0);
	unsetenv("JOURNAL_STREAM");
	ck_assert(!log_stderr_is_journal());
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(log_stderr_is_journal());
	/* Inherited from a parent whose stderr was the journal, ours is not. */
	snprintf(v, sizeof(v), "%llu:%llu", (unsigned long long)st.st_dev,
		 (unsigned long long)st.st_ino + 1);
	setenv("JOURNAL_STREAM", v, 1);
	ck_assert(!log_stderr_is_journal());
	setenv("JOURNAL_STREAM", "journal", 1);
	ck_assert(!log_stderr_is_journal());
	unsetenv("JOURNAL_STREAM");
}
END_TEST

int main(void)
{
	return TEST_RUN("log_journal", TCASE("fields"), TCASE("stream"));
}
