// SPDX-License-Identifier: GPL-2.0
/*
 * The /dev/pkvm-iommu half of the fuzzer: every ioctl of uapi/linux/
 * pkvm_iommu.h and numbers that are none of them, each argument built valid
 * first (so most calls get past the size and flag checks into the core) and
 * then mutated: its size field, its fields, random bytes, where it sits
 * (against an unmapped page, NULL, a kernel address). Results are checked
 * against the ABI the header documents wherever the outcome is decided by
 * the argument alone.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "kfuzz.h"

#define ARG_AREA	8192u
#define OPS_AREA	((size_t)PKVM_IOMMU_BATCH_MAX * sizeof(struct pkvm_iommu_op))

/* [arg area][ops area][guard]: a struct at an area's end runs into the guard. */
static __thread uint8_t *arg_area, *ops_area;

/* Recent changes that worked, so reclaims and unshares often match one. */
struct done_range {
	uint64_t addr, len;
	uint32_t owner;
};
static __thread struct done_range hist[16];
static __thread unsigned int nr_hist;

static const unsigned long ioc_nr[13] = {
	PKVM_IOMMU_IOC_INFO, PKVM_IOMMU_IOC_SMMU_INFO, PKVM_IOMMU_IOC_STREAM_GET,
	PKVM_IOMMU_IOC_STREAM_SET, PKVM_IOMMU_IOC_SPLIT_POLICY, PKVM_IOMMU_IOC_STATS,
	PKVM_IOMMU_IOC_DONATE, PKVM_IOMMU_IOC_RECLAIM, PKVM_IOMMU_IOC_SHARE,
	PKVM_IOMMU_IOC_UNSHARE, PKVM_IOMMU_IOC_BATCH, PKVM_IOMMU_IOC_INVALIDATION,
	PKVM_IOMMU_IOC_FOLD,
};

/* sizeof and the first version's size, by ioctl. */
static const uint32_t ioc_size[13][2] = {
	{ sizeof(struct pkvm_iommu_info), PKVM_IOMMU_INFO_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_smmu_info), PKVM_IOMMU_SMMU_INFO_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_stream), PKVM_IOMMU_STREAM_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_stream), PKVM_IOMMU_STREAM_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_split), PKVM_IOMMU_SPLIT_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_stats), PKVM_IOMMU_STATS_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_range), PKVM_IOMMU_RANGE_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_range), PKVM_IOMMU_RANGE_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_range), PKVM_IOMMU_RANGE_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_range), PKVM_IOMMU_RANGE_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_batch), PKVM_IOMMU_BATCH_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_invalidation), PKVM_IOMMU_INVALIDATION_SIZE_VER0 },
	{ sizeof(struct pkvm_iommu_fold), PKVM_IOMMU_FOLD_SIZE_VER0 },
};

int kf_ioctl_thread_init(void)
{
	size_t len = ARG_AREA + OPS_AREA + PAGE_SZ;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	if (mprotect(p + ARG_AREA + OPS_AREA, PAGE_SZ, PROT_NONE) < 0)
		return -errno;
	arg_area = p;
	ops_area = p + ARG_AREA;
	return 0;
}

static uint64_t pick_len(struct kf_rng *r)
{
	switch (kf_below(r, 10)) {
	case 0: return 0;
	case 1: return 2ull << 20;
	case 2: return 1ull << 30;
	case 3: return 1 + kf_below(r, 8192);		/* unaligned */
	case 4: return kf_rand(r);			/* wraps or is huge */
	case 5: return (uint64_t)(1 + kf_below(r, 1024)) * PAGE_SZ;
	default: return (uint64_t)(1 + kf_below(r, 16)) * PAGE_SZ;
	}
}

static uint64_t pick_addr(struct kf_rng *r)
{
	const struct kf_env *e = kf_env;
	const struct ram_range *rr;

	switch (kf_below(r, 12)) {
	case 0: return 0;
	case 1: return kf_rand(r);
	case 2: return (1ull << e->ias) - PAGE_SZ * kf_below(r, 4);	/* the edge */
	case 3: return ~0ull & ~(uint64_t)(PAGE_SZ - 1);
	case 4:
		if (e->nr_ram)
			return e->ram[kf_below(r, e->nr_ram)].end + PAGE_SZ * kf_below(r, 4);
		return 0;
	case 5: case 6: case 7:
		if (e->nr_ram) {
			rr = &e->ram[kf_below(r, e->nr_ram)];
			return rr->start + (kf_rand(r) % (rr->end - rr->start) & ~(uint64_t)(PAGE_SZ - 1)) +
			       (kf_one_in(r, 8) ? 1 + kf_below(r, PAGE_SZ - 1) : 0);
		}
		return 0;
	default:	/* our own pages, often neighbours: splits and folds */
		if (e->nr_pool)
			return e->pool_pa[kf_below(r, e->nr_pool)];
		return 0;
	}
}

