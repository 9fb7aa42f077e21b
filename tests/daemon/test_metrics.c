// SPDX-License-Identifier: GPL-2.0
/*
 * The OpenMetrics text of pkvm-iommud (daemon/metrics.c) and its file
 * (daemon/metrics_export.c). A hand-made state renders to known lines:
 * TYPE/UNIT/HELP, counters with _total, bytes from pages, escaped labels,
 * cumulative buckets with canonical le values, +Inf, _count, _sum and
 * "# EOF" last. Every exposition (known state and a live daemon on the sim
 * backend) passes a checker of the OpenMetrics rules this text relies on.
 * Every GetCounters name has a family, with the same value; an older
 * module's fewer counters give fewer, still valid. The file is
 * replaced by rename (new inode, no temp file left), follows the policy on
 * update, and counts failed writes.
 */
#include <check.h>
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <dirent.h>
#include <unistd.h>

#include "daemon.h"
#include "metrics.h"
#include "metrics_export.h"
#include "test_registry.h"

#define PAGE 4096ull
#define DONATE_ADDR 0x8c0000000ull	/* 1 GiB into the sim's second region */

/* ---- helpers ---- */

/* Is line (without its newline) one whole line of text? */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, line, n) && p[n] == '\n')
			return true;
	return false;
}

#define assert_line(text, ...) do { \
	char _l[512]; \
	snprintf(_l, sizeof(_l), __VA_ARGS__); \
	ck_assert_msg(has_line((text), _l), "missing line: %s", _l); \
} while (0)

/* Value of the sample "name" (with labels, as written), or -1. */
static double sample_value(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && !strcmp(s + a - b, suffix);
}

/*
 * The OpenMetrics rules this text relies on, line by line: only TYPE,
 * UNIT, HELP and a final "# EOF" start with #; each family declared once,
 * TYPE first; a UNIT is the name's suffix; samples belong to the family
 * declared last, with its type's suffix; label values escaped; HELP with
 * no double quote (node_exporter's 0.0.4 parser refuses \" there);
 * histograms cumulative, ending with +Inf, _count equal to it.
 */
static void check_exposition(const char *text)
{
	char fam[128] = "", type[900] = "", seen[4096] = " ";
	double last_bucket = -1, inf_bucket = -1;
	bool eof = false;
	const char *p = text;

	ck_assert_msg(ends_with(text, "\n# EOF\n"), "does not end with # EOF");
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[1024], name[128], rest[900];
		size_t len;

		ck_assert_ptr_nonnull(nl);
		len = (size_t)(nl - p);
		ck_assert_uint_lt(len, sizeof(line));
		memcpy(line, p, len);
		line[len] = 0;
		p = nl + 1;
		ck_assert_msg(!eof, "line after # EOF: %s", line);
		if (!strcmp(line, "# EOF")) {
			eof = true;
			continue;
		}
		if (line[0] == '#') {
			char kw[8], key[140];

			ck_assert_int_eq(sscanf(line, "# %7s %127s %899[^\n]", kw, name, rest), 3);
			ck_assert_msg(!strncmp(name, "pkvm_iommu_", 11), "name %s", name);
			if (!strcmp(kw, "TYPE")) {
				snprintf(key, sizeof(key), " %s ", name);
				ck_assert_msg(!strstr(seen, key), "family %s twice", name);
				ck_assert_uint_lt(strlen(seen) + strlen(key), sizeof(seen));
				strcat(seen, key + 1);
				ck_assert_msg(!strcmp(rest, "counter") || !strcmp(rest, "gauge") ||
					      !strcmp(rest, "histogram"), "type %s", rest);
				snprintf(fam, sizeof(fam), "%s", name);
				snprintf(type, sizeof(type), "%s", rest);
				last_bucket = inf_bucket = -1;
			} else if (!strcmp(kw, "UNIT")) {
				char suffix[904];

				ck_assert_str_eq(name, fam);
				snprintf(suffix, sizeof(suffix), "_%s", rest);
				ck_assert_msg(ends_with(name, suffix), "unit %s of %s", rest, name);
			} else {
				ck_assert_str_eq(kw, "HELP");
				ck_assert_str_eq(name, fam);
				ck_assert_ptr_null(strchr(rest, '"'));
			}
			continue;
		}
		/* a sample */
		{
			size_t nl_name = strcspn(line, "{ ");
			const char *suffix, *q = line + nl_name;
			double v;
			char *end;

			ck_assert_uint_lt(nl_name, sizeof(name));
			memcpy(name, line, nl_name);
			name[nl_name] = 0;
			ck_assert_msg(!strncmp(name, fam, strlen(fam)), "%s outside family %s", name, fam);
			suffix = name + strlen(fam);
			if (!strcmp(type, "counter"))
				ck_assert_str_eq(suffix, "_total");
			else if (!strcmp(type, "gauge"))
				ck_assert_str_eq(suffix, "");
			else
				ck_assert_msg(!strcmp(suffix, "_bucket") || !strcmp(suffix, "_count") ||
					      !strcmp(suffix, "_sum"), "histogram sample %s", name);
			if (*q == '{') {
				/* label="value" pairs, values with \\ \" \n escapes only */
				q++;
				while (*q != '}') {
					ck_assert_msg((*q >= 'a' && *q <= 'z') || *q == '_', "label in %s", line);
					while ((*q >= 'a' && *q <= 'z') || *q == '_')
						q++;
					ck_assert_int_eq(*q++, '=');
					ck_assert_int_eq(*q++, '"');
					for (; *q != '"'; q++) {
						ck_assert_int_ne(*q, 0);
						if (*q == '\\') {
							q++;
							ck_assert_msg(*q == '\\' || *q == '"' || *q == 'n',
								      "escape in %s", line);
						}
					}
					q++;
					if (*q == ',')
						q++;
				}
				q++;
			}
			ck_assert_int_eq(*q++, ' ');
			v = strtod(q, &end);
			ck_assert_msg(end != q && *end == 0, "value of %s", line);
			ck_assert_double_ge(v, 0);
			if (!strcmp(suffix, "_bucket")) {
				ck_assert_double_ge(v, last_bucket);
				ck_assert_double_lt(inf_bucket, 0);	/* +Inf is the last */
				last_bucket = v;
				if (strstr(line, "le=\"+Inf\""))
					inf_bucket = v;
			} else if (!strcmp(suffix, "_count")) {
				ck_assert_double_ge(inf_bucket, 0);
				ck_assert_double_eq(v, inf_bucket);
			}
		}
	}
	ck_assert(eof);
}

