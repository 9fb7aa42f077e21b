// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target over the hypercall entry, as a hostile host would use
 * it: every input is a sequence of calls with arguments built from its
 * bytes. After every call the fuzzer asserts what the isolation checker
 * asserts: the answer is the one the reference model predicts, DMA through
 * the software SMMU reaches exactly the host's pages, no TLB entry maps a
 * page the host does not own, and the table and pool stay consistent.
 * pKVM's transitions (pkvm_iommu_host_prepare/commit) are made between
 * the calls, with hypercalls that must be refused between their two
 * phases, and the calls that read the hyp core (RING_POP, INFO, SMMU_INFO,
 * LEDGER_READ) get hostile answer pages; what they write is checked
 * against the model. Bit 7 of the first byte runs the engine in LAZY fold
 * mode; COMPACT and FOLD_MODE calls come in between in either mode, a
 * LAZY reclaim that folded nothing must take no CMD_SYNC, and the table
 * must be the optimum once COMPACT says nothing remains.
 * A violated invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hvc.h"
#include "refmodel.h"
#include "s2_optimal.h"
#include "s2_fixture.h"
#include "smmu_model.h"

#define MiB (1ull << 20)
#define WIN_LO 0x3ff00000ull
#define WIN_HI 0x48100000ull
#define HOSTBUF_PA 0x40200000ull
#define HOSTBUF_SIZE (4 * MiB)
#define REGIONS_PA HOSTBUF_PA
#define EVENT_PA (HOSTBUF_PA + 0x1000)
#define POOL_PA (HOSTBUF_PA + 0x10000)
#define POOL_PAGES 256ull
#define SMMU_MEM_PA (HOSTBUF_PA + 2 * MiB)
#define SMMU_MEM_PAGES 64ull
#define REGS_PA 0x09000000ull
#define MAX_SIDS 8

static const struct s2_region regions[] = {
	{ 0x40003000ull, 0x43000000ull - 0x40003000ull },
	{ 0x43000000ull, 0x48000000ull - 0x1000 - 0x43000000ull },
};

static struct pkvm_iommu_hyp hyp;
static struct smmu_model model;
static struct refmodel ref;
/* The model as INIT leaves it, with 1 and with 2 regions: copied, not rebuilt. */
static struct refmodel ref_fresh[2];
static void *hostbuf, *regs;
static u32 isolated[MAX_SIDS];
static bool fuzzed_pool;	/* a small pool may run dry: -ENOMEM is then fine */
static unsigned int nr_isolated;

