// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommud's core: backend events into the ledger (with resync after a
 * loss), policy applied all-or-nothing, runtime changes persisted, fault
 * rate limits and quarantine. D-Bus lives in bus_*.c; this file only calls
 * its bus_emit_*() hooks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include <systemd/sd-daemon.h>

#include "atomic_write.h"
#include "compact.h"
#include "daemon.h"
#include "log.h"
#include "log_journal.h"
#include "macro.h"
#include "metrics_export.h"

#define BATCH_MAX 256	/* ownership events per DonationEvents signal */

static uint64_t now_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- life ---- */

/*
 * A writer killed between creating its temp file and renaming it (kill -9,
 * a crash, power loss) leaves ".policy.json.XXXXXX" behind; nothing else
 * would ever remove it. At start no writer of ours runs yet.
 */
static void clean_state_dir(const char *dir)
{
	int n = write_file_atomic_clean(dir, DAEMON_STATE_POLICY);

	if (n > 0)
		syslog(LOG_NOTICE, "%s: removed %d temp file%s an interrupted write left", dir, n,
		       n == 1 ? "" : "s");
	else if (n < 0 && n != -ENOENT)
		log_warning_errno(n, "%s: cannot look for stale temp files: %m", dir);
}

int daemon_new(struct daemon **ret, const char *policy_path, const char *state_dir)
{
	_cleanup_(daemon_freep) struct daemon *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	policy_init_default(&d->policy);
	policy_init_default(&d->overrides);
	d->ledger = ledger_new();
	if (!d->ledger)
		return -ENOMEM;
	if (policy_path && !(d->policy_path = strdup(policy_path)))
		return -ENOMEM;
	if (state_dir && !(d->state_dir = strdup(state_dir)))
		return -ENOMEM;
	if (state_dir)
		clean_state_dir(state_dir);
	*ret = TAKE_PTR(d);
	return 0;
}

struct daemon *daemon_free(struct daemon *d)
{
	if (!d)
		return NULL;
	/* What serves the state goes first: the bus, the metrics timer, the loop. */
	bus_teardown(d);
	metrics_export_free(d);
	compact_free(d);
	sd_bus_flush_close_unref(d->bus);
	sd_event_source_unref(d->backend_src);
	sd_event_source_unref(d->workload_timer);
	sd_event_unref(d->event);
	if (d->backend)
		d->backend->ops->free(d->backend);
	ledger_free(d->ledger);
	policy_free(&d->policy);
	policy_free(&d->overrides);
	free(d->streams);
	free(d->iommufd_devs);
	free(d->policy_path);
	free(d->state_dir);
	free(d);
	return NULL;
}

/* ---- streams ---- */

struct stream_state *daemon_stream(struct daemon *d, uint32_t smmu, uint32_t sid, bool create)
{
	for (size_t i = 0; i < d->nr_streams; i++)
		if (d->streams[i].smmu == smmu && d->streams[i].sid == sid)
			return &d->streams[i];
	if (!create)
		return NULL;
	if (d->nr_streams == d->cap_streams) {
		size_t cap = d->cap_streams ? d->cap_streams * 2 : 16;
		struct stream_state *s = realloc(d->streams, cap * sizeof(*s));

		if (!s)
			return NULL;
		d->streams = s;
		d->cap_streams = cap;
	}
	d->streams[d->nr_streams] = (struct stream_state){
		.smmu = smmu, .sid = sid, .policy = PKVM_STREAM_BLOCK,
		.source = STREAM_SRC_DEFAULT,
	};
	/*
	 * A stream first seen through a fault has whatever policy the backend
	 * holds for it (set before the daemon started, or by default): ask,
	 * or the quarantine would think an isolating stream already blocked.
	 */
	d->backend->ops->stream_get(d->backend, smmu, sid, &d->streams[d->nr_streams].policy);
	return &d->streams[d->nr_streams++];
}

