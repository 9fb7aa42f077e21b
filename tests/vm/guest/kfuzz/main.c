// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-kfuzz: loads pkvm_iommu.ko in the guest, then for KFUZZ_SECONDS
 * hammers /dev/pkvm-iommu and the pkvm_iommu genl family from several root
 * threads and from a child that dropped to uid 65534 (ioctl.c, netlink.c),
 * checking each outcome the ABI decides; afterwards checks the module is
 * still whole (checks.c) and unloads it. The kernel is the debug one
 * (KASAN, UBSAN, lockdep, kmemleak): what they report lands in the console,
 * which run.sh and checks.c both read.
 *
 * Settings come from the environment, which the kernel fills from its
 * command line (run.sh: PKVM_VM_APPEND="KFUZZ_SECONDS=60 KFUZZ_SEED=7"):
 *   KFUZZ_SECONDS  how long to fuzz (default 60)
 *   KFUZZ_SEED     the run's seed (default 1); thread t uses seed + t, the
 *                  same seed gives the same sequence of calls per thread
 *   KFUZZ_THREADS  root worker threads (default 4)
 * Output: "ok - NAME: detail" / "not ok - ..." lines, "N passed, M failed".
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "genl.h"
#include "kfuzz.h"

#define MODULE_PATH	"/opt/pkvm/pkvm_iommu.ko"
#define UNPRIV_UID	65534u
#define POOL_PAGES	64
#define JOIN_WAIT_S	120	/* a worker stuck this long in one call is a hang */

struct kf_counts *kf;
const struct kf_env *kf_env;
static struct kf_env env;
static struct edu edu;
static uint64_t seed = 1;
static uint64_t deadline_ms;

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *const call_names[KF_NR] = {
	"ioctl-INFO", "ioctl-SMMU_INFO", "ioctl-STREAM_GET", "ioctl-STREAM_SET",
	"ioctl-SPLIT_POLICY", "ioctl-STATS", "ioctl-DONATE", "ioctl-RECLAIM", "ioctl-SHARE",
	"ioctl-UNSHARE", "ioctl-BATCH", "ioctl-INVALIDATION", "ioctl-FOLD", "ioctl-unknown",
	"genl-UNSPEC", "genl-LEDGER_GET", "genl-STATS_GET", "genl-EVT_DONATE",
	"genl-EVT_RECLAIM", "genl-EVT_SHARE", "genl-EVT_UNSHARE", "genl-EVT_FAULT",
	"genl-EVT_POLICY", "genl-unknown", "genl-nlctrl", "edu-dma",
};
_Static_assert(KF_GENL_UNKNOWN - KF_GENL_FIRST == 9, "a genl command without a name");

const char *kf_call_name(enum kf_call c)
{
	return c < KF_NR ? call_names[c] : "?";
}

void kf_count(enum kf_call c, bool priv, int ret, int e)
{
	atomic_fetch_add_explicit(&kf->calls[c], 1, memory_order_relaxed);
	if (!priv)
		atomic_fetch_add_explicit(&kf->unpriv[c], 1, memory_order_relaxed);
	if (!ret)
		atomic_fetch_add_explicit(&kf->ok[c], 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&kf->err[c][e > 0 && e < KF_ERRNO_MAX ? e : KF_ERRNO_MAX],
					  1, memory_order_relaxed);
}

void kf_violation(const char *fmt, ...)
{
	char line[400];
	va_list ap;
	int n;

	if (atomic_fetch_add(&kf->violations, 1) >= 40)
		return;
	n = snprintf(line, sizeof(line), "kfuzz: violation (pid %d): ", getpid());
	va_start(ap, fmt);
	n += vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	va_end(ap);
	if (n > (int)sizeof(line) - 2)
		n = (int)sizeof(line) - 2;
	line[n++] = '\n';
	/* One write: lines from threads and the child never interleave. */
	if (write(STDOUT_FILENO, line, (size_t)n) < 0)
		return;
}

static void dma_one(struct kf_rng *r)
{
	uint64_t pa;
	int ret;

	if (!env.edu || !env.nr_pool)
		return;
	/* RAM -> edu only: a DMA write to a random page would corrupt the guest. */
	pa = env.pool_pa[kf_below(r, (uint32_t)env.nr_pool)] + kf_below(r, 8) * 512;
	ret = edu_dma(env.edu, pa, 0, 512, false);
	kf_count(KF_DMA, true, ret, -ret);
}

struct worker {
	pthread_t tid;
	int idx;
	int err;
};

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct kf_rng r = { .s = seed + (uint64_t)w->idx };
	int ret;

	ret = kf_ioctl_thread_init();
	if (!ret)
		ret = kf_genl_thread_init();
	w->err = ret;
	while (!ret && !atomic_load(&kf->stop) && now_ms() < deadline_ms) {
		/* Thread 0 leans on netlink, the others on the ioctls. */
		uint32_t pick = kf_below(&r, 100);

		if (w->idx == 0 ? pick < 70 : pick < 15)
			kf_genl_one(&r, true);
		else if (w->idx == 1 && pick >= 97)
			dma_one(&r);
		else
			kf_ioctl_one(&r, env.dev_fd, true);
	}
	kf_genl_thread_exit();
	atomic_fetch_add(&kf->finished, 1);
	return NULL;
}

