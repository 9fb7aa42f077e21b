// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's first two passes (policy_scan.h):
 *   1. json-c's strict tokener: syntax, with a line and column;
 *   2. a scan of the raw text for what json-c quietly accepts: a key given
 *      twice (json-c keeps the last, silently dropping the first), single
 *      quotes and raw control characters in strings, and strings that are
 *      not what json-c makes of them: bytes that are not strict UTF-8
 *      (json-c's own check lets overlong forms, surrogates and code points
 *      above U+10FFFF through), \u0000 (json-c keys are C strings: cut
 *      there) and unpaired surrogate escapes (json-c turns them into
 *      U+FFFD). Each names the string's JSON path and byte offset.
 * Pass 2 collects errors rather than stop at the first.
 */
#include <errno.h>
#include <string.h>

#include "policy_scan.h"
#include "policy_utf8.h"

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
	bool bad_text;		/* a string json-c decoded is not what the file says */
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
		policy_err_at(sc->c, NULL, sc->s, sc->i, "%s", what);
	sc->bad = true;
}

/* The bytes of a bad sequence, for its message: "0xc0 0xaf". */
static const char *hex_bytes(const char *s, size_t len, char buf[24])
{
	size_t i, o = 0;

	for (i = 0; i < len && i < 4; i++)
		o += snprintf(buf + o, 24 - o, "%s0x%02x", i ? " " : "", (unsigned char)s[i]);
	return buf;
}

static void utf8_err(struct policy_ctx *c, const char *path, bool key, const char *s,
		     size_t off, const struct utf8_char *u)
{
	char hex[24];

	policy_err_at(c, path, s, off, "invalid utf-8 string%s (byte offset %zu, %s: %s)",
		      key ? " in a key" : "", off, hex_bytes(s + off, u->len, hex), u->error);
}

/* Four hex digits at s, which json-c has checked; -1 if not (a json-c quirk). */
static long hex4(const char *s, size_t avail)
{
	long v = 0;
	size_t k;

	if (avail < 4)
		return -1;
	for (k = 0; k < 4; k++) {
		char ch = s[k];

		v <<= 4;
		if (ch >= '0' && ch <= '9')
			v |= ch - '0';
		else if ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'f')
			v |= (ch | 0x20) - 'a' + 10;
		else
			return -1;
	}
	return v;
}

/*
 * The escape at sc->i (a backslash); on return sc->i is past it. A \u
 * escape json-c would not decode to itself is an error: returns what is
 * wrong with it, or NULL when fine. *cp is what a \u escape encoded.
 */
static const char *scan_escape(struct scan *sc, long *cp)
{
	long lo;

	*cp = -1;
	if (sc->i + 1 >= sc->len || sc->s[sc->i + 1] != 'u') {
		sc->i += 2;
		return NULL;
	}
	*cp = hex4(sc->s + sc->i + 2, sc->len - sc->i - 2);
	if (*cp < 0) {
		scan_fail(sc, "invalid \\u escape");
		return NULL;
	}
	sc->i += 6;
	if (*cp == 0)
		return "NUL";
	if (*cp >= 0xdc00 && *cp <= 0xdfff)
		return "unpaired surrogate";
	if (*cp < 0xd800 || *cp > 0xdbff)
		return NULL;
	/* A high surrogate: a low one must follow, as the pair is one character. */
	if (sc->i + 1 < sc->len && sc->s[sc->i] == '\\' && sc->s[sc->i + 1] == 'u') {
		lo = hex4(sc->s + sc->i + 2, sc->len - sc->i - 2);
		if (lo >= 0xdc00 && lo <= 0xdfff) {
			sc->i += 6;
			return NULL;
		}
	}
	return "unpaired surrogate";
}

/*
 * A string at sc->i: a key of the object at path, or the value at path;
 * on return sc->i is past its closing quote. The first problem with its
 * text is reported; the scan then goes on to the next string.
 */