/* ---- events ---- */

struct ingest {
	struct daemon *d;
	struct backend_event batch[BATCH_MAX];
	size_t nr;
	bool resync;
};

static void flush_batch(struct ingest *in)
{
	if (!in->nr)
		return;
	bus_emit_donations(in->d, in->batch, in->nr);
	in->nr = 0;
}

/* Whose page the device hit, when the ledger knows: the journal's PKVM_OWNER. */
static void log_fault(struct daemon *d, const struct backend_event *ev)
{
	uint32_t owner = LOG_ID_NONE;
	bool shared;

	if (ledger_owner_of(d->ledger, ev->addr, &owner, &shared) || owner == PKVM_OWNER_HOST)
		owner = LOG_ID_NONE;
	log_struct(LOG_NOTICE, &(struct log_ids){ "fault", ev->smmu, ev->sid, owner },
		   "smmu %u stream %u: fault (event %#x, %s) at %#llx%s", ev->smmu, ev->sid,
		   ev->fault_type, ev->fault_flags & 1 ? "write" : "read",
		   (unsigned long long)ev->addr,
		   owner == LOG_ID_NONE ? "" : ", a page the host gave away");
}

/*
 * N faults within T seconds switch an isolating stream to block: a device
 * that keeps hitting donated memory is misbehaving or compromised, and its
 * fault storm would drown every other record.
 */
static void count_fault(struct daemon *d, const struct backend_event *ev)
{
	const __typeof__(d->policy.fault_limit) *lim = &d->policy.fault_limit;
	struct stream_state *s = daemon_stream(d, ev->smmu, ev->sid, true);
	uint64_t now = now_usec();

	d->ctr.faults++;
	bus_emit_fault(d, ev);
	if (!s)
		return;
	s->faults++;
	if (now - s->window_start_usec > (uint64_t)lim->seconds * 1000000u) {
		s->window_start_usec = now;
		s->window_faults = 0;
	}
	/* The first fault of a window is logged: one line a stream a window. */
	if (!s->window_faults++)
		log_fault(d, ev);
	if (lim->quarantine && !s->quarantined && s->policy == PKVM_STREAM_ISOLATE &&
	    s->window_faults >= lim->faults &&
	    !d->backend->ops->stream_set(d->backend, s->smmu, s->sid, PKVM_STREAM_BLOCK)) {
		s->policy = PKVM_STREAM_BLOCK;
		s->quarantined = true;
		s->source = STREAM_SRC_QUARANTINE;
		d->ctr.quarantines++;
		log_struct(LOG_WARNING, &(struct log_ids){ "quarantine", s->smmu, s->sid,
							   LOG_ID_NONE },
			   "smmu %u stream %u: %u faults in %u s: quarantined (blocked)",
			   s->smmu, s->sid, s->window_faults, lim->seconds);
		bus_emit_quarantine(d, s);
	}
	bus_emit_stream_changed(d, s);
}

static void on_event(const struct backend_event *ev, void *userdata)
{
	struct ingest *in = userdata;
	struct daemon *d = in->d;
	int ret;

	switch (ev->kind) {
	case PKVM_IOMMU_OP_DONATE:
	case PKVM_IOMMU_OP_RECLAIM:
	case PKVM_IOMMU_OP_SHARE:
	case PKVM_IOMMU_OP_UNSHARE:
		ledger_set_time(d->ledger, now_usec());
		ret = ledger_apply(d->ledger, ev->kind, ev->addr, ev->len,
				   ev->owner, ev->generation);
		if (ret == -EALREADY)
			return;		/* already in the ledger from a dump */
		if (ret) {
			/* A gap or a contradiction: only a dump can tell the truth. */
			in->resync = true;
			return;
		}
		d->ctr.events_ingested++;
		in->batch[in->nr++] = *ev;
		if (in->nr == BATCH_MAX)
			flush_batch(in);
		return;
	case BACKEND_EV_FAULT:
		count_fault(d, ev);
		return;
	case BACKEND_EV_POLICY:
		if (ev->smmu != ~0u) {
			struct stream_state *s = daemon_stream(d, ev->smmu, ev->sid, true);

			if (s && s->policy != ev->policy) {
				s->policy = ev->policy;
				bus_emit_stream_changed(d, s);
			}
		}
		return;
	}
}

