// SPDX-License-Identifier: GPL-2.0
/*
 * Ownership changes on the shadow stage 2: check, then set, then fold, as
 * three visitors of the one walk (s2_walk.c).
 */
#include "s2_pgtable.h"

/* ---- table geometry that depends on the split policy ---- */

/*
 * Can a valid leaf live at this level when blocks may start at max_block?
 * Never at 0, pages always at 3. The largest block level is an argument
 * so that a policy change can be costed before it is made.
 */
static bool can_block_at(u32 max_block, u32 level)
{
	return level == S2_LAST_LEVEL ||
	       (level >= PKVM_LEVEL_1G && level >= max_block);
}

static bool can_block(const struct s2_pgtable *pgt, u32 level)
{
	return can_block_at(pgt->max_block_level, level);
}

/* Table pages to turn one fully covered invalid entry into valid leaves. */
static u64 expand_need_at(u32 max_block, u32 level)
{
	if (can_block_at(max_block, level))
		return 0;
	return 1 + S2_PTES_PER_TABLE * expand_need_at(max_block, level + 1);
}

static u64 expand_need(const struct s2_pgtable *pgt, u32 level)
{
	return expand_need_at(pgt->max_block_level, level);
}

/*
 * Exact table pages needed to make [s, e) hold the target state inside the
 * leaf at (level, lo): a partially covered leaf needs one table and then
 * the same question for its (at most two) partially covered children; a
 * covered one needs none unless the level cannot hold a valid leaf.
 */
static u64 leaf_need(const struct s2_pgtable *pgt, u32 level, u64 lo,
		     u64 s, u64 e, bool valid)
{
	u64 hi = lo + s2_level_size(level);
	u64 child, first, last, n;

	if (s <= lo && hi <= e)
		return valid ? expand_need(pgt, level) : 0;
	child = s2_level_size(level + 1);
	first = HYP_ALIGN_DOWN(HYP_MAX(s, lo), child);
	last = HYP_ALIGN_DOWN(HYP_MIN(e, hi) - 1, child);
	n = 1 + leaf_need(pgt, level + 1, first, s, e, valid);
	if (last != first)
		n += leaf_need(pgt, level + 1, last, s, e, valid);
	if (last > first + child && valid)
		n += ((last - first) / child - 1) * expand_need(pgt, level + 1);
	return n;
}

/* ---- descriptor stores, counted, with cache cleaning when needed ---- */

static void write_desc(struct s2_pgtable *pgt, u64 *ptep, u64 v)
{
	hyp_write_pte(ptep, v);
	if (pgt->noncoherent_walk)
		hyp_clean_dcache(ptep, sizeof(*ptep));
	pgt->stats.desc_writes++;
}

/* g's invalidation, made complete in the SMMU: the table writes come first. */
static int tlb_flush(struct s2_pgtable *pgt, const struct s2_gather *g)
{
	hyp_wmb_dev();
	if (g->full)
		pgt->stats.tlbi_full++;
	else
		pgt->stats.tlbi_ranges += g->nr;
	pgt->stats.flushes++;
	return pgt->tlb ? pgt->tlb->flush(pgt->tlb_cookie, g) : 0;
}

static int flush(struct s2_pgtable *pgt, struct s2_gather *g)
{
	int ret = 0;

	if (!s2_gather_empty(g))
		ret = tlb_flush(pgt, g);
	/*
	 * Only now can no walk reach the unlinked tables. On a failed flush
	 * they stay out of the pool for good: reusing a page the SMMU may
	 * still walk could map a donated page.
	 */
	if (!ret)
		for (u32 i = 0; i < g->nr_freed; i++)
			s2_pool_free(&pgt->pool, g->freed[i]);
	s2_gather_reset(g);
	return ret;
}

/*
 * Break-before-make: the entry goes invalid and the break must be complete
 * in the SMMU before the new entry may be written (SMMUv3 IHI0070, 3.21.1:
 * without BBML, changing a block's size needs an invalid entry and an
 * invalidation in between, or the SMMU may hit a TLB conflict).
 */
static int bbm_break(struct s2_pgtable *pgt, u64 *ptep, u64 addr, u32 level,
		     u64 granule)
{
	struct s2_gather brk;

	s2_gather_init(&brk, pgt->full_threshold);
	write_desc(pgt, ptep, s2_desc_hole());
	s2_gather_add(&brk, addr, addr + s2_level_size(level), granule);
	brk.walk = true;
	pgt->stats.bbm_breaks++;
	return flush(pgt, &brk);
}

/* Link a filled table at *ptep, in place of the leaf 'old'. */
static int install_table(struct s2_pgtable *pgt, u64 *ptep, u64 old, u64 addr,
			 u32 level, u64 table_pa)
{
	int ret = 0;

	if (pgt->noncoherent_walk)
		hyp_clean_dcache(hyp_phys_to_virt(table_pa), HYP_PAGE_SIZE);
	/* The table's entries must be visible before the link to it. */
	hyp_wmb_dev();
	if (s2_desc_valid(old) && pgt->bbm)
		ret = bbm_break(pgt, ptep, addr, level, s2_level_size(level));
	write_desc(pgt, ptep, s2_desc_table(table_pa));
	return ret;
}

/* Replace the leaf at *ptep by a table of 512 children in the same state. */
static int split(struct s2_pgtable *pgt, u64 *ptep, u64 old, u64 addr, u32 level)
{
	u64 table_pa = s2_pool_alloc(&pgt->pool);
	u64 *table = hyp_phys_to_virt(table_pa);
	u64 child = s2_level_size(level + 1);

	/*
	 * Reserved by the check pass: running dry here means the count was
	 * wrong and the table is half changed, which no error code can
	 * describe to the caller.
	 */
	if (!table_pa)
		hyp_bug("table pool ran dry after the check pass reserved it");
	if (s2_desc_valid(old)) {
		/*
		 * Child i maps addr + i * child: only its address bits differ
		 * from child 0's, and addr + 512 * child stays inside them (the
		 * IAS is at most 48 bits), so adding is building (fold() reads
		 * a table back the same way). Four a round: a split is a page
		 * of stores, and the loop's own count would be most of it.
		 */
		u64 d = s2_desc_leaf(addr, level + 1, s2_desc_attrs(old));

		for (u32 i = 0; i < S2_PTES_PER_TABLE; i += 4, d += 4 * child) {
			table[i] = d;
			table[i + 1] = d + child;
			table[i + 2] = d + 2 * child;
			table[i + 3] = d + 3 * child;
		}
	} else if (old) {
		for (u32 i = 0; i < S2_PTES_PER_TABLE; i++)
			table[i] = old;
	}
	/*
	 * Filling a table no walk can reach yet needs no ordering against the
	 * SMMU: counted apart from the stores into linked tables. A zero page
	 * already reads as 512 holes: nothing to write.
	 */
	pgt->stats.table_fills += old ? S2_PTES_PER_TABLE : 0;
	pgt->stats.splits++;
	pgt->table_pages++;
	return install_table(pgt, ptep, old, addr, level, table_pa);
}