#define INVARIANT(cond)                                                      \
	do {                                                                 \
		if (!(cond)) {                                               \
			fprintf(stderr, "fuzz_hvc: invariant broken: %s (%s:%d)\n", \
				#cond, __FILE__, __LINE__);                  \
			abort();                                             \
		}                                                            \
	} while (0)

struct input {
	const u8 *p;
	size_t left;
};

static u64 take(struct input *in, unsigned int bytes)
{
	u64 v = 0;

	for (unsigned int i = 0; i < bytes && in->left; i++, in->left--)
		v |= (u64)*in->p++ << (8 * i);
	return v;
}

static s64 call(u64 fn, const u64 a[6])
{
	return pkvm_iommu_hvc(&hyp, fn, a);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (posix_memalign(&hostbuf, 4096, HOSTBUF_SIZE) ||
	    posix_memalign(&regs, 65536, SMMU_MODEL_REGS_SIZE))
		abort();
	if (sim_phys_map(HOSTBUF_PA, HOSTBUF_SIZE, hostbuf) ||
	    sim_phys_map(REGS_PA, SMMU_MODEL_REGS_SIZE, regs))
		abort();
	if (ref_init(&ref_fresh[0], 32, WIN_LO, WIN_HI, regions, 1) ||
	    ref_init(&ref_fresh[1], 32, WIN_LO, WIN_HI, regions, 2) ||
	    ref_init(&ref, 32, WIN_LO, WIN_HI, regions, 2))
		abort();
	return 0;
}

/*
 * INIT with the standard arguments, one state per split policy and block
 * level: building the table over all of memory was a fifth of the time of
 * every input, and its result only depends on those two. The first INIT of
 * each is real and kept (the hyp core and its pool pages, which INIT
 * clears whole); every INIT_REAL_EVERY-th is real again and must come out
 * byte for byte the same, so the copy stays honest.
 */
#define INIT_REAL_EVERY 64
#define POOL_OFF (POOL_PA - HOSTBUF_PA)
#define POOL_BYTES (POOL_PAGES << 12)

struct init_kept {
	struct pkvm_iommu_hyp hyp;
	u8 *pool;
	unsigned int uses;
};
static struct init_kept init_kept[4][4];

static s64 standard_init(const u64 a[6])
{
	struct init_kept *k = &init_kept[a[4] & 3][(a[5] - 1) & 3];
	u8 *pool = (u8 *)hostbuf + POOL_OFF;
	s64 r;

	if (k->pool && k->uses++ % INIT_REAL_EVERY) {
		memcpy(&hyp, &k->hyp, sizeof(hyp));
		memcpy(pool, k->pool, POOL_BYTES);
		return 0;
	}
	r = call(PKVM_IOMMU_HVC_INIT, a);
	if (r)
		return r;
	if (k->pool) {
		INVARIANT(memcmp(&hyp, &k->hyp, sizeof(hyp)) == 0);
		INVARIANT(memcmp(pool, k->pool, POOL_BYTES) == 0);
		return 0;
	}
	k->pool = malloc(POOL_BYTES);
	if (!k->pool)
		abort();
	memcpy(&k->hyp, &hyp, sizeof(hyp));
	memcpy(k->pool, pool, POOL_BYTES);
	k->uses = 1;
	return 0;
}

/* A fresh machine: standard init unless the input asks to fuzz it. */
static bool bring_up(struct input *in)
{
	u64 mode = take(in, 1), a[6], fold[6] = { 0 };
	struct smmu_model_cfg mc;
	s64 r;

	/* Only the pages the host writes: the hyp core clears what it takes. */
	memset(hostbuf, 0, 2 * 4096);
	smmu_model_default_cfg(&mc);
	mc.ril = mode & 2;
	mc.bbml = mode & 4 ? 2 : 0;
	if (smmu_model_init(&model, regs, &mc))
		abort();
	pkvm_iommu_hyp_setup(&hyp);
	memcpy(hostbuf, regions, sizeof(regions));
	if (ref_copy(&ref, &ref_fresh[1]))
		abort();
	nr_isolated = 0;

	a[0] = REGIONS_PA;
	a[1] = 2;
	a[2] = POOL_PA;
	a[3] = POOL_PAGES;
	a[4] = (mode >> 3) & 3;	/* hitless, bbm, presplit, auto */
	a[5] = 1 + ((mode >> 5) & 3);
	if (mode & 1) {
		/* Fuzzed init: whatever happens must be a clean refusal or a real init. */
		for (int i = 0; i < 6; i++)
			a[i] = take(in, 1) & 1 ? a[i] : take(in, 8);
	}
	if (mode & 1 ? call(PKVM_IOMMU_HVC_INIT, a) : standard_init(a)) {
		INVARIANT(!hyp.ready);
		return false;
	}

	/*
	 * Whatever succeeded must be a machine the model can describe: the
	 * regions array and the pool can only be where memory is backed.
	 */
	INVARIANT(a[0] == REGIONS_PA && (a[1] == 1 || a[1] == 2));
	INVARIANT(a[2] >= HOSTBUF_PA && a[2] + (a[3] << 12) <= HOSTBUF_PA + HOSTBUF_SIZE);
	if (a[1] == 1) {
		/* The backed window lies in region 0: one region is a machine too. */
		if (ref_copy(&ref, &ref_fresh[0]))
			abort();
	}
	/* The hyp core chooses the input size; the model's optimum must use it. */
	ref.ias = hyp.pgt.ias;
	ref_pin(&ref, a[2], a[3] << 12);
	fuzzed_pool = a[2] != POOL_PA || a[3] != POOL_PAGES;
	fold[0] = mode & 0x80 ? PKVM_FOLD_LAZY : PKVM_FOLD_EAGER;
	INVARIANT(call(PKVM_IOMMU_HVC_FOLD_MODE, fold) == 0);
	a[0] = REGS_PA;
	a[1] = SMMU_MEM_PA;
	a[2] = SMMU_MEM_PAGES;
	r = call(PKVM_IOMMU_HVC_SMMU_ADD, a);
	if (r) {
		/* Only a fuzzed pool can overlap the SMMU's memory or be too small. */
		INVARIANT(fuzzed_pool && (r == -EEXIST || r == -ENOMEM));
		return true;
	}
	ref_pin(&ref, SMMU_MEM_PA, SMMU_MEM_PAGES * 4096);
	a[0] = 0;
	a[1] = 1;
	a[2] = PKVM_STREAM_ISOLATE;
	INVARIANT(call(PKVM_IOMMU_HVC_STREAM_ATTACH, a) == 0);
	isolated[nr_isolated++] = 1;
	return true;
}

/*
 * The tables reachable from the root, counted from the format rules (Arm
 * ARM, VMSAv8-64 translation table descriptors: bits[1:0] 0b11 below level
 * 3 is a table, its address in bits[47:12]) rather than through the
 * engine's walker: an independent count, and without the coverage
 * instrumentation of the judged code, several times cheaper. Every
 * WALKER_TOO-th input the engine's own count must agree.
 */
#define WALKER_TOO 64

static u64 tables_below(const u64 *t, u32 level, u64 entries)
{
	u64 n = 0;

	if (level == 3)
		return 0;	/* bits[1:0] 0b11 is a page there */
	for (u64 i = 0; i < entries; i++) {
		if ((t[i] & 3) != 3)
			continue;
		n += 1 + tables_below(hyp_phys_to_virt(t[i] & 0x0000fffffffff000ull),
				      level + 1, 512);
	}
	return n;
}

static u64 count_table_pages(void)
{
	static unsigned int calls;
	u32 level = hyp.pgt.start_level;
	u64 n = hyp.pgt.root_pages +
		tables_below(hyp.pgt.root, level, 1ull << (hyp.pgt.ias - (12 + 9 * (3 - level))));

	if (calls++ % WALKER_TOO == 0)
		INVARIANT(n == s2_count_table_pages(&hyp.pgt));
	return n;
}

static void tear_down(void)
{
	smmu_model_fini(&model);
}

static void check_page(u64 pa)
{
	bool host = ref_host_range(&ref, pa, 4096);
	u32 owner;
	bool shared;

	for (unsigned int i = 0; i < nr_isolated; i++) {
		int r = smmu_model_dma(&model, isolated[i], pa, 4096, true);

		INVARIANT(host == (r == 0));
	}
	if (s2_owner_of(&hyp.pgt, pa, &owner, &shared) == 0)
		INVARIANT(ref_state(&ref, pa) != 0 &&
			  (owner == PKVM_OWNER_HOST) == host);
	else
		INVARIANT(ref_state(&ref, pa) == 0);
}

static int tlb_entry_ok(const struct smmu_model_tlbe *e, void *arg)
{
	(void)arg;
	return e->valid && (e->pa != e->ipa || !ref_host_range(&ref, e->pa, e->size));
}

static void drain_events(void)
{
	u64 a[6] = { 0, EVENT_PA };
	s64 r;

	if (!hyp.nr_smmus) {
		INVARIANT(call(PKVM_IOMMU_HVC_EVENT_POP, a) == -ENODEV);
		return;
	}
	if (!ref_host_range(&ref, EVENT_PA, 4096))
		return;
	while ((r = call(PKVM_IOMMU_HVC_EVENT_POP, a)) == 1)
		;
	INVARIANT(r == 0);
}

static u64 addr_arg(struct input *in)
{
	u64 kind = take(in, 1);

	switch (kind & 3) {
	case 0: return WIN_LO + (take(in, 2) << 12) % (WIN_HI - WIN_LO);
	case 1: return WIN_LO + (take(in, 1) << 21) % (WIN_HI - WIN_LO);
	case 2: return HOSTBUF_PA + (take(in, 2) << 12) % HOSTBUF_SIZE;
	default: return take(in, 8);
	}
}

static u64 size_arg(struct input *in)
{
	u64 kind = take(in, 1);

	switch (kind & 3) {
	case 0: return (take(in, 1) + 1) << 12;
	case 1: return (take(in, 1) + 1) << 21;
	case 2: return (take(in, 2) + 1) << 12;
	default: return take(in, 8);
	}
}

/*
 * A BATCH call: records built from the input in host memory (or anywhere),
 * then the answer checked change by change against the model: the first
 * 'got' must be ones it allows, applied in order; the one after must be
 * refused with the error the model gives, written back if its record's
 * page is still the host's.
 */
#define REC_PA (HOSTBUF_PA + 0x3000)
#define OUT_PA (HOSTBUF_PA + 0x5000)

static void batch_call(struct input *in)
{
	u64 pa = take(in, 1) & 0x80 ? addr_arg(in) & ~31ull : REC_PA + (take(in, 1) % 64) * 32;
	u32 n = 1 + (u32)(take(in, 1) % 8);
	struct pkvm_iommu_op rec[8];
	u64 a[6] = { pa, n }, lo, hi;
	s64 got;

	for (u32 i = 0; i < n; i++) {
		u64 f = take(in, 1);

		rec[i] = (struct pkvm_iommu_op){
			.op = f & 0x40 ? (u32)take(in, 1) : (u32)(f & 3),
			.owner = f & 0x20 ? (u32)take(in, 4) : 1 + (u32)(take(in, 1) % 5),
			.addr = addr_arg(in), .len = size_arg(in),
			.result = 0x7777, .reserved = f & 0x10 && f & 0x8 ? 1 : 0,
		};
	}
	/* Only where the host really has memory, and inside one window. */
	lo = pa & ~4095ull;
	hi = (pa + n * sizeof(rec[0]) + 4095) & ~4095ull;
	if (pa >= HOSTBUF_PA && hi <= HOSTBUF_PA + HOSTBUF_SIZE && ref_host_range(&ref, lo, hi - lo))
		memcpy((u8 *)hostbuf + (pa - HOSTBUF_PA), rec, n * sizeof(rec[0]));
	else if (pa >= HOSTBUF_PA && pa < HOSTBUF_PA + HOSTBUF_SIZE)
		return;	/* would scribble over the pool or the SMMU's queues */
	got = call(PKVM_IOMMU_HVC_BATCH, a);
	if (got < 0) {
		/* Refused outright (the probes after the call check nothing moved). */
		INVARIANT(got == -EINVAL || got == -EPERM || got == -ERANGE || got == -EFAULT);
		return;
	}
	INVARIANT((u64)got <= n);
	for (u32 i = 0; i <= (u32)got && i < n; i++) {
		const struct pkvm_iommu_op *r = &rec[i];
		u64 rpa = pa + i * sizeof(*r);
		const struct pkvm_iommu_op *live = (const void *)((u8 *)hostbuf + (rpa - HOSTBUF_PA));
		bool readable = ref_host_range(&ref, rpa & ~4095ull, 4096);
		u32 op = r->op;
		s64 want;

		if (!readable)
			want = -EPERM;
		else if (r->reserved || r->op >= PKVM_IOMMU_OP_NR || r->owner > PKVM_OWNER_MAX ||
			 (op <= PKVM_IOMMU_OP_RECLAIM && r->owner == PKVM_OWNER_HOST))
			want = -EINVAL;
		else
			want = ref_check(&ref, op, r->addr, r->len, r->owner);
		if (i < (u32)got) {
			INVARIANT(want == 0);
			ref_apply(&ref, op, r->addr, r->len, r->owner);
			continue;
		}
		/* The refused one: its answer, if the host can still read it. */
		if (readable)
			INVARIANT(live->result == want ||
				  (live->result == -ENOMEM && want == 0 && fuzzed_pool));
		else
			INVARIANT(want != 0);
	}
}

/* pKVM's transition, two phases, answered as the model says. */
static void hook_call(struct input *in)
{
	u64 f = take(in, 1), addr = addr_arg(in), size = size_arg(in);
	bool access = f & 1;
	u32 owner = f & 0x80 ? (u32)take(in, 4) : 1 + (u32)(take(in, 1) % 5);
	s64 want = ref_host_check(&ref, addr, size, access, owner);
	s64 got = pkvm_iommu_host_prepare(&hyp, addr, size, access, owner);
	u64 a[6] = { WIN_LO + 0x100000, 4096, 2 };

	if (got == -ENOMEM && want == 0 && fuzzed_pool)
		return;
	INVARIANT(got == want);
	if (got)
		return;
	if (f & 2) {
		/* Between the phases nothing else changes the table. */
		INVARIANT(call(PKVM_IOMMU_HVC_DONATE, a) == -EBUSY);
		a[0] = PKVM_SPLIT_AUTO;
		a[1] = 0;
		INVARIANT(call(PKVM_IOMMU_HVC_SPLIT_POLICY, a) == -EBUSY);
		a[0] = 1;
		INVARIANT(call(PKVM_IOMMU_HVC_COMPACT, a) == -EBUSY);
	}
	if (f & 4) {
		pkvm_iommu_host_cancel(&hyp);
		return;
	}
	got = pkvm_iommu_host_commit(&hyp, addr, size, access, owner);
	INVARIANT(got == 0);
	ref_host_apply(&ref, addr, size, access, owner);
	check_page(addr);
	check_page(addr + size - 4096);
}

/* The ledger as LEDGER_READ wrote it must be the model's, run by run. */
static void check_ledger(u64 pa, s64 n)
{
	const struct pkvm_iommu_ledger_hdr *hdr = (const void *)((u8 *)hostbuf + (pa - HOSTBUF_PA));
	const struct pkvm_iommu_ledger_run *run = (const void *)(hdr + 1);

	INVARIANT(hdr->nr == n && hdr->generation == hyp.ring.generation);
	for (s64 i = 0; i < n; i++) {
		u32 want = run[i].owner ? OPT_OWNER(run[i].owner) :
			   run[i].flags & PKVM_IOMMU_RUN_SHARED ? OPT_HOST_SHARED : OPT_HOST;

		INVARIANT(want != OPT_HOST && run[i].len);
		for (u64 a = run[i].addr; a < run[i].addr + run[i].len; a += 4096)
			INVARIANT(ref_state(&ref, a) == want);
	}
}

/* The reads of the hyp core, with answer pages anywhere. */
static void read_call(struct input *in, u64 sel)
{
	u64 pa = take(in, 1) & 0x80 ? addr_arg(in) & ~7ull :
		 OUT_PA + (take(in, 1) % 64) * 64;
	u64 a[6] = { 0 };
	bool writable = pa >= HOSTBUF_PA && pa < HOSTBUF_PA + HOSTBUF_SIZE &&
			ref_host_range(&ref, pa & ~4095ull, 4096);
	s64 got;

	/* Only into the answer area or somewhere the host cannot give. */
	if (pa >= HOSTBUF_PA && pa < HOSTBUF_PA + HOSTBUF_SIZE &&
	    (pa < OUT_PA || pa >= OUT_PA + 4096))
		return;
	switch (sel % 4) {
	case 0:
		a[0] = pa;
		a[1] = take(in, 1);
		got = call(PKVM_IOMMU_HVC_RING_POP, a);
		INVARIANT(got <= 127);
		break;
	case 1:
		a[0] = pa;
		got = call(PKVM_IOMMU_HVC_INFO, a);
		break;
	case 2:
		a[0] = take(in, 1) & 1;
		a[1] = pa;
		got = call(PKVM_IOMMU_HVC_SMMU_INFO, a);
		INVARIANT(got != 0 || a[0] < hyp.nr_smmus);
		break;
	default:
		a[0] = take(in, 1) & 1 ? addr_arg(in) : WIN_LO + (take(in, 2) << 12);
		a[1] = pa;
		a[2] = take(in, 1);
		got = call(PKVM_IOMMU_HVC_LEDGER_READ, a);
		if (got >= 0)
			check_ledger(pa, got);
		break;
	}
	INVARIANT(got >= 0 || got == -EINVAL || got == -EPERM || got == -ERANGE ||
		  got == -EFAULT || got == -ENODEV);
	INVARIANT(got < 0 || writable);
}

/* COMPACT with any budget, or FOLD_MODE with any mode. */
static void fold_call(struct input *in, u64 sel)
{
	u64 a[6] = { take(in, 2) }, folds = hyp.pgt.stats.folds;
	u64 syncs = model.stats.syncs;
	s64 got;

	if (sel % 4 == 0) {
		a[0] %= 3;
		got = call(PKVM_IOMMU_HVC_FOLD_MODE, a);
		INVARIANT(got == 0 || (got == -EINVAL && a[0] > PKVM_FOLD_LAZY));
		INVARIANT(got || hyp.pgt.fold == a[0]);
		return;
	}
	got = call(PKVM_IOMMU_HVC_COMPACT, a);
	if (!a[0] || a[0] > PKVM_IOMMU_COMPACT_MAX) {
		INVARIANT(got == -EINVAL);
		return;
	}
	INVARIANT(got >= 0);
	INVARIANT((u64)(got & 0xffffffff) <= a[0]);
	INVARIANT(hyp.pgt.stats.folds - folds == (u64)(got & 0xffffffff));
	/* Nothing folded, nothing to invalidate. */
	INVARIANT(hyp.pgt.stats.folds != folds || model.stats.syncs == syncs);
}

static void one_call(struct input *in)
{
	u64 sel = take(in, 1), a[6] = { 0 };
	s64 got;

	if (sel < 24) {
		hook_call(in);
		return;
	}
	if (sel < 40) {
		read_call(in, sel);
		return;
	}
	if (sel < 48) {
		fold_call(in, sel);
		return;
	}
	if (sel < 160) {
		/* Ownership calls, the hot path, most of the time. */
		u32 op = (u32)(sel % PKVM_IOMMU_OP_NR);
		u64 fn = PKVM_IOMMU_HVC_OP(op);
		u64 folds = hyp.pgt.stats.folds, syncs = model.stats.syncs;
		s64 want;

		a[0] = addr_arg(in);
		a[1] = size_arg(in);
		a[2] = take(in, 1) & 0x80 ? take(in, 8) : 1 + take(in, 1) % 5;
		want = a[2] > PKVM_OWNER_MAX && op <= PKVM_IOMMU_OP_RECLAIM ? -EINVAL :
		       ref_check(&ref, op, a[0], a[1], (u32)a[2]);
		got = call(fn, a);
		/* The model knows no pool: running dry must change nothing (checked below). */
		if (got == -ENOMEM && want == 0 && fuzzed_pool)
			return;
		INVARIANT(got == want);
		/* LAZY: a reclaim writes leaves only, which nothing had cached. */
		if (!got && op == PKVM_IOMMU_OP_RECLAIM && hyp.pgt.fold == PKVM_FOLD_LAZY &&
		    hyp.pgt.stats.folds == folds)
			INVARIANT(model.stats.syncs == syncs);
		if (!got) {
			ref_apply(&ref, op, a[0], a[1], (u32)a[2]);
			check_page(a[0]);
			check_page(a[0] + a[1] - 4096);
		}
		return;
	}
	if (sel < 184) {
		batch_call(in);
		return;
	}
	/* Anything else, including function ids that do not exist. */
	for (int i = 0; i < 6; i++)
		a[i] = take(in, 1) & 1 ? take(in, 1) : take(in, 8);
	switch (sel % 8) {
	case 0:
		got = call(PKVM_IOMMU_HVC_STREAM_ATTACH, a);
		if (!got && a[0] == 0 && a[2] == PKVM_STREAM_ISOLATE && nr_isolated < MAX_SIDS)
			isolated[nr_isolated++] = (u32)a[1];
		if (!got && a[2] == PKVM_STREAM_BLOCK)
			for (unsigned int i = 0; i < nr_isolated; i++)
				if (isolated[i] == a[1])
					isolated[i--] = isolated[--nr_isolated];
		break;
	case 1:
		got = call(PKVM_IOMMU_HVC_STREAM_DETACH, a);
		if (!got)
			for (unsigned int i = 0; i < nr_isolated; i++)
				if (isolated[i] == a[1])
					isolated[i--] = isolated[--nr_isolated];
		break;
	case 2:
		got = call(PKVM_IOMMU_HVC_SPLIT_POLICY, a);
		INVARIANT(got <= 0);
		break;
	case 3:
		got = call(PKVM_IOMMU_HVC_STATS_READ, a);
		INVARIANT(got >= 0 || got == -EINVAL);
		break;
	case 4:
		got = call(PKVM_IOMMU_HVC_SMMU_ADD, a);
		/* Only REGS_PA is a device here, and it is taken. */
		INVARIANT(got < 0);
		break;
	case 5:
		got = call(PKVM_IOMMU_HVC_INIT, a);
		INVARIANT(got == -EBUSY);
		break;
	case 6:
		a[1] = addr_arg(in);
		got = call(PKVM_IOMMU_HVC_EVENT_POP, a);
		INVARIANT(got == 0 || got == 1 || got < 0);
		break;
	default:
		got = call(take(in, 4), a);
		break;
	}
	(void)got;
}

int LLVMFuzzerTestOneInput(const u8 *data, size_t size);
int LLVMFuzzerTestOneInput(const u8 *data, size_t size)
{
	struct input in = { data, size };
	u64 probe = 0x5eed, optimal;

	if (!bring_up(&in)) {
		tear_down();
		return 0;
	}
	while (in.left) {
		one_call(&in);
		for (int i = 0; i < 4; i++)
			check_page(WIN_LO + ((s2_rand(&probe) % ref.pages) << 12));
		INVARIANT(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL) == 0);
		INVARIANT(hyp.pgt.pool.nr_free + hyp.pgt.table_pages == hyp.pgt.pool.nr_pages);
		drain_events();
	}
	INVARIANT(hyp.pgt.table_pages == count_table_pages());
	/* COMPACT changes the table, not ownership: one optimum for both checks. */
	optimal = ref_optimal(&ref, hyp.pgt.max_block_level);
	if (hyp.pgt.fold == PKVM_FOLD_LAZY) {
		u64 a[6] = { PKVM_IOMMU_COMPACT_MAX };
		s64 got;

		INVARIANT(hyp.pgt.table_pages >= optimal);
		do {
			got = call(PKVM_IOMMU_HVC_COMPACT, a);
			INVARIANT(got >= 0);
		} while (got & (s64)PKVM_IOMMU_COMPACT_MORE);
		for (int i = 0; i < 16; i++)
			check_page(WIN_LO + ((s2_rand(&probe) % ref.pages) << 12));
		INVARIANT(smmu_model_tlb_for_each(&model, tlb_entry_ok, NULL) == 0);
		INVARIANT(hyp.pgt.table_pages == count_table_pages());
	}
	INVARIANT(hyp.pgt.table_pages == optimal);
	tear_down();
	return 0;
}