/* systemctl status shows this line; at most once a second. */
static void notify_status(struct daemon *d)
{
	static uint64_t last;
	uint64_t now = now_usec();

	if (now - last < 1000000)
		return;
	last = now;
	sd_notifyf(0, "STATUS=%llu pages donated, %llu shared, generation %llu, %llu resyncs",
		   (unsigned long long)ledger_donated_pages(d->ledger),
		   (unsigned long long)ledger_shared_pages(d->ledger),
		   (unsigned long long)ledger_generation(d->ledger),
		   (unsigned long long)d->ctr.resyncs);
}

static void ledger_changed(struct daemon *d)
{
	notify_status(d);
	BUS_EMIT_CHANGED(d, "Generation", "DonatedPages", "SharedPages", "LedgerTotals");
	compact_kick(d);	/* a change: the idle wait starts again */
}

int daemon_ingest(struct daemon *d)
{
	_cleanup_free_ struct ingest *in = calloc(1, sizeof(*in));
	int n;

	if (!in)
		return -ENOMEM;
	in->d = d;
	n = d->backend->ops->dispatch(d->backend, on_event, in);
	flush_batch(in);
	if (n == -ENOBUFS || in->resync) {
		log_struct(LOG_NOTICE, &(struct log_ids){ "resync", LOG_ID_NONE, LOG_ID_NONE,
							  LOG_ID_NONE },
			   "%s: resynchronising the ledger",
			   n == -ENOBUFS ? "events were lost" : "event stream contradicts the ledger");
		n = daemon_resync(d);
	} else if (n > 0) {
		ledger_changed(d);
	}
	return n < 0 ? n : 0;
}

int daemon_resync(struct daemon *d)
{
	_cleanup_free_ struct ledger_run *runs = NULL;
	struct ledger_diff diff;
	uint64_t gen, lost;
	size_t n = 0;
	int ret;

	ret = d->backend->ops->ledger_dump(d->backend, &runs, &n, &gen);
	if (ret)
		return ret;
	ledger_set_time(d->ledger, now_usec());
	ret = ledger_reconcile(d->ledger, runs, n, gen, &diff);
	if (ret)
		return ret;
	lost = diff.donated_added + diff.donated_removed + diff.shared_added + diff.shared_removed;
	d->ctr.resyncs++;
	d->ctr.lost_pages += lost;
	bus_emit_resync(d, gen, lost);
	ledger_changed(d);
	return 0;
}

/*
 * Is the ledger what the backend says? Takes what is waiting first, so the
 * answer is about now; *runs is the ledger's run count.
 */
int daemon_check_ledger(struct daemon *d, bool *in_sync, uint64_t *runs,
			uint64_t *generation)
{
	_cleanup_free_ struct ledger_run *dump = NULL, *mine = NULL;
	size_t n = 0, m;
	uint64_t gen;
	int ret = daemon_ingest(d);

	if (ret)
		return ret;
	ret = d->backend->ops->ledger_dump(d->backend, &dump, &n, &gen);
	if (ret)
		return ret;
	m = ledger_runs(d->ledger, NULL, 0);
	mine = calloc(m ? m : 1, sizeof(*mine));
	if (!mine)
		return -ENOMEM;
	ledger_runs(d->ledger, mine, m);
	*in_sync = gen == ledger_generation(d->ledger) && n == m;
	/* Field by field: the struct has padding that memcmp would read. */
	for (size_t i = 0; *in_sync && i < n; i++)
		*in_sync = dump[i].addr == mine[i].addr && dump[i].len == mine[i].len &&
			   dump[i].owner == mine[i].owner && dump[i].shared == mine[i].shared;
	*runs = m;
	*generation = gen;
	return 0;
}

