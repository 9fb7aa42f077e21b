/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Output helpers of pkvm-iommuctl: whether to colour, the few colours it
 * uses, sizes for people, and JSON building and printing (json-c) for
 * --json. The JSON shapes themselves are the verbs' and are documented in
 * pkvm-iommuctl(1).
 */
#ifndef PKVM_CLI_OUTPUT_H
#define PKVM_CLI_OUTPUT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <json-c/json.h>

#include "json_util.h"

#define ANSI_RED	"\033[0;31m"
#define ANSI_GREEN	"\033[0;32m"
#define ANSI_YELLOW	"\033[0;33m"
#define ANSI_BOLD	"\033[1m"
#define ANSI_HEADER	"\033[1;4m"	/* bold, underlined: table headers */
#define ANSI_NORMAL	"\033[0m"

/* Colour only on a terminal, never with NO_COLOR set (no-color.org) or TERM=dumb. */
bool output_want_color(FILE *f);

/* "4.0K", "2.0M", "512B": IEC, one decimal, like systemd's format_bytes. */
#define OUTPUT_SIZE_MAX 16
const char *output_size(uint64_t bytes, char buf[OUTPUT_SIZE_MAX]);

/*
 * One "       Label: value" line of a status page: labels right-aligned so
 * the values line up; color (ANSI_* or NULL) only when use_color.
 */
void output_field(bool use_color, const char *label, const char *color, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * The "Fold:" line of status and policy show: "eager", or "lazy, compacted
 * N tables a call after M ms idle" (M 0: "lazy, no idle compaction").
 */
void output_fold(bool use_color, const char *mode, uint32_t budget, uint32_t idle_ms);

/* "host", "hypervisor" or "guest N", for owner ids (PKVM_OWNER_*). */
#define OUTPUT_OWNER_MAX 24
const char *output_owner(uint32_t owner, char buf[OUTPUT_OWNER_MAX]);

/*
 * json-c builders that keep going on allocation failure; json_print() then
 * fails rather than print a document with keys missing.
 */
void json_add_str(json_object *o, const char *key, const char *v);
void json_add_u64(json_object *o, const char *key, uint64_t v);
void json_add_bool(json_object *o, const char *key, bool v);
void json_add(json_object *o, const char *key, json_object *v);
void json_append(json_object *array, json_object *v);

/*
 * Prints one JSON document and a newline to stdout, flushed (monitor
 * readers wait for each line). Takes the reference. Returns 0 or -errno.
 */
int json_print(json_object *o, int flags);

/*
 * The end of a verb that printed: r is what printing returned. Flushes
 * stdout and returns CTL_EXIT_OK, or says why the output failed (a closed
 * pipe, a full disk) and returns CTL_EXIT_FAILURE.
 */
int output_done(int r);

#endif /* PKVM_CLI_OUTPUT_H */
