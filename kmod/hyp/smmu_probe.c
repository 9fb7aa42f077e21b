// SPDX-License-Identifier: GPL-2.0
/* SMMUv3 identification (IHI 0070 H.a, 6.3 SMMU_IDR0/1/3/5). */
#include "smmu_probe.h"
#include "smmu_regs.h"

u32 smmu_oas_bits(u32 field)
{
	/* 6.3 SMMU_IDR5.OAS: 32, 36, 40, 42, 44, 48, 52 bits; 0b111 reserved. */
	static const u8 bits[] = { 32, 36, 40, 42, 44, 48, 52 };

	return field < HYP_ARRAY_SIZE(bits) ? bits[field] : 0;
}

void smmu_features_decode(struct smmu_features *f, u32 idr0, u32 idr1,
			  u32 idr3, u32 idr5)
{
	u32 ttf = (u32)HYP_FIELD_GET(SMMU_IDR0_TTF, idr0);

	hyp_memset(f, 0, sizeof(*f));
	f->idr0 = idr0;
	f->idr1 = idr1;
	f->idr3 = idr3;
	f->idr5 = idr5;

	f->s1 = idr0 & SMMU_IDR0_S1P;
	f->s2 = idr0 & SMMU_IDR0_S2P;
	f->aarch64_tables = ttf == SMMU_IDR0_TTF_AARCH64 || ttf == SMMU_IDR0_TTF_BOTH;
	f->two_level = HYP_FIELD_GET(SMMU_IDR0_ST_LEVEL, idr0) == SMMU_IDR0_ST_LEVEL_2LVL;
	f->coherent = idr0 & SMMU_IDR0_COHACC;
	f->ttendian = (u32)HYP_FIELD_GET(SMMU_IDR0_TTENDIAN, idr0);
	f->vmid16 = idr0 & SMMU_IDR0_VMID16;
	f->sev = idr0 & SMMU_IDR0_SEV;
	f->msi = idr0 & SMMU_IDR0_MSI;
	f->hyp = idr0 & SMMU_IDR0_HYP;

	f->sidsize = (u32)HYP_FIELD_GET(SMMU_IDR1_SIDSIZE, idr1);
	f->cmdqs = (u32)HYP_FIELD_GET(SMMU_IDR1_CMDQS, idr1);
	f->evtqs = (u32)HYP_FIELD_GET(SMMU_IDR1_EVTQS, idr1);

	f->ril = idr3 & SMMU_IDR3_RIL;
	f->bbml = (u32)HYP_FIELD_GET(SMMU_IDR3_BBML, idr3);
	f->fwb = idr3 & SMMU_IDR3_FWB;

	f->gran4k = idr5 & SMMU_IDR5_GRAN4K;
	f->gran16k = idr5 & SMMU_IDR5_GRAN16K;
	f->gran64k = idr5 & SMMU_IDR5_GRAN64K;
	f->oas_field = (u32)HYP_FIELD_GET(SMMU_IDR5_OAS, idr5);
	f->oas_bits = smmu_oas_bits(f->oas_field);
}

int smmu_features_check(const struct smmu_features *f, u32 pa_bits)
{
	/* Order: the most basic inability first, so the error names the root cause. */
	if (!f->s2)
		return -ENODEV;
	if (!f->aarch64_tables)
		return -EPROTONOSUPPORT;
	if (!f->gran4k)
		return -EOPNOTSUPP;
	if (f->ttendian == SMMU_IDR0_TTENDIAN_BE)
		return -EPROTO;
	/* An identity map needs every memory address as an output address. */
	if (!f->oas_bits || f->oas_bits < pa_bits)
		return -ERANGE;
	return 0;
}

int smmu_probe(struct smmu_features *f, void *regs, u32 pa_bits)
{
	u8 *base = regs;

	smmu_features_decode(f, hyp_readl(base + SMMU_IDR0),
			     hyp_readl(base + SMMU_IDR1),
			     hyp_readl(base + SMMU_IDR3),
			     hyp_readl(base + SMMU_IDR5));
	return smmu_features_check(f, pa_bits);
}
