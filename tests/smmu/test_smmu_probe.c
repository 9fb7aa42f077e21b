// SPDX-License-Identifier: GPL-2.0
/* Probing: ID register decoding, each refusal, bring-up and its bounds. */
#include <check.h>

#include "test_registry.h"
#include <stdlib.h>

#include "smmu_fixture.h"

static struct smmu_fixture fx;
static struct smmu_model_cfg mcfg;

static void setup(void)
{
	smmu_model_default_cfg(&mcfg);
}

static void teardown(void)
{
	fx_fini(&fx);
}

TEST("probe", decode)
{
	struct smmu_features f;

	/*
	 * IDR0 = S2P 0x1 | TTF 0b10 << 2 (0x8) | COHACC 0x10 | SEV 0x4000 |
	 *        VMID16 0x40000 | TTENDIAN 0b10 << 21 (0x400000) |
	 *        ST_LEVEL 0b01 << 27 (0x8000000)                = 0x08444019
	 * IDR1 = SIDSIZE 16 | EVTQS 7 << 16 | CMDQS 8 << 21      = 0x01070010
	 * IDR3 = RIL 0x400 | BBML 2 << 11 (0x1000)               = 0x00001400
	 * IDR5 = OAS 0b101 (48) | GRAN4K 0x10 | GRAN64K 0x40      = 0x00000055
	 */
	smmu_features_decode(&f, 0x08444019u, 0x01070010u, 0x1400u, 0x55u);
	ck_assert(f.s2 && !f.s1);
	ck_assert(f.aarch64_tables && f.two_level && f.coherent);
	ck_assert(f.sev && f.vmid16 && !f.msi);
	ck_assert_uint_eq(f.ttendian, SMMU_IDR0_TTENDIAN_LE);
	ck_assert_uint_eq(f.sidsize, 16);
	ck_assert_uint_eq(f.evtqs, 7);
	ck_assert_uint_eq(f.cmdqs, 8);
	ck_assert(f.ril);
	ck_assert_uint_eq(f.bbml, 2);
	ck_assert(f.gran4k && !f.gran16k && f.gran64k);
	ck_assert_uint_eq(f.oas_field, 5);
	ck_assert_uint_eq(f.oas_bits, 48);
	ck_assert_int_eq(smmu_features_check(&f, 48), 0);
	ck_assert_int_eq(smmu_features_check(&f, 49), -ERANGE);
	/* OAS 0b111 is reserved: refused whatever the memory map needs */
	smmu_features_decode(&f, 0x08444019u, 0x01070010u, 0x1400u, 0x17u);
	ck_assert_uint_eq(f.oas_bits, 0);
	ck_assert_int_eq(smmu_features_check(&f, 32), -ERANGE);
}
END_TEST

/* Probe through the model's register page: what the driver really reads. */
static int probe_with(u32 pa_bits)
{
	struct smmu_features f;

	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	return smmu_probe(&f, fx.regs, pa_bits);
}

TEST("probe", probe_ok)
{
	ck_assert_int_eq(probe_with(44), 0);
}
END_TEST

TEST("probe", refuse_no_stage2)
{
	mcfg.s2 = false;
	ck_assert_int_eq(probe_with(40), -ENODEV);
}
END_TEST

TEST("probe", refuse_aarch32_only)
{
	mcfg.ttf = 1;
	ck_assert_int_eq(probe_with(40), -EPROTONOSUPPORT);
}
END_TEST

TEST("probe", refuse_no_4k)
{
	mcfg.gran4k = false;
	mcfg.gran16k = true;
	ck_assert_int_eq(probe_with(40), -EOPNOTSUPP);
}
END_TEST

TEST("probe", refuse_big_endian_walks)
{
	mcfg.ttendian = 3;
	ck_assert_int_eq(probe_with(40), -EPROTO);
}
END_TEST

TEST("probe", refuse_small_oas)
{
	mcfg.oas = 0;	/* 32 bits */
	ck_assert_int_eq(probe_with(33), -ERANGE);
	fx_fini(&fx);
	ck_assert_int_eq(probe_with(32), 0);
}
END_TEST

TEST("probe", dev_init_refuses_and_touches_nothing)
{
	mcfg.s2 = false;
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	ck_assert_int_eq(fx_dev_init(&fx), -ENODEV);
	ck_assert_uint_eq(fx_reg(&fx, SMMU_CR0), 0);
	ck_assert_uint_eq(fx_reg(&fx, SMMU_GBPA), 0);
}
END_TEST

