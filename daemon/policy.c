// SPDX-License-Identifier: GPL-2.0
/*
 * Policy file of pkvm-iommud, schema version 1: parse, validate, print,
 * persist. Three passes over one text, each catching what the one before
 * cannot:
 *   1. json-c's strict tokener: syntax, with a line and column;
 *   2. a scan of the raw text for what json-c quietly accepts: a key given
 *      twice (json-c keeps the last, silently dropping the first), single
 *      quotes and raw control characters in strings;
 *   3. the schema walk over json-c's tree: keys, types, ranges, rules.
 * Passes 2 and 3 collect errors rather than stop at the first, so one run
 * of the daemon shows everything that is wrong with a file.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <json-c/json.h>

#include "policy.h"

#define PATH_BUF	160	/* a JSON path; longer keys are cut */
#define GOT_BUF		96	/* "got ..." part of a message */
#define QUOTE_MAX	64	/* a string quoted in a message */

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

/* ------------------------------------------------------------------ */
/* Errors                                                              */
/* ------------------------------------------------------------------ */

struct pctx {
	struct policy_errors *errs;	/* may be NULL */
	size_t n;			/* errors found, kept or not */
	bool nomem;
};

__attribute__((format(printf, 3, 4)))
static void perr(struct pctx *c, const char *path, const char *fmt, ...)
{
	struct policy_errors *e = c->errs;
	va_list ap;
	char *m;
	int k = 0;

	c->n++;
	if (!e)
		return;
	if (e->n == POLICY_MAX_ERRORS) {
		e->dropped++;
		return;
	}
	m = e->msg[e->n++];
	if (path)
		k = snprintf(m, POLICY_ERROR_LEN, "%s: ", path);
	if (k < 0 || k >= POLICY_ERROR_LEN)
		k = 0;
	va_start(ap, fmt);
	vsnprintf(m + k, POLICY_ERROR_LEN - k, fmt, ap);
	va_end(ap);
}

/* Line and column (1-based, bytes) of an offset, for syntax errors. */
static void perr_at(struct pctx *c, const char *s, size_t off, const char *what)
{
	size_t i, line = 1, start = 0;

	for (i = 0; i < off; i++)
		if (s[i] == '\n') {
			line++;
			start = i + 1;
		}
	perr(c, NULL, "line %zu, column %zu: %s", line, off - start + 1, what);
}

/* A JSON path into sub; a cut one (huge index, long key) still helps. */
__attribute__((format(printf, 2, 3)))
static void pathf(char sub[PATH_BUF], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, PATH_BUF, fmt, ap);
	va_end(ap);
}

