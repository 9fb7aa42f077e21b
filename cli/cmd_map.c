// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-iommuctl map: the physical memory map as one bar of the terminal's
 * width, each cell an equal share of the address span, drawn from the
 * donation ledger (GetLedger).
 *
 * The daemon exports no memory map (org.pkvm.Iommu1(5) has the ledger and
 * the mem_pages counter, a size without addresses), so the span is the
 * ledger's, from its first run's address to its last run's end, and what
 * the ledger does not hold is drawn as host memory, holes between memory
 * regions included; the legend says so.
 *
 * A cell shows the state holding most of it other than plain host memory,
 * plain host only when it holds nothing else: on a bar of 80 cells over
 * gigabytes a donated page is far smaller than a cell, and hiding it would
 * hide exactly what an operator looks for.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ctl.h"
#include "output.h"
#include "query.h"
#include "table.h"

#define MAP_WIDTH_DEFAULT 80

#define SYM_HOST '.'
#define SYM_HYP '#'
#define SYM_SHARED '='
#define SYM_UNNAMED '?'
/* Guests 2..9 are their digit; the others take these in owner order. */
static const char guest_letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

#define COLOR_HOST "\033[2m"	/* dim: the background the rest stands on */
#define COLOR_HYP "\033[1;31m"
static const char *const guest_colors[] = {
	"\033[1;32m", "\033[1;34m", "\033[1;35m", "\033[1;36m",
	"\033[0;32m", "\033[0;34m", "\033[0;35m", "\033[0;36m",
};

/* In the legend's order. */
enum state { STATE_HOST, STATE_HYP, STATE_GUEST, STATE_SHARED };

static const char *const state_names[] = {
	[STATE_HOST] = "host", [STATE_HYP] = "hypervisor", [STATE_GUEST] = "guest",
	[STATE_SHARED] = "shared",
};

struct run {
	uint64_t addr, len;
	uint32_t owner;
	bool shared;
	size_t key;		/* index into map.keys */
};

/* One line of the legend: a state, and for guests an owner. */
struct key {
	enum state state;
	uint32_t owner;
	char sym;
	const char *color;
	uint64_t bytes;
};

struct map {
	struct run *runs;	/* the ledger's, with host runs in its gaps */
	size_t nr_runs, cap_runs;
	struct key *keys;	/* host, hypervisor, guests by owner, shared */
	size_t nr_keys;
	uint64_t start, end;	/* the span: end exclusive */
	unsigned int width;	/* cells */
	uint64_t memory_bytes;	/* mem_pages * 4096, 0 when unknown */
	size_t *cell_key;	/* per cell, the key it shows */
};

static void map_free(struct map *m)
{
	free(m->runs);
	free(m->keys);
	free(m->cell_key);
}

static enum state state_of(uint32_t owner, bool shared)
{
	if (owner == PKVM_OWNER_HOST)
		return shared ? STATE_SHARED : STATE_HOST;
	return owner == PKVM_OWNER_HYP ? STATE_HYP : STATE_GUEST;
}

static int add_run(struct map *m, uint64_t addr, uint64_t len, uint32_t owner, bool shared)
{
	if (GROW_ARRAY(m->runs, m->cap_runs, m->nr_runs + 1, 64) < 0)
		return -ENOMEM;
	m->runs[m->nr_runs++] = (struct run){ addr, len, owner, shared, 0 };
	return 0;
}

/* The ledger's runs, in address order, with plain host runs in the gaps. */
static int read_ledger(sd_bus_message *reply, struct map *m)
{
	uint64_t addr, len, end = 0;
	uint32_t owner;
	int sh, r;

	r = sd_bus_message_enter_container(reply, 'a', "(ttub)");
	while (r >= 0 && (r = sd_bus_message_read(reply, "(ttub)", &addr, &len, &owner, &sh)) > 0) {
		/* The bar's arithmetic needs ordered, disjoint, non-wrapping runs. */
		if (!len || addr + len < addr || (m->nr_runs && addr < end))
			return -EBADMSG;
		if (m->nr_runs && addr > end && (r = add_run(m, end, addr - end, 0, false)) < 0)
			return r;
		if ((r = add_run(m, addr, len, owner, sh)) < 0)
			return r;
		if (m->nr_runs == 1)
			m->start = addr;
		end = addr + len;
	}
	if (r < 0)
		return r;
	m->end = end;
	return sd_bus_message_exit_container(reply);
}

