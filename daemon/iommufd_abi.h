/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The few iommufd and VFIO ABI facts the iommufd probe (iommufd.c) uses,
 * declared here so that the daemon builds the probe on any system headers
 * (Debian 12's linux-libc-dev 6.1 has no IOMMU_GET_HW_INFO) and nothing is
 * fetched to build it. Written from the uapi of Linux 7.3, not copied:
 *
 *   include/uapi/linux/iommufd.h
 *     IOMMUFD_TYPE ';', IOMMUFD_CMD_GET_HW_INFO 0x8a (the command enum),
 *     IOMMU_GET_HW_INFO = _IO(IOMMUFD_TYPE, IOMMUFD_CMD_GET_HW_INFO),
 *     struct iommu_hw_info, enum iommufd_hw_info_flags,
 *     enum iommu_hw_info_type, struct iommu_hw_info_arm_smmuv3
 *   include/uapi/linux/vfio.h
 *     VFIO_TYPE ';', VFIO_BASE 100, struct vfio_device_bind_iommufd,
 *     VFIO_DEVICE_BIND_IOMMUFD = _IO(VFIO_TYPE, VFIO_BASE + 18)
 *
 * A released ABI does not change; the structs grow only at their end, and
 * the kernel learns how much the caller knows from their size fields. Every
 * name carries an iommufd_abi_ prefix, so the system's <linux/iommufd.h>
 * and <linux/vfio.h>, of whatever version, can be included beside this
 * header without a clash.
 */
#ifndef PKVM_DAEMON_IOMMUFD_ABI_H
#define PKVM_DAEMON_IOMMUFD_ABI_H

#include <stdint.h>
#include <sys/ioctl.h>

/* __aligned_u64 of the uapi: 8-byte aligned on every architecture. */
typedef uint64_t iommufd_abi_u64 __attribute__((aligned(8)));

/* iommufd.h: struct iommu_hw_info, the argument of IOMMU_GET_HW_INFO. */
struct iommufd_abi_hw_info {
	uint32_t size;
	uint32_t flags;
	uint32_t dev_id;
	uint32_t data_len;
	iommufd_abi_u64 data_uptr;
	uint32_t data_type;		/* in_data_type / out_data_type */
	uint8_t out_max_pasid_log2;
	uint8_t reserved[3];
	iommufd_abi_u64 out_capabilities;
};

/* iommufd.h: enum iommufd_hw_info_flags (6.17 on; before, flags must be 0). */
#define IOMMUFD_ABI_HW_INFO_FLAG_INPUT_TYPE	(1u << 0)

/* iommufd.h: enum iommu_hw_info_type. */
#define IOMMUFD_ABI_HW_INFO_TYPE_NONE		0u
#define IOMMUFD_ABI_HW_INFO_TYPE_ARM_SMMUV3	2u

/* iommufd.h: struct iommu_hw_info_arm_smmuv3 (SMMU IDR0..5, IIDR, AIDR). */
struct iommufd_abi_hw_info_arm_smmuv3 {
	uint32_t flags;
	uint32_t reserved;
	uint32_t idr[6];
	uint32_t iidr;
	uint32_t aidr;
};

#define IOMMUFD_ABI_GET_HW_INFO			_IO(';', 0x8a)

/*
 * vfio.h: struct vfio_device_bind_iommufd up to out_devid, the size every
 * kernel with the VFIO device cdev accepts (7.3 appends token_uuid_ptr,
 * read only with VFIO_DEVICE_BIND_FLAG_TOKEN).
 */
struct iommufd_abi_vfio_bind {
	uint32_t argsz;
	uint32_t flags;
	int32_t iommufd;
	uint32_t out_devid;
};

#define IOMMUFD_ABI_VFIO_DEVICE_BIND_IOMMUFD	_IO(';', 100 + 18)

/* The layouts of the uapi, checked where the compiler can. */
_Static_assert(sizeof(struct iommufd_abi_hw_info) == 40, "struct iommu_hw_info");
_Static_assert(__builtin_offsetof(struct iommufd_abi_hw_info, data_type) == 24,
	       "iommu_hw_info.out_data_type");
_Static_assert(__builtin_offsetof(struct iommufd_abi_hw_info, out_capabilities) == 32,
	       "iommu_hw_info.out_capabilities");
_Static_assert(sizeof(struct iommufd_abi_hw_info_arm_smmuv3) == 40,
	       "struct iommu_hw_info_arm_smmuv3");
_Static_assert(sizeof(struct iommufd_abi_vfio_bind) == 16,
	       "struct vfio_device_bind_iommufd up to out_devid");

#endif /* PKVM_DAEMON_IOMMUFD_ABI_H */
