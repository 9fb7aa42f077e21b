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
	/*
	 * (regions_pa, nr_regions, pool_pa, pool_pages, split_policy, level);
	 * with an ownership source (pkvm_iommu_hyp_set_ownership()) the
	 * regions are its own and regions_pa, nr_regions are not read.
	 */
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
	/*
	 * What the host reads of the hyp core's state, each into one page
	 * the host owns (out_pa 8-byte aligned, the answer inside its page);
	 * nothing is taken before the page is known to be writable.
	 *
	 * (out_pa, max): struct pkvm_iommu_ring_hdr, then up to max oldest
	 * records of the ownership-event ring -> records taken
	 */
	PKVM_IOMMU_HVC_RING_POP = PKVM_IOMMU_HVC(12),
	/* (out_pa): struct pkvm_iommu_hyp_info -> 0 */
	PKVM_IOMMU_HVC_INFO = PKVM_IOMMU_HVC(13),
	/* (smmu, out_pa): struct pkvm_iommu_hyp_smmu_info -> 0 */
	PKVM_IOMMU_HVC_SMMU_INFO = PKVM_IOMMU_HVC(14),
	/*
	 * (from, out_pa, max): struct pkvm_iommu_ledger_hdr, then up to max
	 * runs of the ledger from the page-aligned address from up (memory
	 * that is not plain host memory, maximal runs of one owner and
	 * sharing) -> runs written; hdr.resume is where the next read starts,
	 * 2^ias when the walk reached the top
	 */
	PKVM_IOMMU_HVC_LEDGER_READ = PKVM_IOMMU_HVC(15),
	/*
	 * (budget): fold at most budget tables (1..PKVM_IOMMU_COMPACT_MAX),
	 * so one call holds the engine's lock for a bounded time -> tables
	 * folded, | PKVM_IOMMU_COMPACT_MORE when more may remain (call
	 * again). Changes no ownership: allowed under pKVM too.
	 */
	PKVM_IOMMU_HVC_COMPACT = PKVM_IOMMU_HVC(16),
	/* (enum pkvm_fold_mode): EAGER compacts fully first -> 0 */
	PKVM_IOMMU_HVC_FOLD_MODE = PKVM_IOMMU_HVC(17),
	PKVM_IOMMU_HVC_LAST = PKVM_IOMMU_HVC_FOLD_MODE,
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

/* RING_POP's page: this header, then nr records (struct s2_ring_rec). */
/*
 * Records were dropped since the last pop, after the ones kept: the next
 * record's generation jumps, and hdr.generation already counts them.
 */
#define PKVM_IOMMU_RING_LOST	HYP_BIT(0)
struct pkvm_iommu_ring_hdr {
	u64 generation;	/* the hyp core's generation when popped */
	u32 nr;
	u32 flags;	/* PKVM_IOMMU_RING_* */
};

struct pkvm_iommu_hyp_info {
	u64 generation;	/* ownership changes made (the ring's numbering) */
	u64 mem_pages;
	u32 ias;
	u32 nr_smmus;
	u32 host_changes_refused;	/* pKVM mode: ownership is pKVM's alone */
	u32 reserved;
	u64 ring_dropped;	/* ring records lost to overflow, in total */
};

struct pkvm_iommu_hyp_smmu_info {
	u32 idr[6];	/* SMMU_IDR0..5 as read (2 and 4 unread: 0) */
	u32 features;	/* PKVM_IOMMU_FEAT_* */
	u32 sidsize;
	u32 oas;
	u32 bbml;
	u32 dead;	/* failed closed: aborts all traffic */
	u32 reserved;
	u64 events;
	u64 overflows;
	u64 sync_timeouts;
	u64 cmd_errors;
};

