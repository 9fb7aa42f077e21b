// SPDX-License-Identifier: GPL-2.0
/*
 * Descriptor encodings and level math against values worked out by hand
 * from the Arm ARM (DDI 0487K.a, sections D8.2 and D8.3), not from the code.
 */
#include <check.h>
#include <stdlib.h>

#include "test_registry.h"

#include "s2_desc.h"

TEST("encodings", level_shift_and_size)
{
	/* D8.2: 4 KiB granule, each level resolves 9 bits above bit 12. */
	ck_assert_uint_eq(s2_level_shift(3), 12);
	ck_assert_uint_eq(s2_level_shift(2), 21);
	ck_assert_uint_eq(s2_level_shift(1), 30);
	ck_assert_uint_eq(s2_level_shift(0), 39);
	ck_assert_uint_eq(s2_level_size(1), 0x40000000ull);
	ck_assert_uint_eq(s2_level_size(2), 0x200000ull);
}
END_TEST

TEST("encodings", start_level_and_concatenation)
{
	/*
	 * 48 bits: 4 levels from 0, one 512-entry root.
	 * 44 bits: level 0, root of 2^(44-39) = 32 entries.
	 * 43 bits: level 1 with 2^(43-39) = 16 concatenated tables (D8.2,
	 *          "Concatenated translation tables": the maximum).
	 * 40 bits: level 1, 2 tables. 39 bits: level 1, 1 table.
	 * 34 bits: level 2, 2^(34-30) = 16 tables. 32 bits: level 2, 4 tables.
	 */
	static const struct { u32 ias, start, pages, entries; } v[] = {
		{ 48, 0, 1, 512 }, { 44, 0, 1, 32 }, { 43, 1, 16, 8192 },
		{ 40, 1, 2, 1024 }, { 39, 1, 1, 512 }, { 35, 1, 1, 32 },
		{ 34, 2, 16, 8192 }, { 33, 2, 8, 4096 }, { 32, 2, 4, 2048 },
	};

	for (unsigned int i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		ck_assert_msg(s2_start_level(v[i].ias) == v[i].start, "ias %u", v[i].ias);
		ck_assert_msg(s2_root_pages(v[i].ias) == v[i].pages, "ias %u", v[i].ias);
		ck_assert_msg(s2_level_entries(v[i].ias, v[i].start) == v[i].entries,
			      "ias %u", v[i].ias);
	}
}
END_TEST

TEST("encodings", sl0_encoding)
{
	/* SMMUv3 STE.S2SL0 / VTCR_EL2.SL0 with TG0 = 4 KiB. */
	ck_assert_uint_eq(s2_sl0(2), 0);
	ck_assert_uint_eq(s2_sl0(1), 1);
	ck_assert_uint_eq(s2_sl0(0), 2);
}
END_TEST

TEST("encodings", index_math)
{
	u64 a = 0x0000123456789000ull;

	/* Bits [47:39], [38:30], [29:21], [20:12] of a. */
	ck_assert_uint_eq(s2_level_index(a, 0, 512), 0x024);
	ck_assert_uint_eq(s2_level_index(a, 1, 512), 0x0d1);
	ck_assert_uint_eq(s2_level_index(a, 2, 512), 0x0b3);
	ck_assert_uint_eq(s2_level_index(a, 3, 512), 0x189);
	/* A 16-table concatenated root at level 1 indexes bits [42:30]. */
	ck_assert_uint_eq(s2_level_index(a, 1, 8192), 0x8d1);
}
END_TEST

TEST("encodings", leaf_descriptors)
{
	/*
	 * D8.3.2 with D8.4 stage 2 attributes, for Normal WB RW memory:
	 *   MemAttr[5:2] = 0b1111 -> 0x3c, S2AP[7:6] = 0b11 -> 0xc0,
	 *   SH[9:8] = 0b11 -> 0x300, AF[10] -> 0x400: attrs 0x7fc.
	 * 2 MiB block at 0x80200000: bits[1:0] = 0b01 -> 0x802007fd.
	 * Page at 0x80201000: bits[1:0] = 0b11 -> 0x802017ff.
	 * 1 GiB block at 0xc0000000 -> 0xc00007fd.
	 */
	ck_assert_uint_eq(S2_ATTR_HOST, 0x7fcull);
	ck_assert_uint_eq(s2_desc_leaf(0x80200000ull, 2, S2_ATTR_HOST), 0x802007fdull);
	ck_assert_uint_eq(s2_desc_leaf(0x80201000ull, 3, S2_ATTR_HOST), 0x802017ffull);
	ck_assert_uint_eq(s2_desc_leaf(0xc0000000ull, 1, S2_ATTR_HOST), 0xc00007fdull);
	/* Software bit 55 for "shared" (D8.3: bits [58:55] reserved for SW). */
	ck_assert_uint_eq(s2_desc_leaf(0x1000, 3, S2_ATTR_HOST | S2_ATTR_SW_SHARED),
			  0x00800000000017ffull);
	ck_assert(!s2_desc_is_table(0x802017ffull, 3));
	ck_assert(!s2_desc_is_table(0x802007fdull, 2));
	ck_assert(s2_desc_valid(0x802007fdull));
}
END_TEST

TEST("encodings", table_descriptor)
{
	/* D8.3.1: next-level table address [47:12], bits[1:0] = 0b11. */
	ck_assert_uint_eq(s2_desc_table(0x41234000ull), 0x41234003ull);
	ck_assert(s2_desc_is_table(0x41234003ull, 0));
	ck_assert(s2_desc_is_table(0x41234003ull, 2));
	ck_assert_uint_eq(s2_desc_oa(0x00800000412347ffull), 0x41234000ull);
}
END_TEST

TEST("encodings", invalid_owner)
{
	/* Owner 0xbeef in bits [17:2]: 0xbeef << 2 = 0x2fbbc, bit 0 clear. */
	ck_assert_uint_eq(s2_desc_invalid(0xbeef), 0x2fbbcull);
	ck_assert(!s2_desc_valid(s2_desc_invalid(0xffff)));
	ck_assert(!s2_desc_is_table(s2_desc_invalid(0xffff), 1));
	ck_assert_uint_eq(s2_desc_owner(0x2fbbcull), 0xbeef);
	ck_assert_uint_eq(s2_desc_owner(0), PKVM_OWNER_HOST);
}
END_TEST

TEST("encodings", hole_is_invalid_and_the_hosts)
{
	/* A zeroed table page reads as holes: that is how init starts. */
	ck_assert_uint_eq(s2_desc_hole(), 0);
	ck_assert(s2_desc_is_hole(0));
	ck_assert(!s2_desc_is_hole(s2_desc_invalid(PKVM_OWNER_HYP)));
	ck_assert(!s2_desc_is_hole(s2_desc_invalid(0xbeef)));
	/* Host memory is mapped valid, never a hole. */
	ck_assert(!s2_desc_is_hole(s2_desc_leaf(0x40000000ull, 1, S2_ATTR_HOST)));
	ck_assert(!s2_desc_is_hole(s2_desc_table(0x41234000ull)));
}
END_TEST

int main(void)
{
	return TEST_RUN("s2_desc",
			TCASE("encodings"));
}
