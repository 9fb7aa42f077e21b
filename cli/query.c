// SPDX-License-Identifier: GPL-2.0
/*
 * Reading pkvm-iommud's state over D-Bus into the structs of query.h.
 * Property names and types are those of org.pkvm.Iommu1(5); a property
 * this client does not know is skipped, one with another type is -EBADMSG.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "query.h"

static int read_idr(sd_bus_message *m, uint32_t idr[QUERY_IDRS])
{
	const void *p;
	size_t sz;
	int r = sd_bus_message_read_array(m, 'u', &p, &sz);

	if (r < 0)
		return r;
	memset(idr, 0, QUERY_IDRS * sizeof(*idr));
	memcpy(idr, p, sz < QUERY_IDRS * sizeof(*idr) ? sz : QUERY_IDRS * sizeof(*idr));
	return 1;
}

/* ---- Manager ---- */

struct manager_ctx {
	struct q_manager *m;
	size_t cap_totals, cap_devs;
};

static int read_totals(sd_bus_message *msg, struct manager_ctx *x)
{
	struct q_manager *m = x->m;
	uint32_t owner;
	uint64_t pages;
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "(ut)");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(msg, "(ut)", &owner, &pages)) > 0) {
		if (GROW_ARRAY(m->totals, x->cap_totals, m->nr_totals + 1, 8) < 0)
			return -ENOMEM;
		m->totals[m->nr_totals++] = (struct q_owner_total){ owner, pages };
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(msg);
	return r < 0 ? r : 1;
}

static int read_iommufd_devs(sd_bus_message *msg, struct manager_ctx *x)
{
	struct q_manager *m = x->m;
	int r, ril, s2;

	r = sd_bus_message_enter_container(msg, 'a', "(sauubb)");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'r', "sauubb")) > 0) {
		struct q_iommufd_dev *d;

		if (GROW_ARRAY(m->iommufd_devs, x->cap_devs, m->nr_iommufd_devs + 1, 8) < 0)
			return -ENOMEM;
		d = &m->iommufd_devs[m->nr_iommufd_devs++];
		*d = (struct q_iommufd_dev){ 0 };
		if ((r = sd_bus_message_read(msg, "s", &d->name)) < 0 ||
		    (r = read_idr(msg, d->idr)) < 0 ||
		    (r = sd_bus_message_read(msg, "ubb", &d->bbml, &ril, &s2)) < 0 ||
		    (r = sd_bus_message_exit_container(msg)) < 0)
			return r;
		d->ril = ril;
		d->stage2 = s2;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(msg);
	return r < 0 ? r : 1;
}

static int manager_prop(sd_bus_message *msg, const char *name, const char *sig, void *arg)
{
	struct manager_ctx *x = arg;
	struct q_manager *m = x->m;
	const struct ctl_prop map[] = {
		{ "Backend", 's', &m->backend },
		{ "AbiVersion", 'u', &m->abi_version },
		{ "Version", 's', &m->version },
		{ "SmmuCount", 'u', &m->smmu_count },
		{ "Generation", 't', &m->generation },
		{ "SplitPolicy", 's', &m->split_policy },
		{ "PresplitLevel", 'u', &m->presplit_level },
		{ "InvalidationBatchMaxOps", 'u', &m->batch_max_ops },
		{ "InvalidationBatchWindowUsec", 'u', &m->batch_window_us },
		{ "FoldMode", 's', &m->fold_mode },
		{ "CompactBudget", 'u', &m->compact_budget },
		{ "CompactIdleMsec", 'u', &m->compact_idle_ms },
		{ "DefaultStreamAction", 's', &m->default_action },
		{ "DonatedPages", 't', &m->donated_pages },
		{ "SharedPages", 't', &m->shared_pages },
		{ "IommufdStatus", 's', &m->iommufd_status },
		{ "PolicyPath", 's', &m->policy_path },
		{ "StateDirectory", 's', &m->state_dir },
		{ "TestMode", 'b', &m->test_mode },
		{ 0 },
	};

	if (!strcmp(name, "LedgerTotals"))
		return strcmp(sig, "a(ut)") ? -EBADMSG : read_totals(msg, x);
	if (!strcmp(name, "IommufdDevices"))
		return strcmp(sig, "a(sauubb)") ? -EBADMSG : read_iommufd_devs(msg, x);
	return ctl_read_prop(msg, name, sig, map);
}

int q_manager_load(sd_bus *bus, struct q_manager *m, sd_bus_error *error)
{
	struct manager_ctx x = { .m = m };
	int r;

	memset(m, 0, sizeof(*m));
	r = ctl_get_all(bus, DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER, error, &m->reply);
	if (r < 0)
		return r;
	return ctl_read_props(m->reply, manager_prop, &x);
}

void q_manager_free(struct q_manager *m)
{
	free(m->totals);
	free(m->iommufd_devs);
	sd_bus_message_unref(m->reply);
	memset(m, 0, sizeof(*m));
}

/* ---- SMMU and stream objects ---- */

