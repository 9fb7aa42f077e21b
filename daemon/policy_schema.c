// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's third pass (policy_schema.h): the schema walk over
 * json-c's tree, keys, types, ranges and rules, collecting every error
 * rather than stopping at the first; and the names the schema gives the
 * uapi's enums.
 */
#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_schema.h"

struct name_val {
	const char *name;
	int val;
};

/* In the order the man page and the messages list them. */
static const struct name_val actions[] = {
	{ "isolate", PKVM_STREAM_ISOLATE },
	{ "block", PKVM_STREAM_BLOCK },
	{ NULL, 0 },
};

static const struct name_val splits[] = {
	{ "auto", PKVM_SPLIT_AUTO },
	{ "hitless", PKVM_SPLIT_HITLESS },
	{ "bbm", PKVM_SPLIT_BBM },
	{ "presplit", PKVM_SPLIT_PRESPLIT },
	{ NULL, 0 },
};

static const struct name_val folds[] = {
	{ "eager", PKVM_FOLD_EAGER },
	{ "lazy", PKVM_FOLD_LAZY },
	{ NULL, 0 },
};

static const char *name_of(const struct name_val *t, int val)
{
	for (; t->name; t++)
		if (t->val == val)
			return t->name;
	return NULL;
}

static int value_of(const struct name_val *t, const char *name)
{
	for (; name && t->name; t++)
		if (!strcmp(t->name, name))
			return t->val;
	return -EINVAL;
}

const char *policy_action_name(enum pkvm_stream_policy a) { return name_of(actions, (int)a); }
const char *policy_split_name(enum pkvm_split_policy s) { return name_of(splits, (int)s); }
int policy_action_from_name(const char *name) { return value_of(actions, name); }
int policy_split_from_name(const char *name) { return value_of(splits, name); }
const char *policy_fold_name(enum pkvm_fold_mode m) { return name_of(folds, (int)m); }
int policy_fold_from_name(const char *name) { return value_of(folds, name); }

/* Levenshtein distance, case-blind, for "did you mean"; large if long. */
static unsigned distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	unsigned row[33], prev, tmp, best;

	if (la > 32 || lb > 32)
		return UINT_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		prev = row[0];
		row[0] = i;
		for (j = 1; j <= lb; j++) {
			tmp = row[j];
			best = prev + (tolower((unsigned char)a[i - 1]) != b[j - 1]);
			if (row[j] + 1 < best)
				best = row[j] + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			prev = tmp;
		}
	}
	return row[lb];
}

/* Every key of obj must be in known[]: a typo is an error, not a no-op. */
static void check_keys(struct policy_ctx *c, json_object *obj, const char *path,
		       const char *const known[])
{
	char q[QUOTE_MAX];

	json_object_object_foreach(obj, ukey, uval) {
		const char *best = NULL;
		unsigned d, bd = 3;
		size_t i;

		(void)uval;
		for (i = 0; known[i] && strcmp(ukey, known[i]); i++) {
			d = distance(ukey, known[i]);
			if (d < bd) {
				bd = d;
				best = known[i];
			}
		}
		if (known[i])
			continue;
		policy_quote(ukey, strlen(ukey), q);
		if (best)
			policy_err(c, path, "unknown key %s (did you mean \"%s\"?)", q, best);
		else
			policy_err(c, path, "unknown key %s", q);
	}
}

/* The member key of obj, and its path in sub; false if absent. */
static bool member(json_object *obj, const char *path, const char *key,
		   json_object **v, char sub[PATH_BUF])
{
	policy_pathf(sub, "%s.%s", path, key);
	return json_object_object_get_ex(obj, key, v);
}

static bool uint_value(struct policy_ctx *c, json_object *v, const char *path,
		       uint32_t min, uint32_t max, uint32_t *out)
{
	char got[GOT_BUF];

	/* Only json-c ints: 8.0, 1e3 and "8" are not integers here. */
	if (json_object_is_type(v, json_type_int)) {
		int64_t x = json_object_get_int64(v);	/* clamps: still out of range */

		if (x >= min && x <= max) {
			*out = (uint32_t)x;
			return true;
		}
	}
	policy_err(c, path, "expected an integer %u..%u, got %s", min, max,
		   policy_describe(v, got));
	return false;
}

