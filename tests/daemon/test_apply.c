// SPDX-License-Identifier: GPL-2.0
/*
 * How pkvm-iommud's core applies a policy and keeps its state, on the sim
 * backend without a bus: a reload brings every stream the daemon knows to
 * what the new policy (plus runtime changes) says, default_stream_action
 * included, with the right source; a rule the module refuses is named by
 * its JSON path and nothing is applied; a runtime change that cannot be
 * persisted changes nothing (module, daemon, state file); the temp files a
 * kill -9 leaves in the state directory are removed at start.
 *
 * Write failures as root: DAC does not stop root, so a read-only directory
 * proves nothing here. Two real failures are used instead: a file size
 * limit (RLIMIT_FSIZE, which binds root too; SIGXFSZ ignored) makes the
 * temp file's write fail with EFBIG half way, as a full disk does with
 * ENOSPC, and a state directory whose path runs through a regular file
 * makes the temp file's creation fail (ENOTDIR), as a read-only one does
 * with EROFS.
 */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon.h"
#include "test_registry.h"

static char tmpdir[64];
static char policy_path[128], state_dir[128], state_file[160];
static struct daemon *d;

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	ck_assert_msg(f, "%s: %s", path, strerror(errno));
	fputs(text, f);
	ck_assert_int_eq(fclose(f), 0);
}

/* The whole file (at most 64 KiB), or "" when it cannot be read. */
static char *read_text(const char *path)
{
	char *buf = calloc(1, 65536);
	FILE *f = fopen(path, "r");

	ck_assert_ptr_nonnull(buf);
	if (f) {
		fread(buf, 1, 65535, f);
		fclose(f);
	}
	return buf;
}

static void setup(void)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/pkvm-test-apply.XXXXXX");
	must(mkdtemp(tmpdir));
	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", tmpdir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	snprintf(state_file, sizeof(state_file), "%s/" DAEMON_STATE_POLICY, state_dir);
	must(mkdir(state_dir, 0755) == 0);
	must(daemon_new(&d, policy_path, state_dir) == 0);
	must(backend_sim_open(&d->backend, NULL) == 0);
	must(d->backend->ops->info(d->backend, &info) == 0);
	d->nr_smmus = info.nr_smmus;
}

static void teardown(void)
{
	char cmd[128];

	d = daemon_free(d);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	must(system(cmd) == 0);
}

/* What the module holds for a stream. */
static uint32_t module_policy(uint32_t sid)
{
	uint32_t p = ~0u;

	ck_assert_int_eq(d->backend->ops->stream_get(d->backend, 0, sid, &p), 0);
	return p;
}

static void reload_ok(const char *json)
{
	struct policy_errors errs = { 0 };
	int r;

	write_text(policy_path, json);
	r = daemon_reload_policy(d, &errs);
	ck_assert_msg(r == 0, "reload: %s (%s)", strerror(-r), errs.n ? errs.msg[0] : "");
}

static void assert_stream(uint32_t sid, uint32_t policy, enum stream_source source)
{
	const struct stream_state *s = daemon_stream(d, 0, sid, false);

	ck_assert_msg(s, "the daemon does not know stream %u", sid);
	ck_assert_uint_eq(module_policy(sid), policy);
	ck_assert_uint_eq(s->policy, policy);
	ck_assert_int_eq(s->source, source);
}

/* ---- 2: every known stream follows the policy ---- */

TEST("apply", removed_rule_resets_stream)
{
	reload_ok("{ \"version\": 1, \"default_stream_action\": \"block\",\n"
		  "  \"streams\": [ { \"sid\": 8, \"action\": \"isolate\" } ] }\n");
	assert_stream(8, PKVM_STREAM_ISOLATE, STREAM_SRC_POLICY);

	/* The rule is gone: stream 8 does what other streams do. */
	reload_ok("{ \"version\": 1, \"default_stream_action\": \"block\" }\n");
	assert_stream(8, PKVM_STREAM_BLOCK, STREAM_SRC_DEFAULT);
}
END_TEST

