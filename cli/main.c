// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl: the command-line client of pkvm-iommud (pkvm-iommuctl(1)).
 * This file parses the global options and dispatches to the subcommands;
 * each lives in its own cmd_*.c.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "version.h"

static int verb_help_cmd(struct ctl *c, int argc, char **argv);

static const struct verb verbs[] = {
	VERB("status", .args = "", .summary = "Backend, SMMUs, ledger totals and health",
	     .help = "What the daemon runs on (backend, ABI, version), how many SMMUs and\n"
		     "streams it knows, the ledger's totals per owner and its generation, and\n"
		     "its health: quarantined streams, resyncs after lost events, iommufd.\n",
	     .opts = CTL_OPT_JSON, .fn = verb_status),
	VERB("smmus", .args = "", .summary = "The SMMUs: registers, features, event counters",
	     .opts = CTL_OPT_JSON, .fn = verb_smmus),
	VERB("streams", .args = "",
	     .summary = "Known streams: policy, source, faults, quarantine",
	     .help = "Every stream named by the policy, set at run time, seen faulting or\n"
		     "changed by the backend. Others follow the default stream action.\n",
	     .opts = CTL_OPT_JSON, .fn = verb_streams),
	VERB("policy", .args = "COMMAND ...", .summary = "Show, check, reload or change the policy",
	     .min_args = 1, .max_args = 5, .opts = CTL_OPT_JSON, .sub = policy_verbs),
	VERB("donations", .args = "[--owner=ID] [--history]",
	     .summary = "The donation ledger, or its recent history",
	     .help = "Without --history: the ledger, one run per range that is not plain host\n"
		     "memory, in address order. With --history: the recent ownership changes,\n"
		     "oldest first. --owner=ID keeps one owner (0 host, 1 hypervisor, 2 and up\n"
		     "guests).\n",
	     .opts = CTL_OPT_JSON | CTL_OPT_OWNER | CTL_OPT_HISTORY, .fn = verb_donations),
	VERB("map", .args = "[--width=N]",
	     .summary = "The physical memory map as a bar: host, hypervisor, guests",
	     .help = "One bar as wide as the terminal (or --width=N columns), each cell an\n"
		     "equal share of the addresses from the ledger's first run to its last:\n"
		     "'.' host, '#' hypervisor, '=' host pages shared, a digit or letter per\n"
		     "guest, named by the legend with its pages. A cell shows the state holding\n"
		     "most of it other than plain host memory, so one donated page is never\n"
		     "hidden. The daemon exports no memory map: what the ledger does not hold\n"
		     "is drawn as host memory, holes between memory regions included.\n"
		     "--no-legend prints the bar alone; --json the runs it is drawn from.\n",
	     .opts = CTL_OPT_JSON | CTL_OPT_WIDTH, .fn = verb_map),
	VERB("stats", .args = "", .summary = "Counters and the latency histogram",
	     .help = "The backend's and the daemon's counters (GetCounters), and the latency\n"
		     "of ownership changes the daemon measured (GetLatencyHistogram).\n",
	     .opts = CTL_OPT_JSON, .fn = verb_stats),
	VERB("monitor", .args = "", .summary = "Print donation, fault, quarantine and resync events",
	     .help = "One line per event (one JSON object per line with --json) until\n"
		     "interrupted with SIGINT or SIGTERM.\n",
	     .opts = CTL_OPT_JSON, .fn = verb_monitor),
	VERB("metrics", .args = "", .summary = "Statistics as OpenMetrics text",
	     .help = "What the daemon exports for Prometheus (GetMetrics), as text.\n",
	     .fn = verb_metrics),
	VERB("help", .args = "[COMMAND]", .summary = "This text, or the help of a command",
	     .max_args = 2, .opts = ~0u, .fn = verb_help_cmd),
	{ 0 },
};

/* "  SYNOPSIS   summary", the summary on its own line when the synopsis is long. */
static void print_entry(FILE *f, const char *a, const char *b, const char *args,
			const char *summary)
{
	char syn[128];

	snprintf(syn, sizeof(syn), "%s%s%s%s%s", a, *b ? " " : "", b, *args ? " " : "", args);
	if (strlen(syn) > 30)
		fprintf(f, "  %s\n  %-30s %s\n", syn, "", summary);
	else
		fprintf(f, "  %-30s %s\n", syn, summary);
}

