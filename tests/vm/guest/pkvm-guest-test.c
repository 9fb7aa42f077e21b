// SPDX-License-Identifier: GPL-2.0
/*
 * The VM bench's guest test: loads pkvm_iommu.ko, binds the emulated SMMUv3,
 * and proves with real DMA from QEMU's edu device that the shadow stage 2
 * isolates donated pages, splits and folds blocks, blocks streams, rejects
 * bad arguments, reports faults and ownership changes over generic netlink,
 * and unloads cleanly.
 *
 * Output: one "ok - NAME: detail" or "not ok - NAME: detail" line per check
 * (a check whose prerequisite failed is "not ok - NAME: blocked: ..."), then
 * "N passed, M failed"; exit status 0 only if M is 0.
 *
 * usage: pkvm-guest-test [MODULE.ko]   (default /opt/pkvm/pkvm_iommu.ko)
 */
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "genl.h"
#include "hw.h"

#define MODULE_NAME	"pkvm_iommu"
#define SMMU_BASE	0x09050000ull	/* QEMU virt's VIRT_SMMU */
#define SMMU_DRIVER	"pkvm-iommu-smmu"
#define SPLIT_PAGES	1024
#define FAULT_WAIT_MS	2000
#define EVENT_WAIT_MS	1000
#define OWNER_TEST	2u
#define F_TRANSLATION	0x10
#define F_PERMISSION	0x13

/* ------------------------------------------------------------------ */
/* Results                                                             */
/* ------------------------------------------------------------------ */

enum need {
	NEED_MOD = 1 << 0,	/* module loaded, /dev/pkvm-iommu open */
	NEED_EDU = 1 << 1,	/* edu found, BAR mapped, pages' PAs known */
	NEED_GENL = 1 << 2,	/* family resolved, subscribed to events */
	NEED_ISO = 1 << 3,	/* edu isolated and its DMA works */
	NEED_DONATED = 1 << 4,	/* page B donated */
	NEED_FAULT = 1 << 5,	/* the fault event for B arrived */
	NEED_PAIR = 1 << 6,	/* split pair found */
	NEED_SPLIT = 1 << 7,	/* one page of the pair donated */
	NEED_BLOCKED = 1 << 8,	/* edu's stream set to block */
	NEED_UNLOADED = 1 << 9,	/* first rmmod worked */
	NEED_RELOADED = 1 << 10,	/* second insmod worked and the node opened */
	NEED_PLUMB = 1 << 11,	/* edu DMA and pagemap work without the module */
	NEED_LAZY = 1 << 12,	/* a LAZY reclaim left the pair's block split */
	NEED_BITS = 13,
};

static int passed, failed;
static char blocker[NEED_BITS][160];

static bool blocked(unsigned int need)
{
	for (int i = 0; i < NEED_BITS; i++)
		if ((need & (1u << i)) && blocker[i][0])
			return true;
	return false;
}

static void result(const char *name, bool ok, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void result(const char *name, bool ok, const char *fmt, ...)
{
	char detail[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	printf("%s - %s: %s\n", ok ? "ok" : "not ok", name, detail);
	fflush(stdout);
	if (ok)
		passed++;
	else
		failed++;
}

/* Marks a prerequisite as failed: checks that need it are reported blocked. */
static void block_need(unsigned int need, const char *why)
{
	for (int i = 0; i < NEED_BITS; i++)
		if ((need & (1u << i)) && !blocker[i][0])
			snprintf(blocker[i], sizeof(blocker[i]), "%s", why);
}

/* True if the check may run; otherwise it is reported as a failure. */
static bool want(const char *name, unsigned int needs)
{
	for (int i = 0; i < NEED_BITS; i++) {
		if ((needs & (1u << i)) && blocker[i][0]) {
			result(name, false, "blocked: %s", blocker[i]);
			return false;
		}
	}
	return true;
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static const char *errname(int e)
{
	static char buf[8][32];
	static int slot;
	char *b = buf[slot++ % 8];

	switch (e) {
	case 0: return "success";
	case EINVAL: return "EINVAL";
	case ERANGE: return "ERANGE";
	case EPERM: return "EPERM";
	case EACCES: return "EACCES";
	case ENODEV: return "ENODEV";
	case ENOENT: return "ENOENT";
	case EBUSY: return "EBUSY";
	case EFAULT: return "EFAULT";
	case ENOTTY: return "ENOTTY";
	case E2BIG: return "E2BIG";
	case ENOMEM: return "ENOMEM";
	case ENOSPC: return "ENOSPC";
	case EEXIST: return "EEXIST";
	case EOPNOTSUPP: return "EOPNOTSUPP";
	default:
		snprintf(b, 32, "errno %d", e);
		return b;
	}
}

/* ------------------------------------------------------------------ */
/* The char device                                                     */
/* ------------------------------------------------------------------ */

static int dev_fd = -1;

/* ioctl returning 0 or the positive errno. */
static int xioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg) < 0 ? errno : 0;
}

static int get_info(struct pkvm_iommu_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	return xioctl(dev_fd, PKVM_IOMMU_IOC_INFO, info);
}

static int get_stats(struct pkvm_iommu_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->size = sizeof(*st);
	return xioctl(dev_fd, PKVM_IOMMU_IOC_STATS, st);
}

static int stream_get(uint32_t sid, uint32_t *policy)
{
	struct pkvm_iommu_stream s = { .size = sizeof(s), .smmu = 0, .sid = sid,
				       .policy = 0xdead };
	int e = xioctl(dev_fd, PKVM_IOMMU_IOC_STREAM_GET, &s);

	*policy = s.policy;
	return e;
}

static int stream_set(uint32_t sid, uint32_t policy)
{
	struct pkvm_iommu_stream s = { .size = sizeof(s), .smmu = 0, .sid = sid,
				       .policy = policy };

	return xioctl(dev_fd, PKVM_IOMMU_IOC_STREAM_SET, &s);
}

static int range_op(unsigned long req, uint64_t addr, uint64_t len, uint32_t owner)
{
	struct pkvm_iommu_range r = { .size = sizeof(r), .addr = addr, .len = len,
				      .owner = owner };

	return xioctl(dev_fd, req, &r);
}

static int fold_io(uint32_t flags, uint32_t mode, uint32_t budget, uint32_t idle_ms,
		   uint32_t reserved, struct pkvm_iommu_fold *out)
{
	struct pkvm_iommu_fold f = { .size = sizeof(f), .flags = flags, .mode = mode,
				     .compact_budget = budget, .idle_ms = idle_ms,
				     .reserved = reserved };
	int e = xioctl(dev_fd, PKVM_IOMMU_IOC_FOLD, &f);

	if (out)
		*out = f;
	return e;
}

static int fold_read(struct pkvm_iommu_fold *out)
{
	return fold_io(PKVM_IOMMU_FOLD_READ, 0, 0, 0, 0, out);
}

static int fold_set(uint32_t mode, uint32_t idle_ms)
{
	return fold_io(0, mode, PKVM_IOMMU_FOLD_DEFAULT_BUDGET, idle_ms, 0, NULL);
}

/*
 * The fold mode a phase's checks were written for. A failure is only
 * printed: the checks then say what they found.
 */
static void fold_mode_for(const char *phase, uint32_t mode, uint32_t idle_ms)
{
	int e = dev_fd < 0 ? EBADF : fold_set(mode, idle_ms);

	if (e)
		printf("pkvm-guest-test: %s: FOLD mode %u idle %u ms: %s\n", phase, mode, idle_ms,
		       errname(e));
}

/* What "nothing changed" compares: every counter but ERRORS, generation. */
struct snap {
	struct pkvm_iommu_stats st;
	uint64_t generation;
	uint32_t edu_policy;
	bool ok;
};

static void take_snap(struct snap *s, uint32_t sid)
{
	struct pkvm_iommu_info info;

	s->ok = !get_stats(&s->st) && !get_info(&info) && !stream_get(sid, &s->edu_policy);
	s->generation = info.generation;
}

static const char *stat_name(int i)
{
	static const char *const n[PKVM_IOMMU_STAT_NR] = {
		"donate", "reclaim", "share", "unshare", "errors", "desc_writes",
		"tlbi_ranges", "tlbi_full", "syncs", "splits", "folds",
		"bbm_breaks", "table_pages", "pool_free", "mem_pages", "split_policy",
		"hook_transitions", "hook_ns", "hook_max_ns", "seed_ns", "table_fills",
		"compactions", "compact_folds", "pressure_reliefs", "fold_mode",
	};

	return i >= 0 && i < PKVM_IOMMU_STAT_NR ? n[i] : "?";
}

/* Empty string if equal, else what differs. */
static const char *snap_diff(const struct snap *a, const struct snap *b)
{
	static char buf[256];
	size_t n = 0;

	buf[0] = 0;
	if (!a->ok || !b->ok)
		return "could not read stats/info/stream";
	if (a->generation != b->generation)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " generation %" PRIu64 "->%" PRIu64,
				      a->generation, b->generation);
	if (a->edu_policy != b->edu_policy && n < sizeof(buf))
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " edu-policy %u->%u",
				      a->edu_policy, b->edu_policy);
	for (int i = 0; i < PKVM_IOMMU_STAT_NR && n < sizeof(buf); i++) {
		if (i == PKVM_IOMMU_STAT_ERRORS || a->st.counter[i] == b->st.counter[i])
			continue;
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, " %s %" PRIu64 "->%" PRIu64,
				      stat_name(i), (uint64_t)a->st.counter[i],
				      (uint64_t)b->st.counter[i]);
	}
	return buf;
}

/* ------------------------------------------------------------------ */
/* Netlink: events and dumps                                           */
/* ------------------------------------------------------------------ */

static struct genl_sock ev_sock = { .fd = -1 }, req_sock = { .fd = -1 };
static uint16_t family;

struct event {
	uint8_t cmd;
	bool has_gen, has_addr, has_len, has_owner, has_sid, has_type, has_flags, has_policy;
	uint64_t gen, addr, len;
	uint32_t owner, sid, type, flags, policy;
};

typedef bool (*event_match)(const struct event *e, const void *arg);

/*
 * Events are matched as they arrive rather than stored: a stream blocked or
 * faulting in QEMU reports every 4-byte beat of a DMA, thousands of records.
 * What is kept: counts by command, the first few and the last event since
 * the last reset (for failure details), and the first match of the current
 * event_wait().
 */
#define NR_SAMPLES 3
static struct event samples[NR_SAMPLES], last_ev;
static unsigned long nr_events, nr_by_cmd[PKVM_IOMMU_CMD_MAX + 1];
static int ev_overflow;
static event_match cur_match;
static const void *cur_arg;
static struct event matched;
static bool have_match;

static void event_cb(const struct genl_msg *m, void *arg)
{
	struct event e;

	(void)arg;
	memset(&e, 0, sizeof(e));
	e.cmd = m->cmd;
	e.has_gen = genl_u64(m, PKVM_IOMMU_A_GENERATION, &e.gen);
	e.has_addr = genl_u64(m, PKVM_IOMMU_A_ADDR, &e.addr);
	e.has_len = genl_u64(m, PKVM_IOMMU_A_LEN, &e.len);
	e.has_owner = genl_u32(m, PKVM_IOMMU_A_OWNER, &e.owner);
	e.has_sid = genl_u32(m, PKVM_IOMMU_A_SID, &e.sid);
	e.has_type = genl_u32(m, PKVM_IOMMU_A_FAULT_TYPE, &e.type);
	e.has_flags = genl_u32(m, PKVM_IOMMU_A_FAULT_FLAGS, &e.flags);
	e.has_policy = genl_u32(m, PKVM_IOMMU_A_POLICY, &e.policy);
	if (nr_events < NR_SAMPLES)
		samples[nr_events] = e;
	nr_events++;
	if (e.cmd <= PKVM_IOMMU_CMD_MAX)
		nr_by_cmd[e.cmd]++;
	last_ev = e;
	if (cur_match && !have_match && cur_match(&e, cur_arg)) {
		matched = e;
		have_match = true;
	}
}

