// SPDX-License-Identifier: GPL-2.0
/*
 * Check suite of the daemon's policy module (daemon/policy.c) over the files
 * in $POLICY_DIR: good files parse to exact values, every bad file fails
 * with exactly the messages listed below, and the API keeps its promises
 * (all-or-nothing parse, canonical round trip, atomic write).
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "policy.h"
#include "test_registry.h"

static const char *pfile(const char *name)
{
	static char buf[PATH_MAX];
	const char *dir = getenv("POLICY_DIR");

	ck_assert_msg(dir, "POLICY_DIR is not set");
	snprintf(buf, sizeof(buf), "%s/%s", dir, name);
	return buf;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(POLICY_FILE_MAX + 1);

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, POLICY_FILE_MAX, f);
	buf[*len] = '\0';
	fclose(f);
	return buf;
}

static void load_good(const char *name, struct pkvm_policy *p)
{
	struct policy_errors e;
	int r = policy_load_file(pfile(name), p, &e);

	ck_assert_msg(r == 0, "%s: %d, %s", name, r, e.n ? e.msg[0] : "no message");
	ck_assert_uint_eq(e.n, 0);
}

/* Names in POLICY_DIR starting with prefix, NULL-terminated, sorted. */
static char **list_files(const char *prefix, size_t *nr)
{
	struct dirent **ents;
	char **names;
	int i, n;

	n = scandir(getenv("POLICY_DIR"), &ents, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	names = calloc(n + 1, sizeof(*names));
	*nr = 0;
	for (i = 0; i < n; i++) {
		if (!strncmp(ents[i]->d_name, prefix, strlen(prefix)))
			names[(*nr)++] = strdup(ents[i]->d_name);
		free(ents[i]);
	}
	free(ents);
	return names;
}

static void free_list(char **names)
{
	for (char **n = names; *n; n++)
		free(*n);
	free(names);
}

static void expect_defaults_except_streams(const struct pkvm_policy *p)
{
	ck_assert_int_eq(p->version, 1);
	ck_assert_int_eq(p->split.mode, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(p->split.level, 0);
	ck_assert_uint_eq(p->invalidation.batch_max_ops, 1);
	ck_assert_uint_eq(p->invalidation.batch_window_us, 0);
	ck_assert_int_eq(p->fold.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(p->fold.compact_budget, 8);
	ck_assert_uint_eq(p->fold.idle_ms, 100);
	ck_assert(policy_fold_is_default(p));
	ck_assert_uint_eq(p->fault_limit.faults, 100);
	ck_assert_uint_eq(p->fault_limit.seconds, 10);
	ck_assert(p->fault_limit.quarantine);
	ck_assert_ptr_null(p->metrics.path);
	ck_assert_uint_eq(p->metrics.interval_s, 15);
}

static void expect_sid(const struct pkvm_stream_rule *r, uint32_t smmu, uint32_t sid,
		       enum pkvm_stream_policy action)
{
	ck_assert_int_eq(r->kind, POLICY_RULE_SID);
	ck_assert_uint_eq(r->smmu, smmu);
	ck_assert_uint_eq(r->sid, sid);
	ck_assert_int_eq(r->action, action);
}

static void expect_pci(const struct pkvm_stream_rule *r, const char *pci,
		       enum pkvm_stream_policy action)
{
	ck_assert_int_eq(r->kind, POLICY_RULE_PCI);
	ck_assert_str_eq(r->pci, pci);
	ck_assert_int_eq(r->action, action);
}

/* ------------------------------------------------------------------ */
/* Good files                                                          */
/* ------------------------------------------------------------------ */

TEST("good", defaults)
{
	_cleanup_policy_ struct pkvm_policy d, m = { 0 };

	policy_init_default(&d);
	expect_defaults_except_streams(&d);
	ck_assert_int_eq(d.default_action, PKVM_STREAM_BLOCK);
	ck_assert_uint_eq(d.nr_streams, 0);
	ck_assert_ptr_null(d.streams);
	load_good("good-minimal.json", &m);
	ck_assert(policy_equal(&d, &m));
}
END_TEST

TEST("good", good_full)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };

	load_good("good-full.json", &p);
	ck_assert_int_eq(p.version, 1);
	ck_assert_int_eq(p.default_action, PKVM_STREAM_ISOLATE);
	ck_assert_uint_eq(p.nr_streams, 4);
	expect_sid(&p.streams[0], 0, 8, PKVM_STREAM_BLOCK);
	expect_sid(&p.streams[1], 0, 9, PKVM_STREAM_ISOLATE);	/* smmu defaults to 0 */
	expect_sid(&p.streams[2], 1, 8, PKVM_STREAM_BLOCK);
	expect_pci(&p.streams[3], "0000:00:01.0", PKVM_STREAM_BLOCK);
	ck_assert_int_eq(p.split.mode, PKVM_SPLIT_BBM);
	ck_assert_uint_eq(p.split.level, 0);
	ck_assert_uint_eq(p.invalidation.batch_max_ops, 64);
	ck_assert_uint_eq(p.invalidation.batch_window_us, 50);
	ck_assert_uint_eq(p.fault_limit.faults, 10);
	ck_assert_uint_eq(p.fault_limit.seconds, 60);
	ck_assert(!p.fault_limit.quarantine);
	ck_assert_str_eq(p.metrics.path, "/run/pkvm-iommu/metrics.prom");
	ck_assert_uint_eq(p.metrics.interval_s, 30);
}
END_TEST

TEST("good", good_presplit)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };

	load_good("good-presplit.json", &p);
	ck_assert_int_eq(p.split.mode, PKVM_SPLIT_PRESPLIT);
	ck_assert_uint_eq(p.split.level, PKVM_LEVEL_2M);
	ck_assert_int_eq(p.default_action, PKVM_STREAM_BLOCK);
	ck_assert_uint_eq(p.nr_streams, 0);
}
END_TEST

