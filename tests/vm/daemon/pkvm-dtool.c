// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-dtool: the guest-side actions of the VM daemon test (guest-test in
 * this folder), each one command, so that the daemon under test only sees
 * what the module reports through its netlink events.
 *
 *   pkvm-dtool hold         lock one page, print its physical address, and
 *                           wait (SIGTERM/SIGINT ends it): a page the test can
 *                           donate through the daemon's D-Bus Donate
 *   pkvm-dtool fault        donate a page by ioctl, have edu DMA into it (the
 *                           SMMU refuses: fault events), reclaim it; prints
 *                           whether the write was blocked
 *   pkvm-dtool burst N      N donate + N reclaim ioctls of one page, as fast
 *                           as possible (2N events for the daemon)
 *
 * Static aarch64 binary built with ../guest/hw.c; exit 0 on success.
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
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "hw.h"

#define OWNER_TEST 2u

static int dev_fd = -1;

static int range_op(unsigned long req, uint64_t addr, uint64_t len, uint32_t owner)
{
	struct pkvm_iommu_range r = { .size = sizeof(r), .addr = addr, .len = len,
				      .owner = owner };

	return ioctl(dev_fd, req, &r) ? -errno : 0;
}

/* One locked, populated page and its physical address. */
static void *page_get(uint64_t *pa)
{
	void *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);

	if (p == MAP_FAILED) {
		perror("pkvm-dtool: mmap");
		exit(1);
	}
	memset(p, 0, PAGE_SZ);
	*pa = virt_to_phys(p);
	if (!*pa) {
		fprintf(stderr, "pkvm-dtool: no physical address (pagemap)\n");
		exit(1);
	}
	return p;
}

static void dev_open(void)
{
	dev_fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
	if (dev_fd < 0) {
		perror("pkvm-dtool: " PKVM_IOMMU_DEVICE);
		exit(1);
	}
}

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = 1; }

static int cmd_hold(void)
{
	uint64_t pa;
	struct sigaction sa = { .sa_handler = on_signal };

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	page_get(&pa);
	printf("0x%" PRIx64 "\n", pa);
	fflush(stdout);
	while (!stop)
		pause();
	return 0;
}

static int cmd_fault(void)
{
	struct edu edu;
	char err[256] = "not found";
	uint64_t pa_src, pa_dst;
	uint8_t *src = page_get(&pa_src), *dst = page_get(&pa_dst);
	int r, r2, blocked;

	if (edu_find(&edu) || edu_open(&edu, err, sizeof(err))) {
		fprintf(stderr, "pkvm-dtool: edu: %s\n", err);
		return 1;
	}
	dev_open();
	memset(src, 0x5a, PAGE_SZ);
	/* The source page into edu's buffer: works while the stream isolates. */
	r = edu_dma(&edu, pa_src, 0, 64, false);
	if (r) {
		fprintf(stderr, "pkvm-dtool: DMA in: %s\n", strerror(-r));
		return 1;
	}
	r = range_op(PKVM_IOMMU_IOC_DONATE, pa_dst, PAGE_SZ, OWNER_TEST);
	if (r) {
		fprintf(stderr, "pkvm-dtool: DONATE 0x%" PRIx64 ": %s\n", pa_dst, strerror(-r));
		return 1;
	}
	/* 64 bytes: a few beats, so a few fault records, not an event storm. */
	r = edu_dma(&edu, pa_dst, 0, 64, true);
	blocked = dst[0] != 0x5a;
	r2 = range_op(PKVM_IOMMU_IOC_RECLAIM, pa_dst, PAGE_SZ, OWNER_TEST);
	printf("fault: donated 0x%" PRIx64 ", edu write %s (dma %s), reclaim %s\n", pa_dst,
	       blocked ? "blocked" : "LANDED", r ? strerror(-r) : "done",
	       r2 ? strerror(-r2) : "ok");
	return blocked && !r2 ? 0 : 1;
}

static int cmd_burst(long n)
{
	uint64_t pa;
	long i;
	int r;

	page_get(&pa);
	dev_open();
	for (i = 0; i < n; i++) {
		r = range_op(PKVM_IOMMU_IOC_DONATE, pa, PAGE_SZ, OWNER_TEST);
		if (!r)
			r = range_op(PKVM_IOMMU_IOC_RECLAIM, pa, PAGE_SZ, OWNER_TEST);
		if (r) {
			fprintf(stderr, "pkvm-dtool: burst %ld: %s\n", i, strerror(-r));
			return 1;
		}
	}
	printf("burst: %ld donate/reclaim pairs of 0x%" PRIx64 "\n", n, pa);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "hold"))
		return cmd_hold();
	if (argc == 2 && !strcmp(argv[1], "fault"))
		return cmd_fault();
	if (argc == 3 && !strcmp(argv[1], "burst") && atol(argv[2]) > 0)
		return cmd_burst(atol(argv[2]));
	fprintf(stderr, "usage: pkvm-dtool hold | fault | burst N\n");
	return 2;
}
