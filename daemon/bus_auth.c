// SPDX-License-Identifier: GPL-2.0
/*
 * Who may change things over D-Bus: anyone may read; every changing method
 * needs a sender with effective uid 0, or the polkit action
 * org.pkvm.iommu1.manage when polkit runs on the bus (CheckAuthorization,
 * asked without blocking the event loop). Without polkit only root may
 * change anything.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
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

/*
 * polkit is asked asynchronously, the way systemd's own daemons do it: an
 * interactive authentication may take minutes, and the event loop (and
 * with it the watchdog, the netlink events and every other client) must
 * not wait for it. The method returns without a reply; when polkit
 * answers, the very same request is queued again and this time finds its
 * answer here.
 */
struct polkit_query {
	struct polkit_query *next;
	sd_bus_message *request;
	sd_bus_slot *slot;
	int answer;		/* 1 yes, 0 no, negative errno; pending while slot */
};

static struct polkit_query *queries;

static void query_free(struct polkit_query *q)
{
	struct polkit_query **pp;

	for (pp = &queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	sd_bus_slot_unref(q->slot);
	sd_bus_message_unref(q->request);
	free(q);
}

static struct polkit_query *query_find(sd_bus_message *m)
{
	for (struct polkit_query *q = queries; q; q = q->next)
		if (q->request == m)
			return q;
	return NULL;
}

static int polkit_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct polkit_query *q = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;

	q->slot = sd_bus_slot_unref(q->slot);
	/*
	 * sd-bus fails every pending call when the connection is lost: no
	 * caller is left to answer, and the Disconnected handler says why.
	 */
	if (sd_bus_is_open(sd_bus_message_get_bus(q->request)) <= 0) {
		query_free(q);
		return 0;
	}
	if (e) {
		syslog(LOG_WARNING, "polkit CheckAuthorization: %s", e->message ? e->message : e->name);
		r = -sd_bus_error_get_errno(e);
		q->answer = r < 0 ? r : -EACCES;
	} else {
		r = sd_bus_message_enter_container(reply, 'r', "bba{ss}");
		if (r >= 0)
			r = sd_bus_message_read(reply, "bb", &authorized, &challenge);
		q->answer = r < 0 ? r : authorized ? 1 : 0;
	}
	/* Run the method again, from the start, with the answer at hand. */
	r = sd_bus_message_rewind(q->request, true);
	if (r >= 0)
		r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
	if (r < 0) {
		syslog(LOG_ERR, "polkit answer for %s lost: %s",
		       sd_bus_message_get_member(q->request), strerror(-r));
		query_free(q);
	}
	return 0;
}

static int polkit_ask(sd_bus *bus, sd_bus_message *m, const char *sender)
{
	_cleanup_msg_ sd_bus_message *call = NULL;
	struct polkit_query *q;
	int r;

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
	q = calloc(1, sizeof(*q));
	if (!q)
		return -ENOMEM;
	/* Interactive authentication may take a while: allow it. */
	r = sd_bus_call_async(bus, &q->slot, call, polkit_answered, q, 120 * 1000000ull);
	if (r < 0) {
		free(q);
		return r;
	}
	q->request = sd_bus_message_ref(m);
	q->next = queries;
	queries = q;
	return 0;
}

int bus_check_manage(struct daemon *d, sd_bus_message *m, sd_bus_error *error)
{
	struct polkit_query *q = query_find(m);
	sd_bus_creds *creds = NULL;
	const char *sender;
	uid_t euid;
	int r;

	if (q && !q->slot) {
		r = q->answer;
		query_free(q);
		if (r > 0)
			return 1;
		if (r < 0)
			return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
						 "polkit could not answer (%s); %s",
						 strerror(-r), DENIED_MSG);
		return sd_bus_error_set_const(error, SD_BUS_ERROR_ACCESS_DENIED, DENIED_MSG);
	}
	if (q)
		return 0;	/* still asking */
	r = sd_bus_query_sender_creds(m, SD_BUS_CREDS_EUID | SD_BUS_CREDS_AUGMENT, &creds);
	if (r >= 0) {
		r = sd_bus_creds_get_euid(creds, &euid);
		sd_bus_creds_unref(creds);
		if (r >= 0 && euid == 0)
			return 1;
	}
	sender = sd_bus_message_get_sender(m);
	if (sender && polkit_running(d->bus) > 0) {
		r = polkit_ask(d->bus, m, sender);
		if (r >= 0)
			return 0;
		return sd_bus_error_setf(error, SD_BUS_ERROR_ACCESS_DENIED,
					 "polkit could not be asked (%s); %s", strerror(-r),
					 DENIED_MSG);
	}
	return sd_bus_error_set_const(error, SD_BUS_ERROR_ACCESS_DENIED, DENIED_MSG);
}

void bus_auth_free(void)
{
	while (queries)
		query_free(queries);
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
