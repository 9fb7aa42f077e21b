// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommud's D-Bus objects (daemon/bus_*.c) on a private dbus-daemon:
 * a server connection serves a struct daemon around the sim backend from
 * its sd-event loop in a thread; the tests are clients of that bus. Every
 * property has its type and value, the counters their names, the SMMU
 * object the backend's facts; SetStreamPolicy makes a stream object
 * appear; bad arguments are InvalidArgs; test-mode Donate is signalled
 * with its generation; SetFoldPolicy's properties and the sim's idle
 * compaction; an unprivileged client reads but cannot change.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>
#include <unistd.h>

#include "daemon.h"
#include "test_registry.h"

#define NOBODY 65534
#define DONATE_ADDR 0x8c0000000ull	/* 1 GiB into the sim's second region */
#define PAGE 4096ull

static char tmpdir[] = "/tmp/pkvm-test-bus.XXXXXX";
static char bus_address[512];
static pid_t dbus_pid;
static struct daemon *d;
static pthread_t server_thread;
static int stop_pipe[2] = { -1, -1 };
static struct pkvm_iommu_smmu_info smmu0;
static char policy_path[600], state_dir[600];

/* ---- private bus ---- */

static void start_dbus(void)
{
	char conf[600], sock[600];
	int out[2];
	FILE *f;
	ssize_t n;
	size_t len = 0;

	must((mkdtemp(tmpdir)) != NULL);
	chmod(tmpdir, 0755);	/* nobody connects too */
	snprintf(conf, sizeof(conf), "%s/bus.conf", tmpdir);
	snprintf(sock, sizeof(sock), "%s/bus", tmpdir);
	f = fopen(conf, "w");
	must((f) != NULL);
	fprintf(f, "<!DOCTYPE busconfig PUBLIC \"-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN\"\n"
		" \"http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd\">\n"
		"<busconfig>\n"
		"  <type>session</type>\n"
		"  <listen>unix:path=%s</listen>\n"
		"  <auth>EXTERNAL</auth>\n"
		"  <policy context=\"default\">\n"
		"    <allow user=\"*\"/>\n"
		"    <allow send_destination=\"*\" eavesdrop=\"true\"/>\n"
		"    <allow eavesdrop=\"true\"/>\n"
		"    <allow own=\"*\"/>\n"
		"  </policy>\n"
		"</busconfig>\n", sock);
	fclose(f);
	must((pipe(out)) == 0);
	dbus_pid = fork();
	must((dbus_pid) >= 0);
	if (!dbus_pid) {
		char cf[700];

		snprintf(cf, sizeof(cf), "--config-file=%s", conf);
		prctl(PR_SET_PDEATHSIG, SIGTERM);	/* never outlive the test */
		dup2(out[1], 3);
		execlp("dbus-daemon", "dbus-daemon", cf, "--nofork", "--print-address=3",
		       (char *)NULL);
		_exit(127);
	}
	close(out[1]);
	while (len < sizeof(bus_address) - 1 &&
	       (n = read(out[0], bus_address + len, sizeof(bus_address) - 1 - len)) > 0) {
		len += (size_t)n;
		if (memchr(bus_address, '\n', len))
			break;
	}
	close(out[0]);
	bus_address[len] = 0;
	bus_address[strcspn(bus_address, "\n")] = 0;
	must(len > 0);
}

static sd_bus *connect_bus(void)
{
	sd_bus *bus = NULL;

	must((sd_bus_new(&bus)) >= 0);
	must((sd_bus_set_address(bus, bus_address)) >= 0);
	must((sd_bus_set_bus_client(bus, 1)) >= 0);
	must((sd_bus_start(bus)) >= 0);
	return bus;
}

/* ---- the server: a daemon on the sim backend, in a thread ---- */

static int on_stop(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	return sd_event_exit(sd_event_source_get_event(s), 0);
}

static void *serve(void *arg)
{
	sd_event_loop(d->event);
	return NULL;
}

static void start_server(void)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };

	snprintf(policy_path, sizeof(policy_path), "%s/policy.json", tmpdir);
	snprintf(state_dir, sizeof(state_dir), "%s/state", tmpdir);
	must((mkdir(state_dir, 0755)) == 0);
	must((daemon_new(&d, policy_path, state_dir)) == 0);
	must((backend_sim_open(&d->backend, NULL)) == 0);
	must((d->backend->ops->info(d->backend, &info)) == 0);
	d->nr_smmus = info.nr_smmus;
	smmu0.size = sizeof(smmu0);
	smmu0.index = 0;
	must((d->backend->ops->smmu_info(d->backend, 0, &smmu0)) == 0);
	d->test_mode = true;
	snprintf(d->iommufd_status, sizeof(d->iommufd_status), "not probed");

	must((sd_event_new(&d->event)) >= 0);
	must((pipe2(stop_pipe, O_CLOEXEC)) == 0);
	must((sd_event_add_io(d->event, NULL, stop_pipe[0], EPOLLIN, on_stop, NULL)) >= 0);
	d->bus = connect_bus();
	must((sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL)) >= 0);
	must((bus_setup(d)) == 0);
	must((pthread_create(&server_thread, NULL, serve, NULL)) == 0);
}

