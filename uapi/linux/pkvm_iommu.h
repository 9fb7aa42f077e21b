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
	PKVM_SPLIT_AUTO = 3,	/* HITLESS if every SMMU has BBML2, else BBM */
};

/* What a host device's stream may do. There is no bypass, by design. */
enum pkvm_stream_policy {
	PKVM_STREAM_BLOCK = 0,	/* abort every transaction */
	PKVM_STREAM_ISOLATE = 1,	/* translate through the shadow stage 2 */
};

/* Counters of the hyp core, by index (STATS_READ, and the ioctl later). */
enum pkvm_iommu_stat {
	PKVM_IOMMU_STAT_DONATE,
	PKVM_IOMMU_STAT_RECLAIM,
	PKVM_IOMMU_STAT_SHARE,
	PKVM_IOMMU_STAT_UNSHARE,
	PKVM_IOMMU_STAT_ERRORS,
	PKVM_IOMMU_STAT_DESC_WRITES,
	PKVM_IOMMU_STAT_TLBI_RANGES,
	PKVM_IOMMU_STAT_TLBI_FULL,
	PKVM_IOMMU_STAT_SYNCS,
	PKVM_IOMMU_STAT_SPLITS,
	PKVM_IOMMU_STAT_FOLDS,
	PKVM_IOMMU_STAT_BBM_BREAKS,
	PKVM_IOMMU_STAT_TABLE_PAGES,
	PKVM_IOMMU_STAT_POOL_FREE,
	PKVM_IOMMU_STAT_MEM_PAGES,
	PKVM_IOMMU_STAT_SPLIT_POLICY,
	PKVM_IOMMU_STAT_NR,
};

/* Levels of the 4 KiB granule: 1 GiB blocks at 1, 2 MiB at 2, pages at 3. */
#define PKVM_LEVEL_1G		1u
#define PKVM_LEVEL_2M		2u
#define PKVM_LEVEL_4K		3u

#endif /* _UAPI_LINUX_PKVM_IOMMU_H */