static int cmp_key(const void *a, const void *b)
{
	const struct key *x = a, *y = b;

	if (x->state != y->state)
		return (int)x->state - (int)y->state;
	return (x->owner > y->owner) - (x->owner < y->owner);
}

static size_t find_key(const struct map *m, enum state s, uint32_t owner)
{
	for (size_t i = 0; i < m->nr_keys; i++)
		if (m->keys[i].state == s && (s != STATE_GUEST || m->keys[i].owner == owner))
			return i;
	return SIZE_MAX;
}

/* The legend's lines, their symbols and colours, and every run's line. */
static int make_keys(struct map *m)
{
	size_t letter = 0, ncolor = 0;

	m->keys = calloc(m->nr_runs, sizeof(*m->keys));
	if (!m->keys)
		return -ENOMEM;
	for (size_t i = 0; i < m->nr_runs; i++) {
		enum state s = state_of(m->runs[i].owner, m->runs[i].shared);

		if (find_key(m, s, m->runs[i].owner) == SIZE_MAX)
			m->keys[m->nr_keys++] = (struct key){
				.state = s, .owner = s == STATE_GUEST ? m->runs[i].owner : 0,
			};
	}
	qsort(m->keys, m->nr_keys, sizeof(*m->keys), cmp_key);
	for (size_t i = 0; i < m->nr_keys; i++) {
		struct key *k = &m->keys[i];

		switch (k->state) {
		case STATE_HOST:
			k->sym = SYM_HOST;
			k->color = COLOR_HOST;
			break;
		case STATE_HYP:
			k->sym = SYM_HYP;
			k->color = COLOR_HYP;
			break;
		case STATE_SHARED:
			k->sym = SYM_SHARED;
			k->color = ANSI_YELLOW;
			break;
		case STATE_GUEST:
			if (k->owner <= 9)
				k->sym = (char)('0' + k->owner);
			else if (letter < sizeof(guest_letters) - 1)
				k->sym = guest_letters[letter++];
			else
				k->sym = SYM_UNNAMED;
			k->color = guest_colors[ncolor++ % ELEMENTSOF(guest_colors)];
			break;
		}
	}
	for (size_t i = 0; i < m->nr_runs; i++) {
		struct run *r = &m->runs[i];

		r->key = find_key(m, state_of(r->owner, r->shared), r->owner);
		m->keys[r->key].bytes += r->len;
	}
	return 0;
}

/*
 * Where cell i starts: start + floor(span * i / width), computed without
 * overflow (span = q * width + rem, and rem * i < width^2 fits).
 */
static uint64_t cell_start(const struct map *m, unsigned int i)
{
	uint64_t span = m->end - m->start, q = span / m->width, rem = span % m->width;

	return m->start + q * i + rem * i / m->width;
}

/* Every cell's key: the non-host state with most bytes in it, else host. */
static int draw(struct map *m)
{
	_cleanup_free_ uint64_t *bytes = calloc(m->nr_keys, sizeof(*bytes));
	_cleanup_free_ size_t *touched = calloc(m->nr_keys, sizeof(*touched));
	size_t j = 0;

	m->cell_key = calloc(m->width, sizeof(*m->cell_key));
	if (!bytes || !touched || !m->cell_key)
		return -ENOMEM;
	for (unsigned int i = 0; i < m->width; i++) {
		uint64_t cs = cell_start(m, i), ce = cell_start(m, i + 1);
		size_t nt = 0, best = SIZE_MAX;

		while (j < m->nr_runs && m->runs[j].addr + m->runs[j].len <= cs)
			j++;
		for (size_t k = j; k < m->nr_runs && m->runs[k].addr < ce; k++) {
			const struct run *r = &m->runs[k];
			uint64_t a = r->addr > cs ? r->addr : cs;
			uint64_t b = r->addr + r->len < ce ? r->addr + r->len : ce;

			if (!bytes[r->key])
				touched[nt++] = r->key;
			bytes[r->key] += b - a;
		}
		/* Ties go to the state met first, in address order. */
		for (size_t t = 0; t < nt; t++) {
			size_t k = touched[t];

			if (m->keys[k].state != STATE_HOST && (best == SIZE_MAX || bytes[k] > bytes[best]))
				best = k;
		}
		if (best == SIZE_MAX)
			best = find_key(m, STATE_HOST, 0);
		m->cell_key[i] = best;
		for (size_t t = 0; t < nt; t++)
			bytes[touched[t]] = 0;
	}
	return 0;
}