static char *render(const struct metrics_state *st)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *f = open_memstream(&buf, &n);

	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(metrics_render(st, f), 0);
	ck_assert_int_eq(fclose(f), 0);
	return buf;
}

/* ---- a known state ---- */

TEST("render", known_state)
{
	struct metrics_counter counters[] = {
		{ "donate", 7 }, { "errors", 2 }, { "table_pages", 3 }, { "pool_free", 100 },
		{ "lost_pages", 11 }, { "metrics_errors", 4 }, { "brand_new", 9 },
		{ "hook_transitions", 5 }, { "hook_ns", 2500000123ull }, { "hook_max_ns", 1500 },
		{ "seed_ns", 0 },
	};
	struct metrics_owner owners[] = { { 1, 5 }, { 7, 512 } };
	struct metrics_stream streams[] = {
		{ .smmu = 0, .sid = 8, .policy = PKVM_STREAM_BLOCK, .faults = 42, .quarantined = true },
		{ .smmu = 1, .sid = 65535, .policy = PKVM_STREAM_ISOLATE, .faults = 0 },
	};
	struct metrics_state st = {
		.version = "1.2\"3", .backend = "a\"b\\c\nd", .abi_version = 1, .nr_smmus = 2,
		.split = PKVM_SPLIT_BBM, .fold = PKVM_FOLD_LAZY, .generation = 99, .shared_pages = 6,
		.counters = counters, .nr_counters = sizeof(counters) / sizeof(counters[0]),
		.owners = owners, .nr_owners = 2, .streams = streams, .nr_streams = 2,
		.latency_sum_ns = 1234567890123ull,
	};
	char *t;

	st.latency[0] = 2;
	st.latency[3] = 5;
	st.latency[DAEMON_LATENCY_BUCKETS - 1] = 1;
	t = render(&st);
	check_exposition(t);

	/* info, escaped: backslash, double quote and newline */
	assert_line(t, "# TYPE pkvm_iommu_daemon_info gauge");
	assert_line(t, "pkvm_iommu_daemon_info{version=\"1.2\\\"3\",backend=\"a\\\"b\\\\c\\nd\","
		    "abi_version=\"1\"} 1");
	assert_line(t, "pkvm_iommu_smmus 2");
	assert_line(t, "pkvm_iommu_split_policy{mode=\"bbm\"} 1");
	assert_line(t, "pkvm_iommu_split_policy{mode=\"auto\"} 0");
	assert_line(t, "pkvm_iommu_split_policy{mode=\"hitless\"} 0");
	assert_line(t, "pkvm_iommu_split_policy{mode=\"presplit\"} 0");
	assert_line(t, "# TYPE pkvm_iommu_fold_mode gauge");
	assert_line(t, "pkvm_iommu_fold_mode{mode=\"eager\"} 0");
	assert_line(t, "pkvm_iommu_fold_mode{mode=\"lazy\"} 1");
	assert_line(t, "pkvm_iommu_ledger_generation 99");

	/* counters: TYPE on the family name, the sample with _total */
	assert_line(t, "# TYPE pkvm_iommu_donations counter");
	assert_line(t, "# HELP pkvm_iommu_donations Donations the hypervisor core completed.");
	assert_line(t, "pkvm_iommu_donations_total 7");
	ck_assert(!has_line(t, "# TYPE pkvm_iommu_donations_total counter"));
	assert_line(t, "pkvm_iommu_operation_errors_total 2");
	assert_line(t, "pkvm_iommu_resync_lost_pages_total 11");
	assert_line(t, "pkvm_iommu_metrics_export_errors_total 4");
	/* pages of memory in bytes, with their unit */
	assert_line(t, "# TYPE pkvm_iommu_table_bytes gauge");
	assert_line(t, "# UNIT pkvm_iommu_table_bytes bytes");
	assert_line(t, "pkvm_iommu_table_bytes 12288");
	assert_line(t, "pkvm_iommu_pool_free_bytes 409600");
	/* durations: ns as exact decimal seconds, a total a counter, a maximum a gauge */
	assert_line(t, "pkvm_iommu_hook_transitions_total 5");
	assert_line(t, "# TYPE pkvm_iommu_hook_seconds counter");
	assert_line(t, "# UNIT pkvm_iommu_hook_seconds seconds");
	assert_line(t, "pkvm_iommu_hook_seconds_total 2.500000123");
	assert_line(t, "# TYPE pkvm_iommu_hook_max_seconds gauge");
	assert_line(t, "# UNIT pkvm_iommu_hook_max_seconds seconds");
	assert_line(t, "pkvm_iommu_hook_max_seconds 0.000001500");
	assert_line(t, "# TYPE pkvm_iommu_seed_seconds gauge");
	assert_line(t, "pkvm_iommu_seed_seconds 0.000000000");
	/* a name the table does not know: its value as a gauge */
	assert_line(t, "# TYPE pkvm_iommu_brand_new gauge");
	assert_line(t, "pkvm_iommu_brand_new 9");

	/* ledger by owner, pages and bytes */
	assert_line(t, "pkvm_iommu_ledger_pages{owner=\"1\"} 5");
	assert_line(t, "pkvm_iommu_ledger_pages{owner=\"7\"} 512");
	assert_line(t, "# UNIT pkvm_iommu_ledger_bytes bytes");
	assert_line(t, "pkvm_iommu_ledger_bytes{owner=\"1\"} 20480");
	assert_line(t, "pkvm_iommu_ledger_bytes{owner=\"7\"} 2097152");
	assert_line(t, "pkvm_iommu_ledger_shared_pages 6");
	assert_line(t, "pkvm_iommu_ledger_shared_bytes 24576");

	/* streams */
	assert_line(t, "# TYPE pkvm_iommu_stream_faults counter");
	assert_line(t, "pkvm_iommu_stream_faults_total{smmu=\"0\",sid=\"8\"} 42");
	assert_line(t, "pkvm_iommu_stream_faults_total{smmu=\"1\",sid=\"65535\"} 0");
	assert_line(t, "pkvm_iommu_stream_quarantined{smmu=\"0\",sid=\"8\"} 1");
	assert_line(t, "pkvm_iommu_stream_quarantined{smmu=\"1\",sid=\"65535\"} 0");
	assert_line(t, "pkvm_iommu_stream_isolated{smmu=\"0\",sid=\"8\"} 0");
	assert_line(t, "pkvm_iommu_stream_isolated{smmu=\"1\",sid=\"65535\"} 1");

	/* histogram: cumulative, inclusive bounds of whole nanoseconds, +Inf */
	assert_line(t, "# TYPE pkvm_iommu_range_latency_seconds histogram");
	assert_line(t, "# UNIT pkvm_iommu_range_latency_seconds seconds");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"1.023e-06\"} 2");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"2.047e-06\"} 2");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"4.095e-06\"} 2");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"8.191e-06\"} 7");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"0.000131071\"} 7");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"4.294967295\"} 7");
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"+Inf\"} 8");
	assert_line(t, "pkvm_iommu_range_latency_seconds_count 8");
	assert_line(t, "pkvm_iommu_range_latency_seconds_sum 1234.567890123");
	{
		/* exactly DAEMON_LATENCY_BUCKETS buckets */
		unsigned int n = 0;

		for (const char *q = t; (q = strstr(q, "_seconds_bucket{")); q++)
			n++;
		ck_assert_uint_eq(n, DAEMON_LATENCY_BUCKETS);
	}
	/* EOF once, last */
	ck_assert_ptr_eq(strstr(t, "# EOF"), t + strlen(t) - strlen("# EOF\n"));
	free(t);
}
END_TEST

