// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl smmus: one row per SMMU object (org.pkvm.Iommu1.Smmu).
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

	for (size_t i = 0; i < o->nr_smmus; i++) {
		const struct q_smmu *s = &o->smmus[i];
		json_object *x = json_object_new_object(), *idr = json_object_new_array(),
			    *feat = json_object_new_array();

		json_add_u64(x, "index", s->index);
		json_add_u64(x, "base", s->base);
		for (size_t n = 0; n < QUERY_IDRS; n++)
			json_append(idr, json_object_new_uint64(s->idr[n]));
		json_add(x, "idr", idr);
		for (size_t n = 0; n < s->nr_features; n++)
			json_append(feat, json_object_new_string(s->features[n]));
		json_add(x, "features", feat);
		json_add_u64(x, "sid_bits", s->sid_bits);
		json_add_u64(x, "oas_bits", s->oas_bits);
		json_add_u64(x, "bbml", s->bbml);
		json_add_u64(x, "events", s->events);
		json_add_u64(x, "overflows", s->overflows);
		json_append(a, x);
	}
	return json_print(a, c->json_flags);
}

static int print_text(const struct ctl *c, const struct q_objects *o)
{
	static const char *const hdr[] = { "SMMU", "BASE", "SID BITS", "OAS", "BBML", "EVENTS",
					   "OVERFLOWS", "FEATURES", NULL };
	_cleanup_table_ struct table *t = table_new(hdr);
	int r = t ? 0 : -ENOMEM;

	for (unsigned int col = 2; t && col <= 6; col++)
		table_align_right(t, col);
	table_align_right(t, 0);
	for (size_t i = 0; r >= 0 && i < o->nr_smmus; i++) {
		const struct q_smmu *s = &o->smmus[i];
		char feat[256] = "";

		for (size_t n = 0; n < s->nr_features; n++) {
			if (n)
				strncat(feat, " ", sizeof(feat) - strlen(feat) - 1);
			strncat(feat, s->features[n], sizeof(feat) - strlen(feat) - 1);
		}
		if ((r = table_addf(t, NULL, "%" PRIu32, s->index)) < 0 ||
		    (r = table_addf(t, NULL, "0x%" PRIx64, s->base)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32, s->sid_bits)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32, s->oas_bits)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu32, s->bbml)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu64, s->events)) < 0 ||
		    (r = table_addf(t, s->overflows ? ANSI_RED : NULL, "%" PRIu64, s->overflows)) < 0 ||
		    (r = table_add(t, NULL, feat)) < 0)
			break;
	}
	if (r >= 0)
		r = table_print(t, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%zu SMMU%s.\n", o->nr_smmus, o->nr_smmus == 1 ? "" : "s");
	return r;
}

int verb_smmus(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_q_objects_ struct q_objects o = { 0 };
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = q_objects_load(bus, &o, &error);
	if (r < 0)
		return ctl_bus_fail(c, "reading the SMMU objects", r, &error);
	return output_done(c->json ? print_json(c, &o) : print_text(c, &o));
}
