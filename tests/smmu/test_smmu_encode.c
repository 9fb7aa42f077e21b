// SPDX-License-Identifier: GPL-2.0
/*
 * Encoders against words worked out by hand from the SMMUv3 specification
 * (ARM IHI 0070 H.a); each expected value shows its derivation, field by
 * field, so that a wrong field position in smmu_regs.h shows up here.
 */
#include <check.h>

#include "test_registry.h"
#include <stdlib.h>

#include "names.h"
#include "smmu_cmdq.h"
#include "smmu_evtq.h"
#include "smmu_ste.h"
#include "smmu_tlb.h"

/* ---- 4.3 CMD_CFGI_STE / CMD_CFGI_ALL ---- */

TEST("encode", cfgi_ste)
{
	struct smmu_cmd c;

	/* opcode 0x03 in [7:0]; SID 0x1234 in [63:32]; dword 1: Leaf in [0] */
	smmu_cmd_cfgi_ste(&c, 0x1234, true);
	ck_assert_uint_eq(c.w[0], 0x0000123400000003ull);
	ck_assert_uint_eq(c.w[1], 0x0000000000000001ull);
	/* Leaf=0, the largest SID: 0xffffffff << 32 | 0x03 */
	smmu_cmd_cfgi_ste(&c, 0xffffffffu, false);
	ck_assert_uint_eq(c.w[0], 0xffffffff00000003ull);
	ck_assert_uint_eq(c.w[1], 0);
}
END_TEST

TEST("encode", cfgi_all)
{
	struct smmu_cmd c;

	/* CMD_CFGI_STE_RANGE opcode 0x04, SID 0, dword 1 Range [4:0] = 31 */
	smmu_cmd_cfgi_all(&c);
	ck_assert_uint_eq(c.w[0], 0x0000000000000004ull);
	ck_assert_uint_eq(c.w[1], 0x000000000000001full);
}
END_TEST

/* ---- 4.4 CMD_TLBI_S2_IPA, CMD_TLBI_S12_VMALL, CMD_TLBI_NSNH_ALL ---- */

TEST("encode", tlbi_s2_ipa)
{
	struct smmu_cmd c;

	/* opcode 0x2a; VMID 5 in [47:32]; dword 1: IPA[51:12] in place, Leaf [0] */
	smmu_cmd_tlbi_s2_ipa(&c, 5, 0x80203000ull, true);
	ck_assert_uint_eq(c.w[0], 0x000000050000002aull);
	ck_assert_uint_eq(c.w[1], 0x0000000080203001ull);
	/* bits below 12 are not part of the address: 0x...3fff -> 0x...3000 */
	smmu_cmd_tlbi_s2_ipa(&c, 5, 0x80203fffull, false);
	ck_assert_uint_eq(c.w[1], 0x0000000080203000ull);
	/* VMID 0xabcd, a 48-bit IPA, non-leaf */
	smmu_cmd_tlbi_s2_ipa(&c, 0xabcd, 0xfedcba987000ull, false);
	ck_assert_uint_eq(c.w[0], 0x0000abcd0000002aull);
	ck_assert_uint_eq(c.w[1], 0x0000fedcba987000ull);
}
END_TEST

TEST("encode", tlbi_s2_range)
{
	struct smmu_cmd c;

	/*
	 * 64 pages from 0x40000000: NUM 0 (one chunk), SCALE 6 (2^6 pages).
	 * dword 0: 0x2a | SCALE 6 << 20 (0x600000) | VMID 5 << 32
	 * dword 1: 0x40000000 | TG 0b01 (4 KiB) << 10 (0x400) | Leaf 1
	 */
	smmu_cmd_tlbi_s2_range(&c, 5, 0x40000000ull, 0, 6, SMMU_TLBI_TG_4K, 0, true);
	ck_assert_uint_eq(c.w[0], 0x000000050060002aull);
	ck_assert_uint_eq(c.w[1], 0x0000000040000401ull);
	/*
	 * NUM 30 << 12 = 0x1e000, SCALE 3 << 20 = 0x300000, VMID 0x100 << 32;
	 * TTL 2 << 8 = 0x200, TG 1 << 10 = 0x400, IPA 0x1234000, Leaf 0.
	 */
	smmu_cmd_tlbi_s2_range(&c, 0x100, 0x1234000ull, 30, 3, SMMU_TLBI_TG_4K, 2, false);
	ck_assert_uint_eq(c.w[0], 0x000001000031e02aull);
	ck_assert_uint_eq(c.w[1], 0x0000000001234600ull);
}
END_TEST

