// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommud: policy, donation tracking and statistics of pkvm-iommu over
 * D-Bus (pkvm-iommud(8), org.pkvm.Iommu1(5)).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <syslog.h>
#include <systemd/sd-daemon.h>

#include "backend_kernel.h"
#include "bus_util.h"
#include "compact.h"
#include "daemon.h"
#include "iommufd.h"
#include "macro.h"
#include "metrics_export.h"
#include "policy.h"

#define VERSION "0.1.0"

struct options {
	const char *backend;
	const char *workload;
	const char *policy;
	const char *state_dir;
	const char *bus;
	const char *device;
	unsigned int sim_rate;
	bool test_mode;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: pkvm-iommud [OPTIONS]\n"
		"pkvm-iommu daemon: policy, donation ledger and statistics over D-Bus.\n\n"
		"  -b, --backend=kernel|sim    what to drive (default kernel: /dev/pkvm-iommu)\n"
		"  -w, --sim-workload=idle|churn|boot\n"
		"                              traffic the sim backend makes by itself (default idle)\n"
		"      --sim-rate=N            workload operations per second (default 200)\n"
		"  -p, --policy=FILE           policy file (default " DAEMON_DEFAULT_POLICY ")\n"
		"  -s, --state-dir=DIR         runtime changes (default $STATE_DIRECTORY or\n"
		"                              " DAEMON_DEFAULT_STATE ")\n"
		"      --bus=system|session|ADDRESS\n"
		"                              where to serve " DAEMON_BUS_NAME " (default system)\n"
		"      --device=PATH           the kernel backend's device (default " PKVM_IOMMU_DEVICE ")\n"
		"      --test-mode             allow Donate/Reclaim/Share/Unshare over D-Bus\n"
		"  -h, --help                  this text\n"
		"      --version               print the version\n");
}

static int parse_args(int argc, char **argv, struct options *o)
{
	static const struct option lo[] = {
		{ "backend", required_argument, NULL, 'b' },
		{ "sim-workload", required_argument, NULL, 'w' },
		{ "policy", required_argument, NULL, 'p' },
		{ "state-dir", required_argument, NULL, 's' },
		{ "bus", required_argument, NULL, 'B' },
		{ "device", required_argument, NULL, 'D' },
		{ "test-mode", no_argument, NULL, 'T' },
		{ "sim-rate", required_argument, NULL, 'R' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "b:w:p:s:h", lo, NULL)) != -1) {
		switch (c) {
		case 'b': o->backend = optarg; break;
		case 'w': o->workload = optarg; break;
		case 'p': o->policy = optarg; break;
		case 's': o->state_dir = optarg; break;
		case 'B': o->bus = optarg; break;
		case 'D': o->device = optarg; break;
		case 'T': o->test_mode = true; break;
		case 'R': {
			char *end;

			errno = 0;
			o->sim_rate = (unsigned int)strtoul(optarg, &end, 0);
			if (*end || end == optarg || errno || !o->sim_rate || o->sim_rate > 10000000) {
				fprintf(stderr, "pkvm-iommud: --sim-rate: '%s' is not 1..10000000\n", optarg);
				return -EINVAL;
			}
			break;
		}
		case 'h': usage(stdout); exit(0);
		case 'V': puts("pkvm-iommud " VERSION); exit(0);
		default: usage(stderr); return -EINVAL;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pkvm-iommud: unexpected argument '%s'\n", argv[optind]);
		return -EINVAL;
	}
	if (strcmp(o->backend, "kernel") && strcmp(o->backend, "sim")) {
		fprintf(stderr, "pkvm-iommud: --backend: '%s' is not 'kernel' or 'sim'\n", o->backend);
		return -EINVAL;
	}
	return 0;
}

