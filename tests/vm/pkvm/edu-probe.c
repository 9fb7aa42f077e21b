// SPDX-License-Identifier: GPL-2.0
/*
 * edu's DMA through the pKVM shadow, for the vm_pkvm suite (guest-test):
 * can the host's device reach a page frame, and does the SMMU say why not?
 *
 * usage: edu-probe raw            DMA between pages of ours, no module needed
 *        edu-probe isolate        edu's stream through the shadow
 *        edu-probe read PA...     one DMA read of each page at PA
 *        edu-probe host           DMA out of and into pages of our own
 *        edu-probe loop SECONDS   host-page DMAs until SIGTERM or SECONDS
 *
 * "read" preloads edu's buffer with 0x3c, DMAs the page at PA into it and
 * the buffer into a zeroed page of ours, then waits for the verdict of the
 * SMMU: a 4-byte "marker" DMA from PA 0 (never RAM, so never mapped by the
 * shadow) must come back as a FAULT event, and since the event queue and
 * the netlink socket are both in order, every fault of the read has arrived
 * by then. The marker is retried (bounded) because a refused 4 KiB read
 * fills the 128-record event queue, which then drops the marker's record.
 *   edu-probe op=read pa=0x.. rc=R content=fill|zero|data word=0x..
 *             faults=F type=0x.. other=O marker=ok|lost nobufs=N
 * fill: nothing was read; zero: zeroes arrived (QEMU zero-fills the buffer
 * of an aborted read, and a poisoned page is zero too); data: anything
 * else. word is the first 8 bytes that arrived, faults the FAULT events of
 * the page at PA, type the first one's SMMU event number (0x10
 * F_TRANSLATION), other the faults of any other page but the marker's.
 *
 * "host" fills page A with a fresh pattern, DMAs A into edu and edu into a
 * zeroed page B, and waits for the marker as above:
 *   edu-probe op=host a=0x.. b=0x.. rc=R match=0|1 faults=F marker=ok|lost
 * "loop" does the same with a new pattern every round, for a background
 * load beside VM creation; it prints "edu-loop start" and, at the end,
 *   edu-loop rounds=N good=G bad=B errors=E seconds=S
 *
 * "raw" runs before the module is loaded (no /dev/pkvm-iommu, no events):
 * page A gets a fresh pattern, page B a fill of 0xa5, then A -> edu -> B.
 *   edu-probe op=raw a=0x.. b=0x.. rc=R arrived=0|1 untouched=0|1
 * arrived: B holds A's pattern; untouched: B still holds only its fill,
 * so nothing of edu's buffer reached it either.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "genl.h"
#include "hw.h"

#define PRELOAD		0x3c
#define RAW_FILL	0xa5
#define MARKER_PA	0ull
#define MARKER_TRIES	20
/* SMMUv3 event number of a translation fault (IHI 0070, 7.3 event records). */
#define EVT_F_TRANSLATION	0x10

struct faults {
	uint64_t pa;		/* the page judged; ~0 for none */
	unsigned int nr, other, marker;
	uint32_t type;
};

struct events {
	struct genl_sock sock;
	uint16_t family;
	uint32_t group;
	unsigned int nobufs;
};

static void fault_cb(const struct genl_msg *m, void *arg)
{
	struct faults *f = arg;
	uint64_t addr, page;
	uint32_t type;

	if (m->cmd != PKVM_IOMMU_CMD_EVT_FAULT || !genl_u64(m, PKVM_IOMMU_A_ADDR, &addr))
		return;
	if (!genl_u32(m, PKVM_IOMMU_A_FAULT_TYPE, &type))
		type = 0;
	page = addr & ~(uint64_t)(PAGE_SZ - 1);
	/* Only a translation fault at the marker's address is the marker. */
	if (page == MARKER_PA && type == EVT_F_TRANSLATION) {
		f->marker++;
	} else if (page == f->pa) {
		if (!f->nr++)
			f->type = type;
	} else {
		f->other++;
	}
}