TEST("render", empty_state)
{
	struct metrics_state st = { .version = "0", .backend = "sim" };
	char *t = render(&st);

	/* Families without samples keep their metadata; histogram all zero. */
	check_exposition(t);
	assert_line(t, "# TYPE pkvm_iommu_ledger_pages gauge");
	ck_assert_ptr_null(strstr(t, "pkvm_iommu_ledger_pages{"));
	assert_line(t, "pkvm_iommu_range_latency_seconds_bucket{le=\"+Inf\"} 0");
	assert_line(t, "pkvm_iommu_range_latency_seconds_count 0");
	assert_line(t, "pkvm_iommu_range_latency_seconds_sum 0.000000000");
	free(t);
}
END_TEST

TEST("render", canonical_le)
{
	static const struct { double v; const char *s; } cases[] = {
		{ 1023e-9, "1.023e-06" }, { 131071e-9, "0.000131071" }, { 4.294967295, "4.294967295" },
		{ 1.0, "1.0" }, { 10.0, "10.0" }, { 0.1, "0.1" }, { 0.001, "0.001" },
		{ 0.0001, "0.0001" }, { 1e-05, "1e-05" }, { 100000.0, "100000.0" },
		{ 1e6, "1e+06" }, { 1.7, "1.7" }, { 0.95, "0.95" }, { 1e-10, "1e-10" },
		{ 0.0, "0.0" },
	};
	char buf[40];

	/* The examples of OpenMetrics' "Canonical Numbers", and ours. */
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		metrics_format_le(cases[i].v, buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i].s);
	}
	metrics_format_le(INFINITY, buf, sizeof(buf));
	ck_assert_str_eq(buf, "+Inf");
}
END_TEST