/* Optional members leave *out (the default) alone when absent. */
static bool read_uint(struct policy_ctx *c, json_object *obj, const char *path,
		      const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	char sub[PATH_BUF];
	json_object *v;

	if (!member(obj, path, key, &v, sub))
		return true;
	return uint_value(c, v, sub, min, max, out);
}

static bool read_bool(struct policy_ctx *c, json_object *obj, const char *path,
		      const char *key, bool *out)
{
	char sub[PATH_BUF], got[GOT_BUF];
	json_object *v;

	if (!member(obj, path, key, &v, sub))
		return true;
	if (json_object_is_type(v, json_type_boolean)) {
		*out = json_object_get_boolean(v);
		return true;
	}
	policy_err(c, sub, "expected true or false, got %s", policy_describe(v, got));
	return false;
}

static bool read_enum(struct policy_ctx *c, json_object *obj, const char *path,
		      const char *key, const struct name_val *t, int *out)
{
	char sub[PATH_BUF], got[GOT_BUF], list[128];
	json_object *v;
	size_t k = 0, i;
	int val;

	if (!member(obj, path, key, &v, sub))
		return true;
	if (json_object_is_type(v, json_type_string)) {
		val = value_of(t, json_object_get_string(v));
		if (val >= 0 && strlen(json_object_get_string(v)) ==
				(size_t)json_object_get_string_len(v)) {
			*out = val;
			return true;
		}
	}
	/* "a", "b" or "c" */
	for (i = 0; t[i].name; i++)
		k += snprintf(list + k, sizeof(list) - k, "%s\"%s\"",
			      !i ? "" : t[i + 1].name ? ", " : " or ", t[i].name);
	policy_err(c, sub, "expected %s, got %s", list, policy_describe(v, got));
	return false;
}

/*
 * An optional section: NULL if absent or not an object (reported), else
 * the object with its keys checked.
 */
static json_object *section(struct policy_ctx *c, json_object *root, const char *key,
			    const char *const known[], char sub[PATH_BUF])
{
	char got[GOT_BUF];
	json_object *v;

	if (!member(root, "$", key, &v, sub))
		return NULL;
	if (!json_object_is_type(v, json_type_object)) {
		policy_err(c, sub, "expected an object, got %s", policy_describe(v, got));
		return NULL;
	}
	check_keys(c, v, sub, known);
	return v;
}

static bool hex_digits(const char *s, size_t len, size_t *i, size_t min,
		       size_t max, uint32_t *v)
{
	size_t k;

	*v = 0;
	for (k = 0; *i < len && k < max && isxdigit((unsigned char)s[*i]); k++, (*i)++)
		*v = *v * 16 + (isdigit((unsigned char)s[*i]) ? s[*i] - '0' :
				(tolower((unsigned char)s[*i]) - 'a' + 10));
	return k >= min;
}

/*
 * "domain:bus:dev.fn" as Linux names PCI functions: domain of 4 to 8 hex
 * digits (more than 4 on e.g. VMD), bus and device of 2, function of 1;
 * device 00..1f, function 0..7. Either case; the result is lowercase, as
 * in /sys/bus/pci/devices, so equal addresses compare equal.
 */
static bool parse_pci(const char *s, size_t len, char out[POLICY_PCI_NAME_MAX])
{
	uint32_t dom, bus, dev, fn;
	size_t i = 0;

	if (!hex_digits(s, len, &i, 4, 8, &dom) || i >= len || s[i++] != ':' ||
	    !hex_digits(s, len, &i, 2, 2, &bus) || i >= len || s[i++] != ':' ||
	    !hex_digits(s, len, &i, 2, 2, &dev) || i >= len || s[i++] != '.' ||
	    !hex_digits(s, len, &i, 1, 1, &fn) || i != len || dev > 0x1f || fn > 7)
		return false;
	snprintf(out, POLICY_PCI_NAME_MAX, "%04x:%02x:%02x.%x", (unsigned)dom,
		 (unsigned)(bus & 0xff), (unsigned)(dev & 0x1f), (unsigned)(fn & 7));
	return true;
}

static bool read_rule(struct policy_ctx *c, json_object *v, const char *path,
		      struct pkvm_stream_rule *r)
{
	static const char *const keys[] = { "smmu", "sid", "pci", "action", NULL };
	char sub[PATH_BUF], got[GOT_BUF];
	json_object *pci, *x;
	size_t before = c->n;
	bool has_sid, has_pci;
	int action = -1;