TEST("probe", dev_init)
{
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	ck_assert_int_eq(fx_dev_init(&fx), 0);
	/* Enabled with both queues, GBPA set to abort, caches invalidated once */
	ck_assert_uint_eq(fx_reg(&fx, SMMU_CR0ACK),
			  SMMU_CR0_SMMUEN | SMMU_CR0_EVTQEN | SMMU_CR0_CMDQEN);
	ck_assert(fx_reg(&fx, SMMU_GBPA) & SMMU_GBPA_ABORT);
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_CFGI_ALL], 1);
	ck_assert_uint_eq(fx.model.stats.cmds[SMMU_OP_TLBI_NSNH_ALL], 1);
	ck_assert_uint_eq(fx.model.stats.syncs, 1);
	ck_assert(fx.dev.strtab.two_level);
	ck_assert_uint_eq(fx.dev.strtab.log2size, 16);
	/*
	 * Coherent SMMU, CR1: QUEUE_IC [1:0] = WB 1, QUEUE_OC [3:2] = 1 (0x4),
	 * QUEUE_SH [5:4] = ISH 3 (0x30), TABLE_IC [7:6] = 1 (0x40),
	 * TABLE_OC [9:8] = 1 (0x100), TABLE_SH [11:10] = 3 (0xc00) -> 0xd75
	 */
	ck_assert_uint_eq(fx_reg(&fx, SMMU_CR1), 0x0d75u);
	/* CR2: RECINVSID [1] | PTM [2] */
	ck_assert_uint_eq(fx_reg(&fx, SMMU_CR2), 0x6u);
}
END_TEST

TEST("probe", dev_init_linear)
{
	mcfg.two_level = false;
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	ck_assert_int_eq(fx_dev_init(&fx), 0);
	ck_assert(!fx.dev.strtab.two_level);
	ck_assert_uint_eq(fx.dev.strtab.log2size, 8);
	/* Forcing two-level on an SMMU without it is refused */
	fx.dcfg.strtab_fmt = SMMU_STRTAB_2LVL;
	ck_assert_int_eq(fx_dev_init(&fx), -EOPNOTSUPP);
	/* All 2^16 StreamIDs linearly need 4 MiB, more than was given */
	fx.dcfg.strtab_fmt = SMMU_STRTAB_LINEAR;
	fx.dcfg.sid_bits = 0;
	ck_assert_int_eq(fx_dev_init(&fx), -ENOMEM);
}
END_TEST

TEST("probe", dev_init_bad_memory)
{
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	fx.dcfg.strtab_pa = FX_STRTAB_PA + 0x40;	/* 8 KiB L1 table, misaligned */
	ck_assert_int_eq(fx_dev_init(&fx), -EINVAL);
	fx.dcfg.strtab_pa = FX_STRTAB_PA;
	fx.dcfg.cmdq_log2 = 20;				/* above IDR1.CMDQS */
	ck_assert_int_eq(fx_dev_init(&fx), -EINVAL);
	fx.dcfg.cmdq_log2 = 8;
	fx.dcfg.l2_pages.alloc = NULL;			/* two-level needs pages */
	ck_assert_int_eq(fx_dev_init(&fx), -EINVAL);
}
END_TEST

TEST("probe", cr0ack_timeout_is_bounded)
{
	u64 t0;

	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	fx.model.stall_cr0ack = true;
	/* CR0 already reads 0 while disabled: the first wait that can stick is CMDQEN */
	t0 = hyp_now_ns();
	ck_assert_int_eq(fx_dev_init(&fx), -ETIMEDOUT);
	ck_assert_uint_lt(hyp_now_ns() - t0, 2000000000ull);
}
END_TEST

TEST("probe", failed_init_turns_smmu_off)
{
	ck_assert_int_eq(fx_init(&fx, &mcfg), 0);
	/* The invalidation at bring-up never completes. */
	fx.model.stall_cmdq = true;
	ck_assert_int_eq(fx_dev_init(&fx), -ETIMEDOUT);
	ck_assert_uint_eq(fx.dev.cmdq.nr_timeouts, 1);
	/* Left off, and aborting (not bypassing) whatever comes in. */
	ck_assert_uint_eq(fx_reg(&fx, SMMU_CR0ACK), 0);
	ck_assert(fx_reg(&fx, SMMU_GBPA) & SMMU_GBPA_ABORT);
	ck_assert_int_eq(smmu_model_dma(&fx.model, 1, 0x1000, 8, false), SMMU_MODEL_ABORT);
}
END_TEST

TEST("probe", split_policy_auto)
{
	struct smmu_features f;
	struct smmu_dev a, b;
	struct smmu_dev *both[2] = { &a, &b };

	smmu_features_decode(&f, 0x9, 0, 2u << 11, 0x14);
	ck_assert_int_eq(smmu_split_policy_auto(&f), PKVM_SPLIT_HITLESS);
	smmu_features_decode(&f, 0x9, 0, 1u << 11, 0x14);
	ck_assert_int_eq(smmu_split_policy_auto(&f), PKVM_SPLIT_BBM);
	smmu_features_decode(&f, 0x9, 0, 0, 0x14);
	ck_assert_int_eq(smmu_split_policy_auto(&f), PKVM_SPLIT_BBM);

	smmu_features_decode(&a.feat, 0x9, 0, 2u << 11, 0x14);
	smmu_features_decode(&b.feat, 0x9, 0, 2u << 11, 0x14);
	ck_assert_int_eq(smmu_split_policy_auto_all(both, 2), PKVM_SPLIT_HITLESS);
	smmu_features_decode(&b.feat, 0x9, 0, 0, 0x14);
	ck_assert_int_eq(smmu_split_policy_auto_all(both, 2), PKVM_SPLIT_BBM);
}
END_TEST

int main(void)
{
	return TEST_RUN("smmu_probe",
			TCASE("probe", .setup = setup, .teardown = teardown));
}