/* Receives for up to ms; stops early once stop() is true. */
static void events_pump(int ms, bool (*stop)(void))
{
	uint64_t end = now_ms() + (uint64_t)ms;

	while (ev_sock.fd >= 0 && !(stop && stop())) {
		int64_t left = (int64_t)(end - now_ms());
		int r;

		if (left <= 0)
			break;
		r = genl_recv(&ev_sock, family, event_cb, NULL, (int)left);
		if (r == -ENOBUFS)
			ev_overflow++;
		else if (r < 0)
			break;
	}
}

/*
 * Waits until no event has arrived for 100 ms (at most 3 s: the module may
 * still be draining an earlier flood of faults), then forgets everything.
 */
static void events_reset(void)
{
	uint64_t end = now_ms() + 3000;

	cur_match = NULL;
	while (ev_sock.fd >= 0 && now_ms() < end) {
		int r = genl_recv(&ev_sock, family, event_cb, NULL, 100);

		if (r == -ENOBUFS)
			ev_overflow++;
		else if (r <= 0)
			break;
	}
	nr_events = 0;
	memset(nr_by_cmd, 0, sizeof(nr_by_cmd));
	ev_overflow = 0;
	have_match = false;
}

static bool got_match(void)
{
	return have_match;
}

/* Waits up to ms for an event that matches; NULL on timeout. */
static const struct event *event_wait(event_match match, const void *arg, int ms)
{
	cur_match = match;
	cur_arg = arg;
	have_match = false;
	events_pump(ms, got_match);
	cur_match = NULL;
	return have_match ? &matched : NULL;
}

static const char *cmd_name(uint8_t cmd)
{
	switch (cmd) {
	case PKVM_IOMMU_CMD_EVT_DONATE: return "DONATE";
	case PKVM_IOMMU_CMD_EVT_RECLAIM: return "RECLAIM";
	case PKVM_IOMMU_CMD_EVT_SHARE: return "SHARE";
	case PKVM_IOMMU_CMD_EVT_UNSHARE: return "UNSHARE";
	case PKVM_IOMMU_CMD_EVT_FAULT: return "FAULT";
	case PKVM_IOMMU_CMD_EVT_POLICY: return "POLICY";
	default: return "?";
	}
}

static size_t describe_event(char *buf, size_t len, const char *tag, const struct event *e)
{
	int n = snprintf(buf, len, "; %s %s sid=%u type=0x%x flags=0x%x addr=0x%" PRIx64
			 " len=0x%" PRIx64 " owner=%u gen=%" PRIu64, tag, cmd_name(e->cmd),
			 e->sid, e->type, e->flags, e->addr, e->len, e->owner, e->gen);

	return n < 0 ? 0 : (size_t)n >= len ? len - 1 : (size_t)n;
}

/* A summary of the events received since the last reset, for details. */
static const char *events_seen(void)
{
	static char buf[700];
	size_t n;

	n = (size_t)snprintf(buf, sizeof(buf), "%lu event(s) (FAULT %lu, DONATE %lu, RECLAIM %lu, "
			     "POLICY %lu)%s", nr_events, nr_by_cmd[PKVM_IOMMU_CMD_EVT_FAULT],
			     nr_by_cmd[PKVM_IOMMU_CMD_EVT_DONATE],
			     nr_by_cmd[PKVM_IOMMU_CMD_EVT_RECLAIM],
			     nr_by_cmd[PKVM_IOMMU_CMD_EVT_POLICY],
			     ev_overflow ? ", socket overflowed" : "");
	for (unsigned long i = 0; i < nr_events && i < NR_SAMPLES && n < sizeof(buf); i++)
		n += describe_event(buf + n, sizeof(buf) - n, "first:", &samples[i]);
	if (nr_events > NR_SAMPLES && n < sizeof(buf))
		describe_event(buf + n, sizeof(buf) - n, "last:", &last_ev);
	return buf;
}

/* Receives for ms more, then describes everything received since the reset. */
static const char *events_after(int ms)
{
	if (ev_sock.fd < 0)
		return "no event socket";
	events_pump(ms, NULL);
	return events_seen();
}

struct range_match {
	uint8_t cmd;
	uint64_t addr;
};

static bool match_range_event(const struct event *e, const void *arg)
{
	const struct range_match *m = arg;

	return e->cmd == m->cmd && e->has_addr && e->addr == m->addr;
}

struct fault_match {
	uint32_t sid;
	uint64_t lo, hi;
};

static bool match_fault(const struct event *e, const void *arg)
{
	const struct fault_match *m = arg;

	return e->cmd == PKVM_IOMMU_CMD_EVT_FAULT && e->has_sid && e->sid == m->sid &&
	       e->has_addr && e->addr >= m->lo && e->addr < m->hi;
}

static bool match_policy(const struct event *e, const void *arg)
{
	const uint32_t *sid = arg;

	return e->cmd == PKVM_IOMMU_CMD_EVT_POLICY && e->has_sid && e->sid == *sid;
}

/* The ownership ledger, as LEDGER_GET dumps it. */
struct run {
	uint64_t addr, len, gen;
	uint32_t owner;
	bool shared, has_gen, complete;
};

#define MAX_RUNS 4096
static struct run runs[MAX_RUNS];
static int nr_runs;

static void ledger_cb(const struct genl_msg *m, void *arg)
{
	struct run *r;

	(void)arg;
	if (nr_runs >= MAX_RUNS)
		return;
	r = &runs[nr_runs++];
	memset(r, 0, sizeof(*r));
	r->complete = genl_u64(m, PKVM_IOMMU_A_ADDR, &r->addr) &&
		      genl_u64(m, PKVM_IOMMU_A_LEN, &r->len) &&
		      genl_u32(m, PKVM_IOMMU_A_OWNER, &r->owner);
	r->has_gen = genl_u64(m, PKVM_IOMMU_A_GENERATION, &r->gen);
	r->shared = genl_flag(m, PKVM_IOMMU_A_SHARED);
}

static int ledger_dump(void)
{
	nr_runs = 0;
	return -genl_request(&req_sock, family, PKVM_IOMMU_CMD_LEDGER_GET, true,
			     ledger_cb, NULL, 3000);
}

/* The run that holds pa, or NULL. */
static const struct run *ledger_find(uint64_t pa)
{
	for (int i = 0; i < nr_runs; i++)
		if (runs[i].complete && pa >= runs[i].addr && pa - runs[i].addr < runs[i].len)
			return &runs[i];
	return NULL;
}

static bool ledger_touches(uint64_t lo, uint64_t hi)
{
	for (int i = 0; i < nr_runs; i++)
		if (runs[i].addr < hi && runs[i].addr + runs[i].len > lo)
			return true;
	return false;
}

struct stats_reply {
	bool got;
	uint16_t len;
	uint64_t v[PKVM_IOMMU_STAT_NR];
};

static void stats_cb(const struct genl_msg *m, void *arg)
{
	struct stats_reply *r = arg;

	if (!m->attr[PKVM_IOMMU_A_STATS])
		return;
	r->got = true;
	r->len = m->attr_len[PKVM_IOMMU_A_STATS];
	memcpy(r->v, m->attr[PKVM_IOMMU_A_STATS],
	       r->len < sizeof(r->v) ? r->len : sizeof(r->v));
}

/* ------------------------------------------------------------------ */
/* Pages and DMA                                                       */
/* ------------------------------------------------------------------ */

struct page {
	uint8_t *va;
	uint64_t pa;
};

static struct edu edu;
static struct page pg_a, pg_b, pg_c;	/* source, target, spare */
static struct page split_pg[SPLIT_PAGES];
/* split-pair's page to donate: inside a 2 MiB block no run touches. */
static struct page *blk_pg;
static struct ram_range ram[16];
static int nr_ram;

static void fill(struct page *p, unsigned int seed)
{
	for (unsigned int i = 0; i < PAGE_SZ; i++)
		p->va[i] = (uint8_t)(seed * 131u + i * 7u + (i >> 8) * 13u + 1u);
	__sync_synchronize();
}

static bool has_pattern(const struct page *p, unsigned int seed, unsigned int *bad)
{
	__sync_synchronize();
	for (unsigned int i = 0; i < PAGE_SZ; i++) {
		if (p->va[i] != (uint8_t)(seed * 131u + i * 7u + (i >> 8) * 13u + 1u)) {
			*bad = i;
			return false;
		}
	}
	return true;
}

static void fill_byte(struct page *p, uint8_t v)
{
	memset(p->va, v, PAGE_SZ);
	__sync_synchronize();
}

static bool pa_stable(const struct page *p)
{
	return virt_to_phys(p->va) == p->pa;
}

static unsigned int next_seed = 1;

/*
 * src -> edu buffer -> dst with a fresh pattern; true if dst got it. detail
 * says what happened either way.
 */
static bool roundtrip(struct page *src, struct page *dst, char *detail, size_t dlen)
{
	unsigned int seed = next_seed++, bad = 0;
	int r1, r2;

	fill(src, seed);
	fill_byte(dst, 0x5a);
	r1 = edu_dma(&edu, src->pa, 0, PAGE_SZ, false);
	r2 = edu_dma(&edu, dst->pa, 0, PAGE_SZ, true);
	if (r1 || r2) {
		snprintf(detail, dlen, "edu DMA engine stuck (%s/%s)", errname(-r1), errname(-r2));
		return false;
	}
	if (has_pattern(dst, seed, &bad)) {
		snprintf(detail, dlen, "0x%" PRIx64 " -> edu -> 0x%" PRIx64 ": 4096 bytes arrived",
			 src->pa, dst->pa);
		return true;
	}
	snprintf(detail, dlen, "0x%" PRIx64 " -> edu -> 0x%" PRIx64
		 ": byte %u is 0x%02x (0x5a = untouched), pattern %u not there",
		 src->pa, dst->pa, bad, dst->va[bad], seed);
	return false;
}

/*
 * The write check for a page DMA must not reach: load a fresh pattern into
 * edu from src, copy edu -> dst, dst must keep its old content. Returns true
 * if dst is unchanged.
 */
static bool write_blocked(struct page *src, struct page *dst, char *detail, size_t dlen)
{
	static uint8_t before[PAGE_SZ];
	unsigned int seed = next_seed++;
	int r1, r2;

	memcpy(before, dst->va, PAGE_SZ);
	fill(src, seed);
	r1 = edu_dma(&edu, src->pa, 0, PAGE_SZ, false);
	r2 = edu_dma(&edu, dst->pa, 0, PAGE_SZ, true);
	if (r1 || r2) {
		snprintf(detail, dlen, "edu DMA engine stuck (%s/%s)", errname(-r1), errname(-r2));
		return false;
	}
	__sync_synchronize();
	for (unsigned int i = 0; i < PAGE_SZ; i++) {
		if (dst->va[i] != before[i]) {
			snprintf(detail, dlen, "edu -> 0x%" PRIx64 " changed byte %u: 0x%02x -> 0x%02x",
				 dst->pa, i, before[i], dst->va[i]);
			return false;
		}
	}
	snprintf(detail, dlen, "edu -> 0x%" PRIx64 ": page unchanged", dst->pa);
	return true;
}

