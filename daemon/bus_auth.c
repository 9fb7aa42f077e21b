// SPDX-License-Identifier: GPL-2.0
/*
 * Who may change things over D-Bus: anyone may read; every changing method
 * needs a sender with effective uid 0, or the polkit action
 * org.pkvm.iommu1.manage when polkit runs on the bus (asked synchronously
 * with CheckAuthorization). Without polkit only root may change anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "bus.h"

#define POLKIT_NAME	"org.freedesktop.PolicyKit1"
#define POLKIT_PATH	"/org/freedesktop/PolicyKit1/Authority"
#define POLKIT_IFACE	"org.freedesktop.PolicyKit1.Authority"
#define POLKIT_ALLOW_USER_INTERACTION	1u

#define DENIED_MSG "changing pkvm-iommu state needs root, or the polkit action " \
	DAEMON_POLKIT_ACTION ": run as root or get org.pkvm.iommu1.manage from polkit"

static int polkit_running(sd_bus *bus)
{
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	int has = 0, r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "NameHasOwner", &error, &reply,
			       "s", POLKIT_NAME);
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "b", &has);
	return r < 0 ? r : has;
}

/* 1 authorized, 0 not, negative errno when polkit could not answer. */
static int polkit_check(sd_bus *bus, const char *sender)
{
	_cleanup_msg_ sd_bus_message *call = NULL, *reply = NULL;
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	int authorized = 0, challenge = 0, r;

	r = sd_bus_message_new_method_call(bus, &call, POLKIT_NAME, POLKIT_PATH, POLKIT_IFACE,
					   "CheckAuthorization");
	if (r < 0)
		return r;
	r = sd_bus_message_append(call, "(sa{sv})sa{ss}us",
				  "system-bus-name", 1, "name", "s", sender,
				  DAEMON_POLKIT_ACTION, 0,
				  POLKIT_ALLOW_USER_INTERACTION, "");
	if (r < 0)
		return r;
	/* Interactive authentication may take a while: allow it. */
	r = sd_bus_call(bus, call, 120 * 1000000ull, &error, &reply);
	if (r < 0) {
		syslog(LOG_WARNING, "polkit CheckAuthorization: %s",
		       error.message ? error.message : strerror(-r));
		return r;
	}
	r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
	if (r < 0)
		return r;
	r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
	if (r < 0)
		return r;
	return authorized ? 1 : 0;
}

int bus_check_manage(struct daemon *d, sd_bus_message *m, sd_bus_error *error)
{
	sd_bus_creds *creds = NULL;
	const char *sender;
	uid_t euid;
	int r;

	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r >= 0) {
		r = sd_bus_creds_get_euid(creds, &euid);
		sd_bus_creds_unref(creds);
		if (r >= 0 && euid == 0)
			return 1;
	}
	sender = sd_bus_message_get_sender(m);
	if (sender && polkit_running(d->bus) > 0) {
		r = polkit_check(d->bus, sender);
		if (r > 0)
			return 1;
		if (r < 0)
			return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
						 "polkit could not answer (%s); %s",
						 strerror(-r), DENIED_MSG);
	}
	return sd_bus_error_set_const(error, SD_BUS_ERROR_ACCESS_DENIED, DENIED_MSG);
}

int bus_map_errno(sd_bus_error *error, int r, const char *what)
{
	if (r >= 0)
		return r;
	switch (r) {
	case -EINVAL:
		return sd_bus_error_setf(error, SD_BUS_ERROR_INVALID_ARGS, "invalid argument%s%s",
					 what ? ": " : "", what ? what : "");
	case -EPERM:
	case -EACCES:
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED, "%s%s%s",
					 what ? what : "", what ? ": " : "", strerror(-r));
	default:
		return sd_bus_error_set_errnof(error, -r, "%s%s%s", what ? what : "",
					       what ? ": " : "", strerror(-r));
	}
}