/*
 * The unprivileged side, a process of its own: the root-opened fd it
 * inherited (a leaked descriptor is the realistic case), its own opens,
 * its own netlink sockets.
 */
static void unpriv_child(void)
{
	struct kf_rng r = { .s = seed ^ 0x5eedull };
	int fd;

	if (setgroups(0, NULL) < 0 || setresgid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) < 0 ||
	    setresuid(UNPRIV_UID, UNPRIV_UID, UNPRIV_UID) < 0 || geteuid() != UNPRIV_UID) {
		kf_violation("could not drop to uid %u: %s", UNPRIV_UID, strerror(errno));
		_exit(2);
	}
	fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
	atomic_fetch_add(&kf->checked, 1);
	if (fd >= 0 || errno != EACCES)
		kf_violation("uid %u opened %s: %s, want EACCES", UNPRIV_UID, PKVM_IOMMU_DEVICE,
			     fd >= 0 ? "succeeded" : strerror(errno));
	if (fd >= 0)
		close(fd);
	if (kf_ioctl_thread_init() || kf_genl_thread_init())
		_exit(3);
	while (!atomic_load(&kf->stop) && now_ms() < deadline_ms) {
		if (kf_one_in(&r, 2))
			kf_genl_one(&r, false);
		else
			kf_ioctl_one(&r, env.dev_fd, false);
	}
	_exit(0);
}

static int setup_pool(void)
{
	/* Contiguous virtual pages, often contiguous physically: blocks split and fold. */
	uint8_t *p = mmap(NULL, POOL_PAGES * PAGE_SZ, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);

	if (p == MAP_FAILED)
		return -errno;
	for (int i = 0; i < POOL_PAGES; i++) {
		p[i * PAGE_SZ] = 1;
		env.pool_pa[env.nr_pool] = virt_to_phys(p + i * PAGE_SZ);
		if (env.pool_pa[env.nr_pool])
			env.nr_pool++;
	}
	return env.nr_pool ? 0 : -ENOENT;
}

static uint64_t env_u64(const char *name, uint64_t def)
{
	const char *v = getenv(name);

	return v && *v ? strtoull(v, NULL, 0) : def;
}

static uint64_t print_counts(void)
{
	uint64_t total = 0;

	for (int c = 0; c < KF_NR; c++) {
		char errs[200] = "";
		size_t at = 0;

		total += kf->calls[c];
		for (int e = 1; e <= KF_ERRNO_MAX && at < sizeof(errs) - 24; e++)
			if (kf->err[c][e])
				at += (size_t)snprintf(errs + at, sizeof(errs) - at, " %s:%" PRIu64,
						       e == KF_ERRNO_MAX ? "other" : strerrorname_np(e),
						       (uint64_t)kf->err[c][e]);
		printf("kfuzz: count %-20s %10" PRIu64 " calls (%" PRIu64 " as uid %u), %" PRIu64
		       " ok;%s\n", call_names[c], (uint64_t)kf->calls[c], (uint64_t)kf->unpriv[c],
		       UNPRIV_UID, (uint64_t)kf->ok[c], errs);
	}
	printf("kfuzz: %" PRIu64 " executions, %" PRIu64 " outcomes checked, %" PRIu64
	       " violations\n", total, (uint64_t)kf->checked, (uint64_t)kf->violations);
	return total;
}

