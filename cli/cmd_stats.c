// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl stats: every counter (GetCounters) and the latency
 * histogram of ownership changes (GetLatencyHistogram), with the
 * percentiles the histogram allows (a bucket's upper bound).
 */
#include <inttypes.h>
#include <string.h>

#include "ctl.h"
#include "output.h"
#include "query.h"
#include "table.h"

struct bucket {
	uint64_t upper_ns;	/* exclusive; UINT64_MAX: everything slower */
	uint64_t count;
};

struct histogram {
	struct bucket *b;
	size_t n;
	uint64_t total;
};

static int load_histogram(sd_bus *bus, struct histogram *h, sd_bus_error *error)
{
	_cleanup_msg_ sd_bus_message *reply = NULL;
	uint64_t upper, count;
	size_t cap = 0;
	int r;

	r = ctl_call(bus, "GetLatencyHistogram", error, &reply, NULL);
	if (r < 0)
		return r;
	r = sd_bus_message_enter_container(reply, 'a', "(tt)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(tt)", &upper, &count)) > 0) {
		if (GROW_ARRAY(h->b, cap, h->n + 1, 32) < 0)
			return -ENOMEM;
		h->b[h->n++] = (struct bucket){ upper, count };
		h->total += count;
	}
	return r;
}

/* "1.0us", "16.8ms": a bucket bound for people. */
static const char *format_ns(uint64_t ns, char buf[24])
{
	if (ns < 1000)
		snprintf(buf, 24, "%" PRIu64 "ns", ns);
	else if (ns < 1000000)
		snprintf(buf, 24, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000)
		snprintf(buf, 24, "%.1fms", (double)ns / 1e6);
	else
		snprintf(buf, 24, "%.1fs", (double)ns / 1e9);
	return buf;
}

/* The bound of the bucket holding the q-th quantile (permille), or NULL. */
static const struct bucket *quantile(const struct histogram *h, unsigned int permille)
{
	uint64_t seen = 0, want;

	if (!h->total)
		return NULL;
	want = (h->total * permille + 999) / 1000;
	for (size_t i = 0; i < h->n; i++) {
		seen += h->b[i].count;
		if (seen >= want)
			return &h->b[i];
	}
	return &h->b[h->n - 1];
}

static int print_json(const struct ctl *c, const struct q_counters *k, const struct histogram *h)
{
	json_object *j = json_object_new_object(), *o = json_object_new_object(),
		    *a = json_object_new_array();

	for (size_t i = 0; i < k->n; i++)
		json_add_u64(o, k->v[i].name, k->v[i].value);
	json_add(j, "counters", o);
	for (size_t i = 0; i < h->n; i++) {
		json_object *x = json_object_new_object();

		/* JSON has no 2^64-1 every reader can hold: the open bucket is null. */
		if (h->b[i].upper_ns == UINT64_MAX)
			json_object_object_add(x, "upper_ns", NULL);
		else
			json_add_u64(x, "upper_ns", h->b[i].upper_ns);
		json_add_u64(x, "count", h->b[i].count);
		json_append(a, x);
	}
	json_add(j, "latency", a);
	return json_print(j, c->json_flags);
}

static int print_text(const struct ctl *c, const struct q_counters *k, const struct histogram *h)
{
	static const char *const khdr[] = { "COUNTER", "VALUE", NULL };
	static const char *const hhdr[] = { "LATENCY", "CALLS", NULL };
	_cleanup_table_ struct table *t = table_new(khdr), *l = table_new(hhdr);
	const struct bucket *p50 = quantile(h, 500), *p99 = quantile(h, 990);
	char b1[24], b2[24];
	int r = t && l ? 0 : -ENOMEM;

	for (size_t i = 0; r >= 0 && i < k->n; i++)
		if ((r = table_add(t, NULL, k->v[i].name)) >= 0)
			r = table_addf(t, NULL, "%" PRIu64, k->v[i].value);
	if (r >= 0) {
		table_align_right(t, 1);
		r = table_print(t, stdout, c->legend, c->color);
	}
	/* Only the buckets that hold something: 24 mostly empty lines help nobody. */
	for (size_t i = 0; r >= 0 && i < h->n; i++) {
		if (!h->b[i].count)
			continue;
		if (h->b[i].upper_ns == UINT64_MAX)
			r = table_addf(l, NULL, ">= %s", format_ns(i ? h->b[i - 1].upper_ns : 0, b1));
		else
			r = table_addf(l, NULL, "< %s", format_ns(h->b[i].upper_ns, b1));
		if (r >= 0)
			r = table_addf(l, NULL, "%" PRIu64, h->b[i].count);
	}
	if (r < 0)
		return r;
	putchar('\n');
	if (!h->total) {
		printf("No latency measured yet (test-mode ownership changes only).\n");
		return 0;
	}
	table_align_right(l, 1);
	r = table_print(l, stdout, c->legend, c->color);
	if (r >= 0 && c->legend)
		printf("\n%" PRIu64 " call%s; p50 < %s, p99 < %s.\n", h->total,
		       h->total == 1 ? "" : "s",
		       p50->upper_ns == UINT64_MAX ? "inf" : format_ns(p50->upper_ns, b1),
		       p99->upper_ns == UINT64_MAX ? "inf" : format_ns(p99->upper_ns, b2));
	return r;
}

int verb_stats(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_q_counters_ struct q_counters k = { 0 };
	struct histogram h = { 0 };
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = q_counters_load(bus, &k, &error);
	if (r >= 0)
		r = load_histogram(bus, &h, &error);
	if (r < 0) {
		free(h.b);
		return ctl_bus_fail(c, "reading the counters", r, &error);
	}
	r = c->json ? print_json(c, &k, &h) : print_text(c, &k, &h);
	free(h.b);
	return output_done(r);
}
