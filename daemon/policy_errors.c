// SPDX-License-Identifier: GPL-2.0
/*
 * The policy parser's messages (policy_errors.h): collected in document
 * order, each naming its JSON path, values quoted so a message never
 * carries raw control characters or an unbounded string.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_errors.h"

void policy_err(struct policy_ctx *c, const char *path, const char *fmt, ...)
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
void policy_err_at(struct policy_ctx *c, const char *s, size_t off, const char *what)
{
	size_t i, line = 1, start = 0;

	for (i = 0; i < off; i++)
		if (s[i] == '\n') {
			line++;
			start = i + 1;
		}
	policy_err(c, NULL, "line %zu, column %zu: %s", line, off - start + 1, what);
}

/* A JSON path into sub; a cut one (huge index, long key) still helps. */
void policy_pathf(char sub[PATH_BUF], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(sub, PATH_BUF, fmt, ap);
	va_end(ap);
}

/* s as a JSON string literal, escaped and cut to fit a message. */
const char *policy_quote(const char *s, size_t len, char *buf)
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