/* ---- policy ---- */

/*
 * PCI address to StreamID: the RID (bus << 8 | devfn), which is what an
 * identity iommu-map gives (QEMU virt, most single-segment platforms).
 * Returns -ENODEV when the device is not there.
 */
static int pci_sid(const char *bdf, uint32_t *sid)
{
	_cleanup_fclose_ FILE *f = NULL;
	unsigned int dom, bus, dev, fn;
	char path[128];

	if (sscanf(bdf, "%x:%x:%x.%x", &dom, &bus, &dev, &fn) != 4)
		return -EINVAL;
	snprintf(path, sizeof(path), "/sys/bus/pci/devices/%s/vendor", bdf);
	f = fopen(path, "r");
	if (!f)
		return -ENODEV;
	*sid = bus << 8 | dev << 3 | fn;
	return 0;
}

struct undo {
	uint32_t smmu, sid, policy;
};

/*
 * A module from before invalidation batching has no such ioctl: fine as
 * long as the policy asks for none, an error when it asks for some.
 */
static int set_invalidation(struct daemon *d, uint32_t max_ops, uint32_t window_us)
{
	int ret = -ENOTTY;

	if (d->backend->ops->invalidation)
		ret = d->backend->ops->invalidation(d->backend, &max_ops, &window_us);
	if (ret == -ENOTTY && max_ops <= 1)
		return 0;
	if (ret)
		return log_error_errno(ret, "invalidation batching %u ops / %u us: %m",
				       max_ops, window_us);
	return 0;
}

/*
 * A module from before the fold ioctl folds eagerly and never compacts:
 * fine while the section is at its defaults (the file asks nothing), an
 * error when it asks for something.
 */
static int set_fold(struct daemon *d, const struct pkvm_policy *p)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .mode = p->fold.mode,
				     .compact_budget = p->fold.compact_budget,
				     .idle_ms = p->fold.idle_ms };
	int ret = -ENOTTY;

	if (d->backend->ops->fold)
		ret = d->backend->ops->fold(d->backend, &f);
	if (ret == -ENOTTY && policy_fold_is_default(p))
		return 0;
	if (ret)
		return log_error_errno(ret, "fold %s, compact budget %u, idle %u ms: %m",
				       policy_fold_name(p->fold.mode), p->fold.compact_budget,
				       p->fold.idle_ms);
	return 0;
}

/* Puts back what daemon_apply_policy() changed: streams last first, then the rest. */
static void rollback(struct daemon *d, const struct undo *undo, size_t nr_undo)
{
	while (nr_undo--)
		d->backend->ops->stream_set(d->backend, undo[nr_undo].smmu, undo[nr_undo].sid,
					    undo[nr_undo].policy);
	d->backend->ops->split_policy(d->backend, d->policy.split.mode, d->policy.split.level);
	set_invalidation(d, d->policy.invalidation.batch_max_ops,
			 d->policy.invalidation.batch_window_us);
	set_fold(d, &d->policy);
}

/* Each rule's stream, its old policy kept in undo[]; stops at the first failure. */
static int set_streams(struct daemon *d, const struct pkvm_policy *p, struct undo *undo,
		       size_t *nr_undo)
{
	for (size_t i = 0; i < p->nr_streams; i++) {
		const struct pkvm_stream_rule *r = &p->streams[i];
		uint32_t smmu = r->smmu, sid = r->sid, old;
		int ret;

		if (r->kind == POLICY_RULE_PCI) {
			smmu = 0;
			if (pci_sid(r->pci, &sid)) {
				syslog(LOG_NOTICE, "policy: PCI device %s not present: rule kept for later",
				       r->pci);
				continue;
			}
		}
		ret = d->backend->ops->stream_get(d->backend, smmu, sid, &old);
		if (!ret)
			ret = d->backend->ops->stream_set(d->backend, smmu, sid, r->action);
		if (ret)
			return log_error_errno(ret, "policy: smmu %u stream %u: %m", smmu, sid);
		undo[(*nr_undo)++] = (struct undo){ smmu, sid, old };
	}
	return 0;
}

