// SPDX-License-Identifier: GPL-2.0
/*
 * Colour decision, sizes, and JSON helpers of pkvm-iommuctl (output.h).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "ctl.h"
#include "output.h"

bool output_want_color(FILE *f)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");

	/* no-color.org: set and not empty means no colour, whatever the value. */
	if (nc && *nc)
		return false;
	if (term && !strcmp(term, "dumb"))
		return false;
	return isatty(fileno(f)) == 1;
}

const char *output_size(uint64_t bytes, char buf[OUTPUT_SIZE_MAX])
{
	static const char suffix[] = "KMGTPE";
	uint64_t unit = 1024;
	int i;

	if (bytes < 1024) {
		snprintf(buf, OUTPUT_SIZE_MAX, "%" PRIu64 "B", bytes);
		return buf;
	}
	for (i = 0; i < 5 && bytes / unit >= 1024; i++)
		unit *= 1024;
	/* Tenths by integer arithmetic: a double loses bits above 2^53. */
	snprintf(buf, OUTPUT_SIZE_MAX, "%" PRIu64 ".%" PRIu64 "%c", bytes / unit,
		 (bytes % unit) * 10 / unit, suffix[i]);
	return buf;
}

#define FIELD_LABEL_WIDTH 14

void output_fold(bool use_color, const char *mode, uint32_t budget, uint32_t idle_ms)
{
	if (strcmp(mode, "lazy"))
		output_field(use_color, "Fold", NULL, "%s", mode);
	else if (!idle_ms)
		output_field(use_color, "Fold", NULL, "lazy, no idle compaction (pool pressure only)");
	else
		output_field(use_color, "Fold", NULL, "lazy, compacted %" PRIu32 " table%s a call after "
			     "%" PRIu32 " ms idle", budget, budget == 1 ? "" : "s", idle_ms);
}

void output_field(bool use_color, const char *label, const char *color, const char *fmt, ...)
{
	va_list ap;

	/* An empty label continues the field above. */
	printf("%*s%s", FIELD_LABEL_WIDTH, label, *label ? ": " : "  ");
	if (use_color && color)
		fputs(color, stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (use_color && color)
		fputs(ANSI_NORMAL, stdout);
	putchar('\n');
}

const char *output_owner(uint32_t owner, char buf[OUTPUT_OWNER_MAX])
{
	if (owner == PKVM_OWNER_HOST)
		return "host";
	if (owner == PKVM_OWNER_HYP)
		return "hypervisor";
	snprintf(buf, OUTPUT_OWNER_MAX, "guest %" PRIu32, owner);
	return buf;
}

/* Set when a builder could not allocate: json_print() then refuses. */
static bool json_oom;

void json_add(json_object *o, const char *key, json_object *v)
{
	if (!o || !v || json_object_object_add(o, key, v) < 0) {
		json_oom = true;
		json_object_put(v);
	}
}

void json_append(json_object *a, json_object *v)
{
	if (!a || !v || json_object_array_add(a, v) < 0) {
		json_oom = true;
		json_object_put(v);
	}
}

void json_add_str(json_object *o, const char *key, const char *v)
{
	json_add(o, key, v ? json_object_new_string(v) : NULL);
}

void json_add_u64(json_object *o, const char *key, uint64_t v)
{
	json_add(o, key, json_object_new_uint64(v));
}

void json_add_bool(json_object *o, const char *key, bool v)
{
	json_add(o, key, json_object_new_boolean(v));
}

int json_print(json_object *o, int flags)
{
	const char *s;
	int r = 0;

	if (!o || json_oom) {
		json_object_put(o);
		return -ENOMEM;
	}
	s = json_object_to_json_string_ext(o, flags | JSON_C_TO_STRING_NOSLASHESCAPE);
	if (!s)
		r = -ENOMEM;
	else if (puts(s) < 0 || fflush(stdout))
		r = errno ? -errno : -EIO;
	json_object_put(o);
	return r;
}

int output_done(int r)
{
	if (fflush(stdout) && r >= 0)
		r = errno ? -errno : -EIO;
	if (r >= 0 && ferror(stdout))
		r = -EIO;
	if (r >= 0)
		return CTL_EXIT_OK;
	fprintf(stderr, CTL_NAME ": writing the output: %s\n", strerror(-r));
	return CTL_EXIT_FAILURE;
}
