// SPDX-License-Identifier: GPL-2.0
/*
 * edu DMA against one page frame, for the pKVM shadow's pVM check
 * (pvm-check.sh): does the SMMU let the host's device read a page pKVM
 * gave to a protected guest?
 *
 * usage: edu-probe isolate          edu's stream through the shadow
 *        edu-probe read PA          one DMA read of the page at PA
 *
 * "read" fills the edu buffer from a host page of 0xa5, then DMAs the page
 * at PA into the buffer and the buffer into a zeroed host page, and counts
 * the SMMU's event records (SMMU_INFO) until they move or 2 s pass, and
 * the module's FAULT events for that page (generic netlink):
 *   edu-probe pa=0x.. rc=R events=+E content=fill|zero|data faults=F type=0x..
 * fill or zero: the read did not bring the page's bytes; data: it did.
 * type is the first FAULT's SMMU event type (0x10 F_TRANSLATION).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

#include "genl.h"
#include "hw.h"

struct faults {
	uint64_t pa;
	unsigned int nr;
	uint32_t type;
};

static void fault_cb(const struct genl_msg *m, void *arg)
{
	struct faults *f = arg;
	uint64_t addr;
	uint32_t type;

	if (m->cmd != PKVM_IOMMU_CMD_EVT_FAULT ||
	    !genl_u64(m, PKVM_IOMMU_A_ADDR, &addr) || (addr & ~(uint64_t)(PAGE_SZ - 1)) != f->pa)
		return;
	if (!f->nr++ && genl_u32(m, PKVM_IOMMU_A_FAULT_TYPE, &type))
		f->type = type;
}

static int smmu_events(int fd, uint64_t *events)
{
	struct pkvm_iommu_smmu_info si = { .size = sizeof(si), .index = 0 };

	if (ioctl(fd, PKVM_IOMMU_IOC_SMMU_INFO, &si))
		return -errno;
	*events = si.events;
	return 0;
}

static void *host_page(int fill)
{
	void *p = mmap(NULL, PAGE_SZ, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_LOCKED, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memset(p, fill, PAGE_SZ);
	return p;
}

static const char *content(const uint8_t *p)
{
	size_t i, fill = 0, zero = 0;

	for (i = 0; i < PAGE_SZ; i++) {
		fill += p[i] == 0xa5;
		zero += p[i] == 0;
	}
	return fill == PAGE_SZ ? "fill" : zero == PAGE_SZ ? "zero" : "data";
}

int main(int argc, char **argv)
{
	char err[256] = "";
	struct edu edu;
	uint64_t pa, e0 = 0, e1 = 0;
	struct genl_sock ev = { .fd = -1 }, req = { .fd = -1 };
	struct faults f = { 0 };
	uint16_t family = 0;
	uint32_t group = 0;
	uint8_t *src, *dst;
	int fd, rc, i;

	if (argc < 2)
		return 2;
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
		printf("edu-probe isolate sid=0x%x rc=%d\n", edu.sid, rc);
		return rc ? 1 : 0;
	}
	if (strcmp(argv[1], "read") || argc < 3)
		return 2;
	pa = strtoull(argv[2], NULL, 0);
	f.pa = pa;
	/* Without the family the event count alone tells. */
	if (!genl_open(&ev) && !genl_open(&req) &&
	    !genl_resolve(&req, PKVM_IOMMU_GENL_NAME, PKVM_IOMMU_GENL_MCGRP_EVENTS, &family, &group) &&
	    group)
		genl_subscribe(&ev, group);
	src = host_page(0xa5);
	dst = host_page(0);
	if (!src || !dst)
		return 1;
	smmu_events(fd, &e0);
	rc = edu_dma(&edu, virt_to_phys(src), 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(&edu, pa, 0, PAGE_SZ, false);
	if (!rc)
		rc = edu_dma(&edu, virt_to_phys(dst), 0, PAGE_SZ, true);
	/* The module drains the event queue on its own: a bounded wait. */
	for (i = 0; i < 20; i++) {
		smmu_events(fd, &e1);
		if (e1 != e0)
			break;
		usleep(100 * 1000);
	}
	/* The FAULT events of this page, until 200 ms of silence. */
	while (ev.fd >= 0 && group && genl_recv(&ev, family, fault_cb, &f, 200) > 0)
		;
	printf("edu-probe pa=0x%" PRIx64 " rc=%d events=+%" PRIu64 " content=%s faults=%u type=0x%x\n",
	       pa, rc, e1 - e0, content(dst), f.nr, f.type);
	return 0;
}
