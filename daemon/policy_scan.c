// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's first two passes (policy_scan.h):
 *   1. json-c's strict tokener: syntax, with a line and column;
 *   2. a scan of the raw text for what json-c quietly accepts: a key given
 *      twice (json-c keeps the last, silently dropping the first), single
 *      quotes and raw control characters in strings.
 * Pass 2 collects errors rather than stop at the first.
 */
#include <string.h>

#include "policy_scan.h"

/*
 * Walks text json-c already accepted, so the structure is known good; every
 * loop still checks bounds so that a json-c quirk cannot make it overrun.
 * Keys of each object go into a json-c object used as a set.
 */
struct scan {
	struct policy_ctx *c;
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
		policy_err_at(sc->c, sc->s, sc->i, what);
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
	_cleanup_json_ json_object *seen = json_object_new_object();
	char sub[PATH_BUF], q[QUOTE_MAX];

	if (!seen) {
		sc->c->nomem = sc->bad = true;
		return;
	}
	sc->i++;
	scan_ws(sc);
	if (sc->i < sc->len && sc->s[sc->i] == '}') {
		sc->i++;
		return;
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
			policy_err(sc->c, path, "duplicate key %s",
				   policy_quote(key, strlen(key), q));
		else if (json_object_object_add(seen, key, NULL))
			sc->c->nomem = sc->bad = true;
		policy_pathf(sub, "%s.%s", path, key);
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
		policy_pathf(sub, "%s[%zu]", path, idx);
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

static bool only_ws(const char *s, size_t from, size_t len)
{
	for (; from < len; from++)
		if (!strchr(" \t\r\n", s[from]) || !s[from])
			return false;
	return true;
}

json_object *policy_parse_syntax(struct policy_ctx *c, const char *s, size_t len)
{
	_cleanup_json_tokener_ json_tokener *tok = json_tokener_new();
	_cleanup_json_ json_object *root = NULL;
	enum json_tokener_error err;
	struct scan sc;
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
		policy_err_at(c, s, end, json_tokener_error_desc(err));
		return NULL;
	}
	if (!only_ws(s, end, len)) {
		policy_err_at(c, s, end, "unexpected data after the JSON document");
		return NULL;
	}
	sc = (struct scan){ .c = c, .s = s, .len = len, .tok = tok };
	scan_value(&sc, "$");
	return sc.bad ? NULL : TAKE_PTR(root);
}