/* ------------------------------------------------------------------ */
/* Phases                                                              */
/* ------------------------------------------------------------------ */

static const char *ko_path = "/opt/pkvm/pkvm_iommu.ko";
static char smmu_dev[256];

static void find_smmu(void)
{
	char p[300], link[300];
	glob_t g;
	ssize_t n;
	size_t cnt = 0;

	smmu_dev[0] = 0;
	if (!glob("/sys/bus/platform/devices/*smmuv3*", 0, NULL, &g)) {
		cnt = g.gl_pathc;
		if (cnt == 1)
			snprintf(smmu_dev, sizeof(smmu_dev), "%s", g.gl_pathv[0]);
		globfree(&g);
	}
	if (cnt != 1) {
		result("smmu-platform-device", false, "expected 1 *smmuv3* platform device, found %zu",
		       cnt);
		result("smmu-unbound-before-load", false, "blocked: smmu-platform-device");
		return;
	}
	result("smmu-platform-device", true, "%s", strrchr(smmu_dev, '/') + 1);
	snprintf(p, sizeof(p), "%s/driver", smmu_dev);
	n = readlink(p, link, sizeof(link) - 1);
	if (n >= 0)
		link[n] = 0;
	result("smmu-unbound-before-load", n < 0, "%s", n < 0 ? "no driver" : link);
}

static const char *smmu_driver(void)
{
	static char link[300];
	char p[300];
	ssize_t n;

	if (!smmu_dev[0])
		return "(no smmu device)";
	snprintf(p, sizeof(p), "%s/driver", smmu_dev);
	n = readlink(p, link, sizeof(link) - 1);
	if (n < 0)
		return "";
	link[n] = 0;
	return strrchr(link, '/') ? strrchr(link, '/') + 1 : link;
}

static bool in_ram(uint64_t pa)
{
	for (int i = 0; i < nr_ram; i++)
		if (pa >= ram[i].start && pa < ram[i].end)
			return true;
	return false;
}

static void phase_platform(void)
{
	static uint8_t *mem;
	size_t bytes = (size_t)(3 + SPLIT_PAGES) * PAGE_SZ;
	char err[300];
	int r;

	find_smmu();

	nr_ram = ram_ranges(ram, 16);
	r = edu_find(&edu);
	if (r) {
		result("edu-found", false, "%s", r == -ENOENT ? "no 1234:11e8 in /sys/bus/pci/devices"
			: "more than one 1234:11e8");
		block_need(NEED_EDU, "edu-found");
		return;
	}
	result("edu-found", true, "%s sid 0x%x", edu.bdf, edu.sid);
	r = edu_open(&edu, err, sizeof(err));
	result("edu-open", !r, "%s", err);
	if (r) {
		block_need(NEED_EDU, "edu-open");
		return;
	}

	/*
	 * Locked, prefaulted anonymous pages: their physical addresses stay put
	 * (no swap, no migration in this kernel), and MADV_DONTFORK keeps the
	 * non-root child of a later check from sharing them copy-on-write.
	 */
	mem = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (mem == MAP_FAILED || madvise(mem, bytes, MADV_DONTFORK)) {
		result("pagemap-phys", false, "mmap/madvise: %s", strerror(errno));
		block_need(NEED_EDU, "pagemap-phys");
		return;
	}
	for (size_t i = 0; i < bytes; i += PAGE_SZ)
		mem[i] = (uint8_t)i;
	pg_a.va = mem;
	pg_b.va = mem + PAGE_SZ;
	pg_c.va = mem + 2 * PAGE_SZ;
	pg_a.pa = virt_to_phys(pg_a.va);
	pg_b.pa = virt_to_phys(pg_b.va);
	pg_c.pa = virt_to_phys(pg_c.va);
	for (int i = 0; i < SPLIT_PAGES; i++) {
		split_pg[i].va = mem + (size_t)(3 + i) * PAGE_SZ;
		split_pg[i].pa = virt_to_phys(split_pg[i].va);
	}
	{
		bool ok = pg_a.pa && pg_b.pa && pg_c.pa && pg_a.pa != pg_b.pa &&
			  pg_b.pa != pg_c.pa && pg_a.pa != pg_c.pa && nr_ram > 0 &&
			  in_ram(pg_a.pa) && in_ram(pg_b.pa) && in_ram(pg_c.pa);

		result("pagemap-phys", ok,
		       "A 0x%" PRIx64 " B 0x%" PRIx64 " C 0x%" PRIx64 ", %d System RAM range(s), first [0x%"
		       PRIx64 ", 0x%" PRIx64 ")", pg_a.pa, pg_b.pa, pg_c.pa, nr_ram,
		       nr_ram > 0 ? ram[0].start : 0, nr_ram > 0 ? ram[0].end : 0);
		if (!ok)
			block_need(NEED_EDU, "pagemap-phys");
	}
}

/*
 * Before any driver owns the SMMU it is disabled (SMMU_CR0.SMMUEN = 0) and
 * QEMU applies SMMU_GBPA, whose reset value there is bypass (ABORT clear):
 * edu's DMA reaches memory untranslated. This proves the edu/pagemap
 * plumbing on its own, so later "did not arrive" results mean the SMMU
 * stopped it and not that the bench is broken.
 */
static void phase_before_module(void)
{
	char d[300];
	bool ok;

	if (!want("dma-before-module", NEED_EDU))
		return;
	ok = roundtrip(&pg_a, &pg_b, d, sizeof(d));
	result("dma-before-module", ok, "SMMU disabled, GBPA bypass: %s", d);
	if (!ok)
		block_need(NEED_PLUMB, "dma-before-module");
}

static struct pkvm_iommu_info info0;
static struct pkvm_iommu_smmu_info sinfo;

#define M	NEED_MOD
#define ME	(NEED_MOD | NEED_EDU)
#define MEI	(NEED_MOD | NEED_EDU | NEED_ISO)

/* Reports every named check as failed because of why (NULL-terminated). */
static void fail_blocked(const char *why, ...)
{
	const char *name;
	va_list ap;

	va_start(ap, why);
	while ((name = va_arg(ap, const char *)))
		result(name, false, "blocked: %s", why);
	va_end(ap);
}

static int unload_module(void)
{
	int r, tries = 0;

	/* A reference may linger for a moment after the last close. */
	while ((r = module_unload(MODULE_NAME)) == -EAGAIN || r == -EBUSY) {
		if (++tries > 300)	/* 30 s: TCG guests are slow */
			break;
		usleep(100000);
	}
	return r;
}

static void wait_bound(void)
{
	for (int i = 0; i < 1500 && strcmp(smmu_driver(), SMMU_DRIVER); i++)
		usleep(20000);	/* up to 30 s: TCG guests are slow */
}

static void phase_load(void)
{
	struct stat stbuf;
	int r;

	r = module_load(ko_path);
	result("module-load", !r, "insmod %s: %s", ko_path, r ? strerror(-r) : "loaded");
	if (r)
		block_need(NEED_MOD, "module-load");

	if (want("smmu-bound", M)) {
		/* Binding happens in the module's init; allow a deferred probe. */
		wait_bound();
		result("smmu-bound", !strcmp(smmu_driver(), SMMU_DRIVER), "%s driver '%s' (want %s)",
		       smmu_dev[0] ? strrchr(smmu_dev, '/') + 1 : "smmu", smmu_driver(), SMMU_DRIVER);
	}
	if (want("dev-node", M)) {
		r = stat(PKVM_IOMMU_DEVICE, &stbuf);
		result("dev-node", !r && S_ISCHR(stbuf.st_mode) && (stbuf.st_mode & 07777) == 0600 &&
		       stbuf.st_uid == 0, "%s: %s mode %04o uid %u", PKVM_IOMMU_DEVICE,
		       r ? strerror(errno) : S_ISCHR(stbuf.st_mode) ? "char device" : "not a char device",
		       r ? 0 : stbuf.st_mode & 07777, r ? 0 : stbuf.st_uid);
	}
	if (want("dev-open", M)) {
		dev_fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
		result("dev-open", dev_fd >= 0, "open %s: %s", PKVM_IOMMU_DEVICE,
		       dev_fd < 0 ? strerror(errno) : "read-write");
		if (dev_fd < 0)
			block_need(NEED_MOD, "dev-open");
	}
}

static void phase_info(void)
{
	uint64_t ram_total = 0;
	int r;

	if (want("info-ioctl", M)) {
		r = get_info(&info0);
		result("info-ioctl", !r && info0.size >= PKVM_IOMMU_INFO_SIZE_VER0, "%s, size %u",
		       errname(r), info0.size);
		if (r) {
			fail_blocked("info-ioctl", "info-abi-version", "info-backend", "info-nr-smmus",
				     "info-ias", "info-mem-bytes", NULL);
		} else {
			result("info-abi-version", info0.abi_version == PKVM_IOMMU_ABI_VERSION,
			       "abi_version %u, header %u", info0.abi_version, PKVM_IOMMU_ABI_VERSION);
			result("info-backend", info0.backend == PKVM_IOMMU_BACKEND_HOST,
			       "backend %u (host is %u)", info0.backend, PKVM_IOMMU_BACKEND_HOST);
			result("info-nr-smmus", info0.nr_smmus == 1, "nr_smmus %u", info0.nr_smmus);
			result("info-ias", info0.ias >= PKVM_S2_IAS_MIN && info0.ias <= PKVM_S2_IAS_MAX,
			       "ias %u, split_policy %u, generation %" PRIu64, info0.ias,
			       info0.split_policy, (uint64_t)info0.generation);
			for (int i = 0; i < nr_ram; i++)
				ram_total += ram[i].end - ram[i].start;
			result("info-mem-bytes", info0.mem_bytes > 0 && info0.mem_bytes <= ram_total &&
			       info0.mem_bytes >= ram_total / 2,
			       "mem_bytes 0x%" PRIx64 ", System RAM 0x%" PRIx64, (uint64_t)info0.mem_bytes,
			       ram_total);
		}
	} else {
		fail_blocked(blocker[0], "info-abi-version", "info-backend", "info-nr-smmus",
			     "info-ias", "info-mem-bytes", NULL);
	}

	if (!want("smmu-info-ioctl", M)) {
		fail_blocked(blocker[0], "smmu-info-base", "smmu-info-s2", "smmu-info-no-s1",
			     "smmu-info-sidsize", NULL);
		return;
	}
	memset(&sinfo, 0, sizeof(sinfo));
	sinfo.size = sizeof(sinfo);
	sinfo.index = 0;
	r = xioctl(dev_fd, PKVM_IOMMU_IOC_SMMU_INFO, &sinfo);
	result("smmu-info-ioctl", !r, "%s, idr0 0x%08x idr1 0x%08x idr3 0x%08x idr5 0x%08x, "
	       "features 0x%x oas %u bbml %u events %" PRIu64, errname(r), sinfo.idr[0], sinfo.idr[1],
	       sinfo.idr[3], sinfo.idr[5], sinfo.features, sinfo.oas, sinfo.bbml,
	       (uint64_t)sinfo.events);
	if (r) {
		fail_blocked("smmu-info-ioctl", "smmu-info-base", "smmu-info-s2", "smmu-info-no-s1",
			     "smmu-info-sidsize", NULL);
		return;
	}
	result("smmu-info-base", sinfo.base == SMMU_BASE, "base 0x%" PRIx64 " (virt: 0x%llx)",
	       (uint64_t)sinfo.base, SMMU_BASE);
	/* IDR0 bit 0 is S2P, bit 1 S1P. */
	result("smmu-info-s2", (sinfo.features & PKVM_IOMMU_FEAT_S2) && (sinfo.idr[0] & 1),
	       "features 0x%x, IDR0.S2P %u", sinfo.features, sinfo.idr[0] & 1);
	result("smmu-info-no-s1", !(sinfo.features & PKVM_IOMMU_FEAT_S1) && !(sinfo.idr[0] & 2),
	       "arm-smmuv3.stage=2: features 0x%x, IDR0.S1P %u", sinfo.features,
	       (sinfo.idr[0] >> 1) & 1);
	result("smmu-info-sidsize", sinfo.sidsize > 0 && sinfo.sidsize <= 32 &&
	       (!edu.path[0] || sinfo.sidsize == 32 || edu.sid < (1u << sinfo.sidsize)),
	       "sidsize %u (IDR1.SIDSIZE %u), edu sid 0x%x", sinfo.sidsize, sinfo.idr[1] & 0x3f,
	       edu.sid);
}