/* Nothing failed: record where each stream's policy came from. */
static void record_sources(struct daemon *d, const struct undo *undo, size_t nr_undo)
{
	for (size_t i = 0; i < nr_undo; i++) {
		struct stream_state *s = daemon_stream(d, undo[i].smmu, undo[i].sid, true);
		bool runtime = false;

		for (size_t j = 0; j < d->overrides.nr_streams; j++)
			runtime |= d->overrides.streams[j].kind == POLICY_RULE_SID &&
				   d->overrides.streams[j].smmu == undo[i].smmu &&
				   d->overrides.streams[j].sid == undo[i].sid;
		if (!s)
			continue;
		d->backend->ops->stream_get(d->backend, s->smmu, s->sid, &s->policy);
		s->source = runtime ? STREAM_SRC_RUNTIME : STREAM_SRC_POLICY;
		s->quarantined = false;
		bus_emit_stream_changed(d, s);
	}
}

/* Every stream the policy names, resolved; what it does with streams it does not name. */
int daemon_apply_policy(struct daemon *d, const struct pkvm_policy *p)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	_cleanup_free_ struct undo *undo = calloc(p->nr_streams + 1, sizeof(*undo));
	size_t nr_undo = 0;
	int ret;

	if (!undo)
		return -ENOMEM;
	ret = d->backend->ops->info(d->backend, &info);
	if (ret)
		return ret;
	ret = d->backend->ops->split_policy(d->backend, p->split.mode, p->split.level);
	if (ret)
		return log_error_errno(ret, "split policy %s: %m", policy_split_name(p->split.mode));
	ret = set_invalidation(d, p->invalidation.batch_max_ops, p->invalidation.batch_window_us);
	if (!ret)
		ret = set_fold(d, p);
	if (!ret)
		ret = set_streams(d, p, undo, &nr_undo);
	if (ret) {
		rollback(d, undo, nr_undo);
		return ret;
	}
	record_sources(d, undo, nr_undo);
	return 0;
}

/* effective = file, then every runtime override over it */
static int merge_overrides(struct daemon *d, struct pkvm_policy *eff)
{
	for (size_t i = 0; i < d->overrides.nr_streams; i++) {
		const struct pkvm_stream_rule *r = &d->overrides.streams[i];
		int ret = policy_set_stream(eff, r->smmu, r->sid, r->action);

		if (ret)
			return ret;
	}
	if (d->overrides.split.mode != PKVM_SPLIT_AUTO)
		eff->split = d->overrides.split;
	if (!policy_fold_is_default(&d->overrides))
		eff->fold = d->overrides.fold;
	return 0;
}

static int persist_overrides(struct daemon *d)
{
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, DAEMON_STATE_POLICY);
	ret = policy_write_atomic(&d->overrides, path);
	if (ret)
		return log_error_errno(ret, "%s: cannot persist runtime changes: %m", path);
	return 0;
}

