// SPDX-License-Identifier: GPL-2.0
/*
 * OpenMetrics text of pkvm-iommud's statistics (metrics.h).
 *
 * The same file must load in node_exporter's textfile collector, which
 * parses the Prometheus text format 0.0.4 (node_exporter 1.5 in bookworm).
 * What was checked against it (tests/daemon/metrics-node-exporter.sh):
 *  - "# UNIT" and "# EOF" are comments to 0.0.4 and are skipped: kept.
 *  - Counters are written the OpenMetrics way, "# TYPE foo counter" and the
 *    sample foo_total. The 0.0.4 parser ties only _bucket/_count/_sum
 *    samples to a family, so node_exporter loads foo_total as an untyped
 *    sample with its value intact (and drops foo's TYPE and HELP). The 0.0.4
 *    way ("# TYPE foo_total counter") would be invalid OpenMetrics (a
 *    counter's sample must be its family name plus _total), so valid
 *    OpenMetrics it is: the values, which are what a fleet graphs, arrive.
 *  - The OpenMetrics types info, stateset and unknown are "unknown metric
 *    type" errors to 0.0.4 and make node_exporter drop the whole file: the
 *    info family is a gauge of value 1 with labels (as node_exporter's own
 *    *_build_info), the split policy and the fold mode a gauge per mode.
 *  - HELP: 0.0.4 knows only the escapes \\ and \n there, and OpenMetrics
 *    wants a double quote escaped: help texts never contain a double quote.
 *  - Label values escape \\, \" and \n, the same in both.
 *  - No timestamps: the textfile collector refuses samples with one.
 * Lines starting with # are only TYPE/UNIT/HELP and the final EOF, as
 * OpenMetrics requires: explanations live here, not in the output.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"

#define P METRICS_PREFIX

struct counter_family {
	const char *key;	/* the GetCounters name */
	const char *name;	/* family name (a counter's sample adds _total) */
	bool counter;
	/* base unit, a suffix of name; or NULL. "seconds": the value is in ns */
	const char *unit;
	uint64_t scale;		/* value multiplier: pages to bytes */
	const char *help;
};

/*
 * Every counter daemon_for_each_counter() gives, in its order. Page counts
 * of memory become bytes, nanoseconds seconds; a count of events stays a
 * count. A total is a counter, a maximum or a one-off duration a gauge.
 */
static const struct counter_family counter_families[] = {
	{ "donate", P "donations", true, NULL, 1,
	  "Donations the hypervisor core completed." },
	{ "reclaim", P "reclaims", true, NULL, 1,
	  "Reclaims the hypervisor core completed." },
	{ "share", P "shares", true, NULL, 1,
	  "Shares the hypervisor core completed." },
	{ "unshare", P "unshares", true, NULL, 1,
	  "Unshares the hypervisor core completed." },
	{ "errors", P "operation_errors", true, NULL, 1,
	  "Ownership changes the hypervisor core refused." },
	{ "desc_writes", P "descriptor_writes", true, NULL, 1,
	  "Stage-2 descriptor stores into shadow tables the SMMU can walk." },
	{ "tlbi_ranges", P "tlbi_ranges", true, NULL, 1,
	  "Address ranges handed to the SMMU layer for TLB invalidation." },
	{ "tlbi_full", P "tlbi_full", true, NULL, 1,
	  "Whole-VMID TLB flushes handed to the SMMU layer instead of ranges." },
	{ "syncs", P "syncs", true, NULL, 1,
	  "Invalidation flushes, each one CMD_SYNC per SMMU." },
	{ "splits", P "block_splits", true, NULL, 1,
	  "Block mappings split into tables." },
	{ "folds", P "table_folds", true, NULL, 1,
	  "Tables folded back into one block or one owner's range." },
	{ "bbm_breaks", P "bbm_breaks", true, NULL, 1,
	  "Break-before-make sequences (entry invalidated, then replaced)." },
	{ "table_pages", P "table_bytes", false, "bytes", LEDGER_PAGE_SIZE,
	  "Memory of the shadow stage-2 tables in use, root included." },
	{ "pool_free", P "pool_free_bytes", false, "bytes", LEDGER_PAGE_SIZE,
	  "Free memory in the table pool." },
	{ "mem_pages", P "memory_bytes", false, "bytes", LEDGER_PAGE_SIZE,
	  "Memory the shadow stage 2 maps, all owners." },
	{ "hook_transitions", P "hook_transitions", true, NULL, 1,
	  "Ownership transitions pKVM's shadow hook committed (0 outside pKVM)." },
	{ "hook_ns", P "hook_seconds", true, "seconds", 1,
	  "Time pKVM's shadow hook spent in its transitions, prepare and commit (0 outside pKVM)." },
	{ "hook_max_ns", P "hook_max_seconds", false, "seconds", 1,
	  "Longest prepare and commit of one transition in pKVM's shadow hook (0 outside pKVM)." },
	{ "seed_ns", P "seed_seconds", false, "seconds", 1,
	  "Time INIT took to seed the shadow from pKVM's ownership (0 without a seed)." },
	{ "table_fills", P "table_fill_writes", true, NULL, 1,
	  "Entries written into split tables before they were linked (no walk could see them)." },
	{ "compactions", P "compactions", true, NULL, 1,
	  "COMPACT calls: bounded steps that fold the tables LAZY mode left split." },
	{ "compact_folds", P "compact_folds", true, NULL, 1,
	  "Tables compaction folded, pool pressure included." },
	{ "pressure_reliefs", P "pressure_reliefs", true, NULL, 1,
	  "LAZY changes that folded first because the table pool ran low." },
	{ "events_ingested", P "events_ingested", true, NULL, 1,
	  "Ownership events the daemon applied to its ledger." },
	{ "faults", P "faults", true, NULL, 1,
	  "SMMU faults the daemon received, all streams." },
	{ "resyncs", P "resyncs", true, NULL, 1,
	  "Ledger repairs from a backend dump after events were lost." },
	{ "lost_pages", P "resync_lost_pages", true, NULL, 1,
	  "Pages whose state the resyncs corrected." },
	{ "quarantines", P "quarantines", true, NULL, 1,
	  "Streams switched to block for faulting too often." },
	{ "policy_reloads", P "policy_reloads", true, NULL, 1,
	  "Policy reloads applied." },
	{ "policy_errors", P "policy_errors", true, NULL, 1,
	  "Policy reloads refused; the previous policy stayed." },
	{ "metrics_errors", P "metrics_export_errors", true, NULL, 1,
	  "Writes of the metrics file that failed." },
};

