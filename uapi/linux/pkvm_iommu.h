/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pkvm-iommu ABI shared by the hyp core, the kernel module, the daemon and
 * the CLI. Every constant that more than one part needs lives here, once.
 */
#ifndef _UAPI_LINUX_PKVM_IOMMU_H
#define _UAPI_LINUX_PKVM_IOMMU_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdint.h>
#endif

/*
 * Owner ids. The host is 0 so that a zeroed descriptor reads as "no memory"
 * (a hole) rather than as a donation; see kmod/hyp/s2_desc.h.
 */
#define PKVM_OWNER_HOST		0u
#define PKVM_OWNER_HYP		1u
#define PKVM_OWNER_GUEST_FIRST	2u
#define PKVM_OWNER_MAX		0xffffu

/* Largest input address size the 4 KiB granule stage-2 accepts, and smallest. */
#define PKVM_S2_IAS_MIN		32u
#define PKVM_S2_IAS_MAX		48u

/*
 * How a block that straddles a donated range is split while DMA may hit it.
 * Chosen from SMMU_IDR3.BBML unless policy forces one.
 */
enum pkvm_split_policy {
	PKVM_SPLIT_HITLESS = 0,	/* write the table over the live block (BBML2) */
	PKVM_SPLIT_BBM = 1,	/* invalid -> TLBI+SYNC -> table */
	PKVM_SPLIT_PRESPLIT = 2,	/* never map blocks above a chosen level */
};

/* Levels of the 4 KiB granule: 1 GiB blocks at 1, 2 MiB at 2, pages at 3. */
#define PKVM_LEVEL_1G		1u
#define PKVM_LEVEL_2M		2u
#define PKVM_LEVEL_4K		3u

#endif /* _UAPI_LINUX_PKVM_IOMMU_H */