TEST("good", good_fold)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, never = { 0 };
	char *text;

	load_good("good-fold.json", &p);
	ck_assert_int_eq(p.fold.mode, PKVM_FOLD_EAGER);
	ck_assert_uint_eq(p.fold.compact_budget, 16);
	ck_assert_uint_eq(p.fold.idle_ms, 250);
	ck_assert(!policy_fold_is_default(&p));
	text = policy_to_json(&p);
	ck_assert_ptr_nonnull(strstr(text, "\"fold\": {\n    \"mode\": \"eager\",\n"
					   "    \"compact_budget\": 16,\n    \"idle_ms\": 250\n  }"));
	free(text);
	ck_assert_str_eq(policy_fold_name(PKVM_FOLD_LAZY), "lazy");
	ck_assert_int_eq(policy_fold_from_name("eager"), PKVM_FOLD_EAGER);
	ck_assert_int_eq(policy_fold_from_name("Eager"), -EINVAL);
	ck_assert_ptr_null(policy_fold_name(2));

	/* Keys left out keep their defaults; idle_ms 0: never compact on idle. */
	load_good("good-fold-lazy-never.json", &never);
	ck_assert_int_eq(never.fold.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(never.fold.compact_budget, 8);
	ck_assert_uint_eq(never.fold.idle_ms, 0);
}
END_TEST

TEST("good", good_pci)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };

	load_good("good-pci.json", &p);
	ck_assert_uint_eq(p.nr_streams, 4);
	/* Stored lowercase, as sysfs names them; a 5-digit domain stays. */
	expect_pci(&p.streams[0], "0000:00:1f.7", PKVM_STREAM_ISOLATE);
	expect_pci(&p.streams[1], "0002:0a:00.0", PKVM_STREAM_ISOLATE);
	expect_pci(&p.streams[2], "10000:e1:00.1", PKVM_STREAM_BLOCK);
	expect_pci(&p.streams[3], "0000:00:01.0", PKVM_STREAM_ISOLATE);
	expect_defaults_except_streams(&p);
}
END_TEST

TEST("good", good_empty_sections)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, d;

	load_good("good-empty-sections.json", &p);
	policy_init_default(&d);
	ck_assert(policy_equal(&p, &d));
}
END_TEST

