// SPDX-License-Identifier: GPL-2.0
/*
 * Donation ledger (see ledger.h).
 *
 * Runs live in an AVL tree keyed by start address. Why a tree: the ledger
 * must take a million events without slowing down, and each event edits
 * the middle of the address space; a sorted array would memmove O(runs)
 * per split or merge, a tree is O(log runs) worst case, with no amortised
 * spikes in the event loop. AVL rather than red-black because its
 * recursive insert/erase is short enough to read in one sitting.
 *
 * Because the ledger is kept canonical (adjacent equal runs merged), every
 * event touches at most two existing runs:
 *  - donate/share must land in a gap: it fills it, merging with a neighbour
 *    of equal kind on either side;
 *  - reclaim/unshare must lie inside one run of the right kind: it carves
 *    out of it, leaving zero, one or two pieces.
 * Runs keep their order when grown or shrunk in place, so most edits change
 * a node's fields and never rebalance; at most one insert or erase follows.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/pkvm_iommu.h>

#include "ledger.h"
#include "names.h"
#include "macro.h"

struct node {
	struct ledger_run r;
	struct node *left, *right;
	int height;
};

struct ledger {
	struct node *root;
	size_t nr_runs;
	uint64_t generation;
	/* Pages per owner, indexed by owner id (bounded by PKVM_OWNER_MAX). */
	uint64_t *owner_pages;
	size_t owner_cap;
	uint64_t shared_pages, donated_pages;
	/* History ring: hist[(hist_head - hist_nr + i) % hist_cap], i < hist_nr. */
	struct ledger_record *hist;
	size_t hist_cap, hist_head, hist_nr;
	uint64_t now;
};

/* ---- AVL ---- */

static int height(const struct node *n)
{
	return n ? n->height : 0;
}

static void fix_height(struct node *n)
{
	int l = height(n->left), r = height(n->right);

	n->height = 1 + (l > r ? l : r);
}

static struct node *rotate_right(struct node *y)
{
	struct node *x = y->left;

	y->left = x->right;
	x->right = y;
	fix_height(y);
	fix_height(x);
	return x;
}

static struct node *rotate_left(struct node *x)
{
	struct node *y = x->right;

	x->right = y->left;
	y->left = x;
	fix_height(x);
	fix_height(y);
	return y;
}

static struct node *rebalance(struct node *n)
{
	int bf;

	fix_height(n);
	bf = height(n->left) - height(n->right);
	if (bf > 1) {
		if (height(n->left->left) < height(n->left->right))
			n->left = rotate_left(n->left);
		return rotate_right(n);
	}
	if (bf < -1) {
		if (height(n->right->right) < height(n->right->left))
			n->right = rotate_right(n->right);
		return rotate_left(n);
	}
	return n;
}

static struct node *tree_insert(struct node *n, struct node *nn)
{
	if (!n)
		return nn;
	if (nn->r.addr < n->r.addr)
		n->left = tree_insert(n->left, nn);
	else
		n->right = tree_insert(n->right, nn);
	return rebalance(n);
}

static struct node *detach_min(struct node *n, struct node **min)
{
	if (!n->left) {
		*min = n;
		return n->right;
	}
	n->left = detach_min(n->left, min);
	return rebalance(n);
}

/* Removes and frees the node starting at addr (which must exist). */
static struct node *tree_erase(struct node *n, uint64_t addr)
{
	struct node *l, *r, *m;

	if (addr < n->r.addr) {
		n->left = tree_erase(n->left, addr);
	} else if (addr > n->r.addr) {
		n->right = tree_erase(n->right, addr);
	} else {
		l = n->left;
		r = n->right;
		free(n);
		if (!r)
			return l;
		r = detach_min(r, &m);
		m->left = l;
		m->right = r;
		return rebalance(m);
	}
	return rebalance(n);
}

/* Last run starting at or below addr. */
static struct node *floor_node(struct node *n, uint64_t addr)
{
	struct node *best = NULL;

	while (n) {
		if (n->r.addr <= addr) {
			best = n;
			n = n->right;
		} else {
			n = n->left;
		}
	}
	return best;
}

/* First run starting at or above addr. */
static struct node *ceil_node(struct node *n, uint64_t addr)
{
	struct node *best = NULL;

	while (n) {
		if (n->r.addr >= addr) {
			best = n;
			n = n->left;
		} else {
			n = n->right;
		}
	}
	return best;
}

static void tree_free(struct node *n)
{
	while (n) {
		struct node *r = n->right;

		tree_free(n->left);
		free(n);
		n = r;
	}
}

