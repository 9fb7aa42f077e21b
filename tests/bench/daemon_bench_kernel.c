// SPDX-License-Identifier: GPL-2.0
/*
 * Ingest rate of pkvm-iommud's core on the kernel backend (see
 * daemon_bench_kernel.h). One thread plays both sides: the ioctls a test-mode
 * client would make, and the daemon's event loop taking the netlink events
 * they produce.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "backend_kernel.h"
#include "daemon.h"
#include "daemon_bench_kernel.h"
#include "macro.h"

/*
 * ioctls between two drains of the event socket. The daemon's event loop
 * would wake as soon as events wait; a fixed batch stands in for that and
 * keeps the socket far below what its 4 MiB receive buffer holds (about
 * 10 000 event skbs), so any resync in a run is a real loss, not the bench's.
 */
#define BATCH		256u
#define SETTLE_MS	5000	/* the last events must arrive within this */

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

__attribute__((format(printf, 4, 5)))
static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* Physical address of a resident page from /proc/self/pagemap; 0 if hidden. */
static uint64_t phys_of(int pagemap, const void *va)
{
	uint64_t e;
	off_t off = (off_t)((uintptr_t)va / LEDGER_PAGE_SIZE * sizeof(e));

	if (pread(pagemap, &e, sizeof(e), off) != (ssize_t)sizeof(e))
		return 0;
	if (!(e >> 63 & 1))
		return 0;
	/* PFN bits 0..54; zero for a reader without CAP_SYS_ADMIN. */
	return (e & ((1ull << 55) - 1)) * LEDGER_PAGE_SIZE;
}

/* Locked pages that stay where they are for the whole run. */
static int pages_get(uint64_t *pa, void **map, char *err, size_t errlen)
{
	size_t len = KERNEL_BENCH_PAGES * LEDGER_PAGE_SIZE;
	int fd, ret = 0;

	*map = mmap(NULL, len, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (*map == MAP_FAILED) {
		*map = NULL;
		return fail(err, errlen, -errno, "mmap of %u locked pages: %s",
			    KERNEL_BENCH_PAGES, strerror(errno));
	}
	memset(*map, 0, len);
	fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(err, errlen, -errno, "/proc/self/pagemap: %s", strerror(errno));
	for (unsigned int i = 0; i < KERNEL_BENCH_PAGES && !ret; i++) {
		pa[i] = phys_of(fd, (char *)*map + i * LEDGER_PAGE_SIZE);
		if (!pa[i])
			ret = fail(err, errlen, -EPERM,
				   "/proc/self/pagemap: no physical address (need root)");
	}
	close(fd);
	return ret;
}

/* Takes events until the ledger reached generation `until` or SETTLE_MS passed. */
static int settle(struct daemon *d, uint64_t until, double *ingest_s)
{
	struct pollfd p = { .fd = d->backend->ops->event_fd(d->backend), .events = POLLIN };
	double deadline = now() + SETTLE_MS / 1000.0;

	while (ledger_generation(d->ledger) < until) {
		double t, left = deadline - now();
		int ret;

		if (left <= 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)(left * 1000) + 1) < 0 && errno != EINTR)
			return -errno;
		t = now();
		ret = daemon_ingest(d);
		*ingest_s += now() - t;
		if (ret)
			return ret;
	}
	return 0;
}

static int run(struct daemon *d, uint64_t events, struct kernel_ingest *out,
	       char *err, size_t errlen)
{
	uint64_t pa[KERNEL_BENCH_PAGES], ingested0, donated = 0;
	struct pkvm_iommu_info info;
	void *map = NULL;
	double t0;
	int ret;

	ret = pages_get(pa, &map, err, errlen);
	if (ret)
		goto out;
	/* The ledger as the daemon starts it: a dump, not counted as a resync. */
	ret = daemon_resync(d);
	if (ret) {
		fail(err, errlen, ret, "LEDGER_GET dump: %s", strerror(-ret));
		goto out;
	}
	d->ctr.resyncs = d->ctr.lost_pages = 0;
	ingested0 = d->ctr.events_ingested;

	t0 = now();
	for (uint64_t i = 0; i < events; i++) {
		enum pkvm_iommu_op_code op = i & 1 ? PKVM_IOMMU_OP_RECLAIM : PKVM_IOMMU_OP_DONATE;
		uint64_t addr = pa[i / 2 % KERNEL_BENCH_PAGES];

		ret = daemon_range(d, op, addr, LEDGER_PAGE_SIZE, PKVM_OWNER_GUEST_FIRST);
		if (ret) {
			fail(err, errlen, ret, "%s %s 0x%" PRIx64 " (change %" PRIu64 "): %s",
			     PKVM_IOMMU_DEVICE, op == PKVM_IOMMU_OP_DONATE ? "DONATE" : "RECLAIM",
			     addr, i, strerror(-ret));
			goto out;
		}
		donated = op == PKVM_IOMMU_OP_DONATE ? addr : 0;
		if ((i + 1) % BATCH == 0) {
			double t = now();

			ret = daemon_ingest(d);
			out->ingest_seconds += now() - t;
			if (ret) {
				fail(err, errlen, ret, "ingest: %s", strerror(-ret));
				goto out;
			}
		}
	}
	ret = d->backend->ops->info(d->backend, &info);
	if (ret) {
		fail(err, errlen, ret, "%s: PKVM_IOMMU_IOC_INFO: %s", PKVM_IOMMU_DEVICE,
		     strerror(-ret));
		goto out;
	}
	ret = settle(d, info.generation, &out->ingest_seconds);
	out->seconds = now() - t0;
	if (ret) {
		fail(err, errlen, ret, "ledger never reached generation %" PRIu64
		     " (at %" PRIu64 "): %s", (uint64_t)info.generation, ledger_generation(d->ledger),
		     strerror(-ret));
		goto out;
	}
	out->events = events;
	out->ingested = d->ctr.events_ingested - ingested0;
	out->resyncs = d->ctr.resyncs;
	ret = daemon_check_ledger(d, &out->in_sync, &out->runs, &out->generation);
	if (ret)
		fail(err, errlen, ret, "CheckLedger: %s", strerror(-ret));
out:
	/* An error between a donate and its reclaim: do not hand a donated page back. */
	if (donated)
		d->backend->ops->range(d->backend, PKVM_IOMMU_OP_RECLAIM, donated, LEDGER_PAGE_SIZE,
				       PKVM_OWNER_GUEST_FIRST);
	if (map)
		munmap(map, KERNEL_BENCH_PAGES * LEDGER_PAGE_SIZE);
	return ret;
}

