// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's messages (policy_errors.h): collected in document
 * order, each naming its JSON path, values quoted so a message never
 * carries raw control characters or an unbounded string, and the whole
 * message escaped so it is always printable strict UTF-8.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_errors.h"
#include "policy_utf8.h"

#define ESC_MAX	8	/* the longest form of one character: "\u202e", "\xff", 4 bytes */

/*
 * The character at s[*i] as a message shows it (advancing *i): printable
 * UTF-8 as itself; other characters as JSON's \uXXXX (every one that is
 * not printable is below U+10000); a byte that is not UTF-8 as \xNN, one
 * byte at a time, as it has no code point to name. When quoting, '"' and
 * '\' are escaped too. Returns the length written to out.
 */
static size_t escape_one(const char *s, size_t len, size_t *i, bool quoting,
			 char out[ESC_MAX])
{
	struct utf8_char u;

	if (!policy_utf8_next(s + *i, len - *i, &u))
		return snprintf(out, ESC_MAX, "\\x%02x", (unsigned char)s[(*i)++]);
	*i += u.len;
	if (quoting && (u.cp == '"' || u.cp == '\\'))
		return snprintf(out, ESC_MAX, "\\%c", (char)u.cp);
	if (!policy_utf8_printable(u.cp))
		return snprintf(out, ESC_MAX, "\\u%04x", (unsigned)u.cp);
	memcpy(out, s + *i - u.len, u.len);
	return u.len;
}

void policy_err(struct policy_ctx *c, const char *path, const char *fmt, ...)
{
	struct policy_errors *e = c->errs;
	/* Escaping never shrinks text: what is kept comes from raw's first bytes. */
	char raw[2 * POLICY_ERROR_LEN], esc[ESC_MAX];
	size_t i = 0, o = 0, len, el;
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
	if (path)
		k = snprintf(raw, sizeof(raw), "%s: ", path);
	if (k < 0 || (size_t)k >= sizeof(raw))
		k = 0;
	va_start(ap, fmt);
	vsnprintf(raw + k, sizeof(raw) - k, fmt, ap);
	va_end(ap);
	/* Whole characters only, so a cut message is still UTF-8. */
	m = e->msg[e->n++];
	len = strlen(raw);
	while (i < len) {
		el = escape_one(raw, len, &i, false, esc);
		if (o + el >= POLICY_ERROR_LEN)
			break;
		memcpy(m + o, esc, el);
		o += el;
	}
	m[o] = '\0';
}

char *policy_escape_text(const char *s)
{
	size_t len = strlen(s), i = 0, o = 0;
	char *out = malloc(len * 6 + 1);	/* at most "\u001b" a byte, and a NUL */

	if (!out)
		return NULL;
	while (i < len)
		o += escape_one(s, len, &i, false, out + o);
	out[o] = '\0';
	return out;
}

void policy_line_col(const char *s, size_t off, size_t *line, size_t *col)
{
	size_t i, start = 0;

	*line = 1;
	for (i = 0; i < off; i++)
		if (s[i] == '\n') {
			++*line;
			start = i + 1;
		}
	*col = off - start + 1;
}

void policy_err_at(struct policy_ctx *c, const char *path, const char *s, size_t off,
		   const char *fmt, ...)
{
	char what[POLICY_ERROR_LEN];
	size_t line, col;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	policy_line_col(s, off, &line, &col);
	policy_err(c, path, "line %zu, column %zu: %s", line, col, what);
}

/* A JSON path into sub; a cut one (huge index, long key) still helps. */
void policy_pathf(char sub[PATH_BUF], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, PATH_BUF, fmt, ap);
	va_end(ap);
}

void policy_path_key(char sub[PATH_BUF], const char *path, const char *key, size_t len)
{
	char q[QUOTE_MAX];
	size_t i;

	/* ASCII by hand: isalnum() would follow a locale. */
	for (i = 0; i < len; i++)
		if (!((key[i] >= 'a' && key[i] <= 'z') || (key[i] >= 'A' && key[i] <= 'Z') ||
		      (key[i] >= '0' && key[i] <= '9') || key[i] == '_' || key[i] == '-'))
			break;
	if (len && i == len)
		policy_pathf(sub, "%s.%.*s", path, (int)len, key);
	else
		policy_pathf(sub, "%s[%s]", path, policy_quote(key, len, q));
}

const char *policy_quote(const char *s, size_t len, char *buf)
{
	size_t i = 0, o = 0, el;
	char e[ESC_MAX];

	buf[o++] = '"';
	while (i < len) {
		el = escape_one(s, len, &i, true, e);
		/* Room for this, then '...', the closing quote and the NUL. */
		if (o + el + 5 > QUOTE_MAX) {
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
const char *policy_describe(json_object *v, char *buf)
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
		snprintf(buf, GOT_BUF, "string %s", policy_quote(json_object_get_string(v),
			 json_object_get_string_len(v), q));
		return buf;
	case json_type_array:
		return "an array";
	case json_type_object:
		return "an object";
	}
	return "?";
}