int daemon_reload_policy(struct daemon *d, struct policy_errors *errs)
{
	_cleanup_policy_ struct pkvm_policy eff = { 0 };
	int ret;

	policy_init_default(&eff);
	ret = policy_load_file(d->policy_path, &eff, errs);
	if (ret == -ENOENT) {
		/* No file is a valid setup: the defaults. */
		syslog(LOG_NOTICE, "%s: no policy file, using the defaults", d->policy_path);
		policy_init_default(&eff);
		ret = 0;
	}
	if (!ret)
		ret = merge_overrides(d, &eff);
	if (!ret)
		ret = daemon_apply_policy(d, &eff);
	if (ret) {
		d->ctr.policy_errors++;
		for (size_t i = 0; errs && i < errs->n; i++)
			syslog(LOG_ERR, "%s: %s", d->policy_path, errs->msg[i]);
		return log_error_errno(ret, "%s: not applied (%m), the previous policy stays",
				       d->policy_path);
	}
	policy_free(&d->policy);
	d->policy = eff;
	eff = (struct pkvm_policy){ 0 };	/* d->policy owns it now */
	d->ctr.policy_reloads++;
	BUS_EMIT_CHANGED(d, "SplitPolicy", "PresplitLevel", "DefaultStreamAction",
			 "InvalidationBatchMaxOps", "InvalidationBatchWindowUsec",
			 "FoldMode", "CompactBudget", "CompactIdleMsec");
	metrics_export_update(d);	/* metrics.path or interval may have changed */
	compact_kick(d);		/* so may the fold section */
	return 0;
}

int daemon_set_stream_policy(struct daemon *d, uint32_t smmu, uint32_t sid, uint32_t policy)
{
	struct stream_state *s;
	int ret;

	if (policy != PKVM_STREAM_ISOLATE && policy != PKVM_STREAM_BLOCK)
		return -EINVAL;
	ret = d->backend->ops->stream_set(d->backend, smmu, sid, policy);
	if (ret)
		return ret;
	s = daemon_stream(d, smmu, sid, true);
	if (s) {
		s->policy = policy;
		s->source = STREAM_SRC_RUNTIME;
		s->quarantined = false;
		s->window_faults = 0;
	}
	ret = policy_set_stream(&d->overrides, smmu, sid, policy);
	if (!ret)
		ret = policy_set_stream(&d->policy, smmu, sid, policy);
	if (!ret)
		ret = persist_overrides(d);
	if (s)
		bus_emit_stream_changed(d, s);
	return ret;
}

int daemon_set_split_policy(struct daemon *d, uint32_t mode, uint32_t level)
{
	int ret;

	if (mode > PKVM_SPLIT_AUTO || (mode == PKVM_SPLIT_PRESPLIT && (level < 1 || level > 3)) ||
	    (mode != PKVM_SPLIT_PRESPLIT && level))
		return -EINVAL;
	ret = d->backend->ops->split_policy(d->backend, mode, level);
	if (ret)
		return ret;
	d->policy.split.mode = mode;
	d->policy.split.level = level;
	d->overrides.split = d->policy.split;
	ret = persist_overrides(d);
	BUS_EMIT_CHANGED(d, "SplitPolicy", "PresplitLevel");
	return ret;
}

int daemon_set_fold_policy(struct daemon *d, uint32_t mode, uint32_t budget, uint32_t idle_ms)
{
	_cleanup_policy_ struct pkvm_policy want = { 0 };
	int ret;

	if (mode > PKVM_FOLD_LAZY || !budget || budget > PKVM_IOMMU_COMPACT_MAX ||
	    idle_ms > PKVM_IOMMU_FOLD_IDLE_MAX_MS)
		return -EINVAL;
	/* Only the section matters to set_fold(): no copy of the rules. */
	policy_init_default(&want);
	want.fold.mode = mode;
	want.fold.compact_budget = budget;
	want.fold.idle_ms = idle_ms;
	ret = set_fold(d, &want);
	if (ret)
		return ret;
	d->policy.fold = want.fold;
	d->overrides.fold = want.fold;
	ret = persist_overrides(d);
	BUS_EMIT_CHANGED(d, "FoldMode", "CompactBudget", "CompactIdleMsec");
	compact_kick(d);
	return ret;
}

