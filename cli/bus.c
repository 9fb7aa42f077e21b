// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl's side of D-Bus: connecting to the bus --bus names (the
 * system bus by default, where sd-bus honours DBUS_SYSTEM_BUS_ADDRESS),
 * calling the daemon, reading property dictionaries, and turning every
 * failure into a message that says what to do and a documented exit code.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "ctl.h"

#define SYSTEM_BUS_DEFAULT "unix:path=/run/dbus/system_bus_socket"

/* "the system bus (unix:path=...)", for messages. */
static void bus_where(const struct ctl *c, char *buf, size_t len)
{
	const char *env = getenv("DBUS_SYSTEM_BUS_ADDRESS");

	if (!c->bus || !strcmp(c->bus, "system"))
		snprintf(buf, len, "the system bus (%s%s)",
			 env && *env ? "DBUS_SYSTEM_BUS_ADDRESS=" : "",
			 env && *env ? env : SYSTEM_BUS_DEFAULT);
	else if (!strcmp(c->bus, "session"))
		snprintf(buf, len, "the session bus");
	else
		snprintf(buf, len, "the bus at %s", c->bus);
}

static void hint_not_running(const struct ctl *c)
{
	fprintf(stderr, "Start it with 'systemctl start pkvm-iommud'%s, or point %s at the bus "
		"it serves.\n", c->bus ? " (or the way you run it)" : "",
		c->bus ? "--bus" : "--bus or DBUS_SYSTEM_BUS_ADDRESS");
}

/*
 * --no-auto-start: every call the CLI makes would start pkvm-iommud through
 * D-Bus activation, which a shell completing a word, or a monitoring
 * probe, must not do. The bus's own NameHasOwner never activates; asked
 * once here, it covers every later call of the run (a daemon that exits
 * in between may then be started again, as without the option).
 */
static int daemon_present(const struct ctl *c, sd_bus *bus)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	char where[512];
	int has = 0, r;

	r = sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
			       "org.freedesktop.DBus", "NameHasOwner", &error, &reply, "s",
			       DAEMON_BUS_NAME);
	if (r >= 0)
		r = sd_bus_message_read(reply, "b", &has);
	if (r < 0)
		return ctl_bus_fail(c, "NameHasOwner", r, &error);
	if (has)
		return CTL_EXIT_OK;
	bus_where(c, where, sizeof(where));
	fprintf(stderr, CTL_NAME ": pkvm-iommud is not running: %s is not on %s "
		"(--no-auto-start: not starting it).\n", DAEMON_BUS_NAME, where);
	return CTL_EXIT_NOT_RUNNING;
}

int ctl_connect(const struct ctl *c, sd_bus **ret)
{
	sd_bus *bus = NULL;
	char where[512];
	int r;

	if (!c->bus || !strcmp(c->bus, "system")) {
		r = sd_bus_open_system(&bus);
	} else if (!strcmp(c->bus, "session")) {
		r = sd_bus_open_user(&bus);
	} else {
		/* Every D-Bus address is TRANSPORT:KEY=VALUE,...; sd-bus says less. */
		if (!strchr(c->bus, ':')) {
			fprintf(stderr, CTL_NAME ": --bus: '%s' is not 'system', 'session' or a "
				"D-Bus address such as unix:path=/run/pkvm/bus.\n", c->bus);
			return CTL_EXIT_USAGE;
		}
		r = sd_bus_new(&bus);
		if (r >= 0)
			r = sd_bus_set_address(bus, c->bus);
		if (r >= 0)
			r = sd_bus_set_bus_client(bus, 1);
		if (r >= 0)
			r = sd_bus_start(bus);
	}
	if (r >= 0 && c->no_auto_start) {
		r = daemon_present(c, bus);
		if (r != CTL_EXIT_OK) {
			sd_bus_unref(bus);
			return r;
		}
	}
	if (r >= 0) {
		*ret = bus;
		return CTL_EXIT_OK;
	}
	sd_bus_unref(bus);
	bus_where(c, where, sizeof(where));
	switch (r) {
	case -ENOENT:
	case -ECONNREFUSED:
	case -ECONNRESET:
	case -ENOTCONN:
		fprintf(stderr, CTL_NAME ": cannot connect to %s: %s.\n"
			"No D-Bus daemon listens there, so pkvm-iommud cannot be reached: check that "
			"dbus is running, or point %s at the bus pkvm-iommud serves.\n",
			where, strerror(-r), c->bus ? "--bus" : "--bus or DBUS_SYSTEM_BUS_ADDRESS");
		return CTL_EXIT_NOT_RUNNING;
	case -EACCES:
	case -EPERM:
		fprintf(stderr, CTL_NAME ": cannot connect to %s: %s.\n", where, strerror(-r));
		return CTL_EXIT_DENIED;
	case -EINVAL:
		if (c->bus && strcmp(c->bus, "system") && strcmp(c->bus, "session")) {
			fprintf(stderr, CTL_NAME ": --bus: '%s' is not a D-Bus address sd-bus "
				"can use.\n", c->bus);
			return CTL_EXIT_USAGE;
		}
		/* fall through */
	default:
		fprintf(stderr, CTL_NAME ": cannot connect to %s: %s.\n", where, strerror(-r));
		return CTL_EXIT_FAILURE;
	}
}

static bool name_starts(const sd_bus_error *e, const char *prefix)
{
	return e && e->name && !strncmp(e->name, prefix, strlen(prefix));
}