static void phase_genl(void)
{
	uint32_t group = 0;
	struct stats_reply sr = { 0 };
	struct pkvm_iommu_stats st;
	int r;

	if (!want("genl-family", M)) {
		block_need(NEED_GENL, blocker[0]);
		fail_blocked(blocker[0], "genl-stats", NULL);
		return;
	}
	r = genl_open(&ev_sock);
	if (!r)
		r = genl_open(&req_sock);
	if (!r)
		r = genl_resolve(&req_sock, PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS,
				 &family, &group);
	if (!r && !group)
		r = -ENOENT;
	if (!r)
		r = genl_subscribe(&ev_sock, group);
	result("genl-family", !r, "family '%s' id %u, group '%s' id %u: %s", PKVM_IOMMU_GENL_NAME,
	       family, PKVM_IOMMU_GENL_MCGRP_EVENTS, group, errname(-r));
	if (r) {
		block_need(NEED_GENL, "genl-family");
		fail_blocked("genl-family", "genl-stats", NULL);
		return;
	}
	r = genl_request(&req_sock, family, PKVM_IOMMU_CMD_STATS_GET, false, stats_cb, &sr, 2000);
	if (!r && sr.got && !get_stats(&st)) {
		bool same = sr.len == 8 * PKVM_IOMMU_STAT_NR;

		for (int i = 0; same && i < PKVM_IOMMU_STAT_NR; i++)
			same = sr.v[i] == st.counter[i];
		result("genl-stats", same, "STATS_GET: %u bytes, %s the ioctl's counters "
		       "(donate %" PRIu64 ", table_pages %" PRIu64 ", pool_free %" PRIu64 ")",
		       sr.len, same ? "equal to" : "differ from", sr.v[PKVM_IOMMU_STAT_DONATE],
		       sr.v[PKVM_IOMMU_STAT_TABLE_PAGES], sr.v[PKVM_IOMMU_STAT_POOL_FREE]);
	} else {
		result("genl-stats", false, "STATS_GET: %s, attribute %s", errname(-r),
		       sr.got ? "present" : "missing");
	}
}

static void phase_isolate(void)
{
	char d[300];
	uint32_t pol = 0xdead;
	int r;

	if (want("stream-default-block", ME)) {
		r = stream_get(edu.sid, &pol);
		result("stream-default-block", !r && pol == PKVM_STREAM_BLOCK,
		       "STREAM_GET sid 0x%x after load: %s, policy %u", edu.sid, errname(r), pol);
	}
	/* Only meaningful if the same DMA reached memory before the module. */
	if (want("dma-default-block", ME | NEED_PLUMB))
		result("dma-default-block", write_blocked(&pg_a, &pg_c, d, sizeof(d)),
		       "stream at its load-time policy: %s", d);

	if (want("stream-set-isolate", ME)) {
		events_reset();
		r = stream_set(edu.sid, PKVM_STREAM_ISOLATE);
		if (!r)
			r = stream_get(edu.sid, &pol);
		result("stream-set-isolate", !r && pol == PKVM_STREAM_ISOLATE,
		       "STREAM_SET/GET sid 0x%x: %s, policy %u", edu.sid, errname(r), pol);
		if (r || pol != PKVM_STREAM_ISOLATE)
			block_need(NEED_ISO, "stream-set-isolate");
	} else {
		block_need(NEED_ISO, "stream-set-isolate");
	}

	if (want("policy-event", MEI | NEED_GENL)) {
		const struct event *e = event_wait(match_policy, &edu.sid, EVENT_WAIT_MS);

		result("policy-event", e && e->has_policy && e->policy == PKVM_STREAM_ISOLATE,
		       "EVT_POLICY for sid 0x%x: %s", edu.sid,
		       e ? (e->has_policy ? (e->policy == PKVM_STREAM_ISOLATE ? "policy isolate"
					     : "wrong policy") : "no A_POLICY") : events_seen());
	}

	if (want("dma-isolate-works", MEI)) {
		events_reset();
		r = roundtrip(&pg_a, &pg_b, d, sizeof(d));
		result("dma-isolate-works", r, "through the shadow stage 2: %s%s%s", d,
		       r || blocked(NEED_GENL) ? "" : "; events: ",
		       r || blocked(NEED_GENL) ? "" : events_after(FAULT_WAIT_MS));
		if (!r)
			block_need(NEED_ISO, "dma-isolate-works");
	}
}

static void bad_args_check(const char *name, unsigned long req, struct pkvm_iommu_range *r,
			   int want1, int want2, const char *what);

static void phase_donate(void)
{
	struct pkvm_iommu_info before = { 0 }, after = { 0 };
	struct pkvm_iommu_stats st0, st1;
	struct range_match rm;
	struct fault_match fm;
	const struct event *e = NULL;
	const struct run *run;
	char d[300];
	int r;

	if (want("donate", ME)) {
		events_reset();
		get_info(&before);
		get_stats(&st0);
		r = range_op(PKVM_IOMMU_IOC_DONATE, pg_b.pa, PAGE_SZ, OWNER_TEST);
		get_info(&after);
		get_stats(&st1);
		result("donate", !r && after.generation > before.generation &&
		       st1.counter[PKVM_IOMMU_STAT_DONATE] == st0.counter[PKVM_IOMMU_STAT_DONATE] + 1,
		       "DONATE 0x%" PRIx64 "+0x1000 to owner %u: %s, generation %" PRIu64 "->%" PRIu64
		       ", donate counter %" PRIu64 "->%" PRIu64, pg_b.pa, OWNER_TEST, errname(r),
		       (uint64_t)before.generation, (uint64_t)after.generation,
		       (uint64_t)st0.counter[PKVM_IOMMU_STAT_DONATE],
		       (uint64_t)st1.counter[PKVM_IOMMU_STAT_DONATE]);
		if (r)
			block_need(NEED_DONATED, "donate");
	} else {
		block_need(NEED_DONATED, "donate");
	}

	if (want("donate-event", ME | NEED_DONATED | NEED_GENL)) {
		rm.cmd = PKVM_IOMMU_CMD_EVT_DONATE;
		rm.addr = pg_b.pa;
		e = event_wait(match_range_event, &rm, EVENT_WAIT_MS);
		result("donate-event", e && e->has_len && e->len == PAGE_SZ && e->has_owner &&
		       e->owner == OWNER_TEST && e->has_gen && e->gen == after.generation,
		       "EVT_DONATE addr 0x%" PRIx64 ": %s%s len 0x%" PRIx64 " owner %u generation %"
		       PRIu64 " (INFO says %" PRIu64 ")", pg_b.pa, e ? "received" : "missing; ",
		       e ? "," : events_seen(), e ? e->len : 0, e ? e->owner : 0, e ? e->gen : 0,
		       (uint64_t)after.generation);
	}

	if (want("ledger-donated", ME | NEED_DONATED | NEED_GENL)) {
		bool gen_ok = true;

		r = ledger_dump();
		for (int i = 0; i < nr_runs; i++)
			if (runs[i].has_gen && runs[i].gen != after.generation)
				gen_ok = false;
		run = r ? NULL : ledger_find(pg_b.pa);
		result("ledger-donated", run && run->owner == OWNER_TEST &&
		       run->addr + run->len >= pg_b.pa + PAGE_SZ && gen_ok,
		       "LEDGER_GET dump: %s, %d run(s); run holding 0x%" PRIx64 ": %s [0x%" PRIx64
		       ", +0x%" PRIx64 ") owner %u; generations %s", errname(r), nr_runs, pg_b.pa,
		       run ? "found" : "none", run ? run->addr : 0, run ? run->len : 0,
		       run ? run->owner : 0, gen_ok ? "match INFO" : "differ from INFO");
	}
	if (want("ledger-hyp", M | NEED_GENL)) {
		int hyp = -1;

		r = ledger_dump();
		for (int i = 0; i < nr_runs && hyp < 0; i++)
			if (runs[i].complete && runs[i].owner == PKVM_OWNER_HYP)
				hyp = i;
		result("ledger-hyp", !r && hyp >= 0, "LEDGER_GET: %s; pool/SMMU memory owned by the "
		       "hypervisor (1): %s [0x%" PRIx64 ", +0x%" PRIx64 ")", errname(r),
		       hyp >= 0 ? "run" : "no owner-1 run", hyp >= 0 ? runs[hyp].addr : 0,
		       hyp >= 0 ? runs[hyp].len : 0);
	}

	if (want("bad-double-donate", ME | NEED_DONATED)) {
		struct pkvm_iommu_range rg = { .size = sizeof(rg), .addr = pg_b.pa, .len = PAGE_SZ,
					       .owner = OWNER_TEST + 1 };

		bad_args_check("bad-double-donate", PKVM_IOMMU_IOC_DONATE, &rg, -1, -1,
			       "DONATE of a page already donated, to another owner");
	}

	if (want("dma-donated-blocked", MEI | NEED_DONATED)) {
		events_reset();
		r = write_blocked(&pg_a, &pg_b, d, sizeof(d));
		result("dma-donated-blocked", r, "%s", d);
	}
	if (want("fault-event", MEI | NEED_DONATED | NEED_GENL)) {
		fm.sid = edu.sid;
		fm.lo = pg_b.pa;
		fm.hi = pg_b.pa + PAGE_SZ;
		e = event_wait(match_fault, &fm, FAULT_WAIT_MS);
		result("fault-event", e != NULL, "EVT_FAULT sid 0x%x addr in [0x%" PRIx64
		       ", +0x1000) within %d ms: %s", edu.sid, pg_b.pa, FAULT_WAIT_MS,
		       e ? "received" : events_seen());
		if (!e)
			block_need(NEED_FAULT, "fault-event");
	} else {
		block_need(NEED_FAULT, "fault-event");
	}
	if (want("fault-type", NEED_FAULT))
		result("fault-type", e->has_type && (e->type == F_TRANSLATION || e->type == F_PERMISSION),
		       "type 0x%x (F_TRANSLATION 0x10 or F_PERMISSION 0x13), addr 0x%" PRIx64,
		       e->type, e->addr);
	if (want("fault-flags", NEED_FAULT))
		result("fault-flags", e->has_flags && (e->flags & 3) == 3,
		       "flags 0x%x: write %u, stage 2 %u", e->flags, e->flags & 1, (e->flags >> 1) & 1);

	if (want("reclaim", ME | NEED_DONATED)) {
		events_reset();
		before = after;
		get_stats(&st0);
		r = range_op(PKVM_IOMMU_IOC_RECLAIM, pg_b.pa, PAGE_SZ, OWNER_TEST);
		get_info(&after);
		get_stats(&st1);
		result("reclaim", !r && after.generation > before.generation &&
		       st1.counter[PKVM_IOMMU_STAT_RECLAIM] == st0.counter[PKVM_IOMMU_STAT_RECLAIM] + 1,
		       "RECLAIM 0x%" PRIx64 "+0x1000 from owner %u: %s, generation %" PRIu64 "->%"
		       PRIu64, pg_b.pa, OWNER_TEST, errname(r), (uint64_t)before.generation, (uint64_t)after.generation);
		if (r)
			block_need(NEED_DONATED, "reclaim");
	}
	if (want("reclaim-event", ME | NEED_DONATED | NEED_GENL)) {
		rm.cmd = PKVM_IOMMU_CMD_EVT_RECLAIM;
		rm.addr = pg_b.pa;
		e = event_wait(match_range_event, &rm, EVENT_WAIT_MS);
		result("reclaim-event", e && e->has_len && e->len == PAGE_SZ && e->has_gen &&
		       e->gen == after.generation && (!e->has_owner || e->owner == OWNER_TEST),
		       "EVT_RECLAIM addr 0x%" PRIx64 ": %s%s len 0x%" PRIx64 " generation %" PRIu64
		       " (INFO says %" PRIu64 ")", pg_b.pa, e ? "received" : "missing; ",
		       e ? "," : events_seen(), e ? e->len : 0, e ? e->gen : 0, (uint64_t)after.generation);
	}
	if (want("ledger-reclaimed", ME | NEED_DONATED | NEED_GENL)) {
		r = ledger_dump();
		run = ledger_find(pg_b.pa);
		result("ledger-reclaimed", !r && !run, "LEDGER_GET: %s, %d run(s), 0x%" PRIx64 " %s",
		       errname(r), nr_runs, pg_b.pa, run ? "still listed" : "host-owned again");
	}
	if (want("dma-after-reclaim", MEI | NEED_DONATED)) {
		r = roundtrip(&pg_a, &pg_b, d, sizeof(d));
		result("dma-after-reclaim", r, "%s", d);
	}
}