	if (!json_object_is_type(v, json_type_object)) {
		policy_err(c, path, "expected an object, got %s", policy_describe(v, got));
		return false;
	}
	check_keys(c, v, path, keys);
	has_sid = json_object_object_get_ex(v, "sid", NULL);
	has_pci = json_object_object_get_ex(v, "pci", &pci);
	if (has_sid && has_pci) {
		policy_err(c, path, "has both \"sid\" and \"pci\"; a rule matches by one");
	} else if (has_sid) {
		r->kind = POLICY_RULE_SID;
		read_uint(c, v, path, "smmu", 0, UINT32_MAX, &r->smmu);
		read_uint(c, v, path, "sid", 0, UINT32_MAX, &r->sid);
	} else if (has_pci) {
		r->kind = POLICY_RULE_PCI;
		if (member(v, path, "smmu", &x, sub))
			policy_err(c, sub, "only valid with \"sid\", not with \"pci\"");
		policy_pathf(sub, "%s.pci", path);
		if (!json_object_is_type(pci, json_type_string) ||
		    !parse_pci(json_object_get_string(pci), json_object_get_string_len(pci), r->pci))
			policy_err(c, sub, "expected a PCI address \"dddd:bb:dd.f\" (hex, device "
				   "00..1f, function 0..7), got %s", policy_describe(pci, got));
	} else {
		policy_err(c, path, "needs \"sid\" or \"pci\"");
	}
	if (!json_object_object_get_ex(v, "action", &x))
		policy_err(c, path, "missing required key \"action\"");
	else if (read_enum(c, v, path, "action", actions, &action))
		r->action = action;
	return c->n == before;
}

static void read_streams(struct policy_ctx *c, json_object *root, struct pkvm_policy *p)
{
	char sub[PATH_BUF], path[PATH_BUF], got[GOT_BUF], key[32];
	_cleanup_json_ json_object *seen = NULL;
	json_object *arr, *first;
	size_t i, n;

	if (!member(root, "$", "streams", &arr, sub))
		return;
	if (!json_object_is_type(arr, json_type_array)) {
		policy_err(c, sub, "expected an array, got %s", policy_describe(arr, got));
		return;
	}
	n = json_object_array_length(arr);
	if (!n)
		return;
	p->streams = calloc(n, sizeof(*p->streams));
	seen = json_object_new_object();	/* rule key -> index of first */
	if (!p->streams || !seen) {
		c->nomem = true;
		return;
	}
	p->nr_streams = n;
	for (i = 0; i < n; i++) {
		struct pkvm_stream_rule *r = &p->streams[i];

		policy_pathf(path, "$.streams[%zu]", i);
		if (!read_rule(c, json_object_array_get_idx(arr, i), path, r))
			continue;
		if (r->kind == POLICY_RULE_SID)
			snprintf(key, sizeof(key), "%u/%u", r->smmu, r->sid);
		else
			snprintf(key, sizeof(key), "%s", r->pci);
		if (!json_object_object_get_ex(seen, key, &first)) {
			if (json_object_object_add(seen, key, json_object_new_int64(i)))
				c->nomem = true;
		} else if (r->kind == POLICY_RULE_SID) {
			policy_err(c, path,
				   "duplicate rule for smmu %u sid %u (first at $.streams[%d])",
				   r->smmu, r->sid, json_object_get_int(first));
		} else {
			policy_err(c, path, "duplicate rule for pci %s (first at $.streams[%d])",
				   r->pci, json_object_get_int(first));
		}
	}
}

static void read_split(struct policy_ctx *c, json_object *root, struct pkvm_policy *p)
{
	static const char *const keys[] = { "mode", "level", NULL };
	char path[PATH_BUF], sub[PATH_BUF];
	json_object *s = section(c, root, "split_policy", keys, path), *lv;
	int mode = POLICY_DEFAULT_SPLIT;

	if (!s)
		return;
	if (!read_enum(c, s, path, "mode", splits, &mode))
		return;	/* level depends on the mode: no second guess */
	p->split.mode = mode;
	if (member(s, path, "level", &lv, sub)) {
		if (mode != PKVM_SPLIT_PRESPLIT)
			policy_err(c, sub, "only valid with mode \"presplit\"");
		else
			uint_value(c, lv, sub, PKVM_LEVEL_1G, PKVM_LEVEL_4K, &p->split.level);
	} else if (mode == PKVM_SPLIT_PRESPLIT) {
		policy_err(c, path, "mode \"presplit\" requires \"level\" (%u..%u)",
			   PKVM_LEVEL_1G, PKVM_LEVEL_4K);
	}
}

