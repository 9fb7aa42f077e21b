// SPDX-License-Identifier: GPL-2.0
/*
 * Property test: random operations (seeded; the seed is printed and can be
 * replayed with PKVM_SEED) against a plain reference model, one owner per
 * page. After every batch the whole table is walked and compared page by
 * page; the table must always be the minimal one for the ownership it
 * holds, every page that left the host must have been invalidated in the
 * same operation, and after reclaiming everything the table is back to its
 * initial size.
 *
 * PKVM_PROPERTY_OPS sets the number of operations (default 1000000).
 */
#include <check.h>
#include "testutil.h"
#include <stdio.h>
#include <stdlib.h>

#include "s2_fixture.h"
#include "s2_optimal.h"

#define GiB (1ull << 30)
#define MiB (1ull << 20)
#define IAS 36

#define WIN_LO 0x3ff00000ull
#define WIN_HI 0xc0200000ull
#define WIN_PAGES ((WIN_HI - WIN_LO) >> 12)

#define REF_MEM 1u
#define REF_SHARED 2u
#define REF_POOL 4u

/* Adjacent regions 1 and 2, unaligned edges, pool inside region 1. */
static const struct s2_region regions[] = {
	{ 0x40003000ull, 0x58000000ull - 0x5000 - 0x40003000ull },
	{ 0x60000000ull, 0x20000000ull },
	{ 0x80000000ull, GiB + 0x7000 },
};
#define POOL_PA (0x6ff00000ull + 0x3000)
#define POOL_PAGES 2048ull

/* A range still donated to owner (or still shared, owner 0) as a whole. */
struct record {
	u64 addr, size;
	u32 owner;
};

struct records {
	struct record *r;
	size_t nr, cap;
};

struct model {
	u16 *owner;
	u8 *flags;
	struct records don, shr;
};

/* Flushes the engine asked for during the current operation. */
struct flushes {
	struct s2_inv_range r[64];
	unsigned int nr_ranges;
	unsigned int calls;
	bool full;
};

static int record_flush(void *cookie, const struct s2_gather *g)
{
	struct flushes *f = cookie;

	f->calls++;
	f->full |= g->full;
	for (u32 i = 0; i < g->nr && f->nr_ranges < 64; i++)
		f->r[f->nr_ranges++] = g->r[i];
	return 0;
}

static const struct s2_tlb_ops flush_ops = { .flush = record_flush };

static u64 seed;
static long op_index;