/* Durations are counted in ns everywhere (module, daemon): seconds are written. */
static bool in_ns(const struct counter_family *c)
{
	return c->unit && !strcmp(c->unit, "seconds");
}

static const struct counter_family *counter_family(const char *key)
{
	for (size_t i = 0; i < sizeof(counter_families) / sizeof(counter_families[0]); i++)
		if (!strcmp(counter_families[i].key, key))
			return &counter_families[i];
	return NULL;
}

const char *metrics_counter_sample(const char *name, uint64_t *scale, uint64_t *divisor)
{
	static char buf[128];	/* one event loop: no reentrancy */
	const struct counter_family *c = counter_family(name);

	if (!c)
		return NULL;
	if (scale)
		*scale = c->scale;
	if (divisor)
		*divisor = in_ns(c) ? 1000000000u : 1;
	snprintf(buf, sizeof(buf), "%s%s", c->name, c->counter ? "_total" : "");
	return buf;
}

/* ---- collect ---- */

struct grow {
	void **items;
	size_t *nr, cap, size;
};

static void *grow_one(struct grow *g)
{
	if (*g->nr == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 16;
		void *p = realloc(*g->items, cap * g->size);

		if (!p)
			return NULL;
		*g->items = p;
		g->cap = cap;
	}
	return (char *)*g->items + (*g->nr)++ * g->size;
}

static int add_counter(const char *name, uint64_t value, void *arg)
{
	struct metrics_counter *c = grow_one(arg);

	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->value = value;
	return 0;
}

static int add_owner(uint32_t owner, uint64_t pages, void *arg)
{
	struct metrics_owner *o = grow_one(arg);

	if (!o)
		return -ENOMEM;
	*o = (struct metrics_owner){ .owner = owner, .pages = pages };
	return 0;
}

/*
 * The SMMU's own counts, from the hyp core: they hold what the daemon
 * could have missed (events lost, a restart).
 */
static int collect_smmus(struct daemon *d, struct metrics_state *st)
{
	if (!d->nr_smmus)
		return 0;
	st->smmus = calloc(d->nr_smmus, sizeof(*st->smmus));
	if (!st->smmus)
		return -ENOMEM;
	for (uint32_t i = 0; i < d->nr_smmus; i++) {
		struct pkvm_iommu_smmu_info info = { .size = sizeof(info), .index = i };

		if (d->backend->ops->smmu_info(d->backend, i, &info))
			continue;	/* gone meanwhile: nothing to tell */
		st->smmus[st->nr_smmu_infos++] = (struct metrics_smmu){
			.index = i, .failed = info.failed, .events = info.events,
			.overflows = info.overflows, .sync_timeouts = info.sync_timeouts,
			.cmd_errors = info.cmd_errors,
		};
	}
	return 0;
}