static uint32_t pick_owner(struct kf_rng *r)
{
	switch (kf_below(r, 8)) {
	case 0: return PKVM_OWNER_HOST;
	case 1: return PKVM_OWNER_HYP;
	case 2: return PKVM_OWNER_MAX;
	case 3: return kf_one_in(r, 2) ? PKVM_OWNER_MAX + 1 : (uint32_t)kf_rand(r);
	default: return PKVM_OWNER_GUEST_FIRST + kf_below(r, 4);
	}
}

/* An op of a batch or a single change; from history when it can undo one. */
static void pick_change(struct kf_rng *r, uint32_t op, __u64 *addr, __u64 *len,
			__u32 *owner)
{
	if ((op == PKVM_IOMMU_OP_RECLAIM || op == PKVM_IOMMU_OP_UNSHARE) && nr_hist &&
	    kf_below(r, 3)) {
		const struct done_range *h = &hist[kf_below(r, nr_hist)];

		*addr = h->addr;
		*len = h->len;
		*owner = h->owner;
		return;
	}
	if (kf_env->nr_pool && kf_one_in(r, 3)) {	/* one that should work */
		*addr = kf_env->pool_pa[kf_below(r, (uint32_t)kf_env->nr_pool)];
		*len = PAGE_SZ * (1 + kf_below(r, 2));
		*owner = PKVM_OWNER_GUEST_FIRST + kf_below(r, 4);
		return;
	}
	*addr = pick_addr(r);
	*len = pick_len(r);
	*owner = pick_owner(r);
}

static void remember(uint64_t addr, uint64_t len, uint32_t owner)
{
	hist[nr_hist < 16 ? nr_hist++ : (addr >> 12) % 16] =
		(struct done_range){ .addr = addr, .len = len, .owner = owner };
}

static uint32_t pick_sid(struct kf_rng *r)
{
	const struct kf_env *e = kf_env;

	switch (kf_below(r, 6)) {
	case 0: return (uint32_t)kf_rand(r);
	case 1: return e->sidsize < 32 ? 1u << e->sidsize : ~0u;
	case 2: case 3:
		if (e->edu_sid != ~0u)
			return e->edu_sid;
		/* fall through */
	default: return kf_below(r, e->sidsize >= 8 ? 256 : 1u << e->sidsize);
	}
}

