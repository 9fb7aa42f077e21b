// SPDX-License-Identifier: GPL-2.0
/*
 * What must hold after the fuzz run, whatever the calls did: the ledger is
 * well formed and agrees with INFO's generation; every run in it can be
 * given back, after which it is empty and the table pool has all its pages;
 * the shadow still isolates (edu DMA reaches a host page, not a donated
 * one); the kernel log holds no KASAN, UBSAN, lockdep or other report and
 * the sanitizers were really on; the module unloads. kmemleak's scan runs
 * after the module is gone, in the initramfs's /init (run.sh checks it).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "genl.h"
#include "kfuzz.h"

#define MODULE_NAME	"pkvm_iommu"
#define MAX_RUNS	65536
#define OWNER_CHECK	2u

static int passed, failed;

void kf_result(const char *name, bool ok, const char *fmt, ...)
{
	va_list ap;

	printf("%s - %s: ", ok ? "ok" : "not ok", name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	if (ok)
		passed++;
	else
		failed++;
}

int kf_summary(void)
{
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}

static int xioctl(unsigned long req, void *arg)
{
	return ioctl(kf_env->dev_fd, req, arg) < 0 ? -errno : 0;
}

int kf_baseline_take(struct kf_baseline *b)
{
	int ret;

	memset(b, 0, sizeof(*b));
	b->info.size = sizeof(b->info);
	b->stats.size = sizeof(b->stats);
	b->inval.size = sizeof(b->inval);	/* batch_max_ops 0: read */
	b->fold.size = sizeof(b->fold);
	b->fold.flags = PKVM_IOMMU_FOLD_READ;
	ret = xioctl(PKVM_IOMMU_IOC_INFO, &b->info);
	if (!ret)
		ret = xioctl(PKVM_IOMMU_IOC_STATS, &b->stats);
	if (!ret)
		ret = xioctl(PKVM_IOMMU_IOC_INVALIDATION, &b->inval);
	if (!ret)
		ret = xioctl(PKVM_IOMMU_IOC_FOLD, &b->fold);
	return ret;
}

struct run {
	uint64_t addr, len, gen;
	uint32_t owner;
	bool shared, complete;
};

struct ledger {
	struct run *runs;
	int nr;
	bool overflow;
};

static void ledger_cb(const struct genl_msg *m, void *arg)
{
	struct ledger *l = arg;
	struct run *r;

	if (l->nr >= MAX_RUNS) {
		l->overflow = true;
		return;
	}
	r = &l->runs[l->nr++];
	r->complete = genl_u64(m, PKVM_IOMMU_A_ADDR, &r->addr) &&
		      genl_u64(m, PKVM_IOMMU_A_LEN, &r->len) &&
		      genl_u32(m, PKVM_IOMMU_A_OWNER, &r->owner) &&
		      genl_u64(m, PKVM_IOMMU_A_GENERATION, &r->gen);
	r->shared = genl_flag(m, PKVM_IOMMU_A_SHARED);
}

static int ledger_dump(struct ledger *l)
{
	struct genl_sock s = { .fd = -1 };
	int ret = genl_open(&s);

	l->nr = 0;
	l->overflow = false;
	if (!ret)
		ret = genl_request(&s, kf_env->family, PKVM_IOMMU_CMD_LEDGER_GET, true, ledger_cb,
				   l, 10000);
	genl_close(&s);
	return ret;
}

