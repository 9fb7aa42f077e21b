// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's iommufd probe (daemon/iommufd.c) as a tiny static program for
 * the VM bench, in a boot where the kernel's own arm-smmu-v3 driver owns the
 * SMMU and a device (edu) is bound to vfio-pci with its cdev in
 * /dev/vfio/devices. It lives below guest/, out of the top-level guest/ sources that
 * build-guest.sh compiles into guest-test, because it is its own binary.
 *
 * usage: iommufd-probe [DEV_IOMMU [VFIO_DIR] [EXPECT_DEVICES]]
 * Output, in the guest test's format:
 *   ok - iommufd-hw-info: vfio0 idr0=0x... bbml=2 ril=1 s1=0 s2=1 gran=4k,16k,64k oas=44
 *   ok - iommufd-status: ok: 1 device(s)
 *   ok - iommufd-auto-split: hitless
 *   N passed, M failed
 * Exit 0 when every line is "ok". With EXPECT_DEVICES, fewer SMMUv3 reports
 * than that is a failure (a bench that bound edu expects 1).
 *
 * Build (aarch64, static; the ioctls come from daemon/iommufd_abi.h):
 *   aarch64-linux-gnu-gcc -static -std=gnu11 -O2 -D_GNU_SOURCE \
 *     -Iuapi -Isim -Ikmod/hyp -Idaemon -o iommufd-probe \
 *     tests/vm/guest/iommufd/iommufd-probe.c daemon/iommufd.c \
 *     kmod/hyp/smmu_probe.c
 */
#include <stdio.h>
#include <stdlib.h>

#include "iommufd.h"
#include "smmu_probe.h"

static unsigned int passed, failed;

static void check(bool ok, const char *name, const char *detail)
{
	printf("%s - %s: %s\n", ok ? "ok" : "not ok", name, detail);
	if (ok)
		passed++;
	else
		failed++;
}

/*
 * smmu_probe() in kmod/hyp/smmu_probe.c reads MMIO through hyp_readl(),
 * which the simulation provides in sim/mmio.c; this program only decodes
 * values the kernel reports, so it links a stand-in instead of the sim.
 */
u32 hyp_readl(const volatile void *addr)
{
	(void)addr;
	abort();
}

int main(int argc, char **argv)
{
	const char *dev_iommu = argc > 1 ? argv[1] : "/dev/iommu";
	const char *vfio_dir = argc > 2 ? argv[2] : "/dev/vfio/devices";
	long expect = argc > 3 ? strtol(argv[3], NULL, 0) : 0;
	static struct iommufd_report r;
	char line[512], status[1024];
	size_t i;
	int ret;

	ret = iommufd_probe(&r, dev_iommu, vfio_dir);
	iommufd_status(&r, status, sizeof(status));
	for (i = 0; i < r.nr; i++) {
		const struct iommufd_device *d = &r.dev[i];
		const struct iommufd_smmu *s = &d->smmu;

		if (d->err) {
			snprintf(line, sizeof(line), "%s: %s failed (errno %d, hw info type %u)",
				 d->name, d->step, d->err, d->hw_type);
			check(false, "iommufd-hw-info", line);
			continue;
		}
		snprintf(line, sizeof(line),
			 "%s idr0=%#x idr1=%#x idr3=%#x idr5=%#x iidr=%#x aidr=%#x "
			 "bbml=%u ril=%d s1=%d s2=%d gran=%s%s%s oas=%u",
			 d->name, d->idr[0], d->idr[1], d->idr[3], d->idr[5],
			 d->iidr, d->aidr, s->bbml, s->ril, s->stage1, s->stage2,
			 s->gran4k ? "4k," : "", s->gran16k ? "16k," : "",
			 s->gran64k ? "64k" : "", s->oas_bits);
		/* The bench's SMMU must be usable for the shadow stage 2. */
		check(s->stage2 && s->gran4k && s->oas_bits, "iommufd-hw-info", line);
	}
	check(ret == 0 && (long)r.nr_ok >= expect &&
	      (expect == 0 || r.state == IOMMUFD_PROBED),
	      "iommufd-status", status);
	if (r.nr_ok)
		check(true, "iommufd-auto-split",
		      iommufd_auto_split(&r) == PKVM_SPLIT_HITLESS ? "hitless" : "bbm");
	printf("%u passed, %u failed\n", passed, failed);
	return failed ? 1 : 0;
}