/* ---- the operation: what is allowed, and what it writes ---- */

struct op_data {
	u32 op;
	u32 owner;
	u64 need;		/* check pass: table pages the set pass needs */
	bool may_fuse;		/* the check visit may make a one-leaf change */
	bool fused;		/* it did: there is no set pass */
	struct s2_gather *g;
	int err;		/* set pass: first failure to report */
	/*
	 * set pass of a host transition: the runs being recorded. pre holds
	 * what must be undone before a donation (an owner's reclaim, an
	 * unshare), run the change itself; pre is always pushed first.
	 */
	struct s2_ring_rec pre, run;
	bool pre_open, run_open;
};

static bool op_makes_valid(u32 op)
{
	return op != PKVM_IOMMU_OP_DONATE && op != S2_OP_HOST_OFF;
}

static bool op_is_host(u32 op)
{
	return op == S2_OP_HOST_OFF || op == S2_OP_HOST_ON;
}

/*
 * Does this change fold the tables it leaves uniform? Set-up (mapping
 * memory) always does, so the table starts minimal; LAZY leaves every
 * other fold to s2_compact().
 */
static bool folds_in_change(const struct s2_pgtable *pgt, u32 op)
{
	return pgt->fold == PKVM_FOLD_EAGER || op == S2_OP_MAP;
}

/*
 * Does a leaf already give the host the access a transition wants? Then
 * the transition leaves it alone. A hole is never reachable by DMA, so it
 * is in either target: pKVM may know memory the shadow was not given.
 */
static bool host_in_target(u32 op, u32 owner, u64 d)
{
	if (s2_desc_is_hole(d))
		return true;
	if (op == S2_OP_HOST_ON)
		return s2_desc_valid(d);
	return !s2_desc_valid(d) && s2_desc_owner(d) == owner;
}

static inline void push_rec(struct s2_pgtable *pgt, struct s2_ring_rec *r, bool *open)
{
	if (*open && pgt->ring)
		s2_ring_push(pgt->ring, r->op, r->addr, r->len, r->owner);
	*open = false;
}

/* Add [addr, addr + len) to the open record r, or push it and start anew. */
static bool extend(struct s2_ring_rec *r, bool open, u32 op, u64 addr, u64 len,
		   u32 owner)
{
	if (!open || r->op != op || r->owner != owner || r->addr + r->len != addr)
		return false;
	r->len += len;
	return true;
}

static void host_record(struct s2_pgtable *pgt, struct op_data *od, bool pre,
			u32 op, u64 addr, u64 len, u32 owner)
{
	struct s2_ring_rec *r = pre ? &od->pre : &od->run;
	bool *open = pre ? &od->pre_open : &od->run_open;

	if (extend(r, *open, op, addr, len, owner))
		return;
	/* What undoes a run's pages comes before the run. */
	push_rec(pgt, &od->pre, &od->pre_open);
	if (!pre)
		push_rec(pgt, &od->run, &od->run_open);
	*r = (struct s2_ring_rec){ .op = op, .owner = owner, .addr = addr, .len = len };
	*open = true;
}

/* What a host transition did to one leaf, as ownership changes. */
static void host_record_leaf(struct s2_pgtable *pgt, struct op_data *od,
			     u64 old, u64 addr, u64 len)
{
	if (od->op == S2_OP_HOST_ON) {
		host_record(pgt, od, false, PKVM_IOMMU_OP_RECLAIM, addr, len,
			    s2_desc_owner(old));
		return;
	}
	if (!s2_desc_valid(old))
		host_record(pgt, od, true, PKVM_IOMMU_OP_RECLAIM, addr, len,
			    s2_desc_owner(old));
	else if (old & S2_ATTR_SW_SHARED)
		host_record(pgt, od, true, PKVM_IOMMU_OP_UNSHARE, addr, len,
			    PKVM_OWNER_HOST);
	host_record(pgt, od, false, PKVM_IOMMU_OP_DONATE, addr, len, od->owner);
}

static int check_leaf(u32 op, u32 owner, u64 d)
{
	bool valid = s2_desc_valid(d);
	bool shared = valid && (d & S2_ATTR_SW_SHARED);

	if (op == S2_OP_MAP)
		return s2_desc_is_hole(d) ? 0 : -EEXIST;
	if (s2_desc_is_hole(d))
		return -ERANGE;
	switch (op) {
	case PKVM_IOMMU_OP_DONATE:
		if (!valid)
			return -EEXIST;
		return shared ? -EBUSY : 0;
	case PKVM_IOMMU_OP_RECLAIM:
		if (valid)
			return -EALREADY;
		return s2_desc_owner(d) == owner ? 0 : -EPERM;
	case PKVM_IOMMU_OP_SHARE:
		if (!valid)
			return -EPERM;
		return shared ? -EEXIST : 0;
	case PKVM_IOMMU_OP_UNSHARE:
		if (!valid)
			return -EPERM;
		return shared ? 0 : -ENOENT;
	default:
		return -EINVAL;
	}
}

static inline u64 target_desc(u32 op, u32 owner, u64 addr, u32 level)
{
	switch (op) {
	case PKVM_IOMMU_OP_DONATE:
	case S2_OP_HOST_OFF:
		return s2_desc_invalid(owner);
	case PKVM_IOMMU_OP_SHARE:
		return s2_desc_leaf(addr, level, S2_ATTR_HOST | S2_ATTR_SW_SHARED);
	default:
		return s2_desc_leaf(addr, level, S2_ATTR_HOST);
	}
}

static bool range_pinned(const struct s2_pgtable *pgt, u64 s, u64 e)
{
	for (u32 i = 0; i < pgt->nr_pinned; i++) {
		const struct s2_region *p = &pgt->pinned[i];

		if (s < p->base + p->size && p->base < e)
			return true;
	}
	return false;
}

