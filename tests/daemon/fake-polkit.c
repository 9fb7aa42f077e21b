// SPDX-License-Identifier: GPL-2.0
/*
 * fake-polkit ADDRESS UID [DELAY_MS]: a stand-in for polkitd on a private
 * bus, for the integration test. It owns org.freedesktop.PolicyKit1 and
 * answers CheckAuthorization for the action org.pkvm.iommu1.manage:
 * authorized exactly when the subject (a system-bus-name) belongs to UID,
 * after DELAY_MS (a user typing a password), so the test can check the
 * daemon keeps serving meanwhile. It prints one line per question.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

static uid_t allowed;
static unsigned int delay_ms;

/* subject (sa{sv}): kind "system-bus-name", details {"name": <s>} */
static int read_subject_name(sd_bus_message *m, const char **name)
{
	const char *kind, *key;
	int r;

	*name = NULL;
	if ((r = sd_bus_message_enter_container(m, 'r', "sa{sv}")) < 0 ||
	    (r = sd_bus_message_read(m, "s", &kind)) < 0 ||
	    (r = sd_bus_message_enter_container(m, 'a', "{sv}")) < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		if ((r = sd_bus_message_read(m, "s", &key)) < 0)
			return r;
		if (!strcmp(key, "name") && !strcmp(kind, "system-bus-name"))
			r = sd_bus_message_read(m, "v", "s", name);
		else
			r = sd_bus_message_skip(m, "v");
		if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
			return r;
	}
	if (r < 0 || (r = sd_bus_message_exit_container(m)) < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

static int check_authorization(sd_bus_message *m, void *userdata, sd_bus_error *error)
{
	sd_bus_message *reply = NULL;
	const char *name, *action;
	uint32_t uid = ~0u;
	int r, ok;

	(void)userdata;
	r = read_subject_name(m, &name);
	if (r < 0 || !name)
		return sd_bus_error_set(error, SD_BUS_ERROR_INVALID_ARGS, "no system-bus-name");
	if ((r = sd_bus_message_read(m, "s", &action)) < 0)
		return r;
	r = sd_bus_call_method(sd_bus_message_get_bus(m), "org.freedesktop.DBus",
			       "/org/freedesktop/DBus", "org.freedesktop.DBus",
			       "GetConnectionUnixUser", NULL, &reply, "s", name);
	if (r >= 0)
		r = sd_bus_message_read(reply, "u", &uid);
	sd_bus_message_unref(reply);
	ok = r >= 0 && uid == allowed && !strcmp(action, "org.pkvm.iommu1.manage");
	printf("fake-polkit: %s uid %u action %s -> %s\n", name, uid, action,
	       ok ? "yes" : "no");
	fflush(stdout);
	if (delay_ms) {
		struct timespec ts = { delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L };

		nanosleep(&ts, NULL);
	}
	return sd_bus_reply_method_return(m, "(bba{ss})", ok, 0, 0);
}

static const sd_bus_vtable authority[] = {
	SD_BUS_VTABLE_START(0),
	SD_BUS_METHOD("CheckAuthorization", "(sa{sv})sa{ss}us", "(bba{ss})",
		      check_authorization, SD_BUS_VTABLE_UNPRIVILEGED),
	SD_BUS_VTABLE_END,
};

int main(int argc, char **argv)
{
	sd_event *e = NULL;
	sd_bus *bus = NULL;
	int r;

	if (argc != 3 && argc != 4) {
		fprintf(stderr, "usage: fake-polkit ADDRESS UID [DELAY_MS]\n");
		return 2;
	}
	allowed = (uid_t)strtoul(argv[2], NULL, 0);
	delay_ms = argc == 4 ? (unsigned int)strtoul(argv[3], NULL, 0) : 0;
	if ((r = sd_bus_new(&bus)) < 0 || (r = sd_bus_set_address(bus, argv[1])) < 0 ||
	    (r = sd_bus_set_bus_client(bus, 1)) < 0 || (r = sd_bus_start(bus)) < 0 ||
	    (r = sd_bus_add_object_vtable(bus, NULL, "/org/freedesktop/PolicyKit1/Authority",
					  "org.freedesktop.PolicyKit1.Authority",
					  authority, NULL)) < 0 ||
	    (r = sd_bus_request_name(bus, "org.freedesktop.PolicyKit1", 0)) < 0 ||
	    (r = sd_event_default(&e)) < 0 ||
	    (r = sd_bus_attach_event(bus, e, 0)) < 0) {
		fprintf(stderr, "fake-polkit: %s\n", strerror(-r));
		return 1;
	}
	printf("fake-polkit: ready\n");
	fflush(stdout);
	return sd_event_loop(e) < 0;
}
