// SPDX-License-Identifier: GPL-2.0
/* Stream table and STE encoding (IHI 0070 H.a, 5.1, 5.2). */
#include "smmu_ste.h"

/* 48 bits is the most a 4 KiB-granule table without FEAT_LPA2 can output. */
#define SMMU_S2PS_48		5u

void smmu_s2_params_from_pgt(struct smmu_s2_params *p,
			     const struct s2_pgtable *pgt, u16 vmid)
{
	p->ttb = pgt->root_pa;
	p->ias = pgt->ias;
	p->start_level = pgt->start_level;
	p->root_pages = pgt->root_pages;
	p->vmid = vmid;
}

static int check_s2(const struct smmu_s2_params *p, const struct smmu_features *f)
{
	u32 max_ias = HYP_MIN(f->oas_bits, PKVM_S2_IAS_MAX);

	if (p->ias < PKVM_S2_IAS_MIN || p->ias > PKVM_S2_IAS_MAX)
		return -EINVAL;
	/*
	 * A stage-2-only stream's input size is bounded by the SMMU's IAS,
	 * which equals OAS when AArch32 LPAE is not in play.
	 */
	if (p->ias > max_ias)
		return -ERANGE;
	/* S2SL0 and S2T0SZ must agree, with at most 16 concatenated roots. */
	if (p->start_level > 2 || p->start_level != s2_start_level(p->ias) ||
	    p->root_pages != s2_root_pages(p->ias))
		return -EINVAL;
	if (!p->ttb || !HYP_IS_ALIGNED(p->ttb, (u64)p->root_pages * HYP_PAGE_SIZE))
		return -EINVAL;
	if (f->oas_bits < 64 && (p->ttb >> f->oas_bits))
		return -ERANGE;
	if (!f->vmid16 && p->vmid > 0xff)
		return -EOVERFLOW;
	return 0;
}

int smmu_ste_isolate(u64 ste[SMMU_STE_DWORDS], const struct smmu_s2_params *p,
		     const struct smmu_features *f)
{
	u32 ps = HYP_MIN(f->oas_field, SMMU_S2PS_48);
	/*
	 * Walk attributes must match how the tables are written: cached and
	 * inner shareable when the SMMU snoops, else non-cacheable (the
	 * engine then cleans every descriptor store to PoC).
	 */
	u32 walk = f->coherent ? SMMU_STE_WALK_WBWA : SMMU_STE_WALK_NC;
	u32 sh = f->coherent ? SMMU_SH_ISH : SMMU_SH_OSH;
	int ret;

	if (!f->s2)
		return -ENODEV;
	ret = check_s2(p, f);
	if (ret)
		return ret;

	hyp_memset(ste, 0, SMMU_STE_DWORDS * sizeof(u64));
	ste[0] = SMMU_STE_0_V |
		 HYP_FIELD_PREP(SMMU_STE_0_CONFIG, SMMU_STE_CONFIG_S2);
	/* Use the device's shareability; stage 2 then combines with SH of the leaf. */
	ste[1] = HYP_FIELD_PREP(SMMU_STE_1_SHCFG, SMMU_STE_SHCFG_INCOMING);
	ste[2] = HYP_FIELD_PREP(SMMU_STE_2_S2VMID, p->vmid) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2T0SZ, 64 - p->ias) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2SL0, s2_sl0(p->start_level)) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2IR0, walk) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2OR0, walk) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2SH0, sh) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2TG, SMMU_STE_S2TG_4K) |
		 HYP_FIELD_PREP(SMMU_STE_2_S2PS, ps) |
		 SMMU_STE_2_S2AA64 |
		 /* A stage 1 walk can never target Device memory through us. */
		 SMMU_STE_2_S2PTW |
		 /* Record faults: the host forwards them; S2S=0 terminates, no stall. */
		 SMMU_STE_2_S2R;
	ste[3] = p->ttb & SMMU_STE_3_S2TTB;
	return 0;
}

void smmu_ste_block(u64 ste[SMMU_STE_DWORDS])
{
	hyp_memset(ste, 0, SMMU_STE_DWORDS * sizeof(u64));
	/* V=1, Config=abort: terminate silently; V=0 would raise C_BAD_STE. */
	ste[0] = SMMU_STE_0_V |
		 HYP_FIELD_PREP(SMMU_STE_0_CONFIG, SMMU_STE_CONFIG_ABORT);
}

u64 smmu_l1std(u64 l2_pa)
{
	/* SPAN = log2(STEs) + 1 */
	return HYP_FIELD_PREP(SMMU_L1STD_SPAN, SMMU_STRTAB_SPLIT + 1) |
	       (l2_pa & SMMU_L1STD_L2PTR);
}

u64 smmu_strtab_bytes(bool two_level, u32 log2size)
{
	if (!two_level)
		return 64ull << log2size;
	if (log2size <= SMMU_STRTAB_SPLIT)
		return 8;
	return 8ull << (log2size - SMMU_STRTAB_SPLIT);
}

int smmu_strtab_geometry(const struct smmu_features *f, enum smmu_strtab_fmt fmt,
			 u32 sid_bits, bool *two_level, u32 *log2size)
{
	u32 bits = sid_bits ? HYP_MIN(sid_bits, f->sidsize) : f->sidsize;

	/* STRTAB_BASE_CFG.LOG2SIZE is 6 bits; SIDSIZE is at most 32. */
	if (bits > 32)
		return -EINVAL;
	switch (fmt) {
	case SMMU_STRTAB_LINEAR:
		*two_level = false;
		break;
	case SMMU_STRTAB_2LVL:
		if (!f->two_level)
			return -EOPNOTSUPP;
		*two_level = true;
		break;
	case SMMU_STRTAB_AUTO:
		*two_level = f->two_level && bits > SMMU_STRTAB_SPLIT &&
			     smmu_strtab_bytes(false, bits) > SMMU_STRTAB_LINEAR_MAX;
		break;
	default:
		return -EINVAL;
	}
	*log2size = bits;
	return 0;
}

