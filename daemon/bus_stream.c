// SPDX-License-Identifier: GPL-2.0
/*
 * One object per stream the daemon knows (d->streams: named by the policy,
 * set over D-Bus, seen faulting or changed by the backend):
 * /org/pkvm/Iommu1/smmu<N>/stream<SID>, interface org.pkvm.Iommu1.Stream.
 * Served by a fallback vtable and a node enumerator; a stream that appears
 * is announced with ObjectManager's InterfacesAdded, a known one that
 * changes with PropertiesChanged.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

#define STREAM_PART "/stream"

int bus_stream_path(uint32_t smmu, uint32_t sid, char **ret)
{
	return asprintf(ret, BUS_SMMU_PREFIX "%" PRIu32 STREAM_PART "%" PRIu32, smmu, sid) < 0 ?
		-ENOMEM : 0;
}

static int parse_stream_path(const char *path, uint32_t *smmu, uint32_t *sid)
{
	const char *p = path, *end;

	if (strncmp(p, BUS_SMMU_PREFIX, strlen(BUS_SMMU_PREFIX)))
		return -EINVAL;
	p += strlen(BUS_SMMU_PREFIX);
	if (bus_parse_u32(p, smmu, &end))
		return -EINVAL;
	p = end;
	if (strncmp(p, STREAM_PART, strlen(STREAM_PART)))
		return -EINVAL;
	p += strlen(STREAM_PART);
	if (bus_parse_u32(p, sid, &end) || *end)
		return -EINVAL;
	return 0;
}

static const char *source_name(enum stream_source s)
{
	switch (s) {
	case STREAM_SRC_DEFAULT: return "default";
	case STREAM_SRC_POLICY: return "policy";
	case STREAM_SRC_RUNTIME: return "runtime";
	case STREAM_SRC_QUARANTINE: return "quarantine";
	}
	return "unknown";
}

/*
 * userdata is the daemon, not the stream: d->streams may move between the
 * find and the getter only if the core runs in between, which it does not,
 * but looking it up again costs little and keeps this obviously right.
 */
static const struct stream_state *stream_of(struct daemon *d, const char *path)
{
	uint32_t smmu, sid;

	if (parse_stream_path(path, &smmu, &sid))
		return NULL;
	return daemon_stream(d, smmu, sid, false);
}

static int prop_stream(sd_bus *bus, const char *path, const char *iface, const char *prop,
		       sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	const struct stream_state *s = stream_of(userdata, path);
	const char *name;

	if (!s)
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "%s: no such stream", path);
	if (!strcmp(prop, "Smmu"))
		return sd_bus_message_append(reply, "u", s->smmu);
	if (!strcmp(prop, "Sid"))
		return sd_bus_message_append(reply, "u", s->sid);
	if (!strcmp(prop, "Policy")) {
		name = policy_action_name(s->policy);
		return sd_bus_message_append(reply, "s", name ? name : "unknown");
	}
	if (!strcmp(prop, "Source"))
		return sd_bus_message_append(reply, "s", source_name(s->source));
	if (!strcmp(prop, "Faults"))
		return sd_bus_message_append(reply, "t", s->faults);
	if (!strcmp(prop, "Quarantined"))
		return sd_bus_message_append(reply, "b", (int)s->quarantined);
	return -ENOENT;
}

static const sd_bus_vtable stream_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Smmu", "u", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Sid", "u", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Policy", "s", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Source", "s", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Faults", "t", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_PROPERTY("Quarantined", "b", prop_stream, 0, SD_BUS_VTABLE_PROPERTY_EMITS_CHANGE),
	SD_BUS_VTABLE_END,
};

static int stream_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		       void **found, sd_bus_error *error)
{
	if (!stream_of(userdata, path))
		return 0;
	*found = userdata;
	return 1;
}

static int stream_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
			    sd_bus_error *error)
{
	struct daemon *d = userdata;
	char **l = calloc(d->nr_streams + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (size_t i = 0; i < d->nr_streams; i++) {
		if (bus_stream_path(d->streams[i].smmu, d->streams[i].sid, &l[i]) < 0) {
			while (i--)
				free(l[i]);
			free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 0;
}

static uint64_t stream_key(uint32_t smmu, uint32_t sid)
{
	return (uint64_t)smmu << 32 | sid;
}

static bool known(struct bus_state *st, uint64_t key)
{
	for (size_t i = 0; i < st->nr_known; i++)
		if (st->known[i] == key)
			return true;
	return false;
}

static int remember(struct bus_state *st, uint64_t key)
{
	if (GROW_ARRAY(st->known, st->cap_known, st->nr_known + 1, 16) < 0)
		return -ENOMEM;
	st->known[st->nr_known++] = key;
	return 0;
}

int bus_stream_add(struct daemon *d)
{
	struct bus_state *st = d->bus_state;
	int r;

	/* Streams from before the bus was up are there from the start. */
	for (size_t i = 0; i < d->nr_streams; i++) {
		r = remember(st, stream_key(d->streams[i].smmu, d->streams[i].sid));
		if (r < 0)
			return r;
	}
	r = sd_bus_add_fallback_vtable(d->bus, &st->stream_slot, DAEMON_OBJECT_PATH,
				       DAEMON_IFACE_STREAM, stream_vtable, stream_find, d);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(d->bus, &st->stream_enum_slot, DAEMON_OBJECT_PATH,
					  stream_enumerate, d);
}

void bus_emit_stream_changed(struct daemon *d, const struct stream_state *s)
{
	_cleanup_free_ char *path = NULL;
	struct bus_state *st = bus_state(d);
	uint64_t key;

	if (!bus_ready(d) || !s || bus_stream_path(s->smmu, s->sid, &path) < 0)
		return;
	key = stream_key(s->smmu, s->sid);
	if (!known(st, key)) {
		if (remember(st, key) < 0)
			return;
		sd_bus_emit_interfaces_added(d->bus, path, DAEMON_IFACE_STREAM, NULL);
		return;
	}
	sd_bus_emit_properties_changed(d->bus, path, DAEMON_IFACE_STREAM, "Policy", "Source",
				       "Faults", "Quarantined", NULL);
}
