// SPDX-License-Identifier: GPL-2.0
/*
 * The simulation backend of pkvm-iommud: the answers it gives must be the
 * kernel module's (info, SMMU facts, stream checks), its events must keep
 * a daemon ledger equal to its dump through churn, overflow and resync, and
 * DMA through the SMMU model must report faults as the module does.
 */
#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend_sim.h"
#include "ledger.h"
#include "test_registry.h"

#define MiB (1ull << 20)
#define GiB (1ull << 30)
#define F_TRANSLATION 0x10u

/* Freed by the fixture even when an assertion fails half-way. */
static struct backend *cur;

static void teardown(void)
{
	if (cur)
		cur->ops->free(cur);
	cur = NULL;
}

static struct backend *open_with(const struct backend_sim_options *o)
{
	ck_assert_ptr_null(cur);
	ck_assert_int_eq(backend_sim_open(&cur, o), 0);
	ck_assert_ptr_nonnull(cur);
	return cur;
}

/* ---- event collection ---- */

struct evlog {
	struct backend_event *ev;
	size_t nr, cap;
};

static void collect(const struct backend_event *ev, void *arg)
{
	struct evlog *l = arg;

	ck_assert_int_eq(GROW_ARRAY(l->ev, l->cap, l->nr + 1, 1024), 0);
	l->ev[l->nr++] = *ev;
}

static bool readable(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, 0) == 1 && (p.revents & POLLIN);
}

/* Feeds ownership events into a daemon ledger, as the daemon does. */
struct feeder {
	struct ledger *l;
	uint64_t applied, faults, policies, bad;
	struct backend_event last_fault;
};

static void feed(const struct backend_event *ev, void *arg)
{
	struct feeder *f = arg;
	int ret;

	switch (ev->kind) {
	case PKVM_IOMMU_OP_DONATE:
	case PKVM_IOMMU_OP_RECLAIM:
	case PKVM_IOMMU_OP_SHARE:
	case PKVM_IOMMU_OP_UNSHARE:
		ret = ledger_apply(f->l, ev->kind,
				   ev->addr, ev->len, ev->owner, ev->generation);
		if (ret)
			f->bad++;
		else
			f->applied++;
		break;
	case BACKEND_EV_FAULT:
		f->faults++;
		f->last_fault = *ev;
		break;
	case BACKEND_EV_POLICY:
		f->policies++;
		break;
	}
}

static void resync(struct backend *b, struct ledger *l)
{
	struct ledger_run *runs = NULL;
	size_t n = 0;
	uint64_t gen;

	ck_assert_int_eq(b->ops->ledger_dump(b, &runs, &n, &gen), 0);
	ck_assert_int_eq(ledger_reconcile(l, runs, n, gen, NULL), 0);
	free(runs);
}

/* The ledger equals the backend's dump, run for run, at the same generation. */
static void assert_ledger_equals_dump(struct backend *b, struct ledger *l)
{
	struct ledger_run *runs = NULL, *mine;
	size_t n = 0, m;
	uint64_t gen;

	ck_assert_int_eq(b->ops->ledger_dump(b, &runs, &n, &gen), 0);
	ck_assert_uint_eq(ledger_generation(l), gen);
	m = ledger_runs(l, NULL, 0);
	ck_assert_uint_eq(m, n);
	mine = calloc(m + 1, sizeof(*mine));
	ck_assert_ptr_nonnull(mine);
	ck_assert_uint_eq(ledger_runs(l, mine, m), m);
	for (size_t i = 0; i < n; i++) {
		ck_assert_uint_eq(mine[i].addr, runs[i].addr);
		ck_assert_uint_eq(mine[i].len, runs[i].len);
		ck_assert_uint_eq(mine[i].owner, runs[i].owner);
		ck_assert_int_eq(mine[i].shared, runs[i].shared);
	}
	ck_assert_int_eq(ledger_check(l), 0);
	free(mine);
	free(runs);
}

static const struct ledger_run *find_run(const struct ledger_run *runs, size_t n, uint64_t addr)
{
	for (size_t i = 0; i < n; i++)
		if (addr >= runs[i].addr && addr - runs[i].addr < runs[i].len)
			return &runs[i];
	return NULL;
}

/* ---- tests ---- */

