// SPDX-License-Identifier: GPL-2.0
/*
 * One object per SMMU: /org/pkvm/Iommu1/smmu<N>, interface
 * org.pkvm.Iommu1.Smmu. Read from the backend at call time (the event
 * counters move), served by a fallback vtable and a node enumerator.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bus.h"

int bus_smmu_path(uint32_t index, char **ret)
{
	return asprintf(ret, BUS_SMMU_PREFIX "%" PRIu32, index) < 0 ? -ENOMEM : 0;
}

/*
 * Parses a decimal u32 without sign, leading zeros or spaces, so that each
 * number has exactly one path. *end is where it stopped.
 */
int bus_parse_u32(const char *s, uint32_t *v, const char **end)
{
	uint64_t x = 0;
	const char *p = s;

	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (x > UINT32_MAX)
			return -ERANGE;
	}
	*v = (uint32_t)x;
	*end = p;
	return 0;
}

/* "/org/pkvm/Iommu1/smmu<N>" of an SMMU that exists. */
static int smmu_of_path(struct daemon *d, const char *path, uint32_t *index)
{
	const char *end;

	if (strncmp(path, BUS_SMMU_PREFIX, strlen(BUS_SMMU_PREFIX)))
		return 0;
	if (bus_parse_u32(path + strlen(BUS_SMMU_PREFIX), index, &end) || *end)
		return 0;
	return *index < d->nr_smmus;
}

static int smmu_info(struct daemon *d, const char *path, struct pkvm_iommu_smmu_info *info,
		     sd_bus_error *error)
{
	uint32_t index;
	int r;

	if (!smmu_of_path(d, path, &index))
		return sd_bus_error_setf(error, SD_BUS_ERROR_UNKNOWN_OBJECT, "%s: no such SMMU", path);
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->index = index;
	r = d->backend->ops->smmu_info(d->backend, index, info);
	return r < 0 ? bus_map_errno(error, r, "backend SMMU info") : 0;
}

static const struct {
	uint32_t bit;
	const char *name;
} feature_names[] = {
	{ PKVM_IOMMU_FEAT_S1, "s1" },
	{ PKVM_IOMMU_FEAT_S2, "s2" },
	{ PKVM_IOMMU_FEAT_2LVL_STRTAB, "2lvl-strtab" },
	{ PKVM_IOMMU_FEAT_COHERENT, "coherent" },
	{ PKVM_IOMMU_FEAT_RIL, "ril" },
	{ PKVM_IOMMU_FEAT_VMID16, "vmid16" },
	{ PKVM_IOMMU_FEAT_GRAN4K, "gran4k" },
};

static int prop_smmu(sd_bus *bus, const char *path, const char *iface, const char *prop,
		     sd_bus_message *reply, void *userdata, sd_bus_error *error)
{
	struct pkvm_iommu_smmu_info info;
	int r = smmu_info(userdata, path, &info, error);

	if (r < 0)
		return r;
	if (!strcmp(prop, "Index"))
		return sd_bus_message_append(reply, "u", info.index);
	if (!strcmp(prop, "Base"))
		return sd_bus_message_append(reply, "t", (uint64_t)info.base);
	if (!strcmp(prop, "Idr"))
		return sd_bus_message_append_array(reply, 'u', info.idr, sizeof(info.idr));
	if (!strcmp(prop, "SidSize"))
		return sd_bus_message_append(reply, "u", info.sidsize);
	if (!strcmp(prop, "Oas"))
		return sd_bus_message_append(reply, "u", info.oas);
	if (!strcmp(prop, "Bbml"))
		return sd_bus_message_append(reply, "u", info.bbml);
	if (!strcmp(prop, "Events"))
		return sd_bus_message_append(reply, "t", (uint64_t)info.events);
	if (!strcmp(prop, "Overflows"))
		return sd_bus_message_append(reply, "t", (uint64_t)info.overflows);
	if (!strcmp(prop, "Features")) {
		r = sd_bus_message_open_container(reply, 'a', "s");
		for (size_t i = 0; r >= 0 && i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
			if (info.features & feature_names[i].bit)
				r = sd_bus_message_append(reply, "s", feature_names[i].name);
		return r < 0 ? r : sd_bus_message_close_container(reply);
	}
	return -ENOENT;
}

static const sd_bus_vtable smmu_vtable[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_PROPERTY("Index", "u", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Base", "t", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Idr", "au", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Features", "as", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("SidSize", "u", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Oas", "u", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	SD_BUS_PROPERTY("Bbml", "u", prop_smmu, 0, SD_BUS_VTABLE_PROPERTY_CONST),
	/* counters: read on demand, no change signal */
	SD_BUS_PROPERTY("Events", "t", prop_smmu, 0, 0),
	SD_BUS_PROPERTY("Overflows", "t", prop_smmu, 0, 0),
	SD_BUS_VTABLE_END,
};

static int smmu_find(sd_bus *bus, const char *path, const char *iface, void *userdata,
		     void **found, sd_bus_error *error)
{
	uint32_t index;

	if (!smmu_of_path(userdata, path, &index))
		return 0;
	*found = userdata;
	return 1;
}

static int smmu_enumerate(sd_bus *bus, const char *prefix, void *userdata, char ***nodes,
			  sd_bus_error *error)
{
	struct daemon *d = userdata;
	char **l = calloc((size_t)d->nr_smmus + 1, sizeof(*l));

	if (!l)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->nr_smmus; i++) {
		if (bus_smmu_path(i, &l[i]) < 0) {
			while (i--)
				free(l[i]);
			free(l);
			return -ENOMEM;
		}
	}
	*nodes = l;
	return 0;
}

int bus_smmu_add(struct daemon *d)
{
	struct bus_state *st = d->bus_state;
	int r;

	r = sd_bus_add_fallback_vtable(d->bus, &st->smmu_slot, DAEMON_OBJECT_PATH,
				       DAEMON_IFACE_SMMU, smmu_vtable, smmu_find, d);
	if (r < 0)
		return r;
	return sd_bus_add_node_enumerator(d->bus, &st->smmu_enum_slot, DAEMON_OBJECT_PATH,
					  smmu_enumerate, d);
}
