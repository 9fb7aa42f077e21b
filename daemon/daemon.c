// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommud's core: backend events into the ledger (with resync after a
 * loss), policy applied all-or-nothing, runtime changes persisted, fault
 * rate limits and quarantine. D-Bus lives in bus_*.c; this file only calls
 * its bus_emit_*() hooks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
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
#include "smmu_notice.h"

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
		if (!smmu_notice(d, ev))
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

/*
 * What one stream is to become when a policy is applied: every stream the
 * daemon knows and every stream a rule names. old is the module's policy
 * before, for the rollback; rule the index in the policy's streams, or -1
 * for a stream no rule names (default_stream_action).
 */
struct stream_plan {
	uint32_t smmu, sid, policy, old;
	enum stream_source source;
	long rule;
};

struct plan {
	struct stream_plan *s;
	size_t n, cap;
};

/* A later entry for the same stream wins, as a later rule does. */
static int plan_add(struct plan *pl, uint32_t smmu, uint32_t sid, uint32_t policy,
		    enum stream_source source, long rule)
{
	for (size_t i = 0; i < pl->n; i++)
		if (pl->s[i].smmu == smmu && pl->s[i].sid == sid) {
			pl->s[i].policy = policy;
			pl->s[i].source = source;
			pl->s[i].rule = rule;
			return 0;
		}
	if (GROW_ARRAY(pl->s, pl->cap, pl->n + 1, 16) < 0)
		return -ENOMEM;
	pl->s[pl->n++] = (struct stream_plan){ smmu, sid, policy, policy, source, rule };
	return 0;
}

__attribute__((format(printf, 2, 3)))
static void apply_err(struct policy_errors *errs, const char *fmt, ...)
{
	va_list ap;

	if (!errs)
		return;
	if (errs->n == POLICY_MAX_ERRORS) {
		errs->dropped++;
		return;
	}
	va_start(ap, fmt);
	vsnprintf(errs->msg[errs->n++], POLICY_ERROR_LEN, fmt, ap);
	va_end(ap);
}

/* The runtime change of (smmu, sid): its index in d->overrides, or -1. */
static long override_of(const struct daemon *d, uint32_t smmu, uint32_t sid)
{
	for (size_t j = 0; j < d->overrides.nr_streams; j++)
		if (d->overrides.streams[j].kind == POLICY_RULE_SID &&
		    d->overrides.streams[j].smmu == smmu && d->overrides.streams[j].sid == sid)
			return (long)j;
	return -1;
}

/*
 * Where a rule of the applied policy was written: "$.streams[i]" of the
 * policy file for the first nr_file rules (merge_overrides() changes those
 * in place and appends the rest), else of the state file.
 */
static void rule_path(const struct daemon *d, const struct stream_plan *e, size_t nr_file,
		      char *buf, size_t len)
{
	long j = (size_t)e->rule < nr_file ? -1 : override_of(d, e->smmu, e->sid);

	if (j < 0)
		snprintf(buf, len, "$.streams[%ld]", e->rule);
	else
		snprintf(buf, len, "%s/%s: $.streams[%ld]", d->state_dir, DAEMON_STATE_POLICY, j);
}

/*
 * Why the module refuses a rule's stream (pkvm_core_stream_get(): -ENODEV
 * no such SMMU, -ERANGE a sid past its SIDSIZE), under the rule's JSON path.
 */
static void refused(struct daemon *d, const struct pkvm_policy *p, const struct stream_plan *e,
		    size_t nr_file, int ret, struct policy_errors *errs)
{
	struct pkvm_iommu_smmu_info si = { .size = sizeof(si), .index = e->smmu };
	const struct pkvm_stream_rule *r = &p->streams[e->rule];
	char path[POLICY_ERROR_LEN / 2], bits[48] = "";

	rule_path(d, e, nr_file, path, sizeof(path));
	if (ret == -ENODEV) {
		apply_err(errs, "%s.smmu: %u: no such SMMU (the module has %u)", path, e->smmu,
			  d->nr_smmus);
		return;
	}
	if (ret != -ERANGE) {
		apply_err(errs, "%s: smmu %u stream %u: %s", path, e->smmu, e->sid, strerror(-ret));
		return;
	}
	if (!d->backend->ops->smmu_info(d->backend, e->smmu, &si))
		snprintf(bits, sizeof(bits), " (%u StreamID bits)", si.sidsize);
	if (r->kind == POLICY_RULE_PCI)
		apply_err(errs, "%s.pci: %s is StreamID %u, outside the stream table of SMMU %u%s",
			  path, r->pci, e->sid, e->smmu, bits);
	else
		apply_err(errs, "%s.sid: %u is outside the stream table of SMMU %u%s", path,
			  e->sid, e->smmu, bits);
}

