// SPDX-License-Identifier: GPL-2.0
#include "refmodel.h"

#include <stdlib.h>
#include <string.h>

#include "s2_fixture.h"
#include "s2_optimal.h"
#include "testutil.h"

#define SZ_2M (1ull << 21)
#define SZ_1G (1ull << 30)

static bool in_window(const struct refmodel *m, u64 addr)
{
	return addr >= m->lo && addr < m->hi;
}

static size_t pg(const struct refmodel *m, u64 addr)
{
	return (addr - m->lo) >> 12;
}

static bool page_host(const struct refmodel *m, u64 addr)
{
	size_t i;

	if (!in_window(m, addr))
		return false;
	i = pg(m, addr);
	return (m->flags[i] & REF_MEM) && m->owner[i] == PKVM_OWNER_HOST;
}

/* A page became (delta +1) or stopped being (-1) something other than host memory. */
static void count_nonhost(struct refmodel *m, u64 addr, int delta)
{
	m->nonhost_2m[(addr - m->base) / SZ_2M] += (u32)delta;
	m->nonhost_1g[(addr - m->base) / SZ_1G] += (u32)delta;
}

int ref_init(struct refmodel *m, u32 ias, u64 lo, u64 hi,
	     const struct s2_region *regions, u32 nr)
{
	u64 top;

	memset(m, 0, sizeof(*m));
	m->ias = ias;
	m->lo = lo;
	m->hi = hi;
	m->pages = (hi - lo) >> 12;
	m->base = HYP_ALIGN_DOWN(lo, SZ_1G);
	top = (hi + SZ_1G - 1) & ~(SZ_1G - 1);
	m->nr_2m = (top - m->base) / SZ_2M;
	m->nr_1g = (top - m->base) / SZ_1G;
	m->owner = calloc(m->pages, sizeof(*m->owner));
	m->flags = calloc(m->pages, 1);
	m->nonhost_2m = malloc(m->nr_2m * sizeof(u32));
	m->nonhost_1g = malloc(m->nr_1g * sizeof(u32));
	if (!m->owner || !m->flags || !m->nonhost_2m || !m->nonhost_1g)
		return -ENOMEM;
	for (u64 i = 0; i < m->nr_2m; i++)
		m->nonhost_2m[i] = 512;
	for (u64 i = 0; i < m->nr_1g; i++)
		m->nonhost_1g[i] = 512 * 512;
	for (u32 r = 0; r < nr; r++) {
		for (u64 a = regions[r].base; a < regions[r].base + regions[r].size; a += 4096) {
			if (!in_window(m, a))
				return -ERANGE;
			m->flags[pg(m, a)] = REF_MEM;
			count_nonhost(m, a, -1);
		}
	}
	return 0;
}

void ref_fini(struct refmodel *m)
{
	free(m->owner);
	free(m->flags);
	free(m->nonhost_2m);
	free(m->nonhost_1g);
	free(m->don.r);
	free(m->shr.r);
	memset(m, 0, sizeof(*m));
}

int ref_copy(struct refmodel *dst, const struct refmodel *src)
{
	struct refmodel keep = *dst;

	if (dst->pages != src->pages || dst->nr_2m != src->nr_2m ||
	    dst->nr_1g != src->nr_1g || src->don.nr || src->shr.nr)
		return -EINVAL;
	*dst = *src;
	dst->owner = keep.owner;
	dst->flags = keep.flags;
	dst->nonhost_2m = keep.nonhost_2m;
	dst->nonhost_1g = keep.nonhost_1g;
	dst->don = (struct ref_records){ keep.don.r, 0, keep.don.cap };
	dst->shr = (struct ref_records){ keep.shr.r, 0, keep.shr.cap };
	memcpy(dst->owner, src->owner, src->pages * sizeof(*src->owner));
	memcpy(dst->flags, src->flags, src->pages);
	memcpy(dst->nonhost_2m, src->nonhost_2m, src->nr_2m * sizeof(u32));
	memcpy(dst->nonhost_1g, src->nonhost_1g, src->nr_1g * sizeof(u32));
	return 0;
}

void ref_pin(struct refmodel *m, u64 addr, u64 size)
{
	for (u64 a = addr; a < addr + size; a += 4096) {
		size_t i;

		if (!in_window(m, a))
			continue;
		i = pg(m, a);
		if (!(m->flags[i] & REF_MEM))
			continue;	/* a carve-out stays a hole */
		if (m->owner[i] == PKVM_OWNER_HOST)
			count_nonhost(m, a, +1);
		m->owner[i] = PKVM_OWNER_HYP;
		m->flags[i] |= REF_PINNED;
	}
}

