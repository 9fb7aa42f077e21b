// SPDX-License-Identifier: GPL-2.0
/* Strict UTF-8 for the policy parser (policy_utf8.h). */
#include "policy_utf8.h"

bool policy_utf8_next(const char *str, size_t len, struct utf8_char *u)
{
	/* The smallest code point each length may encode: less is overlong. */
	static const uint32_t min[] = { 0, 0, 0x80, 0x800, 0x10000 };
	const unsigned char *s = (const unsigned char *)str;
	size_t n, k;
	uint32_t cp;

	*u = (struct utf8_char){ .cp = s[0], .len = 1 };
	if (s[0] < 0x80)
		return true;
	if (s[0] < 0xc0) {
		u->error = "a continuation byte cannot start a character";
		return false;
	}
	if (s[0] >= 0xf8) {
		u->error = "never valid in UTF-8";
		return false;
	}
	n = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	cp = s[0] & (0x7f >> n);
	for (k = 1; k < n; k++) {
		if (k >= len || (s[k] & 0xc0) != 0x80) {
			u->len = k;
			u->error = "truncated sequence";
			return false;
		}
		cp = cp << 6 | (s[k] & 0x3f);
	}
	u->len = n;
	u->cp = cp;
	if (cp < min[n])
		u->error = "overlong encoding";
	else if (cp >= 0xd800 && cp <= 0xdfff)
		u->error = "encodes a UTF-16 surrogate";
	else if (cp > 0x10ffff)
		u->error = "above U+10FFFF";
	return !u->error;
}

bool policy_utf8_printable(uint32_t cp)
{
	return !(cp < 0x20 || (cp >= 0x7f && cp < 0xa0) ||
		 cp == 0x061c ||			/* Arabic letter mark */
		 cp == 0x200e || cp == 0x200f ||	/* LRM, RLM */
		 (cp >= 0x2028 && cp <= 0x202e) ||	/* LS, PS, LRE..RLO */
		 (cp >= 0x2066 && cp <= 0x2069) ||	/* LRI..PDI */
		 cp == 0xfeff);				/* BOM, zero width no-break */
}
