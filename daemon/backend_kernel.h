/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The "kernel" backend of pkvm-iommud: the ioctls of /dev/pkvm-iommu and
 * the pkvm_iommu generic-netlink family of the pkvm_iommu module (see
 * pkvm_iommu(4) and uapi/linux/pkvm_iommu.h).
 *
 * Two netlink sockets: a non-blocking one subscribed to the "events"
 * group (its fd is event_fd(); NETLINK_NO_ENOBUFS is deliberately left
 * off, so an overflow of its receive buffer is reported and dispatch()
 * returns -ENOBUFS), and a blocking one for LEDGER_GET dumps.
 */
#ifndef PKVMD_BACKEND_KERNEL_H
#define PKVMD_BACKEND_KERNEL_H

#include <stddef.h>

#include "backend.h"

#define BACKEND_KERNEL_RCVBUF_DEFAULT	(4u << 20)
#define BACKEND_KERNEL_DUMP_RETRIES	8u

struct backend_kernel_options {
	const char *device;	/* NULL: PKVM_IOMMU_DEVICE (/dev/pkvm-iommu) */
	unsigned int rcvbuf;	/* event socket receive buffer, bytes; 0: 4 MiB */
	unsigned int dump_retries;	/* LEDGER_GET attempts; 0: 8 */
	/*
	 * If not NULL, a failed open writes a one-line reason here naming the
	 * path or the netlink object that failed, e.g. "/dev/pkvm-iommu: No
	 * such file or directory".
	 */
	char *errbuf;
	size_t errbuf_len;
};

/*
 * Opens the device, checks its ABI version with PKVM_IOMMU_IOC_INFO,
 * resolves the family and its "events" group and subscribes. opts may be
 * NULL. Errors: -errno of open(2) on the device (-ENOENT: no device,
 * -EACCES), -EPERM (ioctl or group subscription without CAP_SYS_ADMIN),
 * -ENOTTY (not a pkvm-iommu device), -EPROTO (ABI version mismatch),
 * -ENOENT (family or group not registered), -ENOMEM, or another -errno of
 * the netlink setup.
 */
int backend_kernel_open(struct backend **out, const struct backend_kernel_options *opts);

/*
 * A hint for a person, for an error of backend_kernel_open() ("module not
 * loaded?" for -ENOENT/-ENODEV, "need root" for -EACCES/-EPERM, ...);
 * never NULL, "" when there is none. err may be negative or positive.
 */
const char *backend_kernel_strerror_hint(int err);

#endif
