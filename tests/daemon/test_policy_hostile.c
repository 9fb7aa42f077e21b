// SPDX-License-Identifier: GPL-2.0
/*
 * Check suite of the policy parser against what a hostile or careless file
 * holds (issue 14): a document that is only null, text that is not strict
 * UTF-8 (overlong forms, surrogates, code points above U+10FFFF, cut
 * sequences, \u escapes json-c silently rewrites), and a path that is not a
 * regular file (a FIFO would block a plain open forever). Every refusal
 * leaves the policy in force untouched and every message is printable
 * strict UTF-8, so the daemon can send it on the bus.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "test_registry.h"

/*
 * Strict UTF-8 (Unicode 15, table 3-7), written independently of the
 * daemon's decoder so that one cannot vouch for the other.
 */
static bool strict_utf8(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char b = s[i];
		unsigned char lo = 0x80, hi = 0xbf;
		size_t n;

		if (b < 0x80) {
			i++;
			continue;
		}
		if (b >= 0xc2 && b <= 0xdf)
			n = 1;
		else if (b == 0xe0)
			n = 2, lo = 0xa0;
		else if (b == 0xed)
			n = 2, hi = 0x9f;
		else if (b >= 0xe1 && b <= 0xef)
			n = 2;
		else if (b == 0xf0)
			n = 3, lo = 0x90;
		else if (b == 0xf4)
			n = 3, hi = 0x8f;
		else if (b >= 0xf1 && b <= 0xf3)
			n = 3;
		else
			return false;
		if (i + n >= len)
			return false;
		if (s[i + 1] < lo || s[i + 1] > hi)
			return false;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xbf)
				return false;
		i += n + 1;
	}
	return true;
}

/* Valid strict UTF-8 without a C0 control or DEL: safe on a bus and a terminal. */
static void expect_printable(const char *what, const char *m)
{
	ck_assert_msg(strict_utf8(m, strlen(m)), "%s: message is not UTF-8: %s", what, m);
	for (const char *p = m; *p; p++)
		ck_assert_msg((unsigned char)*p >= 0x20 && *p != 0x7f,
			      "%s: control character in message: %s", what, m);
}

/*
 * Parses doc (len bytes) over good, which must stay untouched; the
 * messages must be printable and the first must hold each of want[].
 */
static void expect_refused(const char *what, const char *doc, size_t len,
			   const char *const want[])
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, before = { 0 };
	struct policy_errors e;
	int r;

	policy_init_default(&p);
	ck_assert_int_eq(policy_set_stream(&p, 0, 8, PKVM_STREAM_ISOLATE), 0);
	p.default_action = PKVM_STREAM_ISOLATE;
	p.split.mode = PKVM_SPLIT_BBM;
	ck_assert_int_eq(policy_copy(&before, &p), 0);
	r = policy_parse_string(doc, len, &p, &e);
	ck_assert_msg(r == -EINVAL, "%s: parsed (%d), expected -EINVAL", what, r);
	ck_assert_msg(e.n >= 1, "%s: no message", what);
	for (size_t i = 0; i < e.n; i++)
		expect_printable(what, e.msg[i]);
	for (size_t i = 0; want[i]; i++)
		ck_assert_msg(strstr(e.msg[0], want[i]), "%s: message\n  %s\nlacks\n  %s",
			      what, e.msg[0], want[i]);
	ck_assert_msg(policy_equal(&p, &before), "%s: the policy changed", what);
}

/* A fresh directory with up to two file paths in it, removed by tmp_done(). */
struct tmp {
	char dir[32];
	char path[2][PATH_MAX];
};

static void tmp_init(struct tmp *t, const char *name0, const char *name1)
{
	*t = (struct tmp){ .dir = "/tmp/policy-hostile-XXXXXX" };
	ck_assert_ptr_nonnull(mkdtemp(t->dir));
	snprintf(t->path[0], PATH_MAX, "%s/%s", t->dir, name0);
	if (name1)
		snprintf(t->path[1], PATH_MAX, "%s/%s", t->dir, name1);
}