static void stop_server(void)
{
	must((write(stop_pipe[1], "x", 1)) == 1);
	pthread_join(server_thread, NULL);
	d = daemon_free(d);
	kill(dbus_pid, SIGTERM);
	waitpid(dbus_pid, NULL, 0);
}

/* ---- client helpers ---- */

static sd_bus *client;

static void wait_for_name(sd_bus *bus)
{
	for (uint64_t end = test_now_usec() + TEST_WAIT_USEC; test_now_usec() < end;) {
		sd_bus_message *reply = NULL;
		int has = 0;

		must(sd_bus_call_method(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus",
					"org.freedesktop.DBus", "NameHasOwner", NULL,
					&reply, "s", DAEMON_BUS_NAME) >= 0);
		must((sd_bus_message_read(reply, "b", &has)) >= 0);
		sd_bus_message_unref(reply);
		if (has)
			return;
		usleep(10000);
	}
	must(!"the daemon's name never appeared on the bus");
}

/* Pump the client until *flag or the deadline. */
static void pump_until(sd_bus *bus, const int *flag)
{
	for (uint64_t end = test_now_usec() + TEST_WAIT_USEC; !*flag && test_now_usec() < end;) {
		int r = sd_bus_process(bus, NULL);

		ck_assert_int_ge(r, 0);
		if (!r)
			sd_bus_wait(bus, 10000);
	}
	ck_assert_msg(*flag, "signal not seen");
}

static int call(sd_bus *bus, sd_bus_error *err, sd_bus_message **reply, const char *path,
		const char *iface, const char *member, const char *types, ...)
{
	sd_bus_message *m = NULL;
	va_list ap;
	int r;

	r = sd_bus_message_new_method_call(bus, &m, DAEMON_BUS_NAME, path, iface, member);
	ck_assert_int_ge(r, 0);
	if (types) {
		va_start(ap, types);
		r = sd_bus_message_appendv(m, types, ap);
		va_end(ap);
		ck_assert_int_ge(r, 0);
	}
	r = sd_bus_call(bus, m, 10 * 1000000ull, err, reply);
	sd_bus_message_unref(m);
	return r;
}

#define MGR DAEMON_OBJECT_PATH, DAEMON_IFACE_MANAGER

static const char *get_string(const char *path, const char *iface, const char *prop)
{
	static char buf[256];
	sd_bus_error err = SD_BUS_ERROR_NULL;
	char *s = NULL;

	ck_assert_msg(sd_bus_get_property_string(client, DAEMON_BUS_NAME, path, iface, prop,
						 &err, &s) >= 0, "%s: %s", prop, err.message);
	snprintf(buf, sizeof(buf), "%s", s);
	free(s);
	return buf;
}

static uint64_t get_u64(const char *path, const char *iface, const char *prop)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	uint64_t v = 0;

	ck_assert_msg(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME, path, iface, prop,
						  &err, 't', &v) >= 0, "%s: %s", prop, err.message);
	return v;
}

static uint32_t get_u32(const char *path, const char *iface, const char *prop)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	uint32_t v = 0;

	ck_assert_msg(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME, path, iface, prop,
						  &err, 'u', &v) >= 0, "%s: %s", prop, err.message);
	return v;
}

/* ---- Manager properties ---- */

