// SPDX-License-Identifier: GPL-2.0
/*
 * The daemon's iommufd probe without a kernel that has iommufd: status when
 * /dev/iommu is absent, when there are no VFIO cdevs, per-device failures
 * (a regular file posing as a cdev refuses the VFIO ioctl), decoding of
 * QEMU's SMMUv3 ID registers against values worked out by hand from the
 * SMMUv3 specification (IHI 0070, 6.3), and the `auto` split policy.
 * A real IOMMU_GET_HW_INFO runs in the VM bench (tests/vm).
 */
#include <check.h>
#include "test_registry.h"
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "iommufd.h"
/* The hyp core's own rule for `auto`, to check the daemon agrees with it. */
#include "smmu_dev.h"
#include "smmu_probe.h"

/* QEMU's smmuv3 (hw/arm/smmuv3.c) with stage 2 only (-M virt,iommu=smmuv3). */
#define QEMU_IDR0 0x0d441019u
#define QEMU_IDR1 0x02730010u
#define QEMU_IDR3 0x00001414u
#define QEMU_IDR5 0x00000074u

static char tmpdir[64];

static void mk_tmpdir(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_iommufd.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
}

static void rm_tmpdir(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	ck_assert_int_eq(system(cmd), 0);
}

static void touch(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
	ck_assert_int_ge(fd, 0);
	close(fd);
}

static void report_with(struct iommufd_report *r, const uint32_t *idr3s,
			size_t nr)
{
	memset(r, 0, sizeof(*r));
	r->state = IOMMUFD_PROBED;
	for (size_t i = 0; i < nr; i++) {
		struct iommufd_device *d = &r->dev[r->nr++];

		snprintf(d->name, sizeof(d->name), "vfio%zu", i);
		d->idr[0] = QEMU_IDR0;
		d->idr[1] = QEMU_IDR1;
		d->idr[3] = idr3s[i];
		d->idr[5] = QEMU_IDR5;
		iommufd_decode(d);
		r->nr_ok++;
	}
}

/* ---- status without iommufd ---- */

TEST("probe", absent_dev_iommu)
{
	struct iommufd_report r;
	char buf[256];

	ck_assert_int_eq(iommufd_probe(&r, "/nonexistent/iommu", "/dev/vfio/devices"), 0);
	ck_assert_int_eq(r.state, IOMMUFD_ABSENT);
	ck_assert_int_eq(r.err, ENOENT);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "absent: /nonexistent/iommu: No such file or directory");
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
}
END_TEST

TEST("probe", host_dev_iommu)
{
	/* Whatever this machine has, a probe of the real paths never fails. */
	struct iommufd_report r;
	char buf[256];

	if (access("/dev/iommu", F_OK) == 0)
		return;	/* never touch a real /dev/iommu from a unit test */
	ck_assert_int_eq(iommufd_probe(&r, "/dev/iommu", "/dev/vfio/devices"), 0);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "absent: /dev/iommu: No such file or directory");
}
END_TEST

TEST("probe", no_vfio_cdevs)
{
	struct iommufd_report r;
	char buf[256], want[256], missing[128];

	mk_tmpdir();
	/* /dev/null stands in for /dev/iommu: it opens, nothing is asked of it. */
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", tmpdir), 0);
	ck_assert_int_eq(r.state, IOMMUFD_NO_DEVICES);
	snprintf(want, sizeof(want), "no VFIO device cdevs in %s", tmpdir);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)), want);

	/* Names that are not vfio<N> are not cdevs of VFIO. */
	touch("vfio");
	touch("vfiox");
	touch("vfio1a");
	touch("devices");
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", tmpdir), 0);
	ck_assert_int_eq(r.state, IOMMUFD_NO_DEVICES);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)), want);

	/* A missing directory is the same fact. */
	snprintf(missing, sizeof(missing), "%s/none", tmpdir);
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", missing), 0);
	snprintf(want, sizeof(want), "no VFIO device cdevs in %s", missing);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)), want);
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
	rm_tmpdir();
}
END_TEST

TEST("probe", vfio_dir_not_a_dir)
{
	struct iommufd_report r;
	char buf[256], want[256], file[128];

	mk_tmpdir();
	touch("file");
	snprintf(file, sizeof(file), "%s/file", tmpdir);
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", file), -ENOTDIR);
	ck_assert_int_eq(r.state, IOMMUFD_ERROR);
	snprintf(want, sizeof(want), "error: %s: Not a directory", file);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)), want);
	rm_tmpdir();
}
END_TEST