/* Fills the valid form of ioctl i at p; a BATCH's records go to ops_area. */
static void build(struct kf_rng *r, int i, uint8_t *p, uint32_t *nr_ops)
{
	union {
		struct pkvm_iommu_info info;
		struct pkvm_iommu_smmu_info smmu;
		struct pkvm_iommu_stream stream;
		struct pkvm_iommu_split split;
		struct pkvm_iommu_stats stats;
		struct pkvm_iommu_range range;
		struct pkvm_iommu_batch batch;
		struct pkvm_iommu_invalidation inval;
		struct pkvm_iommu_fold fold;
	} u;
	uint32_t nr;

	memset(&u, 0, sizeof(u));
	switch (i) {
	case 1:
		u.smmu.index = kf_one_in(r, 4) ? (uint32_t)kf_rand(r) : kf_below(r, 2);
		break;
	case 2: case 3:
		u.stream.smmu = kf_one_in(r, 8) ? (uint32_t)kf_rand(r) : kf_one_in(r, 8);
		u.stream.sid = pick_sid(r);
		u.stream.policy = kf_one_in(r, 8) ? (uint32_t)kf_rand(r) : kf_below(r, 3);
		break;
	case 4:
		u.split.policy = kf_one_in(r, 8) ? (uint32_t)kf_rand(r) : kf_below(r, 5);
		u.split.level = kf_below(r, 5);
		break;
	case 6: case 7: case 8: case 9:
		pick_change(r, (uint32_t)(i - 6), &u.range.addr, &u.range.len, &u.range.owner);
		break;
	case 10:
		switch (kf_below(r, 12)) {
		case 0: nr = 0; break;
		case 1: nr = PKVM_IOMMU_BATCH_MAX; break;
		case 2: nr = PKVM_IOMMU_BATCH_MAX + 1; break;
		case 3: nr = (uint32_t)kf_rand(r); break;
		case 4: nr = 1 + kf_below(r, 256); break;
		default: nr = 1 + kf_below(r, 8); break;
		}
		*nr_ops = nr;
		if (kf_env->nr_pool && kf_one_in(r, 3)) {
			/* Pairs that undo each other: the whole batch should go through. */
			nr = 2 * (1 + kf_below(r, 4));
			*nr_ops = nr;
			for (uint32_t j = 0; j < nr; j += 2) {
				struct pkvm_iommu_op *o = (struct pkvm_iommu_op *)ops_area + j;
				bool share = kf_one_in(r, 3);

				memset(o, 0, 2 * sizeof(*o));
				o[0].op = share ? PKVM_IOMMU_OP_SHARE : PKVM_IOMMU_OP_DONATE;
				o[0].owner = PKVM_OWNER_GUEST_FIRST + kf_below(r, 4);
				o[0].addr = kf_env->pool_pa[kf_below(r, (uint32_t)kf_env->nr_pool)];
				o[0].len = PAGE_SZ;
				o[1] = o[0];
				o[1].op = share ? PKVM_IOMMU_OP_UNSHARE : PKVM_IOMMU_OP_RECLAIM;
			}
			u.batch.nr = nr;
			u.batch.ops = (uintptr_t)ops_area;
			break;
		}
		for (uint32_t j = 0; j < nr && j < PKVM_IOMMU_BATCH_MAX; j++) {
			struct pkvm_iommu_op *o = (struct pkvm_iommu_op *)ops_area + j;

			memset(o, 0, sizeof(*o));
			o->op = kf_one_in(r, 16) ? (uint32_t)kf_rand(r) % 8 : kf_below(r, PKVM_IOMMU_OP_NR);
			pick_change(r, o->op, &o->addr, &o->len, &o->owner);
			o->result = (int32_t)kf_rand(r);	/* the kernel overwrites it */
			if (kf_one_in(r, 32))
				o->reserved = (uint32_t)kf_rand(r);
		}
		u.batch.nr = nr;
		u.batch.ops = (uintptr_t)ops_area;
		break;
	case 11:
		u.inval.batch_max_ops = kf_one_in(r, 8) ? (uint32_t)kf_rand(r) % 5000 : kf_below(r, 65);
		/* Mostly short windows: a long one makes every single change wait. */
		u.inval.batch_window_us = kf_one_in(r, 50) ? PKVM_IOMMU_BATCH_WINDOW_MAX_US +
				kf_below(r, 2) : kf_below(r, 500);
		break;
	case 12:
		u.fold.flags = kf_one_in(r, 3) ? PKVM_IOMMU_FOLD_READ : kf_one_in(r, 16) ?
				(uint32_t)kf_rand(r) : 0;
		u.fold.mode = kf_below(r, 3);
		u.fold.compact_budget = kf_one_in(r, 8) ? (uint32_t)kf_rand(r) % 5000 : kf_below(r, 33);
		u.fold.idle_ms = kf_one_in(r, 16) ? PKVM_IOMMU_FOLD_IDLE_MAX_MS + kf_below(r, 2) :
				kf_below(r, 200);
		break;
	default:
		break;
	}
	memcpy(p, &u, sizeof(u));
}

/*
 * A BATCH records' pointer that is not the records: NULL, a kernel address,
 * the guard page, the area's tail (the records run into the guard), or
 * unaligned inside the area. Never another mapping of the process: the
 * kernel writes each record's result back through it.
 */
static uint64_t batch_ops_elsewhere(struct kf_rng *r)
{
	switch (kf_below(r, 5)) {
	case 0: return 0;
	case 1: return 0xffff800080000000ull + PAGE_SZ * kf_below(r, 16);
	case 2: return (uintptr_t)(ops_area + OPS_AREA) + kf_below(r, PAGE_SZ);
	case 3: return (uintptr_t)(ops_area + OPS_AREA - PAGE_SZ / 2);
	default: return (uintptr_t)(ops_area + 1 + kf_below(r, 7));
	}
}

/* A number that is not one of ours: wrong nr, direction, size or magic. */
static unsigned long other_number(struct kf_rng *r, int i)
{
	unsigned long n = ioc_nr[i];

	switch (kf_below(r, 5)) {
	case 0: return _IOC(_IOC_DIR(n), PKVM_IOMMU_IOC_MAGIC, 0x0d + kf_below(r, 243), _IOC_SIZE(n));
	case 1: return _IOC(_IOC_DIR(n) ^ (1 + kf_below(r, 3)), PKVM_IOMMU_IOC_MAGIC, _IOC_NR(n),
			    _IOC_SIZE(n));
	case 2: return _IOC(_IOC_DIR(n), PKVM_IOMMU_IOC_MAGIC, _IOC_NR(n), kf_below(r, 1 << 14));
	case 3: return _IOC(_IOC_DIR(n), kf_below(r, 256), _IOC_NR(n), _IOC_SIZE(n));
	default: return (uint32_t)kf_rand(r);
	}
}