TEST("bus", manager_getall)
{
	static const struct { const char *name, *type; } want[] = {
		{ "Backend", "s" }, { "AbiVersion", "u" }, { "Version", "s" },
		{ "SmmuCount", "u" }, { "Generation", "t" }, { "SplitPolicy", "s" },
		{ "PresplitLevel", "u" }, { "DefaultStreamAction", "s" },
		{ "InvalidationBatchMaxOps", "u" }, { "InvalidationBatchWindowUsec", "u" },
		{ "FoldMode", "s" }, { "CompactBudget", "u" }, { "CompactIdleMsec", "u" },
		{ "DonatedPages", "t" }, { "SharedPages", "t" }, { "LedgerTotals", "a(ut)" },
		{ "IommufdStatus", "s" }, { "IommufdDevices", "a(sauubb)" },
		{ "PolicyPath", "s" }, { "StateDirectory", "s" },
		{ "TestMode", "b" },
	};
	bool seen[sizeof(want) / sizeof(want[0])] = { 0 };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *name, *contents;

	ck_assert_int_ge(call(client, &err, &reply, DAEMON_OBJECT_PATH,
			      "org.freedesktop.DBus.Properties", "GetAll", "s",
			      DAEMON_IFACE_MANAGER), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "{sv}"), 0);
	while (sd_bus_message_enter_container(reply, 'e', "sv") > 0) {
		size_t i;
		char t;

		ck_assert_int_ge(sd_bus_message_read(reply, "s", &name), 0);
		ck_assert_int_ge(sd_bus_message_peek_type(reply, &t, &contents), 0);
		for (i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strcmp(want[i].name, name))
				break;
		ck_assert_msg(i < sizeof(want) / sizeof(want[0]), "unexpected property %s", name);
		ck_assert_msg(!strcmp(contents, want[i].type), "%s: type %s, want %s", name,
			      contents, want[i].type);
		seen[i] = true;
		ck_assert_int_ge(sd_bus_message_enter_container(reply, 'v', contents), 0);
		if (!strcmp(name, "Backend")) {
			const char *s;

			sd_bus_message_read(reply, "s", &s);
			ck_assert_str_eq(s, "sim");
		} else if (!strcmp(name, "AbiVersion")) {
			uint32_t u;

			sd_bus_message_read(reply, "u", &u);
			ck_assert_uint_eq(u, PKVM_IOMMU_ABI_VERSION);
		} else if (!strcmp(name, "Version")) {
			const char *s;

			sd_bus_message_read(reply, "s", &s);
			ck_assert_str_eq(s, "0.1.0");
		} else if (!strcmp(name, "SmmuCount")) {
			uint32_t u;

			sd_bus_message_read(reply, "u", &u);
			ck_assert_uint_eq(u, 1);
		} else if (!strcmp(name, "TestMode")) {
			int b;

			sd_bus_message_read(reply, "b", &b);
			ck_assert(b);
		} else if (!strcmp(name, "PolicyPath")) {
			const char *s;

			sd_bus_message_read(reply, "s", &s);
			ck_assert_str_eq(s, policy_path);
		} else if (!strcmp(name, "StateDirectory")) {
			const char *s;

			sd_bus_message_read(reply, "s", &s);
			ck_assert_str_eq(s, state_dir);
		} else if (!strcmp(name, "IommufdStatus")) {
			const char *s;

			sd_bus_message_read(reply, "s", &s);
			ck_assert_str_eq(s, "not probed");
		} else {
			ck_assert_int_ge(sd_bus_message_skip(reply, contents), 0);
		}
		ck_assert_int_ge(sd_bus_message_exit_container(reply), 0);
		ck_assert_int_ge(sd_bus_message_exit_container(reply), 0);
	}
	sd_bus_message_unref(reply);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(seen[i], "property %s missing", want[i].name);
	/* Split policy and default action as the default policy says. */
	ck_assert_str_eq(get_string(MGR, "DefaultStreamAction"), "block");
	ck_assert_str_eq(get_string(MGR, "SplitPolicy"), "auto");
	ck_assert_uint_eq(get_u32(MGR, "PresplitLevel"), 0);
	/* No batching by default: one sync per change. */
	ck_assert_uint_eq(get_u32(MGR, "InvalidationBatchMaxOps"), 1);
	ck_assert_uint_eq(get_u32(MGR, "InvalidationBatchWindowUsec"), 0);
	/* Lazy folding, the module's compaction defaults. */
	ck_assert_str_eq(get_string(MGR, "FoldMode"), "lazy");
	ck_assert_uint_eq(get_u32(MGR, "CompactBudget"), 8);
	ck_assert_uint_eq(get_u32(MGR, "CompactIdleMsec"), 100);
}
END_TEST

TEST("bus", manager_counters)
{
	static const char *const want[] = {
		"donate", "reclaim", "share", "unshare", "errors", "desc_writes", "tlbi_ranges",
		"tlbi_full", "syncs", "splits", "folds", "bbm_breaks", "table_pages", "pool_free",
		"mem_pages", "hook_transitions", "hook_ns", "hook_max_ns", "seed_ns",
		"table_fills", "compactions", "compact_folds", "pressure_reliefs",
		"events_ingested", "faults", "resyncs", "lost_pages", "quarantines",
		"policy_reloads", "policy_errors",
	};
	bool seen[sizeof(want) / sizeof(want[0])] = { 0 };
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *name;
	uint64_t v, total = 0;
	unsigned int buckets = 0;

	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetCounters", NULL), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "{st}"), 0);
	while (sd_bus_message_enter_container(reply, 'e', "st") > 0) {
		ck_assert_int_ge(sd_bus_message_read(reply, "st", &name, &v), 0);
		for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
			if (!strcmp(want[i], name))
				seen[i] = true;
		/* pKVM's hook and seed: nothing of them on the sim backend */
		if (!strncmp(name, "hook_", 5) || !strcmp(name, "seed_ns"))
			ck_assert_msg(v == 0, "%s = %llu on the sim backend", name,
				      (unsigned long long)v);
		ck_assert_int_ge(sd_bus_message_exit_container(reply), 0);
	}
	sd_bus_message_unref(reply);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		ck_assert_msg(seen[i], "counter %s missing", want[i]);

	reply = NULL;
	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetLatencyHistogram", NULL), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "(tt)"), 0);
	while (sd_bus_message_read(reply, "(tt)", &v, &total) > 0) {
		ck_assert_uint_eq(v, buckets + 1 < DAEMON_LATENCY_BUCKETS ?
				  1ull << (buckets + 10) : UINT64_MAX);
		buckets++;
	}
	ck_assert_uint_eq(buckets, DAEMON_LATENCY_BUCKETS);
	sd_bus_message_unref(reply);
}
END_TEST