int daemon_range(struct daemon *d, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len, uint32_t owner)
{
	uint64_t t0, dt;
	unsigned int b = 0;
	int ret;

	if (!d->test_mode)
		return -EOPNOTSUPP;
	t0 = now_ns();
	ret = d->backend->ops->range(d->backend, op, addr, len, owner);
	dt = now_ns() - t0;
	while (b + 1 < DAEMON_LATENCY_BUCKETS && dt >= (1ull << (b + 10)))
		b++;
	d->ctr.latency[b]++;
	d->ctr.latency_sum_ns += dt;
	return ret;
}

/* ---- counters ---- */

/* Durations stay in ns here (GetCounters is integers); metrics.c makes seconds. */
static const char *const stat_names[PKVM_IOMMU_STAT_NR] = {
	[PKVM_IOMMU_STAT_DONATE] = "donate",
	[PKVM_IOMMU_STAT_RECLAIM] = "reclaim",
	[PKVM_IOMMU_STAT_SHARE] = "share",
	[PKVM_IOMMU_STAT_UNSHARE] = "unshare",
	[PKVM_IOMMU_STAT_ERRORS] = "errors",
	[PKVM_IOMMU_STAT_DESC_WRITES] = "desc_writes",
	[PKVM_IOMMU_STAT_TLBI_RANGES] = "tlbi_ranges",
	[PKVM_IOMMU_STAT_TLBI_FULL] = "tlbi_full",
	[PKVM_IOMMU_STAT_SYNCS] = "syncs",
	[PKVM_IOMMU_STAT_SPLITS] = "splits",
	[PKVM_IOMMU_STAT_FOLDS] = "folds",
	[PKVM_IOMMU_STAT_BBM_BREAKS] = "bbm_breaks",
	[PKVM_IOMMU_STAT_TABLE_PAGES] = "table_pages",
	[PKVM_IOMMU_STAT_POOL_FREE] = "pool_free",
	[PKVM_IOMMU_STAT_MEM_PAGES] = "mem_pages",
	[PKVM_IOMMU_STAT_SPLIT_POLICY] = NULL,	/* a property, not a counter */
	[PKVM_IOMMU_STAT_HOOK_TRANSITIONS] = "hook_transitions",
	[PKVM_IOMMU_STAT_HOOK_NS] = "hook_ns",
	[PKVM_IOMMU_STAT_HOOK_MAX_NS] = "hook_max_ns",
	[PKVM_IOMMU_STAT_SEED_NS] = "seed_ns",
	[PKVM_IOMMU_STAT_TABLE_FILLS] = "table_fills",
	[PKVM_IOMMU_STAT_COMPACTIONS] = "compactions",
	[PKVM_IOMMU_STAT_COMPACT_FOLDS] = "compact_folds",
	[PKVM_IOMMU_STAT_PRESSURE_RELIEFS] = "pressure_reliefs",
	[PKVM_IOMMU_STAT_FOLD_MODE] = NULL,	/* a property, not a counter */
};

int daemon_for_each_counter(struct daemon *d, daemon_counter_fn fn, void *arg)
{
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	const struct { const char *name; uint64_t v; } own[] = {
		{ "events_ingested", d->ctr.events_ingested },
		{ "faults", d->ctr.faults },
		{ "resyncs", d->ctr.resyncs },
		{ "lost_pages", d->ctr.lost_pages },
		{ "quarantines", d->ctr.quarantines },
		{ "policy_reloads", d->ctr.policy_reloads },
		{ "policy_errors", d->ctr.policy_errors },
		{ "metrics_errors", d->ctr.metrics_errors },
	};
	int ret = d->backend->ops->stats(d->backend, &st);

	if (ret)
		return ret;
	for (uint32_t i = 0; i < PKVM_IOMMU_STAT_NR && i < st.nr; i++) {
		if (stat_names[i] && (ret = fn(stat_names[i], st.counter[i], arg)))
			return ret;
	}
	for (size_t i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		if ((ret = fn(own[i].name, own[i].v, arg)))
			return ret;
	return 0;
}
