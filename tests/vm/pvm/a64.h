/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The handful of A64 instructions the test VM's guest code needs, encoded
 * by hand so the guest image needs no assembler. Section numbers are those
 * of the Arm Architecture Reference Manual for A-profile (DDI 0487),
 * chapter C6 "A64 Base Instruction Descriptions"; every encoding below is
 * the 64-bit (sf = 1) variant. run-pvm.sh disassembles the generated code
 * with the cross objdump when it is there, so a wrong bit shows up as a
 * wrong mnemonic in the log, not as a mysterious guest hang.
 */
#ifndef PKVM_PVM_A64_H
#define PKVM_PVM_A64_H

#include <stdint.h>

#define A64_XZR 31u

/* STR (immediate), unsigned offset: 11 111 0 01 00 imm12 Rn Rt; imm12 = off / 8. */
static inline uint32_t a64_str(unsigned int rt, unsigned int rn, unsigned int off)
{
	return 0xf9000000u | ((off / 8) & 0xfff) << 10 | (rn & 31) << 5 | (rt & 31);
}

/* LDR (immediate), unsigned offset: 11 111 0 01 01 imm12 Rn Rt. */
static inline uint32_t a64_ldr(unsigned int rt, unsigned int rn, unsigned int off)
{
	return 0xf9400000u | ((off / 8) & 0xfff) << 10 | (rn & 31) << 5 | (rt & 31);
}

/* ADD (immediate): 1 0 0 100010 sh imm12 Rn Rd; sh = 1 shifts imm12 by 12. */
static inline uint32_t a64_add_imm(unsigned int rd, unsigned int rn, unsigned int imm, int lsl12)
{
	return 0x91000000u | (lsl12 ? 1u : 0u) << 22 | (imm & 0xfff) << 10 | (rn & 31) << 5 | (rd & 31);
}

/* SUBS (immediate): 1 1 1 100010 sh imm12 Rn Rd. */
static inline uint32_t a64_subs_imm(unsigned int rd, unsigned int rn, unsigned int imm)
{
	return 0xf1000000u | (imm & 0xfff) << 10 | (rn & 31) << 5 | (rd & 31);
}

/* MOVZ: 1 10 100101 hw imm16 Rd; MOVK: 1 11 100101 hw imm16 Rd. */
static inline uint32_t a64_movz(unsigned int rd, uint16_t imm, unsigned int shift)
{
	return 0xd2800000u | (shift / 16) << 21 | (uint32_t)imm << 5 | (rd & 31);
}

static inline uint32_t a64_movk(unsigned int rd, uint16_t imm, unsigned int shift)
{
	return 0xf2800000u | (shift / 16) << 21 | (uint32_t)imm << 5 | (rd & 31);
}

/*
 * Branch offsets are in instructions, relative to the branch itself.
 * B: 0 00101 imm26. B.cond: 0101010 0 imm19 0 cond (NE = 0b0001).
 * CBZ: 1 011010 0 imm19 Rt.
 */
static inline uint32_t a64_b(int insns)
{
	return 0x14000000u | ((uint32_t)insns & 0x3ffffff);
}

#define A64_COND_NE 1u
static inline uint32_t a64_bcond(unsigned int cond, int insns)
{
	return 0x54000000u | ((uint32_t)insns & 0x7ffff) << 5 | (cond & 15);
}

static inline uint32_t a64_cbz(unsigned int rt, int insns)
{
	return 0xb4000000u | ((uint32_t)insns & 0x7ffff) << 5 | (rt & 31);
}

/* HVC: 11010100 000 imm16 000 10. */
static inline uint32_t a64_hvc(uint16_t imm)
{
	return 0xd4000002u | (uint32_t)imm << 5;
}

#endif