TEST("good", good_limits)
{
	_cleanup_policy_ struct pkvm_policy hi = { 0 }, lo = { 0 };

	load_good("good-limits-max.json", &hi);
	expect_sid(&hi.streams[0], UINT32_MAX, UINT32_MAX, PKVM_STREAM_ISOLATE);
	ck_assert_uint_eq(hi.split.level, PKVM_LEVEL_4K);
	ck_assert_uint_eq(hi.invalidation.batch_max_ops, 4096);
	ck_assert_uint_eq(hi.invalidation.batch_window_us, 100000);
	ck_assert_int_eq(hi.fold.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(hi.fold.compact_budget, 4096);
	ck_assert_uint_eq(hi.fold.idle_ms, 600000);
	ck_assert_uint_eq(hi.fault_limit.faults, 1000000);
	ck_assert_uint_eq(hi.fault_limit.seconds, 86400);
	ck_assert_str_eq(hi.metrics.path, "/");
	ck_assert_uint_eq(hi.metrics.interval_s, 3600);

	load_good("good-limits-min.json", &lo);
	expect_sid(&lo.streams[0], 0, 0, PKVM_STREAM_BLOCK);
	ck_assert_uint_eq(lo.split.level, PKVM_LEVEL_1G);
	ck_assert_uint_eq(lo.invalidation.batch_max_ops, 1);
	ck_assert_uint_eq(lo.invalidation.batch_window_us, 0);
	ck_assert_int_eq(lo.fold.mode, PKVM_FOLD_EAGER);
	ck_assert_uint_eq(lo.fold.compact_budget, 1);
	ck_assert_uint_eq(lo.fold.idle_ms, 0);
	ck_assert_uint_eq(lo.fault_limit.faults, 1);
	ck_assert_uint_eq(lo.fault_limit.seconds, 1);
	ck_assert(!lo.fault_limit.quarantine);
	ck_assert_ptr_null(lo.metrics.path);
	ck_assert_uint_eq(lo.metrics.interval_s, 1);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Bad files: every message, in order                                  */
/* ------------------------------------------------------------------ */

#define PCI_EXPECTED "expected a PCI address \"dddd:bb:dd.f\" (hex, device 00..1f, function 0..7), got "
#define SID_EXPECTED "expected an integer 0..4294967295, got "

static const struct bad {
	const char *file;
	const char *msgs[POLICY_MAX_ERRORS];
} bad_files[] = {
	/* syntax */
	{ "bad-syntax-colon.json", { "line 3, column 27: object property name separator ':' expected" } },
	{ "bad-syntax-trailing-comma.json", { "line 5, column 3: unexpected character" } },
	{ "bad-syntax-truncated.json", { "line 4, column 1: unexpected end of data" } },
	{ "bad-syntax-trailing-data.json", { "line 2, column 1: unexpected character" } },
	{ "bad-syntax-comment.json", { "line 2, column 3: quoted object property name expected" } },
	{ "bad-syntax-single-quotes.json", { "line 1, column 2: strings must be in double quotes" } },
	{ "bad-syntax-control-char.json", { "line 3, column 30: control character in a string (escape it)" } },
	{ "bad-syntax-utf8.json", { "line 3, column 29: invalid utf-8 string" } },
	{ "bad-syntax-empty.json", { "line 1, column 1: unexpected end of data" } },
	{ "bad-syntax-deep.json", { "line 1, column 58: nesting too deep" } },
	/* document and version */
	{ "bad-not-object.json", { "$: expected an object, got an array" } },
	{ "bad-no-version.json", { "$: missing required key \"version\"" } },
	{ "bad-version-2.json", { "$.version: unsupported schema version 2 (this daemon knows 1)" } },
	{ "bad-version-string.json", { "$.version: expected an integer, got string \"1\"" } },
	/* keys */
	{ "bad-unknown-key.json", { "$: unknown key \"defualt_stream_action\" (did you mean \"default_stream_action\"?)" } },
	{ "bad-unknown-rule-key.json", { "$.streams[0]: unknown key \"acton\" (did you mean \"action\"?)",
					 "$.streams[0]: unknown key \"comment\"" } },
	{ "bad-duplicate-key.json", { "$: duplicate key \"default_stream_action\"" } },
	{ "bad-duplicate-key-escaped.json", { "$: duplicate key \"version\"" } },
	{ "bad-duplicate-key-nested.json", { "$.streams[1]: duplicate key \"sid\"" } },
	/* stream rules */
	{ "bad-sid-string.json", { "$.streams[1].sid: " SID_EXPECTED "string \"x\"" } },
	{ "bad-sid-numeric-string.json", { "$.streams[0].sid: " SID_EXPECTED "string \"8\"" } },
	{ "bad-sid-negative.json", { "$.streams[0].sid: " SID_EXPECTED "-1" } },
	{ "bad-sid-fraction.json", { "$.streams[0].sid: " SID_EXPECTED "number 8.5" } },
	{ "bad-sid-float-integral.json", { "$.streams[0].sid: " SID_EXPECTED "number 8.0" } },
	{ "bad-sid-exponent.json", { "$.streams[0].sid: " SID_EXPECTED "number 1e3" } },
	{ "bad-sid-too-big.json", { "$.streams[0].sid: " SID_EXPECTED "4294967296" } },
	{ "bad-sid-huge.json", { "$.streams[0].smmu: " SID_EXPECTED "18446744073709551615 or more" } },
	{ "bad-sid-and-pci.json", { "$.streams[0]: has both \"sid\" and \"pci\"; a rule matches by one" } },
	{ "bad-rule-no-match.json", { "$.streams[0]: needs \"sid\" or \"pci\"" } },
	{ "bad-rule-no-action.json", { "$.streams[0]: missing required key \"action\"" } },
	{ "bad-rule-not-object.json", { "$.streams[0]: expected an object, got 8" } },
	{ "bad-action.json", { "$.streams[0].action: expected \"isolate\" or \"block\", got string \"allow\"" } },
	{ "bad-default-action.json", { "$.default_stream_action: expected \"isolate\" or \"block\", got string \"bypass\"" } },
	{ "bad-default-action-case.json", { "$.default_stream_action: expected \"isolate\" or \"block\", got string \"Block\"" } },
	{ "bad-dup-sid.json", { "$.streams[2]: duplicate rule for smmu 0 sid 8 (first at $.streams[0])" } },
	{ "bad-dup-pci.json", { "$.streams[1]: duplicate rule for pci 0000:00:1f.0 (first at $.streams[0])" } },
	{ "bad-pci-syntax.json", {
		"$.streams[0].pci: " PCI_EXPECTED "string \"00:01.0\"",
		"$.streams[1].pci: " PCI_EXPECTED "string \"0000:00:20.0\"",
		"$.streams[2].pci: " PCI_EXPECTED "string \"0000:00:01.8\"",
		"$.streams[3].pci: " PCI_EXPECTED "string \"0000:0g:01.0\"",
		"$.streams[4].pci: " PCI_EXPECTED "string \"0000:00:01.0 \"",
		"$.streams[5].pci: " PCI_EXPECTED "string \"000000000:00:01.0\"",
		"$.streams[6].pci: " PCI_EXPECTED "1" } },
	{ "bad-pci-with-smmu.json", { "$.streams[0].smmu: only valid with \"sid\", not with \"pci\"" } },
	{ "bad-streams-type.json", { "$.streams: expected an array, got an object" } },
	/* split policy */
	{ "bad-split-mode.json", { "$.split_policy.mode: expected \"auto\", \"hitless\", \"bbm\" or \"presplit\", got string \"fast\"" } },
	{ "bad-split-level-without-presplit.json", { "$.split_policy.level: only valid with mode \"presplit\"" } },
	{ "bad-split-level-default-mode.json", { "$.split_policy.level: only valid with mode \"presplit\"" } },
	{ "bad-split-presplit-no-level.json", { "$.split_policy: mode \"presplit\" requires \"level\" (1..3)" } },
	{ "bad-split-level-range.json", { "$.split_policy.level: expected an integer 1..3, got 4" } },
	{ "bad-split-type.json", { "$.split_policy: expected an object, got string \"bbm\"" } },
	/* invalidation, fault limit, metrics */
	{ "bad-invalidation.json", { "$.invalidation.batch_max_ops: expected an integer 1..4096, got 0",
				     "$.invalidation.batch_window_us: expected an integer 0..100000, got 100001" } },
	{ "bad-invalidation-type.json", { "$.invalidation: expected an object, got an array" } },
	/* fold */
	{ "bad-fold-mode.json", { "$.fold.mode: expected \"eager\" or \"lazy\", got string \"fast\"" } },
	{ "bad-fold-range.json", { "$.fold.compact_budget: expected an integer 1..4096, got 0",
				   "$.fold.idle_ms: expected an integer 0..600000, got 600001" } },
	{ "bad-fold-budget-max.json", { "$.fold.compact_budget: expected an integer 1..4096, got 4097" } },
	{ "bad-fold-type.json", { "$.fold: expected an object, got string \"lazy\"" } },
	{ "bad-fold-types.json", { "$.fold.mode: expected \"eager\" or \"lazy\", got string \"Lazy\"",
				   "$.fold.compact_budget: expected an integer 1..4096, got string \"8\"",
				   "$.fold.idle_ms: expected an integer 0..600000, got number 1.5" } },
	{ "bad-fold-unknown-key.json", { "$.fold: unknown key \"idle_us\" (did you mean \"idle_ms\"?)",
					 "$.fold: unknown key \"budget\"" } },
	{ "bad-fault-limit.json", { "$.fault_limit.faults: expected an integer 1..1000000, got 1000001",
				    "$.fault_limit.seconds: expected an integer 1..86400, got 0",
				    "$.fault_limit.quarantine: expected true or false, got string \"yes\"" } },
	{ "bad-quarantine-int.json", { "$.fault_limit.quarantine: expected true or false, got 1" } },
	{ "bad-nan.json", { "$.fault_limit.faults: expected an integer 1..1000000, got number NaN" } },
	{ "bad-metrics-relative.json", { "$.metrics.path: expected an absolute path or null, got string \"metrics.prom\"" } },
	{ "bad-metrics-nul.json", { "$.metrics.path: contains a NUL character" } },
	{ "bad-metrics-interval.json", { "$.metrics.interval_s: expected an integer 1..3600, got 0" } },
	{ "bad-metrics-path-type.json", { "$.metrics.path: expected an absolute path or null, got false" } },
	/* several at once */
	{ "bad-multi.json", { "$: missing required key \"version\"",
			      "$: unknown key \"metric\" (did you mean \"metrics\"?)",
			      "$.streams[0].sid: " SID_EXPECTED "string \"x\"",
			      "$.split_policy.level: only valid with mode \"presplit\"",
			      "$.fault_limit.quarantine: expected true or false, got string \"no\"" } },
};

TEST_LOOP("bad", bad_file, 0, sizeof(bad_files) / sizeof(bad_files[0]))
{
	const struct bad *b = &bad_files[_i];
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	size_t n = 0, j;
	int r;

	while (n < POLICY_MAX_ERRORS && b->msgs[n])
		n++;
	r = policy_load_file(pfile(b->file), &p, &e);
	ck_assert_msg(r == -EINVAL, "%s: %d", b->file, r);
	for (j = 0; j < e.n; j++)
		ck_assert_msg(j < n && strstr(e.msg[j], b->msgs[j]),
			      "%s: message %zu is\n  %s\nexpected\n  %s", b->file, j,
			      e.msg[j], j < n ? b->msgs[j] : "(none)");
	ck_assert_msg(e.n == n, "%s: %zu messages, expected %zu", b->file, e.n, n);
	ck_assert_uint_eq(e.dropped, 0);
}
END_TEST

/* Every bad-*.json has an entry above, so none goes untested. */
TEST("bad", bad_files_all_listed)
{
	size_t nr, i, k;
	char **names = list_files("bad-", &nr);

	for (i = 0; i < nr; i++) {
		if (!strcmp(names[i], "bad-many-errors.json"))
			continue;	/* test_many_errors */
		for (k = 0; k < sizeof(bad_files) / sizeof(bad_files[0]); k++)
			if (!strcmp(bad_files[k].file, names[i]))
				break;
		ck_assert_msg(k < sizeof(bad_files) / sizeof(bad_files[0]),
			      "%s has no expected messages", names[i]);
	}
	free_list(names);
}
END_TEST

TEST("bad", many_errors)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;

	ck_assert_int_eq(policy_load_file(pfile("bad-many-errors.json"), &p, &e), -EINVAL);
	ck_assert_uint_eq(e.n, POLICY_MAX_ERRORS);
	ck_assert_uint_eq(e.dropped, 20 - POLICY_MAX_ERRORS);
	ck_assert_str_eq(e.msg[0], "$.streams[0].sid: " SID_EXPECTED "string \"s0\"");
	ck_assert_str_eq(e.msg[15], "$.streams[15].sid: " SID_EXPECTED "string \"s15\"");
}
END_TEST

/* ------------------------------------------------------------------ */
/* API promises                                                        */
/* ------------------------------------------------------------------ */

TEST("api", all_or_nothing)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, snap = { 0 };
	struct pkvm_stream_rule *streams;
	struct policy_errors e;
	char *path;

	load_good("good-full.json", &p);
	ck_assert_int_eq(policy_copy(&snap, &p), 0);
	streams = p.streams;
	path = p.metrics.path;

	/* Errors late in the file, after valid sections were read. */
	ck_assert_int_eq(policy_load_file(pfile("bad-multi.json"), &p, &e), -EINVAL);
	ck_assert_int_eq(policy_load_file(pfile("bad-metrics-interval.json"), &p, &e), -EINVAL);
	ck_assert_int_eq(policy_load_file(pfile("bad-syntax-truncated.json"), &p, NULL), -EINVAL);
	ck_assert_int_eq(policy_load_file(pfile("no-such-file.json"), &p, &e), -ENOENT);
	ck_assert(p.streams == streams && p.metrics.path == path);
	ck_assert(policy_equal(&p, &snap));

	/* Success replaces, freeing the old content (ASan/valgrind see a leak otherwise). */
	load_good("good-minimal.json", &p);
	ck_assert_uint_eq(p.nr_streams, 0);
	ck_assert_ptr_null(p.metrics.path);
}
END_TEST