int metrics_collect(struct daemon *d, struct metrics_state *st)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	struct grow g;
	int ret;

	*st = (struct metrics_state){ 0 };
	ret = d->backend->ops->info(d->backend, &info);
	if (ret)
		return ret;
	st->version = strdup(PKVM_IOMMU_VERSION);
	st->backend = strdup(d->backend->ops->name);
	if (!st->version || !st->backend) {
		ret = -ENOMEM;
		goto fail;
	}
	st->abi_version = info.abi_version;
	st->nr_smmus = d->nr_smmus;
	st->split = d->policy.split.mode;
	st->fold = d->policy.fold.mode;
	st->generation = ledger_generation(d->ledger);
	st->shared_pages = ledger_shared_pages(d->ledger);

	g = (struct grow){ (void **)&st->counters, &st->nr_counters, 0, sizeof(*st->counters) };
	ret = daemon_for_each_counter(d, add_counter, &g);
	if (ret)
		goto fail;
	g = (struct grow){ (void **)&st->owners, &st->nr_owners, 0, sizeof(*st->owners) };
	ret = ledger_for_each_owner(d->ledger, add_owner, &g);
	if (ret)
		goto fail;
	if (d->nr_streams) {
		st->streams = calloc(d->nr_streams, sizeof(*st->streams));
		if (!st->streams) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	for (size_t i = 0; i < d->nr_streams; i++) {
		const struct stream_state *s = &d->streams[i];

		st->streams[i] = (struct metrics_stream){
			.smmu = s->smmu, .sid = s->sid, .policy = s->policy,
			.faults = s->faults, .quarantined = s->quarantined,
		};
	}
	st->nr_streams = d->nr_streams;
	ret = collect_smmus(d, st);
	if (ret)
		goto fail;
	memcpy(st->latency, d->ctr.latency, sizeof(st->latency));
	st->latency_sum_ns = d->ctr.latency_sum_ns;
	return 0;
fail:
	metrics_state_free(st);
	return ret;
}

void metrics_state_free(struct metrics_state *st)
{
	free(st->version);
	free(st->backend);
	free(st->counters);
	free(st->owners);
	free(st->streams);
	free(st->smmus);
	*st = (struct metrics_state){ 0 };
}

/* ---- render ---- */

static void put_label_value(FILE *f, const char *s)
{
	fputc('"', f);
	for (; s && *s; s++) {
		switch (*s) {
		case '\\': fputs("\\\\", f); break;
		case '"': fputs("\\\"", f); break;
		case '\n': fputs("\\n", f); break;
		default: fputc(*s, f);
		}
	}
	fputc('"', f);
}

/* Exact decimal seconds of a count of ns: no float rounding on the way. */
static void put_seconds(FILE *f, uint64_t ns)
{
	fprintf(f, "%" PRIu64 ".%09" PRIu64, ns / 1000000000u, ns % 1000000000u);
}

/* TYPE, UNIT, HELP: the order OpenMetrics recommends. */
static void family(FILE *f, const char *name, const char *type, const char *unit,
		   const char *help)
{
	fprintf(f, "# TYPE %s %s\n", name, type);
	if (unit)
		fprintf(f, "# UNIT %s %s\n", name, unit);
	fprintf(f, "# HELP %s ", name);
	for (; *help; help++) {
		if (*help == '\\')
			fputs("\\\\", f);
		else if (*help == '\n')
			fputs("\\n", f);
		else
			fputc(*help, f);
	}
	fputc('\n', f);
}

void metrics_format_le(double v, char *buf, size_t size)
{
	char e[40];
	int prec, exp;

	if (isinf(v) && v > 0) {
		snprintf(buf, size, "+Inf");
		return;
	}
	/* Fewest significant digits that read back as v: the shortest form. */
	for (prec = 1; prec < 17; prec++) {
		snprintf(e, sizeof(e), "%.*e", prec - 1, v);
		if (strtod(e, NULL) == v)
			break;
	}
	snprintf(e, sizeof(e), "%.*e", prec - 1, v);
	exp = atoi(strchr(e, 'e') + 1);
	/* Go's %g of a shortest float: exponent form below 1e-4 and from 1e+06. */
	if (exp < -4 || exp >= 6) {
		snprintf(buf, size, "%s", e);
		return;
	}
	snprintf(buf, size, "%.*f", prec - 1 - exp > 0 ? prec - 1 - exp : 0, v);
	if (!strchr(buf, '.') && strlen(buf) + 3 <= size)
		strcat(buf, ".0");
}