/* s as a JSON string literal, escaped and cut to fit a message. */
static const char *quote(const char *s, size_t len, char *buf)
{
	size_t i, o = 0;

	buf[o++] = '"';
	for (i = 0; i < len; i++) {
		unsigned char ch = s[i];
		char e[8];
		int el;

		if (ch == '"' || ch == '\\')
			el = snprintf(e, sizeof(e), "\\%c", ch);
		else if (ch < 0x20 || ch == 0x7f)
			el = snprintf(e, sizeof(e), "\\u%04x", ch);
		else
			e[0] = ch, el = 1;
		if (o + el + 5 > QUOTE_MAX) {
			/* Do not leave half a UTF-8 sequence behind. */
			if ((ch & 0xc0) == 0x80) {
				while (o > 1 && (buf[o - 1] & 0xc0) == 0x80)
					o--;
				if (o > 1)
					o--;
			}
			memcpy(buf + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(buf + o, e, el);
		o += el;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* What a value was, for "expected X, got Y". */
static const char *describe(json_object *v, char *buf)
{
	char q[QUOTE_MAX];

	switch (json_object_get_type(v)) {
	case json_type_null:
		return "null";
	case json_type_boolean:
		return json_object_get_boolean(v) ? "true" : "false";
	case json_type_int:
		/* json-c clamps what does not fit 64 bits: do not pass a clamp off as input. */
		snprintf(buf, GOT_BUF, "%s%s", json_object_to_json_string(v),
			 json_object_get_int64(v) == INT64_MIN ? " or less" :
			 json_object_get_uint64(v) == UINT64_MAX ? " or more" : "");
		return buf;
	case json_type_double:	/* json-c keeps the text as written: "8.0", "1e3" */
		snprintf(buf, GOT_BUF, "number %.40s", json_object_to_json_string(v));
		return buf;
	case json_type_string:
		snprintf(buf, GOT_BUF, "string %s", quote(json_object_get_string(v),
			 json_object_get_string_len(v), q));
		return buf;
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	}
	return "?";
}

/* ------------------------------------------------------------------ */
/* Pass 2: what json-c accepts but a policy must not                   */
/* ------------------------------------------------------------------ */

/*
 * Walks text json-c already accepted, so the structure is known good; every
 * loop still checks bounds so that a json-c quirk cannot make it overrun.
 * Keys of each object go into a json-c object used as a set.
 */
struct scan {
	struct pctx *c;
	const char *s;
	size_t len, i;
	json_tokener *tok;	/* decodes one key, escapes and all */
	bool bad;		/* a syntax error: stop */
};

static void scan_ws(struct scan *sc)
{
	while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
				   sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
		sc->i++;
}

static void scan_fail(struct scan *sc, const char *what)
{
	if (!sc->bad)
		perr_at(sc->c, sc->s, sc->i, what);
	sc->bad = true;
}

/* A string at sc->i; on return sc->i is past its closing quote. */
static void scan_string(struct scan *sc)
{
	if (sc->i >= sc->len || sc->s[sc->i] != '"')
		return scan_fail(sc, "strings must be in double quotes");
	for (sc->i++; sc->i < sc->len; sc->i++) {
		unsigned char ch = sc->s[sc->i];

		if (ch == '"') {
			sc->i++;
			return;
		}
		if (ch < 0x20)
			return scan_fail(sc, "control character in a string (escape it)");
		if (ch == '\\')
			sc->i++;
	}
	scan_fail(sc, "unterminated string");
}

static void scan_value(struct scan *sc, const char *path);

static void scan_object(struct scan *sc, const char *path)
{
	json_object *seen = json_object_new_object();
	char sub[PATH_BUF], q[QUOTE_MAX];

	if (!seen) {
		sc->c->nomem = sc->bad = true;
		return;
	}
	sc->i++;
	scan_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == '}') {
		sc->i++;
		goto out;
	}
	while (!sc->bad) {
		size_t start;
		json_object *k;
		const char *key;

		scan_ws(sc);
		start = sc->i;
		scan_string(sc);
		if (sc->bad)
			break;
		json_tokener_reset(sc->tok);
		k = json_tokener_parse_ex(sc->tok, sc->s + start, sc->i - start);
		key = k ? json_object_get_string(k) : "";
		if (json_object_object_get_ex(seen, key, NULL))
			perr(sc->c, path, "duplicate key %s", quote(key, strlen(key), q));
		else if (json_object_object_add(seen, key, NULL))
			sc->c->nomem = sc->bad = true;
		pathf(sub, "%s.%s", path, key);
		json_object_put(k);
		scan_ws(sc);
		if (sc->i >= sc->len || sc->s[sc->i] != ':') {
			scan_fail(sc, "':' expected");
			break;
		}
		sc->i++;
		scan_value(sc, sub);
		scan_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ',') {
			sc->i++;
		} else if (sc->i < sc->len && sc->s[sc->i] == '}') {
			sc->i++;
			break;
		} else {
			scan_fail(sc, "',' or '}' expected");
		}
	}
out:
	json_object_put(seen);
}

static void scan_array(struct scan *sc, const char *path)
{
	char sub[PATH_BUF];
	size_t idx;

	sc->i++;
	scan_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == ']') {
		sc->i++;
		return;
	}
	for (idx = 0; !sc->bad; idx++) {
		pathf(sub, "%s[%zu]", path, idx);
		scan_value(sc, sub);
		scan_ws(sc);
		if (sc->i < sc->len && sc->s[sc->i] == ',') {
			sc->i++;
		} else if (sc->i < sc->len && sc->s[sc->i] == ']') {
			sc->i++;
			break;
		} else {
			scan_fail(sc, "',' or ']' expected");
		}
	}
}

/* Recursion depth is bounded by json-c's own nesting limit (32). */
static void scan_value(struct scan *sc, const char *path)
{
	scan_ws(sc);
	if (sc->i >= sc->len)
		return scan_fail(sc, "value expected");
	switch (sc->s[sc->i]) {
	case '{':
		return scan_object(sc, path);
	case '[':
		return scan_array(sc, path);
	case '"':
	case '\'':
		return scan_string(sc);
	default:	/* number or literal; the schema judges its type */
		while (sc->i < sc->len && !strchr(",]} \t\r\n", sc->s[sc->i]))
			sc->i++;
	}
}

/* ------------------------------------------------------------------ */
/* Pass 1: syntax                                                      */
/* ------------------------------------------------------------------ */

static bool only_ws(const char *s, size_t from, size_t len)
{
	for (; from < len; from++)
		if (!strchr(" \t\r\n", s[from]) || !s[from])
			return false;
	return true;
}

static json_object *parse_syntax(struct pctx *c, const char *s, size_t len)
{
	json_tokener *tok = json_tokener_new();
	enum json_tokener_error err;
	json_object *root;
	size_t end;

	if (!tok) {
		c->nomem = true;
		return NULL;
	}
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
	root = json_tokener_parse_ex(tok, s, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* All input used: a NUL tells json-c there is no more. */
		root = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	if (err != json_tokener_success) {
		perr_at(c, s, end, json_tokener_error_desc(err));
	} else if (!only_ws(s, end, len)) {
		perr_at(c, s, end, "unexpected data after the JSON document");
	} else {
		struct scan sc = { .c = c, .s = s, .len = len, .tok = tok };

		scan_value(&sc, "$");
		if (!sc.bad) {
			json_tokener_free(tok);
			return root;
		}
	}
	json_object_put(root);
	json_tokener_free(tok);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Pass 3: schema                                                      */
/* ------------------------------------------------------------------ */

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
static void check_keys(struct pctx *c, json_object *obj, const char *path,
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
		quote(ukey, strlen(ukey), q);
		if (best)
			perr(c, path, "unknown key %s (did you mean \"%s\"?)", q, best);
		else
			perr(c, path, "unknown key %s", q);
	}
}

/* The member key of obj, and its path in sub; false if absent. */
static bool member(json_object *obj, const char *path, const char *key,
		   json_object **v, char sub[PATH_BUF])
{
	pathf(sub, "%s.%s", path, key);
	return json_object_object_get_ex(obj, key, v);
}

static bool uint_value(struct pctx *c, json_object *v, const char *path,
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
	perr(c, path, "expected an integer %u..%u, got %s", min, max, describe(v, got));
	return false;
}

/* Optional members leave *out (the default) alone when absent. */
static bool read_uint(struct pctx *c, json_object *obj, const char *path,
		      const char *key, uint32_t min, uint32_t max, uint32_t *out)
{
	char sub[PATH_BUF];
	json_object *v;

	if (!member(obj, path, key, &v, sub))
		return true;
	return uint_value(c, v, sub, min, max, out);
}

static bool read_bool(struct pctx *c, json_object *obj, const char *path,
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
	perr(c, sub, "expected true or false, got %s", describe(v, got));
	return false;
}

static bool read_enum(struct pctx *c, json_object *obj, const char *path,
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
	perr(c, sub, "expected %s, got %s", list, describe(v, got));
	return false;
}

/*
 * An optional section: NULL if absent or not an object (reported), else
 * the object with its keys checked.
 */
static json_object *section(struct pctx *c, json_object *root, const char *key,
			    const char *const known[], char sub[PATH_BUF])
{
	char got[GOT_BUF];
	json_object *v;

	if (!member(root, "$", key, &v, sub))
		return NULL;
	if (!json_object_is_type(v, json_type_object)) {
		perr(c, sub, "expected an object, got %s", describe(v, got));
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

static bool read_rule(struct pctx *c, json_object *v, const char *path,
		      struct pkvm_stream_rule *r)
{
	static const char *const keys[] = { "smmu", "sid", "pci", "action", NULL };
	char sub[PATH_BUF], got[GOT_BUF];
	json_object *pci, *x;
	size_t before = c->n;
	bool has_sid, has_pci;
	int action = -1;

	if (!json_object_is_type(v, json_type_object)) {
		perr(c, path, "expected an object, got %s", describe(v, got));
		return false;
	}
	check_keys(c, v, path, keys);
	has_sid = json_object_object_get_ex(v, "sid", NULL);
	has_pci = json_object_object_get_ex(v, "pci", &pci);
	if (has_sid && has_pci) {
		perr(c, path, "has both \"sid\" and \"pci\"; a rule matches by one");
	} else if (has_sid) {
		r->kind = POLICY_RULE_SID;
		read_uint(c, v, path, "smmu", 0, UINT32_MAX, &r->smmu);
		read_uint(c, v, path, "sid", 0, UINT32_MAX, &r->sid);
	} else if (has_pci) {
		r->kind = POLICY_RULE_PCI;
		if (member(v, path, "smmu", &x, sub))
			perr(c, sub, "only valid with \"sid\", not with \"pci\"");
		pathf(sub, "%s.pci", path);
		if (!json_object_is_type(pci, json_type_string) ||
		    !parse_pci(json_object_get_string(pci), json_object_get_string_len(pci), r->pci))
			perr(c, sub, "expected a PCI address \"dddd:bb:dd.f\" (hex, device "
			     "00..1f, function 0..7), got %s", describe(pci, got));
	} else {
		perr(c, path, "needs \"sid\" or \"pci\"");
	}
	if (!json_object_object_get_ex(v, "action", &x))
		perr(c, path, "missing required key \"action\"");
	else if (read_enum(c, v, path, "action", actions, &action))
		r->action = action;
	return c->n == before;
}

static void read_streams(struct pctx *c, json_object *root, struct pkvm_policy *p)
{
	char sub[PATH_BUF], path[PATH_BUF], got[GOT_BUF], key[32];
	json_object *arr, *seen, *first;
	size_t i, n;

	if (!member(root, "$", "streams", &arr, sub))
		return;
	if (!json_object_is_type(arr, json_type_array)) {
		perr(c, sub, "expected an array, got %s", describe(arr, got));
		return;
	}
	n = json_object_array_length(arr);
	if (!n)
		return;
	p->streams = calloc(n, sizeof(*p->streams));
	seen = json_object_new_object();	/* rule key -> index of first */
	if (!p->streams || !seen) {
		json_object_put(seen);
		c->nomem = true;
		return;
	}
	p->nr_streams = n;
	for (i = 0; i < n; i++) {
		struct pkvm_stream_rule *r = &p->streams[i];

		pathf(path, "$.streams[%zu]", i);
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
			perr(c, path, "duplicate rule for smmu %u sid %u (first at $.streams[%d])",
			     r->smmu, r->sid, json_object_get_int(first));
		} else {
			perr(c, path, "duplicate rule for pci %s (first at $.streams[%d])",
			     r->pci, json_object_get_int(first));
		}
	}
	json_object_put(seen);
}

static void read_split(struct pctx *c, json_object *root, struct pkvm_policy *p)
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
			perr(c, sub, "only valid with mode \"presplit\"");
		else
			uint_value(c, lv, sub, PKVM_LEVEL_1G, PKVM_LEVEL_4K, &p->split.level);
	} else if (mode == PKVM_SPLIT_PRESPLIT) {
		perr(c, path, "mode \"presplit\" requires \"level\" (%u..%u)",
		     PKVM_LEVEL_1G, PKVM_LEVEL_4K);
	}
}

static void read_metrics(struct pctx *c, json_object *root, struct pkvm_policy *p)
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
			perr(c, sub, "expected an absolute path or null, got %s", describe(v, got));
		else if (strlen(s) != (size_t)json_object_get_string_len(v))
			perr(c, sub, "contains a NUL character");
		else if (strlen(s) >= PATH_MAX)
			perr(c, sub, "longer than %d bytes", PATH_MAX - 1);
		else if (!(p->metrics.path = strdup(s)))
			c->nomem = true;
	}
	read_uint(c, m, path, "interval_s", 1, 3600, &p->metrics.interval_s);
}