/* Sorted, disjoint, page-granular, of one generation: "" or what is wrong. */
static const char *ledger_bad(const struct ledger *l, uint64_t gen, char *why, size_t len)
{
	for (int i = 0; i < l->nr; i++) {
		const struct run *r = &l->runs[i];

		if (!r->complete)
			snprintf(why, len, "run %d lacks an attribute", i);
		else if (!r->len || (r->addr | r->len) % PAGE_SZ || r->addr + r->len < r->addr)
			snprintf(why, len, "run %d [0x%" PRIx64 " +0x%" PRIx64 ") not page runs", i,
				 r->addr, r->len);
		else if (i && r->addr < l->runs[i - 1].addr + l->runs[i - 1].len)
			snprintf(why, len, "run %d at 0x%" PRIx64 " overlaps or precedes run %d", i,
				 r->addr, i - 1);
		else if (r->gen != gen)
			snprintf(why, len, "run %d has generation %" PRIu64 ", INFO %" PRIu64, i,
				 r->gen, gen);
		else if (r->shared ? r->owner != PKVM_OWNER_HOST : r->owner < PKVM_OWNER_HYP)
			snprintf(why, len, "run %d: owner %u, shared %d", i, r->owner, r->shared);
		else
			continue;
		return why;
	}
	return "";
}

static int range_op(unsigned long req, uint64_t addr, uint64_t len, uint32_t owner)
{
	struct pkvm_iommu_range rg = {
		.size = sizeof(rg), .addr = addr, .len = len, .owner = owner,
	};

	return xioctl(req, &rg);
}

/* The settings the fuzz run may have changed, back to the baseline's. */
static void restore(const struct kf_baseline *b)
{
	struct pkvm_iommu_invalidation iv = b->inval;
	struct pkvm_iommu_fold fd = b->fold;
	struct pkvm_iommu_split sp = { .size = sizeof(sp), .policy = b->info.split_policy };
	int r1, r2, r3;

	iv.size = sizeof(iv);
	fd.size = sizeof(fd);
	fd.flags = 0;
	r1 = xioctl(PKVM_IOMMU_IOC_INVALIDATION, &iv);
	r2 = xioctl(PKVM_IOMMU_IOC_FOLD, &fd);
	r3 = xioctl(PKVM_IOMMU_IOC_SPLIT_POLICY, &sp);
	kf_result("settings-restored", !r1 && !r2 && !r3,
		  "invalidation %u ops/%u us: %s; fold mode %u budget %u idle %u ms: %s; "
		  "split policy %u: %s", b->inval.batch_max_ops, b->inval.batch_window_us,
		  strerror(-r1), b->fold.mode, b->fold.compact_budget, b->fold.idle_ms,
		  strerror(-r2), b->info.split_policy, strerror(-r3));
}

/* The run of l equal to r, or NULL. */
static const struct run *ledger_has(const struct ledger *l, const struct run *r)
{
	for (int i = 0; i < l->nr; i++)
		if (l->runs[i].addr == r->addr && l->runs[i].len == r->len &&
		    l->runs[i].owner == r->owner && l->runs[i].shared == r->shared)
			return &l->runs[i];
	return NULL;
}

static struct ledger base_ledger;

int kf_baseline_ledger(void)
{
	base_ledger.runs = calloc(MAX_RUNS, sizeof(struct run));
	return base_ledger.runs ? ledger_dump(&base_ledger) : -ENOMEM;
}

static int give_back_piece(const struct run *r, uint64_t addr, uint64_t len)
{
	return r->shared ? range_op(PKVM_IOMMU_IOC_UNSHARE, addr, len, 0) :
			   range_op(PKVM_IOMMU_IOC_RECLAIM, addr, len, r->owner);
}

/*
 * Gives back what of run r is not a run of the same owner after the load
 * (the module's own memory, which a donation next to it merges with).
 */
static int give_back(const struct run *r)
{
	uint64_t at = r->addr, end = r->addr + r->len;
	int ret = 0;

	for (int i = 0; !ret && i < base_ledger.nr && at < end; i++) {
		const struct run *b = &base_ledger.runs[i];

		if (b->owner != r->owner || b->shared != r->shared || b->addr + b->len <= at ||
		    b->addr >= end)
			continue;
		if (b->addr > at)
			ret = give_back_piece(r, at, b->addr - at);
		at = b->addr + b->len;
	}
	if (!ret && at < end)
		ret = give_back_piece(r, at, end - at);
	return ret;
}

