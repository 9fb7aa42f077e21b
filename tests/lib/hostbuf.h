/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Host memory the hyp core can really read and write in user space, and
 * the two-region machine the hypercall-level suites (hvc, core) share:
 * 3 GiB at 1 GiB and 1 GiB at 8 GiB + 12 KiB, whose top needs 35 bits.
 */
#ifndef PKVM_TESTS_HOSTBUF_H
#define PKVM_TESTS_HOSTBUF_H

#include "s2_pgtable.h"

/*
 * Its layout: 4 MiB of host memory the tests can really touch at
 * 1 GiB + 2 MiB, holding INIT's region array and a 128-page pool.
 */
#define HOSTBUF_PA	((1ull << 30) + (2ull << 20))
#define HOSTBUF_SIZE	(4ull << 20)
#define REGIONS_PA	HOSTBUF_PA
#define POOL_PA		(HOSTBUF_PA + (1ull << 20))
#define POOL_PAGES	128

extern const struct s2_region hostbuf_two_regions[2];

/* size zeroed bytes backing [pa, pa + size), or NULL. */
void *hostbuf_map(u64 pa, u64 size);
void hostbuf_unmap(u64 pa, void *buf);

#endif
