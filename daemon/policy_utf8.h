/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to the policy parser: strict UTF-8 (RFC 3629 section 4, the
 * well-formed sequences of Unicode's table 3-7), shared by the raw scan,
 * which refuses anything else in a policy, and by the messages, which
 * escape anything else they quote. Strict means no overlong form, no
 * UTF-16 surrogate (U+D800..U+DFFF) and nothing above U+10FFFF: json-c's
 * own check only counts continuation bytes and lets all three through.
 */
#ifndef PKVMD_POLICY_UTF8_H
#define PKVMD_POLICY_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct utf8_char {
	uint32_t cp;		/* the code point, when valid */
	size_t len;		/* bytes used; for an error, the bad bytes (>= 1) */
	const char *error;	/* NULL, or why the bytes are not UTF-8 */
};

/* Decodes the character at s (len > 0 bytes); false with u->error set if invalid. */
bool policy_utf8_next(const char *s, size_t len, struct utf8_char *u);

/*
 * Would a terminal or a log show cp as itself? Not the C0 and C1
 * controls, DEL, the line and paragraph separators, nor the invisible
 * marks that reorder text (bidirectional controls: a quoted key could
 * otherwise display as something it is not).
 */
bool policy_utf8_printable(uint32_t cp);

#endif /* PKVMD_POLICY_UTF8_H */