TEST("sim", info_default_machine)
{
	struct pkvm_iommu_smmu_info si;
	struct pkvm_iommu_stats st;
	struct pkvm_iommu_info in;
	struct backend *b = open_with(NULL);

	ck_assert_str_eq(b->ops->name, "sim");
	ck_assert_int_eq(b->ops->kind, PKVM_IOMMU_BACKEND_SIM);
	ck_assert_int_eq(b->ops->info(b, &in), 0);
	ck_assert_uint_eq(in.size, sizeof(in));
	ck_assert_uint_eq(in.abi_version, PKVM_IOMMU_ABI_VERSION);
	ck_assert_uint_eq(in.backend, PKVM_IOMMU_BACKEND_SIM);
	ck_assert_uint_eq(in.nr_smmus, 1);
	ck_assert_uint_eq(in.split_policy, PKVM_SPLIT_AUTO);
	/* Top of memory 0x900000000: 36 bits. */
	ck_assert_uint_eq(in.ias, 36);
	ck_assert_uint_eq(in.mem_bytes, 4 * GiB);
	ck_assert_uint_eq(in.generation, 0);

	ck_assert_int_eq(b->ops->smmu_info(b, 0, &si), 0);
	ck_assert_uint_eq(si.size, sizeof(si));
	ck_assert_uint_eq(si.index, 0);
	ck_assert_uint_eq(si.base, 0x09000000ull);
	ck_assert_uint_ne(si.idr[0], 0);
	ck_assert_uint_ne(si.idr[1], 0);
	ck_assert_uint_eq(si.idr[2], 0);
	ck_assert_uint_ne(si.idr[3], 0);
	ck_assert_uint_eq(si.idr[4], 0);
	ck_assert_uint_ne(si.idr[5], 0);
	/* IDR1.SIDSIZE [5:0], IDR3.BBML [12:11], IDR3.RIL [10] as read. */
	ck_assert_uint_eq(si.idr[1] & 0x3f, 16);
	ck_assert_uint_eq((si.idr[3] >> 11) & 3, 2);
	ck_assert_uint_eq((si.idr[3] >> 10) & 1, 1);
	ck_assert_uint_eq(si.features,
			  PKVM_IOMMU_FEAT_S1 | PKVM_IOMMU_FEAT_S2 | PKVM_IOMMU_FEAT_2LVL_STRTAB |
			  PKVM_IOMMU_FEAT_COHERENT | PKVM_IOMMU_FEAT_RIL |
			  PKVM_IOMMU_FEAT_VMID16 | PKVM_IOMMU_FEAT_GRAN4K);
	ck_assert_uint_eq(si.sidsize, 16);
	ck_assert_uint_eq(si.oas, 44);
	ck_assert_uint_eq(si.bbml, 2);
	ck_assert_uint_eq(si.events, 0);
	ck_assert_uint_eq(si.overflows, 0);
	ck_assert_int_eq(b->ops->smmu_info(b, 1, &si), -ENODEV);

	ck_assert_int_eq(b->ops->stats(b, &st), 0);
	ck_assert_uint_eq(st.size, sizeof(st));
	ck_assert_uint_eq(st.nr, PKVM_IOMMU_STAT_NR);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_MEM_PAGES], 4 * GiB / 4096);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_SPLIT_POLICY], PKVM_SPLIT_AUTO);
	ck_assert_uint_gt(st.counter[PKVM_IOMMU_STAT_TABLE_PAGES], 0);
	ck_assert_uint_gt(st.counter[PKVM_IOMMU_STAT_POOL_FREE], 0);
	ck_assert_uint_lt(st.counter[PKVM_IOMMU_STAT_POOL_FREE], 2048);
	/* The SMMU's memory was donated to the hypervisor at bring-up. */
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_DONATE], 1);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_ERRORS], 0);
	/* Nothing is news after bring-up. */
	ck_assert(!readable(b->ops->event_fd(b)));
}
END_TEST