static void usage(FILE *f)
{
	fprintf(f, "Usage: " CTL_NAME " [OPTIONS] COMMAND ...\n\n"
		"Query and control pkvm-iommud, the pkvm-iommu daemon, over D-Bus.\n\n"
		"Commands:\n");
	for (const struct verb *v = verbs; v->name; v++) {
		if (!v->sub)
			print_entry(f, v->name, "", v->args, v->summary);
		for (const struct verb *s = v->sub; s && s->name; s++)
			print_entry(f, v->name, s->name, s->args, s->summary);
	}
	fprintf(f, "\nOptions:\n"
		"  -h --help                      This text (after a command: its help)\n"
		"     --version                   Print the version\n"
		"     --bus=system|session|ADDRESS\n"
		"                                 The bus pkvm-iommud serves on (default: the\n"
		"                                 system bus, or DBUS_SYSTEM_BUS_ADDRESS)\n"
		"     --json[=short|pretty]       JSON for scripts (shapes in " CTL_NAME "(1))\n"
		"     --no-legend                 Tables without their header and footer\n"
		"     --no-auto-start             Never start pkvm-iommud through D-Bus\n"
		"                                 activation: if it is not running, exit 3\n"
		"     --owner=ID                  donations: one owner only\n"
		"     --history                   donations: recent changes, not the ledger\n"
		"     --width=N                   map: the bar's columns (default: the terminal's,\n"
		"                                 else $COLUMNS, else 80)\n"
		"\nExit status: 0 success, 1 failure, 2 wrong usage, 3 pkvm-iommud not running,\n"
		"4 permission denied, 5 invalid policy, 6 busy (try again).\n"
		"See " CTL_NAME "(1).\n");
}

void verb_help(FILE *f, const char *parent, const struct verb *v)
{
	fprintf(f, "Usage: " CTL_NAME " [OPTIONS] %s%s%s%s%s\n\n%s.\n", parent ? parent : "",
		parent ? " " : "", v->name, *v->args ? " " : "", v->args, v->summary);
	if (v->help)
		fprintf(f, "\n%s", v->help);
	if (v->sub) {
		fprintf(f, "\nCommands:\n");
		for (const struct verb *s = v->sub; s->name; s++)
			print_entry(f, s->name, "", s->args, s->summary);
		for (const struct verb *s = v->sub; s->name; s++)
			if (s->help)
				fprintf(f, "\n%s %s:\n%s", v->name, s->name, s->help);
	}
	if (v->opts & CTL_OPT_OWNER)
		fprintf(f, "\n  --owner=ID     only this owner's runs or changes\n");
	if (v->opts & CTL_OPT_HISTORY)
		fprintf(f, "  --history      the recent ownership changes instead of the ledger\n");
	if (v->opts & CTL_OPT_WIDTH)
		fprintf(f, "\n  --width=N      columns of the bar, %u..%u\n", CTL_WIDTH_MIN, CTL_WIDTH_MAX);
	if (v->opts & CTL_OPT_JSON)
		fprintf(f, "\n--json prints the shape documented in " CTL_NAME "(1).\n");
	fprintf(f, "Global options: --bus=ADDRESS, --json, --no-legend; see " CTL_NAME
		" --help.\n");
}

static const struct verb *find(const struct verb *table, const char *name)
{
	for (; table && table->name; table++)
		if (!strcmp(table->name, name))
			return table;
	return NULL;
}

static const struct {
	unsigned int bit;
	const char *name;
} verb_opts[] = {
	{ CTL_OPT_OWNER, "--owner" },
	{ CTL_OPT_HISTORY, "--history" },
	{ CTL_OPT_JSON, "--json" },
	{ CTL_OPT_WIDTH, "--width" },
};

int verb_dispatch(struct ctl *c, const char *parent, const struct verb *table, int argc,
		  char **argv)
{
	const struct verb *v;
	unsigned int extra;

	v = find(table, argv[0]);
	if (!v) {
		fprintf(stderr, CTL_NAME ": unknown command '%s%s%s'; see '" CTL_NAME " %s%s--help'.\n",
			parent ? parent : "", parent ? " " : "", argv[0], parent ? parent : "",
			parent ? " " : "");
		return CTL_EXIT_USAGE;
	}
	argc--;
	argv++;
	if (argc < v->min_args || argc > v->max_args) {
		fprintf(stderr, CTL_NAME ": %s%s%s: %s; usage: " CTL_NAME " %s%s%s%s%s\n",
			parent ? parent : "", parent ? " " : "", v->name,
			argc < v->min_args ? "missing arguments" : "too many arguments",
			parent ? parent : "", parent ? " " : "", v->name, *v->args ? " " : "",
			v->args);
		return CTL_EXIT_USAGE;
	}
	extra = c->opts_seen & ~v->opts;
	for (size_t i = 0; extra && i < sizeof(verb_opts) / sizeof(verb_opts[0]); i++) {
		if (extra & verb_opts[i].bit) {
			fprintf(stderr, CTL_NAME ": %s does not apply to '%s%s%s'.\n", verb_opts[i].name,
				parent ? parent : "", parent ? " " : "", v->name);
			return CTL_EXIT_USAGE;
		}
	}
	if (v->sub)
		return verb_dispatch(c, v->name, v->sub, argc, argv);
	return v->fn(c, argc, argv);
}