static void phase_split(void)
{
	struct pkvm_iommu_stats st0, st1, st2;
	struct page *don = NULL, *nbr = NULL;
	const bool presplit = info0.split_policy == PKVM_SPLIT_PRESPLIT;
	char d1[300], d2[300];
	int r;

	/* fold-counted expects the fold in the reclaim itself. */
	fold_mode_for("split", PKVM_FOLD_EAGER, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS);
	if (want("split-pair", ME)) {
		/*
		 * Two of our pages in one 2 MiB block that is all System RAM and
		 * holds no non-host run, so the shadow maps it with one block
		 * descriptor (or as part of a 1 GiB one) and a donation inside it
		 * must split.
		 */
		nr_runs = 0;
		if (!blocked(NEED_GENL) && ledger_dump())
			nr_runs = 0;
		for (int i = 0; i < SPLIT_PAGES && !don; i++) {
			uint64_t blk = split_pg[i].pa >> 21 << 21;
			bool whole = false;

			for (int k = 0; k < nr_ram; k++)
				if (blk >= ram[k].start && blk + (2u << 20) <= ram[k].end)
					whole = true;
			if (!split_pg[i].pa || !whole || ledger_touches(blk, blk + (2u << 20)))
				continue;
			for (int j = i + 1; j < SPLIT_PAGES; j++) {
				if (split_pg[j].pa && split_pg[j].pa >> 21 == split_pg[i].pa >> 21) {
					don = &split_pg[i];
					nbr = &split_pg[j];
					break;
				}
			}
		}
		blk_pg = don;
		result("split-pair", don != NULL, "%s 0x%" PRIx64 " and neighbour 0x%" PRIx64
		       " in 2 MiB block 0x%" PRIx64 " with no ledger run (%d runs)",
		       don ? "donate" : "no pair;", don ? don->pa : 0, nbr ? nbr->pa : 0,
		       don ? don->pa >> 21 << 21 : 0, nr_runs);
	}
	if (!don)
		block_need(NEED_PAIR, "split-pair");

	if (want("split-donate", ME | NEED_PAIR)) {
		get_stats(&st0);
		r = range_op(PKVM_IOMMU_IOC_DONATE, don->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st1);
		result("split-donate", !r, "DONATE 0x%" PRIx64 ": %s", don->pa, errname(r));
		if (r)
			block_need(NEED_SPLIT, "split-donate");
	} else {
		block_need(NEED_SPLIT, "split-donate");
	}
	if (want("split-counted", ME | NEED_PAIR | NEED_SPLIT)) {
		uint64_t ds = st1.counter[PKVM_IOMMU_STAT_SPLITS] - st0.counter[PKVM_IOMMU_STAT_SPLITS];

		result("split-counted", presplit || ds >= 1,
		       "split policy %u: splits +%" PRIu64 ", table_pages %" PRIu64 "->%" PRIu64
		       ", bbm_breaks +%" PRIu64, info0.split_policy, ds,
		       (uint64_t)st0.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
		       (uint64_t)st1.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
		       (uint64_t)(st1.counter[PKVM_IOMMU_STAT_BBM_BREAKS] -
				  st0.counter[PKVM_IOMMU_STAT_BBM_BREAKS]));
	}
	if (want("split-neighbour-dma", MEI | NEED_PAIR | NEED_SPLIT)) {
		/* Both directions: the neighbour as DMA source, then as target. */
		bool ok1 = roundtrip(nbr, &pg_c, d1, sizeof(d1));
		bool ok2 = roundtrip(&pg_a, nbr, d2, sizeof(d2));

		result("split-neighbour-dma", ok1 && ok2, "read: %s; write: %s", d1, d2);
	}
	if (want("split-donated-blocked", MEI | NEED_PAIR | NEED_SPLIT))
		result("split-donated-blocked", write_blocked(&pg_a, don, d1, sizeof(d1)), "%s", d1);

	if (want("split-reclaim", ME | NEED_PAIR | NEED_SPLIT)) {
		r = range_op(PKVM_IOMMU_IOC_RECLAIM, don->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st2);
		result("split-reclaim", !r, "RECLAIM 0x%" PRIx64 ": %s", don->pa, errname(r));
		if (r)
			block_need(NEED_SPLIT, "split-reclaim");
	}
	if (want("fold-counted", ME | NEED_PAIR | NEED_SPLIT)) {
		uint64_t df = st2.counter[PKVM_IOMMU_STAT_FOLDS] - st1.counter[PKVM_IOMMU_STAT_FOLDS];

		result("fold-counted", presplit || df >= 1,
		       "folds +%" PRIu64 ", table_pages %" PRIu64 "->%" PRIu64, df,
		       (uint64_t)st1.counter[PKVM_IOMMU_STAT_TABLE_PAGES],
		       (uint64_t)st2.counter[PKVM_IOMMU_STAT_TABLE_PAGES]);
	}
	if (want("dma-after-fold", MEI | NEED_PAIR | NEED_SPLIT)) {
		bool ok1 = roundtrip(&pg_a, don, d1, sizeof(d1));
		bool ok2 = roundtrip(&pg_a, nbr, d2, sizeof(d2));

		result("dma-after-fold", ok1 && ok2, "reclaimed: %s; neighbour: %s", d1, d2);
	}
}

static void phase_block(void)
{
	uint32_t pol = 0xdead;
	unsigned int loaded = 0, seed_x = 0, bad = 0;
	bool ok;
	char d[300];
	int r;

	if (want("stream-set-block", ME)) {
		/* With a known pattern in edu's buffer first, if DMA works at all. */
		if (!blocked(NEED_ISO) && roundtrip(&pg_a, &pg_b, d, sizeof(d)))
			loaded = next_seed - 1;
		r = stream_set(edu.sid, PKVM_STREAM_BLOCK);
		if (!r)
			r = stream_get(edu.sid, &pol);
		result("stream-set-block", !r && pol == PKVM_STREAM_BLOCK,
		       "STREAM_SET/GET sid 0x%x: %s, policy %u", edu.sid, errname(r), pol);
		if (r || pol != PKVM_STREAM_BLOCK)
			block_need(NEED_BLOCKED, "stream-set-block");
	} else {
		block_need(NEED_BLOCKED, "stream-set-block");
	}
	/*
	 * Write: edu -> C must not land. write_blocked() first has edu read A,
	 * freshly filled with pattern X, which the block must stop as well.
	 */
	if (want("dma-block-write", MEI | NEED_BLOCKED)) {
		result("dma-block-write", write_blocked(&pg_a, &pg_c, d, sizeof(d)), "%s", d);
		seed_x = next_seed - 1;
	}
	/*
	 * Read: with the stream isolated again, copy edu's buffer to C. It must
	 * not hold X. (QEMU fills the buffer with zeros when a read aborts, so
	 * "unchanged" is not required, only "did not get A's data".)
	 */
	if (want("dma-block-read", MEI | NEED_BLOCKED)) {
		r = stream_set(edu.sid, PKVM_STREAM_ISOLATE);
		fill_byte(&pg_c, 0x5a);
		if (!r)
			r = -edu_dma(&edu, pg_c.pa, 0, PAGE_SZ, true);
		ok = !r && seed_x && !has_pattern(&pg_c, seed_x, &bad);
		result("dma-block-read", ok, "edu buffer after a blocked read of 0x%" PRIx64
		       " (pattern %u): %s", pg_a.pa, seed_x, r ? errname(r) :
		       !ok ? "holds A's data: the read went through" :
		       loaded && has_pattern(&pg_c, loaded, &bad) ? "unchanged" :
		       pg_c.va[0] == 0 && pg_c.va[PAGE_SZ - 1] == 0 ? "zeros (QEMU's aborted read)" :
		       "something else, not A's data");
	}
	if (want("dma-reisolate-works", ME)) {
		r = stream_set(edu.sid, PKVM_STREAM_ISOLATE);
		if (!r)
			r = stream_get(edu.sid, &pol);
		ok = !r && pol == PKVM_STREAM_ISOLATE && roundtrip(&pg_a, &pg_b, d, sizeof(d));
		result("dma-reisolate-works", ok, "STREAM_SET isolate: %s, policy %u; %s", errname(r),
		       pol, r ? "" : d);
	}
	/* Every result above assumed the test pages never moved. */
	if (want("pagemap-stable", NEED_EDU)) {
		bool ok_all = pa_stable(&pg_a) && pa_stable(&pg_b) && pa_stable(&pg_c);

		for (int i = 0; i < SPLIT_PAGES; i++)
			ok_all = ok_all && pa_stable(&split_pg[i]);
		result("pagemap-stable", ok_all, "physical addresses of all %d test pages %s",
		       SPLIT_PAGES + 3, ok_all ? "unchanged" : "CHANGED: results above are void");
	}
}