static void check_ledger(const struct kf_baseline *b)
{
	struct pkvm_iommu_info info = { .size = sizeof(info) };
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	struct ledger l = { .runs = calloc(MAX_RUNS, sizeof(struct run)) };
	uint64_t pages = 0, base_sum, now_sum;
	char why[200] = "";
	int ret, refused = 0, first_err = 0;
	bool same;

	if (!l.runs)
		return;
	ret = ledger_dump(&l);
	if (!ret)
		ret = xioctl(PKVM_IOMMU_IOC_INFO, &info);
	kf_result("ledger-dump", !ret && !l.overflow, "%d runs at generation %" PRIu64 ": %s",
		  l.nr, (uint64_t)info.generation, strerror(-ret));
	if (ret) {
		free(l.runs);
		return;
	}
	kf_result("ledger-well-formed", !*ledger_bad(&l, info.generation, why, sizeof(why)),
		  "%d runs sorted, disjoint, page-granular, generation %" PRIu64 "%s%s", l.nr,
		  (uint64_t)info.generation, *why ? ": " : "", why);
	kf_result("generation-advanced", info.generation >= b->info.generation,
		  "%" PRIu64 " -> %" PRIu64, (uint64_t)b->info.generation, (uint64_t)info.generation);

	/* What was there after the load (the module's own memory) stays. */
	for (int i = 0; i < l.nr; i++) {
		const struct run *r = &l.runs[i];

		if (ledger_has(&base_ledger, r))
			continue;
		ret = give_back(r);
		pages += r->len / PAGE_SZ;
		if (ret && !refused++)
			first_err = ret;
		if (ret && refused <= 5)
			printf("kfuzz: could not give back [0x%" PRIx64 " +0x%" PRIx64 ") owner %u%s: %s\n",
			       r->addr, r->len, r->owner, r->shared ? " shared" : "", strerror(-ret));
	}
	kf_result("ledger-given-back", !refused, "%d runs (%" PRIu64 " pages) reclaimed or "
		  "unshared, %d refused%s%s", l.nr, pages, refused, refused ? ", first: " : "",
		  refused ? strerror(-first_err) : "");
	ret = ledger_dump(&l);
	same = !ret && l.nr == base_ledger.nr;
	for (int i = 0; same && i < l.nr; i++)
		same = ledger_has(&base_ledger, &l.runs[i]) != NULL;
	kf_result("ledger-as-after-load", same, "%d runs left, %d after the load: %s", l.nr,
		  base_ledger.nr, strerror(-ret));
	free(l.runs);

	/* Every table page is in use or free: none lost on an error path. */
	ret = xioctl(PKVM_IOMMU_IOC_STATS, &st);
	base_sum = b->stats.counter[PKVM_IOMMU_STAT_TABLE_PAGES] +
		   b->stats.counter[PKVM_IOMMU_STAT_POOL_FREE];
	now_sum = st.counter[PKVM_IOMMU_STAT_TABLE_PAGES] + st.counter[PKVM_IOMMU_STAT_POOL_FREE];
	kf_result("table-pool-whole", !ret && now_sum == base_sum,
		  "table pages %" PRIu64 " + free %" PRIu64 " = %" PRIu64 " (after load: %" PRIu64
		  "), mem_pages %" PRIu64 " (after load %" PRIu64 ")",
		  (uint64_t)st.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
		  (uint64_t)st.counter[PKVM_IOMMU_STAT_POOL_FREE], now_sum, base_sum,
		  (uint64_t)st.counter[PKVM_IOMMU_STAT_MEM_PAGES],
		  (uint64_t)b->stats.counter[PKVM_IOMMU_STAT_MEM_PAGES]);
}