/* ---- a live daemon on the sim backend, without a bus ---- */

static struct daemon *d;
static char tmpdir[] = "/tmp/pkvm-test-metrics.XXXXXX";

static void daemon_up(void)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };

	ck_assert_int_eq(daemon_new(&d, NULL, NULL), 0);
	ck_assert_int_eq(backend_sim_open(&d->backend, NULL), 0);
	ck_assert_int_eq(d->backend->ops->info(d->backend, &info), 0);
	d->nr_smmus = info.nr_smmus;
	ck_assert_int_eq(daemon_resync(d), 0);
	d->test_mode = true;
	ck_assert_int_ge(sd_event_new(&d->event), 0);
}

/* Also the checked fixture's teardown: runs after a failed test too. */
static void daemon_down(void)
{
	d = daemon_free(d);
}

struct want {
	const char *text;
	unsigned int checked;
};

static int check_counter(const char *name, uint64_t value, void *arg)
{
	struct want *w = arg;
	uint64_t scale = 0, divisor = 0;
	const char *sample = metrics_counter_sample(name, &scale, &divisor);

	ck_assert_msg(sample, "GetCounters name %s has no metric family", name);
	/* one correctly rounded division, as strtod() of the exact decimal */
	ck_assert_double_eq(sample_value(w->text, sample), (double)(value * scale) / (double)divisor);
	w->checked++;
	return 0;
}

