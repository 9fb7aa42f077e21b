/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference model of ownership: one owner and a few flags per page of
 * a window of physical address space, with the engine's documented rules
 * written out page by page (first offending page wins). Everything outside
 * the window is a hole. The property test, the isolation checker and the
 * fuzzer all hold the engine to this model.
 */
#ifndef PKVM_TESTS_REFMODEL_H
#define PKVM_TESTS_REFMODEL_H

#include <stddef.h>

#include "s2_pgtable.h"

#define REF_MEM		1u
#define REF_SHARED	2u
#define REF_PINNED	4u

/* A range still donated to owner (or still shared, owner 0) as a whole. */
struct ref_record {
	u64 addr, size;
	u32 owner;
};

struct ref_records {
	struct ref_record *r;
	size_t nr, cap;
};

struct refmodel {
	u32 ias;
	u64 lo, hi;		/* the window, page aligned */
	u64 pages;
	u16 *owner;
	u8 *flags;
	/* pages that are not host memory, per 2 MiB and 1 GiB of [base, ...) */
	u64 base;
	u32 *nonhost_2m;
	u32 *nonhost_1g;
	u64 nr_2m, nr_1g;
	struct ref_records don, shr;
};

int ref_init(struct refmodel *m, u32 ias, u64 lo, u64 hi,
	     const struct s2_region *regions, u32 nr);
void ref_fini(struct refmodel *m);
/*
 * dst becomes src (a model with no records yet, of the same window) in
 * dst's own arrays: a fresh model per run without allocating one.
 */
int ref_copy(struct refmodel *dst, const struct refmodel *src);
/* Give [addr, addr+size) to the hypervisor for good (pool, SMMU tables). */
void ref_pin(struct refmodel *m, u64 addr, u64 size);

int ref_check(const struct refmodel *m, u32 op, u64 addr, u64 size, u32 owner);
void ref_apply(struct refmodel *m, u32 op, u64 addr, u64 size, u32 owner);

/* OPT_* state of the page at addr (0 for a hole). */
u32 ref_state(const struct refmodel *m, u64 addr);
/* Is every page of [pa, pa + size) memory the host owns? */
bool ref_host_range(const struct refmodel *m, u64 pa, u64 size);
/* Minimal table pages for the model's ownership (tests/lib/s2_optimal.c). */
u64 ref_optimal(const struct refmodel *m, u32 max_block_level);

/* A random operation, mostly sensible, sometimes hostile. */
struct ref_op {
	u32 op;
	u64 addr, size;
	u32 owner;
	struct ref_records *rs;	/* the record it undoes part of, if any */
	long from;
};
void ref_gen(struct refmodel *m, u64 *rng, struct ref_op *op);
/* Account for the engine's answer ret: records, and the model on success. */
void ref_done(struct refmodel *m, const struct ref_op *op, int ret);

/*
 * pKVM's transitions (s2_host_prepare()): the host loses access to what
 * is memory in [addr, addr + size), which goes to owner (shared or not,
 * whoever had it), or regains it from whoever had it. The prepare's
 * answer (the pool is not modelled), the change, and the records of
 * op->rs as ref_done() keeps them.
 */
int ref_host_check(const struct refmodel *m, u64 addr, u64 size, bool access, u32 owner);
void ref_host_apply(struct refmodel *m, u64 addr, u64 size, bool access, u32 owner);
void ref_host_done(struct refmodel *m, const struct ref_op *op, bool access, int ret);

#endif
