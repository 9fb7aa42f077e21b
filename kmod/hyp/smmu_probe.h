/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What one SMMUv3 can do, decoded once from SMMU_IDR0/1/3/5, and whether
 * the shadow stage 2 can be served by it at all.
 */
#ifndef PKVM_SMMU_PROBE_H
#define PKVM_SMMU_PROBE_H

#include "hyp_env.h"

struct smmu_features {
	u32 idr0, idr1, idr3, idr5;	/* raw, for reporting */
	bool s1;
	bool s2;
	bool aarch64_tables;	/* TTF includes the AArch64 format */
	bool two_level;		/* 2-level stream table supported */
	bool coherent;		/* COHACC: walks and queues snoop CPU caches */
	u32 ttendian;		/* SMMU_IDR0_TTENDIAN_* */
	bool vmid16;
	bool sev;
	bool msi;
	bool hyp;
	u32 sidsize;		/* StreamID bits */
	u32 cmdqs;		/* log2 of the largest command queue */
	u32 evtqs;		/* log2 of the largest event queue */
	bool ril;		/* range invalidation */
	u32 bbml;		/* break-before-make level 0..2 */
	bool fwb;
	bool gran4k;
	bool gran16k;
	bool gran64k;
	u32 oas_field;		/* IDR5.OAS encoding, reused by STE.S2PS */
	u32 oas_bits;		/* 0 for a reserved encoding */
};

/* Pure decode of the four ID registers; never fails. */
void smmu_features_decode(struct smmu_features *f, u32 idr0, u32 idr1,
			  u32 idr3, u32 idr5);

/*
 * Refuse what the shadow stage 2 cannot use, each with its own error:
 *   -ENODEV          no stage 2 translation
 *   -EPROTONOSUPPORT no AArch64 translation table format
 *   -EOPNOTSUPP      no 4 KiB translation granule
 *   -EPROTO          table walks are big-endian only (ours are little)
 *   -ERANGE          OAS cannot reach pa_bits (the memory map's top)
 * pa_bits is the number of bits the highest memory address needs.
 */
int smmu_features_check(const struct smmu_features *f, u32 pa_bits);

/* Read the ID registers from the register page, decode and check. */
int smmu_probe(struct smmu_features *f, void *regs, u32 pa_bits);

/* Bits of an IDR5.OAS (and STE.S2PS) encoding, 0 when reserved. */
u32 smmu_oas_bits(u32 field);

#endif /* PKVM_SMMU_PROBE_H */