/* Runs one refused range ioctl and checks errno and that nothing changed. */
static void bad_args_check(const char *name, unsigned long req, struct pkvm_iommu_range *rg,
			   int want1, int want2, const char *what)
{
	struct snap a, b;
	const char *diff;
	int e;
	bool ok;

	take_snap(&a, edu.sid);
	e = xioctl(dev_fd, req, rg);
	take_snap(&b, edu.sid);
	diff = snap_diff(&a, &b);
	ok = e && (want1 < 0 || e == want1 || e == want2) && !diff[0];
	result(name, ok, "%s: %s (want %s%s%s), %s%s; errors counter +%" PRIu64, what, errname(e),
	       want1 < 0 ? "an error" : errname(want1), want2 > 0 && want2 != want1 ? " or " : "",
	       want2 > 0 && want2 != want1 ? errname(want2) : "",
	       diff[0] ? "changed:" : "nothing changed", diff,
	       (uint64_t)(b.st.counter[PKVM_IOMMU_STAT_ERRORS] - a.st.counter[PKVM_IOMMU_STAT_ERRORS]));
}

static void phase_bad_args(void)
{
	struct pkvm_iommu_range rg;
	uint64_t hole_pa = 0;
	bool have_hole = false;
	const uint64_t page = pg_c.pa;

#define RANGE(a, l, o) (struct pkvm_iommu_range){ .size = sizeof(rg), .addr = (a), .len = (l), \
						   .owner = (o) }
	if (want("bad-unaligned-addr", ME)) {
		rg = RANGE(page + 1, PAGE_SZ, OWNER_TEST);
		bad_args_check("bad-unaligned-addr", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE addr page+1");
	}
	if (want("bad-unaligned-len", ME)) {
		rg = RANGE(page, 100, OWNER_TEST);
		bad_args_check("bad-unaligned-len", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE len 100");
	}
	if (want("bad-outside-ram", M)) {
		rg = RANGE(1ull << 48, PAGE_SZ, OWNER_TEST);
		bad_args_check("bad-outside-ram", PKVM_IOMMU_IOC_DONATE, &rg, ERANGE, ERANGE,
			       "DONATE 0x1000000000000+0x1000");
	}
	if (want("bad-ram-into-hole", M)) {
		/* The last page of a RAM range that the host owns, and the hole after. */
		nr_runs = 0;
		if (!blocked(NEED_GENL) && ledger_dump())
			nr_runs = 0;
		for (int i = nr_ram - 1; i >= 0 && !have_hole; i--) {
			uint64_t last = ram[i].end - PAGE_SZ;
			bool next_is_ram = false;

			for (int k = 0; k < nr_ram; k++)
				if (ram[k].start == ram[i].end)
					next_is_ram = true;
			if (!next_is_ram && !ledger_touches(last, ram[i].end)) {
				hole_pa = last;
				have_hole = true;
			}
		}
		if (have_hole) {
			char what[120];

			snprintf(what, sizeof(what), "DONATE 0x%" PRIx64 "+0x2000 (last RAM page, then hole)",
				 hole_pa);
			rg = RANGE(hole_pa, 2 * PAGE_SZ, OWNER_TEST);
			bad_args_check("bad-ram-into-hole", PKVM_IOMMU_IOC_DONATE, &rg, ERANGE, ERANGE,
				       what);
		} else {
			result("bad-ram-into-hole", false, "no host-owned last page of RAM before a hole");
		}
	}
	if (want("bad-huge-len", ME)) {
		rg = RANGE(page, ~0ull, OWNER_TEST);
		bad_args_check("bad-huge-len", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE len ~0");
	}
	if (want("bad-wrapping-len", ME)) {
		rg = RANGE(page, ~0ull << 12, OWNER_TEST);
		bad_args_check("bad-wrapping-len", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, ERANGE,
			       "DONATE page-aligned len 0xfffffffffffff000 (addr+len wraps)");
	}
	if (want("bad-size-small", ME)) {
		rg = RANGE(page, PAGE_SZ, OWNER_TEST);
		rg.size = PKVM_IOMMU_RANGE_SIZE_VER0 - 8;
		bad_args_check("bad-size-small", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE with size 24 < VER0 32");
	}
	if (want("bad-flags", ME)) {
		rg = RANGE(page, PAGE_SZ, OWNER_TEST);
		rg.flags = 1;
		bad_args_check("bad-flags", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE flags 1");
	}
	if (want("bad-reserved", ME)) {
		rg = RANGE(page, PAGE_SZ, OWNER_TEST);
		rg.reserved = 1;
		bad_args_check("bad-reserved", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE reserved 1");
	}
	if (want("bad-owner-host", ME)) {
		rg = RANGE(page, PAGE_SZ, PKVM_OWNER_HOST);
		bad_args_check("bad-owner-host", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE to owner 0 (the host)");
	}
	if (want("bad-owner-max", ME)) {
		rg = RANGE(page, PAGE_SZ, PKVM_OWNER_MAX + 1 + OWNER_TEST);
		bad_args_check("bad-owner-max", PKVM_IOMMU_IOC_DONATE, &rg, EINVAL, EINVAL,
			       "DONATE to owner 0x10002 (> PKVM_OWNER_MAX)");
	}
	if (want("bad-reclaim-host-page", ME)) {
		rg = RANGE(page, PAGE_SZ, OWNER_TEST);
		bad_args_check("bad-reclaim-host-page", PKVM_IOMMU_IOC_RECLAIM, &rg, -1, -1,
			       "RECLAIM of a page the host owns");
	}
#undef RANGE

	if (want("bad-info-size", M)) {
		struct pkvm_iommu_info in = { .size = 8 };
		int e = xioctl(dev_fd, PKVM_IOMMU_IOC_INFO, &in);

		result("bad-info-size", e == EINVAL, "INFO with size 8: %s (want EINVAL)", errname(e));
	}
	if (want("info-size-larger", M)) {
		struct {
			struct pkvm_iommu_info in;
			uint64_t extra;
		} big;
		int e;

		memset(&big, 0, sizeof(big));
		big.in.size = sizeof(big);
		e = xioctl(dev_fd, PKVM_IOMMU_IOC_INFO, &big);
		result("info-size-larger", !e && big.in.abi_version == PKVM_IOMMU_ABI_VERSION,
		       "INFO with size %zu, zero tail: %s, abi_version %u", sizeof(big), errname(e),
		       big.in.abi_version);
	}
	if (want("bad-smmu-index", M)) {
		struct pkvm_iommu_smmu_info si = { .size = sizeof(si), .index = 1 };
		int e = xioctl(dev_fd, PKVM_IOMMU_IOC_SMMU_INFO, &si);

		result("bad-smmu-index", e != 0, "SMMU_INFO index 1 of 1: %s", errname(e));
	}
	if (want("bad-stream-sid", ME)) {
		struct snap a, b;
		uint32_t sid = sinfo.sidsize >= 32 || !sinfo.sidsize ? 0xffffffffu : 1u << sinfo.sidsize;
		int e;

		take_snap(&a, edu.sid);
		e = stream_set(sid, PKVM_STREAM_ISOLATE);
		take_snap(&b, edu.sid);
		result("bad-stream-sid", e && !snap_diff(&a, &b)[0],
		       "STREAM_SET sid 0x%x (sidsize %u): %s, %s%s", sid, sinfo.sidsize, errname(e),
		       snap_diff(&a, &b)[0] ? "changed:" : "nothing changed", snap_diff(&a, &b));
	}
	if (want("bad-stream-policy", ME)) {
		struct snap a, b;
		int e;

		take_snap(&a, edu.sid);
		e = stream_set(edu.sid, 7);
		take_snap(&b, edu.sid);
		result("bad-stream-policy", e == EINVAL && !snap_diff(&a, &b)[0],
		       "STREAM_SET edu policy 7: %s (want EINVAL), %s%s", errname(e),
		       snap_diff(&a, &b)[0] ? "changed:" : "nothing changed", snap_diff(&a, &b));
	}

	if (blocked(ME)) {
		fail_blocked(blocker[0][0] ? blocker[0] : blocker[1], "nonroot-open", "nonroot-ioctl",
			     NULL);
	} else {
		/*
		 * A child drops to nobody: opening the node must be refused, and
		 * the root-opened descriptor it inherits must not work either.
		 */
		int pfd[2], res[3] = { -1, -1, -1 }, status = 0;
		struct snap a, b;
		pid_t pid = -1;

		take_snap(&a, edu.sid);
		fflush(stdout);
		if (!pipe(pfd))
			pid = fork();
		if (pid == 0) {
			struct pkvm_iommu_range r = { .size = sizeof(r), .addr = page, .len = PAGE_SZ,
						      .owner = OWNER_TEST };
			struct pkvm_iommu_stream s = { .size = sizeof(s), .sid = edu.sid,
						       .policy = PKVM_STREAM_BLOCK };
			int fd;

			close(pfd[0]);
			if (setgroups(0, NULL) || setgid(65534) || setuid(65534) || getuid() != 65534)
				_exit(3);
			fd = open(PKVM_IOMMU_DEVICE, O_RDWR);
			res[0] = fd < 0 ? errno : 0;
			res[1] = ioctl(dev_fd, PKVM_IOMMU_IOC_DONATE, &r) < 0 ? errno : 0;
			res[2] = ioctl(dev_fd, PKVM_IOMMU_IOC_STREAM_SET, &s) < 0 ? errno : 0;
			if (write(pfd[1], res, sizeof(res)) != sizeof(res))
				_exit(4);
			_exit(0);
		}
		if (pid > 0) {
			close(pfd[1]);
			if (read(pfd[0], res, sizeof(res)) != sizeof(res))
				res[0] = res[1] = res[2] = -1;
			close(pfd[0]);
			waitpid(pid, &status, 0);
		}
		take_snap(&b, edu.sid);
		result("nonroot-open", res[0] == EACCES || res[0] == EPERM,
		       "uid 65534 open %s: %s (child status 0x%x)", PKVM_IOMMU_DEVICE,
		       res[0] < 0 ? "child failed" : errname(res[0]), status);
		result("nonroot-ioctl", (res[1] == EPERM || res[1] == EACCES) &&
		       (res[2] == EPERM || res[2] == EACCES) && !snap_diff(&a, &b)[0],
		       "uid 65534 with a root-opened fd: DONATE %s, STREAM_SET block %s; %s%s",
		       res[1] < 0 ? "?" : errname(res[1]), res[2] < 0 ? "?" : errname(res[2]),
		       snap_diff(&a, &b)[0] ? "changed:" : "nothing changed", snap_diff(&a, &b));
	}
}

/* ------------------------------------------------------------------ */
/* Fold mode and idle compaction                                       */
/* ------------------------------------------------------------------ */

#define COMPACT_WAIT_MS	5000
#define STAT(st, id)	((uint64_t)(st).counter[PKVM_IOMMU_STAT_##id])

/* The check that the load's fold settings are in force, named name. */
static void fold_defaults_check(const char *name, const char *when)
{
	struct pkvm_iommu_fold f = { 0 };
	struct pkvm_iommu_stats st;
	int r = fold_read(&f), rs = get_stats(&st);

	result(name, !r && !rs && f.mode == PKVM_FOLD_LAZY &&
	       f.compact_budget == PKVM_IOMMU_FOLD_DEFAULT_BUDGET &&
	       f.idle_ms == PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS && STAT(st, FOLD_MODE) == PKVM_FOLD_LAZY,
	       "FOLD_READ %s: %s, mode %u budget %u idle %u ms (want 1/%u/%u); STATS: %s, "
	       "fold_mode %" PRIu64 " (want 1)", when, errname(r), f.mode, f.compact_budget,
	       f.idle_ms, PKVM_IOMMU_FOLD_DEFAULT_BUDGET, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS,
	       errname(rs), rs ? 0 : STAT(st, FOLD_MODE));
}

static void phase_fold_defaults(void)
{
	struct pkvm_iommu_fold f0 = { 0 }, f1 = { 0 };
	int r, rs;

	if (want("fold-read-defaults", M))
		fold_defaults_check("fold-read-defaults", "after load");
	if (want("fold-bad-input", M)) {
		/* One bad field each; the others valid and unlike those in force. */
		static const struct {
			const char *what;
			uint32_t flags, mode, budget, idle_ms, reserved;
		} bad[] = {
			{ "mode 2", 0, 2, 16, 50, 0 },
			{ "budget 0", 0, PKVM_FOLD_EAGER, 0, 50, 0 },
			{ "budget 4097", 0, PKVM_FOLD_EAGER, PKVM_IOMMU_COMPACT_MAX + 1, 50, 0 },
			{ "idle 600001 ms", 0, PKVM_FOLD_EAGER, 16, PKVM_IOMMU_FOLD_IDLE_MAX_MS + 1, 0 },
			{ "reserved 1", 0, PKVM_FOLD_EAGER, 16, 50, 1 },
			{ "flag 0x2", 1u << 1, PKVM_FOLD_EAGER, 16, 50, 0 },
		};
		char d[400];
		size_t n = 0;
		struct snap a, b;
		const char *diff;
		bool ok = true;

		r = fold_read(&f0);
		take_snap(&a, edu.sid);
		for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			int e = fold_io(bad[i].flags, bad[i].mode, bad[i].budget, bad[i].idle_ms,
					bad[i].reserved, NULL);

			ok = ok && e == EINVAL;
			n += (size_t)snprintf(d + n, sizeof(d) - n, "%s%s %s", i ? ", " : "",
					      bad[i].what, errname(e));
		}
		take_snap(&b, edu.sid);
		rs = fold_read(&f1);
		diff = snap_diff(&a, &b);
		result("fold-bad-input", ok && !r && !rs && f1.mode == f0.mode &&
		       f1.compact_budget == f0.compact_budget && f1.idle_ms == f0.idle_ms && !diff[0],
		       "%s (want EINVAL each); FOLD_READ mode/budget/idle %u/%u/%u -> %u/%u/%u, "
		       "%s%s", d, f0.mode, f0.compact_budget, f0.idle_ms, f1.mode,
		       f1.compact_budget, f1.idle_ms, diff[0] ? "changed:" : "nothing changed", diff);
	}
	/*
	 * The checks up to the split phase compare every counter around
	 * their calls: no compaction may run behind them. LAZY, never idle.
	 */
	fold_mode_for("donate", PKVM_FOLD_LAZY, 0);
}

/* The table's pages back at want, polled every 10 ms for up to ms. */
static bool table_back(uint64_t want_pages, int ms, struct pkvm_iommu_stats *st, uint64_t *took)
{
	uint64_t t0 = now_ms();
	bool back;

	for (;;) {
		back = !get_stats(st) && STAT(*st, TABLE_PAGES) == want_pages;
		*took = now_ms() - t0;
		if (back || *took >= (uint64_t)ms)
			return back;
		usleep(10000);
	}
}

/* After phase_split: its pair's block is a block again, the mode EAGER. */
static void phase_fold(void)
{
	struct pkvm_iommu_stats st0, st1, st2;
	uint64_t took = 0;
	int r, e1, e2;
	bool ok;

	if (want("fold-lazy-keeps-table", ME | NEED_PAIR)) {
		/* Idle for ten minutes: no compaction during the check. */
		r = fold_set(PKVM_FOLD_LAZY, PKVM_IOMMU_FOLD_IDLE_MAX_MS);
		get_stats(&st0);
		e1 = range_op(PKVM_IOMMU_IOC_DONATE, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		e2 = range_op(PKVM_IOMMU_IOC_RECLAIM, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st1);
		ok = !r && !e1 && !e2 && STAT(st1, TABLE_PAGES) > STAT(st0, TABLE_PAGES) &&
		     STAT(st1, COMPACTIONS) == STAT(st0, COMPACTIONS) &&
		     STAT(st1, FOLDS) == STAT(st0, FOLDS) && STAT(st1, FOLD_MODE) == PKVM_FOLD_LAZY;
		result("fold-lazy-keeps-table", ok, "FOLD lazy idle %u ms: %s; donate+reclaim 0x%"
		       PRIx64 ": %s/%s; table_pages %" PRIu64 "->%" PRIu64 " (want more), folds +%"
		       PRIu64 ", compactions +%" PRIu64 " (want 0 each), fold_mode %" PRIu64,
		       PKVM_IOMMU_FOLD_IDLE_MAX_MS, errname(r), blk_pg->pa, errname(e1), errname(e2),
		       STAT(st0, TABLE_PAGES), STAT(st1, TABLE_PAGES),
		       STAT(st1, FOLDS) - STAT(st0, FOLDS),
		       STAT(st1, COMPACTIONS) - STAT(st0, COMPACTIONS), STAT(st1, FOLD_MODE));
		if (!ok)
			block_need(NEED_LAZY, "fold-lazy-keeps-table");
	} else {
		block_need(NEED_LAZY, "fold-lazy-keeps-table");
	}

	if (want("fold-idle-compacts", ME | NEED_PAIR | NEED_LAZY)) {
		/* Another change after the new idle time: it is what arms the compaction. */
		r = fold_set(PKVM_FOLD_LAZY, 20);
		e1 = range_op(PKVM_IOMMU_IOC_DONATE, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		e2 = range_op(PKVM_IOMMU_IOC_RECLAIM, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		ok = table_back(STAT(st0, TABLE_PAGES), COMPACT_WAIT_MS, &st2, &took);
		result("fold-idle-compacts", ok && !r && !e1 && !e2 &&
		       STAT(st2, COMPACTIONS) > STAT(st1, COMPACTIONS) &&
		       STAT(st2, COMPACT_FOLDS) > STAT(st1, COMPACT_FOLDS),
		       "FOLD lazy idle 20 ms: %s; donate+reclaim: %s/%s; table_pages %" PRIu64
		       " after %" PRIu64 " ms (want %" PRIu64 " within %d ms); compactions +%"
		       PRIu64 ", compact_folds +%" PRIu64 " (want more each)", errname(r),
		       errname(e1), errname(e2), STAT(st2, TABLE_PAGES), took,
		       STAT(st0, TABLE_PAGES), COMPACT_WAIT_MS,
		       STAT(st2, COMPACTIONS) - STAT(st1, COMPACTIONS),
		       STAT(st2, COMPACT_FOLDS) - STAT(st1, COMPACT_FOLDS));
	}

	if (want("fold-eager", ME | NEED_PAIR)) {
		r = fold_set(PKVM_FOLD_EAGER, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS);
		get_stats(&st0);
		e1 = range_op(PKVM_IOMMU_IOC_DONATE, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st1);
		e2 = range_op(PKVM_IOMMU_IOC_RECLAIM, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st2);
		result("fold-eager", !r && !e1 && !e2 &&
		       STAT(st1, TABLE_PAGES) > STAT(st0, TABLE_PAGES) &&
		       STAT(st2, TABLE_PAGES) == STAT(st0, TABLE_PAGES) &&
		       STAT(st2, FOLDS) > STAT(st1, FOLDS) &&
		       STAT(st2, COMPACTIONS) == STAT(st0, COMPACTIONS) &&
		       STAT(st2, FOLD_MODE) == PKVM_FOLD_EAGER,
		       "FOLD eager: %s; donate: %s, table_pages %" PRIu64 "->%" PRIu64
		       "; reclaim: %s, table_pages %" PRIu64 " (want %" PRIu64 " at once), folds +%"
		       PRIu64 ", compactions +%" PRIu64 " (want 0), fold_mode %" PRIu64, errname(r),
		       errname(e1), STAT(st0, TABLE_PAGES), STAT(st1, TABLE_PAGES), errname(e2),
		       STAT(st2, TABLE_PAGES), STAT(st0, TABLE_PAGES),
		       STAT(st2, FOLDS) - STAT(st1, FOLDS),
		       STAT(st2, COMPACTIONS) - STAT(st0, COMPACTIONS), STAT(st2, FOLD_MODE));
	}
	/* The batch, block and bad-argument phases count syncs and compare counters. */
	fold_mode_for("batch", PKVM_FOLD_LAZY, 0);
}

/* ------------------------------------------------------------------ */
/* Invalidation batching                                               */
/* ------------------------------------------------------------------ */

static int inval_set(uint32_t max, uint32_t window, struct pkvm_iommu_invalidation *out)
{
	struct pkvm_iommu_invalidation k = { .size = sizeof(k), .batch_max_ops = max,
					     .batch_window_us = window };
	int e = xioctl(dev_fd, PKVM_IOMMU_IOC_INVALIDATION, &k);

	if (out)
		*out = k;
	return e;
}

static int batch(struct pkvm_iommu_op *ops, uint32_t nr, uint32_t *done)
{
	struct pkvm_iommu_batch b = { .size = sizeof(b), .nr = nr, .done = 0xdead,
				      .ops = (uintptr_t)ops };
	int e = xioctl(dev_fd, PKVM_IOMMU_IOC_BATCH, &b);

	*done = b.done;
	return e;
}

static uint64_t stat_delta(const struct pkvm_iommu_stats *a, const struct pkvm_iommu_stats *b,
			   int id)
{
	return b->counter[id] - a->counter[id];
}

#define GROUP_PROCS 4
#define GROUP_ROUNDS 100

/*
 * Children that each donate and reclaim their own page GROUP_ROUNDS times,
 * starting at the same moment, through the single-change ioctls: with a
 * window their changes must share syncs, and none may wait forever while
 * the others keep the queue busy. Returns how many changes failed.
 */
static int group_commit_run(void)
{
	int go[2], res[2], bad = 0;
	pid_t pid[GROUP_PROCS];

	if (pipe(go) || pipe(res))
		return 2 * GROUP_PROCS * GROUP_ROUNDS;
	fflush(stdout);
	for (int i = 0; i < GROUP_PROCS; i++) {
		pid[i] = fork();
		if (pid[i] == 0) {
			char c;
			int n = 0;

			close(go[1]);
			if (read(go[0], &c, 1) != 1)
				_exit(1);
			for (int k = 0; k < GROUP_ROUNDS; k++) {
				n += !!range_op(PKVM_IOMMU_IOC_DONATE, split_pg[i].pa, PAGE_SZ,
						OWNER_TEST);
				n += !!range_op(PKVM_IOMMU_IOC_RECLAIM, split_pg[i].pa, PAGE_SZ,
						OWNER_TEST);
			}
			_exit(n > 255 ? 255 : n);
		}
	}
	close(go[0]);
	/* One byte each, at once: every child runs its donation together. */
	if (write(go[1], "gggg", GROUP_PROCS) != GROUP_PROCS)
		bad = 2 * GROUP_PROCS * GROUP_ROUNDS;
	close(go[1]);
	close(res[0]);
	close(res[1]);
	for (int i = 0; i < GROUP_PROCS; i++) {
		int status = 0;

		if (pid[i] < 0 || waitpid(pid[i], &status, 0) < 0 || !WIFEXITED(status))
			bad += 2 * GROUP_ROUNDS;
		else
			bad += WEXITSTATUS(status);
	}
	return bad;
}

static void phase_batch(void)
{
	struct pkvm_iommu_stats st0, st1;
	struct pkvm_iommu_invalidation iv;
	struct pkvm_iommu_op ops[4];
	uint32_t done = 0;
	char d[300];
	int r;

	if (want("invalidation-config", M)) {
		int e1 = inval_set(0, 0, &iv), e2, e3;
		uint32_t m0 = iv.batch_max_ops, w0 = iv.batch_window_us;

		e2 = inval_set(PKVM_IOMMU_BATCH_MAX + 1, 0, NULL);
		e3 = inval_set(64, 0, &iv);
		result("invalidation-config", !e1 && m0 == 1 && w0 == 0 && e2 == EINVAL && !e3 &&
		       iv.batch_max_ops == 64 && iv.batch_window_us == 0,
		       "INVALIDATION read: %s, %u ops / %u us (want 1/0); %u ops: %s (want EINVAL); "
		       "64 ops: %s, now %u/%u", errname(e1), m0, w0, PKVM_IOMMU_BATCH_MAX + 1,
		       errname(e2), errname(e3), iv.batch_max_ops, iv.batch_window_us);
	}

	if (want("batch-one-sync", ME)) {
		ops[0] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_b.pa, PAGE_SZ, 0, 0 };
		ops[1] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST + 1, pg_c.pa, PAGE_SZ, 0, 0 };
		ops[2] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, OWNER_TEST + 1, pg_c.pa, PAGE_SZ, 0, 0 };
		get_stats(&st0);
		r = batch(ops, 3, &done);
		get_stats(&st1);
		result("batch-one-sync", !r && done == 3 &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_DONATE) == 2 &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_RECLAIM) == 1 &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS) == 1,
		       "BATCH donate B, donate C, reclaim C: %s, done %u; donate +%" PRIu64
		       " reclaim +%" PRIu64 " syncs +%" PRIu64 " (want 1)", errname(r), done,
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_DONATE),
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_RECLAIM),
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS));
		if (r || done != 3)
			block_need(NEED_DONATED, "batch-one-sync");
	}
	if (want("dma-batch-donated-blocked", MEI)) {
		r = write_blocked(&pg_a, &pg_b, d, sizeof(d));
		result("dma-batch-donated-blocked", r, "%s", d);
	}

	if (want("batch-refusal", ME)) {
		ops[0] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, OWNER_TEST, pg_b.pa, PAGE_SZ, 0, 0 };
		ops[1] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_b.pa, PAGE_SZ, 0, 0 };
		ops[2] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_b.pa, PAGE_SZ, 0, 0 };
		ops[3] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_c.pa, PAGE_SZ, 0, 0 };
		r = batch(ops, 4, &done);
		result("batch-refusal", r == EEXIST && done == 2 && ops[0].result == 0 &&
		       ops[1].result == 0 && ops[2].result == -EEXIST &&
		       ops[3].result == -ECANCELED,
		       "BATCH reclaim B, donate B, donate B again, donate C: %s (want EEXIST), "
		       "done %u (want 2), results %d %d %d %d", errname(r), done, ops[0].result,
		       ops[1].result, ops[2].result, ops[3].result);
	}
	if (want("dma-batch-still-blocked", MEI)) {
		r = write_blocked(&pg_a, &pg_c, d, sizeof(d));
		/* C was never donated by the refused batch: DMA to it works. */
		r = !r && roundtrip(&pg_a, &pg_c, d, sizeof(d));
		r = r && write_blocked(&pg_a, &pg_b, d, sizeof(d));
		result("dma-batch-still-blocked", r, "B donated by the batch's second change, "
		       "C untouched by the refused rest: %s", d);
	}
	if (want("batch-groups", ME)) {
		inval_set(2, 0, NULL);
		ops[0] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, OWNER_TEST, pg_b.pa, PAGE_SZ, 0, 0 };
		ops[1] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_c.pa, PAGE_SZ, 0, 0 };
		ops[2] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_RECLAIM, OWNER_TEST, pg_c.pa, PAGE_SZ, 0, 0 };
		ops[3] = (struct pkvm_iommu_op){ PKVM_IOMMU_OP_DONATE, OWNER_TEST, pg_c.pa, PAGE_SZ, 0, 0 };
		get_stats(&st0);
		r = batch(ops, 4, &done);
		get_stats(&st1);
		r = r || range_op(PKVM_IOMMU_IOC_RECLAIM, pg_c.pa, PAGE_SZ, OWNER_TEST);
		result("batch-groups", !r && done == 4 &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS) == 2,
		       "batch_max_ops 2, BATCH of 4 changes: %s, done %u, syncs +%" PRIu64
		       " (want 2)", errname(r), done, stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS));
	}
	if (want("group-commit", ME)) {
		const uint64_t changes = 2 * GROUP_PROCS * GROUP_ROUNDS;
		uint64_t t0, ms;
		int bad;

		inval_set(64, 2000, NULL);
		get_stats(&st0);
		t0 = now_ms();
		bad = group_commit_run();
		ms = now_ms() - t0;
		get_stats(&st1);
		result("group-commit", !bad &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_DONATE) == GROUP_PROCS * GROUP_ROUNDS &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_RECLAIM) == GROUP_PROCS * GROUP_ROUNDS &&
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS) < changes / 2,
		       "%d processes x %d donate+reclaim of their own page, window 2 ms: %d "
		       "failed in %" PRIu64 " ms; donate +%" PRIu64 " reclaim +%" PRIu64
		       ", syncs +%" PRIu64 " (want fewer than %" PRIu64 ")", GROUP_PROCS,
		       GROUP_ROUNDS, bad, ms, stat_delta(&st0, &st1, PKVM_IOMMU_STAT_DONATE),
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_RECLAIM),
		       stat_delta(&st0, &st1, PKVM_IOMMU_STAT_SYNCS), changes / 2);
	}
	if (want("dma-after-batches", MEI)) {
		r = roundtrip(&pg_a, &pg_b, d, sizeof(d)) && roundtrip(&pg_a, &split_pg[0], d, sizeof(d));
		result("dma-after-batches", r, "%s", d);
	}
	inval_set(1, 0, NULL);
}