TEST("api", parse_string)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors e;
	/* len, not a NUL, ends the document: the tail here is never read. */
	static const char doc[] = "{\"version\": 1, \"default_stream_action\": \"isolate\"}garbage";

	ck_assert_int_eq(policy_parse_string(doc, sizeof(doc) - 1 - 7, &p, &e), 0);
	ck_assert_int_eq(p.default_action, PKVM_STREAM_ISOLATE);
	ck_assert_int_eq(policy_parse_string(doc, sizeof(doc) - 1, &p, &e), -EINVAL);
	ck_assert_str_eq(e.msg[0], "line 1, column 51: unexpected character");
	ck_assert_int_eq(policy_parse_string("{\"version\": 1}\0x", 16, &p, &e), -EINVAL);
	ck_assert_str_eq(e.msg[0], "line 1, column 15: unexpected data after the JSON document");
	ck_assert_int_eq(policy_parse_string(NULL, 0, &p, &e), -EINVAL);
	ck_assert_int_eq(policy_parse_string("7", 1, &p, &e), -EINVAL);
	ck_assert_str_eq(e.msg[0], "$: expected an object, got 7");
	ck_assert_int_eq(policy_parse_string(" \n{\"version\":1}\n\n", 17, &p, NULL), 0);
}
END_TEST

