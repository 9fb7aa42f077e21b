/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A software SMMUv3 for tests and the simulation backend.
 *
 * It reads the same memory the driver writes: a register page (a buffer
 * the driver reaches with hyp_readl/hyp_writel, stepping the model on every
 * write, see sim_mmio.h) and, by physical address through the windows of
 * sim_phys_map(), the command and event queues, the stream table and the
 * stage-2 tables. It executes commands, and keeps a TLB, a walk cache and
 * an STE cache that stay stale until a command invalidates them, as
 * hardware may: a missing or too narrow invalidation shows up as a DMA
 * that still translates.
 *
 * The model decodes every field on its own (explicit bit positions from
 * IHI 0070 H.a and the Arm ARM), independently of kmod/hyp/smmu_regs.h, so
 * that a wrong constant in the driver is not mirrored here.
 *
 * Not modelled: stage 1 and context descriptors (such STEs give
 * C_BAD_STE), 16K/64K granules, stalls, PRI, ATS, MSIs other than
 * CMD_SYNC's, big-endian tables.
 */
#ifndef PKVM_SIM_SMMU_MODEL_H
#define PKVM_SIM_SMMU_MODEL_H

#include <pkvm_env.h>

#define SMMU_MODEL_REGS_SIZE	0x20000u	/* two 64 KiB pages */
#define SMMU_MODEL_TLB_ENTRIES	256u
#define SMMU_MODEL_WALK_ENTRIES	64u
#define SMMU_MODEL_CFG_ENTRIES	32u

/*
 * smmu_model_dma() returns 0 when every page translated, the event type
 * (F_TRANSLATION 0x10, C_BAD_STE 0x04, ...) of the first fault, recorded
 * in the event queue when the configuration asks for it, or:
 */
#define SMMU_MODEL_ABORT	0x100	/* terminated without an event */
#define SMMU_MODEL_CERROR_ALWAYS	(~0u)	/* smmu_model.cerror_next */

struct smmu_model_cfg {
	bool s1;		/* SMMU_IDR0 */
	bool s2;
	u32 ttf;		/* 2 AArch64, 3 both, 1 AArch32 only */
	bool two_level;
	bool coherent;
	u32 ttendian;
	bool vmid16;
	bool sev;
	u32 sidsize;		/* SMMU_IDR1 */
	u32 cmdqs;
	u32 evtqs;
	bool ril;		/* SMMU_IDR3 */
	u32 bbml;
	bool gran4k;		/* SMMU_IDR5 */
	bool gran16k;
	bool gran64k;
	u32 oas;		/* IDR5.OAS encoding: 4 = 44 bits */
	bool config_cache;	/* cache STEs until CMD_CFGI_* */
	bool walk_cache;	/* cache table descriptors until a non-leaf TLBI */
	u64 sync_ns;		/* CMD_SYNC completion latency, see smmu_model */
};

/*
 * A capable SMMUv3.2: stage 2, 2-level table, RIL, BBML2, 44-bit OAS,
 * 1 us per CMD_SYNC.
 */
void smmu_model_default_cfg(struct smmu_model_cfg *cfg);

/* A cached translation, as smmu_model_tlb_for_each() shows it. */
struct smmu_model_tlbe {
	bool valid;
	u16 vmid;
	u8 level;
	u64 ipa;		/* block base */
	u64 size;
	u64 pa;
	bool r;
	bool w;
};

struct smmu_model_walke {
	bool valid;
	u16 vmid;
	u8 level;		/* level of the table it points to */
	u64 ipa;		/* span of the descriptor that pointed to it */
	u64 size;
	u64 table;
};

struct smmu_model_cfge {
	bool valid;
	u32 sid;
	u64 ste[8];
};

struct smmu_model_stats {
	u64 cmds[256];		/* executed, by opcode */
	u64 syncs;		/* completed */
	/* hyp_now_ns() when the last CMD_SYNC was reached and completed */
	u64 sync_reached_ns;
	u64 sync_done_ns;
	u64 cmd_errors;
	u64 dma;
	u64 tlb_hits;
	u64 tlb_misses;
	u64 walks;
	u64 ste_fetches;
	u64 events;
	u64 events_lost;
	/* a leaf filled while an overlapping one of another size was cached */
	u64 tlb_overlaps;
};

