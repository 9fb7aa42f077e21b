// SPDX-License-Identifier: GPL-2.0
/*
 * The guest fuzzer's ioctl generator (guest/kfuzz/ioctl.c) on the host,
 * with ioctl() replaced by a recorder: every pointer it hands the kernel
 * must be its own argument area, NULL, a kernel address or unmapped. The
 * kernel writes BATCH results back through the records' pointer; a pointer
 * into another mapping of the fuzzer (a thread's stack, libc's data) let
 * the module, doing its job, corrupt the fuzzer, which died of SIGSEGV in
 * a 1,500 s run (seed 1796556135). Runs in a second, no VM needed.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

static int recorded_ioctl(int fd, unsigned long num, void *arg);
#define ioctl(fd, num, arg) recorded_ioctl(fd, num, arg)
#include "guest/kfuzz/ioctl.c"
#undef ioctl

#define CALLS 300000

struct kf_counts *kf;
const struct kf_env *kf_env;

void kf_count(enum kf_call c, bool priv, int ret, int e)
{
	(void)c, (void)priv, (void)ret, (void)e;
}

/* The recorder's answers are not the kernel's: the ABI oracles are moot here. */
void kf_violation(const char *fmt, ...)
{
	(void)fmt;
}

const char *kf_call_name(enum kf_call c)
{
	(void)c;
	return "?";
}

enum where { W_NULL, W_KERNEL, W_AREA, W_GUARD, W_UNMAPPED, W_STRAY, W_NR };
static const char *const where_name[W_NR] = {
	"NULL", "kernel", "own area", "guard page", "unmapped", "another mapping",
};
static unsigned long ops_seen[W_NR], arg_seen[W_NR];

static enum where classify(uint64_t p)
{
	uintptr_t area = (uintptr_t)arg_area, guard = (uintptr_t)(ops_area + OPS_AREA);

	if (!p)
		return W_NULL;
	if (p >= 0xffff000000000000ull)
		return W_KERNEL;
	if (p >= area && p < guard)
		return W_AREA;
	if (p >= guard && p < guard + PAGE_SZ)
		return W_GUARD;
	/* msync fails with ENOMEM exactly when the page is not mapped. */
	if (p >= (1ull << 47) || msync((void *)(uintptr_t)(p & ~(uint64_t)(PAGE_SZ - 1)),
				       1, MS_ASYNC) < 0)
		return W_UNMAPPED;
	return W_STRAY;
}

static int recorded_ioctl(int fd, unsigned long num, void *arg)
{
	enum where w = classify((uintptr_t)arg);
	struct pkvm_iommu_batch b;

	(void)fd;
	arg_seen[w]++;
	if (w != W_AREA || num != PKVM_IOMMU_IOC_BATCH) {
		errno = EINVAL;
		return -1;
	}
	/* The kernel copies the header, then follows ops (chardev.c ioc_batch). */
	memcpy(&b, arg, sizeof(b));
	ops_seen[classify(b.ops)]++;
	errno = EINVAL;
	return -1;
}

int main(void)
{
	static struct kf_counts counts;
	static struct kf_env env = { .ias = 40, .sidsize = 16, .edu_sid = ~0u, .nr_ram = 1 };
	struct kf_rng r = { .s = 1796556135 };
	int failed = 0;

	/* Mappings around the areas, as the guest's threads and pages are. */
	for (int i = 0; i < 8; i++)
		if (mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0) == MAP_FAILED)
			return 99;
	kf = &counts;
	env.ram[0].start = 0x40000000;
	env.ram[0].end = 0x80000000;
	for (env.nr_pool = 0; env.nr_pool < 64; env.nr_pool++)
		env.pool_pa[env.nr_pool] = 0x40000000 + (uint64_t)env.nr_pool * PAGE_SZ;
	kf_env = &env;
	if (kf_ioctl_thread_init())
		return 99;
	for (int i = 0; i < 8; i++)
		if (mmap(NULL, 1u << 20, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0) == MAP_FAILED)
			return 99;

	for (int i = 0; i < CALLS; i++)
		kf_ioctl_one(&r, 3, true);

	for (int w = 0; w < W_NR; w++)
		printf("# %-16s argument %7lu, BATCH records %6lu\n", where_name[w], arg_seen[w],
		       ops_seen[w]);
	/* Must never happen; every other kind must happen, or this checks nothing. */
	if (arg_seen[W_STRAY] || ops_seen[W_STRAY]) {
		printf("not ok - pointers: %lu arguments and %lu BATCH records' pointers into "
		       "another mapping of the fuzzer\n", arg_seen[W_STRAY], ops_seen[W_STRAY]);
		failed++;
	} else {
		printf("ok - pointers: none into another mapping of the fuzzer in %d calls\n", CALLS);
	}
	for (int w = W_NULL; w <= W_GUARD; w++) {
		if (ops_seen[w])
			continue;
		printf("not ok - kinds: no BATCH records' pointer of kind '%s'\n", where_name[w]);
		failed++;
	}
	if (!arg_seen[W_NULL] || !arg_seen[W_KERNEL] || !arg_seen[W_AREA]) {
		printf("not ok - kinds: arguments not NULL, kernel and own area\n");
		failed++;
	}
	return failed ? 1 : 0;
}