TEST("daemon", every_counter_exported)
{
	struct stream_state *s;
	char *t = NULL, line[128];
	struct want w;
	size_t len;

	daemon_up();
	ck_assert_int_eq(daemon_range(d, PKVM_IOMMU_OP_DONATE, DONATE_ADDR, 16 * PAGE, 3), 0);
	ck_assert_int_eq(daemon_range(d, PKVM_IOMMU_OP_SHARE, DONATE_ADDR + 64 * PAGE, 2 * PAGE, 0), 0);
	ck_assert_int_eq(daemon_ingest(d), 0);
	s = daemon_stream(d, 0, 8, true);
	ck_assert_ptr_nonnull(s);
	s->faults = 3;
	ck_assert_int_eq(metrics_text(d, &t, &len), 0);
	ck_assert_uint_eq(strlen(t), len);
	check_exposition(t);

	/* Every GetCounters value under its family, scaled as documented. */
	w = (struct want){ .text = t };
	ck_assert_int_eq(daemon_for_each_counter(d, check_counter, &w), 0);
	ck_assert_uint_ge(w.checked, 23);
	/* every backend counter but the split and fold policies (properties), and the daemon's 8 */
	ck_assert_uint_eq(w.checked, PKVM_IOMMU_STAT_NR - 2 + 8);
	/* the ledger and the stream as the daemon holds them */
	snprintf(line, sizeof(line), "pkvm_iommu_ledger_pages{owner=\"3\"} %llu",
		 (unsigned long long)ledger_pages(d->ledger, 3));
	assert_line(t, "%s", line);
	ck_assert_uint_eq(ledger_pages(d->ledger, 3), 16);
	assert_line(t, "pkvm_iommu_ledger_bytes{owner=\"3\"} %llu", 16 * PAGE);
	assert_line(t, "pkvm_iommu_ledger_shared_pages 2");
	assert_line(t, "pkvm_iommu_stream_faults_total{smmu=\"0\",sid=\"8\"} 3");
	assert_line(t, "pkvm_iommu_ledger_generation %llu",
		    (unsigned long long)ledger_generation(d->ledger));
	assert_line(t, "pkvm_iommu_daemon_info{version=\"%s\",backend=\"sim\",abi_version=\"%u\"} 1",
		    PKVM_IOMMU_VERSION, PKVM_IOMMU_ABI_VERSION);
	/* two timed calls: count 2, sum the daemon's nanoseconds in seconds */
	assert_line(t, "pkvm_iommu_range_latency_seconds_count 2");
	assert_line(t, "pkvm_iommu_range_latency_seconds_sum %llu.%09llu",
		    (unsigned long long)(d->ctr.latency_sum_ns / 1000000000u),
		    (unsigned long long)(d->ctr.latency_sum_ns % 1000000000u));
	ck_assert_uint_gt(d->ctr.latency_sum_ns, 0);
	free(t);
	daemon_down();
}
END_TEST

/*
 * A module from before the hook's counters: the first version's 16, nr
 * says so. What lies past nr is poison here (the kernel backend clears it,
 * an older module never writes it): the daemon must not read it.
 */
#define OLD_NR ((PKVM_IOMMU_STATS_SIZE_VER0 - offsetof(struct pkvm_iommu_stats, counter)) / 8)
#define POISON 0x5eed5eed5eedull

static const struct backend_ops *new_module_ops;

static int old_module_stats(struct backend *b, struct pkvm_iommu_stats *out)
{
	int ret = new_module_ops->stats(b, out);

	for (uint32_t i = OLD_NR; i < PKVM_IOMMU_STAT_NR; i++)
		out->counter[i] = POISON;
	out->nr = OLD_NR;
	return ret;
}

struct names {
	unsigned int n;
	uint64_t donate;
};

static int collect_name(const char *name, uint64_t value, void *arg)
{
	struct names *c = arg;

	ck_assert_msg(strncmp(name, "hook_", 5) && strcmp(name, "seed_ns"),
		      "%s past an older module's nr", name);
	ck_assert_uint_ne(value, POISON);
	if (!strcmp(name, "donate"))
		c->donate = value;
	c->n++;
	return 0;
}