TEST("sim", info_smmu_variant)
{
	struct backend_sim_options o;
	struct pkvm_iommu_smmu_info si;
	struct pkvm_iommu_stats st;
	struct pkvm_iommu_info in;
	struct backend *b;

	backend_sim_default_options(&o);
	o.ril = false;
	o.bbml = 0;
	o.sidsize = 8;
	o.regions[0] = (struct backend_sim_region){ 0x40000000ull, 512 * MiB };
	o.nr_regions = 1;
	b = open_with(&o);
	ck_assert_int_eq(b->ops->info(b, &in), 0);
	ck_assert_uint_eq(in.split_policy, PKVM_SPLIT_AUTO);
	/* Top 2^31, but 32..34 bits need concatenated roots: one more level. */
	ck_assert_uint_eq(in.ias, 35);
	ck_assert_uint_eq(in.mem_bytes, 512 * MiB);
	ck_assert_int_eq(b->ops->smmu_info(b, 0, &si), 0);
	ck_assert_uint_eq(si.features & PKVM_IOMMU_FEAT_RIL, 0);
	ck_assert_uint_eq(si.bbml, 0);
	ck_assert_uint_eq(si.sidsize, 8);
	ck_assert_uint_eq((si.idr[3] >> 11) & 3, 0);
	ck_assert_uint_eq((si.idr[3] >> 10) & 1, 0);
	/* auto on an SMMU without BBML2: the split policy must not be hitless */
	ck_assert_int_eq(b->ops->stats(b, &st), 0);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_SPLIT_POLICY], PKVM_SPLIT_AUTO);
	/* Explicit policy, reported as set; an event says so. */
	ck_assert_int_eq(b->ops->split_policy(b, PKVM_SPLIT_PRESPLIT, PKVM_LEVEL_2M), 0);
	ck_assert_int_eq(b->ops->info(b, &in), 0);
	ck_assert_uint_eq(in.split_policy, PKVM_SPLIT_PRESPLIT);
	ck_assert_int_eq(b->ops->split_policy(b, 7, 0), -EINVAL);
	{
		struct evlog log = { 0 };

		ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 1);
		ck_assert_int_eq(log.ev[0].kind, BACKEND_EV_POLICY);
		ck_assert_uint_eq(log.ev[0].smmu, ~0u);
		ck_assert_uint_eq(log.ev[0].sid, ~0u);
		ck_assert_uint_eq(log.ev[0].policy, PKVM_SPLIT_PRESPLIT);
		free(log.ev);
	}
	/* The workloads need room. */
	ck_assert_int_eq(backend_sim_step(b, SIM_WORKLOAD_CHURN, 10), -ENOSPC);
	ck_assert_int_eq(backend_sim_step(b, SIM_WORKLOAD_IDLE, 10), 0);
	ck_assert_int_eq(backend_sim_step(b, (enum backend_sim_workload)9, 1), -EINVAL);
}
END_TEST

TEST("sim", stream_set_get_and_errors)
{
	struct backend_sim_options o;
	struct evlog log = { 0 };
	struct backend *b;
	uint32_t p = 99;

	backend_sim_default_options(&o);
	o.sidsize = 8;
	b = open_with(&o);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 5, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_BLOCK);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 5, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 5, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_ISOLATE);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 255, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 2, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 5, PKVM_STREAM_BLOCK), 0);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 5, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_BLOCK);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 255, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_ISOLATE);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 2, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_ISOLATE);

	ck_assert_int_eq(b->ops->stream_get(b, 1, 5, &p), -ENODEV);
	ck_assert_int_eq(b->ops->stream_set(b, 1, 5, PKVM_STREAM_BLOCK), -ENODEV);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 256, &p), -ERANGE);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 256, PKVM_STREAM_ISOLATE), -ERANGE);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 0xffffffffu, PKVM_STREAM_ISOLATE), -ERANGE);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 5, 2), -EINVAL);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 5, 0xffffffffu), -EINVAL);
	ck_assert_int_eq(b->ops->stream_get(b, 0, 5, &p), 0);
	ck_assert_uint_eq(p, PKVM_STREAM_BLOCK);

	/* One policy event per accepted change, none for refusals. */
	ck_assert(readable(b->ops->event_fd(b)));
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 4);
	ck_assert(!readable(b->ops->event_fd(b)));
	ck_assert_int_eq(log.ev[0].kind, BACKEND_EV_POLICY);
	ck_assert_uint_eq(log.ev[0].smmu, 0);
	ck_assert_uint_eq(log.ev[0].sid, 5);
	ck_assert_uint_eq(log.ev[0].policy, PKVM_STREAM_ISOLATE);
	ck_assert_uint_eq(log.ev[3].sid, 5);
	ck_assert_uint_eq(log.ev[3].policy, PKVM_STREAM_BLOCK);
	free(log.ev);
}
END_TEST

