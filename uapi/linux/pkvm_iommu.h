/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * pkvm-iommu ABI shared by the hyp core, the kernel module, the daemon and
 * the CLI. Every constant that more than one part needs lives here, once.
 */
#ifndef _UAPI_LINUX_PKVM_IOMMU_H
#define _UAPI_LINUX_PKVM_IOMMU_H

#include <linux/ioctl.h>
#include <linux/types.h>

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

/*
 * When a table whose entries became uniform is folded back into one entry:
 * in the change that made it so (EAGER: the table is minimal at every
 * instant, a reclaim pays a fold and a sync), or only when compacted or
 * when the table pool runs low (LAZY: a reclaim writes one descriptor
 * per leaf and invalidates nothing).
 */
enum pkvm_fold_mode {
	PKVM_FOLD_EAGER = 0,
	PKVM_FOLD_LAZY = 1,
};

/*
 * The hyp core's COMPACT call returns the tables it folded, with this bit
 * set when it stopped at its budget and more may remain.
 */
#define PKVM_IOMMU_COMPACT_MORE	(1ull << 32)
/* Largest budget (folds) one COMPACT call takes. */
#define PKVM_IOMMU_COMPACT_MAX	4096u

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
	/*
	 * pKVM's shadow hook (the EL2 build; 0 elsewhere): transitions it
	 * committed, and the time spent in them, prepare and commit together,
	 * in total and at most, in ns of the hypervisor's clock (the arch
	 * counter).
	 */
	PKVM_IOMMU_STAT_HOOK_TRANSITIONS,
	PKVM_IOMMU_STAT_HOOK_NS,
	PKVM_IOMMU_STAT_HOOK_MAX_NS,
	/* INIT's seed from pKVM's ownership, ns (0 without one). */
	PKVM_IOMMU_STAT_SEED_NS,
	/*
	 * Entries a split writes into a fresh table before linking it, which
	 * the SMMU cannot walk yet; DESC_WRITES counts stores into linked
	 * tables only.
	 */
	PKVM_IOMMU_STAT_TABLE_FILLS,
	/* COMPACT calls, and the tables compaction folded (all causes). */
	PKVM_IOMMU_STAT_COMPACTIONS,
	PKVM_IOMMU_STAT_COMPACT_FOLDS,
	/* LAZY: changes that folded first because the pool ran low. */
	PKVM_IOMMU_STAT_PRESSURE_RELIEFS,
	PKVM_IOMMU_STAT_FOLD_MODE,	/* enum pkvm_fold_mode in force */
	PKVM_IOMMU_STAT_NR,
};

/* Levels of the 4 KiB granule: 1 GiB blocks at 1, 2 MiB at 2, pages at 3. */
#define PKVM_LEVEL_1G		1u
#define PKVM_LEVEL_2M		2u
#define PKVM_LEVEL_4K		3u

/* ------------------------------------------------------------------ */
/* Character device /dev/pkvm-iommu                                    */
/* ------------------------------------------------------------------ */

#define PKVM_IOMMU_ABI_VERSION	1
#define PKVM_IOMMU_DEVICE	"/dev/pkvm-iommu"

enum pkvm_iommu_backend {
	PKVM_IOMMU_BACKEND_HOST = 1,	/* hyp core runs in the module at EL1 */
	PKVM_IOMMU_BACKEND_PKVM = 2,	/* hyp core at EL2, reached by hypercalls */
	PKVM_IOMMU_BACKEND_SIM = 3,	/* user-space simulation (daemon only) */
};

/*
 * Every argument struct starts with its own size, so it can grow: the
 * kernel accepts a larger struct whose extra bytes are zero, and a smaller
 * one down to the first version's size (PKVM_IOMMU_*_SIZE_VER0). Unknown
 * flags are -EINVAL.
 */

/* PKVM_IOMMU_IOC_INFO: what this device is. */
struct pkvm_iommu_info {
	__u32 size;
	__u32 abi_version;
	__u32 backend;		/* enum pkvm_iommu_backend */
	__u32 nr_smmus;
	__u32 split_policy;	/* enum pkvm_split_policy in force */
	__u32 ias;		/* input bits of the shadow stage 2 */
	__u64 mem_bytes;	/* memory the shadow maps, all owners */
	__u64 generation;	/* bumped by every ownership change */
};
#define PKVM_IOMMU_INFO_SIZE_VER0	40

