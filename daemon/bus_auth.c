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

static int polkit_has_owner(sd_bus *bus)
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

static int polkit_activatable(sd_bus *bus)
{
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	const char *name;
	int r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "ListActivatableNames", &error, &reply,
			       NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "s");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_read(reply, "s", &name)) > 0)
		if (!strcmp(name, POLKIT_NAME))
			return 1;
	return r;
}

/*
 * Can polkit be asked? It runs, or the bus starts it on the first call:
 * polkitd is D-Bus activated on Debian and after a boot nothing may have
 * asked it yet. A bus with neither (a test's private bus) means no polkit,
 * and the caller is refused at once instead of waiting for an error.
 */
static int polkit_available(sd_bus *bus)
{
	int r = polkit_has_owner(bus);

	return r ? r : polkit_activatable(bus);
}

/*
 * polkit is asked asynchronously, the way systemd's own daemons do it: an
 * interactive authentication may take minutes, and the event loop (and
 * with it the watchdog, the netlink events and every other client) must
 * not wait for it. The method returns without a reply; when polkit
 * answers, the very same request is queued again and this time finds its
 * answer here.
 *
 * Questions are what an unprivileged user can make the daemon hold, so
 * they are bounded: dbus-daemon lets a connection wait for at most
 * max_replies_per_connection replies (128 by default on the system bus),
 * and past it polkit could not be asked for anyone. So:
 * - a user (the sender's euid; its unique name when that is unknown) may
 *   have QUESTIONS_PER_USER questions at once: its next call is refused
 *   with org.pkvm.Iommu1.Error.Busy, whoever else is waiting;
 * - at most ASKING_MAX are with polkit at once; the others wait here, in
 *   order, and are asked as answers come (late, never refused);
 * - QUESTIONS_MAX in all (memory): only past it is a user refused because
 *   of the others, and that takes QUESTIONS_MAX / QUESTIONS_PER_USER users.
 */
#define QUESTIONS_PER_USER	8u
#define ASKING_MAX		32u
#define QUESTIONS_MAX		512u
#define POLKIT_TIMEOUT_USEC	(120 * 1000000ull)	/* a password typed */

struct polkit_query {
	struct polkit_query *next;
	sd_bus_message *request;
	sd_bus_message *call;	/* CheckAuthorization, while it waits its turn */
	sd_bus_slot *slot;	/* while polkit has it */
	uid_t uid;		/* UID_INVALID: count by sender */
	char *sender;
	uint64_t seq;		/* waiting order */
	int answer;		/* 1 yes, 0 no, negative errno; set once neither call nor slot */
};

static struct polkit_query *queries;
static unsigned int nr_queries, nr_asking;
static uint64_t next_seq;

#define UID_INVALID ((uid_t)-1)

static void query_free(struct polkit_query *q)
{
	struct polkit_query **pp;

	for (pp = &queries; *pp; pp = &(*pp)->next)
		if (*pp == q) {
			*pp = q->next;
			break;
		}
	if (q->slot)
		nr_asking--;
	nr_queries--;
	sd_bus_slot_unref(q->slot);
	sd_bus_message_unref(q->call);
	sd_bus_message_unref(q->request);
	free(q->sender);
	free(q);
}

static struct polkit_query *query_find(sd_bus_message *m)
{
	for (struct polkit_query *q = queries; q; q = q->next)
		if (q->request == m)
			return q;
	return NULL;
}

static unsigned int questions_of(uid_t uid, const char *sender)
{
	unsigned int n = 0;

	for (struct polkit_query *q = queries; q; q = q->next)
		if (uid != UID_INVALID ? q->uid == uid : !strcmp(q->sender, sender))
			n++;
	return n;
}

/* Run the method again, from the start, with q's answer at hand. */
static void query_deliver(struct polkit_query *q)
{
	int r = sd_bus_message_rewind(q->request, true);

	if (r >= 0)
		r = sd_bus_enqueue_for_read(sd_bus_message_get_bus(q->request), q->request);
	if (r < 0) {
		syslog(LOG_ERR, "polkit answer for %s lost: %s",
		       sd_bus_message_get_member(q->request), strerror(-r));
		query_free(q);
	}
}

static int polkit_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error);

static int query_send(struct polkit_query *q)
{
	sd_bus *bus = sd_bus_message_get_bus(q->request);
	int r = sd_bus_call_async(bus, &q->slot, q->call, polkit_answered, q, POLKIT_TIMEOUT_USEC);

	q->call = sd_bus_message_unref(q->call);
	if (r >= 0)
		nr_asking++;
	return r;
}

/* Ask polkit the waiting questions, oldest first, while there is room. */
static void queries_pump(void)
{
	while (nr_asking < ASKING_MAX) {
		struct polkit_query *oldest = NULL;
		int r;

		for (struct polkit_query *q = queries; q; q = q->next)
			if (q->call && (!oldest || q->seq < oldest->seq))
				oldest = q;
		if (!oldest)
			return;
		r = query_send(oldest);
		if (r < 0) {
			oldest->answer = r;
			query_deliver(oldest);
		}
	}
}

static int polkit_answered(sd_bus_message *reply, void *userdata, sd_bus_error *ret_error)
{
	struct polkit_query *q = userdata;
	const sd_bus_error *e = sd_bus_message_get_error(reply);
	int authorized = 0, challenge = 0, r;

	q->slot = sd_bus_slot_unref(q->slot);
	nr_asking--;
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
	query_deliver(q);
	queries_pump();
	return 0;
}

static int polkit_ask(sd_bus *bus, sd_bus_message *m, const char *sender, uid_t uid)
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
	q->sender = strdup(sender);
	if (!q->sender) {
		free(q);
		return -ENOMEM;
	}
	q->request = sd_bus_message_ref(m);
	q->call = TAKE_PTR(call);
	q->uid = uid;
	q->seq = next_seq++;
	q->next = queries;
	queries = q;
	nr_queries++;
	if (nr_asking >= ASKING_MAX)
		return 0;	/* its turn comes with an answer to another */
	r = query_send(q);
	if (r < 0)
		query_free(q);
	return r;
}

/* 0, or the Busy refusal of a user who already has too many questions. */
static int check_room(uid_t uid, const char *sender, sd_bus_error *error)
{
	unsigned int mine = questions_of(uid, sender);

	if (mine >= QUESTIONS_PER_USER)
		return sd_bus_error_setf(error, BUS_ERROR_BUSY,
					 "%u calls of this user already wait for polkit (at most %u): "
					 "try again when they are answered", mine, QUESTIONS_PER_USER);
	if (nr_queries >= QUESTIONS_MAX)
		return sd_bus_error_setf(error, BUS_ERROR_BUSY,
					 "%u calls already wait for polkit (at most %u): try again "
					 "later", nr_queries, QUESTIONS_MAX);
	return 0;
}

int bus_check_manage(struct daemon *d, sd_bus_message *m, sd_bus_error *error)
{
	struct polkit_query *q = query_find(m);
	sd_bus_creds *creds = NULL;
	const char *sender;
	uid_t euid = UID_INVALID;
	int r;

	if (q && !q->slot && !q->call) {
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
		if (r < 0)
			euid = UID_INVALID;
		else if (euid == 0)
			return 1;
	}
	sender = sd_bus_message_get_sender(m);
	if (sender && polkit_available(d->bus) > 0) {
		r = check_room(euid, sender, error);
		if (r < 0)
			return r;
		r = polkit_ask(d->bus, m, sender, euid);
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
