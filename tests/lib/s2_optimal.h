/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The smallest stage 2 that can hold an ownership map, computed from the
 * map alone (runs of pages in one state) and the format rules, without the
 * engine: what the benchmark and the property test hold the engine to.
 */
#ifndef PKVM_TESTS_S2_OPTIMAL_H
#define PKVM_TESTS_S2_OPTIMAL_H

#include <stddef.h>
#include <stdint.h>

/* A run's state: hole (absent), host, host+shared, or donated to an owner. */
#define OPT_HOST		1u
#define OPT_HOST_SHARED		2u
#define OPT_OWNER(o)		(0x10000u + (o))

struct opt_run {
	uint64_t start, end;
	uint32_t state;
};

struct opt_map {
	struct opt_run *runs;
	size_t nr, cap;
};

/* Append [start, end) in state; runs come in address order, holes omitted. */
int opt_map_add(struct opt_map *m, uint64_t start, uint64_t end, uint32_t state);
void opt_map_free(struct opt_map *m);

struct opt_result {
	uint64_t table_pages;	/* root pages included */
	uint64_t descriptors;	/* non-zero descriptors in those tables */
};

/* max_block_level: 1 (1 GiB blocks) .. 3 (pages only). */
struct opt_result opt_minimal(const struct opt_map *m, unsigned int ias,
			      unsigned int max_block_level);

#endif