static int open_backend(struct daemon *d, const struct options *o)
{
	int ret;

	if (!strcmp(o->backend, "sim")) {
		struct backend_sim_options so;

		if (backend_sim_workload_parse(o->workload, &d->workload)) {
			fprintf(stderr, "pkvm-iommud: --sim-workload: '%s' is not idle, churn or boot\n",
				o->workload);
			return -EINVAL;
		}
		backend_sim_default_options(&so);
		/* Workload DMA comes from an isolating stream, as on a real host. */
		so.isolate_sids[0] = 8;
		so.nr_isolate = 1;
		ret = backend_sim_open(&d->backend, &so);
		if (ret)
			fprintf(stderr, "pkvm-iommud: simulation backend: %s\n", strerror(-ret));
		return ret;
	} else {
		struct backend_kernel_options ko = { .device = o->device };
		char err[256] = "";
		const char *hint;

		ko.errbuf = err;
		ko.errbuf_len = sizeof(err);
		ret = backend_kernel_open(&d->backend, &ko);
		if (ret) {
			hint = backend_kernel_strerror_hint(ret);
			fprintf(stderr, "pkvm-iommud: kernel backend: %s%s%s\n",
				err[0] ? err : strerror(-ret), *hint ? ": " : "", hint);
		}
		return ret;
	}
}

static int on_backend(sd_event_source *s, int fd, uint32_t revents, void *userdata)
{
	(void)s;
	(void)fd;
	(void)revents;
	daemon_ingest(userdata);
	return 0;
}

/* Ten ticks a second; each makes a tenth of the rate's operations. */
static int on_workload(sd_event_source *s, uint64_t usec, void *userdata)
{
	struct daemon *d = userdata;

	backend_sim_step(d->backend, d->workload, (d->sim_rate + 9) / 10);
	return sd_event_source_set_time(s, usec + 100 * 1000);
}

static int on_sighup(sd_event_source *s, const struct signalfd_siginfo *si, void *userdata)
{
	struct daemon *d = userdata;
	struct policy_errors errs = { 0 };

	(void)s;
	(void)si;
	sd_notify(0, "RELOADING=1");
	daemon_reload_policy(d, &errs);
	sd_notify(0, "READY=1");
	return 0;
}

static int open_bus(sd_bus **bus, const char *which)
{
	int ret;

	if (!which || !strcmp(which, "system"))
		return sd_bus_open_system(bus);
	if (!strcmp(which, "session"))
		return sd_bus_open_user(bus);
	ret = sd_bus_new(bus);
	if (ret < 0)
		return ret;
	ret = sd_bus_set_address(*bus, which);
	if (ret >= 0)
		ret = sd_bus_set_bus_client(*bus, 1);
	if (ret >= 0)
		ret = sd_bus_start(*bus);
	return ret;
}

static int load_overrides(struct daemon *d)
{
	struct policy_errors errs = { 0 };
	char path[4096];
	int ret;

	policy_init_default(&d->overrides);
	snprintf(path, sizeof(path), "%s/%s", d->state_dir, DAEMON_STATE_POLICY);
	ret = policy_load_file(path, &d->overrides, &errs);
	if (ret == -ENOENT)
		return 0;
	if (ret) {
		/* Never start on half-understood state: say so, and stop. */
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "pkvm-iommud: %s: %s\n", path, errs.msg[i]);
		return ret;
	}
	return 0;
}