/* Columns: --width, the terminal's, $COLUMNS, 80. */
static unsigned int pick_width(const struct ctl *c)
{
	struct winsize ws;
	const char *env = getenv("COLUMNS");
	uint32_t v;

	if (c->width)
		return c->width;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		v = ws.ws_col;
	else if (!env || ctl_parse_u32(env, &v) < 0 || !v)
		v = MAP_WIDTH_DEFAULT;
	return v < CTL_WIDTH_MIN ? CTL_WIDTH_MIN : v > CTL_WIDTH_MAX ? CTL_WIDTH_MAX : v;
}

static void print_bar(const struct ctl *c, const struct map *m)
{
	const char *cur = NULL;

	for (unsigned int i = 0; i < m->width; i++) {
		const struct key *k = &m->keys[m->cell_key[i]];

		if (c->color && k->color != cur) {
			if (cur)
				fputs(ANSI_NORMAL, stdout);
			fputs(k->color, stdout);
			cur = k->color;
		}
		putchar(k->sym);
	}
	if (cur)
		fputs(ANSI_NORMAL, stdout);
	putchar('\n');
}

/* "|" under the first, middle and last cell, their addresses below. */
static void print_ticks(const struct map *m)
{
	char lo[24], mid[24], hi[24];
	unsigned int w = m->width, half = w / 2;
	size_t nlo, nmid, nhi;
	bool with_mid;

	nlo = (size_t)snprintf(lo, sizeof(lo), "0x%" PRIx64, m->start);
	nmid = (size_t)snprintf(mid, sizeof(mid), "0x%" PRIx64, cell_start(m, half));
	nhi = (size_t)snprintf(hi, sizeof(hi), "0x%" PRIx64, m->end);
	/* The middle address starts at its tick, one blank clear of the others. */
	with_mid = half > nlo && half + nmid + 1 + nhi <= w;
	for (unsigned int i = 0; i < w; i++)
		putchar(i == 0 || i + 1 == w || (with_mid && i == half) ? '|' : ' ');
	putchar('\n');
	if (nlo + 1 + nhi > w) {
		printf("%s %s\n", lo, hi);
		return;
	}
	fputs(lo, stdout);
	if (with_mid)
		printf("%*s%s%*s%s\n", (int)(half - nlo), "", mid, (int)(w - half - nmid - nhi), "", hi);
	else
		printf("%*s%s\n", (int)(w - nlo - nhi), "", hi);
}