TEST("api", load_io_errors)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	char dir[] = "/tmp/policy-test-XXXXXX", file[PATH_MAX];
	struct policy_errors e;
	char *big;
	FILE *f;

	ck_assert_int_eq(policy_load_file("/nonexistent/policy.json", &p, &e), -ENOENT);
	ck_assert_uint_eq(e.n, 1);
	ck_assert_str_eq(e.msg[0], "/nonexistent/policy.json: No such file or directory");

	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(policy_load_file(dir, &p, &e), -EISDIR);
	ck_assert_ptr_nonnull(strstr(e.msg[0], dir));

	/* Exactly the limit loads; one byte more is -EFBIG. */
	big = malloc(POLICY_FILE_MAX + 1);
	memset(big, ' ', POLICY_FILE_MAX + 1);
	memcpy(big, "{\"version\": 1}", 14);
	snprintf(file, sizeof(file), "%s/big.json", dir);
	f = fopen(file, "w");
	ck_assert_uint_eq(fwrite(big, 1, POLICY_FILE_MAX, f), POLICY_FILE_MAX);
	fclose(f);
	ck_assert_int_eq(policy_load_file(file, &p, &e), 0);
	f = fopen(file, "a");
	fputc(' ', f);
	fclose(f);
	ck_assert_int_eq(policy_load_file(file, &p, &e), -EFBIG);
	ck_assert_ptr_nonnull(strstr(e.msg[0], file));
	free(big);
	unlink(file);
	rmdir(dir);
}
END_TEST