static void phase_reload(void)
{
	char d[300];
	uint32_t pol = 0xdead;
	uint16_t fam2 = 0;
	struct stat stbuf;
	int r;

	if (want("fold-pending-at-unload", ME | NEED_PAIR)) {
		struct pkvm_iommu_stats st0, st1;
		int e1, e2;

		/* The minimal table (EAGER folds all), then the load's defaults. */
		r = fold_set(PKVM_FOLD_EAGER, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS);
		if (!r)
			r = fold_set(PKVM_FOLD_LAZY, PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS);
		get_stats(&st0);
		e1 = range_op(PKVM_IOMMU_IOC_DONATE, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		e2 = range_op(PKVM_IOMMU_IOC_RECLAIM, blk_pg->pa, PAGE_SZ, OWNER_TEST);
		get_stats(&st1);
		result("fold-pending-at-unload", !r && !e1 && !e2 &&
		       STAT(st1, TABLE_PAGES) > STAT(st0, TABLE_PAGES) &&
		       STAT(st1, COMPACTIONS) == STAT(st0, COMPACTIONS),
		       "FOLD eager then lazy idle %u ms: %s; donate+reclaim: %s/%s; table_pages %"
		       PRIu64 "->%" PRIu64 ": a compaction is due when rmmod runs, which must "
		       "cancel it", PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS, errname(r), errname(e1),
		       errname(e2), STAT(st0, TABLE_PAGES), STAT(st1, TABLE_PAGES));
	}
	if (want("module-unload", M)) {
		genl_close(&ev_sock);
		genl_close(&req_sock);
		close(dev_fd);
		dev_fd = -1;
		r = unload_module();
		result("module-unload", !r, "rmmod %s: %s", MODULE_NAME, r ? strerror(-r) : "unloaded");
		if (r)
			block_need(NEED_UNLOADED, "module-unload");
	} else {
		block_need(NEED_UNLOADED, "module-unload");
	}
	if (want("unload-clean", NEED_UNLOADED)) {
		struct genl_sock s = { .fd = -1 };
		int g = genl_open(&s);
		bool node, sysmod;

		if (!g)
			g = genl_resolve(&s, PKVM_IOMMU_GENL_NAME, NULL, &fam2, NULL);
		genl_close(&s);
		node = stat(PKVM_IOMMU_DEVICE, &stbuf) == 0;
		sysmod = access("/sys/module/" MODULE_NAME, F_OK) == 0;
		result("unload-clean", !node && !sysmod && !smmu_driver()[0] && g == -ENOENT,
		       "%s %s, /sys/module/%s %s, SMMU driver '%s', genl family %s",
		       PKVM_IOMMU_DEVICE, node ? "still there" : "gone", MODULE_NAME,
		       sysmod ? "still there" : "gone", smmu_driver(),
		       g == -ENOENT ? "gone" : "still resolvable");
	}

	if (want("module-reload", NEED_UNLOADED)) {
		r = module_load(ko_path);
		if (!r) {
			wait_bound();
			dev_fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
		}
		result("module-reload", !r && dev_fd >= 0, "insmod %s: %s; open: %s", ko_path,
		       r ? strerror(-r) : "loaded", dev_fd >= 0 ? "ok" : strerror(errno));
		if (r || dev_fd < 0)
			block_need(NEED_RELOADED, "module-reload");
	} else {
		block_need(NEED_RELOADED, "module-reload");
	}
	if (want("info-after-reload", NEED_RELOADED)) {
		struct pkvm_iommu_info in;

		r = get_info(&in);
		result("info-after-reload", !r && in.abi_version == PKVM_IOMMU_ABI_VERSION &&
		       in.nr_smmus == 1 && !strcmp(smmu_driver(), SMMU_DRIVER),
		       "INFO: %s, abi %u, nr_smmus %u, SMMU driver '%s'", errname(r),
		       r ? 0 : in.abi_version, r ? 0 : in.nr_smmus, smmu_driver());
	}
	if (want("fold-after-reload", NEED_RELOADED))
		fold_defaults_check("fold-after-reload", "after reload (the defaults again)");
	if (want("stream-after-reload", NEED_RELOADED | NEED_EDU)) {
		r = stream_get(edu.sid, &pol);
		result("stream-after-reload", !r && pol == PKVM_STREAM_BLOCK,
		       "STREAM_GET edu after reload: %s, policy %u (block again)", errname(r), pol);
	}
	if (want("dma-after-reload", NEED_RELOADED | NEED_EDU)) {
		bool ok = false;

		r = stream_set(edu.sid, PKVM_STREAM_ISOLATE);
		if (!r)
			ok = roundtrip(&pg_a, &pg_b, d, sizeof(d));
		result("dma-after-reload", ok, "STREAM_SET isolate: %s; %s", errname(r), r ? "" : d);
	}
	if (want("module-unload-final", NEED_RELOADED)) {
		close(dev_fd);
		dev_fd = -1;
		r = unload_module();
		result("module-unload-final", !r, "rmmod %s: %s", MODULE_NAME,
		       r ? strerror(-r) : "unloaded (the kmemleak scan in /init follows)");
	}
}

int main(int argc, char **argv)
{
	uint64_t t0 = now_ms();

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (argc > 1)
		ko_path = argv[1];
	if (getuid() != 0)
		fprintf(stderr, "pkvm-guest-test: not root, most checks will fail\n");
	printf("pkvm-guest-test: module %s\n", ko_path);

	phase_platform();
	phase_before_module();
	phase_load();
	phase_info();
	phase_genl();
	phase_fold_defaults();
	phase_isolate();
	phase_donate();
	phase_split();
	phase_fold();
	phase_batch();
	phase_block();
	phase_bad_args();
	phase_reload();

	printf("pkvm-guest-test: %.1f s\n", (double)(now_ms() - t0) / 1000.0);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
