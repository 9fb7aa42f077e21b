// SPDX-License-Identifier: GPL-2.0
/*
 * policy-check [--defaults] FILE: FILE through pkvm-iommud's own policy
 * parser (daemon/policy.c), so the installed policy.json is judged by the
 * code that will read it. Prints every error with its JSON path; with
 * --defaults the file must also mean exactly the daemon's built-in
 * defaults (the installed file writes them out to be edited).
 * Exit: 0 valid, 1 invalid or unreadable, 2 usage, 3 valid but not the
 * defaults.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy.h"

static void usage(FILE *f)
{
	fprintf(f, "Usage: policy-check [--defaults] FILE\n"
		   "Check FILE with pkvm-iommud's policy parser.\n\n"
		   "  --defaults   FILE must also equal the built-in defaults\n"
		   "  -h, --help   this text\n");
}

int main(int argc, char **argv)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 }, def = { 0 };
	struct policy_errors errs = { 0 };
	bool defaults = false;
	const char *file = NULL;
	char *text;
	int r;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--defaults"))
			defaults = true;
		else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!file && argv[i][0] != '-')
			file = argv[i];
		else {
			fprintf(stderr, "policy-check: unexpected argument '%s'\n", argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (!file) {
		usage(stderr);
		return 2;
	}

	policy_init_default(&p);
	r = policy_load_file(file, &p, &errs);
	if (r) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "policy-check: %s: %s\n", file, errs.msg[i]);
		if (errs.dropped)
			fprintf(stderr, "policy-check: %s: %zu more error(s)\n", file, errs.dropped);
		return 1;
	}
	text = policy_to_json(&p);
	if (!text) {
		fprintf(stderr, "policy-check: out of memory\n");
		return 1;
	}
	fputs(text, stdout);
	free(text);

	if (defaults) {
		policy_init_default(&def);
		if (!policy_equal(&p, &def)) {
			text = policy_to_json(&def);
			fprintf(stderr, "policy-check: %s is valid but not the daemon's defaults, which are:\n%s",
				file, text ? text : "(out of memory)\n");
			free(text);
			return 3;
		}
	}
	return 0;
}