int ref_check(const struct refmodel *m, u32 op, u64 addr, u64 size, u32 owner)
{
	if ((op == PKVM_IOMMU_OP_DONATE || op == PKVM_IOMMU_OP_RECLAIM) &&
	    (owner == PKVM_OWNER_HOST || owner > PKVM_OWNER_MAX))
		return -EINVAL;
	if (!size || (addr | size) & 0xfff || addr + size < addr)
		return -EINVAL;
	if (addr + size > 1ull << m->ias)
		return -ERANGE;
	for (u64 a = addr; a < addr + size; a += 4096) {
		size_t i = pg(m, a);
		bool host;

		if (!in_window(m, a) || !(m->flags[i] & REF_MEM))
			return -ERANGE;
		host = m->owner[i] == PKVM_OWNER_HOST;
		switch (op) {
		case PKVM_IOMMU_OP_DONATE:
			if (!host)
				return -EEXIST;
			if (m->flags[i] & REF_SHARED)
				return -EBUSY;
			break;
		case PKVM_IOMMU_OP_RECLAIM:
			if (host)
				return -EALREADY;
			if (m->owner[i] != owner || (m->flags[i] & REF_PINNED))
				return -EPERM;
			break;
		case PKVM_IOMMU_OP_SHARE:
			if (!host)
				return -EPERM;
			if (m->flags[i] & REF_SHARED)
				return -EEXIST;
			break;
		case PKVM_IOMMU_OP_UNSHARE:
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

static void records_add(struct ref_records *rs, u64 addr, u64 size, u32 owner)
{
	if (GROW_ARRAY(rs->r, rs->cap, rs->nr + 1, 1024))
		abort();
	rs->r[rs->nr++] = (struct ref_record){ addr, size, owner };
}

void ref_apply(struct refmodel *m, u32 op, u64 addr, u64 size, u32 owner)
{
	for (u64 a = addr; a < addr + size; a += 4096) {
		size_t i = pg(m, a);

		switch (op) {
		case PKVM_IOMMU_OP_DONATE:
			m->owner[i] = (u16)owner;
			count_nonhost(m, a, +1);
			break;
		case PKVM_IOMMU_OP_RECLAIM:
			m->owner[i] = PKVM_OWNER_HOST;
			count_nonhost(m, a, -1);
			break;
		case PKVM_IOMMU_OP_SHARE:
			m->flags[i] |= REF_SHARED;
			break;
		case PKVM_IOMMU_OP_UNSHARE:
			m->flags[i] &= (u8)~REF_SHARED;
			break;
		default:
			break;
		}
	}
	if (op == PKVM_IOMMU_OP_DONATE)
		records_add(&m->don, addr, size, owner);
	if (op == PKVM_IOMMU_OP_SHARE)
		records_add(&m->shr, addr, size, 0);
}

u32 ref_state(const struct refmodel *m, u64 addr)
{
	size_t i;

	if (!in_window(m, addr))
		return 0;
	i = pg(m, addr);
	if (!(m->flags[i] & REF_MEM))
		return 0;
	if (m->owner[i] != PKVM_OWNER_HOST)
		return OPT_OWNER(m->owner[i]);
	return m->flags[i] & REF_SHARED ? OPT_HOST_SHARED : OPT_HOST;
}

bool ref_host_range(const struct refmodel *m, u64 pa, u64 size)
{
	u64 end = pa + size;

	if (pa < m->base || end > m->base + m->nr_1g * SZ_1G || end < pa)
		return false;
	while (pa < end) {
		if (!(pa & (SZ_1G - 1)) && end - pa >= SZ_1G) {
			if (m->nonhost_1g[(pa - m->base) / SZ_1G])
				return false;
			pa += SZ_1G;
		} else if (!(pa & (SZ_2M - 1)) && end - pa >= SZ_2M) {
			if (m->nonhost_2m[(pa - m->base) / SZ_2M])
				return false;
			pa += SZ_2M;
		} else {
			if (!page_host(m, pa))
				return false;
			pa += 4096;
		}
	}
	return true;
}

/* The first page after i whose owner or flags differ from page i's. */
static u64 run_end(const struct refmodel *m, u64 i)
{
	u64 f8 = m->flags[i] * 0x0101010101010101ull;
	u64 o4 = m->owner[i] * 0x0001000100010001ull;
	u64 j = i + 1;

	/* Eight pages a step where the window is uniform, most of it. */
	for (; j + 8 <= m->pages; j += 8) {
		u64 f, o[2];

		memcpy(&f, &m->flags[j], sizeof(f));
		memcpy(o, &m->owner[j], sizeof(o));
		if (f != f8 || o[0] != o4 || o[1] != o4)
			break;
	}
	while (j < m->pages && m->owner[j] == m->owner[i] && m->flags[j] == m->flags[i])
		j++;
	return j;
}

u64 ref_optimal(const struct refmodel *m, u32 max_block_level)
{
	struct opt_map map = { 0 };
	u64 pages;

	/*
	 * Run by run: the fuzzer asks after every input, and a page-by-page
	 * state lookup over the whole window was most of its time. Pages
	 * with equal owner and flags have the same state; runs of equal
	 * state that differ in raw bytes are merged by opt_map_add().
	 */
	for (u64 i = 0, j; i < m->pages; i = j) {
		u32 st = ref_state(m, m->lo + (i << 12));

		j = run_end(m, i);
		if (st)
			opt_map_add(&map, m->lo + (i << 12), m->lo + (j << 12), st);
	}
	pages = opt_minimal(&map, m->ias, max_block_level).table_pages;
	opt_map_free(&map);
	return pages;
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
		return (1 + rand_below(st, 4)) * SZ_2M;
	return (1 + rand_below(st, 262144)) << 12;
}

void ref_gen(struct refmodel *m, u64 *st, struct ref_op *o)
{
	u64 r = rand_below(st, 100);

	o->owner = 2 + (u32)rand_below(st, 4);
	/* Undo more often than do, so the map keeps splitting and folding. */
	o->op = r < 30 ? PKVM_IOMMU_OP_DONATE : r < 70 ? PKVM_IOMMU_OP_RECLAIM :
		r < 80 ? PKVM_IOMMU_OP_SHARE : PKVM_IOMMU_OP_UNSHARE;
	o->rs = o->op == PKVM_IOMMU_OP_RECLAIM ? &m->don : o->op == PKVM_IOMMU_OP_UNSHARE ? &m->shr : NULL;
	o->from = -1;
	if (o->rs && o->rs->nr && rand_below(st, 8)) {
		/* Mostly undo (part of) an earlier donation or share. */
		struct ref_record d;
		u64 pages, first;

		o->from = (long)rand_below(st, o->rs->nr);
		d = o->rs->r[o->from];
		pages = d.size >> 12;
		first = rand_below(st, pages);
		o->addr = d.addr + (first << 12);
		o->size = (1 + rand_below(st, pages - first)) << 12;
		o->owner = d.owner;
		if (rand_below(st, 2)) {
			o->addr = d.addr;
			o->size = d.size;
		}
	} else {
		o->size = pick_size(st);
		o->addr = m->lo + (rand_below(st, m->pages) << 12);
		if (o->size >= SZ_2M && rand_below(st, 2))
			o->addr = HYP_ALIGN_DOWN(o->addr, SZ_2M);
	}
	switch (rand_below(st, 200)) {	/* the hostile host */
	case 0: o->addr |= 0x800; break;
	case 1: o->size = 0; break;
	case 2: o->size = ~0ull << 12; break;
	case 3: o->owner = PKVM_OWNER_HOST; break;
	case 4: o->owner = PKVM_OWNER_HYP; break;
	case 5: o->addr = (1ull << m->ias) - 4096; o->size = 8192; break;
	default: break;
	}
}

/* The records part of ref_done(): what is left of the record it undid. */
static void records_done(struct refmodel *m, const struct ref_op *o, int ret)
{
	if (o->from >= 0) {
		struct ref_records *rs = o->rs;
		struct ref_record d = rs->r[o->from];

		rs->r[o->from] = rs->r[--rs->nr];
		if (!ret && o->addr > d.addr)
			records_add(rs, d.addr, o->addr - d.addr, d.owner);
		if (!ret && o->addr + o->size < d.addr + d.size)
			records_add(rs, o->addr + o->size,
				    d.addr + d.size - o->addr - o->size, d.owner);
	}
}

int ref_host_check(const struct refmodel *m, u64 addr, u64 size, bool access, u32 owner)
{
	if (!access && (owner == PKVM_OWNER_HOST || owner > PKVM_OWNER_MAX))
		return -EINVAL;
	if (!size || (addr | size) & 0xfff || addr + size < addr)
		return -EINVAL;
	if (addr + size > 1ull << m->ias)
		return -ERANGE;
	/* Pinned pages are the hypervisor's: only a no-op may touch them. */
	for (u64 a = HYP_MAX(addr, m->lo); a < HYP_MIN(addr + size, m->hi); a += 4096) {
		size_t i = pg(m, a);

		if ((m->flags[i] & REF_PINNED) && (access || owner != m->owner[i]))
			return -EPERM;
	}
	return 0;
}

void ref_host_apply(struct refmodel *m, u64 addr, u64 size, bool access, u32 owner)
{
	for (u64 a = HYP_MAX(addr, m->lo); a < HYP_MIN(addr + size, m->hi); a += 4096) {
		size_t i = pg(m, a);
		bool host = m->owner[i] == PKVM_OWNER_HOST;

		if (!(m->flags[i] & REF_MEM))
			continue;
		if (access && !host) {
			m->owner[i] = PKVM_OWNER_HOST;
			count_nonhost(m, a, -1);
		} else if (!access) {
			if (host)
				count_nonhost(m, a, +1);
			m->owner[i] = (u16)owner;
			m->flags[i] &= (u8)~REF_SHARED;
		}
	}
	if (!access)
		records_add(&m->don, addr, size, owner);
}

void ref_host_done(struct refmodel *m, const struct ref_op *o, bool access, int ret)
{
	records_done(m, o, ret);
	if (!ret)
		ref_host_apply(m, o->addr, o->size, access, o->owner);
}

/*
 * Keep the records exact: an operation on part of a record leaves what is
 * left of it on either side; a failed one means the record went stale.
 */
void ref_done(struct refmodel *m, const struct ref_op *o, int ret)
{
	records_done(m, o, ret);
	if (!ret)
		ref_apply(m, o->op, o->addr, o->size, o->owner);
}
