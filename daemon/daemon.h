/* SPDX-License-Identifier: GPL-2.0 */
/*
 * pkvm-iommud's state and the operations the D-Bus objects call. The core
 * (daemon.c) owns the backend, the ledger and the effective policy; the bus
 * files (bus_*.c) only translate D-Bus to these calls and back, and the
 * core tells them what changed through the bus_emit_*() hooks.
 *
 * D-Bus contract: org.pkvm.Iommu1(5), its names in common/bus_names.h.
 * Errors are negative errno here; the bus maps them.
 */
#ifndef PKVM_DAEMON_H
#define PKVM_DAEMON_H

#include <stdbool.h>
#include <stdint.h>
#include <systemd/sd-bus.h>
#include <systemd/sd-event.h>

#include "backend.h"
#include "backend_sim.h"
#include "ledger.h"
#include "policy.h"

#include "bus_names.h"	/* the D-Bus contract's names, shared with the CLI */
#include "version.h"	/* PKVM_IOMMU_VERSION: Version property, metrics */

#define DAEMON_DEFAULT_POLICY	"/etc/pkvm-iommu/policy.json"
#define DAEMON_DEFAULT_STATE	"/var/lib/pkvm-iommu"
#define DAEMON_LATENCY_BUCKETS	24		/* log2 buckets of nanoseconds */

/* Where a stream's policy came from. */
enum stream_source {
	STREAM_SRC_DEFAULT,	/* default_stream_action */
	STREAM_SRC_POLICY,	/* a rule of the policy file */
	STREAM_SRC_RUNTIME,	/* SetStreamPolicy over D-Bus, persisted */
	STREAM_SRC_QUARANTINE,	/* blocked for faulting too often */
};

struct stream_state {
	uint32_t smmu, sid;
	uint32_t policy;	/* enum pkvm_stream_policy */
	enum stream_source source;
	uint64_t faults;	/* all time */
	uint64_t window_start_usec;	/* fault-rate window */
	uint32_t window_faults;
	bool quarantined;
};

struct daemon_counters {
	uint64_t events_ingested;	/* backend events applied */
	uint64_t faults;
	uint64_t resyncs;
	uint64_t lost_pages;		/* ledger pages repaired by resyncs */
	uint64_t quarantines;
	uint64_t policy_reloads;
	uint64_t policy_errors;		/* reloads refused */
	uint64_t metrics_errors;	/* metrics file writes that failed */
	/* donate/reclaim latency as the daemon measured it (test-mode calls) */
	uint64_t latency[DAEMON_LATENCY_BUCKETS];	/* bucket i: < 2^(i+10) ns */
	uint64_t latency_sum_ns;	/* of every call counted in latency[] */
};

/* One VFIO device as iommufd described its SMMU (IOMMU_GET_HW_INFO). */
struct daemon_iommufd_dev {
	char name[64];		/* cdev, e.g. "vfio0" */
	uint32_t idr[6];	/* raw SMMU_IDR0..5 */
	uint32_t bbml;
	bool ril, stage2;
};

struct daemon {
	sd_event *event;
	sd_bus *bus;
	struct backend *backend;
	struct ledger *ledger;
	struct pkvm_policy policy;	/* effective: file + runtime changes */
	/*
	 * Runtime changes (SetStreamPolicy, SetSplitPolicy, SetFoldPolicy),
	 * kept in the state directory and merged over the file at start and
	 * on every reload: stream rules, split_policy when not "auto", fold
	 * when not all defaults.
	 */
	struct pkvm_policy overrides;
	char *policy_path;
	char *state_dir;
	bool test_mode;			/* Donate/Reclaim/Share/Unshare over D-Bus */
	struct stream_state *streams;
	size_t nr_streams, cap_streams;
	uint32_t nr_smmus;
	struct daemon_counters ctr;
	char iommufd_status[128];	/* "ok: N devices" or why not */
	struct daemon_iommufd_dev *iommufd_devs;	/* devices that answered */
	size_t nr_iommufd_devs;
	enum backend_sim_workload workload;
	unsigned int sim_rate;		/* workload operations per second */
	sd_event_source *backend_src;
	sd_event_source *workload_timer;
	sd_event_source *compact_timer;	/* owned by compact.c */
	void *bus_state;		/* owned by bus_*.c */
	struct metrics_export *metrics;	/* owned by metrics_export.c */
};

/* ---- life (daemon.c) ---- */
/*
 * A daemon with an empty ledger, the default policy and no runtime changes;
 * the paths are copied (NULL: none). The caller attaches the backend
 * (d->backend), and the event loop and bus as it needs them: daemon_free()
 * releases whatever is there, in the order the parts depend on each other.
 * 0 or -ENOMEM.
 */
int daemon_new(struct daemon **ret, const char *policy_path, const char *state_dir);
/* NULL-safe; returns NULL. */
struct daemon *daemon_free(struct daemon *d);
static inline void daemon_freep(struct daemon **d)
{
	daemon_free(*d);
}

/* ---- core (daemon.c) ---- */
int daemon_apply_policy(struct daemon *d, const struct pkvm_policy *p);	/* all or nothing */
int daemon_reload_policy(struct daemon *d, struct policy_errors *errs);
int daemon_set_stream_policy(struct daemon *d, uint32_t smmu, uint32_t sid, uint32_t policy);
int daemon_set_split_policy(struct daemon *d, uint32_t mode, uint32_t level);
/* -EINVAL for a value out of the section's ranges, else the backend's error. */
int daemon_set_fold_policy(struct daemon *d, uint32_t mode, uint32_t budget, uint32_t idle_ms);
int daemon_range(struct daemon *d, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len, uint32_t owner);
int daemon_resync(struct daemon *d);
/* Ledger against a fresh backend dump, after taking waiting events. */
int daemon_check_ledger(struct daemon *d, bool *in_sync, uint64_t *runs,
			uint64_t *generation);
/* Take every waiting backend event; resync when some were lost. */
int daemon_ingest(struct daemon *d);
/* Find (and with create, add) the state of a stream; NULL when absent. */
struct stream_state *daemon_stream(struct daemon *d, uint32_t smmu, uint32_t sid, bool create);
/*
 * Every counter by name, for GetCounters and the metrics file. The
 * backend's go as far as its nr: counters an older module lacks are left
 * out, not reported as 0.
 */
typedef int (*daemon_counter_fn)(const char *name, uint64_t value, void *arg);
int daemon_for_each_counter(struct daemon *d, daemon_counter_fn fn, void *arg);

/* ---- bus (bus_*.c) ---- */
int bus_setup(struct daemon *d);		/* objects, vtables, name request */
void bus_teardown(struct daemon *d);
/* Hooks the core calls; each is a no-op before bus_setup(). */
void bus_emit_donations(struct daemon *d, const struct backend_event *ev, size_t n);
void bus_emit_fault(struct daemon *d, const struct backend_event *ev);
void bus_emit_quarantine(struct daemon *d, const struct stream_state *s);
void bus_emit_resync(struct daemon *d, uint64_t generation, uint64_t lost_pages);
/* Manager properties, NULL-terminated: one PropertiesChanged for them all. */
void bus_emit_changed(struct daemon *d, const char *const *properties);
#define BUS_EMIT_CHANGED(d, ...) \
	bus_emit_changed((d), (const char *const[]){ __VA_ARGS__, NULL })
void bus_emit_stream_changed(struct daemon *d, const struct stream_state *s);

#endif /* PKVM_DAEMON_H */