/* ---- SMMU objects ---- */

TEST("bus", smmu_object)
{
	static const char path[] = DAEMON_OBJECT_PATH "/smmu0";
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const void *idr;
	size_t sz;
	char **feat = NULL;
	bool has_s2 = false, has_ril = false;

	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_SMMU, "Index"), 0);
	ck_assert_uint_eq(get_u64(path, DAEMON_IFACE_SMMU, "Base"), smmu0.base);
	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_SMMU, "SidSize"), smmu0.sidsize);
	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_SMMU, "Oas"), smmu0.oas);
	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_SMMU, "Bbml"), smmu0.bbml);
	ck_assert_uint_eq(get_u64(path, DAEMON_IFACE_SMMU, "Overflows"), smmu0.overflows);
	get_u64(path, DAEMON_IFACE_SMMU, "Events");

	ck_assert_int_ge(sd_bus_get_property(client, DAEMON_BUS_NAME, path, DAEMON_IFACE_SMMU,
					     "Idr", &err, &reply, "au"), 0);
	ck_assert_int_ge(sd_bus_message_read_array(reply, 'u', &idr, &sz), 0);
	ck_assert_uint_eq(sz, sizeof(smmu0.idr));
	ck_assert_int_eq(memcmp(idr, smmu0.idr, sz), 0);
	sd_bus_message_unref(reply);

	ck_assert_int_ge(sd_bus_get_property_strv(client, DAEMON_BUS_NAME, path, DAEMON_IFACE_SMMU,
						  "Features", &err, &feat), 0);
	for (char **f = feat; *f; f++) {
		has_s2 |= !strcmp(*f, "s2");
		has_ril |= !strcmp(*f, "ril");
		free(*f);
	}
	free(feat);
	ck_assert(has_s2 == !!(smmu0.features & PKVM_IOMMU_FEAT_S2));
	ck_assert(has_ril == !!(smmu0.features & PKVM_IOMMU_FEAT_RIL));

	/* No SMMU 1, and no smmu00 alias of smmu0. */
	ck_assert_int_lt(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME,
						     DAEMON_OBJECT_PATH "/smmu1", DAEMON_IFACE_SMMU,
						     "Index", &err, 'u', &sz), 0);
	sd_bus_error_free(&err);
	ck_assert_int_lt(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME,
						     DAEMON_OBJECT_PATH "/smmu00", DAEMON_IFACE_SMMU,
						     "Index", &err, 'u', &sz), 0);
	sd_bus_error_free(&err);
}
END_TEST

/* ---- streams ---- */

static int added_seen;
static char added_path[256];

static int on_added(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *path;

	if (sd_bus_message_read(m, "o", &path) >= 0 && !strcmp(path, userdata)) {
		snprintf(added_path, sizeof(added_path), "%s", path);
		added_seen = 1;
	}
	return 0;
}

static int changed_seen;

static int on_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	changed_seen = 1;
	return 0;
}