TEST("encode", tlbi_vmall_nsnh)
{
	struct smmu_cmd c;

	/* opcode 0x28, VMID 0x1ff in [47:32] */
	smmu_cmd_tlbi_s12_vmall(&c, 0x1ff);
	ck_assert_uint_eq(c.w[0], 0x000001ff00000028ull);
	ck_assert_uint_eq(c.w[1], 0);
	/* opcode 0x30, no operands */
	smmu_cmd_tlbi_nsnh_all(&c);
	ck_assert_uint_eq(c.w[0], 0x0000000000000030ull);
	ck_assert_uint_eq(c.w[1], 0);
}
END_TEST

/* ---- 4.7 CMD_SYNC ---- */

TEST("encode", cmd_sync)
{
	struct smmu_cmd c;

	/* opcode 0x46, CS [13:12] = 0b10 (SIG_SEV) -> 0x2000 */
	smmu_cmd_sync(&c, SMMU_SYNC_CS_SEV);
	ck_assert_uint_eq(c.w[0], 0x0000000000002046ull);
	ck_assert_uint_eq(c.w[1], 0);
	/* CS 0b00 (SIG_NONE) */
	smmu_cmd_sync(&c, SMMU_SYNC_CS_NONE);
	ck_assert_uint_eq(c.w[0], 0x0000000000000046ull);
}
END_TEST

/* ---- 5.2 Stream Table Entry ---- */

static struct smmu_features coherent_44(void)
{
	struct smmu_features f;

	/*
	 * IDR0: S2P [0] | TTF=0b10 [3:2] | COHACC [4] | VMID16 [18];
	 * IDR5: OAS=0b100 (44 bits) | GRAN4K [4].
	 */
	smmu_features_decode(&f, 0x1u | 0x8u | 0x10u | 0x40000u, 0x10, 0,
			     0x4u | 0x10u);
	return f;
}

TEST("encode", ste_isolate)
{
	struct smmu_features f = coherent_44();
	struct smmu_s2_params p = {
		.ttb = 0x40002000ull, .ias = 40, .start_level = 1,
		.root_pages = 2, .vmid = 1,
	};
	u64 ste[8];

	ck_assert_int_eq(smmu_ste_isolate(ste, &p, &f), 0);
	/* dword 0: V [0] = 1, Config [3:1] = 0b110 (S2 translate) -> 0xd */
	ck_assert_uint_eq(ste[0], 0x000000000000000dull);
	/* dword 1: SHCFG [45:44] = 0b01 (incoming) -> 1 << 44 */
	ck_assert_uint_eq(ste[1], 0x0000100000000000ull);
	/*
	 * dword 2, S2VMID [15:0] = 1, and above bit 32:
	 *   S2T0SZ [37:32] = 64 - 40 = 24     0x18 << 32
	 *   S2SL0  [39:38] = 0b01 (level 1)   0x40 << 32
	 *   S2IR0  [41:40] = 0b01 (WBWA)     0x100 << 32
	 *   S2OR0  [43:42] = 0b01 (WBWA)     0x400 << 32
	 *   S2SH0  [45:44] = 0b11 (ISH)     0x3000 << 32
	 *   S2TG   [47:46] = 0b00 (4 KiB)        0
	 *   S2PS   [50:48] = 0b100 (44 b)  0x40000 << 32
	 *   S2AA64 [51]                    0x80000 << 32
	 *   S2PTW  [54]                   0x400000 << 32
	 *   S2R    [58]                  0x4000000 << 32
	 * sum of the high word: 0x44c3558
	 */
	ck_assert_uint_eq(ste[2], 0x044c355800000001ull);
	/* dword 3: S2TTB [51:4] = the root's pa */
	ck_assert_uint_eq(ste[3], 0x0000000040002000ull);
	for (int i = 4; i < 8; i++)
		ck_assert_uint_eq(ste[i], 0);
}
END_TEST

