/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Stage-2 descriptors and level math of the VMSAv8-64 long-descriptor
 * format, 4 KiB granule. All table geometry comes from the few helpers
 * here; nothing else in the hyp core shifts by magic numbers.
 *
 * References: Arm ARM DDI 0487K.a
 *   D8.2   translation table walk: levels 0..3, 9 bits resolved per level
 *          with a 4 KiB granule, and concatenation of up to 16 tables at the
 *          initial lookup level of stage 2 ("Concatenated translation tables
 *          for the initial lookup").
 *   D8.3.1 table descriptor: bits[1:0] = 0b11, next-level address [47:12].
 *   D8.3.2 block/page descriptors: block bits[1:0] = 0b01 (levels 1, 2),
 *          page bits[1:0] = 0b11 (level 3); a descriptor with bit[0] = 0 is
 *          invalid and every other bit is ignored by the walker, which is
 *          what lets us keep the owner id there (as pKVM's host stage-2
 *          does with KVM_INVALID_PTE_OWNER_MASK).
 *   D8.4   stage 2 attributes: MemAttr[5:2], S2AP[7:6], SH[9:8], AF[10],
 *          XN[54:53]; bits[58:55] are reserved for software.
 */
#ifndef PKVM_S2_DESC_H
#define PKVM_S2_DESC_H

#include "hyp_env.h"

#define S2_LEVELS		4u	/* levels 0..3 exist with 4 KiB pages */
#define S2_LAST_LEVEL		3u
#define S2_BITS_PER_LEVEL	9u
#define S2_PTES_PER_TABLE	512u
#define S2_MAX_CONCAT		16u	/* D8.2: at most 16 initial tables */

#define S2_DESC_VALID		HYP_BIT(0)
#define S2_DESC_TYPE_TABLE	HYP_BIT(1)	/* and "page" at level 3 */
#define S2_DESC_OA_MASK		HYP_GENMASK(47, 12)

#define S2_ATTR_MEMATTR		HYP_GENMASK(5, 2)
#define S2_ATTR_S2AP		HYP_GENMASK(7, 6)
#define S2_ATTR_SH		HYP_GENMASK(9, 8)
#define S2_ATTR_AF		HYP_BIT(10)
#define S2_ATTR_XN		HYP_GENMASK(54, 53)
#define S2_ATTR_SW_SHARED	HYP_BIT(55)	/* host-owned, shared out */

/* MemAttr 0b1111: Normal, Outer and Inner Write-Back Cacheable (FWB=0). */
#define S2_MEMATTR_NORMAL_WB	0xfull
#define S2_S2AP_RW		0x3ull
#define S2_SH_INNER		0x3ull

/* Attributes of host memory as DMA sees it: normal WB, RW, inner shareable. */
#define S2_ATTR_HOST \
	(HYP_FIELD_PREP(S2_ATTR_MEMATTR, S2_MEMATTR_NORMAL_WB) | \
	 HYP_FIELD_PREP(S2_ATTR_S2AP, S2_S2AP_RW) | \
	 HYP_FIELD_PREP(S2_ATTR_SH, S2_SH_INNER) | S2_ATTR_AF)

/* Owner of an invalid descriptor; bit[1] stays 0 so nothing looks like a table. */
#define S2_INVALID_OWNER	HYP_GENMASK(17, 2)

static inline u32 s2_level_shift(u32 level)
{
	return HYP_PAGE_SHIFT + S2_BITS_PER_LEVEL * (S2_LAST_LEVEL - level);
}

static inline u64 s2_level_size(u32 level)
{
	return 1ull << s2_level_shift(level);
}

/*
 * Levels needed for an input size when up to 16 tables may be concatenated
 * at the start: each level resolves 9 bits above the 12-bit page offset and
 * concatenation adds 4 more at the top, hence (ias - 12 - 4) / 9 rounded up,
 * which is (ias - 8) / 9 rounded down. This is also how KVM sizes its
 * stage 2 (stage2_pgtable_levels()).
 */
static inline u32 s2_start_level(u32 ias)
{
	return S2_LEVELS - (ias - 8) / S2_BITS_PER_LEVEL;
}

/* Number of concatenated tables at the start level (1, 2, 4, 8 or 16). */
static inline u32 s2_root_pages(u32 ias)
{
	u32 covered = s2_level_shift(s2_start_level(ias)) + S2_BITS_PER_LEVEL;

	return ias > covered ? 1u << (ias - covered) : 1u;
}

/* Entries the table at this level has; the root may be concatenated. */
static inline u32 s2_level_entries(u32 ias, u32 level)
{
	if (level == s2_start_level(ias)) {
		u32 bits = ias - s2_level_shift(level);

		return 1u << bits;
	}
	return S2_PTES_PER_TABLE;
}

static inline u32 s2_level_index(u64 addr, u32 level, u32 entries)
{
	return (u32)((addr >> s2_level_shift(level)) & (entries - 1));
}

/*
 * SMMU STE.S2SL0 for a 4 KiB granule (SMMUv3 IHI0070, STE field S2SL0,
 * matching VTCR_EL2.SL0): 0b00 starts at level 2, 0b01 at level 1,
 * 0b10 at level 0. Only levels 0..2 can start a stage-2 walk here.
 */
static inline u32 s2_sl0(u32 start_level)
{
	return 2u - start_level;
}

static inline bool s2_desc_valid(u64 d)
{
	return d & S2_DESC_VALID;
}

static inline bool s2_desc_is_table(u64 d, u32 level)
{
	return level < S2_LAST_LEVEL &&
	       (d & (S2_DESC_VALID | S2_DESC_TYPE_TABLE)) ==
	       (S2_DESC_VALID | S2_DESC_TYPE_TABLE);
}

static inline bool s2_desc_is_leaf(u64 d, u32 level)
{
	return !s2_desc_is_table(d, level);
}

static inline u64 s2_desc_oa(u64 d)
{
	return d & S2_DESC_OA_MASK;
}

static inline u64 s2_desc_table(u64 table_pa)
{
	return (table_pa & S2_DESC_OA_MASK) | S2_DESC_VALID | S2_DESC_TYPE_TABLE;
}

/* A valid block (levels 1, 2) or page (level 3) mapping pa with attrs. */
static inline u64 s2_desc_leaf(u64 pa, u32 level, u64 attrs)
{
	u64 type = level == S2_LAST_LEVEL ? S2_DESC_TYPE_TABLE : 0;

	return (pa & S2_DESC_OA_MASK) | attrs | type | S2_DESC_VALID;
}

/* Everything of a valid leaf but its address and type bits. */
static inline u64 s2_desc_attrs(u64 d)
{
	return d & ~(S2_DESC_OA_MASK | S2_DESC_VALID | S2_DESC_TYPE_TABLE);
}

static inline u64 s2_desc_invalid(u32 owner)
{
	return HYP_FIELD_PREP(S2_INVALID_OWNER, owner);
}

static inline u32 s2_desc_owner(u64 d)
{
	return (u32)HYP_FIELD_GET(S2_INVALID_OWNER, d);
}

/*
 * A hole: invalid and owned by the host, which is how the table says "no
 * memory here" (the host's own memory is mapped valid). Unmapped input
 * space, device ranges and a break-before-make break all read as holes.
 */
static inline u64 s2_desc_hole(void)
{
	return s2_desc_invalid(PKVM_OWNER_HOST);
}

static inline bool s2_desc_is_hole(u64 d)
{
	return !s2_desc_valid(d) && s2_desc_owner(d) == PKVM_OWNER_HOST;
}

#endif /* PKVM_S2_DESC_H */