/* The deepest verb the words name: "policy set --help" helps with policy set. */
static int help_for(int argc, char **argv)
{
	const struct verb *v = NULL, *parent = NULL, *table = verbs;

	for (int i = 0; i < argc && table; i++) {
		const struct verb *w = find(table, argv[i]);

		if (!w) {
			fprintf(stderr, CTL_NAME ": unknown command '%s'; see '" CTL_NAME
				" --help'.\n", argv[i]);
			return CTL_EXIT_USAGE;
		}
		parent = v;
		v = w;
		table = w->sub;
	}
	if (!v)
		usage(stdout);
	else
		verb_help(stdout, parent ? parent->name : NULL, v);
	return CTL_EXIT_OK;
}

static int verb_help_cmd(struct ctl *c, int argc, char **argv)
{
	return help_for(argc, argv);
}

static int parse_args(struct ctl *c, int *argc, char ***argv, bool *help)
{
	enum { ARG_VERSION = 0x100, ARG_BUS, ARG_JSON, ARG_NO_LEGEND, ARG_OWNER, ARG_HISTORY,
	       ARG_WIDTH, ARG_NO_AUTO_START };
	static const struct option lo[] = {
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, ARG_VERSION },
		{ "bus", required_argument, NULL, ARG_BUS },
		{ "json", optional_argument, NULL, ARG_JSON },
		{ "no-legend", no_argument, NULL, ARG_NO_LEGEND },
		{ "no-auto-start", no_argument, NULL, ARG_NO_AUTO_START },
		{ "owner", required_argument, NULL, ARG_OWNER },
		{ "history", no_argument, NULL, ARG_HISTORY },
		{ "width", required_argument, NULL, ARG_WIDTH },
		{ 0 },
	};
	int o;

	opterr = 0;
	while ((o = getopt_long(*argc, *argv, "h", lo, NULL)) != -1) {
		switch (o) {
		case 'h':
			*help = true;
			break;
		case ARG_VERSION:
			puts(CTL_NAME " " PKVM_IOMMU_VERSION);
			exit(CTL_EXIT_OK);
		case ARG_BUS:
			if (!*optarg) {
				fprintf(stderr, CTL_NAME ": --bus needs 'system', 'session' or an address.\n");
				return CTL_EXIT_USAGE;
			}
			c->bus = optarg;
			break;
		case ARG_JSON:
			c->json = true;
			c->opts_seen |= CTL_OPT_JSON;
			if (!optarg || !strcmp(optarg, "short")) {
				c->json_flags = JSON_C_TO_STRING_PLAIN;
			} else if (!strcmp(optarg, "pretty")) {
				c->json_flags = JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED;
			} else {
				fprintf(stderr, CTL_NAME ": --json='%s': expected 'short' or 'pretty'.\n",
					optarg);
				return CTL_EXIT_USAGE;
			}
			break;
		case ARG_NO_LEGEND:
			c->legend = false;
			break;
		case ARG_NO_AUTO_START:
			c->no_auto_start = true;
			break;
		case ARG_OWNER:
			if (ctl_parse_u32(optarg, &c->owner) < 0 || c->owner > PKVM_OWNER_MAX) {
				fprintf(stderr, CTL_NAME ": --owner='%s': expected an owner id 0..%u "
					"(0 host, 1 hypervisor, 2 and up guests).\n", optarg,
					PKVM_OWNER_MAX);
				return CTL_EXIT_USAGE;
			}
			c->have_owner = true;
			c->opts_seen |= CTL_OPT_OWNER;
			break;
		case ARG_HISTORY:
			c->history = true;
			c->opts_seen |= CTL_OPT_HISTORY;
			break;
		case ARG_WIDTH:
			if (ctl_parse_u32(optarg, &c->width) < 0 || c->width < CTL_WIDTH_MIN ||
			    c->width > CTL_WIDTH_MAX) {
				fprintf(stderr, CTL_NAME ": --width='%s': expected a number of columns "
					"%u..%u.\n", optarg, CTL_WIDTH_MIN, CTL_WIDTH_MAX);
				return CTL_EXIT_USAGE;
			}
			c->opts_seen |= CTL_OPT_WIDTH;
			break;
		case '?':
		default:
			if (optopt && optopt < 0x100)
				fprintf(stderr, CTL_NAME ": unknown option '-%c'; see '" CTL_NAME
					" --help'.\n", optopt);
			else
				fprintf(stderr, CTL_NAME ": unknown option or missing value in '%s'; "
					"see '" CTL_NAME " --help'.\n", (*argv)[optind - 1]);
			return CTL_EXIT_USAGE;
		}
	}
	*argc -= optind;
	*argv += optind;
	return CTL_EXIT_OK;
}

int main(int argc, char **argv)
{
	struct ctl c = { .legend = true, .json_flags = JSON_C_TO_STRING_PLAIN };
	bool help = false;
	int r;

	r = parse_args(&c, &argc, &argv, &help);
	if (r != CTL_EXIT_OK)
		return r;
	if (help)
		return help_for(argc, argv);
	if (argc == 0) {
		fprintf(stderr, CTL_NAME ": no command given; see '" CTL_NAME " --help'.\n");
		return CTL_EXIT_USAGE;
	}
	c.color = output_want_color(stdout);
	return verb_dispatch(&c, NULL, verbs, argc, argv);
}
