/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SMMU facts from iommufd: for each VFIO device cdev, bind it to /dev/iommu
 * and ask IOMMU_GET_HW_INFO for the SMMUv3 ID registers, decoded by the hyp
 * core's own decoder (kmod/hyp/smmu_probe.h). Where the running kernel has
 * no /dev/iommu this is not an error: the report says so in its status.
 *
 * The ioctls are declared in iommufd_abi.h, so the probe builds on any
 * system headers; it needs a kernel >= 6.12 (IOMMU_HW_INFO_TYPE_ARM_SMMUV3)
 * to learn anything, and says what failed on an older one.
 */
#ifndef PKVM_DAEMON_IOMMUFD_H
#define PKVM_DAEMON_IOMMUFD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/pkvm_iommu.h>

#define IOMMUFD_MAX_DEVICES	64
#define IOMMUFD_NAME_LEN	64

/* What the SMMUv3 behind a device can do (from smmu_features_decode()). */
struct iommufd_smmu {
	uint32_t bbml;		/* IDR3.BBML: break-before-make level 0..2 */
	bool ril;		/* IDR3.RIL: range invalidation */
	bool stage1;		/* IDR0.S1P */
	bool stage2;		/* IDR0.S2P */
	bool gran4k, gran16k, gran64k;	/* IDR5.GRAN* */
	uint32_t oas_field;	/* IDR5.OAS encoding */
	uint32_t oas_bits;	/* 0 for a reserved encoding */
	bool coherent;		/* IDR0.COHACC */
	uint32_t sidsize;	/* IDR1.SIDSIZE: StreamID bits */
};

struct iommufd_device {
	char name[IOMMUFD_NAME_LEN];	/* cdev name, e.g. "vfio0" */
	/* 0, or the positive errno of the step that failed ("open", ...). */
	int err;
	const char *step;
	uint32_t hw_type;		/* enum iommu_hw_info_type reported */
	bool wrong_type;		/* err is ENODEV: hw_type is not SMMUv3 */
	uint32_t idr[6], iidr, aidr;	/* raw, valid when err == 0 */
	struct iommufd_smmu smmu;	/* decoded, valid when err == 0 */
};

enum iommufd_state {
	IOMMUFD_ABSENT,		/* no /dev/iommu in this kernel */
	IOMMUFD_ERROR,		/* /dev/iommu or the VFIO dir could not be used */
	IOMMUFD_NO_DEVICES,	/* no VFIO device cdev to ask */
	IOMMUFD_PROBED,		/* devices were asked: see dev[].err */
};

struct iommufd_report {
	enum iommufd_state state;
	int err;			/* errno for ABSENT/ERROR */
	char path[256];			/* what err is about */
	size_t nr;			/* entries in dev[] */
	size_t nr_ok;			/* of which reported SMMUv3 IDRs */
	size_t nr_skipped;		/* cdevs beyond IOMMUFD_MAX_DEVICES */
	struct iommufd_device dev[IOMMUFD_MAX_DEVICES];
};

/*
 * Probe dev_iommu (normally "/dev/iommu") and every vfio* cdev in vfio_dir
 * (normally "/dev/vfio/devices"), in name order. Returns 0 whenever the
 * report is meaningful, which includes an absent /dev/iommu, a missing or
 * empty vfio_dir and per-device failures; -errno only when /dev/iommu exists
 * but cannot be opened, or vfio_dir cannot be read (r->state is then
 * IOMMUFD_ERROR). Nothing is left open.
 *
 * Binding opens the device the way a VMM would: vfio-pci enables (and may
 * reset) a device on its first open, and a device another user holds
 * answers EBUSY. Probe once, at start or on request, not periodically.
 */
int iommufd_probe(struct iommufd_report *r, const char *dev_iommu,
		  const char *vfio_dir);

/*
 * One line for status: "ok: N device(s)", "absent: /dev/iommu: No such file
 * or directory", "no VFIO device cdevs in /dev/vfio/devices", or the
 * per-device failures ("vfio0: VFIO_DEVICE_BIND_IOMMUFD: Device or resource
 * busy"). Returns buf.
 */
const char *iommufd_status(const struct iommufd_report *r, char *buf,
			   size_t len);

/*
 * The split policy `auto` resolves to from these facts, with the rule of
 * smmu_split_policy_auto(): PKVM_SPLIT_HITLESS only when at least one device
 * reported and every device reported SMMU_IDR3.BBML level 2, else
 * PKVM_SPLIT_BBM (which is safe on any SMMU).
 */
enum pkvm_split_policy iommufd_auto_split(const struct iommufd_report *r);

/* Decode raw IDR0..5 (as IOMMU_GET_HW_INFO gives them) into d->smmu. */
void iommufd_decode(struct iommufd_device *d);

#endif /* PKVM_DAEMON_IOMMUFD_H */
