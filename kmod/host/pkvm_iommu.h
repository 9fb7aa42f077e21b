/* SPDX-License-Identifier: GPL-2.0 */
/* pkvm_iommu.ko internals shared by its files. */
#ifndef PKVM_IOMMU_HOST_H
#define PKVM_IOMMU_HOST_H

#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>
#include <linux/xarray.h>

#include "hvc.h"

#define PKVM_IOMMU_DRV_NAME	"pkvm-iommu-smmu"

struct pkvm_smmu {
	struct platform_device *pdev;
	void __iomem *regs;
	u64 base;
	struct page *mem;
	unsigned int mem_order;
	int index;		/* the hyp core's index, -1 before SMMU_ADD */
	struct xarray streams;	/* sid -> xa_mk_value(policy); absent: block */
};

struct pkvm_iommu {
	struct pkvm_iommu_hyp *hyp;	/* host mode: the hyp core's state */
	struct mutex lock;		/* every call into the hyp core */
	u64 generation;			/* ownership changes, for the ledger */
	struct page *pool;
	unsigned int pool_order;
	struct s2_region *regions;	/* handed to INIT by physical address */
	u32 nr_regions;
	struct pkvm_smmu smmu[PKVM_IOMMU_MAX_SMMUS];
	u32 nr_smmus;
	struct pkvm_iommu_event *evbuf;	/* EVENT_POP writes here */
	struct delayed_work poll;
	unsigned int poll_ms;
};

extern struct pkvm_iommu *pkvm;

/* The transport: the one way into the hyp core. Call with pkvm->lock held. */
s64 pkvm_iommu_call(u64 fn, u64 a0, u64 a1, u64 a2, u64 a3, u64 a4, u64 a5);

int pkvm_iommu_chardev_init(void);
void pkvm_iommu_chardev_exit(void);

int pkvm_iommu_genl_init(void);
void pkvm_iommu_genl_exit(void);
void pkvm_iommu_genl_range_event(u8 cmd, u64 gen, u64 addr, u64 len, u32 owner);
void pkvm_iommu_genl_fault_event(u32 smmu, const struct pkvm_iommu_event *ev);
void pkvm_iommu_genl_policy_event(u32 smmu, u32 sid, u32 policy);

/* Invalidation batching (batch.c). */
int pkvm_iommu_batch_init(void);
void pkvm_iommu_batch_exit(void);
/* max 0 only reads; both are written back with the values in force. */
int pkvm_iommu_batch_config(u32 *max, u32 *window);
/* One change of enum pkvm_iommu_op_code (op already checked < 4). */
int pkvm_iommu_batch_single(u32 op, u64 addr, u64 len, u32 owner);
/* ops: physically contiguous, 32-byte aligned; *done changes made. */
int pkvm_iommu_batch_apply(struct pkvm_iommu_op *ops, u32 nr, u32 *done);

void pkvm_iommu_events_start(void);
void pkvm_iommu_events_stop(void);

#endif