static int print_legend(const struct ctl *c, const struct map *m)
{
	static const char *const hdr[] = { "SYMBOL", "STATE", "PAGES", "SIZE", NULL };
	_cleanup_table_ struct table *t = table_new(hdr);
	char sz[OUTPUT_SIZE_MAX], own[OUTPUT_OWNER_MAX], mem[OUTPUT_SIZE_MAX];
	uint64_t span = m->end - m->start;
	int r;

	if (!t)
		return -ENOMEM;
	for (size_t i = 0; i < m->nr_keys; i++) {
		const struct key *k = &m->keys[i];
		const char *name = k->state == STATE_GUEST ? output_owner(k->owner, own) :
				   k->state == STATE_HOST ? "host (not in the ledger)" :
				   k->state == STATE_SHARED ? "shared (host pages)" :
				   state_names[k->state];

		if ((r = table_addf(t, k->color, "%c", k->sym)) < 0 ||
		    (r = table_add(t, NULL, name)) < 0 ||
		    (r = table_addf(t, NULL, "%" PRIu64, (uint64_t)(k->bytes / BUS_PAGE_SIZE))) < 0 ||
		    (r = table_add(t, NULL, output_size(k->bytes, sz))) < 0)
			return r;
	}
	table_align_right(t, 2);
	table_align_right(t, 3);
	putchar('\n');
	r = table_print(t, stdout, true, c->color);
	if (r < 0)
		return r;
	printf("\nSpan 0x%" PRIx64 "-0x%" PRIx64 " (%s) in %u cells of %s", m->start, m->end,
	       output_size(span, own), m->width, output_size(span / m->width, sz));
	if (m->memory_bytes)
		printf("; memory in all: %s", output_size(m->memory_bytes, mem));
	printf(".\nA cell shows what holds most of it other than plain host memory, so a single\n"
	       "page is never hidden. pkvm-iommud exports no memory map: what the ledger does\n"
	       "not hold is drawn as host memory, holes between memory regions included.\n");
	return 0;
}

static int print_json(const struct ctl *c, const struct map *m)
{
	json_object *j = json_object_new_object(), *a = json_object_new_array();

	json_add_u64(j, "start", m->start);
	json_add_u64(j, "end", m->end);
	json_add_u64(j, "width", m->width);
	json_add_u64(j, "bytes_per_cell", m->width ? (m->end - m->start) / m->width : 0);
	json_add_u64(j, "memory_bytes", m->memory_bytes);
	for (size_t i = 0; i < m->nr_runs; i++) {
		const struct run *r = &m->runs[i];
		json_object *x = json_object_new_object();

		json_add_u64(x, "addr", r->addr);
		json_add_u64(x, "len", r->len);
		json_add_u64(x, "owner", r->owner);
		json_add_bool(x, "shared", r->shared);
		json_add_str(x, "state", state_names[m->keys[r->key].state]);
		json_append(a, x);
	}
	json_add(j, "runs", a);
	return json_print(j, c->json_flags);
}

int verb_map(struct ctl *c, int argc, char **argv)
{
	_cleanup_bus_error_ sd_bus_error error = SD_BUS_ERROR_NULL;
	_cleanup_msg_ sd_bus_message *reply = NULL;
	_cleanup_q_counters_ struct q_counters k = { 0 };
	_cleanup_bus_ sd_bus *bus = NULL;
	_cleanup_(map_free) struct map m = { 0 };
	char sz[OUTPUT_SIZE_MAX];
	uint64_t pages;
	int r;

	r = ctl_connect(c, &bus);
	if (r)
		return r;
	r = ctl_call(bus, "GetLedger", &error, &reply, NULL);
	if (r < 0)
		return ctl_bus_fail(c, "GetLedger", r, &error);
	r = read_ledger(reply, &m);
	if (r < 0)
		return ctl_bus_fail(c, "reading GetLedger's reply", r, NULL);
	r = q_counters_load(bus, &k, &error);
	if (r < 0)
		return ctl_bus_fail(c, "GetCounters", r, &error);
	m.memory_bytes = q_counter(&k, "mem_pages") * BUS_PAGE_SIZE;
	if (m.nr_runs) {
		/*
		 * At least a page a cell, and never an empty one, which would
		 * hold no run to show: a narrower span makes a shorter bar.
		 */
		pages = (m.end - m.start) / BUS_PAGE_SIZE;
		m.width = pick_width(c);
		if (pages < m.width)
			m.width = pages ? (unsigned int)pages : 1;
		r = make_keys(&m);
		if (r >= 0)
			r = draw(&m);
		if (r < 0)
			return output_done(r);
	}
	if (c->json)
		return output_done(print_json(c, &m));
	if (!m.nr_runs) {
		printf("The ledger is empty: all memory is the host's");
		if (m.memory_bytes)
			printf(" (%s in all)", output_size(m.memory_bytes, sz));
		printf(".\n");
		return output_done(0);
	}
	print_bar(c, &m);
	if (!c->legend)
		return output_done(0);
	print_ticks(&m);
	return output_done(print_legend(c, &m));
}
