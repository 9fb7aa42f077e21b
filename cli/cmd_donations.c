// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl donations [--owner ID] [--history]: the donation ledger
 * (GetLedger) or its recent changes (GetHistory), optionally one owner's.
 * History times are the daemon's CLOCK_MONOTONIC; the daemon is on this
 * machine (D-Bus is local), so they convert to wall-clock time here.
 */
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "ctl.h"
#include "names.h"
#include "output.h"
#include "table.h"

static uint64_t clock_usec(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Wall-clock microseconds of a daemon monotonic timestamp. */
static uint64_t to_realtime(uint64_t mono)
{
	uint64_t now_mono = clock_usec(CLOCK_MONOTONIC), now_real = clock_usec(CLOCK_REALTIME);

	return mono > now_mono ? now_real : now_real - (now_mono - mono);
}

/* "2026-11-24 12:34:56.789" in local time. */
static const char *format_time(uint64_t realtime_usec, char buf[32])
{
	time_t t = (time_t)(realtime_usec / 1000000u);
	struct tm tm;
	size_t n;

	if (!localtime_r(&t, &tm) || !(n = strftime(buf, 32, "%Y-%m-%d %H:%M:%S", &tm)))
		return "?";
	snprintf(buf + n, 32 - n, ".%03u", (unsigned int)(realtime_usec / 1000u % 1000u));
	return buf;
}

static bool wanted(const struct ctl *c, uint32_t owner)
{
	return !c->have_owner || owner == c->owner;
}

static int ledger(struct ctl *c, sd_bus *bus)
{
	static const char *const hdr[] = { "ADDRESS", "LENGTH", "SIZE", "OWNER", "SHARED", NULL };
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_table_ struct table *t = NULL;
	json_object *a = NULL;
	uint64_t addr, len, owned = 0, shared = 0, runs = 0;
	uint32_t owner;
	int sh, r;

	r = ctl_call(bus, "GetLedger", &error, &reply, NULL);
	if (r < 0)
		return ctl_bus_fail(c, "GetLedger", r, &error);
	if (c->json)
		a = json_object_new_array();
	else if (!(t = table_new(hdr)))
		return output_done(-ENOMEM);
	r = sd_bus_message_enter_container(reply, 'a', "(ttub)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ttub)", &addr, &len, &owner, &sh)) > 0) {
		char sz[OUTPUT_SIZE_MAX], own[OUTPUT_OWNER_MAX];

		if (!wanted(c, owner))
			continue;
		runs++;
		if (sh)
			shared += len / BUS_PAGE_SIZE;
		else
			owned += len / BUS_PAGE_SIZE;
		if (a) {
			json_object *x = json_object_new_object();

			json_add_u64(x, "addr", addr);
			json_add_u64(x, "len", len);
			json_add_u64(x, "owner", owner);
			json_add_bool(x, "shared", sh);
			json_append(a, x);
			continue;
		}
		if ((r = table_addf(t, NULL, "0x%" PRIx64, addr)) < 0 ||
		    (r = table_addf(t, NULL, "0x%" PRIx64, len)) < 0 ||
		    (r = table_add(t, NULL, output_size(len, sz))) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32 " (%s)", owner, output_owner(owner, own))) < 0 ||
		    (r = table_add(t, NULL, sh ? "yes" : "no")) < 0)
			break;
	}
	if (r < 0) {
		json_object_put(a);
		return ctl_bus_fail(c, "reading GetLedger's reply", r, NULL);
	}
	if (a)
		return output_done(json_print(a, c->json_flags));
	table_align_right(t, 1);
	table_align_right(t, 2);
	r = table_print(t, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%" PRIu64 " run%s: %" PRIu64 " pages donated, %" PRIu64
		       " pages shared.\n", runs, runs == 1 ? "" : "s", owned, shared);
	return output_done(r);
}

static int history(struct ctl *c, sd_bus *bus)
{
	static const char *const hdr[] = { "TIME", "GENERATION", "OPERATION", "ADDRESS", "LENGTH",
					   "OWNER", NULL };
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_table_ struct table *t = NULL;
	json_object *a = NULL;
	uint64_t usec, gen, addr, len, n = 0;
	const char *op;
	uint32_t owner;
	int r;

	r = ctl_call(bus, "GetHistory", &error, &reply, NULL);
	if (r < 0)
		return ctl_bus_fail(c, "GetHistory", r, &error);
	if (c->json)
		a = json_object_new_array();
	else if (!(t = table_new(hdr)))
		return output_done(-ENOMEM);
	r = sd_bus_message_enter_container(reply, 'a', "(ttsttu)");
	while (r >= 0 &&
	       (r = sd_bus_message_read(reply, "(ttsttu)", &usec, &gen, &op, &addr, &len, &owner)) > 0) {
		char tbuf[32], own[OUTPUT_OWNER_MAX];

		/* A resync replaced everything: it concerns every owner. */
		if (!wanted(c, owner) && strcmp(op, OP_NAME_RESYNC))
			continue;
		n++;
		if (a) {
			json_object *x = json_object_new_object();

			json_add_u64(x, "monotonic_usec", usec);
			json_add_u64(x, "realtime_usec", to_realtime(usec));
			json_add_u64(x, "generation", gen);
			json_add_str(x, "op", op);
			json_add_u64(x, "addr", addr);
			json_add_u64(x, "len", len);
			json_add_u64(x, "owner", owner);
			json_append(a, x);
			continue;
		}
		if ((r = table_add(t, NULL, format_time(to_realtime(usec), tbuf))) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu64, gen)) < 0 ||
		    (r = table_add(t, strcmp(op, OP_NAME_RESYNC) ? NULL : ANSI_YELLOW, op)) < 0 ||
		    (r = table_addf(t, NULL, "0x%" PRIx64, addr)) < 0 ||
		    (r = table_addf(t, NULL, "0x%" PRIx64, len)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32 " (%s)", owner, output_owner(owner, own))) < 0)
			break;
	}
	if (r < 0) {
		json_object_put(a);
		return ctl_bus_fail(c, "reading GetHistory's reply", r, NULL);
	}
	if (a)
		return output_done(json_print(a, c->json_flags));
	table_align_right(t, 1);
	table_align_right(t, 4);
	r = table_print(t, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%" PRIu64 " change%s, oldest first.\n", n, n == 1 ? "" : "s");
	return output_done(r);
}

int verb_donations(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_ sd_bus *bus = NULL;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	return c->history ? history(c, bus) : ledger(c, bus);
}