int ctl_bus_fail(const struct ctl *c, const char *what, int r, const sd_bus_error *error)
{
	const char *msg = error && error->message ? error->message : strerror(r < 0 ? -r : EIO);
	char where[512];

	bus_where(c, where, sizeof(where));
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_SERVICE_UNKNOWN) ||
	    sd_bus_error_has_name(error, SD_BUS_ERROR_NAME_HAS_NO_OWNER) ||
	    name_starts(error, "org.freedesktop.DBus.Error.Spawn.")) {
		fprintf(stderr, CTL_NAME ": pkvm-iommud is not running: %s is not on %s.\n",
			DAEMON_BUS_NAME, where);
		hint_not_running(c);
		return CTL_EXIT_NOT_RUNNING;
	}
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_ACCESS_DENIED) ||
	    (!sd_bus_error_is_set(error) && (r == -EACCES || r == -EPERM))) {
		fprintf(stderr, CTL_NAME ": %s: permission denied: %s\n", what, msg);
		/* The daemon's own refusal says what to do; the bus's does not. */
		if (!strstr(msg, DAEMON_POLKIT_ACTION))
			fprintf(stderr, "Run it as root, or get the polkit action %s.\n",
				DAEMON_POLKIT_ACTION);
		return CTL_EXIT_DENIED;
	}
	/* Not a refusal: the user's earlier changes still wait for polkit. */
	if (sd_bus_error_has_name(error, BUS_ERROR_BUSY)) {
		fprintf(stderr, CTL_NAME ": %s: pkvm-iommud is busy: %s\n", what, msg);
		return CTL_EXIT_BUSY;
	}
	if (sd_bus_error_has_name(error, BUS_ERROR_INVALID_POLICY)) {
		fprintf(stderr, CTL_NAME ": %s: invalid policy: %s\n", what, msg);
		return CTL_EXIT_INVALID_POLICY;
	}
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_UNKNOWN_METHOD)) {
		fprintf(stderr, CTL_NAME ": %s: %s\nThe running pkvm-iommud is older than "
			CTL_NAME "; update it and restart it.\n", what, msg);
		return CTL_EXIT_FAILURE;
	}
	if (sd_bus_error_has_name(error, SD_BUS_ERROR_NO_REPLY) ||
	    (!sd_bus_error_is_set(error) && r == -ETIMEDOUT)) {
		fprintf(stderr, CTL_NAME ": %s: pkvm-iommud did not answer in time (%s).\n",
			what, msg);
		return CTL_EXIT_FAILURE;
	}
	/*
	 * The rest, InvalidArgs and the daemon's refusals of a value or of the
	 * pages' state (OutOfRange, WrongOwner, Shared, NotShared) among them:
	 * its message names the argument or the page, exit 1. WrongOwner is
	 * never exit 4, which is for a caller without the right.
	 */
	fprintf(stderr, CTL_NAME ": %s: %s\n", what, msg);
	return CTL_EXIT_FAILURE;
}

int ctl_call(sd_bus *bus, const char *method, sd_bus_error *error, sd_bus_message **reply,
	     const char *types, ...)
{
	_cleanup_msg_ sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					   DAEMON_IFACE_MANAGER, method);
	if (r < 0)
		return r;
	if (types && *types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		if (r < 0)
			return r;
	}
	return sd_bus_call(bus, m, 0, error, reply);
}

int ctl_get_all(sd_bus *bus, const char *path, const char *iface, sd_bus_error *error,
		sd_bus_message **reply)
{
	return sd_bus_call_method(bus, DAEMON_BUS_NAME, path, "org.freedesktop.DBus.Properties",
				  "GetAll", error, reply, "s", iface);
}

int ctl_get_objects(sd_bus *bus, sd_bus_error *error, sd_bus_message **reply)
{
	return sd_bus_call_method(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
				  "org.freedesktop.DBus.ObjectManager", "GetManagedObjects",
				  error, reply, NULL);
}

int ctl_read_props(sd_bus_message *m, ctl_prop_fn fn, void *arg)
{
	const char *name, *sig;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "{sv}");
	if (r < 0)
		return r;
	while ((r = sd_bus_message_enter_container(m, 'e', "sv")) > 0) {
		r = sd_bus_message_read(m, "s", &name);
		if (r < 0)
			return r;
		r = sd_bus_message_peek_type(m, NULL, &sig);
		if (r < 0)
			return r;
		r = sd_bus_message_enter_container(m, 'v', sig);
		if (r < 0)
			return r;
		r = fn(m, name, sig, arg);
		if (r == 0)
			r = sd_bus_message_skip(m, sig);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
		r = sd_bus_message_exit_container(m);
		if (r < 0)
			return r;
	}
	if (r < 0)
		return r;
	return sd_bus_message_exit_container(m);
}

int ctl_read_prop(sd_bus_message *m, const char *name, const char *sig,
		  const struct ctl_prop *map)
{
	for (; map->name; map++) {
		int b, r;

		if (strcmp(map->name, name))
			continue;
		if (sig[0] != map->type || sig[1])
			return -EBADMSG;
		if (map->type == 'b') {
			r = sd_bus_message_read_basic(m, 'b', &b);
			if (r >= 0)
				*(bool *)map->dest = b;
		} else {
			r = sd_bus_message_read_basic(m, map->type, map->dest);
		}
		return r < 0 ? r : 1;
	}
	return 0;
}

int ctl_parse_u32(const char *s, uint32_t *v)
{
	bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
	unsigned long long x;
	char *end;

	/* strtoull alone takes signs, blanks and octal: stream ids are not. */
	if (!(hex ? isxdigit((unsigned char)s[2]) : isdigit((unsigned char)s[0])))
		return -EINVAL;
	errno = 0;
	x = strtoull(s, &end, hex ? 16 : 10);
	if (*end)
		return -EINVAL;
	if (errno == ERANGE || x > UINT32_MAX)
		return -ERANGE;
	*v = (uint32_t)x;
	return 0;
}