struct smmu_model {
	u8 *regs;
	struct smmu_model_cfg cfg;
	/* registers the SMMU owns, mirrored into regs after every step */
	u32 idr[6];
	u32 cr0ack;
	u32 irq_ctrlack;
	u32 gerror;
	u32 gbpa;
	u32 cmdq_cons;
	u32 evtq_prod;
	struct smmu_model_tlbe tlb[SMMU_MODEL_TLB_ENTRIES];
	u32 tlb_next;
	u32 tlb_filled;		/* slots ever written: [0, tlb_filled) */
	struct smmu_model_walke walk[SMMU_MODEL_WALK_ENTRIES];
	u32 walk_next;
	u32 walk_filled;
	struct smmu_model_cfge cfgc[SMMU_MODEL_CFG_ENTRIES];
	u32 cfgc_next;
	struct smmu_model_stats stats;
	/*
	 * Fault injection, set by a test (or the simulation backend) at any
	 * time, between or in the middle of the driver's operations; each
	 * holds until cleared.
	 */
	bool stall_cmdq;	/* consume nothing: every CMD_SYNC times out */
	bool stall_cr0ack;	/* CR0ACK stops following CR0 */
	/*
	 * Commands before a CMD_SYNC run, the CMD_SYNC itself never
	 * completes: CONS stays on it, so the driver's bounded wait runs out
	 * with the invalidations perhaps done, never confirmed.
	 */
	bool stall_sync;
	/*
	 * The next cerror_next commands other than CMD_SYNC fail with
	 * CERROR_ILL (IHI 0070 H.a, 7.1): the queue stops on the command,
	 * CMDQ_CONS.ERR says ILL, GERROR.CMDQ_ERR toggles, until software
	 * acknowledges in GERRORN. SMMU_MODEL_CERROR_ALWAYS: every one.
	 */
	u32 cerror_next;
	/*
	 * Every event record is lost as if the queue were full (3.5.x):
	 * EVTQ_PROD.OVFLG toggles once, until software acknowledges it with
	 * EVTQ_CONS.OVACKFLG; records go in again once this is cleared.
	 */
	bool evtq_drop;
	/*
	 * CMD_SYNC completion latency: CONS stays on a CMD_SYNC until
	 * sync_ns of hyp_now_ns() have passed since the PROD write that
	 * handed it over (the SMMU draining its outstanding work), so a
	 * driver polling CONS busy-waits that long. With a latency, a PROD
	 * write only hands over the commands; they run on the driver's next
	 * poll of CONS or GERROR, so several models drain at the same time,
	 * as several SMMUs do. 0 executes at the PROD write and completes at
	 * once, as before. From cfg.sync_ns; may be changed while idle.
	 */
	u64 sync_ns;
	u64 sync_due;		/* when the CMD_SYNC at CONS completes; 0: none */
	u64 kick_ns;		/* when the current sync began to drain */
	bool pending;		/* commands handed over, not yet run */
	u64 now;		/* hyp_now_ns() of the current step; 0: not read */
	pthread_mutex_t lock;
};

/* regs: SMMU_MODEL_REGS_SIZE bytes the model owns from now on. */
int smmu_model_init(struct smmu_model *m, void *regs,
		    const struct smmu_model_cfg *cfg);
void smmu_model_fini(struct smmu_model *m);

/* Process the command queue now (after clearing stall_cmdq). */
void smmu_model_step(struct smmu_model *m);

/* A transaction of len bytes (0 counts as 1) from sid at addr. */
int smmu_model_dma(struct smmu_model *m, u32 sid, u64 addr, u64 len, bool write);

/* Does any cached translation output to the page of pa? */
bool smmu_model_tlb_maps(struct smmu_model *m, u64 pa);
typedef int (*smmu_model_tlb_fn)(const struct smmu_model_tlbe *e, void *arg);
/* Stops at and returns the first non-zero fn result. */
int smmu_model_tlb_for_each(struct smmu_model *m, smmu_model_tlb_fn fn, void *arg);

#endif /* PKVM_SIM_SMMU_MODEL_H */
