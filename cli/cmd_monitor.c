// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl monitor: the daemon's signals as they come (DonationEvents,
 * Fault, StreamQuarantined, Resynced, and the daemon leaving or joining
 * the bus), one line each, or one JSON object per line with --json, until
 * SIGINT or SIGTERM. Every line is flushed: readers are often pipes.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <string.h>
#include <systemd/sd-event.h>
#include <time.h>

#include "ctl.h"
#include "output.h"
#include "names.h"

/*
 * Fault's flags as org.pkvm.Iommu1(5) documents them (the uapi names them
 * only in the comment of PKVM_IOMMU_A_FAULT_FLAGS).
 */
#define FAULT_WRITE	(1u << 0)
#define FAULT_STAGE2	(1u << 1)
#define FAULT_LOST	(1u << 2)

static uint64_t realtime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* The start of every line: local time of arrival and the event's name. */
static void line_start(const char *event, uint64_t usec)
{
	time_t t = (time_t)(usec / 1000000u);
	struct tm tm;
	char buf[16] = "??:??:??";

	if (localtime_r(&t, &tm))
		strftime(buf, sizeof(buf), "%H:%M:%S", &tm);
	printf("%s.%03u %-10s ", buf, (unsigned int)(usec / 1000u % 1000u), event);
}

static json_object *json_event(const char *event, uint64_t usec)
{
	json_object *j = json_object_new_object();

	json_add_u64(j, "time_usec", usec);
	json_add_str(j, "event", event);
	return j;
}

struct monitor {
	const struct ctl *c;
	int error;	/* what ended the loop, when not a signal */
};

/* A failed write ends the monitor: nobody reads what it prints. */
static int emitted(struct monitor *mon, sd_bus_message *m, int r)
{
	if (r >= 0 && (fflush(stdout) || ferror(stdout)))
		r = -EIO;
	if (r < 0) {
		mon->error = r;
		sd_event_exit(sd_bus_get_event(sd_bus_message_get_bus(m)), 0);
	}
	return 0;
}

static int on_donations(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct monitor *mon = userdata;
	const struct ctl *c = mon->c;
	uint64_t now = realtime_usec(), addr, len, gen;
	const char *op;
	uint32_t owner;
	int r;

	r = sd_bus_message_enter_container(m, 'a', "(sttut)");
	while (r >= 0 && (r = sd_bus_message_read(m, "(sttut)", &op, &addr, &len, &owner, &gen)) > 0) {
		char sz[OUTPUT_SIZE_MAX], own[OUTPUT_OWNER_MAX];

		if (c->json) {
			json_object *j = json_event(op, now);

			json_add_u64(j, "addr", addr);
			json_add_u64(j, "len", len);
			json_add_u64(j, "owner", owner);
			json_add_u64(j, "generation", gen);
			r = json_print(j, c->json_flags);
			continue;
		}
		line_start(op, now);
		printf("0x%" PRIx64 " +0x%" PRIx64 " (%s) owner %" PRIu32 " (%s), generation %" PRIu64
		       "\n", addr, len, output_size(len, sz), owner, output_owner(owner, own), gen);
	}
	return emitted(mon, m, r);
}

static int on_fault(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct monitor *mon = userdata;
	const struct ctl *c = mon->c;
	uint32_t smmu, sid, type, flags;
	uint64_t addr, now = realtime_usec();
	const char *name;
	int r;

	r = sd_bus_message_read(m, "uutuu", &smmu, &sid, &addr, &type, &flags);
	if (r < 0)
		return emitted(mon, m, r);
	name = smmu_event_name(type);
	if (c->json) {
		json_object *j = json_event("fault", now);

		json_add_u64(j, "smmu", smmu);
		json_add_u64(j, "sid", sid);
		json_add_u64(j, "addr", addr);
		json_add_u64(j, "type", type);
		json_add_str(j, "type_name", name);
		json_add_u64(j, "flags", flags);
		json_add_bool(j, "write", flags & FAULT_WRITE);
		json_add_bool(j, "stage2", flags & FAULT_STAGE2);
		json_add_bool(j, "lost", flags & FAULT_LOST);
		return emitted(mon, m, json_print(j, c->json_flags));
	}
	line_start("fault", now);
	printf("smmu %" PRIu32 " sid %" PRIu32 " addr 0x%" PRIx64 " %s%s (0x%" PRIx32 ") %s%s%s%s\n",
	       smmu, sid, addr, c->color ? ANSI_RED : "", name, type, flags & FAULT_WRITE ?
	       "write" : "read", flags & FAULT_STAGE2 ? " stage-2" : "",
	       flags & FAULT_LOST ? ", records were lost" : "", c->color ? ANSI_NORMAL : "");
	return emitted(mon, m, 0);
}

