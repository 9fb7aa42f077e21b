// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl streams: one row per stream object the daemon has
 * (org.pkvm.Iommu1.Stream): its policy, where the policy came from, its
 * faults and whether it is quarantined.
 */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "query.h"
#include "table.h"

static int print_json(const struct ctl *c, const struct q_objects *o)
{
	json_object *a = json_object_new_array();

	for (size_t i = 0; i < o->nr_streams; i++) {
		const struct q_stream *s = &o->streams[i];
		json_object *x = json_object_new_object();

		json_add_u64(x, "smmu", s->smmu);
		json_add_u64(x, "sid", s->sid);
		json_add_str(x, "policy", s->policy ? s->policy : "");
		json_add_str(x, "source", s->source ? s->source : "");
		json_add_u64(x, "faults", s->faults);
		json_add_bool(x, "quarantined", s->quarantined);
		json_append(a, x);
	}
	return json_print(a, c->json_flags);
}

static int print_text(const struct ctl *c, const struct q_objects *o, const char *default_action)
{
	static const char *const hdr[] = { "SMMU", "SID", "POLICY", "SOURCE", "FAULTS",
					   "QUARANTINED", NULL };
	_cleanup_table_ struct table *t = table_new(hdr);
	size_t quarantined = 0;
	int r = t ? 0 : -ENOMEM;

	if (t) {
		table_align_right(t, 0);
		table_align_right(t, 1);
		table_align_right(t, 4);
	}
	for (size_t i = 0; r >= 0 && i < o->nr_streams; i++) {
		const struct q_stream *s = &o->streams[i];
		const char *pol = s->policy ? s->policy : "";

		quarantined += s->quarantined;
		if ((r = table_addf(t, NULL, "%" PRIu32, s->smmu)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32, s->sid)) < 0 ||
		    (r = table_add(t, strcmp(pol, "block") ? NULL : ANSI_YELLOW, pol)) < 0 ||
		    (r = table_add(t, NULL, s->source)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu64, s->faults)) < 0 ||
		    (r = table_add(t, s->quarantined ? ANSI_RED : NULL,
				   s->quarantined ? "yes" : "no")) < 0)
			break;
	}
	if (r >= 0)
		r = table_print(t, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%zu stream%s, %zu quarantined; other streams: %s (the default action).\n",
		       o->nr_streams, o->nr_streams == 1 ? "" : "s", quarantined,
		       default_action ? default_action : "?");
	return r;
}

int verb_streams(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_q_objects_ struct q_objects o = { 0 };
	_cleanup_free_ char *def = NULL;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = q_objects_load(bus, &o, &error);
	if (r < 0)
		return ctl_bus_fail(c, "reading the stream objects", r, &error);
	if (c->json)
		return output_done(print_json(c, &o));
	if (c->legend) {
		r = sd_bus_get_property_string(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					       DAEMON_IFACE_MANAGER, "DefaultStreamAction",
					       &error, &def);
		if (r < 0)
			return ctl_bus_fail(c, "reading DefaultStreamAction", r, &error);
	}
	return output_done(print_text(c, &o, def));
}