static void read_metrics(struct policy_ctx *c, json_object *root, struct pkvm_policy *p)
{
	static const char *const keys[] = { "path", "interval_s", NULL };
	char path[PATH_BUF], sub[PATH_BUF], got[GOT_BUF];
	json_object *m = section(c, root, "metrics", keys, path), *v;
	const char *s;

	if (!m)
		return;
	if (member(m, path, "path", &v, sub) && !json_object_is_type(v, json_type_null)) {
		s = json_object_get_string(v);
		if (!json_object_is_type(v, json_type_string) || s[0] != '/')
			policy_err(c, sub, "expected an absolute path or null, got %s",
				   policy_describe(v, got));
		else if (strlen(s) != (size_t)json_object_get_string_len(v))
			policy_err(c, sub, "contains a NUL character");
		else if (strlen(s) >= PATH_MAX)
			policy_err(c, sub, "longer than %d bytes", PATH_MAX - 1);
		else if (!(p->metrics.path = strdup(s)))
			c->nomem = true;
	}
	read_uint(c, m, path, "interval_s", 1, 3600, &p->metrics.interval_s);
}

void policy_read_schema(struct policy_ctx *c, json_object *root, struct pkvm_policy *p)
{
	static const char *const top[] = { "version", "default_stream_action",
		"streams", "split_policy", "invalidation", "fold", "fault_limit", "metrics",
		NULL };
	static const char *const inval[] = { "batch_max_ops", "batch_window_us", NULL };
	static const char *const fold[] = { "mode", "compact_budget", "idle_ms", NULL };
	static const char *const faults[] = { "faults", "seconds", "quarantine", NULL };
	char path[PATH_BUF], got[GOT_BUF];
	json_object *v, *s;
	int action = p->default_action;

	if (!json_object_is_type(root, json_type_object)) {
		policy_err(c, "$", "expected an object, got %s", policy_describe(root, got));
		return;
	}
	if (!json_object_object_get_ex(root, "version", &v)) {
		policy_err(c, "$", "missing required key \"version\"");
	} else if (!json_object_is_type(v, json_type_int)) {
		policy_err(c, "$.version", "expected an integer, got %s", policy_describe(v, got));
	} else if (json_object_get_int64(v) != POLICY_SCHEMA_VERSION) {
		/* Another version's keys mean what it says: judge none of them. */
		policy_err(c, "$.version", "unsupported schema version %s (this daemon knows %d)",
			   json_object_to_json_string(v), POLICY_SCHEMA_VERSION);
		return;
	}
	check_keys(c, root, "$", top);
	if (read_enum(c, root, "$", "default_stream_action", actions, &action))
		p->default_action = action;
	read_streams(c, root, p);
	read_split(c, root, p);
	if ((s = section(c, root, "invalidation", inval, path))) {
		read_uint(c, s, path, "batch_max_ops", 1, PKVM_IOMMU_BATCH_MAX,
			  &p->invalidation.batch_max_ops);
		read_uint(c, s, path, "batch_window_us", 0, PKVM_IOMMU_BATCH_WINDOW_MAX_US,
			  &p->invalidation.batch_window_us);
	}
	if ((s = section(c, root, "fold", fold, path))) {
		int mode = p->fold.mode;

		if (read_enum(c, s, path, "mode", folds, &mode))
			p->fold.mode = mode;
		read_uint(c, s, path, "compact_budget", 1, PKVM_IOMMU_COMPACT_MAX,
			  &p->fold.compact_budget);
		read_uint(c, s, path, "idle_ms", 0, PKVM_IOMMU_FOLD_IDLE_MAX_MS, &p->fold.idle_ms);
	}
	if ((s = section(c, root, "fault_limit", faults, path))) {
		read_uint(c, s, path, "faults", 1, 1000000, &p->fault_limit.faults);
		read_uint(c, s, path, "seconds", 1, 86400, &p->fault_limit.seconds);
		read_bool(c, s, path, "quarantine", &p->fault_limit.quarantine);
	}
	read_metrics(c, root, p);
}