TEST("sim", donate_shows_in_dump)
{
	struct backend *b = open_with(NULL);
	struct ledger_run *runs = NULL;
	const struct ledger_run *r;
	uint64_t a = 0x880000000ull + 2 * MiB, gen = 99;
	struct pkvm_iommu_info in;
	size_t n = 0;

	/* Bring-up: pool and SMMU memory belong to the hypervisor. */
	ck_assert_int_eq(b->ops->ledger_dump(b, &runs, &n, &gen), 0);
	ck_assert_uint_eq(gen, 0);
	ck_assert_uint_ge(n, 1);
	for (size_t i = 0; i < n; i++)
		ck_assert_uint_eq(runs[i].owner, PKVM_OWNER_HYP);
	ck_assert_ptr_null(find_run(runs, n, a));
	free(runs);

	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, a, 64 * 1024, 3), 0);
	ck_assert_int_eq(b->ops->ledger_dump(b, &runs, &n, &gen), 0);
	ck_assert_uint_eq(gen, 1);
	r = find_run(runs, n, a);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->addr, a);
	ck_assert_uint_eq(r->len, 64 * 1024);
	ck_assert_uint_eq(r->owner, 3);
	ck_assert(!r->shared);
	free(runs);

	/* Adjacent, same owner: one run. Shared host pages are runs too. */
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, a + 64 * 1024, 4096, 3), 0);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_SHARE, a + 4 * MiB, 8192, 0), 0);
	/* Refusals change nothing and bump nothing. */
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, a, 4096, 4), -EEXIST);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_RECLAIM, a, 4096, 4), -EPERM);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, a + 1, 4096, 4), -EINVAL);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, 0x200000000ull, 4096, 4), -ERANGE);
	ck_assert_int_eq(b->ops->range(b, LEDGER_RESYNC, a, 4096, 4), -EINVAL);
	ck_assert_int_eq(b->ops->ledger_dump(b, &runs, &n, &gen), 0);
	ck_assert_uint_eq(gen, 3);
	r = find_run(runs, n, a);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->len, 68 * 1024);
	r = find_run(runs, n, a + 4 * MiB);
	ck_assert_ptr_nonnull(r);
	ck_assert_uint_eq(r->addr, a + 4 * MiB);
	ck_assert_uint_eq(r->len, 8192);
	ck_assert_uint_eq(r->owner, PKVM_OWNER_HOST);
	ck_assert(r->shared);
	free(runs);
	ck_assert_int_eq(b->ops->info(b, &in), 0);
	ck_assert_uint_eq(in.generation, 3);
}
END_TEST

TEST("sim", events_in_order)
{
	struct backend *b = open_with(NULL);
	uint64_t base = 0x880000000ull;
	struct evlog log = { 0 };
	int fd = b->ops->event_fd(b);

	ck_assert_int_ge(fd, 0);
	ck_assert(!readable(fd));
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 0);
	for (unsigned int i = 0; i < 1000; i++)
		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, base + i * 8192, 4096,
					       2 + i % 4), 0);
	for (unsigned int i = 0; i < 1000; i += 2) {
		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_RECLAIM, base + i * 8192, 4096,
					       2 + i % 4), 0);
		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_SHARE, base + i * 8192, 4096, 0), 0);
		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_UNSHARE, base + i * 8192, 4096, 0), 0);
	}
	ck_assert(readable(fd));
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 2500);
	ck_assert(!readable(fd));
	ck_assert_uint_eq(log.nr, 2500);
	for (size_t i = 0; i < log.nr; i++)
		ck_assert_uint_eq(log.ev[i].generation, i + 1);
	for (unsigned int i = 0; i < 1000; i++) {
		ck_assert_int_eq(log.ev[i].kind, PKVM_IOMMU_OP_DONATE);
		ck_assert_uint_eq(log.ev[i].addr, base + i * 8192);
		ck_assert_uint_eq(log.ev[i].len, 4096);
		ck_assert_uint_eq(log.ev[i].owner, 2 + i % 4);
	}
	for (unsigned int k = 0; k < 500; k++) {
		const struct backend_event *e = &log.ev[1000 + 3 * k];

		ck_assert_int_eq(e[0].kind, PKVM_IOMMU_OP_RECLAIM);
		ck_assert_int_eq(e[1].kind, PKVM_IOMMU_OP_SHARE);
		ck_assert_int_eq(e[2].kind, PKVM_IOMMU_OP_UNSHARE);
		ck_assert_uint_eq(e[2].addr, base + 2 * k * 8192);
	}
	free(log.ev);
}
END_TEST

static void churn_and_feed(struct backend *b, struct feeder *f, enum backend_sim_workload w,
			   unsigned int steps, unsigned int batch)
{
	for (unsigned int done = 0; done < steps; done += batch) {
		if (batch > steps - done)
			batch = steps - done;
		ck_assert_int_ge(backend_sim_step(b, w, batch), 0);
		ck_assert_int_ge(b->ops->dispatch(b, feed, f), 0);
		ck_assert_uint_eq(f->bad, 0);
	}
}

