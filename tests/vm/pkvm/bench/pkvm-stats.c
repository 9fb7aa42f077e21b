// SPDX-License-Identifier: GPL-2.0
/*
 * pkvm-stats: every counter of the hyp core (PKVM_IOMMU_IOC_STATS), one
 * line each, "pkvm-stat idx=I value=V", for bench-shadow.sh. Indices, not
 * names: the host side names them from uapi/linux/pkvm_iommu.h, so a
 * counter appended to enum pkvm_iommu_stat needs no change here.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/pkvm_iommu.h>

int main(void)
{
	struct pkvm_iommu_stats st = { .size = sizeof(st) };
	int fd = open(PKVM_IOMMU_DEVICE, O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		fprintf(stderr, "pkvm-stats: %s: %s\n", PKVM_IOMMU_DEVICE, strerror(errno));
		return 1;
	}
	if (ioctl(fd, PKVM_IOMMU_IOC_STATS, &st)) {
		fprintf(stderr, "pkvm-stats: PKVM_IOMMU_IOC_STATS: %s\n", strerror(errno));
		close(fd);
		return 1;
	}
	close(fd);
	for (uint32_t i = 0; i < st.nr && i < PKVM_IOMMU_STAT_NR; i++)
		printf("pkvm-stat idx=%" PRIu32 " value=%llu\n", i,
		       (unsigned long long)st.counter[i]);
	return 0;
}