TEST("api", roundtrip)
{
	size_t nr, i;
	char **names = list_files("good-", &nr);

	ck_assert_uint_ge(nr, 7);
	for (i = 0; i < nr; i++) {
		_cleanup_policy_ struct pkvm_policy a = { 0 }, b = { 0 };
		char *t1, *t2;

		load_good(names[i], &a);
		t1 = policy_to_json(&a);
		ck_assert_ptr_nonnull(t1);
		ck_assert_msg(policy_parse_string(t1, strlen(t1), &b, NULL) == 0, "%s:\n%s", names[i], t1);
		ck_assert_msg(policy_equal(&a, &b), "%s", names[i]);
		t2 = policy_to_json(&b);	/* canonical: a fixed point */
		ck_assert_str_eq(t1, t2);
		free(t1);
		free(t2);
	}
	free_list(names);
}
END_TEST

/* The canonical text itself, pinned: what the daemon writes under /var/lib. */
TEST("api", canonical_text)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	size_t len;
	char *want = slurp(pfile("good-canonical.json"), &len), *got;

	load_good("good-full.json", &p);
	got = policy_to_json(&p);
	ck_assert_str_eq(got, want);
	free(got);
	free(want);
}
END_TEST

TEST("api", equal_and_copy)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, q = { 0 };
	struct pkvm_stream_rule tmp;

	load_good("good-full.json", &p);
	ck_assert_int_eq(policy_copy(&q, &p), 0);
	ck_assert(policy_equal(&p, &q));
	ck_assert(p.streams != q.streams && p.metrics.path != q.metrics.path);

	q.streams[3].pci[3] = '1';
	ck_assert(!policy_equal(&p, &q));
	q.streams[3].pci[3] = '0';
	tmp = q.streams[0];	/* rule order matters */
	q.streams[0] = q.streams[1];
	q.streams[1] = tmp;
	ck_assert(!policy_equal(&p, &q));
	q.streams[1] = q.streams[0];
	q.streams[0] = tmp;
	ck_assert(policy_equal(&p, &q));
	q.fault_limit.quarantine = !q.fault_limit.quarantine;
	ck_assert(!policy_equal(&p, &q));
	q.fault_limit.quarantine = !q.fault_limit.quarantine;
	free(q.metrics.path);
	q.metrics.path = NULL;
	ck_assert(!policy_equal(&p, &q));
	ck_assert(!policy_equal(&q, &p));
}
END_TEST