static int smmu_prop(sd_bus_message *msg, const char *name, const char *sig, void *arg)
{
	struct q_smmu *s = arg;
	const struct ctl_prop map[] = {
		{ "Index", 'u', &s->index },
		{ "Base", 't', &s->base },
		{ "SidSize", 'u', &s->sid_bits },
		{ "Oas", 'u', &s->oas_bits },
		{ "Bbml", 'u', &s->bbml },
		{ "Events", 't', &s->events },
		{ "Overflows", 't', &s->overflows },
		{ 0 },
	};
	const char *f;
	int r;

	if (!strcmp(name, "Idr"))
		return strcmp(sig, "au") ? -EBADMSG : read_idr(msg, s->idr);
	if (strcmp(name, "Features"))
		return ctl_read_prop(msg, name, sig, map);
	if (strcmp(sig, "as"))
		return -EBADMSG;
	r = sd_bus_message_enter_container(msg, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(msg, "s", &f)) > 0)
		if (s->nr_features < QUERY_FEATURES_MAX)
			s->features[s->nr_features++] = f;
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(msg);
	return r < 0 ? r : 1;
}

static int stream_prop(sd_bus_message *msg, const char *name, const char *sig, void *arg)
{
	struct q_stream *s = arg;
	const struct ctl_prop map[] = {
		{ "Smmu", 'u', &s->smmu },
		{ "Sid", 'u', &s->sid },
		{ "Policy", 's', &s->policy },
		{ "Source", 's', &s->source },
		{ "Faults", 't', &s->faults },
		{ "Quarantined", 'b', &s->quarantined },
		{ 0 },
	};

	return ctl_read_prop(msg, name, sig, map);
}

static int cmp_smmu(const void *a, const void *b)
{
	const struct q_smmu *x = a, *y = b;

	return (x->index > y->index) - (x->index < y->index);
}

static int cmp_stream(const void *a, const void *b)
{
	const struct q_stream *x = a, *y = b;
	uint64_t kx = (uint64_t)x->smmu << 32 | x->sid, ky = (uint64_t)y->smmu << 32 | y->sid;

	return (kx > ky) - (kx < ky);
}

static int read_interfaces(sd_bus_message *msg, struct q_objects *o, size_t *cap_smmus,
			   size_t *cap_streams)
{
	const char *iface;
	int r;

	r = sd_bus_message_enter_container(msg, 'a', "{sa{sv}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(msg, 'e', "sa{sv}")) > 0) {
		r = sd_bus_message_read(msg, "s", &iface);
		if (r < 0)
			return r;
		if (!strcmp(iface, DAEMON_IFACE_SMMU)) {
			/* Properties the daemon did not send stay 0. */
			if (GROW_ARRAY(o->smmus, *cap_smmus, o->nr_smmus + 1, 8) < 0)
				return -ENOMEM;
			o->smmus[o->nr_smmus] = (struct q_smmu){ 0 };
			r = ctl_read_props(msg, smmu_prop, &o->smmus[o->nr_smmus++]);
		} else if (!strcmp(iface, DAEMON_IFACE_STREAM)) {
			if (GROW_ARRAY(o->streams, *cap_streams, o->nr_streams + 1, 8) < 0)
				return -ENOMEM;
			o->streams[o->nr_streams] = (struct q_stream){ 0 };
			r = ctl_read_props(msg, stream_prop, &o->streams[o->nr_streams++]);
		} else {
			r = sd_bus_message_skip(msg, "a{sv}");
		}
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(msg);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(msg);
}

int q_objects_load(sd_bus *bus, struct q_objects *o, sd_bus_error *error)
{
	size_t cap_smmus = 0, cap_streams = 0;
	const char *path;
	int r;

	memset(o, 0, sizeof(*o));
	r = ctl_get_objects(bus, error, &o->reply);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(o->reply, 'a', "{oa{sa{sv}}}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(o->reply, 'e', "oa{sa{sv}}")) > 0) {
		r = sd_bus_message_read(o->reply, "o", &path);
		if (r < 0)
			return r;
		r = read_interfaces(o->reply, o, &cap_smmus, &cap_streams);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(o->reply);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	r = sd_bus_message_exit_container(o->reply);
	if (r < 0)
		return r;
	/* The object manager's order is a hash's: sort for people and diffs. */
	if (o->nr_smmus)
		qsort(o->smmus, o->nr_smmus, sizeof(*o->smmus), cmp_smmu);
	if (o->nr_streams)
		qsort(o->streams, o->nr_streams, sizeof(*o->streams), cmp_stream);
	return 0;
}

void q_objects_free(struct q_objects *o)
{
	free(o->smmus);
	free(o->streams);
	sd_bus_message_unref(o->reply);
	memset(o, 0, sizeof(*o));
}

/* ---- counters ---- */

int q_counters_load(sd_bus *bus, struct q_counters *c, sd_bus_error *error)
{
	size_t cap = 0;
	const char *name;
	uint64_t v;
	int r;

	memset(c, 0, sizeof(*c));
	r = ctl_call(bus, "GetCounters", error, &c->reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(c->reply, 'a', "{st}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(c->reply, "{st}", &name, &v)) > 0) {
		if (GROW_ARRAY(c->v, cap, c->n + 1, 8) < 0)
			return -ENOMEM;
		c->v[c->n++] = (struct q_counter){ name, v };
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(c->reply);
}

void q_counters_free(struct q_counters *c)
{
	free(c->v);
	sd_bus_message_unref(c->reply);
	memset(c, 0, sizeof(*c));
}

uint64_t q_counter(const struct q_counters *c, const char *name)
{
	for (size_t i = 0; i < c->n; i++)
		if (!strcmp(c->v[i].name, name))
			return c->v[i].value;
	return 0;
}