TEST("bus", stream_set_policy)
{
	static const char path[] = DAEMON_OBJECT_PATH "/smmu0/stream5";
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_slot *slot = NULL, *slot2 = NULL;
	sd_bus_message *reply = NULL;
	int q = 1;

	added_seen = changed_seen = 0;
	ck_assert_int_ge(sd_bus_match_signal(client, &slot, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					     "org.freedesktop.DBus.ObjectManager", "InterfacesAdded",
					     on_added, (void *)path), 0);
	ck_assert_int_ge(sd_bus_match_signal(client, &slot2, DAEMON_BUS_NAME, path,
					     "org.freedesktop.DBus.Properties", "PropertiesChanged",
					     on_changed, NULL), 0);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetStreamPolicy", "uus", 0, 5, "isolate"), 0);
	pump_until(client, &added_seen);
	ck_assert_str_eq(added_path, path);
	ck_assert_str_eq(get_string(path, DAEMON_IFACE_STREAM, "Policy"), "isolate");
	ck_assert_str_eq(get_string(path, DAEMON_IFACE_STREAM, "Source"), "runtime");
	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_STREAM, "Smmu"), 0);
	ck_assert_uint_eq(get_u32(path, DAEMON_IFACE_STREAM, "Sid"), 5);
	ck_assert_uint_eq(get_u64(path, DAEMON_IFACE_STREAM, "Faults"), 0);
	ck_assert_int_ge(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME, path,
						     DAEMON_IFACE_STREAM, "Quarantined", &err,
						     'b', &q), 0);
	ck_assert_int_eq(q, 0);

	/* A known stream that changes: PropertiesChanged, not a new object. */
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetStreamPolicy", "uus", 0, 5, "block"), 0);
	pump_until(client, &changed_seen);
	ck_assert_str_eq(get_string(path, DAEMON_IFACE_STREAM, "Policy"), "block");

	/* The ObjectManager lists it with the SMMU. */
	ck_assert_int_ge(call(client, &err, &reply, DAEMON_OBJECT_PATH,
			      "org.freedesktop.DBus.ObjectManager", "GetManagedObjects", NULL), 0);
	{
		const char *p;
		bool s = false, m = false;

		ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "{oa{sa{sv}}}"), 0);
		while (sd_bus_message_enter_container(reply, 'e', "oa{sa{sv}}") > 0) {
			ck_assert_int_ge(sd_bus_message_read(reply, "o", &p), 0);
			s |= !strcmp(p, path);
			m |= !strcmp(p, DAEMON_OBJECT_PATH "/smmu0");
			ck_assert_int_ge(sd_bus_message_skip(reply, "a{sa{sv}}"), 0);
			ck_assert_int_ge(sd_bus_message_exit_container(reply), 0);
		}
		ck_assert_msg(s && m, "GetManagedObjects lacks the stream (%d) or the SMMU (%d)", s, m);
	}
	sd_bus_message_unref(reply);
	/* No object for a stream the daemon does not know. */
	ck_assert_int_lt(sd_bus_get_property_trivial(client, DAEMON_BUS_NAME,
						     DAEMON_OBJECT_PATH "/smmu0/stream6",
						     DAEMON_IFACE_STREAM, "Sid", &err, 'u', &q), 0);
	sd_bus_error_free(&err);
	sd_bus_slot_unref(slot);
	sd_bus_slot_unref(slot2);
}
END_TEST

static void expect_error(const char *name, int r, sd_bus_error *err)
{
	ck_assert_int_lt(r, 0);
	ck_assert_msg(sd_bus_error_has_name(err, name), "error %s (%s), want %s", err->name,
		      err->message, name);
	sd_bus_error_free(err);
}

TEST("bus", invalid_args)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	r = call(client, &err, NULL, MGR, "SetStreamPolicy", "uus", 0, 6, "bypass");
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "action"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetStreamPolicy", "uus", 7, 6, "block");
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "smmu"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetSplitPolicy", "su", "sideways", 0);
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetSplitPolicy", "su", "presplit", 0);
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "level"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "Donate", "ttu", DONATE_ADDR + 1, PAGE, 2);
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	/* The fold policy's message names the argument that is wrong. */
	r = call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "sometimes", 8, 100);
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "mode \"sometimes\""));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "eager", 0, 100);
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "compact_budget 0"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "eager", 4097, 100);
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "compact_budget 4097"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	r = call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "eager", 8, 600001);
	ck_assert_ptr_nonnull(strstr(err.message ? err.message : "", "idle_ms 600001"));
	expect_error(SD_BUS_ERROR_INVALID_ARGS, r, &err);
	/* Nothing of that changed the policy. */
	ck_assert_str_eq(get_string(MGR, "SplitPolicy"), "auto");
	ck_assert_str_eq(get_string(MGR, "FoldMode"), "lazy");
	ck_assert_uint_eq(get_u32(MGR, "CompactBudget"), 8);
	ck_assert_uint_eq(get_u32(MGR, "CompactIdleMsec"), 100);
}
END_TEST

static int split_changed;

static int on_mgr_changed(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *iface;

	if (sd_bus_message_read(m, "s", &iface) >= 0 && !strcmp(iface, DAEMON_IFACE_MANAGER))
		split_changed = 1;
	return 0;
}

TEST("bus", split_policy)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_slot *slot = NULL;

	split_changed = 0;
	ck_assert_int_ge(sd_bus_match_signal(client, &slot, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					     "org.freedesktop.DBus.Properties", "PropertiesChanged",
					     on_mgr_changed, NULL), 0);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetSplitPolicy", "su", "presplit", 2), 0);
	pump_until(client, &split_changed);
	ck_assert_str_eq(get_string(MGR, "SplitPolicy"), "presplit");
	ck_assert_uint_eq(get_u32(MGR, "PresplitLevel"), 2);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetSplitPolicy", "su", "auto", 0), 0);
	ck_assert_str_eq(get_string(MGR, "SplitPolicy"), "auto");
	ck_assert_uint_eq(get_u32(MGR, "PresplitLevel"), 0);
	sd_bus_slot_unref(slot);
}
END_TEST

