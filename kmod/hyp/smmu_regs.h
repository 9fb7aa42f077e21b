/* SPDX-License-Identifier: GPL-2.0 */
/*
 * SMMUv3 register offsets, structure and command field positions: the only
 * place the driver core names a bit of the architecture.
 *
 * Reference: Arm System Memory Management Unit Architecture Specification,
 * SMMU architecture version 3, ARM IHI 0070 H.a. Chapter numbers below are
 * that issue's; where a sub-section number moved between issues, the named
 * register, structure or command is what identifies the text.
 */
#ifndef PKVM_SMMU_REGS_H
#define PKVM_SMMU_REGS_H

#include "hyp_env.h"

/*
 * 6.1 Memory map: two 64 KiB pages; the Event queue PROD/CONS pair lives
 * in page 1, everything else used here in page 0.
 */
#define SMMU_REG_PAGE1			0x10000u
#define SMMU_REG_SIZE			0x20000u

/* 6.3 SMMU_IDR0 */
#define SMMU_IDR0			0x00u
#define SMMU_IDR0_S2P			HYP_BIT(0)
#define SMMU_IDR0_S1P			HYP_BIT(1)
#define SMMU_IDR0_TTF			HYP_GENMASK(3, 2)
#define SMMU_IDR0_TTF_AARCH32		1u
#define SMMU_IDR0_TTF_AARCH64		2u
#define SMMU_IDR0_TTF_BOTH		3u
#define SMMU_IDR0_COHACC		HYP_BIT(4)
#define SMMU_IDR0_HYP			HYP_BIT(9)
#define SMMU_IDR0_MSI			HYP_BIT(13)
#define SMMU_IDR0_SEV			HYP_BIT(14)
#define SMMU_IDR0_VMID16		HYP_BIT(18)
#define SMMU_IDR0_TTENDIAN		HYP_GENMASK(22, 21)
#define SMMU_IDR0_TTENDIAN_MIXED	0u
#define SMMU_IDR0_TTENDIAN_LE		2u
#define SMMU_IDR0_TTENDIAN_BE		3u
#define SMMU_IDR0_ST_LEVEL		HYP_GENMASK(28, 27)
#define SMMU_IDR0_ST_LEVEL_2LVL		1u

/* 6.3 SMMU_IDR1: queue and StreamID sizes are log2 values. */
#define SMMU_IDR1			0x04u
#define SMMU_IDR1_SIDSIZE		HYP_GENMASK(5, 0)
#define SMMU_IDR1_SSIDSIZE		HYP_GENMASK(10, 6)
#define SMMU_IDR1_EVTQS			HYP_GENMASK(20, 16)
#define SMMU_IDR1_CMDQS			HYP_GENMASK(25, 21)
#define SMMU_IDR1_QUEUES_PRESET		HYP_BIT(29)
#define SMMU_IDR1_TABLES_PRESET		HYP_BIT(30)

/* 6.3 SMMU_IDR3 (SMMUv3.2: RIL and BBML) */
#define SMMU_IDR3			0x0cu
#define SMMU_IDR3_FWB			HYP_BIT(8)
#define SMMU_IDR3_RIL			HYP_BIT(10)
#define SMMU_IDR3_BBML			HYP_GENMASK(12, 11)

/* 6.3 SMMU_IDR5 */
#define SMMU_IDR5			0x14u
#define SMMU_IDR5_OAS			HYP_GENMASK(2, 0)
#define SMMU_IDR5_GRAN4K		HYP_BIT(4)
#define SMMU_IDR5_GRAN16K		HYP_BIT(5)
#define SMMU_IDR5_GRAN64K		HYP_BIT(6)

/* 6.3 SMMU_CR0 / SMMU_CR0ACK: a write takes effect once ACK reads it back. */
#define SMMU_CR0			0x20u
#define SMMU_CR0ACK			0x24u
#define SMMU_CR0_SMMUEN			HYP_BIT(0)
#define SMMU_CR0_EVTQEN			HYP_BIT(2)
#define SMMU_CR0_CMDQEN			HYP_BIT(3)