static void scan_string(struct scan *sc, const char *path, bool key)
{
	bool reported = false;
	struct utf8_char u;
	size_t line, col, at;
	const char *why;
	long cp;

	if (sc->i >= sc->len || sc->s[sc->i] != '"')
		return scan_fail(sc, "strings must be in double quotes");
	for (sc->i++; sc->i < sc->len && !sc->bad;) {
		unsigned char ch = sc->s[sc->i];

		at = sc->i;
		if (ch == '"') {
			sc->i++;
			return;
		}
		if (ch < 0x20)
			return scan_fail(sc, "control character in a string (escape it)");
		if (ch == '\\') {
			why = scan_escape(sc, &cp);
			if (!why || reported)
				continue;
			reported = sc->bad_text = true;
			if (cp) {
				policy_err_at(sc->c, path, sc->s, at, "%s \\u%04lx%s (not a character)",
					      why, cp, key ? " in a key" : "");
				continue;
			}
			/* Path first, as the schema's NUL message always read. */
			policy_line_col(sc->s, at, &line, &col);
			policy_err(sc->c, path, "%s NUL character (\\u0000 at line %zu, column %zu)",
				   key ? "a key contains a" : "contains a", line, col);
			continue;
		}
		if (ch < 0x80 || policy_utf8_next(sc->s + at, sc->len - at, &u)) {
			sc->i += ch < 0x80 ? 1 : u.len;
			continue;
		}
		sc->i += u.len;
		if (reported)
			continue;
		reported = sc->bad_text = true;
		utf8_err(sc->c, path, key, sc->s, at, &u);
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
		scan_string(sc, path, true);
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
		policy_path_key(sub, path, key, k ? (size_t)json_object_get_string_len(k) : 0);
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
		return scan_string(sc, path, false);
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

/* Offset of the first sequence in s that is not strict UTF-8 (in *u), or len. */
static size_t first_bad_utf8(const char *s, size_t len, struct utf8_char *u)
{
	size_t i;

	for (i = 0; i < len; i += u->len)
		if (!policy_utf8_next(s + i, len - i, u))
			return i;
	return len;
}

int policy_parse_syntax(struct policy_ctx *c, const char *s, size_t len, json_object **ret)
{
	_cleanup_json_tokener_ json_tokener *tok = json_tokener_new();
	_cleanup_json_ json_object *root = NULL;
	enum json_tokener_error err;
	struct utf8_char u;
	struct scan sc;
	size_t end, bad;

	*ret = NULL;
	if (!tok) {
		c->nomem = true;
		return -ENOMEM;
	}
	/*
	 * Not JSON_TOKENER_VALIDATE_UTF8: the scan checks more strictly, and
	 * json-c stopping first would cost the message its JSON path.
	 */
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	root = json_tokener_parse_ex(tok, s, (int)len);
	err = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	if (err == json_tokener_continue) {
		/* All input used: a NUL tells json-c there is no more. */
		root = json_tokener_parse_ex(tok, "", 1);
		err = json_tokener_get_error(tok);
		end = len;
	}
	if (err != json_tokener_success || !only_ws(s, end, len)) {
		/* No structure to name a path by: offsets, in document order. */
		bad = first_bad_utf8(s, len, &u);
		if (bad < end)
			utf8_err(c, NULL, false, s, bad, &u);
		policy_err_at(c, NULL, s, end, "%s", err != json_tokener_success ?
			      json_tokener_error_desc(err) : "unexpected data after the JSON document");
		if (bad >= end && bad < len)
			utf8_err(c, NULL, false, s, bad, &u);
		return -EINVAL;
	}
	sc = (struct scan){ .c = c, .s = s, .len = len, .tok = tok };
	scan_value(&sc, "$");
	if (sc.bad || sc.bad_text)
		return -EINVAL;
	/* json-c has let nothing but ASCII outside strings: a last guard. */
	bad = first_bad_utf8(s, len, &u);
	if (bad < len) {
		utf8_err(c, NULL, false, s, bad, &u);
		return -EINVAL;
	}
	*ret = TAKE_PTR(root);	/* NULL for a document that is only null */
	return 0;
}