/* Decoded SMMU features (bits of pkvm_iommu_smmu_info.features). */
#define PKVM_IOMMU_FEAT_S1		(1u << 0)
#define PKVM_IOMMU_FEAT_S2		(1u << 1)
#define PKVM_IOMMU_FEAT_2LVL_STRTAB	(1u << 2)
#define PKVM_IOMMU_FEAT_COHERENT	(1u << 3)
#define PKVM_IOMMU_FEAT_RIL		(1u << 4)
#define PKVM_IOMMU_FEAT_VMID16		(1u << 5)
#define PKVM_IOMMU_FEAT_GRAN4K		(1u << 6)

/*
 * Fault types above the SMMU's own 8-bit event numbers: what the driver
 * reports about a whole SMMU (PKVM_IOMMU_A_SID all ones), with a detail
 * in PKVM_IOMMU_A_ADDR.
 *  SMMU_FAILED  an invalidation could not be confirmed and the SMMU failed
 *               closed: it aborts all traffic from now on; addr is the
 *               errno (ETIMEDOUT: a CMD_SYNC did not complete; EIO: a
 *               command error or a service failure)
 *  CMD_ERROR    the SMMU stopped its command queue on an error
 *               (SMMU_CMDQ_CONS.ERR in addr, 1 CERROR_ILL): the command
 *               was skipped and the error acknowledged; SMMU_FAILED
 *               follows, as what the command stood for was not done
 * An event queue overflow is a record of type 0 with flag bit 2.
 */
#define PKVM_IOMMU_EVT_SMMU_FAILED	0x100u
#define PKVM_IOMMU_EVT_CMD_ERROR	0x101u

/* PKVM_IOMMU_IOC_SMMU_INFO: one SMMU, raw and decoded. */
struct pkvm_iommu_smmu_info {
	__u32 size;
	__u32 index;		/* in: which SMMU */
	__u64 base;		/* physical address of its registers */
	__u32 idr[6];		/* SMMU_IDR0..5 as read */
	__u32 features;		/* PKVM_IOMMU_FEAT_* */
	__u32 sidsize;		/* StreamID bits */
	__u32 oas;		/* output address bits */
	__u32 bbml;		/* break-before-make level 0..2 */
	__u64 events;		/* event records read */
	__u64 overflows;	/* times the event queue overflowed */
	__u32 failed;		/* 1: failed closed, aborts all traffic */
	__u32 reserved;
	__u64 sync_timeouts;	/* CMD_SYNCs that did not complete in time */
	__u64 cmd_errors;	/* command errors (SMMU_GERROR.CMDQ_ERR) */
};
#define PKVM_IOMMU_SMMU_INFO_SIZE_VER0	72

/* PKVM_IOMMU_IOC_STREAM_GET / _SET: the policy of one stream. */
struct pkvm_iommu_stream {
	__u32 size;
	__u32 smmu;
	__u32 sid;
	__u32 policy;		/* enum pkvm_stream_policy */
};
#define PKVM_IOMMU_STREAM_SIZE_VER0	16

/* PKVM_IOMMU_IOC_SPLIT_POLICY: set how live blocks are split. */
struct pkvm_iommu_split {
	__u32 size;
	__u32 policy;		/* enum pkvm_split_policy */
	__u32 level;		/* PRESPLIT: largest block level, 1..3 */
	__u32 reserved;		/* must be 0 */
};
#define PKVM_IOMMU_SPLIT_SIZE_VER0	16

/*
 * PKVM_IOMMU_IOC_STATS: every counter of enum pkvm_iommu_stat that fits in
 * size. Counters are only ever appended: a caller built against fewer
 * (down to the first version's 16) gets those, and nr says how many.
 */
struct pkvm_iommu_stats {
	__u32 size;
	__u32 nr;		/* out: counters filled */
	__u64 counter[PKVM_IOMMU_STAT_NR];
};
#define PKVM_IOMMU_STATS_SIZE_VER0	(8 + 8 * 16)

/*
 * PKVM_IOMMU_IOC_DONATE / _RECLAIM / _SHARE / _UNSHARE: ownership of a
 * physical range. In host mode these stand where pKVM's own donations
 * would be (tests and bring-up); owner is ignored by share/unshare.
 */
struct pkvm_iommu_range {
	__u32 size;
	__u32 flags;		/* none defined: must be 0 */
	__u64 addr;
	__u64 len;
	__u32 owner;
	__u32 reserved;		/* must be 0 */
};
#define PKVM_IOMMU_RANGE_SIZE_VER0	32

/*
 * One ownership change of a batch (PKVM_IOMMU_IOC_BATCH, and the record the
 * hyp core reads from host memory in its BATCH call). 32 bytes, so a
 * naturally aligned record never straddles a page.
 */
