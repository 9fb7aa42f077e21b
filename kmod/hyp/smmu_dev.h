/* SPDX-License-Identifier: GPL-2.0 */
/*
 * One SMMUv3 instance: bring-up and per-stream configuration.
 *
 * Nothing is allocated here. The caller passes the physical addresses of
 * the stream table and the two queues, carved from memory it owns and has
 * already taken away from the host (a device that can DMA into its own STE
 * or into the command queue escapes every check), and a page source for
 * the level-2 stream tables of a two-level table.
 */
#ifndef PKVM_SMMU_DEV_H
#define PKVM_SMMU_DEV_H

#include "hyp_env.h"
#include "smmu_cmdq.h"
#include "smmu_evtq.h"
#include "smmu_probe.h"
#include "smmu_ste.h"

struct smmu_page_src {
	/* pa of a zeroed 4 KiB page the host cannot reach, or 0 when none */
	u64 (*alloc)(void *cookie);
	void *cookie;
};

struct smmu_dev_config {
	void *regs;		/* both 64 KiB register pages, mapped */
	u32 pa_bits;		/* bits of the memory map's top address */
	u64 strtab_pa;
	u64 strtab_size;
	enum smmu_strtab_fmt strtab_fmt;
	u32 sid_bits;		/* StreamIDs to cover; 0: all of SIDSIZE */
	u64 cmdq_pa;		/* 16 << cmdq_log2 bytes, aligned to that */
	u32 cmdq_log2;
	u64 evtq_pa;		/* 32 << evtq_log2 bytes, aligned to that */
	u32 evtq_log2;
	struct smmu_page_src l2_pages;	/* needed by a two-level table */
	u32 irq_ctrl;		/* SMMU_IRQ_CTRL_* to enable; 0: the host polls */
	u64 timeout_ns;		/* every bounded wait; 0: SMMU_CMDQ_TIMEOUT_NS */
};

struct smmu_dev {
	u8 *regs;
	struct smmu_features feat;
	struct smmu_strtab strtab;
	struct smmu_cmdq cmdq;
	struct smmu_evtq evtq;	/* one consumer; not under lock */
	struct smmu_page_src l2_pages;
	u64 timeout_ns;
	u64 nr_ste_writes;
	bool dead;		/* failed closed: aborts all traffic, for good */
	/*
	 * What the driver itself has to tell the host, once each, ahead of
	 * the SMMU's records (smmu_dev_event_pop): SMMU_NOTICE_*, with the
	 * errno of the failure and CMDQ_CONS.ERR of the last command error.
	 */
	u32 notices;
	u32 notice_errno;
	u32 notice_cerror;
	hyp_spinlock_t lock;	/* command queue, stream table, notices */
};

/* Told lowest bit first: the cause before the failure. */
#define SMMU_NOTICE_CMD_ERROR	HYP_BIT(0)	/* PKVM_IOMMU_EVT_CMD_ERROR */
#define SMMU_NOTICE_FAILED	HYP_BIT(1)	/* PKVM_IOMMU_EVT_SMMU_FAILED */

/*
 * Probe (errors of smmu_features_check()), lay out the tables and queues
 * (-EINVAL, -ENOMEM as smmu_strtab_init()), then the architected bring-up:
 * GBPA abort, disable, CR1/CR2, table and queue bases, command queue on,
 * CMD_CFGI_ALL + CMD_TLBI_NSNH_ALL + CMD_SYNC, event queue on, SMMUEN.
 * Every CR0 write waits for CR0ACK, bounded: -ETIMEDOUT. A refusal
 * touches no register. After any other failure the SMMU has been turned
 * off again (CR0 = 0, GBPA abort) unless the result is -ETIMEDOUT, which
 * means it may still read the memory it was given: keep that memory.
 */
int smmu_dev_init(struct smmu_dev *d, const struct smmu_dev_config *cfg);

/*
 * Give sid a policy. s2 is needed (and checked) for SMMU_POLICY_ISOLATE
 * only. -ERANGE: sid beyond the stream table (so beyond 2^SIDSIZE);
 * -EINVAL: unknown policy or missing s2; -ENOMEM: no page for a level-2
 * table; errors of smmu_ste_isolate(); -ETIMEDOUT/-EIO from the command
 * queue. Nothing changes on a validation error.
 */
int smmu_stream_set(struct smmu_dev *d, u32 sid, enum smmu_policy policy,
		    const struct smmu_s2_params *s2);

/*
 * The SMMU did not complete an invalidation, so it may still hold
 * translations of memory the host gave away: make it abort all incoming
 * traffic, for good, by register writes alone (its command queue is what
 * failed), and turn every STE into abort as well. Called with d->lock
 * held; err (-ETIMEDOUT, -EIO) is what the host is told. A dead SMMU
 * refuses stream changes (-EIO) and is left out of later invalidations:
 * it translates nothing.
 */
void smmu_dev_fail_closed(struct smmu_dev *d, int err);

/*
 * EVENT_POP's source: the driver's notices first (a command error, a
 * failed-closed SMMU: type PKVM_IOMMU_EVT_*, sid all ones, the
 * detail in addr), then smmu_evtq_pop()'s records and overflow flag.
 * The notices are taken under d->lock, as they are raised.
 */
int smmu_dev_event_pop(struct smmu_dev *d, struct smmu_event *ev, bool *overflow);

/*
 * Make the SMMU whose two register pages are mapped at regs abort all
 * incoming traffic by register writes alone: SMMU_GBPA.ABORT, then SMMUEN
 * 0 once GBPA reads ABORT. Needs no queue or table, so it also serves an
 * SMMU nobody has brought up. 0, or -ETIMEDOUT: GBPA's update or CR0ACK
 * did not complete within timeout_ns, and traffic may still pass.
 */
int smmu_regs_abort_all(void *regs, u64 timeout_ns);

/* A lone CMD_SYNC: wait for everything queued so far. */
int smmu_dev_sync(struct smmu_dev *d);

/*
 * The split policy `auto` resolves to: hitless only when every SMMU that
 * walks the table reports SMMU_IDR3.BBML level 2, else break-before-make.
 */
enum pkvm_split_policy smmu_split_policy_auto(const struct smmu_features *f);
enum pkvm_split_policy smmu_split_policy_auto_all(struct smmu_dev *const *devs,
						  u32 nr);

#endif /* PKVM_SMMU_DEV_H */