/* The shadow still isolates: edu reaches host page a, not donated page b. */
static void check_isolation(void)
{
	struct pkvm_iommu_stream s = { .size = sizeof(s), .sid = kf_env->edu_sid,
				       .policy = PKVM_STREAM_ISOLATE };
	struct edu *e = kf_env->edu;
	uint8_t *va;
	uint64_t pa_src, pa_dst;
	int ret, r1, r2, r3;
	bool arrived, kept;

	if (!e) {
		kf_result("isolation-after", false, "no edu device");
		return;
	}
	va = mmap(NULL, 2 * PAGE_SZ, PROT_READ | PROT_WRITE,
		  MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE | MAP_LOCKED, -1, 0);
	if (va == MAP_FAILED) {
		kf_result("isolation-after", false, "mmap: %s", strerror(errno));
		return;
	}
	pa_src = virt_to_phys(va);
	pa_dst = virt_to_phys(va + PAGE_SZ);
	ret = xioctl(PKVM_IOMMU_IOC_STREAM_SET, &s);
	memset(va, 0xa5, PAGE_SZ);
	memset(va + PAGE_SZ, 0x5a, PAGE_SZ);
	__sync_synchronize();
	r1 = edu_dma(e, pa_src, 0, PAGE_SZ, false);
	r2 = edu_dma(e, pa_dst, 0, PAGE_SZ, true);
	__sync_synchronize();
	arrived = !ret && !r1 && !r2 && va[PAGE_SZ] == 0xa5 && va[2 * PAGE_SZ - 1] == 0xa5;
	kf_result("isolation-host-page", arrived, "stream 0x%x isolate: %s; edu -> 0x%" PRIx64
		  ": byte 0x%02x (0xa5 = arrived)", kf_env->edu_sid, strerror(-ret), pa_dst,
		  va[PAGE_SZ]);

	memset(va + PAGE_SZ, 0x5a, PAGE_SZ);
	memset(va, 0x3c, PAGE_SZ);
	__sync_synchronize();
	r3 = range_op(PKVM_IOMMU_IOC_DONATE, pa_dst, PAGE_SZ, OWNER_CHECK);
	r1 = edu_dma(e, pa_src, 0, PAGE_SZ, false);
	r2 = edu_dma(e, pa_dst, 0, PAGE_SZ, true);
	__sync_synchronize();
	kept = !r3 && !r1 && !r2 && va[PAGE_SZ] == 0x5a && va[2 * PAGE_SZ - 1] == 0x5a;
	kf_result("isolation-donated-page", kept, "donate 0x%" PRIx64 " to %u: %s; edu write: "
		  "byte 0x%02x (0x5a = blocked)", pa_dst, OWNER_CHECK, strerror(-r3), va[PAGE_SZ]);
	ret = range_op(PKVM_IOMMU_IOC_RECLAIM, pa_dst, PAGE_SZ, OWNER_CHECK);
	r2 = edu_dma(e, pa_dst, 0, PAGE_SZ, true);
	__sync_synchronize();
	kf_result("isolation-reclaimed-page", !ret && !r2 && va[PAGE_SZ] == 0x3c,
		  "reclaim: %s; edu write: byte 0x%02x (0x3c = arrived)", strerror(-ret), va[PAGE_SZ]);
	munmap(va, 2 * PAGE_SZ);
}

/* Reports of the kernel's checkers; the first match is returned in hit. */
static const char *const bad_patterns[] = {
	"BUG:", "KASAN", "UBSAN", "WARNING:", "Oops", "kernel BUG", "Call trace:",
	"DEBUG_LOCKS_WARN_ON", "possible circular locking", "possible recursive locking",
	"inconsistent lock state", "suspicious RCU usage", "INFO: trying to register",
	"kmemleak: ", "list_add corruption", "list_del corruption",
};
static const char *const benign[] = {
	"KernelAddressSanitizer initialized",	/* the sanitizer saying it is on */
	"kmemleak: Kernel memory leak detector initialized",
	"kmemleak: Automatic memory scanning thread started",
};