/*
 * The plan: the streams the daemon knows at default_stream_action, then
 * every rule over them; each with the module's policy now. A rule the
 * module refuses is an error naming it; a known stream it no longer
 * answers for is left out. -EINVAL when a rule was refused.
 */
static int make_plan(struct daemon *d, const struct pkvm_policy *p, size_t nr_file,
		     struct plan *pl, struct policy_errors *errs)
{
	int ret, bad = 0;

	for (size_t i = 0; i < d->nr_streams; i++) {
		ret = plan_add(pl, d->streams[i].smmu, d->streams[i].sid, p->default_action,
			       STREAM_SRC_DEFAULT, -1);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < p->nr_streams; i++) {
		const struct pkvm_stream_rule *r = &p->streams[i];
		uint32_t smmu = r->smmu, sid = r->sid;

		if (r->kind == POLICY_RULE_PCI) {
			smmu = 0;
			if (pci_sid(r->pci, &sid)) {
				syslog(LOG_NOTICE, "policy: PCI device %s not present: rule kept for later",
				       r->pci);
				continue;
			}
		}
		ret = plan_add(pl, smmu, sid, r->action,
			       override_of(d, smmu, sid) >= 0 ? STREAM_SRC_RUNTIME : STREAM_SRC_POLICY,
			       (long)i);
		if (ret)
			return ret;
	}
	for (size_t i = 0; i < pl->n; i++) {
		struct stream_plan *e = &pl->s[i];

		ret = d->backend->ops->stream_get(d->backend, e->smmu, e->sid, &e->old);
		if (!ret)
			continue;
		if (e->rule >= 0) {
			refused(d, p, e, nr_file, ret, errs);
			bad = -EINVAL;
			continue;
		}
		log_warning_errno(ret, "smmu %u stream %u: the module no longer answers for it: %m",
				  e->smmu, e->sid);
		pl->s[i--] = pl->s[--pl->n];
	}
	return bad;
}

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

/* Puts back what apply() changed: streams last first (the first nr_set), then the rest. */
static void rollback(struct daemon *d, const struct plan *pl, size_t nr_set)
{
	while (nr_set--)
		if (pl->s[nr_set].old != pl->s[nr_set].policy)
			d->backend->ops->stream_set(d->backend, pl->s[nr_set].smmu,
						    pl->s[nr_set].sid, pl->s[nr_set].old);
	d->backend->ops->split_policy(d->backend, d->policy.split.mode, d->policy.split.level);
	set_invalidation(d, d->policy.invalidation.batch_max_ops,
			 d->policy.invalidation.batch_window_us);
	set_fold(d, &d->policy);
}

/* The streams whose policy differs; *nr_set how far it got. */
static int set_streams(struct daemon *d, const struct plan *pl, size_t *nr_set)
{
	for (*nr_set = 0; *nr_set < pl->n; (*nr_set)++) {
		const struct stream_plan *e = &pl->s[*nr_set];
		int ret;

		if (e->old == e->policy)
			continue;
		ret = d->backend->ops->stream_set(d->backend, e->smmu, e->sid, e->policy);
		if (ret) {
			(*nr_set)++;	/* a failed set may have half happened: put it back too */
			return log_error_errno(ret, "policy: smmu %u stream %u: %m", e->smmu, e->sid);
		}
	}
	return 0;
}

/* Nothing failed: the daemon's view of each stream, and where its policy came from. */
static void record_streams(struct daemon *d, const struct plan *pl)
{
	for (size_t i = 0; i < pl->n; i++) {
		struct stream_state *s = daemon_stream(d, pl->s[i].smmu, pl->s[i].sid, true);

		if (!s)
			continue;
		s->policy = pl->s[i].policy;
		s->source = pl->s[i].source;
		s->quarantined = false;
		bus_emit_stream_changed(d, s);
	}
}

/*
 * p over every stream the daemon knows, all or nothing; the first nr_file
 * rules are the policy file's (for the JSON paths of errors).
 */