static void tmp_done(struct tmp *t)
{
	for (size_t i = 0; i < 2; i++)
		if (t->path[i][0])
			unlink(t->path[i]);
	ck_assert_int_eq(rmdir(t->dir), 0);
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_ptr_nonnull(f);
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* ---- defect 1: a document that is only null ---- */

TEST("null", null_document)
{
	static const char *const docs[] = { "null", " null\n", "\n\tnull \r\n" };
	static const char *const want[] = { "$: expected an object, got null", NULL };

	for (size_t i = 0; i < sizeof(docs) / sizeof(docs[0]); i++)
		expect_refused(docs[i], docs[i], strlen(docs[i]), want);
}
END_TEST

TEST("null", null_file)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	struct tmp t;

	tmp_init(&t, "policy.json", NULL);
	write_text(t.path[0], "null\n");
	policy_init_default(&p);
	p.split.mode = PKVM_SPLIT_HITLESS;
	ck_assert_int_eq(policy_load_file(t.path[0], &p, &e), -EINVAL);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], "$: expected an object, got null");
	ck_assert_int_eq(p.split.mode, PKVM_SPLIT_HITLESS);
	tmp_done(&t);
}
END_TEST

/* ---- defects 3 and 4: strict UTF-8 in every string ---- */

#define DOC(s) s, sizeof(s) - 1

static const struct bad_text {
	const char *name, *doc;
	size_t len;
	const char *want[4];
} bad_texts[] = {
	/* In metrics.path (defect 4): refused with its path and byte offset. */
	{ "overlong c0 af", DOC("{\"version\":1,\"metrics\":{\"path\":\"/run/\xc0\xaf\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 37", "overlong" } },
	{ "overlong e0 80 af", DOC("{\"version\":1,\"metrics\":{\"path\":\"/run/\xe0\x80\xaf\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 37", "overlong" } },
	{ "overlong f0 80 80 af", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xf0\x80\x80\xaf\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "overlong" } },
	{ "surrogate ed a0 80", DOC("{\"version\":1,\"metrics\":{\"path\":\"/run/\xed\xa0\x80\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 37", "surrogate" } },
	{ "surrogate ed bf bf", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xed\xbf\xbf\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "surrogate" } },
	{ "above 10ffff f4 90 80 80", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xf4\x90\x80\x80\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "U+10FFFF" } },
	{ "above 10ffff f7 bf bf bf", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xf7\xbf\xbf\xbf\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "U+10FFFF" } },
	{ "truncated e2 82", DOC("{\"version\":1,\"metrics\":{\"path\":\"/run/\xe2\x82\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 37", "truncated" } },
	{ "truncated f0 9f 98", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xf0\x9f\x98/x\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "truncated" } },
	{ "lone continuation 80", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\x80\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "continuation" } },
	{ "byte ff", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xff\"}}"),
	  { "$.metrics.path: ", "invalid utf-8", "byte offset 33", "0xff" } },
	/* Any string: an enum value, a PCI address, a key, a nested key. */
	{ "enum value", DOC("{\"version\":1,\"default_stream_action\":\"\xc0\xaf\"}"),
	  { "$.default_stream_action: ", "invalid utf-8", "byte offset 38", NULL } },
	{ "pci value", DOC("{\"version\":1,\"streams\":[{\"pci\":\"\xed\xa0\x80\",\"action\":\"block\"}]}"),
	  { "$.streams[0].pci: ", "invalid utf-8", "byte offset 32", "surrogate" } },
	{ "key", DOC("{\"version\":1,\"\xed\xa0\x80\":1}"),
	  { "$: ", "invalid utf-8", "in a key", "byte offset 14" } },
	{ "nested key", DOC("{\"version\":1,\"fold\":{\"x\xc0\xaf\":1}}"),
	  { "$.fold: ", "invalid utf-8", "in a key", "byte offset 23" } },
	{ "value under a bad key", DOC("{\"version\":1,\"\xc0\":{\"a\":\"\xff\"}}"),
	  { "$: ", "in a key", "byte offset 14", NULL } },
	/* \u escapes json-c would quietly turn into U+FFFD or cut at. */
	{ "lone high surrogate escape", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\\ud800\"}}"),
	  { "$.metrics.path: ", "unpaired surrogate \\ud800", NULL } },
	{ "high surrogate then letter", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\\ud83dx\"}}"),
	  { "$.metrics.path: ", "unpaired surrogate \\ud83d", NULL } },
	{ "lone low surrogate escape", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\\uDC00\"}}"),
	  { "$.metrics.path: ", "unpaired surrogate \\udc00", NULL } },
	{ "two high surrogates", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\\ud800\\ud800\"}}"),
	  { "$.metrics.path: ", "unpaired surrogate \\ud800", NULL } },
	{ "NUL escape in a key", DOC("{\"version\":1,\"fold\":{\"mode\\u0000x\":\"lazy\"}}"),
	  { "$.fold: ", "NUL", NULL } },
	{ "NUL escape in a value", DOC("{\"version\":1,\"default_stream_action\":\"block\\u0000\"}"),
	  { "$.default_stream_action: ", "NUL", NULL } },
	/* Outside a string, where json-c's own error would come first. */
	{ "after a cut document", DOC("{\"version\":1,\"metrics\":{\"path\":\"/\xc0\xaf"),
	  { "invalid utf-8", "byte offset 33", "overlong", NULL } },
};