struct log_scan {
	int nr;			/* records read */
	int lost;		/* records overwritten before they were read */
	int bad;		/* reports among them */
	bool kasan;		/* KASAN said it is on */
	char hit[200];		/* the first report */
};

/* The kernel log as /dev/kmsg still holds it. 0 or -errno. */
static int scan_kernel_log(struct log_scan *s)
{
	char rec[2048];
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	ssize_t n;

	memset(s, 0, sizeof(*s));
	if (fd < 0)
		return -errno;
	while ((n = read(fd, rec, sizeof(rec) - 1)) > 0 || (n < 0 && errno == EPIPE)) {
		bool skip = false;

		if (n < 0) {
			s->lost++;	/* overwritten: go on with the next */
			continue;
		}
		rec[n] = 0;
		s->nr++;
		if (strstr(rec, "KernelAddressSanitizer initialized"))
			s->kasan = true;
		for (size_t i = 0; i < sizeof(benign) / sizeof(benign[0]); i++)
			skip |= strstr(rec, benign[i]) != NULL;
		for (size_t i = 0; !skip && i < sizeof(bad_patterns) / sizeof(bad_patterns[0]); i++) {
			if (!strstr(rec, bad_patterns[i]))
				continue;
			if (!s->bad++)
				snprintf(s->hit, sizeof(s->hit), "%.*s", (int)sizeof(s->hit) - 1,
					 strchr(rec, ';') ? strchr(rec, ';') + 1 : rec);
			break;
		}
	}
	close(fd);
	if (strchr(s->hit, '\n'))
		*strchr(s->hit, '\n') = 0;
	return 0;
}

/*
 * Before the run: the boot lines are still in the log buffer. A long run's
 * rate-limited netlink notices wrap it, and the "KASAN initialized" line
 * is gone by the end (the console, which run.sh judges whole, keeps it).
 */
static bool kasan_at_boot;

void kf_kernel_log_baseline(void)
{
	struct log_scan s;

	if (!scan_kernel_log(&s))
		kasan_at_boot = s.kasan;
}

static void check_kernel_log(void)
{
	struct log_scan s;
	int ret = scan_kernel_log(&s);

	if (ret) {
		kf_result("kernel-log-clean", false, "/dev/kmsg: %s", strerror(-ret));
		return;
	}
	/* Records lost to the wrap were never seen here: run.sh reads the console. */
	kf_result("kernel-log-clean", s.nr > 0 && !s.bad, "%d records, %d reports%s%s; "
		  "%d overwritten before this read (the console has them)", s.nr, s.bad,
		  s.bad ? ", first: " : "", s.hit, s.lost);
	kf_result("kasan-on", kasan_at_boot || s.kasan, "KASAN %s in the boot log",
		  kasan_at_boot || s.kasan ? "initialized" : "absent");
}

static void check_lockdep(void)
{
	char line[200];
	FILE *f = fopen("/proc/lockdep_stats", "re");
	long v = -1;

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " debug_locks: %ld", &v) == 1)
			break;
	if (f)
		fclose(f);
	/* Lockdep switches itself off (debug_locks 0) after its first report. */
	kf_result("lockdep-on", v == 1, "/proc/lockdep_stats debug_locks %ld", v);
}

void kf_checks_after(const struct kf_baseline *b)
{
	int ret, tries = 0;

	restore(b);
	check_ledger(b);
	check_isolation();
	close(kf_env->dev_fd);
	/* A reference may linger for a moment after the last close. */
	while ((ret = module_unload(MODULE_NAME)) == -EAGAIN || ret == -EBUSY) {
		if (++tries > 300)
			break;
		usleep(100000);
	}
	kf_result("module-unload", !ret, "%s", ret ? strerror(-ret) : "unloaded");
	check_lockdep();
	check_kernel_log();
}