/* 6.3 SMMU_CR1: cacheability of table walks and queue accesses. */
#define SMMU_CR1			0x28u
#define SMMU_CR1_QUEUE_IC		HYP_GENMASK(1, 0)
#define SMMU_CR1_QUEUE_OC		HYP_GENMASK(3, 2)
#define SMMU_CR1_QUEUE_SH		HYP_GENMASK(5, 4)
#define SMMU_CR1_TABLE_IC		HYP_GENMASK(7, 6)
#define SMMU_CR1_TABLE_OC		HYP_GENMASK(9, 8)
#define SMMU_CR1_TABLE_SH		HYP_GENMASK(11, 10)
/* CR1 cache fields: 0 Non-cacheable, 1 Write-Back, 2 Write-Through. */
#define SMMU_CR1_CACHE_NC		0u
#define SMMU_CR1_CACHE_WB		1u

/* Shareability encoding shared by CR1 and the STE: 0 NSH, 2 OSH, 3 ISH. */
#define SMMU_SH_NSH			0u
#define SMMU_SH_OSH			2u
#define SMMU_SH_ISH			3u

/* 6.3 SMMU_CR2 */
#define SMMU_CR2			0x2cu
#define SMMU_CR2_E2H			HYP_BIT(0)
#define SMMU_CR2_RECINVSID		HYP_BIT(1)
#define SMMU_CR2_PTM			HYP_BIT(2)

/* 6.3 SMMU_GBPA: what traffic does while SMMUEN == 0. */
#define SMMU_GBPA			0x44u
#define SMMU_GBPA_ABORT			HYP_BIT(20)
#define SMMU_GBPA_UPDATE		HYP_BIT(31)

/* 6.3 SMMU_IRQ_CTRL / SMMU_IRQ_CTRLACK */
#define SMMU_IRQ_CTRL			0x50u
#define SMMU_IRQ_CTRLACK		0x54u
#define SMMU_IRQ_CTRL_GERROR		HYP_BIT(0)
#define SMMU_IRQ_CTRL_EVTQ		HYP_BIT(2)

/*
 * 6.3 SMMU_GERROR / SMMU_GERRORN: an error is active while the two
 * registers differ in its bit; software acknowledges by copying the bit.
 */
#define SMMU_GERROR			0x60u
#define SMMU_GERRORN			0x64u
#define SMMU_GERROR_CMDQ_ERR		HYP_BIT(0)
#define SMMU_GERROR_EVTQ_ABT_ERR	HYP_BIT(2)
#define SMMU_GERROR_SFM_ERR		HYP_BIT(8)

/* 6.3 SMMU_STRTAB_BASE / SMMU_STRTAB_BASE_CFG */
#define SMMU_STRTAB_BASE		0x80u
#define SMMU_STRTAB_BASE_RA		HYP_BIT(62)
#define SMMU_STRTAB_BASE_ADDR		HYP_GENMASK(51, 6)
#define SMMU_STRTAB_BASE_CFG		0x88u
#define SMMU_STRTAB_CFG_LOG2SIZE	HYP_GENMASK(5, 0)
#define SMMU_STRTAB_CFG_SPLIT		HYP_GENMASK(10, 6)
#define SMMU_STRTAB_CFG_FMT		HYP_GENMASK(17, 16)
#define SMMU_STRTAB_FMT_LINEAR		0u
#define SMMU_STRTAB_FMT_2LVL		1u

/*
 * 6.3 SMMU_CMDQ_BASE/PROD/CONS, SMMU_EVTQ_BASE/PROD/CONS. The queue base
 * registers share one layout (RA for the command queue, WA for events).
 */
#define SMMU_CMDQ_BASE			0x90u
#define SMMU_CMDQ_PROD			0x98u
#define SMMU_CMDQ_CONS			0x9cu
#define SMMU_EVTQ_BASE			0xa0u
#define SMMU_EVTQ_PROD			(SMMU_REG_PAGE1 + 0xa8u)
#define SMMU_EVTQ_CONS			(SMMU_REG_PAGE1 + 0xacu)
#define SMMU_Q_BASE_LOG2SIZE		HYP_GENMASK(4, 0)
#define SMMU_Q_BASE_ADDR		HYP_GENMASK(51, 5)
#define SMMU_Q_BASE_RWA			HYP_BIT(62)
#define SMMU_CMDQ_CONS_ERR		HYP_GENMASK(30, 24)
#define SMMU_EVTQ_PROD_OVFLG		HYP_BIT(31)
#define SMMU_EVTQ_CONS_OVACKFLG		HYP_BIT(31)