TEST("sim", churn_ledger_matches_dump)
{
	struct backend_sim_options o;
	struct feeder f = { 0 };
	struct pkvm_iommu_smmu_info si;
	struct pkvm_iommu_stats st;
	struct backend *b;
	long steps = getenv("PKVM_SIM_STEPS") ? strtol(getenv("PKVM_SIM_STEPS"), NULL, 0) : 100000;

	backend_sim_default_options(&o);
	o.isolate_sids[0] = 4;
	o.isolate_sids[1] = 9;
	o.nr_isolate = 2;
	b = open_with(&o);
	f.l = ledger_new();
	ck_assert_ptr_nonnull(f.l);
	resync(b, f.l);
	churn_and_feed(b, &f, SIM_WORKLOAD_CHURN, (unsigned int)steps, 1000);
	assert_ledger_equals_dump(b, f.l);
	ck_assert_uint_gt(f.applied, (uint64_t)steps / 2);
	ck_assert_uint_gt(ledger_donated_pages(f.l), 100);
	ck_assert_uint_gt(f.faults, 0);
	ck_assert_uint_eq(f.last_fault.fault_type, F_TRANSLATION);
	ck_assert(f.last_fault.sid == 4 || f.last_fault.sid == 9);
	ck_assert_int_eq(b->ops->smmu_info(b, 0, &si), 0);
	ck_assert_uint_eq(si.events, f.faults);
	ck_assert_int_eq(b->ops->stats(b, &st), 0);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_DONATE] - 1 +
			  st.counter[PKVM_IOMMU_STAT_RECLAIM], f.applied);

	/* Guest boots on top, including large ranges and shares. */
	churn_and_feed(b, &f, SIM_WORKLOAD_BOOT, 25 * 20, 7);
	assert_ledger_equals_dump(b, f.l);
	ck_assert_int_eq(b->ops->stats(b, &st), 0);
	ck_assert_uint_ge(st.counter[PKVM_IOMMU_STAT_SHARE], 8 * 20);
	ck_assert_uint_eq(st.counter[PKVM_IOMMU_STAT_SHARE], st.counter[PKVM_IOMMU_STAT_UNSHARE]);
	/* Half a boot: the guest's memory is donated and its pages shared. */
	churn_and_feed(b, &f, SIM_WORKLOAD_BOOT, 12, 12);
	ck_assert_uint_ge(ledger_shared_pages(f.l), 8);
	assert_ledger_equals_dump(b, f.l);
	printf("churn: %llu events applied, %llu faults, %llu donated pages now\n",
	       (unsigned long long)f.applied, (unsigned long long)f.faults,
	       (unsigned long long)ledger_donated_pages(f.l));
	ledger_free(f.l);
}
END_TEST

/*
 * With invalidation batching the workloads' changes share flushes: 64 to a
 * group means about one sync per 64 changes, and the ledger fed from the
 * events still equals the table's dump exactly.
 */
TEST("sim", batched_workload_shares_syncs)
{
	struct pkvm_iommu_stats st0, st1;
	struct feeder f = { 0 };
	uint32_t max = 0, window = 0;
	struct backend *b = open_with(NULL);
	uint64_t syncs, changes;

	ck_assert_int_eq(b->ops->invalidation(b, &max, &window), 0);
	ck_assert_uint_eq(max, 1);
	ck_assert_uint_eq(window, 0);
	max = PKVM_IOMMU_BATCH_MAX + 1;
	ck_assert_int_eq(b->ops->invalidation(b, &max, &window), -EINVAL);
	max = 64;
	window = 500;
	ck_assert_int_eq(b->ops->invalidation(b, &max, &window), 0);
	ck_assert_uint_eq(max, 64);
	ck_assert_uint_eq(window, 500);

	f.l = ledger_new();
	resync(b, f.l);
	ck_assert_int_eq(b->ops->stats(b, &st0), 0);
	churn_and_feed(b, &f, SIM_WORKLOAD_CHURN, 6400, 640);
	churn_and_feed(b, &f, SIM_WORKLOAD_BOOT, 2000, 400);
	ck_assert_int_eq(b->ops->stats(b, &st1), 0);
	assert_ledger_equals_dump(b, f.l);
	ck_assert_uint_eq(f.bad, 0);
	changes = (st1.counter[PKVM_IOMMU_STAT_DONATE] - st0.counter[PKVM_IOMMU_STAT_DONATE]) +
		  (st1.counter[PKVM_IOMMU_STAT_RECLAIM] - st0.counter[PKVM_IOMMU_STAT_RECLAIM]) +
		  (st1.counter[PKVM_IOMMU_STAT_SHARE] - st0.counter[PKVM_IOMMU_STAT_SHARE]) +
		  (st1.counter[PKVM_IOMMU_STAT_UNSHARE] - st0.counter[PKVM_IOMMU_STAT_UNSHARE]);
	syncs = st1.counter[PKVM_IOMMU_STAT_SYNCS] - st0.counter[PKVM_IOMMU_STAT_SYNCS];
	ck_assert_uint_eq(changes, f.applied);
	ck_assert_uint_gt(changes, 6000);
	/* Groups end at 64 changes, at a DMA and at the end of a step. */
	ck_assert_msg(syncs * 16 < changes, "%llu syncs for %llu changes",
		      (unsigned long long)syncs, (unsigned long long)changes);
	ledger_free(f.l);
}
END_TEST