static void render_info(FILE *f, const struct metrics_state *st)
{
	static const uint32_t modes[] = {
		PKVM_SPLIT_AUTO, PKVM_SPLIT_HITLESS, PKVM_SPLIT_BBM, PKVM_SPLIT_PRESPLIT,
	};

	family(f, P "daemon_info", "gauge", NULL,
	       "What pkvm-iommud runs on: its version, backend and the module ABI (always 1).");
	fputs(P "daemon_info{version=", f);
	put_label_value(f, st->version);
	fputs(",backend=", f);
	put_label_value(f, st->backend);
	fprintf(f, ",abi_version=\"%" PRIu32 "\"} 1\n", st->abi_version);

	family(f, P "smmus", "gauge", NULL, "SMMUs the backend drives.");
	fprintf(f, P "smmus %" PRIu32 "\n", st->nr_smmus);

	family(f, P "split_policy", "gauge", NULL,
	       "Split policy in force: 1 for the mode set, 0 for the others.");
	for (size_t i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		fputs(P "split_policy{mode=", f);
		put_label_value(f, policy_split_name(modes[i]));
		fprintf(f, "} %d\n", st->split == modes[i]);
	}

	family(f, P "fold_mode", "gauge", NULL,
	       "Fold mode in force: 1 for the mode set, 0 for the other.");
	for (uint32_t m = PKVM_FOLD_EAGER; m <= PKVM_FOLD_LAZY; m++) {
		fputs(P "fold_mode{mode=", f);
		put_label_value(f, policy_fold_name(m));
		fprintf(f, "} %d\n", st->fold == m);
	}

	family(f, P "ledger_generation", "gauge", NULL,
	       "Ownership generation the ledger reflects (starts again with the module).");
	fprintf(f, P "ledger_generation %" PRIu64 "\n", st->generation);
}

static void render_counters(FILE *f, const struct metrics_state *st)
{
	for (size_t i = 0; i < st->nr_counters; i++) {
		const struct metrics_counter *c = &st->counters[i];
		const struct counter_family *cf = counter_family(c->name);
		char name[128];

		if (!cf) {
			/* A counter newer than this table: its value, untold meaning. */
			snprintf(name, sizeof(name), P "%s", c->name);
			family(f, name, "gauge", NULL, "A GetCounters value without a description.");
			fprintf(f, "%s %" PRIu64 "\n", name, c->value);
			continue;
		}
		family(f, cf->name, cf->counter ? "counter" : "gauge", cf->unit, cf->help);
		fprintf(f, "%s%s ", cf->name, cf->counter ? "_total" : "");
		if (in_ns(cf))
			put_seconds(f, c->value);
		else
			fprintf(f, "%" PRIu64, c->value * cf->scale);
		fputc('\n', f);
	}
}

static void render_ledger(FILE *f, const struct metrics_state *st)
{
	family(f, P "ledger_pages", "gauge", NULL,
	       "Pages the host has given away, by owner (1 the hypervisor, 2 and up guests).");
	for (size_t i = 0; i < st->nr_owners; i++)
		fprintf(f, P "ledger_pages{owner=\"%" PRIu32 "\"} %" PRIu64 "\n",
			st->owners[i].owner, st->owners[i].pages);
	family(f, P "ledger_bytes", "gauge", "bytes",
	       "Memory the host has given away, by owner (1 the hypervisor, 2 and up guests).");
	for (size_t i = 0; i < st->nr_owners; i++)
		fprintf(f, P "ledger_bytes{owner=\"%" PRIu32 "\"} %" PRIu64 "\n",
			st->owners[i].owner, st->owners[i].pages * (uint64_t)LEDGER_PAGE_SIZE);
	family(f, P "ledger_shared_pages", "gauge", NULL, "Host pages shared with the hypervisor.");
	fprintf(f, P "ledger_shared_pages %" PRIu64 "\n", st->shared_pages);
	family(f, P "ledger_shared_bytes", "gauge", "bytes", "Host memory shared with the hypervisor.");
	fprintf(f, P "ledger_shared_bytes %" PRIu64 "\n", st->shared_pages * (uint64_t)LEDGER_PAGE_SIZE);
}

