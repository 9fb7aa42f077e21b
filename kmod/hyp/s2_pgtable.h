/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The shadow stage 2: an identity map of exactly the memory the host owns,
 * in the SMMU's translation table format, edited on every ownership change.
 *
 * Every operation is all-or-nothing: a read-only pass checks the state of
 * every page in the range and counts the table pages the change needs; only
 * then is a descriptor written, and the pool cannot run dry half-way.
 *
 * Errors (negative errno), first offending page in address order wins:
 *   -EINVAL   size 0, not page aligned, address overflow, bad owner id
 *   -ERANGE   range reaches a page that is not memory (or is beyond the IAS)
 *   -EEXIST   donate: page already donated; share: page already shared
 *   -EALREADY reclaim: page already belongs to the host
 *   -EPERM    reclaim: page owned by another owner, or pinned by the
 *             hypervisor (its table pool, SMMU tables); share/unshare:
 *             page not the host's
 *   -EBUSY    donate: page is shared (unshare it first)
 *   -ENOENT   unshare: page is not shared
 *   -ENOMEM   the table pool cannot cover the change
 *   -EBUSY    (also) a host transition is prepared and not yet committed:
 *             nothing else may change the table in between
 *   -ETIMEDOUT (or the SMMU layer's error) the change is made but its
 *             invalidation did not complete; the SMMU must be treated as dead
 */
#ifndef PKVM_S2_PGTABLE_H
#define PKVM_S2_PGTABLE_H

#include "hyp_env.h"
#include "s2_desc.h"
#include "s2_gather.h"
#include "s2_pool.h"
#include "s2_ring.h"

/*
 * Memory regions: what pKVM can hand over, its HYP_MEMBLOCK_REGIONS (128
 * in Linux 7.3, arch/arm64/include/asm/kvm_pkvm.h), so the shadow can be
 * built from pKVM's own view of memory.
 */
#define S2_MAX_REGIONS	128
#define S2_MAX_PINNED	8

struct s2_region {
	u64 base;
	u64 size;
};

struct s2_tlb_ops {
	/*
	 * Issue g's invalidations and wait for them: one CMD_SYNC. Called
	 * once at the end of each operation, and in the middle only where
	 * break-before-make needs the break to be complete.
	 */
	int (*flush)(void *cookie, const struct s2_gather *g);
};

/*
 * What the engine does to a range: the four ownership changes of the ABI,
 * by their enum pkvm_iommu_op_code, at init only a hole mapped as host
 * memory, and pKVM's transitions (s2_host_prepare()): the host loses or
 * regains access, whatever the shadow held. One vocabulary from the uapi
 * down to the descriptors.
 */
#define S2_OP_MAP	PKVM_IOMMU_OP_NR
#define S2_OP_HOST_OFF	(PKVM_IOMMU_OP_NR + 1)
#define S2_OP_HOST_ON	(PKVM_IOMMU_OP_NR + 2)
#define S2_OP_COMPACT	(PKVM_IOMMU_OP_NR + 3)	/* s2_compact() calls */
#define S2_OP_NR	(PKVM_IOMMU_OP_NR + 4)

struct s2_stats {
	u64 ops[S2_OP_NR];
	u64 errors;
	u64 desc_writes;	/* descriptor stores into linked tables */
	u64 table_fills;	/* entries a split writes before linking */
	u64 tlbi_ranges;	/* ranges handed to the SMMU layer */
	u64 tlbi_full;		/* whole-VMID flushes handed instead */
	u64 flushes;		/* flush calls (each one CMD_SYNC) */
	u64 splits;
	u64 folds;
	u64 bbm_breaks;
	u64 compact_folds;	/* folds made by compaction, any cause */
	u64 pressure_reliefs;	/* LAZY changes that folded for pool pages */
};

struct s2_config {
	u32 ias;
	const struct s2_region *regions;	/* sorted, disjoint, page aligned */
	u32 nr_regions;
	u64 pool_pa;		/* table pool: contiguous, page aligned, pa != 0 */
	u64 pool_pages;
	enum pkvm_split_policy policy;
	u32 presplit_level;	/* largest block level with PRESPLIT: 1..3 */
	const struct s2_tlb_ops *tlb;	/* NULL: nothing to invalidate */
	void *tlb_cookie;
	u64 full_threshold;	/* see struct s2_gather; 0 picks "never" */
	bool noncoherent_walk;	/* SMMU walks without snooping: clean caches */
	enum pkvm_fold_mode fold;	/* 0 is EAGER: today's behaviour */
	/*
	 * LAZY: free pool pages below which a change first folds (at most
	 * S2_PRESSURE_FOLDS tables); 0 picks pool_pages / 16.
	 */
	u64 fold_low_watermark;
};

/*
 * Folds one change may make to stay above the low watermark, table pages
 * it may look at for them, and changes to skip after a whole pass found
 * none. Deciding that a table does not fold may read all of it, from
 * memory no walk touched lately: sixteen tables and eight folds keep such
 * a change near 15 us at p99 (the hold rows of pkvm-iommu-bench, pool
 * low), and eight is more than any change takes, so the pool refills
 * while it is used; the cursor moves on, so the next change looks
 * further.
 */
#define S2_PRESSURE_FOLDS	8u
#define S2_PRESSURE_SCAN	16u
#define S2_PRESSURE_BACKOFF	1024u
/* Table pages one s2_compact() call may look at, per fold of its budget. */
#define S2_COMPACT_SCAN_PER_FOLD	64u

struct s2_pgtable {
	u32 ias;
	u32 start_level;
	u32 root_entries;
	u32 root_pages;
	u64 root_pa;
	u64 *root;
	enum pkvm_split_policy policy;
	u32 max_block_level;
	bool bbm;		/* splits and folds of live blocks break first */
	bool noncoherent_walk;
	u64 full_threshold;
	enum pkvm_fold_mode fold;
	u64 fold_low_watermark;
	/*
	 * Compaction's progress: where the next s2_compact() call resumes,
	 * and whether a change was made since its pass over the table began
	 * (then tables it already passed may have become foldable).
	 */
	struct {
		u64 cursor;
		bool dirty;
		bool minimal;	/* a clean pass ended, nothing changed since */
		u32 backoff;	/* changes before pool pressure looks again */
	} compact;
	const struct s2_tlb_ops *tlb;
	void *tlb_cookie;
	struct s2_pool pool;
	/*
	 * Hypervisor-owned ranges that must never go back to the host: the
	 * table pool (always entry 0), stream tables, queues. Reclaiming any
	 * of them would let a device DMA into what confines it.
	 */
	struct s2_region pinned[S2_MAX_PINNED];
	u32 nr_pinned;
	/*
	 * A host transition between its prepare and its commit: the pool
	 * pages its check counted are held back from every other change,
	 * and every other change is refused (-EBUSY) until it is committed
	 * or cancelled, so the count stays exact.
	 */
	struct {
		bool on;
		bool access;
		u32 owner;
		u64 addr, size;
	} pending;
	u64 reserved;
	/* Where changes are recorded (NULL: nowhere, as in set-up). */
	struct s2_ring *ring;
	u64 table_pages;	/* in use, root included */
	u64 mem_pages;		/* pages of memory, owned by anyone */
	struct s2_stats stats;
	/*
	 * The gather of a one-leaf change that unmapped (s2_pgtable.c,
	 * change_one_leaf()): always one range, never full, nothing freed,
	 * set up by s2_init(); the change fills in the range under the lock.
	 */
	struct s2_gather one;
	hyp_spinlock_t lock;
};

int s2_init(struct s2_pgtable *pgt, const struct s2_config *cfg);

/* Init only: turn a hole into host memory (regions must not overlap). */
int s2_map_memory(struct s2_pgtable *pgt, u64 addr, u64 size);
/*
 * Init only, before the ring is set: the host has no access to
 * [addr, addr + size), which is owner's (not the host). Idempotent like
 * the host transitions below: pages already owner's, and holes, are left
 * alone. -EINVAL, -ERANGE, -EPERM (would move pinned memory), -ENOMEM.
 */
int s2_seed(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner);

/*
 * The four ownership changes. Each one made is recorded in pgt->ring (if
 * any) with rec_owner as its owner; S2_NO_RECORD records nothing (set-up:
 * an SMMU's own memory). Share and unshare take any owner and ignore it.
 */
#define S2_NO_RECORD	(~0u)
int s2_change(struct s2_pgtable *pgt, u32 op, u64 addr, u64 size, u32 owner,
	      u32 rec_owner);
/* s2_change() recording the owner, and share/unshare with the host's. */
int s2_donate(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner);
int s2_reclaim(struct s2_pgtable *pgt, u64 addr, u64 size, u32 owner);
int s2_share(struct s2_pgtable *pgt, u64 addr, u64 size);
int s2_unshare(struct s2_pgtable *pgt, u64 addr, u64 size);

/*
 * Several ownership changes under one hold of the lock and one flush (one
 * CMD_SYNC), which is what invalidation batching buys: the SMMU's sync
 * costs more than the descriptor writes of a small change. Each change is
 * still all-or-nothing and checked against the state the earlier ones
 * left. read() fetches change i (the hypercall entry copies it from the
 * host, checking the page is still the host's); the batch stops at the
 * first failing read or change, *done says how many were made. Returns 0,
 * the failing change's error, or a failed flush's error (-ETIMEDOUT,
 * -EIO), which outranks it: then none of the changes may be reported
 * complete.
 */
struct s2_batch_op {
	u32 op;		/* enum pkvm_iommu_op_code */
	u32 owner;		/* DONATE/RECLAIM only */
	u64 addr;
	u64 size;
};
typedef int (*s2_batch_read_fn)(void *arg, u32 i, struct s2_batch_op *op);
int s2_batch(struct s2_pgtable *pgt, u32 nr, s2_batch_read_fn read, void *arg,
	     u32 *done);

/*
 * pKVM's transitions, in two phases, because pKVM cannot fail half-way
 * through one: s2_host_prepare() checks the range and counts the exact
 * table pages the change needs, refusing before pKVM changes anything;
 * s2_host_commit() then makes it and cannot run short of pages (the count
 * is held back from everything else meanwhile).
 *
 * access false: the host loses access, the range goes to owner (not the
 * host); true: the host regains access, from whoever the shadow had it
 * as owner (owner is ignored). Idempotent: pages already in the target
 * state (already unmapped, for owner; already mapped, shared or not) and
 * holes (DMA reaches no hole) are left alone, and cost nothing. Moving
 * pinned memory (the pool, SMMU tables) is refused. Each run of pages that
 * changed is recorded as DONATE or RECLAIM (pages that change owner while
 * unmapped as RECLAIM then DONATE, shared ones as UNSHARE then DONATE).
 *
 * prepare: 0, -EINVAL (alignment, overflow, owner), -ERANGE (beyond the
 * IAS), -EPERM (pinned), -ENOMEM (pool), -EBUSY (another one pending:
 * commit or cancel it first). commit: 0, or -ETIMEDOUT/-EIO when an SMMU
 * did not answer the invalidation (the change is made, and that SMMU now
 * aborts all its traffic: smmu_tlb.h). A commit without a prepare checks
 * for itself (for transitions known to change nothing, like share
 * states); one the shadow cannot follow then, or one that does not match
 * the pending prepare, is a bug of the caller (hyp_bug()).
 */
int s2_host_prepare(struct s2_pgtable *pgt, u64 addr, u64 size, bool access,
		    u32 owner);
int s2_host_commit(struct s2_pgtable *pgt, u64 addr, u64 size, bool access,
		   u32 owner);
void s2_host_cancel(struct s2_pgtable *pgt);

/*
 * Keep [addr, addr + size) from ever being reclaimed (reclaim: -EPERM).
 * The range must already be the hypervisor's (-EPERM otherwise, -ENOSPC
 * when all S2_MAX_PINNED slots are used).
 */
int s2_pin(struct s2_pgtable *pgt, u64 addr, u64 size);

/* Owner of the page at addr and whether it is shared; -ERANGE for a hole. */
int s2_owner_of(struct s2_pgtable *pgt, u64 addr, u32 *owner, bool *shared);

/*
 * Change how live blocks are split; PRESPLIT splits every block above
 * 'level' now, the others fold tables back to the largest blocks. A
 * refusal (-EINVAL for a bad policy or level, -ENOMEM when the pool cannot
 * cover the splits) leaves policy, level and table exactly as they were;
 * -ETIMEDOUT or -EIO mean the change is made but not invalidated, as for
 * the ownership changes.
 */
int s2_set_split_policy(struct s2_pgtable *pgt, enum pkvm_split_policy policy,
			u32 level);

/*
 * Fold mode. EAGER folds a table back into one entry in the change that
 * made its 512 entries uniform, so the table is minimal at every instant.
 * LAZY never folds in a change: a reclaim writes its leaves and nothing
 * else, and needs no invalidation (the SMMU caches no invalid entry), so
 * only donations (and folds) invalidate; folding waits for s2_compact(),
 * or for pool pressure (below the low watermark a change folds first, and
 * a change the pool cannot cover folds everything it can before it is
 * refused with -ENOMEM). Switching to EAGER compacts fully first.
 * -EINVAL (unknown mode), -EBUSY (a host transition is prepared), or a
 * failed flush's error as for the ownership changes.
 */
int s2_set_fold_mode(struct s2_pgtable *pgt, enum pkvm_fold_mode mode);

/*
 * Fold at most budget tables (each folded and invalidated as EAGER would),
 * looking at no more than budget * S2_COMPACT_SCAN_PER_FOLD table pages,
 * so one call holds the lock for a bounded time. Resumes where the last
 * call stopped. *folded: tables folded; *more: call again (false once a
 * pass over the whole table ended with no change made meanwhile: the
 * table is then the minimal one). 0, -EINVAL (budget 0), -EBUSY (a host
 * transition is prepared), or a failed flush's error.
 */
int s2_compact(struct s2_pgtable *pgt, u32 budget, u32 *folded, bool *more);

/*
 * The largest block level a policy allows (PKVM_LEVEL_*), or 0 when the
 * policy, or PRESPLIT's level, is not one the engine knows.
 */
static inline u32 s2_policy_max_block(enum pkvm_split_policy policy, u32 level)
{
	if (policy > PKVM_SPLIT_PRESPLIT)
		return 0;
	if (policy != PKVM_SPLIT_PRESPLIT)
		return PKVM_LEVEL_1G;
	return level >= PKVM_LEVEL_1G && level <= PKVM_LEVEL_4K ? level : 0;
}

/* One leaf of the table: [addr, addr + size) is uniformly in this state. */
struct s2_leaf {
	u64 addr;
	u64 size;
	u32 level;
	bool memory;	/* false: a hole */
	u32 owner;	/* PKVM_OWNER_HOST when valid */
	bool shared;
	u64 desc;	/* the raw descriptor, for attribute checks */
};
typedef int (*s2_leaf_fn)(const struct s2_leaf *leaf, void *arg);
/* Calls fn for every leaf overlapping [addr, addr + size), in order. */
int s2_for_each_leaf(struct s2_pgtable *pgt, u64 addr, u64 size,
		     s2_leaf_fn fn, void *arg);

/* Table pages reachable from the root, counted by a walk (for checks). */
u64 s2_count_table_pages(struct s2_pgtable *pgt);

/* ---- the walker, shared by every job above ---- */
enum s2_visit {
	S2_VISIT_LEAF = 1 << 0,		/* before a leaf; may turn it into a table */
	S2_VISIT_TABLE_POST = 1 << 1,	/* after a table's entries were walked */
};

struct s2_walk_ctx {
	struct s2_pgtable *pgt;
	u64 *ptep;
	u64 old;	/* descriptor as read before the visit */
	u64 addr;	/* first address the entry maps (aligned to its level) */
	u64 start;	/* the walk's range */
	u64 end;
	u32 level;
	void *arg;
};

typedef int (*s2_visitor_fn)(struct s2_walk_ctx *ctx, enum s2_visit visit);

struct s2_walker {
	s2_visitor_fn cb;
	void *arg;
	u32 flags;
};

int s2_walk(struct s2_pgtable *pgt, u64 addr, u64 size,
	    const struct s2_walker *walker);

/*
 * The walk itself, in two halves. The half here descends while the range
 * lies inside one entry and makes the visit of a range inside one leaf,
 * which is the whole walk of most changes; it is inline so that a caller
 * whose visitor is known (the check pass of every change) calls it
 * directly, with no call through a pointer and no layers of calls around
 * it. Everything else (a range over several entries, a visitor that made
 * a table, post-order visits) is the out-of-line half in s2_walk.c.
 * s2_walk() is this with the walker's fields; there is no other walk.
 */
struct s2_walk_data {
	/* What visitors see: its walk-wide fields are set once per walk. */
	struct s2_walk_ctx ctx;
	s2_visitor_fn cb;
	u32 flags;
	u64 addr;	/* next address to visit */
};

int s2_walk_table(struct s2_walk_data *d, u64 *table, u32 level, u32 entries);
int s2_walk_into(struct s2_walk_data *d, u64 *ptep, u64 old, u64 addr, u32 level);

/*
 * The visitor and flags come as arguments, not from d: a descriptor read
 * is an atomic access, after which the compiler would load them from d
 * again, and an inline caller's visitor would not be known any more.
 */
static inline int s2_walk_visit(struct s2_walk_data *d, s2_visitor_fn cb,
				u64 *ptep, u64 old, u64 addr, u32 level,
				enum s2_visit visit)
{
	d->ctx.ptep = ptep;
	d->ctx.old = old;
	d->ctx.addr = addr;
	d->ctx.level = level;
	return cb(&d->ctx, visit);
}

/*
 * The leaf 'old' at *ptep: visit it, and if the visitor made it a table,
 * walk on into that (the shape of KVM's kvm_pgtable_walk()).
 */
static inline __attribute__((__always_inline__)) int
s2_walk_leaf(struct s2_walk_data *d, s2_visitor_fn cb, u32 flags, u64 *ptep,
	     u64 old, u32 level)
{
	u64 addr = HYP_ALIGN_DOWN(d->addr, s2_level_size(level));
	int ret;

	if (flags & S2_VISIT_LEAF) {
		ret = s2_walk_visit(d, cb, ptep, old, addr, level, S2_VISIT_LEAF);
		if (ret)
			return ret;
		old = hyp_read_pte(ptep);
		if (s2_desc_is_table(old, level))
			return s2_walk_into(d, ptep, old, addr, level);
	}
	d->addr = addr + s2_level_size(level);
	return 0;
}

/*
 * The walk's descent: from the root down while [addr, end) lies inside one
 * entry. Returns the first leaf on the way (*level and *old are its own),
 * or NULL at the table whose entries the range spans (*table, *level and
 * *entries are that table's). No bookkeeping: a caller keeps it all in
 * registers, and a one-leaf change (s2_pgtable.c) is this and one store.
 */
static inline __attribute__((__always_inline__)) u64 *
s2_descend(const struct s2_pgtable *pgt, u64 addr, u64 end, u64 **table,
	   u32 *level, u32 *entries, u64 *old)
{
	u64 diff = addr ^ (end - 1);	/* bits where the range's ends differ */
	u64 *t = pgt->root;
	u32 lvl = pgt->start_level, n = pgt->root_entries;
	u32 shift = s2_level_shift(lvl);

	while (!(diff >> shift)) {
		u64 *ptep = &t[(addr >> shift) & (n - 1)];
		u64 pte = hyp_read_pte(ptep);

		if (!s2_desc_is_table(pte, lvl)) {
			*level = lvl;
			*old = pte;
			return ptep;
		}
		t = hyp_phys_to_virt(s2_desc_oa(pte));
		lvl++;
		n = S2_PTES_PER_TABLE;
		shift -= S2_BITS_PER_LEVEL;
	}
	*table = t;
	*level = lvl;
	*entries = n;
	return NULL;
}

static inline __attribute__((__always_inline__)) int
s2_walk_inline(struct s2_pgtable *pgt, u64 addr, u64 size,
	       s2_visitor_fn cb, void *arg, u32 flags)
{
	struct s2_walk_data d = {
		.ctx = {
			.pgt = pgt,
			.start = addr,
			.end = addr + size,
			.arg = arg,
		},
		.cb = cb,
		.flags = flags,
		.addr = addr,
	};
	u64 *table = pgt->root, *ptep, pte;
	u32 level = pgt->start_level, entries = pgt->root_entries;

	if (!size || d.ctx.end < addr || d.ctx.end > (1ull << pgt->ias))
		return -ERANGE;
	/*
	 * While the range lies inside one table entry, a walker that visits
	 * no table on the way up has nothing to do at this level: descend
	 * without recursing. Most changes are a page or a block, so most
	 * walks start at the level of their leaf, and end at it: a range
	 * inside one leaf is that entry's visit alone, with no loop around it.
	 */
	if (!(flags & S2_VISIT_TABLE_POST)) {
		ptep = s2_descend(pgt, addr, d.ctx.end, &table, &level, &entries, &pte);
		if (ptep)
			return s2_walk_leaf(&d, cb, flags, ptep, pte, level);
	}
	return s2_walk_table(&d, table, level, entries);
}

#endif /* PKVM_S2_PGTABLE_H */