static inline void write_leaf(struct s2_walk_ctx *ctx, struct op_data *od, u32 op,
			      u64 size);

/*
 * Inline into the check pass: its context fields stay in registers. op is
 * od->op, a constant where the caller knows it (check_donate(),
 * check_reclaim()), so its tests fold away there.
 */
/* leaf_check(): a host transition's leaf that is already in its target. */
#define S2_LEAF_IN_TARGET	1

/*
 * May op change the leaf 'old' (at addr, of level) for the range
 * [start, end), and how many table pages does that take (*need)? 0, a
 * refusal (-errno), or S2_LEAF_IN_TARGET (nothing to do, *need unset).
 * Plain values in, so that a caller holding them in registers keeps them
 * there (change_one_leaf()).
 */
static inline __attribute__((__always_inline__)) int
leaf_check(const struct s2_pgtable *pgt, u32 op, u32 owner, u64 old, u64 addr,
	   u32 level, u64 start, u64 end, u64 *need)
{
	int ret;

	if (op_is_host(op)) {
		if (host_in_target(op, owner, old))
			return S2_LEAF_IN_TARGET;
	} else {
		ret = check_leaf(op, owner, old);
		if (ret)
			return ret;
	}
	/* Pinned memory is the hypervisor's for good: no transition moves it. */
	if ((op == PKVM_IOMMU_OP_RECLAIM || op_is_host(op)) &&
	    range_pinned(pgt, HYP_MAX(addr, start), HYP_MIN(addr + s2_level_size(level), end)))
		return -EPERM;
	/* A covered page needs no table whatever it becomes. */
	if (level == S2_LAST_LEVEL && start <= addr && addr + HYP_PAGE_SIZE <= end)
		*need = 0;
	else
		*need = leaf_need(pgt, level, addr, start, end, op_makes_valid(op));
	return 0;
}

static inline __attribute__((__always_inline__)) int
check_visit_op(struct s2_walk_ctx *ctx, u32 op)
{
	struct op_data *od = ctx->arg;
	u64 need;
	int ret;

	ret = leaf_check(ctx->pgt, op, od->owner, ctx->old, ctx->addr, ctx->level,
			 ctx->start, ctx->end, &need);
	if (ret)
		return ret == S2_LEAF_IN_TARGET ? 0 : ret;
	od->need += need;
	/*
	 * A change that is exactly this leaf and needs no table is made here:
	 * its check has passed and nothing else is written, so it stays all
	 * or nothing, and the set pass would only descend to the same entry
	 * again. A change that folds keeps its set pass, whose post-order
	 * visits make the folds.
	 */
	if (od->may_fuse && !need && ctx->addr == ctx->start &&
	    ctx->addr + s2_level_size(ctx->level) == ctx->end) {
		od->fused = true;
		/*
		 * Straight to the write: the check above is set_leaf()'s own
		 * (not in the target, covered, no table needed), done once.
		 */
		write_leaf(ctx, od, op, s2_level_size(ctx->level));
	}
	return 0;
}

static inline __attribute__((__always_inline__)) int
check_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	return check_visit_op(ctx, ((struct op_data *)ctx->arg)->op);
}

static inline __attribute__((__always_inline__)) int
check_donate(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	return check_visit_op(ctx, PKVM_IOMMU_OP_DONATE);
}

static inline __attribute__((__always_inline__)) int
check_reclaim(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	return check_visit_op(ctx, PKVM_IOMMU_OP_RECLAIM);
}

static int set_leaf(struct s2_walk_ctx *ctx, struct op_data *od)
{
	struct s2_pgtable *pgt = ctx->pgt;
	u64 size = s2_level_size(ctx->level);
	bool covered = ctx->start <= ctx->addr && ctx->addr + size <= ctx->end;

	if (op_is_host(od->op) && host_in_target(od->op, od->owner, ctx->old))
		return 0;
	if (!covered || (op_makes_valid(od->op) && !can_block(pgt, ctx->level)))
		return split(pgt, ctx->ptep, ctx->old, ctx->addr, ctx->level);
	write_leaf(ctx, od, od->op, size);
	return 0;
}

/*
 * The entry is a covered leaf that can hold the target: write it. Inline:
 * it is the whole of a fused change's set, and small.
 */
/*
 * Writes op's target into the leaf 'old' at ptep; true when that unmapped
 * a translation, which then needs invalidating. Only a translation that
 * existed can be cached: an entry may sit in a TLB only if it is valid
 * and its use does not generate a Translation, Address size or Access
 * flag fault (Arm ARM DDI 0487, chapter D8, the overview of a translation
 * stage; the SMMU's caches, IHI 0070 16.2, hold translations of the same
 * tables, and Linux's io-pgtable-arm maps without any invalidation on the
 * same ground). So mapping (a reclaim, in LAZY mode all of it) needs no
 * invalidation and unmapping needs exactly the range it unmapped. The
 * software bits of a share are ignored by the SMMU and change nothing it
 * can cache.
 */
static inline __attribute__((__always_inline__)) bool
leaf_write(struct s2_pgtable *pgt, u64 *ptep, u64 old, u32 op, u32 owner, u64 addr,
	   u32 level)
{
	u64 new = target_desc(op, owner, addr, level);

	write_desc(pgt, ptep, new);
	return s2_desc_valid(old) && !s2_desc_valid(new);
}

static inline __attribute__((__always_inline__)) void
write_leaf(struct s2_walk_ctx *ctx, struct op_data *od, u32 op, u64 size)
{
	struct s2_pgtable *pgt = ctx->pgt;
	bool unmapped = leaf_write(pgt, ctx->ptep, ctx->old, op, od->owner, ctx->addr,
				   ctx->level);

	if (op_is_host(op))
		host_record_leaf(pgt, od, ctx->old, ctx->addr, size);
	if (unmapped)
		s2_gather_add(od->g, ctx->addr, ctx->addr + size, size);
	/*
	 * A transition that moves unmapped pages to another owner caches
	 * nothing either, but the table around them may fold, and fold()
	 * counts on the operation's range being invalidated (non-leaf) to
	 * drop the walk-cache entry of the table it frees.
	 */
	else if (op == S2_OP_HOST_OFF && !s2_desc_valid(ctx->old) &&
		 folds_in_change(pgt, op))
		s2_gather_add(od->g, ctx->addr, ctx->addr + size, size);
}