static int apply(struct daemon *d, const struct pkvm_policy *p, size_t nr_file,
		 struct policy_errors *errs)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	_cleanup_free_ struct stream_plan *streams = NULL;
	struct plan pl = { 0 };
	size_t nr_set = 0;
	int ret;

	/*
	 * Streams the module told of (policy events, faults) since the last
	 * turn of the loop are known too: take them first.
	 */
	ret = daemon_ingest(d);
	if (ret)
		log_warning_errno(ret, "policy: backend events not taken: %m");
	ret = d->backend->ops->info(d->backend, &info);
	if (ret)
		return ret;
	ret = make_plan(d, p, nr_file, &pl, errs);
	streams = pl.s;
	if (ret)
		return ret;
	ret = d->backend->ops->split_policy(d->backend, p->split.mode, p->split.level);
	if (ret)
		return log_error_errno(ret, "split policy %s: %m", policy_split_name(p->split.mode));
	ret = set_invalidation(d, p->invalidation.batch_max_ops, p->invalidation.batch_window_us);
	if (!ret)
		ret = set_fold(d, p);
	if (!ret)
		ret = set_streams(d, &pl, &nr_set);
	if (ret) {
		rollback(d, &pl, nr_set);
		return ret;
	}
	record_streams(d, &pl);
	return 0;
}

