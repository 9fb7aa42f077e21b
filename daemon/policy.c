// SPDX-License-Identifier: GPL-2.0
/*
 * Policy file of pkvm-iommud, schema version 1: the model (defaults, copy,
 * compare, runtime changes), parse and load, print, persist. Parsing is
 * three passes over one text, each catching what the one before cannot:
 * json-c's strict tokener and a raw scan (policy_scan.c), then the schema
 * walk (policy_schema.c); the messages are policy_errors.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_write.h"
#include "policy_errors.h"
#include "policy_scan.h"
#include "policy_schema.h"

void policy_init_default(struct pkvm_policy *p)
{
	*p = (struct pkvm_policy){
		.version = POLICY_SCHEMA_VERSION,
		.default_action = POLICY_DEFAULT_ACTION,
		.split = { .mode = POLICY_DEFAULT_SPLIT },
		.invalidation = { POLICY_DEFAULT_BATCH_MAX_OPS, POLICY_DEFAULT_BATCH_WINDOW_US },
		.fold = { POLICY_DEFAULT_FOLD_MODE, POLICY_DEFAULT_COMPACT_BUDGET,
			  POLICY_DEFAULT_IDLE_MS },
		.fault_limit = { POLICY_DEFAULT_FAULTS, POLICY_DEFAULT_FAULT_SECONDS,
				 POLICY_DEFAULT_QUARANTINE },
		.metrics = { NULL, POLICY_DEFAULT_METRICS_INTERVAL },
	};
}

void policy_free(struct pkvm_policy *p)
{
	free(p->streams);
	free(p->metrics.path);
	*p = (struct pkvm_policy){ 0 };
}

int policy_copy(struct pkvm_policy *dst, const struct pkvm_policy *src)
{
	_cleanup_free_ struct pkvm_stream_rule *streams = NULL;
	_cleanup_free_ char *path = NULL;

	if (src->nr_streams &&
	    !(streams = malloc(src->nr_streams * sizeof(*streams))))
		return -ENOMEM;
	if (src->nr_streams)
		memcpy(streams, src->streams, src->nr_streams * sizeof(*streams));
	if (src->metrics.path && !(path = strdup(src->metrics.path)))
		return -ENOMEM;
	*dst = *src;
	dst->streams = TAKE_PTR(streams);
	dst->metrics.path = TAKE_PTR(path);
	return 0;
}

int policy_parse_string(const char *json, size_t len, struct pkvm_policy *out,
			struct policy_errors *errs)
{
	struct policy_ctx c = { .errs = errs };
	_cleanup_policy_ struct pkvm_policy np = { 0 };
	_cleanup_json_ json_object *root = NULL;

	if (errs)
		errs->n = errs->dropped = 0;
	if (len > INT_MAX) {	/* json-c takes an int length */
		policy_err(&c, NULL, "document too large");
		return -EINVAL;
	}
	policy_init_default(&np);
	/* A document of only null is a NULL root: the schema refuses it too. */
	if (!policy_parse_syntax(&c, len ? json : "", len, &root))
		policy_read_schema(&c, root, &np);
	if (c.nomem) {
		policy_err(&c, NULL, "out of memory");
		return -ENOMEM;
	}
	if (c.n)
		return -EINVAL;
	policy_free(out);
	*out = np;
	np = (struct pkvm_policy){ 0 };	/* *out owns it now */
	return 0;
}

/* What a file is, for the message refusing it. */
static const char *file_kind(mode_t m)
{
	return S_ISFIFO(m) ? "a FIFO" : S_ISCHR(m) ? "a character device" :
	       S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

/*
 * The whole regular file into buf (size max + 1): -EFBIG when it holds
 * more than max, -EISDIR for a directory, -EBADFD (*mode says what it
 * is) for anything else that is not a regular file. O_NONBLOCK because
 * opening a FIFO without a writer would otherwise block the caller (the
 * daemon's event loop) for good; a device could block its reads too.
 * Symlinks are followed, as an administrator may link the policy.
 */
static int read_file(const char *path, char *buf, size_t max, size_t *ret_len, mode_t *mode)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	struct stat st;
	size_t len = 0;
	ssize_t k;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	*mode = st.st_mode;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!S_ISREG(st.st_mode))
		return -EBADFD;
	while (len <= max && (k = read(fd, buf + len, max + 1 - len)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		len += k;
	}
	if (len > max)
		return -EFBIG;
	*ret_len = len;
	return 0;
}