TEST("apply", default_action_applied)
{
	/* Streams the daemon knows: one of a rule, one of a runtime change, one seen faulting. */
	reload_ok("{ \"version\": 1, \"streams\": [ { \"sid\": 8, \"action\": \"block\" } ] }\n");
	ck_assert_int_eq(daemon_set_stream_policy(d, 0, 9, PKVM_STREAM_BLOCK), 0);
	ck_assert_ptr_nonnull(daemon_stream(d, 0, 10, true));

	reload_ok("{ \"version\": 1, \"default_stream_action\": \"isolate\" }\n");
	assert_stream(8, PKVM_STREAM_ISOLATE, STREAM_SRC_DEFAULT);
	/* The runtime change stays over the file's default. */
	assert_stream(9, PKVM_STREAM_BLOCK, STREAM_SRC_RUNTIME);
	assert_stream(10, PKVM_STREAM_ISOLATE, STREAM_SRC_DEFAULT);
	ck_assert_uint_eq(d->policy.default_action, PKVM_STREAM_ISOLATE);

	reload_ok("{ \"version\": 1, \"default_stream_action\": \"block\",\n"
		  "  \"streams\": [ { \"sid\": 10, \"action\": \"isolate\" } ] }\n");
	assert_stream(8, PKVM_STREAM_BLOCK, STREAM_SRC_DEFAULT);
	assert_stream(9, PKVM_STREAM_BLOCK, STREAM_SRC_RUNTIME);
	assert_stream(10, PKVM_STREAM_ISOLATE, STREAM_SRC_POLICY);
}
END_TEST

TEST("apply", reload_lifts_quarantine_to_policy)
{
	struct stream_state *s;

	reload_ok("{ \"version\": 1, \"streams\": [ { \"sid\": 8, \"action\": \"isolate\" } ] }\n");
	/* As count_fault() leaves a stream it quarantined. */
	ck_assert_int_eq(d->backend->ops->stream_set(d->backend, 0, 8, PKVM_STREAM_BLOCK), 0);
	s = daemon_stream(d, 0, 8, false);
	ck_assert_ptr_nonnull(s);
	s->policy = PKVM_STREAM_BLOCK;
	s->source = STREAM_SRC_QUARANTINE;
	s->quarantined = true;

	reload_ok("{ \"version\": 1, \"default_stream_action\": \"isolate\" }\n");
	assert_stream(8, PKVM_STREAM_ISOLATE, STREAM_SRC_DEFAULT);
	ck_assert(!daemon_stream(d, 0, 8, false)->quarantined);
}
END_TEST

/* ---- 10: a rule the module refuses ---- */

static bool errs_have(const struct policy_errors *e, const char *a, const char *b)
{
	for (size_t i = 0; i < e->n; i++)
		if (strstr(e->msg[i], a) && strstr(e->msg[i], b))
			return true;
	return false;
}

TEST("apply", refused_rule_named_nothing_applied)
{
	struct policy_errors errs = { 0 };
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	int r;

	reload_ok("{ \"version\": 1, \"streams\": [ { \"sid\": 8, \"action\": \"isolate\" } ] }\n");
	/* sid 70000 is past the sim's 16 StreamID bits; SMMU 5 does not exist. */
	write_text(policy_path,
		   "{ \"version\": 1, \"split_policy\": { \"mode\": \"bbm\" },\n"
		   "  \"streams\": [ { \"sid\": 9, \"action\": \"isolate\" },\n"
		   "                { \"sid\": 11, \"action\": \"isolate\" },\n"
		   "                { \"sid\": 70000, \"action\": \"isolate\" },\n"
		   "                { \"smmu\": 5, \"sid\": 1, \"action\": \"block\" } ] }\n");
	r = daemon_reload_policy(d, &errs);
	ck_assert_int_lt(r, 0);
	for (size_t i = 0; i < errs.n; i++)
		fprintf(stderr, "refused: %s\n", errs.msg[i]);
	ck_assert_msg(errs_have(&errs, "$.streams[2].sid", "70000"),
		      "no message names $.streams[2].sid (%zu messages)", errs.n);
	ck_assert_msg(errs_have(&errs, "$.streams[3].smmu", "5"),
		      "no message names $.streams[3].smmu (%zu messages)", errs.n);
	ck_assert_uint_eq(d->ctr.policy_errors, 1);
	/* Nothing of it reached the module or the daemon. */
	ck_assert_uint_eq(module_policy(9), PKVM_STREAM_BLOCK);
	ck_assert_uint_eq(module_policy(11), PKVM_STREAM_BLOCK);
	ck_assert_ptr_null(daemon_stream(d, 0, 9, false));
	assert_stream(8, PKVM_STREAM_ISOLATE, STREAM_SRC_POLICY);
	ck_assert_int_eq(d->backend->ops->info(d->backend, &info), 0);
	ck_assert_uint_eq(info.split_policy, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(d->policy.split.mode, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(d->policy.nr_streams, 1);
}
END_TEST

/* ---- 7: a change that cannot be persisted changes nothing ---- */

static uint32_t module_split(void)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };

	ck_assert_int_eq(d->backend->ops->info(d->backend, &info), 0);
	return info.split_policy;
}