/* LEDGER_READ's page: this header, then nr runs. */
#define PKVM_IOMMU_RUN_SHARED	HYP_BIT(0)
#define PKVM_IOMMU_LEDGER_END	HYP_BIT(0)	/* the walk reached the top */
struct pkvm_iommu_ledger_hdr {
	u64 generation;	/* the hyp core's generation when read */
	u64 resume;
	u32 nr;
	u32 flags;	/* PKVM_IOMMU_LEDGER_* */
};

struct pkvm_iommu_ledger_run {
	u64 addr;
	u64 len;
	u32 owner;
	u32 flags;	/* PKVM_IOMMU_RUN_* */
};

struct pkvm_iommu_smmu {
	struct smmu_dev dev;
	u64 regs_pa;
	u64 mem_pa;
	u64 mem_pages;
	u64 l2_next;	/* next unused page of mem for level-2 stream tables */
};

/*
 * What pKVM knows and the host must not be asked: its own copy of the
 * memory map (hyp_memory[]) and who owns each page at this moment. INIT
 * takes the regions from here instead of the host, and seeds the shadow
 * with every page the host can no longer reach, so DMA into the
 * hypervisor's carve-out or into pages given away before INIT faults.
 *
 * lock() and unlock() hold off every ownership transition (pKVM's host
 * stage-2 lock): INIT builds, seeds and enables the shadow under them, so
 * no transition falls between the seed and the hook taking over.
 * for_each_nonhost() calls fn for each run of memory the host neither
 * owns nor shares, in address order, with its owner (PKVM_OWNER_HYP or a
 * guest's id); it stops at fn's first error and returns it.
 */
typedef int (*pkvm_iommu_seed_fn)(void *ctx, u64 addr, u64 size, u32 owner);
struct pkvm_iommu_ownership {
	const struct s2_region *regions;	/* sorted, disjoint, page aligned */
	u32 nr_regions;
	void (*lock)(void *arg);
	void (*unlock)(void *arg);
	int (*for_each_nonhost)(void *arg, pkvm_iommu_seed_fn fn, void *ctx);
	void *arg;
};

/* All the hyp core's state: static storage, the EL2 way. */
struct pkvm_iommu_hyp {
	bool ready;
	bool split_auto;
	struct s2_pgtable pgt;
	struct smmu_tlb_domain dom;
	struct pkvm_iommu_smmu smmu[PKVM_IOMMU_MAX_SMMUS];
	u32 nr_smmus;
	/* Under pKVM: DONATE/RECLAIM/SHARE/UNSHARE/BATCH from the host: -EPERM. */
	bool host_changes_refused;
	/*
	 * Under pKVM: the register bases of the SMMUs claimed at boot, the
	 * only ones SMMU_ADD takes (claims_only).
	 */
	bool claims_only;
	u32 nr_claimed;
	u64 claimed[PKVM_IOMMU_MAX_SMMUS];
	struct s2_ring ring;	/* under the engine's lock */
	/* INIT's copy of the host's regions: too large for the EL2 stack. */
	struct s2_region init_regions[S2_MAX_REGIONS];
	/*
	 * RING_POP's and LEDGER_READ's answer, built under the engine's lock
	 * and copied to the host after it: the copy takes pKVM's host stage-2
	 * lock, which pKVM's hook holds when it takes the engine's. Under
	 * hyp->lock, like every call.
	 */
	u64 answer[HYP_PAGE_SIZE / sizeof(u64)];
	hyp_spinlock_t lock;	/* configuration calls; the engine has its own */
	/* pKVM's view of memory and ownership for INIT, or NULL: the host's. */
	const struct pkvm_iommu_ownership *own;
	u64 seed_ns;	/* how long INIT's seed from own took */
	/*
	 * The cost of pKVM's hook, by the environment's clock: transitions
	 * committed, ns in prepare + commit in total and at most, and the
	 * pending prepare's ns. Under the engine's lock.
	 */
	struct {
		u64 transitions;
		u64 ns;
		u64 max_ns;
		u64 prepare_ns;
	} hook;
};

