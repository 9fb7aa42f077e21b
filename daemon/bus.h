/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Internal to the D-Bus side of pkvm-iommud (bus_*.c): one file per object
 * kind, as systemd-resolved does it. The daemon core sees only the bus_*()
 * functions of daemon.h.
 */
#ifndef PKVM_DAEMON_BUS_H
#define PKVM_DAEMON_BUS_H

#include <errno.h>
#include <stdlib.h>
#include <systemd/sd-bus.h>

#include "bus_names.h"
#include "bus_util.h"
#include "daemon.h"

#define BUS_SMMU_PREFIX			DAEMON_OBJECT_PATH "/smmu"

struct bus_state {
	sd_bus_slot *manager_slot;
	sd_bus_slot *object_manager_slot;
	sd_bus_slot *smmu_slot, *smmu_enum_slot;
	sd_bus_slot *stream_slot, *stream_enum_slot;
	sd_bus_slot *name_slot;
	sd_bus_slot *disconnect_slot;
	/* streams that have an object already (InterfacesAdded was sent) */
	uint64_t *known;	/* (smmu << 32 | sid), unsorted */
	size_t nr_known, cap_known;
};

static inline struct bus_state *bus_state(struct daemon *d)
{
	return d ? d->bus_state : NULL;
}

/*
 * The bus is up and the objects are there: emitting makes sense. Not
 * after the connection was lost: bus_setup()'s Disconnected handler says
 * so once and ends the loop, nothing else need complain meanwhile.
 */
static inline bool bus_ready(struct daemon *d)
{
	return d && d->bus && d->bus_state && sd_bus_is_open(d->bus) > 0;
}

/* bus_manager.c */
int bus_manager_add(struct daemon *d);

/* bus_smmu.c */
int bus_smmu_add(struct daemon *d);
int bus_smmu_path(uint32_t index, char **ret);
/* Canonical decimal u32 (no sign, no leading zero); *end after the digits. */
int bus_parse_u32(const char *s, uint32_t *v, const char **end);

/* bus_stream.c */
int bus_stream_add(struct daemon *d);
int bus_stream_path(uint32_t smmu, uint32_t sid, char **ret);

/* bus_auth.c */
/*
 * 1 when the sender of m may change things (euid 0, or polkit says yes to
 * DAEMON_POLKIT_ACTION); otherwise a negative errno with error set to
 * AccessDenied, saying what to do.
 */
/*
 * 1: the sender may change things; negative: refused (error set); 0: polkit
 * is being asked and the method will run again with its answer, so return
 * 1 now without a reply.
 */
int bus_check_manage(struct daemon *d, sd_bus_message *m, sd_bus_error *error);
/* Forget pending polkit questions (bus teardown). */
void bus_auth_free(void);

/*
 * Negative errno of a core call to a D-Bus error: -EINVAL InvalidArgs
 * naming what (what may be NULL), -EPERM/-EACCES AccessDenied, else errno.
 * Returns the negative value sd-bus handlers return.
 */
int bus_map_errno(sd_bus_error *error, int r, const char *what);

#endif /* PKVM_DAEMON_BUS_H */
