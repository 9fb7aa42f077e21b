// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl policy show|check|reload|set. "check" runs the daemon's
 * own parser (daemon/policy.c) on a file, without the daemon, so what it
 * accepts is exactly what pkvm-iommud would; "show" reads the policy in
 * force (GetPolicy, the file's schema) and parses it back the same way.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "policy.h"	/* the daemon's own parser, for "check" */
#include "table.h"

static int policy_show(struct ctl *c, int argc, char **argv);
static int policy_check(struct ctl *c, int argc, char **argv);
static int policy_reload(struct ctl *c, int argc, char **argv);
static int policy_set(struct ctl *c, int argc, char **argv);

const struct verb policy_verbs[] = {
	SUBVERB("policy", "show", .args = "", .summary = "The policy in force",
		.help = "The daemon's policy file with its run-time changes merged over it\n"
			"(GetPolicy); --json prints it in the policy file's own schema.\n",
		.opts = CTL_OPT_JSON, .fn = policy_show),
	SUBVERB("policy", "check", .args = "FILE", .summary = "Validate a policy file (offline)",
		.help = "Parses FILE with pkvm-iommud's own parser, without the daemon, and\n"
			"prints every problem by JSON path. Exit status 0 when valid, 5 when\n"
			"not, 1 when FILE cannot be read.\n",
		.min_args = 1, .max_args = 1, .opts = CTL_OPT_JSON, .fn = policy_check),
	SUBVERB("policy", "reload", .args = "", .summary = "Make the daemon apply its file again",
		.help = "ReloadPolicy: the daemon reads its policy file again and applies it, all\n"
			"or nothing. A file that does not validate is refused (exit status 5)\n"
			"and the policy in force stays.\n",
		.opts = CTL_OPT_JSON, .fn = policy_reload),
	SUBVERB("policy", "set", .args = "split MODE [LEVEL] | fold MODE [BUDGET [IDLE_MS]] | "
		"stream SMMU SID isolate|block",
		.summary = "Change the split policy, the fold policy or a stream's policy",
		.help = "split MODE [LEVEL]: MODE auto, hitless, bbm or presplit; LEVEL (1: 1 GiB,\n"
			"2: 2 MiB, 3: 4 KiB) with presplit only.\n"
			"fold MODE [BUDGET [IDLE_MS]]: MODE eager or lazy; BUDGET 1..4096 tables a\n"
			"compaction call, IDLE_MS 0..600000 (0: no idle compaction); left out, they\n"
			"keep the values in force.\n"
			"stream SMMU SID ACTION: ACTION isolate or block; SID decimal or 0x hex.\n"
			"Kept by the daemon in its state directory, over the policy file. Needs\n"
			"root or the polkit action " DAEMON_POLKIT_ACTION ".\n",
		.min_args = 2, .max_args = 4, .opts = CTL_OPT_JSON, .fn = policy_set),
	{ 0 },
};

/* ---- show ---- */

static int show_text(const struct ctl *c, const struct pkvm_policy *p, const char *file,
		     const char *state)
{
	static const char *const hdr[] = { "SMMU", "SID", "PCI", "ACTION", NULL };
	_cleanup_table_ struct table *t = table_new(hdr);
	bool col = c->color;
	int r = t ? 0 : -ENOMEM;

	output_field(col, "File", NULL, "%s", file && *file ? file : "(none)");
	output_field(col, "Run-time file", NULL, "%s%s" DAEMON_STATE_POLICY, state ? state : "?",
		     state && *state && state[strlen(state) - 1] == '/' ? "" : "/");
	output_field(col, "Default action", NULL, "%s", policy_action_name(p->default_action));
	if (p->split.mode == PKVM_SPLIT_PRESPLIT)
		output_field(col, "Split policy", NULL, "presplit (level %" PRIu32 ")", p->split.level);
	else
		output_field(col, "Split policy", NULL, "%s", policy_split_name(p->split.mode));
	output_field(col, "Invalidation", NULL, "batches of up to %" PRIu32 " operations, %" PRIu32
		     " us window", p->invalidation.batch_max_ops, p->invalidation.batch_window_us);
	output_fold(col, policy_fold_name(p->fold.mode), p->fold.compact_budget, p->fold.idle_ms);
	output_field(col, "Fault limit", NULL, "%" PRIu32 " faults in %" PRIu32 " s, %s",
		     p->fault_limit.faults, p->fault_limit.seconds,
		     p->fault_limit.quarantine ? "then quarantine (block)" : "no quarantine");
	if (p->metrics.path)
		output_field(col, "Metrics", NULL, "%s every %" PRIu32 " s", p->metrics.path,
			     p->metrics.interval_s);
	else
		output_field(col, "Metrics", NULL, "off");
	putchar('\n');
	for (size_t i = 0; r >= 0 && i < p->nr_streams; i++) {
		const struct pkvm_stream_rule *s = &p->streams[i];
		bool pci = s->kind == POLICY_RULE_PCI;

		if ((r = pci ? table_add(t, NULL, "-") : table_addf(t, NULL, "%" PRIu32, s->smmu)) < 0 ||
		    (r = pci ? table_add(t, NULL, "-") : table_addf(t, NULL, "%" PRIu32, s->sid)) < 0 ||
		    (r = table_add(t, NULL, pci ? s->pci : "-")) < 0 ||
		    (r = table_add(t, s->action == PKVM_STREAM_BLOCK ? ANSI_YELLOW : NULL,
				   policy_action_name(s->action))) < 0)
			break;
	}
	if (r < 0)
		return r;
	if (!p->nr_streams) {
		printf("No stream rules: every stream is %s.\n", policy_action_name(p->default_action));
		return 0;
	}
	table_align_right(t, 0);
	table_align_right(t, 1);
	r = table_print(t, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%zu stream rule%s, in file order.\n", p->nr_streams,
		       p->nr_streams == 1 ? "" : "s");
	return r;
}

static int policy_show(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_free_ char *file = NULL, *state = NULL;
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	struct policy_errors errs = { 0 };
	const char *json;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = ctl_call(bus, "GetPolicy", &error, &reply, NULL);
	if (r >= 0)
		r = sd_bus_message_read(reply, "s", &json);
	if (r < 0)
		return ctl_bus_fail(c, "GetPolicy", r, &error);
	policy_init_default(&p);
	r = policy_parse_string(json, strlen(json), &p, &errs);
	if (r < 0) {
		/* The daemon wrote it with the same code: a mismatch of versions. */
		fprintf(stderr, CTL_NAME ": the daemon's policy does not parse here: %s\n",
			errs.n ? errs.msg[0] : strerror(-r));
		return CTL_EXIT_FAILURE;
	}
	if (c->json) {
		/* Its own text, as one document in --json's layout. */
		return output_done(json_print(json_tokener_parse(json), c->json_flags));
	}
	r = sd_bus_get_property_string(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
				       DAEMON_IFACE_MANAGER, "PolicyPath", &error, &file);
	if (r >= 0)
		r = sd_bus_get_property_string(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					       DAEMON_IFACE_MANAGER, "StateDirectory", &error,
					       &state);
	if (r < 0)
		return ctl_bus_fail(c, "reading PolicyPath and StateDirectory", r, &error);
	return output_done(show_text(c, &p, file, state));
}

/* ---- check ---- */

static int policy_check(struct ctl *c, int argc, char **argv)
{
	_cleanup_policy_ struct pkvm_policy p = { 0 };
	_cleanup_free_ struct policy_errors *errs = calloc(1, sizeof(*errs));
	const char *file = argv[0];
	bool invalid;
	int r, ret;

	if (!errs)
		return output_done(-ENOMEM);
	policy_init_default(&p);
	r = policy_load_file(file, &p, errs);
	/* Content the daemon would refuse, as opposed to a file it cannot read. */
	invalid = r == -EINVAL || r == -EFBIG;
	if (c->json) {
		json_object *j = json_object_new_object(), *a = json_object_new_array();
		_cleanup_free_ char *canon = r < 0 ? NULL : policy_to_json(&p);
		/* JSON text is UTF-8 (RFC 8259 section 8.1); a file name need not be. */
		_cleanup_free_ char *name = policy_escape_text(file);

		if (!name)
			return output_done(-ENOMEM);
		json_add_str(j, "file", name);
		json_add_bool(j, "valid", r >= 0);
		for (size_t i = 0; i < errs->n; i++)
			json_append(a, json_object_new_string(errs->msg[i]));
		json_add(j, "errors", a);
		json_add_u64(j, "dropped", errs->dropped);
		if (r >= 0)
			json_add(j, "policy", canon ? json_tokener_parse(canon) : NULL);
		if ((ret = json_print(j, c->json_flags)) < 0)
			return output_done(ret);
	} else if (r >= 0) {
		printf("%s: valid\n", file);
	} else {
		for (size_t i = 0; i < errs->n; i++)
			/* Parse errors start at the JSON path; a read error names the file. */
			fprintf(stderr, "%s%s%s\n", errs->file_named ? "" : file,
				errs->file_named ? "" : ": ", errs->msg[i]);
		if (errs->dropped)
			fprintf(stderr, "%s: and %zu more error%s\n", file, errs->dropped,
				errs->dropped == 1 ? "" : "s");
		if (!errs->n)
			fprintf(stderr, "%s: %s\n", file, strerror(-r));
	}
	if (r >= 0)
		return output_done(0);
	return invalid ? CTL_EXIT_INVALID_POLICY : CTL_EXIT_FAILURE;
}

/* ---- reload and set ---- */

static int policy_reload(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = ctl_call(bus, "ReloadPolicy", &error, NULL, NULL);
	return r < 0 ? ctl_bus_fail(c, "ReloadPolicy", r, &error) : CTL_EXIT_OK;
}

static int usage_set(const char *why, const char *arg)
{
	fprintf(stderr, CTL_NAME ": policy set: %s'%s'.\n"
		"Usage: " CTL_NAME " policy set split MODE [LEVEL]\n"
		"       " CTL_NAME " policy set fold eager|lazy [BUDGET [IDLE_MS]]\n"
		"       " CTL_NAME " policy set stream SMMU SID isolate|block\n", why, arg);
	return CTL_EXIT_USAGE;
}

/*
 * SetFoldPolicy takes all three: what the command line leaves out is what
 * is in force, read first.
 */
static int set_fold(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	uint32_t budget = 0, idle_ms = 0;
	int r;

	if (argc > 4)
		return usage_set("too many arguments after ", argv[3]);
	if (argc >= 3 && ctl_parse_u32(argv[2], &budget) < 0)
		return usage_set("BUDGET must be a number, not ", argv[2]);
	if (argc == 4 && ctl_parse_u32(argv[3], &idle_ms) < 0)
		return usage_set("IDLE_MS must be a number, not ", argv[3]);
	r = ctl_connect(c, &bus);
	if (r)
		return r;
	if (argc < 3)
		r = sd_bus_get_property_trivial(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
						DAEMON_IFACE_MANAGER, "CompactBudget", &error, 'u',
						&budget);
	if (r >= 0 && argc < 4)
		r = sd_bus_get_property_trivial(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
						DAEMON_IFACE_MANAGER, "CompactIdleMsec", &error, 'u',
						&idle_ms);
	if (r < 0)
		return ctl_bus_fail(c, "reading CompactBudget and CompactIdleMsec", r, &error);
	r = ctl_call(bus, "SetFoldPolicy", &error, NULL, "suu", argv[1], budget, idle_ms);
	return r < 0 ? ctl_bus_fail(c, "SetFoldPolicy", r, &error) : CTL_EXIT_OK;
}

static int policy_set(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	uint32_t smmu = 0, sid = 0, level = 0;
	const char *method;
	bool split;
	int r;

	/* Numbers are checked here; what they mean, the daemon checks. */
	if (!strcmp(argv[0], "fold"))
		return set_fold(c, argc, argv);
	split = !strcmp(argv[0], "split");
	if (split) {
		if (argc > 3)
			return usage_set("too many arguments after ", argv[1]);
		if (argc == 3 && ctl_parse_u32(argv[2], &level) < 0)
			return usage_set("LEVEL must be a number, not ", argv[2]);
		method = "SetSplitPolicy";
	} else if (!strcmp(argv[0], "stream")) {
		if (argc != 4)
			return usage_set("stream needs SMMU SID and an action, got ",
					 argc == 2 ? argv[1] : argv[argc - 1]);
		if (ctl_parse_u32(argv[1], &smmu) < 0)
			return usage_set("SMMU must be a number, not ", argv[1]);
		if (ctl_parse_u32(argv[2], &sid) < 0)
			return usage_set("SID must be a number (decimal or 0x hex), not ", argv[2]);
		method = "SetStreamPolicy";
	} else {
		return usage_set("expected 'split', 'fold' or 'stream', not ", argv[0]);
	}
	r = ctl_connect(c, &bus);
	if (r)
		return r;
	if (split)
		r = ctl_call(bus, method, &error, NULL, "su", argv[1], level);
	else
		r = ctl_call(bus, method, &error, NULL, "uus", smmu, sid, argv[3]);
	return r < 0 ? ctl_bus_fail(c, method, r, &error) : CTL_EXIT_OK;
}