static uint32_t module_fold_mode(void)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .flags = PKVM_IOMMU_FOLD_READ };

	ck_assert_int_eq(d->backend->ops->fold(d->backend, &f), 0);
	return f.mode;
}

/* Entries of the state directory other than the state file itself. */
static int stray_entries(void)
{
	DIR *dir = opendir(state_dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(dir);
	while ((e = readdir(dir)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		    strcmp(e->d_name, DAEMON_STATE_POLICY)) {
			fprintf(stderr, "left in %s: %s\n", state_dir, e->d_name);
			n++;
		}
	closedir(dir);
	return n;
}

enum change { CHANGE_STREAM, CHANGE_SPLIT, CHANGE_FOLD };

static int try_change(enum change c)
{
	switch (c) {
	case CHANGE_STREAM:
		return daemon_set_stream_policy(d, 0, 12, PKVM_STREAM_ISOLATE);
	case CHANGE_SPLIT:
		return daemon_set_split_policy(d, PKVM_SPLIT_BBM, 0);
	case CHANGE_FOLD:
		return daemon_set_fold_policy(d, PKVM_FOLD_EAGER, 16, 250);
	}
	return -EINVAL;
}

static void assert_unchanged(const char *before)
{
	_cleanup_free_ char *after = read_text(state_file);

	ck_assert_uint_eq(module_policy(12), PKVM_STREAM_BLOCK);
	ck_assert_ptr_null(daemon_stream(d, 0, 12, false));
	for (size_t i = 0; i < d->overrides.nr_streams; i++)
		ck_assert_uint_ne(d->overrides.streams[i].sid, 12);
	for (size_t i = 0; i < d->policy.nr_streams; i++)
		ck_assert_uint_ne(d->policy.streams[i].sid, 12);
	ck_assert_uint_eq(module_split(), PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(d->policy.split.mode, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(d->overrides.split.mode, PKVM_SPLIT_AUTO);
	ck_assert_uint_eq(module_fold_mode(), PKVM_FOLD_LAZY);
	ck_assert_uint_eq(d->policy.fold.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(d->overrides.fold.mode, PKVM_FOLD_LAZY);
	ck_assert_str_eq(after, before);
	ck_assert_int_eq(stray_entries(), 0);
}

/* A full disk: the temp file's write fails half way (EFBIG under a size limit). */
TEST_LOOP("persist", write_fails_changes_nothing, CHANGE_STREAM, CHANGE_FOLD + 1)
{
	struct rlimit old, lim;
	_cleanup_free_ char *before = NULL;
	int r;

	/* A state file to keep: an earlier change. */
	ck_assert_int_eq(daemon_set_stream_policy(d, 0, 11, PKVM_STREAM_ISOLATE), 0);
	before = read_text(state_file);
	ck_assert_ptr_nonnull(strstr(before, "\"sid\": 11"));

	signal(SIGXFSZ, SIG_IGN);
	ck_assert_int_eq(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = 64;	/* a few bytes of the canonical JSON, not all */
	ck_assert_int_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
	r = try_change(_i);
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, SIG_DFL);

	ck_assert_msg(r == -EFBIG, "change %d: %d (%s), want EFBIG", _i, r, strerror(-r));
	assert_unchanged(before);
	/* And once the disk has room, the same call works. */
	ck_assert_int_eq(try_change(_i), 0);
}
END_TEST

/* A state directory that cannot take a new file (ENOTDIR, as EROFS would). */
TEST_LOOP("persist", create_fails_changes_nothing, CHANGE_STREAM, CHANGE_FOLD + 1)
{
	_cleanup_free_ char *before = NULL, *saved = d->state_dir;
	char blocked[192];
	int r;

	before = read_text(state_file);		/* no file yet: "" */
	snprintf(blocked, sizeof(blocked), "%s/plain", tmpdir);
	write_text(blocked, "a regular file\n");
	snprintf(blocked, sizeof(blocked), "%s/plain/state", tmpdir);
	d->state_dir = strdup(blocked);
	ck_assert_ptr_nonnull(d->state_dir);
	r = try_change(_i);
	free(d->state_dir);
	d->state_dir = TAKE_PTR(saved);

	ck_assert_msg(r == -ENOTDIR, "change %d: %d (%s), want ENOTDIR", _i, r, strerror(-r));
	assert_unchanged(before);
}
END_TEST

/* ---- 9: temp files a kill -9 left ---- */

TEST("start", stale_temp_files_removed)
{
	static const char *const stale[] = { ".policy.json.AbC123", ".policy.json.zzzzzz",
					     ".policy.json.000000" };
	/* Names that are not ours, or not regular files: kept. */
	static const char *const kept[] = { ".policy.json.AbC12", ".policy.json.AbC1234",
					    ".policy.json.AbC-12", ".other.json.AbC123",
					    "policy.json.AbC123", "..policy.json.AbC123" };
	char path[256], target[256], link[256], sub[256];
	struct stat st;

	for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, stale[i]);
		write_text(path, "{ \"version\": 1,");
	}
	for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, kept[i]);
		write_text(path, "not ours\n");
	}
	/* A symlink and a directory of the pattern: neither followed nor removed. */
	snprintf(target, sizeof(target), "%s/target", tmpdir);
	write_text(target, "outside\n");
	snprintf(link, sizeof(link), "%s/.policy.json.Lnk123", state_dir);
	ck_assert_int_eq(symlink(target, link), 0);
	snprintf(sub, sizeof(sub), "%s/.policy.json.Dir123", state_dir);
	ck_assert_int_eq(mkdir(sub, 0755), 0);
	write_text(state_file, "{ \"version\": 1 }\n");

	/* A new daemon on that state directory: what pkvm-iommud's start does. */
	d = daemon_free(d);
	ck_assert_int_eq(daemon_new(&d, policy_path, state_dir), 0);
	ck_assert_int_eq(backend_sim_open(&d->backend, NULL), 0);

	for (size_t i = 0; i < ELEMENTSOF(stale); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, stale[i]);
		ck_assert_msg(lstat(path, &st) < 0 && errno == ENOENT, "%s not removed", path);
	}
	for (size_t i = 0; i < ELEMENTSOF(kept); i++) {
		snprintf(path, sizeof(path), "%s/%s", state_dir, kept[i]);
		ck_assert_msg(lstat(path, &st) == 0, "%s removed", path);
	}
	ck_assert_int_eq(lstat(link, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	ck_assert_int_eq(stat(target, &st), 0);
	ck_assert_int_eq(lstat(sub, &st), 0);
	ck_assert(S_ISDIR(st.st_mode));
	ck_assert_int_eq(lstat(state_file, &st), 0);
}
END_TEST

int main(void)
{
	return TEST_RUN("daemon_apply",
			TCASE("apply", .setup = setup, .teardown = teardown, .timeout = 60),
			TCASE("persist", .setup = setup, .teardown = teardown, .timeout = 60),
			TCASE("start", .setup = setup, .teardown = teardown, .timeout = 60));
}