static uint64_t table_pages(struct backend *b)
{
	struct pkvm_iommu_stats st;

	ck_assert_int_eq(b->ops->stats(b, &st), 0);
	return st.counter[PKVM_IOMMU_STAT_TABLE_PAGES];
}

/*
 * A page donated in three 1 GiB blocks (none holding the backend's own
 * pages) and given back: each block split down to 4 KiB, two tables each.
 */
static void split_three_blocks(struct backend *b)
{
	static const uint64_t block[] = { 0xc0000000ull, 0x880000000ull, 0x8c0000000ull };

	for (unsigned int i = 0; i < 3; i++) {
		uint64_t a = block[i] + 5 * MiB + 12 * 4096;

		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, a, 4096, 2), 0);
		ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_RECLAIM, a, 4096, 2), 0);
	}
}

/*
 * The fold section through the sim backend: defaults read back, bad
 * values refused with nothing changed, a change read back; lazy leaves
 * reclaimed blocks split until compaction, one budget at a time, brings
 * the table back to what it was; eager never leaves them.
 */
TEST("sim", fold_mode_and_compaction)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .flags = PKVM_IOMMU_FOLD_READ };
	struct backend *b = open_with(NULL);
	uint64_t optimum = table_pages(b), calls = 0, total = 0;
	uint32_t folded;
	bool more = true;

	ck_assert_int_eq(b->ops->fold(b, &f), 0);
	ck_assert_uint_eq(f.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(f.compact_budget, PKVM_IOMMU_FOLD_DEFAULT_BUDGET);
	ck_assert_uint_eq(f.idle_ms, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS);

	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .mode = PKVM_FOLD_LAZY,
				      .compact_budget = 0, .idle_ms = 100 };
	ck_assert_int_eq(b->ops->fold(b, &f), -EINVAL);
	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .mode = 2, .compact_budget = 8 };
	ck_assert_int_eq(b->ops->fold(b, &f), -EINVAL);
	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .mode = PKVM_FOLD_LAZY,
				      .compact_budget = 1,
				      .idle_ms = PKVM_IOMMU_FOLD_IDLE_MAX_MS + 1 };
	ck_assert_int_eq(b->ops->fold(b, &f), -EINVAL);
	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .mode = PKVM_FOLD_LAZY,
				      .compact_budget = 1, .idle_ms = 250 };
	ck_assert_int_eq(b->ops->fold(b, &f), 0);
	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .flags = PKVM_IOMMU_FOLD_READ };
	ck_assert_int_eq(b->ops->fold(b, &f), 0);
	ck_assert_uint_eq(f.mode, PKVM_FOLD_LAZY);
	ck_assert_uint_eq(f.compact_budget, 1);
	ck_assert_uint_eq(f.idle_ms, 250);

	split_three_blocks(b);
	ck_assert_uint_gt(table_pages(b), optimum);
	/* Budget 1: each call folds at most one table, so it takes several. */
	while (more && calls < 1000) {
		ck_assert_int_eq(b->ops->compact(b, &folded, &more), 0);
		ck_assert_uint_le(folded, 1);
		total += folded;
		calls++;
	}
	ck_assert(!more);
	ck_assert_uint_gt(calls, 3);
	ck_assert_uint_ge(total, 3);
	ck_assert_uint_eq(table_pages(b), optimum);

	f = (struct pkvm_iommu_fold){ .size = sizeof(f), .mode = PKVM_FOLD_EAGER,
				      .compact_budget = 8, .idle_ms = 0 };
	ck_assert_int_eq(b->ops->fold(b, &f), 0);
	ck_assert_uint_eq(f.mode, PKVM_FOLD_EAGER);
	split_three_blocks(b);
	ck_assert_uint_eq(table_pages(b), optimum);
	ck_assert_int_eq(b->ops->compact(b, &folded, &more), 0);
	ck_assert_uint_eq(folded, 0);
	ck_assert(!more);
}
END_TEST

