/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hyp core's one entry point, SMCCC style: a function id and up to six
 * register-sized arguments in, one signed register out (a value >= 0, or a
 * negative errno). The pKVM transport reaches it through a hypercall, host
 * mode through a direct call; both pass the same registers.
 *
 * The caller is the host kernel, which pKVM does not trust: every argument
 * is checked, and a refused call changes nothing.
 *
 * SMCCC (Arm DEN 0028) function id: bit 31 fast call, bit 30 SMC64,
 * bits [29:24] owning entity 6 = Vendor Specific Hypervisor Service,
 * bits [15:0] function number.
 */
#ifndef PKVM_HVC_H
#define PKVM_HVC_H

#include "hyp_env.h"
#include "s2_pgtable.h"
#include "smmu_dev.h"
#include "smmu_tlb.h"

#define PKVM_IOMMU_HVC_BASE	0xc6000100u
#define PKVM_IOMMU_HVC(n)	(PKVM_IOMMU_HVC_BASE + (n))

enum pkvm_iommu_hvc_fn {
	/* (regions_pa, nr_regions, pool_pa, pool_pages, split_policy, level) */
	PKVM_IOMMU_HVC_INIT = PKVM_IOMMU_HVC(0),
	/* (regs_pa, mem_pa, mem_pages) -> smmu index */
	PKVM_IOMMU_HVC_SMMU_ADD = PKVM_IOMMU_HVC(1),
	/* (smmu, sid, enum pkvm_stream_policy) */
	PKVM_IOMMU_HVC_STREAM_ATTACH = PKVM_IOMMU_HVC(2),
	/* (smmu, sid): back to block, never to bypass */
	PKVM_IOMMU_HVC_STREAM_DETACH = PKVM_IOMMU_HVC(3),
	/*
	 * The four ownership changes, in the order of enum
	 * pkvm_iommu_op_code (PKVM_IOMMU_HVC_OP()).
	 */
	/* (addr, size, owner) */
	PKVM_IOMMU_HVC_DONATE = PKVM_IOMMU_HVC(4 + PKVM_IOMMU_OP_DONATE),
	/* (addr, size, owner) */
	PKVM_IOMMU_HVC_RECLAIM = PKVM_IOMMU_HVC(4 + PKVM_IOMMU_OP_RECLAIM),
	/* (addr, size) */
	PKVM_IOMMU_HVC_SHARE = PKVM_IOMMU_HVC(4 + PKVM_IOMMU_OP_SHARE),
	/* (addr, size) */
	PKVM_IOMMU_HVC_UNSHARE = PKVM_IOMMU_HVC(4 + PKVM_IOMMU_OP_UNSHARE),
	/* (enum pkvm_split_policy, presplit level) */
	PKVM_IOMMU_HVC_SPLIT_POLICY = PKVM_IOMMU_HVC(8),
	/* (enum pkvm_iommu_stat) -> value */
	PKVM_IOMMU_HVC_STATS_READ = PKVM_IOMMU_HVC(9),
	/* (smmu, out_pa): one decoded event to host memory -> 1, or 0 if none */
	PKVM_IOMMU_HVC_EVENT_POP = PKVM_IOMMU_HVC(10),
	/*
	 * (ops_pa, nr): struct pkvm_iommu_op[nr] in host memory, one flush
	 * -> changes made (op[ret].result says why the next was refused), or
	 * a negative errno: refused outright, or the flush failed.
	 */
	PKVM_IOMMU_HVC_BATCH = PKVM_IOMMU_HVC(11),
	PKVM_IOMMU_HVC_LAST = PKVM_IOMMU_HVC_BATCH,
};

/* The hypercall of one ownership change (op < PKVM_IOMMU_OP_NR). */
#define PKVM_IOMMU_HVC_OP(op)	((u64)PKVM_IOMMU_HVC_DONATE + (op))

#define PKVM_IOMMU_MAX_SMMUS	SMMU_TLB_MAX_DEVS
#define PKVM_IOMMU_VMID		1u
/* Queue sizes the hyp core gives every SMMU: one page each. */
#define PKVM_IOMMU_CMDQ_LOG2	8u	/* 256 x 16 bytes */
#define PKVM_IOMMU_EVTQ_LOG2	7u	/* 128 x 32 bytes */

/* An event as the host receives it (EVENT_POP), little-endian u64s. */
struct pkvm_iommu_event {
	u64 type;	/* SMMU event number, e.g. 0x10 F_TRANSLATION */
	u64 sid;
	u64 addr;	/* input address of the faulting access */
	u64 flags;	/* bit 0 write, bit 1 stage 2, bit 2 queue overflowed */
};

struct pkvm_iommu_smmu {
	struct smmu_dev dev;
	u64 regs_pa;
	u64 mem_pa;
	u64 mem_pages;
	u64 l2_next;	/* next unused page of mem for level-2 stream tables */
};

/* All the hyp core's state: static storage, the EL2 way. */
struct pkvm_iommu_hyp {
	bool ready;
	bool split_auto;
	struct s2_pgtable pgt;
	struct smmu_tlb_domain dom;
	struct pkvm_iommu_smmu smmu[PKVM_IOMMU_MAX_SMMUS];
	u32 nr_smmus;
	hyp_spinlock_t lock;	/* configuration calls; the engine has its own */
};

void pkvm_iommu_hyp_setup(struct pkvm_iommu_hyp *hyp);
s64 pkvm_iommu_hvc(struct pkvm_iommu_hyp *hyp, u64 fn, const u64 args[6]);

#endif /* PKVM_HVC_H */