static uint64_t counter(const char *want)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	const char *name;
	uint64_t v, found = UINT64_MAX;

	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetCounters", NULL), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "{st}"), 0);
	while (sd_bus_message_read(reply, "{st}", &name, &v) > 0)
		if (!strcmp(name, want))
			found = v;
	sd_bus_message_unref(reply);
	ck_assert_msg(found != UINT64_MAX, "no counter %s", want);
	return found;
}

static bool file_has(const char *path, const char *needle)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	return strstr(buf, needle);
}

/*
 * SetFoldPolicy: the properties follow with PropertiesChanged, the change
 * is kept in the state directory; and on the sim backend the daemon
 * compacts a lazy table once it has been idle, one budget a call, back to
 * what eager folding keeps.
 */
TEST("bus", fold_policy)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_slot *slot = NULL;
	char state_file[700];
	uint64_t optimum, split, calls0, end;
	const uint64_t a = DONATE_ADDR + 64 * PAGE;

	snprintf(state_file, sizeof(state_file), "%s/" DAEMON_STATE_POLICY, state_dir);
	split_changed = 0;
	ck_assert_int_ge(sd_bus_match_signal(client, &slot, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					     "org.freedesktop.DBus.Properties", "PropertiesChanged",
					     on_mgr_changed, NULL), 0);
	/* Eager folds whatever earlier tests left: the minimal table. */
	ck_assert_msg(call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "eager", 16, 250) >= 0,
		      "SetFoldPolicy: %s", err.message);
	pump_until(client, &split_changed);
	ck_assert_str_eq(get_string(MGR, "FoldMode"), "eager");
	ck_assert_uint_eq(get_u32(MGR, "CompactBudget"), 16);
	ck_assert_uint_eq(get_u32(MGR, "CompactIdleMsec"), 250);
	ck_assert_msg(file_has(state_file, "\"fold\": {\n    \"mode\": \"eager\",\n"
					   "    \"compact_budget\": 16,\n    \"idle_ms\": 250"),
		      "%s does not keep the fold policy", state_file);
	optimum = counter("table_pages");

	/* Lazy without idle compaction: the reclaimed block stays split. */
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "lazy", 1, 0), 0);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "Donate", "ttu", a, PAGE, 2), 0);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "Reclaim", "ttu", a, PAGE, 2), 0);
	split = counter("table_pages");
	ck_assert_uint_gt(split, optimum);
	ck_assert_uint_eq(counter("table_pages"), split);

	/* 10 ms idle: compacted, one table a call, back to the optimum. */
	calls0 = counter("compactions");
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "lazy", 1, 10), 0);
	for (end = test_now_usec() + TEST_WAIT_USEC;
	     counter("table_pages") != optimum && test_now_usec() < end;)
		usleep(10000);
	ck_assert_uint_eq(counter("table_pages"), optimum);
	ck_assert_uint_ge(counter("compactions") - calls0, split - optimum);

	/* Back to the defaults for the tests after this one. */
	ck_assert_int_ge(call(client, &err, NULL, MGR, "SetFoldPolicy", "suu", "lazy", 8, 100), 0);
	ck_assert_str_eq(get_string(MGR, "FoldMode"), "lazy");
	sd_bus_slot_unref(slot);
}
END_TEST

/* ---- donations ---- */

static struct {
	int seen;
	char op[16];
	uint64_t addr, len, gen;
	uint32_t owner;
} donation;

static int on_donations(sd_bus_message *m, void *userdata, sd_bus_error *e)
{
	const char *op;

	ck_assert_int_gt(sd_bus_message_enter_container(m, 'a', "(sttut)"), 0);
	while (sd_bus_message_read(m, "(sttut)", &op, &donation.addr, &donation.len,
				   &donation.owner, &donation.gen) > 0) {
		snprintf(donation.op, sizeof(donation.op), "%s", op);
		donation.seen++;
	}
	return 0;
}