TEST("sim", overflow_then_resync)
{
	struct backend_sim_options o;
	struct feeder f = { 0 };
	struct evlog log = { 0 };
	struct backend *b;
	int ret;

	backend_sim_default_options(&o);
	o.queue_size = 64;
	o.seed = 77;
	b = open_with(&o);
	f.l = ledger_new();
	resync(b, f.l);
	ck_assert_int_eq(backend_sim_step(b, SIM_WORKLOAD_CHURN, 1000), 1000);
	/* What was kept is delivered, then the loss is reported. */
	ck_assert_int_eq(b->ops->dispatch(b, feed, &f), -ENOBUFS);
	ck_assert_uint_eq(f.applied, 64);
	ck_assert_uint_eq(f.bad, 0);
	ck_assert_uint_eq(ledger_generation(f.l), 64);
	ck_assert(!readable(b->ops->event_fd(b)));
	resync(b, f.l);
	assert_ledger_equals_dump(b, f.l);
	ck_assert_uint_eq(ledger_generation(f.l), 1000);
	/* Reported once; events flow again. */
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 0);
	churn_and_feed(b, &f, SIM_WORKLOAD_CHURN, 3000, 50);
	assert_ledger_equals_dump(b, f.l);
	/* A full queue is not an overflow; one more event is. */
	ck_assert_int_eq(backend_sim_step(b, SIM_WORKLOAD_CHURN, 64), 64);
	ret = b->ops->dispatch(b, feed, &f);
	ck_assert_int_eq(ret, 64);
	ck_assert_int_eq(backend_sim_step(b, SIM_WORKLOAD_CHURN, 65), 65);
	ck_assert_int_eq(b->ops->dispatch(b, feed, &f), -ENOBUFS);
	ck_assert_int_eq(ledger_apply(f.l, PKVM_IOMMU_OP_DONATE, 0x880000000ull + GiB, 4096, 2,
				      ledger_generation(f.l) + 2), -ESTALE);
	resync(b, f.l);
	assert_ledger_equals_dump(b, f.l);
	free(log.ev);
	ledger_free(f.l);
}
END_TEST

TEST("sim", dma_to_donated_page_faults)
{
	struct backend_sim_options o;
	struct pkvm_iommu_smmu_info si;
	struct evlog log = { 0 };
	uint64_t page = 0x880000000ull + 3 * MiB;
	struct backend *b;

	backend_sim_default_options(&o);
	o.isolate_sids[0] = 0x21;
	o.nr_isolate = 1;
	b = open_with(&o);
	/* Host memory: reachable, nothing reported. */
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page + 0x40, 64, true), 0);
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 0);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, page, 4096, 2), 0);
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 1);
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page + 0x40, 64, true), F_TRANSLATION);
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page + 0x80, 8, false), F_TRANSLATION);
	/* Its neighbours stay reachable. */
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page + 4096, 64, true), 0);
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page - 64, 64, false), 0);
	ck_assert(readable(b->ops->event_fd(b)));
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 2);
	ck_assert_int_eq(log.ev[1].kind, BACKEND_EV_FAULT);
	ck_assert_uint_eq(log.ev[1].generation, 1);
	ck_assert_uint_eq(log.ev[1].smmu, 0);
	ck_assert_uint_eq(log.ev[1].sid, 0x21);
	ck_assert_uint_eq(log.ev[1].addr, page + 0x40);
	ck_assert_uint_eq(log.ev[1].fault_type, F_TRANSLATION);
	ck_assert_uint_eq(log.ev[1].fault_flags, 1 | 2);	/* write, stage 2 */
	ck_assert_uint_eq(log.ev[2].addr, page + 0x80);
	ck_assert_uint_eq(log.ev[2].fault_flags, 2);		/* read, stage 2 */
	ck_assert_int_eq(b->ops->smmu_info(b, 0, &si), 0);
	ck_assert_uint_eq(si.events, 2);
	/* Reclaimed: reachable again. */
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_RECLAIM, page, 4096, 2), 0);
	ck_assert_int_eq(backend_sim_dma(b, 0x21, page + 0x40, 64, true), 0);
	free(log.ev);
}
END_TEST

