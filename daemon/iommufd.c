// SPDX-License-Identifier: GPL-2.0
/*
 * SMMU facts from iommufd (see iommufd.h). The ioctls are those of
 * Documentation/userspace-api/iommufd.rst and vfio.rst (cdev interface):
 *   fd = open(/dev/iommu); dev = open(/dev/vfio/devices/vfioN);
 *   VFIO_DEVICE_BIND_IOMMUFD(dev, fd) -> dev_id;
 *   IOMMU_GET_HW_INFO(fd, dev_id, ARM_SMMUV3) -> IDR0..5, IIDR, AIDR.
 * Closing the device fd unbinds it; nothing is attached, nothing mapped.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "iommufd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "iommufd_abi.h"
/* The hyp core's decoder, built for user space through sim/pkvm_env.h. */
#include "smmu_probe.h"

void iommufd_decode(struct iommufd_device *d)
{
	struct smmu_features f;

	smmu_features_decode(&f, d->idr[0], d->idr[1], d->idr[3], d->idr[5]);
	d->smmu = (struct iommufd_smmu){
		.bbml = f.bbml,
		.ril = f.ril,
		.stage1 = f.s1,
		.stage2 = f.s2,
		.gran4k = f.gran4k,
		.gran16k = f.gran16k,
		.gran64k = f.gran64k,
		.oas_field = f.oas_field,
		.oas_bits = f.oas_bits,
		.coherent = f.coherent,
		.sidsize = f.sidsize,
	};
}

