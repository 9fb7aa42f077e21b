/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-iommuctl: what every part of the CLI shares. main.c parses the
 * global options into struct ctl and dispatches to one verb_*() per
 * subcommand (cmd_*.c); bus.c connects and turns D-Bus failures into the
 * documented exit codes; table.c and output.c format for people and for
 * scripts. Documented in pkvm-iommuctl(1).
 *
 * Verbs return an exit code (CTL_EXIT_*), not an errno: the code a failure
 * maps to depends on which D-Bus error the daemon sent, and the verb has
 * already told the user what went wrong by the time it returns. Helpers
 * below the verbs return negative errno values as usual.
 */
#ifndef PKVM_CLI_CTL_H
#define PKVM_CLI_CTL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include <linux/pkvm_iommu.h>	/* owner ids */

/* The daemon's bus, object, interface and error names, shared with it. */
#include "bus_names.h"
#include "bus_util.h"
#include "macro.h"

#define CTL_NAME "pkvm-iommuctl"

/* Exit codes, as pkvm-iommuctl(1) documents them. */
enum {
	CTL_EXIT_OK = 0,
	CTL_EXIT_FAILURE = 1,		/* anything else: the message says what */
	CTL_EXIT_USAGE = 2,		/* wrong option, command or argument */
	CTL_EXIT_NOT_RUNNING = 3,	/* no bus, or org.pkvm.Iommu1 not on it */
	CTL_EXIT_DENIED = 4,		/* the caller lacks the right */
	CTL_EXIT_INVALID_POLICY = 5,	/* a policy file that does not validate */
	CTL_EXIT_BUSY = 6,		/* too many of the user's changes wait for polkit */
};

/* Options a verb accepts besides the global ones (struct verb.opts). */
enum {
	CTL_OPT_OWNER = 1u << 0,
	CTL_OPT_HISTORY = 1u << 1,
	CTL_OPT_JSON = 1u << 2,		/* --json means something to this verb */
	CTL_OPT_WIDTH = 1u << 3,
};

/* --width: narrower leaves no room for the addresses, wider no terminal has. */
#define CTL_WIDTH_MIN 8u
#define CTL_WIDTH_MAX 4096u

struct ctl {
	const char *bus;	/* --bus: NULL (system), "system", "session" or an address */
	bool json;
	int json_flags;		/* JSON_C_TO_STRING_* */
	bool legend;		/* headers and footers of tables */
	bool no_auto_start;	/* --no-auto-start: never D-Bus-activate pkvm-iommud */
	bool color;		/* stdout is a TTY and NO_COLOR is unset */
	bool have_owner;
	uint32_t owner;		/* --owner */
	bool history;		/* --history */
	uint32_t width;		/* --width, 0: not given */
	unsigned int opts_seen;	/* CTL_OPT_* given on the command line */
};

/* One subcommand. Parents (policy) have sub and no fn. */
struct verb {
	const char *name;
	const char *args;	/* synopsis of the arguments, "" for none */
	const char *summary;	/* one line for --help */
	const char *help;	/* paragraphs for VERB --help, may be NULL */
	int min_args, max_args;	/* after the verb's name */
	unsigned int opts;	/* CTL_OPT_* it accepts */
	int (*fn)(struct ctl *c, int argc, char **argv);
	const struct verb *sub;	/* NULL-name terminated */
};

/*
 * VERB() in main.c and SUBVERB() in the parents' files are what
 * tests/man/check-man.sh reads to find every subcommand the code
 * dispatches: keep one per line, name first.
 */
#define VERB(name_, ...) { .name = name_, __VA_ARGS__ }
#define SUBVERB(parent_, name_, ...) { .name = name_, __VA_ARGS__ }

/* main.c: help of one verb (parent for a subverb), and dispatch below a parent. */
void verb_help(FILE *f, const char *parent, const struct verb *v);
int verb_dispatch(struct ctl *c, const char *parent, const struct verb *table, int argc,
		  char **argv);

/* bus.c */
/* Connects as --bus says; on failure prints why and returns an exit code. */
int ctl_connect(const struct ctl *c, sd_bus **ret);
/*
 * Prints what failed ("what" is what the CLI tried, e.g. "GetLedger") and
 * what to do about it; returns the exit code for the D-Bus error (or for r
 * when error is not set).
 */
int ctl_bus_fail(const struct ctl *c, const char *what, int r, const sd_bus_error *error);
/* A Manager method, like sd_bus_call_method() on the daemon's object. */
int ctl_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
	     const char *types, ...);
/* Properties.GetAll of one interface of one object. */
int ctl_get_all(sd_bus *bus, const char *path, const char *iface, sd_bus_error *error,
		sd_bus_message **reply);
/* ObjectManager.GetManagedObjects on the daemon's root. */
int ctl_get_objects(sd_bus *bus, sd_bus_error *error, sd_bus_message **reply);

/*
 * Reads an a{sv} of properties, calling fn for each one with the message
 * at the variant's content (entered). fn returns 0 when it did not read the
 * value (it is skipped), 1 when it did, or a negative errno.
 */
typedef int (*ctl_prop_fn)(sd_bus_message *m, const char *name, const char *sig, void *arg);
int ctl_read_props(sd_bus_message *m, ctl_prop_fn fn, void *arg);

/*
 * Plain properties by table, for ctl_prop_fn's: type 's' (const char *,
 * valid while the message lives), 'u' (uint32_t), 't' (uint64_t), 'b'
 * (bool). Returns 1 when name is in the table and was read, 0 when not in
 * it, -EBADMSG when the daemon sent another type.
 */
struct ctl_prop {
	const char *name;
	char type;
	void *dest;
};
int ctl_read_prop(sd_bus_message *m, const char *name, const char *sig,
		  const struct ctl_prop *map);

/* A u32 argument, decimal or 0x hex, nothing else around it; -EINVAL / -ERANGE. */
int ctl_parse_u32(const char *s, uint32_t *v);

/* Verbs (cmd_*.c). */
int verb_status(struct ctl *c, int argc, char **argv);
int verb_smmus(struct ctl *c, int argc, char **argv);
int verb_streams(struct ctl *c, int argc, char **argv);
int verb_donations(struct ctl *c, int argc, char **argv);
int verb_stats(struct ctl *c, int argc, char **argv);
int verb_monitor(struct ctl *c, int argc, char **argv);
int verb_metrics(struct ctl *c, int argc, char **argv);
int verb_map(struct ctl *c, int argc, char **argv);
extern const struct verb policy_verbs[];

#endif /* PKVM_CLI_CTL_H */
