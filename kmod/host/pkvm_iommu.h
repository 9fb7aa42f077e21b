/* SPDX-License-Identifier: GPL-2.0 */
/* pkvm_iommu.ko internals shared by its files. */
#ifndef PKVM_IOMMU_HOST_H
#define PKVM_IOMMU_HOST_H

#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/workqueue.h>

#include "pkvm_core.h"

#define PKVM_IOMMU_DRV_NAME	"pkvm-iommu-smmu"

struct pkvm_smmu {
	struct platform_device *pdev;
	void __iomem *regs;
	u64 base;
	struct page *mem;
	unsigned int mem_order;
};

struct pkvm_iommu {
	struct pkvm_iommu_hyp *hyp;	/* host mode: the hyp core's state; pKVM: NULL */
	struct mutex lock;		/* every call into the host core */
	struct pkvm_core core;		/* smmu[i] is its SMMU i */
	struct page *pool;
	unsigned int pool_order;
	struct s2_region *regions;	/* handed to INIT by physical address */
	u32 nr_regions;
	struct pkvm_smmu smmu[PKVM_IOMMU_MAX_SMMUS];
	struct pkvm_iommu_event *evbuf;	/* EVENT_POP writes here */
	struct delayed_work poll;
	unsigned int poll_ms;
};

extern struct pkvm_iommu *pkvm;

int pkvm_iommu_chardev_init(void);
void pkvm_iommu_chardev_exit(void);

int pkvm_iommu_genl_init(void);
void pkvm_iommu_genl_exit(void);
/* Multicast on "events"; called by the host core with pkvm->lock held. */
void pkvm_iommu_genl_event(const struct pkvm_core_event *ev);

/* Invalidation batching (batch.c). */
int pkvm_iommu_batch_init(void);
void pkvm_iommu_batch_exit(void);
/* One change of enum pkvm_iommu_op_code (op already checked < 4). */
int pkvm_iommu_batch_single(u32 op, u64 addr, u64 len, u32 owner);
/* ops: physically contiguous, 32-byte aligned; *done changes made. */
int pkvm_iommu_batch_apply(struct pkvm_iommu_op *ops, u32 nr, u32 *done);

/* The pKVM transport (hvc_pkvm.c): the core_env call, and the load probes. */
s64 pkvm_iommu_el2_call(void *ctx, u64 fn, const u64 a[6]);
int pkvm_iommu_el2_probe(void);
/* Whether pKVM runs the shadow (and so owns the SMMUs): host mode refuses. */
bool pkvm_iommu_el2_has_shadow(void);

void pkvm_iommu_events_start(void);
void pkvm_iommu_events_stop(void);
/* The host core's event sink (core_env.h). */
void pkvm_iommu_events_sink(void *ctx, const struct pkvm_core_event *ev);

/*
 * Idle compaction (compact.c). _start sets the default fold mode after
 * INIT; _changed (every ownership change) and _config (after a mode or
 * idle time was set) are called with pkvm->lock held; _stop, without it,
 * before the host core goes away.
 */
void pkvm_iommu_compact_start(void);
void pkvm_iommu_compact_changed(void);
void pkvm_iommu_compact_config(void);
void pkvm_iommu_compact_stop(void);

#endif