TEST("api", set_stream)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, q = { 0 };
	char *t;

	policy_init_default(&p);
	ck_assert_int_eq(policy_set_stream(&p, 0, 8, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(policy_set_stream(&p, 0, 8, PKVM_STREAM_BLOCK), 0);
	ck_assert_int_eq(policy_set_stream(&p, 1, 8, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(policy_set_stream(&p, 1, 9, (enum pkvm_stream_policy)7), -EINVAL);
	ck_assert_uint_eq(p.nr_streams, 2);
	expect_sid(&p.streams[0], 0, 8, PKVM_STREAM_BLOCK);
	expect_sid(&p.streams[1], 1, 8, PKVM_STREAM_ISOLATE);
	t = policy_to_json(&p);
	ck_assert_int_eq(policy_parse_string(t, strlen(t), &q, NULL), 0);
	ck_assert(policy_equal(&p, &q));
	free(t);
}
END_TEST

TEST("api", action_and_split_names)
{
	ck_assert_str_eq(policy_action_name(PKVM_STREAM_BLOCK), "block");
	ck_assert_str_eq(policy_action_name(PKVM_STREAM_ISOLATE), "isolate");
	ck_assert_ptr_null(policy_action_name((enum pkvm_stream_policy)2));
	ck_assert_str_eq(policy_split_name(PKVM_SPLIT_AUTO), "auto");
	ck_assert_str_eq(policy_split_name(PKVM_SPLIT_HITLESS), "hitless");
	ck_assert_str_eq(policy_split_name(PKVM_SPLIT_BBM), "bbm");
	ck_assert_str_eq(policy_split_name(PKVM_SPLIT_PRESPLIT), "presplit");
	ck_assert_ptr_null(policy_split_name((enum pkvm_split_policy)4));
	ck_assert_int_eq(policy_action_from_name("isolate"), PKVM_STREAM_ISOLATE);
	ck_assert_int_eq(policy_action_from_name("block"), PKVM_STREAM_BLOCK);
	ck_assert_int_eq(policy_action_from_name("bypass"), -EINVAL);
	ck_assert_int_eq(policy_action_from_name(NULL), -EINVAL);
	ck_assert_int_eq(policy_split_from_name("presplit"), PKVM_SPLIT_PRESPLIT);
	ck_assert_int_eq(policy_split_from_name("Auto"), -EINVAL);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Atomic write                                                        */
/* ------------------------------------------------------------------ */

static size_t dir_entries(const char *dir)
{
	struct dirent *d;
	size_t n = 0;
	DIR *dh = opendir(dir);

	ck_assert_ptr_nonnull(dh);
	while ((d = readdir(dh)))
		n += strcmp(d->d_name, ".") && strcmp(d->d_name, "..");
	closedir(dh);
	return n;
}

TEST("api", write_atomic)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, q = { 0 }, r = { 0 };
	char dir[] = "/tmp/policy-test-XXXXXX", file[PATH_MAX], missing[PATH_MAX];
	char old[64] = { 0 };
	struct stat st;
	int fd;

	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(file, sizeof(file), "%s/policy.json", dir);
	load_good("good-full.json", &p);
	ck_assert_int_eq(policy_write_atomic(&p, file), 0);
	load_good("good-minimal.json", &q);	/* so the re-read must change it */
	ck_assert_int_eq(policy_load_file(file, &q, NULL), 0);
	ck_assert(policy_equal(&p, &q));
	ck_assert_int_eq(stat(file, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);
	ck_assert_uint_eq(dir_entries(dir), 1);	/* no temp file left */

	/* Replacing: a reader holding the old file still reads it whole. */
	fd = open(file, O_RDONLY);
	ck_assert_int_ge(fd, 0);
	policy_init_default(&r);
	ck_assert_int_eq(policy_write_atomic(&r, file), 0);
	ck_assert_int_eq(read(fd, old, sizeof(old) - 1), sizeof(old) - 1);
	ck_assert_ptr_nonnull(strstr(old, "\"isolate\""));
	close(fd);
	ck_assert_int_eq(policy_load_file(file, &q, NULL), 0);
	ck_assert(policy_equal(&q, &r));
	ck_assert_uint_eq(dir_entries(dir), 1);

	/* An invalid struct is refused before anything is written. */
	r.split.mode = PKVM_SPLIT_PRESPLIT;	/* level stays 0 */
	ck_assert_int_eq(policy_write_atomic(&r, file), -EINVAL);
	ck_assert_int_eq(policy_load_file(file, &q, NULL), 0);
	ck_assert_int_eq(q.split.mode, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(dir_entries(dir), 1);

	/* A missing directory: -ENOENT, nothing created anywhere. */
	snprintf(missing, sizeof(missing), "%s/nodir/policy.json", dir);
	ck_assert_int_eq(policy_write_atomic(&p, missing), -ENOENT);
	ck_assert_uint_eq(dir_entries(dir), 1);
	ck_assert_int_eq(policy_write_atomic(&p, "/tmp/"), -EISDIR);

	unlink(file);
	rmdir(dir);
}
END_TEST

/* A path without a directory part goes to the working directory. */
TEST("api", write_atomic_relative)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, q = { 0 };
	char dir[] = "/tmp/policy-test-XXXXXX", cwd[PATH_MAX];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	ck_assert_ptr_nonnull(mkdtemp(dir));
	ck_assert_int_eq(chdir(dir), 0);
	load_good("good-pci.json", &p);
	ck_assert_int_eq(policy_write_atomic(&p, "rel.json"), 0);
	ck_assert_int_eq(policy_load_file("rel.json", &q, NULL), 0);
	ck_assert(policy_equal(&p, &q));
	ck_assert_uint_eq(dir_entries("."), 1);
	unlink("rel.json");
	ck_assert_int_eq(chdir(cwd), 0);
	rmdir(dir);
}
END_TEST

/* ------------------------------------------------------------------ */
/* Fuzz-ish: damaged good files fail cleanly or parse                  */
/* ------------------------------------------------------------------ */

/* Parses exactly len bytes from a buffer of that size (ASan sees overreads). */
static int parse_exact(const char *src, size_t len, struct pkvm_policy *p,
		       const struct pkvm_policy *before)
{
	struct policy_errors e;
	char *buf = malloc(len ? len : 1);
	size_t j;
	int r;

	memcpy(buf, src, len);
	r = policy_parse_string(buf, len, p, &e);
	free(buf);
	if (r == 0)
		return 0;
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_uint_ge(e.n, 1);
	for (j = 0; j < e.n; j++)
		ck_assert_uint_gt(strlen(e.msg[j]), 0);
	ck_assert(policy_equal(p, before));
	return r;
}

TEST("fuzz", truncations)
{
	size_t nr, i, len, k, ok;
	char **names = list_files("good-", &nr);

	for (i = 0; i < nr; i++) {
		_cleanup_policy_ struct pkvm_policy full = { 0 }, p = { 0 }, before = { 0 };
		char *text = slurp(pfile(names[i]), &len);

		load_good(names[i], &full);
		load_good("good-presplit.json", &before);
		ck_assert_int_eq(policy_copy(&p, &before), 0);
		for (k = 0, ok = 0; k <= len; k++) {
			if (parse_exact(text, k, &p, &before))
				continue;
			/* Only the whole document, give or take its final newline. */
			ck_assert_msg(k >= len - 1, "%s parsed at %zu of %zu", names[i], k, len);
			ck_assert(policy_equal(&p, &full));
			policy_free(&p);
			ck_assert_int_eq(policy_copy(&p, &before), 0);
			ok++;
		}
		ck_assert_uint_ge(ok, 1);
		free(text);
	}
	free_list(names);
}
END_TEST

TEST("fuzz", byte_flips)
{
	static const char bytes[] = { '"', '{', '}', '[', ']', ',', ':', '\\', '\0',
				      '\n', '1', '-', 'e', '.', (char)0xff, (char)0xc3 };
	_cleanup_policy_ struct pkvm_policy p = { 0 }, before = { 0 };
	size_t len, k, b;
	char *text = slurp(pfile("good-full.json"), &len);

	policy_init_default(&before);
	policy_init_default(&p);
	for (k = 0; k < len; k++) {
		char orig = text[k];

		for (b = 0; b < sizeof(bytes); b++) {
			text[k] = bytes[b];
			if (!parse_exact(text, len, &p, &before)) {
				policy_free(&p);	/* e.g. a digit in a number */
				policy_init_default(&p);
			}
		}
		text[k] = orig;
	}
	free(text);
}
END_TEST

int main(void)
{
	return TEST_RUN("policy",
			TCASE("good"),
			TCASE("bad"),
			TCASE("api"),
			TCASE("fuzz"));
}