int smmu_strtab_init(struct smmu_strtab *st, const struct smmu_features *f,
		     enum smmu_strtab_fmt fmt, u32 sid_bits, u64 pa, u64 size)
{
	u64 bytes, align;
	u64 block[SMMU_STE_DWORDS];
	int ret;

	hyp_memset(st, 0, sizeof(*st));
	ret = smmu_strtab_geometry(f, fmt, sid_bits, &st->two_level, &st->log2size);
	if (ret)
		return ret;
	bytes = smmu_strtab_bytes(st->two_level, st->log2size);
	align = HYP_MAX(bytes, 64ull);
	if (!pa || !HYP_IS_ALIGNED(pa, align) || (pa & ~SMMU_STRTAB_BASE_ADDR))
		return -EINVAL;
	if (size < bytes)
		return -ENOMEM;
	st->pa = pa;
	st->va = hyp_phys_to_virt(pa);
	st->coherent = f->coherent;

	/* Two-level: every L1 descriptor invalid. Linear: every STE `block`. */
	hyp_memset(st->va, 0, bytes);
	if (!st->two_level) {
		smmu_ste_block(block);
		for (u64 sid = 0; sid < (1ull << st->log2size); sid++)
			st->va[sid * SMMU_STE_DWORDS] = block[0];
	}
	if (!st->coherent)
		hyp_clean_dcache(st->va, bytes);
	return 0;
}

u64 smmu_strtab_base_reg(const struct smmu_strtab *st)
{
	/* RA: the SMMU reads STEs often; let it allocate them in its caches. */
	return (st->pa & SMMU_STRTAB_BASE_ADDR) |
	       (st->coherent ? SMMU_STRTAB_BASE_RA : 0);
}

u32 smmu_strtab_cfg_reg(const struct smmu_strtab *st)
{
	return (u32)(HYP_FIELD_PREP(SMMU_STRTAB_CFG_LOG2SIZE, st->log2size) |
		     HYP_FIELD_PREP(SMMU_STRTAB_CFG_SPLIT,
				    st->two_level ? SMMU_STRTAB_SPLIT : 0) |
		     HYP_FIELD_PREP(SMMU_STRTAB_CFG_FMT,
				    st->two_level ? SMMU_STRTAB_FMT_2LVL :
						    SMMU_STRTAB_FMT_LINEAR));
}

u64 *smmu_strtab_ste(const struct smmu_strtab *st, u32 sid)
{
	u64 l1;

	if ((u64)sid >> st->log2size)
		return NULL;
	if (!st->two_level)
		return &st->va[(u64)sid * SMMU_STE_DWORDS];
	l1 = hyp_read_pte(&st->va[sid >> SMMU_STRTAB_SPLIT]);
	if (!HYP_FIELD_GET(SMMU_L1STD_SPAN, l1))
		return NULL;
	return (u64 *)hyp_phys_to_virt(l1 & SMMU_L1STD_L2PTR) +
	       (sid & (SMMU_STRTAB_L2_STES - 1)) * SMMU_STE_DWORDS;
}

void smmu_strtab_link_l2(struct smmu_strtab *st, u32 sid, u64 l2_pa)
{
	u64 *l2 = hyp_phys_to_virt(l2_pa);
	u64 *l1 = &st->va[sid >> SMMU_STRTAB_SPLIT];
	u64 block[SMMU_STE_DWORDS];

	smmu_ste_block(block);
	hyp_memset(l2, 0, SMMU_STRTAB_L2_STES * SMMU_STE_DWORDS * sizeof(u64));
	for (u32 i = 0; i < SMMU_STRTAB_L2_STES; i++)
		l2[i * SMMU_STE_DWORDS] = block[0];
	if (!st->coherent)
		hyp_clean_dcache(l2, HYP_PAGE_SIZE);
	/* The STEs must be visible before the descriptor that reaches them. */
	hyp_wmb_dev();
	hyp_write_pte(l1, smmu_l1std(l2_pa));
	if (!st->coherent)
		hyp_clean_dcache(l1, sizeof(*l1));
}

void smmu_ste_store(const struct smmu_strtab *st, u64 *dst, const u64 *src,
		    u32 first, u32 last)
{
	for (u32 i = first; i < last; i++)
		hyp_write_pte(&dst[i], src[i]);
	if (!st->coherent && last > first)
		hyp_clean_dcache(&dst[first], (last - first) * sizeof(u64));
}

void smmu_strtab_abort_all(const struct smmu_strtab *st)
{
	u64 block[SMMU_STE_DWORDS];

	smmu_ste_block(block);
	for (u64 sid = 0; sid < (1ull << st->log2size); sid++) {
		u64 *ste = smmu_strtab_ste(st, (u32)sid);

		if (!ste) {
			/* No level-2 table: the whole span is C_BAD_STREAMID already. */
			sid |= SMMU_STRTAB_L2_STES - 1;
			continue;
		}
		smmu_ste_store(st, ste, block, 0, 1);
		smmu_ste_store(st, ste, block, 1, SMMU_STE_DWORDS);
	}
}