/* vfio0, vfio1, ...: the cdevs VFIO creates; anything else is skipped. */
static int is_vfio_cdev(const struct dirent *e)
{
	const char *p = e->d_name;

	if (strncmp(p, "vfio", 4) != 0 || !p[4])
		return 0;
	for (p += 4; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static void set_path(struct iommufd_report *r, const char *path)
{
	snprintf(r->path, sizeof(r->path), "%s", path);
}

static void dev_fail(struct iommufd_device *d, const char *step, int err)
{
	d->step = step;
	d->err = err;
}

/* One IOMMU_GET_HW_INFO into *smmu; 0 or a positive errno. */
static int get_hw_info(int iommufd, uint32_t dev_id,
		       struct iommufd_abi_hw_info_arm_smmuv3 *smmu, uint32_t flags,
		       uint32_t type, struct iommufd_abi_hw_info *info)
{
	memset(info, 0, sizeof(*info));
	info->size = sizeof(*info);
	info->flags = flags;
	info->dev_id = dev_id;
	info->data_len = sizeof(*smmu);
	info->data_uptr = (uintptr_t)smmu;
	info->data_type = type;
	return ioctl(iommufd, IOMMUFD_ABI_GET_HW_INFO, info) ? errno : 0;
}

static void probe_one(struct iommufd_device *d, int iommufd, int dirfd)
{
	struct iommufd_abi_hw_info_arm_smmuv3 smmu;
	struct iommufd_abi_vfio_bind bind;
	struct iommufd_abi_hw_info info;
	int fd, ret;

	fd = openat(dirfd, d->name, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return dev_fail(d, "open", errno);

	memset(&bind, 0, sizeof(bind));
	/* The size every kernel with the cdev interface (6.6+) accepts. */
	bind.argsz = offsetof(struct iommufd_abi_vfio_bind, out_devid) +
		     sizeof(bind.out_devid);
	bind.iommufd = iommufd;
	if (ioctl(fd, IOMMUFD_ABI_VFIO_DEVICE_BIND_IOMMUFD, &bind)) {
		dev_fail(d, "VFIO_DEVICE_BIND_IOMMUFD", errno);
		goto out;
	}

	memset(&smmu, 0, sizeof(smmu));
	/* Ask for the SMMUv3 type explicitly where the kernel can take it... */
	ret = get_hw_info(iommufd, bind.out_devid, &smmu, IOMMUFD_ABI_HW_INFO_FLAG_INPUT_TYPE,
			  IOMMUFD_ABI_HW_INFO_TYPE_ARM_SMMUV3, &info);
	/* ...before 6.17 flags must be 0, and the driver's own type comes back. */
	if (ret == EOPNOTSUPP)
		ret = get_hw_info(iommufd, bind.out_devid, &smmu, 0, 0, &info);
	if (ret) {
		dev_fail(d, "IOMMU_GET_HW_INFO", ret);
		goto out;
	}
	d->hw_type = info.data_type;
	if (info.data_type != IOMMUFD_ABI_HW_INFO_TYPE_ARM_SMMUV3) {
		/* Type 0 (none): e.g. arm-smmu-v3 without ARM_SMMU_V3_IOMMUFD. */
		dev_fail(d, "IOMMU_GET_HW_INFO", ENODEV);
		d->wrong_type = true;
		goto out;
	}
	memcpy(d->idr, smmu.idr, sizeof(d->idr));
	d->iidr = smmu.iidr;
	d->aidr = smmu.aidr;
	iommufd_decode(d);
out:
	close(fd);
}

int iommufd_probe(struct iommufd_report *r, const char *dev_iommu,
		  const char *vfio_dir)
{
	struct dirent **ents = NULL;
	struct iommufd_device *d;
	size_t len;
	int iommufd, n, i, ret = 0;
	int dirfd;

	memset(r, 0, sizeof(*r));
	if (!dev_iommu)
		dev_iommu = "/dev/iommu";
	if (!vfio_dir)
		vfio_dir = "/dev/vfio/devices";

	iommufd = open(dev_iommu, O_RDWR | O_CLOEXEC);
	if (iommufd < 0) {
		r->err = errno;
		set_path(r, dev_iommu);
		/* No iommufd in this kernel: a fact to report, not a failure. */
		if (r->err == ENOENT || r->err == ENODEV || r->err == ENXIO) {
			r->state = IOMMUFD_ABSENT;
			return 0;
		}
		r->state = IOMMUFD_ERROR;
		return -r->err;
	}
	set_path(r, vfio_dir);
	dirfd = open(vfio_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dirfd < 0) {
		r->err = errno;
		if (r->err == ENOENT) {
			r->state = IOMMUFD_NO_DEVICES;
		} else {
			r->state = IOMMUFD_ERROR;
			ret = -r->err;
		}
		goto out_iommufd;
	}
	n = scandir(vfio_dir, &ents, is_vfio_cdev, versionsort);
	if (n < 0) {
		r->err = errno;
		r->state = IOMMUFD_ERROR;
		ret = -r->err;
		goto out_dir;
	}
	r->state = n ? IOMMUFD_PROBED : IOMMUFD_NO_DEVICES;
	for (i = 0; i < n; i++) {
		if (r->nr == IOMMUFD_MAX_DEVICES) {
			r->nr_skipped++;
			continue;
		}
		d = &r->dev[r->nr++];
		/* vfio + digits: always fits, but say so to the compiler. */
		len = strnlen(ents[i]->d_name, sizeof(d->name) - 1);
		memcpy(d->name, ents[i]->d_name, len);
		d->name[len] = '\0';
		probe_one(d, iommufd, dirfd);
		if (!d->err)
			r->nr_ok++;
	}
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
out_dir:
	close(dirfd);
out_iommufd:
	close(iommufd);
	return ret;
}

const char *iommufd_status(const struct iommufd_report *r, char *buf,
			   size_t len)
{
	const char *sep = r->nr_ok ? "; " : ": ";
	size_t off = 0, i;
	int w;

#define PUT(...)							\
	do {								\
		w = snprintf(off < len ? buf + off : NULL,		\
			     off < len ? len - off : 0, __VA_ARGS__);	\
		if (w > 0)						\
			off += (size_t)w;				\
	} while (0)

	if (!len)
		return buf;
	buf[0] = '\0';
	switch (r->state) {
	case IOMMUFD_ABSENT:
		PUT("absent: %s: %s", r->path, strerror(r->err));
		break;
	case IOMMUFD_ERROR:
		PUT("error: %s: %s", r->path, strerror(r->err));
		break;
	case IOMMUFD_NO_DEVICES:
		PUT("no VFIO device cdevs in %s", r->path);
		break;
	case IOMMUFD_PROBED:
		/* "ok: N device(s)[; failures]" or "error: failures" */
		if (r->nr_ok)
			PUT("ok: %zu device(s)", r->nr_ok);
		else
			PUT("error");
		for (i = 0; i < r->nr; i++) {
			const struct iommufd_device *d = &r->dev[i];

			if (!d->err)
				continue;
			if (d->wrong_type)
				PUT("%s%s: %s: hw info type %u, not ARM SMMUv3%s",
				    sep, d->name, d->step, d->hw_type,
				    d->hw_type ? "" : " (kernel without CONFIG_ARM_SMMU_V3_IOMMUFD?)");
			else
				PUT("%s%s: %s: %s", sep, d->name, d->step,
				    strerror(d->err));
			sep = "; ";
		}
		if (r->nr_skipped)
			PUT("; %zu more not probed", r->nr_skipped);
		break;
	}
#undef PUT
	/* Truncated: say so rather than end mid-word unnoticed. */
	if (off >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
	return buf;
}

enum pkvm_split_policy iommufd_auto_split(const struct iommufd_report *r)
{
	size_t i;

	/* No facts, or a device that gave none: the split that is always safe. */
	if (r->state != IOMMUFD_PROBED || !r->nr || r->nr_ok != r->nr)
		return PKVM_SPLIT_BBM;
	for (i = 0; i < r->nr; i++)
		/* The rule of smmu_split_policy_auto() (kmod/hyp/smmu_dev.c). */
		if (r->dev[i].smmu.bbml < 2)
			return PKVM_SPLIT_BBM;
	return PKVM_SPLIT_HITLESS;
}