static void read_policy(struct pctx *c, json_object *root, struct pkvm_policy *p)
{
	static const char *const top[] = { "version", "default_stream_action",
		"streams", "split_policy", "invalidation", "fault_limit", "metrics", NULL };
	static const char *const inval[] = { "batch_max_ops", "batch_window_us", NULL };
	static const char *const faults[] = { "faults", "seconds", "quarantine", NULL };
	char path[PATH_BUF], got[GOT_BUF];
	json_object *v, *s;
	int action = p->default_action;

	if (!json_object_is_type(root, json_type_object)) {
		perr(c, "$", "expected an object, got %s", describe(root, got));
		return;
	}
	if (!json_object_object_get_ex(root, "version", &v)) {
		perr(c, "$", "missing required key \"version\"");
	} else if (!json_object_is_type(v, json_type_int)) {
		perr(c, "$.version", "expected an integer, got %s", describe(v, got));
	} else if (json_object_get_int64(v) != POLICY_SCHEMA_VERSION) {
		/* Another version's keys mean what it says: judge none of them. */
		perr(c, "$.version", "unsupported schema version %s (this daemon knows %d)",
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
	if ((s = section(c, root, "fault_limit", faults, path))) {
		read_uint(c, s, path, "faults", 1, 1000000, &p->fault_limit.faults);
		read_uint(c, s, path, "seconds", 1, 86400, &p->fault_limit.seconds);
		read_bool(c, s, path, "quarantine", &p->fault_limit.quarantine);
	}
	read_metrics(c, root, p);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */
/* ------------------------------------------------------------------ */

void policy_init_default(struct pkvm_policy *p)
{
	*p = (struct pkvm_policy){
		.version = POLICY_SCHEMA_VERSION,
		.default_action = POLICY_DEFAULT_ACTION,
		.split = { .mode = POLICY_DEFAULT_SPLIT },
		.invalidation = { POLICY_DEFAULT_BATCH_MAX_OPS, POLICY_DEFAULT_BATCH_WINDOW_US },
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
	struct pkvm_policy n = *src;

	n.streams = NULL;
	n.metrics.path = NULL;
	if (src->nr_streams &&
	    !(n.streams = malloc(src->nr_streams * sizeof(*n.streams))))
		return -ENOMEM;
	if (src->nr_streams)
		memcpy(n.streams, src->streams, src->nr_streams * sizeof(*n.streams));
	if (src->metrics.path && !(n.metrics.path = strdup(src->metrics.path))) {
		free(n.streams);
		return -ENOMEM;
	}
	*dst = n;
	return 0;
}

int policy_parse_string(const char *json, size_t len, struct pkvm_policy *out,
			struct policy_errors *errs)
{
	struct pctx c = { .errs = errs };
	struct pkvm_policy np;
	json_object *root;

	if (errs)
		errs->n = errs->dropped = 0;
	if (len > INT_MAX) {	/* json-c takes an int length */
		perr(&c, NULL, "document too large");
		return -EINVAL;
	}
	policy_init_default(&np);
	root = parse_syntax(&c, len ? json : "", len);
	if (root)
		read_policy(&c, root, &np);
	json_object_put(root);
	if (c.nomem || c.n) {
		policy_free(&np);
		if (c.nomem)
			perr(&c, NULL, "out of memory");
		return c.nomem ? -ENOMEM : -EINVAL;
	}
	policy_free(out);
	*out = np;
	return 0;
}

int policy_load_file(const char *path, struct pkvm_policy *out,
		     struct policy_errors *errs)
{
	struct pctx c = { .errs = errs };
	size_t len = 0;
	char *buf;
	ssize_t k;
	int fd, r;

	if (errs)
		errs->n = errs->dropped = 0;
	/* One byte more than allowed, to tell "too large" from "just fits". */
	buf = malloc(POLICY_FILE_MAX + 1);
	if (!buf) {
		perr(&c, NULL, "out of memory");
		return -ENOMEM;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0) {
		r = -errno;
		goto fail;
	}
	while (len <= POLICY_FILE_MAX &&
	       (k = read(fd, buf + len, POLICY_FILE_MAX + 1 - len)) != 0) {
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0) {
			r = -errno;
			close(fd);
			goto fail;
		}
		len += k;
	}
	close(fd);
	if (len > POLICY_FILE_MAX) {
		r = -EFBIG;
		perr(&c, path, "larger than %u bytes", POLICY_FILE_MAX);
		free(buf);
		return r;
	}
	r = policy_parse_string(buf, len, out, errs);
	free(buf);
	return r;
fail:
	perr(&c, path, "%s", strerror(-r));
	free(buf);
	return r;
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
	json_object *o = json_object_new_object();
	bool ok = o;

	if (r->kind == POLICY_RULE_SID) {
		put(o, "smmu", json_object_new_int64(r->smmu), &ok);
		put(o, "sid", json_object_new_int64(r->sid), &ok);
	} else {
		put_str(o, "pci", r->pci, &ok);
	}
	put_str(o, "action", policy_action_name(r->action), &ok);
	if (!ok) {
		json_object_put(o);
		return NULL;
	}
	return o;
}

char *policy_to_json(const struct pkvm_policy *p)
{
	json_object *root = json_object_new_object(), *arr = json_object_new_array();
	json_object *split = json_object_new_object(), *inval = json_object_new_object();
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
	json_object_put(root);
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

bool policy_equal(const struct pkvm_policy *a, const struct pkvm_policy *b)
{
	size_t i;

	if (a->version != b->version || a->default_action != b->default_action ||
	    a->nr_streams != b->nr_streams || a->split.mode != b->split.mode ||
	    a->split.level != b->split.level ||
	    a->invalidation.batch_max_ops != b->invalidation.batch_max_ops ||
	    a->invalidation.batch_window_us != b->invalidation.batch_window_us ||
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

static int write_all(int fd, const char *s, size_t len)
{
	while (len) {
		ssize_t k = write(fd, s, len);

		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -errno;
		s += k;
		len -= k;
	}
	return 0;
}

int policy_write_atomic(const struct pkvm_policy *p, const char *path)
{
	struct pkvm_policy check = { 0 };
	const char *slash = strrchr(path, '/');
	const char *base = slash ? slash + 1 : path;
	int dirlen = slash ? (int)(slash - path) : 0;
	char *text, *tmp = NULL, *dir = NULL;
	int fd, dfd, r;

	if (!*base)
		return -EISDIR;
	text = policy_to_json(p);
	if (!text)
		return -ENOMEM;
	/* Never persist what the daemon would refuse to load on restart. */
	r = policy_parse_string(text, strlen(text), &check, NULL);
	policy_free(&check);
	if (r)
		goto out;
	/* Hidden, so a glob of *.json never picks up a half-written file. */
	if (asprintf(&tmp, "%.*s%s.%s.XXXXXX", dirlen, path, slash ? "/" : "", base) < 0)
		tmp = NULL;
	if (asprintf(&dir, "%.*s", dirlen ? dirlen : 1, slash ? path : ".") < 0)
		dir = NULL;
	if (!tmp || !dir) {
		r = -ENOMEM;
		goto out;
	}
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = write_all(fd, text, strlen(text));
	if (!r && (fchmod(fd, 0644) || fsync(fd)))
		r = -errno;
	if (close(fd) && !r)
		r = -errno;
	if (!r && rename(tmp, path))
		r = -errno;
	if (r) {
		unlink(tmp);
		goto out;
	}
	/* The rename itself is durable only once the directory is synced. */
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd))
		r = -errno;
	if (dfd >= 0)
		close(dfd);
out:
	free(text);
	free(tmp);
	free(dir);
	return r;
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
