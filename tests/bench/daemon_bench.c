// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommud-bench: how fast the daemon's ledger takes backend events
 * (simulation backend, churn workload), and how long a D-Bus GetAll of the
 * Manager takes against a running pkvm-iommud on a private bus.
 *
 *   pkvm-iommud-bench [--json] [--events N] [--calls N] [--daemon PATH]
 *                     [--ctl PATH [--ctl-runs N]]
 *
 * --ctl also times `pkvm-iommuctl status` against the same daemon (fork,
 * exec, wait: what a person waits for; the goal is under 20 ms).
 *   pkvm-iommud-bench --backend kernel [--json] [--events N]
 *
 * --backend kernel (daemon_bench_kernel.c) measures the ingest of the daemon's
 * core on /dev/pkvm-iommu instead, and nothing else (the VM daemon test runs it).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <systemd/sd-bus.h>
#include <time.h>
#include <unistd.h>

#include "backend_sim.h"
#include "daemon_bench_kernel.h"
#include "ledger.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

struct ingest {
	struct ledger *l;
	uint64_t applied, refused;
};

static void apply(const struct backend_event *ev, void *arg)
{
	struct ingest *in = arg;

	if (ev->kind >= PKVM_IOMMU_OP_NR)
		return;
	if (ledger_apply(in->l, ev->kind, ev->addr, ev->len, ev->owner, ev->generation))
		in->refused++;
	else
		in->applied++;
}

/* Events into the ledger: only dispatch + ledger_apply are timed. */
static int bench_ingest(uint64_t target, double *seconds, uint64_t *events, double *sim_s)
{
	struct backend_sim_options o;
	struct ingest in = { 0 };
	struct backend *b;
	struct ledger_run *runs = NULL;
	uint64_t gen;
	size_t n;
	int ret;

	backend_sim_default_options(&o);
	o.queue_size = 1u << 20;
	ret = backend_sim_open(&b, &o);
	if (ret)
		return ret;
	in.l = ledger_new();
	ret = b->ops->ledger_dump(b, &runs, &n, &gen);
	if (!ret)
		ret = ledger_reconcile(in.l, runs, n, gen, NULL);
	free(runs);
	*seconds = *sim_s = 0;
	while (!ret && in.applied < target) {
		double t0 = now(), t1;
		int got;

		backend_sim_step(b, SIM_WORKLOAD_CHURN, 100000);
		t1 = now();
		got = b->ops->dispatch(b, apply, &in);
		*sim_s += t1 - t0;
		*seconds += now() - t1;
		if (got < 0)
			ret = got;
	}
	*events = in.applied;
	if (!ret && in.refused)
		ret = -EBADMSG;	/* the ledger disagreed with the backend */
	ledger_free(in.l);
	b->ops->free(b);
	return ret;
}

static pid_t spawn(char *const argv[], const char *log)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (!freopen(log, "a", stdout) || !freopen(log, "a", stderr))
			_exit(126);
		execvp(argv[0], argv);
		_exit(127);
	}
	return pid;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* --ctl: pkvm-iommuctl status, timed inside bench_getall() against its daemon. */
#define CTL_GOAL_MS 20.0
static const char *ctl_path;
static unsigned int ctl_runs = 200;
static double *ctl_lat;

/* Wall time of `pkvm-iommuctl --bus=... status`, output to /dev/null; sorted. */
static int bench_ctl_status(const char *bus_arg)
{
	char *argv[] = { (char *)ctl_path, (char *)bus_arg, "status", NULL };

	for (unsigned int i = 0; i < ctl_runs; i++) {
		double t0 = now();
		int st;
		pid_t pid = fork();

		if (pid < 0)
			return -errno;
		if (pid == 0) {
			if (!freopen("/dev/null", "w", stdout))
				_exit(126);
			execv(ctl_path, argv);
			_exit(127);
		}
		if (waitpid(pid, &st, 0) < 0)
			return -errno;
		ctl_lat[i] = now() - t0;
		if (!WIFEXITED(st) || WEXITSTATUS(st)) {
			fprintf(stderr, "pkvm-iommud-bench: %s status: exit status %d\n", ctl_path,
				WIFEXITED(st) ? WEXITSTATUS(st) : -1);
			return -EPROTO;
		}
	}
	qsort(ctl_lat, ctl_runs, sizeof(*ctl_lat), cmp_double);
	return 0;
}

