// SPDX-License-Identifier: GPL-2.0
/*
 * The simulation backend (see backend_sim.h): a simulated machine brought
 * up through the hyp core's hypercall entry exactly as the module does it,
 * with a software SMMUv3 behind its register page. What the module adds on
 * top of the hyp core (generation counter, stream policy table, argument
 * checks of the ioctls, events) is the module's own host core (kmod/core),
 * so the daemon gets the module's answers from either backend. This file
 * is its environment (a direct transport, malloc, the event queue as the
 * sink), the simulated machine and the workloads.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/eventfd.h>

#include "pkvm_core.h"
#include "smmu_model.h"

#include "backend_sim.h"

#define KiB (1ull << 10)
#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define PAGE 4096ull

#define DEF_POOL_PAGES		2048u
#define DEF_SMMU_BASE		0x09000000ull
#define DEF_SEED		0x5eed0fa11ull
/* Backing buffer at the start of region 0: */
#define OFF_REGIONS		0ull		/* INIT's region array */
#define OFF_EVENT_FIRST		PAGE		/* EVENT_POP pages, 1 .. 255 */
#define OFF_EVENT_END		MiB
#define OFF_POOL		MiB
#define SMMU_MEM_PAGES		64ull
#define BATCH_BYTES		(PKVM_IOMMU_BATCH_MAX * sizeof(struct pkvm_iommu_op))
#define NO_SLOT			(~0u)

/* Workload areas, inside the arena (the largest free stretch of memory). */
#define ARENA_MIN		(512 * MiB)
#define CHURN_CLUSTERS		16u
#define CHURN_CLUSTER_PAGES	256u
#define CHURN_SLOTS		(CHURN_CLUSTERS * CHURN_CLUSTER_PAGES)
#define CHURN_DMA_EVERY		64u
#define BOOT_OFF		(256 * MiB)
#define BOOT_GUESTS		4u
#define BOOT_GUEST_SPAN		(64 * MiB)
#define BOOT_RANGES		4u
#define BOOT_SHARES		8u
/* donate ranges, share pages, one DMA, unshare pages, reclaim ranges */
#define BOOT_ACTIONS		(BOOT_RANGES + BOOT_SHARES + 1 + BOOT_SHARES + BOOT_RANGES)

static const struct { u64 off, len; } boot_ranges[BOOT_RANGES] = {
	{ 0, 16 * MiB },
	{ 32 * MiB, 2 * MiB },
	{ 40 * MiB + 64 * KiB, 256 * KiB },
	{ 48 * MiB + 4 * KiB, 8 * KiB },
};
#define BOOT_SHARE_OFF		(56 * MiB)

struct sim_backend {
	struct backend base;
	struct backend_sim_options opts;
	struct pkvm_iommu_hyp *hyp;
	struct pkvm_core core;
	struct smmu_model model;
	bool model_up, regs_mapped, buf_mapped;
	void *hostbuf, *regs;
	u64 buf_pa, buf_size;
	u64 pool_pa, smmu_mem_pa;
	u64 event_pa;
	u32 smmu;		/* the host core's index of the SMMU */

	/* bounded event queue, signalled through efd */
	struct backend_event *q;
	u32 q_cap, q_head, q_count;
	bool q_lost;
	int efd;

	/*
	 * Invalidation batching: the workloads' changes go to the BATCH call
	 * in groups of the core's batch_max_ops (records at batch_pa, in host
	 * memory), one flush each. The window has no meaning here: the
	 * workload makes its changes back to back, so a group fills or the
	 * step ends first.
	 */
	u64 batch_pa;
	struct pkvm_iommu_op *grp;
	u32 grp_n;
	u32 grp_slot[PKVM_IOMMU_BATCH_MAX];	/* churn slot, or NO_SLOT */
	int step_done;

	/* workloads */
	u64 rng;
	u64 arena, arena_size;
	u64 churn_pa[CHURN_SLOTS];
	u16 churn_owner[CHURN_SLOTS];
	u32 boot_guest, boot_pos;
	u32 dma_rr;
};

static bool sim_busy;

static struct sim_backend *to_sim(struct backend *b)
{
	return (struct sim_backend *)b;
}