int policy_load_file(const char *path, struct pkvm_policy *out,
		     struct policy_errors *errs)
{
	struct policy_ctx c = { .errs = errs };
	/* One byte more than allowed, to tell "too large" from "just fits". */
	_cleanup_free_ char *buf = malloc(POLICY_FILE_MAX + 1);
	size_t len = 0;
	mode_t mode = 0;
	int r;

	if (errs) {
		errs->n = errs->dropped = 0;
		errs->file_named = false;
	}
	if (!buf) {
		policy_err(&c, NULL, "out of memory");
		return -ENOMEM;
	}
	r = read_file(path, buf, POLICY_FILE_MAX, &len, &mode);
	if (r == -EFBIG)
		policy_err(&c, path, "larger than %u bytes", POLICY_FILE_MAX);
	else if (r == -EBADFD)
		policy_err(&c, path, "not a regular file (%s)", file_kind(mode));
	else if (r)
		policy_err(&c, path, "%s", strerror(-r));
	if (r && errs)
		errs->file_named = true;
	if (r)
		return r;
	return policy_parse_string(buf, len, out, errs);
}

/* Adds key: v to obj; on failure frees v and clears *ok. Nothing once !*ok. */
static void put(json_object *obj, const char *key, json_object *v, bool *ok)
{
	if (!*ok || !v || json_object_object_add(obj, key, v)) {
		json_object_put(v);
		*ok = false;
	}
}

/*
 * A string, or null for NULL (json-c's null is a NULL object). An enum
 * value with no name thus becomes null, which a parse refuses.
 */
static void put_str(json_object *obj, const char *key, const char *s, bool *ok)
{
	if (s)
		put(obj, key, json_object_new_string(s), ok);
	else if (*ok && json_object_object_add(obj, key, NULL))
		*ok = false;
}

static json_object *rule_to_json(const struct pkvm_stream_rule *r)
{
	_cleanup_json_ json_object *o = json_object_new_object();
	bool ok = o;

	if (r->kind == POLICY_RULE_SID) {
		put(o, "smmu", json_object_new_int64(r->smmu), &ok);
		put(o, "sid", json_object_new_int64(r->sid), &ok);
	} else {
		put_str(o, "pci", r->pci, &ok);
	}
	put_str(o, "action", policy_action_name(r->action), &ok);
	return ok ? TAKE_PTR(o) : NULL;
}

char *policy_to_json(const struct pkvm_policy *p)
{
	_cleanup_json_ json_object *root = json_object_new_object();
	json_object *arr = json_object_new_array();
	json_object *split = json_object_new_object(), *inval = json_object_new_object();
	json_object *fold = json_object_new_object();
	json_object *fl = json_object_new_object(), *m = json_object_new_object();
	bool ok = root;
	char *text = NULL;
	size_t i;

	/* Containers first, in schema order; root owns them from here on. */
	put(root, "version", json_object_new_int(p->version), &ok);
	put_str(root, "default_stream_action", policy_action_name(p->default_action), &ok);
	put(root, "streams", arr, &ok);
	put(root, "split_policy", split, &ok);
	put(root, "invalidation", inval, &ok);
	put(root, "fold", fold, &ok);
	put(root, "fault_limit", fl, &ok);
	put(root, "metrics", m, &ok);

	for (i = 0; ok && i < p->nr_streams; i++) {
		json_object *o = rule_to_json(&p->streams[i]);

		if (!o || json_object_array_add(arr, o)) {
			json_object_put(o);
			ok = false;
		}
	}
	put_str(split, "mode", policy_split_name(p->split.mode), &ok);
	if (p->split.mode == PKVM_SPLIT_PRESPLIT)
		put(split, "level", json_object_new_int64(p->split.level), &ok);
	put(inval, "batch_max_ops", json_object_new_int64(p->invalidation.batch_max_ops), &ok);
	put(inval, "batch_window_us", json_object_new_int64(p->invalidation.batch_window_us), &ok);
	put_str(fold, "mode", policy_fold_name(p->fold.mode), &ok);
	put(fold, "compact_budget", json_object_new_int64(p->fold.compact_budget), &ok);
	put(fold, "idle_ms", json_object_new_int64(p->fold.idle_ms), &ok);
	put(fl, "faults", json_object_new_int64(p->fault_limit.faults), &ok);
	put(fl, "seconds", json_object_new_int64(p->fault_limit.seconds), &ok);
	put(fl, "quarantine", json_object_new_boolean(p->fault_limit.quarantine), &ok);
	put_str(m, "path", p->metrics.path, &ok);
	put(m, "interval_s", json_object_new_int64(p->metrics.interval_s), &ok);

	if (ok) {
		const char *s = json_object_to_json_string_ext(root,
			JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED |
			JSON_C_TO_STRING_NOSLASHESCAPE);

		if (s && asprintf(&text, "%s\n", s) < 0)
			text = NULL;
	}
	if (!text)
		errno = ENOMEM;
	return text;
}