TEST_LOOP("utf8", bad_text, 0, sizeof(bad_texts) / sizeof(bad_texts[0]))
{
	const struct bad_text *b = &bad_texts[_i];
	const char *want[5] = { 0 };

	memcpy(want, b->want, sizeof(b->want));
	expect_refused(b->name, b->doc, b->len, want);
}
END_TEST

/* Messages never carry what they quote raw: no bidi override, no C1 control. */
TEST("utf8", quoted_escaped)
{
	static const char *const tricky[] = {
		"{\"version\":1,\"\xe2\x80\xae" "evil\":1}",	/* U+202E, right-to-left override */
		"{\"version\":1,\"a\xc2\x85" "b\":1}",	/* U+0085, next line (C1) */
		"{\"version\":1,\"a\xe2\x80\xa8" "b\":1}",	/* U+2028, line separator */
		"{\"version\":1,\"a\\u001b[31mred\":1}",	/* ESC, as an escape */
		"{\"version\":1,\"default_stream_action\":\"\xe2\x81\xa6x\"}",	/* U+2066 */
	};
	static const char *const want[] = { "\\u202e", "\\u0085", "\\u2028", "\\u001b", "\\u2066" };

	for (size_t i = 0; i < sizeof(tricky) / sizeof(tricky[0]); i++) {
		const char *w[] = { want[i], NULL };

		expect_refused(tricky[i], tricky[i], strlen(tricky[i]), w);
	}
}
END_TEST

/* A message cut to its buffer still ends on a whole character. */
TEST("utf8", long_quote_cut)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	char doc[600];
	int k;

	k = snprintf(doc, sizeof(doc), "{\"version\":1,\"x");
	for (int i = 0; i < 120; i++)
		k += snprintf(doc + k, sizeof(doc) - k, "\xf0\x9f\x98\x80");	/* U+1F600 */
	k += snprintf(doc + k, sizeof(doc) - k, "\":1}");
	policy_init_default(&p);
	ck_assert_int_eq(policy_parse_string(doc, k, &p, &e), -EINVAL);
	ck_assert_uint_eq(e.n, 1);
	expect_printable("long key", e.msg[0]);
	ck_assert_ptr_nonnull(strstr(e.msg[0], "$: unknown key \"x\xf0\x9f\x98\x80"));
	ck_assert_ptr_nonnull(strstr(e.msg[0], "...\""));
}
END_TEST

/* Strict is not narrow: every valid form still parses, exactly. */
TEST("utf8", valid_accepted)
{
	static const struct {
		const char *doc, *path;
	} good[] = {
		{ "{\"version\":1,\"metrics\":{\"path\":\"/run/\xc3\xa9t\xc3\xa9\"}}", "/run/\xc3\xa9t\xc3\xa9" },
		{ "{\"version\":1,\"metrics\":{\"path\":\"/\xc2\x80\xdf\xbf\"}}", "/\xc2\x80\xdf\xbf" },
		{ "{\"version\":1,\"metrics\":{\"path\":\"/\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf\"}}",
		  "/\xe0\xa0\x80\xed\x9f\xbf\xee\x80\x80\xef\xbf\xbf" },
		{ "{\"version\":1,\"metrics\":{\"path\":\"/\xf0\x90\x80\x80\xf4\x8f\xbf\xbf\"}}",
		  "/\xf0\x90\x80\x80\xf4\x8f\xbf\xbf" },
		{ "{\"version\":1,\"metrics\":{\"path\":\"/\\ud83d\\ude00\\u00e9\\uffff\"}}",
		  "/\xf0\x9f\x98\x80\xc3\xa9\xef\xbf\xbf" },
		{ "{\"version\":1,\"metrics\":{\"path\":\"/\\udbff\\udfff\"}}", "/\xf4\x8f\xbf\xbf" },
	};

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		_cleanup_policy_ struct pkvm_policy p = { 0 }, back = { 0 };
		_cleanup_free_ char *text = NULL;
		struct policy_errors e;
		int r;

		policy_init_default(&p);
		r = policy_parse_string(good[i].doc, strlen(good[i].doc), &p, &e);
		ck_assert_msg(r == 0, "%zu: %d %s", i, r, e.n ? e.msg[0] : "");
		ck_assert_str_eq(p.metrics.path, good[i].path);
		ck_assert_ptr_nonnull(text = policy_to_json(&p));
		ck_assert(strict_utf8(text, strlen(text)));
		policy_init_default(&back);
		ck_assert_int_eq(policy_parse_string(text, strlen(text), &back, &e), 0);
		ck_assert(policy_equal(&p, &back));
	}
}
END_TEST