/* 7.1 Command queue errors: SMMU_CMDQ_CONS.ERR codes. */
#define SMMU_CERROR_NONE		0u
#define SMMU_CERROR_ILL			1u
#define SMMU_CERROR_ABT			2u
#define SMMU_CERROR_ATC_INV_SYNC	3u

/*
 * 5.1 Level 1 Stream Table Descriptor: SPAN is log2(STEs in the L2 table)
 * + 1, and 0 marks the descriptor invalid.
 */
#define SMMU_L1STD_SPAN			HYP_GENMASK(4, 0)
#define SMMU_L1STD_L2PTR		HYP_GENMASK(51, 6)

/* 5.2 Stream Table Entry: 64 bytes, fields named by 64-bit word. */
#define SMMU_STE_DWORDS			8u
#define SMMU_STE_0_V			HYP_BIT(0)
#define SMMU_STE_0_CONFIG		HYP_GENMASK(3, 1)
#define SMMU_STE_CONFIG_ABORT		0u	/* terminate, no event */
#define SMMU_STE_CONFIG_BYPASS		4u	/* never written: see smmu_ste.h */
#define SMMU_STE_CONFIG_S2		6u	/* stage 1 bypass, stage 2 translate */
#define SMMU_STE_1_SHCFG		HYP_GENMASK(45, 44)
#define SMMU_STE_SHCFG_INCOMING		1u
#define SMMU_STE_2_S2VMID		HYP_GENMASK(15, 0)
#define SMMU_STE_2_S2T0SZ		HYP_GENMASK(37, 32)
#define SMMU_STE_2_S2SL0		HYP_GENMASK(39, 38)
#define SMMU_STE_2_S2IR0		HYP_GENMASK(41, 40)
#define SMMU_STE_2_S2OR0		HYP_GENMASK(43, 42)
#define SMMU_STE_2_S2SH0		HYP_GENMASK(45, 44)
#define SMMU_STE_2_S2TG			HYP_GENMASK(47, 46)
#define SMMU_STE_2_S2PS			HYP_GENMASK(50, 48)
#define SMMU_STE_2_S2AA64		HYP_BIT(51)
#define SMMU_STE_2_S2ENDI		HYP_BIT(52)
#define SMMU_STE_2_S2AFFD		HYP_BIT(53)
#define SMMU_STE_2_S2PTW		HYP_BIT(54)
#define SMMU_STE_2_S2S			HYP_BIT(57)
#define SMMU_STE_2_S2R			HYP_BIT(58)
#define SMMU_STE_3_S2TTB		HYP_GENMASK(51, 4)
/* S2TG encodes the granule as VTCR_EL2.TG0 does: 0b00 is 4 KiB. */
#define SMMU_STE_S2TG_4K		0u
/* S2IR0/S2OR0 walk cacheability: 0b00 NC, 0b01 WB write-allocate. */
#define SMMU_STE_WALK_NC		0u
#define SMMU_STE_WALK_WBWA		1u

/* 4.1.1 Command opcodes; every command is 16 bytes, opcode in [7:0]. */
#define SMMU_CMD_OP			HYP_GENMASK(7, 0)
#define SMMU_OP_CFGI_STE		0x03u
#define SMMU_OP_CFGI_ALL		0x04u	/* CMD_CFGI_STE_RANGE, Range 31 */
#define SMMU_OP_TLBI_S12_VMALL		0x28u
#define SMMU_OP_TLBI_S2_IPA		0x2au
#define SMMU_OP_TLBI_NSNH_ALL		0x30u
#define SMMU_OP_CMD_SYNC		0x46u

/* 4.3 CMD_CFGI_STE / CMD_CFGI_STE_RANGE (CMD_CFGI_ALL) */
#define SMMU_CMD_CFGI_0_SID		HYP_GENMASK(63, 32)
#define SMMU_CMD_CFGI_1_LEAF		HYP_BIT(0)
#define SMMU_CMD_CFGI_1_RANGE		HYP_GENMASK(4, 0)
#define SMMU_CFGI_RANGE_ALL		31u