int main(void)
{
	struct kf_baseline base;
	struct genl_sock gs = { .fd = -1 };
	struct worker w[16];
	struct pkvm_iommu_smmu_info si = { .size = sizeof(si) };
	uint64_t secs, t0, ms, total;
	int nthreads, ret, joined = 0, status = 0;
	pid_t child;

	setvbuf(stdout, NULL, _IOLBF, 0);
	secs = env_u64("KFUZZ_SECONDS", 60);
	seed = env_u64("KFUZZ_SEED", 1);
	nthreads = (int)env_u64("KFUZZ_THREADS", 4);
	if (nthreads < 2 || nthreads > 16)
		nthreads = 4;
	printf("kfuzz: seed %" PRIu64 ", %" PRIu64 " s, %d root threads + 1 uid-%u process "
	       "(reproduce: KFUZZ_SEED=%" PRIu64 ")\n", seed, secs, nthreads, UNPRIV_UID, seed);

	kf = mmap(NULL, sizeof(*kf), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (kf == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	kf_env = &env;
	env.edu_sid = ~0u;

	ret = module_load(MODULE_PATH);
	kf_result("module-load", !ret, "%s: %s", MODULE_PATH, ret ? strerror(-ret) : "loaded");
	for (int i = 0; i < 1500 && (env.dev_fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC)) < 0; i++)
		usleep(20000);	/* udev-less devtmpfs: the node shows up by itself */
	kf_result("dev-open", env.dev_fd >= 0, "%s", env.dev_fd >= 0 ? "read-write" : strerror(errno));
	ret = env.dev_fd >= 0 ? kf_baseline_take(&base) : -ENODEV;
	kf_result("baseline", !ret, "generation %" PRIu64 ", ias %u, table pages %" PRIu64
		  ", pool free %" PRIu64 ": %s", (uint64_t)base.info.generation, base.info.ias,
		  (uint64_t)base.stats.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
		  (uint64_t)base.stats.counter[PKVM_IOMMU_STAT_POOL_FREE], strerror(-ret));
	if (ret)
		goto out;
	env.ias = base.info.ias;
	if (!ioctl(env.dev_fd, PKVM_IOMMU_IOC_SMMU_INFO, &si))
		env.sidsize = si.sidsize;
	env.nr_ram = ram_ranges(env.ram, 16);
	if (env.nr_ram < 0)
		env.nr_ram = 0;
	ret = genl_open(&gs);
	if (!ret)
		ret = genl_resolve(&gs, PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS,
				   &env.family, &env.ev_group);
	genl_close(&gs);
	if (!ret)
		ret = kf_baseline_ledger();
	kf_result("genl-family", !ret && env.family, "family %u, events group %u: %s", env.family,
		  env.ev_group, strerror(-ret));
	ret = setup_pool();
	kf_result("page-pool", !ret, "%d locked pages, RAM ranges %d", env.nr_pool, env.nr_ram);
	if (!edu_find(&edu)) {
		char err[200];

		if (!edu_open(&edu, err, sizeof(err))) {
			env.edu = &edu;
			env.edu_sid = edu.sid;
		}
	}
	if (!env.family || !env.nr_pool)
		goto out;

	kf_kernel_log_baseline();
	t0 = now_ms();
	deadline_ms = t0 + secs * 1000;
	child = fork();
	if (child == 0)
		unpriv_child();
	for (int i = 0; i < nthreads; i++) {
		w[i].idx = i;
		w[i].err = 0;
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i])) {
			nthreads = i;
			break;
		}
	}
	while (now_ms() < deadline_ms)
		usleep(200000);
	atomic_store(&kf->stop, 1);
	/* Bounded: a worker stuck in the kernel must fail the run, not hang it. */
	for (int i = 0; i < JOIN_WAIT_S * 10 && atomic_load(&kf->finished) < nthreads; i++)
		usleep(100000);
	if (atomic_load(&kf->finished) == nthreads)
		for (int i = 0; i < nthreads; i++)
			joined += !pthread_join(w[i].tid, NULL) && !w[i].err;
	ms = now_ms() - t0;
	kf_result("workers-finished", joined == nthreads, "%d of %d root threads returned within "
		  "%d s of the deadline", joined, nthreads, JOIN_WAIT_S);
	if (child > 0) {
		int i;

		for (i = 0; i < JOIN_WAIT_S * 10 && waitpid(child, &status, WNOHANG) == 0; i++)
			usleep(100000);
		kf_result("unpriv-finished", i < JOIN_WAIT_S * 10 && WIFEXITED(status) &&
			  !WEXITSTATUS(status), "uid %u process status 0x%x", UNPRIV_UID, status);
		if (i >= JOIN_WAIT_S * 10)
			kill(child, SIGKILL);
	} else {
		kf_result("unpriv-finished", false, "fork: %s", strerror(errno));
	}

	total = print_counts();
	printf("kfuzz: %.1f executions/s over %.1f s\n", (double)total * 1000.0 / (double)(ms ? ms : 1),
	       (double)ms / 1000.0);
	for (int c = 0; c < KF_NR; c++) {
		if (c == KF_DMA && !env.edu)
			continue;
		kf_result(call_names[c], kf->calls[c] > 0, "%" PRIu64 " calls, %" PRIu64 " ok",
			  (uint64_t)kf->calls[c], (uint64_t)kf->ok[c]);
	}
	{
		uint64_t up = 0;

		for (int c = 0; c < KF_NR; c++)
			up += kf->unpriv[c];
		kf_result("unpriv-calls", up > 0, "%" PRIu64 " calls as uid %u", up, UNPRIV_UID);
	}
	kf_result("no-violations", kf->violations == 0, "%" PRIu64 " violations of %" PRIu64
		  " outcomes checked (seed %" PRIu64 ")", (uint64_t)kf->violations,
		  (uint64_t)kf->checked, seed);
	if (joined == nthreads)
		kf_checks_after(&base);
out:
	return kf_summary();
}