static int on_quarantine(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct monitor *mon = userdata;
	const struct ctl *c = mon->c;
	uint64_t faults, now = realtime_usec();
	uint32_t smmu, sid;
	int r;

	r = sd_bus_message_read(m, "uut", &smmu, &sid, &faults);
	if (r < 0)
		return emitted(mon, m, r);
	if (c->json) {
		json_object *j = json_event("quarantine", now);

		json_add_u64(j, "smmu", smmu);
		json_add_u64(j, "sid", sid);
		json_add_u64(j, "faults", faults);
		return emitted(mon, m, json_print(j, c->json_flags));
	}
	line_start("quarantine", now);
	printf("%ssmmu %" PRIu32 " sid %" PRIu32 " blocked after %" PRIu64 " faults%s\n",
	       c->color ? ANSI_RED : "", smmu, sid, faults, c->color ? ANSI_NORMAL : "");
	return emitted(mon, m, 0);
}

static int on_resync(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct monitor *mon = userdata;
	const struct ctl *c = mon->c;
	uint64_t gen, lost, now = realtime_usec();
	int r;

	r = sd_bus_message_read(m, "tt", &gen, &lost);
	if (r < 0)
		return emitted(mon, m, r);
	if (c->json) {
		json_object *j = json_event("resync", now);

		json_add_u64(j, "generation", gen);
		json_add_u64(j, "lost_pages", lost);
		return emitted(mon, m, json_print(j, c->json_flags));
	}
	line_start("resync", now);
	printf("ledger rebuilt from the backend at generation %" PRIu64 ", %" PRIu64
	       " pages repaired\n", gen, lost);
	return emitted(mon, m, 0);
}

static int on_owner(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
	struct monitor *mon = userdata;
	const struct ctl *c = mon->c;
	const char *name, *old, *new;
	uint64_t now = realtime_usec();
	int r;

	r = sd_bus_message_read(m, "sss", &name, &old, &new);
	if (r < 0 || strcmp(name, DAEMON_BUS_NAME))
		return emitted(mon, m, r < 0 ? r : 0);
	if (c->json) {
		json_object *j = json_event("daemon", now);

		json_add_bool(j, "running", *new);
		return emitted(mon, m, json_print(j, c->json_flags));
	}
	line_start("daemon", now);
	printf("pkvm-iommud %s\n", *new ? "is on the bus again" : "left the bus");
	return emitted(mon, m, 0);
}

static int add_matches(sd_bus *bus, struct monitor *mon)
{
	static const struct {
		const char *member;
		sd_bus_message_handler_t fn;
	} sig[] = {
		{ "DonationEvents", on_donations },
		{ "Fault", on_fault },
		{ "StreamQuarantined", on_quarantine },
		{ "Resynced", on_resync },
	};
	int r;

	/* Floating slots: they live as long as the bus. */
	for (size_t i = 0; i < sizeof(sig) / sizeof(sig[0]); i++) {
		r = sd_bus_match_signal(bus, NULL, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					DAEMON_IFACE_MANAGER, sig[i].member, sig[i].fn, mon);
		if (r < 0)
			return r;
	}
	return sd_bus_match_signal(bus, NULL, "org.freedesktop.DBus", "/org/freedesktop/DBus",
				   "org.freedesktop.DBus", "NameOwnerChanged", on_owner, mon);
}

int verb_monitor(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_event_ sd_event *e = NULL;
	struct monitor mon = { .c = c };
	sigset_t ss;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	/* Matches first, then the check: no event falls between the two. */
	r = add_matches(bus, &mon);
	if (r < 0)
		return ctl_bus_fail(c, "subscribing to the daemon's signals", r, NULL);
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
			       "org.freedesktop.DBus.Peer", "Ping", &error, NULL, NULL);
	if (r < 0)
		return ctl_bus_fail(c, "Ping", r, &error);

	sigemptyset(&ss);
	sigaddset(&ss, SIGINT);
	sigaddset(&ss, SIGTERM);
	if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
		return ctl_bus_fail(c, "blocking SIGINT and SIGTERM", -errno, NULL);
	r = sd_event_new(&e);
	/* No handler: sd-event ends the loop with 0 on these signals. */
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGINT, NULL, NULL);
	if (r >= 0)
		r = sd_event_add_signal(e, NULL, SIGTERM, NULL, NULL);
	if (r >= 0)
		r = sd_bus_attach_event(bus, e, SD_EVENT_PRIORITY_NORMAL);
	if (r >= 0)
		r = sd_bus_set_exit_on_disconnect(bus, 1);
	if (r < 0)
		return ctl_bus_fail(c, "setting up the event loop", r, NULL);
	/* On stderr, so stdout holds only events; tests wait for this line. */
	fprintf(stderr, "Monitoring " DAEMON_BUS_NAME " signals; press Ctrl-C to stop.\n");
	r = sd_event_loop(e);
	if (mon.error == -EIO)
		return output_done(mon.error);
	if (mon.error)
		return ctl_bus_fail(c, "reading a signal", mon.error, NULL);
	/* sd-bus ends the loop with EXIT_FAILURE when the bus goes away. */
	if (r == EXIT_FAILURE) {
		fprintf(stderr, CTL_NAME ": monitor: the connection to the bus closed.\n");
		return CTL_EXIT_FAILURE;
	}
	return r < 0 ? ctl_bus_fail(c, "monitor", r, NULL) : CTL_EXIT_OK;
}
