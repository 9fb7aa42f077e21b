// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl status: the daemon at a glance, from three calls (the
 * Manager's properties, the objects, the counters) so it stays fast.
 * Health is "degraded" when something needs a person: a quarantined
 * stream, or an SMMU whose event queue overflowed (faults were lost).
 */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "query.h"

#define PROBLEMS_MAX 8
#define PROBLEM_LEN 160

struct health {
	char problem[PROBLEMS_MAX][PROBLEM_LEN];
	size_t n;
	size_t quarantined;
};

static void judge(const struct q_objects *o, struct health *h)
{
	for (size_t i = 0; i < o->nr_streams; i++)
		h->quarantined += o->streams[i].quarantined;
	if (h->quarantined)
		snprintf(h->problem[h->n++], PROBLEM_LEN,
			 "%zu stream%s quarantined for faulting (see '" CTL_NAME " streams')",
			 h->quarantined, h->quarantined == 1 ? "" : "s");
	for (size_t i = 0; i < o->nr_smmus && h->n < PROBLEMS_MAX; i++)
		if (o->smmus[i].overflows)
			snprintf(h->problem[h->n++], PROBLEM_LEN,
				 "SMMU %" PRIu32 ": event queue overflowed %" PRIu64
				 " times (fault records lost)", o->smmus[i].index,
				 o->smmus[i].overflows);
}

static int print_json(const struct ctl *c, const struct q_manager *m, const struct q_objects *o,
		      const struct q_counters *k, const struct health *h)
{
	json_object *j = json_object_new_object(), *a, *x;

	json_add_str(j, "backend", m->backend);
	json_add_u64(j, "abi_version", m->abi_version);
	json_add_str(j, "version", m->version);
	json_add_bool(j, "test_mode", m->test_mode);
	json_add_u64(j, "smmu_count", m->smmu_count);
	json_add_str(j, "split_policy", m->split_policy);
	json_add_u64(j, "presplit_level", m->presplit_level);
	json_add_u64(j, "batch_max_ops", m->batch_max_ops);
	json_add_u64(j, "batch_window_us", m->batch_window_us);
	if (m->fold_mode) {
		json_add_str(j, "fold_mode", m->fold_mode);
		json_add_u64(j, "compact_budget", m->compact_budget);
		json_add_u64(j, "compact_idle_ms", m->compact_idle_ms);
	}
	json_add_str(j, "default_stream_action", m->default_action);
	json_add_u64(j, "generation", m->generation);
	json_add_u64(j, "donated_pages", m->donated_pages);
	json_add_u64(j, "shared_pages", m->shared_pages);
	a = json_object_new_array();
	for (size_t i = 0; i < m->nr_totals; i++) {
		x = json_object_new_object();
		json_add_u64(x, "owner", m->totals[i].owner);
		json_add_u64(x, "pages", m->totals[i].pages);
		json_append(a, x);
	}
	json_add(j, "ledger_totals", a);
	x = json_object_new_object();
	json_add_u64(x, "known", o->nr_streams);
	json_add_u64(x, "quarantined", h->quarantined);
	json_add(j, "streams", x);
	json_add_u64(j, "events_ingested", q_counter(k, "events_ingested"));
	json_add_u64(j, "faults", q_counter(k, "faults"));
	json_add_u64(j, "resyncs", q_counter(k, "resyncs"));
	json_add_u64(j, "lost_pages", q_counter(k, "lost_pages"));
	x = json_object_new_object();
	json_add_str(x, "status", m->iommufd_status);
	a = json_object_new_array();
	for (size_t i = 0; i < m->nr_iommufd_devs; i++) {
		const struct q_iommufd_dev *d = &m->iommufd_devs[i];
		json_object *dev = json_object_new_object(), *idr = json_object_new_array();

		json_add_str(dev, "device", d->name);
		for (size_t n = 0; n < QUERY_IDRS; n++)
			json_append(idr, json_object_new_uint64(d->idr[n]));
		json_add(dev, "idr", idr);
		json_add_u64(dev, "bbml", d->bbml);
		json_add_bool(dev, "ril", d->ril);
		json_add_bool(dev, "stage2", d->stage2);
		json_append(a, dev);
	}
	json_add(x, "devices", a);
	json_add(j, "iommufd", x);
	json_add_str(j, "policy_path", m->policy_path);
	json_add_str(j, "state_directory", m->state_dir);
	json_add_str(j, "health", h->n ? "degraded" : "ok");
	a = json_object_new_array();
	for (size_t i = 0; i < h->n; i++)
		json_append(a, json_object_new_string(h->problem[i]));
	json_add(j, "problems", a);
	return json_print(j, c->json_flags);
}