/*
 * A table whose 512 entries describe one block (or one owner's invalid
 * range) goes back to being a single entry, so after a reclaim the table
 * is again the minimal one. ranged: g already holds a range inside the
 * table's span (the change being made), whose non-leaf invalidation drops
 * the table's walk-cache entry. Returns true when it folded.
 */
static bool fold(struct s2_pgtable *pgt, u64 *ptep, u64 tdesc, u64 addr,
		 u32 level, struct s2_gather *g, bool ranged, int *err)
{
	u64 table_pa = s2_desc_oa(tdesc);
	const u64 *t = hyp_phys_to_virt(table_pa);
	u64 e0 = hyp_read_pte(&t[0]);
	u64 child = s2_level_size(level + 1);
	u64 new;
	int ret;

	if (s2_desc_is_table(e0, level + 1))
		return false;
	if (s2_desc_valid(e0)) {
		if (!can_block(pgt, level) || s2_desc_oa(e0) != addr)
			return false;
		for (u32 i = 1; i < S2_PTES_PER_TABLE; i++)
			if (hyp_read_pte(&t[i]) != e0 + i * child)
				return false;
		new = s2_desc_leaf(addr, level, s2_desc_attrs(e0));
	} else {
		for (u32 i = 1; i < S2_PTES_PER_TABLE; i++)
			if (hyp_read_pte(&t[i]) != e0)
				return false;
		new = e0;
	}

	if (s2_desc_valid(new) && pgt->bbm) {
		ret = bbm_break(pgt, ptep, addr, level, child);
		if (ret && !*err)
			*err = ret;
		write_desc(pgt, ptep, new);
		/* The break's sync made the table unreachable already. */
		if (!ret)
			s2_pool_free(&pgt->pool, table_pa);
	} else {
		write_desc(pgt, ptep, new);
		/*
		 * Valid children may sit in the TLB as smaller entries: drop
		 * them and the walk-cache entry with the table's whole span.
		 * Invalid children were never cached, and the operation's own
		 * range lies inside this span, so its non-leaf invalidation
		 * already drops the walk-cache entry: mark it non-leaf only.
		 */
		if (s2_desc_valid(new))
			s2_gather_add(g, addr, addr + s2_level_size(level), child);
		/*
		 * No change's range to lean on (compaction, a policy change):
		 * one non-leaf invalidation anywhere in the span drops the
		 * table's walk-cache entry, its invalid children hold no TLB
		 * entry.
		 */
		else if (!ranged)
			s2_gather_add(g, addr, addr + s2_level_size(level),
				      s2_level_size(level));
		g->walk = true;
		g->freed[g->nr_freed++] = table_pa;
		if (g->nr_freed == S2_GATHER_FREED) {
			ret = flush(pgt, g);
			if (ret && !*err)
				*err = ret;
		}
	}
	pgt->table_pages--;
	pgt->stats.folds++;
	return true;
}

static int fold_post(struct s2_walk_ctx *ctx, struct s2_gather *g, bool ranged,
		     int *err)
{
	/* The root is not an entry of anything: it never folds. */
	fold(ctx->pgt, ctx->ptep, ctx->old, ctx->addr, ctx->level, g, ranged, err);
	return 0;
}

static int set_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	struct op_data *od = ctx->arg;
	int ret;

	if (visit == S2_VISIT_TABLE_POST)
		return folds_in_change(ctx->pgt, od->op) ?
		       fold_post(ctx, od->g, true, &od->err) : 0;
	ret = set_leaf(ctx, od);
	if (ret && !od->err)
		od->err = ret;
	/* Keep walking: a failed flush must not leave half a range done. */
	return 0;
}

static int check_args(const struct s2_pgtable *pgt, u64 addr, u64 size)
{
	if (!size || !HYP_IS_ALIGNED(addr | size, HYP_PAGE_SIZE) ||
	    addr + size < addr)
		return -EINVAL;
	if (addr + size > (1ull << pgt->ias))
		return -ERANGE;
	return 0;
}

/*
 * The check pass alone: is the change allowed, and what does it cost?
 * Always inline: in apply_locked() it is most of every change, and a call
 * would be a prologue and a spill of the arguments for each.
 */
static inline __attribute__((__always_inline__)) int
count_locked(struct s2_pgtable *pgt, struct op_data *od, u32 op, u64 addr, u64 size)
{
	int ret = check_args(pgt, addr, size);

	/* Every change's hot path: the one walk, inline, its visitor known. */
	if (!ret)
		ret = __builtin_constant_p(op) && op == PKVM_IOMMU_OP_DONATE ?
		      s2_walk_inline(pgt, addr, size, check_donate, od, S2_VISIT_LEAF) :
		      __builtin_constant_p(op) && op == PKVM_IOMMU_OP_RECLAIM ?
		      s2_walk_inline(pgt, addr, size, check_reclaim, od, S2_VISIT_LEAF) :
		      s2_walk_inline(pgt, addr, size, check_visitor, od, S2_VISIT_LEAF);
	return ret;
}

/* ---- compaction: the folds LAZY mode puts off ---- */

struct compact_data {
	struct s2_gather *g;
	u32 budget;
	u32 folded;
	u64 scan_left;	/* table pages this call may still look at */
	u64 resume;	/* where the next call starts, when this one stops */
	int err;
};

static int compact_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	struct compact_data *cd = ctx->arg;

	(void)visit;
	if (fold(ctx->pgt, ctx->ptep, ctx->old, ctx->addr, ctx->level, cd->g,
		 false, &cd->err)) {
		cd->folded++;
		ctx->pgt->stats.compact_folds++;
	}
	if (--cd->scan_left && cd->folded < cd->budget)
		return 0;
	/* Post-order: the next call re-enters the ancestors and folds them. */
	cd->resume = ctx->addr + s2_level_size(ctx->level);
	return 1;
}

/*
 * One bounded step of a pass over the whole table, its invalidations in g.
 * A pass that began at address 0 and ended with no change made meanwhile
 * left the minimal table: a fold can only make its parent foldable, and
 * the walk visits the parent after it.
 */
static int compact_locked(struct s2_pgtable *pgt, u32 budget, u64 scan,
			  struct s2_gather *g, u32 *folded, bool *more)
{
	u64 top = 1ull << pgt->ias;
	struct compact_data cd = { .g = g, .budget = budget, .scan_left = scan };
	struct s2_walker w = { compact_visitor, &cd, S2_VISIT_TABLE_POST };
	int ret;