TEST("bus", donate_signal)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_slot *slot = NULL;
	sd_bus_message *reply = NULL;
	uint64_t gen0 = get_u64(MGR, "Generation"), a, l;
	uint32_t owner;
	int shared;
	bool found = false;

	memset(&donation, 0, sizeof(donation));
	ck_assert_int_ge(sd_bus_match_signal(client, &slot, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
					     DAEMON_IFACE_MANAGER, "DonationEvents",
					     on_donations, NULL), 0);
	ck_assert_msg(call(client, &err, NULL, MGR, "Donate", "ttu", DONATE_ADDR, 4 * PAGE, 2) >= 0,
		      "Donate: %s", err.message);
	pump_until(client, &donation.seen);
	ck_assert_str_eq(donation.op, "donate");
	ck_assert_uint_eq(donation.addr, DONATE_ADDR);
	ck_assert_uint_eq(donation.len, 4 * PAGE);
	ck_assert_uint_eq(donation.owner, 2);
	ck_assert_uint_eq(donation.gen, gen0 + 1);
	ck_assert_uint_eq(get_u64(MGR, "Generation"), donation.gen);
	ck_assert_uint_eq(get_u64(MGR, "DonatedPages"), 4);

	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetLedger", NULL), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "(ttub)"), 0);
	while (sd_bus_message_read(reply, "(ttub)", &a, &l, &owner, &shared) > 0)
		found |= a == DONATE_ADDR && l == 4 * PAGE && owner == 2 && !shared;
	ck_assert(found);
	sd_bus_message_unref(reply);

	reply = NULL;
	found = false;
	ck_assert_int_ge(sd_bus_get_property(client, DAEMON_BUS_NAME, MGR, "LedgerTotals", &err,
					     &reply, "a(ut)"), 0);
	ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "(ut)"), 0);
	while (sd_bus_message_read(reply, "(ut)", &owner, &a) > 0)
		found |= owner == 2 && a == 4;
	ck_assert(found);
	sd_bus_message_unref(reply);

	/* Share and reclaim; the history has all of it, newest last. */
	donation.seen = 0;
	ck_assert_int_ge(call(client, &err, NULL, MGR, "Share", "tt", DONATE_ADDR + 8 * PAGE, PAGE), 0);
	pump_until(client, &donation.seen);
	ck_assert_str_eq(donation.op, "share");
	ck_assert_uint_eq(get_u64(MGR, "SharedPages"), 1);
	donation.seen = 0;
	ck_assert_int_ge(call(client, &err, NULL, MGR, "Unshare", "tt", DONATE_ADDR + 8 * PAGE, PAGE), 0);
	pump_until(client, &donation.seen);
	ck_assert_str_eq(donation.op, "unshare");
	donation.seen = 0;
	ck_assert_int_ge(call(client, &err, NULL, MGR, "Reclaim", "ttu", DONATE_ADDR, 4 * PAGE, 2), 0);
	pump_until(client, &donation.seen);
	ck_assert_str_eq(donation.op, "reclaim");
	ck_assert_uint_eq(get_u64(MGR, "DonatedPages"), 0);
	ck_assert_uint_eq(get_u64(MGR, "Generation"), gen0 + 4);

	reply = NULL;
	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetHistory", NULL), 0);
	{
		uint64_t usec, g, ha, hl, last_g = 0;
		const char *op, *last_op = "";
		uint32_t o;
		unsigned int n = 0;

		ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "(ttsttu)"), 0);
		while (sd_bus_message_read(reply, "(ttsttu)", &usec, &g, &op, &ha, &hl, &o) > 0) {
			last_op = op;
			last_g = g;
			n++;
		}
		ck_assert_uint_ge(n, 4);
		ck_assert_str_eq(last_op, "reclaim");
		ck_assert_uint_eq(last_g, gen0 + 4);
	}
	sd_bus_message_unref(reply);

	/* The daemon timed the four calls. */
	reply = NULL;
	ck_assert_int_ge(call(client, &err, &reply, MGR, "GetLatencyHistogram", NULL), 0);
	{
		uint64_t up, c, sum = 0;

		ck_assert_int_gt(sd_bus_message_enter_container(reply, 'a', "(tt)"), 0);
		while (sd_bus_message_read(reply, "(tt)", &up, &c) > 0)
			sum += c;
		ck_assert_uint_ge(sum, 4);
	}
	sd_bus_message_unref(reply);
	sd_bus_slot_unref(slot);
}
END_TEST

TEST("bus", not_in_test_mode)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	int r;

	/* The server thread sleeps in epoll: the socket orders this write. */
	d->test_mode = false;
	r = call(client, &err, NULL, MGR, "Donate", "ttu", DONATE_ADDR, PAGE, 2);
	d->test_mode = true;
	expect_error("org.pkvm.Iommu1.Error.NotInTestMode", r, &err);
}
END_TEST