void pkvm_iommu_hyp_setup(struct pkvm_iommu_hyp *hyp);
/* Before INIT (the EL2 build: before the host is deprivileged). */
void pkvm_iommu_hyp_set_ownership(struct pkvm_iommu_hyp *hyp,
				  const struct pkvm_iommu_ownership *own);
s64 pkvm_iommu_hvc(struct pkvm_iommu_hyp *hyp, u64 fn, const u64 args[6]);

/*
 * pKVM mode: only pKVM's own transitions change ownership; the host's
 * ownership calls are refused (-EPERM). For the EL2 build, before the
 * host is deprivileged.
 */
void pkvm_iommu_hyp_refuse_host_changes(struct pkvm_iommu_hyp *hyp);

/*
 * pKVM mode, before the host is deprivileged: from now on SMMU_ADD takes
 * only an SMMU claimed by pkvm_iommu_hyp_claim_smmu() (-EACCES for any
 * other register base): the host does not get to name an SMMU.
 */
void pkvm_iommu_hyp_require_claims(struct pkvm_iommu_hyp *hyp);

/*
 * pKVM mode, before the host is deprivileged: the SMMU whose registers
 * are [regs_pa, regs_pa + size) (at least its two 64 KiB pages) is the
 * hypervisor's. Its registers are mapped (hyp_mmio_map(), which takes them
 * from the host) and it aborts all traffic (smmu_regs_abort_all()) until
 * SMMU_ADD brings it up with every stream blocked, so no device behind it
 * reaches memory in between. 0; -EINVAL (alignment, size), -EEXIST,
 * -ENOSPC (PKVM_IOMMU_MAX_SMMUS claimed), -ENXIO (not mappable),
 * -ETIMEDOUT (it did not acknowledge: traffic may still pass).
 */
int pkvm_iommu_hyp_claim_smmu(struct pkvm_iommu_hyp *hyp, u64 regs_pa, u64 size);

/*
 * pKVM's hook: the host loses (access false, the range going to owner:
 * PKVM_OWNER_HYP or a guest's id) or regains (access true) access to
 * [addr, addr + size), in two phases, both under pKVM's host stage-2 lock
 * and in this order for one transition at a time:
 *
 *  - pkvm_iommu_host_prepare(), in pKVM's check phase, before it changes
 *    anything: 0, or why the shadow cannot follow (-ENOMEM the table
 *    pool is too small, -EPERM memory the shadow pins, -EINVAL, -ERANGE,
 *    -EBUSY another transition is prepared); pKVM then refuses the
 *    transition with that error;
 *  - pkvm_iommu_host_commit() where the host's access really changes
 *    (7.3: __host_update_page_state()), with the same arguments; it cannot
 *    run out of pages. It returns 0, or -ETIMEDOUT/-EIO when an SMMU did
 *    not answer the invalidation: the change is made and that SMMU aborts
 *    all its traffic from now on (fail closed), nothing for pKVM to undo;
 *  - pkvm_iommu_host_cancel() instead of the commit when pKVM gave up
 *    after a successful prepare.
 * A transition that cannot change host access (share states) may skip
 * the prepare: the commit then checks for itself.
 *
 * Transitions that leave host access as it is (share states, a reclaim
 * of memory the shadow maps, a donation of memory already unmapped for
 * that owner) change nothing and record nothing. Before INIT there is no
 * shadow yet and all three do nothing. Each change made is recorded in
 * the ring as DONATE or RECLAIM (s2_host_prepare() in s2_pgtable.h).
 */
int pkvm_iommu_host_prepare(struct pkvm_iommu_hyp *hyp, u64 addr, u64 size,
			    bool access, u32 owner);
int pkvm_iommu_host_commit(struct pkvm_iommu_hyp *hyp, u64 addr, u64 size,
			   bool access, u32 owner);
void pkvm_iommu_host_cancel(struct pkvm_iommu_hyp *hyp);

#endif /* PKVM_HVC_H */