static u64 rnd(struct sim_backend *s)
{
	/* splitmix64 */
	u64 z = (s->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* ---- event queue ---- */

static void signal_efd(struct sim_backend *s)
{
	u64 one = 1;

	/* Only fails when the counter is saturated: readable anyway. */
	if (write(s->efd, &one, sizeof(one)) < 0) {
		/* nothing to do */
	}
}

static void queue_event(struct sim_backend *s, const struct backend_event *ev)
{
	if (s->q_count == s->q_cap) {
		s->q_lost = true;
		return;
	}
	s->q[(s->q_head + s->q_count) % s->q_cap] = *ev;
	if (s->q_count++ == 0)
		signal_efd(s);
}

/* ---- the host core's environment ---- */

/* Host mode's transport: the hyp core is in process. */
static s64 env_call(void *ctx, u64 fn, const u64 args[6])
{
	return pkvm_iommu_hvc(to_sim(ctx)->hyp, fn, args);
}

static void *env_alloc(void *ctx, u64 bytes)
{
	return malloc(bytes);
}

static void env_free(void *ctx, void *p)
{
	free(p);
}

/* The module's netlink event, as the kernel backend reads it. */
static void env_event(void *ctx, const struct pkvm_core_event *ce)
{
	struct backend_event ev = {
		.generation = ce->generation, .addr = ce->addr, .len = ce->len,
		.owner = ce->owner, .smmu = ce->smmu, .sid = ce->sid,
		.fault_type = ce->fault_type, .fault_flags = ce->fault_flags,
		.policy = ce->policy,
	};

	if (ce->cmd == PKVM_IOMMU_CMD_EVT_FAULT)
		ev.kind = BACKEND_EV_FAULT;
	else if (ce->cmd == PKVM_IOMMU_CMD_EVT_POLICY)
		ev.kind = BACKEND_EV_POLICY;
	else
		ev.kind = ce->cmd - PKVM_IOMMU_CMD_EVT_OP(0);
	queue_event(to_sim(ctx), &ev);
}

static void *env_scratch(void *ctx);

static const struct pkvm_core_env sim_env = {
	.call = env_call,
	.alloc = env_alloc,
	.free = env_free,
	.event = env_event,
	.scratch = env_scratch,
};

static int sim_event_fd(struct backend *b)
{
	return to_sim(b)->efd;
}

static int sim_dispatch(struct backend *b, backend_event_fn fn, void *userdata)
{
	struct sim_backend *s = to_sim(b);
	u32 n = s->q_count, done = 0;
	bool lost = s->q_lost;
	u64 v;

	/* Reset readiness first: what fn adds signals again. */
	if (read(s->efd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		return -errno;
	s->q_lost = false;
	/* What fn queues meanwhile waits for the next call. */
	while (done < n && s->q_count) {
		struct backend_event ev = s->q[s->q_head];

		s->q_head = (s->q_head + 1) % s->q_cap;
		s->q_count--;
		done++;
		fn(&ev, userdata);
	}
	if (s->q_count || s->q_lost)
		signal_efd(s);
	if (lost)
		return -ENOBUFS;
	return (int)HYP_MIN(done, (u32)0x7fffffff);
}

/* ---- faults ---- */

static bool host_owns(struct sim_backend *s, u64 pa)
{
	u32 owner;
	bool shared;

	return !s2_owner_of(&s->hyp->pgt, pa, &owner, &shared) && owner == PKVM_OWNER_HOST;
}

/* A page of the backing buffer the host still owns, for EVENT_POP. */
static int pick_event_page(struct sim_backend *s)
{
	for (u64 off = OFF_EVENT_FIRST; off < OFF_EVENT_END; off += PAGE) {
		if (host_owns(s, s->buf_pa + off)) {
			s->event_pa = s->buf_pa + off;
			return 0;
		}
	}
	return -ENOSPC;
}

/*
 * The host core's answers go to the event page too (never at the same
 * time as an event): one the host still owns, in the backing buffer.
 */
static void *env_scratch(void *ctx)
{
	struct sim_backend *s = to_sim(ctx);

	if (!host_owns(s, s->event_pa) && pick_event_page(s))
		return NULL;
	return (u8 *)s->hostbuf + (s->event_pa - s->buf_pa);
}

static void drain_faults(struct sim_backend *s)
{
	for (int tries = 0; tries < 2;) {
		int ret = pkvm_core_event_pop(&s->core, s->smmu,
					      (void *)((u8 *)s->hostbuf + (s->event_pa - s->buf_pa)));

		if (ret == -EPERM) {
			/* Someone donated our event page: take another. */
			if (pick_event_page(s))
				return;
			tries++;
			continue;
		}
		if (ret != 1)
			return;
	}
}

int backend_sim_dma(struct backend *b, uint32_t sid, uint64_t addr, uint64_t len, bool write)
{
	struct sim_backend *s = to_sim(b);
	int ret = smmu_model_dma(&s->model, sid, addr, len, write);

	drain_faults(s);
	return ret;
}

/* ---- backend_ops ---- */

static int sim_info(struct backend *b, struct pkvm_iommu_info *out)
{
	return pkvm_core_info(&to_sim(b)->core, out);
}

static int sim_smmu_info(struct backend *b, uint32_t index, struct pkvm_iommu_smmu_info *out)
{
	return pkvm_core_smmu_info(&to_sim(b)->core, index, out);
}

static int sim_stream_get(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t *policy)
{
	return pkvm_core_stream_get(&to_sim(b)->core, smmu, sid, policy);
}

static int sim_stream_set(struct backend *b, uint32_t smmu, uint32_t sid, uint32_t policy)
{
	return pkvm_core_stream_set(&to_sim(b)->core, smmu, sid, policy);
}

static int sim_split_policy(struct backend *b, uint32_t policy, uint32_t level)
{
	return pkvm_core_split_policy(&to_sim(b)->core, policy, level);
}

static int sim_stats(struct backend *b, struct pkvm_iommu_stats *out)
{
	return pkvm_core_stats(&to_sim(b)->core, out);
}

static int sim_invalidation(struct backend *b, uint32_t *max_ops, uint32_t *window_us)
{
	return pkvm_core_invalidation(&to_sim(b)->core, max_ops, window_us);
}

static int sim_fold(struct backend *b, struct pkvm_iommu_fold *f)
{
	return pkvm_core_fold(&to_sim(b)->core, f);
}

static int sim_compact(struct backend *b, uint32_t *folded, bool *more)
{
	return pkvm_core_compact_step(&to_sim(b)->core, folded, more);
}

static int sim_range(struct backend *b, enum pkvm_iommu_op_code op, uint64_t addr, uint64_t len,
		     uint32_t owner)
{
	int ret = pkvm_core_change(&to_sim(b)->core, op, addr, len, owner);

	/* A failed SMMU is news the driver has for the host: now, not at the next DMA. */
	if (ret == -ETIMEDOUT || ret == -EIO)
		drain_faults(to_sim(b));
	return ret;
}

int backend_sim_inject(struct backend *b, const char *fault)
{
	struct smmu_model *m = &to_sim(b)->model;

	if (!strcmp(fault, "none")) {
		m->stall_sync = m->evtq_drop = false;
		m->cerror_next = 0;
	} else if (!strcmp(fault, "sync-timeout")) {
		m->stall_sync = true;
	} else if (!strcmp(fault, "cmd-error")) {
		m->cerror_next = 1;
	} else if (!strcmp(fault, "evtq-overflow")) {
		m->evtq_drop = true;
	} else {
		return -EINVAL;
	}
	return 0;
}

struct dump {
	struct ledger_run *runs;
	size_t nr, cap;
};

static int dump_run(const struct pkvm_core_run *run, void *arg)
{
	struct dump *d = arg;

	if (d->nr == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		void *p = realloc(d->runs, cap * sizeof(*d->runs));

		if (!p)
			return -ENOMEM;
		d->runs = p;
		d->cap = cap;
	}
	d->runs[d->nr++] = (struct ledger_run){ .addr = run->addr, .len = run->len,
		.owner = run->owner, .shared = run->shared };
	return 0;
}

static int sim_ledger_dump(struct backend *b, struct ledger_run **runs, size_t *n,
			   uint64_t *generation)
{
	struct sim_backend *s = to_sim(b);
	struct dump d = { 0 };
	u64 resume;
	int ret = pkvm_core_ledger_walk(&s->core, 0, dump_run, &d, &resume);

	if (ret) {
		free(d.runs);
		return ret;
	}
	*runs = d.runs;
	*n = d.nr;
	*generation = s->core.generation;
	return 0;
}

static void sim_free(struct backend *b)
{
	struct sim_backend *s = to_sim(b);

	if (!s)
		return;
	if (s->regs_mapped)
		sim_phys_unmap(s->opts.smmu_base);
	if (s->model_up)
		smmu_model_fini(&s->model);
	if (s->buf_mapped)
		sim_phys_unmap(s->buf_pa);
	if (s->efd >= 0)
		close(s->efd);
	free(s->regs);
	free(s->hostbuf);
	free(s->hyp);
	free(s->q);
	pkvm_core_fini(&s->core);
	free(s);
	sim_busy = false;
}

static const struct backend_ops sim_ops = {
	.name = "sim",
	.kind = PKVM_IOMMU_BACKEND_SIM,
	.info = sim_info,
	.smmu_info = sim_smmu_info,
	.stream_get = sim_stream_get,
	.stream_set = sim_stream_set,
	.split_policy = sim_split_policy,
	.stats = sim_stats,
	.invalidation = sim_invalidation,
	.fold = sim_fold,
	.compact = sim_compact,
	.range = sim_range,
	.ledger_dump = sim_ledger_dump,
	.event_fd = sim_event_fd,
	.dispatch = sim_dispatch,
	.free = sim_free,
};

/* ---- workloads ---- */

static void churn_refresh(struct sim_backend *s, u32 i);

/*
 * Apply the group: one BATCH call, one flush. Changes after a refused one
 * were not tried, so the churn slots they touched are read back from the
 * table rather than trusted.
 */
static void flush_group(struct sim_backend *s)
{
	s64 r;
	u32 done;

	if (!s->grp_n)
		return;
	r = pkvm_core_batch(&s->core, s->grp, s->grp_n);
	if (r == -ETIMEDOUT || r == -EIO)
		drain_faults(s);
	done = r < 0 ? 0 : (u32)r;
	for (u32 i = done; i < s->grp_n; i++)
		if (s->grp_slot[i] != NO_SLOT)
			churn_refresh(s, s->grp_slot[i]);
	s->step_done += (int)done;
	s->grp_n = 0;
}

/* One change of a workload: applied now, or queued into the group. */
static void submit(struct sim_backend *s, enum pkvm_iommu_op_code op, u64 addr, u64 len, u32 owner,
		   u32 slot)
{
	if (s->core.batch_max_ops <= 1) {
		if (!pkvm_core_change(&s->core, op, addr, len, owner))
			s->step_done++;
		else if (slot != NO_SLOT)
			churn_refresh(s, slot);
		return;
	}
	s->grp[s->grp_n] = (struct pkvm_iommu_op){ op, owner, addr, len, 0, 0 };
	s->grp_slot[s->grp_n] = slot;
	if (++s->grp_n >= s->core.batch_max_ops)
		flush_group(s);
}

static bool isolated_sid(struct sim_backend *s, u32 *sid)
{
	const struct pkvm_core_smmu *sm = &s->core.smmu[s->smmu];

	for (u32 k = 0; k < sm->nr_streams; k++) {
		const struct pkvm_core_stream *e = &sm->streams[(s->dma_rr + k) % sm->nr_streams];

		if (e->policy == PKVM_STREAM_ISOLATE) {
			s->dma_rr = (s->dma_rr + k + 1) % sm->nr_streams;
			*sid = e->sid;
			return true;
		}
	}
	return false;
}

static void churn_refresh(struct sim_backend *s, u32 i)
{
	u32 owner = PKVM_OWNER_HOST;
	bool shared;

	if (s2_owner_of(&s->hyp->pgt, s->churn_pa[i], &owner, &shared))
		owner = PKVM_OWNER_HOST;
	s->churn_owner[i] = (u16)owner;
}

/* The slot's state as if every queued change succeeds: submit() repairs it. */
static int churn_step(struct sim_backend *s)
{
	u64 r = rnd(s);
	u32 i = (u32)((r >> 8) % CHURN_SLOTS), sid;

	if (r % CHURN_DMA_EVERY == 0 && isolated_sid(s, &sid)) {
		/* A device that still uses a page the host gave away. */
		flush_group(s);
		for (int k = 0; k < 8; k++, i = (i + 97) % CHURN_SLOTS) {
			if (s->churn_owner[i] != PKVM_OWNER_HOST) {
				backend_sim_dma(&s->base, sid, s->churn_pa[i] + ((r >> 32) & 0xfc0),
						64, (r >> 40) & 1);
				break;
			}
		}
		return 0;
	}
	if (s->churn_owner[i] == PKVM_OWNER_HOST) {
		u32 owner = PKVM_OWNER_GUEST_FIRST + (u32)((r >> 24) % 4);

		s->churn_owner[i] = (u16)owner;
		submit(s, PKVM_IOMMU_OP_DONATE, s->churn_pa[i], PAGE, owner, i);
	} else {
		u32 owner = s->churn_owner[i];

		s->churn_owner[i] = PKVM_OWNER_HOST;
		submit(s, PKVM_IOMMU_OP_RECLAIM, s->churn_pa[i], PAGE, owner, i);
	}
	return 0;
}

static int boot_step(struct sim_backend *s)
{
	u64 area = s->arena + BOOT_OFF + s->boot_guest * BOOT_GUEST_SPAN;
	u32 owner = PKVM_OWNER_GUEST_FIRST + s->boot_guest;
	u32 a = s->boot_pos, sid;

	if (++s->boot_pos == BOOT_ACTIONS) {
		s->boot_pos = 0;
		s->boot_guest = (s->boot_guest + 1) % BOOT_GUESTS;
	}
	if (a < BOOT_RANGES)
		submit(s, PKVM_IOMMU_OP_DONATE, area + boot_ranges[a].off, boot_ranges[a].len, owner,
		       NO_SLOT);
	else if ((a -= BOOT_RANGES) < BOOT_SHARES)
		submit(s, PKVM_IOMMU_OP_SHARE, area + BOOT_SHARE_OFF + a * 2 * PAGE, PAGE, owner, NO_SLOT);
	else if ((a -= BOOT_SHARES) < 1) {
		/* The guest runs; a host device strays into its memory. */
		flush_group(s);
		if (isolated_sid(s, &sid))
			backend_sim_dma(&s->base, sid, area + boot_ranges[1].off + 0x1000, 64, true);
	} else if ((a -= 1) < BOOT_SHARES)
		submit(s, PKVM_IOMMU_OP_UNSHARE, area + BOOT_SHARE_OFF + a * 2 * PAGE, PAGE, owner,
		       NO_SLOT);
	else if ((a -= BOOT_SHARES) < BOOT_RANGES) {
		a = BOOT_RANGES - 1 - a;
		submit(s, PKVM_IOMMU_OP_RECLAIM, area + boot_ranges[a].off, boot_ranges[a].len, owner,
		       NO_SLOT);
	}
	return 0;
}

int backend_sim_step(struct backend *b, enum backend_sim_workload w, unsigned int n)
{
	struct sim_backend *s = to_sim(b);
	int (*step)(struct sim_backend *s);
	int done = 0;

	switch (w) {
	case SIM_WORKLOAD_IDLE:
		return 0;
	case SIM_WORKLOAD_CHURN:
		step = churn_step;
		break;
	case SIM_WORKLOAD_BOOT:
		step = boot_step;
		break;
	default:
		return -EINVAL;
	}
	if (s->arena_size < ARENA_MIN)
		return -ENOSPC;
	s->step_done = 0;
	for (unsigned int i = 0; i < n; i++)
		step(s);
	flush_group(s);
	done = s->step_done;
	return done;
}

int backend_sim_workload_parse(const char *str, enum backend_sim_workload *w)
{
	if (!strcmp(str, "idle"))
		*w = SIM_WORKLOAD_IDLE;
	else if (!strcmp(str, "churn"))
		*w = SIM_WORKLOAD_CHURN;
	else if (!strcmp(str, "boot"))
		*w = SIM_WORKLOAD_BOOT;
	else
		return -EINVAL;
	return 0;
}

/* ---- bring-up ---- */

void backend_sim_default_options(struct backend_sim_options *o)
{
	memset(o, 0, sizeof(*o));
	o->regions[0] = (struct backend_sim_region){ 0x80000000ull, 2 * GiB };
	o->regions[1] = (struct backend_sim_region){ 0x880000000ull, 2 * GiB };
	o->nr_regions = 2;
	o->pool_pages = DEF_POOL_PAGES;
	o->split_policy = PKVM_SPLIT_AUTO;
	o->ril = true;
	o->bbml = 2;
	o->smmu_base = DEF_SMMU_BASE;
	o->queue_size = BACKEND_SIM_QUEUE_DEFAULT;
	o->seed = DEF_SEED;
}

static int check_options(const struct backend_sim_options *o)
{
	if (!o->nr_regions || o->nr_regions > BACKEND_SIM_MAX_REGIONS ||
	    o->nr_isolate > BACKEND_SIM_MAX_ISOLATE || o->bbml > 2 || o->sidsize > 32 ||
	    o->smmu_base & (SMMU_MODEL_REGS_SIZE / 2 - 1))
		return -EINVAL;
	for (u32 i = 0; i < o->nr_regions; i++) {
		const struct backend_sim_region *r = &o->regions[i];

		if (!r->size || (r->base | r->size) & (PAGE - 1) || r->base + r->size < r->base)
			return -EINVAL;
		if (i && r->base < o->regions[i - 1].base + o->regions[i - 1].size)
			return -EINVAL;
	}
	return 0;
}

/* The largest stretch of memory the backend's own buffer leaves free. */
static void pick_arena(struct sim_backend *s)
{
	for (u32 i = 0; i < s->opts.nr_regions; i++) {
		u64 base = s->opts.regions[i].base, end = base + s->opts.regions[i].size;

		if (i == 0)
			base += s->buf_size;
		base = (base + 2 * MiB - 1) & ~(2 * MiB - 1);
		if (base < end && end - base > s->arena_size) {
			s->arena = base;
			s->arena_size = end - base;
		}
	}
	if (s->arena_size < ARENA_MIN)
		return;
	for (u32 c = 0; c < CHURN_CLUSTERS; c++) {
		u64 cl = s->arena + c * 16 * MiB + (c % 8) * 2 * MiB;

		for (u32 p = 0; p < CHURN_CLUSTER_PAGES; p++)
			s->churn_pa[c * CHURN_CLUSTER_PAGES + p] = cl + p * PAGE;
	}
}

int backend_sim_open(struct backend **out, const struct backend_sim_options *opts)
{
	struct s2_region regions[BACKEND_SIM_MAX_REGIONS];
	struct smmu_model_cfg mc;
	struct pkvm_iommu_fold fold;
	struct sim_backend *s;
	const char *fault;
	s64 r;
	int ret;

	if (sim_busy)
		return -EBUSY;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->efd = -1;
	s->base.ops = &sim_ops;
	if (opts)
		s->opts = *opts;
	else
		backend_sim_default_options(&s->opts);
	if (!s->opts.nr_regions) {
		struct backend_sim_options d;

		backend_sim_default_options(&d);
		memcpy(s->opts.regions, d.regions, sizeof(d.regions));
		s->opts.nr_regions = d.nr_regions;
	}
	if (!s->opts.pool_pages)
		s->opts.pool_pages = DEF_POOL_PAGES;
	if (!s->opts.smmu_base)
		s->opts.smmu_base = DEF_SMMU_BASE;
	if (!s->opts.queue_size)
		s->opts.queue_size = BACKEND_SIM_QUEUE_DEFAULT;
	if (!s->opts.seed)
		s->opts.seed = DEF_SEED;
	ret = check_options(&s->opts);
	if (ret) {
		free(s);
		return ret;
	}
	sim_busy = true;

	s->rng = s->opts.seed;
	s->q_cap = s->opts.queue_size;
	s->q = calloc(s->q_cap, sizeof(*s->q));
	s->hyp = calloc(1, sizeof(*s->hyp));
	s->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (!s->q || !s->hyp || s->efd < 0) {
		ret = s->efd < 0 ? -errno : -ENOMEM;
		goto fail;
	}
	pkvm_core_init(&s->core, &sim_env, s, PKVM_IOMMU_BACKEND_SIM);

	/* Backed memory at the start of region 0: argument pages, pool, SMMU. */
	s->buf_pa = s->opts.regions[0].base;
	s->pool_pa = s->buf_pa + OFF_POOL;
	s->smmu_mem_pa = (s->pool_pa + (u64)s->opts.pool_pages * PAGE + MiB - 1) & ~(MiB - 1);
	s->batch_pa = s->smmu_mem_pa + SMMU_MEM_PAGES * PAGE;
	s->buf_size = s->batch_pa + BATCH_BYTES - s->buf_pa;
	if (s->buf_size > s->opts.regions[0].size) {
		ret = -EINVAL;
		goto fail;
	}
	if (posix_memalign(&s->hostbuf, PAGE, s->buf_size) ||
	    posix_memalign(&s->regs, 65536, SMMU_MODEL_REGS_SIZE)) {
		ret = -ENOMEM;
		goto fail;
	}
	memset(s->hostbuf, 0, s->buf_size);
	s->grp = (struct pkvm_iommu_op *)((u8 *)s->hostbuf + (s->batch_pa - s->buf_pa));
	/* First window: the hot path of every table walk looks there first. */
	ret = sim_phys_map(s->buf_pa, s->buf_size, s->hostbuf);
	if (ret)
		goto fail;
	s->buf_mapped = true;

	smmu_model_default_cfg(&mc);
	mc.ril = s->opts.ril;
	mc.bbml = s->opts.bbml;
	if (s->opts.sidsize)
		mc.sidsize = s->opts.sidsize;
	ret = smmu_model_init(&s->model, s->regs, &mc);
	if (ret)
		goto fail;
	s->model_up = true;
	ret = sim_phys_map(s->opts.smmu_base, SMMU_MODEL_REGS_SIZE, s->regs);
	if (ret)
		goto fail;
	s->regs_mapped = true;

	for (u32 i = 0; i < s->opts.nr_regions; i++)
		regions[i] = (struct s2_region){ s->opts.regions[i].base, s->opts.regions[i].size };
	memcpy((u8 *)s->hostbuf + OFF_REGIONS, regions, s->opts.nr_regions * sizeof(regions[0]));
	pkvm_iommu_hyp_setup(s->hyp);
	r = pkvm_core_call(&s->core, PKVM_IOMMU_HVC_INIT, s->buf_pa + OFF_REGIONS,
			   s->opts.nr_regions, s->pool_pa, s->opts.pool_pages, s->opts.split_policy,
			   s->opts.presplit_level);
	if (r) {
		ret = (int)r;
		goto fail;
	}
	r = pkvm_core_smmu_add(&s->core, s->opts.smmu_base, s->smmu_mem_pa, SMMU_MEM_PAGES);
	if (r < 0) {
		ret = (int)r;
		goto fail;
	}
	s->smmu = (u32)r;
	/*
	 * The hyp core starts eager; a loaded module is lazy (the uapi's
	 * defaults), and the sim answers as a loaded module does.
	 */
	fold = (struct pkvm_iommu_fold){ .size = sizeof(fold), .mode = PKVM_FOLD_LAZY,
		.compact_budget = PKVM_IOMMU_FOLD_DEFAULT_BUDGET,
		.idle_ms = PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS };
	ret = pkvm_core_fold(&s->core, &fold);
	if (ret)
		goto fail;
	ret = pick_event_page(s);
	if (ret)
		goto fail;
	for (u32 i = 0; i < s->opts.nr_isolate; i++) {
		ret = sim_stream_set(&s->base, s->smmu, s->opts.isolate_sids[i],
				     PKVM_STREAM_ISOLATE);
		if (ret)
			goto fail;
	}
	/* Bring-up is not news: start with an empty queue. */
	s->q_head = s->q_count = 0;
	{
		u64 v;

		if (read(s->efd, &v, sizeof(v)) < 0) {
			/* nothing was signalled */
		}
	}
	pick_arena(s);
	fault = getenv("PKVM_SIM_FAULT");
	if (fault && *fault) {
		ret = backend_sim_inject(&s->base, fault);
		if (ret)
			goto fail;
	}
	*out = &s->base;
	return 0;
fail:
	sim_free(&s->base);
	return ret;
}