static bool is_ours(unsigned long n)
{
	for (int i = 0; i < 13; i++)
		if (ioc_nr[i] == n)
			return true;
	return false;
}

static void mutate_bytes(struct kf_rng *r, uint8_t *p, uint32_t len)
{
	unsigned int n = 1 + kf_below(r, 4);

	for (unsigned int k = 0; k < n && len; k++) {
		uint32_t at = kf_below(r, len);

		switch (kf_below(r, 3)) {
		case 0: p[at] ^= (uint8_t)(1u << kf_below(r, 8)); break;
		case 1: p[at] = (uint8_t)kf_rand(r); break;
		default: p[at] = kf_one_in(r, 2) ? 0xff : 0; break;
		}
	}
}

/* The batch contract (pkvm_iommu.h): done and each record's result agree. */
static void check_batch(const struct pkvm_iommu_batch *b, int ret, int e)
{
	const struct pkvm_iommu_op *ops = (const struct pkvm_iommu_op *)ops_area;

	atomic_fetch_add(&kf->checked, 1);
	if (!ret) {
		if (b->done != b->nr)
			kf_violation("BATCH returned 0 with done %u of nr %u", b->done, b->nr);
		for (uint32_t j = 0; j < b->nr && j < b->done; j++)
			if (ops[j].result)
				kf_violation("BATCH returned 0 but op %u has result %d", j, ops[j].result);
		return;
	}
	if (e == ENOMEM || e == EFAULT || e == EPERM)
		return;	/* before (or instead of) the write-back */
	if (b->done >= b->nr) {
		kf_violation("BATCH failed (%s) with done %u of nr %u", strerror(e), b->done, b->nr);
		return;
	}
	if (ops[b->done].result != -e)
		kf_violation("BATCH failed with -%d but op %u (done) has result %d", e, b->done,
			     ops[b->done].result);
	for (uint32_t j = 0; j < b->done; j++)
		if (ops[j].result)
			kf_violation("BATCH op %u before done %u has result %d", j, b->done, ops[j].result);
	for (uint32_t j = b->done + 1; j < b->nr; j++)
		if (ops[j].result != -ECANCELED) {
			kf_violation("BATCH op %u after done %u has result %d, not -ECANCELED", j,
				     b->done, ops[j].result);
			break;
		}
}

