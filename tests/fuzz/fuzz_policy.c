// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the policy parser: any input either fails with
 * -EINVAL and at least one message, every message valid UTF-8 (they go
 * out over D-Bus), leaving the previous policy intact, or parses into a
 * policy whose canonical JSON parses back to an equal one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

#define INVARIANT(cond)                                                     \
	do {                                                                \
		if (!(cond)) {                                              \
			fprintf(stderr, "fuzz_policy: %s\n", #cond);        \
			abort();                                            \
		}                                                           \
	} while (0)

/*
 * RFC 3629 section 4, written here rather than taken from the daemon so
 * the judge is not the judged: shortest form, no surrogates, at most
 * U+10FFFF.
 */
static bool utf8_valid(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		unsigned int n, min, cp;

		if (*p < 0x80) {
			p++;
			continue;
		}
		if ((*p & 0xe0) == 0xc0)
			n = 1, min = 0x80, cp = *p & 0x1f;
		else if ((*p & 0xf0) == 0xe0)
			n = 2, min = 0x800, cp = *p & 0x0f;
		else if ((*p & 0xf8) == 0xf0)
			n = 3, min = 0x10000, cp = *p & 0x07;
		else
			return false;
		for (unsigned int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = cp << 6 | (p[i] & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);
int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, back = { 0 }, before = { 0 };
	struct policy_errors errs;
	char *json;
	int ret;

	policy_init_default(&p);
	policy_init_default(&before);
	ret = policy_parse_string((const char *)data, size, &p, &errs);
	if (ret) {
		INVARIANT(ret == -EINVAL || ret == -ENOMEM);
		INVARIANT(ret == -ENOMEM || errs.n > 0);
		for (size_t i = 0; i < errs.n; i++)
			INVARIANT(utf8_valid(errs.msg[i]));
		INVARIANT(policy_equal(&p, &before));
		return 0;
	}
	json = policy_to_json(&p);
	INVARIANT(json);
	policy_init_default(&back);
	INVARIANT(policy_parse_string(json, strlen(json), &back, &errs) == 0);
	INVARIANT(policy_equal(&p, &back));
	free(json);
	return 0;
}