static int tree_walk(const struct node *n, int (*fn)(const struct ledger_run *, void *),
		     void *arg)
{
	int ret;

	for (; n; n = n->right) {
		ret = tree_walk(n->left, fn, arg);
		if (ret)
			return ret;
		ret = fn(&n->r, arg);
		if (ret)
			return ret;
	}
	return 0;
}

/* Perfectly balanced tree over sorted nodes[lo, hi). */
static struct node *tree_build(struct node **nodes, size_t lo, size_t hi)
{
	size_t mid = lo + (hi - lo) / 2;
	struct node *n;

	if (lo >= hi)
		return NULL;
	n = nodes[mid];
	n->left = tree_build(nodes, lo, mid);
	n->right = tree_build(nodes, mid + 1, hi);
	fix_height(n);
	return n;
}

/* ---- bookkeeping ---- */

static bool same_kind(const struct ledger_run *r, uint32_t owner, bool shared)
{
	return r->owner == owner && r->shared == shared;
}

/* Owner ids are bounded by PKVM_OWNER_MAX, so a dense array is at most 512 KiB. */
static int owner_reserve(struct ledger *l, uint32_t owner)
{
	size_t cap = l->owner_cap ? l->owner_cap : 16;
	uint64_t *p;

	if (owner < l->owner_cap)
		return 0;
	while (cap <= owner)
		cap *= 2;
	if (cap > (size_t)PKVM_OWNER_MAX + 1)
		cap = (size_t)PKVM_OWNER_MAX + 1;
	p = realloc(l->owner_pages, cap * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memset(p + l->owner_cap, 0, (cap - l->owner_cap) * sizeof(*p));
	l->owner_pages = p;
	l->owner_cap = cap;
	return 0;
}

/* Adds (sign 1) or removes (sign -1) len bytes of a kind to the totals. */
static void account(struct ledger *l, uint32_t owner, bool shared, uint64_t len, int sign)
{
	uint64_t pages = len / LEDGER_PAGE_SIZE;

	if (sign < 0)
		pages = -pages;	/* modular: adding it subtracts */
	l->owner_pages[owner] += pages;
	if (shared)
		l->shared_pages += pages;
	else
		l->donated_pages += pages;
}

static void record(struct ledger *l, uint32_t op, uint64_t addr, uint64_t len,
		   uint32_t owner, uint64_t generation)
{
	if (!l->hist_cap)
		return;
	l->hist[l->hist_head] = (struct ledger_record){ .usec = l->now,
		.generation = generation, .addr = addr, .len = len,
		.owner = owner, .op = op };
	l->hist_head = (l->hist_head + 1) % l->hist_cap;
	if (l->hist_nr < l->hist_cap)
		l->hist_nr++;
}

const char *ledger_op_name(uint32_t op)
{
	return op == LEDGER_RESYNC ? OP_NAME_RESYNC : pkvm_op_name(op);
}

static bool range_ok(uint64_t addr, uint64_t len)
{
	return len && !((addr | len) & (LEDGER_PAGE_SIZE - 1)) && addr + len > addr;
}

/* ---- events ---- */

/* Donate or share: [addr, end) must be plain host memory, i.e. a gap. */
static int fill(struct ledger *l, uint64_t addr, uint64_t end, uint32_t owner, bool shared)
{
	struct node *prev = floor_node(l->root, end - 1);
	struct node *next = ceil_node(l->root, end), *nn;
	bool join_prev, join_next;

	if (prev && prev->r.addr + prev->r.len > addr)
		return -EINVAL;	/* something there is not plain host memory */
	join_prev = prev && prev->r.addr + prev->r.len == addr && same_kind(&prev->r, owner, shared);
	join_next = next && next->r.addr == end && same_kind(&next->r, owner, shared);
	if (owner_reserve(l, owner))
		return -ENOMEM;

	if (join_prev && join_next) {
		prev->r.len += (end - addr) + next->r.len;
		l->root = tree_erase(l->root, next->r.addr);
		l->nr_runs--;
	} else if (join_prev) {
		prev->r.len += end - addr;
	} else if (join_next) {
		/* Growing downwards keeps the order: [addr, end) was a gap. */
		next->r.len += next->r.addr - addr;
		next->r.addr = addr;
	} else {
		nn = calloc(1, sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		nn->r = (struct ledger_run){ addr, end - addr, owner, shared };
		nn->height = 1;
		l->root = tree_insert(l->root, nn);
		l->nr_runs++;
	}
	account(l, owner, shared, end - addr, 1);
	return 0;
}

/* Reclaim or unshare: [addr, end) must lie in one run of that kind. */
static int carve(struct ledger *l, uint64_t addr, uint64_t end, uint32_t owner, bool shared)
{
	struct node *n = floor_node(l->root, addr), *nn;
	uint64_t n_end;

	if (!n || !same_kind(&n->r, owner, shared) || n->r.addr + n->r.len < end)
		return -EINVAL;
	n_end = n->r.addr + n->r.len;
	if (n->r.addr == addr && n_end == end) {
		l->root = tree_erase(l->root, addr);
		l->nr_runs--;
	} else if (n->r.addr == addr) {
		n->r.addr = end;
		n->r.len = n_end - end;
	} else if (n_end == end) {
		n->r.len = addr - n->r.addr;
	} else {
		/* The middle: the run splits in two. */
		nn = calloc(1, sizeof(*nn));
		if (!nn)
			return -ENOMEM;
		nn->r = (struct ledger_run){ end, n_end - end, owner, shared };
		nn->height = 1;
		n->r.len = addr - n->r.addr;
		l->root = tree_insert(l->root, nn);
		l->nr_runs++;
	}
	account(l, owner, shared, end - addr, -1);
	return 0;
}

int ledger_apply(struct ledger *l, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		 uint32_t owner, uint64_t generation)
{
	bool owner_ok = owner != PKVM_OWNER_HOST && owner <= PKVM_OWNER_MAX;
	int ret;

	/* Order matters: an old event may well contradict today's ledger. */
	if (generation <= l->generation)
		return -EALREADY;
	if (generation != l->generation + 1)
		return -ESTALE;
	if (!range_ok(addr, len))
		return -EINVAL;
	switch (op) {
	case PKVM_IOMMU_OP_DONATE:
		ret = owner_ok ? fill(l, addr, addr + len, owner, false) : -EINVAL;
		break;
	case PKVM_IOMMU_OP_RECLAIM:
		ret = owner_ok ? carve(l, addr, addr + len, owner, false) : -EINVAL;
		break;
	case PKVM_IOMMU_OP_SHARE:
		owner = PKVM_OWNER_HOST;
		ret = fill(l, addr, addr + len, owner, true);
		break;
	case PKVM_IOMMU_OP_UNSHARE:
		owner = PKVM_OWNER_HOST;
		ret = carve(l, addr, addr + len, owner, true);
		break;
	default:
		ret = -EINVAL;
	}
	if (ret)
		return ret;
	l->generation = generation;
	record(l, op, addr, len, owner, generation);
	return 0;
}

uint64_t ledger_generation(const struct ledger *l)
{
	return l->generation;
}

/* ---- reconcile ---- */

static int cmp_run(const void *a, const void *b)
{
	const struct ledger_run *x = a, *y = b;

	return x->addr < y->addr ? -1 : x->addr > y->addr;
}

/* Sorts, checks and merges a dump in place; the number of runs left, or -EINVAL. */
static long canonicalise(struct ledger_run *r, size_t n)
{
	size_t i, m = 0;

	qsort(r, n, sizeof(*r), cmp_run);
	for (i = 0; i < n; i++) {
		if (!range_ok(r[i].addr, r[i].len) || r[i].owner > PKVM_OWNER_MAX ||
		    (r[i].owner == PKVM_OWNER_HOST) != r[i].shared)
			return -EINVAL;
		if (m && r[i].addr < r[m - 1].addr + r[m - 1].len)
			return -EINVAL;	/* overlap */
		if (m && r[i].addr == r[m - 1].addr + r[m - 1].len &&
		    same_kind(&r[m - 1], r[i].owner, r[i].shared))
			r[m - 1].len += r[i].len;
		else
			r[m++] = r[i];
	}
	return (long)m;
}

static int copy_run(const struct ledger_run *run, void *arg)
{
	struct ledger_run **p = arg;

	*(*p)++ = *run;
	return 0;
}

/* Page-state change between two states (NULL: plain host memory). */
static void diff_pages(struct ledger_diff *d, const struct ledger_run *o,
		       const struct ledger_run *n, uint64_t pages)
{
	bool o_own = o && !o->shared, n_own = n && !n->shared;
	bool o_sh = o && o->shared, n_sh = n && n->shared;

	if (o_own && n_own) {
		if (o->owner != n->owner)
			d->owner_changed += pages;
	} else {
		d->donated_removed += o_own ? pages : 0;
		d->donated_added += n_own ? pages : 0;
	}
	if (o_sh != n_sh)
		*(o_sh ? &d->shared_removed : &d->shared_added) += pages;
}

/* One sweep over both sorted lists' boundaries: O(na + nb). */
static void diff_runs(struct ledger_diff *d, const struct ledger_run *a, size_t na,
		      const struct ledger_run *b, size_t nb)
{
	size_t i = 0, j = 0;
	uint64_t x = 0;

	for (;;) {
		bool a_in, b_in;
		uint64_t next = UINT64_MAX, e;

		while (i < na && a[i].addr + a[i].len <= x)
			i++;
		while (j < nb && b[j].addr + b[j].len <= x)
			j++;
		if (i == na && j == nb)
			break;
		a_in = i < na && a[i].addr <= x;
		b_in = j < nb && b[j].addr <= x;
		if (i < na) {
			e = a_in ? a[i].addr + a[i].len : a[i].addr;
			next = e < next ? e : next;
		}
		if (j < nb) {
			e = b_in ? b[j].addr + b[j].len : b[j].addr;
			next = e < next ? e : next;
		}
		if (a_in || b_in)
			diff_pages(d, a_in ? &a[i] : NULL, b_in ? &b[j] : NULL,
				   (next - x) / LEDGER_PAGE_SIZE);
		x = next;
	}

	/* Runs identical in both are unchanged; every other one counts. */
	for (i = j = 0; i < na || j < nb;) {
		if (j == nb || (i < na && a[i].addr < b[j].addr)) {
			d->runs_removed++;
			i++;
		} else if (i == na || b[j].addr < a[i].addr) {
			d->runs_added++;
			j++;
		} else {
			if (a[i].len != b[j].len || !same_kind(&a[i], b[j].owner, b[j].shared)) {
				d->runs_removed++;
				d->runs_added++;
			}
			i++;
			j++;
		}
	}
}

/* m tree nodes holding runs[], all or none: -ENOMEM. */
static int new_nodes(struct node **nodes, const struct ledger_run *runs, size_t m)
{
	for (size_t i = 0; i < m; i++) {
		nodes[i] = calloc(1, sizeof(**nodes));
		if (!nodes[i]) {
			while (i)
				free(nodes[--i]);
			return -ENOMEM;
		}
		nodes[i]->r = runs[i];
	}
	return 0;
}

int ledger_reconcile(struct ledger *l, const struct ledger_run *dump, size_t n,
		     uint64_t generation, struct ledger_diff *diff)
{
	/* Everything that can fail happens before the ledger is touched. */
	_cleanup_free_ struct ledger_run *runs = calloc(n ? n : 1, sizeof(*runs));
	_cleanup_free_ struct ledger_run *old = calloc(l->nr_runs ? l->nr_runs : 1, sizeof(*old));
	_cleanup_free_ struct node **nodes = calloc(n ? n : 1, sizeof(*nodes));
	struct ledger_diff d = { .old_generation = l->generation,
				 .new_generation = generation };
	struct ledger_run *p;
	uint32_t max_owner = 0;
	long m;
	size_t i;

	if (!runs || !old || !nodes)
		return -ENOMEM;
	if (n)
		memcpy(runs, dump, n * sizeof(*runs));
	m = canonicalise(runs, n);
	if (m < 0)
		return (int)m;
	for (i = 0; i < (size_t)m; i++)
		max_owner = runs[i].owner > max_owner ? runs[i].owner : max_owner;
	if (owner_reserve(l, max_owner) || new_nodes(nodes, runs, (size_t)m))
		return -ENOMEM;
	p = old;
	tree_walk(l->root, copy_run, &p);
	diff_runs(&d, old, l->nr_runs, runs, (size_t)m);

	tree_free(l->root);
	l->root = tree_build(nodes, 0, (size_t)m);
	l->nr_runs = (size_t)m;
	memset(l->owner_pages, 0, l->owner_cap * sizeof(*l->owner_pages));
	l->shared_pages = l->donated_pages = 0;
	for (i = 0; i < (size_t)m; i++)
		account(l, runs[i].owner, runs[i].shared, runs[i].len, 1);
	l->generation = generation;
	record(l, LEDGER_RESYNC, 0, 0, 0, generation);
	if (diff)
		*diff = d;
	return 0;
}

/* ---- queries ---- */

struct copy_ctx {
	struct ledger_run *out;
	size_t max, nr;
};

static int copy_bounded(const struct ledger_run *run, void *arg)
{
	struct copy_ctx *c = arg;

	if (c->nr >= c->max)
		return 1;
	c->out[c->nr++] = *run;
	return 0;
}

size_t ledger_runs(const struct ledger *l, struct ledger_run *out, size_t max)
{
	struct copy_ctx c = { out, max, 0 };

	if (out && max)
		tree_walk(l->root, copy_bounded, &c);
	return l->nr_runs;
}

int ledger_for_each(const struct ledger *l,
		    int (*fn)(const struct ledger_run *run, void *arg), void *arg)
{
	return tree_walk(l->root, fn, arg);
}

int ledger_owner_of(const struct ledger *l, uint64_t addr, uint32_t *owner, bool *shared)
{
	const struct node *n = floor_node(l->root, addr);

	if (n && addr - n->r.addr < n->r.len) {
		*owner = n->r.owner;
		*shared = n->r.shared;
		return 0;
	}
	*owner = PKVM_OWNER_HOST;
	*shared = false;
	return -ENOENT;
}

uint64_t ledger_pages(const struct ledger *l, uint32_t owner)
{
	return owner < l->owner_cap ? l->owner_pages[owner] : 0;
}

uint64_t ledger_shared_pages(const struct ledger *l)
{
	return l->shared_pages;
}

uint64_t ledger_donated_pages(const struct ledger *l)
{
	return l->donated_pages;
}

int ledger_for_each_owner(const struct ledger *l,
			  int (*fn)(uint32_t owner, uint64_t pages, void *arg), void *arg)
{
	int ret;

	for (size_t o = PKVM_OWNER_HOST + 1; o < l->owner_cap; o++) {
		if (!l->owner_pages[o])
			continue;
		ret = fn((uint32_t)o, l->owner_pages[o], arg);
		if (ret)
			return ret;
	}
	return 0;
}

size_t ledger_history(const struct ledger *l, struct ledger_record *out, size_t max)
{
	size_t nr = max < l->hist_nr ? max : l->hist_nr;
	/* The oldest of the newest nr: nr steps back from the head. */
	size_t at = (l->hist_head + l->hist_cap - nr) % (l->hist_cap ? l->hist_cap : 1);

	for (size_t i = 0; i < nr; i++)
		out[i] = l->hist[(at + i) % l->hist_cap];
	return nr;
}

void ledger_set_time(struct ledger *l, uint64_t usec)
{
	l->now = usec;
}

/* ---- self-check ---- */

struct check_ctx {
	const struct ledger_run *prev;
	uint64_t pages[2];	/* donated, shared */
	size_t nr;
	int bad;
};

/* Height of a valid AVL subtree, or -1. */
static int check_node(const struct node *n)
{
	int l, r;

	if (!n)
		return 0;
	l = check_node(n->left);
	r = check_node(n->right);
	if (l < 0 || r < 0 || l - r > 1 || r - l > 1 || n->height != 1 + (l > r ? l : r))
		return -1;
	return n->height;
}

static int check_run(const struct ledger_run *run, void *arg)
{
	struct check_ctx *c = arg;
	const struct ledger_run *p = c->prev;

	if (!range_ok(run->addr, run->len) || run->owner > PKVM_OWNER_MAX ||
	    (run->owner == PKVM_OWNER_HOST) != run->shared ||
	    (p && p->addr + p->len > run->addr) ||
	    (p && p->addr + p->len == run->addr && same_kind(p, run->owner, run->shared)))
		return 1;
	c->pages[run->shared] += run->len / LEDGER_PAGE_SIZE;
	c->nr++;
	c->prev = run;
	return 0;
}

int ledger_check(const struct ledger *l)
{
	struct check_ctx c = { 0 };
	uint64_t sum = 0;

	if (check_node(l->root) < 0 || tree_walk(l->root, check_run, &c) ||
	    c.nr != l->nr_runs || c.pages[0] != l->donated_pages ||
	    c.pages[1] != l->shared_pages ||
	    (l->owner_cap && l->owner_pages[PKVM_OWNER_HOST] != l->shared_pages))
		return -EUCLEAN;
	for (size_t o = PKVM_OWNER_HOST + 1; o < l->owner_cap; o++)
		sum += l->owner_pages[o];
	return sum == l->donated_pages ? 0 : -EUCLEAN;
}

/* ---- life ---- */

struct ledger *ledger_new_with_history(size_t nr)
{
	_cleanup_ledger_ struct ledger *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	if (nr) {
		l->hist = calloc(nr, sizeof(*l->hist));
		if (!l->hist)
			return NULL;
		l->hist_cap = nr;
	}
	return TAKE_PTR(l);
}

struct ledger *ledger_new(void)
{
	return ledger_new_with_history(LEDGER_HISTORY_DEFAULT);
}

void ledger_free(struct ledger *l)
{
	if (!l)
		return;
	tree_free(l->root);
	free(l->owner_pages);
	free(l->hist);
	free(l);
}