static void render_streams(FILE *f, const struct metrics_state *st)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ P "stream_faults", "counter", "SMMU faults of one stream." },
		{ P "stream_quarantined", "gauge",
		  "1 while the stream is blocked for faulting too often." },
		{ P "stream_isolated", "gauge",
		  "1 when the stream translates through the shadow stage 2, 0 when blocked." },
	};

	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		family(f, fams[k].name, fams[k].type, NULL, fams[k].help);
		for (size_t i = 0; i < st->nr_streams; i++) {
			const struct metrics_stream *s = &st->streams[i];
			uint64_t v = k == 0 ? s->faults : k == 1 ? s->quarantined :
				     s->policy == PKVM_STREAM_ISOLATE;

			fprintf(f, "%s%s{smmu=\"%" PRIu32 "\",sid=\"%" PRIu32 "\"} %" PRIu64 "\n",
				fams[k].name, k == 0 ? "_total" : "", s->smmu, s->sid, v);
		}
	}
}

static void render_smmus(FILE *f, const struct metrics_state *st)
{
	static const struct {
		const char *name, *type, *help;
	} fams[] = {
		{ P "smmu_failed", "gauge",
		  "1 once the SMMU failed closed (an invalidation it did not confirm): it aborts all DMA." },
		{ P "smmu_sync_timeouts", "counter",
		  "CMD_SYNCs the SMMU did not complete in time." },
		{ P "smmu_command_errors", "counter",
		  "Commands the SMMU refused (SMMU_GERROR.CMDQ_ERR)." },
		{ P "smmu_event_overflows", "counter",
		  "Times the SMMU's event queue overflowed and fault records were lost." },
		{ P "smmu_events", "counter", "Event records read from the SMMU's event queue." },
	};

	for (size_t k = 0; k < sizeof(fams) / sizeof(fams[0]); k++) {
		bool counter = !strcmp(fams[k].type, "counter");

		family(f, fams[k].name, fams[k].type, NULL, fams[k].help);
		for (size_t i = 0; i < st->nr_smmu_infos; i++) {
			const struct metrics_smmu *s = &st->smmus[i];
			const uint64_t v[] = { s->failed, s->sync_timeouts, s->cmd_errors,
					       s->overflows, s->events };

			fprintf(f, "%s%s{smmu=\"%" PRIu32 "\"} %" PRIu64 "\n", fams[k].name,
				counter ? "_total" : "", s->index, v[k]);
		}
	}
}

/*
 * The daemon's buckets count calls faster than 2^(i+10) ns; durations are
 * whole nanoseconds, so bucket i is exactly "at most 2^(i+10) - 1 ns", the
 * inclusive bound "le" means. The last bucket becomes +Inf.
 */
static void render_latency(FILE *f, const struct metrics_state *st)
{
	const char *name = P "range_latency_seconds";
	uint64_t cum = 0;
	char le[40];

	family(f, name, "histogram", "seconds",
	       "Latency of test-mode ownership changes as the daemon measured them.");
	for (unsigned int i = 0; i < DAEMON_LATENCY_BUCKETS; i++) {
		cum += st->latency[i];
		if (i + 1 < DAEMON_LATENCY_BUCKETS)
			metrics_format_le((double)((1ull << (i + 10)) - 1) / 1e9, le, sizeof(le));
		else
			metrics_format_le(INFINITY, le, sizeof(le));
		fprintf(f, "%s_bucket{le=\"%s\"} %" PRIu64 "\n", name, le, cum);
	}
	fprintf(f, "%s_count %" PRIu64 "\n", name, cum);
	fprintf(f, "%s_sum ", name);
	put_seconds(f, st->latency_sum_ns);
	fputc('\n', f);
}

int metrics_render(const struct metrics_state *st, FILE *f)
{
	render_info(f, st);
	render_counters(f, st);
	render_ledger(f, st);
	render_streams(f, st);
	render_smmus(f, st);
	render_latency(f, st);
	fputs("# EOF\n", f);
	return ferror(f) ? -EIO : 0;
}

int metrics_text(struct daemon *d, char **ret, size_t *len)
{
	struct metrics_state st;
	char *buf = NULL;
	size_t n = 0;
	FILE *f;
	int r;

	r = metrics_collect(d, &st);
	if (r)
		return r;
	f = open_memstream(&buf, &n);
	if (!f) {
		metrics_state_free(&st);
		return -ENOMEM;
	}
	r = metrics_render(&st, f);
	if (fclose(f) && !r)
		r = -ENOMEM;
	metrics_state_free(&st);
	if (r) {
		free(buf);
		return r;
	}
	*ret = buf;
	if (len)
		*len = n;
	return 0;
}