#define fail_if_not(cond, ...)                                              \
	ck_assert_msg(cond, "seed 0x%llx op %ld: %s", (unsigned long long)seed, \
		      op_index, #cond)

static bool in_window(u64 addr)
{
	return addr >= WIN_LO && addr < WIN_HI;
}

static size_t pg(u64 addr)
{
	return (addr - WIN_LO) >> 12;
}

static void model_init(struct model *m)
{
	m->owner = calloc(WIN_PAGES, sizeof(*m->owner));
	m->flags = calloc(WIN_PAGES, 1);
	m->don = (struct records){ 0 };
	m->shr = (struct records){ 0 };
	for (unsigned int i = 0; i < 3; i++)
		for (u64 a = regions[i].base; a < regions[i].base + regions[i].size; a += 4096)
			m->flags[pg(a)] = REF_MEM;
	for (u64 a = POOL_PA; a < POOL_PA + POOL_PAGES * 4096; a += 4096) {
		m->owner[pg(a)] = PKVM_OWNER_HYP;
		m->flags[pg(a)] |= REF_POOL;
	}
}

/* The documented rules, page by page, first offending page wins. */
static int model_check(const struct model *m, enum s2_op op, u64 addr, u64 size,
		       u32 owner)
{
	if ((op == S2_OP_DONATE || op == S2_OP_RECLAIM) &&
	    (owner == PKVM_OWNER_HOST || owner > PKVM_OWNER_MAX))
		return -EINVAL;
	if (!size || (addr | size) & 0xfff || addr + size < addr)
		return -EINVAL;
	if (addr + size > 1ull << IAS)
		return -ERANGE;
	for (u64 a = addr; a < addr + size; a += 4096) {
		size_t i = pg(a);
		bool host;

		if (!in_window(a) || !(m->flags[i] & REF_MEM))
			return -ERANGE;
		host = m->owner[i] == PKVM_OWNER_HOST;
		switch (op) {
		case S2_OP_DONATE:
			if (!host)
				return -EEXIST;
			if (m->flags[i] & REF_SHARED)
				return -EBUSY;
			break;
		case S2_OP_RECLAIM:
			if (host)
				return -EALREADY;
			if (m->owner[i] != owner || (m->flags[i] & REF_POOL))
				return -EPERM;
			break;
		case S2_OP_SHARE:
			if (!host)
				return -EPERM;
			if (m->flags[i] & REF_SHARED)
				return -EEXIST;
			break;
		case S2_OP_UNSHARE:
			if (!host)
				return -EPERM;
			if (!(m->flags[i] & REF_SHARED))
				return -ENOENT;
			break;
		default:
			return -EINVAL;
		}
	}
	return 0;
}

static void records_add(struct records *rs, u64 addr, u64 size, u32 owner)
{
	ck_assert(GROW(rs->r, rs->nr, rs->cap) == 0);
	rs->r[rs->nr++] = (struct record){ addr, size, owner };
}

static void model_apply(struct model *m, enum s2_op op, u64 addr, u64 size, u32 owner)
{
	for (u64 a = addr; a < addr + size; a += 4096) {
		size_t i = pg(a);

		switch (op) {
		case S2_OP_DONATE:
			m->owner[i] = (u16)owner;
			break;
		case S2_OP_RECLAIM:
			m->owner[i] = PKVM_OWNER_HOST;
			break;
		case S2_OP_SHARE:
			m->flags[i] |= REF_SHARED;
			break;
		case S2_OP_UNSHARE:
			m->flags[i] &= (u8)~REF_SHARED;
			break;
		default:
			break;
		}
	}
	if (op == S2_OP_DONATE)
		records_add(&m->don, addr, size, owner);
	if (op == S2_OP_SHARE)
		records_add(&m->shr, addr, size, 0);
}

/*
 * Keep the records exact: an operation on part of record k leaves what is
 * left of it on either side; a failed one means the record went stale.
 */
static void records_forget(struct records *rs, size_t k, u64 addr, u64 size)
{
	struct record d = rs->r[k];

	rs->r[k] = rs->r[--rs->nr];
	if (!size)
		return;
	if (addr > d.addr)
		records_add(rs, d.addr, addr - d.addr, d.owner);
	if (addr + size < d.addr + d.size)
		records_add(rs, addr + size, d.addr + d.size - addr - size, d.owner);
}

static u32 model_state(const struct model *m, size_t i)
{
	if (!(m->flags[i] & REF_MEM))
		return 0;
	if (m->owner[i] != PKVM_OWNER_HOST)
		return OPT_OWNER(m->owner[i]);
	return m->flags[i] & REF_SHARED ? OPT_HOST_SHARED : OPT_HOST;
}

struct compare {
	const struct model *m;
	long pages;
};

static int compare_leaf(const struct s2_leaf *l, void *arg)
{
	struct compare *c = arg;
	u64 lo = l->addr, hi = l->addr + l->size;

	if (l->memory && (lo < WIN_LO || hi > WIN_HI))
		return -ERANGE;
	if (l->memory && l->owner == PKVM_OWNER_HOST) {
		/* Host memory is Normal WB, read-write, accessed, to DMA. */
		u64 want = S2_ATTR_HOST | (l->shared ? S2_ATTR_SW_SHARED : 0);

		if (s2_desc_attrs(l->desc) != want || s2_desc_oa(l->desc) != lo)
			return -EFAULT;
	}
	lo = HYP_MAX(lo, WIN_LO);
	hi = HYP_MIN(hi, WIN_HI);
	for (u64 a = lo; a < hi; a += 4096) {
		size_t i = pg(a);
		u32 want = model_state(c->m, i);
		u32 got = !l->memory ? 0 : l->owner ? OPT_OWNER(l->owner) :
			  l->shared ? OPT_HOST_SHARED : OPT_HOST;

		if (want != got) {
			fprintf(stderr, "page 0x%llx: engine state 0x%x, model 0x%x\n",
				(unsigned long long)a, got, want);
			return -EBADMSG;
		}
		c->pages++;
	}
	return 0;
}

static u64 model_optimal(const struct model *m, u32 max_level)
{
	struct opt_map map = { 0 };
	u64 pages;

	for (size_t i = 0; i < WIN_PAGES; i++) {
		u32 st = model_state(m, i);

		if (st)
			opt_map_add(&map, WIN_LO + (i << 12), WIN_LO + ((i + 1) << 12), st);
	}
	pages = opt_minimal(&map, IAS, max_level).table_pages;
	opt_map_free(&map);
	return pages;
}

static void compare_all(struct s2_fixture *fx, const struct model *m, u32 max_level)
{
	struct compare c = { .m = m };
	int ret = s2_for_each_leaf(&fx->pgt, 0, 1ull << IAS, compare_leaf, &c);

	fail_if_not(ret == 0);
	fail_if_not(c.pages == (long)WIN_PAGES);
	fail_if_not(fx->pgt.table_pages == s2_count_table_pages(&fx->pgt));
	fail_if_not(fx->pgt.table_pages == model_optimal(m, max_level));
	/* Every pool page is a table in use or free: no leak, no double use. */
	fail_if_not(fx->pgt.pool.nr_free + fx->pgt.table_pages == POOL_PAGES);
}

static bool covered(const struct flushes *f, u64 a)
{
	if (f->full)
		return true;
	for (unsigned int i = 0; i < f->nr_ranges; i++)
		if (a >= f->r[i].start && a < f->r[i].end)
			return true;
	return false;
}

static u64 rand_below(u64 *st, u64 n)
{
	return s2_rand(st) % n;
}

static u64 pick_size(u64 *st)
{
	u64 r = rand_below(st, 1000);

	if (r < 600)
		return (1 + rand_below(st, 4)) << 12;
	if (r < 880)
		return (1 + rand_below(st, 512)) << 12;
	if (r < 995)
		return (1 + rand_below(st, 4)) * 2 * MiB;
	return (1 + rand_below(st, 262144)) << 12;
}

static void run(enum pkvm_split_policy policy, u32 level, long nr_ops)
{
	struct flushes fl;
	struct s2_config cfg = {
		.ias = IAS, .regions = regions, .nr_regions = 3,
		.pool_pa = POOL_PA, .pool_pages = POOL_PAGES,
		.policy = policy, .presplit_level = level,
		.tlb = &flush_ops, .tlb_cookie = &fl,
	};
	u32 max_level = policy == PKVM_SPLIT_PRESPLIT ? level : 1;
	struct s2_fixture fx;
	struct model m;
	u64 st = seed, initial_pages;
	long batch = nr_ops / 100 ? nr_ops / 100 : 1, ok = 0;

	fail_if_not(s2_fixture_init(&fx, &cfg) == 0);
	model_init(&m);
	initial_pages = fx.pgt.table_pages;
	compare_all(&fx, &m, max_level);

	for (op_index = 0; op_index < nr_ops; op_index++) {
		u64 r = rand_below(&st, 100), addr, size;
		enum s2_op op;
		u32 owner = 2 + (u32)rand_below(&st, 4);
		struct records *rs;
		long from;
		int want, got;

		/* Undo more often than do, so the map keeps splitting and folding. */
		op = r < 30 ? S2_OP_DONATE : r < 70 ? S2_OP_RECLAIM :
		     r < 80 ? S2_OP_SHARE : S2_OP_UNSHARE;
		rs = op == S2_OP_RECLAIM ? &m.don : op == S2_OP_UNSHARE ? &m.shr : NULL;
		from = -1;
		if (rs && rs->nr && rand_below(&st, 8)) {
			/* Mostly undo (part of) an earlier donation or share. */
			struct record d;
			u64 pages, first;

			from = (long)rand_below(&st, rs->nr);
			d = rs->r[from];
			pages = d.size >> 12;
			first = rand_below(&st, pages);
			addr = d.addr + (first << 12);
			size = (1 + rand_below(&st, pages - first)) << 12;
			owner = d.owner;
			if (rand_below(&st, 2)) {
				addr = d.addr;
				size = d.size;
			}
		} else {
			size = pick_size(&st);
			addr = WIN_LO + (rand_below(&st, WIN_PAGES) << 12);
			if (size >= 2 * MiB && rand_below(&st, 2))
				addr = HYP_ALIGN_DOWN(addr, 2 * MiB);
		}
		switch (rand_below(&st, 200)) {	/* the hostile host */
		case 0: addr |= 0x800; break;
		case 1: size = 0; break;
		case 2: size = ~0ull << 12; break;
		case 3: owner = PKVM_OWNER_HOST; break;
		case 4: owner = PKVM_OWNER_HYP; break;
		case 5: addr = (1ull << IAS) - 4096; size = 8192; break;
		default: break;
		}

		want = model_check(&m, op, addr, size, owner);
		memset(&fl, 0, sizeof(fl));
		switch (op) {
		case S2_OP_DONATE: got = s2_donate(&fx.pgt, addr, size, owner); break;
		case S2_OP_RECLAIM: got = s2_reclaim(&fx.pgt, addr, size, owner); break;
		case S2_OP_SHARE: got = s2_share(&fx.pgt, addr, size); break;
		default: got = s2_unshare(&fx.pgt, addr, size); break;
		}
		if (got != want)
			fprintf(stderr, "op %d addr 0x%llx size 0x%llx owner %u: got %d want %d\n",
				op, (unsigned long long)addr, (unsigned long long)size,
				owner, got, want);
		fail_if_not(got == want);
		if (from >= 0)
			records_forget(rs, (size_t)from, got ? 0 : addr, got ? 0 : size);
		if (got) {
			fail_if_not(fl.calls == 0);
			continue;
		}
		ok++;
		/* Every page that left the host was invalidated in this op. */
		if (op == S2_OP_DONATE)
			for (u64 a = addr; a < addr + size; a += 4096)
				fail_if_not(covered(&fl, a));
		if (policy == PKVM_SPLIT_HITLESS) {
			/* One CMD_SYNC, one range per contiguous change. */
			fail_if_not(fl.calls <= 1);
			fail_if_not(fl.nr_ranges <= 1);
		}
		model_apply(&m, op, addr, size, owner);
		if ((op_index + 1) % batch == 0)
			compare_all(&fx, &m, max_level);
	}
	compare_all(&fx, &m, max_level);
	/* A run that mostly fails proves little. */
	fail_if_not(ok > nr_ops / 4);

	/* Give everything back: the table must be minimal again. */
	for (u64 a = WIN_LO; a < WIN_HI; a += 4096) {
		size_t i = pg(a);

		if (m.flags[i] & REF_SHARED) {
			fail_if_not(s2_unshare(&fx.pgt, a, 4096) == 0);
			m.flags[i] &= (u8)~REF_SHARED;
		}
		if (m.owner[i] != PKVM_OWNER_HOST && !(m.flags[i] & REF_POOL)) {
			fail_if_not(s2_reclaim(&fx.pgt, a, 4096, m.owner[i]) == 0);
			m.owner[i] = PKVM_OWNER_HOST;
		}
	}
	compare_all(&fx, &m, max_level);
	fail_if_not(fx.pgt.table_pages == initial_pages);
	printf("policy %d: %ld ops, %ld succeeded, %llu splits, %llu folds, %llu bbm breaks\n",
	       policy, nr_ops, ok, (unsigned long long)fx.pgt.stats.splits,
	       (unsigned long long)fx.pgt.stats.folds,
	       (unsigned long long)fx.pgt.stats.bbm_breaks);
	s2_fixture_fini(&fx);
	free(m.owner);
	free(m.flags);
	free(m.don.r);
	free(m.shr.r);
}

static long nr_ops(void)
{
	const char *s = getenv("PKVM_PROPERTY_OPS");

	return s ? strtol(s, NULL, 0) : 1000000;
}

START_TEST(hitless_million_ops)
{
	run(PKVM_SPLIT_HITLESS, 0, nr_ops());
}
END_TEST

START_TEST(bbm_ops)
{
	run(PKVM_SPLIT_BBM, 0, nr_ops() / 4);
}
END_TEST

START_TEST(presplit_2m_ops)
{
	run(PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_2M, nr_ops() / 4);
}
END_TEST

int main(void)
{
	const char *s = getenv("PKVM_SEED");
	Suite *su = suite_create("s2_property");
	TCase *tc = tcase_create("random");

	seed = s ? strtoull(s, NULL, 0) : 0x5eed2026ull;
	printf("property seed 0x%llx (replay with PKVM_SEED)\n", (unsigned long long)seed);
	tcase_set_timeout(tc, 600);
	tcase_add_test(tc, hitless_million_ops);
	tcase_add_test(tc, bbm_ops);
	tcase_add_test(tc, presplit_2m_ops);
	suite_add_tcase(su, tc);
	return run_suite(su);
}
