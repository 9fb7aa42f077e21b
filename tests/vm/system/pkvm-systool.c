// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-systool: the vm_system checks' own guest actions, for a page that
 * stays donated while the daemon is restarted and while it reads a fault
 * (../daemon/pkvm-dtool's pages are reclaimed within the same command, and
 * the daemon's D-Bus Donate needs its test mode).
 *
 *   pkvm-systool hold OWNER  lock one page, donate it to OWNER by ioctl,
 *                            print its physical address, wait for
 *                            SIGTERM/SIGINT, reclaim it; exit 0 when both
 *                            ioctls succeeded
 *   pkvm-systool dma PA      edu DMAs 64 bytes of its buffer into PA
 *
 * Static aarch64 binary built with ../guest/hw.c.
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

static volatile sig_atomic_t stop;
static void on_signal(int sig) { stop = 1; }

static int range_op(int fd, unsigned long req, uint64_t pa, uint32_t owner)
{
	struct pkvm_iommu_range r = { .size = sizeof(r), .addr = pa, .len = PAGE_SZ,
				      .owner = owner };

	return ioctl(fd, req, &r) ? -errno : 0;
}

static int cmd_hold(uint32_t owner)
{
	struct sigaction sa = { .sa_handler = on_signal };
	void *p;
	uint64_t pa;
	int fd, r;

	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED | MAP_POPULATE, -1, 0);
	if (p == MAP_FAILED) {
		perror("pkvm-systool: mmap");
		return 1;
	}
	pa = virt_to_phys(p);
	fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);
	if (!pa || fd < 0) {
		fprintf(stderr, "pkvm-systool: %s\n", !pa ? "no physical address" : strerror(errno));
		return 1;
	}
	r = range_op(fd, PKVM_IOMMU_IOC_DONATE, pa, owner);
	if (r) {
		fprintf(stderr, "pkvm-systool: DONATE 0x%" PRIx64 ": %s\n", pa, strerror(-r));
		return 1;
	}
	printf("0x%" PRIx64 "\n", pa);
	fflush(stdout);
	while (!stop)
		pause();
	r = range_op(fd, PKVM_IOMMU_IOC_RECLAIM, pa, owner);
	printf("reclaim 0x%" PRIx64 ": %s\n", pa, r ? strerror(-r) : "ok");
	return r ? 1 : 0;
}

static int cmd_dma(const char *arg)
{
	char err[256] = "not found";
	struct edu edu;
	uint64_t pa;
	char *end;
	int r;

	errno = 0;
	pa = strtoull(arg, &end, 0);
	if (errno || *end || !pa || pa % PAGE_SZ) {
		fprintf(stderr, "pkvm-systool: '%s' is not a page address\n", arg);
		return 2;
	}
	if (edu_find(&edu) || edu_open(&edu, err, sizeof(err))) {
		fprintf(stderr, "pkvm-systool: edu: %s\n", err);
		return 1;
	}
	/* 64 bytes: a few beats, so a few fault records, not an event storm. */
	r = edu_dma(&edu, pa, 0, 64, true);
	printf("dma of 64 bytes to 0x%" PRIx64 " by sid %u: %s\n", pa, edu.sid,
	       r ? strerror(-r) : "done");
	return r ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 3 && !strcmp(argv[1], "hold"))
		return cmd_hold((uint32_t)strtoul(argv[2], NULL, 0));
	if (argc == 3 && !strcmp(argv[1], "dma"))
		return cmd_dma(argv[2]);
	fprintf(stderr, "usage: pkvm-systool hold OWNER | dma PA\n");
	return 2;
}