	*folded = 0;
	*more = false;
	/* Nothing to look for: the walk would only confirm it. */
	if (pgt->compact.minimal)
		return 0;
	if (pgt->compact.cursor >= top)
		pgt->compact.cursor = 0;
	if (!pgt->compact.cursor)
		pgt->compact.dirty = false;
	ret = s2_walk(pgt, pgt->compact.cursor, top - pgt->compact.cursor, &w);
	if (ret == 1) {
		pgt->compact.cursor = cd.resume;
		*more = true;
	} else {
		pgt->compact.cursor = 0;
		*more = pgt->compact.dirty;
		pgt->compact.minimal = !*more;
	}
	*folded = cd.folded;
	return cd.err;
}

/*
 * Pool pressure in LAZY mode: fold a bounded number of tables, looking at
 * a bounded number, or (full) every table that folds, then flush so the
 * freed pages are back in the pool. A bounded step that found nothing to
 * fold backs off for S2_PRESSURE_BACKOFF changes: a table full of owned
 * pages (a fragmenting workload) must not be walked again on every change.
 * Never fails for want of pages, only for a failed flush.
 */
static int relieve_locked(struct s2_pgtable *pgt, struct s2_gather *g, bool full)
{
	u32 folded;
	bool more;
	int ret;

	do {
		ret = full ? compact_locked(pgt, ~0u, ~0ull, g, &folded, &more) :
		      compact_locked(pgt, S2_PRESSURE_FOLDS, S2_PRESSURE_SCAN, g,
				     &folded, &more);
	} while (!ret && full && more);
	/*
	 * Back off only after a whole pass found nothing: a step that stopped
	 * at its scan bound may have left foldable tables further on.
	 */
	if (!full && !folded && !more)
		pgt->compact.backoff = S2_PRESSURE_BACKOFF;
	if (!ret && !s2_gather_empty(g))
		ret = flush(pgt, g);
	return ret;
}

/*
 * LAZY mode, a change about to be made: below the low watermark fold
 * first, everything when the pool cannot cover need otherwise, and count
 * again (a fold on the change's path costs a split back, never more than
 * it freed).
 */
static int relieve_for(struct s2_pgtable *pgt, struct op_data *od, u64 addr,
		       u64 size, struct s2_gather *g)
{
	int ret;

	bool full = od->need > pgt->pool.nr_free;

	if (pgt->fold != PKVM_FOLD_LAZY ||
	    pgt->pool.nr_free >= od->need + pgt->fold_low_watermark)
		return 0;
	if (!full && pgt->compact.backoff) {
		pgt->compact.backoff--;
		return 0;
	}
	pgt->stats.pressure_reliefs++;
	ret = relieve_locked(pgt, g, full);
	if (ret)
		return ret;
	od->need = 0;
	return count_locked(pgt, od, od->op, addr, size);
}

int s2_compact(struct s2_pgtable *pgt, u32 budget, u32 *folded, bool *more)
{
	struct s2_gather g;
	int ret, fret;

	*folded = 0;
	*more = false;
	if (!budget)
		return -EINVAL;
	hyp_spin_lock(&pgt->lock);
	/* A prepared host transition counted on today's table shape. */
	if (pgt->pending.on) {
		hyp_spin_unlock(&pgt->lock);
		return -EBUSY;
	}
	s2_gather_init(&g, pgt->full_threshold);
	ret = compact_locked(pgt, budget, (u64)budget * S2_COMPACT_SCAN_PER_FOLD,
			     &g, folded, more);
	fret = flush(pgt, &g);
	pgt->stats.ops[S2_OP_COMPACT]++;
	hyp_spin_unlock(&pgt->lock);
	return ret ? ret : fret;
}

int s2_set_fold_mode(struct s2_pgtable *pgt, enum pkvm_fold_mode mode)
{
	struct s2_gather g;
	int ret = 0;

	if (mode > PKVM_FOLD_LAZY)
		return -EINVAL;
	hyp_spin_lock(&pgt->lock);
	if (pgt->pending.on) {
		hyp_spin_unlock(&pgt->lock);
		return -EBUSY;
	}
	/* EAGER promises the minimal table at every instant: start there. */
	if (mode == PKVM_FOLD_EAGER && pgt->fold != PKVM_FOLD_EAGER) {
		s2_gather_init(&g, pgt->full_threshold);
		ret = relieve_locked(pgt, &g, true);
		if (ret)
			flush(pgt, &g);
	}
	/* Even after a failed flush: the folds are made, as for a change. */
	pgt->fold = mode;
	hyp_spin_unlock(&pgt->lock);
	return ret;
}

/* A change was made: counted, recorded with rec_owner (unless S2_NO_RECORD). */
static inline __attribute__((__always_inline__)) void
change_made(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 rec_owner)
{
	pgt->stats.ops[op]++;
	/*
	 * Tables a compaction pass already went by may fold now. Tested
	 * first: after the first change these are already so, and a store
	 * is dearer than a load on the hot path (change_one_leaf()).
	 */
	if (!pgt->compact.dirty || pgt->compact.minimal) {
		pgt->compact.dirty = true;
		pgt->compact.minimal = false;
	}
	if (pgt->ring && rec_owner != S2_NO_RECORD && op < PKVM_IOMMU_OP_NR)
		s2_ring_push(pgt->ring, op, addr, size, rec_owner);
}

/* change_one_leaf(): not one leaf; nothing was written. */
#define S2_NOT_ONE_LEAF		1

/*
 * A change that is exactly one leaf and needs no table: LAZY churn's
 * steady state, and every DMA map and unmap of a page or block already
 * split to its size. It is the general path's fused change (check pass,
 * leaf_check() passes, leaf_write()) with nothing in between: the descent
 * and the decision stay in registers, and the invalidation, when it
 * unmapped, goes out from pgt->one. Every store a change makes is one
 * more the CPU must hold until the descriptor load before it completes,
 * and a full store queue stops the next change's descent from starting
 * under that miss: the general path made 72 stores a donation and 54 a
 * reclaim, this one makes about 20 and 15 (churn-4k under callgrind's
 * cache simulation; io-pgtable-arm's unmap and map make 30 and 28). A
 * refusal is the one the general path's check of the same leaf makes.
 * The caller has checked the arguments and holds the lock; not for host
 * transitions, and not where the change folds.
 */