int daemon_apply_policy(struct daemon *d, const struct pkvm_policy *p)
{
	return apply(d, p, p->nr_streams, NULL);
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

static int persist_overrides(struct daemon *d, const struct pkvm_policy *ov)
{
	char path[4096];
	int ret;

	snprintf(path, sizeof(path), "%s/%s", d->state_dir, DAEMON_STATE_POLICY);
	ret = policy_write_atomic(ov, path);
	if (ret)
		return log_error_errno(ret, "%s: cannot persist runtime changes: %m", path);
	return 0;
}

int daemon_reload_policy(struct daemon *d, struct policy_errors *errs)
{
	_cleanup_policy_ struct pkvm_policy eff = { 0 };
	size_t nr_file = 0;
	int ret;

	policy_init_default(&eff);
	ret = policy_load_file(d->policy_path, &eff, errs);
	if (ret == -ENOENT) {
		/* No file is a valid setup: the defaults. */
		syslog(LOG_NOTICE, "%s: no policy file, using the defaults", d->policy_path);
		policy_init_default(&eff);
		ret = 0;
	}
	nr_file = eff.nr_streams;
	if (!ret)
		ret = merge_overrides(d, &eff);
	if (!ret)
		ret = apply(d, &eff, nr_file, errs);
	if (ret) {
		d->ctr.policy_errors++;
		for (size_t i = 0; errs && i < errs->n; i++)
			syslog(LOG_ERR, "%s%s%s", errs->file_named ? "" : d->policy_path,
			       errs->file_named ? "" : ": ", errs->msg[i]);
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

/*
 * A runtime change, all or nothing: edit() makes the new runtime rules
 * from a copy of the old (every allocation before the first change), the
 * state file is written with them (a full or read-only state directory
 * fails here, before anything changed), then make() changes the module,
 * and only then the daemon's overrides follow. When the module refuses,
 * the old state file is written back. Persisting after the module would
 * leave the module changed by a call reported failed; changing the module
 * and undoing it would open a window in which a stream the caller is told
 * stayed blocked reaches memory.
 */
struct runtime_change {
	int (*edit)(struct pkvm_policy *ov, const void *arg);
	int (*make)(struct daemon *d, const struct pkvm_policy *ov, const void *arg);
};

static int change_persisted(struct daemon *d, const struct runtime_change *c, const void *arg)
{
	_cleanup_policy_ struct pkvm_policy ov = { 0 };
	int ret = policy_copy(&ov, &d->overrides), r;

	if (!ret)
		ret = c->edit(&ov, arg);
	if (!ret)
		ret = persist_overrides(d, &ov);
	if (ret)
		return ret;
	ret = c->make(d, &ov, arg);
	if (ret) {
		r = persist_overrides(d, &d->overrides);
		if (r)
			log_error_errno(r, "the state file keeps a change the module refused; "
					"the next start tries it again: %m");
		return ret;
	}
	policy_free(&d->overrides);
	d->overrides = ov;
	ov = (struct pkvm_policy){ 0 };	/* d->overrides owns it now */
	return 0;
}

struct stream_change {
	uint32_t smmu, sid, policy;
};

static int edit_stream(struct pkvm_policy *ov, const void *arg)
{
	const struct stream_change *c = arg;

	return policy_set_stream(ov, c->smmu, c->sid, c->policy);
}

static int make_stream(struct daemon *d, const struct pkvm_policy *ov, const void *arg)
{
	const struct stream_change *c = arg;

	return d->backend->ops->stream_set(d->backend, c->smmu, c->sid, c->policy);
}

int daemon_set_stream_policy(struct daemon *d, uint32_t smmu, uint32_t sid, uint32_t policy)
{
	static const struct runtime_change rc = { edit_stream, make_stream };
	_cleanup_policy_ struct pkvm_policy eff = { 0 };
	const struct stream_change c = { smmu, sid, policy };
	struct stream_state *s;
	uint32_t old;
	int ret;

	if (policy != PKVM_STREAM_ISOLATE && policy != PKVM_STREAM_BLOCK)
		return -EINVAL;
	/* A stream the module refuses (-ENODEV, -ERANGE) is refused before anything is written. */
	ret = d->backend->ops->stream_get(d->backend, smmu, sid, &old);
	if (ret)
		return ret;
	/* The effective policy with the rule, allocated before the first change too. */
	ret = policy_copy(&eff, &d->policy);
	if (!ret)
		ret = edit_stream(&eff, &c);
	if (!ret)
		ret = change_persisted(d, &rc, &c);
	if (ret)
		return ret;
	policy_free(&d->policy);
	d->policy = eff;
	eff = (struct pkvm_policy){ 0 };	/* d->policy owns it now */
	s = daemon_stream(d, smmu, sid, true);
	if (s) {
		s->policy = policy;
		s->source = STREAM_SRC_RUNTIME;
		s->quarantined = false;
		s->window_faults = 0;
		bus_emit_stream_changed(d, s);
	}
	return 0;
}

static int edit_split(struct pkvm_policy *ov, const void *arg)
{
	const uint32_t *split = arg;	/* mode, level */

	ov->split.mode = split[0];
	ov->split.level = split[1];
	return 0;
}

static int make_split(struct daemon *d, const struct pkvm_policy *ov, const void *arg)
{
	return d->backend->ops->split_policy(d->backend, ov->split.mode, ov->split.level);
}

int daemon_set_split_policy(struct daemon *d, uint32_t mode, uint32_t level)
{
	static const struct runtime_change rc = { edit_split, make_split };
	int ret;

	if (mode > PKVM_SPLIT_AUTO || (mode == PKVM_SPLIT_PRESPLIT && (level < 1 || level > 3)) ||
	    (mode != PKVM_SPLIT_PRESPLIT && level))
		return -EINVAL;
	ret = change_persisted(d, &rc, (const uint32_t[]){ mode, level });
	if (ret)
		return ret;
	d->policy.split = d->overrides.split;
	BUS_EMIT_CHANGED(d, "SplitPolicy", "PresplitLevel");
	return 0;
}

static int edit_fold(struct pkvm_policy *ov, const void *arg)
{
	const uint32_t *fold = arg;	/* mode, budget, idle_ms */

	ov->fold.mode = fold[0];
	ov->fold.compact_budget = fold[1];
	ov->fold.idle_ms = fold[2];
	return 0;
}

/* set_fold() reads only the fold section of ov. */
static int make_fold(struct daemon *d, const struct pkvm_policy *ov, const void *arg)
{
	return set_fold(d, ov);
}

int daemon_set_fold_policy(struct daemon *d, uint32_t mode, uint32_t budget, uint32_t idle_ms)
{
	static const struct runtime_change rc = { edit_fold, make_fold };
	int ret;

	if (mode > PKVM_FOLD_LAZY || !budget || budget > PKVM_IOMMU_COMPACT_MAX ||
	    idle_ms > PKVM_IOMMU_FOLD_IDLE_MAX_MS)
		return -EINVAL;
	ret = change_persisted(d, &rc, (const uint32_t[]){ mode, budget, idle_ms });
	if (ret)
		return ret;
	d->policy.fold = d->overrides.fold;
	BUS_EMIT_CHANGED(d, "FoldMode", "CompactBudget", "CompactIdleMsec");
	compact_kick(d);
	return 0;
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