TEST("encode", ste_isolate_variants)
{
	struct smmu_features f = coherent_44();
	struct smmu_s2_params p48 = {
		.ttb = 0x40001000ull, .ias = 48, .start_level = 0,
		.root_pages = 1, .vmid = 0x1234,
	};
	u64 ste[8];

	/* OAS 44 cannot take a 48-bit input range */
	ck_assert_int_eq(smmu_ste_isolate(ste, &p48, &f), -ERANGE);

	/*
	 * OAS 0b110 (52 bits): S2PS is held at 0b101 (48 bits), the most a
	 * 4 KiB descriptor without LPA2 carries. T0SZ 16 (0x10), SL0 0b10
	 * (level 0, 0x80), WBWA/WBWA/ISH (0x3500), PS 0b101 (0x50000), AA64,
	 * PTW, R: 0x10 + 0x80 + 0x3500 + 0x50000 + 0x80000 + 0x400000 +
	 * 0x4000000 = 0x44d3590; VMID 0x1234.
	 */
	smmu_features_decode(&f, 0x1u | 0x8u | 0x10u | 0x40000u, 0x10, 0, 0x6u | 0x10u);
	ck_assert_int_eq(smmu_ste_isolate(ste, &p48, &f), 0);
	ck_assert_uint_eq(ste[2], 0x044d359000001234ull);

	/*
	 * Non-coherent (COHACC 0): walks non-cacheable (IR0 = OR0 = 0b00),
	 * outer shareable (SH0 0b10 -> 0x2000): for ias 40 from above,
	 * 0x44c3558 - 0x500 - 0x1000 = 0x44c2058.
	 */
	smmu_features_decode(&f, 0x1u | 0x8u | 0x40000u, 0x10, 0, 0x4u | 0x10u);
	p48.ias = 40;
	p48.start_level = 1;
	p48.root_pages = 2;
	p48.ttb = 0x40002000ull;
	p48.vmid = 1;
	ck_assert_int_eq(smmu_ste_isolate(ste, &p48, &f), 0);
	ck_assert_uint_eq(ste[2], 0x044c205800000001ull);
}
END_TEST

TEST("encode", ste_isolate_refusals)
{
	struct smmu_features f = coherent_44();
	struct smmu_s2_params p = {
		.ttb = 0x40002000ull, .ias = 40, .start_level = 1,
		.root_pages = 2, .vmid = 1,
	};
	struct smmu_s2_params q;
	u64 ste[8];

	q = p;
	q.ttb = 0x40001000ull;	/* two concatenated roots need 8 KiB alignment */
	ck_assert_int_eq(smmu_ste_isolate(ste, &q, &f), -EINVAL);
	q = p;
	q.start_level = 2;	/* SL0 must agree with T0SZ */
	ck_assert_int_eq(smmu_ste_isolate(ste, &q, &f), -EINVAL);
	q = p;
	q.ttb = 1ull << 44;	/* beyond the OAS */
	ck_assert_int_eq(smmu_ste_isolate(ste, &q, &f), -ERANGE);
	q = p;
	q.vmid = 0x100;		/* 8-bit VMIDs only */
	smmu_features_decode(&f, 0x1u | 0x8u | 0x10u, 0x10, 0, 0x4u | 0x10u);
	ck_assert_int_eq(smmu_ste_isolate(ste, &q, &f), -EOVERFLOW);
	f.s2 = false;
	ck_assert_int_eq(smmu_ste_isolate(ste, &p, &f), -ENODEV);
}
END_TEST

TEST("encode", ste_block)
{
	u64 ste[8];

	memset(ste, 0xff, sizeof(ste));
	/* V [0] = 1, Config [3:1] = 0b000 (abort), everything else 0 */
	smmu_ste_block(ste);
	ck_assert_uint_eq(ste[0], 0x1);
	for (int i = 1; i < 8; i++)
		ck_assert_uint_eq(ste[i], 0);
}
END_TEST

