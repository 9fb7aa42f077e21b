/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to the policy parser (policy*.c): how its passes report what is
 * wrong with a file. Every error is counted; the first POLICY_MAX_ERRORS
 * are kept as messages in struct policy_errors.
 */
#ifndef PKVMD_POLICY_ERRORS_H
#define PKVMD_POLICY_ERRORS_H

#include <stdbool.h>
#include <stddef.h>

#include <json-c/json.h>

#include "json_util.h"
#include "policy.h"

#define PATH_BUF	160	/* a JSON path; longer keys are cut */
#define GOT_BUF		96	/* "got ..." part of a message */
#define QUOTE_MAX	64	/* a string quoted in a message */

struct policy_ctx {
	struct policy_errors *errs;	/* may be NULL */
	size_t n;			/* errors found, kept or not */
	bool nomem;
};

/*
 * One error; path (may be NULL) prefixes the message as "path: ". The
 * whole message is made printable strict UTF-8 whatever the arguments
 * hold (a file name, a key): it goes on the bus, which refuses anything
 * else, and to terminals and logs.
 */
__attribute__((format(printf, 3, 4)))
void policy_err(struct policy_ctx *c, const char *path, const char *fmt, ...);
/* An error at byte off of s: "[path: ]line L, column C: what". */
__attribute__((format(printf, 5, 6)))
void policy_err_at(struct policy_ctx *c, const char *path, const char *s, size_t off,
		   const char *fmt, ...);
/* Line and column (1-based, in bytes) of byte off of s. */
void policy_line_col(const char *s, size_t off, size_t *line, size_t *col);

__attribute__((format(printf, 2, 3)))
void policy_pathf(char sub[PATH_BUF], const char *fmt, ...);
/*
 * The path of member key (len bytes, from the document) of the object at
 * path: path.key, or path["key"] quoted as policy_quote() does when the
 * key is anything but letters, digits, '_' and '-'.
 */
void policy_path_key(char sub[PATH_BUF], const char *path, const char *key, size_t len);
/*
 * s (len bytes) as a JSON string literal in buf[QUOTE_MAX], cut with
 * "..." to fit; what a terminal would not show as itself is escaped
 * (\uXXXX), and a byte that is not UTF-8 is shown as \xNN. Returns buf.
 */
const char *policy_quote(const char *s, size_t len, char *buf);
/* What v was, for "expected X, got Y"; may use buf[GOT_BUF]. */
const char *policy_describe(json_object *v, char *buf);

#endif /* PKVMD_POLICY_ERRORS_H */