static bool rule_equal(const struct pkvm_stream_rule *a, const struct pkvm_stream_rule *b)
{
	if (a->kind != b->kind || a->action != b->action)
		return false;
	if (a->kind == POLICY_RULE_SID)
		return a->smmu == b->smmu && a->sid == b->sid;
	return !strcmp(a->pci, b->pci);
}

bool policy_fold_is_default(const struct pkvm_policy *p)
{
	return p->fold.mode == POLICY_DEFAULT_FOLD_MODE &&
	       p->fold.compact_budget == POLICY_DEFAULT_COMPACT_BUDGET &&
	       p->fold.idle_ms == POLICY_DEFAULT_IDLE_MS;
}

bool policy_equal(const struct pkvm_policy *a, const struct pkvm_policy *b)
{
	size_t i;

	if (a->version != b->version || a->default_action != b->default_action ||
	    a->nr_streams != b->nr_streams || a->split.mode != b->split.mode ||
	    a->split.level != b->split.level ||
	    a->invalidation.batch_max_ops != b->invalidation.batch_max_ops ||
	    a->invalidation.batch_window_us != b->invalidation.batch_window_us ||
	    a->fold.mode != b->fold.mode || a->fold.compact_budget != b->fold.compact_budget ||
	    a->fold.idle_ms != b->fold.idle_ms ||
	    a->fault_limit.faults != b->fault_limit.faults ||
	    a->fault_limit.seconds != b->fault_limit.seconds ||
	    a->fault_limit.quarantine != b->fault_limit.quarantine ||
	    a->metrics.interval_s != b->metrics.interval_s)
		return false;
	if (!a->metrics.path != !b->metrics.path ||
	    (a->metrics.path && strcmp(a->metrics.path, b->metrics.path)))
		return false;
	for (i = 0; i < a->nr_streams; i++)
		if (!rule_equal(&a->streams[i], &b->streams[i]))
			return false;
	return true;
}

int policy_write_atomic(const struct pkvm_policy *p, const char *path)
{
	_cleanup_policy_ struct pkvm_policy check = { 0 };
	_cleanup_free_ char *text = NULL;
	const char *slash = strrchr(path, '/');
	int r;

	if (!*(slash ? slash + 1 : path))
		return -EISDIR;
	text = policy_to_json(p);
	if (!text)
		return -ENOMEM;
	/* Never persist what the daemon would refuse to load on restart. */
	r = policy_parse_string(text, strlen(text), &check, NULL);
	if (r)
		return r;
	return write_file_atomic(path, text, strlen(text), 0644);
}

int policy_set_stream(struct pkvm_policy *p, uint32_t smmu, uint32_t sid,
		      enum pkvm_stream_policy action)
{
	struct pkvm_stream_rule *n;
	size_t i;

	if (!policy_action_name(action))
		return -EINVAL;
	for (i = 0; i < p->nr_streams; i++) {
		n = &p->streams[i];
		if (n->kind == POLICY_RULE_SID && n->smmu == smmu && n->sid == sid) {
			n->action = action;
			return 0;
		}
	}
	n = realloc(p->streams, (p->nr_streams + 1) * sizeof(*n));
	if (!n)
		return -ENOMEM;
	p->streams = n;
	p->streams[p->nr_streams++] = (struct pkvm_stream_rule){
		.kind = POLICY_RULE_SID, .smmu = smmu, .sid = sid, .action = action,
	};
	return 0;
}