TEST("sim", blocked_stream_reaches_nothing)
{
	struct backend *b = open_with(NULL);
	uint64_t page = 0x880000000ull + 5 * MiB;
	struct evlog log = { 0 };

	/*
	 * Never configured: no level-2 stream table behind it yet, and the
	 * SMMU says so once (C_BAD_STREAMID), as hardware would.
	 */
	ck_assert_int_eq(backend_sim_dma(b, 9, page, 64, true), 0x02);
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 1);
	ck_assert_int_eq(log.ev[0].kind, BACKEND_EV_FAULT);
	ck_assert_uint_eq(log.ev[0].fault_type, 0x02);
	ck_assert_uint_eq(log.ev[0].sid, 9);
	log.nr = 0;

	ck_assert_int_eq(b->ops->stream_set(b, 0, 9, PKVM_STREAM_ISOLATE), 0);
	ck_assert_int_eq(backend_sim_dma(b, 9, page, 64, true), 0);
	ck_assert_int_eq(b->ops->stream_set(b, 0, 9, PKVM_STREAM_BLOCK), 0);
	/* Set to block: every transaction fails, and none is reported. */
	ck_assert_int_ne(backend_sim_dma(b, 9, page, 64, true), 0);
	ck_assert_int_ne(backend_sim_dma(b, 9, page, 64, false), 0);
	ck_assert_int_eq(b->ops->range(b, PKVM_IOMMU_OP_DONATE, page, 4096, 2), 0);
	ck_assert_int_ne(backend_sim_dma(b, 9, page, 64, true), 0);
	ck_assert_int_ne(backend_sim_dma(b, 9, page + 4096, 64, true), 0);
	/* A neighbour in the same level-2 table, default block: the same. */
	ck_assert_int_ne(backend_sim_dma(b, 10, page + 4096, 64, true), 0);
	ck_assert_int_eq(b->ops->dispatch(b, collect, &log), 3);
	for (size_t i = 0; i < log.nr; i++)
		ck_assert_int_ne(log.ev[i].kind, BACKEND_EV_FAULT);
	free(log.ev);
}
END_TEST

TEST("sim", free_and_reopen)
{
	struct backend_sim_options o;
	struct backend *other = NULL;
	struct pkvm_iommu_info in;
	struct backend *b;

	for (int round = 0; round < 4; round++) {
		backend_sim_default_options(&o);
		o.ril = round & 1;
		o.bbml = round & 2 ? 2 : 0;
		o.split_policy = round == 3 ? PKVM_SPLIT_PRESPLIT : PKVM_SPLIT_AUTO;
		o.presplit_level = PKVM_LEVEL_2M;
		o.pool_pages = 512 + 256 * round;
		o.isolate_sids[0] = 1;
		o.nr_isolate = 1;
		o.seed = round + 1;
		b = open_with(&o);
		/* One simulated machine at a time. */
		ck_assert_int_eq(backend_sim_open(&other, NULL), -EBUSY);
		ck_assert_int_eq(b->ops->info(b, &in), 0);
		ck_assert_uint_eq(in.generation, 0);
		ck_assert_uint_eq(in.split_policy, round == 3 ? PKVM_SPLIT_PRESPLIT : PKVM_SPLIT_AUTO);
		ck_assert_int_gt(backend_sim_step(b, SIM_WORKLOAD_CHURN, 2000), 1000);
		ck_assert_int_eq(backend_sim_dma(b, 1, 0x880000000ull + GiB, 64, true), 0);
		teardown();
	}
	/* Bad options are refused before anything is taken. */
	backend_sim_default_options(&o);
	o.bbml = 3;
	ck_assert_int_eq(backend_sim_open(&other, &o), -EINVAL);
	backend_sim_default_options(&o);
	o.regions[1].base = o.regions[0].base;
	ck_assert_int_eq(backend_sim_open(&other, &o), -EINVAL);
	backend_sim_default_options(&o);
	o.split_policy = 9;
	ck_assert_int_eq(backend_sim_open(&other, &o), -EINVAL);
	/* A failed bring-up releases everything too. */
	b = open_with(NULL);
	ck_assert_int_eq(b->ops->info(b, &in), 0);
}
END_TEST

TEST("sim", workload_names)
{
	enum backend_sim_workload w;

	ck_assert_int_eq(backend_sim_workload_parse("idle", &w), 0);
	ck_assert_int_eq(w, SIM_WORKLOAD_IDLE);
	ck_assert_int_eq(backend_sim_workload_parse("churn", &w), 0);
	ck_assert_int_eq(w, SIM_WORKLOAD_CHURN);
	ck_assert_int_eq(backend_sim_workload_parse("boot", &w), 0);
	ck_assert_int_eq(w, SIM_WORKLOAD_BOOT);
	ck_assert_int_eq(backend_sim_workload_parse("Churn", &w), -EINVAL);
	ck_assert_int_eq(backend_sim_workload_parse("", &w), -EINVAL);
}
END_TEST

int main(void)
{
	return TEST_RUN("backend_sim",
			TCASE("sim", .teardown = teardown, .timeout = 300));
}