/* What cannot be parsed back is never written (GetPolicy parses it). */
TEST("utf8", write_refuses_bad_path)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct tmp t;

	tmp_init(&t, "policy.json", NULL);
	policy_init_default(&p);
	ck_assert_ptr_nonnull(p.metrics.path = strdup("/run/\xc0\xaf"));
	ck_assert_int_eq(policy_write_atomic(&p, t.path[0]), -EINVAL);
	ck_assert_int_eq(access(t.path[0], F_OK), -1);
	tmp_done(&t);
}
END_TEST

/* An unreadable path's message is printable too: the path is the caller's. */
TEST("utf8", path_in_message)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;

	policy_init_default(&p);
	ck_assert_int_eq(policy_load_file("/nonexistent/\xff\x1b[0m.json", &p, &e), -ENOENT);
	ck_assert_uint_eq(e.n, 1);
	expect_printable("path", e.msg[0]);
	ck_assert_str_eq(e.msg[0], "/nonexistent/\\xff\\u001b[0m.json: No such file or directory");
}
END_TEST

/* For names from outside in JSON output (policy check --json's "file"). */
TEST("utf8", escape_text)
{
	_cleanup_free_ char *a = policy_escape_text("/etc/\xc3\xa9t\xc3\xa9.json");
	_cleanup_free_ char *b = policy_escape_text("/tmp/\xff\xc0\xaf\x1b\xe2\x80\xae\x7f\"\\");

	ck_assert_str_eq(a, "/etc/\xc3\xa9t\xc3\xa9.json");
	ck_assert_str_eq(b, "/tmp/\\xff\\xc0\\xaf\\u001b\\u202e\\u007f\"\\");
	expect_printable("escape_text", b);
}
END_TEST

/* ---- defect 8: only a regular file is read ---- */

/*
 * A blocking open of a FIFO without a writer never returns: the alarm
 * turns that hang into a failure (SIGALRM kills the runner) within 10 s.
 */
TEST("file", fifo_refused)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	struct tmp t;
	int r;

	tmp_init(&t, "policy.json", NULL);
	ck_assert_int_eq(mkfifo(t.path[0], 0600), 0);
	policy_init_default(&p);
	p.split.mode = PKVM_SPLIT_BBM;
	alarm(10);
	r = policy_load_file(t.path[0], &p, &e);
	alarm(0);
	ck_assert_int_eq(r, -EBADFD);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_ptr_nonnull(strstr(e.msg[0], t.path[0]));
	ck_assert_ptr_nonnull(strstr(e.msg[0], "not a regular file (a FIFO)"));
	ck_assert_int_eq(p.split.mode, PKVM_SPLIT_BBM);
	tmp_done(&t);
}
END_TEST

TEST("file", device_refused)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;

	policy_init_default(&p);
	alarm(10);
	ck_assert_int_eq(policy_load_file("/dev/null", &p, &e), -EBADFD);
	alarm(0);
	ck_assert_str_eq(e.msg[0], "/dev/null: not a regular file (a character device)");
}
END_TEST

/* A symlink to a regular file is an admin's choice, still read. */
TEST("file", symlink_followed)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	struct tmp t;

	tmp_init(&t, "real.json", "policy.json");
	write_text(t.path[0], "{\"version\": 1, \"split_policy\": {\"mode\": \"bbm\"}}\n");
	ck_assert_int_eq(symlink("real.json", t.path[1]), 0);
	policy_init_default(&p);
	ck_assert_int_eq(policy_load_file(t.path[1], &p, &e), 0);
	ck_assert_int_eq(p.split.mode, PKVM_SPLIT_BBM);
	tmp_done(&t);
}
END_TEST

int main(void)
{
	return TEST_RUN("policy_hostile",
			TCASE("null"),
			TCASE("utf8"),
			TCASE("file"));
}