static void print_text(const struct ctl *c, const struct q_manager *m, const struct q_objects *o,
		       const struct q_counters *k, const struct health *h)
{
	char sz[OUTPUT_SIZE_MAX], own[OUTPUT_OWNER_MAX];
	bool col = c->color;

	output_field(col, "Backend", ANSI_BOLD, "%s", m->backend ? m->backend : "?");
	output_field(col, "Version", NULL, "pkvm-iommud %s, ABI %" PRIu32 "%s",
		     m->version ? m->version : "?", m->abi_version,
		     m->test_mode ? ", test mode" : "");
	output_field(col, "SMMUs", NULL, "%" PRIu32, m->smmu_count);
	output_field(col, "Streams", NULL, "%zu known, %s%zu quarantined%s", o->nr_streams,
		     col && h->quarantined ? ANSI_RED : "", h->quarantined,
		     col && h->quarantined ? ANSI_NORMAL : "");
	if (m->split_policy && !strcmp(m->split_policy, "presplit"))
		output_field(col, "Split policy", NULL, "presplit (level %" PRIu32 ")",
			     m->presplit_level);
	else
		output_field(col, "Split policy", NULL, "%s", m->split_policy ? m->split_policy : "?");
	if (m->batch_max_ops > 1)
		output_field(col, "Invalidation", NULL, "up to %" PRIu32 " changes per sync, "
			     "window %" PRIu32 " us", m->batch_max_ops, m->batch_window_us);
	else
		output_field(col, "Invalidation", NULL, "one sync per change");
	if (m->fold_mode)
		output_fold(col, m->fold_mode, m->compact_budget, m->compact_idle_ms);
	output_field(col, "Default action", NULL, "%s", m->default_action ? m->default_action : "?");
	output_field(col, "Generation", NULL, "%" PRIu64, m->generation);
	output_field(col, "Donated", NULL, "%" PRIu64 " pages (%s)", m->donated_pages,
		     output_size(m->donated_pages * BUS_PAGE_SIZE, sz));
	output_field(col, "Shared", NULL, "%" PRIu64 " pages (%s)", m->shared_pages,
		     output_size(m->shared_pages * BUS_PAGE_SIZE, sz));
	for (size_t i = 0; i < m->nr_totals; i++)
		output_field(col, i ? "" : "Owners", NULL, "%-14s %" PRIu64 " pages (%s)",
			     output_owner(m->totals[i].owner, own), m->totals[i].pages,
			     output_size(m->totals[i].pages * BUS_PAGE_SIZE, sz));
	output_field(col, "Events", NULL, "%" PRIu64 " ingested, %" PRIu64 " faults",
		     q_counter(k, "events_ingested"), q_counter(k, "faults"));
	output_field(col, "Resyncs", NULL, "%" PRIu64 " (%" PRIu64 " pages repaired)",
		     q_counter(k, "resyncs"), q_counter(k, "lost_pages"));
	output_field(col, "iommufd", NULL, "%s", m->iommufd_status ? m->iommufd_status : "?");
	output_field(col, "Policy", NULL, "%s", m->policy_path ? m->policy_path : "?");
	output_field(col, "State", NULL, "%s", m->state_dir ? m->state_dir : "?");
	if (!h->n)
		output_field(col, "Health", ANSI_GREEN, "ok");
	for (size_t i = 0; i < h->n; i++)
		output_field(col, i ? "" : "Health", ANSI_RED, "%s%s", i ? "" : "degraded: ",
			     h->problem[i]);
}

int verb_status(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_q_manager_ struct q_manager m = { 0 };
	_cleanup_q_objects_ struct q_objects o = { 0 };
	_cleanup_q_counters_ struct q_counters k = { 0 };
	struct health h = { 0 };
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = q_manager_load(bus, &m, &error);
	if (r >= 0)
		r = q_objects_load(bus, &o, &error);
	if (r >= 0)
		r = q_counters_load(bus, &k, &error);
	if (r < 0)
		return ctl_bus_fail(c, "reading the daemon's state", r, &error);
	judge(&o, &h);
	if (c->json)
		return output_done(print_json(c, &m, &o, &k, &h));
	print_text(c, &m, &o, &k, &h);
	return output_done(0);
}