/* GetAll of the Manager against a real daemon; latencies sorted into lat[]. */
static int bench_getall(const char *daemon, unsigned int calls, double *lat)
{
	char dir[] = "/tmp/pkvm-iommud-bench.XXXXXX", conf[256], addr[300], log[256];
	char bus_arg[320];
	pid_t bus_pid, d_pid;
	sd_bus *bus = NULL;
	FILE *f;
	int ret = -ETIMEDOUT;

	if (!mkdtemp(dir))
		return -errno;
	snprintf(conf, sizeof(conf), "%s/bus.conf", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	snprintf(addr, sizeof(addr), "unix:path=%s/bus", dir);
	snprintf(bus_arg, sizeof(bus_arg), "--bus=%s", addr);
	f = fopen(conf, "w");
	if (!f)
		return -errno;
	fprintf(f, "<busconfig><type>session</type><listen>%s</listen><auth>EXTERNAL</auth>"
		"<policy context=\"default\"><allow user=\"*\"/><allow own=\"*\"/>"
		"<allow send_destination=\"*\"/><allow receive_sender=\"*\"/></policy>"
		"</busconfig>\n", addr);
	fclose(f);
	{
		char cfg_arg[300];
		char *bargv[] = { "dbus-daemon", cfg_arg, "--nofork", "--nopidfile", NULL };

		snprintf(cfg_arg, sizeof(cfg_arg), "--config-file=%s", conf);
		bus_pid = spawn(bargv, log);
	}
	{
		char state[300], policy[300];
		char *dargv[] = { (char *)daemon, "--backend=sim", bus_arg, policy, state, NULL };
		char sock[300];
		struct stat st;

		snprintf(state, sizeof(state), "--state-dir=%s", dir);
		snprintf(policy, sizeof(policy), "--policy=%s/none.json", dir);
		/* The bus's socket first (up to 30 s), not a guessed delay. */
		snprintf(sock, sizeof(sock), "%s/bus", dir);
		for (int i = 0; i < 300 && stat(sock, &st); i++)
			usleep(100000);
		d_pid = spawn(dargv, log);
	}
	/* Wait for the daemon's name (up to 30 s). */
	for (int i = 0; i < 300 && ret; i++) {
		usleep(100000);
		if (!bus && (sd_bus_new(&bus) < 0 || sd_bus_set_address(bus, addr) < 0 ||
			     sd_bus_set_bus_client(bus, 1) < 0 || sd_bus_start(bus) < 0)) {
			sd_bus_unref(bus);
			bus = NULL;
			continue;
		}
		if (bus && sd_bus_call_method(bus, "org.pkvm.Iommu1", "/org/pkvm/Iommu1",
					      "org.freedesktop.DBus.Peer", "Ping", NULL, NULL, "") >= 0)
			ret = 0;
	}
	for (unsigned int i = 0; !ret && i < calls; i++) {
		sd_bus_message *reply = NULL;
		double t0 = now();

		ret = sd_bus_call_method(bus, "org.pkvm.Iommu1", "/org/pkvm/Iommu1",
					 "org.freedesktop.DBus.Properties", "GetAll", NULL,
					 &reply, "s", "org.pkvm.Iommu1.Manager");
		lat[i] = now() - t0;
		sd_bus_message_unref(reply);
		ret = ret < 0 ? ret : 0;
	}
	if (!ret && ctl_path)
		ret = bench_ctl_status(bus_arg);
	sd_bus_flush_close_unref(bus);
	kill(d_pid, SIGTERM);
	waitpid(d_pid, NULL, 0);
	kill(bus_pid, SIGTERM);
	waitpid(bus_pid, NULL, 0);
	if (!ret)
		qsort(lat, calls, sizeof(*lat), cmp_double);
	else
		fprintf(stderr, "pkvm-iommud-bench: GetAll: %s (log in %s)\n", strerror(-ret), log);
	return ret;
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "events", required_argument, NULL, 'e' },
		{ "calls", required_argument, NULL, 'c' },
		{ "daemon", required_argument, NULL, 'd' },
		{ "ctl", required_argument, NULL, 'C' },
		{ "ctl-runs", required_argument, NULL, 'R' },
		{ "backend", required_argument, NULL, 'b' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t target = 1000000, events = 0;
	unsigned int calls = 2000;
	const char *daemon = "pkvm-iommud";
	double secs, sim_s, *lat;
	bool json = false, kernel = false, events_set = false;
	int c, ret;

	while ((c = getopt_long(argc, argv, "je:c:d:b:h", lo, NULL)) != -1) {
		switch (c) {
		case 'j': json = true; break;
		case 'e': target = strtoull(optarg, NULL, 0); events_set = true; break;
		case 'c': calls = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'd': daemon = optarg; break;
		case 'C': ctl_path = optarg; break;
		case 'R': ctl_runs = (unsigned int)strtoul(optarg, NULL, 0); break;
		case 'b':
			if (strcmp(optarg, "sim") && strcmp(optarg, "kernel")) {
				fprintf(stderr, "pkvm-iommud-bench: --backend %s: not 'sim' or 'kernel'\n",
					optarg);
				return 2;
			}
			kernel = !strcmp(optarg, "kernel");
			break;
		case 'h':
			printf("Usage: pkvm-iommud-bench [--json] [--events N] [--calls N] [--daemon PATH]\n"
			       "                         [--ctl PATH [--ctl-runs N]]\n"
			       "Ledger ingest rate on the simulation backend, and D-Bus GetAll latency\n"
			       "of pkvm-iommud on a private bus; with --ctl, the wall time of N runs\n"
			       "(default 200) of `pkvm-iommuctl status` against it.\n"
			       "   or: pkvm-iommud-bench --backend kernel [--json] [--events N]\n"
			       "Ingest rate of the daemon's core on /dev/pkvm-iommu (pkvm_iommu.ko, root):\n"
			       "N test-mode donate/reclaim ioctls (even, default %u), ledger checked\n"
			       "against the kernel's dump.\n", KERNEL_BENCH_EVENTS);
			return 0;
		default:
			return 2;
		}
	}
	if (!target || !calls || !ctl_runs) {
		fprintf(stderr, "pkvm-iommud-bench: --events, --calls and --ctl-runs must be positive\n");
		return 2;
	}
	if (kernel)
		return bench_kernel_main(events_set ? target : KERNEL_BENCH_EVENTS, json);
	ret = bench_ingest(target, &secs, &events, &sim_s);
	if (ret) {
		fprintf(stderr, "pkvm-iommud-bench: ingest: %s\n", strerror(-ret));
		return 1;
	}
	lat = calloc(calls, sizeof(*lat));
	ctl_lat = calloc(ctl_runs, sizeof(*ctl_lat));
	if (!lat || !ctl_lat)
		return 1;
	ret = bench_getall(daemon, calls, lat);
	if (ret)
		return 1;
	if (json) {
		printf("{\"workload\":\"ingest-sim\",\"ops\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"ops_per_s\":%.0f,\"sim_ops_seconds\":%.6f}\n",
		       events, secs, (double)events / secs, sim_s);
		printf("{\"workload\":\"dbus-getall\",\"ops\":%u,\"p50_us\":%.1f,"
		       "\"p99_us\":%.1f,\"max_us\":%.1f}\n", calls, lat[calls / 2] * 1e6,
		       lat[calls * 99 / 100] * 1e6, lat[calls - 1] * 1e6);
		if (ctl_path)
			printf("{\"workload\":\"ctl-status\",\"ops\":%u,\"p50_ms\":%.2f,"
			       "\"p99_ms\":%.2f,\"max_ms\":%.2f,\"goal_ms\":%.0f}\n", ctl_runs,
			       ctl_lat[ctl_runs / 2] * 1e3, ctl_lat[ctl_runs * 99 / 100] * 1e3,
			       ctl_lat[ctl_runs - 1] * 1e3, CTL_GOAL_MS);
	} else {
		printf("%-14s %10s %10s %12s\n", "workload", "ops", "seconds", "ops/s");
		printf("%-14s %10" PRIu64 " %10.4f %12.0f\n", "ingest-sim", events, secs,
		       (double)events / secs);
		printf("%-14s %10s %10s %12s\n", "", "calls", "p50 us", "p99 us / max");
		printf("%-14s %10u %10.1f %7.1f / %.1f\n", "dbus-getall", calls,
		       lat[calls / 2] * 1e6, lat[calls * 99 / 100] * 1e6, lat[calls - 1] * 1e6);
		if (ctl_path) {
			double p99 = ctl_lat[ctl_runs * 99 / 100] * 1e3;

			printf("%-14s %10s %10s %12s\n", "", "runs", "p50 ms", "p99 ms / goal");
			printf("%-14s %10u %10.2f %7.2f / %.0f %s\n", "ctl-status", ctl_runs,
			       ctl_lat[ctl_runs / 2] * 1e3, p99, CTL_GOAL_MS,
			       p99 < CTL_GOAL_MS ? "(met)" : "(missed)");
		}
	}
	free(ctl_lat);
	free(lat);
	return 0;
}
