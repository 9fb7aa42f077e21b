/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stream table layout (linear or two-level) and the Stream Table Entries of
 * the per-stream policies.
 *
 * A host device gets one of two configurations:
 *   isolate  stage 1 bypass, stage 2 translate through the shadow table;
 *            faults are recorded (S2R) so the host learns of them
 *   block    abort every transaction, record nothing
 * There is deliberately no bypass encoder: a bypassing stream reaches every
 * physical page, donated ones included, which is the one thing pkvm-iommu
 * exists to prevent. Unused StreamIDs hold `block` STEs (linear table) or an
 * invalid L1 descriptor (two-level: C_BAD_STREAMID), never bypass.
 *
 * IHI 0070 H.a, 5.1 Level 1 Stream Table Descriptor, 5.2 Stream Table Entry,
 * 6.3 SMMU_STRTAB_BASE/SMMU_STRTAB_BASE_CFG.
 */
#ifndef PKVM_SMMU_STE_H
#define PKVM_SMMU_STE_H

#include "hyp_env.h"
#include "s2_pgtable.h"
#include "smmu_probe.h"
#include "smmu_regs.h"

/*
 * SPLIT 6: an L2 table of 64 STEs is exactly one 4 KiB page, so it can come
 * from a page allocator (STRTAB_BASE_CFG.SPLIT allows 6, 8 and 10).
 */
#define SMMU_STRTAB_SPLIT	6u
#define SMMU_STRTAB_L2_STES	(1u << SMMU_STRTAB_SPLIT)
/* A linear table above this many bytes is kept two-level when possible. */
#define SMMU_STRTAB_LINEAR_MAX	(64u * 1024u)

enum smmu_policy {
	SMMU_POLICY_BLOCK = 0,
	SMMU_POLICY_ISOLATE = 1,
};

enum smmu_strtab_fmt {
	SMMU_STRTAB_AUTO = 0,
	SMMU_STRTAB_LINEAR,
	SMMU_STRTAB_2LVL,
};

/* The stage 2 an `isolate` STE points at. */
struct smmu_s2_params {
	u64 ttb;		/* pa of the (concatenated) root table */
	u32 ias;		/* input address bits: S2T0SZ = 64 - ias */
	u32 start_level;	/* 0..2 */
	u32 root_pages;		/* concatenated root tables: ttb alignment */
	u16 vmid;
};

struct smmu_strtab {
	u64 pa;
	u64 *va;
	bool two_level;
	u32 log2size;		/* StreamIDs covered: 2^log2size */
	bool coherent;		/* else every store is cleaned to PoC */
};

/* The shadow table as an STE sees it. */
void smmu_s2_params_from_pgt(struct smmu_s2_params *p,
			     const struct s2_pgtable *pgt, u16 vmid);

/*
 * STE encoders: write all 8 dwords of ste. isolate validates p against the
 * SMMU (-EINVAL for a geometry the STE cannot express, -ERANGE for a table
 * or input size beyond the OAS, -EOVERFLOW for a VMID above 255 without
 * VMID16).
 */
int smmu_ste_isolate(u64 ste[SMMU_STE_DWORDS], const struct smmu_s2_params *p,
		     const struct smmu_features *f);
void smmu_ste_block(u64 ste[SMMU_STE_DWORDS]);
u64 smmu_l1std(u64 l2_pa);

/* Bytes of memory a table in that format covering 2^log2size SIDs needs. */
u64 smmu_strtab_bytes(bool two_level, u32 log2size);
/* The format and coverage AUTO (or a forced format) gives on this SMMU. */
int smmu_strtab_geometry(const struct smmu_features *f, enum smmu_strtab_fmt fmt,
			 u32 sid_bits, bool *two_level, u32 *log2size);

/*
 * Take [pa, pa + size) for the table: -EINVAL if misaligned (the SMMU
 * aligns the base down to the table size), -ENOMEM if too small,
 * -EOPNOTSUPP if a two-level table was asked of an SMMU without one.
 * sid_bits 0 covers all of SMMU_IDR1.SIDSIZE.
 */
int smmu_strtab_init(struct smmu_strtab *st, const struct smmu_features *f,
		     enum smmu_strtab_fmt fmt, u32 sid_bits, u64 pa, u64 size);
u64 smmu_strtab_base_reg(const struct smmu_strtab *st);
u32 smmu_strtab_cfg_reg(const struct smmu_strtab *st);

/* The STE of sid, or NULL when its L2 table is not there yet. */
u64 *smmu_strtab_ste(const struct smmu_strtab *st, u32 sid);
/* Fill a fresh L2 page with `block` STEs and link it for sid's span. */
void smmu_strtab_link_l2(struct smmu_strtab *st, u32 sid, u64 l2_pa);

/*
 * Every STE the table holds becomes `block` (V=1, Config abort), dword 0
 * first: what a failed-closed SMMU's table must say (smmu_dev.c). No
 * CFGI is possible then; the stores only make sure an STE fetched from
 * memory aborts too.
 */
void smmu_strtab_abort_all(const struct smmu_strtab *st);

/*
 * Store dwords [first, last) of src into a live STE, one single-copy-atomic
 * 64-bit store each (the SMMU may fetch concurrently), cleaned to PoC for a
 * non-coherent SMMU.
 */
void smmu_ste_store(const struct smmu_strtab *st, u64 *dst, const u64 *src,
		    u32 first, u32 last);

#endif /* PKVM_SMMU_STE_H */