TEST("probe", per_device_errors)
{
	struct iommufd_report r;
	char buf[512];

	mk_tmpdir();
	/* Regular files: they open, and refuse VFIO_DEVICE_BIND_IOMMUFD. */
	touch("vfio10");
	touch("vfio2");
	touch("other");
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", tmpdir), 0);
	ck_assert_int_eq(r.state, IOMMUFD_PROBED);
	ck_assert_uint_eq(r.nr, 2);
	ck_assert_uint_eq(r.nr_ok, 0);
	/* In number order, not byte order. */
	ck_assert_str_eq(r.dev[0].name, "vfio2");
	ck_assert_str_eq(r.dev[1].name, "vfio10");
	ck_assert_int_eq(r.dev[0].err, ENOTTY);
	ck_assert_str_eq(r.dev[0].step, "VFIO_DEVICE_BIND_IOMMUFD");
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "error: vfio2: VFIO_DEVICE_BIND_IOMMUFD: Inappropriate ioctl for device; "
			 "vfio10: VFIO_DEVICE_BIND_IOMMUFD: Inappropriate ioctl for device");
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);

	/* A cdev that cannot be opened names the open. */
	ck_assert_int_eq(chmod(tmpdir, 0700), 0);
	{
		char p[128];

		snprintf(p, sizeof(p), "%s/vfio10", tmpdir);
		unlink(p);
		ck_assert_int_eq(symlink("/nonexistent/vfio", p), 0);
	}
	ck_assert_int_eq(iommufd_probe(&r, "/dev/null", tmpdir), 0);
	ck_assert_int_eq(r.dev[1].err, ENOENT);
	ck_assert_str_eq(r.dev[1].step, "open");
	rm_tmpdir();
}
END_TEST

TEST("probe", status_mixed_and_truncated)
{
	struct iommufd_report r;
	const uint32_t idr3[] = { QEMU_IDR3, QEMU_IDR3 };
	char buf[512], small[16];

	report_with(&r, idr3, 2);
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)), "ok: 2 device(s)");
	r.dev[1].err = EBUSY;
	r.dev[1].step = "VFIO_DEVICE_BIND_IOMMUFD";
	r.nr_ok = 1;
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "ok: 1 device(s); vfio1: VFIO_DEVICE_BIND_IOMMUFD: Device or resource busy");
	/* A device that reported nothing cannot vouch for BBML2. */
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
	/* What the VM bench's kernel says without CONFIG_ARM_SMMU_V3_IOMMUFD. */
	r.dev[1].err = ENODEV;
	r.dev[1].step = "IOMMU_GET_HW_INFO";
	r.dev[1].wrong_type = true;
	r.dev[1].hw_type = 0;
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "ok: 1 device(s); vfio1: IOMMU_GET_HW_INFO: hw info type 0, not ARM SMMUv3 "
			 "(kernel without CONFIG_ARM_SMMU_V3_IOMMUFD?)");
	r.dev[1].hw_type = 1;
	ck_assert_str_eq(iommufd_status(&r, buf, sizeof(buf)),
			 "ok: 1 device(s); vfio1: IOMMU_GET_HW_INFO: hw info type 1, not ARM SMMUv3");
	r.dev[1].wrong_type = false;
	r.dev[1].err = EBUSY;
	r.dev[1].step = "VFIO_DEVICE_BIND_IOMMUFD";
	ck_assert_str_eq(iommufd_status(&r, small, sizeof(small)), "ok: 1 device...");
}
END_TEST

/* ---- decoding ---- */

