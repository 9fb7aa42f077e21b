// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the policy parser: any input either fails with
 * -EINVAL and at least one message, leaving the previous policy intact,
 * or parses into a policy whose canonical JSON parses back to an equal one.
 */
#include <errno.h>
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