TEST("daemon", older_module_fewer_counters)
{
	static struct backend_ops old_ops;	/* outlives a failed test's teardown */
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	struct names c = { 0 };
	struct want w;
	char *t = NULL;

	daemon_up();
	new_module_ops = d->backend->ops;
	old_ops = *new_module_ops;
	old_ops.stats = old_module_stats;
	d->backend->ops = &old_ops;
	ck_assert_int_eq(daemon_range(d, PKVM_IOMMU_OP_DONATE, DONATE_ADDR, 4 * PAGE, 3), 0);

	/* GetCounters and stats: the older module's counters, named, and the daemon's */
	ck_assert_int_eq(daemon_for_each_counter(d, collect_name, &c), 0);
	ck_assert_uint_eq(c.n, OLD_NR - 1 + 8);
	ck_assert_int_eq(new_module_ops->stats(d->backend, &st), 0);
	ck_assert_uint_gt(st.counter[PKVM_IOMMU_STAT_DONATE], 0);
	ck_assert_uint_eq(c.donate, st.counter[PKVM_IOMMU_STAT_DONATE]);

	/* the metrics: a valid exposition of those, no family for the missing ones */
	ck_assert_int_eq(metrics_text(d, &t, NULL), 0);
	check_exposition(t);
	w = (struct want){ .text = t };
	ck_assert_int_eq(daemon_for_each_counter(d, check_counter, &w), 0);
	ck_assert_uint_eq(w.checked, OLD_NR - 1 + 8);
	assert_line(t, "pkvm_iommu_donations_total %llu",
		    (unsigned long long)st.counter[PKVM_IOMMU_STAT_DONATE]);
	ck_assert_ptr_null(strstr(t, "pkvm_iommu_hook_"));
	ck_assert_ptr_null(strstr(t, "pkvm_iommu_seed_"));
	free(t);

	d->backend->ops = new_module_ops;
	daemon_down();
}
END_TEST

/* ---- the file ---- */

static ino_t inode_of(const char *path)
{
	struct stat st;

	ck_assert_int_eq(stat(path, &st), 0);
	return st.st_ino;
}

