/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the verbs read from pkvm-iommud, decoded from D-Bus into plain
 * structs: the Manager's properties, the SMMU and stream objects (one
 * GetManagedObjects), the counters. Strings point into the reply message
 * each struct keeps, so they live as long as the struct. Each loader
 * returns 0 or a negative errno with error set when the daemon refused.
 */
#ifndef PKVM_CLI_QUERY_H
#define PKVM_CLI_QUERY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <systemd/sd-bus.h>

#define QUERY_IDRS 6		/* SMMU_IDR0..5 */
#define QUERY_FEATURES_MAX 16

struct q_owner_total {
	uint32_t owner;
	uint64_t pages;
};

struct q_iommufd_dev {
	const char *name;
	uint32_t idr[QUERY_IDRS];
	uint32_t bbml;
	bool ril, stage2;
};

struct q_manager {
	sd_bus_message *reply;
	const char *backend, *version, *split_policy, *default_action;
	const char *iommufd_status, *policy_path, *state_dir;
	const char *fold_mode;		/* NULL: a daemon from before FoldMode */
	uint32_t abi_version, smmu_count, presplit_level;
	uint32_t batch_max_ops, batch_window_us;
	uint32_t compact_budget, compact_idle_ms;
	uint64_t generation, donated_pages, shared_pages;
	bool test_mode;
	struct q_owner_total *totals;
	size_t nr_totals;
	struct q_iommufd_dev *iommufd_devs;
	size_t nr_iommufd_devs;
};

struct q_smmu {
	uint32_t index;
	uint64_t base;
	uint32_t idr[QUERY_IDRS];
	const char *features[QUERY_FEATURES_MAX];
	size_t nr_features;
	uint32_t sid_bits, oas_bits, bbml;
	uint64_t events, overflows;
};

struct q_stream {
	uint32_t smmu, sid;
	const char *policy, *source;
	uint64_t faults;
	bool quarantined;
};

struct q_objects {
	sd_bus_message *reply;
	struct q_smmu *smmus;		/* by index */
	size_t nr_smmus;
	struct q_stream *streams;	/* by (smmu, sid) */
	size_t nr_streams;
};

struct q_counter {
	const char *name;
	uint64_t value;
};

struct q_counters {
	sd_bus_message *reply;
	struct q_counter *v;		/* in the daemon's order */
	size_t n;
};

int q_manager_load(sd_bus *bus, struct q_manager *m, sd_bus_error *error);
void q_manager_free(struct q_manager *m);

int q_objects_load(sd_bus *bus, struct q_objects *o, sd_bus_error *error);
void q_objects_free(struct q_objects *o);

int q_counters_load(sd_bus *bus, struct q_counters *c, sd_bus_error *error);
void q_counters_free(struct q_counters *c);
/* The value of a counter by name, 0 when the daemon has no such counter. */
uint64_t q_counter(const struct q_counters *c, const char *name);

/* For variables initialised to { 0 }. */
#define _cleanup_q_manager_ _cleanup_(q_manager_free)
#define _cleanup_q_objects_ _cleanup_(q_objects_free)
#define _cleanup_q_counters_ _cleanup_(q_counters_free)

#endif /* PKVM_CLI_QUERY_H */