TEST("decode", decode_qemu_smmuv3)
{
	struct iommufd_device d = { .name = "vfio0" };

	d.idr[0] = QEMU_IDR0;
	d.idr[1] = QEMU_IDR1;
	d.idr[3] = QEMU_IDR3;
	d.idr[5] = QEMU_IDR5;
	iommufd_decode(&d);
	/*
	 * IDR0 0x0d441019: S2P [0] = 1, S1P [1] = 0, TTF [3:2] = 0b10
	 * (AArch64), COHACC [4] = 1, ASID16 [12] = 1, VMID16 [18] = 1,
	 * TTENDIAN [22:21] = 0b10 (LE), STALL_MODEL [25:24] = 0b01,
	 * TERM_MODEL [26] = 1, ST_LEVEL [28:27] = 0b01 (2-level).
	 */
	ck_assert(d.smmu.stage2);
	ck_assert(!d.smmu.stage1);
	ck_assert(d.smmu.coherent);
	/* IDR1 0x02730010: SIDSIZE [5:0] = 16, EVTQS [20:16] = CMDQS [25:21] = 19. */
	ck_assert_uint_eq(d.smmu.sidsize, 16);
	/* IDR3 0x00001414: HAD [2], XNX [4], RIL [10] = 1, BBML [12:11] = 0b10, FWB [8] = 0. */
	ck_assert(d.smmu.ril);
	ck_assert_uint_eq(d.smmu.bbml, 2);
	/* IDR5 0x00000074: OAS [2:0] = 0b100 (44 bits), GRAN4K/16K/64K [4..6] = 1. */
	ck_assert(d.smmu.gran4k);
	ck_assert(d.smmu.gran16k);
	ck_assert(d.smmu.gran64k);
	ck_assert_uint_eq(d.smmu.oas_field, 4);
	ck_assert_uint_eq(d.smmu.oas_bits, 44);
}
END_TEST

TEST("decode", decode_variants)
{
	struct iommufd_device d = { .name = "vfio0" };

	/* Stage 1 and 2, no RIL, BBML 1, 4 KiB only, OAS 0b101 = 48 bits. */
	d.idr[0] = QEMU_IDR0 | 0x2;
	d.idr[3] = 0x00000814;
	d.idr[5] = 0x00000015;
	iommufd_decode(&d);
	ck_assert(d.smmu.stage1 && d.smmu.stage2);
	ck_assert(!d.smmu.ril);
	ck_assert_uint_eq(d.smmu.bbml, 1);
	ck_assert(d.smmu.gran4k && !d.smmu.gran16k && !d.smmu.gran64k);
	ck_assert_uint_eq(d.smmu.oas_bits, 48);
	/* OAS 0b111 is reserved: no output size at all. */
	d.idr[5] = 0x00000017;
	iommufd_decode(&d);
	ck_assert_uint_eq(d.smmu.oas_field, 7);
	ck_assert_uint_eq(d.smmu.oas_bits, 0);
	/* Nothing set: nothing decoded. */
	memset(d.idr, 0, sizeof(d.idr));
	iommufd_decode(&d);
	ck_assert(!d.smmu.stage1 && !d.smmu.stage2 && !d.smmu.ril);
	ck_assert_uint_eq(d.smmu.bbml, 0);
	ck_assert_uint_eq(d.smmu.oas_bits, 32);
}
END_TEST

/* ---- auto split ---- */

TEST("decode", auto_split)
{
	struct iommufd_report r;
	const uint32_t bbml2[] = { QEMU_IDR3, QEMU_IDR3, QEMU_IDR3 };
	const uint32_t mixed[] = { QEMU_IDR3, 0x00000c14 /* BBML 1 */, QEMU_IDR3 };
	const uint32_t bbml0[] = { 0x00000414 };

	report_with(&r, bbml2, 3);
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_HITLESS);
	report_with(&r, mixed, 3);
	ck_assert_uint_eq(r.dev[1].smmu.bbml, 1);
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
	report_with(&r, bbml0, 1);
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
	/* No device at all: no facts, the safe choice. */
	report_with(&r, bbml0, 0);
	ck_assert_int_eq(iommufd_auto_split(&r), PKVM_SPLIT_BBM);
}
END_TEST

TEST("decode", auto_split_agrees_with_hyp)
{
	/* Every BBML level: the daemon's rule is the hyp core's rule. */
	for (uint32_t bbml = 0; bbml < 4; bbml++) {
		uint32_t idr3 = (QEMU_IDR3 & ~0x1800u) | bbml << 11;
		struct iommufd_report r;
		struct smmu_features f;

		report_with(&r, &idr3, 1);
		smmu_features_decode(&f, QEMU_IDR0, QEMU_IDR1, idr3, QEMU_IDR5);
		ck_assert_uint_eq(r.dev[0].smmu.bbml, bbml);
		ck_assert_int_eq(iommufd_auto_split(&r), smmu_split_policy_auto(&f));
	}
}
END_TEST

int main(void)
{
	return TEST_RUN("iommufd",
			TCASE("probe"),
			TCASE("decode"));
}