/* Entries of dir other than . and .. */
static unsigned int entries(const char *dir)
{
	DIR *dp = opendir(dir);
	struct dirent *e;
	unsigned int n = 0;

	ck_assert_ptr_nonnull(dp);
	while ((e = readdir(dp)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(dp);
	return n;
}

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n;

	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(buf);
	n = fread(buf, 1, (1 << 20) - 1, f);
	buf[n] = 0;
	fclose(f);
	return buf;
}

TEST("render", write_atomic)
{
	char dir[600], path[700], missing[700];
	struct stat st;
	ino_t first;
	char *t;

	snprintf(dir, sizeof(dir), "%s/atomic", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/x.prom", dir);
	ck_assert_int_eq(metrics_write_atomic(path, "a 1\n# EOF\n", 10), 0);
	first = inode_of(path);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0644);	/* node_exporter reads it */
	ck_assert_int_eq(st.st_size, 10);
	ck_assert_int_eq(metrics_write_atomic(path, "a 2\n# EOF\n", 10), 0);
	/* replaced by rename, never rewritten in place; no temp file left */
	ck_assert_uint_ne(inode_of(path), first);
	t = slurp(path);
	ck_assert_str_eq(t, "a 2\n# EOF\n");
	free(t);
	ck_assert_uint_eq(entries(dir), 1);

	snprintf(missing, sizeof(missing), "%s/no-such-dir/x.prom", dir);
	ck_assert_int_eq(metrics_write_atomic(missing, "a 1\n", 4), -ENOENT);
	ck_assert_uint_eq(entries(dir), 1);
}
END_TEST

/*
 * Run the loop until the file at path has another inode than old, for ms of
 * the monotonic clock (the loop may wake earlier for other sources).
 */
static bool wait_replaced(const char *path, ino_t old, unsigned int ms)
{
	for (uint64_t end = test_now_usec() + ms * 1000ull; test_now_usec() < end;) {
		struct stat st;

		ck_assert_int_ge(sd_event_run(d->event, 50 * 1000), 0);
		if (!stat(path, &st) && st.st_ino != old)
			return true;
	}
	return false;
}

TEST("daemon", export_follows_policy)
{
	char dir[600], a[700], b[700], bad[700];
	ino_t ino;
	char *t;

	daemon_up();
	snprintf(dir, sizeof(dir), "%s/export", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(a, sizeof(a), "%s/a.prom", dir);
	snprintf(b, sizeof(b), "%s/b.prom", dir);

	/* No path: nothing written, no timer. */
	ck_assert_int_eq(metrics_export_update(d), 0);
	ck_assert_ptr_null(d->metrics);
	ck_assert_uint_eq(entries(dir), 0);

	/* A path: written at once, then again every interval. */
	d->policy.metrics.path = strdup(a);
	d->policy.metrics.interval_s = 1;
	ck_assert_int_eq(metrics_export_update(d), 0);
	ino = inode_of(a);
	t = slurp(a);
	check_exposition(t);
	assert_line(t, "pkvm_iommu_metrics_export_errors_total 0");
	free(t);
	ck_assert_int_eq(daemon_range(d, PKVM_IOMMU_OP_DONATE, DONATE_ADDR, 4 * PAGE, 5), 0);
	ck_assert_int_eq(daemon_ingest(d), 0);
	ck_assert(wait_replaced(a, ino, 3000));
	t = slurp(a);
	assert_line(t, "pkvm_iommu_ledger_pages{owner=\"5\"} 4");
	free(t);
	ck_assert_uint_eq(entries(dir), 1);

	/* Another path: the new file at once, the old one left alone. */
	free(d->policy.metrics.path);
	d->policy.metrics.path = strdup(b);
	ck_assert_int_eq(metrics_export_update(d), 0);
	ck_assert_int_eq(access(b, R_OK), 0);
	ino = inode_of(a);
	ck_assert(wait_replaced(b, inode_of(b), 3000));
	ck_assert_uint_eq(inode_of(a), ino);	/* a no longer written */
	ck_assert_uint_eq(entries(dir), 2);

	/* A path that cannot be written: counted, logged, not fatal. */
	snprintf(bad, sizeof(bad), "%s/missing/c.prom", dir);
	free(d->policy.metrics.path);
	d->policy.metrics.path = strdup(bad);
	ck_assert_int_eq(metrics_export_update(d), 0);
	ck_assert_uint_eq(d->ctr.metrics_errors, 1);
	ck_assert_int_eq(metrics_export_now(d), -ENOENT);
	ck_assert_uint_eq(d->ctr.metrics_errors, 2);
	/* and back: the count shows in the file */
	free(d->policy.metrics.path);
	d->policy.metrics.path = strdup(b);
	ck_assert_int_eq(metrics_export_update(d), 0);
	t = slurp(b);
	assert_line(t, "pkvm_iommu_metrics_export_errors_total 2");
	free(t);

	/* Off: the timer stops, the files stay. */
	free(d->policy.metrics.path);
	d->policy.metrics.path = NULL;
	ck_assert_int_eq(metrics_export_update(d), 0);
	ck_assert_ptr_null(d->metrics);
	ino = inode_of(b);
	ck_assert(!wait_replaced(b, ino, 1500));
	ck_assert_uint_eq(entries(dir), 2);
	daemon_down();
}
END_TEST

TEST("daemon", reload_moves_export)
{
	char dir[600], pol[700], path[700];
	struct policy_errors errs = { 0 };
	FILE *f;

	/* daemon_reload_policy() re-arms the export from the file it read. */
	daemon_up();
	snprintf(dir, sizeof(dir), "%s/reload", tmpdir);
	ck_assert_int_eq(mkdir(dir, 0755), 0);
	snprintf(pol, sizeof(pol), "%s/policy.json", dir);
	snprintf(path, sizeof(path), "%s/r.prom", dir);
	d->policy_path = strdup(pol);
	d->state_dir = strdup(dir);
	f = fopen(pol, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{ \"version\": 1, \"metrics\": { \"path\": \"%s\", \"interval_s\": 2 } }\n", path);
	fclose(f);
	ck_assert_int_eq(daemon_reload_policy(d, &errs), 0);
	ck_assert_int_eq(access(path, R_OK), 0);
	ck_assert_ptr_nonnull(d->metrics);
	/* without metrics: stops, file kept */
	f = fopen(pol, "w");
	ck_assert_ptr_nonnull(f);
	fprintf(f, "{ \"version\": 1 }\n");
	fclose(f);
	ck_assert_int_eq(daemon_reload_policy(d, &errs), 0);
	ck_assert_ptr_null(d->metrics);
	ck_assert_int_eq(access(path, R_OK), 0);
	daemon_down();
}
END_TEST

static void rm_rf(const char *dir)
{
	char cmd[700];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd))
		fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
	int ret;

	if (!mkdtemp(tmpdir)) {
		perror("mkdtemp");
		return EXIT_FAILURE;
	}
	/* One sim backend per process: a failed test must still close it. */
	ret = TEST_RUN("metrics",
		       TCASE("render", .timeout = 60),
		       TCASE("daemon", .teardown = daemon_down, .timeout = 60));
	rm_rf(tmpdir);
	return ret;
}