enum pkvm_iommu_op_code {
	PKVM_IOMMU_OP_DONATE = 0,
	PKVM_IOMMU_OP_RECLAIM = 1,
	PKVM_IOMMU_OP_SHARE = 2,
	PKVM_IOMMU_OP_UNSHARE = 3,
	PKVM_IOMMU_OP_NR,
};

struct pkvm_iommu_op {
	__u32 op;		/* enum pkvm_iommu_op_code */
	__u32 owner;		/* DONATE/RECLAIM; ignored by SHARE/UNSHARE */
	__u64 addr;
	__u64 len;
	__s32 result;		/* out: 0, or the change's negative errno */
	__u32 reserved;		/* must be 0 */
};

/* Most changes one batch may carry (the policy's batch_max_ops bound). */
#define PKVM_IOMMU_BATCH_MAX	4096u

/*
 * PKVM_IOMMU_IOC_BATCH: nr changes in order. The module applies them in
 * groups of at most the invalidation batch size; each group shares one
 * invalidation (one CMD_SYNC). It stops at the first failing change: ops
 * [0, done) were made and are invalidated, ops[done].result says why the
 * next one was refused, the rest were not tried. The ioctl returns 0 when
 * done == nr and the failing change's error otherwise.
 */
struct pkvm_iommu_batch {
	__u32 size;
	__u32 flags;		/* none defined: must be 0 */
	__u32 nr;		/* 1..PKVM_IOMMU_BATCH_MAX */
	__u32 done;		/* out */
	__u64 ops;		/* user pointer to struct pkvm_iommu_op[nr] */
};
#define PKVM_IOMMU_BATCH_SIZE_VER0	24

/*
 * PKVM_IOMMU_IOC_INVALIDATION: how ownership changes share invalidations.
 * batch_max_ops bounds a group (1: every change syncs on its own);
 * batch_window_us is how long a single change (DONATE/RECLAIM/SHARE/
 * UNSHARE ioctl) may wait for concurrent ones to join its group (0: never
 * waits). A change is reported complete only after its group's sync.
 * batch_max_ops 0 only reads the values in force; either way they are
 * written back.
 */
struct pkvm_iommu_invalidation {
	__u32 size;
	__u32 batch_max_ops;	/* 1..PKVM_IOMMU_BATCH_MAX, 0: read only */
	__u32 batch_window_us;	/* 0..PKVM_IOMMU_BATCH_WINDOW_MAX_US */
	__u32 reserved;		/* must be 0 */
};
#define PKVM_IOMMU_INVALIDATION_SIZE_VER0	16
#define PKVM_IOMMU_BATCH_WINDOW_MAX_US	100000u

/*
 * PKVM_IOMMU_IOC_FOLD: when uniform tables fold back (enum pkvm_fold_mode),
 * and how the module compacts a LAZY table: after idle_ms without an
 * ownership change it calls COMPACT with at most compact_budget folds a
 * call (each call bounds how long the hypervisor holds the shadow's lock)
 * until nothing is left. idle_ms 0: the module never compacts (pool
 * pressure still folds). flags PKVM_IOMMU_FOLD_READ only reads the values
 * in force; either way they are written back.
 */
struct pkvm_iommu_fold {
	__u32 size;
	__u32 flags;		/* PKVM_IOMMU_FOLD_READ, or 0 */
	__u32 mode;		/* enum pkvm_fold_mode */
	__u32 compact_budget;	/* 1..PKVM_IOMMU_COMPACT_MAX */
	__u32 idle_ms;		/* 0..PKVM_IOMMU_FOLD_IDLE_MAX_MS */
	__u32 reserved;		/* must be 0 */
};
#define PKVM_IOMMU_FOLD_SIZE_VER0	24
#define PKVM_IOMMU_FOLD_READ		(1u << 0)
#define PKVM_IOMMU_FOLD_IDLE_MAX_MS	600000u
/* The module's defaults: LAZY, compacted 8 folds a call after 100 ms idle. */
#define PKVM_IOMMU_FOLD_DEFAULT_BUDGET	8u
#define PKVM_IOMMU_FOLD_DEFAULT_IDLE_MS	100u