static inline __attribute__((__always_inline__)) int
change_one_leaf(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner,
		u32 rec_owner)
{
	u64 *ptep, *table, old, need;
	u32 level, entries;
	bool unmapped;
	int ret;

	ptep = s2_descend(pgt, addr, addr + size, &table, &level, &entries, &old);
	if (!ptep)
		return S2_NOT_ONE_LEAF;
	ret = leaf_check(pgt, op, owner, old, HYP_ALIGN_DOWN(addr, s2_level_size(level)),
			 level, addr, addr + size, &need);
	if (ret < 0)
		return ret;
	if (ret || need || s2_level_size(level) != size)
		return S2_NOT_ONE_LEAF;
	unmapped = leaf_write(pgt, ptep, old, op, owner, addr, level);
	/* Recorded before the flush, as in apply_locked(): the record follows the table. */
	change_made(pgt, op, addr, size, rec_owner);
	if (!unmapped)
		return 0;
	pgt->one.r[0] = (struct s2_inv_range){ addr, addr + size, size };
	return tlb_flush(pgt, &pgt->one);
}

/* The set pass: apart, so a fused change does not even build its walker. */
static int set_pass(struct s2_pgtable *pgt, struct op_data *od, u64 addr, u64 size)
{
	struct s2_walker set = { set_visitor, od,
				 S2_VISIT_LEAF | S2_VISIT_TABLE_POST };
	int ret = s2_walk(pgt, addr, size, &set);

	return ret ? ret : od->err;
}

/*
 * One operation under the engine's lock, its invalidation added to g (the
 * caller flushes). The check pass decides before the first write. A change
 * made is recorded with rec_owner unless that is S2_NO_RECORD; a host
 * transition records what it changed as it goes.
 */
static int apply_locked(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner,
			u32 rec_owner, struct s2_gather *g)
{
	struct op_data od;
	int ret;

	/*
	 * Field by field: the ring records are only read once opened, and
	 * clearing them would put a 100-byte store on every change.
	 */
	od.op = op;
	od.owner = owner;
	od.need = 0;
	od.may_fuse = !folds_in_change(pgt, op);
	od.fused = false;
	od.g = g;
	od.err = 0;
	od.pre_open = false;
	od.run_open = false;

	if (pgt->pending.on)
		return -EBUSY;
	ret = count_locked(pgt, &od, op, addr, size);
	if (ret)
		return ret;
	if (od.fused)
		goto made;
	/*
	 * Tables an earlier change of a batch folded only go back to the pool
	 * after a flush: pay for one sync early rather than refuse with
	 * -ENOMEM while the pages are there.
	 */
	if (od.need > pgt->pool.nr_free && g->nr_freed) {
		ret = flush(pgt, g);
		if (ret)
			return ret;
	}
	/* A commit's pages were counted and held back by its prepare. */
	if (!op_is_host(op)) {
		ret = relieve_for(pgt, &od, addr, size, g);
		if (ret)
			return ret;
		/* The count after the folds may have made it, as the first one. */
		if (od.fused)
			goto made;
	}
	if (od.need > pgt->pool.nr_free)
		return -ENOMEM;

	g->bridge_start = addr;
	g->bridge_end = addr + size;
	ret = set_pass(pgt, &od, addr, size);
made:
	/*
	 * Made, even if an invalidation failed (the SMMU that did not answer
	 * now aborts everything): the record follows the table.
	 */
	push_rec(pgt, &od.pre, &od.pre_open);
	push_rec(pgt, &od.run, &od.run_open);
	change_made(pgt, op, addr, size, rec_owner);
	return ret;
}

/*
 * A single change that is not one leaf (a split, a fold, a range over
 * several entries, EAGER mode, a refusal the walk finds), entered with the
 * lock held: its own gather, the passes, the flush, and the unlock. Out of
 * line, so that what it keeps in registers is not saved on every change
 * that never comes here (apply_inline()).
 */
static __attribute__((__noinline__)) int
apply_general(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner, u32 rec_owner)
{
	struct s2_gather g;
	int ret, fret;

	s2_gather_init(&g, pgt->full_threshold);
	ret = apply_locked(pgt, op, addr, size, owner, rec_owner, &g);
	/*
	 * Even after a failure: what was written must be invalidated. A
	 * LAZY reclaim has nothing to flush: no call at all.
	 */
	fret = s2_gather_empty(&g) && !g.nr_freed ? 0 : flush(pgt, &g);
	hyp_spin_unlock(&pgt->lock);
	if (!ret)
		ret = fret;
	if (ret)
		pgt->stats.errors++;
	return ret;
}

/*
 * Inline: the generic apply() below, and one copy each in s2_donate() and
 * s2_reclaim(), the changes a DMA map and unmap make, with their op known
 * so every test of it in the one-leaf path folds away.
 */
static inline __attribute__((__always_inline__)) int
apply_inline(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner,
	     u32 rec_owner)
{
	int ret;

	hyp_spin_lock(&pgt->lock);
	if (!op_is_host(op) && !folds_in_change(pgt, op) && !pgt->pending.on &&
	    !check_args(pgt, addr, size)) {
		ret = change_one_leaf(pgt, op, addr, size, owner, rec_owner);
		if (ret != S2_NOT_ONE_LEAF) {
			hyp_spin_unlock(&pgt->lock);
			if (ret)
				pgt->stats.errors++;
			return ret;
		}
	}
	return apply_general(pgt, op, addr, size, owner, rec_owner);
}

static int apply(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size,
		 u32 owner, u32 rec_owner)
{
	return apply_inline(pgt, op, addr, size, owner, rec_owner);
}

static bool owner_ok(u32 owner)
{
	return owner != PKVM_OWNER_HOST && owner <= PKVM_OWNER_MAX;
}

int s2_change(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner,
	      u32 rec_owner)
{
	if (op >= PKVM_IOMMU_OP_NR ||
	    (op <= PKVM_IOMMU_OP_RECLAIM && !owner_ok(owner))) {
		pgt->stats.errors++;
		return -EINVAL;
	}
	if (op >= PKVM_IOMMU_OP_SHARE)
		owner = PKVM_OWNER_HOST;
	return apply(pgt, op, addr, size, owner, rec_owner);
}

/*
 * s2_change() with its op known, its owner check included: every test of
 * the op in apply_inline() folds away on the two changes of every DMA map.
 */
int s2_donate(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner)
{
	if (!owner_ok(owner)) {
		pgt->stats.errors++;
		return -EINVAL;
	}
	return apply_inline(pgt, PKVM_IOMMU_OP_DONATE, addr, size, owner, owner);
}