/* Start-up errors go to stderr, which the unit's journal shows; returns r. */
__attribute__((format(printf, 2, 3)))
static int fail_errno(int r, const char *fmt, ...)
{
	va_list ap;

	errno = r < 0 ? -r : r;	/* for %m */
	fputs("pkvm-iommud: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return r < 0 ? r : -r;
}

/*
 * The bus and the name come first, before the state directory is cleaned,
 * the backend opened or a policy applied: a second daemon on the bus must
 * learn that it would serve nobody before it changes anything (the first
 * one's temp files, the module's streams, the metrics file). RequestName's
 * "exists" is a normal reply, so the name is asked for synchronously and
 * without queueing: sd-bus makes it -EEXIST.
 */
static int own_name(sd_bus **bus, const char *which)
{
	_cleanup_(sd_bus_creds_unrefp) sd_bus_creds *creds = NULL;
	const char *where = which ? which : "system";
	pid_t pid = 0;
	int ret;

	ret = open_bus(bus, which);
	if (ret < 0)
		return fail_errno(ret, "D-Bus (%s): %m", where);
	ret = sd_bus_request_name(*bus, DAEMON_BUS_NAME, 0);
	if (ret == -EEXIST) {
		if (sd_bus_get_name_creds(*bus, DAEMON_BUS_NAME, SD_BUS_CREDS_PID, &creds) >= 0)
			(void)sd_bus_creds_get_pid(creds, &pid);
		return fail_errno(ret, "%s is already owned on the bus %s by pid %d: another "
				  "pkvm-iommud serves it; not starting a second one (nothing was "
				  "changed)", DAEMON_BUS_NAME, where, (int)pid);
	}
	if (ret < 0)
		return fail_errno(ret, "cannot own %s on the bus %s: %m", DAEMON_BUS_NAME, where);
	return 0;
}

/*
 * Once, at start: binding a VFIO device to iommufd makes vfio-pci enable
 * (and may reset) it. The simulation never touches the host's devices.
 */
static void probe_iommufd(struct daemon *d)
{
	_cleanup_free_ struct iommufd_report *r = calloc(1, sizeof(*r));

	if (r && iommufd_probe(r, NULL, NULL) >= 0) {
		iommufd_status(r, d->iommufd_status, sizeof(d->iommufd_status));
		d->iommufd_devs = calloc(r->nr ? r->nr : 1, sizeof(*d->iommufd_devs));
		for (size_t i = 0; d->iommufd_devs && i < r->nr; i++) {
			const struct iommufd_device *v = &r->dev[i];
			struct daemon_iommufd_dev *out = &d->iommufd_devs[d->nr_iommufd_devs];

			if (v->err)
				continue;
			snprintf(out->name, sizeof(out->name), "%s", v->name);
			memcpy(out->idr, v->idr, sizeof(out->idr));
			out->bbml = v->smmu.bbml;
			out->ril = v->smmu.ril;
			out->stage2 = v->smmu.stage2;
			d->nr_iommufd_devs++;
		}
	} else
		snprintf(d->iommufd_status, sizeof(d->iommufd_status),
			 "error: %s", r ? "cannot probe /dev/iommu" : "out of memory");
	syslog(LOG_INFO, "iommufd: %s", d->iommufd_status);
}

/* The loop, its signals, the backend's events and the sim's workload timer. */
static int setup_loop(struct daemon *d, const struct options *o)
{
	sigset_t mask;
	int ret, fd;

	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	if ((ret = sd_event_default(&d->event)) < 0 ||
	    (ret = sd_event_add_signal(d->event, NULL, SIGTERM, NULL, NULL)) < 0 ||
	    (ret = sd_event_add_signal(d->event, NULL, SIGINT, NULL, NULL)) < 0 ||
	    (ret = sd_event_add_signal(d->event, NULL, SIGHUP, on_sighup, d)) < 0 ||
	    (ret = sd_event_set_watchdog(d->event, true)) < 0)
		return fail_errno(ret, "event loop: %m");
	fd = d->backend->ops->event_fd(d->backend);
	if (fd >= 0 &&
	    (ret = sd_event_add_io(d->event, &d->backend_src, fd, EPOLLIN, on_backend, d)) < 0)
		return fail_errno(ret, "event source: %m");
	if (!strcmp(o->backend, "sim") && d->workload != SIM_WORKLOAD_IDLE &&
	    (ret = sd_event_add_time_relative(d->event, &d->workload_timer, CLOCK_MONOTONIC,
					      100 * 1000, 0, on_workload, d)) < 0)
		return fail_errno(ret, "workload timer: %m");
	if (d->workload_timer)
		sd_event_source_set_enabled(d->workload_timer, SD_EVENT_ON);
	return 0;
}

/*
 * The policy path and the state directory travel on the bus as strings
 * (PolicyPath, ReloadPolicy's errors), which D-Bus requires to be UTF-8:
 * a path that is not, or that holds a control character, is refused
 * before anything starts, naming the option and showing the path escaped.
 */
static int check_path_text(const char *what, const char *path)
{
	_cleanup_free_ char *shown = policy_escape_text(path);

	if (!shown)
		return fail_errno(-ENOMEM, "%m");
	if (strcmp(shown, path)) {
		fprintf(stderr, "pkvm-iommud: %s: '%s' is not printable UTF-8; "
			"the path is sent over D-Bus, which needs UTF-8\n", what, shown);
		return -EINVAL;
	}
	return 0;
}

/* The state directory's path: the option, else systemd's first one, else the default. */
static char *state_dir_of(const struct options *o)
{
	const char *env = getenv("STATE_DIRECTORY");

	if (o->state_dir)
		return strdup(o->state_dir);
	if (env)
		return strndup(env, strcspn(env, ":"));
	return strdup(DAEMON_DEFAULT_STATE);
}

static int run(const struct options *o)
{
	_cleanup_(daemon_freep) struct daemon *d = NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_free_ char *state_dir = state_dir_of(o);
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	struct policy_errors errs = { 0 };
	int ret;

	if (!state_dir)
		return fail_errno(-ENOMEM, "%m");
	ret = check_path_text("--policy", o->policy);
	if (!ret)
		ret = check_path_text("--state-dir", state_dir);
	if (ret)
		return ret;
	ret = own_name(&bus, o->bus);
	if (ret)
		return ret;
	ret = daemon_new(&d, o->policy, state_dir);
	if (ret)
		return fail_errno(ret, "%m");
	d->bus = TAKE_PTR(bus);
	d->test_mode = o->test_mode || !strcmp(o->backend, "sim");
	d->sim_rate = o->sim_rate;

	ret = open_backend(d, o);
	if (ret)
		return ret;
	ret = d->backend->ops->info(d->backend, &info);
	if (ret)
		return fail_errno(ret, "backend info: %m");
	d->nr_smmus = info.nr_smmus;
	if (!strcmp(o->backend, "kernel"))
		probe_iommufd(d);
	else
		snprintf(d->iommufd_status, sizeof(d->iommufd_status),
			 "not probed: simulation backend");
	ret = daemon_resync(d);
	if (ret)
		return fail_errno(ret, "cannot read the ownership ledger");
	/* The first dump is start-up, not a repair. */
	d->ctr.resyncs = 0;
	d->ctr.lost_pages = 0;
	ret = load_overrides(d);
	if (!ret)
		ret = daemon_reload_policy(d, &errs);
	if (ret) {
		for (size_t i = 0; i < errs.n; i++)
			fprintf(stderr, "pkvm-iommud: %s: %s\n", d->policy_path, errs.msg[i]);
		return ret;
	}
	d->ctr.policy_reloads = 0;

	ret = setup_loop(d, o);
	if (ret)
		return ret;
	/* The policy was applied before the loop existed: start its timers now. */
	metrics_export_update(d);
	compact_kick(d);

	/* Calls that came meanwhile waited in the socket: served from here on. */
	ret = sd_bus_attach_event(d->bus, d->event, SD_EVENT_PRIORITY_NORMAL);
	if (ret >= 0)
		ret = bus_setup(d);
	if (ret < 0)
		return fail_errno(ret, "D-Bus objects: %m");

	sd_notifyf(0, "READY=1\nSTATUS=%s backend, %u SMMU(s), %llu pages donated, generation %llu",
		   d->backend->ops->name, d->nr_smmus,
		   (unsigned long long)ledger_donated_pages(d->ledger),
		   (unsigned long long)ledger_generation(d->ledger));
	syslog(LOG_INFO, "serving %s on the %s bus (%s backend)", DAEMON_BUS_NAME,
	       o->bus ? o->bus : "system", d->backend->ops->name);
	ret = sd_event_loop(d->event);
	sd_notify(0, "STOPPING=1");
	return ret;
}

int main(int argc, char **argv)
{
	struct options o = { .backend = "kernel", .workload = "idle",
			     .policy = DAEMON_DEFAULT_POLICY, .sim_rate = 200 };

	if (parse_args(argc, argv, &o))
		return 2;
	openlog("pkvm-iommud", LOG_PID | LOG_PERROR, LOG_DAEMON);
	return run(&o) < 0 ? 1 : 0;
}