/* ---- 5.1 L1STD and 6.3 STRTAB_BASE(_CFG), queue bases ---- */

TEST("encode", l1std_and_base_regs)
{
	struct smmu_strtab st = {
		.pa = 0x7f000000ull, .two_level = true, .log2size = 16,
		.coherent = true,
	};

	/* L2Ptr [51:6] = 0x50003000, SPAN [4:0] = SPLIT + 1 = 7 */
	ck_assert_uint_eq(smmu_l1std(0x50003000ull), 0x0000000050003007ull);
	/* STRTAB_BASE: ADDR [51:6] | RA [62] */
	ck_assert_uint_eq(smmu_strtab_base_reg(&st), 0x400000007f000000ull);
	/* STRTAB_BASE_CFG: LOG2SIZE 16 | SPLIT 6 << 6 (0x180) | FMT 1 << 16 */
	ck_assert_uint_eq(smmu_strtab_cfg_reg(&st), 0x00010190u);
	st.two_level = false;
	st.log2size = 8;
	st.coherent = false;
	ck_assert_uint_eq(smmu_strtab_cfg_reg(&st), 0x00000008u);
	ck_assert_uint_eq(smmu_strtab_base_reg(&st), 0x000000007f000000ull);
	/* Table sizes: linear 64 B per STE; two-level 8 B per 64 SIDs */
	ck_assert_uint_eq(smmu_strtab_bytes(false, 8), 16384);
	ck_assert_uint_eq(smmu_strtab_bytes(true, 16), 8192);
}
END_TEST

static void *qmem;
#define QMEM_PA 0x7e000000ull
#define QMEM_SIZE (1ull << 20)

static void map_qmem(void)
{
	ck_assert_int_eq(posix_memalign(&qmem, 4096, QMEM_SIZE), 0);
	ck_assert_int_eq(sim_phys_map(QMEM_PA, QMEM_SIZE, qmem), 0);
}

static void unmap_qmem(void)
{
	sim_phys_unmap(QMEM_PA);
	free(qmem);
}

TEST("encode", queue_base_regs)
{
	static u8 regs[0x20000];
	struct smmu_cmdq cq;
	struct smmu_evtq eq;

	map_qmem();
	/* CMDQ_BASE: ADDR [51:5] | LOG2SIZE [4:0] = 8 | RA [62] */
	ck_assert_int_eq(smmu_cmdq_init(&cq, regs, QMEM_PA + 0x10000, 8, 19, true, true), 0);
	ck_assert_uint_eq(smmu_cmdq_base_reg(&cq), 0x400000007e010008ull);
	/* EVTQ_BASE without WA (non-coherent), LOG2SIZE 7 */
	ck_assert_int_eq(smmu_evtq_init(&eq, regs, QMEM_PA + 0x20000, 7, 19, false), 0);
	ck_assert_uint_eq(smmu_evtq_base_reg(&eq), 0x000000007e020007ull);
	/* 16 << 8 = 4 KiB queue must be 4 KiB aligned; larger than CMDQS refused */
	ck_assert_int_eq(smmu_cmdq_init(&cq, regs, QMEM_PA + 0x800, 8, 19, true, true), -EINVAL);
	ck_assert_int_eq(smmu_cmdq_init(&cq, regs, QMEM_PA, 9, 8, true, true), -EINVAL);
	unmap_qmem();
}
END_TEST

/* ---- 7.3 event records ---- */