int s2_reclaim(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner)
{
	if (!owner_ok(owner)) {
		pgt->stats.errors++;
		return -EINVAL;
	}
	return apply_inline(pgt, PKVM_IOMMU_OP_RECLAIM, addr, size, owner, owner);
}

int s2_share(struct s2_pgtable *pgt, u64 addr, u64 size)
{
	return s2_change(pgt, PKVM_IOMMU_OP_SHARE, addr, size, PKVM_OWNER_HOST,
			 PKVM_OWNER_HOST);
}

int s2_unshare(struct s2_pgtable *pgt, u64 addr, u64 size)
{
	return s2_change(pgt, PKVM_IOMMU_OP_UNSHARE, addr, size, PKVM_OWNER_HOST,
			 PKVM_OWNER_HOST);
}

/* ---- pKVM's transitions, two phases ---- */

static u32 host_op(bool access)
{
	return access ? S2_OP_HOST_ON : S2_OP_HOST_OFF;
}

int s2_host_prepare(struct s2_pgtable *pgt, u64 addr, u64 size, bool access,
		    u32 owner)
{
	struct op_data od = { .op = host_op(access), .owner = owner };
	int ret;

	if (access)
		od.owner = owner = PKVM_OWNER_HOST;
	else if (!owner_ok(owner))
		return -EINVAL;
	hyp_spin_lock(&pgt->lock);
	ret = pgt->pending.on ? -EBUSY : count_locked(pgt, &od, od.op, addr, size);
	/* Nothing can be waiting for a flush here: every caller flushed. */
	if (!ret && od.need > pgt->pool.nr_free && pgt->fold == PKVM_FOLD_LAZY) {
		struct s2_gather g;

		s2_gather_init(&g, pgt->full_threshold);
		ret = relieve_for(pgt, &od, addr, size, &g);
		if (ret)
			flush(pgt, &g);
	}
	if (!ret && od.need > pgt->pool.nr_free)
		ret = -ENOMEM;
	if (!ret) {
		pgt->pending.on = true;
		pgt->pending.access = access;
		pgt->pending.owner = owner;
		pgt->pending.addr = addr;
		pgt->pending.size = size;
		pgt->reserved = od.need;
	}
	hyp_spin_unlock(&pgt->lock);
	if (ret)
		pgt->stats.errors++;
	return ret;
}

int s2_host_commit(struct s2_pgtable *pgt, u64 addr, u64 size, bool access,
		   u32 owner)
{
	struct s2_gather g;
	int ret, fret;

	if (access)
		owner = PKVM_OWNER_HOST;
	hyp_spin_lock(&pgt->lock);
	/*
	 * Without a prepare (a transition pKVM knows leaves access as it is,
	 * such as a share state) the check runs here; it must pass, as pKVM
	 * is past the point of no return.
	 */
	if (!pgt->pending.on) {
		struct op_data od = { .op = host_op(access), .owner = owner };

		if ((!access && !owner_ok(owner)) ||
		    count_locked(pgt, &od, od.op, addr, size) || od.need > pgt->pool.nr_free)
			hyp_bug("host transition the shadow cannot follow, without a prepare");
	} else if (pgt->pending.access != access || pgt->pending.owner != owner ||
		   pgt->pending.addr != addr || pgt->pending.size != size) {
		hyp_bug("host transition committed with another's prepare");
	}
	pgt->pending.on = false;
	pgt->reserved = 0;
	s2_gather_init(&g, pgt->full_threshold);
	ret = apply_locked(pgt, host_op(access), addr, size, owner,
				S2_NO_RECORD, &g);
	/*
	 * Nothing else ran since the prepare counted: a refusal now means
	 * that count was wrong, and pKVM is past the point of no return.
	 */
	if (ret && ret != -ETIMEDOUT && ret != -EIO)
		hyp_bug("host transition refused after its prepare");
	fret = flush(pgt, &g);
	hyp_spin_unlock(&pgt->lock);
	return ret ? ret : fret;
}

void s2_host_cancel(struct s2_pgtable *pgt)
{
	hyp_spin_lock(&pgt->lock);
	pgt->pending.on = false;
	pgt->reserved = 0;
	hyp_spin_unlock(&pgt->lock);
}

/* What a batch may carry: the four ownership changes, owners as they need. */
static int batch_op_check(struct s2_batch_op *op)
{
	switch (op->op) {
	case PKVM_IOMMU_OP_DONATE:
	case PKVM_IOMMU_OP_RECLAIM:
		return owner_ok(op->owner) ? 0 : -EINVAL;
	case PKVM_IOMMU_OP_SHARE:
	case PKVM_IOMMU_OP_UNSHARE:
		op->owner = PKVM_OWNER_HOST;
		return 0;
	default:
		return -EINVAL;
	}
}

int s2_batch(struct s2_pgtable *pgt, u32 nr, s2_batch_read_fn read, void *arg,
	     u32 *done)
{
	struct s2_batch_op op;
	struct s2_gather g;
	int ret = 0, fret;
	u32 i, given;

	hyp_spin_lock(&pgt->lock);
	s2_gather_init(&g, pgt->full_threshold);
	for (i = 0; i < nr; i++) {
		ret = read(arg, i, &op);
		given = op.owner;
		if (!ret)
			ret = batch_op_check(&op);
		if (!ret)
			ret = apply_locked(pgt, op.op, op.addr, op.size,
						op.owner, given, &g);
		if (ret)
			break;
	}
	/* Every change made so far, including a failed one's, in one flush. */
	fret = flush(pgt, &g);
	hyp_spin_unlock(&pgt->lock);
	*done = i;
	if (ret)
		pgt->stats.errors++;
	return fret ? fret : ret;
}

int s2_map_memory(struct s2_pgtable *pgt, u64 addr, u64 size)
{
	return apply(pgt, S2_OP_MAP, addr, size, PKVM_OWNER_HOST, S2_NO_RECORD);
}

int s2_seed(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner)
{
	if (!owner_ok(owner))
		return -EINVAL;
	return apply(pgt, S2_OP_HOST_OFF, addr, size, owner, S2_NO_RECORD);
}

static int pin_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	if (s2_desc_valid(ctx->old) || s2_desc_owner(ctx->old) != PKVM_OWNER_HYP)
		return -EPERM;
	return 0;
}