static int events_open(struct events *ev)
{
	struct genl_sock req = { .fd = -1 };
	int r;

	ev->sock.fd = -1;
	r = genl_open(&req);
	if (!r)
		r = genl_resolve(&req, PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS,
				 &ev->family, &ev->group);
	genl_close(&req);
	if (!r && !ev->group)
		r = -ENOENT;
	if (!r)
		r = genl_open(&ev->sock);
	if (!r) {
		/*
		 * A refused page is 128 FAULT events (a full event queue) in
		 * one burst: room for several, so a probe loses none.
		 */
		int rcvbuf = 4 << 20;

		(void)setsockopt(ev->sock.fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
		r = genl_subscribe(&ev->sock, ev->group);
	}
	return r;
}

/* Every event until timeout_ms of silence; counts lost datagrams. */
static void events_drain(struct events *ev, struct faults *f, int timeout_ms)
{
	int r;

	while ((r = genl_recv(&ev->sock, ev->family, fault_cb, f, timeout_ms)) != 0)
		if (r == -ENOBUFS)
			ev->nobufs++;
		else if (r < 0)
			break;
}

/*
 * The barrier: marker DMAs until one's FAULT arrives. True when it did;
 * the faults before it are in f by then.
 */
static bool events_barrier(struct edu *edu, struct events *ev, struct faults *f)
{
	for (int i = 0; i < MARKER_TRIES; i++) {
		unsigned int seen = f->marker;

		if (edu_dma(edu, MARKER_PA, 0, 4, false))
			return false;
		events_drain(ev, f, 300);
		if (f->marker != seen)
			return true;
	}
	return false;
}

static void *page_alloc(int fill)
{
	void *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, PAGE_SZ);
	return p;
}

static const char *content(const uint8_t *p)
{
	size_t i, fill = 0, zero = 0;

	for (i = 0; i < PAGE_SZ; i++) {
		fill += p[i] == PRELOAD;
		zero += p[i] == 0;
	}
	return fill == PAGE_SZ ? "fill" : zero == PAGE_SZ ? "zero" : "data";
}