int bench_ingest_kernel(uint64_t events, struct kernel_ingest *out, char *err, size_t errlen)
{
	char why[256] = "";
	struct backend_kernel_options o = { .errbuf = why, .errbuf_len = sizeof(why) };
	_cleanup_(daemon_freep) struct daemon *d = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	if (!events || events % 2)
		return fail(err, errlen, -EINVAL,
			    "--events %" PRIu64 ": must be even and positive on the kernel backend "
			    "(every donation is reclaimed)", events);
	ret = daemon_new(&d, NULL, NULL);
	if (ret)
		return fail(err, errlen, ret, "ledger: %s", strerror(-ret));
	d->test_mode = true;
	ret = backend_kernel_open(&d->backend, &o);
	if (ret) {
		const char *hint = backend_kernel_strerror_hint(ret);

		return fail(err, errlen, ret, "%s%s%s", why[0] ? why : strerror(-ret),
			    *hint ? "; " : "", hint);
	}
	return run(d, events, out, err, errlen);
}

/* Never inf or nan: JSON has neither. */
static double rate(uint64_t n, double seconds)
{
	return seconds > 0 ? (double)n / seconds : 0;
}

int bench_kernel_main(uint64_t events, bool json)
{
	struct kernel_ingest r;
	char err[512] = "";
	int ret = bench_ingest_kernel(events, &r, err, sizeof(err));

	if (ret) {
		fprintf(stderr, "pkvm-iommud-bench: ingest on the kernel backend: %s\n", err);
		return ret == -EINVAL ? 2 : 1;
	}
	if (json) {
		printf("{\"workload\":\"ingest-kernel\",\"ops\":%" PRIu64 ",\"seconds\":%.6f,"
		       "\"ops_per_s\":%.0f,\"ingest_seconds\":%.6f,\"ingest_ops_per_s\":%.0f,"
		       "\"ingested\":%" PRIu64 ",\"resyncs\":%" PRIu64 ",\"ledger_equals_dump\":%s,"
		       "\"ledger_runs\":%" PRIu64 ",\"generation\":%" PRIu64 "}\n",
		       r.events, r.seconds, rate(r.events, r.seconds), r.ingest_seconds,
		       rate(r.ingested, r.ingest_seconds), r.ingested, r.resyncs,
		       r.in_sync ? "true" : "false", r.runs, r.generation);
	} else {
		printf("%-14s %10s %10s %12s\n", "workload", "ops", "seconds", "ops/s");
		/* End to end: the ioctls' own time (hyp, SMMU invalidation) included. */
		printf("%-14s %10" PRIu64 " %10.4f %12.0f\n", "ingest-kernel", r.events, r.seconds,
		       rate(r.events, r.seconds));
		/* The daemon's share: draining the socket, parsing, ledger_apply. */
		printf("%-14s %10" PRIu64 " %10.4f %12.0f\n", "  in daemon", r.ingested,
		       r.ingest_seconds, rate(r.ingested, r.ingest_seconds));
		printf("ledger %s the kernel's dump (%" PRIu64 " runs, generation %" PRIu64
		       "); ingested %" PRIu64 " of %" PRIu64 " events; %" PRIu64 " resyncs\n",
		       r.in_sync ? "equals" : "DIFFERS FROM", r.runs, r.generation, r.ingested,
		       r.events, r.resyncs);
	}
	if (!r.in_sync) {
		fprintf(stderr, "pkvm-iommud-bench: the ledger differs from the kernel's dump\n");
		return 1;
	}
	return 0;
}