TEST("encode", event_decode)
{
	struct smmu_event ev;
	/*
	 * F_TRANSLATION (0x10) from StreamID 5 [63:32]; dword 1: RnW [35] (a
	 * read), S2 [39], CLASS [41:40] = 0b10 (IN) -> 0x288 << 32; dword 2 the
	 * input address; dword 3 IPA [51:12].
	 */
	const u64 xlat[4] = { 0x0000000500000010ull, 0x0000028800000000ull,
			      0x80203abcull, 0x80203000ull };
	/* F_WALK_EABT (0x0b), StreamID 7, a write, FetchAddr [51:3] in dword 3 */
	const u64 eabt[4] = { 0x000000070000000bull, 0x0000028000000000ull,
			      0x123000ull, 0x7e001008ull };
	/* C_BAD_STE (0x04), StreamID 0x2a */
	const u64 bad[4] = { 0x0000002a00000004ull, 0, 0, 0 };
	/* SSV [11], SubstreamID 0x123 [31:12], StreamID 9 */
	const u64 ssv[4] = { 0x0000000900123810ull, 0, 0, 0 };

	smmu_event_decode(xlat, &ev);
	ck_assert_uint_eq(ev.type, SMMU_EVT_F_TRANSLATION);
	ck_assert_uint_eq(ev.sid, 5);
	ck_assert(ev.read && ev.s2 && ev.has_addr);
	ck_assert_uint_eq(ev.class, SMMU_EVT_CLASS_IN);
	ck_assert_uint_eq(ev.addr, 0x80203abcull);
	ck_assert_uint_eq(ev.ipa, 0x80203000ull);
	ck_assert_str_eq(smmu_event_name(ev.type), "F_TRANSLATION");

	smmu_event_decode(eabt, &ev);
	ck_assert_uint_eq(ev.type, SMMU_EVT_F_WALK_EABT);
	ck_assert_uint_eq(ev.sid, 7);
	ck_assert(!ev.read && ev.s2);
	ck_assert_uint_eq(ev.fetch_addr, 0x7e001008ull);

	smmu_event_decode(bad, &ev);
	ck_assert_uint_eq(ev.type, SMMU_EVT_C_BAD_STE);
	ck_assert_uint_eq(ev.sid, 0x2a);
	ck_assert(!ev.has_addr);

	smmu_event_decode(ssv, &ev);
	ck_assert(ev.ssv);
	ck_assert_uint_eq(ev.ssid, 0x123);
	ck_assert_uint_eq(ev.sid, 9);
	ck_assert_uint_eq(ev.type, SMMU_EVT_F_TRANSLATION);
}
END_TEST

/* ---- gather -> commands (no SMMU: the ring is read back) ---- */

static struct smmu_cmdq tq;
static u8 tregs[0x20000];

static void tq_setup(void)
{
	map_qmem();
	ck_assert_int_eq(smmu_cmdq_init(&tq, tregs, QMEM_PA, 12, 19, true, false), 0);
}

static void tq_cmd(u32 i, u64 *w0, u64 *w1)
{
	*w0 = tq.ring[2 * i];
	*w1 = tq.ring[2 * i + 1];
}

TEST("encode", tlb_emit_ril)
{
	struct s2_gather g;
	u64 w0, w1;

	tq_setup();
	s2_gather_init(&g, ~0ull);
	/* 33 pages: one page by address, then 32 pages as NUM 0, SCALE 5 */
	s2_gather_add(&g, 0x40000000ull, 0x40000000ull + 33 * 4096, 4096);
	ck_assert_int_eq(smmu_tlb_emit(&tq, true, 3, &g), 0);
	ck_assert_uint_eq(tq.prod, 2);
	tq_cmd(0, &w0, &w1);
	ck_assert_uint_eq(w0, 0x000000030000002aull);
	ck_assert_uint_eq(w1, 0x0000000040000001ull);
	tq_cmd(1, &w0, &w1);
	/* SCALE 5 << 20 = 0x500000; TG 4K 0x400 | Leaf */
	ck_assert_uint_eq(w0, 0x000000030050002aull);
	ck_assert_uint_eq(w1, 0x0000000040001401ull);

	/* 1 GiB = 2^18 pages: one command, SCALE 18 (0x1200000), non-leaf */
	s2_gather_init(&g, ~0ull);
	s2_gather_add(&g, 0x40000000ull, 0x80000000ull, 1ull << 30);
	g.walk = true;
	ck_assert_int_eq(smmu_tlb_emit(&tq, true, 3, &g), 0);
	ck_assert_uint_eq(tq.prod, 3);
	tq_cmd(2, &w0, &w1);
	ck_assert_uint_eq(w0, 0x000000030120002aull);
	ck_assert_uint_eq(w1, 0x0000000040000400ull);

	/* 0b1011 pages: SCALE 0 NUM+1 = 11 -> NUM 10 (0xa000) in one command */
	s2_gather_init(&g, ~0ull);
	s2_gather_add(&g, 0x1000000ull, 0x1000000ull + 11 * 4096, 4096);
	ck_assert_int_eq(smmu_tlb_emit(&tq, true, 3, &g), 0);
	ck_assert_uint_eq(tq.prod, 4);
	tq_cmd(3, &w0, &w1);
	ck_assert_uint_eq(w0, 0x000000030000a02aull);
	ck_assert_uint_eq(w1, 0x0000000001000401ull);
	unmap_qmem();
}
END_TEST

