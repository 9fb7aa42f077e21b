// SPDX-License-Identifier: GPL-2.0
/*
 * Deliberately written from the format rules rather than from the engine's
 * helpers: levels resolve 9 bits above a 12-bit page, up to 16 tables may
 * be concatenated at the start level, valid blocks exist at levels 1 and 2
 * (no level-0 blocks with a 4 KiB granule), invalid entries anywhere.
 */
#include "s2_optimal.h"
#include "testutil.h"

#include <errno.h>
#include <stdlib.h>

int opt_map_add(struct opt_map *m, uint64_t start, uint64_t end, uint32_t state)
{
	struct opt_run *last = m->nr ? &m->runs[m->nr - 1] : NULL;

	if (start >= end)
		return 0;
	if (last && last->end == start && last->state == state) {
		last->end = end;
		return 0;
	}
	if (GROW_ARRAY(m->runs, m->cap, m->nr + 1, 1024))
		return -ENOMEM;
	m->runs[m->nr++] = (struct opt_run){ start, end, state };
	return 0;
}

void opt_map_free(struct opt_map *m)
{
	free(m->runs);
	*m = (struct opt_map){ 0 };
}

struct ctx {
	const struct opt_map *m;
	unsigned int max_block;
	struct opt_result r;
	size_t first;	/* no run before it ends after the entries still to come */
};

static unsigned int shift_of(unsigned int level)
{
	return 12 + 9 * (3 - level);
}

/*
 * State of [lo, hi) if it is uniform (0 = hole), else -1. Entries are
 * asked in address order, so the first run that ends after lo is found by
 * moving c->first forward: one pass over the runs for the whole table.
 */
static int64_t uniform(struct ctx *c, uint64_t lo, uint64_t hi)
{
	const struct opt_map *m = c->m;
	size_t a = c->first;

	while (a < m->nr && m->runs[a].end <= lo)
		a++;
	c->first = a;
	if (a == m->nr || m->runs[a].start >= hi)
		return 0;
	if (m->runs[a].start <= lo && m->runs[a].end >= hi)
		return m->runs[a].state;
	return -1;
}

static int valid_state(int64_t st)
{
	return st == OPT_HOST || st == OPT_HOST_SHARED;
}

static int block_ok(const struct ctx *c, unsigned int level)
{
	return level == 3 || (level >= 1 && level >= c->max_block);
}

/* Count the entry at (level, lo) and whatever tables hang below it. */
static void entry(struct ctx *c, unsigned int level, uint64_t lo)
{
	uint64_t size = 1ull << shift_of(level);
	int64_t st = uniform(c, lo, lo + size);

	if (st >= 0 && (!valid_state(st) || block_ok(c, level))) {
		c->r.descriptors += st != 0;
		return;
	}
	/* A table: its descriptor here, one page, and its 512 entries. */
	c->r.descriptors++;
	c->r.table_pages++;
	for (unsigned int i = 0; i < 512; i++)
		entry(c, level + 1, lo + (uint64_t)i * (size >> 9));
}

struct opt_result opt_minimal(const struct opt_map *m, unsigned int ias,
			      unsigned int max_block_level)
{
	unsigned int levels = (ias - 8) / 9, start = 4 - levels;
	uint64_t size = 1ull << shift_of(start);
	uint64_t entries = (1ull << ias) / size;
	struct ctx c = { .m = m, .max_block = max_block_level };

	c.r.table_pages = entries > 512 ? entries / 512 : 1;
	for (uint64_t i = 0; i < entries; i++)
		entry(&c, start, i * size);
	return c.r;
}