static int probe_read(struct edu *edu, struct events *ev, uint64_t pa, uint8_t *pre, uint8_t *dst)
{
	struct faults f = { .pa = pa };
	uint64_t word;
	bool marker;
	int rc;

	memset(dst, 0, PAGE_SZ);
	/* Stale events of an earlier step must not count for this page. */
	events_drain(ev, &f, 50);
	f = (struct faults){ .pa = pa };
	rc = edu_dma(edu, virt_to_phys(pre), 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(edu, pa, 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(edu, virt_to_phys(dst), 0, PAGE_SZ, true);
	marker = events_barrier(edu, ev, &f);
	memcpy(&word, dst, sizeof(word));
	printf("edu-probe op=read pa=0x%" PRIx64 " rc=%d content=%s word=0x%016" PRIx64
	       " faults=%u type=0x%x other=%u marker=%s nobufs=%u\n",
	       pa, rc, content(dst), word, f.nr, f.type, f.other, marker ? "ok" : "lost",
	       ev->nobufs);
	return rc;
}

/* A round of the host-page check: pattern seed into a, a -> edu -> b. */
static int host_round(struct edu *edu, uint64_t *a, uint64_t *b, uint64_t seed, bool *match)
{
	int rc;

	for (size_t i = 0; i < PAGE_SZ / 8; i++)
		a[i] = seed * 0x9e3779b97f4a7c15ull + i;
	memset(b, 0, PAGE_SZ);
	rc = edu_dma(edu, virt_to_phys(a), 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(edu, virt_to_phys(b), 0, PAGE_SZ, true);
	*match = !rc && !memcmp(a, b, PAGE_SZ);
	return rc;
}

static int raw(struct edu *edu)
{
	uint64_t *a = page_alloc(0), *b = page_alloc(RAW_FILL);
	const uint8_t *bb = (const uint8_t *)b;
	bool arrived, untouched = true;
	int rc;

	if (!a || !b)
		return 1;
	for (size_t i = 0; i < PAGE_SZ / 8; i++)
		a[i] = ((uint64_t)time(NULL) ^ (uint64_t)getpid() << 32) * 0x9e3779b97f4a7c15ull + i;
	rc = edu_dma(edu, virt_to_phys(a), 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(edu, virt_to_phys(b), 0, PAGE_SZ, true);
	arrived = !rc && !memcmp(a, b, PAGE_SZ);
	for (size_t i = 0; i < PAGE_SZ; i++)
		untouched &= bb[i] == RAW_FILL;
	printf("edu-probe op=raw a=0x%" PRIx64 " b=0x%" PRIx64 " rc=%d arrived=%d untouched=%d\n",
	       virt_to_phys(a), virt_to_phys(b), rc, arrived, untouched);
	return rc ? 1 : 0;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
	stop = 1;
}

static int loop(struct edu *edu, long seconds)
{
	struct sigaction sa = { .sa_handler = on_stop };
	uint64_t *a = page_alloc(0), *b = page_alloc(0);
	unsigned long rounds = 0, good = 0, bad = 0, errors = 0;
	time_t t0 = time(NULL);

	if (!a || !b)
		return 1;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	printf("edu-loop start pid=%d\n", (int)getpid());
	fflush(stdout);
	while (!stop && time(NULL) - t0 < seconds) {
		bool match;
		int rc = host_round(edu, a, b, ++rounds, &match);

		errors += rc != 0;
		good += match;
		bad += !rc && !match;
	}
	printf("edu-loop rounds=%lu good=%lu bad=%lu errors=%lu seconds=%ld\n", rounds, good, bad,
	       errors, (long)(time(NULL) - t0));
	return 0;
}

int main(int argc, char **argv)
{
	char err[256] = "";
	struct edu edu;
	struct events ev = { .sock = { .fd = -1 } };
	int fd, rc = 0;

	if (argc < 2)
		return 2;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[1], "raw")) {
		if (edu_find(&edu) || edu_open(&edu, err, sizeof(err))) {
			printf("edu-probe error: %s %s\n", strerror(errno), err);
			return 1;
		}
		return raw(&edu);
	}
	fd = open("/dev/pkvm-iommu", O_RDWR);
	if (fd < 0 || edu_find(&edu) || edu_open(&edu, err, sizeof(err))) {
		printf("edu-probe error: %s %s\n", strerror(errno), err);
		return 1;
	}
	if (!strcmp(argv[1], "isolate")) {
		struct pkvm_iommu_stream s = { .size = sizeof(s), .smmu = 0,
					       .sid = edu.sid,
					       .policy = PKVM_STREAM_ISOLATE };

		rc = ioctl(fd, PKVM_IOMMU_IOC_STREAM_SET, &s) ? -errno : 0;
		printf("edu-probe op=isolate sid=0x%x rc=%d\n", edu.sid, rc);
		return rc ? 1 : 0;
	}
	if (!strcmp(argv[1], "loop") && argc == 3)
		return loop(&edu, strtol(argv[2], NULL, 0));
	rc = events_open(&ev);
	if (rc) {
		printf("edu-probe error: events: %s\n", strerror(-rc));
		return 1;
	}
	if (!strcmp(argv[1], "read") && argc >= 3) {
		uint8_t *pre = page_alloc(PRELOAD), *dst = page_alloc(0);

		if (!pre || !dst)
			return 1;
		for (int i = 2; i < argc; i++)
			if (probe_read(&edu, &ev, strtoull(argv[i], NULL, 0), pre, dst))
				rc = 1;
		return rc;
	}
	if (!strcmp(argv[1], "host")) {
		uint64_t *a = page_alloc(0), *b = page_alloc(0);
		struct faults f = { .pa = ~0ull };
		unsigned int nr;
		bool match, marker;

		if (!a || !b)
			return 1;
		events_drain(&ev, &f, 50);
		f = (struct faults){ .pa = virt_to_phys(a) };
		rc = host_round(&edu, a, b, (uint64_t)time(NULL), &match);
		marker = events_barrier(&edu, &ev, &f);
		nr = f.nr;
		/* b's faults are among "other": a and b are the only pages DMA'd. */
		printf("edu-probe op=host a=0x%" PRIx64 " b=0x%" PRIx64
		       " rc=%d match=%d faults=%u marker=%s\n", virt_to_phys(a),
		       virt_to_phys(b), rc, match, nr + f.other, marker ? "ok" : "lost");
		return rc ? 1 : 0;
	}
	return 2;
}