TEST("bus", reload_policy)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	FILE *f = fopen(policy_path, "w");
	int r;

	ck_assert_ptr_nonnull(f);
	fprintf(f, "{ \"version\": 1, \"default_stream_action\": \"bypass\" }\n");
	fclose(f);
	r = call(client, &err, NULL, MGR, "ReloadPolicy", NULL);
	ck_assert_int_lt(r, 0);
	ck_assert_msg(sd_bus_error_has_name(&err, "org.pkvm.Iommu1.Error.InvalidPolicy"),
		      "error %s", err.name);
	ck_assert_msg(strstr(err.message, "$.") && strstr(err.message, policy_path),
		      "message names neither the path nor the JSON path: %s", err.message);
	sd_bus_error_free(&err);
	ck_assert_str_eq(get_string(MGR, "DefaultStreamAction"), "block");

	f = fopen(policy_path, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{ \"version\": 1, \"default_stream_action\": \"isolate\" }\n");
	fclose(f);
	ck_assert_msg(call(client, &err, NULL, MGR, "ReloadPolicy", NULL) >= 0, "reload: %s",
		      err.message);
	ck_assert_str_eq(get_string(MGR, "DefaultStreamAction"), "isolate");
	unlink(policy_path);
	ck_assert_int_ge(call(client, &err, NULL, MGR, "ReloadPolicy", NULL), 0);
	ck_assert_str_eq(get_string(MGR, "DefaultStreamAction"), "block");
}
END_TEST

/* ---- authorization ---- */

/* In the child, as nobody: reads work, changes are AccessDenied. */
static int unprivileged_client(void)
{
	sd_bus_error err = SD_BUS_ERROR_NULL;
	sd_bus_message *reply = NULL;
	sd_bus *bus = NULL;
	uint32_t n = 0;
	int r;

	if (setresgid(NOBODY, NOBODY, NOBODY) || setresuid(NOBODY, NOBODY, NOBODY))
		return 10;
	if (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, bus_address) < 0 ||
	    sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)
		return 11;
	if (sd_bus_get_property_trivial(bus, DAEMON_BUS_NAME, MGR, "SmmuCount", &err, 'u', &n) < 0 ||
	    n != 1)
		return 12;
	if (sd_bus_call_method(bus, DAEMON_BUS_NAME, DAEMON_OBJECT_PATH,
			       "org.freedesktop.DBus.Properties", "GetAll", &err, &reply, "s",
			       DAEMON_IFACE_MANAGER) < 0)
		return 13;
	reply = sd_bus_message_unref(reply);
	if (sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "GetCounters", &err, &reply, NULL) < 0)
	{
		fprintf(stderr, "GetCounters as nobody: %s: %s\n", err.name, err.message);
		return 14;
	}
	reply = sd_bus_message_unref(reply);
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "SetSplitPolicy", &err, NULL, "su",
			       "bbm", 0);
	if (r >= 0 || !sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED) ||
	    !strstr(err.message, "org.pkvm.iommu1.manage"))
		return 15;
	sd_bus_error_free(&err);
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "SetStreamPolicy", &err, NULL, "uus",
			       0, 9, "isolate");
	if (r >= 0 || !sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED))
		return 16;
	sd_bus_error_free(&err);
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "Donate", &err, NULL, "ttu",
			       DONATE_ADDR, PAGE, 2);
	if (r >= 0 || !sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED))
		return 17;
	sd_bus_error_free(&err);
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "ReloadPolicy", &err, NULL, NULL);
	if (r >= 0 || !sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED))
		return 18;
	sd_bus_error_free(&err);
	if (sd_bus_get_property_trivial(bus, DAEMON_BUS_NAME, MGR, "CompactBudget", &err, 'u',
					&n) < 0 || n != 8)
		return 19;
	r = sd_bus_call_method(bus, DAEMON_BUS_NAME, MGR, "SetFoldPolicy", &err, NULL, "suu",
			       "eager", 8, 100);
	if (r >= 0 || !sd_bus_error_has_name(&err, SD_BUS_ERROR_ACCESS_DENIED) ||
	    !strstr(err.message, "org.pkvm.iommu1.manage"))
		return 20;
	sd_bus_flush_close_unref(bus);
	return 0;
}

TEST("bus", unprivileged_denied)
{
	pid_t pid;
	int status;

	if (geteuid() != 0) {
		fprintf(stderr, "unprivileged_denied: skipped, needs root to become uid %d\n", NOBODY);
		return;
	}
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (!pid)
		_exit(unprivileged_client());
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "unprivileged client failed at step %d", WEXITSTATUS(status));
	/* And nothing changed. */
	ck_assert_str_eq(get_string(MGR, "SplitPolicy"), "auto");
	ck_assert_str_eq(get_string(MGR, "FoldMode"), "lazy");
	ck_assert_uint_eq(get_u64(MGR, "DonatedPages"), 0);
}
END_TEST

int main(void)
{
	int ret;

	/* One private bus and one sim daemon for every test (one sim at a time). */
	start_dbus();
	start_server();
	client = connect_bus();
	wait_for_name(client);

	ret = TEST_RUN("daemon_bus", TCASE("bus", .timeout = 60));

	sd_bus_flush_close_unref(client);
	stop_server();
	{
		char cmd[700];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			ret = EXIT_FAILURE;
	}
	return ret;
}
