// SPDX-License-Identifier: GPL-2.0
#include <linux/pkvm_iommu.h>

#include "macro.h"
#include "names.h"

const char *pkvm_op_name(uint32_t op)
{
	static const char *const name[] = {
		[PKVM_IOMMU_OP_DONATE] = "donate",
		[PKVM_IOMMU_OP_RECLAIM] = "reclaim",
		[PKVM_IOMMU_OP_SHARE] = "share",
		[PKVM_IOMMU_OP_UNSHARE] = "unshare",
	};

	return op < ELEMENTSOF(name) && name[op] ? name[op] : "unknown";
}

const char *smmu_event_name(uint32_t type)
{
	/* IHI 0070 H.a, 7.3: the event types the hyp core's decoder knows. */
	static const char *const name[] = {
		[0x01] = "F_UUT",
		[0x02] = "C_BAD_STREAMID",
		[0x03] = "F_STE_FETCH",
		[0x04] = "C_BAD_STE",
		[0x06] = "F_STREAM_DISABLED",
		[0x07] = "F_TRANSL_FORBIDDEN",
		[0x08] = "C_BAD_SUBSTREAMID",
		[0x09] = "F_CD_FETCH",
		[0x0a] = "C_BAD_CD",
		[0x0b] = "F_WALK_EABT",
		[0x10] = "F_TRANSLATION",
		[0x11] = "F_ADDR_SIZE",
		[0x12] = "F_ACCESS",
		[0x13] = "F_PERMISSION",
		[0x20] = "F_TLB_CONFLICT",
		[0x21] = "F_CFG_CONFLICT",
	};

	return type < ELEMENTSOF(name) && name[type] ? name[type] : "?";
}