#define PKVM_IOMMU_IOC_MAGIC	0xb7
#define PKVM_IOMMU_IOC_INFO		_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x00, struct pkvm_iommu_info)
#define PKVM_IOMMU_IOC_SMMU_INFO	_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x01, struct pkvm_iommu_smmu_info)
#define PKVM_IOMMU_IOC_STREAM_GET	_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x02, struct pkvm_iommu_stream)
#define PKVM_IOMMU_IOC_STREAM_SET	_IOW(PKVM_IOMMU_IOC_MAGIC, 0x03, struct pkvm_iommu_stream)
#define PKVM_IOMMU_IOC_SPLIT_POLICY	_IOW(PKVM_IOMMU_IOC_MAGIC, 0x04, struct pkvm_iommu_split)
#define PKVM_IOMMU_IOC_STATS		_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x05, struct pkvm_iommu_stats)
#define PKVM_IOMMU_IOC_DONATE		_IOW(PKVM_IOMMU_IOC_MAGIC, 0x06, struct pkvm_iommu_range)
#define PKVM_IOMMU_IOC_RECLAIM		_IOW(PKVM_IOMMU_IOC_MAGIC, 0x07, struct pkvm_iommu_range)
#define PKVM_IOMMU_IOC_SHARE		_IOW(PKVM_IOMMU_IOC_MAGIC, 0x08, struct pkvm_iommu_range)
#define PKVM_IOMMU_IOC_UNSHARE		_IOW(PKVM_IOMMU_IOC_MAGIC, 0x09, struct pkvm_iommu_range)
#define PKVM_IOMMU_IOC_BATCH		_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x0a, struct pkvm_iommu_batch)
#define PKVM_IOMMU_IOC_INVALIDATION	_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x0b, struct pkvm_iommu_invalidation)
#define PKVM_IOMMU_IOC_FOLD		_IOWR(PKVM_IOMMU_IOC_MAGIC, 0x0c, struct pkvm_iommu_fold)

/* ------------------------------------------------------------------ */
/* Generic netlink family "pkvm_iommu"                                 */
/* ------------------------------------------------------------------ */

#define PKVM_IOMMU_GENL_NAME		"pkvm_iommu"
#define PKVM_IOMMU_GENL_VERSION		1
#define PKVM_IOMMU_GENL_MCGRP_EVENTS	"events"

enum pkvm_iommu_genl_cmd {
	PKVM_IOMMU_CMD_UNSPEC,
	PKVM_IOMMU_CMD_LEDGER_GET,	/* dump: one message per non-host run */
	PKVM_IOMMU_CMD_STATS_GET,	/* doit: PKVM_IOMMU_A_STATS */
	/*
	 * events, multicast on "events", each with PKVM_IOMMU_A_GENERATION;
	 * the four ownership events in the order of enum pkvm_iommu_op_code
	 * (PKVM_IOMMU_CMD_EVT_OP())
	 */
	PKVM_IOMMU_CMD_EVT_DONATE,
	PKVM_IOMMU_CMD_EVT_RECLAIM,
	PKVM_IOMMU_CMD_EVT_SHARE,
	PKVM_IOMMU_CMD_EVT_UNSHARE,
	PKVM_IOMMU_CMD_EVT_FAULT,
	PKVM_IOMMU_CMD_EVT_POLICY,	/* stream or split policy changed */
	__PKVM_IOMMU_CMD_MAX,
};
#define PKVM_IOMMU_CMD_MAX (__PKVM_IOMMU_CMD_MAX - 1)
/* The event of an ownership change (enum pkvm_iommu_op_code). */
#define PKVM_IOMMU_CMD_EVT_OP(op)	(PKVM_IOMMU_CMD_EVT_DONATE + (op))

enum pkvm_iommu_genl_attr {
	PKVM_IOMMU_A_UNSPEC,
	PKVM_IOMMU_A_GENERATION,	/* u64: ownership generation */
	PKVM_IOMMU_A_ADDR,		/* u64: physical address */
	PKVM_IOMMU_A_LEN,		/* u64: bytes */
	PKVM_IOMMU_A_OWNER,		/* u32 */
	PKVM_IOMMU_A_SHARED,		/* flag: run is host-owned and shared */
	PKVM_IOMMU_A_SMMU,		/* u32: SMMU index */
	PKVM_IOMMU_A_SID,		/* u32: StreamID */
	PKVM_IOMMU_A_FAULT_TYPE,	/* u32: SMMU event number */
	PKVM_IOMMU_A_FAULT_FLAGS,	/* u32: bit 0 write, bit 1 stage 2, bit 2 lost events */
	PKVM_IOMMU_A_POLICY,		/* u32: stream policy, or split policy */
	PKVM_IOMMU_A_STATS,		/* binary: u64[PKVM_IOMMU_STAT_NR] */
	PKVM_IOMMU_A_PAD,
	__PKVM_IOMMU_A_MAX,
};
#define PKVM_IOMMU_A_MAX (__PKVM_IOMMU_A_MAX - 1)

#endif /* _UAPI_LINUX_PKVM_IOMMU_H */