void kf_ioctl_one(struct kf_rng *r, int fd, bool priv)
{
	int i = (int)kf_below(r, 14);	/* 13: an unknown number */
	int base = i < 13 ? i : (int)kf_below(r, 13);
	unsigned long num = i < 13 ? ioc_nr[i] : other_number(r, base);
	uint32_t full = ioc_size[base][0], ver0 = ioc_size[base][1], size = full, nr_ops = 0;
	bool shaped = true, tail_dirty = false;
	uint8_t *p = arg_area;
	uint64_t ops_ptr;
	void *arg;
	int ret, e = 0;

	if (i == 13 && is_ours(num))
		num = 0xb7ff;	/* _IO(magic, 0xff): never one of ours */
	memset(arg_area, 0, ARG_AREA);
	build(r, base, p, &nr_ops);
	memcpy(&ops_ptr, p + offsetof(struct pkvm_iommu_batch, ops), sizeof(ops_ptr));

	/* The size field: the struct's, its first version's, or anything. */
	switch (kf_below(r, 12)) {
	case 0: size = ver0 ? ver0 - 1 - kf_below(r, ver0) : 0; shaped = false; break;
	case 1: size = ver0; break;
	case 2: size = full + 8 * (1 + kf_below(r, 8)); break;	/* zero tail: accepted */
	case 3:
		size = full + 8 * (1 + kf_below(r, 8));
		p[full + kf_below(r, size - full)] = (uint8_t)(1 + kf_below(r, 255));
		tail_dirty = true;
		break;
	case 4: size = kf_one_in(r, 2) ? (uint32_t)kf_rand(r) : ARG_AREA + kf_below(r, 64);
		shaped = false;
		break;
	default: break;
	}
	memcpy(p, &size, sizeof(size));
	if (kf_one_in(r, 4)) {	/* fields mutated past validity */
		mutate_bytes(r, p + 4, full - 4);
		shaped = false;
		/*
		 * Not the records' pointer: a flipped bit lands it in another
		 * mapping of ours (a thread's stack, libc's data), and the
		 * kernel, rightly, writes the results there. Where it points is
		 * chosen below, among places that are ours to lose or not mapped.
		 */
		if (base == 10)
			memcpy(p + offsetof(struct pkvm_iommu_batch, ops), &ops_ptr, sizeof(ops_ptr));
	}

	if (base == 10 && kf_one_in(r, 12)) {	/* the records' pointer, before the struct moves */
		struct pkvm_iommu_batch *b = (struct pkvm_iommu_batch *)p;

		b->ops = batch_ops_elsewhere(r);
		shaped = false;
	}

	/* Where the argument sits. */
	arg = p;
	switch (kf_below(r, 16)) {
	case 0: arg = NULL; shaped = false; break;
	case 1: arg = (void *)(uintptr_t)0xffff800080000000ull; shaped = false; break;
	case 2: {
		/* Against the guard page: the tail is unreadable. */
		uint32_t keep = kf_below(r, size < full ? size + 1 : full + 1);
		uint8_t *end = ops_area + OPS_AREA - keep;

		if (base == 10) {	/* the records live there: keep the header apart */
			shaped = false;
			break;
		}
		memmove(end, p, keep);
		arg = end;
		shaped = false;
		break;
	}
	case 3: arg = p + 1 + kf_below(r, 7); memmove(arg, p, full + 72); shaped = false; break;
	default: break;
	}

	ret = ioctl(fd, num, arg);
	if (ret < 0)
		e = errno;
	kf_count((enum kf_call)(KF_IOC_FIRST + i), priv, ret < 0 ? -1 : 0, e);

	/* What the argument alone decides (the header's ABI). */
	atomic_fetch_add(&kf->checked, 1);
	if (!priv) {
		if (ret >= 0 || e != EPERM)
			kf_violation("uid %u ioctl 0x%lx: %s, want EPERM", 65534u, num,
				     ret >= 0 ? "succeeded" : strerror(e));
		return;
	}
	if (i == 13) {
		if (ret >= 0 || e != ENOTTY)
			kf_violation("unknown ioctl 0x%lx: %s, want ENOTTY", num,
				     ret >= 0 ? "succeeded" : strerror(e));
		return;
	}
	if (arg == p && size < ver0 && (ret >= 0 || e != EINVAL))
		kf_violation("%s with size %u < %u: %s, want EINVAL", kf_call_name((enum kf_call)i),
			     size, ver0, ret >= 0 ? "succeeded" : strerror(e));
	if (arg == p && tail_dirty && size >= ver0 && size <= ARG_AREA && (ret >= 0 || e != E2BIG))
		kf_violation("%s with nonzero bytes past the struct (size %u): %s, want E2BIG",
			     kf_call_name((enum kf_call)i), size, ret >= 0 ? "succeeded" : strerror(e));
	if ((arg == NULL || arg == (void *)(uintptr_t)0xffff800080000000ull) &&
	    (ret >= 0 || e != EFAULT))
		kf_violation("%s with argument %p: %s, want EFAULT", kf_call_name((enum kf_call)i),
			     arg, ret >= 0 ? "succeeded" : strerror(e));
	if (!shaped || tail_dirty)
		return;
	if (base == 0 && ret < 0)
		kf_violation("INFO with a valid argument: %s", strerror(e));
	if (base == 0 && ret >= 0) {
		const struct pkvm_iommu_info *info = arg;

		if (info->abi_version != PKVM_IOMMU_ABI_VERSION)
			kf_violation("INFO abi_version %u", info->abi_version);
	}
	if (base == 5 && ret < 0)
		kf_violation("STATS with a valid argument: %s", strerror(e));
	if (base == 5 && ret >= 0) {
		const struct pkvm_iommu_stats *st = arg;
		uint32_t room = ((size < full ? size : full) - 8) / 8;

		if (st->nr > room || st->nr < 16)
			kf_violation("STATS size %u: nr %u, room for %u", size, st->nr, room);
	}
	if (base >= 6 && base <= 9 && !ret)
		remember(((struct pkvm_iommu_range *)arg)->addr, ((struct pkvm_iommu_range *)arg)->len,
			 ((struct pkvm_iommu_range *)arg)->owner);
	if (base == 10 && nr_ops >= 1 && nr_ops <= PKVM_IOMMU_BATCH_MAX)
		check_batch(arg, ret < 0 ? -1 : 0, e);
}