int s2_pin(struct s2_pgtable *pgt, u64 addr, u64 size)
{
	struct s2_walker w = { pin_visitor, NULL, S2_VISIT_LEAF };
	int ret = check_args(pgt, addr, size);

	if (ret)
		return ret;
	hyp_spin_lock(&pgt->lock);
	ret = s2_walk(pgt, addr, size, &w);
	if (!ret && pgt->nr_pinned == S2_MAX_PINNED)
		ret = -ENOSPC;
	if (!ret)
		pgt->pinned[pgt->nr_pinned++] = (struct s2_region){ addr, size };
	hyp_spin_unlock(&pgt->lock);
	return ret;
}

/* ---- lookups ---- */

/* What the leaf the walk is at says about its range. */
static struct s2_leaf leaf_of(const struct s2_walk_ctx *ctx)
{
	u64 d = ctx->old;

	return (struct s2_leaf){
		.addr = ctx->addr,
		.size = s2_level_size(ctx->level),
		.level = ctx->level,
		.memory = !s2_desc_is_hole(d),
		.owner = s2_desc_valid(d) ? PKVM_OWNER_HOST : s2_desc_owner(d),
		.shared = s2_desc_valid(d) && (d & S2_ATTR_SW_SHARED),
		.desc = d,
	};
}

static int get_leaf_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	*(struct s2_leaf *)ctx->arg = leaf_of(ctx);
	return 0;
}

/*
 * The leaf holding addr: a walk over its one page, whose visitor keeps
 * what it saw (the shape of KVM's kvm_pgtable_get_leaf()).
 */
static int get_leaf(struct s2_pgtable *pgt, u64 addr, struct s2_leaf *leaf)
{
	struct s2_walker w = { get_leaf_visitor, leaf, S2_VISIT_LEAF };

	return s2_walk(pgt, HYP_ALIGN_DOWN(addr, HYP_PAGE_SIZE), HYP_PAGE_SIZE, &w);
}

int s2_owner_of(struct s2_pgtable *pgt, u64 addr, u32 *owner, bool *shared)
{
	struct s2_leaf leaf;
	int ret = get_leaf(pgt, addr, &leaf);

	if (ret)
		return ret;
	if (!leaf.memory)
		return -ERANGE;
	*owner = leaf.owner;
	*shared = leaf.shared;
	return 0;
}

struct leaf_data {
	s2_leaf_fn fn;
	void *arg;
};

static int leaf_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	struct leaf_data *ld = ctx->arg;
	struct s2_leaf leaf = leaf_of(ctx);

	(void)visit;
	return ld->fn(&leaf, ld->arg);
}

int s2_for_each_leaf(struct s2_pgtable *pgt, u64 addr, u64 size,
		     s2_leaf_fn fn, void *arg)
{
	struct leaf_data ld = { fn, arg };
	struct s2_walker w = { leaf_visitor, &ld, S2_VISIT_LEAF };

	return s2_walk(pgt, addr, size, &w);
}

static int count_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	(void)visit;
	(*(u64 *)ctx->arg)++;
	return 0;
}

u64 s2_count_table_pages(struct s2_pgtable *pgt)
{
	u64 n = pgt->root_pages;
	struct s2_walker w = { count_visitor, &n, S2_VISIT_TABLE_POST };

	s2_walk(pgt, 0, 1ull << pgt->ias, &w);
	return n;
}

/* ---- split policy ---- */

struct presplit_need {
	u32 max_block;	/* of the policy being costed, not the current one */
	u64 need;
};

static int presplit_need_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	struct presplit_need *pn = ctx->arg;

	(void)visit;
	if (s2_desc_valid(ctx->old) && !can_block_at(pn->max_block, ctx->level))
		pn->need += expand_need_at(pn->max_block, ctx->level);
	return 0;
}

struct policy_data {
	struct s2_gather g;
	int err;
};

static int presplit_visitor(struct s2_walk_ctx *ctx, enum s2_visit visit)
{
	struct policy_data *pd = ctx->arg;
	int ret = 0;

	if (visit == S2_VISIT_TABLE_POST)
		return fold_post(ctx, &pd->g, false, &pd->err);
	if (s2_desc_valid(ctx->old) && !can_block(ctx->pgt, ctx->level))
		ret = split(ctx->pgt, ctx->ptep, ctx->old, ctx->addr, ctx->level);
	if (ret && !pd->err)
		pd->err = ret;
	/* As for the ownership changes: never stop half-way. */
	return 0;
}

int s2_set_split_policy(struct s2_pgtable *pgt, enum pkvm_split_policy policy,
			u32 level)
{
	struct presplit_need pn = { .max_block = s2_policy_max_block(policy, level) };
	struct s2_walker count = { presplit_need_visitor, &pn, S2_VISIT_LEAF };
	struct policy_data pd = { .err = 0 };
	struct s2_walker w = { presplit_visitor, &pd,
			       S2_VISIT_LEAF | S2_VISIT_TABLE_POST };
	int ret, fret;

	if (!pn.max_block)
		return -EINVAL;

	hyp_spin_lock(&pgt->lock);
	/* A prepared host transition counted on today's table shape. */
	if (pgt->pending.on) {
		hyp_spin_unlock(&pgt->lock);
		return -EBUSY;
	}
	/* Costed against the new policy, decided before anything changes. */
	s2_walk(pgt, 0, 1ull << pgt->ias, &count);
	if (pn.need > pgt->pool.nr_free) {
		hyp_spin_unlock(&pgt->lock);
		return -ENOMEM;
	}

	/*
	 * Committed: the walk below brings the table to the new policy even
	 * if an invalidation fails, and then (as for an ownership change)
	 * the error says the SMMU is dead, not that nothing happened.
	 * Hardware without BBML is why one presplits: splits stay BBM there.
	 */
	pgt->policy = policy;
	pgt->max_block_level = pn.max_block;
	pgt->bbm = policy != PKVM_SPLIT_HITLESS;
	/* Which blocks may exist changed: what folds may have too. */
	pgt->compact.dirty = true;
	pgt->compact.minimal = false;
	s2_gather_init(&pd.g, pgt->full_threshold);
	ret = s2_walk(pgt, 0, 1ull << pgt->ias, &w);
	if (!ret)
		ret = pd.err;
	fret = flush(pgt, &pd.g);
	if (!ret)
		ret = fret;
	hyp_spin_unlock(&pgt->lock);
	return ret;
}