TEST("encode", tlb_emit_per_granule)
{
	struct s2_gather g;
	u64 w0, w1;

	tq_setup();
	s2_gather_init(&g, SMMU_TLB_PER_GRANULE_MAX);
	/* 16 KiB of 4 KiB leaves and one 2 MiB block: 4 + 1 commands */
	s2_gather_add(&g, 0x40000000ull, 0x40004000ull, 4096);
	s2_gather_add(&g, 0x80000000ull, 0x80200000ull, 2ull << 20);
	ck_assert_int_eq(smmu_tlb_emit(&tq, false, 9, &g), 0);
	ck_assert_uint_eq(tq.prod, 5);
	for (u32 i = 0; i < 4; i++) {
		tq_cmd(i, &w0, &w1);
		ck_assert_uint_eq(w0, 0x000000090000002aull);
		ck_assert_uint_eq(w1, 0x40000001ull + i * 0x1000);
	}
	tq_cmd(4, &w0, &w1);
	ck_assert_uint_eq(w1, 0x0000000080000001ull);

	/* full: a single CMD_TLBI_S12_VMALL for VMID 9 */
	g.full = true;
	ck_assert_int_eq(smmu_tlb_emit(&tq, false, 9, &g), 0);
	ck_assert_uint_eq(tq.prod, 6);
	tq_cmd(5, &w0, &w1);
	ck_assert_uint_eq(w0, 0x0000000900000028ull);

	/* Too many granules with no threshold set: still one VMALL */
	s2_gather_init(&g, ~0ull);
	s2_gather_add(&g, 0, 4ull << 20, 4096);
	ck_assert(!g.full);
	ck_assert_int_eq(smmu_tlb_emit(&tq, false, 9, &g), 0);
	ck_assert_uint_eq(tq.prod, 7);
	tq_cmd(6, &w0, &w1);
	ck_assert_uint_eq(w0, 0x0000000900000028ull);
	unmap_qmem();
}
END_TEST

TEST("encode", thresholds)
{
	struct smmu_features f;
	struct smmu_dev a, b;
	struct smmu_tlb_domain dom = { .vmid = 1 };

	smmu_features_decode(&f, 0x9, 0, 0x400, 0x14);	/* RIL */
	ck_assert_uint_eq(smmu_tlb_full_threshold(&f), ~0ull);
	smmu_features_decode(&f, 0x9, 0, 0, 0x14);
	ck_assert_uint_eq(smmu_tlb_full_threshold(&f), 512);

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	smmu_features_decode(&a.feat, 0x9, 0, 0x400, 0x14);
	smmu_features_decode(&b.feat, 0x9, 0, 0, 0x14);
	ck_assert_int_eq(smmu_tlb_domain_add(&dom, &a), 0);
	ck_assert_int_eq(smmu_tlb_domain_add(&dom, &a), -EEXIST);
	ck_assert_uint_eq(smmu_tlb_domain_threshold(&dom), ~0ull);
	ck_assert_int_eq(smmu_tlb_domain_add(&dom, &b), 0);
	/* one SMMU without RIL in the domain decides for all */
	ck_assert_uint_eq(smmu_tlb_domain_threshold(&dom), 512);
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_encode",
			TCASE("encode"));
}