/*
 * 4.4 CMD_TLBI_S2_IPA and CMD_TLBI_S12_VMALL. With TG == 0 the command
 * names one address; with TG != 0 (SMMU_IDR3.RIL) it covers
 * (NUM + 1) * 2^SCALE granules from Address, and TTL may name the level
 * of the leaves (0: any level).
 */
#define SMMU_CMD_TLBI_0_NUM		HYP_GENMASK(16, 12)
#define SMMU_CMD_TLBI_0_SCALE		HYP_GENMASK(24, 20)
#define SMMU_CMD_TLBI_0_VMID		HYP_GENMASK(47, 32)
#define SMMU_CMD_TLBI_1_LEAF		HYP_BIT(0)
#define SMMU_CMD_TLBI_1_TTL		HYP_GENMASK(9, 8)
#define SMMU_CMD_TLBI_1_TG		HYP_GENMASK(11, 10)
#define SMMU_CMD_TLBI_1_IPA		HYP_GENMASK(51, 12)
#define SMMU_TLBI_TG_4K			1u
#define SMMU_TLBI_NUM_MAX		31u
#define SMMU_TLBI_SCALE_MAX		31u

/* 4.7 CMD_SYNC: CS says how completion is signalled besides CONS. */
#define SMMU_CMD_SYNC_0_CS		HYP_GENMASK(13, 12)
#define SMMU_SYNC_CS_NONE		0u
#define SMMU_SYNC_CS_IRQ		1u
#define SMMU_SYNC_CS_SEV		2u

/* 7.3 Event records: 32 bytes; fields of the fault records used here. */
#define SMMU_EVT_DWORDS			4u
#define SMMU_EVT_0_ID			HYP_GENMASK(7, 0)
#define SMMU_EVT_0_SSV			HYP_BIT(11)
#define SMMU_EVT_0_SSID			HYP_GENMASK(31, 12)
#define SMMU_EVT_0_SID			HYP_GENMASK(63, 32)
#define SMMU_EVT_1_STAG			HYP_GENMASK(15, 0)
#define SMMU_EVT_1_STALL		HYP_BIT(31)
#define SMMU_EVT_1_PNU			HYP_BIT(33)
#define SMMU_EVT_1_IND			HYP_BIT(34)
#define SMMU_EVT_1_RNW			HYP_BIT(35)
#define SMMU_EVT_1_S2			HYP_BIT(39)
#define SMMU_EVT_1_CLASS		HYP_GENMASK(41, 40)
#define SMMU_EVT_3_IPA			HYP_GENMASK(51, 12)
#define SMMU_EVT_3_FETCH_ADDR		HYP_GENMASK(51, 3)
/* CLASS: what the faulting access was for. */
#define SMMU_EVT_CLASS_CD		0u
#define SMMU_EVT_CLASS_TT		1u
#define SMMU_EVT_CLASS_IN		2u

/* 7.3 Event record types. */
#define SMMU_EVT_F_UUT			0x01u
#define SMMU_EVT_C_BAD_STREAMID		0x02u
#define SMMU_EVT_F_STE_FETCH		0x03u
#define SMMU_EVT_C_BAD_STE		0x04u
#define SMMU_EVT_F_STREAM_DISABLED	0x06u
#define SMMU_EVT_F_TRANSL_FORBIDDEN	0x07u
#define SMMU_EVT_C_BAD_SUBSTREAMID	0x08u
#define SMMU_EVT_F_CD_FETCH		0x09u
#define SMMU_EVT_C_BAD_CD		0x0au
#define SMMU_EVT_F_WALK_EABT		0x0bu
#define SMMU_EVT_F_TRANSLATION		0x10u
#define SMMU_EVT_F_ADDR_SIZE		0x11u
#define SMMU_EVT_F_ACCESS		0x12u
#define SMMU_EVT_F_PERMISSION		0x13u
#define SMMU_EVT_F_TLB_CONFLICT		0x20u
#define SMMU_EVT_F_CFG_CONFLICT		0x21u

#endif /* PKVM_SMMU_REGS_H */
